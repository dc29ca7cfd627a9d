"""The one LLM, shared by concurrent questions: one step at a time, first come first served, within deadlines.

A CPU model gains nothing from two calls at once, so steps queue for it. What a question must not do is
wait for the model past its own deadline: a user waits for an answer, not for another user's question.
So a step joins the queue only if the work ahead of it (the rest of the running step, then every waiting
step, by their expected durations) and then its own step all end before its deadline; it
leaves the queue unrun when its turn has not come by the last moment it could still end in time, or when
the steps ahead ran long. In each case the caller answers from the evidence without that step.

A step's expected duration is the median of its recent durations, and its own step is counted at their
upper quartile: on a CPU shared with ingest a step often runs long, and one started just in time would end
past the deadline. Both ignore the odd step slowed tenfold by a burst of load, which would otherwise shut
every later question out of the model; a moving average would, and with no step run it would never come
back down. Durations older than a minute no longer count (the warm-up's stands in when none is newer), so
the estimates recover when a long slow spell ends even if no step ran during it.

Turns are per step, not per question, and handed out in arrival order: a question with two steps goes
back to the end of the queue for its second, so it cannot hold the model while later questions wait.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from reasoner import metrics
from reasoner.core.types import Budget

logger = logging.getLogger(__name__)

T = TypeVar("T")

_RECENT_STEPS = 9  # durations per step that the estimates come from: their median ignores up to 4 outliers
_RECENT_HORIZON_S = 60.0  # seconds a duration counts for: the load a step met a minute ago says little of now
_LIKELY_QUANTILE = 0.75  # of the recent durations: the time a step's own run is counted at


def _quantile(values: list[float], q: float) -> float:
    """The q-quantile of sorted `values`, interpolated between neighbours."""
    position = q * (len(values) - 1)
    low = int(position)
    high = min(low + 1, len(values) - 1)
    return values[low] + (position - low) * (values[high] - values[low])


class _Durations:
    """Recent durations of one step, with the time each was measured; the first (the warm-up's) is kept."""

    def __init__(self) -> None:
        self._recent: deque[tuple[float, float]] = deque(maxlen=_RECENT_STEPS)  # (measured at, seconds)
        self._first_s: float | None = None

    def add(self, now: float, elapsed_s: float) -> None:
        if self._first_s is None:
            self._first_s = elapsed_s
        self._recent.append((now, elapsed_s))

    def quantile(self, now: float, q: float) -> float:
        """Of the durations of the last minute, else the first one; 0 when none was measured."""
        fresh = sorted(seconds for at, seconds in self._recent if now - at <= _RECENT_HORIZON_S)
        if not fresh:
            return self._first_s or 0.0
        return _quantile(fresh, q)


@dataclass(eq=False)  # compared by identity: two waiting turns of one step are still two turns
class _Turn:
    step: str
    granted: asyncio.Future[None]
    started_at: float | None = None  # clock() when its thread started; None while it has not


class LLMQueue:
    """Runs blocking LLM calls one at a time, in arrival order, each in a worker thread, each only if it
    is expected to end before its budget's deadline (see the module docstring). Learns how long each
    named step takes from the warm-up (`learn`) and from every step it runs."""

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        run_in_thread: Callable[[Callable[[], T]], Awaitable[T]] = asyncio.to_thread,
    ) -> None:
        self._clock = clock
        self._run_in_thread = run_in_thread
        self._durations: dict[str, _Durations] = {}
        self._holder: _Turn | None = None  # the turn that has the model (its thread may not have started)
        self._waiting: deque[_Turn] = deque()  # in arrival order

    def expected_s(self, step: str) -> float:
        """Expected seconds of one `step` call (the median of its recent durations); 0 until one was timed."""
        return self._estimate(step, 0.5)

    def likely_s(self, step: str) -> float:
        """Seconds one `step` call is counted at for its own deadline (the upper quartile of recent durations)."""
        return self._estimate(step, _LIKELY_QUANTILE)

    def learn(self, step: str, elapsed_s: float) -> None:
        """Records a measured duration of `step` (the warm-up's, and every step's run here)."""
        self._durations.setdefault(step, _Durations()).add(self._clock(), elapsed_s)

    def _estimate(self, step: str, q: float) -> float:
        durations = self._durations.get(step)
        return 0.0 if durations is None else durations.quantile(self._clock(), q)

    def wait_s(self) -> float:
        """Expected seconds before a step that joins the queue now would start."""
        ahead_s = sum(self.expected_s(turn.step) for turn in self._waiting)
        holder = self._holder
        if holder is not None:
            ran_s = 0.0 if holder.started_at is None else self._clock() - holder.started_at
            ahead_s += max(self.expected_s(holder.step) - ran_s, 0.0)
        return ahead_s

    def queued(self) -> int:
        """Steps waiting for the model, not counting the one that has it."""
        return len(self._waiting)

    async def run(self, step: str, budget: Budget, call: Callable[[], T]) -> T | None:
        """`call()`'s result, run in a worker thread in its turn; None, without running it, when it is not
        expected to end before the deadline. Exceptions from `call` propagate."""
        own_s = self.likely_s(step)
        wait_s = self.wait_s()
        if not budget.allows(wait_s + own_s):
            return self._skip(step, budget, f"{wait_s:.2f} s of queued steps and {own_s:.2f} s of its own")
        turn = await self._take_turn(step, budget, own_s)
        if turn is None:
            return self._skip(step, budget, "its turn did not come in time")
        if not budget.allows(own_s):  # the steps ahead ran past their estimates
            self._hand_on(turn)
            return self._skip(step, budget, f"{own_s:.2f} s no longer fit once its turn came")
        turn.started_at = self._clock()
        work = asyncio.ensure_future(self._run_in_thread(call))
        # The turn passes on when the thread ends, not when this call does: a cancelled question (the
        # client left) cannot stop the thread, and the next step must not run beside it.
        work.add_done_callback(lambda done: self._finish(turn, budget, done))
        return await asyncio.shield(work)

    async def _take_turn(self, step: str, budget: Budget, own_s: float) -> _Turn | None:
        """The turn, once the model is this step's; None when it is not by the last moment the step could
        start and still end before the deadline. A cancelled caller leaves the queue."""
        turn = _Turn(step, asyncio.get_running_loop().create_future())
        if self._holder is None:  # then no one waits either: a freed model goes to the first in line
            turn.granted.set_result(None)
            self._holder = turn
            return turn
        self._waiting.append(turn)
        queued_at = self._clock()
        try:
            # asyncio.wait, not wait_for: it never cancels the future, so a turn granted as the wait ends
            # is seen as granted and passed on rather than lost.
            await asyncio.wait((turn.granted,), timeout=max(budget.remaining_s() - own_s, 0.0))
        except asyncio.CancelledError:
            self._leave(turn)
            raise
        metrics.LLM_WAIT_SECONDS.observe(self._clock() - queued_at)
        if not turn.granted.done():
            self._leave(turn)
            return None
        return turn

    def _leave(self, turn: _Turn) -> None:
        if turn.granted.done():  # granted just as it left: the model goes to the next in line
            self._hand_on(turn)
        else:
            self._waiting.remove(turn)
            turn.granted.cancel()

    def _hand_on(self, turn: _Turn) -> None:
        """Gives the model to the first waiting turn, or leaves it free."""
        assert self._holder is turn, "only the turn that has the model can hand it on"
        self._holder = None
        if self._waiting:
            self._holder = self._waiting.popleft()
            self._holder.granted.set_result(None)

    def _finish(self, turn: _Turn, budget: Budget, done: asyncio.Future[object]) -> None:
        assert turn.started_at is not None
        elapsed_s = self._clock() - turn.started_at
        metrics.LLM_STEP_SECONDS.labels(turn.step).observe(elapsed_s)
        if budget.remaining_s() < 0:  # a thread cannot be stopped: say so where an operator looks
            logger.warning(
                "LLM step %s took %.1f s (%.1f s expected) and ended %.1f s past its question's deadline; "
                "is the CPU shared with other work?",
                turn.step,
                elapsed_s,
                self.likely_s(turn.step),
                -budget.remaining_s(),
            )
        if not done.cancelled() and done.exception() is None:
            self.learn(turn.step, elapsed_s)
        self._hand_on(turn)

    def _skip(self, step: str, budget: Budget, why: str) -> None:
        metrics.LLM_STEPS_SKIPPED.labels(step).inc()
        logger.debug("skipping %s with %.2f s left: %s", step, budget.remaining_s(), why)
        return None
