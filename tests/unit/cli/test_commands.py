"""Client commands against a fake client: output shapes, progress to the end, errors as one line."""

import json

import pytest

from longwatch import errors
from longwatch.types import StreamState, StreamSummary
from longwatch_cli import cli
from tests.unit.cli.fakes import FakeClient, FakeMemory, FakePerception, FakeReasoner, status


@pytest.fixture(autouse=True)
def fast_polls(monkeypatch):
    monkeypatch.setattr("longwatch.progress.POLL_S", 0.0)


def test_ask_json_prints_exactly_one_object_of_the_documented_shape(capsys):
    assert cli.main(["ask", "What was the alarm code?", "--json"], connect=FakeClient().connect) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1  # one line, one object, nothing else
    reply = json.loads(out)
    assert set(reply) == {
        "answer",
        "confidence",
        "evidence",
        "latency_ms",
        "method",
        "partial",
        "nodes_read",
        "hops",
        "fallback",
    }
    assert reply["answer"] == "The alarm code was 7315."
    assert reply["confidence"] == pytest.approx(0.82)
    assert reply["latency_ms"] == pytest.approx(143.5)
    assert (reply["method"], reply["partial"], reply["fallback"]) == ("", False, "")
    brief = [{key: item[key] for key in ("stream", "start_s", "end_s", "text")} for item in reply["evidence"]]
    assert brief == [
        {"stream": "gate", "start_s": 21.0, "end_s": 26.5, "text": "text on screen: ALARM CODE 7315"},
        {"stream": "dock", "start_s": 75.0, "end_s": 80.0, "text": "a boat is moored"},
    ]
    assert set(reply["evidence"][0]) == {
        "stream",
        "start_s",
        "end_s",
        "text",
        "clip_id",
        "score",
        "start_wall_ms",
        "end_wall_ms",
        "level",
        "keyframe_ids",
        "hop",
    }


def test_ask_text_shows_answer_confidence_and_evidence_as_minutes_and_seconds(capsys):
    assert cli.main(["ask", "What was the alarm code?"], connect=FakeClient().connect) == 0
    out = capsys.readouterr().out
    assert out.startswith("The alarm code was 7315.")
    assert "confidence 0.82" in out
    assert "1. gate 0:21-0:27" in out  # 21.0-26.5 s: the range is rounded out to cover the clip
    assert "2. dock 1:15-1:20" in out


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (errors.InvalidArgument("the question is empty; ask something"), "the question is empty; ask something"),
        (errors.InvalidArgument("deadline_ms is -5; pass 0 or more"), "deadline_ms is -5; pass 0 or more"),
        (errors.NotFound("no stream 'nope'; known streams: gate"), "no stream 'nope'; known streams: gate"),
        (
            errors.Unavailable("cannot reach the reasoner service at 127.0.0.1:50063: start it with `longwatch up`"),
            "cannot reach the reasoner service at 127.0.0.1:50063",
        ),
    ],
)
def test_sdk_errors_become_one_line_on_stderr_and_exit_1(error, message, capsys):
    fake = FakeClient(reasoner=FakeReasoner(error=error))
    assert cli.main(["ask", "q", "--json"], connect=fake.connect) == 1
    captured = capsys.readouterr()
    assert captured.out == ""  # --json promises an object or nothing
    assert captured.err.startswith(f"error: {message}")
    assert "Traceback" not in captured.err
    assert fake.is_closed


def test_ingest_sends_an_absolute_path(tmp_path, monkeypatch, capsys):
    (tmp_path / "gate.mp4").write_bytes(b"not checked here")
    monkeypatch.chdir(tmp_path)
    fake = FakeClient()
    assert cli.main(["ingest", "gate.mp4", "--stream", "gate", "--sample-fps", "2"], connect=fake.connect) == 0
    assert fake.perception.added == [("gate", str(tmp_path / "gate.mp4"), 2.0)]
    assert "longwatch streams" in capsys.readouterr().out


def test_ingest_passes_urls_unchanged():
    fake = FakeClient()
    assert cli.main(["ingest", "rtsp://cam.local/live", "--stream", "cam"], connect=fake.connect) == 0
    assert fake.perception.added == [("cam", "rtsp://cam.local/live", 0.0)]


