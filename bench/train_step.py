"""One training step of the digits MLP and of the digits CNN (examples/): functrans against
the same step written by hand in NumPy (forward, backward and Adam), as a ratio.

Run with one BLAS thread (set here too, before NumPy is imported):

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=1 python bench/train_step.py

Both sides start from the same parameters and data (random digits-shaped batches: 8x8 images,
10 classes); before timing, one step of each is checked to give the same loss and the same
new parameters. A step is ``value_and_grad`` of the cross-entropy loss, ``adam.update`` and
``apply_updates``, run eagerly and under ``functrans.jit`` (staged once, replayed). Each figure
is the best of several repeats. Target for the MLP: <= 1.3x.
"""
from __future__ import annotations

import os
import sys
import timeit

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import functrans as ft  # noqa: E402
from functrans import nn, optim, random  # noqa: E402

LR, B1, B2, EPS = 1e-3, 0.9, 0.999, 1e-8


def best_time(fn, repeat: int = 7) -> float:
    """Seconds per call: the minimum over repeats of the mean over an automatic count."""
    timer = timeit.Timer(fn)
    number, _ = timer.autorange()
    return min(timer.repeat(repeat=repeat, number=number)) / number


# --- hand-written NumPy pieces -----------------------------------------------------------------
def np_cross_entropy(logits, y):
    """Mean cross entropy and its gradient with respect to the logits."""
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    s = e.sum(axis=1, keepdims=True)
    n = len(y)
    loss = (np.log(s[:, 0]) - z[np.arange(n), y]).mean()
    d = e / s
    d[np.arange(n), y] -= 1.0
    return loss, d / n


class NumpyAdam:
    """Adam over a list of arrays, PyTorch's formula."""

    def __init__(self, params):
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]
        self.t = 0

    def step(self, params, grads):
        self.t += 1
        c1, c2 = 1 - B1**self.t, 1 - B2**self.t
        out = []
        for i, (p, g) in enumerate(zip(params, grads)):
            self.m[i] = B1 * self.m[i] + (1 - B1) * g
            self.v[i] = B2 * self.v[i] + (1 - B2) * (g * g)
            out.append(p - LR * (self.m[i] / c1) / (np.sqrt(self.v[i] / c2) + EPS))
        return out


# --- MLP: 64 -> 128 -> relu -> 10 --------------------------------------------------------------
def np_mlp_loss_and_grads(w1, b1, w2, b2, x, y):
    h_pre = x @ w1.T + b1
    h = np.maximum(h_pre, 0)
    logits = h @ w2.T + b2
    loss, d_logits = np_cross_entropy(logits, y)
    d_w2 = d_logits.T @ h
    d_b2 = d_logits.sum(0)
    d_h = (d_logits @ w2) * (h_pre > 0)
    d_w1 = d_h.T @ x
    d_b1 = d_h.sum(0)
    return loss, [d_w1, d_b1, d_w2, d_b2]


