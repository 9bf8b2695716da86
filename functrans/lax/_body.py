"""Running the body of a higher-order primitive under an interpreter: its output shapes (the
body recorded on abstract inputs) and its batched form (the body under ``vmap_flat``).

A body is a function of a flat list of leaves returning a flat list of leaves.
"""
from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence

from functrans._abstract import dtype_of, shape_of
from functrans.core.staging import stage
from functrans.core.trace import Tracer
from functrans.core.zeros import zero
from functrans.interpreters.batching import BatchTrace, active_examples, vmap_flat
from functrans.primitives._define import bdim_at_front

Body = Callable[[list], Sequence]


def output_avals(body: Body, args: Sequence, origin: str) -> list[tuple]:
    """``(shape, dtype)`` of each output of ``body`` applied to values like ``args``, found
    by recording it on abstract inputs (the shape rule of a higher-order primitive)."""
    program = stage(body, [(shape_of(a), dtype_of(a)) for a in args], origin)
    return [(shape_of(o), dtype_of(o)) for o in program.outs]


def batched(body: Body, size: int, origin: str, within: BatchTrace | None) -> Body:
    """``body`` on batches: every argument and every output has the batch axis (of ``size``
    examples) in front; ``zero`` outputs stay ``zero``. ``within``: the batch whose rule
    makes it (``enclosing_batch()`` there), whose examples they are. It runs for that rule's
    examples (``active_examples``: the loops in it wait for those alone) when they are known
    values: a traced mask would not outlive the recording, and a custom rule's batched body
    runs when the program runs."""
    active = active_examples()
    if isinstance(active, Tracer):
        active = None

    def body_on_batches(leaves: list) -> list:
        outs, dims = vmap_flat(body, leaves, [0] * len(leaves), size, origin, within=within,
                               active=active)
        return [o if o is zero else bdim_at_front(o, d, size) for o, d in zip(outs, dims)]

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
