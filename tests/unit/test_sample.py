"""The synthetic sample is deterministic and its ground truth matches what is drawn."""

import av
import numpy as np

from longwatch.sample import EVENTS, GroundTruth, _background, ground_truth_path, make_sample, render_frame


def test_same_seed_gives_the_same_bytes(tmp_path):
    make_sample(tmp_path / "a" / "s.mp4", seed=3)
    make_sample(tmp_path / "b" / "s.mp4", seed=3)
    assert (tmp_path / "a" / "s.mp4").read_bytes() == (tmp_path / "b" / "s.mp4").read_bytes()


def test_ground_truth_round_trips_and_video_has_the_stated_length(tmp_path):
    video = tmp_path / "s.mp4"
    truth = make_sample(video, seed=1)
    assert GroundTruth.from_json(ground_truth_path(video).read_text()) == truth
    with av.open(str(video)) as container:
        frames = sum(1 for _ in container.decode(video=0))
    assert frames == int(truth.duration_s * truth.fps)


def test_events_change_the_picture_only_while_they_last():
    background = _background()
    event = EVENTS[2]
    noise = np.zeros((360, 640, 3), dtype=np.int16)
    quiet = render_frame(event.start_s - 1.0, background, noise).astype(int)
    during = render_frame(event.start_s + 1.0, background, noise).astype(int)
    after = render_frame(event.end_s, background, noise).astype(int)
    assert np.abs(during - quiet).mean() > 5
    assert np.array_equal(after, quiet)
