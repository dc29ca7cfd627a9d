"""The scorer: known answerers get known scores, and each rule judges hand-made replies as documented."""

from __future__ import annotations

import json

import pytest

from longwatch_cli.eval.episode import Question, QuestionType
from longwatch_cli.eval.families import FAMILIES
from longwatch_cli.eval.plan import Mix
from longwatch_cli.eval.questions import plan_episode
from longwatch_cli.eval.report import calibration, summarise
from longwatch_cli.eval.scoring import (
    CitedRange,
    Reply,
    first_number,
    is_abstention,
    parse_duration_s,
    says,
    score,
    wilson_interval,
)
from tests.unit.eval.answerers import ABSTAIN, abstain, candidates, perfect, random_answerer


@pytest.fixture(scope="module")
def episodes():
    return [
        plan_episode(family, seed, 600, Mix(chain2=seed % 2, chain3=1 - seed % 2))
        for family in FAMILIES.values()
        for seed in (11, 12, 13)
    ]


def _questions(episodes):
    return [q for episode in episodes for q in episode.questions]


def test_forgiving_ocr_never_scores_below_the_strict_rule(episodes):
    pool = candidates(episodes)
    for q in _questions(episodes):
        for text in pool[:40]:
            result = score(q, Reply(text))
            assert result.is_correct_ocr_folded or not result.is_correct


def test_a_perfect_answerer_scores_everything(episodes):
    scores = [score(q, perfect(q)) for q in _questions(episodes)]
    summary = summarise(scores)["overall"]
    assert summary["correct"] == summary["total"] == len(scores)
    assert summary["grounded"] == summary["groundable"] > 0
    assert summary["abstention_right"] == summary["total"]


def test_an_always_abstaining_answerer_scores_exactly_the_absent_questions(episodes):
    questions = _questions(episodes)
    scores = [score(q, abstain(q)) for q in questions]
    absent = [q for q in questions if q.type is QuestionType.ABSENT]
    assert absent
    assert sum(s.is_correct for s in scores) == len(absent)
    assert all(s.is_correct == (s.question.type is QuestionType.ABSENT) for s in scores)
    assert not any(s.is_grounded for s in scores)


def test_a_random_answerer_scores_near_chance(episodes):
    questions = _questions(episodes)
    pool = candidates(episodes)
    # Chance: the mean, over questions, of the fraction of the pool that would be right.
    chance = sum(sum(score(q, Reply(text)).is_correct for text in pool) / len(pool) for q in questions) / len(questions)
    answer = random_answerer(pool, seed=5)
    accuracies = []
    for _ in range(20):
        scores = [score(q, answer(q)) for q in questions]
        accuracies.append(sum(s.is_correct for s in scores) / len(scores))
    mean = sum(accuracies) / len(accuracies)
    assert chance < 0.15
    assert abs(mean - chance) < 0.03


def _chain() -> Question:
    return Question(
        id="s/q01",
        family="warehouse_board",
        stream_id="s",
        type=QuestionType.CHAIN3,
        text="?",
        expected="8K2Q",
        ranges=((10.0, 20.0), (300.0, 312.0), (100.0, 110.0)),
    )


def test_a_chain_is_grounded_only_when_every_hop_is_cited():
    question = _chain()
    every_hop = tuple(CitedRange("s", start, end) for start, end in question.ranges)
    assert score(question, Reply("8K2Q", evidence=every_hop)).is_grounded
    assert not score(question, Reply("8K2Q", evidence=every_hop[:2])).is_grounded
    elsewhere = tuple(CitedRange("other", start, end) for start, end in question.ranges)
    assert not score(question, Reply("8K2Q", evidence=elsewhere)).is_grounded
    # Right answer and ungrounded are judged apart.
    assert score(question, Reply("the code was 8K2Q", evidence=every_hop[:1])).is_correct


def test_a_count_is_grounded_by_any_occurrence():
    question = Question("s/q", "f", "s", QuestionType.COUNT, "?", "3", ((10, 20), (50, 60), (90, 99)), True)
    assert score(question, Reply("3 times", evidence=(CitedRange("s", 52, 56),))).is_grounded
    assert not score(question, Reply("3 times", evidence=(CitedRange("s", 30, 40),))).is_grounded
    assert score(question, Reply("three times")).is_correct
    assert not score(question, Reply("4 times")).is_correct


