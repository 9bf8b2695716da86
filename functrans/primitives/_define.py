"""How a primitive is defined: the registrars, the batch-rule helpers, and the eight primitives
that both are written in.

Rules call other primitives when they run, so primitives may use each other freely; but a
module has to import what its rules call. The registrars need ``add`` (to sum the tangent
contributions of several inputs), ``zeros_like`` (a linear primitive's zero tangents),
``broadcast_to`` and ``convert_element_type`` (a passed-through tangent takes the output's
shape and dtype), and ``reduce_sum``, ``reshape`` and ``real`` (a cotangent summed back to an
input's shape and dtype). The batch-rule helpers move and broadcast batch axes with
``transpose``, ``reshape`` and ``broadcast_in_dim``. Those eight primitives are themselves
made with the registrars and batched with the helpers, so the knot is one module: this one.
Every family module imports it, and it imports none of them; each family re-exports the
members it has here (``shape.reshape``, ``elementwise.add``, ...).

The registrars, for the common shapes of rules:

- ``elementwise(name, impl)``: a primitive with NumPy broadcasting and a dtype rule read off
  the implementation itself (cached per input dtypes), batched by ``defbatch_elementwise``;
  ``unary_ufunc`` and ``binary_ufunc`` make one from a ufunc of the array module;
- ``reduction_primitive(name, impl)``: a reduction over static ``axes``, with its shape and
  batching rules;
- ``defjvp(prim, *rules)``: one rule per input, ``rule(t, *primals, **params)`` giving that
  input's contribution to the output tangent (``None``: the output does not depend on it);
- ``defjvp_with_output(prim, rule)``: a unary rule that may use the primal output;
- ``deflinear(prim, transpose)``: the JVP of a linear primitive is the primitive itself;
- ``defzero(prim)``: a primitive whose derivative is zero everywhere;
- ``unbroadcast(ct, like)``: sum a cotangent back to the shape (and dtype) of an input.

The batch-rule helpers (a rule receives ``values`` and ``dims``, the position of each value's
batch axis or ``NOT_MAPPED``): ``per_example_axis``, ``batch_size``, ``move_axis``,
``to_front``, ``bdim_at_front``, ``broadcast_batched``. They bind primitives, so a rule works
on arrays and on tracers of outer transformations alike, and stays differentiable.

Example:
    >>> import numpy as np
    >>> from functrans.primitives._define import bdim_at_front, to_front
    >>> to_front(np.zeros((2, 3, 4)), 2).shape
    (4, 2, 3)
    >>> bdim_at_front(np.ones(3), None, 5).shape
    (5, 3)
"""
from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from threading import get_ident
from typing import Any

import numpy as np

from functrans._abstract import PY_SCALARS, dtype_of, shape_of
from functrans.backend import HOST_TYPES, NUMPY, array_module, array_module_of, backend_of
from functrans.core.ir import Var, is_linear
from functrans.core.primitive import Primitive
from functrans.core.staging import LinearTrace, probe_with_scalars
from functrans.core.zeros import zero
from functrans.primitives._shapes import (
    broadcast_pair,
    broadcast_shapes,
    kept_dims,
    remembered_reduced_shape,
    sum_dtype,
    summed_axes,
)
from functrans.primitives._shapes import reduced_shape as reduced_shape  # (the families' import)

# -- shapes and dtypes -------------------------------------------------------------------------

#: The inexact dtypes (real and complex floats).
FLOAT_DTYPES = frozenset(np.dtype(t) for t in (np.float16, np.float32, np.float64, np.complex64, np.complex128))
_WEAK_REAL = frozenset((int, float, bool))
_SAMPLE = {bool: True, int: 1, float: 1.0, complex: 1j}
# The dtype of each numeric NumPy scalar type (one dtype per type, unlike strings and dates),
# read without asking the scalar.
_NUMPY_SCALAR_DTYPES = {np.dtype(code).type: np.dtype(code)
                        for code in "?" + np.typecodes["AllInteger"] + np.typecodes["AllFloat"]}
# Inputs a NumPy ufunc takes directly, without asking the backend for an array module.
_NUMPY_TYPES = frozenset((np.ndarray, np.float64, np.float32, float, int))


def _dtype_key(a):
    kind = type(a)
    return kind if kind in PY_SCALARS else a.dtype


def _sample(a):
    kind = type(a)
    return _SAMPLE[kind] if kind in PY_SCALARS else np.ones((), a.dtype)  # host-metadata: dtype probe


# -- batch-rule helpers --------------------------------------------------------------------------

#: The batch dimension of an argument that is the same for every example.
NOT_MAPPED = None


def per_example_axis(axis: int, dim: int | None) -> int:
    """Where a per-example axis is in the batched value whose batch axis is ``dim``.

    Example:
        >>> per_example_axis(1, 0), per_example_axis(1, 2), per_example_axis(1, None)
        (2, 1, 1)
    """
    return axis if dim is NOT_MAPPED or axis < dim else axis + 1


