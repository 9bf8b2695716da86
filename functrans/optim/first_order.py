"""Gradient steps without moment estimates, as optax has them: sign SGD, Rprop, Fromage,
noisy SGD, optimistic gradient descent and SGD with the Polyak step size, with their building blocks (``scale_by_sign``,
``scale_by_rprop``, ``scale_by_optimistic_gradient``).

The optimizers' states are the tuples of their chains; where there is a learning rate, the
step count and its current value are in the rate block's state (found by
[`get_count`][functrans.optim.get_count] and
[`get_learning_rate`][functrans.optim.get_learning_rate]). Defaults and numbers are optax's.

Example:
    >>> import numpy as np
    >>> from functrans import optim
    >>> opt = optim.sign_sgd(0.1)
    >>> opt.update(np.array([3.0, -0.5]), opt.init(np.zeros(2)))[0]
    array([-0.1,  0.1])
"""
from __future__ import annotations

import dataclasses
import math
from typing import Any, ClassVar, NamedTuple

import numpy as np

import functrans.numpy as fnp
from functrans import tree
from functrans._abstract import dtype_of
from functrans.optim.base import (
    EmptyState,
    GradientTransformation,
    ScalarOrSchedule,
    _Block,
    _check_nonnegative,
    _check_params,
    _coefficient,
    _first_count,
    _label,
    _need_params,
    _norm,
    _rate,
    _same_leaves,
    _Transformation,
    _wrong_state,
    _zeros_like_tree,
)
from functrans.optim.combine import chain
from functrans.optim.scale import (
    ScaleByLearningRateState,
    _ScaleByTrustRatio,
    scale_by_learning_rate,
)
from functrans.optim.transform import add_noise, scale
from functrans.typing import Array, OptState, Params, PyTree, Updates

__all__ = ["ScaleByOptimisticGradientState", "ScaleByRpropState", "fromage", "noisy_sgd",
           "optimistic_gradient_descent", "polyak_sgd", "rprop", "scale_by_optimistic_gradient",
           "scale_by_rprop", "scale_by_sign", "sign_sgd"]


# --- sign SGD ------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class _ScaleBySign(_Block):
    name: ClassVar[str] = "scale_by_sign"
    state_type: ClassVar[type] = EmptyState

    label: str = _label()

    def init(self, params: Params) -> EmptyState:
        return EmptyState()

    def _step(self, g: list, treedef: tree.TreeDef, state: EmptyState,
              params: Params | None) -> tuple[list, EmptyState]:
        return [fnp.sign(gi) for gi in g], state


def scale_by_sign() -> GradientTransformation:
    """Replace every update by its sign (-1, 0 or 1).

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> opt = optim.scale_by_sign()
        >>> opt.update(np.array([3.0, -0.5, 0.0]), opt.init(None))[0]
        array([ 1., -1.,  0.])
    """
    return _ScaleBySign().transformation()


def sign_sgd(learning_rate: ScalarOrSchedule) -> GradientTransformation:
    """Sign SGD, ``p = p - lr * sign(g)``: ``chain(scale_by_sign(),
    scale_by_learning_rate(learning_rate))`` (optax's ``sign_sgd``).

    Reference: Bernstein, Wang, Azizzadenesheli and Anandkumar, "signSGD: compressed
    optimisation for non-convex problems", ICML 2018.

    Args:
        learning_rate: A number or a schedule of the step count.

    Returns:
        A [`GradientTransformation`][functrans.optim.GradientTransformation] whose state is
        ``(EmptyState, ScaleByLearningRateState)``.

    Raises:
        ValueError: a negative rate.

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> opt = optim.sign_sgd(0.1)
        >>> opt.update(np.array([3.0, -0.5]), opt.init(np.zeros(2)))[0]
        array([-0.1,  0.1])
    """
    _check_nonnegative("sign_sgd", learning_rate=learning_rate)
    return chain(scale_by_sign(), scale_by_learning_rate(learning_rate))


