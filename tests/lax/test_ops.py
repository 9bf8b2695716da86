"""JAX's lax names (functrans/lax/_ops.py) against NumPy, one table row per name: values on
both backends, derivatives to second order where they apply, jit and vmap of a sample;
dot_general's dimension numbers, sort with several keys, Precision and precision=."""
from __future__ import annotations

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans import lax
from functrans.testing import check_grads

RNG = np.random.default_rng(11)
X = RNG.uniform(0.5, 2.0, (2, 3))
Y = RNG.uniform(0.5, 2.0, (2, 3))

# name -> (NumPy reference, whether it is differentiable)
UNARY = {
    "neg": (np.negative, True), "exp": (np.exp, True), "expm1": (np.expm1, True),
    "log": (np.log, True), "log1p": (np.log1p, True), "tanh": (np.tanh, True),
    "logistic": (lambda x: 1 / (1 + np.exp(-x)), True), "sin": (np.sin, True), "cos": (np.cos, True),
    "tan": (np.tan, True), "sqrt": (np.sqrt, True), "rsqrt": (lambda x: 1 / np.sqrt(x), True),
    "abs": (np.abs, True), "sign": (np.sign, False), "floor": (np.floor, False),
    "ceil": (np.ceil, False), "square": (np.square, True), "reciprocal": (np.reciprocal, True),
}
BINARY = {
    "add": (np.add, True), "sub": (np.subtract, True), "mul": (np.multiply, True),
    "div": (np.divide, True), "rem": (np.fmod, True), "pow": (np.power, True),
    "max": (np.maximum, True), "min": (np.minimum, True), "atan2": (np.arctan2, True),
    "eq": (np.equal, False), "ne": (np.not_equal, False), "lt": (np.less, False),
    "le": (np.less_equal, False), "gt": (np.greater, False), "ge": (np.greater_equal, False),
}
SHAPES = {  # name -> (lax call, NumPy reference)
    "broadcast_in_dim": (lambda x: lax.broadcast_in_dim(x, (4, 2, 3), (1, 2)), lambda x: np.broadcast_to(x, (4, 2, 3))),
    "broadcast": (lambda x: lax.broadcast(x, (4,)), lambda x: np.broadcast_to(x, (4, 2, 3))),
    "reshape": (lambda x: lax.reshape(x, (3, 2)), lambda x: x.reshape(3, 2)),
    "reshape_dimensions": (lambda x: lax.reshape(x, (6,), (1, 0)), lambda x: x.T.reshape(6)),
    "squeeze": (lambda x: lax.squeeze(x[None], (0,)), lambda x: x),
    "expand_dims": (lambda x: lax.expand_dims(x, (0, -1)), lambda x: x[None, :, :, None]),
    "concatenate": (lambda x: lax.concatenate([x, 2 * x], 1), lambda x: np.concatenate([x, 2 * x], 1)),
    "transpose": (lambda x: lax.transpose(x, (1, 0)), lambda x: x.T),
    "slice": (lambda x: lax.slice(x, (0, 1), (2, 3), (1, 2)), lambda x: x[0:2, 1:3:2]),
    "rev": (lambda x: lax.rev(x, (1,)), lambda x: x[:, ::-1]),
    "pad": (lambda x: lax.pad(x, 0.0, [(1, 0, 0), (0, 2, 1)]),
            lambda x: np.pad(np.stack([x[:, 0], 0 * x[:, 0], x[:, 1], 0 * x[:, 0], x[:, 2]], 1),
                             [(1, 0), (0, 2)])),
    "reduce_sum": (lambda x: lax.reduce_sum(x, (1,)), lambda x: x.sum(1)),
    "reduce_max": (lambda x: lax.reduce_max(x, (0, 1)), lambda x: x.max()),
    "reduce_min": (lambda x: lax.reduce_min(x, (-1,)), lambda x: x.min(-1)),
    "reduce_prod": (lambda x: lax.reduce_prod(x, (0,)), lambda x: x.prod(0)),
    "cumsum": (lambda x: lax.cumsum(x, axis=1, reverse=True), lambda x: np.cumsum(x[:, ::-1], 1)[:, ::-1]),
    "integer_pow": (lambda x: lax.integer_pow(x, 3), lambda x: x ** 3),
    "select": (lambda x: lax.select(x > 1.0, x, -x), lambda x: np.where(x > 1.0, x, -x)),
    "convert_element_type": (lambda x: lax.convert_element_type(x, np.float32), lambda x: x.astype(np.float32)),
    "sort": (lambda x: lax.sort(x, dimension=0), lambda x: np.sort(x, 0)),
    "dot": (lambda x: lax.dot(x, x.T), lambda x: x @ x.T),
}


