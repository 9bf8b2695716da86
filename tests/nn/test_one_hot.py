"""nn.one_hot against a loop over the entries: the axis it adds, entries outside the classes
(zeros, as in JAX), dtypes, traced entries under jit and vmap, and both backends."""
from __future__ import annotations

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans import nn


def by_loop(x, n, axis):
    out = np.zeros(x.shape + (n,))
    for pos in np.ndindex(x.shape):
        if 0 <= x[pos] < n:
            out[pos + (x[pos],)] = 1.0
    return np.moveaxis(out, -1, axis)


@pytest.mark.parametrize("axis", [-1, 0, 1, -2])
def test_one_hot_matches_a_loop(backend, axis):
    x = np.array([[0, 3, -1], [2, 4, 1]])  # 4 and -1 are not classes of 4
    want = by_loop(x, 4, axis)
    xs = backend.put(x)
    for f in (nn.one_hot, ft.jit(nn.one_hot, static_argnums=1, static_argnames="axis")):
        out = f(xs, 4, axis=axis)
        backend.check_placed(out)
        np.testing.assert_array_equal(backend.get(out), want)
    rows = ft.vmap(lambda r: nn.one_hot(r, 4, axis=0 if axis in (0, -2) else -1))(xs)
    np.testing.assert_array_equal(backend.get(rows), np.stack([by_loop(r, 4, 0 if axis in (0, -2) else -1)
                                                               for r in x]))


def test_dtype_and_errors():
    assert nn.one_hot(np.array([1]), 2, dtype=np.float32).dtype == np.float32
    assert nn.one_hot([1, 0], 2, dtype=bool).tolist() == [[False, True], [True, False]]
    assert nn.one_hot(np.array([], int), 3).shape == (0, 3)
    with pytest.raises(np.exceptions.AxisError, match="axis 3"):
        nn.one_hot(np.array([1]), 2, axis=3)
    with pytest.raises(ValueError, match="num_classes"):
        nn.one_hot(np.array([1]), -1)


def test_as_a_loss_target_under_jit():
    logits = np.array([[2.0, 0.5, -1.0], [0.1, 0.2, 0.3]])
    labels = np.array([0, 2])

    def loss(z, y):
        return -fnp.sum(nn.one_hot(y, 3) * nn.log_softmax(z)) / 2

    want = nn.cross_entropy(logits, labels)
    np.testing.assert_allclose(ft.jit(loss)(logits, labels), want, rtol=1e-14)
    np.testing.assert_allclose(ft.jit(ft.grad(loss))(logits, labels),
                               ft.grad(lambda z: nn.cross_entropy(z, labels))(logits), rtol=1e-14)
