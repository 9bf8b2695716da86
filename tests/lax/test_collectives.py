"""Collectives over a named vmap axis (functrans.lax.psum, pmean, pmax, pmin, all_gather,
axis_index): values against NumPy on the whole batch, derivatives against finite differences
and against the figures JAX 0.10 gives for the same programs (its vmap transposes psum to psum),
eagerly and under jit, and the refusals that name the fix."""
from __future__ import annotations

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans import errors, lax
from functrans.testing import check_grads

X = np.array([0.5, -1.0, 2.0])


def named(f, name="i", **kw):
    return ft.vmap(f, axis_name=name, **kw)


@pytest.mark.parametrize("jit", [False, True])
def test_reductions_match_numpy_on_the_batch(jit):
    def f(x):
        return lax.psum(x, "i"), lax.pmean(x, "i"), lax.pmax(x, "i"), lax.pmin(x, "i")

    g = named(f)
    g = ft.jit(g) if jit else g
    xs = np.arange(12.0).reshape(4, 3) ** 1.5
    for got, ref in zip(g(xs), (np.sum, np.mean, np.max, np.min)):
        np.testing.assert_allclose(got, np.broadcast_to(ref(xs, axis=0), xs.shape), rtol=1e-14)


def test_axis_index_all_gather_and_a_python_number():
    xs = np.arange(6.0).reshape(3, 2)
    np.testing.assert_array_equal(named(lambda x: x * lax.axis_index("i"))(xs), xs * [[0], [1], [2]])
    np.testing.assert_array_equal(named(lambda x: lax.all_gather(x, "i"))(xs), np.stack([xs] * 3))
    np.testing.assert_array_equal(named(lambda x: lax.all_gather(x, "i", axis=1))(xs),
                                  np.stack([xs.T] * 3))
    np.testing.assert_array_equal(named(lambda x: lax.all_gather(x, "i", tiled=True))(xs),
                                  np.stack([xs.reshape(-1)] * 3))
    np.testing.assert_array_equal(named(lambda x: lax.psum(1.0, "i"))(X), [3.0, 3.0, 3.0])
    tree = named(lambda d: lax.psum(d, "i"))({"a": X, "b": (2 * X,)})
    np.testing.assert_allclose(tree["b"][0], np.full(3, 2 * X.sum()))
    assert named(lambda x: lax.psum(x, "i"), out_axes=None)(X) == X.sum()  # replicated


def test_nested_vmaps_reduce_over_the_axis_named():
    xs = np.arange(6.0).reshape(2, 3)
    inner = named(named(lambda x: lax.psum(x, "j"), name="j"))(xs)
    outer = named(named(lambda x: lax.psum(x, "i"), name="j"))(xs)
    both = named(named(lambda x: lax.psum(x, ("i", "j")), name="j"))(xs)
    np.testing.assert_array_equal(inner, np.broadcast_to(xs.sum(1, keepdims=True), xs.shape))
    np.testing.assert_array_equal(outer, np.broadcast_to(xs.sum(0), xs.shape))
    np.testing.assert_array_equal(both, np.full(xs.shape, xs.sum()))
    gathered = named(named(lambda x: lax.all_gather(x, "i"), name="j"))(xs)  # (2, 3, 2)
    np.testing.assert_array_equal(gathered, np.broadcast_to(xs.T, (2, 3, 2)))


def test_derivatives_are_jaxs_psum_transposes_to_psum():
    # JAX 0.10: vmap(grad(lambda x: psum(x**2, 'i')), axis_name='i')(arange(3.)) = [0, 6, 12]
    x = np.arange(3.0)
    np.testing.assert_allclose(named(ft.grad(lambda x: lax.psum(x ** 2, "i")))(x), [0, 6, 12])
    np.testing.assert_allclose(named(ft.grad(lambda x: lax.pmean(x ** 2, "i")))(x), [0, 2, 4])
    np.testing.assert_allclose(named(ft.grad(lambda x: x * lax.psum(x, "i")))(x), [6, 6, 6])
    np.testing.assert_allclose(
        named(ft.grad(lambda x: fnp.sum(lax.all_gather(x, "i") ** 2)))(x), [0, 6, 12])
    np.testing.assert_allclose(named(ft.jacfwd(lambda x: x * lax.psum(x, "i")))(x), [3, 6, 9])
    np.testing.assert_allclose(named(ft.jacrev(lambda x: x * lax.psum(x, "i")))(x), [6, 6, 6])
    np.testing.assert_allclose(named(ft.hessian(lambda x: x * lax.psum(x ** 2, "i")))(x),
                               [12, 18, 24])
    # the same as grad of the sum over the examples, under jit too
    f = lambda x: x * lax.psum(fnp.sin(x), "i")
    total = ft.grad(lambda xs: fnp.sum(named(f)(xs)))(X)
    np.testing.assert_allclose(named(ft.grad(f))(X), total, rtol=1e-14)
    np.testing.assert_allclose(ft.jit(named(ft.grad(f)))(X), total, rtol=1e-14)


@pytest.mark.parametrize("collective", ["psum", "pmean", "all_gather", "tiled"])
def test_derivatives_against_finite_differences(collective):
    apply = {"psum": lambda x: lax.psum(x, "i"), "pmean": lambda x: lax.pmean(x, "i"),
             "all_gather": lambda x: lax.all_gather(x, "i"),
             "tiled": lambda x: lax.all_gather(x, "i", tiled=True)}[collective]

    def batch(xs):
        return named(lambda x: fnp.sin(x) * fnp.sum(apply(fnp.tanh(x) * x)))(xs)

    check_grads(batch, (np.arange(6.0).reshape(3, 2) / 5 - 0.4,), order=2)


