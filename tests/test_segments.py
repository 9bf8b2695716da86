"""functrans.ops: the segment reductions against a loop over the rows in NumPy, on generated
data and ids (repeats, empty segments, ids out of range), eagerly, under jit with traced ids and
under vmap, with derivatives against finite differences, on both backends."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import functrans as ft
import functrans.numpy as fnp
from functrans import errors, ops
from functrans.testing import check_grads

KINDS = {"sum": (ops.segment_sum, np.add, 0.0), "prod": (ops.segment_prod, np.multiply, 1.0),
         "max": (ops.segment_max, np.maximum, -np.inf), "min": (ops.segment_min, np.minimum, np.inf)}


def loop(kind, data, ids, n, mode=None):
    """Row by row: what each segment holds, from its identity."""
    _, ufunc, identity = KINDS[kind]
    out = np.full((n,) + data.shape[ids.ndim:], identity, dtype=data.dtype)
    for k in np.ndindex(*ids.shape):
        s = int(ids[k])
        if mode == "clip":
            s = min(max(s, 0), n - 1)
        elif not 0 <= s < n:
            continue
        out[s] = ufunc(out[s], data[k])
    return out


@st.composite
def cases(draw):
    rows = draw(st.integers(0, 6))
    tail = draw(st.sampled_from([(), (2,), (1, 3)]))
    n = draw(st.integers(1, 4))
    ids = np.asarray(draw(st.lists(st.integers(-1, n), min_size=rows, max_size=rows)), np.int64)
    seed = draw(st.integers(0, 2**16))
    data = np.random.default_rng(seed).uniform(0.5, 2.0, (rows,) + tail)
    return data, ids, n


@pytest.mark.parametrize("kind", list(KINDS))
@given(case=cases(), clip=st.booleans())
def test_segments_match_a_loop_eagerly_under_jit_and_vmap(kind, case, clip):
    data, ids, n = case
    mode = "clip" if clip else None
    fn = KINDS[kind][0]
    want = loop(kind, data, ids, n, mode)
    np.testing.assert_allclose(fn(data, ids, n, mode=mode), want, rtol=1e-14)
    staged = ft.jit(lambda d, i: fn(d, i, num_segments=n, mode=mode))(data, ids)
    np.testing.assert_array_equal(staged, fn(data, ids, n, mode=mode))  # the same bits
    pair = ft.vmap(lambda d, i: fn(d, i, num_segments=n, mode=mode))(
        np.stack([data, 2 * data]), np.stack([ids, ids[::-1]]))
    np.testing.assert_allclose(pair[1], loop(kind, 2 * data, ids[::-1], n, mode), rtol=1e-14)


@pytest.mark.parametrize("kind", list(KINDS))
def test_segment_derivatives_against_finite_differences(backend, kind):
    fn = KINDS[kind][0]
    data = np.random.default_rng(1).uniform(0.5, 2.0, (6, 2))
    ids = backend.put(np.array([2, 0, 2, 5, 2, 0]))  # repeats, an empty segment, one dropped

    keep = backend.put(np.array([0, 2]))  # max and min leave an infinity in the empty segment

    def f(d):
        out = fn(d, ids, num_segments=3)
        return out[keep] if kind in ("max", "min") else out

    backend.check_placed(f(backend.put(data)))
    check_grads(f, (backend.put(data),))
    check_grads(ft.jit(f), (backend.put(data),))


def test_product_derivative_with_zero_rows_and_max_ties():
    """Hand-computed: a zero factor's derivative is the product of the others; tied maxima
    share the derivative."""
    data = np.array([2.0, 0.0, 5.0, 3.0])
    ids = np.array([0, 0, 0, 1])
    grad = ft.grad(lambda d: fnp.sum(ops.segment_prod(d, ids, 2)))(data)
    np.testing.assert_array_equal(grad, [0.0, 10.0, 0.0, 1.0])
    tied = np.array([4.0, 1.0, 4.0, 3.0])
    grad = ft.jit(ft.grad(lambda d, i: fnp.sum(ops.segment_max(d, i, 2))))(tied, ids)
    np.testing.assert_array_equal(grad, [0.5, 0.0, 0.5, 1.0])


def test_dtypes_and_identities():
    x = np.arange(6, dtype=np.float32).reshape(3, 2)
    assert ops.segment_sum(x, np.array([0, 1, 0]), 3).dtype == np.float32
    ints = ops.segment_max(np.array([3, 1, 2]), np.array([0, 0, 2]), 3)
    np.testing.assert_array_equal(ints, [3, np.iinfo(np.int64).min, 2])
    np.testing.assert_array_equal(ops.segment_min(np.array([True, False]), np.array([0, 0]), 2),
                                  [False, True])
    np.testing.assert_array_equal(ops.segment_sum(np.arange(3.0), np.array([0, 2, 2])), [0.0, 0.0, 3.0])
    np.testing.assert_array_equal(ops.segment_sum(np.ones((2, 2)), np.array([[0, 1], [1, 1]]), 2),
                                  [1.0, 3.0])


def test_errors_name_the_fix():
    data, ids = np.ones(3), np.array([0, 1, 1])
    with pytest.raises(errors.UnsupportedError, match="Pass num_segments=n"):
        ft.jit(lambda d, i: ops.segment_sum(d, i))(data, ids)
    with pytest.raises(TypeError, match="segment_ids must be integers"):
        ops.segment_sum(data, np.array([0.0, 1.0, 1.0]), 2)
    with pytest.raises(ValueError, match="one id per row"):
        ops.segment_sum(data, np.array([0, 1]), 2)
    with pytest.raises(ValueError, match="mode='wrap' is not one of"):
        ops.segment_sum(data, ids, 2, mode="wrap")
