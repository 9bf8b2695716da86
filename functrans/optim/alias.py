"""Ready-made optimizers, each a chain of the building blocks of [`functrans.optim.scale`][functrans.optim.scale]:
SGD, Adam, AdamW, RMSprop, Adagrad, Lion, LARS.

Each optimizer's state is one NamedTuple whose ``count`` field is the number of updates done
so far and whose ``learning_rate`` field is the rate the next update will use (a schedule is
evaluated at ``count``), so both are readable without digging. Defaults and update formulas
are PyTorch's (Lion: its paper's); each docstring states the formula, with ``g`` the gradient,
``p`` the parameter and ``t`` the step number counted from 1. Every coefficient meets the
arrays as a Python float (or, traced under ``jit``, cast to their dtype), so float32
parameters and gradients give float32 updates. The count is a NumPy integer, so that a
``jit``-staged training step takes it as an input.
"""
from __future__ import annotations

import dataclasses
from typing import Any, ClassVar, NamedTuple

from functrans import tree
from functrans.optim.base import (
    GradientTransformation,
    Mask,
    ScalarOrSchedule,
    _Block,
    _check_nonnegative,
    _check_params,
    _check_unit_interval,
    _narrowed,
    _nonzero,
    _Transformation,
    _widened,
)
from functrans.optim.combine import chain, masked
from functrans.optim.scale import (
    _ScaleByAdam,
    _ScaleByLearningRate,
    _ScaleByLion,
    _ScaleByRms,
    _ScaleByRssRateFirst,
    _ScaleByStddev,
    _Trace,
    scale_by_learning_rate,
    scale_by_trust_ratio,
    trace,
)
from functrans.optim.transform import _AddDecayedWeights, add_decayed_weights
from functrans.typing import Array, Params, PyTree, Updates

__all__ = ["AdagradState", "AdamState", "LionState", "RmspropState", "SgdState", "adagrad",
           "adam", "adamw", "lars", "lion", "rmsprop", "sgd"]


# Where each block's state lives in an optimizer's state: block field -> optimizer field.
_RATE = {"count": "count", "learning_rate": "learning_rate"}
_MOMENTS = {"count": "count", "mu": "mu", "nu": "nu"}
_NONE: dict[str, str] = {}


class _Optimizer(_Transformation):
    """An optimizer: a chain of building blocks whose states are kept together in one named
    state (``count`` and ``learning_rate`` shared, the buffers under the optimizer's names).
    ``_chain`` lists the blocks, each with the map from its state's fields to the optimizer
    state's; ``init`` refuses params with a leaf that is not an array; ``update`` flattens the
    gradients once and runs the blocks on the leaves."""

    learning_rate: ScalarOrSchedule
    half_in_float32: ClassVar[bool] = True
    _blocks: tuple[tuple[_Block, dict[str, str]], ...]  # set once, by __post_init__
    _where: tuple[tuple[int, ...], ...]

    def __post_init__(self) -> None:
        super().__post_init__()
        blocks = tuple(self._chain())
        mine = self.state_type._fields  # type: ignore[attr-defined]
        # Positions: for each block, where its state's fields sit in the optimizer's state,
        # so a step moves the fields by index (no dicts on the per-step path).
        where = tuple(tuple(mine.index(where[f]) for f in block.state_type._fields)  # type: ignore[attr-defined]
                      for block, where in blocks)
        object.__setattr__(self, "_blocks", blocks)
        object.__setattr__(self, "_where", where)

    def _chain(self) -> list[tuple[_Block, dict[str, str]]]:
        raise NotImplementedError

    def _rate_block(self) -> tuple[_Block, dict[str, str]]:
        return _ScaleByLearningRate(self.learning_rate, label=self.name), _RATE

    def _decay_block(self, weight_decay: float,
                     mask: Mask | None = None) -> list[tuple[_Block, dict[str, str]]]:
        if not _nonzero(weight_decay):
            return []
        return [(_AddDecayedWeights(weight_decay, mask, label=self.name), _NONE)]

    def _join(self, states: list) -> NamedTuple:
        fields: list = [None] * len(self.state_type._fields)  # type: ignore[attr-defined]
        for positions, s in zip(self._where, states):
            for position, value in zip(positions, s):
                fields[position] = value
        return self.state_type(*fields)

    def init(self, params: Params) -> NamedTuple:
        _check_params(self.name, params)
        return self._join([block.init(params) for block, _ in self._blocks])

    def _update(self, grads: Updates, state: NamedTuple,
                params: Params | None) -> tuple[Updates, NamedTuple]:
        g, treedef = tree.flatten(grads)
        given = g
        wide = _widened(g)
        g = g if wide is None else wide
        new = []
        for (block, _), positions in zip(self._blocks, self._where):
            g, s = block._step(g, treedef, block.state_type(*[state[i] for i in positions]),
                               params)
            new.append(s)
        g = g if wide is None else _narrowed(g, given)
        return treedef.unflatten(g), self._join(new)


