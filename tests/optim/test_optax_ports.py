"""The optimizers and blocks ported from optax (AMSGrad, Yogi, Adadelta, NovoGrad, SM3, sign
SGD, Rprop, Fromage, optimistic GD, AdaMax(W), NAdamW, ema, apply_every) against optax's own
numbers, eagerly and jit-staged, keeping float32 float32; and their errors."""
import numpy as np
import pytest

import functrans as ft
from functrans import optim

P0 = {"w": np.array([[0.5, -1.25, 2.0], [0.75, -0.3, 1.1]]), "b": np.array([0.2, -0.6, 0.0])}


def _grads(p, t):
    # b[2] = 0 gives a zero gradient at the first step: the edge cases of each rule.
    return ft.tree.map(lambda x: np.sin(3.0 * x + t) * (1.0 + 0.5 * t), p)


# The params after 4 steps from P0 with the gradients _grads, computed offline with optax 0.2.8
# on jax 0.10.2 in float64 (jax_enable_x64): p = optax.apply_updates(p, opt.update(g, s, p)[0])
# with the optax call of the same name in CASES (optax.<name>(...) with the same arguments).
OPTAX = {
    "amsgrad": {
        "w": [[0.19748598672000375, -1.2669209246657194, 1.8804516326212668],
              [0.6501301393711564, -0.3176446305721331, 1.3686522496730367]],
        "b": [-0.178268520613118, -0.45721308860917287, -0.24899953991583257]},
    "scale_by_amsgrad": {
        "w": [[0.9884452017967305, -0.24926706952934885, -0.07549929271178263],
              [2.9517043403990253, -2.075091114129827, -0.02097860804270557]],
        "b": [-0.362241123141022, -2.496154393837614, -0.09570766777043871]},
    "adadelta": {
        "w": [[0.5006923951881633, -1.2450719100133911, 1.9948519766315715],
              [0.7532294890009323, -0.3032360573217599, 1.106068468629578]],
        "b": [0.19635633028752686, -0.599965894076318, -0.0039664758908742916]},
    "adadelta_wd": {
        "w": [[0.5019467828623212, -1.211022229028077, 1.9614013350187989],
              [0.7692048415162522, -0.32304283721283, 1.1347533894377353]],
        "b": [0.17092767747232135, -0.6003350672028367, -0.030013918058283486]},
    "yogi": {
        "w": [[0.17953778691953676, -1.2798261026935878, 1.8786665056719307],
              [0.6231808435192466, -0.3165443043177103, 1.3712075494148057]],
        "b": [-0.1833657461740822, -0.44771836902374695, -0.24872147747533252]},
    "scale_by_yogi": {
        "w": [[1.0019241877344205, -0.8100038309414996, 2.5823698787109555],
              [1.2041480139344931, 0.2711643951956461, 1.5257382308180323]],
        "b": [0.7559716757275595, -0.09579595097302704, 0.5780005433679074]},
    "novograd": {
        "w": [[0.15422054235179206, -1.171061987851389, 1.7715416690403334],
              [0.7151975875460803, -0.334526085015161, 1.3572566791203116]],
        "b": [-0.34981038329778424, -0.3676834188003972, -0.36822193670101505]},
    "novograd_wd": {
        "w": [[0.14985958235658117, -1.04535569935004, 1.5903084286248839],
              [0.6867181064490478, -0.3506748452237066, 1.2686188765644113]],
        "b": [-0.3537190165720699, -0.3852148620393548, -0.38487928308759517]},
    "sm3": {
        "w": [[0.46155220804134767, -1.2458264826441643, 1.988705579386949],
              [0.7416395605342835, -0.29597087868635513, 1.1730808762050238]],
        "b": [0.13257282482554153, -0.5610769358022292, -0.0451816180609939]},
    "scale_by_sm3": {
        "w": [[7.1760339869196645, 4.577553420913151, -1.2601034956961956],
              [7.64675113157632, -2.064353428279925, -5.387883216812255]],
        "b": [2.5269152224143747, -0.7271185762527526, 5.039128725765707]},
    "sign_sgd": {
        "w": [[0.30000000000000004, -1.0499999999999998, 1.7999999999999998],
              [0.75, -0.5, 1.3000000000000003]],
        "b": [-0.2, -0.6, -0.30000000000000004]},
    "adamaxw": {
        "w": [[0.22141959528756103, -1.3103327907906683, 1.9484499824705894],
              [0.6232147050124124, -0.27842582668972166, 1.3302948009740536]],
        "b": [-0.10946049739130206, -0.440504602459158, -0.17021307246006975]},
    "adamax": {
        "w": [[0.22143864521977208, -1.310395994916446, 1.9485342014925375],
              [0.6232468284170292, -0.27843430372575356, 1.3303334721636344]],
        "b": [-0.10945772584346095, -0.4405201485972566, -0.170214764655364]},
    "scale_by_adamax": {
        "w": [[0.38926999175094223, 0.31622369780251025, -0.42845799066400825],
              [2.420952454740716, -2.0094777994568904, 0.25353454355467797]],
        "b": [-0.30773344035510786, -2.245106932881766, 0.3962933596614456]},
    "nadamw": {
        "w": [[0.10559860386717079, -1.272816211925142, 1.8338576888866764],
              [0.6143767345018042, -0.4008715410875131, 1.383294721074084]],
        "b": [-0.29969491714435303, -0.502516365325113, -0.3400016057691413]},
    "rprop": {
        "w": [[0.4, -1.2, 1.95],
              [0.8, -0.35, 1.3200000000000003]],
        "b": [-0.16399999999999998, -0.5, -0.22]},
    "fromage": {
        "w": [[0.09935461330853922, -1.0981877622662601, 1.61216549375212],
              [0.7661370126298788, -0.5149482445630442, 1.2348281797593508]],
        "b": [0.10453865463267699, -0.5806297251372764, -0.0910636631311295]},
    "fromage_sched": {
        "w": [[0.25126668641372096, -1.2543531183236851, 1.8981187625752738],
              [0.654582593282365, -0.2844905905791194, 1.2141754710622983]],
        "b": [0.14103279751746445, -0.5489303333187169, -0.03395081012972067]},
    "ogd": {
        "w": [[0.5731845757271167, -1.277801226482568, 1.2299905828644921],
              [0.9401365094456057, -0.936161137793279, 0.983078351201419]],
        "b": [-0.6081182587903218, -0.9699261962325524, -0.813726803840436]},
    "ogd_ab": {
        "w": [[1.2196249439446167, -1.557375052686302, 1.224781986773327],
              [0.5152625661651034, -0.998856105932763, 1.0390363716013082]],
        "b": [-0.41245055087262905, -0.8991033747221654, -0.7737489553389998]},
    "apply_every": {
        "w": [[0.38063632526192503, -1.0531097936915972, 1.7315219106873978],
              [0.8674198221364409, -0.414883793546563, 1.4196529483715234]],
        "b": [-0.10950056216002219, -0.4347456894362643, -0.3080801330863208]},
    "ema": {
        "w": [[1.6812764490111087, -2.7285630310829605, 2.165851111959874],
              [1.3469559279872125, -2.0330084579664685, -0.17379323978418915]],
        "b": [-0.6360390948065682, -2.429371546431341, -0.28909784860321575]},
    "ema_nodebias": {
        "w": [[0.41046664603411964, -1.892074665494003, 2.4069898948205233],
              [0.26737359845861464, -0.163334283494097, 0.05429289738443144]],
        "b": [0.4595933772476765, -1.7285252615838567, 0.3953067057889853]},
}

