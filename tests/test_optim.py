"""functrans.optim: optimizers against their published update formulas, and convergence."""
from __future__ import annotations

import numpy as np
import pytest

from functrans import optim


def test_sgd_plain_step_formula():
    opt = optim.sgd(0.1)
    params = {"w": np.array([1.0, -2.0])}
    state = opt.init(params)
    g = {"w": np.array([0.5, 1.0])}
    updates, state = opt.update(g, state, params)
    np.testing.assert_allclose(updates["w"], [-0.05, -0.1], rtol=1e-15)
    assert state.count == 1 and state.learning_rate == 0.1


def test_apply_updates_keeps_float32():
    p = {"w": np.ones(3, np.float32)}
    out = optim.apply_updates(p, {"w": np.full(3, 0.25)})
    assert out["w"].dtype == np.float32
    np.testing.assert_array_equal(out["w"], np.full(3, 1.25, np.float32))


def test_sgd_nesterov_needs_momentum():
    with pytest.raises(ValueError, match="momentum > 0"):
        optim.sgd(0.1, nesterov=True)
