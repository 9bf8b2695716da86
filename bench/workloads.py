"""The benchmark workloads, each defined once: the function functrans transforms, the same
computation written by hand in NumPy, their inputs, and the check that both agree.

Each builder returns ``_harness.Workload``s (argument-free callables, checked and, for jit,
staged) that the benchmark modules time; the modules choose the sizes. The hand-written
steps use NumPy's functions and methods only, so they run on CuPy arrays too.
"""
from __future__ import annotations

import operator
from collections.abc import Callable

import numpy as np

import functrans as ft
import functrans.numpy as fnp
from functrans import nn, optim, random, tree

from _harness import Row, Workload

try:
    import optree
except ImportError:
    optree = None

Params = list[dict[str, np.ndarray]]


# --- W1: grad of a chain of scalar elementwise ops ------------------------------------------
def w1_scalar_chain(steps: int = 25) -> Workload:
    """W1: grad of ``steps`` rounds of sin, mul, mul, add on a scalar (4 primitives each),
    timed per primitive; the reference runs the forward pass and the backward pass by hand."""

    def f(x):
        for _ in range(steps):
            x = fnp.sin(x) * 1.01 + 0.1 * x
        return x

    def by_hand(x):
        xs = []
        for _ in range(steps):
            xs.append(x)
            x = np.sin(x) * 1.01 + 0.1 * x
        g = 1.0
        for x_i in reversed(xs):
            g = g * (np.cos(x_i) * 1.01 + 0.1)
        return g

    x = np.float64(0.3)
    grad_f, jit_grad_f = ft.grad(f), ft.jit(ft.grad(f))
    expected = by_hand(x)
    assert np.allclose(grad_f(x), expected) and np.allclose(jit_grad_f(x), expected)
    n = 4 * steps
    row = Row(f"W1 grad, {n}-primitive scalar chain, per primitive", unit="us", count=n,
              limit=6.0)
    return Workload(row, lambda: grad_f(x), lambda: jit_grad_f(x), lambda: by_hand(x))


# --- W2: MLP value_and_grad + SGD step -------------------------------------------------------
def mlp_params(sizes: tuple[int, ...], dtype: type, rng: np.random.Generator) -> Params:
    """A tanh MLP's layers, ``[{"w": (m, n), "b": (n,)}, ...]``, scaled by 1/sqrt(fan-in)."""
    return [
        {"w": (rng.standard_normal((m, n)) / np.sqrt(m)).astype(dtype), "b": np.zeros(n, dtype)}
        for m, n in zip(sizes[:-1], sizes[1:])
    ]


def mlp_loss(params: Params, x, labels_onehot):
    """Mean softmax cross entropy of a tanh MLP on a batch ``x`` (or on one example)."""
    h = x
    for layer in params[:-1]:
        h = fnp.tanh(h @ layer["w"] + layer["b"])
    logits = h @ params[-1]["w"] + params[-1]["b"]
    # The shift only keeps exp() in range; it cancels mathematically, so no derivative flows
    # through it (as in any log-softmax implementation).
    shifted = logits - fnp.max(ft.stop_gradient(logits), axis=-1, keepdims=True)
    log_probs = shifted - fnp.log(fnp.sum(fnp.exp(shifted), axis=-1, keepdims=True))
    examples = x.size // x.shape[-1]
    return -fnp.sum(log_probs * labels_onehot) / examples


def mlp_sgd_step(params: Params, x, y, lr: float = 0.01):
    """W2 with functrans: value_and_grad of ``mlp_loss`` and one SGD step."""
    loss, grads = ft.value_and_grad(mlp_loss)(params, x, y)
    return [{k: p[k] - lr * g[k] for k in p} for p, g in zip(params, grads)], loss


