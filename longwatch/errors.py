"""One error taxonomy for every service.

Core code raises these; the gRPC interceptor in `longwatch.grpc_server` maps each
to a canonical status code, and the client SDK maps status codes back. Messages
say what the caller should change.
"""

from __future__ import annotations


class LongwatchError(Exception):
    """Base of every error a user can cause or meet."""


class InvalidArgument(LongwatchError):
    """The request itself is wrong (empty question, negative deadline, bad name)."""


class NotFound(LongwatchError):
    """A named thing does not exist (file, stream)."""


class AlreadyExists(LongwatchError):
    """A thing with that name is already there."""


class FailedPrecondition(LongwatchError):
    """The request is valid but the system is not in a state to do it."""


class Unavailable(LongwatchError):
    """A dependency (another service, a source) cannot be reached right now; retry later."""


class ResourceExhausted(LongwatchError):
    """Out of a bounded resource (queue, memory, GPU memory)."""


class Unauthenticated(LongwatchError):
    """The call lacks the API token the service requires (LONGWATCH_API_TOKEN), or carries another."""


class DeadlineExceeded(LongwatchError):
    """The deadline passed before any answer could be formed."""
