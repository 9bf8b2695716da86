"""Loss functions as plain functions ``loss(prediction, target, ...) -> scalar``.

Conventions follow PyTorch: the class axis of ``cross_entropy`` and ``nll`` is axis 1 (axis 0
for a single unbatched example), and every loss takes ``reduction="mean"`` (default),
``"sum"`` or ``"none"`` (one value per element, or per example for the classification
losses). The losses of two same-shape arrays (regression, ``kl_div``, the binary cross
entropies, ``cosine_similarity``) compute float16 inputs in float32 (where squares of errors
past 256 do not overflow) and give the loss back in float16.

Example:
    >>> import numpy as np
    >>> from functrans import nn
    >>> float(nn.mse(np.array([1.0, 2.0]), np.array([1.0, 4.0])))
    2.0
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

import functrans.numpy as fnp
from functrans._abstract import broadcasts_to, python_number
from functrans.backend import NUMPY, array_module, backend_of
from functrans.core.trace import Tracer
from functrans.errors import TracerConversionError
from functrans.scipy._nn_math import cosine as _cosine
from functrans.scipy._nn_math import logaddexp0 as _logaddexp0
from functrans.scipy._nn_math import shifted_logsumexp as _shifted_logsumexp
from functrans.typing import Array, ArrayLike

__all__ = ["binary_cross_entropy", "binary_cross_entropy_with_logits", "cosine_similarity",
           "cross_entropy", "huber", "kl_div", "l1", "mse", "nll", "smooth_l1"]

_REDUCTIONS = ("mean", "sum", "none")


def _reduce(values: Array, reduction: str, fn: str) -> Array:
    if reduction == "mean":
        return fnp.mean(values)
    if reduction == "sum":
        return fnp.sum(values)
    if reduction == "none":
        return values
    raise ValueError(f"{fn}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")


def _pair(prediction: ArrayLike, target: ArrayLike, fn: str) -> tuple[Array, Array]:
    """The two arrays, half precision widened to float32 (see ``_half_back``)."""
    prediction, target = fnp.asarray(prediction), fnp.asarray(target)
    if fnp.shape(prediction) != fnp.shape(target):
        raise ValueError(f"{fn}: prediction and target must have the same shape, got "
                         f"{fnp.shape(prediction)} and {fnp.shape(target)}")
    return _in_float32(prediction), _in_float32(target)


def _is_half(x: Array) -> bool:
    dtype = fnp.result_type(x)
    return dtype.kind == "f" and dtype.itemsize < 4


def _in_float32(x: Array) -> Array:
    """Half-precision ``x`` as float32: a float16 loss is computed in float32, where the
    squares of errors past 256 and the sums of many terms do not overflow."""
    return fnp.astype(x, np.float32) if _is_half(x) else x


def _half_back(loss: Array, *inputs: Array) -> Array:
    """``loss`` in the inputs' half-precision dtype if they all have one (else as it is)."""
    if inputs and all(_is_half(x) for x in inputs):
        return fnp.astype(loss, fnp.result_type(*inputs))
    return loss


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
    given = prediction, target
    prediction, target = _pair(prediction, target, "mse")
    d = prediction - target
    return _half_back(_reduce(d * d, reduction, "mse"), *given)


def l1(prediction: ArrayLike, target: ArrayLike, reduction: str = "mean") -> Array:
    """Mean absolute error, ``mean(|prediction - target|)`` (derivative 0 where equal).

    Example:
        >>> import numpy as np
        >>> from functrans import nn
        >>> float(nn.l1(np.array([0.0, 3.0]), np.array([1.0, 1.0])))
        1.5
    """
    given = prediction, target
    prediction, target = _pair(prediction, target, "l1")
    return _half_back(_reduce(fnp.abs(prediction - target), reduction, "l1"), *given)


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
    delta = python_number(delta)
    if not delta > 0:
        raise ValueError(f"huber: delta must be > 0, got {delta!r}")
    given = prediction, target
    prediction, target = _pair(prediction, target, "huber")
    d = prediction - target
    a = fnp.abs(d)
    small = a < delta
    # Each branch only sees values where it is used, so neither can produce inf/nan.
    quadratic = 0.5 * d * d
    linear = delta * (a - 0.5 * delta)
    return _half_back(_reduce(fnp.where(small, quadratic, linear), reduction, "huber"), *given)


