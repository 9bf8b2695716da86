"""Transformations that wrap others: gradient accumulation ([`MultiSteps`][functrans.optim.MultiSteps]),
hyperparameters held in the state ([`inject_hyperparams`][functrans.optim.inject_hyperparams]), per-group optimizers
([`multi_transform`][functrans.optim.multi_transform]) and skipping non-finite steps
([`apply_if_finite`][functrans.optim.apply_if_finite]).

Each decides per step with array operations (``where``) when the decision depends on a
traced value, so a ``jit``-staged training step has no Python branch on the step count or on
the gradients' values; with concrete values it takes the branch directly.

Example:
    >>> import numpy as np
    >>> from functrans import optim
    >>> opt = optim.MultiSteps(optim.sgd(1.0), every_k_schedule=2)
    >>> state = opt.init(np.zeros(1))
    >>> u1, state = opt.update(np.array([1.0]), state)
    >>> u2, state = opt.update(np.array([3.0]), state)
    >>> u1, u2    # nothing, then the step with the mean gradient
    (array([0.]), array([-2.]))
"""
from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, NamedTuple

import numpy as np

import functrans.numpy as fnp
from functrans import tree
from functrans._abstract import dtype_of
from functrans.backend import to_host
from functrans.core.trace import Tracer
from functrans.errors import OptimizerInputError, TreeStructureError
from functrans.optim.base import (
    GradientTransformation,
    _as_transformation,
    _check_params,
    _first_count,
    _structure_error,
    _Transformation,
    _update_with,
    _zeros_like_tree,
)
from functrans.optim.combine import _inner_error
from functrans.primitives.conversion import convert_element_type
from functrans.typing import Array, OptState, Params, PyTree, Updates

__all__ = ["ApplyIfFiniteState", "InjectHyperparamsState", "MultiSteps", "MultiStepsState",
           "MultiTransformState", "apply_if_finite", "inject_hyperparams", "multi_transform"]


def _select(condition: Any, if_true: PyTree, if_false: PyTree) -> PyTree:
    """``if_true`` where ``condition`` holds, else ``if_false`` (two trees of one structure):
    a Python choice for a concrete condition, a leafwise ``where`` for a traced one."""
    if not isinstance(condition, Tracer):
        return if_true if bool(to_host(condition)) else if_false
    return tree.map(lambda a, b: fnp.where(condition, a, b), if_true, if_false)


# --- MultiSteps: gradient accumulation -----------------------------------------------------------
class MultiStepsState(NamedTuple):
    """State of [`MultiSteps`][functrans.optim.MultiSteps].

    Attributes:
        mini_step: Gradients accumulated since the last real step.
        gradient_step: Real steps done (inner updates applied).
        inner_opt_state: The wrapped optimizer's state.
        acc_grads: The mean (or, with ``use_grad_mean=False``, the sum) of the gradients
            accumulated so far.

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> optim.MultiSteps(optim.sgd(0.1), 4).init(np.zeros(1)).mini_step
        np.int64(0)
    """

    mini_step: Array
    gradient_step: Array
    inner_opt_state: OptState
    acc_grads: PyTree


