"""Prometheus metrics of the perception service, named with their units; stages are timed with `.time()`.

Per-stream series carry a `stream_id` label and are removed with `forget_stream` when a stream
is removed, so the label set does not grow forever.
"""

from __future__ import annotations

import contextlib

from prometheus_client import Counter, Gauge, Histogram

_STREAM = ("stream_id",)
# An encoder call takes from ~0.1 ms (pixel statistics) to a second (a large model on a CPU).
_STAGE_BUCKETS_S = (0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

FRAMES_SEEN = Counter("perception_frames_seen_total", "Frames decoded from the source", _STREAM)
FRAMES_ENCODED = Counter("perception_frames_encoded_total", "Sampled frames that went through the encoder", _STREAM)
FRAMES_REUSED = Counter(
    "perception_frames_reused_total", "Sampled frames whose features came from the frame cache", _STREAM
)
FRAMES_DROPPED = Counter(
    "perception_frames_dropped_total", "Sampled frames dropped by a full queue (live sources)", _STREAM
)
CLIPS_WRITTEN = Counter("perception_clips_written_total", "Clips acknowledged by the memory service", _STREAM)
DECODER_RESTARTS = Counter(
    "perception_decoder_restarts_total", "Live decoders restarted by the watchdog after a stall", _STREAM
)
LAG_SECONDS = Gauge(
    "perception_lag_seconds", "Stream time between the last decoded frame and the last clip written", _STREAM
)

ENCODE_SECONDS = Histogram("perception_encode_seconds", "Seconds per encoder call", _STREAM, buckets=_STAGE_BUCKETS_S)
# One encoder call takes the pending frames of every stream (up to the encoder's batch size); 1 = no batching.
ENCODE_BATCH_FRAMES = Histogram(
    "perception_encode_batch_frames",
    "Frames per encoder forward pass, from all streams together",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256),
)
DESCRIBE_SECONDS = Histogram(
    "perception_describe_seconds", "Seconds per Describe look at keyframes", _STREAM, buckets=_STAGE_BUCKETS_S
)
OCR_SECONDS = Histogram(
    "perception_read_text_seconds", "Seconds per on-screen text reading call", _STREAM, buckets=_STAGE_BUCKETS_S
)
CAPTION_SECONDS = Histogram("perception_caption_seconds", "Seconds per clip caption", _STREAM, buckets=_STAGE_BUCKETS_S)
KEYFRAME_SECONDS = Histogram(
    "perception_keyframe_encode_seconds",
    "Seconds to encode one clip's keyframes as JPEG",
    _STREAM,
    buckets=_STAGE_BUCKETS_S,
)
KEYFRAME_BYTES = Counter("perception_keyframe_bytes_total", "JPEG bytes of the keyframes sent with clips", _STREAM)
FLASH_SLOTS = Gauge("perception_flash_slots", "Synopsis slots in use in the stream's Flash Memory", _STREAM)
FLASH_DETAIL_FRAMES = Gauge(
    "perception_flash_detail_frames", "Detail keyframes held in the stream's Flash Memory", _STREAM
)
FLASH_SLOT_MERGES = Counter(
    "perception_flash_slot_merges_total", "Synopsis slot pairs merged to give a new frame its own slot", _STREAM
)
PUSHED_FRAMES = Counter("perception_pushed_frames_total", "Frames clients pushed that the stream took in", _STREAM)
PUSH_WAIT_SECONDS = Counter(
    "perception_push_wait_seconds_total", "Seconds pushing clients waited for room in a full queue", _STREAM
)

MEMORY_RETRIES = Counter("perception_memory_retries_total", "Reconnects of the clip stream to the memory service")
MEMORY_UNACKED_CLIPS = Gauge("perception_memory_unacked_clips", "Clips sent to memory and not yet acknowledged")
MEMORY_REJECTED_CLIPS = Counter("perception_memory_rejected_clips_total", "Clips the memory service refused")

_PER_STREAM = (
    FRAMES_SEEN,
    FRAMES_ENCODED,
    FRAMES_REUSED,
    FRAMES_DROPPED,
    CLIPS_WRITTEN,
    DECODER_RESTARTS,
    LAG_SECONDS,
    ENCODE_SECONDS,
    DESCRIBE_SECONDS,
    OCR_SECONDS,
    CAPTION_SECONDS,
    KEYFRAME_SECONDS,
    KEYFRAME_BYTES,
    FLASH_SLOTS,
    FLASH_DETAIL_FRAMES,
    FLASH_SLOT_MERGES,
    PUSHED_FRAMES,
    PUSH_WAIT_SECONDS,
)


def forget_stream(stream_id: str) -> None:
    """Drops a removed stream's series."""
    for metric in _PER_STREAM:
        with contextlib.suppress(KeyError):  # the stream never reached this stage
            metric.remove(stream_id)
