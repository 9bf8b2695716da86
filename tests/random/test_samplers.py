"""Tests of the samplers beyond uniform and normal: moments against SciPy's distributions,
shapes and broadcasting of the parameters, derivatives in the parameters (pathwise by finite
differences of the sample at a fixed key; gamma's implicit one against SciPy's CDF; gradients
of expectations against their closed forms), sameness eagerly, under jit and under vmap over
keys, and the key's device.

Statistical checks compare with bounds of 5 standard errors computed from the sample size
(a correct sampler fails one with probability below about 1e-6), at fixed keys.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import special, stats

import functrans as ft
import functrans.numpy as fnp
from functrans import random as fr
from functrans.errors import UnsupportedError
from functrans.testing import check_grads

from backends import BACKENDS

N = 20_000
K = 5.0  # standard errors


def sample_moments_agree(x: np.ndarray, dist) -> None:
    """Mean, variance and the CDF at three quantiles within K standard errors of ``dist``."""
    x = np.asarray(x, np.float64).ravel()
    n = x.size
    mean, var, kurt = (float(v) for v in dist.stats(moments="mvk"))
    if math.isfinite(var):
        assert abs(x.mean() - mean) <= K * math.sqrt(var / n), (x.mean(), mean)
    if math.isfinite(kurt):
        se_var = var * math.sqrt((kurt + 2.0) / n)
        assert abs(x.var() - var) <= K * se_var + 1e-12, (x.var(), var)
    for q in (0.1, 0.5, 0.9):
        point = dist.ppf(q)
        p = dist.cdf(point)
        assert abs(np.mean(x <= point) - p) <= K * math.sqrt(p * (1 - p) / n) + 1.0 / n, q


# --------------------------------------------------------------------------------------------
# Moments against SciPy
# --------------------------------------------------------------------------------------------

CONTINUOUS = {
    "exponential": (lambda k: fr.exponential(k, N), stats.expon()),
    "laplace": (lambda k: fr.laplace(k, N), stats.laplace()),
    "cauchy": (lambda k: fr.cauchy(k, N), stats.cauchy()),
    "logistic": (lambda k: fr.logistic(k, N), stats.logistic()),
    "gumbel": (lambda k: fr.gumbel(k, N), stats.gumbel_r()),
    "gumbel_high": (lambda k: fr.gumbel(k, N, mode="high"), stats.gumbel_r()),
    "pareto": (lambda k: fr.pareto(k, 5.0, N), stats.pareto(5.0)),
    "weibull_min": (lambda k: fr.weibull_min(k, 2.0, 1.5, N), stats.weibull_min(1.5, scale=2.0)),
    "rayleigh": (lambda k: fr.rayleigh(k, 1.5, N), stats.rayleigh(scale=1.5)),
    "maxwell": (lambda k: fr.maxwell(k, N), stats.maxwell()),
    "double_sided_maxwell": (lambda k: np.abs(fr.double_sided_maxwell(k, 1.0, 2.0, N) - 1.0) / 2.0,
                             stats.maxwell()),
    "wald": (lambda k: fr.wald(k, 1.5, N), stats.invgauss(1.5)),
    "triangular": (lambda k: fr.triangular(k, -1.0, 0.5, 2.0, N), stats.triang(0.5, loc=-1.0, scale=3.0)),
    "lognormal": (lambda k: fr.lognormal(k, 0.5, N), stats.lognorm(0.5)),
    "gamma_small": (lambda k: fr.gamma(k, 0.3, N), stats.gamma(0.3)),
    "gamma": (lambda k: fr.gamma(k, 4.5, N), stats.gamma(4.5)),
    "gamma_large": (lambda k: fr.gamma(k, 300.0, N), stats.gamma(300.0)),
    "loggamma": (lambda k: fr.loggamma(k, 2.0, N), stats.loggamma(2.0)),
    "beta": (lambda k: fr.beta(k, 0.5, 2.0, N), stats.beta(0.5, 2.0)),
    "chisquare": (lambda k: fr.chisquare(k, 3.0, N), stats.chi2(3.0)),
    "t": (lambda k: fr.t(k, 6.0, N), stats.t(6.0)),
    "f": (lambda k: fr.f(k, 4.0, 12.0, N), stats.f(4.0, 12.0)),
    "generalized_normal": (lambda k: fr.generalized_normal(k, 1.5, N), stats.gennorm(1.5)),
}

DISCRETE = {
    "geometric": (lambda k: fr.geometric(k, 0.2, N), stats.geom(0.2)),
    "poisson_small": (lambda k: fr.poisson(k, 3.5, N), stats.poisson(3.5)),
    "poisson_large": (lambda k: fr.poisson(k, 250.0, N), stats.poisson(250.0)),
    "binomial_small": (lambda k: fr.binomial(k, 20, 0.2, N), stats.binom(20, 0.2)),
    "binomial_large": (lambda k: fr.binomial(k, 500, 0.7, N), stats.binom(500, 0.7)),
    "binomial_flip": (lambda k: fr.binomial(k, 30, 0.9, N), stats.binom(30, 0.9)),
}


@pytest.mark.parametrize("name", sorted(CONTINUOUS))
def test_continuous_moments(name):
    draw, dist = CONTINUOUS[name]
    x = draw(fr.key(2024))
    assert x.shape == (N,) and x.dtype == np.float64
    sample_moments_agree(x, dist)


@pytest.mark.parametrize("name", sorted(DISCRETE))
def test_discrete_moments(name):
    draw, dist = DISCRETE[name]
    x = draw(fr.key(2024))
    assert x.shape == (N,) and x.dtype == np.int64
    lo, hi = dist.support()
    assert x.min() >= lo and x.max() <= hi
    sample_moments_agree(x, dist)


def test_double_sided_maxwell_is_symmetric():
    above = np.mean(fr.double_sided_maxwell(fr.key(2024), 1.0, 2.0, N) > 1.0)
    assert abs(above - 0.5) <= K * math.sqrt(0.25 / N)


def test_rademacher():
    x = fr.rademacher(fr.key(0), N)
    assert x.dtype == np.int64 and set(np.unique(x).tolist()) == {-1, 1}
    assert abs(x.mean()) <= K / math.sqrt(N)
    assert fr.rademacher(fr.key(0), 3, np.float32).dtype == np.float32


def test_dirichlet_moments_and_simplex():
    alpha = np.array([0.5, 1.0, 3.0])
    x = fr.dirichlet(fr.key(1), alpha, (N,))
    assert x.shape == (N, 3)
    np.testing.assert_allclose(x.sum(-1), 1.0, rtol=1e-12)
    dist = stats.dirichlet(alpha)
    se = np.sqrt(dist.var() / N)
    assert (np.abs(x.mean(0) - dist.mean()) <= K * se).all()


@pytest.mark.parametrize("method", ["cholesky", "eigh", "svd"])
def test_multivariate_normal_moments(method):
    mean = np.array([1.0, -2.0, 0.5])
    a = np.array([[1.0, 0.3, 0.0], [0.2, 1.5, 0.4], [0.0, 0.1, 0.7]])
    cov = a @ a.T
    x = fr.multivariate_normal(fr.key(3), mean, cov, (N,), method=method)
    assert x.shape == (N, 3)
    assert (np.abs(x.mean(0) - mean) <= K * np.sqrt(np.diag(cov) / N)).all()
    emp = np.cov(x.T)
    se = np.sqrt((cov**2 + np.outer(np.diag(cov), np.diag(cov))) / N)  # Var of a sample covariance
    assert (np.abs(emp - cov) <= K * se).all()


def test_multivariate_normal_singular_covariance_by_eigh_and_svd():
    cov = np.array([[1.0, 1.0], [1.0, 1.0]])
    for method in ("eigh", "svd"):
        x = fr.multivariate_normal(fr.key(0), np.zeros(2), cov, (100,), method=method)
        np.testing.assert_allclose(x[:, 0], x[:, 1], atol=1e-7)


@pytest.mark.parametrize("n, m", [(4, None), (5, 3), (2, 4)])
def test_orthogonal(n, m):
    q = fr.orthogonal(fr.key(0), n, (500,), m=m)
    cols = n if m is None else m
    assert q.shape == (500, n, cols)
    small = min(n, cols)
    gram = q.swapaxes(-1, -2) @ q if n >= cols else q @ q.swapaxes(-1, -2)
    np.testing.assert_allclose(gram, np.broadcast_to(np.eye(small), gram.shape), atol=1e-12)
    # Haar: an entry squared is Beta(1/2, (n-1)/2) distributed, of mean 1/n (for the tall side)
    tall = max(n, cols)
    entries = (q[:, 0, 0] ** 2)
    dist = stats.beta(0.5, (tall - 1) / 2)
    assert abs(entries.mean() - dist.mean()) <= K * math.sqrt(dist.var() / 500)


@pytest.mark.parametrize("d, p", [(3, 2.0), (2, 1.0), (4, 3.0)])
def test_ball_is_uniform(d, p):
    x = fr.ball(fr.key(0), d, p, (N,))
    assert x.shape == (N, d)
    r = np.sum(np.abs(x) ** p, axis=-1) ** (1 / p)
    assert (r <= 1.0).all()
    # uniform in the ball: r^d is uniform on [0, 1]
    sample_moments_agree(r**d, stats.uniform())


# --------------------------------------------------------------------------------------------
# Shapes, broadcasting and dtypes
# --------------------------------------------------------------------------------------------

PARAMETERIZED = {
    "gamma": lambda k, p, s, **kw: fr.gamma(k, p + 1.0, s, **kw),
    "loggamma": lambda k, p, s, **kw: fr.loggamma(k, p + 1.0, s, **kw),
    "beta": lambda k, p, s, **kw: fr.beta(k, p + 1.0, 2.0, s, **kw),
    "chisquare": lambda k, p, s, **kw: fr.chisquare(k, p + 1.0, s, **kw),
    "t": lambda k, p, s, **kw: fr.t(k, p + 2.0, s, **kw),
    "f": lambda k, p, s, **kw: fr.f(k, 3.0, p + 2.0, s, **kw),
    "generalized_normal": lambda k, p, s, **kw: fr.generalized_normal(k, p + 1.0, s, **kw),
    "pareto": lambda k, p, s, **kw: fr.pareto(k, p + 1.0, s, **kw),
    "weibull_min": lambda k, p, s, **kw: fr.weibull_min(k, 1.0, p + 1.0, s, **kw),
    "rayleigh": lambda k, p, s, **kw: fr.rayleigh(k, p + 1.0, s, **kw),
    "double_sided_maxwell": lambda k, p, s, **kw: fr.double_sided_maxwell(k, p, 1.0, s, **kw),
    "wald": lambda k, p, s, **kw: fr.wald(k, p + 1.0, s, **kw),
    "triangular": lambda k, p, s, **kw: fr.triangular(k, 0.0, p + 0.5, 3.0, s, **kw),
    "lognormal": lambda k, p, s, **kw: fr.lognormal(k, p + 0.5, s, **kw),
}

UNPARAMETERIZED = {
    "exponential": fr.exponential, "laplace": fr.laplace, "cauchy": fr.cauchy,
    "logistic": fr.logistic, "gumbel": fr.gumbel, "maxwell": fr.maxwell,
}


@pytest.mark.parametrize("name", sorted(PARAMETERIZED))
def test_parameters_broadcast_to_the_shape(name):
    draw = PARAMETERIZED[name]
    p = np.array([0.1, 0.5, 0.9])
    k = fr.key(5)
    assert draw(k, p, None).shape == (3,)
    assert draw(k, 0.5, None).shape == ()
    assert isinstance(draw(k, 0.5, None), np.ndarray)
    assert draw(k, p, (2, 3)).shape == (2, 3)
    assert draw(k, p[:, None], None).shape == (3, 1)
    out = draw(k, p, (4, 3), dtype=np.float32)
    assert out.shape == (4, 3) and out.dtype == np.float32
    # each element is its own parameter's draw: a parameter array gives the same numbers as
    # a scalar parameter at the same positions
    np.testing.assert_allclose(draw(k, p, None)[1], draw(k, 0.5, (3,))[1], rtol=1e-12)
    with pytest.raises(ValueError, match=r"does not broadcast to the requested shape \(2,\)"):
        draw(k, p, (2,))


@pytest.mark.parametrize("name", sorted(UNPARAMETERIZED))
@pytest.mark.parametrize("shape", [(), 4, (2, 3), (0, 2)])
def test_standard_samplers_shapes_and_dtypes(name, shape):
    out = UNPARAMETERIZED[name](fr.key(0), shape)
    expected = (shape,) if isinstance(shape, int) else shape
    assert isinstance(out, np.ndarray) and out.shape == expected and out.dtype == np.float64
    assert UNPARAMETERIZED[name](fr.key(0), shape, np.float32).dtype == np.float32
    assert np.isfinite(out).all()


def test_discrete_shapes_and_invalid_parameters():
    k = fr.key(0)
    assert fr.poisson(k, np.array([1.0, 50.0]), (3, 2)).shape == (3, 2)
    assert fr.poisson(k, 2.0, 5, np.int32).dtype == np.int32
    assert fr.binomial(k, np.array([3, 40]), 0.5).shape == (2,)
    assert fr.binomial(k, 10, np.array([[0.1], [0.9]]), (2, 4)).shape == (2, 4)
    assert fr.geometric(k, np.array([0.5, 1.0])).tolist()[1] == 1
    assert fr.poisson(k, np.array([0.0, -1.0, np.nan])).tolist() == [0, -1, -1]
    assert fr.binomial(k, np.array([4, 4, -1, 2.5]), np.array([0.0, 1.0, 0.5, 0.5])).tolist() == [
        0, 4, -1, -1]
    with pytest.raises(TypeError, match="dtype must be an integer dtype"):
        fr.poisson(k, 1.0, dtype=np.float64)
    with pytest.raises(ValueError, match="do not broadcast together"):
        fr.binomial(k, np.array([1, 2]), np.array([0.1, 0.2, 0.3]))



def test_counts_beyond_the_dtype_saturate_instead_of_wrapping():
    """A Poisson mean of 1e12 in int32 (or a tiny geometric p, a huge binomial n): the
    largest value of the dtype, as JAX gives, not the -2**31 a float-to-int cast produced."""
    k = fr.key(0)
    top = np.iinfo(np.int32).max
    assert fr.poisson(k, 1e12, (3,), np.int32).tolist() == [top] * 3
    assert fr.geometric(k, 1e-12, (3,), np.int32).tolist() == [top] * 3
    assert fr.binomial(k, 1e12, 0.5, (2,), np.int32).tolist() == [top] * 2
    assert (fr.poisson(k, 1e30, (2,)) > 2**62).all()
    assert fr.poisson(k, np.array([-1.0, np.nan]), None, np.int8).tolist() == [-1, -1]


def test_multinomial_counts_sum_to_n_with_multinomial_moments():
    """JAX's ``multinomial``: counts along the last axis summing to ``n`` exactly, with means
    ``n p``, variances ``n p (1 - p)`` and covariances ``-n p_i p_j`` (unnormalised weights
    allowed); NaN for invalid parameters; eager = jit = vmap over keys."""
    k = fr.key(5)
    p = np.array([0.2, 0.3, 0.5])
    c = fr.multinomial(k, 20, 2 * p, shape=(4000,))
    assert c.shape == (4000, 3) and c.dtype == np.float64 and (c.sum(-1) == 20).all()
    se = np.sqrt(20 * p * (1 - p) / 4000)
    assert (np.abs(c.mean(0) - 20 * p) < 5 * se).all()
    assert np.allclose(c.var(0), 20 * p * (1 - p), rtol=0.15)
    assert abs(np.cov(c.T)[0, 1] + 20 * p[0] * p[1]) < 0.15
    batch = fr.multinomial(k, np.array([10.0, 20.0]), np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]))
    assert batch.tolist() == [[10.0, 0.0, 0.0], [0.0, 0.0, 20.0]]
    bad = fr.multinomial(k, np.array([-1.0, 2.5, 3.0, 3.0]),
                         np.array([[1.0, 1.0], [1.0, 1.0], [-1.0, 2.0], [0.0, 0.0]]))
    assert np.isnan(bad).all()
    assert fr.multinomial(k, 100, p, dtype=np.float32).dtype == np.float32
    np.testing.assert_array_equal(ft.jit(lambda k: fr.multinomial(k, 10, p, shape=(3,)))(k),
                                  fr.multinomial(k, 10, p, shape=(3,)))
    keys = fr.split(k, 2)
    np.testing.assert_array_equal(ft.vmap(lambda k: fr.multinomial(k, 10, p))(keys),
                                  np.stack([fr.multinomial(a, 10, p) for a in keys]))
    with pytest.raises(ValueError, match="p must have an outcomes axis"):
        fr.multinomial(k, 10, np.array(1.0))
    with pytest.raises(ValueError, match=r"'n' of shape \(3,\) does not broadcast to the batch shape \(2,\)"):
        fr.multinomial(k, np.ones(3), p, shape=(2,))


def test_count_samplers_take_traced_parameters_and_refuse_impossible_p():
    """A rate passed into ``jit`` (which traces Python floats) or mapped by ``vmap``: the
    eager counts, without derivative; a geometric ``p`` outside (0, 1] is -1, like the other
    samplers' invalid parameters, not a negative or saturated count."""
    k = fr.key(2)
    np.testing.assert_array_equal(ft.jit(lambda lam: fr.poisson(k, lam, (5,)))(3.0), fr.poisson(k, 3.0, (5,)))
    rates = np.array([1.0, 50.0])
    np.testing.assert_array_equal(ft.vmap(lambda lam: fr.poisson(k, lam, (3,)))(rates),
                                  np.stack([fr.poisson(k, lam, (3,)) for lam in rates]))
    np.testing.assert_array_equal(ft.jit(lambda k, p: fr.geometric(k, p, (4,)))(k, 0.3), fr.geometric(k, 0.3, (4,)))
    n, p = np.array([5.0, 50.0]), np.array([0.3, 0.6])
    np.testing.assert_array_equal(ft.vmap(lambda n, p: fr.binomial(k, n, p, (2,), np.int32))(n, p),
                                  np.stack([fr.binomial(k, a, b, (2,), np.int32) for a, b in zip(n, p)]))
    assert ft.grad(lambda lam: fnp.sum(fr.poisson(k, lam, (3,)) * lam))(3.0) == fr.poisson(k, 3.0, (3,)).sum()
    assert fr.geometric(k, np.array([0.0, -0.5, 1.0, 1.5, np.nan])).tolist() == [-1, -1, 1, -1, -1]