CASES = {
    "amsgrad": lambda: optim.amsgrad(0.1),
    "scale_by_amsgrad": lambda: optim.scale_by_amsgrad(b1=0.8, b2=0.9, eps_root=1e-3),
    "adadelta": lambda: optim.adadelta(0.5),
    "adadelta_wd": lambda: optim.adadelta(0.5, rho=0.8, eps=1e-4, weight_decay=0.1),
    "yogi": lambda: optim.yogi(0.1),
    "scale_by_yogi": lambda: optim.scale_by_yogi(eps=1e-2, eps_root=1e-4,
                                                 initial_accumulator_value=0.5),
    "novograd": lambda: optim.novograd(0.1),
    "novograd_wd": lambda: optim.novograd(0.1, b1=0.8, b2=0.5, weight_decay=0.1),
    "sm3": lambda: optim.sm3(0.1),
    "scale_by_sm3": lambda: optim.scale_by_sm3(b1=0.5, b2=0.9),
    "sign_sgd": lambda: optim.sign_sgd(0.1),
    "adamaxw": lambda: optim.adamaxw(0.1),
    "adamax": lambda: optim.adamax(0.1),
    "scale_by_adamax": lambda: optim.scale_by_adamax(eps=0.1),  # eps inside the maximum
    "nadamw": lambda: optim.nadamw(0.1),
    "rprop": lambda: optim.rprop(0.1),
    "fromage": lambda: optim.fromage(0.1),
    "fromage_sched": lambda: optim.fromage(lambda c: 0.1 / (1.0 + c)),
    "ogd": lambda: optim.optimistic_gradient_descent(0.1),
    "ogd_ab": lambda: optim.optimistic_gradient_descent(0.1, alpha=0.5, beta=2.0),
    "apply_every": lambda: optim.chain(optim.apply_every(3), optim.sgd(0.1)),
    "ema": lambda: optim.ema(0.9),
    "ema_nodebias": lambda: optim.ema(0.9, debias=False),
}


