"""Plans an evaluation episode from a seed: which messages show when, and the questions about them.

The stream is cut into cells of CELL_S seconds. A message on the main display owns one cell (or a
run of cells for the duration questions), so questions about time windows have one right answer;
the side panel shows distractors, sometimes in the same cell as a needle ("another code on the same
screen"). Distractors share words and numbers with the needles: the same subject with another
attribute, the same number under another label, a number that shares its digits. Chain hops are
minutes apart and out of order. The same seed gives the same episode.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from longwatch_cli.eval.episode import Episode, Fact, Hardness, Question, QuestionType, Show, Slot
from longwatch_cli.eval.families import Attribute, Family, ValueKind

CELL_S = 30.0  # seconds of stream a main-display message owns
CHAIN_GAP_CELLS = 4  # hops of a chain at least this many cells (2 minutes) apart, where the stream allows
HARD_FRACTION = 0.3  # needles drawn small, faint, blurred or slanted
WORDS_KEPT = 6  # word values kept for the distractors of word needles: no new attribute draws below this
_CODE_CHARS = "ABCDEFGHJKLMNPQRTUVWXY34679"
_CONFUSABLE = "0O1I5S8B2Z"  # OCR's usual mistakes; half of a code's characters come from here


@dataclass(frozen=True)
class Mix:
    """Questions per episode, by type."""

    single: int = 3
    chain2: int = 1
    chain3: int = 0
    when: int = 1
    between: int = 1
    after: int = 1
    count: int = 1
    duration: int = 1
    absent: int = 2


class PlanError(ValueError):
    """The stream is too short for the questions asked of it."""


class Planner:
    def __init__(self, family: Family, seed: int, duration_s: float, stream_id: str) -> None:
        self.family, self.seed, self.stream_id = family, seed, stream_id
        self.rng = random.Random(f"{family.name}/{seed}/{duration_s}")
        self.duration_s = duration_s
        self.cells = int(duration_s // CELL_S)
        self.free = list(range(self.cells))
        self.side_free = set(range(self.cells))
        self.shows: list[Show] = []
        self.questions: list[Question] = []
        self.used_values: set[str] = set()
        self.used_numbers: dict[str, set[int]] = {label: set() for label, _ in family.subjects}
        self.taken_pairs: set[tuple[str, str]] = set()  # (subject, relation) a question asks about

    # ---- values and facts

    def value(self, kind: ValueKind) -> str:
        for _ in range(200):
            candidate = self._draw_value(kind)
            if candidate not in self.used_values:
                self.used_values.add(candidate)
                return candidate
        raise PlanError(f"ran out of distinct {kind.value} values")

    def _draw_value(self, kind: ValueKind) -> str:
        rng = self.rng
        if kind is ValueKind.CODE:
            chars = [rng.choice(_CONFUSABLE if index % 2 else _CODE_CHARS) for index in range(4)]
            rng.shuffle(chars)
            return "".join(chars)
        if kind is ValueKind.NUMBER:
            return str(rng.randint(100, 9999))
        if kind is ValueKind.PRICE:
            return f"{rng.randint(1, 99)}.{rng.randint(0, 99):02d}"
        return rng.choice(self.family.words)

    def subject(self, label: str | None = None, number: int | None = None) -> str:
        label = label or self.rng.choice(self.family.subjects)[0]
        used = self.used_numbers[label]
        if number is None or number in used:
            number = self.rng.choice([n for n in range(2, 100) if n not in used])
        used.add(number)
        return f"{label} {number}"

    def attribute(self, *, excluding: str = "") -> Attribute:
        choices = [a for a in self.family.attributes if a.label != excluding]
        words_left = len(set(self.family.words) - self.used_values)
        if words_left < WORDS_KEPT:  # word values are few: keep them for the needles that have them
            choices = [a for a in choices if a.kind is not ValueKind.WORD] or choices
        return self.rng.choice(choices)

    def fresh_fact(self, subject: str | None = None, excluding: str = "") -> Fact:
        attribute = self.attribute(excluding=excluding)
        return Fact(subject or self.subject(), attribute.label, self.value(attribute.kind))

    # ---- time

    def take_cells(self, count: int = 1, *, consecutive: bool = False, gap: int = 1, quiet: bool = False) -> list[int]:
        """Free cells for the main display: `count` in a run, or pairwise at least `gap` apart. `quiet` cells
        also have a free side panel, which stays empty: nothing else is on screen while they show."""
        pool = [c for c in self.free if c in self.side_free] if quiet else list(self.free)
        if consecutive:
            starts = [c for c in pool if all(c + i in pool for i in range(count))]
            if not starts:
                raise PlanError(f"no {count} free consecutive cells; make the stream longer")
            first = self.rng.choice(starts)
            cells = list(range(first, first + count))
        else:
            cells = self._spread(pool, count, gap)
        for cell in cells:
            self.free.remove(cell)
            if quiet:
                self.side_free.discard(cell)
        return cells

    def _spread(self, pool: list[int], count: int, gap: int) -> list[int]:
        for wanted_gap in range(gap, 0, -1):
            for _ in range(200):
                cells = self.rng.sample(pool, count) if len(pool) >= count else []
                if cells and all(abs(a - b) >= wanted_gap for a in cells for b in cells if a != b):
                    return cells
        raise PlanError(f"no {count} free cells left; make the stream longer or ask fewer questions")

    def show(self, fact: Fact, cell: int, last_cell: int | None = None, slot: Slot = Slot.MAIN, hard: bool = False):
        """Puts `fact` on screen within `cell` (through `last_cell` for a long message)."""
        rng = self.rng
        start = cell * CELL_S + rng.uniform(1.0, 6.0)
        end = (last_cell * CELL_S + rng.uniform(12.0, 26.0)) if last_cell else start + rng.uniform(8.0, 16.0)
        hardness = rng.choice(list(Hardness)[1:]) if hard else Hardness.PLAIN
        placed = Show(fact, round(start, 1), round(end, 1), slot, hardness)
        self.shows.append(placed)
        if slot is Slot.SIDE:
            self.side_free.discard(cell)
        return placed

    def is_hard(self) -> bool:
        return self.rng.random() < HARD_FRACTION

    # ---- questions

    def ask(self, kind: QuestionType, text: str, expected: str, shows: list[Show], **extra: object) -> None:
        number = len(self.questions) + 1
        self.questions.append(
            Question(
                id=f"{self.stream_id}/q{number:02d}",
                family=self.family.name,
                stream_id=self.stream_id,
                type=kind,
                text=text,
                expected=expected,
                ranges=tuple(show.time_range for show in shows),
                is_hard=any(show.hardness is not Hardness.PLAIN for show in shows),
                haystack_s=self.duration_s,
                **extra,  # type: ignore[arg-type]
            )
        )

    def episode(self, fps: float) -> Episode:
        shows = tuple(sorted(self.shows, key=lambda show: (show.start_s, show.slot)))
        return Episode(self.stream_id, self.family.name, self.seed, self.duration_s, fps, shows, tuple(self.questions))
