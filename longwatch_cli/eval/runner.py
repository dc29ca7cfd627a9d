"""`longwatch eval`: generate the evaluation streams, ingest them, ask, score, write the report.

Everything goes through the public gRPC API (the client SDK): AddStream and ListStreams on
perception, Ask on the reasoner. Nothing imports a service's internals, so the same run scores a
system started here or one already running elsewhere (`--perception`, `--reasoner` addresses).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from longwatch import errors
from longwatch.client import LongwatchClient
from longwatch.progress import wait_until_final
from longwatch.types import Answer, StreamState
from longwatch_cli.eval import report
from longwatch_cli.eval.episode import Episode, Question, question_from_dict
from longwatch_cli.eval.families import get_family
from longwatch_cli.eval.machine import command_block
from longwatch_cli.eval.plan import Mix
from longwatch_cli.eval.questions import plan_episode
from longwatch_cli.eval.render import write_video
from longwatch_cli.eval.scoring import CitedRange, Reply, Score, score

logger = logging.getLogger(__name__)

QUICK_HAYSTACKS_S = (600.0,)  # 10 minutes of 1 fps stream per family
FULL_HAYSTACKS_S = (600.0, 10_000.0)  # and 10,000 sampled frames (2 h 47 min), after VideoChat-Flash's NIAH
SHORT_HAYSTACK_S = 600.0  # below this, a stream holds only SHORT_MIX's few questions
SHORT_MIX = Mix(single=1, chain2=0, when=1, between=1, after=0, count=0, duration=0, absent=1)
FULL_LONG_MIX = Mix(single=8, chain2=2, chain3=2, when=2, between=2, after=2, count=2, duration=2, absent=4)


@dataclass(frozen=True)
class EvalPlan:
    seed: int
    families: tuple[str, ...]
    haystacks_s: tuple[float, ...]
    is_full: bool = False

    def mix(self, family_index: int, haystack_s: float) -> Mix:
        """Two families get a 2-hop chain and two a 3-hop chain in a short haystack; a long one has both."""
        if self.is_full and haystack_s > 3600:
            return FULL_LONG_MIX
        if haystack_s < SHORT_HAYSTACK_S:
            return SHORT_MIX
        return Mix(chain2=1 - family_index % 2, chain3=family_index % 2)

    def episodes(self) -> list[Episode]:
        return [
            plan_episode(get_family(name), self.seed, haystack_s, self.mix(index, haystack_s))
            for index, name in enumerate(self.families)
            for haystack_s in self.haystacks_s
        ]


def prepare_videos(episodes: Sequence[Episode], directory: Path) -> dict[str, Path]:
    """Writes each episode's video and ground truth; an unchanged episode's video is reused."""
    directory.mkdir(parents=True, exist_ok=True)
    videos = {}
    for episode in episodes:
        video, truth = directory / episode.video_name, directory / f"{episode.stream_id}.json"
        if not (video.exists() and truth.exists() and truth.read_text() == episode.to_json()):
            started = time.perf_counter()
            write_video(episode, video)
            episode.write(directory)
            logger.info("wrote %s (%.0f s) in %.0f s", video.name, episode.duration_s, time.perf_counter() - started)
        videos[episode.stream_id] = video
    return videos


async def ingest(client: LongwatchClient, videos: dict[str, Path]) -> dict[str, float]:
    """Adds every stream at once and waits until each is finished; wall seconds per stream. A stream the
    services already finished (an earlier run with --attach) is not ingested again."""
    started = time.perf_counter()
    finished = {
        status.stream_id
        for status in await client.perception.list_streams()
        if status.stream_id in videos and status.state is StreamState.FINISHED
    }
    for stream_id, video in videos.items():
        if stream_id in finished:
            logger.info("%s was ingested already; asking about it again", stream_id)
            continue
        await client.perception.add_stream(stream_id, str(video.resolve()), sample_fps=1.0)

    async def finish(stream_id: str) -> tuple[str, float]:
        status = await wait_until_final(client.perception, stream_id, show_progress=False)
        if status.state is not StreamState.FINISHED:
            raise errors.FailedPrecondition(f"eval stream {stream_id} ended {status.state.value}: {status.error}")
        wall_s = time.perf_counter() - started
        logger.info(
            "ingested %s: %.0f s of video, %d clips, %.0f s", stream_id, status.position_s, status.clips_written, wall_s
        )
        return stream_id, wall_s

    return dict(await asyncio.gather(*(finish(stream_id) for stream_id in videos)))


def reply_from_answer(answer: Answer, latency_ms: float) -> Reply:
    evidence = tuple(CitedRange(e.stream_id, e.start_s, e.end_s) for e in answer.evidence)
    return Reply(
        answer.answer, answer.confidence, evidence, answer.latency_ms or latency_ms, clips_read=answer.nodes_read
    )


async def ask_one(client: LongwatchClient, question: Question, deadline_ms: int) -> Reply:
    """The reply to one question; a failed call is a reply that carries its error."""
    started = time.perf_counter()
    try:
        answer = await client.reasoner.ask(question.text, stream_ids=[question.stream_id], deadline_ms=deadline_ms)
    except errors.LongwatchError as exc:
        return Reply("", error=f"{type(exc).__name__}: {exc}", latency_ms=(time.perf_counter() - started) * 1000)
    return reply_from_answer(answer, (time.perf_counter() - started) * 1000)


async def ask_all(client: LongwatchClient, episodes: Sequence[Episode], deadline_ms: int) -> list[Score]:
    scores = []
    for episode in episodes:
        for question in episode.questions:
            reply = await ask_one(client, question, deadline_ms)
            scores.append(score(question, reply))
            mark = "right" if scores[-1].is_correct else "WRONG"
            said = reply.answer or reply.error
            logger.info("[%d] %-5s %-8s %s -> %s", len(scores), mark, question.type.value, question.text, said)
    return scores


def write_report(scores: Sequence[Score], plan: EvalPlan, command: str, results: Path, ingest_s: dict) -> Path:
    """`eval.json` (every question, reply and score) and `eval.md` (the tables) under `results`."""
    results.mkdir(parents=True, exist_ok=True)
    summary = report.summarise(scores)
    data = {
        "command": command,
        "plan": asdict(plan),
        "summary": summary,
        "ingest_wall_s": ingest_s,
        "scores": [asdict(s) for s in scores],
    }
    (results / "eval.json").write_text(json.dumps(data, indent=1, default=str))
    mode = "full" if plan.is_full else "quick"
    text = "\n\n".join(
        [
            "## Answers: the evaluation harness",
            command_block(command),
            f"Mode {mode}, seed {plan.seed}: {len(plan.families)} scene families ({', '.join(plan.families)}), "
            f"haystacks of {', '.join(f'{h:.0f} s' for h in plan.haystacks_s)} at 1 fps, {len(scores)} questions. "
            "Scoring (longwatch_cli/eval/scoring.py): upper case, punctuation to spaces; a value answer must hold the "
            "expected value and none of the distractors' values; OCR confusions are not forgiven except in the "
            "OCR-forgiving column; a 'when' answer must overlap the needle within 4 s; a count must be exact; a "
            "duration within 25% or 5 s; an absent question is right only when the reply says it was not seen.",
            report.markdown(summary),
            "Some wrong answers:\n\n" + report.failures(scores),
        ]
    )
    path = results / "eval.md"
    path.write_text(text + "\n")
    return path


def rescore(results: Path) -> Path:
    """Scores the replies kept in `results/eval.json` again, after a change to the scoring rules, and
    rewrites the report; nothing is ingested or asked."""
    data = json.loads((results / "eval.json").read_text())
    plan = EvalPlan(**{**data["plan"], "families": tuple(data["plan"]["families"])})
    scores = [score(question_from_dict(s["question"]), _reply_from_dict(s["reply"])) for s in data["scores"]]
    command = data.get("command", "longwatch eval --quick --results benchmarks/results")
    command = command.split("  # ")[0] + "  # replies rescored later with --rescore"
    return write_report(scores, plan, command, results, data["ingest_wall_s"])


def _reply_from_dict(data: dict) -> Reply:
    evidence = tuple(CitedRange(**item) for item in data["evidence"])
    return Reply(**{**data, "evidence": evidence})


async def run_eval(addresses: dict[str, str], plan: EvalPlan, work_dir: Path, deadline_ms: int = 0) -> tuple:
    """Generates, ingests and asks; (scores, ingest wall seconds per stream)."""
    episodes = plan.episodes()
    videos = await asyncio.to_thread(prepare_videos, episodes, work_dir)
    async with LongwatchClient.connect(**addresses) as client:
        ingest_s = await ingest(client, videos)
        return await ask_all(client, episodes, deadline_ms), ingest_s
