"""Stateless, reproducible random numbers for NumPy and CuPy arrays.

There is no global generator here. Every sampling function takes a *key*, a ``uint32``
array of shape ``(2,)``, and returns the same numbers for the same key on every run, every
platform and every NumPy/CuPy version. To get fresh numbers, derive new keys with
:func:`split` or :func:`fold_in`; never reuse a key for two different purposes.

How the bits are made:

* The generator is Threefry-2x32 with 20 rounds (Salmon, Moraes, Dror and Shaw, "Parallel
  random numbers: as easy as 1, 2, 3", SC 2011), computed with wrapping ``uint32`` array
  arithmetic in whichever array module holds the key, so the numbers are born on the key's
  device. :func:`threefry2x32` exposes the raw block function.
* A request for ``n`` values hashes the counters ``0, 1, ..., n - 1`` (each as a pair of
  32-bit words, high word first) under the key, giving 64 random bits per value. Value ``i``
  depends only on the key and ``i``.
* Keys made by :func:`split` hash counters whose high word has its top bit set, and
  :func:`fold_in` hashes under a key derived from the counter ``(0xC0000000, 0)``, so the
  three uses of a key draw from disjoint counter ranges (sampling uses counters below
  ``2**63``).

Devices: numbers are made on the device of the key. ``key(seed, device="gpu")`` makes a key
on the GPU, and every sampler takes ``device=`` to draw on a given device with a key from
anywhere. The block function is integer arithmetic, so a key gives the same bits, and the
same numbers up to the last bit of the float functions (log, sqrt, cos), on every device.

Floats are built from mantissa bits: a float32 uniform from the top 23 bits of the first
word, a float64 uniform from 52 bits of both words. The default float dtype is float64,
NumPy's default.

Sampling is not differentiable: passing a traced value (inside ``grad``, ``jit``, ...) as a
key, probability, bound or logits raises a ``TypeError`` that says to pass
``functrans.stop_gradient(...)`` of it instead.

Example:
    >>> from functrans import random
    >>> k = random.key(42)
    >>> k_init, k_dropout = random.split(k)
    >>> w = random.normal(k_init, (3, 2))
    >>> w.shape, w.dtype
    ((3, 2), dtype('float64'))
    >>> bool((random.normal(k_init, (3, 2)) == w).all())
    True
"""
from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from typing import Any, TypeVar, cast

import numpy as np

from functrans.backend import NUMPY, array_module, backend_of, device_put
from functrans.core.trace import Tracer
from functrans.errors import TracerConversionError
from functrans.primitives.opaque import opaque_call_p
from functrans.typing import Array, DType, Key

__all__ = [
    "key",
    "split",
    "fold_in",
    "threefry2x32",
    "uniform",
    "normal",
    "truncated_normal",
    "bernoulli",
    "randint",
    "categorical",
    "permutation",
    "choice",
]

Shape = int | Sequence[int]
"""The shape of a sample: an int ``n`` stands for ``(n,)``."""

ArrayModule = Any
"""The array namespace of a key (``numpy``, ``cupy``...), from ``array_module``."""

_M32 = 0xFFFFFFFF
_ROTATIONS = (13, 15, 26, 6, 17, 29, 16, 24)
_PARITY = 0x1BD11BDA  # key-schedule parity constant of Threefry (from Skein)
_SPLIT_TAG = 0x80000000  # top bit of the high counter word: keys made by split
_FOLD_TAG = 0xC0000000  # counter (_FOLD_TAG, 0): derives the key that fold_in hashes under
_BIG_INT_KEY = (0x6A09E667, 0xBB67AE85)  # start of the chain that hashes out-of-range ints
_FLOATS = (np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64))
_U32 = np.dtype(np.uint32)
_U64 = np.dtype(np.uint64)
_F64 = np.dtype(np.float64)
_KEY_HELP = "expected a key from functrans.random.key(seed) (uint32, shape (2,))"


# --------------------------------------------------------------------------------------------
# The block function
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# Argument checking
# --------------------------------------------------------------------------------------------


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _is_real(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_)
    )


