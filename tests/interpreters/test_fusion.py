"""jit's fused kernels: groups ending in a reduction, kernels compiled in the background while
the NumPy steps run, kernels shared across programs, and the CuPy kernel source (as text
without a GPU; compiled and run where one exists)."""
from __future__ import annotations

import os

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans.backend import array_module
from functrans.interpreters import fusion, kernels_cupy, kernels_numba
from functrans.interpreters.fusion import KernelSpec
from functrans.interpreters.replay import ReplayPlan
from functrans.testing.strict import StrictArray

from backends import BACKENDS

needs_kernels = pytest.mark.skipif(
    not fusion.available(), reason="fused kernels need Numba: pip install -e '.[jit]' in the clone")


def _plan(fn, *args, optimize=True):
    plan = ReplayPlan(ft.make_jaxpr(fn)(*args).program, optimize=optimize)
    plan.run(list(args))
    fusion.wait_for_kernels()  # (bit-exact kernels compile in the background: run them too)
    return plan


def _kernels(plan) -> list:
    return [step for step in plan.steps if isinstance(step[0], fusion.FusedStep)]


def _data(dtype, shape=(64, 96)):
    rng = np.random.default_rng(1)
    return rng.standard_normal(shape).astype(dtype), rng.standard_normal(shape[-1:]).astype(dtype)


# the reductions a group may end in: over the last axis, the other axes, all axes
REDUCING = {
    "sum rows": lambda x, w: fnp.sum(x * w - 1.0, axis=-1),
    "sum cols": lambda x, w: fnp.sum((x - w) * x, axis=0),
    "sum all": lambda x, w: fnp.sum(x * x + w),
    "max rows": lambda x, w: fnp.max(x * w, axis=1),
    "min cols": lambda x, w: fnp.min(x - 2.0 * w, axis=0),
    "sum 3-d rows": lambda x, w: fnp.sum(fnp.reshape(x, (8, 8, 96)) * w, axis=2),
}


@needs_kernels
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", list(REDUCING))
def test_a_group_ends_in_its_reduction(name, dtype, monkeypatch):
    monkeypatch.setattr(fusion, "REDUCTION_MODES", frozenset(("all", "rows", "cols")))
    fn = REDUCING[name]
    x, w = _data(dtype)
    plan = _plan(fn, x, w)
    (kernel,) = _kernels(plan)
    assert kernel[0].name.split()[-1].startswith("reduce_") and len(kernel[4]) == 1
    expected = fn(x, w)
    for _ in range(2):
        (got,) = plan.run([x, w])
        assert type(got) is type(expected) and got.dtype == dtype and got.shape == expected.shape
        tol = 1e-5 if dtype == np.float32 else 1e-13  # (sums add in another order)
        np.testing.assert_allclose(got, expected, rtol=tol, atol=tol * np.abs(expected).max())


@needs_kernels
def test_groups_of_small_arrays_stay_numpy_steps():
    x, w = _data(np.float64, (8, 96))  # (768 elements: a kernel call costs what it saves)
    fn = lambda x, w: (x * w + 1.0) * x
    assert not _kernels(_plan(fn, x, w))
    np.testing.assert_array_equal(ft.jit(fn)(x, w), fn(x, w))


@needs_kernels
def test_reduction_modes_choose_which_reductions_end_a_kernel(monkeypatch):
    monkeypatch.setattr(fusion, "REDUCTION_MODES", frozenset(("all",)))
    x, w = _data(np.float64)
    assert [k[0].name for k in _kernels(_plan(REDUCING["sum rows"], x, w))] == ["fused[mul sub]"]
    (kernel,) = _kernels(_plan(REDUCING["sum all"], x, w))
    assert kernel[0].name == "fused[mul add reduce_sum]"


@needs_kernels
def test_a_reduced_value_other_steps_read_is_not_reduced_in_the_kernel(monkeypatch):
    monkeypatch.setattr(fusion, "REDUCTION_MODES", frozenset(("all", "rows", "cols")))
    x, w = _data(np.float64)
    plan = _plan(lambda x, w: (fnp.sum(x * w + 1.0, axis=-1), x * w + 1.0), x, w)
    assert [k[0].name for k in _kernels(plan)] == ["fused[mul add]"]


