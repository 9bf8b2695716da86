"""Python scalars beside arrays on a device, in every transformation: as primals, tangents and
cotangents they give the numbers NumPy gives, and the results live on the arrays' device."""
from __future__ import annotations

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans.testing import check_grads

X = np.array([0.5, -1.0, 2.0])
A = 2.0


def f_ax(a, x):
    """A scalar of a Python-scalar parameter ``a`` and an array ``x``."""
    return fnp.sum(a ** 2 * fnp.sin(x))


def grad_a(a, x):  # d f_ax / da
    return 2 * a * np.sum(np.sin(x))


@pytest.fixture
def x(backend):
    return backend.put(X)


def check(backend, got, expected, what="result"):
    """``got`` lives on the backend's device and holds the values of ``expected``."""
    backend.check_placed(got, what)
    got, expected = backend.get(got), expected
    if isinstance(expected, tuple):
        assert isinstance(got, tuple) and len(got) == len(expected), what
        for g, e in zip(got, expected):
            np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-12, err_msg=what)
    else:
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12, err_msg=what)


# -- reverse mode ---------------------------------------------------------------------------------


def test_grad_of_python_float(backend, x):
    check(backend, ft.grad(f_ax)(A, x), grad_a(A, X))
    check(backend, ft.grad(f_ax, argnums=(0, 1))(A, x),
          (grad_a(A, X), A ** 2 * np.cos(X)))
    value, g = ft.value_and_grad(f_ax)(A, x)
    check(backend, (value, g), (A ** 2 * np.sum(np.sin(X)), grad_a(A, X)))


def test_grad_of_pytree_of_python_scalars(backend, x):
    g = ft.grad(lambda p, x: f_ax(p["a"], x) * p["b"])({"a": A, "b": 3.0}, x)
    check(backend, (g["a"], g["b"]), (3.0 * grad_a(A, X), A ** 2 * np.sum(np.sin(X))))


def test_zero_gradient_of_python_float_lives_beside_the_arrays(backend, x):
    g = ft.grad(lambda a, x: fnp.sum(x ** 2))(A, x)
    check(backend, g, 0.0)
    g = ft.grad(lambda a, x: fnp.sum(x ** 2), argnums=(0, 1))(A, x)
    check(backend, g, (0.0, 2 * X))
    _, f_vjp = ft.vjp(lambda a, x: x * 3.0, A, x)
    check(backend, f_vjp(backend.put(np.ones(3))), (0.0, 3.0 * np.ones(3)))


def test_grad_of_int_and_complex_python_scalars(backend, x):
    check(backend, ft.grad(lambda n, x: fnp.sum(n * x), argnums=1)(3, x), 3.0 * np.ones(3))
    backend.check_placed(ft.grad(lambda n, x: fnp.sum(n * x), allow_int=True)(3, x))
    z = 1.0 + 1.0j
    g = ft.grad(lambda z, x: fnp.sum(z ** 2 * x), holomorphic=True)(z, x)
    check(backend, g, 2 * z * np.sum(X))


def test_vjp_with_python_cotangents(backend, x):
    out, f_vjp = ft.vjp(lambda x: fnp.sum(x ** 2), x)
    check(backend, f_vjp(1.0), (2 * X,))
    check(backend, f_vjp(1), (2 * X,))  # an int cotangent takes the output's dtype
    check(backend, f_vjp(np.float64(0.5)), (X,))
    out, f_vjp = ft.vjp(f_ax, A, x)
    check(backend, out, A ** 2 * np.sum(np.sin(X)))
    check(backend, f_vjp(2.0), (2 * grad_a(A, X), 2 * A ** 2 * np.cos(X)))


def test_vjp_of_bool_primal(backend, x):
    out, f_vjp = ft.vjp(lambda b, x: fnp.where(b, x, 0.0), True, x)
    check(backend, out, X)
    _, ct_x = f_vjp(backend.put(np.ones(3)))
    check(backend, ct_x, np.ones(3))


def test_custom_vjp_with_python_scalar(backend, x):
    @ft.custom_vjp
    def scaled(a, x):
        return a * x

    scaled.defvjp(lambda a, x: (a * x, (a, x)),
                  lambda res, ct: (fnp.sum(ct * res[1]), ct * res[0]))
    check(backend, ft.grad(lambda a, x: fnp.sum(scaled(a, x)))(A, x), np.sum(X))
    check(backend, ft.grad(lambda a, x: fnp.sum(scaled(a, x)), argnums=1)(A, x),
          A * np.ones(3))


