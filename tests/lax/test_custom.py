"""custom_jvp and custom_vjp: the rules are used (and only them) in every mode and order
where they apply, they compose with vmap, and misuse is explained."""
from __future__ import annotations

import functools
import re

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans import errors, nn
from functrans.testing import check_grads

X = np.array([0.3, -1.2, 2.0])


# A function whose rule deliberately differs from its true derivative (3x instead of 1x, with
# a second derivative from the rule's own code), so each test can see which one was used.
@ft.custom_jvp
def tripled(x):
    return x


CALLS = {"jvp": 0}


@tripled.defjvp
def _tripled_jvp(primals, tangents):
    CALLS["jvp"] += 1
    (x,), (t,) = primals, tangents
    return tripled(x), 3.0 * t * fnp.cos(x - x)  # the rule is traced: d/dx of it is 0


def test_custom_jvp_rule_in_forward_and_reverse_mode():
    CALLS["jvp"] = 0
    np.testing.assert_array_equal(tripled(X), X)
    assert CALLS["jvp"] == 0  # plain call: the function, not the rule
    _, t = ft.jvp(tripled, (X,), (np.ones(3),))
    np.testing.assert_allclose(t, 3.0)
    assert CALLS["jvp"] == 1
    np.testing.assert_allclose(ft.grad(lambda x: fnp.sum(tripled(x)))(X), 3.0)
    assert CALLS["jvp"] == 2
    np.testing.assert_allclose(ft.jacfwd(tripled)(X), 3.0 * np.eye(3))
    np.testing.assert_allclose(ft.jacrev(tripled)(X), 3.0 * np.eye(3))


def test_custom_jvp_to_second_order_in_both_modes():
    @ft.custom_jvp
    def f(x):
        return fnp.sin(x)

    @f.defjvp
    def f_jvp(primals, tangents):
        (x,), (t,) = primals, tangents
        return f(x), 2.0 * fnp.cos(x) * t  # twice the true derivative

    g = lambda x: fnp.sum(f(x))
    np.testing.assert_allclose(ft.grad(g)(X), 2 * np.cos(X), rtol=1e-14)
    np.testing.assert_allclose(ft.hessian(g)(X), np.diag(-2 * np.sin(X)), rtol=1e-14)
    np.testing.assert_allclose(ft.jacrev(ft.grad(g))(X), np.diag(-2 * np.sin(X)), rtol=1e-14)
    d2 = ft.grad(lambda x: ft.grad(lambda y: f(y))(x))(0.7)
    np.testing.assert_allclose(d2, -2 * np.sin(0.7), rtol=1e-14)


def test_custom_jvp_under_vmap_both_ways():
    xs = np.arange(6.0).reshape(2, 3)
    np.testing.assert_allclose(ft.vmap(ft.grad(lambda x: fnp.sum(tripled(x) ** 2)))(xs), 6 * xs)
    # grad of vmap: the batched call must still use the rule
    np.testing.assert_allclose(ft.grad(lambda x: fnp.sum(ft.vmap(tripled)(x) ** 2))(xs), 6 * xs)
    np.testing.assert_allclose(ft.vmap(tripled, in_axes=1)(xs), xs.T)


def test_defjvps_pytrees_and_nondiff_argnums():
    @ft.custom_jvp
    def f(x, y):
        return {"s": x * y, "d": x - y}

    f.defjvps(lambda t, out, x, y: {"s": t * y, "d": t},
              lambda t, out, x, y: {"s": x * t, "d": -t})
    x, y = np.array(2.0), np.array(5.0)
    np.testing.assert_allclose(ft.grad(lambda x, y: f(x, y)["s"], argnums=(0, 1))(x, y), (5.0, 2.0))
    np.testing.assert_allclose(ft.jacfwd(lambda x: f(x, y)["d"])(x), 1.0)

    @ft.custom_jvp
    def apply(fn, x):
        return fn(x)

    @apply.defjvp
    def apply_jvp(fn, primals, tangents):
        (x,), (t,) = primals, tangents
        return apply(fn, x), 10.0 * t

    apply = ft.custom_jvp(apply.fun, nondiff_argnums=(0,))
    apply.defjvp(apply_jvp)
    np.testing.assert_allclose(ft.grad(lambda x: apply(fnp.sin, x))(1.0), 10.0)


def test_nondiff_argnames_as_jax_takes_them():
    @functools.partial(ft.custom_vjp, nondiff_argnames=("act",))
    def apply(act, x):
        return act(x)

    apply.defvjp(lambda act, x: (act(x), x), lambda act, x, ct: (ct * 3.0,))
    @functools.partial(ft.custom_jvp, nondiff_argnames="power")
    def pw(x, power):
        return x ** power

    pw.defjvp(lambda power, primals, tangents: (pw(primals[0], power), 10.0 * tangents[0]))
    x = np.array([0.5, 2.0])
    assert apply.nondiff_argnums == (0,) and pw.nondiff_argnums == (1,)
    for grad in (ft.grad, lambda f: ft.jit(ft.grad(f))):
        np.testing.assert_array_equal(grad(lambda x: fnp.sum(apply(fnp.sin, x)))(x), [3.0, 3.0])
        np.testing.assert_array_equal(grad(lambda x: fnp.sum(pw(x, 3)))(x), [10.0, 10.0])
    with pytest.raises(ValueError, match=r"custom_vjp\(f\): nondiff_argnames names \['ac'\].*or use nondiff_argnums"):
        def f(act, x):
            return x
        ft.custom_vjp(f, nondiff_argnames=("ac",))


def test_custom_jvp_takes_a_traced_array_in_nondiff_argnums():
    # As in JAX, a value batched by vmap or staged by jit may sit in nondiff_argnums; the
    # rule receives it there. The rule is 3 times the true derivative, to show it is used.
    @functools.partial(ft.custom_jvp, nondiff_argnums=(0, 2))
    def scaled(fn, x, s):
        return fn(x) * s["a"] + s["b"]

    @scaled.defjvp
    def _(fn, s, primals, tangents):
        (x,), (t,) = primals, tangents
        return scaled(fn, x, s), 3.0 * fnp.cos(x) * s["a"] * t

    x, a, b = np.array([0.3, 0.7]), np.array([2.0, 3.0]), np.array([1.0, -1.0])
    f = lambda x, a, b: scaled(fnp.sin, x, {"a": a, "b": b})
    expected = 3.0 * np.cos(x) * a
    np.testing.assert_allclose(ft.vmap(f)(x, a, b), np.sin(x) * a + b, rtol=1e-15)
    np.testing.assert_allclose(ft.vmap(ft.grad(f))(x, a, b), expected, rtol=1e-15)
    np.testing.assert_allclose(ft.jit(ft.vmap(ft.grad(f)))(x, a, b), expected, rtol=1e-15)
    np.testing.assert_allclose(ft.grad(lambda x: fnp.sum(ft.vmap(f)(x, a, b)))(x), expected, rtol=1e-15)
    np.testing.assert_allclose(ft.vmap(ft.jacfwd(f))(x, a, b), expected, rtol=1e-15)
    np.testing.assert_allclose(ft.vmap(ft.grad(f), in_axes=(None, 0, None))(0.3, a, 1.0),
                               3.0 * np.cos(0.3) * a, rtol=1e-15)
    np.testing.assert_allclose(ft.grad(ft.jit(f))(0.3, 2.0, 1.0), 6.0 * np.cos(0.3), rtol=1e-15)
    np.testing.assert_allclose(ft.vmap(ft.grad(ft.grad(f)))(x, a, b), -3.0 * np.sin(x) * a, rtol=1e-15)
    # Its derivative is not the rule's to give: zero when asked for with stop_gradient ...
    assert ft.grad(lambda a: f(0.3, ft.lax.stop_gradient(a), 1.0))(2.0) == 0.0
    # ... and an error, not JAX's silent zero, when it depends on the variable.
    with pytest.raises(errors.CustomRuleError, match=r"argument 2\['a'\] is listed in nondiff_argnums, "
                       r"but it depends on the variable being differentiated.*stop_gradient"):
        ft.grad(lambda a: f(0.3, a, 1.0))(2.0)


def test_a_traced_nondiff_argument_may_hold_other_values_beside_its_arrays():
    @functools.partial(ft.custom_jvp, nondiff_argnums=(1,))
    def f(x, cfg):
        return cfg[0](x) * cfg[1]

    f.defjvp(lambda cfg, p, t: (f(p[0], cfg), t[0] * fnp.cos(p[0]) * cfg[1] * 3.0))  # 3x the truth
    xs, ss = np.array([0.5, 1.0]), np.array([2.0, 3.0])
    np.testing.assert_allclose(ft.vmap(lambda x, s: ft.grad(f)(x, (fnp.sin, s)))(xs, ss),
                               3.0 * np.cos(xs) * ss, rtol=1e-15)
    np.testing.assert_allclose(ft.jit(lambda x, s: ft.grad(f)(x, (fnp.sin, s)))(0.5, 2.0), 6.0 * np.cos(0.5),
                               rtol=1e-15)
    with pytest.raises(errors.CustomRuleError, match=r"argument 1\[1\] is listed in nondiff_argnums"):
        ft.grad(lambda s: f(0.5, (fnp.sin, s)))(2.0)


