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


def _lbfgs_path(dtype, gscale, pscale, line_search, staged=False, steps=4):
    """Iterates (divided by ``pscale``) of lbfgs on ``0.5 h sum(c (x - t)**2)`` from 0, where
    ``t`` is of size ``pscale`` and the gradients of size ``gscale``."""
    t = (pscale * np.array([1.0, -2.0, 0.5])).astype(dtype)
    curvatures = (gscale / pscale * np.array([0.5, 1.5, 1.0])).astype(dtype)

    def f(x):
        return ft.numpy.sum(curvatures * (x - t) ** 2)

    opt = optim.lbfgs() if line_search else optim.lbfgs(1.0, linesearch=None)
    x = np.zeros(3, dtype)
    state, path = opt.init(x), []

    def step(x, state):
        value, grad = ft.value_and_grad(f)(x)
        extra = {"value": value, "grad": grad, "value_fn": f} if line_search else {}
        updates, state = opt.update(grad, state, x, **extra)
        return updates, optim.apply_updates(x, updates), state

    step = ft.jit(step) if staged else step
    for _ in range(steps):
        updates, x, state = step(x, state)
        assert updates.dtype == dtype and np.isfinite(updates.astype(np.float64)).all()
        path.append(x.astype(np.float64) / pscale)
    return path, state


@pytest.mark.parametrize("gscale,pscale,line_search", [
    (1e20, 1.0, True), (1e20, 1.0, False), (1e30, 1.0, True), (1e30, 1.0, False),
    (1.0, 1e-30, True), (1.0, 1e-30, False),
    (1e-30, 1e-30, False)])  # (its objective, of 1e-60, underflows float32: no line search)
def test_lbfgs_steps_float32_where_its_dot_products_overflow_or_underflow(gscale, pscale, line_search):
    """The first step g / |g| (|g|**2 overflowed: a step of 0 that the line search kept), the
    scale <du, dp> / <du, du> (du**2 overflowed, or underflowed to 0) and the two-loop
    recursion's products are formed on copies scaled by powers of two: float32 takes
    float64's steps."""
    want, _ = _lbfgs_path(np.float64, gscale, pscale, line_search)
    for staged in (False, True):
        got, _ = _lbfgs_path(np.float32, gscale, pscale, line_search, staged)
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("line_search", [True, False])
@pytest.mark.parametrize("gscale", [300.0, 3e3, 1.0])
def test_lbfgs_of_float16_params_keeps_its_state_in_float32(gscale, line_search):
    """float16 holds no |g|**2 beyond |g| = 256: its memory and slopes are float32, and the
    updates float16."""
    want, _ = _lbfgs_path(np.float64, gscale, 1.0, line_search)
    for staged in (False, True):
        got, state = _lbfgs_path(np.float16, gscale, 1.0, line_search, staged)
        np.testing.assert_allclose(got, want, rtol=1e-2, atol=1e-2)
        assert state[0].diff_updates_memory.dtype == np.float32
        assert state[0].weights_memory.dtype == np.float32
        if line_search:
            assert state[2].grad.dtype == np.float32 and state[2].value.dtype == np.float32


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_lbfgs_at_a_zero_gradient_steps_by_zero_without_nan(dtype):
    def flat(x):
        return ft.numpy.sum(0.0 * x) + 1.0

    for line_search in (True, False):
        opt = optim.lbfgs() if line_search else optim.lbfgs(1.0, linesearch=None)
        p, g = np.ones(3, dtype), np.zeros(3, dtype)
        state = opt.init(p)
        extra = {"value": dtype(1.0), "grad": g, "value_fn": flat} if line_search else {}
        for _ in range(3):
            updates, state = opt.update(g, state, p, **extra)
            assert updates.dtype == dtype
            np.testing.assert_array_equal(updates, np.zeros(3))
            for leaf in ft.tree.leaves(state[0]):
                assert np.isfinite(np.asarray(leaf, np.float64)).all()
            if line_search:
                assert np.isfinite(state[2].learning_rate) and state[2].value == 1.0


@pytest.mark.parametrize("g", [np.full(3, 1e20, np.float32), np.full(3, 1e-30, np.float32),
                               np.full(100, 0.4), np.full(100, 0.4, np.float16), np.array([3e4, -4e4], np.float16)])
def test_scale_by_lbfgs_first_direction_is_g_over_max_1_and_its_norm(g):
    """min(1, 1/|g|) g, with |g| of float32 1e20 (|g|**2 overflowed: 0), of 1e-30, of many
    entries below 0.5 whose norm exceeds 1, and of float16 beyond 256."""
    opt = optim.scale_by_lbfgs()
    for update in (opt.update, ft.jit(opt.update)):
        out = update(g, opt.init(g), g)[0]
        assert out.dtype == g.dtype
        wide = g.astype(np.float64)
        want = wide / max(1.0, np.linalg.norm(wide))
        np.testing.assert_allclose(out.astype(np.float64), want, rtol=np.finfo(g.dtype).eps * 4)
