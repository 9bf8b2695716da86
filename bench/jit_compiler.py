r"""jit's compiler passes, measured: the same workloads under jit with the passes off and on,
in one process, and what each pass does to the W2 program.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=1 \
        .venv/bin/python bench/jit_compiler.py [--repeat 5] [--quick]

"off" is the plan as recorded (dead code elimination and folding only); "on" adds
simplification, buffer reuse and, where the kernel extra is installed, fused kernels and weight
updates fused into their matrix products (rows of their own at the end, with the row kernels
and the plan's kept result memory off and on). Both
plans are built in this process and timed in turns (best of the repeats), so load on the
machine falls on both alike; the ratio is on/off.
"""
from __future__ import annotations

import argparse
import os
import sys
from collections import Counter

os.environ.setdefault("NUMEXPR_NUM_THREADS", "1")
os.environ.setdefault("NUMBA_NUM_THREADS", "1")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np

import functrans as ft
import functrans.numpy as fnp
from functrans.interpreters import fusion, gemm_update, replay, row_kernels
from functrans.interpreters.simplify import simplify

import _harness
import workloads


def _builders(quick: bool) -> list:
    big = (128, 64, 64, 10) if quick else (784, 512, 512, 10)
    small = (64, 32, 32, 10) if quick else (64, 128, 128, 10)
    return [
        lambda: [workloads.w1_scalar_chain(100)],
        lambda: [workloads.w2_mlp_step(big, 32 if quick else 128, np.float64)],
        lambda: [workloads.w2_mlp_step(big, 32 if quick else 128, np.float32)],
        lambda: [workloads.w2_mlp_step(small, 64 if quick else 256, np.float64)],
        lambda: [workloads.w2_mlp_step(small, 64 if quick else 256, np.float32)],
        lambda: [workloads.w3_hessian_vector_product(200 if quick else 1000)],
        lambda: workloads.w5_higher_derivatives()[:1],
    ]


def _built(builder, optimize: bool) -> list:
    replay.OPTIMIZE = optimize
    try:
        return builder()
    finally:
        replay.OPTIMIZE = True


def passes_on_w2(quick: bool) -> list[str]:
    """Equations of the W2 large float64 step after each pass, and what the plan fuses and
    writes into dead temporaries."""
    sizes, batch = ((128, 64, 64, 10), 32) if quick else ((784, 512, 512, 10), 128)
    params, x, y = workloads.mlp_data(sizes, batch, np.float64)
    staged = ft.make_jaxpr(workloads.mlp_sgd_step)(params, x, y).program
    plain = replay.ReplayPlan(staged, optimize=False)
    plan = replay.ReplayPlan(staged, optimize=True)
    plan.run(ft.tree.leaves((params, x, y)))
    simplified = simplify(staged)
    removed = Counter(e.prim.name for e in staged.eqns)
    removed.subtract(Counter(e.prim.name for e in simplified.eqns))
    kernels = [s for s in plan.steps if isinstance(s[0], fusion.FusedStep)]
    into_temporaries = sum(1 if type(b) is int else sum(x is not None for x in b)
                           for b in plan._borrow.values())
    return [
        f"W2 {'-'.join(map(str, sizes))} b{batch} float64: {len(staged.eqns)} equations staged; "
        f"simplification leaves {len(simplified.eqns)} ("
        + ", ".join(f"{k} -{v}" for k, v in sorted(removed.items()) if v > 0)
        + f"); dead code elimination {plain.num_eqns} without simplification, {plan.num_eqns} with; "
        f"the plan runs {len(plan.steps)} steps ({len(plan._eqns)} equations after folding "
        f"input-independent values), {len(kernels)} of them fused kernels covering "
        f"{sum(len(s[0].eqns) for s in kernels)} equations; {into_temporaries} results written "
        "into dead temporaries",
    ]