def test_custom_vjp_refuses_a_traced_array_in_nondiff_argnums_naming_the_fix():
    @functools.partial(ft.custom_vjp, nondiff_argnums=(1,))
    def f(x, s):
        return fnp.sin(x) * s

    f.defvjp(lambda x, s: (f(x, s), fnp.cos(x)), lambda s, c, g: (g * c * s,))
    assert ft.grad(f)(0.3, 2.0) == pytest.approx(2.0 * np.cos(0.3), rel=1e-15)
    message = r"argument 1 is listed in nondiff_argnums but holds a traced array.*Make the array an ordinary argument"
    with pytest.raises(errors.CustomRuleError, match=message):
        ft.vmap(ft.grad(f))(np.array([0.3, 0.7]), np.array([2.0, 3.0]))
    with pytest.raises(errors.CustomRuleError, match=message):
        ft.jit(f)(0.3, 2.0)


def _scaled_by_closure(kind, s):
    """sin(y) * s for the s it closes over, with a rule 3 times the true derivative (to show
    the rule is used): a custom_jvp or a custom_vjp defined inside a transformed function."""
    if kind == "jvp":
        @ft.custom_jvp
        def h(y):
            return fnp.sin(y) * s

        h.defjvp(lambda p, t: (h(p[0]), 3.0 * fnp.cos(p[0]) * s * t[0]))
        return h

    @ft.custom_vjp
    def h(y):
        return fnp.sin(y) * s

    h.defvjp(lambda y: (h(y), fnp.cos(y)), lambda c, g: (3.0 * c * g * s,))
    return h


@pytest.mark.parametrize("kind", ["jvp", "vjp"])
def test_a_function_closing_over_traced_values_is_right_under_vmap_and_jit(kind):
    # As in JAX: the closed-over value is an input of the call, so vmap batches it and jit
    # stages it (a value that escaped its transformation before).
    s, w = np.array([1.0, 2.0, 3.0]), np.array([0.2, 0.7, -0.4])
    h = lambda x: _scaled_by_closure(kind, fnp.sum(x))(x)
    np.testing.assert_allclose(ft.vmap(h)(np.stack([w, 2.0 * w])),
                               np.stack([np.sin(w) * w.sum(), np.sin(2.0 * w) * 2.0 * w.sum()]), rtol=1e-15)
    np.testing.assert_allclose(ft.jit(h)(w), np.sin(w) * w.sum(), rtol=1e-15)
    # the rule sees the value it closes over, batched or staged, when it is not differentiated
    expected = 3.0 * np.cos(0.7) * s
    on_closure = lambda s: ft.grad(_scaled_by_closure(kind, s))(0.7)
    np.testing.assert_allclose(ft.vmap(on_closure)(s), expected, rtol=1e-15)
    np.testing.assert_allclose(ft.jit(ft.vmap(on_closure))(s), expected, rtol=1e-15)
    np.testing.assert_allclose(ft.vmap(ft.jit(on_closure))(s), expected, rtol=1e-15)
    np.testing.assert_allclose(ft.vmap(ft.grad(on_closure))(s), 3.0 * np.cos(0.7), rtol=1e-15)
    # the rules are staged with the call: they read the values a later transformation hands
    # the call (a vmap inside grad, the values a finished jit computed)
    summed = lambda w: fnp.sum(ft.vmap(lambda s: _scaled_by_closure(kind, s)(w))(s))
    np.testing.assert_allclose(ft.grad(summed)(0.7), expected.sum(), rtol=1e-15)
    # (under jit the Python scalar 0.7 stays one, unbatched: its tangent too, and the
    # examples' cotangents for it are summed)
    np.testing.assert_allclose(ft.jit(ft.grad(summed))(0.7), expected.sum(), rtol=1e-15)
    staged = ft.jit(lambda w, s: _scaled_by_closure(kind, s)(w))
    np.testing.assert_allclose(ft.grad(staged)(0.7, 2.0), 6.0 * np.cos(0.7), rtol=1e-15)


@pytest.mark.parametrize("kind", ["jvp", "vjp"])
def test_a_function_defined_in_a_loop_body_closing_over_its_values_is_differentiable(kind):
    # the body is staged: its values are variables of a finished recording by the time the
    # scan is differentiated, so the rule must take them as inputs
    def f(x):
        step = lambda c, xi: (_scaled_by_closure(kind, ft.lax.stop_gradient(xi))(c), c)
        c, ys = ft.lax.scan(step, x[0], x)
        return c + fnp.sum(ys)

    def expected_grad(x):  # the rule's derivative, 3 cos(c) xi, carried through the steps
        c, dc, total = x[0], np.eye(3)[0], np.eye(3)[0]
        for xi in x[:-1]:
            c, dc = np.sin(c) * xi, 3.0 * np.cos(c) * xi * dc
            total = total + dc
        return total + 3.0 * np.cos(c) * x[-1] * dc

    x = np.array([0.3, -0.7, 1.1])
    np.testing.assert_allclose(f(x), ft.jit(f)(x), rtol=1e-15)
    for g in [ft.grad(f), ft.jit(ft.grad(f)), lambda x: ft.vmap(ft.grad(f))(x[None])[0]]:
        np.testing.assert_allclose(g(x), expected_grad(x), rtol=1e-14)


def test_a_function_in_nondiff_argnums_closing_over_traced_values():
    # JAX's usual higher-order pattern, fn closing over a value of a vmap, a jit or a body
    @functools.partial(ft.custom_jvp, nondiff_argnums=(0,))
    def apply(fn, x):
        return fn(x)

    apply.defjvp(lambda fn, p, t: (fn(p[0]), 3.0 * ft.jvp(fn, p, t)[1]))  # 3x the truth

    @functools.partial(ft.custom_vjp, nondiff_argnums=(0,))
    def apply_v(fn, x):
        return fn(x)

    apply_v.defvjp(lambda fn, x: (fn(x), x), lambda fn, x, g: (3.0 * ft.vjp(fn, x)[1](g)[0],))
    s = np.array([1.0, 2.0])
    for a in [apply, apply_v]:
        scaled = lambda w, s, a=a: a(lambda z: fnp.sin(z) * s, w)
        np.testing.assert_allclose(ft.grad(lambda w: fnp.sum(ft.vmap(lambda s: scaled(w, s))(s)))(0.7),
                                   3.0 * np.cos(0.7) * s.sum(), rtol=1e-15)
        np.testing.assert_allclose(ft.grad(ft.jit(scaled))(0.7, 2.0), 6.0 * np.cos(0.7), rtol=1e-15)
        in_scan = lambda w: ft.lax.scan(lambda c, s: (c + scaled(w, s), None), 0.0, s)[0]
        np.testing.assert_allclose(ft.grad(in_scan)(0.7), 3.0 * np.cos(0.7) * s.sum(), rtol=1e-15)


def test_custom_gradient_closing_over_traced_values():
    # its residual is a function, which no recorded program can return
    def scaled(s, w):
        @ft.custom_gradient
        def h(y):
            return fnp.sin(y) * s, lambda g: (3.0 * fnp.cos(y) * s * g,)  # 3x the truth
        return h(w)

    s = np.array([1.0, 2.0])
    np.testing.assert_allclose(ft.vmap(lambda s: ft.grad(lambda w: scaled(s, w))(0.7))(s),
                               3.0 * np.cos(0.7) * s, rtol=1e-15)
    np.testing.assert_allclose(ft.grad(ft.jit(scaled), argnums=1)(2.0, 0.7), 6.0 * np.cos(0.7), rtol=1e-15)
    np.testing.assert_allclose(ft.grad(lambda w: fnp.sum(ft.vmap(lambda s: scaled(s, w))(s)))(0.7),
                               3.0 * np.cos(0.7) * s.sum(), rtol=1e-15)


