"""jit's row kernels: a region whose row reductions feed later steps of the same rows (a softmax,
a cross entropy and its gradient, a layer norm) runs as one Numba kernel, with the values of
the NumPy steps (to rounding) in every output form: full, per row, over the rows, over all."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import functrans as ft
import functrans.numpy as fnp
from functrans.interpreters import fusion, row_kernels
from functrans.interpreters.replay import ReplayPlan

needs_kernels = pytest.mark.skipif(
    not fusion.available(), reason="fused kernels need Numba: pip install -e '.[jit]' in the clone")


def _plan(fn, *args):
    plan = ReplayPlan(ft.make_jaxpr(fn)(*args).program)
    plan.run(list(args))  # (the first run runs the steps, then compiles)
    return plan


def _row_kernels(plan) -> list:
    return [step for step in plan.steps if isinstance(step[0], fusion.FusedStep)
            and "for i in range(rows)" in step[0].source and step[0].source.count("for j") >= 2]


def softmax(z):
    e = fnp.exp(z - fnp.max(z, axis=-1, keepdims=True))
    return e / fnp.sum(e, axis=-1, keepdims=True)


def cross_entropy(z, w, b, y):
    logits = z * w + b
    shifted = logits - fnp.max(ft.stop_gradient(logits), axis=-1, keepdims=True)
    log_probs = shifted - fnp.log(fnp.sum(fnp.exp(shifted), axis=-1, keepdims=True))
    return -fnp.sum(log_probs * y) / z.shape[0]


def layer_norm(z, w, b):
    mean = fnp.mean(z, axis=-1, keepdims=True)
    var = fnp.mean((z - mean) ** 2, axis=-1, keepdims=True)
    return (z - mean) / fnp.sqrt(var + 1e-5) * w + b


def logsumexp_rows(z):
    m = fnp.max(z, axis=-1)
    return m + fnp.log(fnp.sum(fnp.exp(z - m[..., None]), axis=-1))


def _data(dtype, shape=(48, 10), seed=0):
    rng = np.random.default_rng(seed)
    z = rng.standard_normal(shape).astype(dtype)
    w = rng.standard_normal(shape[-1:]).astype(dtype)
    b = rng.standard_normal(shape[-1:]).astype(dtype)
    y = np.eye(shape[-1], dtype=dtype)[rng.integers(0, shape[-1], shape[:-1])]
    return z, w, b, y


PROGRAMS = {
    "softmax": (softmax, lambda z, w, b, y: (z,)),
    "cross entropy": (cross_entropy, lambda z, w, b, y: (z, w, b, y)),
    "its gradient": (ft.value_and_grad(cross_entropy, argnums=(0, 1, 2)),
                     lambda z, w, b, y: (z, w, b, y)),
    "layer norm": (layer_norm, lambda z, w, b, y: (z, w, b)),
    "layer norm gradient": (ft.grad(lambda z, w, b: fnp.sum(fnp.tanh(layer_norm(z, w, b))),
                                    argnums=(0, 1, 2)), lambda z, w, b, y: (z, w, b)),
    "logsumexp per row": (logsumexp_rows, lambda z, w, b, y: (z,)),
    "softmax and its row maximum": (lambda z: (softmax(z), fnp.max(z, axis=1, keepdims=True)),
                                    lambda z, w, b, y: (z,)),
}


def _close(got, expected, dtype):
    tol = 2e-5 if dtype == np.float32 else 1e-12
    for g, e in zip(ft.tree.leaves(got), ft.tree.leaves(expected)):
        assert type(g) is type(e) and g.dtype == e.dtype and np.shape(g) == np.shape(e)
        np.testing.assert_allclose(g, e, rtol=tol, atol=tol)


@needs_kernels
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", list(PROGRAMS))
def test_a_region_of_rows_is_one_kernel_with_the_values_of_its_steps(name, dtype):
    fn, pick = PROGRAMS[name]
    args = pick(*_data(dtype))
    plan = _plan(fn, *args)
    assert len(_row_kernels(plan)) == 1
    expected = fn(*args)
    for _ in range(2):
        _close(ft.tree.unflatten(ft.tree.structure(expected), plan.run(list(args))), expected,
               dtype)
    _close(ft.jit(fn)(*args), expected, dtype)


@needs_kernels
def test_the_training_step_of_a_classifier_fuses_its_loss_and_keeps_the_dot_products():
    z, w, b, y = _data(np.float64)
    text = ft.jit(ft.value_and_grad(cross_entropy, argnums=(0, 1, 2))).lower(z, w, b, y).as_text()
    fused = text.split("fused[", 1)[1]
    for name in ("reduce_max", "exp", "log", "reduce_sum[axes=(0,)]", "reduce_sum[axes=(0, 1)]"):
        assert name in fused


@needs_kernels
def test_three_dimensional_rows_and_every_output_form():
    z = np.random.default_rng(3).standard_normal((4, 5, 7))

    def fn(z):
        m = fnp.max(z, axis=-1)                                # per row, flat
        e = fnp.exp(z - m[..., None])
        s = fnp.sum(e, axis=-1, keepdims=True)                 # per row, kept dimension
        p = e / s                                              # full
        return p, m, s, fnp.sum(p * z, axis=(0, 1)), fnp.sum(p * z) * 2.0, fnp.sum(m)

    plan = _plan(fn, z)
    assert len(_row_kernels(plan)) == 1
    _close(tuple(plan.run([z])), fn(z), np.float64)


@needs_kernels
def test_nan_and_infinite_entries_behave_as_in_numpy():
    z = np.random.default_rng(4).standard_normal((6, 5))
    z[1, 2] = np.nan
    z[2, :] = -np.inf  # a row masked out entirely: 0/0
    z[3, 4] = np.inf
    z[4, 1:] = -np.inf  # a masked softmax row
    expected = softmax(z)
    got = _plan(softmax, z).run([z])[0]
    np.testing.assert_array_equal(np.isnan(got), np.isnan(expected))
    ok = ~np.isnan(expected)
    np.testing.assert_allclose(got[ok], expected[ok], rtol=1e-14)


@needs_kernels
def test_large_matrices_and_single_reductions_are_left_to_numpy_and_the_other_kernels():
    big = np.ones((row_kernels.MAX_SIZE // 8 + 1, 8))
    assert not _row_kernels(_plan(softmax, big))
    z = np.ones((16, 8))
    assert not _row_kernels(_plan(lambda z: fnp.sum(z * 2.0 + 1.0, axis=-1), z))


@needs_kernels
def test_inputs_are_never_written():
    z, w, b, y = _data(np.float64)
    copies = [a.copy() for a in (z, w, b, y)]
    step = ft.jit(ft.grad(cross_entropy, argnums=(0, 1, 2)))
    for _ in range(3):
        step(z, w, b, y)
    for a, c in zip((z, w, b, y), copies):
        np.testing.assert_array_equal(a, c)


@needs_kernels
def test_the_switch_turns_the_pass_off(monkeypatch):
    monkeypatch.setattr(row_kernels, "ENABLED", False)
    z = _data(np.float64)[0]
    plan = _plan(softmax, z)
    assert not _row_kernels(plan)
    np.testing.assert_array_equal(plan.run([z])[0], softmax(z))


def test_without_numba_the_steps_are_unchanged(monkeypatch):
    monkeypatch.setattr(fusion, "_HAVE_NUMBA", False)
    z = _data(np.float64)[0]
    plan = _plan(softmax, z)
    assert not _row_kernels(plan)
    np.testing.assert_array_equal(plan.run([z])[0], softmax(z))


@needs_kernels
def test_kernel_source_walks_each_row_once_with_a_pass_per_reduction():
    z = _data(np.float64)[0]
    (kernel,) = _row_kernels(_plan(softmax, z))
    source = kernel[0].source
    # (the maximum, then the exponentials and their sum, then the quotients)
    assert source.count("for i in range(rows)") == 1 and source.count("for j in range(cols)") == 3
    assert "np.maximum(" in source and "np.exp(" in source


_UNARY = {"exp": fnp.exp, "tanh": fnp.tanh, "square": lambda v: v * v, "neg": lambda v: -v}
_REDUCE = {"sum": fnp.sum, "max": fnp.max, "min": fnp.min}


@needs_kernels
@given(rows=st.integers(1, 12), cols=st.integers(1, 9), lead=st.sampled_from([(), (2,)]),
       first=st.sampled_from(sorted(_REDUCE)), second=st.sampled_from(sorted(_REDUCE)),
       unary=st.sampled_from(sorted(_UNARY)), dtype=st.sampled_from([np.float32, np.float64]),
       seed=st.integers(0, 2**16))
def test_generated_row_programs_match_eager(rows, cols, lead, first, second, unary, dtype, seed):
    shape = lead + (rows, cols)
    rng = np.random.default_rng(seed)
    z = rng.standard_normal(shape).astype(dtype)
    w = rng.standard_normal((cols,)).astype(dtype)

    def fn(z, w):
        a = z * w - 0.5
        r = _REDUCE[first](a, axis=-1, keepdims=True)
        u = _UNARY[unary](a - r)
        q = _REDUCE[second](u, axis=-1, keepdims=True) + 2.0
        out = u / q + r
        return out, fnp.sum(out, axis=tuple(range(len(shape) - 1))), fnp.max(q), r[..., 0]

    plan = _plan(fn, z, w)
    expected = fn(z, w)
    _close(tuple(plan.run([z, w])), expected, dtype)


@needs_kernels
def test_a_region_that_is_a_sliver_of_its_plan_compiles_nothing(monkeypatch):
    # Its kernel would compile before the first call returns, for a gain below
    # fusion.MIN_SYNC_SHARE of each call: beside a product 500 times its cost it stays NumPy
    # steps, alone it is a kernel.
    compiles = []
    original = row_kernels.kernels_numba.compiled
    monkeypatch.setattr(row_kernels.kernels_numba, "compiled",
                        lambda source: compiles.append(source) or original(source))
    z, w, b, y = _data(np.float64, (32, 10))
    big = np.random.default_rng(1).standard_normal((400, 400))
    with_product = lambda z, big: (softmax(z), big @ big)
    plan = _plan(with_product, z, big)
    assert not _row_kernels(plan) and not compiles
    got = plan.run([z, big])
    np.testing.assert_array_equal(got[0], softmax(z))
    alone = _plan(softmax, z)
    assert len(_row_kernels(alone)) == 1 and compiles
    np.testing.assert_allclose(alone.run([z])[0], softmax(z), rtol=1e-14)
