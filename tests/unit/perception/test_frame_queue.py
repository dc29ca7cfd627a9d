"""The frame queue between a decode thread and the event loop, once its stream is final."""

from __future__ import annotations

import asyncio
import threading

import numpy as np
import pytest

from perception.core.frame_queue import EndOfFrames, FrameQueue
from perception.core.types import DecodedFrame, SampledFrame


def sampled(time_s: float) -> SampledFrame:
    image = np.zeros((4, 4, 3), np.uint8)
    return SampledFrame(DecodedFrame.from_rgb(time_s, image), np.zeros((4, 4), np.uint8), is_scene_change=False)


@pytest.mark.parametrize("drop_oldest", [False, True], ids=["file", "live"])
def test_a_cleared_queue_lets_go_of_frames_handed_over_after_the_clear(drop_oldest):
    async def scenario():
        queue = FrameQueue(asyncio.get_running_loop(), max_frames=2, drop_oldest=drop_oldest, on_drop=lambda: None)
        stop = threading.Event()
        await asyncio.to_thread(queue.put, sampled(0.0), stop)
        await asyncio.sleep(0.05)  # the hand-over runs on the loop
        queue.clear()
        # The decode thread's last frame, handed over as it ends; with a full queue it would have blocked.
        for time_s in (1.0, 2.0, 3.0):
            try:
                assert await asyncio.wait_for(asyncio.to_thread(queue.put, sampled(time_s), stop), 5)
            except TimeoutError:
                stop.set()  # lets the blocked put return, so the test fails rather than hangs
                raise AssertionError("the decode thread blocked on a cleared queue") from None
        await asyncio.sleep(0.05)
        queue.end_now()
        return await queue.get()

    assert isinstance(asyncio.run(scenario()), EndOfFrames)  # no frame was left before the end marker
