"""The openai-compatible LLM backend against a real HTTP server on loopback (tests/integration/openai_server.py),
in completion and chat mode: generation, scoring, images, errors, credentials, a server that went away."""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from longwatch.errors import FailedPrecondition, Unavailable
from reasoner.core.llm import LLM, load_llm
from reasoner.core.llm.openai_compatible import OpenAICompatibleLLM
from reasoner.core.types import LLMOptions
from tests.integration.openai_server import LIKELY_LOGPROB, UNLIKELY_LOGPROB, OpenAIServer

MODEL = "served-model"
PROMPT = "Screen: gate camera, plate KPL-4721, then a sign EXIT-42\nQuestion: which sign?\nAnswer:"


def jpeg(seed: int) -> bytes:
    pixels = np.random.default_rng(seed).integers(0, 255, (24, 32, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "JPEG")
    return buffer.getvalue()


@pytest.fixture
def server() -> Iterator[OpenAIServer]:
    running = OpenAIServer(MODEL).start()
    yield running
    running.stop()


@pytest.fixture
def completion(server) -> Iterator[OpenAICompatibleLLM]:
    llm = OpenAICompatibleLLM(server.url, MODEL, timeout_s=10)
    yield llm
    llm.close()


@pytest.fixture
def chat(server) -> Iterator[OpenAICompatibleLLM]:
    llm = OpenAICompatibleLLM(server.url, MODEL, timeout_s=10, mode="chat", vision=True)
    yield llm
    llm.close()


def test_completion_mode_generates_from_the_prompt_within_max_tokens_and_stop(server, completion):
    assert completion.generate(PROMPT, 8, stop=["\n"]) == " EXIT-42"
    assert completion.generate(PROMPT, 8).startswith(" EXIT-42\nQuestion:")  # no stop: it runs on
    assert completion.generate(PROMPT, 1) == " EXIT-42"
    assert completion.generate("Screen: KPL-4721\nNo question", 4) == " ok"
    first = server.requests[0]
    assert first.path == "/v1/completions"
    assert (first.body["prompt"], first.body["max_tokens"], first.body["stop"], first.body["temperature"]) == (
        PROMPT,
        8,
        ["\n"],
        0,
    )
    assert "stop" not in server.requests[1].body


def test_chat_mode_sends_the_prompt_as_one_user_message(server, chat):
    assert chat.generate(PROMPT, 8, stop=["\n"]) == " EXIT-42"
    received = server.requests[0]
    assert received.path == "/v1/chat/completions"
    assert received.body["messages"] == [{"role": "user", "content": PROMPT}]  # no images: plain text
    assert (received.body["max_tokens"], received.body["stop"], received.body["temperature"]) == (8, ["\n"], 0)
    assert "prompt" not in received.body


def test_completion_mode_scores_a_continuation_found_in_the_prompt_higher(server, completion):
    scores = completion.score(PROMPT, [" KPL-4721", " ZZZ-0000", " EXIT-42 gate"])
    assert scores == pytest.approx([LIKELY_LOGPROB, UNLIKELY_LOGPROB, LIKELY_LOGPROB])
    assert scores[0] > scores[1]
    (received,) = server.requests  # one request for all three
    assert received.body["echo"] is True and received.body["logprobs"] == 1
    assert received.body["prompt"] == [PROMPT + " KPL-4721", PROMPT + " ZZZ-0000", PROMPT + " EXIT-42 gate"]


def test_chat_mode_cannot_score_and_says_which_mode_can(server, chat):
    assert not chat.can_score and chat.sees_images
    with pytest.raises(FailedPrecondition, match="LONGWATCH_REASONER_OPENAI_MODE=completion"):
        chat.score(PROMPT, [" KPL-4721"])
    assert server.requests == []  # refused before asking the server


def test_images_arrive_decoded_before_the_prompt(server, chat):
    images = [jpeg(0), jpeg(1)]
    assert chat.generate(PROMPT, 8, stop=["\n"], images=images) == " EXIT-42"
    received = server.requests[0]
    assert received.images == tuple(images)
    parts = received.body["messages"][0]["content"]
    assert [part["type"] for part in parts] == ["image_url", "image_url", "text"]
    assert parts[0]["image_url"]["url"] == "data:image/jpeg;base64," + base64.b64encode(images[0]).decode()
    assert parts[2]["text"] == PROMPT


def test_a_chat_model_without_vision_is_sent_no_images(server):
    llm = OpenAICompatibleLLM(server.url, MODEL, mode="chat")
    assert not llm.sees_images
    assert llm.generate(PROMPT, 8, stop=["\n"], images=[jpeg(0)]) == " EXIT-42"
    assert server.requests[0].images == ()
    assert server.requests[0].body["messages"][0]["content"] == PROMPT


def test_the_settings_options_choose_the_mode(server, tmp_path: Path):
    options = LLMOptions(model_cache=tmp_path, base_url=server.url, api_model=MODEL, api_mode="chat", api_vision=True)
    llm = load_llm("openai-compatible", options)
    assert isinstance(llm, LLM) and (llm.can_score, llm.sees_images) == (False, True)
    llm.generate(PROMPT, 2, images=[jpeg(3)])
    assert server.requests[0].path == "/v1/chat/completions" and server.requests[0].images == (jpeg(3),)


@pytest.mark.parametrize("mode", ["completion", "chat"])
def test_a_server_error_is_unavailable(server, mode):
    llm = OpenAICompatibleLLM(server.url, MODEL, mode=mode)
    server.fail_next(500)
    with pytest.raises(Unavailable, match=r"failed \(500\)"):
        llm.generate(PROMPT, 4)
    assert llm.generate(PROMPT, 4, stop=["\n"]) == " EXIT-42"  # the next request is served again


@pytest.mark.parametrize("mode", ["completion", "chat"])
def test_a_refused_request_is_a_failed_precondition_naming_the_model(server, mode):
    llm = OpenAICompatibleLLM(server.url, "not-served", mode=mode)
    with pytest.raises(FailedPrecondition, match=r"\(400\).*LONGWATCH_REASONER_OPENAI_MODEL='not-served'"):
        llm.generate(PROMPT, 4)
    server.fail_next(400)
    with pytest.raises(FailedPrecondition, match=r"\(400\)"):
        OpenAICompatibleLLM(server.url, MODEL, mode=mode).generate(PROMPT, 4)


def test_the_bearer_token_is_sent_when_configured():
    server = OpenAIServer(MODEL, api_key="s3cret").start()
    try:
        assert OpenAICompatibleLLM(server.url, MODEL, api_key="s3cret").generate(PROMPT, 4, ["\n"]) == " EXIT-42"
        assert server.requests[0].authorization == "Bearer s3cret"
        with pytest.raises(FailedPrecondition, match="LONGWATCH_REASONER_OPENAI_API_KEY"):
            OpenAICompatibleLLM(server.url, MODEL).generate(PROMPT, 4)
        assert server.requests[1].authorization == ""
    finally:
        server.stop()


def test_a_stopped_server_is_unavailable_saying_where_it_was_looked_for(server, completion):
    assert completion.generate(PROMPT, 4, ["\n"]) == " EXIT-42"
    server.stop()
    with pytest.raises(Unavailable, match=rf"cannot reach the LLM server at {server.url}.*is it running\?"):
        completion.generate(PROMPT, 4)
