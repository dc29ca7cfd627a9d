from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ClipRecord(_message.Message):
    __slots__ = ("stream_id", "start_s", "end_s", "caption", "ocr_lines", "visual_embedding", "frame_count", "start_wall_ms", "source_key")
    STREAM_ID_FIELD_NUMBER: _ClassVar[int]
    START_S_FIELD_NUMBER: _ClassVar[int]
    END_S_FIELD_NUMBER: _ClassVar[int]
    CAPTION_FIELD_NUMBER: _ClassVar[int]
    OCR_LINES_FIELD_NUMBER: _ClassVar[int]
    VISUAL_EMBEDDING_FIELD_NUMBER: _ClassVar[int]
    FRAME_COUNT_FIELD_NUMBER: _ClassVar[int]
    START_WALL_MS_FIELD_NUMBER: _ClassVar[int]
    SOURCE_KEY_FIELD_NUMBER: _ClassVar[int]
    stream_id: str
    start_s: float
    end_s: float
    caption: str
    ocr_lines: _containers.RepeatedScalarFieldContainer[str]
    visual_embedding: _containers.RepeatedScalarFieldContainer[float]
    frame_count: int
    start_wall_ms: int
    source_key: str
    def __init__(self, stream_id: _Optional[str] = ..., start_s: _Optional[float] = ..., end_s: _Optional[float] = ..., caption: _Optional[str] = ..., ocr_lines: _Optional[_Iterable[str]] = ..., visual_embedding: _Optional[_Iterable[float]] = ..., frame_count: _Optional[int] = ..., start_wall_ms: _Optional[int] = ..., source_key: _Optional[str] = ...) -> None: ...

class WriteClipsRequest(_message.Message):
    __slots__ = ("clip",)
    CLIP_FIELD_NUMBER: _ClassVar[int]
    clip: ClipRecord
    def __init__(self, clip: _Optional[_Union[ClipRecord, _Mapping]] = ...) -> None: ...

class WriteClipsResponse(_message.Message):
    __slots__ = ("clip_id",)
    CLIP_ID_FIELD_NUMBER: _ClassVar[int]
    clip_id: str
    def __init__(self, clip_id: _Optional[str] = ...) -> None: ...

class SearchRequest(_message.Message):
    __slots__ = ("text", "stream_ids", "start_s", "end_s", "k")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    STREAM_IDS_FIELD_NUMBER: _ClassVar[int]
    START_S_FIELD_NUMBER: _ClassVar[int]
    END_S_FIELD_NUMBER: _ClassVar[int]
    K_FIELD_NUMBER: _ClassVar[int]
    text: str
    stream_ids: _containers.RepeatedScalarFieldContainer[str]
    start_s: float
    end_s: float
    k: int
    def __init__(self, text: _Optional[str] = ..., stream_ids: _Optional[_Iterable[str]] = ..., start_s: _Optional[float] = ..., end_s: _Optional[float] = ..., k: _Optional[int] = ...) -> None: ...

class SearchHit(_message.Message):
    __slots__ = ("clip_id", "stream_id", "start_s", "end_s", "text", "score")
    CLIP_ID_FIELD_NUMBER: _ClassVar[int]
    STREAM_ID_FIELD_NUMBER: _ClassVar[int]
    START_S_FIELD_NUMBER: _ClassVar[int]
    END_S_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    clip_id: str
    stream_id: str
    start_s: float
    end_s: float
    text: str
    score: float
    def __init__(self, clip_id: _Optional[str] = ..., stream_id: _Optional[str] = ..., start_s: _Optional[float] = ..., end_s: _Optional[float] = ..., text: _Optional[str] = ..., score: _Optional[float] = ...) -> None: ...

class SearchResponse(_message.Message):
    __slots__ = ("hits",)
    HITS_FIELD_NUMBER: _ClassVar[int]
    hits: _containers.RepeatedCompositeFieldContainer[SearchHit]
    def __init__(self, hits: _Optional[_Iterable[_Union[SearchHit, _Mapping]]] = ...) -> None: ...

class ListStreamsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class StreamSummary(_message.Message):
    __slots__ = ("stream_id", "clip_count", "first_s", "last_s")
    STREAM_ID_FIELD_NUMBER: _ClassVar[int]
    CLIP_COUNT_FIELD_NUMBER: _ClassVar[int]
    FIRST_S_FIELD_NUMBER: _ClassVar[int]
    LAST_S_FIELD_NUMBER: _ClassVar[int]
    stream_id: str
    clip_count: int
    first_s: float
    last_s: float
    def __init__(self, stream_id: _Optional[str] = ..., clip_count: _Optional[int] = ..., first_s: _Optional[float] = ..., last_s: _Optional[float] = ...) -> None: ...

class ListStreamsResponse(_message.Message):
    __slots__ = ("streams",)
    STREAMS_FIELD_NUMBER: _ClassVar[int]
    streams: _containers.RepeatedCompositeFieldContainer[StreamSummary]
    def __init__(self, streams: _Optional[_Iterable[_Union[StreamSummary, _Mapping]]] = ...) -> None: ...
