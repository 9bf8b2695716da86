"""The optimizer interface: a pair of pure functions, and adding updates to parameters.

An optimizer (more generally, a gradient transformation) is ``init(params) -> state`` and
``update(grads, state, params=None) -> (updates, new_state)``. Nothing is mutated: the caller
keeps the state and passes it back on the next step, and adds the updates to the parameters
with [`apply_updates`][functrans.optim.apply_updates].
"""
from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable
from typing import Any, ClassVar, NamedTuple, Protocol

import numpy as np

import functrans.numpy as fnp
from functrans import errors, tree
from functrans._abstract import PY_SCALARS, dtype_of, python_number, shape_of
from functrans.backend import to_host
from functrans.core.trace import Tracer
from functrans.errors import FunctransError, OptimizerInputError, TreeStructureError
from functrans.optim._norm import global_norm_p
from functrans.optim._norm import is_half as _is_half
from functrans.optim._norm import sum_of_squares as _sum_of_squares
from functrans.primitives.conversion import convert_element_type
from functrans.typing import OptState, Params, PyTree, Updates

__all__ = ["EmptyState", "GradientTransformation", "InitFn", "Schedule", "ScalarOrSchedule",
           "UpdateFn", "apply_updates", "get_count", "get_learning_rate", "incremental_update",
           "periodic_update"]


class Schedule(Protocol):
    """A learning-rate (or other hyperparameter) schedule: the step count in, a number out.

    Any callable of one int works; [`functrans.optim.schedules`][functrans.optim.schedules] has the usual ones.

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
"""A constant number, or a [`Schedule`][functrans.optim.Schedule] evaluated at the step count."""


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
        updates: A pytree with the same structure, each array of its parameter's shape (a
            Python number is added to every element).

    Returns:
        The updated parameters, the same structure and dtypes as ``params``.

    Raises:
        TreeStructureError: the updates have another structure, or an array of another shape
            than its parameter (the message names its key path).

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> p = {"w": np.ones(2, np.float32), "b": np.ones(1)}
        >>> optim.apply_updates(p, {"w": np.array([0.5, -0.5]), "b": None})
        {'b': array([1.]), 'w': array([1.5, 0.5], dtype=float32)}
    """
    p, treedef = tree.flatten(params)
    u, updates_def = tree.flatten(updates)
    if updates_def != treedef:
        u, updates_def = tree.flatten(updates, is_leaf=_is_none)  # None: keep that parameter
        if updates_def != treedef:
            raise _structure_error("apply_updates",
                                   "the updates do not have the structure of the params",
                                   updates, "the updates", params, "the params", _FIX_UPDATES)
    if _shapes(u) != _shapes(p):  # also for None and Python numbers, which are allowed
        for i, (pi, ui) in enumerate(zip(p, u)):
            if ui is not None and type(ui) not in PY_SCALARS and ui.shape != shape_of(pi):
                raise _shape_error("apply_updates", "the update", ui, "the parameter", pi,
                                   params, i, _FIX_UPDATES)
    out = []
    for pi, ui in zip(p, u):
        if ui is None:
            out.append(pi)
            continue
        new = pi + ui
        dtype = getattr(pi, "dtype", None)
        if dtype is not None and new.dtype != dtype:
            new = new.astype(dtype)
        out.append(new)
    return treedef.unflatten(out)


