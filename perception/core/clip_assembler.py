"""Groups consecutive sampled frames into clips: at most `clip_max_s` long, cut early on a scene change,
so clip boundaries follow what happens on screen."""

from __future__ import annotations

from perception.core.types import ClipDraft, ClipFrame

# Frame times are exact fractions turned into floats; this absorbs their rounding.
_TIME_EPSILON_S = 1e-6


class ClipAssembler:
    """Feed frames in time order with `add`; a clip comes out when a frame cannot join it.

    A frame joins the open clip when it is not a scene change and starts less than `clip_max_s`
    after the clip's first frame. A sampled frame stands for the video until the next sample, so at
    1 fps and 4 s a clip holds frames 3, 4, 5, 6 and spans [3 s, 7 s): the frame at 7 s closes it.
    The last clip of a stream ends one sample interval after its last frame.
    """

    def __init__(self, clip_max_s: float, sample_interval_s: float) -> None:
        self._clip_max_s = clip_max_s
        self._sample_interval_s = sample_interval_s
        self._frames: list[ClipFrame] = []

    def add(self, frame: ClipFrame) -> ClipDraft | None:
        """Adds a frame; returns the clip it closed, if any."""
        closed = None
        if self._frames and not self._fits(frame):
            closed = self._close(end_s=frame.time_s)
        self._frames.append(frame)
        return closed

    def flush(self) -> ClipDraft | None:
        """Closes the open clip (end of stream, stop); None when no frame is waiting."""
        if not self._frames:
            return None
        return self._close(end_s=self._frames[-1].time_s + self._sample_interval_s)

    def clear(self) -> None:
        """Drops the open clip unwritten (its stream failed)."""
        self._frames = []

    def _close(self, end_s: float) -> ClipDraft:
        draft = ClipDraft(frames=tuple(self._frames), end_s=end_s)
        self._frames = []
        return draft

    def _fits(self, frame: ClipFrame) -> bool:
        if frame.is_scene_change:
            return False
        return frame.time_s - self._frames[0].time_s + _TIME_EPSILON_S < self._clip_max_s
