"""Adafactor: second moments kept as row and column statistics of each matrix, so the
optimizer state of an ``n x m`` weight is ``n + m`` numbers instead of ``n * m``.

Example:
    >>> import numpy as np
    >>> from functrans import optim
    >>> opt = optim.adafactor(min_dim_size_to_factor=2)
    >>> state = opt.init({"w": np.ones((3, 4))})
    >>> state.v_row["w"].shape, state.v_col["w"].shape
    ((3,), (4,))
"""
from __future__ import annotations

import dataclasses
import math
from typing import Any, ClassVar, NamedTuple

import functrans.numpy as fnp
from functrans import tree
from functrans._abstract import shape_of
from functrans.optim._norm import abs_sq as _abs_sq
from functrans.optim.alias import _Optimizer
from functrans.optim.base import (
    EmptyState,
    GradientTransformation,
    ScalarOrSchedule,
    _Block,
    _check_nonnegative,
    _coefficient,
    _first_count,
    _label,
    _need_params,
    _norm,
    _same_leaves,
)
from functrans.optim.scale import _ScaleByLearningRate
from functrans.typing import Array, Params, PyTree

__all__ = ["AdafactorState", "FactoredState", "adafactor", "scale_by_factored_rms"]


class FactoredState(NamedTuple):
    """State of [`scale_by_factored_rms`][functrans.optim.scale_by_factored_rms]: per leaf, the row and column
    averages of the
    squared gradient (a factored leaf) or its full average (the others); the unused buffers
    are zeros of shape ``(1,)``.

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> optim.scale_by_factored_rms().init(np.zeros(2))
        FactoredState(count=np.int64(0), v_row=array([0.]), v_col=array([0.]), v=array([0., 0.]))
    """

    count: Array
    v_row: PyTree
    v_col: PyTree
    v: PyTree


def _is_factored(shape: tuple, min_dim: int, factored: bool) -> bool:
    return factored and len(shape) >= 2 and min(shape[-2:]) >= min_dim


def _rms(x: Any) -> Any:
    """``sqrt(mean(|x|**2))``, right also where the squares overflow or underflow."""
    return _norm([x]) / math.sqrt(max(math.prod(shape_of(x)), 1))


@dataclasses.dataclass(frozen=True)
class _ScaleByFactoredRms(_Block):
    name: ClassVar[str] = "scale_by_factored_rms"
    state_type: ClassVar[type] = FactoredState

    factored: bool
    decay_rate: float
    eps: float
    min_dim_size_to_factor: int
    label: str = _label()

    def _factored(self, x: Any) -> bool:
        return _is_factored(tuple(x.shape), self.min_dim_size_to_factor, self.factored)

    def init(self, params: Params) -> FactoredState:
        def row(p: Any) -> Any:
            return fnp.zeros_like(p[..., 0]) if self._factored(p) else fnp.zeros(1, p.dtype)

        def col(p: Any) -> Any:
            return fnp.zeros_like(p[..., 0, :]) if self._factored(p) else fnp.zeros(1, p.dtype)

        def full(p: Any) -> Any:
            return fnp.zeros(1, p.dtype) if self._factored(p) else fnp.zeros_like(p)

        return FactoredState(_first_count(), tree.map(row, params), tree.map(col, params),
                             tree.map(full, params))

    def _step(self, g: list, treedef: tree.TreeDef, state: FactoredState,
              params: Params | None) -> tuple[list, FactoredState]:
        t = state.count + 1
        beta = 1.0 - (t * 1.0) ** (-self.decay_rate)  # 0 at the first step: v = g**2
        rows = _same_leaves(treedef, g, state.v_row, self.fn, "v_row", False)
        cols = _same_leaves(treedef, g, state.v_col, self.fn, "v_col", False)
        fulls = _same_leaves(treedef, g, state.v, self.fn, "v", False)
        out, new_rows, new_cols, new_fulls = [], [], [], []
        for gi, ri, ci, vi in zip(g, rows, cols, fulls):
            b = _coefficient(beta, gi)
            g2 = _abs_sq(gi) + self.eps
            if self._factored(gi):
                ri = b * ri + (1.0 - b) * fnp.mean(g2, axis=-1)
                ci = b * ci + (1.0 - b) * fnp.mean(g2, axis=-2)
                # V = R C^T / mean(R): the rank-one estimate of the averaged squares.
                scale = fnp.mean(ri, axis=-1, keepdims=True)
                v_hat = (ri / scale)[..., :, None] * ci[..., None, :]
                out.append(gi / fnp.sqrt(v_hat))
            else:
                vi = b * vi + (1.0 - b) * g2
                out.append(gi / fnp.sqrt(vi))
            new_rows.append(ri)
            new_cols.append(ci)
            new_fulls.append(vi)
        return out, FactoredState(t, treedef.unflatten(new_rows), treedef.unflatten(new_cols),
                                  treedef.unflatten(new_fulls))


