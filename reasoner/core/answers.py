"""Replies formed from the evidence's structure, one way per kind of question (question.Kind).

Every reply cites what it was read from. Confidence comes from that evidence: how much of what was asked
the line matched, whether the clips agree on the value, how many hops it took, whether the search ended
early. Nothing relevant enough gives an honest "not seen", citing the best candidates.
"""

from __future__ import annotations

import functools
import logging
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from longwatch.errors import LongwatchError
from longwatch.times import format_range_s, format_time_s
from longwatch.types import AnswerMethod, Evidence, SearchHit, TimeRange
from reasoner.core.answerer import Answerer
from reasoner.core.explorer import Exploration, Explorer, Target, Trace, as_hit, time_left_s
from reasoner.core.question import FUNCTION_WORDS, Entity, Kind, QuestionPlan, plan_question
from reasoner.core.records import (
    Reading,
    caption_and_lines,
    holds_text,
    line_key,
    lines_of,
    read_line,
    same_word,
)
from reasoner.core.retriever import Retriever
from reasoner.core.sightings import Sighting, group, widen
from reasoner.core.types import Budget, ReasonerLimits

logger = logging.getLogger(__name__)

NOT_SEEN = "I have not seen"
_MARGIN_S = 30.0  # timeline read each side of a span to tell its own text from what is always on screen
_NEXT_LOOK_S = 120.0  # how far past a sighting "what came next" is looked for
_MAX_LISTED = 3  # lines a "what was shown" reply lists
_LEXICAL_FLOOR = 1.0  # a question naming nothing needs a clip sharing at least one asked word, or ...
_SIMILARITY_FLOOR = 0.35  # ... memory's similarity this high, else it has not been seen
_MAX_IMAGES = 4  # keyframes shown to a vision-language model: one per clip of its prompt
_EVENT_SHARE = 0.6  # a clip shows an event named in words when it holds this share of them
_CONTEXT_SLACK = 0.5  # relevance a clip of a sighting may lack: two context words (0.25 each), not an asked word


@dataclass
class AskState:
    """One Ask as it is answered: the plan, where to look, and what the search has read."""

    plan: QuestionPlan | None
    stream_ids: tuple[str, ...]
    span: TimeRange
    top_level: int
    budget: Budget
    trace: Trace
    now: datetime = field(default_factory=lambda: datetime.now(UTC))  # what "today" means to time words
    nodes_read: int = 0
    partial: bool = False

    @classmethod
    def empty(cls, budget: Budget, trace: Trace, partial: bool = False) -> AskState:
        return cls(None, (), TimeRange(), 0, budget, trace, partial=partial)

    def took(self, exploration: Exploration) -> Exploration:
        self.nodes_read += exploration.nodes_read
        self.partial = self.partial or exploration.partial
        return exploration


@dataclass(frozen=True)
class Cited:
    hit: SearchHit
    hop: int = 0
    end_s: float | None = None  # a sighting's end, when it runs past the clip cited


@dataclass(frozen=True)
class Reply:
    text: str
    method: AnswerMethod
    confidence: float
    cited: tuple[Cited, ...] = ()
    hops: int = 0
    partial: bool = False
    fallback: str = ""
    candidates: tuple[SearchHit, ...] = field(default_factory=tuple)  # shown after the cited, best first

    @classmethod
    def not_seen(cls, text: str, candidates: Sequence[SearchHit] = (), confidence: float = 0.0) -> Reply:
        return cls(text, AnswerMethod.NOT_SEEN, confidence, candidates=tuple(candidates))

    @property
    def evidence(self) -> list[Evidence]:
        shown: dict[str, Evidence] = {}
        for cited in self.cited:
            shown.setdefault(cited.hit.clip_id, Evidence.of_hit(cited.hit, cited.hop, cited.end_s))
        for hit in self.candidates:
            shown.setdefault(hit.clip_id, Evidence.of_hit(hit))
        return list(shown.values())


def _cite(sighting: Sighting, hop: int = 0) -> Cited:
    return Cited(sighting.clips[0], hop, sighting.end_s)


