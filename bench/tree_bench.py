"""Time functrans.tree against optree on a typical 40-leaf parameter pytree.

Flatten and unflatten run on every grad call, so their cost per call decides whether
functrans keeps its own pytree code (see docs/design.md, "Pytrees: own implementation vs
optree"). Run from the repository root:

    python bench/tree_bench.py

optree is optional: without it only functrans is timed. On a busy machine, count
instructions instead of time: run one operation N times under callgrind, and subtract a
run with N = 0 (the imports and the setup):

    valgrind --tool=callgrind python bench/tree_bench.py --calls flatten functrans dict 3000
"""
from __future__ import annotations

import os
import sys
import timeit

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from functrans import tree  # noqa: E402

try:
    import optree
except ImportError:
    optree = None

LAYERS = 20


def make_trees() -> dict[str, object]:
    """Two 40-leaf params pytrees: a dict of layers and a list of layers."""
    rng = np.random.default_rng(0)

    def layer() -> dict[str, np.ndarray]:
        return {"w": rng.standard_normal((4, 4)), "b": rng.standard_normal(4)}

    return {
        "dict of 20 {'w','b'}": {f"layer{i}": layer() for i in range(LAYERS)},
        "list of 20 {'w','b'}": [layer() for _ in range(LAYERS)],
    }


def best_per_call_us(ops: dict[str, dict[str, object]], rounds: int = 15) -> dict:
    """Best per-call time in microseconds of every (implementation, operation).

    The implementations take turns, round after round, and each keeps its minimum: other
    processes on the machine slow down whichever runs at the time, so interleaving gives
    both the same chances at a quiet moment.
    """
    timers = {
        (impl, op): (timeit.Timer(fn), timeit.Timer(fn).autorange()[0])
        for impl, impl_ops in ops.items()
        for op, fn in impl_ops.items()
    }
    best = {key: float("inf") for key in timers}
    for _ in range(rounds):
        for key, (timer, number) in timers.items():
            best[key] = min(best[key], timer.timeit(number) / number * 1e6)
    return best


def _first(p, g):
    # Cheap stand-in for an optimizer step, so that map's figure is mostly tree overhead.
    return p


def functrans_ops(params: object) -> dict[str, object]:
    grads = tree.map(lambda x: x, params)  # same structure, new containers
    leaves, treedef = tree.flatten(params)
    return {
        "flatten": lambda: tree.flatten(params),
        "unflatten": lambda: treedef.unflatten(leaves),
        "round trip": lambda: tree.flatten(params)[1].unflatten(leaves),
        "map(f, a, b)": lambda: tree.map(_first, params, grads),
        "with_path": lambda: tree.flatten_with_path(params),
    }


def optree_ops(params: object) -> dict[str, object]:
    grads = optree.tree_map(lambda x: x, params)
    leaves, spec = optree.tree_flatten(params)
    assert leaves == tree.leaves(params) or all(a is b for a, b in zip(leaves, tree.leaves(params)))
    return {
        "flatten": lambda: optree.tree_flatten(params),
        "unflatten": lambda: spec.unflatten(leaves),
        "round trip": lambda: optree.tree_flatten(params)[1].unflatten(leaves),
        "map(f, a, b)": lambda: optree.tree_map(_first, params, grads),
        "with_path": lambda: optree.tree_flatten_with_path(params),
    }


def main() -> None:
    print(f"python {sys.version.split()[0]}, numpy {np.__version__}", end="")
    print(f", optree {optree.__version__}" if optree is not None else "")
    if optree is None:
        print("optree not installed: timing functrans only (pip install optree to compare)")
    for name, params in make_trees().items():
        print(f"\n{name} ({len(tree.leaves(params))} leaves), microseconds per call:")
        ops = {"functrans": functrans_ops(params)}
        if optree is not None:
            ops["optree"] = optree_ops(params)
        best = best_per_call_us(ops)
        header = f"  {'operation':<14}{'functrans':>11}"
        print(header + (f"{'optree':>10}{'ours/optree':>13}{'difference':>12}" if optree else ""))
        for op in ops["functrans"]:
            ours = best["functrans", op]
            line = f"  {op:<14}{ours:>11.2f}"
            if optree is not None:
                theirs = best["optree", op]
                line += f"{theirs:>10.2f}{ours / theirs:>12.2f}x{ours - theirs:>12.2f}"
            print(line)


def run_calls(op: str, impl: str, shape: str, n: int) -> None:
    """Call one operation n times (after a warm-up), for instruction counting."""
    params = list(make_trees().values())[0 if shape == "dict" else 1]
    ops = functrans_ops(params) if impl == "functrans" else optree_ops(params)
    fn = ops[op]
    for _ in range(100):
        fn()
    for _ in range(n):
        fn()


if __name__ == "__main__":
    if sys.argv[1:2] == ["--calls"]:
        op_name, impl_name, shape_name, count = sys.argv[2:6]
        run_calls(op_name, impl_name, shape_name, int(count))
    else:
        main()
