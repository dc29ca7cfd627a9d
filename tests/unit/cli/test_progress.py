"""Following a stream: the bar learns the length late, and a vanished stream is an error."""

import asyncio
import dataclasses

import pytest

from longwatch import errors
from longwatch.progress import wait_until_final
from longwatch.types import StreamState
from tests.unit.cli.fakes import FakePerception, status


def test_bar_switches_to_a_percentage_once_the_length_is_known(capsys):
    polls = [
        dataclasses.replace(status(StreamState.STARTING), duration_s=0.0),
        status(StreamState.RUNNING, 20.0, 4),
        status(StreamState.FINISHED, 47.9, 10),
    ]
    final = asyncio.run(wait_until_final(FakePerception(polls), "gate", poll_s=0.0))
    assert final.state is StreamState.FINISHED
    err = capsys.readouterr().err
    assert "100%" in err and "48.0/48.0 s" in err and "10 clips, finished" in err


def test_quiet_mode_draws_nothing(capsys):
    asyncio.run(wait_until_final(FakePerception([status(StreamState.STOPPED)]), "gate", show_progress=False))
    assert capsys.readouterr().err == ""


def test_a_stream_that_vanishes_is_not_found():
    with pytest.raises(errors.NotFound, match="no longer knows the stream 'gate'"):
        asyncio.run(wait_until_final(FakePerception([]), "gate", poll_s=0.0))