def test_bad_arguments_are_named():
    k = fr.key(0)
    with pytest.raises(ValueError, match="mode must be 'low' or 'high'"):
        fr.gumbel(k, mode="middle")
    with pytest.raises(ValueError, match="method must be one of"):
        fr.multivariate_normal(k, np.zeros(2), np.eye(2), method="qr")
    with pytest.raises(ValueError, match=r"mean must have shape \(\.\.\., n\) and cov shape"):
        fr.multivariate_normal(k, np.zeros(2), np.eye(3))
    with pytest.raises(ValueError, match="alpha must have at least one dimension"):
        fr.dirichlet(k, 2.0)
    with pytest.raises(TypeError, match="'n' must be a non-negative int"):
        fr.orthogonal(k, 2.5)
    with pytest.raises(ValueError, match="d and p must be positive"):
        fr.ball(k, 0)
    with pytest.raises(TypeError, match="dtype must be a floating dtype"):
        fr.gamma(k, 1.0, dtype=np.int32)
    with pytest.raises(TypeError, match="expected a key from functrans.random.key"):
        fr.laplace(3)
    with pytest.raises(TypeError, match="'a' must be real"):
        fr.gamma(k, np.array([1j]))
    with pytest.raises(TypeError, match=r"expected keys \(a uint32 array of shape \(\.\.\., 2\)"):
        fr.key_data(np.zeros(3))


