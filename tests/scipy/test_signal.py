"""functrans.scipy.signal: the table rows (values against SciPy, derivatives in both inputs
to second order, both backends), and what the rows do not draw: integer and complex inputs,
large kernels, the automatic method, and the errors."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.signal as ss

import functrans as ft
import functrans.scipy.signal as fss
from functrans.testing import check_grads

from specs import check_spec
from specs.tables import SIGNAL_SPECS


@pytest.mark.parametrize("spec", SIGNAL_SPECS, ids=repr)
def test_function(spec, backend):
    check_spec(spec, backend)


@pytest.mark.parametrize("spec", SIGNAL_SPECS, ids=repr)
def test_function_low_precision(spec, backend):
    check_spec(spec, backend, low_precision=True)


@pytest.mark.parametrize("mode", ["full", "same", "valid"])
def test_integers_are_exact_and_stay_integers(mode):
    a, b = np.arange(12).reshape(3, 4), np.array([[1, -2], [3, 0]])
    for name in ("convolve", "correlate"):
        got, ref = getattr(fss, name)(a, b, mode), getattr(ss, name)(a, b, mode)
        assert got.dtype == ref.dtype and np.array_equal(got, ref)


@pytest.mark.parametrize("method", ["direct", "fft"])
def test_complex_inputs_and_their_derivatives(method):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((5,)) + 1j * rng.standard_normal(5)
    b = rng.standard_normal((3,)) + 1j * rng.standard_normal(3)
    for name in ("convolve", "correlate"):
        np.testing.assert_allclose(getattr(fss, name)(a, b, "same", method),
                                   getattr(ss, name)(a, b, "same", method), rtol=1e-12, atol=1e-12)
        check_grads(lambda a, b: getattr(fss, name)(a, b, "full", method), (a, b), order=2)


def test_auto_takes_the_fft_for_large_kernels_with_the_same_values(backend):
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal(300), rng.standard_normal(100)
    assert fss.choose_conv_method(a, b) == "fft" and fss.choose_conv_method(a, b[:5]) == "direct"
    got = fss.convolve(backend.put(a), backend.put(b), "same")
    backend.check_placed(got)
    np.testing.assert_allclose(backend.get(got), ss.convolve(a, b, "same"), rtol=1e-10, atol=1e-10)
    # the derivative of a convolution in its kernel is a correlation with the signal
    g = ft.grad(lambda b: fss.convolve(a, b, "valid") @ np.ones(201))(b)
    np.testing.assert_allclose(g, [a[99 - j:300 - j].sum() for j in range(100)], rtol=1e-10)


def test_jit_and_vmap():
    rng = np.random.default_rng(2)
    xs, k = rng.standard_normal((4, 6)), rng.standard_normal(3)
    batched = ft.vmap(lambda x: fss.convolve(x, k, "same"))(xs)
    np.testing.assert_allclose(batched, [ss.convolve(x, k, "same") for x in xs], rtol=1e-12)
    jitted = ft.jit(lambda x, k: fss.correlate2d(x, k, "same", "wrap"))
    np.testing.assert_allclose(jitted(xs, k[None]), ss.correlate2d(xs, k[None], "same", "wrap"),
                               rtol=1e-12)


def test_errors_name_the_problem():
    with pytest.raises(ValueError, match="mode must be one of"):
        fss.convolve(np.ones(3), np.ones(2), mode="circular")
    with pytest.raises(ValueError, match="method must be one of"):
        fss.convolve(np.ones(3), np.ones(2), method="overlap-add")
    with pytest.raises(ValueError, match="same number of dimensions"):
        fss.convolve(np.ones(3), np.ones((2, 2)))
    with pytest.raises(ValueError, match="at least as large"):
        fss.correlate(np.ones((3, 1)), np.ones((1, 3)), mode="valid")
    with pytest.raises(ValueError, match="2-D arrays"):
        fss.convolve2d(np.ones(3), np.ones(2))
    with pytest.raises(ValueError, match="boundary must be"):
        fss.convolve2d(np.ones((3, 3)), np.ones((2, 2)), boundary="reflect")
    with pytest.raises(NotImplementedError, match="axes=None"):
        fss.fftconvolve(np.ones(3), np.ones(2), axes=0)


def test_precision_is_checked_and_changes_nothing():
    x, k = np.arange(5.0), np.array([1.0, -2.0, 0.5])
    for name in ("convolve", "correlate"):
        fn = getattr(fss, name)
        np.testing.assert_array_equal(fn(x, k, precision="highest"), fn(x, k))
        np.testing.assert_array_equal(ft.jit(lambda x: fn(x, k, precision=ft.lax.Precision.HIGH))(x), fn(x, k))
    for name in ("convolve2d", "correlate2d"):
        fn = getattr(fss, name)
        a, b = np.eye(3), np.ones((2, 2))
        np.testing.assert_array_equal(fn(a, b, precision="highest"), fn(a, b))
    with pytest.raises(ValueError, match="precision"):
        fss.convolve(x, k, precision="bogus")
