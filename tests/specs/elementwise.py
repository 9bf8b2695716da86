"""Table rows of the elementwise operations: unary and binary arithmetic and transcendental
functions, comparisons and logic, rounding, where/select/clip and the complex parts."""
from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

import functrans.numpy as fnp
from functrans import primitives as P

from .opspec import OpSpec, binary, binds, fnp_fn, np_fn, prim_spec, unary, with_scalar
from .strategies import (
    ABOVE_ONE,
    ANY,
    BOOL,
    COMPLEX,
    DISTINCT,
    F64,
    GRID,
    HALF_OFF,
    NONZERO,
    POSITIVE,
    REAL,
    UNIT,
    Domain,
    broadcast_shapes,
    same_shapes,
    with_params,
)


def _logistic_ref(x):
    return 1 / (1 + np.exp(-x))


# mod/fmod jump where x / y is an integer: x / y stays in (1.05, 1.93) or (-1.93, -1.05), so
# the finite differences (float32 steps included) never straddle a jump.
MOD_DOMAINS = (Domain(hi=1.35, kind="away", margin=1.05), Domain(0.7, 1.0))

_ALIASES = {"abs": ("absolute",), "divide": ("true_divide",), "conj": ("conjugate",)}


def _alias(name):
    return _ALIASES.get(name, ())


# =============================================================================================
# Primitives
# =============================================================================================

_UNARY_PRIMS = [
    ("neg", np.negative, ANY), ("exp", np.exp, Domain(-3, 3)), ("log", np.log, POSITIVE),
    ("log1p", np.log1p, Domain(-0.5, 3)), ("expm1", np.expm1, ANY), ("sin", np.sin, Domain(-3, 3)),
    ("cos", np.cos, Domain(-3, 3)), ("tan", np.tan, Domain(-1.2, 1.2)), ("tanh", np.tanh, Domain(-3, 3)),
    ("logistic", _logistic_ref, Domain(-6, 6)), ("sqrt", np.sqrt, POSITIVE),
    ("rsqrt", lambda x: 1 / np.sqrt(x), POSITIVE), ("abs", np.abs, NONZERO), ("sign", np.sign, NONZERO),
    ("exp2", np.exp2, ANY), ("log2", np.log2, POSITIVE), ("log10", np.log10, POSITIVE),
    ("cbrt", np.cbrt, NONZERO), ("sinh", np.sinh, ANY), ("cosh", np.cosh, ANY),
    ("arcsin", np.arcsin, UNIT), ("arccos", np.arccos, UNIT), ("arctan", np.arctan, ANY),
    ("arcsinh", np.arcsinh, ANY), ("arccosh", np.arccosh, ABOVE_ONE), ("arctanh", np.arctanh, UNIT),
    ("sinc", np.sinc, ANY), ("sinc_derivative", None, ANY), ("sinc_second", None, ANY),
]
_BINARY_PRIMS = [
    ("add", np.add, ANY), ("sub", np.subtract, ANY), ("mul", np.multiply, ANY),
    ("div", np.divide, (ANY, NONZERO)), ("pow", np.power, (POSITIVE, ANY)),
    ("max", np.maximum, ANY), ("min", np.minimum, ANY),
    ("arctan2", np.arctan2, (ANY, NONZERO)), ("hypot", np.hypot, (NONZERO, NONZERO)),
    ("logaddexp", np.logaddexp, ANY), ("logaddexp2", np.logaddexp2, ANY),
    ("mod", np.remainder, MOD_DOMAINS), ("fmod", np.fmod, MOD_DOMAINS),
]
_COMPARISONS = [("eq", np.equal), ("ne", np.not_equal), ("lt", np.less), ("le", np.less_equal),
                ("gt", np.greater), ("ge", np.greater_equal)]
# piecewise constant: zero derivatives
_FLAT_UNARY_PRIMS = [("floor", np.floor), ("ceil", np.ceil), ("rint", np.rint), ("trunc", np.trunc),
                     ("signbit", np.signbit), ("isnan", np.isnan), ("isinf", np.isinf),
                     ("isfinite", np.isfinite), ("logical_not", np.logical_not)]
_FLAT_BINARY_PRIMS = [("floor_divide", np.floor_divide), ("logical_and", np.logical_and),
                      ("logical_or", np.logical_or), ("logical_xor", np.logical_xor)]

