"""nn's normalisations, activations and losses at extreme but finite inputs, and in float16:
each result against the same formula in float64 on the same values."""
import numpy as np
import pytest

import functrans as ft
from functrans import nn

X = np.array([[1.0, -0.5, 2.0, -3.0], [0.25, 1.5, -2.0, 0.75]])


def _standardized(x, axis=-1):
    x = x.astype(np.float64)
    c = x - x.mean(axis=axis, keepdims=True)
    return c / np.sqrt((c * c).mean(axis=axis, keepdims=True) + 1e-5)


@pytest.mark.parametrize("scale", [300.0, 1e4])
def test_float16_normalisations_compute_their_statistics_in_float32(scale):
    # float16's variance of entries of 300 (9e4) overflows: the outputs were 0
    x = (scale * X).astype(np.float16)
    want = _standardized(x)
    ln = nn.LayerNorm(4, dtype=np.float16)
    gn = nn.GroupNorm(1, 4, dtype=np.float16)
    bn = nn.BatchNorm(2, dtype=np.float32)
    outs = {"standardize": nn.standardize(x),
            "LayerNorm": ln.apply(ln.init(ft.random.key(0)), x),
            "jit LayerNorm": ft.jit(ln.apply)(ln.init(ft.random.key(0)), x),
            "GroupNorm": gn.apply(gn.init(ft.random.key(0)), x[:, :, None])[:, :, 0]}
    for name, y in outs.items():
        assert y.dtype == np.float16, name
        np.testing.assert_allclose(y, want, rtol=3e-3, atol=3e-3, err_msg=name)
    y, state = bn.apply(bn.init(ft.random.key(0)), x.T.copy(), bn.init_state(), train=True)
    assert y.dtype == np.float32   # the float32 weight promotes
    np.testing.assert_allclose(y, _standardized(x.T, axis=0), rtol=3e-3, atol=3e-3)
    np.testing.assert_allclose(state.running_var, 0.9 + 0.1 * 4 / 3 * x.T.astype(np.float64)
                               .var(axis=0), rtol=1e-3)


def test_squareplus_neither_cancels_for_negative_inputs_nor_overflows():
    # (x + sqrt(x^2 + 4)) / 2: at x = -3000 in float32 the sum cancelled (10% off), at 1e30
    # x^2 overflowed (inf)
    for dtype, xs in ((np.float32, [-3000.0, -1e30, 1e30, -1e-30, 0.0, 1.5]),
                      (np.float16, [-300.0, -3e4, 3e4, 0.5])):
        x = np.array(xs, dtype)
        x64 = x.astype(np.float64)
        want = np.where(x64 < 0, 4 / (2 * (np.hypot(x64, 2) - x64)), (x64 + np.hypot(x64, 2)) / 2)
        y = nn.squareplus(x)
        assert y.dtype == dtype
        np.testing.assert_allclose(y, want, rtol=4 * np.finfo(dtype).eps)
        np.testing.assert_array_equal(ft.jit(nn.squareplus)(x), y)
    grad = ft.grad(lambda x: nn.squareplus(x).sum())
    x = np.array([-3.0, 0.0, 2.0, 1e300, -1e300])
    np.testing.assert_allclose(grad(x), 0.5 * (1 + x / np.hypot(x, 2)))


def test_float16_regression_losses_and_cosine_similarity_compute_in_float32():
    p = (100.0 * X).astype(np.float16)
    t = (0.5 * p[::-1]).astype(np.float16)
    d = p.astype(np.float64) - t
    # the squares of errors past 256 overflowed float16 (mse was inf), the norms of 1e-6
    # vectors underflowed (cosine_similarity was NaN)
    cases = {"mse": (nn.mse(p, t), np.mean(d * d)), "l1": (nn.l1(p, t), np.mean(abs(d))),
             "huber": (nn.huber(p, t, reduction="sum"),
                       np.sum(np.where(abs(d) < 1, 0.5 * d * d, abs(d) - 0.5))),
             "smooth_l1": (nn.smooth_l1(p, t), np.mean(np.where(abs(d) < 1, 0.5 * d * d,
                                                                    abs(d) - 0.5)))}
    for scale in (1e-6, 1e4):
        a, b = (scale * X).astype(np.float16), (scale * X[::-1]).astype(np.float16)
        a64, b64 = a.astype(np.float64), b.astype(np.float64)
        want = (a64 * b64).sum(1) / np.linalg.norm(a64, axis=1) / np.linalg.norm(b64, axis=1)
        cases[f"cosine {scale}"] = (nn.cosine_similarity(a, b), want)
        cases[f"optax cosine {scale}"] = (ft.optim.losses.cosine_similarity(a, b), want)
    for name, (got, want) in cases.items():
        assert got.dtype == np.float16, name
        np.testing.assert_allclose(got, want, rtol=2e-3, err_msg=name)


