"""The stacked outputs of scan kept between calls (lax/_stack_pool.py): a later call never
writes into a stack a caller still holds (the array, or a view of it), a dropped stack is taken
again with the same values as a new one, and eager grad, jit and jit of grad agree with the
Python loop on both backends."""
from __future__ import annotations

import sys

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans import lax
from functrans.lax import _stack_pool
from functrans.lax._stack_pool import StackPool

needs_counts = pytest.mark.skipif(_stack_pool._FREE is None, reason="no exact reference counts")


def step(h, x):
    h = fnp.tanh(h * 0.5 + x)
    return h, h * 2.0


def loop(h, xs):
    """The Python loop of ``lax.scan(step, h, xs)``."""
    ys = []
    for x in xs:
        h, y = step(h, x)
        ys.append(y)
    return h, fnp.stack(ys)


def test_pool_gives_back_only_what_nobody_holds():
    pool = StackPool((3, 2), np.dtype("float64"))
    first = pool.take()
    assert pool.take() is not first  # held by the caller
    kept = id(first)
    del first
    if _stack_pool._FREE is not None:
        again = pool.take()
        assert id(again) == kept
        view = again[1:]
        del again
        assert id(pool.take()) != kept  # a view holds its base
        del view
        assert id(pool.take()) == kept


def test_pools_keep_no_more_than_the_budget(monkeypatch):
    monkeypatch.setattr(_stack_pool, "BUDGET", _stack_pool._kept_bytes + 100)
    small, large = StackPool((10,), np.dtype("float64")), StackPool((20,), np.dtype("float64"))
    held = small.take(), large.take()  # 80 bytes kept; 160 more would pass the budget
    assert len(small._kept) == (1 if _stack_pool._FREE is not None else 0) and large._kept == []
    before = _stack_pool._kept_bytes
    del small, held
    assert _stack_pool._kept_bytes == before - (80 if _stack_pool._FREE is not None else 0)


def test_large_stacks_are_not_kept():
    pool = StackPool((StackPool.MAX_BYTES // 8 + 1,), np.dtype("float64"))
    first = pool.take()
    kept = id(first)
    del first
    second = pool.take()
    assert pool._kept == [] and second.shape == pool.shape
    del second, kept


@needs_counts
def test_jit_never_writes_into_a_held_result():
    run = ft.jit(lambda h, xs: lax.scan(step, h, xs))
    h = np.full(3, 0.1)
    xs = np.linspace(-1.0, 1.0, 12).reshape(4, 3)
    _, held = run(h, xs)
    before = held.copy()
    _, view_of = run(h, xs + 1.0)
    view = view_of[1:]
    expected_view = view.copy()
    del view_of
    for shift in (2.0, 3.0, 4.0):  # the stack dropped each time: taken again
        carry, ys = run(h, xs + shift)
        want_carry, want_ys = loop(h, xs + shift)
        np.testing.assert_allclose(ys, want_ys, rtol=1e-12)
        np.testing.assert_allclose(carry, want_carry, rtol=1e-12)
        del ys
    np.testing.assert_array_equal(held, before)
    np.testing.assert_array_equal(view, expected_view)


def test_grad_and_jit_of_grad_agree_with_the_loop(backend):
    xs = backend.put(np.linspace(-1.0, 1.0, 15).reshape(5, 3))
    h = backend.put(np.full(3, 0.2))

    def loss(h, xs, scan):
        carry, ys = scan(h, xs)
        return fnp.sum(ys * ys) + fnp.sum(carry)

    want = ft.grad(loss)(h, xs, loop)
    eager = ft.grad(loss)(h, xs, lambda h, xs: lax.scan(step, h, xs))
    jitted = ft.jit(ft.grad(lambda h, xs: loss(h, xs, lambda h, xs: lax.scan(step, h, xs))))
    for _ in range(3):  # the backward pass's stacks kept from the call before
        got = jitted(h, xs)
        np.testing.assert_allclose(backend.get(got), backend.get(want), rtol=1e-12)
    np.testing.assert_allclose(backend.get(eager), backend.get(want), rtol=1e-12)


@needs_counts
def test_reference_counts_are_calibrated():
    probe = [np.empty(2)]
    assert _stack_pool.first_free(probe) is probe[0]
    held = probe[0][1:]
    assert _stack_pool.first_free(probe) is None
    del held
    assert sys.getrefcount(probe[0]) >= 2