# --- Rprop ---------------------------------------------------------------------------------------
class ScaleByRpropState(NamedTuple):
    """State of [`scale_by_rprop`][functrans.optim.scale_by_rprop]: the per-coordinate step
    sizes and the previous updates (0 where the gradient changed sign).

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> optim.scale_by_rprop(0.1).init(np.zeros(2))
        ScaleByRpropState(step_sizes=array([0.1, 0.1]), prev_updates=array([0., 0.]))
    """

    step_sizes: PyTree
    prev_updates: PyTree


@dataclasses.dataclass(frozen=True)
class _ScaleByRprop(_Block):
    name: ClassVar[str] = "scale_by_rprop"
    state_type: ClassVar[type] = ScaleByRpropState

    learning_rate: float
    eta_minus: float
    eta_plus: float
    min_step_size: float
    max_step_size: float
    label: str = _label()

    def init(self, params: Params) -> ScaleByRpropState:
        rate = self.learning_rate
        return ScaleByRpropState(tree.map(lambda p: fnp.full_like(p, rate), params),
                                 _zeros_like_tree(params))

    def _step(self, g: list, treedef: tree.TreeDef, state: ScaleByRpropState,
              params: Params | None) -> tuple[list, ScaleByRpropState]:
        sizes = _same_leaves(treedef, g, state.step_sizes, self.fn, "step_sizes")
        prev = _same_leaves(treedef, g, state.prev_updates, self.fn, "prev_updates", False)
        out, new_sizes, new_prev = [], [], []
        for gi, si, pi in zip(g, sizes, prev):
            agree = gi * pi  # > 0: same sign as the last step, < 0: the sign changed
            grown = fnp.where(agree > 0, si * self.eta_plus, si * self.eta_minus)
            size = fnp.where(agree == 0, si, fnp.clip(grown, self.min_step_size,
                                                      self.max_step_size))
            flipped = agree < 0
            new_prev.append(fnp.where(flipped, fnp.zeros_like(gi), size * fnp.sign(gi)))
            out.append(fnp.where(flipped, fnp.zeros_like(pi), pi))
            new_sizes.append(size)
        return out, ScaleByRpropState(treedef.unflatten(new_sizes), treedef.unflatten(new_prev))


def scale_by_rprop(learning_rate: float, eta_minus: float = 0.5, eta_plus: float = 1.2,
                   min_step_size: float = 1e-6,
                   max_step_size: float = 50.0) -> GradientTransformation:
    """Rprop's direction, a per-coordinate step size grown while the gradient keeps its sign
    and shrunk when it flips, as optax computes it::

        s = g * d                       (d: the previous step direction below)
        step = step if s == 0 else clip(step * (eta_plus if s > 0 else eta_minus),
                                        min_step_size, max_step_size)
        u = 0 if s < 0 else d           (the step decided at the previous update)
        d = 0 if s < 0 else step * sign(g)

    so the step a gradient decides is given at the next update (optax's one-step delay),
    and the first update is zero.

    Reference: Riedmiller and Braun, "A direct adaptive method for faster backpropagation
    learning: the RPROP algorithm", ICNN 1993.

    Args:
        learning_rate: The initial step size of every coordinate.
        eta_minus: Factor of the step size where the gradient changed sign, in ``(0, 1)``.
        eta_plus: Factor where it kept its sign, > 1.
        min_step_size: Smallest step size.
        max_step_size: Largest step size.

    Raises:
        ValueError: a negative rate or bound, or ``min_step_size > max_step_size``.

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> opt = optim.scale_by_rprop(0.1)
        >>> state = opt.init(np.zeros(2))
        >>> _, state = opt.update(np.array([3.0, -0.5]), state)
        >>> opt.update(np.array([1.0, 1.0]), state)[0]      # the first step, then the sign flip
        array([0.1, 0. ])
    """
    _check_nonnegative("scale_by_rprop", learning_rate=learning_rate, eta_minus=eta_minus,
                       eta_plus=eta_plus, min_step_size=min_step_size,
                       max_step_size=max_step_size)
    if not 0 < eta_minus < 1 < eta_plus:
        raise ValueError(f"functrans.optim.scale_by_rprop: the step shrinks by eta_minus in (0, 1) "
                         f"and grows by eta_plus > 1, got eta_minus={eta_minus!r}, "
                         f"eta_plus={eta_plus!r}")
    if min_step_size > max_step_size:
        raise ValueError(f"functrans.optim.scale_by_rprop: min_step_size {min_step_size!r} is "
                         f"larger than max_step_size {max_step_size!r}")
    return _ScaleByRprop(learning_rate, eta_minus, eta_plus, min_step_size,
                         max_step_size).transformation()


