"""How the NumPy-parity functions of functrans.numpy behave under transformations: the
ones whose results have fixed shapes work under jit and vmap and agree with the eager call;
the ones whose result shapes depend on values raise an error that says so and names the fix;
NumPy's in-place writers and error settings keep NumPy's behaviour on NumPy arrays."""
from __future__ import annotations

import functools
import inspect
import operator

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans import errors
from functrans.testing import check_grads

RNG = np.random.default_rng(0)


@pytest.mark.parametrize("fn, args", [
    (lambda x, y: fnp.isin(x, y), (np.array([1.0, 2.0, 4.0]), np.array([4.0, 1.0]))),
    (lambda p, x: fnp.polyval(p, x), (RNG.standard_normal(4), RNG.standard_normal(3))),
    (lambda x, y: fnp.polyfit(x, y, 2), (np.arange(5.0), RNG.standard_normal(5))),
    (lambda a, v: fnp.convolve(a, v, "same"), (RNG.standard_normal(5), RNG.standard_normal(3))),
    (lambda a, v: fnp.correlate(a, v, "full"), (RNG.standard_normal(4), RNG.standard_normal(3))),
    (lambda x: fnp.interp(x, np.array([0.0, 1.0, 3.0]), np.array([0.0, 2.0, 0.0])), (RNG.uniform(-1, 4, 6),)),
    (lambda x: fnp.histogram(x, 3, range=(-1.0, 1.0))[0], (RNG.standard_normal(8),)),
    (lambda x: fnp.digitize(x, np.array([-1.0, 0.0, 1.0])), (RNG.standard_normal(5),)),
    (lambda x: fnp.unwrap(x), (np.cumsum(RNG.standard_normal(6) * 3),)),
    (lambda x: fnp.cov(x), (RNG.standard_normal((2, 5)),)),
    (lambda x: fnp.trapezoid(x, dx=0.5), (RNG.standard_normal(5),)),
    (lambda b: fnp.kaiser(5, b), (np.array(2.5),)),
    (lambda x: fnp.gcd(x, 6), (np.array([4, 9, 12]),)),
    (lambda x: fnp.frexp(x)[0], (RNG.standard_normal(4),)),
    (lambda x: fnp.unravel_index(x, (3, 4))[1], (np.array([0, 5, 11]),)),
    (lambda x: fnp.piecewise(x, [x < 0], [lambda v: -v, lambda v: v * v]), (RNG.standard_normal(5),)),
    (lambda x: fnp.vectorize(lambda a: fnp.where(a > 0, a, 0.0))(x), (RNG.standard_normal((2, 3)),)),
    (lambda x: fnp.apply_along_axis(fnp.sum, 1, x), (RNG.standard_normal((2, 3)),)),
    (lambda x: fnp.fill_diagonal(x, 0.0, inplace=False), (RNG.standard_normal((3, 3)),)),
    (lambda p: fnp.roots(p, strip_zeros=False), (np.array([1.0, -3.0, 2.0]),)),
])
def test_fixed_shape_functions_agree_under_jit_and_vmap(fn, args):
    eager = fn(*args)
    np.testing.assert_allclose(ft.jit(fn)(*args), eager, rtol=1e-12, atol=1e-12)
    batched = ft.vmap(fn)(*(np.stack([a, a]) for a in args))
    np.testing.assert_allclose(batched[1], eager, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("fn, arg, fix", [
    (lambda x: fnp.intersect1d(x, x[:1]), np.arange(3.0), "outside jit"),
    (lambda x: fnp.setdiff1d(x, x[:1]), np.arange(3.0), "outside jit"),
    (lambda x: fnp.setxor1d(x, x[:1]), np.arange(3.0), "outside jit"),
    (lambda x: fnp.union1d(x, x[:1]), np.arange(3.0), "Pass size=n"),
    (lambda p: fnp.roots(p), np.array([1.0, -3.0, 2.0]), "strip_zeros=False"),
    (lambda u: fnp.polydiv(u, np.array([1.0, 1.0]))[1], np.array([1.0, 0.0, -1.0]), "outside jit"),
    (lambda x: fnp.bincount(x), np.array([0, 1, 1]), "pass length=n"),
    (lambda x: fnp.argwhere(x), np.array([0.0, 1.0]), "Pass size=n"),
    (lambda x: fnp.trim_zeros(x), np.array([0.0, 1.0]), "outside the transformation"),
    (lambda x: fnp.extract(x > 0, x), np.array([0.0, 1.0]), "Pass size=n"),
    (lambda x: fnp.delete(np.arange(3.0), x), np.array(1), "static"),
    (lambda x: fnp.ravel_multi_index((x,), (3,)), np.array([1]), "mode='wrap'"),
    (lambda x: fnp.asarray_chkfinite(x), np.ones(2), "debug_nans"),
])
def test_value_dependent_shapes_under_jit_say_why_and_how(fn, arg, fix):
    with pytest.raises(errors.FunctransError, match=fix):
        ft.jit(fn)(arg)
    fn(arg)  # eagerly (and under grad, where values exist) it works


def test_set_routines_differentiate_through_the_values_they_return():
    a, b = np.array([3.0, 1.0, 2.0]), np.array([2.0, 5.0])
    g = ft.grad(lambda a: fnp.sum(fnp.intersect1d(a, b)) * 10 + fnp.sum(fnp.setdiff1d(a, b)))(a)
    np.testing.assert_array_equal(g, [1.0, 1.0, 10.0])
    g = ft.grad(lambda b: fnp.sum(fnp.union1d(a, b) ** 2))(b)
    np.testing.assert_array_equal(g, [0.0, 10.0])  # 2.0 is a's (its first occurrence)


def test_windows_refuse_a_traced_length():
    with pytest.raises(TypeError, match="static"):
        ft.jit(lambda m: fnp.hanning(m))(5)


def test_in_place_writers_write_numpy_arrays_and_refuse_tracers():
    a = np.zeros((2, 2))
    assert fnp.fill_diagonal(a, 1.0) is None and a.tolist() == [[1.0, 0.0], [0.0, 1.0]]
    assert fnp.put(a, [1], [5.0]) is None and a[0, 1] == 5.0
    assert fnp.place(a, a == 0, [7.0]) is None and a[1, 0] == 7.0
    with pytest.raises(errors.InPlaceUpdateError, match="inplace=False"):
        ft.grad(lambda x: fnp.sum(fnp.fill_diagonal(x, 0.0)))(np.ones((2, 2)))
    g = ft.grad(lambda x, v: fnp.sum(fnp.put(x, [0, 3], v, inplace=False) ** 2), argnums=1)(np.ones((2, 2)), 3.0)
    assert float(g) == 12.0


def test_errstate_covers_eager_and_differentiated_code_and_a_jitted_call():
    zero = np.zeros(())
    with fnp.errstate(divide="raise"):
        with pytest.raises(FloatingPointError):
            fnp.log(zero)
        with pytest.raises(FloatingPointError):
            ft.grad(fnp.log)(zero)
        with pytest.raises(FloatingPointError):
            ft.jit(fnp.log)(zero)
    with fnp.errstate(divide="ignore"):
        assert fnp.log(zero) == -np.inf
    old = fnp.seterr(all="ignore")
    try:
        assert fnp.geterr()["divide"] == "ignore" and isinstance(fnp.errstate(), np.errstate)
    finally:
        fnp.seterr(**old)


def test_vectorize_refuses_a_signature_with_the_way_out():
    with pytest.raises(errors.UnsupportedError, match="vmap"):
        fnp.vectorize(lambda x: x, signature="(n)->()")


def test_polyfit_refuses_full_and_cov_by_name():
    with pytest.raises(errors.UnsupportedError, match="numpy.polyfit"):
        fnp.polyfit(np.arange(3.0), np.arange(3.0), 1, full=True)


def test_roots_without_stripping_match_numpy_for_a_nonzero_leading_coefficient():
    p = np.array([2.0, -3.0, -5.0, 6.0])
    np.testing.assert_allclose(np.sort_complex(fnp.roots(p, strip_zeros=False)), np.sort_complex(np.roots(p)))
    np.testing.assert_allclose(np.sort_complex(fnp.roots(np.array([0.0, 1.0, -1.0, 0.0]))),
                               np.sort_complex(np.roots(np.array([0.0, 1.0, -1.0, 0.0]))))


@pytest.mark.parametrize("name, x1, x2", [
    ("power", -8.0, 1 / 3), ("power", 2.0, 0.5), ("power", 2, 3), ("power", 1j, 2.0),
    ("divide", 1, 0), ("divide", -1.0, 0.0), ("true_divide", 0.0, 0.0), ("floor_divide", 7, -2),
    ("remainder", -7.5, 2), ("add", 1, 2.5), ("multiply", True, 3), ("arctan2", 0.0, -0.0),
    ("maximum", 1, 2.5),
])
def test_functions_of_two_python_numbers_give_numpys_values(name, x1, x2):
    # Python's operators differ from NumPy's on numbers: (-8.0) ** (1/3) is complex, 1 / 0 raises
    with np.errstate(all="ignore"):
        want = getattr(np, name)(x1, x2)
        got = getattr(fnp, name)(x1, x2)
        jitted = ft.jit(lambda a, b: getattr(fnp, name)(a, b))(x1, x2)  # traced Python numbers
    assert type(got) is type(want) and type(jitted) is type(want)
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(jitted, want)


@pytest.mark.parametrize("op, x1, x2", [
    (operator.pow, -8.0, 1 / 3), (operator.truediv, 1.0, 4.0), (operator.add, 1, 2), (operator.lt, 1.0, 2.0),
    (operator.mul, True, 3), (operator.floordiv, 7.5, 2), (operator.mod, -7, 3),
])
def test_operators_of_traced_python_numbers_keep_pythons_rules(op, x1, x2):
    # the function without jit applies the operator to the numbers themselves
    want = op(x1, x2)
    got = ft.jit(lambda a, b: op(a, b))(x1, x2)
    assert got == want and np.asarray(got).dtype == np.asarray(want).dtype
    # so a ratio of two Python floats still leaves a float32 array float32, as without jit
    x32 = np.ones(2, np.float32)
    assert ft.jit(lambda x, a, b: x * (a / b))(x32, 0.1, 2.0).dtype == np.float32


def test_power_of_python_ints_to_a_negative_power_raises_as_numpy():
    with pytest.raises(ValueError, match="negative integer powers"):
        fnp.power(2, -1)


def test_clip_takes_its_bounds_by_numpy_2s_and_jaxs_names():
    x = np.array([-2.0, 0.25, 0.5, 3.0])
    np.testing.assert_array_equal(fnp.clip(x, min=0.0), np.clip(x, min=0.0))
    np.testing.assert_array_equal(ft.jit(lambda v: fnp.clip(v, max=0.3))(x), np.clip(x, max=0.3))
    np.testing.assert_array_equal(ft.jit(lambda v: fnp.clip(v, min=0.0, max=1.0))(x), [0.0, 0.25, 0.5, 1.0])
    assert ft.grad(lambda v: fnp.sum(fnp.clip(v, min=0.0, max=1.0) * v))(x).tolist() == [0.0, 0.5, 1.0, 1.0]
    with pytest.raises(TypeError, match="both a_min and min"):
        fnp.clip(x, 0.0, min=0.0)
    with pytest.raises(TypeError, match="both a_max and max"):
        fnp.clip(x, None, 1.0, max=1.0)


@pytest.mark.parametrize("make", [
    lambda n: fnp.zeros(n), lambda n: fnp.ones(n), lambda n: fnp.empty(n), lambda n: fnp.full(n, 1.0),
    lambda n: fnp.eye(n), lambda n: fnp.identity(n),
], ids=["zeros", "ones", "empty", "full", "eye", "identity"])
def test_a_traced_size_for_an_array_maker_names_the_argument_and_static_argnums(make):
    # NumPy turned the error into "expected a sequence of integers ..., got 'Var(...)'"
    with pytest.raises(errors.TracerConversionError, match=r"argument 0 \(n\), a Python int.*static_argnums"):
        ft.jit(make)(3)
    assert ft.jit(make, static_argnums=0)(3).shape[0] == 3


@pytest.mark.parametrize("fn, args", [
    (lambda s: fnp.arange(s), (5,)),
    (lambda s: fnp.arange(0.0, s, 0.5), (np.float64(2.0),)),
])
def test_arange_with_traced_bounds_says_they_decide_its_length(fn, args):
    for transform in (ft.jit, ft.vmap):
        call_args = args if transform is ft.jit else tuple(np.stack([a, a]) for a in args)
        with pytest.raises(errors.TracerConversionError, match=r"fnp.arange needs the values.*static_argnums.*"
                                                               r"start \+ step \* fnp.arange\(n\)"):
            transform(fn)(*call_args)
    assert float(ft.grad(lambda s: fnp.sum(fnp.arange(4.0) * s))(2.0)) == 6.0


@pytest.mark.parametrize("name", ["concatenate", "stack"])
def test_concatenate_and_stack_take_a_dtype_as_numpy_and_jax(name):
    parts = [np.array([1.5, 2.0]), np.array([3, 4])]
    want = getattr(np, name)(parts, dtype=np.float32)
    for got in (getattr(fnp, name)(parts, dtype=np.float32),
                ft.jit(lambda a, b: getattr(fnp, name)([a, b], dtype=np.float32))(*parts)):
        assert got.dtype == np.float32
        np.testing.assert_array_equal(got, want)
    g = ft.grad(lambda a: fnp.sum(getattr(fnp, name)([a, a], dtype=np.float32)))(parts[0])
    assert g.dtype == np.float64 and g.tolist() == [2.0, 2.0]



@pytest.mark.parametrize("name", ["left_shift", "right_shift", "bitwise_and", "bitwise_or",
                                  "bitwise_xor", "gcd", "lcm"])
@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.int32])
def test_bitwise_functions_keep_the_arrays_integer_dtype_beside_a_python_int(name, dtype):
    x = np.arange(1, 5, dtype=dtype)
    fn, ref = getattr(fnp, name), getattr(np, name)
    results = {"eager": fn(x, 2), "eager, number first": fn(3, x), "jit": ft.jit(fn)(x, 2),
               "vmap": ft.vmap(lambda r: fn(r, 2))(x)}
    expected = {"eager": ref(x, 2), "eager, number first": ref(3, x), "jit": ref(x, 2),
                "vmap": ref(x, 2)}
    for how, got in results.items():
        assert got.dtype == dtype, how
        np.testing.assert_array_equal(got, expected[how])


