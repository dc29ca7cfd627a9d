"""The LLM's queue with a fake clock and a stand-in for the worker thread that the test lets finish one call
at a time: arrival order, one step at a time, no step started or waited for past its deadline."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest

from reasoner.core.llm_queue import LLMQueue
from reasoner.core.types import Budget
from tests.unit.reasoner.fakes import FakeClock

pytestmark = pytest.mark.anyio

HANG_GUARD_S = 10.0  # no call here should wait; this only turns a hang into a failure


class SteppedRunner:
    """Stands in for asyncio.to_thread: each call runs on the loop once the test lets one call finish."""

    def __init__(self) -> None:
        self.active = 0
        self.most_active = 0
        self._finishes = asyncio.Semaphore(0)

    async def __call__(self, call):
        self.active += 1
        self.most_active = max(self.most_active, self.active)
        try:
            await self._finishes.acquire()
            return call()
        finally:
            self.active -= 1

    async def finish_one(self) -> None:
        self._finishes.release()
        await settle()


async def finished(task: asyncio.Task):
    """The task's result; a failure, not a hang, when it does not finish."""
    return await asyncio.wait_for(task, HANG_GUARD_S)


async def settle() -> None:
    """Lets every task run until it waits on something the test controls."""
    for _ in range(20):
        await asyncio.sleep(0)


def make(clock: Callable[[], float] | None = None):
    """(queue, its runner, its clock, the labels of the calls in the order they ran)."""
    clock = clock or FakeClock()
    runner = SteppedRunner()
    return LLMQueue(clock, runner), runner, clock, []


def step(order: list[str], label: str, clock: FakeClock | None = None, takes_s: float = 0.0):
    """A call that records that it ran and takes `takes_s` on the fake clock."""

    def call() -> str:
        order.append(label)
        if clock is not None:
            clock.advance(takes_s)
        return label

    return call


async def test_steps_run_one_at_a_time_in_arrival_order():
    queue, runner, clock, order = make()
    budget = Budget.from_now(60.0, clock)
    tasks = [asyncio.create_task(queue.run("generate", budget, step(order, label))) for label in "ABCD"]
    await settle()
    assert queue.queued() == 3  # A has the model; B, C and D wait
    for _ in tasks:
        await runner.finish_one()
    assert [await finished(task) for task in tasks] == list("ABCD")
    assert order == list("ABCD") and runner.most_active == 1


async def test_a_step_the_queue_would_push_past_its_deadline_is_skipped_without_waiting():
    queue, runner, clock, order = make()
    queue.learn("generate", 3.0)
    first = asyncio.create_task(queue.run("generate", Budget.from_now(4.0, clock), step(order, "A", clock, 3.0)))
    await settle()
    # 3 s for A's step, then 3 s of its own: past a 4 s deadline, so it does not queue.
    later = asyncio.create_task(queue.run("generate", Budget.from_now(4.0, clock), step(order, "B")))
    await settle()
    assert later.done() and later.result() is None  # at once, with A's step still running
    assert queue.queued() == 0 and order == []
    await runner.finish_one()
    assert await finished(first) == "A"


async def test_the_queue_counts_the_rest_of_the_running_step_and_every_waiting_one():
    queue, runner, clock, order = make()
    queue.learn("generate", 3.0)
    queue.learn("score", 2.0)
    budget = Budget.from_now(60.0, clock)
    tasks = [
        asyncio.create_task(queue.run("generate", budget, step(order, "A"))),
        asyncio.create_task(queue.run("score", budget, step(order, "B"))),
        asyncio.create_task(queue.run("generate", budget, step(order, "C"))),
    ]
    await settle()
    clock.advance(1.0)  # A's step has run 1 s of its expected 3
    assert queue.wait_s() == pytest.approx(2.0 + 2.0 + 3.0)
    clock.advance(5.0)  # A runs past its estimate: its rest counts as nothing, not as negative
    assert queue.wait_s() == pytest.approx(2.0 + 3.0)
    for _ in tasks:
        await runner.finish_one()
    assert queue.wait_s() == 0.0


async def test_waiting_for_the_llm_ends_by_the_deadline():
    # A real clock: nothing is learnt, so the question queues, and its 50 ms pass while A still runs.
    queue, runner, _, order = make(time.monotonic)
    first = asyncio.create_task(queue.run("generate", Budget.from_now(60.0), step(order, "A")))
    await settle()
    later = await asyncio.wait_for(queue.run("generate", Budget.from_now(0.05), step(order, "B")), HANG_GUARD_S)
    assert later is None and runner.active == 1  # back while A's step is still running
    assert queue.queued() == 0
    await runner.finish_one()
    assert await finished(first) == "A" and order == ["A"]


