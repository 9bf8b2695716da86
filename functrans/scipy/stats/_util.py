"""What the distributions of functrans.scipy.stats share: floating arguments, the loc-scale
standardisation, SciPy's nan for invalid parameters, and the masks that keep points outside
a support out of the arithmetic (so their values and derivatives stay finite)."""
from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

import functrans.numpy as fnp
from functrans.core.staging import scalar_kind
from functrans.numpy._util import placed_like
from functrans.scipy._nn_math import log1mexp  # log(1 - exp(-d)) for d >= 0, accurate at both ends
from functrans.scipy._util import as_float
from functrans.typing import Array, ArrayLike

F = TypeVar("F", bound=Callable[..., Any])


def distribution_function(fn: F) -> F:
    """``fn`` as a distribution function: without NumPy's floating-point warnings (a
    distribution returns ``-inf``, ``0`` or ``nan`` where SciPy does, silently as SciPy does:
    ``log(0)`` at the end of a support is a value here, not a mistake), and with its result in
    the floating dtype NumPy 2 gives its arguments (Python numbers are weak: a float32 ``x``
    with ``loc=0.0`` stays float32 even where a parameter-only term was computed in float64).
    Array arguments are computed in that dtype (an integer count or a float32 probability
    beside float64 ones is converted first, as NumPy's ufuncs convert their inputs), and Python
    and NumPy numbers among the arguments of a call on another library's arrays (a device)
    become arrays there, so that no term made of parameters alone is a host array beside them."""

    @functools.wraps(fn)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        dtype = _result_dtype(*args, *kwargs.values())
        like = _device_operand(*args, *kwargs.values())
        args = tuple(_in_dtype(a, dtype, like) for a in args)
        kwargs = {k: _in_dtype(v, dtype, like) for k, v in kwargs.items()}
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            out = fn(*args, **kwargs)
        return out if out.dtype == dtype else fnp.astype(out, dtype)

    return wrapped  # type: ignore[return-value]


_HOST_NUMBERS = (int, float, np.generic)


def _device_operand(*args: Any) -> Any:
    """The first argument that is an array of another library than NumPy, or a tracer (whose
    value may live anywhere); None if all are NumPy's or Python's."""
    for a in args:
        if a is None or isinstance(a, (bool, str, np.ndarray, *_HOST_NUMBERS)):
            continue
        if hasattr(a, "dtype"):
            return a
    return None


def _in_dtype(a: Any, dtype: np.dtype, like: Any) -> Any:
    """An array argument in ``dtype``; a number placed like ``like`` (kept as it is without one)."""
    if isinstance(a, bool) or a is None:
        return a
    if isinstance(a, _HOST_NUMBERS):
        return a if like is None else placed_like(np.asarray(a, dtype), like)  # host-data: a number
    current = getattr(a, "dtype", None)
    if current is not None and current != dtype and current.kind in "biuf":
        return fnp.astype(a, dtype)
    return a


def _result_dtype(*args: Any) -> np.dtype:
    """NumPy 2's result dtype of the numeric arguments; float64 where that is an integer dtype."""
    kinds: list[Any] = []
    for a in args:
        if a is None or isinstance(a, str):
            continue
        weak = scalar_kind(a)  # a Python number, or (under jit) a variable standing for one
        if weak is not None:
            kinds.append(weak(0))
        else:
            kinds.append(a.dtype if hasattr(a, "dtype") else np.asarray(a).dtype)  # host-data: lists
    dtype = np.result_type(*kinds)
    return dtype if dtype.kind in "fc" else np.dtype(np.float64)


def floats(*args: ArrayLike) -> tuple[Any, ...]:
    """Each argument in a floating dtype (integers become float64, Python numbers stay weak)."""
    return tuple(as_float(a) for a in args)


def positive(a: ArrayLike) -> tuple[Any, Any]:
    """``(a > 0, a)`` with 1 in place of the entries that are not positive (whose results
    ``nan_unless`` replaces by ``nan``). A Python number stays one, so that it does not widen
    float32 arrays."""
    a = as_float(a)
    if isinstance(a, float):
        return a > 0, (a if a > 0 else 1.0)
    valid = fnp.greater(a, 0)
    return valid, fnp.where(valid, a, 1.0)


