"""functrans.numpy functions given a number (a Python number, a NumPy scalar, a list of them)
beside an array: the values NumPy gives, the result on the array's device, and derivatives
through the number's path that agree with finite differences."""
from __future__ import annotations

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans.testing import check_grads

X = np.array([0.5, -1.0, 2.0])

# name: (function of the array module and an array, differentiable in the array)
CASES = {
    "append": (lambda n, v: n.append(v, 1.0), True),
    "append before": (lambda n, v: n.append([1.0, 2.0], v), True),
    "concatenate a list": (lambda n, v: n.concatenate([v, [1.0]]), True),
    "hstack": (lambda n, v: n.hstack([v, 1.0]), True),
    "vstack": (lambda n, v: n.vstack([v, [1.0, 2.0, 3.0]]), True),
    "column_stack": (lambda n, v: n.column_stack([v, [1.0, 2.0, 3.0]]), True),
    "stack": (lambda n, v: n.stack([v[0], 1.0]), True),
    "block": (lambda n, v: n.block([v, 1.0]), True),
    "insert": (lambda n, v: n.insert(v, 1, 2.0), True),
    "diff prepend": (lambda n, v: n.diff(v, prepend=0.0), True),
    "ediff1d": (lambda n, v: n.ediff1d(v, to_begin=0.0, to_end=[1.0, 2.0]), True),
    "dot": (lambda n, v: n.dot(2.0, v), True),
    "dot with a list": (lambda n, v: n.dot(v, [1.0, 2.0, 3.0]), True),
    "matmul with a list": (lambda n, v: n.matmul(v, [1.0, 2.0, 3.0]), True),
    "vdot": (lambda n, v: n.vdot([1.0, 2.0, 3.0], v), True),
    "outer": (lambda n, v: n.outer(v, 2.0), True),
    "inner": (lambda n, v: n.inner(v, 2.0), True),
    "kron": (lambda n, v: n.kron(2.0, v), True),
    "tensordot": (lambda n, v: n.tensordot(v, 2.0, axes=0), True),
    "einsum": (lambda n, v: n.einsum("i,->i", v, 2.0), True),
    "cross": (lambda n, v: n.cross(v, [1.0, 0.0, 0.0]), True),
    "float_power": (lambda n, v: n.float_power(v, 2.0), True),
    "float_power of a NumPy scalar": (lambda n, v: n.float_power(v, np.float32(3.0)), True),
    "power of a NumPy scalar": (lambda n, v: n.power(v, np.float64(2.0)), True),
    "power of a NumPy scalar zero": (lambda n, v: n.power(v, np.float64(0.0)), True),
    "polyval": (lambda n, v: n.polyval([v[0], 1.0], 2.0), True),
    "polyadd": (lambda n, v: n.polyadd(v, [1.0]), True),
    "polymul": (lambda n, v: n.polymul(v, [1.0, 2.0]), True),
    "polyfit": (lambda n, v: n.polyfit([0.0, 1.0, 2.0], v, 1), True),
    "convolve": (lambda n, v: n.convolve(v, 2.0), True),
    "correlate": (lambda n, v: n.correlate(v, [1.0, 2.0]), True),
    "interp": (lambda n, v: n.interp(0.3, [-1.0, 0.0, 3.0], v), True),
    "average": (lambda n, v: n.average(v, weights=[1.0, 2.0, 3.0]), True),
    "trapezoid": (lambda n, v: n.trapezoid(v, [0.0, 1.0, 3.0]), True),
    "cov": (lambda n, v: n.cov(v, [1.0, 2.0, 4.0]), True),
    "broadcast_arrays": (lambda n, v: n.broadcast_arrays(v, 1.0)[1] * v, True),
    "meshgrid": (lambda n, v: n.meshgrid(v, [1.0, 2.0])[1], False),
    "clip": (lambda n, v: n.clip(v, [0.0, -2.0, 0.0], 1.0), True),
    "add a list": (lambda n, v: n.add(v, [1.0, 2.0, 3.0]), True),
    "histogram": (lambda n, v: n.histogram(v, bins=[-2.0, 0.0, 3.0], weights=v)[0], True),
    "searchsorted": (lambda n, v: n.searchsorted([0.0, 1.0], v), False),
    "digitize": (lambda n, v: n.digitize(v, [0.0, 1.0]), False),
    "isin": (lambda n, v: n.isin(v, 2.0), False),
    "isin of a number": (lambda n, v: n.isin(2.0, v), False),
    "union1d": (lambda n, v: n.union1d(v, [7.0]), False),
    "setdiff1d": (lambda n, v: n.setdiff1d(v, [0.5]), False),
    "array_equal": (lambda n, v: n.array_equal(v, [0.5, -1.0, 2.0]), False),
    "array_equiv": (lambda n, v: n.array_equiv(v, 0.5), False),
    "isclose": (lambda n, v: n.isclose(v, [0.5, 0.0, 2.0]), False),
    "where a list": (lambda n, v: n.where(v > 0, [1.0, 2.0, 3.0], v), True),
    "fmin": (lambda n, v: n.fmin(v, [0.0, 0.0, 0.0]), True),
    "vecdot": (lambda n, v: n.vecdot(v, [1.0, 2.0, 3.0]), True),
    "ldexp": (lambda n, v: n.ldexp(v, [1, 2, 3]), True),
    "lexsort": (lambda n, v: n.lexsort([v, [1.0, 2.0, 3.0]]), False),
}


@pytest.mark.parametrize("name", list(CASES))
def test_a_number_beside_an_array(backend, name):
    fn, differentiable = CASES[name]
    x = backend.put(X)
    got = fn(fnp, x)
    backend.check_placed(got, name)
    expected = fn(np, X)
    np.testing.assert_allclose(backend.get(got), expected, rtol=1e-12, atol=1e-12)
    assert np.asarray(backend.get(got)).dtype == np.asarray(expected).dtype
    if differentiable:
        g = ft.grad(lambda v: fnp.sum(fn(fnp, v) ** 2))(x)
        backend.check_placed(g, f"{name}: its gradient")
        check_grads(lambda v: fn(fnp, v), (x,), order=1)


def test_index_update_with_a_list(backend):
    x = backend.put(X)
    got = fnp.at(x)[np.array([0, 2])].add([1.0, 2.0])
    backend.check_placed(got)
    np.testing.assert_allclose(backend.get(got), X + np.array([1.0, 0.0, 2.0]))
    check_grads(lambda v: fnp.at(v)[np.array([0, 2])].set([1.0, 2.0]) * v, (x,), order=1)


def test_numbers_beside_numpy_arrays_keep_numpy_types():
    # the plain NumPy path: results and types as NumPy's own
    assert type(fnp.dot(2.0, X)) is np.ndarray
    assert fnp.append(X.astype(np.float32), 1.0).dtype == np.append(X.astype(np.float32), 1.0).dtype
    assert fnp.float_power(X.astype(np.float32), 2.0).dtype == np.float64
    assert type(fnp.float_power(2.0, 3.0)) is np.float64
    assert fnp.ediff1d(X.astype(np.float32), to_begin=0.0).dtype == np.float32
    assert fnp.stack([X[0], 1.0]).tolist() == [0.5, 1.0]