def scale_by_factored_rms(factored: bool = True, decay_rate: float = 0.8, eps: float = 1e-30,
                          min_dim_size_to_factor: int = 128) -> GradientTransformation:
    """Adafactor's direction ``g / sqrt(V)``: ``V`` averages ``g**2 + eps`` with the decay
    ``1 - t**(-decay_rate)``; for a leaf whose last two dimensions are both at least
    ``min_dim_size_to_factor`` it is the rank-one ``R C / mean(R)`` of the row and column
    averages ``R`` and ``C``.

    Reference: Shazeer and Stern, "Adafactor: adaptive learning rates with sublinear memory
    cost", ICML 2018, Algorithms 4 and 5.

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> opt = optim.scale_by_factored_rms()
        >>> opt.update(np.array([3.0, -0.5]), opt.init(np.zeros(2)))[0]
        array([ 1., -1.])
    """
    _check_nonnegative("scale_by_factored_rms", decay_rate=decay_rate, eps=eps)
    return _ScaleByFactoredRms(factored, decay_rate, eps, min_dim_size_to_factor).transformation()


@dataclasses.dataclass(frozen=True)
class _ClipAndScaleByParams(_Block):
    """Adafactor's update clipping ``u / max(1, RMS(u) / d)``, then (optionally) the relative
    step: times ``max(eps2, RMS(p))``."""

    name: ClassVar[str] = "adafactor"
    state_type: ClassVar[type] = EmptyState

    clipping_threshold: float | None
    multiply_by_parameter_scale: bool
    eps2: float
    label: str = _label()

    def init(self, params: Params) -> EmptyState:
        return EmptyState()

    def _step(self, g: list, treedef: tree.TreeDef, state: EmptyState,
              params: Params | None) -> tuple[list, EmptyState]:
        if self.clipping_threshold is not None:
            d = self.clipping_threshold
            g = [ui / fnp.maximum(1.0, _rms(ui) / d) for ui in g]
        if self.multiply_by_parameter_scale:
            _need_params(params, self.fn, "multiply_by_parameter_scale")
            p = _same_leaves(treedef, g, params, self.fn, "params")
            g = [ui * fnp.maximum(self.eps2, _rms(pi)) for ui, pi in zip(g, p)]
        return g, state


@dataclasses.dataclass(frozen=True)
class _RelativeStep:
    """Adafactor's step size without a learning rate: ``min(1e-2, 1 / sqrt(t))``."""

    def __call__(self, count: Any) -> Any:
        return fnp.minimum(1e-2, 1.0 / fnp.sqrt(count + 1.0))


class AdafactorState(NamedTuple):
    """State of [`adafactor`][functrans.optim.adafactor]: the step count, the rate the next update uses, and the
    factored second moments (see [`FactoredState`][functrans.optim.FactoredState]).

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> optim.adafactor(1e-3).init(np.zeros(1)).learning_rate
        0.001
    """

    count: Array
    learning_rate: Any
    v_row: PyTree
    v_col: PyTree
    v: PyTree


