"""What every longwatch gRPC server shares: error mapping, health, reflection, limits.

Each service's `app.py` builds one `ServiceServer`, registers its servicer, loads its
models, then calls `set_serving()`. Health stays NOT_SERVING until then, so a
launcher that waits on health never sends work to a server that cannot do it yet.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Protocol

import grpc
import pydantic
from google.protobuf.message import DecodeError
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from longwatch import errors, security, tracing
from longwatch.redaction import redact
from longwatch.settings import Profile, setting_variables, unknown_variables
from longwatch.validation import quote_prefix

logger = logging.getLogger(__name__)

# 64 MiB: a batch of keyframes or a long evidence list fits; a runaway message does not.
MAX_MESSAGE_BYTES = 64 * 1024 * 1024
CHANNEL_OPTIONS = [
    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
]

# gRPC turns SO_REUSEPORT on by default on Linux, so a second server on a taken port
# would bind silently and share its traffic; off, the second one fails with a clear error.
SERVER_OPTIONS = [*CHANNEL_OPTIONS, ("grpc.so_reuseport", 0)]

STATUS_BY_ERROR: dict[type[errors.LongwatchError], grpc.StatusCode] = {
    errors.InvalidArgument: grpc.StatusCode.INVALID_ARGUMENT,
    errors.NotFound: grpc.StatusCode.NOT_FOUND,
    errors.AlreadyExists: grpc.StatusCode.ALREADY_EXISTS,
    errors.FailedPrecondition: grpc.StatusCode.FAILED_PRECONDITION,
    errors.Unavailable: grpc.StatusCode.UNAVAILABLE,
    errors.ResourceExhausted: grpc.StatusCode.RESOURCE_EXHAUSTED,
    errors.DeadlineExceeded: grpc.StatusCode.DEADLINE_EXCEEDED,
    errors.Unauthenticated: grpc.StatusCode.UNAUTHENTICATED,
}
# Longest status detail sent: well under gRPC's 8 KiB metadata limit, past which the client would see
# RESOURCE_EXHAUSTED instead of the real code. Messages quote values short already; this is the backstop.
MAX_DETAIL_CHARS = 1000

# Trailing metadata on every status a longwatch server sends: a client that sees it knows the server was
# reached and its details say what is wrong (memory being down, for perception or the reasoner); one
# without it is the transport's own ("failed to connect"), and the client names the service it called.
ANSWERED_KEY = "longwatch-answered"
_ANSWERED = ((ANSWERED_KEY, "1"),)

Deserializer = Callable[[bytes], Any]


def status_for(error: errors.LongwatchError) -> grpc.StatusCode:
    for error_type, code in STATUS_BY_ERROR.items():
        if isinstance(error, error_type):
            return code
    return grpc.StatusCode.UNKNOWN


def _detail(text: str) -> str:
    text = redact(text)  # a source URL's password never leaves in a status
    return text if len(text) <= MAX_DETAIL_CHARS else f"{text[:MAX_DETAIL_CHARS]}… ({len(text)} characters)"


# grpc's private cygrpc._ServerStoppedError, raised into a handler reading its request stream during stop().
_SERVER_STOPPED = "_ServerStoppedError"


async def _abort(context: grpc.aio.ServicerContext, exc: BaseException, method: str) -> None:
    if isinstance(exc, errors.LongwatchError):
        await context.abort(status_for(exc), _detail(str(exc)), _ANSWERED)
    if isinstance(exc, MemoryError):
        await context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, "the server ran out of memory; retry later", _ANSWERED)
    if type(exc).__name__ == _SERVER_STOPPED:
        # A request stream read while the server stops (SIGTERM mid-ingest): the client retries elsewhere.
        logger.info("%s: the server stopped while the call was still reading its requests", method)
        await context.abort(grpc.StatusCode.UNAVAILABLE, "the service is stopping; retry once it is back", _ANSWERED)
    logger.exception("bug in %s", method)
    details = _detail(f"internal error in {method}: {type(exc).__name__}: {exc}")
    await context.abort(grpc.StatusCode.INTERNAL, details, _ANSWERED)


def _decode(deserialize: Deserializer | None, raw: bytes, method: str) -> Any:
    """The request message, or InvalidArgument (logged in one line) for bytes that are not one.

    The handlers are registered without a deserializer so that this runs inside the error mapping:
    grpc's own decode failure would reach the client as UNKNOWN and log a traceback."""
    if deserialize is None:
        return raw
    try:
        return deserialize(raw)
    except DecodeError as exc:  # also: invalid UTF-8 in a string field, nesting past the recursion limit
        logger.info("%s: refused %d bytes that are not a valid request: %s", method, len(raw), exc)
        raise errors.InvalidArgument(
            f"the request is not a valid protobuf message for {method} ({quote_prefix(str(exc), 160)}); "
            "send the message the method's .proto defines"
        ) from None


