"""functrans.optim: optimizers against their published update formulas, convergence,
schedules, combinators and errors."""
from __future__ import annotations

import math
import re

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans import optim
from functrans.errors import TreeStructureError
from functrans.optim import schedules


# --- reference implementations: the published formulas, one step each, in plain NumPy --------
def ref_sgd(p, g, s, t, lr, momentum=0.0, nesterov=False, weight_decay=0.0):
    g = g + weight_decay * p
    if momentum:
        s["b"] = momentum * s.get("b", 0.0) + g
        g = g + momentum * s["b"] if nesterov else s["b"]
    return p - lr * g


def ref_adam(p, g, s, t, lr, b1=0.9, b2=0.999, eps=1e-8, weight_decay=0.0, decoupled=False):
    if not decoupled:
        g = g + weight_decay * p
    s["m"] = b1 * s.get("m", 0.0) + (1 - b1) * g
    s["v"] = b2 * s.get("v", 0.0) + (1 - b2) * g * g
    m_hat = s["m"] / (1 - b1**t)
    v_hat = s["v"] / (1 - b2**t)
    if decoupled:
        p = p * (1 - lr * weight_decay)  # PyTorch's AdamW decays first
    return p - lr * m_hat / (np.sqrt(v_hat) + eps)


def ref_rmsprop(p, g, s, t, lr, alpha=0.99, eps=1e-8, momentum=0.0, centered=False,
                weight_decay=0.0):
    g = g + weight_decay * p
    s["v"] = alpha * s.get("v", 0.0) + (1 - alpha) * g * g
    avg = s["v"]
    if centered:
        s["g"] = alpha * s.get("g", 0.0) + (1 - alpha) * g
        avg = avg - s["g"] ** 2
    step = g / (np.sqrt(avg) + eps)
    if momentum:
        s["b"] = momentum * s.get("b", 0.0) + step
        step = s["b"]
    return p - lr * step


def ref_adagrad(p, g, s, t, lr, initial_accumulator_value=0.0, eps=1e-10, weight_decay=0.0):
    g = g + weight_decay * p
    s["s"] = s.get("s", initial_accumulator_value) + g * g
    return p - lr * g / (np.sqrt(s["s"]) + eps)


def ref_lion(p, g, s, t, lr, b1=0.9, b2=0.99, weight_decay=0.0):
    m = s.get("m", 0.0)
    p = p - lr * (np.sign(b1 * m + (1 - b1) * g) + weight_decay * p)
    s["m"] = b2 * m + (1 - b2) * g
    return p


CASES = [
    ("sgd", optim.sgd, ref_sgd, {"lr": 0.1}),
    ("sgd-momentum", optim.sgd, ref_sgd, {"lr": 0.05, "momentum": 0.9}),
    ("sgd-nesterov-wd", optim.sgd, ref_sgd, {"lr": 0.05, "momentum": 0.8, "nesterov": True,
                                                 "weight_decay": 0.01}),
    ("adam", optim.adam, ref_adam, {"lr": 0.01}),
    ("adam-l2", optim.adam, ref_adam, {"lr": 0.02, "b1": 0.8, "b2": 0.95, "eps": 1e-6,
                                           "weight_decay": 0.1}),
    ("adamw", optim.adamw, ref_adam, {"lr": 0.01, "weight_decay": 0.1, "decoupled": True}),
    ("rmsprop", optim.rmsprop, ref_rmsprop, {"lr": 0.01}),
    ("rmsprop-centered-momentum", optim.rmsprop, ref_rmsprop,
     {"lr": 0.01, "alpha": 0.9, "momentum": 0.5, "centered": True, "weight_decay": 0.01}),
    ("adagrad", optim.adagrad, ref_adagrad, {"lr": 0.1, "initial_accumulator_value": 0.1}),
    ("lion", optim.lion, ref_lion, {"lr": 0.001, "weight_decay": 0.1}),
]


def _make(factory, kwargs):
    kwargs = dict(kwargs)
    lr = kwargs.pop("lr")
    kwargs.pop("decoupled", None)
    return factory(lr, **kwargs)