@dataclasses.dataclass(frozen=True)
class MultiSteps(_Transformation):
    """Gradient accumulation: the wrapped optimizer steps once every ``k`` calls, with the
    mean of the ``k`` gradients (a batch ``k`` times larger, in the memory of one); the
    other calls give zero updates. ``every_k_schedule`` is an int or a function of the
    number of real steps done.

    Under ``jit`` the inner update is computed at every call and selected with ``where``, so
    one staged step serves every call.

    Args:
        opt: The optimizer to step.
        every_k_schedule: ``k``, or a function of ``gradient_step`` giving it.
        use_grad_mean: Step with the mean of the ``k`` gradients (optax's default); False
            steps with their sum.

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> opt = optim.MultiSteps(optim.sgd(0.5), every_k_schedule=3)
        >>> state = opt.init(np.zeros(1))
        >>> for g in (1.0, 2.0, 6.0):
        ...     updates, state = opt.update(np.array([g]), state)
        >>> updates, bool(optim.MultiSteps.has_updated(state))
        (array([-1.5]), True)
    """

    name: ClassVar[str] = "MultiSteps"
    state_type: ClassVar[type] = MultiStepsState
    extra_args: ClassVar[bool] = True

    opt: GradientTransformation
    every_k_schedule: int | Callable[[Any], Any]
    use_grad_mean: bool = True

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.opt, GradientTransformation):
            raise TypeError(f"functrans.optim.MultiSteps: opt must be a GradientTransformation "
                            f"(e.g. optim.adam(1e-3)), got {type(self.opt).__name__}")
        k = self.every_k_schedule
        if not callable(k) and (not isinstance(k, (int, np.integer)) or isinstance(k, bool)
                                or k < 1):
            raise ValueError(f"functrans.optim.MultiSteps: every_k_schedule must be a positive "
                             f"int or a function of the step count, got {k!r}")

    def init(self, params: Params) -> MultiStepsState:
        _check_params(self.name, params)
        return MultiStepsState(_first_count(), _first_count(), self.opt.init(params),
                               _zeros_like_tree(params))

    def _update(self, grads: Updates, state: MultiStepsState, params: Params | None,
                **extra_args: Any) -> tuple[Updates, MultiStepsState]:
        k = self.every_k_schedule
        k = k(state.gradient_step) if callable(k) else k
        n = state.mini_step
        if tree.structure(grads) != tree.structure(state.acc_grads):
            raise _structure_error(self.name, "the state's acc_grads, made by init(params), does "
                                   "not have the structure of the gradients", grads,
                                   "the gradients", state.acc_grads, "the state's acc_grads")
        if self.use_grad_mean:  # the running mean (g + n * acc) / (n + 1): no growing sum
            acc = tree.map(lambda g, a: (g + n * a) / (n + 1), grads, state.acc_grads)
        else:
            acc = tree.map(lambda g, a: g + a, grads, state.acc_grads)
        acc = tree.map(lambda a, g: a.astype(g.dtype) if hasattr(a, "astype") else a, acc, grads)
        emit = n + 1 >= k
        if not isinstance(emit, Tracer) and not bool(to_host(emit)):  # accumulate only
            zeros = tree.map(fnp.zeros_like, grads)
            return zeros, MultiStepsState(n + 1, state.gradient_step, state.inner_opt_state, acc)
        updates, inner = _update_with(self.opt, acc, state.inner_opt_state, params, extra_args)
        zeros = tree.map(fnp.zeros_like, updates)
        new_state = MultiStepsState(
            _select(emit, n * 0, n + 1), _select(emit, state.gradient_step + 1, state.gradient_step),
            _select(emit, inner, state.inner_opt_state),
            _select(emit, tree.map(fnp.zeros_like, acc), acc))
        return _select(emit, updates, zeros), new_state

    def gradient_transformation(self) -> GradientTransformation:
        """This wrapper as a [`GradientTransformation`][functrans.optim.GradientTransformation] (for
        [`chain`][functrans.optim.chain])."""
        return self.transformation()

    @staticmethod
    def has_updated(state: MultiStepsState) -> Any:
        """Whether the last update was a real step (the accumulation just restarted)."""
        return state.mini_step == 0


# --- inject_hyperparams: hyperparameters as arrays in the state ----------------------------------
class InjectHyperparamsState(NamedTuple):
    """State of an optimizer made by [`inject_hyperparams`][functrans.optim.inject_hyperparams].

    Attributes:
        count: Updates done so far.
        hyperparams: ``{name: value}``, the values the next update uses (0-d arrays; set an
            entry to change it: ``state.hyperparams["learning_rate"] = np.asarray(1e-4)``).
        inner_state: The optimizer's own state.

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> state = optim.inject_hyperparams(optim.adam)(learning_rate=0.1).init(np.zeros(1))
        >>> float(state.hyperparams["learning_rate"]), float(state.hyperparams["b1"])
        (0.1, 0.9)
    """

    count: Array
    hyperparams: dict[str, Any]
    inner_state: OptState


def _is_number(value: Any) -> bool:
    return (isinstance(value, (float, np.floating, Tracer))
            or (isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind == "f"))


