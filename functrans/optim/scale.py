"""The building blocks optimizers are chains of: gradient statistics (``scale_by_adam``,
``scale_by_rms``, ...), momentum (``trace``) and the learning rate (``scale_by_learning_rate``).

Each block turns the incoming updates into new ones and keeps its own NamedTuple state; the
optimizers of [`functrans.optim.alias`][functrans.optim.alias] are chains of them (``adam`` is ``scale_by_adam``
then ``scale_by_learning_rate``). The blocks compute on the list of leaves, so a chain
flattens the gradients once.

Example:
    >>> import numpy as np
    >>> from functrans import optim
    >>> opt = optim.chain(optim.scale_by_adam(), optim.scale_by_learning_rate(0.1))
    >>> updates, state = opt.update(np.array([3.0, -0.5]), opt.init(np.zeros(2)))
    >>> np.round(updates, 6)
    array([-0.1,  0.1])
"""
from __future__ import annotations

import dataclasses
from typing import Any, ClassVar, NamedTuple

import functrans.numpy as fnp
from functrans import tree
from functrans.optim._norm import abs_sq as _abs_sq
from functrans.optim.base import (
    EmptyState,
    GradientTransformation,
    ScalarOrSchedule,
    _Block,
    _check_nonnegative,
    _check_unit_interval,
    _coefficient,
    _first_count,
    _label,
    _need_params,
    _nonzero,
    _norm,
    _rate,
    _same_leaves,
    _zeros_like_tree,
)
from functrans.typing import Array, Params, PyTree

__all__ = ["ScaleByAdamState", "ScaleByBeliefState", "ScaleByLearningRateState",
           "ScaleByLionState", "ScaleByRmsState", "ScaleByRssState", "ScaleByScheduleState",
           "ScaleByStddevState", "TraceState", "scale_by_adam", "scale_by_adamax",
           "scale_by_belief", "scale_by_learning_rate", "scale_by_lion", "scale_by_radam",
           "scale_by_rms", "scale_by_rss", "scale_by_schedule", "scale_by_stddev",
           "scale_by_trust_ratio", "trace"]


# --- trace: momentum -----------------------------------------------------------------------------
class TraceState(NamedTuple):
    """State of [`trace`][functrans.optim.trace]: the momentum buffer, the params' structure.

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> optim.trace(0.9).init(np.zeros(2))
        TraceState(trace=array([0., 0.]))
    """

    trace: PyTree


@dataclasses.dataclass(frozen=True)
class _Trace(_Block):
    name: ClassVar[str] = "trace"
    state_type: ClassVar[type] = TraceState

    decay: float
    nesterov: bool
    label: str = _label()

    def init(self, params: Params) -> TraceState:
        return TraceState(_zeros_like_tree(params))

    def _step(self, g: list, treedef: tree.TreeDef, state: TraceState,
              params: Params | None) -> tuple[list, TraceState]:
        mu = self.decay
        b = [mu * bi + gi for bi, gi in zip(_same_leaves(treedef, g, state.trace, self.fn,
                                                         "momentum"), g)]
        d = [gi + mu * bi for gi, bi in zip(g, b)] if self.nesterov else b
        return d, TraceState(treedef.unflatten(b))


def trace(decay: float, nesterov: bool = False) -> GradientTransformation:
    """Momentum: ``b = decay * b + g``, giving ``b`` (or ``g + decay * b`` with Nesterov).

    Args:
        decay: The momentum factor, in ``[0, 1)``.
        nesterov: Give the Nesterov look-ahead ``g + decay * b``.

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> opt = optim.trace(0.5)
        >>> u, s = opt.update(np.array([2.0]), opt.init(np.zeros(1)))
        >>> opt.update(np.array([2.0]), s)[0]
        array([3.])
    """
    _check_unit_interval("trace", decay=decay)
    return _Trace(decay, nesterov).transformation()


# --- the learning rate and schedules -------------------------------------------------------------
class ScaleByLearningRateState(NamedTuple):
    """State of [`scale_by_learning_rate`][functrans.optim.scale_by_learning_rate]: the step count and the
    rate the next update
    uses (a schedule's value at ``count``).

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> optim.scale_by_learning_rate(0.1).init(np.zeros(1))
        ScaleByLearningRateState(count=np.int64(0), learning_rate=0.1)
    """

    count: Array
    learning_rate: Any


