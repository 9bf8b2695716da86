"""nn.RNN, nn.GRU and nn.LSTM run their time loop as one lax.scan: a jitted training step stages
the step once (its program does not grow with the sequence length), and gives the values and
gradients of the eager layer (tests/nn/test_nn.py checks those against PyTorch's equations)."""
from __future__ import annotations

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans import nn, random, tree

LAYERS = [
    pytest.param(nn.RNN(3, 4, num_layers=2), id="RNN"),
    pytest.param(nn.GRU(3, 4), id="GRU"),
    pytest.param(nn.LSTM(3, 4, batch_first=True), id="LSTM"),
]


def loss(layer):
    def f(params, x):
        out, carry = layer.apply(params, x)
        return fnp.sum(out ** 2) + sum(fnp.sum(c) for c in tree.leaves(carry))

    return f


@pytest.mark.parametrize("layer", LAYERS)
def test_a_jitted_training_step_does_not_grow_with_the_sequence_length(layer):
    params = layer.init(random.key(0))
    step = ft.value_and_grad(loss(layer))
    counts = [len(ft.make_jaxpr(step)(params, np.ones((length, 2, 3))).eqns) for length in (5, 50)]
    assert counts[0] == counts[1]
    names = [e.prim.name for e in ft.make_jaxpr(step)(params, np.ones((50, 2, 3))).eqns]
    assert "scan" in names


@pytest.mark.parametrize("layer", LAYERS)
def test_jit_and_vmap_give_the_eager_values_and_gradients(layer):
    params = layer.init(random.key(1))
    x = np.random.default_rng(0).standard_normal((6, 2, 3))
    value, grads = ft.value_and_grad(loss(layer))(params, x)
    jit_value, jit_grads = ft.jit(ft.value_and_grad(loss(layer)))(params, x)
    np.testing.assert_allclose(jit_value, value, rtol=1e-12)
    for a, b in zip(tree.leaves(jit_grads), tree.leaves(grads)):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-14)
    per_sequence = ft.vmap(loss(layer), (None, 0))(params, np.stack([x, 2 * x]))
    np.testing.assert_allclose(per_sequence, [value, loss(layer)(params, 2 * x)], rtol=1e-12)


def test_the_carry_takes_the_dtype_of_the_computation():
    gru = nn.GRU(3, 4, dtype=np.float32)
    params = gru.init(random.key(2))
    out, h = gru.apply(params, np.ones((5, 2, 3), np.float32), np.zeros((1, 2, 4)))  # float64 h0
    assert out.dtype == np.float64 and h.dtype == np.float64
    out, h = gru.apply(params, np.ones((5, 2, 3), np.float32))
    assert out.dtype == np.float32 and h.dtype == np.float32


def test_cells_refuse_a_carry_of_the_wrong_form():
    x = np.ones((2, 3))
    lstm = nn.LSTMCell(3, 4)
    params = lstm.init(random.key(0))
    h = np.full((2, 4), 0.5)
    # A lone array was split along its first axis into h and c: a silent wrong answer.
    with pytest.raises(TypeError, match=r"the carry must be the pair \(h, c\)"):
        lstm.apply(params, x, h)
    with pytest.raises(ValueError, match=r"expected a carry of shape \(2, 4\).*got \(1, 4\)"):
        lstm.apply(params, x, (h[:1], h))
    pair = lstm.apply(params, x, [h, h])  # a list is a pair too
    np.testing.assert_array_equal(pair[0], lstm.apply(params, x, (h, h))[0])
    gru = nn.GRUCell(3, 4)
    with pytest.raises(ValueError, match=r"expected a carry of shape \(2, 4\)"):
        gru.apply(gru.init(random.key(1)), x, np.zeros(4))  # would broadcast
    rnn = nn.RNNCell(3, 4)
    out = ft.vmap(lambda a, c: rnn.apply(rnn.init(random.key(2)), a, c))(x, h)
    assert out.shape == (2, 4)
