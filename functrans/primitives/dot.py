"""``dot_general``: the one contraction primitive behind dot, matmul, tensordot and einsum.

``dimension_numbers = ((lhs_contract, rhs_contract), (lhs_batch, rhs_batch))``. The output's
dimensions are the batch dimensions, then the free dimensions of ``lhs``, then those of
``rhs``, each in their original order. It is bilinear: the transpose for one operand is
another ``dot_general`` of the cotangent with the other operand, followed by a permutation
that puts the dimensions back in the operand's order.

Example:
    >>> import numpy as np
    >>> dot_general(np.ones((2, 3)), np.ones((3, 4)), (((1,), (0,)), ((), ()))).shape
    (2, 4)
"""
from __future__ import annotations

import functools
import math
from threading import get_ident
from typing import Any

import numpy as np

from functrans.backend import HOST_TYPES, array_module_of
from functrans.config import config
from functrans.core.ir import Var, is_linear
from functrans.core.primitive import Primitive
from functrans.core.staging import LinearTrace
from functrans.core.zeros import zero
from functrans.primitives._define import (
    add_tangents,
    convert_to_cotangent_dtype,
    per_example_axis,
    transpose,
)


def _argsort(values):
    """Positions of ``values`` (distinct ints) in increasing order: index work on the host."""
    return sorted(range(len(values)), key=values.__getitem__)


def _free_dims(ndim, contract, batch):
    return tuple(d for d in range(ndim) if d not in contract and d not in batch)


# ``x @ y.T`` in float32 with a few rows in ``x``: OpenBLAS (one thread) runs this layout about
# twice as slowly as the same product as ``(y @ x.T).T`` once ``y`` has a hundred rows or more
# (measured over rows, inner and outer sizes, float32/float64, C and F operands); with one or
# two rows, or more than about 32, the two are level, and in float64 the swap gains nothing.
# The swapped product is copied back to C order: the copy costs a few percent of the product,
# and elementwise work mixing an F-ordered result with C-ordered operands would cost more.
# A ``y`` in F order (a transposed view of a C-ordered weight) makes ``x @ y.T`` the fast
# layout itself: there it beats the swap by 8-20% (4 to 32 rows, (384, 128) float32).
# Up to 128 rows the swap (with the copy) also gains when the inner and outer sizes are both
# 512 or more (best of 60 single calls, float32, C order: (128, 512) @ (512, 512).T 755 -> 722
# us, (64, 512) @ (512, 512).T 438 -> 374 us, (96, 512) @ (784, 512).T 893 -> 826 us,
# (128, 1024) @ (1024, 1024).T 3170 -> 2806 us; level with 256 inner or outer; 1.2-1.4x slower
# with 128 of both; in float64 slower at 128 rows).
# With a short inner size (up to 16: a gradient through a classifier's output layer, d @ W.T
# with ten classes) and a product of 4096 to 65536 entries, a C-ordered copy of ``y.T`` (at
# most 16 rows) and the product of two C-ordered operands beat ``x @ y.T`` on NumPy arrays
# (best of 150 runs of 5 calls: (256, 10) @ (128, 10).T float32 10.5 -> 8.6 us, float64 18.7
# -> 14.9 us; (128, 10) @ (512, 10).T float32 22.0 -> 16.5 us; (256, 4) @ (128, 4).T 0.73x;
# (64, 10) @ (64, 10).T 0.91-0.95x; level with 2048 entries or 262144, or an inner size of 32).
_F32 = np.dtype(np.float32)
_ndarray = np.ndarray

#: The dimension numbers of a matrix product ``x @ y`` (``x``'s last dimension, its second, with
#: ``y``'s first): one object, which ``dot_general`` and ``fnp.matmul`` hand to every such
#: product, so that the rules recognise it by identity.
MATMUL_2D = (((1,), (0,)), ((), ()))


