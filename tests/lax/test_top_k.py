"""lax.top_k against a sort written in plain Python (largest first, ties in their order, NaN
before any number), on generated arrays with ties, with derivatives, under jit and vmap, on
both backends."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import functrans as ft
from functrans import lax
from functrans.testing import check_grads


def by_hand(row, k):
    """Positions of the k largest, largest first; ties keep their order; NaN counts as largest."""
    keyed = sorted(range(len(row)), key=lambda i: (0 if math.isnan(row[i]) else 1,
                                                   -row[i] if not math.isnan(row[i]) else 0, i))
    return keyed[:k]


@st.composite
def rows(draw):
    n = draw(st.integers(1, 6))
    values = draw(st.lists(st.sampled_from([-1.0, 0.0, 0.5, 2.0, math.nan]), min_size=2 * n, max_size=2 * n))
    return np.array(values).reshape(2, n), draw(st.integers(0, n))


@given(rows())
def test_top_k_matches_a_sort_by_hand(case):
    x, k = case
    want_pos = np.array([by_hand(list(r), k) for r in x], dtype=np.intp).reshape(2, k)
    want = np.take_along_axis(x, want_pos, axis=1)
    for f in (lambda x: lax.top_k(x, k), ft.jit(lambda x: lax.top_k(x, k))):
        values, positions = f(x)
        np.testing.assert_array_equal(positions, want_pos)
        np.testing.assert_array_equal(values, want)


def test_top_k_under_vmap_with_derivatives(backend):
    x = np.array([[1.0, 3.0, 2.0, 3.0], [4.0, 0.0, 5.0, -1.0]])
    xs = backend.put(x)
    values, positions = ft.vmap(lambda r: lax.top_k(r, 2))(xs)
    backend.check_placed(values)
    np.testing.assert_array_equal(backend.get(positions), [[1, 3], [2, 0]])
    np.testing.assert_array_equal(backend.get(values), [[3.0, 3.0], [5.0, 4.0]])
    g = ft.grad(lambda x: lax.top_k(x, 2)[0].sum())(xs)
    np.testing.assert_array_equal(backend.get(g), [[0.0, 1.0, 0.0, 1.0], [1.0, 0.0, 1.0, 0.0]])
    check_grads(lambda x: lax.top_k(x, 3)[0] ** 2, (np.array([[0.3, -1.2, 2.5, 0.7], [1.0, 2.0, 3.0, 4.0]]),))


@pytest.mark.parametrize("x, k", [(np.ones(3), 4), (np.ones(3), -1), (np.float64(1.0), 1)])
def test_top_k_names_a_k_out_of_range(x, k):
    with pytest.raises(ValueError, match="lax.top_k: k="):
        lax.top_k(x, k)
