"""The core's promises: nesting without perturbation confusion, concrete values under
transformations (Python control flow), the fast path, and leaked-tracer detection."""
import threading

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans._abstract import dtype_of, shape_of
from functrans.core.primitive import Primitive
from functrans.core.trace import Tracer
from functrans.primitives.elementwise import sin_p

# --- perturbation confusion -------------------------------------------------------------------

@pytest.mark.parametrize("x0", [0.0, 1.5, -2.0, 3.0])
def test_classic_perturbation_confusion(x0):
    # d/dx [x * d/dy (x + y)] = d/dx [x * 1] = 1 at any point.
    f = lambda x: x * ft.grad(lambda y: x + y)(1.0)
    assert float(ft.grad(f)(x0)) == 1.0


def test_perturbation_confusion_forward_mode():
    def f(x):
        _, inner = ft.jvp(lambda y: x * y, (2.0,), (1.0,))  # d/dy (x y) = x
        return x * inner  # x^2
    assert float(ft.jvp(f, (3.0,), (1.0,))[1]) == 6.0


def test_closure_over_outer_tracer_inside_inner_grad():
    # g(x) = d/dy [sin(x) * y^2] at y = 2 = 4 sin(x); g'(x) = 4 cos(x).
    def g(x):
        return ft.grad(lambda y: fnp.sin(x) * y**2)(2.0)
    assert np.isclose(ft.grad(g)(0.3), 4 * np.cos(0.3), rtol=1e-14)


def test_same_function_differentiated_at_two_levels():
    # f(x) = x^3: f'(x) = 3x^2, and d/dx [x * f'(x)] = 9x^2.
    cube = lambda x: x**3
    h = lambda x: x * ft.grad(cube)(x)
    assert np.isclose(ft.grad(h)(2.0), 36.0)


# --- nesting to any order, in every combination -------------------------------------------------

def test_grad_to_fourth_order():
    d4 = ft.grad(ft.grad(ft.grad(ft.grad(fnp.sin))))
    assert np.isclose(d4(0.7), np.sin(0.7), rtol=1e-14)


def test_jvp_of_grad_is_hessian_vector_product():
    A = np.array([[2.0, 1.0], [1.0, 3.0]])
    f = lambda x: 0.5 * x @ A @ x + fnp.sum(x**3)
    x, v = np.array([1.0, -2.0]), np.array([0.5, 1.0])
    hvp = ft.jvp(ft.grad(f), (x,), (v,))[1]
    np.testing.assert_allclose(hvp, A @ v + 6 * x * v, rtol=1e-14)


def test_grad_of_jvp():
    # jvp of sin along 1 is cos(x); its derivative is -sin(x).
    f = lambda x: ft.jvp(fnp.sin, (x,), (1.0,))[1]
    assert np.isclose(ft.grad(f)(0.4), -np.sin(0.4), rtol=1e-14)


def test_vjp_of_vjp():
    # f(x) = x^2 elementwise; vjp(ct) = 2 x ct; the vjp of that in ct is 2 x u.
    x = np.array([1.0, 2.0, 3.0])
    _, f_vjp = ft.vjp(lambda x: x**2, x)
    _, g_vjp = ft.vjp(lambda ct: f_vjp(ct)[0], np.ones(3))
    np.testing.assert_allclose(g_vjp(np.array([1.0, 1.0, 2.0]))[0], [2.0, 4.0, 12.0])


def test_vjp_of_vjp_with_respect_to_the_primal():
    # d/dx <vjp_f(x)(ct), u> for f = sin: d/dx [cos(x) ct u] = -sin(x) ct u.
    def inner(x):
        _, f_vjp = ft.vjp(fnp.sin, x)
        return f_vjp(np.array([2.0]))[0]
    _, outer_vjp = ft.vjp(inner, np.array([0.5]))
    np.testing.assert_allclose(outer_vjp(np.array([3.0]))[0], [-np.sin(0.5) * 6.0])


def test_jvp_of_jvp():
    f = lambda x: x**4
    df = lambda x: ft.jvp(f, (x,), (1.0,))[1]
    assert np.isclose(ft.jvp(df, (2.0,), (1.0,))[1], 12 * 2.0**2)


# --- concrete values: Python control flow on traced values --------------------------------------

def test_data_dependent_while_loop():
    def f(x):
        y, n = x, 0
        while y < 100.0:
            y = y * y if n % 2 == 0 else y + x
            n += 1
        return y
    assert float(ft.grad(f)(3.0)) == 168.0


