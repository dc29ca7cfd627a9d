"""When the launcher restarts a crashed service, and when it gives up: plain bookkeeping, no processes.

A service manager's rule (systemd's `Restart=` with `StartLimitBurst=` in `StartLimitIntervalSec=`): a
crash is followed by a restart after a back-off that doubles with each recent crash up to a cap, and
`crash_limit` crashes within `crash_window_s` mean the service cannot run here, so restarting is pointless.
"""

from __future__ import annotations

import signal
from collections import deque
from dataclasses import dataclass, field

from perception.core.backoff import backoff_delay_s


@dataclass(frozen=True)
class RestartPolicy:
    initial_delay_s: float  # after the first crash in a while
    max_delay_s: float  # the doubling stops here
    crash_limit: int  # this many crashes within crash_window_s: give up
    crash_window_s: float


@dataclass
class CrashHistory:
    """The crash times of one service (monotonic seconds) within the policy's window."""

    policy: RestartPolicy
    _times_s: deque[float] = field(default_factory=deque)

    def record(self, now_s: float) -> None:
        self._times_s.append(now_s)
        self._forget_before(now_s - self.policy.crash_window_s)

    @property
    def recent_count(self) -> int:
        return len(self._times_s)

    @property
    def is_over_limit(self) -> bool:
        return self.recent_count >= self.policy.crash_limit

    def restart_delay_s(self) -> float:
        """The wait before the next restart: grows with the crashes in the window, so a service that
        crashed once long ago restarts at once again."""
        policy = self.policy
        return backoff_delay_s(max(self.recent_count, 1), policy.initial_delay_s, policy.max_delay_s)

    def _forget_before(self, oldest_s: float) -> None:
        while self._times_s and self._times_s[0] < oldest_s:
            self._times_s.popleft()


def describe_exit(code: int) -> str:
    """`exited with code 3`, or `exited with code -9 (SIGKILL)` for a process a signal ended."""
    if code >= 0:
        return f"exited with code {code}"
    try:
        name = signal.Signals(-code).name
    except ValueError:
        return f"exited with code {code}"
    return f"exited with code {code} ({name})"
