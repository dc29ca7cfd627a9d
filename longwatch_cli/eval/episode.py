"""What an evaluation stream shows and what is asked about it: the ground truth, as frozen dataclasses.

An episode is one generated video of one scene family. Its shows are the texts on screen with their
times; its questions carry what a right answer must say and which time ranges ground it. Written
beside the video as JSON, so a run can be scored again without regenerating anything.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from enum import StrEnum
from pathlib import Path

TimeRange = tuple[float, float]  # [start_s, end_s) from the stream start


class Slot(StrEnum):
    MAIN = "main"  # the display questions name
    SIDE = "side"  # a second panel on the same screen: distractors


class Hardness(StrEnum):
    """How a show's text is drawn: the picture is hard to read, OCR output is never edited."""

    PLAIN = "plain"
    SMALL = "small"
    FAINT = "faint"  # low contrast
    BLURRED = "blurred"
    SLANTED = "slanted"


class QuestionType(StrEnum):
    SINGLE = "single"  # one needle holds the answer
    CHAIN2 = "chain2"  # one needle names the next; the second holds the answer
    CHAIN3 = "chain3"
    WHEN = "when"  # the answer is a time range
    BETWEEN = "between"  # what the display showed in a time window
    AFTER = "after"  # what came right after a given message
    COUNT = "count"  # how many times a message appeared
    DURATION = "duration"  # how long a message stayed on screen, in seconds
    ABSENT = "absent"  # about something never shown: the right answer says it was not seen


@dataclass(frozen=True)
class Fact:
    """One message: "BAY 17" "PALLET CODE" "8K2Q", or a chain link "PARCEL 51" "GOES TO" "BAY 17"."""

    subject: str
    relation: str
    value: str

    @property
    def text(self) -> str:
        return f"{self.subject} {self.relation} {self.value}"


@dataclass(frozen=True)
class Show:
    fact: Fact
    start_s: float
    end_s: float
    slot: Slot
    hardness: Hardness = Hardness.PLAIN

    @property
    def time_range(self) -> TimeRange:
        return (self.start_s, self.end_s)


@dataclass(frozen=True)
class Question:
    id: str
    family: str
    stream_id: str
    type: QuestionType
    text: str
    # What a right answer says: a value ("8K2Q"), a range ("4:31-4:45"), a count ("3") or seconds ("42");
    # empty for ABSENT.
    expected: str
    # Ranges that ground the answer: every hop of a chain, every occurrence of a counted message.
    ranges: tuple[TimeRange, ...] = ()
    is_grounded_by_any: bool = False  # one of `ranges` is enough (COUNT); otherwise all of them
    confusers: tuple[str, ...] = ()  # values shown near the needle that a right answer must not give
    is_hard: bool = False  # a grounding show's text is small, faint, blurred or slanted
    haystack_s: float = 0.0
    subject: str = ""  # the thing asked about, as shown ("BAY 17"); for ABSENT, what never appeared


def question_from_dict(data: dict) -> Question:
    """A Question from its JSON form (`dataclasses.asdict`)."""
    return Question(
        **{
            **data,
            "type": QuestionType(data["type"]),
            "ranges": tuple(tuple(r) for r in data["ranges"]),
            "confusers": tuple(data["confusers"]),
        }
    )


@dataclass(frozen=True)
class Episode:
    stream_id: str
    family: str
    seed: int
    duration_s: float
    fps: float
    shows: tuple[Show, ...]
    questions: tuple[Question, ...]

    @property
    def video_name(self) -> str:
        return f"{self.stream_id}.mp4"

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1)

    @classmethod
    def from_json(cls, text: str) -> Episode:
        data = json.loads(text)
        shows = tuple(
            Show(Fact(**s["fact"]), s["start_s"], s["end_s"], Slot(s["slot"]), Hardness(s["hardness"]))
            for s in data.pop("shows")
        )
        questions = tuple(question_from_dict(q) for q in data.pop("questions"))
        return cls(**data, shows=shows, questions=questions)

    def write(self, directory: Path) -> Path:
        path = directory / f"{self.stream_id}.json"
        path.write_text(self.to_json())
        return path