def matmul_transposed_rhs(xp: Any, x: Any, y: Any, out: Any = None) -> Any:
    """``x @ y.T`` for 2-d ``x`` and ``y`` in the layout measured fastest (above); into ``out``
    (C-ordered, the product's shape and dtype) where the product is written by one matmul,
    else a new array. The same bits either way."""
    rows = x.shape[0]
    # (y's layout, read last: only where the sizes ask for it)
    if x.dtype == _F32 and y.dtype == _F32 and (
            4 <= rows <= 32 and y.shape[0] >= 128
            or 32 < rows <= 128 and x.shape[1] >= 512 and y.shape[0] >= 512) \
            and not getattr(getattr(y, "flags", None), "f_contiguous", False):
        return xp.ascontiguousarray(xp.matmul(y, x.T).T)
    if x.shape[1] <= 16 and 4096 <= rows * y.shape[0] <= 65536 and type(y) is np.ndarray \
            and not y.flags.f_contiguous:
        return xp.matmul(x, xp.ascontiguousarray(y.T), out=out)
    return xp.matmul(x, y.T) if out is None else xp.matmul(x, y.T, out=out)


# The unbatched products BLAS does without copying (matrix-matrix, matrix-vector, vector-vector),
# keyed by (x.ndim, y.ndim, x_contract, y_contract); anything else goes through tensordot.
_MATMUL_FAST = {
    (2, 2, (1,), (0,)): lambda xp, x, y: xp.matmul(x, y),
    (2, 2, (1,), (1,)): matmul_transposed_rhs,
    (2, 2, (0,), (0,)): lambda xp, x, y: xp.matmul(x.T, y),
    (2, 2, (0,), (1,)): lambda xp, x, y: xp.matmul(x.T, y.T),
    (2, 1, (1,), (0,)): lambda xp, x, y: xp.matmul(x, y),
    (2, 1, (0,), (0,)): lambda xp, x, y: xp.matmul(x.T, y),
    (1, 2, (0,), (0,)): lambda xp, x, y: xp.matmul(x, y),
    (1, 2, (0,), (1,)): lambda xp, x, y: xp.matmul(y, x),
    (1, 1, (0,), (0,)): lambda xp, x, y: xp.matmul(x, y),
}


# The same 2-d products written into a given C-ordered array ``out`` of the product's shape and
# dtype (jit's kept result memory), keyed by the contracted dimensions of x and y; the same
# bits as the products above.
MATMUL_2D_INTO = {
    ((1,), (0,)): lambda x, y, out: np.matmul(x, y, out=out),  # numpy-only: jit's NumPy plans
    ((0,), (0,)): lambda x, y, out: np.matmul(x.T, y, out=out),  # numpy-only: jit's NumPy plans
    ((0,), (1,)): lambda x, y, out: np.matmul(x.T, y.T, out=out),  # numpy-only: as above
    ((1,), (1,)): lambda x, y, out: matmul_transposed_rhs(np, x, y, out=out),
}


def _dot_general_impl(x, y, *, dimension_numbers):
    if dimension_numbers is MATMUL_2D and type(x) is _ndarray and type(y) is _ndarray \
            and x.ndim == 2 and y.ndim <= 2:  # (a layer's product: _MATMUL_FAST's, directly)
        return np.matmul(x, y)  # numpy-only: NumPy arrays only, by the check above
    (x_contract, y_contract), (x_batch, y_batch) = dimension_numbers
    xp = array_module_of(x, y)
    if not x_batch:
        fast = _MATMUL_FAST.get((x.ndim, y.ndim, x_contract, y_contract))
        if fast is not None:
            return fast(xp, x, y)
        return xp.tensordot(x, y, axes=(x_contract, y_contract))
    # Batched: arrange as (batch, free, contract) @ (batch, contract, free) and use matmul.
    x_free = _free_dims(x.ndim, x_contract, x_batch)
    y_free = _free_dims(y.ndim, y_contract, y_batch)
    batch_shape = tuple(x.shape[d] for d in x_batch)
    x_free_shape = tuple(x.shape[d] for d in x_free)
    y_free_shape = tuple(y.shape[d] for d in y_free)
    k = math.prod(x.shape[d] for d in x_contract)
    m = math.prod(x_free_shape)
    n = math.prod(y_free_shape)
    if not x_contract:  # an outer product per batch entry (per-example gradients of weights):
        # einsum's loop writes it about 2.5x faster than a k=1 matmul or a broadcast multiply
        xt = xp.transpose(x, x_batch + x_free).reshape(batch_shape + (m,))
        yt = xp.transpose(y, y_batch + y_free).reshape(batch_shape + (n,))
        out = xp.einsum("...i,...j->...ij", xt, yt)
        return out.reshape(batch_shape + x_free_shape + y_free_shape)
    xt = xp.transpose(x, x_batch + x_free + x_contract).reshape(batch_shape + (m, k))
    yt = xp.transpose(y, y_batch + y_contract + y_free).reshape(batch_shape + (k, n))
    return xp.matmul(xt, yt).reshape(batch_shape + x_free_shape + y_free_shape)