# --- SGD -----------------------------------------------------------------------------------------
class SgdState(NamedTuple):
    """State of [`sgd`][functrans.optim.sgd].

    Attributes:
        count: Updates done so far.
        learning_rate: The rate the next update uses.
        momentum: The momentum buffer (the params' structure), or ``None`` without momentum.

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> optim.sgd(0.1).init(np.zeros(2))
        SgdState(count=np.int64(0), learning_rate=0.1, momentum=None)
    """

    count: Array
    learning_rate: float
    momentum: PyTree | None


@dataclasses.dataclass(frozen=True)
class _Sgd(_Optimizer):
    name: ClassVar[str] = "sgd"
    state_type: ClassVar[type] = SgdState

    learning_rate: ScalarOrSchedule
    momentum: float
    nesterov: bool
    weight_decay: float

    def _chain(self) -> list[tuple[_Block, dict[str, str]]]:
        blocks = self._decay_block(self.weight_decay)
        if _nonzero(self.momentum):
            blocks.append((_Trace(self.momentum, self.nesterov, label=self.name),
                           {"trace": "momentum"}))
        return [*blocks, self._rate_block()]


def sgd(learning_rate: ScalarOrSchedule, momentum: float | None = 0.0, nesterov: bool = False,
        weight_decay: float = 0.0) -> GradientTransformation:
    """Stochastic gradient descent with optional (Nesterov) momentum, PyTorch's ``SGD``.

    With momentum ``mu``, weight decay ``wd`` and rate ``lr``::

        g = g + wd * p
        b = mu * b + g                          (b starts at 0, so the first b is g)
        d = g + mu * b if nesterov else b       (d = g when mu = 0)
        p = p - lr * d

    Reference: Sutskever, Martens, Dahl and Hinton, "On the importance of initialization and
    momentum in deep learning", ICML 2013.

    Args:
        learning_rate: A number or a schedule of the step count.
        momentum: Momentum factor ``mu`` in ``[0, 1)``; 0 or ``None`` (optax's default)
            keeps no buffer.
        nesterov: Use Nesterov momentum (needs ``momentum > 0``).
        weight_decay: L2 penalty ``wd`` (needs ``params`` in ``update``).

    Returns:
        A [`GradientTransformation`][functrans.optim.GradientTransformation] whose state is a
        [`SgdState`][functrans.optim.SgdState].

    Raises:
        ValueError: a negative rate or weight decay, momentum outside ``[0, 1)``, or
            ``nesterov`` without momentum.

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> opt = optim.sgd(0.1, momentum=0.9)
        >>> state = opt.init(np.array([1.0]))
        >>> updates, state = opt.update(np.array([2.0]), state)
        >>> updates, state.count, state.learning_rate
        (array([-0.2]), np.int64(1), 0.1)
    """
    _check_nonnegative("sgd", learning_rate=learning_rate, weight_decay=weight_decay)
    momentum = 0.0 if momentum is None else momentum
    _check_unit_interval("sgd", momentum=momentum)
    if nesterov and momentum == 0.0:
        raise ValueError("functrans.optim.sgd: nesterov=True needs momentum > 0 "
                         "(e.g. sgd(lr, momentum=0.9, nesterov=True))")
    return _Sgd(learning_rate, momentum, nesterov, weight_decay).transformation()


