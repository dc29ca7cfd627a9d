"""Prometheus metrics of the reasoner, named with their units; stages are timed with `.time()`."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

# One LLM step takes from milliseconds (tiny model, GPU) to seconds (270M on two CPU cores).
_LLM_BUCKETS_S = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0)
_ASK_BUCKETS_S = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0)

ASKS_REJECTED = Counter(
    "reasoner_asks_rejected_total", "Questions refused as invalid (empty, bad deadline, unknown stream)"
)
ANSWERS = Counter("reasoner_answers_total", "Answers given, by how they were formed", ["method"])
LLM_STEPS_SKIPPED = Counter(
    "reasoner_llm_steps_skipped_total",
    "LLM steps skipped because they would end past the deadline (counting their wait for the LLM)",
    ["step"],
)
ASK_SECONDS = Histogram("reasoner_ask_seconds", "Seconds per answered question, end to end", buckets=_ASK_BUCKETS_S)
RETRIEVE_SECONDS = Histogram("reasoner_retrieve_seconds", "Seconds per memory search", buckets=_ASK_BUCKETS_S)
LLM_STEP_SECONDS = Histogram(
    "reasoner_llm_step_seconds", "Seconds per LLM call (generate or score)", ["step"], buckets=_LLM_BUCKETS_S
)
LLM_WAIT_SECONDS = Histogram(
    "reasoner_llm_wait_seconds", "Seconds an LLM step waited in the queue for the LLM", buckets=_LLM_BUCKETS_S
)