@pytest.mark.parametrize("name,factory,ref,kwargs", CASES, ids=[c[0] for c in CASES])
def test_optimizer_matches_published_formula_over_steps(name, factory, ref, kwargs):
    rng = np.random.default_rng(0)
    params = {"w": rng.normal(size=(3, 2)), "b": rng.normal(size=2)}
    opt = _make(factory, kwargs)
    state = opt.init(params)
    ref_params = {k: v.copy() for k, v in params.items()}
    ref_state = {k: {} for k in params}
    ref_kwargs = {k: v for k, v in kwargs.items() if not (k == "decoupled" and not v)}
    for t in range(1, 7):
        grads = {k: rng.normal(size=v.shape) for k, v in params.items()}
        updates, state = opt.update(grads, state, params)
        params = optim.apply_updates(params, updates)
        for k in params:
            ref_params[k] = ref(ref_params[k], grads[k], ref_state[k], t, **ref_kwargs)
            np.testing.assert_allclose(params[k], ref_params[k], rtol=0, atol=1e-12)
        assert state.count == t
        assert state.learning_rate == kwargs["lr"]


@pytest.mark.parametrize("name,factory,ref,kwargs", CASES, ids=[c[0] for c in CASES])
def test_float32_params_stay_float32(name, factory, ref, kwargs):
    params = {"w": np.ones((2, 2), np.float32), "b": np.zeros(2, np.float32)}
    opt = _make(factory, kwargs)
    state = opt.init(params)
    for _ in range(3):
        grads = {"w": np.full((2, 2), 0.3, np.float32), "b": np.full(2, -0.2, np.float32)}
        updates, state = opt.update(grads, state, params)
        assert all(u.dtype == np.float32 for u in ft.tree.leaves(updates))
        params = optim.apply_updates(params, updates)
    assert all(p.dtype == np.float32 for p in ft.tree.leaves(params))
    # the buffers follow the params; the step count is an integer (a NumPy one, for jit)
    buffers = [x for x in ft.tree.leaves(state) if getattr(x, "ndim", 0) > 0]
    assert buffers or name in ("sgd", "sgd-nesterov-wd")
    assert all(x.dtype == np.float32 for x in buffers)
    assert state.count == 3 and np.asarray(state.count).dtype.kind == "i"


@pytest.mark.parametrize("make", [
    lambda f: optim.sgd(f(0.1), momentum=f(0.9), nesterov=True, weight_decay=f(0.01)),
    lambda f: optim.adam(f(0.1), b1=f(0.8), b2=f(0.9), eps=f(1e-3), weight_decay=f(0.1)),
    lambda f: optim.adamw(f(0.1), weight_decay=f(0.1)),
    lambda f: optim.rmsprop(f(0.1), alpha=f(0.9), momentum=f(0.5), centered=True),
    lambda f: optim.adagrad(f(0.1), initial_accumulator_value=f(0.1)),
    lambda f: optim.lion(f(0.1), b1=f(0.8), weight_decay=f(0.1)),
    lambda f: optim.chain(optim.clip_by_global_norm(f(1.0)), optim.trace(f(0.9)), optim.scale(f(-0.1))),
], ids=["sgd", "adam", "adamw", "rmsprop", "adagrad", "lion", "chain"])
def test_numpy_scalar_hyperparameters_keep_float32(make):
    # np.float64(0.9) (a NumPy sweep, a config read with NumPy) promotes a float32 array to
    # float64 under NumPy's rules, where the Python float 0.9 keeps float32: every buffer and
    # update was float64 after the first step.
    params = {"w": np.linspace(-1, 1, 4, dtype=np.float32), "b": np.full(2, 0.5, np.float32)}
    grads = {"w": np.linspace(0.3, -0.2, 4, dtype=np.float32), "b": np.full(2, 0.1, np.float32)}
    ref_opt, opt = make(float), make(np.float64)
    for update in (opt.update, ft.jit(opt.update)):
        state, ref_state = opt.init(params), ref_opt.init(params)
        for _ in range(2):
            updates, state = update(grads, state, params)
            ref_updates, ref_state = ref_opt.update(grads, ref_state, params)
        for leaf in ft.tree.leaves((updates, state)):
            assert np.ndim(leaf) == 0 or leaf.dtype == np.float32
        for got, want in zip(ft.tree.leaves(updates), ft.tree.leaves(ref_updates)):
            np.testing.assert_allclose(got, want, rtol=1e-6)


def _run(opt, loss, x0, steps):
    params = x0
    state = opt.init(params)
    step = ft.value_and_grad(loss)
    for _ in range(steps):
        _, g = step(params)
        updates, state = opt.update(g, state, params)
        params = optim.apply_updates(params, updates)
    return params


QUAD_A = np.array([[3.0, 0.5], [0.5, 1.0]])
QUAD_B = np.array([1.0, -2.0])
QUAD_MIN = np.linalg.solve(QUAD_A, QUAD_B)


