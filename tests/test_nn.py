"""functrans.nn: layer outputs against direct NumPy formulas, and their gradients."""
from __future__ import annotations

import numpy as np
import pytest

import functrans as ft
from functrans import nn, random


def test_linear_init_shapes_dtype_and_pytorch_bounds():
    params = nn.Linear(16, 5).init(random.key(0))
    assert params["weight"].shape == (5, 16) and params["bias"].shape == (5,)
    assert params["weight"].dtype == np.float64
    assert np.abs(params["weight"]).max() <= 0.25 and np.abs(params["bias"]).max() <= 0.25
    assert np.abs(params["weight"]).max() > 0.2  # spread over the whole range
    p32 = nn.Linear(16, 5, dtype=np.float32).init(random.key(0))
    assert p32["weight"].dtype == np.float32 and p32["bias"].dtype == np.float32


def test_linear_same_key_same_params():
    a = nn.Linear(3, 4).init(random.key(7))
    b = nn.Linear(3, 4).init(random.key(7))
    np.testing.assert_array_equal(a["weight"], b["weight"])
    np.testing.assert_array_equal(a["bias"], b["bias"])


def test_linear_apply_matches_numpy_and_gradients():
    layer = nn.Linear(3, 2)
    params = layer.init(random.key(1))
    x = np.arange(12.0).reshape(4, 3) / 10
    np.testing.assert_allclose(layer.apply(params, x), x @ params["weight"].T + params["bias"],
                               rtol=1e-14)
    g = ft.grad(lambda p: (layer.apply(p, x) ** 2).sum())(params)
    r = 2 * (x @ params["weight"].T + params["bias"])
    np.testing.assert_allclose(g["weight"], r.T @ x, rtol=1e-13)
    np.testing.assert_allclose(g["bias"], r.sum(0), rtol=1e-13)


def test_linear_rejects_wrong_input_width():
    layer = nn.Linear(3, 2)
    with pytest.raises(ValueError, match=r"\(\.\.\., 3\)"):
        layer.apply(layer.init(random.key(0)), np.ones((2, 4)))
