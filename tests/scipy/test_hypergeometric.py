"""functrans.scipy.special.hyp1f1 and hyp2f1: SciPy's values on generated arguments in each regime
of their computation (series, Kummer's and Pfaff's transformations, the connection formula near
x = 1 and its logarithmic form), closed forms, NaN (never a wrong number) where the sums cannot
be trusted, float32 kept, eager = jit = vmap, derivatives in x to second order in both modes,
an error for the parameters, and the strict backend."""
from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.special as ss
from hypothesis import given, settings
from hypothesis import strategies as st

import functrans as ft
import functrans.scipy.special as fsp
from functrans import errors
from functrans.testing import check_grads

RTOL = 1e-9


def _close(got, want, rtol=RTOL):
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    return (np.abs(got - want) <= rtol * np.abs(want)) | (got == want)


def _assert_scipys(got, want, *args):
    ok = _close(got, want)
    assert ok.all(), [tuple(float(np.broadcast_to(a, ok.shape)[i]) for a in args) + (got[i], want[i])
                      for i in np.flatnonzero(~ok)[:5]]


def _assert_scipys_or_nan(got, want, *args, at_most_nan=1.0):
    """Every value is SciPy's or NaN (no wrong number), with at most a share of NaN."""
    nan = np.isnan(got) & ~np.isnan(want)
    assert nan.mean() <= at_most_nan, nan.mean()
    _assert_scipys(np.where(nan, want, got), want, *args)


# --- 1F1 ------------------------------------------------------------------------------------------
def _regimes_1f1(rng, n):
    u = rng.uniform
    return {
        "series": (u(-5, 5, n), u(0.1, 10, n), u(-10, 10, n)),
        "large x": (u(0.1, 20, n), u(0.1, 20, n), u(10, 650, n)),
        "Kummer, large -x": (a := u(0.1, 20, n), a + u(0, 20, n), u(-650, -10, n)),
        "b < 0": (u(-3, 3, n), -u(0.1, 10, n), u(-3, 3, n)),
        "large a, b": (u(0.1, 100, n), u(0.1, 100, n), u(0, 50, n)),
        "large a, b, x < 0": (a2 := u(0.1, 100, n), a2 + u(0, 50, n), u(-50, 0, n)),
    }


@given(seed=st.integers(0, 2**16))
@settings(max_examples=6)
def test_hyp1f1_is_scipys_in_every_regime(seed):
    rng = np.random.default_rng(seed)
    with np.errstate(all="ignore"):
        for name, (a, b, x) in _regimes_1f1(rng, 200).items():
            got, want = fsp.hyp1f1(a, b, x), ss.hyp1f1(a, b, x)
            # near a zero of 1F1 (a < 0) or a pole of b the terms cancel: NaN, seldom
            _assert_scipys_or_nan(got, want, a, b, x, at_most_nan=0.05 if name in ("series", "b < 0") else 0.0)


@given(seed=st.integers(0, 2**16))
@settings(max_examples=6)
def test_hyp1f1_gives_nan_not_a_wrong_number_where_it_oscillates(seed):
    """a < 0 for x > 0 (b - a < 0 for x < 0), where 1F1 oscillates and the series' terms cancel."""
    rng = np.random.default_rng(seed)
    a, b, x = rng.uniform(-60, 0, 300), rng.uniform(0.1, 20, 300), rng.uniform(-100, 100, 300)
    a = np.where(x < 0, b - a, a)
    with np.errstate(all="ignore"):
        _assert_scipys_or_nan(fsp.hyp1f1(a, b, x), ss.hyp1f1(a, b, x), a, b, x)


def test_hyp1f1_closed_forms_and_special_points():
    x = np.array([-700.0, -30.0, -1.0, -1e-8, 0.0, 1e-8, 0.5, 30.0, 700.0])
    np.testing.assert_allclose(fsp.hyp1f1(2.5, 2.5, x), np.exp(x), rtol=1e-12)
    nonzero = x[x != 0]
    np.testing.assert_allclose(fsp.hyp1f1(1.0, 2.0, nonzero), np.expm1(nonzero) / nonzero, rtol=1e-12)
    # polynomials (Laguerre), a = 0, b a pole with and without the series ending before it
    np.testing.assert_allclose(fsp.hyp1f1(-2.0, 1.0, x[2:-2]), 1 - 2 * x[2:-2] + x[2:-2] ** 2 / 2, rtol=1e-12)
    assert float(fsp.hyp1f1(0.0, 3.0, 5.0)) == 1.0
    assert float(fsp.hyp1f1(-1.0, -2.0, 0.5)) == ss.hyp1f1(-1.0, -2.0, 0.5) == 1.25
    assert np.isinf(fsp.hyp1f1(1.0, -2.0, 0.5)) and np.isinf(fsp.hyp1f1(1.0, 0.0, -0.5))
    assert np.isnan(fsp.hyp1f1(np.nan, 1.0, 0.5)) and np.isnan(fsp.hyp1f1(1.0, 1.0, np.nan))
    assert float(fsp.hyp1f1(3.0, 2.0, 800.0)) == np.inf  # beyond float64, as SciPy


