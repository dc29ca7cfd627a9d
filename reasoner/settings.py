"""Settings of the reasoner, read from `LONGWATCH_REASONER_*` (and the shared `LONGWATCH_*`)."""

from __future__ import annotations

from typing import Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import SettingsConfigDict

from longwatch.settings import (
    DEFAULT_MEMORY_PORT,
    DEFAULT_REASONER_PORT,
    MEMORY_ADDR_ENV,
    CommonSettings,
    default_address,
)
from longwatch.validation import DEFAULT_MAX_QUESTION_CHARS, MAX_QUESTION_CHARS

# Must list the names in reasoner.core.llm.LLMS (a unit test checks they agree).
LLMName = Literal["tiny", "gemma", "transformers", "vlm", "openai-compatible"]


class ReasonerSettings(CommonSettings):
    model_config = SettingsConfigDict(
        env_prefix="LONGWATCH_REASONER_", extra="forbid", populate_by_name=True, frozen=True
    )

    port: int = Field(DEFAULT_REASONER_PORT, ge=1, le=65535, description="gRPC port to listen on")
    metrics_port: int = Field(0, ge=0, le=65535, description="port of the Prometheus /metrics endpoint; 0 = off")
    memory_addr: str = Field(
        default_address(DEFAULT_MEMORY_PORT),
        min_length=1,
        # Its own variable first, else the one every client reads (the launcher sets that one).
        validation_alias=AliasChoices("LONGWATCH_REASONER_MEMORY_ADDR", MEMORY_ADDR_ENV),
        description="host:port of the memory service",
    )
    memory_connect_attempts: int = Field(
        10, ge=1, le=1000, description="times memory is probed at start before serving anyway (it may still start)"
    )
    memory_retry_s: float = Field(1.0, gt=0, le=60, description="seconds between those probes")
    llm: LLMName | None = Field(
        None, description="LLM backend; None = the profile's default (tiny→tiny, cpu→gemma, gpu→transformers)"
    )
    llm_model: str = Field(
        "Qwen/Qwen2.5-1.5B-Instruct",
        min_length=1,
        description="Hugging Face id or local path, for the transformers and vlm backends (gpu profile)",
    )
    llm_device: str | None = Field(
        None, description="torch device for a local LLM (cpu, cuda, cuda:1); None = CUDA when available"
    )
    openai_base_url: str = Field(
        "http://127.0.0.1:8000/v1", min_length=1, description="base URL of an OpenAI-compatible completions server"
    )
    openai_model: str = Field("", description="model name that server serves, for the openai-compatible backend")
    openai_api_key: SecretStr = Field(SecretStr(""), description="bearer token for that server; empty = none")
    openai_timeout_s: float = Field(60.0, gt=0, le=600, description="seconds per request to that server")
    openai_mode: Literal["completion", "chat"] = Field(
        "completion",
        description="endpoint of that server: completion (/completions: generates and scores candidates) "
        "or chat (/chat/completions: generates only, and takes images)",
    )
    openai_vision: bool = Field(
        False, description="chat mode only: send keyframes as images (the server runs a vision-language model)"
    )
    # A few seconds: a user waits for an answer, not for other questions' LLM steps; steps that would end
    # past it (their wait for the LLM included) are skipped and the answer is read from the evidence.
    default_deadline_ms: int = Field(
        5_000, gt=0, le=3_600_000, description="time budget of a question that gives none, in milliseconds"
    )
    max_evidence: int = Field(
        5,
        ge=1,
        le=100,
        description="evidence items returned with an answer; more when it was read from more clips (a 'when' range)",
    )
    search_k: int = Field(
        30, ge=1, le=100, description="clips asked of memory's own search per target: the search loop's seeds"
    )
    node_budget: int = Field(
        600, ge=10, le=100_000, description="memory nodes one search may read, at every level, before it answers"
    )
    max_hops: int = Field(
        3, ge=0, le=10, description="searches for what the evidence points to ('LINKED TO ORDER 34') after the first"
    )
    prompt_hits: int = Field(4, ge=1, le=50, description="hits shown to the LLM in the prompt")
    hit_text_chars: int = Field(400, ge=16, le=20_000, description="characters of each hit's text in the prompt")
    max_new_tokens: int = Field(12, ge=1, le=512, description="tokens the LLM may generate for a reply")
    max_candidates: int = Field(
        12, ge=1, le=256, description="evidence spans the LLM ranks when its own reply is not grounded"
    )
    max_answer_chars: int = Field(200, ge=1, le=10_000, description="longest reply, in characters")
    max_question_chars: int = Field(
        DEFAULT_MAX_QUESTION_CHARS, ge=1, le=MAX_QUESTION_CHARS, description="longest question accepted, in characters"
    )
