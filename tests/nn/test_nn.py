"""functrans.nn: every layer's output against a direct NumPy computation of the same formula
(PyTorch's definitions), and its derivatives by check_grads (forward and reverse, order 2)."""
from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from scipy.special import erf as scipy_erf
from scipy.special import erfc as scipy_erfc

import functrans as ft
import functrans.numpy as fnp
from functrans import errors, nn, random
from functrans.testing import check_grads


def rng(seed=0):
    return np.random.default_rng(seed)


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


# --- activations ----------------------------------------------------------------------------------
X = np.array([-3.0, -1.2, -0.3, 0.4, 1.1, 2.5])

ACTIVATIONS = [
    (nn.relu, lambda x: np.maximum(x, 0)),
    (lambda x: nn.leaky_relu(x, 0.2), lambda x: np.where(x > 0, x, 0.2 * x)),
    (lambda x: nn.elu(x, 1.5), lambda x: np.where(x > 0, x, 1.5 * (np.exp(x) - 1))),
    (nn.gelu, lambda x: 0.5 * x * (1 + scipy_erf(x / np.sqrt(2)))),
    (lambda x: nn.gelu(x, approximate="tanh"),
     lambda x: 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)))),
    (nn.silu, lambda x: x * sigmoid(x)),
    (nn.sigmoid, sigmoid),
    (nn.tanh, np.tanh),
    (nn.softplus, lambda x: np.log1p(np.exp(x))),
    (lambda x: nn.softplus(x, beta=2.0), lambda x: np.log1p(np.exp(2 * x)) / 2),
    (nn.log_sigmoid, lambda x: np.log(sigmoid(x))),
    (nn.softmax, lambda x: np.exp(x) / np.exp(x).sum()),
    (nn.log_softmax, lambda x: x - np.log(np.exp(x).sum())),
    (nn.logsumexp, lambda x: np.log(np.exp(x).sum())),
]


@pytest.mark.parametrize("f,ref", ACTIVATIONS, ids=range(len(ACTIVATIONS)))
def test_activation_values_and_derivatives(f, ref):
    np.testing.assert_allclose(f(X), ref(X), rtol=1e-14, atol=1e-15)
    check_grads(f, (X,), order=2, modes=("fwd", "rev"))


def test_kinks_use_pytorch_derivatives():
    at0 = np.array([0.0])
    g = lambda f: ft.grad(lambda x: fnp.sum(f(x)))(at0)[0]
    assert g(nn.relu) == 0.0
    assert g(lambda x: nn.leaky_relu(x, 0.1)) == pytest.approx(0.1)
    assert g(lambda x: nn.elu(x, 2.0)) == pytest.approx(2.0)
    assert g(nn.softplus) == pytest.approx(0.5)
    assert g(nn.selu) == pytest.approx(1.6732632423543772 * 1.0507009873554805)
    assert g(lambda x: nn.celu(x, 2.0)) == pytest.approx(1.0)


# Away from the kinks (0, +-1, +-3, 6), which the next test pins down.
X_HARD = np.array([-3.4, -1.2, -0.3, 0.4, 1.1, 2.5, 3.6, 6.5])
SELU_ALPHA, SELU_SCALE = 1.6732632423543772, 1.0507009873554805

MORE_ACTIVATIONS = [
    (nn.hardtanh, lambda x: np.clip(x, -1, 1)),
    (lambda x: nn.hardtanh(x, -2.0, 3.0), lambda x: np.clip(x, -2, 3)),
    (nn.relu6, lambda x: np.clip(x, 0, 6)),
    (nn.hardsigmoid, lambda x: np.clip(x / 6 + 0.5, 0, 1)),
    (nn.hardswish, lambda x: x * np.clip(x + 3, 0, 6) / 6),
    (nn.selu, lambda x: SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * (np.exp(x) - 1))),
    (lambda x: nn.celu(x, 2.0), lambda x: np.where(x > 0, x, 2 * (np.exp(x / 2) - 1))),
    (nn.softsign, lambda x: x / (1 + np.abs(x))),
    (nn.mish, lambda x: x * np.tanh(np.log1p(np.exp(x)))),
    (nn.glu, lambda x: x[:4] * sigmoid(x[4:])),
]


@pytest.mark.parametrize("f,ref", MORE_ACTIVATIONS, ids=range(len(MORE_ACTIVATIONS)))
def test_more_activation_values_and_derivatives(f, ref):
    np.testing.assert_allclose(f(X_HARD), ref(X_HARD), rtol=1e-14, atol=1e-15)
    check_grads(f, (X_HARD,), order=2, modes=("fwd", "rev"))
    np.testing.assert_allclose(ft.jit(f)(X_HARD), ref(X_HARD), rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(ft.vmap(f)(np.stack([X_HARD, -X_HARD]))[1], ref(-X_HARD), rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("f, points, slopes", [
    (nn.hardtanh, [-1.0, 1.0], [0.0, 0.0]),
    (nn.relu6, [0.0, 6.0], [0.0, 0.0]),
    (nn.hardsigmoid, [-3.0, 3.0], [0.0, 0.0]),
    (nn.hardswish, [-3.0, 3.0], [-0.5, 1.5]),
])
def test_hard_kinks_use_pytorch_derivatives(f, points, slopes):
    np.testing.assert_array_equal(ft.grad(lambda x: fnp.sum(f(x)))(np.array(points)), slopes)


def test_glu_halves_the_axis():
    x = np.arange(12.0).reshape(2, 6)
    np.testing.assert_allclose(nn.glu(x, axis=1), x[:, :3] * sigmoid(x[:, 3:]), rtol=1e-15)
    np.testing.assert_allclose(nn.glu(x.T, axis=0), (x[:, :3] * sigmoid(x[:, 3:])).T, rtol=1e-15)
    with pytest.raises(ValueError, match="odd length 5"):
        nn.glu(np.ones(5))


def test_activations_are_stable_for_large_inputs():
    big = np.array([-1000.0, 0.0, 1000.0])
    np.testing.assert_allclose(nn.softplus(big), [0.0, math.log(2), 1000.0])
    np.testing.assert_allclose(nn.log_sigmoid(big), [-1000.0, -math.log(2), 0.0])
    np.testing.assert_allclose(nn.softmax(big), [0.0, 0.0, 1.0])
    grads = ft.grad(lambda x: fnp.sum(nn.elu(x)))(big)
    np.testing.assert_array_equal(grads, [0.0, 1.0, 1.0])
    np.testing.assert_allclose(ft.grad(lambda x: nn.logsumexp(x))(big), [0.0, 0.0, 1.0])


@pytest.mark.parametrize("with_scipy", [True, False], ids=["erfc", "series"])
def test_gelu_exact_over_a_wide_range(with_scipy, monkeypatch):
    from functrans.nn import activations

    monkeypatch.setattr(activations, "_HAVE_SCIPY", with_scipy)
    x = np.linspace(-9.0, 9.0, 181)
    # Without SciPy, 1 + erf(x / sqrt(2)) cancels for negative x: compare to absolute
    # precision there (as any float64 evaluation of that formula, PyTorch's included).
    atol = 1e-300 if with_scipy else 2e-14
    cdf = 0.5 * scipy_erfc(-x / np.sqrt(2))
    np.testing.assert_allclose(nn.gelu(x), x * cdf, rtol=5e-14, atol=atol)
    pdf = np.exp(-x**2 / 2) / np.sqrt(2 * np.pi)
    grads = ft.grad(lambda v: fnp.sum(nn.gelu(v)))(x)
    np.testing.assert_allclose(grads, cdf + x * pdf, rtol=1e-12, atol=atol * 2.5)
    check_grads(nn.gelu, (X,), order=2)


def test_gelu_accepts_jax_booleans():
    x = np.linspace(-6.0, 6.0, 25)
    tanh_ref = 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)))
    np.testing.assert_allclose(nn.gelu(x, approximate=True), tanh_ref, rtol=1e-14, atol=1e-300)
    np.testing.assert_allclose(nn.gelu(x, approximate=False),
                               x * 0.5 * scipy_erfc(-x / np.sqrt(2)), rtol=5e-14, atol=1e-300)
    np.testing.assert_allclose(ft.jit(lambda v: nn.gelu(v, approximate=True))(x), tanh_ref,
                               rtol=1e-14, atol=1e-300)
    check_grads(lambda v: nn.gelu(v, approximate=True), (X,), order=2)
    with pytest.raises(ValueError, match="'none' or 'tanh'"):
        nn.gelu(x, approximate="erf")


def test_softmax_and_log_softmax_with_where_mask():
    # jax.nn's where=: masked entries get probability 0 (log-probability -inf) and derivative
    # 0, whatever their value; a row with nothing kept is 0 (-inf), never NaN.
    x = rng(60).normal(size=(3, 4))
    x[0, 1] = np.nan
    x[2, 3] = np.inf
    w = np.array([[True, False, True, True], [False] * 4, [True, True, False, False]])
    safe = np.where(w, x, -np.inf)
    with np.errstate(invalid="ignore"):
        ref = np.exp(safe - safe.max(1, keepdims=True))
    ref = np.where(w, np.nan_to_num(ref), 0)
    ref = ref / np.where(ref.sum(1, keepdims=True) > 0, ref.sum(1, keepdims=True), 1)
    for run in (nn.softmax, ft.jit(nn.softmax, static_argnames="axis")):
        np.testing.assert_allclose(run(x, where=w), ref, rtol=1e-14, atol=1e-300)
    with np.errstate(divide="ignore"):
        log_ref = np.where(w, np.log(ref), -np.inf)
    np.testing.assert_allclose(nn.log_softmax(x, where=w), log_ref, rtol=1e-14)
    np.testing.assert_allclose(ft.vmap(lambda a, m: nn.log_softmax(a, where=m))(x, w), log_ref,
                               rtol=1e-14)
    np.testing.assert_allclose(nn.logsumexp(x, axis=1, where=w)[[0, 2]],
                               np.log(np.exp(np.where(w, x, -np.inf)).sum(1))[[0, 2]],
                               rtol=1e-14)
    c = rng(61).normal(size=(3, 4))
    g = ft.grad(lambda a: (nn.softmax(a, where=w) * c).sum())(x)
    g_log = ft.grad(lambda a: (fnp.where(w, nn.log_softmax(a, where=w), 0) * c).sum())(x)
    for grad in (g, g_log):
        assert np.isfinite(grad).all()
        np.testing.assert_array_equal(grad[~w], 0.0)
    p = ref[0, w[0]]
    np.testing.assert_allclose(g[0, w[0]], p * (c[0, w[0]] - (p * c[0, w[0]]).sum()), rtol=1e-12)
    finite = np.where(w, x, 0.5)
    check_grads(lambda a: nn.softmax(a, where=w), (finite,), order=2)
    check_grads(lambda a: fnp.where(w, nn.log_softmax(a, where=w), 0), (finite,), order=2)
    assert nn.softmax(x.astype(np.float32), where=w).dtype == np.float32
    assert nn.log_softmax(x.astype(np.float32), where=w).dtype == np.float32



def test_embedding_with_padding_initialises_under_jit_and_vmap():
    """An ensemble made by vmap(init) or a jitted init: the padding row is zero there too
    (an in-place write of the traced table was refused), the other rows the eager ones."""
    emb = nn.Embedding(5, 3, padding_idx=-1, dtype=np.float32)
    eager = emb.init(random.key(0))["weight"]
    assert eager.dtype == np.float32 and not eager[-1].any() and eager[:4].all()
    np.testing.assert_array_equal(ft.jit(emb.init)(random.key(0))["weight"], eager)
    keys = random.split(random.key(0), 2)
    batched = ft.vmap(emb.init)(keys)["weight"]
    np.testing.assert_array_equal(batched, np.stack([emb.init(k)["weight"] for k in keys]))
    assert not batched[:, -1].any()

def test_embedding_under_jit_and_vmap_and_negative_ids():
    emb = nn.Embedding(5, 3, padding_idx=4)
    params = emb.init(random.key(0))
    ids = np.array([[1, 4, 0], [3, 3, 2]])
    ref = np.where((ids != 4)[..., None], params["weight"][ids], 0)
    # The table closed over and only the ids traced: NumPy indexing cannot take them.
    np.testing.assert_array_equal(ft.jit(lambda i: emb.apply(params, i))(ids), ref)
    np.testing.assert_array_equal(ft.vmap(lambda i: emb.apply(params, i))(ids), ref)
    np.testing.assert_array_equal(ft.jit(emb.apply)(params, ids), ref)
    g = ft.grad(lambda p: (emb.apply(p, ids) * np.arange(3.0)).sum())(params)["weight"]
    np.testing.assert_array_equal(g, np.array([[0, 1, 2], [0, 1, 2], [0, 1, 2], [0, 2, 4],
                                               [0, 0, 0]]))
    # PyTorch refuses negative ids; NumPy indexing would wrap -1 to the last row.
    with pytest.raises(IndexError, match=r"id -1 at ids\[1, 0\] is negative"):
        emb.apply(params, np.array([[0, 1], [-1, 2]]))
    for run in (ft.jit(lambda i: emb.apply(params, i)), ft.vmap(lambda i: emb.apply(params, i))):
        with pytest.raises(IndexError, match="out of bounds"):
            run(np.array([0, -1]))


def test_softmax_axis_and_float32():
    x = rng().normal(size=(3, 4)).astype(np.float32)
    y = nn.softmax(x, axis=0)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.sum(0), np.ones(4), rtol=1e-6)
    assert nn.relu(x).dtype == np.float32 and nn.gelu(x).dtype == np.float32


# --- losses ---------------------------------------------------------------------------------------
def test_regression_losses():
    p, t = rng(1).normal(size=(4, 3)), rng(2).normal(size=(4, 3)) * 2
    d = p - t
    np.testing.assert_allclose(nn.mse(p, t), np.mean(d**2), rtol=1e-15)
    np.testing.assert_allclose(nn.mse(p, t, reduction="sum"), np.sum(d**2), rtol=1e-15)
    np.testing.assert_allclose(nn.l1(p, t, reduction="none"), np.abs(d), rtol=1e-15)
    hub = np.where(np.abs(d) < 1.5, 0.5 * d**2, 1.5 * (np.abs(d) - 0.75))
    np.testing.assert_allclose(nn.huber(p, t, delta=1.5), hub.mean(), rtol=1e-15)
    for loss in (nn.mse, nn.l1, lambda a, b: nn.huber(a, b, delta=1.5)):
        check_grads(lambda a, loss=loss: loss(a, t), (p,), order=2)
    with pytest.raises(ValueError, match="same shape"):
        nn.mse(p, t[0])
    with pytest.raises(ValueError, match="reduction"):
        nn.mse(p, t, reduction="avg")


def _log_softmax_ref(z, axis):
    z = z - z.max(axis=axis, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=axis, keepdims=True))


def test_cross_entropy_labels_probabilities_and_smoothing():
    logits = rng(3).normal(size=(5, 4)) * 3
    labels = np.array([0, 3, 1, 1, 2])
    logp = _log_softmax_ref(logits, 1)
    np.testing.assert_allclose(nn.cross_entropy(logits, labels),
                               -logp[np.arange(5), labels].mean(), rtol=1e-14)
    probs = rng(4).dirichlet(np.ones(4), size=5)
    np.testing.assert_allclose(nn.cross_entropy(logits, probs, reduction="sum"),
                               -(probs * logp).sum(), rtol=1e-14)
    eps = 0.1
    smooth = -(1 - eps) * logp[np.arange(5), labels] - eps * logp.mean(axis=1)
    np.testing.assert_allclose(nn.cross_entropy(logits, labels, label_smoothing=eps,
                                                reduction="none"), smooth, rtol=1e-14)
    np.testing.assert_allclose(nn.nll(logp, labels), -logp[np.arange(5), labels].mean(),
                               rtol=1e-14)
    check_grads(lambda z: nn.cross_entropy(z, labels, label_smoothing=eps), (logits,), order=2)
    check_grads(lambda z: nn.cross_entropy(z, probs), (logits,), order=2)


