"""Activation functions (and the log-sum-exp they rely on), as plain functions of arrays.

Each matches PyTorch's definition, including the derivative it uses at kinks: ``relu`` and
``leaky_relu`` take the branch ``x > 0`` (so ``relu'(0) = 0``; JAX's ``leaky_relu'(0)`` is 1),
``elu`` uses ``alpha`` at 0. The names that only JAX spells (``hard_tanh``, ``hard_silu``,
``soft_sign``, ``sparse_plus``, ...) follow ``jax.nn``, derivatives at kinks included; where
the two spellings differ at a kink (``hardtanh`` and ``hard_tanh`` at +-1, ``hardswish`` and
``hard_swish`` at +-3), each follows its own library. ``gelu`` is PyTorch's exact one by
default, where ``jax.nn.gelu`` defaults to the tanh approximation.
Functions that exponentiate subtract a maximum first (held constant for differentiation,
which is exact: the result does not depend on it), so large inputs neither overflow nor lose
their gradient.

Example:
    >>> import numpy as np
    >>> import functrans as ft
    >>> from functrans import nn
    >>> nn.relu(np.array([-1.0, 0.0, 2.0]))
    array([0., 0., 2.])
    >>> ft.grad(lambda x: nn.relu(x).sum())(np.array([-1.0, 0.0, 2.0]))
    array([0., 0., 1.])
"""
from __future__ import annotations

import importlib.util
import math

import functrans.numpy as fnp
from functrans._abstract import python_number
from functrans.api import stop_gradient
from functrans.scipy import _nn_math as _m
from functrans.scipy._nn_math import logaddexp0 as _logaddexp0
from functrans.scipy.special import erfc as _erfc  # its primitive evaluates with SciPy: used when installed
from functrans.typing import Array, ArrayLike

__all__ = ["celu", "elu", "gelu", "glu", "hard_sigmoid", "hard_silu", "hard_swish", "hard_tanh",
           "hardsigmoid", "hardswish", "hardtanh", "identity", "leaky_relu", "log1mexp",
           "log_sigmoid", "log_softmax", "logmeanexp", "logsumexp", "mish", "relu", "relu6",
           "selu", "sigmoid", "silu", "soft_sign", "softmax", "softplus", "softsign",
           "sparse_plus", "sparse_sigmoid", "squareplus", "swish", "tanh"]


def relu(x: ArrayLike) -> Array:
    """``max(x, 0)``, with derivative 0 at ``x = 0`` (as PyTorch).

    Example:
        >>> import numpy as np
        >>> from functrans import nn
        >>> nn.relu(np.array([-2.0, 3.0]))
        array([0., 3.])
    """
    x = fnp.asarray(x)
    return fnp.where(x > 0, x, 0)


def leaky_relu(x: ArrayLike, negative_slope: float = 0.01) -> Array:
    """``x`` where ``x > 0``, else ``negative_slope * x`` (derivative ``negative_slope`` at 0).

    Example:
        >>> import numpy as np
        >>> from functrans import nn
        >>> nn.leaky_relu(np.array([-2.0, 3.0]), 0.1)
        array([-0.2,  3. ])
    """
    negative_slope = python_number(negative_slope)
    x = fnp.asarray(x)
    return fnp.where(x > 0, x, negative_slope * x)


def elu(x: ArrayLike, alpha: float = 1.0) -> Array:
    """``x`` where ``x > 0``, else ``alpha * (exp(x) - 1)``.

    Reference: Clevert, Unterthiner and Hochreiter, "Fast and accurate deep network learning
    by exponential linear units (ELUs)", ICLR 2016.

    Example:
        >>> import numpy as np
        >>> from functrans import nn
        >>> np.round(nn.elu(np.array([-1.0, 2.0])), 6)
        array([-0.632121,  2.      ])
    """
    alpha = python_number(alpha)
    x = fnp.asarray(x)
    positive = x > 0
    # The exponential only sees x <= 0, so a large positive x cannot overflow into the
    # branch that is not taken (whose derivative would otherwise turn into 0 * inf = nan).
    negative_part = fnp.where(positive, 0, x)
    return fnp.where(positive, x, alpha * fnp.expm1(negative_part))


