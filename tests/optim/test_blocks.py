"""The building blocks (scale_by_*, trace, scale_by_learning_rate, add_noise, zero_nans) and
the wrappers (MultiSteps, inject_hyperparams, multi_transform, apply_if_finite): the optimizers
they compose into, their formulas, jit-staged steps against eager ones, both backends."""
import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans import optim


def _params():
    rng = np.random.default_rng(11)
    return {"w": rng.normal(size=(3, 2)), "b": rng.normal(size=2)}


def _grads(params, t):
    return {k: (v - 0.3) * (1.0 + 0.25 * t) for k, v in params.items()}


def _run(opt, steps=5, params=None, grads=_grads):
    params = _params() if params is None else params
    state = opt.init(params)
    history = []
    for t in range(steps):
        updates, state = opt.update(grads(params, t), state, params)
        params = optim.apply_updates(params, updates)
        history.append(updates)
    return history, state


def _assert_same(a, b, exact=True):
    for ua, ub in zip(a, b):
        for k in ua:
            if exact:
                np.testing.assert_array_equal(ua[k], ub[k])
            else:
                np.testing.assert_allclose(ua[k], ub[k], rtol=1e-13, atol=1e-15)


# --- the blocks compose into the optimizers ------------------------------------------------------
CHAINS = [
    ("adam", optim.adam(0.01), optim.chain(optim.scale_by_adam(), optim.scale_by_learning_rate(0.01))),
    ("sgd-momentum", optim.sgd(0.1, momentum=0.9),
     optim.chain(optim.trace(0.9), optim.scale_by_learning_rate(0.1))),
    ("sgd-nesterov", optim.sgd(0.1, momentum=0.9, nesterov=True),
     optim.chain(optim.trace(0.9, nesterov=True), optim.scale_by_learning_rate(0.1))),
    ("rmsprop", optim.rmsprop(0.01), optim.chain(optim.scale_by_rms(0.99, 1e-8),
                                                 optim.scale_by_learning_rate(0.01))),
    ("rmsprop-centered", optim.rmsprop(0.01, centered=True, momentum=0.5),
     optim.chain(optim.scale_by_stddev(0.99, 1e-8), optim.trace(0.5),
                 optim.scale_by_learning_rate(0.01))),
    ("lion", optim.lion(0.01), optim.chain(optim.scale_by_lion(), optim.scale_by_learning_rate(0.01))),
    ("adamw", optim.adamw(0.01, weight_decay=0.1),
     optim.chain(optim.scale_by_adam(), optim.add_decayed_weights(0.1),
                 optim.scale_by_learning_rate(0.01))),
    ("adabelief", optim.adabelief(0.01), optim.chain(optim.scale_by_belief(),
                                                     optim.scale_by_learning_rate(0.01))),
    ("adamax", optim.adamax(0.01), optim.chain(optim.scale_by_adamax(),
                                               optim.scale_by_learning_rate(0.01))),
    ("radam", optim.radam(0.01), optim.chain(optim.scale_by_radam(),
                                             optim.scale_by_learning_rate(0.01))),
    ("nadam", optim.nadam(0.01), optim.chain(optim.scale_by_adam(nesterov=True),
                                             optim.scale_by_learning_rate(0.01))),
    ("lamb", optim.lamb(0.01), optim.chain(optim.scale_by_adam(eps=1e-6), optim.scale_by_trust_ratio(),
                                           optim.scale_by_learning_rate(0.01))),
]


@pytest.mark.parametrize("name,alias,chained", CHAINS, ids=[c[0] for c in CHAINS])
def test_the_public_blocks_chained_give_the_optimizers_updates(name, alias, chained):
    _assert_same(_run(alias)[0], _run(chained)[0])


def test_adagrad_from_public_blocks_agrees_to_rounding():
    # Adagrad multiplies the rate into the gradient first (PyTorch's order); the public chain
    # multiplies the direction: the same numbers up to rounding.
    chained = optim.chain(optim.scale_by_rss(eps=1e-10), optim.scale_by_learning_rate(0.1))
    _assert_same(_run(optim.adagrad(0.1))[0], _run(chained)[0], exact=False)