def test_cross_entropy_smooths_unnormalized_probability_targets_as_pytorch():
    # PyTorch: -sum_c ((1 - e) t_c + e / C) log_softmax(x)_c, for any nonnegative target t
    # (multi-label or unnormalized), not only for rows that sum to 1.
    logits = rng(70).normal(size=(3, 4, 2))  # (N, C, d1)
    target = rng(71).uniform(size=(3, 4, 2)).astype(np.float64)
    eps = 0.2
    logp = _log_softmax_ref(logits, 1)
    ref = -(((1 - eps) * target + eps / 4) * logp).sum(1)
    for run in (nn.cross_entropy, ft.jit(nn.cross_entropy, static_argnames=("label_smoothing",
                                                                          "reduction"))):
        np.testing.assert_allclose(run(logits, target, label_smoothing=eps, reduction="none"),
                                   ref, rtol=1e-13)
    np.testing.assert_allclose(nn.cross_entropy(logits, target, label_smoothing=1.0),
                               -(logp / 4).sum(1).mean(), rtol=1e-13)
    check_grads(lambda z: nn.cross_entropy(z, target, label_smoothing=eps), (logits,), order=2)
    check_grads(lambda t: nn.cross_entropy(logits, t, label_smoothing=eps), (target,), order=1)


def test_binary_cross_entropy_refuses_probabilities_outside_the_unit_interval():
    # The clamped logs turned p = 1.5 into a negative loss, and NaN into the loss 100.
    t = np.array([1.0, 0.0, 1.0])
    with pytest.raises(ValueError, match=r"probability 1.5 at input\[0\] is outside \[0, 1\]"):
        nn.binary_cross_entropy(np.array([1.5, 0.2, 0.5]), t)
    with pytest.raises(ValueError, match=r"-0.2 at input\[1, 0\]"):
        nn.binary_cross_entropy(np.array([[0.5], [-0.2]]), np.ones((2, 1)))
    f = ft.jit(lambda p: nn.binary_cross_entropy(p, t, reduction="none"))
    out = f(np.array([1.5, -0.2, 0.5]))
    np.testing.assert_array_equal(np.isnan(out), [True, True, False])
    np.testing.assert_allclose(out[2], np.log(2), rtol=1e-15)
    for run in (nn.binary_cross_entropy, ft.jit(nn.binary_cross_entropy)):
        assert np.isnan(run(np.array([np.nan, 0.5, 0.5]), t))
    p = np.array([0.3, 0.0, 1.0], np.float32)
    out = nn.binary_cross_entropy(p, t.astype(np.float32), reduction="none")
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, [-np.log(0.3), 0, 0], rtol=1e-6)


def test_smooth_l1_follows_pytorch():
    p = np.array([-3.0, -0.4, 0.0, 0.2, 0.7, 2.5])
    t = np.zeros(6)
    for beta in (0.5, 1.0, 2.0):
        a = np.abs(p)
        ref = np.where(a < beta, 0.5 * p**2 / beta, a - 0.5 * beta)
        np.testing.assert_allclose(nn.smooth_l1(p, t, beta=beta, reduction="none"), ref,
                                   rtol=1e-15)
        np.testing.assert_allclose(nn.smooth_l1(p, t, beta=beta),
                                   nn.huber(p, t, delta=beta) / beta, rtol=1e-14)
        check_grads(lambda z, b=beta: nn.smooth_l1(z, t, beta=b, reduction="sum"),
                    (p + 0.05,), order=2)
    np.testing.assert_allclose(nn.smooth_l1(p, t, beta=0.0), nn.l1(p, t), rtol=1e-15)
    assert nn.smooth_l1(p.astype(np.float32), t.astype(np.float32)).dtype == np.float32
    np.testing.assert_allclose(ft.jit(nn.smooth_l1)(p, t), nn.smooth_l1(p, t), rtol=1e-15)
    with pytest.raises(ValueError, match="beta must be >= 0"):
        nn.smooth_l1(p, t, beta=-1.0)


def test_kl_div_follows_pytorch_with_zero_targets():
    q = np.array([[0.25, 0.25, 0.5], [0.1, 0.6, 0.3]])
    p = np.array([[0.5, 0.5, 0.0], [0.2, 0.3, 0.5]])
    log_q = np.log(q)
    with np.errstate(divide="ignore", invalid="ignore"):
        pointwise = np.where(p > 0, p * (np.log(p) - log_q), 0.0)
    np.testing.assert_allclose(nn.kl_div(log_q, p, reduction="none"), pointwise, rtol=1e-14)
    np.testing.assert_allclose(nn.kl_div(log_q, p), pointwise.mean(), rtol=1e-14)
    np.testing.assert_allclose(nn.kl_div(log_q, p, reduction="sum"), pointwise.sum(), rtol=1e-14)
    np.testing.assert_allclose(nn.kl_div(log_q, p, reduction="batchmean"), pointwise.sum() / 2,
                               rtol=1e-14)
    # As in PyTorch, "batchmean" divides by the first axis whatever it is: 3 here.
    np.testing.assert_allclose(nn.kl_div(log_q[0], p[0], reduction="batchmean"), np.log(2) / 3,
                               rtol=1e-14)
    with np.errstate(divide="ignore"):
        log_p = np.log(p)
    np.testing.assert_allclose(nn.kl_div(log_q, log_p, log_target=True, reduction="none"),
                               pointwise, rtol=1e-14)
    g_log = ft.grad(lambda z: nn.kl_div(z, log_p, reduction="sum", log_target=True))(log_q)
    np.testing.assert_allclose(g_log, -p, rtol=1e-15)
    # A zero target contributes 0, with derivative 0, even against a -inf log-probability.
    masked = log_q.copy()
    masked[0, 2] = -np.inf
    np.testing.assert_allclose(nn.kl_div(masked, p, reduction="sum"), pointwise.sum(), rtol=1e-14)
    g = ft.grad(lambda z: nn.kl_div(z, p, reduction="sum"))(masked)
    np.testing.assert_array_equal(g, -p)
    g_t = ft.grad(lambda t: nn.kl_div(log_q, t, reduction="sum"))(p)
    np.testing.assert_allclose(g_t[p > 0], (np.log(p) + 1 - log_q)[p > 0], rtol=1e-14)
    assert np.isfinite(g_t).all()
    check_grads(lambda z: nn.kl_div(z, p, reduction="batchmean"), (log_q,), order=2)
    for run in (nn.kl_div, ft.jit(nn.kl_div, static_argnames=("reduction", "log_target"))):
        out = run(log_q.astype(np.float32), p.astype(np.float32), reduction="none")
        assert out.dtype == np.float32
    assert np.isnan(nn.kl_div(log_q, np.array([[-0.1, 0.6, 0.5], [0.2, 0.3, 0.5]])))
    with pytest.raises(ValueError, match="batchmean"):
        nn.kl_div(log_q, p, reduction="average")


def test_cosine_similarity_is_finite_at_zero_vectors():
    a = rng(95).normal(size=(4, 3))
    b = rng(96).normal(size=(4, 3))
    a[1] = 0.0
    b[2] = 0.0
    na = np.maximum(np.linalg.norm(a, axis=1), 1e-8)
    nb = np.maximum(np.linalg.norm(b, axis=1), 1e-8)
    ref = (a * b).sum(1) / (na * nb)
    for run in (nn.cosine_similarity, ft.jit(nn.cosine_similarity)):
        np.testing.assert_allclose(run(a, b), ref, rtol=1e-14)
    np.testing.assert_array_equal(nn.cosine_similarity(a, b)[1:3], 0.0)
    np.testing.assert_allclose(nn.cosine_similarity(a.T, b.T, axis=0), ref, rtol=1e-14)
    np.testing.assert_allclose(nn.cosine_similarity(a, b[0], axis=-1),  # broadcasting
                               (a * b[0]).sum(1) / (na * nb[0]), rtol=1e-14)
    g = ft.grad(lambda x: nn.cosine_similarity(x, b).sum())(a)
    assert np.isfinite(g).all()
    np.testing.assert_allclose(g[1], b[1] / (1e-8 * nb[1]), rtol=1e-12)  # the clamped norm
    smooth = a.copy()
    smooth[1] = 0.3
    check_grads(lambda x, y: nn.cosine_similarity(x, y), (smooth, b + 0.1), order=2)
    h = ft.hessian(lambda x: nn.cosine_similarity(x, b[1], axis=0))(np.zeros(3))
    assert np.isfinite(h).all()
    assert nn.cosine_similarity(a.astype(np.float32), b.astype(np.float32)).dtype == np.float32
    with pytest.raises(ValueError, match="eps must be > 0"):
        nn.cosine_similarity(a, b, eps=0.0)


def test_cross_entropy_class_axis_is_one_for_spatial_inputs():
    logits = rng(5).normal(size=(2, 3, 4))  # (N, C, d1)
    labels = rng(6).integers(0, 3, size=(2, 4))
    logp = _log_softmax_ref(logits, 1)
    picked = np.take_along_axis(logp, labels[:, None, :], axis=1)[:, 0]
    np.testing.assert_allclose(nn.cross_entropy(logits, labels), -picked.mean(), rtol=1e-14)
    single = nn.cross_entropy(logits[0, :, 0], labels[0, 0])
    np.testing.assert_allclose(single, -logp[0, labels[0, 0], 0], rtol=1e-14)
    with pytest.raises(ValueError, match="integer labels must have shape"):
        nn.cross_entropy(logits, labels[:, :2])
    with pytest.raises(TypeError, match="integer class labels"):
        nn.nll(logp, labels.astype(float))


def test_cross_entropy_names_mismatched_probabilities_as_probabilities():
    # Soft targets of the wrong width were reported as "integer labels must have shape (2,)".
    with pytest.raises(ValueError, match=r"class probabilities must have the input's shape "
                                         r"\(2, 3\), got \(2, 4\)"):
        nn.cross_entropy(np.zeros((2, 3)), np.full((2, 4), 0.25))
    with pytest.raises(ValueError, match="integer labels must have shape"):
        nn.cross_entropy(np.zeros((2, 3)), np.array([0, 1, 2]))


def test_binary_cross_entropy_weights_must_fit_the_input():
    # A (4, 1) weight against (4,) inputs broadcast the loss to (4, 4) and averaged 16 entries;
    # a float64 weight made a float32 loss float64.
    p, t = np.array([0.2, 0.6, 0.9, 0.4]), np.array([0.0, 1.0, 1.0, 0.0])
    x = np.log(p / (1 - p))
    w = np.array([1.0, 2.0, 3.0, 4.0])
    ref = -(t * np.log(p) + (1 - t) * np.log(1 - p))
    np.testing.assert_allclose(nn.binary_cross_entropy(p, t, weight=w), (w * ref).mean(),
                               rtol=1e-13)
    with pytest.raises(ValueError, match=r"binary_cross_entropy: weight of shape \(4, 1\) must "
                                         r"broadcast to the input's shape \(4,\)"):
        nn.binary_cross_entropy(p, t, weight=w[:, None])
    with pytest.raises(ValueError, match=r"pos_weight of shape \(4, 1\) must broadcast"):
        nn.binary_cross_entropy_with_logits(x, t, pos_weight=w[:, None])
    with pytest.raises(ValueError, match=r"pos_weight of shape \(3,\) must broadcast"):
        nn.binary_cross_entropy_with_logits(x, t, pos_weight=w[:3])
    per_class = np.array([2.0, 0.5])  # (C,) for (N, C) logits, as PyTorch's pos_weight
    x2, t2 = np.stack([x, -x], 1), np.stack([t, 1 - t], 1)
    p2 = 1 / (1 + np.exp(-x2))
    want = -(per_class * t2 * np.log(p2) + (1 - t2) * np.log(1 - p2))
    np.testing.assert_allclose(nn.binary_cross_entropy_with_logits(x2, t2, pos_weight=per_class,
                                                                   reduction="none"), want,
                               rtol=1e-12)
    x32, t32, p32 = x.astype(np.float32), t.astype(np.float32), p.astype(np.float32)
    assert nn.binary_cross_entropy_with_logits(x32, t32, pos_weight=w).dtype == np.float32
    assert nn.binary_cross_entropy(p32, t32, weight=w).dtype == np.float32


def test_binary_cross_entropy_losses():
    x = rng(7).normal(size=6) * 3
    t = rng(8).uniform(size=6)
    p = sigmoid(x)
    ref = -(t * np.log(p) + (1 - t) * np.log(1 - p))
    np.testing.assert_allclose(nn.binary_cross_entropy(p, t), ref.mean(), rtol=1e-13)
    np.testing.assert_allclose(nn.binary_cross_entropy_with_logits(x, t), ref.mean(), rtol=1e-13)
    w = 3.0
    weighted = -(w * t * np.log(p) + (1 - t) * np.log(1 - p))
    np.testing.assert_allclose(nn.binary_cross_entropy_with_logits(x, t, pos_weight=w),
                               weighted.mean(), rtol=1e-13)
    np.testing.assert_allclose(nn.binary_cross_entropy(np.array([0.0, 1.0]),
                                                       np.array([1.0, 0.0]), reduction="none"),
                               [100.0, 100.0])
    np.testing.assert_allclose(nn.binary_cross_entropy_with_logits(np.array([800.0]),
                                                                   np.array([0.0])), 800.0)
    check_grads(lambda z: nn.binary_cross_entropy_with_logits(z, t, pos_weight=w), (x,), order=2)
    check_grads(lambda q: nn.binary_cross_entropy(q, t), (p,), order=2)
    g0 = ft.grad(lambda z: nn.binary_cross_entropy_with_logits(z, np.array([1.0])))(
        np.array([0.0]))
    np.testing.assert_allclose(g0, [-0.5])


# --- labels outside the classes, ignore_index, and clamped logs -----------------------------------
LABEL_LOSSES = [(nn.cross_entropy, lambda z: z), (nn.nll, lambda z: _log_softmax_ref(z, 0 if z.ndim == 1 else 1))]


@pytest.mark.parametrize("loss,prepare", LABEL_LOSSES, ids=["cross_entropy", "nll"])
def test_a_label_outside_the_classes_raises_index_error_naming_it(loss, prepare):
    name = loss.__name__
    z = prepare(rng(40).normal(size=(4, 3)))
    with pytest.raises(IndexError, match=rf"^{name}: label 5 at target\[2\] is outside \[0, 3\) "
                                         rf"for an input with 3 classes; .*ignore_index=-100"):
        loss(z, np.array([0, 1, 5, 2]))
    with pytest.raises(IndexError, match=r"label -1 at target\[0\] .* 3 classes"):
        loss(z, np.array([-1, 1, 9, 2]))  # the first offending position is named
    with pytest.raises(IndexError, match=r"label 3 at target\[1, 2\] is outside \[0, 3\)"):
        loss(prepare(rng(41).normal(size=(2, 3, 4))), np.array([[0, 1, 2, 0], [1, 1, 3, 0]]))
    with pytest.raises(IndexError, match=r"label 7 at target is outside \[0, 3\)"):
        loss(z[0], np.array(7))  # one unbatched example
    with pytest.raises(IndexError, match=r"label -100 at target\[1\] .* ignore_index=0"):
        loss(z, np.array([0, -100, 1, 2]), ignore_index=0)
    # Under grad and jvp the labels are concrete, so the same error is raised there.
    with pytest.raises(IndexError, match=r"label 5 at target\[2\]"):
        ft.grad(lambda v: loss(v, np.array([0, 1, 5, 2])))(z)
    with pytest.raises(IndexError, match=r"label 5 at target\[2\]"):
        ft.grad(lambda v, y: loss(v, y))(z, np.array([0, 1, 5, 2]))
    with pytest.raises(IndexError, match=r"label 5 at target\[2\]"):
        ft.jvp(lambda v: loss(v, np.array([0, 1, 5, 2])), (z,), (np.ones_like(z),))


