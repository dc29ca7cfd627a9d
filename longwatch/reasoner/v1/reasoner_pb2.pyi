from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AskRequest(_message.Message):
    __slots__ = ("question", "stream_ids", "deadline_ms", "start_s", "end_s", "start_wall_ms", "end_wall_ms")
    QUESTION_FIELD_NUMBER: _ClassVar[int]
    STREAM_IDS_FIELD_NUMBER: _ClassVar[int]
    DEADLINE_MS_FIELD_NUMBER: _ClassVar[int]
    START_S_FIELD_NUMBER: _ClassVar[int]
    END_S_FIELD_NUMBER: _ClassVar[int]
    START_WALL_MS_FIELD_NUMBER: _ClassVar[int]
    END_WALL_MS_FIELD_NUMBER: _ClassVar[int]
    question: str
    stream_ids: _containers.RepeatedScalarFieldContainer[str]
    deadline_ms: int
    start_s: float
    end_s: float
    start_wall_ms: int
    end_wall_ms: int
    def __init__(self, question: _Optional[str] = ..., stream_ids: _Optional[_Iterable[str]] = ..., deadline_ms: _Optional[int] = ..., start_s: _Optional[float] = ..., end_s: _Optional[float] = ..., start_wall_ms: _Optional[int] = ..., end_wall_ms: _Optional[int] = ...) -> None: ...

class Evidence(_message.Message):
    __slots__ = ("stream_id", "start_s", "end_s", "text", "clip_id", "score", "start_wall_ms", "end_wall_ms", "level", "keyframe_ids", "hop")
    STREAM_ID_FIELD_NUMBER: _ClassVar[int]
    START_S_FIELD_NUMBER: _ClassVar[int]
    END_S_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    CLIP_ID_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    START_WALL_MS_FIELD_NUMBER: _ClassVar[int]
    END_WALL_MS_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    KEYFRAME_IDS_FIELD_NUMBER: _ClassVar[int]
    HOP_FIELD_NUMBER: _ClassVar[int]
    stream_id: str
    start_s: float
    end_s: float
    text: str
    clip_id: str
    score: float
    start_wall_ms: int
    end_wall_ms: int
    level: int
    keyframe_ids: _containers.RepeatedScalarFieldContainer[str]
    hop: int
    def __init__(self, stream_id: _Optional[str] = ..., start_s: _Optional[float] = ..., end_s: _Optional[float] = ..., text: _Optional[str] = ..., clip_id: _Optional[str] = ..., score: _Optional[float] = ..., start_wall_ms: _Optional[int] = ..., end_wall_ms: _Optional[int] = ..., level: _Optional[int] = ..., keyframe_ids: _Optional[_Iterable[str]] = ..., hop: _Optional[int] = ...) -> None: ...

class AskResponse(_message.Message):
    __slots__ = ("answer", "evidence", "confidence", "latency_ms", "method", "partial", "nodes_read", "hops", "fallback")
    ANSWER_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    LATENCY_MS_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    PARTIAL_FIELD_NUMBER: _ClassVar[int]
    NODES_READ_FIELD_NUMBER: _ClassVar[int]
    HOPS_FIELD_NUMBER: _ClassVar[int]
    FALLBACK_FIELD_NUMBER: _ClassVar[int]
    answer: str
    evidence: _containers.RepeatedCompositeFieldContainer[Evidence]
    confidence: float
    latency_ms: float
    method: str
    partial: bool
    nodes_read: int
    hops: int
    fallback: str
    def __init__(self, answer: _Optional[str] = ..., evidence: _Optional[_Iterable[_Union[Evidence, _Mapping]]] = ..., confidence: _Optional[float] = ..., latency_ms: _Optional[float] = ..., method: _Optional[str] = ..., partial: _Optional[bool] = ..., nodes_read: _Optional[int] = ..., hops: _Optional[int] = ..., fallback: _Optional[str] = ...) -> None: ...

class AskProgress(_message.Message):
    __slots__ = ("step", "detail", "stream_id", "node_id", "level", "start_s", "end_s", "elapsed_ms")
    STEP_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    STREAM_ID_FIELD_NUMBER: _ClassVar[int]
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    START_S_FIELD_NUMBER: _ClassVar[int]
    END_S_FIELD_NUMBER: _ClassVar[int]
    ELAPSED_MS_FIELD_NUMBER: _ClassVar[int]
    step: str
    detail: str
    stream_id: str
    node_id: str
    level: int
    start_s: float
    end_s: float
    elapsed_ms: float
    def __init__(self, step: _Optional[str] = ..., detail: _Optional[str] = ..., stream_id: _Optional[str] = ..., node_id: _Optional[str] = ..., level: _Optional[int] = ..., start_s: _Optional[float] = ..., end_s: _Optional[float] = ..., elapsed_ms: _Optional[float] = ...) -> None: ...

class AskEvent(_message.Message):
    __slots__ = ("progress", "answer")
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    ANSWER_FIELD_NUMBER: _ClassVar[int]
    progress: AskProgress
    answer: AskResponse
    def __init__(self, progress: _Optional[_Union[AskProgress, _Mapping]] = ..., answer: _Optional[_Union[AskResponse, _Mapping]] = ...) -> None: ...

class SummarizeRequest(_message.Message):
    __slots__ = ("stream_id", "start_s", "end_s", "start_wall_ms", "end_wall_ms", "deadline_ms")
    STREAM_ID_FIELD_NUMBER: _ClassVar[int]
    START_S_FIELD_NUMBER: _ClassVar[int]
    END_S_FIELD_NUMBER: _ClassVar[int]
    START_WALL_MS_FIELD_NUMBER: _ClassVar[int]
    END_WALL_MS_FIELD_NUMBER: _ClassVar[int]
    DEADLINE_MS_FIELD_NUMBER: _ClassVar[int]
    stream_id: str
    start_s: float
    end_s: float
    start_wall_ms: int
    end_wall_ms: int
    deadline_ms: int
    def __init__(self, stream_id: _Optional[str] = ..., start_s: _Optional[float] = ..., end_s: _Optional[float] = ..., start_wall_ms: _Optional[int] = ..., end_wall_ms: _Optional[int] = ..., deadline_ms: _Optional[int] = ...) -> None: ...

class SummarizeResponse(_message.Message):
    __slots__ = ("stream_id", "start_s", "end_s", "summary", "evidence", "nodes_read", "partial", "latency_ms")
    STREAM_ID_FIELD_NUMBER: _ClassVar[int]
    START_S_FIELD_NUMBER: _ClassVar[int]
    END_S_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    NODES_READ_FIELD_NUMBER: _ClassVar[int]
    PARTIAL_FIELD_NUMBER: _ClassVar[int]
    LATENCY_MS_FIELD_NUMBER: _ClassVar[int]
    stream_id: str
    start_s: float
    end_s: float
    summary: str
    evidence: _containers.RepeatedCompositeFieldContainer[Evidence]
    nodes_read: int
    partial: bool
    latency_ms: float
    def __init__(self, stream_id: _Optional[str] = ..., start_s: _Optional[float] = ..., end_s: _Optional[float] = ..., summary: _Optional[str] = ..., evidence: _Optional[_Iterable[_Union[Evidence, _Mapping]]] = ..., nodes_read: _Optional[int] = ..., partial: _Optional[bool] = ..., latency_ms: _Optional[float] = ...) -> None: ...
