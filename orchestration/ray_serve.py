"""longwatch on a Ray Serve cluster: the three services as deployments, behind one gRPC ingress.

    serve run deploy/ray-serve.yaml        # or: longwatch serve deploy/ray-serve.yaml

Each replica of the perception, memory and reasoner deployments runs its service's own App (PerceptionApp,
MemoryApp, ReasonerApp: the servicers and core objects `longwatch up` and compose run, settings from the
environment and LONGWATCH_CONFIG_FILE) on a port of its node, and its Prometheus /metrics on another, listed
for Prometheus's file discovery in <data_dir>/metrics-targets/. The Ingress deployment is a grpc.aio server,
the same ServiceServer (API token, TLS, health, request ids, message limits), exposing the three protos on
one port; it routes each call (orchestration.ray_routes):
- unary and server-streaming calls of the reasoner and memory go through Serve's deployment handles, so
  Serve balances them over the replicas and autoscales on their ongoing count; memory's reads (Search,
  Expand, Timeline, Get) go to its read replicas when `memory_readers` is set: memory processes with
  LONGWATCH_MEMORY_ROLE=reader beside the one writer, sharing its `chroma run` server (a ChromaServer
  deployment) and data directory;
- perception's calls go to the replica its stream lives in: the stream id is the multiplexed model id, so
  a stream's state (its decoder, Flash Memory, pending clip) stays in one replica;
- client-streaming and bidirectional calls (PushFrames, WriteClips) go straight to the replica's own
  server, whose address the handle gives, since Serve's handles take no request stream.
Perception and the reasoner reach memory through the ingress, as they would reach a compose service.

Serve's own gRPC proxy (with `ray.serve.grpc_util.gRPCInputStream`, beta in Ray 2.60) is not used: it
routes by method name alone, and perception and memory both have ListStreams; it serves no
grpc.health.v1 (compose, Kubernetes and load balancers probe it); and it takes no server interceptors,
where the token check and request ids live. Clients would also have to name the application in metadata.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import logging
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import ray
from pydantic import BaseModel, ConfigDict, Field
from ray import serve
from ray.serve.handle import DeploymentHandle

from longwatch import errors, security
from longwatch.grpc_server import ServiceServer, configure_logging
from longwatch.settings import CommonSettings, Profile
from memory_service.core.chroma import is_chroma_answering, parse_chroma_url
from orchestration.health import free_port
from orchestration.launcher import CHROMA_SERVICE, script_command
from orchestration.ray_routes import SERVICE_NAMES, Forwarder, Reply, open_channel

logger = logging.getLogger(__name__)

# service -> (settings class, app class), imported in the replica only: the ingress needs neither.
_SERVICE_TYPES = {
    "perception": ("perception.settings:PerceptionSettings", "perception.app:PerceptionApp"),
    "memory": ("memory_service.settings:MemorySettings", "memory_service.app:MemoryApp"),
    "reasoner": ("reasoner.settings:ReasonerSettings", "reasoner.app:ReasonerApp"),
}
# Streams one perception replica keeps claimed for routing; a stream beyond it loses only its affinity.
_MAX_STREAMS_PER_REPLICA = 10_000
_INGRESS_CPUS = 0.1  # it forwards bytes
_INGRESS_DRAIN_S = 5.0
_CHROMA_READY_TIMEOUT_S = 120.0
_CHROMA_STOP_TIMEOUT_S = 15.0


class AppConfig(BaseModel):
    """The `args` of the Serve application (deploy/ray-serve.yaml). Service settings themselves come from
    each replica's environment and LONGWATCH_CONFIG_FILE (runtime_env), as in compose."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    host: str = Field("127.0.0.1", description="interface the gRPC ingress listens on (0.0.0.0: every one)")
    port: int = Field(50060, ge=1, le=65535, description="port of the gRPC ingress: all three services")
    memory_addr: str = Field(
        "", description="where replicas reach the ingress for memory calls; empty = host:port (host not 0.0.0.0)"
    )
    perception_gpus: float = Field(0.0, ge=0, le=8, description="GPUs per perception replica (gpu profile: 1)")
    reasoner_gpus: float = Field(0.0, ge=0, le=8, description="GPUs per reasoner replica (gpu profile: 1)")
    replica_cpus: float = Field(
        0.5, gt=0, le=64, description="CPUs Ray reserves per service replica (a count for placement, not a limit)"
    )
    perception_replicas: int = Field(1, ge=1, le=64, description="perception replicas; streams spread over them")
    memory_readers: dict[str, Any] | None = Field(
        None,
        description="Serve autoscaling_config of memory's read replicas (Search, Expand, Timeline, Get), which "
        "share the writer's chroma server and data directory (one node, or a shared filesystem); None = none",
    )
    reasoner_autoscaling: dict[str, Any] = Field(
        default_factory=lambda: {"min_replicas": 1, "max_replicas": 4, "target_ongoing_requests": 2},
        description="Serve autoscaling_config of the reasoner",
    )

    def memory_address(self) -> str:
        if self.memory_addr:
            return self.memory_addr
        if self.host in ("0.0.0.0", "::"):
            raise ValueError("the ingress listens on every interface: set memory_addr to an address replicas reach")
        return f"{self.host}:{self.port}"


