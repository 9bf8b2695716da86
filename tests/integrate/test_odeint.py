"""functrans.integrate.odeint: values against closed forms and SciPy, the adjoint gradient
against finite differences and forward mode, higher orders, jit, vmap, pytree states, the
memory of reverse mode, and the errors."""
from __future__ import annotations

import math
import re
import tracemalloc

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans.integrate import dopri5, odeint
from functrans.testing import check_grads

TS = np.array([0.0, 0.4, 1.1, 2.0])


def decay(y, t, k):
    return -k * y


def lotka_volterra(y, t, a, b):
    return fnp.stack([a * y[0] - y[0] * y[1], -b * y[1] + y[0] * y[1]])


def forced(y, t, w):  # non-autonomous, so the derivative in t is not only along f
    return -0.5 * y + fnp.sin(w * t)


# -- values -------------------------------------------------------------------------------------


def test_exponential_decay_matches_its_closed_form(backend):
    ys = odeint(decay, backend.put(np.array([1.0, 2.0])), backend.put(TS), 0.7)
    backend.check_placed(ys)
    expected = np.exp(-0.7 * TS)[:, None] * np.array([1.0, 2.0])
    np.testing.assert_allclose(backend.get(ys), expected, rtol=1e-7)


def test_a_rotation_matches_its_closed_form_on_a_pytree_state(backend):
    def oscillator(state, t):
        return {"x": state["v"], "v": -state["x"]}

    ts = np.linspace(0.0, 6.0, 7)
    ys = odeint(oscillator, {"x": backend.put(np.array(1.0)), "v": backend.put(np.array(0.0))},
                backend.put(ts))
    np.testing.assert_allclose(backend.get(ys["x"]), np.cos(ts), atol=1e-7)
    np.testing.assert_allclose(backend.get(ys["v"]), -np.sin(ts), atol=1e-7)


@pytest.mark.parametrize("problem", ["linear", "decay", "lotka_volterra", "van_der_pol"])
def test_values_match_scipy(problem):
    integrate = pytest.importorskip("scipy.integrate")
    if problem == "linear":
        a = np.array([[-0.1, 1.0], [-1.0, -0.1]])
        func, y0, args, ts, rtol = (lambda y, t, a: a @ y), np.array([1.0, 0.5]), (a,), TS, 1.4e-8
    elif problem == "decay":
        func, y0, args, ts, rtol = decay, np.array([3.0]), (1.3,), TS, 1.4e-8
    elif problem == "lotka_volterra":
        func, y0, args, ts, rtol = lotka_volterra, np.array([10.0, 5.0]), (1.5, 3.0), np.linspace(0, 10, 6), 1.4e-8
    else:  # stiff-ish (mu = 3): the step size swings over the cycle; tight tolerances
        func = lambda y, t, mu: fnp.stack([y[1], mu * (1 - y[0] ** 2) * y[1] - y[0]])
        y0, args, ts, rtol = np.array([2.0, 0.0]), (3.0,), np.linspace(0, 6, 5), 1e-10
    ys = np.asarray(odeint(func, y0, ts, *args, rtol=rtol, atol=rtol))
    ref = integrate.solve_ivp(lambda t, y: np.asarray(func(y, t, *args)), (ts[0], ts[-1]), y0,
                              t_eval=ts, method="DOP853", rtol=1e-13, atol=1e-13).y.T
    scale = 1.0 + np.abs(ref).max()
    np.testing.assert_allclose(ys, ref, atol=2e3 * rtol * scale)
    # the same method and error control as SciPy's RK45: the same solution, to rounding
    rk45 = integrate.solve_ivp(lambda t, y: np.asarray(func(y, t, *args)), (ts[0], ts[-1]), y0,
                               t_eval=ts, method="RK45", rtol=rtol, atol=rtol).y.T
    np.testing.assert_allclose(ys, rk45, rtol=1e-9, atol=1e-9 * scale)


