"""functrans.numpy.fft: the table rows (values against NumPy for every norm, check_grads to
second order in both modes for complex and real input), and the adjoint identities."""
from __future__ import annotations

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans.testing import check_grads

from specs import FFT_SPECS, check_spec


@pytest.mark.parametrize("spec", FFT_SPECS, ids=repr)
def test_function(spec, backend):
    check_spec(spec, backend)


@pytest.mark.parametrize("spec", [s for s in FFT_SPECS if len(s.dtypes) > 1 and s.nargs], ids=repr)
def test_function_low_precision(spec, backend):
    check_spec(spec, backend, low_precision=True, all_examples=True)


rng = np.random.default_rng(0)


@pytest.mark.parametrize("norm", [None, "ortho", "forward"])
def test_parseval_gradient(norm):
    x = rng.standard_normal(6)
    scale = {None: 6, "ortho": 1, "forward": 1 / 6}[norm]
    g = ft.grad(lambda x: fnp.sum(fnp.abs(fnp.fft.fft(x, norm=norm)) ** 2))(x)
    assert np.allclose(g, 2 * scale * x)


@pytest.mark.parametrize("n", [5, 6])
def test_irfft_rfft_roundtrip_gradient(n):
    x = rng.standard_normal(n)
    g = ft.grad(lambda x: fnp.sum(fnp.fft.irfft(fnp.fft.rfft(x), n) * np.arange(n)))(x)
    assert np.allclose(g, np.arange(n))


def test_vjp_is_the_adjoint():
    x = rng.standard_normal((3, 4)) + 1j * rng.standard_normal((3, 4))
    ct = rng.standard_normal((3, 4)) + 1j * rng.standard_normal((3, 4))
    _, pullback = ft.vjp(lambda x: fnp.fft.fft2(x, norm="ortho"), x)
    (got,) = pullback(ct)
    # plain transpose (no conjugation) of the symmetric DFT matrix
    assert np.allclose(got, np.fft.fft2(ct, norm="ortho"))
    check_grads(lambda x: fnp.fft.fftshift(fnp.fft.ifftn(x, s=(4, 5), axes=(0, 1))), (x,), order=2)