def rprop(learning_rate: float, eta_minus: float = 0.5, eta_plus: float = 1.2,
          min_step_size: float = 1e-6, max_step_size: float = 50.0) -> GradientTransformation:
    """Rprop: ``chain(scale_by_rprop(...), scale(-1.0))`` (optax's ``rprop``): every
    coordinate moves by its own step size against the gradient's sign, the step growing by
    ``eta_plus`` while the sign holds and shrinking by ``eta_minus`` when it flips (see
    [`scale_by_rprop`][functrans.optim.scale_by_rprop] for optax's exact order; the first
    update is zero). Meant for full-batch gradients.

    Reference: Riedmiller and Braun, "A direct adaptive method for faster backpropagation
    learning: the RPROP algorithm", ICNN 1993.

    Args:
        learning_rate: The initial step size of every coordinate.
        eta_minus: Factor of the step size where the gradient changed sign.
        eta_plus: Factor where it kept its sign.
        min_step_size: Smallest step size.
        max_step_size: Largest step size.

    Returns:
        A [`GradientTransformation`][functrans.optim.GradientTransformation] whose state is
        ``(ScaleByRpropState, EmptyState)``.

    Raises:
        ValueError: a negative rate or bound, or ``min_step_size > max_step_size``.

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> opt = optim.rprop(0.1)
        >>> state = opt.init(np.zeros(2))
        >>> for g in ([3.0, -0.5], [1.0, -1.0]):
        ...     updates, state = opt.update(np.array(g), state)
        >>> updates
        array([-0.1,  0.1])
    """
    return chain(scale_by_rprop(learning_rate, eta_minus, eta_plus, min_step_size,
                                max_step_size), scale(-1.0))


# --- Fromage -------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class _FromageRate(_Block):
    """Fromage's rate and shrinkage together: ``-lr * c * u + (c - 1) * p`` with
    ``c = 1 / sqrt(1 + lr**2)``, the rate (a schedule's value) taken at the step count."""

    name: ClassVar[str] = "fromage"
    state_type: ClassVar[type] = ScaleByLearningRateState

    learning_rate: ScalarOrSchedule
    label: str = _label()

    def init(self, params: Params) -> ScaleByLearningRateState:
        return ScaleByLearningRateState(_first_count(), _rate(self.learning_rate, 0))

    def _step(self, g: list, treedef: tree.TreeDef, state: ScaleByLearningRateState,
              params: Params | None) -> tuple[list, ScaleByLearningRateState]:
        _need_params(params, self.fn, "the shrinkage of the parameters")
        p = _same_leaves(treedef, g, params, self.fn, "params")
        lr = state.learning_rate
        c = 1.0 / (1.0 + lr**2) ** 0.5
        rate, shrink = lr * c, c - 1.0
        out = [-_coefficient(rate, ui) * ui + _coefficient(shrink, pi) * pi
               for ui, pi in zip(g, p)]
        count = state.count + 1
        return out, ScaleByLearningRateState(count, _rate(self.learning_rate, count))


