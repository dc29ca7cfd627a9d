"""Composition root: settings -> embedder -> store, stream index, log -> Memory -> servicer -> server."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from longwatch.errors import InvalidArgument
from longwatch.grpc_server import ServiceServer, serve_process, start_metrics_endpoint
from longwatch.memory.v1 import memory_pb2_grpc
from memory_service.core.chroma import ChromaConnection, ChromaLocation
from memory_service.core.consolidate import HierarchyLimits
from memory_service.core.embedders import TextEmbedder, embedder_name_for, load_embedder
from memory_service.core.memory import Memory
from memory_service.core.store import ClipStore
from memory_service.core.streams import StreamIndex
from memory_service.core.summarize import ExtractiveSummarizer, LlmSummarizer, Summarizer
from memory_service.core.types import ClipLimits, EmbedderOptions, SearchLimits
from memory_service.core.wal import WriteAheadLog
from memory_service.server import SERVICE_NAME, MemoryServicer
from memory_service.settings import MemorySettings

logger = logging.getLogger(__name__)


class MemoryApp:
    """Builds and runs the memory service; `stop()` undoes `start()` in reverse, however far it got."""

    def __init__(self, settings: MemorySettings) -> None:
        self.settings = settings
        self.memory: Memory | None = None
        self.server: ServiceServer | None = None
        self._metrics_server: Any = None

    async def start(self) -> None:
        settings = self.settings
        name = embedder_name_for(settings.profile.value, settings.embedder)
        options = EmbedderOptions(
            model_cache=settings.model_cache,
            model=settings.embedder_model,
            device=settings.embedder_device,
            batch_size=settings.embed_batch_size,
        )
        embedder = await asyncio.to_thread(load_embedder, name, options)  # loads and warms: seconds
        self.memory = build_memory(settings, embedder)
        await self.memory.start()  # replays the log
        self.server = ServiceServer(settings.host, settings.port, [SERVICE_NAME])
        memory_pb2_grpc.add_MemoryServiceServicer_to_server(MemoryServicer(self.memory), self.server.grpc_server)
        await self.server.start()
        self._metrics_server = start_metrics_endpoint(self.settings.host, self.settings.metrics_port)
        await self.server.set_serving()

    async def stop(self) -> None:
        if self.server is not None:
            await self.server.stop(self.settings.drain_s)
        if self._metrics_server is not None:
            self._metrics_server.shutdown()
        if self.memory is not None:
            await self.memory.close()
        logger.info("memory service stopped")


def build_memory(settings: MemorySettings, embedder: TextEmbedder) -> Memory:
    """The Memory these settings describe, around a loaded embedder (the benchmarks build it the same way)."""
    chroma = ChromaConnection(ChromaLocation(path=settings.chroma_dir, url=settings.chroma_url))
    return Memory(
        embedder=embedder,
        store=ClipStore(chroma, embedder.name, embedder.dim),
        streams=StreamIndex(settings.stream_index_path),
        wal=WriteAheadLog(settings.wal_dir, settings.wal_segment_bytes),
        keyframe_dir=settings.keyframe_dir,
        hierarchy=HierarchyLimits(
            fanout=settings.fanout,
            beam=settings.search_beam,
            retention_max_age_s=settings.retention_max_age_s,
            retention_max_bytes=settings.retention_max_bytes,
            cache_nodes=settings.node_cache,
        ),
        commit_batch=settings.commit_batch,
        summarizer=make_summarizer(settings),
        reader_refresh_s=settings.reader_refresh_s if settings.role == "reader" else None,
        search_limits=SearchLimits(
            candidates=settings.search_candidates,
            exact_term_bonus=settings.exact_term_bonus,
            max_exact_terms=settings.max_exact_terms,
            max_query_chars=settings.max_query_chars,
            max_streams=settings.max_search_streams,
        ),
        clip_limits=ClipLimits(
            max_text_chars=settings.max_clip_text_chars,
            max_keyframes=settings.max_keyframes_per_clip,
            max_keyframe_bytes=settings.max_keyframe_bytes,
        ),
    )


def make_summarizer(settings: MemorySettings) -> Summarizer:
    if settings.summarizer == "extractive":
        return ExtractiveSummarizer()
    if not settings.summarizer_openai_base_url or not settings.summarizer_openai_model:
        raise InvalidArgument(
            "the openai-compatible summarizer needs LONGWATCH_MEMORY_SUMMARIZER_OPENAI_BASE_URL and "
            "LONGWATCH_MEMORY_SUMMARIZER_OPENAI_MODEL; set both, or LONGWATCH_MEMORY_SUMMARIZER=extractive"
        )
    from reasoner.core.llm.openai_compatible import OpenAICompatibleLLM  # the LLM seam the reasoner uses

    llm = OpenAICompatibleLLM(settings.summarizer_openai_base_url, settings.summarizer_openai_model)
    return LlmSummarizer(llm)


def main() -> None:
    serve_process("memory service", "LONGWATCH_MEMORY_", MemorySettings, MemoryApp)
