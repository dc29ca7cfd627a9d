"""ReasonerServicer on a real grpc.aio server (loopback, free port, the shared error interceptor) around a fake
core: AskStream streams steps live and the answer last, deadlines shrink to the client's, the core's errors
become statuses on every RPC, and a client that cancels cancels the core's work."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence

import grpc
import pytest

from longwatch import errors
from longwatch.client import ReasonerClient
from longwatch.grpc_server import SERVER_OPTIONS, ErrorInterceptor
from longwatch.reasoner.v1 import reasoner_pb2, reasoner_pb2_grpc
from longwatch.types import Answer, AskProgress, AskQuery, Evidence, SummarizeQuery, Summary, TimeRange
from orchestration.health import free_port
from reasoner.core.types import ProgressSink
from reasoner.server import ReasonerServicer, effective_deadline_ms

pytestmark = pytest.mark.anyio

WAIT_S = 30.0  # a hang guard only: every wait below ends as soon as the event it waits for happens
STEPS = (
    AskProgress("plan", "a question about one value"),
    AskProgress("read", "reading segment 0:40-2:00 of dock", "dock", "dock#1#0", 1, 40.0, 120.0, 3.0),
)
ANSWER = Answer(
    "bay 3",
    (Evidence("dock", 40.0, 120.0, "a van unloads at bay 3", "dock#1#0", 0.8, level=1, hop=1),),
    0.7,
    15.0,
    method="value",
    nodes_read=9,
    hops=1,
)
SUMMARY = Summary("dock", 0.0, 120.0, "A van unloaded at bay 3.", ANSWER.evidence, nodes_read=4)


class FakeCore:
    """The new core API. `ask` reports its steps, then waits for `release` (set unless `is_held`), then answers
    or raises `error`; it records every query, and whether it was cancelled."""

    def __init__(self, steps: Sequence[AskProgress] = STEPS, error: Exception | None = None, is_held: bool = False):
        self.steps = steps
        self.error = error
        self.queries: list[AskQuery | SummarizeQuery] = []
        self.release = asyncio.Event()
        if not is_held:
            self.release.set()
        self.was_cancelled = asyncio.Event()

    async def ask(self, query: AskQuery, progress: ProgressSink | None = None) -> Answer:
        self.queries.append(query)
        for step in self.steps:
            if progress is not None:
                progress(step)
            await asyncio.sleep(0)
        try:
            await self.release.wait()
        except asyncio.CancelledError:
            self.was_cancelled.set()
            raise
        if self.error is not None:
            raise self.error
        return ANSWER

    async def summarize(self, query: SummarizeQuery) -> Summary:
        self.queries.append(query)
        if self.error is not None:
            raise self.error
        return SUMMARY


@pytest.fixture
async def serve() -> AsyncIterator:
    """`await serve(core)` starts a server around `core` and returns its address; all stop afterwards."""
    servers: list[grpc.aio.Server] = []

    async def start(core: FakeCore) -> str:
        server = grpc.aio.server(interceptors=[ErrorInterceptor()], options=SERVER_OPTIONS)
        reasoner_pb2_grpc.add_ReasonerServiceServicer_to_server(ReasonerServicer(core), server)
        address = f"127.0.0.1:{free_port('127.0.0.1')}"
        server.add_insecure_port(address)
        await server.start()
        servers.append(server)
        return address

    yield start
    for server in servers:
        await server.stop(None)


@pytest.fixture
async def channel_to() -> AsyncIterator:
    channels: list[grpc.aio.Channel] = []

    def open_stub(address: str) -> reasoner_pb2_grpc.ReasonerServiceStub:
        channels.append(grpc.aio.insecure_channel(address))
        return reasoner_pb2_grpc.ReasonerServiceStub(channels[-1])

    yield open_stub
    for channel in channels:
        await channel.close()


async def test_ask_stream_yields_each_step_as_it_happens_then_the_answer_last(serve, channel_to):
    core = FakeCore(is_held=True)
    stub = channel_to(await serve(core))
    call = stub.AskStream(reasoner_pb2.AskRequest(question="Which bay?", stream_ids=["dock"], start_s=40.0))
    kinds = []
    async for event in call:
        kinds.append(event.WhichOneof("event"))
        if len(kinds) == len(STEPS):
            core.release.set()  # the answer is formed only now: the steps came before it existed
    assert kinds == ["progress", "progress", "answer"]
    [query] = core.queries
    assert query.question == "Which bay?" and query.time_range == TimeRange(start_s=40.0)


async def test_the_sdk_stream_gives_domain_steps_then_the_answer(serve):
    client = ReasonerClient(await serve(FakeCore()))
    try:
        items = [item async for item in client.ask_stream("Which bay?", time_range=TimeRange(end_s=120.0))]
        assert await client.ask("Which bay?") == ANSWER
        assert await client.summarize("dock", TimeRange(start_s=10.0)) == SUMMARY
    finally:
        await client.close()
    assert items == [*STEPS, ANSWER]


@pytest.mark.parametrize("method", ["Ask", "AskStream", "Summarize"])
async def test_a_client_deadline_shorter_than_deadline_ms_reaches_the_core_as_the_smaller(serve, channel_to, method):
    core = FakeCore()
    stub = channel_to(await serve(core))
    await _call(stub, method, deadline_ms=600_000, timeout_s=20.0)
    await _call(stub, method, deadline_ms=600_000, timeout_s=None)
    await _call(stub, method, deadline_ms=0, timeout_s=20.0)
    await _call(stub, method, deadline_ms=0, timeout_s=2.0)
    shrunk, unbounded, default, default_shrunk = (query.deadline_ms for query in core.queries)
    # gRPC rounds the timeout it sends up (to ~100 ms at 20 s), so the server may see a little more than was set;
    # the 5 % margin (1 s of 20 s) still keeps the core well inside what the client waits.
    assert 10_000 < shrunk < 19_500
    assert unbounded == 600_000  # no gRPC deadline: the request's own
    assert default == 0  # the core's default (5 s) ends before the client's 20 s: the core applies it
    assert 0 < default_shrunk < 2_000  # the client's 2 s end before the default 5 s


async def _call(stub, method: str, deadline_ms: int, timeout_s: float | None) -> None:
    if method == "Summarize":
        await stub.Summarize(
            reasoner_pb2.SummarizeRequest(stream_id="dock", deadline_ms=deadline_ms), timeout=timeout_s
        )
        return
    request = reasoner_pb2.AskRequest(question="Which bay?", deadline_ms=deadline_ms)
    if method == "Ask":
        await stub.Ask(request, timeout=timeout_s)
        return
    [event async for event in stub.AskStream(request, timeout=timeout_s)]


@pytest.mark.parametrize(
    ("deadline_ms", "remaining_s", "expected"),
    [
        (10_000, 0.5, 450),  # 5 % of 500 ms is 25 ms: the 50 ms floor is kept back
        (10_000, 4.0, 3800),  # 5 % of 4 s is 200 ms
        (3_000, 4.0, 3_000),  # the request's own ends first
        (0, 4.0, 3800),  # the default 5 s would end after the client's 4 s
        (0, 60.0, 0),  # the default ends first: left to the core
        (10_000, 0.01, 1),  # past the margin already: at least 1 ms, for the core to answer what it can
        (-5, 4.0, -5),  # the core refuses a negative deadline itself
    ],
)
def test_the_effective_deadline_keeps_a_margin_for_the_reply(deadline_ms, remaining_s, expected):
    assert effective_deadline_ms(deadline_ms, remaining_s, default_ms=5_000) == expected


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (errors.NotFound("no stream 'yard'; known streams: dock"), grpc.StatusCode.NOT_FOUND),
        (errors.InvalidArgument("start_s (50.0) is after end_s (10.0); swap them"), grpc.StatusCode.INVALID_ARGUMENT),
        (errors.Unavailable("cannot reach the memory service; ask again once it is back"), grpc.StatusCode.UNAVAILABLE),
        (errors.DeadlineExceeded("the deadline passed; give more time"), grpc.StatusCode.DEADLINE_EXCEEDED),
        (RuntimeError("a bug"), grpc.StatusCode.INTERNAL),
    ],
)
async def test_core_errors_map_to_statuses_on_ask_stream_and_summarize(serve, channel_to, error, code):
    stub = channel_to(await serve(FakeCore(error=error)))
    steps = []
    with pytest.raises(grpc.aio.AioRpcError) as streamed:
        async for event in stub.AskStream(reasoner_pb2.AskRequest(question="Which bay?")):
            steps.append(event.WhichOneof("event"))
    assert streamed.value.code() == code and str(error) in streamed.value.details()
    assert steps == ["progress", "progress"]  # the steps taken before the error still arrived
    with pytest.raises(grpc.aio.AioRpcError) as summarized:
        await stub.Summarize(reasoner_pb2.SummarizeRequest(stream_id="dock"))
    assert summarized.value.code() == code and str(error) in summarized.value.details()


async def test_the_sdk_raises_the_domain_error_of_a_failed_stream(serve):
    client = ReasonerClient(await serve(FakeCore(error=errors.NotFound("no stream 'yard'; known streams: dock"))))
    try:
        with pytest.raises(errors.NotFound, match="known streams: dock"):
            [item async for item in client.ask_stream("Which bay?", ["yard"])]
    finally:
        await client.close()


async def test_cancelling_the_stream_cancels_the_cores_task(serve, channel_to):
    core = FakeCore(is_held=True)
    call = channel_to(await serve(core)).AskStream(reasoner_pb2.AskRequest(question="Which bay?"))
    first = await asyncio.wait_for(call.read(), WAIT_S)
    assert first.WhichOneof("event") == "progress"
    call.cancel()
    await asyncio.wait_for(core.was_cancelled.wait(), WAIT_S)


async def test_leaving_the_sdk_stream_early_cancels_the_cores_task(serve):
    core = FakeCore(is_held=True)
    client = ReasonerClient(await serve(core))
    try:
        stream = client.ask_stream("Which bay?")
        assert await asyncio.wait_for(anext(stream), WAIT_S) == STEPS[0]
        await stream.aclose()
        await asyncio.wait_for(core.was_cancelled.wait(), WAIT_S)
    finally:
        await client.close()


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda c: c.ask("q", time_range=TimeRange(start_s=50.0, end_s=10.0)), r"start_s \(50.0\) is after end_s"),
        (lambda c: anext(c.ask_stream("q", time_range=TimeRange(start_s=float("nan")))), "start_s must be a number"),
        (lambda c: anext(c.ask_stream("\x00")), "question is empty"),
        (lambda c: c.summarize("../etc"), "stream_id '../etc' is not valid"),
        (lambda c: c.summarize("dock", TimeRange(start_wall_ms=12)), "start_wall_ms must be 0"),
        (lambda c: c.summarize("dock", deadline_ms=2**63), "deadline_ms 9223372036854775808 is out of range"),
    ],
)
async def test_the_sdk_refuses_what_no_reasoner_takes_before_calling(call, message):
    client = ReasonerClient(f"127.0.0.1:{free_port('127.0.0.1')}")  # nothing listens: the refusal comes first
    try:
        with pytest.raises(errors.InvalidArgument, match=message):
            await call(client)
    finally:
        await client.close()
