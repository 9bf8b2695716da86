"""Every primitive, table-driven from ``specs.PRIMITIVE_SPECS``: values against NumPy on
plain arrays and inside transformations, on NumPy and on the strict backend (outputs on the
inputs' device), derivatives by ``check_grads`` to second order in
forward and reverse mode in float64 (complex128 for complex-only rows), and a lower-precision
run (float32, complex64) in which values, tangents and cotangents keep their precision."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from specs import PRIMITIVE_SPECS, check_spec


@pytest.mark.parametrize("spec", PRIMITIVE_SPECS, ids=repr)
def test_primitive(spec, backend):
    check_spec(spec, backend)


@pytest.mark.parametrize("spec", [s for s in PRIMITIVE_SPECS if len(s.dtypes) > 1], ids=repr)
def test_primitive_low_precision(spec, backend):
    check_spec(spec, backend, low_precision=True)


# -- check_grads itself: it must catch each kind of wrong rule, and say where ---------------------

import numpy as np  # noqa: E402

import functrans as ft  # noqa: E402
import functrans.numpy as fnp  # noqa: E402
from functrans.extend import defjvp, deflinear, elementwise  # noqa: E402
from functrans.testing import check_grads, check_jvp, check_vjp, numerical_jvp  # noqa: E402

# sin with a JVP off by 1% (caught at order 1 in both modes)
_bad_sin = elementwise("test_bad_sin", lambda x: np.sin(x))
defjvp(_bad_sin, lambda t, x: fnp.cos(x) * t * 1.01)
# 2x whose transpose is 3x (forward mode is right; reverse mode is wrong)
_bad_scale = elementwise("test_bad_scale", lambda x: 2 * x)
deflinear(_bad_scale, lambda ct, x: (ct * 3.0,))
# sin whose JVP treats cos(x) as a constant: right at order 1, wrong at order 2
_flat_sin = elementwise("test_flat_sin", lambda x: np.sin(x))
defjvp(_flat_sin, lambda t, x: t * ft.stop_gradient(fnp.cos(x)))
# identity whose tangents come back float64 for float32 inputs
_widening = elementwise("test_widening", lambda x: x * 1)
defjvp(_widening, lambda t, x: fnp.astype(t, np.float64))


X = np.array([0.3, -1.2, 2.0])


def _failure(f, args, **kw) -> str:
    with pytest.raises(AssertionError) as info:
        check_grads(f, args, **kw)
    return str(info.value)


def test_check_grads_passes_correct_derivatives_to_third_order():
    check_grads(lambda x, y: fnp.sum(fnp.tanh(x) * y ** 2), (X, np.array(0.7)), order=3)


def test_check_grads_reports_a_wrong_jvp_with_the_argument_and_the_error():
    message = _failure(lambda x, y: _bad_sin.bind(x) * y, (X, np.array(2.0)), order=1, modes=("fwd",))
    assert "order 1, mode 'fwd'" in message
    assert "argument args[0]" in message and "argument args[1]" not in message
    assert "max abs error" in message and "expected" in message and "got" in message
    assert "order 1, mode 'rev'" in _failure(lambda x: _bad_sin.bind(x), (X,), order=1, modes=("rev",))


def test_check_grads_reports_a_wrong_transpose_in_reverse_mode_only():
    def f(d):
        return fnp.sin(_bad_scale.bind(d["a"])) + d["b"]

    args = ({"a": X, "b": np.ones(3)},)
    check_grads(f, args, order=1, modes=("fwd",))
    message = _failure(f, args, order=1, modes=("rev",))
    assert "mode 'rev'" in message and "<vjp(ct), v>" in message
    assert "argument args[0]['a']" in message and "args[0]['b']" not in message


def test_check_grads_finds_a_wrong_second_derivative_at_order_two():
    check_grads(_flat_sin.bind, (X,), order=1)
    message = _failure(_flat_sin.bind, (X,), order=2)
    assert "order 2" in message and "for jvp(bind)" in message  # the function checked: jvp of f


def test_check_grads_reports_tangents_of_the_wrong_dtype():
    message = _failure(_widening.bind, (X.astype(np.float32),), order=1)
    assert "float32 but its tangent is shape (3,), float64" in message


def test_check_grads_holds_integer_leaves_fixed():
    check_grads(lambda x, idx: x[idx] * 2.0, (X, np.array([2, 0, 2])))
    check_grads(lambda p: fnp.sum(p["w"][p["i"]] ** 2), ({"w": X, "i": np.array([1, 1])},))


def test_check_grads_is_deterministic():
    def messages():
        return _failure(lambda x: _bad_sin.bind(x), (X,), order=1)

    assert messages() == messages()


def test_check_grads_passes_a_steep_function_whose_plain_difference_misses():
    # exp(600 x): the central difference at the default step 1e-5 is off by about
    # (600 * 1e-5 * v)**2 / 6 relative along a direction v, over the 1e-6 tolerance; the
    # extrapolated difference is exact enough
    x = np.linspace(-0.01, 0.01, 5)
    (d,) = numerical_jvp(lambda x: fnp.exp(600 * x), (x,), (np.ones(5),))
    assert not np.allclose(d, 600 * np.exp(600 * x), rtol=1e-6, atol=1e-6)
    check_grads(lambda x: fnp.exp(600 * x), (x,), order=2)
    # ... and a wrong derivative of the same function still fails
    assert "mode 'fwd'" in _failure(lambda x: _bad_sin.bind(fnp.exp(600 * x)), (x,), order=1,
                                    modes=("fwd",))


def test_check_jvp_check_vjp_and_numerical_jvp():
    check_jvp(fnp.exp, (X,))
    check_vjp(fnp.exp, (X,))
    (d,) = numerical_jvp(fnp.exp, (X,), (np.ones(3),))
    np.testing.assert_allclose(d, np.exp(X), rtol=1e-8)
    with pytest.raises(AssertionError, match="'fwd'"):
        check_jvp(_bad_sin.bind, (X,))
    with pytest.raises(AssertionError, match="'rev'"):
        check_vjp(_bad_sin.bind, (X,))


def test_check_grads_rejects_bad_arguments():
    with pytest.raises(TypeError, match="tuple"):
        check_grads(fnp.sin, X)
    with pytest.raises(ValueError, match="modes"):
        check_grads(fnp.sin, (X,), modes=("backward",))
    with pytest.raises(ValueError, match="order"):
        check_grads(fnp.sin, (X,), order=0)


# -- device mixing: every primitive with several array arguments refuses two devices -------------

from functrans.errors import DeviceMismatchError  # noqa: E402
from functrans.testing.strict import strict_array  # noqa: E402

from backends import BACKENDS  # noqa: E402
from specs import draw_case  # noqa: E402


@pytest.mark.parametrize("spec", [s for s in PRIMITIVE_SPECS if s.nargs >= 2], ids=repr)
@settings(max_examples=1)
@given(data=st.data())
def test_primitive_refuses_arrays_on_two_devices(spec, data):
    case = draw_case(data, spec, spec.dtypes[0])
    args = [strict_array(a, device="strict:0" if i == 0 else "strict:1") for i, a in enumerate(case.args)]
    with pytest.raises(DeviceMismatchError) as info:
        spec.fn(*args, **BACKENDS["strict"].put(case.params))
    message = str(info.value)
    assert "'strict:0'" in message and "'strict:1'" in message and "device_put" in message, message
