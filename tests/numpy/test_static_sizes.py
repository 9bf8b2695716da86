"""Value-dependent results given a static size, as JAX's ``size=`` and ``length=`` do:
``nonzero``, ``where(condition)``, ``flatnonzero`` and ``argwhere`` with ``size`` and
``fill_value``, ``bincount`` with ``length``; the same numbers eagerly, under jit and under
vmap, on both backends, against NumPy's result padded or cut by hand."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import functrans as ft
import functrans.numpy as fnp


def padded(columns, size, fill):
    """NumPy's nonzero columns cut or padded to ``size`` with ``fill`` (one per column)."""
    out = []
    for c, f in zip(columns, fill):
        c = c[:size]
        out.append(np.concatenate([c, np.full(size - len(c), f, c.dtype)]))
    return out


@st.composite
def masks(draw):
    shape = tuple(draw(st.lists(st.integers(0, 4), min_size=1, max_size=3)))
    values = draw(st.lists(st.integers(0, 2), min_size=int(np.prod(shape)), max_size=int(np.prod(shape))))
    return np.array(values, dtype=np.int64).reshape(shape), draw(st.integers(0, 9))


@given(masks())
def test_nonzero_with_a_size_matches_numpy_padded(case):
    a, size = case
    fill = tuple(range(-1, -1 - a.ndim, -1))
    want = padded(np.nonzero(a), size, fill)
    for f in (fnp.nonzero, ft.jit(fnp.nonzero, static_argnames=("size", "fill_value"))):
        got = f(a, size=size, fill_value=fill)
        assert len(got) == a.ndim
        for g, w in zip(got, want):
            np.testing.assert_array_equal(g, w)
    np.testing.assert_array_equal(ft.jit(lambda a: fnp.flatnonzero(a, size=size))(a),
                                  padded([np.flatnonzero(a)], size, (0,))[0])


def test_the_sized_forms_under_jit_and_vmap(backend):
    a = np.array([[0, 1, 3], [2, 0, 0]])
    batch = np.stack([a, a[::-1], 0 * a])
    xs, bs = backend.put(a), backend.put(batch)
    cases = {
        "nonzero": (lambda a: fnp.nonzero(a, size=4, fill_value=-1),
                    lambda a: tuple(padded(np.nonzero(a), 4, (-1, -1)))),
        "where": (lambda a: fnp.where(a > 0, size=2), lambda a: tuple(padded(np.nonzero(a > 0), 2, (0, 0)))),
        "flatnonzero": (lambda a: fnp.flatnonzero(a, size=4, fill_value=7),
                        lambda a: padded([np.flatnonzero(a)], 4, (7,))[0]),
        "argwhere": (lambda a: fnp.argwhere(a, size=4, fill_value=9),
                     lambda a: np.stack(padded(np.nonzero(a), 4, (9, 9)), axis=1)),
    }
    for name, (f, ref) in cases.items():
        for out in (f(xs), ft.jit(f)(xs)):
            backend.check_placed(out)
            np.testing.assert_array_equal(backend.get(out), ref(a), err_msg=name)
        stacked = backend.get(ft.vmap(f)(bs))
        for k in range(len(batch)):
            want = ref(batch[k])
            got = tuple(s[k] for s in stacked) if isinstance(want, tuple) else stacked[k]
            np.testing.assert_array_equal(got, want, err_msg=name)


def test_bincount_with_a_length(backend):
    x = np.array([-1, 0, 5, 2, 2])  # -1 is counted as 0 and 5 left out, as JAX does
    xs = backend.put(x)
    for f in (lambda x: fnp.bincount(x, length=3), ft.jit(lambda x: fnp.bincount(x, length=3))):
        out = f(xs)
        backend.check_placed(out)
        np.testing.assert_array_equal(backend.get(out), [2, 0, 2])
    rows = ft.vmap(lambda x: fnp.bincount(x, length=6))(backend.put(np.stack([x, x[::-1] % 3])))
    np.testing.assert_array_equal(backend.get(rows), [[2, 0, 2, 0, 0, 1], [1, 0, 4, 0, 0, 0]])
    w = backend.put(np.array([0.5, 1.0, 2.0]))
    i = backend.put(np.array([0, 1, 1]))
    sums = ft.jit(lambda i, w: fnp.bincount(i, weights=w, length=4))(i, w)
    np.testing.assert_array_equal(backend.get(sums), [0.5, 3.0, 0.0, 0.0])
    g = ft.grad(lambda w: fnp.bincount(i, weights=w, length=4)[1])(w)
    np.testing.assert_array_equal(backend.get(g), [0.0, 1.0, 1.0])
    assert fnp.bincount(np.array([], np.int64), length=2).tolist() == [0, 0]


@pytest.mark.parametrize("call, error, match", [
    (lambda: fnp.nonzero(np.ones(2), fill_value=1), ValueError, "fill_value needs size"),
    (lambda: fnp.flatnonzero(np.ones(2), fill_value=1), ValueError, "fill_value needs size"),
    (lambda: fnp.argwhere(np.ones(2), fill_value=1), ValueError, "fill_value needs size"),
    (lambda: fnp.nonzero(np.ones((2, 2)), size=1, fill_value=(1, 2, 3)), ValueError, "3 fill values"),
    (lambda: fnp.nonzero(np.ones(2), size=-1), ValueError, "non-negative"),
    (lambda: fnp.where(np.ones(2) > 0, 1.0, 2.0, size=2), ValueError, "one-argument form"),
    (lambda: fnp.bincount(np.ones(2), length=2), TypeError, "integers"),
    (lambda: ft.jit(fnp.nonzero)(np.ones(2)), ft.errors.UnsupportedError, "Pass size=n"),
    (lambda: ft.vmap(lambda a: fnp.where(a))(np.ones((2, 2))), ft.errors.UnsupportedError, "Pass size=n"),
    (lambda: ft.jit(fnp.flatnonzero)(np.ones(2)), ft.errors.UnsupportedError, "Pass size=n"),
    (lambda: ft.jit(fnp.argwhere)(np.ones(2)), ft.errors.UnsupportedError, "Pass size=n"),
])
def test_errors_name_the_fix(call, error, match):
    with pytest.raises(error, match=match):
        call()
