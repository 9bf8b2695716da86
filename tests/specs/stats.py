"""Table rows of functrans.scipy.stats: every function of every distribution, checked against
scipy.stats on drawn points and parameters, its derivatives (in the points and the
parameters) by ``check_grads``.

Points are drawn inside the support (whatever ``loc`` and ``scale`` are drawn), where the
functions are smooth; the counts of the discrete distributions are row parameters (integers,
not differentiated). The special points (ends of supports, invalid parameters, tails) are
tested in tests/scipy/test_stats.py.
"""
from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import functrans.scipy.special as fsp
from functrans.scipy import stats

from .opspec import OpSpec
from .strategies import F64, Domain, broadcast_shapes

LOC = Domain(-0.1, 0.1)
SCALE = Domain(1.0, 1.5)
SHAPE = Domain(0.8, 3.0)  # shape parameters a, b, df, beta, kappa, mu
PROB = Domain(0.1, 0.9)
QUANTILE = Domain(0.1, 0.9)
REAL_LINE = Domain(-2.0, 2.0)
UNIT_INSIDE = Domain(0.3, 0.7)  # z in (0.17, 0.8) for the LOC and SCALE above
POSITIVE_SIDE = Domain(0.4, 3.0)  # z > 0.2
ABOVE_ONE = Domain(2.0, 4.0)  # z > 1.2: the support of the standard Pareto is z >= 1

# Second derivatives of special functions (digamma's derivative, log_ndtr's) carry more
# finite-difference error than the default float64 tolerance allows.
_LOOSE = {F64: {"atol": 1e-5, "rtol": 1e-5}}


def _scipy_ref(dist: str, fn: str, discrete_params: tuple[str, ...] = ()):
    """scipy.stats' ``dist.fn`` on the row's arrays, in the dtype functrans gives (float32 in,
    float32 out; SciPy computes in float64)."""

    def ref(*args, **params):
        import scipy.stats

        counts = [params[p] for p in discrete_params]
        dtype = np.result_type(*args, *counts, np.float32)
        # SciPy keeps float32 in some of its formulas: the reference is computed in float64
        try:
            out = getattr(getattr(scipy.stats, dist), fn)(*counts, *(np.asarray(a, np.float64) for a in args))
        except ValueError:  # SciPy's np.vectorize'd formulas (poisson's entropy) refuse empty inputs
            if not any(np.size(a) == 0 for a in (*args, *counts)):
                raise
            return np.zeros(np.broadcast_shapes(*(np.shape(a) for a in (*args, *counts))), dtype)
        return np.asarray(out).astype(dtype)

    return ref


def _row(dist: str, fn: str, domains: tuple, tol=None) -> OpSpec:
    return OpSpec(f"stats.{dist}.{fn}", getattr(getattr(stats, dist), fn), _scipy_ref(dist, fn),
                  len(domains), broadcast_shapes(len(domains), max_dims=2), domains, tol=tol or {})


def _continuous(dist: str, fns: tuple[str, ...], x: Domain, shapes: tuple = (), tol=None) -> list[OpSpec]:
    rows = []
    for fn in fns:
        first = QUANTILE if fn in ("ppf", "isf") else x
        rows.append(_row(dist, fn, (first, *shapes, LOC, SCALE), tol))
    return rows


_ALL = ("logpdf", "pdf", "cdf", "logcdf", "sf", "logsf", "ppf", "isf")
_DENSITY = ("logpdf", "pdf")

