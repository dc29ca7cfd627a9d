"""Keyframe-first decoding of video files with PyAV: a static camera costs its keyframes only.

Packets are demuxed once. Each keyframe is decoded on its own (a second codec context that skips
non-key frames); the packets of the group of pictures (GOP) that follows it are kept, compressed, in
memory. When the next keyframe arrives, the two keyframes' grey thumbnails are compared with the
frame cache's test of "the same" (`thumbnails.changed_fraction`):
  - they differ: the kept packets are decoded fully, and every frame of the GOP is yielded;
  - they are the same: the GOP's frame times (from its packets' timestamps) are yielded carrying
    the earlier keyframe's image, only those on the sampler's time grid when the sample rate is
    known, so the sampler keeps the same times as with full decoding and the frame cache reuses them.
The last GOP of a file has no next keyframe to compare with and is always decoded fully.

A GOP is decoded fully as it streams (no comparison) when its keyframes lie further apart than
`max_keyframe_interval_s` or its packets pass `max_gop_bytes`; in "auto" mode that sends the rest of
the file to full decoding (a recording with sparse keyframes has them so throughout). Packets with no
timestamps, or an open GOP (a frame coded after a keyframe but shown before it), send the rest of the
file to full decoding in every mode: their times cannot be known without decoding.

Limit: something that appears and disappears entirely between two identical keyframes (inside one
GOP, e.g. under 2 s for a keyframe every 2 s) is not seen. A change that stays is found at the
sample rate, because its GOP is decoded fully.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import av
import numpy as np

from perception.core.sources.av_frames import decoded, to_grey_thumbnail, to_rgb
from perception.core.thumbnails import changed_fraction
from perception.core.types import DecodedFrame

logger = logging.getLogger(__name__)

# The sampler's own tolerance (sampler._TIME_EPSILON_S): frame times are exact fractions made floats.
_TIME_EPSILON_S = 1e-6


@dataclass(frozen=True)
class KeyframeFirstConfig:
    max_frame_side_px: int = 1280
    sample_fps: float = 0.0  # the sampler's rate; 0 = unknown: yield every frame time of a static GOP
    thumbnail_width_px: int = 64  # width of the grey thumbnails the keyframes are compared by
    pixel_change_levels: int = 12  # grey levels a thumbnail pixel must move to count as changed
    max_changed_fraction: float = 0.001  # at most this fraction changed: two keyframes are "the same"
    max_keyframe_interval_s: float = 4.0  # a longer GOP is decoded fully (an event could hide in it)
    max_gop_bytes: int = 64 << 20  # compressed bytes of one GOP kept in memory; a bigger one decodes fully
    is_auto: bool = True  # a GOP too long or too big sends the rest of the file to full decoding


@dataclass
class DecodeStats:
    """What decoding a file cost; read by tests and benchmarks (plain counters, one writer thread)."""

    frames_decoded: int = 0  # frames out of a decoder, keyframes included (decord: frames fetched)
    keyframes_decoded: int = 0  # frames out of the keyframe-only decoder
    gops: int = 0  # GOPs seen (in keyframes-first decoding)
    gops_decoded_fully: int = 0  # of those, decoded frame by frame
    frames_yielded: int = 0
    fallback: str = ""  # why the rest of the file went to full decoding; "" when it did not
    decoder: str = ""  # which decoding ran: "keyframes-first", "full", "decord"
    last_time_s: float = field(default=-1.0)  # time of the last frame yielded


class FullDecodingNeeded(Exception):
    """Raised before any frame is yielded when the file cannot be decoded keyframes first (its packets carry
    no timestamps, as in a raw H.264 stream): the caller decodes it fully from the start instead."""


class SampleGrid:
    """The sampler's due times (Sampler.offer's grid rule), so a source yields only frames it could keep
    of a static stretch. Every frame time must pass through `wants`, in order, for it to stay in step."""

    def __init__(self, sample_fps: float) -> None:
        self._period_s = 1.0 / sample_fps if sample_fps > 0 else 0.0
        self._next_due_s: float | None = None

    def wants(self, time_s: float) -> bool:
        """True when the sampler would keep a frame at `time_s` by the grid (always, with no rate)."""
        if not self._period_s:
            return True
        if self._next_due_s is not None and time_s + _TIME_EPSILON_S < self._next_due_s:
            return False
        due_s = self._period_s + (time_s if self._next_due_s is None else self._next_due_s)
        self._next_due_s = due_s if due_s > time_s else time_s + self._period_s
        return True


class _Still:
    """One decoded keyframe shown for a whole GOP: its conversions run once, whatever the number of copies."""

    def __init__(self, frame: av.VideoFrame, max_side_px: int) -> None:
        self._frame = frame
        self._max_side_px = max_side_px
        self._rgb: np.ndarray | None = None
        self._greys: dict[int, np.ndarray] = {}

    def rgb(self) -> np.ndarray:
        if self._rgb is None:
            self._rgb = to_rgb(self._frame, self._max_side_px)  # (H, W, 3) uint8
        return self._rgb

    def grey(self, width_px: int) -> np.ndarray:
        if width_px not in self._greys:
            self._greys[width_px] = to_grey_thumbnail(self._frame, width_px)  # (h, width_px) uint8
        return self._greys[width_px]

    def at(self, time_s: float) -> DecodedFrame:
        return DecodedFrame(time_s, to_rgb=self.rgb, to_grey=self.grey)


@dataclass
class _Gop:
    """A keyframe and the packets after it, up to the next keyframe, in decode order."""

    start_s: float
    still: _Still | None  # None when the keyframe decoder showed nothing: the GOP is decoded fully
    packets: list[av.Packet]
    times_s: list[float]  # presentation times of its frames, keyframe included
    size_bytes: int
    is_streaming: bool = False  # decoded fully as its packets come


def _new_decoder(stream: av.video.stream.VideoStream, skip_nonkey: bool) -> av.CodecContext:
    """A codec context of its own, so keyframe and full decoding never share reference frames."""
    context = av.CodecContext.create(stream.codec_context.codec.name, "r")
    context.extradata = stream.codec_context.extradata
    if skip_nonkey:
        context.skip_frame = "NONKEY"
    else:
        context.thread_type = "AUTO"  # frame threads: a fully decoded GOP keeps up with the encoder
    return context


class KeyframeFirstDecoder:
    """Decodes one opened video stream keyframes first; `frames` may be iterated once."""

    def __init__(self, stream: av.video.stream.VideoStream, config: KeyframeFirstConfig, stats: DecodeStats) -> None:
        self._stream = stream
        self._config = config
        self._stats = stats
        self._time_base = stream.time_base
        self._origin_s = float(stream.start_time * stream.time_base) if stream.start_time is not None else 0.0
        self._keys = _new_decoder(stream, skip_nonkey=True)
        self._full = _new_decoder(stream, skip_nonkey=False)
        self._grid = SampleGrid(config.sample_fps)
        self._frame_s = 1.0 / float(stream.average_rate) if stream.average_rate else 1.0 / 25  # FFmpeg's default
        self._emitted_s = -1.0  # frames before this time were yielded already
        self._is_full_rest = False

    def frames(self, packets: Iterable[av.Packet], stop: threading.Event) -> Iterator[DecodedFrame]:
        self._stats.decoder = "keyframes-first"
        gop: _Gop | None = None
        for packet in packets:
            if stop.is_set():
                return
            if packet.size == 0:  # the demuxer's end-of-stream marker
                continue
            if packet.pts is None and not self._stats.frames_yielded and not self._is_full_rest:
                raise FullDecodingNeeded("packets without timestamps")
            if self._is_full_rest:
                yield from self._decode_full([packet])
            elif packet.is_keyframe and packet.pts is not None:
                still = self._decode_keyframe(packet)
                if gop is not None:
                    yield from self._close(gop, still)
                gop = self._open(packet, still)
                if still is None:  # a keyframe the keyframe decoder could not show: decode its GOP fully
                    yield from self._stream_fully(gop)
            elif gop is not None:  # frames before the first keyframe cannot be decoded: skipped
                yield from self._add(gop, packet)
        if gop is not None and not self._is_full_rest:
            yield from self._close(gop, None)
        yield from self._drain_full()

    def _open(self, packet: av.Packet, still: _Still | None) -> _Gop:
        start_s = self._time_s(packet.pts)
        self._stats.gops += 1
        return _Gop(start_s, still, [packet], [start_s], packet.size)

    def _add(self, gop: _Gop, packet: av.Packet) -> Iterator[DecodedFrame]:
        if packet.pts is None or self._time_s(packet.pts) + _TIME_EPSILON_S < gop.start_s:
            why = "packets without timestamps" if packet.pts is None else "an open GOP (frames before their keyframe)"
            yield from self._fall_back(gop, why)
            yield from self._decode_full([packet])
            return
        if gop.is_streaming:
            yield from self._decode_full([packet])
            return
        time_s = self._time_s(packet.pts)
        gop.times_s.append(time_s)
        gop.size_bytes += packet.size
        gop.packets.append(packet)
        is_long = time_s - gop.start_s > self._config.max_keyframe_interval_s
        if is_long or gop.size_bytes > self._config.max_gop_bytes:
            why = (
                f"keyframes more than {self._config.max_keyframe_interval_s:g} s apart"
                if is_long
                else f"a GOP over {self._config.max_gop_bytes} bytes"
            )
            if self._config.is_auto:
                yield from self._fall_back(gop, why)
            else:
                yield from self._stream_fully(gop)

    def _stream_fully(self, gop: _Gop) -> Iterator[DecodedFrame]:
        """From now on this GOP's packets go straight to the full decoder; the kept ones first."""
        gop.is_streaming = True
        self._stats.gops_decoded_fully += 1
        packets, gop.packets = gop.packets, []
        yield from self._decode_full(packets)

    def _fall_back(self, gop: _Gop, why: str) -> Iterator[DecodedFrame]:
        logger.info("keyframes-first decoding of %s gives way to full decoding: %s", self._stream.container.name, why)
        self._stats.fallback = why
        self._is_full_rest = True
        if not gop.is_streaming:
            yield from self._stream_fully(gop)

    def _close(self, gop: _Gop, next_still: _Still | None) -> Iterator[DecodedFrame]:
        """Yields the GOP: decoded fully when it changed (or is the last), else as copies of its keyframe."""
        if gop.is_streaming:
            yield from self._drain_full()
        elif gop.still is not None and len(gop.packets) == 1:  # only its keyframe (intra-only): all decoded
            yield from self._emit(gop.still.at(gop.start_s))
        elif gop.still is None or next_still is None or self._differ(gop.still, next_still):
            yield from self._stream_fully(gop)
            yield from self._drain_full()
        else:
            for time_s in sorted(gop.times_s):
                if self._grid.wants(time_s) and time_s + _TIME_EPSILON_S >= self._emitted_s:
                    yield self._count(gop.still.at(time_s))

    def _differ(self, a: _Still, b: _Still) -> bool:
        width_px = self._config.thumbnail_width_px
        changed = changed_fraction(a.grey(width_px), b.grey(width_px), self._config.pixel_change_levels)
        return changed > self._config.max_changed_fraction

    def _decode_keyframe(self, packet: av.Packet) -> _Still | None:
        """The keyframe's picture: sent alone, then drained, so no later packet is needed to see it."""
        frames = self._keys.decode(packet) or self._keys.decode(None)
        self._keys.flush_buffers()
        if not frames:
            return None
        self._stats.frames_decoded += len(frames)
        self._stats.keyframes_decoded += len(frames)
        return _Still(frames[-1], self._config.max_frame_side_px)

    def _decode_full(self, packets: Iterable[av.Packet]) -> Iterator[DecodedFrame]:
        for packet in packets:
            yield from self._emit_decoded(self._full.decode(packet))

    def _drain_full(self) -> Iterator[DecodedFrame]:
        """The frames the full decoder still holds (B-frame reordering, frame threads); then a clean state."""
        yield from self._emit_decoded(self._full.decode(None))
        self._full.flush_buffers()

    def _emit_decoded(self, frames: list[av.VideoFrame]) -> Iterator[DecodedFrame]:
        self._stats.frames_decoded += len(frames)
        for frame in frames:
            # A frame without a timestamp (its packets lost theirs part way) comes a frame period after the last.
            time_s = self._time_s(frame.pts) if frame.pts is not None else self._stats.last_time_s + self._frame_s
            yield from self._emit(decoded(frame, time_s, self._config.max_frame_side_px))

    def _emit(self, frame: DecodedFrame) -> Iterator[DecodedFrame]:
        # A frame before what was yielded already belongs to an earlier GOP (an open GOP's leading frames).
        if frame.time_s + _TIME_EPSILON_S < self._emitted_s:
            return
        self._grid.wants(frame.time_s)  # decoded frames all go on: the sampler may keep one for a scene change
        yield self._count(frame)

    def _count(self, frame: DecodedFrame) -> DecodedFrame:
        self._emitted_s = frame.time_s + _TIME_EPSILON_S
        self._stats.frames_yielded += 1
        self._stats.last_time_s = frame.time_s
        return frame

    def _time_s(self, pts: int) -> float:
        return max(0.0, float(pts * self._time_base) - self._origin_s)
