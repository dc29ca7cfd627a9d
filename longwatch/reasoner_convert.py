"""Reasoner request parsing and response building, shared by the server and the SDK; the conversions
every service uses are in longwatch.convert.

Values pass through unchecked: the core refuses what it cannot use (an empty question, a negative deadline,
NaN or negative times, a start after its end) with a message that says what to change."""

from __future__ import annotations

from typing import Protocol

from longwatch import convert
from longwatch.reasoner.v1 import reasoner_pb2
from longwatch.types import Answer, AskProgress, AskQuery, SummarizeQuery, Summary, TimeRange


class _RangeMessage(Protocol):
    """AskRequest and SummarizeRequest carry a time range in the same four fields."""

    start_s: float
    end_s: float
    start_wall_ms: int
    end_wall_ms: int


def time_range_from_pb(message: _RangeMessage) -> TimeRange:
    return TimeRange(
        start_s=message.start_s,
        end_s=message.end_s,
        start_wall_ms=message.start_wall_ms,
        end_wall_ms=message.end_wall_ms,
    )


def _range_fields(time_range: TimeRange) -> dict[str, float | int]:
    return {
        "start_s": time_range.start_s,
        "end_s": time_range.end_s,
        "start_wall_ms": time_range.start_wall_ms,
        "end_wall_ms": time_range.end_wall_ms,
    }


def query_from_pb(request: reasoner_pb2.AskRequest) -> AskQuery:
    return AskQuery(
        question=request.question,
        stream_ids=tuple(request.stream_ids),
        deadline_ms=request.deadline_ms,
        time_range=time_range_from_pb(request),
    )


def query_to_pb(query: AskQuery) -> reasoner_pb2.AskRequest:
    return reasoner_pb2.AskRequest(
        question=query.question,
        stream_ids=list(query.stream_ids),
        deadline_ms=query.deadline_ms,
        **_range_fields(query.time_range),
    )


def summarize_query_from_pb(request: reasoner_pb2.SummarizeRequest) -> SummarizeQuery:
    return SummarizeQuery(
        stream_id=request.stream_id, time_range=time_range_from_pb(request), deadline_ms=request.deadline_ms
    )


def summarize_query_to_pb(query: SummarizeQuery) -> reasoner_pb2.SummarizeRequest:
    return reasoner_pb2.SummarizeRequest(
        stream_id=query.stream_id, deadline_ms=query.deadline_ms, **_range_fields(query.time_range)
    )


def answer_to_pb(answer: Answer) -> reasoner_pb2.AskResponse:
    return convert.answer_to_pb(answer)


def answer_from_pb(response: reasoner_pb2.AskResponse) -> Answer:
    return convert.answer_from_pb(response)


def progress_to_pb(progress: AskProgress) -> reasoner_pb2.AskProgress:
    return reasoner_pb2.AskProgress(
        step=progress.step,
        detail=progress.detail,
        stream_id=progress.stream_id,
        node_id=progress.node_id,
        level=progress.level,
        start_s=progress.start_s,
        end_s=progress.end_s,
        elapsed_ms=progress.elapsed_ms,
    )


def progress_from_pb(message: reasoner_pb2.AskProgress) -> AskProgress:
    return AskProgress(
        step=message.step,
        detail=message.detail,
        stream_id=message.stream_id,
        node_id=message.node_id,
        level=message.level,
        start_s=message.start_s,
        end_s=message.end_s,
        elapsed_ms=message.elapsed_ms,
    )


def progress_event_to_pb(progress: AskProgress) -> reasoner_pb2.AskEvent:
    return reasoner_pb2.AskEvent(progress=progress_to_pb(progress))


def answer_event_to_pb(answer: Answer) -> reasoner_pb2.AskEvent:
    return reasoner_pb2.AskEvent(answer=answer_to_pb(answer))


def event_from_pb(event: reasoner_pb2.AskEvent) -> AskProgress | Answer | None:
    """A progress step or the final answer; None for a kind of event this client does not know (one a newer
    server added), which the caller skips rather than fail a whole answer over."""
    kind = event.WhichOneof("event")
    if kind == "progress":
        return progress_from_pb(event.progress)
    if kind == "answer":
        return answer_from_pb(event.answer)
    return None


def summary_to_pb(summary: Summary) -> reasoner_pb2.SummarizeResponse:
    return reasoner_pb2.SummarizeResponse(
        stream_id=summary.stream_id,
        start_s=summary.start_s,
        end_s=summary.end_s,
        summary=summary.text,
        evidence=[convert.evidence_to_pb(item) for item in summary.evidence],
        nodes_read=summary.nodes_read,
        partial=summary.partial,
        latency_ms=summary.latency_ms,
    )


def summary_from_pb(message: reasoner_pb2.SummarizeResponse) -> Summary:
    return Summary(
        stream_id=message.stream_id,
        start_s=message.start_s,
        end_s=message.end_s,
        text=message.summary,
        evidence=tuple(convert.evidence_from_pb(item) for item in message.evidence),
        nodes_read=message.nodes_read,
        partial=message.partial,
        latency_ms=message.latency_ms,
    )
