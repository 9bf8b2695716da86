"""custom_root and custom_linear_solve: values, derivatives by the implicit function theorem
(against closed forms, finite differences and dense solves) in both modes and to second order,
under jit and vmap, on both backends; the solvers see only concrete values; clear errors."""
from __future__ import annotations

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans import errors
from functrans.core.trace import Tracer
from functrans.interpreters.linearize import linearize_flat
from functrans.lax import custom_linear_solve, custom_root
from functrans.lax.custom_root import batch_as_block
from functrans.testing import check_grads

RNG = np.random.default_rng(0)
A = RNG.standard_normal((3, 3)) + 3 * np.eye(3)
B = RNG.standard_normal(3)


def newton_scalar(f, x):
    for _ in range(40):
        assert not isinstance(x, Tracer)  # the solver runs on concrete values only
        x = x - f(x) / ft.grad(f)(x)
    return x


def scalar_solve(g, y):
    return y / g(1.0)


def sqrt(a):
    return custom_root(lambda x: x ** 2 - a, fnp.ones_like(a), newton_scalar, scalar_solve)


def dense_tangent_solve(g, y):
    """Solve g(t) = y for a linear g on vectors by forming its matrix."""
    return fnp.linalg.solve(ft.jacfwd(g)(fnp.zeros_like(y)), y)


def newton_vector(f, x):
    for _ in range(30):
        x = x - fnp.linalg.solve(ft.jacfwd(f)(x), f(x))
    return x


def cubic_root(a, b):
    """x with a @ x + x ** 3 / 3 = b: a square system whose solution depends on a and b."""
    f = lambda x: a @ x + x ** 3 / 3 - b
    return custom_root(f, fnp.zeros_like(b), newton_vector, dense_tangent_solve)


def test_scalar_root_value_and_derivatives_to_second_order(backend):
    a = backend.put(np.array(2.0))
    np.testing.assert_allclose(backend.get(sqrt(a)), np.sqrt(2.0), rtol=1e-14)
    np.testing.assert_allclose(backend.get(ft.grad(sqrt)(a)), 0.5 / np.sqrt(2.0), rtol=1e-13)
    np.testing.assert_allclose(backend.get(ft.grad(ft.grad(sqrt))(a)), -0.25 * 2.0 ** -1.5, rtol=1e-12)
    check_grads(sqrt, (a,), order=2)
    backend.check_placed(ft.grad(sqrt)(a))


def test_vector_root_against_finite_differences_both_modes_second_order(backend):
    args = backend.put((A, B))
    x = backend.get(cubic_root(*args))
    np.testing.assert_allclose(A @ x + x ** 3 / 3, B, atol=1e-12)
    check_grads(cubic_root, args, order=2)


def test_vector_root_gradient_equals_the_implicit_formula():
    x = cubic_root(A, B)
    jac = A + np.diag(x ** 2)  # df/dx; df/db = -I, so dx/db = jac^{-1}
    np.testing.assert_allclose(ft.jacrev(cubic_root, argnums=1)(A, B), np.linalg.inv(jac), rtol=1e-10)
    np.testing.assert_allclose(ft.jacfwd(cubic_root, argnums=1)(A, B), np.linalg.inv(jac), rtol=1e-10)


def test_jit_vmap_and_their_compositions(backend):
    a_s = backend.put(np.array([1.0, 4.0, 9.0]))
    want = 0.5 / np.sqrt([1.0, 4.0, 9.0])
    np.testing.assert_allclose(backend.get(ft.jit(sqrt)(a_s[1])), 2.0, rtol=1e-14)
    np.testing.assert_allclose(backend.get(ft.vmap(sqrt)(a_s)), [1.0, 2.0, 3.0], rtol=1e-14)
    for fn in (ft.vmap(ft.grad(sqrt)), ft.jit(ft.vmap(ft.grad(sqrt))), ft.vmap(ft.jit(ft.grad(sqrt))),
               ft.jit(ft.grad(lambda a: fnp.sum(ft.vmap(sqrt)(a))))):
        np.testing.assert_allclose(backend.get(fn(a_s)), want, rtol=1e-12)
    np.testing.assert_allclose(backend.get(ft.grad(ft.jit(sqrt))(a_s[1])), 0.25, rtol=1e-12)


