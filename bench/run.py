"""Benchmarks: functrans against the same computation written by hand in NumPy, as ratios.

Run with one BLAS thread, and without OPENBLAS_CORETYPE (which slows NumPy on some machines):

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=1 python bench/run.py

Each figure is the best of several repeats (the least disturbed run). Workloads:
W1 grad of a chain of scalar elementwise ops; W2 value_and_grad + SGD step of MLPs;
W3 Hessian-vector product (jvp of grad); W5 higher derivatives of scalar functions.
"""
from __future__ import annotations

import os
import sys
import timeit

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import functrans as ft  # noqa: E402
import functrans.numpy as fnp  # noqa: E402


def best_time(fn, number=None, repeat=7):
    """Seconds per call: the minimum over repeats of the mean over ``number`` calls."""
    timer = timeit.Timer(fn)
    if number is None:
        number, _ = timer.autorange()
    return min(timer.repeat(repeat=repeat, number=number)) / number


def report(name, ours, reference, unit_div=1.0, unit="ms", target=None):
    ratio = ours / reference
    flag = "" if target is None else ("  ok" if ratio <= target else f"  MISSES target {target}x")
    print(f"{name:<46} functrans {ours / unit_div:9.3f} {unit}   numpy {reference / unit_div:9.3f} {unit}"
          f"   ratio {ratio:5.2f}x{flag}")
    return ratio


# --- W1: chain of 100 scalar elementwise ops ------------------------------------------------
def w1():
    steps = 25  # each step: sin, mul, mul, add = 4 primitives -> 100 primitives

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
    assert np.allclose(ft.grad(f)(x), by_hand(x))
    g = ft.grad(f)
    ours = best_time(lambda: g(x))
    ref = best_time(lambda: by_hand(x))
    n_prims = 4 * steps
    print(f"W1 grad of a 100-primitive scalar chain: {ours / n_prims * 1e6:.2f} us per primitive "
          f"(hand-written NumPy forward+backward: {ref / n_prims * 1e6:.2f} us per primitive; target <= 6 us)")


# --- W2: MLP value_and_grad + SGD step -----------------------------------------------------------
def _mlp_params(sizes, dtype, rng):
    return [
        {"w": (rng.standard_normal((m, n)) / np.sqrt(m)).astype(dtype), "b": np.zeros(n, dtype)}
        for m, n in zip(sizes[:-1], sizes[1:])
    ]


def _loss(params, x, labels_onehot):
    h = x
    for layer in params[:-1]:
        h = fnp.tanh(h @ layer["w"] + layer["b"])
    logits = h @ params[-1]["w"] + params[-1]["b"]
    # The shift only keeps exp() in range; it cancels mathematically, so no derivative flows
    # through it (as in any log-softmax implementation).
    shifted = logits - fnp.max(ft.stop_gradient(logits), axis=1, keepdims=True)
    log_probs = shifted - fnp.log(fnp.sum(fnp.exp(shifted), axis=1, keepdims=True))
    return -fnp.sum(log_probs * labels_onehot) / x.shape[0]


def _sgd_step(params, x, y, lr=0.01):
    loss, grads = ft.value_and_grad(_loss)(params, x, y)
    return [{k: p[k] - lr * g[k] for k in p} for p, g in zip(params, grads)], loss


def _by_hand_step(params, x, y, lr=0.01):
    hs = [x]
    h = x
    for layer in params[:-1]:
        h = np.tanh(h @ layer["w"] + layer["b"])
        hs.append(h)
    logits = h @ params[-1]["w"] + params[-1]["b"]
    shifted = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    s = e.sum(axis=1, keepdims=True)
    log_probs = shifted - np.log(s)
    n = x.shape[0]
    loss = -np.sum(log_probs * y) / n
    d = (e / s - y) / n
    new = [None] * len(params)
    for i in reversed(range(len(params))):
        layer = params[i]
        gw = hs[i].T @ d
        gb = d.sum(axis=0)
        if i:
            d = (d @ layer["w"].T) * (1 - hs[i] ** 2)
        new[i] = {"w": layer["w"] - lr * gw, "b": layer["b"] - lr * gb}
    return new, loss


def w2(sizes, batch, dtype, target):
    rng = np.random.default_rng(0)
    params = _mlp_params(sizes, dtype, rng)
    x = rng.standard_normal((batch, sizes[0])).astype(dtype)
    y = np.eye(sizes[-1], dtype=dtype)[rng.integers(0, sizes[-1], batch)]
    ours_new, ours_loss = _sgd_step(params, x, y)
    ref_new, ref_loss = _by_hand_step(params, x, y)
    tol = 1e-4 if dtype == np.float32 else 1e-10
    assert np.allclose(ours_loss, ref_loss, rtol=tol)
    assert all(np.allclose(a["w"], b["w"], rtol=tol, atol=tol) for a, b in zip(ours_new, ref_new))
    assert ours_new[0]["w"].dtype == dtype
    ours = best_time(lambda: _sgd_step(params, x, y))
    ref = best_time(lambda: _by_hand_step(params, x, y))
    name = f"W2 MLP {'-'.join(map(str, sizes))} batch {batch} {np.dtype(dtype).name}"
    report(name, ours, ref, 1e-3, "ms", target)


# --- W3: Hessian-vector product by jvp of grad -----------------------------------------------------
def w3():
    n = 1000
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

    assert np.allclose(hvp(x, v), by_hand(x, v), rtol=1e-8, atol=1e-8)
    ours = best_time(lambda: hvp(x, v))
    ref = best_time(lambda: by_hand(x, v))
    report("W3 Hessian-vector product, n=1000", ours, ref, 1e-3, "ms", 1.5)


# --- W5: higher derivatives at a scalar -----------------------------------------------------------
def w5():
    d2 = ft.grad(ft.grad(lambda x: x**2 + 3 * x + 1))
    d4 = ft.grad(ft.grad(ft.grad(ft.grad(fnp.sin))))
    x = 0.7
    assert float(d2(x)) == 2.0
    assert np.isclose(float(d4(x)), np.sin(x))
    t2 = best_time(lambda: d2(x))
    t4 = best_time(lambda: d4(x))
    print(f"W5 grad(grad(x**2 + 3x + 1)): {t2 * 1e6:.1f} us per call (target <= 80 us); "
          f"grad^4(sin): {t4 * 1e6:.1f} us per call")


def main():
    print(f"numpy {np.__version__}; OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')}, "
          f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE')}")
    w1()
    w2((784, 512, 512, 10), 128, np.float64, 1.2)
    w2((784, 512, 512, 10), 128, np.float32, 1.2)
    w2((64, 128, 128, 10), 256, np.float64, 1.5)
    w3()
    w5()


if __name__ == "__main__":
    main()
