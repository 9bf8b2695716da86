"""functrans.scipy.stats against scipy.stats: every function of every distribution from the
table (tests/specs/stats.py: values, derivatives to second order in both modes, float32, both
backends), then what the table does not draw: the ends of supports, invalid parameters, far
tails, nan inputs, multivariate_normal's singular covariances, and transformations."""
from __future__ import annotations

import types

import numpy as np
import pytest
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import functrans as ft
from functrans.scipy import stats
from functrans.testing import check_grads

from specs.opspec import run_spec
from specs.strategies import F32
from specs.tables import STATS_SPECS as FUNCTIONS


# A few examples per row keep the table (about 80 rows) within seconds: three on NumPy, one on
# the strict backend (placement, and derivatives on its arrays), two in float32 (first order).
# HYPOTHESIS_PROFILE=explore draws ten times as many.
def _count(default: int) -> int:
    return max(default, settings().max_examples // 20 * default)


@pytest.mark.parametrize("spec", FUNCTIONS, ids=repr)
def test_function(spec, backend):
    @settings(max_examples=_count(3 if backend.name == "numpy" else 1))
    @given(data=st.data())
    def run(data):
        run_spec(spec, data, spec.dtypes[0], order=spec.order, backend=backend)

    run()


@pytest.mark.parametrize("spec", [s for s in FUNCTIONS if F32 in s.dtypes], ids=repr)
def test_function_float32(spec):
    @settings(max_examples=_count(2))
    @given(data=st.data())
    def run(data):
        run_spec(spec, data, F32, order=1)

    run()


def test_every_function_has_a_row():
    covered = {spec.covers for spec in FUNCTIONS}
    distributions = [name for name in stats.__all__ if isinstance(getattr(stats, name), types.ModuleType)]
    public = {f"{dist}.{fn}" for dist in distributions for fn in getattr(stats, dist).__all__}
    assert public - covered == set()
    assert covered - public == set()


# -- special points, against SciPy ------------------------------------------------------------------

_EDGES = np.array([np.nan, -np.inf, -3.0, -1.0, -1e-300, 0.0, 0.5, 1.0, 1.5, 3.0, 50.0, np.inf])
_QUANTILES = np.array([np.nan, -0.1, 0.0, 1e-3, 0.3, 0.5, 0.999, 1.0, 1.1])
# (distribution, shape parameters; each set also run with loc=0.5, scale=2 and with scale <= 0)
_CONTINUOUS = [
    ("norm", ()), ("expon", ()), ("laplace", ()), ("cauchy", ()), ("logistic", ()), ("uniform", ()),
    ("gumbel_r", ()), ("gumbel_l", ()),
    ("pareto", (0.5,)), ("pareto", (2.0,)), ("t", (0.5,)), ("t", (3.0,)), ("t", (np.inf,)), ("t", (-1.0,)),
    ("gennorm", (0.5,)), ("gennorm", (2.0,)), ("gennorm", (0.0,)), ("vonmises", (0.0,)), ("vonmises", (50.0,)),
    ("vonmises", (-1.0,)), ("wrapcauchy", (0.5,)), ("wrapcauchy", (0.01,)), ("wrapcauchy", (0.99,)),
    ("wrapcauchy", (0.0,)), ("wrapcauchy", (1.0,)),
    ("gamma", (0.5,)), ("gamma", (1.0,)), ("gamma", (3.0,)), ("gamma", (0.0,)),
    ("chi2", (1.0,)), ("chi2", (2.0,)), ("chi2", (5.0,)), ("beta", (0.5, 0.5)), ("beta", (1.0, 1.0)),
    ("beta", (1.0, 3.0)), ("beta", (3.0, 1.0)), ("beta", (2.0, -1.0)),
    ("truncnorm", (-1.0, 2.0)), ("truncnorm", (-np.inf, 0.5)), ("truncnorm", (1.0, np.inf)),
    ("truncnorm", (-40.0, -39.0)), ("truncnorm", (30.0, 31.0)), ("truncnorm", (1.0, 1.0)), ("truncnorm", (2.0, 1.0)),
]


@pytest.mark.parametrize("dist, shapes", _CONTINUOUS, ids=[f"{d}{s}" for d, s in _CONTINUOUS])
def test_special_points_of_continuous_distributions(dist, shapes):
    module, reference = getattr(stats, dist), getattr(scipy.stats, dist)
    for fn in module.__all__:
        points = _QUANTILES if fn in ("ppf", "isf") else _EDGES
        for loc_scale in ((), (0.5, 2.0), (0.0, 0.0), (0.0, -1.0)):
            got = getattr(module, fn)(points, *shapes, *loc_scale)
            with np.errstate(all="ignore"):
                expected = getattr(reference, fn)(points, *shapes, *loc_scale)
            np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-300,
                                       err_msg=f"{dist}.{fn}{shapes} at loc, scale = {loc_scale}")


