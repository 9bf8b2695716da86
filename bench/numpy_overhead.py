"""Plain-array overhead of functrans.numpy: each function called on NumPy arrays (no
transformation) against the NumPy call itself, on small (4x4) and large (512x512) arrays.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/numpy_overhead.py

(one BLAS thread; OPENBLAS_CORETYPE slows NumPy on some machines); bench/report.py runs
every benchmark module and writes bench/RESULTS.md.

Targets: <= 1.6x on 4x4 and <= 1.02x on 512x512 for add, sum, matmul, einsum. The other rows
are for information. Each figure is the best of several runs, the two sides measured in turns
so that load on the machine affects both alike; ``--quick`` is a smoke run (64x64 for large).
"""
from __future__ import annotations

import sys
from collections.abc import Sequence

import _harness
import workloads

TARGETS = {"small": 1.6, "large": 1.02}


def collect(section: _harness.Section, options: _harness.Options) -> None:
    """Time every call on small and large arrays; note the worst ratio of the core calls."""
    worst: dict[str, float] = {}
    for size_name, n in (("small", 4), ("large", 64 if options.quick else 512)):
        print(f"--- {size_name}: {n}x{n} float64")
        for workload in workloads.numpy_calls(n, TARGETS[size_name]):
            row = section.add(_harness.measure(workload, options))
            if row.target is not None:
                worst[size_name] = max(worst.get(size_name, 0.0), row.ratio(row.ours))
    section.note("worst core ratio (" + ", ".join(workloads.NUMPY_CORE) + "): "
                 + ", ".join(f"{k} {v:.2f}x (target {TARGETS[k]}x)" for k, v in worst.items()))


def main(argv: Sequence[str] | None = None) -> int:
    return _harness.main(collect, __file__, __doc__, argv, repeat=15)


if __name__ == "__main__":
    sys.exit(main())
