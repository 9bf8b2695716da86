"""Table rows of the special-function primitives (error and gamma functions, Bessel functions,
xlogy), checked against SciPy."""
from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from functrans import primitives as P

from .opspec import OpSpec, binds, prim_spec
from .strategies import ANY, F64, NONZERO, POSITIVE, UNIT, broadcast_shapes, same_shapes


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