def hardtanh(x: ArrayLike, min_val: float = -1.0, max_val: float = 1.0) -> Array:
    """``x`` clipped to ``[min_val, max_val]``, with derivative 1 strictly inside and 0 on the
    bounds (as PyTorch).

    Example:
        >>> import numpy as np
        >>> from functrans import nn
        >>> nn.hardtanh(np.array([-2.0, 0.5, 3.0]))
        array([-1. ,  0.5,  1. ])
    """
    min_val = python_number(min_val)
    max_val = python_number(max_val)
    x = fnp.asarray(x)
    inside = fnp.logical_and(x > min_val, x < max_val)
    return fnp.where(inside, x, fnp.clip(stop_gradient(x), min_val, max_val))


def relu6(x: ArrayLike) -> Array:
    """``min(max(x, 0), 6)``: ``hardtanh(x, 0, 6)``, with derivative 0 at both kinks.

    Example:
        >>> import numpy as np
        >>> from functrans import nn
        >>> nn.relu6(np.array([-1.0, 3.0, 7.0]))
        array([0., 3., 6.])
    """
    return hardtanh(x, 0.0, 6.0)


def hardsigmoid(x: ArrayLike) -> Array:
    """``relu6(x + 3) / 6``, that is ``hardtanh(x, -3, 3) / 6 + 1/2``: derivative ``1/6``
    strictly between -3 and 3, 0 elsewhere (as PyTorch, and as ``jax.nn.hard_sigmoid``: this
    function is also ``nn.hard_sigmoid``).

    Example:
        >>> import numpy as np
        >>> from functrans import nn
        >>> nn.hardsigmoid(np.array([-4.0, 0.0, 4.0]))
        array([0. , 0.5, 1. ])
    """
    return hardtanh(x, -3.0, 3.0) / 6 + 0.5


hard_sigmoid = hardsigmoid


def hard_tanh(x: ArrayLike) -> Array:
    """``x`` clipped to ``[-1, 1]``, ``jax.nn.hard_tanh``: derivative 1 on the closed interval
    ``[-1, 1]`` (bounds included, as JAX) and 0 outside. [`hardtanh`][functrans.nn.hardtanh] is
    PyTorch's, with bounds as arguments and derivative 0 on the bounds.

    Example:
        >>> import numpy as np
        >>> import functrans as ft
        >>> from functrans import nn
        >>> x = np.array([-2.0, -1.0, 0.5, 3.0])
        >>> nn.hard_tanh(x)
        array([-1. , -1. ,  0.5,  1. ])
        >>> ft.vmap(ft.grad(nn.hard_tanh))(x)
        array([0., 1., 1., 0.])
    """
    x = fnp.asarray(x)
    return fnp.where(x > 1, 1, fnp.where(x < -1, -1, x))


def hard_silu(x: ArrayLike) -> Array:
    """``x * hard_sigmoid(x)``, ``jax.nn.hard_silu`` (also ``hard_swish``): derivative 0 up to
    -3 and 1 from 3 on (JAX's values at the kinks); ``x / 3 + 1/2`` strictly between.
    [`hardswish`][functrans.nn.hardswish] is the same function with PyTorch's derivative at
    +-3 (``-1/2`` and ``3/2``).

    Reference: Howard et al., "Searching for MobileNetV3", ICCV 2019.

    Example:
        >>> import numpy as np
        >>> import functrans as ft
        >>> from functrans import nn
        >>> x = np.array([-3.0, 0.0, 3.0])
        >>> nn.hard_silu(x)
        array([-0.,  0.,  3.])
        >>> ft.vmap(ft.grad(nn.hard_silu))(x)
        array([0. , 0.5, 1. ])
    """
    x = fnp.asarray(x)
    return x * hardsigmoid(x)