def fromage(learning_rate: ScalarOrSchedule, min_norm: float = 1e-6) -> GradientTransformation:
    """Fromage, a step of relative size ``lr`` per leaf (per layer), then a shrinkage that
    keeps the parameters' norms from growing (optax's ``fromage``)::

        u = (max(||p||, min_norm) / max(||g||, min_norm)) * g      (per leaf; 1 if a norm is 0)
        p = (p - lr * u) / sqrt(1 + lr**2)

    It needs ``params`` in ``update``.

    Reference: Bernstein, Vahdat, Yue and Liu, "On the distance between two neural
    networks and the stability of learning", NeurIPS 2020.

    Args:
        learning_rate: A number or a schedule of the step count.
        min_norm: The smallest norm used in the ratio.

    Returns:
        A [`GradientTransformation`][functrans.optim.GradientTransformation] whose state is
        ``(EmptyState, ScaleByLearningRateState)``.

    Raises:
        ValueError: a negative rate or ``min_norm``.

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> opt = optim.fromage(0.75)
        >>> p = np.array([3.0, 4.0])
        >>> optim.apply_updates(p, opt.update(np.array([0.0, 1.0]), opt.init(p), p)[0])
        array([2.4, 0.2])
    """
    _check_nonnegative("fromage", learning_rate=learning_rate, min_norm=min_norm)
    return chain(_ScaleByTrustRatio(min_norm, 1.0, 0.0, label="fromage").transformation(),
                 _FromageRate(learning_rate).transformation())


# --- noisy SGD -----------------------------------------------------------------------------------
def noisy_sgd(learning_rate: ScalarOrSchedule, eta: float = 0.01, gamma: float = 0.55,
              key: int | Array | None = None, *,
              seed: int | None = None) -> GradientTransformation:
    """SGD with annealed Gaussian gradient noise: ``chain(add_noise(eta, gamma, key),
    scale_by_learning_rate(learning_rate))`` (optax's ``noisy_sgd``)::

        p = p - lr * (g + N(0, eta / t**gamma))

    The noise comes from functrans's generator, so it is not the same draw as JAX's for the
    same seed.

    Reference: Neelakantan et al., "Adding gradient noise improves learning for very deep
    networks", 2015.

    Args:
        learning_rate: A number or a schedule of the step count.
        eta: The initial variance of the noise.
        gamma: The decay exponent of the variance.
        key: A key from ``functrans.random.key``, or a seed (an int); ``None`` is 0.
        seed: The same, under optax's older name (give one of the two).

    Returns:
        A [`GradientTransformation`][functrans.optim.GradientTransformation] whose state is
        ``(AddNoiseState, ScaleByLearningRateState)``.

    Raises:
        ValueError: a negative rate, ``eta`` or ``gamma``, or both ``key`` and ``seed``.

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> opt = optim.noisy_sgd(0.1, eta=0.0, key=0)   # no noise: plain SGD
        >>> opt.update(np.array([3.0, -0.5]), opt.init(np.zeros(2)))[0]
        array([-0.3 ,  0.05])
    """
    if key is not None and seed is not None:
        raise ValueError("functrans.optim.noisy_sgd: give the seed once, as key= (seed= is its "
                         "older name)")
    chosen: Any = key if key is not None else (seed if seed is not None else 0)
    _check_nonnegative("noisy_sgd", learning_rate=learning_rate)
    return chain(add_noise(eta, gamma, chosen), scale_by_learning_rate(learning_rate))


# --- optimistic gradient descent -----------------------------------------------------------------
class ScaleByOptimisticGradientState(NamedTuple):
    """State of [`scale_by_optimistic_gradient`][functrans.optim.scale_by_optimistic_gradient]:
    whether no update was made yet, and the previous gradient.

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> optim.scale_by_optimistic_gradient().init(np.zeros(1))
        ScaleByOptimisticGradientState(is_initial_step=np.True_, previous_gradient=array([0.]))
    """

    is_initial_step: Array
    previous_gradient: PyTree