def _quadratic(x):
    return 0.5 * x @ (QUAD_A @ x) - QUAD_B @ x


@pytest.mark.parametrize("opt", [
    optim.sgd(0.3), optim.sgd(0.1, momentum=0.7), optim.sgd(0.1, momentum=0.7, nesterov=True),
    optim.adam(0.1), optim.adamw(0.1, weight_decay=0.0), optim.rmsprop(0.03),
    optim.adagrad(1.0), optim.lion(schedules.cosine_decay(0.05, 300)),
], ids=["sgd", "momentum", "nesterov", "adam", "adamw", "rmsprop", "adagrad", "lion"])
def test_converges_on_a_quadratic(opt):
    x = _run(opt, _quadratic, np.zeros(2), 300)
    np.testing.assert_allclose(x, QUAD_MIN, atol=1e-3)


def _rosenbrock(x):
    return (1.0 - x[0]) ** 2 + 100.0 * (x[1] - x[0] ** 2) ** 2


@pytest.mark.parametrize("opt", [
    optim.sgd(1e-3, momentum=0.9), optim.adam(0.05), optim.rmsprop(1e-3, momentum=0.9),
], ids=["momentum", "adam", "rmsprop-momentum"])
def test_converges_on_rosenbrock(opt):
    x = _run(opt, _rosenbrock, np.array([-1.2, 1.0]), 1500)
    np.testing.assert_allclose(x, [1.0, 1.0], atol=2e-2)


# --- schedules ------------------------------------------------------------------------------------
def test_schedules_against_formulas():
    for t in range(30):
        assert schedules.constant(0.3)(t) == 0.3
        assert schedules.linear(1.0, 0.1, 20)(t) == pytest.approx(
            1.0 + (0.1 - 1.0) * min(t, 20) / 20, abs=1e-15)
        assert schedules.exponential_decay(2.0, 4, 0.5)(t) == pytest.approx(
            2.0 * 0.5 ** (t / 4), abs=1e-15)
        assert schedules.exponential_decay(2.0, 4, 0.5, staircase=True)(t) == pytest.approx(
            2.0 * 0.5 ** (t // 4), abs=1e-15)
        assert schedules.cosine_decay(1.0, 20, alpha=0.1)(t) == pytest.approx(
            0.9 * 0.5 * (1 + math.cos(math.pi * min(t, 20) / 20)) + 0.1, abs=1e-15)
        w = schedules.warmup_cosine_decay(0.0, 1.0, 5, 25, end_value=0.01)(t)
        if t < 5:
            assert w == pytest.approx(t / 5, abs=1e-15)
        else:
            frac = min(t - 5, 20) / 20
            assert w == pytest.approx(0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * frac)),
                                      abs=1e-15)
    assert schedules.exponential_decay(1.0, 1, 0.5, end_value=0.2)(10) == 0.2
    assert "init_value=1.0" in repr(schedules.cosine_decay(1.0, 10))


def test_schedule_is_used_as_learning_rate_and_readable_from_state():
    sched = schedules.linear(1.0, 0.0, 4)
    opt = optim.sgd(sched)
    params = np.array([0.0])
    state = opt.init(params)
    assert state.learning_rate == 1.0 and state.count == 0
    rates = []
    for _ in range(5):
        updates, state = opt.update(np.array([1.0]), state, params)
        rates.append(-float(updates[0]))
    assert rates == [1.0, 0.75, 0.5, 0.25, 0.0]
    assert state.count == 5 and state.learning_rate == 0.0


@pytest.mark.parametrize("factory", [optim.adam, optim.adamw, optim.rmsprop, optim.adagrad,
                                     optim.lion])
def test_every_optimizer_takes_a_schedule(factory):
    opt = factory(schedules.exponential_decay(0.1, 1, 0.5))
    state = opt.init(np.zeros(1))
    _, state = opt.update(np.ones(1), state, np.zeros(1))
    _, state = opt.update(np.ones(1), state, np.zeros(1))
    assert state.count == 2 and state.learning_rate == pytest.approx(0.025)


def test_schedule_validation():
    with pytest.raises(ValueError, match="transition_steps"):
        schedules.linear(1.0, 0.0, 0)
    with pytest.raises(ValueError, match="must exceed warmup_steps"):
        schedules.warmup_cosine_decay(0.0, 1.0, 10, 10)
    with pytest.raises(ValueError, match="decay_rate"):
        schedules.exponential_decay(1.0, 1, 0.0)


