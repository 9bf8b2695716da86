"""jit's Python scalar arguments: traced as inputs standing for Python scalars (NumPy 2's weak
promotion), so a new value runs the same program with the eager function's dtypes and values;
bools and static arguments by value; the error that names static_argnums."""
from __future__ import annotations

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans import errors

DTYPES = [np.bool_, np.int8, np.int32, np.int64, np.uint8, np.float16, np.float32, np.float64,
          np.complex64, np.complex128]
SCALARS = {"int": 3, "float": 2.5, "complex": 1.5 - 0.5j}

# Each a function of (array, Python scalar) as user code writes it.
OPS = {
    "x + s": lambda x, s: x + s,
    "s - x": lambda x, s: s - x,
    "x * s": lambda x, s: x * s,
    "x / s": lambda x, s: x / s,
    "s / x": lambda x, s: s / x,
    "x ** s": lambda x, s: x ** s,
    "x < s": lambda x, s: x < s,
    "x == s": lambda x, s: x == s,
    "maximum": lambda x, s: fnp.maximum(x, s),
    "where": lambda x, s: fnp.where(x != 0, x, s),
    # values computed from the scalar alone stay weak where Python's would
    "x * (1 - s)": lambda x, s: x * (1 - s),
    "x * (s * 2) ** 2": lambda x, s: x * (s * 2) ** 2,
    "x * -s": lambda x, s: x * -s,
    "x / (s + 1)": lambda x, s: x / (s + 1),
    # Python's operators whose ufuncs give NumPy scalars: Python's gives a Python scalar
    "x * abs(s)": lambda x, s: x * abs(s),
    "x * (s // 2)": lambda x, s: x * (s // 2),
    "x + 7 % s": lambda x, s: x + 7 % s,
    # and a NumPy result of the scalar (fnp.sqrt of a Python float is np.float64) is not
    "x * sqrt(s)": lambda x, s: x * fnp.sqrt(s),
}


_REFUSALS = (TypeError, ValueError, OverflowError, errors.FunctransError)


def _eager(op, x, s):
    with np.errstate(all="ignore"):
        try:
            return op(x, s)
        except _REFUSALS:
            return None


@pytest.mark.parametrize("kind", list(SCALARS))
@pytest.mark.parametrize("name", list(OPS))
def test_dtype_and_value_match_eager(backend, name, kind):
    op, s = OPS[name], SCALARS[kind]
    jitted = ft.jit(op)
    for dtype in DTYPES:
        x = backend.put(np.array([1, 2, 3]).astype(dtype))
        expected = _eager(op, x, s)
        if expected is None:  # the eager function raises for this pair: so does jit
            with pytest.raises(_REFUSALS), np.errstate(all="ignore"):
                jitted(x, s)
            continue
        with np.errstate(all="ignore"):
            got = jitted(x, s)
            again = jitted(x, s + 1)  # a new value: the same program, the eager result
            expected_again = op(x, s + 1)
        for out, want in ((got, expected), (again, expected_again)):
            assert fnp.result_type(out) == fnp.result_type(want), (name, kind, dtype)
            np.testing.assert_array_equal(backend.get(out), backend.get(want), err_msg=f"{name} {kind} {dtype}")
    assert jitted._cache_size() <= len(DTYPES)


def test_new_values_do_not_restage():
    calls = []

    def update(params, lr, step):
        calls.append(1)
        return {k: p - lr * p / step for k, p in params.items()}

    jitted = ft.jit(update)
    params = {"w": np.ones(3, np.float32)}
    for step in range(1, 6):
        lr = 0.1 / step
        out = jitted(params, lr, step)
        expected = update(params, lr, step)["w"]
        assert out["w"].dtype == np.float32
        np.testing.assert_array_equal(out["w"], expected)
    assert len(calls) == 1 + 5  # one recording; five eager calls for the expected values
    assert jitted._cache_size() == 1


def test_signed_zeros_nans_and_complex_values():
    f = ft.jit(lambda x, s: x / s)
    x = np.ones(2)
    assert f(x, 0.0).tolist() == [np.inf, np.inf]
    assert f(x, -0.0).tolist() == [-np.inf, -np.inf]
    assert np.signbit(f(x, -float("nan"))).all() == np.signbit(x / -float("nan")).all()
    for z in (1 + 2j, complex(1.0, -0.0), complex(-0.0, 0.0), 2j):
        np.testing.assert_array_equal(f(x, z), x / z)
        assert f(x, z).dtype == np.complex128
        np.testing.assert_array_equal(f(x.astype(np.float32), z), x.astype(np.float32) / z)
        assert f(x.astype(np.float32), z).dtype == np.complex64
    assert f._cache_size() == 3  # float, complex on float64, complex on float32


def test_outputs_that_are_scalars_stay_python_scalars():
    x = np.ones(2, np.float32)
    assert ft.jit(lambda x, s: s)(x, 2.0) == 2.0
    out = ft.jit(lambda x, s: s * 2)(x, 3)
    assert out == 6 and type(out) is int
    out = ft.jit(lambda x, s: fnp.sin(s))(x, 2.0)
    assert out == np.sin(2.0) and type(out) is type(np.sin(2.0))


def test_bools_are_static_so_flags_drive_python_control_flow():
    calls = []

    def f(x, training):
        calls.append(training)
        return x * 0.5 if training else x

    jitted = ft.jit(f)
    x = np.ones(2)
    assert jitted(x, True).tolist() == [0.5, 0.5]
    assert jitted(x, False).tolist() == [1.0, 1.0]
    jitted(x, True)
    assert calls == [True, False]
    assert ft.jit(lambda x, *, training: x * 2 if training else x)(x, training=True).tolist() == [2.0, 2.0]


def _loop(x, n):
    for _ in range(n):
        x = x * 2
    return x


def _branch(x, threshold):
    if threshold > 0:
        return x
    return -x


def test_a_traced_int_as_loop_count_names_the_argument_and_static_argnums():
    with pytest.raises(errors.TracerConversionError) as info:
        ft.jit(_loop)(np.ones(2), 3)
    message = " ".join(str(info.value).split())
    assert "argument 1 (n), a Python int" in message
    assert "loop count in range()" in message
    assert "jit(_loop, static_argnums=1) or jit(_loop, static_argnames='n')" in message
    assert "fori_loop" in message
    # the fix it names works
    assert ft.jit(_loop, static_argnums=1)(np.ones(2), 3).tolist() == [8.0, 8.0]
    assert ft.jit(_loop, static_argnames="n")(np.ones(2), n=3).tolist() == [8.0, 8.0]


def test_the_argument_named_is_the_one_used_when_two_hold_the_same_value():
    def f(x, a, n):
        return x * a if n > 0 else x

    with pytest.raises(errors.TracerConversionError, match=r"argument 2 \(n\)"):
        ft.jit(f)(np.ones(2), 3, 3)


def test_python_control_flow_on_a_traced_float_names_the_argument():
    with pytest.raises(errors.TracerConversionError) as info:
        ft.jit(_branch)(np.ones(2), 0.5)
    message = " ".join(str(info.value).split())
    assert "argument 1 (threshold), a Python float" in message and "Python control flow" in message
    assert "static_argnums=1" in message
    assert ft.jit(_branch, static_argnums=1)(np.ones(2), -0.5).tolist() == [-1.0, -1.0]


def test_a_traced_scalar_in_a_pytree_or_keyword_or_computed_from_is_named():
    with pytest.raises(errors.TracerConversionError) as info:
        ft.jit(lambda x, config: x[: config["n"]])(np.ones(4), {"n": 2})
    message = " ".join(str(info.value).split())
    assert "argument 1 (config)['n'], a Python int" in message and "close over it" in message
    with pytest.raises(errors.TracerConversionError) as info:
        ft.jit(lambda x, *, n: x.reshape(n + 1, -1))(np.ones(4), n=1)
    message = " ".join(str(info.value).split())
    assert "keyword argument n, a Python int" in message and "static_argnames='n'" in message


def test_a_traced_int_as_a_shape_given_to_numpy_gets_a_note_naming_static_argnums():
    with pytest.raises(TypeError) as info:
        ft.jit(lambda x, n: fnp.zeros(n) + x)(np.ones(3), 3)
    notes = " ".join(getattr(info.value, "__notes__", []) or [str(info.value)])
    assert "argument 1 (n)" in notes and "static_argnums=1" in notes


def test_static_argnums_keeps_python_scalars_static_by_value():
    calls = []

    def f(x, n):
        calls.append(n)
        return fnp.ones(n) * x

    g = ft.jit(f, static_argnums=1)
    assert g(2.0, 3).tolist() == [2.0, 2.0, 2.0]
    assert g(2.0, 2).tolist() == [2.0, 2.0]
    g(5.0, 2)
    assert calls == [3, 2]


def test_jit_of_grad_with_a_python_scalar_argument(backend):
    def loss(w, x, decay):
        return fnp.sum(fnp.tanh(x @ w)) + decay * fnp.sum(w ** 2)

    w = backend.put(np.linspace(-1.0, 1.0, 3).astype(np.float32))
    x = backend.put(np.ones((2, 3), np.float32))
    step = ft.jit(ft.grad(loss))
    for decay in (0.1, 0.25):
        got, want = step(w, x, decay), ft.grad(loss)(w, x, decay)
        assert got.dtype == want.dtype == np.float32
        np.testing.assert_allclose(backend.get(got), backend.get(want), rtol=1e-6)
    if backend.name != "numpy":
        return  # (eager grad makes a differentiated Python float a host array: a device mix)
    both = ft.jit(ft.grad(loss, argnums=(0, 2)))
    got, want = both(w, x, 0.5), ft.grad(loss, argnums=(0, 2))(w, x, 0.5)
    for g, e in zip(got, want):
        assert fnp.result_type(g) == fnp.result_type(e)
        np.testing.assert_allclose(backend.get(g), backend.get(e), rtol=1e-6)


def test_the_backward_pass_of_a_float32_function_stays_float32():
    def f(w, s):
        return fnp.sum(fnp.tanh(w * s) * s)

    w = np.linspace(-1.0, 1.0, 5).astype(np.float32)
    printed = str(ft.make_jaxpr(ft.grad(f))(w, 0.3))
    assert "float64[5]" not in printed and "convert_element_type" not in printed
    for s in (0.3, 0.7):
        np.testing.assert_array_equal(ft.jit(ft.grad(f))(w, s), ft.grad(f)(w, s))


def test_vmap_of_jit_and_jit_of_vmap_with_a_scalar(backend):
    xs = backend.put(np.arange(6.0, dtype=np.float32).reshape(2, 3))
    f = ft.jit(lambda x, s: x * s + 1)
    got = ft.vmap(f, in_axes=(0, None))(xs, 2.0)
    assert got.dtype == np.float32
    np.testing.assert_array_equal(backend.get(got), backend.get(xs) * 2 + 1)
    g = ft.jit(ft.vmap(lambda x, s: x * s, in_axes=(0, None)))
    for s in (2.0, 3.0):
        out = g(xs, s)
        assert out.dtype == np.float32
        np.testing.assert_array_equal(backend.get(out), backend.get(xs) * s)
    assert g._cache_size() == 1


def test_nested_jit_and_closures_keep_the_scalar_weak():
    inner = ft.jit(lambda x, s: x * s)
    outer = ft.jit(lambda x, s: inner(x, s * 2) + fnp.sum(ft.grad(lambda y: fnp.sum(y * s))(x)))
    x = np.ones(2, np.float32)
    out = outer(x, 1.5)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, x * 3.0 + 3.0)