def test_checkpoint_with_python_scalar(backend, x):
    block = ft.checkpoint(lambda a, x: a ** 2 * fnp.sin(x))
    check(backend, ft.grad(lambda a, x: fnp.sum(block(a, x)))(A, x), grad_a(A, X))
    check(backend, ft.grad(lambda a: fnp.sum(block(a, x)))(A), grad_a(A, X))  # x closed over


# -- forward mode ---------------------------------------------------------------------------------


def test_jvp_with_python_primal_and_tangent(backend, x):
    check(backend, ft.jvp(lambda a: a * x, (A,), (1.0,)), (A * X, X))
    check(backend, ft.jvp(f_ax, (A, x), (0.5, backend.put(np.zeros(3)))),
          (A ** 2 * np.sum(np.sin(X)), 0.5 * grad_a(A, X)))
    check(backend, ft.jvp(lambda n, a: n * a * x, (3, A), (0, 1.0)), (3 * A * X, 3 * X))


def test_python_tangent_of_a_device_scalar_lives_on_its_device(backend, x):
    s = backend.put(np.array(A))
    # the tangent is broadcast before it meets x: it must already be on x's device
    out = ft.jvp(lambda s: fnp.broadcast_to(s, (3,)) * x, (s,), (1.0,))
    check(backend, out, (A * X, X))
    y, f_jvp = ft.linearize(lambda s: fnp.broadcast_to(s, (3,)) * x, s)
    check(backend, f_jvp(2.0), 2 * X)


def test_linearize_with_python_scalars(backend, x):
    y, f_jvp = ft.linearize(lambda a: a * fnp.sin(x), A)
    check(backend, y, A * np.sin(X))
    check(backend, f_jvp(1.0), np.sin(X))
    check(backend, f_jvp(0.5), 0.5 * np.sin(X))


def test_custom_jvp_with_python_scalar(backend, x):
    @ft.custom_jvp
    def scaled(a, x):
        return a * x

    @scaled.defjvp
    def _(primals, tangents):
        (a, x), (ta, tx) = primals, tangents
        return a * x, ta * x + a * tx

    check(backend, ft.jvp(lambda a: scaled(a, x), (A,), (1.0,)), (A * X, X))
    check(backend, ft.grad(lambda a, x: fnp.sum(scaled(a, x)))(A, x), np.sum(X))


# -- Jacobians, vmap, jit ----------------------------------------------------------------------------


def test_jacobians_of_python_float(backend, x):
    check(backend, ft.jacfwd(lambda a, x: a * x)(A, x), X)
    check(backend, ft.jacrev(lambda a, x: a * x)(A, x), X)
    check(backend, ft.jacfwd(lambda a, x: a * x, argnums=(0, 1))(A, x), (X, A * np.eye(3)))
    check(backend, ft.jacrev(lambda a, x: a * x, argnums=(0, 1))(A, x), (X, A * np.eye(3)))
    check(backend, ft.jacfwd(lambda a, x: 2.0 * x)(A, x), np.zeros(3))  # no dependence
    check(backend, ft.jacrev(lambda a, x: 2.0 * x)(A, x), np.zeros(3))
    check(backend, ft.jacrev(lambda a: a * x)(A), X)  # x closed over
    check(backend, ft.jacfwd(lambda a: a * x)(A), X)


def test_jacobians_of_a_function_closing_over_its_arrays(backend, x):
    check(backend, ft.hessian(lambda a: fnp.sum(a ** 3 * x))(A), 6 * A * np.sum(X))
    jac, aux = ft.jacfwd(lambda a: (a * fnp.sin(x), fnp.sum(x)), has_aux=True)(A)
    check(backend, (jac, aux), (np.sin(X), np.sum(X)))
    check(backend, ft.jacfwd(lambda a: (a * x, fnp.sum(x)))(A), (X, 0.0))


