"""Search: a walk down the hierarchy from each stream's frontier, plus clips holding the query's names.

The walk starts from the frontier (the nodes without a parent yet, in RAM: fewer than F per
level, the short-term window included) and goes down level by level: at each level it takes the
`beam` best nodes (the frontier's at that level and the children of the level above's best) and
reads their children with one store call (summaries mostly from the node cache). So a search over
24 hours reads the frontier plus beam x F nodes per level, a few hundred, not 21,600 clips.
Scores are cosine similarity, exact (numpy over the vectors read), plus a bonus per exact term.

A summary of thousands of clips cannot point at every event under it (an embedder reads its first few
hundred tokens), so the walk is also seeded with the nodes of the asked level nearest the query in
chromadb's vector index (`SearchLimits.candidates` of them, an HNSW lookup: logarithmic, not a scan).
The seeds find the needle; the walk finds what the index misses (a flood of identical vectors hides
clips from HNSW, issue 12.8) and keeps the search inside the hierarchy's time structure.

A plate number or an on-screen code is what embeddings blur most ("KX-4721" and "KX-4712"
embed almost alike), so the exact terms of a query (tokens with digits, a word and the number
after it, upper-case words, quoted phrases) raise the score of the nodes whose text holds them,
which steers the walk to the summaries that kept them, and are also looked up among the clips by
chromadb's `$contains` on their match-form document (a full-text index lookup, bounded by the
candidate count). On-screen text is read by OCR, so "holds" is `longwatch.text_match.find_term`:
look-alike characters, lost or extra spaces and an edit or two are tolerated, a different number
is not ("L0CKER42" holds "locker 42", "LOCKER 421" does not). The lookup asks for a term's whole
words and for its compact folded form, which the document also holds, so run-together and confused
text is found; the candidates it returns are kept only where `find_term` finds a term.

Repeats stay in their place (issue 12.8): a node whose stream and text were already taken
`SearchLimits.max_same_text` times at a level is taken only where nothing else is left, so a static
scene's hundred identical segments cannot fill the beam; hits past the third of one stream's text
come after all the others.
"""

from __future__ import annotations

import math
import re
import string
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any, Literal

import numpy as np

from longwatch.errors import InvalidArgument
from longwatch.text_match import compact, find_term
from longwatch.types import SearchHit, SearchResult
from longwatch.validation import (
    validate_level,
    validate_stream_ids,
    validate_stream_time_s,
    validate_wall_ms,
)
from memory_service.core.hierarchy import Frontier, NodeCache, TreeNode
from memory_service.core.nodes import NodeStore
from memory_service.core.store import ClipStore, match_words, text_key
from memory_service.core.streams import StreamIndex
from memory_service.core.types import MAX_K, SearchLimits, SearchQuery

Space = Literal["text", "visual"]

_QUOTED = re.compile(r"\"([^\"]+)\"|\u201c([^\u201d]+)\u201d")
_TOKEN_EDGE = string.punctuation + "\u201c\u201d\u2018\u2019"
# Term lookups per looked-up form: a round whose nearest matches include texts that hold the compact form
# but not the term ("10CKER421" for "locker 42") asks again without those texts (see `_holding`).
_LOOKUP_ROUNDS = 3
# A query of this many words or more that is mostly upper case is shouting, not a list of names.
_SHOUTING_MIN_WORDS = 3
# Words that do not name the number after them ("at 10:30", "said 42", "the last 5"): the number is a term
# alone. Any other word before a number is its label, and the two are one term ("locker 42", "gate 7").
_NOT_LABELS = frozenset(
    """a an the this that these those it its there here some any all each every only just no not and or but
    at in on of to by for from with without into onto near over under above below after before since until till
    about around than then past last next first top within during between per number times approximately
    is are was were be been being am do does did has have had can could will would should may might must
    what which who whom whose when where why how i me my we us our you your he him his she her they them their
    say says said saying tell told show shows showed shown showing read reads reading see sees saw seen seeing
    display displays displayed displaying""".split()
)