# --- building blocks and combinators --------------------------------------------------------------
def test_clip_and_clip_by_global_norm():
    g = {"a": np.array([3.0, -30.0]), "b": np.array([[40.0]])}
    clipped, _ = optim.clip(5.0).update(g, optim.EmptyState())
    np.testing.assert_array_equal(clipped["a"], [3.0, -5.0])
    np.testing.assert_array_equal(clipped["b"], [[5.0]])
    opt = optim.clip_by_global_norm(5.0)
    out, _ = opt.update(g, opt.init(g))
    norm = math.sqrt(9 + 900 + 1600)
    np.testing.assert_allclose(out["a"], g["a"] * 5.0 / norm, rtol=1e-15)
    np.testing.assert_allclose(float(optim.global_norm(out)), 5.0, rtol=1e-15)
    small = {"a": np.array([0.1])}
    np.testing.assert_array_equal(opt.update(small, opt.init(small))[0]["a"], [0.1])
    zero = {"a": np.zeros(2)}
    np.testing.assert_array_equal(opt.update(zero, opt.init(zero))[0]["a"], [0.0, 0.0])
    g32 = {"a": np.full(3, 10.0, np.float32)}
    assert opt.update(g32, opt.init(g32))[0]["a"].dtype == np.float32


def test_chain_state_and_lookup_helpers():
    opt = optim.chain(optim.clip_by_global_norm(1.0), optim.add_decayed_weights(0.5),
                      optim.sgd(schedules.linear(0.1, 0.0, 10)))
    params = {"w": np.array([2.0])}
    state = opt.init(params)
    assert len(state) == 3 and isinstance(state[2], optim.SgdState)
    updates, state = opt.update({"w": np.array([10.0])}, state, params)
    # clip to 1.0, add 0.5 * 2.0, step with lr 0.1.
    np.testing.assert_allclose(updates["w"], [-0.1 * (1.0 + 1.0)], rtol=1e-15)
    assert optim.get_count(state) == 1
    assert optim.get_learning_rate(state) == pytest.approx(0.09)
    with pytest.raises(ValueError, match="no 'learning_rate'"):
        optim.get_learning_rate(optim.clip(1.0).init(params))


def test_masked_applies_inner_only_to_selected_leaves():
    params = {"layer": {"weight": np.ones(2), "bias": np.ones(2)}, "norm": np.ones(1)}
    grads = ft.tree.map(lambda p: 0 * p, params)
    mask = lambda p: {"layer": {"weight": True, "bias": False}, "norm": False}
    opt = optim.chain(optim.masked(optim.add_decayed_weights(0.1), mask), optim.sgd(1.0))
    updates, _ = opt.update(grads, opt.init(params), params)
    np.testing.assert_allclose(updates["layer"]["weight"], [-0.1, -0.1])
    np.testing.assert_array_equal(updates["layer"]["bias"], [0.0, 0.0])
    np.testing.assert_array_equal(updates["norm"], [0.0])
    # A masked optimizer only keeps state for the selected leaves.
    inner = optim.masked(optim.adam(0.1), {"layer": True, "norm": False})
    state = inner.init(params)
    assert len(state.inner_state.mu) == 2


def test_freeze_holds_parameters_fixed():
    params = {"encoder": {"w": np.ones(3)}, "head": np.ones(2)}
    opt = optim.chain(optim.adamw(0.1, weight_decay=0.1), optim.freeze({"encoder": True,
                                                                       "head": False}))
    state = opt.init(params)
    for _ in range(3):
        grads = ft.tree.map(np.ones_like, params)
        updates, state = opt.update(grads, state, params)
        params = optim.apply_updates(params, updates)
    np.testing.assert_array_equal(params["encoder"]["w"], np.ones(3))
    assert (params["head"] < 0.8).all()


def test_mask_errors_name_the_parameter():
    params = {"a": np.ones(1), "b": np.ones(1)}
    opt = optim.masked(optim.sgd(0.1), {"a": True})
    with pytest.raises(ValueError, match=r"\['b'\]"):
        opt.init(params)


