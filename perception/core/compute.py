"""The encoder and captioner every stream shares, each on its own worker thread, off the event loop,
and a third thread for the keyframes' JPEG encoding.

One thread per model: models are not assumed thread-safe, and on a small CPU two OCR calls at
once finish no sooner than one after the other. Two threads let one stream's OCR run while
another stream's frames are encoded. JPEG encoding has its own thread so that a clip's keyframes
are encoded while it is captioned, and neither waits behind the other.

Encoding is batched across streams (`EncodeBatcher`): while the encoder runs one call, the frames
other streams submit queue up, and the next call takes all of them (up to the batch size). A GPU
encodes 16 frames in about the time of one, so many streams cost little more than one; with one
stream nothing waits for a batch to fill.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

from longwatch.errors import Unavailable
from longwatch.types import Keyframe
from perception import metrics
from perception.core.captioners import Captioner
from perception.core.encoders import VisionEncoder
from perception.core.keyframes import KeyframeConfig, encode_keyframes
from perception.core.types import ClipFrame

logger = logging.getLogger(__name__)

T = TypeVar("T")
Encoded = tuple[np.ndarray, np.ndarray | None]  # (N, D) features, (N, P, C) patch tokens or None
# A blank frame the size of a typical camera's, for warming the models up.
_WARM_UP_FRAME = np.zeros((360, 640, 3), dtype=np.uint8)
DEFAULT_MAX_BATCH_FRAMES = 16


@dataclass(eq=False)
class _EncodeRequest:
    images: Sequence[np.ndarray]
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Encoded]


def _settle(request: _EncodeRequest, result: Encoded | None = None, error: BaseException | None = None) -> None:
    """Resolves the request's future on its own event loop (called from the encode thread)."""

    def settle() -> None:
        if request.future.done():  # the caller was cancelled
            return
        if error is not None:
            request.future.set_exception(error)
        else:
            request.future.set_result(result)

    with contextlib.suppress(RuntimeError):  # the loop is closed: no one waits any more
        request.loop.call_soon_threadsafe(settle)


class EncodeBatcher:
    """One thread that runs the encoder on the pending requests of all streams at once, in arrival order.

    A request is never split: a batch holds whole requests of at most `max_batch_frames` frames in all
    (a single larger request goes alone; the encoder cuts it into forward passes itself).
    """

    def __init__(self, encoder: VisionEncoder, max_batch_frames: int = DEFAULT_MAX_BATCH_FRAMES) -> None:
        if max_batch_frames < 1:
            raise ValueError(f"max_batch_frames must be at least 1, not {max_batch_frames}")
        self._encoder = encoder
        self._max_batch_frames = max_batch_frames
        self._pending: deque[_EncodeRequest] = deque()
        self._wake = threading.Condition()
        self._is_closed = False
        # A daemon: a Compute nobody closed must not keep the process alive at exit.
        self._thread = threading.Thread(target=self._run, name="perception-encode", daemon=True)
        self._thread.start()

    async def submit(self, images: Sequence[np.ndarray]) -> Encoded:
        """(N, D) L2-normalised features and (N, P, C) patch tokens (or None) of the images, in their order."""
        if not images:
            return np.zeros((0, self._encoder.dim), np.float32), None
        loop = asyncio.get_running_loop()
        request = _EncodeRequest(list(images), loop, loop.create_future())
        with self._wake:
            if self._is_closed:
                raise Unavailable("perception is stopping: frames are no longer encoded; retry on a running service")
            self._pending.append(request)
            self._wake.notify()
        return await request.future

    def close(self) -> None:
        """Fails the requests still queued with Unavailable, and waits for the encoder call in flight."""
        with self._wake:
            self._is_closed = True
            waiting = list(self._pending)
            self._pending.clear()
            self._wake.notify_all()
        stopping = Unavailable("perception stopped before these frames were encoded; retry on a running service")
        for request in waiting:
            _settle(request, error=stopping)
        self._thread.join()

    def _run(self) -> None:
        while True:
            batch = self._next_batch()
            if batch is None:
                return
            self._encode(batch)
            # Not held while waiting for the next batch: a finished stream's frames must be freed.
            del batch

    def _next_batch(self) -> list[_EncodeRequest] | None:
        """The oldest request and those after it that fit the batch; None once closed."""
        with self._wake:
            while not self._pending and not self._is_closed:
                self._wake.wait()
            if self._is_closed:
                return None
            batch = [self._pending.popleft()]
            frames = len(batch[0].images)
            while self._pending and frames + len(self._pending[0].images) <= self._max_batch_frames:
                batch.append(self._pending.popleft())
                frames += len(batch[-1].images)
            return batch

    def _encode(self, batch: list[_EncodeRequest]) -> None:
        """One encoder call for the whole batch; its rows go back to each request, or its error to all of them."""
        images = [image for request in batch for image in request.images]
        metrics.ENCODE_BATCH_FRAMES.observe(len(images))
        try:
            features, patches = self._encoder.encode_with_patches(images)  # (N, D), (N, P, C) | None
            if features.shape[0] != len(images) or (patches is not None and patches.shape[0] != len(images)):
                raise RuntimeError(f"encoder {self._encoder.name} returned {features.shape[0]} rows for {len(images)}")
        except Exception as error:  # noqa: BLE001 (whatever the model raised belongs to these callers)
            logger.warning("encoder %s failed on a batch of %d frames: %s", self._encoder.name, len(images), error)
            for request in batch:
                _settle(request, error=error)
            return
        start = 0
        for request in batch:
            end = start + len(request.images)
            # Copies: a view would keep the whole batch's arrays alive as long as one frame's are cached.
            mine = patches[start:end].copy() if patches is not None else None  # (n, P, C)
            _settle(request, (features[start:end].copy(), mine))
            start = end


