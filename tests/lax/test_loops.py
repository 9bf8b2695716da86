"""lax.fori_loop and lax.map against the same loops written in Python: values eagerly, under jit
and vmap, derivatives to second order (reverse mode with static bounds; forward mode with
traced ones), one equation under jit whatever the trip count, on both backends."""
from __future__ import annotations

import re

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans import errors, lax, tree
from functrans.testing import check_grads


def python_fori(lower, upper, body_fun, val):
    for i in range(lower, upper):
        val = body_fun(i, val)
    return val


def python_map(f, xs):
    return fnp.stack([f(x) for x in xs])


def horner(coefs, x, loop):  # the index picks a coefficient; a closed-over traced value
    return loop(0, coefs.shape[0], lambda i, acc: acc * x + fnp.getitem(coefs, i), fnp.zeros_like(x))


def pytree_val(coefs, x, loop):  # a tuple carry; the index as a float
    def body(i, val):
        a, b = val
        return a * fnp.cos(b) + i * 0.1, b + coefs[0] * a

    return loop(1, 4, body, (x, x * 0.5))


def empty_range(coefs, x, loop):  # upper < lower: no step runs
    return loop(3, 1, lambda i, v: v * coefs[0], x)


COEFS = np.array([0.5, -1.0, 2.0, 0.3])
X = np.array([0.2, -0.7, 1.1])
CASES = [pytest.param(horner, id="horner"), pytest.param(pytree_val, id="pytree"),
         pytest.param(empty_range, id="empty")]


@pytest.mark.parametrize("case", CASES)
def test_fori_loop_matches_python(case, backend):
    coefs, x = backend.put(COEFS), backend.put(X)
    expected = [backend.get(leaf) for leaf in tree.leaves(case(coefs, x, python_fori))]
    for f in (lambda c, x: case(c, x, lax.fori_loop), ft.jit(lambda c, x: case(c, x, lax.fori_loop))):
        for got, want in zip(tree.leaves(f(coefs, x)), tree.leaves(expected)):
            np.testing.assert_allclose(backend.get(got), want, rtol=1e-12)
    batched = ft.vmap(lambda x: case(coefs, x, lax.fori_loop))(fnp.stack([x, x * 2.0]))
    for got, want in zip(tree.leaves(batched), tree.leaves(case(coefs, x * 2.0, python_fori))):
        np.testing.assert_allclose(backend.get(got)[1], backend.get(want), rtol=1e-12)
    check_grads(lambda c, x: case(c, x, lax.fori_loop), (coefs, x), order=2)


def test_fori_loop_with_traced_bounds_is_a_while_loop():
    def f(n, x):
        return lax.fori_loop(0, n, lambda i, v: v * 1.5 + fnp.sin(v), x)

    np.testing.assert_allclose(ft.jit(f)(3, X), python_fori(0, 3, lambda i, v: v * 1.5 + fnp.sin(v), X))
    assert [e.prim.name for e in ft.make_jaxpr(f)(3, X).eqns] == ["while"]
    t = ft.jit(lambda n, x: ft.jvp(lambda x: f(n, x), (x,), (fnp.ones_like(x),))[1])(3, X)
    np.testing.assert_allclose(t, ft.jvp(lambda x: f(3, x), (X,), (np.ones(3),))[1], rtol=1e-12)
    with pytest.raises(errors.UnsupportedError, match="fori_loop"):
        ft.jit(ft.grad(lambda x, n: fnp.sum(f(n, x))))(X, np.array(3))


def test_fori_loop_program_size_does_not_grow_with_the_trip_count():
    def count(n):
        loss = lambda x: fnp.sum(lax.fori_loop(0, n, lambda i, v: fnp.tanh(v * 1.1 + i), x))
        return len(ft.make_jaxpr(ft.grad(loss))(X).eqns)

    assert count(10) == count(1000)


