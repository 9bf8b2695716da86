"""Per-coordinate step sizes beyond Adam's, as optax has them: AMSGrad, Yogi, Adadelta,
NovoGrad and SM3, each a building block (``scale_by_*``) and an optimizer chaining it with the
learning rate.

The optimizers' states are the tuples of their chains; the step count and the current
learning rate are in the rate block's state (found by [`get_count`][functrans.optim.get_count]
and [`get_learning_rate`][functrans.optim.get_learning_rate]). Defaults and numbers are
optax's; ``g`` is the gradient and ``t`` the step number counted from 1 in the formulas.

Example:
    >>> import numpy as np
    >>> from functrans import optim
    >>> opt = optim.amsgrad(0.1)
    >>> np.round(opt.update(np.array([3.0, -0.5]), opt.init(np.zeros(2)))[0], 6)
    array([-0.1,  0.1])
"""
from __future__ import annotations

import dataclasses
from typing import ClassVar, NamedTuple

import functrans.numpy as fnp
from functrans import tree
from functrans._abstract import shape_of
from functrans.optim._norm import abs_sq as _abs_sq
from functrans.optim.base import (
    GradientTransformation,
    Mask,
    ScalarOrSchedule,
    _Block,
    _check_nonnegative,
    _check_unit_interval,
    _debias,
    _first_count,
    _l2,
    _label,
    _moment,
    _same_leaves,
    _zeros_like_tree,
)
from functrans.optim.combine import chain
from functrans.optim.scale import scale_by_learning_rate
from functrans.optim.transform import add_decayed_weights, scale
from functrans.typing import Array, DType, Params, PyTree

__all__ = ["ScaleByAdaDeltaState", "ScaleByAmsgradState", "ScaleByNovogradState",
           "ScaleBySM3State", "ScaleByYogiState", "adadelta", "amsgrad", "novograd", "sm3",
           "scale_by_adadelta", "scale_by_amsgrad", "scale_by_novograd", "scale_by_sm3",
           "scale_by_yogi", "yogi"]


def _cast(leaves: list, dtype: DType | None) -> list:
    return leaves if dtype is None else [fnp.astype(x, dtype) for x in leaves]


# --- AMSGrad -------------------------------------------------------------------------------------
class ScaleByAmsgradState(NamedTuple):
    """State of [`scale_by_amsgrad`][functrans.optim.scale_by_amsgrad].

    Attributes:
        count: Updates done so far.
        mu: First-moment estimates, the params' structure.
        nu: Second-moment estimates, the params' structure.
        nu_max: The largest (bias-corrected) second moment seen so far.

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> optim.scale_by_amsgrad().init(np.zeros(1))
        ScaleByAmsgradState(count=np.int64(0), mu=array([0.]), nu=array([0.]), nu_max=array([0.]))
    """

    count: Array
    mu: PyTree
    nu: PyTree
    nu_max: PyTree


@dataclasses.dataclass(frozen=True)
class _ScaleByAmsgrad(_Block):
    name: ClassVar[str] = "scale_by_amsgrad"
    state_type: ClassVar[type] = ScaleByAmsgradState

    b1: float
    b2: float
    eps: float
    eps_root: float
    mu_dtype: DType | None
    bias_correction_mu: bool
    bias_correction_nu: bool
    label: str = _label()

    def init(self, params: Params) -> ScaleByAmsgradState:
        mu = tree.map(lambda p: fnp.zeros_like(p, dtype=self.mu_dtype), params)
        return ScaleByAmsgradState(_first_count(), mu, _zeros_like_tree(params),
                                   _zeros_like_tree(params))

    def _step(self, g: list, treedef: tree.TreeDef, state: ScaleByAmsgradState,
              params: Params | None) -> tuple[list, ScaleByAmsgradState]:
        t = state.count + 1
        m = _moment(self.b1, _same_leaves(treedef, g, state.mu, self.fn, "mu"), g)
        v = _moment(self.b2, _same_leaves(treedef, g, state.nu, self.fn, "nu", False),
                    [_abs_sq(gi) for gi in g])
        m_hat = _debias(m, self.b1, t) if self.bias_correction_mu else m
        v_eff = _debias(v, self.b2, t) if self.bias_correction_nu else v
        old_max = _same_leaves(treedef, g, state.nu_max, self.fn, "nu_max", False)
        v_max = [fnp.maximum(a, b) for a, b in zip(old_max, v_eff)]
        steps = [mi / (fnp.sqrt(vi + self.eps_root) + self.eps) for mi, vi in zip(m_hat, v_max)]
        return steps, ScaleByAmsgradState(t, treedef.unflatten(_cast(m, self.mu_dtype)),
                                          treedef.unflatten(v), treedef.unflatten(v_max))