def softmax_cross_entropy_by_hand(logits, labels_onehot):
    """Mean softmax cross entropy of a batch and its gradient with respect to the logits."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    s = e.sum(axis=1, keepdims=True)
    log_probs = shifted - np.log(s)
    n = logits.shape[0]
    return -np.sum(log_probs * labels_onehot) / n, (e / s - labels_onehot) / n


def mlp_sgd_step_by_hand(params: Params, x, y, lr: float = 0.01, matmul=operator.matmul):
    """W2 written by hand: forward, backward and the SGD step of ``mlp_sgd_step``.
    ``matmul`` makes every matrix product (bench/targets.py times them inside the step)."""
    hs = [x]
    h = x
    for layer in params[:-1]:
        h = np.tanh(matmul(h, layer["w"]) + layer["b"])
        hs.append(h)
    logits = matmul(h, params[-1]["w"]) + params[-1]["b"]
    loss, d = softmax_cross_entropy_by_hand(logits, y)
    new: list = [None] * len(params)
    for i in reversed(range(len(params))):
        layer = params[i]
        gw = matmul(hs[i].T, d)
        gb = d.sum(axis=0)
        if i:
            d = matmul(d, layer["w"].T) * (1 - hs[i] ** 2)
        new[i] = {"w": layer["w"] - lr * gw, "b": layer["b"] - lr * gb}
    return new, loss


def mlp_data(sizes: tuple[int, ...], batch: int, dtype: type, seed: int = 0):
    """Parameters, a batch of inputs and one-hot labels for ``mlp_loss``."""
    rng = np.random.default_rng(seed)
    params = mlp_params(sizes, dtype, rng)
    x = rng.standard_normal((batch, sizes[0])).astype(dtype)
    y = np.eye(sizes[-1], dtype=dtype)[rng.integers(0, sizes[-1], batch)]
    return params, x, y


def w2_mlp_step(sizes: tuple[int, ...], batch: int, dtype: type,
                target: float | None = None) -> Workload:
    """W2: one value_and_grad + SGD step of a tanh MLP with a softmax cross-entropy loss."""
    params, x, y = mlp_data(sizes, batch, dtype)
    jit_step = ft.jit(mlp_sgd_step)
    ref_new, ref_loss = mlp_sgd_step_by_hand(params, x, y)
    tol = 1e-4 if dtype == np.float32 else 1e-10
    for new, loss in (mlp_sgd_step(params, x, y), jit_step(params, x, y)):
        assert np.allclose(loss, ref_loss, rtol=tol)
        for a, b in zip(new, ref_new):
            assert np.allclose(a["w"], b["w"], rtol=tol, atol=tol)
        assert new[0]["w"].dtype == dtype
    name = f"W2 MLP {'-'.join(map(str, sizes))} batch {batch} {np.dtype(dtype).name}"
    return Workload(Row(name, target=target), lambda: mlp_sgd_step(params, x, y),
                    lambda: jit_step(params, x, y), lambda: mlp_sgd_step_by_hand(params, x, y))


# --- W3: Hessian-vector product by jvp of grad -----------------------------------------------
def w3_hessian_vector_product(n: int = 1000) -> Workload:
    """W3: the Hessian-vector product of sum(tanh(A x))**2 as jvp of grad."""
    rng = np.random.default_rng(0)
    A = rng.standard_normal((n, n)) / np.sqrt(n)
    x = rng.standard_normal(n)
    v = rng.standard_normal(n)

    def f(x):
        return fnp.sum(fnp.tanh(A @ x)) ** 2

    def hvp(x, v):
        return ft.jvp(ft.grad(f), (x,), (v,))[1]

    def by_hand(x, v):
        # f = s^2, s = sum(tanh(u)), u = A x. grad = 2 s A^T (1 - t^2).
        # H v = 2 A^T [ (1-t^2) (1-t^2)^T (A v) ] + 2 s A^T [ -2 t (1 - t^2) (A v) ]
        u = A @ x
        t = np.tanh(u)
        s = t.sum()
        d = 1 - t * t
        av = A @ v
        return 2 * (A.T @ d) * (d @ av) + 2 * s * (A.T @ (-2 * t * d * av))

    jit_hvp = ft.jit(hvp)
    expected = by_hand(x, v)
    assert np.allclose(hvp(x, v), expected, rtol=1e-8, atol=1e-8)
    assert np.allclose(jit_hvp(x, v), expected, rtol=1e-8, atol=1e-8)
    return Workload(Row(f"W3 Hessian-vector product, n={n}", target=1.5),
                    lambda: hvp(x, v), lambda: jit_hvp(x, v), lambda: by_hand(x, v))


# --- W4: Jacobians ---------------------------------------------------------------------------
def w4_jacobians(n: int = 100) -> list[Workload]:
    """W4: the full Jacobian of x -> tanh(A @ x) * x on R^n by jacrev and by jacfwd, against
    its closed form written in NumPy; jit stages each once and replays it (what a loop over
    many points pays)."""
    rng = np.random.default_rng(0)
    A = rng.standard_normal((n, n)) / np.sqrt(n)
    x = rng.standard_normal(n)

    def f(x):
        return fnp.tanh(A @ x) * x

    def by_hand(x):
        t = np.tanh(A @ x)
        return (x * (1 - t * t))[:, None] * A + np.diag(t)

    expected = by_hand(x)
    out = []
    for jac in (ft.jacrev, ft.jacfwd):
        eager, staged = jac(f), ft.jit(jac(f))
        np.testing.assert_allclose(eager(x), expected, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(staged(x), expected, rtol=1e-12, atol=1e-14)
        row = Row(f"W4 {jac.__name__}, R^{n} -> R^{n}", target=5)
        out.append(Workload(row, lambda e=eager: e(x), lambda s=staged: s(x), lambda: by_hand(x)))
    return out


# --- W5: higher derivatives at a scalar ------------------------------------------------------
def w5_higher_derivatives() -> list[Workload]:
    """W5: grad(grad(x**2 + 3x + 1)) and the fourth derivative of sin, at a Python float."""
    d2 = ft.grad(ft.grad(lambda x: x**2 + 3 * x + 1))
    d4 = ft.grad(ft.grad(ft.grad(ft.grad(fnp.sin))))
    jit_d2, jit_d4 = ft.jit(d2), ft.jit(d4)
    x = 0.7
    assert float(d2(x)) == 2.0 and float(jit_d2(x)) == 2.0
    assert np.isclose(float(d4(x)), np.sin(x)) and np.isclose(float(jit_d4(x)), np.sin(x))
    return [
        Workload(Row("W5 grad(grad(x**2 + 3x + 1))", unit="us", limit=80),
                 lambda: d2(x), lambda: jit_d2(x)),
        Workload(Row("W5 grad^4(sin)", unit="us"), lambda: d4(x), lambda: jit_d4(x)),
    ]


# --- per-example gradients -------------------------------------------------------------------
def per_example_gradients(sizes: tuple[int, ...] = (64, 128, 10), batch: int = 256
                          ) -> list[Workload]:
    """Per-example gradients of ``mlp_loss`` by vmap(grad), against one batched
    value_and_grad of the mean loss (eager, and both under jit)."""
    params, xs, ys = mlp_data(sizes, batch, np.float64, seed=1)
    per_ex = ft.vmap(ft.grad(mlp_loss), in_axes=(None, 0, 0))
    batched = ft.value_and_grad(mlp_loss)
    jit_per_ex, jit_batched = ft.jit(per_ex), ft.jit(batched)
    g_per = per_ex(params, xs, ys)
    _, g_mean = batched(params, xs, ys)
    for layer_per, layer_mean in zip(g_per, g_mean):
        for k in layer_mean:  # the mean of the per-example gradients is the batch gradient
            np.testing.assert_allclose(layer_per[k].mean(axis=0), layer_mean[k],
                                       rtol=1e-10, atol=1e-13)
    for layer_jit, layer_per in zip(jit_per_ex(params, xs, ys), g_per):
        for k in layer_per:
            np.testing.assert_allclose(layer_jit[k], layer_per[k], rtol=1e-12, atol=1e-15)
    name = f"per-example grads, MLP {'-'.join(map(str, sizes))}, batch {batch}"
    return [
        Workload(Row(name, reference_name="batched", target=3),
                 ours=lambda: per_ex(params, xs, ys), reference=lambda: batched(params, xs, ys)),
        Workload(Row(name + ", jit", reference_name="jit batched", target=3),
                 jit=lambda: jit_per_ex(params, xs, ys),
                 reference=lambda: jit_batched(params, xs, ys)),
    ]


# --- checkpoint: memory of grad of a deep tanh MLP -------------------------------------------
def checkpoint_variants(layers: int = 50, width: int = 256, batch: int = 256, block: int = 7
                        ) -> tuple[dict[str, Callable[[], object]], Callable[[object], None]]:
    """grad of sum(MLP(x)**2) over a ``layers``-deep tanh MLP, plain, with every layer
    checkpointed and with blocks of ``block`` layers checkpointed, as callables, and the check
    that a gradient they return equals the plain one."""
    rng = np.random.default_rng(2)
    ws = [rng.standard_normal((width, width)) / np.sqrt(width) for _ in range(layers)]
    x = rng.standard_normal((batch, width))

    def run(h, ws_):
        for w in ws_:
            h = fnp.tanh(h @ w)
        return h

    def plain(ws_):
        return fnp.sum(run(x, ws_) ** 2)

    def every_layer(ws_):
        h = x
        for w in ws_:
            h = ft.checkpoint(lambda h, w: fnp.tanh(h @ w))(h, w)
        return fnp.sum(h ** 2)

    def blocks(ws_):
        h = x
        for start in range(0, len(ws_), block):
            h = ft.checkpoint(run)(h, ws_[start:start + block])
        return fnp.sum(h ** 2)

    expected = ft.grad(plain)(ws)

    def check(grads) -> None:
        for a, b in zip(grads, expected):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-14)

    variants = {"no checkpoint": plain, "checkpoint every layer": every_layer,
                f"checkpoint blocks of {block} layers": blocks}
    return {name: (lambda fn=fn: ft.grad(fn)(ws)) for name, fn in variants.items()}, check


# --- a training step of the digits models (examples/): nn, optim, adam -----------------------
LR, B1, B2, EPS = 1e-3, 0.9, 0.999, 1e-8


class AdamByHand:
    """Adam over a list of arrays, PyTorch's formula."""

    def __init__(self, params: list[np.ndarray]) -> None:
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]
        self.t = 0

    def step(self, params: list[np.ndarray], grads: list[np.ndarray]) -> list[np.ndarray]:
        self.t += 1
        c1, c2 = 1 - B1**self.t, 1 - B2**self.t
        out = []
        for i, (p, g) in enumerate(zip(params, grads)):
            self.m[i] = B1 * self.m[i] + (1 - B1) * g
            self.v[i] = B2 * self.v[i] + (1 - B2) * (g * g)
            out.append(p - LR * (self.m[i] / c1) / (np.sqrt(self.v[i] / c2) + EPS))
        return out


