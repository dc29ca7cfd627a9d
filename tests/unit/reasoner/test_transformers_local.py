"""The transformers backend on the tiny random Llama (built locally in a second): real code paths, no real weights."""

from __future__ import annotations

import math

import pytest
import torch

from reasoner.core.llm import load_llm
from reasoner.core.llm.transformers_local import TINY_CACHE_NAME, TransformersLLM
from reasoner.core.types import LLMOptions


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> TransformersLLM:
    return load_llm("tiny", LLMOptions(model_cache=tmp_path_factory.mktemp("models")))


def test_tiny_is_prepared_once_in_the_model_cache(tiny, tmp_path_factory):
    assert tiny.name == TINY_CACHE_NAME


def test_generate_is_greedy_bounded_and_cut_before_the_stop(tiny):
    prompt = "the screen shows alarm code"
    full = tiny.generate(prompt, max_new_tokens=12)
    short = tiny.generate(prompt, max_new_tokens=3)
    assert full.startswith(short) and len(short) < len(full)  # stops at the token budget
    assert tiny.generate(prompt, 12) == full  # greedy: the same every time
    assert len(full) > 2, "the tiny model generated almost nothing; pick another prompt"
    stop = full[len(full) // 2 :][:2]
    cut = tiny.generate(prompt, 12, stop=[stop])
    assert cut == full[: full.find(stop)]


def test_score_matches_a_plain_forward_pass_per_continuation(tiny):
    prompt = "a car with number plate"
    continuations = [" 1037", " parks at the gate", " exit"]
    scores = tiny.score(prompt, continuations)
    assert len(scores) == 3 and all(math.isfinite(score) for score in scores)
    tokenizer, model = tiny._tokenizer, tiny._model
    prompt_ids = tokenizer(prompt)["input_ids"]
    for continuation, score in zip(continuations, scores, strict=True):
        ids = tokenizer(continuation, add_special_tokens=False)["input_ids"]
        with torch.inference_mode():
            logits = model(torch.tensor([prompt_ids + ids])).logits[0]  # (P + C, V)
        log_probs = torch.log_softmax(logits.float(), dim=-1)
        expected = sum(log_probs[len(prompt_ids) - 1 + i, token].item() for i, token in enumerate(ids)) / len(ids)
        assert score == pytest.approx(expected, abs=1e-4)
    assert tiny.score(prompt, []) == []


def test_a_text_model_scores_and_ignores_images(tiny):
    assert tiny.can_score and not tiny.sees_images
    assert tiny.generate("the gate", 6, images=[b"\xff\xd8 not even read"]) == tiny.generate("the gate", 6)
