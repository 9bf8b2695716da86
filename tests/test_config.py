"""functrans.config: the settings object, the JAX names it accepts, and the NaN debugging
mode (each pass, eager, under jit and under vmap; NaNs already in the inputs; the
environment variable)."""
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans import config

THIS_FILE = os.path.basename(__file__)


@pytest.fixture
def debug_nans():
    with config.override(debug_nans=True), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # NumPy's own "invalid value" warnings
        yield


def _raises_nan(fn, primitive: str, pass_name: str) -> str:
    with pytest.raises(FloatingPointError) as info:
        fn()
    message = str(info.value)
    assert f"primitive {primitive!r}" in message
    assert f"in the {pass_name} pass" in message
    assert THIS_FILE + ":" in message  # the line of this file that applied the primitive
    return message


# -- the settings object ------------------------------------------------------------------


def test_config_is_reachable_both_ways():
    from functrans.config import config as from_module

    assert ft.config is config is from_module


def test_update_and_read():
    assert config.debug_nans is False  # off by default
    config.update("debug_nans", True)
    try:
        assert config.debug_nans is True
    finally:
        config.update("debug_nans", False)
    assert config.debug_nans is False


def test_override_restores_even_on_error():
    with pytest.raises(ZeroDivisionError), config.override(debug_nans=True):
        assert config.debug_nans
        1 / 0
    assert config.debug_nans is False


def test_jax_names():
    with config.override(jax_debug_nans=True):
        assert config.debug_nans is True
    config.update("jax_enable_x64", True)
    assert config.enable_x64 is True


def test_enable_x64_false_warns_and_changes_nothing():
    with pytest.warns(UserWarning, match="changes nothing"):
        config.update("jax_enable_x64", False)
    try:
        assert ft.grad(lambda x: fnp.sin(x))(np.float64(1.0)).dtype == np.float64
    finally:
        config.update("jax_enable_x64", True)


def test_unknown_name_lists_the_settings():
    with pytest.raises(AttributeError, match="debug_nans.*jax_enable_x64"):
        config.update("debug_infs", True)


def test_attributes_are_set_through_update():
    with pytest.raises(AttributeError, match="config.update"):
        config.debug_nans = True  # type: ignore[misc]


# -- the NaN debugging mode ----------------------------------------------------------------


def test_off_by_default_nan_results_pass():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        assert np.isnan(fnp.log(np.array(-1.0)))
        assert np.isnan(ft.jit(fnp.log)(-np.ones(2))).all()


def test_forward_on_plain_arrays(debug_nans):
    _raises_nan(lambda: fnp.log(np.array([1.0, -1.0])), "log", "forward")
    _raises_nan(lambda: fnp.sqrt(-2.0), "sqrt", "forward")
    _raises_nan(lambda: fnp.subtract(np.inf, np.array(np.inf)), "sub", "forward")
    infs = np.array([np.inf, -np.inf])  # fnp's NumPy shortcuts take the primitives' path too
    _raises_nan(lambda: fnp.sum(infs), "reduce_sum", "forward")
    _raises_nan(lambda: fnp.mean(infs), "reduce_sum", "forward")
    _raises_nan(lambda: fnp.matmul(infs, np.ones(2)), "dot_general", "forward")
    _raises_nan(lambda: fnp.cumsum(infs), "cumsum", "forward")


def test_forward_under_grad(debug_nans):
    _raises_nan(lambda: ft.grad(lambda x: fnp.sum(fnp.log(x)))(-np.ones(2)), "log", "forward")


def test_jvp_pass(debug_nans):
    # sqrt's tangent at 0 along 0 is 0 * inf
    message = _raises_nan(lambda: ft.jvp(fnp.sqrt, (np.zeros(2),), (np.zeros(2),)), "mul", "JVP")
    assert "JVP rule of 'sqrt'" in message


def test_transpose_pass_under_grad(debug_nans):
    def f(x):
        return fnp.sum(fnp.sqrt(x) * 0.0)  # the cotangent 0 meets sqrt's slope inf at 0

    message = _raises_nan(lambda: ft.grad(f)(np.zeros(2)), "mul", "transpose")
    assert f"{THIS_FILE}:{f.__code__.co_firstlineno + 1}" in message  # the line of the sqrt


def test_under_jit(debug_nans):
    def f(x):
        return fnp.log(x) + 1.0

    message = _raises_nan(lambda: ft.jit(f)(-np.ones(3)), "log", "forward")
    assert "jit" in message
    assert f"{THIS_FILE}:{f.__code__.co_firstlineno + 1}" in message


def test_transpose_under_jit(debug_nans):
    def f(x):
        return fnp.sum(fnp.sqrt(x) * 0.0)

    _raises_nan(lambda: ft.jit(ft.grad(f))(np.zeros(2)), "mul", "transpose")


def test_jvp_under_jit(debug_nans):
    jitted = ft.jit(lambda x: ft.jvp(fnp.sqrt, (x,), (x,)))
    _raises_nan(lambda: jitted(np.zeros(2)), "mul", "JVP")


def test_under_vmap(debug_nans):
    _raises_nan(lambda: ft.vmap(fnp.log)(np.array([1.0, -1.0])), "log", "forward")
    _raises_nan(lambda: ft.jit(ft.vmap(fnp.log))(np.array([1.0, -1.0])), "log", "forward")


def test_flag_is_part_of_jits_cache_key():
    jitted = ft.jit(fnp.log)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        assert np.isnan(jitted(-np.ones(2))).all()  # staged with the flag off
        with config.override(debug_nans=True), pytest.raises(FloatingPointError):
            jitted(-np.ones(2))
        assert np.isnan(jitted(-np.ones(2))).all()  # off again: the unchecked plan


def test_nan_already_in_the_inputs_does_not_raise(debug_nans):
    x = np.array([np.nan, 1.0])
    assert np.isnan(fnp.log(x)[0])
    assert np.isnan(ft.jit(fnp.sin)(x)[0])
    assert np.isnan(ft.grad(lambda v: fnp.sum(fnp.sin(v)))(x)[0])
    assert np.isnan(ft.vmap(fnp.exp)(x)[0])


def test_finite_programs_run_unchanged(debug_nans):
    x = np.linspace(0.1, 1.0, 4)
    expected = np.cos(x)
    np.testing.assert_allclose(ft.grad(lambda v: fnp.sum(fnp.sin(v)))(x), expected)
    np.testing.assert_allclose(ft.jit(ft.grad(lambda v: fnp.sum(fnp.sin(v))))(x), expected)
    np.testing.assert_allclose(ft.vmap(ft.grad(fnp.sin))(x), expected)


def test_turning_off_restores_the_fast_paths():
    from functrans.core.debug_nans import CheckedImpl
    from functrans.primitives import sin_p

    impl = sin_p.impl
    with config.override(debug_nans=True):
        assert type(sin_p.impl) is CheckedImpl
    assert sin_p.impl is impl


def test_environment_variable_turns_it_on():
    code = (
        "import numpy as np, warnings, functrans as ft, functrans.numpy as fnp\n"
        "warnings.simplefilter('ignore')\n"
        "assert ft.config.debug_nans\n"
        "try:\n"
        "    fnp.log(np.array(-1.0))\n"
        "except FloatingPointError as e:\n"
        "    print('raised', 'log' in str(e))\n"
    )
    env = dict(os.environ, FUNCTRANS_DEBUG_NANS="1")
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "raised True"
