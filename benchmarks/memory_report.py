"""The Markdown section of benchmarks.memory, from its figures (the dict memory.json holds)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from benchmarks.common import percentile, table
from benchmarks.memory_synthetic import FRAME_H, FRAME_W, JPEG_QUALITY

HEADING = "## Memory: the hierarchy at 10 minutes and 24 hours"
RATIO_TARGET = 1.3  # the long stream's Search p50 over the 10-minute stream's
BYTES_TARGET_MB = 50.0  # per stream-hour with keyframes (perception's keyframe budget)
MB = 1e6
KINDS = ("fire engine", "plate", "alarm", "scene", "code lookup")


def markdown(figures: dict, command_md: str) -> str:
    """The whole section: heading, command, setup, then the three parts' tables and verdicts."""
    parts = [HEADING, command_md, _setup(figures), *_history(figures["history"])]
    parts += [*_bytes(figures["bytes"]), *_commit(figures["group_commit"]), _warnings(figures.get("warnings", {}))]
    return "\n\n".join(part for part in parts if part)


def _setup(figures: dict) -> str:
    settings = figures["settings"]
    return (
        "The in-process `Memory` facade, built as memory_service/app.py builds it with default MemorySettings "
        f"(fanout {settings['fanout']}, search beam {settings['beam']}, commit batch {settings['batch']}) in a "
        f"temporary data directory, the cpu profile's text embedder ({figures['embedder']}, loaded in "
        f"{figures['embedder_load_s']:.0f} s) and embedded chromadb. Synthetic clips of a loading dock "
        "(benchmarks/memory_synthetic.py: the same scene and signs, filler text, an event now and then, three "
        f"needles per stream), one every 4 s of stream time. The run took {figures.get('wall_s', 0) / 60:.1f} min."
    )


def label(hours: float) -> str:
    return f"{hours:g} h" if hours >= 1 else f"{hours * 60:.0f} min"


def stream_summary(searches: Sequence[dict], stream_id: str, kinds: Sequence[str] = KINDS) -> dict:
    """p50/p95 ms, nodes read (mean, max) and needles found over the stream's searches of `kinds`."""
    mine = [record for record in searches if record["stream_id"] == stream_id and record["kind"] in kinds]
    ms = [record["ms"] for record in mine]
    nodes = [record["nodes_read"] for record in mine]
    checked = [record["found"] for record in mine if record["found"] is not None]
    return {
        "searches": len(mine),
        "p50_ms": percentile(ms, 0.5),
        "p95_ms": percentile(ms, 0.95),
        "nodes_mean": sum(nodes) / len(nodes) if nodes else 0.0,
        "nodes_max": max(nodes, default=0),
        "found": sum(checked),
        "checked": len(checked),
    }


def _history(history: dict) -> list[str]:
    streams = history["streams"]
    short, long = streams[0], streams[-1]
    summaries = {stream["stream_id"]: stream_summary(history["searches"], stream["stream_id"]) for stream in streams}
    base = summaries[short["stream_id"]]
    rows = []
    for stream in streams:
        got = summaries[stream["stream_id"]]
        levels = history["nodes_per_level"].get(stream["stream_id"], [])
        rows.append(
            [
                label(stream["hours"]),
                f"{stream['clips']:,}",
                " / ".join(f"{count:,}" for count in levels) or "none",
                str(got["searches"]),
                f"{got['p50_ms']:.0f}",
                f"{got['p95_ms']:.0f}",
                f"{got['p50_ms'] / base['p50_ms']:.2f}" if base["p50_ms"] else "-",
                f"{got['nodes_mean']:.0f}",
                str(got["nodes_max"]),
                f"{got['found']}/{got['checked']}",
            ]
        )
    header = ["history", "clips", "nodes per level (1 up)", "searches", "p50 ms", "p95 ms", "p50 ratio"]
    header += ["nodes read: mean", "max", "needles found"]
    return [
        "### Search latency over history",
        _write_note(history),
        _search_note(history),
        table(header, rows),
        _verdict(short, long, base, summaries[long["stream_id"]]),
        _kinds_table(history["searches"], streams),
    ]


def _write_note(history: dict) -> str:
    write, probe = history["write"], history["probe"]
    long_hours = history["long_hours"]
    if history["is_shortened"]:
        plan = (
            f"--quick shortened the long stream to {label(long_hours)}: the probe's rate put 24 h at "
            f"{probe['estimate_s'] / 60:.0f} min of writing, over the {history['quick_limit_s'] / 60:.0f} min limit."
        )
    else:
        plan = f"The probe's rate put the whole history at {probe['estimate_s'] / 60:.1f} min of writing, so the long "
        plan += "stream is the full 24 h."
    return (
        f"Both streams written through `Memory.write` at once, {history['in_flight']} writes per stream in flight "
        f"(submitted in time order): {write['clips']:,} clips in {write['write_s']:.0f} s "
        f"({write['clips'] / write['write_s']:.0f} clips/s, {write['clips'] / max(1, write['commit_batches']):.0f} "
        f"records per fsync), consolidation done {write['consolidate_s']:.1f} s after the last acknowledgement"
        f"{'' if write['is_consolidated'] else ' (NOT done: wait_consolidated timed out)'}. A probe of "
        f"{probe['clips']:,} clips (written after a warm-up, consolidated, deleted) before them ran at "
        f"{probe['clips_per_s']:.0f} clips/s. {plan}"
    )


