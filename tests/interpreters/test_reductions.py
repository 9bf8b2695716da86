"""jit's reductions called as the ufunc's own reduce (interpreters/reductions.py): the same
values as eager bit for bit, dtype for dtype, on both backends."""
from __future__ import annotations

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans.interpreters import fusion, reductions, row_kernels
from functrans.interpreters.replay import ReplayPlan
from functrans.primitives.reduction import reduce_max_p, reduce_min_p, short_axis_extreme
from functrans.testing import check_grads

RNG = np.random.default_rng(0)


def _direct(fn, *args) -> int:
    """How many steps of jit's plan for ``fn(*args)`` call a ufunc's reduce directly (or, for
    a maximum or minimum over a short last axis, the primitive's ufunc calls per entry)."""
    plan = ReplayPlan(ft.make_jaxpr(fn)(*args).program)
    plan.run(list(args))
    short = (reduce_max_p.impl, reduce_min_p.impl)
    return sum(1 for step in plan.steps
               if any(step[1] == u.reduce for u in reductions.UFUNC_REDUCTIONS.values())
               or step[1] in short and "axes" in step[2])


def _same(a, b) -> None:
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype and a.shape == b.shape
    assert np.ascontiguousarray(a).tobytes() == np.ascontiguousarray(b).tobytes()


@pytest.mark.parametrize("reduce", [fnp.sum, fnp.max, fnp.min, fnp.prod])
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16, np.int8, np.uint16, np.complex64])
@pytest.mark.parametrize("shape, axis", [((256, 10), 1), ((256, 10), 0), ((7, 3, 5), (0, 2)),
                                         ((5,), 0), ((4, 6), None)])
def test_bit_for_bit_eager(reduce, dtype, shape, axis):
    if reduce in (fnp.max, fnp.min) and np.dtype(dtype).kind == "c":
        pytest.skip("complex numbers have no order")
    x = (RNG.standard_normal(shape) * 3).astype(dtype)
    fn = lambda x: reduce(x + x, axis=axis)
    _same(ft.jit(fn)(x), fn(x))
    assert _direct(fn, x) == 1


def test_bools_and_special_values():
    b = RNG.standard_normal((6, 4)) > 0
    _same(ft.jit(lambda b: fnp.sum(b, axis=0))(b), fnp.sum(b, axis=0))
    x = np.array([[np.inf, -0.0, np.nan], [1.0, -0.0, -np.inf]])
    for reduce in (fnp.sum, fnp.max, fnp.min, fnp.prod):
        fn = lambda x: reduce(x * 1.0 + 0.0 * x, axis=0)
        _same(ft.jit(fn)(x), fn(x))


def test_0d_values_keep_their_step():
    fn = lambda x: fnp.sum(fnp.sum(x * 2.0), axis=())
    assert _direct(fn, np.ones(3)) == 1  # the inner sum only: its result is 0-d
    _same(ft.jit(fn)(np.ones(3)), fn(np.ones(3)))


def test_an_empty_maximum_raises_as_eager():
    fn = lambda x: fnp.max(x * 2.0, axis=0)
    with pytest.raises(ValueError, match="zero-size"):
        fn(np.ones((0, 3)))
    with pytest.raises(ValueError, match="zero-size"):
        ft.jit(fn)(np.ones((0, 3)))


def test_matches_eager_on_both_backends(backend, monkeypatch):
    # (with the kernel extra the softmax below is a row kernel, which rounds otherwise:
    # tests/interpreters/test_row_kernels.py; here the reductions are NumPy's own)
    monkeypatch.setattr(row_kernels, "ENABLED", False)
    x = backend.put(RNG.standard_normal((9, 4)))

    def fn(x):
        e = fnp.exp(x - fnp.max(x, axis=1, keepdims=True))
        return fnp.sum(e, axis=1), fnp.min(e * x, axis=0), fnp.prod(x, axis=0)

    for g, e in zip(backend.get(ft.jit(fn)(x)), backend.get(fn(x))):
        _same(g, e)
    check_grads(ft.jit(lambda x: fnp.sum(fnp.tanh(x), axis=0) * fnp.max(x, axis=0)), (x,), order=2)


@pytest.mark.parametrize("reduce, ufunc", [(fnp.max, np.maximum), (fnp.min, np.minimum)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int32])
@pytest.mark.parametrize("shape", [(256, 10), (32, 2), (64, 4), (4, 64, 16), (63, 4), (512, 17),
                                   (256, 1)])
def test_short_last_axis_extremes_equal_numpys(reduce, ufunc, dtype, shape, monkeypatch):
    monkeypatch.setattr(fusion, "REDUCTION_KERNELS", False)  # (with Numba: x + x and its max)
    x = (RNG.standard_normal(shape) * 3).astype(dtype)
    axis = len(shape) - 1
    taken = short_axis_extreme(ufunc, x, (axis,))
    k = shape[-1]
    assert (taken is not None) == (2 <= k <= 16 and x.size >= 16 * k * k)
    expected = ufunc.reduce(x, axis=axis)
    _same(reduce(x, axis=axis), expected)
    fn = lambda x: reduce(x + x, axis=-1)
    _same(ft.jit(fn)(x), fn(x))
    assert _direct(fn, x) == 1


def test_short_last_axis_extremes_of_special_values_and_views():
    x = RNG.standard_normal((64, 4))
    x[3, 2] = np.nan
    x[5] = [np.inf, -np.inf, 1.0, np.nan]
    x[7] = -np.inf
    for reduce in (fnp.max, fnp.min):
        out = reduce(x, axis=1)
        assert np.isnan(out[3]) and np.isnan(out[5]) and out[7] == -np.inf
        _same(out, np.max(x, axis=1) if reduce is fnp.max else np.min(x, axis=1))
    view = np.asfortranarray(x)  # not C-ordered: NumPy's reduce
    assert short_axis_extreme(np.maximum, view, (1,)) is None
    _same(fnp.max(view, axis=1), np.max(x, axis=1))
    assert short_axis_extreme(np.maximum, x, (0,)) is None


def test_short_last_axis_extremes_on_both_backends_and_their_derivatives(backend):
    x = RNG.standard_normal((64, 4))
    fn = lambda x: fnp.sum(fnp.max(x, axis=1) * fnp.min(x, axis=-1, keepdims=True).T)
    expected = fn(x)
    xb = backend.put(x)
    np.testing.assert_array_equal(backend.get(fn(xb)), expected)
    np.testing.assert_array_equal(backend.get(ft.jit(fn)(xb)), expected)
    check_grads(fn, (xb,), order=2)
    check_grads(ft.jit(fn), (xb,), order=1)
