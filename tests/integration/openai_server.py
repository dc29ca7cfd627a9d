"""A small OpenAI-compatible server on loopback, for testing the openai-compatible LLM backend over real HTTP.

It serves `/v1/completions` (a prompt string or a list; `max_tokens`, `stop`, `echo` with `logprobs`) and
`/v1/chat/completions` (messages, content parts with base64 images), and records every request. Its replies
are computed from the request, so a test can tell a real round trip from a canned one:
- the reply to a prompt ending "Answer:" is the last upper-case code in it ("KPL-4721"), followed by a new
  "Question:" line (a stop of "\\n" cuts it there); any other prompt gets " ok". `max_tokens` counts
  whitespace-separated tokens.
- a token's log-prob is LIKELY_LOGPROB when its word occurs as an earlier token of the text, else UNLIKELY_LOGPROB,
  so a continuation quoting the prompt scores higher than one that does not.
Tokens are whitespace-separated words with their leading space (" KPL-4721"), offsets in characters.
"""

from __future__ import annotations

import base64
import json
import re
import threading
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from orchestration.health import free_port

LIKELY_LOGPROB = -0.5  # a word seen earlier in the text
UNLIKELY_LOGPROB = -4.0  # a word not seen before
DEFAULT_MAX_TOKENS = 16  # OpenAI's default for /completions
HOST = "127.0.0.1"
# How often the serving loop looks for a shutdown request, in seconds (http.server's 0.5 s makes every test wait).
_SHUTDOWN_POLL_S = 0.02

_TOKEN = re.compile(r"\s*\S+")
# Three or more upper-case letters, digits or hyphens, at least one a letter: "KPL-4721", "EXIT", "B7".
_CODE = re.compile(r"\b(?=[A-Z0-9-]*[A-Z])[A-Z0-9-]{3,}\b")
_JPEG_DATA_URL = "data:image/jpeg;base64,"
_PUNCTUATION = ".,;:!?"  # around a word, ignored when it is compared with earlier ones ("KPL-4721," is KPL-4721)


@dataclass(frozen=True)
class Received:
    """One request as the server got it."""

    path: str
    body: dict[str, Any]
    authorization: str  # the Authorization header, "" when none
    images: tuple[bytes, ...] = ()  # chat: the image parts' bytes, base64-decoded, in order


def reply_text(prompt: str) -> str:
    """What the server generates for a prompt, before `max_tokens` and `stop`."""
    if not prompt.rstrip().endswith("Answer:"):
        return " ok"
    codes = _CODE.findall(prompt)
    return f" {codes[-1] if codes else 'unknown'}\nQuestion: anything else?"


def generated(prompt: str, max_tokens: int, stop: list[str]) -> str:
    """`reply_text` cut to `max_tokens` tokens and before the first stop string, as a server does."""
    text = "".join(_TOKEN.findall(reply_text(prompt))[:max_tokens])
    cuts = [text.find(marker) for marker in stop if marker and marker in text]
    return text[: min(cuts)] if cuts else text


def logprobs_of(text: str) -> dict[str, Any]:
    """OpenAI's `logprobs` object over the whitespace tokens of `text`; the first token has none."""
    pieces = list(_TOKEN.finditer(text))
    seen: set[str] = set()
    values: list[float | None] = []
    for position, piece in enumerate(pieces):
        word = piece.group().strip().strip(_PUNCTUATION)
        values.append(None if position == 0 else LIKELY_LOGPROB if word in seen else UNLIKELY_LOGPROB)
        seen.add(word)
    return {
        "tokens": [piece.group() for piece in pieces],
        "token_logprobs": values,
        "text_offset": [piece.start() for piece in pieces],
        "top_logprobs": None,
    }


