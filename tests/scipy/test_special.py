"""functrans.scipy.special and functrans.scipy.stats.norm: values against SciPy, derivatives
by check_grads to second order in both modes, and special points with exact values."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.special as ss
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import functrans as ft
import functrans.scipy.special as fsp
from functrans.scipy.stats import norm
from functrans.testing import check_grads

POS = (0.5, 3.0)
ANY = (-2.0, 2.0)
UNIT = (-0.9, 0.9)
NONZERO = "nonzero"

UNARY = [
    ("erf", ss.erf, ANY), ("erfc", ss.erfc, ANY), ("erfinv", ss.erfinv, UNIT),
    ("gammaln", ss.gammaln, POS), ("digamma", ss.digamma, POS), ("psi", ss.psi, POS),
    ("gamma", ss.gamma, POS), ("i0", ss.i0, ANY), ("i1", ss.i1, ANY), ("i0e", ss.i0e, NONZERO),
    ("i1e", ss.i1e, NONZERO), ("log_ndtr", ss.log_ndtr, ANY), ("ndtr", ss.ndtr, ANY),
    ("ndtri", ss.ndtri, (0.1, 0.9)), ("expit", ss.expit, ANY), ("logit", ss.logit, (0.1, 0.9)),
]
BINARY = [("xlogy", ss.xlogy, (ANY, POS)), ("xlog1py", ss.xlog1py, (ANY, POS))]


def _values(rng, shape, domain):
    if domain == NONZERO:
        return rng.uniform(0.3, 2.0, shape) * rng.choice([-1.0, 1.0], shape)
    return rng.uniform(*domain, shape)


shapes = hnp.array_shapes(min_dims=0, max_dims=2, min_side=0, max_side=3)


@pytest.mark.parametrize("name, ref, domain", UNARY, ids=[u[0] for u in UNARY])
@given(shape=shapes, seed=st.integers(0, 2**16))
@settings(max_examples=8)
def test_unary(name, ref, domain, shape, seed):
    x = _values(np.random.default_rng(seed), shape, domain)
    fn = getattr(fsp, name)
    np.testing.assert_allclose(fn(x), ref(x), rtol=1e-12, atol=1e-300)
    check_grads(fn, (x,), order=2, atol=1e-5, rtol=1e-5)
    x32 = x.astype(np.float32)
    assert ft.grad(lambda x: fn(x).sum())(x32).dtype == np.float32


@pytest.mark.parametrize("name, ref, domains", BINARY, ids=[b[0] for b in BINARY])
@given(shape=shapes, seed=st.integers(0, 2**16))
@settings(max_examples=8)
def test_binary(name, ref, domains, shape, seed):
    rng = np.random.default_rng(seed)
    x, y = _values(rng, shape, domains[0]), _values(rng, shape, domains[1])
    fn = getattr(fsp, name)
    np.testing.assert_allclose(fn(x, y), ref(x, y), rtol=1e-12)
    check_grads(fn, (x, y), order=2)


def test_polygamma():
    x = np.array([0.5, 1.0, 2.5])
    for n in range(3):
        np.testing.assert_allclose(fsp.polygamma(n, x), ss.polygamma(n, x), rtol=1e-12)
        check_grads(lambda x: fsp.polygamma(n, x), (x,), order=2, atol=1e-5, rtol=1e-5)


def test_polygamma_of_an_array_or_traced_order_is_scipys():
    n, x = np.array([0, 1, 2, 3]), np.array([0.5, 2.0, 3.5, 7.0])
    expected = ss.polygamma(n, x)
    np.testing.assert_allclose(fsp.polygamma(n, x), expected, rtol=1e-12)
    np.testing.assert_allclose(ft.jit(fsp.polygamma)(n, x), expected, rtol=1e-12)
    np.testing.assert_allclose(ft.vmap(fsp.polygamma)(n, x), expected, rtol=1e-12)
    np.testing.assert_allclose(fsp.polygamma(n[:, None], x), ss.polygamma(n[:, None], x), rtol=1e-12)
    np.testing.assert_allclose(fsp.polygamma(n, -2.5), ss.polygamma(n, -2.5), rtol=1e-12)
    # an order that is not an integer is NaN, as SciPy's (not rounded down)
    np.testing.assert_array_equal(fsp.polygamma(np.array([1.5, 2.0]), 2.0), ss.polygamma(np.array([1.5, 2.0]), 2.0))
    assert np.isnan(fsp.polygamma(1.5, 2.0)) and np.isnan(ss.polygamma(1.5, 2.0))
    np.testing.assert_allclose(ft.grad(lambda x: fsp.polygamma(n, x).sum())(x), ss.polygamma(n + 1, x), rtol=1e-12)
    check_grads(lambda x: fsp.polygamma(n, x), (x,), order=2, atol=1e-5, rtol=1e-5)
    assert fsp.polygamma(n, x.astype(np.float32)).dtype == np.float32


@pytest.mark.parametrize("axis", [None, 0, 1, (0, 1), -1])
def test_softmax_family_matches_scipy(axis):
    x = np.random.default_rng(1).standard_normal((3, 4)) * 3
    np.testing.assert_allclose(fsp.softmax(x, axis=axis), ss.softmax(x, axis=axis), rtol=1e-12)
    np.testing.assert_allclose(fsp.log_softmax(x, axis=axis), ss.log_softmax(x, axis=axis), rtol=1e-12)
    np.testing.assert_allclose(fsp.logsumexp(x, axis=axis), ss.logsumexp(x, axis=axis), rtol=1e-12)
    b = np.abs(x) + 0.1
    np.testing.assert_allclose(fsp.logsumexp(x, axis=axis, b=b, keepdims=True),
                               ss.logsumexp(x, axis=axis, b=b, keepdims=True), rtol=1e-12)
    check_grads(lambda x: fsp.softmax(x, axis=axis), (x,), order=2)
    check_grads(lambda x: fsp.log_softmax(x, axis=axis), (x,), order=2)
    check_grads(lambda x, b: fsp.logsumexp(x, axis=axis, b=b), (x, b), order=2)


def test_softmax_special_points():
    big = np.array([1000.0, 1000.0, -np.inf])
    assert fsp.softmax(big).tolist() == [0.5, 0.5, 0.0]
    assert fsp.log_softmax(np.array([0.0, 0.0])).tolist() == [-np.log(2)] * 2
    g = ft.grad(lambda x: fsp.log_softmax(x)[0])(np.zeros(4))
    np.testing.assert_allclose(g, [0.75, -0.25, -0.25, -0.25], rtol=0, atol=1e-15)


def test_special_points():
    assert float(fsp.erf(0.0)) == 0.0 and ft.grad(fsp.erf)(0.0) == 2 / np.sqrt(np.pi)
    assert ft.grad(fsp.erfinv)(0.0) == np.sqrt(np.pi) / 2
    assert ft.grad(fsp.i1)(0.0) == 0.5 and ft.grad(fsp.i1e)(0.0) == 0.5
    assert ft.grad(fsp.i0)(0.0) == 0.0
    assert ft.grad(fsp.expit)(0.0) == 0.25
    assert float(fsp.xlogy(0.0, 0.0)) == 0.0 and float(fsp.xlog1py(0.0, -1.0)) == 0.0
    assert ft.grad(fsp.xlogy, argnums=1)(0.0, 0.0) == 0.0
    assert ft.grad(fsp.xlogy, argnums=0)(0.0, 3.0) == np.log(3.0)
    # the log of the normal cdf far in the left tail, and its derivative (about -x)
    assert np.isclose(float(norm.logcdf(-40.0)), scipy.stats.norm.logcdf(-40.0))
    assert np.isclose(ft.grad(norm.logcdf)(-40.0), 40.0, rtol=1e-3)


@pytest.mark.parametrize("name", ["pdf", "logpdf", "cdf", "logcdf", "sf", "logsf"])
def test_normal_distribution(name):
    rng = np.random.default_rng(2)
    x, loc, scale = rng.standard_normal(5), rng.standard_normal(5), rng.uniform(0.5, 2.0, 5)
    np.testing.assert_allclose(getattr(norm, name)(x, loc, scale),
                               getattr(scipy.stats.norm, name)(x, loc, scale), rtol=1e-12)
    check_grads(getattr(norm, name), (x, loc, scale), order=2, atol=1e-5, rtol=1e-5)


def test_normal_ppf():
    q = np.array([0.1, 0.5, 0.8])
    np.testing.assert_allclose(norm.ppf(q, 1.0, 2.0), scipy.stats.norm.ppf(q, 1.0, 2.0), rtol=1e-12)
    check_grads(lambda q: norm.ppf(q, 1.0, 2.0), (q,), order=2, atol=1e-5, rtol=1e-5)


def test_without_scipy_the_error_names_the_fix(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "scipy.special", None)  # "import scipy.special" now fails
    with pytest.raises(ImportError, match="pip install scipy"):
        fsp.erf(np.array([0.5]))
    # i0 falls back to NumPy's own
    np.testing.assert_allclose(fsp.i0(np.array([0.5, 1.0])), np.i0(np.array([0.5, 1.0])), rtol=1e-14)
    # functions built from functrans.numpy need nothing else
    assert float(fsp.xlogy(0.0, 0.0)) == 0.0 and float(fsp.expit(0.0)) == 0.5


# -- the same functions on every backend: values, placement, derivatives ---------------------------

_ON_BACKEND = [(name, ref, (domain,)) for name, ref, domain in UNARY] + BINARY + [
    (f"norm.{name}", getattr(scipy.stats.norm, name), (ANY, ANY, POS))
    for name in ("pdf", "logpdf", "cdf", "logcdf", "sf", "logsf")] + [
    ("norm.ppf", scipy.stats.norm.ppf, ((0.1, 0.9), ANY, POS)),
    ("softmax", ss.softmax, (ANY,)), ("log_softmax", ss.log_softmax, (ANY,)),
    ("logsumexp", ss.logsumexp, (ANY,)), ("polygamma", lambda x: ss.polygamma(1, x), (POS,)),
]


@pytest.mark.parametrize("name, ref, domains", _ON_BACKEND, ids=[f[0] for f in _ON_BACKEND])
def test_special_functions_on_backend(name, ref, domains, backend):
    fn = getattr(norm, name[5:]) if name.startswith("norm.") else getattr(fsp, name)
    if name == "polygamma":
        fn = lambda x, fn=fn: fn(1, x)
    rng = np.random.default_rng(3)
    args = tuple(_values(rng, (2, 3), d) for d in domains)
    out = fn(*backend.put(args))
    backend.check_placed(out, f"fsp.{name} on {backend}")
    np.testing.assert_allclose(backend.get(out), ref(*args), rtol=1e-12, atol=1e-300)
    check_grads(fn, backend.put(args), order=1, atol=1e-5, rtol=1e-5)


# --- the table rows of the functions of several arguments and of the entropies ------------------
from specs import check_spec  # noqa: E402
from specs.special import FUNCTIONS as SPECIAL_FUNCTION_SPECS  # noqa: E402


@pytest.mark.parametrize("spec", SPECIAL_FUNCTION_SPECS, ids=repr)
def test_function_spec(spec, backend):
    check_spec(spec, backend)


@pytest.mark.parametrize("spec", SPECIAL_FUNCTION_SPECS, ids=repr)
def test_function_spec_low_precision(spec, backend):
    check_spec(spec, backend, low_precision=True)


SPECIAL_POINTS = np.array([0.0, -0.0, 1.0, -1.0, -2.0, -0.5, 0.5, 2.0, np.inf, -np.inf, np.nan])


@pytest.mark.parametrize("name", ["gamma", "gammaln", "digamma", "erf", "erfc", "erfinv", "ndtr", "ndtri",
                                  "log_ndtr", "logit", "expit", "i0", "i0e", "i1", "i1e", "spence", "entr"])
def test_special_points_as_scipy(name, backend):
    with np.errstate(all="ignore"):
        expected = getattr(ss, name)(SPECIAL_POINTS)
        got = getattr(fsp, name)(backend.put(SPECIAL_POINTS))
    backend.check_placed(got)
    np.testing.assert_allclose(backend.get(got), expected, rtol=1e-13, atol=0, equal_nan=True)


@pytest.mark.parametrize("name", ["betaln", "gammainc", "gammaincc", "zeta", "xlogy", "xlog1py", "rel_entr",
                                  "kl_div"])
def test_special_points_of_two_arguments_as_scipy(name):
    a, b = np.meshgrid(SPECIAL_POINTS, SPECIAL_POINTS)
    with np.errstate(all="ignore"):
        np.testing.assert_allclose(getattr(fsp, name)(a, b), getattr(ss, name)(a, b), rtol=1e-13, atol=0,
                                   equal_nan=True)


def test_betainc_special_points_and_riemann_zeta():
    x = np.array([0.0, 1.0, 0.5, -0.5, 1.5, np.nan])
    with np.errstate(all="ignore"):
        np.testing.assert_allclose(fsp.betainc(2.0, 3.0, x), ss.betainc(2.0, 3.0, x), equal_nan=True)
    s = np.array([2.0, 3.0, 1.0, 0.5, np.inf])
    with np.errstate(all="ignore"):
        np.testing.assert_allclose(fsp.zeta(s), ss.zeta(s, 1.0), rtol=1e-14, equal_nan=True)


def test_derivatives_that_are_not_implemented_raise():
    from functrans.errors import UnsupportedError

    with pytest.raises(UnsupportedError, match="betainc is not differentiable in a"):
        ft.grad(fsp.betainc)(2.0, 3.0, 0.5)
    with pytest.raises(UnsupportedError, match="betainc is not differentiable in b"):
        ft.grad(fsp.betainc, argnums=1)(2.0, 3.0, 0.5)
    with pytest.raises(UnsupportedError, match="second derivative in a"):
        ft.grad(ft.grad(fsp.gammainc))(2.0, 0.5)
    with pytest.raises(UnsupportedError, match="zeta is not differentiable in x"):
        ft.grad(fsp.zeta)(2.0, 1.5)
    # the other arguments stay differentiable, to second order
    check_grads(lambda x: fsp.betainc(2.0, 3.0, x), (np.array([0.2, 0.7]),), order=2)
    assert float(ft.grad(fsp.spence)(1.0)) == -1.0


def test_multigammaln_condition_and_entropy_derivatives():
    with pytest.raises(ValueError, match=r"greater than \(d - 1\) / 2"):
        fsp.multigammaln(np.array([0.9, 2.0]), 3)
    with pytest.raises(ValueError, match="positive integer"):
        fsp.multigammaln(2.0, 0)
    x = np.array([0.5, 2.0])
    np.testing.assert_allclose(ft.grad(lambda x: fsp.entr(x).sum())(x), -np.log(x) - 1, rtol=1e-14)
    y = np.array([1.5, 0.5])
    gx, gy = ft.grad(lambda x, y: fsp.kl_div(x, y).sum(), argnums=(0, 1))(x, y)
    np.testing.assert_allclose(gx, np.log(x / y), rtol=1e-14)
    np.testing.assert_allclose(gy, 1 - x / y, rtol=1e-14)


def test_gammainc_derivative_in_a():
    """Against central differences of SciPy's values, from the lower tail to the upper one."""
    a = np.array([0.05, 0.5, 2.0, 5.0, 30.0, 200.0, 1.0, 3.0])
    x = np.array([1e-3, 0.1, 3.0, 1.0, 35.0, 180.0, 50.0, 0.0])
    h = 1e-6 * a
    central = (ss.gammainc(a + h, x) - ss.gammainc(a - h, x)) / (2 * h)
    got = ft.vmap(ft.grad(fsp.gammainc))(a, x)
    np.testing.assert_allclose(got, central, rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(ft.vmap(ft.grad(fsp.gammaincc))(a, x), -got, rtol=1e-15)
    # the mixed second derivative is the closed form d/da of the density
    mixed = ft.grad(ft.grad(fsp.gammainc, argnums=1))(2.0, 1.5)
    np.testing.assert_allclose(mixed, 1.5 * np.exp(-1.5) * (np.log(1.5) - ss.digamma(2.0)), rtol=1e-12)


def test_sph_harm_y_against_scipy_for_every_degree_and_order(backend):
    n, m = np.meshgrid(np.arange(7), np.arange(-7, 8))
    theta = np.linspace(-1.0, 7.0, n.size).reshape(n.shape)  # every quadrant of the polar angle
    got = fsp.sph_harm_y(backend.put(n), backend.put(m), backend.put(theta), 0.7)
    backend.check_placed(got)
    np.testing.assert_allclose(backend.get(got), ss.sph_harm_y(n, m, theta, 0.7), rtol=1e-12, atol=1e-14)
    with pytest.raises(NotImplementedError, match="diff_n"):
        fsp.sph_harm_y(1, 0, 0.3, 0.2, diff_n=1)
    with pytest.raises(ValueError, match="n_max"):
        fsp.sph_harm(0, 3, 0.3, 0.2, n_max=2)


def test_ndtri_is_accurate_in_both_tails():
    import scipy.special

    p = np.array([1e-300, 1e-100, 1e-20, 1e-10, 0.3, 1 - 1e-10])
    np.testing.assert_allclose(fsp.ndtri(p), scipy.special.ndtri(p), rtol=1e-13)
    # d ndtri / dp = 1 / pdf(ndtri(p))
    x = scipy.special.ndtri(1e-20)
    expected = np.sqrt(2 * np.pi) * np.exp(x * x / 2)
    np.testing.assert_allclose(ft.grad(lambda q: fsp.ndtri(q))(1e-20), expected, rtol=1e-12)


def test_logsumexp_where_masks_entries_as_jax_does():
    # Expected values are JAX's (jax.scipy.special.logsumexp with where=).
    a = np.array([[1.0, 2.0, 3.0], [4.0, -1.0, 0.5]])
    mask = np.array([[True, False, True], [False, False, False]])
    b = np.array([1.0, -2.0, 0.5])
    np.testing.assert_allclose(fsp.logsumexp(a, axis=1, where=mask), [ss.logsumexp([1.0, 3.0]), -np.inf])
    np.testing.assert_allclose(fsp.logsumexp(a, where=mask[0]), ss.logsumexp(a[:, [0, 2]]), rtol=1e-14)
    value, sign = fsp.logsumexp(a, axis=1, b=b, where=mask, return_sign=True)
    np.testing.assert_allclose(value, [ss.logsumexp([1.0, 3.0], b=[1.0, 0.5]), -np.inf], rtol=1e-14)
    np.testing.assert_array_equal(sign, [1.0, 0.0])
    np.testing.assert_allclose(fsp.logsumexp(a, b=2.0, where=mask), np.log(2.0) + ss.logsumexp([1.0, 3.0]), rtol=1e-14)
    grad = ft.grad(lambda x: fsp.logsumexp(x, where=mask))(a)
    np.testing.assert_allclose(grad, [[1 / (1 + np.e ** 2), 0.0, 1 / (1 + np.e ** -2)], [0.0, 0.0, 0.0]], rtol=1e-14)
    np.testing.assert_array_equal(ft.jit(lambda x: fsp.logsumexp(x, axis=1, where=mask))(a),
                                  fsp.logsumexp(a, axis=1, where=mask))
    np.testing.assert_array_equal(ft.vmap(lambda x, m: fsp.logsumexp(x, where=m))(a, mask),
                                  fsp.logsumexp(a, axis=1, where=mask))
    assert fsp.logsumexp(a.astype(np.float32), where=mask).dtype == np.float32
    assert ft.numpy.logsumexp(a, where=mask) == fsp.logsumexp(a, where=mask)
    check_grads(lambda x: fsp.logsumexp(x, axis=1, b=b, where=mask[:1]), (a,), order=2)


@pytest.mark.parametrize("name", ["xlogy", "xlog1py", "kl_div", "rel_entr"])
def test_a_python_number_beside_float32_keeps_float32_eager_and_under_jit(name):
    x = np.array([0.0, 0.3, 2.0], np.float32)
    fn, ref = getattr(fsp, name), getattr(ss, name)
    for args in [(x, 0.5), (0.5, x)]:
        for run in (fn, ft.jit(fn)):  # under jit, 0.5 is a variable standing for a Python float
            got = run(*args)
            assert got.dtype == np.float32, (args, run)
            np.testing.assert_allclose(got, ref(*(np.float64(a) if isinstance(a, float) else a for a in args)),
                                       rtol=1e-6)
    assert fn(x.astype(np.float64), 0.5).dtype == np.float64
    assert fn(x, np.float64(0.5)).dtype == np.float64  # a NumPy scalar is not weak


def test_logsumexp_python_weight_keeps_float32_eager_and_under_jit():
    x = np.array([0.0, 0.3, 2.0], np.float32)
    mask = np.array([True, False, True])
    for kwargs in ({"b": 0.5}, {"b": 2}, {"b": 0.5, "where": mask}):
        expected = ss.logsumexp(x[mask] if "where" in kwargs else x, b=kwargs["b"])
        traced = ft.jit(lambda x, b, kw=kwargs: fsp.logsumexp(x, **{**kw, "b": b}))  # b: a jit argument
        for got in (fsp.logsumexp(x, **kwargs), traced(x, kwargs["b"])):
            assert got.dtype == np.float32
            np.testing.assert_allclose(got, expected, rtol=1e-6)
    assert fsp.logsumexp(x, b=np.float64(0.5)).dtype == np.float64  # a NumPy scalar is not weak


_EDGES = np.array([-2.5, -2.0, -1.5, -1.0, -0.5, -0.0, 0.0, 0.5, 1.0, 3.0, 4.5, np.nan, np.inf, -np.inf])


@pytest.mark.parametrize("name", ["gammasgn", "loggamma", "factorial"])
def test_gamma_family_values_are_scipys(name):
    fn, ref = getattr(fsp, name), getattr(ss, name)
    for run in (fn, ft.jit(fn)):
        got = run(_EDGES)
        np.testing.assert_allclose(got, ref(_EDGES), rtol=1e-14)
        np.testing.assert_array_equal(np.signbit(got), np.signbit(ref(_EDGES)))
    assert fn(_EDGES.astype(np.float32)).dtype == np.float32
    np.testing.assert_allclose(ft.vmap(fn)(_EDGES), ref(_EDGES), rtol=1e-14)


def test_comb_and_beta_values_are_scipys():
    n = np.array([5.0, 5.0, 5.0, -1.0, 2.5, 5.0, np.nan, 0.0, 7.0, 40.0])
    k = np.array([2.0, 0.0, 6.0, 1.0, 1.0, -1.0, 1.0, 0.0, 3.5, 20.0])
    np.testing.assert_allclose(fsp.comb(n, k), ss.comb(n, k), rtol=1e-12)
    np.testing.assert_allclose(ft.jit(fsp.comb)(n, k), ss.comb(n, k), rtol=1e-12)
    integers = np.array([0.0, 1.0, 5.0, 3.0])
    np.testing.assert_allclose(fsp.comb(integers, np.array([0.0, 4.0, 2.0, 0.0]), repetition=True),
                               ss.comb(integers, np.array([0.0, 4.0, 2.0, 0.0]), repetition=True), rtol=1e-12)
    a = np.array([2.0, -0.5, -1.0, 0.5, -2.5, 1e3, -3.5])
    b = np.array([3.0, 2.0, 2.0, -0.5, 1.5, 1e3, 1.2])
    np.testing.assert_allclose(fsp.beta(a, b), ss.beta(a, b), rtol=1e-12)
    np.testing.assert_allclose(ft.jit(fsp.beta)(a, b), ss.beta(a, b), rtol=1e-12)
    assert fsp.beta(np.float32(2.0), np.float32(3.0)).dtype == np.float32
    for fn, name in ((fsp.factorial, "factorial"), (lambda n, k: fsp.comb(n, k, exact=True), "comb")):
        with pytest.raises(NotImplementedError, match=f"{name}\\(exact=True\\)"):
            fn(np.array([3.0]), exact=True) if name == "factorial" else fn(5, 2)


def test_gamma_family_derivatives():
    check_grads(fsp.factorial, (np.array([0.5, 2.0, 4.5]),), order=2)
    check_grads(fsp.loggamma, (np.array([0.3, 2.0, 7.0]),), order=2)
    check_grads(fsp.comb, (np.array([5.0, 7.5]), np.array([2.0, 3.1])), order=2)
    check_grads(fsp.beta, (np.array([2.0, -0.5, 0.7]), np.array([3.0, 2.2, 1.5])), order=2)
    np.testing.assert_allclose(ft.grad(lambda v: fsp.factorial(v).sum())(np.array([2.0])),
                               [2.0 * ss.digamma(3.0)], rtol=1e-12)
    # off the domain the derivative is 0, not NaN; gammasgn is piecewise constant
    np.testing.assert_array_equal(ft.grad(lambda v: fsp.loggamma(v).sum())(np.array([-1.0, 0.0])), [0.0, 0.0])
    np.testing.assert_array_equal(ft.grad(lambda v: fsp.gammasgn(v).sum())(np.array([-1.5, 2.0])), [0.0, 0.0])


# --- erfcx, dawsn, exp1, expi, expn, poch, boxcox, boxcox1p -------------------------------------
def _regime_values(rng, size, lo_exp=-300, hi_exp=300):
    """Values over every regime: tiny, moderate and huge magnitudes of both signs, and zeros."""
    magnitudes = np.concatenate([10.0 ** rng.uniform(lo_exp, hi_exp, size), rng.uniform(0.0, 40.0, size)])
    return np.concatenate([magnitudes, -magnitudes, [0.0, -0.0]])


def _sici_half(index):
    fn = lambda x: fsp.sici(x)[index]
    ref = lambda x: ss.sici(x)[index]
    return fn, ref


_NEW_UNARY = {"erfcx": (fsp.erfcx, ss.erfcx), "dawsn": (fsp.dawsn, ss.dawsn), "exp1": (fsp.exp1, ss.exp1),
              "expi": (fsp.expi, ss.expi), "sici.si": _sici_half(0), "sici.ci": _sici_half(1)}


@pytest.mark.parametrize("name", list(_NEW_UNARY))
@given(seed=st.integers(0, 2**16))
@settings(max_examples=8)
def test_new_unary_functions_are_scipys_in_every_regime(name, seed):
    x = _regime_values(np.random.default_rng(seed), 60)
    fn, ref = _NEW_UNARY[name]
    np.testing.assert_allclose(fn(x), ref(x), rtol=1e-14, atol=0, equal_nan=True)
    x32 = x.astype(np.float32)
    got = fn(x32)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, ref(x32), rtol=1e-6, atol=0, equal_nan=True)
    assert fn(np.arange(1, 4)).dtype == np.float64  # integers promote as in SciPy
    np.testing.assert_array_equal(ft.jit(fn)(x), fn(x))
    np.testing.assert_array_equal(ft.vmap(fn)(x[:8]), fn(x[:8]))


