"""Optimizers at extreme but finite values: gradients whose squares overflow or underflow
their dtype, float16 trees. Each result is compared with the same formula in float64."""
import numpy as np
import pytest

import functrans as ft
from functrans import optim


@pytest.mark.parametrize("dtype,value", [(np.float32, 1e20), (np.float32, 1e30),
                                         (np.float32, 1e-30), (np.float64, 1e200),
                                         (np.float64, 1e-200), (np.float16, 300.0),
                                         (np.float16, 1e-4)])
def test_global_norm_is_right_where_the_squares_overflow_or_underflow(dtype, value):
    grads = {"a": np.full(3, value, dtype), "b": np.array([-value], dtype)}
    norm = optim.global_norm(grads)
    assert norm.dtype == dtype
    want = 2.0 * float(dtype(value))
    np.testing.assert_allclose(float(norm), want, rtol=4 * np.finfo(dtype).eps)
    np.testing.assert_allclose(float(ft.jit(optim.global_norm)(grads)), want,
                               rtol=4 * np.finfo(dtype).eps)


def test_clip_by_global_norm_clips_float32_gradients_whose_squares_overflow():
    opt = optim.clip_by_global_norm(1.0)
    grads = {"a": np.full(3, 1e20, np.float32), "b": np.array([1e19, -3e19], np.float32)}
    want = {k: v.astype(np.float64) / np.sqrt(3e40 + 1e38 + 9e38) for k, v in grads.items()}
    for update in (opt.update, ft.jit(opt.update)):
        out = update(grads, opt.init(None))[0]
        for k in grads:
            assert out[k].dtype == np.float32
            np.testing.assert_allclose(out[k], want[k], rtol=1e-6)


def test_global_norm_of_zero_inf_and_nan_trees():
    assert float(optim.global_norm({"a": np.zeros(3, np.float32)})) == 0.0
    assert float(optim.global_norm({"a": np.zeros(0, np.float32)})) == 0.0
    assert float(optim.global_norm({"a": np.array([np.inf, 1.0], np.float32)})) == np.inf
    assert np.isnan(float(optim.global_norm({"a": np.array([np.nan, 1.0], np.float32)})))


def test_global_norm_derivative_where_the_squares_overflow():
    x = np.array([3e20, -4e20], np.float32)
    for grad in (ft.grad(optim.global_norm), ft.jit(ft.grad(optim.global_norm))):
        np.testing.assert_allclose(grad(x), [0.6, -0.8], rtol=1e-6)
    np.testing.assert_array_equal(ft.grad(optim.global_norm)(np.zeros(2, np.float32)), [0, 0])
    batch = np.array([[3e20, 4e20], [3e-30, 4e-30]], np.float32)
    np.testing.assert_allclose(ft.vmap(optim.global_norm)(batch), [5e20, 5e-30], rtol=1e-6)