def _dot_general_shape(x, y, *, dimension_numbers):
    x_dims, y_dims = _output_dims(dimension_numbers, x.ndim, y.ndim)
    x_shape, y_shape = x.shape, y.shape
    shape = tuple(x_shape[d] for d in x_dims) + tuple(y_shape[d] for d in y_dims)
    x_dtype, y_dtype = x.dtype, y.dtype
    return shape, x_dtype if x_dtype is y_dtype else np.result_type(x_dtype, y_dtype)


@functools.lru_cache(maxsize=1024)
def _output_dims(dimension_numbers, x_ndim, y_ndim):
    """Which operand dimensions make up the output, in order: (x's batch and free, y's free)."""
    (x_contract, y_contract), (x_batch, y_batch) = dimension_numbers
    return (tuple(x_batch) + _free_dims(x_ndim, x_contract, x_batch),
            _free_dims(y_ndim, y_contract, y_batch))


def _contract_back(ct, other, other_is_lhs, dimension_numbers):
    """Cotangent of one operand of ``out = dot_general(x, y)``, given ``ct`` (shaped like ``out``)
    and the other operand.

    ``ct``'s dimensions are (batch, x free, y free). Contracting ``other``'s free dimensions
    with their places in ``ct`` leaves (batch, other's contracted dims, this operand's free
    dims) when ``other`` comes first, which for an ordinary matrix product is already this
    operand's layout (so the result is contiguous: no transposed copy for the caller to pay).
    """
    dims, permutation, other_first = _contract_back_plan(
        dimension_numbers, ct.ndim, other.ndim, other_is_lhs)
    product = dot_general_p.bind(*((other, ct) if other_first else (ct, other)), dimension_numbers=dims)
    return transpose(product, permutation)


@functools.lru_cache(maxsize=1024)
def _contract_back_plan(dimension_numbers, ct_ndim, other_ndim, other_is_lhs):
    """The dimension numbers, operand order and final permutation of ``_contract_back`` (pure
    index work, cached: a training loop asks the same question every step).

    Of the two orders of the product, the one whose result is already in the operand's
    layout is taken (no transposed view left for the consumer, an optimizer's update, to
    read with strides): ``other`` first for ``x @ w``'s ``w``, ``ct`` first for the
    ``x @ w.T`` of a PyTorch-style ``(out, in)`` weight. Where neither is, ``other`` first
    for ``y`` and ``ct`` first for ``x``."""
    (x_contract, y_contract), (x_batch, y_batch) = dimension_numbers
    nb = len(x_batch)
    batch = tuple(range(nb))
    if other_is_lhs:  # cotangent of y; other = x
        x_free = _free_dims(other_ndim, x_contract, x_batch)
        ct_x_free = tuple(range(nb, nb + len(x_free)))
        y_ndim = nb + len(y_contract) + (ct_ndim - nb - len(x_free))
        y_free = _free_dims(y_ndim, y_contract, y_batch)
        paired = [y_contract[i] for i in _argsort(x_contract)]
        options = (  # (other first?, dims, the product's dims in y's numbering)
            (True, ((x_free, ct_x_free), (x_batch, batch)), list(y_batch) + paired + list(y_free)),
            (False, ((ct_x_free, x_free), (batch, x_batch)), list(y_batch) + list(y_free) + paired))
    else:  # cotangent of x; other = y
        y_free = _free_dims(other_ndim, y_contract, y_batch)
        ct_y_free = tuple(range(ct_ndim - len(y_free), ct_ndim))
        x_ndim = nb + len(x_contract) + (ct_ndim - nb - len(y_free))
        x_free = _free_dims(x_ndim, x_contract, x_batch)
        paired = [x_contract[i] for i in _argsort(y_contract)]
        options = (
            (False, ((ct_y_free, y_free), (batch, y_batch)), list(x_batch) + list(x_free) + paired),
            (True, ((y_free, ct_y_free), (y_batch, batch)), list(x_batch) + paired + list(x_free)))
    for other_first, dims, positions in options:
        if positions == sorted(positions):
            return dims, tuple(_argsort(positions)), other_first
    other_first, dims, positions = options[0]
    return dims, tuple(_argsort(positions)), other_first


