"""Compute batches the encoder requests of all streams: fewer encoder calls, each caller its own rows in
its own order, an encoder error only for the batch it hit, and close() never leaves a caller waiting."""

from __future__ import annotations

import asyncio
import gc
import threading
import time
from collections.abc import Sequence

import numpy as np
import pytest
from prometheus_client import REGISTRY

from longwatch.errors import Unavailable
from perception.core.compute import Compute
from tests.unit.perception.fakes import FakeCaptioner, solid

WAIT_S = 5.0  # generous bound on a thread hand-off; the tests never sleep for it


class GatedEncoder:
    """Features: the mean colour and a row number of the batch; patches: the colour repeated. Its first call
    blocks until `release` is set, so requests pile up behind it as behind a busy GPU. An image whose red
    channel is 13 makes the call fail."""

    name = "gated"
    dim = 4
    patch_dim = 3

    def __init__(self, hold_first_call: bool = True) -> None:
        self.batches: list[int] = []  # frames per call
        self.started = threading.Event()
        self.release = threading.Event()
        if not hold_first_call:
            self.release.set()

    def encode(self, images: Sequence[np.ndarray]) -> np.ndarray:
        return self.encode_with_patches(images)[0]

    def encode_with_patches(self, images: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        self.batches.append(len(images))
        self.started.set()
        assert self.release.wait(WAIT_S)
        if any(image[0, 0, 0] == 13 for image in images):
            raise RuntimeError("CUDA error: an illegal memory access was encountered")
        colours = np.stack([image[0, 0].astype(np.float32) for image in images])  # (N, 3)
        features = np.concatenate([colours, np.arange(len(images), dtype=np.float32)[:, None]], axis=1)  # (N, 4)
        return features, np.repeat(colours[:, None, :], 2, axis=1)  # (N, 4), (N, 2, 3)


def frames(*reds: int) -> list[np.ndarray]:
    return [solid((red, 1, 2), height=4, width=4) for red in reds]


async def wait_for_first_call(encoder: GatedEncoder) -> None:
    assert await asyncio.to_thread(encoder.started.wait, WAIT_S)


def batch_frames_count() -> float:
    return REGISTRY.get_sample_value("perception_encode_batch_frames_count") or 0.0


def test_the_pending_frames_of_many_streams_go_through_one_encoder_call_and_back_to_their_callers():
    encoder = GatedEncoder()
    compute = Compute(encoder, FakeCaptioner(), max_batch_frames=64)
    calls_before = batch_frames_count()

    async def go():
        first = asyncio.create_task(compute.encode_with_patches("cam-0", frames(200)))
        await wait_for_first_call(encoder)  # the encoder is busy: what follows queues up
        reds = {f"cam-{index}": list(range(10 * index, 10 * index + 1 + index % 3)) for index in range(1, 9)}
        waiting = {
            stream: asyncio.create_task(compute.encode_with_patches(stream, frames(*r))) for stream, r in reds.items()
        }
        await asyncio.sleep(0)  # let every request reach the queue
        encoder.release.set()
        return await first, reds, {stream: await task for stream, task in waiting.items()}

    try:
        (first_features, _), reds, results = asyncio.run(go())
    finally:
        compute.close()
    assert encoder.batches == [1, sum(len(r) for r in reds.values())]  # 9 requests, 2 encoder calls
    assert batch_frames_count() - calls_before == 2
    assert first_features[0, 0] == 200
    for stream, stream_reds in reds.items():
        features, patches = results[stream]
        assert features.shape == (len(stream_reds), 4) and patches.shape == (len(stream_reds), 2, 3)
        assert features[:, 0].tolist() == stream_reds  # this stream's frames, in its order
        assert patches[:, 0, 0].tolist() == stream_reds
        assert not np.shares_memory(features, results["cam-1"][0]) or stream == "cam-1"  # copies, not views


def test_a_batch_holds_whole_requests_up_to_the_batch_size():
    encoder = GatedEncoder()
    compute = Compute(encoder, FakeCaptioner(), max_batch_frames=4)

    async def go():
        first = asyncio.create_task(compute.encode("a", frames(1)))
        await wait_for_first_call(encoder)
        sizes = [3, 1, 2, 2, 6]  # the 6-frame request exceeds the batch on its own: it goes alone
        tasks = [asyncio.create_task(compute.encode(f"s{i}", frames(*range(size)))) for i, size in enumerate(sizes)]
        await asyncio.sleep(0)
        encoder.release.set()
        await first
        return sizes, [await task for task in tasks]

    try:
        sizes, results = asyncio.run(go())
    finally:
        compute.close()
    assert encoder.batches == [1, 4, 4, 6]
    assert [len(features) for features in results] == sizes


def test_an_encoder_error_fails_only_the_requests_of_its_batch():
    encoder = GatedEncoder()
    compute = Compute(encoder, FakeCaptioner(), max_batch_frames=2)

    async def go():
        first = asyncio.create_task(compute.encode("a", frames(1)))
        await wait_for_first_call(encoder)
        poisoned = asyncio.create_task(compute.encode("b", frames(13, 14)))  # a batch of its own (2 frames)
        healthy = asyncio.create_task(compute.encode("c", frames(15, 16)))
        await asyncio.sleep(0)
        encoder.release.set()
        return await asyncio.gather(first, poisoned, healthy, return_exceptions=True)

    try:
        first, poisoned, healthy = asyncio.run(go())
    finally:
        compute.close()
    assert encoder.batches == [1, 2, 2]
    assert first[0, 0] == 1
    assert isinstance(poisoned, RuntimeError) and "illegal memory access" in str(poisoned)
    assert healthy[:, 0].tolist() == [15, 16]


def test_close_fails_the_waiting_requests_at_once_and_lets_the_call_in_flight_finish():
    encoder = GatedEncoder()
    compute = Compute(encoder, FakeCaptioner())

    async def go():
        in_flight = asyncio.create_task(compute.encode("a", frames(1)))
        await wait_for_first_call(encoder)
        waiting = [asyncio.create_task(compute.encode(f"s{i}", frames(i))) for i in range(3)]
        await asyncio.sleep(0)
        closing = asyncio.create_task(asyncio.to_thread(compute.close))  # blocks on the call in flight
        failed = await asyncio.wait_for(asyncio.gather(*waiting, return_exceptions=True), WAIT_S)
        assert not closing.done()
        encoder.release.set()
        await asyncio.wait_for(closing, WAIT_S)
        with pytest.raises(Unavailable, match="stopping"):
            await compute.encode("late", frames(2))
        return failed, await in_flight

    failed, in_flight = asyncio.run(go())
    assert all(isinstance(error, Unavailable) and "retry" in str(error) for error in failed)
    assert in_flight[0, 0] == 1
    assert encoder.batches == [1]


def test_a_cancelled_caller_does_not_disturb_the_others_of_its_batch():
    encoder = GatedEncoder()
    compute = Compute(encoder, FakeCaptioner())

    async def go():
        first = asyncio.create_task(compute.encode("a", frames(1)))
        await wait_for_first_call(encoder)
        gone = asyncio.create_task(compute.encode("b", frames(2)))
        kept = asyncio.create_task(compute.encode("c", frames(3)))
        await asyncio.sleep(0)
        gone.cancel()
        encoder.release.set()
        return await first, await kept, await asyncio.gather(gone, return_exceptions=True)

    try:
        first, kept, (gone,) = asyncio.run(go())
    finally:
        compute.close()
    assert first[0, 0] == 1 and kept[0, 0] == 3
    assert isinstance(gone, asyncio.CancelledError)


class RecordingCaptioner(FakeCaptioner):
    def __init__(self) -> None:
        super().__init__()
        self.contexts: list[str] = []
        self.threads: set[str] = set()

    def read_text(self, images, context: str = ""):
        self.contexts.append(context)
        return super().read_text(images, context)

    def describe(self, images, instruction: str) -> str:
        self.threads.add(threading.current_thread().name)
        return super().describe(images, instruction)


def test_read_text_names_the_stream_and_describe_runs_on_the_caption_thread():
    captioner = RecordingCaptioner()
    compute = Compute(GatedEncoder(hold_first_call=False), captioner)

    async def go():
        lines = await compute.read_text("dock-3", frames(100))
        await compute.read_text("dock-3", frames(100), keep_state=False)  # keyframes from the past
        answer = await compute.describe("dock-3", frames(100, 150), "what is the plate?")
        return lines, answer

    try:
        lines, answer = asyncio.run(go())
    finally:
        compute.close()
    assert captioner.contexts == ["dock-3", ""]
    assert lines == [("RGB 100 0 0",)]
    assert answer == "what is the plate?: 2 frames"
    assert len(captioner.threads) == 1 and next(iter(captioner.threads)).startswith("perception-caption")


def test_no_images_need_no_encoder_call():
    encoder = GatedEncoder()
    compute = Compute(encoder, FakeCaptioner())
    try:
        features, patches = asyncio.run(compute.encode_with_patches("a", []))
    finally:
        compute.close()
    assert features.shape == (0, 4) and patches is None and encoder.batches == []


def test_the_batcher_lets_go_of_the_frames_once_they_are_encoded():
    import weakref

    compute = Compute(GatedEncoder(hold_first_call=False), FakeCaptioner())
    images = frames(1, 2, 3)
    refs = [weakref.ref(image) for image in images]
    try:
        asyncio.run(compute.encode("a", images))
        del images
        # Nothing in the queue or the thread keeps them; on a loaded machine the worker thread may still be
        # between its last frame and its next wait, so give it a moment (a hang guard, not a timing).
        deadline = time.monotonic() + 10.0
        while not all(ref() is None for ref in refs) and time.monotonic() < deadline:
            gc.collect()
            time.sleep(0.01)
        assert all(ref() is None for ref in refs)
    finally:
        compute.close()
