"""The one implementation of the log-space and encoding functions that ``functrans.nn``
publishes and ``functrans.optim`` (and ``functrans.scipy.stats``) also compute with:
``log_sigmoid``, ``log_softmax`` (with a mask), ``log1mexp`` and ``one_hot``; and
``magnitude``, the scale their cosine similarities divide by first.

nn and optim are independent siblings of the import layers (neither may import the other), so
the rule lives here, below both; ``functrans.nn`` wraps each function under its public name
and docstring. Every function that exponentiates subtracts a maximum first, held constant for
differentiation (exact: the result does not depend on it).
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

import functrans.numpy as fnp
from functrans.api import custom_jvp, stop_gradient
from functrans.typing import Array, ArrayLike, DType

Axis = int | Sequence[int] | None


@custom_jvp
def logaddexp0(x: Array) -> Array:
    """``log(1 + exp(x))`` for any ``x``: no overflow, and accurate far into the left tail
    (``exp(x)`` itself there, not the rounding of ``log`` near 1); its derivative,
    ``sigmoid(x)``, is a rule of its own, so every derivative order is the logistic
    function's."""
    return fnp.logaddexp(x, 0.0)


@logaddexp0.defjvp
def _logaddexp0_jvp(primals: tuple[Array], tangents: tuple[Array]) -> tuple[Array, Array]:
    (x,), (t,) = primals, tangents
    return logaddexp0(x), t * fnp.logistic(x)


def log_sigmoid(x: ArrayLike) -> Array:
    """``log(sigmoid(x)) = -log(1 + exp(-x))``, stable for large ``|x|``."""
    return -logaddexp0(-fnp.asarray(x))


_LOG_2 = math.log(2.0)


@custom_jvp
def log1mexp(x: ArrayLike) -> Array:
    """``log(1 - exp(-x))`` for ``x > 0``: ``log(-expm1(-x))`` below ``log 2`` and
    ``log1p(-exp(-x))`` above (Maechler's split); ``x = 0`` gives ``-inf``, ``x < 0`` ``nan``.
    The derivative is ``1 / expm1(x)``."""
    x = fnp.asarray(x)
    small = x < _LOG_2
    # each branch sees only its own side of log 2, so neither evaluates log(0) where not taken
    below = fnp.log(-fnp.expm1(-fnp.where(small, x, _LOG_2)))
    above = fnp.log1p(-fnp.exp(-fnp.where(small, _LOG_2, x)))
    return fnp.where(small, below, above)


@log1mexp.defjvp
def _log1mexp_jvp(primals: tuple[Array], tangents: tuple[Array]) -> tuple[Array, Array]:
    (x,), (t,) = primals, tangents
    return log1mexp(x), t / fnp.expm1(x)


def shifted_logsumexp(x: Array, axis: Axis) -> Array:
    """``log(sum(exp(x), axis, keepdims=True))``, shifted by the (constant) maximum. Like
    PyTorch's ``log_softmax``, a slice that is all ``-inf`` gives ``nan``."""
    m = fnp.max(stop_gradient(x), axis=axis, keepdims=True)  # constant: no derivative work
    return fnp.log(fnp.sum(fnp.exp(x - m), axis=axis, keepdims=True)) + m


def masked_exp(x: Array, where: ArrayLike, axis: Axis) -> tuple[Array, Array]:
    """``(exp(x - m), x - m)`` with ``m`` the (constant) maximum of the entries where
    ``where`` is True; the exponential is 0 elsewhere. The other entries, whatever their value
    (``nan``, ``inf``), and a slice with none selected get a derivative of 0, never NaN."""
    keep = fnp.asarray(where)
    x = fnp.where(keep, x, 0)
    m = fnp.max(fnp.where(keep, stop_gradient(x), -math.inf), axis=axis, keepdims=True)
    shifted = x - fnp.where(m == -math.inf, 0, m)  # a slice with nothing selected: no shift
    return fnp.where(keep, fnp.exp(shifted), 0), shifted


