"""What a stream's Flash Memory holds, as read through the API: the synopsis slots and the detail keyframes.

These are the types the flash memory (perception.core.flash_memory) hands out and the server converts;
they carry no numpy arrays, so a reader cannot reach into the live memory.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SynopsisSlot:
    """One slot of the context synopsis memory: frames merged into one centroid."""

    weight: int  # frames merged into this slot so far
    start_s: float  # stream time of the earliest frame merged
    end_s: float  # stream time of the latest frame merged


@dataclass(frozen=True)
class DetailFrame:
    """One keyframe of the detail augmentation memory, chosen at write time."""

    t_s: float  # stream time of the frame
    slot: int  # index into StreamOverview.slots of the slot it stands for
    similarity: float  # cosine of its feature to that slot's centroid when it was chosen
    jpeg: bytes  # the frame, as sent to memory


@dataclass(frozen=True)
class StreamOverview:
    """A stream's Flash Memory now: at most `max_slots` slots and `max_details` detail frames."""

    stream_id: str
    slots: tuple[SynopsisSlot, ...]  # heaviest first
    details: tuple[DetailFrame, ...]  # in time order
    max_slots: int
    max_details: int
    frames_merged: int  # sampled frames the synopsis has taken in
