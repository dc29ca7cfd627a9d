"""Stream times read the same in answers, evidence lists and the CLI."""

import pytest

from longwatch.times import format_range_s, format_time_s


@pytest.mark.parametrize(
    ("seconds", "expected"), [(0, "0:00"), (5.9, "0:05"), (65, "1:05"), (600, "10:00"), (3725, "1:02:05")]
)
def test_format_time(seconds, expected):
    assert format_time_s(seconds) == expected


def test_range_covers_the_clip():
    assert format_range_s(40.4, 44.2) == "0:40-0:45"
    assert format_range_s(10, 5) == "0:10-0:10"