@pytest.mark.parametrize("kind", ["jvp", "vjp"])
def test_a_closed_over_value_being_differentiated_takes_the_functions_own_derivative(kind):
    # The rule (3x the truth) gives the derivative in the argument; the one in the value the
    # function closes over is the function's own (jacrev of a custom_jvp dropped it before).
    h = lambda x: _scaled_by_closure(kind, fnp.sum(x))(x)
    w = np.array([0.2, 0.7])
    expected = np.diag(3.0 * np.cos(w) * w.sum()) + np.sin(w)[:, None]
    derivatives = [ft.jacrev(h), ft.jit(ft.jacrev(h)), lambda w: ft.vmap(ft.jacrev(h))(w[None])[0]]
    if kind == "jvp":
        derivatives += [ft.jacfwd(h), ft.jit(ft.jacfwd(h))]
    for derivative in derivatives:
        np.testing.assert_allclose(derivative(w), expected, rtol=1e-14)
    # through the closed-over value alone, even a custom_vjp works in forward mode
    s = lambda s: _scaled_by_closure(kind, s)(0.7)
    assert ft.jvp(s, (2.0,), (1.0,))[1] == pytest.approx(np.sin(0.7), rel=1e-15)
    assert ft.grad(lambda s: ft.grad(_scaled_by_closure(kind, s))(0.7))(2.0) == pytest.approx(3.0 * np.cos(0.7))


def test_a_jvp_rule_returning_a_constant_tangent_is_refused_in_reverse_mode():
    # 3.0 where 3.0 * t was meant: jvp gives 3, and grad gave 0 (the constant is no tangent)
    tripled_badly = ft.custom_jvp(lambda x: 3.0 * x)
    tripled_badly.defjvp(lambda p, t: (3.0 * p[0], 3.0))
    assert ft.jvp(tripled_badly, (0.5,), (1.0,))[1] == 3.0
    for derivative in [ft.grad(tripled_badly), ft.jacrev(tripled_badly)]:
        with pytest.raises(errors.CustomRuleError, match=r"does not depend on the input tangents.*\* t"):
            derivative(0.5)
    # a zero tangent (a Python 0.0 or zeros) is the rule's way to say the derivative is 0
    for rule_zero in [lambda x: 0.0, fnp.zeros_like]:
        floor = ft.custom_jvp(fnp.floor)
        floor.defjvp(lambda p, t, rule_zero=rule_zero: (fnp.floor(p[0]), rule_zero(p[0])))
        assert ft.grad(lambda x: floor(x) + x ** 2)(1.5) == 3.0


def test_a_jvp_rule_may_return_python_numbers_as_primal_and_tangent():
    tripled = ft.custom_jvp(lambda x: 3.0 * x)
    tripled.defjvp(lambda p, t: (1.5, 3.0 * t[0]))  # the primal at 0.5, written as a number
    assert ft.grad(tripled)(0.5) == 3.0
    assert ft.jit(ft.grad(tripled))(0.5) == 3.0
    primal, tangent = ft.jvp(tripled, (np.float32(0.5),), (np.float32(1.0),))
    assert (primal, tangent) == (1.5, 3.0) and primal.dtype == tangent.dtype == np.float32
    floor = ft.custom_jvp(fnp.floor)
    floor.defjvp(lambda p, t: (fnp.floor(p[0]), 0.0))  # a zero derivative, as a number
    assert ft.grad(lambda x: floor(x) * x)(2.5) == 2.0
    np.testing.assert_array_equal(ft.vmap(ft.grad(lambda x: floor(x) * x))(np.array([2.5, -0.5])), [2.0, -1.0])


def test_symbolic_zeros_is_refused_when_the_rule_is_defined():
    f = ft.custom_jvp(fnp.sin)
    with pytest.raises(NotImplementedError, match="symbolic_zeros=True is not supported.*defjvps"):
        f.defjvp(lambda p, t: (fnp.sin(p[0]), fnp.cos(p[0]) * t[0]), symbolic_zeros=True)
    g = ft.custom_vjp(fnp.sin)
    with pytest.raises(NotImplementedError, match="symbolic_zeros=True is not supported"):
        g.defvjp(lambda x: (fnp.sin(x), x), lambda x, ct: (fnp.cos(x) * ct,), symbolic_zeros=True)
    assert f.jvp is None and g.fwd is None


def test_custom_jvp_errors():
    @ft.custom_jvp
    def no_rule(x):
        return x

    with pytest.raises(errors.CustomRuleError, match="defjvp"):
        ft.grad(no_rule)(1.0)

    @ft.custom_jvp
    def bad(x):
        return x

    bad.defjvp(lambda p, t: (p[0], np.ones(5)))
    with pytest.raises(errors.CustomRuleError, match="shape"):
        ft.jvp(bad, (np.ones(2),), (np.ones(2),))


# -- custom_vjp -------------------------------------------------------------------------------------

BWD_CALLS = {"n": 0}


@ft.custom_vjp
def clipped(x, scale):
    return x * scale


def _clipped_fwd(x, scale):
    return clipped(x, scale), (scale,)


def _clipped_bwd(res, ct):
    BWD_CALLS["n"] += 1
    (scale,) = res
    return fnp.clip(ct * scale, -1.0, 1.0), fnp.sum(ct) * 0.0 + 7.0


clipped.defvjp(_clipped_fwd, _clipped_bwd)


def test_custom_vjp_backward_function_is_used_in_reverse_mode():
    BWD_CALLS["n"] = 0
    scale = np.array(4.0)
    np.testing.assert_array_equal(clipped(X, scale), X * 4.0)
    gx, gs = ft.grad(lambda x, s: fnp.sum(clipped(x, s) * np.array([0.1, 1.0, -1.0])), argnums=(0, 1))(X, scale)
    np.testing.assert_allclose(gx, [0.4, 1.0, -1.0])
    np.testing.assert_allclose(gs, 7.0)
    assert BWD_CALLS["n"] == 1
    _, pullback = ft.vjp(clipped, X, scale)
    np.testing.assert_allclose(pullback(np.full(3, 0.1))[0], 0.4)
    np.testing.assert_allclose(ft.jacrev(lambda x: clipped(x, scale))(X), np.diag([1.0, 1.0, 1.0]))


def test_custom_vjp_under_vmap_both_ways_and_jacfwd_of_jacrev():
    xs = np.linspace(-1, 1, 6).reshape(2, 3)
    scale = np.array(0.5)
    per = ft.vmap(ft.grad(lambda x: fnp.sum(clipped(x, scale) * 3.0)))(xs)
    np.testing.assert_allclose(per, np.full((2, 3), 1.0))  # clip(3 * 0.5) = 1
    total = ft.grad(lambda x: fnp.sum(ft.vmap(lambda r: clipped(r, scale))(x) * 0.2))(xs)
    np.testing.assert_allclose(total, np.full((2, 3), 0.1))
    np.testing.assert_allclose(ft.vmap(lambda r: clipped(r, scale))(xs), xs * 0.5)

    @ft.custom_vjp
    def square(x):
        return x ** 2

    square.defvjp(lambda x: (x ** 2, x), lambda x, ct: (2 * x * ct,))
    np.testing.assert_allclose(ft.hessian(lambda x: fnp.sum(square(x) * x))(X), np.diag(6 * X), rtol=1e-14)


def test_custom_vjp_in_forward_mode_explains_why_and_what_to_use():
    with pytest.raises(errors.CustomRuleError, match="custom_jvp") as info:
        ft.jvp(lambda x: clipped(x, 2.0), (X,), (np.ones(3),))
    assert "J^T v" in str(info.value)
    with pytest.raises(errors.CustomRuleError, match="reverse mode"):
        ft.jacfwd(lambda x: clipped(x, 2.0))(X)


def test_custom_vjp_nondiff_argnums_pytrees_and_errors():
    @ft.custom_vjp
    def f(mode, p):
        return p["a"] * p["b"] if mode == "mul" else p["a"] + p["b"]

    def f_fwd(mode, p):
        return f(mode, p), p

    def f_bwd(mode, p, ct):
        assert mode == "mul"
        return ({"a": ct * p["b"] * 100.0, "b": None},)

    f = ft.custom_vjp(f.fun, nondiff_argnums=(0,))
    f.defvjp(f_fwd, f_bwd)
    p = {"a": np.array(2.0), "b": np.array(3.0)}
    g = ft.grad(lambda p: f("mul", p))(p)
    np.testing.assert_allclose(g["a"], 300.0)
    np.testing.assert_allclose(g["b"], 0.0)

    @ft.custom_vjp
    def wrong(x):
        return x

    wrong.defvjp(lambda x: (x, None), lambda r, ct: (ct, ct))
    with pytest.raises(errors.CustomRuleError, match="one cotangent per"):
        ft.grad(lambda x: fnp.sum(wrong(x)))(X)


def test_make_jaxpr_shows_a_custom_call_as_one_equation():
    text = str(ft.make_jaxpr(tripled)(X))
    assert "custom_jvp_call" in text and text.count(" = ") == 1


# --- the library's own custom rules ------------------------------------------------------------
def _counting(monkeypatch, fn):
    calls = []
    rule = fn.jvp

    def counted(*args):
        calls.append(1)
        return rule(*args)

    monkeypatch.setattr(fn, "jvp", counted)
    return calls