# --- 2F1 ------------------------------------------------------------------------------------------
def _regimes_2f1(rng, n):
    u = rng.uniform
    return {
        "series": (u(-5, 5, n), u(-5, 5, n), u(0.5, 10, n), u(-0.5, 0.9, n)),
        "near 1": (u(-5, 5, n), u(-5, 5, n), u(0.5, 10, n), u(0.9, 1.0, n)),
        "Pfaff": (u(-5, 5, n), u(-5, 5, n), u(0.5, 10, n), u(-50, -0.5, n)),
        "far below 0": (u(0.1, 5, n), u(0.1, 5, n), u(0.5, 10, n), -(10.0 ** u(1, 8, n))),
        "polynomial": (-rng.integers(0, 6, n).astype(float), u(-5, 5, n), u(0.5, 10, n), u(-5, 5, n)),
        "c < 0": (u(-3, 3, n), u(-3, 3, n), -u(0.1, 5, n), u(-0.9, 0.85, n)),
    }


@given(seed=st.integers(0, 2**16))
@settings(max_examples=6)
def test_hyp2f1_is_scipys_in_every_regime(seed):
    rng = np.random.default_rng(seed)
    with np.errstate(all="ignore"):
        for name, (a, b, c, x) in _regimes_2f1(rng, 200).items():
            got, want = fsp.hyp2f1(a, b, c, x), ss.hyp2f1(a, b, c, x)
            # (the terms may cancel beyond 1e5 now and then: NaN, in at most 2% of these draws)
            _assert_scipys_or_nan(got, want, a, b, c, x, at_most_nan=0.02 if name != "series" else 0.0)


@given(seed=st.integers(0, 2**16))
@settings(max_examples=6)
def test_hyp2f1_logarithmic_case_near_1_and_far_below_0(seed):
    """c - a - b an integer (c = a + b + m computed in floats) near x = 1 and for x << 0, against
    closed forms and Euler's transformation of the series (exact there)."""
    rng = np.random.default_rng(seed)
    x = np.concatenate([1 - 10.0 ** rng.uniform(-12, -1, 20), -(10.0 ** rng.uniform(1, 9, 20))])
    with np.errstate(all="ignore"):
        np.testing.assert_allclose(fsp.hyp2f1(1.0, 1.0, 2.0, x), -np.log1p(-x) / x, rtol=1e-11)
        s = np.sqrt(np.where(x > 0, x, 0.25))  # asin(s) / s = 2F1(1/2, 1/2; 3/2; s^2), m = 1/2 + 0
        np.testing.assert_allclose(fsp.hyp2f1(0.5, 0.5, 1.5, s * s), np.arcsin(s) / s, rtol=1e-11)
        for m in (-2, -1, 0, 1, 3):
            a, b = rng.uniform(0.2, 4, 2)
            c = a + b + m
            # Euler: 2F1(a, b; c; x) = (1 - x)^(c-a-b) 2F1(c - a, c - b; c; x), both sides here
            want = (1 - x) ** (c - a - b) * fsp.hyp2f1(c - a, c - b, c, x)
            got = fsp.hyp2f1(a, b, c, x)
            finite = np.isfinite(got)
            assert finite.all(), x[~finite]
            np.testing.assert_allclose(got, want, rtol=1e-9)
        # and SciPy's values where its own sum is sound (small integer parameters, not far below 0)
        near = x[:20]
        for a, b, c in ((1.0, 2.0, 3.0), (0.5, 0.5, 1.0), (2.0, 3.0, 4.0), (1.5, 2.5, 3.0), (1.0, 1.0, 4.0)):
            _assert_scipys(fsp.hyp2f1(a, b, c, near), ss.hyp2f1(a, b, c, near), a, b, c, near)


