"""functrans.scipy.optimize.minimize (BFGS) against JAX's iterates and SciPy's minimizers:
eagerly, under jit (staged once) and vmap, in float64 and float32, and its errors."""
from __future__ import annotations

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans.scipy.optimize import OptimizeResults, minimize


def rosen(x):
    return fnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


_rng = np.random.default_rng(0)
_X = _rng.normal(size=(40, 3))
_Y = (_X @ np.array([1.0, -2.0, 0.5]) + _rng.normal(size=40) > 0).astype(float)


def logreg(w):
    z = fnp.asarray(_X, w.dtype) @ w
    return fnp.mean(fnp.logaddexp(0, z) - fnp.asarray(_Y, w.dtype) * z) + 0.01 * w @ w


ROSEN_X0 = np.array([-1.2, 1.0, 0.5, -0.3])


def test_bfgs_takes_jaxs_steps():
    # jax.scipy.optimize.minimize(..., method="BFGS") with jax_enable_x64, JAX 0.10.2
    res = minimize(logreg, np.zeros(3), method="BFGS")
    np.testing.assert_allclose(res.x, [1.1100311404226477, -1.785757675563832, 0.9529937754894567],
                               rtol=1e-12)
    assert (int(res.nfev), int(res.njev), int(res.nit), int(res.status)) == (16, 16, 15, 0)
    assert bool(res.success) and float(res.fun) == pytest.approx(0.41274598039292903, rel=1e-14)
    res = minimize(rosen, ROSEN_X0, method="BFGS", options={"maxiter": 5})
    np.testing.assert_allclose(res.x, [-0.364759510027143, 0.13266824172952535, 0.03681823363450834,
                                       -0.012380823895587667], rtol=1e-12)
    assert (int(res.status), int(res.nit), int(res.nfev), bool(res.success)) == (1, 5, 10, False)


def test_bfgs_converges_on_rosenbrock_eager_jit_and_vmap_alike():
    # JAX's zoom fails on a bracket ordered high-to-low and stops here after 5 iterations
    # (status 3, fun 3.598); SciPy and this one converge to the minimum at ones.
    eager = minimize(rosen, ROSEN_X0, method="BFGS")
    assert bool(eager.success) and int(eager.status) == 0
    np.testing.assert_allclose(eager.x, np.ones(4), atol=1e-7)
    np.testing.assert_allclose(eager.jac, ft.grad(rosen)(eager.x), rtol=1e-12)
    assert float(eager.fun) == pytest.approx(float(rosen(eager.x)), abs=1e-20)
    staged = ft.jit(lambda x0: minimize(rosen, x0, method="BFGS"))(ROSEN_X0)
    for a, b in zip(eager, staged):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    x0s = np.stack([ROSEN_X0, np.zeros(4)])
    short = {"maxiter": 12}  # the examples stop at different steps of their line searches
    batched = ft.vmap(lambda x0: minimize(rosen, x0, method="BFGS", options=short))(x0s)
    for i in range(2):
        one = minimize(rosen, x0s[i], method="BFGS", options=short)
        for a, b in zip(one, batched):
            np.testing.assert_allclose(a, b[i], rtol=1e-12)


def test_bfgs_matches_scipy_minimizer_and_keeps_float32():
    A = np.array([[3.0, 1.0, 0.0], [1.0, 2.0, 0.5], [0.0, 0.5, 1.0]])
    b = np.array([1.0, -2.0, 0.5])
    quad = lambda x, A, b: 0.5 * x @ A @ x - b @ x
    res = minimize(quad, np.zeros(3), (A, b), method="BFGS")
    # scipy.optimize.minimize(quad, zeros(3), (A, b), jac=..., method="BFGS"), SciPy 1.17.1
    np.testing.assert_allclose(res.x, [0.9411764872412729, -1.8235294372319362, 1.4117646614381927],
                               rtol=1e-12)
    assert (int(res.nfev), int(res.nit)) == (7, 5)
    res32 = minimize(quad, np.zeros(3, np.float32), (A.astype(np.float32), b.astype(np.float32)),
                     method="BFGS")
    for name in ("x", "fun", "jac", "hess_inv"):
        assert getattr(res32, name).dtype == np.float32, name
    np.testing.assert_allclose(res32.x, np.linalg.solve(A, b), rtol=1e-5)
    # Near the minimum a line search in float32 needs a decrease of logreg (~0.41) that its
    # rounding (a few 1e-8) no longer resolves: whether the default gtol of 1e-5 is reached or the
    # last line search fails (status 3) depends on the CPU's rounding. gtol=1e-4 stops where the
    # decreases are still resolved, after float64's steps, which float32 follows to rounding.
    options = {"gtol": 1e-4}
    res32 = minimize(logreg, np.zeros(3, np.float32), method="BFGS", options=options)
    res64 = minimize(logreg, np.zeros(3), method="BFGS", options=options)
    assert res32.x.dtype == np.float32 and int(res32.status) == 0 and int(res32.nit) == int(res64.nit)
    np.testing.assert_allclose(res32.x, res64.x, rtol=1e-5)


