"""Building blocks to combine with ``chain``: clipping, weight decay, scaling, zeroing, noise,
moving averages and accumulation.

Each returns a [`GradientTransformation`][functrans.optim.GradientTransformation]; placed before an optimizer
in ``chain`` they
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
from typing import Any, ClassVar, NamedTuple

import numpy as np

import functrans.numpy as fnp
from functrans import random, tree
from functrans._abstract import dtype_of, shape_of
from functrans.backend import device_of
from functrans.core.trace import Tracer
from functrans.optim._norm import is_half as _is_half
from functrans.optim.base import (
    EmptyState,
    GradientTransformation,
    Mask,
    _Block,
    _check_nonnegative,
    _check_unit_interval,
    _coefficient,
    _debias,
    _first_count,
    _label,
    _mask_leaves,
    _moment,
    _need_params,
    _nonzero,
    _norm,
    _same_leaves,
    _Transformation,
    _zeros_like_tree,
)
from functrans.typing import Array, Params, PyTree, Updates

__all__ = ["AddNoiseState", "ApplyEvery", "EmaState", "ZeroNansState", "add_decayed_weights",
           "add_noise", "apply_every", "clip", "clip_by_global_norm", "ema", "global_norm",
           "scale", "set_to_zero", "zero_nans"]


class _Stateless(_Transformation):
    """A transformation that keeps no state (an [`EmptyState`][functrans.optim.EmptyState])."""

    state_type: ClassVar[type] = EmptyState

    def init(self, params: Params) -> EmptyState:
        return EmptyState()


def global_norm(updates: Updates) -> object:
    """The 2-norm of all leaves together, ``sqrt(sum over leaves of sum(|u|**2))``, in the
    leaves' common dtype.

    It is right wherever the norm is representable in that dtype, also where the squares
    themselves are not: float32 leaves of 1e20 (whose squares overflow) or of 1e-30 (whose
    squares underflow to 0) are divided by their largest magnitude first. On host (NumPy)
    arrays that second pass runs only then; on a device, where deciding would read the
    device, it always runs and a select picks, so a step never synchronises. float16 leaves
    are squared in float32.

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> float(optim.global_norm({"a": np.array([3.0]), "b": np.array([[4.0]])}))
        5.0
    """
    return _norm(tree.leaves(updates))


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
        # factor = min(1, max_norm / norm): 1 where not clipping, so the derivative of the
        # step through small gradients, or zero ones, is the identity's.
        # The norm and the product of half-precision leaves in float32, where the norm of
        # float16 gradients may lie beyond float16's range while the clipped ones do not.
        norm = _norm(tree.leaves(grads), wide=True)
        clipping = norm > self.max_norm
        factor = fnp.where(clipping, self.max_norm / fnp.where(clipping, norm, 1.0), 1.0)

        def clip(g: Any) -> Any:
            if _is_half(g):
                return fnp.astype(fnp.astype(g, factor.dtype) * factor, g.dtype)
            return g * fnp.astype(factor, dtype_of(g))

        return tree.map(clip, grads), state


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
    mask: Mask | None = None
    label: str = _label()

    def init(self, params: Params) -> EmptyState:
        return EmptyState()

    def _step(self, g: list, treedef: tree.TreeDef, state: EmptyState,
              params: Params | None) -> tuple[list, EmptyState]:
        if not _nonzero(self.weight_decay):
            return g, state
        _need_params(params, self.fn, "weight_decay")
        p = _same_leaves(treedef, g, params, self.fn, "params")
        if self.mask is None:
            return [gi + self.weight_decay * pi for gi, pi in zip(g, p)], state
        chosen = _mask_leaves(self.mask, params, self.fn)
        return [gi + self.weight_decay * pi if c else gi
                for gi, pi, c in zip(g, p, chosen)], state


def add_decayed_weights(weight_decay: float,
                        mask: Mask | None = None) -> GradientTransformation:
    """Add ``weight_decay * params`` to the updates. Before an optimizer in ``chain`` this is
    an L2 penalty; after a scale-free optimizer (``chain(adam(1.0), add_decayed_weights(wd),
    scale(-lr))``-style) it is decoupled decay.

    Args:
        weight_decay: The factor of the params.
        mask: Decay only the leaves where it is True (commonly not biases or norms): a pytree
            of bools with the params' structure (or a prefix of it), or a function of the
            params giving one; ``None`` decays every leaf.

    Raises:
        ValueError: a negative ``weight_decay``; (at ``update``) a mask without an entry for
            some parameter.

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> opt = optim.add_decayed_weights(0.1)
        >>> params = np.array([10.0])
        >>> opt.update(np.array([1.0]), opt.init(params), params)[0]
        array([2.])
    """
    _check_nonnegative("add_decayed_weights", weight_decay=weight_decay)
    return _AddDecayedWeights(weight_decay, mask).transformation()


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


class ZeroNansState(NamedTuple):
    """State of [`zero_nans`][functrans.optim.zero_nans]: per leaf, whether the last update held a NaN.

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> optim.zero_nans().init({"w": np.zeros(2)})
        ZeroNansState(found_nan={'w': np.False_})
    """

    found_nan: PyTree


@dataclasses.dataclass(frozen=True)
class _ZeroNans(_Transformation):
    name: ClassVar[str] = "zero_nans"
    state_type: ClassVar[type] = ZeroNansState

    def init(self, params: Params) -> ZeroNansState:
        return ZeroNansState(tree.map(lambda p: np.False_, params))

    def _update(self, grads: Updates, state: ZeroNansState,
                params: Params | None) -> tuple[Updates, ZeroNansState]:
        found = tree.map(lambda g: fnp.any(fnp.isnan(g)), grads)
        clean = tree.map(lambda g: fnp.where(fnp.isnan(g), fnp.zeros_like(g), g), grads)
        return clean, ZeroNansState(found)


def zero_nans() -> GradientTransformation:
    """Replace NaNs in the updates by zeros, recording per leaf whether there was one.

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> opt = optim.zero_nans()
        >>> updates, state = opt.update(np.array([np.nan, 2.0]), opt.init(np.zeros(2)))
        >>> updates, state.found_nan
        (array([0., 2.]), np.True_)
    """
    return _ZeroNans().transformation()


class AddNoiseState(NamedTuple):
    """State of [`add_noise`][functrans.optim.add_noise]: the step count and the random key of the next noise.

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> optim.add_noise(0.01, 0.55, seed=0).init(np.zeros(1)).count
        np.int64(0)
    """

    count: Array
    rng_key: Array


@dataclasses.dataclass(frozen=True)
class _AddNoise(_Transformation):
    name: ClassVar[str] = "add_noise"
    state_type: ClassVar[type] = AddNoiseState

    eta: float
    gamma: float
    seed: int | tuple[int, int]  # a seed, or a key's two words (kept hashable)

    def init(self, params: Params) -> AddNoiseState:
        if isinstance(self.seed, tuple):
            # host-metadata: the key's two words, on the host as random.key makes a key
            words = np.asarray(self.seed, dtype=np.uint32)  # host-metadata: see above
            return AddNoiseState(_first_count(), random.wrap_key_data(words))
        return AddNoiseState(_first_count(), random.key(self.seed))

    @staticmethod
    def _noise(key: Any, like: Any) -> Any:
        """Standard normal noise of ``like``'s shape and dtype, on its device."""
        device = None if isinstance(like, Tracer) else device_of(like)
        return random.normal(key, shape_of(like), dtype_of(like), device=device)

    def _update(self, grads: Updates, state: AddNoiseState,
                params: Params | None) -> tuple[Updates, AddNoiseState]:
        g, treedef = tree.flatten(grads)
        keys = random.split(state.rng_key, len(g) + 1)
        count = state.count + 1
        std = (self.eta / (count * 1.0) ** self.gamma) ** 0.5
        out = [gi + _coefficient(std, gi) * self._noise(keys[i + 1], gi)
               for i, gi in enumerate(g)]
        return treedef.unflatten(out), AddNoiseState(count, keys[0])


