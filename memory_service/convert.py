"""Memory service request parsing and response building; shared message conversions are in longwatch.convert.

Requests parse into core types with proto3's zero defaults made explicit (k = 0, limit = 0); every range and
bound is the core's to check, so a bad value reaches it unchanged and is refused there with one message.
"""

from __future__ import annotations

from collections.abc import Sequence

from longwatch import convert
from longwatch.errors import InvalidArgument
from longwatch.memory.v1 import memory_pb2
from longwatch.types import ClipRecord, DeletedStream, KeyframeData, MemoryStats, Node, SearchResult, StreamSummary
from memory_service.core.types import DEFAULT_K, DEFAULT_TIMELINE_LIMIT, SearchQuery, TimelineQuery


def clip_from_request(request: memory_pb2.WriteClipsRequest) -> ClipRecord:
    if not request.HasField("clip"):
        raise InvalidArgument("a WriteClipsRequest has no clip; set its clip field")
    return convert.clip_from_pb(request.clip)


def write_response(clip_id: str) -> memory_pb2.WriteClipsResponse:
    return memory_pb2.WriteClipsResponse(clip_id=clip_id)


def query_from_pb(request: memory_pb2.SearchRequest) -> SearchQuery:
    """k = 0 means the default (memory.proto); range checks are the core's."""
    return SearchQuery(
        text=request.text,
        stream_ids=tuple(request.stream_ids),
        start_s=request.start_s,
        end_s=request.end_s,
        k=request.k or DEFAULT_K,
        vector=tuple(request.vector),
        level=request.level,
        start_wall_ms=request.start_wall_ms,
        end_wall_ms=request.end_wall_ms,
    )


def query_to_pb(query: SearchQuery) -> memory_pb2.SearchRequest:
    return memory_pb2.SearchRequest(
        text=query.text,
        stream_ids=list(query.stream_ids),
        start_s=query.start_s,
        end_s=query.end_s,
        k=query.k,
        vector=list(query.vector),
        level=query.level,
        start_wall_ms=query.start_wall_ms,
        end_wall_ms=query.end_wall_ms,
    )


def timeline_from_pb(request: memory_pb2.TimelineRequest) -> TimelineQuery:
    """limit = 0 means the default (memory.proto); range checks are the core's."""
    return TimelineQuery(
        stream_id=request.stream_id,
        level=request.level,
        start_s=request.start_s,
        end_s=request.end_s,
        start_wall_ms=request.start_wall_ms,
        end_wall_ms=request.end_wall_ms,
        limit=request.limit or DEFAULT_TIMELINE_LIMIT,
    )


def timeline_to_pb(query: TimelineQuery) -> memory_pb2.TimelineRequest:
    return memory_pb2.TimelineRequest(
        stream_id=query.stream_id,
        level=query.level,
        start_s=query.start_s,
        end_s=query.end_s,
        start_wall_ms=query.start_wall_ms,
        end_wall_ms=query.end_wall_ms,
        limit=query.limit,
    )


def search_response(result: SearchResult) -> memory_pb2.SearchResponse:
    return convert.search_result_to_pb(result)


def expand_response(children: Sequence[Node]) -> memory_pb2.ExpandResponse:
    return memory_pb2.ExpandResponse(children=[convert.node_to_pb(node) for node in children])


def timeline_response(nodes: Sequence[Node], is_truncated: bool) -> memory_pb2.TimelineResponse:
    return memory_pb2.TimelineResponse(nodes=[convert.node_to_pb(node) for node in nodes], truncated=is_truncated)


def get_response(nodes: Sequence[Node], keyframes: Sequence[KeyframeData]) -> memory_pb2.GetResponse:
    return memory_pb2.GetResponse(
        nodes=[convert.node_to_pb(node) for node in nodes],
        keyframes=[convert.keyframe_data_to_pb(keyframe) for keyframe in keyframes],
    )


def stats_response(stats: MemoryStats) -> memory_pb2.StatsResponse:
    return convert.memory_stats_to_pb(stats)


def delete_stream_response(deleted: DeletedStream) -> memory_pb2.DeleteStreamResponse:
    return convert.deleted_stream_to_pb(deleted)


def list_streams_response(summaries: Sequence[StreamSummary]) -> memory_pb2.ListStreamsResponse:
    return memory_pb2.ListStreamsResponse(streams=[convert.summary_to_pb(summary) for summary in summaries])
