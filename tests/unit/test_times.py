"""Stream and wall-clock times read the same in answers, evidence lists and the CLI, and parse back."""

import pytest

from longwatch.times import (
    format_range_s,
    format_span,
    format_time_s,
    format_wall_ms,
    format_wall_range_ms,
    parse_stream_time_s,
    parse_utc_ms,
)

NOON_04 = 1_796_299_204_000  # 2026-12-03T12:00:04Z


@pytest.mark.parametrize(
    ("seconds", "expected"), [(0, "0:00"), (5.9, "0:05"), (65, "1:05"), (600, "10:00"), (3725, "1:02:05")]
)
def test_format_time(seconds, expected):
    assert format_time_s(seconds) == expected


def test_range_covers_the_clip():
    assert format_range_s(40.4, 44.2) == "0:40-0:45"
    assert format_range_s(10, 5) == "0:10-0:10"


def test_wall_clock_is_iso_utc_to_the_second_and_a_range_covers_the_span():
    assert format_wall_ms(NOON_04 + 999) == "2026-12-03T12:00:04Z"
    assert format_wall_range_ms(NOON_04, NOON_04 + 4_200) == "2026-12-03T12:00:04Z/12:00:09Z"
    assert format_wall_range_ms(NOON_04, NOON_04 + 86_400_000) == "2026-12-03T12:00:04Z/2026-12-04T12:00:04Z"
    assert format_wall_range_ms(0, 0) == ""  # a file has no wall clock
    assert format_wall_ms(10**18) == "1000000000000000000 ms"  # beyond datetime: shown, not a crash


def test_a_span_shows_the_wall_clock_beside_stream_time_when_there_is_one():
    assert format_span(21.0, 24.5) == "0:21-0:25"
    assert format_span(21.0, 24.5, NOON_04, NOON_04 + 3_500) == "0:21-0:25 (2026-12-03T12:00:04Z/12:00:08Z)"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-03T12:00:04Z", NOON_04),
        ("2026-12-03T13:00:04+01:00", NOON_04),
        ("2026-12-03T12:00:04.250Z", NOON_04 + 250),
        ("2026-12-03", NOON_04 - 12 * 3600_000 - 4_000),
    ],
)
def test_utc_times_parse_to_epoch_ms(text, expected):
    assert parse_utc_ms(text) == expected


@pytest.mark.parametrize("text", ["2026-12-03T12:00:04", "yesterday", "2026-13-03T00:00:00Z", ""])
def test_a_time_without_a_zone_or_not_a_time_is_refused(text):
    with pytest.raises(ValueError):
        parse_utc_ms(text)


@pytest.mark.parametrize(
    ("text", "expected"), [("90", 90.0), ("90.5", 90.5), ("1:30", 90.0), ("90:00", 5400.0), ("1:02:03.5", 3723.5)]
)
def test_stream_times_parse_as_seconds_or_as_printed(text, expected):
    assert parse_stream_time_s(text) == expected


@pytest.mark.parametrize("text", ["1:75:00", "0:61", "1:-5", "a:10", "1::2", "1:2:3:4", "soon"])
def test_a_stream_time_that_is_not_one_is_refused(text):
    with pytest.raises(ValueError):
        parse_stream_time_s(text)
