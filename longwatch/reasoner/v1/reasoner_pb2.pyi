from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AskRequest(_message.Message):
    __slots__ = ("question", "stream_ids", "deadline_ms")
    QUESTION_FIELD_NUMBER: _ClassVar[int]
    STREAM_IDS_FIELD_NUMBER: _ClassVar[int]
    DEADLINE_MS_FIELD_NUMBER: _ClassVar[int]
    question: str
    stream_ids: _containers.RepeatedScalarFieldContainer[str]
    deadline_ms: int
    def __init__(self, question: _Optional[str] = ..., stream_ids: _Optional[_Iterable[str]] = ..., deadline_ms: _Optional[int] = ...) -> None: ...

class Evidence(_message.Message):
    __slots__ = ("stream_id", "start_s", "end_s", "text", "clip_id", "score", "start_wall_ms", "end_wall_ms")
    STREAM_ID_FIELD_NUMBER: _ClassVar[int]
    START_S_FIELD_NUMBER: _ClassVar[int]
    END_S_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    CLIP_ID_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    START_WALL_MS_FIELD_NUMBER: _ClassVar[int]
    END_WALL_MS_FIELD_NUMBER: _ClassVar[int]
    stream_id: str
    start_s: float
    end_s: float
    text: str
    clip_id: str
    score: float
    start_wall_ms: int
    end_wall_ms: int
    def __init__(self, stream_id: _Optional[str] = ..., start_s: _Optional[float] = ..., end_s: _Optional[float] = ..., text: _Optional[str] = ..., clip_id: _Optional[str] = ..., score: _Optional[float] = ..., start_wall_ms: _Optional[int] = ..., end_wall_ms: _Optional[int] = ...) -> None: ...

class AskResponse(_message.Message):
    __slots__ = ("answer", "evidence", "confidence", "latency_ms")
    ANSWER_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    LATENCY_MS_FIELD_NUMBER: _ClassVar[int]
    answer: str
    evidence: _containers.RepeatedCompositeFieldContainer[Evidence]
    confidence: float
    latency_ms: float
    def __init__(self, answer: _Optional[str] = ..., evidence: _Optional[_Iterable[_Union[Evidence, _Mapping]]] = ..., confidence: _Optional[float] = ..., latency_ms: _Optional[float] = ...) -> None: ...
