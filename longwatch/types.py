"""Domain types that cross service boundaries. Frozen dataclasses; protobuf stays in convert.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


@dataclass(frozen=True)
class Keyframe:
    """A frame perception kept from a clip, as JPEG; memory stores it as a file."""

    t_s: float  # stream time of the frame
    jpeg: bytes = field(repr=False)


@dataclass(frozen=True)
class ClipRecord:
    """What perception saw in a few seconds of one stream; the unit memory stores."""

    stream_id: str
    start_s: float  # stream time of the clip's first frame
    end_s: float  # when the next sample shows something else: the clip spans [start_s, end_s)
    caption: str
    ocr_lines: tuple[str, ...] = ()
    visual_embedding: tuple[float, ...] = ()  # mean frame feature, L2-normalised
    frame_count: int = 0
    start_wall_ms: int = 0  # UTC ms since the epoch for live streams; 0 for files
    source_key: str = ""  # files: a digest of the file's first MiB (memory keeps one file per stream name)
    keyframes: tuple[Keyframe, ...] = ()

    @property
    def clip_id(self) -> str:
        """Stable id: the same clip written twice (a resend after a reconnect) is stored once. A live
        stream's time restarts when it is added again or perception restarts, so its clips are named by
        their wall-clock start: a later clip at the same stream time is a new clip, not an overwrite."""
        if self.start_wall_ms:
            return f"{self.stream_id}@w{self.start_wall_ms:013d}"
        return f"{self.stream_id}@{round(self.start_s * 1000):012d}"

    @property
    def text(self) -> str:
        """Caption and on-screen text, as one searchable document."""
        parts = [self.caption] if self.caption else []
        if self.ocr_lines:
            parts.append("text on screen: " + " | ".join(self.ocr_lines))
        return ". ".join(parts)


@dataclass(frozen=True)
class SearchHit:
    clip_id: str
    stream_id: str
    start_s: float
    end_s: float
    text: str  # a clip's caption and on-screen text; a node's summary
    score: float  # higher is more relevant
    level: int = 0  # 0 = a clip, 1 = a segment of clips, 2 = an episode of segments, ...
    start_wall_ms: int = 0  # UTC ms since the epoch for live streams; 0 for files
    end_wall_ms: int = 0
    keyframe_ids: tuple[str, ...] = ()

    @classmethod
    def of_node(cls, node: Node, score: float = 0.0) -> SearchHit:
        """A node of the hierarchy (or memory's own tree node, which has the same fields) as a hit."""
        return cls(
            clip_id=node.node_id,
            stream_id=node.stream_id,
            start_s=node.start_s,
            end_s=node.end_s,
            text=node.text,
            score=score,
            level=node.level,
            start_wall_ms=node.start_wall_ms,
            end_wall_ms=node.end_wall_ms,
            keyframe_ids=node.keyframe_ids,
        )


@dataclass(frozen=True)
class SearchResult:
    hits: tuple[SearchHit, ...]
    nodes_read: int  # nodes whose vectors the search scored, at every level


@dataclass(frozen=True)
class Node:
    """A clip (level 0) or a summary node of the memory hierarchy above it."""

    node_id: str
    stream_id: str
    level: int
    start_s: float
    end_s: float
    text: str  # a clip's caption and on-screen text; a node's summary of its children
    start_wall_ms: int = 0
    end_wall_ms: int = 0
    child_ids: tuple[str, ...] = ()  # in time order; empty at level 0
    keyframe_ids: tuple[str, ...] = ()
    parent_id: str = ""  # empty while the node is in its stream's short-term window


@dataclass(frozen=True)
class KeyframeData:
    keyframe_id: str
    stream_id: str
    t_s: float
    jpeg: bytes = field(repr=False)


@dataclass(frozen=True)
class StreamStats:
    """What memory holds of one stream, by store, and what retention removed from it."""

    stream_id: str
    clips: int = 0
    nodes_per_level: tuple[int, ...] = ()  # from level 1 (segments) up
    keyframes: int = 0
    vector_bytes: int = 0
    metadata_bytes: int = 0
    keyframe_bytes: int = 0
    log_bytes: int = 0
    keyframes_removed: int = 0
    clip_texts_removed: int = 0
    summaries_removed: int = 0
    first_s: float = 0.0
    last_s: float = 0.0
    window_clips: int = 0  # acknowledged, not yet consolidated into a segment

    @property
    def total_bytes(self) -> int:
        return self.vector_bytes + self.metadata_bytes + self.keyframe_bytes + self.log_bytes


@dataclass(frozen=True)
class MemoryStats:
    streams: tuple[StreamStats, ...]
    disk_bytes: int  # the memory data directory on disk


@dataclass(frozen=True)
class DeletedStream:
    clips_deleted: int
    nodes_deleted: int
    keyframes_deleted: int


@dataclass(frozen=True)
class StreamSummary:
    """A stream as memory knows it."""

    stream_id: str
    clip_count: int
    first_s: float
    last_s: float


class StreamState(StrEnum):
    STARTING = "starting"
    RUNNING = "running"
    FINISHED = "finished"  # a file ended and every clip was acknowledged by memory
    FAILED = "failed"
    STOPPED = "stopped"

    @property
    def is_final(self) -> bool:
        return self in (StreamState.FINISHED, StreamState.FAILED, StreamState.STOPPED)


@dataclass(frozen=True)
class StreamStatus:
    """A stream as perception watches it."""

    stream_id: str
    source: str  # credentials redacted
    state: StreamState
    is_live: bool = False
    frames_seen: int = 0
    frames_encoded: int = 0
    frames_reused: int = 0
    frames_dropped: int = 0
    clips_written: int = 0
    position_s: float = 0.0
    duration_s: float = 0.0  # 0 when unknown or live
    lag_s: float = 0.0
    error: str = ""  # why it failed; for a running live stream, why no frames come now ("reconnecting ...")
    sample_fps: float = 0.0


@dataclass(frozen=True)
class PushedFrame:
    """One frame a client pushes (PushFrames): its time and either JPEG bytes or raw RGB pixels."""

    t_s: float  # stream time, seconds from the stream start; later than the frame before
    jpeg: bytes = field(default=b"", repr=False)
    rgb: bytes = field(default=b"", repr=False)  # raw: height rows of width RGB triplets (width * height * 3)
    width: int = 0  # raw only, pixels
    height: int = 0  # raw only, pixels
    wall_ms: int = 0  # UTC ms since the epoch when taken; 0 = none


@dataclass(frozen=True)
class PushResult:
    """How a PushFrames call ended."""

    frames_accepted: int
    stream: StreamStatus


@dataclass(frozen=True)
class OverviewSlot:
    """A synopsis slot of a stream's Flash Memory: frames merged into one centroid."""

    weight: int
    start_s: float
    end_s: float


@dataclass(frozen=True)
class OverviewDetail:
    """A detail keyframe of a stream's Flash Memory; `jpeg` is empty unless asked for."""

    t_s: float
    slot: int  # index into Overview.slots
    similarity: float
    jpeg: bytes = field(default=b"", repr=False)


@dataclass(frozen=True)
class Overview:
    """A stream's Flash Memory as GetOverview reads it."""

    stream_id: str
    slots: tuple[OverviewSlot, ...]  # heaviest first
    details: tuple[OverviewDetail, ...]  # in time order
    max_slots: int
    max_details: int
    frames_merged: int


@dataclass(frozen=True)
class DescribeResult:
    """What the captioner said about keyframes, following an instruction (Describe)."""

    text: str
    lines: tuple[str, ...]  # on-screen text read
    keyframe_ids: tuple[str, ...]  # the keyframes looked at


@dataclass(frozen=True)
class TimeRange:
    """A span a question or a summary is about: stream seconds and/or wall-clock UTC ms since the epoch
    (live streams). 0 leaves that side open; an end of 0 means "up to now"."""

    start_s: float = 0.0
    end_s: float = 0.0
    start_wall_ms: int = 0
    end_wall_ms: int = 0

    @property
    def is_open(self) -> bool:
        return not (self.start_s or self.end_s or self.start_wall_ms or self.end_wall_ms)

    def narrowed(self, other: TimeRange) -> TimeRange:
        """The part of this range that is also in `other` (an open side takes the other's)."""

        def upper(a: float, b: float) -> float:
            return min(v for v in (a, b) if v) if (a or b) else 0

        return TimeRange(
            max(self.start_s, other.start_s),
            upper(self.end_s, other.end_s),
            max(self.start_wall_ms, other.start_wall_ms),
            int(upper(self.end_wall_ms, other.end_wall_ms)),
        )


# Memory's extractive summaries hold every distinct caption and on-screen line of a node's children up to
# this many characters (memory_service.core.summarize): a shorter summary is complete, so the reasoner need
# not open a node whose summary does not mention what it looks for.
SUMMARY_MAX_CHARS = 4000

WHOLE_HISTORY = TimeRange()  # the open range: a default argument that reads "no limit"


@dataclass(frozen=True)
class AskQuery:
    """An Ask request as the core sees it; deadline_ms = 0 means the server's default."""

    question: str
    stream_ids: tuple[str, ...] = ()
    deadline_ms: int = 0
    time_range: TimeRange = WHOLE_HISTORY  # only evidence overlapping it; open = the whole history


@dataclass(frozen=True)
class SummarizeQuery:
    """A Summarize request: one stream over a time range (open = all of it)."""

    stream_id: str
    time_range: TimeRange = WHOLE_HISTORY
    deadline_ms: int = 0


@dataclass(frozen=True)
class Evidence:
    stream_id: str
    start_s: float
    end_s: float
    text: str
    clip_id: str = ""  # the node's id (a clip id at level 0)
    score: float = 0.0
    start_wall_ms: int = 0  # UTC ms since the epoch for live streams; 0 for files
    end_wall_ms: int = 0
    level: int = 0  # 0 = a clip; 1 and up = a summary node
    keyframe_ids: tuple[str, ...] = ()
    hop: int = 0  # which search found it: 0 = the question's own, 1 = the first thing the evidence pointed to, ...

    @classmethod
    def of_hit(cls, hit: SearchHit, hop: int = 0, end_s: float | None = None) -> Evidence:
        """A hit as evidence; `end_s` when what it shows lasted past the hit (a sighting's end)."""
        return cls(
            stream_id=hit.stream_id,
            start_s=hit.start_s,
            end_s=hit.end_s if end_s is None else end_s,
            text=hit.text,
            clip_id=hit.clip_id,
            score=hit.score,
            start_wall_ms=hit.start_wall_ms,
            end_wall_ms=hit.end_wall_ms,
            level=hit.level,
            keyframe_ids=hit.keyframe_ids,
            hop=hop,
        )


class AnswerMethod(StrEnum):
    """How an answer was formed: reported with it, a metrics label, and a factor of its confidence."""

    VALUE = "value"  # a value read beside what the question names, in the evidence's on-screen text
    TIME = "time"  # a "when" question: the time ranges of the sightings
    COUNT = "count"  # "how many times": distinct sightings on the timeline
    DURATION = "duration"  # "how long": the length of a sighting
    YES_NO = "yes-no"  # whether the evidence shows what the question names
    GENERATED = "generated"  # the LLM's reply, found in the evidence
    SCORED = "scored"  # the evidence span the LLM found most likely
    EXTRACTIVE = "extractive"  # the best evidence span by a heuristic (no time, or the LLM failed)
    SUMMARY = "summary"  # what the evidence says, when the question asks for no single value
    NOT_SEEN = "not-seen"  # nothing relevant enough: the answer says so, citing the best candidates


@dataclass(frozen=True)
class Answer:
    answer: str
    evidence: tuple[Evidence, ...] = field(default_factory=tuple)
    confidence: float = 0.0  # 0 to 1
    latency_ms: float = 0.0
    method: str = ""  # an AnswerMethod value
    partial: bool = False  # the deadline or the node budget ended the search: the best answer so far
    nodes_read: int = 0  # memory nodes the search looked at, every level, every hop
    hops: int = 0  # searches made after the first, for what the evidence pointed to
    fallback: str = ""  # why a simpler method answered ("the LLM failed: ..."); empty when none did


@dataclass(frozen=True)
class AskProgress:
    """One step of an Ask, streamed as it happens: which node is read, at what level and time span."""

    step: str  # "plan", "search", "read", "expand", "backtrack", "hop", "describe", "answer"
    detail: str = ""  # a line for a person: "reading segment 0:40-2:00 of dock-cam"
    stream_id: str = ""
    node_id: str = ""
    level: int = 0
    start_s: float = 0.0
    end_s: float = 0.0
    elapsed_ms: float = 0.0


@dataclass(frozen=True)
class Summary:
    """What a stream showed over a time range, from the hierarchy's summaries (Summarize)."""

    stream_id: str
    start_s: float
    end_s: float
    text: str
    evidence: tuple[Evidence, ...] = ()  # the nodes the summary was written from, in time order
    nodes_read: int = 0
    partial: bool = False  # the deadline came first: a summary of what was read by then
    latency_ms: float = 0.0
