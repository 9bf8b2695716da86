"""grad / value_and_grad / vjp / jvp / stop_gradient: argnums, has_aux, pytrees, dtypes."""
import collections
import dataclasses

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp


def test_seed_examples_equivalents():
    assert float(ft.grad(lambda x: x**2 + 3 * x + 1)(2.0)) == 7.0
    gx, gy = ft.grad(lambda x, y: x * y + y**2, argnums=(0, 1))(2.0, 3.0)
    assert (float(gx), float(gy)) == (3.0, 8.0)
    assert float(ft.grad(lambda x: 3 * x**3 + 2 * x**2 + x)(3.0)) == 94.0
    assert float(1.0 - 0.1 * ft.grad(lambda w: (w - 5) ** 2)(1.0)) == 1.8
    assert float(ft.grad(lambda x: x * ft.stop_gradient(x))(3.0)) == 3.0


def test_argnums_int_and_tuple_and_negative():
    f = lambda a, b, c: a * b**2 * c**3
    assert float(ft.grad(f, argnums=1)(1.0, 2.0, 3.0)) == 2 * 2.0 * 27.0
    ga, gc = ft.grad(f, argnums=(0, 2))(1.0, 2.0, 3.0)
    assert (float(ga), float(gc)) == (4.0 * 27.0, 4.0 * 27.0)
    assert float(ft.grad(f, argnums=-1)(1.0, 2.0, 3.0)) == 4.0 * 27.0


def test_argnums_of_numpy_integers_as_jax_takes_them():
    f = lambda a, b: a * b ** 2
    g = ft.grad(f, argnums=np.int64(1))(2.0, 3.0)
    assert float(g) == 12.0 and not isinstance(g, tuple)
    ga, gb = ft.value_and_grad(f, argnums=(np.int32(0), np.int64(-1)))(2.0, 3.0)[1]
    assert (float(ga), float(gb)) == (9.0, 12.0)
    assert float(ft.jacrev(f, argnums=np.int64(0))(2.0, 3.0)) == 9.0
    assert float(ft.jacfwd(f, argnums=np.int64(0))(2.0, 3.0)) == 9.0
    assert float(ft.hessian(f, argnums=np.int64(1))(2.0, 3.0)) == 4.0


def test_value_and_grad_with_aux():
    def f(x):
        y = fnp.sum(x**2)
        return y, {"y": y, "x": x}
    (value, aux), g = ft.value_and_grad(f, has_aux=True)(np.array([1.0, 2.0]))
    assert float(value) == 5.0 and float(aux["y"]) == 5.0
    np.testing.assert_array_equal(aux["x"], [1.0, 2.0])
    assert type(aux["x"]) is np.ndarray  # aux leaves come out as plain arrays
    np.testing.assert_array_equal(g, [2.0, 4.0])
    g2, aux2 = ft.grad(f, has_aux=True)(np.array([1.0, 2.0]))
    np.testing.assert_array_equal(g2, [2.0, 4.0])
    assert float(aux2["y"]) == 5.0


def test_grad_over_pytrees_keeps_structure():
    Point = collections.namedtuple("Point", "x y")
    params = {"w": np.array([1.0, 2.0]), "layers": [Point(np.float64(3.0), None), (np.ones(2),)]}

    def f(p):
        return fnp.sum(p["w"] ** 2) + p["layers"][0].x ** 3 + fnp.sum(p["layers"][1][0] * 5)
    g = ft.grad(f)(params)
    np.testing.assert_array_equal(g["w"], [2.0, 4.0])
    assert isinstance(g["layers"][0], Point) and g["layers"][0].y is None
    assert float(g["layers"][0].x) == 27.0
    np.testing.assert_array_equal(g["layers"][1][0], [5.0, 5.0])


def test_grad_of_registered_dataclass():
    @ft.tree.register_dataclass
    @dataclasses.dataclass
    class Params:
        w: np.ndarray
        b: float

    g = ft.grad(lambda p: fnp.sum(p.w * 3) + p.b**2)(Params(np.ones(2), 2.0))
    assert isinstance(g, Params)
    np.testing.assert_array_equal(g.w, [3.0, 3.0])
    assert float(g.b) == 4.0


