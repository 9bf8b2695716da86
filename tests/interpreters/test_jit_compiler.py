"""jit's compiler passes: simplification of the staged program, buffer reuse in the plan, and
fused kernels; each keeps jit's results those of the plan without it."""
from __future__ import annotations

import contextlib
import os
import sys

import numpy as np
import pytest
from hypothesis import assume, given, settings

import functrans as ft
import functrans.numpy as fnp
from functrans import config, errors, tree
from functrans.interpreters import fusion, gemm_update
from functrans.interpreters.replay import ReplayPlan
from functrans.interpreters.simplify import simplify
from functrans.primitives.opaque import opaque_call_p

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(__file__)), "fuzz"))
from fuzz_programs import programs
from specs import assert_same


def _staged(fn, *args):
    return ft.make_jaxpr(fn)(*args).program


def _names(program) -> list[str]:
    """The primitives of the equations some output needs, in order."""
    return [e.prim.name for e in ReplayPlan(program, optimize=False)._eqns]


def _simplified_names(fn, *args) -> list[str]:
    return _names(simplify(_staged(fn, *args)))


def _bits(values) -> list:
    out = []
    for v in values:
        a = np.asarray(v)
        out.append((a.shape, a.dtype, np.ascontiguousarray(a).tobytes()))
    return out


# -- simplification: identities ----------------------------------------------------------------

X = np.arange(6.0).reshape(2, 3) - 2.5


@pytest.mark.parametrize("fn, expected", [
    (lambda x: fnp.astype(x, np.float64) * 2.0, ["mul"]),
    (lambda x: fnp.reshape(fnp.reshape(x, (3, 2)), (6,)) * 2.0, ["reshape", "mul"]),
    (lambda x: fnp.reshape(fnp.reshape(x, (6,)), (2, 3)) * 2.0, ["mul"]),
    (lambda x: fnp.transpose(fnp.transpose(x)) * 2.0, ["mul"]),
    (lambda x: fnp.transpose(fnp.transpose(fnp.expand_dims(x, 0), (1, 0, 2)), (2, 1, 0)),
     ["expand_dims", "transpose"]),
    (lambda x: fnp.negative(fnp.negative(fnp.sin(x))), ["sin"]),
    (lambda x: fnp.sin(x) * 1.0 / 1, ["sin"]),
    (lambda x: 1 * fnp.sin(x), ["sin"]),
    (lambda x: fnp.sin(x) + -0.0, ["sin"]),
    (lambda x: fnp.sin(x) - 0.0, ["sin"]),
    (lambda x: fnp.sin(x) + fnp.sin(x), ["sin", "add"]),
    (lambda x: fnp.exp(x) * fnp.sin(x) + fnp.exp(x) * fnp.sin(x), ["exp", "sin", "mul", "add"]),
])
def test_identities_and_common_subexpressions_are_removed(fn, expected):
    assert _simplified_names(fn, X) == expected
    program = _staged(fn, X)
    assert _bits(ReplayPlan(program).run([X])) == _bits(ReplayPlan(program, optimize=False).run([X]))


@pytest.mark.parametrize("fn, kept", [
    # x + 0.0 is not x: -0.0 + 0.0 is +0.0
    (lambda x: fnp.sin(x) + 0.0, ["sin", "add"]),
    (lambda x: 0.0 + fnp.sin(x), ["sin", "add"]),
    # a multiplication that changes the dtype or the shape is kept
    (lambda x: fnp.sin(x) * np.ones(3), ["sin", "mul"]),
    (lambda x: fnp.sin(x).astype(np.float32) * np.float64(1.0), ["sin", "convert_element_type", "mul"]),
    # complex x * (1+0j) can change the sign of a zero imaginary part
    (lambda x: (fnp.sin(x) + 0j) * (1 + 0j), ["sin", "add", "mul"]),
    # the same primitive with other parameters, or on other arguments, is another value
    (lambda x: fnp.sum(x, axis=0) + fnp.sum(x, axis=1)[:, None].sum(), None),
])
def test_what_could_change_a_result_is_kept(fn, kept):
    program = _staged(fn, X)
    if kept is not None:
        assert _names(simplify(program)) == kept
    assert _bits(ReplayPlan(program).run([X])) == _bits(ReplayPlan(program, optimize=False).run([X]))