def add_noise(eta: float, gamma: float, seed: int | Array) -> GradientTransformation:
    """Add Gaussian noise of variance ``eta / t**gamma`` to the updates (annealed gradient
    noise; ``t`` counts from 1), drawn from a key made from ``seed`` (an int, or a key from
    [`functrans.random.key`][functrans.random.key], as optax takes a key) and kept in the
    state.

    Reference: Neelakantan et al., "Adding gradient noise improves learning for very deep
    networks", 2015 (eta in {0.01, 0.3, 1.0}, gamma = 0.55).

    Raises:
        ValueError: a negative ``eta`` or ``gamma``.

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> opt = optim.add_noise(0.01, 0.55, seed=0)
        >>> updates, state = opt.update(np.zeros(3), opt.init(np.zeros(3)))
        >>> bool(np.all(np.abs(updates) < 1.0)), int(state.count)
        (True, 1)
    """
    _check_nonnegative("add_noise", eta=eta, gamma=gamma)
    if hasattr(seed, "shape"):  # a key: its two words, checked by functrans.random
        seed = tuple(int(w) for w in random.key_data(seed).reshape(-1).tolist())
        if len(seed) != 2:
            raise ValueError(f"functrans.optim.add_noise: give one key (shape (2,)), not a "
                             f"batch of {len(seed) // 2}")
    return _AddNoise(eta, gamma, seed).transformation()


