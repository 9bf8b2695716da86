"""optax's loss functions under optax's names and with its conventions: elementwise (or per
example) losses, no reduction, ``axis``/``where`` as optax has them, so that
``optax.losses.softmax_cross_entropy(logits, labels).mean()`` ports as
``optim.losses.softmax_cross_entropy(logits, labels).mean()``. PyTorch-style losses with a
``reduction`` are in [`functrans.nn`][functrans.nn] (``mse``, ``cross_entropy``, ...).

Example:
    >>> import numpy as np
    >>> from functrans import optim
    >>> logits = np.array([[2.0, 0.0], [0.0, 2.0]])
    >>> np.round(optim.losses.softmax_cross_entropy_with_integer_labels(logits, np.array([0, 0])), 4)
    array([0.1269, 2.1269])
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

import functrans.numpy as fnp
from functrans._abstract import broadcasts_to, dtype_of, shape_of
from functrans.core.trace import Tracer
from functrans.lax import scan
from functrans.scipy import _nn_math
from functrans.scipy._nn_math import log_sigmoid, one_hot
from functrans.scipy.special import logsumexp
from functrans.typing import Array, ArrayLike

__all__ = ["convex_kl_divergence", "cosine_distance", "cosine_similarity", "ctc_loss",
           "generalized_kl_divergence", "hinge_loss", "huber_loss", "kl_divergence",
           "kl_divergence_with_log_targets", "l2_loss", "log_cosh", "multiclass_hinge_loss",
           "multiclass_perceptron_loss", "perceptron_loss", "poly_loss_cross_entropy",
           "safe_softmax_cross_entropy", "sigmoid_binary_cross_entropy", "sigmoid_focal_loss",
           "smooth_labels", "softmax_cross_entropy",
           "softmax_cross_entropy_with_integer_labels", "squared_error"]

Axis = int | Sequence[int] | None


def _floating(x: ArrayLike, name: str, fn: str) -> Array:
    """``x`` as an array, refused unless of a floating dtype (as optax refuses it)."""
    x = fnp.asarray(x)
    if dtype_of(x).kind not in "fc":
        raise TypeError(f"functrans.optim.losses.{fn}: {name} must have a floating dtype, got "
                        f"{dtype_of(x)}; convert it, e.g. {name}.astype(np.float32)")
    return x


def _is_half(x: Array) -> bool:
    return dtype_of(x).kind == "f" and dtype_of(x).itemsize < 4


def _in_float32(x: Array) -> Array:
    """Half-precision ``x`` as float32, where the squares in a norm do not overflow."""
    return fnp.astype(x, np.float32) if _is_half(x) else x


def _errors(predictions: ArrayLike, targets: ArrayLike | None, fn: str) -> Array:
    predictions = _floating(predictions, "predictions", fn)
    if targets is None:
        return predictions
    if shape_of(targets) != shape_of(predictions):
        raise ValueError(f"functrans.optim.losses.{fn}: predictions {shape_of(predictions)} and "
                         f"targets {shape_of(targets)} must have the same shape")
    return predictions - targets


def _elementwise(fn: str, names: tuple[str, str], x: Any, labels: Any) -> None:
    """Refuse labels that broadcast against ``x`` to a larger shape: ``(N, 1)`` scores with
    ``(N,)`` labels made an ``(N, N)`` loss of every score against every label."""
    shape = tuple(shape_of(x))
    if not broadcasts_to(fnp.shape(labels), shape):
        raise ValueError(f"functrans.optim.losses.{fn}: {names[1]} of shape "
                         f"{tuple(fnp.shape(labels))} must broadcast to the shape of {names[0]}, "
                         f"{shape} (one label per entry); reshape them to match")


def _axes(axis: Axis, ndim: int) -> tuple[int, ...]:
    axes = range(ndim) if axis is None else ((axis,) if isinstance(axis, int) else axis)
    return tuple(a % ndim for a in axes)


def _where(where: ArrayLike | None, like: Array, axis: Axis) -> Array | None:
    """optax's ``where``: given without the reduced axis, it gets it back (length 1)."""
    if where is None:
        return None
    mask = fnp.asarray(where)
    if len(shape_of(mask)) != len(shape_of(like)):
        mask = fnp.expand_dims(mask, _axes(axis, len(shape_of(like))))
    return mask