def batch_size(values: Sequence, dims: Sequence) -> int:
    """The number of examples: the length of the batch axis of the first batched value.

    Example:
        >>> batch_size([np.ones(3), np.ones((3, 5))], [None, 1])
        5
    """
    for v, d in zip(values, dims):
        if d is not NOT_MAPPED:
            return v.shape[d]
    raise ValueError("no batched argument")


def move_axis(x, source: int, destination: int):
    """``x`` with its axis ``source`` moved to ``destination`` (a ``transpose``).

    Example:
        >>> move_axis(np.zeros((2, 3, 4)), 0, 2).shape
        (3, 4, 2)
    """
    if source == destination:
        return x
    perm = [i for i in range(len(x.shape)) if i != source]
    perm.insert(destination, source)
    return transpose(x, perm)


def to_front(x, dim: int):
    """``x`` with its batch axis ``dim`` moved to the front.

    Example:
        >>> to_front(np.zeros((2, 3)), 1).shape
        (3, 2)
    """
    return x if dim == 0 else move_axis(x, dim, 0)


def bdim_at_front(x, dim: int | None, size: int):
    """``x`` with a batch axis of ``size`` at the front, broadcasting it if it has none.

    Example:
        >>> bdim_at_front(2.0, None, 3).shape
        (3,)
    """
    if dim is NOT_MAPPED:
        shape = shape_of(x)
        return broadcast_in_dim(x, (size,) + tuple(shape), range(1, len(shape) + 1))
    return to_front(x, dim)


def broadcast_batched(values: Sequence, dims: Sequence) -> tuple[list, int]:
    """Elementwise operands with NumPy broadcasting, batched ones moved to axis 0 and given
    as many dimensions as the broadcast result has (so the batch axes line up).

    Returns the new operands and the output batch dimension.

    Example:
        >>> operands, dim = broadcast_batched([np.ones((3, 2)), np.ones(2)], [1, None])
        >>> [o.shape for o in operands], dim
        ([(2, 3), (2,)], 0)
    """
    ndims = [len(shape_of(v)) - (d is not NOT_MAPPED) for v, d in zip(values, dims)]
    rank = max(ndims)
    first = None
    uniform = True
    for d, n in zip(dims, ndims):
        if d is NOT_MAPPED:
            continue
        if first is None:
            first = d
        if d != first or n != rank:
            uniform = False
    if uniform:
        # Every batched operand has the full rank and its batch axis at the same place, and
        # unbatched ones broadcast against trailing axes: only safe when that place is 0 or
        # the unbatched operands do not reach it.
        safe = first == 0 or all(
            d is not NOT_MAPPED or n <= rank - first for d, n in zip(dims, ndims))
        if safe:
            return list(values), first
    out = []
    for v, d, n in zip(values, dims, ndims):
        if d is NOT_MAPPED:
            out.append(v)
            continue
        v = to_front(v, d)
        if n < rank:
            shape = v.shape
            v = reshape(v, (shape[0],) + (1,) * (rank - n) + tuple(shape[1:]))
        out.append(v)
    return out, 0


# -- registrars ----------------------------------------------------------------------------------


def elementwise(name: str, impl: Callable, preserves_float: bool = True) -> Primitive:
    """A primitive applied element by element, with NumPy broadcasting between its inputs.

    Its dtype rule is read off the implementation itself, applied once to one-element
    samples of each combination of input dtypes (and remembered), so it is NumPy's own.
    ``preserves_float``: inputs of one float (or complex) dtype, or that dtype with Python
    int/float scalars, give that dtype (a shortcut for the common case; false for
    comparisons and the like). The batching rule is ``defbatch_elementwise``'s.

    Example:
        >>> cube_p = elementwise("cube", lambda x: x ** 3)
        >>> cube_p.bind(np.float32(2.0)), cube_p.shape_rule(np.ones((2, 1)), np.ones(3))
        (np.float32(8.0), ((2, 3), dtype('float64')))
    """
    prim = Primitive(name)
    prim.impl = impl
    dtypes: dict = {}

    def dtype_rule(args, params):
        key = tuple(_dtype_key(a) for a in args)
        dtype = dtypes.get(key)
        if dtype is None:
            with np.errstate(all="ignore"):
                dtype = np.result_type(impl(*(_sample(a) for a in args), **params))
            dtypes[key] = dtype
        return dtype

    def shape_rule(*args, **params):
        if len(args) == 2:
            x, y = args
            tx, ty = type(x), type(y)
            if tx in PY_SCALARS:
                if ty in PY_SCALARS:
                    return (), dtype_rule(args, params)
                shape, dx, dy = y.shape, tx, y.dtype
            else:
                dx = _NUMPY_SCALAR_DTYPES.get(tx)  # (a NumPy scalar's .dtype costs more)
                if dx is None:
                    shape, dx = x.shape, x.dtype
                else:
                    shape = ()
                if ty in PY_SCALARS:
                    dy = ty
                else:
                    dy = _NUMPY_SCALAR_DTYPES.get(ty)
                    if dy is None:
                        dy = y.dtype
                        if y.shape != shape:
                            shape = broadcast_pair(shape, y.shape)
            if preserves_float and (dx is dy or ty in _WEAK_REAL) and dx in FLOAT_DTYPES:
                return shape, dx
            dtype = dtypes.get((dx, dy))
            return shape, dtype if dtype is not None else dtype_rule(args, params)
        if len(args) == 1:
            (x,) = args
            tx = type(x)
            if tx in PY_SCALARS:
                return (), dtype_rule(args, params)
            dx = _NUMPY_SCALAR_DTYPES.get(tx)
            if dx is None:
                shape, dx = x.shape, x.dtype
            else:
                shape = ()
            if preserves_float and dx in FLOAT_DTYPES:
                return shape, dx
            dtype = dtypes.get((dx,))
            return shape, dtype if dtype is not None else dtype_rule(args, params)
        shapes = [a.shape for a in args if type(a) not in PY_SCALARS]
        return broadcast_shapes(*shapes) if shapes else (), dtype_rule(args, params)

    prim.shape_rule = shape_rule
    defbatch_elementwise(prim)
    probe_with_scalars(prim)  # its rule and implementation take Python scalars (jit's scalar inputs)
    return prim