@dataclasses.dataclass(frozen=True)
class _ScaleByLearningRate(_Block):
    name: ClassVar[str] = "scale_by_learning_rate"
    state_type: ClassVar[type] = ScaleByLearningRateState

    learning_rate: ScalarOrSchedule
    flip_sign: bool = True
    label: str = _label()
    applied_before: bool = dataclasses.field(default=False, repr=False)  # by the previous block

    def init(self, params: Params) -> ScaleByLearningRateState:
        return ScaleByLearningRateState(_first_count(), _rate(self.learning_rate, 0))

    def _step(self, g: list, treedef: tree.TreeDef, state: ScaleByLearningRateState,
              params: Params | None) -> tuple[list, ScaleByLearningRateState]:
        lr = state.learning_rate
        if self.applied_before:
            out = g
        elif self.flip_sign:
            out = [-_coefficient(lr, gi) * gi for gi in g]
        else:
            out = [_coefficient(lr, gi) * gi for gi in g]
        count = state.count + 1
        return out, ScaleByLearningRateState(count, _rate(self.learning_rate, count))


def scale_by_learning_rate(learning_rate: ScalarOrSchedule,
                           flip_sign: bool = True) -> GradientTransformation:
    """Multiply the updates by ``-learning_rate`` (``+learning_rate`` with
    ``flip_sign=False``); a schedule is evaluated at the step count, and the rate the next
    update uses is in the state ([`get_learning_rate`][functrans.optim.get_learning_rate] finds it).

    Raises:
        ValueError: a negative rate.

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> opt = optim.scale_by_learning_rate(0.5)
        >>> opt.update(np.array([2.0]), opt.init(np.zeros(1)))[0]
        array([-1.])
    """
    _check_nonnegative("scale_by_learning_rate", learning_rate=learning_rate)
    return _ScaleByLearningRate(learning_rate, flip_sign).transformation()


class ScaleByScheduleState(NamedTuple):
    """State of [`scale_by_schedule`][functrans.optim.scale_by_schedule]: the step count.

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> optim.scale_by_schedule(lambda n: 1.0).init(np.zeros(1))
        ScaleByScheduleState(count=np.int64(0))
    """

    count: Array


@dataclasses.dataclass(frozen=True)
class _ScaleBySchedule(_Block):
    name: ClassVar[str] = "scale_by_schedule"
    state_type: ClassVar[type] = ScaleByScheduleState

    step_size_fn: Any
    label: str = _label()

    def init(self, params: Params) -> ScaleByScheduleState:
        return ScaleByScheduleState(_first_count())

    def _step(self, g: list, treedef: tree.TreeDef, state: ScaleByScheduleState,
              params: Params | None) -> tuple[list, ScaleByScheduleState]:
        step = _rate(self.step_size_fn, state.count)
        return [_coefficient(step, gi) * gi for gi in g], ScaleByScheduleState(state.count + 1)


def scale_by_schedule(step_size_fn: Any) -> GradientTransformation:
    """Multiply the updates by ``step_size_fn(count)`` (no sign flip: optax's meaning).

    Raises:
        TypeError: ``step_size_fn`` is not callable.

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> opt = optim.scale_by_schedule(lambda n: 1.0 / (1 + n))
        >>> u, s = opt.update(np.array([2.0]), opt.init(np.zeros(1)))
        >>> opt.update(np.array([2.0]), s)[0]
        array([1.])
    """
    if not callable(step_size_fn):
        raise TypeError(f"functrans.optim.scale_by_schedule: step_size_fn must be a function of "
                        f"the step count, got {type(step_size_fn).__name__}; for a constant use "
                        f"optim.scale(value)")
    return _ScaleBySchedule(step_size_fn).transformation()