@given(seed=st.integers(0, 2**16))
@settings(max_examples=8)
def test_expn_poch_boxcox_are_scipys_in_every_regime(seed):
    rng = np.random.default_rng(seed)
    x = np.abs(_regime_values(rng, 20, -30, 3))
    n = np.array([0, 1, 2, 3, 7, 40, -1])[:, None]
    with np.errstate(all="ignore"):
        np.testing.assert_allclose(fsp.expn(n, x), ss.expn(n, x), rtol=1e-14, atol=0, equal_nan=True)
        got = fsp.expn(n, x.astype(np.float32))
        assert got.dtype == np.float32  # an integer order keeps float32, as JAX
        np.testing.assert_allclose(got, ss.expn(n, x.astype(np.float32)).astype(np.float32), rtol=1e-6,
                                   equal_nan=True)
        z = np.concatenate([rng.uniform(-10, 10, 12), [-3.0, -2.5, -1.0, 0.0, 0.5, 1e-8, 150.0]])[:, None]
        m = np.concatenate([rng.uniform(-10, 10, 12), [-1.0, 0.0, 1.0, 2.0, 0.5, 200.0]])[None]
        np.testing.assert_allclose(fsp.poch(z, m), ss.poch(z, m), rtol=1e-13, atol=0, equal_nan=True)
        lm = np.concatenate([rng.uniform(-5, 5, 8), 10.0 ** rng.uniform(-25, 0, 8), -(10.0 ** rng.uniform(-25, 0, 8)),
                             [0.0, 1e-3, -1e-3, 1.2e-3, 80.0, 300.0]])[None]
        xs = np.concatenate([x, [1.0, np.inf, np.nan, 0.0, -1.0]])[:, None]
        np.testing.assert_allclose(fsp.boxcox(xs, lm), ss.boxcox(xs, lm), rtol=1e-13, atol=0, equal_nan=True)
        x1 = np.concatenate([x - 1.0, np.expm1(-x), [-1.0, -2.0]])[:, None]
        np.testing.assert_allclose(fsp.boxcox1p(x1, lm), ss.boxcox1p(x1, lm), rtol=1e-12, atol=0, equal_nan=True)