@pytest.mark.parametrize("transform", ["vmap", "jit_of_vmap", "vmap_of_grad"])
def test_a_python_numbers_collective_is_weakly_typed(transform):
    """As in JAX, psum(1, "i") is the batch size as a weakly typed int and psum(1.0, "i") a
    weak float: they keep the dtype of the arrays they meet."""
    x32 = np.arange(3.0, dtype=np.float32)
    y16 = np.array([1.0, 2.0, 4.0], np.float16)

    def f(x, y):
        return (x * lax.psum(1, "i"), y * lax.psum(1.0, "i"), y * lax.pmean(2, "i"),
                y * lax.pmax(0.5, "i") + lax.pmin(1, "i"), fnp.arange(4)[lax.psum(1, "i")])

    if transform == "vmap_of_grad":
        def g(x, y):
            grad, out = ft.grad(lambda x_: (fnp.sum(f(x_, y)[0]), f(x_, y)), has_aux=True)(x)
            assert grad == 3.0
            return out
        run = named(g)
    else:
        run = named(f) if transform == "vmap" else ft.jit(named(f))
    times_size, by_size, by_mean, extremes, taken = run(x32, y16)
    assert times_size.dtype == np.float32 and by_size.dtype == np.float16
    assert by_mean.dtype == np.float16 and extremes.dtype == np.float16
    np.testing.assert_array_equal(times_size, 3 * x32)
    np.testing.assert_array_equal(by_size, 3 * y16)
    np.testing.assert_array_equal(by_mean, 2 * y16)
    np.testing.assert_array_equal(extremes, 0.5 * y16 + 1)
    np.testing.assert_array_equal(taken, [3, 3, 3])
    assert named(lambda x: lax.psum(1, "i"))(x32).dtype == np.int64


def test_jit_inside_the_vmap_follows_the_batch_size():
    # a plan staged inside one vmap is not kept with that batch's size folded in
    g = ft.jit(lambda x: x * lax.axis_index("i") + lax.psum(1.0, "i"))
    np.testing.assert_array_equal(named(g)(np.arange(3.0)), [3, 4, 7])
    np.testing.assert_array_equal(named(g)(np.arange(5.0)), [5, 6, 9, 14, 21])


def test_refusals_name_the_fix():
    with pytest.raises(errors.BatchAxisError, match="axis_name='i'"):
        lax.psum(X, "i")
    with pytest.raises(errors.BatchAxisError, match="'k' is not bound"):
        named(lambda x: lax.psum(x, ("i", "k")))(X)
    with pytest.raises(errors.UnsupportedError, match="pmax has no derivative"):
        named(ft.grad(lambda x: lax.pmax(x ** 2, "i")))(X)
    with pytest.raises(errors.BatchAxisError, match="at least one axis name"):
        named(lambda x: lax.psum(x, ()))(X)
    with pytest.raises(errors.BatchAxisError, match="one name"):
        named(lambda x: lax.all_gather(x, ("i",)))(X)
    # a collective of a value the loop does not batch is that of copies inside it
    # (tests/lax/test_collectives_in_control_flow.py has the loops that batch it)
    np.testing.assert_array_equal(
        named(lambda x: lax.scan(lambda c, _: (c + lax.psum(1.0, "i"), None), x, None,
                                 length=2)[0])(np.arange(3.0)), [6, 7, 8])


def test_results_and_gradients_stay_on_the_inputs_device(backend):
    xs = backend.put(np.arange(6.0).reshape(3, 2))

    def f(x):
        return x * lax.axis_index("i") + lax.pmean(x, "i") + lax.psum(1.0, "i")

    out = named(f)(xs)
    backend.check_placed(out)
    host = np.arange(6.0).reshape(3, 2)
    np.testing.assert_allclose(backend.get(out), host * [[0], [1], [2]] + host.mean(0) + 3.0)
    grads = named(ft.grad(lambda x: fnp.sum(lax.all_gather(x, "i") ** 2)))(xs)
    backend.check_placed(grads)
    np.testing.assert_allclose(backend.get(grads), 6 * host)


def test_a_value_of_an_enclosing_transformation_is_the_same_in_every_example():
    # figures from JAX 0.10 for the same programs: the collective of a value made outside the
    # named vmap (an outer vmap's, grad's or jit's) is that of as many copies
    xs, ys = np.array([1.0, 2.0, 3.0]), np.array([10.0, 20.0])
    nested = ft.vmap(lambda x: named(lambda y: y + lax.psum(x, "j"), name="j")(ys), axis_name="i")(xs)
    np.testing.assert_array_equal(nested, [[12, 22], [14, 24], [16, 26]])
    gathered = ft.vmap(lambda x: named(lambda y: y + lax.all_gather(x, "j"), name="j")(ys),
                       axis_name="i")(xs)
    np.testing.assert_array_equal(gathered[1], [[12, 12], [22, 22]])
    np.testing.assert_array_equal(ft.jit(lambda w: named(lambda x: x * lax.psum(w, "i"))(xs))(2.0),
                                  [6, 12, 18])
    np.testing.assert_array_equal(ft.jit(named(ft.grad(lambda x: lax.pmean(x * x, "i"))))(xs), [2, 4, 6])
    assert ft.grad(lambda w: fnp.sum(named(lambda x: x * lax.psum(w, "i"))(xs)))(2.0) == 18.0
    assert ft.grad(lambda w: fnp.sum(named(lambda x: x * fnp.sum(lax.all_gather(w, "i")))(xs)))(2.0) == 18.0