def exact_terms(text: str, max_terms: int) -> list[str]:
    """The query's quoted phrases, labelled numbers ("locker 42"), other tokens with digits and upper-case
    words, in match form, first ones first."""
    quoted = [double or curly for double, curly in _QUOTED.findall(text)]
    raw = _QUOTED.sub(" ", text).split()
    tokens = [token.strip(_TOKEN_EDGE) for token in raw]
    words = [token for token in tokens if any(char.isalpha() for char in token)]
    is_shouting = len(words) >= _SHOUTING_MIN_WORDS and 2 * sum(word.isupper() for word in words) > len(words)
    names: list[str] = []
    for index, token in enumerate(tokens):
        if index and _is_number(token) and _is_label(tokens[index - 1], raw[index - 1]):
            if names and names[-1] == tokens[index - 1]:
                names.pop()  # an upper-case label ("EXIT 42") is part of the term, not a term of its own
            names.append(f"{tokens[index - 1]} {token}")
        elif any(char.isdigit() for char in token) or (not is_shouting and len(token) >= 2 and token.isupper()):
            names.append(token)
    terms: list[str] = []
    for candidate in quoted + names:
        term = match_words(candidate)
        if term and term not in terms:
            terms.append(term)
    return terms[:max_terms]


def _is_number(token: str) -> bool:
    """Digits, perhaps with separators ("42", "14:05", "4,200"); a code with letters ("B2") is not."""
    return any(char.isdigit() for char in token) and not any(char.isalpha() for char in token)


def _is_label(token: str, raw: str) -> bool:
    """Whether `token` names the number after it: a word, not a function word, and not cut off from
    the number by punctuation ("locker, 42")."""
    return token.isalpha() and raw[-1:].isalpha() and token.casefold() not in _NOT_LABELS


def validate_query(query: SearchQuery, limits: SearchLimits) -> None:
    """Raises InvalidArgument, saying what to change, for a query the service will not run."""
    if query.vector:
        if query.text.strip():
            raise InvalidArgument("pass either search text or a vector, not both")
        if len(query.vector) > limits.max_vector_dims:
            raise InvalidArgument(f"the vector has {len(query.vector)} values; the limit is {limits.max_vector_dims}")
        values = np.asarray(query.vector, dtype=np.float32)  # as the search will use it
        norm = float(np.linalg.norm(values)) if np.isfinite(values).all() else math.nan
        if not math.isfinite(norm) or norm < 1e-12:
            raise InvalidArgument("the vector must be finite and not (nearly) all zero")
    elif not query.text.strip():
        raise InvalidArgument("search text is empty; pass the words to look for (or a vector)")
    if len(query.text) > limits.max_query_chars:
        raise InvalidArgument(f"search text has {len(query.text)} characters; the limit is {limits.max_query_chars}")
    if not 1 <= query.k <= MAX_K:
        raise InvalidArgument(f"k must be between 1 and {MAX_K} (0 means 10); got {query.k}")
    validate_level(query.level)
    if len(query.stream_ids) > limits.max_streams:
        raise InvalidArgument(f"a search may name at most {limits.max_streams} streams; got {len(query.stream_ids)}")
    validate_stream_ids(query.stream_ids)
    validate_time_range(query.start_s, query.end_s, query.start_wall_ms, query.end_wall_ms)


def validate_time_range(start_s: float, end_s: float, start_wall_ms: int, end_wall_ms: int) -> None:
    """Raises InvalidArgument for a stream-time or wall-clock range that is malformed (0 = open end)."""
    validate_stream_time_s(start_s, "start_s")
    validate_stream_time_s(end_s, "end_s")
    if end_s > 0 and start_s > end_s:
        raise InvalidArgument(
            f"start_s ({start_s}) is after end_s ({end_s}); swap them, or pass end_s = 0 for no upper bound"
        )
    validate_wall_ms(start_wall_ms, "start_wall_ms")
    validate_wall_ms(end_wall_ms, "end_wall_ms")
    if end_wall_ms and start_wall_ms > end_wall_ms:
        raise InvalidArgument(
            f"start_wall_ms ({start_wall_ms}) is after end_wall_ms ({end_wall_ms}); swap them, or pass 0 for no bound"
        )