hard_swish = hard_silu


def identity(x: ArrayLike) -> Array:
    """``x`` itself, as an array (``jax.nn.identity``).

    Example:
        >>> from functrans import nn
        >>> nn.identity([1.0, 2.0])
        array([1., 2.])
    """
    return fnp.asarray(x)


def hardswish(x: ArrayLike) -> Array:
    """``x * relu6(x + 3) / 6``, with PyTorch's derivative: 0 below -3, ``x / 3 + 1/2`` from
    -3 to 3 (both included), 1 above.

    Reference: Howard et al., "Searching for MobileNetV3", ICCV 2019.

    Example:
        >>> import numpy as np
        >>> from functrans import nn
        >>> nn.hardswish(np.array([-4.0, 1.0, 4.0]))
        array([-0.        ,  0.66666667,  4.        ])
    """
    x = fnp.asarray(x)
    return fnp.where(x < -3, 0.0 * x, fnp.where(x <= 3, x * (x + 3) / 6, x))


def selu(x: ArrayLike) -> Array:
    """``scale * elu(x, alpha)`` with the self-normalizing constants ``alpha = 1.6732632...``
    and ``scale = 1.0507009...``.

    Reference: Klambauer et al., "Self-normalizing neural networks", NeurIPS 2017.

    Example:
        >>> import numpy as np
        >>> from functrans import nn
        >>> np.round(nn.selu(np.array([-1.0, 1.0])), 6)
        array([-1.111331,  1.050701])
    """
    return _SELU_SCALE * elu(x, _SELU_ALPHA)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def celu(x: ArrayLike, alpha: float = 1.0) -> Array:
    """``x`` where ``x > 0``, else ``alpha * (exp(x / alpha) - 1)``: continuously
    differentiable for every ``alpha``.

    Reference: Barron, "Continuously differentiable exponential linear units", 2017.

    Example:
        >>> import numpy as np
        >>> from functrans import nn
        >>> np.round(nn.celu(np.array([-1.0, 2.0]), alpha=2.0), 6)
        array([-0.786939,  2.      ])
    """
    alpha = python_number(alpha)
    x = fnp.asarray(x)
    positive = x > 0
    return fnp.where(positive, x, alpha * fnp.expm1(fnp.where(positive, 0, x) / alpha))


def softsign(x: ArrayLike) -> Array:
    """``x / (1 + |x|)``.

    Example:
        >>> import numpy as np
        >>> from functrans import nn
        >>> nn.softsign(np.array([-1.0, 3.0]))
        array([-0.5 ,  0.75])
    """
    x = fnp.asarray(x)
    return x / (1 + fnp.abs(x))


def soft_sign(x: ArrayLike) -> Array:
    """``x / (1 + |x|)``, ``jax.nn.soft_sign``: [`softsign`][functrans.nn.softsign] with JAX's
    second derivative at 0 (``-2``, from ``|x|' = 1`` at 0; PyTorch's ``softsign`` gives 0).
    Values and first derivatives are the same everywhere.

    Example:
        >>> import numpy as np
        >>> import functrans as ft
        >>> from functrans import nn
        >>> nn.soft_sign(np.array([-1.0, 3.0]))
        array([-0.5 ,  0.75])
        >>> float(ft.grad(ft.grad(nn.soft_sign))(0.0))
        -2.0
    """
    x = fnp.asarray(x)
    if fnp.iscomplexobj(x):
        return x / (1 + fnp.abs(x))
    return x / (1 + fnp.where(x >= 0, x, -x))