def digits_mlp_by_hand(p, x, y):
    """Loss and gradients of nn.Linear(64, 128), relu, nn.Linear(128, 10) (weights (out, in))."""
    w1, b1, w2, b2 = p
    h_pre = x @ w1.T + b1
    h = np.maximum(h_pre, 0)
    logits = h @ w2.T + b2
    loss, d_logits = softmax_cross_entropy_by_hand(logits, y)
    d_w2 = d_logits.T @ h
    d_b2 = d_logits.sum(0)
    d_h = (d_logits @ w2) * (h_pre > 0)
    d_w1 = d_h.T @ x
    d_b1 = d_h.sum(0)
    return loss, [d_w1, d_b1, d_w2, d_b2]


def conv3x3_by_hand(x, w, b):
    """3x3 convolution, padding 1, stride 1: (N, C, H, W) -> (N, O, H, W); returns the
    output and the im2col matrix for the backward pass."""
    n, c, h, wd = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    windows = np.lib.stride_tricks.sliding_window_view(xp, (3, 3), axis=(2, 3))
    cols = windows.transpose(0, 2, 3, 1, 4, 5).reshape(n * h * wd, c * 9)
    out = cols @ w.reshape(len(w), -1).T + b
    return out.reshape(n, h, wd, -1).transpose(0, 3, 1, 2), cols


