"""Table rows of the dtype queries (promotion, casting, the type hierarchy; arrays count by
their dtype, traced or not) and of the floating-point error settings."""
from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

import functrans.numpy as fnp

from .opspec import OpSpec, unary
from .strategies import F32, F64, no_args, same_shapes, shapes

_DTYPES = st.sampled_from([np.bool_, np.int8, np.int64, np.uint16, F32, F64, np.complex64])
_KINDS = st.sampled_from(["bool", "signed integer", "unsigned integer", "integral", "real floating",
                          "complex floating", "numeric", np.float32, ("bool", "real floating")])
_MODES = st.sampled_from(["ignore", "warn", "raise"])


def _settings_round_trip(module):
    """``module.seterr`` then ``module.geterr``, the old settings restored."""
    def run(**modes):
        old = module.seterr(**modes)
        try:
            return tuple(sorted(module.geterr().items()))
        finally:
            module.seterr(**old)
    return run


def _callback_round_trip(module):
    def run():
        old = module.seterrcall(print)
        try:
            return module.geterrcall() is print
        finally:
            module.seterrcall(old)
    return run


FUNCTIONS: list[OpSpec] = [
    unary("fnp.can_cast", lambda x, *, to, casting: fnp.can_cast(x, to, casting),
          lambda x, *, to, casting: np.can_cast(x.dtype, to, casting),
          sig=same_shapes(1).flatmap(lambda sp: st.fixed_dictionaries(
              {"to": _DTYPES, "casting": st.sampled_from(["safe", "same_kind", "unsafe"])}).map(
                  lambda p: (sp[0], p))), derivative="none"),
    OpSpec("fnp.promote_types", lambda *, type1, type2: fnp.promote_types(type1, type2),
           lambda *, type1, type2: np.promote_types(type1, type2), 0,
           no_args(st.fixed_dictionaries({"type1": _DTYPES, "type2": _DTYPES})), derivative="none"),
    unary("fnp.issubdtype", lambda x, *, kind: fnp.issubdtype(x, kind),
          lambda x, *, kind: np.issubdtype(x.dtype, kind),
          sig=same_shapes(1).flatmap(lambda sp: st.sampled_from(
              [np.floating, np.integer, np.inexact, np.float32, np.number]).map(lambda k: (sp[0], {"kind": k}))),
          derivative="none"),
    OpSpec("fnp.isdtype", fnp.isdtype, np.isdtype, 0,
           no_args(st.fixed_dictionaries({"dtype": _DTYPES.map(np.dtype), "kind": _KINDS})), derivative="none"),
    OpSpec("fnp.common_type", fnp.common_type, np.common_type, 2,
           st.tuples(shapes(), shapes()).map(lambda s: (s, {})), derivative="none"),
    OpSpec("fnp.mintypecode", fnp.mintypecode, np.mintypecode, 0, no_args(st.fixed_dictionaries(
        {"typechars": st.lists(st.sampled_from(list("dfFDgS?i")), max_size=3)})), derivative="none"),
    OpSpec("fnp.typename", fnp.typename, np.typename, 0,
           no_args(st.fixed_dictionaries({"char": st.sampled_from(list("?bBhHiIlLqQfdgFDG"))})), derivative="none"),
    unary("fnp.min_scalar_type", fnp.min_scalar_type, np.min_scalar_type, sig=same_shapes(1, max_dims=1),
          derivative="none"),
    OpSpec("fnp.seterr", _settings_round_trip(fnp), _settings_round_trip(np), 0, no_args(st.fixed_dictionaries(
        {"divide": _MODES, "over": _MODES, "invalid": _MODES})), derivative="none"),
    # (the reference runs inside np.errstate(all="ignore"): compare with NumPy's at the same moment)
    OpSpec("fnp.geterr", lambda: fnp.geterr() == np.geterr(), lambda: True, 0, no_args(st.just({})), derivative="none"),
    OpSpec("fnp.seterrcall", _callback_round_trip(fnp), _callback_round_trip(np), 0, no_args(st.just({})),
           derivative="none"),
    OpSpec("fnp.geterrcall", fnp.geterrcall, np.geterrcall, 0, no_args(st.just({})), derivative="none"),
]