def scale_by_amsgrad(b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8,
                     eps_root: float = 0.0, mu_dtype: DType | None = None,
                     bias_correction_mu: bool = True,
                     bias_correction_nu: bool = True) -> GradientTransformation:
    """AMSGrad's direction: Adam's, divided by the largest second moment seen so far::

        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g**2
        v_max = max(v_max, v / (1 - b2**t))
        u = (m / (1 - b1**t)) / (sqrt(v_max + eps_root) + eps)

    Reference: Reddi, Kale and Kumar, "On the convergence of Adam and beyond", ICLR 2018.

    Args:
        b1: Decay of the first-moment estimate, in ``[0, 1)``.
        b2: Decay of the second-moment estimate, in ``[0, 1)``.
        eps: Added to the denominator.
        eps_root: Added inside the root.
        mu_dtype: The dtype ``m`` is kept in (``None``: the params').
        bias_correction_mu: Divide ``m`` by ``1 - b1**t``.
        bias_correction_nu: Divide ``v`` by ``1 - b2**t`` before the maximum.

    Raises:
        ValueError: a negative eps, or a decay outside ``[0, 1)``.

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> opt = optim.scale_by_amsgrad()
        >>> np.round(opt.update(np.array([3.0, -0.5]), opt.init(np.zeros(2)))[0], 6)
        array([ 1., -1.])
    """
    _check_nonnegative("scale_by_amsgrad", eps=eps, eps_root=eps_root)
    _check_unit_interval("scale_by_amsgrad", b1=b1, b2=b2)
    return _ScaleByAmsgrad(b1, b2, eps, eps_root, mu_dtype, bias_correction_mu,
                           bias_correction_nu).transformation()


def amsgrad(learning_rate: ScalarOrSchedule, b1: float = 0.9, b2: float = 0.999,
            eps: float = 1e-8, eps_root: float = 0.0, mu_dtype: DType | None = None,
            bias_correction_mu: bool = True,
            bias_correction_nu: bool = True) -> GradientTransformation:
    """AMSGrad, Adam with a non-increasing step size: ``chain(scale_by_amsgrad(...),
    scale_by_learning_rate(learning_rate))`` (optax's ``amsgrad``)::

        p = p - lr * (m / (1 - b1**t)) / (sqrt(v_max + eps_root) + eps)

    with ``v_max`` the running maximum of ``v / (1 - b2**t)``
    (see [`scale_by_amsgrad`][functrans.optim.scale_by_amsgrad]).

    Reference: Reddi, Kale and Kumar, "On the convergence of Adam and beyond", ICLR 2018.

    Args:
        learning_rate: A number or a schedule of the step count.
        b1: Decay of the first-moment estimate, in ``[0, 1)``.
        b2: Decay of the second-moment estimate, in ``[0, 1)``.
        eps: Added to the denominator.
        eps_root: Added inside the root.
        mu_dtype: The dtype the first moment is kept in (``None``: the params').
        bias_correction_mu: Divide the first moment by ``1 - b1**t``.
        bias_correction_nu: Divide the second moment by ``1 - b2**t``.

    Returns:
        A [`GradientTransformation`][functrans.optim.GradientTransformation] whose state is
        ``(ScaleByAmsgradState, ScaleByLearningRateState)``.

    Raises:
        ValueError: a negative rate or eps, or a decay outside ``[0, 1)``.

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> opt = optim.amsgrad(0.1)
        >>> np.round(opt.update(np.array([3.0, -0.5]), opt.init(np.zeros(2)))[0], 6)
        array([-0.1,  0.1])
    """
    _check_nonnegative("amsgrad", learning_rate=learning_rate)
    return chain(scale_by_amsgrad(b1, b2, eps, eps_root, mu_dtype, bias_correction_mu,
                                  bias_correction_nu),
                 scale_by_learning_rate(learning_rate))