def _reject_tracer(value: Any, name: str, fn: str) -> None:
    if hasattr(value, "_trace"):
        raise TracerConversionError(
            f"functrans.random.{fn}: argument '{name}' is a traced value, but random sampling "
            f"is not differentiable. Pass functrans.stop_gradient({name}) instead, or create "
            f"'{name}' outside the transformed function. (Inside jit or vmap only the key may "
            "be traced: pass the other arguments as concrete values.)"
        )


def _check_key(k: Any, fn: str) -> ArrayModule:
    """Validate a key and return its array module."""
    _reject_tracer(k, "key", fn)
    dtype = getattr(k, "dtype", None)
    shape = getattr(k, "shape", None)
    if dtype is None or shape is None:
        hint = ""
        if _is_int(k):
            hint = f"; to make a key from the seed {k}, call functrans.random.key({k})"
        raise TypeError(
            f"functrans.random.{fn}: {_KEY_HELP}, got {type(k).__name__} {k!r:.60}{hint}"
        )
    if dtype != _U32:
        raise TypeError(
            f"functrans.random.{fn}: {_KEY_HELP}, got an array of dtype {dtype} and shape "
            f"{tuple(shape)}"
        )
    if tuple(shape) != (2,):
        hint = ""
        if len(shape) >= 2 and shape[-1] == 2:
            hint = " (a batch of keys, as split returns; pass one of them, e.g. keys[0])"
        raise ValueError(
            f"functrans.random.{fn}: {_KEY_HELP}, got a uint32 array of shape "
            f"{tuple(shape)}{hint}"
        )
    return array_module(k)


def _check_shape(shape: Any, fn: str, name: str = "shape") -> tuple[int, ...]:
    if _is_int(shape):
        shape = (shape,)
    try:
        dims = tuple(shape)
    except TypeError:
        raise TypeError(
            f"functrans.random.{fn}: '{name}' must be an int or a tuple of ints, got "
            f"{type(shape).__name__} {shape!r:.60}"
        ) from None
    if not all(_is_int(d) for d in dims):
        raise TypeError(
            f"functrans.random.{fn}: '{name}' must be an int or a tuple of ints, got {dims!r:.60}"
        )
    dims = tuple(int(d) for d in dims)
    if any(d < 0 for d in dims):
        raise ValueError(
            f"functrans.random.{fn}: '{name}' must not have negative sizes, got {dims}"
        )
    return dims


def _float_dtype(dtype: DType, fn: str) -> np.dtype:
    try:
        d = np.dtype(dtype)
    except TypeError:
        d = None
    if d not in _FLOATS:
        other = ""
        if d is not None and d.kind in "iu":
            other = "; for integers use functrans.random.randint"
        raise TypeError(
            f"functrans.random.{fn}: dtype must be a floating dtype (float16, float32 or "
            f"float64), got {dtype!r}{other}"
        )
    return d


def _broadcasts_to(src: tuple[int, ...], dst: tuple[int, ...]) -> bool:
    """Whether an array of shape ``src`` broadcasts to exactly ``dst``."""
    if len(src) > len(dst):
        return False
    return all(s == 1 or s == d for s, d in zip(reversed(src), reversed(dst)))


def _size(shape: tuple[int, ...]) -> int:
    return math.prod(shape)


def _param(xp: ArrayModule, value: Any, name: str, fn: str, shape: tuple[int, ...],
           dtype: DType | None) -> float | Array:
    """A distribution parameter: a Python float, or a flat array broadcast to ``shape``."""
    _reject_tracer(value, name, fn)
    if _is_real(value):
        return float(value)
    try:
        arr = xp.asarray(value, dtype=dtype)
    except (TypeError, ValueError):
        raise TypeError(
            f"functrans.random.{fn}: '{name}' must be a real number or an array, got "
            f"{type(value).__name__} {value!r:.60}"
        ) from None
    if not _broadcasts_to(tuple(arr.shape), shape):
        raise ValueError(
            f"functrans.random.{fn}: '{name}' of shape {tuple(arr.shape)} does not broadcast to "
            f"the requested shape {shape}; pass a shape it broadcasts to"
        )
    return xp.broadcast_to(arr, shape).reshape(-1)


def _normalize_axis(axis: Any, ndim: int, fn: str) -> int:
    if not _is_int(axis):
        raise TypeError(f"functrans.random.{fn}: 'axis' must be an int, got {axis!r:.60}")
    if not -ndim <= axis < ndim:
        raise ValueError(
            f"functrans.random.{fn}: axis {axis} is out of range for an array with {ndim} "
            f"dimension(s)"
        )
    return int(axis) % ndim