def smooth_l1(prediction: ArrayLike, target: ArrayLike, beta: float = 1.0,
              reduction: str = "mean") -> Array:
    """PyTorch's ``smooth_l1_loss``: ``d**2 / (2 beta)`` where ``|d| < beta``, else
    ``|d| - beta / 2``, with ``d = prediction - target``; ``huber(..., delta=beta) / beta``, and
    ``l1`` for ``beta = 0``.

    Raises:
        ValueError: ``beta < 0``, different shapes, or an unknown reduction.

    Example:
        >>> import numpy as np
        >>> from functrans import nn
        >>> nn.smooth_l1(np.array([0.5, 3.0]), np.zeros(2), reduction="none")
        array([0.125, 2.5  ])
    """
    beta = python_number(beta)
    if not beta >= 0:
        raise ValueError(f"smooth_l1: beta must be >= 0, got {beta!r}")
    given = prediction, target
    prediction, target = _pair(prediction, target, "smooth_l1")
    d = prediction - target
    a = fnp.abs(d)
    if beta == 0:
        return _half_back(_reduce(a, reduction, "smooth_l1"), *given)
    loss = _reduce(fnp.where(a < beta, (0.5 / beta) * (d * d), a - 0.5 * beta), reduction,
                   "smooth_l1")
    return _half_back(loss, *given)


def kl_div(log_probs: ArrayLike, target: ArrayLike, reduction: str = "mean",
           log_target: bool = False) -> Array:
    """PyTorch's ``kl_div``: the pointwise ``target * (log(target) - log_probs)``, the
    divergence ``KL(target || exp(log_probs))`` once summed over the classes.

    The input is log-probabilities; the target is probabilities (log-probabilities with
    ``log_target=True``). Where the target is 0 (``-inf`` with ``log_target``) the term is 0
    (``0 log 0 = 0``), with derivative 0, also where ``log_probs`` is ``-inf``; a negative
    target gives NaN.

    Args:
        log_probs: Log-probabilities, any shape.
        target: The target distribution, same shape.
        reduction: ``"mean"`` (over every element, PyTorch's default), ``"batchmean"`` (the
            sum divided by the size of the first axis: the mean divergence per example,
            which is the KL divergence), ``"sum"`` or ``"none"``.
        log_target: The target is given as log-probabilities.

    Returns:
        The loss.

    Raises:
        ValueError: different shapes or an unknown reduction.

    Example:
        >>> import numpy as np
        >>> from functrans import nn
        >>> p = np.array([[0.5, 0.5, 0.0]])
        >>> q = np.array([[0.25, 0.25, 0.5]])
        >>> round(float(nn.kl_div(np.log(q), p, reduction="batchmean")), 6)   # log 2
        0.693147
    """
    given = log_probs, target
    log_probs, target = _pair(log_probs, target, "kl_div")
    if log_target:  # a target of -inf is the probability 0: its term is 0 too
        present = target > -math.inf
        safe = fnp.where(present, target, 0)
        values = fnp.where(present, fnp.exp(safe) * (safe - fnp.where(present, log_probs, 0)), 0)
    else:
        positive = target > 0
        safe = fnp.where(positive, target, 1)
        inner = fnp.where(positive, log_probs, 0)  # a -inf log-probability where t = 0
        rest = fnp.where(target == 0, fnp.zeros_like(safe), math.nan)  # in the target's dtype
        values = fnp.where(positive, target * (fnp.log(safe) - inner), rest)
    if reduction == "batchmean":
        n = fnp.shape(values)[0] if fnp.ndim(values) else 1
        total = fnp.sum(values) / n if n else fnp.sum(values) * math.nan  # no rows: NaN
        return _half_back(total, *given)
    if reduction not in _REDUCTIONS:
        raise ValueError(f"kl_div: reduction must be one of {_REDUCTIONS + ('batchmean',)}, "
                         f"got {reduction!r}")
    return _half_back(_reduce(values, reduction, "kl_div"), *given)


