"""One definition of what every service, the SDK and the CLI accept (longwatch.validation)."""

from __future__ import annotations

import math

import pytest

from longwatch.errors import InvalidArgument
from longwatch.validation import (
    MAX_LEVEL,
    MAX_NODE_ID_CHARS,
    MAX_VECTOR_DIMS,
    MAX_WALL_MS,
    MIN_WALL_MS,
    normalise_source,
    quote_prefix,
    validate_count,
    validate_level,
    validate_node_id,
    validate_question,
    validate_sample_fps,
    validate_stream_id,
    validate_stream_ids,
    validate_stream_range_s,
    validate_stream_time_s,
    validate_vector,
    validate_wall_ms,
    validate_wall_range_ms,
)

MIB = 1 << 20


@pytest.mark.parametrize("name", ["gate", "cam-01", "Dock_2.north", "a" * 64, "0", "v1.2"])
def test_valid_stream_ids(name):
    assert validate_stream_id(name) == name


@pytest.mark.parametrize(
    "name",
    [
        "a" * 65,
        "front door",
        "cam/1",
        "gate:1",
        "caméra",
        "x\n",
        "NUL\x00",
        "bell\x07",
        "\u202egate",
        "../../../etc/passwd",
        "..",
        ".",
    ],
)
def test_invalid_stream_ids_say_what_is_allowed(name):
    with pytest.raises(InvalidArgument, match="letters, digits, '.', '_' or '-'"):
        validate_stream_id(name)


def test_an_empty_stream_id_is_called_empty():
    with pytest.raises(InvalidArgument, match="stream_id is empty"):
        validate_stream_id("")


def test_a_1_mb_stream_id_is_quoted_short():
    with pytest.raises(InvalidArgument) as caught:
        validate_stream_id("a" * MIB)
    assert len(str(caught.value)) < 300
    assert f"({MIB} characters)" in str(caught.value)


def test_stream_id_lists_drop_duplicates_and_refuse_any_bad_one():
    assert validate_stream_ids(["b", "a", "b"]) == ("b", "a")
    with pytest.raises(InvalidArgument, match="stream_ids entry"):
        validate_stream_ids(["gate", "cam/1"])


@pytest.mark.parametrize(
    ("source", "opened"),
    [
        ("/videos/gate.mp4", "/videos/gate.mp4"),
        ("RTSP://cam.local/live", "rtsp://cam.local/live"),
        ("Https://cdn.example/Live.m3u8", "https://cdn.example/Live.m3u8"),
        ("rtsp://u:p@cam.local/Path", "rtsp://u:p@cam.local/Path"),
        ("relative/path.mp4", "relative/path.mp4"),  # perception says why a relative path is refused
    ],
)
def test_sources_are_opened_with_a_lower_case_scheme(source, opened):
    assert normalise_source(source) == opened


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("rtsp://127.0.0.1:1/" + "a" * MIB, "characters long"),
        ("/videos/\x00gate.mp4", "control characters"),
        ("rtsp://cam.local/\u202elive", "control characters"),
    ],
)
def test_bad_sources_are_refused_with_a_reason(source, reason):
    with pytest.raises(InvalidArgument, match=reason) as caught:
        normalise_source(source)
    assert len(str(caught.value)) < 300


@pytest.mark.parametrize("value", [0.0, 4.5, 1e10])
def test_valid_stream_times(value):
    assert validate_stream_time_s(value, "start_s") == value


@pytest.mark.parametrize("value", [-1.0, 1e10 + 1, math.inf, -math.inf, math.nan, 1.7976931348623157e308])
def test_invalid_stream_times_name_the_field_and_range(value):
    with pytest.raises(InvalidArgument, match=r"start_s must be a number of seconds in \[0, 1e\+10\]"):
        validate_stream_time_s(value, "start_s")


@pytest.mark.parametrize("value", [0, MIN_WALL_MS, 1_764_633_600_000, MAX_WALL_MS])
def test_valid_wall_times(value):
    assert validate_wall_ms(value, "start_wall_ms") == value


@pytest.mark.parametrize("value", [-1, 1, 1000, MIN_WALL_MS - 1, MAX_WALL_MS + 1, 2**63 - 1, -(2**63)])
def test_implausible_wall_times_are_refused(value):
    with pytest.raises(InvalidArgument, match="start_wall_ms must be 0"):
        validate_wall_ms(value, "start_wall_ms")


