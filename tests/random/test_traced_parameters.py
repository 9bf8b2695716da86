"""The samplers' parameters traced: under ``jit`` (which traces Python numbers), mapped by
``vmap`` (with one key, and with a key per example) and differentiated by ``grad``. Traced
parameters give the eager numbers example by example; ``uniform`` and ``truncated_normal``
differentiate in their bounds like finite differences of the eager sampler at a fixed key,
to second order; discrete draws give a zero gradient, as in JAX; and what must stay a
concrete int (a shape, a size, an axis) is refused with an error that says so.
"""
from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

import functrans as ft
import functrans.numpy as fnp
from functrans import random as fr
from functrans.errors import TracerConversionError
from functrans.testing import check_grads

K = fr.key(5)
KEYS = fr.split(fr.key(6), 3)

# One draw per sampler with parameters: draw(key, *params) and the parameters' values.
DRAWS = {
    "uniform": (lambda k, lo, hi: fr.uniform(k, (2,), minval=lo, maxval=hi), (0.5, 2.0)),
    "truncated_normal": (lambda k, lo, hi: fr.truncated_normal(k, lo, hi, (2,)), (-0.5, 2.0)),
    "truncated_normal_float32": (
        lambda k, lo, hi: fr.truncated_normal(k, lo, hi, (2,), np.float32), (-2.0, 0.5)),
    "pareto": (lambda k, b: fr.pareto(k, b, (2,)), (1.5,)),
    "weibull_min": (lambda k, s, c: fr.weibull_min(k, s, c, (2,)), (1.2, 2.0)),
    "rayleigh": (lambda k, s: fr.rayleigh(k, s, (2,)), (1.3,)),
    "double_sided_maxwell": (lambda k, m, s: fr.double_sided_maxwell(k, m, s, (2,)), (0.3, 1.5)),
    "wald": (lambda k, m: fr.wald(k, m, (2,)), (1.5,)),
    "triangular": (lambda k, a, m, b: fr.triangular(k, a, m, b, (2,)), (-0.5, 1.0, 3.0)),
    "lognormal": (lambda k, s: fr.lognormal(k, s, (2,)), (0.7,)),
    "gamma": (lambda k, a: fr.gamma(k, a, (2,)), (1.7,)),
    "loggamma": (lambda k, a: fr.loggamma(k, a, (2,)), (1.7,)),
    "beta": (lambda k, a, b: fr.beta(k, a, b, (2,)), (1.7, 2.5)),
    "dirichlet": (lambda k, a: fr.dirichlet(k, fnp.stack([a, a + 1.0])), (1.7,)),
    "chisquare": (lambda k, df: fr.chisquare(k, df, (2,)), (3.5,)),
    "t": (lambda k, df: fr.t(k, df, (2,)), (3.5,)),
    "f": (lambda k, a, b: fr.f(k, a, b, (2,)), (3.5, 5.0)),
    "generalized_normal": (lambda k, p: fr.generalized_normal(k, p, (2,)), (1.5,)),
    "multivariate_normal": (
        lambda k, m, s: fr.multivariate_normal(k, m * fnp.ones(2), s * fnp.eye(2), (2,)), (0.5, 2.0)),
    "ball": (lambda k, p: fr.ball(k, 3, p, (2,)), (1.5,)),
    "bernoulli": (lambda k, p: fr.bernoulli(k, p, (4,)), (0.4,)),
    "randint": (lambda k, lo, hi: fr.randint(k, (4,), lo, hi), (3, 10)),
    "randint_int8": (lambda k, lo, hi: fr.randint(k, (4,), lo, hi, np.int8), (-100, 100)),
    "categorical": (lambda k, logit: fr.categorical(k, fnp.stack([logit, 0.0 * logit, -logit]),
                                                    shape=(4,)), (0.5,)),
    "geometric": (lambda k, p: fr.geometric(k, p, (4,)), (0.3,)),
    "poisson": (lambda k, lam: fr.poisson(k, lam, (4,)), (3.0,)),
    "binomial": (lambda k, n, p: fr.binomial(k, n, p, (4,)), (10.0, 0.3)),
    "multinomial": (lambda k, n, p: fr.multinomial(k, n, fnp.stack([p, 1.0 - p])), (10.0, 0.3)),
    "permutation": (lambda k, x: fr.permutation(k, x * fnp.arange(4.0)), (1.5,)),
    "choice": (lambda k, p: fr.choice(k, 3, (4,), p=fnp.stack([p, 0.5 - p, 0.5])), (0.2,)),
}
CASES = [(name, i) for name, (_, params) in DRAWS.items() for i in range(len(params))]