def where_clause(query: SearchQuery) -> dict[str, Any] | None:
    """chromadb metadata filter: the streams, and clips overlapping [start_s, end_s] (end_s = 0: open).
    A clip spans [its start_s, its end_s): one that ends at start_s is the clip before the range.
    A wall-clock range keeps clips with wall time only; `TreeNode.overlaps` checks the range itself."""
    conditions: list[dict[str, Any]] = []
    if query.stream_ids:
        conditions.append({"stream_id": {"$in": sorted(set(query.stream_ids))}})
    if query.start_s > 0:
        conditions.append({"end_s": {"$gt": query.start_s}})
    if query.end_s > 0:
        conditions.append({"start_s": {"$lte": query.end_s}})
    if query.start_wall_ms or query.end_wall_ms:
        conditions.append({"start_wall_ms": {"$gt": 0}})
    if query.end_wall_ms:
        conditions.append({"start_wall_ms": {"$lte": query.end_wall_ms}})
    if not conditions:
        return None
    return conditions[0] if len(conditions) == 1 else {"$and": conditions}


def _excluding(where: dict[str, Any] | None, text_keys: list[str]) -> dict[str, Any] | None:
    """`where` and, when `text_keys` is not empty, none of those texts."""
    if not text_keys:
        return where
    condition = {"text_key": {"$nin": text_keys}}
    if where is None:
        return condition
    return {"$and": [*where["$and"], condition]} if "$and" in where else {"$and": [where, condition]}


def _few_of_each_text(scored: list[tuple[float, TreeNode]], most: int) -> list[tuple[float, TreeNode]]:
    """`scored` (best first) with the nodes past the `most`-th of one (stream, text) moved after the
    others, in their order: repeats fill the hits only where nothing else would."""
    seen: Counter[tuple[str, str]] = Counter()
    first, repeats = [], []
    for score, node in scored:
        key = (node.stream_id, node.match_text)
        seen[key] += 1
        (first if seen[key] <= most else repeats).append((score, node))
    return first + repeats


class TreeReader:
    """What a search reads: the frontier from RAM, and nodes' children from the stores."""

    def __init__(
        self,
        clips: ClipStore,
        nodes: NodeStore,
        frontier: Frontier,
        cache: NodeCache,
        streams: StreamIndex | None = None,
    ) -> None:
        self.clips = clips
        self.nodes = nodes
        self.frontier = frontier
        self.cache = cache
        self.streams = streams  # how many clips each stream holds; None: seeds always filter

    def children(self, parents: Sequence[TreeNode], space: Space) -> dict[str, list[TreeNode]]:
        """Each parent's stored children (in time order), read with one store call per level."""
        by_level: dict[int, list[TreeNode]] = {}
        for parent in parents:
            by_level.setdefault(parent.level - 1, []).append(parent)
        read: dict[str, TreeNode] = {}
        for level, members in by_level.items():
            ids = [child_id for parent in members for child_id in parent.child_ids]
            found = self._read(level, ids)
            if space == "visual":
                lacking = [node.node_id for node in found if node.visual_vector is None]
                vectors = self.nodes.visual_vectors(level, lacking) if lacking else {}
                found = [
                    replace(node, visual_vector=vectors[node.node_id]) if node.node_id in vectors else node
                    for node in found
                ]
            read.update((node.node_id, node) for node in found)
        return {
            parent.node_id: [read[child_id] for child_id in parent.child_ids if child_id in read] for parent in parents
        }

    def seeds(self, query: SearchQuery, vector: np.ndarray, space: Space, n_results: int) -> list[TreeNode]:
        """The nodes of the query's level nearest `vector` by chromadb's index, wherever they are in the
        history: a needle whose summary above it is too crowded to point at it is still reached.

        chromadb turns a metadata filter into the set of records it allows, at a cost that grows with
        that set: a query whose streams hold most of the store asks the index unfiltered, for twice as
        many, and keeps those of its streams here."""
        where = where_clause(query)
        if self._is_most_of_the_store(query):
            where, n_results = None, 2 * n_results
        if space == "text":
            if query.level == 0:
                found = self.clips.nearest_nodes(vector, n_results, where)
            else:
                found = self.nodes.nearest_summaries(query.level, vector, n_results, where)
        else:
            vectors = self.nodes.nearest_visual(query.level, vector, n_results, where)
            nodes = self._read(query.level, list(vectors), text_vectors=False)
            found = [replace(node, visual_vector=vectors[node.node_id]) for node in nodes]
        streams = set(query.stream_ids)
        return [node for node in found if not streams or node.stream_id in streams]

    def _is_most_of_the_store(self, query: SearchQuery) -> bool:
        if self.streams is None or query.start_s or query.end_s or query.start_wall_ms or query.end_wall_ms:
            return False
        if not query.stream_ids:
            return True
        sizes = {summary.stream_id: summary.clip_count for summary in self.streams.summaries()}
        return 2 * sum(sizes.get(stream_id, 0) for stream_id in set(query.stream_ids)) >= sum(sizes.values())

    def _read(self, level: int, ids: list[str], text_vectors: bool = True) -> list[TreeNode]:
        """Nodes of `level` by id, summaries from the cache where it has them; in the order of `ids`."""
        if level == 0:
            return self.clips.get_nodes(ids, vectors=text_vectors)
        cached = self.cache.get(ids)
        fetched = self.nodes.get(level, [node_id for node_id in ids if node_id not in cached], vectors=text_vectors)
        if text_vectors:
            self.cache.put(fetched)
        found = {**cached, **{node.node_id: node for node in fetched}}
        return [found[node_id] for node_id in ids if node_id in found]


