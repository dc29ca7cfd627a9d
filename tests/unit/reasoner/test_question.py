"""Planning a question: what it names, what it asks for, when, and the kind of reply it wants."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from reasoner.core.question import Entity, Kind, is_when_question, plan_question

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def plan(question):
    return plan_question(question, NOW)


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("What was the code for locker 42?", Kind.VALUE),
        ("When did bay 17 open?", Kind.WHEN),
        ("How many times was bay 17 shown?", Kind.COUNT),
        ("How often did locker 42 appear?", Kind.COUNT),
        ("How long was gate 3 closed?", Kind.DURATION),
        ("What came up right after locker 42?", Kind.NEXT),
        ("Was locker 42 shown?", Kind.YES_NO),
        ("What was on the board between 4:30 and 5:00?", Kind.CONTENT),
    ],
)
def test_the_kind_of_reply(question, kind):
    assert plan(question).kind is kind


def test_a_numbered_thing_is_an_entity_with_its_exact_number():
    found = plan("What code did locker 42 show, and was it before bay #17?")
    assert found.entities == (Entity("LOCKER", "42"), Entity("BAY", "17"))
    assert found.asked == {"code"}


@pytest.mark.parametrize("question", ["What happened at 4:30?", "Show the last 3 trucks", "Was the price 12.49?"])
def test_clocks_prices_and_counts_are_not_entities(question):
    assert plan(question).entities == ()


def test_quoted_lines_and_written_codes_are_named():
    found = plan('When did "GATE CLOSED" show, and where was X8Z3?')
    assert found.quoted == ("GATE CLOSED",) and found.codes == ("X8Z3",)


def test_the_other_words_are_context_for_hops():
    found = plan("Ticket 8 points to a desk, and the desk points to a locker. What code did the locker show?")
    assert found.entities == (Entity("TICKET", "8"),)
    assert found.asked == {"code"} and found.context == {"points", "desk", "locker"}


def test_with_nothing_phrased_as_asked_the_words_beside_the_named_thing_are_what_is_asked():
    assert plan("locker 42's code?").asked == {"code"}


def test_the_search_text_puts_the_named_things_first():
    assert plan("What was the code for locker 42?").search_text().startswith("LOCKER 42 ")


def test_time_words_are_parsed():
    found = plan("How many times was bay 17 shown between 3:20 and 5:00?")
    assert (found.time.start.stream_s, found.time.end.stream_s) == (200.0, 300.0)


@pytest.mark.parametrize(
    "question",
    [
        "When did the red car arrive?",
        "  when was the alarm?",
        "At what time did the sign appear?",
        "What time was the van there?",
        "How long ago did the truck leave?",
        "Can you tell me when the truck arrived?",
        "Could you please tell me roughly when the van left?",
        "Please tell me when the exit sign appeared",
        "The car KPL 4721 was seen when?",
        "Since when has the gate been closed?",
        "At which point did the van leave?",
        "In which minute did the alarm go off?",
        "What minute did the alarm go off?",
        "Which moment did the van leave?",
        "Which time did the truck arrive?",
        "What second did the door open?",
    ],
)
def test_when_questions(question):
    assert is_when_question(question)


@pytest.mark.parametrize(
    "question",
    [
        "What was the plate of the car?",
        "What was on the screen when the alarm rang?",
        "Which exit was shown?",
        "What time did the clock on the wall show?",  # a time read off the video, not a moment in it
        "At what time did the clock show noon?",
        "Which second car stopped?",
    ],
)
def test_other_questions(question):
    assert not is_when_question(question)
