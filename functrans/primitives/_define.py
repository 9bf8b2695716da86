"""Registrars for the common shapes of rules, so that most primitives take a few lines.

- ``elementwise(name, impl)``: a primitive with NumPy broadcasting and a dtype rule read off
  the implementation itself (cached per input dtypes);
- ``defjvp(prim, *rules)``: one rule per input, ``rule(t, *primals, **params)`` giving that
  input's contribution to the output tangent (``None``: the output does not depend on it);
- ``defjvp_with_output(prim, rule)``: a unary rule that may use the primal output;
- ``deflinear(prim, transpose)``: the JVP of a linear primitive is the primitive itself;
- ``defzero(prim)``: a primitive whose derivative is zero everywhere;
- ``unbroadcast(ct, like)``: sum a cotangent back to the shape (and dtype) of an input.
"""
from __future__ import annotations

import numpy as np

from functrans.core.primitive import Primitive
from functrans.core.zeros import zero

PY_SCALARS = (int, float, complex, bool)
_SAMPLE = {bool: True, int: 1, float: 1.0, complex: 1j}

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


_elementwise_dtypes: dict = {}


def _elementwise_dtype(prim, args, params):
    key = (prim, params.get("y"), *(type(a) if type(a) in PY_SCALARS else a.dtype for a in args))
    dtype = _elementwise_dtypes.get(key)
    if dtype is None:
        samples = [_SAMPLE[type(a)] if type(a) in PY_SCALARS else np.ones((), a.dtype) for a in args]
        with np.errstate(all="ignore"):
            dtype = np.result_type(prim.impl(*samples, **params))
        _elementwise_dtypes[key] = dtype
    return dtype


def elementwise(name: str, impl) -> Primitive:
    """A primitive applied element by element, with NumPy broadcasting between its inputs."""
    prim = Primitive(name)
    prim.impl = impl

    def shape_rule(*args, **params):
        shapes = [a.shape for a in args if type(a) not in PY_SCALARS]
        return broadcast_shapes(*shapes) if shapes else (), _elementwise_dtype(prim, args, params)

    prim.shape_rule = shape_rule
    return prim


# -- JVP registrars --------------------------------------------------------------------


def defjvp(prim: Primitive, *rules, broadcast: bool = False) -> None:
    """Per-input JVP rules. With ``broadcast``, the tangent is broadcast to the output's shape
    (for elementwise primitives whose rule passes an input's tangent through unchanged)."""
    bind = prim.bind
    if len(rules) == 1:
        (rule,) = rules

        def jvp(primals, tangents, **params):
            return bind(*primals, **params), rule(tangents[0], *primals, **params)

    else:

        def jvp(primals, tangents, **params):
            out = bind(*primals, **params)
            t_out = zero
            for rule, t in zip(rules, tangents):
                if t is zero or rule is None:
                    continue
                contribution = rule(t, *primals, **params)
                t_out = contribution if t_out is zero else add(t_out, contribution)
            if broadcast and t_out is not zero and t_out.shape != out.shape:
                t_out = broadcast_to(t_out, out.shape)
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
