"""checkpoint (remat): the same values and derivatives in every mode and order, one recorded
equation per call under linearize, and the function run once per call, its recorded program
replayed in the backward pass."""
from __future__ import annotations

import gc
import importlib
import re
import tracemalloc
from unittest import mock

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans import lax
from functrans.interpreters.linearize import linearize_flat
from functrans.testing import check_grads

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


def test_static_argnums_pass_non_array_arguments_as_they_are():
    from functools import partial

    @partial(ft.checkpoint, static_argnums=(1, -1))
    def block(x, mode, act):
        return act(x) * 2.0 if mode == "act" else x

    def loss(x):
        return fnp.sum(block(x, "act", fnp.sin))

    x = np.array([0.5, -1.0])
    expected = 2.0 * np.cos(x)
    np.testing.assert_allclose(ft.grad(loss)(x), expected, rtol=1e-12)
    np.testing.assert_allclose(ft.jit(ft.grad(loss))(x), expected, rtol=1e-12)
    np.testing.assert_allclose(ft.vmap(ft.grad(loss))(np.stack([x, 2 * x])),
                               2.0 * np.cos(np.stack([x, 2 * x])), rtol=1e-12)
    check_grads(loss, (x,), order=2)
    with pytest.raises(ValueError, match=r"static_argnums=3 is out of range for a call with 1"):
        ft.checkpoint(lambda x: x, static_argnums=3)(x)
    unmarked = ft.checkpoint(lambda x, mode: x)
    with pytest.raises(TypeError, match=r"type str.*static_argnums=\(1,\)"):
        ft.grad(lambda x: fnp.sum(unmarked(x, "act")))(x)


def test_static_argnames_as_jax_takes_them_by_keyword_or_by_position():
    block = ft.checkpoint(lambda x, mode="sin", scale=1.0: getattr(fnp, mode)(x) * scale,
                          static_argnames="mode")
    x = np.array([0.5, -1.0])
    for call in (lambda x: block(x, "cos", 2.0), lambda x: block(x, mode="cos", scale=2.0),
                 lambda x: block(x, scale=2.0, mode="cos")):
        loss = lambda x: fnp.sum(call(x))
        np.testing.assert_allclose(ft.grad(loss)(x), -2.0 * np.sin(x), rtol=1e-14)
        np.testing.assert_allclose(ft.jit(ft.grad(loss))(x), -2.0 * np.sin(x), rtol=1e-14)
    with pytest.raises(ValueError, match=r"checkpoint\(<lambda>\): static_argnames names \['mdoe'\]"):
        ft.checkpoint(lambda x, mode: x, static_argnames=("mdoe",))


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


# --- traced values the checkpointed function closes over ------------------------------------
# Each case is a function of (ck, w, k): ck is ft.checkpoint or no_checkpoint, so one definition
# gives the checkpointed function and the same function without checkpoint, its reference; k
# holds the constants (K, on the backend of the test).
def no_checkpoint(fun):
    return fun


A = np.array([0.5, 0.2, -0.4])
XS = np.array([[0.3, -0.1, 0.6], [0.2, 0.4, -0.5], [-0.3, 0.1, 0.2], [0.7, -0.6, 0.1]])
W3 = np.array([0.3, -0.7, 1.1])
K = {"a": A, "xs": XS}


def closure(ck, w, k):  # the function reads w, and is called on a value computed from w
    return ck(lambda h: fnp.tanh(w * h) + w)(fnp.sin(w) * k["a"])


def closure_only(ck, w, k):  # called on a constant: only the closed-over value is traced
    return ck(lambda h: fnp.sin(w * h))(k["a"])


def computed_outside(ck, w, k):  # the function reads a value computed from w outside it
    v = fnp.exp(w)
    return ck(lambda h: h * v + v ** 2)(w * k["a"])


def returned_as_is(ck, w, k):  # a closed-over value returned untouched
    a, b = ck(lambda h: (h * 2.0, w))(w * k["a"])
    return a + fnp.cos(b)