_CONTINUOUS: list[OpSpec] = [
    *_continuous("norm", _ALL, REAL_LINE, tol=_LOOSE),
    *_continuous("expon", _ALL, POSITIVE_SIDE),
    *_continuous("laplace", _ALL, REAL_LINE),
    *_continuous("cauchy", _ALL, REAL_LINE),
    *_continuous("logistic", _ALL, REAL_LINE),
    *_continuous("gumbel_r", _ALL, REAL_LINE),
    *_continuous("gumbel_l", _ALL, REAL_LINE),
    *_continuous("uniform", _ALL, UNIT_INSIDE),
    *_continuous("pareto", _ALL, ABOVE_ONE, (SHAPE,)),
    *_continuous("t", _DENSITY, REAL_LINE, (SHAPE,), tol=_LOOSE),
    *_continuous("gennorm", _DENSITY, Domain(0.2, 2.0), (Domain(1.2, 3.0),), tol=_LOOSE),
    *_continuous("vonmises", _DENSITY, REAL_LINE, (SHAPE,), tol=_LOOSE),
    # z in (0.3, 5.5): inside [0, 2 pi] for the LOC and SCALE above
    *_continuous("wrapcauchy", _DENSITY, Domain(0.5, 5.5), (Domain(0.1, 0.9),)),
    *_continuous("gamma", _DENSITY, POSITIVE_SIDE, (SHAPE,), tol=_LOOSE),
    *_continuous("chi2", _DENSITY, POSITIVE_SIDE, (SHAPE,), tol=_LOOSE),
    *_continuous("beta", _DENSITY, UNIT_INSIDE, (SHAPE, SHAPE), tol=_LOOSE),
    # inside [a, b] around 0 (z within +-0.4), and far in the right tail (z in (3.1, 3.9))
    *_continuous("truncnorm", ("logpdf", "pdf", "cdf", "logcdf", "sf", "logsf"), Domain(-0.3, 0.3),
                 (Domain(-1.5, -0.5), Domain(0.5, 1.5)), tol=_LOOSE),
    *(OpSpec(f"stats.truncnorm.{fn}[tail]", getattr(stats.truncnorm, fn), _scipy_ref("truncnorm", fn), 5,
             broadcast_shapes(5, max_dims=2),
             (Domain(3.2, 3.8), Domain(2.0, 3.0), Domain(4.0, 5.0), Domain(-0.02, 0.02), Domain(0.99, 1.01)),
             tol=_LOOSE)
      for fn in ("logpdf", "logcdf", "logsf")),
]


def _with_fixed_shapes(dist: str, fns: tuple[str, ...], x: Domain, **shapes) -> list[OpSpec]:
    """Rows of functions differentiated in ``x``, ``loc`` and ``scale`` only: their shape
    parameters (drawn floats, in SciPy's order) enter the incomplete gamma and beta functions,
    whose derivatives in those parameters are not all implemented."""
    sig = st.tuples(broadcast_shapes(3, max_dims=2), st.fixed_dictionaries(shapes)).map(
        lambda drawn: (drawn[0][0], drawn[1]))
    rows = []
    for fn in fns:
        method, scipy_fn = getattr(getattr(stats, dist), fn), _scipy_ref(dist, fn)
        rows.append(OpSpec(
            f"stats.{dist}.{fn}",
            lambda x, loc, scale, method=method, **params: method(x, *params.values(), loc, scale),
            lambda x, loc, scale, scipy_fn=scipy_fn, **params: scipy_fn(x, *params.values(), loc, scale),
            3, sig, (x, LOC, SCALE), tol=_LOOSE))
    return rows


_DISTRIBUTION_FUNCTIONS = ("cdf", "logcdf", "sf", "logsf")
_SHAPE_VALUE = st.floats(0.8, 3.0)

_CONTINUOUS += [
    *_with_fixed_shapes("gamma", _DISTRIBUTION_FUNCTIONS, POSITIVE_SIDE, a=_SHAPE_VALUE),
    *_with_fixed_shapes("chi2", _DISTRIBUTION_FUNCTIONS, POSITIVE_SIDE, df=_SHAPE_VALUE),
    *_with_fixed_shapes("beta", _DISTRIBUTION_FUNCTIONS, UNIT_INSIDE, a=_SHAPE_VALUE, b=_SHAPE_VALUE),
    *_with_fixed_shapes("gennorm", ("cdf",), Domain(0.2, 2.0), beta=st.floats(1.2, 3.0)),
    *_with_fixed_shapes("gennorm", ("ppf",), Domain(0.05, 0.95), beta=st.floats(1.2, 3.0)),
]


# -- discrete distributions: counts as parameters, probabilities and means as arrays ----------------

