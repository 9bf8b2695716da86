"""The ufunc methods and attributes of the elementwise functions of functrans.numpy
(``fnp.add.reduce``, ``.accumulate``, ``.reduceat``, ``.outer``, ``.at``; ``nin``, ``nout``,
``nargs``, ``identity``): NumPy's attributes, the same values eagerly, under jit and under vmap
on generated shapes, NumPy's dtypes on traced arrays, JAX's functional ``at``, and errors that
name the fix. Values and derivatives against NumPy on both backends are rows of the op table
(tests/specs/ufunc_methods.py)."""
from __future__ import annotations

import inspect

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import functrans as ft
import functrans.numpy as fnp
from functrans import errors
from functrans.testing import check_grads

from specs import assert_same
from specs.strategies import shapes
from specs.ufunc_methods import REDUCIBLE, fold_reduce

METHODS = ("reduce", "accumulate", "reduceat", "outer", "at")


def _numpy_ufuncs():
    for name in dir(fnp):
        ufunc = getattr(np, name, None)
        if isinstance(ufunc, np.ufunc) and ufunc.nout == 1 and ufunc.signature is None and name != "isnat":
            yield name, ufunc


@pytest.mark.parametrize("name, ufunc", list(_numpy_ufuncs()), ids=[n for n, _ in _numpy_ufuncs()])
def test_attributes_and_methods_are_numpys(name, ufunc):
    fn = getattr(fnp, name)
    assert (fn.nin, fn.nout, fn.nargs) == (ufunc.nin, ufunc.nout, ufunc.nargs)
    assert fn.identity == ufunc.identity or (np.isnan(fn.identity) and np.isnan(ufunc.identity))
    for method in METHODS if ufunc.nin == 2 else ("at",):
        bound = getattr(fn, method)
        assert bound.__name__ == method and "Example:" in bound.__doc__
        assert "fn" not in inspect.signature(bound).parameters  # the function itself is bound


def test_binary_list_is_complete():
    """The functions the brief names, and every binary one NumPy has as a ufunc."""
    for name in ("add", "subtract", "multiply", "divide", "true_divide", "floor_divide", "power", "maximum",
                 "minimum", "fmax", "fmin", "logaddexp", "logaddexp2", "arctan2", "hypot", "logical_and",
                 "logical_or", "logical_xor", "bitwise_and", "bitwise_or", "bitwise_xor", "gcd", "lcm"):
        assert callable(getattr(fnp, name).reduce), name


@pytest.mark.parametrize("name", ["divmod", "frexp", "modf"])
def test_two_output_functions_have_numpys_attributes_and_refusals(name):
    fn, ufunc = getattr(fnp, name), getattr(np, name)
    assert (fn.nin, fn.nout, fn.nargs, fn.identity) == (ufunc.nin, ufunc.nout, ufunc.nargs, ufunc.identity)
    x = np.array([1.5, 2.0, 3.25])
    for method in METHODS if ufunc.nin == 2 else ("at",):
        assert hasattr(fn, method), method
        if method == "outer":
            continue
        args = {"reduce": (x,), "accumulate": (x,), "reduceat": (x, [0, 1]),
                "at": (x, [0]) + ((2.0,) if ufunc.nin == 2 else ())}[method]
        with pytest.raises(ValueError):
            getattr(ufunc, method)(*args)
        with pytest.raises(ValueError, match=f"fnp.{name}.{method}"):
            getattr(fn, method)(*args)


def test_divmod_outer_gives_both_outer_arrays_eagerly_under_jit_and_in_grad():
    a, b = np.array([1.5, 2.0, -3.25]), np.array([1.0, 0.75])
    want = np.divmod.outer(a, b)
    for got in (fnp.divmod.outer(a, b), fnp.divmod.outer(fnp.asarray(a), b),
                ft.jit(lambda u: fnp.divmod.outer(u, b))(a)):
        assert len(got) == 2
        for g, w in zip(got, want):
            np.testing.assert_array_equal(np.asarray(g), w)
    # the remainder's derivative in the dividend is 1 away from the jumps
    np.testing.assert_allclose(ft.grad(lambda u: fnp.divmod.outer(u, b)[1].sum())(a), [2.0, 2.0, 2.0])


