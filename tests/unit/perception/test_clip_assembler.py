"""Clips are at most clip_max_s long, are cut where the scene changes, and leave no gap between them."""

from __future__ import annotations

import numpy as np

from perception.core.clip_assembler import ClipAssembler
from perception.core.types import ClipFrame, EncodedFrame

ENCODED = EncodedFrame(image=np.zeros((2, 2, 3), np.uint8), thumbnail=np.zeros((1, 1), np.uint8), features=np.ones(2))


def frame(time_s: float, is_scene_change: bool = False) -> ClipFrame:
    return ClipFrame(time_s=time_s, wall_ms=0, encoded=ENCODED, is_scene_change=is_scene_change, is_reused=False)


def assemble(frames: list[ClipFrame], clip_max_s: float = 4.0) -> list[tuple[float, float, int]]:
    assembler = ClipAssembler(clip_max_s, sample_interval_s=1.0)
    drafts = [assembler.add(item) for item in frames] + [assembler.flush()]
    return [(draft.start_s, draft.end_s, len(draft.frames)) for draft in drafts if draft is not None]


def test_clips_are_at_most_clip_max_s_of_video():
    # Each clip ends where the next begins; the last ends one sample interval after its last frame.
    assert assemble([frame(float(t)) for t in range(10)]) == [(0.0, 4.0, 4), (4.0, 8.0, 4), (8.0, 10.0, 2)]


def test_a_scene_change_cuts_the_clip_early():
    frames = [frame(float(t), is_scene_change=(t == 3)) for t in range(10)]
    # The event starting at 3 s gets clips of its own: [3, 7) and [7, 10), none reaching back to 2 s.
    assert assemble(frames) == [(0.0, 3.0, 3), (3.0, 7.0, 4), (7.0, 10.0, 3)]


def test_flush_closes_the_open_clip_once():
    assembler = ClipAssembler(4.0, sample_interval_s=0.5)
    assert assembler.flush() is None
    assembler.add(frame(0.0))
    assert assembler.flush().end_s == 0.5
    assert assembler.flush() is None


def test_distinct_encoded_frames_keep_their_order():
    other = EncodedFrame(image=np.zeros((2, 2, 3), np.uint8), thumbnail=np.zeros((1, 1), np.uint8), features=np.ones(2))
    assembler = ClipAssembler(10.0, sample_interval_s=1.0)
    for encoded in (ENCODED, ENCODED, other, ENCODED):
        assembler.add(ClipFrame(0.0, 0, encoded, False, False))
    assert assembler.flush().distinct_encoded() == [ENCODED, other]
