"""Conversions between the shared domain types and their protobuf messages.

Used by the servers and the client SDK alike; tests/unit/test_convert.py round-trips each.
Service-specific request parsing lives in each service's own convert.py.
"""

from __future__ import annotations

from longwatch.memory.v1 import memory_pb2
from longwatch.perception.v1 import perception_pb2
from longwatch.reasoner.v1 import reasoner_pb2
from longwatch.types import Answer, ClipRecord, Evidence, SearchHit, StreamState, StreamStatus, StreamSummary

_STATE_TO_PB = {
    StreamState.STARTING: perception_pb2.STREAM_STATE_STARTING,
    StreamState.RUNNING: perception_pb2.STREAM_STATE_RUNNING,
    StreamState.FINISHED: perception_pb2.STREAM_STATE_FINISHED,
    StreamState.FAILED: perception_pb2.STREAM_STATE_FAILED,
    StreamState.STOPPED: perception_pb2.STREAM_STATE_STOPPED,
}
_STATE_FROM_PB = {value: key for key, value in _STATE_TO_PB.items()}


def clip_to_pb(clip: ClipRecord) -> memory_pb2.ClipRecord:
    return memory_pb2.ClipRecord(
        stream_id=clip.stream_id,
        start_s=clip.start_s,
        end_s=clip.end_s,
        caption=clip.caption,
        ocr_lines=list(clip.ocr_lines),
        visual_embedding=list(clip.visual_embedding),
        frame_count=clip.frame_count,
        start_wall_ms=clip.start_wall_ms,
        source_key=clip.source_key,
    )


def clip_from_pb(message: memory_pb2.ClipRecord) -> ClipRecord:
    return ClipRecord(
        stream_id=message.stream_id,
        start_s=message.start_s,
        end_s=message.end_s,
        caption=message.caption,
        ocr_lines=tuple(message.ocr_lines),
        visual_embedding=tuple(message.visual_embedding),
        frame_count=message.frame_count,
        start_wall_ms=message.start_wall_ms,
        source_key=message.source_key,
    )


def hit_to_pb(hit: SearchHit) -> memory_pb2.SearchHit:
    return memory_pb2.SearchHit(
        clip_id=hit.clip_id,
        stream_id=hit.stream_id,
        start_s=hit.start_s,
        end_s=hit.end_s,
        text=hit.text,
        score=hit.score,
    )


def hit_from_pb(message: memory_pb2.SearchHit) -> SearchHit:
    return SearchHit(
        clip_id=message.clip_id,
        stream_id=message.stream_id,
        start_s=message.start_s,
        end_s=message.end_s,
        text=message.text,
        score=message.score,
    )


def summary_to_pb(summary: StreamSummary) -> memory_pb2.StreamSummary:
    return memory_pb2.StreamSummary(
        stream_id=summary.stream_id,
        clip_count=summary.clip_count,
        first_s=summary.first_s,
        last_s=summary.last_s,
    )


def summary_from_pb(message: memory_pb2.StreamSummary) -> StreamSummary:
    return StreamSummary(
        stream_id=message.stream_id,
        clip_count=message.clip_count,
        first_s=message.first_s,
        last_s=message.last_s,
    )


def status_to_pb(status: StreamStatus) -> perception_pb2.StreamStatus:
    return perception_pb2.StreamStatus(
        stream_id=status.stream_id,
        source=status.source,
        state=_STATE_TO_PB[status.state],
        is_live=status.is_live,
        frames_seen=status.frames_seen,
        frames_encoded=status.frames_encoded,
        frames_reused=status.frames_reused,
        frames_dropped=status.frames_dropped,
        clips_written=status.clips_written,
        position_s=status.position_s,
        duration_s=status.duration_s,
        lag_s=status.lag_s,
        error=status.error,
        sample_fps=status.sample_fps,
    )


def status_from_pb(message: perception_pb2.StreamStatus) -> StreamStatus:
    return StreamStatus(
        stream_id=message.stream_id,
        source=message.source,
        state=_STATE_FROM_PB[message.state],
        is_live=message.is_live,
        frames_seen=message.frames_seen,
        frames_encoded=message.frames_encoded,
        frames_reused=message.frames_reused,
        frames_dropped=message.frames_dropped,
        clips_written=message.clips_written,
        position_s=message.position_s,
        duration_s=message.duration_s,
        lag_s=message.lag_s,
        error=message.error,
        sample_fps=message.sample_fps,
    )


def evidence_to_pb(evidence: Evidence) -> reasoner_pb2.Evidence:
    return reasoner_pb2.Evidence(
        stream_id=evidence.stream_id,
        start_s=evidence.start_s,
        end_s=evidence.end_s,
        text=evidence.text,
        clip_id=evidence.clip_id,
        score=evidence.score,
    )


def evidence_from_pb(message: reasoner_pb2.Evidence) -> Evidence:
    return Evidence(
        stream_id=message.stream_id,
        start_s=message.start_s,
        end_s=message.end_s,
        text=message.text,
        clip_id=message.clip_id,
        score=message.score,
    )


def answer_to_pb(answer: Answer) -> reasoner_pb2.AskResponse:
    return reasoner_pb2.AskResponse(
        answer=answer.answer,
        evidence=[evidence_to_pb(item) for item in answer.evidence],
        confidence=answer.confidence,
        latency_ms=answer.latency_ms,
    )


def answer_from_pb(message: reasoner_pb2.AskResponse) -> Answer:
    return Answer(
        answer=message.answer,
        evidence=tuple(evidence_from_pb(item) for item in message.evidence),
        confidence=message.confidence,
        latency_ms=message.latency_ms,
    )
