"""The newer optimizers against NumPy transcriptions of their papers' algorithm boxes, written
from the papers and not from functrans's code: a few steps on fixed data, in float64, to 1e-12.

Each reference takes the parameters and the gradient function and returns the parameters
after every step; the optimizer runs on the same gradients."""
import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans import optim

STEPS = 6


def _problem():
    rng = np.random.default_rng(3)
    p0 = {"w": rng.normal(size=(3, 4)), "b": rng.normal(size=4)}
    target = {k: rng.normal(size=v.shape) for k, v in p0.items()}
    scale = {k: rng.uniform(0.5, 2.0, size=v.shape) for k, v in p0.items()}

    def grad(p, t):  # a different, parameter-dependent gradient at every step
        return {k: scale[k] * (p[k] - target[k]) * (1.0 + 0.2 * np.sin(t)) for k in p}

    return p0, grad


def _run(opt, p0, grad):
    params, state, out = p0, opt.init(p0), []
    for t in range(1, STEPS + 1):
        updates, state = opt.update(grad(params, t), state, params)
        params = optim.apply_updates(params, updates)
        out.append(params)
    return out


def _per_leaf(reference, p0, grad):
    """Run a single-array reference on each leaf (every algorithm here acts leaf by leaf)."""
    keys = sorted(p0)
    runs = {k: reference(p0[k], lambda x, t, k=k: grad({**p0, k: x}, t)[k]) for k in keys}
    return [{k: runs[k][i] for k in keys} for i in range(STEPS)]


# --- the papers' algorithms, one array at a time -------------------------------------------------
def adamax_paper(x, grad, alpha=0.002, beta1=0.9, beta2=0.999):
    # Kingma & Ba 2015, Algorithm 2.
    m, u, out = np.zeros_like(x), np.zeros_like(x), []
    for t in range(1, STEPS + 1):
        g = grad(x, t)
        m = beta1 * m + (1 - beta1) * g
        u = np.maximum(beta2 * u, np.abs(g))
        x = x - (alpha / (1 - beta1**t)) * m / u
        out.append(x)
    return out


def nadam_paper(x, grad, alpha=0.002, mu=0.9, nu=0.999, eps=1e-8):
    # Dozat 2016, Algorithm 2 with a constant momentum schedule mu_t = mu.
    m, n, out = np.zeros_like(x), np.zeros_like(x), []
    for t in range(1, STEPS + 1):
        g = grad(x, t)
        g_hat = g / (1 - mu**t)
        m = mu * m + (1 - mu) * g
        m_hat = m / (1 - mu**(t + 1))
        n = nu * n + (1 - nu) * g * g
        n_hat = n / (1 - nu**t)
        m_bar = (1 - mu) * g_hat + mu * m_hat
        x = x - alpha * m_bar / (np.sqrt(n_hat) + eps)
        out.append(x)
    return out


def radam_paper(x, grad, alpha=0.01, beta1=0.9, beta2=0.8):
    # Liu et al. 2020, Algorithm 2 (threshold 4, no epsilon); beta2 = 0.8 so that both the
    # momentum steps (rho_t <= 4) and the rectified steps occur in six steps.
    m, v, out = np.zeros_like(x), np.zeros_like(x), []
    rho_inf = 2 / (1 - beta2) - 1
    for t in range(1, STEPS + 1):
        g = grad(x, t)
        v = beta2 * v + (1 - beta2) * g * g
        m = beta1 * m + (1 - beta1) * g
        m_hat = m / (1 - beta1**t)
        rho = rho_inf - 2 * t * beta2**t / (1 - beta2**t)
        if rho > 4:
            length = np.sqrt((1 - beta2**t) / v)
            r = np.sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))
            x = x - alpha * r * m_hat * length
        else:
            x = x - alpha * m_hat
        out.append(x)
    return out


def adabelief_paper(x, grad, alpha=0.01, beta1=0.9, beta2=0.999, eps=1e-8):
    # Zhuang et al. 2020, Algorithm 2 (bias-corrected, no AMSGrad, no weight decay).
    m, s, out = np.zeros_like(x), np.zeros_like(x), []
    for t in range(1, STEPS + 1):
        g = grad(x, t)
        m = beta1 * m + (1 - beta1) * g
        s = beta2 * s + (1 - beta2) * (g - m) ** 2 + eps
        m_hat = m / (1 - beta1**t)
        s_hat = s / (1 - beta2**t)
        x = x - alpha * m_hat / (np.sqrt(s_hat) + eps)
        out.append(x)
    return out


def lamb_paper(x, grad, eta=0.01, beta1=0.9, beta2=0.999, eps=1e-6, lam=0.1):
    # You et al. 2020, Algorithm 2 with phi the identity; one layer = one array.
    m, v, out = np.zeros_like(x), np.zeros_like(x), []
    for t in range(1, STEPS + 1):
        g = grad(x, t)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        m_hat = m / (1 - beta1**t)
        v_hat = v / (1 - beta2**t)
        r = m_hat / (np.sqrt(v_hat) + eps)
        step = r + lam * x
        x = x - eta * np.linalg.norm(x) / np.linalg.norm(step) * step
        out.append(x)
    return out


