"""functrans.numpy where it must give NumPy's answer exactly, traced or not: einsum's
broadcasting and sublist form, linspace with traced endpoints, eigh from one triangle, the
comparison and copy functions, the ``%``, ``//`` and ``divmod`` operators, and the error for
PyTorch's ``dim=``.

The table rows of these functions (tests/specs/) check derivatives to second order on drawn
shapes; the tests here pin the cases named in the hardening issue with exact values."""
from __future__ import annotations

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans.testing import check_grads

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