async def test_a_step_whose_turn_comes_too_late_is_skipped_and_the_next_one_runs():
    queue, runner, clock, order = make()
    queue.learn("generate", 1.0)
    budget = Budget.from_now(60.0, clock)
    first = asyncio.create_task(queue.run("generate", budget, step(order, "A", clock, 2.5)))
    squeezed = asyncio.create_task(queue.run("generate", Budget.from_now(3.0, clock), step(order, "B")))
    last = asyncio.create_task(queue.run("generate", budget, step(order, "C")))
    await settle()
    assert queue.queued() == 2  # 1 s ahead and 1 s of its own fitted B's 3 s when it came
    await runner.finish_one()  # A took 2.5 s: B's 1 s step no longer fits its remaining 0.5 s
    assert await finished(first) == "A" and await finished(squeezed) is None
    await runner.finish_one()
    assert await finished(last) == "C" and order == ["A", "C"]


async def test_a_cancelled_waiter_leaves_the_queue():
    queue, runner, clock, order = make()
    budget = Budget.from_now(60.0, clock)
    first, left, last = (asyncio.create_task(queue.run("generate", budget, step(order, label))) for label in "ABC")
    await settle()
    left.cancel()
    with pytest.raises(asyncio.CancelledError):
        await left
    assert queue.queued() == 1
    await runner.finish_one()
    await runner.finish_one()
    assert (await finished(first), await finished(last)) == ("A", "C") and order == ["A", "C"]


async def test_a_caller_cancelled_while_its_step_runs_keeps_the_llm_until_the_step_ends():
    queue, runner, clock, order = make()
    budget = Budget.from_now(60.0, clock)
    gone = asyncio.create_task(queue.run("generate", budget, step(order, "A")))
    await settle()
    gone.cancel()  # the client left; a thread cannot be stopped
    with pytest.raises(asyncio.CancelledError):
        await gone
    later = asyncio.create_task(queue.run("generate", budget, step(order, "B")))
    await settle()
    assert queue.queued() == 1 and runner.active == 1  # B waits for A's step, not beside it
    await runner.finish_one()
    await runner.finish_one()
    assert await finished(later) == "B" and order == ["A", "B"] and runner.most_active == 1


async def test_a_failing_step_raises_and_passes_the_turn_on():
    queue, runner, clock, order = make()
    budget = Budget.from_now(60.0, clock)

    def fails() -> str:
        raise RuntimeError("the model broke")

    broken = asyncio.create_task(queue.run("generate", budget, fails))
    later = asyncio.create_task(queue.run("generate", budget, step(order, "B")))
    await settle()
    await runner.finish_one()
    with pytest.raises(RuntimeError, match="broke"):
        await finished(broken)
    await runner.finish_one()
    assert await finished(later) == "B"


async def test_step_durations_are_learnt_from_the_steps_run():
    queue, runner, clock, order = make()
    assert queue.expected_s("score") == 0.0
    budget = Budget.from_now(60.0, clock)
    for takes_s in (2.0, 4.0):
        task = asyncio.create_task(queue.run("score", budget, step(order, "A", clock, takes_s)))
        await settle()
        await runner.finish_one()
        await finished(task)
    assert queue.expected_s("score") == pytest.approx(3.0)  # the median of 2 s and 4 s
    assert queue.likely_s("score") == pytest.approx(3.5)  # their upper quartile


async def test_a_step_that_varies_is_counted_at_its_likely_time_not_its_median():
    queue, runner, clock, order = make()
    for elapsed_s in (1.0, 3.0, 5.0):
        queue.learn("generate", elapsed_s)
    assert (queue.expected_s("generate"), queue.likely_s("generate")) == (3.0, 4.0)
    budget = Budget.from_now(3.5, clock)  # fits the 3 s median, not the 4 s it may well take
    assert await finished(asyncio.create_task(queue.run("generate", budget, step(order, "A")))) is None
    assert order == [] and runner.active == 0


async def test_one_step_slowed_by_a_burst_of_load_does_not_shut_later_questions_out():
    queue, runner, clock, order = make()
    for elapsed_s in (1.0, 1.2, 1.1, 0.9, 20.0):
        queue.learn("generate", elapsed_s)
    assert queue.likely_s("generate") == pytest.approx(1.2)
    task = asyncio.create_task(queue.run("generate", Budget.from_now(5.0, clock), step(order, "A")))
    await settle()
    await runner.finish_one()
    assert await finished(task) == "A"


async def test_durations_older_than_a_minute_no_longer_count():
    queue, _, clock, _ = make()
    queue.learn("generate", 1.0)  # the warm-up
    for _ in range(4):
        queue.learn("generate", 10.0)  # a slow spell, after which no step fits a deadline
    assert queue.expected_s("generate") == 10.0
    clock.advance(61.0)
    assert queue.expected_s("generate") == queue.likely_s("generate") == 1.0  # the warm-up's stands in


async def test_a_step_that_ends_past_its_deadline_is_logged(caplog):
    queue, runner, clock, order = make()
    queue.learn("generate", 1.0)
    task = asyncio.create_task(queue.run("generate", Budget.from_now(2.0, clock), step(order, "A", clock, 12.0)))
    await settle()
    with caplog.at_level("WARNING", logger="reasoner.core.llm_queue"):
        await runner.finish_one()
        assert await finished(task) == "A"  # its result still serves: late is better than nothing
    assert "generate took 12.0 s" in caplog.text and "10.0 s past its question's deadline" in caplog.text
