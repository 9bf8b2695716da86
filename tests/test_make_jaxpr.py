"""make_jaxpr: the recorded program, printed one equation a line with shapes and dtypes."""
from __future__ import annotations

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans import errors


def test_every_primitive_is_recorded_with_shapes_and_dtypes():
    program = ft.make_jaxpr(lambda x, w: fnp.tanh(x @ w) * 2.0)(np.ones((2, 3)), np.ones((3, 4), np.float32))
    lines = str(program).splitlines()
    assert lines[0] == "{ lambda v0:float64[2,3] v1:float32[3,4] ."
    assert lines[1].strip().startswith("v2:float64[2,4] = dot_general[dimension_numbers=")
    assert lines[2].strip() == "v3:float64[2,4] = tanh[] v2"
    assert lines[3].strip() == "v4:float64[2,4] = mul[] v3 2.0"
    assert lines[4].strip() == "in (v4) }"
    assert [e.prim.name for e in program.eqns] == ["dot_general", "tanh", "mul"]


def test_the_program_runs_on_new_inputs():
    f = lambda x: fnp.sum(fnp.sin(x) ** 2)  # noqa: E731
    program = ft.make_jaxpr(f)(np.zeros(3))
    x = np.array([0.1, 0.2, 0.3])
    np.testing.assert_allclose(program(x), f(x), rtol=1e-15)


def test_grad_shows_the_backward_pass():
    text = str(ft.make_jaxpr(ft.grad(lambda x: fnp.sum(fnp.sin(x))))(np.ones(3)))
    assert "sin[]" in text and "cos[]" in text  # forward value and the derivative's residual
    assert "broadcast_in_dim" in text  # the transpose of the sum


def test_jvp_and_vmap_show_what_they_compute():
    text = str(ft.make_jaxpr(lambda x: ft.jvp(fnp.sin, (x,), (x,))[1])(np.ones(3)))
    assert "cos[]" in text and "mul[]" in text
    text = str(ft.make_jaxpr(ft.vmap(lambda x: fnp.sum(x * x)))(np.ones((5, 3))))
    assert "mul[] v0 v0" in text and "reduce_sum[axes=(1,)]" in text


def test_control_flow_on_staged_values_is_an_error():
    def f(x):
        return x if fnp.sum(x) > 0 else -x

    with pytest.raises(errors.TracerConversionError, match="where"):
        ft.make_jaxpr(f)(np.ones(2))


def test_constants_and_integer_inputs():
    text = str(ft.make_jaxpr(lambda x, n: x[np.array([0, 1])] * n + np.ones(2))(np.ones(4), np.array(3)))
    assert "v1:int64[]" in text and "const:float64[2]" in text and "gather" in text


def test_staged_derivatives_run_like_the_eager_ones():
    # make_jaxpr's variables are residuals (constants) to the transformations inside it: only
    # the program being transposed has linear inputs, and only linearize records tangents.
    x = np.array([0.1, 0.2, 0.3])
    second = ft.make_jaxpr(ft.grad(ft.grad(lambda t: fnp.sin(t) * t)))(1.0)
    assert second(0.7) == pytest.approx(2 * np.cos(0.7) - 0.7 * np.sin(0.7), rel=1e-14)

    remat = ft.checkpoint(lambda t: fnp.sin(t) * t)
    forward = lambda t: ft.jvp(remat, (t,), (2 * t,))[1]  # noqa: E731
    np.testing.assert_allclose(ft.make_jaxpr(forward)(np.ones(3))(x), forward(x), rtol=1e-14)
    backward = ft.grad(lambda t: fnp.sum(remat(t)))
    np.testing.assert_allclose(ft.make_jaxpr(backward)(np.ones(3))(x), backward(x), rtol=1e-14)

    @ft.custom_vjp
    def sine(t):
        return fnp.sin(t)

    sine.defvjp(lambda t: (fnp.sin(t), t), lambda t, ct: (ct * fnp.cos(t),))
    staged = ft.make_jaxpr(ft.grad(lambda t: fnp.sum(sine(t))))(np.ones(3))
    np.testing.assert_allclose(staged(x), np.cos(x), rtol=1e-14)
    with pytest.raises(errors.CustomRuleError, match="forward"):
        ft.make_jaxpr(lambda t: ft.jvp(sine, (t,), (t,))[1])(np.ones(3))
