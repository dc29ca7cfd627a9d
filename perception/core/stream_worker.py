"""The supervised worker of one stream: decode thread → queue → frame pipeline → clip deliveries.

States: STARTING → RUNNING → FINISHED (a file ended and memory acknowledged every clip), FAILED
(the source or a stage failed; `error` says why) or STOPPED (removed, or the process stops).
A failure ends this stream only; the process keeps serving the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from dataclasses import dataclass

from longwatch.redaction import redact
from longwatch.types import ClipRecord, StreamState, StreamStatus
from perception import metrics
from perception.core.clip_assembler import ClipAssembler
from perception.core.compute import Compute
from perception.core.decoder import DecodeThread
from perception.core.flash_memory import FlashConfig, FlashMemory
from perception.core.frame_cache import CacheConfig, FrameCache
from perception.core.frame_queue import EndOfFrames, FrameQueue
from perception.core.keyframes import KeyframeConfig
from perception.core.overview import StreamOverview
from perception.core.pipeline import DEFAULT_TOKENS_PER_FRAME, FramePipeline
from perception.core.sampler import Sampler, SamplerConfig
from perception.core.sink import ClipSink
from perception.core.sources import FrameSource
from perception.core.types import ClipDraft, DecodedFrame, SampledFrame

logger = logging.getLogger(__name__)

# The watchdog looks this many times per stall period (and at least every 5 s).
_WATCHDOG_CHECKS_PER_STALL = 4


class StreamFailure(Exception):
    """Ends a stream as FAILED with this message (no traceback: the message says it all)."""


@dataclass(frozen=True)
class WorkerConfig:
    sampler: SamplerConfig
    cache: CacheConfig
    clip_max_s: float = 4.0
    frame_queue_size: int = 8  # sampled frames waiting for the encoder
    max_unacked_clips: int = 32  # clips sent to the sink and not yet acknowledged
    watchdog_stall_s: float = 60.0  # a live decoder silent this long is restarted
    keyframes: KeyframeConfig = KeyframeConfig()
    flash: FlashConfig = FlashConfig()
    tokens_per_frame: int = DEFAULT_TOKENS_PER_FRAME  # patch tokens kept per frame after merging


@dataclass
class _Counters:
    frames_seen: int = 0
    frames_encoded: int = 0
    frames_reused: int = 0
    frames_dropped: int = 0
    clips_written: int = 0
    position_s: float = 0.0  # stream time of the last decoded frame
    written_end_s: float = 0.0  # end of the latest clip memory acknowledged
    flash_slot_merges: int = 0  # the Flash Memory's slot merges already counted in the metric


class _StreamMetrics:
    """This stream's metric children, looked up once (decoding touches them per frame)."""

    def __init__(self, stream_id: str) -> None:
        self.frames_seen = metrics.FRAMES_SEEN.labels(stream_id)
        self.frames_encoded = metrics.FRAMES_ENCODED.labels(stream_id)
        self.frames_reused = metrics.FRAMES_REUSED.labels(stream_id)
        self.frames_dropped = metrics.FRAMES_DROPPED.labels(stream_id)
        self.clips_written = metrics.CLIPS_WRITTEN.labels(stream_id)
        self.decoder_restarts = metrics.DECODER_RESTARTS.labels(stream_id)
        self.lag_s = metrics.LAG_SECONDS.labels(stream_id)
        self.flash_slots = metrics.FLASH_SLOTS.labels(stream_id)
        self.flash_details = metrics.FLASH_DETAIL_FRAMES.labels(stream_id)
        self.flash_slot_merges = metrics.FLASH_SLOT_MERGES.labels(stream_id)