def test_unused_input_gets_zero_gradient_of_its_shape_and_dtype():
    g = ft.grad(lambda x, y: fnp.sum(x), argnums=(0, 1))(np.ones(2), np.ones((3, 2), np.float32))
    np.testing.assert_array_equal(g[1], np.zeros((3, 2)))
    assert g[1].dtype == np.float32


def test_float32_in_float32_out():
    x = np.array([1.0, 2.0], np.float32)
    g = ft.grad(lambda x: fnp.sum(fnp.sin(x) * 2.5 + x**2))(x)
    assert g.dtype == np.float32
    value, g = ft.value_and_grad(lambda x: fnp.mean(fnp.tanh(x @ np.ones((2, 3), np.float32))))(x)
    assert value.dtype == np.float32 and g.dtype == np.float32


def test_python_scalars_do_not_widen_float32():
    x = np.float32(2.0)
    assert ft.grad(lambda x: 3.0 * x**2 + 1.5)(x).dtype == np.float32


def test_allow_int_gives_zero_gradient():
    g = ft.grad(lambda x, n: x * n, argnums=(0, 1), allow_int=True)(2.0, 3)
    assert float(g[0]) == 3.0 and g[1] == 0


def test_allow_int_zeros_have_the_inputs_shape_and_dtype_and_feed_an_optimizer():
    # JAX returns zeros of its float0 dtype, which NumPy arithmetic refuses; here the zeros have
    # the integer input's own shape and dtype, so an update of the whole tree works as it is
    from functrans import optim

    params = {"w": np.array([1.0, -2.0]), "n": np.arange(3, dtype=np.int32), "mask": np.array([True, False])}
    loss = lambda p: fnp.sum(p["w"] ** 2) * fnp.sum(p["n"]) + fnp.sum(p["w"] * p["mask"])
    for grad in (ft.grad(loss, allow_int=True), ft.jit(ft.grad(loss, allow_int=True))):
        g = grad(params)
        np.testing.assert_allclose(g["w"], 2 * params["w"] * 3 + params["mask"], rtol=1e-15)
        for key in ("n", "mask"):
            assert g[key].dtype == params[key].dtype and g[key].shape == params[key].shape
            assert not g[key].any()
    batched = ft.vmap(ft.grad(lambda w, n: fnp.sum(w * n), argnums=1, allow_int=True), in_axes=(None, 0))
    got = batched(params["w"], np.arange(4, dtype=np.int8).reshape(2, 2))
    assert got.dtype == np.int8 and got.shape == (2, 2) and not got.any()
    opt = optim.adam(0.1)
    g = ft.grad(loss, allow_int=True)(params)
    updates, _ = opt.update(g, opt.init(params), params)
    new = optim.apply_updates(params, updates)
    for key in ("n", "mask"):
        np.testing.assert_array_equal(new[key], params[key])
        assert new[key].dtype == params[key].dtype
    assert (new["w"] != params["w"]).all()


@pytest.mark.parametrize("f,derivative", [
    (fnp.exp, np.exp),                            # the derivative reads the output
    (lambda x: x * x, lambda x: 2 * x),           # ... the input
    (lambda x: fnp.exp(x).reshape(3, 1), np.exp),  # ... the memory of a view of the output
])
def test_writing_into_the_inputs_or_outputs_leaves_vjp_and_linearize_alone(f, derivative):
    # NumPy code writes into results (out -= target): the derivative kept for later must not
    # read the caller's memory
    x = np.array([0.5, -1.0, 2.0])
    expected = derivative(x).reshape(3)
    a = x.copy()
    out, f_vjp, aux = ft.vjp(lambda a: (f(a), f(a)), a, has_aux=True)
    out -= 1.0
    aux -= 1.0
    a[:] = 7.0
    np.testing.assert_allclose(f_vjp(np.ones_like(out))[0], expected, rtol=1e-15)
    a = x.copy()
    out, f_jvp = ft.linearize(f, a)
    out -= 1.0
    a[:] = 7.0
    np.testing.assert_allclose(f_jvp(np.ones(3)).reshape(3), expected, rtol=1e-15)
    np.testing.assert_array_equal(out.reshape(3), f(x).reshape(3) - 1.0)  # (a result, as before)