def _import(path: str) -> Any:
    module, name = path.split(":")
    return getattr(importlib.import_module(module), name)


def _publish_metrics_target(data_dir: Path, service: str, address: str) -> Path:
    """Tells Prometheus where this replica's /metrics is: a file_sd_configs target file in
    <data_dir>/metrics-targets/, one per replica, removed when the replica stops (docs/deploy.md)."""
    replica = serve.get_replica_context().replica_id.unique_id
    path = data_dir / "metrics-targets" / f"{service}-{replica}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    target = [{"targets": [address], "labels": {"service": service, "replica": replica}}]
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(target))
    temporary.replace(path)  # Prometheus never reads half a file
    return path


@serve.deployment(max_ongoing_requests=64)
class ServiceReplica:
    """One replica of a longwatch service: the service's App on a free port of this node, and the calls
    the ingress routes to it, forwarded to that App's server."""

    async def __init__(  # Serve awaits an async constructor
        self, service: str, memory_addr: str, memory_role: str = "", chroma: DeploymentHandle | None = None
    ) -> None:
        """`memory_role` and `chroma`: a memory replica's role (writer, reader) and the chroma server that
        the writer and its readers share (None: the writer's embedded chromadb)."""
        security.install_log_redaction()
        settings_type, app_type = (_import(path) for path in _SERVICE_TYPES[service])
        host = ray.util.get_node_ip_address()
        overrides: dict[str, Any] = {"host": host, "port": free_port(host), "metrics_port": free_port(host)}
        if service != "memory":
            overrides["memory_addr"] = memory_addr
        if service == "perception":  # its calls come from the ingress, which says for whom
            overrides["trust_forwarded_client"] = True
        if memory_role:
            overrides["role"] = memory_role
        if chroma is not None:
            overrides["chroma_url"] = await chroma.url.remote()
        service = f"{service}-{memory_role}" if memory_role == "reader" else service
        settings = settings_type(**overrides)
        configure_logging(settings.log_level, settings.log_format)
        if settings.profile in (Profile.TINY, Profile.CPU):  # as serve_process: no hub lookups offline
            os.environ["HF_HUB_OFFLINE"] = os.environ["TRANSFORMERS_OFFLINE"] = "1"
        self._app = app_type(settings)
        await self._app.start()
        self._address = f"{host}:{settings.port}"
        self._channel = open_channel(self._address)
        self._metrics_target = _publish_metrics_target(settings.data_dir, service, f"{host}:{settings.metrics_port}")
        logger.info("%s replica serving on %s", service, self._address)

    @serve.multiplexed(max_num_models_per_replica=_MAX_STREAMS_PER_REPLICA)
    async def _claim_stream(self, stream_id: str) -> str:
        """Marks this replica as the one holding `stream_id`: Serve routes that id's calls here after."""
        return stream_id

    async def address(self) -> str:
        """Where this replica's own server listens; claims the request's stream id first (perception)."""
        stream_id = serve.get_multiplexed_model_id()
        if stream_id:
            await self._claim_stream(stream_id)
        return self._address

    async def call(self, method: str, request: bytes, metadata: tuple, timeout: float | None) -> Reply:
        """A unary call, answered by this replica's App."""
        try:
            call = self._channel.unary_unary(method)
            return Reply(payload=await call(request, metadata=metadata, timeout=timeout))
        except Exception as exc:  # noqa: BLE001 - carried back to the client as its status
            return Reply.failed(exc)

    async def call_streaming(self, method: str, request: bytes, metadata: tuple, timeout: float | None):
        """A server-streaming call: each response, then a failure if the call ended in one."""
        try:
            async for payload in self._channel.unary_stream(method)(request, metadata=metadata, timeout=timeout):
                yield Reply(payload=payload)
        except Exception as exc:  # noqa: BLE001 - carried back to the client as its status
            yield Reply.failed(exc)

    async def __del__(self) -> None:
        """Serve calls this when it stops the replica: the App drains and closes as on SIGTERM."""
        self._metrics_target.unlink(missing_ok=True)
        await self._channel.close()
        await self._app.stop()


