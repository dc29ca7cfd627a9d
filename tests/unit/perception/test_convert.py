"""Perception's request and response conversions round-trip."""

from __future__ import annotations

from longwatch.perception.v1 import perception_pb2
from longwatch.types import StreamState, StreamStatus
from perception import convert

STATUS = StreamStatus(
    stream_id="gate",
    source="rtsp://***@cam.local/live",
    state=StreamState.RUNNING,
    is_live=True,
    frames_seen=1200,
    frames_encoded=40,
    frames_reused=60,
    frames_dropped=3,
    clips_written=25,
    position_s=120.5,
    lag_s=2.5,
    sample_fps=1.0,
)


def test_add_stream_round_trip():
    command = convert.AddStream(stream_id="gate", source="/videos/gate.mp4", sample_fps=2.0)
    assert convert.add_stream_from_pb(convert.add_stream_to_pb(command)) == command


def test_add_stream_zero_fps_means_default():
    assert convert.add_stream_from_pb(perception_pb2.AddStreamRequest(stream_id="a", source="/v.mp4")).sample_fps == 0


def test_responses_carry_the_status():
    finished = StreamStatus("dock", "/videos/dock.mp4", StreamState.FINISHED, duration_s=48.0, clips_written=16)
    listed = convert.list_streams_response([STATUS, finished])
    assert convert.statuses_from_pb(listed) == [STATUS, finished]
    assert convert.add_stream_response(STATUS).stream.stream_id == "gate"
    assert convert.remove_stream_response(finished).stream.state == perception_pb2.STREAM_STATE_FINISHED


def test_list_request_stream_ids():
    request = perception_pb2.ListStreamsRequest(stream_ids=["a", "b"])
    assert convert.stream_ids_from_pb(request) == ("a", "b")
