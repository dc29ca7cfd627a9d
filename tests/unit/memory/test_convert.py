"""memory_service.convert: requests parse into core types and responses carry them back unchanged."""

from __future__ import annotations

import pytest

from longwatch import convert as shared
from longwatch.errors import InvalidArgument
from longwatch.memory.v1 import memory_pb2
from longwatch.types import (
    ClipRecord,
    DeletedStream,
    KeyframeData,
    MemoryStats,
    Node,
    SearchHit,
    SearchResult,
    StreamStats,
    StreamSummary,
)
from memory_service import convert
from memory_service.core.types import DEFAULT_K, DEFAULT_TIMELINE_LIMIT, SearchQuery, TimelineQuery

CLIP_NODE = Node("gate@000000002000", "gate", 0, 2.0, 6.0, "a car", keyframe_ids=("gate@000000002000#k0",))
SEGMENT = Node(
    "gate#1#0",
    "gate",
    1,
    0.0,
    64.0,
    "cars pass",
    start_wall_ms=1_700_000_000_000,
    end_wall_ms=1_700_000_064_000,
    child_ids=("gate@000000002000",),
)


@pytest.mark.parametrize(
    "query",
    [
        SearchQuery(text="red car KX-4721", stream_ids=("gate", "dock"), start_s=1.5, end_s=90.0, k=7),
        SearchQuery(
            vector=(0.5, -0.25, 0.125),
            level=2,
            start_wall_ms=1_700_000_000_000,
            end_wall_ms=1_700_000_600_000,
        ),
    ],
    ids=["text", "vector at level 2 in a wall-clock range"],
)
def test_search_query_round_trips(query):
    assert convert.query_from_pb(convert.query_to_pb(query)) == query


@pytest.mark.parametrize(
    "query",
    [
        TimelineQuery("gate", level=1, start_s=60.0, end_s=3600.0, limit=500),
        TimelineQuery("cam", start_wall_ms=1_700_000_000_000, end_wall_ms=1_700_000_600_000, limit=1),
    ],
    ids=["stream time", "wall clock"],
)
def test_timeline_query_round_trips(query):
    request = memory_pb2.TimelineRequest.FromString(convert.timeline_to_pb(query).SerializeToString())
    assert convert.timeline_from_pb(request) == query


def test_timeline_limit_zero_means_the_default_and_others_pass_on_for_the_core_to_refuse():
    assert convert.timeline_from_pb(memory_pb2.TimelineRequest(stream_id="gate")).limit == DEFAULT_TIMELINE_LIMIT
    assert convert.timeline_from_pb(memory_pb2.TimelineRequest(stream_id="gate", limit=5000)).limit == 5000
    assert convert.timeline_from_pb(memory_pb2.TimelineRequest(stream_id="gate", level=-1)).level == -1


def test_k_zero_means_the_default():
    assert convert.query_from_pb(memory_pb2.SearchRequest(text="car")).k == DEFAULT_K


def test_out_of_range_k_is_passed_on_for_the_core_to_refuse():
    assert convert.query_from_pb(memory_pb2.SearchRequest(text="car", k=-3)).k == -3


def test_a_write_request_round_trips_its_clip():
    clip = ClipRecord("gate", 2.0, 6.0, "a car", ("EXIT 42",), (0.25, -0.5), 12, 1_700_000_000_000)
    request = memory_pb2.WriteClipsRequest(clip=shared.clip_to_pb(clip))
    assert convert.clip_from_request(memory_pb2.WriteClipsRequest.FromString(request.SerializeToString())) == clip


def test_a_write_request_without_a_clip_is_invalid():
    with pytest.raises(InvalidArgument, match="clip"):
        convert.clip_from_request(memory_pb2.WriteClipsRequest())


def test_responses_round_trip():
    result = SearchResult(hits=(SearchHit("gate@000000002000", "gate", 2.0, 6.0, "a car", 1.25),), nodes_read=12)
    summaries = [StreamSummary("gate", 3, 0.0, 30.0)]
    assert shared.search_result_from_pb(convert.search_response(result)) == result
    assert [shared.summary_from_pb(s) for s in convert.list_streams_response(summaries).streams] == summaries
    assert convert.write_response("gate@000000002000").clip_id == "gate@000000002000"


def test_read_responses_carry_nodes_keyframes_and_counts_unchanged():
    keyframe = KeyframeData("gate@000000002000#k0", "gate", 3.0, b"\xff\xd8\xff")
    stats = MemoryStats(streams=(StreamStats("gate", clips=3, nodes_per_level=(1,), window_clips=3),), disk_bytes=4096)
    deleted = DeletedStream(clips_deleted=3, nodes_deleted=1, keyframes_deleted=1)

    assert [shared.node_from_pb(n) for n in convert.expand_response([CLIP_NODE]).children] == [CLIP_NODE]
    timeline = convert.timeline_response([SEGMENT, CLIP_NODE], is_truncated=True)
    assert [shared.node_from_pb(n) for n in timeline.nodes] == [SEGMENT, CLIP_NODE] and timeline.truncated
    assert not convert.timeline_response([], is_truncated=False).truncated
    got = convert.get_response([SEGMENT], [keyframe])
    assert [shared.node_from_pb(n) for n in got.nodes] == [SEGMENT]
    assert [shared.keyframe_data_from_pb(k) for k in got.keyframes] == [keyframe]
    assert shared.memory_stats_from_pb(convert.stats_response(stats)) == stats
    assert shared.deleted_stream_from_pb(convert.delete_stream_response(deleted)) == deleted