def test_if_on_traced_value_in_every_mode():
    f = lambda x: x**2 if x > 0 else -x
    assert float(ft.grad(f)(3.0)) == 6.0
    assert float(ft.grad(f)(-3.0)) == -1.0
    assert float(ft.jvp(f, (3.0,), (1.0,))[1]) == 6.0
    assert float(ft.grad(ft.grad(f))(3.0)) == 2.0


def test_bool_len_float_item_and_iteration_on_tracers():
    # float() and .item() of a value being differentiated would drop its derivative: they
    # read it through stop_gradient, which says a constant is meant; int() and bool() need not
    seen = {}

    def f(x):
        seen["len"] = len(x)
        seen["bool"] = bool(x[0] > 0)
        seen["int"] = int(x[1])
        seen["float"] = float(ft.stop_gradient(x[1]))
        seen["item"] = ft.stop_gradient(x[2]).item()
        with pytest.raises(ft.errors.DroppedDerivativeError, match=r"float\(x\)"):
            float(x[1])
        with pytest.raises(ft.errors.DroppedDerivativeError, match=r"x\.item\(\)"):
            x[2].item()
        return sum(v * v for v in x)  # iterating a tracer gives its rows
    g = ft.grad(f)(np.array([1.0, 2.0, 3.0]))
    np.testing.assert_allclose(g, [2.0, 4.0, 6.0])
    assert seen == {"len": 3, "bool": True, "int": 2, "float": 2.0, "item": 3.0}


# --- the fast path ---------------------------------------------------------------------------

def test_bind_without_tracers_calls_the_implementation_directly():
    calls = []
    prim = Primitive("probe")
    prim.impl = lambda x: calls.append(x) or x + 1
    assert prim.bind(1.0) == 2.0 and calls == [1.0]


def test_functrans_numpy_on_plain_arrays_returns_plain_arrays():
    x = np.arange(4.0)
    for out in (fnp.sin(x), fnp.sum(x), x @ np.ones(4), fnp.matmul(x, np.ones(4)), fnp.tanh(x) * 2):
        assert not isinstance(out, Tracer)
    np.testing.assert_array_equal(sin_p.bind(x), np.sin(x))


# --- leaked tracers ---------------------------------------------------------------------------

def test_leaked_tracer_is_caught_when_used():
    leaked = []

    def f(x):
        leaked.append(x)
        return x * 2
    ft.grad(f)(1.0)
    with pytest.raises(ft.errors.LeakedTracerError, match=r"grad\(f\).*after that transformation"):
        fnp.sin(leaked[0])