# --- Adam and its relatives ----------------------------------------------------------------------
class ScaleByAdamState(NamedTuple):
    """State of [`scale_by_adam`][functrans.optim.scale_by_adam] (and
    [`scale_by_adamax`][functrans.optim.scale_by_adamax], [`scale_by_radam`][functrans.optim.scale_by_radam]):
    the step count, the first and second moment estimates.

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> optim.scale_by_adam().init(np.zeros(1))
        ScaleByAdamState(count=np.int64(0), mu=array([0.]), nu=array([0.]))
    """

    count: Array
    mu: PyTree
    nu: PyTree


class _Moments(_Block):
    """The moment estimates of Adam's family: ``init`` makes two zero buffers."""

    state_type: ClassVar[type] = ScaleByAdamState

    def init(self, params: Params) -> ScaleByAdamState:
        mu_dtype = getattr(self, "mu_dtype", None)
        mu = tree.map(lambda p: fnp.zeros_like(p, dtype=mu_dtype), params)
        return ScaleByAdamState(_first_count(), mu, _zeros_like_tree(params))


@dataclasses.dataclass(frozen=True)
class _ScaleByAdam(_Moments):
    name: ClassVar[str] = "scale_by_adam"

    b1: float
    b2: float
    eps: float
    eps_root: float = 0.0
    nesterov: bool = False
    mu_dtype: Any = None
    label: str = _label()

    def _step(self, g: list, treedef: tree.TreeDef, state: ScaleByAdamState,
              params: Params | None) -> tuple[list, ScaleByAdamState]:
        b1, b2, eps = self.b1, self.b2, self.eps
        t = state.count + 1
        c1, c2 = 1.0 - b1**t, 1.0 - b2**t
        m = [b1 * mi + (1.0 - b1) * gi
             for mi, gi in zip(_same_leaves(treedef, g, state.mu, self.fn, "mu"), g)]
        v = [b2 * vi + (1.0 - b2) * _abs_sq(gi)
             for vi, gi in zip(_same_leaves(treedef, g, state.nu, self.fn, "nu", False), g)]
        if self.nesterov:  # Dozat's m_hat: b1 m / (1 - b1^(t+1)) + (1 - b1) g / (1 - b1^t)
            c1_next = 1.0 - b1**(t + 1)
            m_hat = [b1 * mi / _coefficient(c1_next, mi) + (1.0 - b1) * gi / _coefficient(c1, gi)
                     for mi, gi in zip(m, g)]
        else:
            m_hat = [mi / _coefficient(c1, mi) for mi in m]
        v_hat = [vi / _coefficient(c2, vi) for vi in v]
        if _nonzero(self.eps_root):
            v_hat = [vi + self.eps_root for vi in v_hat]
        steps = [mi / (fnp.sqrt(vi) + eps) for mi, vi in zip(m_hat, v_hat)]
        if self.mu_dtype is not None:
            m = [fnp.astype(mi, self.mu_dtype) for mi in m]
        return steps, ScaleByAdamState(t, treedef.unflatten(m), treedef.unflatten(v))


def scale_by_adam(b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8, eps_root: float = 0.0,
                  nesterov: bool = False) -> GradientTransformation:
    """Adam's direction ``m_hat / (sqrt(v_hat + eps_root) + eps)``, with the bias-corrected
    moments ``m_hat = m / (1 - b1**t)``, ``v_hat = v / (1 - b2**t)`` of
    ``m = b1 * m + (1 - b1) * g`` and ``v = b2 * v + (1 - b2) * g**2``. With ``nesterov``,
    Dozat's ``m_hat = b1 * m / (1 - b1**(t+1)) + (1 - b1) * g / (1 - b1**t)`` (NAdam).

    Reference: Kingma and Ba, "Adam: A method for stochastic optimization", ICLR 2015.

    Raises:
        ValueError: a negative eps, or a decay outside ``[0, 1)``.

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> opt = optim.scale_by_adam()
        >>> np.round(opt.update(np.array([3.0, -0.5]), opt.init(np.zeros(2)))[0], 6)
        array([ 1., -1.])
    """
    _check_nonnegative("scale_by_adam", eps=eps, eps_root=eps_root)
    _check_unit_interval("scale_by_adam", b1=b1, b2=b2)
    return _ScaleByAdam(b1, b2, eps, eps_root, nesterov).transformation()


