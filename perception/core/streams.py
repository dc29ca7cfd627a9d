"""The streams one perception process watches: add (checked at once), list, remove, stop all."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from longwatch.errors import AlreadyExists, NotFound, ResourceExhausted
from longwatch.types import StreamStatus
from longwatch.validation import normalise_source, quote_prefix, validate_sample_fps, validate_stream_id
from perception import metrics
from perception.core.sources import FrameSource
from perception.core.stream_worker import StreamWorker

logger = logging.getLogger(__name__)

# (stream_id, source string) -> an opened source; blocking (file checks touch the disk)
SourceOpener = Callable[[str, str], FrameSource]
# (stream_id, source, sample_fps) -> a worker, not started
WorkerFactory = Callable[[str, FrameSource, float], StreamWorker]


@dataclass(frozen=True)
class StreamLimits:
    default_sample_fps: float = 1.0  # used when AddStream gives 0
    max_sample_fps: float = 30.0
    max_streams: int = 64  # streams not yet final
    stop_timeout_s: float = 5.0  # a removed stream's last clips get this long to be acknowledged


class StreamRegistry:
    def __init__(self, limits: StreamLimits, open_source: SourceOpener, make_worker: WorkerFactory) -> None:
        self._limits = limits
        self._open_source = open_source
        self._make_worker = make_worker
        self._workers: dict[str, StreamWorker] = {}
        # Adds and removes one at a time: two adds of one name must not both pass the checks.
        self._lock = asyncio.Lock()

    async def add(self, stream_id: str, source: str, sample_fps: float = 0.0) -> StreamStatus:
        """Starts watching `source`; the source is opened (checked) before this returns.

        A name whose stream is final (finished, failed, stopped) is replaced.
        """
        validate_stream_id(stream_id)
        source = normalise_source(source)
        fps = validate_sample_fps(sample_fps, self._limits.default_sample_fps, self._limits.max_sample_fps)
        async with self._lock:
            previous = self._workers.get(stream_id)
            if previous is not None and not previous.status().state.is_final:
                raise AlreadyExists(
                    f"stream {quote_prefix(stream_id)} is already being watched ({previous.status().state.value}); "
                    "remove it first or choose another name"
                )
            if self._active_count() >= self._limits.max_streams:
                raise ResourceExhausted(
                    f"already watching {self._limits.max_streams} streams (LONGWATCH_PERCEPTION_MAX_STREAMS); "
                    "remove one first"
                )
            opened = await asyncio.to_thread(self._open_source, stream_id, source)
            worker = self._make_worker(stream_id, opened, fps)
            self._workers[stream_id] = worker
            worker.start()
        logger.info("stream %s added: %s at %.2f fps", stream_id, opened.display, fps)
        return worker.status()

    def list(self, stream_ids: Sequence[str] = ()) -> list[StreamStatus]:
        """Statuses by stream id; unknown names in `stream_ids` are left out."""
        names = sorted(self._workers) if not stream_ids else [name for name in stream_ids if name in self._workers]
        return [self._workers[name].status() for name in names]

    async def remove(self, stream_id: str) -> StreamStatus:
        """Stops the stream if it runs (its open clip is still written) and forgets it; returns its last status."""
        validate_stream_id(stream_id)
        async with self._lock:
            worker = self._workers.get(stream_id)
            if worker is None:
                raise NotFound(
                    f"no stream named {quote_prefix(stream_id)}; ListStreams shows the streams being watched"
                )
            status = await worker.stop(self._limits.stop_timeout_s)
            del self._workers[stream_id]
            metrics.forget_stream(stream_id)
        logger.info("stream %s removed (%s)", stream_id, status.state.value)
        return status

    async def stop_all(self, timeout_s: float) -> None:
        """Stops every stream at once, each writing its open clip within `timeout_s`."""
        await asyncio.gather(*(worker.stop(timeout_s) for worker in self._workers.values()))

    def _active_count(self) -> int:
        return sum(1 for worker in self._workers.values() if not worker.status().state.is_final)