# --- Yogi ----------------------------------------------------------------------------------------
class ScaleByYogiState(NamedTuple):
    """State of [`scale_by_yogi`][functrans.optim.scale_by_yogi]: the step count and the
    moment estimates (both starting at ``initial_accumulator_value``).

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> optim.scale_by_yogi(initial_accumulator_value=0.5).init(np.zeros(1))
        ScaleByYogiState(count=np.int64(0), mu=array([0.5]), nu=array([0.5]))
    """

    count: Array
    mu: PyTree
    nu: PyTree


@dataclasses.dataclass(frozen=True)
class _ScaleByYogi(_Block):
    name: ClassVar[str] = "scale_by_yogi"
    state_type: ClassVar[type] = ScaleByYogiState

    b1: float
    b2: float
    eps: float
    eps_root: float
    initial_accumulator_value: float
    label: str = _label()

    def init(self, params: Params) -> ScaleByYogiState:
        value = self.initial_accumulator_value
        return ScaleByYogiState(_first_count(), tree.map(lambda p: fnp.full_like(p, value), params),
                                tree.map(lambda p: fnp.full_like(p, value), params))

    def _step(self, g: list, treedef: tree.TreeDef, state: ScaleByYogiState,
              params: Params | None) -> tuple[list, ScaleByYogiState]:
        t = state.count + 1
        m = _moment(self.b1, _same_leaves(treedef, g, state.mu, self.fn, "mu"), g)
        v = []
        for vi, gi in zip(_same_leaves(treedef, g, state.nu, self.fn, "nu", False), g):
            g2 = _abs_sq(gi)
            v.append(vi - (1.0 - self.b2) * fnp.sign(vi - g2) * g2)
        steps = [mi / (fnp.sqrt(vi + self.eps_root) + self.eps)
                 for mi, vi in zip(_debias(m, self.b1, t), _debias(v, self.b2, t))]
        return steps, ScaleByYogiState(t, treedef.unflatten(m), treedef.unflatten(v))


def scale_by_yogi(b1: float = 0.9, b2: float = 0.999, eps: float = 1e-3, eps_root: float = 0.0,
                  initial_accumulator_value: float = 1e-6) -> GradientTransformation:
    """Yogi's direction: Adam's, with an additive update of the second moment that cannot
    grow it faster than the gradients do::

        m = b1 * m + (1 - b1) * g
        v = v - (1 - b2) * sign(v - g**2) * g**2
        u = (m / (1 - b1**t)) / (sqrt(v / (1 - b2**t) + eps_root) + eps)

    Reference: Zaheer et al., "Adaptive methods for nonconvex optimization", NeurIPS 2018.

    Args:
        b1: Decay of the first-moment estimate, in ``[0, 1)``.
        b2: Rate of the second-moment update, in ``[0, 1)``.
        eps: Added to the denominator.
        eps_root: Added inside the root.
        initial_accumulator_value: Where both moments start.

    Raises:
        ValueError: a negative eps or initial value, or a decay outside ``[0, 1)``.

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> opt = optim.scale_by_yogi(initial_accumulator_value=0.0, eps=0.0)
        >>> np.round(opt.update(np.array([3.0, -0.5]), opt.init(np.zeros(2)))[0], 6)
        array([ 1., -1.])
    """
    _check_nonnegative("scale_by_yogi", eps=eps, eps_root=eps_root,
                       initial_accumulator_value=initial_accumulator_value)
    _check_unit_interval("scale_by_yogi", b1=b1, b2=b2)
    return _ScaleByYogi(b1, b2, eps, eps_root, initial_accumulator_value).transformation()


