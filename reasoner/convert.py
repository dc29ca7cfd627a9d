"""Reasoner request parsing and response building; shared message conversions are in longwatch.convert."""

from __future__ import annotations

from longwatch import convert
from longwatch.reasoner.v1 import reasoner_pb2
from longwatch.types import Answer
from reasoner.core.types import AskQuery


def query_from_pb(request: reasoner_pb2.AskRequest) -> AskQuery:
    """Values are checked by the core (empty question, negative deadline), which says what to change."""
    return AskQuery(question=request.question, stream_ids=tuple(request.stream_ids), deadline_ms=request.deadline_ms)


def query_to_pb(query: AskQuery) -> reasoner_pb2.AskRequest:
    return reasoner_pb2.AskRequest(
        question=query.question, stream_ids=list(query.stream_ids), deadline_ms=query.deadline_ms
    )


def answer_to_pb(answer: Answer) -> reasoner_pb2.AskResponse:
    return convert.answer_to_pb(answer)


def answer_from_pb(response: reasoner_pb2.AskResponse) -> Answer:
    return convert.answer_from_pb(response)