def _reduction_cases(quick: bool) -> list[tuple[str, object, tuple, object]]:
    """(name, function, arguments, NumPy by hand) of groups that end in a reduction."""
    rng = np.random.default_rng(0)
    n = 64 if quick else 256
    cases = []
    for dtype in (np.float64, np.float32):
        h = np.tanh(rng.standard_normal((n, 1024))).astype(dtype)
        d = rng.standard_normal((n, 1024)).astype(dtype)
        logp = rng.standard_normal((n, 1000)).astype(dtype)
        labels = np.eye(1000, dtype=dtype)[rng.integers(0, 1000, n)]
        g = rng.standard_normal((784, 128 if quick else 512)).astype(dtype)
        name = np.dtype(dtype).name
        cases += [
            (f"tanh' * d summed over the batch {h.shape} {name}",
             lambda h, d: fnp.sum((1.0 - h * h) * d, axis=0), (h, d),
             lambda h, d: np.sum((1.0 - h * h) * d, axis=0)),
            (f"cross entropy sum(log_probs * labels) {logp.shape} {name}",
             lambda p, y: -fnp.sum(p * y) / n, (logp, labels), lambda p, y: -np.sum(p * y) / n),
            (f"row norms sqrt(sum(g * g, -1)) {g.shape} {name}",
             lambda g: fnp.sqrt(fnp.sum(g * g, axis=-1)), (g,),
             lambda g: np.sqrt(np.sum(g * g, axis=-1))),
            (f"global norm clip g * (1 / max(|g|, 1)) {g.shape} {name}",
             lambda g: g / fnp.maximum(fnp.sqrt(fnp.sum(g * g)), 1.0), (g,),
             lambda g: g / max(np.sqrt(np.sum(g * g)), 1.0)),
        ]
    return cases


def reduction_rows(repeat: int, quick: bool) -> None:
    """Groups ending in a reduction: jit with the reduction outside the kernel (off) and
    inside it (on), and NumPy by hand."""
    print(f"{'fused reduction':52s} {'outside':>11s} {'inside':>11s} {'in/out':>7s} {'numpy':>11s}")
    for name, fn, args, by_hand in _reduction_cases(quick):
        jitted = []
        modes = fusion.REDUCTION_MODES
        for inside in (False, True):
            fusion.REDUCTION_KERNELS = inside
            fusion.REDUCTION_MODES = frozenset(("all", "rows", "cols"))  # (to measure them all)
            try:
                f = ft.jit(fn)
                f(*args)
            finally:
                fusion.REDUCTION_KERNELS = True
                fusion.REDUCTION_MODES = modes
            fusion.wait_for_kernels()
            jitted.append(lambda f=f, args=args: f(*args))
        expected = by_hand(*args)
        np.testing.assert_allclose(jitted[1](), expected, rtol=1e-4, atol=1e-4 * np.abs(expected).max())
        times = _harness.best_times(jitted + [lambda h=by_hand, a=args: h(*a)], repeat, quick=quick)
        print(f"{name[:52]:52s} {times[0] * 1e6:9.1f}us {times[1] * 1e6:9.1f}us "
              f"{times[1] / times[0]:7.2f} {times[2] * 1e6:9.1f}us", flush=True)


def _softmax_cross_entropy(z, y):
    """Mean softmax cross entropy of logits ``z`` against one-hot ``y`` (a classifier's head)."""
    shifted = z - fnp.max(ft.stop_gradient(z), axis=-1, keepdims=True)
    log_probs = shifted - fnp.log(fnp.sum(fnp.exp(shifted), axis=-1, keepdims=True))
    return -fnp.sum(log_probs * y) / z.shape[0]


def _by_hand_cross_entropy(z, y):
    """The loss and its gradient with respect to ``z``, in NumPy."""
    shifted = z - z.max(axis=-1, keepdims=True)
    e = np.exp(shifted)
    s = e.sum(axis=-1, keepdims=True)
    n = z.shape[0]
    return -np.sum((shifted - np.log(s)) * y) / n, (e / s - y) / n


