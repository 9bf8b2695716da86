"""Registrars for the common shapes of rules, so that most primitives take a few lines.

- ``elementwise(name, impl)``: a primitive with NumPy broadcasting and a dtype rule read off
  the implementation itself (cached per input dtypes);
- ``defjvp(prim, *rules)``: one rule per input, ``rule(t, *primals, **params)`` giving that
  input's contribution to the output tangent (``None``: the output does not depend on it);
- ``defjvp_with_output(prim, rule)``: a unary rule that may use the primal output;
- ``deflinear(prim, transpose)``: the JVP of a linear primitive is the primitive itself;
- ``defzero(prim)``: a primitive whose derivative is zero everywhere;
- ``unbroadcast(ct, like)``: sum a cotangent back to the shape (and dtype) of an input;
- ``defbatch_elementwise(prim)``: the broadcasting batching rule (``elementwise`` adds it).
"""
from __future__ import annotations

import numpy as np

from functrans.core.primitive import Primitive
from functrans.core.zeros import zero

PY_SCALARS = frozenset((int, float, complex, bool))
_SAMPLE = {bool: True, int: 1, float: 1.0, complex: 1j}
_WEAK_REAL = frozenset((int, float, bool))
FLOAT_DTYPES = frozenset(np.dtype(t) for t in (np.float16, np.float32, np.float64, np.complex64, np.complex128))

# -- shape and dtype -------------------------------------------------------------------


def shape_of(x) -> tuple:
    return () if type(x) in PY_SCALARS else x.shape


def dtype_of(x) -> np.dtype:
    """The dtype NumPy would give ``x`` on its own (Python scalars: the default dtypes)."""
    if type(x) in PY_SCALARS:
        return np.result_type(x)
    return x.dtype


def broadcast_shapes(*shapes) -> tuple:
    first = shapes[0]
    for s in shapes[1:]:
        if s != first:
            return np.broadcast_shapes(*shapes)
    return first


def _dtype_key(a):
    kind = type(a)
    return kind if kind in PY_SCALARS else a.dtype


def _sample(a):
    kind = type(a)
    return _SAMPLE[kind] if kind in PY_SCALARS else np.ones((), a.dtype)  # host-metadata: dtype probe


