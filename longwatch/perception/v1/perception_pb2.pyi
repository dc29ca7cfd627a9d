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

class PushStart(_message.Message):
    __slots__ = ("stream_id", "sample_fps", "is_live")
    STREAM_ID_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_FPS_FIELD_NUMBER: _ClassVar[int]
    IS_LIVE_FIELD_NUMBER: _ClassVar[int]
    stream_id: str
    sample_fps: float
    is_live: bool
    def __init__(self, stream_id: _Optional[str] = ..., sample_fps: _Optional[float] = ..., is_live: _Optional[bool] = ...) -> None: ...

class RawImage(_message.Message):
    __slots__ = ("width", "height", "rgb")
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    RGB_FIELD_NUMBER: _ClassVar[int]
    width: int
    height: int
    rgb: bytes
    def __init__(self, width: _Optional[int] = ..., height: _Optional[int] = ..., rgb: _Optional[bytes] = ...) -> None: ...

class PushedFrame(_message.Message):
    __slots__ = ("t_s", "wall_ms", "jpeg", "raw")
    T_S_FIELD_NUMBER: _ClassVar[int]
    WALL_MS_FIELD_NUMBER: _ClassVar[int]
    JPEG_FIELD_NUMBER: _ClassVar[int]
    RAW_FIELD_NUMBER: _ClassVar[int]
    t_s: float
    wall_ms: int
    jpeg: bytes
    raw: RawImage
    def __init__(self, t_s: _Optional[float] = ..., wall_ms: _Optional[int] = ..., jpeg: _Optional[bytes] = ..., raw: _Optional[_Union[RawImage, _Mapping]] = ...) -> None: ...

class PushFramesRequest(_message.Message):
    __slots__ = ("start", "frame")
    START_FIELD_NUMBER: _ClassVar[int]
    FRAME_FIELD_NUMBER: _ClassVar[int]
    start: PushStart
    frame: PushedFrame
    def __init__(self, start: _Optional[_Union[PushStart, _Mapping]] = ..., frame: _Optional[_Union[PushedFrame, _Mapping]] = ...) -> None: ...

class PushFramesResponse(_message.Message):
    __slots__ = ("frames_accepted", "stream")
    FRAMES_ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    STREAM_FIELD_NUMBER: _ClassVar[int]
    frames_accepted: int
    stream: StreamStatus
    def __init__(self, frames_accepted: _Optional[int] = ..., stream: _Optional[_Union[StreamStatus, _Mapping]] = ...) -> None: ...

class GetOverviewRequest(_message.Message):
    __slots__ = ("stream_id", "include_jpeg")
    STREAM_ID_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_JPEG_FIELD_NUMBER: _ClassVar[int]
    stream_id: str
    include_jpeg: bool
    def __init__(self, stream_id: _Optional[str] = ..., include_jpeg: _Optional[bool] = ...) -> None: ...

class SynopsisSlot(_message.Message):
    __slots__ = ("weight", "start_s", "end_s")
    WEIGHT_FIELD_NUMBER: _ClassVar[int]
    START_S_FIELD_NUMBER: _ClassVar[int]
    END_S_FIELD_NUMBER: _ClassVar[int]
    weight: int
    start_s: float
    end_s: float
    def __init__(self, weight: _Optional[int] = ..., start_s: _Optional[float] = ..., end_s: _Optional[float] = ...) -> None: ...

class DetailFrame(_message.Message):
    __slots__ = ("t_s", "slot", "similarity", "jpeg")
    T_S_FIELD_NUMBER: _ClassVar[int]
    SLOT_FIELD_NUMBER: _ClassVar[int]
    SIMILARITY_FIELD_NUMBER: _ClassVar[int]
    JPEG_FIELD_NUMBER: _ClassVar[int]
    t_s: float
    slot: int
    similarity: float
    jpeg: bytes
    def __init__(self, t_s: _Optional[float] = ..., slot: _Optional[int] = ..., similarity: _Optional[float] = ..., jpeg: _Optional[bytes] = ...) -> None: ...

class GetOverviewResponse(_message.Message):
    __slots__ = ("stream_id", "slots", "details", "max_slots", "max_details", "frames_merged")
    STREAM_ID_FIELD_NUMBER: _ClassVar[int]
    SLOTS_FIELD_NUMBER: _ClassVar[int]
    DETAILS_FIELD_NUMBER: _ClassVar[int]
    MAX_SLOTS_FIELD_NUMBER: _ClassVar[int]
    MAX_DETAILS_FIELD_NUMBER: _ClassVar[int]
    FRAMES_MERGED_FIELD_NUMBER: _ClassVar[int]
    stream_id: str
    slots: _containers.RepeatedCompositeFieldContainer[SynopsisSlot]
    details: _containers.RepeatedCompositeFieldContainer[DetailFrame]
    max_slots: int
    max_details: int
    frames_merged: int
    def __init__(self, stream_id: _Optional[str] = ..., slots: _Optional[_Iterable[_Union[SynopsisSlot, _Mapping]]] = ..., details: _Optional[_Iterable[_Union[DetailFrame, _Mapping]]] = ..., max_slots: _Optional[int] = ..., max_details: _Optional[int] = ..., frames_merged: _Optional[int] = ...) -> None: ...

class DescribeRequest(_message.Message):
    __slots__ = ("stream_id", "keyframe_ids", "start_s", "end_s", "instruction")
    STREAM_ID_FIELD_NUMBER: _ClassVar[int]
    KEYFRAME_IDS_FIELD_NUMBER: _ClassVar[int]
    START_S_FIELD_NUMBER: _ClassVar[int]
    END_S_FIELD_NUMBER: _ClassVar[int]
    INSTRUCTION_FIELD_NUMBER: _ClassVar[int]
    stream_id: str
    keyframe_ids: _containers.RepeatedScalarFieldContainer[str]
    start_s: float
    end_s: float
    instruction: str
    def __init__(self, stream_id: _Optional[str] = ..., keyframe_ids: _Optional[_Iterable[str]] = ..., start_s: _Optional[float] = ..., end_s: _Optional[float] = ..., instruction: _Optional[str] = ...) -> None: ...

class DescribeResponse(_message.Message):
    __slots__ = ("text", "lines", "keyframe_ids")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    KEYFRAME_IDS_FIELD_NUMBER: _ClassVar[int]
    text: str
    lines: _containers.RepeatedScalarFieldContainer[str]
    keyframe_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, text: _Optional[str] = ..., lines: _Optional[_Iterable[str]] = ..., keyframe_ids: _Optional[_Iterable[str]] = ...) -> None: ...