def test_scale_by_schedule_and_learning_rate_read_their_schedule():
    opt = optim.scale_by_schedule(lambda n: 0.5**n)
    state = opt.init(np.zeros(1))
    out = []
    for _ in range(3):
        u, state = opt.update(np.ones(1), state)
        out.append(float(u[0]))
    assert out == [1.0, 0.5, 0.25]
    opt = optim.scale_by_learning_rate(optim.schedules.linear(1.0, 0.0, 2), flip_sign=False)
    state = opt.init(np.zeros(1))
    assert [float(opt.update(np.ones(1), state)[0][0])] == [1.0]
    assert optim.get_learning_rate(opt.update(np.ones(1), state)[1]) == 0.5


def test_trust_ratio_is_the_norm_ratio_per_leaf_and_one_at_zero_norms():
    opt = optim.scale_by_trust_ratio()
    p = {"a": np.array([3.0, 4.0]), "z": np.zeros(2)}
    u = {"a": np.array([0.6, 0.8]), "z": np.array([1.0, 0.0])}
    out, _ = opt.update(u, opt.init(p), p)
    np.testing.assert_allclose(out["a"], [3.0, 4.0])
    np.testing.assert_array_equal(out["z"], [1.0, 0.0])
    with pytest.raises(ValueError, match=r"scale_by_trust_ratio: the trust ratio needs the current"):
        opt.update(u, opt.init(p))


def test_block_errors_name_the_block_and_the_key_path():
    opt = optim.scale_by_adam()
    state = opt.init({"a": np.ones(2)})
    with pytest.raises(ft.errors.TreeStructureError,
                       match=r"functrans\.optim\.scale_by_adam: at \['a'\], the gradient has shape "
                             r"\(3,\) but the state's mu"):
        opt.update({"a": np.ones(3)}, state)
    with pytest.raises(ft.errors.OptimizerInputError, match=r"scale_by_rms: the state is a "
                                                            r"ScaleByAdamState"):
        optim.scale_by_rms().update({"a": np.ones(2)}, state)
    with pytest.raises(ValueError, match=r"trace: decay must be in \[0, 1\)"):
        optim.trace(1.0)
    with pytest.raises(TypeError, match="step_size_fn must be a function"):
        optim.scale_by_schedule(0.1)


def test_zero_nans_and_add_noise():
    opt = optim.zero_nans()
    u, state = opt.update({"a": np.array([np.nan, 1.0]), "b": np.ones(1)}, opt.init({"a": 0, "b": 0}))
    np.testing.assert_array_equal(u["a"], [0.0, 1.0])
    assert bool(state.found_nan["a"]) and not bool(state.found_nan["b"])

    noise = optim.add_noise(eta=0.5, gamma=0.55, seed=3)
    zeros = np.zeros(20000)
    u1, s = noise.update(zeros, noise.init(zeros))
    u2, s = noise.update(zeros, s)
    assert np.std(u1) == pytest.approx(np.sqrt(0.5), rel=0.03)           # t = 1
    assert np.std(u2) == pytest.approx(np.sqrt(0.5 / 2**0.55), rel=0.03)  # t = 2
    again, _ = noise.update(zeros, noise.init(zeros))
    np.testing.assert_array_equal(u1, again)  # the seed decides the noise


# --- MultiSteps ----------------------------------------------------------------------------------
def test_multisteps_steps_every_k_with_the_mean_gradient():
    k, inner = 3, optim.adam(0.1)
    opt = optim.MultiSteps(inner, every_k_schedule=k)
    params = _params()
    state, ref_state = opt.init(params), inner.init(params)
    for t in range(9):
        grads = _grads(params, t)
        updates, state = opt.update(grads, state, params)
        if t % k == k - 1:
            mean = {key: sum(_grads(params, s)[key] for s in range(t - k + 1, t + 1)) / k
                    for key in grads}
            want, ref_state = inner.update(mean, ref_state, params)
            for key in want:
                np.testing.assert_allclose(updates[key], want[key], rtol=1e-14)
            assert optim.MultiSteps.has_updated(state)
        else:
            assert all(not np.any(u) for u in updates.values())
            assert not optim.MultiSteps.has_updated(state)
    assert int(state.gradient_step) == 3 and int(optim.get_count(state.inner_opt_state)) == 3


