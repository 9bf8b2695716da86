"""Shuffles and picks: random permutations and choice with or without replacement."""
from __future__ import annotations

import numpy as np

import functrans.numpy as fnp
from functrans.backend import to_host
from functrans.core.trace import Tracer
from functrans.primitives.opaque import opaque_call_p
from functrans.random._bits import _F64, ArrayModule, _bits64, _unit
from functrans.random._checks import (
    Shape,
    _check_key,
    _check_shape,
    _Draw,
    _is_int,
    _normalize_axis,
    _refuse_traced_size,
    _sampler,
    _size,
    _traced_on_key_device,
)
from functrans.random._discrete import categorical, randint
from functrans.typing import Array, Key


def _permutation_indices(xp: ArrayModule, k: Array, n: int) -> Array:
    """A random permutation of ``arange(n)``: a stable argsort of 64 random bits each."""
    return xp.argsort(_bits64(xp, k, n), kind="stable").astype(np.int64, copy=False)


def permutation(key: Key, x: int | Array, axis: int = 0, independent: bool = False, *,
                device: str | None = None) -> Array:
    """A random permutation of ``arange(x)``, or a shuffled copy of ``x`` along ``axis``.

    Args:
        key: A key.
        x: An int ``n`` (permute ``0 .. n-1``) or an array of at least one dimension.
        axis: The axis of ``x`` to shuffle.
        independent: Shuffle each slice along ``axis`` by its own permutation (as JAX's
            ``independent=True``), instead of moving whole slices by one permutation.
        device: Where to draw (``"gpu"``, ``"gpu:1"``...; the key is moved there first);
            by default the key's device.

    Returns:
        An ``int64`` array of shape ``(n,)``, or an array like ``x``, on the key's device.

    A traced ``x`` (under ``jit``, ``vmap`` or ``grad``) is shuffled by indexing it with the
    permutation, so its derivative flows back through the shuffle.

    Raises:
        ValueError: a negative ``n``, a scalar array, or an axis out of range.

    Example:
        >>> from functrans.random import key
        >>> sorted(permutation(key(0), 5).tolist())
        [0, 1, 2, 3, 4]
        >>> import numpy as np
        >>> permutation(key(0), np.arange(6).reshape(3, 2)).shape
        (3, 2)
        >>> rows = permutation(key(0), np.tile(np.arange(4), (3, 1)), axis=1, independent=True)
        >>> np.sort(rows, axis=1).tolist() == [[0, 1, 2, 3]] * 3
        True
    """
    if isinstance(x, Tracer):
        shape = tuple(fnp.shape(x))
        if not shape:
            if np.dtype(fnp.result_type(x)).kind in "iu":
                _refuse_traced_size((x,), "x", "permutation", "is the number of items to permute")
            raise ValueError(_SCALAR_X)
        ax = _normalize_axis(axis, len(shape), "permutation")
        if independent:
            orders = _independent_orders(key, shape, ax, device=device)
            return fnp.take_along_axis(_traced_on_key_device(x, orders), orders, axis=ax)
        order = _permutation(key, int(shape[ax]), device=device)
        return fnp.take(_traced_on_key_device(x, order), order, axis=ax)
    return _permutation(key, x, axis, independent, device=device)


permutation.__module__ = "functrans.random"  # the public path, for help() and reprs
_SCALAR_X = ("functrans.random.permutation: x must be an int or an array with at least one "
             "dimension, got a 0-d array; for n items pass the int n")


@_sampler
def _permutation(key: Key, x: int | Array, axis: int = 0, independent: bool = False, *,
                 device: str | None = None) -> Array:
    xp = _check_key(key, "permutation")
    if _is_int(x):
        if x < 0:
            raise ValueError(f"functrans.random.permutation: n must be non-negative, got {x}")
        return _permutation_indices(xp, key, int(x))
    x = xp.asarray(x)
    if x.ndim == 0:
        raise ValueError(_SCALAR_X)
    ax = _normalize_axis(axis, x.ndim, "permutation")
    if independent:
        return xp.take_along_axis(x, _independent_orders(key, tuple(x.shape), ax), axis=ax)
    return xp.take(x, _permutation_indices(xp, key, x.shape[ax]), axis=ax)


@_sampler
def _independent_orders(key: Key, shape: tuple[int, ...], axis: int, *,
                        device: str | None = None) -> Array:
    """Indices of shape ``shape`` with an independent permutation along ``axis`` in each
    slice: a stable argsort of 64 random bits per element."""
    xp = _check_key(key, "permutation")
    bits = _bits64(xp, key, _size(shape)).reshape(shape)
    return xp.argsort(bits, axis=axis, kind="stable").astype(np.int64, copy=False)


