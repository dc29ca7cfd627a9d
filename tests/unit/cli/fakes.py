"""A stand-in for LongwatchClient: scripted replies, recorded calls, no network."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

from longwatch.types import (
    Answer,
    AskProgress,
    DeletedStream,
    Evidence,
    KeyframeData,
    MemoryStats,
    Node,
    SearchResult,
    StreamState,
    StreamStatus,
    StreamSummary,
    Summary,
    TimeRange,
)


def status(state: StreamState, position_s: float = 0.0, clips: int = 0, error: str = "") -> StreamStatus:
    return StreamStatus(
        stream_id="gate",
        source="/videos/gate.mp4",
        state=state,
        frames_seen=int(position_s * 10),
        frames_encoded=int(position_s),
        clips_written=clips,
        position_s=position_s,
        duration_s=48.0,
        error=error,
    )


ANSWER = Answer(
    answer="The alarm code was 7315.",
    evidence=(
        Evidence("gate", 21.0, 26.5, "text on screen: ALARM CODE 7315", clip_id="gate@000000021000", score=2.1),
        Evidence("dock", 75.0, 80.0, "a boat is moored", clip_id="dock@000000075000", score=0.3),
    ),
    confidence=0.82,
    latency_ms=143.5,
)


class FakePerception:
    def __init__(self, polls: Sequence[StreamStatus] = (), error: Exception | None = None) -> None:
        self.polls = list(polls)
        self.error = error
        self.added: list[tuple[str, str, float]] = []

    async def add_stream(self, stream_id: str, source: str, sample_fps: float = 0.0) -> StreamStatus:
        if self.error is not None:
            raise self.error
        self.added.append((stream_id, source, sample_fps))
        return status(StreamState.STARTING)

    async def list_streams(self, stream_ids: Sequence[str] = ()) -> list[StreamStatus]:
        if len(self.polls) > 1:
            return [self.polls.pop(0)]
        return list(self.polls)


NO_HITS = SearchResult(hits=(), nodes_read=0)
EMPTY_STATS = MemoryStats(streams=(), disk_bytes=0)
NOTHING_DELETED = DeletedStream(0, 0, 0)


class FakeMemory:
    """Answers each read with what it was given and records the call with its arguments."""

    def __init__(
        self,
        summaries: Sequence[StreamSummary] = (),
        *,
        result: SearchResult = NO_HITS,
        nodes: Sequence[Node] = (),
        is_truncated: bool = False,
        keyframes: Sequence[KeyframeData] = (),
        stats: MemoryStats = EMPTY_STATS,
        deleted: DeletedStream = NOTHING_DELETED,
        error: Exception | None = None,
    ) -> None:
        self.summaries = list(summaries)
        self.result, self.nodes, self.is_truncated = result, list(nodes), is_truncated
        self.keyframes, self.stats_reply, self.deleted = list(keyframes), stats, deleted
        self.error = error
        self.calls: list[tuple[str, dict[str, object]]] = []

    def _record(self, method: str, **arguments: object) -> None:
        self.calls.append((method, arguments))
        if self.error is not None:
            raise self.error

    async def list_streams(self) -> list[StreamSummary]:
        return self.summaries

    async def search_result(self, text: str, **options: object) -> SearchResult:
        self._record("search", text=text, **options)
        return self.result

    async def timeline(self, stream_id: str, **options: object) -> tuple[list[Node], bool]:
        self._record("timeline", stream_id=stream_id, **options)
        return self.nodes, self.is_truncated

    async def expand(self, node_id: str) -> list[Node]:
        self._record("expand", node_id=node_id)
        return self.nodes

    async def get(self, node_ids: Sequence[str] = (), keyframe_ids: Sequence[str] = ()):
        self._record("get", node_ids=list(node_ids), keyframe_ids=list(keyframe_ids))
        return self.nodes, self.keyframes

    async def stats(self, stream_ids: Sequence[str] = ()) -> MemoryStats:
        self._record("stats", stream_ids=list(stream_ids))
        return self.stats_reply

    async def delete_stream(self, stream_id: str) -> DeletedStream:
        self._record("delete_stream", stream_id=stream_id)
        return self.deleted


SUMMARY = Summary(
    stream_id="gate",
    start_s=20.0,
    end_s=40.0,
    text="A red car stops at the gate; the alarm panel shows code 7315.",
    evidence=(Evidence("gate", 21.0, 26.5, "text on screen: ALARM CODE 7315", clip_id="gate#1#0", level=1),),
    nodes_read=3,
    latency_ms=88.0,
)


class FakeReasoner:
    """Answers `ask` and `ask_stream` (its steps, then the answer) and `summarize`, recording each call."""

    def __init__(
        self,
        answer: Answer = ANSWER,
        error: Exception | None = None,
        *,
        steps: Sequence[AskProgress] = (),
        summary: Summary = SUMMARY,
    ) -> None:
        self.answer = answer
        self.error = error
        self.steps = list(steps)
        self.summary = summary
        self.questions: list[tuple[str, list[str], int]] = []
        self.time_ranges: list[TimeRange | None] = []
        self.summarized: list[tuple[str, TimeRange | None, int]] = []

    async def ask(
        self, question: str, stream_ids: Sequence[str] = (), deadline_ms: int = 0, time_range: TimeRange | None = None
    ) -> Answer:
        self.questions.append((question, list(stream_ids), deadline_ms))
        self.time_ranges.append(time_range)
        if self.error is not None:
            raise self.error
        return self.answer

    async def ask_stream(
        self, question: str, stream_ids: Sequence[str] = (), deadline_ms: int = 0, time_range: TimeRange | None = None
    ) -> AsyncIterator[AskProgress | Answer]:
        self.questions.append((question, list(stream_ids), deadline_ms))
        self.time_ranges.append(time_range)
        for step in self.steps:
            yield step
        if self.error is not None:
            raise self.error
        yield self.answer

    async def summarize(self, stream_id: str, time_range: TimeRange | None = None, deadline_ms: int = 0) -> Summary:
        self.summarized.append((stream_id, time_range, deadline_ms))
        if self.error is not None:
            raise self.error
        return self.summary


@dataclass
class FakeClient:
    perception: FakePerception = field(default_factory=FakePerception)
    memory: FakeMemory = field(default_factory=FakeMemory)
    reasoner: FakeReasoner = field(default_factory=FakeReasoner)
    is_closed: bool = False
    addresses: dict[str, str | None] = field(default_factory=dict)

    def connect(self, **addresses: str | None) -> FakeClient:
        """Use as `main(argv, connect=fake.connect)`."""
        self.addresses = addresses
        return self

    async def close(self) -> None:
        self.is_closed = True