class Answers:
    def __init__(self, retriever: Retriever, explorer: Explorer, answerer: Answerer, limits: ReasonerLimits) -> None:
        self._retriever = retriever
        self._explorer = explorer
        self._answerer = answerer
        self._limits = limits

    async def answer(self, state: AskState) -> Reply:
        plan = state.plan
        assert plan is not None
        if (plan.time.after_event or plan.time.before_event) and not _names_only_the_event(plan, state):
            return await self._around_event(state)
        if not plan.names_something and plan.kind is not Kind.CONTENT:
            return await self._described(state)
        handlers: dict[Kind, Callable] = {
            Kind.VALUE: self._value,
            Kind.YES_NO: self._yes_no,
            Kind.WHEN: self._when,
            Kind.COUNT: self._count,
            Kind.DURATION: self._duration,
            Kind.NEXT: self._next,
            Kind.CONTENT: self._content,
        }
        return await handlers[plan.kind](state)

    async def _around_event(self, state: AskState) -> Reply:
        """ "... after the truck left", "... before the van arrived": the event is found first, then the
        question without it is answered over the time after (or before) the event, which is cited too."""
        plan = state.plan
        assert plan is not None
        is_after = bool(plan.time.after_event)
        event = plan.time.after_event or plan.time.before_event
        moment, found = await self._find_event(state, event)
        if moment is None:
            return _unseen_what(f"{event}, which the question's time depends on", found)
        state.trace.step("event", f"{event!r}: {moment.describe()}", moment.clips[0])
        if is_after and plan.kind is Kind.NEXT and not plan.names_something:
            return await self._after(state, moment)  # "what was on the board after the truck left?"
        if not is_after and moment.start_s <= 0:
            return Reply.not_seen(f"{NOT_SEEN} anything before {event}: the stream starts with it.", moment.clips, 0.7)
        bound = TimeRange(start_s=moment.end_s) if is_after else TimeRange(end_s=moment.start_s)
        rest = plan_question(plan.time.remainder, state.now)
        span = state.span.narrowed(bound)
        inner = AskState(rest, state.stream_ids, span, state.top_level, state.budget, state.trace, state.now)
        reply = await self.answer(inner)
        state.nodes_read += inner.nodes_read
        state.partial = state.partial or inner.partial
        return replace(reply, cited=(*reply.cited, _cite(moment)))

    async def _find_event(self, state: AskState, event: str) -> tuple[Sighting | None, Exploration]:
        """The clips that show an event named in words ("the truck left"): most of its words in their text."""
        words = [word for word in re.findall(r"[a-z0-9]+", event.lower()) if word not in FUNCTION_WORDS]
        if not words:
            return None, Exploration()

        def relevance(text: str) -> float:
            tokens = re.findall(r"[a-z0-9]+", text.lower())
            share = sum(any(same_word(token, word) for token in tokens) for word in words) / len(words)
            return share if share >= _EVENT_SHARE else 0.0

        found = await self._find(state, Target(event, relevance), lambda f: bool(f.relevant))
        # Words or memory's similarity ("the truck left" is "a red truck leaves the dock" to an embedding).
        similar = [hit for hit in _by_score(found) if hit.level == 0 and hit.score >= _SIMILARITY_FLOOR]
        clips = found.clips() or similar
        return (group(clips[:1])[0] if clips else None), found

    # --- finding what the question names -------------------------------------------------------------

    def _target(self, plan: QuestionPlan, anchor: Entity | None) -> Target:
        """A search for `anchor` (or, without one, for the quoted lines and codes) with the asked words."""
        if anchor is not None:
            query = " ".join([anchor.text, *sorted(plan.asked), *sorted(plan.context)])

            def relevance(text: str) -> float:
                readings = _readings_of_text(text, anchor, plan)
                return max((1.0 + r.asked_matched + 0.25 * r.context_matched for r in readings), default=0.0)

            def resembles(text: str) -> bool:  # a line with the label or the number: "LOCKER 41", "GATE 42"
                return any(
                    anchor.number in line.tokens or any(same_word(token, anchor.label) for token in line.tokens)
                    for line in lines_of(SearchHit("", "", 0.0, 0.0, text, 0.0))
                )

            return Target(query, relevance, resembles)
        phrases = [*plan.quoted, *plan.codes]
        query = " ".join([*phrases, *sorted(plan.asked)])

        def phrase_relevance(text: str) -> float:
            hit = SearchHit("", "", 0.0, 0.0, text, 0.0)
            return float(sum(holds_text(hit, phrase) for phrase in phrases))

        return Target(query, phrase_relevance)

    async def _find(
        self, state: AskState, target: Target, is_enough: Callable[[Exploration], bool], every_sighting: bool = False
    ) -> Exploration:
        return state.took(
            await self._explorer.explore(
                target,
                state.stream_ids,
                state.top_level,
                state.span,
                state.budget,
                state.trace,
                is_enough,
                every_sighting,
            )
        )

    async def _sightings(self, state: AskState, asked_first: bool = False) -> tuple[list[Sighting], Exploration]:
        """Every separate sighting of what the question names (its first numbered thing, else its quoted
        lines and codes), each widened along the timeline; in time order, or those whose lines match more
        of what is asked first."""
        plan = state.plan
        assert plan is not None
        anchor = plan.entities[0] if plan.entities and not plan.quoted else None
        target = self._target(plan, anchor)
        found = await self._find(state, target, lambda _: False, every_sighting=True)
        # The clips that match what is asked as well as the best do ("TRAIN 7 ARRIVING", not "TRAIN 7
        # DEPARTED", for "after train 7 arriving"); a context word OCR lost does not split a sighting.
        floor = max((relevance for relevance, _ in found.relevant), default=0.0) - _CONTEXT_SLACK

        def shows(clip: SearchHit) -> bool:
            relevance = target.relevance(clip.text)
            return relevance > 0 and relevance >= floor

        sightings = group(clip for clip in found.clips() if shows(clip))

        widened: list[Sighting] = []
        for sighting in sightings:
            if state.budget.remaining_s() < 0.1:
                state.partial = True
                widened.append(sighting)
                continue
            grown, read = await widen(sighting, shows, self._retriever, state.budget)
            state.nodes_read += read
            widened.append(grown)
        merged = _merge(widened)
        return (_asked_first(merged, anchor, plan) if asked_first else merged), found

    # --- the kinds ----------------------------------------------------------------------------------

    async def _value(self, state: AskState) -> Reply:
        plan = state.plan
        assert plan is not None
        if not plan.entities:
            return await self._phrase_value(state)
        anchor, visited, chain = plan.entities[0], {plan.entities[0]}, []
        pointing: set[str] = set()  # the lines that pointed: never the answer of the hop they point to
        for hop in range(self._limits.max_hops + 1):
            readings, found = await self._read(state, anchor)
            readings = [r for r in readings if line_key(r.line.text) not in pointing]
            if not readings:
                return self._not_found(anchor, found, chain, hop)
            pointer = _pointer(readings, visited)
            if pointer is not None and hop < self._limits.max_hops:
                reading, anchor = pointer
                chain.append(Cited(reading.line.hit, hop))
                pointing.add(line_key(reading.line.text))
                visited.add(anchor)
                state.trace.step(
                    "hop", f"{reading.line.text!r} points to {anchor.text}: searching for it", reading.line.hit
                )
                continue
            best, agreement = _best_reading(readings)
            if not best.asked_matched and plan.asked:
                return await self._unlabelled(state, readings, chain, hop, found)
            others = _in_other_streams(readings, best)
            cited = (*chain, Cited(best.line.hit, hop), *(Cited(r.line.hit, hop) for r in others))
            quality = 0.9 if best.asked_matched >= len(plan.asked) else 0.75
            confidence = quality * (0.6 + 0.4 * agreement) * (0.95**hop) * (0.8 if others else 1.0)
            text = best.line.text if plan.wants_text else best.value
            if others:  # the same thing named in several streams, with other values: each, with its stream
                text = "; ".join(f"{r.value} in {r.line.hit.stream_id}" for r in (best, *others))
            return Reply(text, AnswerMethod.VALUE, confidence, cited, hops=hop, candidates=tuple(found.clips()[:3]))
        raise AssertionError("the hop loop always returns")

    async def _unlabelled(
        self, state: AskState, readings: Sequence[Reading], chain: list[Cited], hop: int, found: Exploration
    ) -> Reply:
        """The thing was found, but no line labels what was asked ("PLATFORM 95 TO BANGOR" for its
        destination): the LLM judges which line's words answer; without it, every line naming the thing."""
        assert state.plan is not None
        options: dict[str, Reading] = {}
        for reading in readings:
            options.setdefault(line_key(reading.value), reading)
        chosen = list(options.values())
        if len(chosen) > 1:
            index, why = await self._answerer.choose(
                state.plan.text, [r.value for r in chosen], [r.line.hit for r in chosen], state.budget
            )
            if index is not None:
                pick = chosen[index]
                cited = (*chain, Cited(pick.line.hit, hop))
                confidence = 0.5 * (0.95**hop)
                return Reply(pick.value, AnswerMethod.SCORED, confidence, cited, hops=hop)
            state.trace.step("fallback", why)
        else:
            why = ""
        text = " | ".join(_distinct_lines(chosen)[:_MAX_LISTED])
        cited = (*chain, *(Cited(r.line.hit, hop) for r in chosen[:_MAX_LISTED]))
        return Reply(text, AnswerMethod.VALUE, 0.4 * (0.95**hop), cited, hops=hop, fallback=why)

    async def _read(self, state: AskState, anchor: Entity) -> tuple[list[Reading], Exploration]:
        assert state.plan is not None
        plan = state.plan

        def is_enough(found: Exploration) -> bool:
            # One line naming the thing and what is asked of it; memory's clip search, which seeds the loop,
            # brings the other clips that show it (to vote on OCR's reading) along with it.
            readings = [r for clip in found.clips() for r in _readings(clip, anchor, plan)]
            return any(r.asked_matched or not plan.asked for r in readings)

        found = await self._find(state, self._target(plan, anchor), is_enough)
        return [r for clip in found.clips() for r in _readings(clip, anchor, plan)], found

    def _not_found(self, anchor: Entity, found: Exploration, chain: list[Cited], hop: int) -> Reply:
        what = f"{anchor.text.lower()}" if hop == 0 else f"{anchor.text.lower()}, which the evidence pointed to"
        confidence = 0.5 if found.partial else 0.85
        return Reply(
            _not_seen_text(what, found),
            AnswerMethod.NOT_SEEN,
            confidence,
            tuple(chain),
            hops=hop,
            candidates=tuple(hit for hit in _by_score(found) if hit.level == 0)[:3],
        )

    async def _phrase_value(self, state: AskState) -> Reply:
        plan = state.plan
        assert plan is not None
        sightings, found = await self._sightings(state)
        if not sightings:
            return _unseen(plan, found)
        best = sightings[0]
        lines = [line for clip in best.clips for line in caption_and_lines(clip.text)[1]]
        text = next((line for line in lines if any(phrase.lower() in line.lower() for phrase in plan.codes)), lines[0])
        return Reply(text, AnswerMethod.VALUE, 0.7, (_cite(best),))

    async def _yes_no(self, state: AskState) -> Reply:
        plan = state.plan
        assert plan is not None
        sightings, found = await self._sightings(state)
        if not sightings:
            return Reply(
                f"No: {_not_seen_text(_quote(plan), found)}", AnswerMethod.YES_NO, 0.5 if found.partial else 0.75
            )
        listed = "; ".join(s.describe() for s in sightings[:_MAX_LISTED])
        return Reply(f"Yes: {listed}.", AnswerMethod.YES_NO, 0.8, tuple(_cite(s) for s in sightings))

    async def _when(self, state: AskState) -> Reply:
        plan = state.plan
        assert plan is not None
        sightings, found = await self._sightings(state, asked_first=True)
        if not sightings:
            return _unseen(plan, found)
        first, *others = sightings
        text = first.describe()
        if others:
            text += "; also " + "; ".join(s.describe() for s in others[: _MAX_LISTED - 1])
        return Reply(text, AnswerMethod.TIME, 0.85 / (1 + 0.1 * len(others)), tuple(_cite(s) for s in sightings))

    async def _count(self, state: AskState) -> Reply:
        plan = state.plan
        assert plan is not None
        sightings, found = await self._sightings(state)
        if not sightings:
            return Reply(
                f"0 times: {_not_seen_text(_quote(plan), found)}",
                AnswerMethod.COUNT,
                0.5,
                candidates=tuple(_by_score(found)[:3]),
            )
        times = "time" if len(sightings) == 1 else "times"
        listed = ", ".join(format_range_s(s.start_s, s.end_s) for s in sightings[:8])
        confidence = 0.5 if state.partial else 0.75
        return Reply(
            f"{len(sightings)} {times} ({listed})", AnswerMethod.COUNT, confidence, tuple(_cite(s) for s in sightings)
        )

    async def _duration(self, state: AskState) -> Reply:
        plan = state.plan
        assert plan is not None
        sightings, found = await self._sightings(state, asked_first=True)
        if not sightings:
            return _unseen(plan, found)
        best = sightings[0]
        seconds = round(best.duration_s)
        text = f"about {seconds} seconds (from {format_time_s(best.start_s)} to {format_time_s(best.end_s)})"
        return Reply(text, AnswerMethod.DURATION, 0.6, (_cite(best),))

    async def _next(self, state: AskState) -> Reply:
        """What the display showed right after the sighting the question names."""
        plan = state.plan
        assert plan is not None
        sightings, found = await self._sightings(state, asked_first=True)
        if not sightings:
            return _unseen(plan, found)
        return await self._after(state, sightings[0])

    async def _after(self, state: AskState, first: Sighting) -> Reply:
        """The first lines on screen after a sighting that were not on screen during it."""
        span = TimeRange(first.end_s, first.end_s + _NEXT_LOOK_S)
        nodes, _ = await self._retriever.timeline(first.stream_id, 0, span, 200, time_left_s(state.budget))
        state.nodes_read += len(nodes)
        before = {line_key(line) for clip in first.clips for line in caption_and_lines(clip.text)[1]}
        for node in sorted(nodes, key=lambda n: n.start_s):
            if node.start_s < first.end_s - 1.0:
                continue
            new = [line for line in caption_and_lines(node.text)[1] if line_key(line) not in before]
            if new:
                hit = as_hit(node)
                return Reply(" | ".join(new[:_MAX_LISTED]), AnswerMethod.VALUE, 0.7, (Cited(hit), _cite(first)))
        return Reply.not_seen(
            f"{NOT_SEEN} anything new on screen in the {_NEXT_LOOK_S:.0f} s after {first.describe()}.", first.clips, 0.5
        )

    async def _content(self, state: AskState) -> Reply:
        """What was on screen over the question's span, less what is on screen all the time around it."""
        span = state.span
        inside: Counter[str] = Counter()
        shown: dict[str, tuple[str, SearchHit]] = {}
        margins: list[set[str]] = []
        for stream_id in state.stream_ids:
            before = TimeRange(max(span.start_s - _MARGIN_S, 0.0), span.start_s) if span.start_s else None
            after = TimeRange(span.end_s, span.end_s + _MARGIN_S) if span.end_s else None
            for part, is_inside in ((span, True), (before, False), (after, False)):
                if part is None:
                    continue
                nodes, _ = await self._retriever.timeline(stream_id, 0, part, 500, time_left_s(state.budget))
                state.nodes_read += len(nodes)
                keys = set()
                for node in nodes:
                    if is_inside and not _within(node, span):
                        continue
                    for line in caption_and_lines(node.text)[1]:
                        keys.add(line_key(line))
                        if is_inside:
                            inside[line_key(line)] += 1
                            shown.setdefault(line_key(line), (line, as_hit(node)))
                if not is_inside:
                    margins.append(keys)
        always = set.intersection(*margins) if len(margins) == 2 else set()
        own = [key for key, _ in inside.most_common() if key not in always] or [key for key, _ in inside.most_common()]
        if not own:
            window = format_range_s(span.start_s, span.end_s)
            return Reply.not_seen(f"{NOT_SEEN} any text on screen in {window}.", (), 0.6)
        listed = [shown[key] for key in own[:_MAX_LISTED]]
        text = " | ".join(line for line, _ in listed)
        return Reply(text, AnswerMethod.SUMMARY, 0.7, tuple(Cited(hit) for _, hit in listed))

    async def _described(self, state: AskState) -> Reply:
        """A question that names no number, code or quoted line: the clips sharing its words, read as
        records where a line labels what is asked, else by the LLM answerer; below the floor, not seen."""
        plan = state.plan
        assert plan is not None

        def relevance(text: str) -> float:
            readings = _readings_of_text(text, None, plan)
            return max((r.asked_matched + 0.5 * r.context_matched for r in readings), default=0.0)

        target = Target(plan.time.remainder or plan.text, relevance)
        found = await self._find(state, target, lambda f: len(f.relevant) >= 3)
        ranked = [hit for hit in _by_score(found) if hit.level == 0]
        if plan.kind is Kind.WHEN:
            return await self._when_described(state, found, ranked)
        readings = [
            r for clip in found.clips() for r in _readings(clip, None, plan) if r.asked_matched or r.context_matched
        ]
        if readings:
            best, agreement = _best_reading(readings)
            if best.asked_matched >= _LEXICAL_FLOOR and len(plan.asked) > 0:
                text = best.line.text if plan.wants_text else best.value
                return Reply(text, AnswerMethod.VALUE, 0.7 * (0.6 + 0.4 * agreement), (Cited(best.line.hit),))
        top = ranked[0].score if ranked else 0.0
        if not readings and top < _SIMILARITY_FLOOR:
            return Reply.not_seen(f"{NOT_SEEN} anything about that.", ranked[:3], 0.5)
        hits = found.clips() + [hit for hit in ranked if hit.clip_id not in {h.clip_id for h in found.clips()}]
        hits = hits[: self._limits.search_k]
        images = await self._keyframes(hits, state) if self._answerer.sees_images else []
        llm = await self._answerer.answer(plan.text, hits, state.budget, images)
        cited = tuple(Cited(hit) for hit in llm.sources)
        return Reply(llm.text, llm.method, llm.confidence, cited, fallback=llm.fallback, candidates=tuple(ranked[:3]))

    async def _keyframes(self, hits: Sequence[SearchHit], state: AskState) -> list[bytes]:
        """A keyframe of each of the best clips, for a model that sees images; none when memory has pruned
        them or no time is left to fetch them (the captions still answer)."""
        ids = [hit.keyframe_ids[0] for hit in hits if hit.keyframe_ids][:_MAX_IMAGES]
        if not ids:
            return []
        try:
            images = await self._retriever.keyframes(ids, time_left_s(state.budget))
        except LongwatchError as exc:
            logger.info("keyframes for the model could not be read (%s); it gets the captions only", exc)
            return []
        state.trace.step("keyframes", f"{len(images)} keyframes shown to the model")
        return images

    async def _when_described(self, state: AskState, found: Exploration, ranked: list[SearchHit]) -> Reply:
        similar = [hit for hit in ranked[:1] if hit.score >= _SIMILARITY_FLOOR]
        clips = found.clips() or similar
        if not clips:
            return Reply.not_seen(f"{NOT_SEEN} anything about that.", (), 0.5)
        best = clips[0]
        key = [line_key(line) for line in caption_and_lines(best.text)[1]] or [best.text]

        def shows(clip: SearchHit) -> bool:
            keys = [line_key(line) for line in caption_and_lines(clip.text)[1]] or [clip.text]
            return keys == key

        sighting, read = await widen(Sighting((best,)), shows, self._retriever, state.budget)
        state.nodes_read += read
        confidence = 0.8 if found.relevant else 0.4
        return Reply(sighting.describe(), AnswerMethod.TIME, confidence, (_cite(sighting),))


