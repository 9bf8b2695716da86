"""Batches of scaled unit vectors, kept symbolic while ``jacfwd``/``jacrev`` push them through a
function, so that the identity basis is neither built nor multiplied by when it need not be.

``jacfwd`` runs its forward pass, and ``jacrev`` its backward pass, on the batch of all unit
vectors of the inputs (or outputs). Built as an identity matrix and pushed through the linear
steps of the function, that batch costs a full matrix product at every ``dot_general`` with a
weight (``W @ I``: n^3 work for an n^2 answer) and a full pass at every elementwise step. Yet
on the way in, the batch has a structure the steps keep: example ``k`` is the unit vector
``e_k`` times a number ``scale[k]`` (a diagonal). A ``ScaledBasis`` is that batch, held as its
scale. ``BasisTrace`` (a ``BatchTrace``) updates the scale where a step keeps the structure:

- elementwise products and quotients by an unbatched value, negation, ``conj``, ``real``,
  dtype conversion, ``reshape``: a new scale (n work instead of n^2);
- a ``dot_general`` that contracts every axis of the basis with an unbatched weight: the
  weight itself, scaled along the contracted axis (n^2 work instead of n^3, no product);
- the sum of two bases of the same block: the sum of the scales.

Any other step receives the batch materialised as an ordinary array (the identity times the
scale, built once per basis) and runs its ordinary batching rule: always right, and only the
steps that keep the structure are cheaper.

The unit vectors of scalars that live on no device (Python and NumPy scalars, with no argument
on a device) have no device either until a step meets them with an array on one:
``PlacelessBasisTrace`` builds them there, as the scalars themselves meet that array.

Example:
    >>> import numpy as np
    >>> from functrans.interpreters.basis import unit_basis, vmap_basis_flat
    >>> A = np.arange(4.0).reshape(2, 2)
    >>> x = np.ones(2)
    >>> outs, dims = vmap_basis_flat(lambda ts: [A @ (ts[0] * 3.0)], unit_basis([x], [x]), "demo")
    >>> outs[0], dims[0]  # row k: A @ (3 e_k), the k-th column of 3 A (no product computed)
    (array([[0., 6.],
           [3., 9.]]), 0)
"""
from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from functrans import errors
from functrans._abstract import PY_SCALARS, SCALARS, shape_of
from functrans.backend import HOST_TYPES, array_module, backend_of
from functrans.core.staging import scalar_kind
from functrans.core.trace import Tracer, check_foreign_tracer, new_trace
from functrans.interpreters.batching import NOT_MAPPED, BatchTrace, BatchTracer, _Abstract
from functrans.primitives import (
    add_p,
    conj_p,
    constant_like_p,
    convert_element_type_p,
    div_p,
    dot_general_p,
    mul_p,
    neg_p,
    real_p,
    reduce_sum_p,
    reshape_p,
    transpose_p,
)
from functrans.primitives._define import broadcast_to, full_like
from functrans.primitives.shape import pad

_mul, _div, _add = mul_p.bind, div_p.bind, add_p.bind


def _eye_block(xp: Any, total: int, n: int, start: int, dtype: Any) -> Any:
    """Rows ``start .. start+n`` of the identity of size ``total``, as ``(total, n)``."""
    return xp.eye(total, n, -start, dtype=dtype)