def incremental_update(new_tensors: PyTree, old_tensors: PyTree, step_size: Any) -> PyTree:
    """Polyak averaging: ``step_size * new + (1 - step_size) * old`` leaf by leaf, in each old
    leaf's dtype (the soft update of a target network, optax's ``incremental_update``).

    Args:
        new_tensors: The latest values (the online network's params).
        old_tensors: The running average (the target network's), the same structure.
        step_size: The weight of the new values, in ``[0, 1]`` (a number, or traced).

    Returns:
        The new average, the structure and dtypes of ``old_tensors``.

    Raises:
        TreeStructureError: the trees have different structures or leaf shapes.
        ValueError: a ``step_size`` outside ``[0, 1]``.

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> optim.incremental_update({"w": np.array([1.0])}, {"w": np.array([0.0])}, 0.1)
        {'w': array([0.1])}
    """
    if not isinstance(step_size, Tracer) and not 0.0 <= step_size <= 1.0:
        raise ValueError(f"functrans.optim.incremental_update: step_size must be in [0, 1], "
                         f"got {step_size!r}")
    new, old = _paired_leaves("incremental_update", new_tensors, old_tensors)
    leaves = [_in_dtype(step_size * n + (1.0 - step_size) * o, o) for n, o in zip(new, old)]
    return tree.structure(old_tensors).unflatten(leaves)


def periodic_update(new_tensors: PyTree, old_tensors: PyTree, steps: Any,
                    update_period: int) -> PyTree:
    """``new_tensors`` when ``steps`` is a multiple of ``update_period``, else ``old_tensors``
    (the hard update of a target network every ``update_period`` steps, optax's
    ``periodic_update``). A traced ``steps`` (a ``jit``-staged step) selects with ``where``.

    Args:
        new_tensors: The latest values.
        old_tensors: The values kept between updates, the same structure.
        steps: The step count.
        update_period: A positive int.

    Returns:
        One of the two trees, in the dtypes of ``old_tensors``.

    Raises:
        TreeStructureError: the trees have different structures or leaf shapes.
        ValueError: ``update_period`` is not a positive int.

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> new, old = np.array([1.0]), np.array([0.0])
        >>> optim.periodic_update(new, old, 4, 2), optim.periodic_update(new, old, 5, 2)
        (array([1.]), array([0.]))
    """
    if (not isinstance(update_period, (int, np.integer)) or isinstance(update_period, bool)
            or update_period < 1):
        raise ValueError(f"functrans.optim.periodic_update: update_period must be a positive "
                         f"int, got {update_period!r}")
    new, old = _paired_leaves("periodic_update", new_tensors, old_tensors)
    now = steps % update_period == 0
    if isinstance(now, Tracer):
        leaves = [_in_dtype(fnp.where(now, n, o), o) for n, o in zip(new, old)]
    else:
        leaves = [_in_dtype(n, o) if now else o for n, o in zip(new, old)]
    return tree.structure(old_tensors).unflatten(leaves)


def _paired_leaves(fn: str, new: PyTree, old: PyTree) -> tuple[list, list]:
    n, new_def = tree.flatten(new)
    o, old_def = tree.flatten(old)
    fix = "give the new and the old values as trees of the same structure and shapes"
    if new_def != old_def:
        raise _structure_error(fn, "the new values do not have the structure of the old ones",
                               new, "the new values", old, "the old values", fix)
    if _shapes(n) != _shapes(o):
        for i, (a, b) in enumerate(zip(n, o)):
            if shape_of(a) != shape_of(b):
                raise _shape_error(fn, "the new value", a, "the old value", b, old, i, fix)
    return n, o


def _in_dtype(value: Any, like: Any) -> Any:
    dtype = getattr(like, "dtype", None)
    if dtype is None or getattr(value, "dtype", dtype) == dtype:
        return value
    return value.astype(dtype) if not isinstance(value, Tracer) else convert_element_type(
        value, new_dtype=dtype)


def _shapes(leaves: list) -> list:
    """The leaves' shapes (``None`` for a leaf without one): one list to compare per tree."""
    return [getattr(x, "shape", None) for x in leaves]


def _is_none(x: Any) -> bool:
    return x is None


# --- checks of what update receives: cheap on the normal path, key paths only on failure -------
_FIX_STATE = ("make the state with opt.init(params) of the params the gradients are for, and "
              "take the gradients with respect to those params")
_FIX_UPDATES = "give updates with the params' structure and shapes (from opt.update)"