def _search_note(history: dict) -> str:
    return (
        f"Then {history['rounds']} rounds of six searches per stream (k 10), one query of each stream in turn after "
        'an unmeasured warm-up round: "When did the red fire engine stop at the gate?", "When was the van with '
        'number plate KPL … at the barrier?", "What was the alarm code?", two questions about the scene, and the '
        "alarm code alone (the code lookup). Found: the top hit overlaps the needle's clip. Nodes per level: "
        "segments / episodes / … as consolidation built them; the clips not yet in a segment are the short-term "
        "window."
    )


def _verdict(short: dict, long: dict, base: dict, got: dict) -> str:
    ratio = got["p50_ms"] / base["p50_ms"] if base["p50_ms"] else float("nan")
    is_met = ratio <= RATIO_TARGET
    clips_ratio = long["clips"] / short["clips"]
    log_ratio = math.log(long["clips"]) / math.log(short["clips"])
    nodes_ratio = got["nodes_mean"] / base["nodes_mean"] if base["nodes_mean"] else float("nan")
    return (
        f"The {label(long['hours'])} stream holds {clips_ratio:,.0f} times the clips of the {label(short['hours'])} "
        f"stream; its Search p50 is {ratio:.2f} times as long (target <= {RATIO_TARGET}: "
        f"{'met' if is_met else 'NOT met'}), and a search read {nodes_ratio:.1f} times the nodes (the log of the "
        f"clip count grows {log_ratio:.1f} times)."
    )


def _kinds_table(searches: Sequence[dict], streams: Sequence[dict]) -> str:
    rows = []
    for kind in KINDS:
        row = [kind]
        for stream in streams:
            got = stream_summary(searches, stream["stream_id"], (kind,))
            found = f"{got['found']}/{got['checked']}" if got["checked"] else "-"
            row += [f"{got['p50_ms']:.0f}", f"{got['nodes_mean']:.0f}", found]
        rows.append(row)
    header = ["query"]
    for stream in streams:
        name = label(stream["hours"])
        header += [f"{name}: p50 ms", f"{name}: nodes read", f"{name}: found"]
    return "By query:\n\n" + table(header, rows)


def _mb(value: float) -> str:
    return f"{value / MB:,.2f}"


def _bytes(part: dict) -> list[str]:
    hours, stats = part["hours"], part["stats"]
    stats_rows = [
        ["text vectors (and visual, none here)", _mb(stats["vector_bytes"] / hours)],
        ["texts and metadata", _mb(stats["metadata_bytes"] / hours)],
        ["keyframes", _mb(stats["keyframe_bytes"] / hours)],
        ["log (bytes of records written)", _mb(stats["log_bytes"] / hours)],
        ["total", _mb(sum(stats.values()) / hours)],
    ]
    running, closed = part["disk_running"], part["disk_closed"]
    disk_rows = [[store, _mb(running[store] / hours), _mb(closed[store] / hours)] for store in running]
    disk_rows.append(["total", _mb(sum(running.values()) / hours), _mb(sum(closed.values()) / hours)])
    total_mb = sum(running.values()) / hours / MB
    verdict = "met" if total_mb <= BYTES_TARGET_MB else "NOT met"
    return [
        "### Bytes per stream-hour, with keyframes",
        f"A fresh data directory: one stream-hour, {part['clips']} clips of 4 s, each with one {FRAME_W}x{FRAME_H} "
        f"JPEG keyframe at quality {JPEG_QUALITY} (mean {part['keyframe_mean_bytes'] / 1000:.1f} KB, textured: "
        "gradients, boxes, a moving car, sensor noise), written as above and consolidated "
        f"(nodes per level: {' / '.join(map(str, part['nodes_per_level']))}). MB are 10^6 bytes, per stream-hour.",
        "Memory's `Stats` for the stream:\n\n" + table(["store", "MB / stream-h"], stats_rows),
        "Blocks allocated on disk under the memory data directory, while memory runs and after `close()` "
        "(which checkpoints the log):\n\n" + table(["store", "running: MB / stream-h", "closed"], disk_rows),
        f"On disk a stream-hour with keyframes takes {total_mb:.1f} MB while memory runs (target <= "
        f"{BYTES_TARGET_MB:g} MB: {verdict}).",
    ]


def _commit(part: dict) -> list[str]:
    by_streams = part["by_streams"]
    rows = []
    for streams, got in by_streams.items():
        records, batches = got["records"], max(1, got["batches"])
        rows.append(
            [
                str(streams),
                f"{records:,}",
                f"{records / got['seconds']:.0f}",
                f"{batches / max(1, records):.3f}",
                f"{records / batches:.1f}",
            ]
        )
    counts = list(by_streams)
    one, many = by_streams[counts[0]], by_streams[counts[-1]]
    speedup = (many["records"] / many["seconds"]) / (one["records"] / one["seconds"])
    header = ["streams writing at once", "records acknowledged", "records / s", "fsync batches / record"]
    header.append("records / fsync")
    return [
        "### Group commit",
        "A fresh data directory; each stream writes its clips one at a time (the next once the last is "
        "acknowledged, as one WriteClips call writes), each clip with one keyframe; "
        f"{part['rounds']} runs of {part['seconds_per_run']:g} s per case, the cases alternating.",
        table(header, rows),
        f"{counts[-1]} streams at once had {speedup:.1f} times the acknowledged records per second of {counts[0]}.",
    ]


def _warnings(warnings: dict) -> str:
    counts = warnings.get("counts", {})
    if not counts:
        return "Memory logged no warnings or errors during the run."
    listed = ", ".join(f"{count} {level.lower()}" for level, count in sorted(counts.items()))
    return f"Memory logged {listed} during the run; the first: " + "; ".join(f"`{m}`" for m in warnings["first"])