class StreamWorker:
    def __init__(
        self, stream_id: str, source: FrameSource, config: WorkerConfig, compute: Compute, sink: ClipSink
    ) -> None:
        self.stream_id = stream_id
        self.source = source
        self._config = config
        self._sink = sink
        assembler = ClipAssembler(config.clip_max_s, sample_interval_s=1.0 / config.sampler.sample_fps)
        self._flash = FlashMemory(config.flash)
        self._pipeline = FramePipeline(
            stream_id,
            source.source_key,
            compute,
            FrameCache(config.cache),
            assembler,
            config.keyframes,
            self._flash,
            config.tokens_per_frame,
        )
        self._sampler = Sampler(config.sampler)
        self._decode_lock = threading.Lock()
        self._counters = _Counters()
        self._metrics = _StreamMetrics(stream_id)
        self._state = StreamState.STARTING
        self._error = ""
        self._queue: FrameQueue | None = None
        self._decoder: DecodeThread | None = None
        self._task: asyncio.Task | None = None
        self._deliveries: set[asyncio.Task] = set()
        self._delivery_slots = asyncio.Semaphore(config.max_unacked_clips)
        self._delivery_error: BaseException | None = None
        self._stop_requested = asyncio.Event()
        self._last_restart_monotonic = 0.0

    # Lifecycle -------------------------------------------------------------------------------

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"stream-{self.stream_id}")

    async def wait(self) -> StreamStatus:
        """Waits until the stream is final (FINISHED, FAILED or STOPPED)."""
        if self._task is not None:
            await asyncio.wait({self._task})  # neither cancels the run nor raises its outcome
        return self.status()

    async def stop(self, timeout_s: float) -> StreamStatus:
        """Stops reading, writes the open clip and waits for acknowledgements for up to `timeout_s`;
        after that the remaining deliveries are abandoned."""
        if self._task is None or self._task.done():
            return self.status()
        self._stop_requested.set()
        if self._decoder is not None:
            self._decoder.stop()
        if self._queue is not None:
            self._queue.end_now()
        try:
            await asyncio.wait_for(asyncio.shield(self._task), timeout_s)
        except TimeoutError:
            logger.warning(
                "stream %s: %d clips not acknowledged within %.1f s of stopping; giving up on them",
                self.stream_id,
                len(self._deliveries),
                timeout_s,
            )
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        return self.status()

    def status(self) -> StreamStatus:
        counters = self._counters
        is_finished = self._state is StreamState.FINISHED
        return StreamStatus(
            stream_id=self.stream_id,
            source=self.source.display,
            state=self._state,
            is_live=self.source.is_live,
            frames_seen=counters.frames_seen,
            frames_encoded=counters.frames_encoded,
            frames_reused=counters.frames_reused,
            frames_dropped=counters.frames_dropped,
            clips_written=counters.clips_written,
            position_s=counters.position_s,
            duration_s=self.source.duration_s,
            lag_s=0.0 if is_finished else max(0.0, counters.position_s - counters.written_end_s),
            error=self._error or self.source.problem,
            sample_fps=self._config.sampler.sample_fps,
        )

    def overview(self) -> StreamOverview:
        """What the stream's Flash Memory holds now: its synopsis slots and detail keyframes. A final stream
        keeps its overview (fixed size) until it is removed."""
        return self._flash.overview(self.stream_id)

    # The run ---------------------------------------------------------------------------------

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        is_live = self.source.is_live
        self._queue = FrameQueue(loop, self._config.frame_queue_size, drop_oldest=is_live, on_drop=self._count_drop)
        if self._stop_requested.is_set():  # stopped before it began
            self._finish(None)
            return
        self._state = StreamState.RUNNING
        logger.info("stream %s: watching %s", self.stream_id, self.source.display)
        self._start_decoder()
        watchdog = asyncio.create_task(self._watch()) if is_live else None
        failure: str | None = None
        try:
            failure = await self._consume()
            await self._emit(self._pipeline.flush())  # frames read before a failure are still good
            await self._wait_for_deliveries()
        except asyncio.CancelledError:
            self._abandon_deliveries()
            self._stop_requested.set()
            self._finish(None)
            raise
        except StreamFailure as exc:
            failure = str(exc)
            self._abandon_deliveries()
        except Exception as exc:  # noqa: BLE001 - one stream fails, the process keeps serving the others
            logger.exception("stream %s: a stage failed", self.stream_id)
            failure = f"{type(exc).__name__}: {exc}"
            self._abandon_deliveries()
        finally:
            if watchdog is not None:
                watchdog.cancel()
            if self._decoder is not None:
                self._decoder.stop()
        self._finish(failure)

    async def _consume(self) -> str | None:
        """Processes frames until the source ends or a stop; returns why decoding failed, if it did."""
        while True:
            item = await self._queue.get()
            self._raise_delivery_error()
            if isinstance(item, EndOfFrames):
                if item.error is None:
                    return None
                return f"decoding failed at {self._counters.position_s:.1f} s: {item.error}"
            if self._stop_requested.is_set():
                return None
            await self._process(item)

    async def _process(self, sampled: SampledFrame) -> None:
        frame, closed = await self._pipeline.add(sampled)
        self._count_flash()
        if frame.is_reused:
            self._counters.frames_reused += 1
            self._metrics.frames_reused.inc()
        else:
            self._counters.frames_encoded += 1
            self._metrics.frames_encoded.inc()
        await self._emit(closed)

    def _count_flash(self) -> None:
        flash = self._flash
        self._metrics.flash_slots.set(flash.slot_count)
        self._metrics.flash_details.set(flash.detail_count)
        merges = flash.slot_merges - self._counters.flash_slot_merges
        if merges:
            self._metrics.flash_slot_merges.inc(merges)
            self._counters.flash_slot_merges = flash.slot_merges

    async def _emit(self, draft: ClipDraft | None) -> None:
        """Captions a closed clip and sends it; waits while `max_unacked_clips` are unacknowledged."""
        if draft is None:
            return
        clip = await self._pipeline.describe(draft)
        await self._delivery_slots.acquire()
        task = asyncio.create_task(self._deliver(clip))
        self._deliveries.add(task)
        task.add_done_callback(self._deliveries.discard)

    async def _deliver(self, clip: ClipRecord) -> None:
        try:
            await self._sink.write(clip)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - ends the stream with the reason, see _consume
            if self._delivery_error is None:
                self._delivery_error = exc
                self._queue.end_now()  # wake the consumer even if no frame comes
            return
        finally:
            self._delivery_slots.release()
        self._counters.clips_written += 1
        self._counters.written_end_s = max(self._counters.written_end_s, clip.end_s)
        self._metrics.clips_written.inc()
        self._metrics.lag_s.set(max(0.0, self._counters.position_s - self._counters.written_end_s))

    async def _wait_for_deliveries(self) -> None:
        while self._deliveries:
            await asyncio.gather(*self._deliveries)
        self._raise_delivery_error()

    def _raise_delivery_error(self) -> None:
        if self._delivery_error is not None:
            raise StreamFailure(f"memory did not take a clip: {self._delivery_error}") from self._delivery_error

    def _abandon_deliveries(self) -> None:
        for task in self._deliveries:
            task.cancel()

    def _finish(self, failure: str | None) -> None:
        self._pipeline.release()
        if self._queue is not None:
            self._queue.clear()
        if failure is not None:
            self._state = StreamState.FAILED
            self._error = redact(failure, self.source.location)
            logger.error("stream %s failed: %s", self.stream_id, self._error)
        elif self._stop_requested.is_set():
            self._state = StreamState.STOPPED
            logger.info("stream %s stopped after %d clips", self.stream_id, self._counters.clips_written)
        else:
            self._state = StreamState.FINISHED
            self._metrics.lag_s.set(0.0)
            logger.info("stream %s finished: %d clips written", self.stream_id, self._counters.clips_written)

    # Decoding and the watchdog -----------------------------------------------------------------

    def _start_decoder(self) -> None:
        self._decoder = DecodeThread(
            self.stream_id, self.source, self._sampler, self._queue, self._on_frame, self._decode_lock
        )
        self._decoder.start()

    def _on_frame(self, frame: DecodedFrame) -> None:
        # On the decode thread; the only writer of these two counters.
        self._counters.frames_seen += 1
        self._counters.position_s = frame.time_s
        self._metrics.frames_seen.inc()

    def _count_drop(self) -> None:
        self._counters.frames_dropped += 1
        self._metrics.frames_dropped.inc()

    async def _watch(self) -> None:
        """Restarts a live decoder that has shown no sign of life (no frame, no reconnect attempt) for too long."""
        stall_s = self._config.watchdog_stall_s
        check_every_s = min(stall_s / _WATCHDOG_CHECKS_PER_STALL, 5.0)
        while not self._stop_requested.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop_requested.wait(), check_every_s)
            alive = max(self.source.last_alive_monotonic, self._last_restart_monotonic)
            silent_s = time.monotonic() - alive
            if silent_s >= stall_s and not self._stop_requested.is_set():
                logger.warning("stream %s: decoder silent for %.0f s; restarting it", self.stream_id, silent_s)
                self._metrics.decoder_restarts.inc()
                self._last_restart_monotonic = time.monotonic()
                self._decoder.stop()
                self._start_decoder()
