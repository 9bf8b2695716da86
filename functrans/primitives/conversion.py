"""Conversions: dtype casts, stop_gradient, and arrays of zeros made on the inputs' device."""
from __future__ import annotations

import numpy as np

from functrans.backend import NUMPY, backend_of
from functrans.core.primitive import Primitive
from functrans.core.zeros import zero
from functrans.primitives._define import PY_SCALARS, defzero, shape_of


def _is_inexact(dtype) -> bool:
    return np.dtype(dtype).kind in "fc"


# --- convert_element_type ------------------------------------------------------------------
def _convert_impl(x, *, new_dtype):
    if type(x) in PY_SCALARS:  # a NumPy scalar: like a Python scalar, it fits every device
        return np.dtype(new_dtype).type(x)
    return x.astype(new_dtype, copy=False)


convert_element_type_p = Primitive("convert_element_type")
convert_element_type_p.impl = _convert_impl
convert_element_type_p.shape_rule = lambda x, *, new_dtype: (shape_of(x), new_dtype)


def _convert_jvp(primals, tangents, *, new_dtype):
    (x,), (t,) = primals, tangents
    out = convert_element_type_p.bind(x, new_dtype=new_dtype)
    if t is zero or not _is_inexact(new_dtype):
        return out, zero
    return out, convert_element_type(t, new_dtype=new_dtype)


def _convert_transpose(ct, x, *, new_dtype):
    from functrans.primitives._define import convert_to_cotangent_dtype

    return (convert_to_cotangent_dtype(ct, x.dtype),)


convert_element_type_p.jvp = _convert_jvp
convert_element_type_p.transpose = _convert_transpose
convert_element_type_p.batch = lambda values, dims, *, new_dtype: (
    convert_element_type_p.bind(values[0], new_dtype=new_dtype), dims[0])

# --- stop_gradient: the identity, with a zero derivative -----------------------------------------
stop_gradient_p = Primitive("stop_gradient")
stop_gradient_p.impl = lambda x: x
stop_gradient_p.shape_rule = lambda x: (x.shape, x.dtype)
defzero(stop_gradient_p)
stop_gradient_p.batch = lambda values, dims: (stop_gradient_p.bind(values[0]), dims[0])


# --- full_like: a constant array on the device of `x`; x's value does not matter ------------
def _full(xp, shape, fill_value, dtype):
    return xp.full(shape, fill_value, dtype=dtype)


def _full_like_impl(x, *, fill_value, shape, dtype):
    backend = backend_of(x)
    if backend is NUMPY:  # the host has one device: skip make_like's device lookup
        return backend.xp.full(shape, fill_value, dtype=dtype)
    return backend.make_like(x, _full, shape, fill_value, dtype)


full_like_p = Primitive("full_like")
full_like_p.impl = _full_like_impl
full_like_p.shape_rule = lambda x, *, fill_value, shape, dtype: (shape, dtype)
defzero(full_like_p)
# In a linear program it is the zero map (only ever used with fill_value 0 there).
full_like_p.transpose = lambda ct, x, **params: (None,)
# The values of x do not matter, so the result is the same for every example: unbatched.
full_like_p.batch = lambda values, dims, **params: (full_like_p.bind(values[0], **params), None)


# --- constant_like: an array built by `maker(xp, *args)` on the device of `x` -----------------------
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
constant_like_p.batch = lambda values, dims, **params: (constant_like_p.bind(values[0], **params), None)


def constant_like(x, maker, *args):
    """``maker(xp, *args)`` on the device of ``x`` (``maker`` a module-level function)."""
    return constant_like_p.bind(x, maker=maker, args=args)


# --- wrappers -----------------------------------------------------------------------------------
def convert_element_type(x, *, new_dtype):
    new_dtype = np.dtype(new_dtype)
    if type(x) not in PY_SCALARS and x.dtype == new_dtype:
        return x
    return convert_element_type_p.bind(x, new_dtype=new_dtype)


def stop_gradient(x):
    return stop_gradient_p.bind(x)


def full_like(x, fill_value, shape=None, dtype=None):
    shape = x.shape if shape is None else tuple(shape)
    dtype = x.dtype if dtype is None else np.dtype(dtype)
    return full_like_p.bind(x, fill_value=fill_value, shape=shape, dtype=dtype)


def zeros_like(x, dtype=None):
    """Zeros shaped like ``x``, of ``x``'s dtype (or ``dtype``), on ``x``'s device."""
    return full_like(x, 0, dtype=dtype)
