"""Token merging: a frame's patch tokens come down to the budget, identical tokens first, weights kept."""

from __future__ import annotations

import numpy as np
import pytest

from longwatch.errors import InvalidArgument
from perception.core.token_merge import merge_tokens


def rows_as_set(tokens: np.ndarray) -> set[tuple[float, ...]]:
    return {tuple(np.round(row, 5)) for row in tokens}


def test_random_tokens_come_down_to_the_budget_and_keep_every_patch_counted():
    patches = np.random.default_rng(0).normal(size=(196, 32)).astype(np.float32)  # (P, C): a 14 x 14 grid
    merged = merge_tokens(patches, budget=16)
    assert merged.tokens.shape == (16, 32) and merged.tokens.dtype == np.float32
    assert len(merged) == 16
    assert merged.weights.sum() == 196 and merged.weights.min() >= 1
    # Each merged token is the patch-weighted mean of its patches, so the weighted sum is kept.
    np.testing.assert_allclose((merged.tokens * merged.weights[:, None]).sum(axis=0), patches.sum(axis=0), atol=1e-3)


def test_identical_tokens_merge_before_any_two_that_differ():
    basis = np.eye(6, dtype=np.float32) * 3.0  # six tokens unlike each other
    # Duplicates placed where a split into even and odd positions would keep them apart.
    order = [0, 1, 2, 1, 3, 1, 4, 3, 5, 0]
    merged = merge_tokens(basis[order], budget=6)
    assert rows_as_set(merged.tokens) == rows_as_set(basis)
    weights = {tuple(np.round(row, 5)): int(weight) for row, weight in zip(merged.tokens, merged.weights, strict=True)}
    assert weights == {tuple(np.round(basis[index], 5)): order.count(index) for index in range(6)}


def test_the_most_similar_pair_is_merged_into_its_weighted_mean():
    near_a, near_b, far = [1.0, 0.0, 0.0], [0.9, 0.1, 0.0], [0.0, 0.0, 1.0]
    merged = merge_tokens(np.array([near_a, far, near_b], dtype=np.float32), budget=2)
    np.testing.assert_allclose(merged.tokens, [[0.95, 0.05, 0.0], [0.0, 0.0, 1.0]], atol=1e-6)
    assert merged.weights.tolist() == [2, 1]  # the survivors keep their order
    again = merge_tokens(np.array([near_a, near_a, far], dtype=np.float32), budget=1)
    np.testing.assert_allclose(again.tokens, [[2 / 3, 0.0, 1 / 3]], atol=1e-6)
    assert again.weights.tolist() == [3]


def test_a_frame_within_the_budget_is_left_as_it_is():
    patches = np.random.default_rng(1).normal(size=(9, 4)).astype(np.float32)
    merged = merge_tokens(patches, budget=16)
    np.testing.assert_array_equal(merged.tokens, patches)
    assert merged.weights.tolist() == [1] * 9


def test_a_large_grid_is_merged_window_by_window_and_still_merges_identical_tokens_first():
    distinct = np.random.default_rng(2).normal(size=(10, 8)).astype(np.float32)
    patches = distinct[np.arange(2000) % 10]  # (2000, 8): each of ten tokens 200 times
    merged = merge_tokens(patches, budget=10)
    assert rows_as_set(merged.tokens) == rows_as_set(distinct)
    assert merged.weights.tolist() == [200] * 10


@pytest.mark.parametrize(
    ("patches", "budget", "message"),
    [
        (np.ones((4, 3)), 0, "at least 1 token"),
        (np.ones((2, 4, 3)), 4, "(P, C) array"),
        (np.ones((0, 3)), 4, "(P, C) array"),
        (np.array([[1.0, np.nan]]), 1, "finite"),
    ],
)
def test_bad_input_is_refused_with_what_to_change(patches, budget, message):
    with pytest.raises(InvalidArgument, match=message.replace("(", r"\(").replace(")", r"\)")):
        merge_tokens(patches, budget)
