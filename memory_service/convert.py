"""Memory service request parsing and response building; shared message conversions are in longwatch.convert."""

from __future__ import annotations

from collections.abc import Sequence

from longwatch import convert
from longwatch.errors import InvalidArgument
from longwatch.memory.v1 import memory_pb2
from longwatch.types import ClipRecord, SearchHit, StreamSummary
from memory_service.core.types import DEFAULT_K, SearchQuery


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
    )


def query_to_pb(query: SearchQuery) -> memory_pb2.SearchRequest:
    return memory_pb2.SearchRequest(
        text=query.text,
        stream_ids=list(query.stream_ids),
        start_s=query.start_s,
        end_s=query.end_s,
        k=query.k,
    )


def search_response(hits: Sequence[SearchHit]) -> memory_pb2.SearchResponse:
    return memory_pb2.SearchResponse(hits=[convert.hit_to_pb(hit) for hit in hits])


def list_streams_response(summaries: Sequence[StreamSummary]) -> memory_pb2.ListStreamsResponse:
    return memory_pb2.ListStreamsResponse(streams=[convert.summary_to_pb(summary) for summary in summaries])
