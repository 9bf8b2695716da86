"""``x @ y.T`` with few rows in ``x`` is computed as ``(y @ x.T).T`` (a faster BLAS layout) and
copied to C order: the values, eager against jit, derivatives, and jit's buffer reuse of the
result."""
from __future__ import annotations

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans.primitives.dot import dot_general
from functrans.testing import check_grads

# (rows of x, rows of W): below, at and above the thresholds of the swap (float32 only)
SHAPES = [(1, 256), (4, 256), (8, 300), (16, 128), (32, 128), (33, 128), (8, 10)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("rows, outer", SHAPES)
def test_values_match_numpy_and_eager_equals_jit(backend, dtype, rows, outer):
    rng = np.random.default_rng(rows + outer)
    x, w, b = (rng.standard_normal(s).astype(dtype) for s in ((rows, 24), (outer, 24), (outer,)))

    def layer(x, w, b):
        return fnp.tanh(x @ w.T + b) * 2.0 + 1.0  # ufuncs after the product: buffer reuse

    args = backend.put((x, w, b))
    eager = layer(*args)
    jitted = ft.jit(layer)(*args)
    backend.check_placed(eager)
    assert eager.dtype == dtype and eager.shape == (rows, outer)
    np.testing.assert_array_equal(backend.get(eager), backend.get(jitted))
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(backend.get(eager), np.tanh(x @ w.T + b) * 2.0 + 1.0,
                               rtol=tol, atol=tol)


def test_derivatives_to_second_order(backend):
    rng = np.random.default_rng(0)
    x, w = backend.put((rng.standard_normal((4, 5)), rng.standard_normal((256, 5))))
    check_grads(lambda x, w: fnp.sin(x @ w.T), (x, w), order=2)


def test_transposed_result_feeds_reshape_and_reused_buffers():
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((8, 16)), rng.standard_normal((256, 16))

    def f(x, w):
        h = fnp.tanh(x @ w.T)           # the swapped product, then a ufunc
        g = fnp.exp(h) + h * h          # temporaries the plan may write into
        return g.reshape(-1), (g @ w).sum()

    expected = f(x, w)
    got = ft.jit(f)(x, w)
    for e, g in zip(expected, got):
        np.testing.assert_array_equal(e, g)
    np.testing.assert_allclose(expected[0], (lambda h: np.exp(h) + h * h)(np.tanh(x @ w.T)).ravel())


def test_result_is_c_contiguous():
    x, w = np.ones((8, 16), np.float32), np.ones((256, 16), np.float32)
    out = fnp.matmul(x, w.T)
    assert out.flags.c_contiguous and out.shape == (8, 256)


def test_weight_in_f_order_is_multiplied_as_it_is():
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal((16, 384)).astype(np.float32), rng.standard_normal((384, 128)).astype(np.float32)
    numbers = (((1,), (1,)), ((), ()))
    out = dot_general(x, w.T, numbers)  # x @ (w.T).T, w.T in F order: the fast layout already
    assert out.flags.c_contiguous and out.dtype == np.float32
    np.testing.assert_allclose(out, x @ w, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(ft.jit(lambda a, b: dot_general(a, b.T, numbers))(x, w), x @ w, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("rows, inner, outer", [(33, 512, 512), (128, 512, 512), (128, 256, 512),
                                                (128, 512, 256), (129, 512, 512)])
def test_up_to_128_rows_with_wide_operands(backend, rows, inner, outer):
    """The swap also applies from 33 to 128 rows when the inner and outer sizes are 512 or more."""
    rng = np.random.default_rng(rows)
    x, w = (rng.standard_normal(s).astype(np.float32) for s in ((rows, inner), (outer, inner)))
    args = backend.put((x, w))
    eager = dot_general(*args, (((1,), (1,)), ((), ())))
    jitted = ft.jit(lambda x, w: dot_general(x, w, (((1,), (1,)), ((), ()))))(*args)
    backend.check_placed(eager)
    out = backend.get(eager)
    assert out.dtype == np.float32 and out.shape == (rows, outer) and out.flags.c_contiguous
    np.testing.assert_array_equal(out, backend.get(jitted))
    np.testing.assert_allclose(out, x @ w.T, rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("rows, inner, outer", [(256, 10, 128), (128, 10, 512), (64, 16, 64),
                                                (256, 17, 128), (16, 10, 128), (1024, 10, 256)])
def test_short_inner_sizes(backend, dtype, rows, inner, outer):
    """A short inner size multiplies by a C-ordered copy of ``y.T`` (NumPy arrays)."""
    rng = np.random.default_rng(inner + outer)
    x, w = (rng.standard_normal(s).astype(dtype) for s in ((rows, inner), (outer, inner)))
    args = backend.put((x, w))
    eager = dot_general(*args, (((1,), (1,)), ((), ())))
    jitted = ft.jit(lambda x, w: dot_general(x, w, (((1,), (1,)), ((), ()))))(*args)
    backend.check_placed(eager)
    out = backend.get(eager)
    assert out.dtype == dtype and out.shape == (rows, outer) and out.flags.c_contiguous
    np.testing.assert_array_equal(out, backend.get(jitted))
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(out, x @ w.T, rtol=tol, atol=tol)
    check_grads(lambda x: (x @ args[1].T) ** 2, (args[0][:3],), order=1)
