"""A character-level GRU language model's training step: functrans (eager and jit) against the
same step written by hand in NumPy, forward and backward (backpropagation through time).

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/char_gru.py

(one BLAS thread; OPENBLAS_CORETYPE slows NumPy on some machines). The model: an embedding
65 -> 128, a one-layer GRU of 128 units (``nn.GRU``, PyTorch's gate formulas), a linear head
128 -> 65, sequence 32, batch 16, float32; a step is the gradient of the mean next-character
cross entropy and an SGD update. The hand-written step's gradient is checked against
functrans's before timing. Targets: eager <= 1.5x, jit <= 1.0x the hand-written step.
"""
from __future__ import annotations  # noqa: I001 (_harness before functrans: it puts the tree to measure on sys.path)

import sys
from collections.abc import Sequence

import _harness
import numpy as np

import functrans as ft
import functrans.numpy as fnp
from functrans import nn, random

VOCAB, HIDDEN, LENGTH, BATCH = 65, 128, 32, 16
RATE = 0.1
NAMES = ("embed", "weight_ih", "weight_hh", "bias_ih", "bias_hh", "head_w", "head_b")


# --- functrans -------------------------------------------------------------------------------
EMBED = nn.Embedding(VOCAB, HIDDEN, dtype=np.float32)
GRU = nn.GRU(HIDDEN, HIDDEN, dtype=np.float32)
HEAD = nn.Linear(HIDDEN, VOCAB, dtype=np.float32)


def init_params() -> dict:
    """The parameters as one flat dict of float32 arrays (PyTorch's shapes)."""
    k = random.split(random.key(0), 3)
    gru = GRU.init(k[1])
    head = HEAD.init(k[2])
    return {"embed": EMBED.init(k[0])["weight"],
            **{name: gru[f"{name}_l0"] for name in NAMES[1:5]},
            "head_w": head["weight"], "head_b": head["bias"]}


def loss(params: dict, ids, targets):
    """Mean cross entropy of the next characters; ``ids`` and ``targets`` are ``(L, N)``."""
    x = EMBED.apply({"weight": params["embed"]}, ids)
    hs, _ = GRU.apply({f"{name}_l0": params[name] for name in NAMES[1:5]}, x)
    logits = HEAD.apply({"weight": params["head_w"], "bias": params["head_b"]}, hs)
    return nn.cross_entropy(fnp.reshape(logits, (-1, VOCAB)), fnp.reshape(targets, (-1,)))


def step(params: dict, ids, targets):
    value, grads = ft.value_and_grad(loss)(params, ids, targets)
    return value, ft.tree.map(lambda p, g: p - RATE * g, params, grads)


# --- by hand ---------------------------------------------------------------------------------
def _sigmoid(x):
    return 0.5 * np.tanh(0.5 * x) + 0.5


