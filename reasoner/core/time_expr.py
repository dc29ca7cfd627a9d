"""Time expressions in questions: "between 4:30 and 5:00", "until 2 pm", "in the last ten minutes",
"yesterday between 9 and 10 am", "after the truck left".

A question is read before we know which stream answers it, and "4:30" means 4 min 30 s into a file but
half past four on a live camera. So `parse_time` keeps both readings of every clock it finds (`ClockRef`),
and `resolve` picks one when the stream is known. The structure (between/from/after/before/at/last) and
stream clocks are read with regexes here: dateparser alone reads "4:30" as a time of day. Dates, times of
day and spoken amounts ("ten minutes ago") are read by dateparser, relative to the question's `now`.

Choices a reader might not guess:
- A time needs a preposition that makes it one (between, from, after, since, before, until, till, at,
  around): "bay 10:30", "locker 42" and prices like "12.49" are labels and values, never times.
- A bare hour ("9") is a time only next to a date ("yesterday at 9") or sharing its partner's am/pm
  ("between 9 and 10 am"); "after 41" is a value in a sequence ("Which exit number after 41?"), neither a
  time nor an event, and gives no constraint.
- "What time did the clock show?" asks for a reading, not a span: no constraint.
- A point ("at 14:05") is a window of ±30 s in stream time, and the minute it names in wall time.
- A date alone ("what happened yesterday?") is that whole UTC day.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta

import dateparser

from longwatch.errors import InvalidArgument
from longwatch.times import parse_stream_time_s
from longwatch.types import TimeRange

logger = logging.getLogger(__name__)

# Half a minute either side of a stream-time point: "at 4:30" in a file is read as 4:00-5:00 by people
# who round, and a clip of a few seconds near it must fall inside.
POINT_HALF_WINDOW_S = 30.0
# A wall-clock point is the minute it names: 14:05:00.000 to 14:05:59.999 (TimeRange ends are inclusive).
_MINUTE_MS = 60_000
_DAY_MS = 86_400_000

_MERIDIEM = r"[ap]\.?m\.?(?![a-z])"
# One clock as written: "4:30", "1:02:03", "14:00", "10:30 pm", "2 pm", "9 o'clock", "noon", or a bare hour.
# Never preceded or followed by more digits, so "12.49" and "10:30:5" are not clocks.
_TIME = (
    rf"(?:\d{{1,4}}(?::\d{{2}}){{1,2}}(?:\.\d+)?(?!:?\d)(?:\s*{_MERIDIEM})?"
    rf"|\d{{1,2}}\s*(?:{_MERIDIEM}|o['’]clock)"
    r"|\d{1,2}(?![\d%]|[.:,]\d)"
    r"|noon|midnight)"
)
_CLOCK_PARTS = re.compile(
    r"(?P<hour>\d{1,4})(?::(?P<minute>\d{2}))?(?::(?P<second>\d{2}))?(?:\.\d+)?"
    r"\s*(?:(?P<meridiem>[ap])\.?m\.?|(?P<oclock>o['’]clock))?"
    r"|(?P<word>noon|midnight)",
    re.IGNORECASE,
)
_LEAD = r"(?:(?:right|just|shortly|soon|immediately|straight)\s+)?"
_RANGE = re.compile(
    rf"\b(?:between|from)\s+(?P<start>{_TIME})\s*(?:and|to|until|till|-|–)\s*(?P<end>{_TIME})", re.IGNORECASE
)
_AFTER = re.compile(rf"\b{_LEAD}(?:after|since|from)\s+(?P<start>{_TIME})", re.IGNORECASE)
_BEFORE = re.compile(rf"\b{_LEAD}(?:before|until|till|up\s+to)\s+(?P<end>{_TIME})", re.IGNORECASE)
_AT = re.compile(rf"\b(?:at\s+around|at\s+about|at|around)\s+(?P<start>{_TIME})", re.IGNORECASE)

_WEEKDAY = r"(?:mon|tues|wednes|thurs|fri|satur|sun)day"
_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?"
    r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_ORDINAL = r"\d{1,2}(?:st|nd|rd|th)?"
_DATE = re.compile(
    r"\b(?:the\s+day\s+before\s+yesterday|yesterday|today)\b"
    rf"|\b(?:on\s+)?(?:last\s+)?{_WEEKDAY}\b(?!['’]s)"
    rf"|\bon\s+(?:the\s+)?{_ORDINAL}\s+(?:of\s+)?{_MONTH}\b(?:,?\s+\d{{4}})?"
    rf"|\bon\s+{_MONTH}\s+{_ORDINAL}\b(?:,?\s+\d{{4}})?"
    r"|\bon\s+\d{4}-\d{2}-\d{2}\b",
    re.IGNORECASE,
)
_LAST = re.compile(
    r"\b(?:(?:in|over|during|for|within)\s+)?(?:the\s+)?(?:last|past|previous)\s+"
    r"(?:(?P<amount>\d+(?:\.\d+)?|an?|[a-z]+(?:[\s-][a-z]+)?)\s+)?"
    r"(?P<unit>seconds?|secs?|minutes?|mins?|hours?|hrs?|days?)\b",
    re.IGNORECASE,
)
# An event clause runs to punctuation or to the question's own words ("after the truck left what was ...").
_CLAUSE_END = r"(?=\s*(?:[,;?!]|\.(?:\s|$)|$|\s+(?:what|which|who|whom|whose|how|where|when|why)\b))"
# "till" is also a shop's till: not after a determiner ("that till") or before its number ("till 68").
_TILL = r"(?<!\ba )(?<!\bthe )(?<!\bthat )(?<!\bthis )(?<!\beach )(?<!\bwhich )till(?!\s+#?\d)"
_EVENT = re.compile(
    rf"\b{_LEAD}(?P<word>after|since|before|until|{_TILL})\s+(?P<event>[^,;?!]+?){_CLAUSE_END}", re.IGNORECASE
)
_ONCE = re.compile(r"^\s*once\s+(?P<event>[^,;?!]+?)\s*,", re.IGNORECASE)
_HAS_LETTER = re.compile(r"[a-z]", re.IGNORECASE)
_HAS_CLOCK = re.compile(r"\d:\d{2}")
_AFTER_WORDS = frozenset({"after", "since"})


@dataclass(frozen=True)
class ClockRef:
    """A time written in a question, before we know whether the stream is a file or live."""

    text: str  # as written: "4:30", "14:00", "3 pm", "yesterday at 9"
    stream_s: float | None  # its reading as stream time ("4:30" -> 270.0); None if it cannot be one
    wall: datetime | None  # its reading as a wall-clock time (tz-aware UTC, date resolved against `now`)
    # The question named the day ("yesterday", "on 3 December"); otherwise `resolve` picks the day
    # from the stream's own clock, which may differ from `now`'s.
    is_dated: bool = False


@dataclass(frozen=True)
class TimeConstraint:
    """The time a question is about. A point ("at 14:05") has the same ref as start and end."""

    start: ClockRef | None = None  # "between A and B", "from A to B", "after A", "since A"
    end: ClockRef | None = None  # "... and B", "before B", "until B"
    last_s: float = 0.0  # "in the last ten minutes" -> 600
    after_event: str = ""  # "after the truck left" -> "the truck left" (no clock in it)
    before_event: str = ""  # "before the alarm rang" -> "the alarm rang"
    remainder: str = ""  # the question with the time expression cut out ("What was on the board?")

    @property
    def is_point(self) -> bool:
        return self.start is not None and self.start == self.end


@dataclass(frozen=True)
class _Cut:
    """What one pattern found, and where, so the remainder can leave it out."""

    span: tuple[int, int]
    constraint: TimeConstraint


def parse_time(question: str, now: datetime) -> TimeConstraint:
    """The time expression of `question` (an empty constraint if it has none). `now` (tz-aware) is when
    the question is asked: "yesterday", a bare "14:00" and "ten minutes" are read against it."""
    if now.tzinfo is None:
        raise InvalidArgument("parse_time needs a timezone-aware `now`; pass datetime.now(UTC)")
    base = now.astimezone(UTC).replace(tzinfo=None)  # dateparser's RELATIVE_BASE is naive, here UTC
    date_match = _DATE.search(question)
    date_text = date_match.group(0) if date_match else ""
    spans = [date_match.span()] if date_match else []
    found = _take(TimeConstraint(), spans, _clock_cuts(question, date_text, base))
    # Clocks masked as commas end an event's clause there: "after the truck left at 4:30" -> "the truck left".
    masked = "".join("," if _overlaps((index, index + 1), spans) else char for index, char in enumerate(question))
    found = _take(found, spans, _event_cuts(masked))
    if date_match and found.start is None and found.end is None and not found.last_s:
        found = _merge(found, _whole_day(date_text, base))
    if found == TimeConstraint():
        return TimeConstraint(remainder=question.strip())
    found = replace(found, remainder=_cut_out(question, spans))
    logger.debug("time in question %r: %s", question, found)
    return found


def _take(found: TimeConstraint, spans: list[tuple[int, int]], cuts: list[_Cut]) -> TimeConstraint:
    """`found` with each cut that overlaps no earlier one and fills a side still open; their spans
    are added to `spans`."""
    for cut in cuts:
        if not _overlaps(cut.span, spans) and _fits(found, cut.constraint):
            found = _merge(found, cut.constraint)
            spans.append(cut.span)
    return found


def _clock_cuts(question: str, date_text: str, base: datetime) -> list[_Cut]:
    """Every clock structure in `question`, ranges first so "between A and B" is not read as "A"."""
    cuts = [_last_cut(match, base) for match in _LAST.finditer(question)]
    for pattern in (_RANGE, _AFTER, _BEFORE, _AT):
        cuts += [_range_cut(pattern, match, date_text, base) for match in pattern.finditer(question)]
    return [cut for cut in cuts if cut is not None]


def _last_cut(match: re.Match[str], base: datetime) -> _Cut | None:
    amount = match.group("amount") or "1"
    ago = _parse_wall(f"{amount} {match.group('unit')} ago", base)
    if ago is None:  # "the last few minutes": no amount dateparser can read
        return None
    return _Cut(match.span(), TimeConstraint(last_s=(base.replace(tzinfo=UTC) - ago).total_seconds()))


def _range_cut(pattern: re.Pattern[str], match: re.Match[str], date_text: str, base: datetime) -> _Cut | None:
    names = pattern.groupindex
    start_text = match.group("start") if "start" in names else ""
    end_text = match.group("end") if "end" in names else ""
    shared_meridiem = _meridiem(end_text) if start_text and end_text else ""
    start = _clock_ref(start_text, date_text, base, shared_meridiem) if start_text else None
    end = _clock_ref(end_text, date_text, base) if end_text else None
    if (start_text and start is None) or (end_text and end is None):
        return None
    if pattern is _AT:
        end = start
    elif _are_undated_times(start, end):  # dateparser read each alone: put the end on the start's day
        end = replace(end, wall=datetime.combine(start.wall.date(), end.wall.timetz()))
    return _Cut(match.span(), TimeConstraint(start=start, end=end))


def _are_undated_times(*refs: ClockRef | None) -> bool:
    return all(ref is not None and ref.wall is not None and not ref.is_dated for ref in refs)


def _meridiem(clock_text: str) -> str:
    """ "am" or "pm" when `clock_text` says it: the partner of "between 9 and 10 am" shares it."""
    parts = _CLOCK_PARTS.fullmatch(clock_text.strip())
    return f"{parts.group('meridiem').lower()}m" if parts and parts.group("meridiem") else ""


def _clock_ref(text: str, date_text: str, base: datetime, shared_meridiem: str = "") -> ClockRef | None:
    """Both readings of one clock, or None when it is neither a stream time nor a time of day."""
    parts = _CLOCK_PARTS.fullmatch(text.strip())
    if parts is None:
        return None
    # A named day makes it a wall-clock time: "on 3 December at 14:00" is not 14 minutes into a file.
    stream_s = None if date_text else _stream_reading(text, parts, shared_meridiem)
    time_of_day = _time_of_day(parts, shared_meridiem, is_dated=bool(date_text))
    wall = _parse_wall(f"{_date_words(date_text)} {time_of_day}", base) if time_of_day else None
    if stream_s is None and wall is None:
        return None
    written = f"{date_text} {text}" if date_text else text
    return ClockRef(text=written.strip(), stream_s=stream_s, wall=wall, is_dated=bool(date_text))


def _stream_reading(text: str, parts: re.Match[str], shared_meridiem: str) -> float | None:
    """Seconds from the stream start of an m:ss or h:mm:ss clock; a time with am/pm is not one."""
    if parts.group("minute") is None or parts.group("meridiem") or shared_meridiem:
        return None
    try:
        return parse_stream_time_s(text)
    except ValueError:  # "4:75": not a clock either way
        return None


def _time_of_day(parts: re.Match[str], shared_meridiem: str, *, is_dated: bool) -> str:
    """ "HH:MM:SS" (24 h) for dateparser, or "" when the clock cannot be a time of day."""
    if parts.group("word"):
        return "12:00:00" if parts.group("word").lower() == "noon" else "00:00:00"
    hour, minute = int(parts.group("hour")), int(parts.group("minute") or 0)
    second = int(parts.group("second") or 0)
    meridiem = (parts.group("meridiem") or "").lower() or shared_meridiem[:1]
    is_bare = parts.group("minute") is None and not meridiem and not parts.group("oclock")
    if minute > 59 or second > 59 or (is_bare and not is_dated):
        return ""
    if meridiem:
        if not 1 <= hour <= 12:
            return ""
        hour = hour % 12 + (12 if meridiem == "p" else 0)
    if hour > 23:
        return ""
    return f"{hour:02d}:{minute:02d}:{second:02d}"


def _date_words(date_text: str) -> str:
    """ "On 3 December" -> "3 December": the preposition is the question's, not the date's."""
    return re.sub(r"^on\s+", "", date_text, flags=re.IGNORECASE)


def _parse_wall(text: str, base: datetime) -> datetime | None:
    """dateparser's reading of a date, time or "N units ago" against `base` (naive UTC), in aware UTC;
    undated times fall on the last day they have already happened."""
    settings = {
        "RELATIVE_BASE": base,
        "RETURN_AS_TIMEZONE_AWARE": True,
        "PREFER_DATES_FROM": "past",
        "TIMEZONE": "UTC",
        "TO_TIMEZONE": "UTC",
    }
    parsed = dateparser.parse(text.strip(), languages=["en"], settings=settings)
    return parsed.astimezone(UTC) if parsed else None


def _whole_day(date_text: str, base: datetime) -> TimeConstraint:
    """ "What happened yesterday?": the UTC day from its first to its last millisecond."""
    day = _parse_wall(_date_words(date_text), base)
    if day is None:
        return TimeConstraint()
    midnight = day.replace(hour=0, minute=0, second=0, microsecond=0)
    last_moment = midnight + timedelta(milliseconds=_DAY_MS - 1)
    return TimeConstraint(
        start=ClockRef(text=date_text, stream_s=None, wall=midnight, is_dated=True),
        end=ClockRef(text=date_text, stream_s=None, wall=last_moment, is_dated=True),
    )


def _event_cuts(question: str) -> list[_Cut]:
    """ "after the truck left", "before the alarm rang", "once the board stopped showing X,": clauses
    without a clock, which the reasoner finds in memory itself."""
    cuts: list[_Cut] = []
    once = _ONCE.match(question)
    if once and _is_event(once.group("event")):
        cuts.append(_Cut(once.span(), TimeConstraint(after_event=once.group("event").strip())))
    for match in _EVENT.finditer(question):
        event = match.group("event").strip()
        if not _is_event(event):
            continue
        side = "after_event" if match.group("word").lower() in _AFTER_WORDS else "before_event"
        cuts.append(_Cut(match.span(), TimeConstraint(**{side: event})))
    return cuts


def _is_event(text: str) -> bool:
    """Words with no clock: "after 41" is a value, "after 4:30" a time, "after the truck left" an event."""
    return bool(_HAS_LETTER.search(text)) and not _HAS_CLOCK.search(text)


def _fits(found: TimeConstraint, new: TimeConstraint) -> bool:
    """Whether `new` fills only sides `found` leaves open: the first expression for each side wins."""
    is_taken = (
        (new.start is not None and found.start is not None)
        or (new.end is not None and found.end is not None)
        or (new.last_s and found.last_s)
        or (new.after_event and found.after_event)
        or (new.before_event and found.before_event)
    )
    return not is_taken


def _merge(found: TimeConstraint, new: TimeConstraint) -> TimeConstraint:
    return TimeConstraint(
        start=found.start or new.start,
        end=found.end or new.end,
        last_s=found.last_s or new.last_s,
        after_event=found.after_event or new.after_event,
        before_event=found.before_event or new.before_event,
    )


def _overlaps(span: tuple[int, int], spans: list[tuple[int, int]]) -> bool:
    return any(span[0] < end and start < span[1] for start, end in spans)


def _cut_out(question: str, spans: list[tuple[int, int]]) -> str:
    """The question without the time expressions, tidied: "Between 12:00 and 14:00: what was on the
    board?" -> "What was on the board?"."""
    kept, position = [], 0
    for start, end in sorted(spans):
        kept.append(question[position:start])
        position = end
    kept.append(question[position:])
    text = re.sub(r"\s+", " ", " ".join(kept))
    text = re.sub(r"\s+([,.;:?!])", r"\1", text)
    text = re.sub(r"[,;:]+([?.!])", r"\1", text).strip(" ,;:")
    return text[:1].upper() + text[1:]