def test_numpy_functions_given_a_traced_scalar_match_eager(backend):
    x = backend.put(np.array([0.5, -1.0, 2.0], np.float32))
    cases = {
        "asarray": lambda x, s: x * fnp.asarray(s),  # NumPy makes a Python float a float64 array
        "array float32": lambda x, s: x * fnp.array(s, dtype=np.float32),
        "full_like": lambda x, s: fnp.full_like(x, s),
        "full_like -0.0": lambda x, s: fnp.full_like(x, -0.0 * s),
        "zeros_like + s": lambda x, s: fnp.zeros_like(x) + s,
        "clip": lambda x, s: fnp.clip(x, -s, s),
        "isclose": lambda x, s: fnp.isclose(x, s),
    }
    if backend.name != "numpy":
        del cases["asarray"], cases["array float32"]  # (eagerly host arrays: a device mix)
    for name, f in cases.items():
        for s in (2.5, 3):
            got, want = ft.jit(f)(x, s), f(x, s)
            assert fnp.result_type(got) == fnp.result_type(want), name
            np.testing.assert_array_equal(backend.get(got), backend.get(want), err_msg=name)
            assert (np.signbit(backend.get(got)) == np.signbit(backend.get(want))).all(), name
    grad_fill = ft.jit(ft.grad(lambda s, x: fnp.sum(fnp.full_like(x, s))))
    assert grad_fill(2.0, x) == 3.0


def test_a_function_that_reads_a_traced_scalars_value_names_it():
    with pytest.raises(errors.TracerConversionError) as info:
        ft.jit(lambda x, q: fnp.quantile(x, q))(np.arange(5.0), 0.5)
    message = " ".join(str(info.value).split())
    assert "argument 1 (q), a Python float" in message and "static_argnums=1" in message
    assert ft.jit(lambda x, q: fnp.quantile(x, q), static_argnums=1)(np.arange(5.0), 0.5) == 2.0


def test_make_jaxpr_shows_python_scalars_as_inputs():
    printed = str(ft.make_jaxpr(lambda x, s: x * s)(np.ones(2, np.float32), 2.0))
    assert "float32[2]" in printed and "mul" in printed
