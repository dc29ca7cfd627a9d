"""What a question asks, read from its words before any evidence is fetched.

A question names things ("locker 42", "bay 17", a quoted line, a code such as "KPL 4721"), asks for
something about them ("the code", "which exit"), and may say when ("between 4:30 and 5:00") and what
kind of reply it wants: a value, a time, a count, a duration, yes or no, or what was shown over a span.
The plan keeps these apart so the search can require the named number, weigh the asked words, and
answer counts and times from the timeline instead of copying a span of text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from reasoner.core.time_expr import TimeConstraint, parse_time

# Words that name nothing: they never make an entity's label, the asked attribute or a context word.
FUNCTION_WORDS = frozenset(
    "a an the what which who whom whose where when why how was were is are be been being did do does done has have had "
    "of on in at to for from by with and or it its this that these those there here any some then than once "
    "shown show shows showed seen see saw visible screen say said says read written appear appeared appearing "
    "video camera stream clip frame me i you we they tell need give gave given went go goes came come up "
    "next after before followed following right just between during since until till last past first "
    "many much times often long count separate number of seconds minutes hours moment point time find "
    "can could would please kept keep stay stayed display displayed message messages on-screen".split()
)
# Words before a number that are not a thing's name: "at 4", "the last 3", "top 10", "till 68" is a name.
_NOT_LABELS = FUNCTION_WORDS - {"till", "number"} | {"about", "around", "over", "under", "exactly", "every", "each"}
_NUMBER_WORDS = {"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"}

_QUOTED = re.compile(r"\"([^\"]+)\"|\u201c([^\u201d]+)\u201d|'([^']{3,})'(?!s\b)")
# "locker 42", "bay #17", "till 68's"; not a clock ("4:30"), a price ("12.49") or a range ("10-12").
_ENTITY = re.compile(r"\b([a-z][a-z\-]+)\s+#?(\d{1,6})(?![\d:.,]\d)(?:'s)?\b", re.IGNORECASE)
# A code written in the question: letters and digits mixed ("KPL-4721" is an entity; "X8Z3", "BZ7R" codes).
_CODE = re.compile(r"\b(?=[A-Z0-9]*\d)(?=[A-Z0-9]*[A-Z])[A-Z0-9]{3,}\b")
_WORD = re.compile(r"[a-z0-9][a-z0-9\-]*", re.IGNORECASE)
# The phrase the question asks for: "what price did", "which offer code was", "the weight that", "the code of".
_ASKED = (
    re.compile(
        r"\b(?:what|which)\s+((?:[a-z\-]+\s+){0,2}?[a-z\-]+)\s+"
        r"(?:did|does|do|was|were|is|are|went|came|appeared|showed|had|has|have|go|goes)\b",
        re.IGNORECASE,
    ),
    re.compile(
        r"\b(?:what|which)\s+(?:was|is|were|are)\s+(?:the\s+)?((?:[a-z\-]+\s+){0,2}?[a-z\-]+)"
        r"(?=\s+(?:of|for|on|in|at|shown|given|that|did|was)\b|\W*$)",
        re.IGNORECASE,
    ),  # fmt: skip
    re.compile(r"\bthe\s+((?:[a-z\-]+\s+){0,1}[a-z\-]+)\s+(?:that|of|for|which)\b", re.IGNORECASE),
)

_SAYS = re.compile(
    r"\bwhat\s+(?:did|does|do|was|is)\b.*\b(?:say|said|says|read|reads|show|showed|shows|display|displayed|written)\b",
    re.IGNORECASE,
)
_COUNT = re.compile(r"\bhow\s+(?:many\s+times|often)\b|\bcount\b|\bnumber\s+of\s+times\b", re.IGNORECASE)
_DURATION = re.compile(
    r"\bhow\s+long\b(?!\s+ago)|\bfor\s+how\s+(?:many\s+)?(?:seconds|minutes|long)\b|\bhow\s+many\s+(?:seconds|minutes)\b",
    re.IGNORECASE,
)
_NEXT = re.compile(r"\b(?:right\s+|just\s+|straight\s+)?after\b|\bfollowed\b|\bnext\b|\bthen\s+came\b", re.IGNORECASE)
_YES_NO = re.compile(r"^\W*(?:did|was|were|is|are|has|have|does|do|could|can)\b", re.IGNORECASE)
_CONTENT = re.compile(
    r"\bwhat\s+(?:was|were|is|came|appeared)\s+(?:on|shown|displayed|up)\b|\bwhat\s+(?:did|does)\s+.*\b(?:show|say|read|display)\b"
    r"|\bwhat\s+message\b|\bwhich\s+message\b|\bwhat\s+happened\b",
    re.IGNORECASE,
)
# Politeness and hedges that may come before the "when": "Can you tell me roughly when ...".
_LEAD_IN = (
    r"(?:(?:and|so|please|roughly|about|approximately|exactly|just)\s+"
    r"|(?:can|could|would)\s+you\s+(?:please\s+)?(?:tell\s+me|say|check)\s+"
    r"|(?:do|did)\s+you\s+(?:know|see|notice)\s+|tell\s+me\s+|i\s+(?:want|would\s+like)\s+to\s+know\s+)*"
)
# "What time did the clock show?" asks for a time read off the video, not for a moment in it.
_NOT_A_CLOCK_READING = r"(?!\s+(?:did|does|do|was|is)\s+(?:the\s+|a\s+|its\s+)?(?:clock|watch|timer|display)\b)"
_WHEN = re.compile(
    rf"^\W*{_LEAD_IN}when\b"
    r"|\bwhen\W*$"  # "The car KPL 4721 was seen when?"
    r"|\bsince\s+when\b"
    rf"|\b(?:(?:at|in)\s+)?(?:what|which)\s+(?:time|moment|point|timestamp)\b{_NOT_A_CLOCK_READING}"
    r"|\b(?:find|show\s+me|give\s+me)\s+the\s+(?:moment|time|point)\b"
    r"|\b(?:what|which)\s+(?:minute|second)\s+(?:did|does|do|was|were|is)\b"
    r"|\b(?:at|in)\s+(?:what|which)\s+(?:minute|second)\b"
    r"|\bhow\s+long\s+ago\b",
    re.IGNORECASE,
)


class Kind(StrEnum):
    """The reply a question wants."""

    VALUE = "value"  # a value shown for what it names ("the code for locker 42")
    WHEN = "when"  # the time ranges of its sightings
    COUNT = "count"  # how many separate sightings
    DURATION = "duration"  # how long a sighting lasted
    NEXT = "next"  # what was shown right after a sighting
    CONTENT = "content"  # what was shown over a span ("what was on the board between 4:30 and 5:00?")
    YES_NO = "yes-no"  # whether something was seen


@dataclass(frozen=True)
class Entity:
    """A thing named by a word and a number: "locker 42" (label "LOCKER", number "42")."""

    label: str
    number: str

    @property
    def text(self) -> str:
        return f"{self.label} {self.number}"


@dataclass(frozen=True)
class QuestionPlan:
    text: str
    kind: Kind
    entities: tuple[Entity, ...]  # in the order the question names them
    quoted: tuple[str, ...]  # phrases in quotes: a line to find as written
    codes: tuple[str, ...]  # codes written in the question ("X8Z3")
    asked: frozenset[str]  # the words of what is asked for ("price", "offer", "code"), lower case
    context: frozenset[str]  # the other content words ("board", "order", "linked"), lower case
    time: TimeConstraint
    wants_text: bool = False  # it asks what something said or showed: the reply is the whole line

    @property
    def names_something(self) -> bool:
        """Whether the question names a thing to look for by its text (a number, a code, a quoted line)."""
        return bool(self.entities or self.quoted or self.codes)

    def search_text(self) -> str:
        """What to ask memory: the named things first (memory weighs exact terms), then the rest."""
        named = [*self.quoted, *(entity.text for entity in self.entities), *self.codes]
        return " ".join([*named, self.time.remainder or self.text])[:1000]


def plan_question(question: str, now: datetime) -> QuestionPlan:
    time = parse_time(question, now)
    quoted = tuple(next(group for group in match.groups() if group) for match in _QUOTED.finditer(question))
    unquoted = _QUOTED.sub(" ", question)
    entities = tuple(_entities(unquoted))
    codes = tuple(code for code in _CODE.findall(unquoted) if not any(code in e.text for e in entities))
    named_words = {word.lower() for entity in entities for word in entity.text.split()}
    asked = _asked_words(unquoted) - named_words
    words = {word.lower() for word in _WORD.findall(unquoted) if len(word) > 1 and not word.isdigit()}
    context = words - FUNCTION_WORDS - named_words - asked - {c.lower() for c in codes}
    # "What did the sign at the gate say?": the words the thing showed, whole, not a value beside a label.
    wants_text = not asked and _SAYS.search(unquoted) is not None
    if not asked and len(entities) <= 1:
        # "locker 42's code?": with nothing phrased as asked, the words beside the one thing named are it.
        asked, context = context, set()
    return QuestionPlan(
        text=question,
        kind=_kind(question, time, bool(entities or quoted or codes)),
        entities=entities,
        quoted=quoted,
        codes=codes,
        asked=frozenset(asked),
        context=frozenset(context),
        time=time,
        wants_text=wants_text,
    )


def is_when_question(question: str) -> bool:
    """ "When did the van leave?", "At what time was the alarm?" — but not "What was shown when it rang?"."""
    return _WHEN.search(question) is not None


def _entities(text: str) -> list[Entity]:
    found: list[Entity] = []
    for match in _ENTITY.finditer(text):
        label, number = match.group(1).upper(), match.group(2)
        if label.lower() in _NOT_LABELS or label.lower() in _NUMBER_WORDS:
            continue
        entity = Entity(label, number)
        if entity not in found:
            found.append(entity)
    return found


def _asked_words(text: str) -> set[str]:
    for pattern in _ASKED:
        for match in pattern.finditer(text):
            words = {word.lower() for word in _WORD.findall(match.group(1))} - FUNCTION_WORDS
            if words:
                return words
    return set()


def _kind(question: str, time: TimeConstraint, names_something: bool) -> Kind:
    if _COUNT.search(question):
        return Kind.COUNT
    if _DURATION.search(question):
        return Kind.DURATION
    if is_when_question(question):
        return Kind.WHEN
    if time.after_event or (_NEXT.search(question) and not (time.start or time.end or time.last_s)):
        return Kind.NEXT
    if _YES_NO.search(question):
        return Kind.YES_NO
    if not names_something and (time.start or time.end or time.last_s) and _CONTENT.search(question):
        return Kind.CONTENT
    return Kind.VALUE
