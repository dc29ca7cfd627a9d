"""Time expressions in questions: what parse_time finds, and the TimeRange resolve makes of it for a file
and for a live stream."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from longwatch.errors import InvalidArgument
from longwatch.types import TimeRange
from reasoner.core.time_expr import ClockRef, TimeConstraint, parse_time, resolve

# The question is asked on 2026-12-05 at 13:00 UTC; the live stream's last frame is from then too.
NOW = datetime(2026, 12, 5, 13, 0, tzinfo=UTC)
NOW_MS = round(NOW.timestamp() * 1000)
FILE_END_S = 3600.0


def wall_ms(day: int, hour: int, minute: int = 0, second: int = 0) -> int:
    return round(datetime(2026, 12, day, hour, minute, second, tzinfo=UTC).timestamp() * 1000)


def in_file(question: str) -> TimeRange:
    return resolve(parse_time(question, NOW), is_live=False, stream_end_s=FILE_END_S)


def in_live(question: str, stream_end_wall_ms: int = NOW_MS) -> TimeRange:
    return resolve(
        parse_time(question, NOW), is_live=True, stream_end_s=FILE_END_S, stream_end_wall_ms=stream_end_wall_ms
    )


@pytest.mark.parametrize(
    ("question", "start_s", "end_s"),
    [
        ("What was on the board between 4:30 and 5:00?", 270.0, 300.0),
        ("from 0:20 to 0:30, what did the sign say?", 20.0, 30.0),
        ("Between 12:00 and 14:00: what was on the board?", 720.0, 840.0),
        ("What appeared after 3:10?", 190.0, 0.0),
        ("What was shown before 1:02:03?", 0.0, 3723.0),
        ("Who came in since 10:15?", 615.0, 0.0),
        ("What did the board say at 14:05?", 815.0, 875.0),
        ("What did the board say at 0:10?", 0.0, 40.0),
        ("What was there between 75:00 and 80:30?", 4500.0, 4830.0),
    ],
)
def test_clock_times_in_a_file_are_stream_seconds(question: str, start_s: float, end_s: float) -> None:
    assert in_file(question) == TimeRange(start_s=start_s, end_s=end_s)


@pytest.mark.parametrize(
    ("question", "last_s"),
    [
        ("What happened in the last ten minutes?", 600.0),
        ("Any trucks in the past 2 hours?", 7200.0),
        ("What did the sign say during the last 45 seconds?", 45.0),
        ("What was on the board over the past hour?", 3600.0),
        ("What showed the last 30 seconds?", 30.0),
        ("What happened within the last twenty-five minutes?", 1500.0),
        ("What happened in the last sixty seconds?", 60.0),
    ],
)
def test_the_last_span_in_words_or_digits(question: str, last_s: float) -> None:
    assert parse_time(question, NOW).last_s == last_s


def test_the_last_minutes_count_back_from_the_end_of_a_file() -> None:
    assert in_file("What happened in the last ten minutes?") == TimeRange(start_s=3000.0, end_s=3600.0)
    assert in_file("What happened in the past 2 hours?") == TimeRange(start_s=0.0, end_s=3600.0)


def test_the_last_minutes_count_back_from_the_live_streams_clock() -> None:
    assert in_live("What happened in the last ten minutes?") == TimeRange(
        start_wall_ms=wall_ms(5, 12, 50), end_wall_ms=NOW_MS
    )


def test_a_live_stream_reads_clocks_as_times_of_day() -> None:
    assert in_live("What was on the board between 4:30 and 5:00?") == TimeRange(
        start_wall_ms=wall_ms(5, 4, 30), end_wall_ms=wall_ms(5, 5, 0)
    )


def test_a_range_that_reaches_past_now_is_todays() -> None:
    """12:00 has passed at 13:00 but 14:00 has not: the range is today's, not one that runs backwards."""
    assert in_live("Between 12:00 and 14:00: what was on the board?") == TimeRange(
        start_wall_ms=wall_ms(5, 12), end_wall_ms=wall_ms(5, 14)
    )


def test_a_time_still_ahead_of_the_streams_clock_is_yesterdays() -> None:
    assert in_live("What was on the board until 2 pm?") == TimeRange(end_wall_ms=wall_ms(4, 14))
    assert in_live("What was on the board until 2 pm?", stream_end_wall_ms=wall_ms(5, 15)) == TimeRange(
        end_wall_ms=wall_ms(5, 14)
    )


def test_the_day_follows_the_streams_clock_not_the_question_time() -> None:
    """A stream whose last frame is from 3 December: "after 10:15" is 3 December's, whatever `now` says."""
    assert in_live("Who came in since 10:15?", stream_end_wall_ms=wall_ms(3, 18)) == TimeRange(
        start_wall_ms=wall_ms(3, 10, 15)
    )


def test_a_point_is_its_minute_in_wall_time() -> None:
    assert in_live("What did the board say at 12:05?") == TimeRange(
        start_wall_ms=wall_ms(5, 12, 5), end_wall_ms=wall_ms(5, 12, 5, 59) + 999
    )


def test_yesterday_between_bare_hours_shares_the_am() -> None:
    constraint = parse_time("What was on the board yesterday between 9 and 10 am?", NOW)
    assert constraint.start is not None and constraint.end is not None
    assert constraint.start.wall == datetime(2026, 12, 4, 9, tzinfo=UTC)
    assert constraint.end.wall == datetime(2026, 12, 4, 10, tzinfo=UTC)
    assert constraint.start.stream_s is None and constraint.start.is_dated
    assert constraint.remainder == "What was on the board?"
    assert in_live("What was on the board yesterday between 9 and 10 am?", wall_ms(5, 20)) == TimeRange(
        start_wall_ms=wall_ms(4, 9), end_wall_ms=wall_ms(4, 10)
    )


