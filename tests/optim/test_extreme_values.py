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


@pytest.mark.parametrize("pmag,gmag", [(1.0, 1e-30), (1e30, 1e30), (1e-30, 1.0), (1.0, 1e25)])
def test_trust_ratio_is_right_where_the_norms_squares_overflow_or_underflow(pmag, gmag):
    p = (pmag * np.array([3.0, -4.0])).astype(np.float32)
    g = (gmag * np.array([1.0, 2.0])).astype(np.float32)
    want = g.astype(np.float64) * np.linalg.norm(p.astype(np.float64)) / np.linalg.norm(
        g.astype(np.float64))
    opt = optim.scale_by_trust_ratio()
    for update in (opt.update, ft.jit(opt.update)):
        out = update(g, opt.init(p), p)[0]
        assert out.dtype == np.float32
        np.testing.assert_allclose(out, want, rtol=1e-6)


def test_lamb_and_lars_step_float32_gradients_of_1e_minus_30_by_the_trust_ratio():
    p = np.array([0.6, -0.8], np.float32)
    g = np.array([1e-30, 2e-30], np.float32)
    # lars without momentum: -lr * tc * ||p|| / ||g|| * g
    lars = optim.lars(0.1, trust_coefficient=1.0, momentum=0.0)
    want = -0.1 * g.astype(np.float64) / np.linalg.norm(g.astype(np.float64))
    np.testing.assert_allclose(lars.update(g, lars.init(p), p)[0], want, rtol=1e-6)
    # lamb's first Adam direction is g / (|g| + eps) = 1e-22 * g / |g|, whose squares underflow
    lamb = optim.lamb(0.1)
    u = g.astype(np.float64) / (np.abs(g) + 1e-6)
    want = -0.1 * u / np.linalg.norm(u)
    np.testing.assert_allclose(lamb.update(g, lamb.init(p), p)[0], want, rtol=1e-5)


def test_clip_by_global_norm_on_a_device_selects_the_scaled_norm_without_reading_it(backend):
    from functrans.testing.strict import forbid_host_reads

    opt = optim.clip_by_global_norm(1.0)
    cases = [(np.full(3, 1e20, np.float32), np.full(3, 3 ** -0.5)),
             (np.full(3, 1e-30, np.float32), np.full(3, 1e-30)),
             (np.array([3.0, 4.0], np.float32), np.array([0.6, 0.8])),
             (np.zeros(2, np.float32), np.zeros(2))]
    for g, want in cases:
        with forbid_host_reads():
            out = opt.update({"a": backend.put(g)}, opt.init(None))[0]["a"]
            norm = optim.global_norm(backend.put(g))
        np.testing.assert_allclose(backend.get(out), want, rtol=1e-6)
        np.testing.assert_allclose(float(backend.get(norm)),
                                   np.linalg.norm(g.astype(np.float64)), rtol=1e-6)
    # the derivative through the select is the identity's below max_norm, zeros included
    grad = ft.grad(lambda g: (opt.update(g, opt.init(None))[0] ** 2).sum())
    np.testing.assert_allclose(backend.get(grad(backend.put(np.zeros(2)))), [0.0, 0.0])


def test_adafactor_scales_by_the_rms_of_float32_params_whose_squares_overflow():
    # One step on a vector: g / sqrt(g**2 + eps) = sign(g), clipped by the rms threshold 1,
    # times max(eps2, rms(p)) and -lr.
    p = np.array([3e25, -4e25], np.float32)
    g = np.array([1.0, -2.0], np.float32)
    opt = optim.adafactor(0.1)
    rms = np.sqrt(np.mean(p.astype(np.float64) ** 2))
    for update in (opt.update, ft.jit(opt.update)):
        out = update(g, opt.init(p), p)[0]
        assert out.dtype == np.float32
        np.testing.assert_allclose(out, -0.1 * np.sign(g) * rms, rtol=1e-5)


def test_sm3_steps_float32_gradients_whose_squares_underflow_by_g_over_sqrt_eps():
    g = np.array([1e-30, -2e-30], np.float32)
    opt = optim.scale_by_sm3(b1=0.0)
    out = opt.update(g, opt.init(g))[0]
    np.testing.assert_allclose(out, g.astype(np.float64) / np.sqrt(1e-8), rtol=1e-6)
    # eps = 0: a zero gradient still steps by 0, not 0/0
    opt = optim.scale_by_sm3(b1=0.0, eps=0.0)
    np.testing.assert_array_equal(opt.update(np.zeros(2), opt.init(np.zeros(2)))[0], [0.0, 0.0])
