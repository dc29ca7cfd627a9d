"""The `longwatch eval` command: its arguments and what runs them.

longwatch eval                       # quick: four scene families, 10-minute haystacks, seed 1
longwatch eval --full --seed 7       # and 2 h 47 min haystacks
longwatch eval --attach              # score the services `longwatch up` runs instead of starting its own
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import shlex
import sys
import tempfile
from pathlib import Path

from longwatch_cli.eval.families import family_names
from longwatch_cli.eval.runner import FULL_HAYSTACKS_S, QUICK_HAYSTACKS_S, EvalPlan, rescore, run_eval, write_report

logger = logging.getLogger(__name__)


def _families(text: str) -> tuple[str, ...]:
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    unknown = [name for name in names if name not in family_names()]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"unknown scene family {unknown}; choose from {', '.join(family_names())}")
    return names


def _haystack(text: str) -> float:
    value = float(text)
    if not 120 <= value <= 86_400:
        raise argparse.ArgumentTypeError(f"{value} s is not a haystack length; give 120 to 86400 seconds")
    return value


def add_eval_parser(commands: argparse._SubParsersAction, addresses: argparse.ArgumentParser) -> None:
    parser = commands.add_parser(
        "eval", parents=[addresses], help="score answers on generated streams of scenes the system was not written for"
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="10-minute haystacks (the default)")
    mode.add_argument("--full", action="store_true", help="10-minute and 2 h 47 min (10,000-frame) haystacks")
    parser.add_argument("--seed", type=int, default=1, metavar="N", help="the streams and questions (default 1)")
    parser.add_argument("--families", type=_families, default=tuple(family_names()), metavar="A,B")
    parser.add_argument("--haystack-s", type=_haystack, action="append", metavar="S", help="stream length (repeatable)")
    parser.add_argument("--deadline-ms", type=int, default=0, metavar="N", help="per question; 0 = the server's")
    parser.add_argument("--results", type=Path, default=Path("eval-results"), metavar="DIR")
    parser.add_argument("--videos", type=Path, metavar="DIR", help="where the streams are written (kept, reused)")
    parser.add_argument("--attach", action="store_true", help="use running services instead of starting them")
    parser.add_argument("--rescore", action="store_true", help="score the replies in --results again; ask nothing")
    parser.add_argument("--profile", help="model profile of the services it starts (env LONGWATCH_PROFILE)")
    parser.add_argument("--model-cache", type=Path, help="prepared models (env LONGWATCH_MODEL_CACHE)")


def plan_from_args(args: argparse.Namespace) -> EvalPlan:
    haystacks = tuple(args.haystack_s or (FULL_HAYSTACKS_S if args.full else QUICK_HAYSTACKS_S))
    return EvalPlan(seed=args.seed, families=args.families, haystacks_s=haystacks, is_full=args.full)


def run_eval_command(args: argparse.Namespace, profile: str, model_cache: Path) -> int:
    """Runs the evaluation against running services (--attach) or against its own; writes the report."""
    results = args.results.expanduser().resolve()
    if args.rescore:
        report = rescore(results)
        print(report.read_text())
        return 0
    plan = plan_from_args(args)
    videos = (args.videos or results / "videos").expanduser().resolve()
    command = "longwatch " + " ".join(shlex.quote(part) for part in sys.argv[1:]) if sys.argv[1:] else "longwatch eval"
    if args.attach:
        addresses = {"perception": args.perception, "memory": args.memory, "reasoner": args.reasoner}
        scores, ingest_s = asyncio.run(
            run_eval({k: v for k, v in addresses.items() if v}, plan, videos, args.deadline_ms)
        )
    else:
        from longwatch_cli.eval.system import local_system

        with tempfile.TemporaryDirectory(prefix="longwatch-eval-") as root:
            logger.info("longwatch eval: starting the services (profile %s) in %s", profile, root)
            with local_system(Path(root) / "data", profile=profile, model_cache=model_cache) as launcher:
                scores, ingest_s = asyncio.run(run_eval(launcher.addresses, plan, videos, args.deadline_ms))
    report = write_report(scores, plan, command, results, ingest_s)
    print(report.read_text())  # the command's own output: the tables, then where they are kept
    print(f"results: {results / 'eval.json'}, {report}")
    return 0
