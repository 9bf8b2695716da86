"""Dropout: zero each entry with probability ``p`` in training, scaling the rest by
``1 / (1 - p)``; the identity in evaluation."""
from __future__ import annotations

import dataclasses

import functrans.numpy as fnp
from functrans import random
from functrans._abstract import dtype_of, python_number
from functrans.core.trace import Tracer
from functrans.nn._layer import Layer
from functrans.typing import Array, Key, Params

__all__ = ["Dropout", "dropout"]


def _floating(x: Array) -> Array:
    """``x`` as an array, refused unless floating: the kept entries are scaled by
    ``1 / (1 - p)``, which an integer array cannot hold (PyTorch refuses it too)."""
    x = fnp.asarray(x)
    if dtype_of(x).kind not in "fc":
        raise TypeError(f"dropout: x must be floating to be scaled by 1 / (1 - p), got dtype "
                        f"{dtype_of(x)}; convert it first, e.g. x.astype(np.float32)")
    return x


def dropout(x: Array, p: float, key: Key | None, train: bool = True) -> Array:
    """Functional dropout: ``where(keep, x / (1 - p), 0)`` with ``keep ~ Bernoulli(1 - p)``
    drawn from ``key``; ``x`` unchanged when ``train`` is false or ``p == 0``.

    Reference: Srivastava et al., "Dropout: a simple way to prevent neural networks from
    overfitting", JMLR 2014.

    Args:
        x: Input array.
        p: Probability of zeroing an entry, in ``[0, 1]``; may be traced (a rate passed into
            ``jit``), then it is not range-checked.
        key: A random key (required when training with ``p > 0``); the same key drops the
            same entries.
        train: Whether to drop (training) or pass ``x`` through (evaluation).

    Returns:
        An array of ``x``'s shape and dtype.

    Raises:
        ValueError: ``p`` outside ``[0, 1]``, or no key in training.
        TypeError: an integer or boolean ``x`` in training with ``p > 0``.

    Example:
        >>> import numpy as np
        >>> from functrans import nn, random
        >>> y = nn.dropout(np.ones(6), 0.5, random.key(0))
        >>> sorted(set(y.tolist())) in ([0.0, 2.0], [2.0], [0.0])
        True
    """
    p = python_number(p)
    if isinstance(p, Tracer):  # a rate passed into jit (which traces Python floats)
        if not train:
            return x
        if key is None:
            raise ValueError("dropout: training needs a random key: apply(params, x, key=k) "
                             "with k from functrans.random.split (or pass train=False to "
                             "evaluate)")
        x = _floating(x)
        keep_prob = 1.0 - p
        keep = random.bernoulli(key, keep_prob, fnp.shape(x))  # all False when p == 1
        scale = 1.0 / fnp.where(keep_prob > 0, keep_prob, 1.0)  # finite, also at p == 1
        return fnp.where(keep, x * fnp.astype(scale, fnp.result_type(x, 1.0)), 0)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: p must be in [0, 1], got {p!r}")
    if not train or p == 0.0:
        return x
    if key is None:
        raise ValueError("dropout: training needs a random key: apply(params, x, key=k) with "
                         "k from functrans.random.split (or pass train=False to evaluate)")
    x = _floating(x)
    if p == 1.0:  # every entry dropped: zeros, also where x is inf or NaN (as for p < 1)
        return fnp.zeros_like(x)
    keep = random.bernoulli(key, 1.0 - p, fnp.shape(x))
    return fnp.where(keep, x * (1.0 / (1.0 - p)), 0)


@dataclasses.dataclass(frozen=True)
class Dropout(Layer):
    """Dropout as a layer (no parameters), PyTorch's ``nn.Dropout``; see [`dropout`][functrans.nn.dropout].

    Example:
        >>> import numpy as np
        >>> from functrans import nn, random
        >>> drop = nn.Dropout(0.25)
        >>> drop.apply({}, np.ones(3), train=False)
        array([1., 1., 1.])
        >>> drop.apply({}, np.ones(1000), key=random.key(1)).mean().round(1)
        np.float64(1.0)
    """

    p: float = 0.5

    stochastic = True

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 0.0 <= self.p <= 1.0:
            raise ValueError(f"Dropout: p must be in [0, 1], got {self.p!r}")

    def apply(self, params: Params, x: Array, *, key: Key | None = None,
              train: bool = True) -> Array:
        """Drop entries of ``x`` (training, needs ``key``) or return it (``train=False``)."""
        return dropout(x, self.p, key, train)
