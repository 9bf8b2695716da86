"""Memory jit's plans keep between calls (interpreters/buffers.py ``pooled_steps``): a result
array is written again only when nothing outside the plan refers to it, so results never
change after they are returned, never share memory with the inputs, the plan's constants or
another result, and give the values of the eager function."""
from __future__ import annotations

import threading

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans.interpreters import buffers, gemm_update
from functrans.primitives.dot import MATMUL_2D_INTO, dot_general_p

pytestmark = pytest.mark.skipif(buffers._FREE is None,
                                reason="reference counts cannot tell a free buffer here")

RNG = np.random.default_rng(7)
W = RNG.standard_normal((6, 5))
H = RNG.standard_normal((4, 6))
D = RNG.standard_normal((4, 5))
B = RNG.standard_normal(5)


def _update(w, b, h, d):
    """An SGD-like step: a fused weight update (with SciPy), an elementwise one, a product."""
    return w - 0.1 * (h.T @ d), b - 0.1 * fnp.sum(d, axis=0), fnp.tanh(h @ w)


def _address(a) -> int:
    return a.__array_interface__["data"][0]


def test_results_of_the_pooled_steps_are_the_eager_ones(backend):
    args = backend.put((W, B, H, D))
    expected = [backend.get(o) for o in _update(*args)]
    jitted = ft.jit(_update)
    for _ in range(3):
        for got, want in zip(jitted(*args), expected):
            np.testing.assert_array_equal(backend.get(got), want)


def test_a_dropped_result_is_written_again_a_held_one_never():
    jitted = ft.jit(_update)
    assert jitted.lower(W, B, H, D).as_text().count("kept memory") >= 3
    jitted(W, B, H, D)  # staged and compiled: the pools are used from the next call on
    first = jitted(W, B, H, D)
    addresses = [_address(o) for o in first]
    snapshot = [o.copy() for o in first]
    w2 = W + 1.0
    second = jitted(w2, B, H, D)  # ``first`` is held: new memory, ``first`` unchanged
    for i in range(3):
        np.testing.assert_array_equal(first[i], snapshot[i])
        assert not np.shares_memory(first[i], second[i])
    del first, second
    third = jitted(W, B, H, D)  # nothing holds the first results: their memory again
    assert addresses == [_address(o) for o in third]
    for got, saved in zip(third, snapshot):
        np.testing.assert_array_equal(got, saved)


@pytest.mark.parametrize("hold", ["view", "memoryview", "reshaped", "in a list"])
def test_a_result_held_through_a_view_is_never_written(hold):
    jitted = ft.jit(lambda x: fnp.exp(x) * 2.0)
    x = np.linspace(-1.0, 1.0, 12).reshape(3, 4)
    jitted(x)
    out = jitted(x)
    expected = out.copy()
    keep = {"view": lambda a: a[:], "memoryview": memoryview, "reshaped": lambda a: a.reshape(-1),
            "in a list": lambda a: [a]}[hold](out)
    address = _address(out)
    del out
    again = jitted(x + 1.0)
    assert _address(again) != address
    held = np.asarray(keep[0] if hold == "in a list" else keep)
    np.testing.assert_array_equal(held.reshape(expected.shape), expected)


def test_a_training_loop_alternates_two_arrays_per_result():
    step = ft.jit(lambda p, h, d: {"w": p["w"] - 0.1 * (h.T @ d), "b": p["b"] * 0.5 + 1.0})
    params = {"w": W.copy(), "b": B.copy()}
    eager = {"w": W.copy(), "b": B.copy()}
    seen = set()
    for _ in range(6):
        previous = params
        params = step(params, H, D)
        eager = {"w": eager["w"] - 0.1 * (H.T @ D), "b": eager["b"] * 0.5 + 1.0}
        for k in params:  # the inputs of this call are held: never written
            assert not np.shares_memory(params[k], previous[k])
            np.testing.assert_allclose(params[k], eager[k], rtol=1e-13, atol=1e-13)
        seen.add(_address(params["b"]))
        del previous
    assert len(seen) == buffers.POOL_SIZE