def test_integer_add_zero_is_removed():
    n = np.arange(4)
    assert _simplified_names(lambda i: (i * 3) + 0, n) == ["mul"]


def test_zero_sign_in_parameters_tells_values_apart():
    def fn(x):
        return fnp.full_like(x, 0.0) * x, fnp.full_like(x, -0.0) * x

    out = ft.jit(fn)(np.array([-1.0, 2.0]))
    assert np.signbit(out[0]).tolist() == [True, False]
    assert np.signbit(out[1]).tolist() == [False, True]


def test_broadcasts_fold_into_elementwise_consumers():
    b = np.arange(3.0)
    program = _staged(lambda x, b: fnp.tanh(x + fnp.broadcast_to(b, (2, 3))), X, b)
    assert "broadcast_in_dim" in _names(program)
    assert _names(simplify(program)) == ["add", "tanh"]
    on, off = ReplayPlan(program), ReplayPlan(program, optimize=False)
    assert _bits(on.run([X, b])) == _bits(off.run([X, b]))


def test_a_broadcast_of_a_reshape_folds_into_the_reshapes_operand():
    from functrans.primitives._define import broadcast_in_dim, reshape

    def fn(x, c):  # c (4, 1) -> (4,) -> broadcast along axis 0: NumPy broadcasts c itself so
        return x * broadcast_in_dim(reshape(c * 2.0, (4,)), (4, 3), (0,))

    x, c = np.arange(12.0).reshape(4, 3), np.arange(4.0).reshape(4, 1) - 1.5
    program = _staged(fn, x, c)
    assert _names(simplify(program)) == ["mul", "mul"]
    assert _bits(ReplayPlan(program).run([x, c])) == _bits(ReplayPlan(program, optimize=False).run([x, c]))


def test_a_broadcast_that_makes_the_shape_is_kept():
    b = np.arange(3.0)
    program = _staged(lambda b: fnp.broadcast_to(b, (2, 3)) * 2.0, b)
    assert _names(simplify(program)) == ["broadcast_in_dim", "mul"]
    assert ReplayPlan(program).run([b])[0].shape == (2, 3)


def test_impure_and_unknown_primitives_are_not_merged():
    calls = []

    def noisy(x):
        calls.append(1)
        return x + len(calls)

    def fn(x):
        return opaque_call_p.bind(x, fn=noisy), opaque_call_p.bind(x, fn=noisy)

    program = _staged(fn, np.zeros(2))
    assert _names(simplify(program)) == ["opaque_call", "opaque_call"]


def test_array_parameters_are_compared_by_identity_only():
    # Two gathers with equal index arrays are two values for the simplifier (arrays are not
    # compared), and the result is right either way.
    x = np.arange(5.0)
    fn = lambda x: x[np.array([0, 2])] + x[np.array([0, 2])]
    assert ft.jit(fn)(x).tolist() == [0.0, 4.0]


def test_duplicate_outputs_are_separate_arrays():
    fn = ft.jit(lambda x: (fnp.sin(x) * 2, fnp.sin(x) * 2))
    a, b = fn(np.ones(3))
    assert a is not b and not np.shares_memory(a, b)
    a[0] = 7.0
    assert b[0] == np.sin(1.0) * 2


def test_program_text_is_unchanged_by_jit():
    fn = lambda x: fnp.sin(x) * 1.0
    text = str(ft.make_jaxpr(fn)(X))
    ft.jit(fn)(X)
    assert "mul" in text and str(ft.make_jaxpr(fn)(X)) == text


def test_debug_nans_runs_every_recorded_equation():
    fn = lambda x: fnp.sin(x) * 1.0 + fnp.sin(x)
    program = _staged(fn, X)
    with config.override(debug_nans=True):
        plan = ReplayPlan(program)
    assert plan.num_eqns == 4
    assert ReplayPlan(program).num_eqns == 2


