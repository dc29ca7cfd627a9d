"""Reading on-screen lines as records: the named thing with OCR forgiven and its number exact, the value
beside what is asked, and pointers to other things."""

from __future__ import annotations

import pytest

from reasoner.core.question import Entity
from reasoner.core.records import Line, entities_in, find_entity, holds_text, lines_of, read_line, same_word
from tests.unit.reasoner.fakes import hit

LOCKER_42 = Entity("LOCKER", "42")


def line(text):
    return lines_of(hit(f"a dock. text on screen: {text}"))[0]


@pytest.mark.parametrize(
    ("token", "word", "same"),
    [
        ("C0DE", "code", True),  # O read as 0
        ("DEST", "destination", True),  # an abbreviation of three letters or more
        ("WEIGNT", "weight", True),  # one misread letter in six
        ("KG", "kilogram", False),  # too short to be sure
        ("CODE", "coat", False),
        ("EX1T", "exit", True),
    ],
)
def test_same_word_forgives_ocr(token, word, same):
    assert same_word(token, word) is same


@pytest.mark.parametrize(
    "text", ["LOCKER 42 CODE 5531", "L0CKER 42 CODE 5531", "LOCKER42 CODE 5531", "L0CKER42 C0DE 5531"]
)
def test_the_named_thing_is_found_however_ocr_wrote_it(text):
    assert find_entity(LOCKER_42, line(text).tokens) == 0


@pytest.mark.parametrize(
    "text", ["LOCKER 41 CODE 5531", "LOCKER 420 CODE 1", "GATE 42 CODE 9999", "LOCKER 24 CODE 2424"]
)
def test_its_number_must_be_exact(text):
    assert find_entity(LOCKER_42, line(text).tokens) is None


def test_codes_are_not_split_like_words_run_into_numbers():
    assert line("OFFER X8Z3").tokens == ("OFFER", "X8Z3")


def test_the_value_is_what_follows_the_asked_word():
    reading = read_line(line("LOCKER 42 CODE 5531"), LOCKER_42, {"code"}, set())
    assert (reading.value, reading.asked_matched, reading.pointers) == ("5531", 1, ())


def test_a_line_not_naming_the_thing_is_no_reading():
    assert read_line(line("LOCKER 41 CODE 5531"), LOCKER_42, {"code"}, set()) is None


def test_a_thing_the_question_talks_about_is_a_pointer():
    reading = read_line(line("PARCEL 51 GOES TO BAY 17"), Entity("PARCEL", "51"), {"code"}, {"bay", "goes"})
    assert reading.pointers == (Entity("BAY", "17"),) and reading.asked_matched == 0


def test_entities_in_a_line():
    assert [entity for _, entity in entities_in(line("PARCEL 51 GOES TO BAY 17").tokens)] == [
        Entity("PARCEL", "51"),
        Entity("BAY", "17"),
    ]


def test_holds_text_forgives_confusions_and_spacing():
    clip = hit("a gate. text on screen: GATECL0SED | EXIT 4")
    assert holds_text(clip, "GATE CLOSED") and not holds_text(clip, "GATE OPEN")


def test_lines_keep_their_clip():
    clip = hit("text on screen: A 1 | B 2")
    assert [(item.text, item.hit) for item in lines_of(clip)] == [("A 1", clip), ("B 2", clip)]
    assert isinstance(lines_of(clip)[0], Line)


def test_with_the_number_exact_a_longer_label_may_have_one_letter_misread():
    assert find_entity(Entity("ITEM", "39"), line("ITEH 39 FLAVOUR LYCHEE").tokens) == 0
    assert find_entity(Entity("BAY", "39"), line("BOY 39 FLAVOUR LYCHEE").tokens) is None  # three letters: no