class ScaledBasis:
    """The batch of ``total`` examples whose example ``start + i`` is ``scale[i]`` times the
    ``i``-th unit vector of ``example_shape`` (row-major), every other example zero: a block of
    an identity matrix, its columns scaled.

    ``scale`` is None (all ones), a Python scalar, or an array (or tracer of an outer
    transformation) of ``dtype`` that broadcasts to ``example_shape``. ``like`` is a value on
    the device the batch lives on (concrete where one is known, else a tracer of an outer
    transformation), to build the identity on when the batch is materialised.
    """

    __slots__ = ("scale", "example_shape", "total", "start", "dtype", "like", "_dense")

    def __init__(self, scale: Any, example_shape: tuple, total: int, start: int, dtype: Any,
                 like: Any):
        self.scale = scale
        self.example_shape = example_shape
        self.total = total
        self.start = start
        self.dtype = np.dtype(dtype)
        self.like = like
        self._dense = None

    @property
    def shape(self) -> tuple:
        return (self.total,) + self.example_shape

    @property
    def size(self) -> int:
        return math.prod(self.example_shape)

    def with_scale(self, scale: Any, dtype: Any = None, example_shape: tuple | None = None) -> ScaledBasis:
        """The same block of the identity with another scale (and dtype, and example shape)."""
        return ScaledBasis(scale, self.example_shape if example_shape is None else example_shape,
                           self.total, self.start, self.dtype if dtype is None else dtype, self.like)

    def same_block(self, other: ScaledBasis) -> bool:
        return (self.total, self.start, self.example_shape, self.dtype) == (
            other.total, other.start, other.example_shape, other.dtype)

    @property
    def placeless(self) -> bool:
        """Whether the batch has no device yet: its witness is a scalar on no device (a
        Python or NumPy scalar, or a jit variable standing for a Python scalar) and its scale
        lives on no device either."""
        like = self.like
        return ((type(like) in SCALARS or scalar_kind(like) is not None)
                and _device_value(self.scale) is None)

    def beside(self, where: Any) -> ScaledBasis:
        """This batch of a placeless scalar, made on the device of ``where`` (a concrete
        array on a device, or a tracer whose value will be one), its scale taken there too."""
        scale = self.scale
        if type(scale) is np.ndarray:
            scale = _moved_beside(scale, where)
        return ScaledBasis(scale, self.example_shape, self.total, self.start, self.dtype, where)

    def dense(self) -> Any:
        """The batch as an array of shape ``(total, *example_shape)`` (built once)."""
        if self._dense is None:
            args = (self.total, self.size, self.start, self.dtype)
            like, scale = self.like, self.scale
            if type(like) in SCALARS and type(scale) not in HOST_TYPES:
                # a placeless scalar's basis scaled by an array on a device: built beside it
                found = _device_value(scale)
                if found is not None:
                    like = found
            if isinstance(like, Tracer):  # made on like's device when the program runs
                eye = constant_like_p.bind(like, maker=_eye_block, args=args)
            else:
                eye = backend_of(like).make_like(like, _eye_block, *args)
                if scale is not None and not isinstance(scale, Tracer):
                    # a fresh array: the scale goes onto its diagonal, no pass over the rest
                    _diagonal(eye, self)[...] = self.flat_scale(array_module(eye))
                    scale = None
            if len(self.example_shape) != 1:
                eye = reshape_p.bind(eye, new_sizes=self.shape)
            self._dense = eye if scale is None else _mul(eye, scale)
        return self._dense

    def flat_scale(self, xp: Any) -> Any:
        """The scale as a number or a flat array of ``size`` entries (concrete scales only)."""
        scale = self.scale
        if scale is None:
            return 1
        if type(scale) in SCALARS:  # (a NumPy scalar too: reshaped, it would be a host array)
            return scale
        if tuple(scale.shape) != self.example_shape:
            scale = xp.broadcast_to(scale, self.example_shape)
        return scale.reshape(-1)


def _diagonal(out: Any, basis: ScaledBasis) -> Any:
    """The view of the entries ``(start + i, i)`` of ``out``, a C-ordered array of
    ``total x size`` entries: those the basis is not zero on (flat indices ``start * n +
    i * (n + 1)``)."""
    n, start = basis.size, basis.start
    return out.reshape(-1)[start * n:start * n + (n - 1) * (n + 1) + 1:n + 1]


def unit_basis(leaves: Sequence, likes: Sequence) -> list[ScaledBasis]:
    """The unit vectors of the flat leaves together (sizes n_i, total N): leaf ``i``'s block of
    the N x N identity, as a batch of N examples shaped like the leaf. ``likes[i]`` is a value
    on leaf ``i``'s device (concrete where one is known).

    Example:
        >>> [b.shape for b in unit_basis([np.ones(2), np.ones((1, 3))], [None, None])]
        [(5, 2), (5, 1, 3)]
    """
    sizes = [math.prod(shape_of(x)) for x in leaves]
    total = sum(sizes)
    out, start = [], 0
    for x, like, n in zip(leaves, likes, sizes):
        out.append(ScaledBasis(None, tuple(shape_of(x)), total, start, x.dtype, like))
        start += n
    return out