def _dot_general_transpose(ct, x, y, *, dimension_numbers):
    if dimension_numbers is MATMUL_2D and type(ct) is _ndarray and _direct:
        # The backward products of a layer ``x @ w`` on NumPy values of one dtype, as the
        # general path below computes them (its dimension numbers and permutations are the
        # identity here): ``ct @ w.T`` and ``x.T @ ct``.
        dtype = ct.dtype
        if type(y) is _ndarray and type(x) is Var and x._trace.linear and ct.ndim == 2 \
                and y.ndim == 2 and y.dtype is dtype and x.dtype is dtype:  # (x, y: matrices)
            return matmul_transposed_rhs(np, ct, y), zero
        if type(x) is _ndarray and type(y) is Var and y._trace.linear and ct.ndim <= 2 \
                and x.ndim == 2 and x.dtype is dtype and y.dtype is dtype:  # (y: 1 or 2 dims)
            return zero, np.matmul(x.T, ct)  # numpy-only: NumPy arrays only, by the checks above
    if is_linear(x) and is_linear(y):
        raise ValueError("dot_general is not linear in both operands at once")
    if is_linear(x):
        return _in_dtype(_contract_back(ct, y, False, dimension_numbers), x.dtype), zero
    return zero, _in_dtype(_contract_back(ct, x, True, dimension_numbers), y.dtype)


#: Whether the rules may compute and record the products of NumPy values directly (not while
#: debug_nans is on, whose checked implementations must see every operation).
_direct = True


def _set_direct(debug_nans: bool) -> None:
    global _direct
    _direct = not debug_nans


config.watch("debug_nans", _set_direct)


def _in_dtype(ct, dtype):
    """A float32 operand of a product with a float64 one gets a float32 cotangent."""
    return ct if ct.dtype == dtype else convert_to_cotangent_dtype(ct, dtype)


def _dot_general_jvp_args(x, t_x, y, t_y, *, dimension_numbers):
    """The JVP on unpacked pairs (``Primitive.jvp_args``): ``t_x . y + x . t_y``, each product
    recorded under ``grad`` with the output's shape and dtype, which the primal product
    already has (no shape rule)."""
    if type(x) in HOST_TYPES and type(y) in HOST_TYPES:
        out = dot_general_p.impl(x, y, dimension_numbers=dimension_numbers)
    else:
        out = dot_general_p.bind(x, y, dimension_numbers=dimension_numbers)
    if t_x is zero:
        if t_y is zero:
            return out, zero
        return out, _tangent_product(x, t_y, t_y, y, out, dimension_numbers)
    t_out = _tangent_product(t_x, y, t_x, x, out, dimension_numbers)
    if t_y is zero:
        return out, t_out
    return out, add_tangents(t_out, _tangent_product(x, t_y, t_y, y, out, dimension_numbers))


