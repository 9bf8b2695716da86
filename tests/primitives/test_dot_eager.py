"""The short paths of a product's eager differentiation give the general paths' answers: the
JVP rule that records the tangent products with the primal product's shape and dtype, the
direct transpose of matrix products of NumPy values, the one dimension-number object of a
matrix product, and ``fnp.matmul``'s short path for two matrices under a transformation.

Values are compared exactly with the same derivative computed with debug_nans on (every
direct path of the recording and of the backward pass off), derivatives against finite
differences on both backends, and the recorded equations against the shape rule.
"""
from __future__ import annotations

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans.core.ir import Var
from functrans.interpreters.linearize import linearize_flat
from functrans.primitives.dot import MATMUL_2D, dot_general, dot_general_p
from functrans.testing import check_grads

from direct_paths import assert_same_bits, general

#: (x's shape, y's shape, dimension numbers): matrix products and the other products that
#: contract x's dimension 1 with y's dimension 0 (the same dimension numbers as ``x @ w``).
PRODUCTS = [
    ((4, 3), (3, 5), MATMUL_2D),                      # x @ w
    ((4, 3), (3,), MATMUL_2D),                        # a matrix times a vector
    ((2, 3, 4), (3, 5), MATMUL_2D),                   # 3-d x: no matrix product
    ((4, 3), (3, 2, 5), MATMUL_2D),                   # 3-d y: no matrix product
    ((3, 4), (3, 5), (((0,), (0,)), ((), ()))),       # h.T @ d
    ((4, 5), (3, 5), (((1,), (1,)), ((), ()))),       # d @ w.T
    ((3,), (3,), (((0,), (0,)), ((), ()))),           # two vectors: a NumPy scalar
    ((2, 4, 3), (2, 3, 5), (((2,), (1,)), ((0,), (0,)))),  # batched
]




def _operands(backend, x_shape, y_shape, dtype=np.float64):
    rng = np.random.default_rng(len(x_shape) * 10 + len(y_shape))
    return backend.put((rng.standard_normal(x_shape).astype(dtype),
                        rng.standard_normal(y_shape).astype(dtype)))


@pytest.mark.parametrize("x_shape, y_shape, dims", PRODUCTS)
def test_derivatives_agree_with_the_general_paths(backend, x_shape, y_shape, dims):
    x, y = _operands(backend, x_shape, y_shape)
    f = lambda x, y: fnp.sum(fnp.tanh(dot_general(x, y, dims)) ** 2)
    for argnums in ((0, 1), 0, 1):
        g = ft.value_and_grad(f, argnums=argnums)
        assert_same_bits(backend.get(g(x, y)), backend.get(general(g, x, y)))
    t = _operands(backend, x_shape, y_shape)
    assert_same_bits(backend.get(ft.jvp(f, (x, y), t)), backend.get(general(ft.jvp, f, (x, y), t)))
    check_grads(lambda x, y: dot_general(x, y, dims), (x, y), order=2)


@pytest.mark.parametrize("x_dtype, y_dtype", [(np.float32, np.float32), (np.float32, np.float64),
                                              (np.float64, np.float32)])
def test_a_layer_in_float32_and_mixed_dtypes(backend, x_dtype, y_dtype):
    rng = np.random.default_rng(3)
    h = backend.put(rng.standard_normal((6, 4)).astype(x_dtype))
    w = backend.put(rng.standard_normal((4, 3)).astype(y_dtype))
    f = lambda h, w: fnp.sum(fnp.tanh(h @ w) * (h @ w))
    g = ft.grad(f, argnums=(0, 1))
    gh, gw = g(h, w)
    assert gh.dtype == x_dtype and gw.dtype == y_dtype  # each cotangent in its input's dtype
    assert_same_bits(backend.get((gh, gw)), backend.get(general(g, h, w)))
    if x_dtype == y_dtype == np.float32:
        check_grads(f, (h, w), order=1, rtol=2e-2, atol=2e-2)


