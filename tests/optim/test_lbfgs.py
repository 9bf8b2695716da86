"""lbfgs, scale_by_lbfgs and scale_by_zoom_linesearch against optax 0.2.8's iterates, eagerly
and under jit (staged once), and the keyword arguments chain passes to a line search."""
from __future__ import annotations

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans import optim


def rosen(x):
    return fnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


X0 = np.array([-1.2, 1.0, 0.5, -0.3])

# optax.lbfgs(**kwargs) on rosen from X0 with jax_enable_x64 (optax 0.2.8, JAX 0.10.2): the
# params after steps 5 and 20, the gradients from optax.value_and_grad_from_state when there
# is a line search, else from jax.value_and_grad.
OPTAX = [
    ({}, [-0.6431054403924297, 0.42204154553841655, 0.19324463819192483, 0.03482388879002003],
     [-0.33095422476692316, 0.10564699066903593, 0.0005822113515188375, 0.0027468340442284257]),
    ({"linesearch": None, "learning_rate": 0.05},
     [-1.1129018219453504, 0.937553292695368, 0.4866336775850025, -0.21143681313742918],
     [-0.9987957065822071, 0.8511554960723, 0.5231824556312147, 0.06579493365949104]),
    ({"memory_size": 3},
     [-0.6435137696113119, 0.42236703523098107, 0.19375199634096651, 0.03481940199883798],
     [-0.3838994308137873, 0.13580722072815776, 0.017937655366680984, -0.0003337744953815615]),
]


def _run(opt, params, steps, staged=False, line_search=True):
    value_and_grad = (optim.value_and_grad_from_state(rosen) if line_search
                      else lambda p, state: ft.value_and_grad(rosen)(p))

    def step(p, s):
        value, grad = value_and_grad(p, state=s)
        if line_search:
            updates, s = opt.update(grad, s, p, value=value, grad=grad, value_fn=rosen)
        else:
            updates, s = opt.update(grad, s, p)
        return optim.apply_updates(p, updates), s

    step = ft.jit(step) if staged else step
    state, path = opt.init(params), []
    for _ in range(steps):
        params, state = step(params, state)
        path.append(params)
    return path, state


@pytest.mark.parametrize("kwargs, at5, at20", OPTAX)
def test_lbfgs_takes_optaxs_steps(kwargs, at5, at20):
    path, _ = _run(optim.lbfgs(**kwargs), X0, 20, line_search=kwargs.get("linesearch", 0) is not None)
    np.testing.assert_allclose(path[4], at5, rtol=0, atol=1e-12)
    np.testing.assert_allclose(path[19], at20, rtol=0, atol=1e-9)


def test_lbfgs_staged_once_gives_the_eager_steps_and_keeps_float32():
    calls = []

    def counted(x):
        calls.append(1)
        return rosen(x)

    opt = optim.lbfgs()
    value_and_grad = optim.value_and_grad_from_state(counted)

    @ft.jit
    def step(p, s):
        value, grad = value_and_grad(p, state=s)
        updates, s = opt.update(grad, s, p, value=value, grad=grad, value_fn=counted)
        return optim.apply_updates(p, updates), s

    p, s = X0, opt.init(X0)
    for i in range(6):
        p, s = step(p, s)
        if i == 0:
            n = len(calls)
    assert len(calls) == n  # staged at the first step only
    np.testing.assert_allclose(p, _run(opt, X0, 6)[0][-1], rtol=1e-13)
    p32, s32 = _run(opt, X0.astype(np.float32), 3)
    assert p32[-1].dtype == np.float32 and s32[2].value.dtype == np.float32
    assert s32[0].weights_memory.dtype == np.float32
    np.testing.assert_allclose(p32[-1], _run(opt, X0, 3)[0][-1], rtol=1e-4)


def test_scale_by_lbfgs_first_step_and_two_loop_recursion():
    opt = optim.scale_by_lbfgs(memory_size=2)
    p0, g0 = np.array([3.0, 4.0]), np.array([3.0, 4.0])
    direction, state = opt.update(g0, opt.init(p0), p0)
    np.testing.assert_allclose(direction, g0 / 5)  # min(1, 1/|g|) g
    # on a quadratic with Hessian A, one pair (s, y = A s) gives the BFGS update of gamma I
    A = np.array([[2.0, 0.5], [0.5, 1.0]])
    p1 = p0 - direction
    g1 = A @ p1 - A @ p0 + g0
    direction, state = opt.update(g1, state, p1)
    s, y = p1 - p0, g1 - g0
    gamma, rho = (s @ y) / (y @ y), 1 / (s @ y)
    V = np.eye(2) - rho * np.outer(y, s)
    H = gamma * V.T @ V + rho * np.outer(s, s)
    np.testing.assert_allclose(direction, H @ g1, rtol=1e-13)
    assert int(state.count) == 2


