"""More products with NumPy's names: ``kron`` and ``cross``, built from elementwise
products and reshapes."""
from __future__ import annotations

import numpy as np

from functrans.backend import array_module_of
from functrans.numpy._util import any_tracer, normalize_axis, operand
from functrans.primitives import elementwise as _ew
from functrans.primitives import shape as _shape


def _arr(a):
    a = operand(a)
    return np.asarray(a) if isinstance(a, (int, float, complex, bool)) else a  # host-data: a Python scalar


def kron(a, b, /):
    """The Kronecker product: blocks ``a[i, j] * b`` (any number of dimensions).

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.kron(fnp.array([1.0, 2.0]), fnp.array([1.0, 10.0])).tolist()
        [1.0, 10.0, 2.0, 20.0]
    """
    a, b = _arr(a), _arr(b)
    if not any_tracer(a, b):
        return array_module_of(a, b).kron(a, b)
    nd = max(len(a.shape), len(b.shape))
    sa = (1,) * (nd - len(a.shape)) + tuple(a.shape)
    sb = (1,) * (nd - len(b.shape)) + tuple(b.shape)
    a2 = _shape.reshape(a, tuple(d for n in sa for d in (n, 1)))
    b2 = _shape.reshape(b, tuple(d for m in sb for d in (1, m)))
    return _shape.reshape(_ew.mul(a2, b2), tuple(n * m for n, m in zip(sa, sb)))


def _component(v, i, axis):
    starts = [0] * len(v.shape)
    limits = list(v.shape)
    starts[axis], limits[axis] = i, i + 1
    return _shape.squeeze(_shape.slice_(v, tuple(starts), tuple(limits)), (axis,))


def cross(a, b, axisa: int = -1, axisb: int = -1, axisc: int = -1, axis: int | None = None):
    """Cross product of 3-vectors (or the z component for 2-vectors) along the given axes,
    broadcasting the others.

    Example:
        >>> import functrans.numpy as fnp
        >>> fnp.cross(fnp.array([1.0, 0.0, 0.0]), fnp.array([0.0, 1.0, 0.0])).tolist()
        [0.0, 0.0, 1.0]
    """
    a, b = _arr(a), _arr(b)
    if axis is not None:
        axisa = axisb = axisc = axis
    if not any_tracer(a, b):
        return array_module_of(a, b).cross(a, b, axisa, axisb, axisc)
    axisa, axisb = normalize_axis(axisa, len(a.shape)), normalize_axis(axisb, len(b.shape))
    na, nb = a.shape[axisa], b.shape[axisb]
    if na not in (2, 3) or nb not in (2, 3):
        raise ValueError("incompatible dimensions for cross product (dimension must be 2 or 3)")
    ax = [_component(a, i, axisa) for i in range(na)]
    bx = [_component(b, i, axisb) for i in range(nb)]
    zero = 0.0
    a0, a1, a2 = ax[0], ax[1], (ax[2] if na == 3 else zero)
    b0, b1, b2 = bx[0], bx[1], (bx[2] if nb == 3 else zero)
    z = _ew.sub(_ew.mul(a0, b1), _ew.mul(a1, b0))
    if na == 2 and nb == 2:
        return z
    x = _ew.sub(_ew.mul(a1, b2), _ew.mul(a2, b1))
    y = _ew.sub(_ew.mul(a2, b0), _ew.mul(a0, b2))
    from functrans.numpy._manipulation import stack

    parts = np.broadcast_shapes(*(getattr(p, "shape", ()) for p in (x, y, z)))
    x, y, z = (_shape.broadcast_to(p, parts) for p in (x, y, z))
    out = stack([x, y, z], axis=-1)
    return _shape.transpose(out, _move_last_to(len(out.shape), normalize_axis(axisc, len(out.shape))))


def _move_last_to(nd, position):
    order = list(range(nd - 1))
    order.insert(position, nd - 1)
    return tuple(order)