def test_minimize_stages_once():
    calls = []

    def f(x, a):
        calls.append(1)
        return fnp.sum((x - a) ** 2) + fnp.sum(x ** 4)

    solve = ft.jit(lambda x0, a: minimize(f, x0, (a,), method="BFGS").x)
    first = solve(np.zeros(2), 1.0)
    n = len(calls)
    second = solve(np.ones(2), 2.0)
    assert len(calls) == n  # the second call replays the staged loop
    np.testing.assert_allclose(first, minimize(f, np.zeros(2), (1.0,), method="BFGS").x, rtol=1e-12)
    np.testing.assert_allclose(second, minimize(f, np.ones(2), (2.0,), method="BFGS").x, rtol=1e-12)


def test_tol_sets_gtol_and_options_are_read():
    f = lambda x: fnp.sum((x - 1.0) ** 2) + fnp.sum(x ** 4)
    loose = minimize(f, np.zeros(2), method="BFGS")
    tight = minimize(f, np.zeros(2), method="BFGS", tol=1e-12)
    assert np.abs(loose.jac).max() > 1e-9 and np.abs(tight.jac).max() < 1e-12
    assert int(minimize(f, np.zeros(2), method="bfgs", options={"gtol": 1e-12}).nit) == int(tight.nit)
    assert int(minimize(f, np.zeros(2), method="BFGS", options={"maxiter": 1}).nit) == 1
    assert isinstance(loose, OptimizeResults)
    assert minimize(f, np.array([0, 1]), method="BFGS").x.dtype == np.float64  # ints: floats


def test_a_failed_line_search_returns_a_point_with_its_own_value_and_gradient():
    @ft.custom_jvp
    def f(x):
        return fnp.sum(x ** 2)

    @f.defjvp
    def _f_jvp(primals, tangents):  # a wrong gradient: no step along it decreases f
        (x,), (dx,) = primals, tangents
        return f(x), fnp.sum(-2 * x * dx)

    res = minimize(f, np.array([1.0, 2.0]), method="BFGS")
    assert int(res.status) == 3 and not bool(res.success)
    # JAX returns x = [3, 6] (an untried full step) with fun = 5, the value at [1, 2].
    assert float(res.fun) == float(f(res.x))
    np.testing.assert_allclose(res.jac, ft.grad(f)(res.x))


@pytest.mark.parametrize("kwargs, error, match", [
    ({"x0": np.zeros((2, 2))}, ValueError, "must be 1-D.*ravel"),
    ({"args": 1.0}, TypeError, "args must be a tuple"),
    ({"method": "Nelder-Mead"}, ValueError, "methods are BFGS"),
    ({"options": {"maxfev": 3}}, TypeError, "unknown option.*maxfev"),
    ({"x0": np.zeros(2, complex)}, TypeError, "complex"),
])
def test_minimize_errors_name_the_fix(kwargs, error, match):
    call = {"x0": np.zeros(2), "args": (), "method": "BFGS", **kwargs}
    with pytest.raises(error, match=match):
        minimize(lambda x: fnp.sum(x ** 2), **call)


def test_a_step_into_nan_is_too_long_and_a_one_element_value_is_a_scalar():
    # From [5, 0.5] the first trial steps to x < 0, where x log x is NaN: the search shrinks
    # the step (JAX's counts NaN as neither too high nor flat, and stops with status 5).
    f = lambda x: fnp.sum(x * fnp.log(x))
    res = minimize(f, np.array([5.0, 0.5]), method="BFGS")
    assert int(res.status) == 0 and np.isfinite(float(res.fun))
    np.testing.assert_allclose(res.x, np.exp(-1.0), rtol=1e-5)
    res = minimize(lambda x: fnp.sum((x - 1.0) ** 2, keepdims=True), np.zeros(2), method="BFGS")
    assert res.fun.shape == () and bool(res.success)  # was a while_loop error about bool[1]