class BasisTrace(BatchTrace):
    """A ``BatchTrace`` whose batched values may be ``ScaledBasis``: the steps in ``RULES`` keep
    them symbolic, any other step gets them materialised."""

    __slots__ = ()

    def process_primitive(self, prim: Any, args: Sequence, params: dict) -> Any:
        for arg in args:
            if type(arg) is BatchTracer and arg._trace is self and type(arg.value) is ScaledBasis:
                break
        else:
            return BatchTrace.process_primitive(self, prim, args, params)
        rule = RULES.get(prim)
        if rule is not None:
            values: list = []
            dims: list[int | None] = []
            for arg in args:
                if type(arg) is BatchTracer and arg._trace is self:
                    values.append(arg.value)
                    dims.append(arg.batch_dim)
                else:
                    if isinstance(arg, Tracer):
                        check_foreign_tracer(self, arg)
                    values.append(arg)
                    dims.append(NOT_MAPPED)
            result = rule(values, dims, **params)
            if result is not NotImplemented:
                out, out_dim = result
                return out if out_dim is NOT_MAPPED else BatchTracer(self, out, out_dim)
        args = [BatchTracer(self, arg.value.dense(), 0)
                if type(arg) is BatchTracer and arg._trace is self and type(arg.value) is ScaledBasis
                else arg for arg in args]
        return BatchTrace.process_primitive(self, prim, args, params)


def _device_value(x: Any) -> Any:
    """The value to make a batch beside if ``x`` lives on a device other than the host: its
    concrete value, or ``x`` itself for a tracer whose value is known only when a program
    runs (a jit variable standing for an array); None for host arrays and scalars."""
    if type(x) in HOST_TYPES:
        return None
    if isinstance(x, Tracer):
        if scalar_kind(x) is not None:
            return None
        try:
            x = x.to_concrete()
        except errors.TracerConversionError:
            return x
        if type(x) in HOST_TYPES:
            return None
    if type(x) is ScaledBasis or backend_of(x).platform == "cpu":
        return None
    return x


def _host_constant(xp: Any, value: np.ndarray) -> Any:
    return xp.asarray(value)


def _moved_beside(value: np.ndarray, where: Any) -> Any:
    """The host array ``value`` copied to the device of ``where`` (see ``_device_value``)."""
    if isinstance(where, Tracer):  # made where the tracer's value lives when the program runs
        return constant_like_p.bind(where, maker=_host_constant, args=(value,))
    backend = backend_of(where)
    return backend.put(value, backend.device_of(where))


class PlacelessBasisTrace(BasisTrace):
    """A ``BasisTrace`` over the unit vectors of scalars that live on no device (the function
    closes over the arrays it computes with): a placeless basis, and the host batches made
    from it before it met an array on a device, go onto the device of the first such array a
    step meets, as the scalars themselves meet it (a NumPy scalar meets arrays of every
    device). With no array on a device (NumPy), every step runs as under ``BasisTrace``."""

    __slots__ = ()

    def process_primitive(self, prim: Any, args: Sequence, params: dict) -> Any:
        where = None
        movable = False
        for arg in args:
            value = arg.value if type(arg) is BatchTracer and arg._trace is self else arg
            if type(value) is ScaledBasis:
                if value.placeless:
                    movable = True
                elif where is None:  # a basis scaled by an array on a device is built there
                    where = _device_value(value.scale)
            elif type(value) is np.ndarray:
                movable = movable or value is not arg  # a batch on the host
            elif where is None:
                where = _device_value(value)
        if movable and where is not None:
            args = [self._beside(arg, where) for arg in args]
        return BasisTrace.process_primitive(self, prim, args, params)

    def _beside(self, arg: Any, where: Any) -> Any:
        if type(arg) is not BatchTracer or arg._trace is not self:
            return arg
        value = arg.value
        if type(value) is ScaledBasis and value.placeless:
            return BatchTracer(self, value.beside(where), arg.batch_dim)
        if type(value) is np.ndarray:
            return BatchTracer(self, _moved_beside(value, where), arg.batch_dim)
        return arg


