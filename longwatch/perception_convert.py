"""Perception request parsing and response building, shared by the server and the SDK; the StreamStatus
conversion is in longwatch.convert.

The `*_from_pb` of responses give the SDK's types (longwatch.types), so the client reads them here too.
It imports nothing of perception: the responses built from its core types are in perception/responses.py.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from longwatch import convert
from longwatch.errors import InvalidArgument
from longwatch.perception.v1 import perception_pb2
from longwatch.types import (
    DescribeResult,
    Overview,
    OverviewDetail,
    OverviewSlot,
    PushedFrame,
    PushResult,
    StreamStatus,
)
from longwatch.validation import quote_prefix, validate_node_id, validate_stream_id, validate_stream_time_s

MAX_INSTRUCTION_CHARS = 2000  # a Describe instruction: a question and what to look for, not a document
MAX_DESCRIBE_KEYFRAMES = 16  # keyframes one Describe looks at: a VLM sees a handful of images per call


@dataclass(frozen=True)
class AddStream:
    stream_id: str
    source: str
    sample_fps: float = 0.0  # 0 = the server's default


def add_stream_from_pb(request: perception_pb2.AddStreamRequest) -> AddStream:
    """Fields as given; their checks are the core's (which say what to change)."""
    return AddStream(stream_id=request.stream_id, source=request.source, sample_fps=request.sample_fps)


def add_stream_to_pb(command: AddStream) -> perception_pb2.AddStreamRequest:
    return perception_pb2.AddStreamRequest(
        stream_id=command.stream_id, source=command.source, sample_fps=command.sample_fps
    )


def stream_ids_from_pb(request: perception_pb2.ListStreamsRequest) -> tuple[str, ...]:
    return tuple(request.stream_ids)


def add_stream_response(status: StreamStatus) -> perception_pb2.AddStreamResponse:
    return perception_pb2.AddStreamResponse(stream=convert.status_to_pb(status))


def list_streams_response(statuses: Sequence[StreamStatus]) -> perception_pb2.ListStreamsResponse:
    return perception_pb2.ListStreamsResponse(streams=[convert.status_to_pb(status) for status in statuses])


def statuses_from_pb(response: perception_pb2.ListStreamsResponse) -> list[StreamStatus]:
    return [convert.status_from_pb(item) for item in response.streams]


def remove_stream_response(status: StreamStatus) -> perception_pb2.RemoveStreamResponse:
    return perception_pb2.RemoveStreamResponse(stream=convert.status_to_pb(status))


# PushFrames ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PushStart:
    stream_id: str
    sample_fps: float = 0.0  # 0 = the server's default
    is_live: bool = False


def push_start_from_pb(request: perception_pb2.PushFramesRequest | None) -> PushStart:
    """The first message of a PushFrames call; it must name the stream (its checks are the registry's)."""
    if request is None or request.WhichOneof("item") != "start":
        raise InvalidArgument(
            "the first PushFrames message must be a start (stream_id, sample_fps, is_live); frames come after it"
        )
    start = request.start
    return PushStart(stream_id=start.stream_id, sample_fps=start.sample_fps, is_live=start.is_live)


def push_start_to_pb(start: PushStart) -> perception_pb2.PushFramesRequest:
    message = perception_pb2.PushStart(stream_id=start.stream_id, sample_fps=start.sample_fps, is_live=start.is_live)
    return perception_pb2.PushFramesRequest(start=message)


def pushed_frame_from_pb(request: perception_pb2.PushFramesRequest, index: int) -> PushedFrame:
    """A frame message (the `index`-th, from 1, named in errors); its size and time checks are the source's."""
    kind = request.WhichOneof("item")
    if kind != "frame":
        found = "a second start" if kind == "start" else "an empty message"
        raise InvalidArgument(f"PushFrames message {index + 1} is {found}; after the start, send only frames")
    frame = request.frame
    if frame.WhichOneof("image") == "raw":
        raw = frame.raw
        return PushedFrame(t_s=frame.t_s, rgb=raw.rgb, width=raw.width, height=raw.height, wall_ms=frame.wall_ms)
    return PushedFrame(t_s=frame.t_s, jpeg=frame.jpeg, wall_ms=frame.wall_ms)


def pushed_frame_to_pb(frame: PushedFrame) -> perception_pb2.PushFramesRequest:
    if frame.jpeg:
        message = perception_pb2.PushedFrame(t_s=frame.t_s, wall_ms=frame.wall_ms, jpeg=frame.jpeg)
    else:
        raw = perception_pb2.RawImage(width=frame.width, height=frame.height, rgb=frame.rgb)
        message = perception_pb2.PushedFrame(t_s=frame.t_s, wall_ms=frame.wall_ms, raw=raw)
    return perception_pb2.PushFramesRequest(frame=message)