def conv3x3_backward_by_hand(d_out, cols, x_shape, w):
    """Gradients of ``conv3x3_by_hand`` with respect to its input, weights and bias."""
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


def pool2_by_hand(x):
    """2x2 max pooling; returns the output and the blocks for the backward pass."""
    n, c, h, w = x.shape
    blocks = x.reshape(n, c, h // 2, 2, w // 2, 2)
    return blocks.max(axis=(3, 5)), blocks


def pool2_backward_by_hand(d_out, blocks, out):
    """Gradient of ``pool2_by_hand``: ties share the gradient, as functrans does."""
    mask = blocks == out[:, :, :, None, :, None]
    share = mask / mask.sum(axis=(3, 5), keepdims=True)
    d = share * d_out[:, :, :, None, :, None]
    n, c, h2, _, w2, _ = blocks.shape
    return d.reshape(n, c, 2 * h2, 2 * w2)


def digits_cnn_by_hand(p, x, y):
    """Loss and gradients of the digits CNN of ``digits_cnn_step``."""
    c1, cols1 = conv3x3_by_hand(x, p[0], p[1])
    r1 = np.maximum(c1, 0)
    p1, blocks1 = pool2_by_hand(r1)
    c2, cols2 = conv3x3_by_hand(p1, p[2], p[3])
    r2 = np.maximum(c2, 0)
    p2, blocks2 = pool2_by_hand(r2)
    flat = p2.reshape(len(x), -1)
    h_pre = flat @ p[4].T + p[5]
    h = np.maximum(h_pre, 0)
    logits = h @ p[6].T + p[7]
    loss, d_logits = softmax_cross_entropy_by_hand(logits, y)
    d_w4, d_b4 = d_logits.T @ h, d_logits.sum(0)
    d_h = (d_logits @ p[6]) * (h_pre > 0)
    d_w3, d_b3 = d_h.T @ flat, d_h.sum(0)
    d_p2 = (d_h @ p[4]).reshape(p2.shape)
    d_r2 = pool2_backward_by_hand(d_p2, blocks2, p2) * (c2 > 0)
    d_p1, d_w2, d_b2 = conv3x3_backward_by_hand(d_r2, cols2, p1.shape, p[2])
    d_r1 = pool2_backward_by_hand(d_p1, blocks1, p1) * (c1 > 0)
    _, d_w1, d_b1 = conv3x3_backward_by_hand(d_r1, cols1, x.shape, p[0])
    return loss, [d_w1, d_b1, d_w2, d_b2, d_w3, d_b3, d_w4, d_b4]


def _train_step(name: str, model, layers: tuple[int, ...], x, by_hand, rtol: float,
                jit_rtol: float, target: float | None) -> Workload:
    """value_and_grad of nn.cross_entropy, adam.update and apply_updates, against the same
    step by hand (``by_hand(flat_params, x, onehot) -> (loss, grads)`` and ``AdamByHand``);
    ``layers`` are the indices of the model's layers with weights."""
    params = model.init(random.key(0))
    y = np.random.default_rng(0).integers(0, 10, size=len(x))
    onehot = np.eye(10)[y]
    opt = optim.adam(LR, B1, B2, EPS)
    vg = ft.value_and_grad(lambda p, x, y: nn.cross_entropy(model.apply(p, x), y))

    def step(params, state):
        loss, grads = vg(params, x, y)
        updates, state = opt.update(grads, state, params)
        return optim.apply_updates(params, updates), state, loss

    def flat(params):
        return [params[i][k] for i in layers for k in ("weight", "bias")]

    adam_by_hand = AdamByHand(flat(params))

    def step_by_hand(flat_params):
        loss, grads = by_hand(flat_params, x, onehot)
        return adam_by_hand.step(flat_params, grads), loss

    state = opt.init(params)
    jit_step = ft.jit(step)
    new_params, _, loss = step(params, state)
    new_flat, loss_by_hand = step_by_hand(flat(params))
    np.testing.assert_allclose(loss, loss_by_hand, rtol=1e-12)
    for a, b in zip(flat(new_params), new_flat):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=1e-12)
    jit_params, _, jit_loss = jit_step(params, state)
    np.testing.assert_allclose(jit_loss, loss, rtol=jit_rtol)
    for a, b in zip(flat(jit_params), flat(new_params)):
        np.testing.assert_allclose(a, b, rtol=jit_rtol)
    start = flat(params)
    return Workload(Row(name, target=target), lambda: step(params, state),
                    lambda: jit_step(params, state), lambda: step_by_hand(start))


