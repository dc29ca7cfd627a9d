from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ClipRecord(_message.Message):
    __slots__ = ("stream_id", "start_s", "end_s", "caption", "ocr_lines", "visual_embedding", "frame_count", "start_wall_ms", "source_key", "keyframes")
    STREAM_ID_FIELD_NUMBER: _ClassVar[int]
    START_S_FIELD_NUMBER: _ClassVar[int]
    END_S_FIELD_NUMBER: _ClassVar[int]
    CAPTION_FIELD_NUMBER: _ClassVar[int]
    OCR_LINES_FIELD_NUMBER: _ClassVar[int]
    VISUAL_EMBEDDING_FIELD_NUMBER: _ClassVar[int]
    FRAME_COUNT_FIELD_NUMBER: _ClassVar[int]
    START_WALL_MS_FIELD_NUMBER: _ClassVar[int]
    SOURCE_KEY_FIELD_NUMBER: _ClassVar[int]
    KEYFRAMES_FIELD_NUMBER: _ClassVar[int]
    stream_id: str
    start_s: float
    end_s: float
    caption: str
    ocr_lines: _containers.RepeatedScalarFieldContainer[str]
    visual_embedding: _containers.RepeatedScalarFieldContainer[float]
    frame_count: int
    start_wall_ms: int
    source_key: str
    keyframes: _containers.RepeatedCompositeFieldContainer[Keyframe]
    def __init__(self, stream_id: _Optional[str] = ..., start_s: _Optional[float] = ..., end_s: _Optional[float] = ..., caption: _Optional[str] = ..., ocr_lines: _Optional[_Iterable[str]] = ..., visual_embedding: _Optional[_Iterable[float]] = ..., frame_count: _Optional[int] = ..., start_wall_ms: _Optional[int] = ..., source_key: _Optional[str] = ..., keyframes: _Optional[_Iterable[_Union[Keyframe, _Mapping]]] = ...) -> None: ...

class Keyframe(_message.Message):
    __slots__ = ("t_s", "jpeg")
    T_S_FIELD_NUMBER: _ClassVar[int]
    JPEG_FIELD_NUMBER: _ClassVar[int]
    t_s: float
    jpeg: bytes
    def __init__(self, t_s: _Optional[float] = ..., jpeg: _Optional[bytes] = ...) -> None: ...

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
    __slots__ = ("text", "stream_ids", "start_s", "end_s", "k", "vector", "level", "start_wall_ms", "end_wall_ms")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    STREAM_IDS_FIELD_NUMBER: _ClassVar[int]
    START_S_FIELD_NUMBER: _ClassVar[int]
    END_S_FIELD_NUMBER: _ClassVar[int]
    K_FIELD_NUMBER: _ClassVar[int]
    VECTOR_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    START_WALL_MS_FIELD_NUMBER: _ClassVar[int]
    END_WALL_MS_FIELD_NUMBER: _ClassVar[int]
    text: str
    stream_ids: _containers.RepeatedScalarFieldContainer[str]
    start_s: float
    end_s: float
    k: int
    vector: _containers.RepeatedScalarFieldContainer[float]
    level: int
    start_wall_ms: int
    end_wall_ms: int
    def __init__(self, text: _Optional[str] = ..., stream_ids: _Optional[_Iterable[str]] = ..., start_s: _Optional[float] = ..., end_s: _Optional[float] = ..., k: _Optional[int] = ..., vector: _Optional[_Iterable[float]] = ..., level: _Optional[int] = ..., start_wall_ms: _Optional[int] = ..., end_wall_ms: _Optional[int] = ...) -> None: ...

class SearchHit(_message.Message):
    __slots__ = ("clip_id", "stream_id", "start_s", "end_s", "text", "score", "level", "start_wall_ms", "end_wall_ms", "keyframe_ids")
    CLIP_ID_FIELD_NUMBER: _ClassVar[int]
    STREAM_ID_FIELD_NUMBER: _ClassVar[int]
    START_S_FIELD_NUMBER: _ClassVar[int]
    END_S_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    START_WALL_MS_FIELD_NUMBER: _ClassVar[int]
    END_WALL_MS_FIELD_NUMBER: _ClassVar[int]
    KEYFRAME_IDS_FIELD_NUMBER: _ClassVar[int]
    clip_id: str
    stream_id: str
    start_s: float
    end_s: float
    text: str
    score: float
    level: int
    start_wall_ms: int
    end_wall_ms: int
    keyframe_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, clip_id: _Optional[str] = ..., stream_id: _Optional[str] = ..., start_s: _Optional[float] = ..., end_s: _Optional[float] = ..., text: _Optional[str] = ..., score: _Optional[float] = ..., level: _Optional[int] = ..., start_wall_ms: _Optional[int] = ..., end_wall_ms: _Optional[int] = ..., keyframe_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class SearchResponse(_message.Message):
    __slots__ = ("hits", "nodes_read")
    HITS_FIELD_NUMBER: _ClassVar[int]
    NODES_READ_FIELD_NUMBER: _ClassVar[int]
    hits: _containers.RepeatedCompositeFieldContainer[SearchHit]
    nodes_read: int
    def __init__(self, hits: _Optional[_Iterable[_Union[SearchHit, _Mapping]]] = ..., nodes_read: _Optional[int] = ...) -> None: ...