def vmap_basis_flat(fun: Callable[[list], Sequence], basis: Sequence[Any], origin: str,
                    axis_size: int | None = None) -> tuple[list, list]:
    """``vmap_flat`` of ``fun`` over the examples of ``basis`` (one ``ScaledBasis``, or a batch
    as an array with its batch axis first, per input; ``axis_size`` examples, by default the
    ``total`` of the first), keeping the bases symbolic where the steps allow. Returns the
    outputs as arrays and the batch axis of each (``NOT_MAPPED``: the same for every example).

    Example:
        >>> x = np.arange(3.0)
        >>> outs, dims = vmap_basis_flat(lambda ts: [ts[0] * x], unit_basis([x], [x]), "demo")
        >>> outs[0]
        array([[0., 0., 0.],
               [0., 1., 0.],
               [0., 0., 2.]])
    """
    placeless = any(type(b) is ScaledBasis and b.placeless for b in basis)
    with new_trace(PlacelessBasisTrace if placeless else BasisTrace, origin) as trace:
        trace.axis_size = axis_size if axis_size is not None else basis[0].total if basis else 0
        trace.own_axis = True
        tracers = [BatchTracer(trace, b, 0) for b in basis]
        outs: list = []
        out_dims: list[int | None] = []
        for out in fun(tracers):
            if type(out) is BatchTracer and out._trace is trace:
                value = out.value
                outs.append(value.dense() if type(value) is ScaledBasis else value)
                out_dims.append(out.batch_dim)
            else:
                outs.append(out)
                out_dims.append(NOT_MAPPED)
    return outs, out_dims


# -- the steps that keep a basis symbolic -------------------------------------------------------
def _scaled_by(prim: Any, basis: ScaledBasis, value: Any, basis_first: bool) -> Any:
    """``prim`` (an elementwise product or quotient) of the basis and an unbatched value: a new
    scale, when the value does not broadcast the example shape any wider (leading axes of
    length 1 aside: they leave the entries in the same order)."""
    example_shape = basis.example_shape
    if type(value) is np.ndarray and value.shape == example_shape and value.dtype == basis.dtype:
        shape, dtype = example_shape, basis.dtype  # (the common case, without the shape rule)
    else:
        example = _Abstract(example_shape, basis.dtype)
        shape, dtype = prim.shape_rule(example, value) if basis_first else prim.shape_rule(value, example)
    if shape != example_shape:
        lead = len(shape) - len(example_shape)
        if shape[lead:] != example_shape or any(d != 1 for d in shape[:lead]):
            return NotImplemented
    scale = basis.scale
    if scale is None and prim is mul_p:
        scale = value
    else:
        one = 1 if scale is None else scale
        scale = prim.bind(one, value) if basis_first else prim.bind(value, one)
    if type(scale) not in PY_SCALARS and scale.dtype != dtype:
        scale = convert_element_type_p.bind(scale, new_dtype=dtype)
    return basis.with_scale(scale, dtype, tuple(shape)), 0


def _mul_rule(values: list, dims: list) -> Any:
    (x, y), (dx, dy) = values, dims
    if type(x) is ScaledBasis and dy is NOT_MAPPED:
        return _scaled_by(mul_p, x, y, True)
    if type(y) is ScaledBasis and dx is NOT_MAPPED:
        return _scaled_by(mul_p, y, x, False)
    if type(x) is ScaledBasis and type(y) is not ScaledBasis:
        return _times_batch(x, y, dy, True)
    if type(y) is ScaledBasis and type(x) is not ScaledBasis:
        return _times_batch(y, x, dx, False)
    return NotImplemented


def _times_batch(basis: ScaledBasis, other: Any, dim: int, basis_first: bool) -> Any:
    """The basis times a batch of concrete arrays of the example shape: example ``k`` keeps
    only its entry ``k``, so the product is the basis scaled by the diagonal of the batch."""
    scale = basis.scale
    if isinstance(other, Tracer) or isinstance(scale, Tracer):
        return NotImplemented
    shape = other.shape
    if shape[:dim] + shape[dim + 1:] != basis.example_shape:
        return NotImplemented
    xp = array_module(other)
    rows = xp.moveaxis(other, dim, 0).reshape(basis.total, basis.size)
    diagonal = xp.diagonal(rows, -basis.start)[:basis.size].reshape(basis.example_shape)
    dtype = basis.dtype if basis.dtype == other.dtype else np.result_type(basis.dtype, other.dtype)
    if scale is not None:
        diagonal = scale * diagonal if basis_first else diagonal * scale
    if diagonal.dtype != dtype:
        diagonal = diagonal.astype(dtype)
    return basis.with_scale(diagonal, dtype), 0


