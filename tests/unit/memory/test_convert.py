"""memory_service.convert: requests parse into core types and responses carry them back unchanged."""

from __future__ import annotations

import pytest

from longwatch import convert as shared
from longwatch.errors import InvalidArgument
from longwatch.memory.v1 import memory_pb2
from longwatch.types import ClipRecord, SearchHit, StreamSummary
from memory_service import convert
from memory_service.core.types import DEFAULT_K, SearchQuery


def test_search_query_round_trips():
    query = SearchQuery(text="red car KX-4721", stream_ids=("gate", "dock"), start_s=1.5, end_s=90.0, k=7)
    assert convert.query_from_pb(convert.query_to_pb(query)) == query


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
    hits = [SearchHit("gate@000000002000", "gate", 2.0, 6.0, "a car", 1.25)]
    summaries = [StreamSummary("gate", 3, 0.0, 30.0)]
    assert [shared.hit_from_pb(hit) for hit in convert.search_response(hits).hits] == hits
    assert [shared.summary_from_pb(s) for s in convert.list_streams_response(summaries).streams] == summaries
    assert convert.write_response("gate@000000002000").clip_id == "gate@000000002000"
