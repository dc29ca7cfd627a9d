"""ask and summarize against a fake client: steps shown live, the answer's new fields, time ranges, summaries."""

import json
from dataclasses import replace

import pytest

from longwatch import errors
from longwatch.types import AskProgress, TimeRange
from longwatch_cli import cli
from tests.unit.cli.fakes import ANSWER, FakeClient, FakeReasoner

STEPS = (
    AskProgress("plan", "a question about one value"),
    AskProgress("read", "reading segment 0:40-2:00", "dock-cam", "dock-cam#1#0", 1, 40.0, 120.0, 12.0),
    AskProgress("read", "reading clip 1:05-1:10", "dock-cam", "dock-cam@000000065000", 0, 65.0, 70.0, 20.0),
)
NOON_MS = 1_796_299_200_000  # 2026-12-03T12:00:00Z


def run(argv, reasoner: FakeReasoner | None = None):
    fake = FakeClient(reasoner=reasoner or FakeReasoner(steps=STEPS))
    return cli.main(argv, connect=fake.connect), fake


def test_ask_shows_each_step_on_stderr_as_one_line_then_the_answer_on_stdout(capsys):
    status, _ = run(["ask", "What was the alarm code?"])
    assert status == 0
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert len(lines) == len(STEPS)
    assert lines[0].split() == ["plan", "a", "question", "about", "one", "value"]
    assert lines[1].split() == ["read", "level", "1", "0:40-2:00", "dock-cam", "reading", "segment", "0:40-2:00"]
    assert "level 0" in lines[2] and "1:05-1:10" in lines[2]
    assert captured.out.startswith("The alarm code was 7315.")
    assert "read" not in captured.out


@pytest.mark.parametrize("flag", ["--json", "--quiet"])
def test_json_and_quiet_show_no_steps(flag, capsys):
    assert run(["ask", "What was the alarm code?", flag])[0] == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    assert captured.out.startswith("{" if flag == "--json" else "The alarm code")


def test_a_partial_answer_says_so_with_its_method_and_fallback(capsys):
    answer = replace(ANSWER, partial=True, method="extractive", fallback="the LLM failed: out of memory")
    assert run(["ask", "What was the alarm code?"], FakeReasoner(answer=answer))[0] == 0
    out = capsys.readouterr().out
    assert "confidence 0.82, 144 ms, method extractive (partial: the deadline came first)" in out
    assert "fallback: the LLM failed: out of memory" in out


def test_a_whole_answer_does_not_claim_to_be_partial(capsys):
    assert run(["ask", "What was the alarm code?"])[0] == 0
    out = capsys.readouterr().out
    assert "partial" not in out and "fallback" not in out and "method" not in out


def test_ask_json_carries_the_new_fields_and_nothing_else_on_stdout(capsys):
    answer = replace(ANSWER, partial=True, method="value", nodes_read=17, hops=1)
    assert run(["ask", "q", "--json"], FakeReasoner(answer=answer, steps=STEPS))[0] == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    reply = json.loads(out)
    assert (reply["partial"], reply["method"], reply["nodes_read"], reply["hops"]) == (True, "value", 17, 1)
    assert reply["evidence"][0]["clip_id"] == "gate@000000021000"


@pytest.mark.parametrize(
    ("bounds", "expected"),
    [
        ([], TimeRange()),
        (["--from", "90", "--to", "1:02:03"], TimeRange(start_s=90.0, end_s=3723.0)),
        (["--from", "1:30"], TimeRange(start_s=90.0)),
        (
            ["--from", "2026-12-03T12:00:00Z", "--to", "2026-12-03T13:00:00+01:00"],
            TimeRange(start_wall_ms=NOON_MS, end_wall_ms=NOON_MS),
        ),
        (["--from", "2026-12-03", "--to", "0:45"], TimeRange(end_s=45.0, start_wall_ms=NOON_MS - 12 * 3_600_000)),
    ],
)
def test_from_and_to_reach_the_reasoner_as_a_time_range(bounds, expected, capsys):
    status, fake = run(["ask", "what happened?", "--stream", "dock-cam", "--deadline-ms", "800", *bounds])
    assert status == 0
    assert fake.reasoner.questions == [("what happened?", ["dock-cam"], 800)]
    assert fake.reasoner.time_ranges == [expected]


@pytest.mark.parametrize(
    ("bounds", "message"),
    [
        (["--from", "yesterday"], "give a stream time (90, 1:30 or 1:02:03) or a UTC wall-clock time"),
        (["--from", "-5"], "a stream time must be a number of seconds"),
        (["--from", "nan"], "a stream time must be a number of seconds"),
        (["--to", "2026-12-03T12:00:00"], "has no time zone; add Z for UTC"),
        (["--to", "1999-01-01T00:00:00Z"], "give a time from 2000 to 2200"),
        (["--from", "2:00", "--to", "1:00"], "--from (120 s) is after --to (60 s); swap them"),
        (
            ["--from", "2026-12-03T13:00:00Z", "--to", "2026-12-03T12:00:00Z"],
            "--from 2026-12-03T13:00:00Z is after --to 2026-12-03T12:00:00Z",
        ),
    ],
)
@pytest.mark.parametrize("command", [["ask", "what happened?"], ["summarize", "dock-cam"]])
def test_a_bad_time_is_refused_saying_what_to_give(command, bounds, message, capsys):
    fake = FakeClient()
    with pytest.raises(SystemExit) as exit_info:
        cli.main([*command, *bounds], connect=fake.connect)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
    assert fake.reasoner.questions == [] and fake.reasoner.summarized == []


def test_an_error_after_some_steps_prints_one_line_and_no_answer(capsys):
    reasoner = FakeReasoner(steps=STEPS, error=errors.DeadlineExceeded("the deadline passed; give more time"))
    assert run(["ask", "q", "--json"], reasoner)[0] == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == "error: the deadline passed; give more time\n"


def test_summarize_prints_the_summary_and_its_evidence(capsys):
    status, fake = run(["summarize", "gate", "--from", "0:20", "--to", "40", "--deadline-ms", "3000"])
    assert status == 0
    assert fake.reasoner.summarized == [("gate", TimeRange(start_s=20.0, end_s=40.0), 3000)]
    out = capsys.readouterr().out
    assert out.startswith("A red car stops at the gate; the alarm panel shows code 7315.")
    assert "gate 0:20-0:40, 88 ms, 3 nodes read" in out
    assert "1. gate 0:21-0:27  text on screen: ALARM CODE 7315" in out
    assert "partial" not in out


def test_summarize_json_is_one_object(capsys):
    assert run(["summarize", "gate", "--json"])[0] == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    reply = json.loads(out)
    assert (reply["stream"], reply["start_s"], reply["end_s"], reply["nodes_read"]) == ("gate", 20.0, 40.0, 3)
    assert reply["summary"].startswith("A red car")
    assert [(item["clip_id"], item["level"]) for item in reply["evidence"]] == [("gate#1#0", 1)]


def test_a_summarize_error_is_one_line(capsys):
    reasoner = FakeReasoner(error=errors.NotFound("no stream 'gate' in memory; known streams: dock"))
    assert run(["summarize", "gate"], reasoner)[0] == 1
    assert capsys.readouterr().err == "error: no stream 'gate' in memory; known streams: dock\n"