def _div_rule(values: list, dims: list) -> Any:
    (x, y), (_, dy) = values, dims
    if type(x) is ScaledBasis and dy is NOT_MAPPED:
        return _scaled_by(div_p, x, y, True)
    return NotImplemented


def _neg_rule(values: list, dims: list) -> Any:
    (b,) = values
    return b.with_scale(-1 if b.scale is None else neg_p.bind(b.scale)), 0


def _conj_rule(values: list, dims: list) -> Any:
    (b,) = values
    scale = b.scale
    if scale is not None:
        scale = scale.conjugate() if type(scale) in PY_SCALARS else conj_p.bind(scale)
    return b.with_scale(scale), 0


def _real_rule(values: list, dims: list) -> Any:
    (b,) = values
    scale = b.scale
    if scale is not None:
        scale = scale.real if type(scale) in PY_SCALARS else real_p.bind(scale)
    return b.with_scale(scale, np.finfo(b.dtype).dtype), 0  # (a basis is float or complex)


def _convert_rule(values: list, dims: list, *, new_dtype: Any) -> Any:
    (b,) = values
    scale = b.scale
    if type(scale) in PY_SCALARS:
        if isinstance(scale, complex) and np.dtype(new_dtype).kind != "c":
            return NotImplemented
    elif scale is not None:
        scale = convert_element_type_p.bind(scale, new_dtype=new_dtype)
    return b.with_scale(scale, new_dtype), 0


def _add_rule(values: list, dims: list) -> Any:
    x, y = values
    if type(x) is ScaledBasis and type(y) is ScaledBasis:
        if x.same_block(y):
            return x.with_scale(_add(1 if x.scale is None else x.scale,
                                     1 if y.scale is None else y.scale)), 0
        return NotImplemented
    basis, other, dim = (x, y, dims[1]) if type(x) is ScaledBasis else (y, x, dims[0])
    return _plus_diagonal(basis, other, dim)


def _plus_diagonal(basis: ScaledBasis, other: Any, dim: int | None) -> Any:
    """A batch of arrays plus the basis, for concrete arrays: a copy of the batch with the
    scale added along its diagonal (one pass, instead of building the identity, scaling it
    and adding it). Tracers of outer transformations take the general path."""
    scale = basis.scale
    if dim is NOT_MAPPED or isinstance(other, Tracer) or isinstance(scale, Tracer):
        return NotImplemented
    shape = other.shape
    if other.dtype != basis.dtype or shape[:dim] + shape[dim + 1:] != basis.example_shape:
        return NotImplemented
    xp = array_module(other)
    out = (other if dim == 0 else xp.moveaxis(other, dim, 0)).copy()  # C order: a fresh array
    diagonal = _diagonal(out, basis)
    diagonal += basis.flat_scale(xp)
    return out, 0


def _reshape_rule(values: list, dims: list, *, new_sizes: Any) -> Any:
    (b,) = values
    scale = b.scale
    if type(scale) not in SCALARS and scale is not None:
        if tuple(scale.shape) != b.example_shape:
            return NotImplemented
        scale = reshape_p.bind(scale, new_sizes=new_sizes)
    return b.with_scale(scale, example_shape=tuple(new_sizes)), 0


def _transpose_rule(values: list, dims: list, *, permutation: Any) -> Any:
    (b,) = values
    if tuple(permutation) != tuple(range(len(permutation))):
        return NotImplemented
    return b, 0


