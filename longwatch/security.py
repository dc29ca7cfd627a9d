"""What keeps a deployment's secrets: the bearer token of the external API and credentials in source URLs.

- **The token**: when `LONGWATCH_API_TOKEN` (or a file named by `LONGWATCH_API_TOKEN_FILE`, for Docker and
  Kubernetes secrets) is set, every service requires `authorization: Bearer <token>` on each call but the
  health checks, checked in one server interceptor and compared in constant time; the SDK and the CLI send
  it from the same variables, and so do the services' own clients of each other.
- **TLS**: with `LONGWATCH_TLS_CERT_FILE` and `LONGWATCH_TLS_KEY_FILE` a service listens with TLS only;
  with `LONGWATCH_TLS_CA_FILE` every client (CLI, SDK, a service calling another) connects with TLS,
  trusting that CA. Without them, plain gRPC, for loopback and a compose network of its own.
- **Credentials in URLs** (`rtsp://user:pass@camera/...`) are needed to open a camera and nowhere else:
  perception shows sources and errors through longwatch.redaction, and `RedactingFilter` redacts every
  log line of every service too (FFmpeg's and the libraries' own), so no log carries one.
"""

from __future__ import annotations

import hmac
import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import grpc

from longwatch.call_metadata import MetadataInterceptor
from longwatch.errors import InvalidArgument
from longwatch.redaction import redact

TLS_CERT_ENV = "LONGWATCH_TLS_CERT_FILE"  # a server's certificate chain (PEM)
TLS_KEY_ENV = "LONGWATCH_TLS_KEY_FILE"  # its private key (PEM)
TLS_CA_ENV = "LONGWATCH_TLS_CA_FILE"  # what a client trusts (PEM): set, every client channel uses TLS
TOKEN_ENV = "LONGWATCH_API_TOKEN"
TOKEN_FILE_ENV = "LONGWATCH_API_TOKEN_FILE"
AUTHORIZATION_KEY = "authorization"
_BEARER = "Bearer "
# Health stays open: a load balancer or `docker compose` probes it without credentials, and it tells nothing.
_OPEN_METHODS = frozenset({"/grpc.health.v1.Health/Check", "/grpc.health.v1.Health/Watch"})
_MAX_TOKEN_CHARS = 4096