def test_library_functions_differentiate_through_their_rules(monkeypatch):
    from functrans.nn import activations
    from functrans.numpy import _reductions, linalg

    x = np.array([[1.0, 1.0, -np.inf], [0.5, -2.0, 3.0]])
    calls = _counting(monkeypatch, _reductions._logsumexp)
    g = ft.grad(lambda v: fnp.sum(fnp.logsumexp(v, axis=1)))(x)
    assert calls and g[0].tolist() == [0.5, 0.5, 0.0]  # exact for ties, 0 for -inf
    np.testing.assert_allclose(g[1], np.exp(x[1]) / np.exp(x[1]).sum(), rtol=1e-15)
    assert ft.grad(lambda v: nn.logsumexp(v))(np.full(4, 2.0)).tolist() == [0.25] * 4

    calls = _counting(monkeypatch, linalg._euclidean_norm)
    assert ft.grad(fnp.linalg.norm)(np.zeros(3)).tolist() == [0.0, 0.0, 0.0]  # not nan
    np.testing.assert_allclose(ft.grad(fnp.linalg.norm)(np.array([3.0, 4.0])), [0.6, 0.8], rtol=1e-15)
    assert calls

    calls = _counting(monkeypatch, activations._logaddexp0)
    z = np.array([-800.0, -3.0, 0.0, 3.0, 19.0])
    sigmoid = 1 / (1 + np.exp(-z))
    np.testing.assert_allclose(ft.vmap(ft.grad(nn.softplus))(z), sigmoid, rtol=1e-15)
    second = ft.vmap(ft.grad(ft.grad(nn.log_sigmoid)))(z)
    exact = -np.exp(-np.abs(z)) / (1 + np.exp(-np.abs(z))) ** 2  # sigmoid(z) * sigmoid(-z)
    np.testing.assert_allclose(second, exact, rtol=1e-12, atol=1e-300)
    assert calls


def test_a_custom_jvp_on_plain_arrays_is_a_plain_call():
    calls = []

    @ft.custom_jvp
    def f(x):
        calls.append(type(x))
        return x * 2

    f.defjvp(lambda primals, tangents: (f(primals[0]), 2 * tangents[0]))
    assert f(np.ones(2)).tolist() == [2.0, 2.0] and calls == [np.ndarray]
    assert ft.grad(lambda v: fnp.sum(f(v)))(np.ones(2)).tolist() == [2.0, 2.0]


# -- a rule's result of the wrong shape is named by its key path ------------------------------

def test_bwd_cotangent_of_wrong_shape_names_the_argument_key_path():
    @ft.custom_vjp
    def f(p, x):
        return fnp.sum(p["w"] * x) + fnp.sum(p["b"][1])

    f.defvjp(lambda p, x: (f(p, x), (p, x)),
             lambda res, g: ({"w": g * res[1], "b": [np.zeros(2), np.zeros(3)]}, g * res[0]["w"]))
    p = {"w": np.ones(2), "b": [np.ones(2), np.ones(2)]}
    with pytest.raises(errors.CustomRuleError,
                       match=re.escape("cotangent returned by bwd for argument 0['b'][1] has shape (3,), "
                                       "but it must have shape (2,)")):
        ft.grad(f)(p, np.ones(2))


def test_bwd_cotangent_of_another_structure_is_refused_none_stands_for_a_zero_subtree():
    def with_bwd(bwd):
        f = ft.custom_vjp(lambda p: p["a"] * p["b"] + fnp.sum(p["c"][0]))
        f.defvjp(lambda p: (f(p), p), bwd)
        return f

    p = {"a": 0.5, "b": 2.0, "c": (np.ones(2), np.ones(2))}
    good = with_bwd(lambda p, g: ({"a": g * p["b"], "b": g * p["a"], "c": None},))
    got = ft.grad(good)(p)
    assert (got["a"], got["b"]) == (2.0, 0.5) and np.all(got["c"][0] == 0.0)
    # leaves of the right shapes under other keys or in other containers were taken in order
    ones = np.ones(2)
    wrongs = [{"b": 1.0, "c": 2.0, "d": (ones, ones)}, (1.0, 2.0, ones, ones), {"a": (1.0, 2.0), "b": ones, "c": ones}]
    for wrong in wrongs:
        f = with_bwd(lambda p, g, wrong=wrong: (wrong,))
        with pytest.raises(errors.CustomRuleError, match=re.escape("the cotangent bwd returned for argument 0 "
                                                                   "has structure PyTreeDef(")):
            ft.grad(f)(p)


def test_jvp_rule_tangent_of_wrong_shape_names_the_output_key_path():
    @ft.custom_jvp
    def h(x):
        return {"a": x, "b": [x, x * 2]}

    h.defjvp(lambda p, t: (h(*p), {"a": t[0], "b": [t[0], t[0][:1]]}))
    with pytest.raises(errors.CustomRuleError,
                       match=re.escape("tangent for output['b'][1] has shape (1,), but it must have shape (2,)")):
        ft.jvp(h, (np.ones(2),), (np.ones(2),))


def test_jvp_rule_tangent_of_another_dtype_is_refused_as_in_jax():
    @ft.custom_jvp
    def h(x):
        return {"a": x * 2, "s": fnp.sum(x)}

    h.defjvp(lambda p, t: (h(*p), {"a": (t[0] * 2).astype(np.float64), "s": fnp.sum(t[0])}))
    x = np.ones(2, np.float32)
    for run in (lambda: ft.jvp(h, (x,), (x,)), lambda: ft.grad(lambda x: fnp.sum(h(x)["a"]))(x)):
        with pytest.raises(errors.CustomRuleError,
                           match=r"tangent for output\['a'\] has dtype float64.*float32.*astype\(float32\)"):
            run()
    # a complex tangent for a real output (its imaginary part would be kept in the tangent)
    g = ft.custom_jvp(lambda x: x * 2)
    g.defjvp(lambda p, t: (g(*p), t[0] * (2 + 1j)))
    with pytest.raises(errors.CustomRuleError, match="has dtype complex128"):
        ft.jvp(g, (np.ones(2),), (np.ones(2),))
    # a Python scalar is weakly typed: the output's dtype
    k = ft.custom_jvp(lambda x: fnp.sum(x) * 2)
    k.defjvp(lambda p, t: (k(*p), 0.0))
    got = ft.grad(k)(x)
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, [0.0, 0.0])


def test_bwd_complex_cotangent_for_a_real_argument_is_refused():
    # the gradient of a real input came back complex
    @ft.custom_vjp
    def f(x):
        return x * 2

    f.defvjp(lambda x: (x * 2, None), lambda r, g: (g * (2 + 1j),))
    with pytest.raises(errors.CustomRuleError, match=r"dtype complex128, but the argument is real"):
        ft.grad(lambda x: fnp.sum(f(x)))(np.ones(2))
    # a complex argument takes a complex cotangent
    h = ft.custom_vjp(lambda z: z * 2)
    h.defvjp(lambda z: (z * 2, None), lambda r, g: (g * 2,))
    got = ft.grad(lambda z: fnp.sum(fnp.real(h(z))))(np.ones(2, complex))
    np.testing.assert_array_equal(got, [2.0, 2.0])


@pytest.mark.parametrize("ct_dtype", [np.float32, np.int64])
def test_bwd_cotangent_of_another_dtype_is_refused(ct_dtype):
    # it would come back as the gradient of the float64 argument, in ct_dtype
    @ft.custom_vjp
    def f(x):
        return x * 2

    f.defvjp(lambda x: (x * 2, None), lambda r, g: (g.astype(ct_dtype),))
    with pytest.raises(errors.CustomRuleError, match=rf"bwd for argument 0 has dtype {np.dtype(ct_dtype)}, "
                       r"but it must have the dtype of the value it belongs to, float64.*astype\(float64\)"):
        ft.grad(lambda x: fnp.sum(f(x)))(np.ones(2))
    # a Python scalar is weakly typed: the argument's dtype
    h = ft.custom_vjp(lambda x: x * 2)
    h.defvjp(lambda x: (x * 2, None), lambda r, g: (1.0,))
    got = ft.grad(h)(np.float32(3.0))
    assert got.dtype == np.float32 and got == 1.0


