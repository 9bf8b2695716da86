"""Every primitive, table-driven from ``op_specs.PRIMITIVE_SPECS``: values against NumPy on
plain arrays and inside transformations, derivatives by ``check_grads`` to second order in
forward and reverse mode in float64 (complex128 for complex-only rows), and a lower-precision
run (float32, complex64) in which values, tangents and cotangents keep their precision."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from op_specs import PRIMITIVE_SPECS, run_spec


@pytest.mark.parametrize("spec", PRIMITIVE_SPECS, ids=repr)
@given(data=st.data())
def test_primitive(spec, data):
    run_spec(spec, data, spec.dtypes[0], order=spec.order)


@pytest.mark.parametrize("spec", [s for s in PRIMITIVE_SPECS if len(s.dtypes) > 1], ids=repr)
@given(data=st.data())
def test_primitive_low_precision(spec, data):
    run_spec(spec, data, spec.dtypes[1], order=1)