@pytest.mark.parametrize(("value", "used"), [(0.0, 2.0), (0.001, 0.001), (1.0, 1.0), (30.0, 30.0)])
def test_sample_rates(value, used):
    assert validate_sample_fps(value, default=2.0, maximum=30.0) == used


@pytest.mark.parametrize("value", [5e-324, 1e-6, -1.0, 30.5, math.inf, math.nan])
def test_sample_rates_out_of_range_say_the_range(value):
    with pytest.raises(InvalidArgument, match=r"pass 0 for the default \(2.0\) or a value in \[0.001, 30.0\]"):
        validate_sample_fps(value, default=2.0, maximum=30.0)


@pytest.mark.parametrize(
    ("question", "asked"),
    [
        ("What was the plate?", "What was the plate?"),
        ("  padded \n", "padded"),
        ("two\nlines", "two lines"),
        ("bell\x07 rang?", "bell rang?"),
        ("مرحبا؟", "مرحبا؟"),
    ],
)
def test_questions_are_cleaned(question, asked):
    assert validate_question(question) == asked


@pytest.mark.parametrize("question", ["", "   ", "\x00", "\x00\x07\x1b", "\u200b\ufeff"])
def test_questions_with_nothing_to_ask_are_refused(question):
    with pytest.raises(InvalidArgument, match="question is empty"):
        validate_question(question)


def test_a_long_question_says_the_limit():
    with pytest.raises(InvalidArgument, match="shorten it to at most 2000"):
        validate_question("a" * MIB)


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("gate", "'gate'"),
        ("a" * 80, repr("a" * 80)),
        ("a" * 81, repr("a" * 80) + "… (81 characters)"),
        ("x\x00y", "'x\\x00y'"),
        (12, "'12'"),
    ],
)
def test_quote_prefix(value, shown):
    assert quote_prefix(value) == shown


def test_quote_prefix_of_1_mb_is_short():
    assert len(quote_prefix("a" * MIB)) < 120
    assert len(quote_prefix("a" * MIB, limit=10)) < 40


def test_ranges_are_refused_backwards_but_an_open_end_is_fine():
    validate_stream_range_s(30.0, 0.0)  # end 0: no upper bound
    validate_wall_range_ms(MIN_WALL_MS + 5, 0)
    with pytest.raises(InvalidArgument, match=r"start_s \(30.0\) is after end_s \(10.0\); swap them"):
        validate_stream_range_s(30.0, 10.0)
    with pytest.raises(InvalidArgument, match="start_wall_ms .* is after end_wall_ms"):
        validate_wall_range_ms(MIN_WALL_MS + 5, MIN_WALL_MS)


@pytest.mark.parametrize("level", [-1, MAX_LEVEL + 1, 2**31])
def test_levels_outside_the_hierarchy_are_refused(level):
    with pytest.raises(InvalidArgument, match=f"level must be 0 .clips.*up to {MAX_LEVEL}; got {level}"):
        validate_level(level)


@pytest.mark.parametrize(("value", "is_valid"), [(0, True), (1, True), (100, True), (101, False), (-1, False)])
def test_counts_are_0_for_the_default_or_1_to_the_maximum(value, is_valid):
    if is_valid:
        assert validate_count(value, "k", 100) == value
    else:
        with pytest.raises(InvalidArgument, match=f"k must be 1 to 100, or 0 for the default; got {value}"):
            validate_count(value, "k", 100)


@pytest.mark.parametrize(
    ("vector", "reason"),
    [([0.0] * (MAX_VECTOR_DIMS + 1), "values; pass at most"), ([0.5, math.nan], "NaN"), ([math.inf], "infinite")],
)
def test_bad_vectors_are_refused(vector, reason):
    assert validate_vector([0.5, -0.5]) == (0.5, -0.5)
    with pytest.raises(InvalidArgument, match=reason):
        validate_vector(vector)


@pytest.mark.parametrize("node_id", ["", "gate#1 #0", "gate\x00", "\u202egate", "a" * (MAX_NODE_ID_CHARS + 1)])
def test_bad_node_ids_are_refused_and_quoted_short(node_id):
    assert validate_node_id("gate@w1700000021000#1#3") == "gate@w1700000021000#1#3"
    with pytest.raises(InvalidArgument, match="node_id") as caught:
        validate_node_id(node_id)
    assert len(str(caught.value)) < 300
