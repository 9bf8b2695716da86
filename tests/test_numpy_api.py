"""Every public functrans.numpy function, table-driven from ``op_specs.FNP_SPECS``: values,
shapes and dtypes against NumPy on plain arrays and inside transformations; derivatives by
``check_grads`` to second order in forward and reverse mode in float64; a float32 run in which
values, tangents and cotangents stay float32 (Python scalars do not widen them)."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from op_specs import FNP_SPECS, check_spec


@pytest.mark.parametrize("spec", FNP_SPECS, ids=repr)
def test_function(spec, backend):
    check_spec(spec, backend)


@pytest.mark.parametrize("spec", [s for s in FNP_SPECS if len(s.dtypes) > 1 and s.nargs], ids=repr)
def test_function_low_precision(spec, backend):
    check_spec(spec, backend, low_precision=True)


# -- elementwise functions on values hypothesis chooses (domain ends, zeros, tiny numbers) ---------

import numpy as np  # noqa: E402
from hypothesis.extra import numpy as hnp  # noqa: E402

import functrans as ft  # noqa: E402
from op_specs import _FNP_BINARY, _FNP_COMPARISONS, _FNP_UNARY, Domain, assert_same  # noqa: E402

_NAMES = {f"fnp.{n}" for n, _, _ in _FNP_UNARY + _FNP_BINARY} | {f"fnp.{n}" for n in _FNP_COMPARISONS}
ELEMENTWISE = [s for s in FNP_SPECS if s.name in _NAMES | {"fnp.abs"}]


def _elements(domain: Domain, dtype):
    width = np.finfo(dtype).bits

    def floats(lo, hi):  # bounds rounded to the dtype, as hypothesis requires
        return st.floats(float(dtype(lo)), float(dtype(hi)), width=width)

    if domain.kind == "away":
        return st.one_of(floats(-domain.hi, -domain.margin), floats(domain.margin, domain.hi))
    if domain.kind == "grid":
        return st.integers(int(domain.lo), int(domain.hi)).map(float)
    return floats(domain.lo, domain.hi)


@pytest.mark.parametrize("spec", ELEMENTWISE, ids=repr)
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@given(data=st.data())
def test_elementwise_values_on_drawn_elements(spec, dtype, data):
    domains = spec.domain if isinstance(spec.domain, tuple) else (spec.domain,) * spec.nargs
    shapes, _ = data.draw(spec.sig)
    args = tuple(data.draw(hnp.arrays(dtype, s, elements=_elements(d, dtype))) for d, s in zip(domains, shapes))
    with np.errstate(all="ignore"):
        expected = spec.ref(*args)
    plain = spec.fn(*args)
    assert_same(plain, expected, f"{spec.name} on plain arrays")
    out, _ = ft.jvp(spec.fn, args, tuple(np.ones_like(a) for a in args))
    assert_same(out, plain, f"{spec.name} inside jvp")
