"""Hand-made answerers for the scorer's tests: perfect, always abstaining, and random."""

from __future__ import annotations

import random
from collections.abc import Sequence

from longwatch_cli.eval.episode import Episode, Question, QuestionType
from longwatch_cli.eval.scoring import CitedRange, Reply

ABSTAIN = "I have not seen anything about that yet."


def perfect_text(question: Question) -> str:
    if question.type is QuestionType.ABSENT:
        return ABSTAIN
    if question.type is QuestionType.COUNT:
        return f"{question.expected} times"
    if question.type is QuestionType.DURATION:
        return f"about {question.expected} seconds"
    return question.expected


def perfect(question: Question) -> Reply:
    evidence = tuple(CitedRange(question.stream_id, start, end) for start, end in question.ranges)
    return Reply(perfect_text(question), confidence=0.9, evidence=evidence)


def abstain(question: Question) -> Reply:
    return Reply(ABSTAIN, confidence=0.0)


def candidates(episodes: Sequence[Episode]) -> list[str]:
    """Every reply the perfect answerer gives on these episodes: the pool a random answerer draws from."""
    return sorted({perfect_text(q) for episode in episodes for q in episode.questions})


def random_answerer(pool: Sequence[str], seed: int):
    rng = random.Random(seed)

    def answer(question: Question) -> Reply:
        return Reply(rng.choice(pool), confidence=rng.random())

    return answer