@st.composite
def _counts(draw, nargs: int, low: int, high: int, with_n: bool = False):
    """Shapes of ``nargs`` array arguments, and counts ``k`` (integers in [low, high]) of a
    shape that broadcasts with them; ``n >= k`` beside them for the binomial."""
    shapes = draw(hnp.mutually_broadcastable_shapes(num_shapes=nargs + 1, max_dims=2, max_side=3)).input_shapes
    k = draw(hnp.arrays(np.int64, shapes[0], elements=st.integers(low, high)))
    params = {"k": k}
    if with_n:
        params["n"] = k + draw(hnp.arrays(np.int64, shapes[0], elements=st.integers(0, 2)))
    return shapes[1:], params


def _discrete(dist: str, fn: str, domain: Domain, sig, counts: tuple[str, ...]) -> OpSpec:
    module = getattr(stats, dist)
    if counts == ("k",):
        call = lambda p, *, k: getattr(module, fn)(k, p)
    else:
        call = lambda p, *, k, n: getattr(module, fn)(k, n, p)
    return OpSpec(f"stats.{dist}.{fn}", call, _scipy_ref(dist, fn, counts), 1, sig, (domain,), tol=_LOOSE)


def _count_row(dist: str, fn: str, domains: tuple, high: int) -> OpSpec:
    """A row of ``fn(k, n, *params)``: counts ``k`` and ``n >= k`` drawn, the real parameters
    (differentiated) as arrays."""
    call = lambda *params, k, n: getattr(getattr(stats, dist), fn)(k, n, *params)
    return OpSpec(f"stats.{dist}.{fn}", call, _scipy_ref(dist, fn, ("k", "n")), len(domains),
                  _counts(len(domains), 0, high, with_n=True), domains, tol=_LOOSE)


def _nbinom_row(fn: str) -> OpSpec:
    """``nbinom.fn(k, n, p)``: counts ``k`` drawn, the real ``n`` and ``p`` differentiated."""
    call = lambda n, p, *, k: getattr(stats.nbinom, fn)(k, n, p)
    return OpSpec(f"stats.nbinom.{fn}", call, _scipy_ref("nbinom", fn, ("k",)), 2, _counts(2, 0, 5),
                  (SHAPE, PROB), tol=_LOOSE)


def _quantile_row(dist: str) -> OpSpec:
    module = getattr(stats, dist)
    return OpSpec(f"stats.{dist}.ppf", module.ppf, _scipy_ref(dist, "ppf"), 2,
                  broadcast_shapes(2, max_dims=2), (Domain(0.05, 0.95), PROB), derivative="zero")


_DISCRETE: list[OpSpec] = [
    *(_discrete("poisson", fn, SHAPE, _counts(1, 0, 5), ("k",)) for fn in ("logpmf", "pmf", "cdf")),
    _row("poisson", "entropy", (SHAPE,), tol=_LOOSE),
    *(_discrete("bernoulli", fn, PROB, _counts(1, 0, 1), ("k",)) for fn in ("logpmf", "pmf")),
    _discrete("bernoulli", "cdf", PROB, _counts(1, -1, 2), ("k",)),
    _quantile_row("bernoulli"),
    *(_discrete("binom", fn, PROB, _counts(1, 0, 4, with_n=True), ("k", "n")) for fn in ("logpmf", "pmf")),
    *(_discrete("geom", fn, PROB, _counts(1, 1, 5), ("k",)) for fn in ("logpmf", "pmf")),
    *(_nbinom_row(fn) for fn in ("logpmf", "pmf")),
    *(_count_row("betabinom", fn, (SHAPE, SHAPE), 4) for fn in ("logpmf", "pmf")),
]


# -- multivariate distributions -----------------------------------------------------------------------

@st.composite
def _mvn_sig(draw, batched_cov: bool = False):
    """Points (n, d) or (d,), a mean (d,), the factor (d, d) of a covariance."""
    d = draw(st.integers(1, 3))
    points = draw(st.sampled_from([(d,), (draw(st.integers(1, 3)), d)]))
    if batched_cov:
        b = draw(st.integers(1, 3))
        return ((b, d), (d,), (b, d, d)), {}
    return (points, (d,), (d, d)), {}


