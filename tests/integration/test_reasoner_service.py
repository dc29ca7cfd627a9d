"""The reasoner as a process (tiny profile) against the real memory process (tiny profile, fan-out 4, so a few
minutes of clips build segments and episodes above them): it serves before memory is up, then answers from
memory's hierarchy (Search of a level and span, Expand, Timeline, Stats) with evidence, follows what the
evidence points to, forgives OCR, says when it has not seen something, streams its steps, summarises a
stream, and refuses bad questions with canonical statuses."""

from __future__ import annotations

import asyncio
import time

import grpc
import pytest

from longwatch.client import MemoryClient, ReasonerClient
from longwatch.errors import InvalidArgument, NotFound, Unavailable
from longwatch.reasoner.v1 import reasoner_pb2
from longwatch.types import Answer, AskProgress, ClipRecord, TimeRange
from tests.integration.conftest import MEMORY_READY_TIMEOUT_S, tiny_env, with_client
from tests.integration.servers import ServiceProcess, free_port, start_service

READY_TIMEOUT_S = 180.0  # importing torch and building the tiny model on a slow machine
RECONNECT_TIMEOUT_S = 30.0  # gRPC backs off between reconnects to a server that was down
CONSOLIDATED_TIMEOUT_S = 120.0  # consolidation runs on memory's own thread after the writes are acknowledged
ASK_DEADLINE_MS = 60_000  # ample on a loaded machine: these tests check answers, not speed
FANOUT = 4  # 4 clips make a segment, 4 segments an episode: 2 minutes of 2-second clips reach level 3
CLIP_S = 2.0
GATE_CLIPS = 120  # 4 minutes of the gate
YARD_CLIPS = 8

# What the gate's screen showed, by clip start (s); every other clip shows the quiet gate with no text.
GATE_SCREEN = {
    10.0: "DESK 3 SEE LOCKER 12",  # the first hop of a chain ...
    30.0: "LOCKER 41 CODE 1111",  # distractors sharing the needle's label or number
    50.0: "GATE 42 CODE 9999",
    70.0: "LOCKER 42 CODE 5531",  # the needle
    90.0: "LOCKER 24 CODE 2424",
    110.0: "GATE CLOSED",  # the sign's first stretch: 1:50-1:56
    112.0: "GATE CLOSED",
    114.0: "GATE CLOSED",
    130.0: "BAY17 C0DE 3309",  # OCR ran "BAY 17" together and read the O of CODE as a zero
    150.0: "LOCKER 12 CODE 7781",  # ... and where it leads
    180.0: "GATE CLOSED",  # the sign's second stretch: 3:00-3:06
    182.0: "GATE CLOSED",
    184.0: "GATE CLOSED",
}


def _clip(stream_id: str, index: int, caption: str, line: str | None) -> ClipRecord:
    start_s = CLIP_S * index
    return ClipRecord(stream_id, start_s, start_s + CLIP_S, caption, (line,) if line else (), frame_count=4)


GATE = [_clip("gate", i, "a quiet gate", GATE_SCREEN.get(CLIP_S * i)) for i in range(GATE_CLIPS)]
YARD = [
    _clip("yard", i, "a forklift in the yard", "LOCKER 42 CODE 8888" if i == 3 else None) for i in range(YARD_CLIPS)
]
NEEDLE = GATE[35]  # LOCKER 42 CODE 5531
DESK = GATE[5]  # DESK 3 SEE LOCKER 12
LOCKER_12 = GATE[75]  # LOCKER 12 CODE 7781
TWO_HOP = "Desk 3 points to a locker: what code did that locker show?"


def ask(address: str, question: str, stream_ids=(), deadline_ms: int = ASK_DEADLINE_MS, **kwargs) -> Answer:
    async def go():
        client = ReasonerClient(address)
        try:
            return await client.ask(question, stream_ids, deadline_ms, **kwargs)
        finally:
            await client.close()

    return asyncio.run(go())


def ask_stream(address: str, question: str, stream_ids=(), deadline_ms: int = ASK_DEADLINE_MS) -> list:
    async def go():
        client = ReasonerClient(address)
        try:
            return [event async for event in client.ask_stream(question, stream_ids, deadline_ms)]
        finally:
            await client.close()

    return asyncio.run(go())


def summarize(address: str, stream_id: str):
    async def go():
        client = ReasonerClient(address)
        try:
            return await client.summarize(stream_id, deadline_ms=ASK_DEADLINE_MS)
        finally:
            await client.close()

    return asyncio.run(go())