def _log_softmax(x: Array, axis: Axis, where: Array | None) -> Array:
    """``log_softmax`` over ``axis`` among the entries ``where`` holds (the others: 0, and
    no gradient, so a label 0 there adds 0 to the loss and to its derivative)."""
    return _nn_math.log_softmax(x, axis, where, fill=0.0)


# --- regression ----------------------------------------------------------------------------------
def squared_error(predictions: ArrayLike, targets: ArrayLike | None = None) -> Array:
    """``(predictions - targets)**2`` elementwise (``predictions**2`` without targets).

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> optim.losses.squared_error(np.array([1.0, 3.0]), np.array([0.0, 1.0]))
        array([1., 4.])
    """
    errors = _errors(predictions, targets, "squared_error")
    return errors * errors


def l2_loss(predictions: ArrayLike, targets: ArrayLike | None = None) -> Array:
    """``0.5 * (predictions - targets)**2`` elementwise (optax's factor one half).

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> optim.losses.l2_loss(np.array([1.0, 3.0]), np.array([0.0, 1.0]))
        array([0.5, 2. ])
    """
    errors = _errors(predictions, targets, "l2_loss")
    return (0.5 * errors) * errors  # halved first: e**2 may overflow where e**2 / 2 does not


def huber_loss(predictions: ArrayLike, targets: ArrayLike | None = None, *,
               delta: float = 1.0) -> Array:
    """Huber's loss elementwise: ``0.5 * e**2`` where ``|e| <= delta``, else
    ``delta * (|e| - 0.5 * delta)``, with ``e = predictions - targets``.

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> optim.losses.huber_loss(np.array([0.5, 3.0]), np.zeros(2))
        array([0.125, 2.5  ])
    """
    if isinstance(delta, (int, float)) and not delta > 0:
        raise ValueError(f"functrans.optim.losses.huber_loss: delta must be positive, got {delta!r}")
    errors = fnp.abs(_errors(predictions, targets, "huber_loss"))
    quadratic = fnp.minimum(errors, delta)
    return 0.5 * quadratic * quadratic + delta * (errors - quadratic)


def log_cosh(predictions: ArrayLike, targets: ArrayLike | None = None) -> Array:
    """``log(cosh(predictions - targets))`` elementwise, computed without overflow.

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> np.round(optim.losses.log_cosh(np.array([0.0, 1.0, 1000.0])), 3).tolist()
        [0.0, 0.434, 999.307]
    """
    errors = _errors(predictions, targets, "log_cosh")
    # Near 0 the difference below cancels (it leaves x**2 / 2 of two numbers near log 2):
    # there log(cosh(x)) = log1p(2 sinh(x / 2)**2), which does not.
    a = fnp.abs(errors)
    small = fnp.where(a < 1.0, errors, 0.0)  # signed: |x| has no second derivative at 0
    return fnp.where(a < 1.0, fnp.log1p(2.0 * fnp.square(fnp.sinh(small / 2))),
                     a + fnp.log1p(fnp.exp(-2.0 * a)) - math.log(2.0))


def cosine_similarity(predictions: ArrayLike, targets: ArrayLike, *, epsilon: float = 0.0,
                      axis: Axis = -1, where: ArrayLike | None = None) -> Array:
    """The cosine of the angle between ``predictions`` and ``targets`` along ``axis``, each
    norm at least ``sqrt(epsilon)`` (optax's; ``nn.cosine_similarity`` is PyTorch's).

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> optim.losses.cosine_similarity(np.array([[1.0, 0.0]]), np.array([[1.0, 1.0]]))
        array([0.70710678])
    """
    a = _floating(predictions, "predictions", "cosine_similarity")
    b = _floating(targets, "targets", "cosine_similarity")
    given = a, b
    a, b = _in_float32(a), _in_float32(b)
    where = _where(where, a, axis)
    a, b = fnp.broadcast_arrays(a, b)
    similarity = _nn_math.cosine(a, b, axis, math.sqrt(epsilon), where)
    if all(map(_is_half, given)):
        return fnp.astype(similarity, fnp.result_type(*given))
    return similarity


