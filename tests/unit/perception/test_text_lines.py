"""OCR lines are tidied and kept once per clip, however OCR spaced them."""

from __future__ import annotations

from perception.core.text_lines import distinct_lines


def test_lines_are_deduplicated_across_frames_first_spelling_wins():
    lines = ["GATE B CLOSED", " gate b  closed ", "GATEBCLOSED", "EXIT 42", "", "..", "EXIT  42"]
    assert distinct_lines(lines) == ("GATE B CLOSED", "EXIT 42")
