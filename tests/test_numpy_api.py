"""Every public functrans.numpy function, table-driven from ``op_specs.FNP_SPECS``: values,
shapes and dtypes against NumPy on plain arrays and inside transformations; derivatives by
``check_grads`` to second order in forward and reverse mode in float64; a float32 run in which
values, tangents and cotangents stay float32 (Python scalars do not widen them)."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from op_specs import FNP_SPECS, run_spec


@pytest.mark.parametrize("spec", FNP_SPECS, ids=repr)
@given(data=st.data())
def test_function(spec, data):
    run_spec(spec, data, spec.dtypes[0], order=spec.order)


@pytest.mark.parametrize("spec", [s for s in FNP_SPECS if len(s.dtypes) > 1 and s.nargs], ids=repr)
@given(data=st.data())
def test_function_low_precision(spec, data):
    run_spec(spec, data, spec.dtypes[1], order=1)