NEW_SPECIAL_POINTS = np.concatenate([SPECIAL_POINTS, [1e-300, 1e-20, 30.0, 700.0, 1e300, -30.0, -1e300]])


@pytest.mark.parametrize("name", list(_NEW_UNARY))
def test_new_unary_functions_special_points_as_scipy(name, backend):
    fn, ref = _NEW_UNARY[name]
    with np.errstate(all="ignore"):
        expected = ref(NEW_SPECIAL_POINTS)
        got = fn(backend.put(NEW_SPECIAL_POINTS))
    backend.check_placed(got)
    np.testing.assert_array_equal(backend.get(got), expected)


@pytest.mark.parametrize("name", ["poch", "boxcox", "boxcox1p", "expn"])
def test_new_binary_functions_special_points_as_scipy(name, backend):
    a, b = np.meshgrid(NEW_SPECIAL_POINTS, NEW_SPECIAL_POINTS)
    with np.errstate(all="ignore"):
        # SciPy's expn truncates a float order (with a warning), NaN for orders outside the C ints
        order = np.where(np.abs(a) < 2.0 ** 31, np.trunc(np.nan_to_num(a, nan=-1.0)), -1.0)
        expected = getattr(ss, name)(order if name == "expn" else a, b)
        got = getattr(fsp, name)(*backend.put((a, b)))
    backend.check_placed(got)
    got = backend.get(got)
    if name in ("boxcox", "boxcox1p"):
        # (1 + x)**lmbda is exp(u), u = lmbda log(1 + x): an ulp of the logarithm, which NumPy's
        # and SciPy's round differently on some CPUs, moves the power by |u| ulps (up to the
        # 745 where exp over- or underflows), on top of a few of its own
        with np.errstate(all="ignore"):
            u = b * (np.log1p(a) if name == "boxcox1p" else np.log(a))
        rtol = 1e-14 + 2 * np.finfo(float).eps * np.minimum(np.nan_to_num(np.abs(u), nan=0.0), 745.0)
        with np.errstate(all="ignore"):
            close = (got == expected) | (np.isnan(got) & np.isnan(expected)) | (
                np.abs(got - expected) <= rtol * np.abs(expected))
        assert close.all(), (a[~close], b[~close], got[~close], expected[~close])
    else:
        np.testing.assert_allclose(got, expected, rtol=1e-14, atol=0, equal_nan=True)