def test_a_named_date_and_time() -> None:
    constraint = parse_time("What did the board show on 3 December at 14:00?", NOW)
    assert constraint.start == constraint.end
    assert constraint.start is not None and constraint.start.wall == datetime(2026, 12, 3, 14, tzinfo=UTC)
    assert constraint.start.stream_s is None  # a named day makes it a wall-clock time, never 14 minutes in
    assert constraint.remainder == "What did the board show?"
    assert in_live("What did the board show on 3 December at 14:00?") == TimeRange(
        start_wall_ms=wall_ms(3, 14), end_wall_ms=wall_ms(3, 14, 0, 59) + 999
    )


def test_a_date_alone_is_the_whole_day() -> None:
    assert in_live("What happened yesterday?") == TimeRange(start_wall_ms=wall_ms(4, 0), end_wall_ms=wall_ms(5, 0) - 1)


def test_both_readings_are_kept_until_the_stream_is_known() -> None:
    constraint = parse_time("What was shown before 1:02:03?", NOW)
    assert constraint.end == ClockRef(
        text="1:02:03", stream_s=3723.0, wall=datetime(2026, 12, 5, 1, 2, 3, tzinfo=UTC), is_dated=False
    )


@pytest.mark.parametrize(
    ("question", "after_event", "before_event", "remainder"),
    [
        ("What was on the board after the truck left?", "the truck left", "", "What was on the board?"),
        (
            "What did it show right after the pallet code for bay 10?",
            "the pallet code for bay 10",
            "",
            "What did it show?",
        ),
        ("What was shown before the alarm rang?", "", "the alarm rang", "What was shown?"),
        (
            "Once the board stopped showing X, what did it show next?",
            "the board stopped showing X",
            "",
            "What did it show next?",
        ),
        ("After the truck left, what was on the board?", "the truck left", "", "What was on the board?"),
        ("Until the gate opened what did the sign say?", "", "the gate opened", "What did the sign say?"),
    ],
)
def test_events_are_kept_as_words(question: str, after_event: str, before_event: str, remainder: str) -> None:
    constraint = parse_time(question, NOW)
    assert (constraint.after_event, constraint.before_event, constraint.remainder) == (
        after_event,
        before_event,
        remainder,
    )
    assert in_file(question).is_open  # the reasoner finds the event itself


def test_a_clock_ends_an_events_clause() -> None:
    constraint = parse_time("What was on the board after the truck left at 4:30?", NOW)
    assert constraint.after_event == "the truck left"
    assert in_file("What was on the board after the truck left at 4:30?") == TimeRange(start_s=240.0, end_s=300.0)


@pytest.mark.parametrize(
    "question",
    [
        "What was the alarm code?",
        'How many times did "EXIT 7" appear?',
        "Which exit number after 41?",  # a value in a sequence: no clock, and no words to find as an event
        "What time did the clock show?",  # asks for a reading, not about a span
        "What is in locker 42?",
        "Did the price show 12.49 at the till?",
        "What was at bay 10:30?",  # a label: no time word ("at") before the clock itself
        "What happened at 9?",  # a bare hour needs a date or am/pm
        "Were there between 10 and 20 people?",
        "What was the last code shown?",
        "Have you seen it before?",
        "What happened at once?",
    ],
)
def test_questions_without_a_time_give_no_constraint(question: str) -> None:
    assert parse_time(question, NOW) == TimeConstraint(remainder=question)


def test_a_range_that_ends_before_it_starts_says_to_swap_them() -> None:
    constraint = parse_time("What happened between 5:00 and 4:30?", NOW)
    for is_live in (False, True):
        with pytest.raises(InvalidArgument, match="swap them: between 4:30 and 5:00"):
            resolve(constraint, is_live=is_live, stream_end_s=FILE_END_S, stream_end_wall_ms=NOW_MS)


def test_a_time_of_day_asked_of_a_file_says_to_use_stream_times() -> None:
    with pytest.raises(InvalidArgument, match="like 4:30"):
        in_file("What was on the board until 2 pm?")


def test_a_live_stream_uses_stream_time_when_a_clock_is_no_time_of_day() -> None:
    assert in_live("What was there after 75:30?") == TimeRange(start_s=4530.0)


def test_a_wall_range_before_the_recording_began_says_so() -> None:
    constraint = parse_time("What happened yesterday between 9 and 10 am?", NOW)
    with pytest.raises(InvalidArgument, match="recording starts at 2026-12-05T08:00:00Z"):
        resolve(
            constraint,
            is_live=True,
            stream_end_s=FILE_END_S,
            stream_end_wall_ms=NOW_MS,
            stream_start_wall_ms=wall_ms(5, 8),
        )


def test_now_must_say_its_zone() -> None:
    with pytest.raises(InvalidArgument, match="timezone-aware"):
        parse_time("What happened after 3:10?", datetime(2026, 12, 5, 13))


@pytest.mark.parametrize(
    "question",
    [
        "Item 98 was paid at a till. What flavour did that till have on screen?",
        "What offer code did till 68 show?",
        "Which price did the till show?",
    ],
)
def test_a_shops_till_is_not_a_time_word(question):
    found = parse_time(question, NOW)
    assert (found.before_event, found.after_event) == ("", "")
