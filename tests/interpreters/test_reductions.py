"""jit's reductions called as the ufunc's own reduce (interpreters/reductions.py): the same
values as eager bit for bit, dtype for dtype, on both backends."""
from __future__ import annotations

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans.interpreters import reductions
from functrans.interpreters.replay import ReplayPlan
from functrans.testing import check_grads

RNG = np.random.default_rng(0)


def _direct(fn, *args) -> int:
    """How many steps of jit's plan for ``fn(*args)`` call a ufunc's reduce directly."""
    plan = ReplayPlan(ft.make_jaxpr(fn)(*args).program)
    plan.run(list(args))
    return sum(1 for step in plan.steps
               if any(step[1] == u.reduce for u in reductions.UFUNC_REDUCTIONS.values()))


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


def test_matches_eager_on_both_backends(backend):
    x = backend.put(RNG.standard_normal((9, 4)))

    def fn(x):
        e = fnp.exp(x - fnp.max(x, axis=1, keepdims=True))
        return fnp.sum(e, axis=1), fnp.min(e * x, axis=0), fnp.prod(x, axis=0)

    for g, e in zip(backend.get(ft.jit(fn)(x)), backend.get(fn(x))):
        _same(g, e)
    check_grads(ft.jit(lambda x: fnp.sum(fnp.tanh(x), axis=0) * fnp.max(x, axis=0)), (x,), order=2)
