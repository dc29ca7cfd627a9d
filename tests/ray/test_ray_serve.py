"""The Ray Serve application on a local Ray instance, CPU only, tiny profile: a video ingested through
the one gRPC ingress, a question answered with evidence, and more reasoner replicas under concurrent Asks.

Run alone with `make test-ray` (about two minutes here; Ray's processes start in tens of seconds)."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import pytest

from longwatch.client import MemoryClient, PerceptionClient, ReasonerClient
from longwatch.errors import Unauthenticated
from longwatch.progress import wait_until_final
from longwatch.sample import make_sample
from longwatch.security import TOKEN_ENV
from longwatch.types import StreamState
from tests.integration.servers import free_port

ray = pytest.importorskip("ray")
serve = pytest.importorskip("ray.serve")

pytestmark = [pytest.mark.ray, pytest.mark.timeout(900)]

APP = "longwatch"
TOKEN = "ray-test-token"
STREAM = "carpark"
QUESTION = "What was the alarm code on the screen?"
SCALE_UP_TIMEOUT_S = 180.0
CONCURRENT_ASKS = 8
# Autoscaling that reacts within seconds, so the test sees it: one ongoing Ask per replica is the target,
# and replicas and handles report their counts twice a second (Ray 2.60 reads the interval from these).
AUTOSCALING = {"min_replicas": 1, "max_replicas": 3, "target_ongoing_requests": 1, "upscale_delay_s": 1}
MEMORY_READERS = {"min_replicas": 1, "max_replicas": 2, "target_ongoing_requests": 4}
METRIC_PUSH = {
    "RAY_SERVE_REPLICA_AUTOSCALING_METRIC_PUSH_INTERVAL_S": "0.5",
    "RAY_SERVE_HANDLE_AUTOSCALING_METRIC_PUSH_INTERVAL_S": "0.5",
}


@pytest.fixture(scope="module")
def ingress(tmp_path_factory):
    from orchestration.ray_serve import build_app

    data_dir = tmp_path_factory.mktemp("ray-data")
    with pytest.MonkeyPatch.context() as patch:  # the Serve controller, the handles and the clients read them
        for name, value in {**METRIC_PUSH, TOKEN_ENV: TOKEN}.items():
            patch.setenv(name, value)
        yield from _serve(data_dir, build_app)


def _serve(data_dir, build_app):
    env = {
        **METRIC_PUSH,
        TOKEN_ENV: TOKEN,  # a secured deployment: the ingress and every replica require it
        "LONGWATCH_PROFILE": "tiny",
        "LONGWATCH_DATA_DIR": str(data_dir),
        "LONGWATCH_MODEL_CACHE": str(data_dir / "models"),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "LONGWATCH_MEMORY_READER_REFRESH_S": "0.2",  # readers see the writer's last clips within this
    }
    # More logical CPUs than cores: Ray only counts them, and the replicas are mostly idle.
    ray.init(num_cpus=8, include_dashboard=False, runtime_env={"env_vars": env}, log_to_driver=False)
    try:
        serve.start(proxy_location="Disabled")
        port = free_port()
        serve.run(
            build_app({"port": port, "reasoner_autoscaling": AUTOSCALING, "memory_readers": MEMORY_READERS}),
            name=APP,
            route_prefix=None,
        )
        yield f"127.0.0.1:{port}", data_dir
    finally:
        serve.shutdown()
        ray.shutdown()


def running_replicas(deployment: str) -> int:
    return serve.status().applications[APP].deployments[deployment].replica_states.get("RUNNING", 0)


def reasoner_replicas() -> int:
    return running_replicas("reasoner")


async def ingest(address: str, video: str):
    perception = PerceptionClient(address)
    try:
        await perception.add_stream(STREAM, video)
        status = await wait_until_final(perception, STREAM, show_progress=False)
        listed = await perception.list_streams()
        return status, listed
    finally:
        await perception.close()


async def ask_until_scaled(address: str) -> tuple[list, int]:
    """Asks from several clients at once until a second reasoner replica runs (or the time is up)."""
    reasoner = ReasonerClient(address)
    answers = []
    deadline = time.monotonic() + SCALE_UP_TIMEOUT_S

    async def keep_asking() -> None:
        while time.monotonic() < deadline and reasoner_replicas() < 2:
            answers.append(await reasoner.ask(QUESTION, stream_ids=[STREAM]))

    try:
        await asyncio.gather(*(keep_asking() for _ in range(CONCURRENT_ASKS)))
        return answers, reasoner_replicas()
    finally:
        await reasoner.close()


def test_a_video_ingested_through_the_ingress_is_answered_with_evidence(ingress, tmp_path):
    address, _ = ingress
    video = tmp_path / "sample.mp4"
    make_sample(video)
    status, listed = asyncio.run(ingest(address, str(video)))
    assert status.state is StreamState.FINISHED, status.error
    assert [stream.stream_id for stream in listed] == [STREAM]

    async def ask_and_count():
        reasoner, memory = ReasonerClient(address), MemoryClient(address)
        try:
            return await reasoner.ask(QUESTION, stream_ids=[STREAM]), await memory.list_streams()
        finally:
            await reasoner.close()
            await memory.close()

    answer, remembered = asyncio.run(ask_and_count())
    assert answer.evidence, f"no evidence; answer {answer.answer!r}"
    assert answer.evidence[0].stream_id == STREAM
    assert "7315" in answer.answer
    assert [summary.stream_id for summary in remembered] == [STREAM]


def test_every_replica_lists_its_metrics_for_prometheus(ingress):
    _, data_dir = ingress
    targets = {}
    for path in (data_dir / "metrics-targets").glob("*.json"):
        (target,) = json.loads(path.read_text())
        targets[target["labels"]["service"]] = target["targets"][0]
    assert set(targets) == {"perception", "memory", "memory-reader", "reasoner"}
    scraped = httpx.get(f"http://{targets['perception']}/metrics", timeout=10).text
    assert "perception_frames_seen_total" in scraped
    # The Asks' searches were answered by the read replica, the writes by the writer.
    assert searches(targets["memory-reader"]) > 0
    assert searches(targets["memory"]) == 0


def searches(address: str) -> float:
    """memory_search_seconds_count on one memory replica's /metrics."""
    for line in httpx.get(f"http://{address}/metrics", timeout=10).text.splitlines():
        if line.startswith("memory_search_seconds_count"):
            return float(line.split()[-1])
    return 0.0


def test_a_call_without_the_token_is_refused(ingress):
    address, _ = ingress

    async def ask_without_token():
        reasoner = ReasonerClient(address, token="")
        try:
            return await reasoner.ask(QUESTION, stream_ids=[STREAM])
        finally:
            await reasoner.close()

    with pytest.raises(Unauthenticated, match="LONGWATCH_API_TOKEN"):
        asyncio.run(ask_without_token())


def test_concurrent_asks_scale_the_reasoner_up(ingress):
    address, _ = ingress
    before = reasoner_replicas()
    answers, after = asyncio.run(ask_until_scaled(address))
    assert before == 1
    assert after >= 2, f"still {after} reasoner replica(s) after {len(answers)} Asks"
    assert all(answer.evidence for answer in answers)