def unary_ufunc(name: str, ufunc_name: str, preserves_float: bool = True) -> Primitive:
    """An ``elementwise`` primitive computed by the ufunc ``ufunc_name`` of the input's array
    module (NumPy's, called directly for NumPy inputs: the cheapest call).

    Example:
        >>> my_sin_p = unary_ufunc("my_sin", "sin")
        >>> float(my_sin_p.bind(0.0))
        0.0
    """
    numpy_ufunc = getattr(np, ufunc_name)

    def impl(x):
        if type(x) in _NUMPY_TYPES:
            return numpy_ufunc(x)
        return getattr(array_module(x), ufunc_name)(x)

    impl.__name__ = f"_{name}_impl"
    return elementwise(name, impl, preserves_float)


def binary_ufunc(name: str, ufunc_name: str, preserves_float: bool = True) -> Primitive:
    """An ``elementwise`` primitive computed by the two-argument ufunc ``ufunc_name`` of the
    inputs' array module.

    Example:
        >>> my_hypot_p = binary_ufunc("my_hypot", "hypot")
        >>> float(my_hypot_p.bind(3.0, 4.0))
        5.0
    """
    def impl(x, y):
        return getattr(array_module_of(x, y), ufunc_name)(x, y)

    impl.__name__ = f"_{name}_impl"
    return elementwise(name, impl, preserves_float)


def defbatch_elementwise(prim: Primitive) -> None:
    """The batching rule (for ``vmap``) of an elementwise primitive with NumPy broadcasting:
    batched operands get their batch axes lined up, unbatched ones broadcast as they are.

    Example:
        >>> twice_p = Primitive("twice")
        >>> twice_p.impl = lambda x: 2 * x
        >>> defbatch_elementwise(twice_p)
        >>> twice_p.batch([np.ones((2, 3))], [1])[1]
        1
    """
    bind = prim.bind

    def batch(values, dims, **params):
        if len(values) == 1:
            return bind(values[0], **params), dims[0]
        if len(values) == 2:  # the common cases, which need no moving of axes
            (x, y), (dx, dy) = values, dims
            if dx == 0 and dy is None and (type(y) in PY_SCALARS or len(y.shape) < len(x.shape)):
                return bind(x, y, **params), 0
            if dy == 0 and dx is None and (type(x) in PY_SCALARS or len(x.shape) < len(y.shape)):
                return bind(x, y, **params), 0
            if dx == dy and len(x.shape) == len(y.shape):
                return bind(x, y, **params), dx
        operands, out_dim = broadcast_batched(values, dims)
        return bind(*operands, **params), out_dim

    prim.batch = batch


def reduction_primitive(name: str, impl: Callable,
                        dtype_rule: Callable[[np.dtype], np.dtype] = lambda dtype: dtype) -> Primitive:
    """A reduction over the static parameter ``axes``: its shape rule drops those axes (the
    dtype is ``dtype_rule`` of the input's), and its batching rule reduces the same axes of
    every example.

    Example:
        >>> my_max_p = reduction_primitive("my_max", lambda x, *, axes: np.max(x, axis=axes))
        >>> my_max_p.shape_rule(np.zeros((2, 3)), axes=(1,))
        ((2,), dtype('float64'))
    """
    prim = Primitive(name)
    prim.impl = impl

    prim.shape_rule = lambda x, *, axes: (remembered_reduced_shape(x.shape, axes), dtype_rule(x.dtype))
    bind = prim.bind

    def batch(values, dims, *, axes):
        (x,), (d,) = values, dims
        moved = tuple(per_example_axis(a, d) for a in axes)
        return bind(x, axes=moved), d - sum(1 for a in moved if a < d)

    prim.batch = batch
    return prim


