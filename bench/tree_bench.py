"""Time functrans.tree against optree on a typical 40-leaf parameter pytree.

Flatten and unflatten run on every grad call, so their cost per call decides whether
functrans keeps its own pytree code (see docs/design.md, "Pytrees: own implementation vs
optree"). From the repository root:

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/tree_bench.py

(bench/report.py runs every benchmark module and writes bench/RESULTS.md). optree is
optional: without it only functrans is timed. The two libraries take turns, run after run,
and each keeps its minimum, so both get the same chances at a quiet moment; ``--quick`` is a
smoke run. On a busy machine, count instructions instead of time: run one operation N times
under callgrind, and subtract a run with N = 0 (the imports and the setup):

    valgrind --tool=callgrind .venv/bin/python bench/tree_bench.py --calls flatten functrans dict 3000
"""
from __future__ import annotations

import sys
from collections.abc import Sequence

import _harness
import workloads


def collect(section: _harness.Section, options: _harness.Options) -> None:
    """Time every tree operation on the dict-of-layers and list-of-layers trees."""
    if workloads.optree is None:
        section.note("optree not installed: timing functrans only (pip install optree to compare)")
    else:
        section.note(f"optree {workloads.optree.__version__}")
    for name, params in workloads.parameter_trees().items():
        print(f"--- {name} ({len(workloads.tree.leaves(params))} leaves)")
        for workload in workloads.tree_workloads(name, params):
            section.add(_harness.measure(workload, options))


def run_calls(op: str, impl: str, shape: str, n: int) -> None:
    """Call one operation n times (after a warm-up), for instruction counting."""
    params = list(workloads.parameter_trees().values())[0 if shape == "dict" else 1]
    fn = workloads.tree_operations(impl, params)[op]
    for _ in range(100):
        fn()
    for _ in range(n):
        fn()


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["--calls"]:
        op_name, impl_name, shape_name, count = argv[1:5]
        run_calls(op_name, impl_name, shape_name, int(count))
        return 0
    return _harness.main(collect, __file__, __doc__, argv, repeat=15)


if __name__ == "__main__":
    sys.exit(main())
