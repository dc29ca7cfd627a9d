"""Hybrid search: nearest clips by cosine similarity, plus clips holding the query's names and numbers.

A plate number or an on-screen code is what embeddings blur most ("KX-4721" and "KX-4712"
embed almost alike), so the exact terms of a query (tokens with digits, upper-case words,
quoted phrases) are looked up by chromadb's `$contains` on the clips' match-form text.
Candidates from both lookups are rescored: cosine similarity + a bonus per matched term.
Every lookup is a bounded chromadb query; nothing here walks all clips.

Candidates stay diverse (issue 12.8): when the nearest-neighbour lookup comes back full, one more
lookup excludes the streams it returned and one more excludes its most repeated text, so that a
flood of identical clips in one stream cannot fill the candidates; and hits past the
`SearchLimits.max_same_text`-th of one stream's text come after all the others.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from typing import Any

import numpy as np

from longwatch.errors import InvalidArgument
from longwatch.types import SearchHit
from longwatch.validation import validate_stream_ids, validate_stream_time_s
from memory_service.core.store import ClipStore, match_words, text_key
from memory_service.core.types import MAX_K, SearchLimits, SearchQuery, StoredClip

_QUOTED = re.compile(r"\"([^\"]+)\"|\u201c([^\u201d]+)\u201d")
_TOKEN_EDGE = string.punctuation + "\u201c\u201d\u2018\u2019"
# A query of this many words or more that is mostly upper case is shouting, not a list of names.
_SHOUTING_MIN_WORDS = 3


def exact_terms(text: str, max_terms: int) -> list[str]:
    """The query's quoted phrases, tokens with digits and upper-case words, in match form, first ones first."""
    quoted = [double or curly for double, curly in _QUOTED.findall(text)]
    tokens = [token.strip(_TOKEN_EDGE) for token in _QUOTED.sub(" ", text).split()]
    words = [token for token in tokens if any(char.isalpha() for char in token)]
    is_shouting = len(words) >= _SHOUTING_MIN_WORDS and 2 * sum(word.isupper() for word in words) > len(words)
    names = [
        token
        for token in tokens
        if any(char.isdigit() for char in token) or (not is_shouting and len(token) >= 2 and token.isupper())
    ]
    terms: list[str] = []
    for candidate in quoted + names:
        term = match_words(candidate)
        if term and term not in terms:
            terms.append(term)
    return terms[:max_terms]


def validate_query(query: SearchQuery, limits: SearchLimits) -> None:
    """Raises InvalidArgument, saying what to change, for a query the service will not run."""
    if not query.text.strip():
        raise InvalidArgument("search text is empty; pass the words to look for")
    if len(query.text) > limits.max_query_chars:
        raise InvalidArgument(f"search text has {len(query.text)} characters; the limit is {limits.max_query_chars}")
    if not 1 <= query.k <= MAX_K:
        raise InvalidArgument(f"k must be between 1 and {MAX_K} (0 means 10); got {query.k}")
    if len(query.stream_ids) > limits.max_streams:
        raise InvalidArgument(f"a search may name at most {limits.max_streams} streams; got {len(query.stream_ids)}")
    validate_stream_ids(query.stream_ids)
    validate_stream_time_s(query.start_s, "start_s")
    validate_stream_time_s(query.end_s, "end_s")
    if query.end_s > 0 and query.start_s > query.end_s:
        raise InvalidArgument(
            f"start_s ({query.start_s}) is after end_s ({query.end_s}); swap them, or pass end_s = 0 for no upper bound"
        )


def where_clause(query: SearchQuery) -> dict[str, Any] | None:
    """chromadb metadata filter: the streams, and clips overlapping [start_s, end_s] (end_s = 0: open).
    A clip spans [its start_s, its end_s): one that ends at start_s is the clip before the range."""
    conditions: list[dict[str, Any]] = []
    if query.stream_ids:
        conditions.append({"stream_id": {"$in": sorted(set(query.stream_ids))}})
    if query.start_s > 0:
        conditions.append({"end_s": {"$gt": query.start_s}})
    if query.end_s > 0:
        conditions.append({"start_s": {"$lte": query.end_s}})
    if not conditions:
        return None
    return conditions[0] if len(conditions) == 1 else {"$and": conditions}


def _and(first: dict[str, Any] | None, second: dict[str, Any]) -> dict[str, Any]:
    return second if first is None else {"$and": [first, second]}


def _few_of_each_text(scored: list[tuple[float, StoredClip]], most: int) -> list[tuple[float, StoredClip]]:
    """`scored` (best first) with the clips past the `most`-th of one (stream, text) moved after the
    others, in their order: repeats fill the hits only where nothing else would."""
    seen: Counter[tuple[str, str]] = Counter()
    first, repeats = [], []
    for score, clip in scored:
        key = (clip.stream_id, clip.match_text)
        seen[key] += 1
        (first if seen[key] <= most else repeats).append((score, clip))
    return first + repeats


class HybridSearcher:
    """Ranks stored clips for a validated query whose text is already embedded."""

    def __init__(self, store: ClipStore, limits: SearchLimits) -> None:
        self._store = store
        self._limits = limits

    def rank(self, query: SearchQuery, embedding: np.ndarray) -> list[SearchHit]:
        """The top `query.k` hits, best first. `embedding` is the (D,) unit vector of `query.text`."""
        where = where_clause(query)
        n_results = max(query.k, self._limits.candidates)
        terms = exact_terms(query.text, self._limits.max_exact_terms)
        nearest = self._store.query(embedding, n_results, where)
        found = {clip.clip_id: clip for clip in nearest}
        for clip in self._beside(nearest, query, embedding, n_results):
            found.setdefault(clip.clip_id, clip)
        for term in terms:
            for clip in self._store.query(embedding, n_results, where, contains=f" {term} "):
                found.setdefault(clip.clip_id, clip)
        scored = sorted(
            ((self._score(clip, terms), clip) for clip in found.values()),
            key=lambda pair: (-pair[0], pair[1].stream_id, pair[1].start_s),
        )
        return [
            SearchHit(
                clip_id=clip.clip_id,
                stream_id=clip.stream_id,
                start_s=clip.start_s,
                end_s=clip.end_s,
                text=clip.text,
                score=score,
            )
            for score, clip in _few_of_each_text(scored, self._limits.max_same_text)[: query.k]
        ]

    def _beside(
        self, nearest: list[StoredClip], query: SearchQuery, embedding: np.ndarray, n_results: int
    ) -> list[StoredClip]:
        """Candidates a full `nearest` may have crowded out: from other streams, and with other texts."""
        if len(nearest) < n_results:
            return []  # the lookup returned everything that passes the filter
        more: list[StoredClip] = []
        streams = sorted({clip.stream_id for clip in nearest})
        if len(query.stream_ids) != 1:
            others = {"stream_id": {"$nin": streams}}
            more += self._store.query(embedding, n_results, _and(where_clause(query), others))
        texts = Counter(clip.match_text for clip in nearest)
        repeated, _ = texts.most_common(1)[0]
        if len(texts) < n_results:
            other_texts = {"text_key": {"$ne": text_key(repeated)}}
            more += self._store.query(embedding, n_results, _and(where_clause(query), other_texts))
        return more

    def _score(self, clip: StoredClip, terms: list[str]) -> float:
        matched = sum(f" {term} " in clip.match_text for term in terms)
        return clip.similarity + self._limits.exact_term_bonus * matched