def cosine_distance(predictions: ArrayLike, targets: ArrayLike, *, epsilon: float = 0.0,
                    axis: Axis = -1, where: ArrayLike | None = None) -> Array:
    """``1 - cosine_similarity(predictions, targets)`` along ``axis``.

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> optim.losses.cosine_distance(np.array([[1.0, 0.0]]), np.array([[0.0, 2.0]]))
        array([1.])
    """
    return 1.0 - cosine_similarity(predictions, targets, epsilon=epsilon, axis=axis,
                                   where=where)


# --- binary classification -----------------------------------------------------------------------
def sigmoid_binary_cross_entropy(logits: ArrayLike, labels: ArrayLike) -> Array:
    """``-labels * log(sigmoid(logits)) - (1 - labels) * log(1 - sigmoid(logits))``
    elementwise, computed from the logits without overflow (labels may be soft).

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> np.round(optim.losses.sigmoid_binary_cross_entropy(np.array([0.0, 3.0]),
        ...                                                   np.array([1.0, 0.0])), 6)
        array([0.693147, 3.048587])
    """
    logits = _floating(logits, "logits", "sigmoid_binary_cross_entropy")
    _elementwise("sigmoid_binary_cross_entropy", ("logits", "labels"), logits, labels)
    labels = fnp.astype(labels, dtype_of(logits))
    return -labels * log_sigmoid(logits) - (1.0 - labels) * log_sigmoid(-logits)


def sigmoid_focal_loss(logits: ArrayLike, labels: ArrayLike, *, alpha: float | None = None,
                       gamma: float = 2.0) -> Array:
    """The focal loss (Lin et al., 2017) elementwise: the sigmoid cross entropy times
    ``(1 - p_t)**gamma``, with ``p_t`` the probability given to the true label; with
    ``alpha``, weighted by ``alpha`` for positives and ``1 - alpha`` for negatives.

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> np.round(optim.losses.sigmoid_focal_loss(np.array([0.0]), np.array([1.0])), 6)
        array([0.173287])
    """
    logits = _floating(logits, "logits", "sigmoid_focal_loss")
    _elementwise("sigmoid_focal_loss", ("logits", "labels"), logits, labels)
    labels = fnp.astype(labels, dtype_of(logits))
    ce = sigmoid_binary_cross_entropy(logits, labels)
    log_p, log_q = log_sigmoid(logits), log_sigmoid(-logits)
    log_one_minus_pt: Any = logsumexp(fnp.stack([log_p, log_q], axis=-1), axis=-1,
                                      b=fnp.stack([1.0 - labels, labels], axis=-1))
    loss = ce * fnp.exp(gamma * log_one_minus_pt)
    if alpha is None:
        return loss
    return (alpha * labels + (1.0 - alpha) * (1.0 - labels)) * loss


def hinge_loss(predictor_outputs: ArrayLike, targets: ArrayLike) -> Array:
    """``max(0, 1 - predictor_outputs * targets)`` elementwise, targets in ``{-1, 1}``.

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> optim.losses.hinge_loss(np.array([0.5, 2.0, -1.0]), np.array([1.0, 1.0, 1.0]))
        array([0.5, 0. , 2. ])
    """
    outputs = fnp.asarray(predictor_outputs)
    _elementwise("hinge_loss", ("predictor_outputs", "targets"), outputs, targets)
    return fnp.maximum(0, 1 - outputs * targets)


def perceptron_loss(predictor_outputs: ArrayLike, targets: ArrayLike) -> Array:
    """``max(0, -predictor_outputs * targets)`` elementwise, targets in ``{-1, 1}``.

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> optim.losses.perceptron_loss(np.array([0.5, -2.0]), np.array([1.0, 1.0]))
        array([0., 2.])
    """
    if shape_of(predictor_outputs) != shape_of(targets):
        raise ValueError(f"functrans.optim.losses.perceptron_loss: predictor_outputs "
                         f"{shape_of(predictor_outputs)} and targets {shape_of(targets)} must "
                         f"have the same shape")
    return fnp.maximum(0, -fnp.asarray(predictor_outputs) * targets)