def test_new_functions_derivatives():
    x = np.array([0.2, 1.0, 3.5, 12.0])
    for fn in (fsp.erfcx, fsp.dawsn, fsp.expi):
        check_grads(fn, (np.concatenate([x, -x]),), order=2, modes=("fwd", "rev"))
    check_grads(fsp.exp1, (x,), order=2, modes=("fwd", "rev"))
    check_grads(fsp.sici, (np.concatenate([x, -x]),), order=2, modes=("fwd", "rev"))
    check_grads(lambda v: fsp.sici(v)[0], (np.array([0.0, 1e-3]),), order=2, modes=("fwd", "rev"))
    assert float(ft.grad(lambda v: fsp.sici(v)[0])(0.0)) == 1.0
    third = ft.grad(ft.grad(ft.grad(lambda v: fsp.sici(v)[0])))(0.0)  # sinc''(0) = -1/3
    assert float(third) == pytest.approx(-1.0 / 3.0, rel=1e-14)
    for n in (0, 1, 2, 5):  # n = 0 too, where d/dx E_0 = -exp(-x) (1 + x) / x**2
        check_grads(lambda v, n=n: fsp.expn(n, v), (x,), order=2, modes=("fwd", "rev"))
        check_grads(lambda v, n=n: fsp.expn(np.full(4, n), v), (x,), order=2, modes=("fwd", "rev"))
    check_grads(fsp.poch, (np.array([0.5, 2.0, 3.3, -1.5]), np.array([1.0, -0.5, 2.2, 2.0])), order=2)
    # at the poles z = 0, -1, ... of Gamma(z) the derivative in z is the limit (poch is smooth
    # there): z -> 1 for m = 1, z(z+1)(z+2) -> 2 at -2, 1/(z-1) -> -1/9, Gamma(z+1/2)/Gamma(z)
    z = np.array([-2.0, -2.0, -2.0, -2.0, -2.0, 0.0, -3.0, -4.0])
    m = np.array([1.0, 3.0, -1.0, 0.5, 2.0, 2.5, 5.0, -2.0])
    want = [1.0, 2.0, -1.0 / 9.0, 2.0 * ss.gamma(-1.5), -3.0, ss.gamma(2.5), -6.0, 11.0 / 900.0]
    for derivative in (ft.grad(fsp.poch), ft.jit(ft.grad(fsp.poch)), ft.jacfwd(fsp.poch)):
        got = [float(derivative(a, b)) for a, b in zip(z, m)]
        np.testing.assert_allclose(got, want, rtol=1e-13)
    np.testing.assert_allclose(ft.vmap(ft.grad(fsp.poch))(z, m), want, rtol=1e-13)
    check_grads(lambda v: fsp.poch(v, m), (z,), order=2, modes=("fwd", "rev"))
    lm = np.array([0.0, 1e-8, -1e-4, 1e-3, 0.5, -2.0])
    check_grads(fsp.boxcox, (np.array([0.3, 2.0, 5.0, 1.5, 0.7, 3.0]), lm), order=2, modes=("fwd", "rev"))
    check_grads(fsp.boxcox1p, (np.array([-0.7, 1e-6, 4.0, 0.5, 2.0, -0.2]), lm), order=2, modes=("fwd", "rev"))
    # through lmbda = 0, where the series takes over: log(x)**2 / 2 and log(x)**3 / 3
    assert float(ft.grad(fsp.boxcox, argnums=1)(2.0, 0.0)) == pytest.approx(np.log(2.0) ** 2 / 2, rel=1e-14)
    d2 = ft.grad(ft.grad(fsp.boxcox, argnums=1), argnums=1)(2.0, 0.0)
    assert float(d2) == pytest.approx(np.log(2.0) ** 3 / 3, rel=1e-14)
    assert float(ft.grad(lambda v: fsp.expn(0, v))(0.5)) == pytest.approx(-np.exp(-0.5) * 1.5 / 0.25, rel=1e-14)
    assert float(ft.grad(fsp.erfcx)(0.0)) == pytest.approx(-2 / np.sqrt(np.pi), rel=1e-15)