class RedactingFilter(logging.Filter):
    """Redacts every record's message (its arguments merged in first), and its exception text."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            if redact(str(exc)) != str(exc):
                record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        return True


def install_log_redaction() -> None:
    """On every handler of the root logger (and on the root itself), once."""
    root = logging.getLogger()
    for target in (root, *root.handlers):
        if not any(isinstance(existing, RedactingFilter) for existing in target.filters):
            target.addFilter(RedactingFilter())


def token_from_env(environ: Mapping[str, str] | None = None) -> str:
    """The API token set for this process ("" when none): LONGWATCH_API_TOKEN, else the first line of the
    file LONGWATCH_API_TOKEN_FILE names. InvalidArgument, saying what to fix, for an unreadable file."""
    environ = os.environ if environ is None else environ
    token = environ.get(TOKEN_ENV, "")
    path = environ.get(TOKEN_FILE_ENV, "")
    if path and not token:
        try:
            token = Path(path).read_text().strip()
        except OSError as exc:
            raise InvalidArgument(
                f"{TOKEN_FILE_ENV}={path!r} cannot be read ({exc.strerror}); name a readable file"
            ) from None
        if not token:
            raise InvalidArgument(f"{TOKEN_FILE_ENV}={path!r} is empty; put the token on its first line")
    token = token.strip()
    if len(token) > _MAX_TOKEN_CHARS or any(not char.isprintable() or char.isspace() for char in token):
        raise InvalidArgument(f"the API token must be at most {_MAX_TOKEN_CHARS} printable characters without spaces")
    return token


def bearer_metadata(token: str) -> tuple[tuple[str, str], ...]:
    return ((AUTHORIZATION_KEY, _BEARER + token),) if token else ()


def _is_authorized(metadata: tuple[tuple[str, str | bytes], ...] | None, token: str) -> bool:
    for key, value in metadata or ():
        if key == AUTHORIZATION_KEY and isinstance(value, str) and value.startswith(_BEARER):
            return hmac.compare_digest(value[len(_BEARER) :].encode(), token.encode())
    return False


class TokenInterceptor(grpc.aio.ServerInterceptor):
    """Refuses, UNAUTHENTICATED, every call but the health checks that lacks `authorization: Bearer
    <token>`; the comparison takes the same time whatever the bytes that differ."""

    def __init__(self, token: str) -> None:
        self._token = token

    async def intercept_service(self, continuation, handler_call_details):  # type: ignore[override]
        if handler_call_details.method in _OPEN_METHODS or _is_authorized(
            handler_call_details.invocation_metadata, self._token
        ):
            return await continuation(handler_call_details)
        handler = await continuation(handler_call_details)
        if handler is None:
            return None
        return _refusing(handler)


_REFUSAL = "this longwatch service needs its API token: set LONGWATCH_API_TOKEN (or LONGWATCH_API_TOKEN_FILE)"


def _refusing(handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
    """A handler of the same call shape as `handler` that answers UNAUTHENTICATED, saying what to set."""

    async def unary(request: object, context: grpc.aio.ServicerContext) -> None:
        await context.abort(grpc.StatusCode.UNAUTHENTICATED, _REFUSAL)

    async def streaming(request: object, context: grpc.aio.ServicerContext):  # noqa: ANN202 - a generator
        await context.abort(grpc.StatusCode.UNAUTHENTICATED, _REFUSAL)
        yield  # pragma: no cover - abort raises before

    if handler.unary_unary:
        return grpc.unary_unary_rpc_method_handler(unary)
    if handler.stream_unary:
        return grpc.stream_unary_rpc_method_handler(unary)
    if handler.unary_stream:
        return grpc.unary_stream_rpc_method_handler(streaming)
    return grpc.stream_stream_rpc_method_handler(streaming)


def client_interceptors(token: str) -> list[grpc.aio.ClientInterceptor]:
    """The interceptors a channel needs to send `token` on every call (none without a token)."""
    if not token:
        return []
    sent = bearer_metadata(token)

    def add_token(metadata: grpc.aio.Metadata) -> None:
        for key, value in sent:
            metadata.add(key, value)

    return [MetadataInterceptor(add_token)]


def _read_pem(variable: str, environ: Mapping[str, str]) -> bytes:
    path = environ[variable]
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise InvalidArgument(
            f"{variable}={path!r} cannot be read ({exc.strerror}); name a readable PEM file"
        ) from None
    if b"-----BEGIN" not in data:
        raise InvalidArgument(f"{variable}={path!r} is not PEM (no -----BEGIN line); give the PEM file")
    return data


def server_credentials(environ: Mapping[str, str] | None = None) -> grpc.ServerCredentials | None:
    """TLS for a server's port from LONGWATCH_TLS_CERT_FILE and LONGWATCH_TLS_KEY_FILE (None: plain)."""
    environ = os.environ if environ is None else environ
    has_cert, has_key = bool(environ.get(TLS_CERT_ENV)), bool(environ.get(TLS_KEY_ENV))
    if not (has_cert or has_key):
        return None
    if has_cert != has_key:
        raise InvalidArgument(f"set both {TLS_CERT_ENV} and {TLS_KEY_ENV} for TLS, or neither")
    return grpc.ssl_server_credentials([(_read_pem(TLS_KEY_ENV, environ), _read_pem(TLS_CERT_ENV, environ))])


def channel_credentials(environ: Mapping[str, str] | None = None) -> grpc.ChannelCredentials | None:
    """TLS for a client channel, trusting LONGWATCH_TLS_CA_FILE (None: plain)."""
    environ = os.environ if environ is None else environ
    if not environ.get(TLS_CA_ENV):
        return None
    return grpc.ssl_channel_credentials(root_certificates=_read_pem(TLS_CA_ENV, environ))


def open_channel(
    address: str, options: Sequence[tuple[str, Any]], interceptors: Sequence[grpc.aio.ClientInterceptor] = ()
) -> grpc.aio.Channel:
    """A channel to a longwatch service: TLS trusting LONGWATCH_TLS_CA_FILE when it is set, else plain."""
    credentials = channel_credentials()
    if credentials is None:
        return grpc.aio.insecure_channel(address, options=options, interceptors=interceptors)
    return grpc.aio.secure_channel(address, credentials, options=options, interceptors=interceptors)
