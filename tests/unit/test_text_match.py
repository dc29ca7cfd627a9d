"""OCR-tolerant term matching: look-alike characters, lost and extra spaces and small edits are
tolerated; a question's numbers are not bent (42 is neither 41, 421 nor 4)."""

from __future__ import annotations

import random
import string

import pytest
from rapidfuzz.distance import Levenshtein

from longwatch.errors import InvalidArgument
from longwatch.text_match import TermMatch, compact, contains_term, find_all, find_term, fold


def matched_text(term: str, text: str, max_edits: int | None = None) -> str | None:
    match = find_term(term, text, max_edits)
    return None if match is None else text[match.start : match.end]


@pytest.mark.parametrize(
    ("term", "text", "expected"),
    [
        # OCR's look-alikes: O/0, I/1/l, S/5, B/8, Z/2
        ("EXIT", "EX1T", "EX1T"),
        ("locker", "L0CKER", "L0CKER"),
        ("hall", "HA11 B", "HA11"),
        ("box 5", "a 8OX S here", "8OX S"),
        ("SIZE", "S1ZE", "S1ZE"),
        # run-together and split words
        ("locker 42", "LOCKER42CODE5531", "LOCKER42"),
        ("code 5531", "LOCKER42CODE5531", "CODE5531"),
        ("locker 42", "L0CKER 42", "L0CKER 42"),
        ("palletcode", "PALLET CODE 8ZWR", "PALLET CODE"),
        ("exit", "E X I T", "E X I T"),
        ("locker 42", "LOCKER 4 2", "LOCKER 4 2"),
        # a dropped, doubled or substituted letter in a long word; two in a longer one
        ("warehouse", "the WAREHOSE door", "WAREHOSE"),
        ("warehouse", "the WAREHOUSSE door", "WAREHOUSSE"),
        ("warehouse", "the WAREHOXSE door", "WAREHOXSE"),
        ("palletcode", "PALETCOD", "PALETCOD"),
        ("warehouse", "WRHOSE", None),  # three edits: too many for nine letters
        ("EXT", "EXIT", None),  # under four characters: exact only
        ("B2", "B3", None),
        # numbers: exactly, and not part of a longer one
        ("locker 42", "LOCKER 41", None),
        ("locker 42", "LOCKER 421", None),
        ("locker 42", "LOCKER 4", None),
        ("locker 42", "LOCKER 4 42", None),  # a digit slipped in beside the number is another number
        ("locker 42", "LOCKER 42 1", "LOCKER 42"),  # "1" is a number of its own
        ("42", "1042", None),
        ("42", "EXIT 42", "42"),
        ("42", "B42", "42"),
        ("14:05", "at 1405 hours", "1405"),
        ("code 5531", "CODE 55310", None),
        ("KX-4721", "KX 4712", None),
        ("B42", "842", "842"),  # the term's own letter read as its digit, not a longer number
        # codes
        ("8ZWR", "PALLETCODE BZWR", "BZWR"),
        ("8ZWR", "PALLETCODE 9ZWR", None),
        ("KX-4721", "plate kx4721.", "kx4721"),
        # case and punctuation
        ("LOCKER", "locker", "locker"),
        ("Locker", "LoCkEr", "LoCkEr"),
        ("kx 4721", "Plate: KX-4721!", "KX-4721"),
        ("exit!", "(EXIT)", "EXIT"),
        # empty inputs and terms of no letters or digits
        ("", "EXIT", None),
        ("EXIT", "", None),
        ("!!!", "EXIT!!!", None),
        ("exit", "   ", None),
    ],
)
def test_terms_are_found_as_ocr_reads_them(term, text, expected):
    assert matched_text(term, text) == expected
    assert contains_term(term, text) is (expected is not None)


def test_fold_maps_each_look_alike_class_to_its_digit_whatever_the_case():
    assert fold("Locker B2 is OK, size 5") == "10CKER 82 15 0K, 512E 5"
    assert fold("oilsbz") == fold("OILSBZ") == "011582"


def test_compact_keeps_letters_and_digits_only():
    assert compact("L0CKER 42!") == compact("locker42") == "10CKER42"
    assert compact(" -- ") == ""


def test_an_exact_match_scores_one_and_an_edit_less():
    exact = find_term("warehouse", "WAREH0USE")
    dropped = find_term("warehouse", "WAREHOSE")
    assert exact == TermMatch(start=0, end=9, score=1.0, edits=0)
    assert dropped is not None and dropped.edits == 1
    assert 0.0 < dropped.score < 1.0


def test_the_best_occurrence_wins_over_an_earlier_worse_one():
    text = "WAREHOSE first, then WAREHOUSE"
    match = find_term("warehouse", text)
    assert match is not None and text[match.start : match.end] == "WAREHOUSE"


