"""The streams one perception process watches: add (checked at once) or push, list, remove, stop all,
and a stream's Flash Memory overview."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from longwatch.errors import AlreadyExists, NotFound, ResourceExhausted
from longwatch.types import PushedFrame, StreamStatus
from longwatch.validation import normalise_source, quote_prefix, validate_sample_fps, validate_stream_id
from perception import metrics
from perception.core.overview import StreamOverview
from perception.core.sources import FrameSource, open_push_source
from perception.core.sources.push_source import PushOptions, PushSource
from perception.core.stream_worker import StreamWorker

logger = logging.getLogger(__name__)

# (stream_id, source string, sample_fps) -> an opened source; blocking (file checks touch the disk)
SourceOpener = Callable[[str, str, float], FrameSource]
# (stream_id, source, sample_fps) -> a worker, not started
WorkerFactory = Callable[[str, FrameSource, float], StreamWorker]


@dataclass(frozen=True)
class StreamLimits:
    default_sample_fps: float = 1.0  # used when AddStream gives 0
    max_sample_fps: float = 30.0
    max_streams: int = 64  # streams not yet final
    max_streams_per_client: int = 32  # of those, added by one client host (0: no limit of its own)
    stop_timeout_s: float = 5.0  # a removed stream's last clips get this long to be acknowledged
    push: PushOptions = field(default_factory=PushOptions)
    push_finish_timeout_s: float = 60.0  # a PushFrames call waits this long for its clips once the client is done


class PushSession:
    """One PushFrames call's hold on its stream: frames in, then the stream's end."""

    def __init__(self, source: PushSource, worker: StreamWorker, finish_timeout_s: float) -> None:
        self._source = source
        self._worker = worker
        self._finish_timeout_s = finish_timeout_s

    @property
    def frames_accepted(self) -> int:
        return self._source.frames_accepted

    async def put(self, frame: PushedFrame) -> None:
        """Checks and queues a frame, waiting for room (InvalidArgument for a bad frame, FailedPrecondition
        once the stream is final)."""
        await self._source.put(frame)

    def fail(self, reason: str) -> None:
        """The call ended before the client closed its side: the stream fails with `reason` after its frames."""
        self._source.fail(reason)

    async def finish(self) -> StreamStatus:
        """The client is done: the stream writes its clips; returns its status once final (FINISHED when
        memory acknowledged them all) or after `push_finish_timeout_s`, whichever comes first."""
        self._source.close()
        stream_id = self._worker.stream_id
        try:
            await asyncio.wait_for(asyncio.shield(self._worker.wait()), self._finish_timeout_s)
        except TimeoutError:
            logger.info("stream %s: clips still being written %.1f s after the push", stream_id, self._finish_timeout_s)
        status = self._worker.status()
        logger.info("stream %s: push ended after %d frames (%s)", stream_id, self.frames_accepted, status.state.value)
        return status


class StreamRegistry:
    def __init__(self, limits: StreamLimits, open_source: SourceOpener, make_worker: WorkerFactory) -> None:
        self._limits = limits
        self._open_source = open_source
        self._make_worker = make_worker
        self._workers: dict[str, StreamWorker] = {}
        self._clients: dict[str, str] = {}  # stream id -> the client host that added it
        self._watchers: set[asyncio.Task] = set()  # one per pushed stream: tells its source when it is final
        # Adds and removes one at a time: two adds of one name must not both pass the checks.
        self._lock = asyncio.Lock()

    async def add(self, stream_id: str, source: str, sample_fps: float = 0.0, peer: str = "") -> StreamStatus:
        """Starts watching `source`; the source is opened (checked) before this returns. `peer` (gRPC's
        "ipv4:host:port") is the client asking: one client host may have at most `max_streams_per_client`.

        A name whose stream is final (finished, failed, stopped) is replaced.
        """
        validate_stream_id(stream_id)
        source = normalise_source(source)
        fps = validate_sample_fps(sample_fps, self._limits.default_sample_fps, self._limits.max_sample_fps)
        async with self._lock:
            self._check_can_add(stream_id, client_of(peer))
            opened = await asyncio.to_thread(self._open_source, stream_id, source, fps)
            worker = self._start(stream_id, opened, fps, client_of(peer))
        logger.info("stream %s added: %s at %.2f fps", stream_id, opened.display, fps)
        return worker.status()

    async def add_push(
        self, stream_id: str, sample_fps: float = 0.0, is_live: bool = False, peer: str = ""
    ) -> tuple[StreamStatus, PushSession]:
        """Starts a stream whose frames a client pushes through the returned session; checked as `add` is."""
        validate_stream_id(stream_id)
        fps = validate_sample_fps(sample_fps, self._limits.default_sample_fps, self._limits.max_sample_fps)
        async with self._lock:
            self._check_can_add(stream_id, client_of(peer))
            source = open_push_source(stream_id, self._limits.push, is_live=is_live, peer=peer)
            worker = self._start(stream_id, source, fps, client_of(peer))
        watcher = asyncio.create_task(self._abandon_when_final(worker, source), name=f"push-{stream_id}")
        self._watchers.add(watcher)
        watcher.add_done_callback(self._watchers.discard)
        logger.info("stream %s added: frames pushed by %s at %.2f fps", stream_id, source.display, fps)
        return worker.status(), PushSession(source, worker, self._limits.push_finish_timeout_s)

    def overview(self, stream_id: str) -> StreamOverview:
        """The stream's Flash Memory now (its slots and detail keyframes)."""
        validate_stream_id(stream_id)
        return self._worker(stream_id).overview()

    def list(self, stream_ids: Sequence[str] = ()) -> list[StreamStatus]:
        """Statuses by stream id; unknown names in `stream_ids` are left out."""
        names = sorted(self._workers) if not stream_ids else [name for name in stream_ids if name in self._workers]
        return [self._workers[name].status() for name in names]

    async def remove(self, stream_id: str) -> StreamStatus:
        """Stops the stream if it runs (its open clip is still written) and forgets it; returns its last status."""
        validate_stream_id(stream_id)
        async with self._lock:
            worker = self._worker(stream_id)
            status = await worker.stop(self._limits.stop_timeout_s)
            del self._workers[stream_id]
            metrics.forget_stream(stream_id)
        logger.info("stream %s removed (%s)", stream_id, status.state.value)
        return status

    async def stop_all(self, timeout_s: float) -> None:
        """Stops every stream at once, each writing its open clip within `timeout_s`."""
        await asyncio.gather(*(worker.stop(timeout_s) for worker in self._workers.values()))

    def _worker(self, stream_id: str) -> StreamWorker:
        worker = self._workers.get(stream_id)
        if worker is None:
            raise NotFound(f"no stream named {quote_prefix(stream_id)}; ListStreams shows the streams being watched")
        return worker

    def _check_can_add(self, stream_id: str, client: str) -> None:
        """Under the lock: the name is free (or its stream final), the process has room for one more, and
        so has the client."""
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
        most = self._limits.max_streams_per_client
        if client and most and self._active_count(client) >= most:
            raise ResourceExhausted(
                f"this client ({client}) already has {most} streams watched "
                "(LONGWATCH_PERCEPTION_MAX_STREAMS_PER_CLIENT); remove one first"
            )

    def _start(self, stream_id: str, source: FrameSource, fps: float, client: str = "") -> StreamWorker:
        worker = self._make_worker(stream_id, source, fps)
        self._workers[stream_id] = worker
        self._clients[stream_id] = client
        worker.start()
        return worker

    @staticmethod
    async def _abandon_when_final(worker: StreamWorker, source: PushSource) -> None:
        status = await worker.wait()
        reason = f": {status.error}" if status.error else ""
        source.abandon(
            f"stream {quote_prefix(status.stream_id)} is {status.state.value}{reason}; "
            "push to it again in a new PushFrames call once it is removed or final"
        )

    def _active_count(self, client: str | None = None) -> int:
        """Streams not yet final: all of them, or those `client` added."""
        return sum(
            1
            for stream_id, worker in self._workers.items()
            if not worker.status().state.is_final and (client is None or self._clients.get(stream_id) == client)
        )


def client_of(peer: str) -> str:
    """The client host of a gRPC peer ("ipv4:10.0.0.7:51234" -> "10.0.0.7", "ipv6:[::1]:5" -> "[::1]")."""
    kind, _, address = peer.partition(":")
    if kind in ("ipv4", "ipv6") and ":" in address:
        return address.rsplit(":", 1)[0]
    return peer