def test_l2_loss_of_float16_errors_whose_square_overflows_and_log_cosh_near_zero():
    e = np.array([300.0, -350.0], np.float16)   # e**2 > 65504, e**2 / 2 is not
    np.testing.assert_allclose(ft.optim.losses.l2_loss(e), 0.5 * e.astype(np.float64) ** 2,
                               rtol=1e-3)
    # log(cosh(x)) ~ x**2 / 2 near 0: the logaddexp form lost its digits to cancellation
    x = np.array([1e-3, -3e-3, 1e-20, 0.5, -0.99, 1.0, 30.0, 1e4], np.float32)
    x64 = x.astype(np.float64)
    want = np.where(abs(x64) < 20, np.log(np.cosh(np.minimum(abs(x64), 20))),
                    abs(x64) - np.log(2.0))
    want = np.where(abs(x64) < 1e-4, x64**2 / 2 - x64**4 / 12, want)   # the series
    got = ft.optim.losses.log_cosh(x)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, want, rtol=3e-7, atol=1e-44)  # 5e-41 is subnormal
    np.testing.assert_allclose(ft.grad(lambda x: ft.optim.losses.log_cosh(x).sum())(x64),
                               np.tanh(x64), rtol=1e-12)
    second = ft.jacfwd(ft.grad(ft.optim.losses.log_cosh))
    np.testing.assert_allclose([second(v) for v in (0.0, 0.5, -2.0)],
                               1 - np.tanh([0.0, 0.5, -2.0]) ** 2, rtol=1e-12)


def test_float16_kl_div_and_binary_cross_entropies_stay_float16():
    # computed in float32 like the other losses of two arrays, they are given back in float16
    x = (3.0 * X).astype(np.float16)
    t = (X > 0).astype(np.float16)
    x64, t64 = x.astype(np.float64), t.astype(np.float64)
    logp = nn.log_softmax(x)
    q = nn.softmax(x[::-1])
    cases = {
        "bce_with_logits": (nn.binary_cross_entropy_with_logits(x, t),
                            np.mean((1 - t64) * x64 + np.logaddexp(0, -x64))),
        "bce": (nn.binary_cross_entropy(nn.sigmoid(x), t),
                nn.binary_cross_entropy(nn.sigmoid(x).astype(np.float64), t64)),
        "kl_div": (nn.kl_div(logp, q, reduction="batchmean"),
                   np.sum(q.astype(np.float64) * (np.log(q.astype(np.float64))
                                                  - logp.astype(np.float64))) / 2)}
    for name, (got, want) in cases.items():
        assert got.dtype == np.float16, name
        np.testing.assert_allclose(got, want, rtol=2e-3, err_msg=name)


@pytest.mark.parametrize("scale", [1e-30, 1e-3, 1.0, 1e30])
def test_cosine_similarities_where_the_squares_overflow_or_underflow(scale):
    """Both cosine similarities divide each vector by its largest entry before squaring:
    float32 vectors of 1e30 gave NaN (their squares overflow) and, in optax's form, of 1e-30
    inf. PyTorch's form keeps its floor eps on the norm: sum(x1 x2) / (eps |x2|) there."""
    from functrans import optim
    a = np.array([[1.0, 2.0, 3.0], [-1.0, 0.5, 2.0]], np.float32) * np.float32(scale)
    b = np.array([[1.0, 1.0, 0.5], [2.0, -1.0, 1.0]], np.float32)
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    norms = np.linalg.norm(a64, axis=1), np.linalg.norm(b64, axis=1)
    dots = (a64 * b64).sum(axis=1)
    torch_like = dots / (np.maximum(norms[0], 1e-8) * np.maximum(norms[1], 1e-8))
    for f in (nn.cosine_similarity, ft.jit(nn.cosine_similarity)):
        got = f(a, b)
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, torch_like, rtol=1e-6)
    for f in (optim.losses.cosine_similarity, ft.jit(optim.losses.cosine_similarity)):
        got = f(a, b)
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, dots / (norms[0] * norms[1]), rtol=1e-6)


def test_cosine_similarity_derivatives_at_any_scale_and_at_a_zero_vector():
    """Checked against finite differences at scale 1; at 1e-200 and 1e200, by the cosine's
    homogeneity (the gradient at s a is the gradient at a over s), where the squares of the
    inputs overflow or underflow even float64. Below PyTorch's floor, the form is linear."""
    from functrans import optim
    from functrans.testing import check_grads
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 4)), rng.standard_normal((2, 4))
    check_grads(nn.cosine_similarity, (a, b), order=2)
    check_grads(optim.losses.cosine_similarity, (a, b), order=2)
    grad = {f: ft.grad(lambda x, f=f: f(x, b).sum()) for f in (nn.cosine_similarity,
                                                               optim.losses.cosine_similarity)}
    for scale in (1e-200, 1e200):
        np.testing.assert_allclose(grad[optim.losses.cosine_similarity](scale * a),
                                   grad[optim.losses.cosine_similarity](a) / scale, rtol=1e-12)
    np.testing.assert_allclose(grad[nn.cosine_similarity](1e200 * a), grad[nn.cosine_similarity](a) / 1e200,
                               rtol=1e-12)
    floor = b / (1e-8 * np.linalg.norm(b, axis=1, keepdims=True))
    np.testing.assert_allclose(grad[nn.cosine_similarity](1e-200 * a), floor, rtol=1e-12)
    np.testing.assert_allclose(grad[nn.cosine_similarity](np.zeros((2, 4))), floor, rtol=1e-12)
