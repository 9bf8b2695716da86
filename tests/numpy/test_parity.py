"""functrans.numpy where it must give NumPy's answer exactly, traced or not: einsum's
broadcasting and sublist form, linspace with traced endpoints, eigh from one triangle, the
comparison and copy functions, the ``%``, ``//`` and ``divmod`` operators, and the error for
PyTorch's ``dim=``.

The table rows of these functions (tests/specs/) check derivatives to second order on drawn
shapes; the tests here pin the hardest cases (broadcast size-1 axes, sign conventions,
both operand orders) with exact values."""
from __future__ import annotations

import operator
import warnings

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans.testing import check_grads

from backends import BACKENDS

RNG = np.random.default_rng(0)


def _values(*shapes):
    return tuple(RNG.standard_normal(s) for s in shapes)


# -- einsum --------------------------------------------------------------------------------------

# (subscripts, operand shapes): every way NumPy's einsum broadcasts
EINSUM_BROADCASTS = [
    ("ij,ij->ij", ((1, 4), (4, 1))),
    ("ij,ij->i", ((1, 4), (3, 1))),
    ("ij,ij", ((1, 4), (4, 1))),
    ("...i,...i->...", ((4, 2), (3, 1, 2))),
    ("...i,...i", ((4, 1), (3, 1, 2))),
    ("i,i->", ((1,), (3,))),
    ("i,i->i", ((3,), (1,))),
    ("i,i->i", ((1,), (0,))),
    ("ijk,ikl->ijl", ((2, 1, 3), (1, 3, 4))),
    ("ij,jk->ik", ((2, 1), (3, 4))),
    ("ij,jk,kl->il", ((2, 3), (1, 4), (4, 1))),
    ("ii,i->i", ((1, 1), (3,))),
    ("ij...,j...->i...", ((2, 3, 1), (1, 4))),
    ("i...,...->...", ((2, 1, 3), (1,))),
    ("ij->", ((1, 1),)),
    ("ij->ji", ((1, 3),)),
    ("...", ((2, 1),)),
]


def _einsum_jvp_reference(subscripts, ops, tangents):
    """einsum is linear in each operand: its tangent is the sum over operands of the einsum
    with that operand replaced by its tangent."""
    out = 0.0
    for k, t in enumerate(tangents):
        out = out + np.einsum(subscripts, *ops[:k], t, *ops[k + 1:])
    return out


