"""Threefry-2x32 and the bits it makes: counters, 64-bit words, uniform mantissas."""
from __future__ import annotations

from typing import Any

import numpy as np

from functrans.typing import Array

ArrayModule = Any
"""The array namespace of a key (``numpy``, ``cupy``...), from ``array_module``."""

_M32 = 0xFFFFFFFF
_ROTATIONS = (13, 15, 26, 6, 17, 29, 16, 24)
_PARITY = 0x1BD11BDA  # key-schedule parity constant of Threefry (from Skein)
_SPLIT_TAG = 0x80000000  # top bit of the high counter word: keys made by split
_FOLD_TAG = 0xC0000000  # counter (_FOLD_TAG, 0): derives the key that fold_in hashes under
_BIG_INT_KEY = (0x6A09E667, 0xBB67AE85)  # start of the chain that hashes out-of-range ints
_U32 = np.dtype(np.uint32)
_U64 = np.dtype(np.uint64)
_F64 = np.dtype(np.float64)


def _threefry(k0: Array, k1: Array, x0: Array, x1: Array) -> tuple[Array, Array]:
    """Threefry-2x32, 20 rounds, on ``uint32`` arrays of at least one dimension.

    ``k0, k1`` are the key words and ``x0, x1`` the counter words; all four broadcast. Every
    operand stays an array (never a NumPy scalar), so wrap-around is silent.
    """
    ks = (k0, k1, k0 ^ k1 ^ _PARITY)
    x0 = x0 + k0
    x1 = x1 + k1
    for r in range(20):
        rot = _ROTATIONS[r % 8]
        x0 += x1
        x1 = (x1 << rot) | (x1 >> (32 - rot))
        x1 ^= x0
        if r % 4 == 3:  # inject the key schedule after every fourth round
            s = r // 4 + 1
            x0 += ks[s % 3]
            x1 += ks[(s + 1) % 3] + s
    return x0, x1


def _counters(xp: ArrayModule, n: int, tag: int = 0) -> tuple[Array, Array]:
    """The counters ``0 .. n-1`` as (high, low) ``uint32`` word arrays, ``tag`` or-ed into high."""
    if n <= _M32 + 1:
        lo = xp.arange(n, dtype=_U32)
        hi = xp.zeros(n, dtype=_U32)
    else:
        c = xp.arange(n, dtype=_U64)
        lo = (c & _M32).astype(_U32)
        hi = (c >> 32).astype(_U32)
    if tag:
        hi |= tag
    return hi, lo


def _bits(xp: ArrayModule, k: Array, n: int) -> tuple[Array, Array]:
    """64 random bits for each of ``n`` values: two ``uint32`` arrays of shape ``(n,)``."""
    hi, lo = _counters(xp, n)
    return _threefry(k[0:1], k[1:2], hi, lo)


def _bits64(xp: ArrayModule, k: Array, n: int) -> Array:
    """``n`` random ``uint64`` values."""
    x0, x1 = _bits(xp, k, n)
    return (x0.astype(_U64) << 32) | x1.astype(_U64)


def _hash_words(k: tuple[int, int], c: tuple[int, int]) -> tuple[int, int]:
    """Threefry of one counter under one key, on Python ints (host only, for key making)."""
    w = [np.asarray([v], dtype=_U32) for v in (*k, *c)]
    y0, y1 = _threefry(*w)
    return int(y0[0]), int(y1[0])


def _int_words(value: int) -> tuple[int, int]:
    """Two 32-bit words (high, low) for any Python int.

    Ints in ``[0, 2**64)`` map to their own high and low words; any other int (negative or
    too wide) is hashed chunk by chunk into two words, together with its sign and length.
    """
    if 0 <= value < 1 << 64:
        return value >> 32, value & _M32
    negative = value < 0
    magnitude = -value if negative else value
    chunks = []
    while magnitude:
        chunks.append(magnitude & _M32)
        magnitude >>= 32
    if len(chunks) % 2:
        chunks.append(0)
    words = _hash_words(_BIG_INT_KEY, (len(chunks), int(negative)))
    for j in range(0, len(chunks), 2):
        words = _hash_words(words, (chunks[j + 1], chunks[j]))
    return words



def _unit(xp: ArrayModule, k: Array, n: int, dtype: np.dtype, open_interval: bool = False) -> Array:
    """``n`` uniform floats of ``dtype`` on [0, 1), or on (0, 1) with ``open_interval``.

    The floats are ``m * 2**-p`` for ``p`` random mantissa bits ``m`` (52 for float64, 23 for
    float32, 10 for float16); the open version adds half a step, which is exact.
    """
    x0, x1 = _bits(xp, k, n)
    if dtype == _F64:
        bits = 52
        m = (x0.astype(_U64) << 20) | (x1 >> 12).astype(_U64)
    else:
        bits = np.finfo(dtype).nmant
        m = x0 >> (32 - bits)
    u = m.astype(dtype)
    if open_interval:
        u += 0.5
    u *= 2.0**-bits
    return u


def _mulhi64(xp: ArrayModule, r: Array, span: int) -> Array:
    """``floor(r * span / 2**64)`` for ``uint64`` ``r`` and an int ``0 < span < 2**64``.

    The 128-bit product is assembled from four 32x32-bit partial products.
    """
    s_lo, s_hi = span & _M32, span >> 32
    r_lo, r_hi = r & _M32, r >> 32
    ll = r_lo * s_lo
    lh = r_lo * s_hi
    hl = r_hi * s_lo
    hh = r_hi * s_hi
    mid = (ll >> 32) + (lh & _M32) + (hl & _M32)
    return hh + (lh >> 32) + (hl >> 32) + (mid >> 32)
