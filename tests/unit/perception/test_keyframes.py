"""Keyframes: which frames of a clip are kept, and that they come out as small JPEGs inside the clip's span."""

from __future__ import annotations

import asyncio
import dataclasses
import io

import numpy as np
import pytest
from PIL import Image

from longwatch import sample
from longwatch.types import ClipRecord, Keyframe, StreamState, StreamStatus
from perception.app import PerceptionApp
from perception.core import keyframes as keyframes_module
from perception.core.clip_assembler import ClipAssembler
from perception.core.flash_memory import FlashConfig, FlashMemory
from perception.core.frame_cache import CacheConfig, FrameCache
from perception.core.keyframes import MAX_KEYFRAMES_PER_CLIP, KeyframeConfig, encode_jpeg, with_detail_keyframes
from perception.core.pipeline import FramePipeline
from perception.core.thumbnails import grey_thumbnail
from perception.core.types import ClipDraft, DecodedFrame, SampledFrame
from perception.settings import PerceptionSettings
from tests.unit.perception.fakes import FakeSource, RecordingSink, fake_compute, patch_compute, solid

RED, BLUE = (200, 30, 30), (30, 30, 200)


def sample_frames(count: int) -> list[np.ndarray]:
    """`count` 640 x 360 frames of the synthetic car park, each with a dark box a little further right."""
    noise = sample.noise_patterns(np.random.default_rng(0))
    background = sample._background()
    frames = []
    for index in range(count):
        image = sample.render_frame(33.0, background, noise[index % len(noise)])  # the delivery truck
        image[250:350, 40 * index : 40 * index + 80] = 20
        frames.append(image)
    return frames


def clip_of(images: list[np.ndarray], config: KeyframeConfig) -> ClipRecord:
    """The one clip a pipeline makes of `images`, sampled at 1 fps with no scene change between them."""
    compute = fake_compute()
    pipeline = FramePipeline(
        "yard", "key", compute, FrameCache(CacheConfig()), ClipAssembler(600.0, sample_interval_s=1.0), config
    )

    async def run() -> ClipRecord:
        for time_s, image in enumerate(images):
            frame = DecodedFrame.from_rgb(float(time_s), image)
            _, closed = await pipeline.add(SampledFrame(frame, grey_thumbnail(image, 16), is_scene_change=False))
            assert closed is None
        return await pipeline.describe(pipeline.flush())

    try:
        return asyncio.run(run())
    finally:
        compute.close()


def decoded(jpeg: bytes) -> Image.Image:
    picture = Image.open(io.BytesIO(jpeg))
    assert picture.format == "JPEG"
    picture.load()
    return picture


@pytest.mark.parametrize("count", [1, 3, 8])
def test_a_clip_gets_the_configured_number_of_keyframes_as_small_jpegs_inside_its_span(count):
    clip = clip_of(sample_frames(8), KeyframeConfig(count=count, max_side_px=320, jpeg_quality=75))
    assert len(clip.keyframes) == count
    times = [keyframe.t_s for keyframe in clip.keyframes]
    assert times == sorted(set(times))
    assert all(clip.start_s <= t_s < clip.end_s for t_s in times)
    for keyframe in clip.keyframes:
        assert decoded(keyframe.jpeg).size == (320, 180)  # longest side at the setting, aspect ratio kept


def test_several_keyframes_are_spread_over_the_clip():
    clip = clip_of(sample_frames(6), KeyframeConfig(count=3))
    assert [keyframe.t_s for keyframe in clip.keyframes] == [1.0, 3.0, 5.0]


def test_frames_showing_one_cached_image_give_one_keyframe_at_the_time_it_was_taken():
    # Four frames, two images: the frame cache reuses each image for the frame after it.
    images = [solid(RED), solid(RED), solid(BLUE), solid(BLUE)]
    clip = clip_of(images, KeyframeConfig(count=4))
    assert [keyframe.t_s for keyframe in clip.keyframes] == [0.0, 2.0]


def test_zero_keyframes_per_clip_sends_none():
    clip = clip_of(sample_frames(4), KeyframeConfig(count=0))
    assert clip.keyframes == ()
    assert clip.frame_count == 4 and clip.caption  # the clip itself is unchanged