# --- multiclass classification -------------------------------------------------------------------
def softmax_cross_entropy(logits: ArrayLike, labels: ArrayLike, axis: Axis = -1,
                          where: ArrayLike | None = None) -> Array:
    """``-sum(labels * log_softmax(logits), axis)``: the cross entropy with probability
    labels (one-hot or soft), per example. With ``where``, only those classes take part.

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> np.round(optim.losses.softmax_cross_entropy(np.array([[2.0, 0.0]]),
        ...                                             np.array([[0.0, 1.0]])), 4)
        array([2.1269])
    """
    logits = _floating(logits, "logits", "softmax_cross_entropy")
    where = _where(where, logits, axis)
    log_probs = _log_softmax(logits, axis, where)
    return -fnp.sum(labels * log_probs, axis=axis, where=where)


def safe_softmax_cross_entropy(logits: ArrayLike, labels: ArrayLike) -> Array:
    """``softmax_cross_entropy`` over the last axis where a class with label 0 and logit
    ``-inf`` adds 0 (not NaN) to the loss and its gradient.

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> logits = np.array([[1.0, -np.inf, 0.0]])   # a class ruled out, with label 0
        >>> np.round(optim.losses.safe_softmax_cross_entropy(logits, np.array([[0.5, 0.0, 0.5]])), 6)
        array([0.813262])
    """
    logits = _floating(logits, "logits", "safe_softmax_cross_entropy")
    labels = fnp.asarray(labels)
    log_probs = _log_softmax(logits, -1, None)
    used = labels != 0.0
    return -fnp.sum(fnp.where(used, labels * fnp.where(used, log_probs, 0.0), 0.0), axis=-1)


def _check_labels(labels: Any, classes: int, fn: str) -> None:
    if isinstance(labels, Tracer):
        return
    if math.prod(shape_of(labels)) == 0:
        return
    low, high = int(fnp.min(labels)), int(fnp.max(labels))
    if low < 0 or high >= classes:
        raise ValueError(f"functrans.optim.losses.{fn}: labels must be in [0, {classes}), got "
                         f"values from {low} to {high}")


def softmax_cross_entropy_with_integer_labels(logits: ArrayLike, labels: ArrayLike,
                                              axis: int | Sequence[int] = -1,
                                              where: ArrayLike | None = None) -> Array:
    """``logsumexp(logits) - logits[label]`` per example: the cross entropy with integer
    labels (the class axis, or axes, removed from the labels' shape). With ``where``, only
    those classes take part, and an example with none has loss 0.

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> np.round(optim.losses.softmax_cross_entropy_with_integer_labels(
        ...     np.array([[2.0, 0.0]]), np.array([1])), 4)
        array([2.1269])
    """
    fn = "softmax_cross_entropy_with_integer_labels"
    logits = _floating(logits, "logits", fn)
    labels = fnp.asarray(labels)
    if dtype_of(labels).kind not in "iu":
        raise TypeError(f"functrans.optim.losses.{fn}: labels must be integers, got "
                        f"{dtype_of(labels)}; for probabilities use softmax_cross_entropy")
    where = _where(where, logits, axis)
    ndim = logits.ndim
    if isinstance(axis, int):
        class_axis = axis % ndim
    else:  # several class axes: moved last and merged into one
        class_axes = _axes(axis, ndim)
        batch_axes = tuple(a for a in range(ndim) if a not in class_axes)
        order = batch_axes + class_axes
        merged = tuple(shape_of(logits)[a] for a in batch_axes) + (-1,)
        if where is not None:
            where = fnp.reshape(fnp.transpose(fnp.broadcast_to(where, shape_of(logits)), order),
                                merged)
        logits = fnp.reshape(fnp.transpose(logits, order), merged)
        class_axis = len(batch_axes)
    expected = shape_of(logits)[:class_axis] + shape_of(logits)[class_axis + 1:]
    if shape_of(labels) != expected:
        raise ValueError(f"functrans.optim.losses.{fn}: labels of shape {shape_of(labels)} do "
                         f"not fit logits of shape {shape_of(logits)} with the classes on axis "
                         f"{class_axis}: expected {expected}")
    _check_labels(labels, shape_of(logits)[class_axis], fn)
    picked = fnp.take_along_axis(logits, fnp.expand_dims(labels, class_axis), axis=class_axis)
    picked = fnp.squeeze(picked, axis=class_axis)
    if where is None:
        return logsumexp(logits, axis=class_axis) - picked
    normalizer = logsumexp(logits, axis=class_axis, where=where)  # -inf: no class
    return fnp.where(fnp.any(where, axis=class_axis), normalizer - picked, 0.0)