async def _decoded(requests: Any, deserialize: Deserializer | None, method: str) -> Any:
    async for raw in requests:
        yield _decode(deserialize, raw, method)


def _wrap_unary(
    behaviour: Callable[..., Awaitable[Any]], method: str, deserialize: Deserializer | None, is_streaming: bool
) -> Callable[..., Awaitable[Any]]:
    async def wrapped(request_or_iterator: Any, context: grpc.aio.ServicerContext) -> Any:
        tracing.use_request_id(context.invocation_metadata())
        logger.debug("call %s", method)  # an access log at DEBUG, under the request's id
        try:
            request = _request(request_or_iterator, deserialize, method, is_streaming)
            return await behaviour(request, context)
        except asyncio.CancelledError:
            raise
        except grpc.aio.AbortError:
            raise
        except Exception as exc:  # noqa: BLE001 - mapped to a status, never a crash
            await _abort(context, exc, method)

    return wrapped


def _request(request_or_iterator: Any, deserialize: Deserializer | None, method: str, is_streaming: bool) -> Any:
    if is_streaming:
        return _decoded(request_or_iterator, deserialize, method)
    return _decode(deserialize, request_or_iterator, method)


def _wrap_stream(
    behaviour: Callable[..., Any], method: str, deserialize: Deserializer | None, is_streaming: bool
) -> Callable[..., Any]:
    async def wrapped(request_or_iterator: Any, context: grpc.aio.ServicerContext) -> Any:
        tracing.use_request_id(context.invocation_metadata())
        logger.debug("call %s", method)  # an access log at DEBUG, under the request's id
        try:
            request = _request(request_or_iterator, deserialize, method, is_streaming)
            async for response in behaviour(request, context):
                yield response
        except asyncio.CancelledError:
            raise
        except grpc.aio.AbortError:
            raise
        except Exception as exc:  # noqa: BLE001 - mapped to a status, never a crash
            await _abort(context, exc, method)

    return wrapped


class ErrorInterceptor(grpc.aio.ServerInterceptor):
    """Maps `LongwatchError` subclasses to canonical status codes; anything else is INTERNAL.

    Requests are decoded inside that mapping (the handlers get no deserializer of their own), so bytes
    that are not the request message are INVALID_ARGUMENT too."""

    async def intercept_service(self, continuation, handler_call_details):  # type: ignore[override]
        handler = await continuation(handler_call_details)
        if handler is None:
            return None
        method = handler_call_details.method
        decode = handler.request_deserializer
        if handler.unary_unary:
            wrapped = _wrap_unary(handler.unary_unary, method, decode, is_streaming=False)
            return grpc.unary_unary_rpc_method_handler(wrapped, None, handler.response_serializer)
        if handler.stream_unary:
            wrapped = _wrap_unary(handler.stream_unary, method, decode, is_streaming=True)
            return grpc.stream_unary_rpc_method_handler(wrapped, None, handler.response_serializer)
        if handler.unary_stream:
            wrapped = _wrap_stream(handler.unary_stream, method, decode, is_streaming=False)
            return grpc.unary_stream_rpc_method_handler(wrapped, None, handler.response_serializer)
        wrapped = _wrap_stream(handler.stream_stream, method, decode, is_streaming=True)
        return grpc.stream_stream_rpc_method_handler(wrapped, None, handler.response_serializer)