def sparse_plus(x: ArrayLike) -> Array:
    """``jax.nn.sparse_plus``: 0 up to -1, ``(x + 1)^2 / 4`` between -1 and 1, ``x`` from 1 on;
    a softplus that is exactly 0 and exactly linear outside ``(-1, 1)``, continuously
    differentiable (its derivative is [`sparse_sigmoid`][functrans.nn.sparse_sigmoid]).

    Reference: Blondel, Martins and Niculae, "Learning with Fenchel-Young losses", JMLR 2020.

    Example:
        >>> import numpy as np
        >>> from functrans import nn
        >>> nn.sparse_plus(np.array([-2.0, 0.0, 2.0]))
        array([0.  , 0.25, 2.  ])
    """
    x = fnp.asarray(x)
    inner = fnp.clip(x, -1, 1) + 1  # the quadratic only sees [-1, 1]: no overflow in a branch not taken
    return fnp.where(x <= -1, 0, fnp.where(x >= 1, x, inner * inner / 4))


def sparse_sigmoid(x: ArrayLike) -> Array:
    """``jax.nn.sparse_sigmoid``: ``(x + 1) / 2`` clipped to ``[0, 1]``. Its derivative is
    ``1/2`` strictly between -1 and 1, 0 outside, and ``1/4`` at +-1 (JAX's: the two sides
    averaged).

    Reference: Blondel, Martins and Niculae, "Learning with Fenchel-Young losses", JMLR 2020.

    Example:
        >>> import numpy as np
        >>> from functrans import nn
        >>> nn.sparse_sigmoid(np.array([-2.0, 0.0, 0.5, 2.0]))
        array([0.  , 0.5 , 0.75, 1.  ])
    """
    x = fnp.asarray(x)
    return 0.5 * fnp.minimum(fnp.maximum(x + 1, 0), 2)


def squareplus(x: ArrayLike, b: ArrayLike = 4) -> Array:
    """``(x + sqrt(x^2 + b)) / 2``, ``jax.nn.squareplus``: a smooth relu of algebraic
    functions only (``b > 0`` sets the curvature near 0).

    Reference: Barron, "Squareplus: a softplus-like algebraic rectifier", 2021.

    Example:
        >>> import numpy as np
        >>> from functrans import nn
        >>> nn.squareplus(np.array([0.0, 1.5]))
        array([1., 2.])
    """
    x = fnp.asarray(x)
    if fnp.result_type(x).kind == "c":  # no sign to split on: the formula as it stands
        return (x + fnp.sqrt(x * x + b)) / 2
    # r = sqrt(x^2 + b) as a hypot, which does not overflow; for x < 0 the equal
    # (b / 2) / (r - x), which does not cancel (x + r is a difference of near-equal numbers).
    r = fnp.hypot(x, fnp.sqrt(fnp.asarray(b, dtype=fnp.result_type(x, 1.0))))
    negative = x < 0
    return fnp.where(negative, (b / 2) / fnp.where(negative, r - x, 1.0), (x + r) / 2)


def mish(x: ArrayLike) -> Array:
    """``x * tanh(softplus(x))``.

    Reference: Misra, "Mish: a self regularized non-monotonic activation function", 2019.

    Example:
        >>> from functrans import nn
        >>> round(float(nn.mish(1.0)), 6)
        0.865098
    """
    x = fnp.asarray(x)
    return x * fnp.tanh(softplus(x))


def glu(x: ArrayLike, axis: int = -1) -> Array:
    """The gated linear unit: ``x`` split in halves ``a, b`` along ``axis``, ``a * sigmoid(b)``.

    Reference: Dauphin et al., "Language modeling with gated convolutional networks", ICML 2017.

    Example:
        >>> import numpy as np
        >>> from functrans import nn
        >>> nn.glu(np.array([2.0, 0.0]))
        array([1.])
    """
    x = fnp.asarray(x)
    n = x.shape[axis]
    if n % 2:
        raise ValueError(f"glu: the axis {axis} of a {x.shape} input has odd length {n}; it is halved")
    a, b = fnp.split(x, 2, axis=axis)
    return a * fnp.logistic(b)


