"""Complex numbers: JAX's conventions for grad (real-valued functions of complex input give
df/dx - i df/dy), holomorphic=True, jvp and vjp of holomorphic functions, and derivative
checks of complex functions in complex128."""
from __future__ import annotations

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans import errors
from functrans.testing import check_grads

rng = np.random.default_rng(0)
Z = rng.standard_normal(4) + 1j * rng.standard_normal(4)


def test_grad_of_real_function_is_the_conjugate_convention():
    assert ft.grad(lambda z: fnp.abs(z) ** 2)(1 + 1j) == 2 - 2j
    g = ft.grad(lambda z: fnp.sum(fnp.real(z * fnp.conj(z))))(Z)
    assert np.allclose(g, 2 * np.conj(Z))
    # df/dx - i df/dy for f = x^2 y (z = x + iy)
    f = lambda z: fnp.real(z) ** 2 * fnp.imag(z)
    x, y = 0.7, -1.3
    assert np.isclose(ft.grad(f)(x + 1j * y), 2 * x * y - 1j * x**2)


def test_descent_with_the_conjugate_gradient_converges():
    f = lambda z: fnp.abs(z - (1 + 2j)) ** 2
    z = 0j
    for _ in range(60):
        z = z - 0.1 * np.conj(ft.grad(f)(z))
    assert np.isclose(z, 1 + 2j)


def test_holomorphic_grad_is_the_complex_derivative():
    z = 0.3 - 0.8j
    assert np.isclose(ft.grad(lambda z: z**3, holomorphic=True)(z), 3 * z**2)
    assert np.isclose(ft.grad(fnp.exp, holomorphic=True)(z), np.exp(z))
    assert np.isclose(ft.grad(lambda z: fnp.log(z) * fnp.sin(z), holomorphic=True)(z),
                      np.sin(z) / z + np.log(z) * np.cos(z))
    value, g = ft.value_and_grad(lambda z: fnp.tanh(z), holomorphic=True)(z)
    assert np.isclose(value, np.tanh(z)) and np.isclose(g, 1 - np.tanh(z) ** 2)
    # second complex derivative
    assert np.isclose(ft.grad(ft.grad(lambda z: z**4, holomorphic=True), holomorphic=True)(z), 12 * z**2)


def test_holomorphic_errors():
    with pytest.raises(errors.InputDtypeError, match="holomorphic=True.*complex"):
        ft.grad(lambda x: x * 1j, holomorphic=True)(1.0)
    with pytest.raises(errors.NonScalarOutputError, match="holomorphic=True needs a complex output"):
        ft.grad(lambda z: fnp.abs(z), holomorphic=True)(1j)
    with pytest.raises(errors.NonScalarOutputError, match="holomorphic=True"):
        ft.grad(lambda z: z**2)(1j)


def test_jvp_and_vjp_of_holomorphic_functions():
    f = lambda z: fnp.exp(z) / (1 + z**2)
    df = lambda z: np.exp(z) / (1 + z**2) - np.exp(z) * 2 * z / (1 + z**2) ** 2
    t = rng.standard_normal(4) + 1j * rng.standard_normal(4)
    _, out_t = ft.jvp(f, (Z,), (t,))
    assert np.allclose(out_t, df(Z) * t)
    _, pullback = ft.vjp(f, Z)
    assert np.allclose(pullback(np.ones(4, complex))[0], df(Z))


@pytest.mark.parametrize("fn", [
    lambda z: fnp.sin(z) * fnp.exp(z),
    lambda z: fnp.sqrt(z + 3.0) / (1 + z**2),
    lambda z: fnp.abs(z),
    lambda z: fnp.angle(z),
    lambda z: fnp.real(z) * fnp.imag(z),
    lambda z: fnp.conj(z) * z,
    lambda z: fnp.cumsum(z) * fnp.cumprod(z),
    lambda z: fnp.logaddexp(fnp.real(z), fnp.imag(z)),
    lambda z: fnp.linalg.norm(z),
    lambda z: fnp.fft.ifft(fnp.fft.fft(z) * z),
    lambda z: fnp.sort(fnp.real(z)) * z,
    lambda z: fnp.mean(z) * fnp.var(z),
])
def test_check_grads_complex128(fn):
    check_grads(fn, (Z,), order=2)


def test_real_weights_with_complex_data_get_real_gradients():
    w = rng.standard_normal((3, 4))
    g = ft.grad(lambda w: fnp.sum(fnp.abs(w @ Z) ** 2))(w)
    assert g.dtype == np.float64
    assert np.allclose(g, 2 * np.real(np.outer(np.conj(w @ Z), Z)))
    check_grads(lambda w, z: fnp.abs(w @ z) ** 2, (w, Z), order=2)


def test_complex64_stays_complex64():
    z = Z.astype(np.complex64)
    g = ft.grad(lambda z: fnp.sum(fnp.abs(fnp.exp(z)) ** 2))(z)
    assert g.dtype == np.complex64


def test_logistic_of_complex_input_stays_complex():
    z = np.array([0.5 + 1j, -2 - 0.3j])
    np.testing.assert_allclose(fnp.logistic(z), 1 / (1 + np.exp(-z)), rtol=1e-15)
    s = 1 / (1 + np.exp(-z[0]))
    np.testing.assert_allclose(ft.grad(fnp.logistic, holomorphic=True)(z[0]), s * (1 - s), rtol=1e-14)