def digits_mlp_step(batch: int) -> Workload:
    """A training step of the digits MLP: 64 -> 128 -> relu -> 10, on 8x8 images."""
    model = nn.Sequential(nn.Linear(64, 128), nn.relu, nn.Linear(128, 10))
    x = np.random.default_rng(0).normal(size=(batch, 64))
    return _train_step(f"digits MLP step (batch {batch})", model, (0, 2), x, digits_mlp_by_hand,
                       rtol=1e-10, jit_rtol=1e-14, target=1.3)


def digits_cnn_step(batch: int) -> Workload:
    """A training step of the digits CNN: conv 1->16, relu, pool, conv 16->32, relu, pool,
    128 -> 64 -> 10."""
    model = nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.relu, nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.relu, nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(128, 64), nn.relu, nn.Linear(64, 10))
    x = np.random.default_rng(0).normal(size=(batch, 1, 8, 8))
    return _train_step(f"digits CNN step (batch {batch})", model, (0, 3, 7, 9), x,
                       digits_cnn_by_hand, rtol=1e-9, jit_rtol=1e-12, target=None)


def clip_by_global_norm_step(dtype: type) -> Workload:
    """``optim.clip_by_global_norm(1.0)`` on the W2 large MLP's gradients (784-512-512-10, about
    670K entries) against the same clipping written by hand in NumPy (the norm of all leaves,
    then each leaf scaled): the overflow-safe norm's second pass must cost nothing on ordinary
    gradients, eagerly and under jit."""
    grads, _, _ = mlp_data((784, 512, 512, 10), 1, dtype)
    clip = optim.clip_by_global_norm(1.0)
    state = clip.init(grads)
    eager = lambda: clip.update(grads, state)[0]
    staged = ft.jit(lambda g: clip.update(g, state)[0])

    def by_hand():
        norm = np.sqrt(sum(float(np.sum(leaf * leaf)) for layer in grads for leaf in layer.values()))
        factor = min(1.0, 1.0 / norm)
        return [{k: leaf * leaf.dtype.type(factor) for k, leaf in layer.items()} for layer in grads]

    want = by_hand()
    for got in (eager(), staged(grads)):
        for a, b in zip(got, want):
            for k in a:
                assert a[k].dtype == dtype and np.allclose(a[k], b[k], rtol=1e-5)
    name = f"clip_by_global_norm of the W2 large gradients {np.dtype(dtype).name}"
    return Workload(Row(name), eager, lambda: staged(grads), by_hand)