def resolve(
    constraint: TimeConstraint,
    *,
    is_live: bool,
    stream_end_s: float,
    stream_end_wall_ms: int = 0,
    stream_start_wall_ms: int = 0,
) -> TimeRange:
    """The constraint as a TimeRange for one stream: for a file (is_live False) clock refs are stream times
    and `last_s` counts back from stream_end_s; for a live stream clock refs are wall-clock times (a bare
    "14:00" is today at 14:00 UTC, or yesterday if that is still in the future relative to
    stream_end_wall_ms), stream-time readings are used only when no wall reading exists, and `last_s`
    counts back from stream_end_wall_ms. Events are not resolved here (the reasoner finds them): they
    leave the range open on that side.

    Raises InvalidArgument for a range that ends before it starts, a time of day asked of a file, and a
    wall-clock range that ends before the stream's first wall-clock time (`stream_start_wall_ms`, 0 = unknown)."""
    refs = [ref for ref in (constraint.start, constraint.end) if ref is not None]
    if is_live and all(ref.wall is not None for ref in refs) and (refs or stream_end_wall_ms):
        found = _wall_range(constraint, stream_end_wall_ms)
        _check_wall_start(constraint, found, stream_start_wall_ms)
        return found
    for ref in refs:
        if ref.stream_s is None:
            raise InvalidArgument(
                f"{ref.text!r} is a wall-clock time, but this stream is a file, which has none; "
                "ask with times from the video's start, like 4:30 or 1:02:03"
            )
    return _stream_range(constraint, stream_end_s)


