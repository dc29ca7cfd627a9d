"""Reading a clip's on-screen text as records: what a line names, what it says of it, what it points to.

On-screen text is mostly LABEL NUMBER ATTRIBUTE VALUE ("LOCKER 42 CODE 5531"), sometimes a link to
another thing ("PARCEL 51 GOES TO BAY 17"). A line is split into tokens; the thing a question names is
found among them with OCR's confusions forgiven ("L0CKER 42", "LOCKER42") but its number exact; the
words the question asks for mark where the value is; a thing named in the rest of the line that the
question also talks about is a pointer to search for next.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rapidfuzz.distance import Levenshtein

from longwatch.text_match import compact, contains_term
from longwatch.types import SearchHit
from reasoner.core.evidence_text import split_hit_text as caption_and_lines
from reasoner.core.question import Entity

_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9.\-/]*[A-Za-z0-9]|[A-Za-z0-9]")
# A word run into its number by OCR: "LOCKER42" -> "LOCKER", "42"; "L0CKER42" too (see _is_word).
_RUN_TOGETHER = re.compile(r"^([A-Za-z][A-Za-z0-9]*[A-Za-z])(\d{1,6})$")
_DIGITS = re.compile(r"^\d{1,6}$")
# Letters OCR reads as digits inside words ("0RDER", "C0DE"): a label is compared with them read as letters.
_AS_LETTERS = str.maketrans("0158", "OISB")
_MIN_PREFIX = 3  # "DEST" names "destination"; "KG" does not name "kilogram"


@dataclass(frozen=True)
class Line:
    """One line of a clip's on-screen text, as tokens."""

    hit: SearchHit
    text: str
    tokens: tuple[str, ...]


@dataclass(frozen=True)
class Reading:
    """What one line says about the thing asked about."""

    line: Line
    value: str  # the words where the answer is ("5531"); the whole line when nothing marks the value
    asked_matched: int  # words of what the question asks for found in the line
    context_matched: int  # other question words found in the line
    pointers: tuple[Entity, ...]  # things the line points to that the question also talks about


def lines_of(hit: SearchHit) -> list[Line]:
    return [Line(hit, line, tuple(_tokens(line))) for line in caption_and_lines(hit.text)[1]]


def _tokens(text: str) -> list[str]:
    tokens: list[str] = []
    for token in _TOKEN.findall(text):
        run = _RUN_TOGETHER.match(token)
        tokens.extend(run.groups() if run and _is_word(run.group(1)) else (token,))
    return [token.upper() for token in tokens]


def same_word(token: str, word: str) -> bool:
    """Whether a token of on-screen text is the question's word, forgiving OCR: "C0DE" is "code", "DEST" is
    "destination" (a prefix of three letters or more), "WEIGTH" is "weight" (one edit in five letters)."""
    a, b = token.upper().translate(_AS_LETTERS), word.upper().translate(_AS_LETTERS)
    if a == b:
        return True
    shorter, longer = sorted((a, b), key=len)
    if len(shorter) >= _MIN_PREFIX and longer.startswith(shorter) and shorter.isalpha():
        return True
    return len(shorter) >= 5 and Levenshtein.distance(a, b) <= len(longer) // 5


def _is_word(text: str) -> bool:
    """A word OCR may have misread a letter or two of ("L0CKER"), not a code ("X8Z"): three letters or more,
    and digits in at most a fifth of it."""
    letters = sum(character.isalpha() for character in text)
    return letters >= 3 and (len(text) - letters) * 5 <= len(text)


def _is_label(token: str) -> bool:
    return len(token) >= 2 and token.translate(_AS_LETTERS).isalpha()


def entities_in(tokens: Sequence[str]) -> list[tuple[int, Entity]]:
    """(position, entity) of each LABEL NUMBER pair in a line: "BAY 17" in "PARCEL 51 GOES TO BAY 17"."""
    found = []
    for index in range(len(tokens) - 1):
        label, number = tokens[index], tokens[index + 1]
        if _DIGITS.match(number) and _is_label(label) and not label.isdigit():
            found.append((index, Entity(label.translate(_AS_LETTERS), number)))
    return found


def find_entity(entity: Entity, tokens: Sequence[str]) -> int | None:
    """Where `entity` is in the line (its label's position): the label forgiving OCR, the number exact.
    With the number exact a label of four letters or more may have one letter misread ("ITEH 39")."""
    for index, found in entities_in(tokens):
        if found.number != entity.number:
            continue
        label, wanted = found.label.upper(), entity.label.upper()
        if same_word(label, wanted) or (min(len(label), len(wanted)) >= 4 and Levenshtein.distance(label, wanted) <= 1):
            return index
    return None


def read_line(line: Line, anchor: Entity | None, asked: Iterable[str], context: Iterable[str]) -> Reading | None:
    """What `line` says of `anchor` (None: of nothing in particular), or None when it does not name it."""
    tokens = line.tokens
    start = find_entity(anchor, tokens) if anchor is not None else None
    if anchor is not None and start is None:
        return None
    taken = set() if start is None else {start, start + 1}
    asked, context = list(asked), list(context)
    marks = {i: "asked" for i, t in enumerate(tokens) if i not in taken and any(same_word(t, w) for w in asked)}
    for i, token in enumerate(tokens):
        if i not in taken and i not in marks and any(same_word(token, word) for word in context):
            marks[i] = "context"
    pointers = tuple(
        entity
        for index, entity in entities_in(tokens)
        if index not in taken and any(same_word(entity.label, word) for word in context)
    )
    return Reading(
        line=line,
        value=_value(tokens, taken | set(marks), [i for i, kind in marks.items() if kind == "asked"]) or line.text,
        asked_matched=sum(kind == "asked" for kind in marks.values()),
        context_matched=sum(kind == "context" for kind in marks.values()),
        pointers=pointers,
    )


def _value(tokens: Sequence[str], marked: set[int], asked_at: list[int]) -> str:
    """The run of unmarked tokens after the last asked word (else after the last marked token, else before
    the first): "CODE 5531" -> "5531"; "EXIT 42" for "which exit" -> "42"."""
    if not marked:
        return ""
    after = max(asked_at) if asked_at else max(marked)
    run = [t for t in _run(tokens, after + 1, marked)]
    if not run:
        first = min(asked_at) if asked_at else min(marked)
        run = list(reversed(_run_back(tokens, first - 1, marked)))
    return " ".join(run)


def _run(tokens: Sequence[str], start: int, marked: set[int]) -> list[str]:
    run = []
    for index in range(start, len(tokens)):
        if index in marked:
            break
        run.append(tokens[index])
    return run


def _run_back(tokens: Sequence[str], start: int, marked: set[int]) -> list[str]:
    run = []
    for index in range(start, -1, -1):
        if index in marked:
            break
        run.append(tokens[index])
    return run


def holds_text(hit: SearchHit, phrase: str) -> bool:
    """Whether a clip's on-screen text holds `phrase`, forgiving OCR's confusions, spacing and small edits."""
    return any(contains_term(phrase, line) for line in caption_and_lines(hit.text)[1]) or (
        len(compact(phrase)) >= 4 and compact(phrase) in compact(hit.text)
    )


def line_key(text: str) -> str:
    """Lines that differ only by OCR's confusions and spacing are one line."""
    return compact(text)