def yogi(learning_rate: ScalarOrSchedule, b1: float = 0.9, b2: float = 0.999,
         eps: float = 1e-3) -> GradientTransformation:
    """Yogi: ``chain(scale_by_yogi(b1, b2, eps), scale_by_learning_rate(learning_rate))``
    (optax's ``yogi``; the moments start at 1e-6)::

        p = p - lr * (m / (1 - b1**t)) / (sqrt(v / (1 - b2**t)) + eps)

    with ``v = v - (1 - b2) * sign(v - g**2) * g**2``
    (see [`scale_by_yogi`][functrans.optim.scale_by_yogi]).

    Reference: Zaheer et al., "Adaptive methods for nonconvex optimization", NeurIPS 2018.

    Args:
        learning_rate: A number or a schedule of the step count.
        b1: Decay of the first-moment estimate, in ``[0, 1)``.
        b2: Rate of the second-moment update, in ``[0, 1)``.
        eps: Added to the denominator (larger than Adam's, as in the paper).

    Returns:
        A [`GradientTransformation`][functrans.optim.GradientTransformation] whose state is
        ``(ScaleByYogiState, ScaleByLearningRateState)``.

    Raises:
        ValueError: a negative rate or eps, or a decay outside ``[0, 1)``.

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> opt = optim.yogi(0.1)
        >>> np.round(opt.update(np.array([3.0, -0.5]), opt.init(np.zeros(2)))[0], 4)
        array([-0.1   ,  0.0996])
    """
    _check_nonnegative("yogi", learning_rate=learning_rate)
    return chain(scale_by_yogi(b1, b2, eps), scale_by_learning_rate(learning_rate))


# --- Adadelta ------------------------------------------------------------------------------------
class ScaleByAdaDeltaState(NamedTuple):
    """State of [`scale_by_adadelta`][functrans.optim.scale_by_adadelta]: running averages of
    the squared gradients ``e_g`` and of the squared updates ``e_x``.

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> optim.scale_by_adadelta().init(np.zeros(1))
        ScaleByAdaDeltaState(e_g=array([0.]), e_x=array([0.]))
    """

    e_g: PyTree
    e_x: PyTree


@dataclasses.dataclass(frozen=True)
class _ScaleByAdadelta(_Block):
    name: ClassVar[str] = "scale_by_adadelta"
    state_type: ClassVar[type] = ScaleByAdaDeltaState

    rho: float
    eps: float
    label: str = _label()

    def init(self, params: Params) -> ScaleByAdaDeltaState:
        return ScaleByAdaDeltaState(_zeros_like_tree(params), _zeros_like_tree(params))

    def _step(self, g: list, treedef: tree.TreeDef, state: ScaleByAdaDeltaState,
              params: Params | None) -> tuple[list, ScaleByAdaDeltaState]:
        eps = self.eps
        e_g = _moment(self.rho, _same_leaves(treedef, g, state.e_g, self.fn, "e_g"),
                      [_abs_sq(gi) for gi in g])
        e_x_old = _same_leaves(treedef, g, state.e_x, self.fn, "e_x", False)
        steps = [fnp.sqrt(xi + eps) / fnp.sqrt(ei + eps) * gi
                 for gi, ei, xi in zip(g, e_g, e_x_old)]
        e_x = _moment(self.rho, e_x_old, [_abs_sq(u) for u in steps])
        return steps, ScaleByAdaDeltaState(treedef.unflatten(e_g), treedef.unflatten(e_x))