PRIMITIVES: list[OpSpec] = [
    *(prim_spec(n, binds(getattr(P, f"{n}_p")), ref, 1, same_shapes(1), domain=d) for n, ref, d in _UNARY_PRIMS),
    *(prim_spec(n, binds(getattr(P, f"{n}_p")), ref, 2, broadcast_shapes(2), domain=d)
      for n, ref, d in _BINARY_PRIMS),
    *(prim_spec(n, binds(getattr(P, f"{n}_p")), ref, 2, broadcast_shapes(2), domain=GRID, derivative="zero")
      for n, ref in _COMPARISONS),
    *(prim_spec(n, binds(getattr(P, f"{n}_p")), ref, 1, same_shapes(1), domain=HALF_OFF, derivative="zero")
      for n, ref in _FLAT_UNARY_PRIMS),
    *(prim_spec(n, binds(getattr(P, f"{n}_p")), ref, 2, broadcast_shapes(2), domain=(HALF_OFF, NONZERO),
                derivative="zero") for n, ref in _FLAT_BINARY_PRIMS),
    prim_spec("round", binds(P.round_p), lambda x, *, decimals: np.round(x, decimals), 1,
              with_params(same_shapes(1), {"decimals": 1}), domain=HALF_OFF, derivative="zero"),
    prim_spec("integer_pow", binds(P.integer_pow_p), lambda x, y: x ** y, 1,
              same_shapes(1).flatmap(lambda sp: st.integers(-3, 4).map(lambda y: (sp[0], {"y": y}))),
              domain=NONZERO),
    prim_spec("select", binds(P.select_p), np.where, 3, broadcast_shapes(3), domain=(BOOL, ANY, ANY)),
    *(prim_spec(n, binds(getattr(P, f"{n}_p")), ref, 1, same_shapes(1), dtypes=COMPLEX)
      for n, ref in [("real", np.real), ("imag", np.imag), ("conj", np.conj)]),
]


# =============================================================================================
# functrans.numpy
# =============================================================================================

FNP_UNARY = [
    ("negative", ANY, np.negative), ("exp", Domain(-3, 3), np.exp), ("log", POSITIVE, np.log),
    ("log1p", Domain(-0.5, 3), np.log1p), ("expm1", ANY, np.expm1), ("sin", Domain(-3, 3), np.sin),
    ("cos", Domain(-3, 3), np.cos), ("tan", Domain(-1.2, 1.2), np.tan), ("tanh", Domain(-3, 3), np.tanh),
    ("sqrt", POSITIVE, np.sqrt), ("sign", NONZERO, np.sign), ("square", ANY, np.square),
    ("reciprocal", NONZERO, np.reciprocal), ("positive", ANY, np.positive),
    ("logistic", Domain(-6, 6), _logistic_ref), ("rsqrt", POSITIVE, lambda x: 1 / np.sqrt(x)),
]
FNP_BINARY = [
    ("add", ANY, 2.5), ("subtract", ANY, 2.5), ("multiply", ANY, -1.5), ("divide", NONZERO, 2.5),
    ("maximum", ANY, 0.25), ("minimum", ANY, 0.25), ("power", POSITIVE, 1.5),
]
FNP_COMPARISONS = ["equal", "not_equal", "less", "less_equal", "greater", "greater_equal"]

# (name, domain, aliases)
_SMOOTH_UNARY = [
    ("exp2", ANY, ()), ("log2", POSITIVE, ()), ("log10", POSITIVE, ()), ("cbrt", NONZERO, ()),
    ("sinh", ANY, ()), ("cosh", ANY, ()), ("arcsin", UNIT, ("asin",)), ("arccos", UNIT, ("acos",)),
    ("arctan", ANY, ("atan",)), ("arcsinh", ANY, ("asinh",)), ("arccosh", ABOVE_ONE, ("acosh",)),
    ("arctanh", UNIT, ("atanh",)), ("sinc", ANY, ()), ("deg2rad", ANY, ("radians",)),
    ("rad2deg", ANY, ("degrees",)), ("fabs", NONZERO, ()), ("nan_to_num", ANY, ()),
]
# (name, aliases): piecewise constant
_FLAT_UNARY = [
    ("floor", ()), ("ceil", ()), ("rint", ()), ("trunc", ("fix",)), ("signbit", ()), ("isnan", ()),
    ("isinf", ()), ("isfinite", ()), ("isposinf", ()), ("isneginf", ()),
]
# (name, domains, aliases)
_SMOOTH_BINARY = [
    ("arctan2", (ANY, NONZERO), ("atan2",)), ("hypot", (NONZERO, NONZERO), ()),
    ("logaddexp", (ANY, ANY), ()), ("logaddexp2", (ANY, ANY), ()),
    ("fmod", MOD_DOMAINS, ()), ("mod", MOD_DOMAINS, ("remainder",)),
    ("copysign", (NONZERO, NONZERO), ()), ("heaviside", (NONZERO, ANY), ()),
    ("fmax", (DISTINCT, ANY), ()), ("fmin", (DISTINCT, ANY), ()),
    ("float_power", (POSITIVE, ANY), ()),
]
_FLAT_BINARY = ["floor_divide", "logical_and", "logical_or", "logical_xor"]


def _where_specs():
    return [
        OpSpec("fnp.where", fnp.where, np.where, 3, broadcast_shapes(3), domain=(BOOL, ANY, ANY)),
        binary("fnp.where[relu]", lambda x, c: fnp.where(c > 0, x, 0.0),
               lambda x, c: np.where(c > 0, x, 0.0), domain=(ANY, ANY)),
        unary("fnp.where[abs]", lambda x: fnp.where(x > 0, x, -x), lambda x: np.where(x > 0, x, -x),
              NONZERO),
    ]