def test_a_value_answer_that_also_gives_a_distractor_is_wrong():
    question = Question("s/q", "f", "s", QuestionType.SINGLE, "?", "5531", ((1, 9),), confusers=("5513",))
    assert score(question, Reply("LOCKER 42 CODE 5531")).is_correct
    assert not score(question, Reply("5531 or 5513")).is_correct
    assert not score(question, Reply("5513")).is_correct
    assert not score(question, Reply(ABSTAIN)).is_correct


def test_ocr_confusions_are_wrong_but_counted_apart():
    question = Question("s/q", "f", "s", QuestionType.SINGLE, "?", "O5IB", ((1, 9),))
    misread = score(question, Reply("0518"))
    assert not misread.is_correct
    assert misread.is_correct_ocr_folded
    assert says("K7 Q2", "K7Q2") and says("price 3.49 today", "3.49") and not says("13.49", "3.49")
    assert says("SEATS585", "585") and says("SEATS585", "585", fold=True)  # a letter glued on stays a letter
    assert says("OFFER CODE SOTK", "S0TK", fold=True) and not says("OFFER CODE SOTK", "S0TK")


@pytest.mark.parametrize(
    ("reply", "is_right"),
    [
        ("4:31-4:45", True),
        ("from 4:29 to 4:33", True),
        ("at 4:40", True),
        ("0:00-10:00", False),  # overlaps, but says nothing
        ("5:10-5:20", False),
        ("sometime in the video", False),
    ],
)
def test_when_answers_must_overlap_and_be_tight(reply, is_right):
    question = Question("s/q", "f", "s", QuestionType.WHEN, "?", "4:31-4:45", ((271.0, 285.0),))
    assert score(question, Reply(reply)).is_correct is is_right


def test_durations_and_numbers_are_read_as_people_write_them():
    assert parse_duration_s("about 45 seconds") == 45
    assert parse_duration_s("1 minute 20 seconds") == 80
    assert parse_duration_s("1:20") == 80
    assert parse_duration_s("no idea") is None
    assert first_number("It appeared three times") == 3
    duration = Question("s/q", "f", "s", QuestionType.DURATION, "?", "80", ((0, 80),))
    assert score(duration, Reply("about 70 s")).is_correct
    assert not score(duration, Reply("40 seconds")).is_correct


def test_absent_questions_want_an_abstention_and_failed_calls_are_wrong():
    question = Question("s/q", "f", "s", QuestionType.ABSENT, "?", "")
    assert score(question, Reply("I have not seen anything about that yet.")).is_correct
    assert score(question, Reply("")).is_correct
    assert not score(question, Reply("BAY 19 WEIGHT 4021")).is_correct
    assert not score(question, Reply("", error="Unavailable: down")).is_correct
    assert is_abstention("I couldn't find that") and not is_abstention("8K2Q")


def test_calibration_and_wilson_intervals():
    question = Question("s/q", "f", "s", QuestionType.SINGLE, "?", "X1", ((0, 1),))
    scores = [score(question, Reply("X1", confidence=0.9)), score(question, Reply("Y2", confidence=0.9))]
    rows, ece = calibration(scores)
    assert rows[-1]["answers"] == 2 and rows[-1]["accuracy"] == 0.5
    assert ece == pytest.approx(0.4)
    low, high = wilson_interval(8, 12)
    assert 0.35 < low < 0.4 and 0.86 < high < 0.9
    assert wilson_interval(0, 0) == (0.0, 1.0)


def test_a_report_can_be_rescored_from_its_json(episodes, tmp_path):
    from longwatch_cli.eval.runner import EvalPlan, rescore, write_report

    scores = [score(q, perfect(q)) for q in _questions(episodes)]
    plan = EvalPlan(seed=11, families=("lab_readout",), haystacks_s=(600.0,))
    write_report(scores, plan, "longwatch eval", tmp_path, {})
    before = json.loads((tmp_path / "eval.json").read_text())["summary"]
    rescore(tmp_path)
    after = json.loads((tmp_path / "eval.json").read_text())
    assert after["summary"] == before
    assert "rescored" in after["command"] and "| questions | n | correct |" in (tmp_path / "eval.md").read_text()