def row_kernel_rows(repeat: int, quick: bool) -> None:
    """Regions of rows (``row_kernels``): the value and gradient of a softmax cross entropy
    under jit with the pass off and on (on at any size, to show where it stops paying:
    ``row_kernels.MAX_SIZE``), and NumPy by hand."""
    if not fusion.available():
        return
    print(f"{'row kernel (value_and_grad of a cross entropy)':52s} {'off':>11s} {'on':>11s} "
          f"{'on/off':>7s} {'numpy':>11s}")
    rng = np.random.default_rng(0)
    shapes = [(128, 10), (256, 10)] if quick else [(128, 10), (256, 10), (512, 65), (256, 1000)]
    for shape in shapes:
        for dtype in (np.float32, np.float64):
            z = rng.standard_normal(shape).astype(dtype)
            y = np.eye(shape[1], dtype=dtype)[rng.integers(0, shape[1], shape[0])]
            jitted = []
            for on in (False, True):
                enabled, most = row_kernels.ENABLED, row_kernels.MAX_SIZE
                row_kernels.ENABLED, row_kernels.MAX_SIZE = on, max(most, z.size)
                try:
                    f = ft.jit(ft.value_and_grad(_softmax_cross_entropy))
                    f(z, y)
                finally:
                    row_kernels.ENABLED, row_kernels.MAX_SIZE = enabled, most
                jitted.append(lambda f=f, z=z, y=y: f(z, y))
            value, grad = jitted[1]()
            expected = _by_hand_cross_entropy(z, y)
            tol = 1e-5 if dtype == np.float32 else 1e-12
            np.testing.assert_allclose(value, expected[0], rtol=tol)
            np.testing.assert_allclose(grad, expected[1], rtol=tol, atol=tol)
            times = _harness.best_times(jitted + [lambda z=z, y=y: _by_hand_cross_entropy(z, y)],
                                        repeat, quick=quick)
            name = f"{shape} {np.dtype(dtype).name}"
            print(f"{name:52s} {times[0] * 1e6:9.1f}us {times[1] * 1e6:9.1f}us "
                  f"{times[1] / times[0]:7.2f} {times[2] * 1e6:9.1f}us", flush=True)


def gemm_rows(repeat: int, quick: bool) -> None:
    """A weight update of a matrix product, ``w - 0.01 * (a.T @ d)`` (an SGD step of a layer),
    under jit with the update as its own steps (off) and fused into one BLAS gemm (on), for
    the W2 layers' shapes; the pass takes float64 only, so float32 is fused here to show why."""
    if not gemm_update.available():
        print("gemm update: SciPy is not installed (the jit extra), nothing to measure")
        return
    print(f"{'fused weight update':52s} {'steps':>11s} {'gemm':>11s} {'gemm/st':>7s} {'numpy':>11s}")
    rng = np.random.default_rng(0)
    shapes = [(128, 784, 512), (128, 512, 512), (256, 64, 128), (256, 128, 128)]
    for batch, fan_in, fan_out in shapes[:2] if quick else shapes:
        for dtype in (np.float64, np.float32):
            w = rng.standard_normal((fan_in, fan_out)).astype(dtype)
            a = rng.standard_normal((batch, fan_in)).astype(dtype)
            d = rng.standard_normal((batch, fan_out)).astype(dtype)
            jitted = []
            kept = gemm_update.DTYPES
            for fused in (False, True):
                gemm_update.DTYPES = frozenset((np.dtype(dtype),)) if fused else frozenset()
                try:
                    f = ft.jit(lambda w, a, d: w - 0.01 * (a.T @ d))
                    f(w, a, d)
                finally:
                    gemm_update.DTYPES = kept
                jitted.append(lambda f=f, args=(w, a, d): f(*args))
            expected = w - 0.01 * (a.T @ d)
            np.testing.assert_allclose(jitted[1](), expected, rtol=1e-4, atol=1e-4)
            by_hand = lambda w=w, a=a, d=d: w - 0.01 * (a.T @ d)
            times = _harness.best_times(jitted + [by_hand], repeat, quick=quick)
            name = f"w {w.shape} - 0.01 * a.T @ d, batch {batch}, {np.dtype(dtype).name}"
            print(f"{name[:52]:52s} {times[0] * 1e6:9.1f}us {times[1] * 1e6:9.1f}us "
                  f"{times[1] / times[0]:7.2f} {times[2] * 1e6:9.1f}us", flush=True)