def push_frames_response(frames_accepted: int, status: StreamStatus) -> perception_pb2.PushFramesResponse:
    return perception_pb2.PushFramesResponse(frames_accepted=frames_accepted, stream=convert.status_to_pb(status))


def push_result_from_pb(response: perception_pb2.PushFramesResponse) -> PushResult:
    return PushResult(frames_accepted=response.frames_accepted, stream=convert.status_from_pb(response.stream))


# GetOverview -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class GetOverview:
    stream_id: str
    include_jpeg: bool = False


def get_overview_from_pb(request: perception_pb2.GetOverviewRequest) -> GetOverview:
    return GetOverview(stream_id=validate_stream_id(request.stream_id), include_jpeg=request.include_jpeg)


def get_overview_to_pb(command: GetOverview) -> perception_pb2.GetOverviewRequest:
    return perception_pb2.GetOverviewRequest(stream_id=command.stream_id, include_jpeg=command.include_jpeg)


def overview_from_pb(response: perception_pb2.GetOverviewResponse) -> Overview:
    return Overview(
        stream_id=response.stream_id,
        slots=tuple(OverviewSlot(weight=s.weight, start_s=s.start_s, end_s=s.end_s) for s in response.slots),
        details=tuple(
            OverviewDetail(t_s=d.t_s, slot=d.slot, similarity=d.similarity, jpeg=d.jpeg) for d in response.details
        ),
        max_slots=response.max_slots,
        max_details=response.max_details,
        frames_merged=response.frames_merged,
    )


# Describe --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Describe:
    stream_id: str
    instruction: str
    keyframe_ids: tuple[str, ...] = ()  # or, when empty, the keyframes of [start_s, end_s)
    start_s: float = 0.0
    end_s: float = 0.0


def describe_from_pb(request: perception_pb2.DescribeRequest) -> Describe:
    """A checked Describe: a valid stream, an instruction, and either keyframe ids of that stream or a range."""
    stream_id = validate_stream_id(request.stream_id)
    instruction = _instruction(request.instruction)
    if request.keyframe_ids:
        if request.start_s or request.end_s:
            raise InvalidArgument("give keyframe_ids or a time range (start_s, end_s), not both")
        ids = _keyframe_ids(stream_id, request.keyframe_ids)
        return Describe(stream_id=stream_id, instruction=instruction, keyframe_ids=ids)
    validate_stream_time_s(request.start_s, "start_s")
    validate_stream_time_s(request.end_s, "end_s")
    if request.end_s <= request.start_s:
        raise InvalidArgument(
            f"the range [{request.start_s}, {request.end_s}) s is empty; give keyframe_ids, "
            "or a time range with end_s after start_s"
        )
    return Describe(stream_id, instruction, start_s=request.start_s, end_s=request.end_s)


def describe_to_pb(command: Describe) -> perception_pb2.DescribeRequest:
    return perception_pb2.DescribeRequest(
        stream_id=command.stream_id,
        keyframe_ids=command.keyframe_ids,
        start_s=command.start_s,
        end_s=command.end_s,
        instruction=command.instruction,
    )


def _instruction(text: str) -> str:
    if len(text) > MAX_INSTRUCTION_CHARS:
        raise InvalidArgument(
            f"instruction is {len(text)} characters long; shorten it to at most {MAX_INSTRUCTION_CHARS}"
        )
    cleaned = "".join(" " if char in "\t\n\r" else char for char in text)
    cleaned = "".join(char for char in cleaned if unicodedata.category(char) not in ("Cc", "Cf", "Cs")).strip()
    if not cleaned:
        raise InvalidArgument('instruction is empty: say what to look for ("read the plate of the red car")')
    return cleaned


def _keyframe_ids(stream_id: str, keyframe_ids: Sequence[str]) -> tuple[str, ...]:
    if len(keyframe_ids) > MAX_DESCRIBE_KEYFRAMES:
        raise InvalidArgument(
            f"{len(keyframe_ids)} keyframe_ids given; pass at most {MAX_DESCRIBE_KEYFRAMES}, or a time range"
        )
    for keyframe_id in keyframe_ids:
        validate_node_id(keyframe_id, "a keyframe_ids entry")
        clip_id, mark, _ = keyframe_id.rpartition("#k")
        if not mark or not clip_id.startswith(f"{stream_id}@"):
            raise InvalidArgument(
                f"keyframe id {quote_prefix(keyframe_id)} is not one of stream {quote_prefix(stream_id)}'s; "
                'pass ids as memory gives them, "<clip_id>#k<i>", of this stream'
            )
    return tuple(dict.fromkeys(keyframe_ids))


def describe_result_from_pb(response: perception_pb2.DescribeResponse) -> DescribeResult:
    return DescribeResult(text=response.text, lines=tuple(response.lines), keyframe_ids=tuple(response.keyframe_ids))