_DISCRETE = [
    ("poisson", (0.0,)), ("poisson", (2.5,)), ("poisson", (-1.0,)),
    ("bernoulli", (0.0,)), ("bernoulli", (0.3,)), ("bernoulli", (1.0,)), ("bernoulli", (1.5,)),
    ("binom", (4, 0.3)), ("binom", (4, 0.0)), ("binom", (4, 1.0)), ("binom", (2.5, 0.3)), ("binom", (-1, 0.3)),
    ("geom", (0.3,)), ("geom", (1.0,)), ("geom", (0.0,)),
    ("nbinom", (2.5, 0.3)), ("nbinom", (1, 1.0)), ("nbinom", (0.0, 0.3)), ("nbinom", (2, 0.0)),
    ("nbinom", (2, 1.5)),
    ("betabinom", (4, 0.5, 2.0)), ("betabinom", (0, 1.0, 1.0)), ("betabinom", (2.5, 1.0, 1.0)),
    ("betabinom", (-1, 1.0, 1.0)), ("betabinom", (4, 0.0, 1.0)), ("betabinom", (4, 1.0, -1.0)),
]


@pytest.mark.parametrize("dist, params", _DISCRETE, ids=[f"{d}{p}" for d, p in _DISCRETE])
def test_special_points_of_discrete_distributions(dist, params):
    module, reference = getattr(stats, dist), getattr(scipy.stats, dist)
    counts = np.array([np.nan, -1.0, 0.0, 0.5, 1.0, 2.0, 3.0, 4.0, 5.0, 60.0])
    quantiles = np.array([np.nan, -0.1, 0.0, 0.3, 0.7, 0.71, 1.0, 1.1])
    for fn in (fn for fn in module.__all__ if fn != "entropy"):  # (a function of the parameters alone)
        for loc in (0, 2):
            points = quantiles if fn == "ppf" else counts
            with np.errstate(all="ignore"):
                expected = getattr(reference, fn)(points, *params, loc)
            np.testing.assert_allclose(getattr(module, fn)(points, *params, loc), expected, rtol=1e-10,
                                       atol=1e-300, err_msg=f"{dist}.{fn}{params} loc={loc}")


def test_tails_keep_their_precision():
    # The Gumbel tails are finite where SciPy's underflow to -inf
    assert stats.gumbel_r.logsf(800.0) == -800.0 and stats.gumbel_l.logcdf(-800.0) == -800.0
    assert stats.gumbel_r.logsf(40.0) == pytest.approx(scipy.stats.gumbel_r.logsf(40.0), rel=1e-14)
    assert stats.norm.logcdf(-40.0) == pytest.approx(scipy.stats.norm.logcdf(-40.0), rel=1e-12)
    assert stats.logistic.logcdf(-800.0) == -800.0 and stats.logistic.logsf(800.0) == -800.0
    assert stats.cauchy.logcdf(-1e300) == pytest.approx(scipy.stats.cauchy.logcdf(-1e300), rel=1e-12)
    assert stats.expon.logcdf(1e-20) == pytest.approx(np.log(1e-20), rel=1e-12)
    assert stats.laplace.logsf(50.0) == pytest.approx(-50.0 - np.log(2.0), rel=1e-12)
    assert stats.vonmises.logpdf(0.0, 1e4) == pytest.approx(scipy.stats.vonmises.logpdf(0.0, 1e4), rel=1e-12)
    # a truncated normal far out in the tail, where the mass of [a, b] is about 1e-200
    np.testing.assert_allclose(stats.truncnorm.logpdf(30.5, 30.0, 31.0), scipy.stats.truncnorm.logpdf(30.5, 30.0, 31.0),
                               rtol=1e-10)
    g = ft.grad(lambda x: stats.truncnorm.logpdf(x, 30.0, 31.0))(30.5)
    assert g == pytest.approx(-30.5, rel=1e-12)