class ServiceServer:
    """A grpc.aio server with health (NOT_SERVING until `set_serving`) and reflection."""

    def __init__(self, host: str, port: int, service_names: Iterable[str], token: str | None = None) -> None:
        """`token`: the API token every call but health must carry (None: LONGWATCH_API_TOKEN or its file;
        "": none required)."""
        self.address = f"{host}:{port}"
        self._service_names = list(service_names)
        token = security.token_from_env() if token is None else token
        interceptors: list[grpc.aio.ServerInterceptor] = [security.TokenInterceptor(token)] if token else []
        self._server = grpc.aio.server(interceptors=[*interceptors, ErrorInterceptor()], options=SERVER_OPTIONS)
        self.requires_token = bool(token)
        self._health = health.aio.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self._health, self._server)
        reflection.enable_server_reflection(
            [*self._service_names, health.SERVICE_NAME, reflection.SERVICE_NAME], self._server
        )

    @property
    def grpc_server(self) -> grpc.aio.Server:
        """For `add_<Service>Servicer_to_server`."""
        return self._server

    async def start(self) -> None:
        """Binds the port and starts answering; health says NOT_SERVING until `set_serving`."""
        credentials = security.server_credentials()
        try:
            if credentials is None:
                self._server.add_insecure_port(self.address)
            else:
                self._server.add_secure_port(self.address, credentials)
        except RuntimeError as exc:
            raise errors.Unavailable(
                f"cannot listen on {self.address} ({exc}); is another longwatch running? choose another port"
            ) from exc
        await self._set_status(health_pb2.HealthCheckResponse.NOT_SERVING)
        await self._server.start()
        guards = [name for name, on in (("TLS", credentials is not None), ("API token", self.requires_token)) if on]
        logger.info("listening on %s%s", self.address, f" ({' and '.join(guards)} required)" if guards else "")

    async def set_serving(self) -> None:
        await self._set_status(health_pb2.HealthCheckResponse.SERVING)
        logger.info("serving %s", ", ".join(self._service_names))

    async def stop(self, grace_s: float) -> None:
        """Says NOT_SERVING, then lets in-flight calls finish for up to `grace_s` seconds."""
        await self._set_status(health_pb2.HealthCheckResponse.NOT_SERVING)
        await self._server.stop(grace_s)

    async def _set_status(self, status: int) -> None:
        for name in ["", *self._service_names]:
            await self._health.set(name, status)


async def run_until_signalled(start: Callable[[], Awaitable[None]], stop: Callable[[], Awaitable[None]]) -> None:
    """Runs `start`, waits for SIGINT or SIGTERM, then runs `stop`."""
    stop_event = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop_event.set)
    try:
        await start()
        await stop_event.wait()
        logger.info("stopping")
    finally:
        await stop()


def configure_logging(level: str, log_format: str = "text") -> None:
    """Configures the root logger once per process: every line names its logger and the request it serves
    (text, or JSON lines with `log_format` "json"), with credentials in URLs redacted."""
    logging.basicConfig(level=level.upper())
    tracing.configure_handlers(log_format)
    security.install_log_redaction()


def start_metrics_endpoint(host: str, port: int) -> Any | None:
    """Serves Prometheus metrics on http://host:port/metrics (port 0: off); returns the server to shut down."""
    if not port:
        return None
    from prometheus_client import start_http_server

    server, _ = start_http_server(port, addr=host)
    logger.info("metrics on http://%s:%d/metrics", host, port)
    return server


class ServiceApp(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...


def serve_process(
    description: str, env_prefix: str, load_settings: Callable[[], Any], make_app: Callable[[Any], ServiceApp]
) -> None:
    """A service process's `main`: reads its settings (exit 2 naming the bad ones), configures logging,
    keeps the offline profiles off the network, and serves until SIGINT or SIGTERM (exit 1 if it cannot start).
    It takes no arguments: `--help` (or anything else) prints where its settings come from and exits."""
    if len(sys.argv) > 1:
        is_help = sys.argv[1] in ("-h", "--help")
        stream = sys.stdout if is_help else sys.stderr
        stream.write(
            f"the {description} service takes no arguments: it reads {env_prefix}* and LONGWATCH_* environment "
            "variables (see README.md, Configuration), or run all three with `longwatch up`\n"
        )
        raise SystemExit(0 if is_help else 2)
    try:
        settings = load_settings()
    except (pydantic.ValidationError, errors.InvalidArgument) as exc:  # InvalidArgument: LONGWATCH_CONFIG_FILE
        configure_logging("INFO")
        logger.error("invalid %s settings (%s*):\n%s", description, env_prefix, exc)
        raise SystemExit(2) from None
    configure_logging(settings.log_level, settings.log_format)
    fields = type(settings).model_fields
    unknown = unknown_variables(env_prefix, fields, os.environ)
    if unknown:
        valid = ", ".join(sorted(name for name in setting_variables(env_prefix, fields) if name.startswith(env_prefix)))
        logger.error("unknown %s settings: %s; valid: %s", description, ", ".join(unknown), valid)
        raise SystemExit(2)
    if settings.profile in (Profile.TINY, Profile.CPU):
        # Their models come from PyPI packages or are built locally; a hub lookup could only hang or fail.
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ["TRANSFORMERS_OFFLINE"] = "1"
    app = make_app(settings)
    try:
        asyncio.run(run_until_signalled(app.start, app.stop))
    except (errors.LongwatchError, OSError) as exc:  # OSError: a data dir, model cache or port it cannot use
        logger.error("%s cannot start: %s", description, exc)
        raise SystemExit(1) from None
