"""The CLI's reads of memory: search, timeline, expand, get, stats, delete-stream.

    longwatch search "red van" --stream dock --level 1 --since 2026-12-03T12:00:00Z
    longwatch timeline dock --level 1 --from 1:00:00 --limit 20
    longwatch expand 'dock#1#000000004'
    longwatch get 'dock#1#000000004' --keyframe 'dock@000000256000#k0' --keyframes-to frames/
    longwatch stats
    longwatch delete-stream dock --yes

Each prints stream times as m:ss and, for live streams, the UTC wall clock as ISO 8601 beside them; `--json`
prints one object instead. Bad values are argparse errors (exit 2) naming the flag and what to change.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from longwatch import errors, validation
from longwatch.times import format_wall_ms, parse_stream_time_s, parse_utc_ms
from longwatch.types import KeyframeData
from longwatch_cli.memory_output import (
    format_deleted,
    format_expand,
    format_get,
    format_search,
    format_stats,
    format_timeline,
    keyframe_json,
    print_json,
)
from longwatch_cli.output import EXIT_OK

Action = Callable[[Any, argparse.Namespace], Awaitable[int]]
ClientCommand = Callable[[Action], Callable[..., int]]  # longwatch_cli.cli._client_command
Check = Callable[[argparse.Namespace], str | None]  # a reason the arguments do not fit together, or None
# Memory's ids may hold characters a file name must not ('/' above all); those become '_'.
_UNSAFE_FILE_CHARS = re.compile(r"[^A-Za-z0-9._@#-]")


# ---- argument types


def _arg_type(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    """An argparse type from a parser that raises InvalidArgument or ValueError with what to change."""

    def convert(text: str) -> Any:
        try:
            return parse(text)
        except (errors.InvalidArgument, ValueError) as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return convert


def _stream_id(text: str) -> str:
    return validation.validate_stream_id(text)


def _level(text: str) -> int:
    return validation.validate_level(_integer(text, "level"))


def _stream_seconds(text: str) -> float:
    return validation.validate_stream_time_s(parse_stream_time_s(text), "a stream time")


def _utc_ms(text: str) -> int:
    wall_ms = parse_utc_ms(text)
    if not validation.MIN_WALL_MS <= wall_ms <= validation.MAX_WALL_MS:  # 0 (no wall clock) is no time to give
        raise ValueError(f"{text!r} is outside the wall clock memory keeps; give a time from 2000 to 2200 (UTC)")
    return wall_ms


def _k(text: str) -> int:
    return _bounded(text, "-k", validation.MAX_SEARCH_K)


def _limit(text: str) -> int:
    return _bounded(text, "--limit", validation.MAX_TIMELINE_LIMIT)


def _node_id(text: str) -> str:
    return validation.validate_node_id(text, "an id")


def _integer(text: str, name: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"{name} {text!r} is not a whole number") from None


def _bounded(text: str, name: str, maximum: int) -> int:
    value = _integer(text, name)
    if not 1 <= value <= maximum:
        raise ValueError(f"{name} {value} is out of range; pass 1 to {maximum}")
    return value


def _range_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--level",
        type=_arg_type(_level),
        default=0,
        metavar="N",
        help="0 = clips (default), 1 = segments, 2 = episodes, ...",
    )
    parser.add_argument(
        "--from",
        dest="start_s",
        type=_arg_type(_stream_seconds),
        default=0.0,
        metavar="TIME",
        help="stream time, seconds or m:ss",
    )
    parser.add_argument(
        "--to",
        dest="end_s",
        type=_arg_type(_stream_seconds),
        default=0.0,
        metavar="TIME",
        help="stream time; default: no end",
    )
    parser.add_argument(
        "--since",
        dest="start_wall_ms",
        type=_arg_type(_utc_ms),
        default=0,
        metavar="ISO",
        help="UTC wall clock, e.g. 2026-12-03T12:00:00Z",
    )
    parser.add_argument(
        "--until",
        dest="end_wall_ms",
        type=_arg_type(_utc_ms),
        default=0,
        metavar="ISO",
        help="UTC wall clock; default: no end",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def _check_ranges(args: argparse.Namespace) -> str | None:
    if args.end_s and args.start_s > args.end_s:
        return f"--from ({args.start_s:g} s) is after --to ({args.end_s:g} s); swap them, or leave --to out for no end"
    if args.start_wall_ms and args.end_wall_ms and args.start_wall_ms > args.end_wall_ms:
        since, until = format_wall_ms(args.start_wall_ms), format_wall_ms(args.end_wall_ms)
        return f"--since {since} is after --until {until}; swap them, or leave --until out for no end"
    return None


def _check_get(args: argparse.Namespace) -> str | None:
    if not args.ids and not args.keyframe:
        return "name a node id (from search, timeline or expand) or a --keyframe ID"
    if args.keyframes_to is not None and not args.keyframe:
        return "--keyframes-to writes the keyframes named by --keyframe ID; name at least one"
    return None


def _check_delete(args: argparse.Namespace) -> str | None:
    if not args.yes:
        return f"delete-stream removes every clip, summary and keyframe of {args.stream!r} for good; add --yes"
    return None


def _checked(parser: argparse.ArgumentParser, handler: Callable[..., int], check: Check) -> Callable[..., int]:
    """Runs `check` on the parsed arguments first: a mismatch is a usage error (exit 2), like a bad value."""

    def run(args: argparse.Namespace, connect: Any) -> int:
        reason = check(args)
        if reason:
            parser.error(reason)
        return handler(args, connect)

    return run


# ---- the parsers


def add_memory_commands(
    commands: argparse._SubParsersAction, addresses: argparse.ArgumentParser, client_command: ClientCommand
) -> None:
    """Adds the memory read commands; `client_command` wraps each in a connected client (cli.py's)."""
    _add_search(commands, addresses, client_command)
    _add_timeline(commands, addresses, client_command)
    _add_expand_and_get(commands, addresses, client_command)
    _add_stats_and_delete(commands, addresses, client_command)


def _add_search(commands: argparse._SubParsersAction, addresses: argparse.ArgumentParser, wrap: ClientCommand) -> None:
    search = commands.add_parser("search", parents=[addresses], help="search memory for nodes of one level")
    search.add_argument("text", metavar="TEXT", help="the words to look for")
    search.add_argument(
        "--stream",
        action="append",
        default=[],
        type=_arg_type(_stream_id),
        metavar="NAME",
        help="only this stream (repeatable)",
    )
    search.add_argument(
        "-k", type=_arg_type(_k), default=10, metavar="N", help=f"hits, 1 to {validation.MAX_SEARCH_K} (default 10)"
    )
    _range_flags(search)
    search.set_defaults(handler=_checked(search, wrap(_search), _check_ranges))


def _add_timeline(
    commands: argparse._SubParsersAction, addresses: argparse.ArgumentParser, wrap: ClientCommand
) -> None:
    timeline = commands.add_parser(
        "timeline", parents=[addresses], help="the nodes of one level of a stream, in time order"
    )
    timeline.add_argument("stream", metavar="STREAM", type=_arg_type(_stream_id))
    timeline.add_argument(
        "--limit",
        type=_arg_type(_limit),
        default=0,
        metavar="N",
        help=f"most nodes, 1 to {validation.MAX_TIMELINE_LIMIT} (default 100)",
    )
    _range_flags(timeline)
    timeline.set_defaults(handler=_checked(timeline, wrap(_timeline), _check_ranges))


def _add_expand_and_get(
    commands: argparse._SubParsersAction, addresses: argparse.ArgumentParser, wrap: ClientCommand
) -> None:
    expand = commands.add_parser("expand", parents=[addresses], help="the children of a node, in time order")
    expand.add_argument("node_id", metavar="NODE_ID", type=_arg_type(_node_id))
    expand.add_argument("--json", action="store_true", help="print one JSON object")
    expand.set_defaults(handler=wrap(_expand))

    get = commands.add_parser("get", parents=[addresses], help="nodes and keyframes by id")
    get.add_argument("ids", nargs="*", metavar="ID", type=_arg_type(_node_id), help="node ids")
    get.add_argument(
        "--keyframe",
        action="append",
        default=[],
        type=_arg_type(_node_id),
        metavar="ID",
        help="a keyframe id (repeatable)",
    )
    get.add_argument("--keyframes-to", type=Path, metavar="DIR", help="write the keyframes there as <id>.jpg")
    get.add_argument("--json", action="store_true", help="print one JSON object")
    get.set_defaults(handler=_checked(get, wrap(_get), _check_get))


def _add_stats_and_delete(
    commands: argparse._SubParsersAction, addresses: argparse.ArgumentParser, wrap: ClientCommand
) -> None:
    stats = commands.add_parser("stats", parents=[addresses], help="what memory holds and what retention removed")
    stats.add_argument("streams", nargs="*", metavar="STREAM", type=_arg_type(_stream_id), help="only these streams")
    stats.add_argument("--json", action="store_true", help="print one JSON object")
    stats.set_defaults(handler=wrap(_stats))

    delete = commands.add_parser(
        "delete-stream", parents=[addresses], help="remove everything memory holds of a stream"
    )
    delete.add_argument("stream", metavar="STREAM", type=_arg_type(_stream_id))
    delete.add_argument("--yes", action="store_true", help="confirm: there is no undo")
    delete.add_argument("--json", action="store_true", help="print one JSON object")
    delete.set_defaults(handler=_checked(delete, wrap(_delete_stream), _check_delete))


# ---- the commands


async def _search(client: Any, args: argparse.Namespace) -> int:
    result = await client.memory.search_result(
        args.text,
        stream_ids=args.stream,
        start_s=args.start_s,
        end_s=args.end_s,
        k=args.k,
        level=args.level,
        start_wall_ms=args.start_wall_ms,
        end_wall_ms=args.end_wall_ms,
    )
    if args.json:
        print_json({"hits": [asdict(hit) for hit in result.hits], "nodes_read": result.nodes_read})
    else:
        print(format_search(result, args.level))
    return EXIT_OK


async def _timeline(client: Any, args: argparse.Namespace) -> int:
    nodes, is_truncated = await client.memory.timeline(
        args.stream,
        level=args.level,
        start_s=args.start_s,
        end_s=args.end_s,
        start_wall_ms=args.start_wall_ms,
        end_wall_ms=args.end_wall_ms,
        limit=args.limit,
    )
    if args.json:
        print_json({"nodes": [asdict(node) for node in nodes], "truncated": is_truncated})
    else:
        print(format_timeline(args.stream, args.level, nodes, is_truncated))
    return EXIT_OK


async def _expand(client: Any, args: argparse.Namespace) -> int:
    children = await client.memory.expand(args.node_id)
    if args.json:
        print_json({"node_id": args.node_id, "children": [asdict(node) for node in children]})
    else:
        print(format_expand(args.node_id, children))
    return EXIT_OK


async def _get(client: Any, args: argparse.Namespace) -> int:
    nodes, keyframes = await client.memory.get(args.ids, keyframe_ids=args.keyframe)
    paths = _write_keyframes(keyframes, args.keyframes_to) if args.keyframes_to is not None else {}
    found = {node.node_id for node in nodes} | {keyframe.keyframe_id for keyframe in keyframes}
    missing = [item for item in dict.fromkeys([*args.ids, *args.keyframe]) if item not in found]
    if args.json:
        print_json(
            {
                "nodes": [asdict(node) for node in nodes],
                "keyframes": [keyframe_json(keyframe, paths.get(keyframe.keyframe_id)) for keyframe in keyframes],
                "missing": missing,
            }
        )
    else:
        print(format_get(nodes, keyframes, paths))
    if missing:  # after the output: what was found is shown either way
        raise errors.NotFound(f"not in memory: {', '.join(missing)}; pass ids that search, timeline or expand printed")
    return EXIT_OK


async def _stats(client: Any, args: argparse.Namespace) -> int:
    stats = await client.memory.stats(args.streams)
    if args.json:
        streams = [{**asdict(item), "total_bytes": item.total_bytes} for item in stats.streams]
        print_json({"streams": streams, "disk_bytes": stats.disk_bytes})
    else:
        print(format_stats(stats))
    return EXIT_OK


async def _delete_stream(client: Any, args: argparse.Namespace) -> int:
    deleted = await client.memory.delete_stream(args.stream)
    if args.json:
        print_json({"stream_id": args.stream, **asdict(deleted)})
    else:
        print(format_deleted(args.stream, deleted))
    return EXIT_OK


def _write_keyframes(keyframes: Sequence[KeyframeData], directory: Path) -> dict[str, Path]:
    """Writes each JPEG into `directory` as <id>.jpg, never outside it; returns the path of each id."""
    directory = directory.expanduser()
    directory.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for keyframe in keyframes:
        stem = _UNSAFE_FILE_CHARS.sub("_", keyframe.keyframe_id).lstrip(".") or "keyframe"
        path = directory / f"{stem}.jpg"
        if path in paths.values():  # two ids that differ only in replaced characters
            path = directory / f"{stem}-{len(paths)}.jpg"
        path.write_bytes(keyframe.jpeg)
        paths[keyframe.keyframe_id] = path
    return paths