# --- functrans.numpy on plain arrays ---------------------------------------------------------
NUMPY_CORE = ("add", "sum", "matmul", "einsum")


def numpy_calls(n: int, core_target: float | None) -> list[Workload]:
    """functrans.numpy's functions called on plain n x n arrays (no transformation) against
    NumPy's; ``core_target`` bounds the ratio of the functions in ``NUMPY_CORE``."""
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((n, n)), rng.standard_normal((n, n))
    cases = [
        ("add", lambda: fnp.add(a, b), lambda: np.add(a, b)),
        ("sum", lambda: fnp.sum(a), lambda: np.sum(a)),
        ("matmul", lambda: fnp.matmul(a, b), lambda: np.matmul(a, b)),
        ("einsum", lambda: fnp.einsum("ij,jk->ik", a, b), lambda: np.einsum("ij,jk->ik", a, b)),
        ("einsum(optimize)", lambda: fnp.einsum("ij,jk->ik", a, b, optimize=True),
         lambda: np.einsum("ij,jk->ik", a, b, optimize=True)),
        ("sin", lambda: fnp.sin(a), lambda: np.sin(a)),
        ("arctan2", lambda: fnp.arctan2(a, b), lambda: np.arctan2(a, b)),
        ("mean(axis=0)", lambda: fnp.mean(a, axis=0), lambda: np.mean(a, axis=0)),
        ("cumsum(axis=1)", lambda: fnp.cumsum(a, axis=1), lambda: np.cumsum(a, axis=1)),
        ("sort", lambda: fnp.sort(a), lambda: np.sort(a)),
        ("logsumexp", lambda: fnp.logsumexp(a), None),
        ("linalg.solve", lambda: fnp.linalg.solve(a + 10 * np.eye(n), b),
         lambda: np.linalg.solve(a + 10 * np.eye(n), b)),
        ("fft.fft", lambda: fnp.fft.fft(a), lambda: np.fft.fft(a)),
    ]
    out = []
    for name, ours, ref in cases:
        if ref is not None:
            assert np.allclose(ours(), ref())
        else:
            assert np.allclose(ours(), np.log(np.sum(np.exp(a))))
        target = core_target if name in NUMPY_CORE else None
        out.append(Workload(Row(f"{name}, {n}x{n}", unit="us", target=target, difference=True),
                            ours=ours, reference=ref))
    return out


