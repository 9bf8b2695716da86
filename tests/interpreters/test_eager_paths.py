"""The short paths eager differentiation takes give the general paths' answers: forward-mode
rules with parameters and linear rules called on unpacked pairs, the sum of two tangents that
broadcasts, the remembered shape work (broadcasts, unbroadcast's axes, reductions' shapes, a
sum's transpose), broadcast_in_dim's view of NumPy memory, and jvp's and value_and_grad's
handling of NumPy float arguments.

Values are compared exactly with the same derivative computed with debug_nans on (every direct
path of the backward pass and of the recording off), and derivatives against finite
differences on both backends.
"""
from __future__ import annotations

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans import errors
from functrans.core.primitive import Primitive
from functrans.primitives import broadcast_in_dim_p, reduce_max_p, reduce_sum_p
from functrans.primitives._define import defjvp, deflinear, elementwise, unbroadcast
from functrans.primitives._shapes import broadcast_pair, kept_dims, reduced_shape, summed_axes
from functrans.primitives.elementwise import mul
from functrans.testing import check_grads

from direct_paths import assert_same_bits, general

# A two-input primitive with a parameter (its JVP takes the pairs and the parameter unpacked),
# and a primitive linear in two inputs without parameters.
weighted_p = elementwise("test_eager_weighted", lambda x, y, *, k: k * x + y * y)
defjvp(weighted_p, lambda t, x, y, *, k: mul(t, k), lambda t, x, y, *, k: mul(t, mul(2.0, y)),
       broadcast=True)
combine_p = elementwise("test_eager_combine", lambda x, y: x + 2.0 * y)
deflinear(combine_p, lambda ct, x, y: (unbroadcast(ct, x), unbroadcast(mul(ct, 2.0), y)))




# -- forward-mode rules on unpacked pairs --------------------------------------------------------

def test_a_two_input_rule_with_a_parameter(backend):
    x = backend.put(np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.5]]))
    y = backend.put(np.array([0.3, -0.7, 1.1]))
    f = lambda x, y: weighted_p.bind(x, y, k=3.0)
    _, t = ft.jvp(f, (x, y), (backend.put(np.ones((2, 3))), backend.put(np.zeros(3))))
    np.testing.assert_allclose(backend.get(t), np.full((2, 3), 3.0))
    gx, gy = ft.grad(lambda x, y: f(x, y).sum(), argnums=(0, 1))(x, y)
    np.testing.assert_allclose(backend.get(gx), np.full((2, 3), 3.0))
    np.testing.assert_allclose(backend.get(gy), 4.0 * np.array([0.3, -0.7, 1.1]))
    check_grads(f, (x, y), order=2)
    check_grads(lambda x: f(x, y), (x,), order=2)  # (one operand a constant)
    check_grads(lambda y: f(x, y), (y,), order=2)


def test_a_primitive_linear_in_two_inputs(backend):
    x, y = backend.put(np.array([1.0, -2.0])), backend.put(np.array([0.5, 4.0]))
    _, t = ft.jvp(combine_p.bind, (x, y), (backend.put(np.array([1.0, 0.0])), backend.put(np.array([0.0, 1.0]))))
    np.testing.assert_allclose(backend.get(t), [1.0, 2.0])
    _, t = ft.jvp(lambda x: combine_p.bind(x, y), (x,), (backend.put(np.ones(2)),))
    np.testing.assert_allclose(backend.get(t), [1.0, 1.0])
    check_grads(combine_p.bind, (x, y), order=2)


def test_a_linear_primitive_of_several_outputs_keeps_the_general_rule():
    split_p = Primitive("test_eager_split", multiple_results=True)
    split_p.impl = lambda x: [x, 2.0 * x]
    deflinear(split_p, lambda cts, x: (cts[0] + 2.0 * cts[1],))
    assert split_p.jvp_args is None
    out, t = ft.jvp(lambda x: split_p.bind(x)[1], (np.array([1.0]),), (np.array([3.0]),))
    np.testing.assert_array_equal(t, [6.0])


