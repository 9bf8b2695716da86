"""Adam's relatives as chains of building blocks: AdaMax, AdaMaxW, NAdam, NAdamW, RAdam,
AdaBelief, LAMB.

Each keeps an [`AdamState`][functrans.optim.AdamState] (``count``, ``learning_rate``, the moment
estimates ``mu`` and ``nu``); ``g`` is the gradient, ``p`` the parameter and ``t`` the step
number counted from 1 in the formulas of the docstrings.
"""
from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

from functrans.optim.alias import _MOMENTS, AdamState, _AdamW, _Optimizer
from functrans.optim.base import (
    GradientTransformation,
    Mask,
    ScalarOrSchedule,
    _Block,
    _check_nonnegative,
    _check_unit_interval,
)
from functrans.optim.scale import (
    _ScaleByAdam,
    _ScaleByAdamax,
    _ScaleByBelief,
    _ScaleByRadam,
    _ScaleByTrustRatio,
)

__all__ = ["adabelief", "adamax", "adamaxw", "lamb", "nadam", "nadamw", "radam"]


def _checks(fn: str, learning_rate: ScalarOrSchedule, b1: float, b2: float,
            **nonnegative: float) -> None:
    _check_nonnegative(fn, learning_rate=learning_rate, **nonnegative)
    _check_unit_interval(fn, b1=b1, b2=b2)


@dataclasses.dataclass(frozen=True)
class _Adamax(_Optimizer):
    name: ClassVar[str] = "adamax"
    state_type: ClassVar[type] = AdamState

    learning_rate: ScalarOrSchedule
    b1: float
    b2: float
    eps: float
    weight_decay: float = 0.0  # decoupled, as in adamaxw: added to the update
    mask: Mask | None = None

    def _chain(self) -> list[tuple[_Block, dict[str, str]]]:
        return [(_ScaleByAdamax(self.b1, self.b2, self.eps, label=self.name), _MOMENTS),
                *self._decay_block(self.weight_decay, self.mask), self._rate_block()]


def adamax(learning_rate: ScalarOrSchedule = 2e-3, b1: float = 0.9, b2: float = 0.999,
           eps: float = 1e-8) -> GradientTransformation:
    """AdaMax, Adam with the infinity norm (PyTorch's ``Adamax``)::

        m = b1 * m + (1 - b1) * g
        u = max(b2 * u, |g| + eps)           (kept in the state's nu)
        p = p - lr * (m / (1 - b1**t)) / u

    Reference: Kingma and Ba, "Adam: A method for stochastic optimization", ICLR 2015,
    Algorithm 2.

    Args:
        learning_rate: A number or a schedule of the step count.
        b1: Decay of the first-moment estimate, in ``[0, 1)``.
        b2: Decay of the infinity norm, in ``[0, 1)``.
        eps: Added to the denominator.

    Returns:
        A [`GradientTransformation`][functrans.optim.GradientTransformation] whose state is an
        [`AdamState`][functrans.optim.AdamState].

    Raises:
        ValueError: a negative rate or eps, or a decay outside ``[0, 1)``.

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> opt = optim.adamax(0.1, eps=0.0)
        >>> opt.update(np.array([3.0, -0.5]), opt.init(np.zeros(2)))[0]
        array([-0.1,  0.1])
    """
    _checks("adamax", learning_rate, b1, b2, eps=eps)
    return _Adamax(learning_rate, b1, b2, eps).transformation()


class _Adamaxw(_Adamax):
    name: ClassVar[str] = "adamaxw"