# --- Adam and AdamW ------------------------------------------------------------------------------
class AdamState(NamedTuple):
    """State of [`adam`][functrans.optim.adam] and [`adamw`][functrans.optim.adamw].

    Attributes:
        count: Updates done so far.
        learning_rate: The rate the next update uses.
        mu: First-moment (mean) estimates, the params' structure.
        nu: Second-moment (uncentred variance) estimates, the params' structure.

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> state = optim.adam(1e-3).init({"w": np.zeros(2)})
        >>> state.count, state.learning_rate, state.mu
        (np.int64(0), 0.001, {'w': array([0., 0.])})
    """

    count: Array
    learning_rate: float
    mu: PyTree
    nu: PyTree


@dataclasses.dataclass(frozen=True)
class _Adam(_Optimizer):
    name: ClassVar[str] = "adam"
    state_type: ClassVar[type] = AdamState
    decoupled: ClassVar[bool] = False  # the L2 penalty is added to g

    learning_rate: ScalarOrSchedule
    b1: float
    b2: float
    eps: float
    weight_decay: float
    mask: Mask | None = None
    eps_root: float = 0.0
    nesterov: bool = False
    mu_dtype: Any = None

    def _chain(self) -> list[tuple[_Block, dict[str, str]]]:
        decay = self._decay_block(self.weight_decay, self.mask)
        l2, decoupled = ([], decay) if self.decoupled else (decay, [])
        adam = _ScaleByAdam(self.b1, self.b2, self.eps, self.eps_root, self.nesterov,
                            self.mu_dtype, label=self.name)
        return [*l2, (adam, _MOMENTS), *decoupled, self._rate_block()]


class _AdamW(_Adam):
    name: ClassVar[str] = "adamw"
    decoupled: ClassVar[bool] = True  # the decay is added to the update


def adam(learning_rate: ScalarOrSchedule = 1e-3, b1: float = 0.9, b2: float = 0.999,
         eps: float = 1e-8, weight_decay: float = 0.0, *, eps_root: float = 0.0,
         nesterov: bool = False) -> GradientTransformation:
    """Adam, PyTorch's ``Adam`` (``weight_decay`` is an L2 penalty added to the gradient)::

        g = g + wd * p
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g**2
        p = p - lr * (m / (1 - b1**t)) / (sqrt(v / (1 - b2**t) + eps_root) + eps)

    ``eps_root`` and ``nesterov`` are optax's (see [`scale_by_adam`][functrans.optim.scale_by_adam]).

    Reference: Kingma and Ba, "Adam: A method for stochastic optimization", ICLR 2015.

    Args:
        learning_rate: A number or a schedule of the step count.
        b1: Decay of the first-moment estimate, in ``[0, 1)``.
        b2: Decay of the second-moment estimate, in ``[0, 1)``.
        eps: Added to the denominator.
        weight_decay: L2 penalty ``wd`` (needs ``params`` in ``update``); see [`adamw`][functrans.optim.adamw]
            for decoupled decay.
        eps_root: Added to ``v_hat`` inside the root (a positive value keeps the gradient of
            the update finite when it is differentiated, as in meta-learning).
        nesterov: Use Dozat's Nesterov momentum (NAdam's step).

    Returns:
        A [`GradientTransformation`][functrans.optim.GradientTransformation] whose state is an
        [`AdamState`][functrans.optim.AdamState].

    Raises:
        ValueError: a negative rate, eps or weight decay, or a decay outside ``[0, 1)``.

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> opt = optim.adam(0.1)
        >>> state = opt.init(np.zeros(2))
        >>> updates, state = opt.update(np.array([3.0, -0.5]), state)
        >>> np.round(updates, 6)   # the first step has size lr in every coordinate
        array([-0.1,  0.1])
    """
    _check_nonnegative("adam", learning_rate=learning_rate, eps=eps, weight_decay=weight_decay,
                       eps_root=eps_root)
    _check_unit_interval("adam", b1=b1, b2=b2)
    return _Adam(learning_rate, b1, b2, eps, weight_decay, None, eps_root,
                 nesterov).transformation()