@needs_kernels
def test_reductions_keep_nan_and_softmax_matches_eager(monkeypatch):
    monkeypatch.setattr(fusion, "REDUCTION_MODES", frozenset(("all", "rows", "cols")))
    x, w = _data(np.float64)
    x[3, 5] = np.nan
    plan = _plan(lambda x, w: (fnp.max(x * w, axis=1), fnp.min(x * w, axis=0)), x, w)
    got = plan.run([x, w])
    assert np.isnan(got[0][3]) and np.isnan(got[1][5]) and np.isfinite(got[0][2])

    def softmax(x):
        e = fnp.exp(x - fnp.max(x, axis=-1, keepdims=True))
        return e / fnp.sum(e, axis=-1, keepdims=True)

    x = x[:, :50].copy()
    x[3, 5] = 0.0
    np.testing.assert_allclose(ft.jit(softmax)(x), softmax(x), rtol=1e-14)


def test_fused_reductions_match_eager_with_derivatives_on_both_backends(backend):
    x, w = _data(np.float64, (64, 80))

    def loss(x, w):
        h = x * w - 1.0
        return fnp.sum(h * h) + fnp.sum(fnp.max(x * w, axis=0))

    for fn in (loss, ft.grad(loss, argnums=(0, 1))):
        got = ft.jit(fn)(backend.put(x), backend.put(w))
        for g, e in zip(ft.tree.leaves(got), ft.tree.leaves(fn(x, w))):
            np.testing.assert_allclose(backend.get(g), e, rtol=1e-12, atol=1e-12)


@needs_kernels
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_first_run_gives_the_bits_of_later_runs_while_the_kernel_compiles(dtype):
    # A constant no other test uses: the kernel is new to this process and compiles in the
    # background while the first runs take the NumPy steps.
    constant = 1.0 + (0.125 if dtype == np.float64 else 0.375)
    fn = lambda x, w: ((x * w - constant) * x + w, x / (w + 3.0))
    x, w = _data(dtype)
    plan = ReplayPlan(ft.make_jaxpr(fn)(x, w).program)
    first = plan.run([x, w])
    kernels = _kernels(plan)
    assert kernels
    assert fusion.wait_for_kernels(timeout=120)
    later = plan.run([x, w])
    plain = _plan(fn, x, w, optimize=False).run([x, w])
    for a, b, c in zip(first, later, plain):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, c)
        assert a.dtype == b.dtype == dtype


@needs_kernels
def test_without_the_background_thread_the_kernel_is_ready_after_the_first_run(monkeypatch):
    monkeypatch.setattr(kernels_numba, "BACKGROUND", False)
    fn = lambda x, w: (x * w - 1.0 + 0.0625) * w  # (a constant no other test uses)
    x, w = _data(np.float32)
    plan = ReplayPlan(ft.make_jaxpr(fn)(x, w).program)
    plan.run([x, w])
    (kernel,) = _kernels(plan)
    assert kernel[1].__globals__["kernel"] is not None  # (the wrapper's compiled kernel)
    np.testing.assert_array_equal(plan.run([x, w])[0], fn(x, w))


