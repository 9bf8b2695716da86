"""lax.associative_scan against a sequential Python loop: sums, non-commutative matrix
products, a pytree (a linear recurrence), reverse scans and other axes, on both backends;
derivatives to second order in both modes; vmap and jit; the errors."""
from __future__ import annotations

import numpy as np
import pytest

import functrans as ft
from functrans import errors, lax
from functrans.testing import check_grads

RNG = np.random.default_rng(3)


def sequential(fn, elems, reverse=False, axis=0):
    """The same scan as a Python loop over the axis (reverse: the loop over the reversed
    elements, as JAX's reverse scan, so the later element is fn's first argument)."""
    leaves, treedef = ft.tree.flatten(elems)
    n = leaves[0].shape[axis]
    order = range(n - 1, -1, -1) if reverse else range(n)
    take = lambda k: treedef.unflatten([np.take(x, [k], axis=axis) for x in leaves])
    outs = {}
    acc = None
    for k in order:
        acc = take(k) if acc is None else fn(acc, take(k))
        outs[k] = acc
    return ft.tree.map(lambda *xs: np.concatenate(xs, axis=axis), *[outs[k] for k in range(n)])


def add(a, b):
    return a + b


def matmul(a, b):  # associative, not commutative
    return a @ b


def recurrence(a, b):  # h_k = x_k * h_{k-1} + y_k composed: (x1, y1) then (x2, y2)
    return {"x": a["x"] * b["x"], "y": a["y"] * b["x"] + b["y"]}


def elems_for(name, n):
    if name == "add":
        return RNG.standard_normal((n, 3))
    if name == "matmul":
        return RNG.standard_normal((n, 2, 2)) * 0.8
    return {"x": RNG.uniform(0.5, 1.0, (n, 2)), "y": RNG.standard_normal((n, 2))}


FNS = {"add": add, "matmul": matmul, "recurrence": recurrence}


@pytest.mark.parametrize("name", sorted(FNS))
@pytest.mark.parametrize("reverse", [False, True])
def test_values_against_the_python_loop(name, reverse, backend):
    fn = FNS[name]
    for n in (1, 2, 5, 8, 13):
        elems = elems_for(name, n)
        expected = sequential(fn, elems, reverse)
        got = lax.associative_scan(fn, backend.put(elems), reverse=reverse)
        backend.check_placed(got)
        for g, e in zip(ft.tree.leaves(backend.get(got)), ft.tree.leaves(expected)):
            np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-12)


def test_another_axis_jit_and_vmap():
    x = RNG.standard_normal((3, 6))
    expected = np.cumprod(x, axis=1)
    mul = lambda a, b: a * b
    np.testing.assert_allclose(lax.associative_scan(mul, x, axis=1), expected)
    np.testing.assert_allclose(lax.associative_scan(mul, x, axis=-1), expected)
    np.testing.assert_allclose(ft.jit(lambda x: lax.associative_scan(mul, x, axis=1))(x), expected)
    np.testing.assert_allclose(ft.vmap(lambda row: lax.associative_scan(mul, row))(x), expected)
    np.testing.assert_allclose(lax.associative_scan(mul, x, reverse=True, axis=1),
                               np.cumprod(x[:, ::-1], axis=1)[:, ::-1])


def test_reverse_gives_the_later_element_first_as_jax():
    # JAX: reverse=True is the scan of the reversed elements, reversed back
    m = RNG.standard_normal((4, 2, 2))
    got = lax.associative_scan(matmul, m, reverse=True)
    np.testing.assert_allclose(got[1], m[3] @ m[2] @ m[1], rtol=1e-12)
    np.testing.assert_allclose(got[0], m[3] @ m[2] @ m[1] @ m[0], rtol=1e-12)
    a, b = np.array([0.9, 0.5, 1.2]), np.array([1.0, -2.0, 0.5])
    affine = lambda p, q: (p[0] * q[0], p[1] * q[0] + q[1])
    want = [(0.5 * 0.5 - 2.0) * 0.9 + 1.0, 0.5 * 0.5 - 2.0, 0.5]  # JAX's values
    np.testing.assert_allclose(lax.associative_scan(affine, (a, b), reverse=True)[1], want)
    np.testing.assert_allclose(ft.jit(lambda a, b: lax.associative_scan(affine, (a, b), reverse=True))(a, b)[1], want)
    grad = ft.grad(lambda a: lax.associative_scan(affine, (a, b), reverse=True)[1].sum())(a)
    np.testing.assert_allclose(grad, [0.5 * 0.5 - 2.0, 0.5 + 0.5 * 0.9, 0.0], atol=1e-12)


@pytest.mark.parametrize("name", sorted(FNS))
def test_derivatives_to_second_order(name, backend):
    elems = backend.put(elems_for(name, 5))
    check_grads(lambda e: lax.associative_scan(FNS[name], e), (elems,), order=2)


def test_fn_must_return_its_arguments_type():
    with pytest.raises(errors.TreeStructureError, match="fn returned structure"):
        lax.associative_scan(lambda a, b: (a, b), np.ones(4))
    with pytest.raises(TypeError, match="fn's output"):
        lax.associative_scan(lambda a, b: (a + b).astype(np.float32), np.ones(4))
    with pytest.raises(ValueError, match="same length along axis 0"):
        lax.associative_scan(add, (np.ones(4), np.ones(3)))


# -- JAX's running reductions built on it -----------------------------------------------------

RUNNING = {
    "cummax": np.maximum.accumulate, "cummin": np.minimum.accumulate, "cumprod": np.cumprod,
    "cumlogsumexp": np.logaddexp.accumulate,
}


@pytest.mark.parametrize("name", sorted(RUNNING))
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("axis", [0, 1, -1])
def test_running_reductions_match_numpys_accumulate(name, reverse, axis):
    x = RNG.normal(size=(3, 5)).astype(np.float32)
    want = RUNNING[name](np.flip(x, axis), axis=axis) if reverse else RUNNING[name](x, axis=axis)
    want = np.flip(want, axis) if reverse else want
    fn = lambda v: getattr(lax, name)(v, axis=axis, reverse=reverse)
    for got in (fn(x), ft.jit(fn)(x)):
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, want, rtol=1e-6)
    if axis != 0:
        np.testing.assert_allclose(ft.vmap(lambda v: getattr(lax, name)(v, reverse=reverse))(x), want, rtol=1e-6)
    check_grads(fn, (x.astype(np.float64),), order=2)


def test_running_extremes_share_ties_and_products_differentiate_through_zeros():
    g = ft.grad(lambda v: lax.cummax(v)[-1])(np.array([1.0, 3.0, 3.0, 2.0]))
    assert g.tolist() == [0.0, 0.5, 0.5, 0.0]
    g = ft.grad(lambda v: lax.cumprod(v)[-1])(np.array([2.0, 0.0, 3.0]))
    assert g.tolist() == [0.0, 6.0, 0.0]
    assert float(lax.cumlogsumexp(np.array([1000.0, 1000.0]))[-1]) == pytest.approx(1000.0 + np.log(2.0))
    with pytest.raises(ValueError, match="axis 2 is out of bounds"):
        lax.cummax(np.ones((2, 2)), axis=2)
