"""make_jaxpr: the recorded program, one equation a line with shapes and dtypes; eval_shape."""
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
    assert lines[1].endswith("  # test_make_jaxpr.py:13")  # the line of the user's code
    assert lines[2].strip() == "v3:float64[2,4] = tanh[] v2  # test_make_jaxpr.py:13"
    assert lines[3].strip() == "v4:float64[2,4] = mul[] v3 2.0  # test_make_jaxpr.py:13"
    assert lines[4].strip() == "in (v4) }"
    assert [e.prim.name for e in program.eqns] == ["dot_general", "tanh", "mul"]


def test_the_program_runs_on_new_inputs():
    f = lambda x: fnp.sum(fnp.sin(x) ** 2)
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
    forward = lambda t: ft.jvp(remat, (t,), (2 * t,))[1]
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


# --- the metadata of each equation: source line and name scope ------------------------------

def _line_of(marker: str) -> int:
    """The line of this file holding ``marker`` (a comment at the end of it)."""
    with open(__file__) as file:
        lines = file.read().splitlines()
    return next(i for i, line in enumerate(lines, 1) if line.endswith(marker))


def _layer(x):
    return fnp.tanh(x) * 2.0  # LAYER-LINE


def test_each_equation_records_the_user_line_that_applied_it():
    program = ft.make_jaxpr(lambda x: _layer(x) + 1.0)(np.ones(3))  # CALL-LINE
    sources = [eqn.source for eqn in program.eqns]
    assert [line for _, line in sources] == [_line_of("# LAYER-LINE")] * 2 + [_line_of("# CALL-LINE")]
    assert all(filename == __file__ for filename, _ in sources)
    assert f"test_make_jaxpr.py:{_line_of('# CALL-LINE')}" in str(program).splitlines()[3]


def test_source_lines_can_be_turned_off():
    from functrans.config import config

    with config.override(staging_source_info=False):
        program = ft.make_jaxpr(_layer)(np.ones(3))
    assert [eqn.source for eqn in program.eqns] == [None, None]
    assert "#" not in str(program)


def test_named_scopes_and_transformations_name_the_equations():
    def f(x):
        with ft.named_scope("encoder"):
            with ft.named_scope("layer1"):
                h = fnp.tanh(x)
            h = h * 2.0
        return fnp.sum(h)

    scopes = [eqn.scope for eqn in ft.make_jaxpr(f)(np.ones(3)).eqns]
    assert scopes == [("encoder", "layer1"), ("encoder",), ()]
    program = ft.make_jaxpr(ft.grad(f))(np.ones(3))
    assert ("grad(f)", "encoder", "layer1") in [eqn.scope for eqn in program.eqns]
    backward = [eqn.scope for eqn in program.eqns if "transpose" in eqn.scope]
    assert backward and all(s[:2] == ("grad(f)", "transpose") for s in backward)
    assert "# grad(f)/encoder/layer1" in str(program)
    vmapped = ft.make_jaxpr(ft.vmap(f))(np.ones((2, 3)))
    assert {eqn.scope[0] for eqn in vmapped.eqns} == {"vmap(f)"}


def test_scopes_inside_a_recording_are_relative_to_it():
    with ft.named_scope("outer"):
        program = ft.make_jaxpr(_layer)(np.ones(3))
    assert [eqn.scope for eqn in program.eqns] == [("outer",)] * 2
    assert "outer" not in str(program)  # the printout shows the names entered inside it


def test_checkpoint_custom_rules_and_jit_name_their_bodies():
    block = ft.checkpoint(_layer)

    @ft.custom_jvp
    def square(x):
        return x * x

    square.defjvp(lambda primals, tangents: (square(primals[0]), 2.0 * primals[0] * tangents[0]))
    program = ft.make_jaxpr(ft.grad(lambda x: fnp.sum(block(x)) + fnp.sum(square(x))))(np.ones(3))
    names = {name for eqn in program.eqns for name in eqn.scope}
    assert {"checkpoint(_layer)", "custom_jvp(square)", "transpose"} <= names
    program = ft.make_jaxpr(lambda x: ft.jit(_layer)(x) + 1.0)(np.ones(3))
    assert [eqn.scope for eqn in program.eqns] == [("jit(_layer)",)] * 2 + [()]