def test_a_python_int_out_of_the_arrays_range_raises_as_numpy():
    with pytest.raises(OverflowError, match="out of bounds for uint8"):
        fnp.left_shift(np.arange(3, dtype=np.uint8), 300)


def test_argsort_of_ties_is_stable_eagerly_as_under_jit():
    x = np.random.default_rng(0).integers(0, 3, 600)
    expected = np.argsort(x, stable=True)
    np.testing.assert_array_equal(fnp.argsort(x), expected)
    np.testing.assert_array_equal(ft.jit(fnp.argsort)(x), expected)


@pytest.mark.parametrize("axis", [0, -1, None])
def test_sort_and_argsort_descending_as_jax(axis):
    x = np.array([[1.0, 3.0, 1.0, np.nan], [2.0, 2.0, 0.0, 2.0]])
    # JAX's answers: from the top, NaN first, ties in their original order.
    expected_order = {0: [[1, 0, 0, 0], [0, 1, 1, 1]], -1: [[3, 1, 0, 2], [0, 1, 3, 2]],
                      None: [3, 1, 4, 5, 7, 0, 2, 6]}[axis]
    for how in (lambda f: f, ft.jit):
        order = how(lambda a: fnp.argsort(a, axis=axis, descending=True))(x)
        np.testing.assert_array_equal(order, expected_order)
        values = how(lambda a: fnp.sort(a, axis=axis, descending=True))(x)
        flat = x.ravel() if axis is None else x
        np.testing.assert_array_equal(values, np.take_along_axis(flat, np.asarray(expected_order),
                                                                 0 if axis is None else axis))
    rows = ft.vmap(lambda r: fnp.argsort(r, descending=True))(x)
    np.testing.assert_array_equal(rows, [[3, 1, 0, 2], [0, 1, 3, 2]])
    grad = ft.grad(lambda a: fnp.sort(a, descending=True)[0] + 2 * fnp.sort(a, descending=True)[1])
    np.testing.assert_array_equal(grad(np.array([1.0, 3.0, 2.0])), [0.0, 1.0, 2.0])


