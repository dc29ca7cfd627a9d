"""The memory read commands against a fake client: what reaches the SDK, what a person reads (stream time
with the UTC wall clock beside it for live streams), the JSON shapes, and misuse refused before any call."""

from __future__ import annotations

import json
import re

import pytest

from longwatch import errors
from longwatch.types import (
    Answer,
    DeletedStream,
    Evidence,
    KeyframeData,
    MemoryStats,
    Node,
    SearchHit,
    SearchResult,
    StreamStats,
)
from longwatch_cli import cli
from tests.unit.cli.fakes import FakeClient, FakeMemory, FakeReasoner

NOON_04 = 1_796_299_204_000  # 2026-12-03T12:00:04Z
LIVE_HIT = SearchHit(
    "cam#1#0", "cam", 4.0, 68.0, "a van unloads at the dock", 0.82, 1, NOON_04, NOON_04 + 64_000, ("kf-1", "kf-2")
)
FILE_HIT = SearchHit("gate@000000021000", "gate", 21.0, 24.0, "text on screen: ALARM CODE 7315", 0.4)
SEGMENT = Node(
    "cam#1#0",
    "cam",
    1,
    4.0,
    68.0,
    "a van unloads at the dock",
    start_wall_ms=NOON_04,
    end_wall_ms=NOON_04 + 64_000,
    child_ids=("cam@w1796299204000", "cam@w1796299208000"),
    parent_id="cam#2#0",
)
CLIP = Node("gate@000000021000", "gate", 0, 21.0, 24.0, "ALARM CODE 7315", keyframe_ids=("kf-9",))


def run(argv: list[str], memory: FakeMemory) -> int:
    return cli.main(argv, connect=FakeClient(memory=memory).connect)


def test_search_passes_every_option_to_the_sdk():
    memory = FakeMemory()
    argv = [
        "search", "red van", "--stream", "cam", "--stream", "dock", "--level", "1", "-k", "5",
        "--from", "1:30", "--to", "3600", "--since", "2026-12-03T12:00:04Z", "--until", "2026-12-03T13:00:04+01:00",
    ]  # fmt: skip
    assert run(argv, memory) == 0
    assert memory.calls == [
        (
            "search",
            {
                "text": "red van",
                "stream_ids": ["cam", "dock"],
                "start_s": 90.0,
                "end_s": 3600.0,
                "k": 5,
                "level": 1,
                "start_wall_ms": NOON_04,
                "end_wall_ms": NOON_04,
            },
        )
    ]


def test_search_shows_the_wall_clock_beside_stream_time_for_live_streams_only(capsys):
    memory = FakeMemory(result=SearchResult(hits=(LIVE_HIT, FILE_HIT), nodes_read=37))
    assert run(["search", "van", "--level", "1"], memory) == 0
    out = capsys.readouterr().out
    assert out.startswith("2 hits among segments, 37 nodes read")
    assert "1. cam 0:04-1:08 (2026-12-03T12:00:04Z/12:01:08Z)  score 0.82  cam#1#0  2 keyframes" in out
    assert "2. gate 0:21-0:24  score 0.40  gate@000000021000\n" in out  # a file: no wall clock to show
    assert "a van unloads at the dock" in out


def test_search_json_is_one_object_with_the_hits_and_nodes_read(capsys):
    memory = FakeMemory(result=SearchResult(hits=(LIVE_HIT,), nodes_read=37))
    assert run(["search", "van", "--json"], memory) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    reply = json.loads(out)
    assert reply["nodes_read"] == 37
    [hit] = reply["hits"]
    assert hit["clip_id"] == "cam#1#0" and hit["level"] == 1
    assert (hit["start_wall_ms"], hit["end_wall_ms"], hit["keyframe_ids"]) == (
        NOON_04,
        NOON_04 + 64_000,
        ["kf-1", "kf-2"],
    )


def test_a_truncated_timeline_says_where_to_continue(capsys):
    memory = FakeMemory(nodes=[SEGMENT], is_truncated=True)
    assert run(["timeline", "cam", "--level", "1", "--limit", "1"], memory) == 0
    assert memory.calls[0] == (
        "timeline",
        {
            "stream_id": "cam",
            "level": 1,
            "start_s": 0.0,
            "end_s": 0.0,
            "start_wall_ms": 0,
            "end_wall_ms": 0,
            "limit": 1,
        },
    )
    out = capsys.readouterr().out
    assert out.startswith("cam: 1 node among segments")
    assert "cam#1#0  cam 0:04-1:08 (2026-12-03T12:00:04Z/12:01:08Z)  level 1, 2 children, in cam#2#0" in out
    assert "continue with --since 2026-12-03T12:01:08Z" in out