def _batch(value):
    """Three values of a parameter around ``value`` (whole numbers stay whole)."""
    if float(value) == int(value):
        return np.array([value, value + 1, value - 1])
    return np.array([value, value * 1.1, value * 0.9])


def assert_same(got, expected):
    got, expected = np.asarray(got), np.asarray(expected)
    assert got.dtype == expected.dtype and got.shape == expected.shape
    np.testing.assert_allclose(got.astype(np.float64), expected.astype(np.float64),
                               rtol=1e-12, atol=0)


@pytest.mark.parametrize("name, i", CASES)
def test_a_traced_parameter_gives_the_eager_numbers(name, i):
    draw, params = DRAWS[name]

    def with_param(k, value):
        return draw(k, *params[:i], value, *params[i + 1:])

    assert_same(ft.jit(lambda v: with_param(K, v))(params[i]), with_param(K, params[i]))
    batch = _batch(params[i])
    one_key = np.stack([with_param(K, v.item()) for v in batch])
    assert_same(ft.vmap(lambda v: with_param(K, v))(batch), one_key)
    assert_same(ft.jit(ft.vmap(lambda v: with_param(K, v)))(batch), one_key)
    key_each = np.stack([with_param(k, v.item()) for k, v in zip(KEYS, batch)])
    assert_same(ft.vmap(with_param)(KEYS, batch), key_each)


@pytest.mark.parametrize("name, i", CASES)
def test_a_python_number_passed_to_jit_joins_the_keys_device(name, i, backend):
    """jit stages a Python number as a host scalar: a sampler keeps it one until it meets the
    draw, and moves an array computed from it alone (``m * fnp.ones(2)``, a host array as it is
    eagerly) to the key's device, so with a key on a device it gives the eager numbers there."""
    draw, params = DRAWS[name]
    key = backend.put(K)

    def with_param(value):
        return draw(key, *params[:i], value, *params[i + 1:])

    out = ft.jit(with_param)(params[i])
    backend.check_placed(out)
    assert_same(backend.get(out), backend.get(with_param(params[i])))


def test_traced_count_blocks_of_threefry2x32():
    count = np.array([[0, 1], [2, 3]], np.uint32)
    expected = fr.threefry2x32(K, count)
    assert_same(ft.jit(lambda c: fr.threefry2x32(K, c))(count), expected)
    assert_same(ft.vmap(lambda c: fr.threefry2x32(K, c))(count), expected)


# --------------------------------------------------------------------------------------------
# Derivatives in the bounds, against finite differences of the eager sampler
# --------------------------------------------------------------------------------------------

BOUNDS = {
    "uniform": (lambda k, lo, hi: fr.uniform(k, (3,), minval=lo, maxval=hi),
                [np.array(-1.0), np.array([2.0, 3.0, 4.0])]),
    # (-1, 0.5) is drawn as it is, (0.5, 3) and (-0.2, 4) mirrored, (-3, -1) in the far tail
    "truncated_normal": (lambda k, a, b: fr.truncated_normal(k, a, b),
                         [np.array([-1.0, 0.5, -0.2, -3.0]), np.array([0.5, 3.0, 4.0, -1.0])]),
    # a number bound beside a traced one is made where the traced one is, and a host array
    # moves to the key's device, as eagerly
    "uniform_number_and_host_array": (
        lambda k, lo: (fr.uniform(k, (3,), minval=lo, maxval=4.0)
                       + fr.uniform(k, (3,), minval=lo, maxval=np.array([2.0, 3.0, 4.0]))),
        [np.array(-1.0)]),
    "truncated_normal_number_upper": (lambda k, a: fr.truncated_normal(k, a, 2.5),
                                      [np.array([-1.0, 0.5])]),
}


@pytest.mark.parametrize("name", sorted(BOUNDS))
def test_bounds_derivatives_to_second_order(name, backend):
    draw, bounds = BOUNDS[name]
    k = backend.put(fr.key(8))
    args = backend.put(bounds)
    backend.check_placed(draw(k, *args))
    check_grads(lambda *b: draw(k, *b), args, order=2, rtol=1e-4, atol=1e-6)


def _central(f, x, h):
    return (np.asarray(f(x + h)) - np.asarray(f(x - h))) / (2 * h)


