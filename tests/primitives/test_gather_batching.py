"""vmap of gather, scatter_add and scatter whose array and positions both differ from example
to example (take_along_axis, x[rows, cols], an embedding's x[ids] per example): one batched
primitive, the example's number joining the index, against a loop over the examples, with
derivatives, under jit inside and outside vmap, on both backends."""
from __future__ import annotations

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans.primitives.indexing import IndexArray, gather_p, scatter_add_p, scatter_p

N = 3


def looped(f, *args):
    """``f`` applied example by example (NumPy inputs) and stacked."""
    return np.stack([np.asarray(f(*(a[b] for a in args))) for b in range(N)])


def square_sum_grad(f):
    return ft.grad(lambda v, *rest: fnp.sum(f(v, *rest) ** 2))


CASES = {
    "take_along_axis (N, C)": (lambda v, i: fnp.take_along_axis(v, i, axis=1), (5, 4), (5, 1), 4),
    "take_along_axis (N, C, d)": (lambda v, i: fnp.take_along_axis(v, i, axis=1), (2, 3, 4),
                                  (2, 2, 4), 3),
    "embedding x[ids], repeats": (lambda v, i: v[i], (6, 3), (7,), 6),
    "x[rows, ids]": (lambda v, i: v[np.arange(4)[:, None], i], (4, 5, 2), (4, 3), 5),
}


@pytest.mark.parametrize("case", list(CASES))
def test_batched_array_and_positions_match_a_loop(backend, case):
    f, shape, index_shape, bound = CASES[case]
    rng = np.random.default_rng(0)
    x = rng.normal(size=(N,) + shape)
    idx = rng.integers(0, bound, size=(N,) + index_shape)
    xs, ids = backend.put(x), backend.put(idx)
    for g, label in ((f, "values"), (square_sum_grad(f), "gradients")):
        want = looped(g, x, idx)
        for h in (ft.vmap(g), ft.jit(ft.vmap(g)), ft.vmap(ft.jit(g))):
            out = h(xs, ids)
            backend.check_placed(out)
            np.testing.assert_allclose(backend.get(out), want, rtol=1e-13, err_msg=label)
    # one batched gather, not one per example
    assert str(ft.make_jaxpr(ft.vmap(f))(xs, ids)).count("gather[") == 1
    moved = ft.vmap(f, in_axes=(1, 0))(backend.put(np.moveaxis(x, 0, 1)), ids)  # batch axis 1
    np.testing.assert_allclose(backend.get(moved), looped(f, x, idx), rtol=1e-13)


def test_scatter_add_and_scatter_with_positions_per_example(backend):
    rng = np.random.default_rng(1)
    base = rng.normal(size=(5, 2))
    updates = rng.normal(size=(N, 4, 2))
    positions = rng.integers(0, 5, size=(N, 4))  # repeats accumulate in scatter_add
    ids = backend.put(positions)

    placed = backend.put(base)

    def add(u, p, x=None):
        return scatter_add_p.bind(placed if x is None else x, u, p, index=(IndexArray(0),))

    def put(x, p):
        return scatter_p.bind(x, 1.0, p, index=(IndexArray(0),))

    want = np.stack([np.add.at(b := base.copy(), positions[k], updates[k]) or b for k in range(N)])
    for h in (ft.vmap(add), ft.jit(ft.vmap(add))):
        np.testing.assert_allclose(backend.get(h(backend.put(updates), ids)), want, rtol=1e-13)
    shared = ft.vmap(lambda p: add(backend.put(np.ones(2)), p))(ids)  # updates not batched
    np.testing.assert_allclose(backend.get(shared),
                               np.stack([np.add.at(b := base.copy(), positions[k], 1.0) or b
                                         for k in range(N)]), rtol=1e-13)
    xs = rng.normal(size=(N, 5, 2))
    written = ft.vmap(put)(backend.put(xs), ids)
    expected = xs.copy()
    for k in range(N):
        expected[k][positions[k]] = 1.0
    np.testing.assert_allclose(backend.get(written), expected, rtol=1e-13)


def test_positions_behind_a_slice_still_loop_correctly():
    x = np.random.default_rng(2).normal(size=(N, 3, 4))
    idx = np.random.default_rng(3).integers(0, 4, size=(N, 2))
    f = lambda v, i: gather_p.bind(v, i, index=(slice(None), IndexArray(0)))
    np.testing.assert_allclose(ft.vmap(f)(x, idx), looped(lambda v, i: v[:, i], x, idx))
