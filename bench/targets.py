"""The performance target table in one command: W1-W5, the char-GRU training step, and jit
with a new Python float per call, eager and jit, each against its target (and JAX's jit
column when JAX is importable).

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/targets.py

(one BLAS thread; OPENBLAS_CORETYPE slows NumPy on some machines). The workloads are
bench/workloads.py's and bench/char_gru.py's; a ratio is a time over the same computation
written by hand in NumPy, timed in the same run. Two targets compare against another commit
(W1 eager and W5 eager: "<= 0.5x today's" and "<= 0.6x today's"): this table prints their
figures, and ``bench/compare.py OLD NEW`` gives the ratio. For W2 the last column times the
hand-written step's matrix products alone, back to back, and the share of the hand-written
step's own time that its products take, timed inside that step (where the elementwise work
between them has evicted their operands from the caches): a step that makes the same products
with NumPy's BLAS cannot have a lower ratio than that share. ``--quick`` is a smoke run.
The table runs with glibc's allocator pinned (``_harness.pin_allocator``: large arrays from the
heap, for functrans and the reference alike); ``FUNCTRANS_BENCH_ALLOCATOR=default`` keeps the
default, whose state depends on what ran before in the process.
"""
from __future__ import annotations  # noqa: I001 (_harness before functrans: it puts the tree to measure on sys.path)

import argparse
import itertools
import sys
import time
import timeit
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import _harness
import char_gru
import numpy as np
import workloads

import functrans as ft
import functrans.numpy as fnp

try:  # JAX's column, only where JAX is installed (never a dependency)
    import jax
    import jax.numpy as jnp
except ImportError:
    jax = jnp = None


@dataclass
class Target:
    """One line of the table: the figures of a workload and the bounds it is held to.

    ``eager_bound``/``jit_bound`` bound the ratio to the hand-written reference (``x``), or,
    when ``per`` is set, are text only (the bound is against another commit or JAX).
    ``floor`` runs the reference's matrix products alone: a step that makes the same products
    with NumPy's BLAS takes at least that long, so its ratio is the lowest any tree can reach."""

    name: str
    workload: _harness.Workload
    eager_bound: float | str | None
    jit_bound: float | str | None
    jax: Callable[[], object] | None = None
    unit: str = "x"  # "x": ratios to the reference; "us": microseconds per count
    count: int = 1
    floor: Callable[[], object] | None = None  # the reference's matrix products alone
    share: Callable[[int], float] | None = None  # their share of the reference, timed inside it


def _hvp_grad_of_grad(n: int) -> _harness.Workload:
    """W3's Hessian-vector product as grad of (grad . v), with the same by-hand reference."""
    base = workloads.w3_hessian_vector_product(n)
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n)) / np.sqrt(n)
    x, v = rng.standard_normal(n), rng.standard_normal(n)

    def f(x):
        return fnp.sum(fnp.tanh(a @ x)) ** 2

    hvp = ft.grad(lambda x, v: fnp.vdot(ft.grad(f)(x), v))
    jitted = ft.jit(hvp)
    expected = ft.jvp(ft.grad(f), (x,), (v,))[1]
    np.testing.assert_allclose(hvp(x, v), expected, rtol=1e-8, atol=1e-8)
    np.testing.assert_allclose(jitted(x, v), expected, rtol=1e-8, atol=1e-8)

    def by_hand():  # W3's closed form at the same point
        u = a @ x
        t = np.tanh(u)
        d = 1 - t * t
        av = a @ v
        return 2 * (a.T @ d) * (d @ av) + 2 * t.sum() * (a.T @ (-2 * t * d * av))

    np.testing.assert_allclose(by_hand(), expected, rtol=1e-8, atol=1e-8)
    del base
    return _harness.Workload(_harness.Row("W3 grad of grad"), lambda: hvp(x, v), lambda: jitted(x, v),
                             by_hand)


def _new_float_per_call(calls: int) -> _harness.Workload:
    """``jit(update)(params, lr)`` with a new Python float each call, against the same call
    with a NumPy scalar (the reference: never restaged); about 1x means no restaging."""

    def update(params, lr):
        return {k: p - lr * p for k, p in params.items()}

    params = {"w": np.ones((4, 4)), "b": np.ones(4)}
    jitted = ft.jit(update)
    rates = itertools.count()
    jitted(params, 1e-3)

    def python_float():
        for _ in range(calls):
            jitted(params, 1e-3 + next(rates) * 1e-9)

    def numpy_scalar():
        for _ in range(calls):
            jitted(params, np.float64(1e-3 + next(rates) * 1e-9))

    return _harness.Workload(_harness.Row("jit with a new Python float per call"), None, python_float,
                             numpy_scalar)


def _mlp_products(sizes, batch, dtype) -> Callable[[], object]:
    """The matrix products of ``workloads.mlp_sgd_step_by_hand`` alone, with its shapes and
    operand layouts: forward ``h @ w``, backward ``h.T @ d`` and ``d @ w.T``."""
    params, x, _ = workloads.mlp_data(sizes, batch, dtype)
    hs = [x] + [np.full((batch, n), 0.5, dtype) for n in sizes[1:-1]]
    ds = [np.full((batch, n), 0.5, dtype) for n in sizes[1:]]

    def products():
        for h, layer in zip(hs, params):
            h @ layer["w"]
        for i in reversed(range(len(params))):
            hs[i].T @ ds[i]
            if i:
                ds[i] @ params[i]["w"].T

    return products