def test_a_file_timeline_continues_by_stream_time_and_json_says_truncated(capsys):
    memory = FakeMemory(nodes=[CLIP], is_truncated=True)
    assert run(["timeline", "gate"], memory) == 0
    assert "continue with --from 0:24" in capsys.readouterr().out
    assert run(["timeline", "gate", "--json"], memory) == 0
    reply = json.loads(capsys.readouterr().out)
    assert reply["truncated"] is True and reply["nodes"][0]["node_id"] == "gate@000000021000"


def test_expand_lists_the_children(capsys):
    memory = FakeMemory(nodes=[CLIP])
    assert run(["expand", "gate#1#0"], memory) == 0
    assert memory.calls == [("expand", {"node_id": "gate#1#0"})]
    out = capsys.readouterr().out
    assert out.startswith("gate#1#0: 1 child\n")
    assert "gate@000000021000  gate 0:21-0:24  level 0, 1 keyframe, in the short-term window" in out


def test_get_writes_the_keyframes_inside_the_directory(tmp_path, capsys):
    keyframes = [
        KeyframeData("kf-9", "gate", 22.0, b"\xff\xd8 one"),
        KeyframeData("../../x", "gate", 23.0, b"\xff\xd8 two"),
    ]
    memory = FakeMemory(nodes=[CLIP], keyframes=keyframes)
    out_dir = tmp_path / "frames"
    argv = ["get", "gate@000000021000", "--keyframe", "kf-9", "--keyframe", "../../x", "--keyframes-to", str(out_dir)]
    assert run(argv, memory) == 0
    assert memory.calls == [("get", {"node_ids": ["gate@000000021000"], "keyframe_ids": ["kf-9", "../../x"]})]
    assert (out_dir / "kf-9.jpg").read_bytes() == b"\xff\xd8 one"
    assert sorted(path.name for path in tmp_path.rglob("*.jpg")) == ["_.._x.jpg", "kf-9.jpg"]  # nothing outside
    assert (out_dir / "_.._x.jpg").read_bytes() == b"\xff\xd8 two"
    assert f"written to {out_dir / 'kf-9.jpg'}" in capsys.readouterr().out


def test_get_json_names_the_files_and_an_id_memory_lacks_exits_1(tmp_path, capsys):
    memory = FakeMemory(keyframes=[KeyframeData("kf-9", "gate", 22.0, b"\xff\xd8")])
    argv = ["get", "gate#9#9", "--keyframe", "kf-9", "--keyframes-to", str(tmp_path), "--json"]
    assert run(argv, memory) == 1
    captured = capsys.readouterr()
    reply = json.loads(captured.out)
    assert reply["keyframes"] == [
        {"keyframe_id": "kf-9", "stream_id": "gate", "t_s": 22.0, "bytes": 2, "path": str(tmp_path / "kf-9.jpg")}
    ]
    assert reply["missing"] == ["gate#9#9"]
    assert captured.err.startswith("error: not in memory: gate#9#9")


def test_stats_shows_what_each_store_holds_and_what_retention_removed(capsys):
    gate = StreamStats(
        "gate",
        clips=4096,
        nodes_per_level=(256, 16, 1),
        keyframes=900,
        vector_bytes=3 * 2**30,
        metadata_bytes=2 * 2**20,
        keyframe_bytes=45 * 2**20,
        log_bytes=80 * 2**20,
        keyframes_removed=12,
        clip_texts_removed=1,
        summaries_removed=0,
        first_s=0.0,
        last_s=20_480.0,
        window_clips=9,
    )
    memory = FakeMemory(stats=MemoryStats(streams=(gate,), disk_bytes=4 * 2**30))
    assert run(["stats", "gate"], memory) == 0
    assert memory.calls == [("stats", {"stream_ids": ["gate"]})]
    out = capsys.readouterr().out
    assert out.startswith("memory data on disk: 4.0 GiB")
    assert "256/16/1" in out and "0:00-5:41:20" in out and "3.1 GiB" in out
    assert "removed by retention: 12 keyframes, 1 clip text, 0 summaries" in out
    assert run(["stats", "--json"], memory) == 0
    reply = json.loads(capsys.readouterr().out)
    assert reply["disk_bytes"] == 4 * 2**30
    assert reply["streams"][0]["nodes_per_level"] == [256, 16, 1]
    assert reply["streams"][0]["total_bytes"] == gate.total_bytes


