"""Responses the perception server builds from its core types (the SDK reads them with
longwatch.perception_convert)."""

from __future__ import annotations

from longwatch.perception.v1 import perception_pb2
from perception.core.describe import Description
from perception.core.overview import StreamOverview


def overview_response(overview: StreamOverview, include_jpeg: bool) -> perception_pb2.GetOverviewResponse:
    """The overview; the detail frames' JPEG bytes only when asked for (tens of KB each)."""
    slots = [perception_pb2.SynopsisSlot(weight=s.weight, start_s=s.start_s, end_s=s.end_s) for s in overview.slots]
    details = [
        perception_pb2.DetailFrame(
            t_s=d.t_s, slot=d.slot, similarity=d.similarity, jpeg=d.jpeg if include_jpeg else b""
        )
        for d in overview.details
    ]
    return perception_pb2.GetOverviewResponse(
        stream_id=overview.stream_id,
        slots=slots,
        details=details,
        max_slots=overview.max_slots,
        max_details=overview.max_details,
        frames_merged=overview.frames_merged,
    )


def describe_response(description: Description) -> perception_pb2.DescribeResponse:
    return perception_pb2.DescribeResponse(
        text=description.text, lines=description.lines, keyframe_ids=description.keyframe_ids
    )
