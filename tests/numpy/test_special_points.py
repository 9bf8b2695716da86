"""Derivatives at special points, with exact expected values: kinks, ties, zeros, tails,
branches of ``where`` with infinite derivatives, broadcasting, repeated indices, and the
dtypes of derivatives when float32 meets Python scalars or float64.

Where a branch that is not chosen has an infinite derivative (sqrt at 0), NumPy warns about
the division by zero while the derivative is computed; those tests silence exactly that
warning with ``np.errstate``, because the infinity there is legitimate and expected.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans.testing import check_grads


def inf_in_unused_branch():
    return np.errstate(divide="ignore", invalid="ignore")


def jvp1(f, x, t=1.0):
    """The forward-mode derivative of f at x along t."""
    x = np.asarray(x, dtype=float)
    return ft.jvp(f, (x,), (np.full_like(x, t),))[1]


# -- where with an infinite derivative in the branch that is not taken ------------------------
# The derivative of where(c, a, b) is where(c, da, db) whatever c holds, so that one program
# gives the same numbers eagerly, under jit and under vmap, on every backend. Forward mode
# picks the chosen branch's tangent: exact. In reverse mode the branch not chosen gets a zero
# cotangent, and where its derivative is infinite, 0 * inf = nan reaches the gradient, as in
# JAX (docs/sharp-bits.md); a second where keeps the unused branch finite.


def where_sqrt(x):
    return fnp.where(x < 1, x, fnp.sqrt(x))


def test_where_at_zero_scalar_forward_and_reverse():
    with inf_in_unused_branch():
        assert float(jvp1(where_sqrt, 0.0)) == 1.0
        # the condition holds everywhere, yet the unused branch's slope (inf) is in the
        # gradient as in every other mode: the same nan eagerly, under jit and under vmap
        assert math.isnan(ft.grad(where_sqrt)(0.0))
        assert math.isnan(ft.jit(ft.grad(where_sqrt))(0.0))
        assert np.isnan(ft.vmap(ft.grad(where_sqrt))(np.zeros(2))).all()


def test_where_mixed_mask_forward_mode_is_finite():
    with inf_in_unused_branch():
        np.testing.assert_array_equal(jvp1(where_sqrt, [0.0, 4.0]), [1.0, 0.25])


def test_where_mixed_mask_reverse_mode_gives_the_documented_nan():
    # Documented in fnp.where and docs/sharp-bits.md: the unused branch's infinite derivative
    # meets a zero cotangent, and 0 * inf = nan. If functrans learns to avoid it (in every
    # mode at once), change those pages together with this test.
    with inf_in_unused_branch():
        g = ft.grad(lambda x: fnp.sum(where_sqrt(x)))(np.array([0.0, 4.0]))
    assert np.isnan(g[0])
    assert g[1] == 0.25


# A singular point guarded by where, its remedy with a second where, the singular point, a
# regular point, and the gradient there.
_GUARDED = {
    "sqrt at 0": (lambda x: fnp.where(x > 0, fnp.sqrt(x), 0.0),
                  lambda x: fnp.where(x > 0, fnp.sqrt(fnp.where(x > 0, x, 1.0)), 0.0), 0.0, 4.0, 0.25),
    "log at 0": (lambda x: fnp.where(x > 0, fnp.log(x), 0.0),
                 lambda x: fnp.where(x > 0, fnp.log(fnp.where(x > 0, x, 1.0)), 0.0), 0.0, 2.0, 0.5),
    "1/x at 0": (lambda x: fnp.where(x != 0, 1 / x, 0.0),
                 lambda x: fnp.where(x != 0, 1 / fnp.where(x != 0, x, 1.0), 0.0), 0.0, 2.0, -0.25),
    "arcsin at 1": (lambda x: fnp.where(x < 1, fnp.arcsin(x), np.pi / 2),
                    lambda x: fnp.where(x < 1, fnp.arcsin(fnp.where(x < 1, x, 0.0)), np.pi / 2),
                    1.0, 0.0, 1.0),
}


@pytest.mark.parametrize("name", list(_GUARDED))
def test_where_guarded_singular_point_is_the_same_eagerly_under_jit_and_vmap(name, backend):
    f, remedy, singular, regular, slope = _GUARDED[name]
    for xs in ([singular] * 3, [singular, regular, singular]):  # one branch everywhere, or both
        x = backend.put(np.array(xs))
        at_singular = np.array(xs) == singular
        for fn, there in ((f, np.nan), (remedy, 0.0)):
            expected = np.where(at_singular, there, slope)
            grad = ft.grad(lambda x: fnp.sum(fn(x)))
            with inf_in_unused_branch():
                results = {"eager": grad(x), "jit": ft.jit(grad)(x), "vmap": ft.vmap(ft.grad(fn))(x)}
            for mode, got in results.items():
                backend.check_placed(got, f"{name}, {mode}")
                np.testing.assert_array_equal(backend.get(got), expected, err_msg=f"{name}, {mode}")


def where_sqrt_safe(x):
    """The remedy: a second where keeps the unused branch away from the infinity."""
    safe = fnp.where(x < 1, 1.0, x)
    return fnp.where(x < 1, x, fnp.sqrt(safe))


def test_two_where_remedy_is_finite_in_both_modes():
    x = np.array([0.0, 4.0, 0.5, 9.0])
    expected = [1.0, 0.25, 1.0, 1 / 6]
    g = ft.grad(lambda x: fnp.sum(where_sqrt_safe(x)))(x)
    np.testing.assert_allclose(g, expected, rtol=1e-15)
    np.testing.assert_allclose(jvp1(where_sqrt_safe, x), expected, rtol=1e-15)
    with np.errstate(all="raise"):  # no infinity is computed anywhere
        ft.grad(lambda x: fnp.sum(where_sqrt_safe(x)))(x)


# -- kinks -------------------------------------------------------------------------------------


def test_abs_at_zero_is_zero():
    assert float(ft.grad(fnp.abs)(0.0)) == 0.0
    assert float(jvp1(fnp.abs, 0.0)) == 0.0
    assert float(ft.grad(ft.grad(fnp.abs))(0.0)) == 0.0
    np.testing.assert_array_equal(ft.grad(lambda x: fnp.sum(fnp.abs(x)))(np.array([-2.0, 0.0, 3.0])),
                                  [-1.0, 0.0, 1.0])


def relu(x):
    return fnp.where(x > 0, x, 0)


def test_relu_derivative_at_zero_is_zero():
    assert float(ft.grad(relu)(0.0)) == 0.0
    assert float(jvp1(relu, 0.0)) == 0.0
    x = np.array([-1.0, 0.0, 2.0])
    np.testing.assert_array_equal(ft.grad(lambda x: fnp.sum(relu(x)))(x), [0.0, 0.0, 1.0])
    np.testing.assert_array_equal(jvp1(relu, x), [0.0, 0.0, 1.0])


# -- ties share the derivative evenly -------------------------------------------------------------


@pytest.mark.parametrize("fn", [fnp.maximum, fnp.minimum], ids=["maximum", "minimum"])
def test_elementwise_extremum_at_a_tie_splits_half_half(fn):
    gx, gy = ft.grad(fn, argnums=(0, 1))(1.0, 1.0)
    assert (float(gx), float(gy)) == (0.5, 0.5)
    # forward mode agrees: the tangent is the mean of the two tangents
    _, t = ft.jvp(fn, (np.array(1.0), np.array(1.0)), (np.array(2.0), np.array(4.0)))
    assert float(t) == 3.0


def test_elementwise_maximum_away_from_ties_picks_one_side():
    gx, gy = ft.grad(lambda x, y: fnp.sum(fnp.maximum(x, y)), argnums=(0, 1))(
        np.array([1.0, 2.0, 3.0]), np.array([2.0, 2.0, 1.0]))
    np.testing.assert_array_equal(gx, [0.0, 0.5, 1.0])
    np.testing.assert_array_equal(gy, [1.0, 0.5, 0.0])


def test_reduction_max_with_ties():
    np.testing.assert_array_equal(ft.grad(fnp.max)(np.array([1.0, 1.0, 0.0])), [0.5, 0.5, 0.0])
    np.testing.assert_array_equal(ft.grad(fnp.min)(np.array([0.0, 2.0, 0.0])), [0.5, 0.0, 0.5])
    x = np.array([[1.0, 1.0, 0.0], [2.0, 0.0, 2.0], [3.0, 1.0, 1.0]])
    g = ft.grad(lambda x: fnp.sum(fnp.max(x, axis=1)))(x)
    np.testing.assert_array_equal(g, [[0.5, 0.5, 0.0], [0.5, 0.0, 0.5], [1.0, 0.0, 0.0]])
    # three-way tie
    np.testing.assert_allclose(ft.grad(fnp.max)(np.array([2.0, 2.0, 2.0])), [1 / 3] * 3, rtol=1e-15)


# -- products with zeros ---------------------------------------------------------------------------


def test_prod_gradient_with_a_zero_is_exact():
    np.testing.assert_array_equal(ft.grad(fnp.prod)(np.array([2.0, 0.0, 3.0])), [0.0, 6.0, 0.0])
    np.testing.assert_array_equal(ft.grad(fnp.prod)(np.array([0.0, 0.0, 3.0])), [0.0, 0.0, 0.0])
    g = ft.grad(lambda x: fnp.sum(fnp.prod(x, axis=0)))(np.array([[2.0, 0.0], [0.0, 5.0], [3.0, 4.0]]))
    np.testing.assert_array_equal(g, [[0.0, 20.0], [6.0, 0.0], [0.0, 0.0]])
    # second order at a zero: d2/dx0 dx1 of x0*x1*x2 is x2
    hess_row = ft.grad(lambda x: ft.grad(fnp.prod)(x)[0])(np.array([0.0, 0.0, 3.0]))
    np.testing.assert_array_equal(hess_row, [0.0, 3.0, 0.0])


# -- tails ---------------------------------------------------------------------------------------------


def test_logistic_derivative_far_in_the_tails_in_float64():
    expected = math.exp(-40) / (1 + math.exp(-40)) ** 2  # about 4.25e-18, not 0
    for x in (40.0, -40.0):
        assert float(ft.grad(fnp.logistic)(x)) == pytest.approx(expected, rel=1e-6)
        assert float(jvp1(fnp.logistic, x)) == pytest.approx(expected, rel=1e-6)


def test_logistic_derivative_in_the_tail_in_float32():
    x = np.float32(20.0)
    g = ft.grad(fnp.logistic)(x)
    assert g.dtype == np.float32
    assert float(g) == pytest.approx(math.exp(-20), rel=1e-4)


def sinc_derivative_reference(x, n: int) -> float:
    """The n-th derivative of sinc at the float ``x``, exact to double precision: its Taylor
    series, sum over k of (-1)^k pi^2k x^(2k-n) / ((2k + 1) (2k - n)!), in 60-digit decimals."""
    from decimal import Decimal, localcontext

    with localcontext() as context:
        context.prec = 60
        pi = Decimal("3.14159265358979323846264338327950288419716939937510582097494")
        x, total, k = Decimal(float(x)), Decimal(0), (n + 1) // 2
        while True:
            term = (-1) ** k * pi ** (2 * k) * x ** (2 * k - n) / (
                (2 * k + 1) * math.factorial(2 * k - n))
            total += term
            if k > 2 * n + 4 * abs(x) * 4 and abs(term) < Decimal(10) ** -40 * abs(total):
                return float(total)
            k += 1


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_sinc_derivatives_keep_full_relative_accuracy_near_zero(dtype):
    # The closed forms cancel near 0 (float32's third derivative at 0.01 would have the wrong
    # sign); a series there keeps every order within a few units in the last place.
    eps = float(np.finfo(dtype).eps)
    derivatives = [fnp.sinc]
    for _ in range(4):
        derivatives.append(ft.grad(derivatives[-1]))
    third_jit = ft.jit(derivatives[3])
    for x in (1e-6, 1e-3, 0.01, 0.047, 0.2, 0.45, 0.55, 0.9, 2.7, -0.01, -0.3):
        x = dtype(x)
        for n in (1, 2, 3, 4):
            got, want = derivatives[n](x), sinc_derivative_reference(x, n)
            assert got.dtype == dtype
            # the fourth derivative differentiates the third's closed form: a little less exact
            assert abs(float(got) - want) <= (8 if n < 4 else 32) * eps * abs(want), (n, float(x))
        assert float(third_jit(x)) == float(derivatives[3](x))
    assert float(derivatives[3](dtype(0))) == 0.0
    assert float(derivatives[4](dtype(0))) == pytest.approx(math.pi**4 / 5, rel=4 * eps)


def test_power_derivatives_at_zero_base():
    # d/dy 0**y = 0 for y > 0 (the limit), not nan from log(0)
    assert float(ft.grad(lambda y: fnp.power(0.0, y))(2.0)) == 0.0
    assert float(ft.grad(lambda y: fnp.power(np.array(0.0), y))(2.0)) == 0.0
    # integer powers are polynomials: exact at 0 and at negative bases, to second order
    assert float(ft.grad(lambda x: x ** 3)(0.0)) == 0.0
    assert float(ft.grad(ft.grad(lambda x: x ** 3))(-2.0)) == -12.0


@pytest.mark.parametrize("power", [lambda x: x ** 0.0, lambda x: fnp.power(x, 0.0),
                                   lambda x: fnp.power(x, np.zeros(()))],
                         ids=["x ** 0.0", "power(x, 0.0)", "power(x, array 0.0)"])
def test_zeroth_power_has_derivative_zero_at_zero(power):
    # x ** 0 is 1 for every x, 0 included: every derivative in x is 0 there, not 0 * 0 ** -1
    grad = ft.grad(power)
    assert float(grad(0.0)) == 0.0
    assert float(ft.grad(grad)(0.0)) == 0.0
    assert float(ft.grad(ft.grad(grad))(0.0)) == 0.0
    assert float(jvp1(power, 0.0)) == 0.0
    assert float(ft.jvp(grad, (0.0,), (1.0,))[1]) == 0.0
    assert float(ft.jit(ft.grad(grad))(0.0)) == 0.0
    np.testing.assert_array_equal(ft.vmap(grad)(np.array([0.0, 2.0, -1.5])), [0.0, 0.0, 0.0])
    g32 = grad(np.float32(0.0))
    assert g32.dtype == np.float32 and float(g32) == 0.0


def test_power_with_an_exponent_array_that_is_zero_somewhere():
    x, y = np.array([0.0, 0.0, 2.0, 0.0]), np.array([0.0, 1.0, 0.5, 3.0])

    def f(x, y):
        return fnp.sum(fnp.power(x, y))

    np.testing.assert_array_equal(ft.grad(f)(x, y), [0.0, 1.0, 0.5 * 2.0 ** -0.5, 0.0])
    np.testing.assert_array_equal(ft.jit(ft.grad(f))(x, y), [0.0, 1.0, 0.5 * 2.0 ** -0.5, 0.0])
    second = ft.grad(lambda x, y: fnp.sum(ft.grad(f)(x, y)))(x, y)
    np.testing.assert_array_equal(second, [0.0, 0.0, 0.5 * -0.5 * 2.0 ** -1.5, 0.0])
    # away from y = 0 nothing changes: the usual rule y x ** (y - 1), and log(x) x ** y in y
    assert float(ft.grad(lambda x: x ** 2.5)(4.0)) == 2.5 * 4.0 ** 1.5
    assert float(ft.grad(lambda x: x ** 1.0)(0.0)) == 1.0
    assert float(ft.grad(lambda y: fnp.power(2.0, y))(3.0)) == math.log(2.0) * 8.0


@pytest.mark.parametrize("name", ["std", "var", "nanstd", "nanvar"])
def test_spread_of_a_constant_has_gradient_zero(name):
    # Zero variance (a constant slice, or one element): gradient 0 and finite, as the norm's at 0
    fn = getattr(fnp, name)
    for x in (np.ones(3), np.full(1, 2.5), np.full((2, 3), -1.0)):
        np.testing.assert_array_equal(ft.grad(fn)(x), np.zeros_like(x))
        np.testing.assert_array_equal(ft.jit(ft.grad(fn))(x), np.zeros_like(x))
        assert float(jvp1(fn, x)) == 0.0
    np.testing.assert_array_equal(ft.vmap(ft.grad(fn))(np.ones((2, 3))), np.zeros((2, 3)))
    assert np.all(np.isfinite(ft.hessian(fn)(np.ones(3))))
    g32 = ft.grad(fn)(np.ones(3, np.float32))
    assert g32.dtype == np.float32 and not np.any(g32)
    # one constant row, one varying row: the varying row keeps its usual gradient
    rows = np.array([[4.0, 4.0, 4.0], [1.0, 2.0, 3.0]])
    g = ft.grad(lambda x: fnp.sum(fn(x, axis=1)))(rows)
    np.testing.assert_array_equal(g[0], [0.0, 0.0, 0.0])
    scale = 1 / math.sqrt(6.0) if "std" in name else 2 / 3
    np.testing.assert_allclose(g[1], [-scale, 0.0, scale], rtol=1e-15)


# -- broadcasting --------------------------------------------------------------------------------------


def test_broadcasting_gradients_reduce_to_the_input_shape():
    x, y = np.arange(3.0).reshape(3, 1), np.arange(4.0).reshape(1, 4)
    gx, gy = ft.grad(lambda x, y: fnp.sum(x * y), argnums=(0, 1))(x, y)
    assert gx.shape == (3, 1) and gy.shape == (1, 4)
    np.testing.assert_array_equal(gx, np.full((3, 1), 6.0))
    np.testing.assert_array_equal(gy, np.full((1, 4), 3.0))


def test_broadcasting_a_scalar_and_leading_dimensions():
    a, b = np.array(2.0), np.ones((2, 3, 4))
    ga, gb = ft.grad(lambda a, b: fnp.sum(a * b + a), argnums=(0, 1))(a, b)
    assert ga.shape == () and float(ga) == 24.0 + 24.0
    np.testing.assert_array_equal(gb, np.full((2, 3, 4), 2.0))
    row = np.arange(4.0)
    g = ft.grad(lambda r: fnp.sum(fnp.ones((5, 4)) - r))(row)
    np.testing.assert_array_equal(g, np.full(4, -5.0))
    # a Python float argument gets a 0-d gradient
    assert ft.grad(lambda s: fnp.sum(s * np.ones((2, 2))))(1.5).shape == ()


# -- repeated indices -------------------------------------------------------------------------------


def test_repeated_integer_indices_accumulate():
    x = np.arange(4.0)
    np.testing.assert_array_equal(ft.grad(lambda x: fnp.sum(x[np.array([0, 0, 2, 0])]))(x), [3.0, 0.0, 1.0, 0.0])
    w = np.array([1.0, 10.0, 100.0])
    np.testing.assert_array_equal(ft.grad(lambda x: fnp.sum(x[[3, 3, 1]] * w))(x), [0.0, 100.0, 0.0, 11.0])
    idx = np.array([[1, 1], [1, 0]])
    np.testing.assert_array_equal(ft.grad(lambda x: fnp.sum(x[idx]))(x), [1.0, 3.0, 0.0, 0.0])
    m = np.arange(6.0).reshape(2, 3)
    g = ft.grad(lambda m: fnp.sum(m[np.array([0, 0]), np.array([2, 2])]))(m)
    np.testing.assert_array_equal(g, [[0.0, 0.0, 2.0], [0.0, 0.0, 0.0]])


def test_at_add_with_repeated_indices_accumulates_values_and_gradients():
    x, v = np.zeros(3), np.array([1.0, 2.0, 4.0])
    out = fnp.at(x)[np.array([0, 0, 2])].add(v)
    np.testing.assert_array_equal(out, [3.0, 0.0, 4.0])
    gx, gv = ft.grad(lambda x, v: fnp.sum(fnp.at(x)[np.array([0, 0, 2])].add(v) * np.array([1.0, 2.0, 3.0])),
                     argnums=(0, 1))(x, v)
    np.testing.assert_array_equal(gx, [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(gv, [1.0, 1.0, 3.0])


def test_at_add_broadcast_over_a_two_dimensional_repeated_index():
    out = fnp.at(np.zeros(1))[np.array([[0, 0], [0, 0]])].add(np.array([1.0, 2.0]))
    assert out.tolist() == [6.0]
    g = ft.grad(lambda v: fnp.sum(fnp.at(np.zeros(1))[np.array([[0, 0], [0, 0]])].add(v)))(np.array([1.0, 2.0]))
    np.testing.assert_array_equal(g, [2.0, 2.0])


def test_at_set_with_repeated_indices_only_the_written_value_gets_a_gradient():
    def f(v):
        return fnp.sum(fnp.at(np.zeros(3))[np.array([0, 0])].set(v) * np.array([1.0, 2.0, 3.0]))

    written = fnp.at(np.zeros(3))[np.array([0, 0])].set(np.array([1.0, 2.0]))
    assert written.tolist() == [2.0, 0.0, 0.0]  # NumPy's assignment: the last one wins
    np.testing.assert_array_equal(ft.grad(f)(np.array([1.0, 2.0])), [0.0, 1.0])
    check_grads(lambda x, v: fnp.at(x)[np.array([2, 0, 2, 2])].set(v), (np.ones(3), np.arange(4.0)))


# -- dtypes -----------------------------------------------------------------------------------------------

_BINARY = {
    "add": fnp.add, "subtract": fnp.subtract, "multiply": fnp.multiply, "divide": fnp.divide,
    "maximum": fnp.maximum, "minimum": fnp.minimum, "power": fnp.power,
    "where": lambda a, b: fnp.where(np.array([True, False]), a, b),
    "matmul": fnp.matmul, "dot": fnp.dot, "concatenate": lambda a, b: fnp.concatenate([a, b]),
    "stack": lambda a, b: fnp.stack([a, b]), "einsum": lambda a, b: fnp.einsum("i,i->i", a, b),
}


@pytest.mark.parametrize("name", sorted(_BINARY))
@pytest.mark.parametrize("side", ["x op c", "c op x"])
def test_float32_meeting_a_float64_constant(name, side):
    """x (float32, differentiated) with c (float64, a constant): the result is float64, the
    tangent has the result's dtype, and x's cotangent is float32."""
    fn = _BINARY[name]
    x, c = np.array([0.5, 1.5], np.float32), np.array([2.0, 0.25])
    f = (lambda x: fn(x, c)) if side == "x op c" else (lambda x: fn(c, x))
    out, t = ft.jvp(f, (x,), (np.ones(2, np.float32),))
    assert out.dtype == np.float64 and t.dtype == out.dtype
    out, pullback = ft.vjp(f, x)
    (ct,) = pullback(np.ones_like(out))
    assert ct.dtype == np.float32


@pytest.mark.parametrize("name", sorted(set(_BINARY) - {"where", "concatenate", "stack"}))
def test_python_scalars_do_not_widen_float32(name):
    fn = _BINARY[name]
    x = np.array([0.5, 1.5], np.float32)
    if name in ("matmul", "dot", "einsum"):
        f = lambda x: fn(x * 2.0, x)
    else:
        f = lambda x: fn(x, 2.0) + fn(3.0, x)
    assert f(x).dtype == np.float32
    g = ft.grad(lambda x: fnp.sum(f(x)))(x)
    assert g.dtype == np.float32
    h = ft.grad(lambda x: fnp.sum(ft.grad(lambda y: fnp.sum(f(y)))(x)))(x)
    assert h.dtype == np.float32


def test_float32_gradients_through_a_small_network():
    rng = np.random.default_rng(0)
    w = rng.standard_normal((3, 4)).astype(np.float32)
    x = rng.standard_normal((5, 3)).astype(np.float32)

    def loss(w):
        h = fnp.tanh(x @ w) * 0.5 + 1.0
        return fnp.mean(fnp.logistic(h) ** 2) + 1e-3 * fnp.sum(w * w)

    value, g = ft.value_and_grad(loss)(w)
    assert value.dtype == np.float32 and g.dtype == np.float32
    check_grads(loss, (w,), order=2)


@pytest.mark.parametrize("method", ["linear", "lower", "higher", "nearest", "midpoint"])
def test_quantile_methods_match_numpy_and_differentiate(method):
    rng = np.random.default_rng(7)
    for trial in range(40):
        x = rng.normal(size=(3, 5))
        if trial % 2:
            x = np.round(x)  # ties
        q = np.array([0.0, 0.2, 0.5, 0.75, 1.0]) if trial % 3 else float(rng.uniform())
        axis = None if trial % 4 == 0 else 1
        want = np.quantile(x, q, axis=axis, method=method)
        got = ft.jvp(lambda v: fnp.quantile(v, q, axis=axis, method=method), (x,), (x,))[0]
        np.testing.assert_allclose(got, want, rtol=1e-14, atol=1e-14)
        np.testing.assert_allclose(fnp.quantile(x, q, axis=axis, method=method), want, rtol=1e-14)
    weights = {"linear": [0.0, 0.8, 0.2, 0.0], "lower": [0.0, 1.0, 0.0, 0.0],
               "higher": [0.0, 0.0, 1.0, 0.0], "nearest": [0.0, 1.0, 0.0, 0.0],
               "midpoint": [0.0, 0.5, 0.5, 0.0]}[method]
    # the 0.4-quantile of [2, 1, 3, 4] sits at position 1.2 of the sorted [1, 2, 3, 4]
    grad = ft.grad(lambda v: fnp.quantile(v, 0.4, method=method))(np.array([2.0, 1.0, 3.0, 4.0]))
    np.testing.assert_allclose(grad, _by_original_position(weights, [2.0, 1.0, 3.0, 4.0]), rtol=1e-15)


def _by_original_position(sorted_weights, values):
    order = np.argsort(values, kind="stable")
    out = np.zeros(len(values))
    out[order] = sorted_weights
    return out


def test_unknown_quantile_method_is_named():
    with pytest.raises(NotImplementedError, match="'weibull' is not supported"):
        fnp.quantile(np.ones(3), 0.5, method="weibull")


@pytest.mark.parametrize("edge_order", [1, 2])
def test_gradient_edge_orders_match_numpy(edge_order):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(4, 6))
    np.testing.assert_allclose(fnp.gradient(x, 0.5, axis=1, edge_order=edge_order),
                               np.gradient(x, 0.5, axis=1, edge_order=edge_order), rtol=1e-14)
    for got, want in zip(fnp.gradient(x, 2.0, 0.5, edge_order=edge_order),
                         np.gradient(x, 2.0, 0.5, edge_order=edge_order)):
        np.testing.assert_allclose(got, want, rtol=1e-14)
    # a quadratic is differentiated exactly by second-order stencils, edges included
    t = np.arange(6.0)
    if edge_order == 2:
        np.testing.assert_allclose(fnp.gradient(t ** 2, edge_order=2), 2 * t, rtol=1e-14)
    check_grads(lambda v: fnp.gradient(v, 0.5, axis=1, edge_order=edge_order), (x,), order=2)
    with pytest.raises(ValueError, match="at least"):
        fnp.gradient(np.ones(edge_order), edge_order=edge_order)


@pytest.mark.parametrize("edge_order", [1, 2])
@pytest.mark.parametrize("n", [3, 6])
def test_gradient_at_coordinates_matches_numpy_and_differentiates_them(edge_order, n):
    rng = np.random.default_rng(4)
    coords = np.cumsum(rng.uniform(0.2, 1.5, n))
    x = rng.normal(size=(4, n))
    want = np.gradient(x, coords, axis=1, edge_order=edge_order)
    f = lambda v, c: fnp.gradient(v, c, axis=1, edge_order=edge_order)
    for got in (f(x, coords), ft.jit(f)(x, coords), ft.vmap(f, in_axes=(0, None))(x[:, None], coords)[:, 0]):
        np.testing.assert_allclose(got, want, rtol=1e-13)
    got32 = f(x.astype(np.float32), coords)  # NumPy's dtype: the samples'
    assert got32.dtype == np.float32
    np.testing.assert_allclose(got32, np.gradient(x.astype(np.float32), coords, axis=1, edge_order=edge_order),
                               rtol=1e-5)
    for got, ref in zip(fnp.gradient(x.T, coords, 0.5, edge_order=edge_order),
                        np.gradient(x.T, coords, 0.5, edge_order=edge_order)):
        np.testing.assert_allclose(got, ref, rtol=1e-13)
    # a quadratic is differentiated exactly by the three-point stencils, on any grid
    if edge_order == 2:
        np.testing.assert_allclose(fnp.gradient(coords ** 2, coords, edge_order=2), 2 * coords, rtol=1e-12)
    check_grads(f, (x, coords), order=2)
    with pytest.raises(ValueError, match="must match the length"):
        fnp.gradient(x, coords[1:], axis=1)


@pytest.mark.parametrize("method, ufunc", [("multiply", np.multiply), ("divide", np.divide),
                                           ("min", np.minimum), ("max", np.maximum)])
def test_index_updates_apply_every_repeat_like_ufunc_at(method, ufunc):
    x = np.arange(1.0, 6.0)
    idx = [1, 1, 3, 1]
    values = np.array([2.5, -3.0, 4.5, 0.5])  # no ties with x (min, max)
    want = x.copy()
    ufunc.at(want, idx, values)
    np.testing.assert_array_equal(getattr(fnp.at(x)[idx], method)(values), want)
    grid = np.arange(1.0, 13.0).reshape(3, 4)
    rows, cols = np.array([0, 0, 2]), np.array([1, 1, 3])
    want = grid.copy()
    ufunc.at(want, (rows, cols), values[:3])
    np.testing.assert_array_equal(getattr(fnp.at(grid)[rows, cols], method)(values[:3]), want)
    check_grads(lambda a, b: getattr(fnp.at(a)[idx], method)(b), (x, values), order=2)


@pytest.mark.parametrize("axis", [None, 0, 1, -1])
def test_unique_along_an_axis_matches_numpy_and_takes_first_occurrences(axis):
    x = np.array([[1.0, 2.0], [1.0, 2.0], [3.0, 4.0], [0.0, 5.0]])
    want = np.unique(x, True, True, True, axis=axis)
    got = ft.jvp(lambda v: fnp.unique(v, True, True, True, axis=axis), (x,), (x,))[0]
    for a, b in zip(got, want):
        np.testing.assert_array_equal(a, b)
    grad = ft.grad(lambda v: fnp.sum(fnp.unique(v, axis=axis) ** 2))(x)
    first = np.zeros_like(x)
    if axis == 0:
        first[[0, 2, 3]] = 1.0  # row 1 repeats row 0
    else:
        first[...] = 1.0  # columns are distinct; flattened: the later 1.0 and 2.0 repeat
        if axis is None:
            first[1] = 0.0
    np.testing.assert_array_equal(grad, 2 * x * first)


@pytest.mark.parametrize("mode, options", [
    ("maximum", {}), ("minimum", {"stat_length": 2}), ("mean", {"stat_length": ((1, 2), (3, 1))}),
    ("median", {}), ("linear_ramp", {}), ("linear_ramp", {"end_values": ((1.0, 2.0), (-3.0, 4.0))}),
])
def test_pad_modes_computed_from_the_edges(mode, options):
    x = np.random.default_rng(5).normal(size=(3, 4))
    for width in (1, (2, 1), ((1, 0), (2, 3))):
        np.testing.assert_allclose(fnp.pad(x, width, mode=mode, **options),
                                   np.pad(x, width, mode=mode, **options), rtol=1e-13)
        traced = ft.jvp(lambda v: fnp.pad(v, width, mode=mode, **options), (x,), (x,))[0]
        np.testing.assert_allclose(traced, np.pad(x, width, mode=mode, **options), rtol=1e-13)
    check_grads(lambda v: fnp.pad(v, ((1, 2), (2, 1)), mode=mode, **options), (x,), order=2)
    assert fnp.pad(x.astype(np.float32), 1, mode=mode, **options).dtype == np.float32


def test_pad_names_the_modes_it_knows():
    with pytest.raises(NotImplementedError, match="unknown mode 'spiral'.*linear_ramp"):
        ft.grad(lambda v: fnp.sum(fnp.pad(v, 1, mode="spiral")))(np.ones(2))
