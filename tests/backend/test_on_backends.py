"""Transformations, nn layers and optimizers on every backend (the ``backend`` fixture: NumPy,
then the strict CuPy-like backend on its second device). Each test computes on the backend,
checks that every output is one of its arrays on the inputs' device, and compares with the
same computation on NumPy; derivatives are also checked by check_grads on the backend's arrays.
The table suites (test_primitives, numpy/test_functions, ...) cover every operation; these cover
the transformations and the library layers built on them."""
from __future__ import annotations

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans import nn, optim, random
from functrans.testing import check_grads

RNG = np.random.default_rng(0)
X = RNG.standard_normal((3, 4))
Y = RNG.standard_normal((4, 2))
V = RNG.standard_normal(3)


def _f(x, y):
    h = fnp.tanh(x @ y)
    return fnp.sum(h * fnp.sin(h)) + fnp.mean(x ** 2)


def _vec(v):
    return fnp.stack([fnp.sum(v ** 3), fnp.prod(fnp.cos(v)), v[0] * v[-1]])


def _same(backend, got, expected, what, rtol=1e-10):
    backend.check_placed(got, what)
    got = backend.get(got)
    for g, e in zip(ft.tree.leaves(got), ft.tree.leaves(expected)):
        np.testing.assert_allclose(g, e, rtol=rtol, atol=1e-12, err_msg=what)


# -- transformations ----------------------------------------------------------------------------------

TRANSFORMS = {
    "grad": lambda x, y: ft.grad(_f, argnums=(0, 1))(x, y),
    "value_and_grad": lambda x, y: ft.value_and_grad(_f)(x, y),
    "jvp": lambda x, y: ft.jvp(_f, (x, y), (x * 0.5, y * -1.0)),
    "vjp": lambda x, y: ft.vjp(lambda a: fnp.sin(a @ y), x)[1](fnp.cos(x @ y)),
    "vmap": lambda x, y: ft.vmap(lambda row: fnp.sum(fnp.exp(row) * row))(x),
    "vmap(grad)": lambda x, y: ft.vmap(ft.grad(lambda row: fnp.sum(fnp.tanh(row) @ y)))(x),
    "jacfwd": lambda x, y: ft.jacfwd(_vec)(x[0]),
    "jacrev": lambda x, y: ft.jacrev(_vec)(x[0]),
    "hessian": lambda x, y: ft.hessian(lambda v: fnp.sum(fnp.sin(v) * v ** 2))(x[0]),
    "grad(grad)": lambda x, y: ft.grad(lambda a: fnp.sum(ft.grad(lambda b: fnp.sum(fnp.sin(b) * a))(a)))(x),
    "checkpoint": lambda x, y: ft.grad(lambda a: fnp.sum(ft.checkpoint(lambda b: fnp.tanh(b @ y) ** 2)(a)))(x),
    "linearize": lambda x, y: ft.linearize(lambda a: fnp.exp(a) * a, x)[1](x * 0.1),
    "jit(value_and_grad)": lambda x, y: ft.jit(ft.value_and_grad(_f, argnums=(0, 1)))(x, y),
    "jit(jacfwd)": lambda x, y: ft.jit(ft.jacfwd(_vec))(x[0]),
    "jit(jacrev)": lambda x, y: ft.jit(ft.jacrev(_vec))(x[0]),
    "jit(hessian)": lambda x, y: ft.jit(ft.hessian(lambda v: fnp.sum(fnp.sin(v) * v ** 2)))(x[0]),
}


@ft.custom_jvp
def _softplus(x):
    return fnp.log1p(fnp.exp(x))


@_softplus.defjvp
def _softplus_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    return _softplus(x), t / (1 + fnp.exp(-x))


@ft.custom_vjp
def _clip_gradient(x):
    return x * 1.0


_clip_gradient.defvjp(lambda x: (x * 1.0, None), lambda res, ct: (fnp.clip(ct, -0.5, 0.5),))

TRANSFORMS["custom_jvp"] = lambda x, y: ft.grad(lambda a: fnp.sum(_softplus(a) ** 2))(x)
TRANSFORMS["custom_vjp"] = lambda x, y: ft.grad(lambda a: fnp.sum(_clip_gradient(a) * 3.0))(x)


