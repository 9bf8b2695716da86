"""Keys: making them from seeds, deriving new ones, and the raw block function."""
from __future__ import annotations

import math
from typing import Any, cast

import numpy as np

from functrans.backend import device_put, to_host
from functrans.core.trace import Tracer
from functrans.primitives.opaque import opaque_call_p
from functrans.random._bits import _FOLD_TAG, _SPLIT_TAG, _U32, _counters, _int_words, _threefry
from functrans.random._checks import (
    _check_key,
    _draw_with,
    _is_int,
    _on,
    _public,
    _refuse_traced_size,
    _reject_tracer,
    _sampler,
)
from functrans.typing import Array, Key


@_public
def key(seed: int, *, device: str | None = None) -> Array:
    """Make a key from an integer seed.

    A seed in ``[0, 2**64)`` becomes the key ``[seed >> 32, seed & 0xffffffff]``; any other
    Python int (negative, or wider than 64 bits) is hashed into two words, so every int is a
    valid seed and the mapping never changes.

    Args:
        seed: Any Python or NumPy integer, or a 0-d integer array (may be traced).
        device: where the key lives (``"cpu"`` by default, ``"gpu"``, ``"gpu:1"``); numbers
            drawn with it are made on that device.

    Returns:
        A ``uint32`` array of shape ``(2,)``: NumPy, or the array type of ``device``.

    Raises:
        TypeError: ``seed`` is not an integer or a 0-d integer array.

    A traced seed (``jit(key)(7)``, ``vmap(key)(seeds)``) gives the key of its value when the
    program runs.

    Example:
        >>> key(7)
        array([0, 7], dtype=uint32)
        >>> key(2**32 + 1)
        array([1, 1], dtype=uint32)
    """
    if not _is_int(seed):
        shape, dtype = getattr(seed, "shape", None), getattr(seed, "dtype", None)
        if shape == () and dtype is not None and np.dtype(dtype).kind in "iu":
            if isinstance(seed, Tracer):  # a seed traced by jit or mapped by vmap
                return opaque_call_p.bind(seed, fn=_KeyFromSeed(device))
            seed = _host_int(seed)
        else:
            raise TypeError(
                f"functrans.random.key: the seed must be an int or a 0-d integer array, got "
                f"{type(seed).__name__} {seed!r:.60}; convert it with int(...) if it is a "
                f"whole number"
            )
    k = np.asarray(_int_words(int(seed)), dtype=_U32)
    return k if device is None else device_put(k, device)


class _KeyFromSeed:
    """``key(seed)`` of a concrete 0-d integer array, the function of a staged ``key``."""

    __slots__ = ("device",)

    def __init__(self, device: str | None) -> None:
        self.device = device

    def __call__(self, seed: Array) -> Array:
        return key(_host_int(seed), device=self.device)

    def __repr__(self) -> str:
        return "key" if self.device is None else f"key(device={self.device!r})"



@_sampler
def split(key: Key, num: int | tuple[int, ...] = 2, *, device: str | None = None) -> Array:
    """Derive ``num`` new, independent keys from ``key``.

    Args:
        key: A key from [`key`][functrans.random.key], [`split`][functrans.random.split] or
            [`fold_in`][functrans.random.fold_in].
        num: How many keys to make (at least 1), or a tuple of ints: the shape of the array
            of keys, as in JAX (``split(k, (2, 3))`` is ``split(k, 6)`` reshaped).
        device: Where to work (``"gpu"``, ``"gpu:1"``...; the key is moved there first);
            by default the key's device.

    Returns:
        A ``uint32`` array of shape ``(num, 2)`` (``(*num, 2)`` for a tuple), on the key's
        device; each row is a key.

    Raises:
        ValueError: ``num`` is less than 1.

    Example:
        >>> k1, k2 = split(key(0))
        >>> split(key(0), 3).shape
        (3, 2)
        >>> split(key(0), (2, 3)).shape
        (2, 3, 2)
        >>> bool((k1 == k2).all())
        False
    """
    xp = _check_key(key, "split")
    shape: tuple[int, ...] | None = None
    if isinstance(num, tuple) and num and all(_is_int(n) for n in num):
        shape = tuple(int(n) for n in num)
    elif not _is_int(num):
        _refuse_traced_size(num if isinstance(num, tuple) else (num,), "num", "split",
                            "sets the number of keys")
        raise TypeError(f"functrans.random.split: 'num' must be an int or a tuple of ints, "
                        f"got {num!r:.60}")
    count = math.prod(shape) if shape is not None else int(cast(int, num))
    if count < 1 or (shape is not None and min(shape) < 1):
        raise ValueError(
            f"functrans.random.split: 'num' must be at least 1, got {shape or num}; "
            f"split(key, 1) gives one new key"
        )
    hi, lo = _counters(xp, count, _SPLIT_TAG)
    x0, x1 = _threefry(key[0:1], key[1:2], hi, lo)
    keys = xp.stack([x0, x1], axis=1)
    return keys if shape is None else keys.reshape(shape + (2,))


