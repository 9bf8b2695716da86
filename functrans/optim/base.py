"""The optimizer interface: a pair of pure functions, and adding updates to parameters.

An optimizer (more generally, a gradient transformation) is ``init(params) -> state`` and
``update(grads, state, params=None) -> (updates, new_state)``. Nothing is mutated: the caller
keeps the state and passes it back on the next step, and adds the updates to the parameters
with :func:`apply_updates`.
"""
from __future__ import annotations

from typing import Any, Callable, NamedTuple, Optional, Protocol, Union

import functrans.numpy as fnp
from functrans import tree
from functrans.typing import OptState, Params, PyTree, Updates

__all__ = ["EmptyState", "GradientTransformation", "Schedule", "ScalarOrSchedule",
           "apply_updates"]


class Schedule(Protocol):
    """A learning-rate (or other hyperparameter) schedule: the step count in, a number out."""

    def __call__(self, count: int) -> float: ...


ScalarOrSchedule = Union[float, Schedule]
"""A constant number, or a :class:`Schedule` evaluated at the step count."""


class InitFn(Protocol):
    """Makes the initial optimizer state for a pytree of parameters."""

    def __call__(self, params: Params) -> OptState: ...


class UpdateFn(Protocol):
    """Turns gradients into updates, returning them with the new state."""

    def __call__(self, grads: Updates, state: OptState,
                 params: Optional[Params] = None) -> tuple[Updates, OptState]: ...


class GradientTransformation(NamedTuple):
    """An optimizer, or a building block of one: ``init`` and ``update``, both pure.

    Attributes:
        init: ``init(params) -> state``.
        update: ``update(grads, state, params=None) -> (updates, new_state)``.

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> opt = optim.sgd(0.5)
        >>> params = {"w": np.array([1.0, 2.0])}
        >>> state = opt.init(params)
        >>> updates, state = opt.update({"w": np.array([1.0, 1.0])}, state, params)
        >>> optim.apply_updates(params, updates)["w"]
        array([0.5, 1.5])
    """

    init: InitFn
    update: UpdateFn


class EmptyState(NamedTuple):
    """The state of a transformation that keeps none.

    Example:
        >>> from functrans import optim
        >>> optim.EmptyState()
        EmptyState()
    """


def apply_updates(params: Params, updates: Updates) -> Params:
    """``params + updates``, leaf by leaf, keeping each parameter's dtype.

    An update computed in a wider dtype (say float64 for float32 params) is cast back to the
    parameter's dtype, so float32 parameters stay float32 over any number of steps. ``None``
    updates leave the parameter unchanged.

    Args:
        params: A pytree of arrays.
        updates: A pytree with the same structure.

    Returns:
        The updated parameters, the same structure and dtypes as ``params``.

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> p = {"w": np.ones(2, np.float32)}
        >>> optim.apply_updates(p, {"w": np.array([0.5, -0.5])})["w"]
        array([1.5, 0.5], dtype=float32)
    """
    return tree.map(_add_keep_dtype, params, updates)


def _add_keep_dtype(p: Any, u: Any) -> Any:
    if u is None:
        return p
    out = p + u
    dtype = getattr(p, "dtype", None)
    if dtype is not None and out.dtype != dtype:
        out = out.astype(dtype)
    return out


def _as_schedule(value: ScalarOrSchedule) -> Callable[[int], float]:
    """A schedule for a number or a schedule (callables pass through)."""
    if callable(value):
        return value
    constant = float(value)
    return lambda count: constant


def _tree_zeros_like(params: PyTree) -> PyTree:
    return tree.map(fnp.zeros_like, params)


def _check_positive(name: str, value: Any, fn: str, allow_zero: bool = False) -> None:
    if callable(value):
        return
    ok = value >= 0 if allow_zero else value > 0
    if not ok:
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"functrans.optim.{fn}: {name} must be {bound}, got {value!r}")