# --------------------------------------------------------------------------------------------
# Keys
# --------------------------------------------------------------------------------------------


class _Draw:
    """One sampling call with its key left out: ``_Draw(normal, ((3,),), {})(key)`` draws."""

    __slots__ = ("sampler", "args", "kwargs")

    def __init__(self, sampler: Callable[..., Array], args: tuple, kwargs: dict) -> None:
        self.sampler, self.args, self.kwargs = sampler, args, kwargs

    def __call__(self, key: Array) -> Array:
        return self.sampler(key, *self.args, **self.kwargs)

    def __repr__(self) -> str:
        parts = [repr(a) for a in self.args] + [f"{k}={v!r}" for k, v in self.kwargs.items()]
        return f"{self.sampler.__name__}({', '.join(['key'] + parts)})"


_F = TypeVar("_F", bound=Callable[..., Array])


def _sampler(fn: _F) -> _F:
    """Make ``fn(key, ...)`` a public sampler, keeping its signature and docstring.

    The sampler runs ``fn`` with the arrays it makes from nothing (counters) on the key's
    device. ``device=``, which ``fn`` declares for its signature and documentation, is
    handled here: the key moves there first. A key without a concrete value (inside ``jit``,
    or batched by ``vmap``) makes the whole draw one ``opaque_call`` primitive, run on the
    key's value when the program runs (example by example under ``vmap``), so it gives the
    same numbers as an eager call.
    """

    @functools.wraps(fn)
    def sample(key: Array, *args: Any, device: str | None = None, **kwargs: Any) -> Array:
        if isinstance(key, Tracer):
            if device is not None:
                kwargs["device"] = device
            return opaque_call_p.bind(key, fn=_Draw(sample, args, kwargs))
        if device is not None:
            key = device_put(key, device)
        backend = backend_of(key)
        if backend is NUMPY or hasattr(key, "_trace"):
            return fn(key, *args, **kwargs)
        with backend.device_scope(backend.device_of(key)):
            return fn(key, *args, **kwargs)

    return cast(_F, sample)


def key(seed: int, *, device: str | None = None) -> Array:
    """Make a key from an integer seed.

    A seed in ``[0, 2**64)`` becomes the key ``[seed >> 32, seed & 0xffffffff]``; any other
    Python int (negative, or wider than 64 bits) is hashed into two words, so every int is a
    valid seed and the mapping never changes.

    Args:
        seed: Any Python or NumPy integer.
        device: where the key lives (``"cpu"`` by default, ``"gpu"``, ``"gpu:1"``); numbers
            drawn with it are made on that device.

    Returns:
        A ``uint32`` array of shape ``(2,)``: NumPy, or the array type of ``device``.

    Raises:
        TypeError: ``seed`` is not an integer.

    Example:
        >>> key(7)
        array([0, 7], dtype=uint32)
        >>> key(2**32 + 1)
        array([1, 1], dtype=uint32)
    """
    _reject_tracer(seed, "seed", "key")
    if not _is_int(seed):
        raise TypeError(
            f"functrans.random.key: the seed must be an int, got {type(seed).__name__} "
            f"{seed!r:.60}; convert it with int(...) if it is a whole number"
        )
    k = np.asarray(_int_words(int(seed)), dtype=_U32)
    return k if device is None else device_put(k, device)


@_sampler
def split(key: Key, num: int = 2, *, device: str | None = None) -> Array:
    """Derive ``num`` new, independent keys from ``key``.

    Args:
        key: A key from :func:`key`, :func:`split` or :func:`fold_in`.
        num: How many keys to make (at least 1).
        device: Where to work (``"gpu"``, ``"gpu:1"``...; the key is moved there first);
            by default the key's device.

    Returns:
        A ``uint32`` array of shape ``(num, 2)``, on the key's device; each row is a key.

    Raises:
        ValueError: ``num`` is less than 1.

    Example:
        >>> k1, k2 = split(key(0))
        >>> split(key(0), 3).shape
        (3, 2)
        >>> bool((k1 == k2).all())
        False
    """
    xp = _check_key(key, "split")
    if not _is_int(num):
        raise TypeError(f"functrans.random.split: 'num' must be an int, got {num!r:.60}")
    if num < 1:
        raise ValueError(
            f"functrans.random.split: 'num' must be at least 1, got {num}; split(key, 1) "
            f"gives one new key"
        )
    hi, lo = _counters(xp, int(num), _SPLIT_TAG)
    x0, x1 = _threefry(key[0:1], key[1:2], hi, lo)
    return xp.stack([x0, x1], axis=1)