def adamw(learning_rate: ScalarOrSchedule = 1e-3, b1: float = 0.9, b2: float = 0.999,
          eps: float = 1e-8, weight_decay: float = 1e-2, mask: Mask | None = None, *,
          eps_root: float = 0.0, nesterov: bool = False) -> GradientTransformation:
    """AdamW, Adam with decoupled weight decay, PyTorch's ``AdamW``::

        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g**2
        p = p - lr * ((m / (1 - b1**t)) / (sqrt(v / (1 - b2**t) + eps_root) + eps) + wd * p)

    ``mask``, ``eps_root`` and ``nesterov`` are optax's; its default ``weight_decay`` is
    1e-4, PyTorch's (kept here) 1e-2.

    Reference: Loshchilov and Hutter, "Decoupled weight decay regularization", ICLR 2019.

    Args:
        learning_rate: A number or a schedule of the step count.
        b1: Decay of the first-moment estimate, in ``[0, 1)``.
        b2: Decay of the second-moment estimate, in ``[0, 1)``.
        eps: Added to the denominator.
        weight_decay: Decay ``wd`` (PyTorch's default 0.01); needs ``params`` in ``update``.
        mask: Decay only the leaves where it is True (commonly not biases or norms): a pytree
            of bools with the params' structure (or a prefix of it), or a function of the
            params giving one; ``None`` decays every leaf.
        eps_root: Added to ``v_hat`` inside the root.
        nesterov: Use Dozat's Nesterov momentum (NAdam's step).

    Returns:
        A [`GradientTransformation`][functrans.optim.GradientTransformation] whose state is an
        [`AdamState`][functrans.optim.AdamState].

    Raises:
        ValueError: a negative rate, eps or weight decay, or a decay outside ``[0, 1)``.

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> opt = optim.adamw(0.1, weight_decay=0.5)
        >>> params = np.array([2.0])
        >>> updates, _ = opt.update(np.array([0.0]), opt.init(params), params)
        >>> updates    # zero gradient: only the decay, -lr * wd * p
        array([-0.1])
    """
    _check_nonnegative("adamw", learning_rate=learning_rate, eps=eps, weight_decay=weight_decay,
                       eps_root=eps_root)
    _check_unit_interval("adamw", b1=b1, b2=b2)
    return _AdamW(learning_rate, b1, b2, eps, weight_decay, mask, eps_root,
                  nesterov).transformation()


# --- RMSprop -------------------------------------------------------------------------------------
class RmspropState(NamedTuple):
    """State of [`rmsprop`][functrans.optim.rmsprop].

    Attributes:
        count: Updates done so far.
        learning_rate: The rate the next update uses.
        nu: Running average of the squared gradient.
        mu: Running average of the gradient (``centered=True`` only, else ``None``).
        momentum: Momentum buffer (``momentum > 0`` only, else ``None``).

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> state = optim.rmsprop(0.01).init(np.zeros(2))
        >>> state.count, state.mu is None, state.momentum is None
        (np.int64(0), True, True)
    """

    count: Array
    learning_rate: float
    nu: PyTree
    mu: PyTree | None
    momentum: PyTree | None