@pytest.mark.parametrize("loss,prepare", LABEL_LOSSES, ids=["cross_entropy", "nll"])
def test_ignore_index_leaves_positions_out_as_pytorch(loss, prepare):
    z = prepare(rng(42).normal(size=(5, 4)))
    logp = _log_softmax_ref(z, 1) if loss is nn.cross_entropy else z
    labels = np.array([2, -100, 0, -100, 3])
    kept = np.array([0, 2, 4])
    per = -logp[kept, labels[kept]]
    np.testing.assert_allclose(loss(z, labels), per.mean(), rtol=1e-14)  # over the 3 kept
    np.testing.assert_allclose(loss(z, labels, reduction="sum"), per.sum(), rtol=1e-14)
    none = loss(z, labels, reduction="none")
    np.testing.assert_allclose(none, [per[0], 0.0, per[1], 0.0, per[2]], rtol=1e-14)
    g = ft.grad(lambda v: loss(v, labels))(z)
    assert np.all(g[[1, 3]] == 0.0) and np.all(np.abs(g[kept]).sum(axis=1) > 0.0)
    check_grads(lambda v: loss(v, labels), (z,), order=2)
    # A class can be the ignored label (padding as class 0), and other ignore values are labels.
    pad = np.array([0, 1, 0, 3, 2])
    np.testing.assert_allclose(loss(z, pad, ignore_index=0),
                               -logp[[1, 3, 4], pad[[1, 3, 4]]].mean(), rtol=1e-14)
    np.testing.assert_allclose(loss(z, np.array([0, 1, 2, 3, 0]), ignore_index=-1),
                               -logp[np.arange(5), [0, 1, 2, 3, 0]].mean(), rtol=1e-14)
    # Every position ignored: the mean over no position is NaN, as in PyTorch; the sum is 0.
    assert math.isnan(float(loss(z, np.full(5, -100))))
    assert float(loss(z, np.full(5, -100), reduction="sum")) == 0.0


def test_ignore_index_with_label_smoothing_and_float32():
    z = rng(43).normal(size=(4, 3)).astype(np.float32)
    labels = np.array([1, -100, 2, 0])
    logp = _log_softmax_ref(z.astype(np.float64), 1)
    eps = 0.2
    kept = [0, 2, 3]
    per = -(1 - eps) * logp[kept, labels[kept]] - eps * logp[kept].mean(axis=1)
    out = nn.cross_entropy(z, labels, label_smoothing=eps)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, per.mean(), rtol=1e-6)
    assert ft.grad(lambda v: nn.cross_entropy(v, labels))(z).dtype == np.float32


@pytest.mark.parametrize("loss,prepare", LABEL_LOSSES, ids=["cross_entropy", "nll"])
def test_under_jit_and_vmap_an_unchecked_label_gives_nan_not_a_number(loss, prepare):
    z = prepare(rng(44).normal(size=(4, 3)))
    logp = _log_softmax_ref(z, 1) if loss is nn.cross_entropy else z
    good = np.array([0, -100, 2, 1])
    bad = np.array([0, -100, 7, 1])
    jitted = ft.jit(lambda v, y: loss(v, y, reduction="none"))
    np.testing.assert_allclose(jitted(z, good), loss(z, good, reduction="none"), rtol=1e-14)
    out = jitted(z, bad)
    assert np.isnan(out[2]) and out[1] == 0.0
    np.testing.assert_allclose(out[[0, 3]], -logp[[0, 3], [0, 1]], rtol=1e-14)
    mean = ft.jit(loss)
    np.testing.assert_allclose(mean(z, good), -logp[[0, 2, 3], [0, 2, 1]].mean(), rtol=1e-14)
    assert math.isnan(float(mean(z, bad)))
    value, grads = ft.jit(ft.value_and_grad(loss))(z, bad)
    assert math.isnan(float(value)) and grads.shape == z.shape
    # A class as the ignored label (padding as class 0), and float32 kept, under jit too.
    pad = ft.jit(lambda v, y: loss(v, y, reduction="none", ignore_index=0))
    out = pad(z.astype(np.float32), np.array([0, 1, 2, 5]))
    assert out.dtype == np.float32 and out[0] == 0.0 and np.isnan(out[3])
    np.testing.assert_allclose(out[1:3], -logp[[1, 2], [1, 2]], rtol=1e-5)
    padded_mean = ft.jit(lambda v, y: loss(v, y, ignore_index=0))(z, np.array([0, 1, 2, 0]))
    np.testing.assert_allclose(padded_mean, -logp[[1, 2], [1, 2]].mean(), rtol=1e-14)
    # vmap over examples: each example's labels are a batched (abstract) value.
    per_example = ft.vmap(lambda v, y: loss(v, y, reduction="sum"))
    np.testing.assert_allclose(per_example(z, good), loss(z, good, reduction="none"), rtol=1e-14)
    out = per_example(z, bad)
    assert np.isnan(out[2]) and out[1] == 0.0


def test_labels_on_a_device_are_not_read_and_give_nan_when_outside():
    from functrans.testing.strict import forbid_host_reads

    z = ft.device_put(rng(45).normal(size=(3, 4)), "strict:1")
    with forbid_host_reads():  # checking the labels would wait for the device: it is not done
        bad = nn.cross_entropy(z, ft.device_put(np.array([1, 4, -100]), "strict:1"),
                               reduction="none")
        good = nn.cross_entropy(z, ft.device_put(np.array([1, 3, -100]), "strict:1"))
    host = ft.device_get(bad)
    assert np.isnan(host[1]) and host[2] == 0.0
    logp = _log_softmax_ref(ft.device_get(z), 1)
    np.testing.assert_allclose(ft.device_get(good), -(logp[0, 1] + logp[1, 3]) / 2, rtol=1e-14)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_binary_cross_entropy_value_and_gradient_at_zero_one_and_between(dtype):
    # loss = -(t max(log p, -100) + (1 - t) max(log(1 - p), -100)); a clamped log has slope 0.
    def formula(p, t):
        log_p, log_q = (max(math.log(v), -100.0) if v > 0 else -100.0 for v in (p, 1 - p))
        slope_p = -t / p if p > math.exp(-100) else 0.0
        slope_q = (1 - t) / (1 - p) if 1 - p > math.exp(-100) else 0.0
        return -(t * log_p + (1 - t) * log_q), slope_p + slope_q

    for p in (0.0, 1.0, 0.25, 0.9):
        for t in (0.0, 1.0, 0.3):
            value, grad = ft.value_and_grad(nn.binary_cross_entropy)(dtype(p), dtype(t))
            want_value, want_grad = formula(p, t)
            assert value.dtype == grad.dtype == dtype
            rtol = 1e-6 if dtype == np.float32 else 1e-14
            np.testing.assert_allclose(value, want_value, rtol=rtol, atol=0, err_msg=f"{p}, {t}")
            np.testing.assert_allclose(grad, want_grad, rtol=rtol, atol=0, err_msg=f"{p}, {t}")
    # sigmoid(20.) rounds to 1 in float32: the gradient through it is finite, -(1 - sigmoid(z)).
    g = ft.grad(lambda z: nn.binary_cross_entropy(nn.sigmoid(z), np.float32(1.0)))(np.float32(20.0))
    assert g.dtype == np.float32 and np.isfinite(g)
    np.testing.assert_allclose(g, -1.0 / (1.0 + math.exp(20.0)), rtol=1e-5)
    g = ft.grad(lambda z: nn.binary_cross_entropy(nn.sigmoid(z), np.float32(0.0)))(np.float32(-120.0))
    assert g == 0.0  # sigmoid(-120) is 0 in float32: a clamped log, slope 0


@pytest.mark.parametrize("layer,call", [
    (nn.Linear(2, 3), r"y = layer\.apply\(params, x\)$"),
    (nn.Sequential(nn.Linear(2, 3), nn.relu), r"y = layer\.apply\(params, x\)$"),
    (nn.Conv2d(1, 2, 3), r"y = layer\.apply\(params, x\)$"),
    (nn.BatchNorm(3), r"layer\.init_state\(\).*y, state = layer\.apply\(params, x, state, train=True\)$"),
    (nn.Dropout(0.5), r"y = layer\.apply\(params, x, key=key, train=True\)$"),
], ids=["Linear", "Sequential", "Conv2d", "BatchNorm", "Dropout"])
def test_calling_a_layer_says_to_call_apply_with_params(layer, call):
    name = type(layer).__name__
    with pytest.raises(TypeError, match=rf"^{name} is a configuration, not a function: .*"
                                        rf"params = layer\.init\(key\).*{call}"):
        layer(np.ones((1, 3)))


# --- initializers ---------------------------------------------------------------------------------
def test_initializer_statistics():
    k = random.key(3)
    shape = (400, 300)
    fan_in, fan_out = 300, 400
    init = nn.initializers
    for fn, std in [(init.xavier_uniform, math.sqrt(2 / (fan_in + fan_out))),
                    (init.xavier_normal, math.sqrt(2 / (fan_in + fan_out))),
                    (init.kaiming_uniform, math.sqrt(2 / fan_in)),
                    (init.kaiming_normal, math.sqrt(2 / fan_in)),
                    (init.lecun_uniform, math.sqrt(1 / fan_in)),
                    (init.lecun_normal, math.sqrt(1 / fan_in))]:
        w = fn(k, shape)
        assert w.shape == shape and w.dtype == np.float64
        assert abs(w.std() / std - 1) < 0.02, fn.__name__
        assert abs(w.mean()) < 0.01 * std * 10
    assert np.abs(init.xavier_uniform(k, shape)).max() <= math.sqrt(6 / (fan_in + fan_out))
    assert init.compute_fans((8, 4, 3, 3)) == (36, 72)
    q = init.orthogonal(k, (5, 8), gain=2.0)
    np.testing.assert_allclose(q @ q.T, 4 * np.eye(5), atol=1e-12)
    assert init.normal(k, (2,), np.float32).dtype == np.float32
    np.testing.assert_array_equal(init.kaiming_normal(k, (3, 3)), init.kaiming_normal(k, (3, 3)))
    t = init.truncated_normal(k, 5000, std=0.5)
    assert np.abs(t).max() <= 1.0
    with pytest.raises(ValueError, match="mode must be 'fan_in' or 'fan_out', got 'fanin'"):
        init.kaiming_normal(k, (3, 3), mode="fanin")
    np.testing.assert_allclose(init.kaiming_uniform(k, (4, 6), mode="fan_out"),
                               init.uniform(k, (4, 6), low=-math.sqrt(6 / 4),
                                            high=math.sqrt(6 / 4)), rtol=1e-14)


# --- linear, embedding ----------------------------------------------------------------------------
@pytest.mark.parametrize("shape,axes,fans", [
    # (fan_in, fan_out) from jax.nn.initializers' _compute_fans
    ((3, 3, 64, 128), {}, (576, 1152)),
    ((256, 512), {}, (256, 512)),
    ((4, 64, 32), {"batch_axis": 0}, (64, 32)),
    ((64, 3, 3, 128), {"in_axis": 0, "out_axis": -1}, (576, 1152)),
    ((8, 64, 32), {"in_axis": (0, 1)}, (512, 32)),
])
def test_variance_scaling_follows_jax(shape, axes, fans):
    init = nn.initializers
    k = random.key(7)
    fan_in, fan_out = fans
    for mode, fan in (("fan_in", fan_in), ("fan_out", fan_out), ("fan_avg", (fan_in + fan_out) / 2),
                      ("fan_geo_avg", math.sqrt(fan_in * fan_out))):
        std = math.sqrt(2.0 / fan)
        w = init.variance_scaling(2.0, mode, "normal", **axes)(k, shape, np.float32)
        assert w.dtype == np.float32 and w.shape == shape
        np.testing.assert_allclose(w, init.normal(k, shape, np.float32, std=std), rtol=1e-6)
    std = math.sqrt(1.0 / fan_in)
    u = init.variance_scaling(1.0, "fan_in", "uniform", **axes)(k, shape)
    np.testing.assert_allclose(u, init.uniform(k, shape, low=-math.sqrt(3) * std,
                                               high=math.sqrt(3) * std), rtol=1e-13)
    t = init.variance_scaling(1.0, "fan_in", "truncated_normal", **axes)(k, shape)
    np.testing.assert_allclose(t, random.truncated_normal(k, -2.0, 2.0, shape)
                               * (std / 0.87962566103423978), rtol=1e-13)
    assert abs(t.std() / std - 1) < 0.05  # the rescaling keeps the variance


def test_variance_scaling_errors():
    init = nn.initializers
    with pytest.raises(ValueError, match="mode must be one of"):
        init.variance_scaling(1.0, "fanin", "normal")
    with pytest.raises(ValueError, match="distribution must be one of"):
        init.variance_scaling(1.0, "fan_in", "gaussian")
    with pytest.raises(ValueError, match="no axis -2"):
        init.variance_scaling(1.0, "fan_in", "normal")(random.key(0), (5,))
    # As in JAX, an axis that is both the input and the output counts once in total: the
    # receptive field is 5 / (5 * 5), so fan_in = 1.
    w = init.variance_scaling(3.0, "fan_in", "normal", in_axis=0, out_axis=0)(random.key(0), (5,))
    np.testing.assert_allclose(w, init.normal(random.key(0), 5, std=math.sqrt(3)), rtol=1e-14)


def test_linear_init_shapes_dtype_and_pytorch_bounds():
    params = nn.Linear(16, 5).init(random.key(0))
    assert params["weight"].shape == (5, 16) and params["bias"].shape == (5,)
    assert params["weight"].dtype == np.float64
    assert np.abs(params["weight"]).max() <= 0.25 and np.abs(params["bias"]).max() <= 0.25
    assert np.abs(params["weight"]).max() > 0.2  # spread over the whole range
    p32 = nn.Linear(16, 5, dtype=np.float32).init(random.key(0))
    assert p32["weight"].dtype == np.float32 and p32["bias"].dtype == np.float32
    assert nn.Linear(16, 5, dtype=np.float32).apply(p32, np.ones((2, 16), np.float32)).dtype \
        == np.float32
    assert set(nn.Linear(3, 2, bias=False).init(random.key(0))) == {"weight"}


def test_linear_same_key_same_params():
    a = nn.Linear(3, 4).init(random.key(7))
    b = nn.Linear(3, 4).init(random.key(7))
    np.testing.assert_array_equal(a["weight"], b["weight"])
    np.testing.assert_array_equal(a["bias"], b["bias"])


def test_linear_apply_matches_numpy_and_gradients():
    layer = nn.Linear(3, 2)
    params = layer.init(random.key(1))
    x = rng().normal(size=(2, 4, 3))
    np.testing.assert_allclose(layer.apply(params, x), x @ params["weight"].T + params["bias"],
                               rtol=1e-14)
    check_grads(layer.apply, (params, x), order=2)
    with pytest.raises(ValueError, match=r"\(\.\.\., 3\)"):
        layer.apply(params, np.ones((2, 4)))
    with pytest.raises(ValueError, match="in_features must be a positive int"):
        nn.Linear(0, 2)


def test_embedding_lookup_gradient_and_padding():
    emb = nn.Embedding(6, 3, padding_idx=0)
    params = emb.init(random.key(2))
    np.testing.assert_array_equal(params["weight"][0], np.zeros(3))
    assert abs(nn.Embedding(1000, 10).init(random.key(0))["weight"].std() - 1) < 0.05
    ids = np.array([[1, 2, 1], [0, 5, 1]])
    out = emb.apply(params, ids)
    np.testing.assert_array_equal(out, params["weight"][ids])
    g = ft.grad(lambda p: fnp.sum(emb.apply(p, ids)))(params)
    np.testing.assert_array_equal(g["weight"][:, 0], [0.0, 3.0, 1.0, 0.0, 0.0, 1.0])
    check_grads(lambda w: emb.apply({"weight": w}, ids), (params["weight"],), order=2)
    with pytest.raises(TypeError, match="integers"):
        emb.apply(params, np.array([0.5]))


