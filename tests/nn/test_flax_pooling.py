"""nn.max_pool, nn.min_pool and nn.avg_pool: flax.linen's functional pooling on channels-last
inputs. The expected numbers were computed with JAX 0.10.2 (x64) by flax's definition
(flax is not installed there): lax.reduce_window over the spatial axes with init -inf / +inf / 0
and lax.max / lax.min / lax.add, strides defaulting to 1, the padding pairs of the spatial
axes; avg_pool divides by prod(window_shape), or (count_include_pad=False) by the same
pooling of ones. Gradients are jax.vjp with the cotangent CT below."""
from __future__ import annotations

import numpy as np
import pytest

import functrans as ft
from functrans import nn
from functrans.testing import check_grads

# distinct values (37 is prime to 80), so no window has a tie for its max or min
X = (np.arange(80, dtype=float).reshape(2, 5, 4, 2) * 37 % 80) / 4 - 10


def _ct(shape):
    return np.arange(int(np.prod(shape)), dtype=float).reshape(shape) % 5 - 2


CASES = {
    # name: (function, expected [1, ..., 1] slice, expected gradient [1, ..., 1] slice)
    "max_same_strided": (
        lambda x: nn.max_pool(x, (3, 2), strides=(2, 1), padding="SAME"),
        [[9.25, 7.75, 6.25, 4.75], [9.75, 9.75, 8.25, 6.75], [9.75, 9.75, 8.25, 6.75]],
        [[-2, 0, 2, -1], [0, 0, 0, 0], [0, 0, 0, 0], [0, -1, -2, 2], [0, 0, 0, 0]]),
    "min_explicit_pairs": (
        lambda x: nn.min_pool(x, (2, 3), padding=((1, 0), (0, 2))),
        [[6.25, 4.75, 4.75, 4.75], [0.25, -1.25, -1.25, -1.25], [-5.75, -7.25, -7.25, -7.25],
         [-8.75, -7.25, -7.25, -7.25], [-8.75, 0.75, 0.75, 0.75]],
        [[0, 0, -1, -1], [0, 0, 2, -2], [0, 0, 0, 3], [-1, 0, 0, 0], [0, 0, 0, 0]]),
    "avg_same_without_pad": (
        lambda x: nn.avg_pool(x, (3, 3), strides=(2, 2), padding="SAME", count_include_pad=False),
        [[4.75, 2.5], [0.194444444444, 0.166666666667], [3.416666666667, 4.5]],
        [[1 / 6, 1 / 6, -1 / 3, -1 / 2], [1 / 6, 1 / 6, 0, -1 / 6], [0, 0, 1 / 3, 1 / 3],
         [-1 / 6, -1 / 6, 5 / 12, 7 / 12], [-1 / 6, -1 / 6, 1 / 12, 1 / 4]]),
    "avg_same_with_pad": (
        lambda x: nn.avg_pool(x, (3, 3), strides=(2, 2), padding="SAME"),
        [[3.166666666667, 1.111111111111], [0.194444444444, 0.111111111111],
         [2.277777777778, 2.0]],
        [[1 / 9, 1 / 9, -1 / 9, -2 / 9], [1 / 9, 1 / 9, 1 / 9, 0], [0, 0, 2 / 9, 2 / 9],
         [-1 / 9, -1 / 9, 2 / 9, 1 / 3], [-1 / 9, -1 / 9, 0, 1 / 9]]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_values_and_gradients_match_flax(name):
    f, want, want_grad = CASES[name]
    y = f(X)
    np.testing.assert_allclose(y[1, ..., 1], want, rtol=1e-11, atol=1e-14)
    ct = _ct(y.shape)
    grad = ft.vjp(f, X)[1](ct)[0]
    np.testing.assert_allclose(grad[1, ..., 1], want_grad, rtol=1e-11, atol=1e-14)
    # jit, vmap over the batch axis (the unbatched form), and a second batch axis agree
    np.testing.assert_allclose(ft.jit(f)(X), y, rtol=1e-14)
    np.testing.assert_allclose(ft.vmap(f)(X), y, rtol=1e-14)
    np.testing.assert_allclose(np.stack([f(X[0]), f(X[1])]), y, rtol=1e-14)
    np.testing.assert_allclose(f(X[None])[0], y, rtol=1e-14)
    np.testing.assert_allclose(ft.jit(ft.grad(lambda x: (f(x) * ct).sum()))(X), grad, rtol=1e-14)
    x32 = X.astype(np.float32)
    assert f(x32).dtype == np.float32
    assert ft.grad(lambda x: f(x).sum())(x32).dtype == np.float32
    np.testing.assert_allclose(f(x32), y, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name", sorted(CASES))
def test_derivatives_against_finite_differences(name):
    check_grads(CASES[name][0], (X[:1],), order=2, modes=("fwd", "rev"))


def test_defaults_and_one_dimension():
    x = np.array([[1.0], [3.0], [2.0], [0.0]])  # (W, C)
    # strides default to 1 and padding to VALID, as in flax
    np.testing.assert_array_equal(nn.max_pool(x, (2,))[:, 0], [3.0, 3.0, 2.0])
    np.testing.assert_array_equal(nn.min_pool(x, (2,))[:, 0], [1.0, 2.0, 0.0])
    np.testing.assert_array_equal(nn.avg_pool(x, (2,))[:, 0], [2.0, 2.5, 1.0])
    np.testing.assert_array_equal(nn.avg_pool(x, (3,), padding="same")[:, 0], [4 / 3, 2, 5 / 3, 2 / 3])
    np.testing.assert_array_equal(nn.avg_pool(x, (3,), padding="SAME", count_include_pad=False)[:, 0],
                                  [2, 2, 5 / 3, 1])


def test_integer_inputs_pad_with_the_dtype_limits():
    x = np.arange(6).reshape(2, 3, 1)
    y = nn.max_pool(x, (2, 2), padding="SAME")
    assert y.dtype == x.dtype
    np.testing.assert_array_equal(y[..., 0], [[4, 5, 5], [4, 5, 5]])
    np.testing.assert_array_equal(nn.min_pool(x, (2, 2), padding="SAME")[..., 0], [[0, 1, 2], [3, 4, 5]])


@pytest.mark.parametrize("kwargs, error, match", [
    ({"window_shape": 2}, TypeError, r"window_shape must be a tuple of ints.*\(2, 2\)"),
    ({"window_shape": (2, 2), "strides": 2}, TypeError, "strides must be a tuple"),
    ({"window_shape": (2, 2), "strides": (1, 0)}, ValueError, "strides must be a tuple of 2 positive"),
    ({"window_shape": (2, 2), "padding": "FULL"}, ValueError, "'SAME', 'VALID'"),
    ({"window_shape": (2, 2), "padding": ((1, 1),)}, ValueError, r"2 \(low, high\) pairs"),
    ({"window_shape": (2, 2), "padding": ((1, -1), (0, 0))}, ValueError, "non-negative"),
    ({"window_shape": (7, 2)}, ValueError, "max_pool: the input's spatial shape"),
    ({"window_shape": (2, 2, 2, 2, 2)}, ValueError, "channels last"),
])
def test_bad_arguments_name_the_fix(kwargs, error, match):
    with pytest.raises(error, match=match):
        nn.max_pool(X, **kwargs)