@pytest.mark.parametrize("lower, upper", [(-np.inf, 0.5), (0.5, np.inf), (-np.inf, -2.0)])
def test_truncated_normal_derivatives_with_an_infinite_bound(lower, upper):
    """The finite bound's derivatives, to second order, match finite differences; the
    infinite one's are 0 (not NaN)."""
    bounds = (lower, upper)
    finite = 0 if np.isfinite(lower) else 1

    def sample(b):
        return fr.truncated_normal(K, *(b if i == finite else bounds[i] for i in range(2)), (5,))

    b0 = bounds[finite]
    slope = ft.jacfwd(sample)(b0)
    np.testing.assert_allclose(slope, _central(sample, b0, 1e-6), rtol=1e-6)
    np.testing.assert_allclose(ft.jacfwd(ft.jacfwd(sample))(b0),
                               _central(ft.jacfwd(sample), b0, 1e-6), rtol=1e-6)
    np.testing.assert_allclose(ft.jacrev(sample)(b0), slope, rtol=1e-12)
    along_infinite = ft.jacfwd(lambda a, b: fr.truncated_normal(K, a, b, (5,)), argnums=1 - finite)
    assert (along_infinite(lower, upper) == 0).all()
    assert (ft.jacfwd(along_infinite, argnums=1 - finite)(lower, upper) == 0).all()


@pytest.mark.parametrize("lower, upper", [(-2.0, 0.5), (-1.0, 2.0), (-1.0, 1.0), (3.0, 4.0)])
def test_truncated_normal_keeps_its_cdf_fraction_so_moves_continuously(lower, upper):
    """x = ndtri(ndtr(a) + u (ndtr(b) - ndtr(a))) for the key's unit draw u on (0, 1), whether
    the interval is drawn as it is or mirrored (a + b > 0), so the sample does not jump where
    a + b changes sign."""
    u = fr.uniform(K, 6) + 2.0**-53  # the open unit draw: half a step above the uniform one
    cdf = stats.norm.cdf
    expected = stats.norm.ppf(cdf(lower) + u * (cdf(upper) - cdf(lower)))
    np.testing.assert_allclose(fr.truncated_normal(K, lower, upper, 6), expected, rtol=1e-12)
    across = [fr.truncated_normal(K, a, 1.0, 6) for a in (-1.0 - 1e-9, -1.0 + 1e-9)]
    np.testing.assert_allclose(across[0], across[1], atol=1e-8)


def test_truncated_normal_derivatives_under_jit_vmap_and_in_float32():
    def total(a, k=K, dtype=np.float64):
        return fr.truncated_normal(k, a, 2.0, (4,), dtype).astype(np.float64).sum()

    g = ft.grad(total)(0.3)
    assert np.isclose(g, _central(total, 0.3, 1e-6), rtol=1e-7)
    assert ft.jit(ft.grad(total))(0.3) == g
    lows = np.array([0.3, -1.0, 1.0])
    np.testing.assert_array_equal(ft.vmap(ft.grad(total))(lows), [ft.grad(total)(a.item()) for a in lows])
    per_key = ft.vmap(lambda k: ft.grad(total)(0.3, k))(KEYS)
    np.testing.assert_array_equal(per_key, [ft.grad(total)(0.3, k) for k in KEYS])
    np.testing.assert_allclose(ft.grad(lambda a: total(a, dtype=np.float32))(0.3), g, rtol=1e-6)


def test_a_traced_truncated_normal_interval_that_is_empty_gives_nan():
    """Traced bounds follow the rule for array bounds (as in JAX): NaN, not an error that the
    values would have to be read for."""
    assert np.isnan(ft.jit(lambda a: fr.truncated_normal(K, a, 1.0, (2,)))(2.0)).all()
    with pytest.raises(ValueError, match="lower must be less than upper"):
        fr.truncated_normal(K, 2.0, 1.0, (2,))


# --------------------------------------------------------------------------------------------
# Discrete draws: no derivative
# --------------------------------------------------------------------------------------------

DISCRETE = {
    "bernoulli": lambda p: fr.bernoulli(K, p, (4,)),
    "geometric": lambda p: fr.geometric(K, p, (4,)),
    "poisson": lambda lam: fr.poisson(K, 10 * lam, (4,)),
    "binomial_p": lambda p: fr.binomial(K, 10, p, (4,)),
    "binomial_n": lambda n: fr.binomial(K, fnp.round(10 * n), 0.3, (4,)),
    "multinomial": lambda p: fr.multinomial(K, 10, fnp.stack([p, 1.0 - p])),
    "categorical": lambda logit: fr.categorical(K, fnp.stack([logit, -logit]), shape=(4,)),
    "choice": lambda p: fr.choice(K, 2, (4,), p=fnp.stack([p, 1.0 - p])),
}


@pytest.mark.parametrize("name", sorted(DISCRETE))
def test_discrete_draws_have_a_zero_gradient_as_in_jax(name):
    def total(p):
        return fnp.sum(fnp.asarray(DISCRETE[name](p)).astype(np.float64))

    assert ft.grad(total)(0.3) == 0.0
    assert ft.jit(ft.grad(total))(0.3) == 0.0


