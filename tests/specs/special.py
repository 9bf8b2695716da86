"""Table rows of the special-function primitives (error and gamma functions, Bessel functions,
xlogy), checked against SciPy."""
from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from functrans import primitives as P

from .opspec import OpSpec, binds, prim_spec
from .strategies import ANY, F64, NONZERO, POSITIVE, UNIT, Domain, broadcast_shapes, same_shapes


def _special_ref(name):
    def ref(*args, **params):
        import scipy.special

        return np.asarray(getattr(scipy.special, name)(*params.values(), *args))

    return ref


_UNARY = [
    ("erf", _special_ref("erf"), ANY), ("erfc", _special_ref("erfc"), ANY),
    ("erfinv", _special_ref("erfinv"), UNIT), ("lgamma", _special_ref("gammaln"), POSITIVE),
    ("digamma", _special_ref("digamma"), POSITIVE), ("i0", _special_ref("i0"), ANY),
    ("i1", _special_ref("i1"), ANY), ("i0e", _special_ref("i0e"), NONZERO),
    ("i1e", _special_ref("i1e"), NONZERO), ("log_ndtr", _special_ref("log_ndtr"), ANY),
    ("ndtri", _special_ref("ndtri"), Domain(0.05, 0.95)), ("erfcx", _special_ref("erfcx"), ANY),
    ("dawsn", _special_ref("dawsn"), ANY), ("exp1", _special_ref("exp1"), POSITIVE),
    ("expi", _special_ref("expi"), NONZERO), ("j0", _special_ref("j0"), ANY), ("j1", _special_ref("j1"), ANY),
]
_BINARY = [
    ("xlogy", _special_ref("xlogy"), (ANY, POSITIVE)), ("xlog1py", _special_ref("xlog1py"), (ANY, POSITIVE)),
]

PRIMITIVES: list[OpSpec] = [
    *(prim_spec(n, binds(getattr(P, f"{n}_p")), ref, 1, same_shapes(1), domain=d) for n, ref, d in _UNARY),
    *(prim_spec(n, binds(getattr(P, f"{n}_p")), ref, 2, broadcast_shapes(2), domain=d) for n, ref, d in _BINARY),
    prim_spec("polygamma", binds(P.polygamma_p),
              lambda x, *, n: _special_ref("polygamma")(x, n=n).astype(x.dtype),  # float32 kept
              1, same_shapes(1).flatmap(lambda sp: st.integers(0, 2).map(lambda n: (sp[0], {"n": n}))),
              domain=POSITIVE, tol={F64: {"atol": 1e-5, "rtol": 1e-5}}),
]


# =============================================================================================
# Functions of several arguments, differentiable in some (the others are drawn as constants)
# =============================================================================================

_POS_FLOAT = st.floats(0.5, 3.0)
_TOL5 = {F64: {"atol": 1e-5, "rtol": 1e-5}}


def _same_dtype(ref):
    """SciPy's reference in the dtype of the array argument (float32 kept, as functrans does)."""
    return lambda arg, *rest, **params: np.asarray(ref(arg, *rest, **params)).astype(arg.dtype)


def _with_floats(nargs, **names):
    """``nargs`` arguments of one shape, and a float parameter per name drawn from its strategy."""
    return same_shapes(nargs).flatmap(
        lambda sp: st.fixed_dictionaries(names).map(lambda params: (sp[0], params)))


def _betainc_ref(x, *, a, b):
    import scipy.special

    return scipy.special.betainc(a, b, x)


def _hyp_ref(name):
    def ref(x, **params):
        import scipy.special

        return getattr(scipy.special, name)(*(params[p] for p in "abc" if p in params), x)

    return ref


_HYP1F1_PARAMS = {"a": st.floats(-3.0, 3.0), "b": st.floats(0.5, 4.0)}
_HYP2F1_PARAMS = {"a": st.floats(-3.0, 3.0), "b": st.floats(-3.0, 3.0), "c": st.floats(0.5, 4.0)}


def _gammainc_ref(name):
    def ref(x, *, a):
        import scipy.special

        return getattr(scipy.special, name)(a, x)

    return ref


