"""Learning-rate schedules: small frozen objects called with the step count.

A schedule is accepted wherever a learning rate is. The optimizer evaluates it at the number
of updates done so far (0 for the first update) and records the value in its state's
``learning_rate`` field. The hyperparameters stay visible in the schedule's ``repr``.

Example:
    >>> from functrans import optim
    >>> sched = optim.schedules.linear(1.0, 0.0, transition_steps=4)
    >>> [sched(i) for i in range(6)]
    [1.0, 0.75, 0.5, 0.25, 0.0, 0.0]
"""
from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import functrans.numpy as fnp

__all__ = ["constant", "cosine_decay", "cosine_onecycle", "exponential_decay", "join", "linear",
           "piecewise_constant", "polynomial", "warmup_cosine_decay"]


class _PythonMath:
    """The operations a schedule needs, on Python numbers."""

    min = staticmethod(min)
    max = staticmethod(max)
    cos = staticmethod(math.cos)
    floor = staticmethod(math.floor)

    @staticmethod
    def where(condition: Any, if_true: Any, if_false: Any) -> Any:
        return if_true if condition else if_false

    @staticmethod
    def result(value: Any) -> Any:
        return float(value)


class _ArrayMath:
    """The same operations on a traced count (a training step under ``jit``)."""

    min = staticmethod(fnp.minimum)
    max = staticmethod(fnp.maximum)
    cos = staticmethod(fnp.cos)
    floor = staticmethod(fnp.floor)
    where = staticmethod(fnp.where)

    @staticmethod
    def result(value: Any) -> Any:
        return value


def _math(count: Any) -> type[_PythonMath] | type[_ArrayMath]:
    """Python arithmetic for a number, array operations for a traced count."""
    return _ArrayMath if hasattr(count, "_trace") else _PythonMath


def _check_steps(fn: str, name: str, steps: int, allow_zero: bool = False) -> None:
    if not isinstance(steps, int) or isinstance(steps, bool) or steps < (0 if allow_zero else 1):
        bound = "a non-negative" if allow_zero else "a positive"
        raise ValueError(f"functrans.optim.schedules.{fn}: {name} must be {bound} int, "
                         f"got {steps!r}")


@dataclasses.dataclass(frozen=True)
class constant:
    """The same value at every step.

    Args:
        value: The learning rate.

    Example:
        >>> from functrans import optim
        >>> optim.schedules.constant(0.1)(1000)
        0.1
    """

    value: float

    def __call__(self, count: int) -> float:
        return float(self.value)


@dataclasses.dataclass(frozen=True)
class linear:
    """Linear interpolation from ``init_value`` to ``end_value`` over ``transition_steps``
    steps that start at ``transition_begin``, then ``end_value``:
    ``init + (end - init) * c / T`` with ``c = min(max(count - transition_begin, 0), T)``.

    Args:
        init_value: Value at step 0.
        end_value: Value from step ``transition_steps`` on.
        transition_steps: Length ``T`` of the ramp (a positive int).
        transition_begin: The step the ramp starts at (``init_value`` until then).

    Example:
        >>> from functrans import optim
        >>> optim.schedules.linear(0.0, 1.0, 10)(5)
        0.5
    """

    init_value: float
    end_value: float
    transition_steps: int
    transition_begin: int = 0

    def __post_init__(self) -> None:
        _check_steps("linear", "transition_steps", self.transition_steps)
        _check_steps("linear", "transition_begin", self.transition_begin, allow_zero=True)

    def __call__(self, count: int) -> float:
        m = _math(count)
        frac = m.min(m.max(count - self.transition_begin, 0), self.transition_steps) / self.transition_steps
        return m.result(self.init_value + (self.end_value - self.init_value) * frac)


