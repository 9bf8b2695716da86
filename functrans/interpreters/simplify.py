"""Simplification of a staged program before ``jit`` builds its plan: the same outputs, bit for
bit and dtype for dtype, from fewer equations.

Three rewrites, in one pass over the equations in execution order:

* algebraic identities that are exact in floating point: a ``convert_element_type`` to the
  dtype the value has, a ``reshape`` to its own shape, a reshape of a reshape, a transpose of
  a transpose (one transpose, or none), ``neg`` of ``neg``, multiplication or division by the
  scalar one, addition of zero where it cannot change the sign of a zero (an integer result,
  or the zero is ``-0.0``; ``x - 0.0`` is ``x``, ``-0.0 + 0.0`` is not ``-0.0``);
* a ``broadcast_in_dim`` that only adds leading axes or stretches axes of length one, feeding
  an elementwise primitive whose result has the broadcast shape anyway, is dropped: NumPy's
  own broadcasting in that primitive does the same;
* common subexpressions: a second application of a pure primitive to the same arguments with
  the same parameters reuses the first one's outputs, except in a block that a checkpointed
  call recomputes in the backward pass (scope ``REMATERIALIZED``): merged with the forward
  pass's equations, the recomputation would keep the values it exists not to keep.

Only the primitives listed here as pure (deterministic functions of their arguments and
parameters: the first-order primitives, ``opaque_call`` excepted) are merged or rewritten;
any other primitive (control flow, custom rules, a user's primitive, a function of random
state) is left as it is. Equations nothing needs any more are dropped by the plan's dead code
elimination.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from functrans.core.ir import Eqn, Program, Var
from functrans.core.primitive import Primitive
from functrans.primitives import all_primitives
from functrans.primitives._define import (
    add_p,
    broadcast_in_dim_p,
    convert_element_type_p,
    reshape_p,
    transpose_p,
)
from functrans.primitives.elementwise import div_p, mul_p, neg_p, sub_p
from functrans.primitives.opaque import opaque_call_p

__all__ = ["simplify", "PURE", "ELEMENTWISE"]

_PY_SCALARS = (bool, int, float, complex)

#: Primitives whose outputs are a deterministic function of their arguments and parameters.
PURE: frozenset = frozenset(p for p in all_primitives() if p is not opaque_call_p)


def _elementwise_primitives() -> frozenset:
    """The pure primitives made by the elementwise registrar (NumPy broadcasting between their
    inputs, each output element from the same element of each input), told by the batching
    rule that registrar gives them."""
    return frozenset(p for p in PURE if p.batch is not None
                     and getattr(p.batch, "__qualname__", "").startswith("defbatch_elementwise."))


#: Elementwise primitives: NumPy broadcasting between the inputs, element by element.
ELEMENTWISE: frozenset = _elementwise_primitives()

class _PrivateScope(str):
    """A scope name only functrans's own code holds: it is recognized by identity, so a user's
    ``named_scope`` with the same text is an ordinary scope."""

    __slots__ = ()


#: The scope of the equations a checkpointed call recomputes for its backward pass, which
#: common subexpression elimination leaves apart (JAX's prevent_cse). It prints as
#: "rematerialized", but only this object marks the recomputation.
REMATERIALIZED = _PrivateScope("rematerialized")


def _rematerialized(scope: tuple) -> bool:
    return any(name is REMATERIALIZED for name in scope)


def simplify(program: Program) -> Program:
    """``program`` with exact algebraic identities applied, broadcasts folded into their
    elementwise consumers and common subexpressions merged (the same trace and inputs;
    equations no output needs are left for dead code elimination).

    Example:
        >>> import numpy as np, functrans as ft, functrans.numpy as fnp
        >>> staged = ft.make_jaxpr(lambda x: fnp.sin(x) * 1.0 + fnp.sin(x))(np.ones(2))
        >>> print(simplify(staged.program))
        { lambda v0:float64[2] .
            v1:float64[2] = sin[] v0
            v4:float64[2] = add[] v1 v1
          in (v4) }
    """
    trace = program.trace
    replaced: dict[int, Any] = {}   # variable index -> the value that stands for it
    producer: dict[int, Eqn] = {}   # variable index -> the (rewritten) equation computing it
    seen: dict[tuple, tuple] = {}   # CSE key -> the outputs of the first such equation
    eqns: list[Eqn] = []

    def resolve(value: Any) -> Any:
        if type(value) is Var and value._trace is trace:
            return replaced.get(value.index, value)
        return value

    # Variables that stand for Python scalars (weakly typed) are never rewritten away: in
    # their place another value would promote differently.
    weak = getattr(trace, "scalars", None) or {}
    for eqn in program.eqns:
        prim, params = eqn.prim, eqn.params
        args = tuple(resolve(a) for a in eqn.args)
        if prim in PURE:
            rewritten = None
            if not weak or not any(type(a) is Var and a.index in weak for a in args):
                rewritten = _rewrite(prim, args, params, eqn.outs, producer, trace)
            if type(rewritten) is _Forward:
                replaced[eqn.outs[0].index] = rewritten.value
                continue
            if rewritten is not None:
                prim, args, params = rewritten
            key = None if _rematerialized(eqn.scope) else _cse_key(prim, args, params, trace)
            if key is not None:
                earlier = seen.get(key)
                if earlier is not None:
                    for out, same in zip(eqn.outs, earlier):
                        replaced[out.index] = same
                    continue
                seen[key] = eqn.outs
        same = prim is eqn.prim and params is eqn.params and all(
            a is b for a, b in zip(args, eqn.args))  # (`==` on variables would record `eq`)
        new = eqn if same else Eqn(prim, args, params, eqn.outs, eqn.source, eqn.scope)
        for out in eqn.outs:
            producer[out.index] = new
        eqns.append(new)
    outs = [resolve(o) for o in program.outs]
    return Program(trace, program.in_vars, eqns, outs)


class _Forward:
    """A rewrite's answer that the equation's output is an existing value."""

    __slots__ = ("value",)

    def __init__(self, value: Any):
        self.value = value


def _shape(x: Any) -> tuple | None:
    if type(x) in _PY_SCALARS:
        return None
    shape = getattr(x, "shape", None)
    return None if shape is None else tuple(shape)


def _dtype(x: Any) -> np.dtype | None:
    """The dtype of an array or variable (``None`` for a Python scalar: weakly typed)."""
    if type(x) in _PY_SCALARS:
        return None
    dtype = getattr(x, "dtype", None)
    return None if dtype is None else np.dtype(dtype)


def _is_scalar(value: Any, target: float, sign_matters: bool = False) -> bool:
    """Whether ``value`` is a Python or NumPy real scalar equal to ``target`` (with the
    sign of ``target`` when ``sign_matters``)."""
    if type(value) in (int, float, bool) or isinstance(value, (np.integer, np.floating, np.bool_)):
        if value != target:
            return False
        return not sign_matters or math.copysign(1.0, value) == math.copysign(1.0, target)
    return False


def _same_as(x: Any, out: Var) -> bool:
    """Whether ``x`` (an argument) has the output's shape and dtype, so it can stand for it."""
    return _shape(x) == tuple(out.shape) and _dtype(x) == np.dtype(out.dtype)