def test_multisteps_with_a_schedule_of_k_and_chained():
    opt = optim.MultiSteps(optim.sgd(1.0), every_k_schedule=lambda step: 1 + step)
    state, steps = opt.init(np.zeros(1)), []
    for _ in range(6):
        u, state = opt.update(np.ones(1), state)
        steps.append(bool(u[0] != 0))
    assert steps == [True, False, True, False, False, True]  # k = 1, 2, 3
    chained = optim.chain(optim.clip(0.5), opt.gradient_transformation())
    assert chained.update(np.ones(1), chained.init(np.zeros(1)))[0][0] == -0.5


# --- the jit-staged step against the eager one, for every wrapper --------------------------------
def _nan_at_3(params, t):
    grads = _grads(params, t)
    return {k: v * np.nan for k, v in grads.items()} if t == 3 else grads


WRAPPED = [
    ("multisteps", lambda: optim.MultiSteps(optim.adam(0.1), 3), _grads),
    ("inject", lambda: optim.inject_hyperparams(optim.adamw)(
        learning_rate=optim.schedules.linear(0.1, 0.01, 4), weight_decay=0.1), _grads),
    ("multi_transform", lambda: optim.multi_transform(
        {"slow": optim.sgd(0.01, momentum=0.9), "fast": optim.lamb(0.1)},
        {"w": "fast", "b": "slow"}), _grads),
    ("apply_if_finite", lambda: optim.apply_if_finite(optim.adam(0.1), 2), _nan_at_3),
    ("zero_nans", lambda: optim.chain(optim.zero_nans(), optim.sgd(0.1)), _nan_at_3),
    ("add_noise", lambda: optim.chain(optim.add_noise(0.1, 0.55, 0), optim.sgd(0.1)), _grads),
]


@pytest.mark.parametrize("name,make,grads", WRAPPED, ids=[c[0] for c in WRAPPED])
def test_jit_staged_step_matches_eager(name, make, grads):
    opt = make()

    @ft.jit
    def step(params, state, g):
        updates, state = opt.update(g, state, params)
        return optim.apply_updates(params, updates), state

    eager, _ = _run(opt, steps=7, grads=grads)
    params, state = _params(), opt.init(_params())
    for t in range(7):
        new_params, state = step(params, state, grads(params, t))
        for k in params:
            np.testing.assert_allclose(new_params[k] - params[k], eager[t][k], rtol=1e-12,
                                       atol=1e-15)
        params = new_params


@pytest.mark.parametrize("name,make,grads", WRAPPED, ids=[c[0] for c in WRAPPED])
def test_wrappers_on_both_backends(name, make, grads, backend):
    want, _ = _run(make(), steps=4, grads=grads)
    params = backend.put(_params())
    opt = make()
    state = opt.init(params)
    for t in range(4):
        g = backend.put(grads(backend.get(params), t))
        updates, state = opt.update(g, state, params)
        backend.check_placed(updates, "updates")
        params = optim.apply_updates(params, updates)
        got = backend.get(updates)
        for k in got:
            np.testing.assert_allclose(got[k], want[t][k], rtol=1e-12, atol=1e-15)


# --- apply_if_finite -----------------------------------------------------------------------------
def test_apply_if_finite_skips_and_keeps_the_inner_state():
    opt = optim.apply_if_finite(optim.sgd(1.0, momentum=0.5), max_consecutive_errors=2)
    state = opt.init(np.zeros(1))
    _, state = opt.update(np.ones(1), state)
    before = state.inner_state
    for n in (1, 2):
        u, state = opt.update(np.array([np.inf]), state)
        assert u[0] == 0 and int(state.notfinite_count) == n and not bool(state.last_finite)
        assert state.inner_state is before
    u, state = opt.update(np.array([np.nan]), state)  # the third in a row is applied
    assert np.isnan(u[0]) and int(state.total_notfinite) == 3
    u, state = opt.update(np.ones(1), state)
    assert int(state.notfinite_count) == 0 and bool(state.last_finite)