def test_delete_stream_needs_yes_and_then_reports_what_went(capsys):
    memory = FakeMemory(deleted=DeletedStream(clips_deleted=4096, nodes_deleted=273, keyframes_deleted=1))
    with pytest.raises(SystemExit) as exit_info:
        run(["delete-stream", "gate"], memory)
    assert exit_info.value.code == 2
    assert "add --yes" in capsys.readouterr().err
    assert memory.calls == []  # refused before anything was sent
    assert run(["delete-stream", "gate", "--yes"], memory) == 0
    assert memory.calls == [("delete_stream", {"stream_id": "gate"})]
    assert capsys.readouterr().out == "deleted gate: 4096 clips, 273 summary nodes, 1 keyframe\n"


def test_an_sdk_error_is_one_line_on_stderr(capsys):
    memory = FakeMemory(error=errors.NotFound("no node 'gate#7#0'; pass an id from search, timeline or expand"))
    assert run(["expand", "gate#7#0"], memory) == 1
    assert capsys.readouterr().err == "error: no node 'gate#7#0'; pass an id from search, timeline or expand\n"


def test_ask_shows_the_wall_clock_of_live_evidence(capsys):
    answer = Answer(
        "A van unloaded.",
        evidence=(
            Evidence("cam", 4.0, 8.0, "a van", "cam@w1796299204000", 0.9, NOON_04, NOON_04 + 4_000),
            Evidence("gate", 21.0, 24.0, "ALARM CODE 7315", "gate@000000021000", 0.3),
        ),
        confidence=0.7,
    )
    fake = FakeClient(reasoner=FakeReasoner(answer=answer))
    assert cli.main(["ask", "what unloaded?"], connect=fake.connect) == 0
    out = capsys.readouterr().out
    assert "1. cam 0:04-0:08 (2026-12-03T12:00:04Z/12:00:08Z)  a van" in out
    assert "2. gate 0:21-0:24  ALARM CODE 7315" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["search", "van", "--since", "2026-12-03T12:00:04"], "has no time zone; add Z for UTC"),
        (["search", "van", "--since", "yesterday"], "argument --since"),
        (
            ["search", "van", "--until", "1999-01-01T00:00:00Z"],
            "outside the wall clock memory keeps; give a time from 2000 to 2200",
        ),
        (["search", "van", "--from", "1:75"], "minutes and seconds after a colon run from 00 to 59"),
        (["search", "van", "--from", "nan"], "a stream time must be a number of seconds"),
        (["search", "van", "--from", "30", "--to", "10"], r"--from \(30 s\) is after --to \(10 s\); swap them"),
        (
            ["search", "van", "--since", "2026-12-03T13:00:00Z", "--until", "2026-12-03T12:00:00Z"],
            "--since 2026-12-03T13:00:00Z is after --until 2026-12-03T12:00:00Z",
        ),
        (["search", "van", "--level", "-1"], "level must be 0 .clips."),
        (["search", "van", "--level", "one"], "level 'one' is not a whole number"),
        (["search", "van", "-k", "0"], "-k 0 is out of range; pass 1 to 100"),
        (["search", "van", "--stream", "front door"], "is not valid: use 1 to 64 letters"),
        (["timeline", "gate", "--limit", "5000"], "--limit 5000 is out of range; pass 1 to 1000"),
        (["timeline", "../etc"], "stream_id '../etc' is not valid"),
        (["expand", ""], "an id is empty"),
        (["get"], "name a node id"),
        (["get", "gate#1#0", "--keyframes-to", "frames"], "--keyframes-to writes the keyframes named by --keyframe"),
        (["stats", "a b"], "is not valid"),
        (["delete-stream"], "the following arguments are required: STREAM"),
    ],
)
def test_misuse_is_a_usage_error_that_says_what_to_change(argv, message, capsys):
    memory = FakeMemory()
    with pytest.raises(SystemExit) as exit_info:
        run(argv, memory)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "usage:" in err
    assert re.search(message, err), err
    assert memory.calls == []