def test_jacobians_of_several_scalars_of_a_function_closing_over_its_arrays(backend, x):
    # the unit vectors of the scalars are built where the arrays they meet live
    check(backend, ft.jacfwd(lambda a, b: a * x + b, argnums=(0, 1))(A, 3.0), (X, np.ones(3)))
    check(backend, ft.jacrev(lambda a, b: a * x + b, argnums=(0, 1))(A, 3.0), (X, np.ones(3)))
    jac = ft.jacfwd(lambda p: p["a"] * fnp.sin(x) + p["b"] ** 2)({"a": A, "b": 3.0})
    check(backend, (jac["a"], jac["b"]), (np.sin(X), 6.0 * np.ones(3)))
    h = ft.hessian(lambda a, b: fnp.sum(a * b * x), argnums=(0, 1))(A, 3.0)
    check(backend, h, ((0.0, np.sum(X)), (np.sum(X), 0.0)))
    # a step that meets no device array first (sum of a scalar, sin), then the closed-over x
    check(backend, ft.jacfwd(lambda a, b: fnp.sum(a) * x + fnp.sin(b) * x, argnums=(0, 1))(A, 3.0),
          (X, np.cos(3.0) * X))
    x0 = backend.put(np.array(1.5))  # a 0-d array on the device scales the unit vector
    check(backend, ft.jacfwd(lambda a, b: a * x0 + b, argnums=(0, 1))(A, 3.0), (1.5, 1.0))
    check(backend, ft.jit(ft.jacfwd(lambda a, b: a * x + b, argnums=(0, 1)))(A, 3.0),
          (X, np.ones(3)))
    # under an outer transformation, the derivative in x through it
    check_grads(lambda x: ft.jacfwd(lambda a, b: a * b * fnp.sin(x), argnums=(0, 1))(A, 3.0),
                (x,), order=1)


def test_jacobians_with_a_numpy_scalar_factor(backend, x):
    # a NumPy scalar scales the symbolic basis as a Python scalar does
    two = np.float64(2.0)
    check(backend, ft.jacfwd(lambda x: two * x)(x), 2.0 * np.eye(3))
    check(backend, ft.jacrev(lambda x: two * x)(x), 2.0 * np.eye(3))
    check(backend, ft.jacfwd(lambda x: x / two)(x), 0.5 * np.eye(3))
    w = np.arange(6.0).reshape(2, 3)
    check(backend, ft.jacfwd(lambda x: backend.put(w) @ (two * x))(x), 2.0 * w)
    check(backend, ft.jacrev(lambda x: two * (backend.put(w) @ x))(x), 2.0 * w)
    check(backend, ft.jacfwd(lambda x: fnp.sum(two * x))(x), 2.0 * np.ones(3))
    check(backend, ft.jacfwd(lambda x: fnp.reshape(two * x, (3, 1)))(x),
          2.0 * np.eye(3).reshape(3, 1, 3))
    x32 = backend.put(X.astype(np.float32))
    jac = ft.jacfwd(lambda x: np.float32(2.0) * x)(x32)
    check(backend, jac, 2.0 * np.eye(3))
    assert backend.get(jac).dtype == np.float32
    check_grads(lambda x: ft.jacrev(lambda x: two * fnp.sin(x))(x), (x,), order=1)


def test_hessian_of_python_float(backend, x):
    check(backend, ft.hessian(lambda a, x: fnp.sum(a ** 3 * x))(A, x), 6 * A * np.sum(X))
    h = ft.hessian(f_ax, argnums=(0, 1))(A, x)
    (haa, hax), (hxa, hxx) = h
    check(backend, (haa, hax, hxa, hxx),
          (2 * np.sum(np.sin(X)), 2 * A * np.cos(X), 2 * A * np.cos(X),
           -np.diag(A ** 2 * np.sin(X))))


def test_vmap_with_python_scalars(backend, x):
    check(backend, ft.vmap(lambda a, xi: a * xi, in_axes=(None, 0))(A, x), A * X)
    ones, doubled = ft.vmap(lambda xi: (1.0, 2 * xi))(x)  # an output that is a Python scalar
    check(backend, (ones, doubled), (np.ones(3), 2 * X))
    check(backend, ft.vmap(ft.grad(f_ax), in_axes=(None, 0))(A, x), 2 * A * np.sin(X))


def test_jit_with_python_scalars(backend, x):
    check(backend, ft.jit(ft.grad(f_ax))(A, x), grad_a(A, X))
    check(backend, ft.grad(ft.jit(f_ax))(A, x), grad_a(A, X))
    check(backend, ft.jit(lambda x: ft.vjp(lambda x: fnp.sum(x ** 2), x)[1](1.0))(x), (2 * X,))
    check(backend, ft.jit(ft.jacfwd(lambda a, x: a * x))(A, x), X)


