"""The two plots of benchmarks.scaling, drawn with matplotlib's Agg backend (no display needed)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402 - the backend must be chosen before pyplot is imported

_DPI = 110
_SIZE_IN = (7.0, 3.6)


def plot_ingest(path: Path, windows: Sequence[Sequence[float]], labels: Sequence[str], title: str) -> Path:
    """ms per decoded frame of each cost in `labels` (one point per window: centre frame, then one value
    per label) against frames seen so far."""
    figure, axes = plt.subplots(figsize=_SIZE_IN)
    frames = [window[0] for window in windows]
    for index, label in enumerate(labels, start=1):
        axes.plot(frames, [window[index] for window in windows], marker=".", linewidth=1, label=label)
    axes.set_xlabel("frames seen in the stream")
    axes.set_ylabel("ms per decoded frame")
    axes.set_ylim(bottom=0)
    axes.set_title(title, fontsize=10)
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8)
    return _save(figure, path)


def plot_ask(path: Path, hours: Sequence[float], series: dict[str, Sequence[float]], title: str) -> Path:
    """Latency series (label → ms per history length) against the stream's history in hours, log scale."""
    figure, axes = plt.subplots(figsize=_SIZE_IN)
    for label, values in series.items():
        axes.plot(hours, values, marker="o", label=label)
    axes.set_xscale("log")
    axes.set_xticks(hours, [f"{value:g} h" if value >= 1 else f"{value * 60:.0f} min" for value in hours])
    axes.minorticks_off()
    axes.set_xlabel("history of the stream asked about")
    axes.set_ylabel("latency ms")
    axes.set_ylim(bottom=0)
    axes.set_title(title, fontsize=10)
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8)
    return _save(figure, path)


def _save(figure: plt.Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.tight_layout()
    figure.savefig(path, dpi=_DPI)
    plt.close(figure)
    return path