class Node(_message.Message):
    __slots__ = ("node_id", "stream_id", "level", "start_s", "end_s", "start_wall_ms", "end_wall_ms", "text", "child_ids", "keyframe_ids", "parent_id")
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    STREAM_ID_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    START_S_FIELD_NUMBER: _ClassVar[int]
    END_S_FIELD_NUMBER: _ClassVar[int]
    START_WALL_MS_FIELD_NUMBER: _ClassVar[int]
    END_WALL_MS_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    CHILD_IDS_FIELD_NUMBER: _ClassVar[int]
    KEYFRAME_IDS_FIELD_NUMBER: _ClassVar[int]
    PARENT_ID_FIELD_NUMBER: _ClassVar[int]
    node_id: str
    stream_id: str
    level: int
    start_s: float
    end_s: float
    start_wall_ms: int
    end_wall_ms: int
    text: str
    child_ids: _containers.RepeatedScalarFieldContainer[str]
    keyframe_ids: _containers.RepeatedScalarFieldContainer[str]
    parent_id: str
    def __init__(self, node_id: _Optional[str] = ..., stream_id: _Optional[str] = ..., level: _Optional[int] = ..., start_s: _Optional[float] = ..., end_s: _Optional[float] = ..., start_wall_ms: _Optional[int] = ..., end_wall_ms: _Optional[int] = ..., text: _Optional[str] = ..., child_ids: _Optional[_Iterable[str]] = ..., keyframe_ids: _Optional[_Iterable[str]] = ..., parent_id: _Optional[str] = ...) -> None: ...

class ExpandRequest(_message.Message):
    __slots__ = ("node_id",)
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    node_id: str
    def __init__(self, node_id: _Optional[str] = ...) -> None: ...

class ExpandResponse(_message.Message):
    __slots__ = ("children",)
    CHILDREN_FIELD_NUMBER: _ClassVar[int]
    children: _containers.RepeatedCompositeFieldContainer[Node]
    def __init__(self, children: _Optional[_Iterable[_Union[Node, _Mapping]]] = ...) -> None: ...

class TimelineRequest(_message.Message):
    __slots__ = ("stream_id", "level", "start_s", "end_s", "start_wall_ms", "end_wall_ms", "limit")
    STREAM_ID_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    START_S_FIELD_NUMBER: _ClassVar[int]
    END_S_FIELD_NUMBER: _ClassVar[int]
    START_WALL_MS_FIELD_NUMBER: _ClassVar[int]
    END_WALL_MS_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    stream_id: str
    level: int
    start_s: float
    end_s: float
    start_wall_ms: int
    end_wall_ms: int
    limit: int
    def __init__(self, stream_id: _Optional[str] = ..., level: _Optional[int] = ..., start_s: _Optional[float] = ..., end_s: _Optional[float] = ..., start_wall_ms: _Optional[int] = ..., end_wall_ms: _Optional[int] = ..., limit: _Optional[int] = ...) -> None: ...

class TimelineResponse(_message.Message):
    __slots__ = ("nodes", "truncated")
    NODES_FIELD_NUMBER: _ClassVar[int]
    TRUNCATED_FIELD_NUMBER: _ClassVar[int]
    nodes: _containers.RepeatedCompositeFieldContainer[Node]
    truncated: bool
    def __init__(self, nodes: _Optional[_Iterable[_Union[Node, _Mapping]]] = ..., truncated: _Optional[bool] = ...) -> None: ...

class GetRequest(_message.Message):
    __slots__ = ("node_ids", "keyframe_ids")
    NODE_IDS_FIELD_NUMBER: _ClassVar[int]
    KEYFRAME_IDS_FIELD_NUMBER: _ClassVar[int]
    node_ids: _containers.RepeatedScalarFieldContainer[str]
    keyframe_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, node_ids: _Optional[_Iterable[str]] = ..., keyframe_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class KeyframeData(_message.Message):
    __slots__ = ("keyframe_id", "stream_id", "t_s", "jpeg")
    KEYFRAME_ID_FIELD_NUMBER: _ClassVar[int]
    STREAM_ID_FIELD_NUMBER: _ClassVar[int]
    T_S_FIELD_NUMBER: _ClassVar[int]
    JPEG_FIELD_NUMBER: _ClassVar[int]
    keyframe_id: str
    stream_id: str
    t_s: float
    jpeg: bytes
    def __init__(self, keyframe_id: _Optional[str] = ..., stream_id: _Optional[str] = ..., t_s: _Optional[float] = ..., jpeg: _Optional[bytes] = ...) -> None: ...

