"""`longwatch eval` arguments: modes, and bad values refused with what to change."""

from __future__ import annotations

import pytest

from longwatch_cli import cli
from longwatch_cli.eval.command import plan_from_args
from longwatch_cli.eval.runner import FULL_HAYSTACKS_S, QUICK_HAYSTACKS_S


def _parse(*argv: str):
    return cli.build_parser().parse_args(["eval", *argv])


def test_quick_is_the_default_and_full_adds_the_long_haystack():
    assert plan_from_args(_parse()).haystacks_s == QUICK_HAYSTACKS_S
    full = plan_from_args(_parse("--full", "--seed", "9"))
    assert full.haystacks_s == FULL_HAYSTACKS_S and full.seed == 9 and full.is_full
    assert plan_from_args(_parse("--haystack-s", "300", "--families", "lab_readout")).families == ("lab_readout",)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("--families", "car_park"), "choose from"),
        (("--haystack-s", "5"), "120 to 86400"),
        (("--quick", "--full"), "not allowed with"),
    ],
)
def test_bad_arguments_say_what_to_change(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        _parse(*argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_every_question_kind_fits_a_quick_stream_of_every_family():
    for plan_args in (_parse(), _parse("--haystack-s", "120")):
        episodes = plan_from_args(plan_args).episodes()
        assert len(episodes) == 4 and all(e.questions for e in episodes)