@dataclasses.dataclass(frozen=True)
class exponential_decay:
    """``init_value * decay_rate ** (c / transition_steps)`` with
    ``c = max(count - transition_begin, 0)``, optionally in whole steps (``staircase``) and
    bounded by ``end_value``. The arguments are in optax's order.

    Args:
        init_value: Value until ``transition_begin``.
        transition_steps: Steps per factor of ``decay_rate`` (a positive int).
        decay_rate: Factor per ``transition_steps`` steps (positive).
        transition_begin: The step the decay starts at.
        staircase: Use ``c // transition_steps`` (decay in jumps).
        end_value: A floor (when decaying) or ceiling (when ``decay_rate > 1``), or ``None``.

    Raises:
        ValueError: ``transition_steps`` is not a positive int (the message gives the order
            of the arguments), or ``decay_rate`` is not positive.

    Example:
        >>> from functrans import optim
        >>> optim.schedules.exponential_decay(1.0, transition_steps=10, decay_rate=0.5)(20)
        0.25
    """

    init_value: float
    transition_steps: int
    decay_rate: float
    transition_begin: int = 0
    staircase: bool = False
    end_value: float | None = None

    def __post_init__(self) -> None:
        steps = self.transition_steps
        if not isinstance(steps, int) or isinstance(steps, bool) or steps < 1:
            raise ValueError(f"functrans.optim.schedules.exponential_decay: transition_steps "
                             f"must be a positive int, got {steps!r}. The arguments are "
                             f"optax's: exponential_decay(init_value, transition_steps, "
                             f"decay_rate); e.g. exponential_decay(1e-3, 1000, 0.96) multiplies "
                             f"by 0.96 every 1000 steps")
        _check_steps("exponential_decay", "transition_begin", self.transition_begin,
                     allow_zero=True)
        if not self.decay_rate > 0:
            raise ValueError(f"functrans.optim.schedules.exponential_decay: decay_rate must be "
                             f"> 0, got {self.decay_rate!r}")

    def __call__(self, count: int) -> float:
        m = _math(count)
        p = m.max(count - self.transition_begin, 0) / self.transition_steps
        if self.staircase:
            p = m.floor(p)
        value = self.init_value * self.decay_rate**p
        if self.end_value is not None:
            value = m.max(value, self.end_value) if self.decay_rate < 1 else m.min(value,
                                                                                    self.end_value)
        return m.result(value)


@dataclasses.dataclass(frozen=True)
class cosine_decay:
    """Cosine decay from ``init_value`` to ``alpha * init_value`` over ``decay_steps``:
    ``init * ((1 - alpha) * (1 + cos(pi * min(count, T) / T)) / 2 + alpha)``.

    Reference: Loshchilov and Hutter, "SGDR: Stochastic gradient descent with warm restarts",
    ICLR 2017.

    Args:
        init_value: Value at step 0.
        decay_steps: Length ``T`` of the decay.
        alpha: Final value as a fraction of ``init_value``.
        exponent: The power the cosine factor is raised to (``cosine**exponent``).

    Example:
        >>> from functrans import optim
        >>> optim.schedules.cosine_decay(1.0, decay_steps=10)(5)
        0.5
    """

    init_value: float
    decay_steps: int
    alpha: float = 0.0
    exponent: float = 1.0

    def __post_init__(self) -> None:
        _check_steps("cosine_decay", "decay_steps", self.decay_steps)

    def __call__(self, count: int) -> float:
        m = _math(count)
        frac = m.min(m.max(count, 0), self.decay_steps) / self.decay_steps
        cosine = 0.5 * (1.0 + m.cos(math.pi * frac))
        return m.result(self.init_value * ((1.0 - self.alpha) * cosine**self.exponent + self.alpha))