def scale_by_adadelta(rho: float = 0.9, eps: float = 1e-6) -> GradientTransformation:
    """Adadelta's direction, a gradient step in the units of the parameters::

        e_g = rho * e_g + (1 - rho) * g**2
        u = sqrt(e_x + eps) / sqrt(e_g + eps) * g
        e_x = rho * e_x + (1 - rho) * u**2

    Reference: Zeiler, "ADADELTA: an adaptive learning rate method", 2012.

    Args:
        rho: Decay of both running averages, in ``[0, 1)``.
        eps: Added inside both roots.

    Raises:
        ValueError: a negative eps, or ``rho`` outside ``[0, 1)``.

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> opt = optim.scale_by_adadelta(rho=0.5, eps=1e-4)
        >>> g = np.array([0.01])     # sqrt(eps) / sqrt((1 - rho) g**2 + eps) * g
        >>> np.round(opt.update(g, opt.init(np.zeros(1)))[0], 6)
        array([0.008165])
    """
    _check_nonnegative("scale_by_adadelta", eps=eps)
    _check_unit_interval("scale_by_adadelta", rho=rho)
    return _ScaleByAdadelta(rho, eps).transformation()


def adadelta(learning_rate: ScalarOrSchedule | None = None, rho: float = 0.9, eps: float = 1e-6,
             weight_decay: float = 0.0,
             weight_decay_mask: Mask | None = None) -> GradientTransformation:
    """Adadelta: ``chain(add_decayed_weights(weight_decay, weight_decay_mask),
    scale_by_adadelta(rho, eps), scale_by_learning_rate(learning_rate))``::

        g = g + wd * p
        p = p - lr * sqrt(e_x + eps) / sqrt(e_g + eps) * g

    (see [`scale_by_adadelta`][functrans.optim.scale_by_adadelta]). ``learning_rate=None``
    is the paper's rate 1 (PyTorch's default): optax 0.2.8 skips the rate block then and so
    moves *up* the gradient; here it is always a descent.

    Reference: Zeiler, "ADADELTA: an adaptive learning rate method", 2012.

    Args:
        learning_rate: A number or a schedule of the step count; ``None`` is 1.
        rho: Decay of the running averages, in ``[0, 1)``.
        eps: Added inside the roots.
        weight_decay: L2 penalty ``wd`` added to the gradient (needs ``params`` in
            ``update``).
        weight_decay_mask: Decay only the leaves where it is True: a pytree of bools with
            the params' structure (or a prefix of it), or a function of the params giving one.

    Returns:
        A [`GradientTransformation`][functrans.optim.GradientTransformation] whose state is
        ``(EmptyState, ScaleByAdaDeltaState, ScaleByLearningRateState)``.

    Raises:
        ValueError: a negative rate, eps or decay, or ``rho`` outside ``[0, 1)``.

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> opt = optim.adadelta(0.5, rho=0.5, eps=1e-4)
        >>> p = np.zeros(1)
        >>> np.round(opt.update(np.array([0.01]), opt.init(p), p)[0], 6)
        array([-0.004082])
    """
    learning_rate = 1.0 if learning_rate is None else learning_rate
    _check_nonnegative("adadelta", learning_rate=learning_rate, weight_decay=weight_decay)
    return chain(add_decayed_weights(weight_decay, weight_decay_mask),
                 scale_by_adadelta(rho, eps), scale_by_learning_rate(learning_rate))


# --- NovoGrad ------------------------------------------------------------------------------------
class ScaleByNovogradState(NamedTuple):
    """State of [`scale_by_novograd`][functrans.optim.scale_by_novograd].

    Attributes:
        count: Updates done so far.
        mu: The momentum, the params' structure.
        nu: Per leaf (per layer), the running average of the squared norm of its gradient:
            a 0-d array of the leaf's dtype.

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> optim.scale_by_novograd().init({"w": np.zeros(2)}).nu
        {'w': array(0.)}
    """

    count: Array
    mu: PyTree
    nu: PyTree