def test_new_functions_under_jit_and_vmap_and_on_backends(backend):
    x = np.array([0.3, 1.0, 4.0])
    n, lm = np.array([0, 1, 3]), np.array([0.0, 0.5, -1.5])
    cases = [(fsp.sici, (x,)), (fsp.erfcx, (x,)), (fsp.dawsn, (x,)), (fsp.exp1, (x,)), (fsp.expi, (x,)),
             (fsp.expn, (n, x)), (fsp.poch, (x, lm)), (fsp.boxcox, (x, lm)), (fsp.boxcox1p, (x, lm))]
    for fn, args in cases:
        placed = backend.put(args)
        eager = fn(*placed)
        backend.check_placed(eager, fn.__name__)
        for other in (ft.jit(fn)(*placed), ft.vmap(fn)(*placed)):
            backend.check_placed(other, fn.__name__)
            for o, e in zip(*((other, eager) if isinstance(eager, tuple) else ((other,), (eager,)))):
                np.testing.assert_array_equal(backend.get(o), backend.get(e))
        if fn is fsp.expn:  # differentiable in x only
            check_grads(lambda v, order=placed[0]: fsp.expn(order, v), placed[1:], order=1, atol=1e-6, rtol=1e-6)
        else:
            check_grads(fn, placed, order=1, atol=1e-6, rtol=1e-6)


