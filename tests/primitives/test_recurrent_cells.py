"""The fused GRU and LSTM cells (functrans.primitives.recurrent) against the same steps written with
elementwise primitives: values, gradients to second order in both modes, jit and vmap, on
both backends; and nn.GRU's and nn.LSTM's training gradients against the unfused steps."""
from __future__ import annotations

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans import nn, random, tree
from functrans.primitives.recurrent import gru_cell, gru_cell_fwd_p, gru_cell_jvp_p, gru_cell_vjp_p, lstm_cell
from functrans.testing import check_grads

N, H = 3, 4


def unfused(xw, hw, h):
    r = fnp.logistic(xw[..., :H] + hw[..., :H])
    z = fnp.logistic(xw[..., H:2 * H] + hw[..., H:2 * H])
    n = fnp.tanh(xw[..., 2 * H:] + r * hw[..., 2 * H:])
    return (1 - z) * n + z * h


def inputs(seed=0, lead=(N,)):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(lead + (3 * H,)), rng.standard_normal(lead + (3 * H,)),
            rng.standard_normal(lead + (H,)))


def close(a, b, rtol=1e-12, atol=1e-13):
    for u, v in zip(tree.leaves(a), tree.leaves(b)):
        np.testing.assert_allclose(u, v, rtol=rtol, atol=atol)


def test_values_and_derivatives_match_the_unfused_step(backend):
    args = inputs()
    put = backend.put(args)
    out = gru_cell(*put)
    backend.check_placed(out)
    close(backend.get(out), unfused(*args))

    def loss(fn):
        return lambda *a: fnp.sum(fnp.sin(fn(*a)))

    argnums = (0, 1, 2)
    close(backend.get(ft.grad(loss(gru_cell), argnums)(*put)), ft.grad(loss(unfused), argnums)(*args))
    # second order through both linear primitives: forward over reverse and reverse over reverse
    hvp = ft.jvp(ft.grad(loss(gru_cell), argnums), put, put)[1]
    close(backend.get(hvp), ft.jvp(ft.grad(loss(unfused), argnums), args, args)[1])
    gg = ft.grad(lambda *a: fnp.sum(ft.grad(loss(gru_cell), 1)(*a) ** 2), argnums)(*put)
    close(backend.get(gg), ft.grad(lambda *a: fnp.sum(ft.grad(loss(unfused), 1)(*a) ** 2), argnums)(*args))


def test_linear_primitives_given_the_gates_match_and_differentiate_through_the_inputs(backend):
    xw, hw, h = backend.put(inputs(3))
    t = backend.put(inputs(4))
    ct = backend.put(np.random.default_rng(5).standard_normal((N, H)))
    out, gates = gru_cell_fwd_p.bind(xw, hw, h)
    backend.check_placed(gates)
    close(backend.get(out), backend.get(gru_cell(xw, hw, h)))
    close(backend.get(gru_cell_jvp_p.bind(xw, hw, h, gates, *t)), backend.get(gru_cell_jvp_p.bind(xw, hw, h, *t)))
    close(backend.get(gru_cell_vjp_p.bind(xw, hw, h, gates, ct)), backend.get(gru_cell_vjp_p.bind(xw, hw, h, ct)))

    def jvp_given_gates(xw, hw, h):  # the gates' tangent is ignored: xw, hw, h carry it
        return gru_cell_jvp_p.bind(xw, hw, h, gru_cell_fwd_p.bind(xw, hw, h)[1], *t)

    def vjp_given_gates(xw, hw, h):
        return tuple(gru_cell_vjp_p.bind(xw, hw, h, gru_cell_fwd_p.bind(xw, hw, h)[1], ct))

    check_grads(jvp_given_gates, (xw, hw, h), order=2, modes=("fwd", "rev"))
    check_grads(vjp_given_gates, (xw, hw, h), order=2, modes=("fwd", "rev"))
    check_grads(lambda *a: tuple(gru_cell_fwd_p.bind(*a)), (xw, hw, h), order=2, modes=("fwd", "rev"))


def test_check_grads_to_second_order():
    check_grads(gru_cell, inputs(1), order=2, modes=("fwd", "rev"))
    check_grads(gru_cell, inputs(2, lead=()), order=2, modes=("fwd", "rev"))


@pytest.mark.parametrize("in_axes", [0, (0, None, 0), (None, 1, 0)])
def test_jit_and_vmap_equal_eager(backend, in_axes):
    xw, hw, h = inputs(3, lead=(2, N))
    if in_axes == (0, None, 0):
        hw = hw[0]
    elif in_axes == (None, 1, 0):
        xw, hw = xw[0], np.swapaxes(hw, 0, 1)
    put = backend.put((xw, hw, h))
    expected = np.stack([unfused(*[a if d is None else np.take(a, i, d) for a, d in
                                   zip((xw, hw, h), in_axes if isinstance(in_axes, tuple) else (0,) * 3)])
                         for i in range(2)])
    close(backend.get(ft.vmap(gru_cell, in_axes=in_axes)(*put)), expected)
    close(backend.get(ft.jit(ft.vmap(gru_cell, in_axes=in_axes))(*put)), expected)
    grads = ft.jit(ft.grad(lambda *a: fnp.sum(ft.vmap(gru_cell, in_axes=in_axes)(*a) ** 2), (0, 1, 2)))(*put)
    eager = ft.grad(lambda *a: fnp.sum(ft.vmap(gru_cell, in_axes=in_axes)(*a) ** 2), (0, 1, 2))(*put)
    close(backend.get(grads), backend.get(eager))