def test_the_counter_is_a_weakly_typed_int_in_every_mode_as_jax():
    # i * x with a float32 x is float32 eagerly (a Python int); staged it must be too
    f = lambda x: lax.fori_loop(0, 3, lambda i, c: c + i * x, fnp.zeros_like(x))
    x = np.ones(2, np.float32)
    xb = np.ones((2, 2), np.float32)
    for got in (f(x), ft.jit(f)(x), ft.vmap(f)(xb)[1], ft.grad(lambda x: f(x).sum())(x),
                ft.jit(ft.vmap(ft.grad(lambda x: f(x).sum())))(xb)[0]):
        assert got.dtype == np.float32
        np.testing.assert_array_equal(got, [3.0, 3.0])
    # traced bounds (a while_loop), and the counter with Python numbers before meeting x
    g = lambda x, n: lax.fori_loop(0, n, lambda i, c: c + (i // 2 + i * 0.5) * x, fnp.zeros_like(x))
    assert ft.jit(g)(x, np.int64(3)).dtype == ft.vmap(lambda x: g(x, 3))(xb).dtype == np.float32
    np.testing.assert_array_equal(ft.jit(g)(x, np.int64(3)), g(x, 3))
    # a checkpointed body sees the counter weakly typed too
    ck = lambda x: lax.fori_loop(0, 3, ft.checkpoint(lambda i, c: c * x + i), fnp.ones_like(x)).sum()
    plain = lambda x: lax.fori_loop(0, 3, lambda i, c: c * x + i, fnp.ones_like(x)).sum()
    assert ft.grad(ck)(x).dtype == np.float32
    np.testing.assert_allclose(ft.grad(ck)(x), ft.grad(plain)(x), rtol=1e-6)
    # an int carry plus i keeps the carry's dtype, as eagerly
    h = lambda c: lax.fori_loop(0, 3, lambda i, c: c + i, c)
    for c in (np.int64(5), np.int32(5), np.ones(2, np.uint8)):
        assert h(c).dtype == ft.jit(h)(c).dtype == c.dtype
        np.testing.assert_array_equal(ft.jit(h)(c), h(c))


def test_fori_loop_bounds_must_be_integers():
    with pytest.raises(TypeError, match="integers"):
        lax.fori_loop(0.0, 3, lambda i, v: v, X)


def test_map_matches_python_and_differentiates(backend):
    xs = backend.put(np.random.default_rng(0).standard_normal((4, 3)))
    w = backend.put(np.array([0.3, -0.2, 0.8]))
    f = lambda w, xs: lax.map(lambda x: {"s": fnp.sum(fnp.sin(x * w)), "v": x * w}, xs)
    out = f(w, xs)
    np.testing.assert_allclose(backend.get(out["s"]), backend.get(python_map(lambda x: fnp.sum(fnp.sin(x * w)), xs)))
    np.testing.assert_allclose(backend.get(ft.jit(f)(w, xs)["v"]), backend.get(xs * w))
    check_grads(f, (w, xs), order=2)
    per_example = ft.vmap(lambda x: lax.map(lambda r: r ** 2, x))(fnp.stack([xs, xs]))
    np.testing.assert_allclose(backend.get(per_example)[1], backend.get(xs ** 2))


@pytest.mark.parametrize("batch_size", [1, 2, 4, 6])
def test_map_in_blocks_matches_the_loop(batch_size, backend):
    # JAX's batch_size: vmap over whole blocks inside the loop, then the leftover elements
    xs = backend.put(np.random.default_rng(1).standard_normal((5, 2)))
    f = lambda x: {"s": fnp.sum(fnp.sin(x)), "v": x * x[0], "c": 3.0}
    want = lax.map(f, xs)
    for got in (lax.map(f, xs, batch_size=batch_size), ft.jit(lambda xs: lax.map(f, xs, batch_size=batch_size))(xs)):
        for k in want:
            assert np.shape(backend.get(got[k])) == np.shape(backend.get(want[k]))
            backend.check_placed(got[k])
            np.testing.assert_allclose(backend.get(got[k]), backend.get(want[k]), rtol=1e-12)
    loss = lambda xs, bs: fnp.sum(lax.map(f, xs, batch_size=bs)["v"] ** 2)
    np.testing.assert_allclose(backend.get(ft.grad(loss)(xs, batch_size)), backend.get(ft.grad(loss)(xs, None)))
    check_grads(lambda xs: lax.map(f, xs, batch_size=batch_size)["s"], (xs,), order=2)
    assert lax.map(lambda x: x * 2, np.zeros((0, 3), np.float32), batch_size=2).shape == (0, 3)
    with pytest.raises(ValueError, match="batch_size must be a positive int"):
        lax.map(f, xs, batch_size=0)


@pytest.mark.parametrize("run, name", [
    (lambda: lax.fori_loop(0, 3, lambda i, b: b.at[i].set(1.0), np.zeros(3)), "scan(fori_loop_body)"),
    (lambda: lax.while_loop(lambda b: b[0] < 1, lambda b: b.at[0].add(1.0), np.zeros(2)), "while_loop"),
    (lambda: lax.scan(lambda c, x: (c.at[0].set(x), None), np.zeros(2), np.ones(2)), "scan(<lambda>)"),
    (lambda: lax.cond(True, lambda b: b.at[0].set(1.0), lambda b: b, np.zeros(2)), "cond"),
])
def test_dot_at_on_plain_arrays_in_an_eager_body_names_fnp_at(run, name):
    """JAX's x.at[i].set(v) in a body run as Python on NumPy arrays: the error says to write
    fnp.at(x)[i].set(v), which works there and under jit alike."""
    with pytest.raises(AttributeError, match=rf"{re.escape(name)}: .*fnp\.at\(x\)\[i\]\.set\(v\)"):
        run()
    fixed = lax.fori_loop(0, 3, lambda i, b: fnp.at(b)[i].set(1.0 * i), np.zeros(3))
    np.testing.assert_array_equal(fixed, [0.0, 1.0, 2.0])
    staged = ft.jit(lambda z: lax.fori_loop(0, 3, lambda i, b: b.at[i].set(1.0 * i), z))
    np.testing.assert_array_equal(staged(np.zeros(3)), fixed)
