"""The bounded hand-off of sampled frames from a decode thread to its stream's event-loop task.

Files wait for room (backpressure: a file loses nothing, it is just read more slowly). Live
sources cannot wait (the camera does not), so the oldest waiting frame is dropped and counted.
The end marker never takes a slot and is never dropped.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from dataclasses import dataclass

from perception.core.types import SampledFrame

# How often a decode thread waiting for room checks whether it was told to stop, in seconds.
_STOP_POLL_S = 0.2


@dataclass(frozen=True)
class EndOfFrames:
    """The source ended (error None) or failed."""

    error: BaseException | None = None


class FrameQueue:
    def __init__(
        self, loop: asyncio.AbstractEventLoop, max_frames: int, drop_oldest: bool, on_drop: Callable[[], None]
    ) -> None:
        self._loop = loop
        self._max_frames = max_frames
        self._drop_oldest = drop_oldest
        self._on_drop = on_drop
        self._items: asyncio.Queue[SampledFrame | EndOfFrames] = asyncio.Queue()  # bounded by the rules here
        self._room = threading.Semaphore(max_frames)  # free slots, for the waiting (file) policy
        self._is_cleared = False  # the stream is final: frames still arriving are let go at once

    def put(self, frame: SampledFrame, stop: threading.Event) -> bool:
        """From the decode thread. Returns False if `stop` was set before the frame found room."""
        if self._drop_oldest:
            return self._call_soon(self._put_dropping_oldest, frame)
        while not self._room.acquire(timeout=_STOP_POLL_S):
            if stop.is_set():
                return False
        return self._call_soon(self._put_waiting, frame)

    def end(self, error: BaseException | None = None) -> None:
        """From the decode thread: no more frames will come."""
        self._call_soon(self._items.put_nowait, EndOfFrames(error))

    def end_now(self) -> None:
        """From the event loop (a stop): ends the queue at once."""
        self._items.put_nowait(EndOfFrames())

    async def get(self) -> SampledFrame | EndOfFrames:
        return self._taken(await self._items.get())

    def clear(self) -> None:
        """From the event loop, once the stream is final: lets go of the frames still queued, and of
        any the decode thread hands over as it ends."""
        self._is_cleared = True
        while not self._items.empty():
            self._taken(self._items.get_nowait())

    def _taken(self, item: SampledFrame | EndOfFrames) -> SampledFrame | EndOfFrames:
        if isinstance(item, SampledFrame) and not self._drop_oldest:
            self._room.release()
        return item

    def _put_waiting(self, frame: SampledFrame) -> None:
        if self._is_cleared:
            self._taken(frame)
        else:
            self._items.put_nowait(frame)

    def _put_dropping_oldest(self, frame: SampledFrame) -> None:
        # Runs on the loop, so the size check and the drop cannot interleave with `get`.
        if self._is_cleared:
            return
        if self._items.qsize() >= self._max_frames:
            oldest = self._items.get_nowait()
            if isinstance(oldest, EndOfFrames):  # nothing comes after an end marker; keep it
                self._items.put_nowait(oldest)
                return
            self._on_drop()
        self._items.put_nowait(frame)

    def _call_soon(self, callback: Callable[..., object], *args: object) -> bool:
        try:
            self._loop.call_soon_threadsafe(callback, *args)
        except RuntimeError:  # the loop closed: the process is stopping
            return False
        return True
