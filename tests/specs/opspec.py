"""The row type of the op tables (``OpSpec``), the helpers that declare rows, and the checks
that run one row on hypothesis' examples.

A spec says how to call the operation (``fn``), what NumPy computes for it (``ref``), how
many array arguments it takes, and a hypothesis strategy (``sig``) that draws the argument
shapes together with the static parameters that fit them (axes, indices, dimension numbers).
Values are drawn inside each argument's ``Domain`` from a generator whose seed hypothesis
picks, away from the points where an operation is not smooth, so finite differences are
meaningful. ``derivative`` says what to check about derivatives:

- ``"check"``: ``check_grads`` to ``order`` in forward and reverse mode;
- ``"zero"``: the operation is piecewise constant (comparisons, argmax, stop_gradient):
  its tangents and cotangents must be zero;
- ``"none"``: there is no array output to differentiate (shape queries, creation).

Every row is also run on plain NumPy arrays against ``ref`` (values, shapes and dtypes), and
in a lower precision (float32, complex64) where the dtypes of values, tangents and
cotangents must stay in that precision.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import functrans as ft
import functrans.numpy as fnp
from functrans import errors, tree
from functrans.core.trace import Tracer
from functrans.testing import check_grads

from .strategies import ANY, C64, C128, F32, F64, REAL, Domain, broadcast_shapes, same_shapes, with_params
from backends import BACKENDS, ArrayBackend, examples

NUMPY = BACKENDS["numpy"]


# =============================================================================================
# The spec
# =============================================================================================


@dataclass(frozen=True)
class OpSpec:
    """One row of the table. ``fn(*arrays, **params)`` is the operation under test and
    ``ref(*arrays, **params)`` the same computation in NumPy."""

    name: str  # "fnp.sum", "fnp.power[int]", "prim.reduce_sum": the part after the dot,
    #            before any "[variant]", is the function or primitive it covers
    fn: Callable
    ref: Callable | None
    nargs: int
    sig: Any  # hypothesis strategy of (tuple of nargs shapes, params dict)
    domain: Domain | tuple = ANY  # one for all arguments, or one per argument
    dtypes: tuple = REAL  # first: the precision derivatives are checked in; then lower ones
    order: int = 2
    tol: dict = field(default_factory=dict)  # {dtype: {"atol": .., "rtol": ..}} for check_grads
    derivative: str = "check"  # "check" | "zero" | "none"
    aliases: tuple = ()  # other public names bound to the very same function

    @property
    def covers(self) -> str:
        return self.name.split(".", 1)[1].split("[")[0]

    @property
    def domains(self) -> tuple:
        """One ``Domain`` per array argument."""
        return self.domain if isinstance(self.domain, tuple) else (self.domain,) * self.nargs

    def __repr__(self):
        return self.name


@dataclass
class Case:
    args: tuple
    params: dict


def draw_case(data, spec: OpSpec, dtype) -> Case:
    """Draw shapes and parameters from ``spec.sig``, then values in ``dtype`` inside the
    argument domains (from a seed hypothesis draws, so failures shrink and replay)."""
    shapes_, params = data.draw(spec.sig, label="shapes, params")
    assert len(shapes_) == spec.nargs, f"{spec.name}: sig drew {len(shapes_)} shapes for {spec.nargs} args"
    seed = data.draw(st.integers(0, 2**32 - 1), label="values seed")
    rng = np.random.default_rng(seed)
    args = tuple(d(rng, s, dtype) for d, s in zip(spec.domains, shapes_))
    return Case(args, params)


# =============================================================================================
# Running a row
# =============================================================================================

_VALUE_RTOL = {np.dtype(F64): 1e-10, np.dtype(C128): 1e-10, np.dtype(F32): 2e-5, np.dtype(C64): 2e-5}


def assert_same(got, expected, what=""):
    """Same pytree structure, shapes, dtypes and (closely) values; Python values equal."""
    if isinstance(expected, (tuple, list)) and not isinstance(got, Tracer):
        assert isinstance(got, (tuple, list)) and len(got) == len(expected), \
            f"{what}: expected {type(expected).__name__} of {len(expected)}, got {got!r}"
        for i, (g, e) in enumerate(zip(got, expected)):
            assert_same(g, e, f"{what}[{i}]")
        return
    if isinstance(expected, (np.dtype, type, int, bool)) or expected is None:
        assert got == expected, f"{what}: expected {expected!r}, got {got!r}"
        return
    got_a, exp_a = np.asarray(got), np.asarray(expected)
    assert got_a.shape == exp_a.shape, f"{what}: shape {got_a.shape}, NumPy gives {exp_a.shape}"
    assert got_a.dtype == exp_a.dtype, f"{what}: dtype {got_a.dtype}, NumPy gives {exp_a.dtype}"
    if got_a.dtype.kind in "fc":
        rtol = _VALUE_RTOL.get(got_a.dtype, 1e-3)
        scale = float(np.max(np.abs(exp_a), initial=1.0))
        np.testing.assert_allclose(got_a, exp_a, rtol=rtol, atol=rtol * scale, err_msg=what)
    else:
        np.testing.assert_array_equal(got_a, exp_a, err_msg=what)


def bound(spec: OpSpec, params: dict) -> Callable:
    """The row's operation as a function of its arrays alone, for ``check_grads``."""
    return lambda *args: spec.fn(*args, **params)


