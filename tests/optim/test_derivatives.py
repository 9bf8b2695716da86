"""Derivatives through optimizer steps (hypergradients and meta-learning differentiate the
updates with respect to the parameters, the gradients and the learning rate): every optimizer
and block added in the optax model, checked by finite differences in forward and reverse mode
to second order on both backends."""
import numpy as np
import pytest

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
