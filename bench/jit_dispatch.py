"""jit's cost per call beyond the work of the program: the cache lookup (dispatch), and a
Python scalar argument whose value changes on every call (a learning-rate schedule, a step
count), against the same value passed as a NumPy scalar.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/jit_dispatch.py

Rows:

- ``call``: ``jit(f)(x, y, z)`` with ``f = lambda x, y, z: x + y`` on arrays of 3 elements;
- ``replay``: the staged program alone on the same arrays (``ReplayPlan.run``);
- ``dispatch``: ``call - replay``, what jit adds to running the program (flattening the
  arguments, the cache key and lookup, rebuilding the output);
- ``np.add``: the one NumPy call the program makes, for scale;
- ``dispatch, dict of 3``: the same for ``jit(lambda p: p["x"] + p["y"])`` on a dict of the
  three arrays (the pytree is flattened on every call);
- ``new float / call`` and ``np.float64 / call``: ``jit(update)(params, lr)`` with a new
  learning rate on every call, as a Python float and as a NumPy scalar; their ratio is 1
  when a new Python float does not record the function again.

Set ``FUNCTRANS_BENCH_TREE`` to another checkout to measure it instead (bench/_harness.py).
"""
from __future__ import annotations

import argparse
import itertools
import timeit

import _harness  # noqa: F401  (puts the checkout on sys.path, sets one BLAS thread: before NumPy)


def _plan_of(jitted):
    """The replay plan ``jitted`` cached (read from its closure: a benchmark's look inside)."""
    for cell in jitted.__closure__ or ():
        value = cell.cell_contents
        if isinstance(value, dict) and value:
            return next(iter(value.values()))[0]
    raise RuntimeError("no cached plan found")


def _best(fn, number: int, repeat: int) -> float:
    """Seconds per call: the best of ``repeat`` runs of ``number`` calls."""
    return min(timeit.repeat(fn, number=number, repeat=repeat)) / number


def dispatch(repeat: int) -> dict[str, float]:
    """Microseconds per call of jit on three small arrays, its replay, and their difference."""
    import numpy as np

    import functrans as ft

    x, y, z = np.ones(3), np.full(3, 2.0), np.zeros(3)
    jitted = ft.jit(lambda x, y, z: x + y)
    jitted(x, y, z)
    plan = _plan_of(jitted)
    leaves = [x, y, z]
    number = 20_000
    call = _best(lambda: jitted(x, y, z), number, repeat)
    replay = _best(lambda: plan.run(leaves), number, repeat)
    add = _best(lambda: np.add(x, y), number, repeat)
    params = {"x": x, "y": y, "z": z}
    nested = ft.jit(lambda p: p["x"] + p["y"])
    nested(params)
    nested_plan = _plan_of(nested)
    nested_call = _best(lambda: nested(params), number, repeat)
    nested_replay = _best(lambda: nested_plan.run(leaves), number, repeat)
    return {"call": call * 1e6, "replay": replay * 1e6, "dispatch": (call - replay) * 1e6,
            "np.add": add * 1e6, "dispatch, dict of 3": (nested_call - nested_replay) * 1e6}


def scalar_per_call(repeat: int) -> dict[str, float]:
    """Microseconds per call of ``jit(update)(params, lr)`` with a new learning rate each call."""
    import numpy as np

    import functrans as ft

    def update(params, lr):
        return {k: p - lr * p for k, p in params.items()}

    params = {"w": np.ones((4, 4)), "b": np.ones(4)}
    jitted = ft.jit(update)
    rates = itertools.count()
    number = 300
    python = _best(lambda: jitted(params, 1e-3 + next(rates) * 1e-9), number, repeat)
    numpy_scalar = _best(lambda: jitted(params, np.float64(1e-3 + next(rates) * 1e-9)), number, repeat)
    return {"new float / call": python * 1e6, "np.float64 / call": numpy_scalar * 1e6,
            "ratio": python / numpy_scalar}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    for name, value in {**dispatch(args.repeat), **scalar_per_call(args.repeat)}.items():
        unit = "" if name == "ratio" else " us"
        print(f"{name:>20}: {value:8.2f}{unit}")


if __name__ == "__main__":
    main()
