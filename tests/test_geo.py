"""Geometry helpers: the nearest columns of each row, found block by block without a full sort."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from routeplan.geo import nearest_in_rows


def _stable_order(cost: np.ndarray, count: int, n: int, with_self: bool) -> np.ndarray:
    """What a stable argsort of each whole row gives (the definition)."""
    block = np.array(cost[:n, :n], dtype=float)
    if not with_self:
        np.fill_diagonal(block, np.inf)
    return np.argsort(block, axis=1, kind="stable")[:, : max(0, min(count, n if with_self else n - 1))]


@settings(max_examples=150, deadline=None)
@given(
    n=st.integers(1, 40),
    extra=st.integers(0, 3),
    count=st.integers(0, 45),
    levels=st.integers(1, 6),
    with_self=st.booleans(),
    seed=st.integers(0, 2**31),
)
def test_nearest_columns_are_those_of_a_stable_sort_ties_included(n, extra, count, levels, with_self, seed):
    """Few distinct values (many ties, as with shops at one point) and a matrix with more rows
    than the points asked for (a free end): the same columns in the same order as a stable sort."""
    rng = np.random.default_rng(seed)
    cost = rng.integers(0, levels, size=(n + extra, n + extra)).astype(np.float32)
    got = nearest_in_rows(cost, count, n, with_self=with_self)
    assert np.array_equal(got, _stable_order(cost, count, n, with_self))