@dataclasses.dataclass(frozen=True)
class _ScaleByNovograd(_Block):
    name: ClassVar[str] = "scale_by_novograd"
    state_type: ClassVar[type] = ScaleByNovogradState

    b1: float
    b2: float
    eps: float
    eps_root: float
    weight_decay: float
    mu_dtype: DType | None
    label: str = _label()

    def init(self, params: Params) -> ScaleByNovogradState:
        mu = tree.map(lambda p: fnp.zeros_like(p, dtype=self.mu_dtype), params)
        nu = tree.map(lambda p: fnp.zeros_like(p, shape=()), params)
        return ScaleByNovogradState(_first_count(), mu, nu)

    def _step(self, g: list, treedef: tree.TreeDef, state: ScaleByNovogradState,
              params: Params | None) -> tuple[list, ScaleByNovogradState]:
        t = state.count + 1
        norms = [fnp.sum(_abs_sq(gi)) for gi in g]
        old_nu = tree.leaves(state.nu)
        if len(old_nu) != len(g):
            _same_leaves(treedef, g, state.nu, self.fn, "nu", False)  # raises, naming the path
        # The first step takes the squared norm itself, the later ones a running average.
        first = t == 1
        nu = [fnp.where(first, n, self.b2 * o + (1.0 - self.b2) * n)
              for o, n in zip(old_nu, norms)]
        steps = [gi / (fnp.sqrt(ni + self.eps_root) + self.eps) for gi, ni in zip(g, nu)]
        steps = _l2(self.fn, steps, treedef, params, self.weight_decay)
        # The momentum starts at 0, so b1 * m + u is u itself at the first step.
        m = [self.b1 * mi + si
             for mi, si in zip(_same_leaves(treedef, g, state.mu, self.fn, "mu"), steps)]
        m = _cast(m, self.mu_dtype)
        return m, ScaleByNovogradState(t, treedef.unflatten(m), treedef.unflatten(nu))


def scale_by_novograd(b1: float = 0.9, b2: float = 0.25, eps: float = 1e-8,
                      eps_root: float = 0.0, weight_decay: float = 0.0,
                      mu_dtype: DType | None = None) -> GradientTransformation:
    """NovoGrad's direction: the gradient normalised by a running average of its squared
    norm per leaf (per layer), with decay and momentum::

        n = ||g||**2 at t = 1, else b2 * n + (1 - b2) * ||g||**2       (one number per leaf)
        m = b1 * m + g / (sqrt(n + eps_root) + eps) + wd * p
        u = m

    Reference: Ginsburg et al., "Stochastic gradient methods with layer-wise adaptive
    moments for training of deep networks", 2019.

    Args:
        b1: Decay of the momentum, in ``[0, 1)``.
        b2: Decay of the squared norm's average, in ``[0, 1)``.
        eps: Added to the denominator.
        eps_root: Added inside the root.
        weight_decay: The decay ``wd`` (needs ``params`` in ``update`` when not 0).
        mu_dtype: The dtype the momentum is kept in (``None``: the params').

    Raises:
        ValueError: a negative eps or decay, or ``b1``/``b2`` outside ``[0, 1)``.

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> opt = optim.scale_by_novograd(eps=0.0)
        >>> opt.update(np.array([3.0, -4.0]), opt.init(np.zeros(2)))[0]   # g / ||g||
        array([ 0.6, -0.8])
    """
    _check_nonnegative("scale_by_novograd", eps=eps, eps_root=eps_root, weight_decay=weight_decay)
    _check_unit_interval("scale_by_novograd", b1=b1, b2=b2)
    return _ScaleByNovograd(b1, b2, eps, eps_root, weight_decay, mu_dtype).transformation()