def test_no_nan_derivative_outside_the_support():
    """Points outside a support have a constant value; their derivative is zero, not nan."""
    x = np.array([-1.0, 0.5])
    for fn in (stats.expon.logpdf, stats.expon.logcdf, stats.uniform.logcdf, stats.uniform.logsf,
               lambda x: stats.gamma.logpdf(x, 2.0), lambda x: stats.beta.logpdf(x + 0.0, 2.0, 2.0),
               lambda x: stats.pareto.logpdf(x + 1.0, 2.0), lambda x: stats.truncnorm.logpdf(x, 0.0, 1.0)):
        g = ft.grad(lambda x: fn(x)[0] * 0.0 + fn(x)[1])(x)
        assert np.all(np.isfinite(g)), g
    k = np.array([-1.0, 0.5, 2.0])
    g = ft.grad(lambda mu: stats.poisson.logpmf(k, mu)[2])(1.5)
    assert g == pytest.approx(2.0 / 1.5 - 1.0, rel=1e-12)


def test_float32_stays_float32_with_python_parameters():
    x = np.array([0.2, 0.7], np.float32)
    for out in (stats.norm.logpdf(x, 0.0, 2.0), stats.gamma.logpdf(x, 2.0), stats.beta.logpdf(x, 2.0, 3.0, 0.0, 1.0),
                stats.expon.ppf(x, 1.0, 2.0), stats.t.logpdf(x, 3.0), stats.truncnorm.logcdf(x, -1.0, 1.0),
                stats.vonmises.logpdf(x, 2.0), stats.gamma.cdf(x, 2.0), stats.beta.logsf(x, 2.0, 3.0)):
        assert out.dtype == np.float32
    g = ft.grad(lambda s: stats.norm.logpdf(x, 0.0, s).sum())(np.float32(2.0))
    assert g.dtype == np.float32


def test_float32_stays_float32_with_python_parameters_given_to_jit():
    # Under jit a Python number passed as an argument is a variable standing for it: as weak as
    # the number itself, so the eager and the jit results have one dtype and one value.
    x = np.array([0.2, 0.7], np.float32)
    calls = [lambda x, p: stats.norm.logpdf(x, 0.0, p), lambda x, p: stats.norm.logcdf(x, p),
             lambda x, p: stats.gamma.logpdf(x, p), lambda x, p: stats.beta.logpdf(x, p, 3.0),
             lambda x, p: stats.t.logpdf(x, p), lambda x, p: stats.multivariate_normal.logpdf(x, x, p),
             lambda x, p: stats.bernoulli.logpmf(1, x * p)]
    for call in calls:
        eager, traced = call(x, 2.0), ft.jit(call)(x, 2.0)
        assert eager.dtype == traced.dtype == np.float32
        np.testing.assert_allclose(traced, eager, rtol=1e-6)
    assert ft.jit(lambda x, p: stats.norm.logpdf(x, 0.0, p))(x.astype(np.float64), 2.0).dtype == np.float64


def test_count_distributions_and_wrapcauchy_under_jit_and_vmap():
    k = np.array([0.0, 1.0, 3.0])
    calls = [lambda p: stats.nbinom.logpmf(k, 2.5 * p, p), lambda a: stats.betabinom.pmf(k, 4, a, 2.0 * a),
             lambda c: stats.wrapcauchy.logpdf(k + 0.5, c, 0.1, 1.2)]
    params = np.array([0.3, 0.6, 0.8])
    for call in calls:
        expected = np.stack([call(p) for p in params])
        np.testing.assert_allclose(ft.jit(call)(params[0]), expected[0], rtol=1e-12)
        np.testing.assert_allclose(ft.vmap(call)(params), expected, rtol=1e-12)
        grad = ft.grad(lambda p: call(p).sum())
        np.testing.assert_allclose(ft.vmap(grad)(params), np.stack([grad(p) for p in params]), rtol=1e-10)
    k = k.astype(np.float32)  # the counts and points in float32 beside Python numbers: float32 out
    for call in calls:
        assert call(np.float32(0.4)).dtype == np.float32


# -- multivariate_normal --------------------------------------------------------------------------

def _singular(rng, d=3, rank=2):
    factor = rng.standard_normal((d, rank))
    return factor @ factor.T, factor


