"""Every shared domain type survives a trip through its protobuf message."""

import pytest

from longwatch import convert
from longwatch.types import (
    Answer,
    ClipRecord,
    DeletedStream,
    Evidence,
    Keyframe,
    KeyframeData,
    MemoryStats,
    Node,
    SearchHit,
    SearchResult,
    StreamState,
    StreamStats,
    StreamStatus,
    StreamSummary,
)

CLIP = ClipRecord(
    stream_id="gate",
    start_s=21.0,
    end_s=24.0,
    caption="on-screen text seen",
    ocr_lines=("ALARM CODE 7315",),
    visual_embedding=(0.5, -0.25, 0.125),
    frame_count=4,
    start_wall_ms=1_700_000_000_000,
    keyframes=(Keyframe(21.5, b"\xff\xd8 jpeg 1"), Keyframe(23.0, b"\xff\xd8 jpeg 2")),
)


FILE_CLIP = ClipRecord("gate", 21.0, 24.0, "", ("ALARM CODE 7315",), frame_count=4, source_key="9f86d081884c7d65")


@pytest.mark.parametrize("clip", [CLIP, FILE_CLIP], ids=["live", "file"])
def test_clip_round_trip(clip):
    assert convert.clip_from_pb(convert.clip_to_pb(clip)) == clip


LIVE_HIT = SearchHit(
    "gate#1#3",
    "gate",
    21.0,
    69.0,
    "cars pass the barrier; the alarm code 7315 shows",
    0.9,
    level=1,
    start_wall_ms=1_700_000_021_000,
    end_wall_ms=1_700_000_069_000,
    keyframe_ids=("gate@w1700000021000#k0",),
)


@pytest.mark.parametrize(
    "hit",
    [SearchHit("gate@000000021000", "gate", 21.0, 24.0, "text on screen: ALARM CODE 7315", 1.75), LIVE_HIT],
    ids=["file clip", "live segment"],
)
def test_hit_round_trip(hit):
    assert convert.hit_from_pb(convert.hit_to_pb(hit)) == hit


def test_search_result_round_trip():
    result = SearchResult(
        hits=(LIVE_HIT, SearchHit("gate@000000002000", "gate", 2.0, 6.0, "a car", 0.5)), nodes_read=37
    )
    assert convert.search_result_from_pb(convert.search_result_to_pb(result)) == result


@pytest.mark.parametrize(
    "node",
    [
        Node("gate@000000021000", "gate", 0, 21.0, 24.0, "ALARM CODE 7315", keyframe_ids=("k1",), parent_id="gate#1#0"),
        Node(
            "gate#2#0",
            "gate",
            2,
            0.0,
            768.0,
            "an afternoon of cars at the barrier",
            start_wall_ms=1_700_000_000_000,
            end_wall_ms=1_700_000_768_000,
            child_ids=("gate#1#0", "gate#1#1"),
        ),
    ],
    ids=["clip", "episode in the window"],
)
def test_node_round_trip(node):
    assert convert.node_from_pb(convert.node_to_pb(node)) == node


def test_keyframe_data_round_trip():
    keyframe = KeyframeData("gate@000000021000#k0", "gate", 21.5, bytes(range(256)))
    assert convert.keyframe_data_from_pb(convert.keyframe_data_to_pb(keyframe)) == keyframe


def test_memory_stats_round_trip():
    gate = StreamStats(
        stream_id="gate",
        clips=4096,
        nodes_per_level=(256, 16, 1),
        keyframes=900,
        vector_bytes=3 * 2**30,  # beyond int32: the int64 fields carry it
        metadata_bytes=2_000_000,
        keyframe_bytes=45_000_000,
        log_bytes=80_000_000,
        keyframes_removed=12,
        clip_texts_removed=7,
        summaries_removed=1,
        first_s=0.5,
        last_s=20_480.0,
        window_clips=9,
    )
    stats = MemoryStats(streams=(gate, StreamStats("dock")), disk_bytes=5 * 2**30)
    assert convert.memory_stats_from_pb(convert.memory_stats_to_pb(stats)) == stats
    assert gate.total_bytes == 3 * 2**30 + 2_000_000 + 45_000_000 + 80_000_000


def test_deleted_stream_round_trip():
    deleted = DeletedStream(clips_deleted=4096, nodes_deleted=273, keyframes_deleted=900)
    assert convert.deleted_stream_from_pb(convert.deleted_stream_to_pb(deleted)) == deleted


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
        evidence=(
            Evidence("gate", 21.0, 24.0, "ALARM CODE 7315", "gate@000000021000", 1.2),
            Evidence("cam", 3.0, 6.0, "EXIT 42", "cam@w1700000003000", 0.4, 1_700_000_003_000, 1_700_000_006_000),
        ),
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