def adamaxw(learning_rate: ScalarOrSchedule, b1: float = 0.9, b2: float = 0.999,
            eps: float = 1e-8, weight_decay: float = 1e-4,
            mask: Mask | None = None) -> GradientTransformation:
    """AdaMaxW, AdaMax with decoupled weight decay (optax's ``adamaxw``, its defaults)::

        m = b1 * m + (1 - b1) * g
        u = max(b2 * u, |g| + eps)           (kept in the state's nu)
        p = p - lr * ((m / (1 - b1**t)) / u + wd * p)

    Reference: Kingma and Ba, "Adam: A method for stochastic optimization", ICLR 2015
    (AdaMax); Loshchilov and Hutter, "Decoupled weight decay regularization", ICLR 2019.

    Args:
        learning_rate: A number or a schedule of the step count.
        b1: Decay of the first-moment estimate, in ``[0, 1)``.
        b2: Decay of the infinity norm, in ``[0, 1)``.
        eps: Added to the infinity norm.
        weight_decay: Decoupled decay ``wd`` (needs ``params`` in ``update``).
        mask: Decay only the leaves where it is True: a pytree of bools with the params'
            structure (or a prefix of it), or a function of the params giving one.

    Returns:
        A [`GradientTransformation`][functrans.optim.GradientTransformation] whose state is an
        [`AdamState`][functrans.optim.AdamState].

    Raises:
        ValueError: a negative rate, eps or weight decay, or a decay outside ``[0, 1)``.

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> opt = optim.adamaxw(0.1, weight_decay=0.5)
        >>> p = np.array([2.0])
        >>> opt.update(np.array([0.0]), opt.init(p), p)[0]   # zero gradient: -lr * wd * p
        array([-0.1])
    """
    _checks("adamaxw", learning_rate, b1, b2, eps=eps, weight_decay=weight_decay)
    return _Adamaxw(learning_rate, b1, b2, eps, weight_decay, mask).transformation()


@dataclasses.dataclass(frozen=True)
class _Nadam(_Optimizer):
    name: ClassVar[str] = "nadam"
    state_type: ClassVar[type] = AdamState

    learning_rate: ScalarOrSchedule
    b1: float
    b2: float
    eps: float

    def _chain(self) -> list[tuple[_Block, dict[str, str]]]:
        adam = _ScaleByAdam(self.b1, self.b2, self.eps, nesterov=True, label=self.name)
        return [(adam, _MOMENTS), self._rate_block()]


def nadam(learning_rate: ScalarOrSchedule = 2e-3, b1: float = 0.9, b2: float = 0.999,
          eps: float = 1e-8) -> GradientTransformation:
    """NAdam, Adam with Nesterov momentum (Dozat's form with a constant ``b1``, as optax's;
    PyTorch's ``NAdam`` adds a warm-up of the momentum)::

        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g**2
        m_hat = b1 * m / (1 - b1**(t+1)) + (1 - b1) * g / (1 - b1**t)
        p = p - lr * m_hat / (sqrt(v / (1 - b2**t)) + eps)

    Reference: Dozat, "Incorporating Nesterov momentum into Adam", ICLR 2016 workshop.

    Args:
        learning_rate: A number or a schedule of the step count.
        b1: Decay of the first-moment estimate, in ``[0, 1)``.
        b2: Decay of the second-moment estimate, in ``[0, 1)``.
        eps: Added to the denominator.

    Returns:
        A [`GradientTransformation`][functrans.optim.GradientTransformation] whose state is an
        [`AdamState`][functrans.optim.AdamState].

    Raises:
        ValueError: a negative rate or eps, or a decay outside ``[0, 1)``.

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> opt = optim.nadam(0.1)
        >>> np.round(opt.update(np.array([3.0, -0.5]), opt.init(np.zeros(2)))[0], 4)
        array([-0.1474,  0.1474])
    """
    _checks("nadam", learning_rate, b1, b2, eps=eps)
    return _Nadam(learning_rate, b1, b2, eps).transformation()


class _Nadamw(_AdamW):
    name: ClassVar[str] = "nadamw"


