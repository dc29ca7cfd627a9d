"""Scores replies against an episode's ground truth. Pure functions: no services, no models.

How a reply is judged (the report states the same):
- Text is normalised before comparing: upper case, then runs of letters and runs of digits. A value
  answer is right when the reply holds the expected value's runs in order ("K7 Q2" for "K7Q2",
  "LOCKER42CODE5531" for "5531", but not "13.49" for "3.49") and holds none of the confusers, the
  values of the distractors shown near the needle: a reply that lists every candidate is not right.
  OCR's confusions are not forgiven (O is not 0); a second figure, `correct_ocr_folded`, forgives
  them, to show how much is lost to reading rather than to reasoning.
- WHEN: a time range (m:ss or h:mm:ss, "4:31-4:45" or one time) that overlaps the needle's range,
  within TIME_TOLERANCE_S, and is at most WHEN_MAX_WIDTH_FACTOR times its length plus the tolerance.
- COUNT: the first number in the reply (digits or a word up to twenty) equals the count.
- DURATION: the reply's duration (seconds, minutes, "1:20", "1 minute 20 seconds") is within
  DURATION_TOLERANCE of the truth, or DURATION_TOLERANCE_S seconds, whichever is larger.
- ABSENT: right when the reply abstains ("not seen", "no evidence", …); for any other type an
  abstention is wrong.
- Grounded: a cited evidence range of the question's stream overlaps each of the question's ranges
  (every hop of a chain), or one of them for a COUNT. Absent questions have no grounding.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from longwatch_cli.eval.episode import Question, QuestionType, TimeRange

TIME_TOLERANCE_S = 4.0  # one clip: evidence and answers come at clip granularity
WHEN_MAX_WIDTH_FACTOR = 3.0
DURATION_TOLERANCE = 0.25
DURATION_TOLERANCE_S = 5.0
ABSTENTIONS = (
    "not seen", "have not seen", "haven't seen", "did not see", "didn't see", "never saw", "no evidence",
    "not found", "could not find", "couldn't find", "cannot find", "can't find", "don't know", "do not know",
    "no record", "nothing about", "not shown", "never shown", "never appeared", "no answer", "unknown",
)  # fmt: skip
_OCR_FOLD = str.maketrans("OILSBZ", "011582")
_NUMBER_WORDS = {
    word: value
    for value, word in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
        "sixteen seventeen eighteen nineteen twenty".split()
    )
}
_CLOCK = re.compile(r"(?<![\d.])(\d{1,2}):(\d{2})(?::(\d{2}))?(?![\d])")
_UNIT = re.compile(r"(\d+(?:\.\d+)?)\s*(hours?|hrs?|h|minutes?|mins?|m|seconds?|secs?|s)\b", re.IGNORECASE)


@dataclass(frozen=True)
class CitedRange:
    stream_id: str
    start_s: float
    end_s: float


@dataclass(frozen=True)
class Reply:
    """What the system said, as the harness recorded it."""

    answer: str
    confidence: float = 0.0
    evidence: tuple[CitedRange, ...] = ()
    latency_ms: float = 0.0
    clips_read: int | None = None  # when the reasoner reports it
    error: str = ""  # the call failed: the reply is wrong, and says why


@dataclass(frozen=True)
class Score:
    question: Question
    reply: Reply
    is_correct: bool
    is_correct_ocr_folded: bool
    is_grounded: bool | None  # None: nothing to ground (absent questions)
    is_abstention: bool

    @property
    def is_abstention_right(self) -> bool:
        return self.is_abstention == (self.question.type is QuestionType.ABSENT)


def normalise(text: str) -> str:
    return " ".join(re.sub(r"[^0-9A-Z]+", " ", text.upper()).split())


def _pieces(text: str) -> list[str]:
    """Runs of letters and runs of digits: "LOCKER42CODE 5531" → LOCKER, 42, CODE, 5531."""
    return re.findall(r"[A-Z]+|[0-9]+", text)


def says(reply: str, value: str, *, fold: bool = False) -> bool:
    """Whether the reply holds `value`: its runs of letters and of digits, in order and contiguous. With
    `fold`, a run of the reply's pieces matches when it reads the same with OCR's confusions and spaces
    forgiven ("OFFER CODE SOTK" says "S0TK", and "SEATS585" still says "585"): never less than strict."""
    said_pieces, wanted_pieces = _pieces(normalise(reply)), _pieces(normalise(value))
    if not wanted_pieces:
        return False
    if fold:
        wanted = "".join(wanted_pieces).translate(_OCR_FOLD)
        return any(
            "".join(said_pieces[i:j]).translate(_OCR_FOLD) == wanted
            for i in range(len(said_pieces))
            for j in range(i + 1, len(said_pieces) + 1)
        )
    width = len(wanted_pieces)
    return any(said_pieces[i : i + width] == wanted_pieces for i in range(len(said_pieces) - width + 1))


def is_abstention(answer: str) -> bool:
    lowered = " ".join(answer.lower().replace("’", "'").split())
    return not lowered or any(phrase in lowered for phrase in ABSTENTIONS)


def parse_clock_s(text: str) -> list[float]:
    """Every m:ss or h:mm:ss in `text`, in seconds, in order."""
    times = []
    for match in _CLOCK.finditer(text):
        first, second, third = match.groups()
        times.append(int(first) * 3600 + int(second) * 60 + int(third) if third else int(first) * 60 + int(second))
    return times


def parse_duration_s(text: str) -> float | None:
    """ "42 s", "2 minutes 5 seconds", "1:20", "about 45" → seconds; None when there is no number."""
    units = _UNIT.findall(text)
    if units:
        scale = {"h": 3600.0, "m": 60.0, "s": 1.0}
        return sum(float(number) * scale[unit[0].lower()] for number, unit in units)
    clocks = parse_clock_s(text)
    if clocks:
        return float(clocks[0])
    number = first_number(text)
    return None if number is None else float(number)


def first_number(text: str) -> int | None:
    for token in re.findall(r"[a-z]+|\d+", text.lower()):
        if token.isdigit():
            return int(token)
        if token in _NUMBER_WORDS:
            return _NUMBER_WORDS[token]
    return None


def _overlaps(a: TimeRange, b: TimeRange, slack_s: float = 0.0) -> bool:
    return a[0] < b[1] + slack_s and a[1] + slack_s > b[0]


def _when_is_right(answer: str, truth: TimeRange) -> bool:
    times = parse_clock_s(answer)
    if not times:
        return False
    said = (times[0], times[1] if len(times) > 1 else times[0])
    if said[1] < said[0]:
        return False
    widest_s = WHEN_MAX_WIDTH_FACTOR * (truth[1] - truth[0]) + TIME_TOLERANCE_S
    return said[1] - said[0] <= widest_s and _overlaps((said[0], said[1] + 1.0), truth, TIME_TOLERANCE_S)


def _value_is_right(question: Question, answer: str, fold: bool) -> bool:
    """Folding forgives a misread of the expected value only; a confuser still counts as said only when
    it is said exactly, so the OCR-forgiving figure is never below the strict one."""
    if not says(answer, question.expected, fold=fold):
        return False
    return not any(says(answer, confuser) for confuser in question.confusers)


def _is_right(question: Question, answer: str, fold: bool = False) -> bool:
    kind = question.type
    if kind is QuestionType.ABSENT:
        return is_abstention(answer)
    if is_abstention(answer):
        return False
    if kind is QuestionType.WHEN:
        return _when_is_right(answer, question.ranges[0])
    if kind is QuestionType.COUNT:
        return first_number(answer) == int(question.expected)
    if kind is QuestionType.DURATION:
        said = parse_duration_s(answer)
        truth = float(question.expected)
        return said is not None and abs(said - truth) <= max(DURATION_TOLERANCE * truth, DURATION_TOLERANCE_S)
    return _value_is_right(question, answer, fold)


def is_grounded(question: Question, evidence: tuple[CitedRange, ...]) -> bool | None:
    if not question.ranges:
        return None
    cited = [(e.start_s, e.end_s) for e in evidence if e.stream_id == question.stream_id]
    hits = [any(_overlaps(c, wanted) for c in cited) for wanted in question.ranges]
    return any(hits) if question.is_grounded_by_any else all(hits)


def score(question: Question, reply: Reply) -> Score:
    answer = "" if reply.error else reply.answer
    abstained = is_abstention(answer) and not reply.error
    return Score(
        question=question,
        reply=reply,
        is_correct=not reply.error and _is_right(question, answer),
        is_correct_ocr_folded=not reply.error and _is_right(question, answer, fold=True),
        is_grounded=is_grounded(question, reply.evidence),
        is_abstention=abstained,
    )


def wilson_interval(successes: int, total: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval (95% by default) of a proportion; (0, 1) for no trials."""
    if total == 0:
        return (0.0, 1.0)
    p = successes / total
    denominator = 1 + z * z / total
    centre = (p + z * z / (2 * total)) / denominator
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / denominator
    return (max(0.0, centre - half), min(1.0, centre + half))