def defjvp(prim: Primitive, *rules: Callable | None, broadcast: bool = False) -> None:
    """Per-input JVP rules: ``rule(t, *primals, **params)`` is input ``i``'s contribution to
    the output tangent (``None``: the output does not depend on that input). With
    ``broadcast``, the tangent is broadcast to the output's shape and converted to its dtype
    (for elementwise primitives whose rule passes an input's tangent through unchanged).

    Example:
        >>> import functrans as ft
        >>> cube_p = elementwise("cube", lambda x: x ** 3)
        >>> defjvp(cube_p, lambda t, x: t * 3 * x ** 2)
        >>> float(ft.grad(cube_p.bind)(2.0))
        12.0
    """
    bind = prim.bind
    if len(rules) == 1:
        (rule,) = rules

        def jvp_args(x, t, **params):
            if params:
                out = prim.impl(x, **params) if type(x) in HOST_TYPES else bind(x, **params)
                return out, rule(t, x, **params)
            return (prim.impl(x) if type(x) in HOST_TYPES else bind(x)), rule(t, x)

        def jvp(primals, tangents, **params):
            return jvp_args(primals[0], tangents[0], **params)

        prim.jvp_args = (jvp, jvp_args)

    elif len(rules) == 2:
        rule_x, rule_y = rules

        def jvp_args(x, t_x, y, t_y):
            out = prim.impl(x, y) if type(x) in HOST_TYPES and type(y) in HOST_TYPES else bind(x, y)
            if t_y is zero:
                if rule_x is None or t_x is zero:
                    return out, zero
                t_out = rule_x(t_x, x, y)
                if broadcast and type(y) not in _WEAK_REAL:  # (a Python int or float keeps
                    t_out = _like_output(t_out, out)         # x's shape and dtype)
                return out, t_out
            if t_x is zero:
                if rule_y is None:
                    return out, zero
                t_out = rule_y(t_y, x, y)
                if broadcast and type(x) not in _WEAK_REAL:
                    t_out = _like_output(t_out, out)
                return out, t_out
            t_out = _add_contributions(None if rule_x is None else rule_x(t_x, x, y),
                                       None if rule_y is None else rule_y(t_y, x, y))
            return out, (_like_output(t_out, out) if broadcast else t_out)

        def jvp_params(x, t_x, y, t_y, **params):
            out = (prim.impl(x, y, **params) if type(x) in HOST_TYPES and type(y) in HOST_TYPES
                   else bind(x, y, **params))
            if t_y is zero:
                t_out = zero if rule_x is None or t_x is zero else rule_x(t_x, x, y, **params)
            elif t_x is zero:
                t_out = zero if rule_y is None else rule_y(t_y, x, y, **params)
            else:
                t_out = _add_contributions(
                    None if rule_x is None else rule_x(t_x, x, y, **params),
                    None if rule_y is None else rule_y(t_y, x, y, **params))
            return out, (_like_output(t_out, out) if broadcast else t_out)

        def jvp(primals, tangents, **params):
            x, y = primals
            t_x, t_y = tangents
            if not params:
                return jvp_args(x, t_x, y, t_y)
            return jvp_params(x, t_x, y, t_y, **params)

        prim.jvp_args = (jvp, jvp_args, jvp_params)

    else:

        def jvp(primals, tangents, **params):
            out = bind(*primals, **params)
            t_out = zero
            for rule, t in zip(rules, tangents):
                if t is zero or rule is None:
                    continue
                contribution = rule(t, *primals, **params)  # may be zero (x ** 0 in x)
                if t_out is zero:
                    t_out = contribution
                elif contribution is not zero:
                    t_out = add(t_out, contribution)
            return out, (_like_output(t_out, out) if broadcast else t_out)

    prim.jvp = jvp


def _add_contributions(a, b):
    """The sum of two inputs' contributions to an output tangent (``None``: no rule, or
    ``zero``: the rule gave none)."""
    if a is None or a is zero:
        return zero if b is None else b
    if b is None or b is zero:
        return a
    return add_tangents(a, b)


def add_tangents(a, b):
    """``add(a, b)`` for two tangents: under ``grad``, two variables of one linear recording of
    one shape and dtype are summed by recording the equation directly (no ``bind``, no shape
    rule), as ``scale`` records products; anything else is ``add``.

    Example:
        >>> import functrans as ft
        >>> float(ft.grad(lambda x: add_tangents(x, x))(1.0))
        2.0
    """
    if type(a) is Var and type(b) is Var:
        trace = a._trace
        if type(trace) is LinearTrace and b._trace is trace and a.dtype is b.dtype \
                and a.shape == b.shape and trace.thread == get_ident():
            return trace.record_like(add_p, (a, b), a)
    elif type(a) in HOST_TYPES and type(b) in HOST_TYPES:  # forward mode on NumPy values
        return add_p.impl(a, b)
    return add(a, b)


def _like_output(t, out):
    """A tangent passed through from an input, broadcast to the output's shape and converted
    to its dtype (x32 + c64: the passed-through tangent widens too)."""
    if t is zero:
        return t
    if type(out) in PY_SCALARS:  # (computed from a Python scalar being differentiated alone)
        out = np.asarray(out)  # host-metadata: its shape and default dtype
    if t.shape != out.shape:
        t = broadcast_to(t, out.shape)
    t_dtype, out_dtype = t.dtype, out.dtype
    if t_dtype is not out_dtype and t_dtype != out_dtype:
        t = convert_element_type(t, new_dtype=out_dtype)
    return t


