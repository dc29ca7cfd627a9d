"""Settings of the memory service, read from `LONGWATCH_MEMORY_*` (and the shared `LONGWATCH_*`)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from longwatch.errors import InvalidArgument
from longwatch.settings import DEFAULT_MEMORY_PORT, CommonSettings
from memory_service.core.chroma import parse_chroma_url

# Must list the names in memory_service.core.embedders.EMBEDDERS (a unit test checks they agree).
EmbedderName = Literal["tiny", "minilm", "sentence-transformers"]

MiB = 1024 * 1024


class MemorySettings(CommonSettings):
    model_config = SettingsConfigDict(
        env_prefix="LONGWATCH_MEMORY_",
        extra="forbid",
        populate_by_name=True,
        frozen=True,
        hide_input_in_errors=True,  # a chroma URL may carry credentials
    )

    port: int = Field(DEFAULT_MEMORY_PORT, ge=1, le=65535, description="gRPC port to listen on")
    metrics_port: int = Field(0, ge=0, le=65535, description="port of the Prometheus /metrics endpoint; 0 = off")
    embedder: EmbedderName | None = Field(
        None, description="text embedder backend; None = the profile's default (tiny→tiny, cpu→minilm, gpu→hf)"
    )
    embedder_model: str = Field(
        "sentence-transformers/all-mpnet-base-v2",
        min_length=1,
        description="sentence-transformers id or local path, for the sentence-transformers embedder (gpu profile)",
    )
    embedder_device: str | None = Field(
        None, description="torch device for the embedder (cpu, cuda, cuda:1); None = CUDA when available"
    )
    embed_batch_size: int = Field(32, ge=1, le=4096, description="texts per embedder forward pass")
    search_candidates: int = Field(
        50, ge=1, le=1000, description="clips fetched per vector query before rescoring (at least k)"
    )
    exact_term_bonus: float = Field(
        0.5, ge=0.0, le=10.0, description="score added per exact query term (name, number, quoted phrase) matched"
    )
    max_exact_terms: int = Field(8, ge=0, le=32, description="exact terms of one query looked up; 0 = vector only")
    max_query_chars: int = Field(2000, ge=1, le=100_000, description="longest search text accepted, in characters")
    max_search_streams: int = Field(1000, ge=1, le=100_000, description="most stream ids one search may name")
    max_clip_text_chars: int = Field(
        100_000, ge=1, le=10_000_000, description="longest caption plus on-screen text accepted per clip"
    )
    fanout: int = Field(
        16, ge=2, le=64, description="children per node of the hierarchy: F clips make a segment, F segments an episode"
    )
    search_beam: int = Field(
        4, ge=1, le=64, description="best nodes per level a search expands on its way down the hierarchy"
    )
    node_cache: int = Field(
        20_000, ge=0, le=10_000_000, description="summary nodes searches keep in RAM (about 2 KB each at 384-d)"
    )
    chroma_url: str = Field(
        "",
        max_length=2048,
        description="a `chroma run` server (http://host:port) holding the vectors, required when more than one "
        "memory process shares them; empty = embedded chromadb in the data directory",
    )

    @field_validator("chroma_url")
    @classmethod
    def _chroma_url_is_a_server(cls, url: str) -> str:
        """Empty, or http(s)://HOST:PORT: a wrong URL stops memory at start, not at its first write."""
        if url:
            try:
                parse_chroma_url(url)
            except InvalidArgument as exc:  # pydantic reports only ValueError as a bad value
                raise ValueError(str(exc)) from None
        return url.strip()

    retention_max_age_s: float = Field(
        30 * 24 * 3600.0,
        ge=0.0,
        le=1e10,
        description="per stream: what is older than this (behind the stream's newest clip) is removed; 0 = no limit",
    )
    retention_max_bytes: int = Field(
        4 * 1024 * MiB,
        ge=0,
        le=2**62,
        description="per stream: bytes held (vectors, texts, keyframes) before the oldest are removed; 0 = no limit",
    )
    summarizer: Literal["extractive", "openai-compatible"] = Field(
        "extractive",
        description="how nodes summarise their children: extractive (distinct captions and on-screen text), or "
        "with a sentence from an OpenAI-compatible LLM server ahead of them",
    )
    summarizer_openai_base_url: str = Field(
        "", max_length=2048, description="the LLM server for the openai-compatible summarizer (http://host:port/v1)"
    )
    summarizer_openai_model: str = Field("", max_length=256, description="the model name that server serves")
    max_keyframes_per_clip: int = Field(8, ge=0, le=64, description="keyframes one clip may carry")
    max_keyframe_bytes: int = Field(
        2 * MiB, ge=1024, le=32 * MiB, description="largest JPEG keyframe accepted, in bytes"
    )
    commit_batch: int = Field(
        512, ge=1, le=100_000, description="most records of all streams that share one log fsync (group commit)"
    )
    wal_segment_bytes: int = Field(
        8 * MiB, ge=4096, le=1024 * MiB, description="write-ahead log segment size before rolling, in bytes"
    )
    role: Literal["writer", "reader"] = Field(
        "writer",
        description="writer: owns the log, takes writes, consolidates; reader: answers reads beside a writer, "
        "from the same chroma server (chroma_url) and data directory, and refuses writes",
    )
    reader_refresh_s: float = Field(
        1.0, ge=0.05, le=600.0, description="a reader's lag behind the writer: how often it reloads the hierarchy"
    )

    @model_validator(mode="after")
    def _reader_shares_a_server(self) -> MemorySettings:
        if self.role == "reader" and not self.chroma_url:
            raise ValueError(
                "a reader shares the writer's vectors through a chroma server: set LONGWATCH_MEMORY_CHROMA_URL "
                "(embedded chromadb belongs to one process)"
            )
        return self

    @property
    def memory_dir(self) -> Path:
        return self.data_dir / "memory"

    @property
    def wal_dir(self) -> Path:
        return self.memory_dir / "wal"

    @property
    def keyframe_dir(self) -> Path:
        return self.memory_dir / "keyframes"

    @property
    def chroma_dir(self) -> Path:
        return self.memory_dir / "chroma"

    @property
    def stream_index_path(self) -> Path:
        return self.memory_dir / "streams.sqlite3"
