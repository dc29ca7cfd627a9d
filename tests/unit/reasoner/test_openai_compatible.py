"""The OpenAI-compatible backend against a fake server on loopback that ignores `stop` and answers with canned
replies (tests/integration/test_openai_server.py runs it against one that computes its replies)."""

from __future__ import annotations

import json
import re
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from longwatch.errors import FailedPrecondition, InvalidArgument, Unavailable
from reasoner.core.llm import LLM
from reasoner.core.llm.openai_compatible import OpenAICompatibleLLM

# The fake server's log-prob of a word: digits are likely, anything else is not.
DIGIT_LOGPROB, WORD_LOGPROB = -0.5, -3.0


def _echo_choice(index: int, prompt: str) -> dict:
    """Echoes `prompt` word by word with log-probs and offsets, as vLLM does with echo and logprobs."""
    pieces = list(re.finditer(r"\s*\S+", prompt))
    logprobs = [None] + [
        DIGIT_LOGPROB if piece.group().strip().isdigit() else WORD_LOGPROB for piece in pieces[1:]
    ]  # the first token has no log-prob
    return {
        "index": index,
        "text": prompt + " x",
        "logprobs": {
            "tokens": [piece.group() for piece in pieces] + [" x"],
            "token_logprobs": logprobs + [-9.0],  # the one generated token, to be ignored
            "text_offset": [piece.start() for piece in pieces] + [len(prompt)],
        },
    }


class FakeCompletions(BaseHTTPRequestHandler):
    requests: list[tuple[str, dict, str]] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.requests.append((self.path, body, self.headers.get("Authorization", "")))
        if body["model"] == "behind-a-login-page":
            return self._send_html()
        if body["model"] != "gemma-served":
            return self._send(404, {"error": f"model {body['model']} does not exist"})
        if self.path == "/v1/chat/completions":
            # A refusal has no content; anything else gets a reply running past the stop.
            content = None if "refuse" in body["messages"][0]["content"] else "KPL 4721|and more"
            return self._send(200, {"choices": [{"index": 0, "message": {"role": "assistant", "content": content}}]})
        if self.path != "/v1/completions":
            return self._send(404, {"error": "no such path"})
        if body.get("echo"):
            # Out of order, as a server may send them: the client sorts by index.
            choices = [_echo_choice(i, p) for i, p in reversed(list(enumerate(body["prompt"])))]
            return self._send(200, {"choices": choices})
        # Ignores `stop`, as some servers do, so the client must cut.
        return self._send(200, {"choices": [{"index": 0, "text": " KPL 4721\nQuestion: next"}]})

    def _send(self, status: int, payload: dict) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _send_html(self) -> None:
        data = b"<html>please log in</html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server_url() -> Iterator[str]:
    FakeCompletions.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeCompletions)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def test_generate_is_greedy_and_cut_at_the_stop(server_url):
    llm = OpenAICompatibleLLM(server_url, "gemma-served", api_key="tok")
    assert llm.generate("Question: plate?\nAnswer:", 8, stop=["\n"]) == " KPL 4721"
    path, body, auth = FakeCompletions.requests[0]
    assert path == "/v1/completions"
    assert (body["prompt"], body["max_tokens"], body["temperature"], body["stop"]) == (
        "Question: plate?\nAnswer:",
        8,
        0,
        ["\n"],
    )
    assert auth == "Bearer tok"


def test_score_averages_the_continuation_tokens_only(server_url):
    llm = OpenAICompatibleLLM(server_url + "/", "gemma-served")
    scores = llm.score("Question: code?\nAnswer:", [" 7315", " EXIT 42", " ALARM CODE"])
    assert scores == pytest.approx([DIGIT_LOGPROB, (WORD_LOGPROB + DIGIT_LOGPROB) / 2, WORD_LOGPROB])
    assert scores.index(max(scores)) == 0
    _, body, auth = FakeCompletions.requests[0]
    assert body["echo"] is True and body["logprobs"] == 1 and len(body["prompt"]) == 3
    assert auth == ""
    assert llm.score("prompt", []) == []
    assert len(FakeCompletions.requests) == 1


def test_unknown_model_is_a_failed_precondition_naming_it(server_url):
    llm = OpenAICompatibleLLM(server_url, "missing")
    with pytest.raises(FailedPrecondition, match="missing"):
        llm.generate("Answer:", 4)


def test_unreachable_server_is_unavailable():
    with socket.socket() as sock:  # a loopback port that nothing listens on once closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    llm = OpenAICompatibleLLM(f"http://127.0.0.1:{port}/v1", "gemma-served", timeout_s=5)
    with pytest.raises(Unavailable, match="cannot reach the LLM server"):
        llm.generate("Answer:", 4)


def test_missing_model_name_says_which_variable_to_set():
    with pytest.raises(InvalidArgument, match="LONGWATCH_REASONER_OPENAI_MODEL"):
        OpenAICompatibleLLM("http://127.0.0.1:1/v1", "")


def test_completion_mode_scores_and_sees_no_images():
    llm = OpenAICompatibleLLM("http://127.0.0.1:1/v1", "gemma-served")
    assert isinstance(llm, LLM)
    assert llm.can_score and not llm.sees_images


def test_chat_mode_reply_is_cut_at_the_stop_the_server_ignored(server_url):
    llm = OpenAICompatibleLLM(server_url, "gemma-served", mode="chat")
    assert llm.generate("Question: plate?\nAnswer:", 8, stop=["\n", "|"]) == "KPL 4721"
    assert llm.generate("refuse this", 8) == ""  # no content: an empty reply, not an error


def test_at_most_four_stops_are_sent_and_all_are_cut_here(server_url):
    llm = OpenAICompatibleLLM(server_url, "gemma-served", mode="chat")
    assert llm.generate("Answer:", 8, stop=["a", "", "b", "c", "d", "|"]) == "KPL 4721"
    _, body, _ = FakeCompletions.requests[0]
    assert body["stop"] == ["a", "b", "c", "d"]  # OpenAI's API refuses a fifth


def test_a_reply_that_is_not_json_is_unavailable_naming_the_url_setting(server_url):
    llm = OpenAICompatibleLLM(server_url, "behind-a-login-page")
    with pytest.raises(Unavailable, match="not an OpenAI response.*LONGWATCH_REASONER_OPENAI_BASE_URL"):
        llm.generate("Answer:", 4)


def test_an_unknown_mode_lists_the_valid_ones():
    with pytest.raises(InvalidArgument, match="completion, chat"):
        OpenAICompatibleLLM("http://127.0.0.1:1/v1", "gemma-served", mode="responses")


def test_vision_needs_chat_mode():
    with pytest.raises(InvalidArgument, match="LONGWATCH_REASONER_OPENAI_MODE=chat"):
        OpenAICompatibleLLM("http://127.0.0.1:1/v1", "gemma-served", vision=True)