def poly_loss_cross_entropy(logits: ArrayLike, labels: ArrayLike, *, epsilon: float = 2.0,
                            axis: Axis = -1, where: ArrayLike | None = None) -> Array:
    """PolyLoss (Leng et al., 2022): the softmax cross entropy plus
    ``epsilon * sum(labels * (1 - softmax(logits)))`` per example.

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> np.round(optim.losses.poly_loss_cross_entropy(np.array([[0.0, 0.0]]),
        ...                                               np.array([[1.0, 0.0]])), 6)
        array([1.693147])
    """
    logits = _floating(logits, "logits", "poly_loss_cross_entropy")
    labels = _floating(labels, "labels", "poly_loss_cross_entropy")
    mask = _where(where, logits, axis)
    probs = fnp.exp(_log_softmax(logits, axis, mask))
    one_minus_pt = fnp.sum(labels * (1 - probs), axis=axis, where=mask)
    return softmax_cross_entropy(logits, labels, axis, where) + epsilon * one_minus_pt


def multiclass_hinge_loss(scores: ArrayLike, labels: ArrayLike) -> Array:
    """Crammer and Singer's multiclass hinge loss per example:
    ``max_k(scores[k] + 1 - [k == label]) - scores[label]`` over the last axis.

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> optim.losses.multiclass_hinge_loss(np.array([[3.0, 2.5, 0.0]]), np.array([0]))
        array([0.5])
    """
    scores = _floating(scores, "scores", "multiclass_hinge_loss")
    hot = one_hot(labels, shape_of(scores)[-1], dtype_of(scores))
    return fnp.max(scores + 1.0 - hot, axis=-1) - fnp.sum(scores * hot, axis=-1)


def multiclass_perceptron_loss(scores: ArrayLike, labels: ArrayLike) -> Array:
    """``max_k scores[k] - scores[label]`` per example, over the last axis.

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> optim.losses.multiclass_perceptron_loss(np.array([[1.0, 3.0]]), np.array([0]))
        array([2.])
    """
    scores = _floating(scores, "scores", "multiclass_perceptron_loss")
    hot = one_hot(labels, shape_of(scores)[-1], dtype_of(scores))
    return fnp.max(scores, axis=-1) - fnp.sum(scores * hot, axis=-1)


def smooth_labels(labels: ArrayLike, alpha: float, *, axis: Axis = -1,
                  where: ArrayLike | None = None) -> Array:
    """Label smoothing: ``(1 - alpha) * labels + alpha / K`` with ``K`` the number of
    classes along ``axis`` (those ``where`` holds, if given).

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> optim.losses.smooth_labels(np.array([1.0, 0.0, 0.0, 0.0]), 0.2)
        array([0.85, 0.05, 0.05, 0.05])
    """
    labels = _floating(labels, "labels", "smooth_labels")
    if where is None:
        classes: Any = math.prod(shape_of(labels)[a] for a in _axes(axis, labels.ndim))
    else:
        classes = fnp.astype(fnp.sum(fnp.asarray(where), axis=axis, keepdims=True),
                             dtype_of(labels))
    return (1.0 - alpha) * labels + alpha / classes


