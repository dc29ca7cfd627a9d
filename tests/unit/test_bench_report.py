"""docs/benchmarks.md assembly: fresh sections replace old ones, missing ones are kept, order is fixed; and the
verdicts of benchmarks.memory's section."""

from __future__ import annotations

from benchmarks.memory_report import HEADING, markdown
from benchmarks.report import HEADER, assemble


def test_fresh_sections_replace_old_ones_and_missing_ones_are_kept(tmp_path):
    results, target = tmp_path / "results", tmp_path / "benchmarks.md"
    results.mkdir()
    (results / "load.md").write_text("## Load\n\nold load\n")
    (results / "eval.md").write_text("## Answers\n\nold eval\n")
    target.write_text(assemble(results, target))
    (results / "load.md").unlink()
    (results / "eval.md").write_text("## Answers\n\nnew eval\n")
    text = assemble(results, target)
    assert text.startswith(HEADER.strip())
    assert "new eval" in text and "old eval" not in text
    assert "old load" in text  # its script did not run this time
    assert text.index("new eval") < text.index("old load")  # eval comes first, then load


def _memory_figures(long_p50_ms: float) -> dict:
    """Made-up figures of benchmarks.memory: two streams, four searches each, one part per table."""
    streams = [
        {"stream_id": "short", "hours": 1 / 6, "clips": 150},
        {"stream_id": "long", "hours": 24.0, "clips": 21600},
    ]
    searches = [
        {"stream_id": stream_id, "kind": "plate", "ms": ms, "nodes_read": nodes, "found": True, "top_level": 0}
        for stream_id, ms, nodes in (("short", 40.0, 159), ("long", long_p50_ms, 330))
        for _ in range(4)
    ]
    write = {"clips": 21750, "write_s": 200.0, "consolidate_s": 5.0, "is_consolidated": True, "commit_batches": 300}
    probe = {"clips": 1024, "clips_per_s": 100.0, "estimate_s": 217.0}
    history = {"streams": streams, "searches": searches, "nodes_per_level": {"short": [9], "long": [1350, 84, 5]}}
    history |= {"write": write, "probe": probe, "in_flight": 64, "quick_limit_s": 360.0, "long_hours": 24.0}
    history |= {"is_shortened": False, "rounds": 4}
    hour = {"chroma/": 7_000_000, "keyframes/": 26_000_000, "wal/": 10_000_000, "streams.sqlite3*": 1_000_000}
    stats = {"vector_bytes": 1, "metadata_bytes": 1, "keyframe_bytes": 1, "log_bytes": 1}
    parts = {"hours": 1.0, "clips": 900, "keyframe_mean_bytes": 28_000, "write": write, "stats": stats}
    parts |= {"nodes_per_level": [56, 3], "disk_running": hour, "disk_closed": hour}
    commits = {1: {"records": 30, "seconds": 2.0, "batches": 30}, 100: {"records": 600, "seconds": 2.0, "batches": 6}}
    return {
        "settings": {"fanout": 16, "beam": 4, "batch": 512},
        "embedder": "all-MiniLM-L6-v2",
        "embedder_load_s": 6.0,
        "history": history,
        "bytes": parts,
        "group_commit": {"by_streams": commits, "rounds": 2, "seconds_per_run": 1.0},
    }


def test_the_memory_section_says_whether_each_target_was_met():
    text = markdown(_memory_figures(long_p50_ms=48.0), "(command)")
    assert text.startswith(HEADING)
    assert "1.20 times as long (target <= 1.3: met)" in text
    assert "44.0 MB while memory runs (target <= 50 MB: met)" in text
    assert "100 streams at once had 20.0 times" in text
    assert "1.3: NOT met" in markdown(_memory_figures(long_p50_ms=60.0), "(command)")