def test_errors():
    with pytest.raises(ValueError, match="momentum must be in"):
        optim.sgd(0.1, momentum=1.0)
    with pytest.raises(ValueError, match="learning_rate must be >= 0"):
        optim.adam(-1.0)
    with pytest.raises(ValueError, match="b2 must be in"):
        optim.adam(b2=1.5)
    with pytest.raises(ValueError, match="max_norm must be > 0"):
        optim.clip_by_global_norm(0.0)
    with pytest.raises(TypeError, match="argument 1 is a function"):
        optim.chain(optim.sgd(0.1), lambda g: g)
    opt = optim.adamw(0.1)
    with pytest.raises(ValueError, match=r"update\(grads, state, params\)"):
        opt.update(np.ones(2), opt.init(np.ones(2)))
    opt = optim.adam(0.1)
    with pytest.raises(ValueError, match="structure of the gradients"):
        opt.update({"a": np.ones(2)}, opt.init({"b": np.ones(2)}))
    with pytest.raises(ValueError, match="parts for"):
        optim.chain(optim.sgd(0.1)).update(np.ones(1), ())


# --- what update receives: clear errors naming the fix and the key path ------------------------
TRANSFORMS = [
    ("sgd", lambda: optim.sgd(0.1)),
    ("sgd-momentum", lambda: optim.sgd(0.1, momentum=0.9)),
    ("adam", lambda: optim.adam(0.1)),
    ("adamw", lambda: optim.adamw(0.1)),
    ("rmsprop", lambda: optim.rmsprop(0.1, centered=True, momentum=0.5)),
    ("adagrad", lambda: optim.adagrad(0.1)),
    ("lion", lambda: optim.lion(0.1)),
    ("chain", lambda: optim.chain(optim.clip_by_global_norm(1.0), optim.adam(0.1))),
    ("masked", lambda: optim.masked(optim.adam(0.1), {"a": True, "b": False})),
    ("freeze", lambda: optim.freeze({"a": False, "b": True})),
    ("clip", lambda: optim.clip(1.0)),
]
TRANSFORM_IDS = [name for name, _ in TRANSFORMS]


def _tree():
    return {"a": np.ones(2), "b": [np.ones(3), np.ones(1)]}


@pytest.mark.parametrize("name,make", TRANSFORMS, ids=TRANSFORM_IDS)
def test_swapped_update_arguments_are_named_with_the_fix(name, make):
    opt = make()
    params = _tree()
    state = opt.init(params)
    with pytest.raises(ft.errors.OptimizerInputError,
                       match=r"update received an optimizer state \(\w+\) as the gradients and a "
                             r"dict as the state: the arguments are swapped\. Fix: updates, "
                             r"state = opt\.update\(grads, state, params\)"):
        opt.update(state, _tree(), params)
    assert isinstance(ft.errors.OptimizerInputError("x"), TypeError)


@pytest.mark.parametrize("name,make", TRANSFORMS, ids=TRANSFORM_IDS)
def test_a_state_from_another_optimizer_is_refused(name, make):
    opt = make()
    params = _tree()
    other = optim.lion(0.1) if name != "lion" else optim.adam(0.1)
    with pytest.raises(ft.errors.OptimizerInputError,
                       match=r"the state is a \w+, made by another optimizer or transformation, "
                             r"not the \w+ this one's init makes\. Fix: .*state = opt\.init"):
        opt.update(_tree(), other.init(params), params)
    with pytest.raises(ft.errors.OptimizerInputError,
                       match=r"the state is a NoneType, not the \w+ this optimizer's init "
                             r"makes\. Fix: state = opt\.init\(params\)"):
        opt.update(_tree(), None, params)


def test_the_state_check_names_the_expected_class():
    params = _tree()
    with pytest.raises(ft.errors.OptimizerInputError,
                       match=r"functrans\.optim\.adam: the state is a SgdState, .* not the "
                             r"AdamState this one's init makes"):
        optim.adam(0.1).update(_tree(), optim.sgd(0.1).init(params), params)
    with pytest.raises(ft.errors.OptimizerInputError, match=r"functrans\.optim\.adamw: .*AdamState"):
        optim.adamw(0.1).update(_tree(), optim.adagrad(0.1).init(params), params)


OPTIMIZERS = TRANSFORMS[:7]


@pytest.mark.parametrize("name,make", OPTIMIZERS, ids=TRANSFORM_IDS[:7])
def test_params_with_a_leaf_that_is_not_an_array_are_refused_at_init(name, make):
    params = {"layers": [{"w": np.ones(2), "act": "relu"}], "scale": 2.0}
    with pytest.raises(ft.errors.OptimizerInputError,
                       match=r"the parameter at \['layers'\]\[0\]\['act'\] is a str \('relu'\), "
                             r"not an array: an optimizer updates arrays only\. Fix: keep "
                             r"settings .* out of the params"):
        make().init(params)
    make().init({"w": np.ones(2), "scale": 2.0})  # a Python number is a parameter


