"""``opaque_call``: a function of concrete arrays, applied as one primitive.

Some computations are ordinary array code that only makes sense on concrete values and has
no derivative, such as drawing random numbers from a key. ``opaque_call_p.bind(*arrays,
fn=fn)`` lets such a function appear inside staged programs (``jit``, ``make_jaxpr``) and
under ``vmap``: the implementation calls ``fn(*arrays)``; the shape rule runs ``fn`` once on
zero-filled stand-ins of the arguments' shapes and dtypes (or calls ``fn.result_aval`` on
the arguments, for a ``fn`` that would reject such stand-ins); it has no batching rule, so
``vmap`` applies it example by example. ``fn`` must be deterministic, must not depend on the
values for the shape of its result, and has no derivative (the JVP is zero).

Example:
    >>> import numpy as np
    >>> opaque_call_p.bind(np.arange(3.0), fn=np.cumsum)
    array([0., 1., 3.])
"""
from __future__ import annotations

import numpy as np

from functrans._abstract import PY_SCALARS
from functrans.core.primitive import Primitive
from functrans.primitives._define import defzero


def _opaque_shape_rule(*arrays, fn):
    known = getattr(fn, "result_aval", None)  # a function that states its result's shape
    if known is not None:
        return known(*arrays)
    # Zero-filled stand-ins with the arguments' shapes and dtypes, to learn the result's (a
    # Python scalar, weakly typed, stands for itself)
    stand_ins = [a if type(a) in PY_SCALARS else np.zeros(tuple(a.shape), a.dtype)  # host-metadata: probes
                 for a in arrays]
    out = fn(*stand_ins)
    return tuple(out.shape), np.dtype(out.dtype)


opaque_call_p = Primitive("opaque_call")
opaque_call_p.impl = lambda *arrays, fn: fn(*arrays)
opaque_call_p.shape_rule = _opaque_shape_rule
defzero(opaque_call_p)
