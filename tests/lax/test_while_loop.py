"""lax.while_loop against the same loop written in Python: values eagerly, under jit and under
vmap (batched predicates included), forward-mode derivatives to second order, the reverse-mode
error in every mode, one equation under jit whatever the trip count, and the type errors."""
from __future__ import annotations

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans import errors, lax
from functrans.testing import check_grads


def python_while(cond_fun, body_fun, val):
    while cond_fun(val):
        val = body_fun(val)
    return val


# Each case: a function of (x, loop) where loop is lax.while_loop or python_while, its inputs,
# and whether its trip count depends on the values (then vmap examples take different counts).
def power(x, loop):  # a fixed count, a closed-over traced value
    return loop(lambda c: c[0] < 4, lambda c: (c[0] + 1, c[1] * x), (0, fnp.ones_like(x)))[1]


def grow(x, loop):  # the count depends on x: multiply until the sum passes 10
    return loop(lambda s: fnp.sum(s) < 10.0, lambda s: s * 1.5 + fnp.sin(s), x)


def pytree(x, loop):  # a dict carry with an int counter, a vector and a matrix
    m = 0.5 * fnp.outer(fnp.cos(x), fnp.sin(x))
    out = loop(lambda c: c["n"] < 3,
               lambda c: {"n": c["n"] + 1, "v": fnp.tanh(c["m"] @ c["v"]) + x, "m": c["m"] * 0.9},
               {"n": 0, "v": x * 2.0, "m": m})
    return out["v"], out["m"]


def newton_sqrt(a, loop):  # Newton's iteration to convergence (value-dependent count)
    def body(c):
        y, i = c
        return 0.5 * (y + a / y), i + 1

    y, _ = loop(lambda c: (fnp.max(fnp.abs(c[0] * c[0] - a)) > 1e-12) & (c[1] < 50), body,
                (fnp.ones_like(a), 0))
    return y


CASES = [
    pytest.param(power, np.array([0.7, -1.2]), id="power"),
    pytest.param(grow, np.array([0.3, 0.8]), id="grow"),
    pytest.param(pytree, np.array([0.1, -0.4, 0.3]), id="pytree"),
    pytest.param(newton_sqrt, np.array([2.0, 9.0]), id="newton_sqrt"),
]


def _close(a, b, backend, rtol=1e-12):
    for x, y in zip(ft.tree.leaves(backend.get(a)), ft.tree.leaves(backend.get(b))):
        np.testing.assert_allclose(x, y, rtol=rtol, atol=1e-13)


@pytest.mark.parametrize("fn, x", CASES)
def test_values_eager_jit_and_vmap_match_the_python_loop(fn, x, backend):
    xb = backend.put(x)
    expected = fn(xb, python_while)
    got = fn(xb, lax.while_loop)
    backend.check_placed(got)
    _close(got, expected, backend)
    _close(ft.jit(lambda x: fn(x, lax.while_loop))(xb), expected, backend)
    batch = backend.put(np.stack([x, x * 0.5 + 0.2, x + 1.0]))
    per_example = [fn(backend.put(row), python_while) for row in np.stack([x, x * 0.5 + 0.2, x + 1.0])]
    batched = ft.vmap(lambda x: fn(x, lax.while_loop))(batch)
    for i, expected_i in enumerate(per_example):
        _close(ft.tree.map(lambda b: b[i], batched), expected_i, backend)


@pytest.mark.parametrize("fn, x", CASES)
def test_forward_mode_to_second_order(fn, x, backend):
    check_grads(lambda x: fn(x, lax.while_loop), (backend.put(x),), order=2, modes=("fwd",))
    expected = ft.jvp(lambda x: fn(x, python_while), (x,), (np.ones_like(x),))
    got = ft.jit(lambda x: ft.jvp(lambda x: fn(x, lax.while_loop), (x,), (fnp.ones_like(x),)))(x)
    _close(got, expected, backend, rtol=1e-10)


def test_jacfwd_and_vmap_of_jvp_with_batched_predicates():
    x = np.array([0.3, 2.0, 11.0])
    f = lambda s: lax.while_loop(lambda s: s < 10.0, lambda s: s * 1.7, s)
    counts = [7, 4, 0]  # steps each example takes
    np.testing.assert_allclose(ft.jacfwd(ft.vmap(f))(x), np.diag(1.7 ** np.array(counts)))
    out, tangent = ft.vmap(lambda s: ft.jvp(f, (s,), (1.0,)))(x)
    np.testing.assert_allclose(out, x * 1.7 ** np.array(counts))
    np.testing.assert_allclose(tangent, 1.7 ** np.array(counts))


