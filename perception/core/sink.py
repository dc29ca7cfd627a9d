"""The ClipSink seam: where finished clips go (the memory service, through perception/memory_writer.py)."""

from __future__ import annotations

from typing import Protocol

from longwatch.types import ClipRecord


class ClipSink(Protocol):
    async def write(self, clip: ClipRecord) -> None:
        """Returns once the clip is acknowledged: durable and searchable.

        While the destination is unreachable it keeps retrying and does not return, so a caller
        that waits never loses a clip. Raises `longwatch.errors.InvalidArgument` if the clip is
        refused, and `longwatch.errors.Unavailable` if the sink is closed first.
        """
        ...