def nested(ck, w, k):  # a checkpoint inside a checkpoint, closing over w and the outer's values
    def outer(h):
        a = fnp.sin(h) * w
        inner = ck(lambda u: fnp.tanh(u * a + w))
        return inner(h * 2.0) * a

    return ck(outer)(w * k["a"])


def in_scan_step(ck, w, k):  # a checkpointed layer in lax.scan's step, reading w and the step's x
    def step(c, x):
        layer = ck(lambda c: fnp.tanh(w * c + x))
        return layer(c), fnp.sum(c * x)

    c, ys = lax.scan(step, w * 0.5, k["xs"])
    return c + fnp.sum(ys)


def in_cond_branch(ck, w, k):  # a checkpointed call in the branch cond takes
    return lax.cond(fnp.sum(w) > 0, lambda h: ck(lambda u: fnp.sin(u * w))(h), lambda h: h * w, w * k["a"])


def in_fori_loop(ck, w, k):  # in the body of fori_loop (static bounds: a scan)
    return lax.fori_loop(0, 3, lambda i, h: ck(lambda u: fnp.tanh(u * w + k["a"]))(h), w * k["a"])


def custom_vjp_of(ck):
    """A custom_vjp function whose function, forward and backward pass call checkpointed
    functions that close over an argument (and, in the backward pass, the cotangent)."""

    @ft.custom_vjp
    def scaled_sin(x, y):
        return ck(lambda h: fnp.sin(h) * y)(x)

    def fwd(x, y):
        return ck(lambda h: fnp.sin(h) * y)(x), (x, y)

    def bwd(res, g):
        x, y = res
        return ck(lambda h: fnp.cos(h) * y * g)(x), ck(lambda h: fnp.sin(h) * g)(x)

    scaled_sin.defvjp(fwd, bwd)
    return scaled_sin


CUSTOM = {ft.checkpoint: custom_vjp_of(ft.checkpoint), no_checkpoint: custom_vjp_of(no_checkpoint)}


def in_custom_vjp(ck, w, k):
    return CUSTOM[ck](w * k["a"], fnp.exp(w))


CLOSURES = [closure, closure_only, computed_outside, returned_as_is, nested, in_scan_step,
            in_cond_branch, in_fori_loop, in_custom_vjp]


def _loss(case, ck, k):
    return lambda w: fnp.sum(fnp.sin(case(ck, w, k)))


def _transforms(forward_mode: bool):
    """name -> a function of (loss or function, w, t) for every transformation checked."""
    batch = lambda w: fnp.stack([w, w * 0.5 - 0.1])
    out = {
        "value": lambda f, loss, w, t: f(w),
        "jit": lambda f, loss, w, t: ft.jit(f)(w),
        "vmap": lambda f, loss, w, t: ft.vmap(f)(batch(w)),
        "grad": lambda f, loss, w, t: ft.grad(loss)(w),
        "jit(grad)": lambda f, loss, w, t: ft.jit(ft.grad(loss))(w),
        "vmap(grad)": lambda f, loss, w, t: ft.vmap(ft.grad(loss))(batch(w)),
        "jit(vmap(grad))": lambda f, loss, w, t: ft.jit(ft.vmap(ft.grad(loss)))(batch(w)),
        "grad(grad)": lambda f, loss, w, t: ft.grad(lambda v: fnp.sum(ft.grad(loss)(v) ** 2))(w),
        "grad(jit)": lambda f, loss, w, t: ft.grad(ft.jit(loss))(w),
        "grad(vmap)": lambda f, loss, w, t: ft.grad(lambda v: fnp.sum(ft.vmap(lambda u: loss(u * v))(batch(w))))(w),
    }
    if forward_mode:
        out["jvp"] = lambda f, loss, w, t: ft.jvp(f, (w,), (t,))
        out["linearize"] = lambda f, loss, w, t: ft.linearize(f, w)[1](t)
        out["jvp(grad)"] = lambda f, loss, w, t: ft.jvp(ft.grad(loss), (w,), (t,))
        out["jit(jvp(grad))"] = lambda f, loss, w, t: ft.jit(lambda v: ft.jvp(ft.grad(loss), (v,), (t,)))(w)
    return out