def test_which_kernels_are_bit_exact():
    spec = lambda ops, reduction=None: KernelSpec(np.dtype("float64"), (8, 8), ops, ["full"], [0],
                                                  reduction, (8,), (1,))
    assert spec([("mul", ["a0", 2.0], None), ("div", ["v0", "a0"], None)]).exact
    assert spec([("integer_pow", ["a0"], 2)]).exact
    assert not spec([("integer_pow", ["a0"], 3)]).exact
    assert not spec([("max", ["a0", 0.0], None)]).exact  # (the sign of a zero result)
    assert not spec([("mul", ["a0", "a0"], None)], ("sum", "rows", 0)).exact
    assert not KernelSpec(np.dtype("float64"), (), [("neg", ["a0"], None)], ["one"], [0]).exact
    # a sum over the leading axes gives its fallback's bits (not always the recorded steps'
    # bits: those may sum a Fortran-ordered operand in another order)
    cols = spec([("mul", ["a0", "a0"], None)], ("sum", "cols", 0))
    assert cols.deferrable and not cols.exact
    assert not spec([("mul", ["a0", "a0"], None)], ("max", "cols", 0)).deferrable
    assert not spec([("mul", ["a0", "a0"], None)], ("sum", "rows", 0)).deferrable
    assert not spec([("tanh", ["a0"], None)], ("sum", "cols", 0)).deferrable
    one_column = KernelSpec(np.dtype("float64"), (64, 1), [("mul", ["a0", "a0"], None)], ["full"],
                            [0], ("sum", "cols", 0), (1,), (0,))
    assert not one_column.deferrable  # (NumPy sums a single column pairwise)


@needs_kernels
def test_identical_groups_of_different_programs_share_one_kernel():
    x, w = _data(np.float64)
    one = _plan(lambda x, w: (x * w + 1.0) * x, x, w)
    other = _plan(lambda a, b: fnp.tanh((a * b + 1.0) * a), x, w)  # (tanh: a NumPy step)
    (k1,), (k2,) = _kernels(one), _kernels(other)
    assert k1[0].source == k2[0].source
    assert kernels_numba._compiled_kernels.get(k1[0].source) is not None


def test_kernel_source_with_a_reduction_is_plain_text():
    source = kernels_numba.kernel_source(["v0 = (a0_ * a1_)"], [("a0", "full"), ("a1", "row")],
                                         [], np.dtype(np.float32), scalar=False,
                                         reduction=("sum", "cols", "v0"))
    assert "acc = np.full(cols, np.float32(0.0))" in source and "acc[j] = acc[j] + v0" in source
    assert "fastmath" not in source  # (the rows are added in order: NumPy's bits)
    assert "r[j] = acc[j]" in source and "types.Array(types.float32, 1, 'C')" in source


# -- CuPy kernels, as text -----------------------------------------------------------------------


def _cupy_steps(fn, *args):
    """The plan's steps fused for CuPy (the plan is built from NumPy arrays: only the source
    is looked at; the kernels would be made on the first call)."""
    plan = ReplayPlan(ft.make_jaxpr(fn)(*args).program)
    steps, _ = fusion.fuse(plan.steps, plan._eqns, plan._avals, plan.env_template,
                           plan._var_slots, set(plan.output_slots), target="cupy")
    return [s for s in steps if isinstance(s[0], fusion.FusedStep)]


def test_cupy_elementwise_kernel_source():
    x, w = _data(np.float32, (4, 6))
    (step,) = _cupy_steps(lambda x, w: (fnp.tanh(x * w + 0.5), fnp.maximum(x, w) - 1.0), x, w)
    source = step[0].source
    assert source.startswith("ElementwiseKernel(")
    in_params, out_params, operation, name = eval(source[len("ElementwiseKernel"):])
    assert in_params == "float32 a0, float32 a1" and out_params == "float32 o0, float32 o1"
    assert "const float v0 = (a0 * a1);" in operation and "((float)0.5)" in operation
    assert "tanh(" in operation  # (GPU kernels fuse transcendental functions too)
    assert "((a0 >= a1 || a0 != a0) ? a0 : a1)" in operation  # NumPy's NaN-propagating maximum
    assert operation.endswith("o0 = v2; o1 = v4;") and name.startswith("functrans_fused_")
    # the name is a hash of what the kernel computes: the same group gives the same kernel
    (again,) = _cupy_steps(lambda a, b: (fnp.tanh(a * b + 0.5), fnp.maximum(a, b) - 1.0), x, w)
    assert again[0].source == source


def test_cupy_reduction_kernel_source():
    x, w = _data(np.float64, (64, 96))
    (step,) = _cupy_steps(lambda x, w: fnp.max((x - w) * 2.0, axis=-1), x, w)
    assert "ElementwiseKernel" not in step[0].source
    in_params, out_params, map_expr, reduce_expr, post, identity, name = eval(
        step[0].source[len("ReductionKernel"):])
    assert (in_params, out_params) == ("float64 a0, float64 a1", "float64 r")
    assert map_expr == "((a0 - a1) * 2.0)" and post == "r = a"
    assert reduce_expr == "((a >= b || a != a) ? a : b)"
    assert identity == "(-__longlong_as_double(0x7ff0000000000000LL))"


