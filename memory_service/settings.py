"""Settings of the memory service, read from `LONGWATCH_MEMORY_*` (and the shared `LONGWATCH_*`)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from longwatch.settings import DEFAULT_MEMORY_PORT, CommonSettings

# Must list the names in memory_service.core.embedders.EMBEDDERS (a unit test checks they agree).
EmbedderName = Literal["tiny", "minilm", "sentence-transformers"]

MiB = 1024 * 1024


class MemorySettings(CommonSettings):
    model_config = SettingsConfigDict(
        env_prefix="LONGWATCH_MEMORY_", extra="forbid", populate_by_name=True, frozen=True
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
    wal_segment_bytes: int = Field(
        8 * MiB, ge=4096, le=1024 * MiB, description="write-ahead log segment size before rolling, in bytes"
    )

    @property
    def memory_dir(self) -> Path:
        return self.data_dir / "memory"

    @property
    def wal_dir(self) -> Path:
        return self.memory_dir / "wal"

    @property
    def chroma_dir(self) -> Path:
        return self.memory_dir / "chroma"

    @property
    def stream_index_path(self) -> Path:
        return self.memory_dir / "streams.sqlite3"
