"""functrans.scipy.integrate.trapezoid against SciPy's, with derivatives in y and x (odeint,
the other name of the module, is tested with functrans.integrate in tests/integrate)."""
from __future__ import annotations

import numpy as np
import pytest

import functrans as ft
import functrans.scipy.integrate as fsi
from functrans.testing import check_grads

si = pytest.importorskip("scipy.integrate")


def test_trapezoid_matches_scipy_eager_jit_and_vmap():
    rng = np.random.default_rng(0)
    y, x = rng.standard_normal((3, 5)), np.sort(rng.standard_normal(5))
    for kwargs in [{}, {"dx": 0.3}, {"x": x}, {"x": np.sort(rng.standard_normal((3, 5)), axis=1)}]:
        expected = si.trapezoid(y, **kwargs)
        np.testing.assert_allclose(fsi.trapezoid(y, **kwargs), expected, rtol=1e-13)
        np.testing.assert_allclose(ft.jit(lambda y, kw=kwargs: fsi.trapezoid(y, **kw))(y), expected, rtol=1e-13)
    np.testing.assert_allclose(fsi.trapezoid(y, axis=0), si.trapezoid(y, axis=0), rtol=1e-13)
    np.testing.assert_allclose(ft.vmap(lambda row: fsi.trapezoid(row, x))(y), si.trapezoid(y, x), rtol=1e-13)
    assert fsi.trapezoid(y.astype(np.float32), dx=0.5).dtype == np.float32
    check_grads(lambda y, x: fsi.trapezoid(y ** 2, x), (y, x), order=2)
