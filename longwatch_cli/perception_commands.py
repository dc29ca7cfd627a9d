"""The CLI's perception commands beyond ingest: push, overview, describe.

    longwatch push robot ./run.mp4 --sample-fps 2          # decode here, push the frames over gRPC
    longwatch push robot ./frames/ --fps 5                 # a folder of JPEGs, in name order, 5 a second
    longwatch overview gate --save-keyframes keyframes/
    longwatch describe gate --keyframe 'gate@000000004000#k0' "read the plate of the red car"
    longwatch describe gate --from 1:00 --to 1:30 "who opens the door?"

`push` decodes a local video (or reads a folder of JPEGs) and sends its frames, each with its own time, so
the stream gets the same clips `ingest` gives the file. Bad values are argparse errors (exit 2).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

from longwatch import errors, validation
from longwatch.times import format_range_s, format_time_s, parse_stream_time_s
from longwatch.types import Overview, PushedFrame, StreamState
from longwatch_cli.output import EXIT_OK

Action = Callable[[Any, argparse.Namespace], Awaitable[int]]
ClientCommand = Callable[[Action], Callable[..., int]]  # longwatch_cli.cli._client_command
_JPEG_SUFFIXES = (".jpg", ".jpeg")
_PROGRESS_EVERY_FRAMES = 100  # a line on stderr this often while pushing


def add_perception_commands(
    commands: argparse._SubParsersAction, addresses: argparse.ArgumentParser, client_command: ClientCommand
) -> None:
    push = commands.add_parser("push", parents=[addresses], help="push the frames of a local video over gRPC")
    push.add_argument("stream", type=_arg(validation.validate_stream_id), metavar="STREAM")
    push.add_argument("path", type=Path, metavar="VIDEO_OR_DIR", help="a video file, or a folder of JPEG files")
    push.add_argument("--sample-fps", type=_arg(_positive), default=0.0, metavar="F", help="frames a second to sample")
    push.add_argument("--fps", type=_arg(_positive), default=1.0, metavar="F", help="a JPEG folder's frame rate")
    push.add_argument("--raw", action="store_true", help="send raw RGB (exact pixels) instead of JPEG")
    push.add_argument("--jpeg-quality", type=_arg(_quality), default=90, metavar="Q", help="1-95 (default 90)")
    push.add_argument(
        "--live",
        action="store_true",
        help="frames from a camera now: frames the encoder cannot keep up with are dropped",
    )
    push.add_argument("--json", action="store_true", help="print the result as JSON")
    push.set_defaults(handler=client_command(_push))

    overview = commands.add_parser("overview", parents=[addresses], help="a stream's Flash Memory: slots, keyframes")
    overview.add_argument("stream", type=_arg(validation.validate_stream_id), metavar="STREAM")
    overview.add_argument("--json", action="store_true", help="print JSON (without the JPEG bytes)")
    overview.add_argument("--save-keyframes", type=Path, metavar="DIR", help="write the detail keyframes here")
    overview.set_defaults(handler=client_command(_overview))

    describe = commands.add_parser("describe", parents=[addresses], help="look again at keyframes, with a question")
    describe.add_argument("stream", type=_arg(validation.validate_stream_id), metavar="STREAM")
    describe.add_argument("instruction", metavar="INSTRUCTION", help='what to look for ("read the plate")')
    describe.add_argument("--keyframe", action="append", default=[], metavar="ID", help="a keyframe id; repeatable")
    describe.add_argument("--from", dest="start_s", type=_arg(_stream_seconds), metavar="TIME", help="e.g. 1:00")
    describe.add_argument("--to", dest="end_s", type=_arg(_stream_seconds), metavar="TIME", help="e.g. 1:30")
    describe.add_argument("--json", action="store_true", help="print JSON")
    describe.set_defaults(handler=client_command(_describe))


# ---- argument types


def _arg(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    def convert(text: str) -> Any:
        try:
            return parse(text)
        except (errors.InvalidArgument, ValueError) as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return convert


def _positive(text: str) -> float:
    value = float(text)
    if not 0 < value <= validation.MAX_SAMPLE_FPS:
        raise ValueError(f"{text} is out of range; pass a rate above 0 and at most {validation.MAX_SAMPLE_FPS:g}")
    return value


def _quality(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 95:
        raise ValueError(f"JPEG quality {value} is out of range; pass 1 to 95")
    return value


def _stream_seconds(text: str) -> float:
    return validation.validate_stream_time_s(parse_stream_time_s(text), "a stream time")


# ---- push


def local_frames(path: Path, fps: float, as_raw: bool, jpeg_quality: int) -> Iterator[PushedFrame]:
    """The frames of a video file (their own times) or of a folder of JPEGs (name order, `fps` a second)."""
    path = path.expanduser().resolve()
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in _JPEG_SUFFIXES and p.is_file())
        if not files:
            raise errors.InvalidArgument(f"{path} holds no .jpg or .jpeg files; pass a video or a folder of JPEGs")
        for index, file in enumerate(files):
            yield PushedFrame(t_s=index / fps, jpeg=file.read_bytes())
        return
    if not path.is_file():
        raise errors.NotFound(f"no such file: {path}; pass a video file or a folder of JPEGs")
    yield from _video_frames(path, as_raw, jpeg_quality)


def _video_frames(path: Path, as_raw: bool, jpeg_quality: int) -> Iterator[PushedFrame]:
    import av  # the CLI's only decoder use: imported when pushing a video

    try:
        container = av.open(str(path))
    except av.error.FFmpegError as exc:
        raise errors.InvalidArgument(f"{path} is not a video PyAV can read ({exc.strerror}); pass a video") from None
    with container:
        if not container.streams.video:
            raise errors.InvalidArgument(f"{path} has no video stream; pass a video file")
        stream = container.streams.video[0]
        # The times perception's file source gives the same file: seconds from the stream's first timestamp.
        origin_s = float(stream.start_time * stream.time_base) if stream.start_time is not None else 0.0
        rate = float(stream.average_rate) if stream.average_rate else 25.0
        for index, frame in enumerate(container.decode(stream)):
            t_s = max(0.0, frame.time - origin_s) if frame.time is not None else index / rate
            if as_raw:
                yield PushedFrame(
                    t_s=t_s, rgb=frame.to_ndarray(format="rgb24").tobytes(), width=frame.width, height=frame.height
                )
            else:
                buffer = io.BytesIO()
                frame.to_image().save(buffer, format="JPEG", quality=jpeg_quality)
                yield PushedFrame(t_s=t_s, jpeg=buffer.getvalue())


async def _threaded(frames: Iterator[PushedFrame]) -> AsyncIterator[PushedFrame]:
    """Decodes on a thread, so the gRPC call's event loop is never blocked by a frame."""
    sent = 0
    while (frame := await asyncio.to_thread(next, frames, None)) is not None:
        yield frame
        sent += 1
        if sent % _PROGRESS_EVERY_FRAMES == 0:
            print(f"pushed {sent} frames, up to {format_time_s(frame.t_s)}", file=sys.stderr)


