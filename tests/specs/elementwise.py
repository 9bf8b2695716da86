"""Table rows of the elementwise operations: unary and binary arithmetic and transcendental
functions, comparisons and logic, rounding, where/select/clip and the complex parts."""
from __future__ import annotations

import operator

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
    shapes,
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


def _operator_specs():
    """Python's ``%``, ``//`` and ``divmod`` on traced arrays, with either operand an array or
    a Python float: values away from the jumps of the remainder."""
    apart = Domain(0.8, 1.0)  # x / 1.5 and 1.5 / x stay between integers
    return [
        binary("fnp.mod[%]", operator.mod, operator.mod, MOD_DOMAINS),
        *with_scalar("fnp.mod[%]", operator.mod, operator.mod, 1.5, apart),
        binary("fnp.floor_divide[//]", operator.floordiv, operator.floordiv, (HALF_OFF, NONZERO), derivative="zero"),
        *with_scalar("fnp.floor_divide[//]", operator.floordiv, operator.floordiv, 1.5, apart, derivative="zero"),
        binary("fnp.divmod", fnp.divmod, np.divmod, MOD_DOMAINS),
        binary("fnp.divmod[divmod]", divmod, divmod, MOD_DOMAINS),
        *with_scalar("fnp.divmod[divmod]", divmod, divmod, 1.5, apart),
    ]


@st.composite
def _closeness_sig(draw):
    """Shapes that broadcast, and isclose's parameters."""
    shapes_, _ = draw(broadcast_shapes(2))
    return shapes_, {"rtol": draw(st.sampled_from([1e-5, 1e-3, 0.0])), "atol": draw(st.sampled_from([1e-8, 1e-6, 0.0])),
                     "equal_nan": draw(st.booleans())}


def _near(f):
    """``f(x, x + y * 4e-6, ...)``: values within and beyond the default tolerances of x."""
    return lambda x, y, **params: f(x, x + y * 4e-6, **params)


@st.composite
def _equal_sig(draw, broadcast):
    """Two shapes (the same, broadcasting, or neither), and ``equal_nan`` for array_equal."""
    kind = draw(st.sampled_from(["same", "broadcast", "other"]))
    if kind == "same":
        shapes_, _ = draw(same_shapes(2))
    elif kind == "broadcast":
        shapes_, _ = draw(broadcast_shapes(2))
    else:
        shapes_ = (draw(shapes()), draw(shapes()))
    return shapes_, ({} if broadcast else {"equal_nan": draw(st.booleans())})


def _closeness_specs():
    """Closeness and equality of arrays: booleans, zero derivative."""
    bits = Domain(0, 1, kind="grid")  # 0.0 and 1.0: small arrays are often equal
    return [
        binary("fnp.isclose", fnp.isclose, np.isclose, GRID, derivative="zero"),
        OpSpec("fnp.isclose[near]", _near(fnp.isclose), _near(np.isclose), 2, _closeness_sig(), derivative="zero"),
        binary("fnp.allclose", fnp.allclose, np.allclose, GRID, derivative="zero"),
        OpSpec("fnp.allclose[near]", _near(fnp.allclose), _near(np.allclose), 2, _closeness_sig(), derivative="zero"),
        OpSpec("fnp.array_equal", fnp.array_equal, np.array_equal, 2, _equal_sig(False), bits, derivative="zero"),
        OpSpec("fnp.array_equiv", fnp.array_equiv, np.array_equiv, 2, _equal_sig(True), bits, derivative="zero"),
    ]


def _real_if_close(lib):
    """``real_if_close`` of ``x`` with its imaginary part scaled by ``s`` (0, tiny or 1)."""
    return lambda x, *, s: lib.real_if_close(lib.real(x) + lib.imag(x) * (s * 1j))


def _complex_test_specs():
    """Which values and arrays are complex: booleans, zero derivative; real_if_close, which
    has the derivative of what it returns."""
    return [
        *(unary(f"fnp.{n}{variant}", fnp_fn(n), np_fn(n), GRID, dtypes=dtypes, derivative="zero")
          for n in ("iscomplex", "isreal", "iscomplexobj", "isrealobj")
          for variant, dtypes in (("", REAL), ("[complex]", COMPLEX))),
        unary("fnp.real_if_close", _real_if_close(fnp), _real_if_close(np), dtypes=COMPLEX,
              sig=same_shapes(1).flatmap(lambda sp: st.sampled_from([0.0, 1e-18, 1.0]).map(
                  lambda s: (sp[0], {"s": s})))),
        unary("fnp.real_if_close[real input]", fnp.real_if_close, np.real_if_close),
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
    *_operator_specs(),
    *_closeness_specs(),
    *_complex_test_specs(),
]