@_public
def fold_in(key: Key, data: int | Array, *, device: str | None = None) -> Array:
    """Derive a new key from ``key`` and an integer, e.g. a step or layer number.

    Different ``data`` give independent keys; the same ``data`` always gives the same key.
    ``data`` may be a 0-d integer array, also a traced one (a step counter inside ``jit``,
    ``vmap`` over example indices, a ``scan`` index): the key is derived when the program
    runs, the same key as an eager call with that integer.

    Args:
        key: A key.
        data: Any Python or NumPy integer, or a 0-d integer array (may be traced).
        device: Where to work (``"gpu"``, ``"gpu:1"``...; the key is moved there first);
            by default the key's device.

    Returns:
        A new key (``uint32``, shape ``(2,)``) on the key's device.

    Raises:
        TypeError: ``data`` is not an integer or a 0-d integer array.

    Example:
        >>> import numpy as np
        >>> import functrans as ft
        >>> k = key(0)
        >>> fold_in(k, 1).shape
        (2,)
        >>> bool((fold_in(k, 1) == fold_in(k, 2)).all())
        False
        >>> keys = ft.vmap(lambda i: fold_in(k, i))(np.arange(3))
        >>> bool((keys[2] == fold_in(k, 2)).all())
        True
    """
    if _is_int(data):
        return _fold_in(key, data, device=device)
    shape, dtype = getattr(data, "shape", None), getattr(data, "dtype", None)
    if shape != () or dtype is None or np.dtype(dtype).kind not in "iu":
        described = (f"an array of dtype {dtype} and shape {tuple(shape)}" if shape is not None
                     and dtype is not None else f"{type(data).__name__} {data!r:.60}")
        raise TypeError(
            f"functrans.random.fold_in: 'data' must be an int or a 0-d integer array, got "
            f"{described}"
        )
    if isinstance(data, Tracer):
        return _draw_with(_fold_in_array, _on(key, device), data)
    return _fold_in(key, _host_int(data), device=device)


def _fold_in_array(key: Array, data: Array) -> Array:
    """``fold_in`` with ``data`` a concrete 0-d integer array (an operand of a staged draw)."""
    return _fold_in(key, _host_int(data))


def _host_int(x: Any) -> int:
    """A 0-d integer array's value (a Python int passes), read from its device explicitly."""
    return x if _is_int(x) else int(to_host(x))


@_sampler
def _fold_in(key: Key, data: int, *, device: str | None = None) -> Array:
    xp = _check_key(key, "fold_in")
    _reject_tracer(data, "data", "fold_in")
    hi, lo = _counters(xp, 1, _FOLD_TAG)
    f0, f1 = _threefry(key[0:1], key[1:2], hi, lo)
    d_hi, d_lo = _int_words(int(data))
    y0, y1 = _threefry(f0, f1, xp.asarray([d_hi], dtype=_U32), xp.asarray([d_lo], dtype=_U32))
    return xp.concatenate([y0, y1])


def threefry2x32(key: Key, count: Array, *, device: str | None = None) -> Array:
    """The raw Threefry-2x32 (20 rounds) block function.

    Args:
        key: The two key words (``uint32``, shape ``(2,)``).
        count: Counter blocks, a ``uint32`` array of shape ``(..., 2)``.
        device: Where to work (``"gpu"``, ``"gpu:1"``...; the key is moved there first);
            by default the key's device.

    Returns:
        The encrypted blocks, ``uint32`` of the same shape as ``count``.

    Example:
        >>> import numpy as np
        >>> out = threefry2x32(np.zeros(2, np.uint32), np.zeros(2, np.uint32))
        >>> [hex(int(w)) for w in out]
        ['0x6b200159', '0x99ba4efe']
    """
    if isinstance(count, Tracer):  # the blocks are encrypted when the program runs
        return _draw_with(_threefry2x32, _on(key, device), count)
    return _threefry2x32(key, count, device=device)


