"""Hostile input through raw channels to real servers: bytes that are not protobuf, a 1 MB credential URL,
1 MB names. Each gets its real status code with a short detail, and the services keep answering."""

from __future__ import annotations

import time
import urllib.request

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from longwatch.memory.v1 import memory_pb2
from longwatch.perception.v1 import perception_pb2
from tests.integration.servers import free_port, memory_and_perception

READY_TIMEOUT_S = 180.0  # importing torch, building the tiny embedder, loading RapidOCR on a slow machine
CALL_TIMEOUT_S = 10.0  # what a client would wait for health or a listing: no answer in this time is a hang
MIB = 1 << 20
LETTERS = "a" * MIB  # a pasted blob: the old redaction regex froze perception on it
PERCEPTION = "/longwatch.perception.v1.PerceptionService"
MEMORY = "/longwatch.memory.v1.MemoryService"
SHORT_DETAIL_CHARS = 400
NOT_PROTOBUF = [b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", b"\xff" * 64, b"\x0a\x02\xff\xfe"]  # last: bad UTF-8


@pytest.fixture(scope="module")
def services(tmp_path_factory):
    metrics_port = free_port()
    env = {"LONGWATCH_PERCEPTION_METRICS_PORT": str(metrics_port)}
    with memory_and_perception(tmp_path_factory.mktemp("hostile-data"), READY_TIMEOUT_S, env) as services:
        yield {**services, "metrics": f"http://127.0.0.1:{metrics_port}/metrics"}


def _call(address: str, path: str, payload: bytes) -> tuple[grpc.StatusCode, str, bytes]:
    """One unary call with the payload as it is (no serializers)."""
    with grpc.insecure_channel(address) as channel:
        try:
            reply = channel.unary_unary(path)(payload, timeout=CALL_TIMEOUT_S)
        except grpc.RpcError as exc:
            return exc.code(), exc.details() or "", b""
    return grpc.StatusCode.OK, "", reply


def _assert_answering(address: str) -> list[perception_pb2.StreamStatus]:
    """Health says SERVING and ListStreams answers, each within its normal deadline; returns the listing."""
    with grpc.insecure_channel(address) as channel:
        health = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=CALL_TIMEOUT_S)
        assert health.status == health_pb2.HealthCheckResponse.SERVING
    code, details, reply = _call(address, f"{PERCEPTION}/ListStreams", b"")
    assert code == grpc.StatusCode.OK, details
    return list(perception_pb2.ListStreamsResponse.FromString(reply).streams)


def _add(address: str, stream_id: str, source: str) -> tuple[grpc.StatusCode, str]:
    request = perception_pb2.AddStreamRequest(stream_id=stream_id, source=source)
    code, details, _ = _call(address, f"{PERCEPTION}/AddStream", request.SerializeToString())
    return code, details


@pytest.mark.parametrize("payload", NOT_PROTOBUF)
@pytest.mark.parametrize("path", [f"{PERCEPTION}/AddStream", f"{MEMORY}/Search"])
def test_bytes_that_are_not_protobuf_are_invalid_arguments(services, path, payload):
    address = services["perception"] if path.startswith(PERCEPTION) else services["memory"]
    code, details, _ = _call(address, path, payload)
    assert code == grpc.StatusCode.INVALID_ARGUMENT, details
    assert "not a valid protobuf message" in details


def test_junk_in_the_write_clips_stream_is_an_invalid_argument(services):
    clip = memory_pb2.ClipRecord(stream_id="hostile", start_s=0.0, end_s=2.0, caption="a red car", frame_count=2)
    good = memory_pb2.WriteClipsRequest(clip=clip).SerializeToString()
    with grpc.insecure_channel(services["memory"]) as channel:
        replies = channel.stream_stream(f"{MEMORY}/WriteClips")(iter([good, b"\xff" * 64]), timeout=CALL_TIMEOUT_S)
        with pytest.raises(grpc.RpcError) as caught:
            list(replies)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT


@pytest.mark.parametrize(
    "clip",
    [
        memory_pb2.ClipRecord(stream_id="../../../etc/passwd", end_s=2.0),
        memory_pb2.ClipRecord(stream_id="NUL\x00", end_s=2.0),
        memory_pb2.ClipRecord(stream_id="s" * 65, end_s=2.0),
        memory_pb2.ClipRecord(stream_id="hostile", end_s=2.0, start_wall_ms=2**63 - 1),
    ],
)
def test_memory_refuses_the_clips_perception_could_never_send(services, clip):
    request = memory_pb2.WriteClipsRequest(clip=clip).SerializeToString()
    with grpc.insecure_channel(services["memory"]) as channel:
        replies = channel.stream_stream(f"{MEMORY}/WriteClips")(iter([request]), timeout=CALL_TIMEOUT_S)
        with pytest.raises(grpc.RpcError) as caught:
            list(replies)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert len(caught.value.details()) < SHORT_DETAIL_CHARS