# --- pytrees: functrans.tree against optree --------------------------------------------------
def parameter_trees(layers: int = 20) -> dict[str, object]:
    """Two params pytrees of 2 * ``layers`` leaves: a dict of layers and a list of layers."""
    rng = np.random.default_rng(0)

    def layer() -> dict[str, np.ndarray]:
        return {"w": rng.standard_normal((4, 4)), "b": rng.standard_normal(4)}

    return {
        f"dict of {layers} {{'w','b'}}": {f"layer{i}": layer() for i in range(layers)},
        f"list of {layers} {{'w','b'}}": [layer() for _ in range(layers)],
    }


def _first(p, g):
    # Cheap stand-in for an optimizer step, so that map's figure is mostly tree overhead.
    return p


def tree_operations(impl: str, params: object) -> dict[str, Callable[[], object]]:
    """flatten, unflatten, a round trip, a two-tree map and flatten with paths, by
    ``impl`` ("functrans" or "optree") on ``params``."""
    if impl == "functrans":
        grads = tree.map(lambda x: x, params)  # same structure, new containers
        leaves, treedef = tree.flatten(params)
        return {
            "flatten": lambda: tree.flatten(params),
            "unflatten": lambda: treedef.unflatten(leaves),
            "round trip": lambda: tree.flatten(params)[1].unflatten(leaves),
            "map(f, a, b)": lambda: tree.map(_first, params, grads),
            "with_path": lambda: tree.flatten_with_path(params),
        }
    grads = optree.tree_map(lambda x: x, params)
    leaves, spec = optree.tree_flatten(params)
    ours = tree.leaves(params)
    assert len(leaves) == len(ours) and all(a is b for a, b in zip(leaves, ours))
    return {
        "flatten": lambda: optree.tree_flatten(params),
        "unflatten": lambda: spec.unflatten(leaves),
        "round trip": lambda: optree.tree_flatten(params)[1].unflatten(leaves),
        "map(f, a, b)": lambda: optree.tree_map(_first, params, grads),
        "with_path": lambda: optree.tree_flatten_with_path(params),
    }


def tree_workloads(name: str, params: object) -> list[Workload]:
    """functrans.tree's operations on ``params`` against optree's (when it is installed)."""
    ours = tree_operations("functrans", params)
    theirs = tree_operations("optree", params) if optree is not None else {}
    return [Workload(Row(f"{op}, {name}", unit="us", reference_name="optree", difference=True),
                     ours=fn, reference=theirs.get(op)) for op, fn in ours.items()]
