"""PyAV helpers the file and live sources share."""

from __future__ import annotations

import av
import numpy as np

from perception.core.thumbnails import thumbnail_height_px
from perception.core.types import DecodedFrame


def to_rgb(frame: av.VideoFrame, max_side_px: int) -> np.ndarray:
    """(H, W, 3) uint8 RGB, scaled down (by FFmpeg's swscale) so the longer side is at most `max_side_px`."""
    width, height = frame.width, frame.height
    scale = min(1.0, max_side_px / max(width, height))
    if scale == 1.0:
        return frame.to_ndarray(format="rgb24")
    # Even sizes: some pixel formats cannot be converted to odd ones.
    width, height = max(2, round(width * scale / 2) * 2), max(2, round(height * scale / 2) * 2)
    return frame.to_ndarray(format="rgb24", width=width, height=height)


def to_grey_thumbnail(frame: av.VideoFrame, width_px: int) -> np.ndarray:
    """(h, width_px) uint8 grey, area-averaged by swscale straight from the decoder's pixels."""
    height_px = thumbnail_height_px(frame.width, frame.height, width_px)
    return frame.to_ndarray(format="gray8", width=width_px, height=height_px, interpolation="AREA")


def decoded(frame: av.VideoFrame, time_s: float, max_side_px: int, wall_ms: int = 0) -> DecodedFrame:
    """The frame with its conversions deferred until asked for."""
    return DecodedFrame(
        time_s,
        to_rgb=lambda: to_rgb(frame, max_side_px),
        to_grey=lambda width_px: to_grey_thumbnail(frame, width_px),
        wall_ms=wall_ms,
    )


def first_video_stream(container: av.container.InputContainer) -> av.video.stream.VideoStream | None:
    return container.streams.video[0] if container.streams.video else None