@dataclasses.dataclass(frozen=True)
class _ScaleByAdamax(_Moments):
    name: ClassVar[str] = "scale_by_adamax"

    b1: float
    b2: float
    eps: float
    label: str = _label()

    def _step(self, g: list, treedef: tree.TreeDef, state: ScaleByAdamState,
              params: Params | None) -> tuple[list, ScaleByAdamState]:
        b1, b2 = self.b1, self.b2
        t = state.count + 1
        c1 = 1.0 - b1**t
        m = [b1 * mi + (1.0 - b1) * gi
             for mi, gi in zip(_same_leaves(treedef, g, state.mu, self.fn, "mu"), g)]
        u = [fnp.maximum(fnp.abs(gi) + self.eps, b2 * ui)
             for ui, gi in zip(_same_leaves(treedef, g, state.nu, self.fn, "nu", False), g)]
        steps = [(mi / _coefficient(c1, mi)) / ui for mi, ui in zip(m, u)]
        return steps, ScaleByAdamState(t, treedef.unflatten(m), treedef.unflatten(u))


def scale_by_adamax(b1: float = 0.9, b2: float = 0.999,
                    eps: float = 1e-8) -> GradientTransformation:
    """AdaMax's direction ``(m / (1 - b1**t)) / u`` with ``m = b1 * m + (1 - b1) * g``
    and the infinity norm ``u = max(b2 * u, |g| + eps)`` (kept in the state's ``nu``; eps
    inside the maximum, as optax and PyTorch place it).

    Reference: Kingma and Ba, "Adam: A method for stochastic optimization", ICLR 2015, Section 7.1.

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> opt = optim.scale_by_adamax(eps=0.0)
        >>> np.round(opt.update(np.array([3.0, -0.5]), opt.init(np.zeros(2)))[0], 6)
        array([ 1., -1.])
    """
    _check_nonnegative("scale_by_adamax", eps=eps)
    _check_unit_interval("scale_by_adamax", b1=b1, b2=b2)
    return _ScaleByAdamax(b1, b2, eps).transformation()


@dataclasses.dataclass(frozen=True)
class _ScaleByRadam(_Moments):
    name: ClassVar[str] = "scale_by_radam"

    b1: float
    b2: float
    eps: float
    threshold: float
    label: str = _label()

    def _step(self, g: list, treedef: tree.TreeDef, state: ScaleByAdamState,
              params: Params | None) -> tuple[list, ScaleByAdamState]:
        b1, b2, eps = self.b1, self.b2, self.eps
        t = state.count + 1
        c1, c2 = 1.0 - b1**t, 1.0 - b2**t
        rho_inf = 2.0 / (1.0 - b2) - 1.0
        rho = rho_inf - 2.0 * t * b2**t / c2
        # The rectification, made 0 where the variance is not tractable (never NaN there).
        ratio = (fnp.maximum(rho - 4.0, 0.0) * (rho - 2.0) * rho_inf
                 / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho))
        r = fnp.sqrt(ratio)
        tractable = rho > self.threshold
        m = [b1 * mi + (1.0 - b1) * gi
             for mi, gi in zip(_same_leaves(treedef, g, state.mu, self.fn, "mu"), g)]
        v = [b2 * vi + (1.0 - b2) * _abs_sq(gi)
             for vi, gi in zip(_same_leaves(treedef, g, state.nu, self.fn, "nu", False), g)]
        steps = []
        for mi, vi in zip(m, v):
            m_hat = mi / _coefficient(c1, mi)
            adaptive = _coefficient(r, mi) * m_hat / (fnp.sqrt(vi / _coefficient(c2, vi)) + eps)
            steps.append(fnp.where(tractable, adaptive, m_hat))
        return steps, ScaleByAdamState(t, treedef.unflatten(m), treedef.unflatten(v))


