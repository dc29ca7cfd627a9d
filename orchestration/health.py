"""Small probes the launcher and `orchestration.healthcheck` use: is a service SERVING, is a port free."""

from __future__ import annotations

import socket

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from longwatch import security

# Seconds one health probe may take; the launcher probes again soon after.
PROBE_TIMEOUT_S = 1.0


def is_serving(address: str, service_name: str = "") -> bool:
    """Whether the server at `address` answers SERVING for `service_name` ("" is the whole server)."""
    credentials = security.channel_credentials()  # the same TLS the services' clients use, if any
    channel_of = (
        grpc.insecure_channel if credentials is None else lambda target: grpc.secure_channel(target, credentials)
    )
    try:
        with channel_of(address) as channel:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=service_name), timeout=PROBE_TIMEOUT_S
            )
    except grpc.RpcError:
        return False  # not listening yet, or the service is not registered yet
    return reply.status == health_pb2.HealthCheckResponse.SERVING


def is_port_free(host: str, port: int) -> bool:
    """Whether nothing listens on `host:port`.

    Checked before the services start, so a taken port is named at once rather than in a child's log.
    SO_REUSEADDR keeps connections of a just-stopped server (TIME_WAIT) from counting as "in use".
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str) -> int:
    """A port on `host` that nothing listens on right now (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]