@pytest.mark.parametrize("name", list(TRANSFORMS))
def test_transformations(name, backend):
    expected = TRANSFORMS[name](X, Y)
    _same(backend, TRANSFORMS[name](*backend.put((X, Y))), expected, f"{name} on {backend}")


def test_check_grads_of_a_composite(backend):
    check_grads(_f, backend.put((X, Y)), order=2)
    check_grads(lambda v: _vec(v) * fnp.linalg.norm(v), backend.put((V,)), order=2)


# -- nn layers: forward and the gradient of a loss -----------------------------------------------------

LAYERS = {
    "Linear": (lambda: nn.Linear(4, 3), (5, 4)),
    "Sequential MLP": (lambda: nn.Sequential(nn.Linear(4, 8), nn.Linear(8, 3)), (5, 4)),
    "Conv2d": (lambda: nn.Conv2d(2, 3, 3, padding=1), (2, 2, 5, 5)),
    "Conv1d": (lambda: nn.Conv1d(2, 3, 2, stride=2), (2, 2, 6)),
    "MaxPool2d": (lambda: nn.MaxPool2d(2), (1, 2, 4, 4)),
    "AvgPool1d": (lambda: nn.AvgPool1d(2), (1, 2, 4)),
    "LayerNorm": (lambda: nn.LayerNorm(4), (3, 4)),
    "MultiHeadAttention": (lambda: nn.MultiHeadAttention(4, 2), (2, 3, 4)),
    "LSTM": (lambda: nn.LSTM(4, 3), (5, 4)),
    "GRU": (lambda: nn.GRU(4, 3), (5, 4)),
}


def _apply(layer, params, x):
    out = layer.apply(params, x)
    return out[0] if isinstance(out, tuple) else out  # recurrent layers return (outputs, state)


@pytest.mark.parametrize("name", list(LAYERS))
def test_layer_forward_and_gradient(name, backend):
    make, shape = LAYERS[name]
    layer = make()
    params = layer.init(random.key(0))
    x = np.random.default_rng(1).standard_normal(shape)

    def loss(p, x):
        return fnp.mean(fnp.tanh(_apply(layer, p, x)) ** 2)

    expected = (_apply(layer, params, x), ft.grad(loss, argnums=(0, 1))(params, x))
    p_dev, x_dev = backend.put(ft.device_get(params)), backend.put(x)
    got = (_apply(layer, p_dev, x_dev), ft.grad(loss, argnums=(0, 1))(p_dev, x_dev))
    _same(backend, got, expected, f"{name} on {backend}", rtol=1e-9)


def test_losses_and_embedding_with_integer_labels(backend):
    logits = np.random.default_rng(2).standard_normal((4, 3))
    labels = np.array([0, 2, 2, 1])
    table = np.random.default_rng(3).standard_normal((5, 2))
    ids = np.array([1, 1, 4])
    emb = nn.Embedding(5, 2)

    def total(logits, table, labels, ids):
        e = emb.apply({"weight": table}, ids)
        return (nn.cross_entropy(logits, labels) + nn.mse(e, fnp.ones_like(e))
                + nn.binary_cross_entropy_with_logits(logits, fnp.zeros_like(logits)))

    expected = ft.value_and_grad(total, argnums=(0, 1))(logits, table, labels, ids)
    got = ft.value_and_grad(total, argnums=(0, 1))(*backend.put((logits, table, labels, ids)))
    _same(backend, got, expected, f"losses on {backend}")


# -- optimizers: update steps ---------------------------------------------------------------------------

OPTIMIZERS = {
    "sgd-momentum": lambda: optim.sgd(0.05, momentum=0.9, nesterov=True, weight_decay=0.01),
    "adam": lambda: optim.adam(0.01),
    "adamw+clip": lambda: optim.chain(optim.clip_by_global_norm(1.0), optim.adamw(0.01, weight_decay=0.1)),
    "rmsprop": lambda: optim.rmsprop(0.01, momentum=0.5, centered=True),
    "adagrad": lambda: optim.adagrad(0.1),
    "lion": lambda: optim.lion(0.001, weight_decay=0.1),
}


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_optimizer_steps(name, backend):
    rng = np.random.default_rng(4)
    params = {"w": rng.standard_normal((3, 2)), "b": rng.standard_normal(2)}
    grads = [{k: rng.standard_normal(v.shape) for k, v in params.items()} for _ in range(3)]

    def run(params, grads):
        opt = OPTIMIZERS[name]()
        state = opt.init(params)
        for g in grads:
            updates, state = opt.update(g, state, params)
            params = optim.apply_updates(params, updates)
        return params, state

    expected_params, _ = run(params, grads)
    got_params, got_state = run(backend.put(params), backend.put(grads))
    _same(backend, got_params, expected_params, f"{name} on {backend}")
    arrays = [leaf for leaf in ft.tree.leaves(got_state) if hasattr(leaf, "shape") and leaf.shape]
    backend.check_placed(arrays, f"{name}'s state on {backend}")