def test_gamma_invalid_shape_gives_nan():
    x = fr.gamma(fr.key(0), np.array([-1.0, 0.0, np.nan, 2.0]))
    assert np.isnan(x[:3]).all() and np.isfinite(x[3])


def test_loggamma_keeps_tiny_shapes():
    a = 1e-3
    x = fr.loggamma(fr.key(0), a, N)
    assert np.isfinite(x).all()
    sample_moments_agree(x, stats.loggamma(a))


def test_keys_helpers():
    k = fr.key(9)
    assert fr.PRNGKey(9).tolist() == k.tolist()
    assert fr.key_data(k) is k and fr.wrap_key_data(k) is k
    keys = fr.split(k, 3)
    assert fr.key_data(keys).shape == (3, 2)
    assert ft.jit(fr.key_data)(keys).tolist() == keys.tolist()


# --------------------------------------------------------------------------------------------
# The same numbers eagerly, under jit and under vmap over keys
# --------------------------------------------------------------------------------------------

ALL_DRAWS = {
    **{name: (lambda d: lambda k: d(k, np.array([0.2, 0.7]), None))(d) for name, d in PARAMETERIZED.items()},
    **{name: (lambda d: lambda k: d(k, (2,)))(d) for name, d in UNPARAMETERIZED.items()},
    "dirichlet": lambda k: fr.dirichlet(k, np.array([0.5, 2.0])),
    "multivariate_normal": lambda k: fr.multivariate_normal(k, np.zeros(2), np.eye(2) * 2.0, (2,)),
    "orthogonal": lambda k: fr.orthogonal(k, 3),
    "ball": lambda k: fr.ball(k, 3),
    "rademacher": lambda k: fr.rademacher(k, (4,)),
    "geometric": lambda k: fr.geometric(k, 0.3, (3,)),
    "poisson": lambda k: fr.poisson(k, np.array([2.0, 40.0])),
    "binomial": lambda k: fr.binomial(k, np.array([5, 200]), 0.4),
}


