"""Reasoner request and response conversions round-trip."""

from __future__ import annotations

import math
from dataclasses import replace

from longwatch import reasoner_convert as convert
from longwatch.reasoner.v1 import reasoner_pb2
from longwatch.types import Answer, AnswerMethod, AskProgress, AskQuery, Evidence, SummarizeQuery, Summary, TimeRange


def test_query_round_trip():
    query = AskQuery(question="What was the plate?", stream_ids=("gate", "yard"), deadline_ms=1500)
    assert convert.query_from_pb(convert.query_to_pb(query)) == query


def test_query_defaults_from_an_empty_request():
    assert convert.query_from_pb(reasoner_pb2.AskRequest()) == AskQuery(question="", stream_ids=(), deadline_ms=0)


def test_answer_round_trip():
    answer = Answer(
        answer="KPL 4721",
        evidence=(
            Evidence("gate", 40.0, 45.0, "text on screen: KPL 4721", "gate@000000040000", 1.25),
            Evidence("yard", 1.5, 2.5, "a van parks", "yard@000000001500", 0.5),
        ),
        confidence=0.75,
        latency_ms=812.5,
    )
    message = convert.answer_to_pb(answer)
    assert message.evidence[0].text == "text on screen: KPL 4721"
    assert convert.answer_from_pb(reasoner_pb2.AskResponse.FromString(message.SerializeToString())) == answer


NAN = float("nan")
LIVE = TimeRange(start_s=0.0, end_s=0.0, start_wall_ms=1_796_299_200_000, end_wall_ms=1_796_302_800_000)


def wire(message):
    """The message after a trip through its wire format, as the other side sees it."""
    return type(message).FromString(message.SerializeToString())


def test_a_query_with_a_time_range_round_trips():
    query = AskQuery("What left the dock?", ("dock",), 900, TimeRange(40.0, 120.0, LIVE.start_wall_ms, 0))
    request = wire(convert.query_to_pb(query))
    assert (request.start_s, request.end_s, request.start_wall_ms, request.end_wall_ms) == (
        40.0,
        120.0,
        LIVE.start_wall_ms,
        0,
    )
    assert convert.query_from_pb(request) == query


def test_bad_times_pass_through_for_the_core_to_refuse():
    """NaN, negative times and a start after its end reach the core unchanged: it says what to change."""
    request = reasoner_pb2.AskRequest(question="q", start_s=-1.0, end_s=NAN, start_wall_ms=9, end_wall_ms=3)
    time_range = convert.query_from_pb(wire(request)).time_range
    assert (time_range.start_s, time_range.start_wall_ms, time_range.end_wall_ms) == (-1.0, 9, 3)
    assert math.isnan(time_range.end_s)
    summarize = convert.summarize_query_from_pb(reasoner_pb2.SummarizeRequest(stream_id="", start_s=50.0, end_s=10.0))
    assert summarize == SummarizeQuery("", TimeRange(start_s=50.0, end_s=10.0))


def test_a_summarize_query_round_trips():
    query = SummarizeQuery("dock", LIVE, deadline_ms=2500)
    assert convert.summarize_query_from_pb(wire(convert.summarize_query_to_pb(query))) == query
    assert convert.summarize_query_from_pb(reasoner_pb2.SummarizeRequest()) == SummarizeQuery("")


SEGMENT = Evidence(
    "dock",
    40.0,
    120.0,
    "a van backs up to bay 3 and unloads",
    "dock#1#000000002",
    0.9,
    LIVE.start_wall_ms + 40_000,
    LIVE.start_wall_ms + 120_000,
    level=1,
    keyframe_ids=("dock@w1796299240000#k0", "dock@w1796299300000#k1"),
    hop=1,
)


def test_every_new_answer_and_evidence_field_round_trips():
    answer = Answer(
        answer="bay 3",
        evidence=(SEGMENT,),
        confidence=0.6,
        latency_ms=950.0,
        method=AnswerMethod.VALUE.value,
        partial=True,
        nodes_read=42,
        hops=1,
        fallback="the LLM failed: CUDA out of memory",
    )
    message = wire(convert.answer_to_pb(answer))
    assert (message.method, message.partial, message.nodes_read, message.hops) == ("value", True, 42, 1)
    assert list(message.evidence[0].keyframe_ids) == list(SEGMENT.keyframe_ids)
    assert (message.evidence[0].level, message.evidence[0].hop) == (1, 1)
    assert convert.answer_from_pb(message) == answer


def test_progress_and_the_answer_round_trip_as_stream_events():
    step = AskProgress("read", "reading segment 0:40-2:00 of dock", "dock", "dock#1#000000002", 1, 40.0, 120.0, 31.5)
    assert convert.event_from_pb(wire(convert.progress_event_to_pb(step))) == step
    answer = Answer("bay 3", (SEGMENT,), 0.6, 950.0, method="value")
    assert convert.event_from_pb(wire(convert.answer_event_to_pb(answer))) == answer


def test_an_event_of_a_kind_this_side_does_not_know_is_none():
    assert convert.event_from_pb(reasoner_pb2.AskEvent()) is None


def test_a_summary_round_trips():
    summary = Summary("dock", 40.0, 120.0, "A van unloaded at bay 3.", (SEGMENT,), nodes_read=5, partial=True)
    message = wire(convert.summary_to_pb(replace(summary, latency_ms=77.0)))
    assert message.summary == "A van unloaded at bay 3."
    assert convert.summary_from_pb(message) == replace(summary, latency_ms=77.0)
