"""Follows a stream in perception until it ends, with a progress bar on stderr."""

from __future__ import annotations

import asyncio
import sys
from typing import Protocol, TextIO

from tqdm import tqdm

from longwatch import errors
from longwatch.types import StreamState, StreamStatus

POLL_S = 0.5  # between ListStreams calls: often enough for a smooth bar, rare enough to cost nothing
_BAR_KNOWN = (
    "{desc}: {percentage:3.0f}%|{bar}| {n:.1f}/{total:.1f} s [{elapsed}<{remaining}, {rate_noinv_fmt}{postfix}]"
)
_BAR_UNKNOWN = "{desc}: {n:.1f} s [{elapsed}, {rate_noinv_fmt}{postfix}]"


class StreamLister(Protocol):
    """The part of PerceptionClient this module needs."""

    async def list_streams(self, stream_ids: tuple[str, ...] = ()) -> list[StreamStatus]: ...


class StreamBar:
    """A tqdm bar of stream time decoded (position_s of duration_s), with clips written as postfix.

    The rate is seconds of video per second of wall time; the ETA follows from it.
    """

    def __init__(self, stream_id: str, file: TextIO | None = None) -> None:
        self._stream_id = stream_id
        self._file = file if file is not None else sys.stderr
        self._bar: tqdm | None = None

    def update(self, status: StreamStatus) -> None:
        if self._bar is None:
            self._bar = self._open(status.duration_s)
        elif self._bar.total is None and status.duration_s > 0:  # a file's length is known once it is open
            self._bar.total = status.duration_s
            self._bar.bar_format = _BAR_KNOWN
        position_s = status.position_s
        if status.state is StreamState.FINISHED and status.duration_s > 0:
            position_s = max(position_s, status.duration_s)  # the last frame sits just before the end
        if position_s > self._bar.n:
            self._bar.update(position_s - self._bar.n)
        self._bar.set_postfix_str(f"{status.clips_written} clips, {status.state.value}", refresh=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()

    def _open(self, duration_s: float) -> tqdm:
        return tqdm(
            total=duration_s if duration_s > 0 else None,
            desc=self._stream_id,
            unit="s",
            bar_format=_BAR_KNOWN if duration_s > 0 else _BAR_UNKNOWN,
            file=self._file,
            dynamic_ncols=True,
            mininterval=0.2,
        )


async def wait_until_final(
    perception: StreamLister, stream_id: str, *, show_progress: bool = True, poll_s: float | None = None
) -> StreamStatus:
    """Polls perception until the stream is FINISHED, FAILED or STOPPED, and returns that status.

    FINISHED means every clip was acknowledged by memory, so every clip is searchable when this returns.
    """
    bar = StreamBar(stream_id) if show_progress else None
    try:
        while True:
            statuses = await perception.list_streams((stream_id,))
            status = next((item for item in statuses if item.stream_id == stream_id), None)
            if status is None:
                raise errors.NotFound(f"perception no longer knows the stream {stream_id!r}; was it removed?")
            if bar is not None:
                bar.update(status)
            if status.state.is_final:
                return status
            await asyncio.sleep(POLL_S if poll_s is None else poll_s)
    finally:
        if bar is not None:
            bar.close()