def _switches_state(factory: Callable[..., GradientTransformation],
                    arguments: Mapping[str, Any], name: str) -> bool:
    """Whether the float hyperparameter ``name`` is 0 and switches off a part of the state
    (``momentum=0.0``: no momentum buffer), so that another value would make a state of
    another structure, or a term that needs the params (``weight_decay=0.0``): it then stays
    a constant, and a staged step keeps ``init``'s structure and runs without params."""
    value = arguments[name]
    if not _is_number(value) or isinstance(value, Tracer) or float(value) != 0.0:
        return False
    probe = np.zeros(1)  # host-metadata: a dummy param, only its state's structure is read
    try:
        off_opt, on_opt = factory(**arguments), factory(**{**arguments, name: 0.5})
        off, on = off_opt.init(probe), on_opt.init(probe)
    except Exception:  # 0.5 not a valid value, or a factory that needs other params
        return False
    if tree.structure(off) != tree.structure(on):
        return True
    # A term that needs the params when on (weight_decay=0.0): a traced value is taken as
    # on, so injecting it would make a staged update without params ask for them.
    try:
        off_opt.update(probe, off)
    except Exception:  # the optimizer needs params anyway: nothing to keep off
        return False
    try:
        on_opt.update(probe, on)
    except Exception:
        return True
    return False


def _value(value: Any, dtype: Any = None) -> Any:
    """A hyperparameter for the factory: the Python number (so the updates are those of the
    optimizer made with it directly), or the tracer under ``jit``/``grad``, cast to ``dtype``
    (the gradients' float dtype) so that float32 gradients give float32 updates and state as
    they do eagerly, where the Python number keeps their dtype."""
    if not isinstance(value, Tracer):
        return float(value)
    if dtype is None or dtype_of(value) == dtype:
        return value
    return convert_element_type(value, new_dtype=dtype)


def _float_dtype(grads: Updates) -> Any:
    """The widest float dtype of the gradients' leaves (``None`` without a float leaf)."""
    dtypes = {dtype_of(x) for x in tree.leaves(grads) if hasattr(x, "dtype")}
    floats = [d for d in dtypes if d.kind == "f"]
    return np.result_type(*floats) if floats else None


def _with_learning_rate(state: OptState, rate: Any) -> OptState:
    """``state`` with every ``learning_rate`` field set to ``rate``, so a rate changed in the
    hyperparameters is used by this update, not the next."""
    def is_rate_holder(x: Any) -> bool:
        return isinstance(x, tuple) and "learning_rate" in getattr(x, "_fields", ())

    return tree.map(lambda x: x._replace(learning_rate=rate) if is_rate_holder(x) else x,
                    state, is_leaf=is_rate_holder)


@dataclasses.dataclass(frozen=True)
class _InjectHyperparams(_Transformation):
    name: ClassVar[str] = "inject_hyperparams"
    state_type: ClassVar[type] = InjectHyperparamsState
    extra_args: ClassVar[bool] = True

    factory: Callable[..., GradientTransformation]
    static: tuple[tuple[str, Any], ...]
    numbers: tuple[tuple[str, Any], ...]
    schedules: tuple[tuple[str, Any], ...]

    def _make(self, hyperparams: Mapping[str, Any], dtype: Any = None) -> GradientTransformation:
        values = {name: _value(v, dtype) for name, v in hyperparams.items()}
        return self.factory(**dict(self.static), **values)

    def _at(self, count: Any, previous: Mapping[str, Any]) -> dict[str, Any]:
        out = dict(previous)
        for name, schedule in self.schedules:
            value = schedule(count)
            out[name] = value if isinstance(value, Tracer) else np.float64(value)
        return out

    def init(self, params: Params) -> InjectHyperparamsState:
        hyperparams = self._at(0, {name: np.float64(v) if not isinstance(v, Tracer)
                                   else v for name, v in self.numbers})
        return InjectHyperparamsState(_first_count(), hyperparams,
                                      self._make(hyperparams).init(params))

    def _update(self, grads: Updates, state: InjectHyperparamsState, params: Params | None,
                **extra_args: Any) -> tuple[Updates, InjectHyperparamsState]:
        hyperparams = state.hyperparams
        expected = {name for name, _ in self.numbers} | {name for name, _ in self.schedules}
        if set(hyperparams) != expected:
            raise OptimizerInputError(
                f"functrans.optim.inject_hyperparams: the state's hyperparams have the names "
                f"{sorted(hyperparams)}, this optimizer injects {sorted(expected)}. Fix: change "
                f"the values of the existing entries only, or make the state with opt.init")
        dtype = _float_dtype(grads)
        inner = self._make(hyperparams, dtype)
        inner_state = state.inner_state
        if "learning_rate" in hyperparams:
            inner_state = _with_learning_rate(inner_state,
                                              _value(hyperparams["learning_rate"], dtype))
        updates, inner_state = _update_with(inner, grads, inner_state, params, extra_args)
        count = state.count + 1
        return updates, InjectHyperparamsState(count, self._at(count, hyperparams), inner_state)