def test_cupy_literals_and_powers():
    f32, f64 = np.dtype("float32"), np.dtype("float64")
    assert kernels_cupy.literal(float("inf"), f32) == "__int_as_float(0x7f800000)"
    assert kernels_cupy.literal(float("-inf"), f64) == "(-__longlong_as_double(0x7ff0000000000000LL))"
    assert kernels_cupy.literal(float("nan"), f64) == "__longlong_as_double(0x7ff8000000000000LL)"
    spec = KernelSpec(f64, (3,), [("integer_pow", ["a0"], 2), ("integer_pow", ["v0"], 3)],
                      ["full"], [1])
    assert kernels_cupy.elementwise_source(spec)[2] == (
        "const double v0 = (a0 * a0); const double v1 = pow(v0, (double)(3)); o0 = v1;")


def test_plans_on_cupy_arrays_fuse_only_when_every_array_is_cupys():
    assert not fusion.all_cupy([np.ones(2), 1.0, None])
    assert not fusion.all_cupy([1.0, np.float32(2.0)])


def _evaluate(spec: KernelSpec, args: tuple) -> tuple:
    """What a kernel of ``spec`` computes, by the array operations of its inputs' module (a
    stand-in for the CUDA source where there is no GPU)."""
    xp = array_module(args[0])
    table = {"add": xp.add, "sub": xp.subtract, "mul": xp.multiply, "div": xp.divide,
             "neg": xp.negative, "max": xp.maximum, "min": xp.minimum, "abs": xp.abs}
    values: list = []
    for name, operands, y in spec.ops:
        xs = [o if isinstance(o, float) else (args if o[0] == "a" else values)[int(o[1:])]
              for o in operands]
        values.append(xs[0] ** y if name == "integer_pow" else table.get(name, getattr(xp, name, None))(*xs))
    outs = tuple(values[n] for n in spec.outputs)
    if spec.reduction is not None:
        kind, _, n = spec.reduction
        outs += ({"sum": xp.sum, "max": xp.max, "min": xp.min}[kind](values[n], axis=spec.axes),)
    return outs


def test_plans_on_device_arrays_run_the_cupy_kernels_of_their_groups(monkeypatch):
    # The strict backend's arrays (which refuse conversion to NumPy) stand for CuPy's, and
    # each generated kernel runs as the array operations its spec names.
    made: list = []

    def make_runner(spec):
        made.append(spec)
        return kernels_cupy.elementwise_source(spec)[2], lambda *args: _evaluate(spec, args)

    monkeypatch.setattr(fusion, "all_cupy", lambda values: all(
        isinstance(v, StrictArray) or v is None or isinstance(v, (float, int, np.generic))
        for v in values))
    monkeypatch.setattr(kernels_cupy, "make_runner", make_runner)
    strict = BACKENDS["strict"]
    x, w = _data(np.float64, (6, 5))

    def fn(x, w):
        h = fnp.tanh(x * w + 0.5)
        return h * (1.0 - h * h), fnp.sum((x - w) * x, axis=-1), fnp.max(x * w - 1.0, axis=0)

    jitted = ft.jit(fn)
    for _ in range(2):
        got = jitted(strict.put(x), strict.put(w))
        strict.check_placed(got)
        for g, e in zip(got, fn(x, w)):
            np.testing.assert_allclose(strict.get(g), e, rtol=1e-14)
    # two kernels, ending in reductions over any axes; the first also gives h * (1 - h * h)
    assert [(spec.reduction[0], len(spec.outputs)) for spec in made] == [("sum", 2), ("max", 0)]


