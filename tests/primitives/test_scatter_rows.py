"""scatter_add of whole rows (the transpose of an embedding lookup, ``take`` along axis 0):
the sorted per-row sums against np.add.at, for repeated, negative and out-of-range rows, row
shapes, dtypes and broadcast updates, and the derivatives of a lookup on both backends."""
from __future__ import annotations

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans.primitives.indexing import IndexArray, scatter_add
from functrans.testing import check_grads

ROWS = (IndexArray(0),)


@pytest.mark.parametrize("shape, rows, dtype", [
    ((7, 16), [[0, 3, 3], [6, 0, 3]], np.float32),  # repeats; a 2-d index
    ((7, 4, 5), [-1, 6, 2, -7, 0, 0], np.float64),  # negative rows; rows of several axes
    ((5, 8), [], np.float64),  # no rows
    ((9, 8), [4] * 11, np.complex128),
    ((6, 10), [1, 5, 1, 1], np.int64),
    ((3, 2), [0, 2, 2], np.float64),  # short rows: np.add.at itself
])
def test_row_sums_match_add_at(shape, rows, dtype):
    rng = np.random.default_rng(0)
    rows = np.array(rows, np.int64)
    x = (10 * rng.standard_normal(shape)).astype(dtype)
    updates = (10 * rng.standard_normal(rows.shape + shape[1:])).astype(dtype)
    want = x.copy()
    np.add.at(want, rows, updates)
    got = scatter_add(x, updates, ROWS, (rows,))
    assert got.dtype == want.dtype and got.shape == want.shape
    # the updates of a row are summed, then added to it: float32 rounds within a few ulp
    np.testing.assert_allclose(got, want, rtol=1e-5 if dtype == np.float32 else 1e-12, atol=1e-9)
    assert not np.shares_memory(got, x)


def test_row_sums_keep_the_order_of_add_at_and_take_broadcast_updates():
    rows = np.array([2, 0, 2, 2])
    updates = np.array([[1e16] * 8, [1.0] * 8, [1.0] * 8, [-1e16] * 8])
    want = np.zeros((3, 8))
    np.add.at(want, rows, updates)  # (1e16 + 1) - 1e16 in float64: 0, in this order
    np.testing.assert_array_equal(scatter_add(np.zeros((3, 8)), updates, ROWS, (rows,)), want)
    np.testing.assert_array_equal(scatter_add(np.zeros((3, 8)), 2.0, ROWS, (rows,))[:, 0], [2.0, 0.0, 6.0])


def test_out_of_range_row_raises():
    with pytest.raises(IndexError):
        scatter_add(np.zeros((4, 8)), np.ones((2, 8)), ROWS, (np.array([1, 4]),))
    with pytest.raises(IndexError):
        scatter_add(np.zeros((4, 8)), np.ones((1, 8)), ROWS, (np.array([-5]),))


def test_embedding_lookup_derivatives(backend):
    rng = np.random.default_rng(1)
    table = rng.standard_normal((6, 9))
    ids = np.array([[0, 5, 5], [2, 0, 5]])
    weights = rng.standard_normal((2, 3, 9))

    def f(table):
        return fnp.sum(fnp.sin(fnp.take(table, backend.put(ids), axis=0)) * backend.put(weights))

    g = ft.grad(f)(backend.put(table))
    backend.check_placed(g)
    want = np.zeros_like(table)
    np.add.at(want, ids, np.cos(table[ids]) * weights)
    np.testing.assert_allclose(backend.get(g), want, rtol=1e-12)
    check_grads(f, (backend.put(table),), order=2)


@pytest.mark.parametrize("index", [(IndexArray(0), slice(None)), (IndexArray(0), Ellipsis),
                                   (IndexArray(0), slice(None), slice(None))])
def test_whole_rows_spelled_with_slices_or_ellipsis(index):
    rng = np.random.default_rng(3)
    x, rows = rng.standard_normal((5, 8, 2)), np.array([4, 1, 4, -1])
    updates = rng.standard_normal((4, 8, 2))
    want = x.copy()
    np.add.at(want, rows, updates)
    np.testing.assert_allclose(scatter_add(x, updates, index, (rows,)), want, rtol=1e-12)


def test_partial_rows_are_not_taken_as_whole_rows():
    x, rows = np.zeros((3, 16)), np.array([0, 0, 2])
    got = scatter_add(x, np.ones((3, 8)), (IndexArray(0), slice(0, 8)), (rows,))
    np.testing.assert_array_equal(got.sum(axis=1), [16.0, 0.0, 8.0])
