"""The public transformations give a right answer or a clear error: repeated or mistyped
argnums, values converted to Python numbers inside a derivative, complex values where real
ones are expected, tangents of integer primals, outputs that are not arrays, one-element
outputs of grad, custom_vjp called with Python numbers, and pytree mismatches named by key
path."""
from __future__ import annotations

import functools
import math

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
    with pytest.raises(errors.TangentMismatchError, match="linear_transpose.*: cotangent has dtype complex128"):
        f_t(np.ones(2) * 1j)


@pytest.mark.parametrize("out_dtype, ct_dtype", [(np.float64, np.float32), (np.float32, np.float64),
                                                  (np.float64, np.int64), (np.float32, np.float16)])
def test_cotangent_of_another_dtype_raises_naming_both(out_dtype, ct_dtype):
    # as JAX: a cotangent of another precision would change the gradient's dtype or precision
    x = np.arange(3.0, dtype=out_dtype)
    _, f_vjp = ft.vjp(fnp.sin, x)
    message = (f"the cotangent for the output has dtype {np.dtype(ct_dtype)}, but the value it "
               rf"stands beside has dtype {np.dtype(out_dtype)}.*\.astype\({np.dtype(out_dtype)}\)")
    with pytest.raises(errors.TangentMismatchError, match=message):
        f_vjp(np.ones(3, ct_dtype))
    with pytest.raises(errors.TangentMismatchError, match=message):
        ft.jit(f_vjp)(np.ones(3, ct_dtype))
    with pytest.raises(errors.TangentMismatchError, match=message):
        ft.vmap(f_vjp)(np.ones((2, 3), ct_dtype))
    with pytest.raises(errors.TangentMismatchError, match="dtype float32"):
        ft.vjp(fnp.sin, 1.0)[1](np.float32(1.0))  # a NumPy scalar keeps its dtype
    f_t = ft.linear_transpose(lambda v: 2 * v, x)
    with pytest.raises(errors.TangentMismatchError, match=f"cotangent has dtype {np.dtype(ct_dtype)}"):
        f_t(np.ones(3, ct_dtype))
    _, f_jvp = ft.linearize(fnp.sin, x)
    with pytest.raises(errors.TangentMismatchError, match=rf"tangents\[0\] has dtype {np.dtype(ct_dtype)}"):
        f_jvp(np.ones(3, ct_dtype))


def test_cotangents_of_the_output_dtype_and_python_scalars_pass():
    _, f_vjp = ft.vjp(fnp.sin, np.float32(1.0))
    assert f_vjp(1.0)[0].dtype == np.float32
    _, f_vjp = ft.vjp(fnp.sin, np.arange(3.0, dtype=np.float32))
    got = f_vjp(np.ones(3, np.float32))[0]
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, np.cos(np.arange(3.0)), rtol=1e-6)
    _, f_vjp = ft.vjp(lambda x: x * (1 + 1j), np.array([2.0], np.float32))
    np.testing.assert_array_equal(f_vjp(np.array([1.0], np.float32))[0], [1.0])


def test_cotangent_of_another_shape_raises_rather_than_broadcasting():
    _, f_vjp = ft.vjp(fnp.sin, np.ones(3))
    with pytest.raises(errors.TangentMismatchError, match=r"has shape \(3, 1\), but the output has shape \(3,\)"):
        f_vjp(np.ones((3, 1)))
    with pytest.raises(errors.TangentMismatchError, match=r"has shape \(1,\)"):
        f_vjp(np.ones(1))
    with pytest.raises(errors.TreeStructureError, match="tuple of length 2 vs list of length 2"):
        ft.vjp(lambda a: (a, a), np.ones(3))[1]([np.ones(3), np.ones(3)])


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
    with pytest.raises(errors.TangentMismatchError, match=r"tangents\[0\]\['b'\]\[1\] has shape \(3,\)"):
        f_jvp({"a": 1.0, "b": [1.0, np.ones(3)]})
    f_t = ft.linear_transpose(lambda x: {"u": x, "v": [x, x]}, np.ones(2))
    with pytest.raises(errors.TangentMismatchError, match=r"cotangent\['v'\]\[0\] has shape \(3,\)"):
        f_t({"u": np.ones(2), "v": [np.ones(3), np.ones(2)]})


def test_grad_argument_errors_name_the_key_path():
    with pytest.raises(errors.InputDtypeError, match=r"argument 0 at \['b'\]\[1\] has dtype int64"):
        ft.grad(lambda p: p["a"])({"a": 1.0, "b": [1.0, np.arange(2)]})
    with pytest.raises(errors.InputDtypeError, match=r"the output at out\['n'\] has dtype int64"):
        ft.jacrev(lambda x: {"x": x, "n": fnp.argmax(x)})(np.ones(2))


# -- Python numbers made from values being differentiated ---------------------------------

def _store_into_numpy(x):
    table = np.zeros(2)
    table[0] = x[0]
    return (x * table).sum()