def novograd(learning_rate: ScalarOrSchedule, b1: float = 0.9, b2: float = 0.25,
             eps: float = 1e-6, eps_root: float = 0.0,
             weight_decay: float = 0.0) -> GradientTransformation:
    """NovoGrad: ``chain(scale_by_novograd(b1, b2, eps, eps_root, weight_decay),
    scale_by_learning_rate(learning_rate))`` (optax's ``novograd``)::

        n = b2 * n + (1 - b2) * ||g||**2                  (per leaf; n = ||g||**2 at t = 1)
        m = b1 * m + g / (sqrt(n + eps_root) + eps) + wd * p
        p = p - lr * m

    Reference: Ginsburg et al., "Stochastic gradient methods with layer-wise adaptive
    moments for training of deep networks", 2019.

    Args:
        learning_rate: A number or a schedule of the step count.
        b1: Decay of the momentum, in ``[0, 1)``.
        b2: Decay of the squared norm's average, in ``[0, 1)``.
        eps: Added to the denominator.
        eps_root: Added inside the root.
        weight_decay: The decay ``wd`` (needs ``params`` in ``update`` when not 0).

    Returns:
        A [`GradientTransformation`][functrans.optim.GradientTransformation] whose state is
        ``(ScaleByNovogradState, ScaleByLearningRateState)``.

    Raises:
        ValueError: a negative rate, eps or decay, or ``b1``/``b2`` outside ``[0, 1)``.

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> opt = optim.novograd(0.1, eps=0.0)
        >>> opt.update(np.array([3.0, -4.0]), opt.init(np.zeros(2)))[0]
        array([-0.06,  0.08])
    """
    _check_nonnegative("novograd", learning_rate=learning_rate)
    return chain(scale_by_novograd(b1, b2, eps, eps_root, weight_decay),
                 scale_by_learning_rate(learning_rate))


# --- SM3 -----------------------------------------------------------------------------------------
class ScaleBySM3State(NamedTuple):
    """State of [`scale_by_sm3`][functrans.optim.scale_by_sm3].

    Attributes:
        mu: Per leaf of the params (in their flattened order), a tuple of one accumulator
            vector per axis (the largest squared-gradient sum along that axis).
        nu: The momentum, the params' structure.

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> state = optim.scale_by_sm3().init({"w": np.zeros((2, 3))})
        >>> [v.shape for v in state.mu[0]]
        [(2,), (3,)]
    """

    mu: tuple
    nu: PyTree


@dataclasses.dataclass(frozen=True)
class _ScaleBySM3(_Block):
    name: ClassVar[str] = "scale_by_sm3"
    state_type: ClassVar[type] = ScaleBySM3State

    b1: float
    b2: float
    eps: float
    label: str = _label()

    def init(self, params: Params) -> ScaleBySM3State:
        mu = []
        for path, p in tree.flatten_with_path(params)[0]:
            shape = shape_of(p)
            if not shape:
                raise ValueError(f"functrans.optim.{self.fn}: the parameter at "
                                 f"{tree.keystr(path) or 'the root'} is a scalar; SM3 keeps one "
                                 f"accumulator per axis, so it needs arrays with at least one "
                                 f"axis. Fix: give it shape (1,), or update it with another "
                                 f"optimizer (optim.multi_transform)")
            mu.append(tuple(fnp.zeros_like(p, shape=(n,)) for n in shape))
        return ScaleBySM3State(tuple(mu), _zeros_like_tree(params))

    def _step(self, g: list, treedef: tree.TreeDef, state: ScaleBySM3State,
              params: Params | None) -> tuple[list, ScaleBySM3State]:
        b2 = self.b2
        keep = 1.0 if b2 == 1.0 else 1.0 - b2  # b2 = 1 (the default) sums the squares
        old_nu = _same_leaves(treedef, g, state.nu, self.fn, "nu")
        steps, mu = [], []
        for gi, accumulators in zip(g, state.mu):
            ndim = len(shape_of(gi))
            # Each axis' accumulator broadcast along the others; their minimum bounds the sum.
            spread = [fnp.reshape(a, [1] * i + [-1] + [1] * (ndim - i - 1))
                      for i, a in enumerate(accumulators)]
            bound = spread[0]
            for s in spread[1:]:
                bound = fnp.minimum(bound, s)
            acc = keep * _abs_sq(gi) + b2 * bound
            # 0 where a zero accumulator meets eps = 0; a square that underflowed to 0 with
            # eps > 0 still steps by g / sqrt(eps).
            inv = fnp.where(acc + self.eps > 0, 1.0 / fnp.sqrt(acc + self.eps), 0.0)
            steps.append(gi * inv)
            if ndim < 2:
                mu.append((acc,))
            else:
                mu.append(tuple(fnp.max(acc, axis=tuple(j for j in range(ndim) if j != i))
                                for i in range(ndim)))
        nu = _moment(self.b1, old_nu, steps)
        return nu, ScaleBySM3State(tuple(mu), treedef.unflatten(nu))