def cosine_similarity(x1: ArrayLike, x2: ArrayLike, axis: int = 1, eps: float = 1e-8) -> Array:
    """PyTorch's ``cosine_similarity``: ``sum(x1 * x2) / (max(|x1|, eps) * max(|x2|, eps))``
    along ``axis`` (the inputs broadcast against each other).

    A vector of norm below ``eps`` (a zero vector, say) counts as having norm ``eps``, so the
    similarity is finite (0 for a zero vector) and so is its derivative, at every order.

    Raises:
        ValueError: ``eps`` is not positive.

    Example:
        >>> import numpy as np
        >>> from functrans import nn
        >>> nn.cosine_similarity(np.array([[1.0, 0.0], [0.0, 0.0]]), np.array([[1.0, 1.0], [1.0, 0.0]]))
        array([0.70710678, 0.        ])
    """
    eps = python_number(eps)
    if not eps > 0:
        raise ValueError(f"cosine_similarity: eps must be > 0, got {eps!r}")
    given = x1, x2 = fnp.asarray(x1), fnp.asarray(x2)
    x1, x2 = fnp.broadcast_arrays(_in_float32(x1), _in_float32(x2))
    return _half_back(_cosine(x1, x2, axis, eps), *given)


def _class_axis(ndim: int, fn: str) -> int:
    if ndim == 0:
        raise ValueError(f"{fn}: input must have a class axis: shape (C,), (N, C) or "
                         f"(N, C, d1, ...)")
    return 0 if ndim == 1 else 1


def _integer_labels(labels: Array, fn: str) -> None:
    if not np.issubdtype(labels.dtype, np.integer):
        raise TypeError(f"{fn}: integer class labels expected, got dtype {labels.dtype}; give "
                        f"class probabilities with the input's shape for soft targets")


def _check_labels(logits_shape: tuple, labels_shape: tuple, axis: int, fn: str) -> None:
    expected = logits_shape[:axis] + logits_shape[axis + 1:]
    if labels_shape != expected:
        raise ValueError(f"{fn}: integer labels must have shape {expected} for an input of "
                         f"shape {logits_shape} (classes on axis {axis}), got {labels_shape}")
    if logits_shape[axis] == 0:
        raise ValueError(f"{fn}: the input has no classes (axis {axis} of shape "
                         f"{logits_shape} has length 0); integer labels need at least one")


def _host_labels(labels: Any) -> Any:
    """The labels as a host NumPy array when their values can be read without cost: a NumPy
    array, or a tracer of ``grad``/``jvp`` over one. ``None`` for labels that are abstract
    (under ``jit`` or ``vmap``) or live on a device, where reading them would wait for it."""
    if isinstance(labels, Tracer):
        try:
            labels = labels.to_concrete()
        except TracerConversionError:
            return None
    return labels if backend_of(labels) is NUMPY else None


def _position(flags: Any) -> tuple[int, ...]:
    """The index of the first True of a host boolean array (``()`` for a 0-d one)."""
    xp = array_module(flags)
    flat = int(flags.reshape(-1).argmax())
    return tuple(int(i) for i in xp.unravel_index(flat, flags.shape))


