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


def test_global_norm_is_one_primitive_whose_second_pass_jit_decides_when_it_runs():
    """Under jit the norm is one step of the program (its implementation sees the arrays, so
    the rescaling pass runs only for sums that overflowed or underflowed), and its
    derivatives are checked to second order eagerly, under jit and per example under vmap,
    also at a zero tree (derivative 0) and in float64."""
    from functrans.testing import check_grads
    tree = {"w": np.array([[0.3, -1.2], [2.0, 0.5]]), "b": np.array([0.1, -0.7, 0.4])}
    jaxpr = str(ft.make_jaxpr(optim.global_norm)(tree))
    assert "global_norm" in jaxpr and "select" not in jaxpr, jaxpr
    check_grads(optim.global_norm, (tree,), order=2)
    check_grads(ft.jit(optim.global_norm), (tree,), order=2)
    batch = {"w": np.stack([tree["w"], 1e200 * tree["w"]]), "b": np.stack([tree["b"], 1e200 * tree["b"]])}
    per_example = ft.vmap(ft.grad(optim.global_norm))(batch)
    for i in range(2):
        one = ft.grad(optim.global_norm)({k: v[i] for k, v in batch.items()})
        for k in tree:
            np.testing.assert_allclose(per_example[k][i], one[k], rtol=1e-14)
    np.testing.assert_array_equal(ft.jit(ft.grad(optim.global_norm))(np.zeros(3)), np.zeros(3))
    hess = ft.jacfwd(ft.grad(optim.global_norm))(np.array([3.0, 4.0]))
    np.testing.assert_allclose(hess, (np.eye(2) - np.outer([0.6, 0.8], [0.6, 0.8])) / 5.0, rtol=1e-14)


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


def _adam_reference(grads, lr=0.1, b1=0.9, b2=0.999, eps=1e-8):
    m = v = 0.0
    out = []
    for t, g in enumerate(grads, start=1):
        g = g.astype(np.float64)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        out.append(-lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps))
    return out


@pytest.mark.parametrize("scale", [0.0, 1e-5, 1e-3, 1.0, 1e3, 3e4])
def test_float16_optimizers_step_in_float32_and_give_float16_updates(scale):
    # float16 holds neither g**2 beyond |g| = 256 or below 2.4e-4 nor eps = 1e-8: a float16
    # state gave inf, NaN or 0 steps for each of these gradients (0 for g = 0 included).
    p = np.zeros(3, np.float16)
    grads = [(scale * np.array([1.0, -0.5, 2.0]) * (1 + 0.5 * t)).astype(np.float16)
             for t in range(3)]
    want = _adam_reference(grads)
    for opt in (optim.adam(0.1), optim.chain(optim.scale_by_adam(), optim.scale(-0.1))):
        for update in (opt.update, ft.jit(opt.update)):
            state = opt.init(p)
            for g, w in zip(grads, want):
                u, state = update(g, state, p)
                assert u.dtype == np.float16
                np.testing.assert_allclose(u.astype(np.float64), w, rtol=2e-3, atol=1e-7)
    assert optim.adam(0.1).init(p).nu.dtype == np.float32


def test_float16_rmsprop_adagrad_and_adabelief_do_not_overflow_or_divide_by_zero():
    p = np.zeros(2, np.float16)
    g = np.array([1e-4, -6e4], np.float16)   # g**2 underflows, overflows float16
    for opt, want in ((optim.rmsprop(0.1, eps=0.0), -0.1 * np.sign(g) / np.sqrt(0.01)),
                      (optim.adagrad(0.1, eps=0.0), -0.1 * np.sign(g)),
                      (optim.adabelief(0.1, eps=0.0, eps_root=0.0), -0.1 * np.sign(g) / 0.9)):
        u = opt.update(g, opt.init(p), p)[0]
        assert u.dtype == np.float16
        np.testing.assert_allclose(u, want, rtol=2e-3)
    # a zero gradient with the default eps (which float16 rounds to 0): the float64 step, not
    # 0/0 (yogi's moments start at 1e-6, so its step is not 0)
    for opt in (optim.rmsprop(0.1), optim.adagrad(0.1), optim.adabelief(0.1),
                optim.adamax(0.1), optim.novograd(0.1), optim.yogi(0.1), optim.amsgrad(0.1)):
        u = opt.update(np.zeros(2, np.float16), opt.init(p), p)[0]
        want = opt.update(np.zeros(2), opt.init(np.zeros(2)), np.zeros(2))[0]
        assert np.all(np.isfinite(u))
        np.testing.assert_allclose(u, want, rtol=2e-3)


def test_clip_by_global_norm_of_float16_gradients_whose_norm_exceeds_float16():
    g = {"a": np.full(4, 4e4, np.float16)}   # norm 8e4 > 65504, the clipped leaf 0.5
    opt = optim.clip_by_global_norm(1.0)
    out = opt.update(g, opt.init(None))[0]["a"]
    assert out.dtype == np.float16
    np.testing.assert_allclose(out, 0.5, rtol=1e-3)


@pytest.mark.parametrize("dtype,value", [(np.float32, 1e20), (np.float32, 1e-3), (np.float64, 1e160),
                                         (np.float64, 1.0)])
def test_polyak_sgd_steps_gradients_whose_squared_norm_overflows(dtype, value):
    """The Polyak step gap / |u|**2 times u, taken as (u / |u|) gap / |u|: float32 gradients of
    1e20 stepped by 0 (|u|**2 overflowed), and the step size itself would underflow."""
    opt = optim.polyak_sgd()
    grads = np.array([value, -2 * value], dtype)
    for update in (opt.update, ft.jit(opt.update)):
        out = update(grads, opt.init(np.zeros(2, dtype)), value=dtype(3.0))[0]
        assert out.dtype == dtype
        g = grads.astype(np.float64)
        n = value * np.linalg.norm(g / value)  # (g @ g overflows float64 at 1e160)
        want = -g if 3.0 / n >= n else -(g / n) * (3.0 / n)
        np.testing.assert_allclose(out, want, rtol=4 * np.finfo(dtype).eps)
