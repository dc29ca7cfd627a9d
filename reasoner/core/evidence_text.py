"""Reading evidence text: normalised tokens, candidate answer spans, and the grounding test.

A 270M base model cannot be trusted to be right, but it can be trusted to choose: every answer the
reasoner gives is a span copied from the evidence, either the model's own (checked here) or one of
the spans extracted here and ranked by the model.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from longwatch.types import SearchHit
from reasoner.core.types import Candidate

_TOKEN = re.compile(r"[0-9a-z]+")
# "text on screen: KPL 4721 | EXIT 42" (longwatch.types.ClipRecord.text): OCR lines after the label, "|"-separated.
_OCR_LABEL = re.compile(r"text on screen:\s*", re.IGNORECASE)
_HAS_DIGIT = re.compile(r"\d")
_WITH_DIGITS = re.compile(r"[A-Za-z0-9][\w\-/.:]*\d[\w\-/]*|\d[\w\-/]*")
# A run of words that each start with a capital letter or a digit, led by a capital: "Gate B", "KPL 4721".
_CAPITALISED_RUN = re.compile(r"\b[A-Z][\w\-]*(?:[ \t]+[A-Z0-9][\w\-]*)*")
# Words that carry no answer: question words, articles, and words that describe the video itself.
_FUNCTION_WORDS = frozenset(
    "a an the what which who whom whose where when why how was were is are be been did do does done "
    "of on in at to for from by with and or it its this that these those there here any some "
    "shown show shows showed seen see saw visible screen say said says read written appear appeared "
    "video camera stream clip frame me i you we they tell".split()
)
# Nats added to a candidate's score per question word in its span, and per question word in its hit.
_OWN_WORD_PRIOR = 0.5
_CONTEXT_WORD_PRIOR = 0.5
_KIND_ORDER = {"line": 0, "number": 1, "name": 2, "sentence": 3}


def tokens(text: str) -> list[str]:
    """Lower-case alphanumeric tokens: what grounding and overlap compare ("KPL-4721." → kpl, 4721)."""
    return _TOKEN.findall(text.lower())


def content_tokens(text: str) -> set[str]:
    """Tokens of a question that could name the thing asked about ("alarm", "code", "plate")."""
    return {token for token in tokens(text) if token not in _FUNCTION_WORDS}


def split_hit_text(text: str) -> tuple[str, list[str]]:
    """(caption, OCR lines) of a hit's text as memory stores it."""
    match = _OCR_LABEL.search(text)
    if match is None:
        return text.strip(" ."), []
    caption = text[: match.start()].strip(" .")
    lines = [line.strip(" .") for line in text[match.end() :].split("|")]
    return caption, [line for line in lines if line]


def grounding_index(answer: str, evidence_texts: Sequence[str], question: str) -> int | None:
    """The index of the first evidence text that grounds `answer`, or None: one where `answer`'s tokens
    occur in that order, together ("KPL-4721" in "text on screen: KPL 4721 | EXIT 42"), that shares as
    many of the question's words as any other does (a small model copies "yellow" from the jacket when
    asked the colour of the car), provided the answer says something the question did not."""
    answer_tokens = tokens(answer)
    if not answer_tokens or not set(answer_tokens) - set(tokens(question)):
        return None
    asked = content_tokens(question)
    relevance = [len(asked & set(tokens(text))) for text in evidence_texts]
    for index, text in enumerate(evidence_texts):
        if relevance[index] == max(relevance) and _contains_run(tokens(text), answer_tokens):
            return index
    return None


def _contains_run(haystack: list[str], needle: list[str]) -> bool:
    width = len(needle)
    return any(haystack[i : i + width] == needle for i in range(len(haystack) - width + 1))


def distinct_texts(hits: Sequence[SearchHit]) -> list[SearchHit]:
    """The first hit of each distinct text: a sign seen in five clips is one note, not five."""
    seen: set[tuple[str, ...]] = set()
    distinct = []
    for hit in hits:
        key = tuple(tokens(hit.text))
        if key not in seen:
            seen.add(key)
            distinct.append(hit)
    return distinct