def scale_by_sm3(b1: float = 0.9, b2: float = 1.0, eps: float = 1e-8) -> GradientTransformation:
    """SM3's direction: Adagrad's, with the sum of squares of an ``n x m`` leaf bounded by
    ``n + m`` accumulators (one per row, one per column, ...) instead of ``n * m``::

        a = g**2 + min over axes of the accumulators (broadcast)       ((1 - b2) g**2 + b2 min
                                                                         when b2 < 1)
        accumulator of axis i = max of a over the other axes
        u = g / sqrt(a + eps)       (0 where a = 0)
        m = b1 * m + (1 - b1) * u,  giving m

    Every leaf needs at least one axis.

    Reference: Anil, Gupta, Koren and Singer, "Memory-efficient adaptive optimization",
    NeurIPS 2019.

    Args:
        b1: Decay of the momentum, in ``[0, 1)``.
        b2: Decay of the accumulators (1: a plain sum, as in the paper).
        eps: Added inside the root.

    Raises:
        ValueError: a negative eps, ``b1`` outside ``[0, 1)`` or ``b2`` outside ``[0, 1]``;
            (at ``init``) a scalar parameter.

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> opt = optim.scale_by_sm3(b1=0.0, eps=0.0)
        >>> opt.update(np.array([3.0, -4.0]), opt.init(np.zeros(2)))[0]
        array([ 1., -1.])
    """
    _check_nonnegative("scale_by_sm3", eps=eps)
    _check_unit_interval("scale_by_sm3", b1=b1)
    if not 0.0 <= b2 <= 1.0:
        raise ValueError(f"functrans.optim.scale_by_sm3: b2 must be in [0, 1], got {b2!r}")
    return _ScaleBySM3(b1, b2, eps).transformation()


def sm3(learning_rate: float, momentum: float = 0.9) -> GradientTransformation:
    """SM3: ``chain(scale_by_sm3(momentum), scale(-learning_rate))`` (optax's ``sm3``; the
    rate is a number, not a schedule)::

        p = p - lr * m,   m = momentum * m + (1 - momentum) * g / sqrt(a + 1e-8)

    with ``a`` SM3's bounded sum of squared gradients (see
    [`scale_by_sm3`][functrans.optim.scale_by_sm3]).

    Reference: Anil, Gupta, Koren and Singer, "Memory-efficient adaptive optimization",
    NeurIPS 2019.

    Args:
        learning_rate: The step size.
        momentum: Decay of the momentum, in ``[0, 1)``.

    Returns:
        A [`GradientTransformation`][functrans.optim.GradientTransformation] whose state is
        ``(ScaleBySM3State, EmptyState)``.

    Raises:
        ValueError: a negative rate, or momentum outside ``[0, 1)``.

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> opt = optim.sm3(0.1, momentum=0.0)
        >>> np.round(opt.update(np.array([3.0, -4.0]), opt.init(np.zeros(2)))[0], 6)
        array([-0.1,  0.1])
    """
    _check_nonnegative("sm3", learning_rate=learning_rate)
    if callable(learning_rate):
        raise TypeError("functrans.optim.sm3: learning_rate must be a number (SM3 scales by a "
                        "constant, as optax's); for a schedule use optim.chain("
                        "optim.scale_by_sm3(momentum), optim.scale_by_learning_rate(schedule))")
    return chain(scale_by_sm3(momentum), scale(-learning_rate))