def check_values(spec: OpSpec, case: Case):
    """The operation on plain NumPy arrays gives what NumPy gives (values, shapes, dtypes)."""
    got = spec.fn(*case.args, **case.params)
    if spec.ref is not None:
        with np.errstate(all="ignore"):
            expected = spec.ref(*case.args, **case.params)
        assert_same(got, expected, f"{spec.name} on plain arrays")
    return got


def check_recorded_types(spec: OpSpec, case: Case, plain) -> None:
    """Recorded on abstract inputs (as ``jit`` records it, and plans its buffers by), the
    operation's outputs have the shapes and dtypes they have when computed. An operation
    whose output shapes depend on its values cannot be recorded so: it is skipped."""
    positions = [i for i, a in enumerate(case.args) if isinstance(a, np.ndarray)]
    if not positions or not all(isinstance(o, (np.ndarray, np.generic)) or _is_python_value(o)
                                for o in tree.leaves(plain)):
        return  # (no array argument, or outputs that are no arrays: dtypes, names, paths)

    def on_arrays(*arrays):
        args = list(case.args)
        for i, a in zip(positions, arrays):
            args[i] = a
        return spec.fn(*args, **case.params)

    try:
        recorded = ft.eval_shape(on_arrays, *(case.args[i] for i in positions))
    except (errors.TracerConversionError, errors.UnsupportedError):
        return  # (it needs its arguments' values: jit refuses it with that error)
    leaves, got = tree.leaves(recorded), tree.leaves(plain)
    if len(leaves) != len(got):
        return  # (Python values among the outputs: not recorded as arrays)
    for r, g in zip(leaves, got):
        if _is_python_value(g):
            continue
        g = np.asarray(g)
        assert (tuple(r.shape), np.dtype(r.dtype)) == (g.shape, g.dtype), (
            f"{spec.name}: recorded as {r.dtype}{tuple(r.shape)}, computed as {g.dtype}{g.shape}")


def _concrete(x):
    return x.to_concrete() if isinstance(x, Tracer) else x


def _inexact_positions(args):
    return [i for i, a in enumerate(args)
            if np.issubdtype(a.dtype if hasattr(a, "dtype") else np.result_type(a), np.inexact)]


