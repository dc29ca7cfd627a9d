"""The `longwatch` command: start the services, feed them video, ask questions.

    longwatch up                                  # the three services on loopback; Ctrl-C stops them
    longwatch ingest gate.mp4 --stream gate --wait
    longwatch ask "What was the alarm code on the screen?"
    longwatch summarize gate --from 0:20 --to 0:40

Errors a user can cause print `error: <what to change>` on stderr and exit 1; argparse misuse exits 2.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pydantic

from longwatch import errors, tracing, validation
from longwatch.client import LongwatchClient
from longwatch.progress import wait_until_final
from longwatch.settings import (
    DEFAULT_HOST,
    DEFAULT_MEMORY_PORT,
    DEFAULT_PERCEPTION_PORT,
    DEFAULT_REASONER_PORT,
    MEMORY_ADDR_ENV,
    PERCEPTION_ADDR_ENV,
    REASONER_ADDR_ENV,
    CommonSettings,
    Profile,
)
from longwatch.times import format_range_s, format_time_s
from longwatch.types import StreamState, StreamStatus, StreamSummary
from longwatch_cli.memory_commands import add_memory_commands
from longwatch_cli.output import EXIT_ERROR, EXIT_INTERRUPTED, EXIT_OK, describe_finished
from longwatch_cli.perception_commands import add_perception_commands
from longwatch_cli.reasoner_commands import add_reasoner_commands
from longwatch_cli.serve_command import add_serve_parser

Connect = Callable[..., Any]  # LongwatchClient.connect, or a fake of it in tests
PROFILES = [profile.value for profile in Profile]
_URL_MARK = "://"


def main(argv: Sequence[str] | None = None, *, connect: Connect | None = None) -> int:
    """Runs one command; returns the exit status. `connect` replaces LongwatchClient.connect (tests)."""
    args = build_parser().parse_args(argv)
    tracing.new_request_id()  # the command's calls, and the services' calls for them, log under one id
    try:
        return args.handler(args, connect or LongwatchClient.connect)
    except errors.LongwatchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except pydantic.ValidationError as exc:  # a bad LONGWATCH_* variable read for the defaults
        print(f"error: invalid LONGWATCH_* environment variable:\n{exc}", file=sys.stderr)
        return EXIT_ERROR
    except OSError as exc:  # a file the command writes (make-sample --out) cannot be written there
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


# ---- arguments


def _port(text: str) -> int:
    port = int(text)
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port (1 to 65535)")
    return port


def _positive_float(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{value} must be greater than 0")
    return value


def _stream_id(text: str) -> str:
    try:
        return validation.validate_stream_id(text)
    except errors.InvalidArgument as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _address_flags() -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    group = parent.add_argument_group("service addresses (default: where `longwatch up` listens)")
    for name, env, port in (
        ("perception", PERCEPTION_ADDR_ENV, DEFAULT_PERCEPTION_PORT),
        ("memory", MEMORY_ADDR_ENV, DEFAULT_MEMORY_PORT),
        ("reasoner", REASONER_ADDR_ENV, DEFAULT_REASONER_PORT),
    ):
        group.add_argument(
            f"--{name}", metavar="HOST:PORT", help=f"{name} service address (env {env}; default {DEFAULT_HOST}:{port})"
        )
    return parent


def _service_flags(parser: argparse.ArgumentParser, data_dir_help: str) -> None:
    parser.add_argument("--data-dir", type=Path, help=data_dir_help)
    parser.add_argument("--profile", choices=PROFILES, help="model profile (env LONGWATCH_PROFILE; default cpu)")
    parser.add_argument(
        "--model-cache", type=Path, help="prepared models, shared by data dirs (env LONGWATCH_MODEL_CACHE)"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="longwatch", description="Watch long video streams, remember them, answer questions with evidence."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_up(commands)
    addresses = _address_flags()
    _add_client_commands(commands, addresses)
    add_memory_commands(commands, addresses, _client_command)
    add_perception_commands(commands, addresses, _client_command)
    _add_sample_and_demo(commands)
    _add_eval(commands, addresses)
    add_serve_parser(commands)
    return parser


def _add_up(commands: argparse._SubParsersAction) -> None:
    up = commands.add_parser("up", help="start the three services on loopback; Ctrl-C stops them")
    _service_flags(up, "where memory and logs live (env LONGWATCH_DATA_DIR)")
    up.add_argument("--perception-port", type=_port, default=DEFAULT_PERCEPTION_PORT)
    up.add_argument("--memory-port", type=_port, default=DEFAULT_MEMORY_PORT)
    up.add_argument("--reasoner-port", type=_port, default=DEFAULT_REASONER_PORT)
    up.add_argument(
        "--chroma-server",
        action="store_true",
        help="keep memory's vectors in a `chroma run` server started here (data in DATA_DIR/memory/chroma-server), "
        "which other memory processes can share; default: chromadb embedded in the memory process",
    )
    up.add_argument("--chroma-port", type=_port, metavar="N", help="port of the chroma server (default 50064)")
    up.set_defaults(handler=_cmd_up)


def _add_client_commands(commands: argparse._SubParsersAction, addresses: argparse.ArgumentParser) -> None:
    ingest = commands.add_parser("ingest", parents=[addresses], help="watch a video file or live URL")
    ingest.add_argument(
        "source", metavar="PATH_OR_URL", help="a video file, or an rtsp(s)://, http(s):// or udp:// URL"
    )
    ingest.add_argument("--stream", required=True, type=_stream_id, metavar="NAME", help="name of the stream")
    ingest.add_argument("--wait", action="store_true", help="show progress; return when every clip is searchable")
    ingest.add_argument("--sample-fps", type=_positive_float, metavar="F", help="frames per second to sample")
    ingest.add_argument("--json", action="store_true", help="print the stream status as JSON")
    ingest.set_defaults(handler=_client_command(_ingest))

    streams = commands.add_parser("streams", parents=[addresses], help="streams perception watches and memory holds")
    streams.add_argument("--json", action="store_true", help="print JSON")
    streams.set_defaults(handler=_client_command(_streams))

    add_reasoner_commands(commands, addresses, _client_command)


def _add_sample_and_demo(commands: argparse._SubParsersAction) -> None:
    sample = commands.add_parser("make-sample", help="write the synthetic sample video and its ground truth")
    sample.add_argument("--out", type=Path, default=Path("longwatch-sample.mp4"), metavar="PATH")
    sample.add_argument("--seed", type=int, default=0, metavar="N")
    sample.set_defaults(handler=_cmd_make_sample)

    demo = commands.add_parser("demo", help="start everything, ingest the sample, ask its questions, stop")
    _service_flags(demo, "keep the demo's data here (default: a temporary directory)")
    demo.add_argument("--keep", action="store_true", help="keep the temporary data directory")
    demo.set_defaults(handler=_cmd_demo)


def _add_eval(commands: argparse._SubParsersAction, addresses: argparse.ArgumentParser) -> None:
    from longwatch_cli.eval.command import add_eval_parser

    add_eval_parser(commands, addresses)
    commands.choices["eval"].set_defaults(handler=_cmd_eval)


def common_settings() -> CommonSettings:
    """LONGWATCH_PROFILE, LONGWATCH_DATA_DIR, LONGWATCH_MODEL_CACHE, LONGWATCH_LOG_LEVEL, or the defaults."""
    return CommonSettings()


def configure_cli_logging() -> None:
    """Launcher progress lines on stderr, without the timestamps the services' logs carry."""
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)