# --- inject_hyperparams --------------------------------------------------------------------------
@pytest.mark.parametrize("factory,kwargs", [
    (optim.adam, {"learning_rate": 0.01, "b1": 0.8}),
    (optim.sgd, {"learning_rate": 0.1, "momentum": 0.9, "nesterov": True}),
    (optim.rmsprop, {"learning_rate": 0.01, "centered": True}),
    (optim.adafactor, {"learning_rate": 0.01}),
    (optim.adagrad, {"learning_rate": 0.1}),
], ids=lambda v: getattr(v, "__name__", ""))
def test_injected_optimizer_gives_the_same_updates(factory, kwargs):
    _assert_same(_run(factory(**kwargs))[0], _run(optim.inject_hyperparams(factory)(**kwargs))[0])


def test_injected_rate_can_be_changed_without_init_and_is_used_at_once():
    opt = optim.inject_hyperparams(optim.sgd)(learning_rate=0.1, momentum=0.5)
    state = opt.init(np.zeros(1))
    assert sorted(state.hyperparams) == ["learning_rate", "momentum"]  # weight_decay=0: off
    _, state = opt.update(np.ones(1), state)
    state.hyperparams["learning_rate"] = np.asarray(1.0)
    u, state = opt.update(np.ones(1), state)
    assert u[0] == pytest.approx(-1.5)  # the buffer 0.5 * 1 + 1, times the new rate
    assert float(optim.get_learning_rate(state.inner_state)) == 1.0
    state.hyperparams["b1"] = np.asarray(0.9)
    with pytest.raises(ft.errors.OptimizerInputError, match="change the values of the existing"):
        opt.update(np.ones(1), state)


@pytest.mark.parametrize("factory", [optim.adam, optim.sgd, optim.rmsprop, optim.adagrad],
                         ids=lambda f: f.__name__)
def test_injected_step_under_jit_needs_no_params_when_the_decay_is_off(factory):
    # weight_decay=0.0 stays a constant: a traced one would switch the decay on, needing params.
    opt = optim.inject_hyperparams(factory)(learning_rate=0.1)
    state = opt.init(np.zeros(3))
    g = np.array([1.0, -2.0, 3.0])
    eager, _ = opt.update(g, state)
    staged, _ = ft.jit(opt.update)(g, state)
    np.testing.assert_allclose(staged, eager, rtol=1e-15)
    assert "weight_decay" not in state.hyperparams
    decayed = optim.inject_hyperparams(factory)(learning_rate=0.1, weight_decay=0.5)
    assert "weight_decay" in decayed.init(np.zeros(3)).hyperparams


def test_injected_schedule_is_evaluated_at_every_step_and_static_args_stay_out():
    opt = optim.inject_hyperparams(optim.adam, static_args=("b2",))(
        learning_rate=optim.schedules.linear(1.0, 0.0, 4), b2=0.99)
    state = opt.init(np.zeros(1))
    rates = [float(state.hyperparams["learning_rate"])]
    for _ in range(3):
        _, state = opt.update(np.ones(1), state)
        rates.append(float(state.hyperparams["learning_rate"]))
    assert rates == [1.0, 0.75, 0.5, 0.25] and "b2" not in state.hyperparams


def test_hypergradient_through_an_injected_rate():
    params, grads = np.array([1.0, 2.0]), np.array([0.5, -1.0])
    opt = optim.inject_hyperparams(optim.adam)(learning_rate=0.1)

    def loss(lr):
        state = opt.init(params)
        state.hyperparams["learning_rate"] = lr
        updates, _ = opt.update(grads, state, params)
        return fnp.sum(optim.apply_updates(params, updates) ** 2)

    eps = 1e-6
    numerical = (loss(0.1 + eps) - loss(0.1 - eps)) / (2 * eps)
    np.testing.assert_allclose(ft.grad(loss)(0.1), numerical, rtol=1e-6)