@dataclasses.dataclass(frozen=True)
class _Rmsprop(_Optimizer):
    name: ClassVar[str] = "rmsprop"
    state_type: ClassVar[type] = RmspropState

    learning_rate: ScalarOrSchedule
    alpha: float
    eps: float
    momentum: float
    centered: bool
    weight_decay: float

    def _chain(self) -> list[tuple[_Block, dict[str, str]]]:
        blocks = self._decay_block(self.weight_decay)
        if self.centered:
            blocks.append((_ScaleByStddev(self.alpha, self.eps, label=self.name),
                           {"mu": "mu", "nu": "nu"}))
        else:
            blocks.append((_ScaleByRms(self.alpha, self.eps, label=self.name), {"nu": "nu"}))
        if _nonzero(self.momentum):
            blocks.append((_Trace(self.momentum, False, label=self.name), {"trace": "momentum"}))
        return [*blocks, self._rate_block()]


def rmsprop(learning_rate: ScalarOrSchedule = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
            momentum: float | None = 0.0, centered: bool = False,
            weight_decay: float = 0.0) -> GradientTransformation:
    """RMSprop, PyTorch's ``RMSprop``::

        g = g + wd * p
        v = alpha * v + (1 - alpha) * g**2
        m = alpha * m + (1 - alpha) * g                         (centered only)
        s = g / (sqrt(v - m**2 if centered else v) + eps)
        b = momentum * b + s                                    (momentum > 0 only; s = b)
        p = p - lr * s

    Reference: Tieleman and Hinton, Lecture 6.5 of "Neural networks for machine learning",
    Coursera, 2012; centred form: Graves, "Generating sequences with recurrent neural
    networks", 2013.

    Args:
        learning_rate: A number or a schedule of the step count.
        alpha: Decay of the squared-gradient average, in ``[0, 1)``.
        eps: Added to the denominator.
        momentum: Momentum factor in ``[0, 1)``; 0 or ``None`` (optax's default) keeps no
            buffer.
        centered: Divide by the estimated standard deviation rather than the root mean square.
        weight_decay: L2 penalty (needs ``params`` in ``update``).

    Returns:
        A [`GradientTransformation`][functrans.optim.GradientTransformation] whose state is a
        [`RmspropState`][functrans.optim.RmspropState].

    Raises:
        ValueError: negative rate, eps or decay; alpha or momentum outside ``[0, 1)``.

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> opt = optim.rmsprop(0.01, alpha=0.75, eps=0.0)
        >>> updates, state = opt.update(np.array([2.0]), opt.init(np.zeros(1)))
        >>> updates    # -lr * g / sqrt((1 - alpha) g**2) = -0.01 / 0.5
        array([-0.02])
    """
    _check_nonnegative("rmsprop", learning_rate=learning_rate, eps=eps, weight_decay=weight_decay)
    momentum = 0.0 if momentum is None else momentum
    _check_unit_interval("rmsprop", alpha=alpha, momentum=momentum)
    return _Rmsprop(learning_rate, alpha, eps, momentum, centered, weight_decay).transformation()


# --- Adagrad -------------------------------------------------------------------------------------
class AdagradState(NamedTuple):
    """State of [`adagrad`][functrans.optim.adagrad].

    Attributes:
        count: Updates done so far.
        learning_rate: The rate the next update uses.
        sum_of_squares: Sum of the squared gradients so far (plus the initial value).

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> optim.adagrad(0.1, initial_accumulator_value=0.5).init(np.zeros(2)).sum_of_squares
        array([0.5, 0.5])
    """

    count: Array
    learning_rate: float
    sum_of_squares: PyTree