@_sampler
def fold_in(key: Key, data: int, *, device: str | None = None) -> Array:
    """Derive a new key from ``key`` and an integer, e.g. a step or layer number.

    Different ``data`` give independent keys; the same ``data`` always gives the same key.

    Args:
        key: A key.
        data: Any Python or NumPy integer.
        device: Where to work (``"gpu"``, ``"gpu:1"``...; the key is moved there first);
            by default the key's device.

    Returns:
        A new key (``uint32``, shape ``(2,)``) on the key's device.

    Example:
        >>> k = key(0)
        >>> fold_in(k, 1).shape
        (2,)
        >>> bool((fold_in(k, 1) == fold_in(k, 2)).all())
        False
    """
    xp = _check_key(key, "fold_in")
    _reject_tracer(data, "data", "fold_in")
    if not _is_int(data):
        raise TypeError(
            f"functrans.random.fold_in: 'data' must be an int, got {type(data).__name__} "
            f"{data!r:.60}"
        )
    hi, lo = _counters(xp, 1, _FOLD_TAG)
    f0, f1 = _threefry(key[0:1], key[1:2], hi, lo)
    d_hi, d_lo = _int_words(int(data))
    y0, y1 = _threefry(f0, f1, xp.asarray([d_hi], dtype=_U32), xp.asarray([d_lo], dtype=_U32))
    return xp.concatenate([y0, y1])


@_sampler
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


# --------------------------------------------------------------------------------------------
# Continuous distributions
# --------------------------------------------------------------------------------------------


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


@_sampler
def uniform(
    key: Key,
    shape: Shape = (),
    dtype: DType = np.float64,
    minval: float | Array = 0.0,
    maxval: float | Array = 1.0,
    *,
    device: str | None = None,
) -> Array:
    """Uniform floats on ``[minval, maxval)``.

    Args:
        key: A key.
        shape: Shape of the result.
        dtype: float16, float32 or float64 (the default).
        minval: Lower bound (inclusive); a number or an array that broadcasts to ``shape``.
        maxval: Upper bound (exclusive); a number or an array that broadcasts to ``shape``.
        device: Where to draw (``"gpu"``, ``"gpu:1"``...; the key is moved there first);
            by default the key's device.

    Returns:
        An array of ``shape`` and ``dtype`` on the key's device.

    Raises:
        TypeError: ``dtype`` is not a floating dtype, or a bound is a traced value.
        ValueError: ``maxval <= minval`` (for number bounds), or a bound does not broadcast.

    Example:
        >>> x = uniform(key(0), (1000,), minval=-1.0, maxval=1.0)
        >>> bool((x >= -1.0).all() and (x < 1.0).all())
        True
        >>> uniform(key(0), 3, dtype="float32").dtype
        dtype('float32')
    """
    xp = _check_key(key, "uniform")
    shape = _check_shape(shape, "uniform")
    dtype = _float_dtype(dtype, "uniform")
    lo = _param(xp, minval, "minval", "uniform", shape, dtype)
    hi = _param(xp, maxval, "maxval", "uniform", shape, dtype)
    if isinstance(lo, float) and isinstance(hi, float) and not lo < hi:
        raise ValueError(
            f"functrans.random.uniform: maxval must be greater than minval (the range is "
            f"[minval, maxval)), got minval={minval!r}, maxval={maxval!r}"
        )
    u = _unit(xp, key, _size(shape), dtype)
    if not (isinstance(lo, float) and isinstance(hi, float) and lo == 0.0 and hi == 1.0):
        lo_a = xp.asarray(lo, dtype=dtype).reshape(-1)
        hi_a = xp.asarray(hi, dtype=dtype).reshape(-1)
        u = lo_a + (hi_a - lo_a) * u
        # Rounding of lo + (hi - lo) * u can reach hi; keep the upper end open.
        u = xp.minimum(u, xp.nextafter(hi_a, lo_a))
    return u.reshape(shape)