# --- multi_transform -----------------------------------------------------------------------------
def test_multi_transform_is_each_optimizer_on_its_group():
    params = {"encoder": {"w": np.ones((2, 2)), "b": np.ones(2)}, "head": np.ones(3)}
    fast, slow = optim.adam(0.1), optim.sgd(0.01, momentum=0.9)
    opt = optim.multi_transform({"fast": fast, "slow": slow},
                                lambda p: {"encoder": "slow", "head": "fast"})

    def grads(p, t):
        return tree_scale(p, 1.0 + t)

    history, _ = _run(opt, 3, params, grads)
    head, _ = _run(fast, 3, {"h": params["head"]}, lambda p, t: {"h": p["h"] * (1.0 + t)})
    enc, _ = _run(slow, 3, params["encoder"], grads)
    for t in range(3):
        np.testing.assert_array_equal(history[t]["head"], head[t]["h"])
        for k in ("w", "b"):
            np.testing.assert_array_equal(history[t]["encoder"][k], enc[t][k])


def tree_scale(p, c):
    return ft.tree.map(lambda x: x * c, p)


def test_multi_transform_errors_name_the_key_path():
    opt = optim.multi_transform({"a": optim.sgd(0.1)}, {"w": "a", "v": "b"})
    with pytest.raises(ValueError, match=r"the parameter at \['v'\] has the label 'b', which has "
                                         r"no transformation.*Fix: add 'b'"):
        opt.init({"w": np.ones(1), "v": np.ones(1)})
    opt = optim.multi_transform({"a": optim.sgd(0.1)}, {"w": "a"})
    with pytest.raises(ValueError, match=r"no entry for the parameter at \['v'\]"):
        opt.init({"w": np.ones(1), "v": np.ones(1)})
    opt = optim.multi_transform({"a": optim.adam(0.1)}, "a")
    state = opt.init({"w": np.ones(2)})
    with pytest.raises(ft.errors.TreeStructureError,
                       match=r"multi_transform \(group 'a'\): .*shape \(3,\).*\[0\] is \['w'\]"):
        opt.update({"w": np.ones(3)}, state)
    with pytest.raises(TypeError, match=r"transforms\['a'\] is a function"):
        optim.multi_transform({"a": lambda g: g}, "a")


# --- the errors of the new pieces name the fix and the key path ----------------------------------
NEW = [
    ("adamax", lambda: optim.adamax()), ("nadam", lambda: optim.nadam()),
    ("radam", lambda: optim.radam()), ("adabelief", lambda: optim.adabelief()),
    ("lamb", lambda: optim.lamb()), ("adafactor", lambda: optim.adafactor()),
    ("MultiSteps", lambda: optim.MultiSteps(optim.adam(), 2)),
    ("inject_hyperparams", lambda: optim.inject_hyperparams(optim.adam)(learning_rate=0.1)),
    ("multi_transform", lambda: optim.multi_transform({"x": optim.adam()}, "x")),
    ("apply_if_finite", lambda: optim.apply_if_finite(optim.adam(), 1)),
]


def _tree():
    return {"a": np.ones(2), "b": [np.ones(3), np.ones(1)]}


@pytest.mark.parametrize("name,make", NEW, ids=[c[0] for c in NEW])
def test_new_pieces_refuse_swapped_arguments_and_foreign_states(name, make):
    opt, params = make(), _tree()
    state = opt.init(params)
    with pytest.raises(ft.errors.OptimizerInputError, match=rf"functrans\.optim\.{name}: update "
                       r"received an optimizer state .* the arguments are swapped"):
        opt.update(state, _tree(), params)
    with pytest.raises(ft.errors.OptimizerInputError, match=r"made by another optimizer"):
        opt.update(_tree(), optim.lion(0.1).init(params), params)


@pytest.mark.parametrize("name,make", NEW[:6], ids=[c[0] for c in NEW[:6]])
def test_new_optimizers_name_the_key_path_of_a_mismatched_gradient(name, make):
    opt, params = make(), _tree()
    grads = _tree()
    grads["b"][1] = np.ones(2)
    with pytest.raises(ft.errors.TreeStructureError,
                       match=rf"functrans\.optim\.{name}: at \['b'\]\[1\], the gradient has shape "
                             r"\(2,\)"):
        opt.update(grads, opt.init(params), params)
    with pytest.raises(ft.errors.OptimizerInputError, match=r"the parameter at \['act'\] is a str"):
        opt.init({"w": np.ones(2), "act": "relu"})