@dataclasses.dataclass(frozen=True)
class _Adagrad(_Optimizer):
    name: ClassVar[str] = "adagrad"
    state_type: ClassVar[type] = AdagradState

    learning_rate: ScalarOrSchedule
    initial_accumulator_value: float
    eps: float
    weight_decay: float

    def _chain(self) -> list[tuple[_Block, dict[str, str]]]:
        # PyTorch's order, (-lr * g) / (sqrt(s) + eps): the rss block applies the rate.
        rss = _ScaleByRssRateFirst(self.initial_accumulator_value, self.eps, label=self.name)
        rate = _ScaleByLearningRate(self.learning_rate, label=self.name, applied_before=True)
        return [*self._decay_block(self.weight_decay),
                (rss, {"sum_of_squares": "sum_of_squares", "learning_rate": "learning_rate"}),
                (rate, _RATE)]


def adagrad(learning_rate: ScalarOrSchedule = 1e-2, initial_accumulator_value: float = 0.0,
            eps: float = 1e-10, weight_decay: float = 0.0) -> GradientTransformation:
    """Adagrad, PyTorch's ``Adagrad`` (its ``lr_decay`` is a schedule here)::

        g = g + wd * p
        s = s + g**2                      (s starts at initial_accumulator_value)
        p = p - lr * g / (sqrt(s) + eps)

    Reference: Duchi, Hazan and Singer, "Adaptive subgradient methods for online learning and
    stochastic optimization", JMLR 2011.

    Args:
        learning_rate: A number or a schedule of the step count.
        initial_accumulator_value: Starting value of the sum of squares.
        eps: Added to the denominator.
        weight_decay: L2 penalty (needs ``params`` in ``update``).

    Returns:
        A [`GradientTransformation`][functrans.optim.GradientTransformation] whose state is an
        [`AdagradState`][functrans.optim.AdagradState].

    Raises:
        ValueError: a negative argument.

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> opt = optim.adagrad(0.5, eps=0.0)
        >>> updates, state = opt.update(np.array([4.0]), opt.init(np.zeros(1)))
        >>> updates, state.sum_of_squares
        (array([-0.5]), array([16.]))
    """
    _check_nonnegative("adagrad", learning_rate=learning_rate, eps=eps, weight_decay=weight_decay,
                       initial_accumulator_value=initial_accumulator_value)
    return _Adagrad(learning_rate, initial_accumulator_value, eps, weight_decay).transformation()


# --- Lion ----------------------------------------------------------------------------------------
class LionState(NamedTuple):
    """State of [`lion`][functrans.optim.lion].

    Attributes:
        count: Updates done so far.
        learning_rate: The rate the next update uses.
        mu: The momentum (an average of the gradients), the params' structure.

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> optim.lion(1e-4).init(np.zeros(1))
        LionState(count=np.int64(0), learning_rate=0.0001, mu=array([0.]))
    """

    count: Array
    learning_rate: float
    mu: PyTree


@dataclasses.dataclass(frozen=True)
class _Lion(_Optimizer):
    name: ClassVar[str] = "lion"
    state_type: ClassVar[type] = LionState

    learning_rate: ScalarOrSchedule
    b1: float
    b2: float
    weight_decay: float
    mask: Mask | None = None

    def _chain(self) -> list[tuple[_Block, dict[str, str]]]:
        lion = _ScaleByLion(self.b1, self.b2, label=self.name)
        return [(lion, {"mu": "mu"}), *self._decay_block(self.weight_decay, self.mask),
                self._rate_block()]