def _structure_error(fn: str, lead: str, value: PyTree, name: str, ref: PyTree, ref_name: str,
                     fix: str = _FIX_STATE) -> TreeStructureError:
    """``value`` (called ``name``) does not have the structure of ``ref``: the error says
    ``lead`` and names the key path of the first difference (slow path only)."""
    try:
        tree.assert_same_structure(ref, value, names=(ref_name, name))
        detail = f"{tree.structure(value)} vs {tree.structure(ref)}"
    except TreeStructureError as exc:
        detail = str(exc).split("\n", 1)[0].rstrip(".")
    return TreeStructureError(f"functrans.optim.{fn}: {lead}: {detail}. Fix: {fix}")


def _shape_error(fn: str, what: str, leaf: Any, ref_what: str, ref_leaf: Any, ref: PyTree,
                 index: int, fix: str = _FIX_STATE) -> TreeStructureError:
    """``leaf`` (the leaf number ``index``, a ``what``) does not have the shape of
    ``ref_leaf``, that of ``ref`` there: the error names its key path (slow path only)."""
    path = tree.keystr(tree.flatten_with_path(ref)[0][index][0]) or "the root"
    return TreeStructureError(f"functrans.optim.{fn}: at {path}, {what} has shape "
                              f"{shape_of(leaf)} but {ref_what} has shape {shape_of(ref_leaf)}. "
                              f"Fix: {fix}")


def _is_array(x: Any) -> bool:
    return type(x) in PY_SCALARS or (hasattr(x, "shape") and hasattr(x, "dtype"))


def _non_array_error(fn: str, what: str, value: PyTree) -> OptimizerInputError | None:
    """The error for the first leaf of ``value`` that is not an array or a number, or None."""
    pairs, _ = tree.flatten_with_path(value)
    for path, leaf in pairs:
        if not _is_array(leaf):
            shown = repr(leaf)
            shown = shown if len(shown) <= 40 else shown[:37] + "..."
            return OptimizerInputError(
                f"functrans.optim.{fn}: {what} at {tree.keystr(path) or 'the root'} is a "
                f"{type(leaf).__name__} ({shown}), not an array: an optimizer updates arrays "
                f"only. Fix: keep settings such as activation names out of the params (in the "
                f"model's configuration, or as arguments of its apply), so that params, "
                f"gradients and optimizer state hold arrays only")
    return None


def _check_params(fn: str, params: Params) -> None:
    """Refuse (at ``init``) a params tree with a leaf that is not an array or a number."""
    for leaf in tree.leaves(params):
        if not _is_array(leaf):
            error = _non_array_error(fn, "the parameter", params)
            if error is not None:
                raise error


def _is_optimizer_state(x: Any) -> bool:
    """Whether ``x`` is, or holds (as in a chain's tuple), a state made by functrans.optim."""
    queue = [x]
    while queue:
        node = queue.pop()
        if isinstance(node, tuple) and type(node).__module__.startswith("functrans.optim"):
            return True
        if isinstance(node, (tuple, list)):
            queue.extend(node)
    return False


def _wrong_state(fn: str, expected: type, grads: Any, state: Any) -> OptimizerInputError:
    """The error for a ``state`` that is not of the type this transformation's init makes."""
    got = type(state).__name__
    if _is_optimizer_state(grads) and not _is_optimizer_state(state):
        return OptimizerInputError(
            f"functrans.optim.{fn}: update received an optimizer state ({type(grads).__name__}) "
            f"as the gradients and a {got} as the state: the arguments are swapped. Fix: "
            f"updates, state = opt.update(grads, state, params)")
    if _is_optimizer_state(state):
        return OptimizerInputError(
            f"functrans.optim.{fn}: the state is a {got}, made by another optimizer or "
            f"transformation, not the {expected.__name__} this one's init makes. Fix: make the "
            f"state with this optimizer's own init, state = opt.init(params)")
    return OptimizerInputError(
        f"functrans.optim.{fn}: the state is a {got}, not the {expected.__name__} this "
        f"optimizer's init makes. Fix: state = opt.init(params) once, then updates, state = "
        f"opt.update(grads, state, params) at every step")