@pytest.mark.parametrize("subscripts, shapes", EINSUM_BROADCASTS, ids=lambda v: str(v))
def test_einsum_broadcasts_as_numpy_with_its_derivatives(subscripts, shapes):
    ops, tangents = _values(*shapes), _values(*shapes)
    expected = np.einsum(subscripts, *ops)
    assert fnp.einsum(subscripts, *ops).shape == expected.shape
    value, tangent = ft.jvp(lambda *xs: fnp.einsum(subscripts, *xs), ops, tangents)
    assert value.shape == expected.shape
    np.testing.assert_allclose(value, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(tangent, _einsum_jvp_reference(subscripts, ops, tangents), rtol=1e-12, atol=1e-12)
    under_jit = ft.jit(lambda *xs: fnp.einsum(subscripts, *xs))(*ops)
    np.testing.assert_allclose(under_jit, expected, rtol=1e-12, atol=1e-12)
    batched = ft.vmap(lambda x: fnp.einsum(subscripts, x, *ops[1:]))(np.stack([ops[0], 2 * ops[0]]))
    np.testing.assert_allclose(batched, np.stack([expected, 2 * expected]), rtol=1e-12, atol=1e-12)
    check_grads(lambda *xs: fnp.einsum(subscripts, *xs), ops, order=2)


def test_einsum_gradient_of_a_broadcast_operand_sums_over_the_broadcast():
    a, b = np.ones((1, 4)), np.full((4, 1), 2.0)
    g = ft.grad(lambda a: fnp.einsum("ij,ij->ij", a, b).sum())(a)
    assert g.tolist() == [[8.0, 8.0, 8.0, 8.0]]
    g = ft.grad(lambda x: fnp.einsum("i,i->", x, np.arange(3.0)))(np.ones(1))
    assert g.tolist() == [3.0]


EINSUM_SUBLISTS = [
    ((0, 1), (1, 2), (0, 2)),
    ((0, 1), (1, 2), None),
    ((Ellipsis, 0, 1), (1, 2), (Ellipsis, 0, 2)),
    ((Ellipsis, 0, 1), (1, 2), None),
    ((27, 1), (1,), None),  # implicit output: labels in numerical order
    ((0, 0), (0, 3), (3,)),
]


@pytest.mark.parametrize("a_labels, b_labels, out_labels", EINSUM_SUBLISTS, ids=str)
def test_einsum_sublist_form(a_labels, b_labels, out_labels):
    sizes = {0: 3, 1: 2, 2: 4, 3: 5, 27: 2}
    a_shape = (2,) * (Ellipsis in a_labels) + tuple(sizes[c] for c in a_labels if c is not Ellipsis)
    b_shape = tuple(sizes[c] for c in b_labels)
    a, b = _values(a_shape, b_shape)
    ta, tb = _values(a_shape, b_shape)

    def args(a, b):
        return (a, list(a_labels), b, list(b_labels)) + (() if out_labels is None else (list(out_labels),))

    expected = np.einsum(*args(a, b))
    np.testing.assert_allclose(fnp.einsum(*args(a, b)), expected, rtol=1e-12)
    value, tangent = ft.jvp(lambda a, b: fnp.einsum(*args(a, b)), (a, b), (ta, tb))
    np.testing.assert_allclose(value, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(tangent, np.einsum(*args(ta, b)) + np.einsum(*args(a, tb)), rtol=1e-12, atol=1e-12)
    check_grads(lambda a, b: fnp.einsum(*args(a, b)), (a, b), order=2)


@pytest.mark.parametrize("call, message", [
    (lambda x: fnp.einsum("i,i->", x, np.ones(3)), "do not broadcast"),
    (lambda x: fnp.einsum("ii->i", fnp.reshape(x, (1, 2))), "collapsing index"),
    (lambda x: fnp.einsum("...i->i", fnp.reshape(x, (1, 2))), "'...'"),
    (lambda x: fnp.einsum("i->ij", x), "never appears"),
    (lambda x: fnp.einsum("i->ii", x), "more than once"),
    (lambda x: fnp.einsum(x, [0, 52]), "valid range"),
], ids=["sizes", "diagonal", "ellipsis", "output label", "repeated output", "sublist range"])
def test_einsum_errors_as_numpy(call, message):
    x = np.ones(2)
    with pytest.raises(ValueError):
        call(x)  # NumPy's own error on plain arrays
    with pytest.raises(ValueError, match=message):
        ft.jvp(call, (x,), (x,))


# -- linspace ------------------------------------------------------------------------------------


def _traced_value(f, *args):
    """``f``'s value computed on traced arguments (inside jvp), and under jit."""
    value = ft.jvp(f, args, tuple(np.ones_like(a) for a in args))[0]
    return value, ft.jit(f)(*args)


@pytest.mark.parametrize("num", [0, 1, 5])
@pytest.mark.parametrize("endpoint", [True, False])
@pytest.mark.parametrize("retstep", [False, True])
def test_linspace_with_traced_endpoints_gives_numpys_values(num, endpoint, retstep):
    start, stop = np.float64(-1.5), np.array([2.0, 4.5])
    expected = np.linspace(start, stop, num, endpoint=endpoint, retstep=retstep)
    for got in _traced_value(lambda a, b: fnp.linspace(a, b, num, endpoint=endpoint, retstep=retstep),
                             start, stop):
        if retstep:
            np.testing.assert_array_equal(got[1], expected[1])
            got, want = got[0], expected[0]
        else:
            want = expected
        assert got.shape == want.shape and got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("num, endpoint", [(0, True), (1, True), (1, False), (5, True), (5, False)])
def test_linspace_derivatives(num, endpoint):
    i = np.arange(num)[:, None]
    div = num - 1 if endpoint else num
    start, stop = np.array([0.5, -1.0]), np.array([3.0, 2.0])
    # each sample is start + i * (stop - start) / div: d/dstart = 1 - i / div, d/dstop = i / div
    weight = i / div if div > 0 else np.zeros_like(i, dtype=float)
    _, d_start = ft.jvp(lambda a: fnp.linspace(a, stop, num, endpoint=endpoint), (start,), (np.ones(2),))
    _, d_stop = ft.jvp(lambda b: fnp.linspace(start, b, num, endpoint=endpoint), (stop,), (np.ones(2),))
    np.testing.assert_allclose(d_start, np.broadcast_to(1 - weight, (num, 2)), atol=1e-15)
    np.testing.assert_allclose(d_stop, np.broadcast_to(weight, (num, 2)), atol=1e-15)
    check_grads(lambda a, b: fnp.linspace(a, b, num, endpoint=endpoint), (start, stop), order=2)


def test_linspace_grad_of_a_scalar_endpoint():
    assert ft.grad(lambda a: fnp.linspace(a, 2 * a, 5).sum())(1.0) == 7.5


@pytest.mark.parametrize("axis", [0, 1, -1, 2])
def test_linspace_axis_and_dtype(axis):
    start, stop = np.zeros((2, 3)), np.array([1.0, 2.0, 7.0])
    for dtype in (None, np.float32, np.int64):
        expected = np.linspace(start, stop, 4, axis=axis, dtype=dtype)
        for got in _traced_value(lambda a, b: fnp.linspace(a, b, 4, axis=axis, dtype=dtype), start, stop):
            assert got.dtype == expected.dtype
            np.testing.assert_array_equal(got, expected)
    check_grads(lambda a, b: fnp.linspace(a, b, 4, axis=axis), (start, stop), order=2)


def test_linspace_keeps_float32_and_numpys_denormal_steps():
    a = np.float32(0.25)
    got = ft.jvp(lambda a: fnp.linspace(a, 1.0, 3), (a,), (np.float32(1),))
    assert got[0].dtype == got[1].dtype == np.float32
    # a step that underflows to zero: NumPy divides by the sample count last
    tiny = np.float64(5e-324)
    np.testing.assert_array_equal(_traced_value(lambda b: fnp.linspace(0.0, b, 5), tiny)[0],
                                  np.linspace(0.0, tiny, 5))
    with pytest.raises(ValueError, match="must be non-negative"):
        ft.jvp(lambda a: fnp.linspace(a, 1.0, -1), (a,), (a,))


@pytest.mark.parametrize("kwargs", [{}, {"base": 2.0, "num": 4}, {"endpoint": False, "num": 3}, {"num": 0},
                                    {"num": 1}, {"axis": -1, "num": 3}, {"dtype": np.float32, "num": 3}],
                         ids=str)
def test_logspace_with_traced_endpoints_and_base(kwargs):
    start, stop = np.array([0.0, -1.0]), 2.0
    expected = np.logspace(start, stop, **kwargs)
    for got in _traced_value(lambda a: fnp.logspace(a, stop, **kwargs), start):
        assert got.dtype == expected.dtype
        np.testing.assert_array_equal(got, expected)
    check_grads(lambda a: fnp.logspace(a, stop, **kwargs), (start,), order=2)
    kwargs = {**kwargs, "base": np.array([[2.0], [3.0]])}
    expected = np.logspace(start, stop, **kwargs)
    for got in _traced_value(lambda b: fnp.logspace(start, stop, **{**kwargs, "base": b}), kwargs["base"]):
        np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("make", [
    lambda a: fnp.linspace(a, 2.0, 3), lambda a: fnp.linspace(-1, a, 4, endpoint=False),
    lambda a: fnp.logspace(a, 2.0, 3), lambda a: fnp.logspace(0.0, 1.0, 3, base=a + 2.0),
], ids=["linspace start", "linspace stop", "logspace start", "logspace base"])
def test_ranges_from_a_device_array_stay_on_its_device(make):
    strict = BACKENDS["strict"]
    a = np.array([0.5, 1.0])
    expected = make(a)
    got = make(strict.put(a))
    strict.check_placed(got)
    np.testing.assert_array_equal(strict.get(got), expected)
    _, tangent = ft.jvp(make, (strict.put(a),), (strict.put(np.ones(2)),))
    strict.check_placed(tangent)


def test_logspace_derivative_in_its_base():
    y = np.linspace(0.0, 2.0, 3)  # d/dbase of base ** y is y * base ** (y - 1)
    expected = np.sum(y * 10.0 ** (y - 1))
    assert ft.grad(lambda b: fnp.logspace(0.0, 2.0, 3, base=b).sum())(10.0) == pytest.approx(expected, rel=1e-14)


# -- eigh from one triangle ----------------------------------------------------------------------


def _nonsymmetric(dtype, shape=(4, 4)):
    a = RNG.standard_normal(shape)
    if np.issubdtype(dtype, np.complexfloating):
        a = a + 1j * RNG.standard_normal(shape)
    return a.astype(dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.complex128])
@pytest.mark.parametrize("UPLO", ["L", "U"])
def test_eigh_gives_one_result_traced_or_not(dtype, UPLO):
    """Eigenvectors (signs included) and eigenvalues are the same numbers on plain arrays,
    inside jvp, grad, jit and vmap, for a matrix that is not Hermitian (only its UPLO
    triangle counts)."""
    a = _nonsymmetric(dtype)
    w, v = fnp.linalg.eigh(a, UPLO)
    results = {
        "jvp": ft.jvp(lambda a: tuple(fnp.linalg.eigh(a, UPLO)), (a,), (a,))[0],
        "jit": ft.jit(lambda a: tuple(fnp.linalg.eigh(a, UPLO)))(a),
        "vmap": tuple(r[1] for r in ft.vmap(lambda a: tuple(fnp.linalg.eigh(a, UPLO)))(np.stack([a.T, a]))),
    }
    seen = []

    def f(a):
        wt, vt = fnp.linalg.eigh(a, UPLO)
        seen.append((wt.to_concrete(), vt.to_concrete()))
        return fnp.sum(fnp.abs(vt[0]) ** 2 * wt)

    ft.grad(f)(a)
    results["grad"] = seen[0]
    for how, (wt, vt) in results.items():
        np.testing.assert_array_equal(wt, w, err_msg=how)
        np.testing.assert_array_equal(vt, v, err_msg=how)
    # the same matrix as NumPy reads from that triangle: NumPy's eigenvalues, and eigenvectors
    # up to their signs (phases); eigvalsh on plain arrays asks LAPACK for the eigenvalues
    # alone (the same to rounding)
    w_np, v_np = np.linalg.eigh(a, UPLO)
    tol = 1e-4 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(fnp.linalg.eigvalsh(a, UPLO), w, rtol=tol, atol=tol)
    np.testing.assert_allclose(w, w_np, rtol=tol, atol=tol)
    np.testing.assert_allclose(np.abs(np.sum(v.conj() * v_np, axis=0)), 1.0, rtol=tol)


@pytest.mark.parametrize("UPLO", ["L", "U"])
def test_eigh_derivative_reads_only_its_triangle(UPLO):
    a = _nonsymmetric(np.float64, (3, 3))
    other = np.triu(np.ones((3, 3)), 1) if UPLO == "L" else np.tril(np.ones((3, 3)), -1)
    _, (dw, dv) = ft.jvp(lambda a: tuple(fnp.linalg.eigh(a, UPLO)), (a,), (other,))
    assert not np.any(dw) and not np.any(dv)
    g = ft.grad(lambda a: fnp.sum(fnp.linalg.eigh(a, UPLO)[0] ** 2))(a)
    assert not np.any(g * other)
    check_grads(lambda a: fnp.linalg.eigh(a + np.diag([0.0, 3.0, 6.0]), UPLO)[1] ** 2, (a,), order=2,
                atol=1e-5, rtol=1e-5)


def test_eigh_rejects_a_bad_triangle_name():
    with pytest.raises(ValueError, match="UPLO"):
        fnp.linalg.eigh(np.eye(2), "X")
    with pytest.raises(ValueError, match="UPLO"):
        ft.jvp(lambda a: fnp.linalg.eigh(a, "X")[0], (np.eye(2),), (np.eye(2),))


# -- closeness, equality, complex tests, copy ----------------------------------------------------

SPECIAL_A = np.array([1.0, 1.0 + 1e-6, np.nan, np.inf, -np.inf, 0.0, 1e-9, np.nan, 2.0])
SPECIAL_B = np.array([1.0, 1.0, np.nan, np.inf, np.inf, 1e-9, 0.0, 1.0, np.inf])


def _inside(f, *args):
    """``f``'s value with its first argument traced: inside jvp (values known) and under jit
    (values abstract)."""
    eager = ft.jvp(lambda x: f(x, *args[1:]), (args[0],), (np.zeros_like(args[0]),))[0]
    staged = ft.jit(lambda x: f(x, *args[1:]))(args[0])
    return eager, staged


@pytest.mark.parametrize("equal_nan", [False, True])
@pytest.mark.parametrize("b", [SPECIAL_B, 1.0, np.inf, np.nan, 1], ids=["array", "1.0", "inf", "nan", "int 1"])
def test_isclose_and_allclose_match_numpy_with_nan_and_infinities(equal_nan, b):
    for rtol, atol in [(1e-5, 1e-8), (0.0, 0.0), (1e-3, 1e-6)]:
        expected = np.isclose(SPECIAL_A, b, rtol=rtol, atol=atol, equal_nan=equal_nan)
        for got in _inside(lambda a, b: fnp.isclose(a, b, rtol, atol, equal_nan), SPECIAL_A, b):
            assert got.dtype == np.bool_
            np.testing.assert_array_equal(got, expected)
        nan_where_a_is = np.where(np.isnan(SPECIAL_A), np.nan, 1.0)
        for a in (SPECIAL_A, np.ones_like(SPECIAL_A), np.full_like(SPECIAL_A, np.nan), nan_where_a_is):
            expected = np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)
            assert fnp.allclose(a, b, rtol, atol, equal_nan) is expected
            for got in _inside(lambda a, b: fnp.allclose(a, b, rtol, atol, equal_nan), a, b):
                assert got.shape == () and bool(got) is expected