def log(a: Any) -> Any:
    """``log(a)``, a Python float for a Python float (weakly typed, as ``a`` was)."""
    return math.log(a) if isinstance(a, float) else fnp.log(a)


def standardize(x: ArrayLike, loc: ArrayLike, scale: ArrayLike) -> tuple[Array, Any, Any]:
    """``((x - loc) / scale, scale > 0, scale)`` with the safe scale of ``positive``."""
    x, loc = floats(x, loc)
    valid, scale = positive(scale)
    return fnp.divide(fnp.subtract(x, loc), scale), valid, scale


def nan_unless(valid: ArrayLike, value: ArrayLike) -> Array:
    """``value`` where ``valid``, ``nan`` elsewhere (SciPy's answer for invalid parameters)."""
    return fnp.where(valid, value, fnp.nan)


def outside(mask: ArrayLike, x: ArrayLike, safe: float, fn: Callable[[Array], Array],
            value: float) -> Array:
    """``fn(x)`` where ``mask`` is false and ``value`` where it is true; ``fn`` sees ``safe``
    at the masked points, so neither the value nor the derivative meets ``log(0)`` or ``0/0``
    there. ``nan`` in ``x`` stays ``nan`` (the mask is written as "outside", false for ``nan``)."""
    return fnp.where(mask, value, fn(fnp.where(mask, safe, x)))


def in_unit_interval(q: ArrayLike) -> Array:
    """``0 <= q <= 1``: where a quantile function is defined."""
    return fnp.logical_and(fnp.greater_equal(q, 0), fnp.less_equal(q, 1))


def loc_scale_ppf(std_ppf: Callable[[Array], Array], q: ArrayLike, loc: ArrayLike,
                  scale: ArrayLike) -> Array:
    """``loc + scale * std_ppf(q)``, ``nan`` for ``q`` outside [0, 1] or a scale that is not
    positive."""
    q, loc = floats(q, loc)
    scale_ok, scale = positive(scale)
    valid = fnp.logical_and(in_unit_interval(q), scale_ok)
    q_safe = fnp.where(valid, q, 0.5)
    return nan_unless(valid, fnp.add(loc, fnp.multiply(scale, std_ppf(q_safe))))


def keep_nan(z: ArrayLike, value: ArrayLike) -> Array:
    """``value``, with ``nan`` wherever ``z`` is ``nan`` (for formulas that do not read ``z``)."""
    return fnp.where(fnp.isnan(z), z, value)


def off_support(mask: ArrayLike, k: ArrayLike) -> Array:
    """``mask`` without the ``nan`` entries of ``k`` (which stay ``nan`` rather than getting the
    value outside the support)."""
    return fnp.logical_and(mask, fnp.logical_not(fnp.isnan(k)))


def off_integers(k: ArrayLike, lowest: float) -> Array:
    """Where ``k`` is not a whole number ``>= lowest`` (off a discrete support), ``nan`` not included."""
    return off_support(fnp.logical_or(fnp.less(k, lowest), fnp.not_equal(fnp.floor(k), k)), k)


def log1mexp_exp_minus(z: ArrayLike) -> Array:
    """``log(1 - exp(-exp(-z)))`` (a Gumbel tail): through ``log1mexp`` up to ``z = 30``,
    beyond as ``-z - exp(-z) / 2`` (its series, exact to rounding there), which stays finite
    where ``exp(-z)`` underflows; each formula sees only its own points."""
    far = fnp.greater(z, 30.0)
    near = log1mexp(fnp.exp(-fnp.where(far, 30.0, z)))
    tail = fnp.where(far, z, 30.0)
    return fnp.where(far, -tail - 0.5 * fnp.exp(-tail), near)


def log_probability(p: ArrayLike, complement: ArrayLike) -> Array:
    """``log(p)`` given ``p`` and ``1 - p`` computed each on its own: from ``p`` while it is
    below 1/2, as ``log1p(-complement)`` above, where ``log(p)`` would round away the digits of
    a probability near 1."""
    small = fnp.less(p, 0.5)
    return fnp.where(small, fnp.log(p), fnp.log1p(-fnp.where(small, 0.5, complement)))