async def _push(client: Any, args: argparse.Namespace) -> int:
    frames = local_frames(args.path, args.fps, args.raw, args.jpeg_quality)
    result = await client.perception.push_frames(
        args.stream, _threaded(frames), sample_fps=args.sample_fps, is_live=args.live
    )
    status = result.stream
    if args.json:
        print(
            json.dumps(
                {"frames_accepted": result.frames_accepted, "stream": {**asdict(status), "state": status.state.value}}
            )
        )
    else:
        print(
            f"{status.stream_id}: {result.frames_accepted} frames pushed, {status.state.value}, "
            f"{status.clips_written} clips written, up to {format_time_s(status.position_s)}"
        )
    if status.state is StreamState.FAILED:
        raise errors.FailedPrecondition(f"stream {status.stream_id!r} failed: {status.error or 'no reason given'}")
    return EXIT_OK


# ---- overview and describe


def overview_to_json(overview: Overview) -> dict[str, object]:
    value = asdict(overview)
    for detail in value["details"]:
        detail.pop("jpeg")
    return value


def format_overview(overview: Overview) -> str:
    lines = [
        f"{overview.stream_id}: {overview.frames_merged} frames in {len(overview.slots)}/{overview.max_slots} slots, "
        f"{len(overview.details)}/{overview.max_details} keyframes"
    ]
    lines += [
        f"  slot {i:>3}  weight {s.weight:>6}  {format_range_s(s.start_s, s.end_s)}"
        for i, s in enumerate(overview.slots)
    ]
    lines += [
        f"  keyframe at {format_time_s(d.t_s)}  slot {d.slot}  similarity {d.similarity:.2f}" for d in overview.details
    ]
    return "\n".join(lines)


def save_keyframes(overview: Overview, directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for detail in overview.details:
        path = directory / f"{overview.stream_id}_{round(detail.t_s * 1000):012d}ms.jpg"
        path.write_bytes(detail.jpeg)
        written.append(path)
    return written


async def _overview(client: Any, args: argparse.Namespace) -> int:
    overview = await client.perception.overview(args.stream, include_jpeg=args.save_keyframes is not None)
    if args.json:
        print(json.dumps(overview_to_json(overview)))
    else:
        print(format_overview(overview))
    if args.save_keyframes is not None:
        written = save_keyframes(overview, args.save_keyframes)
        print(f"wrote {len(written)} keyframes to {args.save_keyframes}", file=sys.stderr)
    return EXIT_OK


async def _describe(client: Any, args: argparse.Namespace) -> int:
    has_range = args.start_s is not None or args.end_s is not None
    if bool(args.keyframe) == has_range:
        raise errors.InvalidArgument("give --keyframe ID (repeatable) or --from TIME --to TIME, not both or neither")
    result = await client.perception.describe(
        args.stream, args.instruction, args.keyframe, args.start_s or 0.0, args.end_s or 0.0
    )
    if args.json:
        print(json.dumps(asdict(result), ensure_ascii=False))
    else:
        print(result.text)
        for line in result.lines:
            print(f"  text: {line}")
        print(f"  looked at: {', '.join(result.keyframe_ids) or 'no keyframes'}")
    return EXIT_OK
