"""Domain types internal to the reasoner; the shared ones (SearchHit, Evidence, Answer, AskQuery) live in
longwatch.types."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from longwatch.types import AnswerMethod, AskProgress, SearchHit

# Receives each step of an Ask as it happens (the streaming RPC sends them on); must not block.
ProgressSink = Callable[[AskProgress], None]


@dataclass(frozen=True)
class Candidate:
    """A span of evidence text that could be the answer."""

    text: str
    hit_index: int  # which hit (0 = best retrieved) it comes from
    kind: str  # "line" (a line of on-screen text), "number", "name" (a capitalised run), "sentence" (a caption)
    source: str = ""  # the span as found, before the question's own words were dropped from its ends


@dataclass(frozen=True)
class LLMReply:
    """The LLM answerer's result (reasoner.core.answerer), before it becomes the Ask's reply (answers.Reply)."""

    text: str
    method: AnswerMethod
    confidence: float  # 0 to 1
    # The hits the reply was read from (a "when" reply: every clip of its range), listed first in the
    # answer's evidence, so the reply can always be checked against what is cited.
    sources: tuple[SearchHit, ...] = ()
    fallback: str = ""  # why a simpler method answered than the one that was tried ("the LLM failed: ...")


@dataclass(frozen=True)
class AnswerLimits:
    """How much the answerer shows the LLM and asks of it (from ReasonerSettings)."""

    prompt_hits: int = 4  # hits listed in the prompt
    hit_text_chars: int = 400  # characters of each hit's text shown in the prompt
    max_new_tokens: int = 12  # tokens generated for a short answer
    max_candidates: int = 12  # evidence spans scored by the LLM (each costs a vocabulary-wide softmax per token)
    max_answer_chars: int = 200  # longest reply, in characters


@dataclass(frozen=True)
class LLMOptions:
    """Everything an LLM backend may need; each backend reads what it uses."""

    model_cache: Path
    model: str = ""  # Hugging Face id or local path, for the transformers backend
    device: str | None = None  # None: the backend chooses (CUDA when available)
    base_url: str = ""  # OpenAI-compatible server, for example http://127.0.0.1:8000/v1
    api_model: str = ""  # model name the OpenAI-compatible server knows
    api_key: str = ""  # bearer token for that server; empty = none
    timeout_s: float = 60.0  # per HTTP request to that server
    api_mode: str = "completion"  # that server's endpoint: "completion" (generates and scores) or "chat"
    api_vision: bool = False  # chat mode: send images to that server (a vision-language model serves it)


@dataclass
class Budget:
    """A deadline on a monotonic clock; the clock is injectable so tests need not sleep."""

    deadline: float  # clock() value at which the answer is due
    clock: Callable[[], float] = field(default=time.monotonic)

    @classmethod
    def from_now(cls, seconds: float, clock: Callable[[], float] = time.monotonic) -> Budget:
        return cls(deadline=clock() + seconds, clock=clock)

    def remaining_s(self) -> float:
        return self.deadline - self.clock()

    def allows(self, step_s: float) -> bool:
        """Whether a step expected to take `step_s` seconds still ends before the deadline."""
        return self.remaining_s() > step_s


@dataclass(frozen=True)
class ReasonerLimits:
    """What one question may ask and get (from ReasonerSettings)."""

    default_deadline_ms: int = 5_000  # when a request leaves deadline_ms at 0 (ReasonerSettings says why)
    max_deadline_ms: int = 3_600_000  # an hour: past gRPC's own timeout range, a deadline means nothing
    max_evidence: int = 5  # evidence items per answer; more when it was read from more (a "when" range)
    search_k: int = 30  # clips asked of memory's own search per target (the search loop's seeds)
    node_budget: int = 600  # memory nodes one search may read, every level
    max_hops: int = 3  # searches for what the evidence points to, after the question's own
    max_answer_chars: int = 200
    max_question_chars: int = 2000
    max_stream_ids: int = 1000