class GetResponse(_message.Message):
    __slots__ = ("nodes", "keyframes")
    NODES_FIELD_NUMBER: _ClassVar[int]
    KEYFRAMES_FIELD_NUMBER: _ClassVar[int]
    nodes: _containers.RepeatedCompositeFieldContainer[Node]
    keyframes: _containers.RepeatedCompositeFieldContainer[KeyframeData]
    def __init__(self, nodes: _Optional[_Iterable[_Union[Node, _Mapping]]] = ..., keyframes: _Optional[_Iterable[_Union[KeyframeData, _Mapping]]] = ...) -> None: ...

class StatsRequest(_message.Message):
    __slots__ = ("stream_ids",)
    STREAM_IDS_FIELD_NUMBER: _ClassVar[int]
    stream_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, stream_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class StreamStats(_message.Message):
    __slots__ = ("stream_id", "clips", "nodes_per_level", "keyframes", "vector_bytes", "metadata_bytes", "keyframe_bytes", "log_bytes", "keyframes_removed", "clip_texts_removed", "summaries_removed", "first_s", "last_s", "window_clips")
    STREAM_ID_FIELD_NUMBER: _ClassVar[int]
    CLIPS_FIELD_NUMBER: _ClassVar[int]
    NODES_PER_LEVEL_FIELD_NUMBER: _ClassVar[int]
    KEYFRAMES_FIELD_NUMBER: _ClassVar[int]
    VECTOR_BYTES_FIELD_NUMBER: _ClassVar[int]
    METADATA_BYTES_FIELD_NUMBER: _ClassVar[int]
    KEYFRAME_BYTES_FIELD_NUMBER: _ClassVar[int]
    LOG_BYTES_FIELD_NUMBER: _ClassVar[int]
    KEYFRAMES_REMOVED_FIELD_NUMBER: _ClassVar[int]
    CLIP_TEXTS_REMOVED_FIELD_NUMBER: _ClassVar[int]
    SUMMARIES_REMOVED_FIELD_NUMBER: _ClassVar[int]
    FIRST_S_FIELD_NUMBER: _ClassVar[int]
    LAST_S_FIELD_NUMBER: _ClassVar[int]
    WINDOW_CLIPS_FIELD_NUMBER: _ClassVar[int]
    stream_id: str
    clips: int
    nodes_per_level: _containers.RepeatedScalarFieldContainer[int]
    keyframes: int
    vector_bytes: int
    metadata_bytes: int
    keyframe_bytes: int
    log_bytes: int
    keyframes_removed: int
    clip_texts_removed: int
    summaries_removed: int
    first_s: float
    last_s: float
    window_clips: int
    def __init__(self, stream_id: _Optional[str] = ..., clips: _Optional[int] = ..., nodes_per_level: _Optional[_Iterable[int]] = ..., keyframes: _Optional[int] = ..., vector_bytes: _Optional[int] = ..., metadata_bytes: _Optional[int] = ..., keyframe_bytes: _Optional[int] = ..., log_bytes: _Optional[int] = ..., keyframes_removed: _Optional[int] = ..., clip_texts_removed: _Optional[int] = ..., summaries_removed: _Optional[int] = ..., first_s: _Optional[float] = ..., last_s: _Optional[float] = ..., window_clips: _Optional[int] = ...) -> None: ...

class StatsResponse(_message.Message):
    __slots__ = ("streams", "disk_bytes")
    STREAMS_FIELD_NUMBER: _ClassVar[int]
    DISK_BYTES_FIELD_NUMBER: _ClassVar[int]
    streams: _containers.RepeatedCompositeFieldContainer[StreamStats]
    disk_bytes: int
    def __init__(self, streams: _Optional[_Iterable[_Union[StreamStats, _Mapping]]] = ..., disk_bytes: _Optional[int] = ...) -> None: ...

class DeleteStreamRequest(_message.Message):
    __slots__ = ("stream_id",)
    STREAM_ID_FIELD_NUMBER: _ClassVar[int]
    stream_id: str
    def __init__(self, stream_id: _Optional[str] = ...) -> None: ...

class DeleteStreamResponse(_message.Message):
    __slots__ = ("clips_deleted", "nodes_deleted", "keyframes_deleted")
    CLIPS_DELETED_FIELD_NUMBER: _ClassVar[int]
    NODES_DELETED_FIELD_NUMBER: _ClassVar[int]
    KEYFRAMES_DELETED_FIELD_NUMBER: _ClassVar[int]
    clips_deleted: int
    nodes_deleted: int
    keyframes_deleted: int
    def __init__(self, clips_deleted: _Optional[int] = ..., nodes_deleted: _Optional[int] = ..., keyframes_deleted: _Optional[int] = ...) -> None: ...

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