def test_gradients_with_a_leaf_that_is_not_an_array_are_named():
    opt = optim.sgd(0.1)
    params = {"w": np.ones(2)}
    state = opt.init(params)
    with pytest.raises(ft.errors.OptimizerInputError,
                       match=r"functrans\.optim\.sgd: the gradient at \['w'\] is a str "
                             r"\('oops'\), not an array") as info:
        opt.update({"w": "oops"}, state, params)
    assert isinstance(info.value.__cause__, TypeError)  # the original error is kept
    clip = optim.clip(1.0)
    with pytest.raises(ft.errors.OptimizerInputError, match=r"clip: the gradient at \['w'\]"):
        clip.update({"w": object()}, clip.init(params))


STATEFUL = [case for case in TRANSFORMS if case[0] not in ("sgd", "freeze", "clip")]


@pytest.mark.parametrize("name,make", STATEFUL, ids=[c[0] for c in STATEFUL])
def test_gradients_of_another_structure_name_the_key_path(name, make):
    opt = make()
    params = _tree()
    state = opt.init(params)
    grads = {"a": np.ones(2), "b": [np.ones(3)]}
    match = (r"the state's \w+, made by init\(params\), does not have the structure of the "
             r"gradients: tree structure mismatch at \['b'\]: list of length 2 vs list of "
             r"length 1 \(the state's \w+ vs the gradients\)\. Fix: make the state with "
             r"opt\.init\(params\) of the params the gradients are for")
    if name == "masked":  # the inner optimizer sees the chosen leaves as a list
        grads = {"a": [np.ones(2), np.ones(2)], "b": [np.ones(3), np.ones(1)]}
        match = (r"masked: .*tree structure mismatch at the root: list of length 1 vs list of "
                 r"length 2 .*\(the inner transformation sees the chosen leaves as a list: \[0\] "
                 r"is \['a'\]\[0\], \[1\] is \['a'\]\[1\]\)")
    with pytest.raises(ft.errors.TreeStructureError, match=match):
        opt.update(grads, state, params)


@pytest.mark.parametrize("name,make", STATEFUL, ids=[c[0] for c in STATEFUL])
@pytest.mark.parametrize("bad", [(2,), ()], ids=["(2,)", "()"])
def test_gradients_of_another_shape_name_the_key_path_instead_of_broadcasting(name, make, bad):
    opt = make()
    params = _tree()
    state = opt.init(params)
    grads = _tree()
    grads["b"][1] = np.ones(bad)  # (1,) in the params: both would broadcast silently
    shape = re.escape(str(bad))
    match = (rf"at \['b'\]\[1\], the gradient has shape {shape} but the state's \w+ \(made by "
             rf"init\) has shape \(1,\)\. Fix: make the state with opt\.init\(params\)")
    if name == "masked":  # b is not chosen: the mask's False leaves pass through unchecked
        bad = (1,) if bad == (2,) else bad
        shape = re.escape(str(bad))
        grads = {"a": np.ones(bad), "b": _tree()["b"]}
        match = (rf"at \[0\], the gradient has shape {shape} but the state's \w+ \(made by "
                 rf"init\) has shape \(2,\).* \[0\] is \['a'\]\)")
    with pytest.raises(ft.errors.TreeStructureError, match=match):
        opt.update(grads, state, params)


def test_weight_decay_checks_the_params_against_the_gradients():
    opt = optim.sgd(0.1, weight_decay=0.1)
    with pytest.raises(ft.errors.TreeStructureError,
                       match=r"at \['b'\]\[0\], the gradient has shape \(3,\) but the parameter "
                             r"has shape \(2,\)"):
        opt.update(_tree(), opt.init(_tree()), {"a": np.ones(2), "b": [np.ones(2), np.ones(1)]})
    with pytest.raises(ft.errors.TreeStructureError,
                       match=r"the params do not have the structure of the gradients: tree "
                             r"structure mismatch at \['b'\]"):
        opt.update(_tree(), opt.init(_tree()), {"a": np.ones(2), "b": np.ones(1)})


