"""Question wording: several templates per question type, picked per question from the seed.

The templates are phrased the way people ask, not the way the answer logic matches: other verbs,
other word orders, the thing asked about first or last. Names come in lower case as people type them.
"""

from __future__ import annotations

import random

from longwatch.times import format_time_s
from longwatch_cli.eval.episode import Fact
from longwatch_cli.eval.families import Family


def spoken_subject(family: Family, subject: str) -> str:
    """ "BAY 17" → "bay 17"."""
    label, _, number = subject.rpartition(" ")
    spoken = dict(family.subjects).get(label, label.lower())
    return f"{spoken} {number}"


def spoken_relation(family: Family, relation: str) -> str:
    for attribute in family.attributes:
        if attribute.label == relation:
            return attribute.spoken
    for link in family.links:
        if link.shown == relation:
            return link.spoken
    return relation.lower()


def _kind(family: Family, subject: str) -> str:
    return spoken_subject(family, subject).rsplit(" ", 1)[0]


def _a(noun: str) -> str:
    return f"an {noun}" if noun[:1] in "aeiou" else f"a {noun}"


def single(rng: random.Random, family: Family, fact: Fact) -> str:
    who, what = spoken_subject(family, fact.subject), spoken_relation(family, fact.relation)
    return rng.choice(
        (
            f"What {what} did {family.display} give for {who}?",
            f"{who.capitalize()}: which {what} was shown?",
            f"Tell me the {what} that appeared for {who}.",
            f"I need the {what} of {who} - what was it?",
            f"Which {what} went with {who} on {family.display}?",
        )
    )


def chain(rng: random.Random, family: Family, hops: list[Fact]) -> str:
    """The first hop's subject is named; every later subject is only described by its link."""
    first, final = hops[0], hops[-1]
    what = spoken_relation(family, final.relation)
    if rng.random() < 0.5:
        description = spoken_subject(family, first.subject)
        for link in hops[:-1]:
            description = f"the {_kind(family, link.value)} that {description} {spoken_relation(family, link.relation)}"
        return f"What {what} was shown for {description}?"
    named = spoken_subject(family, first.subject).capitalize()
    sentences = [f"{named} {spoken_relation(family, first.relation)} {_a(_kind(family, first.value))}"]
    for link in hops[1:-1]:
        verb = spoken_relation(family, link.relation)
        sentences.append(f"that {_kind(family, link.subject)} {verb} {_a(_kind(family, link.value))}")
    return ", and ".join(sentences) + f". What {what} did that {_kind(family, final.subject)} have on screen?"


def when(rng: random.Random, family: Family, fact: Fact) -> str:
    who, what = spoken_subject(family, fact.subject), spoken_relation(family, fact.relation)
    return rng.choice(
        (
            f"At what point in the video did the {what} for {who} come up?",
            f"When was {who}'s {what} on {family.display}?",
            f"Find the moment {family.display} showed the {what} of {who}.",
        )
    )


def between(rng: random.Random, family: Family, start_s: float, end_s: float) -> str:
    start, end = format_time_s(start_s), format_time_s(end_s)
    return rng.choice(
        (
            f"What was on {family.display} between {start} and {end}?",
            f"From {start} to {end}, what did {family.display} show?",
            f"Between {start} and {end}: what message was displayed on {family.display}?",
        )
    )


def after(rng: random.Random, family: Family, fact: Fact) -> str:
    who, what = spoken_subject(family, fact.subject), spoken_relation(family, fact.relation)
    return rng.choice(
        (
            f"What came up on {family.display} right after the {what} for {who}?",
            f"Which message followed {who}'s {what} on {family.display}?",
            f"Once {family.display} stopped showing the {what} of {who}, what did it show next?",
        )
    )


def count(rng: random.Random, family: Family, fact: Fact) -> str:
    return rng.choice(
        (
            f'How many times did "{fact.text}" appear on {family.display}?',
            f'How often was "{fact.text}" shown?',
            f'Count the separate times {family.display} showed "{fact.text}".',
        )
    )


def duration(rng: random.Random, family: Family, fact: Fact) -> str:
    who, what = spoken_subject(family, fact.subject), spoken_relation(family, fact.relation)
    return rng.choice(
        (
            f"How long was the {what} for {who} on screen?",
            f'For how many seconds did {family.display} show "{fact.text}"?',
            f"How long did {family.display} keep {who}'s {what} up?",
        )
    )


def absent(rng: random.Random, family: Family, fact: Fact) -> str:
    return single(rng, family, fact)
