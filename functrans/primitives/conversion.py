"""Conversions and constants: dtype casts, ``stop_gradient``, and arrays made on the inputs'
device (``full_like``, ``zeros_like``, ``constant_like``, ``iota_like``).

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

from functrans.backend import backend_of
from functrans.core.primitive import Primitive
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