def test_the_recorded_products_have_the_shape_rules_shapes_and_dtypes():
    rng = np.random.default_rng(4)
    for x_shape, y_shape, dims in PRODUCTS:
        x, y = rng.standard_normal(x_shape), rng.standard_normal(y_shape).astype(np.float32)
        _, program = linearize_flat(lambda args: [dot_general(args[0], args[1], dims)], [x, y], "test")
        products = [e for e in program.eqns if e.prim is dot_general_p]
        assert len(products) == 2
        for eqn in products:
            shape, dtype = dot_general_p.shape_rule(*eqn.args, **eqn.params)
            (out,) = eqn.outs
            assert type(out) is Var and tuple(out.shape) == tuple(shape) and out.dtype is dtype
            assert eqn.params == {"dimension_numbers": dims}


def test_nested_and_batched_derivatives_of_a_layer(backend):
    rng = np.random.default_rng(5)
    h, w = backend.put((rng.standard_normal((3, 4)), rng.standard_normal((4, 2))))
    f = lambda h, w: fnp.sum(fnp.sin(h @ w))
    check_grads(f, (h, w), order=2)  # (grad of grad: the products of an outer transformation)
    hvp = ft.jvp(ft.grad(f, argnums=1), (h, w), (h, w))[1]
    assert_same_bits(backend.get(hvp), backend.get(general(lambda: ft.jvp(ft.grad(f, argnums=1), (h, w), (h, w))[1])))
    per_row = ft.vmap(ft.grad(lambda row, w: fnp.sum(fnp.sin(row[None, :] @ w)), argnums=1),
                      in_axes=(0, None))(h, w)
    for i in range(3):
        expected = ft.grad(lambda w: fnp.sum(fnp.sin(h[i:i + 1] @ w)))(w)
        np.testing.assert_allclose(backend.get(per_row[i]), backend.get(expected), rtol=1e-12, atol=1e-14)
    jitted = ft.jit(ft.grad(f, argnums=(0, 1)))(h, w)
    for a, b in zip(jitted, ft.grad(f, argnums=(0, 1))(h, w)):
        np.testing.assert_allclose(backend.get(a), backend.get(b), rtol=1e-12, atol=1e-14)


def test_matmul_of_two_matrices_under_a_transformation(backend):
    x, w = _operands(backend, (4, 3), (3, 2))
    f = lambda x, w: fnp.sum((x @ w) * (w.T @ x.T).T)
    g = ft.grad(f, argnums=(0, 1))
    assert_same_bits(backend.get(g(x, w)), backend.get(general(g, x, w)))
    check_grads(f, (x, w), order=2)
    program = ft.make_jaxpr(lambda x, w: fnp.matmul(x, w))(x, w)
    assert "dot_general" in str(program)
    (eqn,) = [e for e in program.eqns if e.prim is dot_general_p]
    assert eqn.params["dimension_numbers"] is MATMUL_2D


@pytest.mark.parametrize("a_shape, b_shape", [((4, 3), (4, 2)), ((4, 3), (2, 3))])
def test_matmul_refuses_mismatched_matrices_under_a_transformation(a_shape, b_shape):
    with pytest.raises(ValueError, match="core dimension"):
        ft.grad(lambda a: fnp.sum(a @ np.ones(b_shape)))(np.ones(a_shape))
    with pytest.raises(ValueError, match="core dimension"):
        ft.grad(lambda b: fnp.sum(np.ones(a_shape) @ b))(np.ones(b_shape))


def test_matmul_of_a_tracer_and_a_scalar_is_refused():
    with pytest.raises(ValueError, match="0-dimensional"):
        ft.grad(lambda a: fnp.sum(fnp.matmul(a, 2.0)))(np.ones((2, 2)))


def test_the_dimension_numbers_of_a_matrix_product_are_one_object():
    x = np.ones((2, 3))
    for dims in (MATMUL_2D, (((1,), (0,)), ((), ())), [[[1], [0]], [[], []]],
                 (((np.int64(1),), (np.int64(0),)), ((), ()))):
        program = ft.make_jaxpr(lambda a, dims=dims: dot_general(a, np.ones((3, 4)), dims))(x)
        (eqn,) = program.eqns
        assert eqn.params["dimension_numbers"] is MATMUL_2D