def _run(opt, jit=False, dtype=np.float64, steps=4):
    p = ft.tree.map(lambda x: x.astype(dtype), P0)
    state = opt.init(p)
    update = ft.jit(opt.update) if jit else opt.update
    for t in range(steps):
        updates, state = update(ft.tree.map(lambda x: x.astype(dtype), _grads(p, t)), state, p)
        p = optim.apply_updates(p, updates)
    return p, updates, state


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_optax_over_four_steps(name):
    p, _, _ = _run(CASES[name]())
    for k in ("w", "b"):
        np.testing.assert_allclose(p[k], OPTAX[name][k], rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", sorted(CASES))
def test_jit_staged_update_gives_the_same_numbers(name):
    eager, eager_u, eager_s = _run(CASES[name]())
    staged, staged_u, staged_s = _run(CASES[name](), jit=True)
    for k in ("w", "b"):
        np.testing.assert_allclose(staged[k], eager[k], rtol=1e-14, atol=1e-15)
        np.testing.assert_allclose(staged_u[k], eager_u[k], rtol=1e-14, atol=1e-15)
    assert ft.tree.structure(staged_s) == ft.tree.structure(eager_s)


@pytest.mark.parametrize("name", sorted(CASES))
def test_float32_stays_float32(name):
    p, updates, state = _run(CASES[name](), dtype=np.float32)
    reference, _, _ = _run(CASES[name]())
    for k in ("w", "b"):
        assert p[k].dtype == np.float32 and updates[k].dtype == np.float32
        np.testing.assert_allclose(p[k], reference[k], rtol=1e-4, atol=1e-5)
    for leaf in ft.tree.leaves(state):
        dtype = getattr(leaf, "dtype", None)
        if dtype is not None and dtype.kind == "f" and getattr(leaf, "ndim", 0) > 0:
            assert dtype == np.float32, (name, leaf)


def test_injected_hyperparameters_give_the_same_numbers_under_jit():
    for factory, kwargs in [(optim.amsgrad, {"learning_rate": 0.1}),
                            (optim.yogi, {"learning_rate": 0.1, "b1": 0.8}),
                            (optim.nadamw, {"learning_rate": 0.1}),
                            (optim.adamaxw, {"learning_rate": 0.1})]:
        opt = optim.inject_hyperparams(factory)(**kwargs)
        eager, _, _ = _run(opt)
        staged, _, _ = _run(opt, jit=True)
        direct, _, _ = _run(factory(**kwargs))
        for k in ("w", "b"):
            np.testing.assert_allclose(eager[k], direct[k], rtol=1e-14)
            np.testing.assert_allclose(staged[k], direct[k], rtol=1e-14)


def test_adadelta_without_a_rate_descends_with_rate_one():
    # optax 0.2.8's adadelta() skips the rate and so ascends; the paper's rate is 1.
    p, g = np.ones(2), np.array([1.0, -1.0])
    default = optim.adadelta()
    one = optim.adadelta(1.0)
    u_default = default.update(g, default.init(p), p)[0]
    np.testing.assert_array_equal(u_default, one.update(g, one.init(p), p)[0])
    assert np.all(u_default * g < 0)
    np.testing.assert_allclose(u_default, -np.sqrt(1e-6 / (0.1 + 1e-6)) * g, rtol=1e-14)


def test_nadamw_keeps_the_first_moment_in_mu_dtype():
    opt = optim.nadamw(0.1, mu_dtype=np.float32)
    state = opt.init(P0)
    assert state.mu["w"].dtype == np.float32
    updates, state = opt.update(_grads(P0, 0), state, P0)
    assert state.mu["w"].dtype == np.float32 and updates["w"].dtype == np.float64
    amsgrad = optim.amsgrad(0.1, mu_dtype=np.float32)
    _, state = amsgrad.update(_grads(P0, 0), amsgrad.init(P0), P0)
    assert state[0].mu["w"].dtype == np.float32 and state[0].nu["w"].dtype == np.float64


def test_noisy_sgd_is_sgd_plus_seeded_noise_of_the_annealed_variance():
    g = np.zeros(20000)
    opt = optim.noisy_sgd(1.0, eta=0.04, gamma=0.5, key=3)
    u1, state = opt.update(g, opt.init(g))
    u2, _ = opt.update(g, state)
    assert abs(np.std(u1) - 0.2) < 0.01 and abs(np.std(u2) - 0.2 / 2**0.25) < 0.01
    again = optim.noisy_sgd(1.0, eta=0.04, gamma=0.5, seed=3)
    np.testing.assert_array_equal(again.update(g, again.init(g))[0], u1)
    plain = optim.noisy_sgd(0.1, eta=0.0)
    np.testing.assert_array_equal(plain.update(np.array([2.0]), plain.init(np.zeros(1)))[0],
                                  [-0.2])
    with pytest.raises(ValueError, match="give the seed once"):
        optim.noisy_sgd(0.1, key=1, seed=1)
    # a key, as optax takes one, gives the noise of the seed it was made from
    keyed = optim.noisy_sgd(1.0, eta=0.04, gamma=0.5, key=ft.random.key(3))
    np.testing.assert_array_equal(keyed.update(g, keyed.init(g))[0], u1)
    np.testing.assert_array_equal(ft.jit(keyed.update)(g, keyed.init(g))[0], u1)


def test_rate_and_count_are_found_in_the_chained_states():
    for opt in (optim.amsgrad(0.1), optim.yogi(0.1), optim.novograd(0.1), optim.fromage(0.1),
                optim.sign_sgd(0.1), optim.optimistic_gradient_descent(0.1)):
        state = opt.init(P0)
        _, state = opt.update(_grads(P0, 0), state, P0)
        assert optim.get_learning_rate(state) == 0.1 and int(optim.get_count(state)) == 1


def test_errors_name_the_problem_and_the_fix():
    with pytest.raises(ValueError, match=r"at \['s'\] is a scalar.*Fix: give it shape \(1,\)"):
        optim.sm3(0.1).init({"s": np.array(1.0)})
    with pytest.raises(TypeError, match="learning_rate must be a number"):
        optim.sm3(lambda c: 0.1)
    with pytest.raises(ValueError, match="min_step_size 2.0 is larger than max_step_size 1.0"):
        optim.rprop(0.1, min_step_size=2.0, max_step_size=1.0)
    with pytest.raises(ValueError, match=r"eta_minus in \(0, 1\).*eta_minus=2, eta_plus=0.5"):
        optim.rprop(0.1, eta_minus=2, eta_plus=0.5)  # (swapped: it was accepted)
    with pytest.raises(ValueError, match="k must be a positive int"):
        optim.apply_every(0)
    with pytest.raises(ValueError, match="b1 must be in"):
        optim.amsgrad(0.1, b1=1.0)
    with pytest.raises(ValueError, match="learning_rate must be >= 0"):
        optim.yogi(-0.1)
    with pytest.raises(ValueError, match="novograd: weight_decay needs the current parameters"):
        opt = optim.novograd(0.1, weight_decay=0.1)
        opt.update(np.ones(2), opt.init(np.ones(2)))
    with pytest.raises(ValueError, match="fromage: the trust ratio needs the current parameters"):
        opt = optim.fromage(0.1)
        opt.update(np.ones(2), opt.init(np.ones(2)))
    with pytest.raises(ft.errors.TreeStructureError, match="shape"):
        opt = optim.yogi(0.1)
        opt.update(np.ones(3), opt.init(np.ones(2)))


@pytest.mark.parametrize("kwargs,expected", [
    # optax.polyak_sgd(**kwargs), 3 steps on sum(p**2) from [1, 2, 3] (optax 0.2.8, float64)
    ({}, [0.125, 0.25, 0.375]),
    ({"scaling": 0.5, "max_learning_rate": 0.3, "f_min": 1.0, "eps": 0.1},
     [0.34299999999999997, 0.6859999999999999, 1.0290000000000001]),
    ({"variant": "sps+", "f_min": 20.0}, [1.0, 2.0, 3.0]),
])
def test_polyak_sgd_matches_optax_eagerly_and_under_jit(kwargs, expected):
    def loss(x):
        return ft.numpy.sum(x ** 2)

    for dtype in (np.float64, np.float32):
        opt = optim.polyak_sgd(**kwargs)
        p = np.array([1.0, 2.0, 3.0], dtype)
        state = opt.init(p)
        staged = ft.jit(opt.update)
        for _ in range(3):
            value, g = ft.value_and_grad(loss)(p)
            updates, new_state = opt.update(g, state, p, value=value)
            np.testing.assert_allclose(staged(g, state, p, value=value)[0], updates, rtol=1e-14)
            p, state = optim.apply_updates(p, updates), new_state
        assert p.dtype == dtype
        np.testing.assert_allclose(p, expected, rtol=1e-14 if dtype == np.float64 else 1e-6)


def test_polyak_sgd_asks_for_the_loss():
    opt = optim.polyak_sgd()
    with pytest.raises(TypeError, match=r"needs the loss at the current params, value="):
        opt.update(np.ones(2), opt.init(np.ones(2)), np.ones(2))
    with pytest.raises(ValueError, match="variant must be 'sps' or 'sps\\+'"):
        optim.polyak_sgd(variant="sgd")
