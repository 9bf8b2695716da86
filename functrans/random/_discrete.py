"""Discrete samplers: Booleans, integers on a range, and categories."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

import functrans.numpy as fnp
from functrans.backend import to_host
from functrans.core.trace import Tracer
from functrans.primitives.opaque import opaque_call_p
from functrans.random._bits import _F64, ArrayModule, _bits, _bits64, _mulhi64, _unit
from functrans.random._checks import (
    Shape,
    _broadcast_shapes,
    _broadcasts_to,
    _check_key,
    _check_shape,
    _Draw,
    _float_dtype,
    _integer_dtype,
    _is_int,
    _is_real,
    _normalize_axis,
    _param,
    _reject_tracer,
    _sampler,
    _size,
    _StatedDraw,
    _traced_counts,
)
from functrans.random._continuous import _uniform
from functrans.random._keys import fold_in, split
from functrans.scipy.special import gammaln
from functrans.typing import Array, DType, Key


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

    A traced ``p`` (inside ``jit`` or ``vmap``, e.g. a keep rate passed to a compiled step)
    gives the eager draw.

    Example:
        >>> from functrans.random import key
        >>> b = bernoulli(key(0), 0.25, (10_000,))
        >>> b.dtype, abs(float(b.mean()) - 0.25) < 0.02
        (dtype('bool'), True)
        >>> import numpy as np
        >>> bernoulli(key(0), np.array([0.0, 1.0])).tolist()
        [False, True]
    """
    if isinstance(p, Tracer):
        p_shape = tuple(fnp.shape(p))
        shape = p_shape if shape is None else _check_shape(shape, "bernoulli")
        if not _broadcasts_to(p_shape, shape):
            raise ValueError(
                f"functrans.random.bernoulli: 'p' of shape {p_shape} does not broadcast to the "
                f"requested shape {shape}; pass a shape it broadcasts to"
            )
        # The eager rule, u < p with u the float64 unit draw, in traced arithmetic.
        return _uniform(key, shape, np.float64, device=device) < p
    return _bernoulli(key, p, shape, device=device)


bernoulli.__module__ = "functrans.random"  # the public path, for help() and reprs


@_sampler
def _bernoulli(
    key: Key, p: float | Array = 0.5, shape: Shape | None = None,
    *,
    device: str | None = None,
) -> Array:
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