@_sampler
def normal(key: Key, shape: Shape = (), dtype: DType = np.float64, *,
           device: str | None = None) -> Array:
    """Standard normal floats (mean 0, variance 1), by the Box-Muller transform.

    Values come in pairs ``r cos(t), r sin(t)`` with ``r = sqrt(-2 log(1 - u1))`` and
    ``u1`` on [0, 1), so the logarithm never sees 0. With 52 mantissa bits the largest
    magnitude is about 8.5 (float64); with 23 bits about 5.6 (float32).

    Args:
        key: A key.
        shape: Shape of the result.
        dtype: float16, float32 or float64 (the default).
        device: Where to draw (``"gpu"``, ``"gpu:1"``...; the key is moved there first);
            by default the key's device.

    Returns:
        An array of ``shape`` and ``dtype`` on the key's device.

    Raises:
        TypeError: ``dtype`` is not a floating dtype.

    Example:
        >>> z = normal(key(1), (100_000,))
        >>> abs(float(z.mean())) < 0.02, abs(float(z.std()) - 1) < 0.02
        (True, True)
    """
    xp = _check_key(key, "normal")
    shape = _check_shape(shape, "normal")
    dtype = _float_dtype(dtype, "normal")
    work = np.dtype(np.float32) if dtype == np.float16 else dtype
    n = _size(shape)
    pairs = (n + 1) // 2
    u = _unit(xp, key, 2 * pairs, work)
    radius = xp.sqrt(-2.0 * xp.log(1.0 - u[:pairs]))
    angle = (2.0 * math.pi) * u[pairs:]
    z = xp.concatenate([radius * xp.cos(angle), radius * xp.sin(angle)])[:n]
    return z.astype(dtype, copy=False).reshape(shape)


# Special functions for truncated_normal, evaluated in float64 with array operations only.

_SERIES_TERMS = 40
_FRACTION_TERMS = 100
_SWITCH = 1.5  # below: power series for erf; above: continued fraction for erfc


def _erfc(xp: ArrayModule, x: Array) -> Array:
    """Complementary error function of a float64 array, accurate to about 1e-13 relative.

    For ``|x| < 1.5`` it uses ``erf(x) = 2x/sqrt(pi) exp(-x^2) sum_k (2x^2)^k / (1*3*...*(2k+1))``
    (all terms positive, so nothing cancels); beyond, the continued fraction
    ``erfc(x) = exp(-x^2)/sqrt(pi) / (x + (1/2)/(x + 1/(x + (3/2)/(x + ...))))``.
    """
    ax = xp.abs(x)
    xs = xp.minimum(ax, _SWITCH)
    z = 2.0 * xs * xs
    term = xp.ones_like(xs)
    total = xp.ones_like(xs)
    for k in range(1, _SERIES_TERMS):
        term = term * z / (2 * k + 1)
        total = total + term
    near = 1.0 - (2.0 / math.sqrt(math.pi)) * xs * xp.exp(-xs * xs) * total
    xl = xp.clip(ax, _SWITCH, 40.0)
    frac = xl
    for k in range(_FRACTION_TERMS, 0, -1):
        frac = xl + (0.5 * k) / frac
    far = xp.exp(-xl * xl) / (math.sqrt(math.pi) * frac)
    pos = xp.where(ax < _SWITCH, near, far)
    return xp.where(x < 0, 2.0 - pos, pos)


def _ndtr(xp: ArrayModule, x: Array) -> Array:
    """Standard normal CDF, with full relative precision in the lower tail."""
    return 0.5 * _erfc(xp, -x * (1.0 / math.sqrt(2.0)))


def _ndtri(xp: ArrayModule, p: Array) -> Array:
    """Inverse standard normal CDF of a float64 array with values in (0, 1).

    A rational first guess (Abramowitz and Stegun 26.2.23, error below 5e-4) refined by
    three Halley steps on ``ndtr(x) = q`` in the lower tail, where ``q = min(p, 1 - p)``.
    Probabilities below 1e-300 are treated as 1e-300 (about -37 standard deviations).
    """
    upper = p > 0.5
    q = xp.maximum(xp.where(upper, 1.0 - p, p), 1e-300)
    t = xp.sqrt(-2.0 * xp.log(q))
    numerator = 2.515517 + t * (0.802853 + t * 0.010328)
    denominator = 1.0 + t * (1.432788 + t * (0.189269 + t * 0.001308))
    x = numerator / denominator - t
    for _ in range(3):
        density = xp.maximum(xp.exp(-0.5 * x * x) * (1.0 / math.sqrt(2.0 * math.pi)), 1e-300)
        r = (_ndtr(xp, x) - q) / density
        x = x - r / (1.0 + 0.5 * x * r)
    return xp.where(upper, -x, x)