# --- divergences ---------------------------------------------------------------------------------
def kl_divergence(log_predictions: ArrayLike, targets: ArrayLike, axis: Axis = -1,
                  where: ArrayLike | None = None) -> Array:
    """``sum(targets * (log(targets) - log_predictions), axis)``, the Kullback-Leibler
    divergence of the predictions from the targets (a target 0 adds 0).

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> p = np.array([0.5, 0.5])
        >>> float(optim.losses.kl_divergence(np.log(p), np.array([1.0, 0.0])))   # log 2
        0.6931471805599453
    """
    log_predictions = _floating(log_predictions, "log_predictions", "kl_divergence")
    targets = _floating(targets, "targets", "kl_divergence")
    safe = fnp.where(targets == 0, 1.0, targets)
    loss = targets * (fnp.where(targets == 0, 0.0, fnp.log(safe)) - log_predictions)
    return fnp.sum(loss, axis=axis, where=where)


def kl_divergence_with_log_targets(log_predictions: ArrayLike, log_targets: ArrayLike,
                                   axis: Axis = -1, where: ArrayLike | None = None) -> Array:
    """``sum(exp(log_targets) * (log_targets - log_predictions), axis)``.

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> p = np.log(np.array([0.5, 0.5]))
        >>> float(optim.losses.kl_divergence_with_log_targets(p, p))
        0.0
    """
    log_predictions = _floating(log_predictions, "log_predictions",
                                "kl_divergence_with_log_targets")
    log_targets = _floating(log_targets, "log_targets", "kl_divergence_with_log_targets")
    return fnp.sum(fnp.exp(log_targets) * (log_targets - log_predictions), axis=axis,
                   where=where)


def generalized_kl_divergence(log_predictions: ArrayLike, targets: ArrayLike, axis: Axis = -1,
                              where: ArrayLike | None = None) -> Array:
    """The KL divergence for unnormalised measures: ``kl_divergence`` plus
    ``sum(exp(log_predictions) - targets, axis)`` (convex in both arguments).

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> float(optim.losses.generalized_kl_divergence(np.log(np.array([2.0])), np.array([1.0])))
        0.3068528194400547
    """
    kl = kl_divergence(log_predictions, targets, axis=axis, where=where)
    return kl + fnp.sum(fnp.exp(log_predictions) - targets, axis=axis, where=where)


def convex_kl_divergence(log_predictions: ArrayLike, targets: ArrayLike, axis: Axis = -1,
                         where: ArrayLike | None = None) -> Array:
    """optax's older name of [`generalized_kl_divergence`][functrans.optim.losses.generalized_kl_divergence].

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> float(optim.losses.convex_kl_divergence(np.log(np.array([2.0])), np.array([1.0])))
        0.3068528194400547
    """
    return generalized_kl_divergence(log_predictions, targets, axis=axis, where=where)


