"""Describe: a question-specific closer look at a stream's stored keyframes (VideoLucy's idea).

The reasoner, at a leaf of its search, names keyframes (or a time range) and an instruction made for the
question; the captioner answers it over those frames, and the text OCR reads on them comes with it.
Keyframes live in memory, so they are read through a KeyframeReader (over gRPC in
perception/memory_reader.py, a fake in tests).
"""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from PIL import Image, UnidentifiedImageError

from longwatch.errors import FailedPrecondition, InvalidArgument, NotFound
from longwatch.types import KeyframeData
from longwatch.validation import validate_node_id, validate_stream_id, validate_stream_range_s
from perception.core.captioners.vlm import spread
from perception.core.text_lines import distinct_lines

logger = logging.getLogger(__name__)

# Keyframes one Describe looks at: a VLM shows at most a few (vlm_max_frames) and OCR reads each one, so
# more would only add seconds. A range with more keyframes is sampled evenly.
MAX_DESCRIBE_KEYFRAMES = 8
MAX_INSTRUCTION_CHARS = 2000  # a prompt, not a document: the VLM's context is a few thousand tokens


@dataclass(frozen=True)
class Description:
    text: str  # the captioner's answer to the instruction (OCR-only backends: the lines read)
    lines: tuple[str, ...]  # on-screen text read on the keyframes, each line once
    keyframe_ids: tuple[str, ...]  # the keyframes looked at, in time order


class KeyframeReader(Protocol):
    async def keyframes(self, keyframe_ids: Sequence[str]) -> list[KeyframeData]:
        """The stored keyframes among `keyframe_ids`; ids memory does not hold are left out."""
        ...

    async def keyframe_ids_in_range(self, stream_id: str, start_s: float, end_s: float, limit: int) -> list[str]:
        """Ids of the keyframes of the stream's clips within [start_s, end_s) (end_s 0 = no upper bound),
        in time order, at most about `limit` of them spread over the range."""
        ...


class DescribeCompute(Protocol):
    """The part of perception.core.compute.Compute that Describe uses."""

    async def describe(self, stream_id: str, images: Sequence[np.ndarray], instruction: str) -> str: ...

    async def read_text(
        self, stream_id: str, images: Sequence[np.ndarray], *, keep_state: bool = True
    ) -> list[tuple[str, ...]]: ...


class Describer:
    def __init__(
        self, compute: DescribeCompute, reader: KeyframeReader, max_keyframes: int = MAX_DESCRIBE_KEYFRAMES
    ) -> None:
        if max_keyframes < 1:
            raise ValueError(f"max_keyframes must be at least 1, got {max_keyframes}")
        self._compute = compute
        self._reader = reader
        self._max_keyframes = max_keyframes

    async def describe(
        self, stream_id: str, keyframe_ids: Sequence[str], start_s: float, end_s: float, instruction: str
    ) -> Description:
        """The captioner's answer to `instruction` over the named keyframes, or, when none are named, over
        keyframes spread over [start_s, end_s) of the stream."""
        validate_stream_id(stream_id)
        instruction = self._checked_instruction(instruction)
        if keyframe_ids:
            keyframes = await self._named(stream_id, keyframe_ids)
        else:
            keyframes = await self._in_range(stream_id, start_s, end_s)
        keyframes = sorted(keyframes, key=lambda keyframe: keyframe.t_s)
        images = await asyncio.to_thread(_decoded, keyframes)
        # Past keyframes must not move the live stream's OCR state (which regions changed since its last read).
        lines = await self._compute.read_text(stream_id, images, keep_state=False)
        text = await self._compute.describe(stream_id, images, instruction)
        logger.info("stream %s: described %d keyframes", stream_id, len(images))
        return Description(
            text=text,
            lines=distinct_lines(line for frame_lines in lines for line in frame_lines),
            keyframe_ids=tuple(keyframe.keyframe_id for keyframe in keyframes),
        )

    @staticmethod
    def _checked_instruction(instruction: str) -> str:
        text = instruction.strip()
        if not text:
            raise InvalidArgument("instruction is empty: say what to look for, e.g. 'read the locker code'")
        if len(text) > MAX_INSTRUCTION_CHARS:
            raise InvalidArgument(
                f"instruction has {len(text)} characters; keep it to {MAX_INSTRUCTION_CHARS} (one question)"
            )
        return text

    async def _named(self, stream_id: str, keyframe_ids: Sequence[str]) -> list[KeyframeData]:
        wanted = tuple(dict.fromkeys(validate_node_id(key, "a keyframe_ids entry") for key in keyframe_ids))
        if len(wanted) > self._max_keyframes:
            raise InvalidArgument(
                f"{len(wanted)} keyframe ids given; Describe looks at most at {self._max_keyframes}: pass fewer"
            )
        found = {keyframe.keyframe_id: keyframe for keyframe in await self._reader.keyframes(wanted)}
        missing = [key for key in wanted if key not in found]
        if missing:
            raise NotFound(f"keyframes not found in memory: {', '.join(missing)}; pass ids from a search or timeline")
        elsewhere = [key for key in wanted if found[key].stream_id != stream_id]
        if elsewhere:
            raise InvalidArgument(
                f"keyframes {', '.join(elsewhere)} are not of stream {stream_id!r}; pass that stream's keyframes"
            )
        return [found[key] for key in wanted]

    async def _in_range(self, stream_id: str, start_s: float, end_s: float) -> list[KeyframeData]:
        validate_stream_range_s(start_s, end_s)
        ids = await self._reader.keyframe_ids_in_range(stream_id, start_s, end_s, self._max_keyframes)
        chosen = spread(list(dict.fromkeys(ids)), self._max_keyframes)
        keyframes = await self._reader.keyframes(chosen) if chosen else []
        if not keyframes:
            upper = f"{end_s} s" if end_s > 0 else "the end"
            raise NotFound(
                f"stream {stream_id!r} has no stored keyframes from {start_s} s to {upper}; widen the range, "
                "or check that perception sends keyframes (keyframes_per_clip > 0)"
            )
        return keyframes


def _decoded(keyframes: Sequence[KeyframeData]) -> list[np.ndarray]:
    """(H, W, 3) uint8 RGB of each JPEG."""
    images = []
    for keyframe in keyframes:
        try:
            with Image.open(io.BytesIO(keyframe.jpeg)) as image:
                images.append(np.asarray(image.convert("RGB")))
        except (UnidentifiedImageError, OSError) as exc:
            raise FailedPrecondition(
                f"keyframe {keyframe.keyframe_id} in memory is not a readable JPEG ({exc}); describe other keyframes"
            ) from None
    return images
