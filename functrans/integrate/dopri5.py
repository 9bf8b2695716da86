"""The Dormand-Prince 5(4) Runge-Kutta method with adaptive steps and dense output: the
solver loop behind ``functrans.integrate.odeint``.

``solve`` integrates ``dy/dt = fun(y, t)`` for a state ``y`` that is one array (any shape;
the error norm is the root mean square over its last axis, the largest over the axes before
it), stepping with the fifth-order solution, estimating the error with the embedded
fourth-order one, and reading the values at the requested times off the quartic continuous
extension of each step. It is written with array operators and ``xp`` functions only, so it
runs on NumPy and CuPy arrays alike, and on tracers (``xp = functrans.numpy``), where
``grad`` then differentiates through the steps themselves.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from functrans.backend import HOST_TYPES, to_host

# The Butcher tableau (Dormand and Prince, 1980): stage times, stage weights (the last row
# is the fifth-order solution, evaluated again at the end of the step: first same as last).
_C = (0.0, 1 / 5, 3 / 10, 4 / 5, 8 / 9, 1.0, 1.0)
_A = (
    (),
    (1 / 5,),
    (3 / 40, 9 / 40),
    (44 / 45, -56 / 15, 32 / 9),
    (19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729),
    (9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656),
    (35 / 384, 0.0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84),
)
# Fifth-order minus embedded fourth-order weights: h times this combination is the local
# error estimate.
_E = (71 / 57600, 0.0, -71 / 16695, 71 / 1920, -17253 / 339200, 22 / 525, -1 / 40)
# The continuous extension (Dormand and Prince, 1986; Shampine, 1986): over a step from t to
# t + h, y(t + theta h) = y + h sum_i k_i (P[i] . (theta, theta^2, theta^3, theta^4)).
_P = (
    (1.0, -8048581381 / 2820520608, 8663915743 / 2820520608, -12715105075 / 11282082432),
    (0.0, 0.0, 0.0, 0.0),
    (0.0, 131558114200 / 32700410799, -68118460800 / 10900136933, 87487479700 / 32700410799),
    (0.0, -1754552775 / 470086768, 14199869525 / 1410260304, -10690763975 / 1880347072),
    (0.0, 127303824393 / 49829197408, -318862633887 / 49829197408,
     701980252875 / 199316789632),
    (0.0, -282668133 / 205662961, 2019193451 / 616988883, -1453857185 / 822651844),
    (0.0, 40617522 / 29380423, -110615467 / 29380423, 69997945 / 29380423),
)

ORDER = 5
_SAFETY, _MIN_FACTOR, _MAX_FACTOR = 0.9, 0.2, 10.0


def _combine(y: Any, h: float, weights: Sequence[float], ks: Sequence[Any]) -> Any:
    """``y + h * sum(w * k)`` over the nonzero weights (operators only: any array type)."""
    total = None
    for w, k in zip(weights, ks):
        if w != 0.0:
            total = k * w if total is None else total + k * w
    return y if total is None else y + total * h


class Stages:
    """The stage derivatives of one step, and combinations ``y + h * sum(w_i k_i)`` of them:
    a list of arrays and operators, for any array type (tracers included)."""

    __slots__ = ("ks",)

    def __init__(self, f: Any):
        self.ks = [f]

    def add(self, k: Any) -> None:
        self.ks.append(k)

    def combine(self, y: Any, h: float, weights: Sequence[float]) -> Any:
        return _combine(y, h, weights, self.ks)


class NumPyStages(Stages):
    """Stages of NumPy arrays kept as the rows of one matrix, so that a combination is one
    matrix product (a third of the array operations of the list, per step)."""

    __slots__ = ("rows", "count", "xp", "tableau")

    def __init__(self, f: Any, xp: Any, tableau: dict):
        self.rows = xp.empty((7, f.size), f.dtype)
        self.rows[0] = f.reshape(-1)
        self.count, self.xp, self.tableau = 1, xp, tableau

    def add(self, k: Any) -> None:
        self.rows[self.count] = k.reshape(-1)
        self.count += 1

    def combine(self, y: Any, h: float, weights: Sequence[float]) -> Any:
        w = self.tableau.get(id(weights))
        if w is None:
            w = self.xp.asarray(weights, dtype=self.rows.dtype)
            if any(weights is row for row in _A + (_E,)):
                self.tableau[id(weights)] = w
        n = self.count
        return y + (w[:n] @ self.rows[:n]).reshape(y.shape) * h


def _host_float(x: Any) -> float:
    """A 0-d array's value, read from its device explicitly (step-size control needs it)."""
    return float(to_host(x))