def scale_by_radam(b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8,
                   threshold: float = 5.0) -> GradientTransformation:
    """Rectified Adam's direction: ``r_t * m_hat / (sqrt(v_hat) + eps)`` while the length of
    the approximated moving average ``rho_t = rho_inf - 2 t b2**t / (1 - b2**t)`` exceeds
    ``threshold`` (``rho_inf = 2 / (1 - b2) - 1``), else ``m_hat`` alone (momentum SGD), with
    ``r_t = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))``.
    The switch is an array ``where``, so a staged step has no Python branch on the count.

    Reference: Liu et al., "On the variance of the adaptive learning rate and beyond",
    ICLR 2020 (Algorithm 2; the paper's threshold is 4, PyTorch's and optax's 5).

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> opt = optim.scale_by_radam()
        >>> np.round(opt.update(np.array([3.0, -0.5]), opt.init(np.zeros(2)))[0], 6)
        array([ 3. , -0.5])
    """
    _check_nonnegative("scale_by_radam", eps=eps, threshold=threshold)
    _check_unit_interval("scale_by_radam", b1=b1, b2=b2)
    return _ScaleByRadam(b1, b2, eps, threshold).transformation()


class ScaleByBeliefState(NamedTuple):
    """State of [`scale_by_belief`][functrans.optim.scale_by_belief]: the step count, the gradients' mean and the
    "belief" ``s``, the variance of the gradient around its mean.

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> optim.scale_by_belief().init(np.zeros(1))
        ScaleByBeliefState(count=np.int64(0), mu=array([0.]), nu=array([0.]))
    """

    count: Array
    mu: PyTree
    nu: PyTree


@dataclasses.dataclass(frozen=True)
class _ScaleByBelief(_Block):
    name: ClassVar[str] = "scale_by_belief"
    state_type: ClassVar[type] = ScaleByBeliefState

    b1: float
    b2: float
    eps: float
    eps_root: float
    label: str = _label()

    def init(self, params: Params) -> ScaleByBeliefState:
        return ScaleByBeliefState(_first_count(), _zeros_like_tree(params),
                                  _zeros_like_tree(params))

    def _step(self, g: list, treedef: tree.TreeDef, state: ScaleByBeliefState,
              params: Params | None) -> tuple[list, ScaleByBeliefState]:
        b1, b2 = self.b1, self.b2
        t = state.count + 1
        c1, c2 = 1.0 - b1**t, 1.0 - b2**t
        m = [b1 * mi + (1.0 - b1) * gi
             for mi, gi in zip(_same_leaves(treedef, g, state.mu, self.fn, "mu"), g)]
        s = [b2 * si + (1.0 - b2) * _abs_sq(gi - mi) + self.eps_root
             for si, gi, mi in zip(_same_leaves(treedef, g, state.nu, self.fn, "nu", False), g, m)]
        steps = [(mi / _coefficient(c1, mi)) / (fnp.sqrt(si / _coefficient(c2, si)) + self.eps)
                 for mi, si in zip(m, s)]
        return steps, ScaleByBeliefState(t, treedef.unflatten(m), treedef.unflatten(s))


def scale_by_belief(b1: float = 0.9, b2: float = 0.999, eps: float = 1e-16,
                    eps_root: float = 1e-16) -> GradientTransformation:
    """AdaBelief's direction ``m_hat / (sqrt(s_hat) + eps)``, where
    ``s = b2 * s + (1 - b2) * (g - m)**2 + eps_root`` estimates how far the gradient is from
    its mean ``m = b1 * m + (1 - b1) * g`` (hats: divided by ``1 - b**t``).

    Reference: Zhuang et al., "AdaBelief optimizer: adapting stepsizes by the belief in
    observed gradients", NeurIPS 2020 (Algorithm 2; its epsilon is both eps and eps_root).

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> opt = optim.scale_by_belief()
        >>> np.round(opt.update(np.array([3.0]), opt.init(np.zeros(1)))[0], 6)  # 3 / (3 - 0.3)
        array([1.111111])
    """
    _check_nonnegative("scale_by_belief", eps=eps, eps_root=eps_root)
    _check_unit_interval("scale_by_belief", b1=b1, b2=b2)
    return _ScaleByBelief(b1, b2, eps, eps_root).transformation()