class _Labels:
    """Integer labels made ready for the loss from the labels alone: one test per position,
    never a pass over the classes. Every array has the labels' shape with a class axis of
    length 1 inserted at ``axis``, the shape of the per-position loss before it is squeezed.

    ``index``: the labels with each entry a class (an ignored label, or one outside the
    classes, replaced by some class), so that a gather along ``axis`` is always in range.
    ``keep``: False where a label equals ``ignore_index`` (``None`` when no position is
    ignored). ``hit``: whether a kept label is a class (``None`` when the labels were checked;
    under ``jit``/``vmap`` or on a device they are not read, and a position neither hit nor
    kept gets the loss NaN)."""

    __slots__ = ("hit", "index", "keep")

    def __init__(self, labels: Array, num_classes: int, axis: int, ignore_index: int,
                 fn: str) -> None:
        host = _host_labels(labels)
        self.keep: Any = None
        self.hit: Any = None
        ignore_is_a_class = 0 <= ignore_index < num_classes
        if host is None:  # abstract or on a device: mark the positions, read nothing
            info = np.iinfo(labels.dtype)
            if info.max < num_classes or info.min > ignore_index:  # (uint8 and -100, say)
                labels = fnp.astype(labels, np.int64)  # the arithmetic below needs the room
            labels = fnp.expand_dims(labels, axis)
            self.index = labels % num_classes  # a class for every integer
            self.hit = self.index == labels  # the label is a class
            self.keep = labels != ignore_index
            if ignore_is_a_class:
                self.hit = fnp.logical_and(self.hit, self.keep)
            return
        xp = array_module(host)
        self.index = xp.expand_dims(host, axis)
        if host.size == 0:
            return
        if host.min() >= 0 and host.max() < num_classes and not ignore_is_a_class:
            return  # the common case: every label is a class, none ignored
        keep = host != ignore_index
        bad = ((host < 0) | (host >= num_classes)) & keep
        if bad.any():
            position = _position(bad)
            where = f"target[{', '.join(map(str, position))}]" if position else "target"
            raise IndexError(f"{fn}: label {int(host[position])} at {where} is outside "
                             f"[0, {num_classes}) for an input with {num_classes} classes; "
                             f"labels must be class indices in [0, {num_classes}), or "
                             f"ignore_index={ignore_index} to leave a position out of the loss")
        if not keep.all():
            self.keep = xp.expand_dims(keep, axis)
            self.index = xp.where(self.keep, self.index, 0)

    def pick(self, x: Array, axis: int) -> Array:
        """The entries of ``x`` at the labels along ``axis`` (kept with length 1): a gather,
        one entry per position."""
        return fnp.take_along_axis(x, self.index, axis=axis)

    def mask(self, values: Array) -> Array:
        """``values`` (one per position) with ignored positions 0 and, unless the labels were
        checked, NaN where a label is not a class."""
        if self.keep is None:
            return values
        if self.hit is None:
            return fnp.where(self.keep, values, 0)
        scalar = fnp.result_type(values).type  # the fill keeps the values' dtype
        return fnp.where(self.hit, values, fnp.where(self.keep, scalar(math.nan), scalar(0)))

    def reduce(self, values: Array, axis: int, reduction: str, fn: str,
               weights: Array | None = None) -> Array:
        """The masked ``values`` reduced (``"none"``: without the class axis); the mean runs
        over the positions not ignored, or, given the class weight of each position's label
        (``weights``), is the sum divided by those weights' sum over them (PyTorch's)."""
        if reduction == "none":
            return fnp.squeeze(values, axis=axis)
        if weights is not None and reduction == "mean":
            total = fnp.sum(values)
            if self.keep is not None:
                weights = fnp.where(self.keep, weights, 0)
            weight_sum = fnp.sum(weights)
            # no weight left (every position ignored): NaN, as PyTorch, without a warning
            return total / fnp.where(weight_sum != 0, weight_sum, math.nan)
        if self.keep is None or reduction != "mean":
            return _reduce(values, reduction, fn)
        total = fnp.sum(values)
        if self.hit is None:  # checked host labels: the count is a number
            count = int(self.keep.sum())
            return total / count if count else total * math.nan  # none left: NaN, as PyTorch
        count = fnp.astype(fnp.sum(self.keep), total.dtype)
        # none left: NaN, as PyTorch, without a warning of a division by zero (here, nor in
        # the derivative)
        return total / fnp.where(count > 0, count, math.nan)


