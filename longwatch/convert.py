"""Conversions between the shared domain types and their protobuf messages.

Used by the servers and the client SDK alike; tests/unit/test_convert.py round-trips each.
Service-specific request parsing lives in each service's own convert.py.
"""

from __future__ import annotations

from longwatch.memory.v1 import memory_pb2
from longwatch.perception.v1 import perception_pb2
from longwatch.reasoner.v1 import reasoner_pb2
from longwatch.types import (
    Answer,
    ClipRecord,
    DeletedStream,
    Evidence,
    Keyframe,
    KeyframeData,
    MemoryStats,
    Node,
    SearchHit,
    SearchResult,
    StreamState,
    StreamStats,
    StreamStatus,
    StreamSummary,
)

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
        keyframes=[memory_pb2.Keyframe(t_s=frame.t_s, jpeg=frame.jpeg) for frame in clip.keyframes],
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
        keyframes=tuple(Keyframe(t_s=frame.t_s, jpeg=frame.jpeg) for frame in message.keyframes),
    )


def hit_to_pb(hit: SearchHit) -> memory_pb2.SearchHit:
    return memory_pb2.SearchHit(
        clip_id=hit.clip_id,
        stream_id=hit.stream_id,
        start_s=hit.start_s,
        end_s=hit.end_s,
        text=hit.text,
        score=hit.score,
        level=hit.level,
        start_wall_ms=hit.start_wall_ms,
        end_wall_ms=hit.end_wall_ms,
        keyframe_ids=list(hit.keyframe_ids),
    )


def hit_from_pb(message: memory_pb2.SearchHit) -> SearchHit:
    return SearchHit(
        clip_id=message.clip_id,
        stream_id=message.stream_id,
        start_s=message.start_s,
        end_s=message.end_s,
        text=message.text,
        score=message.score,
        level=message.level,
        start_wall_ms=message.start_wall_ms,
        end_wall_ms=message.end_wall_ms,
        keyframe_ids=tuple(message.keyframe_ids),
    )


def search_result_to_pb(result: SearchResult) -> memory_pb2.SearchResponse:
    return memory_pb2.SearchResponse(hits=[hit_to_pb(hit) for hit in result.hits], nodes_read=result.nodes_read)


def search_result_from_pb(message: memory_pb2.SearchResponse) -> SearchResult:
    return SearchResult(hits=tuple(hit_from_pb(hit) for hit in message.hits), nodes_read=message.nodes_read)


def node_to_pb(node: Node) -> memory_pb2.Node:
    return memory_pb2.Node(
        node_id=node.node_id,
        stream_id=node.stream_id,
        level=node.level,
        start_s=node.start_s,
        end_s=node.end_s,
        start_wall_ms=node.start_wall_ms,
        end_wall_ms=node.end_wall_ms,
        text=node.text,
        child_ids=list(node.child_ids),
        keyframe_ids=list(node.keyframe_ids),
        parent_id=node.parent_id,
    )


def node_from_pb(message: memory_pb2.Node) -> Node:
    return Node(
        node_id=message.node_id,
        stream_id=message.stream_id,
        level=message.level,
        start_s=message.start_s,
        end_s=message.end_s,
        text=message.text,
        start_wall_ms=message.start_wall_ms,
        end_wall_ms=message.end_wall_ms,
        child_ids=tuple(message.child_ids),
        keyframe_ids=tuple(message.keyframe_ids),
        parent_id=message.parent_id,
    )


def keyframe_data_to_pb(keyframe: KeyframeData) -> memory_pb2.KeyframeData:
    return memory_pb2.KeyframeData(
        keyframe_id=keyframe.keyframe_id, stream_id=keyframe.stream_id, t_s=keyframe.t_s, jpeg=keyframe.jpeg
    )


def keyframe_data_from_pb(message: memory_pb2.KeyframeData) -> KeyframeData:
    return KeyframeData(
        keyframe_id=message.keyframe_id, stream_id=message.stream_id, t_s=message.t_s, jpeg=message.jpeg
    )


