"""Table rows of the floating-point routines: mantissa and exponent (frexp, ldexp),
fractional and integral parts (modf), neighbours and gaps of representable numbers."""
from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

import functrans.numpy as fnp

from .opspec import OpSpec, unary
from .strategies import NONZERO, Domain, broadcast_shapes

_FRACTIONS = Domain(hi=0.9, kind="away", margin=0.1)  # no integer within a finite-difference step

FUNCTIONS: list[OpSpec] = [
    unary("fnp.frexp", fnp.frexp, np.frexp, NONZERO),
    unary("fnp.ldexp", lambda x, *, e: fnp.ldexp(x, e), lambda x, *, e: np.ldexp(x, e), NONZERO,
          sig=broadcast_shapes(2).flatmap(lambda sp: st.integers(0, 2**16).map(lambda seed: (
              (sp[0][0],), {"e": np.random.default_rng(seed).integers(-3, 4, sp[0][1])})))),
    unary("fnp.modf", fnp.modf, np.modf, _FRACTIONS),
    unary("fnp.modf[shifted]", lambda x: fnp.modf(x - 3.0), lambda x: np.modf(x - 3.0), _FRACTIONS),
    OpSpec("fnp.nextafter", fnp.nextafter, np.nextafter, 2, broadcast_shapes(2), domain=(NONZERO, NONZERO)),
    unary("fnp.spacing", fnp.spacing, np.spacing, NONZERO, derivative="zero"),
]
