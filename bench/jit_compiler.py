r"""jit's compiler passes, measured: the same workloads under jit with the passes off and on,
in one process, and what each pass does to the W2 program.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=1 \
        .venv/bin/python bench/jit_compiler.py [--repeat 5] [--quick]

"off" is the plan as recorded (dead code elimination and folding only); "on" adds
simplification, buffer reuse and, where the kernel extra is installed, fused kernels. Both
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
from functrans.interpreters import fusion, replay
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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
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


if __name__ == "__main__":
    main()