# --- convolution and pooling (reference: direct loops over the definition) ------------------------
def conv_ref(x, w, b, stride, pads, dilation, groups):
    """Cross-correlation by its definition, any number of spatial axes."""
    n, c = x.shape[:2]
    nd = x.ndim - 2
    x = np.pad(x, [(0, 0), (0, 0)] + list(pads))
    o, cg = w.shape[:2]
    kernel = w.shape[2:]
    out = [(x.shape[2 + i] - dilation[i] * (kernel[i] - 1) - 1) // stride[i] + 1
           for i in range(nd)]
    y = np.zeros((n, o) + tuple(out))
    og = o // groups
    for oc in range(o):
        g = oc // og
        for pos in np.ndindex(*out):
            for ic in range(cg):
                for kpos in np.ndindex(*kernel):
                    idx = tuple(pos[i] * stride[i] + kpos[i] * dilation[i] for i in range(nd))
                    y[(slice(None), oc) + pos] += (w[(oc, ic) + kpos]
                                                   * x[(slice(None), g * cg + ic) + idx])
    if b is not None:
        y += b.reshape((1, o) + (1,) * nd)
    return y


CONV2D_CASES = [
    {"in_channels": 2, "out_channels": 3, "kernel_size": 3},
    {"in_channels": 2, "out_channels": 4, "kernel_size": (2, 3), "stride": (2, 1), "padding": (1, 2)},
    {"in_channels": 1, "out_channels": 2, "kernel_size": 3, "padding": "same", "dilation": 2},
    {"in_channels": 2, "out_channels": 2, "kernel_size": 4, "padding": "same"},  # even: extra pad at end
    {"in_channels": 4, "out_channels": 6, "kernel_size": 2, "groups": 2, "bias": False},
    {"in_channels": 3, "out_channels": 3, "kernel_size": 3, "stride": 2, "padding": 1, "groups": 3},
    {"in_channels": 2, "out_channels": 1, "kernel_size": 1, "padding": "valid"},
]


def _torch_pads(layer):
    kernel, stride, dilation, pads = layer._geometry
    return kernel, stride, dilation, pads


@pytest.mark.parametrize("cfg", CONV2D_CASES, ids=range(len(CONV2D_CASES)))
def test_conv2d_matches_definition(cfg):
    layer = nn.Conv2d(**cfg)
    params = layer.init(random.key(4))
    x = rng(9).normal(size=(2, cfg["in_channels"], 7, 6))
    kernel, stride, dilation, pads = _torch_pads(layer)
    ref = conv_ref(x, params["weight"], params.get("bias"), stride, pads, dilation,
                   cfg.get("groups", 1))
    y = layer.apply(params, x)
    assert y.shape == ref.shape
    np.testing.assert_allclose(y, ref, rtol=1e-12, atol=1e-13)
    if cfg.get("padding") == "same":
        assert y.shape[2:] == x.shape[2:]
    np.testing.assert_allclose(layer.apply(params, x[0]), ref[0], rtol=1e-12, atol=1e-13)


def test_conv2d_init_and_same_padding_layout():
    layer = nn.Conv2d(3, 8, 5)
    params = layer.init(random.key(0))
    assert params["weight"].shape == (8, 3, 5, 5)
    bound = 1 / math.sqrt(3 * 25)
    assert np.abs(params["weight"]).max() <= bound and np.abs(params["bias"]).max() <= bound
    # 'same' with an even kernel pads (0 before, 1 after) per axis: PyTorch's layout.
    assert nn.Conv2d(1, 1, 2, padding="same")._geometry[3] == ((0, 1), (0, 1))


@pytest.mark.parametrize("spelling", ["SAME", "Same", "VALID", "Valid"])
def test_conv_padding_strings_in_either_case(spelling):
    # JAX and flax spell them in upper case; the result is the lower-case one's
    x = rng(20).normal(size=(1, 2, 6, 5))
    for layer_type, kernel, inp in ((nn.Conv2d, (2, 3), x), (nn.Conv1d, 2, x[:, :, 0])):
        upper = layer_type(2, 3, kernel, padding=spelling, dilation=2 if layer_type is nn.Conv1d else (2, 1))
        lower = dataclasses.replace(upper, padding=spelling.lower())
        params = upper.init(random.key(1))
        np.testing.assert_array_equal(upper.apply(params, inp), lower.apply(params, inp))
        if spelling.lower() == "same":
            assert upper.apply(params, inp).shape[2:] == inp.shape[2:]
    with pytest.raises(ValueError, match="padding must be an int, a tuple, 'valid' or 'same'"):
        nn.Conv2d(1, 1, 3, padding=spelling + "X")


@pytest.mark.parametrize("size, pads", [(5, (1, 1)), (6, (0, 1)), (7, (1, 1))])
def test_strided_same_padding_is_jaxs(size, pads):
    # ceil(size / 2) outputs for a kernel of 3 with stride 2, the padding they need split with
    # the odd element at the end: jax.lax.conv_general_dilated(..., (2, 2), "SAME") agrees to
    # 1e-15 (PyTorch refuses a strided 'same')
    layer = nn.Conv2d(2, 3, 3, stride=2, padding="SAME")
    params = layer.init(random.key(2))
    x = rng(size).normal(size=(2, 2, size, 4))
    y = layer.apply(params, x)
    assert y.shape == (2, 3, -(-size // 2), 2)
    ref = conv_ref(x, params["weight"], params["bias"], (2, 2), (pads, (0, 1)), (1, 1), 1)
    np.testing.assert_allclose(y, ref, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(ft.jit(layer.apply)(params, x), y, rtol=1e-14, atol=1e-14)
    check_grads(layer.apply, (params, x[:1]), order=2)


def test_conv_same_padding_matches_jax_with_an_even_dilated_kernel():
    # jax.lax.conv_general_dilated(x, w, (1, 1), "SAME", rhs_dilation=(2, 1)), float64
    x = rng(0).normal(size=(1, 1, 4, 3))
    w = np.array([[[[1.0, -2.0, 0.5], [0.25, 3.0, -1.0]]]])
    y = nn.Conv2d(1, 1, (2, 3), padding="SAME", dilation=(2, 1), bias=False).apply({"weight": w}, x)
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    expected = np.array([[sum(w[0, 0, i, j] * xp[0, 0, r + 2 * i, c + j] for i in range(2)
                              for j in range(3)) for c in range(3)] for r in range(4)])
    np.testing.assert_allclose(y[0, 0], expected, rtol=1e-13)


@pytest.mark.parametrize("cfg", [CONV2D_CASES[1], CONV2D_CASES[2], CONV2D_CASES[5]],
                         ids=["strided", "dilated-same", "depthwise"])
def test_conv2d_gradients(cfg):
    layer = nn.Conv2d(**cfg)
    params = layer.init(random.key(5))
    x = rng(10).normal(size=(1, cfg["in_channels"], 5, 5))
    check_grads(layer.apply, (params, x), order=2)


def test_conv_layers_check_the_weight_shape():
    # A ConvTranspose weight in Conv's (out, in, k) layout has the size of the right one and
    # was reshaped into scrambled kernels; a Conv weight of another kernel size ran with the
    # padding computed for this one.
    x = rng(90).normal(size=(1, 4, 6))
    ct = nn.ConvTranspose1d(4, 8, 3)
    w = ct.init(random.key(0))["weight"]
    with pytest.raises(ValueError, match=r"weight must have shape \(4, 8, 3\) \(in_channels, "
                                         r"out_channels / groups, \*kernel_size\), got \(8, 4, 3\)"):
        ct.apply({"weight": np.swapaxes(w, 0, 1)}, x)
    conv = nn.Conv2d(4, 2, 3, padding="same")
    with pytest.raises(ValueError, match=r"weight must have shape \(2, 4, 3, 3\).*got \(2, 4, 1, 3\)"):
        conv.apply({"weight": np.ones((2, 4, 1, 3))}, np.ones((1, 4, 5, 5)))
    grouped = nn.ConvTranspose2d(4, 6, 2, groups=2)
    params = grouped.init(random.key(1))
    assert params["weight"].shape == (4, 3, 2, 2)
    assert grouped.apply(params, np.ones((1, 4, 3, 3))).shape == (1, 6, 4, 4)


# (kernel, stride, dilation, padding, output) of lax.conv_transpose(x, w, (stride,), padding,
# rhs_dilation=(dilation,), dimension_numbers=("NCH", "OIH", "NCH"), transpose_kernel=True)
# with x = [1, 2, 3, 4, 5] and w = [1, 10, 100, 1000][:kernel], computed offline with jax 0.10.2.
CONV_TRANSPOSE_JAX = [
    (3, 1, 1, "SAME", [12, 123, 234, 345, 450]),
    (3, 1, 1, "VALID", [1, 12, 123, 234, 345, 450, 500]),
    (3, 2, 1, "SAME", [1, 10, 102, 20, 203, 30, 304, 40, 405, 50]),
    (3, 2, 1, "VALID", [1, 10, 102, 20, 203, 30, 304, 40, 405, 50, 500]),
    (4, 2, 1, "SAME", [10, 102, 1020, 203, 2030, 304, 3040, 405, 4050, 500]),
    (4, 2, 1, "VALID", [1, 10, 102, 1020, 203, 2030, 304, 3040, 405, 4050, 500, 5000]),
    (2, 3, 1, "SAME", [1, 10, 0, 2, 20, 0, 3, 30, 0, 4, 40, 0, 5, 50, 0]),
    (2, 3, 1, "VALID", [1, 10, 0, 2, 20, 0, 3, 30, 0, 4, 40, 0, 5, 50, 0]),
    (3, 2, 2, "SAME", [0, 12, 0, 123, 0, 234, 0, 345, 0, 450]),
    (3, 2, 2, "VALID", [1, 0, 12, 0, 123, 0, 234, 0, 345, 0, 450, 0, 500]),
    (1, 3, 1, "SAME", [1, 0, 0, 2, 0, 0, 3, 0, 0, 4, 0, 0, 5, 0, 0]),
]


@pytest.mark.parametrize("kernel,stride,dilation,padding,expected", CONV_TRANSPOSE_JAX)
def test_conv_transpose_string_padding_is_lax_conv_transpose(kernel, stride, dilation, padding,
                                                             expected):
    x = np.array([[[1.0, 2.0, 3.0, 4.0, 5.0]]])
    w = np.array([[[1.0, 10.0, 100.0, 1000.0][:kernel]]])
    for pad in (padding, padding.lower()):
        layer = nn.ConvTranspose1d(1, 1, kernel, stride=stride, padding=pad, dilation=dilation,
                                   bias=False)
        np.testing.assert_array_equal(layer.apply({"weight": w}, x)[0, 0], expected)
        np.testing.assert_array_equal(ft.jit(layer.apply)({"weight": w}, x)[0, 0], expected)


def test_conv_transpose2d_same_gives_size_times_stride_with_gradients():
    layer = nn.ConvTranspose2d(2, 3, (3, 2), stride=(2, 3), padding="SAME", dilation=(2, 1))
    params = layer.init(random.key(3))
    x = rng(33).normal(size=(2, 2, 4, 5))
    y = layer.apply(params, x)
    assert y.shape == (2, 3, 8, 15)
    # Axis by axis it is the 1-d layer: a (k, 1) kernel on a (size, 1) input.
    one = nn.ConvTranspose2d(1, 1, (3, 1), stride=(2, 1), padding="SAME", bias=False)
    col = one.apply({"weight": np.array([1.0, 10.0, 100.0]).reshape(1, 1, 3, 1)},
                    np.arange(1.0, 6.0).reshape(1, 1, 5, 1))
    np.testing.assert_array_equal(col[0, 0, :, 0], CONV_TRANSPOSE_JAX[2][4])
    check_grads(layer.apply, (params, x[:1]), order=2)
    with pytest.raises(ValueError, match="output_padding .* goes with an int padding"):
        nn.ConvTranspose2d(2, 3, 3, stride=2, padding="same", output_padding=1)
    with pytest.raises(ValueError, match="padding must be an int, a tuple, 'same' or 'valid'"):
        nn.ConvTranspose2d(2, 3, 3, padding="full")


def test_conv1d_matches_definition_and_gradients():
    layer = nn.Conv1d(2, 4, 3, stride=2, padding=2, dilation=2, groups=2)
    params = layer.init(random.key(6))
    x = rng(11).normal(size=(3, 2, 11))
    kernel, stride, dilation, pads = layer._geometry
    ref = conv_ref(x, params["weight"], params["bias"], stride, pads, dilation, 2)
    np.testing.assert_allclose(layer.apply(params, x), ref, rtol=1e-12, atol=1e-13)
    check_grads(layer.apply, (params, x[:1]), order=2)


def test_conv_errors():
    with pytest.raises(ValueError, match="divisible by groups"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="kernel_size must be an int or a tuple of 2"):
        nn.Conv2d(1, 1, (3, 3, 3))
    with pytest.raises(TypeError, match="stride must be an int or a tuple of 2 ints, got True"):
        nn.Conv2d(1, 1, 3, stride=True)
    layer = nn.Conv2d(3, 1, 3)
    with pytest.raises(ValueError, match="expected 3 input channels"):
        layer.apply(layer.init(random.key(0)), np.ones((1, 2, 5, 5)))
    with pytest.raises(ValueError, match=r"expected an input of shape \(N, C, H, W\)"):
        layer.apply(layer.init(random.key(0)), np.ones((5, 5)))
    with pytest.raises(ValueError, match="smaller than"):
        layer.apply(layer.init(random.key(0)), np.ones((1, 3, 2, 2)))


def pool_ref(x, kernel, stride, pad, reduce, pad_value, count_include_pad=True):
    """Pooling over the last two axes by its definition; ``pad`` is a number per axis (both
    sides) or a ``(low, high)`` pair per axis."""
    pads = [p if isinstance(p, tuple) else (p, p) for p in pad]
    xp = np.pad(x, [(0, 0), (0, 0), *pads], constant_values=pad_value)
    ones = np.pad(np.ones(x.shape[2:]), pads)
    out = [(xp.shape[2 + i] - kernel[i]) // stride[i] + 1 for i in range(2)]
    y = np.zeros(x.shape[:2] + tuple(out))
    for i in range(out[0]):
        for j in range(out[1]):
            rows = slice(i * stride[0], i * stride[0] + kernel[0])
            cols = slice(j * stride[1], j * stride[1] + kernel[1])
            window = xp[:, :, rows, cols]
            if reduce == "max":
                y[:, :, i, j] = window.max(axis=(2, 3))
            else:
                count = kernel[0] * kernel[1] if count_include_pad else ones[rows, cols].sum()
                y[:, :, i, j] = window.sum(axis=(2, 3)) / count
    return y


@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.int32, np.int64, np.uint8])
def test_max_pooling_of_integers_pads_with_the_dtype_minimum(dtype):
    # -inf cast to a small integer dtype is 0, which beat every negative entry of a window.
    x = np.array([[[5, 7, 3, 9], [1, 2, 8, 4]]])
    x = x if dtype == np.uint8 else -x
    x = x.astype(dtype)
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1)), constant_values=np.iinfo(dtype).min)
    ref = np.stack([padded[..., 0:3].max(-1), padded[..., 2:5].max(-1)], axis=-1)
    for run in (nn.MaxPool1d(3, 2, 1).apply, ft.jit(nn.MaxPool1d(3, 2, 1).apply)):
        out = run({}, x)
        assert out.dtype == dtype
        np.testing.assert_array_equal(out, ref)
    x2 = np.stack([x, x], axis=-1)  # (1, 2, 4, 2): the same through MaxPool2d
    out2 = nn.MaxPool2d((3, 1), (2, 1), (1, 0)).apply({}, x2)
    np.testing.assert_array_equal(out2, np.stack([ref, ref], axis=-1))


@pytest.mark.parametrize("kernel,stride,pad", [((2, 2), (2, 2), (0, 0)), ((3, 3), (3, 3), (0, 0)),
                                               ((3, 2), (1, 2), (1, 1)), ((3, 3), (2, 2), (1, 0))])