def test_expn_is_not_differentiable_in_its_order_and_float32_stays_float32():
    from functrans.errors import UnsupportedError

    with pytest.raises(UnsupportedError, match="expn is not differentiable in n"):
        ft.grad(fsp.expn)(2.0, 1.0)
    x32 = np.array([0.5, 2.0], np.float32)
    for fn in (lambda v: fsp.boxcox(v, 0.5), lambda v: fsp.boxcox1p(v, 0.0), lambda v: fsp.poch(v, 2),
               lambda v: fsp.expn(np.array([1, 2]), v), lambda v: fsp.sici(v)[1], fsp.erfcx, fsp.dawsn, fsp.exp1,
               fsp.expi):
        assert fn(x32).dtype == np.float32
        assert ft.jit(fn)(x32).dtype == np.float32
        assert ft.grad(lambda v, fn=fn: fn(v).sum())(x32).dtype == np.float32


def _exact_bernoulli(n):
    """B_0..B_n as fractions (Akiyama-Tanigawa), B_1 = -1/2."""
    from fractions import Fraction

    row, out = [], []
    for m in range(n + 1):
        row.append(Fraction(1, m + 1))
        for j in range(m, 0, -1):
            row[j - 1] = j * (row[j - 1] - row[j])
        out.append(row[0])
    if n >= 1:
        out[1] = -out[1]
    return out


def test_bernoulli_numbers_are_the_exact_ones_rounded_and_scipys():
    exact = _exact_bernoulli(300)
    rounded = [float(b) if abs(b) < np.finfo(np.float64).max else (np.inf if b > 0 else -np.inf) for b in exact]
    np.testing.assert_array_equal(fsp.bernoulli(300), rounded)  # the exact numbers, rounded once
    for n in (0, 1, 2, 5, 60, 61, 62, 259, 260, 700):
        got = fsp.bernoulli(n)
        assert got.dtype == np.float64 and got.shape == (n + 1,)
        np.testing.assert_allclose(got, ss.bernoulli(n), rtol=1e-11, atol=0)  # SciPy's are within 2e-12
    np.testing.assert_array_equal(ft.jit(lambda x: x * fsp.bernoulli(4))(2.0), 2.0 * fsp.bernoulli(4))
    with pytest.raises(TypeError, match="bernoulli: n must be a Python integer"):
        fsp.bernoulli(2.5)
    with pytest.raises(ValueError, match="non-negative"):
        fsp.bernoulli(-1)


@given(seed=st.integers(0, 2**16))
@settings(max_examples=8)
def test_wofz_is_scipys_over_the_complex_plane(seed):
    rng = np.random.default_rng(seed)
    re, im = _regime_values(rng, 12, -20, 20), _regime_values(rng, 12, -20, 20)
    z = (re[:, None] + 1j * im[None, :]).ravel()
    with np.errstate(all="ignore"):
        expected = ss.wofz(z)
    np.testing.assert_allclose(fsp.wofz(z), expected, rtol=1e-14, atol=0, equal_nan=True)
    np.testing.assert_allclose(fsp.wofz(re), ss.wofz(re.astype(complex)), rtol=1e-14, atol=0)  # real input
    got32 = fsp.wofz(z.astype(np.complex64))
    assert got32.dtype == np.complex64 and fsp.wofz(re.astype(np.float32)).dtype == np.complex64
    np.testing.assert_allclose(got32, ss.wofz(z.astype(np.complex64)), rtol=1e-6, atol=0, equal_nan=True)
    assert fsp.wofz(np.arange(3)).dtype == np.complex128
    np.testing.assert_array_equal(ft.jit(fsp.wofz)(z), fsp.wofz(z))
    np.testing.assert_array_equal(ft.vmap(fsp.wofz)(z[:6]), fsp.wofz(z[:6]))


