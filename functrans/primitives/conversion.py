"""Conversions and constants: dtype casts, ``stop_gradient``, arrays made on the inputs'
device (``full_like``, ``zeros_like``, ``constant_like``, ``iota_like``), and the explicit
move of a value to another array's device (``to_device_of``).

``convert_element_type``, ``full_like`` and ``zeros_like`` are defined in ``_define`` (the
registrars are written in them) and re-exported here.

Example:
    >>> import numpy as np
    >>> from functrans.primitives.conversion import constant_like
    >>> def identity(xp, n):
    ...     return xp.eye(n)
    >>> constant_like(np.zeros(2), identity, 2)
    array([[1., 0.],
           [0., 1.]])
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from functrans._abstract import PY_SCALARS, dtype_of, shape_of
from functrans.backend import backend_of, device_put
from functrans.core.primitive import Primitive
from functrans.core.zeros import zero
from functrans.primitives._define import NOT_MAPPED, defzero
from functrans.primitives._define import convert_element_type as convert_element_type
from functrans.primitives._define import convert_element_type_p as convert_element_type_p
from functrans.primitives._define import full_like as full_like
from functrans.primitives._define import full_like_p as full_like_p
from functrans.primitives._define import zeros_like as zeros_like

# --- stop_gradient: the identity, with a zero derivative -----------------------------------------
stop_gradient_p = Primitive("stop_gradient")
stop_gradient_p.impl = lambda x: x
stop_gradient_p.shape_rule = lambda x: (x.shape, x.dtype)
defzero(stop_gradient_p)
stop_gradient_p.batch = lambda values, dims: (stop_gradient_p.bind(values[0]), dims[0])


def stop_gradient(x):
    return stop_gradient_p.bind(x)


# --- constant_like: an array built by `maker(xp, *args)` on the device of `x` --------------------
# `x` is only a witness of the device (pass a primal value, never a tangent); like full_like, the
# result does not depend on x's values: zero derivative, unbatched. Masks and index arrays of
# derivative rules are made with it, so that they live where the arrays they meet live.
def _constant_like_impl(x, *, maker, args):
    return backend_of(x).make_like(x, maker, *args)


def _constant_like_shape(x, *, maker, args):
    out = maker(np, *args)  # abstract evaluation: the same constant, built on the host
    return out.shape, out.dtype


constant_like_p = Primitive("constant_like")
constant_like_p.impl = _constant_like_impl
constant_like_p.shape_rule = _constant_like_shape
defzero(constant_like_p)
constant_like_p.batch = lambda values, dims, **params: (constant_like_p.bind(values[0], **params), NOT_MAPPED)


def constant_like(x, maker: Callable, *args):
    """``maker(xp, *args)`` on the device of ``x`` (``maker`` a module-level function)."""
    return constant_like_p.bind(x, maker=maker, args=args)


def _arange(xp, n):
    return xp.arange(n, dtype=np.intp)


def iota_like(x, n: int):
    """``0, 1, ..., n - 1`` (intp) on the device of ``x``: positions and example numbers.

    Example:
        >>> iota_like(np.zeros(2), 3)
        array([0, 1, 2])
    """
    return constant_like_p.bind(x, maker=_arange, args=(n,))


# --- to_device_of: a value moved to the device of another array ---------------------------------
# `x` on the device of `dest`, by the backend's explicit transfer (x itself where it is there
# already; a host scalar, which mixes with every device, as it is). `dest` and `source` only
# witness devices: `source` stands where x comes from (x's primal), so that the transpose moves
# the cotangent back there. Linear in x; the witnesses have no derivative.
def _to_device_of_impl(x, dest, source):
    if type(x) in PY_SCALARS:
        return x
    target = backend_of(dest)
    device = target.device_of(dest)
    if backend_of(x) is target and target.device_of(x) == device:
        return x
    return device_put(x, device)


def _to_device_of_jvp(primals, tangents):
    x, dest, source = primals
    out = to_device_of_p.bind(x, dest, x)
    t = tangents[0]
    return out, (zero if t is zero else to_device_of_p.bind(t, dest, x))


def _to_device_of_transpose(ct, x, dest, source):
    return (to_device_of_p.bind(ct, source, dest) if ct is not zero else zero, zero, zero)


class _Transfer(Primitive):
    """A primitive whose inputs may be on different devices: it is the explicit move between
    them, so its implementation runs without ``bind``'s check that they share one."""

    __slots__ = ()

    def _impl_on_device(self, args, params):
        return self.impl(*args, **params)


to_device_of_p = _Transfer("to_device_of")
to_device_of_p.impl = _to_device_of_impl
to_device_of_p.shape_rule = lambda x, dest, source: (shape_of(x), dtype_of(x))
to_device_of_p.jvp = _to_device_of_jvp
to_device_of_p.transpose = _to_device_of_transpose
to_device_of_p.batch = lambda values, dims: (to_device_of_p.bind(*values), dims[0])


def to_device_of(x, dest):
    """``x`` moved to the device of array ``dest`` by an explicit transfer (``x`` itself
    where it is there already); differentiable in ``x``, its cotangent moved back.

    Example:
        >>> to_device_of(np.arange(2.0), np.zeros(3))
        array([0., 1.])
    """
    return to_device_of_p.bind(x, dest, x)
