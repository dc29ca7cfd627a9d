"""Composition root: settings -> LLM -> answerer, memory retriever -> Reasoner -> servicer -> server."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from longwatch.client import MemoryClient
from longwatch.errors import DeadlineExceeded, Unavailable
from longwatch.grpc_server import ServiceServer, serve_process, start_metrics_endpoint
from longwatch.reasoner.v1 import reasoner_pb2_grpc
from reasoner.core.answerer import Answerer
from reasoner.core.llm import LLM, llm_name_for, load_llm
from reasoner.core.reasoner import Reasoner
from reasoner.core.types import AnswerLimits, LLMOptions, ReasonerLimits
from reasoner.memory_retriever import MemoryRetriever
from reasoner.server import SERVICE_NAME, ReasonerServicer
from reasoner.settings import ReasonerSettings

logger = logging.getLogger(__name__)

_PROBE_TIMEOUT_S = 2.0  # per ListStreams call that checks memory is reachable
# Ends the error of a question asked while memory is down: the asker can neither start memory nor tell the
# reasoner where it is, but memory may be on its way back (`longwatch up` restarts it).
_MEMORY_UNREACHABLE_HINT = "the reasoner needs it to answer; ask again once memory is back"


class ReasonerApp:
    """Builds and runs the reasoner; `stop()` undoes `start()` in reverse, however far it got."""

    def __init__(self, settings: ReasonerSettings) -> None:
        self.settings = settings
        self.llm: LLM | None = None
        self.reasoner: Reasoner | None = None
        self.server: ServiceServer | None = None
        self._retriever: MemoryRetriever | None = None
        self._memory_probe: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._metrics_server: Any = None

    async def start(self) -> None:
        settings = self.settings
        self._retriever = MemoryRetriever(MemoryClient(settings.memory_addr, _MEMORY_UNREACHABLE_HINT))
        # Memory may still be starting (the launcher starts services together): probe it while the LLM loads.
        self._memory_probe = asyncio.create_task(self._probe_memory(self._retriever))
        llm_name = llm_name_for(settings.profile.value, settings.llm)
        self.llm = await asyncio.to_thread(load_llm, llm_name, self._llm_options())  # loads weights: seconds
        answerer = Answerer(self.llm, self._answer_limits())
        await asyncio.to_thread(answerer.warm_up)
        logger.info(
            "LLM %s warm: generate %.2f s, score %.2f s, choose between lines %.2f s",
            self.llm.name,
            answerer.expected_step_s("generate"),
            answerer.expected_step_s("score"),
            answerer.expected_step_s("choose"),
        )
        self.reasoner = Reasoner(self._retriever, answerer, self._reasoner_limits())
        self.server = ServiceServer(settings.host, settings.port, [SERVICE_NAME])
        servicer = ReasonerServicer(self.reasoner, default_deadline_ms=settings.default_deadline_ms)
        reasoner_pb2_grpc.add_ReasonerServiceServicer_to_server(servicer, self.server.grpc_server)
        await self.server.start()
        self._metrics_server = start_metrics_endpoint(self.settings.host, self.settings.metrics_port)
        await self.server.set_serving()

    async def stop(self) -> None:
        self._stopping.set()
        if self.server is not None:
            await self.server.stop(self.settings.drain_s)
        if self._metrics_server is not None:
            self._metrics_server.shutdown()
        if self._memory_probe is not None:
            self._memory_probe.cancel()
            await asyncio.gather(self._memory_probe, return_exceptions=True)
        if self._retriever is not None:
            await self._retriever.close()
        close = getattr(self.llm, "close", None)
        if close is not None:
            close()
        logger.info("reasoner stopped")

    async def _probe_memory(self, retriever: MemoryRetriever) -> None:
        """Logs whether memory answers, retrying with a cap; never stops the service from starting."""
        attempts = self.settings.memory_connect_attempts
        for attempt in range(1, attempts + 1):
            try:
                streams = await retriever.known_streams(_PROBE_TIMEOUT_S)
            except (Unavailable, DeadlineExceeded) as exc:
                logger.warning(
                    "memory at %s not reachable yet (attempt %d/%d): %s", retriever.address, attempt, attempts, exc
                )
            else:
                logger.info("memory at %s is reachable; it knows %d streams", retriever.address, len(streams))
                return
            try:
                await asyncio.wait_for(self._stopping.wait(), self.settings.memory_retry_s)
                return
            except TimeoutError:
                continue
        logger.warning(
            "memory at %s still unreachable after %d attempts; serving anyway: questions fail with UNAVAILABLE "
            "until it is up",
            retriever.address,
            attempts,
        )

    def _llm_options(self) -> LLMOptions:
        settings = self.settings
        return LLMOptions(
            model_cache=settings.model_cache,
            model=settings.llm_model,
            device=settings.llm_device,
            base_url=settings.openai_base_url,
            api_model=settings.openai_model,
            api_key=settings.openai_api_key.get_secret_value(),
            timeout_s=settings.openai_timeout_s,
            api_mode=settings.openai_mode,
            api_vision=settings.openai_vision,
        )

    def _answer_limits(self) -> AnswerLimits:
        settings = self.settings
        return AnswerLimits(
            prompt_hits=settings.prompt_hits,
            hit_text_chars=settings.hit_text_chars,
            max_new_tokens=settings.max_new_tokens,
            max_candidates=settings.max_candidates,
            max_answer_chars=settings.max_answer_chars,
        )

    def _reasoner_limits(self) -> ReasonerLimits:
        settings = self.settings
        return ReasonerLimits(
            default_deadline_ms=settings.default_deadline_ms,
            max_evidence=settings.max_evidence,
            search_k=settings.search_k,
            node_budget=settings.node_budget,
            max_hops=settings.max_hops,
            max_question_chars=settings.max_question_chars,
            max_answer_chars=settings.max_answer_chars,
        )


def main() -> None:
    serve_process("reasoner", "LONGWATCH_REASONER_", ReasonerSettings, ReasonerApp)
