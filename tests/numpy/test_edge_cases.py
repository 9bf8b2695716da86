"""Edge cases of functrans.numpy functions with exact expected values (ties, zeros, infinities,
repeated einsum subscripts, NaN-skipping reductions), NumPy's dispatch to them and the tracer
methods, and the rows for names that are not top-level functions (``r_``, ``c_``).

The table rows of these functions and their primitives (tests/specs/) are run by
tests/numpy/test_functions.py and tests/primitives/test_primitives.py."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans import errors
from functrans.testing import check_grads

from specs import INDEX_TRICK_SPECS, check_spec


@pytest.mark.parametrize("spec", INDEX_TRICK_SPECS, ids=repr)
def test_index_tricks(spec, backend):
    check_spec(spec, backend)


# -- special points ------------------------------------------------------------------------------

grad = ft.grad


def test_logaddexp_ties_and_infinities():
    assert grad(lambda x: fnp.logaddexp(x, x))(0.3) == 1.0
    assert grad(fnp.logaddexp)(0.3, 0.3) == 0.5
    assert grad(fnp.logaddexp)(-np.inf, -np.inf) == 0.5
    assert grad(grad(fnp.logaddexp))(0.3, 0.3) == 0.25


def test_softplus_and_log_sigmoid():
    softplus = lambda x: fnp.logaddexp(x, 0.0)
    log_sigmoid = lambda x: -fnp.logaddexp(0.0, -x)
    assert float(softplus(0.0)) == np.log(2.0)
    assert grad(softplus)(0.0) == 0.5
    assert grad(grad(softplus))(0.0) == 0.25
    assert grad(softplus)(800.0) == 1.0 and grad(softplus)(-800.0) == 0.0
    assert float(softplus(800.0)) == 800.0
    assert grad(log_sigmoid)(0.0) == 0.5
    assert float(log_sigmoid(-800.0)) == -800.0 and grad(log_sigmoid)(-800.0) == 1.0
    # far in the tail the derivative is tiny but not rounded to 0
    assert 0 < float(grad(softplus)(-40.0)) < 1e-17


def test_logsumexp_special_points():
    assert np.allclose(grad(fnp.logsumexp)(np.full(4, 2.0)), 0.25, rtol=0, atol=0)
    assert grad(fnp.logsumexp)(np.array([0.0, -np.inf])).tolist() == [1.0, 0.0]
    assert float(fnp.logsumexp(np.array([-np.inf, -np.inf]))) == -np.inf
    assert grad(fnp.logsumexp)(np.array([-np.inf, -np.inf])).tolist() == [0.0, 0.0]
    assert float(fnp.logsumexp(np.array([1000.0, 1000.0]))) == 1000.0 + np.log(2.0)
    out, sign = fnp.logsumexp(np.array([0.0, 0.0]), b=np.array([1.0, -2.0]), return_sign=True)
    assert float(out) == 0.0 and float(sign) == -1.0


def test_sinc_at_zero():
    assert float(fnp.sinc(0.0)) == 1.0
    assert float(grad(fnp.sinc)(0.0)) == 0.0
    assert np.isclose(float(grad(grad(fnp.sinc))(0.0)), -np.pi**2 / 3, rtol=1e-14)
    assert float(grad(grad(grad(fnp.sinc)))(0.0)) == 0.0
    check_grads(fnp.sinc, (np.array([1e-4, -3e-4, 0.7, 2.0]),), order=2)


def test_power_at_zero_with_integer_exponents():
    assert grad(lambda x: x**2)(0.0) == 0.0
    assert grad(lambda x: x**3)(0.0) == 0.0
    assert grad(grad(lambda x: x**2))(0.0) == 2.0
    assert grad(lambda x: fnp.power(x, 1))(0.0) == 1.0
    assert grad(lambda x: fnp.float_power(x, 2.0))(0.0) == 0.0


def test_cumprod_and_prod_with_zeros():
    x = np.array([2.0, 0.0, 3.0, 0.0])
    assert grad(lambda x: fnp.cumprod(x)[2])(x).tolist() == [0.0, 6.0, 0.0, 0.0]
    assert grad(lambda x: fnp.sum(fnp.cumprod(x)))(np.array([2.0, 0.0, 3.0])).tolist() == [1.0, 8.0, 0.0]
    check_grads(lambda x: fnp.cumprod(x, axis=1), (np.array([[0.0, 1.5, 0.0], [2.0, 0.0, -1.0]]),))


def test_sort_and_max_with_ties():
    x = np.array([1.0, 3.0, 1.0, 3.0])
    # the stable sort sends each tied entry's derivative to the slot it lands in
    assert grad(lambda x: fnp.sort(x) @ np.arange(4.0))(x).tolist() == [0.0, 2.0, 1.0, 3.0]
    assert grad(fnp.max)(x).tolist() == [0.0, 0.5, 0.0, 0.5]
    assert grad(lambda x: fnp.nanmax(x))(np.array([1.0, np.nan, 1.0])).tolist() == [0.5, 0.0, 0.5]


def test_median_and_quantile_gradients():
    assert grad(fnp.median)(np.array([4.0, 1.0, 3.0, 2.0])).tolist() == [0.0, 0.0, 0.5, 0.5]
    g = grad(lambda x: fnp.quantile(x, 0.25))(np.array([4.0, 1.0, 3.0, 2.0]))
    assert np.allclose(g, [0.0, 0.25, 0.0, 0.75])


@pytest.mark.parametrize("fn", ["quantile", "percentile", "nanquantile", "nanpercentile"])
@pytest.mark.parametrize("q", [0.3, 1, True, np.float64(0.3), [0.25, 0.5]])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_quantile_result_dtype_follows_numpy(fn, q, dtype):
    # a Python q keeps float32 data float32; a NumPy float64 q or a list promotes, as in NumPy
    if fn.endswith("percentile") and not isinstance(q, (list, bool)):
        q = q * 100
    x = np.array([4.0, 1.0, 3.0, 2.0, 7.0], dtype)
    got, want = getattr(fnp, fn)(x, q), getattr(np, fn)(x, q)
    assert got.dtype == want.dtype
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_nan_reductions_skip_nans():
    x = np.array([1.0, np.nan, 3.0])
    assert grad(fnp.nansum)(x).tolist() == [1.0, 0.0, 1.0]
    assert grad(fnp.nanmean)(x).tolist() == [0.5, 0.0, 0.5]
    assert np.isnan(fnp.nanmax(np.array([np.nan, np.nan])))
    assert float(fnp.nanmin(x)) == 1.0
    assert grad(lambda x: fnp.sum(fnp.nan_to_num(x)))(x).tolist() == [1.0, 0.0, 1.0]



@pytest.mark.parametrize("name", ["nanvar", "nanstd"])
def test_nan_spreads_differentiate_the_entries_that_are_not_nan(name):
    # A NaN entry must not reach the derivative of the others through the slice's mean
    fn = getattr(fnp, name)
    x = np.array([[1.0, np.nan, 3.0, 4.0], [np.nan, np.nan, np.nan, np.nan], [2.0, -1.0, 0.5, 0.0]])
    present = ~np.isnan(x[0])
    f = lambda x: fnp.sum(fn(x[::2], axis=1))
    g = ft.grad(f)(x)
    ref = np.zeros_like(x)
    for row in (0, 2):
        v = x[row][~np.isnan(x[row])]
        dev = (v - v.mean()) / v.size
        ref[row][~np.isnan(x[row])] = 2 * dev if name == "nanvar" else dev / np.std(v)
    np.testing.assert_allclose(g, ref, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(ft.jit(ft.grad(f))(x), ref, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(ft.vmap(ft.grad(lambda r: fn(r)))(x[::2]), ref[::2], rtol=1e-12, atol=1e-15)
    check_grads(lambda v: fn(fnp.where(present, v, np.nan)), (x[0],), order=2)
    h = ft.hessian(lambda v: fn(fnp.where(present, v, np.nan)))(x[0])
    assert np.all(np.isfinite(h)) and not np.any(h[1]) and not np.any(h[:, 1])
    g32 = ft.grad(lambda r: fn(r))(x[0].astype(np.float32))
    assert g32.dtype == np.float32 and np.all(np.isfinite(g32))

def test_hypot_and_norm_at_origin():
    assert grad(fnp.hypot)(0.0, 0.0) == 0.0
    g = grad(lambda x: fnp.linalg.norm(x) ** 2)(np.zeros(3))
    assert g.tolist() == [0.0, 0.0, 0.0]
    assert grad(lambda x: fnp.linalg.norm(x))(np.zeros(2)).tolist() == [0.0, 0.0]


def test_einsum_repeated_subscripts_take_diagonals():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((3, 3))
    b = rng.standard_normal((3, 3, 2))
    for subscripts, ops in [("ii->", (a,)), ("ii->i", (a,)), ("iij->j", (b,)), ("ii,ij->j", (a, b[..., 0])),
                            ("jii->j", (np.moveaxis(b, 2, 0),))]:
        expected = np.einsum(subscripts, *ops)
        got = ft.jvp(lambda *xs: fnp.einsum(subscripts, *xs), ops, ops)[0]
        assert np.allclose(got, expected)
        check_grads(lambda *xs: fnp.einsum(subscripts, *xs), ops)


def test_take_along_axis_and_repeat_accumulate():
    x = np.array([1.0, 2.0, 3.0])
    assert grad(lambda x: fnp.sum(fnp.take_along_axis(x, np.array([0, 0, 2]), 0)))(x).tolist() == [2.0, 0.0, 1.0]
    assert grad(lambda x: fnp.sum(fnp.repeat(x, [1, 2, 0])))(x).tolist() == [1.0, 2.0, 0.0]
    assert grad(lambda x: fnp.sum(fnp.pad(x, 2, mode="reflect")))(x).tolist() == [2.0, 3.0, 2.0]


def test_xlogy_at_zero():
    from functrans.scipy.special import xlog1py, xlogy

    assert float(xlogy(0.0, 0.0)) == 0.0
    assert float(xlog1py(0.0, -1.0)) == 0.0
    assert grad(xlogy, argnums=1)(0.0, 0.0) == 0.0
    assert grad(xlogy, argnums=0)(0.0, 2.0) == np.log(2.0)


def test_numpy_dispatch_reaches_new_functions():
    x = np.array([0.2, 0.5])
    assert np.allclose(grad(lambda x: np.sum(np.arcsin(x)))(x), 1 / np.sqrt(1 - x**2))
    assert np.allclose(grad(lambda x: np.sum(np.cumsum(x)))(x), [2.0, 1.0])
    assert np.allclose(grad(lambda x: np.linalg.norm(x))(x), x / np.linalg.norm(x))
    assert np.allclose(grad(lambda x: np.sum(np.abs(np.fft.fft(x)) ** 2))(x), 2 * len(x) * x)
    from functrans import errors

    assert np.allclose(grad(lambda x: np.sum(np.linalg.tensorinv(np.diag(x), ind=1)))(x), -1 / x**2)
    with pytest.raises(errors.UnsupportedError, match="numpy.putmask"):
        grad(lambda x: np.putmask(x, x > 0, 0.0) or np.sum(x))(x)


def test_tracer_methods_of_the_broader_api():
    x = np.array([[3.0, -1.0], [0.5, 2.0]])

    def f(x):
        return (x.cumsum(axis=0).sum() + x.cumprod(1).sum() + x.trace() + x.diagonal().sum()
                + x.take([0, 3]).sum() + x.repeat(2, axis=0).sum() + x.round(1).sum())

    check_grads(f, (x,), order=2)
    assert bool(ft.jvp(lambda x: x.all(), (x,), (x,))[0]) and bool(ft.jvp(lambda x: x.any(), (x,), (x,))[0])
    assert ft.jvp(lambda x: x.argsort(axis=1), (x,), (x,))[0].tolist() == [[1, 0], [0, 1]]
    from functrans import errors

    with pytest.raises(errors.InPlaceUpdateError, match="fnp|functrans.numpy.sort"):
        ft.grad(lambda x: x.sort())(x)


def test_vmap_over_the_new_primitives():
    rng = np.random.default_rng(3)
    mats = rng.standard_normal((4, 3, 3)) * 0.3 + 2 * np.eye(3)
    rhs = rng.standard_normal((3, 2))

    def per_example(a):
        spd = a @ a.T
        return (fnp.linalg.solve(a, rhs).sum() + fnp.linalg.slogdet(a)[1] + fnp.linalg.cholesky(spd).sum()
                + fnp.linalg.eigvalsh(spd).sum() + fnp.linalg.svd(a, compute_uv=False).sum()
                + fnp.cumsum(a, axis=1).sum() + fnp.sort(a, axis=-1)[:, 0].sum()
                + fnp.abs(fnp.fft.rfft(a, axis=0)).sum() + fnp.linalg.qr(a)[1].sum()
                + fnp.real(fnp.linalg.eigvals(a)).sum())

    expected = np.array([per_example(m) for m in mats])
    for in_axis in (0, 2):
        got = ft.vmap(per_example, in_axes=in_axis)(np.moveaxis(mats, 0, in_axis))
        np.testing.assert_allclose(got, expected, rtol=1e-10)
    g = ft.vmap(ft.grad(per_example))(mats)
    np.testing.assert_allclose(g[1], ft.grad(per_example)(mats[1]), rtol=1e-10)


# -- pad's options and pinv's cut-off given as traced values ----------------------------------

@pytest.mark.parametrize("mode,key", [("linear_ramp", "end_values"), ("constant", "constant_values")])
def test_pad_traced_option_matches_numpy_and_differentiates(mode, key):
    a = np.array([[1.0, 2.0, 4.0], [3.0, 5.0, 6.0]], np.float32)
    width = ((1, 2), (2, 1))
    f = lambda v: fnp.pad(a, width, mode=mode, **{key: v})
    expected = np.pad(a, width, mode=mode, **{key: 2.5})
    for run in (f, ft.jit(f)):
        got = run(np.float64(2.5))
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, expected)
    g = lambda v: fnp.sum(f(v))
    eps = 1e-3
    numerical = (np.sum(np.pad(a, width, mode=mode, **{key: 2.5 + eps}), dtype=np.float64)
                 - np.sum(np.pad(a, width, mode=mode, **{key: 2.5 - eps}), dtype=np.float64)) / (2 * eps)
    np.testing.assert_allclose(ft.grad(g)(2.5), numerical, rtol=1e-4)
    # one value per axis and side
    per_side = np.array([[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_allclose(ft.jit(f)(per_side), np.pad(a, width, mode=mode, **{key: per_side}))


def test_pad_traced_stat_length_is_a_clear_error():
    with pytest.raises(errors.UnsupportedError, match="stat_length must be numbers"):
        ft.jit(lambda n: fnp.pad(fnp.ones(3), 1, mode="mean", stat_length=n))(np.int64(2))


def test_pinv_traced_rcond():
    a = np.array([[2.0, 1.0], [1.0, 3.0], [0.0, 1.0]])
    np.testing.assert_allclose(ft.grad(lambda r: fnp.sum(fnp.linalg.pinv(a, rcond=r)))(1e-10), 0.0)
    # the cut-off's value is used: 0.9 of the largest singular value drops the smaller one
    big = 0.9
    assert not np.allclose(np.linalg.pinv(a, rcond=big), np.linalg.pinv(a))
    np.testing.assert_allclose(ft.jvp(lambda r: fnp.linalg.pinv(a, rcond=r), (big,), (1.0,))[0],
                               np.linalg.pinv(a, rcond=big))
    with pytest.raises(errors.UnsupportedError, match="rcond .* must have a value"):
        ft.jit(lambda r: fnp.linalg.pinv(a, rcond=r))(np.float64(1e-10))


@pytest.mark.parametrize("method", ["linear", "lower", "nearest", "midpoint"])
@pytest.mark.parametrize("axis", [None, 1])
def test_nan_quantiles_under_jit_and_vmap(method, axis, backend):
    # the count of valid entries is computed in the program: jit and vmap give eager's numbers
    a = np.array([[1.0, np.nan, 3.0, 0.5], [np.nan] * 4, [2.0, -1.0, np.nan, np.nan]])

    def f(x):
        return fnp.nanquantile(x, [0.3, 0.5], axis=axis, method=method)

    x = backend.put(a)
    with warnings.catch_warnings():  # NumPy warns of the all-NaN row, and so does its arithmetic
        warnings.simplefilter("ignore", RuntimeWarning)
        want = np.nanquantile(a, [0.3, 0.5], axis=axis, method=method)
        for got in (f(x), ft.jit(f)(x)):
            backend.check_placed(got)
            np.testing.assert_allclose(backend.get(got), want, equal_nan=True)
        rows = ft.vmap(lambda r: fnp.nanmedian(r))(x)
        np.testing.assert_allclose(backend.get(rows), [1.0, np.nan, 0.5], equal_nan=True)
        g = ft.jit(ft.grad(lambda x: fnp.nansum(fnp.nanpercentile(x, 50.0, axis=1))))(x)
    np.testing.assert_array_equal(backend.get(g), [[1, 0, 0, 0], [0] * 4, [0.5, 0.5, 0, 0]])


@pytest.mark.parametrize("name", ["max", "min", "amax", "amin"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int16])
@pytest.mark.parametrize("shape", [(256, 10), (3, 64, 4), (8, 10), (512, 40)])
def test_extremes_over_a_short_last_axis_equal_numpys(name, dtype, shape, backend):
    rng = np.random.default_rng(3)
    x = (rng.standard_normal(shape) * 4).astype(dtype)
    x.reshape(-1)[::7] = x.reshape(-1)[1]  # ties
    reference = getattr(np, name)
    for axis in (-1, len(shape) - 1):
        for keepdims in (False, True):
            got = backend.get(getattr(fnp, name)(backend.put(x), axis=axis, keepdims=keepdims))
            expected = reference(x, axis=axis, keepdims=keepdims)
            assert got.dtype == expected.dtype and got.shape == expected.shape
            np.testing.assert_array_equal(got, expected)
    y = rng.standard_normal(shape)
    check_grads(lambda y: getattr(fnp, name)(y * 1.5, axis=-1, keepdims=True), (backend.put(y),), order=2)


def test_extremes_over_a_short_last_axis_keep_nans():
    x = np.random.default_rng(4).standard_normal((64, 4))
    x[5, 2] = np.nan
    for fn, reference in ((fnp.max, np.max), (fnp.min, np.min)):
        np.testing.assert_array_equal(fn(x, axis=1), reference(x, axis=1))
        assert np.isnan(fn(x, axis=-1, keepdims=True)[5, 0])


def test_copysign_promotes_both_arguments_as_numpy():
    w = np.array([1.0, -0.0, -2.0], np.float32)
    for args in [(1.0, w), (1, w), (w, 1.0), (w, np.array([1.0, -1.0, 2.0])), (np.array([1.0, -1.0, 2.0]), w),
                 (np.float64(1.0), w), (np.arange(3), w), (2.0, -1.0)]:
        expected = np.copysign(*args)
        for got in (fnp.copysign(*args), ft.jit(fnp.copysign)(*args)):
            assert np.asarray(got).dtype == np.asarray(expected).dtype, args
            np.testing.assert_array_equal(got, expected)