def test_custom_gradient_takes_the_rule_from_the_function_in_every_mode():
    @ft.custom_gradient
    def f(x, y):
        s = fnp.sin(x)
        return s * y, lambda ct: (ct * fnp.cos(x) * y * 10.0, ct * s)  # 10x the true d/dx

    x, y = np.array([0.1, 0.5, 1.0]), np.array([2.0, -1.0, 0.5])
    expected = (10.0 * np.cos(x) * y, np.sin(x))
    g = ft.grad(lambda x, y: fnp.sum(f(x, y)), argnums=(0, 1))
    np.testing.assert_allclose(f(x, y), np.sin(x) * y)
    for got in (g(x, y), ft.jit(g)(x, y)):
        np.testing.assert_allclose(got[0], expected[0], rtol=1e-12)
        np.testing.assert_allclose(got[1], expected[1], rtol=1e-12)
    xs = np.stack([x, 2 * x])
    gx, gy = ft.vmap(g, in_axes=(0, None))(xs, y)
    np.testing.assert_allclose(gx, 10.0 * np.cos(xs) * y, rtol=1e-12)
    np.testing.assert_allclose(gy, np.sin(xs), rtol=1e-12)
    np.testing.assert_allclose(ft.jacrev(lambda x: f(x, y))(x), np.diag(expected[0]), rtol=1e-12)
    # one array for a function of one argument, as JAX takes it, in every mode
    single = ft.grad(ft.custom_gradient(lambda x: (x * 2, lambda ct: ct * 3)))
    assert single(1.0) == 3.0
    np.testing.assert_array_equal(ft.jit(ft.vmap(single))(x), [3.0] * 3)
    with pytest.raises(errors.CustomRuleError, match=r"one cotangent per differentiable argument \(2\)"):
        ft.grad(ft.custom_gradient(lambda x, y: (x * y, lambda ct: ct * 2)))(1.0, 2.0)
    with pytest.raises(errors.CustomRuleError, match=r"vjp_fn must return a tuple.*\(ct \* \.\.\.,\)"):
        ft.grad(lambda d: ft.custom_gradient(lambda d: (d["a"] * 2, lambda ct: {"a": ct}))(d))({"a": 1.0})
    with pytest.raises(errors.CustomRuleError, match=r"must return a pair \(output, vjp_fn\)"):
        ft.grad(ft.custom_gradient(lambda x: x * 2))(1.0)


def test_custom_vjp_bwd_returning_a_python_number_gives_what_plain_grad_gives():
    @ft.custom_vjp
    def f(x):
        return x * 2.0

    f.defvjp(lambda x: (f(x), None), lambda _, ct: (3.0,))
    plain = lambda x: fnp.sum(x * 3.0)
    for x in [2.0, np.float32(2.0), np.array(2.0), np.array(2.0, np.float32)]:
        for transform in (ft.grad, lambda g: ft.jit(ft.grad(g))):
            got, expected = transform(lambda x: fnp.sum(f(x)))(x), transform(plain)(x)
            assert type(got) is type(expected) and got.dtype == expected.dtype, (x, got, expected)
            np.testing.assert_array_equal(got, np.full(np.shape(x), 3.0))


# --- closure_convert ---------------------------------------------------------------------------
@functools.partial(ft.custom_vjp, nondiff_argnums=(0,))
def _apply(fn, x, *consts):
    return fn(x, *consts)


def _apply_fwd(fn, x, *consts):
    return _apply(fn, x, *consts), (x, consts)


def _apply_bwd(fn, res, ct):
    x, consts = res
    return ft.vjp(fn, x, *consts)[1](ct)


_apply.defvjp(_apply_fwd, _apply_bwd)


def test_closure_convert_hands_the_closed_over_traced_values_to_a_custom_vjp():
    found = []

    def loss(y, x):
        fn = lambda x: fnp.tanh(x * y) + x ** 2
        converted, consts = ft.closure_convert(fn, x)
        found.append(len(consts))
        return fnp.sum(_apply(converted, x, *consts))

    plain = lambda y, x: fnp.sum(fnp.tanh(x * y) + x ** 2)
    y, x = 1.5, np.array([0.3, -0.2])
    for a, b in zip(ft.grad(loss, argnums=(0, 1))(y, x), ft.grad(plain, argnums=(0, 1))(y, x)):
        np.testing.assert_allclose(a, b, rtol=1e-14)
    assert found == [1]  # y, traced by grad; nothing else
    check_grads(loss, (y, x), order=1, modes=("rev",))
    ys = np.array([1.5, -0.5])
    np.testing.assert_allclose(ft.vmap(ft.grad(loss), in_axes=(0, None))(ys, x),
                               ft.vmap(ft.grad(plain), in_axes=(0, None))(ys, x), rtol=1e-14)
    np.testing.assert_allclose(ft.jit(ft.grad(loss))(y, x), ft.grad(plain)(y, x), rtol=1e-14)


def test_closure_convert_keeps_untraced_arrays_and_checks_its_arguments():
    c = np.array([1.0, 2.0])
    converted, consts = ft.closure_convert(lambda x, s: {"y": x * c * s}, np.ones(2, np.float32), 2.0)
    assert consts == []
    out = converted(np.ones(2, np.float32), 3.0)["y"]
    np.testing.assert_array_equal(out, [3.0, 6.0])
    assert out.dtype == np.float64  # as x * c * s: c is float64
    converted, _ = ft.closure_convert(lambda x, s: x * s, np.ones(2, np.float32), 2.0)
    assert converted(np.ones(2, np.float32), 3.0).dtype == np.float32  # s stays a Python scalar
    with pytest.raises(TypeError, match=r"recorded for arguments of shapes and dtypes .*\(2,\).*called with .*\(3,\)"):
        converted(np.ones(3, np.float32), 3.0)
    with pytest.raises(TypeError, match=r"takes the 2 argument\(s\) of fun, then the 0 const"):
        converted(np.ones(2, np.float32))
    with pytest.raises(errors.TracerConversionError):
        ft.closure_convert(lambda x: x if x > 0 else -x, 1.0)  # recorded on shapes, as jit


def test_defaults_reach_the_rules_and_keyword_only_arguments_are_refused():
    @ft.custom_jvp
    def scaled(x, y=2.0):
        return x * y

    scaled.defjvp(lambda p, t: (scaled(*p), t[0] * p[1] * 10.0 + t[1] * p[0]))
    assert ft.grad(scaled)(3.0) == 20.0  # the rule receives the default as primals[1]
    assert ft.grad(lambda x: scaled(x, y=4.0))(3.0) == 40.0

    @ft.custom_vjp
    def prod(x, y=3.0):
        return x * y

    prod.defvjp(lambda x, y: (prod(x, y), y), lambda y, ct: (ct * y, None))
    assert (ft.grad(prod)(2.0), ft.grad(lambda x: prod(x, y=5.0))(2.0)) == (3.0, 5.0)

    @ft.custom_jvp
    def keyword(x, *, s=2.0):
        return x * s

    keyword.defjvp(lambda p, t: (keyword(*p), t[0] * 2.0))
    assert ft.grad(keyword)(1.0) == 2.0
    with pytest.raises(TypeError, match=r"keyword-only argument\(s\) \['s'\] cannot reach the rules"):
        ft.grad(lambda x: keyword(x, s=3.0))(1.0)  # the rule would not see s = 3


def test_a_bound_method_whose_instance_holds_a_traced_value_is_a_closure():
    # the tracer sits on self, not in a closure cell: the derivative with respect to it was
    # silently 0 (and a leaked tracer under jit)
    class Model:
        def __init__(self, w):
            self.w = w

        def f(self, x):
            return fnp.sin(self.w * x)

        def rule(self, primals, tangents):
            return fnp.sin(self.w * primals[0]), fnp.cos(self.w * primals[0]) * self.w * tangents[0]

    def g(x, w):
        model = Model(w)
        f = ft.custom_jvp(model.f)
        f.defjvp(model.rule)
        return f(x)

    expected = (np.cos(0.6) * 2.0, np.cos(0.6) * 0.3)
    np.testing.assert_allclose(ft.grad(g, argnums=(0, 1))(0.3, 2.0), expected, rtol=1e-14)
    np.testing.assert_allclose(ft.jit(ft.grad(g, argnums=(0, 1)))(0.3, 2.0), expected, rtol=1e-14)


# -- a rule's primal output is checked against the function's own output ---------------------

def _loss_of(f):
    return lambda x: fnp.sum(f(x))


_X3 = np.array([0.5, -1.0, 2.0])
# every way a rule's primal output reaches a result: each must refuse a wrong one
_MODES = {
    "grad": lambda f: ft.grad(_loss_of(f))(_X3),
    "value_and_grad": lambda f: ft.value_and_grad(_loss_of(f))(_X3),
    "vjp": lambda f: ft.vjp(f, _X3)[0],
    "linearize": lambda f: ft.linearize(f, _X3)[0],
    "jit(grad)": lambda f: ft.jit(ft.grad(_loss_of(f)))(_X3),
    "grad(jit)": lambda f: ft.grad(ft.jit(_loss_of(f)))(_X3),
    "vmap(grad)": lambda f: ft.vmap(ft.grad(_loss_of(f)))(np.stack([_X3, _X3])),
    "grad(vmap)": lambda f: ft.grad(lambda xs: fnp.sum(ft.vmap(f)(xs)))(np.stack([_X3, _X3])),
    "grad(grad)": lambda f: ft.grad(lambda x: fnp.sum(ft.grad(_loss_of(f))(x)))(_X3),
    "jacrev": lambda f: ft.jacrev(f)(_X3),
}


