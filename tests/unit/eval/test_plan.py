"""The evaluation streams: deterministic, with the structure the questions promise."""

from __future__ import annotations

import av
import pytest

from longwatch_cli.eval.episode import Episode, QuestionType, Slot
from longwatch_cli.eval.families import FAMILIES, get_family
from longwatch_cli.eval.plan import CELL_S, Mix
from longwatch_cli.eval.questions import plan_episode
from longwatch_cli.eval.render import write_video
from longwatch_cli.eval.runner import FULL_LONG_MIX

SEEDS = (1, 2, 3, 101)


def _episodes():
    for index, family in enumerate(FAMILIES.values()):
        for seed in SEEDS:
            yield plan_episode(family, seed, 600, Mix(chain2=1 - index % 2, chain3=index % 2))


@pytest.fixture(scope="module")
def episodes() -> list[Episode]:
    return list(_episodes())


def test_the_same_seed_gives_the_same_episode_and_another_seed_another():
    family = get_family("lab_readout")
    assert plan_episode(family, 4, 600, Mix()) == plan_episode(family, 4, 600, Mix())
    assert plan_episode(family, 4, 600, Mix()).shows != plan_episode(family, 5, 600, Mix()).shows


def test_the_ground_truth_survives_json(episodes):
    for episode in episodes:
        assert Episode.from_json(episode.to_json()) == episode


def test_main_display_messages_never_overlap(episodes):
    for episode in episodes:
        main = sorted((s for s in episode.shows if s.slot is Slot.MAIN), key=lambda s: s.start_s)
        assert all(a.end_s <= b.start_s for a, b in zip(main, main[1:], strict=False))
        assert all(0 <= s.start_s < s.end_s <= episode.duration_s for s in episode.shows)


def test_a_value_question_has_one_answer_on_screen(episodes):
    for episode in episodes:
        for q in episode.questions:
            if q.type in (QuestionType.SINGLE, QuestionType.WHEN, QuestionType.CHAIN2, QuestionType.CHAIN3):
                final = [s for s in episode.shows if s.time_range == q.ranges[-1]]
                same_pair = {(s.fact.subject, s.fact.relation) for s in final}
                holders = [s for s in episode.shows if (s.fact.subject, s.fact.relation) in same_pair]
                assert len(holders) == 1, q
            assert q.expected not in q.confusers


def test_absent_subjects_never_appear(episodes):
    for episode in episodes:
        shown = " ".join(f" {s.fact.subject} {s.fact.value} " for s in episode.shows)
        absent = [q for q in episode.questions if q.type is QuestionType.ABSENT]
        assert absent
        for q in absent:
            assert q.subject and f" {q.subject} " not in shown


def test_chain_hops_are_minutes_apart_and_a_count_is_exact(episodes):
    for episode in episodes:
        for q in episode.questions:
            if q.type in (QuestionType.CHAIN2, QuestionType.CHAIN3):
                starts = sorted(start for start, _ in q.ranges)
                assert len(starts) == (2 if q.type is QuestionType.CHAIN2 else 3)
                assert all(b - a >= CELL_S for a, b in zip(starts, starts[1:], strict=False))
            if q.type is QuestionType.COUNT:
                assert len(q.ranges) == int(q.expected)


def test_a_between_window_holds_only_its_message(episodes):
    for episode in episodes:
        for q in episode.questions:
            if q.type is QuestionType.BETWEEN:
                ((start, end),) = q.ranges
                window = (start // CELL_S * CELL_S, start // CELL_S * CELL_S + CELL_S)
                inside = [s for s in episode.shows if s.start_s < window[1] and s.end_s > window[0]]
                assert [s.fact.value for s in inside] == [q.expected]


def test_a_long_haystack_plans_every_question_kind():
    episode = plan_episode(get_family("train_platform"), 9, 10_000, FULL_LONG_MIX)
    kinds = {q.type for q in episode.questions}
    assert kinds == set(QuestionType)
    assert any(q.is_hard for q in episode.questions)


def test_the_video_has_one_frame_per_second(tmp_path):
    episode = plan_episode(get_family("shop_counter"), 1, 120, Mix(single=1, chain2=0, after=0, count=0, duration=0))
    video = write_video(episode, tmp_path / episode.video_name)
    with av.open(str(video)) as container:
        frames = sum(1 for _ in container.decode(video=0))
    assert frames == 120