@dataclasses.dataclass(frozen=True)
class _ScaleByOptimisticGradient(_Block):
    name: ClassVar[str] = "scale_by_optimistic_gradient"
    state_type: ClassVar[type] = ScaleByOptimisticGradientState

    alpha: float
    beta: float
    label: str = _label()

    def init(self, params: Params) -> ScaleByOptimisticGradientState:
        return ScaleByOptimisticGradientState(np.True_, _zeros_like_tree(params))

    def _step(self, g: list, treedef: tree.TreeDef, state: ScaleByOptimisticGradientState,
              params: Params | None) -> tuple[list, ScaleByOptimisticGradientState]:
        prev = _same_leaves(treedef, g, state.previous_gradient, self.fn, "previous_gradient")
        # At the first step there is no previous gradient: the current one stands in for it.
        prev = [fnp.where(state.is_initial_step, gi, pi) for gi, pi in zip(g, prev)]
        out = [(self.alpha + self.beta) * gi - self.beta * pi for gi, pi in zip(g, prev)]
        return out, ScaleByOptimisticGradientState(np.False_, treedef.unflatten(g))


def scale_by_optimistic_gradient(alpha: float = 1.0,
                                 beta: float = 1.0) -> GradientTransformation:
    """The optimistic direction ``(alpha + beta) * g - beta * g_prev``: the gradient plus a
    correction by its change since the last step (``g_prev = g`` at the first step).

    Reference: Mokhtari, Ozdaglar and Pattathil, "A unified analysis of extra-gradient and
    optimistic gradient methods for saddle point problems", AISTATS 2020.

    Args:
        alpha: Weight of the current gradient.
        beta: Weight of the change of the gradient.

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> opt = optim.scale_by_optimistic_gradient()
        >>> _, state = opt.update(np.array([1.0]), opt.init(np.zeros(1)))
        >>> opt.update(np.array([3.0]), state)[0]     # 2 * 3 - 1
        array([5.])
    """
    return _ScaleByOptimisticGradient(alpha, beta).transformation()


def optimistic_gradient_descent(learning_rate: ScalarOrSchedule, alpha: float = 1.0,
                                beta: float = 1.0) -> GradientTransformation:
    """Optimistic gradient descent, for min-max games where plain gradient descent cycles:
    ``chain(scale_by_optimistic_gradient(alpha, beta), scale_by_learning_rate(learning_rate))``
    (optax's ``optimistic_gradient_descent``)::

        p = p - lr * ((alpha + beta) * g - beta * g_prev)

    Reference: Mokhtari, Ozdaglar and Pattathil, "A unified analysis of extra-gradient and
    optimistic gradient methods for saddle point problems", AISTATS 2020.

    Args:
        learning_rate: A number or a schedule of the step count.
        alpha: Weight of the current gradient.
        beta: Weight of the change of the gradient.

    Returns:
        A [`GradientTransformation`][functrans.optim.GradientTransformation] whose state is
        ``(ScaleByOptimisticGradientState, ScaleByLearningRateState)``.

    Raises:
        ValueError: a negative rate.

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> opt = optim.optimistic_gradient_descent(0.1)
        >>> _, state = opt.update(np.array([1.0]), opt.init(np.zeros(1)))
        >>> opt.update(np.array([3.0]), state)[0]
        array([-0.5])
    """
    _check_nonnegative("optimistic_gradient_descent", learning_rate=learning_rate)
    return chain(scale_by_optimistic_gradient(alpha, beta),
                 scale_by_learning_rate(learning_rate))