def test_every_cupy_name_and_keyword_the_kernels_use_exists():
    pytest.importorskip("cupy")
    import importlib
    import inspect

    for dotted, keywords in kernels_cupy.CUPY_API:
        module, *attributes = dotted.split(".")
        obj = importlib.import_module(module)
        for attribute in attributes:
            obj = getattr(obj, attribute)
        for keyword in keywords:
            try:
                params = inspect.signature(obj).parameters
                ok = keyword in params or any(p.kind is p.VAR_KEYWORD for p in params.values())
            except (TypeError, ValueError):  # a Cython function without a signature: its docs
                ok = keyword in (obj.__doc__ or "")
            assert ok, f"{dotted} takes no keyword {keyword!r}"


def _gpu_unavailable_reason() -> str | None:
    try:
        import cupy
    except ImportError as e:
        return f"no CuPy ({e}); install with pip install -e '.[gpu]' in the clone"
    try:
        if cupy.cuda.runtime.getDeviceCount() == 0:
            return "no GPU device"
    except Exception as e:  # CUDARuntimeError without a driver
        return f"no CUDA driver ({type(e).__name__}: {e})"
    return None


def test_cupy_kernels_compile_and_match_numpy_on_a_gpu():
    reason = _gpu_unavailable_reason()
    if reason is not None:
        if os.environ.get("FUNCTRANS_REQUIRE_GPU") == "1":
            pytest.fail(f"FUNCTRANS_REQUIRE_GPU=1 but the GPU tests cannot run: {reason}")
        pytest.skip(reason)
    import cupy

    x, w = _data(np.float64, (64, 96))

    def fn(x, w):
        h = fnp.tanh(x * w + 0.5)
        return h * (1.0 - h * h), fnp.sum((x - w) * x, axis=-1), fnp.max(x * w, axis=0)

    jitted = ft.jit(fn)
    for _ in range(2):
        got = jitted(cupy.asarray(x), cupy.asarray(w))
        assert all(isinstance(g, cupy.ndarray) for g in got)
        for g, e in zip(got, fn(x, w)):
            np.testing.assert_allclose(cupy.asnumpy(g), e, rtol=1e-12)
    assert _kernels(jitted.lower(cupy.asarray(x), cupy.asarray(w)).plan)


class _FakeKernel:
    """A step's primitive slot that takes ``out=`` buffers, as a fused kernel's does."""

    takes_out = True
    fresh_outputs = True
    name = "fused[fake]"


def test_a_kernel_never_writes_into_its_own_arguments():
    from functrans.interpreters.buffers import plan_reuse
    from functrans.primitives.elementwise import tanh_p

    aval = ((64, 96), np.dtype(np.float64))
    kernel = _FakeKernel()
    # slots 0 (input), 1 = tanh(0), 2 = tanh(0), 3 = kernel(1, 2) dying there, 4 = kernel(3)
    steps = [(tanh_p, None, {}, (0,), 1, ()), (tanh_p, None, {}, (0,), 2, ()),
             (kernel, None, {}, (1, 2), (3,), (1, 2)), (kernel, None, {}, (3,), (5,), (3,))]
    avals = dict.fromkeys(range(6), aval)
    borrow, _ = plan_reuse(steps, avals, {1, 2, 3, 5}, {5})
    assert 2 not in borrow  # (its only dead buffers of that shape are its arguments)
    assert borrow[3] == (1,) or borrow[3] == (2,)  # a buffer the second kernel does not read


@needs_kernels
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_kernels_of_a_plan_write_apart_from_what_they_read(dtype):
    x, w = _data(dtype)

    def fn(x, w):
        u = fnp.tanh(x)
        v = fnp.exp(x)
        return (1.0 - u * u) * v + w, fnp.tanh(u * 2.0 - v)

    plan = _plan(fn, x, w)
    assert _kernels(plan)
    for position, step in enumerate(plan.steps):
        lent = plan._borrow.get(position)
        if isinstance(step[0], fusion.FusedStep) and lent is not None:
            assert not set(lent) & set(step[3])
    for got, expected in zip(plan.run([x, w]), fn(x, w)):
        np.testing.assert_allclose(got, expected, rtol=1e-6)