def _class_weights(weight: ArrayLike, x: Array, axis: int, fn: str) -> Array:
    """The per-class ``weight`` as an array of ``x``'s dtype (a weight of another precision
    would change the loss's) shaped to broadcast along the class axis of ``x``."""
    weight = fnp.asarray(weight)
    num_classes = fnp.shape(x)[axis]
    if fnp.shape(weight) != (num_classes,):
        raise ValueError(f"{fn}: weight must have one entry per class, shape ({num_classes},), "
                         f"got {fnp.shape(weight)}")
    weight = fnp.astype(weight, fnp.result_type(x))
    return fnp.reshape(weight, tuple(num_classes if i == axis else 1 for i in range(fnp.ndim(x))))


def nll(log_probs: ArrayLike, target: ArrayLike, reduction: str = "mean",
        ignore_index: int = -100, *, weight: ArrayLike | None = None) -> Array:
    """Negative log-likelihood of integer labels, ``-log_probs[n, target[n]]``.

    Positions whose label is ``ignore_index`` add nothing, and the mean runs over the other
    positions (PyTorch's ``ignore_index``). Under ``jit`` and ``vmap``, and for labels on a
    GPU, the labels' values are not read: a position with a label outside ``[0, C)`` then
    gets the loss NaN, so the mistake shows in the result instead of raising.

    Args:
        log_probs: Log-probabilities of shape ``(C,)``, ``(N, C)`` or ``(N, C, d1, ...)``.
        target: Integer labels, shape ``()``, ``(N,)`` or ``(N, d1, ...)``.
        reduction: ``"mean"``, ``"sum"`` or ``"none"``.
        ignore_index: The label of positions to leave out (0 in ``"none"``).
        weight: Optional weight of each class, shape ``(C,)``: position ``n`` counts
            ``weight[target[n]]`` times, and the mean divides by the sum of those weights
            (PyTorch's ``weight``).

    Returns:
        The loss.

    Raises:
        TypeError: labels are not integers.
        ValueError: mismatched shapes or an unknown reduction.
        IndexError: a label outside ``[0, C)`` other than ``ignore_index`` (the message names
            it and its position).

    Example:
        >>> import numpy as np
        >>> from functrans import nn
        >>> log_probs = np.log(np.array([[0.5, 0.5], [0.25, 0.75]]))
        >>> round(float(nn.nll(log_probs, np.array([0, 1]))), 6)
        0.490415
        >>> round(float(nn.nll(log_probs, np.array([0, -100]))), 6)   # the second is ignored
        0.693147
    """
    log_probs = fnp.asarray(log_probs)
    axis = _class_axis(fnp.ndim(log_probs), "nll")
    _check_labels(fnp.shape(log_probs), fnp.shape(target), axis, "nll")
    target = fnp.asarray(target)
    _integer_labels(target, "nll")
    labels = _Labels(target, fnp.shape(log_probs)[axis], axis, ignore_index, "nll")
    picked = labels.pick(log_probs, axis)
    if weight is None:
        return labels.reduce(labels.mask(-picked), axis, reduction, "nll")
    w = labels.pick(_class_weights(weight, log_probs, axis, "nll"), axis)
    return labels.reduce(labels.mask(-w * picked), axis, reduction, "nll", weights=w)


