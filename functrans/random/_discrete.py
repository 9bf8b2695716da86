"""Discrete samplers: Booleans, integers on a range, and categories."""
from __future__ import annotations

import numpy as np

from functrans.random._bits import _F64, _bits64, _mulhi64, _unit
from functrans.random._checks import (
    Shape,
    _broadcasts_to,
    _check_key,
    _check_shape,
    _is_int,
    _is_real,
    _normalize_axis,
    _param,
    _reject_tracer,
    _sampler,
    _size,
)
from functrans.typing import Array, DType, Key


@_sampler
def bernoulli(
    key: Key, p: float | Array = 0.5, shape: Shape | None = None,
    *,
    device: str | None = None,
) -> Array:
    """Booleans that are ``True`` with probability ``p``.

    Args:
        key: A key.
        p: Probability of ``True``, in [0, 1]; a number or an array.
        shape: Shape of the result; ``None`` means the shape of ``p``. ``p`` must broadcast
            to it.
        device: Where to draw (``"gpu"``, ``"gpu:1"``...; the key is moved there first);
            by default the key's device.

    Returns:
        A ``bool`` array on the key's device.

    Raises:
        ValueError: a number ``p`` outside [0, 1], or ``p`` that does not broadcast to ``shape``.
        TypeError: ``p`` is a traced value.

    Example:
        >>> from functrans.random import key
        >>> b = bernoulli(key(0), 0.25, (10_000,))
        >>> b.dtype, abs(float(b.mean()) - 0.25) < 0.02
        (dtype('bool'), True)
        >>> import numpy as np
        >>> bernoulli(key(0), np.array([0.0, 1.0])).tolist()
        [False, True]
    """
    xp = _check_key(key, "bernoulli")
    _reject_tracer(p, "p", "bernoulli")
    if _is_real(p):
        if not 0.0 <= p <= 1.0:
            raise ValueError(
                f"functrans.random.bernoulli: p must be a probability in [0, 1], got {p!r}"
            )
        p_shape: tuple[int, ...] = ()
    else:
        p = xp.asarray(p)
        p_shape = tuple(p.shape)
    shape = p_shape if shape is None else _check_shape(shape, "bernoulli")
    prob = _param(xp, p, "p", "bernoulli", shape, None)
    u = _unit(xp, key, _size(shape), _F64)
    return (u < prob).reshape(shape)


@_sampler
def randint(
    key: Key, shape: Shape, minval: int, maxval: int, dtype: DType = np.int64,
    *,
    device: str | None = None,
) -> Array:
    """Uniform integers on ``[minval, maxval)``.

    Each value takes 64 random bits ``r`` and returns ``minval + floor(r * span / 2**64)``
    (``span = maxval - minval``), so no value is more likely than another by more than
    ``span / 2**64`` relative (below ``2**-32`` for spans up to ``2**32``).

    Args:
        key: A key.
        shape: Shape of the result.
        minval: Smallest value (inclusive), a Python int.
        maxval: Bound (exclusive), a Python int greater than ``minval``.
        dtype: An integer dtype whose range holds ``[minval, maxval)``; default int64.
        device: Where to draw (``"gpu"``, ``"gpu:1"``...; the key is moved there first);
            by default the key's device.

    Returns:
        An array of ``shape`` and ``dtype`` on the key's device.

    Raises:
        TypeError: ``dtype`` is not an integer dtype, or a bound is not an int.
        ValueError: ``maxval <= minval``, or the range does not fit ``dtype``.

    Example:
        >>> from functrans.random import key
        >>> d = randint(key(0), (1000,), 1, 7)
        >>> sorted(set(d.tolist()))
        [1, 2, 3, 4, 5, 6]
    """
    xp = _check_key(key, "randint")
    shape = _check_shape(shape, "randint")
    d: np.dtype | None
    try:
        d = np.dtype(dtype)
    except TypeError:
        d = None
    if d is None or d.kind not in "iu":
        raise TypeError(
            f"functrans.random.randint: dtype must be an integer dtype (e.g. int64, int32, "
            f"uint8), got {dtype!r}; for floats use functrans.random.uniform"
        )
    for name, value in (("minval", minval), ("maxval", maxval)):
        _reject_tracer(value, name, "randint")
        if not _is_int(value):
            raise TypeError(
                f"functrans.random.randint: '{name}' must be an int, got "
                f"{type(value).__name__} {value!r:.60}"
            )
    minval, maxval = int(minval), int(maxval)
    if maxval <= minval:
        raise ValueError(
            f"functrans.random.randint: maxval must be greater than minval (the range is "
            f"[minval, maxval)), got minval={minval}, maxval={maxval}"
        )
    info = np.iinfo(d)
    if minval < info.min or maxval - 1 > info.max:
        raise ValueError(
            f"functrans.random.randint: the range [{minval}, {maxval}) does not fit dtype "
            f"{d} (which holds [{info.min}, {info.max}]); use a wider dtype"
        )
    span = maxval - minval
    r = _bits64(xp, key, _size(shape))
    offset = r if span == 1 << 64 else _mulhi64(xp, r, span)
    values = offset + (minval & ((1 << 64) - 1))  # wraps mod 2**64 to the right value
    if d.kind == "i":
        values = values.view(np.int64)
    return values.astype(d, copy=False).reshape(shape)