def _rewrite(prim: Primitive, args: tuple, params: dict, outs: tuple, producer: dict,
             trace: Any) -> Any:
    """An exact identity for this equation: ``_Forward(value)``, a rewritten
    ``(prim, args, params)``, or ``None``."""
    if prim in ELEMENTWISE:
        out = outs[0]
        if prim is mul_p or prim is div_p:
            x, y = args
            if out.dtype.kind != "c":
                if _is_scalar(y, 1) and _same_as(x, out):
                    return _Forward(x)
                if prim is mul_p and _is_scalar(x, 1) and _same_as(y, out):
                    return _Forward(y)
        elif prim is add_p or prim is sub_p:
            x, y = args
            exact_int = out.dtype.kind in "iub"
            if _same_as(x, out) and out.dtype.kind != "c" and (
                    (exact_int and _is_scalar(y, 0))
                    or (prim is add_p and _is_scalar(y, -0.0, sign_matters=True))
                    or (prim is sub_p and _is_scalar(y, 0.0, sign_matters=True))):
                return _Forward(x)
            if prim is add_p and _same_as(y, out) and out.dtype.kind != "c" and (
                    (exact_int and _is_scalar(x, 0)) or _is_scalar(x, -0.0, sign_matters=True)):
                return _Forward(y)
        elif prim is neg_p:
            inner = _produced_by(args[0], neg_p, producer, trace)
            if inner is not None and _same_as(inner.args[0], out):
                return _Forward(inner.args[0])
        folded = _fold_broadcasts(args, out, producer, trace)
        return None if folded is None else (prim, folded, params)
    if prim is convert_element_type_p:
        x = args[0]
        if _dtype(x) == np.dtype(params["new_dtype"]) and _shape(x) is not None:
            return _Forward(x)
        return None
    if prim is reshape_p:
        x = args[0]
        if _shape(x) == tuple(params["new_sizes"]):
            return _Forward(x)
        inner = _produced_by(x, reshape_p, producer, trace)
        if inner is not None:
            source = inner.args[0]
            if _shape(source) == tuple(params["new_sizes"]) and _dtype(source) is not None:
                return _Forward(source)
            return reshape_p, (source,), params
        return None
    if prim is transpose_p:
        inner = _produced_by(args[0], transpose_p, producer, trace)
        if inner is None:
            return None
        first, second = inner.params["permutation"], params["permutation"]
        permutation = tuple(first[i] for i in second)
        source = inner.args[0]
        if permutation == tuple(range(len(permutation))):
            return _Forward(source)
        return transpose_p, (source,), {"permutation": permutation}
    return None