class Compute:
    def __init__(
        self, encoder: VisionEncoder, captioner: Captioner, max_batch_frames: int = DEFAULT_MAX_BATCH_FRAMES
    ) -> None:
        self.encoder = encoder
        self.captioner = captioner
        self._batcher = EncodeBatcher(encoder, max_batch_frames)
        self._caption_thread = ThreadPoolExecutor(1, thread_name_prefix="perception-caption")
        self._keyframe_thread = ThreadPoolExecutor(1, thread_name_prefix="perception-keyframe")

    def warm_up(self) -> None:
        """One call of each model on a blank frame (blocking): the first call allocates and compiles,
        and would otherwise land on the first stream."""
        self.encoder.encode_with_patches([_WARM_UP_FRAME])
        lines = self.captioner.read_text([_WARM_UP_FRAME])[0]
        self.captioner.caption([_WARM_UP_FRAME], lines)
        encoder, captioner = self.encoder, self.captioner
        logger.info(
            "models warm: encoder %s (%d-d, %d-d patches), captioner %s",
            encoder.name,
            encoder.dim,
            encoder.patch_dim,
            captioner.name,
        )

    async def encode(self, stream_id: str, images: Sequence[np.ndarray]) -> np.ndarray:
        """(N, D) float32 L2-normalised features."""
        return (await self.encode_with_patches(stream_id, images))[0]

    async def encode_with_patches(self, stream_id: str, images: Sequence[np.ndarray]) -> Encoded:
        """(N, D) float32 L2-normalised features and (N, P, C) float32 patch tokens (None when the encoder
        makes none), encoded in one batch with other streams' pending frames. The time recorded is what
        the stream waits: queueing behind other streams included."""
        with metrics.ENCODE_SECONDS.labels(stream_id).time():
            return await self._batcher.submit(images)

    async def read_text(
        self, stream_id: str, images: Sequence[np.ndarray], *, keep_state: bool = True
    ) -> list[tuple[str, ...]]:
        """On-screen text of the stream's next frames, in time order: the reader may keep state per stream
        (what it read last). `keep_state=False` for frames that are not the stream's next ones (Describe's
        keyframes from the past), so they neither use nor disturb that state."""
        context = stream_id if keep_state else ""
        with metrics.OCR_SECONDS.labels(stream_id).time():
            return await self._run(self._caption_thread, lambda: self.captioner.read_text(images, context=context))

    async def caption(self, stream_id: str, images: Sequence[np.ndarray], lines: Sequence[str]) -> str:
        with metrics.CAPTION_SECONDS.labels(stream_id).time():
            return await self._run(self._caption_thread, self.captioner.caption, images, lines)

    async def describe(self, stream_id: str, images: Sequence[np.ndarray], instruction: str) -> str:
        """The captioner's answer to `instruction` over the images, on the caption thread (the model is
        not shared between threads)."""
        with metrics.DESCRIBE_SECONDS.labels(stream_id).time():
            return await self._run(self._caption_thread, self.captioner.describe, images, instruction)

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
        """Fails frames still waiting for the encoder (Unavailable), waits for model calls in flight."""
        self._batcher.close()
        self._caption_thread.shutdown(wait=True, cancel_futures=True)
        self._keyframe_thread.shutdown(wait=True, cancel_futures=True)

    @staticmethod
    async def _run(thread: ThreadPoolExecutor, function: Callable[..., T], *args: object) -> T:
        return await asyncio.get_running_loop().run_in_executor(thread, function, *args)