def test_isclose_keeps_float32_and_compares_integers_as_numpy():
    x = np.array([1.0, 1.0 + 2e-5], np.float32)
    np.testing.assert_array_equal(_inside(lambda x: fnp.isclose(x, 1.0), x)[1], np.isclose(x, 1.0))
    ints = np.array([1, 2, 3])
    np.testing.assert_array_equal(fnp.isclose(ints, 2), np.isclose(ints, 2))
    np.testing.assert_array_equal(_inside(lambda x: fnp.isclose(x, ints), ints * 1.0)[1], [True, True, True])
    assert ft.grad(lambda x: fnp.sum(fnp.where(fnp.isclose(x, 1.0), x, 2 * x)))(x).tolist() == [1.0, 2.0]


@pytest.mark.parametrize("a, b, equal_nan", [
    (np.array([1.0, 2.0]), np.array([1.0, 2.0]), False),
    (np.array([1.0, 2.0]), np.array([1.0, 3.0]), False),
    (np.array([1.0, 2.0]), np.array([1.0, 2.0, 3.0]), False),
    (np.array([1.0, 2.0]), np.array([[1.0, 2.0]]), False),
    (np.array([np.nan, 2.0]), np.array([np.nan, 2.0]), False),
    (np.array([np.nan, 2.0]), np.array([np.nan, 2.0]), True),
    (np.array([np.nan, 2.0]), np.array([2.0, np.nan]), True),
    (np.zeros((0, 2)), np.zeros((0, 2)), False),
])
def test_array_equal_and_equiv_match_numpy(a, b, equal_nan):
    assert fnp.array_equal(a, b, equal_nan=equal_nan) is np.array_equal(a, b, equal_nan=equal_nan)
    assert fnp.array_equiv(a, b) is np.array_equiv(a, b)
    for got in _inside(lambda a, b: fnp.array_equal(a, b, equal_nan=equal_nan), a, b):
        assert bool(got) is np.array_equal(a, b, equal_nan=equal_nan)
    for got in _inside(fnp.array_equiv, a, b):
        assert bool(got) is np.array_equiv(a, b)