@dataclasses.dataclass(frozen=True)
class warmup_cosine_decay:
    """Linear warmup from ``init_value`` to ``peak_value`` over ``warmup_steps``, then cosine
    decay to ``end_value`` at step ``decay_steps`` (counted from 0, warmup included), then
    ``end_value``.

    Args:
        init_value: Value at step 0.
        peak_value: Value at the end of the warmup.
        warmup_steps: Length of the warmup (0 for none).
        decay_steps: The step at which ``end_value`` is reached (more than ``warmup_steps``).
        end_value: The final value.
        exponent: The power the cosine factor of the decay is raised to.

    Example:
        >>> from functrans import optim
        >>> s = optim.schedules.warmup_cosine_decay(0.0, 1.0, warmup_steps=2, decay_steps=6)
        >>> [round(s(i), 3) for i in range(8)]
        [0.0, 0.5, 1.0, 0.854, 0.5, 0.146, 0.0, 0.0]
    """

    init_value: float
    peak_value: float
    warmup_steps: int
    decay_steps: int
    end_value: float = 0.0
    exponent: float = 1.0

    def __post_init__(self) -> None:
        _check_steps("warmup_cosine_decay", "warmup_steps", self.warmup_steps, allow_zero=True)
        _check_steps("warmup_cosine_decay", "decay_steps", self.decay_steps)
        if self.decay_steps <= self.warmup_steps:
            raise ValueError(f"functrans.optim.schedules.warmup_cosine_decay: decay_steps "
                             f"({self.decay_steps}) must exceed warmup_steps "
                             f"({self.warmup_steps}); it counts the warmup too")

    def __call__(self, count: int) -> float:
        m = _math(count)
        warm = self.init_value + (self.peak_value - self.init_value) * (count / max(self.warmup_steps, 1))
        span = self.decay_steps - self.warmup_steps
        frac = m.min(m.max(count - self.warmup_steps, 0), span) / span
        cosine = 0.5 * (1.0 + m.cos(math.pi * frac))
        decayed = self.end_value + (self.peak_value - self.end_value) * cosine**self.exponent
        return m.result(m.where(count < self.warmup_steps, warm, decayed))


@dataclasses.dataclass(frozen=True)
class polynomial:
    """Polynomial decay from ``init_value`` to ``end_value`` over ``transition_steps`` steps
    that start at ``transition_begin``: ``(init - end) * (1 - c / T)**power + end`` with
    ``c = min(max(count - transition_begin, 0), T)``.

    Args:
        init_value: Value until ``transition_begin``.
        end_value: Value from ``transition_begin + transition_steps`` on.
        power: The exponent (1 is linear).
        transition_steps: Length ``T`` of the decay (a positive int).
        transition_begin: The step the decay starts at.

    Example:
        >>> from functrans import optim
        >>> s = optim.schedules.polynomial(1.0, 0.0, power=2, transition_steps=4)
        >>> [s(i) for i in range(6)]
        [1.0, 0.5625, 0.25, 0.0625, 0.0, 0.0]
    """

    init_value: float
    end_value: float
    power: float
    transition_steps: int
    transition_begin: int = 0

    def __post_init__(self) -> None:
        _check_steps("polynomial", "transition_steps", self.transition_steps)
        _check_steps("polynomial", "transition_begin", self.transition_begin, allow_zero=True)

    def __call__(self, count: int) -> float:
        m = _math(count)
        c = m.min(m.max(count - self.transition_begin, 0), self.transition_steps)
        frac = 1.0 - c / self.transition_steps
        return m.result((self.init_value - self.end_value) * frac**self.power + self.end_value)


@dataclasses.dataclass(frozen=True)
class piecewise_constant:
    """``init_value`` times the scales of every boundary reached: from step ``b`` on, the
    value is multiplied by ``boundaries_and_scales[b]``.

    Args:
        init_value: Value at step 0.
        boundaries_and_scales: ``{step: factor}``, steps as non-negative ints.

    Example:
        >>> from functrans import optim
        >>> s = optim.schedules.piecewise_constant(1.0, {2: 0.5, 4: 0.1})
        >>> [s(i) for i in range(6)]
        [1.0, 1.0, 0.5, 0.5, 0.05, 0.05]
    """

    init_value: float
    boundaries_and_scales: Mapping[int, float]

    def __post_init__(self) -> None:
        for b in self.boundaries_and_scales:
            _check_steps("piecewise_constant", "every boundary", b, allow_zero=True)
        # Kept sorted as a tuple: hashable (a static part of a jit key) and applied in order.
        object.__setattr__(self, "boundaries_and_scales",
                           tuple(sorted(dict(self.boundaries_and_scales).items())))

    def __call__(self, count: int) -> float:
        m = _math(count)
        value = self.init_value
        pairs: Any = self.boundaries_and_scales  # sorted (boundary, factor) pairs
        for boundary, factor in pairs:
            value = m.where(count < boundary, value, value * factor)
        return m.result(value)