def _gammainc_grad_a_ref(x, *, a):
    """d/da P(a, x) = P (log x - digamma(a)) + x^a / (a^2 Gamma(a)) * integral over (0, 1) of
    log(u) exp(-x u^(1/a)) (the integral of log(t) t^(a-1) e^-t / Gamma(a) over (0, x), with
    t = x u^(1/a); quadrature with the log weight)."""
    import scipy.integrate
    import scipy.special

    def one(x):
        weighted = scipy.integrate.quad(lambda u: np.exp(-x * u ** (1.0 / a)), 0.0, 1.0, weight="alg-loga",
                                        wvar=(0.0, 0.0), epsabs=1e-13, epsrel=1e-12)[0]
        return (scipy.special.gammainc(a, x) * (np.log(x) - scipy.special.digamma(a))
                + np.exp(a * np.log(x) - 2 * np.log(a) - scipy.special.gammaln(a)) * weighted)

    return np.vectorize(one, otypes=[np.float64])(x.astype(np.float64))


def _expn_ref(x, *, n):
    import scipy.special

    return scipy.special.expn(n, x)


def _sici_ref(index):
    def ref(x):
        import scipy.special

        return scipy.special.sici(x)[index]

    return ref


def _fresnel_ref(index):
    def ref(x):
        import scipy.special

        return scipy.special.fresnel(x)[index]

    return ref


def _bessel_jn_ref(z, *, v):
    import scipy.special

    return np.asarray(scipy.special.jv(np.arange(v + 1).reshape((-1,) + (1,) * z.ndim), z)).astype(z.dtype)


def _wofz_ref(x):
    """SciPy's wofz in the complex dtype of x's precision (float32 gives complex64, as JAX)."""
    import scipy.special

    return np.asarray(scipy.special.wofz(x)).astype(np.result_type(x.dtype, np.complex64))


def _zeta_ref(q, *, x):
    import scipy.special

    return scipy.special.zeta(x, q)


PRIMITIVES += [
    prim_spec("gamma", binds(P.gamma_p), _special_ref("gamma"), 1, same_shapes(1), domain=POSITIVE),
    prim_spec("betaln", binds(P.betaln_p), _special_ref("betaln"), 2, broadcast_shapes(2), domain=POSITIVE),
    prim_spec("betainc", lambda x, *, a, b: P.betainc_p.bind(a, b, x), _same_dtype(_betainc_ref), 1,
              _with_floats(1, a=_POS_FLOAT, b=_POS_FLOAT), domain=Domain(0.05, 0.95), tol=_TOL5),
    prim_spec("gammainc", lambda x, *, a: P.gammainc_p.bind(a, x), _same_dtype(_gammainc_ref("gammainc")), 1,
              _with_floats(1, a=_POS_FLOAT), domain=POSITIVE, tol=_TOL5),
    prim_spec("gammaincc", lambda x, *, a: P.gammaincc_p.bind(a, x), _same_dtype(_gammainc_ref("gammaincc")), 1,
              _with_floats(1, a=_POS_FLOAT), domain=POSITIVE, tol=_TOL5),
    prim_spec("gammaincinv", lambda p, *, a: P.gammaincinv_p.bind(a, p), _same_dtype(_gammainc_ref("gammaincinv")),
              1, _with_floats(1, a=_POS_FLOAT), domain=Domain(0.05, 0.95), tol=_TOL5),
    prim_spec("gammainc_grad_a", lambda x, *, a: P.gammainc_grad_a_p.bind(a, x), _same_dtype(_gammainc_grad_a_ref),
              1, _with_floats(1, a=_POS_FLOAT), domain=POSITIVE, tol=_TOL5),
    prim_spec("zeta", lambda q, *, x: P.zeta_p.bind(x, q), _same_dtype(_zeta_ref), 1,
              _with_floats(1, x=st.floats(1.5, 4.0)), domain=POSITIVE, tol=_TOL5),
    prim_spec("spence", binds(P.spence_p), _special_ref("spence"), 1, same_shapes(1), domain=POSITIVE),
    prim_spec("expn", lambda x, *, n: P.expn_p.bind(float(n), x), _same_dtype(_expn_ref), 1,
              same_shapes(1).flatmap(lambda sp: st.integers(0, 4).map(lambda n: (sp[0], {"n": n}))),
              domain=POSITIVE),
    prim_spec("poch", binds(P.poch_p), _special_ref("poch"), 2, broadcast_shapes(2), domain=(POSITIVE, ANY)),
    # (the public fsp.hyp1f1 and fsp.hyp2f1 only convert their arguments: tests/scipy/test_hypergeometric.py)
    prim_spec("hyp1f1", lambda x, *, a, b: P.hyp1f1_p.bind(a, b, x), _same_dtype(_hyp_ref("hyp1f1")), 1,
              _with_floats(1, **_HYP1F1_PARAMS), domain=ANY),
    prim_spec("hyp2f1", lambda x, *, a, b, c: P.hyp2f1_p.bind(a, b, c, x), _same_dtype(_hyp_ref("hyp2f1")), 1,
              _with_floats(1, **_HYP2F1_PARAMS), domain=Domain(-0.9, 0.9)),
    prim_spec("sici_si", binds(P.sici_si_p), _sici_ref(0), 1, same_shapes(1), domain=ANY),
    prim_spec("sici_ci", binds(P.sici_ci_p), _sici_ref(1), 1, same_shapes(1), domain=NONZERO),
    prim_spec("wofz", binds(P.wofz_p), _wofz_ref, 1, same_shapes(1), domain=ANY),
]