@dataclasses.dataclass(frozen=True)
class _Adafactor(_Optimizer):
    name: ClassVar[str] = "adafactor"
    state_type: ClassVar[type] = AdafactorState

    learning_rate: Any
    min_dim_size_to_factor: int
    decay_rate: float
    clipping_threshold: float | None
    multiply_by_parameter_scale: bool
    eps: float
    eps2: float
    factored: bool

    def _chain(self) -> list[tuple[_Block, dict[str, str]]]:
        rms = _ScaleByFactoredRms(self.factored, self.decay_rate, self.eps,
                                  self.min_dim_size_to_factor, label=self.name)
        clip = _ClipAndScaleByParams(self.clipping_threshold, self.multiply_by_parameter_scale,
                                     self.eps2, label=self.name)
        rate = self.learning_rate if self.learning_rate is not None else _RelativeStep()
        return [(rms, {"count": "count", "v_row": "v_row", "v_col": "v_col", "v": "v"}),
                (clip, {}), (_ScaleByLearningRate(rate, label=self.name),
                             {"count": "count", "learning_rate": "learning_rate"})]


def adafactor(learning_rate: ScalarOrSchedule | None = None, min_dim_size_to_factor: int = 128,
              decay_rate: float = 0.8, clipping_threshold: float | None = 1.0,
              multiply_by_parameter_scale: bool = True, eps: float = 1e-30, eps2: float = 1e-3,
              factored: bool = True) -> GradientTransformation:
    """Adafactor (without momentum), the paper's Algorithms 4 and 5::

        b = 1 - t**(-decay_rate)
        R = b * R + (1 - b) * mean(g**2 + eps, over columns)       (factored leaves)
        C = b * C + (1 - b) * mean(g**2 + eps, over rows)
        V = R C / mean(R)          (other leaves: V = b * V + (1 - b) * (g**2 + eps))
        u = g / sqrt(V)
        u = u / max(1, RMS(u) / clipping_threshold)
        p = p - lr * max(eps2, RMS(p)) * u                    (multiply_by_parameter_scale)

    Without a learning rate the step is the relative ``min(1e-2, 1 / sqrt(t))``. A leaf is
    factored over its last two dimensions when both are at least ``min_dim_size_to_factor``.

    Reference: Shazeer and Stern, "Adafactor: adaptive learning rates with sublinear memory
    cost", ICML 2018.

    Args:
        learning_rate: A number, a schedule, or None for the relative step size.
        min_dim_size_to_factor: The smallest dimension a factored leaf has.
        decay_rate: The exponent of the second-moment decay.
        clipping_threshold: The update clipping ``d`` (None: no clipping).
        multiply_by_parameter_scale: Scale the step by the parameter's RMS.
        eps: Added to the squared gradient (the paper's eps1).
        eps2: The smallest parameter scale.
        factored: Factor the second moments of large matrices.

    Returns:
        A [`GradientTransformation`][functrans.optim.GradientTransformation] whose state is an
        [`AdafactorState`][functrans.optim.AdafactorState];
        ``multiply_by_parameter_scale`` needs ``params`` in ``update``.

    Raises:
        ValueError: a negative argument.

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> opt = optim.adafactor(0.1, multiply_by_parameter_scale=False)
        >>> opt.update(np.array([3.0, -0.5]), opt.init(np.zeros(2)))[0]
        array([-0.1,  0.1])
    """
    _check_nonnegative("adafactor", decay_rate=decay_rate, eps=eps, eps2=eps2,
                       min_dim_size_to_factor=min_dim_size_to_factor)
    if learning_rate is not None:
        _check_nonnegative("adafactor", learning_rate=learning_rate)
    return _Adafactor(learning_rate, min_dim_size_to_factor, decay_rate, clipping_threshold,
                      multiply_by_parameter_scale, eps, eps2, factored).transformation()