class Problem:
    """What one solve needs besides the state: the vector field, the tolerances, the step
    limits, the array namespace, and how to read a Python number off an error norm.

    ``err_size``: the error is measured on the first ``err_size`` entries of the state's
    last axis only (``None``: all of them), so that extra components carried along (forward
    sensitivities) follow the steps the state alone takes.
    """

    __slots__ = ("fun", "rtol", "atol", "mxstep", "hmax", "xp", "to_float", "err_size",
                 "_tableau")

    def __init__(self, fun: Callable[[Any, float], Any], *, rtol: float, atol: float,
                 mxstep: float, hmax: float, xp: Any, to_float: Callable[[Any], float] | None = None,
                 err_size: int | None = None):
        self.fun, self.rtol, self.atol = fun, rtol, atol
        self.mxstep, self.hmax, self.xp = mxstep, hmax, xp
        self.to_float, self.err_size = to_float or _host_float, err_size
        self._tableau: dict = {}  # the tableau's rows as NumPy arrays of the state's dtype

    def stages(self, f: Any) -> Stages:
        """The stages of a step whose first stage derivative is ``f``."""
        if type(f) in HOST_TYPES and f.ndim:
            return NumPyStages(f, self.xp, self._tableau)
        return Stages(f)

    def norm(self, x: Any) -> float:
        """The root mean square over the last axis, the largest over the other axes."""
        xp = self.xp
        if self.err_size is not None:
            x = x[..., :self.err_size]
        if x.dtype.kind == "c":
            x = xp.abs(x)
        rms = xp.sqrt(xp.mean(x * x, axis=-1))
        return self.to_float(xp.max(rms) if rms.ndim else rms)

    def scaled_norm(self, x: Any, y: Any) -> float:
        return self.norm(x / (self.atol + self.rtol * self.xp.abs(y)))


def initial_step(p: Problem, t0: float, y0: Any, f0: Any, span: float) -> float:
    """A first step size from the size of the state, of its derivative and of its second
    derivative (estimated by one Euler step), as Hairer, Norsett and Wanner choose it."""
    xp = p.xp
    scale = p.atol + p.rtol * xp.abs(y0)
    d0, d1 = p.norm(y0 / scale), p.norm(f0 / scale)
    h0 = 1e-6 if d0 < 1e-5 or d1 < 1e-5 else 0.01 * d0 / d1
    h0 = min(h0, span)
    f1 = p.fun(y0 + f0 * h0, t0 + h0)
    d2 = p.norm((f1 - f0) / scale) / h0
    if d1 <= 1e-15 and d2 <= 1e-15:
        h1 = max(1e-6, h0 * 1e-3)
    else:
        h1 = (0.01 / max(d1, d2)) ** (1.0 / ORDER)
    return min(100 * h0, h1, span, p.hmax)


