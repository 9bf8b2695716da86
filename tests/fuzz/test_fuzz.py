"""The fuzzer: random programs composed from the op tables, each checked against NumPy and
against itself.

Each program: values against the same program on plain NumPy (the rows' references); eager
= jit (also on a second call with new values) = vmap over a batch of one, for the program and
for its jvp (shapes, dtypes, values up to rounding); vjp against jvp by the inner-product
identity, to rounding; jvp and vjp against finite differences (check_grads), to second order
on a sample of programs.

The default run is short and deterministic (the default hypothesis profile);
``FUNCTRANS_FUZZ_EXAMPLES=3000`` sets the number of programs for a long run, and
``HYPOTHESIS_PROFILE=explore`` draws them from random seeds (README, Development).
"""
from __future__ import annotations

import os

import numpy as np
from hypothesis import given, settings

import functrans as ft
import functrans.numpy as fnp
from functrans import tree
from functrans.testing import check_grads

from fuzz_programs import Program, programs
from specs import assert_same

EXAMPLES = int(os.environ.get("FUNCTRANS_FUZZ_EXAMPLES", "0")) or None


def _examples(default: int) -> int:
    return EXAMPLES or default


def _outputs(program: Program, inputs) -> list:
    return program(inputs, fnp)


def check_values(program: Program) -> list:
    """The program on functrans.numpy gives what it gives on plain NumPy."""
    got = _outputs(program, program.inputs)
    expected = program(program.inputs, np, reference=True)
    assert_same(got, expected, f"values of\n{program}")
    return got


def check_derivatives(program: Program, eager: list) -> None:
    """jvp and vjp against finite differences (check_grads); to second order if drawn."""
    if not tree.leaves(program.inputs):
        return
    check_grads(lambda inputs: _outputs(program, inputs), (program.inputs,),
                order=2 if program.second_order else 1, modes=("fwd", "rev"), **program.tolerances(eager))


# How closely <vjp(u), v> must equal <u, jvp(v)>, relative to sum |u * jvp(v)|: both sides
# are exact derivatives, so only rounding separates them.
_IDENTITY_RTOL = {8: 1e-9, 4: 1e-4}


def _inexact(outputs: list) -> list[int]:
    return [i for i, o in enumerate(outputs) if o.dtype.kind in "fc"]


def _random_like(arrays: list, rng: np.random.Generator) -> list:
    out = []
    for a in arrays:
        values = rng.standard_normal(a.shape)
        if a.dtype.kind == "c":
            values = values + 1j * rng.standard_normal(a.shape)
        out.append(values.astype(a.dtype))
    return out


def _pair(xs: list, ys: list) -> tuple[float, float]:
    """sum(x * y) over the lists (real part) and sum |x * y|, its scale."""
    products = [np.asarray(x).astype(np.complex128) * np.asarray(y) for x, y in zip(xs, ys)]
    return float(sum(np.sum(p).real for p in products)), float(sum(np.sum(np.abs(p)) for p in products))


def check_vjp_against_jvp(program: Program, eager: list) -> None:
    """The inner-product identity <vjp(u), v> = <u, jvp(v)> along random directions, to
    rounding: reverse mode is the transpose of forward mode."""
    leaves, treedef = tree.flatten(program.inputs)
    kept = _inexact(eager)
    if not leaves or not kept:
        return

    def f(*xs):
        outs = _outputs(program, treedef.unflatten(list(xs)))
        return [outs[i] for i in kept]

    rng = np.random.default_rng(0)
    v = _random_like(leaves, rng)
    u = _random_like([eager[i] for i in kept], rng)
    _, jv = ft.jvp(f, leaves, v)
    _, pullback = ft.vjp(f, *leaves)
    uj = pullback(u)
    # the derivatives are programs too: jit and vmap over a batch of one agree on them
    jvp_fn = lambda xs, ts: ft.jvp(f, xs, ts)[1]
    jv_host = [np.asarray(t) for t in jv]
    assert_same([np.asarray(t) for t in ft.jit(jvp_fn)(leaves, v)], jv_host, f"jit of jvp of\n{program}")
    batched = ft.vmap(jvp_fn)([x[None] for x in leaves], [t[None] for t in v])
    assert_same([np.asarray(t)[0] for t in batched], jv_host, f"vmap of jvp of\n{program}")
    forward, scale_f = _pair(u, jv)
    reverse, scale_r = _pair(uj, v)
    bits = min(np.finfo(a.dtype).bits // 8 for a in [*leaves, *(eager[i] for i in kept)])
    # a floor at rounding level of the directions themselves: a derivative that is zero in
    # exact arithmetic (corrcoef of two observations is +-1 everywhere) comes out as rounding
    # errors of terms that cancel, on which the relative identity says nothing
    eps = float(np.finfo({8: np.float64, 4: np.float32}.get(bits, np.float16)).eps)
    rounding = 100 * eps * sum(float(np.sum(np.abs(x))) for x in u) * sum(float(np.sum(np.abs(t))) for t in v)
    allowed = max(_IDENTITY_RTOL.get(bits, 1e-2) * max(scale_f, scale_r, 1e-30), rounding)
    assert abs(forward - reverse) <= allowed, (
        f"<u, jvp(v)> = {forward!r} but <vjp(u), v> = {reverse!r} (allowed difference {allowed:.2g}) for\n"
        f"{program}")


def check_jit_and_vmap(program: Program, eager: list) -> None:
    """jit and vmap over a batch of one give eager's shapes, dtypes and values."""
    f = lambda inputs: _outputs(program, inputs)
    jitted = ft.jit(f)
    assert_same(tree.map(np.asarray, jitted(program.inputs)), eager, f"jit of\n{program}")
    # the second call reuses the staged program: new values, no stale ones
    moved = tree.map(lambda x: x * x.dtype.type(0.999), program.inputs)
    assert_same(tree.map(np.asarray, jitted(moved)), [np.asarray(o) for o in f(moved)],
                f"jit of\n{program}\ncalled again with the inputs times 0.999")
    if not tree.leaves(program.inputs):
        return
    batched = tree.map(lambda x: x[None], program.inputs)
    got = ft.vmap(f)(batched)
    assert_same([np.asarray(g)[0] for g in got], eager, f"vmap over a batch of one of\n{program}")


def run_program(program: Program) -> None:
    eager = [np.asarray(o) for o in check_values(program)]
    check_jit_and_vmap(program, eager)
    check_vjp_against_jvp(program, eager)
    check_derivatives(program, eager)


@settings(max_examples=_examples(150))
@given(program=programs())
def test_random_programs(program):
    run_program(program)
