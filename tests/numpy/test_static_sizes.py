"""Value-dependent results given a static size, as JAX's ``size=`` and ``length=`` do:
``nonzero``, ``where(condition)``, ``flatnonzero`` and ``argwhere`` with ``size`` and
``fill_value``, ``bincount`` with ``length``, ``repeat`` with ``total_repeat_length``; the
same numbers eagerly, under jit and under vmap, on both backends, against NumPy's result
padded or cut by hand."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import functrans as ft
import functrans.numpy as fnp
from functrans.testing import check_grads


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
    # a traced boolean mask as an index: where, or nonzero with a size
    (lambda: ft.jit(lambda a: a[a > 0])(np.ones(2)), ft.errors.UnsupportedError,
     r"fnp\.where\(mask, x, 0\).*fnp\.nonzero\(mask, size=n"),
    (lambda: ft.vmap(lambda a: a.at[a > 0].set(0.0))(np.ones((2, 2))), ft.errors.UnsupportedError,
     r"fnp\.where\(mask, v, x\) for x\.at\[mask\]\.set\(v\)"),
    # a traced float index array: NumPy's error, not a request for its values
    (lambda: ft.jit(lambda a: a[a])(np.ones(2)), IndexError, "must be of integer"),
])
def test_errors_name_the_fix(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_a_masks_entries_under_jit_by_nonzero_with_a_size():
    """The fix the error names: the first n selected entries, padded with the fill position."""
    x = np.array([3.0, -1.0, 2.0, -5.0])
    pick = ft.jit(lambda a: a[fnp.nonzero(a > 0, size=3, fill_value=1)])
    np.testing.assert_array_equal(pick(x), [3.0, 2.0, -1.0])
    np.testing.assert_array_equal(ft.grad(lambda a: pick(a).sum())(x), [1.0, 1.0, 1.0, 0.0])
    np.testing.assert_array_equal(ft.jit(lambda a: fnp.where(a > 0, 0.0, a))(x), x.clip(max=0))


def test_compress_and_extract_with_a_size_under_jit_and_vmap_as_jax():
    """A traced condition with size=: the first size slices (entries), padded with fill_value;
    without size, an error naming it."""
    x = np.arange(12.0).reshape(3, 4)
    keep = np.array([True, False, True, True])
    got = ft.jit(lambda c, a: fnp.compress(c, a, axis=1, size=4, fill_value=-1.0))(keep, x)
    np.testing.assert_array_equal(got, np.concatenate([np.compress(keep, x, axis=1), -np.ones((3, 1))], 1))
    np.testing.assert_array_equal(ft.jit(lambda c, a: fnp.compress(c, a, size=2))(keep, x), [0.0, 2.0])
    rows = ft.vmap(lambda a: fnp.extract(a > 4.5, a, size=3, fill_value=0.5))(x)
    np.testing.assert_array_equal(rows, [[0.5, 0.5, 0.5], [5.0, 6.0, 7.0], [8.0, 9.0, 10.0]])
    check_grads(lambda a: fnp.compress(keep, a, axis=1, size=4), (x,), order=2)
    check_grads(lambda a: fnp.extract(a > 4.5, a, size=9), (x,), order=2)
    for call in (lambda c, a: fnp.compress(c, a, axis=1), lambda c, a: fnp.extract(c, a)):
        with pytest.raises(ft.errors.UnsupportedError, match="Pass size=n"):
            ft.jit(call)(keep, x)


def unique_padded(x, size, fill=None):
    """NumPy's unique and its index, inverse and counts, cut or padded to ``size`` as JAX
    pads them: values with ``fill`` (the smallest by default), indices with the smallest's,
    counts with 0."""
    values, index, inverse, counts = np.unique(x, return_index=True, return_inverse=True,
                                               return_counts=True)
    k = min(size, len(values))
    pad = size - k
    fill = values[0] if fill is None and len(values) else (0 if fill is None else fill)
    first = index[0] if len(index) else 0
    return (np.concatenate([values[:k], np.full(pad, fill, values.dtype)]),
            np.concatenate([index[:k], np.full(pad, first, index.dtype)]),
            inverse.reshape(np.shape(x)),
            np.concatenate([counts[:k], np.zeros(pad, counts.dtype)]))


@given(st.lists(st.integers(-2, 3), max_size=8), st.integers(0, 6))
def test_unique_with_a_size_matches_numpy_padded(values, size):
    x = np.array(values, dtype=np.int64)
    want = unique_padded(x, size)
    f = ft.jit(lambda x: fnp.unique(x, return_index=True, return_inverse=True, return_counts=True,
                                    size=size))
    for got in (fnp.unique(x, return_index=True, return_inverse=True, return_counts=True, size=size), f(x)):
        for g, w in zip(got, want):
            np.testing.assert_array_equal(g, w)


def test_unique_with_a_size_under_vmap_with_nans_and_derivatives(backend):
    y = np.array([[np.nan, 1.0, np.nan, 0.5], [2.0, 2.0, 2.0, 2.0]])
    out = ft.vmap(lambda y: fnp.unique(y, size=3, fill_value=-1.0, return_counts=True))(backend.put(y))
    values, counts = (backend.get(o) for o in out)
    np.testing.assert_array_equal(values, [[0.5, 1.0, np.nan], [2.0, -1.0, -1.0]])
    np.testing.assert_array_equal(counts, [[1, 1, 2], [4, 0, 0]])
    # each value takes its derivative from its first occurrence
    g = ft.grad(lambda x: fnp.sum(fnp.unique(x, size=2, fill_value=0.0) * np.array([1.0, 2.0])))
    np.testing.assert_array_equal(g(np.array([2.0, 1.0, 2.0])), [2.0, 1.0, 0.0])
    with pytest.raises(ft.errors.UnsupportedError, match="Pass size=n"):
        ft.jit(fnp.unique)(np.ones(3))
    with pytest.raises(ValueError, match="fill_value needs size"):
        fnp.unique(np.ones(3), fill_value=0.0)


def repeated_to(a, counts, axis, length):
    """NumPy's repeat cut to ``length`` entries along ``axis`` or padded with the last one."""
    out = np.moveaxis(np.repeat(a, counts, axis=axis), axis, 0)
    last = np.moveaxis(a, axis, 0)[-1:]
    out = np.concatenate([out[:length]] + [last] * max(0, length - out.shape[0]))
    return np.moveaxis(out, 0, axis)


