"""Running the body of a higher-order primitive under an interpreter: its output shapes (the
body recorded on abstract inputs) and its batched form (the body under ``vmap_flat``).

A body is a function of a flat list of leaves returning a flat list of leaves.
"""
from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from functrans._abstract import PY_SCALARS, dtype_of, shape_of
from functrans.core.ir import Program
from functrans.core.staging import stage
from functrans.core.trace import Tracer
from functrans.core.zeros import zero
from functrans.interpreters.batching import BatchTrace, active_examples, vmap_flat
from functrans.lax.checkpoint import scalar_origin
from functrans.primitives._define import NOT_MAPPED, bdim_at_front

Body = Callable[[list], Sequence]


def output_avals(body: Body, args: Sequence, origin: str) -> list[tuple]:
    """``(shape, dtype)`` of each output of ``body`` applied to values like ``args``, found
    by recording it on abstract inputs (the shape rule of a higher-order primitive)."""
    program = stage_like(body, args, origin)
    return [(shape_of(o), dtype_of(o)) for o in program.outs]


def stage_like(body: Body, args: Sequence, origin: str) -> Program:
    """``body`` recorded on inputs of the shapes and dtypes of ``args``. An argument standing
    for a Python scalar stays weakly typed in the recording, as it is when ``body`` runs on
    ``args``: a Python scalar is passed as it is (its input unused), and a variable of a
    ``jit`` recording standing for one (through ``grad``'s tracers too) is an input standing
    for one."""
    body, scalars = weak_operands(body, args)
    return stage(body, [(shape_of(a), dtype_of(a)) for a in args], origin, scalars=scalars)


def weak_operands(body: Body, args: Sequence) -> tuple[Body, dict]:
    """``body`` and the ``stage`` scalars entries to record it with on inputs like ``args``,
    each argument standing for a Python scalar weakly typed there, as it is when ``body``
    runs on ``args``: a Python scalar is passed to ``body`` as it is (its input unused), and
    a value standing for one (see ``scalar_origin``) is an input standing for one.

    Example:
        >>> import numpy as np
        >>> body, scalars = weak_operands(lambda xs: xs, [np.ones(2), 2.0])
        >>> body(["x", "c"]), scalars  # (2.0 itself where the recording passes its input)
        (['x', 2.0], {})
    """
    scalars = {i: info for i, a in enumerate(args)
               if isinstance(a, Tracer) and (info := scalar_origin(a)) is not None}
    numbers = {i: a for i, a in enumerate(args) if type(a) in PY_SCALARS}
    if not numbers:
        return body, scalars
    return (lambda xs: body([numbers.get(i, x) for i, x in enumerate(xs)])), scalars


def stands_for_scalar(x: Any) -> bool:
    """Whether ``x`` is a Python scalar or a value standing for one (in a ``jit`` recording,
    or a tracer of ``grad`` at one; weakly typed: a float32 array times it stays float32),
    as a ``vmap`` rule keeps it: unbatched, rather than broadcast into a (strongly typed)
    array.

    Example:
        >>> stands_for_scalar(2.0), stands_for_scalar([2.0])
        (True, False)
    """
    if type(x) in PY_SCALARS:
        return True
    if not isinstance(x, Tracer) or shape_of(x) != ():
        return False
    info = scalar_origin(x)
    return info is not None and info[0] is not None


def traced_examples() -> list:
    """The examples a batching rule runs for (``active_examples``) when they are traced (a
    branch of a cond with a batched predicate under ``jit``), as a list of one value, else
    empty: a custom rule's batched body runs when the program runs, after the recording,
    so it takes them as its first operand (``batched``'s ``leading_mask``).

    Example:
        >>> traced_examples()  # (outside any batching rule)
        []
    """
    active = active_examples()
    return [active] if isinstance(active, Tracer) else []


def batched(body: Body, size: int, origin: str, within: BatchTrace | None,
            keep_scalars: bool = False, leading_mask: bool = False,
            tangents_after: int | None = None) -> Body:
    """``body`` on batches: every argument and every output has the batch axis (of ``size``
    examples) in front; ``zero`` outputs stay ``zero``. ``within``: the batch whose rule
    makes it (``enclosing_batch()`` there), whose examples they are. It runs for that rule's
    examples (``active_examples``: the loops in it wait for those alone): known values are
    kept; traced ones would not outlive the recording, so, ``leading_mask``, the batched
    body takes them as its first argument (``traced_examples``), which ``body`` does not
    see.

    With ``keep_scalars``, an argument standing for a Python scalar (``stands_for_scalar``)
    is the same for every example (it has no batch axis), and an output that is one and
    does not depend on the examples is returned as it is: both stay weakly typed. With
    ``tangents_after`` (``n``), the arguments from the ``n``-th on are the tangents of the
    ``n`` before them, each batched as its primal is (a tangent of a scalar kept unbatched
    is the same for every example too)."""
    active = active_examples()
    if isinstance(active, Tracer):
        active = None

    def body_on_batches(leaves: list) -> list:
        mask = active
        if leading_mask:
            mask, leaves = leaves[0], leaves[1:]
        dims = [NOT_MAPPED if keep_scalars and stands_for_scalar(x) else 0 for x in leaves]
        if tangents_after is not None:
            n = tangents_after
            dims[n:] = dims[:len(dims) - n]
        outs, dims = vmap_flat(body, leaves, dims, size, origin, within=within, active=mask)
        return [o if o is zero or (keep_scalars and d is NOT_MAPPED and stands_for_scalar(o))
                else bdim_at_front(o, d, size) for o, d in zip(outs, dims)]

    return body_on_batches


@contextlib.contextmanager
def plain_arrays_explained(name: str) -> Iterator[None]:
    """Around a body that runs as Python on plain NumPy arrays (no transformation active):
    JAX's ``x.at[i].set(v)`` then meets an ``ndarray``, which has no ``.at``; the error says
    what works on both."""
    try:
        yield
    except AttributeError as error:
        if "'numpy.ndarray' object has no attribute 'at'" not in str(error):
            raise
        raise AttributeError(
            f"{name}: the function ran as Python on NumPy arrays (no transformation is active), "
            "and a NumPy array has no .at: x.at[i].set(v) exists on traced arrays only. Write "
            "fnp.at(x)[i].set(v) (import functrans.numpy as fnp), which works on both.") from error