def _stream_range(constraint: TimeConstraint, stream_end_s: float) -> TimeRange:
    start_s = constraint.start.stream_s if constraint.start else 0.0
    end_s = constraint.end.stream_s if constraint.end else 0.0
    if constraint.is_point:
        start_s, end_s = max(start_s - POINT_HALF_WINDOW_S, 0.0), end_s + POINT_HALF_WINDOW_S
    if constraint.last_s:
        start_s = max(start_s, stream_end_s - constraint.last_s, 0.0)
        end_s = end_s or float(stream_end_s)
    _check_order(constraint, start_s > end_s > 0)
    return TimeRange(start_s=start_s, end_s=end_s)


def _wall_range(constraint: TimeConstraint, stream_end_wall_ms: int) -> TimeRange:
    first = constraint.start or constraint.end
    day = _anchor_day(first, stream_end_wall_ms) if first else None
    start_ms = _wall_ms(constraint.start, day)
    end_ms = _wall_ms(constraint.end, day)
    if constraint.is_point:
        start_ms -= start_ms % _MINUTE_MS
        end_ms = start_ms + _MINUTE_MS - 1
    if constraint.last_s:
        start_ms = max(start_ms, stream_end_wall_ms - round(constraint.last_s * 1000), 0)
        end_ms = end_ms or stream_end_wall_ms
    _check_order(constraint, start_ms > end_ms > 0)
    return TimeRange(start_wall_ms=start_ms, end_wall_ms=end_ms)