def test_repeated_times_and_a_single_time():
    ys = odeint(decay, np.array([1.0]), np.array([0.0, 0.0, 1.0, 1.0]), 1.0)
    np.testing.assert_allclose(ys[:, 0], [1.0, 1.0, math.exp(-1), math.exp(-1)], rtol=1e-7)
    assert odeint(decay, np.array([1.0]), np.array([0.5]), 1.0).shape == (1, 1)


def test_float32_stays_float32():
    ys = odeint(decay, np.array([1.0], np.float32), np.array([0.0, 1.0], np.float32),
                np.float32(1.0), rtol=1e-5, atol=1e-5)
    assert ys.dtype == np.float32
    np.testing.assert_allclose(ys[1, 0], math.exp(-1), rtol=1e-4)


def test_a_complex_state():
    ys = odeint(lambda y, t: 1j * y, np.array([1.0 + 0.0j]), TS)
    np.testing.assert_allclose(ys[:, 0], np.exp(1j * TS), atol=1e-7)


def test_python_scalar_arguments_are_constants_of_the_vector_field():
    def pairs(y, t, n, k):
        return fnp.reshape(-k * fnp.reshape(y, (n, 2)), (2 * n,))

    ys = ft.jit(lambda y0: odeint(pairs, y0, TS, 2, 0.5))(np.ones(4))
    np.testing.assert_allclose(ys[:, 0], np.exp(-0.5 * TS), rtol=1e-7)
    g = ft.grad(lambda k: odeint(pairs, np.ones(4), TS, 2, k)[-1, 0])(0.5)
    np.testing.assert_allclose(g, -2.0 * np.exp(-1.0), rtol=1e-6)


def test_python_control_flow_in_the_vector_field_works_on_plain_arrays():
    def switch(y, t):
        return -y if float(t) < 1.0 else y

    ys = odeint(switch, np.array([1.0]), np.array([0.0, 1.0]))
    np.testing.assert_allclose(ys[1, 0], math.exp(-1), rtol=1e-6)


# -- derivatives --------------------------------------------------------------------------------


def test_adjoint_gradient_matches_finite_differences(backend):
    y0, ts = backend.put(np.array([1.0, 0.5])), backend.put(np.array([0.0, 0.3, 0.8]))
    loss = lambda y0, ts, w: fnp.sum(odeint(forced, y0, ts, w) ** 2)
    check_grads(loss, (y0, ts, backend.put(np.array(2.0))), order=1, modes=("rev",), atol=1e-5, rtol=1e-5)


def test_forward_mode_matches_finite_differences(backend):
    ts = backend.put(np.array([0.0, 0.3, 0.8]))
    check_grads(lambda y0, ts, w: odeint(forced, y0, ts, w), (backend.put(np.array([1.0, 0.5])), ts,
                backend.put(np.array(2.0))), order=1, modes=("fwd",), atol=1e-5, rtol=1e-5)


def test_the_adjoint_gradient_agrees_with_forward_mode():
    ts = np.array([0.0, 1.0, 2.5])

    def loss(y0, ts, a, b):
        return fnp.sum(odeint(lotka_volterra, y0, ts, a, b) ** 2)

    args = (np.array([2.0, 1.0]), ts, 1.2, 0.8)
    rev = ft.grad(loss, argnums=(0, 1, 2, 3))(*args)
    fwd = ft.jacfwd(loss, argnums=(0, 1, 2, 3))(*args)
    for r, f in zip(rev, fwd):
        np.testing.assert_allclose(r, f, rtol=1e-5, atol=1e-6)


def test_gradient_through_closed_over_parameters_and_a_pytree():
    w = {"a": np.array([[0.0, 1.0], [-1.0, 0.0]]), "b": np.array([0.1, -0.2])}

    def loss(w):
        ys = odeint(lambda y, t: fnp.tanh(w["a"] @ y + w["b"]), np.array([1.0, 0.0]), TS)
        return fnp.sum(ys[-1] ** 2)

    check_grads(loss, (w,), order=1, modes=("rev",), atol=1e-5, rtol=1e-5)
    g = ft.grad(loss)(w)
    f = ft.jacfwd(loss)(w)
    np.testing.assert_allclose(g["a"], f["a"], rtol=1e-5, atol=1e-7)


