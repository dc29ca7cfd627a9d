from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class StreamState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    STREAM_STATE_UNSPECIFIED: _ClassVar[StreamState]
    STREAM_STATE_STARTING: _ClassVar[StreamState]
    STREAM_STATE_RUNNING: _ClassVar[StreamState]
    STREAM_STATE_FINISHED: _ClassVar[StreamState]
    STREAM_STATE_FAILED: _ClassVar[StreamState]
    STREAM_STATE_STOPPED: _ClassVar[StreamState]
STREAM_STATE_UNSPECIFIED: StreamState
STREAM_STATE_STARTING: StreamState
STREAM_STATE_RUNNING: StreamState
STREAM_STATE_FINISHED: StreamState
STREAM_STATE_FAILED: StreamState
STREAM_STATE_STOPPED: StreamState

class StreamStatus(_message.Message):
    __slots__ = ("stream_id", "source", "state", "is_live", "frames_seen", "frames_encoded", "frames_reused", "frames_dropped", "clips_written", "position_s", "duration_s", "lag_s", "error", "sample_fps")
    STREAM_ID_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    IS_LIVE_FIELD_NUMBER: _ClassVar[int]
    FRAMES_SEEN_FIELD_NUMBER: _ClassVar[int]
    FRAMES_ENCODED_FIELD_NUMBER: _ClassVar[int]
    FRAMES_REUSED_FIELD_NUMBER: _ClassVar[int]
    FRAMES_DROPPED_FIELD_NUMBER: _ClassVar[int]
    CLIPS_WRITTEN_FIELD_NUMBER: _ClassVar[int]
    POSITION_S_FIELD_NUMBER: _ClassVar[int]
    DURATION_S_FIELD_NUMBER: _ClassVar[int]
    LAG_S_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_FPS_FIELD_NUMBER: _ClassVar[int]
    stream_id: str
    source: str
    state: StreamState
    is_live: bool
    frames_seen: int
    frames_encoded: int
    frames_reused: int
    frames_dropped: int
    clips_written: int
    position_s: float
    duration_s: float
    lag_s: float
    error: str
    sample_fps: float
    def __init__(self, stream_id: _Optional[str] = ..., source: _Optional[str] = ..., state: _Optional[_Union[StreamState, str]] = ..., is_live: _Optional[bool] = ..., frames_seen: _Optional[int] = ..., frames_encoded: _Optional[int] = ..., frames_reused: _Optional[int] = ..., frames_dropped: _Optional[int] = ..., clips_written: _Optional[int] = ..., position_s: _Optional[float] = ..., duration_s: _Optional[float] = ..., lag_s: _Optional[float] = ..., error: _Optional[str] = ..., sample_fps: _Optional[float] = ...) -> None: ...

class AddStreamRequest(_message.Message):
    __slots__ = ("stream_id", "source", "sample_fps")
    STREAM_ID_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_FPS_FIELD_NUMBER: _ClassVar[int]
    stream_id: str
    source: str
    sample_fps: float
    def __init__(self, stream_id: _Optional[str] = ..., source: _Optional[str] = ..., sample_fps: _Optional[float] = ...) -> None: ...

class AddStreamResponse(_message.Message):
    __slots__ = ("stream",)
    STREAM_FIELD_NUMBER: _ClassVar[int]
    stream: StreamStatus
    def __init__(self, stream: _Optional[_Union[StreamStatus, _Mapping]] = ...) -> None: ...

class ListStreamsRequest(_message.Message):
    __slots__ = ("stream_ids",)
    STREAM_IDS_FIELD_NUMBER: _ClassVar[int]
    stream_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, stream_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class ListStreamsResponse(_message.Message):
    __slots__ = ("streams",)
    STREAMS_FIELD_NUMBER: _ClassVar[int]
    streams: _containers.RepeatedCompositeFieldContainer[StreamStatus]
    def __init__(self, streams: _Optional[_Iterable[_Union[StreamStatus, _Mapping]]] = ...) -> None: ...

class RemoveStreamRequest(_message.Message):
    __slots__ = ("stream_id",)
    STREAM_ID_FIELD_NUMBER: _ClassVar[int]
    stream_id: str
    def __init__(self, stream_id: _Optional[str] = ...) -> None: ...

class RemoveStreamResponse(_message.Message):
    __slots__ = ("stream",)
    STREAM_FIELD_NUMBER: _ClassVar[int]
    stream: StreamStatus
    def __init__(self, stream: _Optional[_Union[StreamStatus, _Mapping]] = ...) -> None: ...