@pytest.mark.parametrize("case", CLOSURES, ids=lambda c: c.__name__)
def test_a_closed_over_traced_value_gets_the_values_and_derivatives_of_no_checkpoint(case, backend):
    w, t, k = backend.put(W3), backend.put(np.array([0.2, -0.5, 0.9])), backend.put(K)
    forward_mode = case is not in_custom_vjp  # custom_vjp has no forward mode
    for name, run in _transforms(forward_mode).items():
        got = run(lambda v: case(ft.checkpoint, v, k), _loss(case, ft.checkpoint, k), w, t)
        want = run(lambda v: case(no_checkpoint, v, k), _loss(case, no_checkpoint, k), w, t)
        backend.check_placed(got, name)
        for g, e in zip(ft.tree.leaves(backend.get(got)), ft.tree.leaves(backend.get(want))):
            if name == "grad(grad)" or "jit" in name:
                # cotangents of the closed-over value summed in another order; jit's compiler
                # may evaluate the program without checkpoint differently (fused)
                np.testing.assert_allclose(g, e, rtol=1e-13, atol=1e-15, err_msg=f"{case.__name__}: {name}")
            else:  # the same operations on the same values
                np.testing.assert_array_equal(g, e, err_msg=f"{case.__name__}: {name}")


@pytest.mark.parametrize("case", [c for c in CLOSURES if c is not in_custom_vjp], ids=lambda c: c.__name__)
def test_a_closed_over_traced_value_against_finite_differences(case, backend):
    k = backend.put(K)
    check_grads(lambda w: case(ft.checkpoint, w, k), (backend.put(W3),), order=2, modes=("fwd", "rev"))


def test_exact_derivatives_with_respect_to_a_closed_over_value(backend):
    # f(w) = sum(sin(w * h)) at h = w: f' = 2 w cos(w^2), f'' = 2 cos(w^2) - 4 w^2 sin(w^2)
    f = lambda w: fnp.sum(ft.checkpoint(lambda h: fnp.sin(w * h))(w))
    w, w2 = backend.put(W3), W3 ** 2
    first, second = 2 * W3 * np.cos(w2), 2 * np.cos(w2) - 4 * w2 * np.sin(w2)
    tol = {"rtol": 1e-14, "atol": 1e-15}
    np.testing.assert_allclose(backend.get(ft.jit(f)(w)), np.sum(np.sin(w2)), **tol)
    np.testing.assert_allclose(backend.get(ft.grad(f)(w)), first, **tol)
    np.testing.assert_allclose(backend.get(ft.jit(ft.grad(f))(w)), first, **tol)
    np.testing.assert_allclose(backend.get(ft.vmap(ft.grad(f))(fnp.stack([w, w]))), [first, first], **tol)
    ones = backend.put(np.ones(3))
    np.testing.assert_allclose(backend.get(ft.jvp(ft.grad(f), (w,), (ones,))[1]), second, **tol)
    np.testing.assert_allclose(backend.get(ft.jit(ft.hessian(f))(w)), np.diag(second), **tol)
    np.testing.assert_allclose(backend.get(ft.grad(lambda v: fnp.sum(ft.grad(f)(v)))(w)), second, **tol)
    # forward mode: the tangent of the closed-over w enters the forward rule too
    np.testing.assert_allclose(backend.get(ft.jvp(f, (w,), (ones,))[1]), np.sum(first), **tol)


def test_the_closed_over_value_is_an_operand_of_the_checkpointed_call():
    staged = ft.make_jaxpr(lambda w, h: ft.checkpoint(lambda h: fnp.sin(w * h))(h))(W3, A)
    (eqn,) = staged.eqns
    assert eqn.prim.name == "checkpoint_call"
    assert list(eqn.args) == list(staged.inputs)  # w (closed over), then h
    # under grad: the linear equation holds both tangents, none hidden in its parameters
    flat = lambda ws: [fnp.sum(ft.checkpoint(lambda h: fnp.sin(ws[0] * h))(ws[0] * 2.0))]
    eqns = linearize_flat(flat, [W3], "test")[1].eqns
    linear = [e for e in eqns if e.prim.name == "checkpoint_linear"]
    assert len(linear) == 1 and linear[0].params["positions"] == (0, 1)