def test_wrapper_argument_errors():
    with pytest.raises(ValueError, match="every_k_schedule must be a positive int"):
        optim.MultiSteps(optim.sgd(0.1), 0)
    with pytest.raises(TypeError, match="opt must be a GradientTransformation"):
        optim.MultiSteps(lambda g: g, 2)
    with pytest.raises(TypeError, match=r"inject_hyperparams: .*unexpected keyword.*adam"):
        optim.inject_hyperparams(optim.adam)(lr=0.1)
    with pytest.raises(ValueError, match="b1 must be in"):
        optim.inject_hyperparams(optim.adam)(b1=1.5)
    with pytest.raises(ValueError, match="max_consecutive_errors must be a non-negative int"):
        optim.apply_if_finite(optim.sgd(0.1), -1)
    opt = optim.MultiSteps(optim.sgd(0.1), 2)
    with pytest.raises(ft.errors.TreeStructureError,
                       match=r"MultiSteps: the state's acc_grads, made by init\(params\), does "
                             r"not have the structure of the gradients: .*Fix: make the state"):
        opt.update({"x": np.ones(1)}, opt.init({"y": np.ones(1)}))


def test_injected_rate_changed_between_jitted_steps():
    opt = optim.inject_hyperparams(optim.adam)(learning_rate=0.1)

    @ft.jit
    def step(params, state, grads):
        updates, state = opt.update(grads, state, params)
        return optim.apply_updates(params, updates), state

    params, grads = np.ones(2), np.array([0.5, -1.0])
    p_jit, s_jit = params, opt.init(params)
    p_eager, s_eager = params, opt.init(params)
    for rate in (0.1, 0.01, 0.5):
        s_jit.hyperparams["learning_rate"] = np.asarray(rate)
        s_eager.hyperparams["learning_rate"] = np.asarray(rate)
        p_jit, s_jit = step(p_jit, s_jit, grads)
        u, s_eager = opt.update(grads, s_eager, p_eager)
        p_eager = optim.apply_updates(p_eager, u)
        np.testing.assert_allclose(p_jit, p_eager, rtol=1e-14)


def _assert_history_close(got, want, rtol=1e-12):
    for u, v in zip(got, want):
        for k in u:
            np.testing.assert_allclose(u[k], v[k], rtol=rtol, atol=1e-15)


@pytest.mark.parametrize("mask", [{"w": True, "b": False},
                                  lambda p: {k: v.ndim > 1 for k, v in p.items()}],
                         ids=["pytree", "callable"])
def test_weight_decay_mask_of_optax_decays_only_the_chosen_leaves(mask):
    # optax's spelling: add_decayed_weights(wd, mask), adamw/lamb/lion(..., mask=...): the
    # same updates as the decay wrapped in masked, and no decay of the unchosen leaves.
    wd = 0.1
    decay_w = optim.masked(optim.add_decayed_weights(wd), {"w": True, "b": False})
    pairs = [
        (optim.add_decayed_weights(wd, mask), decay_w),
        (optim.adamw(0.01, weight_decay=wd, mask=mask),
         optim.chain(optim.scale_by_adam(), decay_w, optim.scale_by_learning_rate(0.01))),
        (optim.lion(0.01, weight_decay=wd, mask=mask),
         optim.chain(optim.scale_by_lion(), decay_w, optim.scale_by_learning_rate(0.01))),
        (optim.lamb(0.01, weight_decay=wd, mask=mask),
         optim.chain(optim.scale_by_adam(eps=1e-6), decay_w, optim.scale_by_trust_ratio(),
                     optim.scale_by_learning_rate(0.01))),
    ]
    for opt, reference in pairs:
        got, _ = _run(opt)
        _assert_history_close(got, _run(reference)[0])
        staged = ft.jit(opt.update)  # the mask is applied the same way in a staged step
        params = _params()
        state = opt.init(params)
        for t in range(3):
            u_eager, _ = opt.update(_grads(params, t), state, params)
            u, state = staged(_grads(params, t), state, params)
            _assert_history_close([u], [u_eager])
            params = optim.apply_updates(params, u)
    # the bias is untouched by the decay alone
    params = _params()
    updates, _ = optim.add_decayed_weights(wd, mask).update(
        {k: np.zeros_like(v) for k, v in params.items()}, optim.EmptyState(), params)
    np.testing.assert_array_equal(updates["b"], 0.0)
    np.testing.assert_allclose(updates["w"], wd * params["w"])