# --- RMSprop's and Adagrad's statistics ----------------------------------------------------------
class ScaleByRmsState(NamedTuple):
    """State of [`scale_by_rms`][functrans.optim.scale_by_rms]: the running average of the squared gradient.

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> optim.scale_by_rms().init(np.zeros(1))
        ScaleByRmsState(nu=array([0.]))
    """

    nu: PyTree


@dataclasses.dataclass(frozen=True)
class _ScaleByRms(_Block):
    name: ClassVar[str] = "scale_by_rms"
    state_type: ClassVar[type] = ScaleByRmsState

    decay: float
    eps: float
    initial_scale: float = 0.0
    label: str = _label()

    def init(self, params: Params) -> ScaleByRmsState:
        return ScaleByRmsState(tree.map(lambda p: fnp.full_like(p, self.initial_scale), params))

    def _step(self, g: list, treedef: tree.TreeDef, state: ScaleByRmsState,
              params: Params | None) -> tuple[list, ScaleByRmsState]:
        a = self.decay
        v = [a * vi + (1.0 - a) * _abs_sq(gi)
             for vi, gi in zip(_same_leaves(treedef, g, state.nu, self.fn, "nu"), g)]
        steps = [gi / (fnp.sqrt(vi) + self.eps) for gi, vi in zip(g, v)]
        return steps, ScaleByRmsState(treedef.unflatten(v))


def scale_by_rms(decay: float = 0.99, eps: float = 1e-8,
                 initial_scale: float = 0.0) -> GradientTransformation:
    """RMSprop's direction ``g / (sqrt(v) + eps)`` with ``v = decay * v + (1 - decay) * g**2``
    (PyTorch's placement of eps, outside the root; ``v`` starts at ``initial_scale``).

    Reference: Tieleman and Hinton, Lecture 6.5 of "Neural networks for machine learning", 2012.

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> opt = optim.scale_by_rms(decay=0.75, eps=0.0)
        >>> opt.update(np.array([2.0]), opt.init(np.zeros(1)))[0]
        array([2.])
    """
    _check_nonnegative("scale_by_rms", eps=eps, initial_scale=initial_scale)
    _check_unit_interval("scale_by_rms", decay=decay)
    return _ScaleByRms(decay, eps, initial_scale).transformation()


class ScaleByStddevState(NamedTuple):
    """State of [`scale_by_stddev`][functrans.optim.scale_by_stddev]: running averages of the gradient and its square.

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> optim.scale_by_stddev().init(np.zeros(1))
        ScaleByStddevState(mu=array([0.]), nu=array([0.]))
    """

    mu: PyTree
    nu: PyTree


@dataclasses.dataclass(frozen=True)
class _ScaleByStddev(_Block):
    name: ClassVar[str] = "scale_by_stddev"
    state_type: ClassVar[type] = ScaleByStddevState

    decay: float
    eps: float
    initial_scale: float = 0.0
    label: str = _label()

    def init(self, params: Params) -> ScaleByStddevState:
        return ScaleByStddevState(_zeros_like_tree(params),
                                  tree.map(lambda p: fnp.full_like(p, self.initial_scale), params))

    def _step(self, g: list, treedef: tree.TreeDef, state: ScaleByStddevState,
              params: Params | None) -> tuple[list, ScaleByStddevState]:
        a = self.decay
        v = [a * vi + (1.0 - a) * _abs_sq(gi)
             for vi, gi in zip(_same_leaves(treedef, g, state.nu, self.fn, "nu"), g)]
        m = [a * mi + (1.0 - a) * gi
             for mi, gi in zip(_same_leaves(treedef, g, state.mu, self.fn, "mu", False), g)]
        steps = [gi / (fnp.sqrt(vi - _abs_sq(mi)) + self.eps) for gi, vi, mi in zip(g, v, m)]
        return steps, ScaleByStddevState(treedef.unflatten(m), treedef.unflatten(v))