def _fsp(name):
    import functrans.scipy.special as fsp

    return getattr(fsp, name)


def _multigammaln_ref(a, *, d):
    import scipy.special

    return np.asarray(scipy.special.multigammaln(a, d)).astype(a.dtype)


#: Rows of the public functions of functrans.scipy.special that the primitives' rows do not
#: cover one to one (run by tests/scipy/test_special.py).
FUNCTIONS: list[OpSpec] = [
    OpSpec("fsp.betaln", _fsp("betaln"), _special_ref("betaln"), 2, broadcast_shapes(2), domain=POSITIVE),
    OpSpec("fsp.betainc", lambda x, *, a, b: _fsp("betainc")(a, b, x), _same_dtype(_betainc_ref), 1,
           _with_floats(1, a=_POS_FLOAT, b=_POS_FLOAT), domain=Domain(0.05, 0.95), tol=_TOL5),
    OpSpec("fsp.gammainc", lambda x, *, a: _fsp("gammainc")(a, x), _same_dtype(_gammainc_ref("gammainc")), 1,
           _with_floats(1, a=_POS_FLOAT), domain=POSITIVE, tol=_TOL5),
    OpSpec("fsp.gammaincc", lambda x, *, a: _fsp("gammaincc")(a, x), _same_dtype(_gammainc_ref("gammaincc")),
           1, _with_floats(1, a=_POS_FLOAT), domain=POSITIVE, tol=_TOL5),
    OpSpec("fsp.gammainc[a, x]", _fsp("gammainc"), _special_ref("gammainc"), 2, broadcast_shapes(2),
           domain=POSITIVE, order=1, tol=_TOL5),
    OpSpec("fsp.gammaincc[a, x]", _fsp("gammaincc"), _special_ref("gammaincc"), 2, broadcast_shapes(2),
           domain=POSITIVE, order=1, tol=_TOL5),
    OpSpec("fsp.gammaincinv", lambda p, *, a: _fsp("gammaincinv")(a, p), _same_dtype(_gammainc_ref("gammaincinv")),
           1, _with_floats(1, a=_POS_FLOAT), domain=Domain(0.05, 0.95), tol=_TOL5),
    OpSpec("fsp.gammaincinv[a, p]", _fsp("gammaincinv"), _special_ref("gammaincinv"), 2, broadcast_shapes(2),
           domain=(POSITIVE, Domain(0.05, 0.95)), order=1, tol=_TOL5),
    OpSpec("fsp.zeta", lambda q, *, x: _fsp("zeta")(x, q), _same_dtype(_zeta_ref), 1,
           _with_floats(1, x=st.floats(1.5, 4.0)), domain=POSITIVE, tol=_TOL5),
    OpSpec("fsp.spence", _fsp("spence"), _special_ref("spence"), 1, same_shapes(1), domain=POSITIVE),
    OpSpec("fsp.gamma", _fsp("gamma"), _special_ref("gamma"), 1, same_shapes(1), domain=POSITIVE),
    OpSpec("fsp.multigammaln", lambda a, *, d: _fsp("multigammaln")(a, d), _multigammaln_ref, 1,
           same_shapes(1).flatmap(lambda sp: st.integers(1, 3).map(lambda d: (sp[0], {"d": d}))),
           domain=Domain(1.5, 4.0)),
    OpSpec("fsp.entr", _fsp("entr"), _special_ref("entr"), 1, same_shapes(1), domain=POSITIVE),
    OpSpec("fsp.rel_entr", _fsp("rel_entr"), _special_ref("rel_entr"), 2, broadcast_shapes(2), domain=POSITIVE),
    OpSpec("fsp.kl_div", _fsp("kl_div"), _special_ref("kl_div"), 2, broadcast_shapes(2), domain=POSITIVE),
    OpSpec("fsp.erfcx", _fsp("erfcx"), _special_ref("erfcx"), 1, same_shapes(1), domain=ANY),
    OpSpec("fsp.dawsn", _fsp("dawsn"), _special_ref("dawsn"), 1, same_shapes(1), domain=ANY),
    OpSpec("fsp.exp1", _fsp("exp1"), _special_ref("exp1"), 1, same_shapes(1), domain=POSITIVE),
    OpSpec("fsp.expi", _fsp("expi"), _special_ref("expi"), 1, same_shapes(1), domain=NONZERO),
    OpSpec("fsp.expn", lambda x, *, n: _fsp("expn")(n, x), _same_dtype(_expn_ref), 1,
           same_shapes(1).flatmap(lambda sp: st.integers(0, 4).map(lambda n: (sp[0], {"n": n}))), domain=POSITIVE),
    OpSpec("fsp.poch", _fsp("poch"), _special_ref("poch"), 2, broadcast_shapes(2), domain=(POSITIVE, ANY)),
    OpSpec("fsp.sici[si]", lambda x: _fsp("sici")(x)[0], _sici_ref(0), 1, same_shapes(1), domain=ANY),
    OpSpec("fsp.sici[ci]", lambda x: _fsp("sici")(x)[1], _sici_ref(1), 1, same_shapes(1), domain=NONZERO),
    OpSpec("fsp.fresnel[s]", lambda x: _fsp("fresnel")(x)[0], _fresnel_ref(0), 1, same_shapes(1),
           domain=Domain(-4.0, 4.0)),
    OpSpec("fsp.fresnel[c]", lambda x: _fsp("fresnel")(x)[1], _fresnel_ref(1), 1, same_shapes(1),
           domain=Domain(-4.0, 4.0)),
    OpSpec("fsp.owens_t", _fsp("owens_t"), _special_ref("owens_t"), 2, broadcast_shapes(2),
           domain=(ANY, Domain(-3.0, 3.0))),  # |a| on both sides of 1, the two methods
    OpSpec("fsp.bessel_jn", lambda z, *, v: _fsp("bessel_jn")(z, v=v), _bessel_jn_ref, 1,
           same_shapes(1).flatmap(lambda sp: st.integers(0, 6).map(lambda v: (sp[0], {"v": v}))),
           domain=Domain(-8.0, 8.0)),
    OpSpec("fsp.wofz", _fsp("wofz"), _wofz_ref, 1, same_shapes(1), domain=ANY),
    OpSpec("fsp.boxcox", _fsp("boxcox"), _special_ref("boxcox"), 2, broadcast_shapes(2), domain=(POSITIVE, ANY)),
    OpSpec("fsp.boxcox[small lmbda]", _fsp("boxcox"), _special_ref("boxcox"), 2, broadcast_shapes(2),
           domain=(POSITIVE, Domain(-1e-3, 1e-3))),
    OpSpec("fsp.boxcox1p", _fsp("boxcox1p"), _special_ref("boxcox1p"), 2, broadcast_shapes(2),
           domain=(Domain(-0.5, 3.0), ANY)),
]