def choice(
    key: Key,
    a: int | Array,
    shape: Shape = (),
    replace: bool = True,
    p: Array | None = None,
    axis: int = 0,
    *,
    device: str | None = None,
) -> Array:
    """Random picks from ``arange(a)`` or from ``a`` along ``axis``.

    Args:
        key: A key.
        a: An int ``n`` (pick from ``0 .. n-1``) or an array (pick slices along ``axis``).
        shape: How many picks, as a shape; it replaces ``axis`` in the result.
        replace: Whether an item may be picked more than once.
        p: Optional probabilities of the ``n`` items (non-negative, summing to 1). Without
            replacement, picks are made in order of ``log(p) + Gumbel noise``; ask for no more
            picks than items with ``p > 0``.
        axis: The axis of ``a`` to pick along.
        device: Where to draw (``"gpu"``, ``"gpu:1"``...; the key is moved there first);
            by default the key's device.

    Returns:
        ``int64`` indices of ``shape``, or ``a``'s items, on the key's device.

    A traced ``a`` (under ``jit``, ``vmap`` or ``grad``) is picked from by indexing, so its
    derivative flows back to the picked items; traced probabilities ``p`` decide only which
    items are picked, and get no derivative.

    Raises:
        ValueError: more picks than items (than items with ``p > 0``) without replacement,
            an empty population, or ``p`` of the wrong shape, negative, NaN or all zero.

    Example:
        >>> from functrans.random import key
        >>> picks = choice(key(0), 10, (5,), replace=False)
        >>> len(set(picks.tolist()))
        5
    """
    if isinstance(a, Tracer):
        dims = tuple(fnp.shape(a))
        if not dims:
            if np.dtype(fnp.result_type(a)).kind in "iu":
                _refuse_traced_size((a,), "a", "choice", "is the number of items to choose from")
            raise ValueError(_SCALAR_A)
        ax = _normalize_axis(axis, len(dims), "choice")
        return fnp.take(a, choice(key, int(dims[ax]), shape, replace, p, device=device), axis=ax)
    if isinstance(p, Tracer):
        # counted=False: the shape rule runs the draw on all-zero stand-ins of p.
        draw = _Draw(_choice, (a, shape, replace), {"axis": axis, "device": device,
                                                    "counted": False}, ("p",))
        return opaque_call_p.bind(key, p, fn=draw)
    return _choice(key, a, shape, replace, p, axis, device=device)


choice.__module__ = "functrans.random"  # the public path, for help() and reprs
_SCALAR_A = ("functrans.random.choice: a must be an int or an array with at least one "
             "dimension, got a 0-d array")


@_sampler
def _choice(key: Key, a: int | Array, shape: Shape = (), replace: bool = True, p: Array | None = None,
            axis: int = 0, *, device: str | None = None, counted: bool = True) -> Array:
    """``choice`` on concrete values; ``counted=False`` skips the checks that ``p`` has enough
    positive entries (a staged draw's shape rule runs on zeros)."""
    xp = _check_key(key, "choice")
    shape = _check_shape(shape, "choice")
    if _is_int(a):
        if a < 0:
            raise ValueError(f"functrans.random.choice: n must be non-negative, got {a}")
        n = int(a)
    else:
        a = xp.asarray(a)
        if a.ndim == 0:
            raise ValueError(_SCALAR_A)
        axis = _normalize_axis(axis, a.ndim, "choice")
        n = a.shape[axis]
    k = _size(shape)
    if k > 0 and n == 0:
        raise ValueError("functrans.random.choice: cannot pick from an empty population")
    if not replace and k > n:
        raise ValueError(
            f"functrans.random.choice: cannot pick {k} items from {n} without replacement; "
            f"pass replace=True or ask for at most {n}"
        )
    if p is None:
        if replace:
            idx = randint(key, (k,), 0, max(n, 1))
        else:
            idx = _permutation_indices(xp, key, n)[:k]
    else:
        p = xp.asarray(p, dtype=_F64)
        if tuple(p.shape) != (n,):
            raise ValueError(
                f"functrans.random.choice: p must have shape ({n},), one probability per item, "
                f"got shape {tuple(p.shape)}"
            )
        if n and not bool(to_host(((p >= 0) & (p < np.inf)).all())):  # the device read of a check
            raise ValueError(
                f"functrans.random.choice: p must be finite and non-negative, got "
                f"{p.tolist()!r:.80}"
            )
        positive = p > 0
        possible = int(to_host(positive.sum()))
        if counted and k > 0 and possible == 0:
            raise ValueError("functrans.random.choice: p is all zeros; give some item a "
                             "positive probability")
        if counted and not replace and k > possible:
            raise ValueError(
                f"functrans.random.choice: cannot pick {k} items without replacement when "
                f"only {possible} have a positive probability; pass replace=True or ask for "
                f"at most {possible}"
            )
        logp = xp.where(positive, xp.log(xp.where(positive, p, 1.0)), -np.inf)
        if replace:
            idx = categorical(key, logp, shape=(k,))
        else:
            u = _unit(xp, key, n, _F64, open_interval=True)
            scores = logp - xp.log(-xp.log(u))
            idx = xp.argsort(-scores, kind="stable")[:k].astype(np.int64, copy=False)
    idx = idx.reshape(shape)
    if _is_int(a):
        return idx
    return xp.take(a, idx, axis=axis)
