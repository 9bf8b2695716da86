"""The schedules added for optax's names (polynomial, piecewise_constant, join, cosine_onecycle)
against their formulas, with Python counts and traced ones (a jit-staged step)."""
import math

import numpy as np
import pytest

import functrans as ft
from functrans import optim
from functrans.optim import schedules


def test_polynomial_against_formula():
    s = optim.polynomial_schedule(2.0, 0.5, power=3, transition_steps=10, transition_begin=4)
    for t in range(20):
        c = min(max(t - 4, 0), 10)
        assert s(t) == pytest.approx((2.0 - 0.5) * (1 - c / 10) ** 3 + 0.5, abs=1e-15)


def test_piecewise_constant_against_formula():
    s = optim.piecewise_constant_schedule(0.1, {10: 0.5, 3: 2.0})
    want = [0.1 * (2.0 if t >= 3 else 1.0) * (0.5 if t >= 10 else 1.0) for t in range(15)]
    assert [s(t) for t in range(15)] == pytest.approx(want, abs=1e-15)
    assert s.boundaries_and_scales == ((3, 2.0), (10, 0.5))  # sorted, hashable
    hash(s)


def test_join_counts_each_schedule_from_its_boundary():
    first = schedules.constant(1.0)
    second = schedules.linear(0.0, 1.0, 4)
    third = schedules.exponential_decay(3.0, 1, 0.5)
    s = optim.join_schedules([first, second, third], [2, 6])
    for t in range(12):
        want = first(t) if t < 2 else second(t - 2) if t < 6 else third(t - 6)
        assert s(t) == pytest.approx(want, abs=1e-15)


def test_cosine_onecycle_against_pytorchs_formula():
    total, peak, pct, div, final = 20, 0.4, 0.25, 10.0, 100.0
    s = optim.cosine_onecycle_schedule(total, peak, pct, div, final)
    start, end, up = peak / div, peak / div / final, pct * total

    def anneal(a, b, f):
        return b + (a - b) / 2 * (math.cos(math.pi * f) + 1)

    for t in range(total + 5):
        want = anneal(start, peak, t / up) if t < up else anneal(peak, end, min((t - up) / (total - up), 1))
        assert s(t) == pytest.approx(want, abs=1e-15)
    assert s(0) == pytest.approx(start) and s(5) == pytest.approx(peak) and s(20) == pytest.approx(end)


SCHEDULES = [
    optim.polynomial_schedule(1.0, 0.1, 2.0, 7, 2),
    optim.piecewise_constant_schedule(1.0, {2: 0.5, 5: 0.1}),
    optim.join_schedules([schedules.linear(0.0, 1.0, 3), schedules.cosine_decay(1.0, 5)], [3]),
    optim.cosine_onecycle_schedule(8, 1.0),
]


@pytest.mark.parametrize("sched", SCHEDULES, ids=lambda s: type(s).__name__)
def test_traced_counts_give_the_python_values(sched):
    staged = ft.jit(sched)
    for t in range(12):
        np.testing.assert_allclose(staged(np.int64(t)), sched(t), rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("sched", SCHEDULES, ids=lambda s: type(s).__name__)
def test_schedules_drive_a_jitted_optimizer(sched):
    opt = optim.adam(sched)

    @ft.jit
    def step(params, state):
        updates, state = opt.update(params, state, params)
        return optim.apply_updates(params, updates), state

    params, state = np.ones(3), opt.init(np.ones(3))
    eager_p, eager_s = params, state
    for _ in range(6):
        params, state = step(params, state)
        u, eager_s = opt.update(eager_p, eager_s, eager_p)
        eager_p = optim.apply_updates(eager_p, u)
    np.testing.assert_allclose(params, eager_p, rtol=1e-13)
    assert float(optim.get_learning_rate(state)) == pytest.approx(sched(6))


def test_validation_names_the_argument():
    with pytest.raises(ValueError, match="need 1 boundaries, got 2"):
        optim.join_schedules([schedules.constant(1.0)] * 2, [1, 2])
    with pytest.raises(ValueError, match="boundaries must increase"):
        optim.join_schedules([schedules.constant(1.0)] * 3, [4, 2])
    with pytest.raises(ValueError, match="pct_start must be in"):
        optim.cosine_onecycle_schedule(10, 1.0, pct_start=1.0)
    with pytest.raises(ValueError, match="transition_steps"):
        optim.polynomial_schedule(1.0, 0.0, 1.0, 0)
    with pytest.raises(ValueError, match="every boundary"):
        optim.piecewise_constant_schedule(1.0, {-1: 0.5})


def test_schedules_take_optax_arguments_in_optax_order():
    # optax.exponential_decay(init_value, transition_steps, decay_rate, transition_begin,
    # staircase, end_value): a ported call runs with the same meaning.
    s = optim.exponential_decay(1.0, 5, 0.5, transition_begin=3)
    want = [1.0 if t <= 3 else 0.5 ** ((t - 3) / 5) for t in range(20)]
    assert [s(t) for t in range(20)] == pytest.approx(want, abs=1e-15)
    stairs = optim.exponential_decay(1.0, 5, 0.5, staircase=True)
    assert [stairs(t) for t in (0, 4, 5, 9, 10)] == [1.0, 1.0, 0.5, 0.5, 0.25]
    assert optim.exponential_decay(1.0, 5, 2.0, end_value=3.0)(100) == 3.0
    with pytest.raises(ValueError, match=r"exponential_decay\(init_value, transition_steps, "
                                         r"decay_rate\)"):
        optim.exponential_decay(1e-3, 0.96, 1000)  # the rate and steps swapped
    ramp = optim.linear_schedule(1.0, 0.1, 10, transition_begin=5)
    want = [1.0 + (0.1 - 1.0) * min(max(t - 5, 0), 10) / 10 for t in range(20)]
    assert [ramp(t) for t in range(20)] == pytest.approx(want, abs=1e-15)
    cos = optim.cosine_decay_schedule(1.0, 10, alpha=0.1, exponent=2.0)
    want = [0.9 * (0.5 * (1 + math.cos(math.pi * min(t, 10) / 10))) ** 2 + 0.1
            for t in range(15)]
    assert [cos(t) for t in range(15)] == pytest.approx(want, abs=1e-15)
    warm = optim.warmup_cosine_decay_schedule(0.1, 1.0, 5, 20, end_value=0.01, exponent=2.0)
    want = [0.1 + 0.9 * t / 5 if t < 5 else
            0.01 + 0.99 * (0.5 * (1 + math.cos(math.pi * min(t - 5, 15) / 15))) ** 2
            for t in range(25)]
    assert [warm(t) for t in range(25)] == pytest.approx(want, abs=1e-15)
    for sched in (s, ramp, cos, warm):  # a traced count gives the same values
        staged = ft.jit(sched)
        assert [float(staged(np.int64(t))) for t in range(25)] == pytest.approx(
            [sched(t) for t in range(25)], abs=1e-15)