def test_astype_copies_by_default_and_takes_the_array_api_keywords():
    x = np.ones(3, np.float32)
    y = fnp.astype(x, np.float32)
    y[0] = 5.0
    assert x[0] == 1.0  # NumPy's copy=True: the result is a new array
    assert fnp.astype(x, np.float32, copy=False) is x
    z = fnp.astype(x, np.float64, device="cpu")
    assert z.dtype == np.float64 and type(z) is np.ndarray
    assert ft.grad(lambda a: fnp.astype(a, np.float64, copy=False).sum())(x).tolist() == [1.0] * 3


@pytest.mark.parametrize("name, args", [
    ("add", (np.ones(3), 1.0)), ("multiply", (np.ones(3), np.ones(3))), ("exp", (np.ones(3),)),
    ("sqrt", (np.ones(3),)), ("sum", (np.ones(3),)), ("prod", (np.ones(3),)), ("max", (np.ones(3),)),
    ("min", (np.ones(3),)), ("all", (np.ones(3),)), ("any", (np.ones(3),)), ("nansum", (np.ones(3),)),
    ("nanmax", (np.ones(3),)), ("mean", (np.ones(3),)), ("var", (np.ones(3),)), ("std", (np.ones(3),)),
    ("nanmean", (np.ones(3),)), ("cumsum", (np.ones(3),)), ("cumprod", (np.ones(3),)),
    ("clip", (np.ones(3), 0.0, 0.5)), ("round", (np.ones(3),)),
    ("matmul", (np.ones((3, 3)), np.ones(3))), ("dot", (np.ones((3, 3)), np.ones(3))),
    # functions functrans writes by hand refuse it the same way
    ("median", (np.ones(3),)), ("nanmedian", (np.ones(3),)),
    ("quantile", (np.ones(3), 0.5)), ("nanpercentile", (np.ones(3), 50)), ("take", (np.ones(3), 0)),
    ("choose", (np.array([0, 0, 0]), [np.ones(3)])), ("argmax", (np.ones(3),)),
    ("concatenate", ([np.ones(3)],)), ("trace", (np.ones((3, 3)),)), ("square", (np.ones(3),)),
    ("fft.rfft", (np.ones(4),)), ("linalg.multi_dot", ([np.eye(3), np.ones(3)],)),
    ("add.reduce", (np.ones((2, 3)),)),
])
def test_out_is_refused_with_the_way_to_use_the_result(name, args):
    target = np.zeros(3)
    fn = functools.reduce(getattr, name.split("."), fnp)
    with pytest.raises(NotImplementedError, match=rf"fnp\.{name} does not take out=.*out\[\.\.\.\] = fnp\.{name}"):
        fn(*args, out=target)
    assert not target.any()
    with pytest.raises(NotImplementedError, match="does not take out="):
        ft.jit(lambda x: fn(x, *args[1:], out=target))(args[0])


