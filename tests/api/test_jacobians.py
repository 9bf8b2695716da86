"""jacfwd, jacrev, hessian, linearize, linear_transpose: against finite differences, each
other, and known closed forms; argnums, has_aux and pytrees laid out as documented."""
from __future__ import annotations

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans import errors
from functrans.testing import numerical_jvp

RNG = np.random.default_rng(1)
A = RNG.standard_normal((4, 4))


def _fd_jacobian(f, x, eps=1e-6):
    """Central differences, column by column (the reference)."""
    cols = []
    for i in range(x.size):
        e = np.zeros(x.size)
        e[i] = eps
        e = e.reshape(x.shape)
        cols.append((np.asarray(f(x + e)) - np.asarray(f(x - e))) / (2 * eps))
    return np.stack(cols, axis=-1).reshape(np.shape(f(x)) + x.shape)


def f_vec(x):
    return fnp.tanh(A @ x) * x


@pytest.mark.parametrize("jac", [ft.jacfwd, ft.jacrev], ids=["jacfwd", "jacrev"])
def test_jacobian_of_a_vector_function_matches_finite_differences(jac):
    x = RNG.standard_normal(4)
    expected = _fd_jacobian(f_vec, x)
    np.testing.assert_allclose(jac(f_vec)(x), expected, rtol=1e-7, atol=1e-9)
    # exact form: diag(x) (1 - tanh^2) A + diag(tanh(Ax))
    t = np.tanh(A @ x)
    exact = (x * (1 - t ** 2))[:, None] * A + np.diag(t)
    np.testing.assert_allclose(jac(f_vec)(x), exact, rtol=1e-12)