def test_jit_runs_the_solver_at_each_call_on_the_new_values():
    calls = []

    def solve(f, x):
        calls.append(1)
        return newton_scalar(f, x)

    root = ft.jit(lambda a: custom_root(lambda x: x ** 2 - a, fnp.ones_like(a), solve, scalar_solve))
    assert float(root(np.array(4.0))) == pytest.approx(2.0)
    assert float(root(np.array(9.0))) == pytest.approx(3.0)
    assert len(calls) == 2  # (staging records the solve; it runs once per call, on values)
    jaxpr = ft.make_jaxpr(lambda a: custom_root(lambda x: x ** 2 - a, fnp.ones_like(a), solve, scalar_solve))
    assert "custom_root" in str(jaxpr(np.array(4.0)))


def test_reverse_mode_records_one_solve_not_the_iterations():
    def f(tracers):
        return [sqrt(tracers[0])]

    _, program = linearize_flat(f, [np.array(2.0)], "test")
    names = [e.prim.name for e in program.eqns]
    assert names.count("linear_solve") == 1 and len(names) < 10


def test_closed_over_values_of_an_outer_transformation_are_differentiated():
    # d/da [a * d/dx root(x^2 - a x)] : the inner root closes over the outer tracer a
    def inner(a):
        return ft.grad(lambda c: custom_root(lambda x: x ** 2 - a * c, fnp.ones_like(c), newton_scalar,
                                             scalar_solve))(np.array(3.0))

    # root = sqrt(a c); d/dc = sqrt(a) / (2 sqrt(c)); d/da of that = 1 / (4 sqrt(a c))
    np.testing.assert_allclose(ft.grad(inner)(np.array(2.0)), 1 / (4 * np.sqrt(6.0)), rtol=1e-10)


def test_initial_guess_gets_no_derivative_and_pytrees_work():
    def solve(f, x):
        for _ in range(40):
            jac = ft.jacfwd(lambda v: fnp.stack([f({"u": v[0], "v": v[1]})[k] for k in ("u", "v")]))(
                fnp.stack([x["u"], x["v"]]))
            fx = f(x)
            step = fnp.linalg.solve(jac, fnp.stack([fx["u"], fx["v"]]))
            x = {"u": x["u"] - step[0], "v": x["v"] - step[1]}
        return x

    def tangent_solve(g, y):
        probe = lambda v: (lambda o: fnp.stack([o["u"], o["v"]]))(g({"u": v[0], "v": v[1]}))
        t = fnp.linalg.solve(ft.jacfwd(probe)(fnp.zeros(2)), fnp.stack([y["u"], y["v"]]))
        return {"u": t[0], "v": t[1]}

    def loss(p, guess):
        f = lambda x: {"u": x["u"] + x["v"] - p, "v": x["u"] * x["v"] - 2.0}
        x = custom_root(f, guess, solve, tangent_solve)
        return x["u"] * 10 + x["v"]

    guess = {"u": np.array(2.5), "v": np.array(0.5)}
    g_p, g_guess = ft.grad(loss, argnums=(0, 1))(np.array(3.0), guess)
    assert float(g_guess["u"]) == 0.0 and float(g_guess["v"]) == 0.0
    # u + v = p, u v = 2 at p = 3: (u, v) = (2, 1); du/dp = u / (u - v) = 2, dv/dp = -1
    np.testing.assert_allclose(g_p, 10 * 2 - 1, rtol=1e-10)


