"""Exponential back-off shared by the live-source reconnects and the memory writer's reconnects."""


def backoff_delay_s(failures: int, initial_s: float, max_s: float) -> float:
    """Seconds to wait after the `failures`-th failure in a row: initial_s, doubled per failure, capped at max_s."""
    return min(initial_s * 2 ** (failures - 1), max_s)