def lion(learning_rate: ScalarOrSchedule = 1e-4, b1: float = 0.9, b2: float = 0.99,
         weight_decay: float = 0.0, mask: Mask | None = None) -> GradientTransformation:
    """Lion (evolved sign momentum)::

        p = p - lr * (sign(b1 * m + (1 - b1) * g) + wd * p)
        m = b2 * m + (1 - b2) * g

    Every coordinate moves by exactly ``lr`` (plus the decay), so Lion wants a learning rate
    3-10x smaller than Adam's.

    Reference: Chen et al., "Symbolic discovery of optimization algorithms", NeurIPS 2023.

    Args:
        learning_rate: A number or a schedule of the step count.
        b1: Interpolation between momentum and gradient for the update, in ``[0, 1)``.
        b2: Decay of the momentum, in ``[0, 1)``.
        weight_decay: Decoupled decay ``wd`` (needs ``params`` in ``update``; optax's
            default is 1e-3).
        mask: Decay only the leaves where it is True: a pytree of bools with the params'
            structure (or a prefix of it), or a function of the params giving one.

    Returns:
        A [`GradientTransformation`][functrans.optim.GradientTransformation] whose state is a
        [`LionState`][functrans.optim.LionState].

    Raises:
        ValueError: a negative rate or decay, or ``b1``/``b2`` outside ``[0, 1)``.

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> opt = optim.lion(0.01)
        >>> updates, _ = opt.update(np.array([3.0, -1e-6]), opt.init(np.zeros(2)))
        >>> updates
        array([-0.01,  0.01])
    """
    _check_nonnegative("lion", learning_rate=learning_rate, weight_decay=weight_decay)
    _check_unit_interval("lion", b1=b1, b2=b2)
    return _Lion(learning_rate, b1, b2, weight_decay, mask).transformation()


# --- LARS ----------------------------------------------------------------------------------------
def lars(learning_rate: ScalarOrSchedule, weight_decay: float = 0.0,
         weight_decay_mask: Mask = True, trust_coefficient: float = 0.001, eps: float = 0.0,
         trust_ratio_mask: Mask = True, momentum: float = 0.9,
         nesterov: bool = False) -> GradientTransformation:
    """LARS, layer-wise adaptive rate scaling for large batches (optax's ``lars``)::

        u = g + wd * p                                     (where weight_decay_mask)
        u = tc * ||p|| / (||u|| + eps) * u                 (per leaf, where trust_ratio_mask;
                                                            1 where a norm is 0)
        b = momentum * b + (-lr * u)
        p = p + (u' if nesterov else b),   u' = -lr * u + momentum * b

    It is ``chain(add_decayed_weights(wd, weight_decay_mask), masked(scale_by_trust_ratio(
    trust_coefficient=tc, eps=eps), trust_ratio_mask), scale_by_learning_rate(lr),
    trace(momentum, nesterov))``, so its state is that chain's tuple. Needs ``params`` in
    ``update``.

    Reference: You, Gitman and Ginsburg, "Large batch training of convolutional networks",
    2017.

    Args:
        learning_rate: A number or a schedule of the step count.
        weight_decay: The decay ``wd`` added to the gradient.
        weight_decay_mask: Where to decay: True (everywhere), a pytree of bools with the
            params' structure (or a prefix of it), or a function of the params giving one.
        trust_coefficient: The factor ``tc`` of the trust ratio.
        eps: Added to the update's norm.
        trust_ratio_mask: Where to scale by the trust ratio (as ``weight_decay_mask``).
        momentum: Momentum factor in ``[0, 1)``.
        nesterov: Use Nesterov momentum.

    Returns:
        A [`GradientTransformation`][functrans.optim.GradientTransformation].

    Raises:
        ValueError: a negative rate, decay, coefficient or eps, or momentum outside ``[0, 1)``.

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> opt = optim.lars(0.1, trust_coefficient=1.0, momentum=0.0)
        >>> p = np.array([3.0, 4.0])
        >>> opt.update(np.array([0.0, 0.5]), opt.init(p), p)[0]   # ||p|| / ||g|| = 10
        array([ 0. , -0.5])
    """
    _check_nonnegative("lars", learning_rate=learning_rate, weight_decay=weight_decay,
                       trust_coefficient=trust_coefficient, eps=eps)
    _check_unit_interval("lars", momentum=momentum)
    return chain(add_decayed_weights(weight_decay, mask=weight_decay_mask),
                 masked(scale_by_trust_ratio(trust_coefficient=trust_coefficient, eps=eps),
                        trust_ratio_mask),
                 scale_by_learning_rate(learning_rate),
                 trace(momentum, nesterov))