def test_a_closed_over_value_runs_the_function_once_per_call_in_every_mode():
    calls = []

    def make(w):
        @ft.checkpoint
        def counted(h):
            calls.append(1)
            return fnp.tanh(w * h)

        return counted

    loss = lambda w: fnp.sum(make(w)(w * A))
    for name, run in {
        "grad": lambda: ft.grad(loss)(W3),
        "jit(grad)": lambda: ft.jit(ft.grad(loss))(W3),
        "vmap(grad)": lambda: ft.vmap(ft.grad(loss))(np.stack([W3, W3])),
        "jvp(grad)": lambda: ft.jvp(ft.grad(loss), (W3,), (A,)),
        "grad(grad)": lambda: ft.grad(lambda v: fnp.sum(ft.grad(loss)(v)))(W3),
        "jvp": lambda: ft.jvp(loss, (W3,), (A,)),
    }.items():
        calls.clear()
        run()
        assert len(calls) == 1, name


def test_python_control_flow_on_a_closed_over_value_and_conversions():
    def f(ck, w):
        return ck(lambda h: h * w if fnp.sum(w) > 0 else h - w)(w * A)

    for w in (W3, -W3):
        want = ft.grad(lambda v: fnp.sum(f(no_checkpoint, v)))(w)
        np.testing.assert_array_equal(ft.grad(lambda v: fnp.sum(f(ft.checkpoint, v)))(w), want)
    with pytest.raises(ft.errors.TracerConversionError):  # abstract under jit, as without checkpoint
        ft.jit(lambda v: f(ft.checkpoint, v))(W3)
    with pytest.raises(ft.errors.TracerConversionError, match="batch"):  # and under vmap
        ft.vmap(lambda v: f(ft.checkpoint, v))(np.stack([W3, W3]))
    # a Python float made of a value being differentiated would drop its derivative: refused
    with pytest.raises(ft.errors.DroppedDerivativeError):
        ft.grad(lambda w: ft.checkpoint(lambda h: h * float(w[0]))(w))(W3)
    with pytest.raises(ft.errors.DroppedDerivativeError):
        ft.grad(lambda w: fnp.sum(ft.checkpoint(lambda h: h * float(fnp.sum(h)))(w)))(W3)
    # ints, and floats of values nothing differentiates, are allowed as without checkpoint
    g = ft.grad(lambda w: fnp.sum(ft.checkpoint(lambda h: h * int(fnp.argmax(h)) * float(A[0]))(w)))(W3)
    np.testing.assert_array_equal(g, np.full(3, 2 * 0.5))


def test_a_leaked_tracer_closed_over_is_an_error():
    leaked = []
    ft.grad(lambda w: leaked.append(w) or fnp.sum(w))(W3)
    with pytest.raises(ft.errors.LeakedTracerError):
        ft.grad(lambda v: fnp.sum(ft.checkpoint(lambda h: h * leaked[0])(v)))(W3)


def _steps_loss(block, steps, hidden=32):
    w = np.random.default_rng(3).standard_normal((hidden, hidden)) / np.sqrt(hidden)
    xs = np.random.default_rng(4).standard_normal((steps, hidden))

    def six_layers(h, x, w):
        for _ in range(6):
            h = fnp.tanh(w @ h + x) * fnp.cos(h) + fnp.sin(x) * h
        return h

    def loss(w):  # the step closes over w
        step = block(lambda h, x: six_layers(h, x, w))
        return fnp.sum(lax.scan(lambda h, x: (step(h, x), None), fnp.zeros(hidden), xs)[0])

    return loss, w


