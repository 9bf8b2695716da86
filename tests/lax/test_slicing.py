"""lax.dynamic_slice and dynamic_update_slice (and their _in_dim forms): starts taken from the
end when negative and clamped so the block fits, concrete or traced (jit, vmap, a loop's
counter), with derivatives against finite differences, on both backends."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import functrans as ft
import functrans.numpy as fnp
from functrans import lax
from functrans.testing import check_grads


def clamped(starts, shape, sizes):
    """The start of each dimension as JAX's lax defines it, computed in plain Python."""
    out = []
    for s, dim, size in zip(starts, shape, sizes):
        s = s + dim if s < 0 else s
        out.append(min(max(s, 0), dim - size))
    return out


def block(starts, sizes):
    return tuple(slice(s, s + n) for s, n in zip(starts, sizes))


X = np.arange(20.0).reshape(4, 5)
STARTS = [(1, 2), (-1, -2), (3, 4), (-9, 0), (0, 0), (2, -5)]


@pytest.mark.parametrize("starts", STARTS)
def test_dynamic_slice_concrete_and_traced(backend, starts):
    sizes = (2, 3)
    want = X[block(clamped(starts, X.shape, sizes), sizes)]
    x, s = backend.put(X), backend.put(np.array(starts))

    def f(x, s):
        return lax.dynamic_slice(x, s, sizes)

    # host ints, traced starts, and starts in the operand's memory (never read on the host)
    for out in (f(x, starts), ft.jit(f)(x, s), ft.jit(lambda x: f(x, starts))(x), f(x, s)):
        backend.check_placed(out)
        np.testing.assert_array_equal(backend.get(out), want)
    both = ft.vmap(f, in_axes=(None, 0))(x, backend.put(np.array([starts, (0, 0)])))
    np.testing.assert_array_equal(backend.get(both)[0], want)
    np.testing.assert_array_equal(backend.get(both)[1], X[:2, :3])
    pairs = ft.vmap(f)(backend.put(np.stack([X, -X])), backend.put(np.array([starts, starts])))
    np.testing.assert_array_equal(backend.get(pairs)[1], -want)


@pytest.mark.parametrize("starts", STARTS)
def test_dynamic_update_slice_concrete_and_traced(backend, starts):
    update = -np.arange(6.0).reshape(2, 3) - 1
    want = X.copy()
    want[block(clamped(starts, X.shape, update.shape), update.shape)] = update
    x, u, s = backend.put(X), backend.put(update), backend.put(np.array(starts))

    def f(x, u, s):
        return lax.dynamic_update_slice(x, u, s)

    for out in (f(x, u, starts), ft.jit(f)(x, u, s), f(x, u, s)):
        backend.check_placed(out)
        np.testing.assert_array_equal(backend.get(out), want)
    both = ft.vmap(f, in_axes=(None, None, 0))(x, u, backend.put(np.array([starts, (0, 0)])))
    np.testing.assert_array_equal(backend.get(both)[0], want)


@st.composite
def blocks(draw):
    """An operand's shape, a block size that fits it, and starts anywhere around it."""
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)))
    sizes = tuple(draw(st.integers(0, d)) for d in shape)
    starts = tuple(draw(st.integers(-2 * d, 2 * d)) for d in shape)
    return shape, sizes, starts


@given(blocks(), st.booleans())
def test_generated_blocks_read_and_written_with_their_derivatives(case, traced):
    shape, sizes, starts = case
    rng = np.random.default_rng(len(shape))
    x, u = rng.normal(size=shape), rng.normal(size=sizes)
    where = block(clamped(starts, shape, sizes), sizes)
    wrap = ft.jit if traced else (lambda f: f)
    s = np.array(starts)
    read = wrap(lambda x, s: lax.dynamic_slice(x, s, sizes))
    write = wrap(lambda x, u, s: lax.dynamic_update_slice(x, u, s))
    np.testing.assert_array_equal(read(x, s), x[where])
    want = x.copy()
    want[where] = u
    np.testing.assert_array_equal(write(x, u, s), want)
    check_grads(lambda x: read(x, s) ** 2, (x,))
    check_grads(lambda x, u: write(x, u * u, s), (x, u))


