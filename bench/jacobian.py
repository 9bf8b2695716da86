"""W4: Jacobians, per-example gradients and checkpoint memory, against hand-written NumPy.

Run with one BLAS thread, and without OPENBLAS_CORETYPE (which slows NumPy on some machines):

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=1 python bench/jacobian.py

- the full Jacobian of x -> tanh(A @ x) * x on R^100 by jacrev and by jacfwd, against the
  closed form written in NumPy (target <= 6x);
- per-example gradients of a 64-128-10 MLP over a batch of 256 by vmap(grad), against one
  batched value_and_grad of the mean loss (target <= 3x);
- peak memory (tracemalloc) of grad of a 50-layer tanh MLP, plain and checkpointed.

Each result is checked against its reference before timing.

glibc's allocator may hand the memory of each freed 80 KB array back to the system and fault
it in again on the next allocation, which doubles the eager Jacobian times here depending on
what else the process has imported (numpy.testing is enough). For numbers that do not
depend on that, keep the heap: add ``MALLOC_TRIM_THRESHOLD_=268435456
MALLOC_TOP_PAD_=67108864`` to the command (both sides of every ratio run in the same process).
"""
from __future__ import annotations

import os
import sys
import tracemalloc

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import functrans as ft  # noqa: E402
import functrans.numpy as fnp  # noqa: E402
from run import best_time, report  # noqa: E402


# --- Jacobian of R^100 -> R^100 ---------------------------------------------------------------
def jacobians():
    rng = np.random.default_rng(0)
    n = 100
    A = rng.standard_normal((n, n)) / np.sqrt(n)
    x = rng.standard_normal(n)

    def f(x):
        return fnp.tanh(A @ x) * x

    def by_hand(x):
        t = np.tanh(A @ x)
        return (x * (1 - t * t))[:, None] * A + np.diag(t)

    expected = by_hand(x)
    for jac in (ft.jacrev, ft.jacfwd):
        np.testing.assert_allclose(jac(f)(x), expected, rtol=1e-12, atol=1e-14)
    reference = best_time(lambda: by_hand(x))
    rev = report("W4 jacrev, R^100 -> R^100", best_time(lambda: ft.jacrev(f)(x)), reference, 1e-3,
                 target=6)
    fwd = report("W4 jacfwd, R^100 -> R^100", best_time(lambda: ft.jacfwd(f)(x)), reference, 1e-3,
                 target=6)
    # The same Jacobians staged once by jit and replayed (what a loop over many points pays).
    jit_rev, jit_fwd = ft.jit(ft.jacrev(f)), ft.jit(ft.jacfwd(f))
    np.testing.assert_allclose(jit_rev(x), expected, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(jit_fwd(x), expected, rtol=1e-12, atol=1e-14)
    report("W4 jit(jacrev), R^100 -> R^100", best_time(lambda: jit_rev(x)), reference, 1e-3, target=6)
    report("W4 jit(jacfwd), R^100 -> R^100", best_time(lambda: jit_fwd(x)), reference, 1e-3, target=6)
    return rev, fwd


# --- per-example gradients of a 64-128-10 MLP ---------------------------------------------------
def per_example():
    rng = np.random.default_rng(1)
    params = {"w1": rng.standard_normal((64, 128)) * 0.1, "b1": np.zeros(128),
              "w2": rng.standard_normal((128, 10)) * 0.1, "b2": np.zeros(10)}
    xs = rng.standard_normal((256, 64))
    ys = np.eye(10)[rng.integers(0, 10, 256)]

    def loss(p, x, y):  # one example (x: (64,), y: one-hot (10,)), or a batch of them
        h = fnp.tanh(x @ p["w1"] + p["b1"])
        logits = h @ p["w2"] + p["b2"]
        m = fnp.max(logits, axis=-1, keepdims=True)
        log_z = fnp.log(fnp.sum(fnp.exp(logits - m), axis=-1)) + m[..., 0]
        return fnp.mean(log_z - fnp.sum(logits * y, axis=-1))

    per_ex = ft.vmap(ft.grad(loss), in_axes=(None, 0, 0))
    batched = ft.value_and_grad(loss)
    g_per = per_ex(params, xs, ys)
    _, g_mean = batched(params, xs, ys)
    for k in params:  # the mean of the per-example gradients is the batch gradient
        np.testing.assert_allclose(g_per[k].mean(axis=0), g_mean[k], rtol=1e-10, atol=1e-13)
    eager = report("per-example grads, MLP 64-128-10, batch 256", best_time(lambda: per_ex(params, xs, ys)),
                   best_time(lambda: batched(params, xs, ys)), 1e-3, target=3)
    jit_per_ex, jit_batched = ft.jit(per_ex), ft.jit(batched)
    report("jit: per-example grads vs batched grad", best_time(lambda: jit_per_ex(params, xs, ys)),
           best_time(lambda: jit_batched(params, xs, ys)), 1e-3, target=3)
    return eager


# --- checkpoint: peak memory of grad of a 50-layer tanh MLP ---------------------------------------
def checkpoint_memory(layers=50, width=256, batch=256, block=7):
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
    peaks = {}
    for name, fn in (("no checkpoint", plain), ("checkpoint every layer", every_layer),
                     (f"checkpoint blocks of {block} layers", blocks)):
        tracemalloc.start()
        g = ft.grad(fn)(ws)
        peaks[name] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        for a, b in zip(g, expected):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-14)
    mib = width * batch * 8 / 2 ** 20
    print(f"checkpoint: grad of a {layers}-layer tanh MLP (batch {batch}, width {width}; one "
          f"activation = {mib:.2f} MiB), peak traced memory:")
    for name, peak in peaks.items():
        print(f"  {name:<34} {peak / 2 ** 20:8.1f} MiB")
    return peaks


if __name__ == "__main__":
    jacobians()
    per_example()
    checkpoint_memory()