def cross_entropy(logits: ArrayLike, target: ArrayLike, label_smoothing: float = 0.0,
                  reduction: str = "mean", ignore_index: int = -100, *,
                  weight: ArrayLike | None = None) -> Array:
    """Cross entropy between ``softmax(logits)`` (over the class axis) and the target,
    PyTorch's ``cross_entropy``.

    With integer labels this is ``-log_softmax(logits)[n, target[n]]``; with class
    probabilities (same shape as ``logits``) it is ``-sum_c target_c log_softmax(logits)_c``.
    Label smoothing ``e`` replaces the target distribution by ``(1 - e) * target + e / C``.
    With integer labels, positions whose label is ``ignore_index`` add nothing and the mean
    runs over the other positions (PyTorch's ``ignore_index``).

    Class weights ``w`` follow PyTorch: with integer labels the loss of position ``n`` is
    ``(1 - e) w[t_n] (lse_n - x_n[t_n]) + e / C sum_c w_c (lse_n - x_n[c])`` (``lse`` the
    log-sum-exp of the logits) and the mean divides the sum by ``sum_n w[t_n]`` over the
    positions not ignored; with probabilities each class's term is multiplied by ``w_c`` and
    the mean is over positions. Under ``jit`` and ``vmap``,
    and for labels on a GPU, the labels' values are not read: a position with a label outside
    ``[0, C)`` then gets the loss NaN, so the mistake shows in the result instead of raising.

    Args:
        logits: Shape ``(C,)``, ``(N, C)`` or ``(N, C, d1, ...)``.
        target: Integer labels (the input's shape without the class axis) or probabilities
            (the input's shape).
        label_smoothing: ``e`` in ``[0, 1]``.
        reduction: ``"mean"`` (over examples), ``"sum"`` or ``"none"``.
        ignore_index: The label of positions to leave out (integer labels only; 0 in
            ``"none"``).
        weight: Optional weight of each class, shape ``(C,)`` (PyTorch's ``weight``), made
            the logits' dtype.

    Returns:
        The loss.

    Raises:
        TypeError: integer-shaped target with a non-integer dtype.
        ValueError: mismatched shapes, ``label_smoothing`` outside ``[0, 1]``, or an unknown
            reduction.
        IndexError: a label outside ``[0, C)`` other than ``ignore_index`` (the message names
            it and its position).

    Example:
        >>> import numpy as np
        >>> from functrans import nn
        >>> logits = np.array([[2.0, 0.0], [0.0, 0.0]])
        >>> round(float(nn.cross_entropy(logits, np.array([0, 1]))), 6)
        0.410038
        >>> round(float(nn.cross_entropy(logits, np.array([[1.0, 0.0], [0.0, 1.0]]))), 6)
        0.410038
        >>> nn.cross_entropy(logits, np.array([0, 2]))
        Traceback (most recent call last):
        ...
        IndexError: cross_entropy: label 2 at target[1] is outside [0, 2) for an input with 2 classes; ...
    """
    label_smoothing = python_number(label_smoothing)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got "
                         f"{label_smoothing!r}")
    logits = fnp.asarray(logits)
    axis = _class_axis(fnp.ndim(logits), "cross_entropy")
    num_classes = fnp.shape(logits)[axis]
    target = fnp.asarray(target)
    w = None if weight is None else _class_weights(weight, logits, axis, "cross_entropy")
    if fnp.shape(target) == fnp.shape(logits) and not np.issubdtype(target.dtype, np.integer):
        if ignore_index >= 0:  # it would be left unused
            raise ValueError(f"cross_entropy: ignore_index ({ignore_index}) is for integer "
                             f"labels; the target here holds class probabilities. Give the "
                             f"positions to leave out probability 0 (or integer labels).")
        return _cross_entropy_probs(logits, target, axis, label_smoothing, reduction, w)
    if fnp.ndim(target) == fnp.ndim(logits) and not np.issubdtype(target.dtype, np.integer):
        raise ValueError(f"cross_entropy: class probabilities must have the input's shape "
                         f"{fnp.shape(logits)}, got {fnp.shape(target)}; integer labels have "
                         f"the input's shape without the class axis")
    _check_labels(fnp.shape(logits), fnp.shape(target), axis, "cross_entropy")
    _integer_labels(target, "cross_entropy")
    labels = _Labels(target, num_classes, axis, ignore_index, "cross_entropy")
    # -log_softmax(x)_t = logsumexp(x) - x_t: the label's logit is gathered, one entry per
    # position, and the log-softmax itself is never formed.
    lse = _shifted_logsumexp(logits, axis)
    picked = labels.pick(logits, axis)
    if w is not None:
        return _weighted_cross_entropy(logits, labels, lse, picked, w, axis, label_smoothing,
                                       reduction)
    if label_smoothing:
        # The target (1 - e) one_hot(t) + e / C gives (1 - e) x_t + e mean_c(x_c) in place of
        # x_t (its rows sum to 1, so logsumexp keeps weight 1).
        mean = fnp.mean(logits, axis=axis, keepdims=True)
        if label_smoothing == 1.0:  # x_t has weight 0: left out, so an infinite x_t is too
            picked = mean
        else:
            picked = (1.0 - label_smoothing) * picked + label_smoothing * mean
    return labels.reduce(labels.mask(lse - picked), axis, reduction, "cross_entropy")