def _check(got, expected, backend, atol=0.0):
    backend.check_placed(got)
    got = backend.get(got)
    assert np.asarray(got).dtype == np.asarray(expected).dtype
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=atol)


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary(name, backend):
    reference, differentiable = UNARY[name]
    op = getattr(lax, name)
    _check(op(backend.put(X)), reference(X), backend)
    if differentiable:
        check_grads(op, (backend.put(X),), order=2)


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary(name, backend):
    reference, differentiable = BINARY[name]
    op = getattr(lax, name)
    _check(op(backend.put(X), backend.put(Y)), reference(X, Y), backend)
    if differentiable:
        check_grads(op, (backend.put(X), backend.put(Y)), order=2)


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_shapes_and_reductions(name, backend):
    op, reference = SHAPES[name]
    _check(op(backend.put(X)), reference(X), backend)
    if name != "convert_element_type":
        check_grads(op, (backend.put(X),), order=2)
    np.testing.assert_allclose(ft.jit(op)(X), reference(X))
    batch = np.stack([X, Y])
    np.testing.assert_allclose(ft.vmap(op)(batch), np.stack([reference(X), reference(Y)]))


def test_cumsum_keeps_integer_dtypes_and_checks_its_axis():
    # lax ops keep their operand's dtype (NumPy's cumsum widens int32 to int64)
    for dtype in (np.int8, np.int32, np.uint16):
        x = np.array([[1, 2, 3], [4, 5, 6]], dtype)
        for got in (lax.cumsum(x, axis=1), ft.jit(lambda x: lax.cumsum(x, axis=-1, reverse=True))(x)):
            assert got.dtype == dtype
        np.testing.assert_array_equal(lax.cumsum(x, axis=1), np.cumsum(x, 1).astype(dtype))
    with pytest.raises(ValueError, match="axis 5 is out of bounds"):
        lax.cumsum(np.ones(3), axis=5)
    with pytest.raises(ValueError, match="0 dimension"):
        lax.cumsum(np.float64(1.0))


def test_integer_division_rounds_towards_zero_as_in_jax():
    x, y = np.array([-7, 7, -6, 5]), np.array([2, 2, -4, -3])
    np.testing.assert_array_equal(lax.div(x, y), [-3, 3, 1, -1])
    np.testing.assert_array_equal(lax.rem(x, y), [-1, 1, -2, 2])


@pytest.mark.parametrize("numbers, lhs_shape, rhs_shape, spec", [
    ((((1,), (0,)), ((), ())), (2, 3), (3, 4), "ij,jk->ik"),
    ((((0,), (0,)), ((), ())), (3, 2), (3, 4), "ji,jk->ik"),
    ((((2,), (1,)), ((0,), (0,))), (5, 2, 3), (5, 3, 4), "bij,bjk->bik"),
    ((((1,), (2,)), ((0,), (1,))), (5, 3, 2), (4, 5, 3), "bji,kbj->bik"),
    ((((1, 2), (0, 1)), ((), ())), (2, 3, 4), (3, 4, 5), "ijk,jkl->il"),
    ((((), ()), ((), ())), (2,), (3,), "i,j->ij"),
])
def test_dot_general_follows_jax_dimension_numbers(numbers, lhs_shape, rhs_shape, spec, backend):
    a, b = RNG.standard_normal(lhs_shape), RNG.standard_normal(rhs_shape)
    # (einsum sums in another order than the BLAS: sums of unit products differ by a few 1e-16
    # absolute, which an entry near 0 cannot meet relatively)
    _check(lax.dot_general(backend.put(a), backend.put(b), numbers), np.einsum(spec, a, b), backend, atol=1e-14)
    check_grads(lambda a, b: lax.dot_general(a, b, numbers, precision=lax.Precision.HIGHEST),
                (backend.put(a), backend.put(b)), order=2)