def test_ingest_of_a_missing_relative_path_says_so_and_sends_nothing(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    fake = FakeClient()
    assert cli.main(["ingest", "nope.mp4", "--stream", "s"], connect=fake.connect) == 1
    assert capsys.readouterr().err.startswith(f"error: no such file: {tmp_path / 'nope.mp4'}")
    assert fake.perception.added == []


def test_ingest_of_a_path_under_an_unknown_users_home_says_so_and_sends_nothing(capsys):
    fake = FakeClient()
    assert cli.main(["ingest", "~no-such-user-here/a.mp4", "--stream", "s"], connect=fake.connect) == 1
    assert capsys.readouterr().err.startswith("error: cannot expand '~no-such-user-here/a.mp4'")
    assert fake.perception.added == []


def test_ingest_sends_an_absolute_path_that_is_not_here_for_perception_to_judge(tmp_path):
    """Perception may run in a container that mounts /videos; it answers NOT_FOUND itself if it has no such file."""
    fake = FakeClient()
    assert cli.main(["ingest", "/videos/gate.mp4", "--stream", "s"], connect=fake.connect) == 0
    assert fake.perception.added == [("s", "/videos/gate.mp4", 0.0)]


def test_ingest_wait_follows_the_stream_until_finished(tmp_path, capsys):
    video = tmp_path / "gate.mp4"
    video.write_bytes(b"x")
    polls = [
        status(StreamState.RUNNING, 10.0, 2),
        status(StreamState.RUNNING, 30.0, 6),
        status(StreamState.FINISHED, 47.9, 10),
    ]
    fake = FakeClient(perception=FakePerception(polls))
    assert cli.main(["ingest", str(video), "--stream", "gate", "--wait", "--json"], connect=fake.connect) == 0
    captured = capsys.readouterr()
    reply = json.loads(captured.out)
    assert reply["state"] == "finished" and reply["clips_written"] == 10
    assert "48.0/48.0 s" in captured.err  # the bar reaches the end


def test_ingest_wait_on_a_failed_stream_prints_the_reason_and_exits_1(tmp_path, capsys):
    video = tmp_path / "notes.txt"
    video.write_text("not a video")
    polls = [status(StreamState.FAILED, error="cannot decode notes.txt: Invalid data found")]
    fake = FakeClient(perception=FakePerception(polls))
    assert cli.main(["ingest", str(video), "--stream", "gate", "--wait"], connect=fake.connect) == 1
    assert "error: stream 'gate' failed: cannot decode notes.txt: Invalid data found" in capsys.readouterr().err


def test_ingest_refused_by_perception_exits_1(tmp_path, capsys):
    video = tmp_path / "gate.mp4"
    video.write_bytes(b"x")
    fake = FakeClient(perception=FakePerception(error=errors.AlreadyExists("stream 'gate' exists; pick another name")))
    assert cli.main(["ingest", str(video), "--stream", "gate"], connect=fake.connect) == 1
    assert capsys.readouterr().err == "error: stream 'gate' exists; pick another name\n"


def test_streams_json_has_both_services(capsys):
    fake = FakeClient(
        perception=FakePerception([status(StreamState.RUNNING, 12.0, 3)]),
        memory=FakeMemory([StreamSummary("gate", 3, 0.0, 11.5)]),
    )
    assert cli.main(["streams", "--json"], connect=fake.connect) == 0
    reply = json.loads(capsys.readouterr().out)
    assert reply["memory"] == [{"stream_id": "gate", "clip_count": 3, "first_s": 0.0, "last_s": 11.5}]
    [watched] = reply["perception"]
    assert (watched["stream_id"], watched["state"], watched["clips_written"]) == ("gate", "running", 3)


def test_streams_text_lists_counters(capsys):
    fake = FakeClient(perception=FakePerception([status(StreamState.RUNNING, 12.0, 3)]))
    assert cli.main(["streams"], connect=fake.connect) == 0
    out = capsys.readouterr().out
    assert "gate" in out and "running" in out
    assert "memory:\n  (no streams)" in out


def test_make_sample_where_it_cannot_write_says_so(tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    assert cli.main(["make-sample", "--out", str(blocker / "sample.mp4")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and str(blocker) in err and "Traceback" not in err