def test_complex_tests_and_real_if_close():
    z = np.array([1.0 + 0j, 2.0 + 1e-3j, -1.0 - 2j, 0j])
    r = np.array([1.0, -2.0])
    for fn in ("iscomplex", "isreal"):
        for x in (z, r):
            for got in _inside(getattr(fnp, fn), x):
                np.testing.assert_array_equal(got, getattr(np, fn)(x))
        assert getattr(fnp, fn)(2.0 + 0j) == getattr(np, fn)(2.0 + 0j)
    for x in (z, r, 1.0, 1j, [1.0, 2j]):
        assert fnp.iscomplexobj(x) is np.iscomplexobj(x) and fnp.isrealobj(x) is np.isrealobj(x)
    # known from the dtype alone: also under jit
    assert ft.jit(lambda x: fnp.zeros(2) + fnp.iscomplexobj(x))(z).tolist() == [1.0, 1.0]
    close = np.array([2.1 + 4e-14j, 5.2 + 3e-15j])
    for x in (close, z, r):
        expected = np.real_if_close(x)
        got, tangent = ft.jvp(fnp.real_if_close, (x,), (np.ones_like(x),))
        assert got.dtype == expected.dtype
        np.testing.assert_array_equal(got, expected)
        np.testing.assert_array_equal(tangent, np.ones(x.shape, expected.dtype))
    assert fnp.real_if_close(z, tol=1e-2).dtype == np.real_if_close(z, tol=1e-2).dtype