def _on_and_off(program):
    leaves, treedef = tree.flatten(program.inputs)
    try:
        staged = _staged(lambda *xs: program(treedef.unflatten(list(xs)), fnp), *leaves)
    except (errors.UnsupportedError, errors.TracerConversionError):
        assume(False)  # an operation jit cannot record (test_fuzz reports those)
    return staged, list(leaves), ReplayPlan(staged), ReplayPlan(staged, optimize=False)


@settings(max_examples=25)
@given(program=programs())
def test_generated_programs_simplified_match_unsimplified_bit_for_bit(program):
    # (kernels use the math library's transcendental functions, and a fused update BLAS's
    # order of summation: they are checked apart)
    fusion_was, fusion._HAVE_NUMBA = fusion._HAVE_NUMBA, False
    gemm_was, gemm_update._HAVE_SCIPY = gemm_update._HAVE_SCIPY, False
    try:
        staged, leaves, on, off = _on_and_off(program)
        for _ in range(2):  # the first run compiles the plan, the second runs the compiled one
            assert _bits(on.run(leaves)) == _bits(off.run(leaves)), str(staged)
    finally:
        fusion._HAVE_NUMBA = fusion_was
        gemm_update._HAVE_SCIPY = gemm_was


# -- buffer reuse ------------------------------------------------------------------------------


def _plan(fn, *args):
    plan = ReplayPlan(_staged(fn, *args))
    plan.run(list(args))
    fusion.wait_for_kernels()  # (bit-exact kernels compile in the background: run them too)
    return plan


def test_elementwise_results_reuse_dead_temporaries():
    x = np.linspace(-1, 1, 12).reshape(3, 4)
    fn = lambda x: fnp.exp(fnp.tanh(x * 2.0) + 1.0) * 3.0
    plan = _plan(fn, x)
    assert len(plan._borrow) >= 2
    expected = np.exp(np.tanh(x * 2.0) + 1.0) * 3.0
    np.testing.assert_array_equal(plan.run([x])[0], expected)


def test_inputs_constants_and_outputs_are_never_written():
    x = np.linspace(-1, 1, 12).reshape(3, 4)
    c = np.full((3, 4), 0.5)
    x0, c0 = x.copy(), c.copy()

    def fn(x):
        y = x * 2.0
        return y, fnp.tanh(y + c) * c + x

    jitted = ft.jit(fn)
    first = jitted(x)
    kept = [a.copy() for a in first]
    second = jitted(x)
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(c, c0)
    for a, b, k in zip(first, second, kept):
        np.testing.assert_array_equal(a, k)  # the second call did not write into the first's
        np.testing.assert_array_equal(b, k)
        assert not np.shares_memory(a, b)


@pytest.mark.parametrize("view", [
    lambda t: fnp.reshape(t, (4, 3)),
    lambda t: fnp.transpose(t),
    lambda t: t.astype(np.float64),
    lambda t: t[1:],
])
def test_a_temporary_that_a_view_still_shows_is_not_reused(view):
    x = np.linspace(-1, 1, 12).reshape(3, 4)

    def fn(x):
        t = x * 2.0
        v = view(t)
        return v, fnp.exp(x) + 1.0

    v, _ = ft.jit(fn)(x)
    np.testing.assert_array_equal(np.asarray(v), np.asarray(view(x * 2.0)))


def test_reuse_matches_eager_on_both_backends(backend):
    x = backend.put(np.linspace(-1, 1, 12).reshape(3, 4))

    def fn(x):
        h = fnp.tanh(x * 2.0 + 1.0)
        return fnp.sum(h * (1.0 - h * h)), h - 1.0

    got = backend.get(ft.jit(fn)(x))
    expected = backend.get(fn(x))
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, rtol=1e-14)


def test_jit_of_a_training_step_reuses_buffers_and_matches_eager():
    rng = np.random.default_rng(0)
    params = {"w": rng.standard_normal((5, 8)), "b": np.zeros(8), "v": rng.standard_normal((8, 2))}
    x, y = rng.standard_normal((16, 5)), rng.standard_normal((16, 2))

    def loss(p, x, y):
        h = fnp.tanh(x @ p["w"] + p["b"])
        return fnp.mean((h @ p["v"] - y) ** 2)

    def step(p, x, y):
        value, g = ft.value_and_grad(loss)(p, x, y)
        return value, tree.map(lambda a, b: a - 0.1 * b, p, g)

    got = ft.jit(step)(params, x, y)
    expected = step(params, x, y)
    for g, e in zip(tree.leaves(got), tree.leaves(expected)):
        np.testing.assert_allclose(g, e, rtol=1e-13, atol=1e-15)