def bench_mlp(batch: int) -> float:
    model = nn.Sequential(nn.Linear(64, 128), nn.relu, nn.Linear(128, 10))
    params = model.init(random.key(0))
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(batch, 64)), rng.integers(0, 10, size=batch)
    opt = optim.adam(LR, B1, B2, EPS)
    vg = ft.value_and_grad(lambda p, x, y: nn.cross_entropy(model.apply(p, x), y))

    def ft_step(params, state):
        loss, grads = vg(params, x, y)
        updates, state = opt.update(grads, state, params)
        return optim.apply_updates(params, updates), state, loss

    flat = [params[0]["weight"], params[0]["bias"], params[2]["weight"], params[2]["bias"]]
    np_opt = NumpyAdam(flat)

    def np_step(flat):
        loss, grads = np_mlp_loss_and_grads(*flat, x, y)
        return np_opt.step(flat, grads), loss

    new_params, _, loss = ft_step(params, opt.init(params))
    new_flat, np_loss = np_step(flat)
    np.testing.assert_allclose(loss, np_loss, rtol=1e-12)
    np.testing.assert_allclose(new_params[0]["weight"], new_flat[0], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(new_params[2]["bias"], new_flat[3], rtol=1e-10, atol=1e-12)

    state = opt.init(params)
    jit_step = ft.jit(ft_step)
    jit_params, _, jit_loss = jit_step(params, state)
    np.testing.assert_allclose(jit_loss, loss, rtol=1e-14)
    np.testing.assert_allclose(jit_params[0]["weight"], new_params[0]["weight"], rtol=1e-14)
    t_ft = best_time(lambda: ft_step(params, state))
    t_jit = best_time(lambda: jit_step(params, state))
    t_np = best_time(lambda: np_step(flat))
    report(f"digits MLP step (batch {batch}), jit", t_jit, t_np, target=1.3)
    return report(f"digits MLP step (batch {batch})", t_ft, t_np, target=1.3)


# --- CNN: conv 1->16, relu, pool, conv 16->32, relu, pool, 128 -> 64 -> 10 ------------------------
def np_conv3x3(x, w, b):
    """3x3 convolution, padding 1, stride 1: (N, C, H, W) -> (N, O, H, W); returns the
    output and the im2col matrix for the backward pass."""
    n, c, h, wd = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    windows = np.lib.stride_tricks.sliding_window_view(xp, (3, 3), axis=(2, 3))
    cols = windows.transpose(0, 2, 3, 1, 4, 5).reshape(n * h * wd, c * 9)
    out = cols @ w.reshape(len(w), -1).T + b
    return out.reshape(n, h, wd, -1).transpose(0, 3, 1, 2), cols


def np_conv3x3_backward(d_out, cols, x_shape, w):
    n, c, h, wd = x_shape
    o = len(w)
    d_flat = d_out.transpose(0, 2, 3, 1).reshape(-1, o)
    d_w = (d_flat.T @ cols).reshape(w.shape)
    d_b = d_flat.sum(0)
    d_cols = (d_flat @ w.reshape(o, -1)).reshape(n, h, wd, c, 3, 3)
    d_xp = np.zeros((n, c, h + 2, wd + 2))
    for i in range(3):
        for j in range(3):
            d_xp[:, :, i:i + h, j:j + wd] += d_cols[:, :, :, :, i, j].transpose(0, 3, 1, 2)
    return d_xp[:, :, 1:-1, 1:-1], d_w, d_b


def np_pool2(x):
    n, c, h, w = x.shape
    blocks = x.reshape(n, c, h // 2, 2, w // 2, 2)
    out = blocks.max(axis=(3, 5))
    return out, blocks


def np_pool2_backward(d_out, blocks, out):
    mask = blocks == out[:, :, :, None, :, None]
    share = mask / mask.sum(axis=(3, 5), keepdims=True)  # ties share, as functrans does
    d = share * d_out[:, :, :, None, :, None]
    n, c, h2, _, w2, _ = blocks.shape
    return d.reshape(n, c, 2 * h2, 2 * w2)


def np_cnn_loss_and_grads(p, x, y):
    c1, cols1 = np_conv3x3(x, p[0], p[1])
    r1 = np.maximum(c1, 0)
    p1, blocks1 = np_pool2(r1)
    c2, cols2 = np_conv3x3(p1, p[2], p[3])
    r2 = np.maximum(c2, 0)
    p2, blocks2 = np_pool2(r2)
    flat = p2.reshape(len(x), -1)
    h_pre = flat @ p[4].T + p[5]
    h = np.maximum(h_pre, 0)
    logits = h @ p[6].T + p[7]
    loss, d_logits = np_cross_entropy(logits, y)
    d_w4, d_b4 = d_logits.T @ h, d_logits.sum(0)
    d_h = (d_logits @ p[6]) * (h_pre > 0)
    d_w3, d_b3 = d_h.T @ flat, d_h.sum(0)
    d_p2 = (d_h @ p[4]).reshape(p2.shape)
    d_r2 = np_pool2_backward(d_p2, blocks2, p2) * (c2 > 0)
    d_p1, d_w2, d_b2 = np_conv3x3_backward(d_r2, cols2, p1.shape, p[2])
    d_r1 = np_pool2_backward(d_p1, blocks1, p1) * (c1 > 0)
    _, d_w1, d_b1 = np_conv3x3_backward(d_r1, cols1, x.shape, p[0])
    return loss, [d_w1, d_b1, d_w2, d_b2, d_w3, d_b3, d_w4, d_b4]


def bench_cnn(batch: int) -> float:
    model = nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.relu, nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.relu, nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(128, 64), nn.relu, nn.Linear(64, 10))
    params = model.init(random.key(0))
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(batch, 1, 8, 8)), rng.integers(0, 10, size=batch)
    opt = optim.adam(LR, B1, B2, EPS)
    vg = ft.value_and_grad(lambda p, x, y: nn.cross_entropy(model.apply(p, x), y))

    def ft_step(params, state):
        loss, grads = vg(params, x, y)
        updates, state = opt.update(grads, state, params)
        return optim.apply_updates(params, updates), state, loss

    flat = [params[i][k] for i in (0, 3, 7, 9) for k in ("weight", "bias")]
    np_opt = NumpyAdam(flat)

    def np_step(flat):
        loss, grads = np_cnn_loss_and_grads(flat, x, y)
        return np_opt.step(flat, grads), loss

    new_params, _, loss = ft_step(params, opt.init(params))
    new_flat, np_loss = np_step(flat)
    np.testing.assert_allclose(loss, np_loss, rtol=1e-12)
    ours = [new_params[i][k] for i in (0, 3, 7, 9) for k in ("weight", "bias")]
    for a, b in zip(ours, new_flat):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)

    state = opt.init(params)
    jit_step = ft.jit(ft_step)
    np.testing.assert_allclose(jit_step(params, state)[2], loss, rtol=1e-12)
    t_ft = best_time(lambda: ft_step(params, state))
    t_jit = best_time(lambda: jit_step(params, state))
    t_np = best_time(lambda: np_step(flat))
    report(f"digits CNN step (batch {batch}), jit", t_jit, t_np)
    return report(f"digits CNN step (batch {batch})", t_ft, t_np)


def report(name: str, ours: float, reference: float, target: float | None = None) -> float:
    ratio = ours / reference
    flag = "" if target is None else ("  ok" if ratio <= target else f"  misses target {target}x")
    print(f"{name:<32} functrans {ours * 1e3:8.3f} ms   numpy {reference * 1e3:8.3f} ms   "
          f"ratio {ratio:5.2f}x{flag}", flush=True)
    return ratio


def main() -> None:
    print(f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')}")
    for batch in (32, 128):
        bench_mlp(batch)
    for batch in (32, 128):
        bench_cnn(batch)


if __name__ == "__main__":
    main()