def _has_value_between(lower: float, upper: float, dtype: np.dtype) -> bool:
    """Whether some ``dtype`` value lies strictly between two Python floats (host only)."""
    with np.errstate(over="ignore"):
        lo, hi = dtype.type(lower), dtype.type(upper)
        return bool(np.nextafter(lo, dtype.type(np.inf)) <= np.nextafter(hi, dtype.type(-np.inf)))


@_sampler
def truncated_normal(
    key: Key,
    lower: float | Array,
    upper: float | Array,
    shape: Shape = (),
    dtype: DType = np.float64,
    *,
    device: str | None = None,
) -> Array:
    """Standard normal floats conditioned to lie strictly inside ``(lower, upper)``.

    Sampled by the inverse CDF: ``x = ndtri(ndtr(a) + u (ndtr(b) - ndtr(a)))`` for ``u`` on
    (0, 1), computed in float64 in whichever tail keeps precision, then cast to ``dtype`` and
    kept strictly inside the bounds. Accurate for bounds up to about 37 in magnitude.

    Args:
        key: A key.
        lower: Lower bound; a number (may be ``-inf``) or an array broadcasting to ``shape``.
        upper: Upper bound; a number (may be ``inf``) or an array broadcasting to ``shape``.
        shape: Shape of the result.
        dtype: float16, float32 or float64 (the default).
        device: Where to draw (``"gpu"``, ``"gpu:1"``...; the key is moved there first);
            by default the key's device.

    Returns:
        An array of ``shape`` and ``dtype`` on the key's device. Where array bounds have
        ``lower >= upper``, or no ``dtype`` value lies strictly between them, the result is
        NaN.

    Raises:
        TypeError: ``dtype`` is not a floating dtype, or a bound is a traced value.
        ValueError: number bounds with ``lower >= upper`` or with no ``dtype`` value strictly
            between them, or a bound that does not broadcast.

    Example:
        >>> x = truncated_normal(key(0), -2.0, 2.0, (1000,))
        >>> bool((x > -2.0).all() and (x < 2.0).all())
        True
    """
    xp = _check_key(key, "truncated_normal")
    shape = _check_shape(shape, "truncated_normal")
    dtype = _float_dtype(dtype, "truncated_normal")
    lo = _param(xp, lower, "lower", "truncated_normal", shape, _F64)
    hi = _param(xp, upper, "upper", "truncated_normal", shape, _F64)
    if isinstance(lo, float) and isinstance(hi, float):
        if not lo < hi:
            raise ValueError(
                f"functrans.random.truncated_normal: lower must be less than upper, got "
                f"lower={lower!r}, upper={upper!r}"
            )
        if not _has_value_between(lo, hi, dtype):
            raise ValueError(
                f"functrans.random.truncated_normal: no {dtype} value lies strictly between "
                f"lower={lower!r} and upper={upper!r}; widen the interval or use a wider dtype"
            )
    n = _size(shape)
    a = xp.broadcast_to(xp.asarray(lo, dtype=_F64).reshape(-1), (n,))
    b = xp.broadcast_to(xp.asarray(hi, dtype=_F64).reshape(-1), (n,))
    valid = a < b
    inf = xp.asarray([np.inf], dtype=dtype)
    big = float(np.finfo(dtype).max)  # clip first: casting huge float64 bounds would overflow
    floor = xp.nextafter(xp.clip(a, -big, big).astype(dtype), inf)
    ceiling = xp.nextafter(xp.clip(b, -big, big).astype(dtype), -inf)
    valid &= floor <= ceiling
    a = xp.where(valid, a, 0.0)
    b = xp.where(valid, b, 1.0)
    # Work in the lower tail, where the CDF keeps relative precision: mirror intervals that
    # lie mostly above zero (b > -a is a + b > 0 without computing inf - inf).
    flip = b > -a
    a_w = xp.where(flip, -b, a)
    b_w = xp.where(flip, -a, b)
    # Clip before the CDF so that infinite bounds give exact 0 and 1 without inf arithmetic.
    cdf_a = _ndtr(xp, xp.clip(a_w, -60.0, 60.0))
    cdf_b = _ndtr(xp, xp.clip(b_w, -60.0, 60.0))
    u = _unit(xp, key, n, _F64, open_interval=True)
    x = _ndtri(xp, cdf_a + u * (cdf_b - cdf_a))
    x = xp.where(flip, -x, x).astype(dtype)
    x = xp.minimum(xp.maximum(x, floor), ceiling)
    x = xp.where(valid, x, xp.asarray([np.nan], dtype=dtype))
    return x.reshape(shape)


