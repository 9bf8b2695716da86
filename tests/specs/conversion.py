"""Table rows of conversions and queries: dtype conversion, the operations that pass values
through without a derivative (stop_gradient, opaque calls), and the shape and dtype queries."""
from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

import functrans.numpy as fnp
from functrans import primitives as P

from .opspec import OpSpec, binds, prim_spec, unary
from .strategies import C128, F32, F64, broadcast_shapes, same_shapes, with_params


def _convert_sig():
    return same_shapes(1).flatmap(lambda sp: st.sampled_from([F32, F64, C128, np.int32]).map(
        lambda d: (sp[0], {"new_dtype": np.dtype(d)})))


def _affine(a):
    return a * 2.0 + 1.0


PRIMITIVES: list[OpSpec] = [
    prim_spec("convert_element_type", binds(P.convert_element_type_p),
              lambda x, *, new_dtype: x.astype(new_dtype), 1, _convert_sig()),
    prim_spec("stop_gradient", binds(P.stop_gradient_p), lambda x: x, 1, same_shapes(1), derivative="zero"),
    # opaque_call runs a function of concrete arrays (random draws from a key): no derivative.
    prim_spec("opaque_call", lambda x: P.opaque_call_p.bind(x, fn=_affine), lambda x: 2.0 * x + 1.0,
              1, same_shapes(1), derivative="zero"),
    # to_device_of moves its operand to another array's device: to its own, the identity.
    prim_spec("to_device_of", lambda x: P.to_device_of_p.bind(x, x, x), lambda x: x,
              1, same_shapes(1)),
]

FUNCTIONS: list[OpSpec] = [
    unary("fnp.astype", fnp.astype, lambda x, dtype: x.astype(dtype),
          sig=same_shapes(1).flatmap(lambda sp: st.sampled_from([F32, F64, C128, np.int32]).map(
              lambda d: (sp[0], {"dtype": d})))),
    *(unary(f"fnp.{n}", getattr(fnp, n), getattr(np, n), derivative="none") for n in ("shape", "ndim", "size")),
    OpSpec("fnp.result_type", lambda x, y, *, s: fnp.result_type(x, y, s),
           lambda x, y, *, s: np.result_type(x, y, s), 2,
           with_params(broadcast_shapes(2), {"s": 1.0}), derivative="none"),
]