@pytest.mark.parametrize("traced", [False, True])
def test_derivatives_against_finite_differences(traced):
    starts = np.array([2, -4])
    wrap = ft.jit if traced else (lambda f: f)

    def read(x):
        return wrap(lambda x, s: lax.dynamic_slice(x, s, (2, 2)))(x, starts) ** 2

    def write(x, u):
        return wrap(lambda x, u, s: lax.dynamic_update_slice(x, u * x[0, :2], s))(x, u, starts)

    rng = np.random.default_rng(0)
    check_grads(read, (rng.normal(size=(4, 5)),))
    check_grads(write, (rng.normal(size=(4, 5)), rng.normal(size=(2, 2))))


def test_in_a_fori_loop_the_counter_picks_the_block():
    x = np.arange(12.0)

    def windows(x):
        return lax.fori_loop(0, 4, lambda i, acc: acc + lax.dynamic_slice(x, (i * 3,), (3,)) * i,
                             np.zeros(3))

    want = sum(x[3 * i:3 * i + 3] * i for i in range(4))
    np.testing.assert_array_equal(windows(x), want)
    np.testing.assert_array_equal(ft.jit(windows)(x), want)
    np.testing.assert_array_equal(ft.grad(lambda x: fnp.sum(windows(x)))(x), np.repeat(np.arange(4.0), 3))

    def fill(n):
        return lax.fori_loop(0, n, lambda i, acc: lax.dynamic_update_index_in_dim(acc, i * 1.0, i, 0),
                             np.zeros(5))

    np.testing.assert_array_equal(ft.jit(fill)(3), [0.0, 1.0, 2.0, 0.0, 0.0])


def test_the_in_dim_forms():
    x = np.arange(12).reshape(3, 4)
    np.testing.assert_array_equal(lax.dynamic_slice_in_dim(x, 3, 2, axis=1), x[:, 2:4])
    np.testing.assert_array_equal(lax.dynamic_index_in_dim(x, -1, axis=0), x[2:3])
    np.testing.assert_array_equal(lax.dynamic_index_in_dim(x, 1, axis=1, keepdims=False), x[:, 1])
    i = np.array(1)
    np.testing.assert_array_equal(ft.jit(lambda x, i: lax.dynamic_index_in_dim(x, i, 1, False))(x, i), x[:, 1])
    updated = ft.jit(lambda x, i: lax.dynamic_update_slice_in_dim(x, np.full((3, 2), -1), i, axis=1))(x, i)
    want = x.copy()
    want[:, 1:3] = -1
    np.testing.assert_array_equal(updated, want)
    row = ft.jit(lambda x, i: lax.dynamic_update_index_in_dim(x, np.zeros(4, int), i, 0))(x, i)
    want = x.copy()
    want[1] = 0
    np.testing.assert_array_equal(row, want)


def test_allow_negative_indices_false_clamps_to_zero():
    x = np.arange(5.0)
    np.testing.assert_array_equal(lax.dynamic_slice(x, (-1,), (2,), allow_negative_indices=False), [0.0, 1.0])
    traced = ft.jit(lambda x, i: lax.dynamic_slice(x, (i,), (2,), allow_negative_indices=False))
    np.testing.assert_array_equal(traced(x, np.array(-1)), [0.0, 1.0])
    np.testing.assert_array_equal(traced(x, np.array(9)), [3.0, 4.0])


@pytest.mark.parametrize("call, match", [
    (lambda: lax.dynamic_slice(np.ones((2, 2)), (0,), (1, 1)), "needs 2 start indices"),
    (lambda: lax.dynamic_slice(np.ones(3), (0,), (4,)), "does not fit"),
    (lambda: lax.dynamic_slice(np.ones(3), (0.5,), (1,)), "integer scalar"),
    (lambda: ft.jit(lambda s: lax.dynamic_slice(np.ones(3), (s,), (1,)))(0.5), "integer scalar"),
    (lambda: lax.dynamic_update_slice(np.ones(3), np.ones((1, 1)), (0,)), "another rank"),
])
def test_errors_name_the_problem(call, match):
    with pytest.raises(TypeError, match=match):
        call()
