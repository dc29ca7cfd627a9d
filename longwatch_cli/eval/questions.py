"""The question kinds, each placing its needles on a Planner and asking about them.

episode = plan_episode(get_family("warehouse_board"), seed=3, duration_s=600, mix=Mix())
"""

from __future__ import annotations

from collections.abc import Callable

from longwatch.times import format_range_s
from longwatch_cli.eval import wording
from longwatch_cli.eval.episode import Episode, Fact, QuestionType, Slot
from longwatch_cli.eval.families import Family
from longwatch_cli.eval.plan import CELL_S, CHAIN_GAP_CELLS, Mix, Planner

FILL_FRACTION = 0.5  # free main cells that get an unrelated message: the haystack is not empty
SIDE_FILL_FRACTION = 0.3


def _distractors(plan: Planner, fact: Fact) -> list[Fact]:
    """Messages that share the needle's subject, its number or its digits, with other values."""
    label, _, number_text = fact.subject.rpartition(" ")
    number = int(number_text)
    relation = next(a for a in plan.family.attributes if a.label == fact.relation)
    other_labels = [name for name, _ in plan.family.subjects if name != label]
    digits = int(number_text[::-1]) if number >= 10 and number_text[::-1] != number_text else number + 10
    return [
        plan.fresh_fact(fact.subject, excluding=fact.relation),  # same subject, another attribute
        Fact(plan.subject(plan.rng.choice(other_labels), number), fact.relation, plan.value(relation.kind)),
        Fact(plan.subject(label, digits), fact.relation, plan.value(relation.kind)),  # digits shared
    ]


def _show_anywhere(plan: Planner, fact: Fact) -> None:
    """On the side panel of a cell whose panel is free, else on the main display of a free cell."""
    if plan.side_free:
        plan.show(fact, plan.rng.choice(sorted(plan.side_free)), slot=Slot.SIDE)
    else:
        plan.show(fact, plan.take_cells()[0])


def _needle(plan: Planner) -> Fact:
    fact = plan.fresh_fact()
    plan.taken_pairs.add((fact.subject, fact.relation))
    return fact


def add_single(plan: Planner) -> None:
    fact = _needle(plan)
    (cell,) = plan.take_cells()
    shown = plan.show(fact, cell, hard=plan.is_hard())
    distractors = plan.rng.sample(_distractors(plan, fact), 2)
    if cell in plan.side_free:  # another message on the same screen at the same time
        plan.show(distractors[0], cell, slot=Slot.SIDE)
    else:
        _show_anywhere(plan, distractors[0])
    _show_anywhere(plan, distractors[1])
    confusers = tuple(d.value for d in distractors)
    plan.ask(QuestionType.SINGLE, wording.single(plan.rng, plan.family, fact), fact.value, [shown], confusers=confusers)


def _add_chain(plan: Planner, hops: int) -> None:
    labels = [name for name, _ in plan.rng.sample(plan.family.subjects, hops)]
    subjects = [plan.subject(label) for label in labels]
    links = plan.rng.sample(plan.family.links, hops - 1)
    facts = [Fact(subjects[i], links[i].shown, subjects[i + 1]) for i in range(hops - 1)]
    facts.append(plan.fresh_fact(subjects[-1]))
    cells = plan.take_cells(hops, gap=CHAIN_GAP_CELLS)  # random order: a later hop may come first
    shows = [plan.show(fact, cell, hard=plan.is_hard()) for fact, cell in zip(facts, cells, strict=True)]
    kind = QuestionType.CHAIN2 if hops == 2 else QuestionType.CHAIN3
    plan.ask(kind, wording.chain(plan.rng, plan.family, facts), facts[-1].value, shows)


def add_chain2(plan: Planner) -> None:
    _add_chain(plan, 2)


def add_chain3(plan: Planner) -> None:
    _add_chain(plan, 3)


def add_when(plan: Planner) -> None:
    fact = _needle(plan)
    shown = plan.show(fact, plan.take_cells()[0])
    plan.ask(QuestionType.WHEN, wording.when(plan.rng, plan.family, fact), format_range_s(*shown.time_range), [shown])


def add_between(plan: Planner) -> None:
    fact = _needle(plan)
    (cell,) = plan.take_cells(quiet=True)  # nothing else on screen in the window
    shown = plan.show(fact, cell)
    text = wording.between(plan.rng, plan.family, cell * CELL_S, (cell + 1) * CELL_S)
    plan.ask(QuestionType.BETWEEN, text, fact.value, [shown])


def add_after(plan: Planner) -> None:
    first, following = _needle(plan), plan.fresh_fact()
    cell, next_cell = plan.take_cells(2, consecutive=True, quiet=True)
    plan.show(first, cell)
    shown = plan.show(following, next_cell)
    text = wording.after(plan.rng, plan.family, first)
    plan.ask(QuestionType.AFTER, text, following.value, [shown], confusers=(first.value,))


def add_count(plan: Planner) -> None:
    fact = _needle(plan)
    times = plan.rng.randint(2, 4)
    shows = [plan.show(fact, cell) for cell in plan.take_cells(times, gap=2)]
    plan.ask(QuestionType.COUNT, wording.count(plan.rng, plan.family, fact), str(times), shows, is_grounded_by_any=True)


def add_duration(plan: Planner) -> None:
    fact = _needle(plan)
    cells = plan.take_cells(plan.rng.randint(1, 3), consecutive=True)
    shown = plan.show(fact, cells[0], cells[-1] if len(cells) > 1 else None)
    seconds = round(shown.end_s - shown.start_s)
    plan.ask(QuestionType.DURATION, wording.duration(plan.rng, plan.family, fact), str(seconds), [shown])


def add_absent(plan: Planner) -> None:
    """A subject of a label the stream shows, with a number it never shows, asked like a single needle."""
    label = plan.rng.choice(plan.family.subjects)[0]
    attribute = plan.attribute()
    fact = Fact(plan.subject(label), attribute.label, "")
    plan.ask(QuestionType.ABSENT, wording.absent(plan.rng, plan.family, fact), "", [], subject=fact.subject)


def _fill(plan: Planner) -> None:
    """Unrelated messages in part of what is left: the haystack a needle hides in."""
    for cell in list(plan.free):
        if plan.rng.random() < FILL_FRACTION:
            plan.free.remove(cell)
            plan.show(plan.fresh_fact(), cell)
    for cell in sorted(plan.side_free):
        if plan.rng.random() < SIDE_FILL_FRACTION:
            plan.show(plan.fresh_fact(), cell, slot=Slot.SIDE)


_ADDERS: dict[str, Callable[[Planner], None]] = {
    "chain3": add_chain3,  # the widest first, while spread-out cells are still free
    "chain2": add_chain2,
    "duration": add_duration,
    "after": add_after,
    "count": add_count,
    "single": add_single,
    "when": add_when,
    "between": add_between,
    "absent": add_absent,
}


def plan_episode(family: Family, seed: int, duration_s: float, mix: Mix, fps: float = 1.0) -> Episode:
    stream_id = f"eval-{family.name.replace('_', '-')}-{int(duration_s)}s-seed{seed}"
    plan = Planner(family, seed, duration_s, stream_id)
    for kind, add in _ADDERS.items():
        for _ in range(getattr(mix, kind)):
            add(plan)
    _fill(plan)
    plan.questions.sort(key=lambda q: q.id)
    return plan.episode(fps)