def _sph_harm_y_ref(theta, phi, *, n, m):
    import scipy.special

    out = scipy.special.sph_harm_y(n, m, theta.astype(np.float64), phi.astype(np.float64))
    return np.asarray(out).astype(np.result_type(theta.dtype, np.complex64))


_DEGREES = st.integers(0, 3).flatmap(lambda n: st.fixed_dictionaries({"n": st.just(n), "m": st.integers(-n - 1, n)}))

FUNCTIONS += [
    OpSpec("fsp.sph_harm_y", lambda t, p, *, n, m: _fsp("sph_harm_y")(n, m, t, p), _sph_harm_y_ref, 2,
           broadcast_shapes(2).flatmap(lambda sp: _DEGREES.map(lambda d: (sp[0], d))),
           domain=(Domain(0.1, 3.0), ANY), tol=_TOL5),
    OpSpec("fsp.sph_harm", lambda p, t, *, n, m: _fsp("sph_harm")(m, n, p, t),
           lambda p, t, *, n, m: _sph_harm_y_ref(t, p, n=n, m=m), 2,
           broadcast_shapes(2).flatmap(lambda sp: _DEGREES.map(lambda d: (sp[0], d))),
           domain=(ANY, Domain(0.1, 3.0)), tol=_TOL5),
]
