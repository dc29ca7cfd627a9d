"""The Ray Serve application's configuration and routing decisions, without starting Ray."""

from pathlib import Path

import pytest

from longwatch.errors import InvalidArgument
from longwatch.perception.v1 import perception_pb2
from longwatch_cli.serve_command import DEFAULT_CONFIG, check_config
from orchestration.ray_routes import _methods, forwarded_metadata, stream_id_of
from orchestration.ray_serve import AppConfig

ROOT = Path(__file__).resolve().parents[2]
PERCEPTION = "/longwatch.perception.v1.PerceptionService"


def test_the_shipped_serve_config_builds():
    check_config(ROOT / DEFAULT_CONFIG)


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("applications: []\n", "no application with import_path"),
        ("applications:\n  - import_path: orchestration.ray_serve:build_app\n    args: {prot: 1}\n", "prot"),
        (
            "applications:\n  - import_path: orchestration.ray_serve:build_app\n    args: {host: 0.0.0.0}\n",
            "set memory_addr",
        ),
        ("applications: [\n", "not valid YAML"),
    ],
)
def test_a_bad_serve_config_is_named_before_ray_starts(tmp_path, text, named):
    path = tmp_path / "serve.yaml"
    path.write_text(text)
    with pytest.raises(InvalidArgument, match=named):
        check_config(path)


def test_replicas_reach_memory_through_the_ingress():
    assert AppConfig(port=50060).memory_address() == "127.0.0.1:50060"
    assert AppConfig(host="0.0.0.0", memory_addr="10.0.0.5:50060").memory_address() == "10.0.0.5:50060"


def test_every_method_of_the_three_protos_is_routed():
    methods = _methods()
    assert f"{PERCEPTION}/PushFrames" in methods
    assert "/longwatch.memory.v1.MemoryService/WriteClips" in methods
    assert "/longwatch.reasoner.v1.ReasonerService/AskStream" in methods
    assert methods["/longwatch.memory.v1.MemoryService/WriteClips"].kind == (True, True)


def test_a_perception_call_is_routed_by_the_stream_it_names():
    methods = _methods()
    add = perception_pb2.AddStreamRequest(stream_id="dock", source="/videos/a.mp4").SerializeToString()
    assert stream_id_of(methods[f"{PERCEPTION}/AddStream"], add) == "dock"
    push = perception_pb2.PushFramesRequest(start=perception_pb2.PushStart(stream_id="robot")).SerializeToString()
    assert stream_id_of(methods[f"{PERCEPTION}/PushFrames"], push) == "robot"
    assert stream_id_of(methods[f"{PERCEPTION}/ListStreams"], b"") == ""
    assert stream_id_of(methods[f"{PERCEPTION}/AddStream"], b"\xff\xff") == ""  # the replica refuses it


class _Context:
    def invocation_metadata(self):
        return (
            ("authorization", "Bearer t"),
            ("x-request-id", "abc"),
            ("user-agent", "grpc-python"),
            ("grpc-x", "1"),
            ("longwatch-client", "ipv4:10.0.0.1:1"),  # a client claiming to be another
        )

    def peer(self):
        return "ipv4:192.0.2.7:40000"


def test_the_token_request_id_and_real_client_are_forwarded_and_transport_headers_are_not():
    assert forwarded_metadata(_Context()) == (
        ("authorization", "Bearer t"),
        ("x-request-id", "abc"),
        ("longwatch-client", "ipv4:192.0.2.7:40000"),
    )