def test_singular_covariance_raises_naming_the_fix():
    rng = np.random.default_rng(0)
    cov, _ = _singular(rng)
    with pytest.raises(np.linalg.LinAlgError, match="allow_singular=True"):
        stats.multivariate_normal.logpdf(np.zeros(3), np.zeros(3), cov)
    with pytest.raises(np.linalg.LinAlgError, match="allow_singular=True"):  # under grad too
        ft.grad(lambda c: stats.multivariate_normal.logpdf(np.zeros(3), np.zeros(3), c))(cov)
    with pytest.raises(ValueError, match="positive semidefinite"):
        stats.multivariate_normal.logpdf(np.zeros(2), np.zeros(2), -np.eye(2), allow_singular=True)
    with pytest.raises(ValueError, match="do not fit"):
        stats.multivariate_normal.logpdf(np.zeros(3), np.zeros(2), np.eye(2))


def test_singular_covariance_allowed_matches_scipy():
    rng = np.random.default_rng(1)
    cov, factor = _singular(rng)
    mean = rng.standard_normal(3)
    on = rng.standard_normal((4, 2)) @ factor.T + mean
    off = rng.standard_normal((2, 3)) + mean
    for x in (on, off):
        np.testing.assert_allclose(stats.multivariate_normal.logpdf(x, mean, cov, allow_singular=True),
                                   scipy.stats.multivariate_normal.logpdf(x, mean, cov, allow_singular=True),
                                   rtol=1e-8)
    # on the support, differentiable in the points along it
    g = ft.grad(lambda x: stats.multivariate_normal.logpdf(x, mean, cov, allow_singular=True).sum())(on)
    assert np.all(np.isfinite(g))


def test_covariance_forms_of_scipy():
    rng = np.random.default_rng(2)
    x, mean = rng.standard_normal((5, 3)), rng.standard_normal(3)
    for cov in (2.0, np.array([1.0, 2.0, 0.5]), np.diag([1.0, 2.0, 0.5])):
        np.testing.assert_allclose(stats.multivariate_normal.logpdf(x, mean, cov),
                                   scipy.stats.multivariate_normal.logpdf(x, mean, cov), rtol=1e-12)
    np.testing.assert_allclose(stats.multivariate_normal.pdf(x[:, 0], 0.5, 2.0),
                               scipy.stats.multivariate_normal.pdf(x[:, 0], 0.5, 2.0), rtol=1e-12)
    np.testing.assert_allclose(stats.multivariate_normal.logpdf(x, cov=np.eye(3)),
                               scipy.stats.multivariate_normal.logpdf(x, cov=np.eye(3)), rtol=1e-12)


def test_multivariate_normal_under_jit_and_vmap():
    rng = np.random.default_rng(3)
    a = rng.standard_normal((2, 3, 3))
    covs = a @ np.swapaxes(a, -1, -2) + np.eye(3)
    x, mean = rng.standard_normal((4, 3)), rng.standard_normal(3)

    def f(cov):
        return stats.multivariate_normal.logpdf(x, mean, cov)

    expected = np.stack([scipy.stats.multivariate_normal.logpdf(x, mean, c) for c in covs])
    np.testing.assert_allclose(ft.jit(f)(covs[0]), expected[0], rtol=1e-12)
    np.testing.assert_allclose(ft.vmap(f)(covs), expected, rtol=1e-12)
    np.testing.assert_allclose(ft.vmap(ft.grad(lambda c: f(c).sum()))(covs),
                               np.stack([ft.grad(lambda c: f(c).sum())(c) for c in covs]), rtol=1e-10)


def test_dirichlet_and_multinomial_special_points():
    alpha = np.array([1.0, 2.0, 3.0])
    assert stats.dirichlet.logpdf(np.array([0.5, 0.6, -0.1]), alpha) == -np.inf
    assert stats.dirichlet.logpdf(np.array([0.5, 0.6, 0.1]), alpha) == -np.inf  # sums to 1.2
    assert np.isnan(stats.dirichlet.logpdf(np.array([0.2, 0.3, 0.5]), -alpha))
    with pytest.raises(ValueError, match="components"):
        stats.dirichlet.logpdf(np.array([0.5, 0.5]), np.ones(4))
    p = np.array([0.2, 0.3, 0.5])
    counts = np.array([[1, 2, 0], [1, 2, 1], [-1, 4, 0], [0.5, 2.5, 0]])
    np.testing.assert_allclose(stats.multinomial.logpmf(counts, 3, p),
                               scipy.stats.multinomial.logpmf(counts, 3, p), rtol=1e-12)
    assert np.isnan(stats.multinomial.logpmf(counts[0], 2.5, p))
    assert np.isnan(stats.multinomial.logpmf(counts[0], 3, np.array([0.2, 1.3, -0.5])))


