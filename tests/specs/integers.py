"""Table rows of the bitwise and integer functions (bitwise_*, invert, shifts, gcd, lcm):
drawn as integer-valued floats and converted, so the rows also check that no derivative
passes through them."""
from __future__ import annotations

import numpy as np

import functrans.numpy as fnp

from .opspec import OpSpec, unary
from .strategies import GRID, Domain, broadcast_shapes

_SMALL = Domain(0, 6, kind="grid")


def _ints(fn):
    return lambda *xs: fn(*(fnp.astype(x, np.int64) for x in xs))


def _np_ints(fn):
    return lambda *xs: fn(*(np.asarray(x).astype(np.int64) for x in xs))


_BINARY = ("bitwise_and", "bitwise_or", "bitwise_xor", "gcd", "lcm")

FUNCTIONS: list[OpSpec] = [
    *(OpSpec(f"fnp.{n}", _ints(getattr(fnp, n)), _np_ints(getattr(np, n)), 2, broadcast_shapes(2),
             domain=(GRID, GRID), derivative="zero") for n in _BINARY),
    *(OpSpec(f"fnp.{n}", _ints(getattr(fnp, n)), _np_ints(getattr(np, n)), 2, broadcast_shapes(2),
             domain=(GRID, _SMALL), derivative="zero", aliases=(f"bitwise_{n}",))
      for n in ("left_shift", "right_shift")),
    unary("fnp.invert", _ints(fnp.invert), _np_ints(np.invert), GRID, derivative="zero",
          aliases=("bitwise_not", "bitwise_invert")),
    unary("fnp.invert[bool]", lambda x: fnp.invert(x > 0), lambda x: np.invert(x > 0), GRID, derivative="zero"),
    unary("fnp.bitwise_count", _ints(fnp.bitwise_count), _np_ints(np.bitwise_count), GRID, derivative="zero"),
]