def _weighted_cross_entropy(logits: Array, labels: _Labels, lse: Array, picked: Array,
                            w: Array, axis: int, label_smoothing: float, reduction: str) -> Array:
    """``cross_entropy`` of integer labels with class weights ``w`` (shaped along ``axis``):
    the label's term weighted by its class's weight, the smoothing term ``e / C`` times the
    weighted sum over the classes, and the mean divided by the labels' weights (PyTorch)."""
    w_t = labels.pick(w, axis)
    values = w_t * (lse - picked)
    if label_smoothing:
        num_classes = fnp.shape(logits)[axis]
        smooth = lse * fnp.sum(w) - fnp.sum(w * logits, axis=axis, keepdims=True)
        scale = label_smoothing / num_classes
        # e = 1: the label's term has weight 0 and is left out, so an infinite x_t is too
        values = scale * smooth if label_smoothing == 1.0 else \
            (1.0 - label_smoothing) * values + scale * smooth
    return labels.reduce(labels.mask(values), axis, reduction, "cross_entropy", weights=w_t)


def _cross_entropy_probs(logits: Array, probs: Array, axis: int, label_smoothing: float,
                         reduction: str, w: Array | None = None) -> Array:
    """``cross_entropy`` with class probabilities as the target (each class's term times
    its weight in ``w``, if given)."""
    num_classes = fnp.shape(logits)[axis]
    if label_smoothing:
        probs = probs * (1.0 - label_smoothing) + label_smoothing / num_classes
    if w is not None:
        probs = probs * w
    total = fnp.sum(probs, axis=axis, keepdims=True)  # of the smoothed target (1 if p sums to 1)
    # -sum_c p_c log_softmax(x)_c = logsumexp(x) * sum_c p_c - sum_c p_c x_c: the log-softmax
    # itself is never formed, which saves a pass over the logits.
    values = _shifted_logsumexp(logits, axis) * total - fnp.sum(probs * logits, axis=axis,
                                                                 keepdims=True)
    if reduction == "none":
        values = fnp.squeeze(values, axis=axis)
    return _reduce(values, reduction, "cross_entropy")


_LOG_FLOOR = -100.0
_EXP_LOG_FLOOR = math.exp(_LOG_FLOOR)


def _log_clamped(x: Array) -> Array:
    """``max(log(x), -100)`` whose derivative is 0 where it is clamped, never ``0 * inf``:
    the log only sees values above the floor (the others are replaced by 1 before it)."""
    above = x > _EXP_LOG_FLOOR
    return fnp.where(above, fnp.log(fnp.where(above, x, 1.0)), _LOG_FLOOR)


def _elementwise_weight(weight: ArrayLike, x: Array, name: str, fn: str) -> Array:
    """``weight`` as an array of ``x``'s dtype (a weight of another precision would change the
    loss's) that broadcasts to ``x``'s shape: a larger one would broadcast the loss itself, and
    its mean would run over the wrong number of entries."""
    weight = fnp.asarray(weight)
    shape = tuple(fnp.shape(x))
    if not broadcasts_to(fnp.shape(weight), shape):
        raise ValueError(f"{fn}: {name} of shape {tuple(fnp.shape(weight))} must broadcast to "
                         f"the input's shape {shape} (one weight per entry, or a shape such as "
                         f"({shape[-1] if shape else 1},) repeated along the leading axes)")
    return fnp.astype(weight, fnp.result_type(x))