def sigmoid(x: ArrayLike) -> Array:
    """The logistic function ``1 / (1 + exp(-x))``, without overflow.

    Example:
        >>> from functrans import nn
        >>> float(nn.sigmoid(0.0))
        0.5
    """
    return fnp.logistic(fnp.asarray(x))


def tanh(x: ArrayLike) -> Array:
    """The hyperbolic tangent.

    Example:
        >>> from functrans import nn
        >>> float(nn.tanh(0.0))
        0.0
    """
    return fnp.tanh(fnp.asarray(x))


def silu(x: ArrayLike) -> Array:
    """``x * sigmoid(x)`` (also ``nn.swish``, JAX's other name for it).

    Reference: Hendrycks and Gimpel, "Gaussian error linear units (GELUs)", 2016; Ramachandran,
    Zoph and Le, "Searching for activation functions", 2017.

    Example:
        >>> from functrans import nn
        >>> round(float(nn.silu(1.0)), 6)
        0.731059
    """
    x = fnp.asarray(x)
    return x * fnp.logistic(x)


swish = silu


def softplus(x: ArrayLike, beta: float = 1.0, threshold: float = 20.0) -> Array:
    """``log(1 + exp(beta * x)) / beta``, and ``x`` itself where ``beta * x > threshold``
    (PyTorch's definition).

    Example:
        >>> import math
        >>> from functrans import nn
        >>> float(nn.softplus(0.0)) == math.log(2)
        True
    """
    beta = python_number(beta)
    threshold = python_number(threshold)
    x = fnp.asarray(x)
    bx = x * beta if beta != 1.0 else x
    smooth = _logaddexp0(bx)
    if beta != 1.0:
        smooth = smooth / beta
    return fnp.where(bx > threshold, x, smooth)


def log_sigmoid(x: ArrayLike) -> Array:
    """``log(sigmoid(x)) = -softplus(-x)``, stable for large ``|x|``.

    Example:
        >>> from functrans import nn
        >>> float(nn.log_sigmoid(-1000.0))
        -1000.0
    """
    return _m.log_sigmoid(x)


def logsumexp(a: ArrayLike, axis: int | tuple[int, ...] | None = None,
              b: ArrayLike | None = None, keepdims: bool = False, return_sign: bool = False,
              *, where: ArrayLike | None = None) -> Array | tuple[Array, Array]:
    """``log(sum(b * exp(a), axis))``, computed as ``m + log(sum(b * exp(a - m)))`` with ``m``
    the maximum; its derivative, the softmax, is a rule of its own. The arguments are
    ``jax.nn.logsumexp``'s, in its order (the third positional is the weight ``b``, not
    ``keepdims``): this is [`functrans.numpy.logsumexp`][functrans.numpy.logsumexp]. A slice
    that is all ``-inf`` gives ``-inf``, as in PyTorch. ``where`` counts only the entries
    where it is True; ``return_sign`` returns ``(log|s|, sign(s))`` for weights of either sign.

    Example:
        >>> import numpy as np
        >>> from functrans import nn
        >>> float(nn.logsumexp(np.array([1000.0, 1000.0])))  # doctest: +ELLIPSIS
        1000.693147...
        >>> float(nn.logsumexp(np.array([-np.inf, -np.inf])))
        -inf
        >>> float(nn.logsumexp(np.array([0.0, 0.0]), 0, np.array([0.5, 1.5])))
        0.6931471805599453
    """
    return fnp.logsumexp(a, axis=axis, b=b, keepdims=keepdims, return_sign=return_sign,
                         where=where)


