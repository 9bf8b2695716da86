"""W1-W3 and W5: functrans against the same computation written by hand in NumPy, as ratios.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/run.py

(one BLAS thread; OPENBLAS_CORETYPE slows NumPy on some machines); bench/report.py runs
every benchmark module and writes bench/RESULTS.md. Workloads (bench/workloads.py):
W1 grad of a 100-primitive chain of scalar elementwise ops, per primitive (target <= 6 us);
W2 value_and_grad + SGD step of MLPs (targets 1.2x and 1.5x); W3 Hessian-vector product by
jvp of grad (target 1.5x); W5 higher derivatives of scalar functions (target <= 80 us).
Each figure is the best of several runs, eager and under jit; ``--quick`` is a smoke run.
"""
from __future__ import annotations

import sys
from collections.abc import Sequence

import numpy as np

import _harness
import workloads


def collect(section: _harness.Section, options: _harness.Options) -> None:
    """Time W1, W2, W3 and W5."""
    big = (128, 64, 64, 10) if options.quick else (784, 512, 512, 10)
    small = (64, 32, 32, 10) if options.quick else (64, 128, 128, 10)
    cases = [
        lambda: workloads.w1_scalar_chain(),
        lambda: workloads.w2_mlp_step(big, 32 if options.quick else 128, np.float64, 1.2),
        lambda: workloads.w2_mlp_step(big, 32 if options.quick else 128, np.float32, 1.2),
        lambda: workloads.w2_mlp_step(small, 64 if options.quick else 256, np.float64, 1.5),
        lambda: workloads.w3_hessian_vector_product(100 if options.quick else 1000),
        *[lambda w=w: w for w in workloads.w5_higher_derivatives()],
    ]
    for build in cases:
        section.add(_harness.measure(build(), options))


def main(argv: Sequence[str] | None = None) -> int:
    return _harness.main(collect, __file__, __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