@pytest.mark.parametrize("name, args", [("sum", ()), ("max", ()), ("argmin", ()), ("cumsum", ()), ("std", ()),
                                        ("clip", (0.0, 1.0)), ("round", ()), ("dot", (np.ones(3),)),
                                        ("take", (np.array([0]),)), ("any", ())])
def test_a_traced_arrays_methods_refuse_out_as_the_functions_do(name, args):
    target = np.zeros(3)
    with pytest.raises(NotImplementedError, match=rf"x\.{name} does not take out=.*out\[\.\.\.\] = x\.{name}"):
        ft.jit(lambda x: getattr(x, name)(*args, out=target))(np.ones(3))
    assert not target.any()


@pytest.mark.parametrize("name, args", [("sinc", (np.ones(3),)), ("linalg.det", (np.eye(3),)),
                                        ("reshape", (np.ones(3), (3, 1)))])
def test_out_where_numpy_takes_none_is_the_same_type_error(name, args):
    for module in (np, fnp):
        with pytest.raises(TypeError, match="unexpected keyword argument 'out'"):
            functools.reduce(getattr, name.split("."), module)(*args, out=np.zeros(3))


def test_every_function_numpy_gives_out_takes_out_to_refuse_it():
    """out= is refused with the way to use the result, never a bare TypeError, wherever NumPy's
    namesake takes out=; the others keep NumPy's signature (and no wrapper's cost)."""
    for module, numpy_module in ((fnp, np), (fnp.linalg, np.linalg), (fnp.fft, np.fft)):
        for name in getattr(module, "__all__", None) or dir(module):
            fn = getattr(module, name)
            if name.startswith("_") or not inspect.isfunction(fn):
                continue
            ours = inspect.signature(fn, follow_wrapped=False).parameters
            theirs = getattr(numpy_module, name, None)
            takes = isinstance(theirs, np.ufunc) or (
                callable(theirs) and "out" in inspect.signature(theirs).parameters)
            if takes:
                assert "out" in ours or any(p.kind is p.VAR_KEYWORD for p in ours.values()), \
                    f"{module.__name__}.{name}"
    assert "out" not in inspect.signature(fnp.reshape).parameters  # (as np.reshape)


