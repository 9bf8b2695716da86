"""Building blocks to combine with ``chain``: clipping, weight decay, scaling, zeroing.

Each returns a :class:`GradientTransformation`; placed before an optimizer in ``chain`` they
act on the gradients, placed after it on the updates.

Example:
    >>> import numpy as np
    >>> from functrans import optim
    >>> opt = optim.chain(optim.clip_by_global_norm(1.0), optim.sgd(1.0))
    >>> updates, _ = opt.update(np.array([3.0, 4.0]), opt.init(np.zeros(2)))
    >>> updates
    array([-0.6, -0.8])
"""
from __future__ import annotations

import dataclasses
from typing import ClassVar

import functrans.numpy as fnp
from functrans import tree
from functrans._abstract import dtype_of
from functrans.optim.base import (
    EmptyState,
    GradientTransformation,
    _Block,
    _check_nonnegative,
    _label,
    _need_params,
    _same_leaves,
    _Transformation,
)
from functrans.typing import Params, Updates

__all__ = ["add_decayed_weights", "clip", "clip_by_global_norm", "global_norm", "scale",
           "set_to_zero"]


class _Stateless(_Transformation):
    """A transformation that keeps no state (an :class:`EmptyState`)."""

    state_type: ClassVar[type] = EmptyState

    def init(self, params: Params) -> EmptyState:
        return EmptyState()


def global_norm(updates: Updates) -> object:
    """The 2-norm of all leaves together, ``sqrt(sum over leaves of sum(u**2))``.

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> float(optim.global_norm({"a": np.array([3.0]), "b": np.array([[4.0]])}))
        5.0
    """
    total = None
    for u in tree.leaves(updates):
        s = fnp.sum(u * u)
        total = s if total is None else total + s
    return fnp.sqrt(total) if total is not None else fnp.asarray(0.0)


@dataclasses.dataclass(frozen=True)
class _Scale(_Stateless):
    name: ClassVar[str] = "scale"

    step_size: float

    def _update(self, grads: Updates, state: EmptyState,
                params: Params | None) -> tuple[Updates, EmptyState]:
        return tree.map(lambda g: self.step_size * g, grads), state


def scale(step_size: float) -> GradientTransformation:
    """Multiply every update by ``step_size``.

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> opt = optim.scale(-0.5)
        >>> opt.update(np.array([2.0]), opt.init(None))[0]
        array([-1.])
    """
    return _Scale(step_size).transformation()


@dataclasses.dataclass(frozen=True)
class _Clip(_Stateless):
    name: ClassVar[str] = "clip"

    max_delta: float

    def _update(self, grads: Updates, state: EmptyState,
                params: Params | None) -> tuple[Updates, EmptyState]:
        d = self.max_delta
        return tree.map(lambda g: fnp.clip(g, -d, d), grads), state


def clip(max_delta: float) -> GradientTransformation:
    """Clip every coordinate to ``[-max_delta, max_delta]``.

    Raises:
        ValueError: a negative ``max_delta``.

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> opt = optim.clip(1.0)
        >>> opt.update(np.array([-3.0, 0.5, 2.0]), opt.init(None))[0]
        array([-1. ,  0.5,  1. ])
    """
    _check_nonnegative("clip", max_delta=max_delta)
    return _Clip(max_delta).transformation()


@dataclasses.dataclass(frozen=True)
class _ClipByGlobalNorm(_Stateless):
    name: ClassVar[str] = "clip_by_global_norm"

    max_norm: float

    def _update(self, grads: Updates, state: EmptyState,
                params: Params | None) -> tuple[Updates, EmptyState]:
        norm = global_norm(grads)
        # factor = min(1, max_norm / norm), computed without dividing by a zero norm.
        factor = self.max_norm / fnp.maximum(norm, self.max_norm)
        return tree.map(lambda g: g * fnp.astype(factor, dtype_of(g)), grads), state


def clip_by_global_norm(max_norm: float) -> GradientTransformation:
    """Scale all updates together so their global 2-norm is at most ``max_norm``:
    ``g * min(1, max_norm / global_norm(g))`` (directions are kept).

    Reference: Pascanu, Mikolov and Bengio, "On the difficulty of training recurrent neural
    networks", ICML 2013.

    Raises:
        ValueError: ``max_norm`` is not positive.

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> opt = optim.clip_by_global_norm(1.0)
        >>> opt.update({"a": np.array([6.0]), "b": np.array([8.0])}, opt.init(None))[0]
        {'a': array([0.6]), 'b': array([0.8])}
    """
    if not max_norm > 0:
        raise ValueError(f"functrans.optim.clip_by_global_norm: max_norm must be > 0, "
                         f"got {max_norm!r}")
    return _ClipByGlobalNorm(float(max_norm)).transformation()


@dataclasses.dataclass(frozen=True)
class _AddDecayedWeights(_Block):
    name: ClassVar[str] = "add_decayed_weights"
    state_type: ClassVar[type] = EmptyState

    weight_decay: float
    label: str = _label()

    def init(self, params: Params) -> EmptyState:
        return EmptyState()

    def _step(self, g: list, treedef: tree.TreeDef, state: EmptyState,
              params: Params | None) -> tuple[list, EmptyState]:
        if not self.weight_decay:
            return g, state
        _need_params(params, self.fn, "weight_decay")
        p = _same_leaves(treedef, g, params, self.fn, "params")
        return [gi + self.weight_decay * pi for gi, pi in zip(g, p)], state


def add_decayed_weights(weight_decay: float) -> GradientTransformation:
    """Add ``weight_decay * params`` to the updates. Before an optimizer in ``chain`` this is
    an L2 penalty; after a scale-free optimizer (``chain(adam(1.0), add_decayed_weights(wd),
    scale(-lr))``-style) it is decoupled decay. Wrap it in ``masked`` to decay only some
    parameters (commonly not biases or norms).

    Raises:
        ValueError: a negative ``weight_decay``.

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> opt = optim.add_decayed_weights(0.1)
        >>> params = np.array([10.0])
        >>> opt.update(np.array([1.0]), opt.init(params), params)[0]
        array([2.])
    """
    _check_nonnegative("add_decayed_weights", weight_decay=weight_decay)
    return _AddDecayedWeights(weight_decay).transformation()


@dataclasses.dataclass(frozen=True)
class _SetToZero(_Stateless):
    name: ClassVar[str] = "set_to_zero"

    def _update(self, grads: Updates, state: EmptyState,
                params: Params | None) -> tuple[Updates, EmptyState]:
        return tree.map(fnp.zeros_like, grads), state


def set_to_zero() -> GradientTransformation:
    """Replace every update by zeros (with ``masked``: freeze those parameters).

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> opt = optim.set_to_zero()
        >>> opt.update(np.array([1.0, 2.0]), opt.init(None))[0]
        array([0., 0.])
    """
    return _SetToZero().transformation()
