"""One stream's path from a sampled frame to a ClipRecord: frame cache → encoder (and token merging) →
Flash Memory → clip assembler → captioner, and the clip's keyframes.

Keyframes sent with a clip: the clip's own (`KeyframeConfig.count`, chosen when it closes) and the frames
the detail memory chose while the clip was open (JPEG-encoded when chosen, for the overview), each image once,
at most MAX_KEYFRAMES_PER_CLIP. With `count` 0 no keyframe is sent at all (the detail memory still keeps
its JPEGs for the overview).
"""

from __future__ import annotations

import asyncio
import logging

import numpy as np

from longwatch.types import ClipRecord, Keyframe
from perception.core.clip_assembler import ClipAssembler
from perception.core.compute import Compute
from perception.core.encoders.base import l2_normalise
from perception.core.flash_memory import Detail, FlashMemory
from perception.core.frame_cache import FrameCache
from perception.core.keyframes import KeyframeConfig, choose_keyframes, with_detail_keyframes
from perception.core.text_lines import distinct_lines
from perception.core.token_merge import merge_tokens
from perception.core.types import ClipDraft, ClipFrame, EncodedFrame, SampledFrame

logger = logging.getLogger(__name__)

# Tokens per frame when the pipeline is built without a budget (the settings' default).
DEFAULT_TOKENS_PER_FRAME = 16


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
        flash: FlashMemory | None = None,
        tokens_per_frame: int = DEFAULT_TOKENS_PER_FRAME,
    ) -> None:
        self._stream_id = stream_id
        self._source_key = source_key
        self._compute = compute
        self._cache = cache
        self._assembler = assembler
        self._keyframes = keyframes or KeyframeConfig()
        self._flash = flash
        self._tokens_per_frame = tokens_per_frame
        # Detail frames chosen while their clip is open, with the task encoding their JPEG.
        self._details: list[tuple[ClipFrame, asyncio.Task[Keyframe | None]]] = []

    async def add(self, sampled: SampledFrame) -> tuple[ClipFrame, ClipDraft | None]:
        """Encodes the frame (or reuses the cached features), takes it into the Flash Memory; returns it
        and the clip it closed, if any."""
        frame = await self._clip_frame(sampled)
        if self._flash is not None:
            detail = self._flash.add(frame.encoded.features, frame.time_s, frame.encoded.tokens)
            if detail is not None:
                self._details.append((frame, asyncio.create_task(self._encode_detail(frame, detail))))
        return frame, self._assembler.add(frame)

    def flush(self) -> ClipDraft | None:
        """Closes the open clip (end of stream, stop)."""
        return self._assembler.flush()

    def release(self) -> None:
        """Lets go of the cached frame and of an open clip's frames (full images): a final stream stays
        listed until removed, and a process that ingests many files must not keep images per file."""
        self._cache.clear()
        self._assembler.clear()
        for _, task in self._details:
            task.cancel()  # each holds its frame's image
        self._details = []

    async def describe(self, draft: ClipDraft) -> ClipRecord:
        """Reads the text of frames not read yet, captions the clip, pools its features and encodes its
        keyframes (on their own thread, while the clip is captioned)."""
        mean_feature = _mean_feature(draft)  # (D,)
        details = self._take_details(draft)
        detail_images = {id(frame.encoded) for frame, _ in details}
        chosen = [
            frame
            for frame in choose_keyframes(draft, mean_feature, self._keyframes.count)
            if id(frame.encoded) not in detail_images  # its JPEG is being made already
        ]
        encoding = asyncio.create_task(self._compute.encode_keyframes(self._stream_id, chosen, self._keyframes))
        try:
            caption, lines = await self._caption(draft)
        except BaseException:
            encoding.cancel()  # not a TaskGroup: the caption's own error, not a group of one, ends the stream
            for _, task in details:
                task.cancel()
            raise
        own = await encoding
        detail_keyframes = [(frame, await task) for frame, task in details]
        # keyframes_per_clip 0 means no JPEG goes to memory; the detail memory keeps its own for the overview.
        keyframes = with_detail_keyframes(draft, own, detail_keyframes) if self._keyframes.count else ()
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

    def _take_details(self, draft: ClipDraft) -> list[tuple[ClipFrame, asyncio.Task[Keyframe | None]]]:
        """The detail frames chosen among the clip's frames; the later ones stay for the next clip."""
        in_clip = {id(frame) for frame in draft.frames}
        taken = [pair for pair in self._details if id(pair[0]) in in_clip]
        self._details = [pair for pair in self._details if id(pair[0]) not in in_clip]
        return taken

    async def _encode_detail(self, frame: ClipFrame, detail: Detail) -> Keyframe | None:
        """The detail frame's JPEG, made on the keyframe thread when it is chosen, for the Flash Memory and
        for its clip."""
        encoded = await self._compute.encode_keyframes(self._stream_id, [frame], self._keyframes)
        jpeg = encoded[0].jpeg if encoded else None
        if self._flash is not None:
            self._flash.attach_jpeg(detail, jpeg)
        return encoded[0] if encoded else None

    async def _clip_frame(self, sampled: SampledFrame) -> ClipFrame:
        encoded = self._cache.lookup(sampled.thumbnail)
        is_reused = encoded is not None
        if encoded is None:
            encoded = await self._encode(sampled)
            self._cache.store(encoded)
        return ClipFrame(
            time_s=sampled.frame.time_s,
            wall_ms=sampled.frame.wall_ms,
            encoded=encoded,
            is_scene_change=sampled.is_scene_change,
            is_reused=is_reused,
        )

    async def _encode(self, sampled: SampledFrame) -> EncodedFrame:
        """Encodes the frame; its patch tokens, if the encoder makes any, are merged to the budget off the loop."""
        image = sampled.frame.image
        features, patches = await self._compute.encode_with_patches(self._stream_id, [image])  # (1, D), (1, P, C)
        encoded = EncodedFrame(image=image, thumbnail=sampled.thumbnail, features=features[0])
        if patches is not None:
            encoded.patches = patches[0]  # (P, C)
            budget = self._tokens_per_frame
            if encoded.patches.shape[0] <= budget:  # nothing to merge: a check and a copy, microseconds
                encoded.tokens = merge_tokens(encoded.patches, budget)
            else:  # milliseconds (9 ms for 196 tokens of 768): off the event loop
                encoded.tokens = await asyncio.to_thread(merge_tokens, encoded.patches, budget)
        return encoded


def _mean_feature(draft: ClipDraft) -> np.ndarray:
    """(D,) mean of the clip's frame features (a reused frame counts once per frame), L2-normalised."""
    features = np.stack([frame.encoded.features for frame in draft.frames])  # (T, D)
    return l2_normalise(features.mean(axis=0, keepdims=True))[0]