def test_float32_stays_float32():
    args = tuple(a.astype(np.float32) for a in inputs(4))
    assert gru_cell(*args).dtype == np.float32
    grads = ft.grad(lambda *a: fnp.sum(gru_cell(*a)), (0, 1, 2))(*args)
    assert [g.dtype for g in grads] == [np.float32] * 3


def test_gru_layer_gradient_matches_the_unfused_step():
    gru = nn.GRU(3, H)
    params = gru.init(random.key(0))
    x = np.random.default_rng(5).standard_normal((6, 2, 3))

    def unfused_loss(p):
        layer = {n: p[f"{n}_l0"] for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}
        xw = x @ layer["weight_ih"].T + layer["bias_ih"]
        h = fnp.zeros((2, H))
        total = 0.0
        for t in range(x.shape[0]):
            h = unfused(xw[t], h @ layer["weight_hh"].T + layer["bias_hh"], h)
            total = total + fnp.sum(fnp.tanh(h))
        return total

    def fused_loss(p):
        return fnp.sum(fnp.tanh(gru.apply(p, x)[0]))

    close(ft.grad(fused_loss)(params), ft.grad(unfused_loss)(params), rtol=1e-10, atol=1e-12)
    close(ft.jit(ft.grad(fused_loss))(params), ft.grad(unfused_loss)(params), rtol=1e-10, atol=1e-12)


# --- LSTM ----------------------------------------------------------------------------------------
def lstm_unfused(g, c):
    i, f = fnp.logistic(g[..., :H]), fnp.logistic(g[..., H:2 * H])
    u, o = fnp.tanh(g[..., 2 * H:3 * H]), fnp.logistic(g[..., 3 * H:])
    c = f * c + i * u
    return o * fnp.tanh(c), c


def lstm_inputs(seed=0, lead=(N,)):
    rng = np.random.default_rng(seed)
    return rng.standard_normal(lead + (4 * H,)), rng.standard_normal(lead + (H,))


def test_lstm_values_and_derivatives_match_the_unfused_step(backend):
    args = lstm_inputs()
    put = backend.put(args)
    out = lstm_cell(*put)
    backend.check_placed(out[0])
    close(backend.get(out), lstm_unfused(*args))

    def loss(fn):
        return lambda g, c: fnp.sum(fnp.sin(fn(g, c)[0])) + fnp.sum(fn(g, c)[1] ** 2)

    close(backend.get(ft.grad(loss(lstm_cell), (0, 1))(*put)), ft.grad(loss(lstm_unfused), (0, 1))(*args))
    hvp = ft.jvp(ft.grad(loss(lstm_cell), (0, 1)), put, put)[1]
    close(backend.get(hvp), ft.jvp(ft.grad(loss(lstm_unfused), (0, 1)), args, args)[1])
    gg = ft.grad(lambda *a: fnp.sum(ft.grad(loss(lstm_cell), 1)(*a) ** 2), (0, 1))(*put)
    close(backend.get(gg), ft.grad(lambda *a: fnp.sum(ft.grad(loss(lstm_unfused), 1)(*a) ** 2), (0, 1))(*args))
    mapped = ft.jit(ft.vmap(lstm_cell, in_axes=(0, None)))(backend.put(np.stack([args[0], -args[0]])), put[1])
    expected = [np.stack(pair) for pair in zip(lstm_unfused(*args), lstm_unfused(-args[0], args[1]))]
    close(backend.get(mapped), expected)


def test_lstm_check_grads_to_second_order():
    check_grads(lstm_cell, lstm_inputs(1), order=2, modes=("fwd", "rev"))
    check_grads(lstm_cell, lstm_inputs(2, lead=()), order=2, modes=("fwd", "rev"))


def test_lstm_layer_gradient_matches_the_unfused_step():
    lstm = nn.LSTM(3, H)
    params = lstm.init(random.key(0))
    x = np.random.default_rng(5).standard_normal((6, 2, 3))

    def unfused_loss(p):
        layer = {n: p[f"{n}_l0"] for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}
        xw = x @ layer["weight_ih"].T + layer["bias_ih"]
        h = c = fnp.zeros((2, H))
        total = 0.0
        for t in range(x.shape[0]):
            h, c = lstm_unfused(xw[t] + h @ layer["weight_hh"].T + layer["bias_hh"], c)
            total = total + fnp.sum(fnp.tanh(h))
        return total

    def fused_loss(p):
        return fnp.sum(fnp.tanh(lstm.apply(p, x)[0]))

    close(ft.grad(fused_loss)(params), ft.grad(unfused_loss)(params), rtol=1e-10, atol=1e-12)
    close(ft.jit(ft.grad(fused_loss))(params), ft.grad(unfused_loss)(params), rtol=1e-10, atol=1e-12)
