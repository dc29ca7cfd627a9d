"""docs/benchmarks.md assembly: fresh sections replace old ones, missing ones are kept, order is fixed."""

from __future__ import annotations

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
