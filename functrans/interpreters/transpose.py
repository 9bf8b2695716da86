"""Reverse mode: transpose a linear program by walking its equations backwards.

Each equation's transpose rule turns the cotangent of its output into cotangents of its
linear inputs; cotangents of a variable used several times are summed. A cotangent known to
be zero is the symbolic ``zero``: an equation whose outputs all have a zero cotangent is
skipped, and a variable whose cotangent is never produced costs nothing. The walk is a loop
over a list: no recursion, so a program of a million equations transposes as easily as a
small one.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from functrans._abstract import PY_SCALARS as _PY_SCALARS
from functrans.backend import HOST_TYPES
from functrans.config import config
from functrans.core.ir import Program, Var
from functrans.core.trace import Tracer, enter_scope, exit_scope
from functrans.core.zeros import zero
from functrans.primitives import add_p, convert_element_type_p, div_p, mul_p, neg_p
from functrans.primitives._define import unbroadcast

_add = add_p.bind
_mul = mul_p.bind

# NumPy arrays and scalars and Python numbers: values the walk may add and multiply itself;
# NumPy arrays and scalars: the cotangents it may pass to them.
_HOST = frozenset(HOST_TYPES - {str, type(None)})
_NUMPY_VALUES = frozenset({np.ndarray} | {np.dtype(code).type for code in np.typecodes["All"]})
# Whether the walk may do the work of the common equations itself (see ``_walk_backwards``):
# not while debug_nans is on, whose checked implementations must see every operation.
_inline = True


def _set_inline(debug_nans: bool) -> None:
    global _inline
    _inline = not debug_nans


config.watch("debug_nans", _set_inline)


def transpose_program(program: Program, out_cts: Sequence, consume: bool = False) -> list:
    """Cotangents of the program's inputs (``zero`` where none flows) given those of its
    outputs (``zero`` allowed).

    With ``consume=True`` (a program transposed once, as under ``grad``) each equation is
    dropped from the program as soon as it has been transposed, so the residuals it holds are
    freed during the backward pass instead of after it: peak memory falls by what the
    already-transposed part of the program kept alive.

    The operations of the backward pass run in the name scope ``transpose``.
    """
    outer = enter_scope("transpose")
    try:
        return _walk_backwards(program, out_cts, consume)
    finally:
        exit_scope(outer)


# (functrans.core.debug_nans finds this function's frame by its name and reads its local
# ``eqn``, to say which equation a NaN of the backward pass came from)
def _walk_backwards(program: Program, out_cts: Sequence, consume: bool) -> list:
    trace = program.trace
    no_ct = zero  # (locals: this loop runs once per recorded operation)
    var_type = Var
    add = _add
    host = _HOST
    numpy_values = _NUMPY_VALUES
    inline = _inline
    tracer = Tracer
    mul = _mul
    acc: list = [no_ct] * trace.num_vars
    for tangent, ct in zip(program.outs, out_cts):
        if ct is no_ct or type(tangent) is not var_type or tangent._trace is not trace:
            continue  # (an output that is a constant, or a value of another trace: not linear)
        dtype = tangent.dtype
        if type(ct) not in _PY_SCALARS and ct.dtype is not dtype and ct.dtype != dtype:
            ct = _in_tangent_dtype(ct, dtype)
        index = tangent.index
        previous = acc[index]
        acc[index] = ct if previous is no_ct else add(previous, ct)
    if consume:
        eqns, program.eqns = program.eqns, []
    else:
        eqns = list(program.eqns)
    pop = eqns.pop
    while eqns:
        eqn = pop()  # last to first, each dropped once transposed
        prim = eqn.prim
        args = eqn.args
        if prim.multiple_results:
            cts = [acc[o.index] for o in eqn.outs]
            if all(c is no_ct for c in cts):
                continue
            for o in eqn.outs:
                acc[o.index] = no_ct
            in_cts = prim.transpose(cts, *args, **eqn.params)
        else:
            out = eqn.outs[0]
            index = out.index
            ct = acc[index]
            if ct is no_ct:
                continue
            acc[index] = no_ct  # free it as soon as it is used
            # The equations most tangent programs are made of, done here on NumPy values
            # without the rule's dispatch (the result is the rule's): a tangent times a
            # constant (every unary JVP rule, and mul by a constant), divided by one (log's
            # rule, a mean), negated (a difference), and the sum of two tangents (summed back
            # to the shape of one that broadcast); each only where the linear input has the
            # output's dtype, so that no conversion is needed. (The cotangent has the
            # output's dtype: vjp and linear_transpose give each output's cotangent its
            # output's dtype, and every transpose rule its input's.)
            if inline and (prim is mul_p or prim is add_p or prim is div_p or prim is neg_p) \
                    and type(ct) in numpy_values:
                if prim is mul_p:
                    x, y = args
                    if type(y) in host:
                        linear, ct_in = x, ct * y
                    elif type(x) in host:
                        linear, ct_in = y, x * ct
                    elif type(x) is var_type and x._trace is trace and isinstance(y, tracer) \
                            and (type(y) is not var_type or not y._trace.linear) \
                            and y.dtype is out.dtype and y.shape == out.shape:
                        # a coefficient of an outer transformation (the backward pass of an
                        # inner grad): the product is that transformation's to compute (a
                        # linear variable there is the rule's error: mul is not linear in both)
                        linear, ct_in = x, mul(ct, y)
                    else:
                        linear = None
                    if type(linear) is var_type and linear._trace is trace \
                            and linear.shape == out.shape and linear.dtype is out.dtype:
                        index = linear.index
                        previous = acc[index]
                        acc[index] = ct_in if previous is no_ct else _sum(previous, ct_in)
                        continue
                elif prim is add_p:
                    x, y = args
                    if type(x) is var_type and type(y) is var_type and x._trace is trace \
                            and y._trace is trace and x.dtype is out.dtype and y.dtype is out.dtype:
                        shape = out.shape
                        ct_x = ct if x.shape == shape else unbroadcast(ct, x)
                        ct_y = ct if y.shape == shape else unbroadcast(ct, y)
                        index = x.index
                        previous = acc[index]
                        acc[index] = ct_x if previous is no_ct else _sum(previous, ct_x)
                        index = y.index
                        previous = acc[index]
                        acc[index] = ct_y if previous is no_ct else _sum(previous, ct_y)
                        continue
                elif prim is div_p:
                    x, y = args
                    if type(y) in host and type(x) is var_type and x._trace is trace \
                            and x.shape == out.shape and x.dtype is out.dtype:
                        ct_in = ct / y
                        index = x.index
                        previous = acc[index]
                        acc[index] = ct_in if previous is no_ct else _sum(previous, ct_in)
                        continue
                else:  # neg
                    x = args[0]
                    if type(x) is var_type and x._trace is trace and x.dtype is out.dtype:
                        ct_in = -ct
                        index = x.index
                        previous = acc[index]
                        acc[index] = ct_in if previous is no_ct else _sum(previous, ct_in)
                        continue
            params = eqn.params
            in_cts = prim.transpose(ct, *args, **params) if params else prim.transpose(ct, *args)
        for arg, ct_in in zip(args, in_cts):
            if ct_in is no_ct or type(arg) is not var_type or arg._trace is not trace:
                continue
            index = arg.index
            previous = acc[index]
            if previous is no_ct:
                acc[index] = ct_in
            else:  # (NumPy values added without bind, unless debug_nans checks every operation)
                acc[index] = _sum(previous, ct_in) if inline else add(previous, ct_in)
    return [acc[v.index] for v in program.in_vars]


def _in_tangent_dtype(ct, dtype):
    """An output's cotangent ``ct`` (of the output's dtype) in ``dtype``, its tangent's: they
    differ for an output computed from a Python scalar being differentiated (weakly typed,
    ``x32 * c`` is float32, while its tangent has the scalar's default dtype, float64). Every
    equation's transpose then meets a cotangent of its output's dtype, as each rule assumes,
    and eager and jit compute the same."""
    ct_kind, kind = ct.dtype.kind, np.dtype(dtype).kind
    if ct_kind == kind or (ct_kind == "f" and kind == "c"):
        return convert_element_type_p.bind(ct, new_dtype=np.dtype(dtype))
    return ct


def _sum(a, b):
    """Two cotangents of one variable added: by NumPy for NumPy values (what ``add_p`` would
    compute), else by ``add_p``."""
    if type(a) in _HOST and type(b) in _HOST:
        return a + b
    return _add(a, b)