def test_trace_stack_is_per_thread():
    results = {}

    def worker(name, x):
        results[name] = float(ft.grad(ft.grad(lambda v: v**3))(x))
    threads = [threading.Thread(target=worker, args=(i, float(i))) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == {i: 6.0 * i for i in range(4)}


def _use_in_another_thread(use):
    """Run ``use()`` in a new thread (while the caller's transformation is still active);
    return what it returned or raised."""
    box = {}

    def run():
        try:
            box["out"] = use()
        except Exception as error:  # handed back to the test
            box["out"] = error
    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    return box["out"]


@pytest.mark.parametrize("inner", [
    lambda x: ft.grad(lambda z: z * x)(2.0),
    lambda x: ft.grad(lambda z: x * z)(2.0),
    lambda x: ft.jvp(lambda z: fnp.sin(z) + x, (2.0,), (1.0,)),
    lambda x: ft.vjp(lambda z: z * x, 2.0)[1](1.0),
    lambda x: ft.make_jaxpr(lambda z: z * x)(2.0),
])
def test_a_tracer_used_in_another_thread_is_an_error(inner):
    seen = []

    def f(x):
        seen.append(_use_in_another_thread(lambda: inner(x)))
        return x * 1.0
    assert float(ft.grad(f)(3.0)) == 1.0
    (error,) = seen
    assert isinstance(error, ft.errors.LeakedTracerError), error
    assert "created by grad(f) in another thread was used in this thread" in str(error)
    assert "Pass the value into the function that runs in this thread as an argument" in str(error)


def test_a_batch_tracer_used_by_vmap_in_another_thread_is_an_error():
    seen = []

    def f(x):
        seen.append(_use_in_another_thread(lambda: ft.vmap(lambda z: z * x)(np.ones(2))))
        return x * 1.0
    np.testing.assert_array_equal(ft.vmap(f)(np.arange(3.0)), np.arange(3.0))
    (error,) = seen
    assert isinstance(error, ft.errors.LeakedTracerError), error
    assert "in another thread was used in this thread" in str(error)


@pytest.mark.parametrize("transform", [
    ft.grad, ft.vmap, ft.jit,
    lambda f: lambda x: ft.jvp(f, (x,), (np.ones_like(x),))[1],
], ids=["grad", "vmap", "jit", "jvp"])
def test_a_tracer_used_by_a_thread_with_no_transformation_is_an_error(transform):
    # Applying a primitive to another thread's tracer would run that thread's trace here: a
    # lost derivative, or an equation appended to the other thread's program.
    seen = []

    def f(x):
        seen.append(_use_in_another_thread(lambda: fnp.sin(x) * 3.0))
        return x * 2.0
    out = transform(f)(np.ones(2) if transform is not ft.grad else 1.0)
    np.testing.assert_array_equal(out, 2.0 * np.ones(np.shape(out)))
    (error,) = seen
    assert isinstance(error, ft.errors.LeakedTracerError), error
    assert "in another thread was used in this thread" in str(error)
    assert "the other thread's program corrupted" in str(error)


def test_jit_program_is_untouched_by_another_threads_use_of_its_tracer():
    def f(x):
        _use_in_another_thread(lambda: x * 5.0)
        return x + 1.0
    assert len(ft.make_jaxpr(f)(np.ones(2)).eqns) == 1


def test_outer_tracers_of_the_same_thread_stay_constants_of_inner_transformations():
    # d/dx [x * d/dy (x * y)] = d/dx [x * x] = 2x, in a thread of its own
    out = _use_in_another_thread(lambda: ft.grad(lambda x: x * ft.grad(lambda y: x * y)(1.0))(3.0))
    assert float(out) == 6.0


def test_grad_leaves_nothing_for_the_cycle_collector():
    # The recorded program's variables and their trace refer to each other; grad transposes
    # the program once and consumes it, so its residuals are freed by reference counting
    # (during the backward pass), not at some later garbage collection.
    import gc

    f = lambda w: fnp.sum(fnp.tanh(fnp.tanh(w @ w) @ w))
    w = np.linspace(0.0, 1.0, 16).reshape(4, 4)
    ft.grad(f)(w)
    gc.collect()
    gc.disable()
    try:
        ft.grad(f)(w)
        assert gc.collect() == 0
    finally:
        gc.enable()


# --- the IR: linear inputs, the symbolic zero ---------------------------------------------------

def test_only_the_variables_of_a_linear_program_are_linear_inputs():
    from functrans.core.ir import is_linear
    from functrans.interpreters.linearize import linearize_flat

    seen = {}

    def probe_transpose(ct, x, y):
        seen["x"], seen["y"] = is_linear(x), is_linear(y)
        return ct * y, ft.core.zero

    probe = Primitive("probe_mul")
    probe.impl = lambda x, y: x * y
    # (a rule meets a Python scalar where the function passes one: grad at 1.0 keeps it one)
    probe.shape_rule = lambda x, y: (shape_of(x), dtype_of(x))
    probe.jvp = lambda primals, tangents: (probe.bind(*primals), probe.bind(tangents[0], primals[1]))
    probe.transpose = probe_transpose

    # grad under make_jaxpr: y is a variable of make_jaxpr's program (a value), x a tangent
    ft.make_jaxpr(lambda y: ft.grad(lambda x: probe.bind(x, y))(1.0))(2.0)
    assert seen == {"x": True, "y": False}
    _, program = linearize_flat(lambda xs: [probe.bind(xs[0], 3.0)], [np.ones(2)], "test")
    assert program.linear and all(is_linear(v) for v in program.in_vars)
    assert not is_linear(np.ones(2)) and not any(is_linear(v) for v in ft.make_jaxpr(fnp.sin)(1.0).inputs)


def test_cotangents_that_do_not_flow_are_the_symbolic_zero():
    from functrans.core.zeros import zero
    from functrans.interpreters.linearize import linearize_flat
    from functrans.interpreters.transpose import transpose_program

    _, program = linearize_flat(lambda xs: [fnp.sin(xs[0])], [np.ones(2), np.ones(3)], "test")
    cts = transpose_program(program, [np.ones(2)])
    assert cts[1] is zero and np.allclose(cts[0], np.cos(1.0))
    assert transpose_program(program, [zero]) == [zero, zero]
