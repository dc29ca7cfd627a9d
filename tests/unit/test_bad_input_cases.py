"""The bad-input case generator: the same cases for a seed, every RPC and field covered, sizes bounded."""

from collections import Counter

import grpc
import pytest
from google.protobuf import message_factory

from benchmarks.bad_input_cases import (
    GONE_STREAM,
    LIVE_STREAM,
    ORDER_STREAM,
    OVER_LIMIT_BYTES,
    OVERSIZED_BYTES,
    field_paths,
    generate_cases,
    memory_cases,
    rpcs,
    varint,
)
from longwatch.memory.v1 import memory_pb2
from longwatch.perception.v1 import perception_pb2
from longwatch.reasoner.v1 import reasoner_pb2

MODULES = (memory_pb2, perception_pb2, reasoner_pb2)


@pytest.fixture(scope="module")
def cases():
    return generate_cases(7, quick=True)


def _fingerprint(cases):
    return [(case.rpc.path, case.kind, case.description, case.messages) for case in cases]


def test_the_same_seed_gives_the_same_cases(cases):
    assert _fingerprint(generate_cases(7, quick=True)) == _fingerprint(cases)


def test_another_seed_gives_other_random_bytes(cases):
    other = generate_cases(8, quick=True)
    assert [c.description for c in other] == [c.description for c in cases]
    assert [c.messages for c in other if c.kind == "bytes"] != [c.messages for c in cases if c.kind == "bytes"]


def test_every_rpc_of_every_service_gets_every_kind_of_case(cases):
    paths = {
        f"/{service.full_name}/{method.name}"
        for module in MODULES
        for service in module.DESCRIPTOR.services_by_name.values()
        for method in service.methods
    }
    assert {rpc.path for rpc in rpcs()} == paths
    kinds = {(case.rpc.path, case.kind) for case in cases}
    assert {(path, kind) for path in paths for kind in ("bytes", "wire")} <= kinds


def test_every_request_field_gets_a_hostile_value(cases):
    for rpc in rpcs():
        described = " ".join(case.description for case in cases if case.rpc == rpc and case.kind == "value")
        for path in field_paths(rpc.request):
            assert ".".join(field.name for field in path) + " = " in described


def test_value_cases_are_valid_messages_of_the_request_type(cases):
    for case in cases:
        if case.kind == "value":
            (payload,) = case.messages
            request = message_factory.GetMessageClass(case.rpc.request)()
            request.ParseFromString(payload)


def test_descriptions_are_short_printable_and_unique_per_rpc(cases):
    for case in cases:
        assert 0 < len(case.description) <= 80, case.description
        assert case.description.isprintable(), case.description
    counts = Counter((case.rpc.path, case.description) for case in cases)
    assert max(counts.values()) == 1


def test_sizes_are_bounded_and_only_one_case_per_service_is_over_the_limit(cases):
    over = [case for case in cases if case.size_bytes > OVERSIZED_BYTES + 1024]
    assert sorted(case.rpc.service for case in over) == sorted({rpc.service for rpc in rpcs()})
    assert all(case.size_bytes <= OVER_LIMIT_BYTES + 16 for case in over)


def test_unary_cases_hold_one_message_and_known_hangs_come_last(cases):
    assert all(len(case.messages) == 1 for case in cases if not case.rpc.is_client_streaming)
    hangs = [index for index, case in enumerate(cases) if case.is_known_hang]
    assert hangs and hangs == list(range(len(cases) - len(hangs), len(cases)))


def test_full_mode_has_more_cases_than_quick(cases):
    assert len(generate_cases(7)) > len(cases)


def test_every_memory_rpc_but_list_streams_gets_targeted_cases_that_state_a_known_status(cases):
    targeted = [case for case in cases if case.kind == "targeted"]
    assert {case.rpc.method for case in targeted} == {
        "WriteClips",
        "Search",
        "Expand",
        "Timeline",
        "Get",
        "Stats",
        "DeleteStream",
    }
    codes = set(grpc.StatusCode.__members__)
    assert all(case.expected and set(case.expected) <= codes for case in targeted)
    assert all(not case.expected for case in cases if case.kind != "targeted")


def test_targeted_cases_are_valid_messages_of_the_request_type():
    for case in memory_cases():
        for payload in case.messages:
            request = message_factory.GetMessageClass(case.rpc.request)()
            request.ParseFromString(payload)
            assert request.SerializeToString() == payload


def _touches(case, stream_id):
    return any(stream_id.encode() in message for message in case.messages)


@pytest.mark.parametrize("stream_id", [ORDER_STREAM, LIVE_STREAM, GONE_STREAM])
def test_a_stream_is_written_by_its_setup_case_before_any_other_case_uses_it(cases, stream_id):
    using = [index for index, case in enumerate(cases) if _touches(case, stream_id)]
    setup = cases[using[0]]
    assert setup.description.startswith("setup:") and setup.rpc.method == "WriteClips"
    assert setup.expected == ("OK",)


def test_the_deleted_stream_is_asked_for_only_after_its_deletion(cases):
    using = [case for case in cases if _touches(case, GONE_STREAM)]
    deleted = next(i for i, case in enumerate(using) if case.rpc.method == "DeleteStream")
    assert all(case.expected == ("NOT_FOUND",) for case in using[deleted + 1 : -1])
    assert using[-1].rpc.method == "WriteClips" and using[-1].expected == ("OK",)


@pytest.mark.parametrize("value, encoded", [(0, b"\x00"), (300, b"\xac\x02"), (-1, b"\xff" * 9 + b"\x01")])
def test_varint_encodes_as_protobuf_does(value, encoded):
    assert varint(value) == encoded
