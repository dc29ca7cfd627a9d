"""The bad inputs `benchmarks.bad_input` sends: one list of cases per RPC, the same list for the same seed.

Every RPC of every service comes from the generated descriptors (the services are the launcher's), and
the hostile values from each request message's fields, so a new RPC or field is covered without an edit
here. Four kinds of case:
- bytes: random bytes of several lengths and non-protobuf text;
- wire: a valid request truncated, with a wrong wire type, a malformed varint, a length past the end,
  invalid UTF-8, deep nesting, an 8 MiB string, and one message over the servers' 64 MiB limit;
- value: a valid request with one field set to a hostile value (NaN, huge, negative, empty, unicode,
  1 MiB strings, unknown stream ids, odd sources);
- stream: for client-streaming RPCs, an empty stream and a stream with junk between valid messages.
A case holds the request messages as bytes, so the sender needs no knowledge of the message types.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from google.protobuf import descriptor_pool, message_factory
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from longwatch.grpc_server import MAX_MESSAGE_BYTES
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
