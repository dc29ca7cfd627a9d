"""Sightings: the separate stretches of time a thing was in view, from the clips that show it.

"When" answers cite every sighting, "how many times" counts them, "how long" measures one. A sighting
found by search is widened along memory's timeline until the clips next to it no longer show the thing,
so a sign in view for a minute is one range, not the one clip the search ranked first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from longwatch.times import format_range_s, format_wall_range_ms
from longwatch.types import SearchHit, TimeRange
from reasoner.core.explorer import as_hit, time_left_s
from reasoner.core.retriever import Retriever
from reasoner.core.types import Budget

GAP_S = 2.0  # clips this close still belong to one sighting (a frame or two without a reading)
_WIDEN_S = 40.0  # timeline read each side of a sighting per step
_WIDEN_STEPS = 6  # at most this many steps each side: a sighting of several minutes


@dataclass(frozen=True)
class Sighting:
    clips: tuple[SearchHit, ...]  # in time order, one stream

    @property
    def stream_id(self) -> str:
        return self.clips[0].stream_id

    @property
    def start_s(self) -> float:
        return self.clips[0].start_s

    @property
    def end_s(self) -> float:
        return max(clip.end_s for clip in self.clips)

    @property
    def duration_s(self) -> float:
        """How long the thing was in view: from the middle of the first clip to the middle of the last (it
        appeared somewhere in the first and left somewhere in the last), or one clip's length."""
        first, last = self.clips[0], self.clips[-1]
        if len(self.clips) == 1:
            return first.end_s - first.start_s
        return (last.start_s + last.end_s) / 2 - (first.start_s + first.end_s) / 2

    def describe(self) -> str:
        """ "1:33-1:49 in dock-cam" (with the wall-clock span for a live stream)."""
        text = f"{format_range_s(self.start_s, self.end_s)} in {self.stream_id}"
        first, last = self.clips[0], self.clips[-1]
        if first.start_wall_ms and last.end_wall_ms:
            text += f" ({format_wall_range_ms(first.start_wall_ms, last.end_wall_ms)})"
        return text


def group(clips: Iterable[SearchHit]) -> list[Sighting]:
    """The clips as sightings: per stream, clips within GAP_S of each other join; by start time."""
    by_stream: dict[str, list[SearchHit]] = {}
    for clip in {clip.clip_id: clip for clip in clips}.values():
        by_stream.setdefault(clip.stream_id, []).append(clip)
    sightings = []
    for stream_clips in by_stream.values():
        run: list[SearchHit] = []
        for clip in sorted(stream_clips, key=lambda c: c.start_s):
            if run and clip.start_s > max(c.end_s for c in run) + GAP_S:
                sightings.append(Sighting(tuple(run)))
                run = []
            run.append(clip)
        if run:
            sightings.append(Sighting(tuple(run)))
    return sorted(sightings, key=lambda s: (s.stream_id, s.start_s))


async def widen(
    sighting: Sighting, shows: Callable[[SearchHit], bool], retriever: Retriever, budget: Budget
) -> tuple[Sighting, int]:
    """The sighting grown along the timeline while neighbouring clips still show the thing; and the nodes read."""
    clips = {clip.clip_id: clip for clip in sighting.clips}
    read = 0
    for direction in (-1, 1):
        for _ in range(_WIDEN_STEPS):
            current = Sighting(tuple(sorted(clips.values(), key=lambda c: c.start_s)))
            edge = current.start_s if direction < 0 else current.end_s
            span = TimeRange(max(edge - _WIDEN_S, 0.0), edge) if direction < 0 else TimeRange(edge, edge + _WIDEN_S)
            if direction < 0 and edge <= 0:
                break
            nodes, _ = await retriever.timeline(sighting.stream_id, 0, span, 100, time_left_s(budget))
            read += len(nodes)
            grew = _touching(current, [as_hit(node) for node in nodes], shows, direction, clips)
            if not grew:
                break
    return Sighting(tuple(sorted(clips.values(), key=lambda c: c.start_s))), read


def _touching(
    current: Sighting, neighbours: Sequence[SearchHit], shows: Callable[[SearchHit], bool], direction: int, clips: dict
) -> bool:
    """Adds the neighbours that show the thing and chain onto the sighting's edge; whether any did and the
    chain reached the end of what was read (so the next step should read further)."""
    ordered = sorted(neighbours, key=lambda c: c.start_s, reverse=direction < 0)
    edge = current.start_s if direction < 0 else current.end_s
    added = False
    for clip in ordered:
        if clip.clip_id in clips:
            continue
        near = (clip.end_s >= edge - GAP_S) if direction < 0 else (clip.start_s <= edge + GAP_S)
        if not near or not shows(clip):
            return False
        clips[clip.clip_id] = clip
        edge = clip.start_s if direction < 0 else clip.end_s
        added = True
    return added