def _reduce_sum_rule(values: list, dims: list, *, axes: Any) -> Any:
    """The sum over every axis of example ``k`` (``scale[k]`` times a unit vector) is
    ``scale[k]``: the batch is the scale, flattened."""
    (b,) = values
    if sorted(axes) != list(range(len(b.example_shape))):
        return NotImplemented
    if not b.example_shape:  # the sum of a scalar example over no axis: the example itself
        return b, 0
    n, scale = b.size, b.scale
    if scale is None or type(scale) in SCALARS:
        out = full_like(b.like, 1 if scale is None else scale, shape=(n,), dtype=b.dtype)
    else:
        out = reshape_p.bind(broadcast_to(scale, b.example_shape), new_sizes=(n,))
    return _in_block(out, 0, b), 0


def _in_block(out: Any, dim: int, basis: ScaledBasis) -> Any:
    """``out``, the examples of the basis's block along axis ``dim``, with the zero examples
    of the other blocks around them."""
    n = basis.size
    if n == basis.total:
        return out
    config = [(0, 0, 0)] * len(out.shape)
    config[dim] = (basis.start, basis.total - basis.start - n, 0)
    return pad(out, 0, config)


@functools.lru_cache(maxsize=256)
def _weight_order(basis_axes: tuple, weight_axes: tuple, weight_ndim: int) -> tuple | None:
    """The weight's axes in the order of the basis axes they meet, then its free axes (None:
    already in that order)."""
    paired = tuple(weight_axes[basis_axes.index(a)] for a in range(len(basis_axes)))
    order = paired + tuple(a for a in range(weight_ndim) if a not in weight_axes)
    return None if order == tuple(range(weight_ndim)) else order


def _dot_general_rule(values: list, dims: list, *, dimension_numbers: Any) -> Any:
    """A weight contracted with every axis of the basis: example ``k`` (unit vector at index
    ``j``, scaled by ``s_j``) gives ``s_j`` times the weight's slice at ``j``, so the batch is
    the weight itself, its contracted axes being the example index."""
    (x, y), (dx, dy) = values, dims
    (x_contract, y_contract), (x_batch, _) = dimension_numbers
    if x_batch:
        return NotImplemented
    if type(x) is ScaledBasis and dy is NOT_MAPPED:
        basis, weight, basis_axes, weight_axes = x, y, x_contract, y_contract
    elif type(y) is ScaledBasis and dx is NOT_MAPPED:
        basis, weight, basis_axes, weight_axes = y, x, y_contract, x_contract
    else:
        return NotImplemented
    rank = len(basis.example_shape)
    if len(basis_axes) != rank:
        return NotImplemented  # the basis keeps free axes: the batch is not the weight
    dtype = basis.dtype if basis.dtype == weight.dtype else np.result_type(basis.dtype, weight.dtype)
    n = basis.size
    # the example index first (a view for NumPy), so that the elementwise steps after it
    # need not move the batch axis each time
    order = _weight_order(tuple(basis_axes), tuple(weight_axes), len(weight.shape))
    if order is not None:
        weight = transpose_p.bind(weight, permutation=order)
    out, dim = weight, 0
    if rank != 1:
        out = reshape_p.bind(weight, new_sizes=(n,) + tuple(weight.shape[rank:]))
    scale = basis.scale
    if scale is not None:
        if type(scale) not in SCALARS:
            scale = broadcast_to(scale, basis.example_shape)
            lined_up = [1] * len(out.shape)
            lined_up[dim] = n
            scale = reshape_p.bind(scale, new_sizes=tuple(lined_up))
        out = _mul(out, scale)
    if out.dtype != dtype:
        out = convert_element_type_p.bind(out, new_dtype=dtype)
    return _in_block(out, dim, basis), dim


#: The primitives that keep a ``ScaledBasis`` symbolic, with rules in the form of batching
#: rules (``values``, ``dims``, params) where a basis value comes with dimension 0; a rule may
#: return ``NotImplemented`` for arguments it does not cover.
RULES: dict = {
    mul_p: _mul_rule,
    div_p: _div_rule,
    neg_p: _neg_rule,
    conj_p: _conj_rule,
    real_p: _real_rule,
    convert_element_type_p: _convert_rule,
    add_p: _add_rule,
    reshape_p: _reshape_rule,
    transpose_p: _transpose_rule,
    dot_general_p: _dot_general_rule,
    reduce_sum_p: _reduce_sum_rule,
}