def scale_by_stddev(decay: float = 0.99, eps: float = 1e-8,
                    initial_scale: float = 0.0) -> GradientTransformation:
    """Centred RMSprop's direction ``g / (sqrt(v - m**2) + eps)``, dividing by the estimated
    standard deviation (``m``, ``v``: running averages of ``g`` and ``g**2``).

    Reference: Graves, "Generating sequences with recurrent neural networks", 2013, Eq. 38-45.

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> opt = optim.scale_by_stddev(decay=0.5, eps=0.0)
        >>> opt.update(np.array([2.0]), opt.init(np.zeros(1)))[0]
        array([2.])
    """
    _check_nonnegative("scale_by_stddev", eps=eps, initial_scale=initial_scale)
    _check_unit_interval("scale_by_stddev", decay=decay)
    return _ScaleByStddev(decay, eps, initial_scale).transformation()


class ScaleByRssState(NamedTuple):
    """State of [`scale_by_rss`][functrans.optim.scale_by_rss]: the sum of the squared gradients so far.

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> optim.scale_by_rss().init(np.zeros(1))
        ScaleByRssState(sum_of_squares=array([0.]))
    """

    sum_of_squares: PyTree


@dataclasses.dataclass(frozen=True)
class _ScaleByRss(_Block):
    name: ClassVar[str] = "scale_by_rss"
    state_type: ClassVar[type] = ScaleByRssState

    initial_accumulator_value: float
    eps: float
    label: str = _label()

    def init(self, params: Params) -> ScaleByRssState:
        value = self.initial_accumulator_value
        return ScaleByRssState(tree.map(lambda p: fnp.full_like(p, value), params))

    def _step(self, g: list, treedef: tree.TreeDef, state: ScaleByRssState,
              params: Params | None) -> tuple[list, ScaleByRssState]:
        old = _same_leaves(treedef, g, state.sum_of_squares, self.fn, "sum_of_squares")
        acc = [si + _abs_sq(gi) for si, gi in zip(old, g)]
        steps = [gi / (fnp.sqrt(si) + self.eps) for gi, si in zip(g, acc)]
        return steps, ScaleByRssState(treedef.unflatten(acc))


class _RssWithRate(NamedTuple):
    sum_of_squares: PyTree
    learning_rate: Any


@dataclasses.dataclass(frozen=True)
class _ScaleByRssRateFirst(_Block):
    """Adagrad's step ``(-lr * g) / (sqrt(s) + eps)`` in PyTorch's operation order: the rate
    multiplies the gradient before the division (a following rate block only counts)."""

    name: ClassVar[str] = "scale_by_rss"
    state_type: ClassVar[type] = _RssWithRate

    initial_accumulator_value: float
    eps: float
    label: str = _label()

    def init(self, params: Params) -> _RssWithRate:  # the rate block fills in the rate
        value = self.initial_accumulator_value
        return _RssWithRate(tree.map(lambda p: fnp.full_like(p, value), params), None)

    def _step(self, g: list, treedef: tree.TreeDef, state: _RssWithRate,
              params: Params | None) -> tuple[list, _RssWithRate]:
        old = _same_leaves(treedef, g, state.sum_of_squares, self.fn, "sum_of_squares")
        acc = [si + _abs_sq(gi) for si, gi in zip(old, g)]
        lr = state.learning_rate
        steps = [-_coefficient(lr, gi) * gi / (fnp.sqrt(si) + self.eps) for gi, si in zip(g, acc)]
        return steps, _RssWithRate(treedef.unflatten(acc), lr)


def scale_by_rss(initial_accumulator_value: float = 0.0,
                 eps: float = 1e-10) -> GradientTransformation:
    """Adagrad's direction ``g / (sqrt(s) + eps)`` with ``s = s + g**2`` (the root of the sum
    of squares; ``s`` starts at ``initial_accumulator_value``).

    Reference: Duchi, Hazan and Singer, "Adaptive subgradient methods for online learning and
    stochastic optimization", JMLR 2011.

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> opt = optim.scale_by_rss(eps=0.0)
        >>> opt.update(np.array([4.0]), opt.init(np.zeros(1)))[0]
        array([1.])
    """
    _check_nonnegative("scale_by_rss", eps=eps,
                       initial_accumulator_value=initial_accumulator_value)
    return _ScaleByRss(initial_accumulator_value, eps).transformation()


