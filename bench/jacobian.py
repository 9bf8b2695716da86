"""W4: Jacobians, per-example gradients and checkpoint memory, against hand-written NumPy.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/jacobian.py

(one BLAS thread; OPENBLAS_CORETYPE slows NumPy on some machines); bench/report.py runs
every benchmark module and writes bench/RESULTS.md. Workloads (bench/workloads.py):

- the full Jacobian of x -> tanh(A @ x) * x on R^100 by jacrev and by jacfwd, eager and
  under jit, against the closed form written in NumPy (target <= 6x);
- per-example gradients of a 64-128-10 MLP over a batch of 256 by vmap(grad), against one
  batched value_and_grad of the mean loss (target <= 3x), eager and both under jit;
- peak memory (tracemalloc) of grad of a 50-layer tanh MLP, plain and checkpointed.

Each result is checked against its reference before timing; ``--quick`` is a smoke run.
"""
from __future__ import annotations

import sys
from collections.abc import Sequence

import _harness
import workloads

MALLOC_NOTE = (
    "glibc's allocator may hand the memory of each freed 80 KB array back to the system and "
    "fault it in again on the next allocation, which doubles the eager Jacobian times here "
    "depending on what else the process has imported (numpy.testing is enough). For numbers "
    "that do not depend on that, keep the heap: add MALLOC_TRIM_THRESHOLD_=268435456 "
    "MALLOC_TOP_PAD_=67108864 to the command (both sides of every ratio run in the same "
    "process).")


def collect(section: _harness.Section, options: _harness.Options) -> None:
    """Time the Jacobians and per-example gradients; measure checkpoint memory."""
    quick = options.quick
    for workload in workloads.w4_jacobians(20 if quick else 100):
        section.add(_harness.measure(workload, options))
    sizes, batch = ((16, 32, 10), 32) if quick else ((64, 128, 10), 256)
    for workload in workloads.per_example_gradients(sizes, batch):
        section.add(_harness.measure(workload, options))
    layers, width, batch, block = (10, 64, 64, 3) if quick else (50, 256, 256, 7)
    variants, check = workloads.checkpoint_variants(layers, width, batch, block)
    section.note(f"peak memory: the most memory traced (tracemalloc) during grad of a "
                 f"{layers}-layer tanh MLP (batch {batch}, width {width}; one activation = "
                 f"{width * batch * 8 / 2 ** 20:.2f} MiB), plain and checkpointed")
    for name, grad in variants.items():
        peak, grads = _harness.peak_memory(grad)
        check(grads)
        section.add(_harness.Row(f"peak memory, {name}", ours=peak, unit="MiB"))
    section.note(MALLOC_NOTE)


def main(argv: Sequence[str] | None = None) -> int:
    return _harness.main(collect, __file__, __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