def test_wofz_special_points_derivatives_and_backends(backend):
    points = (NEW_SPECIAL_POINTS[:, None] + 1j * NEW_SPECIAL_POINTS[None, :]).ravel()
    with np.errstate(all="ignore"):
        expected = ss.wofz(points)
        got = fsp.wofz(backend.put(points))
    backend.check_placed(got)
    np.testing.assert_array_equal(backend.get(got), expected)
    z = backend.put(np.array([1 + 1j, -0.5 + 0.3j, 2 - 1j, 0.0j]))
    check_grads(fsp.wofz, (z,), order=2, modes=("fwd", "rev"))
    check_grads(fsp.wofz, (backend.put(np.array([1.0, -0.5, 2.0])),), order=2, modes=("fwd", "rev"))
    # holomorphic: the tangent is w'(z) t, with w'(z) = 2i / sqrt(pi) - 2 z w(z)
    out, tangent = ft.jvp(fsp.wofz, (np.complex128(1 + 1j),), (np.complex128(1.0),))
    assert complex(tangent) == pytest.approx(2j / np.sqrt(np.pi) - 2 * (1 + 1j) * ss.wofz(1 + 1j), rel=1e-14)
    assert ft.grad(lambda x: fsp.wofz(x).imag)(np.float32(1.0)).dtype == np.float32


@given(seed=st.integers(0, 2**16))
@settings(max_examples=8)
def test_fresnel_is_scipys_in_every_regime(seed):
    rng = np.random.default_rng(seed)
    x = np.concatenate([_regime_values(rng, 40, -30, 10), rng.uniform(-1.05, 1.05, 20), rng.uniform(-12, 12, 40),
                        [0.999999, 1.000001, 36973.9, 36974.1, np.inf, -np.inf, np.nan]])
    with np.errstate(all="ignore"):
        for dtype, rel, per_x, tiny in ((np.float64, 1e-14, 4e-16, 0.0), (np.float32, 1e-6, 2e-7, 1e-44)):
            v = x.astype(dtype)
            for got, expected in zip(fsp.fresnel(v), ss.fresnel(v)):
                assert got.dtype == dtype
                # relative to within the conditioning of the functions, about 2 |x|
                bound = (rel + per_x * np.abs(v.astype(np.float64))) * np.abs(expected) + tiny
                close = (np.abs(got - expected) <= bound) | (np.isnan(got) & np.isnan(expected)) | (got == expected)
                assert close.all(), (v[~close], got[~close], expected[~close])
    assert fsp.fresnel(np.arange(3))[0].dtype == np.float64
    for a, b in zip(ft.jit(fsp.fresnel)(x), fsp.fresnel(x)):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(ft.vmap(fsp.fresnel)(x[:10]), fsp.fresnel(x[:10])):
        np.testing.assert_array_equal(a, b)