def test_apply_updates_refuses_another_structure_or_shape_by_key_path():
    params = _tree()
    with pytest.raises(ft.errors.TreeStructureError,
                       match=r"apply_updates: the updates do not have the structure of the "
                             r"params: tree structure mismatch at \['b'\]: list of length 2 vs "
                             r"list of length 1 .*Fix: give updates with the params' structure"):
        optim.apply_updates(params, {"a": np.ones(2), "b": [np.ones(3)]})
    for bad in [(2,), (), (3, 1)]:
        updates = _tree()
        updates["b"][1] = np.ones(bad)
        with pytest.raises(ft.errors.TreeStructureError,
                           match=rf"apply_updates: at \['b'\]\[1\], the update has shape "
                                 rf"{re.escape(str(bad))} but the parameter has shape \(1,\)"):
            optim.apply_updates(params, updates)
    # SGD without momentum keeps no buffer to compare with: apply_updates is where it is found.
    opt = optim.sgd(0.1)
    updates, _ = opt.update({"a": np.ones(2), "b": [np.ones(3), np.ones(2)]}, opt.init(params))
    with pytest.raises(ft.errors.TreeStructureError, match=r"at \['b'\]\[1\], the update has shape \(2,\)"):
        optim.apply_updates(params, updates)


def test_the_checks_leave_jit_and_python_numbers_alone():
    params = {"w": np.ones(3), "s": 2.0}
    opt = optim.chain(optim.clip_by_global_norm(10.0), optim.adam(0.1))
    state = opt.init(params)

    def step(params, state):
        grads = ft.grad(lambda p: fnp.sum(p["w"] ** 2) + p["s"] ** 2)(params)
        updates, state = opt.update(grads, state, params)
        return optim.apply_updates(params, updates), state

    eager = step(params, state)
    staged = ft.jit(step)(params, state)
    np.testing.assert_allclose(staged[0]["w"], eager[0]["w"], rtol=1e-15)
    np.testing.assert_allclose(staged[0]["s"], eager[0]["s"], rtol=1e-15)
    assert type(staged[1][1]) is optim.AdamState
    np.testing.assert_allclose(optim.apply_updates({"w": np.ones(2)}, {"w": 0.5})["w"], [1.5, 1.5])


def test_apply_updates_keeps_float32_and_none_leaves_unchanged():
    p = {"w": np.ones(3, np.float32)}
    out = optim.apply_updates(p, {"w": np.full(3, 0.25)})
    assert out["w"].dtype == np.float32
    np.testing.assert_array_equal(out["w"], np.full(3, 1.25, np.float32))
    p = {"w": np.ones(3, np.float32), "b": [np.ones(1), np.zeros(2)]}
    out = optim.apply_updates(p, {"w": None, "b": [np.full(1, 0.5), None]})
    assert out["w"] is p["w"] and out["b"][1] is p["b"][1]
    np.testing.assert_array_equal(out["b"][0], [1.5])


def test_optimizer_repr_shows_hyperparameters():
    assert "b2=0.999" in repr(optim.adam(1e-3))


def test_update_works_inside_grad():
    # The optimizers are pure functions, so a meta-gradient through one update works.
    def after_one_step(lr):
        opt = optim.sgd(0.0, momentum=0.5)
        params = fnp.array([1.0, 2.0])
        updates, _ = opt.update(2 * params, opt.init(params))
        return fnp.sum(params + lr * updates)

    assert float(ft.grad(after_one_step)(1.0)) == 0.0


def test_docstring_examples_run():
    import doctest

    import functrans.optim.alias
    import functrans.optim.base
    import functrans.optim.combine
    import functrans.optim.schedules
    import functrans.optim.transform

    for module in (optim, functrans.optim.alias, functrans.optim.base, functrans.optim.combine,
                   functrans.optim.schedules, functrans.optim.transform):
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
        assert result.failed == 0, module.__name__
        assert result.attempted > 0, module.__name__


# -- a learning rate that is itself traced: hypergradients, and rates passed into jit ---------

@pytest.mark.parametrize("make", [optim.sgd, optim.adam, optim.adamw, optim.rmsprop, optim.adagrad,
                                  optim.lion, optim.lamb, optim.adabelief, optim.nadam,
                                  optim.radam, optim.adamax, optim.adafactor],
                         ids=lambda f: f.__name__)
def test_traced_learning_rate_is_differentiated_and_staged(make):
    params, grads = np.array([1.0, 2.0]), np.array([0.5, -1.0])

    def loss_after_step(lr):
        opt = make(lr)
        updates, _ = opt.update(grads, opt.init(params), params)
        return fnp.sum(optim.apply_updates(params, updates) ** 2)

    eps = 1e-6
    numerical = (loss_after_step(0.1 + eps) - loss_after_step(0.1 - eps)) / (2 * eps)
    np.testing.assert_allclose(ft.grad(loss_after_step)(0.1), numerical, rtol=1e-6)
    np.testing.assert_allclose(ft.jit(loss_after_step)(np.float64(0.1)), loss_after_step(0.1), rtol=1e-12)


