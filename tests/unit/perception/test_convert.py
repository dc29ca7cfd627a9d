"""Perception's request and response conversions round-trip."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from longwatch import perception_convert as convert
from longwatch.errors import InvalidArgument
from longwatch.perception.v1 import perception_pb2
from longwatch.types import (
    DescribeResult,
    Overview,
    OverviewDetail,
    OverviewSlot,
    PushedFrame,
    PushResult,
    StreamState,
    StreamStatus,
)
from perception import responses
from perception.core.overview import DetailFrame, StreamOverview, SynopsisSlot

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


# PushFrames -------------------------------------------------------------------------------------


def test_push_start_and_frames_round_trip():
    start = convert.PushStart(stream_id="robot", sample_fps=2.0, is_live=True)
    assert convert.push_start_from_pb(convert.push_start_to_pb(start)) == start
    jpeg = PushedFrame(t_s=1.5, jpeg=b"\xff\xd8jpeg", wall_ms=1_700_000_000_000)
    raw = PushedFrame(t_s=2.0, rgb=b"\x01" * 12, width=2, height=2)
    for frame in (jpeg, raw):
        assert convert.pushed_frame_from_pb(convert.pushed_frame_to_pb(frame), 1) == frame


def test_push_messages_in_the_wrong_place_are_refused():
    frame = convert.pushed_frame_to_pb(PushedFrame(t_s=0.0, jpeg=b"x"))
    for first in (None, frame, perception_pb2.PushFramesRequest()):
        with pytest.raises(InvalidArgument, match="first PushFrames message must be a start"):
            convert.push_start_from_pb(first)
    start = convert.push_start_to_pb(convert.PushStart("robot"))
    with pytest.raises(InvalidArgument, match="message 4 is a second start"):
        convert.pushed_frame_from_pb(start, 3)
    with pytest.raises(InvalidArgument, match="message 2 is an empty message"):
        convert.pushed_frame_from_pb(perception_pb2.PushFramesRequest(), 1)


def test_push_result_round_trip():
    response = convert.push_frames_response(42, STATUS)
    assert convert.push_result_from_pb(response) == PushResult(frames_accepted=42, stream=STATUS)


# GetOverview ------------------------------------------------------------------------------------

OVERVIEW = StreamOverview(
    stream_id="gate",
    slots=(SynopsisSlot(weight=9, start_s=0.0, end_s=30.0), SynopsisSlot(weight=2, start_s=31.0, end_s=33.5)),
    details=(DetailFrame(t_s=4.0, slot=0, similarity=0.75, jpeg=b"jpeg-4"), DetailFrame(31.5, 1, 0.5, b"jpeg-31")),
    max_slots=16,
    max_details=8,
    frames_merged=11,
)


def test_overview_round_trip_with_and_without_jpeg():
    full = convert.overview_from_pb(responses.overview_response(OVERVIEW, include_jpeg=True))
    assert full == Overview(
        stream_id="gate",
        slots=tuple(OverviewSlot(s.weight, s.start_s, s.end_s) for s in OVERVIEW.slots),
        details=tuple(OverviewDetail(d.t_s, d.slot, d.similarity, d.jpeg) for d in OVERVIEW.details),
        max_slots=16,
        max_details=8,
        frames_merged=11,
    )
    light = convert.overview_from_pb(responses.overview_response(OVERVIEW, include_jpeg=False))
    assert [d.jpeg for d in light.details] == [b"", b""] and light.slots == full.slots


def test_get_overview_request_round_trip_and_checks():
    command = convert.GetOverview(stream_id="gate", include_jpeg=True)
    assert convert.get_overview_from_pb(convert.get_overview_to_pb(command)) == command
    with pytest.raises(InvalidArgument, match="stream_id is empty"):
        convert.get_overview_from_pb(perception_pb2.GetOverviewRequest())


# Describe ---------------------------------------------------------------------------------------


def test_describe_round_trips_by_keyframes_and_by_range():
    by_ids = convert.Describe("gate", "read the plate", keyframe_ids=("gate@000000004000#k0", "gate@w1700000000000#k1"))
    by_range = convert.Describe("gate", "who is at the door?", start_s=10.0, end_s=20.0)
    for command in (by_ids, by_range):
        assert convert.describe_from_pb(convert.describe_to_pb(command)) == command


def test_describe_cleans_the_instruction_and_drops_repeated_ids():
    request = perception_pb2.DescribeRequest(
        stream_id="gate", keyframe_ids=["gate@1#k0", "gate@1#k0"], instruction="  read\tthe plate\x00 "
    )
    command = convert.describe_from_pb(request)
    assert command.instruction == "read the plate" and command.keyframe_ids == ("gate@1#k0",)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"stream_id": "", "start_s": 0, "end_s": 1}, "stream_id is empty"),
        ({"instruction": " \n "}, "instruction is empty"),
        ({"instruction": "x" * (convert.MAX_INSTRUCTION_CHARS + 1)}, "shorten it to at most 2000"),
        ({"start_s": 5.0, "end_s": 5.0}, "give keyframe_ids, or a time range with end_s after start_s"),
        ({"start_s": 0.0, "end_s": 0.0}, "range .* is empty"),
        ({"start_s": 9.0, "end_s": 3.0}, "end_s after start_s"),
        ({"start_s": float("nan"), "end_s": 3.0}, "start_s must be a number of seconds"),
        ({"end_s": float("inf")}, "end_s must be a number of seconds"),
        ({"keyframe_ids": ["gate@1#k0"], "end_s": 4.0}, "not both"),
        ({"keyframe_ids": ["dock@1#k0"], "end_s": 0.0}, "not one of stream 'gate'"),
        ({"keyframe_ids": ["gate@1"], "end_s": 0.0}, "<clip_id>#k<i>"),
        ({"keyframe_ids": ["gate@1 #k0"], "end_s": 0.0}, "is not an id memory gives"),
        ({"keyframe_ids": [f"gate@{i}#k0" for i in range(17)], "end_s": 0.0}, "pass at most 16"),
    ],
)
def test_bad_describe_requests_say_what_to_change(fields, message):
    values = {"stream_id": "gate", "instruction": "read the plate", "start_s": 0.0, "end_s": 10.0} | fields
    with pytest.raises(InvalidArgument, match=message):
        convert.describe_from_pb(perception_pb2.DescribeRequest(**values))


@dataclass(frozen=True)
class _Description:  # the core's Description (perception.core.describe) has these fields
    text: str
    lines: tuple[str, ...]
    keyframe_ids: tuple[str, ...]


def test_describe_response_round_trip():
    description = _Description("a red car, plate KX-42", ("KX-42",), ("gate@1#k0",))
    result = convert.describe_result_from_pb(responses.describe_response(description))
    assert result == DescribeResult(description.text, description.lines, description.keyframe_ids)
