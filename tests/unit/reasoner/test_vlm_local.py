"""The vlm backend on a tiny random Idefics3 built on the spot: its words are garbage, so these tests check
shapes, where the images go, stop cutting and scoring arithmetic, not what it says."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest
import torch
from PIL import Image

from longwatch.errors import InvalidArgument
from longwatch.models import tiny_vision
from longwatch.models.cache import prepared
from reasoner.core.llm import LLM, load_llm
from reasoner.core.llm.vlm_local import VisionLanguageLLM
from reasoner.core.types import LLMOptions

PROMPT = "the screen shows alarm code"


def jpeg(seed: int) -> bytes:
    pixels = np.random.default_rng(seed).integers(0, 255, (48, 64, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "JPEG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def vlm(tmp_path_factory) -> VisionLanguageLLM:
    cache = tmp_path_factory.mktemp("models")
    path = prepared(cache, tiny_vision.TINY_VLM_NAME, tiny_vision.build_vlm)
    return load_llm("vlm", LLMOptions(model_cache=cache, model=str(path), device="cpu"))


def image_token_id(vlm: VisionLanguageLLM) -> int:
    return vlm._tokenizer.convert_tokens_to_ids("<image>")


def test_it_is_an_llm_that_sees_images_and_scores(vlm):
    assert isinstance(vlm, LLM)
    assert vlm.sees_images and vlm.can_score


def test_images_come_before_the_prompt_as_image_tokens_and_pixels(vlm):
    prompt_ids = vlm._tokenizer(PROMPT, add_special_tokens=False)["input_ids"]
    with_images = vlm.inputs(PROMPT, [jpeg(0), jpeg(1)])
    ids = with_images["input_ids"][0].tolist()
    image_positions = [index for index, token in enumerate(ids) if token == image_token_id(vlm)]
    assert len(image_positions) == 2 * tiny_vision.VLM_IMAGE_TOKENS
    prompt_start = next(i for i in range(len(ids)) if ids[i : i + len(prompt_ids)] == prompt_ids)
    assert max(image_positions) < prompt_start
    assert with_images["pixel_values"].shape == (1, 2, 3, tiny_vision.IMAGE_SIZE_PX, tiny_vision.IMAGE_SIZE_PX)
    assert with_images["pixel_values"].dtype == torch.float32

    text_only = vlm.inputs(PROMPT, [])
    assert "pixel_values" not in text_only
    assert image_token_id(vlm) not in text_only["input_ids"][0].tolist()
    other_image = vlm.inputs(PROMPT, [jpeg(2), jpeg(1)])
    assert not torch.equal(other_image["pixel_values"][0, 0], with_images["pixel_values"][0, 0])
    torch.testing.assert_close(other_image["pixel_values"][0, 1], with_images["pixel_values"][0, 1])


def test_generate_passes_the_images_to_the_model(vlm, monkeypatch):
    seen: list[dict] = []
    real_generate = vlm._model.generate

    def spy(**kwargs):
        seen.append(kwargs)
        return real_generate(**kwargs)

    monkeypatch.setattr(vlm._model, "generate", spy)
    assert isinstance(vlm.generate(PROMPT, 4, images=[jpeg(0)]), str)
    assert isinstance(vlm.generate(PROMPT, 4), str)
    assert seen[0]["pixel_values"].shape[1] == 1 and "pixel_values" not in seen[1]
    assert seen[0]["max_new_tokens"] == 4 and seen[0]["do_sample"] is False


def test_generate_is_greedy_bounded_and_cut_before_the_stop(vlm):
    images = [jpeg(0)]
    full = vlm.generate(PROMPT, max_new_tokens=12, images=images)
    short = vlm.generate(PROMPT, max_new_tokens=3, images=images)
    assert full.startswith(short) and len(short) < len(full)  # stops at the token budget
    assert vlm.generate(PROMPT, 12, images=images) == full  # greedy: the same every time
    assert len(full) > 2, "the tiny VLM generated almost nothing; pick another prompt"
    stop = full[len(full) // 2 :][:2]
    assert vlm.generate(PROMPT, 12, stop=[stop], images=images) == full[: full.find(stop)]


def test_score_matches_a_plain_forward_pass_per_continuation(vlm):
    continuations = [" 1037", " parks at the gate", " exit", ""]
    scores = vlm.score(PROMPT, continuations)
    assert len(scores) == 4 and all(math.isfinite(score) for score in scores)
    tokenizer, model = vlm._tokenizer, vlm._model
    prompt_ids = tokenizer(vlm.chat_text(PROMPT, 0))["input_ids"]
    for continuation, score in zip(continuations[:3], scores, strict=False):
        ids = tokenizer(continuation, add_special_tokens=False)["input_ids"]
        with torch.inference_mode():
            logits = model(input_ids=torch.tensor([prompt_ids + ids])).logits[0]  # (P + C, V)
        log_probs = torch.log_softmax(logits.float(), dim=-1)
        expected = sum(log_probs[len(prompt_ids) - 1 + i, token].item() for i, token in enumerate(ids)) / len(ids)
        assert score == pytest.approx(expected, abs=1e-4)
    assert vlm.score(PROMPT, []) == []


def test_the_prompt_is_one_user_turn_of_the_chat_template(vlm):
    text = vlm.chat_text(PROMPT, 1)
    assert text.startswith("<|user|><image>" + PROMPT) and text.endswith("<|assistant|>")


def test_a_processor_without_a_chat_template_gets_image_tokens_and_the_plain_prompt(vlm, monkeypatch):
    monkeypatch.setattr(vlm._processor, "chat_template", None)
    assert vlm.chat_text(PROMPT, 2) == "<image><image>" + PROMPT
    ids = vlm.inputs(PROMPT, [jpeg(0), jpeg(1)])["input_ids"][0].tolist()
    assert ids.count(image_token_id(vlm)) == 2 * tiny_vision.VLM_IMAGE_TOKENS


def test_bytes_that_are_no_image_are_an_invalid_argument_naming_which(vlm):
    with pytest.raises(InvalidArgument, match="image 1 is not a readable JPEG"):
        vlm.generate(PROMPT, 4, images=[jpeg(0), b"not a jpeg"])
