"""Derivative checks: forward mode against central finite differences, reverse mode by the
inner-product identity, and recursion into the derivative functions for higher orders.

Everything works on a flat view of the problem (``_Problem``): the differentiable leaves of
the arguments as a list, and a function from that list to the list of the output's
differentiable leaves. Integer and boolean leaves (index arrays, masks) are held fixed. Every
check draws its directions from one seeded generator, so a run is reproducible.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

import numpy as np

from functrans import api, tree
from functrans._abstract import PY_SCALARS
from functrans.backend import array_module, backend_of, to_host
from functrans.typing import Array, PyTree

# Finite-difference step and default tolerance per precision. Central differences have a
# truncation error of about eps**2 and a rounding error of about ulp / eps, so the step sits
# near the cube root of the machine epsilon and the tolerance well above both errors.
_EPS = {2: 3e-2, 4: 1e-3, 8: 1e-5}  # by the itemsize of the real part
_TOL = {2: 1e-1, 4: 2e-2, 8: 1e-6}
# The value computed inside a transformation must agree with the plain call this closely.
_VALUE_TOL = {2: 1e-3, 4: 1e-6, 8: 1e-12}

_MODES = ("fwd", "rev")
# Python scalars, and their subclasses (np.float64 is a float): made arrays before checking.
_SCALARS = tuple(PY_SCALARS)
_HOST_TYPES = (np.ndarray, np.generic, *_SCALARS)


# -- small helpers ---------------------------------------------------------------------------------


def _host(x: Any) -> np.ndarray:
    """A NumPy copy of an array of any backend (an explicit transfer), for comparisons."""
    if isinstance(x, _HOST_TYPES):
        return np.asarray(x)
    return to_host(x)


def _placed_like(values: np.ndarray, a: Array) -> Array:
    """Host ``values`` as an array of ``a``'s library, on ``a``'s device."""
    if type(a) is np.ndarray:
        return values
    backend = backend_of(a)
    return backend.put(values, backend.device_of(a))


def _as_array(x: Any) -> Array:
    if isinstance(x, _SCALARS):
        return np.asarray(x)
    return x


def _is_inexact(x: Array) -> bool:
    return np.issubdtype(x.dtype, np.inexact)


def _precision(dtypes: Sequence[np.dtype]) -> int:
    """Itemsize of the real part of the least precise inexact dtype (8 for float64)."""
    sizes = [np.finfo(d).bits // 8 for d in dtypes if np.issubdtype(d, np.inexact)]
    return min(sizes) if sizes else 8


def _random_like(arrays: Sequence[Array], rng: np.random.Generator) -> list:
    """Standard normal arrays shaped, typed and placed like ``arrays``."""
    out = []
    for a in arrays:
        values = rng.standard_normal(a.shape)
        if np.issubdtype(a.dtype, np.complexfloating):
            values = values + 1j * rng.standard_normal(a.shape)
        out.append(_placed_like(values.astype(a.dtype), a))
    return out


def _pair(xs: Sequence[Array], ys: Sequence[Array]) -> float:
    """The pairing sum(x * y) summed over lists of arrays (real part for complex values)."""
    total = 0.0
    for x, y in zip(xs, ys):
        total += np.sum(_host(x).astype(np.complex128) * _host(y)).real
    return float(total)


def _pair_scale(xs: Sequence[Array], ys: Sequence[Array]) -> float:
    """sum(|x * y|): the size of the pairing without cancellation, for its tolerance."""
    return float(sum(np.sum(np.abs(_host(x).astype(np.complex128) * _host(y))) for x, y in zip(xs, ys)))


def _describe(a: Array) -> str:
    return f"shape {tuple(a.shape)}, {a.dtype}"


def _show(values: np.ndarray) -> str:
    return np.array2string(values, precision=8, threshold=20, edgeitems=3, max_line_width=100)


# -- the flat problem -----------------------------------------------------------------------------


class _Problem:
    """A function of a flat list of differentiable arrays, with names for reports: ``label``
    is "f" (or the function's name), "jvp(f)", "vjp(jvp(f))", ...; ``outs`` are the values
    of ``fun(*args)``, computed unless given."""

    def __init__(self, fun: Callable[..., list], args: list, arg_names: list[str], label: str,
                 outs: list | None = None, out_names: list[str] | None = None) -> None:
        self.fun, self.args, self.arg_names, self.label = fun, args, arg_names, label
        self.outs: list = [_as_array(o) for o in fun(*args)] if outs is None else outs
        self.out_names: list[str] = ([f"output {i}" for i in range(len(self.outs))]
                                     if out_names is None else out_names)


def _flatten_problem(f: Callable, args: Sequence[PyTree]) -> _Problem:
    if not isinstance(args, (tuple, list)):
        raise TypeError(
            f"check_grads takes the arguments as a tuple, got {type(args).__name__}; "
            "write check_grads(f, (x,)) for a single argument."
        )
    path_leaves, treedef = tree.flatten_with_path(tuple(args))
    leaves = [_as_array(leaf) for _, leaf in path_leaves]
    # Python scalars become arrays where the other arguments live (a device, if any)
    device_leaf = next((leaf for _, leaf in path_leaves if hasattr(leaf, "dtype")
                        and not isinstance(leaf, (np.ndarray, np.generic))), None)
    if device_leaf is not None:
        leaves = [_placed_like(a, device_leaf) if isinstance(leaf, _SCALARS) else a
                  for a, (_, leaf) in zip(leaves, path_leaves)]
    positions = [i for i, leaf in enumerate(leaves) if _is_inexact(leaf)]
    names = [f"args{tree.keystr(path_leaves[i][0])}" for i in positions]
    out_paths: list[list[tree.KeyPath]] = []

    def flat_fun(*xs: Array) -> list:
        full = list(leaves)
        for i, x in zip(positions, xs):
            full[i] = x
        out = f(*treedef.unflatten(full))
        pairs, _ = tree.flatten_with_path(out)
        kept = [(path, _as_array(leaf)) for path, leaf in pairs if _is_inexact(_as_array(leaf))]
        if not out_paths:
            out_paths.append([path for path, _ in kept])
        return [leaf for _, leaf in kept]

    name = getattr(f, "__name__", "f")
    label = name if name.isidentifier() else "f"  # "sin", but "f" for a lambda
    problem = _Problem(flat_fun, [leaves[i] for i in positions], names, label)
    problem.out_names = [f"out{tree.keystr(path)}" for path in out_paths[0]] if out_paths else []
    return problem


def _jvp_problem(p: _Problem, rng: np.random.Generator) -> _Problem:
    """The forward derivative of ``p`` as a function of the primals and the tangents."""
    tangents = _random_like(p.args, rng)
    n = len(p.args)

    def jvp_fun(*xs: Array) -> list:
        _, t_out = api.jvp(p.fun, list(xs[:n]), list(xs[n:]))
        return list(t_out)

    names = p.arg_names + [f"tangent of {name}" for name in p.arg_names]
    out_names = [f"tangent of {name}" for name in p.out_names]
    return _Problem(jvp_fun, p.args + tangents, names, f"jvp({p.label})", out_names=out_names)


def _vjp_problem(p: _Problem, rng: np.random.Generator) -> _Problem:
    """The reverse derivative of ``p`` as a function of the primals and the cotangents."""
    cotangents = _random_like(p.outs, rng)
    n = len(p.args)

    def vjp_fun(*xs: Array) -> list:
        _, pullback = api.vjp(p.fun, *xs[:n])
        return list(pullback(list(xs[n:])))

    names = p.arg_names + [f"cotangent of {name}" for name in p.out_names]
    out_names = [f"cotangent of {name}" for name in p.arg_names]
    return _Problem(vjp_fun, p.args + cotangents, names, f"vjp({p.label})", out_names=out_names)


# -- tolerances -------------------------------------------------------------------------------------


@dataclass
class _Tolerance:
    atol: float
    rtol: float
    eps: float
    value: float


def _tolerance(p: _Problem, atol: float | None, rtol: float | None, eps: float | None) -> _Tolerance:
    size = _precision([a.dtype for a in p.args] + [o.dtype for o in p.outs])
    return _Tolerance(
        atol=_TOL[size] if atol is None else atol,
        rtol=_TOL[size] if rtol is None else rtol,
        eps=_EPS[size] if eps is None else eps,
        value=_VALUE_TOL[size],
    )


# -- finite differences -----------------------------------------------------------------------------


def _step(args: Sequence[Array], tangents: Sequence[Array], eps: float) -> list:
    return [array_module(a).asarray(a + eps * t, dtype=a.dtype) for a, t in zip(args, tangents)]


def _numerical_jvp_flat(fun: Callable[..., list], args: Sequence[Array], tangents: Sequence[Array],
                        eps: float) -> list[np.ndarray]:
    plus = fun(*_step(args, tangents, eps))
    minus = fun(*_step(args, tangents, -eps))
    return [(_host(hi).astype(np.complex128 if np.iscomplexobj(_host(hi)) else np.float64)
             - _host(lo)) / (2 * eps) for hi, lo in zip(plus, minus)]


def _extrapolated_jvp_flat(fun: Callable[..., list], args: Sequence[Array],
                           tangents: Sequence[Array], eps: float, at_eps: list) -> list[np.ndarray]:
    """The central difference at ``eps`` (``at_eps``) refined by Richardson extrapolation with
    the one at ``2 * eps``: its truncation error is of order eps**4 instead of eps**2, at the
    same rounding error. A second opinion where a function's third derivatives are large
    enough that the plain difference at ``eps`` misses a correct derivative."""
    wide = _numerical_jvp_flat(fun, args, tangents, 2 * eps)
    return [(4 * d - w) / 3 for d, w in zip(at_eps, wide)]


# -- the checks ---------------------------------------------------------------------------------------


def _fail(p: _Problem, order: int, mode: str, body: str) -> NoReturn:
    what = {"fwd": "forward mode (JVP against central finite differences)",
            "rev": "reverse mode (VJP by the inner-product identity <vjp(ct), v> = <ct, J v>)",
            "value": "the value computed inside the transformation",
            "dtype": "shapes and dtypes of derivatives"}[mode]
    raise AssertionError(f"check_grads failed at order {order}, mode {mode!r}: {what}, for "
                         f"{p.label}\n{body}")


def _compare_arrays(expected: np.ndarray, got: np.ndarray, atol: float,
                    rtol: float) -> tuple[float, float, tuple] | None:
    """None if close, else (max abs error, max rel error, index of the worst element)."""
    expected = np.asarray(expected)
    got = np.asarray(got)
    if expected.size == 0 or np.allclose(got, expected, atol=atol, rtol=rtol, equal_nan=True):
        return None
    with np.errstate(all="ignore"):
        err = np.abs(got.astype(np.complex128) - expected)
        err = np.where(np.isnan(got) & np.isnan(expected), 0.0, err)
        err = np.where(np.isnan(err), np.inf, err)
        rel = err / np.maximum(np.abs(expected), np.finfo(np.float64).tiny)
    worst = np.unravel_index(int(np.argmax(err - (atol + rtol * np.abs(expected)))), err.shape)
    return float(err.max()), float(rel.max()), worst


def _mismatch_report(name: str, expected: np.ndarray, got: np.ndarray, tol: tuple[float, float, tuple],
                     atol: float, rtol: float) -> str:
    max_abs, max_rel, worst = tol
    where = f" at index {tuple(int(i) for i in worst)}" if np.ndim(expected) else ""
    return (f"  {name}: max abs error {max_abs:.3g}, max rel error {max_rel:.3g} "
            f"(atol {atol:.1e}, rtol {rtol:.1e}); worst{where}: expected "
            f"{np.asarray(expected)[worst].item():.10g}, got {np.asarray(got)[worst].item():.10g}\n"
            f"    expected: {_show(np.asarray(expected))}\n    got:      {_show(np.asarray(got))}")


def _check_values(p: _Problem, outs: Sequence[Array], order: int, tol: _Tolerance, transform: str) -> None:
    lines = []
    for name, ref, out in zip(p.out_names, p.outs, outs):
        out = _as_array(out)
        if tuple(out.shape) != tuple(ref.shape) or out.dtype != ref.dtype:
            lines.append(f"  {name}: {transform} gives {_describe(out)}, the plain call {_describe(ref)}")
            continue
        bad = _compare_arrays(_host(ref), _host(out), tol.value, tol.value)
        if bad:
            lines.append(_mismatch_report(name, _host(ref), _host(out), bad, tol.value, tol.value))
    if lines:
        _fail(p, order, "value", f"{transform} computes a different value than the plain call:\n"
              + "\n".join(lines))


def _argument_report(p: _Problem, contribution: Callable[[int], tuple]) -> str:
    """Which arguments' directions alone reproduce the failure (``contribution(i)`` gives
    (expected, got, close) for a direction in argument i only)."""
    lines = []
    for i, name in enumerate(p.arg_names):
        if p.args[i].size == 0:
            continue
        expected, got, close = contribution(i)
        if not close:
            lines.append(f"  argument {name} ({_describe(p.args[i])}): {expected} expected, {got} got")
    if not lines:
        return "  (no single argument fails alone: the error comes from their interaction)"
    return "  failing arguments (direction in that argument only):\n" + "\n".join(lines)


def _only(v: list, i: int) -> list:
    return [t if j == i else t * 0 for j, t in enumerate(v)]


def _check_fwd(p: _Problem, v: list, expected: list, order: int, tol: _Tolerance) -> None:
    outs, t_outs = api.jvp(p.fun, list(p.args), list(v))
    _check_values(p, outs, order, tol, "jvp")
    dtype_lines = []
    for name, out, t in zip(p.out_names, p.outs, t_outs):
        t = _as_array(t)
        if tuple(t.shape) != tuple(out.shape) or t.dtype != out.dtype:
            dtype_lines.append(f"  {name} is {_describe(out)} but its tangent is {_describe(t)}")
    if dtype_lines:
        _fail(p, order, "dtype", "jvp gives tangents unlike their outputs:\n" + "\n".join(dtype_lines))
    def mismatches(expected: list) -> list[str]:
        lines = []
        for name, exp, got in zip(p.out_names, expected, t_outs):
            bad = _compare_arrays(exp, _host(got), tol.atol, tol.rtol)
            if bad:
                lines.append(_mismatch_report(name, exp, _host(got), bad, tol.atol, tol.rtol))
        return lines

    lines = mismatches(expected)
    if not lines or not mismatches(_extrapolated_jvp_flat(p.fun, p.args, v, tol.eps, expected)):
        return

    def contribution(i: int) -> tuple[str, str, bool]:
        vi = _only(v, i)
        exp_i = _numerical_jvp_flat(p.fun, p.args, vi, tol.eps)
        got_i = [_host(t) for t in api.jvp(p.fun, list(p.args), vi)[1]]
        close = all(_compare_arrays(e, g, tol.atol, tol.rtol) is None for e, g in zip(exp_i, got_i))
        return (_show(np.concatenate([e.ravel() for e in exp_i]) if exp_i else np.zeros(0)),
                _show(np.concatenate([g.ravel() for g in got_i]) if got_i else np.zeros(0)), close)

    _fail(p, order, "fwd", "  JVP along a random direction v differs from finite differences "
          f"(step {tol.eps:.1e}):\n" + "\n".join(lines) + "\n" + _argument_report(p, contribution))


def _check_rev(p: _Problem, v: list, expected: list, ct: list, order: int, tol: _Tolerance) -> None:
    outs, pullback = api.vjp(p.fun, *p.args)
    _check_values(p, outs, order, tol, "vjp")
    cts = [_as_array(c) for c in pullback(list(ct))]
    dtype_lines = [
        f"  {name} is {_describe(a)} but its cotangent is {_describe(c)}"
        for name, a, c in zip(p.arg_names, p.args, cts)
        if tuple(c.shape) != tuple(a.shape) or c.dtype != a.dtype
    ]
    if dtype_lines:
        _fail(p, order, "dtype", "vjp gives cotangents unlike their inputs:\n" + "\n".join(dtype_lines))

    def identity(directions: list, fd: list) -> tuple[float, float, bool, float]:
        got = _pair(cts, directions)
        want = _pair(ct, fd)
        bound = tol.atol * sum(float(np.sum(np.abs(_host(c)))) for c in ct) + tol.rtol * (
            _pair_scale(cts, directions) + _pair_scale(ct, fd))
        return want, got, abs(got - want) <= bound, bound

    want, got, close, bound = identity(v, expected)
    if close or identity(v, _extrapolated_jvp_flat(p.fun, p.args, v, tol.eps, expected))[2]:
        return

    def contribution(i: int) -> tuple[str, str, bool]:
        vi = _only(v, i)
        w, g, ok, _ = identity(vi, _numerical_jvp_flat(p.fun, p.args, vi, tol.eps))
        return f"<ct, J v> = {w:.10g}", f"<vjp(ct), v> = {g:.10g}", ok

    err = abs(got - want)
    _fail(p, order, "rev",
          f"  <ct, J v> by finite differences (step {tol.eps:.1e}) = {want:.10g} expected\n"
          f"  <vjp(ct), v> = {got:.10g} got\n"
          f"  abs error {err:.3g}, rel error {err / max(abs(want), 1e-300):.3g} "
          f"(allowed {bound:.3g} from atol {tol.atol:.1e}, rtol {tol.rtol:.1e})\n"
          + _argument_report(p, contribution))


def _check_problem(p: _Problem, order: int, level: int, modes: tuple[str, ...], rng: np.random.Generator,
                   atol: float | None, rtol: float | None, eps: float | None) -> None:
    if not p.args:
        return
    tol = _tolerance(p, atol, rtol, eps)
    v = _random_like(p.args, rng)
    ct = _random_like(p.outs, rng)
    if p.outs:
        expected = _numerical_jvp_flat(p.fun, p.args, v, tol.eps)
        if "fwd" in modes:
            _check_fwd(p, v, expected, level, tol)
        if "rev" in modes:
            _check_rev(p, v, expected, ct, level, tol)
    if level < order:
        if "fwd" in modes:
            _check_problem(_jvp_problem(p, rng), order, level + 1, modes, rng, atol, rtol, eps)
        if "rev" in modes and p.outs:
            _check_problem(_vjp_problem(p, rng), order, level + 1, modes, rng, atol, rtol, eps)


def _validate_modes(modes: str | Sequence[str]) -> tuple[str, ...]:
    modes = (modes,) if isinstance(modes, str) else tuple(modes)
    unknown = [m for m in modes if m not in _MODES]
    if unknown or not modes:
        raise ValueError(f"modes must be a non-empty subset of {_MODES}, got {modes!r}")
    return modes


# -- public -------------------------------------------------------------------------------------------


def numerical_jvp(
    f: Callable, args: Sequence[PyTree], tangents: Sequence[PyTree], eps: float | None = None
) -> PyTree:
    """Directional derivative of ``f`` at ``args`` along ``tangents`` by central differences.

    ``(f(args + eps * tangents) - f(args - eps * tangents)) / (2 * eps)``, leaf by leaf. Leaves
    of integer or boolean dtype are held fixed (their tangents are ignored).

    Args:
        f: a function of arrays (pytrees allowed) returning arrays (a pytree).
        args: the point, a tuple of ``f``'s positional arguments.
        tangents: the direction, with the structure and shapes of ``args``.
        eps: the step; by default about the cube root of the machine epsilon of the least
            precise input (1e-5 for float64, 1e-3 for float32).

    Returns:
        A list of NumPy arrays (float64 or complex128), one per inexact leaf of ``f``'s output.

    Example:
        >>> import numpy as np, functrans.numpy as fnp
        >>> [d] = numerical_jvp(fnp.sin, (np.array([0.0, 1.0]),), (np.ones(2),))
        >>> np.round(d, 6).tolist()
        [1.0, 0.540302]
    """
    p = _flatten_problem(f, args)
    t_leaves = [_as_array(t) for t, a in zip(tree.leaves(tuple(tangents)), tree.leaves(tuple(args)))
                if _is_inexact(_as_array(a))]
    t_leaves = [array_module(a).asarray(_placed_like(t, a) if type(t) is np.ndarray else t,
                                     dtype=a.dtype) for a, t in zip(p.args, t_leaves)]
    step = _tolerance(p, None, None, eps).eps
    return _numerical_jvp_flat(p.fun, p.args, t_leaves, step)


def check_jvp(
    f: Callable, args: Sequence[PyTree], atol: float | None = None, rtol: float | None = None,
    eps: float | None = None, seed: int = 0,
) -> None:
    """Check ``functrans.jvp`` of ``f`` at ``args`` against central finite differences.

    A random direction (seeded) in all differentiable arguments at once; the primal output of
    the ``jvp`` must also equal ``f(*args)``, and each tangent must have its output's shape and
    dtype. On failure, the report also lists which arguments fail on their own.

    Args:
        f: a function of arrays (pytrees allowed) returning arrays (a pytree).
        args: a tuple of ``f``'s positional arguments. Integer and boolean leaves are held fixed.
        atol: absolute tolerance; by default by dtype (1e-6 for float64, 2e-2 for float32).
        rtol: relative tolerance; by default as ``atol``.
        eps: finite-difference step; by default by dtype (1e-5 for float64, 1e-3 for float32).
        seed: seed of the random directions.

    Raises:
        AssertionError: the JVP disagrees with finite differences (the message names the
            output, the arguments, and the errors).

    Example:
        >>> import numpy as np, functrans.numpy as fnp
        >>> check_jvp(lambda x, y: fnp.sin(x) * y, (np.array([0.3, 1.0]), np.array(2.0)))
    """
    check_grads(f, args, order=1, modes=("fwd",), atol=atol, rtol=rtol, eps=eps, seed=seed)


def check_vjp(
    f: Callable, args: Sequence[PyTree], atol: float | None = None, rtol: float | None = None,
    eps: float | None = None, seed: int = 0,
) -> None:
    """Check ``functrans.vjp`` of ``f`` at ``args`` by the inner-product identity.

    For a random cotangent ``ct`` and direction ``v`` (seeded), ``<vjp(ct), v>`` must equal
    ``<ct, J v>`` with ``J v`` from central finite differences, so the cost does not grow with
    the number of inputs or outputs. Cotangents must have their inputs' shapes and dtypes.

    Args:
        f: a function of arrays (pytrees allowed) returning arrays (a pytree).
        args: a tuple of ``f``'s positional arguments. Integer and boolean leaves are held fixed.
        atol: absolute tolerance; by default by dtype (1e-6 for float64, 2e-2 for float32).
        rtol: relative tolerance; by default as ``atol``.
        eps: finite-difference step; by default by dtype.
        seed: seed of the random cotangent and direction.

    Raises:
        AssertionError: the identity fails (the message gives both sides, the error, and
            which arguments fail on their own).

    Example:
        >>> import numpy as np, functrans.numpy as fnp
        >>> check_vjp(lambda a, b: fnp.matmul(a, b), (np.ones((2, 3)), np.ones((3, 1))))
    """
    check_grads(f, args, order=1, modes=("rev",), atol=atol, rtol=rtol, eps=eps, seed=seed)


def check_grads(
    f: Callable,
    args: Sequence[PyTree],
    order: int = 2,
    modes: Sequence[str] = ("fwd", "rev"),
    atol: float | None = None,
    rtol: float | None = None,
    eps: float | None = None,
    *,
    seed: int = 0,
) -> None:
    """Check the derivatives of ``f`` at ``args`` up to ``order``, in forward and reverse mode.

    Order 1 checks ``jvp`` against central finite differences and ``vjp`` by the inner-product
    identity ``<vjp(ct), v> = <ct, J v>``, along random directions, so the cost is a few
    evaluations whatever the size of the arrays. Where a derivative misses the difference at
    step ``eps``, the difference refined by Richardson extrapolation (with the one at ``2 *
    eps``) decides: a function whose third derivatives are large is not failed for the plain
    difference's own truncation error. Order 2 repeats both checks on the derivative
    functions themselves: ``jvp`` of ``f`` (a function of the primals and the tangents) and
    ``vjp`` of ``f`` (of the primals and the cotangents), and so on recursively. Directions are
    drawn from a generator seeded with ``seed``: a run is deterministic.

    Args:
        f: a function of arrays (pytrees allowed) returning arrays (a pytree). Leaves of its
            output that are not float or complex are ignored.
        args: a tuple of ``f``'s positional arguments (pytrees allowed). Integer and boolean
            leaves, such as index arrays and masks, are held fixed.
        order: the highest derivative order to check.
        modes: ``"fwd"``, ``"rev"``, or both.
        atol: absolute tolerance; by default by the least precise dtype among the inputs
            and outputs (1e-6 for float64, 2e-2 for float32).
        rtol: relative tolerance; by default as ``atol``.
        eps: finite-difference step; by default by dtype (1e-5 for float64, 1e-3 for float32).
        seed: seed of the random directions and cotangents.

    Raises:
        AssertionError: a derivative disagrees. The message names the order, the mode, the
            derivative function checked (such as ``vjp(jvp(f))``), the output, the arguments
            that fail on their own, and the error (max abs/rel, expected versus got).
        ValueError: ``modes`` or ``order`` is not valid.

    Example:
        >>> import numpy as np, functrans.numpy as fnp
        >>> from functrans.testing import check_grads
        >>> check_grads(lambda x: fnp.sum(fnp.tanh(x) ** 2), (np.array([0.1, -0.7, 1.2]),))
        >>> check_grads(fnp.abs, (np.array([-1.0, 2.0]),), order=1, modes=("rev",))
    """
    modes = _validate_modes(modes)
    if not isinstance(order, int) or order < 1:
        raise ValueError(f"order must be a positive int, got {order!r}")
    rng = np.random.default_rng(seed)
    _check_problem(_flatten_problem(f, args), order, 1, modes, rng, atol, rtol, eps)