def inject_hyperparams(optimizer_factory: Callable[..., GradientTransformation],
                       static_args: tuple[str, ...] = ()) -> Callable[..., GradientTransformation]:
    """Wrap an optimizer factory so that its float hyperparameters live in the state as
    arrays: they can be read and changed between steps without ``init`` again, and a
    ``jit``-staged step takes them as inputs (a new value does not stage it anew). A
    hyperparameter given as a schedule is evaluated at every step and its value kept there.

    Ints, bools, ``None``, a 0 that switches off a part of the state (``momentum=0.0``: no
    momentum buffer) or a term that needs the params (``weight_decay=0.0``, so that
    ``update(grads, state)`` works under ``jit`` as eagerly) and the names in ``static_args``
    are passed to the factory as they are.
    Under ``jit``, the traced hyperparameters are cast to the gradients' float dtype, as optax
    does, so float32 gradients give float32 updates and state, as they do eagerly.

    Args:
        optimizer_factory: A function such as [`adam`][functrans.optim.adam] making a GradientTransformation.
        static_args: Names of float arguments to keep out of the state.

    Returns:
        A function taking the factory's arguments, giving a GradientTransformation whose
        state is an [`InjectHyperparamsState`][functrans.optim.InjectHyperparamsState].

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> opt = optim.inject_hyperparams(optim.sgd)(learning_rate=0.1)
        >>> state = opt.init(np.zeros(1))
        >>> state.hyperparams["learning_rate"] = np.asarray(0.5)
        >>> opt.update(np.array([1.0]), state)[0]
        array([-0.5])
    """
    signature = inspect.signature(optimizer_factory)

    def make(*args: Any, **kwargs: Any) -> GradientTransformation:
        try:
            bound = signature.bind(*args, **kwargs)
        except TypeError as exc:
            raise TypeError(f"functrans.optim.inject_hyperparams: {exc} (the arguments of "
                            f"{getattr(optimizer_factory, '__name__', 'the factory')})") from None
        bound.apply_defaults()
        static, numbers, schedules = [], [], []
        for name, value in bound.arguments.items():
            if name in static_args or _switches_state(optimizer_factory, bound.arguments, name):
                static.append((name, value))
            elif _is_number(value):
                numbers.append((name, value))
            elif callable(value):
                schedules.append((name, value))
            else:
                static.append((name, value))
        optimizer_factory(*args, **kwargs)  # the factory's own checks, before any step
        return _InjectHyperparams(optimizer_factory, tuple(static), tuple(numbers),
                                  tuple(schedules)).transformation()

    make.__name__ = getattr(optimizer_factory, "__name__", "optimizer")
    make.__doc__ = optimizer_factory.__doc__
    return make


# --- multi_transform: an optimizer per group of parameters ---------------------------------------
class MultiTransformState(NamedTuple):
    """State of [`multi_transform`][functrans.optim.multi_transform]: ``{label: state}``, each over its group's leaves
    (held as a flat list).

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> opt = optim.multi_transform({"a": optim.sgd(0.1), "b": optim.adam(0.1)},
        ...                             {"w": "a", "v": "b"})
        >>> sorted(opt.init({"w": np.zeros(1), "v": np.zeros(1)}).inner_states)
        ['a', 'b']
    """

    inner_states: dict[Any, OptState]