def test_pooling_matches_definition(kernel, stride, pad):
    x = rng(12).normal(size=(2, 3, 7, 8))
    mp = nn.MaxPool2d(kernel, stride, pad)
    np.testing.assert_allclose(mp.apply({}, x), pool_ref(x, kernel, stride, pad, "max", -np.inf),
                               rtol=1e-15)
    ap = nn.AvgPool2d(kernel, stride, pad)
    np.testing.assert_allclose(ap.apply({}, x), pool_ref(x, kernel, stride, pad, "avg", 0.0),
                               rtol=1e-14)
    ap2 = nn.AvgPool2d(kernel, stride, pad, count_include_pad=False)
    np.testing.assert_allclose(ap2.apply({}, x),
                               pool_ref(x, kernel, stride, pad, "avg", 0.0, False), rtol=1e-14)
    check_grads(mp.apply, ({}, x[:1, :1]), order=2)
    check_grads(ap.apply, ({}, x[:1, :1]), order=2)


def _reduce_window_ref(x, kernel, stride, padding, reduce, count_include_pad=True):
    """JAX's reduce_window over the last two axes: 'SAME' gives ceil(size / stride) outputs,
    the padding they need split with the odd entry at the end; 'VALID' none."""
    pads = []
    for size, k, s in zip(x.shape[2:], kernel, stride):
        total = max((-(-size // s) - 1) * s + k - size, 0) if padding == "SAME" else 0
        pads.append((total // 2, total - total // 2))
    fill = -np.inf if reduce == "max" else 0.0
    return pool_ref(x, kernel, stride, pads, reduce, fill, count_include_pad)


@pytest.mark.parametrize("kernel,stride", [((3, 3), None), ((2, 2), None), ((3, 2), (2, 1)),
                                           ((2, 3), (1, 2))])
@pytest.mark.parametrize("padding", ["SAME", "VALID", "same", "Valid"])
def test_pooling_takes_jax_string_padding(kernel, stride, padding):
    x = rng(31).normal(size=(2, 3, 7, 6))
    st, mode = stride or kernel, padding.upper()
    mp = nn.MaxPool2d(kernel, stride, padding=padding)
    want = _reduce_window_ref(x, kernel, st, mode, "max")
    for got in (mp.apply({}, x), ft.jit(mp.apply)({}, x), ft.vmap(lambda v: mp.apply({}, v))(x)):
        np.testing.assert_allclose(got, want, rtol=1e-15)
    ap = nn.AvgPool2d(kernel, stride, padding=padding)
    np.testing.assert_allclose(ap.apply({}, x), _reduce_window_ref(x, kernel, st, mode, "avg"),
                               rtol=1e-14)
    ap2 = nn.AvgPool2d(kernel, stride, padding=padding, count_include_pad=False)
    np.testing.assert_allclose(ap2.apply({}, x),
                               _reduce_window_ref(x, kernel, st, mode, "avg", False), rtol=1e-14)
    check_grads(mp.apply, ({}, x[:1, :1]), order=2)
    check_grads(ap2.apply, ({}, x[:1, :1]), order=2)


def test_pool1d_string_padding_and_errors():
    x = rng(32).normal(size=(2, 3, 7)).astype(np.float32)
    y = nn.MaxPool1d(3, padding="SAME").apply({}, x)  # ceil(7 / 3) = 3 windows, pads (1, 1)
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1)), constant_values=-np.inf)
    np.testing.assert_array_equal(y, padded.reshape(2, 3, 3, 3).max(-1))
    assert y.dtype == np.float32
    assert nn.AvgPool1d(4, 3, padding="same").apply({}, x).shape == (2, 3, 3)
    assert nn.AvgPool1d(4, 3, padding="VALID").apply({}, x).shape == (2, 3, 2)
    with pytest.raises(ValueError, match="padding must be an int, a tuple, 'valid' or 'same'"):
        nn.MaxPool2d(2, padding="full")


def test_pool1d_and_flatten():
    x = rng(13).normal(size=(2, 3, 9))
    np.testing.assert_allclose(nn.MaxPool1d(3, 2).apply({}, x),
                               np.stack([x[..., i:i + 3].max(-1) for i in range(0, 7, 2)], -1))
    np.testing.assert_allclose(nn.AvgPool1d(3).apply({}, x), x.reshape(2, 3, 3, 3).mean(-1),
                               rtol=1e-15)
    assert nn.Flatten().apply({}, np.ones((2, 3, 4, 5))).shape == (2, 60)
    assert nn.Flatten(0, 1).apply({}, np.ones((2, 3, 4))).shape == (6, 4)
    # A channels-last input is named as one, with the fix.
    conv = nn.Conv2d(3, 2, 3)
    with pytest.raises(ValueError, match=r"expected 3 input channels \(axis 1\), got input of "
                                         r"shape \(2, 5, 5, 3\); this input looks channels-last: "
                                         r"move its channels to axis 1 first, "
                                         r"fnp.moveaxis\(x, -1, 1\)"):
        conv.apply(conv.init(random.key(0)), np.ones((2, 5, 5, 3)))
    with pytest.raises(ValueError, match=r"fnp.moveaxis\(x, -1, 0\)"):
        nn.Conv1d(3, 2, 1).apply(nn.Conv1d(3, 2, 1).init(random.key(0)), np.ones((5, 3)))
    # An axis past the input's wrapped around: start_dim=2 of a (4, 3) input flattened all of it.
    with pytest.raises(ValueError, match=r"Flatten: start_dim 2 is not an axis of an input of "
                                         r"shape \(4, 3\) \(axes -2 to 1\)"):
        nn.Flatten(start_dim=2).apply({}, np.ones((4, 3)))
    with pytest.raises(ValueError, match="start_dim 1 is not an axis"):
        nn.Flatten().apply({}, np.ones(4))
    with pytest.raises(ValueError, match="end_dim -3 is not an axis"):
        nn.Flatten(0, -3).apply({}, np.ones((4, 3)))
    assert nn.Flatten(-2, -1).apply({}, np.ones((4, 3))).shape == (12,)
    with pytest.raises(ValueError, match="at most half the kernel"):
        nn.MaxPool2d(2, padding=2)


# --- normalisation --------------------------------------------------------------------------------
def test_layer_norm_matches_formula_and_gradients():
    ln = nn.LayerNorm((3, 4), eps=1e-3)
    params = ln.init(random.key(0))
    params = {"weight": rng(14).normal(size=(3, 4)), "bias": rng(15).normal(size=(3, 4))}
    x = rng(16).normal(size=(2, 3, 4)) * 3 + 1
    mean = x.mean(axis=(1, 2), keepdims=True)
    var = x.var(axis=(1, 2), keepdims=True)
    ref = (x - mean) / np.sqrt(var + 1e-3) * params["weight"] + params["bias"]
    np.testing.assert_allclose(ln.apply(params, x), ref, rtol=1e-13, atol=1e-14)
    check_grads(ln.apply, (params, x), order=2)
    assert nn.LayerNorm(4, elementwise_affine=False).init(random.key(0)) == {}
    with pytest.raises(ValueError, match="ending in"):
        ln.apply(params, np.ones((2, 4, 3)))


def test_batch_norm_train_eval_and_state_updates():
    bn = nn.BatchNorm(3, eps=1e-4, momentum=0.2)
    params = {"weight": np.array([1.0, 2.0, 0.5]), "bias": np.array([0.0, -1.0, 3.0])}
    state = bn.init_state()
    x = rng(17).normal(size=(4, 3, 2, 5)) * 2 + 1
    y, new_state = bn.apply(params, x, state, train=True)
    mean = x.mean(axis=(0, 2, 3))
    var = x.var(axis=(0, 2, 3))
    b = lambda v: v.reshape(1, 3, 1, 1)
    ref = (x - b(mean)) / np.sqrt(b(var) + 1e-4) * b(params["weight"]) + b(params["bias"])
    np.testing.assert_allclose(y, ref, rtol=1e-13, atol=1e-14)
    n = 4 * 2 * 5
    np.testing.assert_allclose(new_state.running_mean, 0.8 * 0 + 0.2 * mean, rtol=1e-14)
    np.testing.assert_allclose(new_state.running_var, 0.8 * 1 + 0.2 * var * n / (n - 1),
                               rtol=1e-14)
    assert new_state.num_batches_tracked == 1
    y_eval, same = bn.apply(params, x, new_state, train=False)
    assert same is new_state
    ref_eval = ((x - b(new_state.running_mean)) / np.sqrt(b(new_state.running_var) + 1e-4)
                * b(params["weight"]) + b(params["bias"]))
    np.testing.assert_allclose(y_eval, ref_eval, rtol=1e-13)
    check_grads(lambda p, v: bn.apply(p, v, state, train=True)[0], (params, x[:, :, :1, :2]),
                order=2)
    check_grads(lambda p, v: bn.apply(p, v, new_state, train=False)[0], (params, x[:2]), order=2)


def test_standardize_matches_jax():
    x = rng(0).normal(size=(3, 4))
    w = np.array([[True, True, False, True]] * 3)
    # jax.nn.standardize(..., algorithm="stable") in float64, recorded.
    jax_last = np.array([
        [-0.20929734116109602, -1.123839194642902,
         1.6163183210130838, -0.28318178520908543],
        [-1.5160988884005975, -0.22657906358355362,
         1.1278153377516449, 0.6148626142325063],
        [-0.14227392939932065, -1.353835392352265,
         0.03128056785732083, 1.4648287538942641],
    ])
    jax_where = np.array([
        [0.3994520465868588, -0.024217785764136975,
         1.24518510799461, 0.3652244058244549],
        [-0.6873475093523007, 0.7870207703655945,
         2.3355631852442804, 1.7490803642773192],
        [-0.9635102201836462, -1.8864626325191962,
         -0.8312985686803975, 0.26076056076505255],
    ])
    jax_grad = np.array([
        [-5.086794342527909, -0.5185746461893306,
         -0.031348614744517, 5.636717603461756],
        [-0.04569459084607708, -0.4032386169646136,
         -0.8510729881765655, 1.300006195987256],
        [-2.997428323489479, 1.1870218896045084,
         1.026158479108235, 0.784247954776736],
    ])
    np.testing.assert_allclose(nn.standardize(x), jax_last, rtol=1e-13)
    np.testing.assert_allclose(nn.standardize(x, axis=(0, 1), where=w), jax_where, rtol=1e-13)
    weights = np.arange(4.0)
    g = ft.grad(lambda a: (nn.standardize(a) * weights).sum())(x)
    np.testing.assert_allclose(g, jax_grad, rtol=1e-12)
    check_grads(nn.standardize, (x,), order=2)
    np.testing.assert_allclose(ft.jit(nn.standardize)(x), jax_last, rtol=1e-13)
    np.testing.assert_allclose(ft.vmap(nn.standardize)(x), jax_last, rtol=1e-13)
    np.testing.assert_allclose(nn.standardize(x, mean=1.0, variance=4.0, epsilon=0.0),
                               (x - 1) / 2, rtol=1e-15)
    # A large mean against a small spread: the two-pass variance keeps the digits in float32.
    big = (1e4 + np.array([0.0, 1.0, 2.0, 3.0])).astype(np.float32)
    y = nn.standardize(big, epsilon=0.0)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y, (np.arange(4) - 1.5) / np.sqrt(1.25), rtol=1e-5)


def test_batch_norm_momentum_none_is_the_cumulative_average():
    bn = nn.BatchNorm(3, momentum=None, dtype=np.float32)
    params = bn.init(random.key(0))
    xs = [rng(50 + i).normal(size=(5, 3, 2)).astype(np.float32) for i in range(3)]
    means = [x.mean((0, 2)) for x in xs]
    unbiased = [x.var((0, 2), ddof=1) for x in xs]

    def step(state, x):
        return bn.apply(params, x, state, train=True)[1]

    for run in (step, ft.jit(step)):
        state = bn.init_state()
        for x in xs:
            state = run(state, x)
        assert int(state.num_batches_tracked) == 3
        assert state.running_mean.dtype == np.float32 == state.running_var.dtype
        # The first batch replaces the initial statistics: the result is the plain average.
        np.testing.assert_allclose(state.running_mean, np.mean(means, 0), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(state.running_var, np.mean(unbiased, 0), rtol=1e-5)


def test_batch_norm_state_through_value_and_grad():
    bn = nn.BatchNorm(2)
    params, state = bn.init(random.key(0)), bn.init_state()
    x = rng(18).normal(size=(8, 2)) + 5.0

    def loss(p, s):
        y, s = bn.apply(p, x, s, train=True)
        return fnp.sum(y**2), s

    (value, new_state), grads = ft.value_and_grad(loss, has_aux=True)(params, state)
    assert isinstance(new_state.running_mean, np.ndarray)
    np.testing.assert_allclose(new_state.running_mean, 0.1 * x.mean(0), rtol=1e-14)
    assert grads["weight"].shape == (2,)
    with pytest.raises(ValueError, match="init_state"):
        bn.apply(params, x, None)
    with pytest.raises(ValueError, match=r"more than one value per channel .* Fix: train on "
                                         r"batches of 2 or more, evaluate this one with "
                                         r"train=False"):
        bn.apply(params, x[:1], state)


def test_batch_norm_state_keeps_its_dtype_and_refuses_other_states():
    # A float64 batch (NumPy's default) turned a float32 BatchNorm's running statistics into
    # float64 after one step, eagerly and under jit.
    bn = nn.BatchNorm(3, momentum=0.5, dtype=np.float32)
    params = bn.init(random.key(0))
    x = rng(19).normal(size=(4, 3, 2))
    step = lambda s, v: bn.apply(params, v, s, train=True)[1]
    for run in (step, ft.jit(step)):
        state = run(run(bn.init_state(), x), x + 1.0)
        assert state.running_mean.dtype == np.float32 == state.running_var.dtype
        mean = 0.25 * x.mean((0, 2)) + 0.5 * (x + 1.0).mean((0, 2))
        np.testing.assert_allclose(state.running_mean, mean, rtol=1e-6)
        var = 0.25 + 0.25 * x.var((0, 2), ddof=1) + 0.5 * x.var((0, 2), ddof=1)
        np.testing.assert_allclose(state.running_var, var, rtol=1e-6)
    # A state of another kind failed with AttributeError on 'running_mean'.
    with pytest.raises(TypeError, match=r"state must be the BatchNormState .* got dict; .*"
                                        r"BatchNormState\(running_mean, running_var"):
        bn.apply(params, x, {"running_mean": np.zeros(3), "running_var": np.ones(3)})
    with pytest.raises(TypeError, match="got tuple"):
        bn.apply(params, x, (np.zeros(3), np.ones(3)))


def test_layers_refuse_params_other_than_what_init_makes():
    # A misspelt or missing "bias" was skipped without a word: the layer ran without its bias
    # (and a bias=False layer added one it was given).
    x = rng(20).normal(size=(2, 3))
    lin = nn.Linear(3, 2)
    p = lin.init(random.key(0))
    with pytest.raises(errors.TreeStructureError,
                       match=r"Linear: params has no 'bias' and holds 'biass', which it does not "
                             r"use; this layer's init\(key\) makes \['bias', 'weight'\]"):
        lin.apply({"weight": p["weight"], "biass": p["bias"]}, x)
    with pytest.raises(errors.TreeStructureError, match=r"has no 'bias'.*bias=False"):
        lin.apply({"weight": p["weight"]}, x)
    with pytest.raises(errors.TreeStructureError, match="holds 'bias', which it does not use"):
        nn.Linear(3, 2, bias=False).apply(p, x)
    np.testing.assert_allclose(nn.Linear(3, 2, bias=False).apply({"weight": p["weight"]}, x),
                               x @ p["weight"].T, rtol=1e-15)
    conv = nn.Conv1d(3, 2, 1)
    with pytest.raises(errors.TreeStructureError, match="Conv1d: params has no 'bias'"):
        conv.apply({"weight": conv.init(random.key(0))["weight"]}, x[..., None])
    ln = nn.LayerNorm(3, bias=False)
    with pytest.raises(errors.TreeStructureError, match="LayerNorm: params holds 'bias'"):
        ln.apply(nn.LayerNorm(3).init(random.key(0)), x)
    gru = nn.GRU(3, 4, bidirectional=True)
    gp = gru.init(random.key(0))
    gp["bias_hh_l0_rev"] = gp.pop("bias_hh_l0_reverse")
    with pytest.raises(errors.TreeStructureError,
                       match="GRU: params has no 'bias_hh_l0_reverse' and holds 'bias_hh_l0_rev'"):
        gru.apply(gp, x[:, None])
    mha = nn.MultiHeadAttention(4, 2)
    mp = mha.init(random.key(0))
    del mp["out_proj"]["bias"]
    with pytest.raises(errors.TreeStructureError, match=r"MultiHeadAttention \(out_proj\): params "
                                                        r"has no 'bias'"):
        mha.apply(mp, np.ones((3, 2, 4)))
    # Not a dict at all: the layer failed indexing it ("list indices must be integers").
    with pytest.raises(TypeError, match=r"Linear: params must be the dict this layer's "
                                        r"init\(key\) made, got list: a Sequential's params are "
                                        r"a list with one dict per layer"):
        lin.apply([p], x)
    with pytest.raises(TypeError, match="LayerNorm: params must be the dict .* got NoneType$"):
        nn.LayerNorm(3, elementwise_affine=False).apply(None, x)
    block = nn.TransformerEncoderLayer(4, 2, dim_feedforward=6, dropout=0.0)
    bp = block.init(random.key(0))
    bp["norm_2"] = bp.pop("norm2")
    with pytest.raises(errors.TreeStructureError, match="has no 'norm2' and holds 'norm_2'"):
        block.apply(bp, np.ones((3, 2, 4)))
    with pytest.raises(TypeError, match="TransformerEncoderLayer: params must be the dict"):
        block.apply([bp], np.ones((3, 2, 4)))


def test_numpy_scalar_hyperparameters_keep_a_float32_model_float32():
    # np.float64 hyperparameters (eps, momentum, p, slopes) made every float32 output float64
    # under NumPy's promotion rules; Python floats of the same values never did.
    f = np.float64
    x = rng(21).normal(size=(4, 3)).astype(np.float32)
    layers = [
        (nn.LayerNorm(3, eps=f(1e-5), dtype=np.float32), {}),
        (nn.GroupNorm(1, 4, eps=f(1e-5), dtype=np.float32), {}),
        (nn.BatchNorm(3, eps=f(1e-5), momentum=f(0.1), dtype=np.float32), {}),
        (nn.Dropout(f(0.5)), {"key": random.key(1)}),
        (nn.MultiHeadAttention(3, 1, dropout=f(0.1), dtype=np.float32), {"rng": random.key(1)}),
        (nn.TransformerEncoderLayer(3, 1, 4, dropout=f(0.1), layer_norm_eps=f(1e-5),
                                    dtype=np.float32), {"key": random.key(1)}),
    ]
    for layer, kwargs in layers:
        params = layer.init(random.key(0))
        inputs = x.reshape(1, 4, 3) if isinstance(layer, nn.GroupNorm) else x
        if isinstance(layer, (nn.MultiHeadAttention, nn.TransformerEncoderLayer)):
            inputs = x[:, None]
        if layer.stateful:
            y, state = layer.apply(params, inputs, layer.init_state())
            assert state.running_var.dtype == np.float32
        else:
            y = layer.apply(params, inputs, **kwargs)
        y = y[0] if isinstance(y, tuple) else y
        assert y.dtype == np.float32, type(layer).__name__
    t = np.zeros_like(x)
    for out in (nn.leaky_relu(x, f(0.1)), nn.elu(x, f(0.5)), nn.celu(x, f(0.5)),
                nn.softplus(x, f(2.0)), nn.hardtanh(x, f(-0.5), f(0.5)),
                nn.dropout(x, f(0.5), random.key(0)), nn.huber(x, t, delta=f(0.5)),
                nn.smooth_l1(x, t, beta=f(0.5)), nn.standardize(x, epsilon=f(1e-5)),
                nn.cosine_similarity(x, x + 1, eps=f(1e-8)),
                nn.cross_entropy(x, np.array([0, 1, 2, 0]), label_smoothing=f(0.1))):
        assert out.dtype == np.float32
    np.testing.assert_allclose(nn.huber(x, t, delta=f(0.5)), nn.huber(x, t, delta=0.5), rtol=1e-7)


# --- dropout --------------------------------------------------------------------------------------
def test_dropout_with_a_traced_rate_drops_what_an_eager_call_drops():
    """A rate passed into jit (jit traces Python floats) or mapped by vmap: the eager mask and
    scale; the result differentiates in the rate at a fixed mask; p == 1 drops everything
    with a finite derivative."""
    key = random.key(0)
    x = np.arange(1.0, 9.0)
    drop = ft.jit(lambda x, p: nn.dropout(x, p, key))
    np.testing.assert_array_equal(drop(x, 0.3), nn.dropout(x, 0.3, key))
    assert drop(x.astype(np.float32), 0.3).dtype == np.float32
    assert not drop(x, 1.0).any()
    np.testing.assert_array_equal(drop(x, 0.0), x)
    np.testing.assert_array_equal(ft.vmap(lambda p: nn.dropout(x, p, key))(np.array([0.0, 0.5])),
                                  np.stack([x, nn.dropout(x, 0.5, key)]))
    kept = nn.dropout(x, 0.3, key) != 0
    assert ft.grad(lambda p: fnp.sum(nn.dropout(x, p, key)))(0.3) == pytest.approx(x[kept].sum() / 0.7**2)
    assert ft.grad(lambda p: fnp.sum(nn.dropout(x, p, key)))(1.0) == 0.0
    np.testing.assert_array_equal(ft.jit(lambda x, p: nn.dropout(x, p, None, train=False))(x, 0.3), x)


def test_dropout_statistics_determinism_and_eval():
    drop = nn.Dropout(0.3)
    x = np.ones((200, 100))
    k1, k2 = random.split(random.key(0))
    y = drop.apply({}, x, key=k1)
    kept = y != 0
    assert abs(kept.mean() - 0.7) < 0.01
    np.testing.assert_allclose(y[kept], 1 / 0.7)
    assert abs(y.mean() - 1.0) < 0.02
    np.testing.assert_array_equal(drop.apply({}, x, key=k1), y)
    assert (drop.apply({}, x, key=k2) != y).any()
    assert drop.apply({}, x, train=False) is x
    g = ft.grad(lambda v: fnp.sum(drop.apply({}, v, key=k1)))(x)
    np.testing.assert_array_equal(g, y)
    assert drop.apply({}, x.astype(np.float32), key=k1).dtype == np.float32
    # p = 1 drops everything, infinite and NaN entries too (as p < 1 drops them), in every mode.
    z = np.array([np.inf, -np.inf, np.nan, 2.0], np.float32)
    for run in (lambda a: nn.dropout(a, 1.0, k1), ft.jit(lambda a: nn.dropout(a, 1.0, k1))):
        out = run(z)
        assert out.dtype == np.float32
        np.testing.assert_array_equal(out, np.zeros(4))
    np.testing.assert_array_equal(ft.vmap(lambda a: nn.dropout(a, 1.0, k1))(z[:, None]),
                                  np.zeros((4, 1)))
    np.testing.assert_array_equal(ft.grad(lambda a: nn.dropout(a, 1.0, k1).sum())(x[0]),
                                  np.zeros(100))
    with pytest.raises(ValueError, match="random key"):
        drop.apply({}, x)
    # An integer input came back int64 at p = 0 and p = 1 but float64 in between, and float64
    # under jit for any rate: refused wherever it would be scaled.
    ints = np.arange(6)
    for run in (lambda a, q: nn.dropout(a, q, k1), ft.jit(lambda a, q: nn.dropout(a, q, k1))):
        for q in (0.5, 1.0):
            with pytest.raises(TypeError, match=r"dropout: x must be floating .* got dtype int64; "
                                                r"convert it first"):
                run(ints, q)
    assert nn.dropout(ints, 0.0, k1) is ints and nn.dropout(ints, 0.5, None, train=False) is ints
    with pytest.raises(ValueError, match=r"p must be in \[0, 1\]"):
        nn.Dropout(1.5)


# --- recurrent layers (reference: PyTorch's equations in NumPy) -----------------------------------
def rnn_cell_ref(p, x, h, act=np.tanh):
    return act(x @ p["weight_ih"].T + p["bias_ih"] + h @ p["weight_hh"].T + p["bias_hh"])


def lstm_cell_ref(p, x, h, c):
    gates = x @ p["weight_ih"].T + p["bias_ih"] + h @ p["weight_hh"].T + p["bias_hh"]
    i, f, g, o = np.split(gates, 4, axis=-1)
    c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
    return sigmoid(o) * np.tanh(c), c


def gru_cell_ref(p, x, h):
    xi = x @ p["weight_ih"].T + p["bias_ih"]
    hh = h @ p["weight_hh"].T + p["bias_hh"]
    xr, xz, xn = np.split(xi, 3, axis=-1)
    hr, hz, hn = np.split(hh, 3, axis=-1)
    r, z = sigmoid(xr + hr), sigmoid(xz + hz)
    n = np.tanh(xn + r * hn)
    return (1 - z) * n + z * h


def test_cells_match_pytorch_equations():
    x = rng(19).normal(size=(3, 4))
    h = rng(20).normal(size=(3, 5))
    c = rng(21).normal(size=(3, 5))
    # The pre-activations are sums of ~10 products of unit size, rounded by the BLAS's own order:
    # a few 1e-16 absolute, which an output near 0 cannot meet relatively (hence atol).
    cell = nn.RNNCell(4, 5)
    p = cell.init(random.key(0))
    assert p["weight_ih"].shape == (5, 4) and p["weight_hh"].shape == (5, 5)
    assert np.abs(p["weight_hh"]).max() <= 1 / math.sqrt(5)
    np.testing.assert_allclose(cell.apply(p, x, h), rnn_cell_ref(p, x, h), rtol=1e-14, atol=1e-14)
    relu_cell = nn.RNNCell(4, 5, nonlinearity="relu")
    np.testing.assert_allclose(relu_cell.apply(p, x, h),
                               rnn_cell_ref(p, x, h, lambda v: np.maximum(v, 0)), rtol=1e-14, atol=1e-14)
    lstm = nn.LSTMCell(4, 5)
    p = lstm.init(random.key(1))
    assert p["weight_ih"].shape == (20, 4)
    for got, want in zip(lstm.apply(p, x, (h, c)), lstm_cell_ref(p, x, h, c)):
        np.testing.assert_allclose(got, want, rtol=1e-14, atol=1e-14)
    check_grads(lstm.apply, (p, x[:1], (h[:1], c[:1])), order=2)
    gru = nn.GRUCell(4, 5)
    p = gru.init(random.key(2))
    assert p["weight_hh"].shape == (15, 5)
    np.testing.assert_allclose(gru.apply(p, x, h), gru_cell_ref(p, x, h), rtol=1e-14, atol=1e-14)
    np.testing.assert_allclose(gru.apply(p, x[0]), gru_cell_ref(p, x[0], np.zeros(5)),
                               rtol=1e-14, atol=1e-14)
    check_grads(gru.apply, (p, x[:1], h[:1]), order=2)


def _layer_params(params, k):
    return {n: params[f"{n}_l{k}"] for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}


def test_sequence_layers_match_stacked_cells():
    x = rng(22).normal(size=(6, 2, 3))  # (L, N, I)
    # (6 steps of 2 layers carry the cells' absolute rounding, hence atol as rtol)
    for cls, step in [(nn.RNN, rnn_cell_ref), (nn.GRU, gru_cell_ref)]:
        layer = cls(3, 4, num_layers=2)
        params = layer.init(random.key(3))
        assert set(params) == {f"{n}_l{k}" for n in ("weight_ih", "weight_hh", "bias_ih",
                                                     "bias_hh") for k in (0, 1)}
        h0 = rng(23).normal(size=(2, 2, 4))
        seq = x
        finals = []
        for k in range(2):
            h = h0[k]
            outs = []
            for t in range(6):
                h = step(_layer_params(params, k), seq[t], h)
                outs.append(h)
            seq = np.stack(outs)
            finals.append(h)
        out, hn = layer.apply(params, x, h0)
        np.testing.assert_allclose(out, seq, rtol=1e-13, atol=1e-13)
        np.testing.assert_allclose(hn, np.stack(finals), rtol=1e-13, atol=1e-13)
        bf = cls(3, 4, num_layers=2, batch_first=True)
        out_bf, _ = bf.apply(params, np.swapaxes(x, 0, 1), h0)
        np.testing.assert_allclose(out_bf, np.swapaxes(seq, 0, 1), rtol=1e-13, atol=1e-13)
    lstm = nn.LSTM(3, 4)
    params = lstm.init(random.key(4))
    h, c = np.zeros((2, 4)), np.zeros((2, 4))
    outs = []
    for t in range(6):
        h, c = lstm_cell_ref(_layer_params(params, 0), x[t], h, c)
        outs.append(h)
    out, (hn, cn) = lstm.apply(params, x)
    np.testing.assert_allclose(out, np.stack(outs), rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(hn[0], h, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(cn[0], c, rtol=1e-13, atol=1e-13)
    out_u, (hn_u, _) = lstm.apply(params, x[:, 0])
    np.testing.assert_allclose(out_u, np.stack(outs)[:, 0], rtol=1e-13, atol=1e-13)
    assert hn_u.shape == (1, 4)
    check_grads(lambda p, v: lstm.apply(p, v)[0], (params, x[:3, :1]), order=2)


def test_recurrent_errors():
    with pytest.raises(ValueError, match="expected input"):
        nn.GRU(3, 4).apply(nn.GRU(3, 4).init(random.key(0)), np.ones((5, 2, 2)))
    lstm = nn.LSTM(3, 4)
    with pytest.raises(ValueError, match="pair"):
        lstm.apply(lstm.init(random.key(0)), np.ones((5, 2, 3)), np.zeros((1, 2, 4)))
    with pytest.raises(ValueError, match="initial state of shape"):
        nn.RNN(3, 4).apply(nn.RNN(3, 4).init(random.key(0)), np.ones((5, 2, 3)),
                           np.zeros((1, 3, 4)))


# --- attention ------------------------------------------------------------------------------------
def mha_ref(p, q, k, v, heads, mask=None):
    """PyTorch's multi-head attention for batch-first inputs (N, L, E)."""
    e = q.shape[-1]
    w, b = p["in_proj_weight"], p["in_proj_bias"]
    proj = [a @ w[i * e:(i + 1) * e].T + b[i * e:(i + 1) * e] for i, a in enumerate((q, k, v))]
    n, lq, _ = q.shape
    split = [a.reshape(n, a.shape[1], heads, e // heads).transpose(0, 2, 1, 3) for a in proj]
    scores = split[0] @ split[1].transpose(0, 1, 3, 2) / math.sqrt(e // heads)
    if mask is not None:
        scores = np.where(mask, -np.inf, scores)
    scores = scores - scores.max(-1, keepdims=True)
    weights = np.exp(scores) / np.exp(scores).sum(-1, keepdims=True)
    out = (weights @ split[2]).transpose(0, 2, 1, 3).reshape(n, lq, e)
    return out @ p["out_proj"]["weight"].T + p["out_proj"]["bias"], weights.mean(1)


def test_multi_head_attention_matches_formula():
    mha = nn.MultiHeadAttention(8, 2, batch_first=True)
    params = mha.init(random.key(5))
    assert params["in_proj_weight"].shape == (24, 8)
    np.testing.assert_array_equal(params["in_proj_bias"], np.zeros(24))
    params = ft.tree.map(lambda a: a + 0.1 * rng(24).normal(size=a.shape), params)
    q = rng(25).normal(size=(2, 3, 8))
    kv = rng(26).normal(size=(2, 5, 8))
    out, w = mha.apply(params, q, kv, kv)
    ref_out, ref_w = mha_ref(params, q, kv, kv, 2)
    np.testing.assert_allclose(out, ref_out, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(w, ref_w, rtol=1e-12, atol=1e-14)
    causal = np.triu(np.ones((3, 3), bool), k=1)
    out_c, _ = mha.apply(params, q, attn_mask=causal)
    np.testing.assert_allclose(out_c, mha_ref(params, q, q, q, 2, causal)[0], rtol=1e-12,
                               atol=1e-14)
    pad = np.array([[False] * 4 + [True], [False] * 5])
    out_p, w_p = mha.apply(params, q, kv, kv, key_padding_mask=pad)
    np.testing.assert_allclose(out_p, mha_ref(params, q, kv, kv, 2, pad[:, None, None, :])[0],
                               rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(w_p[0, :, 4], 0.0)
    seq_first = nn.MultiHeadAttention(8, 2)
    out_s, _ = seq_first.apply(params, np.swapaxes(q, 0, 1), np.swapaxes(kv, 0, 1))
    np.testing.assert_allclose(out_s, np.swapaxes(ref_out, 0, 1), rtol=1e-12, atol=1e-14)
    out_u, w_u = mha.apply(params, q[0], kv[0], kv[0])
    np.testing.assert_allclose(out_u, ref_out[0], rtol=1e-12, atol=1e-14)
    assert w_u.shape == (3, 5)
    check_grads(lambda p, a: mha.apply(p, a)[0], (params, q[:1, :2]), order=2)
    with pytest.raises(ValueError, match="multiple of num_heads"):
        nn.MultiHeadAttention(6, 4)
    # In a Sequential it is self-attention, and the random key feeds its dropout.
    block = nn.Sequential(nn.MultiHeadAttention(8, 2, dropout=0.5, batch_first=True))
    bp = [params]
    np.testing.assert_allclose(block.apply(bp, q, train=False), mha.apply(params, q)[0],
                               rtol=1e-14)
    dropped = block.apply(bp, q, key=random.key(3))
    assert dropped.shape == q.shape and not np.allclose(dropped, mha.apply(params, q)[0])
    np.testing.assert_array_equal(dropped, block.apply(bp, q, key=random.key(3)))


def test_attention_query_with_every_key_masked_gives_zeros_and_finite_gradients():
    # The second sequence is all padding: its outputs must not be NaN, and neither may the
    # gradient of a loss on the first sequence alone (0 * NaN would reach every parameter).
    mha = nn.MultiHeadAttention(8, 2, batch_first=True)
    params = mha.init(random.key(5))
    x = rng(40).normal(size=(2, 4, 8))
    pad = np.array([[False, False, True, True], [True] * 4])
    out, w = mha.apply(params, x, key_padding_mask=pad)
    np.testing.assert_array_equal(w[1], 0.0)
    np.testing.assert_allclose(out[1], np.broadcast_to(params["out_proj"]["bias"], (4, 8)))
    np.testing.assert_allclose(out[0], mha_ref(params, x[:1], x[:1], x[:1], 2,
                                               pad[:1, None, None, :])[0][0],
                               rtol=1e-12, atol=1e-14)
    out_j = ft.jit(lambda p, a: mha.apply(p, a, key_padding_mask=pad)[0])(params, x)
    np.testing.assert_allclose(out_j, out, rtol=1e-14, atol=1e-15)

    def first(p):
        return (mha.apply(p, x, key_padding_mask=pad)[0][0] ** 2).sum()

    grads = ft.grad(first)(params)
    alone = ft.grad(lambda p: (mha.apply(p, x[:1], key_padding_mask=pad[:1])[0][0] ** 2)
                    .sum())(params)
    for g, ref in zip(ft.tree.leaves(grads), ft.tree.leaves(alone)):
        np.testing.assert_allclose(g, ref, rtol=1e-12, atol=1e-14)
    # A float mask of -inf over a whole row, and a causal boolean mask with a masked row.
    q = rng(41).normal(size=(1, 3, 4))
    row = np.zeros((3, 3))
    row[1] = -np.inf
    o, wf = nn.scaled_dot_product_attention(q, q, q, row)
    np.testing.assert_array_equal(wf[0, 1], 0.0)
    np.testing.assert_array_equal(o[0, 1], 0.0)
    assert np.isfinite(o).all()
    gq = ft.grad(lambda a: nn.scaled_dot_product_attention(a, a, a, row)[0].sum())(q)
    assert np.isfinite(gq).all()
    check_grads(lambda a: nn.scaled_dot_product_attention(a, a, a, row)[0], (q,), order=2)
    q32 = q.astype(np.float32)
    assert nn.scaled_dot_product_attention(q32, q32, q32, row != 0)[0].dtype == np.float32


def _dpa_ref(q, k, v, bias=None, mask=None, scale=None, causal=False, window=None,
             q_len=None, kv_len=None):
    """jax.nn.dot_product_attention's definition, one (batch, head, query) at a time: masked
    scores are -0.7 * the largest float32, query head n uses key head n // (N // K)."""
    b_, t_, n_, h_ = q.shape
    s_, k_ = k.shape[1], k.shape[2]
    scale = 1 / np.sqrt(h_) if scale is None else scale
    out = np.zeros(q.shape)
    for b in range(b_):
        for n in range(n_):
            kh = n // (n_ // k_)
            for t in range(t_):
                scores = scale * k[b, :, kh] @ q[b, t, n]
                if bias is not None:
                    scores = scores + np.broadcast_to(bias, (b_, n_, t_, s_))[b, n, t]
                ok = np.ones(s_, bool)
                if mask is not None:
                    ok &= np.broadcast_to(mask, (b_, n_, t_, s_))[b, n, t]
                if causal:
                    ok &= np.arange(s_) <= t
                if window is not None:
                    ok &= (t <= np.arange(s_) + window[0]) & (t >= np.arange(s_) - window[1])
                if kv_len is not None:
                    ok &= np.arange(s_) < kv_len[b]
                if q_len is not None and t >= q_len[b]:
                    ok[:] = False
                scores = np.where(ok, scores, -0.7 * np.finfo(np.float32).max)
                w = np.exp(scores - scores.max())
                out[b, t, n] = (w / w.sum()) @ v[b, :, kh]
                if q_len is not None and t >= q_len[b]:
                    out[b, t, n] = 0.0
    return out


def test_dot_product_attention_matches_jax_definition():
    g = rng(40)
    q, k, v = g.normal(size=(2, 4, 4, 3)), g.normal(size=(2, 5, 2, 3)), g.normal(size=(2, 5, 2, 3))
    bias = g.normal(size=(1, 4, 4, 5))
    mask = g.random((2, 1, 4, 5)) > 0.3
    mask[0, 0, 1] = False  # a query with every key masked: the uniform mean of the values
    lengths, kv_lengths = np.array([3, 4], np.int32), np.array([5, 2], np.int32)
    f = nn.dot_product_attention
    cases = [
        (lambda q, k, v: f(q, k, v), {}),
        (lambda q, k, v: f(q, k, v, bias, mask), {"bias": bias, "mask": mask}),
        (lambda q, k, v: f(q, k, v, is_causal=True, scale=0.7), {"causal": True, "scale": 0.7}),
        (lambda q, k, v: f(q, k, v, local_window_size=(1, 2)), {"window": (1, 2)}),
        (lambda q, k, v: f(q, k, v, query_seq_lengths=lengths, key_value_seq_lengths=kv_lengths),
         {"q_len": lengths, "kv_len": kv_lengths}),
    ]
    for fn, kwargs in cases:
        want = _dpa_ref(q, k, v, **kwargs)
        np.testing.assert_allclose(fn(q, k, v), want, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(ft.jit(fn)(q, k, v), want, rtol=1e-12, atol=1e-14)
        got32 = fn(*(a.astype(np.float32) for a in (q, k, v)))
        assert got32.dtype == np.float32
        np.testing.assert_allclose(got32, want, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(f(q, k, v, bias, mask)[0, 1, 0], v[0, :, 0].mean(0), rtol=1e-12)
    np.testing.assert_allclose(f(q[0], k[0], v[0], is_causal=True),
                               _dpa_ref(q[:1], k[:1], v[:1], causal=True)[0], rtol=1e-12)
    batched = ft.vmap(lambda q, k, v: f(q, k, v, is_causal=True))(q, k, v)
    # (a batched product rounds in another order: entries near 0 need the absolute part)
    np.testing.assert_allclose(batched, f(q, k, v, is_causal=True), rtol=1e-13, atol=1e-14)
    out, residual = f(q, k, v, is_causal=True, return_residual=True)
    assert residual.shape == (2, 4, 4)
    scores = np.einsum("btnh,bsnh->bnts", q, np.repeat(k, 2, axis=2)) / np.sqrt(3)
    scores = np.where(np.tril(np.ones((4, 5), bool)), scores, -np.inf)
    np.testing.assert_allclose(residual, np.log(np.exp(scores).sum(-1)).transpose(0, 2, 1),
                               rtol=1e-12)
    check_grads(lambda q, k, v: f(q, k, v, bias, mask[:1]), (q[:1], k[:1], v[:1]), order=2)


def test_dot_product_attention_errors_name_the_argument():
    q = k = v = np.ones((1, 2, 2, 3))
    f = nn.dot_product_attention
    with pytest.raises(TypeError, match=r"mask must be boolean .* mask.astype\(bool\), an "
                                        "additive float mask as bias="):
        f(q, k, v, mask=np.ones((1, 1, 2, 2)))
    with pytest.raises(ValueError, match=r"query heads \(3\) must be a multiple of the key/value "
                                         r"heads \(2\)"):
        f(np.ones((1, 2, 3, 3)), k, v)
    with pytest.raises(ValueError, match="value must have key's shape"):
        f(q, k, np.ones((1, 2, 2, 4)))
    with pytest.raises(ValueError, match=r"mask of shape \(2, 1, 2, 2\) does not broadcast to "
                                         r"\(B, N, T, S\) = \(1, 2, 2, 2\)"):
        f(q, k, v, mask=np.ones((2, 1, 2, 2), bool))
    with pytest.raises(ValueError, match="implementation 'cudnn' is not available"):
        f(q, k, v, implementation="cudnn")
    with pytest.raises(ValueError, match=r"local_window_size .* cannot be negative, got \(-2, -2\)"):
        f(q, k, v, local_window_size=-2)  # (it attended to every key)


def test_attention_refuses_integer_masks():
    # A 0/1 integer mask was added to the scores (+1 where masking was meant).
    mha = nn.MultiHeadAttention(4, 2)
    params = mha.init(random.key(0))
    x = np.ones((3, 2, 4))
    causal = np.triu(np.ones((3, 3), int), 1)
    with pytest.raises(TypeError, match=r"attn_mask must be boolean .* got dtype int64; for a "
                                        r"0/1 mask pass mask.astype\(bool\)"):
        mha.apply(params, x, attn_mask=causal)
    with pytest.raises(TypeError, match="key_padding_mask must be boolean"):
        mha.apply(params, x, key_padding_mask=np.zeros((2, 3), np.int32))
    with pytest.raises(TypeError, match="mask must be boolean"):
        nn.scaled_dot_product_attention(x, x, x, causal)
    out_bool = mha.apply(params, x, attn_mask=causal.astype(bool))[1]
    np.testing.assert_array_equal(out_bool[:, 0, 1:], 0.0)


def test_attention_masks_must_have_their_documented_shapes():
    # A (S, N) padding mask has the size of an (N, S) one: the reshape scrambled it silently.
    mha = nn.MultiHeadAttention(4, 2)
    params = mha.init(random.key(0))
    x = rng(80).normal(size=(3, 2, 4))  # (L, N, E)
    pad = np.array([[False, False, True], [False, True, True]])  # (N, S)
    with pytest.raises(ValueError, match=r"key_padding_mask must have shape \(2, 3\).*got \(3, 2\)"):
        mha.apply(params, x, key_padding_mask=pad.T)
    with pytest.raises(ValueError, match=r"key_padding_mask must have shape \(2, 3\)"):
        mha.apply(params, x, key_padding_mask=pad.reshape(-1))
    _, w = mha.apply(params, x, key_padding_mask=pad)
    np.testing.assert_array_equal(w[0, :, 2], 0.0)
    np.testing.assert_array_equal(w[1, :, 1:], 0.0)
    with pytest.raises(ValueError, match=r"attn_mask must have shape \(3, 3\).*\(4, 3, 3\)"):
        mha.apply(params, x, attn_mask=np.zeros((1, 3), bool))
    with pytest.raises(ValueError, match="attn_mask must have shape"):
        mha.apply(params, x, attn_mask=np.zeros((2, 3, 3), bool))
    per_head = np.zeros((4, 3, 3), bool)
    per_head[1, :, 0] = True  # batch 0, head 1 may not attend to key 0
    _, wh = mha.apply(params, x, attn_mask=per_head, average_attn_weights=False)
    np.testing.assert_array_equal(wh[0, 1, :, 0], 0.0)
    assert (wh[0, 0, :, 0] > 0).all() and (wh[1, :, :, 0] > 0).all()
    # Unbatched: (S,) padding and (heads, L, S) masks.
    out_u, w_u = mha.apply(params, x[:, 0], key_padding_mask=pad[0], attn_mask=per_head[:2])
    np.testing.assert_array_equal(w_u[:, 2], 0.0)
    assert out_u.shape == (3, 4)


# --- Sequential -----------------------------------------------------------------------------------
def test_attention_mixed_boolean_and_float_masks_keep_float32():
    # A boolean mask joined to a float32 one was turned into float64 -inf/0 and made the
    # whole float32 output float64.
    mha = nn.MultiHeadAttention(4, 2, batch_first=True, dtype=np.float32)
    params = mha.init(random.key(0))
    x = rng(81).normal(size=(2, 3, 4)).astype(np.float32)
    causal = np.triu(np.ones((3, 3), bool), 1)
    pad = np.array([[False, False, True], [False, False, False]])
    want, _ = mha.apply(params, x, attn_mask=causal, key_padding_mask=pad)
    for attn, kpm in ((np.where(causal, -np.inf, 0).astype(np.float32), pad),
                      (causal, np.where(pad, -np.inf, 0).astype(np.float32))):
        out, w = mha.apply(params, x, attn_mask=attn, key_padding_mask=kpm)
        assert out.dtype == np.float32 and w.dtype == np.float32
        np.testing.assert_array_equal(out, want)
        out_j = ft.jit(lambda p, a, m, k: mha.apply(p, a, attn_mask=m, key_padding_mask=k)[0])(
            params, x, attn, kpm)
        assert out_j.dtype == np.float32
        np.testing.assert_allclose(out_j, want, rtol=1e-6)


def test_attention_float64_mask_keeps_float32():
    # np.where(causal, -np.inf, 0.0) is float64: added to float32 scores it made the output,
    # the weights and every gradient float64.
    mha = nn.MultiHeadAttention(4, 2, dtype=np.float32)
    params = mha.init(random.key(0))
    x = rng(85).normal(size=(3, 2, 4)).astype(np.float32)
    causal = np.triu(np.ones((3, 3), bool), 1)
    out, w = mha.apply(params, x, attn_mask=np.where(causal, -np.inf, 0.0))
    assert out.dtype == np.float32 and w.dtype == np.float32
    np.testing.assert_array_equal(out, mha.apply(params, x, attn_mask=causal)[0])
    grads = ft.grad(lambda p: mha.apply(p, x, attn_mask=np.where(causal, -1e9, 0.0))[0].sum())(params)
    assert all(g.dtype == np.float32 for g in ft.tree.leaves(grads))
    o, _ = nn.scaled_dot_product_attention(x, x, x, np.zeros((3, 2, 2)))
    assert o.dtype == np.float32


def test_attention_refuses_key_and_value_of_other_shapes():
    # A key batch of 1 against a query batch of 2 broadcast silently (every query read the
    # same keys); other mismatches failed deep inside with NumPy's messages.
    mha = nn.MultiHeadAttention(4, 2, batch_first=True)
    params = mha.init(random.key(0))
    q = rng(82).normal(size=(2, 3, 4))
    with pytest.raises(ValueError, match=r"query and key must have the same batch size \(axis 0 "
                                         r"with batch_first=True\), got shapes \(2, 3, 4\) and "
                                         r"\(1, 5, 4\)"):
        mha.apply(params, q, q[:1, :1].repeat(5, 1))
    with pytest.raises(ValueError, match=r"key and value must have the same shape \(N, S, E\).*"
                                         r"\(2, 5, 4\) and \(2, 6, 4\)"):
        mha.apply(params, q, np.ones((2, 5, 4)), np.ones((2, 6, 4)))
    with pytest.raises(ValueError, match="all be batched"):
        mha.apply(params, q, np.ones((5, 4)))
    seq_first = nn.MultiHeadAttention(4, 2)
    with pytest.raises(ValueError, match=r"same batch size \(axis 1"):
        seq_first.apply(params, np.swapaxes(q, 0, 1), np.ones((5, 3, 4)))
    assert mha.apply(params, q, np.ones((2, 5, 4)))[1].shape == (2, 3, 5)  # S may differ from L


def test_nested_sequential_with_state_and_dropout_gets_the_key():
    # The inner Sequential (batch norm and dropout) was handed the state but not the key, so
    # training refused it for want of a key the caller had given.
    inner = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm(4), nn.Dropout(0.5))
    outer = nn.Sequential(inner, nn.Linear(4, 2))
    params, state = outer.init(random.key(0)), outer.init_state()
    x = rng(83).normal(size=(5, 3))
    y, new_state = outer.apply(params, x, state, key=random.key(1))
    h, inner_state = inner.apply(params[0], x, state[0], key=random.fold_in(random.key(1), 0))
    np.testing.assert_allclose(y, nn.Linear(4, 2).apply(params[1], h), rtol=1e-14)
    assert new_state[0][1].num_batches_tracked == 1
    np.testing.assert_array_equal(new_state[0][1].running_mean, inner_state[1].running_mean)
    y_eval, same = outer.apply(params, x, new_state, train=False)
    assert same[0][1] is new_state[0][1]
    assert not np.allclose(y_eval, y)


def test_recurrent_layers_in_a_sequential_pass_on_their_output_sequence():
    # GRU.apply's (output, carry) went to the next layer, which stacked the two arrays into one
    # (L = 1 gives them one shape) and computed on the pair without a word.
    model = nn.Sequential(nn.GRU(3, 4), nn.Linear(4, 2))
    params = model.init(random.key(0))
    x = rng(84).normal(size=(1, 5, 3))
    out, _ = nn.GRU(3, 4).apply(params[0], x)
    y = model.apply(params, x)
    assert y.shape == (1, 5, 2)
    np.testing.assert_allclose(y, nn.Linear(4, 2).apply(params[1], out), rtol=1e-14)
    lstm = nn.Sequential(nn.LSTM(3, 4, num_layers=2, dropout=0.5))
    lp = lstm.init(random.key(1))
    a, b = lstm.apply(lp, x, key=random.key(2)), lstm.apply(lp, x, train=False)
    assert a.shape == b.shape == (1, 5, 4) and not np.allclose(a, b)
    np.testing.assert_allclose(b, nn.LSTM(3, 4, num_layers=2).apply(lp[0], x)[0], rtol=1e-14)


def test_sequential_composes_layers_functions_state_and_keys():
    model = nn.Sequential(nn.Linear(4, 6), nn.BatchNorm(6), nn.relu, nn.Dropout(0.5),
                          nn.Linear(6, 2))
    assert model.stateful and model.stochastic
    params = model.init(random.key(0))
    state = model.init_state()
    assert len(params) == 5 and params[2] == {} and state[0] is None
    x = rng(27).normal(size=(8, 4))
    y, new_state = model.apply(params, x, state, key=random.key(1))
    assert y.shape == (8, 2) and new_state[1].num_batches_tracked == 1
    y_eval, _ = model.apply(params, x, new_state, train=False)
    h, _ = nn.BatchNorm(6).apply(params[1], nn.Linear(4, 6).apply(params[0], x), new_state[1],
                                 train=False)
    np.testing.assert_allclose(y_eval, nn.Linear(6, 2).apply(params[4], np.maximum(h, 0)),
                               rtol=1e-13)
    grads = ft.grad(lambda p: fnp.sum(model.apply(p, x, state, key=random.key(1))[0]))(params)
    assert ft.tree.structure(grads) == ft.tree.structure(params)
    plain = nn.Sequential(nn.Linear(4, 3), nn.tanh)
    assert not plain.stateful
    pp = plain.init(random.key(0))
    np.testing.assert_allclose(plain.apply(pp, x), np.tanh(x @ pp[0]["weight"].T + pp[0]["bias"]),
                               rtol=1e-14)
    with pytest.raises(ValueError, match="state=model.init_state"):
        model.apply(params, x)
    with pytest.raises(ValueError, match="params for 2 layers"):
        model.apply(params[:2], x, state)
    with pytest.raises(TypeError, match="neither a layer"):
        nn.Sequential(nn.Linear(2, 2), 3)


def test_docstring_examples_run():
    import doctest
    import importlib

    for name in ("functrans.nn", "functrans.nn._layer", "functrans.nn.activations",
                 "functrans.nn.attention", "functrans.nn.conv", "functrans.nn.dropout",
                 "functrans.nn.initializers", "functrans.nn.linear", "functrans.nn.losses",
                 "functrans.nn.norm", "functrans.nn.recurrent", "functrans.typing"):
        module = importlib.import_module(name)
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
        assert result.failed == 0 and result.attempted > 0, name


FLOAT32_LAYERS = [
    (nn.Linear(4, 3, dtype=np.float32), (2, 4)),
    (nn.Conv2d(2, 3, 3, padding="same", dtype=np.float32), (2, 2, 5, 5)),
    (nn.Conv1d(2, 3, 3, stride=2, dtype=np.float32), (2, 2, 7)),
    (nn.Sequential(nn.MaxPool2d(2), nn.AvgPool2d(2, 1, 1)), (1, 2, 6, 6)),
    (nn.LayerNorm(4, dtype=np.float32), (3, 4)),
    (nn.GRU(4, 3, dtype=np.float32), (5, 2, 4)),
    (nn.LSTM(4, 3, dtype=np.float32), (5, 2, 4)),
    (nn.RNN(4, 3, dtype=np.float32), (5, 2, 4)),
    (nn.MultiHeadAttention(4, 2, dtype=np.float32), (3, 2, 4)),
]


@pytest.mark.parametrize("layer,shape", FLOAT32_LAYERS,
                         ids=[type(layer).__name__ for layer, _ in FLOAT32_LAYERS])
def test_float32_layers_stay_float32(layer, shape):
    params = layer.init(random.key(0))
    x = rng(30).normal(size=shape).astype(np.float32)

    def loss(p, v):
        out = layer.apply(p, v)
        out = out[0] if isinstance(out, tuple) else out
        assert out.dtype == np.float32
        return fnp.sum(out * out)

    value, grads = ft.value_and_grad(loss, argnums=(0, 1))(params, x)
    assert value.dtype == np.float32
    assert all(g.dtype == np.float32 for g in ft.tree.leaves(grads))


def test_float32_losses_and_activations_stay_float32():
    z = rng(31).normal(size=(3, 4)).astype(np.float32)
    t = rng(32).uniform(size=(3, 4)).astype(np.float32)
    labels = np.array([1, 0, 2])
    for f in (lambda v: nn.cross_entropy(v, labels), lambda v: nn.cross_entropy(v, t, 0.1),
              lambda v: nn.mse(v, t), lambda v: nn.huber(v, t), lambda v: nn.l1(v, t),
              lambda v: nn.binary_cross_entropy_with_logits(v, t), nn.softmax, nn.gelu,
              nn.elu, nn.silu, nn.softplus, nn.log_softmax, nn.logsumexp, nn.hardtanh, nn.relu6,
              nn.hardsigmoid, nn.hardswish, nn.selu, nn.celu, nn.softsign, nn.mish, nn.glu):
        out = f(z)
        assert out.dtype == np.float32
        assert ft.grad(lambda v, f=f: fnp.sum(f(v)))(z).dtype == np.float32


# --- parameters of the wrong shape -----------------------------------------------------------------
_K = random.key(0)
_MHA = nn.MultiHeadAttention(4, 2)
_BAD_PARAMS = [
    (nn.LayerNorm(4), np.ones((2, 4)), (), "weight", (1,), (4,)),
    (nn.LayerNorm(4), np.ones((2, 4)), (), "bias", (2, 4), (4,)),
    (nn.LayerNorm((2, 3)), np.ones((2, 3)), (), "weight", (3,), (2, 3)),
    (nn.GroupNorm(2, 4), np.ones((2, 4, 3)), (), "bias", (2, 2), (4,)),
    (nn.BatchNorm(4), np.ones((3, 4)), (nn.BatchNorm(4).init_state(),), "weight", (1,), (4,)),
    (nn.Linear(3, 2), np.ones((5, 3)), (), "bias", (1,), (2,)),
    (nn.Linear(3, 2), np.ones((5, 3)), (), "bias", (5, 2), (2,)),
    (nn.Linear(3, 2), np.ones((5, 3)), (), "weight", (2, 3, 1), (2, 3)),
    (nn.Embedding(10, 4), np.array([1, 2]), (), "weight", (5, 4), (10, 4)),
    (nn.Conv1d(1, 2, 3), np.ones((1, 1, 5)), (), "bias", (1,), (2,)),
    (nn.ConvTranspose2d(1, 2, 3), np.ones((1, 1, 4, 4)), (), "bias", (1,), (2,)),
    (_MHA, np.ones((3, 2, 4)), (), "in_proj_bias", (1,), (12,)),
    (nn.LSTMCell(3, 4), np.ones((2, 3)), (), "bias_ih", (1,), (16,)),
    (nn.GRU(3, 4, num_layers=2), np.ones((5, 2, 3)), (), "bias_hh_l1", (1,), (12,)),
]


@pytest.mark.parametrize("layer, x, extra, name, bad, good", _BAD_PARAMS,
                         ids=[f"{type(c[0]).__name__}.{c[3]}{c[4]}" for c in _BAD_PARAMS])
def test_a_parameter_of_another_shape_is_refused_rather_than_broadcast(layer, x, extra, name, bad,
                                                                        good):
    # LayerNorm(4) with a weight of shape (1,) scaled every feature by it, without a word
    params = dict(layer.init(_K))
    params[name] = np.ones(bad)
    message = (f"{type(layer).__name__}: parameter '{name}' has shape {re_shape(bad)}, but this "
               f"layer's init\\(key\\) makes it {re_shape(good)}")
    with pytest.raises(ValueError, match=message):
        layer.apply(params, x, *extra)
    with pytest.raises(ValueError, match=message):
        ft.jit(lambda p: layer.apply(p, x, *extra))(params)


def re_shape(shape):
    return str(tuple(shape)).replace("(", r"\(").replace(")", r"\)")


def test_nested_and_state_entries_of_another_shape_are_refused():
    params = _MHA.init(_K)
    params["out_proj"] = dict(params["out_proj"], bias=np.ones(1))
    with pytest.raises(ValueError, match=r"MultiHeadAttention \(out_proj\): parameter 'bias' has "
                       r"shape \(1,\).*\(4,\)"):
        _MHA.apply(params, np.ones((3, 2, 4)))
    bn = nn.BatchNorm(4)
    state = bn.init_state()._replace(running_var=np.ones(1))
    with pytest.raises(ValueError, match=r"BatchNorm state: entry 'running_var' has shape \(1,\), "
                       r"but this layer's init_state\(\) makes it \(4,\)"):
        bn.apply(bn.init(_K), np.ones((3, 4)), state, train=False)


def test_parameters_of_the_right_shape_pass_under_vmap_over_an_ensemble():
    layer = nn.LayerNorm(4)
    params = {"weight": np.arange(8.0).reshape(2, 4), "bias": np.zeros((2, 4))}
    x = rng(3).normal(size=(5, 4))
    got = ft.vmap(layer.apply, in_axes=(0, None))(params, x)
    for i in range(2):
        np.testing.assert_allclose(got[i], layer.apply({"weight": params["weight"][i],
                                                        "bias": params["bias"][i]}, x))


@pytest.mark.parametrize("layer, x, missing", [
    (nn.Linear(3, 2), np.ones((4, 3)), "weight"),
    (nn.Embedding(5, 3), np.array([1, 2]), "weight"),
    (nn.Conv1d(2, 3, 3), np.ones((1, 2, 8)), "weight"),
    (nn.ConvTranspose1d(2, 3, 3), np.ones((1, 2, 8)), "weight"),
    (nn.GRUCell(3, 4), np.ones((2, 3)), "weight_ih"),
    (nn.LSTM(3, 4, num_layers=2, bidirectional=True), np.ones((5, 2, 3)), "weight_ih_l0"),
])
def test_a_missing_weight_is_named_with_what_the_params_hold(layer, x, missing):
    # it was a bare KeyError from deep inside apply
    params = {k: v for k, v in layer.init(random.key(0)).items() if "weight" not in k}
    with pytest.raises(errors.TreeStructureError, match=f"has no '{missing}' \\(it holds \\["):
        layer.apply(params, x)


def test_standardize_with_a_given_mean_follows_jax_algorithm():
    # jax.nn.standardize (JAX 0.10.2, x64) with a mean and no variance: the default
    # algorithm="fast" is mean(x**2) - mean**2 clipped at 0, "stable" mean((x - mean)**2)
    x = np.array([[0.5, -1.0, 2.0], [3.0, 0.25, -0.75]])
    np.testing.assert_allclose(nn.standardize(x, where=x > 0, mean=0.1),
                               [[0.27504502, -0.75637379, 1.30646382],
                                [1.36385518, 0.07054423, -0.39975066]], rtol=1e-7)
    np.testing.assert_allclose(nn.standardize(x, mean=0.1, algorithm="stable"),
                               [[0.31045928, -0.85376301, 1.47468156],
                                [1.66007894, 0.08586615, -0.48657486]], rtol=1e-7)
    # the second row's fast variance is negative: clipped to 0, leaving epsilon
    np.testing.assert_allclose(nn.standardize(x, mean=np.array([[1.0], [2.0]])),
                               [[-5.77346420e-01, -2.30938568e+00, 1.15469284e+00],
                                [3.16227766e+02, -5.53398591e+02, -8.69626357e+02]], rtol=1e-7)
    f = lambda x: (nn.standardize(x, mean=0.1) * np.arange(3.0)).sum()
    np.testing.assert_allclose(ft.grad(f)(x), [[-0.19605815, 1.15021216, 0.73195914],
                                               [0.27098427, 0.58174378, 1.05057744]], rtol=1e-7)
    np.testing.assert_allclose(ft.jit(ft.grad(f))(x), ft.grad(f)(x), rtol=1e-14)
    check_grads(lambda x: nn.standardize(x, mean=0.1), (x,), order=2, modes=("fwd", "rev"))
    assert nn.standardize(x.astype(np.float32), mean=0.1).dtype == np.float32
    # without a mean the algorithm changes nothing (both are the two-pass variance here)
    np.testing.assert_array_equal(nn.standardize(x, algorithm="fast"),
                                  nn.standardize(x, algorithm="stable"))
    with pytest.raises(ValueError, match="'fast' or 'stable'"):
        nn.standardize(x, algorithm="exact")


@pytest.mark.parametrize("call, jax_name, fix", [
    (lambda: nn.initializers.glorot_normal(), "glorot_normal",
     "variance_scaling(1.0, 'fan_avg', 'truncated_normal')"),
    (lambda: nn.initializers.he_uniform(), "he_uniform", "variance_scaling(2.0, 'fan_in', 'uniform')"),
    (lambda: nn.initializers.lecun_normal(), "lecun_normal",
     "variance_scaling(1.0, 'fan_in', 'truncated_normal')"),
    (lambda: nn.initializers.normal(stddev=0.02), "normal", "partial(nn.initializers.normal, std="),
    (lambda: nn.initializers.constant(0.5), "constant", "partial(nn.initializers.constant, value="),
])
def test_initializers_called_as_jax_factories_name_the_functrans_spelling(call, jax_name, fix):
    with pytest.raises(TypeError, match=rf"not a factory as jax.nn.initializers.{jax_name}\(") as info:
        call()
    assert fix in str(info.value)
    # called as they are meant to be, they still work
    assert nn.initializers.glorot_normal(random.key(0), (3, 4)).shape == (3, 4)
    assert nn.initializers.constant(None, (2,), value=0.5).tolist() == [0.5, 0.5]