@pytest.mark.parametrize("fn", [
    lambda x: fnp.reshape(x, (6,)) * 2.0,
    lambda x: -x,
    lambda x: fnp.sum(x, axis=1) ** 2,
    lambda x: fnp.transpose(x) @ x,
    lambda x: fnp.broadcast_to(fnp.sum(x), (2, 2)) * x[:, :2],
], ids=["reshape", "neg", "sum", "transpose-matmul", "broadcast"])
def test_linear_rules_in_forward_and_reverse_mode(backend, fn):
    x = backend.put(np.arange(6.0).reshape(2, 3) / 7.0 + 0.1)
    check_grads(fn, (x,), order=2)
    t = backend.put(np.ones((2, 3)))
    assert_same_bits(backend.get(ft.jvp(fn, (x,), (t,))), backend.get(general(ft.jvp, fn, (x,), (t,))))
    g = ft.grad(lambda x: fnp.sum(fn(x) ** 2))
    assert_same_bits(backend.get(g(x)), backend.get(general(g, x)))


# -- a sum that broadcasts, under grad -----------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_bias_added_to_a_batch(backend, dtype):
    h = backend.put(np.linspace(-1.0, 1.0, 12).reshape(4, 3).astype(dtype))
    b = backend.put(np.array([0.1, -0.2, 0.3], dtype))

    def f(h, b):
        return fnp.sum(fnp.tanh(h + b) * fnp.tanh(b + h))

    gh, gb = ft.grad(f, argnums=(0, 1))(h, b)
    assert gh.dtype == dtype and gb.dtype == dtype and gb.shape == (3,)
    assert_same_bits(backend.get((gh, gb)), backend.get(general(ft.grad(f, argnums=(0, 1)), h, b)))
    if dtype == np.float64:
        check_grads(lambda h, b: h + b, (h, b), order=2)
        check_grads(f, (h, b), order=2)


def test_a_mlp_step_agrees_with_the_general_paths(backend):
    rng = np.random.default_rng(0)
    params = [{"w": rng.standard_normal((m, n)) / np.sqrt(m), "b": rng.standard_normal(n) * 0.1}
              for m, n in ((5, 4), (4, 3))]
    x = rng.standard_normal((6, 5))
    labels = np.eye(3)[rng.integers(0, 3, 6)]
    params, x, labels = backend.put((params, x, labels))

    def loss(params, x, labels):
        h = fnp.tanh(x @ params[0]["w"] + params[0]["b"])
        logits = h @ params[1]["w"] + params[1]["b"]
        shifted = logits - fnp.max(ft.stop_gradient(logits), axis=-1, keepdims=True)
        log_probs = shifted - fnp.log(fnp.sum(fnp.exp(shifted), axis=-1, keepdims=True))
        return -fnp.sum(log_probs * labels) / x.shape[0]

    step = ft.value_and_grad(loss)
    assert_same_bits(backend.get(step(params, x, labels)), backend.get(general(step, params, x, labels)))
    check_grads(lambda p: loss(p, x, labels), (params,), order=1)


# -- remembered shape work -----------------------------------------------------------------------

@pytest.mark.parametrize("a, b", [((4, 3), (3,)), ((4, 1), (1, 5)), ((), (2, 2)), ((2, 1, 3), (4, 1))])
def test_broadcast_pair_is_numpys(a, b):
    for _ in range(2):  # (computed, then remembered)
        assert broadcast_pair(a, b) == np.broadcast_shapes(a, b)


def test_broadcast_pair_refuses_what_numpy_refuses():
    for _ in range(2):
        with pytest.raises(ValueError):
            broadcast_pair((3,), (4,))
    assert broadcast_pair([4, 1], (3,)) == (4, 3)  # (a list: computed, not remembered)


