"""What every benchmark script shares: tables, percentiles, the machine line and where results go.

Each script writes `<results>/<name>.json` (the figures) and `<results>/<name>.md` (a Markdown section
that starts with its own `## ` heading, the exact command, the date and the machine), and prints the
Markdown. `benchmarks.report` assembles docs/benchmarks.md from those sections.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from longwatch_cli.eval.machine import command_block, machine_line
from longwatch_cli.eval.report import percentile

__all__ = ["command_block", "machine_line", "percentile", "table", "write_result"]

REPO_ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = REPO_ROOT / "benchmarks" / "results"  # not committed (.gitignore)
DOCS_DIR = REPO_ROOT / "docs"


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def write_result(name: str, markdown: str, data: object, results_dir: Path = RESULTS_DIR) -> Path:
    """Writes `<name>.md` and `<name>.json` under `results_dir`, prints the Markdown; returns the .md path."""
    results_dir.mkdir(parents=True, exist_ok=True)
    (results_dir / f"{name}.json").write_text(json.dumps(data, indent=2, default=str))
    path = results_dir / f"{name}.md"
    path.write_text(markdown.rstrip() + "\n")
    print(markdown, flush=True)
    return path