def _sine_with_fwd(first_row_only):
    @ft.custom_vjp
    def sine(x):
        return fnp.sin(x)

    cut = (lambda y: y[:1]) if first_row_only else (lambda y: y)
    sine.defvjp(lambda x: (cut(fnp.sin(x)), fnp.cos(x)), lambda cos_x, ct: (cos_x * ct,))
    return sine


def _sine_with_jvp(first_row_only):
    @ft.custom_jvp
    def sine(x):
        return fnp.sin(x)

    cut = (lambda y: y[:1]) if first_row_only else (lambda y: y)
    sine.defjvp(lambda p, t: (cut(fnp.sin(p[0])), cut(fnp.cos(p[0]) * t[0])))
    return sine


@pytest.mark.parametrize("mode", list(_MODES))
@pytest.mark.parametrize("kind", ["custom_vjp", "custom_jvp"])
def test_a_rules_primal_output_of_another_shape_is_refused_in_every_mode(kind, mode):
    # the rule's sin(x)[:1] was returned as the value (sin(0.5) for a sum of three sines)
    # and broadcast against cotangents of shape (3,)
    make = _sine_with_fwd if kind == "custom_vjp" else _sine_with_jvp
    rule = "fwd" if kind == "custom_vjp" else "the JVP rule"
    with pytest.raises(errors.CustomRuleError, match=re.escape(
            f"{kind}(sine): {rule} returned a primal output of shape (1,) and dtype float64 for "
            "output, but the function's output has shape (3,) and dtype float64.")):
        _MODES[mode](make(True))
    got = _MODES[mode](make(False))  # the right rule: the plain function's derivatives
    want = _MODES[mode](fnp.sin)
    for g, w in zip(ft.tree.leaves(got), ft.tree.leaves(want)):
        np.testing.assert_allclose(g, w, rtol=1e-14)


def test_a_custom_jvp_rules_primal_of_another_shape_is_named_before_its_tangent():
    f = _sine_with_jvp(False)
    f.defjvp(lambda p, t: (fnp.sin(p[0])[:1], fnp.cos(p[0]) * t[0]))
    with pytest.raises(errors.CustomRuleError, match=re.escape("primal output of shape (1,)")):
        ft.jvp(f, (_X3,), (np.ones(3),))


def test_fwd_output_of_another_structure_or_dtype_is_refused():
    # fwd's one array where the function returns a pair: g(x)[0] indexed its first row
    pair = ft.custom_vjp(lambda x: (fnp.sin(x), x))
    pair.defvjp(lambda x: (fnp.sin(x), fnp.cos(x)), lambda cos_x, ct: (cos_x * ct[0],))
    with pytest.raises(errors.CustomRuleError, match=re.escape(
            "fwd's output has structure PyTreeDef(*), but the function's output has structure "
            "PyTreeDef((*, *)). They must match. fwd must return (output, residuals)")):
        ft.value_and_grad(lambda x: fnp.sum(pair(x)[0]))(np.ones(3))
    # float32 where the function gives float64: the value would change precision under grad
    twice = ft.custom_vjp(lambda x: x * 2)
    twice.defvjp(lambda x: ((x * 2).astype(np.float32), None), lambda _, ct: (ct * 2,))
    with pytest.raises(errors.CustomRuleError, match=re.escape(
            "fwd returned a primal output of shape (3,) and dtype float32 for output, but the "
            "function's output has shape (3,) and dtype float64.")):
        ft.grad(_loss_of(twice))(np.ones(3))
    # a JVP rule's primal of another dtype in a pytree output: named by its key path
    h = ft.custom_jvp(lambda x: {"a": x, "b": x * 2})
    h.defjvp(lambda p, t: ({"a": p[0], "b": (p[0] * 2).astype(np.float32)}, {"a": t[0], "b": t[0] * 2}))
    with pytest.raises(errors.CustomRuleError, match=re.escape(
            "returned a primal output of shape (3,) and dtype float32 for output['b']")):
        ft.jvp(h, (np.ones(3),), (np.ones(3),))


def test_a_python_number_as_fwds_primal_output_takes_the_functions_dtype():
    @ft.custom_vjp
    def total(x):
        return fnp.sum(x)

    total.defvjp(lambda x: (3.0, None), lambda _, ct: (ct * fnp.ones(3, np.float32),))
    value, grad = ft.value_and_grad(total)(np.ones(3, np.float32))
    assert value == 3.0 and value.dtype == np.float32
    np.testing.assert_array_equal(grad, [1.0, 1.0, 1.0])


def test_the_function_is_recorded_once_per_signature_for_the_check():
    traced = []

    @ft.custom_vjp
    def f(x):
        traced.append(x.shape)
        return fnp.sin(x)

    f.defvjp(lambda x: (fnp.sin(x), fnp.cos(x)), lambda cos_x, ct: (cos_x * ct,))
    for x in [np.ones(3), np.zeros(3), np.ones(2), np.full(3, 2.0)]:
        np.testing.assert_allclose(ft.grad(_loss_of(f))(x), np.cos(x), rtol=1e-15)
    assert traced == [(3,), (2,)]


def test_a_function_that_needs_its_values_is_run_on_them_for_the_check():
    # Python control flow on a value: not recordable abstractly, so run on the values (once
    # per signature), computing no derivative (grad of grad: float(x) on the outer variable)
    runs = []

    def make(fwd_out):
        @ft.custom_vjp
        def f(x):
            runs.append(type(x).__name__)
            return fnp.sin(x) if float(fnp.sum(x)) > 0 else fnp.cos(x)

        f.defvjp(lambda x: (fwd_out(x), fnp.cos(x)), lambda cos_x, ct: (cos_x * ct,))
        return f

    good = make(fnp.sin)
    assert ft.value_and_grad(_loss_of(good))(_X3)[0] == pytest.approx(np.sum(np.sin(_X3)))
    assert runs == ["Var", "ndarray"]  # the recording refused, then the run on the values
    np.testing.assert_allclose(ft.grad(_loss_of(good))(_X3 + 1.0), np.cos(_X3 + 1.0), rtol=1e-15)
    assert len(runs) == 2
    hessian_diagonal = ft.grad(lambda x: fnp.sum(ft.grad(_loss_of(make(fnp.sin)))(x)))(_X3)
    np.testing.assert_allclose(hessian_diagonal, -np.sin(_X3), rtol=1e-15)
    bad = make(lambda x: fnp.sin(x)[1:])
    for _ in range(2):  # the second time from the types kept for the signature
        with pytest.raises(errors.CustomRuleError, match=re.escape("shape (2,) and dtype float64 for output, "
                                                                   "but the function's output has shape (3,)")):
            ft.grad(_loss_of(bad))(_X3)
    # where its values are not known (vmap) and it was never run on this signature
    with pytest.raises(errors.CustomRuleError, match=r"needs the values of its arguments .* Write it with "
                                                     r"functrans\.numpy\.where"):
        ft.vmap(ft.grad(_loss_of(make(fnp.sin))))(np.stack([_X3, _X3]))


def test_the_output_types_of_a_function_run_on_values_are_found_again_before_refusing():
    # the output's shape depends on the values: kept types of another call are not the fault
    @ft.custom_vjp
    def head(x):
        return x[:int(x[0])] * 2

    head.defvjp(lambda x: (x[:int(x[0])] * 2, x.shape[0]),
                lambda size, ct: (fnp.concatenate([ct * 2, fnp.zeros(size - ct.shape[0])]),))
    for n in (2, 3):
        x = np.array([float(n), 1.0, 1.0, 1.0])
        np.testing.assert_array_equal(ft.grad(_loss_of(head))(x), [2.0] * n + [0.0] * (4 - n))


def test_a_custom_vjp_closing_over_a_traced_value_checks_fwd_against_its_recording():
    def loss(y):
        @ft.custom_vjp
        def scaled(x):
            return fnp.sin(x) * y

        scaled.defvjp(lambda x: ((fnp.sin(x) * y)[:2], None), lambda _, ct: (ct,))
        return fnp.sum(scaled(y))

    with pytest.raises(errors.CustomRuleError, match=re.escape("shape (2,) and dtype float64 for output, "
                                                               "but the function's output has shape (3,)")):
        ft.grad(loss)(_X3)