def test_chain_passes_keyword_arguments_to_the_transformations_taking_them():
    p = np.array([1.0, 2.0, 3.0])
    opt = optim.chain(optim.clip(10.0), optim.polyak_sgd())
    updates, _ = opt.update(2 * p, opt.init(p), p, value=14.0)  # was a TypeError
    np.testing.assert_allclose(optim.apply_updates(p, updates), p / 2)
    # extra keywords reach value_fn through the line search
    f = lambda x, scale: scale * fnp.sum(x ** 2)
    opt = optim.chain(optim.sgd(1.0), optim.scale_by_zoom_linesearch(15))
    v, g = ft.value_and_grad(f)(p, 2.0)
    updates, state = opt.update(g, opt.init(p), p, value=v, grad=g, value_fn=f, scale=2.0)
    np.testing.assert_allclose(optim.apply_updates(p, updates), 0, atol=1e-12)
    assert float(state[1].learning_rate) == pytest.approx(0.25)
    assert float(state[1].value) == pytest.approx(0, abs=1e-20)


def test_lbfgs_errors_name_the_fix():
    p = np.zeros(2)
    opt = optim.lbfgs()
    with pytest.raises(TypeError, match=r"needs the keywords \['value', 'grad', 'value_fn'\]"):
        opt.update(p, opt.init(p), p)
    with pytest.raises(TypeError, match=r"\['data'\], which value_fn does not take"):
        opt.update(p, opt.init(p), p, value=1.0, grad=p, value_fn=lambda x: fnp.sum(x), data=1)
    with pytest.raises(TypeError, match="update takes no keyword arguments"):
        optim.sgd(0.1).update(p, optim.sgd(0.1).init(p), p, value=1.0)
    with pytest.raises(ValueError, match="memory_size must be >= 1"):
        optim.scale_by_lbfgs(memory_size=0)
    with pytest.raises(ValueError, match="'keep' or 'one'"):
        optim.scale_by_zoom_linesearch(5, initial_guess_strategy="last")
    with pytest.raises(ValueError, match="holds no value and grad"):
        optim.value_and_grad_from_state(rosen)(p, state=optim.sgd(0.1).init(p))


def test_wrappers_pass_keyword_arguments_to_the_optimizer_they_wrap():
    f = lambda x: fnp.sum((x - 1.0) ** 2)
    p = np.zeros(2)
    for opt, expected in [(optim.apply_if_finite(optim.lbfgs(), 3), 1.0),
                          (optim.MultiSteps(optim.lbfgs(), 2), 1.0),
                          (optim.inject_hyperparams(optim.polyak_sgd)(max_learning_rate=1.0),
                           1 - 0.5 ** 4)]:  # polyak: step f / |g|**2 = 1/4, halving x - 1
        state, q = opt.init(p), p
        for _ in range(4):
            v, g = ft.value_and_grad(f)(q)
            updates, state = opt.update(g, state, q, value=v, grad=g, value_fn=f)
            q = optim.apply_updates(q, updates)
        np.testing.assert_allclose(q, expected, rtol=1e-12)


def test_masked_and_multi_transform_pass_keyword_arguments_on():
    # polyak_sgd's step is value / |g|**2 (f = sum(p**2) = 14, g = 2p: 1/4, halving p); the
    # leaves outside its mask or group keep their gradient (masked) or get sgd's step
    p = {"a": np.array([1.0, 2.0, 3.0]), "b": np.array([4.0])}
    g = {"a": 2 * p["a"], "b": np.array([1.0])}
    opt = optim.masked(optim.polyak_sgd(), {"a": True, "b": False})
    updates, _ = opt.update(g, opt.init(p), p, value=14.0)  # was a TypeError
    np.testing.assert_allclose(updates["a"], -p["a"] / 2)
    np.testing.assert_array_equal(updates["b"], g["b"])
    opt = optim.multi_transform({"polyak": optim.polyak_sgd(), "sgd": optim.sgd(0.5)},
                                {"a": "polyak", "b": "sgd"})
    updates, _ = opt.update(g, opt.init(p), p, value=14.0)
    np.testing.assert_allclose(updates["a"], -p["a"] / 2)
    np.testing.assert_allclose(updates["b"], [-0.5])