def check_on_backend(spec: OpSpec, case: Case, plain, backend: ArrayBackend) -> Case:
    """The operation on ``backend``'s arrays: every output is one of its arrays on the inputs'
    device, with NumPy's values. Returns the case with its arrays (and array parameters, such
    as index arrays) on the backend, for the derivative checks."""
    case = Case(backend.put(case.args), backend.put(case.params))
    got = spec.fn(*case.args, **case.params)
    backend.check_placed(got, f"{spec.name} on {backend}")
    assert_same(backend.get(got), plain, f"{spec.name} on {backend}")
    return case


def check_inside_transformation(spec: OpSpec, case: Case, plain, backend: ArrayBackend = NUMPY):
    """Inside ``jvp`` (tracers in place of the float arguments), the value is the same."""
    positions = _inexact_positions(case.args)
    if not positions:
        return
    captured = []

    def f(*xs):
        args = list(case.args)
        for i, x in zip(positions, xs):
            args[i] = x
        out = spec.fn(*args, **case.params)
        captured.append(tree.map(_concrete, out))
        return xs[0]

    primals = [case.args[i] for i in positions]
    ft.jvp(f, primals, [backend.put(np.ones(p.shape, p.dtype)) for p in primals])
    backend.check_placed(captured[0], f"{spec.name} inside jvp on {backend}")
    assert_same(backend.get(captured[0]), plain, f"{spec.name} inside jvp")


def _is_python_value(x) -> bool:
    return isinstance(x, (bool, int, float, complex))


def check_zero_derivative(spec: OpSpec, case: Case, backend: ArrayBackend = NUMPY):
    """A piecewise-constant operation: zero tangents, zero cotangents."""
    positions = _inexact_positions(case.args)
    if not positions:
        return

    def f(*xs):
        args = list(case.args)
        for i, x in zip(positions, xs):
            args[i] = x
        out = spec.fn(*args, **case.params)
        # integer and boolean outputs become floats, whose derivative must then be zero;
        # Python values (array_equal's False for other shapes, iscomplexobj) carry none
        return [o if np.issubdtype(o.dtype, np.inexact) else fnp.astype(o, np.float64)
                for o in map(fnp.asarray, (o for o in tree.leaves(out) if not _is_python_value(o)))]

    if not f(*(case.args[i] for i in positions)):
        return

    primals = [case.args[i] for i in positions]
    rng = np.random.default_rng(0)
    tangents = [backend.put(rng.standard_normal(p.shape).astype(p.dtype)) for p in primals]
    outs, t_outs = ft.jvp(f, primals, tangents)
    backend.check_placed(t_outs, f"{spec.name}: tangents on {backend}")
    for t in t_outs:
        assert not np.any(backend.get(t)), f"{spec.name}: nonzero tangent {t}"
    _, pullback = ft.vjp(f, *primals)
    cts = pullback([backend.put(np.ones(o.shape, o.dtype)) for o in outs])
    backend.check_placed(cts, f"{spec.name}: cotangents on {backend}")
    for ct, p in zip(cts, primals):
        assert ct.shape == p.shape and ct.dtype == p.dtype, f"{spec.name}: cotangent {ct.dtype}{ct.shape}"
        assert not np.any(backend.get(ct)), f"{spec.name}: nonzero cotangent {ct}"


def skip_off_numpy(spec: OpSpec, backend: ArrayBackend) -> None:
    """Skip, with its reason, a row that cannot run on ``backend``."""
    if backend is NUMPY:
        return
    if spec.nargs == 0:
        pytest.skip(f"{spec.name} makes an array from no array argument: by design a NumPy array "
                    "on the host (place it with functrans.device_put)")