def test_one_keyframe_is_the_frame_nearest_the_clip_mean_not_the_middle_one():
    # The fake encoder's feature is the mean colour: four reds and, in the middle, one blue.
    images = [solid((200, 30, 30)), solid((180, 50, 30)), solid(BLUE), solid((200, 30, 50)), solid((160, 30, 30))]
    clip = clip_of(images, KeyframeConfig(count=1))
    (keyframe,) = clip.keyframes
    assert keyframe.t_s != 2.0
    red, green, blue = np.asarray(decoded(keyframe.jpeg)).reshape(-1, 3).mean(axis=0)
    assert red > 150 > blue


def test_one_keyframe_falls_back_to_the_middle_frame_when_the_features_cannot_tell():
    # Greys all have the same direction of mean colour, so the fake encoder gives them equal features.
    images = [solid((level, level, level)) for level in (60, 90, 120, 150, 180)]
    clip = clip_of(images, KeyframeConfig(count=1))
    assert [keyframe.t_s for keyframe in clip.keyframes] == [2.0]
    assert abs(float(np.asarray(decoded(clip.keyframes[0].jpeg)).mean()) - 120) < 3


def test_a_keyframe_of_a_typical_frame_is_well_under_100_kb_with_the_defaults():
    clip = clip_of(sample_frames(1), KeyframeConfig())
    (keyframe,) = clip.keyframes
    assert decoded(keyframe.jpeg).size == (480, 270)
    assert len(keyframe.jpeg) < 50_000


def test_a_small_frame_is_not_scaled_up():
    jpeg = encode_jpeg(solid(RED, height=48, width=64), max_side_px=480, quality=75)
    assert decoded(jpeg).size == (64, 48)


def test_a_jpeg_too_large_for_memory_is_made_smaller(monkeypatch):
    noise = np.random.default_rng(0).integers(0, 256, size=(360, 640, 3), dtype=np.uint8)
    monkeypatch.setattr(keyframes_module, "MAX_KEYFRAME_BYTES", 40_000)
    jpeg = encode_jpeg(noise, max_side_px=640, quality=95)
    assert jpeg is not None and len(jpeg) <= 40_000
    assert max(decoded(jpeg).size) < 640
    monkeypatch.setattr(keyframes_module, "MAX_KEYFRAME_BYTES", 10)
    assert encode_jpeg(noise, max_side_px=640, quality=95) is None  # given up on, not sent to be refused


@pytest.mark.parametrize(("count", "side_px"), [(1, 32), (0, 480)])
def test_the_settings_reach_every_clip_a_stream_writes(count, side_px):
    settings = PerceptionSettings(keyframes_per_clip=count, keyframe_max_side_px=side_px, keyframe_jpeg_quality=60)
    app = PerceptionApp(settings)
    app.compute, app.writer = fake_compute(), RecordingSink()
    source = FakeSource([(0.0, RED), (2.0, BLUE)], duration_s=4.0)

    async def run() -> StreamStatus:
        worker = app._make_worker("yard", source, sample_fps=1.0)
        worker.start()
        return await worker.wait()

    try:
        status = asyncio.run(run())
    finally:
        app.compute.close()
    assert status.state is StreamState.FINISHED, status.error
    clips = app.writer.clips
    assert len(clips) == 2  # cut at the scene change
    assert [len(clip.keyframes) for clip in clips] == [count, count]
    for clip in clips:
        assert all(decoded(keyframe.jpeg).size == (32, 24) for keyframe in clip.keyframes)  # 64 x 48 frames


# Keyframes chosen by the Flash Memory's detail memory --------------------------------------------------


def clips_with_flash(
    images: list[np.ndarray], cut_at: set[int], flash: FlashMemory, config: KeyframeConfig, tokens_per_frame: int = 16
) -> tuple[list[ClipRecord], list[ClipDraft]]:
    """The clips a pipeline with a Flash Memory makes of `images` at 1 fps, with a scene change at `cut_at`."""
    compute = patch_compute()
    assembler = ClipAssembler(600.0, sample_interval_s=1.0)
    pipeline = FramePipeline(
        "yard", "key", compute, FrameCache(CacheConfig()), assembler, config, flash, tokens_per_frame
    )

    async def run() -> tuple[list[ClipRecord], list[ClipDraft]]:
        drafts = []
        for time_s, image in enumerate(images):
            frame = DecodedFrame.from_rgb(float(time_s), image)
            sampled = SampledFrame(frame, grey_thumbnail(image, 16), is_scene_change=time_s in cut_at)
            _, closed = await pipeline.add(sampled)
            drafts += [closed] if closed is not None else []
        drafts.append(pipeline.flush())
        return [await pipeline.describe(draft) for draft in drafts], drafts

    try:
        return asyncio.run(run())
    finally:
        compute.close()


