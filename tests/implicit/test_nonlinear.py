"""fixed_point and root: implicit gradients against gradients of the same solver unrolled to
convergence and against finite differences, in both modes and to second order, under jit and
vmap, on both backends; the recorded program does not grow with the iterations; errors."""
from __future__ import annotations

import re

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans.implicit import NotConvergedError, fixed_point, root
from functrans.interpreters.linearize import linearize_flat
from functrans.testing import check_grads

RNG = np.random.default_rng(1)
W = RNG.standard_normal((4, 4)) * 0.3  # a contraction: tanh is 1-Lipschitz, ||W|| < 1
B = RNG.standard_normal(4)


def layer(x, w, b):
    return fnp.tanh(w @ x + b)


def equilibrium(w, b, tol=1e-12):
    return fixed_point(layer, fnp.zeros_like(b), w, b, tol=tol)


def unrolled(w, b, steps=200):
    x = fnp.zeros_like(b)
    for _ in range(steps):
        x = layer(x, w, b)
    return x


def loss(w, b):
    return fnp.sum(equilibrium(w, b) ** 2)


def test_fixed_point_value_and_gradients_equal_the_unrolled_iteration():
    np.testing.assert_allclose(equilibrium(W, B), unrolled(W, B), atol=1e-12)
    implicit = ft.grad(loss, argnums=(0, 1))(W, B)
    unroll = ft.grad(lambda w, b: fnp.sum(unrolled(w, b) ** 2), argnums=(0, 1))(W, B)
    for got, want in zip(implicit, unroll):
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ft.jacfwd(equilibrium, argnums=1)(W, B),
                               ft.jacfwd(unrolled, argnums=1)(W, B), rtol=1e-9, atol=1e-12)


def test_fixed_point_against_finite_differences_to_second_order(backend):
    args = backend.put((W, B))
    check_grads(equilibrium, args, order=2, modes=("rev",))
    check_grads(equilibrium, args, order=1, modes=("fwd",))
    backend.check_placed(ft.grad(loss)(*args))


def test_fixed_point_under_jit_and_vmap(backend):
    w, b = backend.put((W, B))
    bs = backend.put(RNG.standard_normal((3, 4)))
    want = ft.grad(loss, argnums=1)(W, B)
    np.testing.assert_allclose(backend.get(ft.jit(ft.grad(loss, argnums=1))(w, b)), want, rtol=1e-12)
    np.testing.assert_allclose(backend.get(ft.jit(equilibrium)(w, b)), equilibrium(W, B), rtol=1e-12)
    per_example = ft.vmap(ft.grad(loss, argnums=1), in_axes=(None, 0))(w, bs)
    for i in range(3):
        np.testing.assert_allclose(backend.get(per_example)[i], ft.grad(loss, argnums=1)(W, backend.get(bs)[i]),
                                   rtol=1e-10)


def test_fixed_point_of_a_pytree_with_closed_over_parameters():
    def g(x, scale):
        return {"a": fnp.cos(x["b"]) * scale, "b": 0.5 * fnp.sin(x["a"]) + B[:2] * 0.1}

    def out(scale):
        x = fixed_point(g, {"a": fnp.zeros(2), "b": fnp.zeros(2)}, scale)
        return fnp.sum(x["a"]) + fnp.sum(x["b"] ** 2)

    def out_unrolled(scale):
        x = {"a": fnp.zeros(2), "b": fnp.zeros(2)}
        for _ in range(200):
            x = g(x, scale)
        return fnp.sum(x["a"]) + fnp.sum(x["b"] ** 2)

    np.testing.assert_allclose(ft.grad(out)(np.array(0.7)), ft.grad(out_unrolled)(np.array(0.7)), rtol=1e-9)


def test_the_recorded_program_does_not_grow_with_the_iterations():
    def size(tol):
        _, program = linearize_flat(lambda ts: [fnp.sum(equilibrium(ts[0], B, tol) ** 2)], [W], "test")
        return len(program.eqns)

    calls = []

    def counting_layer(x, w, b):
        calls.append(1)
        return layer(x, w, b)

    fixed_point(counting_layer, np.zeros(4), W, B, tol=1e-3)
    few = len(calls)
    calls.clear()
    fixed_point(counting_layer, np.zeros(4), W, B, tol=1e-14)
    assert len(calls) > 2 * few  # many more iterations ...
    assert size(1e-3) == size(1e-14)  # ... and the same program under grad