def _values(rng, shape, name):
    domain = REDUCIBLE[name][0]
    return domain(rng, shape, np.float64)


@st.composite
def reduce_case(draw):
    name = draw(st.sampled_from(sorted(REDUCIBLE)))
    shape = draw(shapes(min_dims=2, min_side=1))
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    x = _values(np.random.default_rng(draw(st.integers(0, 2**16))), shape, name)
    return name, x, axis, draw(st.booleans())


def _reference(name, method, x, **kw):
    if method == "reduce" and name in ("power", "arctan2"):
        return fold_reduce(getattr(np, name), x, **kw)
    return getattr(getattr(np, name), method)(x, **kw)


@given(case=reduce_case())
def test_reduce_and_accumulate_agree_eagerly_under_jit_and_vmap(case):
    name, x, axis, keepdims = case
    fn = getattr(fnp, name)
    want = _reference(name, "reduce", x, axis=axis, keepdims=keepdims)
    assert_same(fn.reduce(x, axis=axis, keepdims=keepdims), want, f"{name}.reduce")
    assert_same(ft.jit(lambda v: fn.reduce(v, axis=axis, keepdims=keepdims))(x), want, f"jit {name}.reduce")
    inner = axis % x.ndim - 1 if axis % x.ndim else 0  # the axis inside vmap over the first
    if axis % x.ndim:
        batched = ft.vmap(lambda v: fn.reduce(v, axis=inner))(x)
        assert_same(batched, _reference(name, "reduce", x, axis=axis % x.ndim), f"vmap {name}.reduce")
    want = np.asarray(getattr(np, name).accumulate(x, axis=axis))
    assert_same(ft.jit(lambda v: fn.accumulate(v, axis=axis))(x), want, f"jit {name}.accumulate")
    if axis % x.ndim:
        batched = ft.vmap(lambda v: fn.accumulate(v, axis=inner))(x)
        assert_same(batched, want, f"vmap {name}.accumulate")


@given(case=reduce_case(), data=st.data())
def test_reduceat_and_outer_agree_under_jit_and_vmap(case, data):
    name, x, axis, _ = case
    fn = getattr(fnp, name)
    n = x.shape[axis]
    indices = np.asarray(data.draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=4)))
    staged = ft.jit(lambda v: fn.reduceat(v, indices, axis=axis))(x)
    assert_same(staged, fn.reduceat(x, indices, axis=axis), f"jit {name}.reduceat")
    if name not in ("power", "arctan2"):  # (NumPy's own reduceat of these is wrong, see specs)
        assert_same(staged, getattr(np, name).reduceat(x, indices, axis=axis), f"{name}.reduceat")
    y = x[0]
    assert_same(ft.jit(fn.outer)(x, y), getattr(np, name).outer(x, y), f"jit {name}.outer")
    assert_same(ft.vmap(fn.outer)(x, x), np.stack([getattr(np, name).outer(a, a) for a in x]),
                f"vmap {name}.outer")


def test_numpy_reduce_of_power_and_arctan2_is_replaced_by_a_fold():
    """NumPy 2.4's reduce of these along a contiguous axis of three or more entries disagrees
    with its accumulate; eager, jit and the derivative all use the fold."""
    x = np.array([0.7, 1.3, 2.2, 0.9])
    for name in ("power", "arctan2"):
        ufunc = getattr(np, name)
        expected = ufunc.accumulate(x)[-1]
        assert np.isclose(getattr(fnp, name).reduce(x), expected)
        assert np.isclose(ft.jit(getattr(fnp, name).reduce)(x), expected)
        assert np.allclose(getattr(fnp, name).reduceat(x, [0, 1]), [ufunc.accumulate(x[:1])[-1],
                                                                    ufunc.accumulate(x[1:])[-1]])