class EmaState(NamedTuple):
    """State of [`ema`][functrans.optim.ema]: the step count and the moving average.

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> optim.ema(0.9).init(np.zeros(2))
        EmaState(count=np.int64(0), ema=array([0., 0.]))
    """

    count: Array
    ema: PyTree


@dataclasses.dataclass(frozen=True)
class _Ema(_Block):
    name: ClassVar[str] = "ema"
    state_type: ClassVar[type] = EmaState

    decay: float
    debias: bool
    accumulator_dtype: Any
    label: str = _label()

    def init(self, params: Params) -> EmaState:
        dtype = self.accumulator_dtype
        return EmaState(_first_count(), tree.map(lambda p: fnp.zeros_like(p, dtype=dtype), params))

    def _step(self, g: list, treedef: tree.TreeDef, state: EmaState,
              params: Params | None) -> tuple[list, EmaState]:
        new = _moment(self.decay, _same_leaves(treedef, g, state.ema, self.fn, "ema"), g)
        t = state.count + 1
        out = _debias(new, self.decay, t) if self.debias else new
        if self.accumulator_dtype is not None:
            new = [fnp.astype(e, self.accumulator_dtype) for e in new]
        return out, EmaState(t, treedef.unflatten(new))


def ema(decay: float, debias: bool = True, accumulator_dtype: Any = None) -> GradientTransformation:
    """An exponential moving average of the updates, ``e = decay * e + (1 - decay) * u``,
    giving ``e / (1 - decay**t)`` (with ``debias``) or ``e`` (optax's ``ema``; ``trace``
    is the same without the ``1 - decay`` factor).

    Args:
        decay: The decay of the average, in ``[0, 1)``.
        debias: Divide by ``1 - decay**t``, so that early averages are not pulled to 0.
        accumulator_dtype: The dtype the average is kept in (``None``: the params').

    Raises:
        ValueError: ``decay`` outside ``[0, 1)``.

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> opt = optim.ema(0.5)
        >>> u, state = opt.update(np.array([2.0]), opt.init(np.zeros(1)))
        >>> u, opt.update(np.array([8.0]), state)[0]      # (0.5 * 1 + 0.5 * 8) / 0.75
        (array([2.]), array([6.]))
    """
    _check_unit_interval("ema", decay=decay)
    return _Ema(decay, debias, accumulator_dtype).transformation()


class ApplyEvery(NamedTuple):
    """State of [`apply_every`][functrans.optim.apply_every]: the calls since the last
    emitted update (modulo ``k``) and the sum of the updates since then.

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> optim.apply_every(2).init(np.zeros(1))
        ApplyEvery(count=np.int64(0), grad_acc=array([0.]))
    """

    count: Array
    grad_acc: PyTree


@dataclasses.dataclass(frozen=True)
class _ApplyEvery(_Block):
    name: ClassVar[str] = "apply_every"
    state_type: ClassVar[type] = ApplyEvery

    k: int
    label: str = _label()

    def init(self, params: Params) -> ApplyEvery:
        return ApplyEvery(_first_count(), _zeros_like_tree(params))

    def _step(self, g: list, treedef: tree.TreeDef, state: ApplyEvery,
              params: Params | None) -> tuple[list, ApplyEvery]:
        c = state.count % self.k
        old = _same_leaves(treedef, g, state.grad_acc, self.fn, "grad_acc")
        # A new round (c == 0) starts the sum afresh; the last call of a round emits it.
        acc = [fnp.where(c != 0, ai + gi, gi) for ai, gi in zip(old, g)]
        emit = c == self.k - 1
        out = [fnp.where(emit, ai, fnp.zeros_like(ai)) for ai in acc]
        return out, ApplyEvery((state.count + 1) % self.k, treedef.unflatten(acc))


def apply_every(k: int = 1) -> GradientTransformation:
    """Sum the updates over ``k`` calls and give the sum at every ``k``-th call, zeros at
    the others (optax's ``apply_every``). The transformations before it in a ``chain``
    still update their state at every call, so this is not ``k`` times the batch; for that
    use [`MultiSteps`][functrans.optim.MultiSteps].

    Args:
        k: The number of calls per emitted update, a positive int.

    Raises:
        ValueError: ``k`` is not a positive int.

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> opt = optim.apply_every(2)
        >>> u1, state = opt.update(np.array([1.0]), opt.init(np.zeros(1)))
        >>> u1, opt.update(np.array([3.0]), state)[0]
        (array([0.]), array([4.]))
    """
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or k < 1:
        raise ValueError(f"functrans.optim.apply_every: k must be a positive int, got {k!r}")
    return _ApplyEvery(int(k)).transformation()