def test_results_never_alias_the_inputs_the_constants_or_each_other():
    c = np.arange(4.0)
    jitted = ft.jit(lambda x: (x, x + c, x + c, c * 1.0, fnp.reshape(x * 2.0, (2, 2))))
    x = np.ones(4)
    for _ in range(3):
        outs = jitted(x)
        assert not np.shares_memory(outs[0], x)
        for i, a in enumerate(outs):
            assert not np.shares_memory(a, c)
            for b in outs[i + 1:]:
                assert not np.shares_memory(a, b)
        outs[1][...] = -7.0  # writing into a result changes neither later calls nor inputs
    np.testing.assert_array_equal(jitted(x)[1], x + c)
    np.testing.assert_array_equal(x, np.ones(4))


@pytest.mark.skipif(not gemm_update.available(), reason="the fused update needs SciPy")
def test_the_fused_update_writes_a_kept_array_and_leaves_w_alone():
    jitted = ft.jit(lambda w, h, d: w - 0.5 * (h.T @ d))
    assert "gemm_update" in jitted.lower(W, H, D).as_text()
    w = W.copy()
    first = jitted(w, H, D)
    np.testing.assert_array_equal(w, W)
    second = jitted(w + 1.0, H, D)
    np.testing.assert_allclose(first, W - 0.5 * (H.T @ D), rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(second, W + 1.0 - 0.5 * (H.T @ D), rtol=1e-13, atol=1e-13)


def test_under_grad_and_vmap_of_jit():
    jitted = ft.jit(lambda w, h: fnp.sum(fnp.tanh(h @ w) * 2.0))
    jitted(W, H)  # the plan is compiled with its pools
    g = ft.grad(jitted)(W, H)
    np.testing.assert_allclose(g, ft.grad(lambda w, h: fnp.sum(fnp.tanh(h @ w) * 2.0))(W, H),
                               rtol=1e-13)
    batched = ft.vmap(jitted, in_axes=(None, 0))(W, np.stack([H, H + 1.0]))
    np.testing.assert_allclose(batched, [jitted(W, H), jitted(W, H + 1.0)], rtol=1e-13)


def test_threads_running_one_plan_never_share_a_result():
    jitted = ft.jit(lambda x, k: fnp.tanh(x * k) + k)
    x = np.linspace(-1.0, 1.0, 64).reshape(8, 8)
    jitted(x, 1.0)
    errors: list = []

    def work(k: float) -> None:
        try:
            for _ in range(200):
                out = jitted(x, k)
                if not np.array_equal(out, np.tanh(x * k) + k):
                    errors.append(k)
                    return
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(float(k),)) for k in range(1, 5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_a_taker_hands_out_only_arrays_nothing_else_refers_to():
    take = buffers._taker((2, 3), np.dtype(np.float32), buffers._FREE)
    a = take()
    assert a.shape == (2, 3) and a.dtype == np.float32
    b = take()
    assert b is not a
    del b
    c = take()  # a pooled array nothing refers to
    assert c is not a and take() is not a


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("contract", list(MATMUL_2D_INTO))
def test_a_product_written_into_kept_memory_has_dot_generals_bits(dtype, contract):
    for m, k, n in ((7, 5, 3), (256, 10, 128), (64, 200, 40)):
        x = RNG.standard_normal((m, k) if contract[0] == (1,) else (k, m)).astype(dtype)
        y = RNG.standard_normal((k, n) if contract[1] == (0,) else (n, k)).astype(dtype)
        want = dot_general_p.impl(x, y, dimension_numbers=(contract, ((), ())))
        got = MATMUL_2D_INTO[contract](x, y, np.empty(want.shape, dtype))
        assert got.dtype == want.dtype and np.array_equal(got, want)


def test_steps_of_one_shape_share_a_pool():
    jitted = ft.jit(lambda x: fnp.exp(x @ x) @ x + fnp.sin(x @ x.T))
    x = np.linspace(-1.0, 1.0, 16).reshape(4, 4)
    jitted(x)
    kept = jitted.lower(x).plan
    kept.run([x])  # compiled
    takers = {id(entry[1]) for entry in kept._pools.values()}
    assert len(kept._pools) >= 3 and len(takers) == 1
    np.testing.assert_allclose(jitted(x), np.exp(x @ x) @ x + np.sin(x @ x.T), rtol=1e-13)