def test_adam_takes_optax_eps_root_and_nesterov():
    for kwargs in ({"eps_root": 1e-8}, {"nesterov": True}, {"eps_root": 1e-3, "nesterov": True}):
        got, _ = _run(optim.adam(0.01, **kwargs))
        want, _ = _run(optim.chain(optim.scale_by_adam(**kwargs),
                                   optim.scale_by_learning_rate(0.01)))
        _assert_history_close(got, want)
        got, _ = _run(optim.adamw(0.01, weight_decay=0.0, **kwargs))
        _assert_history_close(got, want)
    # Against hand-computed numbers: one step of g = 2 from zero moments, eps_root = 1.
    u, _ = optim.adam(1.0, eps=0.0, eps_root=1.0).update(np.array([2.0]),
                                                        optim.adam(1.0).init(np.zeros(1)))
    np.testing.assert_allclose(u, [-2.0 / np.sqrt(4.0 + 1.0)])
    # An injected eps_root is traced under jit and still used.
    opt = optim.inject_hyperparams(optim.adam)(learning_rate=1.0, eps=0.0, eps_root=1.0)
    u, _ = ft.jit(opt.update)(np.array([2.0]), opt.init(np.zeros(1)), np.zeros(1))
    np.testing.assert_allclose(u, [-2.0 / np.sqrt(5.0)])


@pytest.mark.parametrize("factory", [optim.adam, optim.rmsprop, optim.sgd, optim.lion,
                                     optim.adabelief])
def test_injected_hyperparams_keep_float32_under_jit_as_eagerly(factory):
    params = {k: v.astype(np.float32) for k, v in _params().items()}
    opt = optim.inject_hyperparams(factory)(learning_rate=0.01)
    staged = ft.jit(opt.update)
    eager_state = jit_state = opt.init(params)
    for t in range(3):
        grads = {k: v.astype(np.float32) for k, v in _grads(params, t).items()}
        u_eager, eager_state = opt.update(grads, eager_state, params)
        u_jit, jit_state = staged(grads, jit_state, params)
        for a, b in zip(ft.tree.leaves((u_jit, jit_state.inner_state)),
                        ft.tree.leaves((u_eager, eager_state.inner_state))):
            if hasattr(b, "dtype") and b.dtype.kind == "f" and b.ndim:
                assert a.dtype == np.float32, (factory.__name__, a.dtype)
                np.testing.assert_allclose(a, b, rtol=2e-6, atol=1e-7)
        params = optim.apply_updates(params, u_eager)


def test_injected_zero_momentum_keeps_the_state_structure_under_jit():
    # momentum=0.0 makes no buffer: it stays a constant, so the staged step does not build
    # a momentum trace the state does not have; a nonzero momentum is injected as usual.
    params, g = np.array([1.0, -2.0]), np.array([0.5, 3.0])
    for factory in (optim.sgd, optim.rmsprop):
        opt = optim.inject_hyperparams(factory)(learning_rate=0.1)
        state = opt.init(params)
        assert "momentum" not in state.hyperparams
        u, _ = ft.jit(opt.update)(g, state, params)
        np.testing.assert_allclose(u, factory(0.1).update(g, factory(0.1).init(params),
                                                          params)[0])
    opt = optim.inject_hyperparams(optim.sgd)(learning_rate=0.1, momentum=0.9)
    state = opt.init(params)
    assert "momentum" in state.hyperparams
    state.hyperparams["momentum"] = np.asarray(0.5)
    staged = ft.jit(opt.update)
    u, state = staged(g, state, params)
    u, state = staged(g, state, params)
    np.testing.assert_allclose(u, -0.1 * (0.5 * g + g))