class _Transformation:
    """The configuration of a gradient transformation (its hyperparameters, a frozen
    dataclass in each subclass), whose bound ``init`` and ``update`` are the pair of pure
    functions. ``update`` checks the state's type (one comparison) and, only when the step
    fails, looks for a leaf that is not an array to name it."""

    name: ClassVar[str]
    state_type: ClassVar[type]
    #: whether ``update`` takes keyword arguments (optax's ``GradientTransformationExtraArgs``:
    #: ``value``, ``grad``, ``value_fn``, ...), which ``chain`` then passes on to it
    extra_args: ClassVar[bool] = False
    #: whether the state of half-precision (float16) leaves is float32 and their step is
    #: computed in float32, the updates given back in the leaves' dtype: float16 can hold
    #: neither g**2 for |g| > 256 nor for |g| < 2.4e-4, nor an eps of 1e-8
    half_in_float32: ClassVar[bool] = False

    def __post_init__(self) -> None:
        # NumPy-scalar hyperparameters (np.float64(0.9) from a sweep) as Python numbers, which
        # keep float32 params float32 where a NumPy float64 would promote them.
        for field in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, field.name)
            number = python_number(value)
            if number is not value:
                object.__setattr__(self, field.name, number)

    def init(self, params: Params) -> OptState:
        raise NotImplementedError

    def _update(self, grads: Updates, state: Any, params: Params | None) -> tuple[Updates, Any]:
        raise NotImplementedError

    def update(self, grads: Updates, state: OptState, params: Params | None = None,
               **extra_args: Any) -> tuple[Updates, OptState]:
        if extra_args and not self.extra_args:
            raise TypeError(f"functrans.optim.{self.name}: update takes no keyword arguments, "
                            f"got {sorted(extra_args)}; only a line search (lbfgs, "
                            f"scale_by_zoom_linesearch), polyak_sgd, or a chain holding one, "
                            f"takes value=, grad=, value_fn=")
        if type(state) is not self.state_type:
            raise _wrong_state(self.name, self.state_type, grads, state)
        try:
            if extra_args:
                return self._update(grads, state, params, **extra_args)
            return self._update(grads, state, params)
        except FunctransError:
            raise
        except (TypeError, AttributeError, ValueError) as exc:
            error = _non_array_error(self.name, "the gradient", grads)
            if error is None and params is not None:
                error = _non_array_error(self.name, "the parameter", params)
            if error is None:
                raise
            raise error from exc

    def _init_in_float32(self, params: Params) -> OptState:
        leaves, treedef = tree.flatten(params)
        wide = _widened(leaves)
        return self.init(params if wide is None else treedef.unflatten(wide))

    def transformation(self) -> GradientTransformation:
        init = self._init_in_float32 if self.half_in_float32 else self.init
        return GradientTransformation(init, self.update)


class _Block(_Transformation):
    """A building block: ``_step`` maps the gradients' leaves (and the block's state) to the
    updates' leaves. ``label`` is the optimizer an alias builds the block for, so that its
    errors name what the user called."""

    label: str
    half_in_float32: ClassVar[bool] = True

    @property
    def fn(self) -> str:
        return self.label or self.name

    def _step(self, g: list, treedef: tree.TreeDef, state: Any,
              params: Params | None) -> tuple[list, Any]:
        raise NotImplementedError

    def _update(self, grads: Updates, state: Any, params: Params | None) -> tuple[Updates, Any]:
        g, treedef = tree.flatten(grads)
        wide = _widened(g)
        if wide is None:
            out, state = self._step(g, treedef, state, params)
            return treedef.unflatten(out), state
        out, state = self._step(wide, treedef, state, params)
        return treedef.unflatten(_narrowed(out, g)), state