def _peak_of_grad(block, steps):
    """The peak memory of a grad, the least of three runs after one unmeasured run: one-time
    work (imports, compiled kernels, caches) and an allocation another part of the process
    happens to make during one run stay out."""
    loss, w = _steps_loss(block, steps)
    # (every scan stack allocated anew, so tracemalloc sees it: one kept from the unmeasured
    # run would be memory allocated before tracing starts)
    with mock.patch.object(importlib.import_module("functrans.lax._stack_pool"), "_FREE", None):
        ft.grad(loss)(w)
        peaks = []
        for _ in range(3):
            gc.collect()
            tracemalloc.start()
            try:
                ft.grad(loss)(w)
                peaks.append(tracemalloc.get_traced_memory()[1])
            finally:
                tracemalloc.stop()
    return min(peaks)


def test_a_checkpointed_step_closing_over_the_weights_keeps_less_memory():
    loss, w = _steps_loss(ft.checkpoint, 5)
    np.testing.assert_allclose(ft.grad(loss)(w), ft.grad(_steps_loss(no_checkpoint, 5)[0])(w), rtol=1e-10)
    # what each step adds to the peak (the fixed part, the same for both, left out)
    plain = _peak_of_grad(no_checkpoint, 60) - _peak_of_grad(no_checkpoint, 20)
    remat = _peak_of_grad(ft.checkpoint, 60) - _peak_of_grad(ft.checkpoint, 20)
    assert remat < 0.2 * plain, (remat, plain)


def test_linear_transpose_through_a_checkpointed_linear_function(backend):
    m, ct = backend.put(np.array([[1.0, 2.0], [3.0, 4.0]])), backend.put(np.array([1.0, 0.5]))
    x, two = backend.put(np.zeros(2)), backend.put(np.array(2.0))

    def transposed(ck, b):  # b: closed over by the checkpointed function, traced by grad below
        return ft.linear_transpose(lambda v: ck(lambda h: (b @ h * 2.0, 3.0 * h[0]))(v), x)((ct, two))[0]

    np.testing.assert_array_equal(backend.get(transposed(ft.checkpoint, m)), [11.0, 8.0])  # 2 M^T ct + (6, 0)
    for ck in (ft.checkpoint, no_checkpoint):
        g = ft.grad(lambda b: fnp.sum(transposed(ck, b) ** 2))(m)
        np.testing.assert_array_equal(backend.get(g), [[44.0, 32.0], [22.0, 16.0]])  # 4 ct (2 M^T ct + (6, 0))^T
    with pytest.raises(ft.errors.NotLinearError, match="'sin'"):
        ft.linear_transpose(lambda v: ft.checkpoint(fnp.sin)(v), x)(ct)


def test_jit_captures_the_arrays_a_checkpointed_function_closes_over_by_value():
    table = np.ones(3)
    staged = ft.jit(lambda x: ft.checkpoint(lambda h: (h * table, table))(x))
    batched = ft.jit(ft.vmap(lambda x: ft.checkpoint(lambda h: h * table)(x)))
    staged(np.ones(3)), batched(np.ones((2, 3)))
    table[:] = 5.0  # edited after staging, as jit's own constants, it stays out
    for out in (*staged(np.ones(3)), batched(np.ones((2, 3)))):
        np.testing.assert_array_equal(out, np.ones_like(out))


def _plans_built(fn, calls=2):
    """How many replay plans ``calls`` more calls of ``fn`` build, after two warm-up calls."""
    replay = importlib.import_module("functrans.interpreters.replay")
    count = {"n": 0}
    build = replay.ReplayPlan.__init__

    def counting(self, *args, **kwargs):
        count["n"] += 1
        build(self, *args, **kwargs)

    fn(), fn()
    with mock.patch.object(replay.ReplayPlan, "__init__", counting):
        for _ in range(calls):
            fn()
    return count["n"]


