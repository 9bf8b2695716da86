"""Loss functions as plain functions ``loss(prediction, target, ...) -> scalar``.

Conventions follow PyTorch: the class axis of ``cross_entropy`` and ``nll`` is axis 1 (axis 0
for a single unbatched example), and every loss takes ``reduction="mean"`` (default),
``"sum"`` or ``"none"`` (one value per element, or per example for the classification
losses).

Example:
    >>> import numpy as np
    >>> from functrans import nn
    >>> float(nn.mse(np.array([1.0, 2.0]), np.array([1.0, 4.0])))
    2.0
"""
from __future__ import annotations

from typing import Any

import numpy as np

import functrans.numpy as fnp
from functrans.backend import array_module, backend_of
from functrans.core.trace import Tracer
from functrans.nn.activations import _logaddexp0, _shifted_logsumexp
from functrans.typing import Array, ArrayLike

__all__ = ["binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy", "huber",
           "l1", "mse", "nll"]

_REDUCTIONS = ("mean", "sum", "none")


def _arange(xp: Any, n: int, shape: tuple[int, ...]) -> Array:
    return xp.arange(n).reshape(shape)


def _reduce(values: Array, reduction: str, fn: str) -> Array:
    if reduction == "mean":
        return fnp.mean(values)
    if reduction == "sum":
        return fnp.sum(values)
    if reduction == "none":
        return values
    raise ValueError(f"{fn}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")


def _pair(prediction: ArrayLike, target: ArrayLike, fn: str) -> tuple[Array, Array]:
    prediction, target = fnp.asarray(prediction), fnp.asarray(target)
    if fnp.shape(prediction) != fnp.shape(target):
        raise ValueError(f"{fn}: prediction and target must have the same shape, got "
                         f"{fnp.shape(prediction)} and {fnp.shape(target)}")
    return prediction, target


def mse(prediction: ArrayLike, target: ArrayLike, reduction: str = "mean") -> Array:
    """Mean squared error, ``mean((prediction - target)**2)``.

    Raises:
        ValueError: different shapes (broadcasting is refused: it hides bugs), or an unknown
            reduction.

    Example:
        >>> import numpy as np
        >>> from functrans import nn
        >>> nn.mse(np.array([0.0, 1.0]), np.array([1.0, 1.0]), reduction="none")
        array([1., 0.])
    """
    prediction, target = _pair(prediction, target, "mse")
    d = prediction - target
    return _reduce(d * d, reduction, "mse")


def l1(prediction: ArrayLike, target: ArrayLike, reduction: str = "mean") -> Array:
    """Mean absolute error, ``mean(|prediction - target|)`` (derivative 0 where equal).

    Example:
        >>> import numpy as np
        >>> from functrans import nn
        >>> float(nn.l1(np.array([0.0, 3.0]), np.array([1.0, 1.0])))
        1.5
    """
    prediction, target = _pair(prediction, target, "l1")
    return _reduce(fnp.abs(prediction - target), reduction, "l1")


def huber(prediction: ArrayLike, target: ArrayLike, delta: float = 1.0,
          reduction: str = "mean") -> Array:
    """Huber loss: ``d**2 / 2`` where ``|d| < delta``, else ``delta * (|d| - delta / 2)``, with
    ``d = prediction - target``.

    Reference: Huber, "Robust estimation of a location parameter", 1964.

    Example:
        >>> import numpy as np
        >>> from functrans import nn
        >>> nn.huber(np.array([0.5, 3.0]), np.zeros(2), reduction="none")
        array([0.125, 2.5  ])
    """
    if not delta > 0:
        raise ValueError(f"huber: delta must be > 0, got {delta!r}")
    prediction, target = _pair(prediction, target, "huber")
    d = prediction - target
    a = fnp.abs(d)
    small = a < delta
    # Each branch only sees values where it is used, so neither can produce inf/nan.
    quadratic = 0.5 * d * d
    linear = delta * (a - 0.5 * delta)
    return _reduce(fnp.where(small, quadratic, linear), reduction, "huber")