def test_complex_params_use_the_squared_modulus_as_optax_does():
    rng = np.random.default_rng(5)
    p = rng.normal(size=4) + 1j * rng.normal(size=4)
    gs = [rng.normal(size=4) + 1j * rng.normal(size=4) for _ in range(4)]
    b1, b2, eps, lr = 0.9, 0.999, 1e-8, 0.01
    m, v = np.zeros(4, complex), np.zeros(4)
    opt = optim.adam(lr)
    state = opt.init(p)
    for t, g in enumerate(gs, start=1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * np.abs(g) ** 2
        want = -lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
        u, state = opt.update(g, state, p)
        np.testing.assert_allclose(u, want, rtol=1e-12)
    # the first step has modulus lr in every coordinate, in the gradient's direction
    u, _ = optim.adam(lr).update(gs[0], optim.adam(lr).init(p))
    np.testing.assert_allclose(u, -lr * gs[0] / np.abs(gs[0]), rtol=1e-6)
    a, mu, nu = 0.9, np.zeros(4, complex), np.zeros(4)
    opt, state = optim.rmsprop(lr, alpha=a, centered=True), None
    state = opt.init(p)
    for g in gs:
        nu = a * nu + (1 - a) * np.abs(g) ** 2
        mu = a * mu + (1 - a) * g
        u, state = opt.update(g, state, p)
        np.testing.assert_allclose(u, -lr * g / (np.sqrt(nu - np.abs(mu) ** 2) + 1e-8),
                                   rtol=1e-10)
    norm = np.sqrt(sum(np.sum(np.abs(g) ** 2) for g in gs[:2]))
    assert float(optim.global_norm(gs[:2])) == pytest.approx(norm, rel=1e-14)
    clipped, _ = optim.clip_by_global_norm(1.0).update(gs[:2], optim.EmptyState())
    np.testing.assert_allclose(clipped[0], gs[0] / norm, rtol=1e-12)


def test_multisteps_use_grad_mean_false_steps_with_the_sum():
    opt = optim.MultiSteps(optim.sgd(0.5), every_k_schedule=3, use_grad_mean=False)
    for step in (opt.update, ft.jit(opt.update)):
        state = opt.init(np.zeros(2))
        outs = []
        for g in ([1.0, 2.0], [2.0, 0.0], [6.0, -1.0], [1.0, 1.0]):
            u, state = step(np.array(g), state)
            outs.append(np.asarray(u))
        np.testing.assert_allclose(outs, [[0.0, 0.0], [0.0, 0.0], [-4.5, -0.5], [0.0, 0.0]])
        np.testing.assert_allclose(state.acc_grads, [1.0, 1.0])


def test_combinators_take_a_multisteps_as_optax_does():
    accumulate = optim.MultiSteps(optim.sgd(1.0), every_k_schedule=2)
    opt = optim.chain(optim.clip(1.0), accumulate)
    state = opt.init(np.zeros(2))
    u, state = opt.update(np.array([3.0, 0.5]), state)
    np.testing.assert_array_equal(u, [0.0, 0.0])
    u, state = opt.update(np.array([0.0, 0.25]), state)
    np.testing.assert_allclose(u, [-0.5, -0.375])
    assert bool(optim.MultiSteps.has_updated(state[1]))
    masked = optim.masked(accumulate, {"a": True, "b": False})
    params = {"a": np.zeros(1), "b": np.zeros(1)}
    state = masked.init(params)
    for g in (2.0, 4.0):
        u, state = masked.update({"a": np.array([g]), "b": np.array([g])}, state, params)
    np.testing.assert_allclose(u["a"], [-3.0])
    np.testing.assert_allclose(u["b"], [4.0])
    grouped = optim.multi_transform({"x": accumulate, "y": optim.sgd(1.0)}, {"a": "x", "b": "y"})
    u, _ = grouped.update({"a": np.ones(1), "b": np.ones(1)}, grouped.init(params), params)
    np.testing.assert_allclose(u["a"], [0.0])
    np.testing.assert_allclose(u["b"], [-1.0])
    finite = optim.apply_if_finite(accumulate, 2)
    u, _ = finite.update(np.ones(1), finite.init(np.zeros(1)))
    np.testing.assert_allclose(u, [0.0])