def check_spec(spec: OpSpec, backend: ArrayBackend = NUMPY, low_precision: bool = False,
               all_examples: bool = False) -> None:
    """Run one table row on hypothesis' examples: in its first dtype to ``spec.order``, or
    (``low_precision``) in its second dtype to first order, with half the examples unless
    ``all_examples``."""
    count = settings().max_examples
    if low_precision:
        dtype, order = spec.dtypes[1], 1
        count = count if all_examples else max(5, count // 2)
    else:
        dtype, order = spec.dtypes[0], spec.order

    @settings(max_examples=examples(backend, count))
    @given(data=st.data())
    def run(data):
        run_spec(spec, data, dtype, order=order, backend=backend)

    run()


def run_spec(spec: OpSpec, data, dtype, order: int, backend: ArrayBackend = NUMPY):
    """Values against NumPy, on plain arrays and traced, then derivatives (``check_grads``
    to ``order``) in ``dtype``; on another backend than NumPy, also its values and placement,
    and derivatives on its arrays."""
    skip_off_numpy(spec, backend)
    case = draw_case(data, spec, dtype)
    plain = check_values(spec, case)
    check_recorded_types(spec, case, plain)
    if backend is not NUMPY:
        case = check_on_backend(spec, case, plain, backend)
    if spec.derivative == "check":
        # the traced computation, which the derivatives check, gives NumPy's values too (the
        # call on plain arrays may take another path)
        check_inside_transformation(spec, case, plain, backend)
        tol = spec.tol.get(np.dtype(dtype).type, {})
        check_grads(bound(spec, case.params), case.args, order=order, modes=("fwd", "rev"), **tol)
    else:
        check_inside_transformation(spec, case, plain, backend)
        if spec.derivative == "zero":
            check_zero_derivative(spec, case, backend)


# =============================================================================================
# Helpers to declare rows
# =============================================================================================


def unary(name, fn, ref, domain=ANY, sig=None, **kw) -> OpSpec:
    """A row of one array argument (by default of any shape, no parameters)."""
    return OpSpec(name, fn, ref, 1, same_shapes(1) if sig is None else sig, domain, **kw)


def binary(name, fn, ref, domain=ANY, **kw) -> OpSpec:
    """A row of two array arguments whose shapes broadcast together."""
    return OpSpec(name, fn, ref, 2, broadcast_shapes(2), domain, **kw)


def with_scalar(name, fn, ref, value, domain=ANY, **kw) -> list[OpSpec]:
    """``fn(x, value)`` and ``fn(value, x)`` for a Python float ``value``: it must not widen
    float32 (NumPy 2 promotion)."""
    return [
        unary(f"{name}[array, scalar]", lambda x, s: fn(x, s), lambda x, s: ref(x, s), domain,
              sig=with_params(same_shapes(1), {"s": value}), **kw),
        unary(f"{name}[scalar, array]", lambda x, s: fn(s, x), lambda x, s: ref(s, x), domain,
              sig=with_params(same_shapes(1), {"s": value}), **kw),
    ]


def mixed_precision(spec: OpSpec) -> OpSpec:
    """The row in float32 with its last argument in float64: derivatives of the float32
    arguments must come back float32 even where the result is float64."""
    domains = spec.domains
    name = spec.name[:-1] + ", " if spec.name.endswith("]") else spec.name + "["
    return replace(spec, name=name + "float32 with float64]", dtypes=(F32,), order=1,
                   domain=domains[:-1] + (replace(domains[-1], dtype=F64),))


def fnp_fn(name: str) -> Callable:
    """``functrans.numpy``'s function of a dotted name (``"fft.rfft"``)."""
    obj = fnp
    for part in name.split("."):
        obj = getattr(obj, part)
    return obj


def np_fn(name: str) -> Callable:
    """NumPy's function of a dotted name (``"fft.rfft"``)."""
    obj = np
    for part in name.split("."):
        obj = getattr(obj, part)
    return obj


def binds(p) -> Callable:
    """A row's ``fn`` that binds primitive ``p`` to the row's arrays and parameters."""
    return lambda *args, **params: p.bind(*args, **params)


def prim_spec(name, fn, ref, nargs, sig, **kw) -> OpSpec:
    """A row of primitive ``name``."""
    return OpSpec(f"prim.{name}", fn, ref, nargs, sig, **kw)
