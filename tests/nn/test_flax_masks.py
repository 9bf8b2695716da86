"""nn.make_attention_mask, nn.make_causal_mask and nn.combine_masks: flax.linen's mask helpers
(shapes (*batch, 1, T, S), float32 by default), and their use with dot_product_attention."""
from __future__ import annotations

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans import nn


def test_attention_mask_shape_values_and_dtype():
    q = np.array([[1, 1, 0], [1, 0, 0]])
    k = np.array([[1, 0, 1, 1], [0, 1, 1, 0]])
    mask = nn.make_attention_mask(q, k)
    assert mask.shape == (2, 1, 3, 4) and mask.dtype == np.float32
    np.testing.assert_array_equal(mask[0, 0], [[1, 0, 1, 1], [1, 0, 1, 1], [0, 0, 0, 0]])
    np.testing.assert_array_equal(mask[1, 0], [[0, 1, 1, 0], [0, 0, 0, 0], [0, 0, 0, 0]])
    assert nn.make_attention_mask(q, k, extra_batch_dims=2).shape == (1, 1, 2, 1, 3, 4)
    ge = nn.make_attention_mask(np.arange(3), np.arange(3), fnp.greater_equal, dtype=bool)
    assert ge.dtype == np.bool_ and ge.shape == (1, 3, 3)
    np.testing.assert_array_equal(ge[0], np.tril(np.ones((3, 3), bool)))


def test_causal_mask_and_combination():
    causal = nn.make_causal_mask(np.zeros((2, 4)))
    assert causal.shape == (2, 1, 4, 4) and causal.dtype == np.float32
    np.testing.assert_array_equal(causal[1, 0], np.tril(np.ones((4, 4))))
    assert nn.make_causal_mask(np.zeros(3), extra_batch_dims=1).shape == (1, 1, 3, 3)
    real = np.array([[1, 1, 1, 0], [1, 1, 0, 0]])
    both = nn.combine_masks(nn.make_attention_mask(real, real), None, causal)
    assert both.dtype == np.float32
    np.testing.assert_array_equal(both[1, 0], [[1, 0, 0, 0], [1, 1, 0, 0], [0] * 4, [0] * 4])
    assert nn.combine_masks(None, None) is None
    assert nn.combine_masks(causal, dtype=bool).dtype == np.bool_
    with pytest.raises(ValueError, match="same rank"):
        nn.combine_masks(causal, causal[0])


def test_a_flax_mask_drives_dot_product_attention_as_bool():
    rng = np.random.default_rng(0)
    q = rng.normal(size=(2, 4, 1, 3))
    causal = nn.make_causal_mask(np.zeros((2, 4)), dtype=bool)
    out = nn.dot_product_attention(q, q, q, mask=causal)
    # (the two masks take different paths, whose weighted means of unit values round by a few
    # 1e-16 absolute: entries near 0 need the absolute part)
    np.testing.assert_allclose(out, nn.dot_product_attention(q, q, q, is_causal=True), rtol=1e-14, atol=1e-14)
    jitted = ft.jit(lambda q: nn.dot_product_attention(q, q, q, mask=nn.make_causal_mask(
        np.zeros((2, 4)), dtype=bool)))(q)
    np.testing.assert_allclose(jitted, out, rtol=1e-14)
    # flax's float32 default is refused with the fix spelled out
    with pytest.raises(TypeError, match=r"mask.astype\(bool\)"):
        nn.dot_product_attention(q, q, q, mask=nn.make_causal_mask(np.zeros((2, 4))))


def test_bad_arguments():
    with pytest.raises(ValueError, match="extra_batch_dims must be an int >= 0"):
        nn.make_attention_mask(np.ones(2), np.ones(2), extra_batch_dims=-1)
    with pytest.raises(ValueError, match="sequence axis"):
        nn.make_causal_mask(np.float64(1.0))