async def wait_for_hierarchy(client: MemoryClient) -> None:
    """Until both streams are consolidated as far as their clips allow (gate: 30 segments, 7 episodes, 1 above)."""
    expected = {"gate": (GATE_CLIPS // FANOUT, GATE_CLIPS // FANOUT**2, 1), "yard": (YARD_CLIPS // FANOUT,)}
    deadline = time.monotonic() + CONSOLIDATED_TIMEOUT_S
    while time.monotonic() < deadline:
        stats = {item.stream_id: item for item in (await client.stats()).streams}
        levels = {
            name: tuple(stats[name].nodes_per_level[: len(want)]) for name, want in expected.items() if name in stats
        }
        if levels == expected:
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"memory was not consolidated within {CONSOLIDATED_TIMEOUT_S} s: {stats}")


@pytest.fixture(scope="module")
def reasoner(tmp_path_factory, model_cache_dir):
    """The reasoner's address. It starts while nothing listens at its memory address; the real memory process
    comes up there after, and is written the gate and the yard."""
    memory_port = free_port()
    env = {
        "LONGWATCH_PROFILE": "tiny",
        "LONGWATCH_DATA_DIR": str(tmp_path_factory.mktemp("reasoner-data")),
        "LONGWATCH_MODEL_CACHE": str(tmp_path_factory.mktemp("model-cache")),
        "LONGWATCH_MEMORY_ADDR": f"127.0.0.1:{memory_port}",
        "LONGWATCH_REASONER_MEMORY_RETRY_S": "0.2",
    }
    reasoner = start_service("reasoner", env, free_port(), READY_TIMEOUT_S)
    memory = None
    try:
        with pytest.raises(Unavailable, match="memory"):
            ask(reasoner.address, "What was the code for locker 42?")
        memory_env = tiny_env(tmp_path_factory.mktemp("memory-data"), model_cache_dir, fanout=FANOUT)
        memory = start_service("memory_service", memory_env, memory_port, MEMORY_READY_TIMEOUT_S)
        wait_until_it_listens(memory)
        acknowledged = with_client(memory.address, lambda client: client.write_clips(GATE + YARD))
        assert acknowledged == [clip.clip_id for clip in GATE + YARD]
        with_client(memory.address, wait_for_hierarchy)
        yield reasoner.address
    finally:
        memory_exit = memory.stop() if memory is not None else 0
        assert reasoner.stop() == 0, reasoner.output()
    assert memory_exit == 0, memory.output()
    assert "not reachable yet" in reasoner.output()


def wait_until_it_listens(service: ServiceProcess) -> None:
    """The port was free when the reasoner started, but another job's server may have taken it since; health
    SERVING is then that server's. Only this process's own log line says that it is the one serving there."""
    deadline = time.monotonic() + MEMORY_READY_TIMEOUT_S
    while f"listening on {service.address}" not in service.output():
        if not service.is_running or time.monotonic() > deadline:
            raise RuntimeError(f"memory did not come up at {service.address} itself:\n{service.output()}")
        time.sleep(0.2)


def ask_once_memory_is_back(address: str, question: str, **kwargs) -> Answer:
    deadline = time.monotonic() + RECONNECT_TIMEOUT_S
    while True:
        try:
            return ask(address, question, **kwargs)
        except Unavailable:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def test_the_value_beside_the_named_thing_not_its_lookalikes(reasoner):
    answer = ask_once_memory_is_back(reasoner, "What was the code for locker 42?", stream_ids=["gate"])
    assert (answer.answer, answer.method, answer.hops, answer.partial) == ("5531", "value", 0, False)
    assert answer.evidence[0].clip_id == NEEDLE.clip_id and answer.evidence[0].text == NEEDLE.text
    assert 0 < answer.confidence <= 1 and answer.latency_ms > 0 and answer.nodes_read > 0


def test_the_streams_asked_about_are_the_only_ones_read(reasoner):
    answer = ask_once_memory_is_back(reasoner, "What was the code for locker 42?", stream_ids=["yard"])
    assert answer.answer == "8888"
    assert {item.stream_id for item in answer.evidence} == {"yard"}
    assert answer.evidence[0].clip_id == YARD[3].clip_id


def test_a_chain_is_followed_to_where_it_points_and_every_hop_cited(reasoner):
    answer = ask_once_memory_is_back(reasoner, TWO_HOP, stream_ids=["gate"])
    assert (answer.answer, answer.method, answer.hops) == ("7781", "value", 1)
    assert [(item.clip_id, item.hop) for item in answer.evidence[:2]] == [(DESK.clip_id, 0), (LOCKER_12.clip_id, 1)]


def test_something_never_shown_is_not_seen_rather_than_a_lookalike(reasoner):
    answer = ask_once_memory_is_back(reasoner, "What was the code for locker 43?")
    assert (answer.answer, answer.method, answer.partial) == ("I have not seen locker 43.", "not-seen", False)
    assert 0 < answer.confidence <= 1


def test_an_ocr_misreading_of_the_label_and_the_asked_word_is_forgiven(reasoner):
    answer = ask_once_memory_is_back(reasoner, "What was the code for bay 17?")
    assert (answer.answer, answer.method) == ("3309", "value")
    assert answer.evidence[0].clip_id == GATE[65].clip_id


def test_a_when_question_lists_every_separate_sighting(reasoner):
    answer = ask_once_memory_is_back(reasoner, 'When was "GATE CLOSED" shown?')
    assert answer.answer == "1:50-1:56 in gate; also 3:00-3:06 in gate"
    assert answer.method == "time"
    assert [(item.clip_id, item.end_s) for item in answer.evidence[:2]] == [
        (GATE[55].clip_id, 116.0),
        (GATE[90].clip_id, 186.0),
    ]


def test_a_time_range_keeps_the_answer_to_what_was_shown_in_it(reasoner):
    second_only = TimeRange(start_s=170.0, end_s=200.0)
    answer = ask_once_memory_is_back(reasoner, 'When was "GATE CLOSED" shown?', time_range=second_only)
    assert answer.answer == "3:00-3:06 in gate"
    assert all(170.0 <= item.start_s < 200.0 for item in answer.evidence)


def test_a_streamed_ask_shows_its_steps_then_the_same_answer(reasoner):
    unary = ask_once_memory_is_back(reasoner, TWO_HOP, stream_ids=["gate"])
    events = ask_stream(reasoner, TWO_HOP, stream_ids=["gate"])
    *steps, final = events
    assert isinstance(final, Answer) and all(isinstance(step, AskProgress) for step in steps)
    names = [step.step for step in steps]
    assert names[0] == "plan" and names[-1] == "answer" and "search" in names and "hop" in names
    # Memory's clip search finds the desk's line among few look-alikes: no walk down the hierarchy, one
    # search per hop.
    assert names.count("search") == 2 and "expand" not in names
    [hop] = [step for step in steps if step.step == "hop"]
    assert (hop.stream_id, hop.node_id) == ("gate", DESK.clip_id)
    assert [step.elapsed_ms for step in steps] == sorted(step.elapsed_ms for step in steps)
    assert (final.answer, final.method, final.hops) == (unary.answer, unary.method, unary.hops)
    assert [item.clip_id for item in final.evidence] == [item.clip_id for item in unary.evidence]


def test_a_summary_of_a_stream_reads_its_episodes(reasoner):
    summary = summarize(reasoner, "gate")
    assert summary.stream_id == "gate" and not summary.partial
    assert [item.level for item in summary.evidence] == [2] * (GATE_CLIPS // FANOUT**2)
    assert [item.start_s for item in summary.evidence] == sorted(item.start_s for item in summary.evidence)
    lines = summary.text.splitlines()
    assert len(lines) == len(summary.evidence)
    assert lines[2] == "[1:04-1:36] a quiet gate; LOCKER 42 CODE 5531 | LOCKER 24 CODE 2424"
    assert [line for line in lines if "GATE CLOSED" in line] == [
        "[1:36-2:08] a quiet gate; GATE CLOSED",
        "[2:40-3:12] a quiet gate; GATE CLOSED",
    ]


def test_a_question_naming_nothing_is_answered_from_the_evidence(reasoner):
    answer = ask_once_memory_is_back(reasoner, "What was the forklift doing?", stream_ids=["yard"])
    assert answer.answer and answer.answer in " ".join(clip.text for clip in YARD)


def test_a_tiny_deadline_gives_a_partial_answer_not_an_error(reasoner):
    answer = ask_once_memory_is_back(reasoner, "What was the code for locker 42?", deadline_ms=1)
    assert "deadline" in answer.answer and answer.answer.startswith("I have not seen")
    assert (answer.method, answer.partial) == ("not-seen", True)


def test_bad_questions_get_canonical_statuses(reasoner):
    with pytest.raises(InvalidArgument, match="question is empty: ask something about the video"):
        ask(reasoner, "  ")
    with pytest.raises(InvalidArgument, match="deadline_ms"):
        ask(reasoner, "What was the code for locker 42?", deadline_ms=-5)


def test_an_unknown_stream_is_not_found_and_the_known_ones_are_listed(reasoner):
    with pytest.raises(NotFound, match=r"'dock'.*known streams: gate, yard"):
        ask_once_memory_is_back(reasoner, "What was the code for locker 42?", stream_ids=["dock"])


@pytest.mark.parametrize(
    ("payload", "detail"),
    [
        (reasoner_pb2.AskRequest(question="\x00").SerializeToString(), "question is empty"),
        (reasoner_pb2.AskRequest(question="a" * (1 << 20)).SerializeToString(), "shorten it to at most"),
        (reasoner_pb2.AskRequest(question="why?", stream_ids=["x" * (1 << 20)]).SerializeToString(), "characters)"),
        (b"\xff" * 64, "not a valid protobuf message"),
    ],
)
def test_the_server_itself_refuses_what_the_sdk_would_not_send(reasoner, payload, detail):
    with grpc.insecure_channel(reasoner) as channel:
        ask_raw = channel.unary_unary("/longwatch.reasoner.v1.ReasonerService/Ask")  # bytes as they are
        with pytest.raises(grpc.RpcError) as caught:
            ask_raw(payload, timeout=30)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert detail in caught.value.details() and len(caught.value.details()) < 400