def test_grad_of_a_loop_over_a_checkpointed_step_derives_the_step_once():
    # the step's checkpointed call is recorded anew on every call of grad; calls of the same
    # recorded program are equal, so scan's cache of derived bodies finds them
    w = np.random.default_rng(5).standard_normal((6, 6)) / 3
    xs = np.random.default_rng(6).standard_normal((7, 6))
    block = ft.checkpoint(lambda w, h, x: fnp.tanh(w @ h + x))

    def loss(w, block):
        return fnp.sum(lax.scan(lambda h, x: (block(w, h, x), None), fnp.zeros(6), xs)[0] ** 2)

    grad = ft.grad(loss)
    assert _plans_built(lambda: grad(w, block)) == 0
    np.testing.assert_allclose(grad(w, block), grad(w, lambda w, h, x: fnp.tanh(w @ h + x)),
                               rtol=1e-12)


def test_a_checkpointed_step_closing_over_an_array_sees_its_in_place_edits():
    # a recorded call that reads an array it closes over is its own key: a loop body holding
    # it is derived again on the next call, which reads the edited array
    table = np.ones(4)
    xs = np.random.default_rng(7).standard_normal((3, 4))

    def loss(h0):
        step = ft.checkpoint(lambda h, x: fnp.sin(h * table + x))
        return fnp.sum(lax.scan(lambda h, x: (step(h, x), None), h0, xs)[0])

    h0 = np.full(4, 0.3)
    first = ft.grad(loss)(h0)
    table[:] = 2.0
    expected = ft.grad(lambda h0: fnp.sum(lax.scan(
        lambda h, x: (fnp.sin(h * 2.0 + x), None), h0, xs)[0]))(h0)
    np.testing.assert_allclose(ft.grad(loss)(h0), expected, rtol=1e-12)
    assert not np.allclose(first, expected)


# --- policies -----------------------------------------------------------------------------------
def _counting(monkeypatch, *prims):
    """How many times each primitive's implementation runs (eagerly: once per computation)."""
    counts = dict.fromkeys((p.name for p in prims), 0)
    for prim in prims:
        def counted(*args, _impl=prim.impl, _name=prim.name, **params):
            counts[_name] += 1
            return _impl(*args, **params)

        monkeypatch.setattr(prim, "impl", counted)
    return counts


def _named_block(w1, w2, x):
    h = ft.checkpoint_name(fnp.tanh(w1 @ x), "h")
    return fnp.sin(w2 @ h)


POLICY_CASES = [  # policy, then how often dot, tanh and sin run in one grad: saved ones once
    (None, (4, 2, 2)),
    (ft.checkpoint_policies.nothing_saveable, (4, 2, 2)),
    (ft.checkpoint_policies.everything_saveable, (2, 1, 1)),
    (ft.checkpoint_policies.dots_saveable, (2, 2, 2)),
    (ft.checkpoint_policies.checkpoint_dots, (2, 2, 2)),
    (ft.checkpoint_policies.dots_with_no_batch_dims_saveable, (2, 2, 2)),
    (ft.checkpoint_policies.save_only_these_names("h"), (4, 2, 2)),
    (ft.checkpoint_policies.save_only_these_names("other"), (4, 2, 2)),
    (ft.checkpoint_policies.save_anything_except_these_names("h"), (2, 1, 1)),
    (ft.checkpoint_policies.save_from_both_policies(ft.checkpoint_policies.nothing_saveable,
                                                    ft.checkpoint_policies.dots_saveable), (2, 2, 2)),
]


@pytest.mark.parametrize("policy,expected", POLICY_CASES)
def test_a_policy_saves_what_it_names_and_recomputes_the_rest(monkeypatch, policy, expected):
    from functrans.primitives import dot_general_p, sin_p, tanh_p

    w1, w2, x = WS[0][:3], WS[1][:2, :3], RNG.standard_normal((4, 5))
    loss = lambda block: lambda w1, w2: fnp.sum(block(w1, w2, x) ** 2)
    plain = ft.grad(loss(_named_block), argnums=(0, 1))(w1, w2)
    counts = _counting(monkeypatch, dot_general_p, tanh_p, sin_p)
    got = ft.grad(loss(ft.checkpoint(_named_block, policy=policy)), argnums=(0, 1))(w1, w2)
    # the forward products run once; the backward pass's products are transposes, not these
    assert (counts["dot_general"], counts["tanh"], counts["sin"]) == expected
    for a, b in zip(got, plain):
        np.testing.assert_allclose(a, b, rtol=1e-14)
    for a, b in zip(ft.jit(ft.grad(loss(ft.checkpoint(_named_block, policy=policy)), argnums=(0, 1)))(w1, w2), plain):
        np.testing.assert_allclose(a, b, rtol=1e-14)