@pytest.mark.parametrize("name", ["sum", "prod", "nansum", "cumsum", "cumprod", "trace", "mean"])
@pytest.mark.parametrize("dtype", [np.int8, np.uint16])
def test_a_requested_integer_dtype_is_the_results_dtype_traced_as_eagerly(name, dtype):
    x = np.arange(1, 5, dtype=np.int32).reshape(2, 2) * 100  # overflows int8: NumPy's wrapped value
    expected = getattr(np, name)(x, dtype=dtype)
    fn = getattr(fnp, name)
    for how, got in (("eager", fn(x, dtype=dtype)), ("jit", ft.jit(lambda a: fn(a, dtype=dtype))(x)),
                     ("vmap", ft.vmap(lambda a: fn(a, dtype=dtype))(x[None])[0])):
        assert got.dtype == expected.dtype, how
        np.testing.assert_array_equal(got, expected, err_msg=how)


def test_cumulative_sum_in_a_narrow_integer_dtype_wraps_as_numpy():
    x = np.array([100, 100, 100], np.int32)
    got = ft.jit(lambda a: fnp.cumulative_sum(a, dtype=np.int8, include_initial=True))(x)
    assert got.dtype == np.int8
    np.testing.assert_array_equal(got, np.cumulative_sum(x, dtype=np.int8, include_initial=True))


