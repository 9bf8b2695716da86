"""The public transformations give a right answer or a clear error: repeated or mistyped
argnums, values converted to Python numbers inside a derivative, complex values where real
ones are expected, tangents of integer primals, outputs that are not arrays, one-element
outputs of grad, custom_vjp called with Python numbers, and pytree mismatches named by key
path."""
from __future__ import annotations

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans import errors

# -- argnums ---------------------------------------------------------------------------

@pytest.mark.parametrize("argnums", [(0, 0), (1, -1), [0, 1, 0]])
def test_repeated_argnums_raise_naming_the_position(argnums):
    position = 0 if argnums[0] == 0 else 1
    with pytest.raises(errors.ArgnumsError, match=f"names positional argument {position} twice"):
        ft.grad(lambda x, y: x * y, argnums=argnums)(2.0, 3.0)


def test_repeated_argnums_raise_in_jacobians_too():
    with pytest.raises(errors.ArgnumsError, match="twice"):
        ft.jacrev(lambda x: x, argnums=(0, 0))(np.ones(2))


@pytest.mark.parametrize("argnums", [1.0, "1", None])
def test_argnums_of_another_type_is_a_clear_error(argnums):
    with pytest.raises(errors.ArgnumsError, match=f"argnums must be an int or a tuple of ints, got {argnums!r}"):
        ft.grad(lambda x, y: x * y, argnums=argnums)(1.0, 2.0)


def test_distinct_argnums_still_work():
    gx, gy = ft.grad(lambda x, y: x * y, argnums=(0, 1))(2.0, 3.0)
    assert (float(gx), float(gy)) == (3.0, 2.0)
    assert float(ft.grad(lambda x, y: x * y, argnums=[-1])(2.0, 3.0)[0]) == 2.0


# -- grad of a one-element output ------------------------------------------------------

@pytest.mark.parametrize("shape", [(1,), (1, 1), (1, 1, 1)])
def test_grad_of_a_one_element_output(shape):
    x = np.full(shape, 3.0)
    g = ft.grad(lambda x: x ** 2)(x)
    np.testing.assert_array_equal(g, np.full(shape, 6.0))
    value, g = ft.value_and_grad(lambda x: x ** 2)(x)
    assert value.shape == shape
    np.testing.assert_array_equal(value, np.full(shape, 9.0))
    np.testing.assert_array_equal(g, np.full(shape, 6.0))


def test_grad_of_a_one_element_output_of_a_vector_input():
    g = ft.grad(lambda x: fnp.sum(x ** 2, keepdims=True))(np.array([1.0, 2.0]))
    np.testing.assert_array_equal(g, [2.0, 4.0])
    g = ft.grad(lambda x: x[:1] * x[1])(np.array([1.0, 2.0]))
    np.testing.assert_array_equal(g, [2.0, 1.0])


def test_grad_of_other_non_scalar_outputs_still_raises():
    with pytest.raises(errors.NonScalarOutputError, match=r"returned an array of shape \(2,\)"):
        ft.grad(lambda x: x * 2)(np.ones(2))
    with pytest.raises(errors.NonScalarOutputError, match=r"shape \(0,\)"):
        ft.grad(lambda x: x[:0])(np.ones(2))


# -- complex values where real ones are expected ------------------------------------------

def test_jacrev_of_a_complex_output_asks_for_holomorphic():
    with pytest.raises(errors.InputDtypeError, match="needs real outputs, but the output has dtype "
                       "complex128.*holomorphic=True"):
        ft.jacrev(lambda x: x * (1 + 1j))(np.array([1.0]))
    with pytest.raises(errors.InputDtypeError, match=r"the output at out\['b'\] has dtype complex128"):
        ft.jacrev(lambda x: {"a": x, "b": x * 1j})(np.array([1.0]))


def test_jacfwd_of_a_complex_input_asks_for_holomorphic():
    with pytest.raises(errors.InputDtypeError, match="needs real inputs, but argument 0 has dtype complex128"):
        ft.jacfwd(lambda z: z * 2)(np.array([1.0 + 1j]))


def test_holomorphic_jacobians():
    z = np.array([1.0 + 2j, -0.5j])
    expected = np.diag(2 * z)
    np.testing.assert_allclose(ft.jacrev(lambda z: z ** 2, holomorphic=True)(z), expected)
    np.testing.assert_allclose(ft.jacfwd(lambda z: z ** 2, holomorphic=True)(z), expected)
    np.testing.assert_allclose(ft.hessian(lambda z: fnp.sum(z ** 3), holomorphic=True)(z), np.diag(6 * z))
    with pytest.raises(errors.InputDtypeError, match="holomorphic=True.*argument 0 has dtype float64"):
        ft.jacrev(lambda z: z * 1j, holomorphic=True)(np.ones(2))
    with pytest.raises(errors.InputDtypeError, match="needs complex outputs, but the output has dtype float64"):
        ft.jacfwd(lambda z: fnp.real(z), holomorphic=True)(z)


def test_real_input_complex_output_jacfwd_and_complex_input_real_output_jacrev_as_in_jax():
    np.testing.assert_array_equal(ft.jacfwd(lambda x: x * (1 + 1j))(np.array([1.0])), [[1 + 1j]])
    np.testing.assert_array_equal(ft.jacrev(lambda z: fnp.abs(z) ** 2)(np.array([1 + 1j])), [[2 - 2j]])