def test_reverse_mode_through_a_solve_inside_a_scan():
    # the adjoint's residuals are operands of the linear equation, so scan's linearization
    # carries them (they were hidden in a parameter: LeakedTracerError under grad)
    ts = np.array([0.0, 0.1])

    def segments(k):
        step = lambda c, _: (odeint(decay, c, ts, k, rtol=1e-10, atol=1e-10)[-1], None)
        return ft.lax.scan(step, np.array([1.0, 2.0]), None, length=3)[0].sum()

    want = -0.3 * 3.0 * math.exp(-0.15)  # y(0.3) = y0 exp(-0.3 k), summed over y0 = 1, 2
    for g in (ft.grad(segments), ft.jit(ft.grad(segments))):
        np.testing.assert_allclose(g(0.5), want, rtol=1e-7)
    np.testing.assert_allclose(ft.vmap(ft.grad(segments))(np.array([0.5, 1.0])),
                               [want, -0.9 * math.exp(-0.3)], rtol=1e-7)
    np.testing.assert_allclose(ft.hessian(segments)(0.5), 0.09 * 3.0 * math.exp(-0.15), rtol=1e-6)


def test_linearize_applies_the_recorded_map_forward():
    f = lambda y0, k: odeint(decay, y0, TS, k)
    y, f_jvp = ft.linearize(f, np.array([1.0, 2.0]), 0.5)
    _, expected = ft.jvp(f, (np.array([1.0, 2.0]), 0.5), (np.array([0.1, 0.0]), 1.0))
    np.testing.assert_allclose(f_jvp(np.array([0.1, 0.0]), 1.0), expected, rtol=1e-12)


def test_second_order():
    ts = np.array([0.0, 0.5, 1.0])
    loss = lambda y0, k: fnp.sum(odeint(decay, y0, ts, k) ** 2)
    check_grads(loss, (np.array([1.0, -0.5]), np.array(0.8)), order=2, atol=1e-4, rtol=1e-4)
    # d2/dk2 of y0^2 exp(-2 k t) summed: 4 t^2 y0^2 exp(-2 k t)
    h = ft.hessian(lambda k: loss(np.array([1.0]), k))(0.8)
    np.testing.assert_allclose(h, np.sum(4 * ts ** 2 * np.exp(-1.6 * ts)), rtol=1e-6)


# -- jit, vmap ------------------------------------------------------------------------------------


def test_jit_stages_one_equation_whatever_the_number_of_steps():
    f = lambda k: odeint(decay, np.array([1.0]), TS, k)
    program = ft.make_jaxpr(f)(0.5)
    assert [e.prim.name for e in program.eqns] == ["odeint"]
    np.testing.assert_allclose(ft.jit(f)(0.5), f(0.5), rtol=1e-12)
    def grad_program(rtol):  # the backward pass: one adjoint solve per output interval
        loss = lambda k: odeint(decay, np.array([1.0]), TS, k, rtol=rtol, atol=rtol)[-1, 0]
        return ft.make_jaxpr(ft.grad(loss))(0.5)

    sizes = [len(grad_program(rtol).eqns) for rtol in (1e-3, 1e-10)]
    assert sizes[0] == sizes[1]
    assert [e.prim.name for e in grad_program(1e-3).eqns].count("odeint") == len(TS)
    g = ft.jit(ft.grad(lambda k: f(k)[-1, 0]))(0.5)
    np.testing.assert_allclose(g, -2.0 * math.exp(-1.0), rtol=1e-6)
    w = np.array([0.5])
    np.testing.assert_allclose(ft.jit(lambda w: odeint(lambda y, t: -w * y, np.array([1.0]), TS))(w),
                               f(0.5), rtol=1e-12)