@functools.lru_cache(maxsize=4096)
def _readings(clip: SearchHit, anchor: Entity | None, plan: QuestionPlan) -> tuple[Reading, ...]:
    """What each line of a clip says of `anchor`. Cached: the search loop asks it of the same clips again
    at every step (its relevance, whether it has enough, the sightings' order)."""
    readings = [read_line(line, anchor, plan.asked, plan.context) for line in lines_of(clip)]
    return tuple(reading for reading in readings if reading is not None)


def _readings_of_text(text: str, anchor: Entity | None, plan: QuestionPlan) -> list[Reading]:
    return _readings(SearchHit("", "", 0.0, 0.0, text, 0.0), anchor, plan)


def _pointer(readings: Sequence[Reading], visited: set[Entity]) -> tuple[Reading, Entity] | None:
    """The first thing a line points to that the question talks about and the search has not been to."""
    for reading in sorted(readings, key=lambda r: -r.context_matched):
        for entity in reading.pointers:
            if entity not in visited:
                return reading, entity
    return None


def _best_reading(readings: Sequence[Reading]) -> tuple[Reading, float]:
    """The reading that matches most of what was asked, and the share of equally good readings that agree
    with its value. OCR misreads some clips: the value most clips read wins (OCR's confusions folded), and
    of its spellings the one most clips read, then the one with fewer digits inside words ("GENOA", not
    "GEN0A")."""
    top = max((r.asked_matched, r.context_matched) for r in readings)
    tied = [r for r in readings if (r.asked_matched, r.context_matched) == top]
    votes = Counter(line_key(r.value) for r in tied)
    winner, count = votes.most_common(1)[0]
    spellings = Counter(r.value for r in tied if line_key(r.value) == winner)
    spelling = max(spellings, key=lambda value: (spellings[value], -_digits_in_words(value)))
    best = next(r for r in tied if r.value == spelling)
    return best, count / len(tied)