def test_array_api_unique_functions_take_size_and_fill_value_under_jit_as_jax():
    x = np.array([[3, 1], [3, 5]])
    values = ft.jit(lambda a: fnp.unique_values(a, size=4, fill_value=-1))(x)
    np.testing.assert_array_equal(values, [1, 3, 5, -1])
    counts = ft.jit(lambda a: fnp.unique_counts(a, size=4))(x)
    np.testing.assert_array_equal(counts.values, [1, 3, 5, 1])  # JAX's padding: the smallest value
    np.testing.assert_array_equal(counts.counts, [1, 2, 1, 0])
    inverse = ft.jit(lambda a: fnp.unique_inverse(a, size=4))(x).inverse_indices
    np.testing.assert_array_equal(inverse, [[1, 0], [1, 2]])
    everything = ft.jit(lambda a: fnp.unique_all(a, size=2))(x)
    np.testing.assert_array_equal(everything.indices, [1, 0])
    np.testing.assert_array_equal(everything.counts, [1, 2])
    np.testing.assert_array_equal(ft.vmap(lambda r: fnp.unique_values(r, size=2, fill_value=0))(x),
                                  [[1, 3], [3, 5]])


def test_einsum_refuses_out_with_the_way_to_use_the_result():
    target = np.zeros(3)
    with pytest.raises(NotImplementedError, match=r"fnp\.einsum does not take out="):
        fnp.einsum("ij,j->i", np.ones((3, 3)), np.ones(3), out=target)
    assert not target.any()