def test_complex_cotangent_for_a_real_output_raises():
    _, f_vjp = ft.vjp(fnp.sin, np.ones(3))
    with pytest.raises(errors.TangentMismatchError, match="the cotangent for the output has "
                       "dtype complex128.*real dtype float64"):
        f_vjp(1j * np.ones(3))
    _, f_vjp = ft.vjp(lambda x: {"b": [x, fnp.sin(x)]}, np.ones(3))
    with pytest.raises(errors.TangentMismatchError, match=r"the output at out\['b'\]\[1\] has dtype complex128"):
        f_vjp({"b": [np.ones(3), 1j * np.ones(3)]})
    f_t = ft.linear_transpose(lambda x: 2 * x, np.ones(2))
    with pytest.raises(errors.TangentMismatchError, match="the cotangent has dtype complex128"):
        f_t(np.ones(2) * 1j)


def test_real_cotangent_for_a_complex_output_is_accepted():
    _, f_vjp = ft.vjp(lambda x: x * (1 + 1j), np.array([2.0]))
    np.testing.assert_array_equal(f_vjp(np.array([1.0]))[0], [1.0])


# -- tangents of integer primals ------------------------------------------------------

def test_float_tangent_for_an_integer_primal_raises_naming_both_dtypes():
    with pytest.raises(errors.TangentMismatchError, match=r"primals\[0\] has the integer "
                       r"dtype int64.*tangent \(dtype float64\)"):
        ft.jvp(lambda a: a * 1.5, (3,), (0.3,))
    with pytest.raises(errors.TangentMismatchError, match=r"primals\[0\]\['b'\]\[1\] has the integer dtype int64"):
        ft.jvp(lambda t: t["b"][0], ({"b": [1.0, np.arange(2)]},), ({"b": [1.0, np.ones(2)]},))
    with pytest.raises(errors.TangentMismatchError, match="tangent \\(dtype int64\\) is not a zero"):
        ft.jvp(lambda a: a * 1.5, (3,), (1,))


def test_zero_integer_tangent_for_an_integer_primal_is_accepted():
    y, dy = ft.jvp(lambda a, b: a * b, (3, 2.0), (0, 1.0))
    assert (float(y), float(dy)) == (6.0, 3.0)
    y, dy = ft.jvp(lambda a: a * 1.5, (np.arange(3),), (np.zeros(3, int),))
    np.testing.assert_array_equal(y, [0.0, 1.5, 3.0])
    np.testing.assert_array_equal(dy, np.zeros(3))


# -- outputs that are not arrays ------------------------------------------------------

def test_jvp_of_a_function_returning_a_string_is_a_type_error():
    with pytest.raises(TypeError, match="jvp.*the output is a str; transformations "
                       "differentiate outputs that are arrays"):
        ft.jvp(lambda x: "a", (1.0,), (1.0,))
    with pytest.raises(TypeError, match=r"the output at out\['b'\]\[1\] is a str"):
        ft.jvp(lambda x: {"b": [x, "a"]}, (1.0,), (1.0,))
    with pytest.raises(TypeError, match=r"vjp.*the output at out\[1\] is a object"):
        ft.vjp(lambda x: (x, object()), 1.0)
    with pytest.raises(TypeError, match="linearize.*the output is a str"):
        ft.linearize(lambda x: "a", 1.0)


# -- pytree mismatches name the key path ----------------------------------------------

def test_jvp_tangent_mismatches_name_the_key_path():
    primals = ({"a": 1.0, "b": [np.ones(2), np.ones(3)]},)
    with pytest.raises(errors.TangentMismatchError, match=r"primals\[0\]\['b'\]\[1\] has shape \(2,\)"):
        ft.jvp(lambda p: p["a"], primals, ({"a": 1.0, "b": [np.ones(2), np.ones(2)]},))
    with pytest.raises(errors.TangentMismatchError, match=r"primals\[0\]\['b'\]\[0\] has dtype float32"):
        ft.jvp(lambda p: p["a"], primals, ({"a": 1.0, "b": [np.ones(2, np.float32), np.ones(3)]},))
    with pytest.raises(errors.TreeStructureError, match=r"\['b'\]"):
        ft.jvp(lambda p: p["a"], primals, ({"a": 1.0, "b": [np.ones(2)]},))


def test_vjp_cotangent_mismatches_name_the_key_path():
    _, f_vjp = ft.vjp(lambda x: {"a": x, "b": [x, 2 * x]}, np.ones(3))
    with pytest.raises(errors.TangentMismatchError, match=r"cotangent for the output at "
                       r"out\['b'\]\[1\] has shape \(2,\)"):
        f_vjp({"a": np.ones(3), "b": [np.ones(3), np.ones(2)]})
    with pytest.raises(errors.TreeStructureError, match=r"\['b'\]"):
        f_vjp({"a": np.ones(3), "b": [np.ones(3)]})


def test_linearize_and_linear_transpose_mismatches_name_the_key_path():
    _, f_jvp = ft.linearize(lambda p: p["a"] * p["b"][1], {"a": 1.0, "b": [1.0, np.ones(2)]})
    with pytest.raises(errors.TangentMismatchError, match=r"the tangent at \[0\]\['b'\]\[1\] has shape \(3,\)"):
        f_jvp({"a": 1.0, "b": [1.0, np.ones(3)]})
    f_t = ft.linear_transpose(lambda x: {"u": x, "v": [x, x]}, np.ones(2))
    with pytest.raises(errors.TangentMismatchError, match=r"the cotangent at \['v'\]\[0\] has shape \(3,\)"):
        f_t({"u": np.ones(2), "v": [np.ones(3), np.ones(2)]})


def test_grad_argument_errors_name_the_key_path():
    with pytest.raises(errors.InputDtypeError, match=r"argument 0 at \['b'\]\[1\] has dtype int64"):
        ft.grad(lambda p: p["a"])({"a": 1.0, "b": [1.0, np.arange(2)]})
    with pytest.raises(errors.InputDtypeError, match=r"the output at out\['n'\] has dtype int64"):
        ft.jacrev(lambda x: {"x": x, "n": fnp.argmax(x)})(np.ones(2))