def test_vmap_of_batched_closures_with_an_unbatched_predicate():
    def f(scale):
        return lax.while_loop(lambda c: c[0] < 3, lambda c: (c[0] + 1, c[1] * scale), (0, 1.0))[1]

    np.testing.assert_allclose(ft.vmap(f)(np.array([1.0, 2.0, 3.0])), [1.0, 8.0, 27.0])


def test_a_batched_threshold_in_the_condition_batches_the_predicate():
    def f(limit):  # the carry starts unbatched; the predicate depends on the batch
        return lax.while_loop(lambda c: c[1] < limit, lambda c: (c[0] + 1, c[1] * 2.0), (0, 1.0))

    steps, values = ft.vmap(f)(np.array([0.5, 3.0, 100.0]))
    np.testing.assert_array_equal(steps, [0, 2, 7])
    np.testing.assert_allclose(values, [1.0, 4.0, 128.0])
    np.testing.assert_array_equal(ft.jit(ft.vmap(f))(np.array([3.0, 5.0]))[0], [2, 3])


def test_a_carry_without_a_tangent_gets_one_from_the_body():
    def f(x):  # b starts constant; after one step it depends on a, which depends on x
        return lax.while_loop(lambda c: c[0] < 3, lambda c: (c[0] + 1, c[1] * 2.0, c[2] + c[1]),
                              (0, x, 1.0))[2]

    # b = 1 + x + 2x + 4x = 1 + 7x
    out, tangent = ft.jvp(f, (0.5,), (1.0,))
    assert (float(out), float(tangent)) == (4.5, 7.0)
    assert float(ft.jit(lambda x: ft.jvp(f, (x,), (1.0,))[1])(0.5)) == 7.0
    np.testing.assert_allclose(ft.jacfwd(f)(0.5), 7.0)


@pytest.mark.parametrize("mode", ["eager", "jit", "vmap", "jit_of_grad"])
def test_reverse_mode_raises_in_every_mode(mode):
    def loss(x):
        return fnp.sum(grow(x, lax.while_loop))

    x = np.array([0.3, 0.8])
    with pytest.raises(errors.UnsupportedError, match="fori_loop.*scan"):
        if mode == "eager":
            ft.grad(loss)(x)
        elif mode == "jit":
            ft.grad(ft.jit(loss))(x)
        elif mode == "vmap":
            ft.vmap(ft.grad(loss))(np.stack([x, x]))
        else:
            ft.jit(ft.grad(loss))(x)


def test_linear_transpose_of_a_staged_loop_raises_the_same_error():
    staged = ft.jit(lambda x: lax.while_loop(lambda c: c[0] < 3, lambda c: (c[0] + 1, c[1] * 2.0), (0, x))[1])
    with pytest.raises(errors.UnsupportedError, match="fori_loop"):
        ft.linear_transpose(staged, np.zeros(2))(np.ones(2))


def test_no_error_when_reverse_mode_does_not_reach_the_loop():
    def loss(x):  # the loop does not depend on x: its derivative is not needed
        return fnp.sum(x) * grow(np.array([1.0, 2.0]), lax.while_loop)[0]

    np.testing.assert_allclose(ft.grad(loss)(np.ones(2)), [grow(np.array([1.0, 2.0]), python_while)[0]] * 2)


def test_the_program_does_not_grow_with_the_trip_count():
    def f(x, n):
        return lax.while_loop(lambda c: c[0] < n, lambda c: (c[0] + 1, fnp.tanh(c[1]) * 1.01), (0, x))[1]

    sizes = [len(ft.make_jaxpr(lambda x: f(x, n))(np.ones(2)).eqns) for n in (10, 1000)]
    assert sizes == [1, 1]
    fast = ft.jit(lambda x: f(x, 1000))
    np.testing.assert_allclose(fast(np.ones(2)), f(np.ones(2), 1000))


def test_traced_trip_count_under_jit():
    f = ft.jit(lambda x, n: lax.while_loop(lambda c: c[0] < n, lambda c: (c[0] + 1, c[1] * 2.0), (0, x)))
    assert f(np.float64(1.0), np.int64(5))[1] == 32.0
    assert f(np.float64(1.0), np.int64(3))[1] == 8.0


