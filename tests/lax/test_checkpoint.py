"""checkpoint (remat): the same values and derivatives in every mode and order, one recorded
equation per call under linearize, and the function run once per call, its recorded program
replayed in the backward pass."""
from __future__ import annotations

import numpy as np
import pytest

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


def test_gradients_are_identical_and_the_block_runs_once_per_call():
    plain = ft.grad(net)(WS, X, layer)
    CALLS["n"] = 0
    remat = ft.grad(net)(WS, X, ft.checkpoint(layer))
    assert CALLS["n"] == len(WS)  # the backward pass replays the recorded program
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


def test_a_random_draw_inside_gives_the_value_and_the_gradient_of_one_run():
    rng = np.random.default_rng(7)
    draws = []

    @ft.checkpoint
    def noisy(x):
        noise = rng.standard_normal(x.shape)  # NumPy's stateful generator: a new draw per run
        draws.append(noise)
        return fnp.sin(x) * noise

    x = np.array([0.3, -1.2, 2.0])
    value, grad = ft.value_and_grad(lambda v: fnp.sum(noisy(v) ** 2))(x)
    assert len(draws) == 1
    noise = draws[0]
    want_value, want_grad = ft.value_and_grad(lambda v: fnp.sum((fnp.sin(v) * noise) ** 2))(x)
    assert value == want_value
    np.testing.assert_array_equal(grad, want_grad)
    np.testing.assert_array_equal(grad, 2 * np.sin(x) * noise * noise * np.cos(x))


def test_a_side_effect_runs_once_per_call_in_every_mode():
    calls = []

    @ft.checkpoint
    def counted(x):
        calls.append(len(calls) + 1)  # the scale is the call's number: 1, 2, ...
        return fnp.tanh(x) * float(len(calls))

    x = np.array([0.5, -0.25])
    loss = lambda v: fnp.sum(counted(v))
    g = ft.grad(loss)(x)
    assert calls == [1]
    np.testing.assert_array_equal(g, ft.grad(lambda v: fnp.sum(fnp.tanh(v) * 1.0))(x))
    calls.clear()
    out, vjp_fn = ft.vjp(counted, x)
    (ct,) = vjp_fn(np.ones(2))
    assert calls == [1]
    np.testing.assert_array_equal(out, np.tanh(x))
    np.testing.assert_array_equal(ct, ft.vjp(fnp.tanh, x)[1](np.ones(2))[0])
    calls.clear()
    ft.jvp(counted, (x,), (np.ones(2),))
    assert calls == [1]
    calls.clear()
    per_example = ft.vmap(ft.grad(lambda v: fnp.sum(counted(v))))(np.stack([x, 2 * x]))
    assert calls == [1]
    np.testing.assert_array_equal(per_example[1], ft.grad(lambda v: fnp.sum(fnp.tanh(v)))(2 * x))
    calls.clear()
    ft.grad(lambda v: fnp.sum(ft.vmap(counted)(v)))(np.stack([x, x]))
    assert calls == [1]
    calls.clear()
    ft.hessian(loss)(x)
    assert calls == [1]
    calls.clear()
    staged = ft.jit(ft.grad(loss))
    for _ in range(3):
        np.testing.assert_array_equal(staged(x), g)
    assert calls == [1]  # jit: once, while staging


def test_python_control_flow_on_values_still_works_under_grad():
    @ft.checkpoint
    def branch(x):
        return fnp.sin(x) if fnp.sum(x) > 0 else fnp.cos(x)

    for x in (np.array([0.3, 0.4]), np.array([-0.3, -0.4])):
        want = ft.grad(lambda v: fnp.sum(fnp.sin(v) if fnp.sum(v) > 0 else fnp.cos(v)))(x)
        np.testing.assert_array_equal(ft.grad(lambda v: fnp.sum(branch(v)))(x), want)
    with pytest.raises(ft.errors.TracerConversionError):
        ft.jit(ft.grad(lambda v: fnp.sum(branch(v))))(np.ones(2))  # abstract under jit, as usual