_CLOSED = np.ones(3)  # a module global the differentiated function reads


@pytest.mark.parametrize("kind", ["closure", "view kept by the caller", "global"])
def test_writing_into_a_closed_over_array_leaves_vjp_and_linearize_alone(kind):
    # the derivative of sum(A * x * x) reads both A and the intermediate A * x: editing A
    # afterwards gave 2 * A_new * x's half plus A_old * x's half, neither answer
    global _CLOSED
    x = np.array([0.5, -1.0, 2.0])
    for transform in ("vjp", "linearize"):
        if kind == "closure":
            A = np.ones(3)
        elif kind == "view kept by the caller":
            A = np.ones(5)[1:4]  # the caller holds the view only
        else:
            _CLOSED = np.ones(3)
        f = (lambda x: fnp.sum(A * x * x)) if kind != "global" else (lambda x: fnp.sum(_CLOSED * x * x))
        if transform == "vjp":
            _, f_vjp = ft.vjp(f, x)
        else:
            _, f_jvp = ft.linearize(f, x)
        (A if kind != "global" else _CLOSED)[:] = 2.0
        got = f_vjp(1.0)[0] if transform == "vjp" else np.array([f_jvp(e) for e in np.eye(3)])
        np.testing.assert_allclose(got, 2 * x, rtol=1e-15)


def test_vjp_keeps_the_forward_intermediates_without_copying_them():
    # only arrays someone else can still write into are copied: the intermediates, which the
    # derivative alone refers to, are read where the forward pass left them
    from functrans.core.ir import Var
    from functrans.interpreters.linearize import linearize_flat, own_residuals
    W = np.ones((3, 3))

    def residual_ids(program):
        return [id(a) for e in program.eqns for a in e.args if type(a) is not Var and hasattr(a, "shape")]

    x = np.linspace(0.1, 1.0, 3)
    outs, program = linearize_flat(
        lambda ts: [fnp.sum(fnp.tanh(W @ ts[0]) * fnp.exp(ts[0])[::-1])], [x], "test")
    before = residual_ids(program)
    own_residuals(program, [x, *outs])
    after = residual_ids(program)
    copied = [a != b for a, b in zip(before, after)]
    assert sum(copied) == before.count(id(W)) == 1  # W, closed over; not tanh's or exp's values


def test_vjp_jvp_and_linearize_results_never_share_memory_with_the_given_cotangent_or_tangent():
    # (a reshape's transpose is a reshape: the result was a view of the caller's cotangent,
    # so scaling the gradient in place, g *= -lr, changed the cotangent)
    x = np.arange(3.0)
    for f in (lambda x: x, lambda x: x.reshape(3, 1), lambda x: (x, x[::-1])):
        out, f_vjp = ft.vjp(f, x)
        ct = ft.tree.map(np.ones_like, out)
        (g,) = f_vjp(ct)
        g *= -0.1
        assert all((leaf == 1.0).all() for leaf in ft.tree.leaves(ct))
        _, f_jvp = ft.linearize(f, x)
        t = np.ones(3)
        for leaf in ft.tree.leaves(f_jvp(t)):
            leaf *= -0.1
        np.testing.assert_array_equal(t, np.ones(3))
        for leaf in ft.tree.leaves(ft.jvp(f, (x,), (t,))[1]):
            leaf *= -0.1
        np.testing.assert_array_equal(t, np.ones(3))


def test_vjp_multiple_inputs_and_outputs():
    f = lambda x, y: {"sum": x + y, "prod": x * y}
    x, y = np.array([1.0, 2.0]), np.array([3.0, 4.0])
    out, f_vjp = ft.vjp(f, x, y)
    np.testing.assert_array_equal(out["prod"], [3.0, 8.0])
    gx, gy = f_vjp({"sum": np.ones(2), "prod": np.array([1.0, 2.0])})
    np.testing.assert_array_equal(gx, 1 + np.array([1.0, 2.0]) * y)
    np.testing.assert_array_equal(gy, 1 + np.array([1.0, 2.0]) * x)