def distinct_frames(count: int) -> list[np.ndarray]:
    """Up to 20 frames the frame cache reuses none of (their brightness alternates), each with a feature of
    its own (the tint moves from red to blue)."""
    bases = [(40, 180)[index % 2] for index in range(count)]
    return [solid((base + 3 * index, base, base + 60 - 3 * index)) for index, base in enumerate(bases)]


def test_the_detail_memorys_frames_go_with_their_clip_each_once():
    flash = FlashMemory(FlashConfig(max_slots=4, max_details=4))
    clips, _ = clips_with_flash(distinct_frames(12), cut_at={6}, flash=flash, config=KeyframeConfig(count=1))
    assert len(clips) == 2
    sent = [(keyframe.t_s, keyframe.jpeg) for clip in clips for keyframe in clip.keyframes]
    assert len({t_s for t_s, _ in sent}) == len(sent)  # no image twice
    assert len(sent) > len(clips)  # more than the one per clip: the detail frames too
    for clip in clips:
        assert len(clip.keyframes) <= MAX_KEYFRAMES_PER_CLIP
        assert all(clip.start_s <= keyframe.t_s < clip.end_s for keyframe in clip.keyframes)
    details = flash.overview("yard").details
    assert details
    for detail in details:  # what the overview shows is what memory got, with the clip it was taken in
        assert sent.count((detail.t_s, detail.jpeg)) == 1
        assert decoded(detail.jpeg).size == (64, 48)


def test_a_detail_frame_showing_an_image_already_kept_is_not_sent_again():
    image = solid(RED)
    draft_images = [image, image, solid(BLUE)]  # the second frame reuses the first's image from the cache
    _, (draft,) = clips_with_flash(
        draft_images, cut_at=set(), flash=FlashMemory(FlashConfig()), config=KeyframeConfig()
    )
    first, reused, blue = draft.frames
    own = (Keyframe(t_s=0.0, jpeg=b"own"),)
    details = [(reused, Keyframe(t_s=1.0, jpeg=b"same image")), (blue, Keyframe(t_s=2.0, jpeg=b"blue")), (first, None)]
    kept = with_detail_keyframes(draft, own, details)
    assert [(keyframe.t_s, keyframe.jpeg) for keyframe in kept] == [(0.0, b"own"), (2.0, b"blue")]


def test_a_clip_sends_at_most_memorys_limit_of_keyframes():
    flash = FlashMemory(FlashConfig(max_slots=20, max_details=20))  # every distinct frame a detail frame
    clips, _ = clips_with_flash(distinct_frames(20), cut_at=set(), flash=flash, config=KeyframeConfig(count=2))
    (clip,) = clips
    assert clip.caption == "20 distinct frames"  # the frame cache reused none
    assert len(clip.keyframes) == MAX_KEYFRAMES_PER_CLIP
    assert flash.detail_count == 20  # the overview keeps them all


def test_zero_keyframes_per_clip_sends_none_even_with_detail_frames():
    flash = FlashMemory(FlashConfig(max_slots=4, max_details=4))
    clips, _ = clips_with_flash(distinct_frames(6), cut_at=set(), flash=flash, config=KeyframeConfig(count=0))
    assert [clip.keyframes for clip in clips] == [()]
    assert flash.overview("yard").details  # kept for the overview all the same


@pytest.mark.parametrize(("budget", "kept"), [(4, 4), (32, 16)])  # 16 patches a frame: merged, or all kept
def test_patch_tokens_are_merged_to_the_budget_and_kept_with_the_clip_not_the_record(budget, kept):
    flash = FlashMemory(FlashConfig(max_slots=4, max_details=4))
    clips, drafts = clips_with_flash(
        distinct_frames(6), cut_at=set(), flash=flash, config=KeyframeConfig(), tokens_per_frame=budget
    )
    (draft,) = drafts
    for encoded in draft.distinct_encoded():
        assert encoded.patches.shape == (16, 3)  # the fake encoder's 4 x 4 grid
        assert len(encoded.tokens) == kept and encoded.tokens.weights.sum() == 16
    assert draft.merged_tokens().shape == (kept * 6, 3)
    assert set(flash.token_counts().values()) == {kept}
    assert "tokens" not in {field.name for field in dataclasses.fields(clips[0])}  # memory's budget: not stored
