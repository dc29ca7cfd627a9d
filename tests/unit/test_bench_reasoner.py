"""benchmarks.reasoner's pure parts: the planted lockers, the questions and their scoring, the share of Asks
on time, the p50 ratio, and the section's table and verdicts. No services, no timing."""

from __future__ import annotations

from dataclasses import asdict

import pytest

from benchmarks.reasoner import (
    ABSENT_LOCKERS,
    HEADING,
    AskCase,
    AskRecord,
    LockerStream,
    ask_cases,
    is_right,
    markdown,
    p50_ratio,
    summarize,
)

SHORT = LockerStream("short", 10 / 60, 4.0, seed=0)
LONG = LockerStream("long", 1.0, 4.0, seed=1)


def _record(stream_id="short", deadline_ms=2000, ms=100.0, kind="needle", **fields) -> AskRecord:
    return AskRecord(stream_id, deadline_ms, kind, "What was the code for locker 42?", "1234", ms, **fields)


def test_every_sign_is_on_its_own_clip_and_no_dock_needle_is_covered():
    for stream in (SHORT, LONG):
        assert len(stream.sign_at) == len(stream.signs) == 20
        dock_needles = {stream.needle_index(needle) for needle in stream.needles}
        assert not dock_needles & set(stream.sign_at)
        for index, sign in stream.sign_at.items():
            assert sign.line in stream.clip(index).ocr_lines
        plain = next(index for index in range(stream.clip_count) if index not in stream.sign_at)
        assert not any("CODE" in line for line in stream.clip(plain).ocr_lines if "ALARM" not in line)


def test_distractors_share_the_needles_label_or_number_and_absent_lockers_are_never_shown():
    needle = SHORT.needle_signs[0]
    lines = {sign.line for sign in SHORT.signs}
    others = [sign for sign in SHORT.signs if sign.number in (needle.number - 1, 24) or sign.label == "GATE"]
    assert needle.line == f"LOCKER 42 CODE {needle.code}" and others
    shown = {sign.number for sign in SHORT.signs if sign.label == "LOCKER"}
    assert not shown & set(ABSENT_LOCKERS)
    assert not any(f"LOCKER {number} " in line for line in lines for number in ABSENT_LOCKERS)


def test_codes_are_distinct_within_and_across_streams():
    codes = [sign.code for stream in (SHORT, LONG) for sign in stream.signs]
    assert len(set(codes)) == len(codes)
    assert all(len(code) == 4 for code in codes)


def test_questions_are_half_needles_half_absent_and_a_needles_confusers_exclude_its_own_code():
    cases = ask_cases(SHORT, 20)
    needles = [case for case in cases if case.kind == "needle"]
    assert len(needles) == 10 and len(cases) == 20
    assert {case.expected for case in needles} == {sign.code for sign in SHORT.needle_signs}
    first = needles[0]
    assert first.expected not in first.confusers and len(first.confusers) == len(SHORT.signs) - 1
    assert len({case.text for case in cases}) > len(SHORT.needle_signs)  # phrasings vary


@pytest.mark.parametrize(
    ("answer", "method", "expected"),
    [
        ("5531", "value", True),
        ("LOCKER 42 CODE 5531", "value", True),
        ("5531 or 7730", "value", False),  # a distractor's code too
        ("55310", "value", False),
        ("I have not seen locker 42", "not-seen", False),
        ("", "value", False),
    ],
)
def test_a_needle_is_right_only_with_its_code_and_no_distractors(answer, method, expected):
    case = AskCase("What was the code for locker 42?", "5531", ("7730", "1190"))
    assert is_right(case, answer, method) is expected


@pytest.mark.parametrize(
    ("answer", "method", "expected"),
    [("Not seen in the footage.", "value", True), ("Locker 43", "not-seen", True), ("7730", "value", False)],
)
def test_an_absent_locker_is_right_only_when_answered_as_not_seen(answer, method, expected):
    assert is_right(AskCase("What was the code for locker 43?", None), answer, method) is expected