def _class_axis(ndim: int, fn: str) -> int:
    if ndim == 0:
        raise ValueError(f"{fn}: input must have a class axis: shape (C,), (N, C) or "
                         f"(N, C, d1, ...)")
    return 0 if ndim == 1 else 1


def _one_hot(labels: ArrayLike, num_classes: int, axis: int, fn: str) -> Array:
    """One-hot booleans with the classes on ``axis``, from integer labels (a constant),
    made where the labels live (NumPy or CuPy)."""
    labels = fnp.asarray(labels)
    if not np.issubdtype(labels.dtype, np.integer):
        raise TypeError(f"{fn}: integer class labels expected, got dtype {labels.dtype}; give "
                        f"class probabilities with the input's shape for soft targets")
    shape = [1] * (fnp.ndim(labels) + 1)
    shape[axis] = num_classes
    if isinstance(labels, Tracer):  # labels under vmap/jit: stay with traced operations
        classes = fnp.reshape(fnp.arange(num_classes, like=labels), tuple(shape))  # labels' device
        return fnp.expand_dims(labels, axis) == classes
    classes = backend_of(labels).make_like(labels, _arange, num_classes, tuple(shape))
    return array_module(labels).expand_dims(labels, axis) == classes


def _check_labels(logits_shape: tuple, labels_shape: tuple, axis: int, fn: str) -> None:
    expected = logits_shape[:axis] + logits_shape[axis + 1:]
    if labels_shape != expected:
        raise ValueError(f"{fn}: integer labels must have shape {expected} for an input of "
                         f"shape {logits_shape} (classes on axis {axis}), got {labels_shape}")


def nll(log_probs: ArrayLike, target: ArrayLike, reduction: str = "mean") -> Array:
    """Negative log-likelihood of integer labels, ``-log_probs[n, target[n]]``.

    Args:
        log_probs: Log-probabilities of shape ``(C,)``, ``(N, C)`` or ``(N, C, d1, ...)``.
        target: Integer labels, shape ``()``, ``(N,)`` or ``(N, d1, ...)``.
        reduction: ``"mean"``, ``"sum"`` or ``"none"``.

    Returns:
        The loss.

    Raises:
        TypeError: labels are not integers.
        ValueError: mismatched shapes or an unknown reduction.

    Example:
        >>> import numpy as np
        >>> from functrans import nn
        >>> float(nn.nll(np.log(np.array([[0.5, 0.5], [0.25, 0.75]])), np.array([0, 1])))
        ... # doctest: +ELLIPSIS
        0.49041...
    """
    log_probs = fnp.asarray(log_probs)
    axis = _class_axis(fnp.ndim(log_probs), "nll")
    _check_labels(fnp.shape(log_probs), fnp.shape(target), axis, "nll")
    one_hot = _one_hot(target, fnp.shape(log_probs)[axis], axis, "nll")
    picked = fnp.sum(fnp.where(one_hot, log_probs, 0), axis=axis)
    return _reduce(-picked, reduction, "nll")