def _tangent_product(a, b, t, primal, out, dimension_numbers):
    """``dot_general(a, b)``, one of whose operands is the tangent ``t`` of ``primal``, and the
    other a value: under ``grad`` (``t`` a variable of the linear recording of ``primal``'s
    shape and dtype, ``out`` a NumPy value of that dtype) the equation is recorded directly,
    its output shaped like ``out``; anything else goes through ``bind``."""
    if type(t) is Var:
        trace = t._trace
        if type(trace) is LinearTrace and trace.direct and trace.thread == get_ident() \
                and (type(out) is _ndarray or type(out) in _NUMPY_SCALARS) \
                and t.dtype is out.dtype and t.shape == primal.shape:
            return trace.record_like(dot_general_p, (a, b), out,
                                     {"dimension_numbers": dimension_numbers})
    return dot_general_p.bind(a, b, dimension_numbers=dimension_numbers)


# The NumPy scalar types (a product of two vectors is one).
_NUMPY_SCALARS = frozenset(np.dtype(code).type for code in np.typecodes["AllFloat"])


def _dot_general_jvp(primals, tangents, *, dimension_numbers):
    (x, y), (t_x, t_y) = primals, tangents
    return _dot_general_jvp_args(x, t_x, y, t_y, dimension_numbers=dimension_numbers)


dot_general_p = Primitive("dot_general")
dot_general_p.impl = _dot_general_impl
dot_general_p.shape_rule = _dot_general_shape
dot_general_p.jvp = _dot_general_jvp
dot_general_p.jvp_args = (_dot_general_jvp, _dot_general_jvp_args, _dot_general_jvp_args)
dot_general_p.transpose = _dot_general_transpose


def _dot_general_batch(values, dims, *, dimension_numbers):
    (x, y), (dx, dy) = values, dims
    (x_contract, y_contract), (x_batch, y_batch) = dimension_numbers
    xc = tuple(per_example_axis(a, dx) for a in x_contract)
    yc = tuple(per_example_axis(a, dy) for a in y_contract)
    xb = tuple(per_example_axis(a, dx) for a in x_batch)
    yb = tuple(per_example_axis(a, dy) for a in y_batch)
    if dx is not None and dy is not None:  # a new batch dimension of the product, first
        return dot_general(x, y, ((xc, yc), ((dx,) + xb, (dy,) + yb))), 0
    out = dot_general(x, y, ((xc, yc), (xb, yb)))
    if dy is None:  # x's batch axis is one of its free dimensions
        x_free = _free_dims(x.ndim, xc, xb)
        return out, len(xb) + x_free.index(dx)
    y_free = _free_dims(y.ndim, yc, yb)
    return out, len(xb) + len(_free_dims(x.ndim, xc, xb)) + y_free.index(dy)


dot_general_p.batch = _dot_general_batch


def dot_general(x, y, dimension_numbers: tuple):
    """The contraction of ``x`` and ``y`` given by ``((lhs_contract, rhs_contract),
    (lhs_batch, rhs_batch))``."""
    try:  # every product of fnp's functions comes here: its canonical form is remembered
        dims = _CANONICAL[dimension_numbers]
    except (KeyError, TypeError):
        dims = _canonical(dimension_numbers)
    return dot_general_p.bind(x, y, dimension_numbers=dims)


_CANONICAL: dict = {MATMUL_2D: MATMUL_2D}


def _canonical(dimension_numbers: Any) -> tuple:
    """``dimension_numbers`` as tuples of Python ints (the parameter equations compare and
    hash), remembered for a tuple key (a few hundred distinct forms at most in a program)."""
    (xc, yc), (xb, yb) = dimension_numbers
    dims = ((tuple(int(d) for d in xc), tuple(int(d) for d in yc)),
            (tuple(int(d) for d in xb), tuple(int(d) for d in yb)))
    if dims == MATMUL_2D:  # (the one object the rules recognise a matrix product by)
        return MATMUL_2D
    if type(dimension_numbers) is tuple and len(_CANONICAL) < 4096:
        try:
            _CANONICAL[dimension_numbers] = dims
        except TypeError:  # lists inside: not a key
            pass
    return dims