def test_copy_on_plain_and_traced_arrays():
    x = np.array([1.0, 2.0])
    y = fnp.copy(x)
    assert y is not x and y.tolist() == [1.0, 2.0]
    assert fnp.copy(3.0).shape == ()
    assert ft.grad(lambda x: x.copy().sum())(x).tolist() == [1.0, 1.0]
    assert ft.grad(lambda x: fnp.sum(fnp.copy(x) ** 2))(x).tolist() == [2.0, 4.0]
    # NumPy's functions dispatch to functrans.numpy on traced arrays
    assert ft.grad(lambda x: np.sum(np.copy(x) * 3.0))(x).tolist() == [3.0, 3.0]
    assert ft.jit(lambda x: np.isclose(x, 1.0))(x).tolist() == [True, False]
    assert bool(ft.jvp(lambda x: np.allclose(x, x), (x,), (x,))[0])
    assert ft.jvp(lambda x: np.array_equal(x, x[:1]), (x,), (x,))[0] is False
    assert ft.jit(lambda x: np.iscomplex(x))(x).tolist() == [False, False]
    check_grads(lambda x: x.copy(), (x,), order=2)


# -- %, // and divmod ----------------------------------------------------------------------------

X = np.array([2.7, -2.7, 0.4, 5.1])
Y = np.array([1.5, 1.5, -0.7, 2.0])


@pytest.mark.parametrize("op", [operator.mod, operator.floordiv, divmod], ids=["%", "//", "divmod"])
@pytest.mark.parametrize("a, b", [(X, Y), (X, 1.5), (2.7, Y)], ids=["arrays", "array, float", "float, array"])
def test_operators_on_traced_arrays_in_both_orders(op, a, b):
    """The traced operand on the left (__mod__), on the right (__rmod__ after a Python float,
    NumPy's ufunc dispatch after a NumPy array), or on both sides: NumPy's values."""
    expected = op(np.asarray(a), np.asarray(b))
    for traced in ([0], [1], [0, 1]):

        def f(*xs, traced=traced):
            values = [a, b]
            for i, x in zip(traced, xs):
                values[i] = x
            return op(*values)

        primals = tuple(np.asarray([a, b][i], float) for i in traced)
        got = ft.jvp(f, primals, tuple(np.zeros_like(p) for p in primals))[0]
        for g, e in zip(got if op is divmod else (got,), expected if op is divmod else (expected,)):
            assert g.shape == e.shape and g.dtype == e.dtype
            np.testing.assert_array_equal(g, e)