def cross_entropy(logits: ArrayLike, target: ArrayLike, label_smoothing: float = 0.0,
                  reduction: str = "mean") -> Array:
    """Cross entropy between ``softmax(logits)`` (over the class axis) and the target,
    PyTorch's ``cross_entropy``.

    With integer labels this is ``-log_softmax(logits)[n, target[n]]``; with class
    probabilities (same shape as ``logits``) it is ``-sum_c target_c log_softmax(logits)_c``.
    Label smoothing ``e`` replaces the target distribution by ``(1 - e) * target + e / C``.

    Args:
        logits: Shape ``(C,)``, ``(N, C)`` or ``(N, C, d1, ...)``.
        target: Integer labels (the input's shape without the class axis) or probabilities
            (the input's shape).
        label_smoothing: ``e`` in ``[0, 1]``.
        reduction: ``"mean"`` (over examples), ``"sum"`` or ``"none"``.

    Returns:
        The loss.

    Raises:
        TypeError: integer-shaped target with a non-integer dtype.
        ValueError: mismatched shapes, ``label_smoothing`` outside ``[0, 1]``, or an unknown
            reduction.

    Example:
        >>> import numpy as np
        >>> from functrans import nn
        >>> logits = np.array([[2.0, 0.0], [0.0, 0.0]])
        >>> round(float(nn.cross_entropy(logits, np.array([0, 1]))), 6)
        0.410038
        >>> round(float(nn.cross_entropy(logits, np.array([[1.0, 0.0], [0.0, 1.0]]))), 6)
        0.410038
    """
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got "
                         f"{label_smoothing!r}")
    logits = fnp.asarray(logits)
    axis = _class_axis(fnp.ndim(logits), "cross_entropy")
    num_classes = fnp.shape(logits)[axis]
    target = fnp.asarray(target)
    if fnp.shape(target) == fnp.shape(logits) and not np.issubdtype(target.dtype, np.integer):
        probs = target
        total = fnp.sum(probs, axis=axis, keepdims=True)
    else:
        _check_labels(fnp.shape(logits), fnp.shape(target), axis, "cross_entropy")
        probs = _one_hot(target, num_classes, axis, "cross_entropy")
        total = None  # one-hot rows sum to 1
    if label_smoothing:
        probs = probs * (1.0 - label_smoothing) + label_smoothing / num_classes
    # -sum_c p_c log_softmax(x)_c = logsumexp(x) * sum_c p_c - sum_c p_c x_c: the log-softmax
    # itself is never formed, which saves a pass over the logits.
    lse = _shifted_logsumexp(logits, axis)
    picked = fnp.sum(fnp.where(probs, logits, 0) if probs.dtype == np.bool_ else probs * logits,
                     axis=axis, keepdims=True)
    values = (lse if total is None else lse * total) - picked
    if reduction == "none":
        values = fnp.squeeze(values, axis=axis)
    return _reduce(values, reduction, "cross_entropy")


def binary_cross_entropy(probs: ArrayLike, target: ArrayLike,
                         weight: ArrayLike | None = None, reduction: str = "mean") -> Array:
    """``-(t log p + (1 - t) log(1 - p))`` for probabilities ``p``, with each log clamped at
    -100 as PyTorch does (so ``p = 0`` or ``1`` gives a finite loss). Prefer
    :func:`binary_cross_entropy_with_logits` when you have logits: it is more accurate.

    Example:
        >>> import numpy as np
        >>> from functrans import nn
        >>> round(float(nn.binary_cross_entropy(np.array([0.8]), np.array([1.0]))), 6)
        0.223144
    """
    probs, target = _pair(probs, target, "binary_cross_entropy")
    log_p = fnp.maximum(fnp.log(probs), -100.0)
    log_1mp = fnp.maximum(fnp.log(1.0 - probs), -100.0)
    values = -(target * log_p + (1.0 - target) * log_1mp)
    if weight is not None:
        values = values * weight
    return _reduce(values, reduction, "binary_cross_entropy")


def binary_cross_entropy_with_logits(logits: ArrayLike, target: ArrayLike,
                                     pos_weight: ArrayLike | None = None,
                                     reduction: str = "mean") -> Array:
    """Binary cross entropy of ``sigmoid(logits)``, computed stably as
    ``(1 - t) x + (1 + (w - 1) t) softplus(-x)`` (``w`` the positive-class weight, 1 by
    default), PyTorch's ``binary_cross_entropy_with_logits``.

    Example:
        >>> import numpy as np
        >>> from functrans import nn
        >>> round(float(nn.binary_cross_entropy_with_logits(np.array([0.0]), np.array([1.0]))), 6)
        0.693147
    """
    x, t = _pair(logits, target, "binary_cross_entropy_with_logits")
    softplus_neg = _logaddexp0(-x)
    if pos_weight is None:
        values = (1.0 - t) * x + softplus_neg
    else:
        values = (1.0 - t) * x + (1.0 + (fnp.asarray(pos_weight) - 1.0) * t) * softplus_neg
    return _reduce(values, reduction, "binary_cross_entropy_with_logits")