def test_max_edits_overrides_the_default():
    assert find_term("warehouse", "WAREHOSE", max_edits=0) is None
    assert matched_text("EXT", "EXIT", max_edits=1) == "EXIT"
    assert matched_text("warehouse", "WRHOSE", max_edits=3) == "WRHOSE"


def test_max_edits_cannot_swallow_the_whole_term():
    assert find_term("AB", "XY", max_edits=5) is None


def test_negative_max_edits_is_an_invalid_argument():
    with pytest.raises(InvalidArgument, match="max_edits"):
        find_term("exit", "EXIT", max_edits=-1)


def test_find_all_returns_non_overlapping_matches_left_to_right():
    text = "LOCKER 42, L0CKER42 and LOCKER 421 then locker 42"
    spans = [text[match.start : match.end] for match in find_all("locker 42", text)]
    assert spans == ["LOCKER 42", "L0CKER42", "locker 42"]
    starts = [match.start for match in find_all("exit", "EXITEXIT EX1T")]
    assert starts == [0, 4, 9]


def test_find_all_keeps_the_better_of_overlapping_candidates():
    matches = find_all("warehouse", "WAREHOUSSE")
    assert [(match.start, match.end, match.edits) for match in matches] == [(0, 10, 1)]


def test_find_all_of_nothing_is_empty():
    assert find_all("locker 42", "a quiet corridor") == []
    assert find_all("", "a quiet corridor") == []


def test_a_term_in_a_long_text_is_found_where_it_is():
    rng = random.Random(7)
    words = ["person", "walks", "past", "the", "red", "car", "gate", "code", "LOCKER", "41", "421", "door"]
    before = " ".join(rng.choice(words) for _ in range(4000))
    after = " ".join(rng.choice(words) for _ in range(4000))
    text = f"{before} L0CKER42 {after}"
    match = find_term("locker 42", text)
    assert match is not None and (match.start, match.end) == (len(before) + 1, len(before) + 9)
    assert [text[found.start : found.end] for found in find_all("locker 42", text)] == ["L0CKER42"]


def test_letters_beyond_upper_casing_keep_their_offsets():
    text = "STRAßE 5 then strasse 5"
    assert [text[match.start : match.end] for match in find_all("strasse 5", text)] == ["STRAßE 5", "strasse 5"]


_ALPHABET = string.ascii_letters + string.digits + "  .-:|"
_LOOK_ALIKES = {"O": "0", "0": "O", "I": "1", "1": "l", "S": "5", "5": "S", "B": "8", "8": "B", "Z": "2", "2": "Z"}


def _random_text(rng: random.Random, length: int) -> str:
    return "".join(rng.choice(_ALPHABET) for _ in range(length))


def _as_ocr_reads(rng: random.Random, term: str) -> str:
    """`term` with some look-alikes swapped, case changed and spaces put in: zero edits once folded."""
    chars = []
    for char in term:
        char = _LOOK_ALIKES.get(char, char) if rng.random() < 0.3 else char
        chars.append((char.lower() if rng.random() < 0.5 else char) + (" " if rng.random() < 0.2 else ""))
    return "".join(chars).strip()


def test_offsets_always_point_at_a_span_within_the_edits_reported():
    rng = random.Random(20240611)
    for _ in range(400):
        text = _random_text(rng, rng.randrange(0, 80))
        term = _random_text(rng, rng.randrange(1, 10))
        for match in find_all(term, text):
            assert 0 <= match.start < match.end <= len(text)
            assert text[match.start].isalnum() and text[match.end - 1].isalnum()
            assert Levenshtein.distance(compact(term), compact(text[match.start : match.end])) == match.edits
        assert compact(text) == "".join(compact(char) for char in text)


def test_a_term_as_ocr_reads_it_is_always_found_exactly():
    rng = random.Random(99)
    for _ in range(300):
        term = "".join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(rng.randrange(2, 12)))
        read = _as_ocr_reads(rng, term)
        before, after = _random_text(rng, rng.randrange(0, 40)), _random_text(rng, rng.randrange(0, 40))
        text = f"{before} {read} {after}"
        match = find_term(term, text)
        assert match is not None, (term, text)
        assert match.edits == 0 and match.score == 1.0
        assert compact(text[match.start : match.end]) == compact(term)


def test_a_found_number_never_runs_on_into_a_digit():
    rng = random.Random(5)
    for _ in range(400):
        text = "".join(rng.choice("0123456789 LOCKER") for _ in range(rng.randrange(0, 40)))
        for match in find_all("locker 42", text):
            assert text[match.end : match.end + 1] not in set(string.digits)
        for match in find_all("42", text):
            assert text[match.start - 1 : match.start] not in set(string.digits)
            assert text[match.end : match.end + 1] not in set(string.digits)