# ---- up, make-sample, demo


def _cmd_up(args: argparse.Namespace, connect: Connect) -> int:
    from orchestration.launcher import DEFAULT_CHROMA_PORT, LaunchConfig, Launcher, LaunchError
    from orchestration.signals import Terminated, sigterm_raises

    if args.chroma_port is not None and not args.chroma_server:
        raise errors.InvalidArgument("--chroma-port sets the port of the chroma server: add --chroma-server")
    settings = common_settings()
    config = LaunchConfig(
        data_dir=args.data_dir or settings.data_dir,
        profile=args.profile or settings.profile.value,
        model_cache=args.model_cache or settings.model_cache,
        ports={
            "perception": args.perception_port,
            "memory": args.memory_port,
            "reasoner": args.reasoner_port,
            "chroma": args.chroma_port or DEFAULT_CHROMA_PORT,
        },
        log_level=settings.log_level,
        starts_chroma_server=args.chroma_server,
    )
    configure_cli_logging()
    with sigterm_raises(), Launcher(config) as launcher:
        try:
            launcher.start()
            _print_up(launcher)
            launcher.supervise()  # restarts a crashed service; raises ServiceDied if one keeps crashing
        except (KeyboardInterrupt, Terminated):
            print("stopping the services", file=sys.stderr)
            return EXIT_OK
        except LaunchError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_ERROR
    return EXIT_OK


def _print_up(launcher: Any) -> None:
    print(f"longwatch is up (profile {launcher.config.profile}, data in {launcher.config.data_dir})")
    addresses = dict(launcher.addresses)
    if launcher.config.chroma_url:
        addresses["chroma"] = launcher.config.address("chroma")
    for name, address in addresses.items():
        print(f"  {name:<11} {address:<16} pid {launcher.pids[name]:<8} log {launcher.log_path(name)}")
    if launcher.config.chroma_url:
        print(
            f"Memory keeps its vectors in the chroma server at {launcher.config.chroma_url}; other memory "
            f"processes share them with LONGWATCH_MEMORY_CHROMA_URL={launcher.config.chroma_url}."
        )
    print("Press Ctrl-C to stop.", flush=True)


def _cmd_make_sample(args: argparse.Namespace, connect: Connect) -> int:
    from longwatch.sample import ground_truth_path, make_sample

    video = args.out.expanduser().resolve()
    truth = make_sample(video, seed=args.seed)
    print(f"video:        {video} ({truth.duration_s:.0f} s, {truth.width}x{truth.height}, {truth.fps} fps)")
    print(f"ground truth: {ground_truth_path(video)} ({len(truth.events)} events)")
    return EXIT_OK