def test_fixed_point_that_does_not_converge_raises():
    with pytest.raises(NotConvergedError, match="max_iter=20"):
        fixed_point(lambda x, a: 2 * x + a, np.ones(2), 1.0, max_iter=20)
    with pytest.raises(NotConvergedError, match="contraction"):
        ft.jit(lambda a: fixed_point(lambda x, a: 2 * x + a, np.ones(2), a, max_iter=20))(1.0)


def test_fixed_point_with_a_user_solver_and_a_user_linear_solver():
    def anderson_free(step, x):  # any solver: here plain iteration written by the user
        for _ in range(500):
            x = step(x)
        return x

    def dense(matvec, y):
        return fnp.linalg.solve(ft.jacfwd(matvec)(fnp.zeros_like(y)), y)

    g = ft.grad(lambda b: fnp.sum(fixed_point(layer, np.zeros(4), W, b, solver=anderson_free,
                                              linear_solver=dense) ** 2))(B)
    np.testing.assert_allclose(g, ft.grad(loss, argnums=1)(W, B), rtol=1e-10)


# -- root ----------------------------------------------------------------------------------------


def system(x, p):
    """x0^2 + x1^2 = p0, x0 - x1 = p1: a circle cut by a line."""
    return fnp.stack([x[0] ** 2 + x[1] ** 2 - p[0], x[0] - x[1] - p[1]])


P = np.array([5.0, 1.0])
X0 = np.array([1.5, 0.5])


def newton_unrolled(p, steps=30):
    x = fnp.asarray(X0)
    for _ in range(steps):
        x = x - fnp.linalg.solve(ft.jacfwd(system)(x, p), system(x, p))
    return x


def test_root_value_and_gradients_equal_unrolled_newton(backend):
    p = backend.put(P)
    x = root(system, backend.put(X0), p)
    np.testing.assert_allclose(backend.get(x), [2.0, 1.0], rtol=1e-12)
    np.testing.assert_allclose(backend.get(ft.jacrev(lambda p: root(system, backend.put(X0), p))(p)),
                               ft.jacrev(newton_unrolled)(P), rtol=1e-10)
    check_grads(lambda p: root(system, backend.put(X0), p), (p,), order=2)


def test_root_under_jit_vmap_and_with_a_user_solver():
    ps = np.array([[5.0, 1.0], [13.0, 1.0]])
    roots = ft.jit(ft.vmap(lambda p: root(system, X0, p)))(ps)
    np.testing.assert_allclose(roots, [[2.0, 1.0], [3.0, 2.0]], rtol=1e-10)

    def bisection_free(f, x):  # a user solver: a fixed number of Newton steps
        for _ in range(20):
            x = x - fnp.linalg.solve(ft.jacfwd(f)(x), f(x))
        return x

    g = ft.grad(lambda p: fnp.sum(root(system, X0, p, solver=bisection_free)))(P)
    np.testing.assert_allclose(g, ft.grad(lambda p: fnp.sum(newton_unrolled(p)))(P), rtol=1e-10)


def test_root_of_a_large_system_takes_newton_steps_by_gmres():
    a = np.linspace(0.5, 2.0, 250)
    f = lambda x, a: x + 0.5 * fnp.tanh(x) - a
    x = root(f, np.zeros(250), a)
    np.testing.assert_allclose(f(x, a), 0.0, atol=1e-9)
    g = ft.grad(lambda a: fnp.sum(root(f, np.zeros(250), a)))(a)
    np.testing.assert_allclose(g, 1 / (1 + 0.5 / np.cosh(x) ** 2), rtol=1e-7)


def test_root_that_does_not_converge_raises():
    with pytest.raises(NotConvergedError, match="max_iter=10"):
        root(lambda x, a: x ** 2 + a, np.array(0.5), 1.0, max_iter=10)  # no real root
    with pytest.raises(NotConvergedError, match="singular"):
        root(lambda x, a: x ** 2 + a, np.array(1.0), 1.0)  # the first step lands on x = 0