# -- descriptive statistics: rankdata, mode, sem ---------------------------------------------------

_SMALL_INTEGERS = hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=3, max_side=5),
                             elements=st.integers(-2, 2).map(float))  # many ties


@given(a=_SMALL_INTEGERS, method=st.sampled_from(["average", "min", "max", "dense", "ordinal"]), data=st.data())
def test_rankdata_matches_scipy(a, method, data):
    axis = data.draw(st.sampled_from([None, *range(-a.ndim, a.ndim)]))
    got = stats.rankdata(a, method, axis=axis)
    assert got.dtype == np.float64
    np.testing.assert_array_equal(got, scipy.stats.rankdata(a, method, axis=axis))
    if axis is not None:
        np.testing.assert_array_equal(ft.jit(lambda a: stats.rankdata(a, method, axis=axis))(a), got)


@given(a=_SMALL_INTEGERS, keepdims=st.booleans(), data=st.data())
def test_mode_matches_scipy(a, keepdims, data):
    axis = data.draw(st.sampled_from([None, *range(-a.ndim, a.ndim)]))
    got, ref = stats.mode(a, axis, keepdims=keepdims), scipy.stats.mode(a, axis, keepdims=keepdims)
    assert np.shape(got.mode) == np.shape(ref.mode)
    np.testing.assert_array_equal(got.mode, ref.mode)
    np.testing.assert_array_equal(got.count, ref.count)
    jitted = ft.jit(lambda a: stats.mode(a, axis, keepdims=keepdims))(a)
    np.testing.assert_array_equal(jitted.mode, got.mode)


def test_rankdata_and_mode_special_cases():
    np.testing.assert_array_equal(stats.rankdata([1.0, np.nan, 2.0]), [np.nan] * 3)  # a nan: the slice is nan
    np.testing.assert_array_equal(stats.rankdata(np.array([[1.0, np.nan], [2.0, 1.0]]), axis=1),
                                  [[np.nan, np.nan], [2.0, 1.0]])
    np.testing.assert_array_equal(stats.rankdata(5.0), [1.0])
    rows = np.array([[3, 1, 3], [2, 2, 0]])
    np.testing.assert_array_equal(ft.vmap(lambda r: stats.rankdata(r, "min"))(rows),
                                  scipy.stats.rankdata(rows, "min", axis=1))
    assert np.all(ft.grad(lambda x: stats.rankdata(x).sum())(np.array([0.3, 0.1])) == 0)
    m = stats.mode([np.nan, np.nan, 1.0])  # nan is one value, as SciPy counts it
    assert np.isnan(m.mode) and m.count == 2
    assert stats.mode(np.array([2, 1, 2], np.int32)).mode.dtype == np.int32
    assert stats.mode(np.array([0.5, 0.5], np.float32)).mode.dtype == np.float32
    with pytest.raises(NotImplementedError, match="nan_policy='propagate'"):
        stats.rankdata([1.0, 2.0], nan_policy="omit")
    with pytest.raises(ValueError, match="method must be one of"):
        stats.rankdata([1.0], "first")
    with pytest.raises(ValueError, match="nan_policy must be"):
        stats.mode([1.0], nan_policy="ignore")


@pytest.mark.parametrize("axis", [None, 0, 1, -1])
@pytest.mark.parametrize("ddof", [0, 1, 2])
def test_sem_matches_scipy_with_derivatives(axis, ddof):
    x = np.random.default_rng(8).standard_normal((4, 5))
    for keepdims in (False, True):
        np.testing.assert_allclose(stats.sem(x, axis, ddof, keepdims=keepdims),
                                   scipy.stats.sem(x, axis, ddof, keepdims=keepdims), rtol=1e-12)
    with_nan = x.copy()
    with_nan[1, 2] = np.nan
    np.testing.assert_allclose(stats.sem(with_nan, axis, ddof, nan_policy="omit"),
                               scipy.stats.sem(with_nan, axis, ddof, nan_policy="omit"), rtol=1e-12)
    np.testing.assert_allclose(ft.jit(lambda x: stats.sem(x, axis, ddof))(x), stats.sem(x, axis, ddof), rtol=1e-12)
    check_grads(lambda x: stats.sem(x, axis, ddof), (x,), order=2, modes=("fwd", "rev"))
    check_grads(lambda x: stats.sem(x, axis, ddof, nan_policy="omit"), (x,), order=2, modes=("fwd", "rev"))
    assert stats.sem(x.astype(np.float32), axis, ddof).dtype == np.float32
    np.testing.assert_allclose(ft.vmap(lambda r: stats.sem(r, ddof=ddof))(x), scipy.stats.sem(x, 1, ddof), rtol=1e-12)


