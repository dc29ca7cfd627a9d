"""Assembles docs/benchmarks.md from the sections the benchmark scripts wrote under benchmarks/results/.

    .venv/bin/python -m benchmarks.report            # what `make bench` runs last

Each script writes `<name>.md` there (its own heading, exact command, date and machine, tables); this
puts them in a fixed order under one header. A section whose script did not run this time is kept
from the current docs/benchmarks.md, so one script can be rerun alone without losing the others.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from benchmarks.common import DOCS_DIR, RESULTS_DIR

SECTIONS = ("eval", "scaling", "load", "faults", "bad_input", "end_to_end")
_MARK = "<!-- section: {} -->"
HEADER = """# Benchmarks

Measured on the development machine: 2 cores, 24 GiB RAM, no GPU, Python 3.11, shared with other work
(so absolute times drift between runs; compare the ratios inside one table). Every figure comes from the
command shown above it, with the date it ran. `make bench` runs the quick mode of every script and writes
this file again (`make bench-full` the full mode); each script alone writes its section into
benchmarks/results/ (not committed) and `python -m benchmarks.report` puts the sections here.

The baseline that the hardening, memory, perception and reasoner issues are judged against is kept
apart, unchanged, in [benchmarks-baseline.md](benchmarks-baseline.md).
"""


def current_sections(path: Path) -> dict[str, str]:
    """The sections of an existing docs/benchmarks.md, by name."""
    if not path.exists():
        return {}
    text = path.read_text()
    found = {}
    for name in SECTIONS:
        match = re.search(re.escape(_MARK.format(name)) + r"\n(.*?)(?=\n<!-- section: |\Z)", text, re.DOTALL)
        if match:
            found[name] = match.group(1).strip()
    return found


def assemble(results: Path, target: Path) -> str:
    kept = current_sections(target)
    parts = [HEADER.strip()]
    for name in SECTIONS:
        fresh = results / f"{name}.md"
        body = fresh.read_text().strip() if fresh.exists() else kept.get(name)
        if body:
            parts.append(f"{_MARK.format(name)}\n{body}")
    return "\n\n".join(parts) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--results", type=Path, default=RESULTS_DIR)
    parser.add_argument("--out", type=Path, default=DOCS_DIR / "benchmarks.md")
    args = parser.parse_args()
    args.out.write_text(assemble(args.results, args.out))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