def nadamw(learning_rate: ScalarOrSchedule, b1: float = 0.9, b2: float = 0.999,
           eps: float = 1e-8, eps_root: float = 0.0, mu_dtype: Any = None,
           weight_decay: float = 1e-4, mask: Mask | None = None) -> GradientTransformation:
    """NAdamW, NAdam with decoupled weight decay: optax's ``nadamw`` (its ``adamw`` with
    ``nesterov=True``), with optax's argument order and defaults::

        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g**2
        m_hat = b1 * m / (1 - b1**(t+1)) + (1 - b1) * g / (1 - b1**t)
        p = p - lr * (m_hat / (sqrt(v / (1 - b2**t) + eps_root) + eps) + wd * p)

    Reference: Dozat, "Incorporating Nesterov momentum into Adam", ICLR 2016 workshop;
    Loshchilov and Hutter, "Decoupled weight decay regularization", ICLR 2019.

    Args:
        learning_rate: A number or a schedule of the step count.
        b1: Decay of the first-moment estimate, in ``[0, 1)``.
        b2: Decay of the second-moment estimate, in ``[0, 1)``.
        eps: Added to the denominator.
        eps_root: Added inside the root.
        mu_dtype: The dtype the first moment is kept in (``None``: the params').
        weight_decay: Decoupled decay ``wd`` (needs ``params`` in ``update``).
        mask: Decay only the leaves where it is True: a pytree of bools with the params'
            structure (or a prefix of it), or a function of the params giving one.

    Returns:
        A [`GradientTransformation`][functrans.optim.GradientTransformation] whose state is an
        [`AdamState`][functrans.optim.AdamState].

    Raises:
        ValueError: a negative rate, eps or weight decay, or a decay outside ``[0, 1)``.

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> opt = optim.nadamw(0.1, weight_decay=0.0)
        >>> p = np.zeros(2)
        >>> np.round(opt.update(np.array([3.0, -0.5]), opt.init(p), p)[0], 4)
        array([-0.1474,  0.1474])
    """
    _checks("nadamw", learning_rate, b1, b2, eps=eps, eps_root=eps_root,
            weight_decay=weight_decay)
    return _Nadamw(learning_rate, b1, b2, eps, weight_decay, mask, eps_root, True,
                   mu_dtype).transformation()


@dataclasses.dataclass(frozen=True)
class _Radam(_Optimizer):
    name: ClassVar[str] = "radam"
    state_type: ClassVar[type] = AdamState

    learning_rate: ScalarOrSchedule
    b1: float
    b2: float
    eps: float
    threshold: float

    def _chain(self) -> list[tuple[_Block, dict[str, str]]]:
        radam = _ScaleByRadam(self.b1, self.b2, self.eps, self.threshold, label=self.name)
        return [(radam, _MOMENTS), self._rate_block()]


def radam(learning_rate: ScalarOrSchedule = 1e-3, b1: float = 0.9, b2: float = 0.999,
          eps: float = 1e-8, threshold: float = 5.0) -> GradientTransformation:
    """RAdam, Adam whose adaptive step is rectified while the variance estimate is young::

        rho_inf = 2 / (1 - b2) - 1
        rho_t = rho_inf - 2 t b2**t / (1 - b2**t)
        r_t = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))
        p = p - lr * r_t * m_hat / (sqrt(v_hat) + eps)     if rho_t > threshold
        p = p - lr * m_hat                                  otherwise

    with Adam's bias-corrected moments ``m_hat``, ``v_hat``. The switch is an array
    ``where``, so a ``jit``-staged step has no Python branch on the count.

    Reference: Liu et al., "On the variance of the adaptive learning rate and beyond",
    ICLR 2020, Algorithm 2 (threshold 4 there; 5 in PyTorch and optax).

    Args:
        learning_rate: A number or a schedule of the step count.
        b1: Decay of the first-moment estimate, in ``[0, 1)``.
        b2: Decay of the second-moment estimate, in ``[0, 1)``.
        eps: Added to the denominator.
        threshold: The ``rho_t`` above which the adaptive step is used.

    Returns:
        A [`GradientTransformation`][functrans.optim.GradientTransformation] whose state is an
        [`AdamState`][functrans.optim.AdamState].

    Raises:
        ValueError: a negative rate, eps or threshold, or a decay outside ``[0, 1)``.

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> opt = optim.radam(0.1)
        >>> opt.update(np.array([3.0, -0.5]), opt.init(np.zeros(2)))[0]  # momentum step first
        array([-0.3 ,  0.05])
    """
    _checks("radam", learning_rate, b1, b2, eps=eps, threshold=threshold)
    return _Radam(learning_rate, b1, b2, eps, threshold).transformation()


@dataclasses.dataclass(frozen=True)
class _Adabelief(_Optimizer):
    name: ClassVar[str] = "adabelief"
    state_type: ClassVar[type] = AdamState

    learning_rate: ScalarOrSchedule
    b1: float
    b2: float
    eps: float
    eps_root: float

    def _chain(self) -> list[tuple[_Block, dict[str, str]]]:
        belief = _ScaleByBelief(self.b1, self.b2, self.eps, self.eps_root, label=self.name)
        return [(belief, _MOMENTS), self._rate_block()]


