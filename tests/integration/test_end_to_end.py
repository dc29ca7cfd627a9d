"""THE acceptance test: the three real services with the cpu profile answer a question about the
sample video, citing the right moment.

The model cache is the user's default one, so the Gemma model prepared on the first run (a minute or
two, once) is shared with `longwatch up` and later runs.
"""

from __future__ import annotations

import asyncio
import json

import grpc
import pytest
from google.protobuf.descriptor_pool import DescriptorPool
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase

from longwatch.client import PerceptionClient, ReasonerClient
from longwatch.progress import wait_until_final
from longwatch.sample import EVENTS, make_sample
from longwatch.settings import default_model_cache_dir
from longwatch.types import StreamState
from tests.integration.servers import free_port, start_service

pytestmark = pytest.mark.slow

# The first start prepares Gemma into the model cache; later starts take seconds.
READY_TIMEOUT_S = 900.0
STREAM = "carpark"
QUESTION = "What was the alarm code on the screen?"
SAMPLE_INTERVAL_S = 1.0  # perception's default sample rate is 1 frame a second
ALARM = next(event for event in EVENTS if event.id == "alarm")  # 21 s to 27 s, "7315"


@pytest.fixture(scope="module")
def services(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("e2e-data")
    common = {
        "LONGWATCH_PROFILE": "cpu",
        "LONGWATCH_DATA_DIR": str(data_dir),
        "LONGWATCH_MODEL_CACHE": str(default_model_cache_dir()),
    }
    started = []
    try:
        memory = start_service("memory_service", common, free_port(), READY_TIMEOUT_S)
        started.append(memory)
        with_memory = {**common, "LONGWATCH_MEMORY_ADDR": memory.address}
        for module in ("perception", "reasoner"):
            started.append(start_service(module, with_memory, free_port(), READY_TIMEOUT_S))
        yield {handle.module: handle.address for handle in started}
    finally:
        for handle in reversed(started):  # reasoner, perception, memory: writers before the store
            handle.stop()


async def ingest_and_ask(addresses: dict[str, str], video: str):
    perception = PerceptionClient(addresses["perception"])
    reasoner = ReasonerClient(addresses["reasoner"])
    try:
        await perception.add_stream(STREAM, video)
        status = await wait_until_final(perception, STREAM, show_progress=False)
        answer = await reasoner.ask(QUESTION, stream_ids=[STREAM])
        return status, answer
    finally:
        await perception.close()
        await reasoner.close()


@pytest.mark.timeout(1800)
def test_the_alarm_code_is_answered_with_evidence_from_the_right_moment(services, tmp_path):
    video = tmp_path / "sample.mp4"
    make_sample(video)
    status, answer = asyncio.run(ingest_and_ask(services, str(video)))
    assert status.state is StreamState.FINISHED, status.error
    assert answer.evidence, f"no evidence; answer {answer.answer!r}"
    top = answer.evidence[0]
    assert top.stream_id == STREAM
    # The evidence range holds a moment when the code was on screen, and nothing far outside it:
    # clips are cut on sampled frames, 1 s apart, so a range may reach one sample past the event.
    assert top.start_s < ALARM.end_s and top.end_s > ALARM.start_s, (
        f"top evidence {top.start_s:.1f}-{top.end_s:.1f} s misses the alarm at 21-27 s: {top.text!r}"
    )
    assert ALARM.start_s - SAMPLE_INTERVAL_S <= top.start_s and top.end_s <= ALARM.end_s + SAMPLE_INTERVAL_S
    assert ALARM.answer in answer.answer, f"answer {answer.answer!r} lacks {ALARM.answer}"


def test_a_standard_client_lists_each_service_through_reflection_and_reads_its_health(services):
    """What grpcurl does, with only grpcio's own packages: no longwatch code, no generated stubs."""
    expected = {
        "perception": "longwatch.perception.v1.PerceptionService",
        "memory_service": "longwatch.memory.v1.MemoryService",
        "reasoner": "longwatch.reasoner.v1.ReasonerService",
    }
    for module, service_name in expected.items():
        with grpc.insecure_channel(services[module]) as channel:
            reflection_db = ProtoReflectionDescriptorDatabase(channel)
            listed = set(reflection_db.get_services())
            assert {service_name, "grpc.health.v1.Health"} <= listed, f"{module} lists {sorted(listed)}"
            methods = DescriptorPool(reflection_db).FindServiceByName(service_name).methods
            assert methods, f"{service_name} has no methods through reflection"
            health = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=service_name))
            assert health.status == health_pb2.HealthCheckResponse.SERVING


@pytest.mark.timeout(900)
def test_longwatch_eval_scores_a_short_generated_stream_through_the_public_api(services, tmp_path, capsys):
    """The harness's slice in `make test`: `longwatch eval --attach` on one 2-minute stream of a scene the
    system was not written for; every question gets a reply, and the report holds every score."""
    from longwatch_cli import cli

    argv = ["eval", "--attach", "--families", "lab_readout", "--haystack-s", "120", "--seed", "3"]
    argv += ["--perception", services["perception"], "--reasoner", services["reasoner"]]
    assert cli.main([*argv, "--results", str(tmp_path)]) == 0
    result = json.loads((tmp_path / "eval.json").read_text())
    scores = result["scores"]
    assert len(scores) == result["summary"]["overall"]["total"] == 4  # single, when, between, absent
    assert not [s for s in scores if s["reply"]["error"]], "a question got no reply"
    cited = {e["stream_id"] for s in scores for e in s["reply"]["evidence"]}
    assert cited <= {"eval-lab-readout-120s-seed3"}
    assert "| questions | n | correct |" in (tmp_path / "eval.md").read_text()