@pytest.mark.parametrize("dtype, name, expected", [
    (np.int8, "add", np.int64), (np.bool_, "add", np.int64), (np.bool_, "multiply", np.int64),
    (np.int8, "maximum", np.int8), (np.float32, "add", np.float32), (np.float32, "subtract", np.float32),
    (np.int32, "divide", np.float64), (np.float64, "logical_and", np.bool_), (np.int16, "bitwise_or", np.int16),
    (np.float32, "hypot", np.float32),
])
def test_traced_dtypes_are_numpys(dtype, name, expected):
    x = np.array([[1, 2, 3], [3, 1, 2]]).astype(dtype)
    fn = getattr(fnp, name)
    for method in ("reduce", "accumulate"):
        got = ft.jit(lambda v: getattr(fn, method)(v, axis=1))(x)
        want = getattr(getattr(np, name), method)(x, axis=1)
        assert got.dtype == want.dtype == expected if method == "reduce" else got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)


def test_reduce_axes_keepdims_initial_where_under_jit():
    x = np.arange(24.0).reshape(2, 3, 4) / 7
    mask = np.array([True, False, True, True])
    for kw in ({"axis": None}, {"axis": (0, 2), "keepdims": True}, {"axis": 1, "initial": 2.0},
               {"axis": -1, "where": mask}, {"axis": (0, 1), "where": mask[None, None, :2].repeat(2, -1)}):
        for name in ("add", "multiply", "maximum", "logaddexp", "hypot", "fmin"):
            if "where" in kw and getattr(np, name).identity is None:
                kw = {**kw, "initial": -1.0}
            want = getattr(np, name).reduce(x, **kw)
            assert_same(ft.jit(lambda v: getattr(fnp, name).reduce(v, **kw))(x), want, f"{name} {kw}")
    # a 0-d array reduces to itself along axis 0, as in NumPy
    assert_same(ft.jit(fnp.subtract.reduce)(np.float64(3.0)), np.subtract.reduce(np.float64(3.0)))
    with pytest.raises(np.exceptions.AxisError, match="out of bounds for array of dimension 0"):
        ft.jit(lambda v: fnp.hypot.reduce(v, axis=(0,)))(np.float64(3.0))


def test_reductions_raise_numpys_errors_on_traced_arrays():
    x = np.ones((2, 3))
    with pytest.raises(ValueError, match="not reorderable, so at most one axis"):
        ft.jit(lambda v: fnp.subtract.reduce(v, axis=None))(x)
    with pytest.raises(ValueError, match="not reorderable"):
        ft.jit(lambda v: fnp.divide.reduce(v, axis=(0, 1)))(x)
    with pytest.raises(ValueError, match="zero-size array to reduction operation maximum which has no identity"):
        ft.jit(lambda v: fnp.maximum.reduce(v, axis=0))(np.ones((0, 3)))
    with pytest.raises(ValueError, match="does not have an identity.*initial"):
        ft.jit(lambda v: fnp.minimum.reduce(v, where=np.array([True, False, True]), axis=1))(x)
    with pytest.raises(ValueError, match="multiple axes"):
        fnp.add.accumulate(x, axis=None)
    with pytest.raises(TypeError, match="cannot accumulate on a scalar"):
        ft.jit(fnp.add.accumulate)(np.float64(1.0))
    with pytest.raises(NotImplementedError, match="out="):
        fnp.add.reduce(x, out=np.empty(3))
    # empty reductions with an identity give it
    assert_same(ft.jit(lambda v: fnp.add.reduce(v, axis=0))(np.ones((0, 3))), np.zeros(3))
    assert_same(ft.jit(lambda v: fnp.logical_and.reduce(v, axis=0))(np.ones((0, 2))), np.ones(2, bool))


def test_reduceat_checks_its_indices():
    x = np.arange(6.0)
    with pytest.raises(IndexError, match="index 6 out-of-bounds in add.reduceat"):
        ft.jit(lambda v: fnp.add.reduceat(v, [0, 6]))(x)
    with pytest.raises(errors.UnsupportedError, match="segment_sum"):
        ft.jit(lambda v, i: fnp.add.reduceat(v, i))(x, np.array([0, 2]))
    assert_same(ft.jit(lambda v: fnp.add.reduceat(v, np.array([0, 4, 1, 5])))(x),
                np.add.reduceat(x, [0, 4, 1, 5]))


