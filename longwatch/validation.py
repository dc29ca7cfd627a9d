"""What every service, the SDK and the CLI accept: one definition of each value a request carries.

Every check bounds the value's length before anything else looks at it, so no later step (a regex,
a URL parser, a log line) ever sees attacker-sized text. Each raises `InvalidArgument` with a message
that says what to change and quotes at most a short prefix of the value (`quote_prefix`).
Pure Python: servers, core code and clients all import it.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Sequence

from longwatch.errors import InvalidArgument

QUOTE_LIMIT = 80  # characters of a bad value shown in a message or log line: enough to recognise it
PATH_QUOTE_LIMIT = 200  # paths and URLs: most real ones fit whole
MAX_STREAM_ID_CHARS = 64
# Only a character class, matched whole after the length check: linear, nothing to backtrack.
_STREAM_ID = re.compile(r"[A-Za-z0-9._-]+")
STREAM_ID_RULE = f"use 1 to {MAX_STREAM_ID_CHARS} letters, digits, '.', '_' or '-' (not only dots)"
MAX_SOURCE_CHARS = 4096  # Linux's PATH_MAX; no camera URL comes close
MAX_STREAM_TIME_S = 1e10  # about 317 years: longer than any stream, and clip ids stay integers
# Wall clock in ms since the Unix epoch: 2000-01-01 to 2200-01-01 UTC; 0 means "none" (a file).
MIN_WALL_MS = 946_684_800_000
MAX_WALL_MS = 7_258_118_400_000
MIN_SAMPLE_FPS = 0.001  # one frame per ~17 minutes; below it a stream yields nothing for hours
MAX_SAMPLE_FPS = 240.0  # the most any perception may be configured to take (its max_sample_fps)
DEFAULT_MAX_QUESTION_CHARS = 2000
MAX_QUESTION_CHARS = 100_000  # the most any reasoner may be configured to take (its max_question_chars)
# Memory levels: 0 = clips, 1 = segments, 2 = episodes, ... At the smallest fan-out (2) level 32 would need
# 2^32 clips (136 years of 1 s clips), so no stream reaches it; the bound keeps a level inside an int32.
MAX_LEVEL = 32
MAX_SEARCH_K = 100  # memory.proto: SearchRequest.k is 1 to 100 (0 = the default)
MAX_TIMELINE_LIMIT = 1000  # memory.proto: TimelineRequest.limit is 1 to 1000 (0 = the default)
MAX_VECTOR_DIMS = 4096  # the longest visual embedding memory stores; vision features are hundreds to ~1,000 values
MAX_NODE_ID_CHARS = 200  # a stream id (64), a clip's time or a node's level and sequence, a keyframe index


def quote_prefix(value: object, limit: int = QUOTE_LIMIT) -> str:
    """`repr` of at most `limit` characters of `value`, saying its length when cut: safe in any message."""
    text = value if isinstance(value, str) else str(value)
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit]!r}… ({len(text)} characters)"


def validate_stream_id(stream_id: str, field: str = "stream_id") -> str:
    """The id, if it is 1–64 of [A-Za-z0-9._-] and not only dots (a name that is also a path step)."""
    if not stream_id:
        raise InvalidArgument(f"{field} is empty: {STREAM_ID_RULE}")
    if len(stream_id) > MAX_STREAM_ID_CHARS or not _STREAM_ID.fullmatch(stream_id) or not stream_id.strip("."):
        raise InvalidArgument(f"{field} {quote_prefix(stream_id)} is not valid: {STREAM_ID_RULE}")
    return stream_id


def validate_stream_ids(stream_ids: Sequence[str], field: str = "stream_ids") -> tuple[str, ...]:
    """Each id valid, duplicates dropped (first kept)."""
    for stream_id in stream_ids:
        validate_stream_id(stream_id, f"a {field} entry")
    return tuple(dict.fromkeys(stream_ids))


def _has_control_chars(text: str) -> bool:
    return any(unicodedata.category(char) in ("Cc", "Cf", "Cs") for char in text)


def normalise_source(source: str) -> str:
    """The source as perception opens it: an absolute path as given, a URL with its scheme in lower case
    (FFmpeg knows only "rtsp", not "RTSP"). Which schemes are served is perception's to say."""
    if len(source) > MAX_SOURCE_CHARS:
        raise InvalidArgument(
            f"source is {len(source)} characters long; pass a path or URL of at most {MAX_SOURCE_CHARS}"
        )
    if not source.strip():
        raise InvalidArgument("source is empty; pass an absolute path to a video file or a stream URL")
    if _has_control_chars(source):
        raise InvalidArgument(f"source {quote_prefix(source)} holds control characters; pass a plain path or URL")
    scheme, mark, rest = source.partition("://")
    if mark and scheme and scheme.isascii() and scheme.isalnum():
        return f"{scheme.lower()}://{rest}"
    return source