@pytest.mark.parametrize("mode", ["grad", "jit(grad)", "vmap(grad)"])
def test_bwd_cotangent_of_fewer_elements_is_refused_not_broadcast(mode):
    @ft.custom_vjp
    def twice(x):
        return x * 2

    twice.defvjp(lambda x: (x * 2, None), lambda _, ct: (ct[:1] * 2,))
    with pytest.raises(errors.CustomRuleError, match=re.escape(
            "cotangent returned by bwd for argument 0 has shape (1,), but it must have shape (3,)")):
        _MODES[mode](twice)


def test_each_defjvps_rule_is_checked_before_the_sum_would_broadcast_it():
    @ft.custom_jvp
    def product(x, y):
        return x * y

    product.defjvps(lambda tx, out, x, y: (tx * y)[:1], lambda ty, out, x, y: ty * x)
    with pytest.raises(errors.CustomRuleError, match=re.escape(
            "the tangent of defjvps rule 0 for output has shape (1,), but it must have shape (3,)")):
        ft.jvp(product, (_X3, _X3), (np.ones(3), np.ones(3)))
    product.defjvps(lambda tx, out, x, y: tx * y, lambda ty, out, x, y: (ty * x).astype(np.float32))
    with pytest.raises(errors.CustomRuleError, match="tangent of defjvps rule 1 for output has dtype float32"):
        ft.grad(lambda x: fnp.sum(product(x, x)))(_X3)


