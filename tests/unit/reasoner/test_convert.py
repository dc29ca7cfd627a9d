"""Reasoner request and response conversions round-trip."""

from __future__ import annotations

from longwatch.reasoner.v1 import reasoner_pb2
from longwatch.types import Answer, Evidence
from reasoner import convert
from reasoner.core.types import AskQuery


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
