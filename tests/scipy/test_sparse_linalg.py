"""functrans.scipy.sparse.linalg (cg, gmres): solutions against numpy.linalg.solve and
scipy.sparse.linalg, matrices and linear functions over pytrees, starting points and
preconditioners; derivatives in b and in the matrix (a solve, not the iterations) against dense
solves and finite differences, under jit and vmap, on both backends."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse.linalg as ssl

import functrans as ft
import functrans.numpy as fnp
from functrans.implicit import krylov
from functrans.interpreters.linearize import linearize_flat
from functrans.scipy.sparse.linalg import cg, gmres
from functrans.testing import check_grads

RNG = np.random.default_rng(3)
N = 6
_Q = RNG.standard_normal((N, N))
SPD = _Q @ _Q.T + N * np.eye(N)
GENERAL = RNG.standard_normal((N, N)) + 4 * np.eye(N)
B = RNG.standard_normal(N)
SOLVERS = {"cg": (cg, SPD, ssl.cg), "gmres": (gmres, GENERAL, ssl.gmres)}


@pytest.fixture(params=list(SOLVERS))
def solver(request):
    return SOLVERS[request.param]


def test_solutions_against_numpy_and_scipy(solver, backend):
    solve, a, scipy_solve = solver
    x, info = solve(backend.put(a), backend.put(B), rtol=1e-12)
    assert info is None
    np.testing.assert_allclose(backend.get(x), np.linalg.solve(a, B), rtol=1e-9)
    np.testing.assert_allclose(backend.get(x), scipy_solve(a, B, rtol=1e-12)[0], rtol=1e-8)
    backend.check_placed(x)


def test_starting_point_preconditioner_and_a_linear_function_on_a_pytree(solver):
    solve, a, _ = solver
    x0 = RNG.standard_normal(N)
    precondition = np.diag(1 / np.diag(a))
    x, _ = solve(a, B, x0, tol=1e-12, M=precondition)
    np.testing.assert_allclose(x, np.linalg.solve(a, B), rtol=1e-9)

    def matvec(v):  # a as a function of a pytree {"u": first 2 entries, "w": the other 4 as 2x2}
        full = a @ fnp.concatenate([v["u"], fnp.reshape(v["w"], (-1,))])
        return {"u": full[:2], "w": fnp.reshape(full[2:], (2, 2))}

    x, _ = solve(matvec, {"u": B[:2], "w": B[2:].reshape(2, 2)}, tol=1e-12)
    np.testing.assert_allclose(np.concatenate([x["u"], x["w"].ravel()]), np.linalg.solve(a, B), rtol=1e-9)


def test_derivatives_in_b_and_in_the_matrix(solver, backend):
    solve, a, _ = solver
    a_, b_ = backend.put((a, B))
    x = lambda a, b: solve(a, b, tol=1e-13)[0]
    np.testing.assert_allclose(backend.get(ft.jacrev(x, argnums=1)(a_, b_)), np.linalg.inv(a), rtol=1e-8)
    np.testing.assert_allclose(backend.get(ft.jacfwd(x, argnums=1)(a_, b_)), np.linalg.inv(a), rtol=1e-8)
    loss = lambda a: fnp.sum(fnp.sin(x(a, b_)))
    want = ft.grad(lambda a: fnp.sum(fnp.sin(fnp.linalg.solve(a, b_))))(a_)
    np.testing.assert_allclose(backend.get(ft.grad(loss)(a_)), backend.get(want), rtol=1e-8)
    check_grads(x, (a_, b_), order=2, atol=1e-5)


def test_the_matrix_closed_over_by_a_function_is_differentiated():
    def x(scale):
        return gmres(lambda v: GENERAL @ v + scale * v, B, tol=1e-13)[0]

    want = ft.grad(lambda s: fnp.sum(fnp.linalg.solve(GENERAL + s * np.eye(N), B)))(0.5)
    np.testing.assert_allclose(ft.grad(lambda s: fnp.sum(x(s)))(0.5), want, rtol=1e-8)


def test_jit_and_vmap(solver):
    solve, a, _ = solver
    bs = RNG.standard_normal((3, N))
    np.testing.assert_allclose(ft.vmap(lambda b: solve(a, b, tol=1e-12)[0])(bs), np.linalg.solve(a, bs.T).T,
                               rtol=1e-9)
    grad = ft.jit(ft.grad(lambda b: fnp.sum(solve(a, b, tol=1e-12)[0])))
    np.testing.assert_allclose(grad(B), np.linalg.solve(a.T, np.ones(N)), rtol=1e-9)


def test_reverse_mode_records_a_solve_not_the_iterations():
    _, program = linearize_flat(lambda ts: [fnp.sum(gmres(GENERAL, ts[0], tol=1e-12)[0])], [B], "test")
    assert [e.prim.name for e in program.eqns].count("linear_solve") == 1
    assert len(program.eqns) < 5


def test_argument_errors():
    with pytest.raises(TypeError, match="rtol .* or tol"):
        cg(SPD, B, rtol=1e-6, tol=1e-6)
    with pytest.raises(TypeError, match="square matrix"):
        cg(np.ones(3), B)
    with pytest.raises(ValueError, match="structure of b"):
        gmres(GENERAL, B, x0={"x": B})
    with pytest.raises(ValueError, match="solve_method"):
        krylov.gmres(GENERAL, B, solve_method="qr")
    with pytest.raises(ValueError, match="restart"):
        krylov.gmres(GENERAL, B, restart=0)
    with pytest.raises(TypeError, match="complex128; this solver works on real"):
        cg(SPD, B + 1j)
    for transform in (ft.jit, ft.grad):
        with pytest.raises(ValueError, match="M holds a value traced"):
            transform(lambda m: fnp.sum(gmres(GENERAL, B, M=m)[0]))(np.eye(N))


def test_vmap_over_matrices_and_right_hand_sides_at_once(solver):
    solve, a, _ = solver
    mats = np.stack([a, a + np.eye(N), 2 * a])
    bs = RNG.standard_normal((3, N))
    xs = ft.vmap(lambda m, b: solve(m, b, tol=1e-12)[0])(mats, bs)
    np.testing.assert_allclose(xs, np.linalg.solve(mats, bs[..., None])[..., 0], rtol=1e-8)
    grads = ft.vmap(ft.grad(lambda m, b: fnp.sum(solve(m, b, tol=1e-12)[0])))(mats, bs)
    for i in range(3):
        want = ft.grad(lambda m: fnp.sum(fnp.linalg.solve(m, bs[i])))(mats[i])
        np.testing.assert_allclose(grads[i], want, rtol=1e-7)
    jaxpr = ft.make_jaxpr(ft.vmap(lambda b: solve(a, b)[0]))(bs)
    assert [e.prim.name for e in jaxpr.eqns].count("linear_solve") == 1


def test_gmres_restarts_and_stops_at_maxiter():
    a = RNG.standard_normal((30, 30)) + 8 * np.eye(30)  # non-normal, well conditioned
    b = RNG.standard_normal(30)
    x, _ = gmres(a, b, restart=4, tol=1e-12, maxiter=500)
    np.testing.assert_allclose(x, np.linalg.solve(a, b), rtol=1e-9)
    rough, _ = gmres(a, b, restart=2, tol=1e-12, maxiter=1)  # one cycle of two steps
    assert 1e-3 < np.linalg.norm(a @ rough - b) < np.linalg.norm(b)