def test_defjvps_needs_one_rule_per_differentiable_argument():
    # one rule for two arguments: the second got a derivative of 0
    @ft.custom_jvp
    def product(x, y):
        return x * y

    for rules in [(lambda tx, out, x, y: tx * y,), (lambda tx, out, x, y: tx * y, None, None)]:
        product.defjvps(*rules)
        with pytest.raises(errors.CustomRuleError, match=re.escape(
                f"defjvps was given {len(rules)} rule(s), but the call has 2 differentiable argument(s)")):
            ft.grad(lambda y: fnp.sum(product(_X3, y)))(_X3)
    product.defjvps(lambda tx, out, x, y: tx * y, None)  # None: no dependence, said explicitly
    np.testing.assert_array_equal(ft.grad(lambda y: fnp.sum(product(_X3, y)))(_X3), [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(ft.grad(lambda x: fnp.sum(product(x, _X3)))(_X3), _X3)


@pytest.mark.parametrize("decorator", [ft.custom_vjp, ft.custom_jvp])
def test_nondiff_argnums_out_of_range_or_negative_is_refused(decorator):
    # a negative position was both a nondiff argument and a differentiable one; one past the
    # arguments failed with an IndexError
    with pytest.raises(ValueError, match=r"nondiff_argnums=\(-1,\) must be non-negative"):
        decorator(lambda s, x: x * s, nondiff_argnums=(-1,))
    f = decorator(lambda s, x: x * s, nondiff_argnums=(2,))
    if decorator is ft.custom_vjp:
        f.defvjp(lambda s, x: (x * s, None), lambda s, _, ct: (ct * s,))
    else:
        f.defjvp(lambda s, p, t: (p[0] * s, t[0] * s))
    with pytest.raises(errors.CustomRuleError, match=re.escape(
            "nondiff_argnums=(2,) names argument 2, but the call has 2 positional argument(s)")):
        ft.grad(lambda x: fnp.sum(f(2.0, x)))(_X3)
    g = decorator(lambda s, x: x * s, nondiff_argnums=0)  # one position, as an int
    if decorator is ft.custom_vjp:
        g.defvjp(lambda s, x: (x * s, None), lambda s, _, ct: (ct * s,))
    else:
        g.defjvp(lambda s, p, t: (p[0] * s, t[0] * s))
    np.testing.assert_array_equal(ft.grad(lambda x: fnp.sum(g(2.0, x)))(_X3), [2.0, 2.0, 2.0])


@pytest.mark.parametrize("mode", ["grad", "jit(grad)", "vmap(grad)", "grad(grad)"])
def test_a_float64_tangent_for_a_float32_output_is_refused_in_every_mode(mode):
    # as JAX: the tangent has the primal's tangent dtype (a float64 one would widen the result)
    @ft.custom_jvp
    def twice(x):
        return x * 2

    twice.defjvp(lambda p, t: (p[0] * 2, (t[0] * 2).astype(np.float64)))
    x = _X3.astype(np.float32)
    run = {"grad": lambda: ft.grad(_loss_of(twice))(x),
           "jit(grad)": lambda: ft.jit(ft.grad(_loss_of(twice)))(x),
           "vmap(grad)": lambda: ft.vmap(ft.grad(_loss_of(twice)))(np.stack([x, x])),
           "grad(grad)": lambda: ft.grad(lambda x: fnp.sum(ft.grad(_loss_of(twice))(x)))(x)}[mode]
    with pytest.raises(errors.CustomRuleError, match=r"tangent for output has dtype float64, but it must "
                                                     r"have the dtype of the value it belongs to, float32"):
        run()


def test_a_python_scalar_under_jit_stays_weakly_typed_in_the_functions_recording():
    # jit traces 2.0 as a weak scalar: x * s is float32 in the rule, and must be in the
    # recording the rule's output is checked against (float64 there was a false refusal)
    @ft.custom_jvp
    def scale(x, s):
        return x * s

    scale.defjvp(lambda p, t: (p[0] * p[1], t[0] * p[1]))
    x = np.ones(3, np.float32)
    got = ft.jit(ft.grad(lambda x, s: fnp.sum(scale(x, s))))(x, 2.0)
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, [2.0, 2.0, 2.0])


# --- Python scalars keep their weak type through the custom rules --------------------------------
def _scaled_sin(kind: str, style: str):
    """``sin(x) * c`` as a custom_jvp or custom_vjp taking ``c`` (a Python scalar in the tests)
    by ``style``: positional, keyword, in a dict, or in nondiff_argnums; and the function of
    ``(x, c)`` that calls it so."""
    def fun(x, c):
        return fnp.sin(x) * (c["c"] if style == "pytree" else c)

    def jvp_rule(*args):
        *nondiff, primals, tangents = args
        if nondiff:
            (x,), (tx,), c, tc = primals, tangents, nondiff[0], 0.0
        else:
            (x, c), (tx, tc) = primals, tangents
        out = fun(x, c)
        if style == "pytree":
            c, tc = c["c"], tc["c"]
        return out, fnp.cos(x) * c * tx + fnp.sin(x) * tc

    def fwd(x, c):
        return fun(x, c), (x, c)

    def bwd(*args):
        *nondiff, (x, c), ct = args
        c = nondiff[0] if nondiff else c
        c = c["c"] if style == "pytree" else c
        ct_x = ct * fnp.cos(x) * c
        if nondiff:
            return (ct_x,)
        ct_c = fnp.sum(ct * fnp.sin(x))
        return ct_x, {"c": ct_c} if style == "pytree" else ct_c

    nondiff = (1,) if style == "nondiff" else ()
    if kind == "plain":
        custom = fun
    elif kind == "custom_jvp":
        custom = ft.custom_jvp(fun, nondiff_argnums=nondiff)
        custom.defjvp(jvp_rule)
    else:
        custom = ft.custom_vjp(fun, nondiff_argnums=nondiff)
        custom.defvjp(fwd, bwd)
    if style == "keyword":
        return lambda x, c: custom(x, c=c)
    if style == "pytree":
        return lambda x, c: custom(x, {"c": c})
    return custom


def _sum_of(f):
    return lambda x, c: fnp.sum(f(x, c))


_SCALAR_MODES = {
    "eager": lambda f, x, c: f(x, c),
    "jit": lambda f, x, c: ft.jit(f)(x, c),
    "grad": lambda f, x, c: ft.grad(lambda x: fnp.sum(f(x, c)))(x),
    "jit(grad)": lambda f, x, c: ft.jit(ft.grad(_sum_of(f)))(x, c),
    "vmap": lambda f, x, c: ft.vmap(f, (0, None))(np.stack([x, -x]), c),
    "jit(vmap)": lambda f, x, c: ft.jit(ft.vmap(f, (0, None)))(np.stack([x, -x]), c),
    "vmap(grad)": lambda f, x, c: ft.vmap(ft.grad(_sum_of(f)), (0, None))(np.stack([x, -x]), c),
    "grad(vmap)": lambda f, x, c: ft.grad(lambda x: fnp.sum(ft.vmap(f, (0, None))(x, c)))(np.stack([x, -x])),
    "jit(grad(vmap))": lambda f, x, c: ft.jit(ft.grad(_sum_of(ft.vmap(f, (0, None)))))(np.stack([x, -x]), c),
    "jit(vmap(grad))": lambda f, x, c: ft.jit(ft.vmap(ft.grad(_sum_of(f)), (0, None)))(np.stack([x, -x]), c),
    "jvp": lambda f, x, c: ft.jvp(lambda x: f(x, c), (x,), (np.ones_like(x),)),
    "jit(jvp)": lambda f, x, c: ft.jit(lambda x, c: ft.jvp(lambda x: f(x, c), (x,), (np.ones_like(x),)))(x, c),
    "jit(grad) of c": lambda f, x, c: ft.jit(ft.grad(_sum_of(f), argnums=1))(x, c),
    "jit(vmap(grad)) of c": lambda f, x, c: ft.jit(ft.vmap(ft.grad(_sum_of(f), argnums=1), (0, None)))(
        np.stack([x, -x]), c),
}


@pytest.mark.parametrize("mode", list(_SCALAR_MODES))
@pytest.mark.parametrize("style", ["positional", "keyword", "pytree", "nondiff"])
@pytest.mark.parametrize("kind", ["custom_jvp", "custom_vjp"])
def test_a_python_scalar_argument_gives_the_plain_functions_dtypes_and_values(kind, style, mode):
    # c = 2.0 or 3 is weakly typed, as in the function called without rules: sin(x32) * c is
    # float32 in every mode (it was float64, or a refused rule, once c became an array)
    if mode.endswith("of c") and style == "nondiff":
        pytest.skip("an argument in nondiff_argnums has no derivative")
    if "jvp" in mode and kind == "custom_vjp":
        pytest.skip("a custom_vjp has no forward mode")
    if "jit" in mode and kind == "custom_vjp" and style == "nondiff":
        pytest.skip("jit traces the scalar, which a custom_vjp refuses in nondiff_argnums, as JAX")
    run = _SCALAR_MODES[mode]
    custom, plain = _scaled_sin(kind, style), _scaled_sin("plain", style)
    for x in (X.astype(np.float32), X):
        for c in (2.0, 3):
            if mode.endswith("of c") and isinstance(c, int):
                continue
            got, expected = run(custom, x, c), run(plain, x, c)
            for g, e in zip(ft.tree.leaves(got), ft.tree.leaves(expected)):
                assert g.dtype == e.dtype, (x.dtype, c, g, e)
                np.testing.assert_allclose(g, e, rtol=1e-6 if x.dtype == np.float32 else 1e-14)


@pytest.mark.parametrize("mode", ["grad", "jit(grad)", "vmap(grad)", "jit(vmap)", "grad(vmap)"])
@pytest.mark.parametrize("kind", ["custom_jvp", "custom_vjp"])
def test_a_python_scalar_argument_stays_weak_in_the_staged_rules_of_a_closure(kind, mode):
    # a function closing over y (traced) has its rules staged: c stays weakly typed there too
    def loss(y, c):
        f = _scaled_sin(kind, "positional")
        closing = type(f)(lambda x, c: f.fun(x, c) * y)
        if kind == "custom_jvp":
            closing.defjvp(lambda p, t: (closing(*p), f.jvp(p, t)[1] * y))
        else:
            closing.defvjp(lambda x, c: (closing(x, c), (x, c)),
                           lambda res, ct: f.bwd(res, ct * y))
        return fnp.sum(closing(y, c))

    plain = lambda y, c: fnp.sum(fnp.sin(y) * c * y)
    run = {"grad": lambda f, x, c: ft.grad(f)(x, c),
           "jit(grad)": lambda f, x, c: ft.jit(ft.grad(f))(x, c),
           "vmap(grad)": lambda f, x, c: ft.vmap(ft.grad(f), (0, None))(np.stack([x, -x]), c),
           "jit(vmap)": lambda f, x, c: ft.jit(ft.vmap(f, (0, None)))(np.stack([x, -x]), c),
           "grad(vmap)": lambda f, x, c: ft.grad(lambda x: fnp.sum(ft.vmap(f, (0, None))(x, c)))(
               np.stack([x, -x]))}[mode]
    x = X.astype(np.float32)
    for c in (2.0, 3):
        got, expected = run(loss, x, c), run(plain, x, c)
        assert got.dtype == expected.dtype == np.float32, (c, got, expected)
        np.testing.assert_allclose(got, expected, rtol=1e-6)


# --- integer outputs have no derivative --------------------------------------------------------
def _with_count(count_tangent):
    """``(sin(x), round(x) as ints)`` with a custom_jvp whose rule gives the integer output
    the tangent ``count_tangent(tx, count)``."""
    @ft.custom_jvp
    def f(x):
        return fnp.sin(x), fnp.round(x).astype(np.int64)

    @f.defjvp
    def _(primals, tangents):
        (x,), (tx,) = primals, tangents
        out = f(x)
        return out, (fnp.cos(x) * tx, count_tangent(tx, out[1]))

    return f


_INTEGER_MODES = {
    "jvp": lambda f: ft.jvp(f, (X,), (np.ones(3),)),
    "jit(jvp)": lambda f: ft.jit(lambda x: ft.jvp(f, (x,), (np.ones(3),)))(X),
    "vmap(jvp)": lambda f: ft.vmap(lambda x: ft.jvp(f, (x,), (fnp.ones_like(x),)))(np.stack([X, -X])),
    "grad": lambda f: ft.grad(lambda x: fnp.sum(f(x)[0] + f(x)[1].astype(np.float64)))(X),
    "jit(grad)": lambda f: ft.jit(ft.grad(lambda x: fnp.sum(f(x)[0] + f(x)[1].astype(np.float64))))(X),
}


@pytest.mark.parametrize("mode", list(_INTEGER_MODES))
def test_a_float_tangent_for_an_integer_output_is_refused_in_every_mode(mode):
    # it would pass a derivative on through the integer value (as JAX, which wants float0)
    f = _with_count(lambda tx, count: tx * 5.0)
    with pytest.raises(errors.CustomRuleError, match=r"tangent for output\[1\] has dtype float64, but that "
                                                     r"output has the int64 dtype, which has no derivative"):
        _INTEGER_MODES[mode](f)


@pytest.mark.parametrize("mode", list(_INTEGER_MODES))
@pytest.mark.parametrize("tangent", ["zeros", "nonzero ints", "bool zeros"])
def test_an_integer_outputs_tangent_is_zero_as_for_any_other_function(mode, tangent):
    count_tangent = {"zeros": lambda tx, count: fnp.zeros_like(count),
                     "nonzero ints": lambda tx, count: fnp.ones_like(count) * 7,
                     "bool zeros": lambda tx, count: fnp.zeros(count.shape, bool)}[tangent]
    plain = lambda x: (fnp.sin(x), fnp.round(x).astype(np.int64))
    got, expected = _INTEGER_MODES[mode](_with_count(count_tangent)), _INTEGER_MODES[mode](plain)
    for g, e in zip(ft.tree.leaves(got), ft.tree.leaves(expected)):
        assert g.dtype == e.dtype
        np.testing.assert_allclose(g, e, rtol=1e-14)


def test_defjvps_rules_are_checked_for_integer_outputs_too():
    @ft.custom_jvp
    def f(x):
        return fnp.sin(x), fnp.round(x).astype(np.int64)

    f.defjvps(lambda t, out, x: (fnp.cos(x) * t, t * 5.0))
    with pytest.raises(errors.CustomRuleError, match=r"tangent for output\[1\] has dtype float64"):
        ft.jvp(f, (X,), (np.ones(3),))
    f.defjvps(lambda t, out, x: (fnp.cos(x) * t, fnp.ones_like(out[1])))
    _, (t_sin, t_count) = ft.jvp(f, (X,), (np.ones(3),))
    np.testing.assert_allclose(t_sin, np.cos(X))
    assert t_count.dtype == np.int64
    np.testing.assert_array_equal(t_count, 0)


@pytest.mark.parametrize("kind", ["custom_jvp", "custom_vjp"])
def test_rules_with_a_python_scalar_argument_match_finite_differences(kind):
    f = _scaled_sin(kind, "positional")
    modes = ("fwd", "rev") if kind == "custom_jvp" else ("rev",)
    check_grads(lambda x: f(x, 2.0), (X,), order=1, modes=modes)
    check_grads(lambda x: ft.jit(f)(x, 2.0), (X,), order=1, modes=modes)
    check_grads(lambda x, c: f(x, c), (X, 2.0), order=1, modes=modes)


@pytest.mark.parametrize("kind", ["custom_jvp", "custom_vjp"])
def test_the_recorded_dtype_of_a_call_with_a_python_scalar_is_the_one_jit_computes(kind):
    # the call's shape rule recorded 2.0 as a float64 array: eval_shape and jit's program said
    # float64 where the program computes float32
    f, x = _scaled_sin(kind, "positional"), X.astype(np.float32)
    assert ft.eval_shape(f, x, 2.0).dtype == ft.jit(f)(x, 2.0).dtype == np.float32
    assert ft.eval_shape(ft.vmap(f, (0, None)), np.stack([x, x]), 2.0).dtype == np.float32
