r"""W1, W2 and W5 on two functrans checkouts, back to back: old, new and the change in percent.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=1 \
        .venv/bin/python bench/compare.py OLD_TREE NEW_TREE [--repeat 5] [--quick] [--cpu-time]

(one BLAS thread; OPENBLAS_CORETYPE slows NumPy on some machines). Each tree gets one
process, which imports functrans from that tree and the workloads from this bench/ directory
(bench/workloads.py), so both sides run the same workload code whatever bench/ the old tree
has. The two processes take turns, one round at a time (the order flips every round), and
each figure is the best of ``--repeat`` rounds: load on the machine falls on both sides alike.
The hand-written NumPy rows run the same code on both sides: their change is the noise floor.
``--cpu-time`` times with the process's CPU time instead of the wall clock: on a machine that
other work shares, time spent waiting for a core then counts on neither side. Both workers run
with glibc's allocator pinned (``_harness.pin_allocator``).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import timeit
from collections.abc import Callable, Sequence

import _harness


# --- a worker: one tree's process ------------------------------------------------------------
def worker_workloads(quick: bool) -> list[_harness.Workload]:
    """W1, the three W2 configurations of bench/run.py (smaller with ``quick``) and W5's
    grad(grad(poly))."""
    # Imported here, in the worker only: the parent never imports functrans.
    import numpy as np

    import workloads

    big = (128, 64, 64, 10) if quick else (784, 512, 512, 10)
    small = (64, 32, 32, 10) if quick else (64, 128, 128, 10)
    return [
        workloads.w1_scalar_chain(),
        workloads.w2_mlp_step(big, 32 if quick else 128, np.float64),
        workloads.w2_mlp_step(big, 32 if quick else 128, np.float32),
        workloads.w2_mlp_step(small, 64 if quick else 256, np.float64),
        workloads.w5_higher_derivatives()[0],
    ]


def worker(quick: bool, cpu_time: bool) -> int:
    """Answer the parent: one line of JSON with the figures' descriptions, then for every
    ``run`` line on stdin one timed run of every figure (seconds per call, as JSON)."""
    import functrans  # from _harness.TREE: the tree this worker was started for

    here = os.path.abspath(functrans.__file__)
    if not here.startswith(os.path.join(_harness.TREE, "")):
        raise SystemExit(f"functrans imported from {here}, not from {_harness.TREE}")
    figures: list[tuple[str, str, int, str, Callable[[], object]]] = []
    for workload in worker_workloads(quick):
        row = workload.row
        for label, fn in (("eager", workload.ours), ("jit", workload.jit),
                          ("numpy", workload.reference)):
            if fn is not None:
                figures.append((row.name, label, row.count, row.unit, fn))
    clock = time.process_time if cpu_time else timeit.default_timer
    timers = [timeit.Timer(fn, timer=clock) for *_, fn in figures]
    numbers = [_harness.calibrate(timer, quick)[0] for timer in timers]
    print(json.dumps({"functrans": _harness.checkout(_harness.TREE),
                      "figures": [[name, label, count, unit]
                                  for name, label, count, unit, _ in figures]}), flush=True)
    for line in sys.stdin:
        if line.strip() != "run":
            break
        times = [t.timeit(n) / n for t, n in zip(timers, numbers)]
        print(json.dumps(times), flush=True)
    return 0


# --- the parent ------------------------------------------------------------------------------
class Side:
    """One tree's worker process and the best figure of each of its runs."""

    def __init__(self, tree: str, quick: bool, cpu_time: bool) -> None:
        env = dict(os.environ, FUNCTRANS_BENCH_TREE=os.path.abspath(tree))
        command = [sys.executable, os.path.abspath(__file__), "--worker"]
        command += (["--quick"] if quick else []) + (["--cpu-time"] if cpu_time else [])
        self.process = subprocess.Popen(command, env=env,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        hello = self._read()
        self.checkout = hello["functrans"]
        self.figures = [tuple(f) for f in hello["figures"]]
        self.best = [float("inf")] * len(self.figures)

    def _read(self):
        line = self.process.stdout.readline()
        if not line:
            self.process.wait()
            raise SystemExit(f"a worker stopped (exit status {self.process.returncode}); "
                             "see its error output above")
        return json.loads(line)

    def run(self) -> None:
        self.process.stdin.write("run\n")
        self.process.stdin.flush()
        self.best = [min(b, t) for b, t in zip(self.best, self._read())]

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait()


def compare(old_tree: str, new_tree: str, rounds: int, quick: bool, cpu_time: bool = False) -> int:
    print("\n".join(_harness.environment_lines(tree=None)))
    print("clock: " + ("CPU time of each worker process" if cpu_time else "wall clock"))
    old, new = Side(old_tree, quick, cpu_time), Side(new_tree, quick, cpu_time)
    try:
        if old.figures != new.figures:
            raise SystemExit("the two workers describe different figures")
        print(f"old: {old.checkout}\nnew: {new.checkout}\n{rounds} rounds, taking turns",
              flush=True)
        for i in range(rounds):
            for side in (old, new) if i % 2 == 0 else (new, old):
                side.run()
    finally:
        old.close()
        new.close()
    print(f"\n{'workload':<52}{'':<7}{'old':>12}{'new':>12}{'change':>9}")
    worst = None
    for (name, label, count, unit), a, b in zip(old.figures, old.best, new.best):
        scale = count * _harness.UNITS[unit]
        change = (b - a) / a * 100
        print(f"{name:<52}{label:<7}{a / scale:>9.3f} {unit:<2}{b / scale:>9.3f} {unit:<2}"
              f"{change:>+8.1f}%")
        if label != "numpy" and (worst is None or change > worst[0]):
            worst = (change, f"{name}, {label}")
    if worst is not None:
        print(f"\nlargest change of a functrans figure: {worst[0]:+.1f}% ({worst[1]}); "
              "the numpy rows show the noise")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("trees", nargs="*", metavar="TREE",
                        help="the old and the new checkout (each holding functrans/)")
    parser.add_argument("--repeat", type=int, default=None,
                        help="rounds; each figure is the best of them (default 5; 2 with --quick)")
    parser.add_argument("--quick", action="store_true", help="smoke run: small sizes, 2 rounds")
    parser.add_argument("--cpu-time", action="store_true",
                        help="time with each process's CPU time (a machine other work shares)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args.quick, args.cpu_time)
    if len(args.trees) != 2:
        parser.error("give two trees: OLD_TREE NEW_TREE")
    _harness.pin_allocator()  # the workers inherit the pinned allocator
    rounds = args.repeat if args.repeat is not None else 2 if args.quick else 5
    return compare(args.trees[0], args.trees[1], rounds=rounds, quick=args.quick,
                   cpu_time=args.cpu_time)


if __name__ == "__main__":
    sys.exit(main())