def most_relevant(question: str, hits: Sequence[SearchHit]) -> list[SearchHit]:
    """The hits sharing the most question words, in their order; the best-ranked hit alone when none
    shares any, since then memory's ranking is the only signal. A reply comes from these: a small model
    is drawn to a striking span ("KPL 4721") in another note."""
    asked = content_tokens(question)
    relevance = [len(asked & set(tokens(hit.text))) for hit in hits]
    top = max(relevance, default=0)
    if top == 0:
        return list(hits[:1])
    return [hit for hit, shared in zip(hits, relevance, strict=True) if shared == top]


def strip_question_words(span: str, question: str) -> str:
    """ "ALARM CODE 7315" asked "what was the alarm code?" → "7315": drops the words the question already
    names from the span's ends, but only when what remains holds a number (so "Gate B" stays whole)."""
    asked = content_tokens(question)
    words = span.split()
    start, end = 0, len(words)
    while start < end and set(tokens(words[start])) <= asked | _FUNCTION_WORDS and tokens(words[start]):
        start += 1
    while end > start and set(tokens(words[end - 1])) <= asked | _FUNCTION_WORDS and tokens(words[end - 1]):
        end -= 1
    remainder = " ".join(words[start:end])
    if remainder and remainder != span and _HAS_DIGIT.search(remainder):
        return remainder
    return span


def clean_generation(text: str, max_chars: int) -> str:
    """The model's completion as a reply: one line, no surrounding quotes or trailing punctuation."""
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line.strip(" \"'`.,;:")[:max_chars].strip()


def _spans_of_hit(text: str) -> list[tuple[str, str]]:
    """(kind, span) pairs of one hit, most specific kinds first."""
    caption, lines = split_hit_text(text)
    spans = [("line", line) for line in lines]
    spans += [("number", match.group(0).strip(".:")) for match in _WITH_DIGITS.finditer(text)]
    spans += [("name", match.group(0)) for match in _CAPITALISED_RUN.finditer(caption)]
    spans += [("name", match.group(0)) for line in lines for match in _CAPITALISED_RUN.finditer(line)]
    if caption:
        spans.append(("sentence", caption))
    return spans


def extract_candidates(question: str, hits: Sequence[SearchHit], max_candidates: int) -> list[Candidate]:
    """Distinct spans of the hits that add something to the question, best hit first, at most `max_candidates`."""
    asked = set(tokens(question))
    seen: set[tuple[str, ...]] = set()
    found: list[Candidate] = []
    for index, hit in enumerate(hits):
        for kind, source in sorted(_spans_of_hit(hit.text), key=lambda pair: _KIND_ORDER[pair[0]]):
            span = strip_question_words(source, question)
            key = tuple(tokens(span))
            if not key or key in seen or set(key) <= asked | _FUNCTION_WORDS:
                continue
            seen.add(key)
            found.append(Candidate(text=span, hit_index=index, kind=kind, source=source))
    return found[:max_candidates]


def lexical_relevance(question: str, candidate: Candidate, hit_text: str) -> float:
    """Question words a candidate shares, in its own span and in its hit's text: a prior added to the LLM's
    mean log-likelihood (nats), which alone favours long, easily copied spans over relevant ones."""
    asked = content_tokens(question)
    own = len(asked & set(tokens(candidate.source or candidate.text)))
    context = len(asked & set(tokens(hit_text)))
    return _OWN_WORD_PRIOR * own + _CONTEXT_WORD_PRIOR * context


def rank_without_llm(question: str, candidates: Sequence[Candidate]) -> list[Candidate]:
    """Candidates by a heuristic, for when there is no time for the LLM: better hits first (memory ranked
    them), then more specific kinds (a line of on-screen text before a whole caption), then spans that
    share more of the question's words."""
    asked = content_tokens(question)

    def key(item: tuple[int, Candidate]) -> tuple[int, int, int, int]:
        position, candidate = item
        overlap = len(asked & set(tokens(candidate.source or candidate.text)))
        return (candidate.hit_index, _KIND_ORDER[candidate.kind], -overlap, position)

    return [candidate for _, candidate in sorted(enumerate(candidates), key=key)]