def defjvp_with_output(prim: Primitive, rule: Callable) -> None:
    """A unary JVP rule ``rule(t, out, x, **params)`` that reuses the primal output.

    Example:
        >>> import functrans as ft
        >>> my_exp_p = elementwise("my_exp", np.exp)
        >>> defjvp_with_output(my_exp_p, lambda t, out, x: t * out)
        >>> float(ft.grad(my_exp_p.bind)(0.0))
        1.0
    """
    bind = prim.bind

    def jvp_args(x, t, **params):
        if params:
            out = prim.impl(x, **params) if type(x) in HOST_TYPES else bind(x, **params)
            return out, rule(t, out, x, **params)
        out = prim.impl(x) if type(x) in HOST_TYPES else bind(x)
        return out, rule(t, out, x)

    def jvp(primals, tangents, **params):
        return jvp_args(primals[0], tangents[0], **params)

    prim.jvp = jvp
    prim.jvp_args = (jvp, jvp_args)


def deflinear(prim: Primitive, transpose: Callable) -> None:
    """The primitive is linear in all its array inputs: its JVP applies it to the tangents
    (zero tangents instantiated), and ``transpose(ct, *args, **params)`` is its adjoint.

    Example:
        >>> import functrans as ft
        >>> double_p = elementwise("double", lambda x: 2 * x)
        >>> deflinear(double_p, lambda ct, x: (double_p.bind(ct),))
        >>> float(ft.grad(double_p.bind)(1.0))
        2.0
    """
    bind = prim.bind

    def jvp(primals, tangents, **params):
        if len(primals) == 1:
            (t,) = tangents
            return bind(primals[0], **params), (zero if t is zero else bind(t, **params))
        out = bind(*primals, **params)
        if all(t is zero for t in tangents):
            return out, zero
        ts = [zeros_like(p) if t is zero else t for p, t in zip(primals, tangents)]
        return out, bind(*ts, **params)

    def jvp_args(x, t, y=_NO_INPUT, t_y=_NO_INPUT, **params):
        # forward mode passes one (primal, tangent) pair with the parameters, or two pairs
        # without them: a primitive linear in any number of inputs takes both forms
        if y is not _NO_INPUT:
            return jvp([x, y], [t, t_y])
        if type(x) in HOST_TYPES:
            out = prim.impl(x, **params) if params else prim.impl(x)
        else:
            out = bind(x, **params)
        if t is zero:
            return out, zero
        if type(t) in HOST_TYPES:  # (forward mode on NumPy values)
            return out, (prim.impl(t, **params) if params else prim.impl(t))
        return out, bind(t, **params)

    prim.jvp = jvp
    if not prim.multiple_results:
        prim.jvp_args = (jvp, jvp_args)
    prim.transpose = transpose


#: The default of an input that was not passed (``deflinear``'s forward-mode rule).
_NO_INPUT = object()


def defzero(prim: Primitive) -> None:
    """The primitive's output does not change with its inputs to first order (or it is not
    differentiable at all, like comparisons): its tangent is zero.

    Example:
        >>> step_p = elementwise("step", lambda x: (x > 0) * 1.0)
        >>> defzero(step_p)
        >>> step_p.differentiable
        False
    """
    prim.jvp = None
    prim.jvp_args = None
    prim.differentiable = False


def unbroadcast(ct, like):
    """Sum ``ct`` over the axes that broadcasting added or stretched, back to ``like``'s shape,
    and convert it to ``like``'s dtype (a float32 input gets a float32 cotangent).

    Example:
        >>> unbroadcast(np.ones((2, 3)), np.zeros((1, 3), np.float32))
        array([[2., 2., 2.]], dtype=float32)
    """
    shape = like.shape
    ct_dtype = _NUMPY_SCALAR_DTYPES.get(type(ct))  # a NumPy scalar: shape (), dtype known
    if ct_dtype is None or shape:
        ct_shape = ct.shape
        if ct_shape != shape:
            axes = summed_axes(ct_shape, shape)
            host = type(ct) in HOST_TYPES  # (NumPy values: the implementations, without bind)
            if axes:
                ct = reduce_sum_p.impl(ct, axes=axes) if host else reduce_sum_p.bind(ct, axes=axes)
            if ct.shape != shape:
                new_sizes = tuple(shape)
                ct = reshape_p.impl(ct, new_sizes=new_sizes) if host else reshape_p.bind(ct, new_sizes=new_sizes)
        ct_dtype = ct.dtype
    dtype = like.dtype
    if ct_dtype is not dtype and ct_dtype != dtype:
        ct = convert_to_cotangent_dtype(ct, dtype)
    return ct


def convert_to_cotangent_dtype(ct, dtype: Any):
    """``ct`` in the dtype of the input it is the cotangent of: a complex cotangent of a real
    input keeps its real part.

    Example:
        >>> convert_to_cotangent_dtype(np.array([1 + 2j]), np.float64)
        array([1.])
    """
    if np.issubdtype(ct.dtype, np.complexfloating) and not np.issubdtype(dtype, np.complexfloating):
        ct = real(ct)
    return convert_element_type(ct, new_dtype=np.dtype(dtype))