def test_vmap_solves_the_batch_at_once_in_one_equation():
    bs = RNG.standard_normal((5, 4))

    def count(batch):
        jaxpr = ft.make_jaxpr(ft.vmap(lambda b: equilibrium(W, b)))(batch)
        return [e.prim.name for e in jaxpr.eqns].count("custom_root"), len(jaxpr.eqns)

    assert count(bs) == count(bs[:2]) and count(bs)[0] == 1  # not one solve per example
    ws = np.stack([W, 0.5 * W, -W])
    per_example = ft.vmap(lambda w: ft.grad(loss)(w, B))(ws)  # the matrix batched, x0 not
    for i in range(3):
        np.testing.assert_allclose(per_example[i], ft.grad(loss)(ws[i], B), rtol=1e-9)
    roots = ft.vmap(lambda p: root(system, X0, p))(np.array([[5.0, 1.0], [13.0, 1.0]]))
    np.testing.assert_allclose(roots, [[2.0, 1.0], [3.0, 2.0]], rtol=1e-10)


def test_float32_stops_at_its_resolution_and_keeps_its_dtype(backend):
    w, b = backend.put((W.astype(np.float32), B.astype(np.float32)))
    x = fixed_point(layer, backend.put(np.zeros(4, np.float32)), w, b)  # tol=1e-10 is finer than float32
    assert x.dtype == np.float32
    np.testing.assert_allclose(backend.get(x), equilibrium(W, B), atol=1e-5)
    g = ft.grad(lambda b: fnp.sum(fixed_point(layer, fnp.zeros_like(b), w, b) ** 2))(b)
    assert g.dtype == np.float32
    np.testing.assert_allclose(backend.get(g), ft.grad(loss, argnums=1)(W, B), rtol=1e-4, atol=1e-5)
    r = root(system, backend.put(X0.astype(np.float32)), backend.put(P.astype(np.float32)), tol=1e-12)
    np.testing.assert_allclose(backend.get(r), [2.0, 1.0], rtol=1e-6)


def test_a_fixed_point_whose_map_solves_another_fixed_point():
    inner = lambda x: fixed_point(lambda y, x: fnp.cos(y) * x, fnp.zeros_like(x), x)
    outer = lambda a: fixed_point(lambda x, a: 0.5 * fnp.sin(inner(x)) + a, fnp.zeros_like(a), a)
    x = outer(np.array(0.3))
    np.testing.assert_allclose(x, 0.5 * np.sin(inner(x)) + 0.3, atol=1e-12)
    check_grads(outer, (np.array(0.3),), order=2)
    np.testing.assert_allclose(ft.jit(ft.grad(outer))(0.3), ft.grad(outer)(0.3), rtol=1e-12)


@pytest.mark.parametrize("fn", ["fixed_point", "root"])
@pytest.mark.parametrize("setting,message", [
    ({"tol": -1.0}, "tol must be a number >= 0, got -1.0"),
    ({"tol": "1e-8"}, "tol must be a number >= 0"),
    ({"max_iter": 0}, "max_iter must be a positive int, got 0"),
    ({"max_iter": 2.5}, "max_iter must be a positive int, got 2.5"),
])
def test_bad_tolerance_or_iteration_limit_is_a_clear_error(fn, setting, message):
    solve = fixed_point if fn == "fixed_point" else root
    with pytest.raises(ValueError, match=re.escape(f"{fn}: {message}")):
        solve(lambda x, a: a * x, np.array(1.0), 0.5, **setting)


def test_solvers_read_device_values_only_explicitly():
    """cg, gmres, fixed_point and root decide when to stop on values they read through the
    backend's to_host: on the strict backend no bool()/float()/int() reads a device value."""
    from functrans.implicit import cg, gmres
    from functrans.testing.strict import forbid_implicit_reads, strict_array, to_numpy

    a = np.array([[4.0, 1.0, 0.0], [1.0, 3.0, 1.0], [0.0, 1.0, 2.0]])
    rhs = np.array([1.0, 2.0, 3.0])
    w, b = strict_array(W, device="strict:1"), strict_array(B, device="strict:1")
    with forbid_implicit_reads():
        solved = [solve(strict_array(a, device="strict:1"), strict_array(rhs, device="strict:1"),
                        tol=1e-12)[0] for solve in (cg, gmres)]
        point = equilibrium(w, b)
        zero = root(system, strict_array(X0, device="strict:1"), strict_array(P, device="strict:1"))
    for x in solved:
        assert x.device == "strict:1"
        np.testing.assert_allclose(to_numpy(x), np.linalg.solve(a, rhs), rtol=1e-10)
    np.testing.assert_allclose(to_numpy(point), equilibrium(W, B), rtol=1e-12)
    np.testing.assert_allclose(to_numpy(zero), root(system, X0, P), rtol=1e-12)