def test_var_and_std_take_a_given_mean_as_numpy_2():
    rng = np.random.default_rng(3)
    a = rng.standard_normal((4, 5))
    m = a.mean(axis=1, keepdims=True) + 0.25  # not the mean: the result must use it as given
    where = rng.random((4, 5)) > 0.3
    for fn in ("var", "std"):
        want = getattr(np, fn)(a, axis=1, mean=m)
        np.testing.assert_allclose(getattr(fnp, fn)(a, axis=1, mean=m), want, rtol=1e-14)
        np.testing.assert_allclose(ft.jit(lambda a, m: getattr(fnp, fn)(a, axis=1, mean=m))(a, m), want,
                                   rtol=1e-14)
        np.testing.assert_allclose(
            ft.jit(lambda a, m: getattr(fnp, fn)(a, axis=1, mean=m, where=where))(a, m),
            getattr(np, fn)(a, axis=1, mean=m, where=where), rtol=1e-14)
    check_grads(lambda a, m: fnp.var(a, axis=1, mean=m), (a, m), order=2, modes=("fwd", "rev"))
    with pytest.raises(ValueError, match=r"mean must have the shape .* \(4, 1\)"):
        ft.jit(lambda a: fnp.var(a, axis=1, mean=fnp.zeros(3)))(a)


@pytest.mark.parametrize("name", ["float32", "float64", "int32", "uint8", "complex64", "bool_", "single", "intp"])
def test_scalar_types_convert_traced_arrays_as_jax(name):
    """fnp.float32(x) of a traced x is fnp.asarray(x, float32), as jnp.float32(x) is: the loop
    counter of fori_loop under jit and grad, a vmapped array, a value being differentiated."""
    kind = getattr(fnp, name)
    dtype = np.dtype(getattr(np, name))
    count = ft.jit(lambda x: ft.lax.fori_loop(0, 4, lambda i, c: c + fnp.real(kind(i)).astype(np.float64), x))
    assert float(count(0.5)) == 0.5 + sum(float(dtype.type(i).real) for i in range(4))
    values = np.array([0.0, 1.5, -2.0])
    for got in (ft.vmap(kind)(values), ft.jit(kind)(values), kind(values)):
        assert got.dtype == dtype
        np.testing.assert_array_equal(got, values.astype(dtype))
    if dtype.kind == "f":
        np.testing.assert_allclose(ft.grad(lambda x: (kind(x) ** 3).sum())(values), 3 * values ** 2,
                                   rtol=1e-6)
        grad = ft.grad(lambda x: ft.lax.fori_loop(0, 3, lambda i, c: c * kind(i + 1), x))
        assert float(grad(1.0)) == 6.0


def test_scalar_types_stay_numpys_dtypes_and_scalars():
    """As dtypes they are NumPy's everywhere; a host value converts to NumPy's scalar."""
    x = np.ones(2, np.float32)
    assert fnp.float32 == x.dtype and x.dtype == fnp.float32 and fnp.float32 == np.float32
    assert np.dtype(fnp.float32) == np.float32 and fnp.float32 != fnp.float64
    assert np.zeros(2, fnp.int8).dtype == np.int8 and x.astype(fnp.complex64).dtype == np.complex64
    assert fnp.ones(2, dtype=fnp.uint16).dtype == np.uint16 and fnp.astype(x, fnp.float64).dtype == np.float64
    assert ft.jit(lambda a: a.astype(fnp.int32))(x).dtype == np.int32
    assert hash(fnp.float32) == hash(np.float32) and {np.float32: 1}[fnp.float32] == 1
    assert isinstance(np.float32(1.0), fnp.float32) and not isinstance(np.float64(1.0), fnp.float32)
    assert fnp.single is fnp.float32 and fnp.bool is fnp.bool_
    assert fnp.issubdtype(fnp.float32, fnp.floating) and fnp.isdtype(fnp.int8, "signed integer")
    assert fnp.finfo(fnp.float32).eps == np.finfo(np.float32).eps and fnp.iinfo(fnp.uint8).max == 255
    assert type(fnp.float32(1.5)) is np.float32 and fnp.float32(1.5) == 1.5
    assert fnp.int32("7") == 7 and fnp.float64() == 0.0 and fnp.bool_(2) is np.True_
    np.testing.assert_array_equal(fnp.int16([1.9, -1.9]), np.int16([1.9, -1.9]))