def by_hand_grads(p: dict, ids, targets) -> tuple[float, dict]:
    """The loss and its gradient, forward and backward written out in NumPy."""
    length, batch = ids.shape
    size = HIDDEN
    x = p["embed"][ids]                                          # (L, N, H)
    # products in BLAS's fast layout: with one thread, a small (16, 128) @ (128, 384) is several
    # times slower when the right operand is a transposed view
    w_hh_t, b_hh = np.ascontiguousarray(p["weight_hh"].T), p["bias_hh"]
    xw = x @ np.ascontiguousarray(p["weight_ih"].T) + p["bias_ih"]  # (L, N, 3H)
    hs = np.empty((length + 1, batch, size), np.float32)         # hs[t]: state before step t
    hs[0] = 0
    hws = np.empty((length, batch, 3 * size), np.float32)
    rzs = np.empty((length, batch, 2 * size), np.float32)
    ns = np.empty((length, batch, size), np.float32)
    for t in range(length):
        hw = hs[t] @ w_hh_t + b_hh
        rz = _sigmoid(xw[t, :, :2 * size] + hw[:, :2 * size])
        r, z = rz[:, :size], rz[:, size:]
        n = np.tanh(xw[t, :, 2 * size:] + r * hw[:, 2 * size:])
        hs[t + 1] = n + z * (hs[t] - n)
        hws[t], rzs[t], ns[t] = hw, rz, n
    out = hs[1:].reshape(-1, size)
    logits = out @ p["head_w"].T + p["head_b"]
    shifted = logits - logits.max(axis=1, keepdims=True)
    exps = np.exp(shifted)
    total = exps.sum(axis=1, keepdims=True)
    rows, labels = np.arange(logits.shape[0]), targets.reshape(-1)
    value = float(np.mean(np.log(total[:, 0]) - shifted[rows, labels]))
    d_logits = exps / total
    d_logits[rows, labels] -= 1
    d_logits /= logits.shape[0]
    grads = {"head_w": d_logits.T @ out, "head_b": d_logits.sum(axis=0)}
    d_out = (d_logits @ p["head_w"]).reshape(length, batch, size)
    d_xw = np.empty_like(xw)
    d_hw = np.empty_like(hws)
    dh = np.zeros((batch, size), np.float32)
    w_hh = p["weight_hh"]
    for t in reversed(range(length)):
        dh += d_out[t]
        r, z = rzs[t, :, :size], rzs[t, :, size:]
        n, hn = ns[t], hws[t, :, 2 * size:]
        d_an = dh * (1 - z) * (1 - n * n)
        d_ar = d_an * hn * r * (1 - r)
        d_az = dh * (hs[t] - n) * z * (1 - z)
        d_xw[t, :, :size], d_xw[t, :, size:2 * size], d_xw[t, :, 2 * size:] = d_ar, d_az, d_an
        d_hw[t, :, :size], d_hw[t, :, size:2 * size], d_hw[t, :, 2 * size:] = d_ar, d_az, d_an * r
        dh = dh * z + d_hw[t] @ w_hh
    d_xw2, d_hw2 = d_xw.reshape(-1, 3 * size), d_hw.reshape(-1, 3 * size)
    grads["weight_hh"] = d_hw2.T @ hs[:-1].reshape(-1, size)
    grads["bias_hh"] = d_hw2.sum(axis=0)
    grads["weight_ih"] = d_xw2.T @ x.reshape(-1, size)
    grads["bias_ih"] = d_xw2.sum(axis=0)
    d_embed = np.zeros_like(p["embed"])
    np.add.at(d_embed, ids.reshape(-1), d_xw2 @ p["weight_ih"])
    grads["embed"] = d_embed
    return value, grads


def by_hand_step(params: dict, ids, targets):
    value, grads = by_hand_grads(params, ids, targets)
    return value, {name: params[name] - RATE * grads[name] for name in params}


def check(params: dict, ids, targets) -> None:
    """The hand-written gradient agrees with functrans's (float32: to 1e-4 relative)."""
    value, grads = ft.value_and_grad(loss)(params, ids, targets)
    mine, by_hand = by_hand_grads(params, ids, targets)
    assert abs(float(value) - mine) < 1e-5 * abs(mine), (float(value), mine)
    for name in params:
        scale = float(np.abs(by_hand[name]).max())
        np.testing.assert_allclose(grads[name], by_hand[name], rtol=1e-4, atol=1e-5 * scale,
                                   err_msg=name)


def workload() -> _harness.Workload:
    """The step: functrans eager, under jit, and the hand-written reference."""
    rng = np.random.default_rng(0)
    ids = rng.integers(0, VOCAB, size=(LENGTH, BATCH))
    targets = rng.integers(0, VOCAB, size=(LENGTH, BATCH))
    params = init_params()
    check(params, ids, targets)
    jitted = ft.jit(step)
    jitted(params, ids, targets)
    row = _harness.Row(f"char-GRU training step (L {LENGTH}, N {BATCH}, H {HIDDEN}, float32)",
                       target=1.5)
    return _harness.Workload(row, lambda: step(params, ids, targets),
                             lambda: jitted(params, ids, targets),
                             lambda: by_hand_step(params, ids, targets))


def collect(section: _harness.Section, options: _harness.Options) -> None:
    """Time the char-GRU step."""
    section.add(_harness.measure(workload(), options))


def main(argv: Sequence[str] | None = None) -> int:
    return _harness.main(collect, __file__, __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