# -- the primitives the registrars and helpers are written in ------------------------------------


# --- convert_element_type ------------------------------------------------------------------------
convert_element_type_p = Primitive("convert_element_type")


def _convert_impl(x, *, new_dtype):
    if type(x) in PY_SCALARS:  # a NumPy scalar: like a Python scalar, it fits every device
        return np.dtype(new_dtype).type(x)
    return x.astype(new_dtype, copy=False)


def _convert_jvp(primals, tangents, *, new_dtype):
    (x,), (t,) = primals, tangents
    out = convert_element_type_p.bind(x, new_dtype=new_dtype)
    if t is zero or np.dtype(new_dtype).kind not in "fc":
        return out, zero
    return out, convert_element_type(t, new_dtype=new_dtype)


convert_element_type_p.impl = _convert_impl
convert_element_type_p.shape_rule = lambda x, *, new_dtype: (shape_of(x), new_dtype)
convert_element_type_p.jvp = _convert_jvp
convert_element_type_p.transpose = lambda ct, x, *, new_dtype: (convert_to_cotangent_dtype(ct, x.dtype),)
convert_element_type_p.batch = lambda values, dims, *, new_dtype: (
    convert_element_type_p.bind(values[0], new_dtype=new_dtype), dims[0])


def convert_element_type(x, *, new_dtype: Any):
    """``x`` in ``new_dtype`` (``x`` itself if it has that dtype already).

    Example:
        >>> convert_element_type(np.arange(2), new_dtype=np.float32)
        array([0., 1.], dtype=float32)
    """
    new_dtype = np.dtype(new_dtype)
    if type(x) not in PY_SCALARS and x.dtype == new_dtype:
        return x
    return convert_element_type_p.bind(x, new_dtype=new_dtype)


# --- full_like: a constant array on the device of `x`; x's value does not matter -----------------
full_like_p = Primitive("full_like")


def _full(xp, shape, fill_value, dtype):
    return xp.full(shape, fill_value, dtype=dtype)


def _full_like_impl(x, *, fill_value, shape, dtype):
    if type(x) in PY_SCALARS and not shape:  # (jit's replay: x stood for a Python scalar)
        return np.dtype(dtype).type(fill_value)  # a NumPy scalar, which fits every device
    backend = backend_of(x)
    if backend is NUMPY:  # the host has one device: skip make_like's device lookup
        return backend.xp.full(shape, fill_value, dtype=dtype)
    return backend.make_like(x, _full, shape, fill_value, dtype)


full_like_p.impl = _full_like_impl
full_like_p.shape_rule = lambda x, *, fill_value, shape, dtype: (shape, dtype)
defzero(full_like_p)
# In a linear program it is the zero map (only ever used with fill_value 0 there).
full_like_p.transpose = lambda ct, x, **params: (zero,)
# The values of x do not matter, so the result is the same for every example: unbatched.
full_like_p.batch = lambda values, dims, **params: (full_like_p.bind(values[0], **params), NOT_MAPPED)


def full_like(x, fill_value, shape: Sequence[int] | None = None, dtype: Any = None):
    """An array of ``fill_value`` on the device of ``x``, shaped and typed like ``x`` unless
    ``shape`` or ``dtype`` say otherwise.

    Example:
        >>> full_like(np.zeros(2), 7, dtype=np.int8)
        array([7, 7], dtype=int8)
    """
    shape = x.shape if shape is None else tuple(shape)
    dtype = x.dtype if dtype is None else np.dtype(dtype)
    return full_like_p.bind(x, fill_value=fill_value, shape=shape, dtype=dtype)


def zeros_like(x, dtype: Any = None):
    """Zeros shaped like ``x``, of ``x``'s dtype (or ``dtype``), on ``x``'s device.

    Example:
        >>> zeros_like(np.ones(2))
        array([0., 0.])
    """
    return full_like(x, 0, dtype=dtype)


# --- add -----------------------------------------------------------------------------------------
add_p = elementwise("add", operator.add)
defjvp(add_p, lambda t, x, y: t, lambda t, x, y: t, broadcast=True)


def _add_jvp_args(x, t_x, y, t_y):
    """add's JVP for forward mode (``Primitive.jvp_args``): the registrar's, with the sum of two
    tangents of one shape and dtype recorded directly under ``grad`` (the sum then has the
    output's shape and dtype: no shape rule, no broadcast), as ``scale`` records products."""
    if t_x is not zero and t_y is not zero and type(t_x) is Var and type(t_y) is Var:
        trace = t_x._trace
        if (type(trace) is LinearTrace and t_y._trace is trace and t_x.dtype is t_y.dtype
                and trace.thread == get_ident()):
            out = x + y if type(x) in HOST_TYPES and type(y) in HOST_TYPES else add(x, y)
            if t_x.shape == t_y.shape:
                return out, trace.record_like(add_p, (t_x, t_y), t_x)
            # a sum that broadcasts (a bias added to a batch): recorded as bind would record
            # it, without the registrar's per-input rules in between
            return out, _like_output(trace.process_primitive(add_p, (t_x, t_y), {}), out)
    return _add_jvp_generic(x, t_x, y, t_y)


