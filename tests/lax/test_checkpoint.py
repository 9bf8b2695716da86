"""checkpoint (remat): the same values and derivatives in every mode and order, one recorded
equation per call under linearize, and the function run again in the backward pass."""
from __future__ import annotations

import numpy as np

import functrans as ft
import functrans.numpy as fnp
from functrans.interpreters.linearize import linearize_flat

RNG = np.random.default_rng(2)
WS = [RNG.standard_normal((4, 4)) * 0.7 for _ in range(3)]
X = RNG.standard_normal(4)
CALLS = {"n": 0}


def layer(w, x):
    CALLS["n"] += 1
    return fnp.tanh(w @ x) * fnp.sin(x)


def net(ws, x, block):
    for w in ws:
        x = block(w, x)
    return fnp.sum(x ** 2)


def test_gradients_are_identical_and_the_block_runs_again_backwards():
    plain = ft.grad(net)(WS, X, layer)
    CALLS["n"] = 0
    remat = ft.grad(net)(WS, X, ft.checkpoint(layer))
    assert CALLS["n"] == 2 * len(WS)  # once forward, once more in the backward pass
    for a, b in zip(plain, remat):
        np.testing.assert_allclose(b, a, rtol=1e-13)
    assert ft.remat is ft.checkpoint


def test_one_equation_per_checkpointed_call_in_the_linear_program():
    def count(block):
        return len(_program_eqns(block))

    assert count(ft.checkpoint(layer)) < count(layer) // 3
    names = [e.prim.name for e in _program_eqns(ft.checkpoint(layer))]
    assert names.count("checkpoint_linear") == len(WS)


def _program_eqns(block):
    def flat_fun(tracers):
        return [net(WS, tracers[0], block)]

    return linearize_flat(flat_fun, [X], "test")[1].eqns


def test_higher_order_forward_mode_and_linearize():
    f = lambda x: net(WS, x, layer)
    g = lambda x: net(WS, x, ft.checkpoint(layer))
    np.testing.assert_allclose(ft.hessian(g)(X), ft.hessian(f)(X), rtol=1e-12)
    np.testing.assert_allclose(ft.grad(lambda x: fnp.sum(ft.grad(g)(x) ** 2))(X),
                               ft.grad(lambda x: fnp.sum(ft.grad(f)(x) ** 2))(X), rtol=1e-12)
    t = RNG.standard_normal(4)
    np.testing.assert_allclose(ft.jvp(g, (X,), (t,))[1], ft.jvp(f, (X,), (t,))[1], rtol=1e-13)
    _, f_jvp = ft.linearize(g, X)
    np.testing.assert_allclose(f_jvp(t), ft.jvp(f, (X,), (t,))[1], rtol=1e-13)


def test_checkpoint_under_vmap_both_ways_and_with_pytrees():
    xs = RNG.standard_normal((3, 4))
    f = lambda ws, x: net(ws, x, layer)
    g = lambda ws, x: net(ws, x, ft.checkpoint(layer))
    per = ft.vmap(ft.grad(g), in_axes=(None, 0))(WS, xs)
    ref = ft.vmap(ft.grad(f), in_axes=(None, 0))(WS, xs)
    for a, b in zip(per, ref):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    total = ft.grad(lambda ws: fnp.sum(ft.vmap(lambda x: g(ws, x))(xs)))(WS)
    expected = ft.grad(lambda ws: fnp.sum(ft.vmap(lambda x: f(ws, x))(xs)))(WS)
    for a, b in zip(total, expected):
        np.testing.assert_allclose(a, b, rtol=1e-12)

    @ft.checkpoint
    def block(p, x):
        return {"y": fnp.tanh(p["w"] @ x), "n": x.shape[0]}

    out = ft.grad(lambda p: fnp.sum(block(p, X)["y"]) * block(p, X)["n"])({"w": WS[0]})
    expected = ft.grad(lambda p: fnp.sum(fnp.tanh(p["w"] @ X)) * 4)({"w": WS[0]})
    np.testing.assert_allclose(out["w"], expected["w"], rtol=1e-13)


def test_make_jaxpr_shows_the_checkpointed_call():
    text = str(ft.make_jaxpr(ft.checkpoint(layer))(WS[0], X))
    assert "checkpoint_call" in text