def test_a_batched_product_is_recomputed_under_dots_with_no_batch_dims(monkeypatch):
    from functrans.primitives import dot_general_p

    ws, xs = RNG.standard_normal((2, 3, 3)), RNG.standard_normal((2, 3, 1))
    block = lambda ws: fnp.tanh(ws @ xs)  # a stack of products: batch dimensions
    loss = lambda policy: lambda ws: fnp.sum(ft.checkpoint(block, policy=policy)(ws) ** 2)
    counts = _counting(monkeypatch, dot_general_p)
    runs = []
    for policy in (None, ft.checkpoint_policies.dots_with_no_batch_dims_saveable, ft.checkpoint_policies.dots_saveable):
        counts["dot_general"] = 0
        runs.append(ft.grad(loss(policy))(ws))
        runs.append(counts["dot_general"])
    _, recomputed, g_batched, batched, g_all, saved = runs
    assert batched == recomputed == saved + 1  # (the backward pass's product runs in each)
    np.testing.assert_allclose(g_batched, g_all, rtol=1e-14)
    np.testing.assert_allclose(g_all, ft.grad(lambda ws: fnp.sum(block(ws) ** 2))(ws), rtol=1e-14)


@pytest.mark.parametrize("policy", [ft.checkpoint_policies.dots_saveable,
                                    ft.checkpoint_policies.save_only_these_names("h")])
def test_a_policy_in_every_mode_and_order(policy):
    block = ft.checkpoint(lambda w, x: _named_block(w, w, x), policy=policy)
    plain = lambda w, x: _named_block(w, w, x)
    w, xs = WS[0], RNG.standard_normal((3, 4))
    f = lambda block: lambda w: fnp.sum(block(w, block(w, xs[0])) ** 2)
    check_grads(f(block), (w,), order=2)
    np.testing.assert_allclose(ft.hessian(f(block))(w), ft.hessian(f(plain))(w), rtol=1e-12)
    np.testing.assert_allclose(ft.vmap(ft.grad(lambda w, x: fnp.sum(block(w, x))), in_axes=(None, 0))(w, xs),
                               ft.vmap(ft.grad(lambda w, x: fnp.sum(plain(w, x))), in_axes=(None, 0))(w, xs),
                               rtol=1e-13)
    scanned = lambda block: lambda x: fnp.sum(lax.scan(lambda c, _: (block(w, c), None), x, None, length=3)[0])
    np.testing.assert_allclose(ft.grad(scanned(block))(xs[0]), ft.grad(scanned(plain))(xs[0]), rtol=1e-13)
    s = 2.0  # a closed-over traced value, and the function run once per call
    CALLS["n"] = 0
    g = ft.grad(lambda s: fnp.sum(ft.checkpoint(lambda x: layer(w, x) * s, policy=policy)(xs[0])))(s)
    assert CALLS["n"] == 1
    np.testing.assert_allclose(g, fnp.sum(layer(w, xs[0])), rtol=1e-14)


def test_a_policy_that_is_not_a_function_is_refused():
    with pytest.raises(TypeError, match=r"save_only_these_names\('hidden'\)"):
        factory = ft.checkpoint_policies.save_only_these_names
        ft.grad(lambda w: fnp.sum(ft.checkpoint(layer, policy=factory)(w, X)))(WS[0])
    with pytest.raises(TypeError, match="policy must be a function"):
        ft.checkpoint(layer, policy="dots")
    assert ft.checkpoint_name({"a": X, "b": 2.0}, "x")["a"] is X