def _in_other_streams(readings: Sequence[Reading], best: Reading) -> list[Reading]:
    """For each other stream whose lines name the thing as well as `best`'s do, its best reading, when
    its value differs."""
    rank = (best.asked_matched, best.context_matched)
    found: dict[str, Reading] = {}
    for stream_id in sorted({r.line.hit.stream_id for r in readings} - {best.line.hit.stream_id}):
        own = [
            r for r in readings if r.line.hit.stream_id == stream_id and (r.asked_matched, r.context_matched) == rank
        ]
        if own:
            reading, _ = _best_reading(own)
            if line_key(reading.value) != line_key(best.value):
                found[stream_id] = reading
    return list(found.values())


def _digits_in_words(value: str) -> int:
    """Digits inside mostly-letter words: where OCR read a letter as a digit."""
    return sum(
        sum(c.isdigit() for c in word) for word in value.split() if sum(c.isalpha() for c in word) > len(word) / 2
    )


def _distinct_lines(readings: Sequence[Reading]) -> list[str]:
    lines: dict[str, str] = {}
    for reading in readings:
        lines.setdefault(line_key(reading.line.text), reading.line.text)
    return list(lines.values())


def _asked_first(sightings: list[Sighting], anchor: Entity | None, plan: QuestionPlan) -> list[Sighting]:
    """Sightings whose lines match more of what is asked first (the price of card 58 before its flavour)."""

    def matched(sighting: Sighting) -> int:
        readings = [r for clip in sighting.clips for r in _readings(clip, anchor, plan)]
        return max((r.asked_matched for r in readings), default=0)

    return sorted(sightings, key=lambda s: -matched(s))