# -- fused kernels (the functrans[jit] extra) --------------------------------------------------

needs_kernels = pytest.mark.skipif(
    not fusion.available(), reason="fused kernels need Numba: pip install -e '.[jit]'")


def _scalar_chain(x):
    for _ in range(4):
        x = fnp.sin(x) * 1.01 + 0.1 * x
    return x


@contextlib.contextmanager
def _small_arrays_fuse():
    """Arrays of any size fuse (kernels are checked on small arrays: fast to test)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(fusion, "MIN_ARRAY_SIZE", 1)
        yield


def _kernel_steps(plan) -> list:
    return [step for step in plan.steps if isinstance(step[0], fusion.FusedStep)]


@needs_kernels
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_program_of_scalars_is_one_kernel_call(dtype):
    x = dtype(0.3)
    program = _staged(ft.grad(_scalar_chain), x)
    plan = ReplayPlan(program)
    first = plan.run([x])
    assert len(plan.steps) == 1 and len(_kernel_steps(plan)) == 1
    expected = ft.grad(_scalar_chain)(x)
    for got in (first, plan.run([x])):
        assert type(got[0]) is type(expected) and got[0].dtype == dtype
        np.testing.assert_allclose(got[0], expected, rtol=1e-14 if dtype == np.float64 else 1e-6)


@needs_kernels
def test_kernels_keep_numpys_division_and_nan_semantics():
    def fn(x):
        y = x * 0.0
        return (fnp.log(y) + x / y) * 2.0 - fnp.sqrt(x - 1.0) + fnp.tanh(x) * fnp.exp(x) / fnp.cos(x)

    for value in (0.5, -0.5, 2.0):
        x = np.float64(value)
        with np.errstate(all="ignore"):
            expected = fn(x)
        got = ft.jit(fn)(x)
        got = ft.jit(fn)(x)
        assert len(_kernel_steps(_plan(fn, x))) == 1
        np.testing.assert_allclose(got, expected, rtol=1e-14)
        assert np.isnan(got) == np.isnan(expected)


@needs_kernels
def test_a_kernel_keeps_values_that_other_steps_read():
    def fn(x, v):
        a = fnp.sin(x) * 2.0 + fnp.cos(x) * 3.0 - x * x
        b = a * a + 1.0
        return fnp.sum(v * a), b, a

    x, v = np.float64(0.4), np.arange(3.0)
    plan = _plan(fn, x, v)
    assert len(_kernel_steps(plan)) == 1
    for got, expected in zip(plan.run([x, v]), fn(x, v)):
        np.testing.assert_allclose(got, expected, rtol=1e-14)


@needs_kernels
def test_kernels_are_not_used_under_debug_nans_or_through_bind():
    x = np.float64(0.3)
    program = _staged(ft.grad(_scalar_chain), x)
    with config.override(debug_nans=True):
        plan = ReplayPlan(program)
        plan.run([x])
    assert not _kernel_steps(plan)
    jitted = ft.jit(ft.grad(_scalar_chain))
    jitted(x)
    jitted(x)
    np.testing.assert_allclose(ft.grad(jitted)(x), ft.grad(ft.grad(_scalar_chain))(x), rtol=1e-13)


def test_kernel_source_is_plain_text():
    source = fusion.kernel_source(["v0 = np.tanh(a0_)", "v1 = (v0 * a1_)"],
                                  [("a0", "full"), ("a1", "row")], ["v1"], np.dtype(np.float32),
                                  scalar=False)
    assert "a1_ = a1[0, j]" in source and "o0[i, j] = v1" in source
    assert "types.Array(types.float32, 2, 'C', readonly=True)" in source


def test_without_kernels_the_plan_runs_numpy_steps(monkeypatch):
    monkeypatch.setattr(fusion, "_HAVE_NUMBA", False)
    x = np.float64(0.3)
    plan = ReplayPlan(_staged(ft.grad(_scalar_chain), x))
    plan.run([x])
    assert not _kernel_steps(plan) and len(plan.steps) > 10
    np.testing.assert_allclose(plan.run([x])[0], ft.grad(_scalar_chain)(x), rtol=1e-14)


@needs_kernels
@settings(max_examples=10)
@given(program=programs())
def test_generated_programs_with_kernels_match_the_plain_plan(program):
    with _small_arrays_fuse():
        staged, leaves, on, off = _on_and_off(program)
        on.run(leaves)
    fusion.wait_for_kernels()
    for _ in range(2):
        assert_same([np.asarray(v) for v in on.run(leaves)],
                    [np.asarray(v) for v in off.run(leaves)], str(staged))


def test_values_standing_for_python_scalars_keep_their_promotion():
    def fn(x, lr):
        scaled = x * lr
        return x * fnp.astype(lr, np.float64), x * fnp.broadcast_to(fnp.asarray(lr), x.shape), scaled * 1

    x = np.ones(3, np.float32)
    for got, expected in zip(ft.jit(fn)(x, 0.5), fn(x, 0.5)):
        assert got.dtype == expected.dtype
        np.testing.assert_array_equal(got, expected)


# -- printing what jit made of a function ------------------------------------------------------


def test_lower_prints_the_optimized_program_and_make_jaxpr_the_recorded_one():
    fn = lambda x: fnp.exp(fnp.sin(x) * 1.0 + fnp.sin(x)) * 3.0
    x = np.ones((2, 3))
    text = ft.jit(fn).lower(x).as_text()
    assert text.count("sin[]") == 1 and "# into v" in text and "mul[] v" in text
    recorded = str(ft.make_jaxpr(fn)(x))
    assert recorded.count("sin[]") == 2


@needs_kernels
def test_lower_shows_the_fused_kernel_and_its_equations():
    text = ft.jit(ft.grad(_scalar_chain)).lower(np.float64(0.3)).as_text()
    assert "= fused[" in text and "        v" in text and "sin[]" in text


@needs_kernels
@pytest.mark.parametrize("shape", [(7,), (4, 5), (2, 3, 4)])
def test_arithmetic_on_arrays_is_one_kernel_with_numpy_broadcasting(shape, monkeypatch):
    monkeypatch.setattr(fusion, "MIN_ARRAY_SIZE", 1)
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape)
    row = rng.standard_normal(shape[-1:])
    col = rng.standard_normal(shape[:-1] + (1,))
    one = np.array(1.5)
    x0 = x.copy()

    def fn(x, row, col, one):
        t = fnp.tanh(x)  # (stays a NumPy step: no transcendental functions in array kernels)
        u = (t * row - col) / one + 2.0
        return u * u - t, fnp.sum(u)

    plan = _plan(fn, x, row, col, one)
    kernels = _kernel_steps(plan)
    assert len(kernels) == 1 and "tanh" not in kernels[0][0].name
    for _ in range(2):
        for got, expected in zip(plan.run([x, row, col, one]), fn(x, row, col, one)):
            np.testing.assert_allclose(got, expected, rtol=1e-14)
    np.testing.assert_array_equal(x, x0)


@needs_kernels
def test_array_kernels_take_non_contiguous_inputs_and_reuse_buffers(monkeypatch):
    monkeypatch.setattr(fusion, "MIN_ARRAY_SIZE", 1)
    a = np.arange(12.0).reshape(3, 4)
    b = np.linspace(0, 1, 12).reshape(4, 3).T  # not C-contiguous

    def fn(a, b):
        t = fnp.exp(a * 0.1)
        s = (t * b + 1.0) * t
        return (s - b) * 0.5

    plan = _plan(fn, a, b)
    assert _kernel_steps(plan)
    expected = fn(a, b)
    for _ in range(2):
        np.testing.assert_allclose(plan.run([a, b])[0], expected, rtol=1e-14)
    assert "# into" in plan.as_text()
