"""One stream's path from a sampled frame to a ClipRecord: frame cache → encoder → clip assembler → captioner,
and the clip's keyframes."""

from __future__ import annotations

import asyncio

import numpy as np

from longwatch.types import ClipRecord
from perception.core.clip_assembler import ClipAssembler
from perception.core.compute import Compute
from perception.core.encoders.base import l2_normalise
from perception.core.frame_cache import FrameCache
from perception.core.keyframes import KeyframeConfig, choose_keyframes
from perception.core.text_lines import distinct_lines
from perception.core.types import ClipDraft, ClipFrame, EncodedFrame, SampledFrame


class FramePipeline:
    """Per-stream state (the frame cache, the open clip) around the shared models in `Compute`."""

    def __init__(
        self,
        stream_id: str,
        source_key: str,
        compute: Compute,
        cache: FrameCache,
        assembler: ClipAssembler,
        keyframes: KeyframeConfig | None = None,
    ) -> None:
        self._stream_id = stream_id
        self._source_key = source_key
        self._compute = compute
        self._cache = cache
        self._assembler = assembler
        self._keyframes = keyframes or KeyframeConfig()

    async def add(self, sampled: SampledFrame) -> tuple[ClipFrame, ClipDraft | None]:
        """Encodes the frame (or reuses the cached features); returns it and the clip it closed, if any."""
        frame = await self._clip_frame(sampled)
        return frame, self._assembler.add(frame)

    def flush(self) -> ClipDraft | None:
        """Closes the open clip (end of stream, stop)."""
        return self._assembler.flush()

    def release(self) -> None:
        """Lets go of the cached frame and of an open clip's frames (full images): a final stream stays
        listed until removed, and a process that ingests many files must not keep images per file."""
        self._cache.clear()
        self._assembler.clear()

    async def describe(self, draft: ClipDraft) -> ClipRecord:
        """Reads the text of frames not read yet, captions the clip, pools its features and encodes its
        keyframes (on their own thread, while the clip is captioned)."""
        mean_feature = _mean_feature(draft)  # (D,)
        chosen = choose_keyframes(draft, mean_feature, self._keyframes.count)
        encoding = asyncio.create_task(self._compute.encode_keyframes(self._stream_id, chosen, self._keyframes))
        try:
            caption, lines = await self._caption(draft)
        except BaseException:
            encoding.cancel()  # not a TaskGroup: the caption's own error, not a group of one, ends the stream
            raise
        keyframes = await encoding
        return ClipRecord(
            stream_id=self._stream_id,
            start_s=draft.start_s,
            end_s=draft.end_s,
            caption=caption,
            ocr_lines=lines,
            visual_embedding=tuple(float(value) for value in mean_feature),
            frame_count=len(draft.frames),
            start_wall_ms=draft.start_wall_ms,
            source_key=self._source_key,
            keyframes=keyframes,
        )

    async def _caption(self, draft: ClipDraft) -> tuple[str, tuple[str, ...]]:
        """The clip's caption and on-screen text, reading the text of frames not read yet."""
        distinct = draft.distinct_encoded()
        unread = [encoded for encoded in distinct if encoded.lines is None]
        if unread:
            read = await self._compute.read_text(self._stream_id, [encoded.image for encoded in unread])
            for encoded, lines in zip(unread, read, strict=True):
                encoded.lines = lines
        lines = distinct_lines(line for encoded in distinct for line in encoded.lines or ())
        caption = await self._compute.caption(self._stream_id, [encoded.image for encoded in distinct], lines)
        return caption, lines

    async def _clip_frame(self, sampled: SampledFrame) -> ClipFrame:
        encoded = self._cache.lookup(sampled.thumbnail)
        is_reused = encoded is not None
        if encoded is None:
            image = sampled.frame.image
            features = (await self._compute.encode(self._stream_id, [image]))[0]  # (D,)
            encoded = EncodedFrame(image=image, thumbnail=sampled.thumbnail, features=features)
            self._cache.store(encoded)
        return ClipFrame(
            time_s=sampled.frame.time_s,
            wall_ms=sampled.frame.wall_ms,
            encoded=encoded,
            is_scene_change=sampled.is_scene_change,
            is_reused=is_reused,
        )


def _mean_feature(draft: ClipDraft) -> np.ndarray:
    """(D,) mean of the clip's frame features (a reused frame counts once per frame), L2-normalised."""
    features = np.stack([frame.encoded.features for frame in draft.frames])  # (T, D)
    return l2_normalise(features.mean(axis=0, keepdims=True))[0]