def test_at_is_functional_and_needs_inplace_false():
    x = np.zeros(4)
    with pytest.raises(NotImplementedError, match="inplace=False"):
        fnp.add.at(x, np.array([0, 0]), 1.0)
    out = ft.jit(lambda v: fnp.add.at(v, np.array([0, 0, 3]), 1.5, inplace=False))(x)
    np.testing.assert_array_equal(out, [3.0, 0.0, 0.0, 1.5])
    assert not x.any()  # unchanged
    # a function with no scatter of its own: unique indices work, repeated ones name the way out
    got = ft.jit(lambda v: fnp.power.at(v, np.array([1, 3]), 2.0, inplace=False))(np.arange(4.0))
    np.testing.assert_array_equal(got, [0.0, 1.0, 2.0, 9.0])
    np.testing.assert_array_equal(fnp.negative.at(np.arange(3.0), np.array([2]), inplace=False), [0.0, 1.0, -2.0])
    with pytest.raises(NotImplementedError, match="repeat.*fnp.unique"):
        fnp.power.at(np.arange(4.0), np.array([1, 1]), 2.0, inplace=False)
    with pytest.raises(TypeError, match="needs the values b"):
        fnp.add.at(x, np.array([0]), inplace=False)
    # vmap over the array and the values
    batch = ft.vmap(lambda v, b: fnp.maximum.at(v, np.array([0, 0, 2]), b, inplace=False))(
        np.zeros((2, 3)), np.array([[1.0, 2.0, -1.0], [-1.0, -2.0, 5.0]]))
    np.testing.assert_array_equal(batch, [[2.0, 0.0, 0.0], [0.0, 0.0, 5.0]])


def test_derivatives_of_folds_and_running_forms_to_second_order():
    rng = np.random.default_rng(3)
    x = rng.uniform(0.5, 2.0, (3, 4))
    for fn in (lambda v: fnp.power.reduce(v, axis=0), lambda v: fnp.arctan2.accumulate(v, axis=1),
               lambda v: fnp.subtract.reduceat(v, [0, 2, 1], axis=1), lambda v: fnp.hypot.reduce(v, axis=(0, 1)),
               lambda v: fnp.divide.outer(v[0], v[1]), lambda v: fnp.maximum.accumulate(v, axis=0),
               lambda v: fnp.logaddexp2.reduce(v, axis=None),
               lambda v: fnp.multiply.at(v, np.array([[0, 0], [1, 2]]), v[2], inplace=False)):
        check_grads(fn, (x,), order=2, modes=("fwd", "rev"))
        check_grads(ft.jit(fn), (x,), order=2, modes=("fwd", "rev"))


def test_outer_makes_arrays_of_numbers_as_numpy_does():
    """NumPy's outer turns a Python float into a float64 array, which widens float32."""
    x = np.ones(3, np.float32)
    for args in ((x, 2.0), (2.0, x)):
        want = np.add.outer(*args)
        got = ft.jit(lambda a, b: fnp.add.outer(a, b))(*args)
        assert got.dtype == want.dtype == np.float64 and got.shape == want.shape


@pytest.mark.parametrize("name", ["add", "maximum", "hypot", "subtract"])
def test_host_masks_and_initial_values_are_placed_with_the_array(backend, name):
    """A mask given as a list or a NumPy bool, and a NumPy scalar initial, go where the array is
    (as NumPy's own reduce takes them), for the reductions and the folds alike."""
    x = np.arange(6.0).reshape(2, 3) / 2
    for kw in ({"where": [True, False, True], "initial": np.float64(1.0)}, {"where": np.True_, "initial": 2},
               {"initial": np.float64(0.5)}):
        got = getattr(fnp, name).reduce(backend.put(x), axis=1, **kw)
        backend.check_placed(got)
        assert_same(backend.get(got), getattr(np, name).reduce(x, axis=1, **kw), f"{name} {kw}")


@pytest.mark.parametrize("name", ["add", "hypot"])
def test_a_mask_that_is_not_boolean_is_refused_as_numpy_refuses_it(name):
    """Eager NumPy raises for an integer mask; traced arrays must not quietly read it as != 0."""
    x, mask = np.ones((2, 3)), np.array([1, 0, 1])
    with pytest.raises(TypeError):
        getattr(fnp, name).reduce(x, axis=1, where=mask)
    with pytest.raises(TypeError, match="boolean mask.*mask != 0"):
        ft.jit(lambda v: getattr(fnp, name).reduce(v, axis=1, where=mask))(x)
