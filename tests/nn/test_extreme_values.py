"""nn's normalisations, activations and losses at extreme but finite inputs, and in float16:
each result against the same formula in float64 on the same values."""
import numpy as np
import pytest

import functrans as ft
from functrans import nn

X = np.array([[1.0, -0.5, 2.0, -3.0], [0.25, 1.5, -2.0, 0.75]])


def _standardized(x, axis=-1):
    x = x.astype(np.float64)
    c = x - x.mean(axis=axis, keepdims=True)
    return c / np.sqrt((c * c).mean(axis=axis, keepdims=True) + 1e-5)


@pytest.mark.parametrize("scale", [300.0, 1e4])
def test_float16_normalisations_compute_their_statistics_in_float32(scale):
    # float16's variance of entries of 300 (9e4) overflows: the outputs were 0
    x = (scale * X).astype(np.float16)
    want = _standardized(x)
    ln = nn.LayerNorm(4, dtype=np.float16)
    gn = nn.GroupNorm(1, 4, dtype=np.float16)
    bn = nn.BatchNorm(2, dtype=np.float32)
    outs = {"standardize": nn.standardize(x),
            "LayerNorm": ln.apply(ln.init(ft.random.key(0)), x),
            "jit LayerNorm": ft.jit(ln.apply)(ln.init(ft.random.key(0)), x),
            "GroupNorm": gn.apply(gn.init(ft.random.key(0)), x[:, :, None])[:, :, 0]}
    for name, y in outs.items():
        assert y.dtype == np.float16, name
        np.testing.assert_allclose(y, want, rtol=3e-3, atol=3e-3, err_msg=name)
    y, state = bn.apply(bn.init(ft.random.key(0)), x.T.copy(), bn.init_state(), train=True)
    assert y.dtype == np.float32   # the float32 weight promotes
    np.testing.assert_allclose(y, _standardized(x.T, axis=0), rtol=3e-3, atol=3e-3)
    np.testing.assert_allclose(state.running_var, 0.9 + 0.1 * 4 / 3 * x.T.astype(np.float64)
                               .var(axis=0), rtol=1e-3)


def test_squareplus_neither_cancels_for_negative_inputs_nor_overflows():
    # (x + sqrt(x^2 + 4)) / 2: at x = -3000 in float32 the sum cancelled (10% off), at 1e30
    # x^2 overflowed (inf)
    for dtype, xs in ((np.float32, [-3000.0, -1e30, 1e30, -1e-30, 0.0, 1.5]),
                      (np.float16, [-300.0, -3e4, 3e4, 0.5])):
        x = np.array(xs, dtype)
        x64 = x.astype(np.float64)
        want = np.where(x64 < 0, 4 / (2 * (np.hypot(x64, 2) - x64)), (x64 + np.hypot(x64, 2)) / 2)
        y = nn.squareplus(x)
        assert y.dtype == dtype
        np.testing.assert_allclose(y, want, rtol=4 * np.finfo(dtype).eps)
        np.testing.assert_array_equal(ft.jit(nn.squareplus)(x), y)
    grad = ft.grad(lambda x: nn.squareplus(x).sum())
    x = np.array([-3.0, 0.0, 2.0, 1e300, -1e300])
    np.testing.assert_allclose(grad(x), 0.5 * (1 + x / np.hypot(x, 2)))