def test_vjp_function_can_be_called_repeatedly():
    _, f_vjp = ft.vjp(lambda x: x**3, np.array([2.0]))
    np.testing.assert_array_equal(f_vjp(np.ones(1))[0], [12.0])
    np.testing.assert_array_equal(f_vjp(2 * np.ones(1))[0], [24.0])


def test_vjp_has_aux():
    out, f_vjp, aux = ft.vjp(lambda x: (x * 2, "hello"), np.ones(2), has_aux=True)
    assert aux == "hello"
    np.testing.assert_array_equal(f_vjp(np.ones(2))[0], [2.0, 2.0])


def test_jvp_pytrees_and_has_aux():
    f = lambda p: ({"a": p["x"] * p["y"]}, p["x"])
    primals = ({"x": np.array([1.0, 2.0]), "y": np.array([3.0, 4.0])},)
    tangents = ({"x": np.array([1.0, 0.0]), "y": np.array([0.0, 1.0])},)
    out, t_out, aux = ft.jvp(f, primals, tangents, has_aux=True)
    np.testing.assert_array_equal(out["a"], [3.0, 8.0])
    np.testing.assert_array_equal(t_out["a"], [3.0, 2.0])
    np.testing.assert_array_equal(aux, [1.0, 2.0])


def test_jvp_output_independent_of_input_has_zero_tangent():
    out, t = ft.jvp(lambda x: np.ones(3) * 2, (1.0,), (1.0,))
    np.testing.assert_array_equal(t, np.zeros(3))


def test_stop_gradient_on_pytrees():
    f = lambda p: fnp.sum(p["a"] * ft.stop_gradient(p)["a"])
    np.testing.assert_array_equal(ft.grad(f)({"a": np.array([1.0, 2.0])})["a"], [1.0, 2.0])


def test_numpy_functions_dispatch_on_tracers():
    # Unmodified NumPy calls inside a differentiated function route to functrans.numpy.
    f = lambda x: np.sum(np.sin(x) * np.ones(2))
    np.testing.assert_allclose(ft.grad(f)(np.array([0.0, 1.0])), np.cos([0.0, 1.0]))


def test_indexing_and_at_updates():
    x = np.arange(5.0)
    g = ft.grad(lambda x: fnp.sum(x[1:4] ** 2) + x[np.array([0, 0, 4])].sum() + x[x > 3].sum())(x)
    np.testing.assert_array_equal(g, [2.0, 2.0, 4.0, 6.0, 2.0])
    g = ft.grad(lambda x: fnp.sum(x.at[0].set(10.0) * x.at[np.array([1, 1])].add(x[2])))(x)
    # y = x with y0 = 10; z = x with z1 = x1 + 2 x2. f = sum(y * z).
    # df/dx0 = 0*z0 + y0*0 ... y0 is a constant 10 and z0 = x0: df/dx0 = 10.
    # df/dx1 = y1 * 1 + z1 * 1 = 1 + (1 + 4) = 6; df/dx2 = y2 + z2 + 2 y1 = 2 + 2 + 2 = 6.
    np.testing.assert_array_equal(g, [10.0, 6.0, 6.0, 6.0, 8.0])


def test_vjp_through_a_jitted_function_does_not_copy_its_constants():
    # the plan's constants are its own read-only copies: nothing can write into them
    from functrans.core.ir import Var
    from functrans.interpreters.linearize import linearize_flat, own_residuals
    W = np.ones((3, 3))
    f = ft.jit(lambda x: fnp.sum(fnp.tanh(W @ x)))
    x = np.linspace(0.1, 1.0, 3)
    f(x)
    outs, program = linearize_flat(lambda ts: [f(ts[0])], [x], "test")
    before = [id(a) for e in program.eqns for a in e.args if type(a) is not Var and hasattr(a, "shape")]
    own_residuals(program, [x, *outs])
    after = [id(a) for e in program.eqns for a in e.args if type(a) is not Var and hasattr(a, "shape")]
    assert before == after and before
    W[:] = 2.0  # (the plan copied W when it was built)
    np.testing.assert_allclose(ft.vjp(f, x)[1](1.0)[0], np.full(3, 3 * (1 - np.tanh(x.sum()) ** 2)),
                               rtol=1e-12)
