"""OCR-tolerant matching of names, numbers and codes in text read off the screen.

OCR misreads characters of one shape (O/0, I/1/l, S/5, B/8, Z/2), loses or adds spaces
("LOCKER42CODE5531", "L0CKER 42", "PALLETCODE 8ZWR") and drops, doubles or swaps a character now and
then. A term is therefore compared with text in *compact folded* form (upper case, each confusion class
as its digit, letters and digits only), where it may be a few edits off (Levenshtein distance, by
rapidfuzz). Its numbers may not: the digits a question writes must be read exactly, and not as part of a
longer number ("locker 42" is neither "LOCKER 421" nor "LOCKER 4"), because a number one digit off is
another locker, another plate, a wrong answer however close it looks.

Pure functions, no service imports: memory's search and the reasoner both use them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz.distance import Levenshtein

from longwatch.errors import InvalidArgument

_DIGITS = frozenset("0123456789")
# Each class of shapes OCR confuses maps to its digit, so a digit misread as a letter (or back) compares
# equal. Upper-case L joins lower-case l (read as 1 or I): a question typed in lower case ("locker") must
# match the screen's "LOCKER", so folding ignores case, and to it l and L are one letter.
_CONFUSIONS = str.maketrans({"O": "0", "I": "1", "L": "1", "S": "5", "B": "8", "Z": "2"})
_NOT_ALNUM = re.compile(r"[\W_]+")  # what str.isalnum refuses: \w is letters, digits and "_"
# Default edit budgets by the term's compact length: a short code has no letter to spare ("B2" one edit
# off is any two characters), a long word survives a dropped or doubled letter or two.
_EXACT_BELOW = 4  # compact characters
_ONE_EDIT_UP_TO = 8  # compact characters; longer terms get two


def fold(text: str) -> str:
    """Upper case with OCR's confusion classes folded to one character each, its digit: O→0, I→1,
    l and L→1, S→5, B→8, Z→2 ("Locker B2" → "10CKER 82"). Character by character, so offsets agree
    wherever upper-casing keeps the length (everywhere but a few letters such as ß → SS)."""
    return text.upper().translate(_CONFUSIONS)


def compact(text: str) -> str:
    """fold(text) with everything but letters and digits removed: what run-together text is compared in
    ("L0CKER 42!" and "locker42" are both "10CKER42")."""
    return _NOT_ALNUM.sub("", fold(text))


@dataclass(frozen=True)
class TermMatch:
    """Where a term was found: offsets into the text as given, so callers can cut or mark the span."""

    start: int  # first character of the match in the original text
    end: int  # one past its last character
    score: float  # 1.0 exact after folding; lower with each edit (rapidfuzz's normalized similarity)
    edits: int  # Levenshtein distance between the compact forms


def find_term(term: str, text: str, max_edits: int | None = None) -> TermMatch | None:
    """Best occurrence of `term` in `text` (fewest edits, then highest score, then leftmost),
    tolerating confusions, lost and extra spaces and `max_edits` edits of the compact forms (by
    default 0 for terms under 4 compact characters, 1 up to 8, 2 beyond; never all of the term).

    The digits written in `term` must be read exactly (after folding) at the matching place, with
    nothing inserted among them, and the number must not continue into an adjacent digit of the text:
    "LOCKER 421" and "LOCKER 4" do not match "locker 42", "LOCKER42CODE" does. Only digits next to
    the term's own numbers count: "code 5531" matches in "LOCKER42CODE5531"."""
    matches = _matches(term, text, max_edits, most=1)
    return matches[0] if matches else None


def find_all(term: str, text: str, max_edits: int | None = None) -> list[TermMatch]:
    """Every occurrence of `term` in `text` by the rules of `find_term`, non-overlapping (the better
    of two overlapping ones kept), left to right."""
    return sorted(_matches(term, text, max_edits, most=None), key=lambda match: match.start)


def contains_term(term: str, text: str) -> bool:
    """Whether `find_term` finds `term` in `text` with the default edit budget."""
    return find_term(term, text) is not None


@dataclass(frozen=True)
class _Compacted:
    chars: str  # compact(text)
    origins: tuple[int, ...]  # per character of `chars`, the index in the text it was folded from


@dataclass(frozen=True)
class _Term:
    chars: str  # compact(term)
    number_runs: tuple[tuple[int, int], ...]  # [start, end) in `chars` of the digits the term writes


def _compacted(text: str) -> _Compacted:
    folded = fold(text)
    if len(folded) == len(text):  # upper() never shortens: one folded character per character
        origins = tuple(index for index, char in enumerate(folded) if char.isalnum())
        return _Compacted("".join(folded[index] for index in origins), origins)
    pairs = [(kept, index) for index, char in enumerate(text) for kept in compact(char)]  # ß → 55
    return _Compacted("".join(kept for kept, _ in pairs), tuple(index for _, index in pairs))


def _term(term: str) -> _Term:
    """The term's compact form and where in it the digits it writes are: "locker 42" → runs [(6, 8)].
    Digits split by spaces or punctuation ("14:05") are one run, as compact text runs them together."""
    folded = _compacted(term)
    runs: list[tuple[int, int]] = []
    start: int | None = None
    written = [term[origin] in _DIGITS for origin in folded.origins]
    for index, is_digit in enumerate([*written, False]):
        if is_digit and start is None:
            start = index
        elif not is_digit and start is not None:
            runs.append((start, index))
            start = None
    return _Term(folded.chars, tuple(runs))