def pool_rows(repeat: int, quick: bool) -> None:
    """The W2 steps under jit with the plan's kept result memory (``buffers.pooled_steps``)
    off and on, and the hand-written step, timed in turns in this process. Which of its two
    modes glibc's allocator is in decides whether a fresh large array page-faults: run it
    also with ``GLIBC_TUNABLES=glibc.malloc.mmap_threshold=131072`` (every fresh array of
    128 KiB or more is a new mapping) and with a high fixed threshold (none is)."""
    print(f"{'kept result memory':52s} {'pool off':>11s} {'pool on':>11s} {'on/off':>7s} {'numpy':>11s}")
    big = (128, 64, 64, 10) if quick else (784, 512, 512, 10)
    small = (64, 32, 32, 10) if quick else (64, 128, 128, 10)
    for sizes, batch in ((big, 32 if quick else 128), (small, 64 if quick else 256)):
        for dtype in (np.float64, np.float32):
            built = []
            for pooled in (False, True):
                replay.POOLS = pooled
                try:
                    built.append(workloads.w2_mlp_step(sizes, batch, dtype))
                    built[-1].jit()  # the plan is compiled (pools chosen) on this call
                finally:
                    replay.POOLS = True
            fns = [built[0].jit, built[1].jit, built[0].reference]
            times = _harness.best_times(fns, repeat, quick=quick)
            name = built[0].row.name
            print(f"{name[:52]:52s} {times[0] * 1e6:9.1f}us {times[1] * 1e6:9.1f}us "
                  f"{times[1] / times[0]:7.2f} {times[2] * 1e6:9.1f}us", flush=True)


_STAGE_W2 = """
import sys, time
sys.path.insert(0, {bench!r})
import numpy as np
import functrans as ft
import workloads
params, x, y = workloads.mlp_data((784, 512, 512, 10), 128, np.{dtype})
f = ft.jit(workloads.mlp_sgd_step)
t = time.perf_counter()
f(params, x, y)
print(time.perf_counter() - t)
assert ft.__file__.startswith({tree!r}), ft.__file__
"""


def staging_times(trees: list[str], repeat: int) -> None:
    """Seconds of the first call of jit(W2 large step) (staging, planning, compiling), each in
    a new process: "cold" with an empty kernel cache, "warm" with the cache the cold run
    filled; the best of ``repeat`` such pairs, per source tree, taken in turns."""
    import subprocess
    import tempfile

    bench = os.path.dirname(os.path.abspath(__file__))
    best: dict[tuple, float] = {}
    for _ in range(repeat):
        for tree in trees:
            for dtype in ("float64", "float32"):
                with tempfile.TemporaryDirectory() as cache:
                    env = dict(os.environ, FUNCTRANS_KERNEL_CACHE=cache, PYTHONPATH=tree)
                    for kind in ("cold", "warm"):
                        out = subprocess.run(
                            [sys.executable, "-c", _STAGE_W2.format(bench=bench, dtype=dtype, tree=tree)],
                            env=env, cwd=tree, capture_output=True, text=True, check=True).stdout
                        key = (tree, dtype, kind)
                        best[key] = min(best.get(key, float("inf")), float(out.split()[-1]))
    for (tree, dtype, kind), seconds in best.items():
        print(f"staging W2 784-512-512-10 b128 {dtype} {kind:4s} {tree}: {seconds:.3f} s")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--staging", nargs="*", metavar="TREE",
                        help="only the staging time of the W2 large step, in new processes, for "
                             "each source tree given (default: this one)")
    args = parser.parse_args(argv)
    if args.staging is not None:
        staging_times(args.staging or [os.path.dirname(os.path.dirname(os.path.abspath(__file__)))],
                      args.repeat)
        return
    for line in passes_on_w2(args.quick):
        print(line)
    print(f"{'workload':52s} {'jit off':>11s} {'jit on':>11s} {'on/off':>7s} {'numpy':>11s}")
    for builder in _builders(args.quick):
        for off, on in zip(_built(builder, False), _built(builder, True)):
            fns = [off.jit, on.jit] + ([off.reference] if off.reference else [])
            times = _harness.best_times(fns, args.repeat, quick=args.quick)
            ref = f"{times[2] * 1e6:9.1f}us" if len(times) > 2 else ""
            print(f"{off.row.name[:52]:52s} {times[0] * 1e6:9.1f}us {times[1] * 1e6:9.1f}us "
                  f"{times[1] / times[0]:7.2f} {ref:>11s}", flush=True)
    reduction_rows(args.repeat, args.quick)
    row_kernel_rows(args.repeat, args.quick)
    gemm_rows(args.repeat, args.quick)
    pool_rows(args.repeat, args.quick)


if __name__ == "__main__":
    main()