_add_jvp_generic = add_p.jvp_args[1]
add_p.jvp_args = (add_p.jvp, _add_jvp_args)
add_p.transpose = lambda ct, x, y: (
    unbroadcast(ct, x) if is_linear(x) else zero,
    unbroadcast(ct, y) if is_linear(y) else zero,
)
add = add_p.bind
#: Sums two cotangents of the same variable (the backward pass's accumulation).
add_cotangents = add_p.bind


# --- real: the real part, linear (its transpose puts a real cotangent back in the complex plane) -
real_p = unary_ufunc("real", "real", preserves_float=False)
deflinear(real_p, lambda ct, x: (convert_element_type(ct, new_dtype=x.dtype),))
real = real_p.bind


# --- broadcast_in_dim: operand dim i becomes output dim broadcast_dimensions[i] ------------------
broadcast_in_dim_p = Primitive("broadcast_in_dim")


def _broadcast_in_dim_impl(x, *, shape, broadcast_dimensions):
    kind = type(x)
    if kind is np.ndarray or kind in _NUMPY_SCALAR_DTYPES:
        # The read-only view np.broadcast_to makes, made directly over x's memory: each
        # dimension of x that is kept keeps its stride, every other has stride 0 (the same
        # view: 3.1 -> 1.1 us for a NumPy scalar to (256, 10), 2.7 -> 1.1 us for a (256,)
        # row). x's memory is read as a buffer, which a non-contiguous array does not give:
        # that one goes through np.broadcast_to.
        strides = [0] * len(shape)
        if broadcast_dimensions:
            x_shape, x_strides = x.shape, x.strides
            for i, d in enumerate(broadcast_dimensions):
                if x_shape[i] != 1:
                    strides[d] = x_strides[i]
        try:
            view = np.ndarray(shape, x.dtype, x, 0, strides)  # numpy-only: NumPy values only
        except (ValueError, TypeError, BufferError):
            expanded = [1] * len(shape)
            for i, d in enumerate(broadcast_dimensions):
                expanded[d] = x.shape[i]
            return np.broadcast_to(x.reshape(expanded), shape)  # numpy-only: by the check above
        view.flags.writeable = False
        return view
    xp = array_module(x)
    x_shape = shape_of(x)
    expanded = [1] * len(shape)
    for i, d in enumerate(broadcast_dimensions):
        expanded[d] = x_shape[i]
    return xp.broadcast_to(xp.reshape(x, expanded), shape)


def _broadcast_in_dim_transpose(ct, x, *, shape, broadcast_dimensions):
    x_shape = x.shape
    summed = tuple(d for d in range(len(shape)) if d not in broadcast_dimensions)
    kept_ones = tuple(
        i for i, d in enumerate(broadcast_dimensions) if x_shape[i] == 1 and shape[d] != 1
    )
    ct = reduce_sum(ct, axes=summed) if summed else ct
    if kept_ones:
        ct = reduce_sum(ct, axes=kept_ones)
        ct = reshape(ct, x_shape)
    return (ct,)


def _broadcast_in_dim_batch(values, dims, *, shape, broadcast_dimensions):
    x = to_front(values[0], dims[0])
    dimensions = (0,) + tuple(d + 1 for d in broadcast_dimensions)
    return broadcast_in_dim(x, (x.shape[0],) + shape, dimensions), 0


broadcast_in_dim_p.impl = _broadcast_in_dim_impl
broadcast_in_dim_p.shape_rule = lambda x, *, shape, broadcast_dimensions: (shape, dtype_of(x))
deflinear(broadcast_in_dim_p, _broadcast_in_dim_transpose)
broadcast_in_dim_p.batch = _broadcast_in_dim_batch


def broadcast_in_dim(x, shape: Sequence[int], broadcast_dimensions: Sequence[int]):
    """``x`` broadcast to ``shape``, its dimension ``i`` becoming ``broadcast_dimensions[i]``.

    Example:
        >>> broadcast_in_dim(np.arange(2), (2, 3), (0,))
        array([[0, 0, 0],
               [1, 1, 1]])
    """
    return broadcast_in_dim_p.bind(
        x, shape=tuple(shape), broadcast_dimensions=tuple(broadcast_dimensions))


def broadcast_to(x, shape: Sequence[int]):
    """NumPy-style broadcasting of ``x`` to ``shape`` (trailing dimensions line up).

    Example:
        >>> broadcast_to(np.arange(3), (2, 3)).shape
        (2, 3)
    """
    shape = tuple(shape)
    x_shape = shape_of(x)
    if x_shape == shape:
        return x
    lead = len(shape) - len(x_shape)
    return broadcast_in_dim(x, shape, range(lead, len(shape)))


# --- reshape -------------------------------------------------------------------------------------
reshape_p = Primitive("reshape")