@needs_kernels
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_longer_groups_fuse_from_fewer_elements(dtype):
    x, w = _data(dtype, (8, 128))  # 1024 elements
    long = lambda x, w: (x * w + 1.0) * x  # three steps: a kernel
    short = lambda x, w: x * w + 1.0  # two steps: a kernel from MIN_ARRAY_SIZE on
    assert fusion.MIN_LONG_GROUP_SIZE <= x.size < fusion.MIN_ARRAY_SIZE
    assert len(_kernels(_plan(long, x, w))) == 1 and not _kernels(_plan(short, x, w))
    np.testing.assert_allclose(ft.jit(long)(x, w), long(x, w), rtol=1e-6)
    wide, w2 = _data(dtype, (32, 128))
    assert len(_kernels(_plan(short, wide, w2))) == 1


@needs_kernels
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_reduction_of_a_value_other_steps_read_ends_its_kernel(dtype):
    rng = np.random.default_rng(2)
    a, b = (rng.standard_normal((64, 128)).astype(dtype) for _ in range(2))
    w = rng.standard_normal((128, 10)).astype(dtype)

    def fn(a, b, w):  # a bias gradient beside the product that reads the same values
        d = a * b
        return fnp.sum(d, axis=0), d @ w

    plan = _plan(fn, a, b, w)
    assert [k[0].name for k in _kernels(plan)] == ["fused[mul reduce_sum]"]
    tol = 1e-5 if dtype == np.float32 else 1e-12
    for _ in range(2):
        for got, expected in zip(plan.run([a, b, w]), fn(a, b, w)):
            assert got.dtype == dtype
            np.testing.assert_allclose(got, expected, rtol=tol, atol=tol)


@needs_kernels
@pytest.mark.parametrize("fn", [
    lambda x: fnp.sum(x * x - 1.0, axis=1),                                      # float64 sums
    lambda x: fnp.log(fnp.sum(fnp.exp(x - fnp.max(x, axis=1, keepdims=True)), axis=1)),
])
def test_the_first_call_gives_the_bits_of_the_later_ones_with_inexact_kernels(fn):
    # the first call runs the recorded steps and compiles the plan after them; a kernel that
    # sums in float64 or calls the math library rounds otherwise, so that call is run again
    x = np.random.default_rng(5).standard_normal((256, 24)).astype(np.float32)
    step = ft.jit(fn)
    first = step(x)
    assert any(not s[0].exact for s in _kernels(_plan(fn, x)))
    np.testing.assert_array_equal(first, step(x))


def _column_sum_cases(dtype):
    rng = np.random.default_rng(11)
    a, b = (rng.standard_normal((64, 96)).astype(dtype) for _ in range(2))
    a[:, 3] = -0.0  # NumPy sums a column of negative zeros to +0.0 (it starts from 0.0)
    a[5, 4], a[7, 5], a[9, 5] = np.nan, np.inf, -np.inf
    w = rng.standard_normal((96, 3)).astype(dtype)
    return a, b, w


@pytest.mark.parametrize("shape", [(64, 96), (5000, 2), (5000, 3), (2, 5000), (7, 30, 5), (3, 1, 7)])
def test_numpy_sums_a_c_ordered_array_over_its_leading_axes_row_by_row(shape):
    # what a deferrable kernel's sum relies on (KernelSpec.deferrable): NumPy's order, from
    # 0.0, one row after the other, wherever the last axis has two entries or more
    x = np.random.default_rng(8).standard_normal(shape).astype(np.float32) * 1e3
    rows = x.reshape(-1, shape[-1])
    total = np.zeros(shape[-1], np.float32)
    for row in rows:
        total = total + row
    np.testing.assert_array_equal(np.sum(x, axis=tuple(range(x.ndim - 1))), total)