@serve.deployment(num_replicas=1)
class ChromaServer:
    """The `chroma run` server a memory writer and its readers share, its data in the data directory."""

    async def __init__(self) -> None:
        data_dir = CommonSettings().data_dir
        host = ray.util.get_node_ip_address()
        port = free_port(host)
        # The command and data folder of `longwatch up --chroma-server`.
        command = script_command(CHROMA_SERVICE, host, port, data_dir)
        (data_dir / "memory").mkdir(parents=True, exist_ok=True)
        with open(data_dir / "memory" / "chroma-server.log", "ab") as log:
            self._process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        self._url = f"http://{host}:{port}"
        deadline = time.monotonic() + _CHROMA_READY_TIMEOUT_S
        while not is_chroma_answering(parse_chroma_url(self._url)):
            if self._process.poll() is not None or time.monotonic() > deadline:
                self._process.kill()
                raise errors.Unavailable(f"the chroma server did not start; see {log.name}")
            await asyncio.sleep(0.2)
        logger.info("chroma server on %s", self._url)

    async def url(self) -> str:
        return self._url

    def __del__(self) -> None:
        self._process.terminate()
        try:
            self._process.wait(_CHROMA_STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self._process.kill()


@serve.deployment(num_replicas=1, max_ongoing_requests=10_000)
class Ingress:
    """The cluster's gRPC front door: the three protos on one port, each call routed to its deployment."""

    async def __init__(
        self,
        perception: DeploymentHandle,
        memory: DeploymentHandle,
        memory_reader: DeploymentHandle | None,
        reasoner: DeploymentHandle,
        config: dict[str, Any],
    ) -> None:
        security.install_log_redaction()
        configure_logging(os.environ.get("LONGWATCH_LOG_LEVEL", "INFO"), os.environ.get("LONGWATCH_LOG_FORMAT", "text"))
        app = AppConfig.model_validate(config)
        self._server = ServiceServer(app.host, app.port, SERVICE_NAMES)
        handles = {"perception": perception, "memory": memory, "reasoner": reasoner}
        if memory_reader is not None:
            handles["memory_reader"] = memory_reader
        self._forwarder = Forwarder(handles, app.perception_replicas)
        self._server.grpc_server.add_generic_rpc_handlers([self._forwarder])
        await self._server.start()
        await self._server.set_serving()

    async def __del__(self) -> None:
        """Serve stops the replica: in-flight calls get the drain time, then the channels close."""
        await self._server.stop(_INGRESS_DRAIN_S)
        await self._forwarder.close()


def build_app(args: dict[str, Any]) -> serve.Application:
    """The Serve application (`import_path: orchestration.ray_serve:build_app`); `args` is AppConfig."""
    config = AppConfig.model_validate(args)
    memory_addr = config.memory_address()
    cpus = config.replica_cpus
    perception = ServiceReplica.options(
        name="perception",
        num_replicas=config.perception_replicas,
        max_ongoing_requests=_MAX_STREAMS_PER_REPLICA,
        ray_actor_options={"num_cpus": cpus, "num_gpus": config.perception_gpus},
    ).bind("perception", memory_addr)
    # One memory writer: it owns the write-ahead log. Readers beside it share its chroma server.
    chroma = ChromaServer.options(ray_actor_options={"num_cpus": cpus}).bind() if config.memory_readers else None
    memory = ServiceReplica.options(name="memory", num_replicas=1, ray_actor_options={"num_cpus": cpus}).bind(
        "memory", memory_addr, "writer", chroma
    )
    memory_reader = None
    if config.memory_readers:
        memory_reader = ServiceReplica.options(
            name="memory_reader", autoscaling_config=config.memory_readers, ray_actor_options={"num_cpus": cpus}
        ).bind("memory", memory_addr, "reader", chroma)
    reasoner = ServiceReplica.options(
        name="reasoner",
        autoscaling_config=config.reasoner_autoscaling,
        ray_actor_options={"num_cpus": cpus, "num_gpus": config.reasoner_gpus},
    ).bind("reasoner", memory_addr)
    return Ingress.options(ray_actor_options={"num_cpus": _INGRESS_CPUS}).bind(
        perception, memory, memory_reader, reasoner, config.model_dump()
    )
