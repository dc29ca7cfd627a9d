"""The gpu profile end to end with tiny random models: perception (LONGWATCH_PROFILE=gpu, every model by
local path through its setting, on the CPU here) ingests a video, and its clips reach the real memory
service with visual vectors of the encoder's width. Run once with a SigLIP (hf-clip) and once with the
captioning VLM's own vision tower (vlm-vision) as the encoder; the captioner is the Idefics3 VLM both times."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from longwatch.client import MemoryClient, PerceptionClient
from longwatch.models import tiny_vision
from longwatch.models.cache import prepared
from longwatch.progress import wait_until_final
from longwatch.types import StreamState
from tests.integration.servers import free_port, start_service
from tests.unit.perception.fakes import write_video

READY_TIMEOUT_S = 180.0  # importing torch, loading the models and RapidOCR on a slow machine
SCENES = [(0.0, (30, 90, 200)), (3.0, (220, 200, 40)), (6.0, (40, 160, 60))]  # a colour change every 3 s
DURATION_S = 9.0


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict[str, Path]:
    """Tiny SigLIP and Idefics3 built into a fresh model cache (the user's would hold real ones)."""
    cache = tmp_path_factory.mktemp("gpu-models")
    return {
        "siglip": prepared(cache, tiny_vision.TINY_SIGLIP_NAME, tiny_vision.build_siglip),
        "vlm": prepared(cache, tiny_vision.TINY_VLM_NAME, tiny_vision.build_vlm),
    }


@pytest.fixture(scope="module")
def memory(tmp_path_factory):
    data = tmp_path_factory.mktemp("gpu-memory")
    env = {"LONGWATCH_PROFILE": "tiny", "LONGWATCH_DATA_DIR": str(data), "LONGWATCH_MODEL_CACHE": str(data / "mc")}
    handle = start_service("memory_service", env, free_port(), READY_TIMEOUT_S)
    yield handle.address
    handle.stop()


@pytest.fixture(scope="module")
def video(tmp_path_factory) -> str:
    return str(write_video(tmp_path_factory.mktemp("gpu-video") / "scenes.mp4", DURATION_S, 10, SCENES))


def config_of(model: Path) -> dict:
    return json.loads((model / "config.json").read_text())


def expected_dim(encoder: str, models: dict[str, Path]) -> int:
    """The encoder's feature width, from the model's own config: SigLIP's pooled vision width, or the VLM's
    language-model width (its connector projects the tokens there)."""
    if encoder == "hf-clip":
        return config_of(models["siglip"])["vision_config"]["hidden_size"]
    return config_of(models["vlm"])["text_config"]["hidden_size"]


def ingest(perception_addr: str, memory_addr: str, stream: str, video: str, dim: int):
    async def go():
        perception, memory = PerceptionClient(perception_addr), MemoryClient(memory_addr)
        try:
            await perception.add_stream(stream, video, sample_fps=2.0)
            status = await asyncio.wait_for(wait_until_final(perception, stream, show_progress=False), 300)
            probe = [1.0] + [0.0] * (dim - 1)
            by_vector = await memory.search("", stream_ids=[stream], k=100, vector=probe)
            other_width = await memory.search("", stream_ids=[stream], k=100, vector=probe + [0.0])
            overview = await perception.overview(stream)
            return status, by_vector, other_width, overview
        finally:
            await perception.close()
            await memory.close()

    return asyncio.run(go())


@pytest.mark.parametrize("encoder", ["hf-clip", "vlm-vision"])
def test_the_gpu_profile_writes_clips_with_visual_vectors_of_the_encoders_width(
    encoder, models, memory, video, tmp_path
):
    env = {
        "LONGWATCH_PROFILE": "gpu",
        "LONGWATCH_DATA_DIR": str(tmp_path / "data"),
        "LONGWATCH_MODEL_CACHE": str(tmp_path / "unused-model-cache"),  # every model comes by path
        "LONGWATCH_MEMORY_ADDR": memory,
        "LONGWATCH_PERCEPTION_ENCODER": encoder,
        "LONGWATCH_PERCEPTION_ENCODER_MODEL": str(models["siglip"]),
        "LONGWATCH_PERCEPTION_CAPTIONER_MODEL": str(models["vlm"]),  # and vlm-vision's, by default
        "LONGWATCH_PERCEPTION_ENCODER_DEVICE": "cpu",
        "LONGWATCH_PERCEPTION_CAPTIONER_DEVICE": "cpu",
        "LONGWATCH_PERCEPTION_VLM_MAX_NEW_TOKENS": "4",
    }
    perception = start_service("perception", env, free_port(), READY_TIMEOUT_S)
    try:
        dim = expected_dim(encoder, models)
        status, by_vector, other_width, overview = ingest(perception.address, memory, f"gpu-{encoder}", video, dim)
    finally:
        assert perception.stop() == 0, perception.output()
    log = perception.output()
    assert f"profile gpu: encoder {encoder}, captioner vlm" in log, log
    assert status.state is StreamState.FINISHED, status.error
    assert status.clips_written >= 3  # at least one clip per scene
    # Memory keeps visual vectors in one collection per width: a search by a vector of the encoder's width
    # finds every clip; one of another width finds none.
    assert len(by_vector) == status.clips_written, (by_vector, log)
    assert other_width == []
    assert all(hit.keyframe_ids for hit in by_vector)
    assert overview.frames_merged == status.frames_encoded + status.frames_reused
