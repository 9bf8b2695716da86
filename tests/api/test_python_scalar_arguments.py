"""A Python scalar argument is weakly typed in every mode: eager, jit and vmap give the dtypes
and values of the function without the transformation (``x32 * c`` is float32), through
derivatives and through the higher-order primitives that take it as an operand."""
import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp

X32 = np.linspace(0.1, 1.0, 3).astype(np.float32)
C = 2.0


def _plain(x, c):
    return fnp.sum(fnp.sin(x * c))


@ft.custom_vjp
def _with_vjp(x, c):
    return fnp.sum(fnp.sin(x * c))


def _with_vjp_fwd(x, c):
    return _with_vjp(x, c), (x, c)


def _with_vjp_bwd(res, ct):
    x, c = res
    return ct * fnp.cos(x * c) * c, fnp.sum(ct * fnp.cos(x * c) * x)


_with_vjp.defvjp(_with_vjp_fwd, _with_vjp_bwd)


@ft.custom_jvp
def _with_jvp(x, c):
    return fnp.sum(fnp.sin(x * c))


@_with_jvp.defjvp
def _with_jvp_rule(primals, tangents):
    (x, c), (dx, dc) = primals, tangents
    return _with_jvp(x, c), fnp.sum(fnp.cos(x * c) * (dx * c + x * dc))


FUNCTIONS = {"plain": _plain, "custom_vjp": _with_vjp, "custom_jvp": _with_jvp}

DERIVATIVES = {
    "grad(c)": lambda f: ft.grad(f, argnums=1),
    "value_and_grad(x, c)": lambda f: ft.value_and_grad(f, argnums=(0, 1)),
    "vjp": lambda f: lambda x, c: ft.vjp(f, x, c)[1](np.float32(1.0)),
}


def _dtypes_and_values(result):
    leaves = ft.tree.leaves(result)
    return [np.asarray(leaf).dtype for leaf in leaves], [np.asarray(leaf) for leaf in leaves]


@pytest.mark.parametrize("fun", FUNCTIONS)
@pytest.mark.parametrize("derivative", DERIVATIVES)
def test_eager_derivatives_at_a_python_float_are_those_of_jit(fun, derivative):
    transformed = DERIVATIVES[derivative](FUNCTIONS[fun])
    eager_dtypes, eager = _dtypes_and_values(transformed(X32, C))
    jit_dtypes, staged = _dtypes_and_values(ft.jit(transformed)(X32, C))
    assert eager_dtypes == jit_dtypes
    for a, b in zip(eager, staged):
        np.testing.assert_allclose(a, b, rtol=1e-12)


@pytest.mark.parametrize("fun", FUNCTIONS)
def test_the_function_computes_with_the_weak_scalar_and_its_gradient_has_its_dtype(fun):
    # the primal is computed as without grad (float32); the gradient with respect to the
    # Python float has a Python float's dtype
    value, (g_x, g_c) = ft.value_and_grad(FUNCTIONS[fun], argnums=(0, 1))(X32, C)
    assert value.dtype == np.float32 and g_x.dtype == np.float32 and g_c.dtype == np.float64
    assert value == _plain(X32, C)
    cos = np.cos(X32 * np.float32(C))
    np.testing.assert_allclose(g_x, cos * np.float32(C), rtol=1e-6)
    # (the custom bwd computes it in float32, the others in the tangent's float64)
    np.testing.assert_allclose(g_c, np.dot(X32.astype(np.float64), cos.astype(np.float64)),
                               rtol=1e-6 if fun == "custom_vjp" else 1e-12)


def test_the_gradient_of_a_python_float_agrees_with_finite_differences():
    g = ft.grad(lambda c: _plain(X32.astype(np.float64), c))(C)
    eps = 1e-6
    numeric = (_plain(X32.astype(np.float64), C + eps) - _plain(X32.astype(np.float64), C - eps)) / (2 * eps)
    np.testing.assert_allclose(g, numeric, rtol=1e-7)


def test_jvp_at_a_python_float_gives_the_dtypes_of_jit():
    def pushed(x, c):
        return ft.jvp(_plain, (x, c), (np.ones(3, np.float32), 1.0))

    (y, dy), (y_jit, dy_jit) = pushed(X32, C), ft.jit(pushed)(X32, C)
    assert (y.dtype, dy.dtype) == (y_jit.dtype, dy_jit.dtype) == (np.float32, np.float64)
    assert y == y_jit
    np.testing.assert_allclose(dy, dy_jit, rtol=1e-12)


def test_a_python_int_beside_a_differentiated_array_stays_weak():
    value, g = ft.value_and_grad(lambda x, n: fnp.sum(x * n), argnums=(0, 1), allow_int=True)(X32, 3)
    assert value.dtype == g[0].dtype == np.float32
    assert value == fnp.sum(X32 * 3)
    np.testing.assert_array_equal(g[0], np.full(3, 3.0, np.float32))
    assert g[1] == 0