def test_operator_derivatives():
    # d(x % y) = dx - floor(x / y) dy; x // y is piecewise constant
    dx, dy = np.array([1.0, 0.5, -1.0, 2.0]), np.array([0.3, -1.0, 0.25, 1.0])
    _, t = ft.jvp(lambda x, y: x % y, (X, Y), (dx, dy))
    np.testing.assert_allclose(t, dx - np.floor(X / Y) * dy, rtol=1e-15)
    _, t = ft.jvp(lambda x, y: x // y, (X, Y), (dx, dy))
    np.testing.assert_array_equal(t, np.zeros(4))
    _, (tq, tr) = ft.jvp(lambda x, y: divmod(x, y), (X, Y), (dx, dy))
    np.testing.assert_array_equal(tq, np.zeros(4))
    np.testing.assert_allclose(tr, dx - np.floor(X / Y) * dy, rtol=1e-15)
    assert ft.grad(lambda x: (x % 1.5) + (x // 2))(2.7) == 1.0
    assert ft.grad(lambda y: 2.7 % y)(1.5) == -1.0
    assert ft.grad(lambda x: divmod(x, 1.5)[0] + divmod(x, 1.5)[1])(2.7) == 1.0
    assert ft.grad(lambda y: sum(divmod(2.7, y)))(1.5) == -1.0
    check_grads(lambda x, y: (x % y, 3.1 % y, x % 1.5), (X, Y), order=2)
    check_grads(lambda x, y: divmod(x, y), (X, Y), order=2)


# -- PyTorch's dim= ------------------------------------------------------------------------------

AXIS_METHODS = ["sum", "mean", "max", "min", "prod", "std", "var", "argmax", "argmin", "any", "all", "cumsum",
                "cumprod", "argsort", "squeeze"]


@pytest.mark.parametrize("method", AXIS_METHODS + ["repeat", "take"])
def test_torch_dim_keyword_says_axis(method):
    x = np.ones((1, 2))
    extra = {"repeat": (2,), "take": (np.array([0]),)}.get(method, ())

    def f(x):
        return getattr(x, method)(*extra, dim=0)

    with pytest.raises(TypeError, match=rf"x\.{method}\(\) got dim=.*NumPy.*axis=.*x\.{method}\(.*axis=0\)"):
        ft.grad(lambda x: fnp.sum(f(x) * 1.0))(x)
    with pytest.raises(TypeError, match="axis="):
        ft.jit(f)(x)


@pytest.mark.parametrize("method", ["sum", "mean", "max", "min", "prod", "std", "var", "any", "all"])
def test_torch_keepdim_keyword_says_keepdims(method):
    with pytest.raises(TypeError, match=rf"got dim= and keepdim=.*axis= and keepdims=.*"
                                        rf"x\.{method}\(axis=1, keepdims=True\)"):
        ft.grad(lambda x: fnp.sum(getattr(x, method)(dim=1, keepdim=True) * 1.0))(np.ones((2, 2)))


@pytest.mark.parametrize("method", AXIS_METHODS)
def test_axis_methods_keep_numpys_keywords(method):
    x = np.arange(1.0, 7.0).reshape(3, 2)[:1] if method == "squeeze" else np.arange(1.0, 7.0).reshape(3, 2)
    got = ft.jvp(lambda x: getattr(x, method)(axis=0), (x,), (x,))[0]
    np.testing.assert_allclose(got, getattr(x, method)(axis=0))


def test_boolean_operators_on_traced_masks_are_the_logical_operations():
    a, b = np.array([-1.0, 1.0, -2.0, 3.0]), np.array([1.0, -1.0, -1.0, 2.0])

    def masks(a, b):
        p, q = a < 0, b > 0
        return p & q, p | q, p ^ q, ~p, True & q, False | p, True ^ p

    want = masks(a, b)
    for transform in (ft.jit, lambda f: ft.vmap(f)):
        for got, expected in zip(transform(masks)(a, b), want):
            assert got.dtype == np.bool_
            np.testing.assert_array_equal(got, expected)


def test_bitwise_operators_on_traced_integers_say_what_to_use():
    with pytest.raises(TypeError, match=r"operator \| on traced arrays of dtype int64.*logical_or"):
        ft.jit(lambda a: a | 1)(np.array([1, 2]))
    with pytest.raises(TypeError, match=r"operator ~ on traced arrays of dtype float64"):
        ft.jit(lambda a: ~a)(np.array([1.0]))


def test_lstsq_under_jit_and_vmap_returns_jaxs_results():
    # Traced by jit or vmap, the rank is an integer array and a tall matrix's residuals are
    # computed whatever its rank (JAX's convention); the values agree with NumPy's.
    rng = np.random.default_rng(3)
    tall, wide = rng.standard_normal((5, 3)), rng.standard_normal((2, 4))
    for a, b in [(tall, rng.standard_normal(5)), (tall, rng.standard_normal((5, 2))), (wide, rng.standard_normal(2)),
                 (tall.astype(np.float32), rng.standard_normal(5).astype(np.float32)),
                 (tall + 1j * rng.standard_normal((5, 3)), rng.standard_normal(5) + 0j)]:
        x, residuals, rank, s = ft.jit(fnp.linalg.lstsq)(a, b)
        ref = np.linalg.lstsq(a, b)
        tol = 1e-4 if a.dtype == np.float32 else 1e-12
        np.testing.assert_allclose(x, ref[0], rtol=tol, atol=tol)
        assert x.dtype == ref[0].dtype and residuals.dtype == ref[1].dtype and s.dtype == ref[3].dtype
        np.testing.assert_allclose(residuals, ref[1], rtol=tol)
        np.testing.assert_allclose(s, ref[3], rtol=tol)
        assert int(rank) == ref[2] and rank.dtype == np.int32  # NumPy's type
    deficient = np.ones((4, 2))
    x, residuals, rank, _ = ft.jit(fnp.linalg.lstsq)(deficient, np.arange(4.0))
    np.testing.assert_allclose(x, np.linalg.lstsq(deficient, np.arange(4.0))[0], rtol=1e-12)
    assert int(rank) == 1
    np.testing.assert_allclose(residuals, [5.0], rtol=1e-12)  # |b - mean(b)|^2, as JAX returns
    a, b = tall, rng.standard_normal(5)
    x, residuals, rank, s = ft.vmap(fnp.linalg.lstsq)(np.stack([a, 2 * a]), np.stack([b, b]))
    for i, scale in enumerate((1, 2)):
        ref = np.linalg.lstsq(scale * a, b)
        np.testing.assert_allclose(x[i], ref[0], rtol=1e-12)
        np.testing.assert_allclose(residuals[i], ref[1], rtol=1e-12)
    np.testing.assert_array_equal(rank, [3, 3])
    loss = lambda a, b: fnp.linalg.lstsq(a, b)[1].sum() + fnp.linalg.lstsq(a, b)[0].sum()
    for got, want in zip(ft.jit(ft.grad(loss, argnums=(0, 1)))(a, b), ft.grad(loss, argnums=(0, 1))(a, b)):
        np.testing.assert_allclose(got, want, rtol=1e-10)
    check_grads(lambda a, b: ft.jit(fnp.linalg.lstsq)(a, b)[0], (a, b), order=2)
    # Only `b` traced: the rank comes from the concrete `a`, a Python int as NumPy's.
    assert ft.jit(lambda b: fnp.linalg.lstsq(a, b)[2])(b) == 3


# -- reductions with where= and initial= ----------------------------------------------------------

MASKED_X = np.array([[0.3, -1.2, 2.0, 0.7], [1.5, 0.1, -0.4, -2.2], [-0.8, 0.9, 1.1, 0.2]])
MASKS = [MASKED_X > -0.5, np.array([[True, False, True, True]]), np.array([True, True, False, True])]


@pytest.mark.parametrize("name", ["sum", "prod", "mean", "var", "std", "max", "min", "all", "any",
                                  "nansum", "nanprod"])
@pytest.mark.parametrize("axis", [None, 0, 1, (0, 1)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_reductions_with_where_and_initial_match_numpy(name, axis, dtype):
    x = MASKED_X.astype(dtype)
    extra = {"initial": 0.5} if name in ("max", "min") else {}
    with warnings.catch_warnings(), np.errstate(all="ignore"):  # a slice the mask empties: nan
        warnings.simplefilter("ignore", RuntimeWarning)
        _check_masked_reduction(name, x, axis, extra)
    rows = ft.vmap(lambda r: getattr(fnp, name)(r, where=r > -0.5, **extra))(x)
    want = [getattr(np, name)(r, where=r > -0.5, **extra) for r in x]
    np.testing.assert_allclose(rows, want, rtol=1e-6)


def _check_masked_reduction(name, x, axis, extra):
    for where in MASKS:
        for keepdims in (False, True):
            want = getattr(np, name)(x, axis=axis, keepdims=keepdims, where=where, **extra)
            fn = lambda a, w: getattr(fnp, name)(a, axis=axis, keepdims=keepdims, where=w, **extra)
            for got in (fn(x, where), ft.jit(fn)(x, where), ft.jit(lambda a: fn(a, a > -0.5))(x)
                        if where is MASKS[0] else fn(x, where)):
                assert got.dtype == want.dtype and got.shape == want.shape
                np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name", ["sum", "prod", "mean", "var", "std", "max", "min"])
def test_masked_reductions_differentiate_only_the_kept_entries(name):
    # Entries outside the mask may be inf or nan: they get a zero derivative and spoil no other
    extra = {"initial": -5.0 if name == "max" else 5.0} if name in ("max", "min") else {}
    mask = MASKED_X > -0.5
    f = lambda a: fnp.sum(getattr(fnp, name)(a, axis=1, where=mask, **extra))
    check_grads(lambda a: getattr(fnp, name)(a, axis=1, where=mask, **extra), (MASKED_X,), order=2)
    ref = ft.grad(f)(MASKED_X)
    assert not np.any(ref[~mask])
    for bad in (np.nan, np.inf):
        x = np.where(mask, MASKED_X, bad)
        np.testing.assert_allclose(ft.grad(f)(x), ref, rtol=1e-12)
        np.testing.assert_allclose(ft.jit(ft.grad(f))(x), ref, rtol=1e-12)


def test_initial_joins_the_reduction_and_its_derivative():
    x = MASKED_X
    check_grads(lambda a, i: fnp.sum(a, axis=0, initial=i, where=x > 0), (x, np.array(2.0)), order=2)
    check_grads(lambda a, i: fnp.max(a, axis=1, initial=i), (x, np.array(1.0)), order=2)
    assert float(ft.jit(lambda a: fnp.max(a, initial=1.0))(np.ones(0))) == 1.0
    np.testing.assert_array_equal(ft.jit(lambda a: fnp.min(a, axis=0, initial=-1.0))(np.ones((0, 2))), [-1.0, -1.0])
    got = ft.jit(lambda a: fnp.sum(a, initial=np.float64(2.5)))(np.ones(3, np.float32))
    assert got.dtype == np.float32 and float(got) == 5.5
    got = ft.jit(lambda a: a.sum(axis=1, where=a > 0) + a.max(axis=1, initial=0.0, where=a > 0))(x)
    np.testing.assert_allclose(got, np.sum(x, 1, where=x > 0) + np.max(x, 1, initial=0.0, where=x > 0))


def test_masked_reduction_errors_name_the_fix():
    with pytest.raises(ValueError, match=r"specify 'initial'.*initial=-fnp.inf"):
        ft.jit(lambda a: fnp.max(a, where=a > 0))(MASKED_X)
    with pytest.raises(ValueError, match=r"where= has shape \(2, 3, 4\).*\(3, 4\)"):
        ft.jit(lambda a: fnp.sum(a, where=np.ones((2, 3, 4), bool)))(MASKED_X)


NAN_X = np.where(np.isin(np.arange(12).reshape(3, 4), [1, 8, 9]), np.nan, MASKED_X)


@pytest.mark.parametrize("name", ["nanmean", "nanvar", "nanstd", "nanmax", "nanmin"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_nan_reductions_with_where_match_numpy_and_differentiate_the_kept_numbers(name, dtype):
    x = NAN_X.astype(dtype)
    extra = {"initial": 0.25} if name in ("nanmax", "nanmin") else {}
    fn = lambda a, w, axis: getattr(fnp, name)(a, axis=axis, where=w, **extra)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        for axis in (None, 0, 1):
            for where in MASKS[1:]:
                want = getattr(np, name)(x, axis=axis, where=where, **extra)
                for got in (fn(x, where, axis), ft.jit(fn, static_argnums=2)(x, where, axis)):
                    assert got.dtype == want.dtype and got.shape == want.shape
                    np.testing.assert_allclose(got, want, rtol=1e-6)
    keep = ~np.isnan(NAN_X) & MASKS[1]
    g = ft.grad(lambda a: fnp.sum(fn(a, MASKS[1], 1)))(NAN_X)
    assert np.all(np.isfinite(g)) and not np.any(g[~keep])
    row = NAN_X[2]
    check_grads(lambda v: fn(fnp.where(np.isnan(row), np.nan, v), MASKS[2], None), (np.nan_to_num(row),), order=2)


def test_a_nan_extreme_with_initial_gives_it_for_a_slice_without_numbers():
    # as JAX does, and NumPy along an axis (NumPy's 1-D path gives nan)
    assert float(fnp.nanmax(np.array([np.nan, np.nan]), initial=1.0)) == 1.0
    got = ft.jit(lambda a: fnp.nanmin(a, axis=1, initial=0.5))(np.array([[np.nan, np.nan], [1.0, np.nan]]))
    np.testing.assert_array_equal(got, [0.5, 0.5])


@pytest.mark.parametrize("name", ["var", "std", "nanvar", "nanstd"])
def test_correction_is_ddof_by_numpy_2s_name(name):
    x = np.array([1.0, 2.0, 4.0, 7.0])
    want = getattr(np, name)(x, correction=1.5)
    assert float(getattr(fnp, name)(x, correction=1.5)) == pytest.approx(want, rel=1e-14)
    assert float(ft.jit(lambda a: getattr(fnp, name)(a, correction=1.5))(x)) == pytest.approx(want, rel=1e-14)
    with pytest.raises(ValueError, match="both ddof and correction"):
        getattr(fnp, name)(x, ddof=1, correction=1)


@pytest.mark.parametrize("name", ["sum", "prod", "max", "min", "mean", "var", "std", "nansum",
                                  "nanmean", "nanvar"])
def test_a_mask_that_is_not_boolean_is_refused_eagerly_and_under_jit(name):
    # NumPy refuses it (no safe cast to bool); reading it as != 0 under jit alone made eager
    # and jit disagree: an error against a number
    f = getattr(fnp, name)
    x = np.ones((2, 3))
    extra = {"initial": 0.0} if name in ("max", "min") else {}
    with pytest.raises(TypeError):
        getattr(np, name)(x, axis=1, where=np.array([1, 0, 1]), **extra)
    with pytest.raises(TypeError):  # (eagerly: NumPy's own error)
        f(x, axis=1, where=np.array([1, 0, 1]), **extra)
    with pytest.raises(TypeError, match="boolean mask"):
        ft.jit(lambda x: f(x, axis=1, where=np.array([1, 0, 1]), **extra))(x)


@pytest.mark.parametrize("name", ["sum", "mean", "var", "nansum"])
def test_a_python_true_mask_keeps_every_entry_under_jit(name):
    f = getattr(fnp, name)
    x = np.arange(6.0).reshape(2, 3)
    expected = getattr(np, name)(x, axis=1, where=True)
    np.testing.assert_allclose(ft.jit(lambda x: f(x, axis=1, where=True))(x), expected)
    np.testing.assert_allclose(f(x, axis=1, where=True), expected)