def test_randint_with_traced_bounds_checks_them_when_the_program_runs():
    draw = ft.jit(lambda lo, hi: fr.randint(K, (3,), lo, hi, np.uint8))
    assert_same(draw(2, 200), fr.randint(K, (3,), 2, 200, np.uint8))
    with pytest.raises(ValueError, match="maxval must be greater than minval"):
        draw(5, 5)
    with pytest.raises(ValueError, match="does not fit dtype uint8"):
        draw(-1, 5)
    with pytest.raises(ValueError, match="maxval must be greater than minval"):
        ft.vmap(lambda lo: fr.randint(K, (3,), lo, 4))(np.array([1, 4]))
    with pytest.raises(TypeError, match="'maxval' must be an int or an integer array.*uniform"):
        ft.jit(lambda hi: fr.randint(K, (3,), 0, hi))(2.5)
    with pytest.raises(ValueError, match=r"'minval' of shape \(2,\) does not broadcast"):
        ft.jit(lambda lo: fr.randint(K, (3,), lo, 9))(np.array([1, 2]))


# --------------------------------------------------------------------------------------------
# What must stay concrete
# --------------------------------------------------------------------------------------------

SIZES = {
    "shape": lambda n: fr.normal(K, (n, 2)),
    "n": lambda n: fr.orthogonal(K, n),
    "d": lambda n: fr.ball(K, n),
    "x": lambda n: fr.permutation(K, n),
    "a": lambda n: fr.choice(K, n, (2,)),
    "num": lambda n: fr.split(K, n),
    "axis": lambda n: fr.categorical(K, np.zeros((2, 2)), axis=n),
}


@pytest.mark.parametrize("transform", ["jit", "vmap"])
@pytest.mark.parametrize("name", sorted(SIZES))
def test_a_traced_size_or_axis_is_refused_naming_it(name, transform):
    f = SIZES[name]
    run = ft.jit(f) if transform == "jit" else (lambda n: ft.vmap(f)(np.array([n, n])))
    with pytest.raises(TracerConversionError,
                       match=f"'{name}' is a traced value .* must be a concrete int") as info:
        run(2)
    assert "differentiable" not in str(info.value)


def test_a_traced_ball_exponent_must_be_a_number():
    with pytest.raises(ValueError, match=r"p must be a number, got a traced array of shape \(2,\)"):
        ft.jit(lambda p: fr.ball(K, 3, p))(np.array([1.0, 2.0]))


# A host parameter meets a key on a device: moved there, and its cotangent moved back
HOST_PARAMETERS = {
    "multivariate_normal_mean": (lambda k, m: fr.multivariate_normal(k, m, np.eye(2), (3,)),
                                 np.array([0.5, -1.0])),
    "multivariate_normal_cov": (lambda k, c: fr.multivariate_normal(k, np.zeros(2), c @ c.T, (3,)),
                                np.array([[1.0, 0.0], [0.3, 2.0]])),
    "permutation": (lambda k, x: fr.permutation(k, x), np.array([1.0, 2.0, 4.0, 8.0])),
    "permutation_independent": (lambda k, x: fr.permutation(k, x, axis=1, independent=True),
                                np.arange(6.0).reshape(2, 3) ** 2),
}


@pytest.mark.parametrize("name", sorted(HOST_PARAMETERS))
def test_a_host_parameter_differentiates_beside_a_key_on_a_device(name, backend):
    draw, value = HOST_PARAMETERS[name]
    key = backend.put(K)
    backend.check_placed(draw(key, value))
    check_grads(lambda v: draw(key, v), (value,), order=2, rtol=1e-6, atol=1e-8)

    def total(v):
        return fnp.sum(draw(key, v) ** 2)

    g = ft.grad(total)(value)
    assert isinstance(g, np.ndarray)  # the cotangent is back on the parameter's device
    np.testing.assert_allclose(g, backend.get(ft.grad(lambda v: fnp.sum(draw(K, v) ** 2))(value)),
                               rtol=1e-12)
    np.testing.assert_allclose(ft.jit(ft.grad(total))(value), g, rtol=1e-12)
    np.testing.assert_allclose(ft.grad(ft.jit(total))(value), g, rtol=1e-12)
    batch = np.stack([value, 2 * value])
    np.testing.assert_allclose(backend.get(ft.vmap(lambda v: draw(key, v))(batch)),
                               np.stack([backend.get(draw(key, v)) for v in batch]), rtol=1e-12)