def test_dot_general_preferred_element_type():
    a = np.array([[100, 100]], np.int8)
    out = lax.dot_general(a, a.T, (((1,), (0,)), ((), ())), preferred_element_type=np.int32)
    assert out.dtype == np.int32 and out.tolist() == [[20000]]


def test_sort_with_several_keys_and_operands(backend):
    keys = np.array([[2, 1, 2, 0, 1], [1, 0, 0, 3, 0]])
    first, second = keys
    values = RNG.standard_normal(5)
    order = np.lexsort((second, first))  # first key most significant
    got = lax.sort((backend.put(first), backend.put(second), backend.put(values)), num_keys=2)
    for g, e in zip(got, (first[order], second[order], values[order])):
        _check(g, e, backend)
    single = lax.sort((backend.put(first), backend.put(values)), num_keys=1)
    _check(single[1], values[np.argsort(first, kind="stable")], backend)
    grad = ft.grad(lambda v: fnp.sum(lax.sort((first, v))[1] * np.arange(5.0)))(values)
    expected = np.zeros(5)
    expected[np.argsort(first, kind="stable")] = np.arange(5.0)
    np.testing.assert_allclose(grad, expected)
    np.testing.assert_allclose(ft.vmap(lambda r: lax.sort(r))(np.array([[3.0, 1.0, 2.0], [0.0, -1.0, 5.0]])),
                               [[1.0, 2.0, 3.0], [-1.0, 0.0, 5.0]])


def test_precision_names_and_precision_keyword():
    assert lax.Precision("highest") is lax.Precision.HIGHEST
    assert lax.Precision("tensorfloat32") is lax.Precision.HIGH
    assert lax.Precision("DEFAULT") is lax.Precision.DEFAULT
    assert lax.canonicalize_precision(("high", "highest")) == (lax.Precision.HIGH, lax.Precision.HIGHEST)
    a, b = RNG.standard_normal((2, 3)), RNG.standard_normal((3, 2))
    for fn in (fnp.dot, fnp.matmul, fnp.inner, fnp.vdot):
        rhs = b.T if fn is fnp.inner else (a if fn is fnp.vdot else b)
        np.testing.assert_allclose(fn(a, rhs, precision="highest"), fn(a, rhs))
    np.testing.assert_allclose(fnp.tensordot(a, b, 1, precision=lax.Precision.HIGH), a @ b)
    np.testing.assert_allclose(fnp.einsum("ij,jk->ik", a, b, precision=("high", "high")), a @ b)
    with pytest.raises(ValueError, match="precision must be None.*'highest'"):
        fnp.matmul(a, b, precision="fast")
    with pytest.raises(ValueError, match="precision must be"):
        lax.dot(a, b, precision=3)


def test_stop_gradient_and_the_conv_pointer():
    assert float(ft.grad(lambda x: x * lax.stop_gradient(x))(3.0)) == 3.0
    tree = lax.stop_gradient({"a": np.ones(2), "b": 1.0})
    assert tree["b"] == 1.0
    with pytest.raises(NotImplementedError, match="nn.Conv1d / nn.Conv2d"):
        lax.conv_general_dilated(np.ones((1, 1, 4)), np.ones((1, 1, 2)), (1,), "VALID")


def test_round_ties_to_even_only():
    np.testing.assert_array_equal(lax.round(np.array([0.5, 1.5, -2.5]), 1), [0.0, 2.0, -2.0])
    with pytest.raises(NotImplementedError, match="rounding_method=1"):
        lax.round(np.array([0.5]))