def test_fresnel_derivatives_and_backends(backend):
    x = backend.put(np.array([0.0, 0.3, -0.99, 1.01, 2.5, -4.0, 7.3]))
    check_grads(fsp.fresnel, (x,), order=2, modes=("fwd", "rev"))
    s_grad = ft.grad(lambda v: fsp.fresnel(v)[0].sum())(x)
    c_grad = ft.grad(lambda v: fsp.fresnel(v)[1].sum())(x)
    host = backend.get(x)
    np.testing.assert_allclose(backend.get(s_grad), np.sin(np.pi * host ** 2 / 2), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(backend.get(c_grad), np.cos(np.pi * host ** 2 / 2), rtol=1e-12, atol=1e-14)
    points = backend.put(NEW_SPECIAL_POINTS)
    with np.errstate(all="ignore"):
        got, expected = fsp.fresnel(points), ss.fresnel(NEW_SPECIAL_POINTS)
    for g, e in zip(got, expected):
        backend.check_placed(g)
        np.testing.assert_allclose(backend.get(g), e, rtol=1e-13, atol=0, equal_nan=True)


def _owens_t_by_quadrature(h, a):
    import scipy.integrate

    def one(h, a):
        value = scipy.integrate.quad(lambda x: np.exp(-h * h * (1 + x * x) / 2) / (1 + x * x), 0.0, a,
                                     epsabs=0.0, epsrel=1e-13, limit=200)[0]
        return value / (2 * np.pi)

    return np.vectorize(one)(h, a)


@given(seed=st.integers(0, 2**16))
@settings(max_examples=8)
def test_owens_t_is_scipys_in_every_regime(seed):
    rng = np.random.default_rng(seed)
    h = np.concatenate([_regime_values(rng, 6, -10, 1.5), rng.uniform(-12, 12, 10),
                        [37.0, 39.0, 41.0, np.inf, -np.inf, np.nan]])[:, None]
    a = np.concatenate([_regime_values(rng, 6, -12, 12), rng.uniform(-3, 3, 10), [0.999, 1.0, 1.001, 1e300, np.inf,
                                                                                   -np.inf, np.nan]])[None]
    with np.errstate(all="ignore"):
        expected = ss.owens_t(h, a)
        got = fsp.owens_t(h, a)
        # SciPy's values are exact to about 1e-16 absolute (not relative where T is small; see below)
        np.testing.assert_allclose(got, expected, rtol=1e-13, atol=2e-16, equal_nan=True)
        h32, a32 = h.astype(np.float32), a.astype(np.float32)
        got32 = fsp.owens_t(h32, a32)
        assert got32.dtype == np.float32
        # the float32 rounding of h moves exp(-h**2 / 2) by about h**2 eps
        expected32 = ss.owens_t(h32, a32)
        bound = 1e-6 * (1.0 + h32.astype(np.float64) ** 2) * np.abs(expected32) + 1e-7
        close = (np.abs(got32 - expected32) <= bound) | (got32 == expected32)
        assert (close | np.isnan(got32) & np.isnan(expected32)).all()
    assert fsp.owens_t(np.arange(3), 1).dtype == np.float64
    np.testing.assert_array_equal(ft.jit(fsp.owens_t)(h, a), got)
    np.testing.assert_array_equal(ft.vmap(fsp.owens_t, in_axes=(0, None))(h[:6, 0], a[0]), got[:6])


def test_owens_t_is_exact_in_relative_terms_where_it_is_small():
    # where a h is small and h large, T is tiny and SciPy's value is off in the seventh digit
    h = np.array([-5.212611140140957, 8.0, 3.0, 0.5, 20.0])
    a = np.array([1.3433143473601006e-10, 1e-3, 1e-8, 0.9, 0.05])
    np.testing.assert_allclose(fsp.owens_t(h, a), _owens_t_by_quadrature(h, a), rtol=1e-13)
    assert float(fsp.owens_t(38.0, 1.0)) == pytest.approx(0.5 * ss.ndtr(-38.0) * ss.ndtr(38.0), rel=1e-12)


def test_owens_t_derivatives_and_backends(backend):
    h = backend.put(np.array([0.0, 0.3, -1.2, 2.5, 0.7, 4.0, -0.4]))
    a = backend.put(np.array([0.0, 0.5, 1.5, -0.9, -3.0, 1.2, 1.0]))
    check_grads(fsp.owens_t, (h, a), order=2, modes=("fwd", "rev"))
    got = fsp.owens_t(h, a)
    backend.check_placed(got)
    np.testing.assert_allclose(backend.get(got), ss.owens_t(backend.get(h), backend.get(a)), rtol=1e-13, atol=2e-16)
    gh, ga = ft.grad(lambda u, v: fsp.owens_t(u, v).sum(), argnums=(0, 1))(h, a)
    hh, aa = backend.get(h), backend.get(a)
    np.testing.assert_allclose(backend.get(gh), -np.exp(-hh ** 2 / 2) * ss.erf(aa * hh / np.sqrt(2))
                               / (2 * np.sqrt(2 * np.pi)), rtol=1e-12, atol=1e-16)
    np.testing.assert_allclose(backend.get(ga), np.exp(-hh ** 2 * (1 + aa ** 2) / 2) / (2 * np.pi * (1 + aa ** 2)),
                               rtol=1e-12, atol=1e-16)


@given(seed=st.integers(0, 2**16), v=st.sampled_from([0, 1, 2, 7, 40]))
@settings(max_examples=8)
def test_bessel_jn_is_scipys_jv_in_every_regime(seed, v):
    rng = np.random.default_rng(seed)
    z = np.concatenate([_regime_values(rng, 20, -12, 5), rng.uniform(-60, 60, 40), [np.inf, -np.inf, np.nan]])
    got = fsp.bessel_jn(z, v=v)
    assert got.shape == (v + 1,) + z.shape and got.dtype == np.float64
    expected = ss.jv(np.arange(v + 1)[:, None], z[None])
    # to within the conditioning: the phase of J at large |z| moves by |z| eps; near a zero only
    # the absolute error (against the envelope min(1, sqrt(2 / (pi |z|)))) is meaningful
    with np.errstate(all="ignore"):
        envelope = np.minimum(1.0, np.sqrt(2 / (np.pi * np.abs(z))))
        bound = (2e-13 + 1e-16 * np.abs(z)) * envelope + 2e-13 * np.abs(expected)
        close = (np.abs(got - expected) <= bound) | (got == expected) | (np.isnan(got) & np.isnan(expected))
    assert close.all(), (np.argwhere(~close)[:3], got[~close][:3], expected[~close][:3])
    got32 = fsp.bessel_jn(z.astype(np.float32), v=v)
    assert got32.dtype == np.float32
    np.testing.assert_array_equal(ft.jit(lambda u: fsp.bessel_jn(u, v=v))(z), got)
    np.testing.assert_array_equal(ft.vmap(lambda u: fsp.bessel_jn(u, v=v), out_axes=1)(z[:8]), got[:, :8])


def test_bessel_jn_derivatives_errors_and_backends(backend):
    z = backend.put(np.array([0.0, 0.3, -1.2, 2.5, 7.7, -15.0, 40.0]))
    check_grads(lambda u: fsp.bessel_jn(u, v=5), (z,), order=2, modes=("fwd", "rev"))
    host = backend.get(z)
    jac = ft.jacfwd(lambda u: fsp.bessel_jn(u, v=3))(z)  # diagonal in z, one block per order
    for k in range(4):
        np.testing.assert_allclose(np.diagonal(backend.get(jac)[k]), ss.jvp(k, host), rtol=1e-12, atol=1e-15)
    out = fsp.bessel_jn(z, v=3)
    backend.check_placed(out)
    np.testing.assert_allclose(backend.get(out), ss.jv(np.arange(4)[:, None], host[None]), rtol=1e-12, atol=1e-15)
    with pytest.raises(TypeError, match="v must be a non-negative Python integer"):
        fsp.bessel_jn(1.0, v=1.5)
    with pytest.raises(ValueError, match="n_iter"):
        fsp.bessel_jn(1.0, v=1, n_iter=0)


def test_value_decisions_read_device_values_only_explicitly():
    """multigammaln's domain check, gammainc's series for the derivative in a and sph_harm_y's
    degree bound read device values through the backend's to_host, never by bool()/int()."""
    from functrans.testing.strict import forbid_implicit_reads, strict_array, to_numpy

    on = lambda x: strict_array(np.asarray(x), device="strict:1")
    a, x = np.array([1.5, 3.0]), np.array([0.7, 2.5])
    n, m, theta = np.array([0, 2, 3]), np.array([0, 1, -2]), np.array([0.3, 1.1, 2.0])
    with forbid_implicit_reads():
        got = {"multigammaln": fsp.multigammaln(on(a + 2), 3),
               "gammainc_a": ft.vmap(ft.grad(fsp.gammainc))(on(a), on(x)),
               "sph_harm_y": fsp.sph_harm_y(on(n), on(m), on(theta), 0.4)}
        with pytest.raises(ValueError, match="greater than"):
            fsp.multigammaln(on(a - 1), 3)
    step = 1e-6
    expected = {"multigammaln": ss.multigammaln(a + 2, 3),
                "gammainc_a": (ss.gammainc(a + step, x) - ss.gammainc(a - step, x)) / (2 * step),
                "sph_harm_y": ss.sph_harm_y(n, m, theta, 0.4)}
    for name, value in got.items():
        assert value.device == "strict:1", name
        np.testing.assert_allclose(to_numpy(value), expected[name], rtol=1e-7, err_msg=name)


def test_beta_keeps_float32_beside_a_python_number():
    """A Python number is weakly typed: beta(float32 array, 2.0) stays float32, as in SciPy
    (its sign, computed from the Python number, was a float64 array that promoted)."""
    x = np.array([1.5, 2.5], np.float32)
    for args in ((x, 2.0), (2.0, x)):
        got = fsp.beta(*args)
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, ss.beta(*args), rtol=1e-6)
    assert ft.jit(fsp.beta)(x, 2.0).dtype == np.float32


def test_sph_harm_y_traces_n_and_m_given_jax_n_max():
    n, m, theta = np.array([0, 2, 3, 1]), np.array([0, -1, 2, 1]), np.array([0.3, 1.1, 2.0, 0.5])
    want = ss.sph_harm_y(n, m, theta, 0.4)
    f = lambda n, m, t: fsp.sph_harm_y(n, m, t, 0.4, n_max=3)
    for got in (ft.jit(f)(n, m, theta), ft.vmap(f)(n, m, theta), fsp.sph_harm_y(n, m, theta, 0.4, n_max=5)):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)
    with pytest.raises(ValueError, match="n_max=2"):
        fsp.sph_harm_y(n, m, theta, 0.4, n_max=2)
    with pytest.raises(ft.errors.TracerConversionError, match="pass n_max"):
        ft.jit(lambda n: fsp.sph_harm_y(n, 0, 0.3, 0.4))(n)