def adabelief(learning_rate: ScalarOrSchedule = 1e-3, b1: float = 0.9, b2: float = 0.999,
              eps: float = 1e-16, eps_root: float = 1e-16) -> GradientTransformation:
    """AdaBelief: Adam whose denominator is the spread of the gradient around its mean::

        m = b1 * m + (1 - b1) * g
        s = b2 * s + (1 - b2) * (g - m)**2 + eps_root          (kept in the state's nu)
        p = p - lr * (m / (1 - b1**t)) / (sqrt(s / (1 - b2**t)) + eps)

    Reference: Zhuang et al., "AdaBelief optimizer: adapting stepsizes by the belief in
    observed gradients", NeurIPS 2020, Algorithm 2.

    Args:
        learning_rate: A number or a schedule of the step count.
        b1: Decay of the mean, in ``[0, 1)``.
        b2: Decay of the belief, in ``[0, 1)``.
        eps: Added to the denominator.
        eps_root: Added to ``s`` at every step (the paper's epsilon there).

    Returns:
        A [`GradientTransformation`][functrans.optim.GradientTransformation] whose state is an
        [`AdamState`][functrans.optim.AdamState].

    Raises:
        ValueError: a negative rate or epsilon, or a decay outside ``[0, 1)``.

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> opt = optim.adabelief(0.1)
        >>> np.round(opt.update(np.array([3.0]), opt.init(np.zeros(1)))[0], 6)
        array([-0.111111])
    """
    _checks("adabelief", learning_rate, b1, b2, eps=eps, eps_root=eps_root)
    return _Adabelief(learning_rate, b1, b2, eps, eps_root).transformation()


@dataclasses.dataclass(frozen=True)
class _Lamb(_Optimizer):
    name: ClassVar[str] = "lamb"
    state_type: ClassVar[type] = AdamState

    learning_rate: ScalarOrSchedule
    b1: float
    b2: float
    eps: float
    weight_decay: float
    mask: Mask | None = None

    def _chain(self) -> list[tuple[_Block, dict[str, str]]]:
        adam = _ScaleByAdam(self.b1, self.b2, self.eps, label=self.name)
        ratio = _ScaleByTrustRatio(0.0, 1.0, 0.0, label=self.name)
        return [(adam, _MOMENTS), *self._decay_block(self.weight_decay, self.mask), (ratio, {}),
                self._rate_block()]


def lamb(learning_rate: ScalarOrSchedule = 1e-3, b1: float = 0.9, b2: float = 0.999,
         eps: float = 1e-6, weight_decay: float = 0.0,
         mask: Mask | None = None) -> GradientTransformation:
    """LAMB, Adam with decoupled decay and a layer-wise (per leaf) trust ratio::

        r = m_hat / (sqrt(v_hat) + eps) + wd * p
        p = p - lr * (||p|| / ||r||) * r      (the ratio is 1 where a norm is 0)

    with Adam's bias-corrected moments ``m_hat``, ``v_hat``; it needs ``params`` in
    ``update``.

    Reference: You et al., "Large batch optimization for deep learning: training BERT in 76
    minutes", ICLR 2020, Algorithm 2 (with the identity as its scaling function phi).

    Args:
        learning_rate: A number or a schedule of the step count.
        b1: Decay of the first-moment estimate, in ``[0, 1)``.
        b2: Decay of the second-moment estimate, in ``[0, 1)``.
        eps: Added to the denominator.
        weight_decay: Decoupled decay ``wd``.
        mask: Decay only the leaves where it is True: a pytree of bools with the params'
            structure (or a prefix of it), or a function of the params giving one.

    Returns:
        A [`GradientTransformation`][functrans.optim.GradientTransformation] whose state is an
        [`AdamState`][functrans.optim.AdamState].

    Raises:
        ValueError: a negative rate, eps or weight decay, or a decay outside ``[0, 1)``.

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> opt = optim.lamb(0.1)
        >>> p = np.array([3.0, 4.0])
        >>> np.round(opt.update(np.array([1.0, 0.0]), opt.init(p), p)[0], 6)  # |step| = lr |p|
        array([-0.5, -0. ])
    """
    _checks("lamb", learning_rate, b1, b2, eps=eps, weight_decay=weight_decay)
    return _Lamb(learning_rate, b1, b2, eps, weight_decay, mask).transformation()