def _anchor_day(ref: ClockRef, stream_end_wall_ms: int) -> date | None:
    """The day an undated time of day falls on: the stream's last day, or the day before when that is
    still ahead of the stream's clock. The other side of a range takes the same day, so "between 12:00
    and 14:00" asked at 13:00 is today's, not a range that ends before it starts."""
    if ref.wall is None:
        return None
    if not stream_end_wall_ms:
        return ref.wall.date()
    stream_end = datetime.fromtimestamp(stream_end_wall_ms / 1000, tz=UTC)
    anchored = datetime.combine(stream_end.date(), ref.wall.timetz())
    return (anchored - timedelta(days=1)).date() if anchored > stream_end else anchored.date()


def _wall_ms(ref: ClockRef | None, day: date | None) -> int:
    if ref is None or ref.wall is None:
        return 0
    moment = ref.wall if ref.is_dated or day is None else datetime.combine(day, ref.wall.timetz())
    return round(moment.timestamp() * 1000)


def _check_order(constraint: TimeConstraint, is_reversed: bool) -> None:
    if is_reversed and constraint.start and constraint.end:
        raise InvalidArgument(
            f"the question's time range starts at {constraint.start.text} and ends earlier, at "
            f"{constraint.end.text}; swap them: between {constraint.end.text} and {constraint.start.text}"
        )


def _check_wall_start(constraint: TimeConstraint, found: TimeRange, stream_start_wall_ms: int) -> None:
    if stream_start_wall_ms and 0 < found.end_wall_ms < stream_start_wall_ms:
        first = datetime.fromtimestamp(stream_start_wall_ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        asked = constraint.end.text if constraint.end else "that time"
        raise InvalidArgument(f"this stream's recording starts at {first}, after {asked}; ask about a later time")