# -- gaussian_kde -----------------------------------------------------------------------------------

_BANDWIDTHS = [None, "scott", "silverman", 0.3, lambda kde: 0.5 * kde.neff ** -0.2]


@settings(max_examples=_count(6))
@given(d=st.integers(1, 3), n=st.integers(3, 12), weighted=st.booleans(), bw=st.sampled_from(_BANDWIDTHS),
       seed=st.integers(0, 2 ** 16))
def test_gaussian_kde_matches_scipy(d, n, weighted, bw, seed):
    rng = np.random.default_rng(seed)
    data = rng.standard_normal((d, n)) if d > 1 else rng.standard_normal(n)
    weights = rng.uniform(0.5, 2.0, n) if weighted else None
    points = rng.standard_normal((d, 4)) * 2.0
    got, ref = stats.gaussian_kde(data, bw, weights), scipy.stats.gaussian_kde(data, bw, weights)
    for name in ("evaluate", "pdf", "logpdf", "__call__"):
        np.testing.assert_allclose(getattr(got, name)(points), getattr(ref, name)(points), rtol=1e-10)
    np.testing.assert_allclose(got.covariance, ref.covariance, rtol=1e-12)
    np.testing.assert_allclose(got.inv_cov, ref.inv_cov, rtol=1e-10)
    assert (got.d, got.n) == (ref.d, ref.n) and got.neff == pytest.approx(ref.neff, rel=1e-12)
    mean, cov = rng.standard_normal(d), np.eye(d) * 0.7
    np.testing.assert_allclose(got.integrate_gaussian(mean, cov), ref.integrate_gaussian(mean, cov), rtol=1e-10)
    np.testing.assert_allclose(got.integrate_kde(got), ref.integrate_kde(ref), rtol=1e-10)
    if d == 1:
        np.testing.assert_allclose(got.integrate_box_1d(-0.4, 1.3), ref.integrate_box_1d(-0.4, 1.3), rtol=1e-10)


def test_gaussian_kde_far_tails_jit_vmap_and_derivatives():
    rng = np.random.default_rng(9)
    data, weights, points = rng.standard_normal((2, 15)), rng.uniform(0.5, 2.0, 15), rng.standard_normal((2, 5))
    kde = stats.gaussian_kde(data[0], 0.2)
    assert np.isfinite(kde.logpdf(40.0)[0])  # the density underflows there, its log does not
    np.testing.assert_allclose(kde.logpdf(40.0), scipy.stats.gaussian_kde(data[0], 0.2).logpdf(40.0), rtol=1e-12)
    fitted = stats.gaussian_kde(data, weights=weights)
    np.testing.assert_allclose(ft.jit(lambda k, x: k.logpdf(x))(fitted, points), fitted.logpdf(points), rtol=1e-12)
    estimate = lambda sample, x: stats.gaussian_kde(sample, "silverman").pdf(x)
    np.testing.assert_allclose(ft.vmap(estimate, in_axes=(0, None))(data, points[0]),
                               np.stack([estimate(row, points[0]) for row in data]), rtol=1e-12)
    check_grads(lambda x: stats.gaussian_kde(data, weights=weights).logpdf(x), (points,), order=2, modes=("fwd", "rev"))
    check_grads(lambda s: stats.gaussian_kde(s).pdf(points), (data,), order=2, modes=("fwd", "rev"))
    check_grads(lambda w: stats.gaussian_kde(data, weights=w).logpdf(points), (weights,), order=2,
                modes=("fwd", "rev"))
    check_grads(lambda hi: stats.gaussian_kde(data[0]).integrate_box_1d(-0.5, hi), (1.0,), order=2,
                modes=("fwd", "rev"))
    low = stats.gaussian_kde(data.astype(np.float32))
    assert low.covariance.dtype == low.logpdf(points.astype(np.float32)).dtype == np.float32


