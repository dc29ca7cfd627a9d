"""Token merging within a clip (HiCo / STC-Pruner idea): a frame's patch tokens merged down to a budget.

Neighbouring patches of a video frame are mostly sky, wall or road: many tokens say the same thing.
Merging the most similar ones, weighted by how many patches each already stands for, keeps what
differs (a plate, a face) in few tokens, so a clip's tokens stay within a fixed budget per frame.

Algorithm: repeated merge of the most similar pair (cosine similarity of the tokens), the merged token
being the patch-weighted mean of the two. Exact greedy order, so identical tokens always merge first.
Cost: one (P, P) similarity matrix, then per merge one (P, C) row product and O(P) bookkeeping: O(P^2 C)
time, O(P^2) memory.
Frames with more than `_MAX_PAIRWISE_TOKENS` tokens are first merged window by window (bands of
neighbouring patches, O(W P C) with W = _MAX_PAIRWISE_TOKENS), so a high-resolution tower does not need
a gigabyte-sized matrix.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from longwatch.errors import InvalidArgument

# A (P, P) float32 similarity matrix of 1,024 tokens is 4 MiB; SigLIP-384's 729 tokens fit, larger grids
# are merged window by window first.
_MAX_PAIRWISE_TOKENS = 1024
_EPSILON = 1e-12  # guards the division of an all-zero token


@dataclass(frozen=True, eq=False)
class MergedTokens:
    """A frame's tokens after merging: at most the budget of them."""

    tokens: np.ndarray  # (B, C) float32: each the patch-weighted mean of the patches it stands for
    weights: np.ndarray  # (B,) int64: patches merged into each token; they sum to the frame's P

    def __len__(self) -> int:
        return int(self.tokens.shape[0])


def merge_tokens(patches: np.ndarray, budget: int) -> MergedTokens:
    """(P, C) patch tokens -> at most `budget` tokens (fewer only when P is below it).

    Raises InvalidArgument for a budget below 1, a shape that is not (P, C), or values that are not finite.
    """
    _check(patches, budget)
    tokens = patches.astype(np.float32, copy=True)  # (P, C)
    weights = np.ones(tokens.shape[0], dtype=np.int64)  # (P,)
    if tokens.shape[0] > max(budget, _MAX_PAIRWISE_TOKENS):
        tokens, weights = _merge_in_windows(tokens, weights, max(budget, _MAX_PAIRWISE_TOKENS))
    if tokens.shape[0] > budget:
        tokens, weights = _greedy_pairs(tokens, weights, budget)
    return MergedTokens(tokens=tokens, weights=weights)


def _check(patches: np.ndarray, budget: int) -> None:
    if budget < 1:
        raise InvalidArgument(f"the token budget must be at least 1 token per frame, not {budget}")
    if patches.ndim != 2 or patches.shape[0] == 0 or patches.shape[1] == 0:
        raise InvalidArgument(f"patch tokens must be a non-empty (P, C) array, not of shape {patches.shape}")
    if not np.all(np.isfinite(patches)):
        raise InvalidArgument("patch tokens must be finite; the encoder returned NaN or infinity")


def _unit_rows(tokens: np.ndarray) -> np.ndarray:
    """(N, C) -> (N, C) rows of unit length (an all-zero row stays zero)."""
    return tokens / np.maximum(np.linalg.norm(tokens, axis=1, keepdims=True), _EPSILON)


def _greedy_pairs(tokens: np.ndarray, weights: np.ndarray, budget: int) -> tuple[np.ndarray, np.ndarray]:
    """Merges the most similar pair until `budget` tokens are left; a merged token takes the earlier place.

    Each row's most similar other token is kept (`best`, with an upper bound of that similarity), so a merge
    costs one (P, C) row product and O(P) updates, plus an O(P) rescan of a stale bound that reaches the top.
    """
    unit = _unit_rows(tokens)  # (P, C)
    similarity = unit @ unit.T  # (P, P) cosine
    np.fill_diagonal(similarity, -np.inf)
    best = similarity.argmax(axis=1)  # (P,) each token's most similar other token
    best_similarity = similarity[np.arange(tokens.shape[0]), best]  # (P,)
    alive = np.ones(tokens.shape[0], dtype=bool)  # (P,)
    for _ in range(tokens.shape[0] - budget):
        first = _exact_best(similarity, best, best_similarity)
        keep, gone = sorted((first, int(best[first])))
        _merge_pair(tokens, weights, keep, gone)
        alive[gone] = False
        unit[keep] = _unit_rows(tokens[keep][None, :])[0]
        row = unit @ unit[keep]  # (P,) the merged token against all
        row[~alive] = -np.inf
        row[keep] = -np.inf
        similarity[gone, :] = similarity[:, gone] = -np.inf
        similarity[keep, :] = similarity[:, keep] = row
        best_similarity[gone] = -np.inf
        best[keep] = int(np.argmax(row))
        best_similarity[keep] = row[best[keep]]
        nearer = row > best_similarity  # (P,) tokens now most similar to the merged one
        best[nearer], best_similarity[nearer] = keep, row[nearer]
        # A token whose best partner was one of the pair keeps its old similarity: an upper bound,
        # corrected by _exact_best only if it comes to the top.
    return tokens[alive], weights[alive]


def _exact_best(similarity: np.ndarray, best: np.ndarray, best_similarity: np.ndarray) -> int:
    """The token of the most similar pair: the top upper bound, rescanning its row while that bound is stale."""
    while True:
        first = int(np.argmax(best_similarity))
        if similarity[first, best[first]] >= best_similarity[first]:
            return first
        best[first] = int(np.argmax(similarity[first]))
        best_similarity[first] = similarity[first, best[first]]


def _merge_pair(tokens: np.ndarray, weights: np.ndarray, keep: int, gone: int) -> None:
    """Token `keep` becomes the patch-weighted mean of the two, in place."""
    total = weights[keep] + weights[gone]
    tokens[keep] = (tokens[keep] * weights[keep] + tokens[gone] * weights[gone]) / total  # (C,)
    weights[keep] = total


def _merge_in_windows(tokens: np.ndarray, weights: np.ndarray, target: int) -> tuple[np.ndarray, np.ndarray]:
    """Merges each window of `_MAX_PAIRWISE_TOKENS` consecutive tokens (a band of patch rows: neighbours,
    most alike) down to its share of `target`. A fixed split into two sets (ToMe's bipartite matching)
    can keep every copy of a token on one side, so identical tokens would not merge first."""
    count = tokens.shape[0]
    merged_tokens, merged_weights = [], []
    for begin in range(0, count, _MAX_PAIRWISE_TOKENS):
        end = min(begin + _MAX_PAIRWISE_TOKENS, count)
        share = max(1, (end - begin) * target // count)
        window_tokens, window_weights = _greedy_pairs(tokens[begin:end].copy(), weights[begin:end].copy(), share)
        merged_tokens.append(window_tokens)
        merged_weights.append(window_weights)
    return np.concatenate(merged_tokens), np.concatenate(merged_weights)
