"""The Flash Memory: fixed size over a long stream, weights that count frames, heavy slots for long scenes,
a slot of its own for a rare scene, detail frames chosen at write time, and bounded work per frame."""

from __future__ import annotations

import numpy as np
import pytest

from longwatch.errors import FailedPrecondition, InvalidArgument
from perception.core.flash_memory import FlashConfig, FlashMemory

DIM = 32  # feature dimensions of the synthetic streams
NOISE = 0.5  # per-dimension noise around a scene's direction: a frame is ~0.9 cosine to its scene


def scenes(count: int, seed: int = 0) -> np.ndarray:
    """(count, DIM) random scene directions, nearly orthogonal to each other."""
    return np.random.default_rng(seed).normal(size=(count, DIM))


def frame(scene: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """(DIM,) one noisy frame of a scene."""
    return scene + rng.normal(scale=NOISE, size=DIM)


def take(memory: FlashMemory, feature: np.ndarray, t_s: float) -> None:
    detail = memory.add(feature, t_s)
    if detail is not None:
        memory.attach_jpeg(detail, f"jpeg at {t_s}".encode())


RARE_TIMES_S = tuple(1_000.0 * k + 7 for k in range(1, 20))  # 19 frames of a rare scene among 20,000


@pytest.fixture(scope="module")
def long_stream() -> tuple[FlashMemory, np.ndarray]:
    """20,000 frames: four scenes recurring in runs of 500 frames, and a rare fifth scene now and then."""
    memory = FlashMemory(FlashConfig(max_slots=60, max_details=30))
    rng = np.random.default_rng(1)
    recurring = scenes(5)
    for index in range(20_000):
        t_s = float(index)
        scene = recurring[4] if t_s in RARE_TIMES_S else recurring[(index // 500) % 4]
        take(memory, frame(scene, rng), t_s)
    return memory, recurring


def test_a_long_stream_stays_at_exactly_k_slots_and_d_details_and_the_weights_count_every_frame(long_stream):
    memory, _ = long_stream
    overview = memory.overview("yard")
    assert len(overview.slots) == 60 == overview.max_slots
    assert len(overview.details) == 30 == overview.max_details
    assert sum(slot.weight for slot in overview.slots) == 20_000 == overview.frames_merged
    weights = [slot.weight for slot in overview.slots]
    assert weights == sorted(weights, reverse=True)  # heaviest first
    assert memory._centroids.shape == (60, DIM)  # nothing grew with the stream


def test_a_scene_seen_for_long_gets_a_heavy_slot_whose_span_covers_it(long_stream):
    memory, recurring = long_stream
    rng = np.random.default_rng(2)
    for scene_index in range(4):
        slot, similarity = memory.nearest(recurring[scene_index])
        assert similarity > 0.95
        assert slot.weight > 4_000  # of its 5,000 frames; the rest are noisy frames in slots of their own
        first_run_s, last_run_end_s = 500.0 * scene_index, 18_000.0 + 500.0 * scene_index + 499
        assert slot.start_s <= first_run_s + 5 and slot.end_s >= last_run_end_s - 5
    assert memory.nearest(frame(recurring[0], rng))[0] == memory.nearest(recurring[0])[0]


def test_a_rare_scene_keeps_a_slot_of_its_own(long_stream):
    memory, recurring = long_stream
    slot, similarity = memory.nearest(recurring[4])
    assert similarity > 0.8
    assert slot.weight <= len(RARE_TIMES_S)
    assert slot.start_s in RARE_TIMES_S and slot.end_s in RARE_TIMES_S  # only rare frames went into it


def test_detail_frames_stand_for_the_heaviest_slots_one_each_in_time_order(long_stream):
    memory, _ = long_stream
    overview = memory.overview("yard")
    times = [detail.t_s for detail in overview.details]
    assert times == sorted(times)
    assert len({detail.slot for detail in overview.details}) == len(overview.details)
    held = {detail.slot for detail in overview.details}
    assert {0, 1, 2, 3} <= held  # the four scenes' slots, heaviest
    for detail in overview.details:
        slot = overview.slots[detail.slot]
        assert slot.start_s <= detail.t_s <= slot.end_s
        assert detail.jpeg == f"jpeg at {detail.t_s}".encode()
    assert all(detail.similarity > 0.85 for detail in overview.details if detail.slot < 4)


def test_a_nearer_frame_replaces_a_slots_detail_and_a_farther_one_does_not():
    memory = FlashMemory(FlashConfig(max_slots=1, max_details=1))  # one slot: every frame merges into it
    first = memory.add(np.array([1.0, 0.3]), 0.0)
    assert first is not None  # the slot had no detail frame
    memory.attach_jpeg(first, b"first")
    assert memory.add(np.array([1.0, -0.3]), 1.0) is None  # as far from the new centroid as the detail
    nearest = memory.add(np.array([1.0, 0.0]), 2.0)  # on the centroid
    assert nearest is not None
    memory.attach_jpeg(nearest, b"nearest")
    assert memory.add(np.array([1.0, 0.4]), 3.0) is None
    overview = memory.overview("yard")
    assert [(detail.t_s, detail.jpeg, detail.slot) for detail in overview.details] == [(2.0, b"nearest", 0)]
    assert overview.details[0].similarity == pytest.approx(1.0, abs=1e-3)
    assert overview.slots[0].weight == 4 and (overview.slots[0].start_s, overview.slots[0].end_s) == (0.0, 3.0)


def test_a_detail_too_large_to_encode_or_replaced_while_encoding_is_not_kept():
    memory = FlashMemory(FlashConfig(max_slots=1, max_details=1))
    dropped = memory.add(np.array([1.0, 0.0]), 0.0)
    memory.attach_jpeg(dropped, None)  # its JPEG was over memory's limit
    assert memory.overview("s").details == ()
    first = memory.add(np.array([1.0, 0.2]), 1.0)  # the slot has no detail frame left: chosen
    second = memory.add(np.array([1.0, 0.0]), 2.0)  # nearer the centroid: replaces `first` before its JPEG came
    assert first is not None and second is not None
    memory.attach_jpeg(first, b"first")
    memory.attach_jpeg(second, b"second")
    assert [detail.jpeg for detail in memory.overview("s").details] == [b"second"]


def test_merged_slots_keep_the_detail_frame_nearer_their_merged_centroid():
    memory = FlashMemory(FlashConfig(max_slots=2, max_details=2))
    for t_s, feature in enumerate(([1.0, 0.0, 0.0], [0.8, 0.6, 0.0])):  # two slots, about 37 degrees apart
        memory.attach_jpeg(memory.add(np.array(feature), float(t_s)), f"{t_s}".encode())
    # Far from both (orthogonal): the two closest slots merge and it takes the freed slot.
    memory.attach_jpeg(memory.add(np.array([0.0, 0.0, 1.0]), 2.0), b"2")
    overview = memory.overview("s")
    assert memory.slot_merges == 1
    assert [(slot.weight, slot.start_s, slot.end_s) for slot in overview.slots] == [(2, 0.0, 1.0), (1, 2.0, 2.0)]
    # Equal weights: the merged centroid is halfway, as near one as the other; the kept slot's own stays.
    assert [(detail.t_s, detail.slot) for detail in overview.details] == [(0.0, 0), (2.0, 1)]


def test_the_per_frame_update_does_not_scan_all_pairs_of_2000_slots():
    memory = FlashMemory(FlashConfig(max_slots=2_000, max_details=30))
    rng = np.random.default_rng(3)
    recurring = scenes(8, seed=3)
    most_rescans, most_products, rescans = 0, 0, 0
    for index in range(8_000):
        feature = frame(recurring[(index // 300) % 8], rng) if index % 3 else rng.normal(size=DIM)
        rescanned, products = memory.rows_rescanned, memory.centroid_products
        memory.add(feature, float(index))
        if index >= 2_000:  # all slots in use: every frame now merges
            most_rescans = max(most_rescans, memory.rows_rescanned - rescanned)
            most_products = max(most_products, memory.centroid_products - products)
            rescans += memory.rows_rescanned - rescanned
    assert memory.slot_merges > 500  # the closest pair was looked for, and merged, often
    assert most_products <= 3  # the frame against the centroids, and the rows of at most two changed slots
    # A scan of all pairs would rescan all 2,000 rows every frame; stale bounds are rare and few.
    assert most_rescans <= 100 and rescans / 6_000 < 5


def test_overview_of_an_empty_memory_and_bad_features():
    memory = FlashMemory(FlashConfig(max_slots=3, max_details=1))
    overview = memory.overview("new")
    assert (overview.slots, overview.details, overview.frames_merged) == ((), (), 0)
    with pytest.raises(FailedPrecondition, match="no frame"):
        memory.nearest(np.ones(4))
    memory.add(np.ones(4), 0.0)
    with pytest.raises(InvalidArgument, match="synopsis has 4"):
        memory.add(np.ones(5), 1.0)
    with pytest.raises(InvalidArgument, match="finite"):
        memory.add(np.array([1.0, np.nan, 0.0, 0.0]), 1.0)
    with pytest.raises(InvalidArgument, match="shape"):
        memory.add(np.ones((2, 4)), 1.0)
    assert memory.frames_merged == 1


@pytest.mark.parametrize(("slots", "details", "message"), [(0, 0, "at least 1 slot"), (4, 5, "between 0 and")])
def test_bad_sizes_are_refused(slots, details, message):
    with pytest.raises(InvalidArgument, match=message):
        FlashConfig(max_slots=slots, max_details=details)