def test_nested_loops_and_a_loop_inside_jvp_inside_jit():
    def inner(x):
        return lax.while_loop(lambda s: s < 2.0, lambda s: s * 1.1 + 0.01, x)

    def outer(x):
        return lax.while_loop(lambda c: c[0] < 3, lambda c: (c[0] + 1, inner(c[1]) * 0.5), (0, x))[1]

    def reference(x):
        for _ in range(3):
            x = python_while(lambda s: s < 2.0, lambda s: s * 1.1 + 0.01, x) * 0.5
        return x

    np.testing.assert_allclose(ft.jit(outer)(0.3), reference(0.3), rtol=1e-12)
    np.testing.assert_allclose(ft.jit(lambda x: ft.jvp(outer, (x,), (1.0,)))(0.3),
                               ft.jvp(reference, (0.3,), (1.0,)), rtol=1e-10)


def test_eager_overhead_path_runs_the_python_functions():
    calls = []

    def body(c):
        calls.append(c)
        return c + 1

    assert lax.while_loop(lambda c: c < 3, body, 0) == 3
    assert calls == [0, 1, 2]  # each step once, the plain Python values


@pytest.mark.parametrize("staged", [False, True])
def test_a_carry_that_changes_type_names_the_leaf_and_both_types(staged):
    run = ft.jit if staged else (lambda f: f)
    with pytest.raises(TypeError, match=r"init_val\[1\]\['w'\].*float32\[2\].*float64\[2\]"):
        run(lambda x: lax.while_loop(lambda c: c[0] < 2,
                                     lambda c: (c[0] + 1, {"w": c[1]["w"].astype(np.float32)}),
                                     (0, {"w": x})))(np.ones(2))
    with pytest.raises(TypeError, match=r"init_val\[1\].*float64\[3\].*float64\[2\]"):
        run(lambda x: lax.while_loop(lambda c: c[0] < 2, lambda c: (c[0] + 1, fnp.ones(3)),
                                     (0, x)))(np.ones(2))
    with pytest.raises(errors.TreeStructureError, match="body_fun's output"):
        run(lambda x: lax.while_loop(lambda c: c[0] < 2, lambda c: (c[0] + 1, c[1], c[1]),
                                     (0, x)))(np.ones(2))


@pytest.mark.parametrize("staged", [False, True])
def test_a_predicate_that_is_not_a_boolean_scalar(staged):
    run = ft.jit if staged else (lambda f: f)
    with pytest.raises(TypeError, match=r"boolean scalar.*bool\[2\].*fnp.all"):
        run(lambda x: lax.while_loop(lambda s: s < 1.0, lambda s: s + 1.0, x))(np.zeros(2))


def test_python_numbers_in_the_carry_take_the_dtype_the_body_gives_them_as_jax():
    def f(x):  # 0.0 + float32 is float32 (weakly typed, as in JAX); the counter stays int
        return lax.while_loop(lambda c: c[0] < 3, lambda c: (c[0] + 1, c[1] + x), (0, 0.0))

    for out in (f(np.float32(1.0)), ft.jit(f)(np.float32(1.0)), ft.vmap(f)(np.ones(2, np.float32))):
        assert out[0].dtype == np.int64 and out[1].dtype == np.float32
        np.testing.assert_array_equal(out[1], 3.0)
    # an int that the body makes a float (JAX: float64); a float the body keeps: float64
    for g in (lambda: lax.while_loop(lambda c: c < 3, lambda c: c + 1.0, 0),
              ft.jit(lambda: lax.while_loop(lambda c: c < 3, lambda c: c + 1.0, 0))):
        assert g().dtype == np.float64 and g() == 3.0
    assert lax.while_loop(lambda c: c < 3, lambda c: c * 2.0 + 1.0, 0.0).dtype == np.float64
    # a float the body makes an int is no promotion: still the error naming the carry
    with pytest.raises(TypeError, match="init_val"):
        lax.while_loop(lambda c: c < 3, lambda c: fnp.asarray(c + 1).astype(np.int32), 0.0)


def test_debug_nans_reaches_the_staged_body():
    f = ft.jit(lambda x: lax.while_loop(lambda c: c[0] < 3, lambda c: (c[0] + 1, fnp.log(c[1] - 2.0)), (0, x)))
    assert np.isnan(f(np.float64(1.0))[1])
    ft.config.update("debug_nans", True)
    try:
        with pytest.raises(FloatingPointError, match="'log' made a NaN"):
            f(np.float64(1.0))
    finally:
        ft.config.update("debug_nans", False)