def log_softmax(x: ArrayLike, axis: Axis = -1, where: ArrayLike | None = None,
                fill: float = -math.inf) -> Array:
    """``x - logsumexp(x, axis)``; with ``where``, over the entries it holds, the others
    ``fill`` with a derivative of 0 (``-inf``: ``jax.nn.log_softmax``'s; 0 keeps a product
    with a zero label at 0 and its derivative finite)."""
    x = fnp.asarray(x)
    if where is None:  # (x - m) - log(sum): no cancellation of a large m (JAX's and PyTorch's order)
        shifted = x - fnp.max(stop_gradient(x), axis=axis, keepdims=True)
        return shifted - fnp.log(fnp.sum(fnp.exp(shifted), axis=axis, keepdims=True))
    e, shifted = masked_exp(x, where, axis)
    total = fnp.sum(e, axis=axis, keepdims=True)
    values = shifted - fnp.log(fnp.where(total > 0, total, 1))
    return fnp.where(where, values, fill)


def one_hot(x: ArrayLike, num_classes: int, dtype: DType = np.float64, axis: int = -1) -> Array:
    """``x`` with each entry replaced by ``num_classes`` zeros holding a one at the entry's
    value, along a new axis ``axis`` (``jax.nn.one_hot``: an entry outside
    ``[0, num_classes)`` gives zeros). No derivative reaches ``x``."""
    num_classes = int(num_classes)
    if num_classes < 0:
        raise ValueError(f"one_hot: num_classes must be a non-negative int, got {num_classes}")
    x = fnp.asarray(x)
    rank = x.ndim + 1
    if not -rank <= axis < rank:
        raise np.exceptions.AxisError(  # host-metadata: an exception class, no array
            f"one_hot: axis {axis} is out of bounds for a result of {rank} dimensions")
    axis %= rank
    classes: Any = fnp.reshape(fnp.arange(num_classes, like=x),
                               (num_classes,) + (1,) * (rank - 1 - axis))
    return fnp.astype(fnp.expand_dims(x, axis) == classes, dtype)


def magnitude(x: Array, axis: Axis, where: ArrayLike | None = None) -> Array:
    """The largest ``|x|`` along ``axis`` (kept as an axis of length 1; among the entries
    ``where`` marks), 1 where that is 0 or not finite, held constant for differentiation: a
    scale to divide a vector by before its squares are summed, so that they neither overflow
    nor underflow (a cosine, or a norm taken back to scale, does not depend on it)."""
    big = fnp.max(fnp.abs(x), axis=axis, keepdims=True, where=True if where is None else where,
                  initial=0.0)
    return stop_gradient(fnp.where((big > 0) & (big < np.inf), big, 1.0))



def cosine(x1: Array, x2: Array, axis: Axis, floor: float, where: ArrayLike | None = None) -> Array:
    """``sum(x1 x2) / (max(|x1|, floor) max(|x2|, floor))`` along ``axis`` (over the
    entries ``where`` marks; ``x1`` and ``x2`` of one shape), right wherever it is
    representable: each vector is divided by its ``magnitude`` ``s`` first, so that no square
    or product overflows or underflows, and the quotient is
    ``sum(y1 y2 f1 f2)`` for ``y = x / s`` and ``f = s / max(s |y|, floor)``. With ``floor``
    0 a zero vector gives NaN (0 / 0); with a positive one, 0; derivatives are finite
    elsewhere, at every order."""
    mask = True if where is None else where
    terms = []
    for x in (x1, x2):
        s = magnitude(x, axis, where)
        y = x / s
        squared = fnp.sum(y * y, axis=axis, keepdims=True, where=mask)
        some = squared > 0  # (sqrt has no derivative at 0: that branch is not taken there)
        n = fnp.sqrt(fnp.where(some, squared, 1.0))
        clamped = s / floor if floor > 0 else np.inf
        terms.append(y * fnp.where(some & (s * n > floor), 1.0 / n, clamped))
    return fnp.sum(terms[0] * terms[1], axis=axis, where=mask)