def _reshape_batch(values, dims, *, new_sizes):
    x = to_front(values[0], dims[0])
    return reshape(x, (x.shape[0],) + new_sizes), 0


# (np.reshape on an ndarray calls its reshape method after a Python wrapper: 1.06 -> 0.36 us)
reshape_p.impl = lambda x, *, new_sizes: (x.reshape(new_sizes) if type(x) is np.ndarray
                                          else array_module(x).reshape(x, new_sizes))
reshape_p.shape_rule = lambda x, *, new_sizes: (new_sizes, dtype_of(x))
deflinear(reshape_p, lambda ct, x, *, new_sizes: (reshape(ct, x.shape),))
reshape_p.batch = _reshape_batch


def reshape(x, new_sizes: Sequence[int]):
    """``x`` with the shape ``new_sizes`` (the same entries in row-major order).

    Example:
        >>> reshape(np.arange(6), (2, 3)).shape
        (2, 3)
    """
    new_sizes = tuple(new_sizes)
    if shape_of(x) == new_sizes:
        return x
    return reshape_p.bind(x, new_sizes=new_sizes)


# --- transpose: a permutation of the dimensions --------------------------------------------------
transpose_p = Primitive("transpose")


def _inverse_permutation(permutation):
    return tuple(sorted(range(len(permutation)), key=permutation.__getitem__))


def _transpose_batch(values, dims, *, permutation):
    (x,), (d,) = values, dims
    return transpose(x, (d,) + tuple(per_example_axis(p, d) for p in permutation)), 0


transpose_p.impl = lambda x, *, permutation: array_module(x).transpose(x, permutation)
transpose_p.shape_rule = lambda x, *, permutation: (tuple(x.shape[i] for i in permutation), x.dtype)
deflinear(transpose_p, lambda ct, x, *, permutation: (transpose(ct, _inverse_permutation(permutation)),))
transpose_p.batch = _transpose_batch


def transpose(x, permutation: Sequence[int]):
    """``x`` with its dimensions permuted: output dimension ``i`` is ``x``'s ``permutation[i]``.

    Example:
        >>> transpose(np.zeros((2, 3, 4)), (2, 0, 1)).shape
        (4, 2, 3)
    """
    permutation = tuple(permutation)
    if permutation == tuple(range(len(permutation))):
        return x
    return transpose_p.bind(x, permutation=permutation)


# --- reduce_sum: the sum over static axes (linear) -----------------------------------------------
def _reduce_sum_impl(x, *, axes, _add_reduce=np.add.reduce, _ndarray=np.ndarray):
    # np.sum on an ndarray calls np.add.reduce with the same arguments after checks in Python
    # (about 1.2 us): the same result, bit for bit
    if type(x) is _ndarray and x.ndim:
        return _add_reduce(x, axis=axes)
    return array_module(x).sum(x, axis=axes)


reduce_sum_p = reduction_primitive("reduce_sum", _reduce_sum_impl, sum_dtype)


def _reduce_sum_jvp(primals, tangents, *, axes):
    (x,), (t,) = primals, tangents
    out = reduce_sum_p.bind(x, axes=axes)
    return out, (zero if t is zero else reduce_sum_p.bind(t, axes=axes))


def _reduce_sum_jvp_args(x, t, *, axes):
    out = reduce_sum_p.impl(x, axes=axes) if type(x) in HOST_TYPES else reduce_sum_p.bind(x, axes=axes)
    if t is zero:
        return out, zero
    if type(t) in HOST_TYPES:  # (forward mode on NumPy values)
        return out, reduce_sum_p.impl(t, axes=axes)
    return out, reduce_sum_p.bind(t, axes=axes)


reduce_sum_p.jvp = _reduce_sum_jvp
reduce_sum_p.jvp_args = (_reduce_sum_jvp, _reduce_sum_jvp_args)


def _reduce_sum_transpose(ct, x, *, axes):
    shape = tuple(x.shape)
    kept = kept_dims(shape, axes)
    if type(ct) in HOST_TYPES:  # (a NumPy value: the implementation, without bind)
        return (broadcast_in_dim_p.impl(ct, shape=shape, broadcast_dimensions=kept),)
    return (broadcast_in_dim_p.bind(ct, shape=shape, broadcast_dimensions=kept),)


reduce_sum_p.transpose = _reduce_sum_transpose


def reduce_sum(x, axes: Sequence[int]):
    """The sum of ``x`` over ``axes``.

    Example:
        >>> reduce_sum(np.ones((2, 3)), (1,))
        array([3., 3.])
    """
    return reduce_sum_p.bind(x, axes=tuple(axes))


def expand_reduced(y, shape: Sequence[int], axes: Sequence[int]):
    """A result reduced over ``axes`` broadcast back to the operand's ``shape``.

    Example:
        >>> expand_reduced(np.array([1.0, 2.0]), (2, 3), (1,))
        array([[1., 1., 1.],
               [2., 2., 2.]])
    """
    return broadcast_in_dim(y, shape, tuple(i for i in range(len(shape)) if i not in axes))