def _clip_specs():
    lo, hi = Domain(-1.5, -0.5), Domain(0.5, 1.5)
    return [
        unary("fnp.clip", fnp.clip, np.clip,
              sig=with_params(same_shapes(1), {"a_min": -0.7, "a_max": 0.9})),
        unary("fnp.clip[min only]", lambda x: fnp.clip(x, 0.3), lambda x: np.clip(x, 0.3, None)),
        unary("fnp.clip[max only]", lambda x: fnp.clip(x, None, 0.3), lambda x: np.clip(x, None, 0.3)),
        OpSpec("fnp.clip[arrays]", fnp.clip, np.clip, 3, broadcast_shapes(3), domain=(ANY, lo, hi)),
    ]


def _complex_part_specs():
    specs = []
    for name in ("real", "imag", "conj"):
        fn, ref = getattr(fnp, name), getattr(np, name)
        specs.append(unary(f"fnp.{name}", fn, ref, dtypes=COMPLEX, aliases=_alias(name)))
        specs.append(unary(f"fnp.{name}[real input]", fn, ref))
    return specs


def _complex_specs():
    return [
        unary("fnp.angle", fnp.angle, np.angle, NONZERO, dtypes=COMPLEX),
        unary("fnp.angle[real input]", fnp.angle, np.angle, NONZERO, derivative="zero"),
        # Python's abs and ** on complex tracers
        unary("fnp.abs[complex]", fnp.abs, np.abs, NONZERO, dtypes=COMPLEX),
        unary("fnp.exp[complex]", fnp.exp, np.exp, ANY, dtypes=COMPLEX),
        unary("fnp.log[complex]", fnp.log, np.log, POSITIVE, dtypes=COMPLEX),
        unary("fnp.sqrt[complex]", fnp.sqrt, np.sqrt, POSITIVE, dtypes=COMPLEX),
        unary("fnp.arctan[complex]", fnp.arctan, np.arctan, UNIT, dtypes=COMPLEX),
        # holomorphic functions in complex128, away from their branch cuts
        *(unary(f"fnp.{n}[complex]", fnp_fn(n), np_fn(n), d, dtypes=COMPLEX) for n, d in [
            ("exp2", ANY), ("log2", POSITIVE), ("log10", POSITIVE), ("sinh", ANY), ("cosh", ANY),
            ("arcsin", UNIT), ("arccos", UNIT), ("arcsinh", UNIT), ("arccosh", ABOVE_ONE),
            ("arctanh", UNIT), ("sinc", ANY)]),
    ]


FUNCTIONS: list[OpSpec] = [
    *(unary(f"fnp.{n}", getattr(fnp, n), ref, d) for n, d, ref in FNP_UNARY),
    unary("fnp.abs", fnp.abs, np.abs, NONZERO, aliases=("absolute",)),
    *(binary(f"fnp.{n}", getattr(fnp, n), getattr(np, n), (ANY, d), aliases=_alias(n))
      for n, d, _ in FNP_BINARY if n != "power"),
    binary("fnp.power", fnp.power, np.power, (POSITIVE, ANY)),
    unary("fnp.power[int]", lambda x, *, y: fnp.power(x, y), lambda x, *, y: np.power(x, y), NONZERO,
          sig=same_shapes(1).flatmap(lambda sp: st.integers(-2, 3).map(lambda y: (sp[0], {"y": y})))),
    *(spec for n, d, s in FNP_BINARY for spec in with_scalar(
        f"fnp.{n}", getattr(fnp, n), getattr(np, n), s, POSITIVE if n in ("divide", "power") else ANY)),
    *(binary(f"fnp.{n}", getattr(fnp, n), getattr(np, n), GRID, derivative="zero") for n in FNP_COMPARISONS),
    *(unary(f"fnp.{n}", fnp_fn(n), np_fn(n), d, aliases=a) for n, d, a in _SMOOTH_UNARY),
    *(unary(f"fnp.{n}", fnp_fn(n), np_fn(n), HALF_OFF, derivative="zero", aliases=a) for n, a in _FLAT_UNARY),
    *(binary(f"fnp.{n}", fnp_fn(n), np_fn(n), d, aliases=a, dtypes=(F64,) if n == "float_power" else REAL)
      for n, d, a in _SMOOTH_BINARY),
    *(binary(f"fnp.{n}", fnp_fn(n), np_fn(n), (HALF_OFF, NONZERO), derivative="zero") for n in _FLAT_BINARY),
    unary("fnp.logical_not", fnp.logical_not, np.logical_not, GRID, derivative="zero"),
    unary("fnp.round", fnp.round, np.round, HALF_OFF, derivative="zero", aliases=("around",),
          sig=same_shapes(1).flatmap(lambda sp: st.integers(0, 2).map(lambda d: (sp[0], {"decimals": d})))),
    *_where_specs(),
    *_clip_specs(),
    *_complex_part_specs(),
    *_complex_specs(),
]