def test_vmap_solves_the_batch_at_once_within_each_examples_tolerance():
    y0s = np.array([[1.0, 0.5], [2.0, 1.0], [0.5, 3.0]])
    solve = lambda y0: odeint(lotka_volterra, y0, TS, 1.5, 1.0)
    batched = ft.vmap(solve)(y0s)
    assert batched.shape == (3, len(TS), 2)
    program = ft.make_jaxpr(ft.vmap(solve))(y0s)
    assert [e.prim.name for e in program.eqns].count("odeint") == 1
    for y0, ys in zip(y0s, batched):
        np.testing.assert_allclose(ys, solve(y0), rtol=1e-6, atol=1e-7)
    loss = lambda y0: fnp.sum(solve(y0))
    np.testing.assert_allclose(ft.vmap(ft.grad(loss))(y0s)[1], ft.grad(loss)(y0s[1]), rtol=1e-5)
    g = ft.grad(lambda y0s: fnp.sum(ft.vmap(solve)(y0s)))(y0s)
    np.testing.assert_allclose(g[2], ft.grad(loss)(y0s[2]), rtol=1e-5)


def test_vmap_over_closed_over_parameters_nested_and_over_time_grids():
    ks = np.array([0.5, 1.0, 2.0])
    y0 = np.array([1.0, 2.0])
    sol = lambda k: odeint(lambda y, t: -k * y, y0, TS)
    expected = np.exp(-ks[:, None, None] * TS[None, :, None]) * y0
    np.testing.assert_allclose(ft.vmap(sol)(ks), expected, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(ft.jit(ft.vmap(sol))(ks), expected, rtol=1e-6, atol=1e-8)
    nested = ft.vmap(ft.vmap(lambda k, y0: odeint(decay, y0, TS, k), (None, 0)), (0, None))
    y0s = np.array([[1.0], [3.0]])
    out = nested(ks, y0s)  # (k, y0, t, 1)
    np.testing.assert_allclose(out[:, :, :, 0], np.exp(-ks[:, None, None] * TS) * y0s[None, :, :], rtol=1e-6, atol=1e-8)
    grids = np.array([[0.0, 1.0], [0.0, 2.0]])  # one solve per example
    ys = ft.vmap(lambda ts: odeint(decay, np.array([1.0]), ts, 1.0))(grids)
    np.testing.assert_allclose(ys[:, 1, 0], np.exp(-grids[:, 1]), rtol=1e-6, atol=1e-8)


def test_reverse_mode_memory_does_not_grow_with_the_number_of_steps():
    y0 = np.linspace(0.5, 1.5, 2000)

    def peak(rtol):
        loss = lambda k: fnp.sum(odeint(forced, y0, np.array([0.0, 3.0]), k, rtol=rtol, atol=rtol))
        tracemalloc.start()
        ft.grad(loss)(1.0)
        result = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return result

    steps = {}
    for rtol in (1e-3, 1e-9):
        p = dopri5.Problem(lambda y, t: -0.5 * y + np.sin(t), rtol=rtol, atol=rtol, mxstep=math.inf,
                           hmax=math.inf, xp=np)
        calls = [0]
        fun = p.fun
        p.fun = lambda y, t: (calls.__setitem__(0, calls[0] + 1), fun(y, t))[1]
        dopri5.solve(p, y0, [0.0, 3.0])
        steps[rtol] = calls[0]
    assert steps[1e-9] > 4 * steps[1e-3]  # many more steps...
    assert peak(1e-9) < 1.5 * peak(1e-3)  # ...in the same memory


# -- errors ---------------------------------------------------------------------------------------


def test_times_that_decrease_are_refused():
    with pytest.raises(ValueError, match=r"non-decreasing.*t\[2\]"):
        odeint(decay, np.array([1.0]), np.array([0.0, 1.0, 0.5]), 1.0)
    with pytest.raises(ValueError, match="non-decreasing"):  # found when the program runs
        ft.jit(lambda ts: odeint(decay, np.array([1.0]), ts, 1.0))(np.array([1.0, 0.0]))
    with pytest.raises(ValueError, match="1-D"):
        odeint(decay, np.array([1.0]), np.ones((2, 2)), 1.0)


def test_a_vector_field_of_another_shape_or_structure_is_refused():
    with pytest.raises(ValueError, match=r"leaf 0 has shape \(1,\).*\(2,\)"):
        odeint(lambda y, t: y[:1], np.array([1.0, 2.0]), TS)
    with pytest.raises(ft.errors.TreeStructureError, match="structure of y0"):
        odeint(lambda y, t: (y, y), np.array([1.0]), TS)


def test_mxstep_exceeded_names_mxstep_and_the_time_reached():
    with pytest.raises(RuntimeError, match=r"mxstep=5 .*reached only t="):
        odeint(lotka_volterra, np.array([10.0, 5.0]), np.array([0.0, 10.0]), 1.5, 3.0, mxstep=5)


def test_a_nan_step_size_raises_instead_of_looping_forever():
    # a vector field that is nan at the start gives a nan first step; with the default
    # mxstep (no limit) the solver used to loop forever
    with pytest.warns(RuntimeWarning), pytest.raises(RuntimeError, match="step size fell to nan"):
        odeint(lambda y, t: fnp.sqrt(y - 2.0), np.array([1.0]), np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="rtol and atol are both 0"):
        odeint(decay, np.array([1.0]), np.array([0.0, 1.0]), 0.5, rtol=0.0, atol=0.0)


def test_an_integer_state_is_refused():
    with pytest.raises(ft.errors.InputDtypeError, match="floating point"):
        odeint(decay, np.array([1, 2]), TS, 1.0)


def test_hmax_bounds_the_step():
    odeint(decay, np.array([1.0]), np.array([0.0, 1.0]), 1.0, hmax=0.1, mxstep=11)
    with pytest.raises(RuntimeError, match="mxstep=9"):
        odeint(decay, np.array([1.0]), np.array([0.0, 1.0]), 1.0, hmax=0.1, mxstep=9)


def test_scipy_and_autograd_calling_convention():
    scipy_integrate = pytest.importorskip("scipy.integrate")
    from functrans.scipy.integrate import odeint as scipy_odeint

    y0, ts = np.array([10.0, 5.0]), np.linspace(0.0, 3.0, 4)
    ours = scipy_odeint(lotka_volterra, y0, ts, args=(1.5, 3.0))
    np.testing.assert_array_equal(ours, odeint(lotka_volterra, y0, ts, 1.5, 3.0, rtol=1.49012e-8,
                                               atol=1.49012e-8))  # SciPy's default tolerances
    ref = scipy_integrate.odeint(lambda y, t, a, b: np.asarray(lotka_volterra(y, t, a, b)), y0, ts,
                                 args=(1.5, 3.0), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ours, ref, rtol=1e-5)
    tfirst = scipy_odeint(lambda t, y, a, b: lotka_volterra(y, t, a, b), y0, ts, args=(1.5, 3.0),
                          tfirst=True)
    np.testing.assert_array_equal(tfirst, ours)
    g = ft.grad(lambda a: fnp.sum(scipy_odeint(lotka_volterra, y0, ts, args=(a, 3.0))))(1.5)
    np.testing.assert_allclose(g, ft.grad(lambda a: fnp.sum(odeint(lotka_volterra, y0, ts, a, 3.0)))(1.5),
                               rtol=1e-6)
    with pytest.raises(TypeError, match="Dfun.*LSODA"):
        scipy_odeint(decay, y0, ts, args=(1.0,), Dfun=None)


@pytest.mark.parametrize("option,value,message", [
    ("rtol", -1e-6, "rtol must be >= 0, got -1e-06"),
    ("atol", float("nan"), "atol must be >= 0, got nan"),
    ("hmax", 0.0, "hmax must be > 0, got 0.0"),
    ("mxstep", 0, "mxstep must be at least 1, got 0"),
])
def test_bad_solver_settings_are_clear_errors(option, value, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        odeint(lambda y, t: -y, np.array([1.0]), np.array([0.0, 1.0]), **{option: value})


def test_an_integer_state_names_its_key_path():
    with pytest.raises(ft.errors.InputDtypeError, match=re.escape("y0['n'] has dtype int64")):
        odeint(lambda y, t: y, {"x": np.array([1.0]), "n": np.array([1])}, np.array([0.0, 1.0]))