@dataclasses.dataclass(frozen=True)
class join:
    """One schedule after another: ``schedules[i + 1]`` takes over at ``boundaries[i]`` and
    is called with the steps counted from that boundary.

    Args:
        schedules: The schedules (functions of the step count), one more than the boundaries.
        boundaries: Increasing step counts.

    Raises:
        ValueError: the lengths do not fit, or the boundaries do not increase.

    Example:
        >>> from functrans import optim
        >>> warm = optim.schedules.linear(0.0, 1.0, 2)
        >>> decay = optim.schedules.exponential_decay(1.0, 1, 0.5)
        >>> s = optim.schedules.join([warm, decay], [2])
        >>> [s(i) for i in range(5)]
        [0.0, 0.5, 1.0, 0.5, 0.25]
    """

    schedules: Sequence[Callable[[Any], Any]]
    boundaries: Sequence[int]

    def __post_init__(self) -> None:
        object.__setattr__(self, "schedules", tuple(self.schedules))
        object.__setattr__(self, "boundaries", tuple(self.boundaries))
        if len(self.schedules) != len(self.boundaries) + 1:
            raise ValueError(f"functrans.optim.schedules.join: {len(self.schedules)} schedules "
                             f"need {len(self.schedules) - 1} boundaries, got "
                             f"{len(self.boundaries)}; give one boundary between each pair")
        for b in self.boundaries:
            _check_steps("join", "every boundary", b, allow_zero=True)
        if list(self.boundaries) != sorted(self.boundaries):
            raise ValueError(f"functrans.optim.schedules.join: the boundaries must increase, "
                             f"got {list(self.boundaries)}")

    def __call__(self, count: int) -> float:
        m = _math(count)
        value = self.schedules[0](count)
        for boundary, schedule in zip(self.boundaries, self.schedules[1:]):
            value = m.where(count < boundary, value, schedule(count - boundary))
        return m.result(value)


@dataclasses.dataclass(frozen=True)
class cosine_onecycle:
    """The one-cycle policy with cosine annealing (PyTorch's ``OneCycleLR``): from
    ``peak_value / div_factor`` up to ``peak_value`` over the first ``pct_start`` of
    ``transition_steps``, then down to ``peak_value / (div_factor * final_div_factor)``;
    each phase is ``end + (start - end) * (1 + cos(pi * fraction)) / 2``.

    Reference: Smith and Topin, "Super-convergence: very fast training of neural networks
    using large learning rates", 2017.

    Args:
        transition_steps: The length of the cycle (a positive int).
        peak_value: The largest value.
        pct_start: The fraction of the cycle spent increasing, in ``(0, 1)``.
        div_factor: ``peak_value / initial value``.
        final_div_factor: ``initial value / final value``.

    Example:
        >>> from functrans import optim
        >>> s = optim.schedules.cosine_onecycle(10, 1.0, pct_start=0.2, div_factor=10.0,
        ...                                     final_div_factor=10.0)
        >>> [round(s(i), 4) for i in (0, 1, 2, 6, 10, 12)]
        [0.1, 0.55, 1.0, 0.505, 0.01, 0.01]
    """

    transition_steps: int
    peak_value: float
    pct_start: float = 0.3
    div_factor: float = 25.0
    final_div_factor: float = 1e4

    def __post_init__(self) -> None:
        _check_steps("cosine_onecycle", "transition_steps", self.transition_steps)
        if not 0.0 < self.pct_start < 1.0:
            raise ValueError(f"functrans.optim.schedules.cosine_onecycle: pct_start must be in "
                             f"(0, 1), got {self.pct_start!r}")

    def __call__(self, count: int) -> float:
        m = _math(count)
        start = self.peak_value / self.div_factor
        end = start / self.final_div_factor
        up = self.pct_start * self.transition_steps
        down = self.transition_steps - up

        def anneal(first: float, last: float, fraction: Any) -> Any:
            return last + (first - last) * 0.5 * (1.0 + m.cos(math.pi * fraction))

        rising = anneal(start, self.peak_value, m.min(m.max(count, 0) / up, 1.0))
        falling = anneal(self.peak_value, end, m.min(m.max(count - up, 0) / down, 1.0))
        return m.result(m.where(count < up, rising, falling))
