"""Request ids: one id per user request, carried in gRPC metadata from the CLI or SDK through every service
it reaches, and on every log line written while serving it.

A client call sends `x-request-id`: the id of the request being served when a service calls another (so
the reasoner's Searches to memory carry the Ask's id), else the one a CLI command set for itself with
`new_request_id`, else a fresh one per call. A server takes the id it is sent (or makes one when it is
missing or malformed) for the whole call; `RequestIdFilter` puts it on each log record as `request_id`,
and `configure` writes it in text or JSON lines.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import uuid
from typing import Any

import grpc

from longwatch.call_metadata import MetadataInterceptor

REQUEST_ID_KEY = "x-request-id"
_NO_REQUEST = "-"
_VALID = re.compile(r"^[A-Za-z0-9._\-]{1,64}$")
_current: contextvars.ContextVar[str] = contextvars.ContextVar("longwatch_request_id", default="")

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"


def current_request_id() -> str:
    """The id of the request this code is serving ("" outside one)."""
    return _current.get()


def new_request_id() -> str:
    """Starts a request here (a CLI command): its calls, and the services' calls for them, carry this id."""
    request_id = uuid.uuid4().hex[:16]
    _current.set(request_id)
    return request_id


def use_request_id(metadata: Any) -> str:
    """Takes the id a call was sent (a fresh one when it has none, or one that is not 1 to 64 letters,
    digits, '.', '_' or '-') as the current request's, and returns it. gRPC serves each call in a task of
    its own, whose context this sets: nothing to undo when the call ends."""
    sent = ""
    for key, value in metadata or ():
        if key == REQUEST_ID_KEY and isinstance(value, str):
            sent = value
    request_id = sent if _VALID.match(sent) else uuid.uuid4().hex[:16]
    _current.set(request_id)
    return request_id


class RequestIdFilter(logging.Filter):
    """Gives every record the current request's id as `request_id` ("-" outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _current.get() or _NO_REQUEST
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, request id, message (and the traceback, if any)."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": self.formatTime(record),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", _NO_REQUEST),
            "message": record.getMessage(),
        }
        if record.exc_info:
            line["exception"] = record.exc_text or self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def configure_handlers(log_format: str) -> None:
    """Request ids on every handler of the root logger, as text (the default) or JSON lines."""
    for handler in logging.getLogger().handlers:
        if not any(isinstance(existing, RequestIdFilter) for existing in handler.filters):
            handler.addFilter(RequestIdFilter())
        handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT))


def _add_request_id(metadata: grpc.aio.Metadata) -> None:
    if REQUEST_ID_KEY not in metadata:
        metadata.add(REQUEST_ID_KEY, _current.get() or uuid.uuid4().hex[:16])


def client_interceptors() -> list[grpc.aio.ClientInterceptor]:
    """Sends the current request's id (a fresh one outside a request) on every call of a channel."""
    return [MetadataInterceptor(_add_request_id)]