def _leaf_labels(labels: Any, params: PyTree, fn: str, known: Mapping[Any, Any]) -> list:
    """One label per leaf of ``params``: ``labels`` has the params' structure or a prefix of
    it, or is a function of the params giving either."""
    if callable(labels):
        labels = labels(params)
    label_pairs, _ = tree.flatten_with_path(labels)
    by_path = dict(label_pairs)
    out = []
    for path, _leaf in tree.flatten_with_path(params)[0]:
        for n in range(len(path), -1, -1):
            if path[:n] in by_path:
                label = by_path[path[:n]]
                break
        else:
            raise ValueError(f"functrans.optim.{fn}: the labels have no entry for the parameter "
                             f"at {tree.keystr(path)}; give labels with the params' structure (or "
                             f"a prefix of it), one of {sorted(map(str, known))} per leaf")
        if label not in known:
            raise ValueError(f"functrans.optim.{fn}: the parameter at {tree.keystr(path) or 'the root'}"
                             f" has the label {label!r}, which has no transformation; the labels "
                             f"are {sorted(map(str, known))}. Fix: add {label!r} to the "
                             f"transforms, or relabel it")
        out.append(label)
    return out


@dataclasses.dataclass(frozen=True)
class _MultiTransform(_Transformation):
    name: ClassVar[str] = "multi_transform"
    state_type: ClassVar[type] = MultiTransformState
    extra_args: ClassVar[bool] = True

    transforms: Mapping[Any, GradientTransformation]
    param_labels: Any

    def init(self, params: Params) -> MultiTransformState:
        labels = _leaf_labels(self.param_labels, params, self.name, self.transforms)
        leaves = tree.leaves(params)
        return MultiTransformState({
            label: t.init([p for p, lab in zip(leaves, labels) if lab == label])
            for label, t in self.transforms.items()})

    def _update(self, grads: Updates, state: MultiTransformState, params: Params | None,
                **extra_args: Any) -> tuple[Updates, MultiTransformState]:
        labels = _leaf_labels(self.param_labels, grads, self.name, self.transforms)
        g, treedef = tree.flatten(grads)
        p = tree.leaves(params) if params is not None else None
        out = list(g)
        new_states = {}
        for label, t in self.transforms.items():
            chosen = [lab == label for lab in labels]
            sub_p = [x for x, c in zip(p, chosen) if c] if p is not None else None
            try:
                sub, new_states[label] = _update_with(t, [x for x, c in zip(g, chosen) if c],
                                                      state.inner_states[label], sub_p, extra_args)
            except TreeStructureError as exc:
                raise _inner_error(f"{self.name} (group {label!r})", exc, grads, chosen) from exc
            it = iter(sub)
            out = [next(it) if c else x for x, c in zip(out, chosen)]
        return treedef.unflatten(out), MultiTransformState(new_states)


def multi_transform(transforms: Mapping[Any, GradientTransformation],
                    param_labels: Any) -> GradientTransformation:
    """An optimizer per group of parameters (PyTorch's parameter groups): each leaf has a
    label, and ``transforms[label]`` updates the leaves with that label.

    Args:
        transforms: ``{label: GradientTransformation}``.
        param_labels: Labels with the params' structure, or a prefix of it (``{"encoder":
            "slow", "head": "fast"}`` labels every leaf below each key), or a function
            ``params -> labels``.

    Returns:
        A [`GradientTransformation`][functrans.optim.GradientTransformation] whose state is a
        [`MultiTransformState`][functrans.optim.MultiTransformState].

    Raises:
        ValueError: (at ``init``/``update``) a leaf without a label, or a label without a
            transformation (the message names the key path).

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> opt = optim.multi_transform({"slow": optim.sgd(0.01), "fast": optim.sgd(1.0)},
        ...                             {"encoder": "slow", "head": "fast"})
        >>> params = {"encoder": np.ones(1), "head": np.ones(1)}
        >>> opt.update({"encoder": np.ones(1), "head": np.ones(1)}, opt.init(params))[0]
        {'encoder': array([-0.01]), 'head': array([-1.])}
    """
    if not isinstance(transforms, Mapping) or not transforms:
        raise TypeError("functrans.optim.multi_transform: transforms must be a non-empty dict "
                        "{label: GradientTransformation}")
    transforms = {label: _as_transformation(t) for label, t in transforms.items()}
    for label, t in transforms.items():
        if not isinstance(t, GradientTransformation):
            raise TypeError(f"functrans.optim.multi_transform: transforms[{label!r}] is a "
                            f"{type(t).__name__}, not a GradientTransformation (e.g. "
                            f"optim.adam(1e-3))")
    return _MultiTransform(dict(transforms), param_labels).transformation()


