"""The encoder and captioner every stream shares, each on its own worker thread, off the event loop.

One thread per model: models are not assumed thread-safe, and on a small CPU two OCR calls at
once finish no sooner than one after the other. Two threads let one stream's OCR run while
another stream's frames are encoded.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import numpy as np

from perception import metrics
from perception.core.captioners import Captioner
from perception.core.encoders import VisionEncoder

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

    def close(self) -> None:
        self._encode_thread.shutdown(wait=True, cancel_futures=True)
        self._caption_thread.shutdown(wait=True, cancel_futures=True)

    @staticmethod
    async def _run(thread: ThreadPoolExecutor, function: Callable[..., T], *args: object) -> T:
        return await asyncio.get_running_loop().run_in_executor(thread, function, *args)
