"""Keyframes: the few frames of a clip memory keeps as JPEG, for the reasoner's closer look and for people.

Which frames: with one, the frame nearest the clip's mean visual feature (the most representative);
with more, frames spread over the clip; and the frames the Flash Memory's detail memory chose while the
clip was open (perception.core.flash_memory), each image once. Choosing reads only the features the clip
already holds, O(frames x D) per clip; encoding is one downscale and one JPEG per keyframe, done once per clip.
Storage: at one clip every ~4 s a stream must stay under 50 MB per hour, so the defaults (480 px,
quality 75) give 20-40 KB keyframes.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
from PIL import Image

from longwatch.types import Keyframe
from perception.core.types import ClipDraft, ClipFrame

logger = logging.getLogger(__name__)

# Memory's default limits (memory_service settings max_keyframes_per_clip, max_keyframe_bytes): a clip
# over them is refused, and the stream fails with it.
MAX_KEYFRAMES_PER_CLIP = 8
MAX_KEYFRAME_BYTES = 2 * 1024 * 1024
# A JPEG over MAX_KEYFRAME_BYTES (only with large sides, high quality and noisy pixels) is redone at half
# the side, at most this many times; a quarter of the side is a sixteenth of the bytes.
_SHRINK_TRIES = 3
# Similarities to the mean closer than this are ties (float rounding; frames reusing the same features).
_TIE_EPSILON = 1e-6


@dataclass(frozen=True)
class KeyframeConfig:
    count: int = 1  # keyframes per clip; 0 = none
    max_side_px: int = 480  # longest side of a keyframe; smaller frames are kept as they are
    jpeg_quality: int = 75  # Pillow's JPEG quality, 1-95


def choose_keyframes(draft: ClipDraft, mean_feature: np.ndarray, count: int) -> list[ClipFrame]:
    """Up to `count` frames of the clip, in time order, each showing a different encoded image.

    Frames that reuse one cached image count once (their JPEGs would be the same), and the image is
    given the time of the clip's first frame to use it: the image was taken then (or, carried over
    from the clip before, just before, and the cache found nothing changed since).
    `mean_feature` is the clip's (D,) L2-normalised mean feature.
    """
    if count <= 0:
        return []
    if count == 1:
        return [_first_use(draft, _most_representative(draft, mean_feature))]
    distinct = _distinct_frames(draft)
    if len(distinct) <= count:
        return distinct
    # The middle of each of `count` equal stretches of the distinct frames.
    return [distinct[int((index + 0.5) * len(distinct) / count)] for index in range(count)]


def with_detail_keyframes(
    draft: ClipDraft, own: Sequence[Keyframe], details: Sequence[tuple[ClipFrame, Keyframe | None]]
) -> tuple[Keyframe, ...]:
    """The clip's own keyframes, then the detail memory's frames of the clip (its frame and its JPEG, None if
    too large), in time order, each image once and at most MAX_KEYFRAMES_PER_CLIP in all.

    A detail frame is given the time the clip first used its image, like the clip's own keyframes, so an
    image both chose (or two details reusing one cached image) is sent once.
    """
    by_time: dict[float, Keyframe] = {keyframe.t_s: keyframe for keyframe in own}
    timed = sorted(
        (replace(keyframe, t_s=_first_use(draft, frame).time_s) for frame, keyframe in details if keyframe is not None),
        key=lambda keyframe: keyframe.t_s,
    )
    for keyframe in timed:
        if len(by_time) >= MAX_KEYFRAMES_PER_CLIP:
            break
        by_time.setdefault(keyframe.t_s, keyframe)
    return tuple(sorted(by_time.values(), key=lambda keyframe: keyframe.t_s))


def encode_keyframes(frames: Sequence[ClipFrame], config: KeyframeConfig) -> tuple[Keyframe, ...]:
    """The frames as JPEG keyframes (blocking: ~1-3 ms a frame at 480 px); one too large to store is left out."""
    keyframes = []
    for frame in frames:
        jpeg = encode_jpeg(frame.encoded.image, config.max_side_px, config.jpeg_quality)
        if jpeg is None:
            logger.warning("keyframe at %.3f s left out: its JPEG is over %d bytes", frame.time_s, MAX_KEYFRAME_BYTES)
            continue
        keyframes.append(Keyframe(t_s=frame.time_s, jpeg=jpeg))
    return tuple(keyframes)


def encode_jpeg(image: np.ndarray, max_side_px: int, quality: int) -> bytes | None:
    """(H, W, 3) uint8 RGB -> JPEG bytes, scaled down (never up) so its longest side is at most
    `max_side_px`; None if even a smaller copy is over MAX_KEYFRAME_BYTES."""
    picture = Image.fromarray(image)
    side_px = max_side_px
    for _ in range(_SHRINK_TRIES + 1):
        jpeg = _jpeg_bytes(_fit(picture, side_px), quality)
        if len(jpeg) <= MAX_KEYFRAME_BYTES:
            return jpeg
        side_px = max(1, min(side_px, max(picture.size)) // 2)
    return None


def _fit(picture: Image.Image, max_side_px: int) -> Image.Image:
    width, height = picture.size
    longest = max(width, height)
    if longest <= max_side_px:
        return picture
    size = (max(1, round(width * max_side_px / longest)), max(1, round(height * max_side_px / longest)))
    # reducing_gap: a box pre-shrink then Lanczos; as sharp as Lanczos alone for a fraction of its cost.
    return picture.resize(size, Image.Resampling.LANCZOS, reducing_gap=2.0)


def _jpeg_bytes(picture: Image.Image, quality: int) -> bytes:
    buffer = io.BytesIO()
    # optimize: Huffman tables fitted to the image, a few per cent smaller for the same pixels.
    picture.save(buffer, format="JPEG", quality=quality, optimize=True)
    return buffer.getvalue()


def _most_representative(draft: ClipDraft, mean_feature: np.ndarray) -> ClipFrame:
    """The frame nearest the mean feature; among ties (a static clip), or when features are not finite,
    the one nearest the middle of the clip."""
    frames = draft.frames
    middle = (len(frames) - 1) / 2
    features = np.stack([frame.encoded.features for frame in frames])  # (T, D)
    similarity = features @ mean_feature  # (T,) cosine: both are L2-normalised
    if not np.all(np.isfinite(similarity)):
        return frames[round(middle)]
    best = float(similarity.max())
    ties = np.flatnonzero(similarity >= best - _TIE_EPSILON)
    return frames[int(min(ties, key=lambda index: abs(index - middle)))]


def _distinct_frames(draft: ClipDraft) -> list[ClipFrame]:
    """The first frame of the clip to use each encoded image, in time order."""
    seen: dict[int, ClipFrame] = {}
    for frame in draft.frames:
        seen.setdefault(id(frame.encoded), frame)
    return list(seen.values())


def _first_use(draft: ClipDraft, chosen: ClipFrame) -> ClipFrame:
    """The clip's first frame showing `chosen`'s image (the frame cache only reuses the last encoded frame,
    so every frame sharing an image follows it in one run)."""
    return next(frame for frame in draft.frames if frame.encoded is chosen.encoded)