# --- Polyak step size ----------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class _PolyakSgd(_Transformation):
    name: ClassVar[str] = "polyak_sgd"
    state_type: ClassVar[type] = ScaleByLearningRateState
    extra_args: ClassVar[bool] = True

    max_learning_rate: float
    scaling: ScalarOrSchedule
    f_min: float
    eps: float
    variant: str

    def init(self, params: Params) -> ScaleByLearningRateState:
        _check_params(self.name, params)
        return ScaleByLearningRateState(_first_count(), _rate(self.scaling, 0))

    def update(self, grads: Updates, state: OptState, params: Params | None = None, *,
               value: Any = None, **extra_args: Any) -> tuple[Updates, OptState]:
        if value is None:
            raise TypeError("functrans.optim.polyak_sgd: update needs the loss at the current "
                            "params, value=; call opt.update(grads, state, params, value=loss) "
                            "(with loss, grads = ft.value_and_grad(f)(params))")
        if not isinstance(state, ScaleByLearningRateState):
            raise _wrong_state(self.name, self.state_type, grads, state)
        g, treedef = tree.flatten(grads)
        scaling = state.learning_rate
        u = [-_coefficient(scaling, gi) * gi for gi in g]  # SGD's step, then its Polyak size
        norm = _norm(u, wide=True)  # (right also where |u|**2 overflows: u of 1e20 in float32)
        gap = fnp.astype(fnp.asarray(value) - self.f_min, dtype_of(norm))
        if self.variant == "sps+":
            gap = fnp.maximum(gap, 0.0)
        tiny = float(np.finfo(dtype_of(norm)).eps)
        # |u|**2 + eps <= tiny: no step (optax's guard), said without squaring |u|
        small = norm <= (math.sqrt(tiny - self.eps) if tiny >= self.eps else -1.0)
        n = fnp.where(small, 1.0, norm)
        # the step gap / (|u|**2 + eps) times u is (u / |u|) times gap / (|u| + eps / |u|):
        # no square to overflow and no step size to underflow (u of 1e20 in float32)
        along = fnp.where(small, 0.0, gap / (n + self.eps / n))
        capped = along / n > self.max_learning_rate
        out = [fnp.where(capped, ui * self.max_learning_rate, (ui / fnp.astype(n, dtype_of(ui)))
                         * fnp.astype(along, dtype_of(ui))) for ui in u]
        count = state.count + 1
        return treedef.unflatten(out), ScaleByLearningRateState(count, _rate(self.scaling, count))


def polyak_sgd(max_learning_rate: float = 1.0, scaling: ScalarOrSchedule = 1.0,
               f_min: float = 0.0, eps: float = 0.0,
               variant: str = "sps") -> GradientTransformation:
    """SGD with the Polyak step size (optax's ``polyak_sgd``)::

        u = -scaling * g
        p = p + min((f(p) - f_min) / (||u||**2 + eps), max_learning_rate) * u

    (0 when ``||u||**2 + eps`` is below the dtype's epsilon). The loss ``f(p)`` is passed to
    ``update`` as ``value=``; ``variant="sps+"`` uses ``max(f(p) - f_min, 0)``. Its state
    is a ``ScaleByLearningRateState`` holding ``scaling``.

    Reference: Loizou, Vaswani, Laradji and Lacoste-Julien, "Stochastic Polyak step-size
    for SGD: an adaptive learning rate for fast convergence", AISTATS 2021; ``sps+``:
    Garrigos, Gower and Schaipp, 2023.

    Args:
        max_learning_rate: The largest step size.
        scaling: A factor of the step (a number or a schedule of the step count).
        f_min: A lower bound of the loss.
        eps: Added to the squared norm.
        variant: ``"sps"`` or ``"sps+"``.

    Returns:
        A [`GradientTransformation`][functrans.optim.GradientTransformation] whose
        ``update`` takes the loss as the keyword ``value``.

    Raises:
        ValueError: a negative bound, scaling or eps, or an unknown variant; (at
            ``update``) TypeError without ``value``.

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> opt = optim.polyak_sgd()
        >>> p = np.array([1.0, 2.0, 3.0])                  # f(p) = sum(p**2) = 14
        >>> updates, state = opt.update(2 * p, opt.init(p), p, value=14.0)
        >>> optim.apply_updates(p, updates)                # step 14 / 56
        array([0.5, 1. , 1.5])
    """
    _check_nonnegative("polyak_sgd", max_learning_rate=max_learning_rate, scaling=scaling,
                       eps=eps)
    if variant not in ("sps", "sps+"):
        raise ValueError(f"functrans.optim.polyak_sgd: variant must be 'sps' or 'sps+', got "
                         f"{variant!r}")
    return _PolyakSgd(max_learning_rate, scaling, f_min, eps, variant).transformation()