@pytest.mark.parametrize("fun, what", [
    (lambda x: x * float(x), r"float\(x\)"),
    (lambda x: math.exp(x), r"float\(x\)"),
    (lambda x: x * x.item(), r"x\.item\(\)"),
    (lambda x: x * x.tolist(), r"x\.tolist\(\)"),
    (lambda x: x * complex(x).real, r"complex\(x\)"),
])
def test_python_numbers_from_a_traced_float_raise(fun, what):
    for transform in (ft.grad(fun), lambda x: ft.jvp(fun, (x,), (1.0,)), lambda x: ft.vjp(fun, x)):
        with pytest.raises(errors.DroppedDerivativeError, match=what + ".*fnp.exp.*stop_gradient"):
            transform(2.0)


def test_storing_a_traced_float_into_a_numpy_array_raises():
    with pytest.raises(ValueError) as info:
        ft.grad(_store_into_numpy)(np.ones(2))
    cause = info.value if isinstance(info.value, errors.DroppedDerivativeError) else info.value.__cause__
    assert isinstance(cause, errors.DroppedDerivativeError)
    assert "B[i] = x" in str(cause)


def test_conversions_that_lose_no_derivative_stay_allowed():
    assert float(ft.grad(lambda x: x * float(ft.stop_gradient(x)))(3.0)) == 3.0
    assert float(ft.grad(lambda x: x * ft.stop_gradient(x).item())(np.float64(3.0))) == 3.0
    assert float(ft.grad(lambda x: x * int(x))(2.5)) == 2.0
    assert float(ft.grad(lambda x: x if x > 0 else -x)(-2.0)) == -1.0
    np.testing.assert_array_equal(ft.grad(lambda x: x[int(fnp.argmax(x))])(np.arange(3.0)), [0.0, 0.0, 1.0])
    # a value with a zero tangent (not depending on the input) is a plain array
    assert float(ft.grad(lambda x: x * float(fnp.sin(np.float64(0.5))))(1.0)) == float(np.sin(0.5))
    # a float read from a value traced by an outer transformation but constant for the inner one
    assert float(ft.grad(lambda x: x * float(np.float64(2.0)))(1.0)) == 2.0


def test_integer_values_computed_from_traced_ones_convert_to_python_numbers():
    def f(x, n):
        return x * n.item() + x * float(n) + x * len(n.tolist() if n.ndim else [n.item()])
    y, dy = ft.jvp(lambda x: f(x, fnp.argmax(x * np.ones(3))), (2.0,), (1.0,))
    assert (float(y), float(dy)) == (2.0, 1.0)


# -- custom_vjp with Python numbers -------------------------------------------------------

@ft.custom_vjp
def _product(x, y):
    return x * y


_product.defvjp(lambda x, y: (x * y, (x, y)), lambda res, g: (g * res[1], g * res[0]))


@functools.partial(ft.custom_vjp, nondiff_argnums=(1,))
def _power(x, n):
    return x ** n


_power.defvjp(lambda x, n: (x ** n, (x,)), lambda n, res, g: (g * n * res[0] ** (n - 1),))


def test_custom_vjp_with_python_floats():
    assert float(ft.grad(_product)(2.0, 3.0)) == 3.0
    assert tuple(map(float, ft.grad(_product, argnums=(0, 1))(2.0, 3.0))) == (3.0, 2.0)
    assert float(ft.grad(lambda y: _product(2.0, y))(3.0)) == 2.0
    assert float(ft.jit(ft.grad(_product))(2.0, 3.0)) == 3.0
    out, f_vjp = ft.vjp(_product, 2.0, 3.0)
    assert float(out) == 6.0 and tuple(map(float, f_vjp(1.0))) == (3.0, 2.0)


def test_custom_vjp_with_an_int_as_a_nondiff_argument():
    assert float(ft.grad(lambda x: _power(x, 3))(2.0)) == 12.0
    assert float(ft.grad(_power)(2.0, 3)) == 12.0
    np.testing.assert_array_equal(ft.grad(lambda x: _power(x, 3).sum())(np.array([1.0, 2.0])), [3.0, 12.0])


def test_custom_vjp_with_arrays():
    x, y = np.array([1.0, 2.0]), np.array([3.0, 5.0])
    gx, gy = ft.grad(lambda x, y: _product(x, y).sum(), argnums=(0, 1))(x, y)
    np.testing.assert_array_equal(gx, y)
    np.testing.assert_array_equal(gy, x)
    np.testing.assert_array_equal(ft.vmap(ft.grad(_product))(x, y), y)


def test_hessian_errors_name_hessian():
    """Not the jacfwd inside it, which the caller never wrote."""
    with pytest.raises(errors.InputDtypeError, match=r"^hessian\(<lambda>\) requires float .* argument 1"):
        ft.hessian(lambda x, n: fnp.sum(x ** 2) * n, argnums=(0, 1))(np.ones(2), 3)
