"""Arguments: what reaches the client, and misuse that argparse refuses with exit status 2."""

import shlex
from pathlib import Path

import pytest

from longwatch_cli import cli
from tests.unit.cli.fakes import FakeClient


def test_address_flags_reach_connect_and_unset_ones_stay_none():
    fake = FakeClient()
    assert cli.main(["ask", "why?", "--reasoner", "10.0.0.5:7000"], connect=fake.connect) == 0
    assert fake.addresses == {"perception": None, "memory": None, "reasoner": "10.0.0.5:7000"}


def test_ask_passes_every_stream_and_the_deadline(capsys):
    fake = FakeClient()
    argv = ["ask", "what happened?", "--stream", "gate", "--stream", "dock", "--deadline-ms", "2500"]
    assert cli.main(argv, connect=fake.connect) == 0
    assert fake.reasoner.questions == [("what happened?", ["gate", "dock"], 2500)]


def test_up_defaults_are_the_documented_ports():
    args = cli.build_parser().parse_args(["up"])
    assert (args.perception_port, args.memory_port, args.reasoner_port) == (50061, 50062, 50063)
    assert args.profile is None  # None: LONGWATCH_PROFILE or the settings default decides


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["frobnicate"],
        ["ingest", "video.mp4"],  # --stream is required
        ["ingest", "video.mp4", "--stream", "s", "--sample-fps", "-1"],
        ["ingest", "video.mp4", "--stream", "../../../etc/passwd"],  # the stream id every service refuses
        ["ask", "q", "--stream", "front door"],
        ["ask"],
        ["ask", "q", "--deadline-ms", "soon"],
        ["up", "--memory-port", "70000"],
        ["up", "--profile", "huge"],
        ["make-sample", "--seed", "x"],
    ],
)
def test_misuse_exits_2_with_usage(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv, connect=FakeClient().connect)
    assert exit_info.value.code == 2
    assert "usage:" in capsys.readouterr().err


def test_every_command_the_readme_shows_parses():
    """The README's CLI block is what a user copies: each line must be a command the parser accepts."""
    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text()
    block = readme.split("## The CLI", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    lines = [shlex.split(line, comments=True) for line in block.splitlines() if line.strip()]
    assert len(lines) >= 10 and all(words[0] == "longwatch" for words in lines)
    for words in lines:
        args = cli.build_parser().parse_args(words[1:])  # exits 2, failing the test, on a flag that is not real
        assert args.handler is not None
