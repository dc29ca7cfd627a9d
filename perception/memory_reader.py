"""Describe's KeyframeReader over gRPC: keyframes come from the memory service's Get and Timeline RPCs."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from longwatch.client import MemoryClient
from longwatch.types import KeyframeData
from longwatch.validation import MAX_TIMELINE_LIMIT

logger = logging.getLogger(__name__)

# Perception is the caller here, not the user: when memory is down, the reasoner (or CLI) that asked for
# Describe can do nothing about the address, only retry later.
_UNREACHABLE_HINT = "perception could not read keyframes from memory; retry once the memory service is up"


class MemoryKeyframeReader:
    def __init__(self, memory_addr: str, timeout_s: float = 30.0) -> None:
        self._client = MemoryClient(memory_addr, unreachable_hint=_UNREACHABLE_HINT)
        self._timeout_s = timeout_s

    async def keyframes(self, keyframe_ids: Sequence[str]) -> list[KeyframeData]:
        if not keyframe_ids:
            return []
        _nodes, keyframes = await self._client.get(keyframe_ids=keyframe_ids, timeout_s=self._timeout_s)
        return keyframes

    async def keyframe_ids_in_range(self, stream_id: str, start_s: float, end_s: float, limit: int) -> list[str]:
        """Keyframe ids of the clips in the range, in time order. A bounded range with more clips than one
        Timeline page is sampled: the first clip of each of `limit` equal slices, so the ids spread over
        the whole range rather than its first page."""
        clips, is_truncated = await self._client.timeline(
            stream_id, level=0, start_s=start_s, end_s=end_s, limit=MAX_TIMELINE_LIMIT, timeout_s=self._timeout_s
        )
        if is_truncated and end_s > start_s:
            clips = []
            step_s = (end_s - start_s) / limit
            for index in range(limit):
                slice_start_s = start_s + index * step_s
                page, _ = await self._client.timeline(
                    stream_id,
                    level=0,
                    start_s=slice_start_s,
                    end_s=slice_start_s + step_s,
                    limit=1,
                    timeout_s=self._timeout_s,
                )
                clips.extend(page)
        return [keyframe_id for clip in clips for keyframe_id in clip.keyframe_ids]

    async def close(self) -> None:
        await self._client.close()
