"""Forward mode's fast paths give the rules' answers: registrar rules called on unpacked
(primal, tangent) pairs, a rule replaced after registration, rules declared None, tangents
passed through from one operand of a broadcasting primitive, parameters, and primitives
applied to host scalars, arrays of either backend, and tracers of outer transformations."""
import numpy as np
import pytest

import functrans as ft
from functrans.core.primitive import Primitive
from functrans.primitives._define import defjvp, defjvp_with_output, elementwise
from functrans.primitives.elementwise import mul
from functrans.testing import check_grads

# A unary primitive with a parameter, and a binary one whose rules are written per input.
scale_p = elementwise("test_dispatch_scale", lambda x, *, k: k * x)
defjvp(scale_p, lambda t, x, *, k: mul(t, k))
affine_p = elementwise("test_dispatch_affine", lambda x, y: 2.0 * x + 3.0 * y)
defjvp(affine_p, lambda t, x, y: mul(t, 2.0), lambda t, x, y: mul(t, 3.0), broadcast=True)
left_p = elementwise("test_dispatch_left", lambda x, y: x * 1.0 + 0.0 * y)
defjvp(left_p, lambda t, x, y: t, None)
square_p = elementwise("test_dispatch_square", lambda x: x * x)
defjvp_with_output(square_p, lambda t, out, x: mul(t, mul(2.0, x)))


def test_unary_rule_with_a_parameter(backend):
    x = backend.put(np.array([1.0, -2.0]))
    g = ft.grad(lambda x: scale_p.bind(x, k=3.0).sum())(x)
    np.testing.assert_allclose(backend.get(g), [3.0, 3.0])
    check_grads(lambda x: scale_p.bind(x, k=3.0), (x,), order=2)


def test_binary_rule_broadcasts_a_passed_through_tangent(backend):
    x, y = backend.put(np.array([1.0, 2.0])), backend.put(np.array([[1.0], [2.0], [3.0]]))
    _, t = ft.jvp(lambda x, y: affine_p.bind(x, y), (x, y), (backend.put(np.ones(2)), backend.put(np.zeros((3, 1)))))
    assert t.shape == (3, 2)
    np.testing.assert_allclose(backend.get(t), np.full((3, 2), 2.0))
    gx, gy = ft.grad(lambda x, y: affine_p.bind(x, y).sum(), argnums=(0, 1))(x, y)
    np.testing.assert_allclose(backend.get(gx), [6.0, 6.0])
    np.testing.assert_allclose(backend.get(gy), [[6.0], [6.0], [6.0]])


@pytest.mark.parametrize("other", [2, 2.0, np.float32(2.0)])
def test_binary_rule_with_a_scalar_operand_keeps_the_dtype(other):
    x = np.ones(3, np.float32)
    _, t = ft.jvp(lambda x: affine_p.bind(x, other), (x,), (np.ones(3, np.float32),))
    assert t.dtype == np.float32 and t.shape == (3,)


def test_a_rule_declared_none_gives_no_derivative():
    gx, gy = ft.grad(lambda x, y: left_p.bind(x, y), argnums=(0, 1))(1.5, 2.5)
    assert float(gx) == 1.0 and float(gy) == 0.0


def test_rule_with_output_at_second_order():
    assert float(ft.grad(ft.grad(square_p.bind))(3.0)) == 2.0


def test_a_rule_replaced_after_registration_is_the_one_used():
    p = elementwise("test_dispatch_replaced", lambda x: 2.0 * x)
    defjvp(p, lambda t, x: mul(t, 2.0))
    assert float(ft.grad(p.bind)(1.0)) == 2.0

    def wrong_on_purpose(primals, tangents):
        (x,), (t,) = primals, tangents
        return p.bind(x), mul(t, 5.0)

    p.jvp = wrong_on_purpose
    assert float(ft.grad(p.bind)(1.0)) == 5.0


def test_rules_see_outer_tracers_under_nesting(backend):
    x = backend.put(np.array([0.5, 1.5]))
    hvp = ft.jvp(ft.grad(lambda x: (affine_p.bind(square_p.bind(x), x) * 1.0).sum()),
                 (x,), (backend.put(np.ones(2)),))[1]
    np.testing.assert_allclose(backend.get(hvp), [4.0, 4.0])


def test_a_primitive_without_rules_says_so():
    p = Primitive("test_dispatch_no_rule")
    p.impl = lambda x: x
    p.shape_rule = lambda x: (x.shape, x.dtype)
    with pytest.raises(NotImplementedError, match="test_dispatch_no_rule"):
        ft.grad(p.bind)(1.0)