class HierarchySearcher:
    """Ranks nodes for a validated query whose text (or visual vector) is given as a unit vector."""

    def __init__(self, tree: TreeReader, limits: SearchLimits, beam: int) -> None:
        self._tree = tree
        self._limits = limits
        self._beam = beam

    def rank(self, query: SearchQuery, vector: np.ndarray, space: Space = "text") -> SearchResult:
        """The top `query.k` nodes of `query.level`, best first, and how many nodes were read."""
        terms = exact_terms(query.text, self._limits.max_exact_terms) if space == "text" else []
        walk = _Walk(query, vector, space, terms, self._limits)
        seeds = [
            node for node in self._tree.seeds(query, vector, space, self._limits.candidates) if walk.in_range(node)
        ]
        walk.consider(seeds)
        frontier = [
            node
            for node in self._tree.frontier.nodes(query.stream_ids)
            if node.level >= query.level and walk.in_range(node)
        ]
        pool: dict[int, list[TreeNode]] = {}
        for node in frontier:
            pool.setdefault(node.level, []).append(node)
        # Level by level from the top: the best `beam` nodes of each (the frontier's and the children of
        # the level above's best), read with one store call per level; the asked level's are the results.
        for level in range(max(pool, default=query.level), query.level, -1):
            beam = walk.best(pool.get(level, []), self._beam)
            children = self._tree.children(beam, space)
            for parent in beam:
                found = children[parent.node_id]
                if len(found) < len(parent.child_ids):
                    walk.stand_in(parent)  # retention removed some children: the summary answers for them
                pool.setdefault(level - 1, []).extend(node for node in found if walk.in_range(node))
        walk.consider(pool.get(query.level, []))
        if terms and query.level == 0:
            self._look_up_terms(walk, query, vector, terms)
        hits = _few_of_each_text(walk.ranked(), self._limits.max_same_text)[: query.k]
        return SearchResult(hits=tuple(SearchHit.of_node(node, score) for score, node in hits), nodes_read=walk.read)

    def _look_up_terms(self, walk: _Walk, query: SearchQuery, vector: np.ndarray, terms: list[str]) -> None:
        """Clips whose text holds an exact term, wherever they are: full-text lookups per term, by its
        whole words and by its compact folded form (which finds it however OCR spaced or confused it).
        Documents written before the compact form was stored are found by their whole words only."""
        n_results = max(query.k, self._limits.candidates)
        ids: list[str] = []
        for term in terms:
            for contains in dict.fromkeys((f" {term} ", compact(term))):
                for clip_id in self._holding(term, contains, query, vector, n_results):
                    if not walk.has(clip_id) and clip_id not in ids:
                        ids.append(clip_id)
        walk.consider(node for node in self._tree.clips.get_nodes(ids) if walk.in_range(node))

    def _holding(self, term: str, contains: str, query: SearchQuery, vector: np.ndarray, n_results: int) -> list[str]:
        """Ids of the clips nearest `vector` whose document contains `contains` and whose text holds `term`.

        A substring is not yet a match: "10CKER421" contains "10CKER42", and a static sign of locker 421
        stores it hundreds of times, enough to crowd locker 42 out of the nearest. So the texts that do
        not hold the term are excluded by their text_key and the lookup is asked again, a few rounds at most."""
        held: list[str] = []
        excluded: list[str] = []
        for _ in range(_LOOKUP_ROUNDS):
            where = _excluding(where_clause(query), excluded)
            found = self._tree.clips.query(vector, n_results, where, contains=contains)
            rejected = []
            for clip in found:
                if find_term(term, clip.text) is None:
                    rejected.append(text_key(clip.match_text))
                elif clip.clip_id not in held:
                    held.append(clip.clip_id)
            if not rejected or len(found) < n_results:
                break
            excluded.extend(dict.fromkeys(rejected))
        return held