@pytest.mark.parametrize("ct_shape, shape", [
    ((4, 3), (3,)), ((4, 3), (1, 3)), ((4, 3), (4, 1)), ((2, 4, 3), (4, 1)), ((4, 3), ()),
    ((4, 3), (4, 3)),
])
def test_unbroadcast_sums_the_broadcast_axes(backend, ct_shape, shape):
    ct = np.arange(float(np.prod(ct_shape))).reshape(ct_shape)
    like = np.zeros(shape, np.float32)
    expected = ct
    while expected.ndim > len(shape):
        expected = expected.sum(axis=0)
    expected = expected.sum(axis=tuple(i for i, d in enumerate(shape) if d == 1), keepdims=True)
    for _ in range(2):
        out = backend.get(unbroadcast(backend.put(ct), backend.put(like)))
        assert out.shape == shape and out.dtype == np.float32
        np.testing.assert_array_equal(out, expected.reshape(shape).astype(np.float32))


def test_summed_axes_and_kept_dimensions():
    for _ in range(2):
        assert summed_axes((2, 4, 3), (4, 1)) == (0, 2)
        assert kept_dims((2, 3, 4), (0, 2)) == (1,)
    assert summed_axes([2, 4, 3], [4, 1]) == (0, 2)  # (lists: computed, not remembered)
    assert kept_dims([2, 3, 4], [1]) == (0, 2)


def test_reduction_shapes(backend):
    x = backend.put(np.ones((2, 3, 4)))
    for axes in ((1,), (0, 2), [0, 2]):
        for _ in range(2):
            assert reduce_max_p.shape_rule(x, axes=axes)[0] == reduced_shape((2, 3, 4), axes)
    assert reduce_sum_p.shape_rule(np.ones((2, 3), np.int8), axes=(0,)) == ((3,), np.dtype(np.int_))


@pytest.mark.parametrize("shape, axes", [((2, 3), (0,)), ((2, 3), (1,)), ((2, 3), (0, 1)), ((2, 1, 3), (1,))])
def test_the_transpose_of_a_sum(backend, shape, axes):
    x = backend.put(np.arange(6.0).reshape(shape) + 1.0)
    f = lambda x: reduce_sum_p.bind(x * x, axes=axes)
    check_grads(f, (x,), order=2)
    g = ft.grad(lambda x: fnp.sum(f(x) ** 2))
    assert_same_bits(backend.get(g(x)), backend.get(general(g, x)))


# -- broadcast_in_dim's view of NumPy memory ---------------------------------------------------

@pytest.mark.parametrize("x, shape, dims", [
    (np.float32(2.5), (3, 4), ()),
    (np.array(1.5), (4,), ()),
    (np.arange(3.0), (3, 5), (0,)),
    (np.arange(3.0), (5, 3), (1,)),
    (np.arange(6.0).reshape(2, 3), (4, 2, 3), (1, 2)),
    (np.arange(3.0).reshape(1, 3), (4, 3), (0, 1)),
    (np.asfortranarray(np.arange(6.0).reshape(2, 3)), (2, 5, 3), (0, 2)),
    (np.arange(12.0).reshape(3, 4)[:, 1:2], (3, 5), (0, 1)),  # (not contiguous)
    (np.arange(8.0)[::-2], (2, 4), (1,)),  # (a negative stride)
    (np.array([True, False]), (3, 2), (1,)),
], ids=["scalar", "0-d", "column", "row", "leading", "stretched", "fortran", "strided", "reversed", "bool"])
def test_broadcast_in_dim_is_numpys_read_only_view(x, shape, dims):
    out = broadcast_in_dim_p.bind(x, shape=shape, broadcast_dimensions=dims)
    expanded = [1] * len(shape)
    for i, d in enumerate(dims):
        expanded[d] = np.shape(x)[i]
    expected = np.broadcast_to(np.reshape(x, expanded), shape)
    assert type(out) is np.ndarray and out.dtype == expected.dtype and out.shape == shape
    np.testing.assert_array_equal(out, expected)
    assert not out.flags.writeable
    with pytest.raises(ValueError):
        out[(0,) * len(shape)] = 0


def test_broadcast_in_dim_keeps_its_operand_alive():
    out = broadcast_in_dim_p.bind(np.arange(3.0) * 2.0, shape=(2, 3), broadcast_dimensions=(1,))
    np.testing.assert_array_equal(out, [[0.0, 2.0, 4.0]] * 2)