@needs_kernels
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("order", ["C", "F"])
def test_a_kernel_summing_the_leading_axes_gives_numpys_bits_on_every_call(dtype, order):
    a, b, w = _column_sum_cases(dtype)
    a, b = np.asarray(a, order=order), np.asarray(b, order=order)
    # (a constant no other test uses: the kernel is new to this process)
    fn = lambda a, b, w: (fnp.sum((a * b + 0.8125) * a, axis=0), ((a * b + 0.8125) * a) @ w)
    step = ft.jit(fn)
    calls = [step(a, b, w)]
    assert fusion.wait_for_kernels(timeout=120)
    calls += [step(a, b, w), step(a, b, w)]
    c = np.ascontiguousarray((a * b + 0.8125) * a)
    for total, _ in calls:
        assert total.dtype == dtype
        np.testing.assert_array_equal(total, np.sum(c, axis=0))  # (NaN where NumPy's is)
        assert total[3] == 0 and not np.signbit(total[3])
    assert [k[0].name for k in _kernels(_plan(fn, a, b, w))] == ["fused[mul add mul reduce_sum]"]


@needs_kernels
def test_a_kernel_summing_the_leading_axes_compiles_in_the_background(monkeypatch):
    deferred = []
    monkeypatch.setattr(kernels_numba, "_compile_later",
                        lambda source, namespace: deferred.append(source))
    a, b, w = _column_sum_cases(np.float64)
    x = np.random.default_rng(3).standard_normal((4, 16, 96))
    fn = lambda a, b, w: (fnp.sum(a * b + 0.4375, axis=0), (a * b + 0.4375) @ w)
    three = lambda x: fnp.sum(x * x + 0.4375, axis=(0, 1))
    for f, args in ((fn, (a, b, w)), (three, (x,))):
        plan = _plan(f, *args)
        (kernel,) = _kernels(plan)
        assert kernel[0].source in deferred
        # until the kernel is there, its fallback runs: NumPy's sum of a C-ordered operand
        expected = f(*args)
        np.testing.assert_array_equal(plan.run(list(args))[0],
                                      expected[0] if isinstance(expected, tuple) else expected)


@needs_kernels
def test_a_kernel_that_compiles_first_must_be_a_share_of_its_plan():
    rng = np.random.default_rng(4)
    x, big = rng.standard_normal((64, 128)), rng.standard_normal((400, 400))
    inexact = lambda x: fnp.sum((x * 2.0 + 1.0) * x, axis=1)  # (sums in float64: not deferrable)
    deferrable = lambda x: fnp.sum((x * 2.0 + 1.0) * x, axis=0)
    kernel = "fused[mul add mul reduce_sum]"
    for fn in (inexact, deferrable):
        beside = lambda x, big, fn=fn: (fn(x), big @ big)  # (the product: 500x the group's cost)
        plan = _plan(beside, x, big)
        assert (kernel in [k[0].name for k in _kernels(plan)]) == (fn is deferrable)
        assert [k[0].name for k in _kernels(_plan(fn, x))] == [kernel]
        np.testing.assert_allclose(plan.run([x, big])[0], fn(x), rtol=1e-14)


def test_the_cost_of_a_product_counts_its_multiply_adds():
    from functrans.interpreters import costs
    from functrans.primitives.dot import dot_general_p
    avals = {0: ((128, 784), np.dtype("float64")), 1: ((784, 512), np.dtype("float64")),
             2: ((128, 512), np.dtype("float32"))}
    step = (dot_general_p, None, {"dimension_numbers": (((1,), (0,)), ((), ()))}, (0, 1), 2, ())
    elements = 128 * 784 + 784 * 512 + 128 * 512
    flops = 2 * 128 * 512 * 784
    assert costs.step_cost(step, avals, [None] * 3) == pytest.approx(
        costs.CALL_NS + costs.ELEMENT_NS * elements + flops / costs.FLOPS_PER_NS[np.dtype("float32")])
    tanh = (fnp.tanh, None, {}, (2,), 3, ())  # (a step of unknown kind: priced by its elements)
    avals[3] = avals[2]
    assert costs.step_cost(tanh, avals, [None] * 4) == costs.CALL_NS + costs.ELEMENT_NS * 2 * 128 * 512
    assert costs.plan_cost([step, tanh], avals, [None] * 4) == pytest.approx(
        costs.step_cost(step, avals, [None] * 4) + costs.step_cost(tanh, avals, [None] * 4))