def test_hyp2f1_special_points():
    np.testing.assert_allclose(fsp.hyp2f1(1.0, 0.5, 3.0, 1.0), math.gamma(3) * math.gamma(1.5)
                               / (math.gamma(2) * math.gamma(2.5)), rtol=1e-13)  # Gauss's sum
    assert float(fsp.hyp2f1(1.0, 1.0, 2.0, 1.0)) == np.inf == ss.hyp2f1(1.0, 1.0, 2.0, 1.0)
    assert float(fsp.hyp2f1(1.0, 1.0, 2.0, 0.0)) == 1.0
    np.testing.assert_allclose(fsp.hyp2f1(2.5, 1.5, 1.5, np.array([-3.0, 0.5, 0.95])),
                               (1 - np.array([-3.0, 0.5, 0.95])) ** -2.5, rtol=1e-12)
    assert np.isinf(fsp.hyp2f1(1.0, 1.0, -2.0, 0.5)) and float(fsp.hyp2f1(-1.0, 1.0, -2.0, 0.5)) == 1.25
    assert float(fsp.hyp2f1(-2.0, 1.0, 2.0, 1.5)) == ss.hyp2f1(-2.0, 1.0, 2.0, 1.5)  # a polynomial past 1
    assert np.isnan(fsp.hyp2f1(1.0, 1.0, 2.0, 1.5))  # complex there (SciPy: inf)
    assert np.isnan(fsp.hyp2f1(1.0, 1.0, 2.0, np.nan))


# --- both: dtypes, transformations, derivatives, errors, backends -----------------------------------
CASES = [
    (fsp.hyp1f1, (1.5, 2.5), np.array([-40.0, -3.0, 0.2, 4.0, 60.0])),
    (fsp.hyp2f1, (1.5, 0.5, 2.25), np.array([-40.0, -0.7, 0.2, 0.8, 0.97])),
]


@pytest.mark.parametrize("fn, params, x", CASES, ids=["hyp1f1", "hyp2f1"])
def test_float32_eager_jit_vmap_and_derivatives_in_x(fn, params, x):
    out = fn(*params, x)
    assert out.dtype == np.float64
    out32 = fn(*(np.float32(p) for p in params), x.astype(np.float32))
    assert out32.dtype == np.float32
    np.testing.assert_allclose(out32, out, rtol=1e-6)
    assert fn(*params, x.astype(np.float32)).dtype == np.float32  # Python floats are weak
    assert fn(*(int(2 * p) for p in params), 0).dtype == np.float64  # integers compute in float64
    np.testing.assert_array_equal(ft.jit(fn)(*params, x), out)
    np.testing.assert_array_equal(ft.vmap(fn, in_axes=(None,) * len(params) + (0,))(*params, x), out)
    columns = [np.full_like(x, p) for p in params]
    np.testing.assert_array_equal(ft.vmap(fn)(*columns, x), out)
    check_grads(lambda v: fn(*params, v), (x,), order=2, modes=("fwd", "rev"))
    h = 1e-6 * np.maximum(1.0, np.abs(x))
    finite_difference = (fn(*params, x + h) - fn(*params, x - h)) / (2 * h)
    np.testing.assert_allclose(ft.vmap(ft.grad(lambda v: fn(*params, v)))(x), finite_difference, rtol=1e-6)
    assert ft.grad(lambda v: fn(*params, v))(np.float32(0.2)).dtype == np.float32


@pytest.mark.parametrize("fn, params, x", CASES, ids=["hyp1f1", "hyp2f1"])
def test_parameters_are_not_differentiable_and_complex_is_refused(fn, params, x):
    for i in range(len(params)):
        with pytest.raises(errors.UnsupportedError, match="not differentiable in"):
            ft.grad(fn, argnums=i)(*params, 0.5)
        # as constants they are fine
        ft.grad(lambda v, i=i: fn(*(ft.lax.stop_gradient(v) if j == i else p for j, p in enumerate(params)), v))(0.5)
    with pytest.raises(ValueError, match="real arguments"):
        fn(*params, 0.5 + 1j)


@pytest.mark.parametrize("fn, params, x", CASES, ids=["hyp1f1", "hyp2f1"])
def test_hypergeometric_on_backends(fn, params, x, backend):
    got = fn(*params, backend.put(x))
    backend.check_placed(got)
    np.testing.assert_array_equal(backend.get(got), fn(*params, x))
    check_grads(lambda v: fn(*params, v), (backend.put(x),), order=1, modes=("fwd", "rev"))
