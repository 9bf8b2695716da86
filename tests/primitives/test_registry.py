"""Registry completeness: every primitive carries the rules it needs, and every public name
of functrans.numpy and every primitive has a row in the op table (tests/specs), so nothing
ships without derivative checks."""
from __future__ import annotations

import types

import pytest

import functrans.numpy as fnp
from functrans.primitives import all_primitives

from specs import FNP_SPECS, PRIMITIVE_SPECS

PRIMITIVES = sorted(all_primitives(), key=lambda p: p.name)

# Primitives linear in at least one of their inputs; each must have a transpose rule. (A
# `linear_inputs` attribute on Primitive, set by the registrars, would let this list go.)
LINEAR = {
    "add", "sub", "neg", "mul", "div", "select", "real", "imag", "conj",
    "reduce_sum", "broadcast_in_dim", "reshape", "transpose", "squeeze", "expand_dims",
    "concatenate", "pad", "rev", "slice", "gather", "scatter_add", "scatter", "dot_general",
    "convert_element_type", "full_like", "to_device_of",
    "cumsum", "fft", "solve", "triangular_solve", "expm_frechet", "sylvester",
    "gru_cell_jvp", "gru_cell_vjp", "lstm_cell_jvp", "lstm_cell_vjp",
}


def _public_fnp_functions() -> dict:
    return {
        name: value for name, value in vars(fnp).items()
        if not name.startswith("_") and callable(value)
        and not isinstance(value, (type, types.ModuleType))
    }


@pytest.mark.parametrize("prim", PRIMITIVES, ids=lambda p: p.name)
def test_primitive_has_its_rules(prim):
    assert callable(prim.impl), f"{prim.name} has no implementation"
    assert callable(prim.shape_rule), f"{prim.name} has no shape rule"
    if prim.differentiable:
        assert callable(prim.jvp), f"{prim.name} has no JVP rule and is not declared non-differentiable"
    else:
        assert prim.jvp is None, f"{prim.name} is declared non-differentiable but has a JVP rule"
    if prim.name in LINEAR:
        assert callable(prim.transpose), f"{prim.name} is linear in an input but has no transpose rule"


def test_linear_list_matches_the_transpose_rules():
    """A primitive with a transpose rule is linear in something: the list above must say so."""
    with_transpose = {p.name for p in PRIMITIVES if p.transpose is not None}
    assert with_transpose - LINEAR == set(), "transpose rules on primitives not declared linear"
    assert LINEAR - {p.name for p in PRIMITIVES} == set(), "declared linear but not registered"


def test_primitive_names_are_unique():
    names = [p.name for p in PRIMITIVES]
    assert len(names) == len(set(names))


CORE_FAMILIES = {f"functrans.primitives.{m}" for m in
                 ("_define", "elementwise", "reduction", "shape", "indexing", "dot", "linalg", "conversion")}


def test_core_families_have_batching_rules():
    """vmap runs a primitive without a batching rule example by example (correct, slow); the
    primitives of the core families must not need that."""
    core = [p for p in PRIMITIVES if getattr(p.impl, "__module__", None) in CORE_FAMILIES]
    assert len(core) >= 50, "the core families were not recognised by their modules"
    missing = sorted(p.name for p in core if p.batch is None)
    assert not missing, f"core primitives without a batching rule: {missing}"


def test_every_primitive_has_a_spec():
    covered = {s.covers for s in PRIMITIVE_SPECS}
    missing = sorted(p.name for p in PRIMITIVES if p.name not in covered)
    assert not missing, (
        f"primitives without an OpSpec in tests/specs (PRIMITIVE_SPECS): {missing}")


def test_every_public_fnp_function_has_a_spec():
    public = _public_fnp_functions()
    covered = {s.covers for s in FNP_SPECS}
    for spec in FNP_SPECS:
        for alias in spec.aliases:
            assert public.get(alias) is public.get(spec.covers), (
                f"{alias} is listed as an alias of {spec.covers} but is a different function: "
                "give it its own OpSpec")
            covered.add(alias)
    missing = sorted(set(public) - covered)
    assert not missing, (
        f"public functrans.numpy functions without an OpSpec in tests/specs (FNP_SPECS): {missing}")


def test_specs_name_real_functions():
    public = _public_fnp_functions()
    unknown = sorted({s.covers for s in FNP_SPECS} - set(public))
    assert not unknown, f"OpSpecs for names functrans.numpy does not export: {unknown}"
    prims = {p.name for p in PRIMITIVES}
    unknown = sorted({s.covers for s in PRIMITIVE_SPECS} - prims)
    assert not unknown, f"OpSpecs for primitives that are not registered: {unknown}"


def test_spec_names_are_unique():
    names = [s.name for s in PRIMITIVE_SPECS + FNP_SPECS]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    assert not duplicates, f"duplicate OpSpec names: {duplicates}"
