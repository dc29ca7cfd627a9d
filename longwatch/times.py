"""Stream times as people read them, the same in answers, evidence lists and the CLI."""

from __future__ import annotations

import math


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