def test_errors_name_the_problem():
    square = lambda x: x ** 2 - 2.0
    with pytest.raises(errors.CustomRuleError, match="structure of its input"):
        ft.grad(lambda a: custom_root(lambda x: (x - a, x), a, newton_scalar, scalar_solve))(1.0)
    with pytest.raises(errors.CustomRuleError, match="shape"):
        ft.grad(lambda a: custom_root(lambda x: fnp.stack([x, x]) - a, a, newton_scalar, scalar_solve))(1.0)
    with pytest.raises(errors.CustomRuleError, match="solve returned a leaf 0 of shape"):
        ft.grad(lambda a: custom_root(lambda x: square(x) * a, a, lambda f, x: fnp.ones(2), scalar_solve))(1.0)
    with pytest.raises(errors.CustomRuleError, match="dtype float64 for an input leaf of dtype float32"):
        ft.grad(lambda a: custom_root(lambda x: x - a, np.float32(1.0), newton_scalar, scalar_solve))(1.0)
    with pytest.raises(errors.CustomRuleError, match="dtype float64, but that unknown has shape"):
        custom_root(lambda x: x - np.array(1.0), np.float32(1.0), newton_scalar, scalar_solve)  # eagerly too

    def closing(a):  # a solver closing over a traced value: recorded, as JAX, no derivative from it
        solve = lambda f, x: ft.lax.fori_loop(0, 3, lambda i, y: y - f(y), x + 0.0 * a)
        return custom_root(lambda x: x - a ** 2, a, solve, scalar_solve)

    def leaky(a):  # one that cannot be recorded (Python on values) still names the problem
        return custom_root(lambda x: x - a, a, lambda f, x: x + a * 0 if float(x) > -1e9 else x, scalar_solve)

    with pytest.raises(errors.CustomRuleError, match="closes over a value that a transformation traces"):
        ft.grad(leaky)(1.0)

    for g in (ft.grad(closing), ft.jit(ft.grad(closing)), ft.jacfwd(closing)):
        np.testing.assert_allclose(g(np.array(1.5)), 3.0, rtol=1e-10)
    np.testing.assert_allclose(ft.vmap(ft.grad(closing))(np.array([1.5, 2.0])), [3.0, 4.0], rtol=1e-10)
    np.testing.assert_allclose(ft.jit(closing)(1.5), 2.25, rtol=1e-10)
    for run in (lambda g: g(1.0), lambda g: ft.grad(g)(1.0)):  # the same eagerly and under grad
        with pytest.raises(errors.InputDtypeError, match="dtype int"):
            run(lambda a: custom_root(lambda x: x - a, 0, newton_scalar, scalar_solve))
    with pytest.raises(errors.UnsupportedError, match="has_aux"):
        custom_root(square, 1.0, newton_scalar, scalar_solve, has_aux=True)


# -- custom_linear_solve ------------------------------------------------------------------------


def dense_solve(matvec, b):
    return fnp.linalg.solve(ft.jacfwd(matvec)(fnp.zeros_like(b)), b)


def solve_with(a, b, symmetric=False):
    transpose = None if symmetric else dense_solve
    return custom_linear_solve(lambda v: a @ v, b, dense_solve, transpose, symmetric=symmetric)


def test_linear_solve_derivatives_in_b_and_in_the_matrix(backend):
    a, b = backend.put((A, B))
    np.testing.assert_allclose(backend.get(solve_with(a, b)), np.linalg.solve(A, B), rtol=1e-12)
    np.testing.assert_allclose(backend.get(ft.jacrev(solve_with, argnums=1)(a, b)), np.linalg.inv(A), rtol=1e-12)
    check_grads(solve_with, (a, b), order=2)
    loss = lambda a: fnp.sum(solve_with(a, b) ** 2)
    want = ft.grad(lambda a: fnp.sum(fnp.linalg.solve(a, b) ** 2))(a)
    np.testing.assert_allclose(backend.get(ft.grad(loss)(a)), backend.get(want), rtol=1e-10)


