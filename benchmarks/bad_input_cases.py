"""The bad inputs `benchmarks.bad_input` sends: one list of cases per RPC, the same list for the same seed.

Every RPC of every service comes from the generated descriptors (the services are the launcher's), and
the hostile values from each request message's fields, so a new RPC or field is covered without an edit
here. Five kinds of case:
- bytes: random bytes of several lengths and non-protobuf text;
- wire: a valid request truncated, with a wrong wire type, a malformed varint, a length past the end,
  invalid UTF-8, deep nesting, an 8 MiB string, and one message over the servers' 64 MiB limit;
- value: a valid request with one field set to a hostile value (NaN, huge, negative, empty, unicode,
  1 MiB strings, unknown stream ids, odd sources);
- stream: for client-streaming RPCs, an empty stream and a stream with junk between valid messages;
- targeted: requests written for one rule of the memory service each (malformed and unknown node and
  keyframe ids, bad levels, limits, ranges and vectors, bad keyframes, clips out of time order), each with
  the status family the rule should give. Some need memory to hold a stream first: a setup case written
  earlier in the same list writes it, so they are sent in list order, to the same data directory.
A case holds the request messages as bytes, so the sender needs no knowledge of the message types.
The generic cases state no expected status (any canonical refusal or OK will do); targeted ones do.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from google.protobuf import descriptor_pool, message_factory
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from longwatch.grpc_server import MAX_MESSAGE_BYTES
from longwatch.memory.v1 import memory_pb2
from longwatch.validation import MAX_LEVEL, MAX_NODE_ID_CHARS, MAX_STREAM_ID_CHARS, MAX_TIMELINE_LIMIT, MIN_WALL_MS
from memory_service.core.types import ClipLimits, SearchLimits
from orchestration.launcher import SERVICES

MIB = 1024 * 1024
ONE_MIB_TEXT = "a" * MIB  # "1 MB strings" of the issue; letters, like a pasted blob
OVERSIZED_BYTES = 8 * MIB  # big, but well under the servers' limit: the server must parse it
# Over the servers' limit by a little, so the limit itself is what answers. One object shared by the
# services (bytes are immutable), so the generator holds 64 MiB once, not once per service.
OVER_LIMIT_BYTES = MAX_MESSAGE_BYTES + 1024
RANDOM_LENGTHS_B = (1, 7, 64, 1024, 65536)
QUICK_RANDOM_LENGTHS_B = (1, 64, 4096)
NESTING_LEVELS = 2000  # far past protobuf's recursion limit (100)
STREAM_VALID_MESSAGES = 20  # messages in the "many valid messages" stream case
BIG_CASE_BYTES = MIB // 2  # cases at least this big are sent after all the small ones
_WIRE_VARINT, _WIRE_FIXED64, _WIRE_LEN, _WIRE_START_GROUP, _WIRE_END_GROUP = 0, 1, 2, 3, 4
_MAX_FIELD_NUMBER = 2**29 - 1
_NESTING_DEPTH = 3  # message fields followed this deep when listing fields
# These froze perception once (issue 12: the redaction regex was quadratic in a run of letters); now a
# source that long is refused at once. Still sent last of all, so a regression cannot keep other cases
# from being measured.
HANGING_SOURCES = ("rtsp://127.0.0.1:1/" + ONE_MIB_TEXT, "rtsp://user:secret@127.0.0.1:1/" + ONE_MIB_TEXT)

UNICODE_MIX = "\u202eRTL override\u202c مرحبا שלום 👩‍👩‍👧 e\u0301 \ufeff zero\u200bwidth 𝔘𝔫𝔦"
CONTROL_CHARS = "NUL\x00bell\x07esc\x1b[31mred\x1b[0m\r\nline\x7f"


@dataclass(frozen=True)
class Rpc:
    service: str  # the launcher's name for the service: "memory"
    method: str  # "Search"
    path: str  # "/longwatch.memory.v1.MemoryService/Search"
    request: Descriptor
    is_client_streaming: bool
    is_server_streaming: bool


@dataclass(frozen=True)
class Case:
    rpc: Rpc
    kind: str  # bytes, wire, value or stream
    description: str  # what was sent, short enough to print (never the payload itself)
    messages: tuple[bytes, ...]  # one for a unary request; the whole request stream otherwise
    is_known_hang: bool = False
    # The status codes (grpc.StatusCode names) the case should get; () says only "canonical, not a bug".
    expected: tuple[str, ...] = ()

    @property
    def size_bytes(self) -> int:
        return sum(len(message) for message in self.messages)


@dataclass(frozen=True)
class Value:
    label: str
    value: object
    is_known_hang: bool = False


def rpcs() -> list[Rpc]:
    """Every RPC of every service the launcher starts, from the descriptors."""
    pool = descriptor_pool.Default()
    found = []
    for name, spec in SERVICES.items():
        service = pool.FindServiceByName(spec.health_name)
        for method in service.methods:
            found.append(
                Rpc(
                    service=name,
                    method=method.name,
                    path=f"/{service.full_name}/{method.name}",
                    request=method.input_type,
                    is_client_streaming=method.client_streaming,
                    is_server_streaming=method.server_streaming,
                )
            )
    return found


def generate_cases(seed: int, *, quick: bool = False) -> list[Case]:
    """All cases, small ones first, then big ones, then the known hangs (each group in RPC order)."""
    rng = random.Random(seed)
    over_limit = _over_limit_payload()
    cases: list[Case] = []
    seen_services: set[str] = set()
    for rpc in rpcs():
        cases += _bytes_cases(rpc, rng, quick)
        cases += _wire_cases(rpc)
        if rpc.service not in seen_services:  # the limit is the transport's, the same for every RPC
            seen_services.add(rpc.service)
            cases.append(Case(rpc, "wire", f"{OVER_LIMIT_BYTES} B, over the 64 MiB limit", (over_limit,)))
        cases += _value_cases(rpc, quick)
        if rpc.is_client_streaming:
            cases += _stream_cases(rpc, rng)
    cases += memory_cases()
    return sorted(cases, key=lambda case: (case.is_known_hang, case.size_bytes >= BIG_CASE_BYTES))


# -- valid requests each case starts from ---------------------------------------------------------------

# Field values that make a request valid. A field not named here keeps its default, so an RPC added
# later starts from its all-default request. Only 127.0.0.1 is ever named in a URL; port 1 refuses.
_BASE_VALUES: dict[str, object] = {
    "stream_id": "badinput",
    "stream_ids": ["badinput"],
    "source": "rtsp://127.0.0.1:1/badinput",
    "sample_fps": 1.0,
    "start_s": 0.0,
    "end_s": 4.0,
    "caption": "a red car at the gate",
    "ocr_lines": ["KPL 4721"],
    "frame_count": 4,
    "text": "red car",
    "k": 5,
    "question": "What was the alarm code on the screen?",
    "deadline_ms": 1000,
}


def base_request(descriptor: Descriptor) -> Message:
    """A valid request of this type, its fields set from _BASE_VALUES, message fields filled in too."""
    request = message_factory.GetMessageClass(descriptor)()
    _fill(request, depth=0)
    return request


def _fill(message: Message, depth: int) -> None:
    for field in message.DESCRIPTOR.fields:
        if field.type == FieldDescriptor.TYPE_MESSAGE and not field.is_repeated and depth < _NESTING_DEPTH:
            _fill(getattr(message, field.name), depth + 1)
        elif field.name in _BASE_VALUES:
            _set(message, field, _BASE_VALUES[field.name])


def _set(message: Message, field: FieldDescriptor, value: object) -> None:
    if field.is_repeated:
        container = getattr(message, field.name)
        del container[:]
        container.extend(value)  # type: ignore[arg-type]
    else:
        setattr(message, field.name, value)


# -- bytes cases ------------------------------------------------------------------------------------------

_NOT_PROTOBUF = (
    ("HTTP/1.1 request line", b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"),
    ("JSON object", b'{"stream_id": "badinput", "k": 5}'),
    ("64 bytes of 0xFF", b"\xff" * 64),
)


def _bytes_cases(rpc: Rpc, rng: random.Random, quick: bool) -> list[Case]:
    lengths = QUICK_RANDOM_LENGTHS_B if quick else RANDOM_LENGTHS_B
    cases = [Case(rpc, "bytes", f"{length} random bytes", (rng.randbytes(length),)) for length in lengths]
    cases += [Case(rpc, "bytes", label, (payload,)) for label, payload in _NOT_PROTOBUF]
    return cases


# -- wire cases -------------------------------------------------------------------------------------------


def varint(value: int) -> bytes:
    value &= (1 << 64) - 1  # negative numbers as protobuf writes them: ten bytes, two's complement
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def tag(number: int, wire_type: int) -> bytes:
    return varint(number << 3 | wire_type)


def length_delimited(number: int, payload: bytes) -> bytes:
    return tag(number, _WIRE_LEN) + varint(len(payload)) + payload


def _over_limit_payload() -> bytes:
    return length_delimited(_MAX_FIELD_NUMBER, bytes(OVER_LIMIT_BYTES))


def first_string_path(descriptor: Descriptor, depth: int = 0) -> tuple[FieldDescriptor, ...]:
    """The first singular string field, looking into message fields; () when there is none."""
    for field in descriptor.fields:
        if field.is_repeated:
            continue
        if field.type == FieldDescriptor.TYPE_STRING:
            return (field,)
        if field.type == FieldDescriptor.TYPE_MESSAGE and depth < _NESTING_DEPTH:
            inner = first_string_path(field.message_type, depth + 1)
            if inner:
                return (field, *inner)
    return ()


def _nest(path: Sequence[FieldDescriptor], leaf: bytes) -> bytes:
    """`leaf` (the encoded last field of `path`) wrapped in the message fields before it."""
    for field in reversed(path[:-1]):
        leaf = length_delimited(field.number, leaf)
    return leaf


def _wire_cases(rpc: Rpc) -> list[Case]:
    valid = base_request(rpc.request).SerializeToString()
    unknown = _MAX_FIELD_NUMBER
    payloads = [
        ("empty message (every field default)", b""),
        ("unknown fields (valid protobuf) before a valid message", tag(1000, 0) + b"\x01" + valid),
        ("overlong varint (11 bytes)", tag(unknown, _WIRE_VARINT) + b"\xff" * 10 + b"\x01"),
        ("length prefix 1 MB past the end", tag(unknown, _WIRE_LEN) + varint(MIB) + b"abc"),
        ("field number 0", tag(0, _WIRE_VARINT) + b"\x01"),
        ("unterminated group", tag(unknown, _WIRE_START_GROUP)),
        ("end group with no start", tag(unknown, _WIRE_END_GROUP)),
        (
            f"groups nested {NESTING_LEVELS} deep",
            tag(15, _WIRE_START_GROUP) * NESTING_LEVELS + tag(15, _WIRE_END_GROUP) * NESTING_LEVELS,
        ),
    ]
    if len(valid) > 1:
        payloads += [("valid message cut in half", valid[: len(valid) // 2]), ("last byte cut", valid[:-1])]
    if rpc.request.fields:
        payloads.append(_wrong_wire_type(rpc.request.fields[0]))
    payloads += _string_wire_payloads(rpc.request)
    return [Case(rpc, "wire", label, (payload,)) for label, payload in payloads]


def _wrong_wire_type(field: FieldDescriptor) -> tuple[str, bytes]:
    if field.type in (FieldDescriptor.TYPE_STRING, FieldDescriptor.TYPE_MESSAGE, FieldDescriptor.TYPE_BYTES):
        return f"{field.name} sent as a fixed64", tag(field.number, _WIRE_FIXED64) + bytes(8)
    return f"{field.name} sent as length-delimited", length_delimited(field.number, b"not a number")


def _string_wire_payloads(descriptor: Descriptor) -> list[tuple[str, bytes]]:
    path = first_string_path(descriptor)
    if not path:
        return [(f"{OVERSIZED_BYTES} B unknown field", length_delimited(_MAX_FIELD_NUMBER, bytes(OVERSIZED_BYTES)))]
    name, number = ".".join(field.name for field in path), path[-1].number
    return [
        (f"invalid UTF-8 in {name}", _nest(path, length_delimited(number, b"bad \xc3\x28 \xed\xa0\x80 utf8"))),
        (f"{OVERSIZED_BYTES} B string in {name}", _nest(path, length_delimited(number, b"a" * OVERSIZED_BYTES))),
    ]


# -- value cases ------------------------------------------------------------------------------------------

_STRINGS = (
    Value("empty", ""),
    Value("whitespace only", " \t\n"),
    Value("unicode: RTL override, emoji, combining marks", UNICODE_MIX),
    Value("NUL and control characters", CONTROL_CHARS),
    Value("path traversal ../../../etc/passwd", "../../../etc/passwd"),
    Value("format specifiers %s%n{0}", "%s%n%x{0}{}${x}"),
    Value("1 MiB of letters", ONE_MIB_TEXT),
)
_QUICK_STRINGS = (_STRINGS[0], _STRINGS[2], _STRINGS[3], _STRINGS[4], _STRINGS[6])
# Extra values for fields with these names: the meanings the services give them.
_STRINGS_BY_NAME: dict[str, tuple[Value, ...]] = {
    "stream_id": (
        Value("unknown stream id", "no-such-stream-0"),
        Value("65 characters", "s" * 65),
        Value("slash in the id", "bad/id"),
        Value("'..'", ".."),
    ),
    "source": (
        Value("upper-case scheme RTSP://", "RTSP://127.0.0.1:1/badinput"),
        Value("unsupported scheme ftp://", "ftp://127.0.0.1:1/video.mp4"),
        Value("file:// URL", "file:///etc/passwd"),
        Value("scheme with no host rtsp://", "rtsp://"),
        Value("malformed IPv6 host http://[::1", "http://[::1/video"),
        Value("credentials in the URL", "rtsp://user:secret@127.0.0.1:1/badinput"),
        Value("a text file /etc/passwd", "/etc/passwd"),
        Value("a device /dev/zero", "/dev/zero"),
        Value("a directory /", "/"),
        Value("a missing file", "/nonexistent/badinput.mp4"),
        Value("relative path", "video.mp4"),
        Value("rtsp:// + 1 MiB of letters (known freeze)", HANGING_SOURCES[0], is_known_hang=True),
        Value("credentials + 1 MiB of letters (known freeze)", HANGING_SOURCES[1], is_known_hang=True),
    ),
}
_STRINGS_BY_NAME["stream_ids"] = _STRINGS_BY_NAME["stream_id"]


def _float_values(field: FieldDescriptor, quick: bool) -> tuple[Value, ...]:
    huge = 1e308 if field.type == FieldDescriptor.TYPE_DOUBLE else 3.4e38
    values = (
        Value("NaN", math.nan),
        Value("inf", math.inf),
        Value("-inf", -math.inf),
        Value("-1", -1.0),
        Value(f"huge {huge:g}", huge),
        Value("-0.0", -0.0),
        Value("subnormal 5e-324", 5e-324),
    )
    return values[:5] if quick else values


def _int_values(field: FieldDescriptor) -> tuple[Value, ...]:
    bits = 64 if field.cpp_type in (FieldDescriptor.CPPTYPE_INT64, FieldDescriptor.CPPTYPE_UINT64) else 32
    if field.cpp_type in (FieldDescriptor.CPPTYPE_UINT32, FieldDescriptor.CPPTYPE_UINT64):
        return (Value(f"uint{bits} max", 2**bits - 1),)
    return (Value("-1", -1), Value(f"int{bits} max", 2 ** (bits - 1) - 1), Value(f"int{bits} min", -(2 ** (bits - 1))))


def _scalar_values(field: FieldDescriptor, quick: bool) -> tuple[Value, ...]:
    """Hostile values for one singular field, by its type (and, for strings, by its name)."""
    cpp = field.cpp_type
    if cpp == FieldDescriptor.CPPTYPE_STRING:
        strings = _QUICK_STRINGS if quick else _STRINGS
        if field.type == FieldDescriptor.TYPE_BYTES:
            return tuple(Value(v.label, v.value.encode()) for v in strings)  # type: ignore[union-attr]
        return strings + _STRINGS_BY_NAME.get(field.name, ())
    if cpp in (FieldDescriptor.CPPTYPE_DOUBLE, FieldDescriptor.CPPTYPE_FLOAT):
        return _float_values(field, quick)
    if cpp == FieldDescriptor.CPPTYPE_ENUM:
        return (Value("unknown enum value 999", 999),)
    if cpp == FieldDescriptor.CPPTYPE_BOOL:
        return (Value("true", True),)
    return _int_values(field)


def _repeated_values(field: FieldDescriptor, quick: bool) -> tuple[Value, ...]:
    if field.cpp_type in (FieldDescriptor.CPPTYPE_DOUBLE, FieldDescriptor.CPPTYPE_FLOAT):
        return (
            Value("empty list", []),
            Value("NaN, inf, -inf", [math.nan, math.inf, -math.inf]),
            Value("one value", [1.0]),
            Value("262144 values (1 MiB)", [0.001] * (MIB // 4)),
        )
    entries = [Value(f"one entry: {v.label}", [v.value], v.is_known_hang) for v in _scalar_values(field, quick)]
    if field.cpp_type == FieldDescriptor.CPPTYPE_STRING:
        entries += [Value("empty list", []), Value("10000 entries", [f"s{index}" for index in range(10000)])]
    return tuple(entries)


def field_paths(descriptor: Descriptor, depth: int = 0) -> Iterator[tuple[FieldDescriptor, ...]]:
    """Every field that holds a value (not a singular message), as the path of fields that reach it."""
    for field in descriptor.fields:
        if field.type == FieldDescriptor.TYPE_MESSAGE and not field.is_repeated:
            if depth < _NESTING_DEPTH:
                yield from ((field, *inner) for inner in field_paths(field.message_type, depth + 1))
        elif field.type != FieldDescriptor.TYPE_MESSAGE:  # repeated messages: none in requests today
            yield (field,)


def _with_value(rpc: Rpc, path: Sequence[FieldDescriptor], value: object) -> bytes:
    request = base_request(rpc.request)
    parent = request
    for field in path[:-1]:
        parent = getattr(parent, field.name)
    _set(parent, path[-1], value)
    return request.SerializeToString()


def _value_cases(rpc: Rpc, quick: bool) -> list[Case]:
    cases = []
    for path in field_paths(rpc.request):
        field = path[-1]
        name = ".".join(part.name for part in path)
        values = _repeated_values(field, quick) if field.is_repeated else _scalar_values(field, quick)
        for value in values:
            payload = _with_value(rpc, path, value.value)
            cases.append(Case(rpc, "value", f"{name} = {value.label}", (payload,), value.is_known_hang))
    return cases


# -- stream cases -----------------------------------------------------------------------------------------


def _stream_cases(rpc: Rpc, rng: random.Random) -> list[Case]:
    valid = base_request(rpc.request).SerializeToString()
    return [
        Case(rpc, "stream", "stream with no messages", ()),
        Case(rpc, "stream", "valid, 64 random bytes, valid", (valid, rng.randbytes(64), valid)),
        Case(rpc, "stream", f"{STREAM_VALID_MESSAGES} valid messages", (valid,) * STREAM_VALID_MESSAGES),
    ]


# -- targeted cases: the memory service's rules -----------------------------------------------------------

OK, INVALID, MISSING, OUT_OF_ORDER = ("OK",), ("INVALID_ARGUMENT",), ("NOT_FOUND",), ("FAILED_PRECONDITION",)
# A malformed id may be refused as malformed or as one memory does not hold: both tell the client to change it.
BAD_ID = ("INVALID_ARGUMENT", "NOT_FOUND")
ORDER_STREAM = "badinput-order"  # a setup case writes its clips [10, 14) and [14, 18) s, one keyframe each
ORDER_CLIP_ID = "badinput-order@000000010000"  # its first clip (ClipRecord.clip_id: start_s in ms)
LIVE_STREAM = "badinput-live"  # a setup case writes one live clip at LIVE_WALL_MS
LIVE_WALL_MS = 1_704_067_200_000  # 2024-01-01 00:00 UTC
GONE_STREAM = "badinput-gone"  # written by a setup case, then deleted
KEYFRAME_STREAM = "badinput-keyframes"
# Memory checks a keyframe's first bytes (FF D8 FF), not the image: a JFIF header and an end marker will do.
TINY_JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + bytes(32)
VISUAL = [0.5, 0.5, 0.5, 0.5]  # the setup clips' visual embedding: 4 values, unit length
CLIP_LIMITS, SEARCH_LIMITS = ClipLimits(), SearchLimits()  # memory's defaults, as the harness starts it
MAX_GET_IDS = 1000  # ids one Get may name (memory's _MAX_GET_IDS)
HUGE_VECTOR_VALUES = 100_000
MAX_INT32, MAX_INT64 = 2**31 - 1, 2**63 - 1


def _memory_rpc(method: str) -> Rpc:
    return next(rpc for rpc in rpcs() if rpc.service == "memory" and rpc.method == method)


def _targeted(method: str, description: str, expected: tuple[str, ...], *requests: Message) -> Case:
    messages = tuple(request.SerializeToString() for request in requests)
    return Case(_memory_rpc(method), "targeted", description, messages, expected=expected)


def _clip(stream_id: str, start_s: float, end_s: float, **fields: object) -> memory_pb2.WriteClipsRequest:
    clip = memory_pb2.ClipRecord(
        stream_id=stream_id, start_s=start_s, end_s=end_s, caption="a red car at the gate", frame_count=4, **fields
    )
    return memory_pb2.WriteClipsRequest(clip=clip)


def _keyframe(t_s: float, jpeg: bytes = TINY_JPEG) -> memory_pb2.Keyframe:
    return memory_pb2.Keyframe(t_s=t_s, jpeg=jpeg)


def memory_cases() -> list[Case]:
    """The targeted cases, in the order they must be sent: setups before the cases that read their streams."""
    return [
        *_setup_cases(),
        *_keyframe_cases(),
        *_time_order_cases(),
        *_expand_cases(),
        *_get_cases(),
        *_timeline_cases(),
        *_search_cases(),
        *_stream_id_cases(),
    ]


def _setup_cases() -> list[Case]:
    order = [
        _clip(ORDER_STREAM, start, start + 4, visual_embedding=VISUAL, keyframes=[_keyframe(start + 1)])
        for start in (10.0, 14.0)
    ]
    return [
        _targeted("WriteClips", f"setup: {ORDER_STREAM} clips [10, 14) and [14, 18) s, a keyframe each", OK, *order),
        _targeted(
            "WriteClips",
            f"setup: {LIVE_STREAM} live clip at 2024-01-01 00:00 UTC",
            OK,
            _clip(LIVE_STREAM, 0.0, 4.0, start_wall_ms=LIVE_WALL_MS),
        ),
        _targeted("WriteClips", f"setup: {GONE_STREAM} clip [0, 4) s, deleted below", OK, _clip(GONE_STREAM, 0, 4)),
    ]


def _keyframe_cases() -> list[Case]:
    most, largest = CLIP_LIMITS.max_keyframes, CLIP_LIMITS.max_keyframe_bytes
    largest_jpeg = TINY_JPEG[:3] + bytes(largest - 3)

    def clip(*keyframes: memory_pb2.Keyframe, start_s: float = 0.0) -> memory_pb2.WriteClipsRequest:
        return _clip(KEYFRAME_STREAM, start_s, start_s + 4, keyframes=list(keyframes))

    refused = [
        ("keyframe that is a PNG, not a JPEG", clip(_keyframe(1, PNG_BYTES))),
        ("keyframe of 0 bytes", clip(_keyframe(1, b""))),
        (f"{most + 1} keyframes (the limit is {most})", clip(*[_keyframe(1)] * (most + 1))),
        ("a 3 MiB keyframe (the limit is 2 MiB)", clip(_keyframe(1, TINY_JPEG[:3] + bytes(3 * MIB)))),
        ("a keyframe 1 byte over the 2 MiB limit", clip(_keyframe(1, largest_jpeg + b"\xd9"))),
        ("keyframe t_s = 1e6, far outside the clip [0, 4) s", clip(_keyframe(1e6))),
        ("keyframe t_s = -100, before the clip [0, 4) s", clip(_keyframe(-100))),
        ("keyframe t_s = NaN", clip(_keyframe(math.nan))),
        ("keyframe t_s = inf", clip(_keyframe(math.inf))),
        ("a good keyframe, then one with t_s = NaN", clip(_keyframe(1), _keyframe(math.nan))),
    ]
    accepted = [
        (f"{most} keyframes (the limit)", clip(*[_keyframe(index / 2) for index in range(most)])),
        ("a keyframe of exactly 2 MiB (the limit)", clip(_keyframe(5, largest_jpeg), start_s=4.0)),
    ]
    return [_targeted("WriteClips", label, INVALID, request) for label, request in refused] + [
        _targeted("WriteClips", label, OK, request) for label, request in accepted
    ]


def _time_order_cases() -> list[Case]:
    """Clips a stream written before (by the setup cases) must refuse: earlier than its latest, or overlapping."""
    before_live = _clip(LIVE_STREAM, 0.0, 4.0, start_wall_ms=LIVE_WALL_MS - 60_000)
    return [
        _targeted(
            "WriteClips",
            f"{ORDER_STREAM} clip [0, 4) s, before its clips [10, 18) s",
            OUT_OF_ORDER,
            _clip(ORDER_STREAM, 0, 4),
        ),
        _targeted(
            "WriteClips",
            f"{ORDER_STREAM} clip [12, 13) s, inside its first clip",
            OUT_OF_ORDER,
            _clip(ORDER_STREAM, 12, 13),
        ),
        _targeted(
            "WriteClips",
            f"{ORDER_STREAM} clip [16, 20) s, overlapping its clip [14, 18) s",
            OUT_OF_ORDER,
            _clip(ORDER_STREAM, 16, 20),
        ),
        _targeted(
            "WriteClips",
            f"{ORDER_STREAM} clip [17.5, 21) s, overlapping by 0.5 s",
            OUT_OF_ORDER,
            _clip(ORDER_STREAM, 17.5, 21),
        ),
        _targeted(
            "WriteClips",
            f"{ORDER_STREAM} in one call: clip [30, 34) s, then [20, 24) s",
            OUT_OF_ORDER,
            _clip(ORDER_STREAM, 30, 34),
            _clip(ORDER_STREAM, 20, 24),
        ),
        _targeted(
            "WriteClips", f"{LIVE_STREAM} live clip 60 s before its first (wall clock)", OUT_OF_ORDER, before_live
        ),
    ]


def _expand_cases() -> list[Case]:
    cases = [(label, expected, memory_pb2.ExpandRequest(node_id=node_id)) for label, expected, node_id in _NODE_IDS]
    cases.append(
        (f"clip {ORDER_CLIP_ID} (a clip has no children)", OK, memory_pb2.ExpandRequest(node_id=ORDER_CLIP_ID))
    )
    return [_targeted("Expand", label, expected, request) for label, expected, request in cases]


# Node ids: (label, expected, id). Node ids are "<stream>#<level>#<seq>"; clip ids "<stream>@<ms>".
_NODE_IDS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("empty node id", INVALID, ""),
    (f"node id of {MAX_NODE_ID_CHARS + 1} characters", INVALID, "n" * (MAX_NODE_ID_CHARS + 1)),
    ("node id of 1 MiB", INVALID, ONE_MIB_TEXT),
    ("node id with a space", INVALID, "badinput #1#000000000"),
    ("node id with NUL", INVALID, "badinput\x00#1#000000000"),
    ("node id '#'", BAD_ID, "#"),
    ("node id '##'", BAD_ID, "##"),
    ("node id 'badinput#1#' (no sequence)", BAD_ID, "badinput#1#"),
    ("node id with a superscript digit as its level", BAD_ID, "badinput#\u00b2#000000000"),
    ("node id with Arabic-Indic digits", BAD_ID, "badinput#\u0661#\u0660\u0660"),
    ("node id with level 10^20", BAD_ID, "badinput#" + "1" + "0" * 20 + "#000000000"),
    ("node id with sequence 10^30", BAD_ID, "badinput#1#1" + "0" * 30),
    ("node id with a negative level", BAD_ID, "badinput#-1#000000000"),
    ("unknown segment of a known stream", MISSING, f"{ORDER_STREAM}#1#000000099"),
    ("unknown episode of an unknown stream", MISSING, "no-such-stream-0#2#000000000"),
    ("unknown clip id", MISSING, f"{ORDER_STREAM}@000000099000"),
    ("clip id with a 30-digit time", MISSING, f"{ORDER_STREAM}@" + "9" * 30),
    ("path traversal ../../etc/passwd as node id", BAD_ID, "../../etc/passwd"),
)


def _get_cases() -> list[Case]:
    unknown = [f"no-such-stream-0#1#{index:09d}" for index in range(MAX_GET_IDS + 1)]
    cases = [(label, expected, memory_pb2.GetRequest(node_ids=[value])) for label, expected, value in _NODE_IDS]
    cases += [
        (label, expected, memory_pb2.GetRequest(keyframe_ids=[value])) for label, expected, value in _KEYFRAME_IDS
    ]
    cases += [
        (
            f"{MAX_GET_IDS + 1} unknown node ids (the limit is {MAX_GET_IDS})",
            INVALID,
            memory_pb2.GetRequest(node_ids=unknown),
        ),
        (f"{MAX_GET_IDS} unknown node ids", MISSING, memory_pb2.GetRequest(node_ids=unknown[:MAX_GET_IDS])),
        (
            f"{MAX_GET_IDS // 2} node ids and {MAX_GET_IDS // 2 + 1} keyframe ids",
            INVALID,
            memory_pb2.GetRequest(node_ids=unknown[: MAX_GET_IDS // 2], keyframe_ids=unknown[: MAX_GET_IDS // 2 + 1]),
        ),
        (f"clip {ORDER_CLIP_ID}", OK, memory_pb2.GetRequest(node_ids=[ORDER_CLIP_ID])),
        (f"clip {ORDER_CLIP_ID} twice", OK, memory_pb2.GetRequest(node_ids=[ORDER_CLIP_ID] * 2)),
        (
            "a known clip and an unknown one",
            MISSING,
            memory_pb2.GetRequest(node_ids=[ORDER_CLIP_ID, f"{ORDER_STREAM}@000000099000"]),
        ),
        (f"keyframe {ORDER_CLIP_ID}#k0", OK, memory_pb2.GetRequest(keyframe_ids=[f"{ORDER_CLIP_ID}#k0"])),
        (f"keyframe {ORDER_CLIP_ID}#k0 twice", OK, memory_pb2.GetRequest(keyframe_ids=[f"{ORDER_CLIP_ID}#k0"] * 2)),
    ]
    return [_targeted("Get", label, expected, request) for label, expected, request in cases]


# Keyframe ids: "<clip id>#k<index>".
_KEYFRAME_IDS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("empty keyframe id", BAD_ID, ""),
    ("keyframe id with no '#k'", BAD_ID, ORDER_CLIP_ID),
    ("keyframe id '#k0' (no clip)", BAD_ID, "#k0"),
    ("keyframe id with no index", BAD_ID, f"{ORDER_CLIP_ID}#k"),
    ("unknown keyframe index of a known clip", MISSING, f"{ORDER_CLIP_ID}#k5"),
    ("keyframe index 10^20 of a known clip", MISSING, f"{ORDER_CLIP_ID}#k1" + "0" * 20),
    ("keyframe of an unknown clip", MISSING, f"{ORDER_STREAM}@000000099000#k0"),
    ("keyframe index as a superscript digit", BAD_ID, f"{ORDER_CLIP_ID}#k\u00b2"),
    ("keyframe id with NUL before '#k0'", BAD_ID, "bad\x00id#k0"),
    ("keyframe id of 1 MiB ending in '#k0'", BAD_ID, ONE_MIB_TEXT + "#k0"),
    (f"keyframe id of {MAX_NODE_ID_CHARS + 1} characters ending in '#k0'", BAD_ID, "k" * MAX_NODE_ID_CHARS + "#k0"),
    ("keyframe id with ../ steps out of the keyframe folder", BAD_ID, "../../../../../../../../etc/passwd#k0"),
    ("keyframe id naming another stream's folder", BAD_ID, f"../{ORDER_STREAM}/{ORDER_CLIP_ID}#k0"),
    ("keyframe id with a slash in the stream", BAD_ID, "bad/id@000000000000#k0"),
)


def _timeline_cases() -> list[Case]:
    def timeline(**fields: object) -> memory_pb2.TimelineRequest:
        return memory_pb2.TimelineRequest(**{"stream_id": ORDER_STREAM, **fields})

    refused = [
        ("level -1", timeline(level=-1)),
        (f"level {MAX_LEVEL + 1} (the top is {MAX_LEVEL})", timeline(level=MAX_LEVEL + 1)),
        ("level int32 max", timeline(level=MAX_INT32)),
        ("limit -1", timeline(limit=-1)),
        (f"limit {MAX_TIMELINE_LIMIT + 1} (the limit is {MAX_TIMELINE_LIMIT})", timeline(limit=MAX_TIMELINE_LIMIT + 1)),
        ("limit int32 max", timeline(limit=MAX_INT32)),
        *_range_values(timeline),
        ("stream id bad/id", timeline(stream_id="bad/id")),
        ("empty stream id", timeline(stream_id="")),
    ]
    cases = [(label, INVALID, request) for label, request in refused]
    cases += [
        ("unknown stream", MISSING, timeline(stream_id="no-such-stream-0")),
        (f"{ORDER_STREAM}, every clip", OK, timeline()),
        (
            f"{ORDER_STREAM}, level {MAX_LEVEL} and limit {MAX_TIMELINE_LIMIT}",
            OK,
            timeline(level=MAX_LEVEL, limit=MAX_TIMELINE_LIMIT),
        ),
        (
            f"{ORDER_STREAM}, a wall-clock range (it has none)",
            OK,
            timeline(start_wall_ms=LIVE_WALL_MS, end_wall_ms=LIVE_WALL_MS + 60_000),
        ),
    ]
    return [_targeted("Timeline", label, expected, request) for label, expected, request in cases]


def _range_values(make: Callable[..., Message]) -> list[tuple[str, Message]]:
    """Malformed stream-time and wall-clock ranges, in requests `make(**range_fields)` builds; each is refused."""
    return [
        ("range: start_s = NaN", make(start_s=math.nan)),
        ("range: start_s = inf", make(start_s=math.inf)),
        ("range: start_s = -1", make(start_s=-1.0)),
        ("range: end_s = NaN", make(end_s=math.nan)),
        ("range: end_s = -inf", make(end_s=-math.inf)),
        ("range: end_s = 1e300", make(end_s=1e300)),
        ("range reversed: start_s 18 > end_s 10", make(start_s=18.0, end_s=10.0)),
        ("range: start_wall_ms = -1", make(start_wall_ms=-1)),
        ("range: start_wall_ms = 1 (1970)", make(start_wall_ms=1)),
        (f"range: start_wall_ms = {MIN_WALL_MS - 1} (just before 2000)", make(start_wall_ms=MIN_WALL_MS - 1)),
        ("range: end_wall_ms = int64 max", make(end_wall_ms=MAX_INT64)),
        ("range: end_wall_ms = int64 min", make(end_wall_ms=-MAX_INT64 - 1)),
        (
            "reversed wall range: start 1 h after end",
            make(start_wall_ms=LIVE_WALL_MS + 3_600_000, end_wall_ms=LIVE_WALL_MS),
        ),
    ]


def _search_cases() -> list[Case]:
    def search(**fields: object) -> memory_pb2.SearchRequest:
        return memory_pb2.SearchRequest(**{"stream_ids": [ORDER_STREAM], **fields})

    refused = [
        ("text and a vector both", search(text="red car", vector=VISUAL)),
        ("no text and an empty vector", search(vector=[])),
        ("vector of NaN", search(vector=[math.nan] * 4)),
        ("vector with inf", search(vector=[math.inf, 0.0, 0.0, 0.0])),
        ("vector of -inf", search(vector=[-math.inf] * 4)),
        ("vector of zeros", search(vector=[0.0] * 4)),
        (f"vector of {HUGE_VECTOR_VALUES} values", search(vector=[0.01] * HUGE_VECTOR_VALUES)),
        (
            f"vector of {SEARCH_LIMITS.max_vector_dims + 1} values (one over the limit)",
            search(vector=[0.01] * (SEARCH_LIMITS.max_vector_dims + 1)),
        ),
        ("vector of 4 subnormal values 1e-45 (its norm is 0 in float32)", search(vector=[1e-45] * 4)),
        ("level -1", search(text="red car", level=-1)),
        (f"level {MAX_LEVEL + 1} (the top is {MAX_LEVEL})", search(text="red car", level=MAX_LEVEL + 1)),
        ("vector search at level int32 min", search(vector=VISUAL, level=-MAX_INT32 - 1)),
        *_range_values(lambda **fields: search(text="red car", **fields)),
    ]
    cases = [(label, INVALID, request) for label, request in refused]
    cases += [
        ("whitespace text and a vector (a vector search)", OK, search(text=" \t", vector=VISUAL)),
        ("vector like the setup clips'", OK, search(vector=VISUAL)),
        ("vector of 3 values (no clip has that size)", OK, search(vector=[1.0, 0.0, 0.0])),
        (
            f"vector of {SEARCH_LIMITS.max_vector_dims} values (the limit)",
            OK,
            search(vector=[0.01] * SEARCH_LIMITS.max_vector_dims),
        ),
        ("vector of 3.4e38 values (its norm overflows float32)", OK + INVALID, search(vector=[3.4e38] * 4)),
        (f"text at level {MAX_LEVEL}", OK, search(text="red car", level=MAX_LEVEL)),
        ("vector at level 1", OK, search(vector=VISUAL, level=1)),
        ("text in a wall-clock range", OK, search(text="red car", start_wall_ms=LIVE_WALL_MS)),
    ]
    return [_targeted("Search", label, expected, request) for label, expected, request in cases]


def _stream_id_cases() -> list[Case]:
    """Stats and DeleteStream with bad and unknown stream ids; a stream deleted, then asked for again."""
    bad = [
        ("empty stream id", ""),
        ("stream id bad/id", "bad/id"),
        ("stream id '..'", ".."),
        (f"stream id of {MAX_STREAM_ID_CHARS + 1} characters", "s" * (MAX_STREAM_ID_CHARS + 1)),
        ("stream id with NUL", "bad\x00id"),
        ("stream id of 1 MiB", ONE_MIB_TEXT),
    ]
    cases = [_targeted("Stats", label, INVALID, memory_pb2.StatsRequest(stream_ids=[value])) for label, value in bad]
    cases += [
        _targeted("DeleteStream", label, INVALID, memory_pb2.DeleteStreamRequest(stream_id=value))
        for label, value in bad
    ]
    unknown = [f"no-such-stream-{index}" for index in range(10000)]
    cases += [
        _targeted("Stats", "unknown stream", MISSING, memory_pb2.StatsRequest(stream_ids=unknown[:1])),
        _targeted(
            "Stats",
            "a known stream and an unknown one",
            MISSING,
            memory_pb2.StatsRequest(stream_ids=[ORDER_STREAM, unknown[0]]),
        ),
        _targeted("Stats", "10000 unknown streams", MISSING, memory_pb2.StatsRequest(stream_ids=unknown)),
        _targeted(
            "Stats", f"{ORDER_STREAM} 10000 times", OK, memory_pb2.StatsRequest(stream_ids=[ORDER_STREAM] * 10000)
        ),
        _targeted("DeleteStream", "unknown stream", MISSING, memory_pb2.DeleteStreamRequest(stream_id=unknown[0])),
        _targeted(
            "DeleteStream", f"{GONE_STREAM} (written above)", OK, memory_pb2.DeleteStreamRequest(stream_id=GONE_STREAM)
        ),
        _targeted(
            "DeleteStream",
            f"{GONE_STREAM} again, once deleted",
            MISSING,
            memory_pb2.DeleteStreamRequest(stream_id=GONE_STREAM),
        ),
        _targeted("Stats", f"{GONE_STREAM}, once deleted", MISSING, memory_pb2.StatsRequest(stream_ids=[GONE_STREAM])),
        _targeted(
            "Timeline", f"{GONE_STREAM}, once deleted", MISSING, memory_pb2.TimelineRequest(stream_id=GONE_STREAM)
        ),
        _targeted(
            "Get",
            f"clip {GONE_STREAM}@000000000000, once deleted",
            MISSING,
            memory_pb2.GetRequest(node_ids=[f"{GONE_STREAM}@000000000000"]),
        ),
        _targeted("WriteClips", f"{GONE_STREAM} clip [0, 4) s again, once deleted", OK, _clip(GONE_STREAM, 0, 4)),
    ]
    return cases
