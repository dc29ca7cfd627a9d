"""Every shared domain type survives a trip through its protobuf message."""

import pytest

from longwatch import convert
from longwatch.types import Answer, ClipRecord, Evidence, SearchHit, StreamState, StreamStatus, StreamSummary

CLIP = ClipRecord(
    stream_id="gate",
    start_s=21.0,
    end_s=24.0,
    caption="on-screen text seen",
    ocr_lines=("ALARM CODE 7315",),
    visual_embedding=(0.5, -0.25, 0.125),
    frame_count=4,
    start_wall_ms=1_700_000_000_000,
)


FILE_CLIP = ClipRecord("gate", 21.0, 24.0, "", ("ALARM CODE 7315",), frame_count=4, source_key="9f86d081884c7d65")


@pytest.mark.parametrize("clip", [CLIP, FILE_CLIP], ids=["live", "file"])
def test_clip_round_trip(clip):
    assert convert.clip_from_pb(convert.clip_to_pb(clip)) == clip


def test_hit_round_trip():
    hit = SearchHit("gate@000000021000", "gate", 21.0, 24.0, "text on screen: ALARM CODE 7315", 1.75)
    assert convert.hit_from_pb(convert.hit_to_pb(hit)) == hit


def test_summary_round_trip():
    summary = StreamSummary("gate", 12, 0.0, 47.0)
    assert convert.summary_from_pb(convert.summary_to_pb(summary)) == summary


@pytest.mark.parametrize("state", list(StreamState))
def test_status_round_trip(state):
    status = StreamStatus(
        stream_id="gate",
        source="rtsp://***@cam/1",
        state=state,
        is_live=True,
        frames_seen=100,
        frames_encoded=10,
        frames_reused=30,
        frames_dropped=2,
        clips_written=5,
        position_s=40.0,
        duration_s=48.0,
        lag_s=1.5,
        error="",
        sample_fps=1.0,
    )
    assert convert.status_from_pb(convert.status_to_pb(status)) == status


def test_answer_round_trip():
    answer = Answer(
        answer="7315",
        evidence=(Evidence("gate", 21.0, 24.0, "ALARM CODE 7315", "gate@000000021000", 1.2),),
        confidence=0.8,
        latency_ms=350.0,
    )
    assert convert.answer_from_pb(convert.answer_to_pb(answer)) == answer


def test_clip_id_is_stable_and_text_joins_caption_and_ocr():
    from_a_file = ClipRecord("gate", 21.0, 24.0, "", ())  # no wall clock: named by stream time
    assert from_a_file.clip_id == "gate@000000021000"
    assert CLIP.clip_id == "gate@w1700000000000"  # live: named by its wall-clock start
    assert CLIP.text == "on-screen text seen. text on screen: ALARM CODE 7315"


def test_a_live_clip_is_named_by_its_wall_clock_start():
    """A live stream's time restarts when it is added again: a new clip at 0:21 must not overwrite the old one."""
    first = ClipRecord("gate", 21.0, 24.0, "", ("EXIT 42",), start_wall_ms=1_700_000_021_000)
    again = ClipRecord("gate", 21.0, 24.0, "", ("EXIT 42",), start_wall_ms=1_700_000_900_000)
    assert first.clip_id == "gate@w1700000021000"
    assert first.clip_id != again.clip_id