def logmeanexp(x: ArrayLike, axis: int | tuple[int, ...] | None = None,
               where: ArrayLike | None = None, keepdims: bool = False) -> Array:
    """``log(mean(exp(x), axis))``: ``logsumexp(x, axis) - log(n)`` with ``n`` the number of
    entries reduced (those where ``where`` is True, when given), ``jax.nn.logmeanexp`` with its
    argument order (``where`` third). A slice with no entry selected gives ``nan``.

    Example:
        >>> import numpy as np
        >>> from functrans import nn
        >>> float(nn.logmeanexp(np.array([1000.0, 1000.0])))
        1000.0
        >>> nn.logmeanexp(np.log(np.array([[1.0, 3.0], [2.0, 9.0]])), axis=1,
        ...               where=np.array([True, False]))
        array([0.        , 0.69314718])
    """
    x = fnp.asarray(x)
    lse: Array = fnp.logsumexp(x, axis=axis, keepdims=keepdims, where=where)
    shape = fnp.shape(x)
    if where is None:
        axes = range(len(shape)) if axis is None else (axis,) if isinstance(axis, int) else axis
        n = math.prod(shape[a] for a in axes)
        return lse - (math.log(n) if n else -math.inf)  # nothing to average: nan, as JAX
    mask = fnp.broadcast_to(fnp.asarray(where), shape)
    count = fnp.sum(mask, axis=axis, keepdims=keepdims)
    return lse - fnp.log(fnp.astype(count, fnp.result_type(lse)))


def log1mexp(x: ArrayLike) -> Array:
    """``log(1 - exp(-x))`` for ``x > 0``, accurate at both ends (``jax.nn.log1mexp``):
    ``log(-expm1(-x))`` below ``log 2`` and ``log1p(-exp(-x))`` above. ``x = 0`` gives
    ``-inf``, ``x < 0`` gives ``nan``. The derivative is ``1 / expm1(x)``.

    Reference: Maechler, "Accurately computing log(1 - exp(-|a|))", Rmpfr vignette, 2012.

    Example:
        >>> import numpy as np
        >>> from functrans import nn
        >>> nn.log1mexp(np.array([1e-20, np.log(2.0), 50.0]))
        array([-4.60517019e+01, -6.93147181e-01, -1.92874985e-22])
    """
    return _m.log1mexp(x)


def softmax(x: ArrayLike, axis: int | tuple[int, ...] = -1,
            where: ArrayLike | None = None) -> Array:
    """``exp(x) / sum(exp(x), axis)``, shifted by the maximum for stability.

    ``where`` (a boolean mask broadcasting against ``x``, as in ``jax.nn.softmax``) keeps
    the entries where it is True: the others get probability 0 and a derivative of 0, and a
    slice with no entry kept is all 0 (not NaN).

    Example:
        >>> import numpy as np
        >>> from functrans import nn
        >>> nn.softmax(np.array([0.0, np.log(3.0)]))
        array([0.25, 0.75])
        >>> nn.softmax(np.array([0.0, 5.0, np.log(3.0)]), where=np.array([True, False, True]))
        array([0.25, 0.  , 0.75])
    """
    x = fnp.asarray(x)
    if where is not None:
        e, _ = _m.masked_exp(x, where, axis)
        total = fnp.sum(e, axis=axis, keepdims=True)
        return e / fnp.where(total > 0, total, 1)
    e = fnp.exp(x - fnp.max(stop_gradient(x), axis=axis, keepdims=True))
    return e / fnp.sum(e, axis=axis, keepdims=True)


def log_softmax(x: ArrayLike, axis: int | tuple[int, ...] = -1,
                where: ArrayLike | None = None) -> Array:
    """``x - logsumexp(x, axis)``: log-probabilities from logits (``nan`` for a slice that is
    all ``-inf``, as in PyTorch).

    ``where`` (a boolean mask broadcasting against ``x``, as in ``jax.nn.log_softmax``)
    keeps the entries where it is True: the others get ``-inf`` and a derivative of 0.

    Example:
        >>> import numpy as np
        >>> from functrans import nn
        >>> np.exp(nn.log_softmax(np.array([0.0, np.log(3.0)])))
        array([0.25, 0.75])
        >>> nn.log_softmax(np.array([0.0, 1.0]), where=np.array([True, False]))
        array([  0., -inf])
    """
    return _m.log_softmax(x, axis, where)


