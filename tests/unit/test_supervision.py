"""When the launcher restarts a crashed service and when it gives up (orchestration.supervision)."""

from __future__ import annotations

from orchestration.supervision import CrashHistory, RestartPolicy, describe_exit

POLICY = RestartPolicy(initial_delay_s=1.0, max_delay_s=30.0, crash_limit=5, crash_window_s=120.0)


def test_the_restart_delay_doubles_per_recent_crash_up_to_the_cap():
    history = CrashHistory(RestartPolicy(1.0, 30.0, crash_limit=100, crash_window_s=1000.0))
    delays_s = []
    for now_s in range(7):
        history.record(float(now_s))
        delays_s.append(history.restart_delay_s())
    assert delays_s == [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]


def test_the_limit_counts_only_crashes_within_the_window():
    history = CrashHistory(POLICY)
    for now_s in (0.0, 10.0, 20.0, 30.0):
        history.record(now_s)
    assert not history.is_over_limit
    history.record(200.0)  # the four earlier crashes are over 120 s ago
    assert history.recent_count == 1 and not history.is_over_limit
    assert history.restart_delay_s() == 1.0  # a crash long after the last is restarted at once again
    for now_s in (201.0, 202.0, 203.0, 204.0):
        history.record(now_s)
    assert history.is_over_limit


def test_an_exit_by_signal_is_named():
    assert describe_exit(3) == "exited with code 3"
    assert describe_exit(-9) == "exited with code -9 (SIGKILL)"
    assert describe_exit(-15) == "exited with code -15 (SIGTERM)"
    assert describe_exit(-200) == "exited with code -200"