threefry2x32.__module__ = "functrans.random"  # the public path, for help() and reprs


@_sampler
def _threefry2x32(key: Key, count: Array, *, device: str | None = None) -> Array:
    xp = _check_key(key, "threefry2x32")
    _reject_tracer(count, "count", "threefry2x32")
    count = xp.asarray(count)
    if count.dtype != _U32 or count.ndim < 1 or count.shape[-1] != 2:
        raise ValueError(
            f"functrans.random.threefry2x32: 'count' must be a uint32 array of shape (..., 2), "
            f"got dtype {count.dtype} and shape {tuple(count.shape)}"
        )
    blocks = count.reshape(-1, 2)
    y0, y1 = _threefry(key[0:1], key[1:2], blocks[:, 0], blocks[:, 1])
    return xp.stack([y0, y1], axis=1).reshape(count.shape)


@_public
def clone(key: Key, *, device: str | None = None) -> Array:
    """A copy of ``key``, JAX's ``clone`` (there it marks a key as reusable for JAX's
    key-reuse checker; functrans has no such checker, so it only copies).

    Args:
        key: A key (may be traced).
        device: Where to put the copy; by default where ``key`` is.

    Returns:
        The same key words, in a new array.

    Example:
        >>> k = key(3)
        >>> c = clone(k)
        >>> c.tolist() == k.tolist(), c is k
        (True, False)
    """
    _check_keys(key, "clone")
    if isinstance(key, Tracer):
        return key
    copy = key.copy()
    return copy if device is None else device_put(copy, device)


@_public
def PRNGKey(seed: int, *, device: str | None = None) -> Array:
    """JAX's name for [`key`][functrans.random.key]: the key made from an integer seed.

    Args:
        seed: Any Python or NumPy integer, or a 0-d integer array (may be traced).
        device: where the key lives (``"cpu"`` by default, ``"gpu"``, ...).

    Returns:
        A ``uint32`` array of shape ``(2,)``.

    Example:
        >>> PRNGKey(7)
        array([0, 7], dtype=uint32)
    """
    return key(seed, device=device)


def _check_keys(keys: Any, fn: str) -> None:
    shape = tuple(getattr(keys, "shape", ()))
    if getattr(keys, "dtype", None) != _U32 or not shape or shape[-1] != 2:
        raise TypeError(
            f"functrans.random.{fn}: expected keys (a uint32 array of shape (..., 2), from key "
            f"or split), got {type(keys).__name__} of shape {shape} and dtype "
            f"{getattr(keys, 'dtype', None)}"
        )


@_public
def key_data(keys: Key, *, device: str | None = None) -> Array:
    """The raw ``uint32`` words of keys (JAX's typed keys unwrap to them; here keys are those
    words already, so this checks them and returns them).

    Args:
        keys: A key or an array of keys, shape ``(..., 2)``, ``uint32`` (may be traced).
        device: Where to put the words; by default where the keys are.

    Returns:
        A ``uint32`` array of shape ``keys.shape``.

    Raises:
        TypeError: ``keys`` is not a ``uint32`` array whose last axis has length 2.

    Example:
        >>> key_data(key(7)).tolist()
        [0, 7]
    """
    _check_keys(keys, "key_data")
    return keys if device is None or isinstance(keys, Tracer) else device_put(keys, device)


@_public
def wrap_key_data(key_bits: Array, *, device: str | None = None) -> Array:
    """Keys from their raw ``uint32`` words, the inverse of [`key_data`][functrans.random.key_data].

    Args:
        key_bits: A ``uint32`` array of shape ``(..., 2)`` (may be traced).
        device: Where to put the keys; by default where the words are.

    Returns:
        The keys, ``uint32`` of shape ``key_bits.shape``.

    Raises:
        TypeError: ``key_bits`` is not a ``uint32`` array whose last axis has length 2.

    Example:
        >>> import numpy as np
        >>> wrap_key_data(np.array([0, 7], np.uint32)).tolist()
        [0, 7]
    """
    _check_keys(key_bits, "wrap_key_data")
    return key_bits if device is None or isinstance(key_bits, Tracer) else device_put(key_bits, device)