# --- sequences -----------------------------------------------------------------------------------
def ctc_loss(logits: ArrayLike, logit_paddings: ArrayLike, labels: ArrayLike,
             label_paddings: ArrayLike, *, blank_id: int = 0,
             log_epsilon: float = -1e5) -> Array:
    """Connectionist temporal classification (Graves et al., 2006): per sequence, minus the
    log-probability of all alignments of the frames to the labels, blanks between them and
    repeated labels merged, as optax computes it (a forward recursion over the frames, with
    ``log_epsilon`` standing in for ``log 0``).

    Args:
        logits: ``(B, T, K)`` unnormalised log-probabilities of the ``K`` classes per frame.
        logit_paddings: ``(B, T)``, 1.0 on the padding frames (after each sequence's end).
        labels: ``(B, N)`` integer labels.
        label_paddings: ``(B, N)``, 1.0 on the padding labels.
        blank_id: The blank class.
        log_epsilon: The log-probability used for impossible transitions.

    Returns:
        ``(B,)`` the loss of each sequence.

    Raises:
        ValueError: shapes that do not fit (the message names the array).

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> logits = np.zeros((1, 2, 2))            # 2 frames, classes {blank, 1}, uniform
        >>> loss = optim.losses.ctc_loss(logits, np.zeros((1, 2)), np.array([[1]]), np.zeros((1, 1)))
        >>> np.round(np.exp(-loss), 6)               # paths "1 1", "1 -", "- 1": 3/4
        array([0.75])
    """
    logits = _floating(logits, "logits", "ctc_loss")
    labels = fnp.asarray(labels)
    if logits.ndim != 3 or labels.ndim != 2:
        raise ValueError(f"functrans.optim.losses.ctc_loss: logits must be (B, T, K) and labels "
                         f"(B, N), got {shape_of(logits)} and {shape_of(labels)}")
    batch, frames, classes = shape_of(logits)
    if shape_of(logit_paddings) != (batch, frames):
        raise ValueError(f"functrans.optim.losses.ctc_loss: logit_paddings must have shape "
                         f"(B, T) = {(batch, frames)}, got {shape_of(logit_paddings)}")
    if shape_of(label_paddings) != shape_of(labels) or shape_of(labels)[0] != batch:
        raise ValueError(f"functrans.optim.losses.ctc_loss: labels {shape_of(labels)} and "
                         f"label_paddings {shape_of(label_paddings)} must both be (B, N) with "
                         f"B = {batch}")
    if not 0 <= blank_id < classes:
        raise ValueError(f"functrans.optim.losses.ctc_loss: blank_id must be a class, in "
                         f"[0, {classes}), got {blank_id!r}")
    n = shape_of(labels)[1]
    dtype = dtype_of(logits)
    log_probs = _log_softmax(logits, -1, None)
    label_count = n - fnp.astype(fnp.sum(label_paddings, axis=1), np.int64)
    # 1 where a label repeats the previous one: no direct move between them, a blank first.
    repeat = fnp.astype(labels[:, :-1] == labels[:, 1:], dtype)
    repeat = fnp.concatenate([repeat, fnp.zeros((batch, 1), dtype=dtype)], axis=1)
    blank = log_probs[:, :, blank_id]                                      # (B, T)
    emit = fnp.einsum("btk,bnk->btn", log_probs, one_hot(labels, classes, dtype))  # (B, T, N)
    paddings = fnp.astype(fnp.asarray(logit_paddings), dtype)
    # alpha over the states: phi[j], "j labels emitted, in a blank" (j = 0..N), and
    # em[j], "label j being emitted" (j = 0..N-1).
    phi = fnp.concatenate([fnp.zeros((batch, 1), dtype=dtype),
                           fnp.full((batch, n), log_epsilon, dtype=dtype)], axis=1)
    em = fnp.full((batch, n), log_epsilon, dtype=dtype)

    def into_phi(phi: Array, add: Array) -> Array:
        """``phi`` with ``add`` (one per label) merged into the states 1..N."""
        return fnp.concatenate([phi[:, :1], fnp.logaddexp(phi[:, 1:], add)], axis=1)

    def step(carry: tuple[Array, Array], frame: tuple[Array, Array, Array]
             ) -> tuple[tuple[Array, Array], None]:
        """One frame: ``emit_t (B, N)``, ``blank_t`` and ``pad`` ``(B, 1)``; a padding frame
        leaves the states as they were."""
        phi, em = carry
        emit_t, blank_t, pad = frame
        moved = into_phi(phi, em + log_epsilon * repeat)
        new_em = fnp.logaddexp(moved[:, :-1] + emit_t, em + emit_t)
        new_phi = into_phi(moved + blank_t, em + blank_t + log_epsilon * (1.0 - repeat))
        return (pad * phi + (1.0 - pad) * new_phi, pad * em + (1.0 - pad) * new_em), None

    # One staged step for all frames, however many (a Python loop would stage T copies).
    frames_first = (fnp.moveaxis(emit, 1, 0), fnp.moveaxis(blank, 1, 0)[:, :, None],
                    fnp.moveaxis(paddings, 1, 0)[:, :, None])
    (phi, em), _ = scan(step, (phi, em), frames_first, length=frames)
    final = into_phi(phi, em)
    chosen = fnp.astype(fnp.expand_dims(label_count, -1) == fnp.arange(n + 1), dtype)
    return -fnp.sum(final * chosen, axis=1)