def test_on_time_means_within_the_deadline_plus_ten_percent_and_a_failed_ask_never_is():
    assert _record(ms=2200.0).is_on_time
    assert not _record(ms=2201.0).is_on_time
    assert not _record(ms=10.0, error="Unavailable: memory down").is_on_time


def test_summary_counts_latency_of_answered_asks_only_and_failures_as_late():
    records = [_record(ms=ms, nodes_read=10, is_right=True) for ms in (100.0, 200.0, 300.0)]
    records += [_record(ms=5000.0, kind="absent", is_partial=True, nodes_read=30)]
    records += [_record(ms=1.0, kind="absent", error="Internal: boom")]
    got = summarize(records)
    assert (got.asks, got.errors, got.on_time, got.partial) == (5, 1, 3, 1)
    assert got.p50_ms == 300.0 and got.p95_ms == 5000.0  # nearest rank of 4; with the failed 1 ms one it'd be 200
    assert got.nodes_mean == 15.0
    assert got.right == {"needle": (3, 3), "absent": (0, 2)}
    assert got.on_time_share == pytest.approx(0.6)


def test_p50_ratio_is_long_over_short_and_none_without_a_short_p50():
    short, long = summarize([_record(ms=100.0)]), summarize([_record(ms=120.0)])
    assert p50_ratio(long, short) == pytest.approx(1.2)
    assert p50_ratio(long, summarize([_record(error="Internal: boom")])) is None


def _figures(long_ms: float, late: int = 0) -> dict:
    """Made-up figures of benchmarks.reasoner: two histories, four Asks per deadline each."""
    asks = []
    for deadline_ms in (2000, 500):
        for stream_id, ms in (("short", 100.0), ("long", long_ms)):
            for position in range(4):
                slow = position < late and stream_id == "long"
                record = _record(stream_id, deadline_ms, deadline_ms * 2.0 if slow else ms, is_right=True)
                asks.append(asdict(record))
    streams = [
        {"stream_id": s.stream_id, "hours": s.hours, "clips": s.clip_count, "signs": [asdict(g) for g in s.signs]}
        for s in (SHORT, LONG)
    ]
    return {
        "streams": streams,
        "asks": asks,
        "deadlines_ms": [2000, 500],
        "questions": 4,
        "nodes_per_level": {"short": [9], "long": [56, 3]},
        "write": {"clips": 1050, "write_s": 10.0, "consolidate_s": 2.0},
        "probe": {"clips_per_s": 100.0},
        "is_shortened": True,
        "llm": "tiny",
        "llm_name": "tiny-llama",
        "reasoner_start_s": 3.0,
    }


def test_the_section_has_a_row_per_history_and_deadline_and_says_whether_targets_were_met():
    text = markdown(_figures(long_ms=120.0), "(command)")
    assert text.startswith(HEADING)
    rows = [line for line in text.splitlines() if line.startswith("| 10 min") or line.startswith("| 1 h")]
    assert len(rows) == 4
    assert "| 1 h | 900 | 56 / 3 | 500 | 4 | 120 | 120 | 1.20 | 4/4 |" in text
    assert "1 h / 10 min 1.20 (target <= 1.3: met); Asks returned within 2200 ms: 10 min 100.0%, 1 h 100.0%" in text
    assert "(target >= 99%: met)" in text and "NOT met" not in text
    assert "reported 0 for every Ask" in text
    assert "replaced 24 h with 1 h" in text


def test_the_section_says_not_met_for_a_slow_long_history_and_late_asks():
    slow = markdown(_figures(long_ms=200.0), "(command)")
    assert "1 h / 10 min 2.00 (target <= 1.3: NOT met)" in slow
    late = markdown(_figures(long_ms=100.0, late=1), "(command)")
    assert "within 550 ms: 10 min 100.0%, 1 h 75.0% (target >= 99%: NOT met)" in late