@pytest.mark.parametrize("url", ["rtsp://user:secret@127.0.0.1:1/" + LETTERS, "rtsp://127.0.0.1:1/" + LETTERS])
def test_a_1_mb_url_is_refused_and_perception_keeps_answering(services, url):
    code, details = _add(services["perception"], "longurl", url)
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert "characters long" in details and "secret" not in details and len(details) < SHORT_DETAIL_CHARS
    _assert_answering(services["perception"])


def test_a_long_credential_url_that_fails_to_open_is_redacted_and_perception_keeps_answering(services):
    address = services["perception"]
    code, details = _add(address, "credurl", "rtsp://user:secret@127.0.0.1:1/" + "a" * 4000)  # just under the limit
    assert code == grpc.StatusCode.OK, details
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # until its first failure to connect has been redacted and shown
        (stream,) = [s for s in _assert_answering(address) if s.stream_id == "credurl"]
        if stream.error:
            break
        time.sleep(0.5)
    assert stream.error and "secret" not in stream.error and "secret" not in stream.source
    _assert_answering(address)
    request = perception_pb2.RemoveStreamRequest(stream_id="credurl").SerializeToString()
    assert _call(address, f"{PERCEPTION}/RemoveStream", request)[0] == grpc.StatusCode.OK
    assert services["process"].is_running


def test_an_upper_case_scheme_is_opened_as_lower_case(services):
    address = services["perception"]
    code, details = _add(address, "upper", "RTSP://127.0.0.1:1/live")
    assert code == grpc.StatusCode.OK, details
    (stream,) = [s for s in _assert_answering(address) if s.stream_id == "upper"]
    assert stream.source == "rtsp://127.0.0.1:1/live"
    request = perception_pb2.RemoveStreamRequest(stream_id="upper").SerializeToString()
    assert _call(address, f"{PERCEPTION}/RemoveStream", request)[0] == grpc.StatusCode.OK


def test_a_1_mb_stream_id_gets_its_real_code_with_a_short_detail(services):
    request = perception_pb2.RemoveStreamRequest(stream_id=LETTERS).SerializeToString()
    code, details, _ = _call(services["perception"], f"{PERCEPTION}/RemoveStream", request)
    assert code == grpc.StatusCode.INVALID_ARGUMENT  # not RESOURCE_EXHAUSTED from a 1 MB status detail
    assert f"({MIB} characters)" in details and len(details) < SHORT_DETAIL_CHARS
    _assert_answering(services["perception"])


def test_a_long_missing_path_is_not_found_with_a_short_detail(services):
    code, details = _add(services["perception"], "longpath", "/" + "d" * 4000 + ".mp4")
    assert code in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT)  # INVALID: the name is too long
    assert len(details) < SHORT_DETAIL_CHARS
    code, details = _add(services["perception"], "longpath", "/videos/" + "d" * 300 + ".mp4")
    assert code == grpc.StatusCode.NOT_FOUND
    assert "no such file" in details and len(details) < SHORT_DETAIL_CHARS


def test_a_planted_password_appears_in_no_reply_status_metric_or_log(services):
    """The credential check of issue 12: a camera URL's password, through a failing connection, a
    refusal, the listing, perception's metrics and both services' logs."""
    address, password = services["perception"], "Pl4nted-pw-93"
    assert _add(address, "planted", f"rtsp://admin:{password}@127.0.0.1:1/cam")[0] == grpc.StatusCode.OK
    refused = _add(address, "planted", f"rtsp://admin:{password}@127.0.0.1:1/cam")  # the name is taken
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # until a failure to connect has been logged and shown
        (stream,) = [s for s in _assert_answering(address) if s.stream_id == "planted"]
        if stream.error:
            break
        time.sleep(0.5)
    with urllib.request.urlopen(services["metrics"], timeout=CALL_TIMEOUT_S) as response:
        metrics = response.read().decode()
    request = perception_pb2.RemoveStreamRequest(stream_id="planted").SerializeToString()
    assert _call(address, f"{PERCEPTION}/RemoveStream", request)[0] == grpc.StatusCode.OK
    assert refused[0] == grpc.StatusCode.ALREADY_EXISTS and stream.error and "planted" in metrics
    shown = {
        "listing": str(stream),
        "status": refused[1],
        "metrics": metrics,
        "perception log": services["process"].output(),
        "memory log": services["memory_process"].output(),
    }
    assert [where for where, text in shown.items() if password in text] == []