class RequestRefused(Exception):
    """Answered with `status` and an OpenAI-style error body."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _stops(body: dict[str, Any]) -> list[str]:
    stop = body.get("stop") or []
    return [stop] if isinstance(stop, str) else list(stop)


def _completions(body: dict[str, Any]) -> dict[str, Any]:
    prompts = body.get("prompt")
    prompts = [prompts] if isinstance(prompts, str) else prompts
    if not isinstance(prompts, list) or not all(isinstance(prompt, str) for prompt in prompts):
        raise RequestRefused(400, "prompt must be a string or a list of strings")
    max_tokens, stop = int(body.get("max_tokens", DEFAULT_MAX_TOKENS)), _stops(body)
    choices = []
    for index, prompt in enumerate(prompts):
        text = generated(prompt, max_tokens, stop)
        echoed = prompt + text if body.get("echo") else text
        choice: dict[str, Any] = {"index": index, "text": echoed, "finish_reason": "stop"}
        if body.get("logprobs") is not None:
            choice["logprobs"] = logprobs_of(echoed)
        choices.append(choice)
    choices.reverse()  # out of order, as a server may send them: the client sorts by index
    return {"object": "text_completion", "model": body["model"], "choices": choices}


def _user_turn(body: dict[str, Any]) -> tuple[str, tuple[bytes, ...]]:
    """The text and the decoded images of the last user message."""
    users = [message for message in body.get("messages") or [] if message.get("role") == "user"]
    if not users:
        raise RequestRefused(400, "messages must hold a user message")
    content = users[-1].get("content")
    if isinstance(content, str):
        return content, ()
    texts, images = [], []
    for part in content or []:
        if part.get("type") == "text":
            texts.append(part["text"])
        elif part.get("type") == "image_url":
            url = part["image_url"]["url"]
            if not url.startswith(_JPEG_DATA_URL):
                raise RequestRefused(400, f"only JPEG data URLs are served here, not {url[:40]!r}")
            images.append(base64.b64decode(url.removeprefix(_JPEG_DATA_URL), validate=True))
        else:
            raise RequestRefused(400, f"unknown content part type {part.get('type')!r}")
    return "".join(texts), tuple(images)


def _chat(body: dict[str, Any], text: str) -> dict[str, Any]:
    content = generated(text, int(body.get("max_tokens", DEFAULT_MAX_TOKENS)), _stops(body))
    message = {"role": "assistant", "content": content}
    return {"object": "chat.completion", "model": body["model"], "choices": [{"index": 0, "message": message}]}


class OpenAIServer:
    """Serves on a free loopback port in a background thread, from `start()` until `stop()`."""

    def __init__(self, model: str = "served-model", api_key: str = "") -> None:
        self.model = model
        self.api_key = api_key
        self.requests: list[Received] = []
        self._failures: deque[int] = deque()
        self._httpd = ThreadingHTTPServer((HOST, free_port(HOST)), _Handler)
        self._httpd.app = self  # type: ignore[attr-defined]  # how the handler finds this server
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": _SHUTDOWN_POLL_S},
            name="openai-server",
            daemon=True,
        )

    @property
    def url(self) -> str:
        """The base URL a client is configured with, ending in /v1."""
        return f"http://{HOST}:{self._httpd.server_address[1]}/v1"

    def fail_next(self, status: int) -> None:
        """Answers the next request with `status` (a server in trouble), whatever it asks."""
        self._failures.append(status)

    def start(self) -> OpenAIServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()

    def answer(self, path: str, body: dict[str, Any], authorization: str) -> dict[str, Any]:
        """The reply to one request, recorded first; refusals raise RequestRefused."""
        text, images = "", ()
        try:
            if path == "/v1/chat/completions":
                text, images = _user_turn(body)
        finally:  # a malformed request is recorded too, without images
            self.requests.append(Received(path, body, authorization, images))
        if self._failures:
            raise RequestRefused(self._failures.popleft(), "the server was told to fail")
        if self.api_key and authorization != f"Bearer {self.api_key}":
            raise RequestRefused(401, "invalid API key")
        if body.get("model") != self.model:
            raise RequestRefused(400, f"The model `{body.get('model')}` does not exist.")
        if path == "/v1/completions":
            return _completions(body)
        if path == "/v1/chat/completions":
            return _chat(body, text)
        raise RequestRefused(404, f"no such path {path}")


class _Handler(BaseHTTPRequestHandler):
    server: ThreadingHTTPServer

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        app: OpenAIServer = self.server.app  # type: ignore[attr-defined]
        try:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
            self._send(200, app.answer(self.path, body, self.headers.get("Authorization", "")))
        except RequestRefused as refused:
            self._send(refused.status, {"error": {"message": str(refused), "code": refused.status}})
        except (ValueError, KeyError, TypeError, AttributeError) as exc:  # a malformed request
            self._send(400, {"error": {"message": f"bad request: {exc}", "code": 400}})

    def _send(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        """Quiet: pytest shows the test's own output, not one line per request."""
