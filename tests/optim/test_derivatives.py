"""Derivatives through optimizer steps (hypergradients and meta-learning differentiate the
updates with respect to the parameters, the gradients and the learning rate): every optimizer
and block added in the optax model, checked by finite differences in forward and reverse mode
to second order on both backends."""
import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans import optim
from functrans.testing import check_grads

OPTIMIZERS = [
    ("adamax", lambda lr: optim.adamax(lr)),
    ("nadam", lambda lr: optim.nadam(lr)),
    ("radam", lambda lr: optim.radam(lr, b2=0.8, threshold=4.0)),  # both branches in 6 steps
    ("adabelief", lambda lr: optim.adabelief(lr, eps=1e-8, eps_root=1e-8)),
    ("lamb", lambda lr: optim.lamb(lr, weight_decay=0.1)),
    ("adafactor", lambda lr: optim.adafactor(lr, min_dim_size_to_factor=2)),
    ("rms-trace", lambda lr: optim.chain(optim.scale_by_stddev(0.9), optim.trace(0.5),
                                         optim.scale_by_learning_rate(lr))),
    ("multisteps", lambda lr: optim.MultiSteps(optim.adam(lr), 2)),
    ("inject", lambda lr: optim.inject_hyperparams(optim.adam)(learning_rate=lr)),
    ("multi_transform", lambda lr: optim.multi_transform(
        {"a": optim.sgd(lr, momentum=0.9), "b": optim.nadam(lr)},
        {"w": "a", "b": "b"})),
    ("apply_if_finite", lambda lr: optim.apply_if_finite(optim.rmsprop(lr), 1)),
]


def _steps(make, steps):
    def train(params, grad_scale, lr):
        opt = make(lr)
        state = opt.init(params)
        for t in range(steps):
            grads = {k: grad_scale[k] * (v - 0.2 * t) for k, v in params.items()}
            updates, state = opt.update(grads, state, params)
            params = optim.apply_updates(params, updates)
        return params

    return train


@pytest.mark.parametrize("name,make", OPTIMIZERS, ids=[c[0] for c in OPTIMIZERS])
def test_steps_are_differentiable_to_second_order(name, make, backend):
    rng = np.random.default_rng(5)
    params = {"w": rng.normal(size=(2, 3)), "b": rng.normal(size=3)}
    scale = {k: rng.uniform(0.5, 1.5, size=v.shape) for k, v in params.items()}
    steps = 6 if name == "radam" else 3
    check_grads(_steps(make, steps), backend.put((params, scale, np.asarray(0.05))), order=2,
                atol=1e-5, rtol=1e-5)


def test_clip_by_global_norm_derivative_is_finite_at_zero_gradients():
    # Below max_norm the step is the identity, at zero too: its derivative is 1, not NaN.
    def clipped_sum(x):
        return fnp.sum(optim.clip_by_global_norm(1.0).update(x, optim.EmptyState())[0] ** 2)

    for x in (np.zeros(3), np.array([0.1, -0.2, 0.0])):
        np.testing.assert_allclose(ft.grad(clipped_sum)(x), 2 * x)
        np.testing.assert_allclose(ft.jit(ft.grad(clipped_sum))(x), 2 * x)
    # Above it, against central differences.
    x = np.array([3.0, -4.0, 1.0])
    def clipped_dot(x):
        return fnp.sum(optim.clip_by_global_norm(1.0).update(x, optim.EmptyState())[0]
                       * np.array([1.0, 2.0, -0.5]))
    h = 1e-6
    fd = [(clipped_dot(x + h * e) - clipped_dot(x - h * e)) / (2 * h) for e in np.eye(3)]
    np.testing.assert_allclose(ft.grad(clipped_dot)(x), fd, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(ft.jacfwd(clipped_dot)(x), fd, rtol=1e-6, atol=1e-9)