# --------------------------------------------------------------------------------------------
# Discrete distributions
# --------------------------------------------------------------------------------------------


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


def _permutation_indices(xp: ArrayModule, k: Array, n: int) -> Array:
    """A random permutation of ``arange(n)``: a stable argsort of 64 random bits each."""
    return xp.argsort(_bits64(xp, k, n), kind="stable").astype(np.int64, copy=False)


@_sampler
def permutation(key: Key, x: int | Array, axis: int = 0, *, device: str | None = None) -> Array:
    """A random permutation of ``arange(x)``, or a shuffled copy of ``x`` along ``axis``.

    Args:
        key: A key.
        x: An int ``n`` (permute ``0 .. n-1``) or an array of at least one dimension.
        axis: The axis of ``x`` to shuffle.
        device: Where to draw (``"gpu"``, ``"gpu:1"``...; the key is moved there first);
            by default the key's device.

    Returns:
        An ``int64`` array of shape ``(n,)``, or an array like ``x``, on the key's device.

    Raises:
        ValueError: a negative ``n``, a scalar array, or an axis out of range.
        TypeError: ``x`` is a traced value; permute indices instead, as below.

    Example:
        >>> sorted(permutation(key(0), 5).tolist())
        [0, 1, 2, 3, 4]
        >>> import numpy as np
        >>> permutation(key(0), np.arange(6).reshape(3, 2)).shape
        (3, 2)
    """
    xp = _check_key(key, "permutation")
    if _is_int(x):
        if x < 0:
            raise ValueError(f"functrans.random.permutation: n must be non-negative, got {x}")
        return _permutation_indices(xp, key, int(x))
    if hasattr(x, "_trace"):
        raise TracerConversionError(
            "functrans.random.permutation: argument 'x' is a traced value, and shuffling does "
            "not trace through it. Index it with a permutation instead: "
            "x[functrans.random.permutation(key, len(x))], or pass functrans.stop_gradient(x)."
        )
    x = xp.asarray(x)
    if x.ndim == 0:
        raise ValueError(
            "functrans.random.permutation: x must be an int or an array with at least one "
            "dimension, got a 0-d array; for n items pass the int n"
        )
    ax = _normalize_axis(axis, x.ndim, "permutation")
    return xp.take(x, _permutation_indices(xp, key, x.shape[ax]), axis=ax)


@_sampler
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

    Raises:
        ValueError: more picks than items without replacement, an empty population, or
            ``p`` of the wrong shape.
        TypeError: ``a`` or ``p`` is a traced value.

    Example:
        >>> picks = choice(key(0), 10, (5,), replace=False)
        >>> len(set(picks.tolist()))
        5
    """
    xp = _check_key(key, "choice")
    shape = _check_shape(shape, "choice")
    if _is_int(a):
        if a < 0:
            raise ValueError(f"functrans.random.choice: n must be non-negative, got {a}")
        n = int(a)
    else:
        _reject_tracer(a, "a", "choice")
        a = xp.asarray(a)
        if a.ndim == 0:
            raise ValueError(
                "functrans.random.choice: a must be an int or an array with at least one "
                "dimension, got a 0-d array"
            )
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
        _reject_tracer(p, "p", "choice")
        p = xp.asarray(p, dtype=_F64)
        if tuple(p.shape) != (n,):
            raise ValueError(
                f"functrans.random.choice: p must have shape ({n},), one probability per item, "
                f"got shape {tuple(p.shape)}"
            )
        positive = p > 0
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