_SQRT_2 = math.sqrt(2.0)
_ERF_CLIP = 5.9  # erf(5.9) rounds to 1 in float64 (erfc(5.9) ~ 2e-17)
_ERF_TERMS = 100  # enough for the series below to converge to float64 precision at 5.9


def _erf(x: Array) -> Array:
    """The error function, from the series ``erf(x) = 2/sqrt(pi) exp(-x^2) sum_n
    (2x^2)^n x / (1*3*...*(2n+1))``, whose terms are all positive (no cancellation); the
    input is clipped where ``erf`` is +-1 to float64 precision."""
    x = fnp.clip(x, -_ERF_CLIP, _ERF_CLIP)
    two_x2 = 2.0 * x * x
    term = x
    total = x
    for n in range(_ERF_TERMS):
        term = term * two_x2 * (1.0 / (2 * n + 3))
        total = total + term
    return (2.0 / math.sqrt(math.pi)) * fnp.exp(-x * x) * total


def _normal_cdf(x: Array) -> Array:
    """``Phi(x) = erfc(-x / sqrt(2)) / 2``: with SciPy, from the ``erfc`` primitive (accurate
    in both tails); without it, ``(1 + erf(x / sqrt(2))) / 2`` from the series above."""
    if _HAVE_SCIPY:
        return 0.5 * _erfc(x * (-1.0 / _SQRT_2))
    return 0.5 * (1.0 + _erf(x * (1.0 / _SQRT_2)))


_HAVE_SCIPY = importlib.util.find_spec("scipy") is not None


def gelu(x: ArrayLike, approximate: str | bool = "none") -> Array:
    """The Gaussian error linear unit, ``x * Phi(x)`` with ``Phi`` the standard normal CDF.

    **The default is the exact GELU (PyTorch's ``approximate="none"``), while
    ``jax.nn.gelu`` defaults to ``approximate=True``, the tanh approximation.** A ported
    ``jax.nn.gelu(x)`` is ``nn.gelu(x, approximate=True)`` here; left as it is, it computes
    the exact function, which differs by up to about 5e-4 (and so do the derivatives).

    ``approximate="none"`` is ``x / 2 * erfc(-x / sqrt(2))``, from
    ``functrans.scipy.special.erfc`` when SciPy is installed, else from a series for ``erf``
    (about 200 array operations: the slow choice). ``approximate="tanh"`` uses
    ``x / 2 * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 x^3)))``, which is cheap. The booleans of
    ``jax.nn.gelu`` are accepted too: ``True`` means ``"tanh"`` and ``False`` means ``"none"``.

    Reference: Hendrycks and Gimpel, "Gaussian error linear units (GELUs)", 2016.

    Raises:
        ValueError: ``approximate`` is neither ``"none"``, ``"tanh"`` nor a boolean.

    Example:
        >>> from functrans import nn
        >>> round(float(nn.gelu(1.0)), 6), round(float(nn.gelu(1.0, approximate="tanh")), 6)
        (0.841345, 0.841192)
        >>> round(float(nn.gelu(1.0, approximate=True)), 6)  # jax.nn.gelu(1.0)'s value
        0.841192
    """
    x = fnp.asarray(x)
    if isinstance(approximate, bool):
        approximate = "tanh" if approximate else "none"
    if approximate == "tanh":
        inner = math.sqrt(2.0 / math.pi) * (x + 0.044715 * (x * x * x))
        return 0.5 * x * (1.0 + fnp.tanh(inner))
    if approximate != "none":
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh' (or a boolean, as in "
                         f"jax.nn.gelu), got {approximate!r}")
    return x * _normal_cdf(x)