def _produced_by(x: Any, prim: Primitive, producer: dict, trace: Any) -> Eqn | None:
    """The equation of primitive ``prim`` that computes the variable ``x``, if it is one (and
    its operand does not stand for a Python scalar)."""
    if type(x) is not Var or x._trace is not trace:
        return None
    eqn = producer.get(x.index)
    if eqn is None or eqn.prim is not prim:
        return None
    weak = getattr(trace, "scalars", None)
    if weak and any(type(a) is Var and a.index in weak for a in eqn.args):
        return None
    return eqn


def _fold_broadcasts(args: tuple, out: Var, producer: dict, trace: Any) -> tuple | None:
    """The arguments of an elementwise equation with each ``broadcast_in_dim`` that NumPy's
    broadcasting would do anyway replaced by its operand, or by the operand of the reshape
    that made it (as long as the result keeps its shape), or ``None`` if there is none."""
    new = list(args)
    changed = False
    for i, a in enumerate(args):
        eqn = _produced_by(a, broadcast_in_dim_p, producer, trace)
        if eqn is None:
            continue
        shape, dims = eqn.params["shape"], eqn.params["broadcast_dimensions"]
        x = eqn.args[0]
        x_shape = _shape(x)
        if x_shape is None:
            continue
        expanded = [1] * len(shape)  # the operand with the broadcast axes as axes of length 1
        for axis, d in enumerate(dims):
            expanded[d] = x_shape[axis]
        source = _broadcasts_as(x, expanded)
        if source is None:
            inner = _produced_by(x, reshape_p, producer, trace)
            source = None if inner is None else _broadcasts_as(inner.args[0], expanded)
        if source is None:
            continue
        new[i] = source
        shapes = [s for s in (_shape(v) for v in new) if s is not None]
        if tuple(np.broadcast_shapes(*shapes)) == tuple(out.shape):
            changed = True
        else:
            new[i] = a
    return tuple(new) if changed else None


def _broadcasts_as(x: Any, expanded: list) -> Any:
    """``x`` if NumPy broadcasts it as it would an array of shape ``expanded`` (its shape is
    ``expanded`` without some leading axes of length 1), else ``None``; never a Python or
    NumPy scalar (in an array's place it would change the result's dtype or kind)."""
    shape = _shape(x)
    if shape is None or _dtype(x) is None or isinstance(x, np.generic) or len(shape) > len(expanded):
        return None
    padded = [1] * (len(expanded) - len(shape)) + list(shape)
    return x if padded == list(expanded) else None


def _freeze(value: Any) -> Any:
    """A hashable key for a parameter value that tells apart what a primitive would (the
    type of a number, the sign of a zero); raises ``TypeError`` when there is none."""
    kind = type(value)
    if kind is float or kind is complex:
        return kind, repr(value)
    if kind is tuple or kind is list:
        return kind, tuple(_freeze(v) for v in value)
    if kind is dict:
        return kind, tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, np.generic):
        return kind, value.tobytes()
    if isinstance(value, np.ndarray):
        raise TypeError("arrays are not parameters the simplifier compares")
    hash(value)
    return kind, value


def _arg_key(value: Any, trace: Any) -> Any:
    if type(value) is Var and value._trace is trace:
        return value.index
    if type(value) in _PY_SCALARS:
        return _freeze(value)
    if isinstance(value, np.generic):
        return type(value), value.tobytes()
    return "const", id(value)  # the same array object (or outer tracer), nothing weaker


def _cse_key(prim: Primitive, args: tuple, params: dict, trace: Any) -> tuple | None:
    """The key under which two applications of ``prim`` compute the same thing, or ``None``
    when the parameters cannot be compared."""
    try:
        frozen = tuple((k, _freeze(v)) for k, v in params.items()) if params else ()
    except TypeError:
        return None
    return (prim, tuple(_arg_key(a, trace) for a in args), frozen)