def _widened(leaves: list) -> list | None:
    """The leaves with the half-precision ones cast to float32, or None if there are none."""
    if not any(map(_is_half, leaves)):
        return None
    return [fnp.astype(x, np.float32) if _is_half(x) else x for x in leaves]


def _narrowed(out: list, like: list) -> list:
    """``out`` with the leaves where ``like`` is half precision cast back to its dtype."""
    return [fnp.astype(o, x.dtype) if _is_half(x) else o for o, x in zip(out, like)]


def _takes_extra_args(update: Any) -> bool:
    """Whether an ``update`` function takes keyword arguments beyond ``params`` (optax's
    ``GradientTransformationExtraArgs``)."""
    owner = getattr(update, "__self__", None)
    if isinstance(owner, _Transformation):
        return owner.extra_args
    try:
        parameters = inspect.signature(update).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters)


def _update_with(t: GradientTransformation, grads: Updates, state: OptState,
                 params: Params | None, extra_args: dict) -> tuple[Updates, OptState]:
    """``t.update``, given the keyword arguments if it takes them (as optax's combinators
    do: a transformation that takes none ignores them)."""
    if extra_args and _takes_extra_args(t.update):
        return t.update(grads, state, params, **extra_args)
    return t.update(grads, state, params)


def _as_transformation(t: Any) -> Any:
    """A wrapper object such as ``MultiSteps`` as its ``GradientTransformation`` (optax's
    combinators take it as it is); anything else unchanged, for the caller's type check."""
    return t.transformation() if isinstance(t, _Transformation) else t


def _label() -> Any:
    """The ``label`` field of a block: not part of its repr or equality."""
    return dataclasses.field(default="", repr=False, compare=False)


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
    if isinstance(learning_rate, Tracer):  # a rate being differentiated or staged
        return learning_rate
    if not callable(learning_rate):
        return float(to_host(learning_rate))
    value = learning_rate(count)
    return value if isinstance(value, Tracer) else np.float64(value)


def _coefficient(value: Any, like: Any) -> Any:
    """A per-step scalar (learning rate, bias correction) ready to multiply the array
    ``like``: a Python float when it is known, so ``like``'s dtype is kept (float32 stays
    float32); traced (under ``jit``), it is cast to ``like``'s dtype for the same reason."""
    if isinstance(value, Tracer):
        return convert_element_type(value, new_dtype=like.dtype)
    return float(value)


def _norm(leaves: list, wide: bool = False) -> Any:
    """The 2-norm of all ``leaves`` together, in their common dtype, right wherever it is
    representable (``global_norm_p``: also where the squares overflow or underflow). A zero
    tree has norm 0 with derivative 0. With ``wide``, the norm of half-precision leaves stays
    float32 (where it may exceed float16's range)."""
    if not leaves:
        return fnp.asarray(0.0)
    if any(dtype_of(u).kind not in "fc" for u in leaves):  # integer leaves: exact squares
        return fnp.sqrt(_sum_of_squares(leaves))
    norm = global_norm_p.bind(*leaves)
    if not wide and all(map(_is_half, leaves)):  # squared in float32, the norm in theirs
        norm = fnp.astype(norm, fnp.result_type(*leaves))
    return norm


def _zeros_like_tree(params: PyTree) -> PyTree:
    return tree.map(fnp.zeros_like, params)


def _check_nonnegative(fn: str, **values: Any) -> None:
    for name, value in values.items():
        if isinstance(value, Tracer):  # checked when it has a value (grad), not when staged
            try:
                value = value.to_concrete()
            except errors.TracerConversionError:
                continue
        if not callable(value) and not bool(to_host(value >= 0)):
            raise ValueError(f"functrans.optim.{fn}: {name} must be >= 0, got {value!r}")