@_sampler
def categorical(
    key: Key, logits: Array, axis: int = -1, shape: Shape | None = None, *, device: str | None = None
) -> Array:
    """Indices drawn with probabilities ``softmax(logits)`` along ``axis``.

    Uses the Gumbel-max trick: ``argmax(logits + g)`` with ``g = -log(-log(u))`` and ``u``
    on the open interval (0, 1). Logits of ``-inf`` are never drawn (unless all are).

    Args:
        key: A key.
        logits: Unnormalised log-probabilities, an array with the categories along ``axis``.
        axis: The categories axis of ``logits``.
        shape: Shape of the result; ``None`` means ``logits``' shape without ``axis``. The
            batch shape of ``logits`` must broadcast to it.
        device: Where to draw (``"gpu"``, ``"gpu:1"``...; the key is moved there first);
            by default the key's device.

    Returns:
        An ``int64`` array of ``shape`` on the key's device.

    Raises:
        TypeError: ``logits`` is a traced value.
        ValueError: ``logits`` has no categories axis, or shapes do not fit.

    Example:
        >>> from functrans.random import key
        >>> import numpy as np
        >>> c = categorical(key(0), np.log(np.array([0.2, 0.8])), shape=(10_000,))
        >>> c.dtype, abs(float(c.mean()) - 0.8) < 0.02
        (dtype('int64'), True)
    """
    xp = _check_key(key, "categorical")
    _reject_tracer(logits, "logits", "categorical")
    logits = xp.asarray(logits)
    if logits.dtype.kind not in "f":
        logits = logits.astype(_F64)
    if logits.ndim == 0:
        raise ValueError(
            "functrans.random.categorical: logits must have at least one dimension (the "
            "categories), got a scalar"
        )
    ax = _normalize_axis(axis, logits.ndim, "categorical")
    n = logits.shape[ax]
    if n == 0:
        raise ValueError("functrans.random.categorical: logits has no categories along axis")
    moved = xp.moveaxis(logits, ax, -1)
    batch = tuple(moved.shape[:-1])
    if shape is None:
        shape = batch
    else:
        shape = _check_shape(shape, "categorical")
        if not _broadcasts_to(batch, shape):
            raise ValueError(
                f"functrans.random.categorical: logits' batch shape {batch} (its shape without "
                f"axis {axis}) does not broadcast to shape {shape}"
            )
    u = _unit(xp, key, _size(shape) * n, _F64, open_interval=True)
    gumbel = -xp.log(-xp.log(u))
    scores = moved + gumbel.reshape(shape + (n,))
    return xp.argmax(scores.reshape(-1, n), axis=-1).astype(np.int64).reshape(shape)