# --- Lion's sign step ----------------------------------------------------------------------------
class ScaleByLionState(NamedTuple):
    """State of [`scale_by_lion`][functrans.optim.scale_by_lion]: the momentum.

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> optim.scale_by_lion().init(np.zeros(1))
        ScaleByLionState(mu=array([0.]))
    """

    mu: PyTree


@dataclasses.dataclass(frozen=True)
class _ScaleByLion(_Block):
    name: ClassVar[str] = "scale_by_lion"
    state_type: ClassVar[type] = ScaleByLionState

    b1: float
    b2: float
    label: str = _label()

    def init(self, params: Params) -> ScaleByLionState:
        return ScaleByLionState(_zeros_like_tree(params))

    def _step(self, g: list, treedef: tree.TreeDef, state: ScaleByLionState,
              params: Params | None) -> tuple[list, ScaleByLionState]:
        b1, b2 = self.b1, self.b2
        m = _same_leaves(treedef, g, state.mu, self.fn, "mu")
        steps = [fnp.sign(b1 * mi + (1.0 - b1) * gi) for mi, gi in zip(m, g)]
        new_m = [b2 * mi + (1.0 - b2) * gi for mi, gi in zip(m, g)]
        return steps, ScaleByLionState(treedef.unflatten(new_m))


def scale_by_lion(b1: float = 0.9, b2: float = 0.99) -> GradientTransformation:
    """Lion's direction ``sign(b1 * m + (1 - b1) * g)``, then ``m = b2 * m + (1 - b2) * g``.

    Reference: Chen et al., "Symbolic discovery of optimization algorithms", NeurIPS 2023.

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> opt = optim.scale_by_lion()
        >>> opt.update(np.array([3.0, -1e-6]), opt.init(np.zeros(2)))[0]
        array([ 1., -1.])
    """
    _check_unit_interval("scale_by_lion", b1=b1, b2=b2)
    return _ScaleByLion(b1, b2).transformation()


# --- LAMB's layer-wise trust ratio ---------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class _ScaleByTrustRatio(_Block):
    name: ClassVar[str] = "scale_by_trust_ratio"
    state_type: ClassVar[type] = EmptyState

    min_norm: float
    trust_coefficient: float
    eps: float
    label: str = _label()

    def init(self, params: Params) -> EmptyState:
        return EmptyState()

    def _step(self, g: list, treedef: tree.TreeDef, state: EmptyState,
              params: Params | None) -> tuple[list, EmptyState]:
        _need_params(params, self.fn, "the trust ratio")
        p = _same_leaves(treedef, g, params, self.fn, "params")
        out = []
        for ui, pi in zip(g, p):
            p_norm = fnp.maximum(_norm([pi]), self.min_norm)
            u_norm = fnp.maximum(_norm([ui]), self.min_norm)
            ratio = self.trust_coefficient * p_norm / (u_norm + self.eps)
            # A zero norm (a fresh zero bias, a zero update) leaves the update as it is.
            ratio = fnp.where((p_norm == 0.0) | (u_norm == 0.0), 1.0, ratio)
            out.append(ui * fnp.astype(ratio, ui.dtype))
        return out, state


def scale_by_trust_ratio(min_norm: float = 0.0, trust_coefficient: float = 1.0,
                         eps: float = 0.0) -> GradientTransformation:
    """Scale each leaf's update ``u`` by the trust ratio ``||p|| / ||u||`` of its parameter
    ``p`` (per leaf, that is per layer: LAMB's layer-wise adaptation); a zero norm leaves the
    update unchanged. Needs ``params`` in ``update``.

    Reference: You et al., "Large batch optimization for deep learning: training BERT in 76
    minutes", ICLR 2020.

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> opt = optim.scale_by_trust_ratio()
        >>> p = np.array([3.0, 4.0])
        >>> opt.update(np.array([0.0, 0.5]), opt.init(p), p)[0]
        array([0., 5.])
    """
    _check_nonnegative("scale_by_trust_ratio", min_norm=min_norm,
                       trust_coefficient=trust_coefficient, eps=eps)
    return _ScaleByTrustRatio(min_norm, trust_coefficient, eps).transformation()
