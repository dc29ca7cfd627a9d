"""The ClipSink that writes to the memory service over one long-lived `WriteClips` stream.

Every clip stays in `_unacked` until memory acknowledges it (durable and searchable). When the
stream breaks (memory restarts, the network drops), the writer reconnects on a capped back-off,
with a log line per retry, and resends every unacknowledged clip in order: memory stores clips by
id, so a clip that arrived before the break is stored once. A clip memory refuses (invalid, or
another file's under its stream name) fails its writer's call; the others carry on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

import grpc

from longwatch import convert, security
from longwatch.errors import FailedPrecondition, InvalidArgument, LongwatchError, Unavailable
from longwatch.grpc_server import CHANNEL_OPTIONS
from longwatch.memory.v1 import memory_pb2, memory_pb2_grpc
from longwatch.types import ClipRecord
from perception import metrics
from perception.core.backoff import backoff_delay_s

logger = logging.getLogger(__name__)

# What memory answers when retrying cannot help: the clip is failed, and the stream with it.
_REFUSALS: dict[grpc.StatusCode, type[LongwatchError]] = {
    grpc.StatusCode.INVALID_ARGUMENT: InvalidArgument,
    grpc.StatusCode.FAILED_PRECONDITION: FailedPrecondition,
}

# Seconds to read acknowledgements still buffered when the clip stream ends under a write.
_ACK_DRAIN_S = 5.0


@dataclass
class _Pending:
    clip: ClipRecord
    waiters: list[asyncio.Future] = field(default_factory=list)


class _SessionEnded(Exception):
    def __init__(self, code: grpc.StatusCode, details: str) -> None:
        super().__init__(f"{code.name}: {details}")
        self.code = code
        self.details = details


class MemoryWriter:
    """`await start()`, then `write` from any stream's task; `await close(timeout_s)` flushes and stops."""

    def __init__(self, address: str, retry_initial_s: float, retry_max_s: float) -> None:
        self.address = address
        self._retry_initial_s = retry_initial_s
        self._retry_max_s = retry_max_s
        self._unacked: dict[str, _Pending] = {}  # by clip id, in the order first written
        self._outbox: asyncio.Queue[str] = asyncio.Queue()  # clip ids to send on the current stream
        self._drained = asyncio.Event()
        self._drained.set()
        self._closing = asyncio.Event()
        self._acks_this_session = 0
        self._channel: grpc.aio.Channel | None = None
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        # gRPC's own reconnect back-off grows to 2 minutes; keep it within ours so a restarted
        # memory is found on our next retry.
        backoff_ms = int(self._retry_max_s * 1000)
        options = [
            *CHANNEL_OPTIONS,
            ("grpc.initial_reconnect_backoff_ms", int(self._retry_initial_s * 1000)),
            ("grpc.min_reconnect_backoff_ms", int(self._retry_initial_s * 1000)),
            ("grpc.max_reconnect_backoff_ms", backoff_ms),
        ]
        # TLS as any client's; the token goes on each WriteClips call itself: grpc.aio's client interceptors
        # break a bidirectional call driven by write() and read() ("Internal error from Core").
        self._channel = security.open_channel(self.address, options)
        token = security.token_from_env()
        self._call_metadata = security.bearer_metadata(token) if token else None
        self._stub = memory_pb2_grpc.MemoryServiceStub(self._channel)
        self._task = asyncio.create_task(self._run(), name="memory-writer")

    async def write(self, clip: ClipRecord) -> None:
        """Returns once memory acknowledged the clip; raises InvalidArgument if memory refuses it."""
        if self._closing.is_set():
            raise Unavailable("perception is stopping; the clip was not written")
        waiter = asyncio.get_running_loop().create_future()
        pending = self._unacked.setdefault(clip.clip_id, _Pending(clip))
        pending.clip = clip  # a rewrite of the same clip id sends the newest content
        pending.waiters.append(waiter)
        self._outbox.put_nowait(clip.clip_id)
        self._drained.clear()
        metrics.MEMORY_UNACKED_CLIPS.set(len(self._unacked))
        try:
            await waiter
        except asyncio.CancelledError:
            self._forget_waiter(clip.clip_id, waiter)
            raise

    async def close(self, timeout_s: float) -> None:
        """Waits up to `timeout_s` for the clips still unacknowledged, then closes the stream."""
        try:
            await asyncio.wait_for(self._drained.wait(), timeout_s)
        except TimeoutError:
            unacked = len(self._unacked)
            logger.warning("%d clips not acknowledged by memory at %s before stopping", unacked, self.address)
        self._closing.set()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        for clip_id in list(self._unacked):
            self._settle(clip_id, Unavailable("perception stopped before memory acknowledged the clip"))
        if self._channel is not None:
            await self._channel.close()

    # The stream ------------------------------------------------------------------------------

    async def _run(self) -> None:
        failures = 0
        while not self._closing.is_set():
            self._acks_this_session = 0
            try:
                await self._session()
            except _SessionEnded as ended:
                refusal = _REFUSALS.get(ended.code)
                if refusal is not None:
                    self._refuse_oldest(refusal(ended.details))
                    continue
                failures = 1 if self._acks_this_session else failures + 1
                await self._back_off(str(ended), failures)
            except Exception as exc:  # noqa: BLE001 - a bug here must not strand every waiting clip
                logger.exception("memory writer session failed")
                failures += 1
                await self._back_off(f"{type(exc).__name__}: {exc}", failures)

    async def _session(self) -> None:
        """One WriteClips stream: resends what is unacknowledged, then sends new clips as they come."""
        call = self._stub.WriteClips(metadata=self._call_metadata)
        self._outbox = asyncio.Queue()
        for clip_id in self._unacked:
            self._outbox.put_nowait(clip_id)
        sender = asyncio.create_task(self._send(call))
        reader = asyncio.create_task(self._read(call))
        try:
            await asyncio.wait({sender, reader}, return_when=asyncio.FIRST_COMPLETED)
            if sender.done() and not reader.done():
                # The call ended under a write; acknowledgements memory sent before it ended are still
                # buffered. Read them, or `_refuse_oldest` would blame a clip memory stored.
                await asyncio.wait({reader}, timeout=_ACK_DRAIN_S)
        finally:
            sender.cancel()
            reader.cancel()
            call.cancel()
        for task in (reader, sender):  # the reader sees the call's own status
            if not task.done() or task.cancelled():
                continue
            error = task.exception()
            if isinstance(error, grpc.aio.AioRpcError):
                raise _SessionEnded(error.code(), error.details() or "")
            if error is not None:
                raise _SessionEnded(grpc.StatusCode.UNKNOWN, f"{type(error).__name__}: {error}")
        raise _SessionEnded(grpc.StatusCode.UNAVAILABLE, "memory closed the clip stream")

    async def _send(self, call: grpc.aio.StreamStreamCall) -> None:
        while True:
            clip_id = await self._outbox.get()
            pending = self._unacked.get(clip_id)
            if pending is not None:  # else acknowledged meanwhile
                await call.write(memory_pb2.WriteClipsRequest(clip=convert.clip_to_pb(pending.clip)))

    async def _read(self, call: grpc.aio.StreamStreamCall) -> None:
        while True:
            response = await call.read()
            if response is grpc.aio.EOF:
                return
            self._acks_this_session += 1
            self._settle(response.clip_id, None)

    async def _back_off(self, reason: str, failures: int) -> None:
        delay_s = backoff_delay_s(failures, self._retry_initial_s, self._retry_max_s)
        waiting = len(self._unacked)
        logger.warning(
            "memory at %s: %s; %d clips waiting; reconnecting in %.3g s (attempt %d)",
            self.address,
            reason,
            waiting,
            delay_s,
            failures,
        )
        metrics.MEMORY_RETRIES.inc()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._closing.wait(), delay_s)

    # Bookkeeping -----------------------------------------------------------------------------

    def _refuse_oldest(self, refusal: LongwatchError) -> None:
        """Memory handles a stream's clips in order, so the clip it refused is the oldest unacknowledged."""
        if not self._unacked:
            return
        clip_id = next(iter(self._unacked))
        logger.error("memory refused clip %s: %s", clip_id, refusal)
        metrics.MEMORY_REJECTED_CLIPS.inc()
        self._settle(clip_id, type(refusal)(f"memory refused clip {clip_id}: {refusal}"))

    def _settle(self, clip_id: str, error: Exception | None) -> None:
        pending = self._unacked.pop(clip_id, None)
        if pending is None:
            return  # a duplicate acknowledgement (the clip was resent)
        for waiter in pending.waiters:
            if waiter.done():
                continue
            if error is None:
                waiter.set_result(None)
            else:
                waiter.set_exception(error)
        self._after_change()

    def _forget_waiter(self, clip_id: str, waiter: asyncio.Future) -> None:
        """The caller gave up on the clip; with no one left waiting, it is not resent."""
        pending = self._unacked.get(clip_id)
        if pending is None:
            return
        pending.waiters = [other for other in pending.waiters if other is not waiter]
        if not pending.waiters:
            del self._unacked[clip_id]
            self._after_change()

    def _after_change(self) -> None:
        metrics.MEMORY_UNACKED_CLIPS.set(len(self._unacked))
        if not self._unacked:
            self._drained.set()