def _edit_budget(length: int, max_edits: int | None) -> int:
    if max_edits is not None and max_edits < 0:
        raise InvalidArgument(f"max_edits must be 0 or more (or None for the default); got {max_edits}")
    if max_edits is None:
        max_edits = 0 if length < _EXACT_BELOW else 1 if length <= _ONE_EDIT_UP_TO else 2
    return min(max_edits, length - 1)  # a match keeps at least one character of the term


def _matches(term: str, text: str, max_edits: int | None, most: int | None) -> list[TermMatch]:
    """Up to `most` valid, non-overlapping matches, best first."""
    wanted = _term(term)
    if not wanted.chars:
        return []
    budget = _edit_budget(len(wanted.chars), max_edits)
    windows = _windows(wanted.chars, compact(text), budget)
    if not windows:
        return []
    compacted = _compacted(text)  # the offset map costs a loop over the text: only when something is close
    taken: list[TermMatch] = []
    for edits, negative_score, start, end in windows:
        match = TermMatch(
            start=compacted.origins[start], end=compacted.origins[end - 1] + 1, score=-negative_score, edits=edits
        )
        if _overlaps_any(match, taken) or not _keeps_numbers(wanted, text, compacted, start, end):
            continue
        taken.append(match)
        if len(taken) == most:
            break
    return taken


def _windows(term: str, text: str, max_edits: int) -> list[tuple[int, int, int, int]]:
    """Spans [start, end) of compact `text` within `max_edits` of compact `term`, best first (fewest
    edits, then highest score, then leftmost), as (edits, -score, start, end).

    Pigeonhole seeding: split the term into max_edits + 1 pieces, and a span with at most max_edits
    edits holds one piece unchanged; so only spans around an exact occurrence of a piece (found by
    str.find) are measured, and a text without any costs a few substring searches."""
    length = len(term)
    spans: set[tuple[int, int]] = set()
    for offset, piece in _pieces(term, max_edits + 1):
        at = text.find(piece)
        while at >= 0:
            spans.update(_spans_around(at - offset, length, max_edits, len(text)))
            at = text.find(piece, at + 1)
    found = []
    for start, end in spans:
        edits = Levenshtein.distance(term, text[start:end], score_cutoff=max_edits)
        if edits <= max_edits:
            found.append((edits, -_score(edits, length, end - start), start, end))
    found.sort()
    return found


def _score(edits: int, length: int, other_length: int) -> float:
    """rapidfuzz's normalized Levenshtein similarity: of equal edits, the longer span scores higher, so a
    doubled letter ("WAREHOUSSE") is taken in, not cut off with a substitution."""
    return 1.0 - edits / max(length, other_length)


def _pieces(term: str, count: int) -> list[tuple[int, str]]:
    """`term` cut into `count` consecutive pieces of near-equal length, with their offsets."""
    size, extra = divmod(len(term), count)
    pieces, offset = [], 0
    for index in range(count):
        width = size + (index < extra)
        pieces.append((offset, term[offset : offset + width]))
        offset += width
    return pieces


def _spans_around(first: int, length: int, max_edits: int, text_length: int) -> Iterable[tuple[int, int]]:
    """Spans that a term aligned to start at `first` can occupy with `max_edits` edits."""
    for start in range(max(0, first - max_edits), min(text_length, first + max_edits) + 1):
        for end in range(start + length - max_edits, min(text_length, start + length + max_edits) + 1):
            yield start, end


def _overlaps_any(match: TermMatch, taken: list[TermMatch]) -> bool:
    return any(match.start < other.end and other.start < match.end for other in taken)


def _keeps_numbers(term: _Term, text: str, compacted: _Compacted, start: int, end: int) -> bool:
    """Whether the span [start, end) of compact text reads each of the term's numbers exactly, with no
    digit of the text continuing it."""
    if not term.number_runs:
        return True
    aligned = _aligned(term.chars, compacted.chars, start, end)
    for run_start, run_end in term.number_runs:
        first = aligned.get(run_start)
        if first is None or any(aligned.get(index) != first + index - run_start for index in range(run_start, run_end)):
            return False
        last = first + run_end - run_start - 1
        if not _is_free(text, compacted, start, end, aligned, first, first - 1, run_start - 1):
            return False
        if not _is_free(text, compacted, start, end, aligned, last, last + 1, run_end):
            return False
    return True


def _aligned(term: str, text: str, start: int, end: int) -> dict[int, int]:
    """Term index → compact text index, for the characters rapidfuzz's alignment keeps unchanged."""
    aligned = {}
    for opcode in Levenshtein.opcodes(term, text[start:end]):
        if opcode.tag == "equal":
            for step in range(opcode.src_end - opcode.src_start):
                aligned[opcode.src_start + step] = start + opcode.dest_start + step
    return aligned


def _is_free(
    text: str, compacted: _Compacted, start: int, end: int, aligned: dict[int, int], edge: int, beside: int, own: int
) -> bool:
    """Whether compact character `beside`, next to the number's `edge`, leaves the number alone: it is no
    digit in the text, or the term's own character `own` read in the confusion class of a digit ("B42"
    read as "842"), or, outside the match, not adjacent in the text ("42 1" is 42 and 1, "421" is not)."""
    if not 0 <= beside < len(compacted.chars) or text[compacted.origins[beside]] not in _DIGITS:
        return True
    if start <= beside < end:
        return aligned.get(own) == beside
    return abs(compacted.origins[beside] - compacted.origins[edge]) > 1