def _merge(sightings: list[Sighting]) -> list[Sighting]:
    """Sightings widened into each other become one."""
    merged = group(clip for sighting in sightings for clip in sighting.clips)
    return merged


def _within(node, span: TimeRange) -> bool:
    middle = (node.start_s + node.end_s) / 2
    return (not span.start_s or middle >= span.start_s) and (not span.end_s or middle <= span.end_s)


def _by_score(found: Exploration) -> list[SearchHit]:
    """What memory ranked best, relevant or not: the candidates an honest "not seen" cites."""
    return sorted(found.candidates, key=lambda hit: -hit.score)


def _names_only_the_event(plan: QuestionPlan, state: AskState) -> bool:
    """ "What came after locker 42 showed?": the thing the question names is the event itself."""
    return plan.names_something and not plan_question(plan.time.remainder, state.now).names_something


def _not_seen_text(what: str, found: Exploration) -> str:
    """ "I have not seen locker 43." — or, when the search was cut short, in what it read."""
    if found.stopped_by:
        return f"{NOT_SEEN} {what} in what I read before {found.stopped_by} ended the search."
    return f"{NOT_SEEN} {what}."


def _unseen(plan: QuestionPlan, found: Exploration) -> Reply:
    return _unseen_what(_quote(plan), found)


def _unseen_what(what: str, found: Exploration) -> Reply:
    return Reply.not_seen(_not_seen_text(what, found), _by_score(found)[:3], 0.5 if found.partial else 0.8)


def _quote(plan: QuestionPlan) -> str:
    named = [f'"{phrase}"' for phrase in plan.quoted] + [e.text.lower() for e in plan.entities] + list(plan.codes)
    return " or ".join(named) if named else "that"


__all__ = ["Answers", "AskState", "Reply"]
