"""functrans.flatten_util.ravel_pytree: one vector of the common dtype and back, shapes and
dtypes restored, derivatives through both directions, and tracers under jit and vmap, on both
backends."""
from __future__ import annotations

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans.flatten_util import ravel_pytree
from functrans.testing import check_grads

RNG = np.random.default_rng(0)


def _params(backend):
    return backend.put({"w": RNG.standard_normal((2, 3)), "b": [RNG.standard_normal(3), None],
                        "s": RNG.standard_normal(())})


def test_ravel_joins_leaves_in_tree_order_and_unravel_rebuilds_them(backend):
    params = _params(backend)
    flat, unravel = ravel_pytree(params)
    backend.check_placed(flat, "ravel_pytree")
    host = backend.get(params)
    expected = np.concatenate([host["b"][0], [host["s"]], host["w"].ravel()])
    np.testing.assert_array_equal(backend.get(flat), expected)
    back = unravel(flat)
    assert back["b"][1] is None
    for got, want in zip(ft.tree.leaves(backend.get(back)), ft.tree.leaves(host)):
        assert got.shape == want.shape and got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("dtypes, common", [
    ((np.float32, np.float32), np.float32),
    ((np.float32, np.float64), np.float64),
    ((np.int32, np.float32), np.float64),
    ((np.int8, np.int16), np.int16),
    ((np.bool_, np.float32), np.float32),
    ((np.float32, np.complex64), np.complex64),
    ((np.float64, np.complex64), np.complex128),
])
def test_one_promoted_dtype_and_each_leaf_dtype_restored(dtypes, common):
    leaves = [np.arange(3).astype(d) for d in dtypes]
    flat, unravel = ravel_pytree(leaves)
    assert flat.dtype == np.dtype(common) == np.result_type(*dtypes)
    for got, want in zip(unravel(flat), leaves):
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)


def test_python_scalars_take_numpy_dtypes():
    flat, unravel = ravel_pytree((1.5, 2, np.float32(3)))
    assert flat.dtype == np.float64
    assert [np.asarray(x).dtype for x in unravel(flat)] == [np.float64, np.int64, np.float32]


def test_an_empty_tree_is_an_empty_float64_vector():
    flat, unravel = ravel_pytree({"a": None, "b": []})
    assert flat.shape == (0,) and flat.dtype == np.float64
    assert unravel(flat) == {"a": None, "b": []}


def test_unravel_refuses_a_vector_of_another_shape_or_dtype():
    flat, unravel = ravel_pytree({"w": np.ones((2, 2))})
    with pytest.raises(ValueError, match=r"shape \(4,\).*vmap"):
        unravel(np.ones(5))
    with pytest.raises(ValueError, match=r"shape \(4,\)"):
        unravel(np.ones((1, 4)))
    with pytest.raises(TypeError, match="float64.*astype"):
        unravel(np.ones(4, np.float32))


def test_derivatives_through_ravel_and_unravel(backend):
    params = _params(backend)
    flat, unravel = ravel_pytree(params)

    def loss(v):
        p = unravel(v)
        return fnp.sum(fnp.tanh(p["w"]) @ p["b"][0]) * p["s"]

    check_grads(loss, (flat,), order=2, modes=("fwd", "rev"))
    check_grads(lambda w, b: ravel_pytree({"w": w, "b": b})[0] ** 2, (params["w"], params["b"][0]), order=2,
                modes=("fwd", "rev"))
    g = ft.grad(lambda p: fnp.sum(ravel_pytree(p)[0] ** 2))(params)
    np.testing.assert_allclose(backend.get(g["w"]), 2 * backend.get(params["w"]))


def test_integer_leaves_carry_values_and_no_derivative():
    flat, unravel = ravel_pytree({"x": np.ones(2), "n": np.array([3, 4])})
    g = ft.grad(lambda v: fnp.sum(unravel(v)["x"] * unravel(v)["n"]))(flat)
    np.testing.assert_array_equal(g, [0.0, 0.0, 3.0, 4.0])


def test_under_jit_and_vmap(backend):
    params = _params(backend)
    flat, unravel = ravel_pytree(params)
    jitted = ft.jit(lambda p: ravel_pytree(p)[0])(params)
    np.testing.assert_array_equal(backend.get(jitted), backend.get(flat))
    back = ft.jit(unravel)(flat)
    np.testing.assert_array_equal(backend.get(back["w"]), backend.get(params["w"]))
    batch = backend.put(np.stack([backend.get(flat), 2 * backend.get(flat)]))
    batched = ft.vmap(unravel)(batch)
    assert batched["w"].shape == (2, 2, 3)
    np.testing.assert_array_equal(backend.get(batched["w"])[1], 2 * backend.get(params["w"]))
    raveled = ft.vmap(lambda w: ravel_pytree({"w": w, "b": params["b"][0]})[0])(params["w"])
    assert raveled.shape == (2, 6)