@pytest.mark.parametrize("name", sorted(ALL_DRAWS))
def test_same_numbers_eagerly_under_jit_and_vmap(name):
    draw = ALL_DRAWS[name]
    keys = fr.split(fr.key(17), 3)
    eager = np.stack([draw(k) for k in keys])
    np.testing.assert_allclose(ft.jit(draw)(keys[0]), eager[0], rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(ft.vmap(draw)(keys), eager, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(ft.jit(ft.vmap(draw))(keys), eager, rtol=1e-12, atol=1e-300)
    assert not np.array_equal(eager[0], eager[1])


def test_parameters_traced_under_jit_give_the_eager_numbers():
    k = fr.key(4)
    for draw in (lambda a: fr.gamma(k, a, (3,)), lambda a: fr.beta(k, a, 2.0, (3,)),
                 lambda a: fr.weibull_min(k, 1.0, a, (3,)),
                 lambda a: fr.multivariate_normal(k, a * np.ones(2), np.eye(2), (3,))):
        np.testing.assert_allclose(ft.jit(draw)(1.7), draw(1.7), rtol=1e-12)


# --------------------------------------------------------------------------------------------
# Derivatives in the parameters
# --------------------------------------------------------------------------------------------

# Pathwise: the sample is a smooth function of the parameters at a fixed key; check_grads
# compares forward and reverse mode, to second order, with finite differences of the sample.
PATHWISE = {
    "pareto": (lambda k, b: fr.pareto(k, b), [np.array([1.5, 3.0])]),
    "weibull_min": (lambda k, s, c: fr.weibull_min(k, s, c), [np.array([1.0, 2.0]), np.array([0.8, 2.5])]),
    "rayleigh": (lambda k, s: fr.rayleigh(k, s), [np.array([0.5, 2.0])]),
    "double_sided_maxwell": (lambda k, m, s: fr.double_sided_maxwell(k, m, s),
                             [np.array([0.0, 1.0]), np.array([1.0, 2.0])]),
    "triangular": (lambda k, a, m, b: fr.triangular(k, a, m, b),
                   [np.array([-1.0, 0.0]), np.array([0.2, 1.0]), np.array([1.0, 3.0])]),
    "lognormal": (lambda k, s: fr.lognormal(k, s), [np.array([0.3, 1.2])]),
    "multivariate_normal": (lambda k, m, a: fr.multivariate_normal(k, m, a @ a.T, (3,)),
                            [np.array([1.0, -1.0]), np.array([[1.0, 0.0], [0.4, 0.8]])]),
    "multivariate_normal_eigh": (
        lambda k, m, a: fr.multivariate_normal(k, m, a @ a.T, (3,), method="eigh"),
        [np.array([1.0, -1.0]), np.array([[1.0, 0.0], [0.4, 0.8]])]),
    "location_scale": (lambda k, m, s: m + s * (fr.laplace(k, (2,)) + fr.cauchy(k, (2,))
                                               + fr.logistic(k, (2,)) + fr.gumbel(k, (2,))
                                               + fr.exponential(k, (2,))),
                       [np.array([0.5, 1.0]), np.array([1.0, 2.0])]),
}


@pytest.mark.parametrize("name", sorted(PATHWISE))
def test_pathwise_derivatives(name, backend):
    draw, params = PATHWISE[name]
    k = backend.put(fr.key(8))
    args = backend.put(params)
    out = draw(k, *args)
    backend.check_placed(out)
    check_grads(lambda *p: draw(k, *p), args, order=2, rtol=1e-4, atol=1e-6)


def _implicit_gamma_slope(a: float, x: np.ndarray) -> np.ndarray:
    """dx/da at a fixed CDF value, from SciPy: -(dF/da) / pdf, dF/da by central differences."""
    h = 1e-6 * max(a, 1.0)
    dfda = (special.gammainc(a + h, x) - special.gammainc(a - h, x)) / (2 * h)
    return -dfda / stats.gamma.pdf(x, a)


@pytest.mark.parametrize("a", [0.2, 0.9, 1.5, 7.0, 60.0])
def test_gamma_derivative_is_the_implicit_reparameterization(a, backend):
    k, a = backend.put((fr.key(12), np.array(a)))
    x, dx = ft.jvp(lambda a_: fr.gamma(k, a_, (40,)), (a,), (backend.put(np.array(1.0)),))
    backend.check_placed((x, dx))
    x, dx = backend.get(x), backend.get(dx)
    np.testing.assert_allclose(dx, _implicit_gamma_slope(float(backend.get(a)), x), rtol=2e-5, atol=1e-9)
    # reverse mode agrees, and so does jit of it
    g = ft.grad(lambda a_: fr.gamma(k, a_, (40,)).sum())(a)
    np.testing.assert_allclose(backend.get(g), dx.sum(), rtol=1e-10)
    g_jit = ft.jit(ft.grad(lambda a_: fr.gamma(k, a_, (40,)).sum()))(a)
    np.testing.assert_allclose(backend.get(g_jit), dx.sum(), rtol=1e-10)


def _transport(dist, x0: np.ndarray, theta0: float, theta: float) -> np.ndarray:
    """The sample that keeps the CDF value of ``x0`` as the parameter moves: the map whose
    derivatives implicit reparameterization gives."""
    return dist.ppf(dist.cdf(x0, theta0), theta)


@pytest.mark.parametrize("mean", [0.4, 1.0, 3.0])
def test_wald_derivatives_are_the_implicit_ones_to_second_order(mean, backend):
    k, m = backend.put((fr.key(13), np.array(mean)))
    one = backend.put(np.array(1.0))
    x = backend.get(fr.wald(k, m, (30,)))
    d1 = lambda m_: ft.jvp(lambda mm: fr.wald(k, mm, (30,)), (m_,), (one,))[1]
    dx = backend.get(d1(m))
    d2x = backend.get(ft.jvp(d1, (m,), (one,))[1])
    h = 1e-4 * mean
    moved = [_transport(stats.invgauss, x, mean, mean + s * h) for s in (-1, 0, 1)]
    np.testing.assert_allclose(dx, (moved[2] - moved[0]) / (2 * h), rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(d2x, (moved[2] - 2 * moved[1] + moved[0]) / h**2, rtol=2e-3, atol=1e-5)
    g = ft.grad(lambda mm: fr.wald(k, mm, (30,)).sum())(m)
    np.testing.assert_allclose(backend.get(g), dx.sum(), rtol=1e-10)


def test_gamma_second_derivative_is_a_clear_error():
    with pytest.raises(UnsupportedError, match="second derivative of gamma samples"):
        ft.grad(ft.grad(lambda a: fr.gamma(fr.key(0), a)))(2.0)


def test_gamma_derivative_under_vmap_over_keys():
    keys = fr.split(fr.key(1), 3)
    per_key = ft.vmap(lambda k: ft.grad(lambda a: fr.gamma(k, a, (4,)).sum())(2.5))(keys)
    eager = [ft.grad(lambda a: fr.gamma(k, a, (4,)).sum())(2.5) for k in keys]
    np.testing.assert_allclose(per_key, eager, rtol=1e-12)


def _per_sample_derivative(estimate, theta: float) -> np.ndarray:
    """d/dtheta of each sample's term of a Monte Carlo estimate (forward mode)."""
    _, tangent = ft.jvp(estimate, (theta,), (1.0,))
    return np.asarray(tangent)


# (terms of a Monte Carlo estimate of E[g(X; theta)] as a function of theta, theta, the exact
# d/dtheta E[g])
EXPECTATION_GRADIENTS = {
    "gamma_mean": (lambda a: fr.gamma(fr.key(21), a, N), 2.5, 1.0),
    "gamma_small_mean": (lambda a: fr.gamma(fr.key(21), a, N), 0.4, 1.0),
    "gamma_second_moment": (lambda a: fr.gamma(fr.key(21), a, N) ** 2, 3.0, 2 * 3.0 + 1),
    "loggamma_mean": (lambda a: fr.loggamma(fr.key(21), a, N), 1.5, float(special.polygamma(1, 1.5))),
    "beta_mean": (lambda a: fr.beta(fr.key(21), a, 3.0, N), 2.0, 3.0 / 25.0),
    "chisquare_mean": (lambda d: fr.chisquare(fr.key(21), d, N), 4.0, 1.0),
    "t_second_moment": (lambda d: fr.t(fr.key(21), d, N) ** 2, 7.0, -2.0 / 25.0),
    "f_mean": (lambda d: fr.f(fr.key(21), 5.0, d, N), 9.0, -2.0 / 49.0),
    "dirichlet_first": (lambda a: fr.dirichlet(fr.key(21), np.array([1.0, 2.0]) + a * np.array([1.0, 0.0]), (N,))[:, 0],
                        1.0, 2.0 / 16.0),
    "generalized_normal_abs_p": (lambda p: np.abs(fr.generalized_normal(fr.key(21), p, N)) ** p
                                 if not isinstance(p, ft.core.trace.Tracer)
                                 else ft.numpy.abs(fr.generalized_normal(fr.key(21), p, N)) ** p,
                                 1.5, -1.0 / 1.5**2),
    "pareto_mean": (lambda b: fr.pareto(fr.key(21), b, N), 4.0, -1.0 / 9.0),
    "weibull_mean": (lambda s: fr.weibull_min(fr.key(21), s, 2.0, N), 1.5, math.gamma(1.5)),
    "wald_mean": (lambda m: fr.wald(fr.key(21), m, N), 1.5, 1.0),
}


@pytest.mark.parametrize("name", sorted(EXPECTATION_GRADIENTS))
def test_gradient_of_an_expectation(name):
    terms, theta, exact = EXPECTATION_GRADIENTS[name]
    d = _per_sample_derivative(terms, theta)
    assert d.shape == (N,) and np.isfinite(d).all()
    assert abs(d.mean() - exact) <= K * d.std() / math.sqrt(N), (d.mean(), exact)
    # the same number from reverse mode
    g = ft.grad(lambda th: terms(th).mean())(theta)
    np.testing.assert_allclose(g, d.mean(), rtol=1e-8)


# --------------------------------------------------------------------------------------------
# Devices: a key on the strict backend's device draws there
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(ALL_DRAWS))
def test_samples_are_made_on_the_key_device(name):
    strict = BACKENDS["strict"]
    draw = ALL_DRAWS[name]
    k = fr.key(6)
    on_device = draw(strict.put(k))
    strict.check_placed(on_device)
    np.testing.assert_allclose(strict.get(on_device), draw(k), rtol=1e-12, atol=1e-300)
    strict.check_placed(ft.jit(draw)(strict.put(k)))