def test_linear_solve_under_jit_and_vmap():
    bs = RNG.standard_normal((4, 3))
    batched = ft.vmap(lambda b: solve_with(A, b))(bs)
    np.testing.assert_allclose(batched, np.linalg.solve(A, bs.T).T, rtol=1e-12)
    g = ft.jit(ft.grad(lambda a: fnp.sum(solve_with(a, B))))(A)
    np.testing.assert_allclose(g, ft.grad(lambda a: fnp.sum(fnp.linalg.solve(a, B)))(A), rtol=1e-10)


def test_a_solver_closing_over_the_traced_matrix_works_in_every_mode():
    # JAX's usual idiom: solve closes over the matrix, which jit, grad or vmap trace; its
    # values get no derivative from the solver (the derivative comes from matvec)
    def solve_closing(a, b):
        return custom_linear_solve(lambda v: a @ v, b, lambda mv, c: fnp.linalg.solve(a, c),
                                   lambda mv, c: fnp.linalg.solve(a.T, c))

    loss = lambda a: fnp.sum(solve_closing(a, B) ** 2)
    want = ft.grad(lambda a: fnp.sum(fnp.linalg.solve(a, B) ** 2))(A)
    for g in (ft.grad(loss), ft.jit(ft.grad(loss)), ft.jacfwd(loss)):
        np.testing.assert_allclose(g(A), want, rtol=1e-10)
    np.testing.assert_allclose(ft.jit(solve_closing)(A, B), np.linalg.solve(A, B), rtol=1e-12)
    batched = ft.vmap(solve_closing, (0, None))(np.stack([A, A.T]), B)
    np.testing.assert_allclose(batched, [np.linalg.solve(A, B), np.linalg.solve(A.T, B)], rtol=1e-12)
    check_grads(solve_closing, (A, B), order=2)


def test_symmetric_solve_serves_the_transpose_and_a_missing_transpose_is_named():
    spd = A @ A.T
    g = ft.grad(lambda b: fnp.sum(solve_with(spd, b, symmetric=True)))(B)
    np.testing.assert_allclose(g, np.linalg.solve(spd, np.ones(3)), rtol=1e-10)
    no_transpose = lambda b: fnp.sum(custom_linear_solve(lambda v: A @ v, b, dense_solve))
    np.testing.assert_allclose(ft.jvp(no_transpose, (B,), (np.ones(3),))[1], np.linalg.solve(A, np.ones(3)).sum())
    with pytest.raises(errors.CustomRuleError, match="transpose_solve"):
        ft.grad(no_transpose)(B)


def test_solvers_marked_batch_as_block_run_once_per_batch_others_per_example():
    calls = []

    def solve(f, x):  # Newton on the flattened unknowns: right for one system or a block of them
        calls.append(fnp.shape(x))
        shape = fnp.shape(x)
        f_flat = lambda v: fnp.reshape(f(fnp.reshape(v, shape)), (-1,))
        return fnp.reshape(newton_vector(f_flat, fnp.reshape(x, (-1,))), shape)

    def blockwise(g, y):  # g of a batch is block-diagonal: solve it through its dense matrix
        flat = fnp.reshape(y, (-1,))
        mat = ft.jacfwd(lambda v: fnp.reshape(g(fnp.reshape(v, fnp.shape(y))), (-1,)))(fnp.zeros_like(flat))
        return fnp.reshape(fnp.linalg.solve(mat, flat), fnp.shape(y))

    def roots(solver, bs):
        return ft.vmap(lambda b: custom_root(lambda x: A @ x + x ** 3 / 3 - b, fnp.zeros_like(b), solver,
                                             batch_as_block(blockwise)))(bs)

    bs = RNG.standard_normal((4, 3))
    per_example = roots(solve, bs)
    assert calls == [(3,)] * 4
    calls.clear()
    at_once = roots(batch_as_block(solve), bs)
    assert calls == [(4, 3)]
    np.testing.assert_allclose(at_once, per_example, rtol=1e-12)
    grads = ft.vmap(ft.grad(lambda b: fnp.sum(cubic_root(A, b))))(bs)
    np.testing.assert_allclose(grads[1], ft.grad(lambda b: fnp.sum(cubic_root(A, b)))(bs[1]), rtol=1e-12)
