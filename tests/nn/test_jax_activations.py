"""functrans.nn's spellings of jax.nn's activations: values and first and second derivatives
against numbers computed with JAX 0.10.2 (jax_enable_x64, jax.nn.<name>, jax.vmap(jax.grad(f))
and jax.vmap(jax.grad(jax.grad(f))) at XS), kinks included; eager, jit and vmap agree;
float32 stays float32. The smooth ones are also checked by check_grads (finite differences)."""
from __future__ import annotations

import numpy as np
import pytest

import functrans as ft
from functrans import nn
from functrans.testing import check_grads

XS = np.array([-30.0, -3.5, -3.0, -1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 3.0, 6.0, 7.0, 25.0])

# name: (values, first derivatives, second derivatives) at XS, from JAX (see the module doc)
JAX = {
    "hard_tanh": (
        [-1.0, -1.0, -1.0, -1.0, -1.0, -0.5, 0.0, 0.5, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0],
        [0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0],
        [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    ),
    "hard_sigmoid": (
        [0.0, 0.0, 0.0, 0.25, 0.3333333333333333, 0.41666666666666663, 0.5, 0.5833333333333333,
         0.6666666666666666, 0.75, 1.0, 1.0, 1.0, 1.0],
        [0.0, 0.0, 0.0, 0.16666666666666666, 0.16666666666666666, 0.16666666666666666,
         0.16666666666666666, 0.16666666666666666, 0.16666666666666666, 0.16666666666666666, 0.0,
         0.0, 0.0, 0.0],
        [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    ),
    "hard_silu": (
        [-0.0, -0.0, -0.0, -0.375, -0.3333333333333333, -0.20833333333333331, 0.0,
         0.29166666666666663, 0.6666666666666666, 1.125, 3.0, 6.0, 7.0, 25.0],
        [0.0, 0.0, 0.0, 0.0, 0.16666666666666666, 0.3333333333333333, 0.5, 0.6666666666666666,
         0.8333333333333333, 1.0, 1.0, 1.0, 1.0, 1.0],
        [0.0, 0.0, 0.0, 0.3333333333333333, 0.3333333333333333, 0.3333333333333333,
         0.3333333333333333, 0.3333333333333333, 0.3333333333333333, 0.3333333333333333, 0.0, 0.0,
         0.0, 0.0],
    ),
    "soft_sign": (
        [-0.967741935483871, -0.7777777777777778, -0.75, -0.6, -0.5, -0.3333333333333333, 0.0,
         0.3333333333333333, 0.5, 0.6, 0.75, 0.8571428571428571, 0.875, 0.9615384615384616],
        [0.00104058272632674, 0.04938271604938271, 0.0625, 0.16000000000000003, 0.25,
         0.4444444444444444, 1.0, 0.4444444444444444, 0.25, 0.16000000000000003, 0.0625,
         0.020408163265306117, 0.015625, 0.001479289940828403],
        [6.713436944043522e-05, 0.021947873799725653, 0.03125, 0.128, 0.25, 0.5925925925925926,
         -2.0, -0.5925925925925926, -0.25, -0.128, -0.03125, -0.005830903790087461, -0.00390625,
         -0.00011379153390987705],
    ),
    "sparse_plus": (
        [0.0, 0.0, 0.0, 0.0, 0.0, 0.0625, 0.25, 0.5625, 1.0, 1.5, 3.0, 6.0, 7.0, 25.0],
        [0.0, 0.0, 0.0, 0.0, 0.0, 0.25, 0.5, 0.75, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0],
        [0.0, 0.0, 0.0, 0.0, 0.0, 0.5, 0.5, 0.5, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    ),
    "sparse_sigmoid": (
        [0.0, 0.0, 0.0, 0.0, 0.0, 0.25, 0.5, 0.75, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0],
        [0.0, 0.0, 0.0, 0.0, 0.25, 0.5, 0.5, 0.5, 0.25, 0.0, 0.0, 0.0, 0.0, 0.0],
        [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    ),
    "squareplus": (
        [0.03329637837290811, 0.2655644370746373, 0.30277563773199456, 0.5, 0.6180339887498949,
         0.7807764064044151, 1.0, 1.2807764064044151, 1.618033988749895, 2.0, 3.302775637731995,
         6.16227766016838, 7.140054944640259, 25.039936203984453],
        [0.0011074210716955218, 0.06587842893777036, 0.08397485283107814, 0.19999999999999998,
         0.27639320225002106, 0.3787321874818335, 0.5, 0.6212678125181665, 0.7236067977499789,
         0.8, 0.9160251471689218, 0.9743416490252569, 0.9807619738204116, 0.9984076392680624],
        [7.358297624311672e-05, 0.03053162697580515, 0.042669245863479144, 0.128,
         0.17888543819998318, 0.2282688235636075, 0.25, 0.2282688235636075, 0.17888543819998318,
         0.128, 0.042669245863479144, 0.007905694150420958, 0.005183417507497706,
         0.00012678095752447285],
    ),
    "log1mexp": (
        [np.nan, np.nan, np.nan, np.nan, np.nan, np.nan, -np.inf, -0.9327521295671887,
         -0.4586751453870813, -0.25248245892545396, -0.05106918094270159, -0.002481829368959528,
         -0.0009122979828390684, -1.3887943865060459e-11],
        [-1.0000000000000937, -1.0311376592577997, -1.052395696491256, -1.287216916788868,
         -1.5819767068693265, -2.5414940825367984, np.inf, 1.5414940825367984, 0.5819767068693263,
         0.2872169167888683, 0.05239569649125595, 0.0024849116568445855, 0.0009127142532217337,
         1.3887943865156895e-11],
        [-9.359180097591822e-14, -0.03210721308185461, -0.055141005502059776, -0.3697104740785718,
         -0.9206735942077924, -3.917698089032765, -np.inf, -3.917698089032765,
         -0.9206735942077922, -0.369710474078572, -0.055141005502059755, -0.002491086442786908,
         -0.0009135473005297679, -1.3887943865349768e-11],
    ),
    "identity": (
        [-30.0, -3.5, -3.0, -1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 3.0, 6.0, 7.0, 25.0],
        [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0],
        [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    ),
}


def _derivatives(f):
    return ft.vmap(ft.grad(f)), ft.vmap(ft.grad(ft.grad(f)))


@pytest.mark.parametrize("name", sorted(JAX))
def test_values_and_derivatives_match_jax(name):
    f = getattr(nn, name)
    values, first, second = (np.array(v) for v in JAX[name])
    d1, d2 = _derivatives(f)
    for got, want in ((f(XS), values), (d1(XS), first), (d2(XS), second),
                      (ft.jit(f)(XS), values), (ft.jit(d1)(XS), first),
                      (np.array([ft.grad(f)(x) for x in XS]), first)):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", sorted(JAX))
def test_float32_stays_float32(name):
    f = getattr(nn, name)
    x = XS[XS > 0].astype(np.float32)
    assert f(x).dtype == np.float32
    assert ft.vmap(ft.grad(f))(x).dtype == np.float32
    np.testing.assert_allclose(f(x), np.array(JAX[name][0])[XS > 0], rtol=1e-6)


@pytest.mark.parametrize("name", sorted(set(JAX) | {"swish", "hard_swish"}))
def test_derivatives_against_finite_differences_away_from_kinks(name):
    x = np.array([0.3, 0.9, 1.7, 4.0]) if name == "log1mexp" else \
        np.array([-3.7, -2.2, -0.6, 0.3, 0.8, 2.4, 3.9])
    check_grads(getattr(nn, name), (x,), order=2, modes=("fwd", "rev"))


def test_jax_spellings_of_the_same_functions():
    assert nn.swish is nn.silu
    assert nn.hard_swish is nn.hard_silu
    assert nn.hard_sigmoid is nn.hardsigmoid
    # the PyTorch spellings keep PyTorch's derivatives at the kinks, the JAX ones JAX's
    kinks = np.array([-3.0, -1.0, 1.0, 3.0])
    np.testing.assert_array_equal(ft.vmap(ft.grad(nn.hardtanh))(kinks), [0, 0, 0, 0])
    np.testing.assert_array_equal(ft.vmap(ft.grad(nn.hard_tanh))(kinks), [0, 1, 1, 0])
    np.testing.assert_allclose(ft.vmap(ft.grad(nn.hardswish))(kinks), [-0.5, 1 / 6, 5 / 6, 1.5])
    np.testing.assert_allclose(ft.vmap(ft.grad(nn.hard_swish))(kinks), [0, 1 / 6, 5 / 6, 1])


def test_squareplus_b_and_log1mexp_tails():
    # jax.nn.squareplus(x, 1.0) and its gradient; jax.nn.log1mexp at tiny and large x
    x = np.array([[0.5, -1.0, 2.0], [3.0, 0.25, -0.75]])
    np.testing.assert_allclose(nn.squareplus(x, 1.0), [[0.80901699, 0.20710678, 2.11803399],
                                                       [3.08113883, 0.6403882, 0.25]], rtol=1e-6)
    np.testing.assert_allclose(ft.grad(lambda x: nn.squareplus(x, 1.0).sum())(x),
                               [[0.7236068, 0.14644661, 0.9472136],
                                [0.97434165, 0.62126781, 0.2]], rtol=1e-6)
    np.testing.assert_allclose(nn.log1mexp(np.array([1e-20, 1e-5, np.log(2.0), 50.0])),
                               [-4.60517019e+01, -1.15129305e+01, -6.93147181e-01,
                                -1.92874985e-22], rtol=1e-6)
    np.testing.assert_allclose(ft.vmap(ft.grad(nn.log1mexp))(np.array([1e-5, 50.0])),
                               [9.99995000e+04, 1.92874985e-22], rtol=1e-6)


X2 = np.array([[0.5, -1.0, 2.0], [3.0, 0.25, -0.75]])
W2 = np.array([[True, False, True], [False, False, False]])


def test_logmeanexp_matches_jax():
    # jax.nn.logmeanexp on X2 (x64)
    assert float(nn.logmeanexp(X2)) == pytest.approx(1.6501826464792386, rel=1e-14)
    assert float(nn.logmeanexp(X2, axis=(0, 1))) == pytest.approx(1.6501826464792386, rel=1e-14)
    np.testing.assert_allclose(nn.logmeanexp(X2, axis=1), [1.14269901, 1.98521918], rtol=1e-6)
    np.testing.assert_allclose(nn.logmeanexp(X2, axis=-1), [1.14269901, 1.98521918], rtol=1e-6)
    np.testing.assert_allclose(nn.logmeanexp(X2, axis=0, keepdims=True),
                               [[2.38574255, -0.1912181, 1.36882041]], rtol=1e-6)
    # where is the third positional, as in JAX; a row with nothing selected is nan
    for got in (nn.logmeanexp(X2, 1, W2), ft.jit(lambda x: nn.logmeanexp(x, 1, W2))(X2),
                ft.vmap(lambda r, m: nn.logmeanexp(r, 0, m))(X2, W2)):
        np.testing.assert_allclose(got, [1.5082661, np.nan], rtol=1e-6)
    np.testing.assert_allclose(ft.grad(lambda x: nn.logmeanexp(x, 1, W2)[0])(X2),
                               [[0.18242552, 0, 0.81757448], [0, 0, 0]], rtol=1e-6)
    np.testing.assert_allclose(ft.grad(nn.logmeanexp)(X2),
                               [[0.05276316, 0.01177305, 0.23646806],
                                [0.64278684, 0.04109199, 0.0151169]], rtol=1e-6)
    check_grads(lambda x: nn.logmeanexp(x, 1), (X2,), order=2, modes=("fwd", "rev"))
    assert nn.logmeanexp(X2.astype(np.float32)).dtype == np.float32
    assert nn.logmeanexp(X2.astype(np.float32), 1, W2).dtype == np.float32


def test_logsumexp_and_softmax_take_jax_positional_arguments():
    # jax.nn.logsumexp(a, axis, b, keepdims, return_sign): the third positional is b
    b = np.array([0.5, 2.0, 1.0])
    np.testing.assert_allclose(nn.logsumexp(X2, 1, b), [2.19156142, 2.57132788], rtol=1e-6)
    value, sign = nn.logsumexp(X2, 1, -b, False, True)
    np.testing.assert_allclose(value, [2.19156142, 2.57132788], rtol=1e-6)
    np.testing.assert_array_equal(sign, [-1.0, -1.0])
    # jax.nn.softmax(x, axis, where): where may be positional
    np.testing.assert_allclose(nn.softmax(X2, -1, W2[[0, 0]]),
                               [[0.18242552, 0, 0.81757448], [0.97702263, 0, 0.02297737]],
                               rtol=1e-6)
    np.testing.assert_allclose(np.exp(nn.log_softmax(X2, -1, W2[[0, 0]])),
                               [[0.18242552, 0, 0.81757448], [0.97702263, 0, 0.02297737]],
                               rtol=1e-6)


def test_gelu_default_is_exact_and_approximate_true_is_jax_default():
    # jax.nn.gelu(x) (approximate=True by default) and jax.nn.gelu(x, approximate=False),
    # values and jax.vmap(jax.grad(...)) at x
    x = np.array([-1.5, 1.0, 3.0])
    jax_default = [-0.10042842301976715, 0.8411919906082768, 2.996362607918227]
    jax_default_grad = [-0.1277107931514332, 1.0829640838457828, 1.0115841666309702]
    jax_exact = [-0.10021080190328709, 0.8413447460685429, 2.99595030590511]
    jax_exact_grad = [-0.12746919222997952, 1.0833154705876862, 1.011945647204184]
    approx = lambda x: nn.gelu(x, approximate=True)
    np.testing.assert_allclose(approx(x), jax_default, rtol=1e-13)
    np.testing.assert_allclose(ft.vmap(ft.grad(approx))(x), jax_default_grad, rtol=1e-13)
    np.testing.assert_allclose(nn.gelu(x), jax_exact, rtol=1e-13)
    np.testing.assert_allclose(ft.vmap(ft.grad(nn.gelu))(x), jax_exact_grad, rtol=1e-13)
    np.testing.assert_allclose(nn.gelu(x, approximate=False), jax_exact, rtol=1e-13)
    assert "approximate=True" in nn.gelu.__doc__.split("\n\n")[1]  # said up front


def test_edge_inputs_match_jax():
    # jax.nn.logmeanexp over an empty axis is nan (no error); jax.nn.soft_sign of a complex
    # number divides by 1 + |x|
    np.testing.assert_array_equal(nn.logmeanexp(np.zeros((0, 3)), axis=0), [np.nan] * 3)
    assert np.isnan(nn.logmeanexp(np.zeros((0, 3))))
    np.testing.assert_allclose(nn.soft_sign(np.array([1.0 + 1.0j])),
                               [0.41421356 + 0.41421356j], rtol=1e-8)
    np.testing.assert_allclose(nn.squareplus(np.array([1.0 + 1.0j])),
                               [1.52908551 + 0.74293414j], rtol=1e-8)


def test_log_space_functions_keep_their_digits_in_the_tails():
    # JAX 0.10.2 (x64): softplus far left is exp(x), not the rounding of log(1 + tiny) (which
    # gave 0 at -40 and lost three digits at -30); a large common offset of the logits does
    # not cancel away the digits of the largest log-probability.
    softplus = [4.248354255291589e-18, 9.357622968839737e-14, 0.9740769841801067]
    for f in (nn.softplus, ft.jit(nn.softplus)):
        np.testing.assert_allclose(f(np.array([-40.0, -30.0, 0.5])), softplus, rtol=1e-14)
    np.testing.assert_allclose(nn.log_sigmoid(np.array([40.0, 30.0])), [-softplus[0], -softplus[1]],
                               rtol=1e-14)
    np.testing.assert_allclose(nn.softplus(np.float32(-40.0)), 4.24835413113866e-18, rtol=1e-6)
    logits = np.array([100.0, 80.0, 60.0])
    np.testing.assert_allclose(nn.log_softmax(logits),
                               [-2.0611536900435727e-09, -20.000000002061153, -40.00000000206116],
                               rtol=1e-14)
