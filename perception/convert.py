"""Perception request parsing and response building; the StreamStatus conversion is in longwatch.convert."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from longwatch import convert
from longwatch.perception.v1 import perception_pb2
from longwatch.types import StreamStatus


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
