"""A decode thread: runs a FrameSource (PyAV blocks), samples each frame, and feeds the FrameQueue."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from perception.core.frame_queue import FrameQueue
from perception.core.sampler import Sampler
from perception.core.sources import FrameSource
from perception.core.types import DecodedFrame

logger = logging.getLogger(__name__)


class DecodeThread:
    """One run of a source on a daemon thread. `stop()` returns at once: a read blocked in FFmpeg
    ends at its own timeout, and the thread then exits without touching the queue again.

    The watchdog may start a new DecodeThread on the same source, sampler and lock while an old
    one is stuck; the lock and the stop check inside it keep the two from ever both sampling.
    """

    def __init__(
        self,
        stream_id: str,
        source: FrameSource,
        sampler: Sampler,
        queue: FrameQueue,
        on_frame: Callable[[DecodedFrame], None],
        lock: threading.Lock,
    ) -> None:
        self._stream_id = stream_id
        self._source = source
        self._sampler = sampler
        self._queue = queue
        self._on_frame = on_frame
        self._lock = lock
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"decode-{stream_id}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    @property
    def is_alive(self) -> bool:
        return self._thread.is_alive()

    def join(self, timeout_s: float) -> None:
        self._thread.join(timeout_s)

    def _run(self) -> None:
        try:
            is_complete = self._feed()
        except Exception as exc:  # noqa: BLE001 - handed to the worker, which fails the stream with it
            if not self._stop.is_set():
                self._queue.end(exc)
            return
        if is_complete and not self._stop.is_set():
            self._queue.end()

    def _feed(self) -> bool:
        """Feeds the queue; True when the source ended by itself, False when told to stop."""
        for frame in self._source.frames(self._stop):
            with self._lock:
                if self._stop.is_set():
                    return False
                self._on_frame(frame)
                sampled = self._sampler.offer(frame)
            if sampled is None:
                continue
            _ = sampled.frame.image  # convert here, on this thread, not on the event loop
            if not self._queue.put(sampled, self._stop):
                return False
        return not self._stop.is_set()
