"""Random programs for the fuzzer: two to four rows of the op tables composed into one
function of a pytree of arrays, runnable on functrans.numpy and on plain NumPy alike.

A program is a list of steps, each a table row (``OpSpec``) with the shapes, parameters and
values that row draws for itself. Steps are wired together: an argument takes an earlier
output in (the output itself where its shape broadcasts to the argument's, size-1 axes and 0-d
included, else its sum) through a glue map that keeps the argument inside its row's value
domain (a convex combination with a point of the domain, so log still sees positive values
and arcsin values in [-0.9, 0.9]). Boolean arguments take an earlier boolean output by
``logical_xor``. The program's inputs are the float arguments, packed into a drawn pytree
(dicts and tuples); integer, boolean and grid-valued arguments, whose finite differences mean
nothing, and the arguments of piecewise-constant rows, are constants the program closes over.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from hypothesis import strategies as st

import functrans.numpy as fnp
from functrans import tree

from specs import ALL_SPECS, FFT_SPECS, INDEX_TRICK_SPECS, LINALG_SPECS, OpSpec, draw_case

# How far the glue moves an argument towards the value of an earlier output: small, so that
# the argument stays well inside its domain's interior (away from the ties of "distinct").
MIX = 0.05

# check_grads' tolerances by the itemsize of the real part (functrans.testing's defaults).
_DEFAULT_TOL = {2: 1e-1, 4: 2e-2, 8: 1e-6}

#: Rows the fuzzer leaves out, with the reason (never a bug: a bug gets an xfail case).
EXCLUDED: dict[str, str] = {
    "fnp.unique": "its output shape is the number of distinct values: not vmappable or jittable",
    "fnp.real_if_close": "its output dtype depends on the values: not vmappable or jittable",
    "fnp.linalg.lstsq": "eagerly its rank is a Python int and a rank-deficient matrix's residuals are "
    "empty (NumPy's convention); under jit and vmap they follow JAX's",
    **dict.fromkeys(
        ("fnp.unique_values", "fnp.unique_counts", "fnp.unique_inverse", "fnp.unique_all", "fnp.union1d",
         "fnp.intersect1d", "fnp.setdiff1d", "fnp.setdiff1d[assume_unique]", "fnp.setxor1d"),
        "its output shape is the number of distinct values: not vmappable or jittable"),
    **dict.fromkeys(
        ("fnp.polydiv", "fnp.roots", "fnp.trim_zeros[keeps derivatives]", "fnp.bincount", "fnp.bincount[counts]"),
        "its output length depends on the values (zeros trimmed, the largest count): not vmappable or jittable"),
    "fnp.poly": "its dtype (real or complex) depends on the roots' values: not vmappable or jittable",
    "fnp.poly[matrix]": "its dtype (real or complex) depends on the eigenvalues: not vmappable or jittable",
    "fnp.asarray_chkfinite": "it reads the values to decide whether to raise: not vmappable or jittable",
}


def _pool() -> list[OpSpec]:
    """Every row with an array argument and an array output; the rows that index, broadcast
    or contract (einsum, take, at[...], getitem, broadcasting binary rows) twice more, since
    the bugs of shape handling live there."""
    rows = [s for s in ALL_SPECS + LINALG_SPECS + FFT_SPECS + INDEX_TRICK_SPECS
            if s.nargs > 0 and s.derivative != "none" and s.name not in EXCLUDED]
    focus = ("einsum", "getitem", "gather", "take", "at[", "index", "broadcast", "dot", "matmul", "where")
    return rows + [s for s in rows if any(f in s.name for f in focus)] * 2


POOL: list[OpSpec] = _pool()


def _is_python_value(x: Any) -> bool:
    return isinstance(x, (bool, int, float, complex)) and not isinstance(x, np.generic)


# =============================================================================================
# The program
# =============================================================================================


@dataclass
class Arg:
    """One argument of a step: a program input (``index`` into the inputs' leaves) or a
    constant (``value``), optionally moved towards an earlier output (``source``, an index
    into the outputs so far) by the glue, whose constants are ``sign``, ``low`` and ``width``."""

    value: np.ndarray
    index: int | None = None
    source: int | None = None
    reduce: bool = False  # feed the sum of the earlier output (its shape does not fit)
    sign: np.ndarray | None = None
    low: float = 0.0
    width: float = 0.0

    def __call__(self, lib, inputs: list, outputs: list):
        x = self.value if self.index is None else inputs[self.index]
        if self.source is None:
            return x
        prev = outputs[self.source]
        if self.reduce:
            prev = lib.sum(prev)
        if x.dtype == bool:
            return lib.asarray(lib.logical_xor(x, prev))
        # a point of [low, low + width] (times the drawn sign): sin keeps it there
        target = self.sign * (self.low + self.width * (0.5 + 0.5 * lib.sin(prev)))
        return lib.asarray((1 - MIX) * x + MIX * target)  # NumPy makes 0-d results scalars


@dataclass
class Step:
    spec: OpSpec
    params: dict
    args: list[Arg]
    keep: list[int]  # the positions, among the output's leaves, of its arrays


@dataclass
class Program:
    steps: list[Step] = field(default_factory=list)
    inputs: Any = None  # the pytree of input arrays
    second_order: bool = False

    def __call__(self, inputs, lib=fnp, reference: bool = False) -> list:
        """Run the steps on ``inputs`` (a pytree like ``self.inputs``) with ``lib`` for the glue,
        each step by its row's ``fn``, or by its NumPy ``ref`` if ``reference``; return the
        arrays every step produced, in order."""
        leaves = tree.leaves(inputs)
        outputs: list = []
        for step in self.steps:
            args = [a(lib, leaves, outputs) for a in step.args]
            fn = step.spec.ref if reference and step.spec.ref is not None else step.spec.fn
            with np.errstate(all="ignore"):
                out = fn(*args, **step.params)
            out_leaves = _leaves(out)
            outputs.extend(out_leaves[k] for k in step.keep)
        return outputs

    def tolerances(self, outputs: list) -> dict:
        """The loosest of check_grads' tolerances for the precisions of the arguments and of
        the ``outputs`` (a float32 anywhere loosens the whole program's, as check_grads' step
        does) and of the steps' own tolerances for their dtypes."""
        tol: dict = {}
        defaults = [_DEFAULT_TOL[np.finfo(o.dtype).bits // 8] for o in outputs if o.dtype.kind in "fc"]
        for step in self.steps:
            for dtype in {a.value.dtype for a in step.args if a.value.dtype.kind in "fc"}:
                defaults.append(_DEFAULT_TOL[np.finfo(dtype).bits // 8])
                for k, v in step.spec.tol.get(dtype.type, {}).items():
                    tol[k] = max(tol.get(k, 0.0), v)
        for k in ("atol", "rtol"):
            tol[k] = max([tol.get(k, 0.0), *defaults])
        return tol

    def __repr__(self):
        lines = []
        for i, step in enumerate(self.steps):
            args = []
            for a in step.args:
                where = f"in[{a.index}]" if a.index is not None else "const"
                glue = "" if a.source is None else f" <- {'sum of ' if a.reduce else ''}out[{a.source}]"
                args.append(f"{where} {a.value.dtype}{a.value.shape}{glue}")
            lines.append(f"  step {i}: {step.spec.name}({', '.join(args)}; {step.params})")
        structure = tree.map(lambda x: f"{x.dtype}{x.shape}", self.inputs)
        return (f"Program(inputs={structure}, second_order={self.second_order},\n"
                + "\n".join(lines) + ")")

    def _repr_pretty_(self, printer, cycle):  # hypothesis prints falsifying examples this way
        printer.text(repr(self))


def _leaves(out) -> list:
    """An operation's output leaves, whatever the container (tuple, namedtuple, list)."""
    if isinstance(out, (tuple, list)):
        return [leaf for o in out for leaf in _leaves(o)]
    return [out]


# =============================================================================================
# Drawing a program
# =============================================================================================


def _is_input(spec: OpSpec, domain, value: np.ndarray) -> bool:
    """Whether an argument is a program input: a float or complex array of a row with
    derivatives (a piecewise-constant row, such as stop_gradient or floor, has derivative 0
    where finite differences see a slope), whose values are not on a grid."""
    return value.dtype.kind in "fc" and spec.derivative == "check" and domain.kind not in ("grid", "bool")


def _glue_source(data, spec: OpSpec, domain, value: np.ndarray, outputs: list) -> tuple[int | None, bool]:
    """An earlier output that feeds this argument, drawn among those of the argument's dtype:
    ``(index, False)`` for one whose shape broadcasts to the argument's, ``(index, True)`` for
    one fed by its sum; ``(None, False)`` for no feeding. Float arguments of piecewise-constant
    rows are never fed (their finite differences are not their zero derivative)."""
    if value.dtype == bool:
        candidates = [i for i, o in enumerate(outputs) if o.dtype == bool and _broadcasts_to(o.shape, value.shape)]
        reducible: list[int] = []
    elif value.dtype.kind == "f" and domain.kind in ("uniform", "away", "distinct") and spec.derivative == "check":
        same = [i for i, o in enumerate(outputs) if o.dtype == value.dtype]
        candidates = [i for i in same if _broadcasts_to(outputs[i].shape, value.shape)]
        reducible = [i for i in same if i not in candidates]
    else:
        return None, False
    choices = [(i, False) for i in candidates] + [(i, True) for i in reducible]
    if not choices or data.draw(st.integers(0, 3), label="feed an earlier output?") == 0:
        return None, False
    return data.draw(st.sampled_from(choices), label="which output")


def _broadcasts_to(shape, target) -> bool:
    try:
        return np.broadcast_shapes(shape, target) == tuple(target)
    except ValueError:
        return False


def _glue_constants(domain, value: np.ndarray) -> tuple:
    """``sign``, ``low``, ``width`` of the glue: the interval the target point lives in."""
    if domain.kind == "away":
        return np.sign(value).astype(value.dtype), domain.margin, domain.hi - domain.margin
    if domain.kind == "distinct":  # a small move: ties stay at least 0.2 - 2 * MIX * 0.1 apart
        return np.ones_like(value), -0.1, 0.2
    return np.ones_like(value), domain.lo, domain.hi - domain.lo


def _pack(data, leaves: list) -> Any:
    """The input arrays as a drawn pytree: a dict of arrays and tuples of arrays (keys sorted,
    so that ``tree.leaves`` gives back ``leaves`` in order)."""
    groups: list = []
    i = 0
    while i < len(leaves):
        size = data.draw(st.integers(1, min(3, len(leaves) - i)), label="group size")
        group = leaves[i:i + size]
        groups.append(group[0] if size == 1 and data.draw(st.booleans(), label="bare leaf") else tuple(group))
        i += size
    return {f"x{k}": g for k, g in enumerate(groups)}


@st.composite
def programs(draw_fn, min_steps: int = 2, max_steps: int = 4) -> Program:
    """A random program of ``min_steps`` to ``max_steps`` table rows, with its input values."""
    data = _DrawAdapter(draw_fn)
    program = Program()
    inputs: list = []
    outputs: list = []  # eager values of the outputs so far, to wire later steps
    count = data.draw(st.integers(min_steps, max_steps), label="steps")
    attempts = 0
    while len(program.steps) < count and attempts < 3 * count:
        attempts += 1
        # a uniform pick: sampled_from favours the first rows of a long list
        spec = POOL[data.draw(st.integers(0, 2**32 - 1), label="row") % len(POOL)]
        # one step in four in the row's lower precision (float32, complex64), if it has one
        low = len(spec.dtypes) > 1 and data.draw(st.integers(0, 3), label="lower precision?") == 0
        case = draw_case(data, spec, spec.dtypes[1] if low else spec.dtypes[0])
        args: list[Arg] = []
        for domain, value in zip(spec.domains, case.args):
            value = np.asarray(value)
            arg = Arg(value)
            if _is_input(spec, domain, value):
                arg.index = len(inputs) + sum(a.index is not None for a in args)
            arg.source, arg.reduce = _glue_source(data, spec, domain, value, outputs)
            if arg.source is not None and value.dtype != bool:
                arg.sign, arg.low, arg.width = _glue_constants(domain, value)
            args.append(arg)
        step = Step(spec, case.params, args, keep=[])
        step_inputs = inputs + [a.value for a in args if a.index is not None]
        try:
            with np.errstate(all="ignore"):
                out = _leaves(spec.fn(*[a(np, step_inputs, outputs) for a in args], **case.params))
        except Exception:  # the row on its own values is checked by the op tables
            out = None
        if out is None or any(_is_python_value(o) for o in out):
            continue  # Python values (allclose, array_equal) are no arrays to transform
        step.keep = list(range(len(out)))
        program.steps.append(step)
        inputs = step_inputs
        outputs.extend(np.asarray(o) for o in out)
    program.inputs = _pack(data, inputs)
    # second order in full precision only: float32 finite differences of derivatives are noise
    program.second_order = (all(s.spec.order >= 2 for s in program.steps)
                            and all(np.finfo(x.dtype).bits == 64 for x in inputs if x.dtype.kind == "f")
                            and all(np.finfo(x.dtype).bits == 128 for x in inputs if x.dtype.kind == "c")
                            and data.draw(st.integers(0, 2), label="second order?") == 0)
    return program


class _DrawAdapter:
    """``data.draw`` for the specs' ``draw_case``, over a composite strategy's ``draw``."""

    def __init__(self, draw_fn):
        self._draw = draw_fn

    def draw(self, strategy, label=None):
        return self._draw(strategy)