def test_the_tape_of_grad_records_no_metadata():
    from functrans.interpreters.linearize import linearize_flat

    _, program = linearize_flat(lambda xs: [_layer(xs[0])], [np.ones(3)], "test")
    assert program.linear and program.eqns
    assert all(eqn.source is None and eqn.scope == () for eqn in program.eqns)


def test_variables_equations_and_programs_are_three_types():
    from functrans.core.ir import Eqn, Program, Var

    staged = ft.make_jaxpr(lambda x, y: fnp.sin(x) * y + np.ones(3))(np.ones(3), 2.0)
    program = staged.program
    assert type(program) is Program and not program.linear
    assert all(type(eqn) is Eqn for eqn in program.eqns)
    assert all(type(v) is Var for eqn in program.eqns for v in eqn.outs)
    assert [type(v) for v in program.in_vars] == [Var, Var]
    assert len(program.consts) == 1 and program.consts[0].shape == (3,)


def test_eval_shape_gives_shapes_and_dtypes_without_computing():
    import functools

    S = ft.ShapeDtypeStruct
    # sizes no computation could hold: nothing runs
    out = ft.eval_shape(lambda x, w: fnp.tanh(x @ w), S((10**6, 10**5), np.float32),
                        S((10**5, 7), np.float32))
    assert out == S((10**6, 7), np.float32) and out.ndim == 2 and out.size == 7 * 10**6
    # arrays, Python scalars (weak) and keyword arguments; pytrees of outputs with None
    out = ft.eval_shape(lambda x, n, *, k: {"y": x * n, "z": (x[:2] * k, None)},
                        np.ones(3, np.float32), 2.0, k=np.ones(2))
    assert out == {"y": S((3,), np.float32), "z": (S((2,), np.float64), None)}
    # of transformed functions
    assert ft.eval_shape(ft.vmap(lambda x: fnp.outer(x, x)), S((4, 3), float)) == S((4, 3, 3), float)
    assert ft.eval_shape(ft.grad(lambda p: fnp.sum(p["w"] ** 2)), {"w": S((3,), np.float32)}) \
        == {"w": S((3,), np.float32)}
    assert ft.eval_shape(ft.jit(lambda x: x.T), S((2, 3), np.int32)) == S((3, 2), np.int32)
    # a Python scalar deciding a shape: bind it with functools.partial
    with pytest.raises(errors.TracerConversionError, match=r"argument 1.*functools\.partial\(<lambda>"):
        ft.eval_shape(lambda x, n: x[:n], np.ones(3), 2)
    assert ft.eval_shape(functools.partial(lambda x, n: x[:n], n=2), np.ones(3)) == S((2,), float)
    # control flow on values raises, as under jit
    with pytest.raises(errors.TracerConversionError, match=r"eval_shape\(f\)"):
        def f(x):
            return x if fnp.sum(x) > 0 else -x
        ft.eval_shape(f, np.ones(2))


def test_make_jaxpr_static_argnums_and_return_shape():
    def f(x, n, scale):
        for _ in range(n):  # n must be known while recording
            x = fnp.sin(x) * scale
        return {"y": x}

    program = ft.make_jaxpr(f, static_argnums=1)(np.ones(2), 2, 3.0)
    assert [eqn.prim.name for eqn in program.eqns] == ["sin", "mul", "sin", "mul"]
    program, shapes = ft.make_jaxpr(f, static_argnums=(-2,), return_shape=True)(
        np.ones(2, np.float32), 1, 3.0)
    assert shapes == {"y": ft.ShapeDtypeStruct((2,), np.float32)}
    np.testing.assert_allclose(program(np.ones(2, np.float32), 2.0)["y"], 2 * np.sin([1.0, 1.0]),
                               rtol=1e-6)
    with pytest.raises(ValueError, match="static_argnums=5 is out of range"):
        ft.make_jaxpr(f, static_argnums=5)(np.ones(2), 1, 3.0)