# --- apply_if_finite: skip a step whose gradients are not finite ---------------------------------
class ApplyIfFiniteState(NamedTuple):
    """State of [`apply_if_finite`][functrans.optim.apply_if_finite].

    Attributes:
        notfinite_count: Non-finite steps in a row, skipped.
        last_finite: Whether the last step's gradients were finite.
        total_notfinite: Non-finite steps so far.
        inner_state: The wrapped transformation's state (unchanged by a skipped step).

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> optim.apply_if_finite(optim.sgd(0.1), 3).init(np.zeros(1)).total_notfinite
        np.int64(0)
    """

    notfinite_count: Array
    last_finite: Any
    total_notfinite: Array
    inner_state: OptState


def _all_finite(values: PyTree) -> Any:
    result: Any = True
    for leaf in tree.leaves(values):
        finite = fnp.all(fnp.isfinite(leaf))
        result = finite if result is True else fnp.logical_and(result, finite)
    return result


@dataclasses.dataclass(frozen=True)
class _ApplyIfFinite(_Transformation):
    name: ClassVar[str] = "apply_if_finite"
    state_type: ClassVar[type] = ApplyIfFiniteState
    extra_args: ClassVar[bool] = True

    inner: GradientTransformation
    max_consecutive_errors: int

    def init(self, params: Params) -> ApplyIfFiniteState:
        return ApplyIfFiniteState(_first_count(), np.bool_(True), _first_count(),
                                  self.inner.init(params))

    def _update(self, grads: Updates, state: ApplyIfFiniteState, params: Params | None,
                **extra_args: Any) -> tuple[Updates, ApplyIfFiniteState]:
        finite = _all_finite(grads)
        updates, inner = _update_with(self.inner, grads, state.inner_state, params, extra_args)
        # After max_consecutive_errors skipped steps, the next one is applied whatever it holds.
        apply = fnp.logical_or(finite, state.notfinite_count >= self.max_consecutive_errors)
        if not isinstance(apply, Tracer):
            apply = bool(to_host(apply))
        skipped = fnp.logical_not(finite)
        new_state = ApplyIfFiniteState(
            _select(finite, state.notfinite_count * 0, state.notfinite_count + 1),
            finite, state.total_notfinite + fnp.astype(skipped, np.int64),
            _select(apply, inner, state.inner_state))
        return _select(apply, updates, tree.map(fnp.zeros_like, updates)), new_state


def apply_if_finite(inner: GradientTransformation,
                    max_consecutive_errors: int) -> GradientTransformation:
    """Apply ``inner`` only when every gradient is finite: a step with a NaN or an infinity
    gives zero updates and leaves ``inner``'s state as it was (mixed-precision training's loss
    scaling skips such steps). After ``max_consecutive_errors`` skipped steps in a row, the
    next one is applied whatever it holds, so a run that only makes NaNs does not stall
    silently.

    Args:
        inner: The transformation to guard.
        max_consecutive_errors: Non-finite steps in a row to skip.

    Returns:
        A [`GradientTransformation`][functrans.optim.GradientTransformation] whose state is an
        [`ApplyIfFiniteState`][functrans.optim.ApplyIfFiniteState].

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> opt = optim.apply_if_finite(optim.sgd(1.0), max_consecutive_errors=2)
        >>> updates, state = opt.update(np.array([np.nan, 1.0]), opt.init(np.zeros(2)))
        >>> updates, int(state.total_notfinite)
        (array([0., 0.]), 1)
    """
    inner = _as_transformation(inner)
    if not isinstance(inner, GradientTransformation):
        raise TypeError(f"functrans.optim.apply_if_finite: inner must be a "
                        f"GradientTransformation, got {type(inner).__name__}")
    if not isinstance(max_consecutive_errors, int) or max_consecutive_errors < 0:
        raise ValueError(f"functrans.optim.apply_if_finite: max_consecutive_errors must be a "
                         f"non-negative int, got {max_consecutive_errors!r}")
    return _ApplyIfFinite(inner, max_consecutive_errors).transformation()
