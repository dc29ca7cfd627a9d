"""Stream times and UTC wall-clock times as people read and write them, the same in answers, evidence lists
and the CLI."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime

# h:mm:ss or m:ss (minutes unbounded without hours, as format_time_s writes them), digits only.
_CLOCK = re.compile(r"(?:(\d{1,9}):)?(\d{1,9}):(\d{1,2}(?:\.\d{1,9})?)")


def format_time_s(seconds: float) -> str:
    """m:ss from the stream start (h:mm:ss past an hour): 65 → "1:05"."""
    whole = max(int(seconds), 0)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def format_range_s(start_s: float, end_s: float) -> str:
    """ "0:40-0:45": start rounded down and end rounded up, so the range covers the clip. An ASCII hyphen,
    as longwatch.sample's ground truth writes ranges and any terminal shows them."""
    return f"{format_time_s(math.floor(start_s))}-{format_time_s(math.ceil(max(end_s, start_s)))}"


def format_wall_ms(wall_ms: int) -> str:
    """UTC wall clock as ISO 8601 to the second: 1_796_299_204_000 → "2026-12-03T12:00:04Z" (rounded down)."""
    try:
        moment = datetime.fromtimestamp(wall_ms // 1000, tz=UTC)
    except (OverflowError, OSError, ValueError):  # beyond the years datetime holds: show the number itself
        return f"{wall_ms} ms"
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def format_wall_range_ms(start_wall_ms: int, end_wall_ms: int) -> str:
    """An ISO 8601 interval that covers the span, end rounded up; a same-day end shows its time only
    ("2026-12-03T12:00:04Z/12:00:09Z", ISO's abbreviated end). Empty when there is no wall clock (a file)."""
    if not start_wall_ms:
        return ""
    start = format_wall_ms(start_wall_ms)
    if end_wall_ms <= start_wall_ms:
        return start
    end = format_wall_ms(-(-end_wall_ms // 1000) * 1000)
    is_same_day = start.endswith("Z") and end.endswith("Z") and end[:10] == start[:10]
    return f"{start}/{end[11:] if is_same_day else end}"


def format_span(start_s: float, end_s: float, start_wall_ms: int = 0, end_wall_ms: int = 0) -> str:
    """ "0:21-0:25" for a file; "0:21-0:25 (2026-12-03T12:00:04Z/12:00:08Z)" for a live stream."""
    wall = format_wall_range_ms(start_wall_ms, end_wall_ms)
    return f"{format_range_s(start_s, end_s)} ({wall})" if wall else format_range_s(start_s, end_s)


def parse_utc_ms(text: str) -> int:
    """UTC ms since the epoch of an ISO 8601 time that says its zone ("2026-12-03T12:00:04Z", "...+01:00",
    a date alone as its midnight UTC). A time without a zone raises ValueError: read as local time or UTC,
    it would be hours off for someone."""
    cleaned = text.strip()
    if len(cleaned) == 10:  # a date alone: midnight UTC
        cleaned += "T00:00:00Z"
    moment = datetime.fromisoformat(cleaned)
    if moment.tzinfo is None:
        raise ValueError(f"{text!r} has no time zone; add Z for UTC (2026-12-03T12:00:04Z) or an offset (+01:00)")
    return round(moment.timestamp() * 1000)


def parse_stream_time_s(text: str) -> float:
    """Seconds from the stream start as written by hand or copied from output: "90", "90.5", "1:30", "1:02:03"."""
    cleaned = text.strip()
    if ":" not in cleaned:
        return float(cleaned)
    match = _CLOCK.fullmatch(cleaned)
    if match is None:
        raise ValueError(f"{text!r} is not a stream time; write seconds (90), m:ss (1:30) or h:mm:ss (1:02:03)")
    hours, minutes, seconds = match.group(1), int(match.group(2)), float(match.group(3))
    if seconds >= 60 or (hours is not None and minutes >= 60):
        raise ValueError(f"{text!r} is not a stream time: minutes and seconds after a colon run from 00 to 59")
    return int(hours or 0) * 3600 + minutes * 60 + seconds