def elementwise(name: str, impl, preserves_float: bool = True) -> Primitive:
    """A primitive applied element by element, with NumPy broadcasting between its inputs.

    Its dtype rule is read off the implementation itself, applied once to one-element
    samples of each combination of input dtypes (and remembered), so it is NumPy's own.
    ``preserves_float``: inputs of one float (or complex) dtype, or that dtype with Python
    int/float scalars, give that dtype (a shortcut for the common case; false for
    comparisons and the like).
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
                shape, dx = x.shape, x.dtype
                if ty in PY_SCALARS:
                    dy = ty
                else:
                    dy = y.dtype
                    if y.shape != shape:
                        shape = np.broadcast_shapes(shape, y.shape)
            if preserves_float and (dx is dy or ty in _WEAK_REAL) and dx in FLOAT_DTYPES:
                return shape, dx
            dtype = dtypes.get((dx, dy))
            return shape, dtype if dtype is not None else dtype_rule(args, params)
        if len(args) == 1:
            (x,) = args
            if type(x) in PY_SCALARS:
                return (), dtype_rule(args, params)
            dx = x.dtype
            if preserves_float and dx in FLOAT_DTYPES:
                return x.shape, dx
            dtype = dtypes.get((dx,))
            return x.shape, dtype if dtype is not None else dtype_rule(args, params)
        shapes = [a.shape for a in args if type(a) not in PY_SCALARS]
        return broadcast_shapes(*shapes) if shapes else (), dtype_rule(args, params)

    prim.shape_rule = shape_rule
    defbatch_elementwise(prim)
    return prim


def defbatch_elementwise(prim: Primitive) -> None:
    """The batching rule (for ``vmap``) of an elementwise primitive with NumPy broadcasting:
    batched operands get their batch axes lined up, unbatched ones broadcast as they are."""
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


# -- JVP registrars --------------------------------------------------------------------


def defjvp(prim: Primitive, *rules, broadcast: bool = False) -> None:
    """Per-input JVP rules. With ``broadcast``, the tangent is broadcast to the output's shape
    and converted to its dtype (for elementwise primitives whose rule passes an input's
    tangent through unchanged)."""
    bind = prim.bind
    if len(rules) == 1:
        (rule,) = rules

        def jvp(primals, tangents, **params):
            return bind(*primals, **params), rule(tangents[0], *primals, **params)

    elif len(rules) == 2 and not broadcast:
        rule_x, rule_y = rules

        def jvp(primals, tangents, **params):
            out = bind(*primals, **params)
            t_x, t_y = tangents
            if t_y is zero:
                return out, rule_x(t_x, *primals, **params)
            if t_x is zero:
                return out, rule_y(t_y, *primals, **params)
            return out, add(rule_x(t_x, *primals, **params), rule_y(t_y, *primals, **params))

    else:

        def jvp(primals, tangents, **params):
            out = bind(*primals, **params)
            t_out = zero
            for rule, t in zip(rules, tangents):
                if t is zero or rule is None:
                    continue
                contribution = rule(t, *primals, **params)
                t_out = contribution if t_out is zero else add(t_out, contribution)
            if broadcast and t_out is not zero:
                if t_out.shape != out.shape:
                    t_out = broadcast_to(t_out, out.shape)
                if t_out.dtype != out.dtype:  # x32 + c64: the passed-through tangent widens too
                    t_out = convert_element_type(t_out, new_dtype=out.dtype)
            return out, t_out

    prim.jvp = jvp


def defjvp_with_output(prim: Primitive, rule) -> None:
    """A unary JVP rule ``rule(t, out, x, **params)`` that reuses the primal output."""
    bind = prim.bind

    def jvp(primals, tangents, **params):
        out = bind(*primals, **params)
        return out, rule(tangents[0], out, *primals, **params)

    prim.jvp = jvp


def deflinear(prim: Primitive, transpose) -> None:
    """The primitive is linear in all its array inputs: its JVP applies it to the tangents
    (zero tangents instantiated), and ``transpose(ct, *args, **params)`` is its adjoint."""
    bind = prim.bind

    def jvp(primals, tangents, **params):
        out = bind(*primals, **params)
        if all(t is zero for t in tangents):
            return out, zero
        ts = [zeros_like(p) if t is zero else t for p, t in zip(primals, tangents)]
        return out, bind(*ts, **params)

    prim.jvp = jvp
    prim.transpose = transpose


def defzero(prim: Primitive) -> None:
    """The primitive's output does not change with its inputs to first order (or it is not
    differentiable at all, like comparisons): its tangent is zero."""
    prim.jvp = None
    prim.differentiable = False


# -- helpers shared by rules (bound through primitives, so they are differentiable) ---


def unbroadcast(ct, like):
    """Sum ``ct`` over the axes that broadcasting added or stretched, back to ``like``'s shape,
    and convert it to ``like``'s dtype (a float32 input gets a float32 cotangent)."""
    shape = like.shape
    ct_shape = ct.shape
    if ct_shape != shape:
        lead = len(ct_shape) - len(shape)
        axes = tuple(range(lead)) + tuple(
            i + lead for i, d in enumerate(shape) if d == 1 and ct_shape[i + lead] != 1
        )
        if axes:
            ct = reduce_sum(ct, axes=axes)
        if ct.shape != shape:
            ct = reshape(ct, shape)
    if ct.dtype != like.dtype:
        ct = convert_to_cotangent_dtype(ct, like.dtype)
    return ct


def convert_to_cotangent_dtype(ct, dtype):
    if np.issubdtype(ct.dtype, np.complexfloating) and not np.issubdtype(dtype, np.complexfloating):
        ct = real(ct)
    return convert_element_type(ct, new_dtype=np.dtype(dtype))


# These are filled in by the primitive families at import time (they need the primitives).
def add(x, y):  # pragma: no cover - replaced below
    raise NotImplementedError


def _late_bind():
    global add, broadcast_to, reduce_sum, reshape, convert_element_type, zeros_like, real
    from functrans.primitives import conversion, elementwise, reduction, shape

    add = elementwise.add
    real = elementwise.real
    broadcast_to = shape.broadcast_to
    reduce_sum = reduction.reduce_sum
    reshape = shape.reshape
    convert_element_type = conversion.convert_element_type
    zeros_like = conversion.zeros_like
    _late_bind_batching()


def _late_bind_batching():
    global broadcast_batched
    from functrans.interpreters.batching import broadcast_batched