# -- jvp's and value_and_grad's NumPy arguments ---------------------------------------------------

def test_jvp_of_numpy_arrays_checks_what_does_not_match():
    x = np.array([0.5, 1.0])
    y, t = ft.jvp(fnp.sin, (x,), (np.array([1.0, 2.0]),))
    np.testing.assert_array_equal(t, np.cos(x) * [1.0, 2.0])
    with pytest.raises(errors.TangentMismatchError, match="shape"):
        ft.jvp(fnp.sin, (x,), (np.ones(3),))
    with pytest.raises(errors.TangentMismatchError, match="dtype"):
        ft.jvp(fnp.sin, (x,), (np.ones(2, np.float32),))
    with pytest.raises(errors.TreeStructureError):
        ft.jvp(lambda a, b: a * b, (x, x), (np.ones(2),))
    _, t = ft.jvp(lambda n, x: x * n, (np.array([2, 3]), x), (np.zeros(2, int), np.ones(2)))
    np.testing.assert_array_equal(t, [2.0, 3.0])


def test_hessian_vector_product_agrees_with_the_general_paths(backend):
    A = backend.put(np.arange(9.0).reshape(3, 3) / 9.0 - 0.4)
    x, v = backend.put(np.array([0.3, -0.2, 0.5])), backend.put(np.array([1.0, 0.5, -1.0]))
    hvp = lambda x, v: ft.jvp(ft.grad(lambda x: fnp.sum(fnp.tanh(A @ x)) ** 2), (x,), (v,))[1]
    assert_same_bits(backend.get(hvp(x, v)), backend.get(general(hvp, x, v)))
    check_grads(lambda x: ft.grad(lambda x: fnp.sum(fnp.tanh(A @ x)) ** 2)(x), (x,), order=1)


def test_value_and_grad_of_numpy_parameters_checks_the_others():
    params = {"w": np.ones(2), "n": np.array([1, 2])}
    f = lambda p: fnp.sum(p["w"] * p["n"])
    with pytest.raises(errors.InputDtypeError, match=r"\['n'\]"):
        ft.value_and_grad(f)(params)
    value, g = ft.value_and_grad(f, allow_int=True)(params)
    assert float(value) == 3.0
    np.testing.assert_array_equal(g["w"], [1.0, 2.0])
    value, g = ft.value_and_grad(lambda p: fnp.sum(p["a"] * p["b"]))({"a": np.ones(2), "b": 2.0})
    assert float(g["b"]) == 2.0
    with pytest.raises(errors.InputDtypeError, match="complex"):
        ft.grad(lambda z: fnp.real(z[0]), holomorphic=True)([np.ones(1)])


# -- the backward pass's own steps -----------------------------------------------------------------

@pytest.mark.parametrize("fn", [
    lambda x, put: x / 3,
    lambda x, put: x / np.float64(3.0),  # (float32 / a float64 scalar: float64, summed back)
    lambda x, put: x / put(np.array([[2.0, 4.0, 8.0]], np.float32)),
    lambda x, put: fnp.broadcast_to(x[:1], (2, 3)) / put(np.full((2, 3), 2.0, np.float32)),
    lambda x, put: -x - x[:1] + x[:, :1],
    lambda x, put: x + 1.0 - put(np.ones(3, np.float32)),
    lambda x, put: fnp.log(x) + x[0] * fnp.exp(x),
], ids=["int", "float64-scalar", "row", "broadcast-numerator", "neg-and-broadcasts", "constants", "log-exp"])
def test_division_negation_and_sums_in_the_backward_pass(backend, fn):
    x = backend.put(np.array([[0.5, 1.5, 2.5], [1.0, 2.0, 3.0]], np.float32))
    g = ft.grad(lambda x: fnp.sum(fn(x, backend.put) * fn(x, backend.put)))
    out = g(x)
    assert out.dtype == np.float32 and out.shape == (2, 3)
    assert_same_bits(backend.get(out), backend.get(general(g, x)))
    check_grads(lambda x: fn(x, backend.put), (backend.put(backend.get(x).astype(np.float64)),), order=2)