def _mlp_product_share(sizes, batch, dtype) -> Callable[[int], float]:
    """A function of ``runs``: the median, over that many calls of the hand-written W2 step,
    of the fraction of each call's time spent in its matrix products (each product timed
    where the step makes it)."""
    params, x, y = workloads.mlp_data(sizes, batch, dtype)
    clock = time.perf_counter
    spent = [0.0]

    def timed_matmul(a, b):
        start = clock()
        product = a @ b
        spent[0] += clock() - start
        return product

    def share(runs: int) -> float:
        shares = []
        for _ in range(runs):
            spent[0] = 0.0
            start = clock()
            workloads.mlp_sgd_step_by_hand(params, x, y, matmul=timed_matmul)
            shares.append(spent[0] / (clock() - start))
        return float(np.median(shares))

    return share


def _jax_mlp(sizes, batch, dtype):  # pragma: no cover - only with JAX installed
    params, x, y = workloads.mlp_data(sizes, batch, dtype)

    def loss(params, x, y):
        h = x
        for layer in params[:-1]:
            h = jnp.tanh(h @ layer["w"] + layer["b"])
        logits = h @ params[-1]["w"] + params[-1]["b"]
        return -jnp.sum(jax.nn.log_softmax(logits) * y) / x.shape[0]

    @jax.jit
    def step(params, x, y):
        value, grads = jax.value_and_grad(loss)(params, x, y)
        return jax.tree_util.tree_map(lambda p, g: p - 0.01 * g, params, grads), value

    args = jax.device_put((params, x, y))
    return lambda: jax.block_until_ready(step(*args))


def targets(quick: bool) -> list[Target]:
    """The table's rows (smaller sizes with ``quick``)."""
    big = (128, 64, 64, 10) if quick else (784, 512, 512, 10)
    small = (64, 32, 32, 10) if quick else (64, 128, 128, 10)
    big_batch, small_batch = (32, 64) if quick else (128, 256)
    rows = [Target("W1 grad of 400 scalar ops, us per primitive", workloads.w1_scalar_chain(100),
                   "<= 0.5x old commit", "<= JAX jit", unit="us", count=400)]
    for sizes, batch, label, bounds in ((big, big_batch, "large", ((1.05, 0.9), (1.1, 0.85))),
                                        (small, small_batch, "small", ((1.3, 0.95), (1.5, 0.95)))):
        for dtype, (eager, jit) in zip((np.float64, np.float32), bounds):
            rows.append(Target(f"W2 MLP {label} {np.dtype(dtype).name}",
                               workloads.w2_mlp_step(sizes, batch, dtype), eager, jit,
                               jax=_jax_mlp(sizes, batch, dtype) if jax else None,
                               floor=_mlp_products(sizes, batch, dtype),
                               share=_mlp_product_share(sizes, batch, dtype)))
    n = 100 if quick else 1000
    rows.append(Target("W3 jvp of grad", workloads.w3_hessian_vector_product(n), 1.4, 1.0))
    rows.append(Target("W3 grad of grad", _hvp_grad_of_grad(n), 1.6, 1.1))
    for w in workloads.w4_jacobians(100):
        rows.append(Target(w.row.name.split(",")[0], w, 5.0, 2.0))
    rows.append(Target("W5 grad(grad(poly)), us per call", workloads.w5_higher_derivatives()[0],
                       "<= 0.6x old commit", "<= 0.5x JAX jit", unit="us"))
    rows.append(Target("char-GRU training step", char_gru.workload(), 1.5, 1.0))
    rows.append(Target("jit, new Python float per call (vs np.float64)", _new_float_per_call(50),
                       None, "no restaging (~1x)"))
    return rows


def _figure(t: Target, raw: float | None, reference: float | None) -> str:
    if raw is None:
        return ""
    if t.unit == "us":
        return f"{_harness.format_figure(raw / t.count * 1e6)} us"
    return f"{raw / reference:.2f}x" if reference else f"{raw * 1e3:.3f} ms"


def _verdict(t: Target, bound: float | str | None, raw: float | None, reference: float | None) -> str:
    if bound is None or raw is None:
        return ""
    if isinstance(bound, str):
        return bound
    ok = reference and raw / reference <= bound
    return f"<= {bound:g}x " + ("ok" if ok else "**misses**")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: small sizes, short runs")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per figure")
    args = parser.parse_args(argv)
    _harness.pin_allocator()
    print("\n".join(_harness.environment_lines()), flush=True)
    start = timeit.default_timer()
    header = ["workload", "eager", "eager target", "jit", "jit target", "reference",
              "its products alone", "its products in the step"]
    if jax is not None:
        header.append("JAX jit")
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    print("\n" + lines[0] + "\n" + lines[1], flush=True)
    for t in targets(args.quick):
        w = t.workload
        timed = (w.ours, w.jit, w.reference, t.floor, t.jax)
        times = iter(_harness.best_times([fn for fn in timed if fn is not None], args.repeat,
                                         quick=args.quick))
        eager, jit, reference, floor, jax_time = (next(times) if fn is not None else None
                                                  for fn in timed)
        ref_text = "" if reference is None else (
            f"{_harness.format_figure(reference / t.count * 1e6)} us" if t.unit == "us"
            else f"{reference * 1e3:.3f} ms")
        cells = [t.name, _figure(t, eager, reference), _verdict(t, t.eager_bound, eager, reference),
                 _figure(t, jit, reference), _verdict(t, t.jit_bound, jit, reference), ref_text,
                 _figure(t, floor, reference),
                 "" if t.share is None else f"{t.share(10 if args.quick else 50):.2f}x"]
        if jax is not None:
            cells.append(_figure(t, jax_time, reference))
        lines.append("| " + " | ".join(cells) + " |")
        print(lines[-1], flush=True)
    print(f"\n({timeit.default_timer() - start:.0f} s; W1/W5 eager targets: bench/compare.py OLD NEW)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