def randint(
    key: Key, shape: Shape, minval: int | Array, maxval: int | Array, dtype: DType = np.int64,
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
        minval: Smallest value (inclusive): an int, or an integer array broadcasting to
            ``shape`` (one bound per value, as in JAX).
        maxval: Bound (exclusive), greater than ``minval``: an int, or an integer array
            broadcasting to ``shape``.
        dtype: An integer dtype whose range holds ``[minval, maxval)``; default int64.
        device: Where to draw (``"gpu"``, ``"gpu:1"``...; the key is moved there first);
            by default the key's device.

    Returns:
        An array of ``shape`` and ``dtype`` on the key's device.

    Raises:
        TypeError: ``dtype`` is not an integer dtype, or a bound is not an int or an integer
            array.
        ValueError: ``maxval <= minval`` (anywhere, for array bounds), the range does not fit
            ``dtype``, or a bound does not broadcast to ``shape``.

    Traced bounds (inside ``jit``, which traces Python ints, or ``vmap`` over bounds) give the
    eager integers; the checks on their values run when the program runs. Integer bounds
    carry no derivative, as in JAX.

    Example:
        >>> from functrans.random import key
        >>> d = randint(key(0), (1000,), 1, 7)
        >>> sorted(set(d.tolist()))
        [1, 2, 3, 4, 5, 6]
        >>> import numpy as np
        >>> r = randint(key(0), (1000, 2), np.array([0, 100]), np.array([2, 103]))
        >>> sorted(set(r[:, 0].tolist())), sorted(set(r[:, 1].tolist()))
        ([0, 1], [100, 101, 102])
    """
    if isinstance(minval, Tracer) or isinstance(maxval, Tracer):
        return _traced_randint(key, shape, minval, maxval, dtype, device)
    return _randint(key, shape, minval, maxval, dtype, device=device)


randint.__module__ = "functrans.random"  # the public path, for help() and reprs


def _randint_dtype(dtype: DType) -> np.dtype:
    return _integer_dtype(dtype, "randint", "iu", "an integer dtype (e.g. int64, int32, uint8)",
                          "for floats use functrans.random.uniform")


def _traced_randint(key: Key, shape: Shape, minval: Any, maxval: Any, dtype: DType,
                    device: str | None) -> Array:
    """``randint`` with a traced bound: one ``opaque_call`` of the key and the traced bounds,
    run on their values when the program runs (so it gives the eager integers, and raises the
    eager errors for an empty range or one that does not fit ``dtype`` then). Their dtype and
    shape are checked now."""
    dims = _check_shape(shape, "randint")
    d = _randint_dtype(dtype)
    named: dict[str, Any] = {"shape": dims, "dtype": d, "device": device}
    traced, arrays = [], []
    for name, value in (("minval", minval), ("maxval", maxval)):
        if not isinstance(value, Tracer):
            named[name] = value
            continue
        value_shape, value_dtype = tuple(fnp.shape(value)), np.dtype(fnp.result_type(value))
        if value_dtype.kind not in "iu":
            raise TypeError(
                f"functrans.random.randint: '{name}' must be an int or an integer array, got a "
                f"traced array of dtype {value_dtype}; for float bounds use "
                f"functrans.random.uniform, or pass {name}.astype(int)"
            )
        if not _broadcasts_to(value_shape, dims):
            raise ValueError(
                f"functrans.random.randint: '{name}' of shape {value_shape} does not broadcast "
                f"to the requested shape {dims}; pass a shape it broadcasts to"
            )
        traced.append(name)
        arrays.append(value)
    draw = _StatedDraw(_randint, (), named, tuple(traced), (dims, d))
    return opaque_call_p.bind(key, *arrays, fn=draw)


@_sampler
def _randint(
    key: Key, shape: Shape, minval: int | Array, maxval: int | Array, dtype: DType = np.int64,
    *,
    device: str | None = None,
) -> Array:
    xp = _check_key(key, "randint")
    shape = _check_shape(shape, "randint")
    d = _randint_dtype(dtype)
    if not (_is_int(minval) and _is_int(maxval)):
        return _randint_arrays(xp, key, shape, minval, maxval, d)
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


def _int_bound(xp: ArrayModule, value: Any, name: str, shape: tuple[int, ...]) -> Array:
    """An int or integer-array bound of ``randint``, broadcast to ``shape`` and flattened."""
    try:
        arr = xp.asarray(value)
    except (TypeError, ValueError):
        arr = None
    if arr is None or arr.dtype.kind not in "iu" or isinstance(value, (bool, np.bool_)):
        raise TypeError(
            f"functrans.random.randint: '{name}' must be an int or an integer array, got "
            f"{type(value).__name__} {value!r:.60}"
        )
    if not _broadcasts_to(tuple(arr.shape), shape):
        raise ValueError(
            f"functrans.random.randint: '{name}' of shape {tuple(arr.shape)} does not broadcast "
            f"to the requested shape {shape}; pass a shape it broadcasts to"
        )
    return xp.broadcast_to(arr, shape).reshape(-1)


def _as_u64(xp: ArrayModule, arr: Array) -> Array:
    """Integers as ``uint64`` modulo ``2**64`` (negative ones wrap)."""
    return arr.astype(np.int64).view(np.uint64) if arr.dtype.kind == "i" else arr.astype(np.uint64)


def _randint_arrays(xp: ArrayModule, key: Array, shape: tuple[int, ...], minval: Any,
                    maxval: Any, d: np.dtype) -> Array:
    """``randint`` with array bounds: the scalar rule element by element, in wrapping
    ``uint64`` arithmetic (every span is below ``2**64`` once the range fits ``d``)."""
    lo = _int_bound(xp, minval, "minval", shape)
    hi = _int_bound(xp, maxval, "maxval", shape)
    if lo.size:
        # one comparison per bound decides an error, as for int bounds: the bounds are read
        # from their device once, explicitly
        host_lo, host_hi = to_host(lo), to_host(hi)
        empty = host_lo >= host_hi
        if empty.any():
            i = int(empty.argmax())
            raise ValueError(
                f"functrans.random.randint: maxval must be greater than minval (the range is "
                f"[minval, maxval)), got minval={int(host_lo[i])}, maxval={int(host_hi[i])} at "
                f"flat position {i} of shape {shape}"
            )
        info = np.iinfo(d)
        smallest, largest = int(host_lo.min()), int(host_hi.max())
        if smallest < info.min or largest - 1 > info.max:
            raise ValueError(
                f"functrans.random.randint: the bounds span [{smallest}, {largest}), which does "
                f"not fit dtype {d} (which holds [{info.min}, {info.max}]); use a wider dtype"
            )
    lo_u = _as_u64(xp, lo)
    span = _as_u64(xp, hi) - lo_u  # exact: 0 < span < 2**64
    values = _mulhi64(xp, _bits64(xp, key, _size(shape)), span) + lo_u
    if d.kind == "i":
        values = values.view(np.int64)
    return values.astype(d, copy=False).reshape(shape)


def categorical(
    key: Key, logits: Array, axis: int = -1, shape: Shape | None = None, replace: bool = True, *,
    device: str | None = None
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
        replace: With ``False``, the leading axes of ``shape`` (before the batch shape, which
            ``shape`` must then end with) hold draws without replacement from each
            distribution, by the Gumbel-top-k trick (as JAX).
        device: Where to draw (``"gpu"``, ``"gpu:1"``...; the key is moved there first);
            by default the key's device.

    Returns:
        An ``int64`` array of ``shape`` on the key's device.

    ``logits`` may be traced (under ``jit``, ``vmap`` or ``grad``: a policy's action drawn
    inside a jitted step); the draw then runs when the program runs, on their values. The
    indices are integers, so no derivative flows back to ``logits``.

    Raises:
        ValueError: ``logits`` has no categories axis, or shapes do not fit; without
            replacement, more draws than categories (than categories with a finite logit,
            when the logits are concrete: traced ones are not read, so there, as in JAX,
            draws beyond the finite categories pick categories of logit ``-inf``).

    Example:
        >>> from functrans.random import key
        >>> import numpy as np
        >>> c = categorical(key(0), np.log(np.array([0.2, 0.8])), shape=(10_000,))
        >>> c.dtype, abs(float(c.mean()) - 0.8) < 0.02
        (dtype('int64'), True)
        >>> sorted(categorical(key(0), np.zeros(4), shape=(4,), replace=False).tolist())
        [0, 1, 2, 3]
    """
    if isinstance(logits, Tracer):
        # counted=False: the shape rule runs the draw on all-zero stand-ins of the logits.
        draw = _Draw(_categorical, (), {"axis": axis, "shape": shape, "replace": replace,
                                        "counted": False, "device": device}, ("logits",))
        return opaque_call_p.bind(key, logits, fn=draw)
    return _categorical(key, logits, axis, shape, replace, device=device)


categorical.__module__ = "functrans.random"  # the public path, for help() and reprs


@_sampler
def _categorical(
    key: Key, logits: Array, axis: int = -1, shape: Shape | None = None, replace: bool = True, *,
    device: str | None = None, counted: bool = True
) -> Array:
    xp = _check_key(key, "categorical")
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
    if not replace:
        return _categorical_distinct(xp, key, moved, shape, counted)
    u = _unit(xp, key, _size(shape) * n, _F64, open_interval=True)
    gumbel = -xp.log(-xp.log(u))
    scores = moved + gumbel.reshape(shape + (n,))
    return xp.argmax(scores.reshape(-1, n), axis=-1).astype(np.int64).reshape(shape)


def _categorical_distinct(xp: ArrayModule, key: Array, moved: Array, shape: tuple[int, ...],
                          counted: bool) -> Array:
    """Draws without replacement: the ``k`` largest of ``logits + Gumbel noise`` of each
    distribution (categories last in ``moved``), ``k`` the size of ``shape``'s leading axes."""
    batch, n = tuple(moved.shape[:-1]), moved.shape[-1]
    lead = len(shape) - len(batch)
    if lead < 0 or shape[lead:] != batch:
        raise ValueError(
            f"functrans.random.categorical: without replacement, shape must be the draws' "
            f"shape followed by logits' batch shape {batch}, got {shape}"
        )
    k = _size(shape[:lead])
    finite = int(to_host((moved > -np.inf).sum(axis=-1).min())) \
        if counted and moved.size else n
    if k > min(n, finite):
        raise ValueError(
            f"functrans.random.categorical: cannot draw {k} categories without replacement "
            f"from {n} ({finite} with a finite logit); draw at most {min(n, finite)}"
        )
    u = _unit(xp, key, _size(batch) * n, _F64, open_interval=True)
    scores = moved + (-xp.log(-xp.log(u))).reshape(batch + (n,))
    top = xp.argsort(-scores, axis=-1, kind="stable")[..., :k].astype(np.int64)
    return xp.moveaxis(top, -1, 0).reshape(shape)


def _int_dtype(dtype: DType, fn: str) -> np.dtype:
    try:
        d = np.dtype(dtype)
    except TypeError:
        d = None
    if d is None or d.kind not in "iu":
        raise TypeError(
            f"functrans.random.{fn}: dtype must be an integer dtype (e.g. int64, int32), got "
            f"{dtype!r}"
        )
    return d


def _as_counts(xp: ArrayModule, counts: Array, d: np.dtype) -> Array:
    """Float64 counts as ``d``: NaN (invalid parameters) becomes -1, and counts beyond ``d``'s
    largest value saturate at it (as JAX's casts do) instead of wrapping to negative ones."""
    top = float(np.iinfo(d).max)
    if int(top) > np.iinfo(d).max:  # 2**63 - 1 rounds up to 2**63 in float64
        top = math.nextafter(top, 0.0)
    return xp.where(xp.isnan(counts), -1.0, xp.minimum(counts, top)).astype(d)


def _count_param(xp: ArrayModule, value: Any, name: str, fn: str, shape: Shape | None,
                 **others: Any) -> tuple[Any, tuple[int, ...]]:
    """A parameter of a discrete sampler (not differentiable): a float64 array on the key's
    device, flat, broadcast to the sample's shape (``None``: the parameters' own shape)."""
    _reject_tracer(value, name, fn)
    arr = xp.asarray(value, dtype=_F64)
    shapes = {name: tuple(arr.shape), **{k: tuple(v.shape) for k, v in others.items()}}
    if shape is None:
        out = _broadcast_shapes(fn, shapes)
    else:
        out = _check_shape(shape, fn)
        for k, s in shapes.items():
            if not _broadcasts_to(s, out):
                raise ValueError(
                    f"functrans.random.{fn}: '{k}' of shape {s} does not broadcast to the "
                    f"requested shape {out}; pass a shape it broadcasts to"
                )
    return xp.broadcast_to(arr, out).reshape(-1), out


@_sampler
def bits(key: Key, shape: Shape = (), dtype: DType = np.uint32, *,
         device: str | None = None) -> Array:
    """Raw random bits as unsigned integers: every bit independent and fair.

    ``uint64`` values take the 64 bits of their counter's block; narrower ones take the top
    bits of its first 32-bit word (as JAX's ``bits``, with functrans's own counters).

    Args:
        key: A key.
        shape: Shape of the result.
        dtype: uint8, uint16, uint32 (the default) or uint64.
        device: Where to draw (``"gpu"``, ``"gpu:1"``...; the key is moved there first);
            by default the key's device.

    Returns:
        An array of ``shape`` and ``dtype`` on the key's device.

    Raises:
        TypeError: ``dtype`` is not an unsigned integer dtype.

    Example:
        >>> from functrans.random import key
        >>> b = bits(key(0), (1000,), "uint8")
        >>> b.dtype, int(b.min()) >= 0, int(b.max()) <= 255
        (dtype('uint8'), True, True)
    """
    xp = _check_key(key, "bits")
    shape = _check_shape(shape, "bits")
    d = _integer_dtype(dtype, "bits", "u", "an unsigned integer dtype (uint8, uint16, uint32 or "
                       "uint64)", "for a range of integers use randint")
    n = _size(shape)
    if d.itemsize == 8:
        return _bits64(xp, key, n).reshape(shape)
    word = _bits(xp, key, n)[0]
    return (word >> (32 - 8 * d.itemsize)).astype(d).reshape(shape)


@_sampler
def rademacher(key: Key, shape: Shape = (), dtype: DType = np.int64, *,
               device: str | None = None) -> Array:
    """Random signs: -1 or +1 with equal probability.

    Args:
        key: A key.
        shape: Shape of the result.
        dtype: The result's dtype, an integer or floating dtype (default int64).
        device: Where to draw (the key is moved there first); by default the key's device.

    Returns:
        An array of ``shape`` and ``dtype`` on the key's device.

    Raises:
        TypeError: ``dtype`` is neither an integer nor a floating dtype.

    Example:
        >>> from functrans.random import key
        >>> sorted(set(rademacher(key(0), 100).tolist()))
        [-1, 1]
    """
    xp = _check_key(key, "rademacher")
    shape = _check_shape(shape, "rademacher")
    d: np.dtype | None
    try:
        d = np.dtype(dtype)
    except TypeError:
        d = None
    if d is None or d.kind not in "iuf" or d.kind == "u":
        raise TypeError(
            f"functrans.random.rademacher: dtype must be a signed integer or floating dtype, "
            f"got {dtype!r}"
        )
    x0, _ = _bits(xp, key, _size(shape))
    return (2 * (x0 >> 31).astype(np.int64) - 1).astype(d).reshape(shape)


@_traced_counts("p")
@_sampler
def geometric(key: Key, p: float | Array, shape: Shape | None = None, dtype: DType = np.int64, *,
              device: str | None = None) -> Array:
    """The number of Bernoulli(p) trials up to and including the first success (1, 2, ...).

    Sampled by inversion: ``1 + floor(log(u) / log(1 - p))`` for ``u`` on (0, 1).

    Args:
        key: A key.
        p: Success probability in (0, 1]; a number or an array.
        shape: Shape of the result; ``None`` means the shape of ``p``.
        dtype: An integer dtype (default int64).
        device: Where to draw (the key is moved there first); by default the key's device.

    Returns:
        An array of ``shape`` and ``dtype`` on the key's device; -1 where ``p`` is not in
        (0, 1] (or NaN); counts beyond ``dtype``'s largest value saturate at it.

    Raises:
        TypeError: ``dtype`` is not an integer dtype.
        ValueError: ``p`` does not broadcast to ``shape``.

    A traced ``p`` (inside ``jit`` or ``vmap``) gives the eager counts.

    Example:
        >>> from functrans.random import key
        >>> g = geometric(key(0), 0.25, (10_000,))
        >>> int(g.min()), abs(float(g.mean()) - 4.0) < 0.2
        (1, True)
    """
    xp = _check_key(key, "geometric")
    d = _int_dtype(dtype, "geometric")
    prob, shape = _count_param(xp, p, "p", "geometric", shape)
    u = _unit(xp, key, _size(shape), _F64, open_interval=True)
    one = prob == 1.0
    valid = (prob > 0.0) & (prob <= 1.0)  # False for NaN
    log_q = xp.log1p(-xp.where(valid & ~one, prob, 0.5))
    k = 1.0 + xp.floor(xp.log(u) / log_q)
    return _as_counts(xp, xp.where(valid, xp.where(one, 1.0, k), np.nan), d).reshape(shape)


def _rounds(key: Array, n: int, rounds: int) -> tuple[Array, Array]:
    """Two uniform draws on (0, 1) for round ``rounds`` of a rejection loop."""
    xp = _check_key(key, "poisson")
    ku, kv = split(fold_in(key, rounds))
    return _unit(xp, ku, n, _F64, open_interval=True), _unit(xp, kv, n, _F64, open_interval=True)


_MAX_ROUNDS = 10_000
_SMALL_MEAN = 10.0  # below: count exponential gaps; above: transformed rejection


def _poisson_counts(xp: ArrayModule, key: Array, lam: Array) -> Array:
    """Poisson(lam) counts of a flat float64 array, as float64 (NaN where lam < 0 or NaN).

    Small means count the unit-rate exponential gaps that fit in ``lam``; large means use
    Hörmann's transformed rejection with squeeze (PTRS, Insurance: Mathematics and
    Economics 12, 1993), accepting on the exact log-pmf.
    """
    n = lam.shape[0]
    valid = lam >= 0
    small = valid & (lam < _SMALL_MEAN)
    big = valid & ~small
    lam_small = xp.where(small, lam, 0.0)
    lam_big = xp.where(big, lam, _SMALL_MEAN)
    slam = xp.sqrt(lam_big)
    log_lam = xp.log(lam_big)
    b = 0.931 + 2.53 * slam
    a = -0.059 + 0.02483 * b
    inv_alpha = 1.1239 + 1.1328 / (b - 3.4)
    v_r = 0.9277 - 3.6224 / (b - 2.0)
    count = xp.zeros(n, dtype=_F64)
    used = xp.zeros(n, dtype=_F64)  # exponential time used so far (small means)
    done = ~valid | (small & (lam_small == 0.0))
    small_key, big_key = _split_two(key)
    for r in range(_MAX_ROUNDS):
        if bool(to_host(done.all())):
            break
        u, v = _rounds(small_key if r % 2 == 0 else big_key, n, r)
        # small means: one exponential gap per round
        used = used - xp.log(u)
        step = small & ~done
        over = step & (used > lam_small)
        count = xp.where(step & ~over, count + 1.0, count)
        done = done | over
        # large means: one PTRS proposal per round
        us = 0.5 - xp.abs(u - 0.5)
        k = xp.floor((2.0 * a / us + b) * (u - 0.5) + lam_big + 0.43)
        quick = (us >= 0.07) & (v <= v_r)
        k_safe = xp.maximum(k, 0.0)
        log_accept = (xp.log(v) + xp.log(inv_alpha) - xp.log(a / (us * us) + b)
                      <= -lam_big + k_safe * log_lam - gammaln(k_safe + 1.0))
        ok = big & ~done & (k >= 0) & (quick | (~((us < 0.013) & (v > us)) & log_accept))
        count = xp.where(ok, k, count)
        done = done | ok
    return xp.where(valid, count, math.nan)


def _split_two(key: Array) -> tuple[Array, Array]:
    keys = split(key)
    return keys[0], keys[1]


@_traced_counts("lam")
@_sampler
def poisson(key: Key, lam: float | Array, shape: Shape | None = None, dtype: DType = np.int64, *,
            device: str | None = None) -> Array:
    """Poisson counts with mean ``lam``.

    Means below 10 count unit-rate exponential gaps; larger means use Hörmann's transformed
    rejection (PTRS), accepting on the exact log-probability. Both loops draw every element in
    every round, so a value depends on the key, its mean and its position only.

    Args:
        key: A key.
        lam: Mean, non-negative; a number or an array.
        shape: Shape of the result; ``None`` means the shape of ``lam``.
        dtype: An integer dtype (default int64).
        device: Where to draw (the key is moved there first); by default the key's device.

    Returns:
        An array of ``shape`` and ``dtype`` on the key's device; -1 where ``lam`` is negative
        or NaN; counts beyond ``dtype``'s largest value saturate at it.

    Raises:
        TypeError: ``dtype`` is not an integer dtype.
        ValueError: ``lam`` does not broadcast to ``shape``.

    A traced ``lam`` (inside ``jit`` or ``vmap``) gives the eager counts.

    Example:
        >>> from functrans.random import key
        >>> c = poisson(key(0), 3.0, (10_000,))
        >>> abs(float(c.mean()) - 3.0) < 0.1
        True
    """
    xp = _check_key(key, "poisson")
    d = _int_dtype(dtype, "poisson")
    lam, shape = _count_param(xp, lam, "lam", "poisson", shape)
    counts = _poisson_counts(xp, key, lam)
    return _as_counts(xp, counts, d).reshape(shape)


def _binomial_counts(xp: ArrayModule, key: Array, n: Array, p: Array) -> Array:
    """Binomial(n, p) counts of flat float64 arrays, as float64 (NaN for invalid parameters).

    Works with ``q = min(p, 1 - p)`` and mirrors the count. Where ``n q < 10`` it adds
    geometric waiting times until they pass ``n`` (inversion); elsewhere it uses Hörmann's
    BTRS transformed rejection ("The generation of binomial random variates", J. Statist.
    Comput. Simul. 46, 1993), accepting on the exact log-probability ratio.
    """
    size = n.shape[0]
    valid = (n >= 0) & (p >= 0) & (p <= 1) & (xp.floor(n) == n)
    flip = p > 0.5
    q = xp.where(valid, xp.where(flip, 1.0 - p, p), 0.0)
    n = xp.where(valid, n, 0.0)
    small = valid & (n * q < 10.0)
    big = valid & ~small
    # inversion
    log_1mq = xp.log1p(-xp.where(small & (q > 0), q, 0.5))
    # BTRS constants (evaluated on safe values where unused)
    qb = xp.where(big, q, 0.5)
    nb = xp.where(big, n, 100.0)
    spq = xp.sqrt(nb * qb * (1.0 - qb))
    b = 1.15 + 2.53 * spq
    a = -0.0873 + 0.0248 * b + 0.01 * qb
    c = nb * qb + 0.5
    v_r = 0.92 - 4.2 / b
    alpha = (2.83 + 5.1 / b) * spq
    log_r = xp.log(qb / (1.0 - qb))
    m = xp.floor((nb + 1.0) * qb)
    log_fm = gammaln(m + 1.0) + gammaln(nb - m + 1.0)
    count = xp.zeros(size, dtype=_F64)
    total = xp.zeros(size, dtype=_F64)
    done = ~valid | (small & (q == 0.0))
    small_key, big_key = _split_two(key)
    for r in range(_MAX_ROUNDS):
        if bool(to_host(done.all())):
            break
        u, v = _rounds(small_key if r % 2 == 0 else big_key, size, r)
        total = total + xp.ceil(xp.log(u) / log_1mq)
        step = small & ~done
        over = step & (total > n)
        count = xp.where(step & ~over, count + 1.0, count)
        done = done | over
        us = 0.5 - xp.abs(u - 0.5)
        k = xp.floor((2.0 * a / us + b) * (u - 0.5) + c)
        inside = (k >= 0) & (k <= nb)
        quick = (us >= 0.07) & (v <= v_r)
        k_safe = xp.clip(k, 0.0, nb)
        log_ratio = (log_fm - gammaln(k_safe + 1.0) - gammaln(nb - k_safe + 1.0)
                     + (k_safe - m) * log_r)
        accept = xp.log(v * alpha / (a / (us * us) + b)) <= log_ratio
        ok = big & ~done & inside & (quick | accept)
        count = xp.where(ok, k, count)
        done = done | ok
    count = xp.where(flip, n - count, count)
    return xp.where(valid, count, math.nan)


@_traced_counts("n", "p")
@_sampler
def binomial(key: Key, n: float | Array, p: float | Array, shape: Shape | None = None,
             dtype: DType = np.int64, *, device: str | None = None) -> Array:
    """Binomial counts: successes in ``n`` trials of probability ``p``.

    Small ``n min(p, 1-p)`` (below 10) adds geometric waiting times (inversion); larger use
    Hörmann's BTRS transformed rejection, accepting on the exact probability ratio.

    Args:
        key: A key.
        n: Number of trials, a non-negative whole number; a number or an array.
        p: Success probability in [0, 1]; a number or an array.
        shape: Shape of the result; ``None`` means the broadcast shape of ``n`` and ``p``.
        dtype: An integer dtype (default int64).
        device: Where to draw (the key is moved there first); by default the key's device.

    Returns:
        An array of ``shape`` and ``dtype`` on the key's device; -1 where the parameters are
        invalid (negative or fractional ``n``, ``p`` outside [0, 1]); counts beyond ``dtype``'s
        largest value saturate at it.

    Raises:
        TypeError: ``dtype`` is not an integer dtype.
        ValueError: the parameters do not broadcast to ``shape``.

    Traced parameters (inside ``jit`` or ``vmap``) give the eager counts.

    Example:
        >>> from functrans.random import key
        >>> c = binomial(key(0), 20, 0.3, (10_000,))
        >>> abs(float(c.mean()) - 6.0) < 0.1, int(c.max()) <= 20
        (True, True)
    """
    xp = _check_key(key, "binomial")
    d = _int_dtype(dtype, "binomial")
    _reject_tracer(n, "n", "binomial")
    n_arr = xp.asarray(n, dtype=_F64)
    prob, shape = _count_param(xp, p, "p", "binomial", shape, n=n_arr)
    trials = xp.broadcast_to(n_arr, shape).reshape(-1)
    counts = _binomial_counts(xp, key, trials, prob)
    return _as_counts(xp, counts, d).reshape(shape)


@_traced_counts("n", "p")
@_sampler
def multinomial(key: Key, n: float | Array, p: Array, *, shape: Shape | None = None,
                dtype: DType = np.float64, unroll: int | bool = 1,
                device: str | None = None) -> Array:
    """Counts of ``n`` trials spread over the outcomes of ``p`` (last axis), JAX's
    ``multinomial``.

    Drawn outcome by outcome: the count of outcome ``i`` is binomial in the trials left with
    probability ``p_i / (p_i + ... + p_k)``, so the counts sum to ``n`` exactly. ``p`` need
    not be normalised.

    Args:
        key: A key.
        n: Number of trials, a non-negative whole number; a number or an array broadcasting
            to the batch shape.
        p: Non-negative outcome weights, outcomes along the last axis.
        shape: The batch shape (the result's shape without its last axis); ``None`` means
            the broadcast shape of ``n`` and ``p.shape[:-1]``.
        dtype: A floating dtype for the counts (as in JAX; default float64).
        unroll: Accepted for JAX compatibility (its ``scan`` unrolling); changes nothing.
        device: Where to draw (the key is moved there first); by default the key's device.

    Returns:
        Counts of shape ``shape + p.shape[-1:]`` and ``dtype``, on the key's device; NaN
        where ``n`` is negative or fractional, or ``p`` has a negative or NaN weight or only
        zeros.

    Raises:
        TypeError: ``dtype`` is not a floating dtype.
        ValueError: ``p`` is 0-d, or the parameters do not broadcast to ``shape``.

    Traced parameters (inside ``jit`` or ``vmap``) give the eager counts.

    Example:
        >>> import numpy as np
        >>> from functrans.random import key
        >>> c = multinomial(key(0), 100, np.array([0.2, 0.3, 0.5]), shape=(2,))
        >>> c.shape, c.sum(axis=-1).tolist()
        ((2, 3), [100.0, 100.0])
    """
    xp = _check_key(key, "multinomial")
    d = _float_dtype(dtype, "multinomial")
    _reject_tracer(n, "n", "multinomial")
    _reject_tracer(p, "p", "multinomial")
    weights = xp.asarray(p, dtype=_F64)
    if weights.ndim == 0:
        raise ValueError("functrans.random.multinomial: p must have an outcomes axis (its last "
                         "axis), got a 0-d array")
    trials = xp.asarray(n, dtype=_F64)
    k = weights.shape[-1]
    shapes = {"n": tuple(trials.shape), "p.shape[:-1]": tuple(weights.shape[:-1])}
    if shape is None:
        batch = _broadcast_shapes("multinomial", shapes)
    else:
        batch = _check_shape(shape, "multinomial")
        for name, s in shapes.items():
            if not _broadcasts_to(s, batch):
                raise ValueError(
                    f"functrans.random.multinomial: '{name}' of shape {s} does not broadcast "
                    f"to the batch shape {batch}; pass a shape it broadcasts to"
                )
    size = _size(batch)
    weights = xp.broadcast_to(weights, batch + (k,)).reshape(size, k)
    left = xp.broadcast_to(trials, batch).reshape(-1)
    bad = ~((weights >= 0) & (weights < np.inf)).all(axis=1) | ~(weights > 0).any(axis=1)
    weights = xp.where(bad[:, None], 1.0, weights)
    tail = xp.cumsum(weights[:, ::-1], axis=1)[:, ::-1]  # p_i + ... + p_k
    ratios = xp.clip(xp.where(tail > 0, weights / xp.where(tail > 0, tail, 1.0), 0.0), 0.0, 1.0)
    counts = []
    for i, outcome_key in enumerate(split(key, k)):
        c = _binomial_counts(xp, outcome_key, left, ratios[:, i])
        counts.append(c)
        left = left - c
    out = xp.stack(counts, axis=1)
    out = xp.where(bad[:, None], np.nan, out)
    return out.astype(d).reshape(batch + (k,))