class _Walk:
    """The state of one search: scores of the nodes read, nodes left to expand, the results."""

    def __init__(
        self, query: SearchQuery, vector: np.ndarray, space: Space, terms: list[str], limits: SearchLimits
    ) -> None:
        self._query = query
        self._vector = np.asarray(vector, dtype=np.float32)
        self._space = space
        self._terms = terms
        self._limits = limits
        self._results: dict[str, tuple[float, TreeNode]] = {}
        self._seen: set[str] = set()
        self._found: dict[str, float] = {}  # node id -> its terms' match scores summed (scored more than once)
        self.read = 0

    def in_range(self, node: TreeNode) -> bool:
        query = self._query
        return node.overlaps(query.start_s, query.end_s, query.start_wall_ms, query.end_wall_ms)

    def has(self, node_id: str) -> bool:
        return node_id in self._seen

    def consider(self, nodes: Iterable[TreeNode]) -> None:
        """Scores nodes of the asked level into the results."""
        for node in nodes:
            if node.node_id in self._seen:
                continue
            score = self._score(node)
            if score is None:
                continue
            self._seen.add(node.node_id)
            self.read += 1
            self._results[node.node_id] = (score, node)

    def best(self, nodes: Sequence[TreeNode], most: int) -> list[TreeNode]:
        """The `most` best-scoring of `nodes` (read: they count), a text already taken
        `SearchLimits.max_same_text` times only where nothing else is left."""
        scored = []
        for node in nodes:
            score = self._score(node)
            if score is not None:
                self.read += 1
                scored.append((score, node))
        scored.sort(key=lambda pair: (-pair[0], pair[1].stream_id, pair[1].start_s))
        taken: Counter[tuple[str, str]] = Counter()
        first, repeats = [], []
        for _, node in scored:
            key = (node.stream_id, node.match_text)
            taken[key] += 1
            (first if taken[key] <= self._limits.max_same_text else repeats).append(node)
        return (first + repeats)[:most]

    def stand_in(self, parent: TreeNode) -> None:
        score = self._score(parent)
        if score is not None:
            self._results.setdefault(parent.node_id, (score, parent))

    def ranked(self) -> list[tuple[float, TreeNode]]:
        return sorted(self._results.values(), key=lambda pair: (-pair[0], pair[1].stream_id, pair[1].start_s))

    def _score(self, node: TreeNode) -> float | None:
        vector = node.text_vector if self._space == "text" else node.visual_vector
        if vector is None or vector.shape != self._vector.shape:
            return None
        return float(vector @ self._vector) + self._limits.exact_term_bonus * self._terms_found(node)

    def _terms_found(self, node: TreeNode) -> float:
        """The terms found in the node's text, each counted by its match's score: a term read with an
        edit (a dropped letter) counts a little less than one read exactly, a term not found not at all."""
        found = self._found.get(node.node_id)
        if found is None:
            matches = [find_term(term, node.text) for term in self._terms]
            found = self._found[node.node_id] = sum(match.score for match in matches if match is not None)
        return found
