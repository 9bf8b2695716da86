"""Plain-array overhead of functrans.numpy: each function called on NumPy arrays (no
transformation) against the NumPy call itself, on small (4x4) and large (512x512) arrays.

Run with one BLAS thread:

    env -u OPENBLAS_CORETYPE OPENBLAS_NUM_THREADS=1 python bench/numpy_overhead.py

Targets: <= 1.6x on 4x4 and <= 1.02x on 512x512 for add, sum, matmul, einsum. The other rows
are for information. Each figure is the best of several repeats.
"""
from __future__ import annotations

import os
import sys
import timeit

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import functrans.numpy as fnp  # noqa: E402

TARGETS = {"small": 1.6, "large": 1.02}
CORE = ("add", "sum", "matmul", "einsum")


def best_times(ours, ref, repeat=15):
    """Seconds per call of each: the minimum over repeats, the two measured alternately so
    that load on the machine affects both alike."""
    t_ours, t_ref = timeit.Timer(ours), timeit.Timer(ref) if ref is not None else None
    number = max(t_ours.autorange()[0], 3)
    best_ours = best_ref = float("inf")
    for _ in range(repeat):
        best_ours = min(best_ours, t_ours.timeit(number) / number)
        if t_ref is not None:
            best_ref = min(best_ref, t_ref.timeit(number) / number)
    return best_ours, best_ref


def cases(a, b):
    return [
        ("add", lambda: fnp.add(a, b), lambda: np.add(a, b)),
        ("sum", lambda: fnp.sum(a), lambda: np.sum(a)),
        ("matmul", lambda: fnp.matmul(a, b), lambda: np.matmul(a, b)),
        ("einsum", lambda: fnp.einsum("ij,jk->ik", a, b), lambda: np.einsum("ij,jk->ik", a, b)),
        ("einsum(optimize)", lambda: fnp.einsum("ij,jk->ik", a, b, optimize=True),
         lambda: np.einsum("ij,jk->ik", a, b, optimize=True)),
        ("sin", lambda: fnp.sin(a), lambda: np.sin(a)),
        ("arctan2", lambda: fnp.arctan2(a, b), lambda: np.arctan2(a, b)),
        ("mean(axis=0)", lambda: fnp.mean(a, axis=0), lambda: np.mean(a, axis=0)),
        ("cumsum(axis=1)", lambda: fnp.cumsum(a, axis=1), lambda: np.cumsum(a, axis=1)),
        ("sort", lambda: fnp.sort(a), lambda: np.sort(a)),
        ("logsumexp", lambda: fnp.logsumexp(a), None),
        ("linalg.solve", lambda: fnp.linalg.solve(a + 10 * np.eye(a.shape[0]), b),
         lambda: np.linalg.solve(a + 10 * np.eye(a.shape[0]), b)),
        ("fft.fft", lambda: fnp.fft.fft(a), lambda: np.fft.fft(a)),
    ]


def main():
    rng = np.random.default_rng(0)
    worst = {}
    for size_name, n in (("small", 4), ("large", 512)):
        a, b = rng.standard_normal((n, n)), rng.standard_normal((n, n))
        print(f"--- {size_name}: {n}x{n} float64")
        for name, ours_fn, ref_fn in cases(a, b):
            ours, ref = best_times(ours_fn, ref_fn)
            if ref_fn is None:
                print(f"{name:<16} functrans {ours * 1e6:10.2f} us")
                continue
            ratio = ours / ref
            flag = ""
            if name in CORE:
                target = TARGETS[size_name]
                flag = "  ok" if ratio <= target else f"  MISSES target {target}x"
                worst[size_name] = max(worst.get(size_name, 0), ratio)
            print(f"{name:<16} functrans {ours * 1e6:10.2f} us   numpy {ref * 1e6:10.2f} us   "
                  f"ratio {ratio:5.2f}x   overhead {(ours - ref) * 1e6:7.2f} us{flag}")
    print("worst core ratio: " + ", ".join(f"{k} {v:.2f}x" for k, v in worst.items()))


if __name__ == "__main__":
    main()