def adafactor_paper(x, grad, eps1=1e-30, eps2=1e-3, d=1.0):
    # Shazeer & Stern 2018, Algorithm 4 (matrices) and 5 (vectors), with the relative step
    # size rho_t = min(1e-2, 1/sqrt(t)), alpha_t = max(eps2, RMS(X_{t-1})) rho_t, the decay
    # beta2_t = 1 - t^-0.8 and update clipping d; beta1 = 0.
    def rms(a):
        return np.sqrt(np.mean(a * a))

    n, out = x.shape, []
    R = np.zeros(n[0]) if x.ndim == 2 else None
    C = np.zeros(n[1]) if x.ndim == 2 else None
    V = np.zeros_like(x)
    for t in range(1, STEPS + 1):
        alpha = max(eps2, rms(x)) * min(1e-2, 1 / np.sqrt(t))
        beta2 = 1 - t ** -0.8
        G = grad(x, t)
        if x.ndim == 2:
            ones_n, ones_m = np.ones(n[0]), np.ones(n[1])
            sq = G * G + eps1 * np.outer(ones_n, ones_m)
            R = beta2 * R + (1 - beta2) * sq @ ones_m
            C = beta2 * C + (1 - beta2) * ones_n @ sq
            V_hat = np.outer(R, C) / (ones_n @ R)
        else:
            V = beta2 * V + (1 - beta2) * (G * G + eps1)
            V_hat = V
        U = G / np.sqrt(V_hat)
        U_hat = U / max(1.0, rms(U) / d)
        x = x - alpha * U_hat
        out.append(x)
    return out


CASES = [
    ("adamax", lambda: optim.adamax(0.002, eps=0.0), adamax_paper),
    ("nadam", lambda: optim.nadam(0.002), nadam_paper),
    ("radam", lambda: optim.radam(0.01, b2=0.8, eps=0.0, threshold=4.0), radam_paper),
    ("adabelief", lambda: optim.adabelief(0.01, eps=1e-8, eps_root=1e-8), adabelief_paper),
    ("lamb", lambda: optim.lamb(0.01, weight_decay=0.1), lamb_paper),
    ("adafactor", lambda: optim.adafactor(min_dim_size_to_factor=1), adafactor_paper),
]


@pytest.mark.parametrize("name,make,paper", CASES, ids=[c[0] for c in CASES])
def test_update_matches_the_papers_algorithm(name, make, paper):
    p0, grad = _problem()
    got = _run(make(), p0, grad)
    want = _per_leaf(paper, p0, grad)
    for step, (g, w) in enumerate(zip(got, want)):
        for k in w:
            np.testing.assert_allclose(g[k], w[k], rtol=1e-12, atol=1e-12,
                                       err_msg=f"{name}, step {step + 1}, leaf {k}")


def test_radam_takes_both_branches_in_these_steps():
    rho_inf = 2 / (1 - 0.8) - 1
    rhos = [rho_inf - 2 * t * 0.8**t / (1 - 0.8**t) for t in range(1, STEPS + 1)]
    assert min(rhos) <= 4 < max(rhos)


def test_adafactor_unfactored_below_min_dim_and_state_is_sublinear():
    p = {"w": np.ones((6, 5)), "b": np.ones(5)}
    state = optim.adafactor(min_dim_size_to_factor=4).init(p)
    assert state.v_row["w"].shape == (6,) and state.v_col["w"].shape == (5,)
    assert state.v["w"].shape == (1,) and state.v["b"].shape == (5,)
    state = optim.adafactor().init(p)  # 128 by default: too small to factor
    assert state.v["w"].shape == (6, 5)


def test_float32_stays_float32():
    p = {"w": np.ones((3, 4), np.float32), "b": np.ones(4, np.float32)}
    g = {k: np.full_like(v, 0.5) for k, v in p.items()}
    for _, make, _ in CASES:
        opt = make()
        updates, _ = opt.update(g, opt.init(p), p)
        assert all(u.dtype == np.float32 for u in updates.values())


@pytest.mark.parametrize("name,make,paper", CASES, ids=[c[0] for c in CASES])
def test_staged_and_eager_steps_agree(name, make, paper):
    """A jit-compiled training step with the count as an input (radam's branch is a where)."""
    p0, grad = _problem()
    opt = make()

    @ft.jit
    def step(params, state, grads):
        updates, state = opt.update(grads, state, params)
        return optim.apply_updates(params, updates), state

    params, state = p0, opt.init(p0)
    want = _run(opt, p0, grad)
    for t in range(1, STEPS + 1):
        params, state = step(params, state, grad(params, t))
        for k in params:
            np.testing.assert_allclose(params[k], want[t - 1][k], rtol=1e-12, atol=1e-14)


def test_loss_decreases_under_grad():
    def loss(p):
        return fnp.sum((p["w"] - 1.0) ** 2) + fnp.sum(p["b"] ** 2)

    for _, make, _ in CASES:
        opt = make()
        p = {"w": np.zeros((3, 4)), "b": np.ones(4)}
        state = opt.init(p)
        start = loss(p)
        for _ in range(20):
            updates, state = opt.update(ft.grad(loss)(p), state, p)
            p = optim.apply_updates(p, updates)
        assert loss(p) < start