@given(st.lists(st.integers(0, 3), min_size=1, max_size=4), st.integers(0, 9), st.sampled_from([0, 1]))
def test_repeat_with_a_total_length_matches_numpy_cut_or_padded(counts, length, axis):
    a = np.arange(2.0 * len(counts)).reshape((2, len(counts)) if axis else (len(counts), 2)) + 1
    counts = np.array(counts)
    want = repeated_to(a, counts, axis, length)
    f = lambda a, r: fnp.repeat(a, r, axis=axis, total_repeat_length=length)
    for got in (f(a, counts), ft.jit(f)(a, counts), ft.vmap(f, in_axes=(None, 0))(a, counts[None])[0]):
        np.testing.assert_array_equal(got, want)
    # each entry's derivative counts its copies in the result
    g = ft.grad(lambda a: fnp.sum(f(a, counts)))(a)
    np.testing.assert_array_equal(g, _copies(counts, axis, length, a.shape))


def _copies(counts, axis, length, shape):
    idx = np.repeat(np.arange(len(counts)), counts)[:length]
    idx = np.concatenate([idx, np.full(max(0, length - len(idx)), len(counts) - 1)])
    per_entry = np.bincount(idx.astype(np.int64), minlength=len(counts)).astype(float)
    return np.broadcast_to(per_entry if axis else per_entry[:, None], shape)


def test_repeat_with_traced_counts_and_no_length_names_total_repeat_length():
    x = np.array([1.0, 2.0, 3.0])
    for transform, r in ((ft.jit, np.array([1, 0, 2])), (ft.vmap, np.array([[1, 0, 2]]))):
        with pytest.raises(ft.errors.UnsupportedError, match="total_repeat_length="):
            transform(lambda r: fnp.repeat(x, r))(r)
    assert ft.jit(lambda r: fnp.repeat(x, r, total_repeat_length=4))(np.array([1, 0, 2])).tolist() == [1, 3, 3, 3]


def test_weighted_bincount_traced_as_numpy_counts_it():
    """Traced weights: NumPy's dtypes (an integer count of no values, weighted too), and a
    clear error for weights of another length than the values."""
    empty = np.array([], np.int64)
    for weights in (np.array([]), np.ones(3)):
        got = ft.jit(lambda w: fnp.bincount(empty, w, minlength=2))(weights)
        expected = np.bincount(empty, weights, minlength=2)
        assert got.dtype == expected.dtype and got.tolist() == expected.tolist()
    x = np.array([0, 2, 2])
    w = np.array([0.5, 1.0, 2.0], np.float32)
    got = ft.jit(lambda w: fnp.bincount(x, w))(w)
    assert got.dtype == np.bincount(x, w).dtype and got.tolist() == [0.5, 0.0, 3.0]
    with pytest.raises(ValueError, match="weights must have the shape of x"):
        ft.jit(lambda w: fnp.bincount(x, w))(np.ones(2))
