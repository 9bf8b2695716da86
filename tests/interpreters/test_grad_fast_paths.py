"""grad's direct paths give what the general ones give: products and sums of tangents recorded
without the shape rule (``scale``, add's JVP, ``LinearTrace.record_like``), the backward pass's
own multiply and pass-through of a sum, and the per-call shortcuts of grad and linearize.

The reference is the same derivative with debug_nans on, which turns every direct path off
(each operation then goes through its rule and its checked implementation): values and
dtypes must agree exactly.
"""
from __future__ import annotations

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans.core.staging import LinearTrace
from functrans.core.trace import Trace, pop_trace, push_trace, transforming
from functrans.errors import LeakedTracerError
from functrans.interpreters import transpose
from functrans.interpreters.linearize import linearize_flat
from functrans.primitives.elementwise import mul_p, scale, scale_left
from functrans.testing import check_grads

from direct_paths import assert_same_bits, general


def chain(x):
    for _ in range(3):
        x = fnp.sin(x) * 1.01 + 0.1 * x
    return fnp.sum(fnp.tanh(x) * fnp.exp(-x))


MIXED = [  # products and sums whose operands keep or change the tangent's shape and dtype
    ("python scalars", lambda x: fnp.sum(3 * x * 2.5 + x)),
    ("same-dtype NumPy scalar", lambda x: fnp.sum(x * x.dtype.type(1.5) + x * x)),
    ("float64 scalar widens float32", lambda x: fnp.sum(x * np.float64(1.5))),
    ("broadcast constant", lambda x: fnp.sum(x * ft.stop_gradient(x)[:, None])),
    ("broadcast sum", lambda x: fnp.sum(x[None, :] + x[:, None])),
    ("complex constant", lambda x: fnp.sum(fnp.real(x * (1 + 2j)))),
    ("tanh of a matrix (slope in place)", lambda x: fnp.sum(fnp.tanh(x[:, None] * x[None, :] + 0.5) * x)),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name,f", MIXED + [("chain", chain)], ids=lambda v: v if isinstance(v, str) else "")
def test_grad_equals_the_general_path(backend, name, f, dtype):
    x = backend.put(np.linspace(-1.0, 1.0, 3).astype(dtype))
    fast = ft.grad(f)(x)
    backend.check_placed(fast)
    assert_same_bits(backend.get(fast), backend.get(general(ft.grad(f), x)))
    assert backend.get(fast).dtype == dtype


@pytest.mark.parametrize("x", [np.float64(0.3), np.float32(0.3), 0.3, np.array(0.3)], ids=type)
def test_scalar_chain_equals_the_general_path(x):
    for f in (chain, ft.grad(chain)):
        assert_same_bits(ft.grad(f)(x), general(ft.grad(f), x))
        assert_same_bits(ft.value_and_grad(f)(x), general(ft.value_and_grad(f), x))


def test_chain_derivatives_match_finite_differences(backend):
    check_grads(chain, (backend.put(np.array([0.3, -0.7])),), order=2)


@pytest.mark.parametrize("dtype", [np.complex64, np.complex128])
@pytest.mark.parametrize("f", [lambda z: z * 2.0, lambda z: -z, lambda z: z / 2.0, lambda z: z * 2.0 + z * 3.0,
                               lambda z: z])
def test_a_real_cotangent_for_a_complex_output_gives_a_complex_gradient_on_both_paths(f, dtype):
    # the cotangent is the complex one with a zero imaginary part, whatever path each
    # equation takes: neither the direct multiply nor a rule may pass the real one on
    z = np.array([0.5 + 1j, 1.5 - 0.5j], dtype)
    real = np.finfo(dtype).dtype
    ct = np.array([1.0, -2.0], real)
    fast = ft.vjp(f, z)[1](ct)[0]
    assert_same_bits(fast, general(lambda: ft.vjp(f, z)[1](ct)[0]))
    assert fast.dtype == dtype
    np.testing.assert_array_equal(fast, ft.vjp(f, z)[1](ct.astype(dtype))[0])
    assert ft.linear_transpose(f, z)(ct)[0].dtype == dtype


def test_nested_and_jit_grads_agree():
    d2 = ft.grad(ft.grad(lambda x: x**2 + 3 * x + 1))
    assert float(d2(0.7)) == 2.0 and float(ft.jit(d2)(0.7)) == 2.0
    hvp = ft.jvp(ft.grad(chain), (np.array([0.3, 0.4]),), (np.array([1.0, 0.0]),))[1]
    assert_same_bits(hvp, general(lambda: ft.jvp(ft.grad(chain), (np.array([0.3, 0.4]),),
                                               (np.array([1.0, 0.0]),))[1]))
    per_example = ft.vmap(ft.grad(chain))(np.array([[0.3], [0.4]]))
    np.testing.assert_allclose(per_example[:, 0], [ft.grad(chain)(np.array([0.3]))[0],
                                                   ft.grad(chain)(np.array([0.4]))[0]])


def test_scale_records_the_product_mul_records():
    x = np.array([1.0, 2.0])
    for product in (lambda t: scale(t, np.float64(2.0)), lambda t: scale_left(np.float64(2.0), t),
                    lambda t: scale(t, np.array([3.0, 4.0])), lambda t: scale(t, np.float32(2.0))):
        _, program = linearize_flat(lambda ts, p=product: [p(ts[0])], [x], "test")
        (eqn,) = program.eqns
        assert eqn.prim is mul_p and eqn.params == {}
        assert eqn.outs[0].shape == (2,) and eqn.outs[0].dtype == np.float64
    # outside a linear recording it is mul
    assert scale(np.float64(2.0), 3.0) == 6.0 and scale_left(2.0, np.float64(3.0)) == 6.0
    y, t = ft.jvp(lambda x: scale(x, np.float64(3.0)), (x,), (np.ones(2),))
    np.testing.assert_array_equal(t, [3.0, 3.0])


def test_record_like_follows_the_debug_nans_recording():
    x = np.array([1.0, 2.0])
    with ft.config.override(debug_nans=True):
        _, program = linearize_flat(lambda ts: [scale(ts[0], np.float64(2.0))], [x], "test")
    assert program.eqns[0].source is not None  # process_primitive recorded the line
    _, program = linearize_flat(lambda ts: [scale(ts[0], np.float64(2.0))], [x], "test")
    assert program.eqns[0].source is None
    assert type(program.trace) is LinearTrace


def test_debug_nans_turns_the_backward_pass_shortcuts_off():
    # (its checked implementations must see every operation of the backward pass)
    assert transpose._inline
    with ft.config.override(debug_nans=True):
        assert not transpose._inline
        with pytest.raises(FloatingPointError):
            ft.grad(lambda x: fnp.sum(fnp.log(x)))(np.array([-1.0]))
    assert transpose._inline


def test_a_leaked_tangent_variable_still_raises():
    leaked = []

    def keep(x):
        leaked.append(x)
        return fnp.sin(x)

    ft.grad(keep)(0.5)
    with pytest.raises(LeakedTracerError):
        ft.grad(lambda x: x * leaked[0])(0.5)


def test_push_and_pop_trace_keep_the_stack():
    before = transforming()
    trace = push_trace(Trace, "test")
    try:
        assert transforming() and trace.alive
    finally:
        pop_trace(trace)
    assert not trace.alive and transforming() == before


def test_one_leaf_arguments_skip_the_pytree_but_keep_their_structure():
    g = ft.grad(lambda w, x: w * x, argnums=(0, 1))(np.float64(2.0), 3.0)
    assert isinstance(g, tuple) and float(g[0]) == 3.0 and float(g[1]) == 2.0
    g = ft.grad(lambda p: p["w"] ** 2)({"w": 3.0})
    assert list(g) == ["w"] and float(g["w"]) == 6.0
    # an argument that is a tracer of an outer grad is one leaf too: d/dx (2 x y at y = x) = 4x
    assert float(ft.grad(lambda x: ft.grad(lambda y: x * y * y)(x))(2.0)) == 8.0


# --- grad of one leaf, nested grads ----------------------------------------------------------
def poly(x):
    return x**2 + 3 * x + 1


NESTED = [  # functions whose inner derivatives multiply by values of the outer grad
    ("poly", poly),
    ("chain", lambda x: fnp.sum(chain(x))),
    ("broadcast coefficient", lambda x: fnp.sum(x * fnp.sum(x) + fnp.sin(x) * x[..., :1])),
    ("shape (1,) output", lambda x: fnp.reshape(fnp.sum(fnp.exp(x) * x), (1,))),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name,f", NESTED, ids=lambda v: v if isinstance(v, str) else "")
def test_nested_grads_equal_the_general_path(backend, name, f, dtype):
    x = backend.put(np.array([0.3, -0.6], dtype))
    hvp = ft.grad(lambda x: fnp.vdot(ft.grad(lambda y: fnp.sum(f(y)))(x), fnp.ones_like(x)))
    fast = hvp(x)
    backend.check_placed(fast)
    assert_same_bits(backend.get(fast), backend.get(general(hvp, x)))
    assert backend.get(fast).dtype == dtype


@pytest.mark.parametrize("x", [0.7, np.float64(0.7), np.float32(0.7), np.array(0.7), np.array([0.7])],
                         ids=lambda v: f"{type(v).__name__}{np.shape(v)}")
def test_higher_derivatives_of_one_leaf_equal_the_general_path(x):
    d2 = ft.grad(ft.grad(poly))
    d3 = ft.grad(ft.grad(ft.grad(lambda x: fnp.sum(fnp.sin(x) * x))))
    for d in (d2, d3, ft.grad(lambda x: fnp.sum(ft.grad(lambda y: fnp.sum(y * x * y))(x)))):
        assert_same_bits(d(x), general(d, x))
        assert_same_bits(ft.jit(d)(x), general(d, x))
    assert float(np.asarray(d2(x)).reshape(())) == 2.0
    # the types of the results are the general path's (a 0-d array, a NumPy scalar)
    for d in (ft.grad(poly), ft.grad(lambda x: x)):
        assert type(d(x)) is type(general(d, x))


def test_higher_derivatives_match_finite_differences(backend):
    f = NESTED[2][1]
    check_grads(lambda x: ft.grad(lambda y: fnp.sum(f(y)))(x), (backend.put(np.array([0.3, -0.6])),),
                order=1)
    d4 = ft.grad(ft.grad(ft.grad(ft.grad(fnp.sin))))
    np.testing.assert_allclose(float(d4(0.7)), np.sin(0.7), rtol=1e-12)


def test_one_leaf_grad_keeps_argnums_keywords_and_vmap():
    g = ft.grad(lambda a, x, *, k: k * x**3 + a, argnums=1)
    assert float(g(1.0, 2.0, k=2.0)) == 24.0
    assert float(ft.grad(ft.grad(lambda a, x: a * x**3, argnums=1), argnums=1)(2.0, 1.0)) == 12.0
    per_example = ft.vmap(ft.grad(ft.grad(poly)))(np.array([0.1, 0.2, 0.3]))
    np.testing.assert_array_equal(per_example, [2.0, 2.0, 2.0])
    # the derivative of a non-first argument that is an outer grad's tracer
    assert float(ft.grad(lambda x: ft.grad(lambda a, y: a * y * y, argnums=1)(x, x))(2.0)) == 8.0


def test_one_leaf_grad_keeps_the_input_and_output_checks():
    from functrans import errors
    with pytest.raises(errors.InputDtypeError, match="allow_int"):
        ft.grad(poly)(np.int64(2))
    assert float(ft.grad(lambda x: x * 1.5, allow_int=True)(np.int64(2))) == 0.0
    with pytest.raises(errors.NonScalarOutputError, match="shape"):
        ft.grad(lambda x: x * np.ones(2))(0.5)
    with pytest.raises(errors.NonScalarOutputError, match="shape"):  # inside a nested grad
        ft.grad(lambda x: ft.grad(lambda y: y * fnp.ones(2) * x)(x))(0.5)
    with pytest.raises(errors.NonScalarOutputError, match="complex"):
        ft.grad(lambda x: x * 1j)(0.5)
    with pytest.raises(errors.NonScalarOutputError, match="float output"):
        ft.grad(lambda x: fnp.floor(x).astype(int))(0.5)
    assert float(ft.grad(lambda x: fnp.reshape(x * 3.0, (1, 1)))(0.5)) == 3.0
    # a complex input differentiates as the general path does
    z = np.complex128(1.0 + 2.0j)
    assert_same_bits(ft.grad(lambda z: fnp.abs(z) ** 2)(z), general(ft.grad(lambda z: fnp.abs(z) ** 2), z))


def test_an_outer_tracer_leaked_into_a_later_nested_grad_still_raises():
    leaked = []

    def keep(x):
        leaked.append(x * 2.0)
        return ft.grad(lambda y: y * x)(x)

    ft.grad(keep)(0.5)
    with pytest.raises(LeakedTracerError):
        ft.grad(lambda x: ft.grad(lambda y: y * y * leaked[0])(x))(0.5)


def test_inner_products_with_outer_values_are_recorded_as_mul_records_them():
    # scale(t, c) with c a tracer of the outer grad: the same equation mul records
    seen = []

    def inner(ts):
        c = ts[0]  # (stands for the outer transformation's value)
        _, program = linearize_flat(lambda us: [scale(us[0], c) + scale_left(c, us[0])],
                                    [np.float64(0.5)], "inner")
        seen.append(program)
        return [c]

    linearize_flat(lambda ts: inner([ts[0] * 2.0]), [np.float64(1.5)], "outer")
    (program,) = seen
    assert [e.prim.name for e in program.eqns] == ["mul", "mul", "add"]
    assert all(e.outs[0].shape == () and e.outs[0].dtype == np.float64 for e in program.eqns)
    assert program.eqns[0].args[0] is program.in_vars[0]


def test_the_product_of_two_tangents_sums_them_as_add_records_it():
    from functrans.primitives._define import add_tangents
    x = np.array([1.0, 2.0])
    _, program = linearize_flat(lambda ts: [ts[0] * ts[0]], [x], "test")
    assert [e.prim.name for e in program.eqns] == ["mul", "mul", "add"]
    assert program.eqns[2].outs[0].shape == (2,) and program.eqns[2].outs[0].dtype == np.float64
    assert float(add_tangents(np.float64(1.0), 2.0)) == 3.0  # outside a recording: add
    for f in (lambda x: fnp.sum(x * x), lambda x: fnp.sum(x[None, :] * x[:, None]),
              lambda x: fnp.sum(x * x.astype(np.float32))):
        assert_same_bits(ft.grad(f)(x), general(ft.grad(f), x))
        d2 = ft.grad(lambda z, f=f: fnp.sum(ft.grad(lambda y: f(y) * y[0])(z)))
        assert_same_bits(d2(x), general(d2, x))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_integer_powers_equal_the_general_path(backend, dtype):
    x = backend.put(np.array([0.3, -1.7, 2.5], dtype))
    for y in (2, 3, -2, 5):
        f = lambda x, y=y: fnp.sum(x**y)
        for d in (ft.grad(f), ft.grad(lambda z, f=f: fnp.sum(ft.grad(f)(z) * z))):
            fast = d(x)
            backend.check_placed(fast)
            assert_same_bits(backend.get(fast), backend.get(general(d, x)))
            assert backend.get(fast).dtype == dtype
    check_grads(lambda x: fnp.sum(x**3), (backend.put(np.array([0.3, -1.7])),), order=2)