def validate_stream_time_s(value: float, field: str) -> float:
    """A stream time: finite seconds in [0, 1e10]."""
    if not math.isfinite(value) or not 0 <= value <= MAX_STREAM_TIME_S:
        raise InvalidArgument(f"{field} must be a number of seconds in [0, {MAX_STREAM_TIME_S:g}]; got {value}")
    return value


def validate_wall_ms(value: int, field: str) -> int:
    """0 (no wall clock, as for a file) or UTC ms since the epoch between the years 2000 and 2200."""
    if value != 0 and not MIN_WALL_MS <= value <= MAX_WALL_MS:
        raise InvalidArgument(
            f"{field} must be 0 (no wall clock) or UTC milliseconds since the epoch between "
            f"{MIN_WALL_MS} (2000) and {MAX_WALL_MS} (2200); got {value}"
        )
    return value


def validate_stream_range_s(start_s: float, end_s: float) -> None:
    """A stream-time range: both valid, and start_s not after end_s unless end_s is 0 (no upper bound)."""
    validate_stream_time_s(start_s, "start_s")
    validate_stream_time_s(end_s, "end_s")
    if end_s > 0 and start_s > end_s:
        raise InvalidArgument(
            f"start_s ({start_s}) is after end_s ({end_s}); swap them, or pass end_s = 0 for no upper bound"
        )


def validate_wall_range_ms(start_wall_ms: int, end_wall_ms: int) -> None:
    """A wall-clock range: both valid (0 = open), and start not after end when both are set."""
    validate_wall_ms(start_wall_ms, "start_wall_ms")
    validate_wall_ms(end_wall_ms, "end_wall_ms")
    if start_wall_ms and end_wall_ms and start_wall_ms > end_wall_ms:
        raise InvalidArgument(
            f"start_wall_ms ({start_wall_ms}) is after end_wall_ms ({end_wall_ms}); "
            "swap them, or pass 0 for an open end"
        )


def validate_level(level: int) -> int:
    """A level of the memory hierarchy: 0 (clips) to MAX_LEVEL."""
    if not 0 <= level <= MAX_LEVEL:
        raise InvalidArgument(
            f"level must be 0 (clips), 1 (segments), 2 (episodes), ... up to {MAX_LEVEL}; got {level}"
        )
    return level


def validate_count(value: int, field: str, maximum: int) -> int:
    """A count a request carries where 0 means the server's default: 0 to `maximum`."""
    if not 0 <= value <= maximum:
        raise InvalidArgument(f"{field} must be 1 to {maximum}, or 0 for the default; got {value}")
    return value


def validate_vector(vector: Sequence[float]) -> tuple[float, ...]:
    """A search vector: at most MAX_VECTOR_DIMS finite values (its length is the encoder's; memory checks it)."""
    if len(vector) > MAX_VECTOR_DIMS:
        raise InvalidArgument(f"vector has {len(vector)} values; pass at most {MAX_VECTOR_DIMS}")
    if not all(math.isfinite(value) for value in vector):
        raise InvalidArgument("vector holds NaN or infinite values; pass finite numbers")
    return tuple(vector)


def validate_node_id(node_id: str, field: str = "node_id") -> str:
    """A node or keyframe id as memory gave it: 1 to MAX_NODE_ID_CHARS printable characters, no spaces."""
    if not node_id:
        raise InvalidArgument(f"{field} is empty; pass an id from a search, timeline or expand")
    if len(node_id) > MAX_NODE_ID_CHARS or _has_control_chars(node_id) or any(char.isspace() for char in node_id):
        raise InvalidArgument(
            f"{field} {quote_prefix(node_id)} is not an id memory gives; pass one from a search, timeline or expand"
        )
    return node_id


def validate_sample_fps(value: float, default: float, maximum: float) -> float:
    """The rate to sample at: `default` for 0, else a finite value in [0.001, maximum]."""
    if value == 0:
        return default
    if not math.isfinite(value) or not MIN_SAMPLE_FPS <= value <= maximum:
        raise InvalidArgument(
            f"sample_fps {value} is out of range; pass 0 for the default ({default}) "
            f"or a value in [{MIN_SAMPLE_FPS}, {maximum}]"
        )
    return value


def validate_question(question: str, max_chars: int = DEFAULT_MAX_QUESTION_CHARS) -> str:
    """The question without control characters and outer spaces; refused when nothing is left or too long."""
    if len(question) > max_chars:
        raise InvalidArgument(f"question is {len(question)} characters long; shorten it to at most {max_chars}")
    cleaned = "".join(" " if char in "\t\n\r" else char for char in question)
    cleaned = "".join(char for char in cleaned if unicodedata.category(char) not in ("Cc", "Cf", "Cs")).strip()
    if not cleaned:
        raise InvalidArgument("question is empty: ask something about the video")
    return cleaned
