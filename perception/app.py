"""Composition root: settings → encoder, captioner (loaded and warmed) → memory writer → stream registry
→ servicer → server. `stop()` undoes `start()` in reverse, however far it got."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

from longwatch.grpc_server import ServiceServer, serve_process, start_metrics_endpoint
from longwatch.perception.v1 import perception_pb2_grpc
from perception.core.captioners import CaptionerOptions, captioner_name_for, load_captioner
from perception.core.compute import Compute
from perception.core.describe import Describer
from perception.core.encoders import EncoderOptions, encoder_name_for, load_encoder
from perception.core.flash_memory import FlashConfig
from perception.core.frame_cache import CacheConfig
from perception.core.keyframes import KeyframeConfig
from perception.core.sampler import SamplerConfig
from perception.core.sources import FrameSource, SourceOptions, open_source
from perception.core.sources.push_source import PushOptions
from perception.core.stream_worker import StreamWorker, WorkerConfig
from perception.core.streams import StreamLimits, StreamRegistry
from perception.memory_reader import MemoryKeyframeReader
from perception.memory_writer import MemoryWriter
from perception.server import SERVICE_NAME, PerceptionServicer
from perception.settings import PerceptionSettings

logger = logging.getLogger(__name__)


class PerceptionApp:
    def __init__(self, settings: PerceptionSettings) -> None:
        self.settings = settings
        self.compute: Compute | None = None
        self.writer: MemoryWriter | None = None
        self.streams: StreamRegistry | None = None
        self.keyframe_reader: MemoryKeyframeReader | None = None
        self.server: ServiceServer | None = None
        self._metrics_server: Any = None

    async def start(self) -> None:
        settings = self.settings
        self.compute = await asyncio.to_thread(self._load_models)
        await asyncio.to_thread(self.compute.warm_up)
        self.writer = MemoryWriter(settings.memory_addr, settings.memory_retry_initial_s, settings.memory_retry_max_s)
        await self.writer.start()
        limits = StreamLimits(
            default_sample_fps=settings.sample_fps,
            max_sample_fps=settings.max_sample_fps,
            max_streams=settings.max_streams,
            max_streams_per_client=settings.max_streams_per_client,
            stop_timeout_s=settings.drain_s,
            push=PushOptions(
                max_frame_bytes=settings.push_max_frame_bytes,
                max_image_side_px=settings.push_max_image_side_px,
                queue_frames=settings.push_queue_frames,
                max_frame_side_px=settings.max_frame_side_px,
            ),
            push_finish_timeout_s=settings.push_finish_timeout_s,
        )
        self.streams = StreamRegistry(limits, self._open_source, self._make_worker)
        self.keyframe_reader = MemoryKeyframeReader(settings.memory_addr)
        describer = Describer(self.compute, self.keyframe_reader)
        self.server = ServiceServer(settings.host, settings.port, [SERVICE_NAME])
        perception_pb2_grpc.add_PerceptionServiceServicer_to_server(
            PerceptionServicer(self.streams, describer, settings.trust_forwarded_client), self.server.grpc_server
        )
        await self.server.start()
        self._metrics_server = start_metrics_endpoint(self.settings.host, self.settings.metrics_port)
        await self.server.set_serving()

    async def stop(self) -> None:
        drain_s = self.settings.drain_s
        if self.server is not None:
            await self.server.stop(drain_s)
        if self.streams is not None:
            await self.streams.stop_all(drain_s)  # each writes its open clip
        if self.writer is not None:
            await self.writer.close(drain_s)
        if self.keyframe_reader is not None:
            await self.keyframe_reader.close()
        if self._metrics_server is not None:
            self._metrics_server.shutdown()
        if self.compute is not None:
            await asyncio.to_thread(self.compute.close)  # waits for a model call in flight
        logger.info("perception stopped")

    # Models ------------------------------------------------------------------------------------

    def _load_models(self) -> Compute:
        """Loads the encoder and captioner (blocking: seconds)."""
        profile = self.settings.profile.value
        encoder_name = encoder_name_for(profile, self.settings.encoder)
        captioner_name = captioner_name_for(profile, self.settings.captioner)
        logger.info("profile %s: encoder %s, captioner %s", profile, encoder_name, captioner_name)
        encoder = self._load_encoder(encoder_name)
        return Compute(encoder, self._load_captioner(captioner_name), max_batch_frames=self.settings.encoder_batch_size)

    def _load_encoder(self, name: str):
        settings = self.settings
        options = EncoderOptions(
            model=settings.encoder_model,
            vlm_model=settings.encoder_vlm_model or settings.captioner_model,
            device=settings.encoder_device,
            batch_size=settings.encoder_batch_size,
            model_cache=Path(settings.model_cache),
        )
        return load_encoder(name, options)

    def _load_captioner(self, name: str):
        settings = self.settings
        options = CaptionerOptions(
            model=settings.captioner_model,
            device=settings.captioner_device,
            min_confidence=settings.ocr_min_confidence,
            detect_min_side_px=settings.ocr_detect_min_side_px,
            text_tile_px=settings.ocr_tile_px,
            max_text_streams=settings.ocr_max_streams,
            ocr_with_vlm=settings.ocr_with_vlm,
            prompt=settings.vlm_prompt,
            max_frames=settings.vlm_max_frames,
            max_new_tokens=settings.vlm_max_new_tokens,
            model_cache=Path(settings.model_cache),
        )
        return load_captioner(name, options)

    # Streams -----------------------------------------------------------------------------------

    def _open_source(self, stream_id: str, source: str, sample_fps: float = 0.0) -> FrameSource:
        settings = self.settings
        options = SourceOptions(
            max_frame_side_px=settings.max_frame_side_px,
            open_timeout_s=settings.live_open_timeout_s,
            read_timeout_s=settings.live_read_timeout_s,
            retry_initial_s=settings.live_retry_initial_s,
            retry_max_s=settings.live_retry_max_s,
            # The stream's rate: a file's static GOPs then yield only the frame times the sampler keeps.
            sample_fps=sample_fps,
            file_decode=settings.file_decode,
            file_decoder=settings.file_decoder,
            thumbnail_width_px=settings.thumbnail_width_px,
            pixel_change_levels=settings.pixel_change_levels,
            keyframe_max_changed_fraction=settings.file_keyframe_max_changed_fraction,
            max_keyframe_interval_s=settings.file_max_keyframe_interval_s,
            max_gop_bytes=settings.file_max_gop_bytes,
        )
        return open_source(stream_id, source, options)

    def _make_worker(self, stream_id: str, source: FrameSource, sample_fps: float) -> StreamWorker:
        settings = self.settings
        config = WorkerConfig(
            sampler=SamplerConfig(
                sample_fps=sample_fps,
                thumbnail_width_px=settings.thumbnail_width_px,
                pixel_change_levels=settings.pixel_change_levels,
                scene_change_fraction=settings.scene_change_fraction,
                scene_min_interval_s=settings.scene_min_interval_s,
            ),
            cache=CacheConfig(
                pixel_change_levels=settings.pixel_change_levels,
                max_changed_fraction=settings.cache_max_changed_fraction,
                is_enabled=settings.frame_cache,
            ),
            clip_max_s=settings.clip_max_s,
            frame_queue_size=settings.frame_queue_size,
            max_unacked_clips=settings.max_unacked_clips,
            watchdog_stall_s=settings.watchdog_stall_s,
            keyframes=KeyframeConfig(
                count=settings.keyframes_per_clip,
                max_side_px=settings.keyframe_max_side_px,
                jpeg_quality=settings.keyframe_jpeg_quality,
            ),
            flash=FlashConfig(max_slots=settings.flash_slots, max_details=settings.flash_detail_frames),
            tokens_per_frame=settings.tokens_per_frame,
        )
        return StreamWorker(stream_id, source, config, self.compute, self.writer)


def main() -> None:
    serve_process("perception", "LONGWATCH_PERCEPTION_", PerceptionSettings, PerceptionApp)