def _covariance(factor):
    """A well-conditioned covariance from any square ``factor``: ``factor factor^T / d + I / 2``."""
    import functrans.numpy as fnp

    d = factor.shape[-1]
    return fnp.matmul(factor, fnp.swapaxes(factor, -1, -2)) / d + 0.5 * fnp.eye(d, dtype=factor.dtype, like=factor)


def _mvn_row(fn: str, allow_singular: bool, batched_cov: bool = False) -> OpSpec:
    variant = "[allow_singular]" if allow_singular else "[batched cov]" if batched_cov else ""

    def call(x, mean, factor):
        return getattr(stats.multivariate_normal, fn)(x, mean, _covariance(factor), allow_singular=allow_singular)

    def ref(x, mean, factor):
        import scipy.stats

        cov = factor @ np.swapaxes(factor, -1, -2) / factor.shape[-1] + 0.5 * np.eye(factor.shape[-1])
        method = getattr(scipy.stats.multivariate_normal, fn)
        if cov.ndim == 3:
            out = np.array([method(x[i], mean, cov[i]) for i in range(cov.shape[0])])
        else:
            out = np.reshape(method(x, mean, cov, allow_singular=allow_singular), x.shape[:-1])
        return out.astype(np.result_type(x, mean, factor))

    return OpSpec(f"stats.multivariate_normal.{fn}{variant}", call, ref, 3, _mvn_sig(batched_cov),
                  (REAL_LINE, REAL_LINE, REAL_LINE), tol=_LOOSE)


@st.composite
def _simplex_sig(draw):
    """The free components (K - 1 of them, first axis) of points, and K concentrations."""
    k = draw(st.integers(2, 4))
    points = draw(st.sampled_from([(k - 1,), (k - 1, draw(st.integers(1, 3)))]))
    return (points, (k,)), {}


def _dirichlet_row(fn: str) -> OpSpec:
    scipy_fn = _scipy_ref("dirichlet", fn)

    def ref(x, alpha):  # SciPy squeezes a single point's axis away; functrans keeps x's shape
        return np.reshape(scipy_fn(x, alpha), x.shape[1:])

    return OpSpec(f"stats.dirichlet.{fn}", getattr(stats.dirichlet, fn), ref, 2,
                  _simplex_sig(), (Domain(0.05, 0.3), Domain(0.5, 3.0)), tol=_LOOSE)


@st.composite
def _multinomial_sig(draw):
    """Logits of K categories (softmax makes ``p``), counts ``x`` of shape (..., K), ``n = sum``."""
    k = draw(st.integers(1, 4))
    batch = draw(st.sampled_from([(), (draw(st.integers(1, 3)),)]))
    x = draw(hnp.arrays(np.int64, batch + (k,), elements=st.integers(0, 3)))
    return ((k,),), {"x": x, "n": x.sum(axis=-1)}


def _multinomial_row(fn: str) -> OpSpec:
    def call(logits, *, x, n):
        return getattr(stats.multinomial, fn)(x, n, fsp.softmax(logits, axis=-1))

    def ref(logits, *, x, n):
        import scipy.stats

        shifted = np.exp(logits.astype(np.float64) - logits.max())
        p = shifted / shifted.sum()
        out = getattr(scipy.stats.multinomial, fn)(x, n, p)
        return np.reshape(out, x.shape[:-1]).astype(np.result_type(logits, x))

    # float64 only: float32 logits give a float32 p, whose float64 probabilities SciPy refuses
    # (they add up to 1 only to float32's precision); the dtype rule is tested in test_stats.py
    return OpSpec(f"stats.multinomial.{fn}", call, ref, 1, _multinomial_sig(), (REAL_LINE,), dtypes=(F64,),
                  tol=_LOOSE)


_MULTIVARIATE: list[OpSpec] = [
    *(_mvn_row(fn, allow_singular=False) for fn in _DENSITY),
    _mvn_row("logpdf", allow_singular=True),
    _mvn_row("logpdf", allow_singular=False, batched_cov=True),
    *(_dirichlet_row(fn) for fn in _DENSITY),
    *(_multinomial_row(fn) for fn in ("logpmf", "pmf")),
]

#: One row per function of every distribution (several for variants).
FUNCTIONS: list[OpSpec] = _CONTINUOUS + _DISCRETE + _MULTIVARIATE