@pytest.mark.parametrize("policy", [None, ft.checkpoint_policies.dots_saveable])
def test_jit_keeps_the_recomputation_apart_unless_prevent_cse_is_false(policy):
    from functrans.interpreters.simplify import simplify

    def count_sin(prevent_cse):
        block = ft.checkpoint(lambda x: fnp.sin(fnp.sin(WS[0] @ x)), policy=policy, prevent_cse=prevent_cse)
        loss = lambda x: fnp.sum(block(x))
        program = simplify(ft.make_jaxpr(ft.grad(loss))(X).program)
        np.testing.assert_allclose(ft.jit(ft.grad(loss))(X), ft.grad(lambda x: fnp.sum(fnp.sin(fnp.sin(WS[0] @ x))))(X),
                                   rtol=1e-14)
        return [e.prim.name for e in program.eqns].count("sin")

    # merged with the forward pass's sines, the recomputation would keep them to the end
    assert (count_sin(True), count_sin(False)) == (4, 2)


def test_a_user_scope_named_like_the_recomputation_is_still_merged():
    from functrans.interpreters.simplify import simplify

    def f(x):
        with ft.named_scope("rematerialized"):
            return fnp.sin(x) + fnp.sin(x)

    names = [e.prim.name for e in simplify(ft.make_jaxpr(f)(X).program).eqns]
    assert names.count("sin") == 1
    np.testing.assert_allclose(ft.jit(f)(X), 2 * np.sin(X), rtol=1e-15)

    # and inside that user scope, checkpoint's own recomputation is still kept apart
    block = ft.checkpoint(lambda x: fnp.sin(fnp.sin(WS[0] @ x)))

    def loss(x):
        with ft.named_scope("rematerialized"):
            return fnp.sum(block(x))

    program = simplify(ft.make_jaxpr(ft.grad(loss))(X).program)
    assert [e.prim.name for e in program.eqns].count("sin") == 4


def _three_names(w, x):
    a = ft.checkpoint_name(fnp.sin(w @ x), "a")
    b = ft.checkpoint_name(fnp.tanh(w @ a), "b")
    return fnp.sum(ft.checkpoint_name(fnp.cos(w @ b), "c") ** 2)


@pytest.mark.parametrize("excluded,expected", [
    (("b",), ["a", "b", "b", "c"]),  # every name but b saved: only b's piece runs again
    ((), ["a", "b", "c"]),
    (("a", "b", "c", "d"), ["a", "a", "b", "b", "c", "c"]),
])
def test_save_any_names_but_these_saves_every_other_name(monkeypatch, excluded, expected):
    from functrans.lax.checkpoint import name_p

    runs = []

    def counted(x, *, name, _impl=name_p.impl):
        runs.append(name)
        return _impl(x, name=name)

    w = WS[0][:3, :3]
    x = X[:3]
    plain = ft.grad(_three_names)(w, x)
    monkeypatch.setattr(name_p, "impl", counted)
    policy = ft.checkpoint_policies.save_any_names_but_these(*excluded)
    got = ft.grad(ft.checkpoint(_three_names, policy=policy))(w, x)
    assert sorted(runs) == expected
    np.testing.assert_allclose(got, plain, rtol=1e-14)


@pytest.mark.parametrize("answer", [1, None, "yes", np.array([True])])
def test_a_policy_must_answer_true_or_false(answer):
    # (as JAX's: a truthy value is refused, not read as True)
    policy = lambda prim, *args, **params: answer
    with pytest.raises(TypeError, match=re.escape(f"it returned {answer!r}, not True or False")):
        ft.grad(lambda w: fnp.sum(ft.checkpoint(layer, policy=policy)(w, X)))(WS[0])
    numpy_bool = ft.checkpoint(layer, policy=lambda prim, *args, **params: np.bool_(prim.name == "tanh"))
    np.testing.assert_allclose(ft.grad(lambda w: fnp.sum(numpy_bool(w, X)))(WS[0]),
                               ft.grad(lambda w: fnp.sum(layer(w, X)))(WS[0]), rtol=1e-14)
