"""The encoder and captioner every stream shares, each on its own worker thread, off the event loop,
and a third thread for the keyframes' JPEG encoding.

One thread per model: models are not assumed thread-safe, and on a small CPU two OCR calls at
once finish no sooner than one after the other. Two threads let one stream's OCR run while
another stream's frames are encoded. JPEG encoding has its own thread so that a clip's keyframes
are encoded while it is captioned, and neither waits behind the other.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import numpy as np

from longwatch.types import Keyframe
from perception import metrics
from perception.core.captioners import Captioner
from perception.core.encoders import VisionEncoder
from perception.core.keyframes import KeyframeConfig, encode_keyframes
from perception.core.types import ClipFrame

logger = logging.getLogger(__name__)

T = TypeVar("T")
# A blank frame the size of a typical camera's, for warming the models up.
_WARM_UP_FRAME = np.zeros((360, 640, 3), dtype=np.uint8)


class Compute:
    def __init__(self, encoder: VisionEncoder, captioner: Captioner) -> None:
        self.encoder = encoder
        self.captioner = captioner
        self._encode_thread = ThreadPoolExecutor(1, thread_name_prefix="perception-encode")
        self._caption_thread = ThreadPoolExecutor(1, thread_name_prefix="perception-caption")
        self._keyframe_thread = ThreadPoolExecutor(1, thread_name_prefix="perception-keyframe")

    def warm_up(self) -> None:
        """One call of each model on a blank frame (blocking): the first call allocates and compiles,
        and would otherwise land on the first stream."""
        self.encoder.encode([_WARM_UP_FRAME])
        lines = self.captioner.read_text([_WARM_UP_FRAME])[0]
        self.captioner.caption([_WARM_UP_FRAME], lines)
        encoder, captioner = self.encoder, self.captioner
        logger.info("models warm: encoder %s (%d-d), captioner %s", encoder.name, encoder.dim, captioner.name)

    async def encode(self, stream_id: str, images: Sequence[np.ndarray]) -> np.ndarray:
        """(N, D) float32 L2-normalised features."""
        with metrics.ENCODE_SECONDS.labels(stream_id).time():
            return await self._run(self._encode_thread, self.encoder.encode, images)

    async def read_text(self, stream_id: str, images: Sequence[np.ndarray]) -> list[tuple[str, ...]]:
        with metrics.OCR_SECONDS.labels(stream_id).time():
            return await self._run(self._caption_thread, self.captioner.read_text, images)

    async def caption(self, stream_id: str, images: Sequence[np.ndarray], lines: Sequence[str]) -> str:
        with metrics.CAPTION_SECONDS.labels(stream_id).time():
            return await self._run(self._caption_thread, self.captioner.caption, images, lines)

    async def encode_keyframes(
        self, stream_id: str, frames: Sequence[ClipFrame], config: KeyframeConfig
    ) -> tuple[Keyframe, ...]:
        """The frames as JPEG keyframes, scaled down to `config.max_side_px`."""
        if not frames:
            return ()
        with metrics.KEYFRAME_SECONDS.labels(stream_id).time():
            keyframes = await self._run(self._keyframe_thread, encode_keyframes, frames, config)
        metrics.KEYFRAME_BYTES.labels(stream_id).inc(sum(len(keyframe.jpeg) for keyframe in keyframes))
        return keyframes

    def close(self) -> None:
        self._encode_thread.shutdown(wait=True, cancel_futures=True)
        self._caption_thread.shutdown(wait=True, cancel_futures=True)
        self._keyframe_thread.shutdown(wait=True, cancel_futures=True)

    @staticmethod
    async def _run(thread: ThreadPoolExecutor, function: Callable[..., T], *args: object) -> T:
        return await asyncio.get_running_loop().run_in_executor(thread, function, *args)