def binary_cross_entropy(probs: ArrayLike, target: ArrayLike,
                         weight: ArrayLike | None = None, reduction: str = "mean") -> Array:
    """``-(t log p + (1 - t) log(1 - p))`` for probabilities ``p``, with each log clamped at
    -100 as PyTorch does, so ``p = 0`` or ``1`` (``sigmoid(20.)`` in float32 rounds to 1)
    gives a finite loss and a finite gradient: a clamped log contributes derivative 0. Prefer
    [`binary_cross_entropy_with_logits`][functrans.nn.binary_cross_entropy_with_logits] when you have logits:
    it is more accurate.

    Probabilities outside ``[0, 1]`` raise ``ValueError`` (as in PyTorch) when their values can
    be read; under ``jit`` and ``vmap``, and on a GPU, they are not read and give the loss NaN,
    as a NaN probability does everywhere (the clamp would otherwise hide both).

    ``weight`` rescales each entry's loss; it must broadcast to the input's shape (PyTorch's
    rule) and is taken in the input's dtype.

    Example:
        >>> import numpy as np
        >>> from functrans import nn
        >>> round(float(nn.binary_cross_entropy(np.array([0.8]), np.array([1.0]))), 6)
        0.223144
    """
    given = probs, target
    probs, target = _pair(probs, target, "binary_cross_entropy")
    host = _host_labels(probs)
    if host is not None:
        outside = (host < 0) | (host > 1)
        if outside.any():
            position = _position(outside)
            where = f"[{', '.join(map(str, position))}]" if position else ""
            raise ValueError(f"binary_cross_entropy: the probability {float(host[position])!r} "
                             f"at input{where} is outside [0, 1]; for logits use "
                             f"binary_cross_entropy_with_logits")
    log_p = _log_clamped(probs)
    log_1mp = _log_clamped(1.0 - probs)
    values = -(target * log_p + (1.0 - target) * log_1mp)
    inside = fnp.logical_and(probs >= 0, probs <= 1)  # False for NaN too
    values = fnp.where(inside, values, math.nan)
    if weight is not None:
        values = values * _elementwise_weight(weight, values, "weight", "binary_cross_entropy")
    return _half_back(_reduce(values, reduction, "binary_cross_entropy"), *given)


def binary_cross_entropy_with_logits(logits: ArrayLike, target: ArrayLike,
                                     pos_weight: ArrayLike | None = None,
                                     reduction: str = "mean") -> Array:
    """Binary cross entropy of ``sigmoid(logits)``, computed stably as
    ``(1 - t) x + (1 + (w - 1) t) softplus(-x)`` (``w`` the positive-class weight, 1 by
    default), PyTorch's ``binary_cross_entropy_with_logits``. ``pos_weight`` must broadcast to
    the input's shape (``(C,)`` for ``(N, C)`` logits: one weight per class) and is taken in
    the input's dtype.

    Example:
        >>> import numpy as np
        >>> from functrans import nn
        >>> round(float(nn.binary_cross_entropy_with_logits(np.array([0.0]), np.array([1.0]))), 6)
        0.693147
    """
    given = logits, target
    x, t = _pair(logits, target, "binary_cross_entropy_with_logits")
    softplus_neg = _logaddexp0(-x)
    if pos_weight is None:
        values = (1.0 - t) * x + softplus_neg
    else:
        w = _elementwise_weight(pos_weight, x, "pos_weight", "binary_cross_entropy_with_logits")
        values = (1.0 - t) * x + (1.0 + (w - 1.0) * t) * softplus_neg
    return _half_back(_reduce(values, reduction, "binary_cross_entropy_with_logits"), *given)