def test_jacfwd_and_jacrev_agree_on_matrix_inputs_and_outputs():
    def f(m):
        return fnp.sin(m) @ m.T

    m = RNG.standard_normal((2, 3))
    fwd, rev = ft.jacfwd(f)(m), ft.jacrev(f)(m)
    assert fwd.shape == (2, 2, 2, 3)
    np.testing.assert_allclose(fwd, rev, rtol=1e-12)
    np.testing.assert_allclose(fwd, _fd_jacobian(f, m), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("jac", [ft.jacfwd, ft.jacrev], ids=["jacfwd", "jacrev"])
def test_pytrees_argnums_and_has_aux(jac):
    def f(params, x, scale):
        y = {"out": fnp.sin(params["w"] @ x) * scale, "norm": fnp.sum(x ** 2)}
        return y, "aux-value"

    params = {"w": RNG.standard_normal((2, 3))}
    x = RNG.standard_normal(3)
    (J, aux) = jac(f, argnums=(0, 1), has_aux=True)(params, x, 2.0)
    assert aux == "aux-value"
    # output structure outside, then a tuple over argnums, then each argument's structure
    assert J["out"][0]["w"].shape == (2, 2, 3) and J["out"][1].shape == (2, 3)
    assert J["norm"][0]["w"].shape == (2, 3) and J["norm"][1].shape == (3,)
    np.testing.assert_allclose(J["norm"][1], 2 * x, rtol=1e-12)
    np.testing.assert_allclose(J["norm"][0]["w"], 0.0)
    w = params["w"]
    np.testing.assert_allclose(J["out"][1], 2.0 * np.cos(w @ x)[:, None] * w, rtol=1e-12)
    expected_w = _fd_jacobian(lambda w_: np.sin(w_ @ x) * 2.0, w)
    np.testing.assert_allclose(J["out"][0]["w"], expected_w, rtol=1e-6, atol=1e-8)
    # a single int argnums gives the argument's structure directly
    assert jac(lambda p: f(p, x, 1.0)[0]["norm"] + fnp.sum(p["w"]))(params)["w"].shape == (2, 3)


def test_jacobian_is_jaxs_name_for_jacrev():
    assert ft.jacobian is ft.jacrev
    np.testing.assert_allclose(ft.jacobian(fnp.sin)(np.array([0.0, 1.0])), np.diag(np.cos([0.0, 1.0])))


def test_hessian_of_a_quadratic_form_is_a_plus_a_transpose():
    x = RNG.standard_normal(4)
    H = ft.hessian(lambda x: x @ A @ x)(x)
    np.testing.assert_allclose(H, A + A.T, rtol=1e-12)


def test_hessian_of_a_known_function_with_argnums_and_aux():
    def f(x, y):
        return fnp.sum(fnp.sin(x) * y ** 2), {"y": y}

    x, y = RNG.standard_normal(3), RNG.standard_normal(3)
    (H, aux) = ft.hessian(f, argnums=(0, 1), has_aux=True)(x, y)
    np.testing.assert_allclose(H[0][0], np.diag(-np.sin(x) * y ** 2), rtol=1e-12)
    np.testing.assert_allclose(H[0][1], np.diag(2 * np.cos(x) * y), rtol=1e-12)
    np.testing.assert_allclose(H[1][0], np.diag(2 * np.cos(x) * y), rtol=1e-12)
    np.testing.assert_allclose(H[1][1], np.diag(2 * np.sin(x)), rtol=1e-12)
    np.testing.assert_array_equal(aux["y"], y)


def test_jacobians_nest_inside_grad_and_vmap():
    x = RNG.standard_normal(4)
    # d/dx trace(J(x)) by two routes
    g1 = ft.grad(lambda x: fnp.trace(ft.jacrev(f_vec)(x)))(x)
    g2 = ft.grad(lambda x: fnp.trace(ft.jacfwd(f_vec)(x)))(x)
    np.testing.assert_allclose(g1, g2, rtol=1e-10)
    np.testing.assert_allclose(g1, _fd_jacobian(lambda x: np.trace(np.asarray(ft.jacfwd(f_vec)(x))), x),
                               rtol=1e-6, atol=1e-8)
    xs = RNG.standard_normal((3, 4))
    batched = ft.vmap(ft.jacrev(f_vec))(xs)
    np.testing.assert_allclose(batched, np.stack([ft.jacfwd(f_vec)(x) for x in xs]), rtol=1e-12)


def test_float32_jacobians_stay_float32():
    x = RNG.standard_normal(3).astype(np.float32)
    for jac in (ft.jacfwd, ft.jacrev):
        assert jac(lambda x: fnp.exp(x) * 2)(x).dtype == np.float32


def test_jacobian_errors():
    with pytest.raises(errors.InputDtypeError, match="argument 0"):
        ft.jacfwd(lambda x: x * 1.0)(np.arange(3))
    with pytest.raises(errors.InputDtypeError, match="the output has dtype int64"):
        ft.jacrev(lambda x: fnp.argmax(x))(np.ones(3))


# -- linearize, linear_transpose ---------------------------------------------------------------


def test_integer_inputs_jacrev_allow_int_and_errors_that_name_only_real_options():
    f = lambda x, n: x * n
    x, n = np.array([1.0, 2.0]), np.array([3, 4])
    jx, jn = ft.jacrev(f, argnums=(0, 1), allow_int=True)(x, n)
    np.testing.assert_array_equal(jx, np.diag([3.0, 4.0]))
    assert jn.dtype == n.dtype and jn.shape == (2, 2) and not jn.any()
    jx, jn = ft.jit(ft.jacrev(f, argnums=(0, 1), allow_int=True))(x, n)
    np.testing.assert_array_equal(jx, np.diag([3.0, 4.0]))
    with pytest.raises(errors.InputDtypeError, match="allow_int=True"):
        ft.jacrev(f, argnums=(0, 1))(x, n)
    for jac in (ft.jacfwd, ft.hessian):  # they take no allow_int (as in JAX): not suggested
        with pytest.raises(errors.InputDtypeError) as info:
            jac(f, argnums=(0, 1))(x, n)
        assert "argument 1 has dtype int64" in str(info.value) and "allow_int" not in str(info.value)


def test_linearize_replays_the_tangent_program():
    def f(x, p):
        return {"a": fnp.sin(x) * p["s"], "b": fnp.sum(x ** 3)}

    x, p = RNG.standard_normal(3), {"s": np.array(1.5)}
    out, f_jvp = ft.linearize(f, x, p)
    np.testing.assert_allclose(out["a"], np.sin(x) * 1.5)
    for _ in range(2):
        t, ts = RNG.standard_normal(3), {"s": np.array(RNG.standard_normal())}
        got = f_jvp(t, ts)
        expected = ft.jvp(f, (x, p), (t, ts))[1]
        np.testing.assert_allclose(got["a"], expected["a"], rtol=1e-12)
        np.testing.assert_allclose(got["b"], expected["b"], rtol=1e-12)
        (num,) = [numerical_jvp(lambda x_: np.sum(x_ ** 3), (x,), (t,))[0]]
        np.testing.assert_allclose(got["b"], num, rtol=1e-6)
    with pytest.raises(errors.TangentMismatchError, match="shape"):
        f_jvp(np.ones(4), {"s": np.array(1.0)})


def test_linearize_tangents_of_another_dtype_are_refused_as_by_jvp():
    # a float32 tangent for a float64 primal gave float32 eagerly and float64 under jit
    y, f_jvp = ft.linearize(lambda x: fnp.cumsum(x) * 2.0, np.ones(3))
    with pytest.raises(errors.TangentMismatchError, match=r"dtype float32.*astype\(float64\)"):
        f_jvp(np.ones(3, np.float32))
    with pytest.raises(errors.TangentMismatchError, match=r"dtype float32"):
        ft.jit(f_jvp)(np.ones(3, np.float32))
    with pytest.raises(errors.TangentMismatchError, match=r"dtype float32"):
        ft.jvp(lambda x: fnp.cumsum(x) * 2.0, (np.ones(3),), (np.ones(3, np.float32),))
    np.testing.assert_array_equal(f_jvp(np.ones(3)), [2.0, 4.0, 6.0])
    y, f_jvp = ft.linearize(lambda x: x * 2.0, np.float32(1.0))
    assert f_jvp(1.0).dtype == np.float32  # a Python scalar takes the primal's dtype
    # a real tangent for a complex primal too, as jvp (vjp takes a real cotangent for a
    # complex output: it makes it complex)
    _, f_jvp = ft.linearize(lambda z: z * 2, np.complex128(1 + 1j))
    with pytest.raises(errors.TangentMismatchError, match=r"dtype float64.*complex128"):
        f_jvp(np.float64(1.0))
    with pytest.raises(errors.TangentMismatchError, match=r"dtype float64.*complex128"):
        ft.jvp(lambda z: z * 2, (np.complex128(1 + 1j),), (np.float64(1.0),))


def test_linearize_has_aux_returns_the_aux_as_plain_values():
    calls = []

    def f(x):
        calls.append(1)
        y = fnp.sin(x)
        return y * 2.0, {"y": y, "n": x.shape[0]}

    x, t = RNG.standard_normal(3), RNG.standard_normal(3)
    out, f_jvp, aux = ft.linearize(f, x, has_aux=True)
    assert len(calls) == 1
    np.testing.assert_allclose(out, 2 * np.sin(x), rtol=1e-15)
    for jvp in (f_jvp, ft.jit(f_jvp)):
        np.testing.assert_allclose(jvp(t), 2 * np.cos(x) * t, rtol=1e-15)
    assert type(aux["y"]) is np.ndarray and aux["n"] == 3
    np.testing.assert_allclose(aux["y"], np.sin(x), rtol=1e-15)
    out, aux = ft.jit(lambda x: ft.linearize(f, x, has_aux=True)[::2])(x)
    np.testing.assert_allclose(aux["y"], np.sin(x), rtol=1e-15)
    # under an outer grad, the aux keeps the outer derivative
    g = ft.grad(lambda x: fnp.sum(ft.linearize(f, x, has_aux=True)[2]["y"]))(x)
    np.testing.assert_allclose(g, np.cos(x), rtol=1e-15)
    with pytest.raises(errors.HasAuxError):
        ft.linearize(fnp.sin, x, has_aux=True)


def test_linearize_of_an_output_independent_of_the_input_gives_zeros():
    _, f_jvp = ft.linearize(lambda x: (x * 2, np.ones(2)), np.ones(3))
    t_a, t_b = f_jvp(np.ones(3))
    np.testing.assert_array_equal(t_a, 2 * np.ones(3))
    np.testing.assert_array_equal(t_b, np.zeros(2))


def test_linear_transpose_is_the_adjoint():
    M = RNG.standard_normal((3, 4))

    def f(x, y):
        return {"p": M @ x + fnp.sum(y) * 2.0, "q": x[1:3] - y[::2]}

    x, y = np.zeros(4), np.zeros(4)
    f_t = ft.linear_transpose(f, x, y)
    ct = {"p": RNG.standard_normal(3), "q": RNG.standard_normal(2)}
    ct_x, ct_y = f_t(ct)
    vx, vy = RNG.standard_normal(4), RNG.standard_normal(4)
    out = f(vx, vy)
    lhs = np.dot(ct["p"], out["p"]) + np.dot(ct["q"], out["q"])
    rhs = np.dot(ct_x, vx) + np.dot(ct_y, vy)
    np.testing.assert_allclose(lhs, rhs, rtol=1e-12)


def test_linear_transpose_rejects_non_linear_functions():
    with pytest.raises(errors.NotLinearError, match="'sin'"):
        ft.linear_transpose(fnp.sin, np.zeros(2))
    with pytest.raises(errors.NotLinearError):
        ft.linear_transpose(lambda x: x * x, np.zeros(2))(np.ones(2))
