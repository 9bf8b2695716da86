"""The primitives behind rematerialisation (``functrans.checkpoint``): ``checkpoint_call``
and ``checkpoint_linear``.

Under linearize (``grad``, ``vjp``) a call of a checkpointed function runs it plainly (no
tangent program, so none of its intermediate values is kept) and records one equation,
``checkpoint_linear``, holding only the call's inputs. In the backward pass that equation's
transpose linearizes the function again from those inputs and transposes the fresh program
at once, so the intermediates of one checkpointed block live only while its own cotangents
are computed. The price is one more forward evaluation of the block.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

from functrans._abstract import dtype_of, shape_of
from functrans.core.flatten import FlatFun
from functrans.core.ir import is_linear
from functrans.core.primitive import Primitive
from functrans.core.trace import named_scope
from functrans.core.zeros import zero
from functrans.interpreters.jvp import jvp_flat
from functrans.interpreters.linearize import linearize_flat
from functrans.interpreters.transpose import transpose_program
from functrans.lax._body import batched, output_avals
from functrans.primitives import full_like_p
from functrans.primitives._define import batch_size, bdim_at_front


class CheckpointCall:
    """The ``call`` parameter: the checkpointed function on flat leaves (``flat``, which
    remembers the output structure) and the body to run, ``fun_flat`` (``flat`` itself, or a
    batched version of it)."""

    def __init__(self, flat: FlatFun, fun_flat: Callable[[list], Sequence] | None = None):
        self.flat = flat
        self.name = f"checkpoint({flat.name})"
        self._fun_flat = fun_flat or flat

    def fun_flat(self, leaves: Sequence) -> list:
        with named_scope(self.name):
            return list(self._fun_flat(list(leaves)))

    def __repr__(self) -> str:
        return self.flat.name


# --- checkpoint_call: the checkpointed function applied to traced arguments ------------------
def _checkpoint_call_jvp(primals, tangents, *, call):
    live = [t for t in tangents if t is not zero]
    if not all(is_linear(t) for t in live):  # forward mode: nothing is stored anyway
        return jvp_flat(call.fun_flat, primals, tangents, f"jvp({call.name})")
    outs = call.fun_flat(primals)  # plain evaluation: nothing recorded
    positions = tuple(i for i, t in enumerate(tangents) if t is not zero)
    out_avals = tuple((tuple(shape_of(o)), dtype_of(o)) for o in outs)
    t_outs = checkpoint_linear_p.bind(*live, call=call, primals=tuple(primals), positions=positions,
                                      out_avals=out_avals)
    return outs, [t if dtype_of(o).kind in "fc" else zero for o, t in zip(outs, t_outs)]


def _checkpoint_call_batch(values, dims, *, call):
    size = batch_size(values, dims)
    moved = [bdim_at_front(v, d, size) for v, d in zip(values, dims)]
    body = CheckpointCall(call.flat, batched(call.fun_flat, size, f"vmap({call.name})"))
    outs = checkpoint_call_p.bind(*moved, call=body)
    return outs, [0] * len(outs)


checkpoint_call_p = Primitive("checkpoint_call", multiple_results=True)
checkpoint_call_p.impl = lambda *leaves, call: call.fun_flat(leaves)
checkpoint_call_p.shape_rule = lambda *args, call: output_avals(call.fun_flat, args, call.name)
checkpoint_call_p.jvp = _checkpoint_call_jvp
checkpoint_call_p.batch = _checkpoint_call_batch


# --- checkpoint_linear: the derivative of one call, recomputed when it is transposed ---------
def _checkpoint_linear_impl(*tangents, call, primals, positions, out_avals):
    full: list = [zero] * len(primals)
    for i, t in zip(positions, tangents):
        full[i] = t
    outs, t_outs = jvp_flat(call.fun_flat, primals, full, f"jvp({call.name})")
    return [full_like_p.bind(o, fill_value=0, shape=tuple(shape), dtype=dtype) if t is zero else t
            for o, t, (shape, dtype) in zip(outs, t_outs, out_avals)]


def _checkpoint_linear_transpose(cts, *tangents, call, primals, positions, out_avals):
    _, program = linearize_flat(call.fun_flat, list(primals), call.name)
    # consume: each equation (and the residuals it holds) is freed once transposed, instead of
    # waiting for the cycle collector (variables and their trace refer to each other).
    in_cts = transpose_program(program, list(cts), consume=True)
    return tuple(in_cts[i] for i in positions)


checkpoint_linear_p = Primitive("checkpoint_linear", multiple_results=True)
checkpoint_linear_p.impl = _checkpoint_linear_impl
checkpoint_linear_p.shape_rule = lambda *ts, call, primals, positions, out_avals: list(out_avals)
checkpoint_linear_p.transpose = _checkpoint_linear_transpose
