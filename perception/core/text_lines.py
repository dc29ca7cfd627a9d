"""On-screen text lines: tidied, and de-duplicated across the frames of a clip."""

from __future__ import annotations

from collections.abc import Iterable


def tidy_line(text: str) -> str:
    """One line with runs of whitespace collapsed; empty when it holds no letter or digit (OCR specks)."""
    line = " ".join(text.split())
    return line if any(character.isalnum() for character in line) else ""


def _line_key(line: str) -> str:
    # OCR reads the same sign as "GATE B CLOSED" in one frame and "GATEB CLOSED" in the next:
    # spacing and case do not make a line distinct.
    return "".join(line.split()).casefold()


def distinct_lines(lines: Iterable[str]) -> tuple[str, ...]:
    """The tidy lines in first-seen order, each once (the first spelling wins)."""
    kept: dict[str, str] = {}
    for text in lines:
        line = tidy_line(text)
        if line:
            kept.setdefault(_line_key(line), line)
    return tuple(kept.values())