def _cmd_demo(args: argparse.Namespace, connect: Connect) -> int:
    from longwatch_cli.demo import run_demo

    settings = common_settings()
    configure_cli_logging()
    return run_demo(
        data_dir=args.data_dir,
        profile=args.profile or settings.profile.value,
        model_cache=args.model_cache or settings.model_cache,
        keep=args.keep,
        log_level=settings.log_level,
    )


def _cmd_eval(args: argparse.Namespace, connect: Connect) -> int:
    from longwatch_cli.eval.command import run_eval_command
    from longwatch_cli.eval.plan import PlanError
    from orchestration.launcher import LaunchError

    settings = common_settings()
    configure_cli_logging()
    try:
        return run_eval_command(args, args.profile or settings.profile.value, args.model_cache or settings.model_cache)
    except (LaunchError, PlanError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR


# ---- client commands


def _client_command(
    action: Callable[[Any, argparse.Namespace], Awaitable[int]],
) -> Callable[[argparse.Namespace, Connect], int]:
    """Wraps an async command so it runs with a connected client that is closed afterwards."""

    def handler(args: argparse.Namespace, connect: Connect) -> int:
        async def run() -> int:
            client = connect(perception=args.perception, memory=args.memory, reasoner=args.reasoner)
            try:
                return await action(client, args)
            finally:
                await client.close()

        return asyncio.run(run())

    return handler


def resolve_source(source: str) -> str:
    """URLs pass unchanged; a local path is made absolute (perception runs in another directory). An absolute
    path that is not here goes as it is: perception may run in a container or on another host that has it,
    and says so itself if it has not."""
    source = validation.normalise_source(source)
    if _URL_MARK in source:
        return source
    try:
        path = Path(source).expanduser()
    except RuntimeError as exc:  # "~someone/…" for a user this machine does not know
        raise errors.InvalidArgument(f"cannot expand {source!r}: {exc}; pass the path without '~'") from None
    if path.is_absolute() and not path.exists():
        return str(path)
    path = path.resolve()
    if not path.exists():
        raise errors.NotFound(f"no such file: {path}; pass a video file or an rtsp(s)://, http(s):// or udp:// URL")
    if path.is_dir():
        raise errors.InvalidArgument(f"{path} is a directory; pass a video file")
    return str(path)


async def _ingest(client: Any, args: argparse.Namespace) -> int:
    source = resolve_source(args.source)
    status = await client.perception.add_stream(args.stream, source, sample_fps=args.sample_fps or 0.0)
    if args.wait:
        status = await wait_until_final(client.perception, args.stream)
    if args.json:
        _print_json(status_to_json(status))
    elif args.wait:
        print(describe_finished(status))
    else:
        print(f"{status.stream_id}: {status.state.value}, watching {status.source}")
        print("Follow it with `longwatch streams`, or ingest with --wait.")
    if status.state is StreamState.FAILED:
        raise errors.FailedPrecondition(f"stream {status.stream_id!r} failed: {status.error or 'no reason given'}")
    if args.wait and status.state is not StreamState.FINISHED:
        raise errors.FailedPrecondition(f"stream {status.stream_id!r} was {status.state.value} before it finished")
    return EXIT_OK


async def _streams(client: Any, args: argparse.Namespace) -> int:
    watched = await client.perception.list_streams()
    held = await client.memory.list_streams()
    if args.json:
        _print_json({"perception": [status_to_json(s) for s in watched], "memory": [summary_to_json(s) for s in held]})
    else:
        print(format_streams(watched, held))
    return EXIT_OK


# ---- output


def _print_json(value: object) -> None:
    print(json.dumps(value, ensure_ascii=False))


def status_to_json(status: StreamStatus) -> dict[str, object]:
    return {**asdict(status), "state": status.state.value}


def summary_to_json(summary: StreamSummary) -> dict[str, object]:
    return asdict(summary)


def format_streams(watched: Sequence[StreamStatus], held: Sequence[StreamSummary]) -> str:
    lines = ["perception:"]
    if not watched:
        lines.append("  (no streams)")
    else:
        lines.append(
            f"  {'STREAM':<20} {'STATE':<9} {'POSITION':>9} {'SEEN':>7} {'ENCODED':>7} {'REUSED':>7} "
            f"{'DROPPED':>7} {'CLIPS':>6} {'LAG':>6}"
        )
        for s in watched:
            lines.append(
                f"  {s.stream_id:<20} {s.state.value:<9} {format_time_s(s.position_s):>9} {s.frames_seen:>7} "
                f"{s.frames_encoded:>7} {s.frames_reused:>7} {s.frames_dropped:>7} {s.clips_written:>6} "
                f"{s.lag_s:>5.1f}s"
            )
            if s.error:
                lines.append(f"    error: {s.error}")
    lines.append("memory:")
    if not held:
        lines.append("  (no streams)")
    else:
        lines.append(f"  {'STREAM':<20} {'CLIPS':>6}  SPAN")
        lines.extend(f"  {m.stream_id:<20} {m.clip_count:>6}  {format_range_s(m.first_s, m.last_s)}" for m in held)
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