# -- functrans.numpy paths the tables do not reach: host index data, constants, host values --------

import functrans.scipy.linalg as fsl  # noqa: E402

M = RNG.standard_normal((4, 4))

FNP_PATHS = {
    "getitem[list]": lambda m: ft.grad(lambda a: fnp.sum(a[[0, 0, 3], 1:] ** 2))(m),
    "getitem[mask]": lambda m: ft.grad(lambda a: fnp.sum(a[np.array([True, False, True, False])] ** 2))(m),
    "at[list].add": lambda m: ft.grad(lambda a: fnp.sum(fnp.at(a)[[1, 1]].add(2.0) ** 2))(m),
    "quantile[array q, midpoint]": lambda m: ft.value_and_grad(
        lambda a: fnp.sum(fnp.quantile(a, np.array([0.25, 0.6]), axis=1, method="midpoint")))(m),
    "average[returned]": lambda m: fnp.average(m, axis=0, returned=True),
    "einsum[trace]": lambda m: ft.grad(lambda a: fnp.einsum("ii->", a * a))(m),
    "scipy.linalg.solve": lambda m: fsl.solve(m @ m.T + 4.0 * fnp.eye(4, like=m), m),
    "logsumexp[empty]": lambda m: fnp.logsumexp(m[:0], axis=0),
    "gradient[spacing]": lambda m: fnp.gradient(m, 0.5, axis=1),
    "take[list, clip]": lambda m: ft.grad(lambda a: fnp.sum(fnp.take(a, [0, 9, 3], mode="clip") ** 2))(m),
    "unique": lambda m: fnp.unique(fnp.round(m), return_index=True, return_counts=True),
    "repeat": lambda m: ft.grad(lambda a: fnp.sum(fnp.repeat(a, [1, 0, 2, 1], axis=0) ** 2))(m),
}


@pytest.mark.parametrize("name", list(FNP_PATHS))
def test_functrans_numpy_paths(name, backend):
    _same(backend, FNP_PATHS[name](backend.put(M)), FNP_PATHS[name](M), f"{name} on {backend}")


def test_batchnorm_state_and_dropout_key_on_the_device(backend):
    bn = nn.BatchNorm(3)
    params = bn.init(random.key(0))
    x = np.random.default_rng(5).standard_normal((6, 3))
    device = backend.device

    def loss(p, x, state, key):
        y, new_state = bn.apply(p, x, state, train=True)
        keep = nn.dropout(y, 0.5, key)
        return fnp.sum(keep ** 2), new_state

    expected = ft.value_and_grad(loss, has_aux=True)(params, x, bn.init_state(), random.key(7))
    got = ft.value_and_grad(loss, has_aux=True)(backend.put(ft.device_get(params)), backend.put(x),
                                                bn.init_state(device=device), random.key(7, device=device))
    _same(backend, got, expected, f"BatchNorm + dropout on {backend}")


@pytest.mark.parametrize("mode, options", [("median", {"stat_length": 2}), ("mean", {}),
                                           ("linear_ramp", {"end_values": 1.5}), ("symmetric", {})])
def test_pad_modes(mode, options, backend):
    def f(m):
        return fnp.pad(m, ((1, 2), (0, 1)), mode=mode, **options)

    _same(backend, f(backend.put(M)), np.pad(M, ((1, 2), (0, 1)), mode=mode, **options), f"pad[{mode}] on {backend}")
    _same(backend, ft.grad(lambda m: fnp.sum(f(m) ** 2))(backend.put(M)), ft.grad(lambda m: fnp.sum(f(m) ** 2))(M),
          f"grad pad[{mode}] on {backend}")