def test_gaussian_kde_resample():
    rng = np.random.default_rng(10)
    data, weights = rng.standard_normal((2, 20)), rng.uniform(0.5, 2.0, 20)
    kde = stats.gaussian_kde(data, weights=weights)
    draws = kde.resample(ft.random.key(0), (100_000,))
    assert draws.shape == (2, 100_000) and kde.resample(ft.random.key(0)).shape == (2,)
    np.testing.assert_array_equal(ft.jit(lambda k: kde.resample(k, (3,)))(ft.random.key(1)),
                                  kde.resample(ft.random.key(1), (3,)))
    # a draw is a data point chosen by weight plus the kernel's noise: their means and covariances add
    w = weights / weights.sum()
    mean = data @ w
    spread = (data - mean[:, None]) * w @ (data - mean[:, None]).T
    np.testing.assert_allclose(draws.mean(axis=1), mean, atol=0.02)
    np.testing.assert_allclose(np.cov(draws), spread + kde.covariance, atol=0.03)
    narrow = stats.gaussian_kde(np.array([0.0, 1.0, 1.2]), weights=np.array([0.0, 1.0, 1.0]), bw_method=1e-3)
    assert np.all(narrow.resample(ft.random.key(2), (50,)) > 0.9)  # a point of weight zero is never drawn


def test_descriptive_statistics_and_kde_on_the_backends(backend):
    rng = np.random.default_rng(12)
    x, data = rng.integers(0, 3, (3, 5)).astype(float), rng.standard_normal((2, 8))
    for got, ref in [(stats.rankdata(backend.put(x), axis=1), scipy.stats.rankdata(x, axis=1)),
                     (stats.mode(backend.put(x), 1).mode, scipy.stats.mode(x, 1).mode),
                     (stats.sem(backend.put(x), 1), scipy.stats.sem(x, 1)),
                     (stats.gaussian_kde(backend.put(data)).logpdf(backend.put(data[:, :3])),
                      scipy.stats.gaussian_kde(data).logpdf(data[:, :3]))]:
        backend.check_placed(got)
        np.testing.assert_allclose(backend.get(got), ref, rtol=1e-10)


def test_gaussian_kde_errors_name_the_problem():
    with pytest.raises(ValueError, match="more than one element"):
        stats.gaussian_kde(np.array([1.0]))
    with pytest.raises(ValueError, match="one weight per data point"):
        stats.gaussian_kde(np.arange(4.0), weights=np.ones(3))
    with pytest.raises(ValueError, match="bw_method must be"):
        stats.gaussian_kde(np.arange(4.0), bw_method="wide")
    kde = stats.gaussian_kde(np.random.default_rng(11).standard_normal((2, 6)))
    with pytest.raises(ValueError, match="points have dimension 3"):
        kde.evaluate(np.ones((3, 2)))
    with pytest.raises(ValueError, match="one-dimensional estimate"):
        kde.integrate_box_1d(0.0, 1.0)
    with pytest.raises(NotImplementedError, match="complex"):
        stats.gaussian_kde(np.arange(4.0) + 1j)


def test_poisson_entropy_is_scipys_on_both_sides_of_the_series():
    mu = np.array([0.0, 1e-3, 0.5, 5.0, 37.2, 399.0, 400.0, 2000.0])
    want = scipy.stats.poisson.entropy(mu)
    for got in (stats.poisson.entropy(mu), ft.jit(stats.poisson.entropy)(mu), ft.vmap(stats.poisson.entropy)(mu)):
        np.testing.assert_allclose(got, want, rtol=1e-11, atol=1e-300)
    assert np.isnan(stats.poisson.entropy(-1.0))
    assert stats.poisson.entropy(np.array([5.0], np.float32)).dtype == np.float32
    assert stats.poisson.entropy(5.0, loc=3) == stats.poisson.entropy(5.0)
    # d/dmu: the sum's derivative below 400, the series' above (1/(2 mu) + 1/(12 mu**2) + ...)
    grads = ft.vmap(ft.grad(stats.poisson.entropy))(np.array([5.0, 400.0]))
    step = 1e-5
    fd = (scipy.stats.poisson.entropy(5.0 + step) - scipy.stats.poisson.entropy(5.0 - step)) / (2 * step)
    np.testing.assert_allclose(grads, [fd, 1 / 800 + 1 / (12 * 400.0**2) + 1 / (12 * 400.0**3)], rtol=1e-6)