def _check_unit_interval(fn: str, **values: Any) -> None:
    for name, value in values.items():
        if isinstance(value, Tracer):  # an injected hyperparameter: checked when it has a value
            try:
                value = value.to_concrete()
            except errors.TracerConversionError:
                continue
        if not 0.0 <= value < 1.0:
            raise ValueError(f"functrans.optim.{fn}: {name} must be in [0, 1), got {value!r}")


def _nonzero(value: Any) -> bool:
    """Whether a hyperparameter switches its term on: a traced one (an injected
    hyperparameter under ``jit``) is taken as on, since its value is not known."""
    return isinstance(value, Tracer) or bool(value)


def _need_params(params: Params | None, fn: str, what: str) -> None:
    if params is None:
        raise ValueError(f"functrans.optim.{fn}: {what} needs the current parameters; call "
                         f"update(grads, state, params)")


def _same_leaves(treedef: tree.TreeDef, g: list, other: PyTree, fn: str, what: str,
                 shapes: bool = True) -> list:
    """The leaves of ``other`` (the params, or a buffer of the state made from them), which
    must have the gradients' structure ``treedef`` and (unless ``shapes`` is False: an update
    checks them once, against its first buffer) the shapes of their leaves ``g``."""
    leaves, other_def = tree.flatten(other)
    if other_def != treedef:
        name = "the params" if what == "params" else f"the state's {what}"
        made = " do" if what == "params" else ", made by init(params), does"
        raise _structure_error(fn, f"{name}{made} not have the structure of the gradients",
                               treedef.unflatten(g), "the gradients", other, name)
    if shapes and _shapes(g) != _shapes(leaves):  # else a Python number against a 0-d array
        for i, (a, b) in enumerate(zip(g, leaves)):
            if shape_of(a) != shape_of(b):
                name = "the parameter" if what == "params" else f"the state's {what} (made by init)"
                raise _shape_error(fn, "the gradient", a, name, b, other, i)
    return leaves


Mask = PyTree | Callable[[Params], PyTree]


def _mask_leaves(mask: Mask, params: PyTree, fn: str) -> list[bool]:
    """One bool per leaf of ``params``. ``mask`` has the params' structure or is a prefix of
    it (a bool then covers a whole subtree), or is a function of the params giving either."""
    if callable(mask):
        mask = mask(params)
    mask_pairs, _ = tree.flatten_with_path(mask)
    by_path = {path: bool(value) for path, value in mask_pairs}
    param_pairs, _ = tree.flatten_with_path(params)
    out = []
    for path, _leaf in param_pairs:
        for n in range(len(path), -1, -1):
            value = by_path.get(path[:n])
            if value is not None:
                out.append(value)
                break
        else:
            raise ValueError(f"functrans.optim.{fn}: the mask has no entry for the parameter at "
                             f"{tree.keystr(path)}; give a mask with the params' structure (or a "
                             f"prefix of it) holding True/False")
    return out



def _l2(fn: str, g: list, treedef: tree.TreeDef, params: Params | None,
        weight_decay: float) -> list:
    """``g + weight_decay * p`` leaf by leaf (the L2 penalty's gradient; ``g`` itself when the
    decay is off, a traced decay counting as on)."""
    if not _nonzero(weight_decay):
        return g
    _need_params(params, fn, "weight_decay")
    p = _same_leaves(treedef, g, params, fn, "params")
    return [gi + weight_decay * pi for gi, pi in zip(g, p)]


def _moment(decay: float, old: list, new: list) -> list:
    """``decay * old + (1 - decay) * new``, leaf by leaf: an exponential moving average."""
    return [decay * o + (1.0 - decay) * n for o, n in zip(old, new)]


def _debias(moment: list, decay: float, t: Any) -> list:
    """``moment / (1 - decay**t)``, leaf by leaf, in each leaf's dtype."""
    correction = 1.0 - decay**t
    return [m / _coefficient(correction, m) for m in moment]
