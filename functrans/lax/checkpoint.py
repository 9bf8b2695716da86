"""Rematerialisation: ``checkpoint(f)`` trades compute for memory in reverse mode.

Under linearize (``grad``, ``vjp``) a call of a checkpointed function runs it plainly (no
tangent program, so none of its intermediate values is kept) and records one equation,
``checkpoint_linear``, holding only the call's inputs. In the backward pass that equation's
transpose linearizes the function again from those inputs and transposes the fresh program
at once, so the intermediates of one checkpointed block live only while its own cotangents
are computed. The price is one more forward evaluation of the block.
"""
from __future__ import annotations

import functools
from typing import Callable

import numpy as np

from functrans import tree
from functrans.core.ir import is_recorded_tangent
from functrans.core.primitive import Primitive
from functrans.core.trace import Tracer
from functrans.core.zeros import zero


class _Checkpointed:
    """The ``call`` parameter: the function on flat leaves, and its output structure."""

    def __init__(self, fun, in_treedef, kwargs, fun_flat=None, base=None):
        self.fun = fun
        self.in_treedef = in_treedef
        self.kwargs = kwargs
        self.base = base or self
        self.out_treedef = None
        if fun_flat is not None:
            self.fun_flat = fun_flat

    def fun_flat(self, *leaves):
        out = self.fun(*self.in_treedef.unflatten(leaves), **self.kwargs)
        out_leaves, treedef = tree.flatten(out)
        self.base.out_treedef = treedef
        return out_leaves

    def __repr__(self):
        return getattr(self.fun, "__name__", "f")


def checkpoint(fun: Callable) -> Callable:
    """``fun`` with its intermediate values recomputed in the backward pass instead of stored.

    The values are the same, and so are all derivatives; only reverse mode changes: it keeps
    the inputs of each call of ``fun`` rather than every intermediate array inside it, and
    runs ``fun`` once more during the backward pass. Checkpointing blocks of a deep network
    (every few layers) cuts the memory of ``grad`` from growing with the depth times the
    width of each layer to about the number of blocks plus one block's intermediates.

    Args:
        fun: a function of arrays (pytrees) returning arrays (pytrees).

    Returns:
        The checkpointed function (``remat`` is the same thing).

    Example:
        >>> import numpy as np, functrans as ft, functrans.numpy as fnp
        >>> layer = ft.checkpoint(lambda w, x: fnp.tanh(w @ x))
        >>> w, x = np.eye(2), np.array([0.5, -0.5])
        >>> g = ft.grad(lambda w: fnp.sum(layer(w, layer(w, x))))(w)
        >>> np.allclose(g, ft.grad(lambda w: fnp.sum(fnp.tanh(w @ fnp.tanh(w @ x))))(w))
        True
    """

    @functools.wraps(fun)
    def checkpointed(*args, **kwargs):
        leaves, treedef = tree.flatten(args)
        if not any(isinstance(leaf, Tracer) for leaf in leaves):
            return fun(*args, **kwargs)
        call = _Checkpointed(fun, treedef, kwargs)
        outs = checkpoint_call_p.bind(*_as_arrays(leaves), call=call)
        return call.out_treedef.unflatten(outs)

    return checkpointed


remat = checkpoint


def _as_arrays(leaves):
    from functrans._api_util import as_array

    return [as_array(leaf) for leaf in leaves]


def _abstract_eval(flat_fun, args):
    from functrans.lax.custom import _abstract_eval as evaluate

    return evaluate(flat_fun, args)


# --- checkpoint_call: the checkpointed function applied to traced arguments ------------------
def _checkpoint_call_jvp(primals, tangents, *, call):
    live = [t for t in tangents if t is not zero]
    if not all(is_recorded_tangent(t) for t in live):  # forward mode: nothing is stored anyway
        full = [full_like(p, 0) if t is zero else t for p, t in zip(primals, tangents)]
        outs, t_outs = jvp(lambda *ls: call.fun_flat(*ls), tuple(primals), tuple(full))
        return list(outs), list(t_outs)
    outs = _as_arrays(call.fun_flat(*primals))  # plain evaluation: no intermediates recorded
    positions = tuple(i for i, t in enumerate(tangents) if t is not zero)
    out_avals = tuple((tuple(o.shape), o.dtype) for o in outs)
    t_outs = checkpoint_linear_p.bind(*live, call=call, primals=tuple(primals), positions=positions,
                                      out_avals=out_avals)
    return outs, [t if np.dtype(o.dtype).kind in "fc" else zero for o, t in zip(outs, t_outs)]


def _checkpoint_call_batch(values, dims, *, call):
    size = batch_size(values, dims)
    moved = [bdim_at_front(v, d, size) for v, d in zip(values, dims)]
    batched = _Checkpointed(call.fun, call.in_treedef, call.kwargs, base=call.base,
                            fun_flat=lambda *leaves: vmap(lambda *ls: call.fun_flat(*ls))(*leaves))
    outs = checkpoint_call_p.bind(*moved, call=batched)
    return outs, [0] * len(outs)


checkpoint_call_p = Primitive("checkpoint_call", multiple_results=True)
checkpoint_call_p.impl = lambda *leaves, call: call.fun_flat(*leaves)
checkpoint_call_p.shape_rule = lambda *args, call: _abstract_eval(call.fun_flat, args)
checkpoint_call_p.jvp = _checkpoint_call_jvp
checkpoint_call_p.batch = _checkpoint_call_batch


# --- checkpoint_linear: the derivative of one call, recomputed when it is transposed ---------
def _full_tangents(tangents, primals, positions):
    full = [full_like(p, 0) for p in primals]
    for i, t in zip(positions, tangents):
        full[i] = t
    return full


def _checkpoint_linear_impl(*tangents, call, primals, positions, out_avals):
    full = _full_tangents(tangents, primals, positions)
    return list(jvp(lambda *ls: call.fun_flat(*ls), tuple(primals), tuple(full))[1])


def _checkpoint_linear_transpose(cts, *tangents, call, primals, positions, out_avals):
    def flat_fun(tracers):
        return call.fun_flat(*tracers), None

    _, program, _ = linearize_flat(flat_fun, list(primals), f"checkpoint({call!r})")
    # consume: each equation (and the residuals it holds) is freed once transposed, instead of
    # waiting for the cycle collector (variables and their trace refer to each other).
    in_cts = transpose_program(program, list(cts), consume=True)
    return tuple(in_cts[i] for i in positions)


checkpoint_linear_p = Primitive("checkpoint_linear", multiple_results=True)
checkpoint_linear_p.impl = _checkpoint_linear_impl
checkpoint_linear_p.shape_rule = lambda *ts, call, primals, positions, out_avals: list(out_avals)
checkpoint_linear_p.transpose = _checkpoint_linear_transpose


from functrans._transforms_api import vmap  # noqa: E402
from functrans.api import jvp  # noqa: E402
from functrans.primitives.conversion import full_like  # noqa: E402
from functrans.interpreters.linearize import linearize_flat  # noqa: E402
from functrans.interpreters.transpose import transpose_program  # noqa: E402
from functrans.primitives._define import batch_size, bdim_at_front  # noqa: E402