# -- second order -------------------------------------------------------------------------------


def test_second_order_compositions(backend, x):
    hess_aa = 2 * np.sum(np.sin(X))
    check(backend, ft.grad(ft.grad(f_ax))(A, x), hess_aa)
    check(backend, ft.jvp(ft.grad(f_ax), (A, x), (1.0, backend.put(np.zeros(3)))),
          (grad_a(A, X), hess_aa))
    check(backend, ft.jacfwd(ft.grad(f_ax))(A, x), hess_aa)
    check(backend, ft.jacrev(ft.grad(f_ax))(A, x), hess_aa)
    _, f_vjp = ft.vjp(ft.grad(f_ax), A, x)
    check(backend, f_vjp(1.0), (hess_aa, 2 * A * np.cos(X)))
    # an inner jvp with a Python tangent, under an outer grad (x closed over)
    g = ft.grad(lambda a: fnp.sum(ft.jvp(lambda b: b ** 3 * x, (a,), (1.0,))[1]))(A)
    check(backend, g, 6 * A * np.sum(X))


def test_derivatives_through_python_scalar_paths(backend, x):
    # the inner transformations meet Python scalars; check_grads differentiates them in x
    check_grads(lambda x: ft.grad(f_ax)(A, x), (x,), order=1)
    check_grads(lambda x: ft.vjp(lambda x: fnp.sum(fnp.sin(x) * x), x)[1](1.0)[0], (x,), order=1)
    check_grads(lambda x: ft.jvp(lambda a: a * fnp.sin(x), (A,), (1.0,))[1], (x,), order=1)
    check_grads(lambda x: ft.jacfwd(lambda a, x: a ** 2 * fnp.sin(x))(A, x), (x,), order=1)


# -- functrans.numpy with Python numbers beside device arrays ------------------------------------


FNP_CASES = {
    "where": (lambda x: fnp.where(x > 0, x, 0.0), lambda x: np.where(x > 0, x, 0.0)),
    "clip": (lambda x: fnp.clip(x, 0.0, 1.0), lambda x: np.clip(x, 0.0, 1.0)),
    "full_like": (lambda x: fnp.full_like(x, 2.0) * x, lambda x: np.full_like(x, 2.0) * x),
    "maximum": (lambda x: fnp.maximum(x, 0.0), lambda x: np.maximum(x, 0.0)),
    "power": (lambda x: fnp.power(2.0, x), lambda x: np.power(2.0, x)),
    "asarray of a list": (lambda x: fnp.asarray([[x[0], 1.0], [2.0, x[1]]]) * x[:2],
                          lambda x: np.asarray([[x[0], 1.0], [2.0, x[1]]]) * x[:2]),
}


@pytest.mark.parametrize("name", list(FNP_CASES))
def test_numpy_functions_take_python_numbers(backend, x, name):
    fn, reference = FNP_CASES[name]
    check(backend, fn(x), reference(X))
    check_grads(lambda x: fnp.sum(fn(x) ** 2), (x,), order=1)


def test_a_host_array_beside_a_device_array_stays_an_error(backend, x):
    if backend.name == "numpy":
        pytest.skip("NumPy arrays are the host's")
    with pytest.raises((TypeError, ValueError), match="device"):
        x + fnp.asarray(1.0)


# -- NumPy users get the types they got ----------------------------------------------------------


def test_numpy_result_types_of_python_scalars():
    assert type(ft.grad(lambda a: a ** 2)(A)) is np.float64
    assert type(ft.grad(f_ax)(A, X)) is np.float64
    assert type(ft.jacfwd(lambda a: a ** 2)(A)) is np.ndarray
    assert type(ft.hessian(lambda a: a ** 3)(A)) is np.ndarray
    assert type(ft.grad(lambda a, x: fnp.sum(x))(A, X)) is np.ndarray
    assert type(ft.vjp(lambda a: a * X, A)[1](np.ones(3))[0]) is np.float64
    jac = ft.jacfwd(lambda a, b: a * X + b, argnums=(0, 1))(A, 3.0)
    assert all(type(j) is np.ndarray for j in jac)
    assert type(ft.jacfwd(lambda x: np.float64(2.0) * x)(X)) is np.ndarray