def step(p: Problem, t: float, y: Any, f: Any, h: float) -> tuple[Any, Any, Stages, float]:
    """One Dormand-Prince step of size ``h`` from ``(t, y)`` with ``f = fun(y, t)``: the new
    state, its derivative, the seven stage derivatives and the scaled error norm."""
    stages = p.stages(f)
    for c, a in zip(_C[1:6], _A[1:6]):
        stages.add(p.fun(stages.combine(y, h, a), t + c * h))
    y_new = stages.combine(y, h, _A[6])
    f_new = p.fun(y_new, t + h)
    stages.add(f_new)
    err = stages.combine(0.0 * y, h, _E)
    scale = p.atol + p.rtol * p.xp.maximum(p.xp.abs(y), p.xp.abs(y_new))
    return y_new, f_new, stages, p.norm(err / scale)


def interpolate(y: Any, h: float, stages: Stages, theta: float) -> Any:
    """The state at ``t + theta h`` within a step from ``(t, y)`` with these stages."""
    powers = (theta, theta * theta, theta ** 3, theta ** 4)
    weights = [sum(p * q for p, q in zip(row, powers)) for row in _P]
    return stages.combine(y, h, weights)


def solve(p: Problem, y0: Any, ts: Sequence[float]) -> list:
    """The state at each time of ``ts`` (non-decreasing Python floats; ``ts[0]`` is the
    initial time, where the state is ``y0``), as a list.

    Steps never pass ``ts[-1]``. ``p.mxstep`` bounds the steps (accepted or rejected) taken
    between two consecutive output times.

    Example:
        >>> import numpy as np
        >>> from functrans.integrate.dopri5 import Problem, solve
        >>> p = Problem(lambda y, t: -y, rtol=1e-10, atol=1e-10, mxstep=math.inf,
        ...             hmax=math.inf, xp=np)
        >>> ys = solve(p, np.array([1.0]), [0.0, 1.0])
        >>> bool(abs(ys[1][0] - np.exp(-1.0)) < 1e-9)
        True
    """
    t, y = ts[0], y0
    out = [y0]
    if len(ts) == 1:
        return out
    t_end = ts[-1]
    f = p.fun(y, t)
    h = initial_step(p, t, y, f, t_end - t) if t_end > t else 0.0
    rejected = False
    target, attempts = 1, 0
    while target < len(ts):
        if ts[target] <= t:  # output times at the current point (repeated times, or t0)
            out.append(y)
            target, attempts = target + 1, 0
            continue
        if attempts >= p.mxstep:
            raise RuntimeError(
                f"odeint took mxstep={p.mxstep} steps between t={ts[target - 1]!r} and "
                f"t={ts[target]!r} and reached only t={t!r} (step size {h:.3g}). Raise mxstep, "
                "loosen rtol/atol, or check whether the problem is stiff (an explicit method "
                "then needs tiny steps) or blows up before the requested time."
            )
        h = min(h, t_end - t, p.hmax)
        if not h > 10 * math.ulp(t if t else 1.0):  # (a nan step size too: no step would end)
            raise RuntimeError(
                f"odeint: the step size fell to {h:.3g} at t={t!r} with the error still above "
                "the tolerance (a singularity, a vector field that returns nan or inf, or a "
                "stiff problem). Check the vector field near that time, or loosen rtol/atol."
            )
        attempts += 1
        y_new, f_new, stages, ratio = step(p, t, y, f, h)
        if not ratio <= 1.0:  # (nan is rejected too)
            factor = _MIN_FACTOR if math.isnan(ratio) else max(_MIN_FACTOR, _SAFETY * ratio ** (-1 / ORDER))
            h *= factor
            rejected = True
            continue
        t_new = t + h if t + h < t_end else t_end
        while target < len(ts) and ts[target] <= t_new:
            theta = (ts[target] - t) / h
            out.append(y_new if ts[target] == t_new else interpolate(y, h, stages, theta))
            target, attempts = target + 1, 0
        factor = _MAX_FACTOR if ratio == 0 else min(_MAX_FACTOR, _SAFETY * ratio ** (-1 / ORDER))
        if rejected:
            factor = min(1.0, factor)
        t, y, f, h, rejected = t_new, y_new, f_new, h * factor, False
    return out