def stream_stats_to_pb(stats: StreamStats) -> memory_pb2.StreamStats:
    return memory_pb2.StreamStats(
        stream_id=stats.stream_id,
        clips=stats.clips,
        nodes_per_level=list(stats.nodes_per_level),
        keyframes=stats.keyframes,
        vector_bytes=stats.vector_bytes,
        metadata_bytes=stats.metadata_bytes,
        keyframe_bytes=stats.keyframe_bytes,
        log_bytes=stats.log_bytes,
        keyframes_removed=stats.keyframes_removed,
        clip_texts_removed=stats.clip_texts_removed,
        summaries_removed=stats.summaries_removed,
        first_s=stats.first_s,
        last_s=stats.last_s,
        window_clips=stats.window_clips,
    )


def stream_stats_from_pb(message: memory_pb2.StreamStats) -> StreamStats:
    return StreamStats(
        stream_id=message.stream_id,
        clips=message.clips,
        nodes_per_level=tuple(message.nodes_per_level),
        keyframes=message.keyframes,
        vector_bytes=message.vector_bytes,
        metadata_bytes=message.metadata_bytes,
        keyframe_bytes=message.keyframe_bytes,
        log_bytes=message.log_bytes,
        keyframes_removed=message.keyframes_removed,
        clip_texts_removed=message.clip_texts_removed,
        summaries_removed=message.summaries_removed,
        first_s=message.first_s,
        last_s=message.last_s,
        window_clips=message.window_clips,
    )


def memory_stats_to_pb(stats: MemoryStats) -> memory_pb2.StatsResponse:
    return memory_pb2.StatsResponse(
        streams=[stream_stats_to_pb(item) for item in stats.streams], disk_bytes=stats.disk_bytes
    )


def memory_stats_from_pb(message: memory_pb2.StatsResponse) -> MemoryStats:
    return MemoryStats(
        streams=tuple(stream_stats_from_pb(item) for item in message.streams), disk_bytes=message.disk_bytes
    )


def deleted_stream_to_pb(deleted: DeletedStream) -> memory_pb2.DeleteStreamResponse:
    return memory_pb2.DeleteStreamResponse(
        clips_deleted=deleted.clips_deleted,
        nodes_deleted=deleted.nodes_deleted,
        keyframes_deleted=deleted.keyframes_deleted,
    )


def deleted_stream_from_pb(message: memory_pb2.DeleteStreamResponse) -> DeletedStream:
    return DeletedStream(
        clips_deleted=message.clips_deleted,
        nodes_deleted=message.nodes_deleted,
        keyframes_deleted=message.keyframes_deleted,
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
        start_wall_ms=evidence.start_wall_ms,
        end_wall_ms=evidence.end_wall_ms,
        level=evidence.level,
        keyframe_ids=list(evidence.keyframe_ids),
        hop=evidence.hop,
    )


def evidence_from_pb(message: reasoner_pb2.Evidence) -> Evidence:
    return Evidence(
        stream_id=message.stream_id,
        start_s=message.start_s,
        end_s=message.end_s,
        text=message.text,
        clip_id=message.clip_id,
        score=message.score,
        start_wall_ms=message.start_wall_ms,
        end_wall_ms=message.end_wall_ms,
        level=message.level,
        keyframe_ids=tuple(message.keyframe_ids),
        hop=message.hop,
    )


def answer_to_pb(answer: Answer) -> reasoner_pb2.AskResponse:
    return reasoner_pb2.AskResponse(
        answer=answer.answer,
        evidence=[evidence_to_pb(item) for item in answer.evidence],
        confidence=answer.confidence,
        latency_ms=answer.latency_ms,
        method=answer.method,
        partial=answer.partial,
        nodes_read=answer.nodes_read,
        hops=answer.hops,
        fallback=answer.fallback,
    )


def answer_from_pb(message: reasoner_pb2.AskResponse) -> Answer:
    return Answer(
        answer=message.answer,
        evidence=tuple(evidence_from_pb(item) for item in message.evidence),
        confidence=message.confidence,
        latency_ms=message.latency_ms,
        method=message.method,
        partial=message.partial,
        nodes_read=message.nodes_read,
        hops=message.hops,
        fallback=message.fallback,
    )