def test_traced_learning_rate_sgd_exact_value():
    # d/dlr sum((p - lr g)^2) = sum(-2 g (p - lr g))
    p, g = np.array([1.0, 2.0]), np.array([0.5, -1.0])
    f = lambda lr: fnp.sum(optim.apply_updates(p, optim.sgd(lr).update(g, optim.sgd(lr).init(p), p)[0]) ** 2)
    assert ft.grad(f)(0.1) == pytest.approx(np.sum(-2 * g * (p - 0.1 * g)))
    with pytest.raises(ValueError, match="learning_rate must be >= 0"):
        ft.grad(f)(-0.1)


def test_momentum_none_is_optax_spelling_of_no_momentum():
    params, g = np.array([1.0, -2.0]), np.array([0.5, 3.0])
    for factory in (optim.sgd, optim.rmsprop):
        opt = factory(0.1, momentum=None)
        state = opt.init(params)
        assert state.momentum is None
        got, _ = opt.update(g, state, params)
        want, _ = factory(0.1).update(g, factory(0.1).init(params), params)
        np.testing.assert_array_equal(got, want)
    np.testing.assert_allclose(optim.sgd(0.1, momentum=None).update(g, optim.sgd(0.1).init(
        params))[0], -0.1 * g)


def test_incremental_and_periodic_updates_of_a_target_network():
    online = {"w": np.array([1.0, 2.0], np.float32), "b": np.array([4.0])}
    target = {"w": np.zeros(2, np.float32), "b": np.array([0.0])}
    soft = optim.incremental_update(online, target, 0.25)
    np.testing.assert_allclose(soft["w"], [0.25, 0.5])
    np.testing.assert_allclose(soft["b"], [1.0])
    assert soft["w"].dtype == np.float32
    staged = ft.jit(optim.incremental_update)(online, target, np.float64(0.25))
    np.testing.assert_allclose(staged["w"], soft["w"])
    assert staged["w"].dtype == np.float32
    for step in range(5):
        hard = optim.periodic_update(online, target, step, 2)
        want = online if step % 2 == 0 else target
        np.testing.assert_array_equal(hard["w"], want["w"])
        jitted = ft.jit(lambda s: optim.periodic_update(online, target, s, 2))(np.int64(step))
        np.testing.assert_array_equal(jitted["w"], want["w"])
    # the step size differentiates (a soft update inside a loss)
    grad = ft.grad(lambda t: fnp.sum(optim.incremental_update(online, target, t)["b"]))(0.5)
    assert float(grad) == pytest.approx(4.0)
    with pytest.raises(TreeStructureError, match="structure"):
        optim.incremental_update({"w": np.ones(2)}, {"v": np.ones(2)}, 0.5)
    with pytest.raises(TreeStructureError, match="shape"):
        optim.periodic_update({"w": np.ones(2)}, {"w": np.ones(3)}, 0, 2)
    with pytest.raises(ValueError, match="step_size"):
        optim.incremental_update(online, target, 1.5)
    with pytest.raises(ValueError, match="update_period"):
        optim.periodic_update(online, target, 0, 0)


def test_lars_against_its_formula():
    rng = np.random.default_rng(7)
    params = {"w": rng.normal(size=(3, 2)), "b": rng.normal(size=2)}
    lr, wd, tc, mom = 0.1, 0.05, 0.01, 0.9
    for nesterov in (False, True):
        opt = optim.lars(lr, weight_decay=wd, weight_decay_mask={"w": True, "b": False},
                         trust_coefficient=tc, nesterov=nesterov)
        for step in (opt.update, ft.jit(opt.update)):
            p = dict(params)
            state = opt.init(p)
            trace = {k: np.zeros_like(v) for k, v in p.items()}
            for t in range(4):
                g = {k: (v - 0.2) * (1 + t) for k, v in p.items()}
                want = {}
                for k in p:
                    u = g[k] + (wd * p[k] if k == "w" else 0.0)
                    ratio = tc * np.linalg.norm(p[k]) / np.linalg.norm(u)
                    u = -lr * ratio * u
                    trace[k] = mom * trace[k] + u
                    want[k] = u + mom * trace[k] if nesterov else trace[k]
                updates, state = step(g, state, p)
                for k in p:
                    np.testing.assert_allclose(updates[k], want[k], rtol=1e-12)
                p = optim.apply_updates(p, updates)
    with pytest.raises(ValueError, match="momentum"):
        optim.lars(0.1, momentum=1.0)
