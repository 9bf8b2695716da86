"""The optimizers written as chains of building blocks give bit-identical updates to the
monolithic versions they replaced: alias_updates.npz holds five steps of each configuration,
recorded from those versions (run this file as a script to write it)."""
import pathlib

import numpy as np
import pytest

from functrans import optim

FIXTURE = pathlib.Path(__file__).with_name("alias_updates.npz")


def _schedule(count):
    return 0.05 / (1.0 + 0.5 * count)


CONFIGS = {
    "sgd": lambda: optim.sgd(0.1),
    "sgd_momentum": lambda: optim.sgd(0.1, momentum=0.9),
    "sgd_nesterov_wd": lambda: optim.sgd(0.1, momentum=0.8, nesterov=True, weight_decay=0.01),
    "sgd_schedule": lambda: optim.sgd(_schedule, momentum=0.5),
    "adam": lambda: optim.adam(0.01),
    "adam_wd": lambda: optim.adam(0.01, b1=0.8, b2=0.95, eps=1e-6, weight_decay=0.1),
    "adam_schedule": lambda: optim.adam(_schedule),
    "adamw": lambda: optim.adamw(0.01),
    "adamw_wd": lambda: optim.adamw(0.02, weight_decay=0.3),
    "rmsprop": lambda: optim.rmsprop(0.01),
    "rmsprop_centered_momentum": lambda: optim.rmsprop(0.01, alpha=0.9, momentum=0.7,
                                                       centered=True, weight_decay=0.05),
    "rmsprop_momentum": lambda: optim.rmsprop(_schedule, momentum=0.5),
    "adagrad": lambda: optim.adagrad(0.1),
    "adagrad_init_wd": lambda: optim.adagrad(0.1, initial_accumulator_value=0.3, eps=1e-6,
                                             weight_decay=0.2),
    "lion": lambda: optim.lion(0.01),
    "lion_wd": lambda: optim.lion(_schedule, b1=0.8, b2=0.9, weight_decay=0.1),
}


def _run(make, dtype):
    """Five steps of the optimizer on fixed params and gradients (the gradients depend on the
    params, so every step sees new values): the concatenated updates of each step."""
    rng = np.random.default_rng(7)
    params = {"w": rng.normal(size=(3, 2)).astype(dtype), "b": rng.normal(size=3).astype(dtype)}
    target = {k: rng.normal(size=v.shape).astype(dtype) for k, v in params.items()}
    opt = make()
    state = opt.init(params)
    out = []
    for step in range(5):
        grads = {k: (params[k] - target[k]) * dtype(1.0 + 0.3 * step) for k in params}
        updates, state = opt.update(grads, state, params)
        params = optim.apply_updates(params, updates)
        out.append(np.concatenate([np.ravel(updates["b"]), np.ravel(updates["w"])]))
    return np.stack(out)


def _key(name, dtype):
    return f"{name}_{np.dtype(dtype).name}"


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_alias_updates_are_bit_identical_to_the_recorded_ones(name, dtype):
    recorded = np.load(FIXTURE)[_key(name, dtype)]
    got = _run(CONFIGS[name], dtype)
    assert got.dtype == recorded.dtype
    np.testing.assert_array_equal(got, recorded)


if __name__ == "__main__":
    np.savez(FIXTURE, **{_key(n, d): _run(m, d) for n, m in CONFIGS.items()
                         for d in (np.float64, np.float32)})
