"""Turns scores into the figures of a run: accuracy with Wilson intervals by question type, scene family,
text difficulty and haystack length; grounding; abstention; calibration; latency. As JSON and Markdown.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from longwatch.times import format_time_s
from longwatch_cli.eval.scoring import Score, wilson_interval

CALIBRATION_BINS = 5  # equal-width confidence bins over [0, 1]


@dataclass(frozen=True)
class Group:
    name: str
    total: int
    correct: int
    correct_ocr_folded: int
    grounded: int
    groundable: int
    abstention_right: int

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0

    def to_json(self) -> dict[str, object]:
        low, high = wilson_interval(self.correct, self.total)
        return {
            "name": self.name,
            "total": self.total,
            "correct": self.correct,
            "accuracy": self.accuracy,
            "accuracy_95ci": [low, high],
            "correct_ocr_folded": self.correct_ocr_folded,
            "grounded": self.grounded,
            "groundable": self.groundable,
            "abstention_right": self.abstention_right,
        }


def group(name: str, scores: Sequence[Score]) -> Group:
    groundable = [s for s in scores if s.is_grounded is not None]
    return Group(
        name=name,
        total=len(scores),
        correct=sum(s.is_correct for s in scores),
        correct_ocr_folded=sum(s.is_correct_ocr_folded for s in scores),
        grounded=sum(bool(s.is_grounded) for s in groundable),
        groundable=len(groundable),
        abstention_right=sum(s.is_abstention_right for s in scores),
    )


def groups_by(scores: Iterable[Score], key: Callable[[Score], str]) -> list[Group]:
    buckets: dict[str, list[Score]] = defaultdict(list)
    for item in scores:
        buckets[key(item)].append(item)
    return [group(name, items) for name, items in sorted(buckets.items())]


def calibration(scores: Sequence[Score]) -> tuple[list[dict[str, float]], float]:
    """Reliability rows over the answers the system gave (abstentions and failed calls left out), and the
    expected calibration error: the answer-weighted mean gap between confidence and accuracy per bin."""
    answered = [s for s in scores if not s.is_abstention and not s.reply.error]
    rows, ece = [], 0.0
    for index in range(CALIBRATION_BINS):
        low, high = index / CALIBRATION_BINS, (index + 1) / CALIBRATION_BINS
        last = index == CALIBRATION_BINS - 1
        members = [s for s in answered if low <= s.reply.confidence < high or (last and s.reply.confidence >= high)]
        if not members:
            rows.append({"low": low, "high": high, "answers": 0, "confidence": 0.0, "accuracy": 0.0})
            continue
        confidence = sum(s.reply.confidence for s in members) / len(members)
        accuracy = sum(s.is_correct for s in members) / len(members)
        ece += len(members) / len(answered) * abs(confidence - accuracy)
        rows.append({"low": low, "high": high, "answers": len(members), "confidence": confidence, "accuracy": accuracy})
    return rows, ece


def percentile(values: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile of `values` (fraction 0.5 = median); 0.0 for no values."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))] if ordered else 0.0


def summarise(scores: Sequence[Score]) -> dict[str, object]:
    """Every figure of a run, ready for JSON."""
    rows, ece = calibration(scores)
    latencies = [s.reply.latency_ms for s in scores if not s.reply.error]
    clips_read = [s.reply.clips_read for s in scores if s.reply.clips_read is not None]
    return {
        "overall": group("all", scores).to_json(),
        "by_type": [g.to_json() for g in groups_by(scores, lambda s: s.question.type.value)],
        "by_family": [g.to_json() for g in groups_by(scores, lambda s: s.question.family)],
        "by_text": [g.to_json() for g in groups_by(scores, lambda s: "hard" if s.question.is_hard else "plain")],
        "by_haystack": [g.to_json() for g in groups_by(scores, lambda s: format_time_s(s.question.haystack_s))],
        "calibration": rows,
        "ece": ece,
        "confident_wrong": sum(not s.is_correct and not s.is_abstention and s.reply.confidence >= 0.5 for s in scores),
        "latency_ms": {"p50": percentile(latencies, 0.5), "p95": percentile(latencies, 0.95)},
        "evidence_cited_mean": sum(len(s.reply.evidence) for s in scores) / len(scores) if scores else 0.0,
        "clips_read_mean": sum(clips_read) / len(clips_read) if clips_read else None,
        "errors": sum(bool(s.reply.error) for s in scores),
    }


def _group_table(title: str, groups: Sequence[dict]) -> list[str]:
    lines = [
        f"| {title} | n | correct | 95% CI | OCR-forgiving | grounded | abstention right |",
        "|---|---|---|---|---|---|---|",
    ]
    for g in groups:
        low, high = g["accuracy_95ci"]
        grounded = f"{g['grounded']}/{g['groundable']}" if g["groundable"] else "-"
        lines.append(
            f"| {g['name']} | {g['total']} | {g['correct']} ({g['accuracy']:.0%}) | {low:.0%}-{high:.0%} "
            f"| {g['correct_ocr_folded']} | {grounded} | {g['abstention_right']}/{g['total']} |"
        )
    return lines


def markdown(summary: dict[str, object]) -> str:
    """The run's tables: overall, by type, family, text and haystack; calibration; latency."""
    lines = _group_table("questions", [summary["overall"]])
    for title, key in (("type", "by_type"), ("scene family", "by_family"), ("text", "by_text")):
        lines += ["", *_group_table(title, summary[key])]
    lines += ["", *_group_table("haystack", summary["by_haystack"])]
    lines += ["", "| confidence | answers | mean confidence | accuracy |", "|---|---|---|---|"]
    for row in summary["calibration"]:
        rng = f"{row['low']:.1f}-{row['high']:.1f}"
        lines.append(f"| {rng} | {row['answers']} | {row['confidence']:.2f} | {row['accuracy']:.0%} |")
    latency = summary["latency_ms"]
    clips = summary["clips_read_mean"]
    lines += [
        "",
        f"Expected calibration error {summary['ece']:.3f}; {summary['confident_wrong']} wrong answers with "
        f"confidence 0.5 or more; latency p50 {latency['p50']:.0f} ms, p95 {latency['p95']:.0f} ms; "
        f"{summary['evidence_cited_mean']:.1f} evidence clips cited per question; memory nodes read per question: "
        f"{'not reported by the reasoner' if clips is None else f'{clips:.1f}'}; {summary['errors']} failed calls.",
    ]
    return "\n".join(lines)


def failures(scores: Sequence[Score], limit: int = 12) -> str:
    """A few wrong answers, to read: question, expected, said."""
    wrong = [s for s in scores if not s.is_correct][:limit]
    lines = ["| type | question | expected | said | confidence |", "|---|---|---|---|---|"]
    for s in wrong:
        said = (s.reply.error or s.reply.answer).replace("|", "/").replace("\n", " ")[:80]
        q = s.question
        question = q.text.replace("|", "/")
        lines.append(
            f"| {q.type.value} | {question} | {q.expected or '(not seen)'} | {said} | {s.reply.confidence:.2f} |"
        )
    return "\n".join(lines)
