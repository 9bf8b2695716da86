"""The optimizer interface: a pair of pure functions, and adding updates to parameters.

An optimizer (more generally, a gradient transformation) is ``init(params) -> state`` and
``update(grads, state, params=None) -> (updates, new_state)``. Nothing is mutated: the caller
keeps the state and passes it back on the next step, and adds the updates to the parameters
with :func:`apply_updates`.
"""
from __future__ import annotations

from typing import Any, NamedTuple, Protocol

import numpy as np

import functrans.numpy as fnp
from functrans import tree
from functrans.core.trace import Tracer
from functrans.primitives.conversion import convert_element_type
from functrans.typing import OptState, Params, PyTree, Updates

__all__ = ["EmptyState", "GradientTransformation", "InitFn", "Schedule", "ScalarOrSchedule",
           "UpdateFn", "apply_updates", "get_count", "get_learning_rate"]


class Schedule(Protocol):
    """A learning-rate (or other hyperparameter) schedule: the step count in, a number out.

    Any callable of one int works; :mod:`functrans.optim.schedules` has the usual ones.

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> opt = optim.sgd(lambda count: 0.1 / (1 + count))
        >>> _, state = opt.update(np.ones(1), opt.init(np.zeros(1)))
        >>> float(state.learning_rate)
        0.05
    """

    def __call__(self, count: int) -> float: ...


ScalarOrSchedule = float | Schedule
"""A constant number, or a :class:`Schedule` evaluated at the step count."""


class InitFn(Protocol):
    """Makes the initial optimizer state for a pytree of parameters."""

    def __call__(self, params: Params) -> OptState: ...


class UpdateFn(Protocol):
    """Turns gradients into updates, returning them with the new state."""

    def __call__(self, grads: Updates, state: OptState,
                 params: Params | None = None) -> tuple[Updates, OptState]: ...


class GradientTransformation(NamedTuple):
    """An optimizer, or a building block of one: ``init`` and ``update``, both pure.

    The functions are bound methods of a frozen configuration object, so ``repr(opt)`` shows
    the hyperparameters.

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


def _find_field(state: OptState, field: str) -> Any:
    """The first ``field`` of a NamedTuple in ``state``, searched breadth first through
    tuples and lists (the states of ``chain`` and ``masked``)."""
    queue = [state]
    while queue:
        node = queue.pop(0)
        if isinstance(node, tuple) and hasattr(node, "_fields") and field in node._fields:
            return getattr(node, field)
        if isinstance(node, (tuple, list)):
            queue.extend(node)
    raise ValueError(f"functrans.optim: this optimizer state has no '{field}' (it holds "
                     f"{type(state).__name__}); only the optimizers (sgd, adam, ...) record it")


def get_learning_rate(state: OptState) -> float:
    """The learning rate the next update will use, found anywhere in a (chained) state.

    Args:
        state: The state of an optimizer, or of a ``chain``/``masked`` containing one.

    Returns:
        The first ``learning_rate`` found (breadth first).

    Raises:
        ValueError: no optimizer state inside.

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> opt = optim.chain(optim.clip_by_global_norm(1.0), optim.adam(1e-3))
        >>> optim.get_learning_rate(opt.init(np.zeros(2)))
        0.001
    """
    return _find_field(state, "learning_rate")


def get_count(state: OptState) -> int:
    """The number of updates done, found anywhere in a (chained) state.

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> opt = optim.chain(optim.clip(1.0), optim.sgd(0.1))
        >>> state = opt.init(np.zeros(2))
        >>> _, state = opt.update(np.ones(2), state)
        >>> int(optim.get_count(state))
        1
    """
    return _find_field(state, "count")


def _first_count() -> np.int64:
    """The step count of a new state: a NumPy integer rather than a Python int, so that a
    ``jit``-staged training step takes it as an input instead of a constant of its cache
    key (a Python int that changed every step would stage the step anew every time)."""
    return np.int64(0)


def _rate(learning_rate: ScalarOrSchedule, count: Any) -> Any:
    """The value of a number (a Python float) or of a schedule at ``count`` (a NumPy float,
    an input rather than a constant for ``jit``, like the count; traced when the count is)."""
    if not callable(learning_rate):
        return float(learning_rate)
    value = learning_rate(count)
    return value if isinstance(value, Tracer) else np.float64(value)


def _coefficient(value: Any, like: Any) -> Any:
    """A per-step scalar (learning rate, bias correction) ready to multiply the array
    ``like``: a Python float when it is known, so ``like``'s dtype is kept (float32 stays
    float32); traced (under ``jit``), it is cast to ``like``'s dtype for the same reason."""
    if isinstance(value, Tracer):
        return convert_element_type(value, new_dtype=like.dtype)
    return float(value)


def _zeros_like_tree(params: PyTree) -> PyTree:
    return tree.map(fnp.zeros_like, params)


def _check_nonnegative(fn: str, **values: Any) -> None:
    for name, value in values.items():
        if not callable(value) and not value >= 0:
            raise ValueError(f"functrans.optim.{fn}: {name} must be >= 0, got {value!r}")


def _check_unit_interval(fn: str, **values: float) -> None:
    for name, value in values.items():
        if not 0.0 <= value < 1.0:
            raise ValueError(f"functrans.optim.{fn}: {name} must be in [0, 1), got {value!r}")


def _need_params(params: Params | None, fn: str, what: str) -> None:
    if params is None:
        raise ValueError(f"functrans.optim.{fn}: {what} needs the current parameters; call "
                         f"update(grads, state, params)")


def _same_leaves(treedef: tree.TreeDef, other: PyTree, fn: str, what: str) -> list:
    """The leaves of ``other``, which must have the gradients' structure ``treedef``."""
    leaves, other_def = tree.flatten(other)
    if other_def != treedef:
        raise ValueError(f"functrans.optim.{fn}: the {what} do not have the structure of the "
                         f"gradients ({other_def} vs {treedef}); make the state with "
                         f"init(params) of the same params the gradients are for")
    return leaves


def _l2(fn: str, g: list, treedef: tree.TreeDef, params: Params | None,
        weight_decay: float) -> list:
    """``g + weight_decay * p`` leaf by leaf (the L2 penalty's gradient)."""
    if not weight_decay:
        return g
    _need_params(params, fn, "weight_decay")
    p = _same_leaves(treedef, params, fn, "params")
    return [gi + weight_decay * pi for gi, pi in zip(g, p)]
