"""functrans.scipy.linalg's LU, exponential, block-diagonal and QR functions: the table rows
(values against SciPy, derivatives to second order in both modes, both backends), and the
points the rows do not draw: singular and rectangular matrices, exact values, batches, vmap
and jit, and the errors."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg as sl

import functrans as ft
import functrans.numpy as fnp
import functrans.scipy.linalg as fsl
from functrans.testing import check_grads

from specs import check_spec
from specs.linalg import SCIPY_FUNCTIONS


@pytest.mark.parametrize("spec", SCIPY_FUNCTIONS, ids=repr)
def test_function(spec, backend):
    check_spec(spec, backend)


@pytest.mark.parametrize("spec", [s for s in SCIPY_FUNCTIONS if len(s.dtypes) > 1], ids=repr)
def test_function_low_precision(spec, backend):
    check_spec(spec, backend, low_precision=True)


def test_lu_of_rectangular_and_singular_matrices():
    rng = np.random.default_rng(0)
    for shape in [(4, 2), (2, 4), (3, 3)]:
        a = rng.standard_normal(shape)
        for got, ref in zip(fsl.lu(a), sl.lu(a)):
            np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12)
        p, lower, upper = fsl.lu(a, p_indices=True)
        np.testing.assert_allclose(lower[p] @ upper, a, rtol=1e-12, atol=1e-12)
    singular = np.array([[1.0, 2.0], [2.0, 4.0]])
    with pytest.warns(sl.LinAlgWarning):
        reference = sl.lu_factor(singular)
    for got, ref in zip(fsl.lu_factor(singular), reference):
        np.testing.assert_allclose(got, ref)
    with pytest.raises(NotImplementedError, match="square"):
        ft.grad(lambda a: fsl.lu(a)[2].sum())(rng.standard_normal((3, 2)))


def test_lu_solve_gradient_is_the_solve_gradient(backend):
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((3, 3)) + 3 * np.eye(3), rng.standard_normal(3)
    a_, b_ = backend.put(a), backend.put(b)
    loss = lambda solver: lambda a, b: (solver(a, b) ** 2).sum()
    via_lu = ft.grad(loss(lambda a, b: fsl.lu_solve(fsl.lu_factor(a), b)), argnums=(0, 1))(a_, b_)
    direct = ft.grad(loss(fsl.solve), argnums=(0, 1))(a_, b_)
    backend.check_placed(via_lu)
    for g, h in zip(via_lu, direct):
        np.testing.assert_allclose(backend.get(g), backend.get(h), rtol=1e-10)


def test_lu_under_jit_and_vmap():
    rng = np.random.default_rng(2)
    a = rng.standard_normal((4, 3, 3))
    lu, piv = ft.vmap(fsl.lu_factor)(a)
    for i in range(4):
        np.testing.assert_allclose(lu[i], sl.lu_factor(a[i])[0], rtol=1e-12)
        np.testing.assert_array_equal(piv[i], sl.lu_factor(a[i])[1])
    b = rng.standard_normal(3)
    solve = ft.jit(lambda a, b: fsl.lu_solve(fsl.lu_factor(a), b))
    np.testing.assert_allclose(solve(a[0], b), np.linalg.solve(a[0], b), rtol=1e-10)


def test_expm_exact_values_and_large_norms():
    assert fsl.expm(np.zeros((2, 2))).tolist() == [[1.0, 0.0], [0.0, 1.0]]
    nilpotent = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, 0.0]])
    np.testing.assert_allclose(fsl.expm(nilpotent), [[1, 1, 0.5], [0, 1, 1], [0, 0, 1]], rtol=1e-14)
    rotation = np.array([[0.0, -np.pi], [np.pi, 0.0]])
    np.testing.assert_allclose(fsl.expm(rotation), -np.eye(2), atol=1e-13)
    rng = np.random.default_rng(3)
    batch = rng.standard_normal((3, 4, 4)) * np.array([0.01, 1.0, 20.0])[:, None, None]
    np.testing.assert_allclose(fsl.expm(batch), np.stack([sl.expm(x) for x in batch]), rtol=1e-9)
    np.testing.assert_allclose(ft.vmap(fsl.expm)(batch), fsl.expm(batch), rtol=1e-12)


def test_expm_derivative_is_the_frechet_derivative(backend):
    rng = np.random.default_rng(4)
    a, e = rng.standard_normal((3, 3)), rng.standard_normal((3, 3))
    _, tangent = ft.jvp(fsl.expm, (backend.put(a),), (backend.put(e),))
    backend.check_placed(tangent)
    np.testing.assert_allclose(backend.get(tangent), sl.expm_frechet(a, e, compute_expm=False), rtol=1e-10)
    # the adjoint: <L(A, E), G> = <E, L(A^T, G)>
    g = rng.standard_normal((3, 3))
    cotangent = ft.vjp(fsl.expm, a)[1](g)[0]
    np.testing.assert_allclose(cotangent, sl.expm_frechet(a.T, g, compute_expm=False), rtol=1e-10)
    check_grads(fsl.expm, (a * 3,), order=2, atol=1e-5, rtol=1e-5)


def test_errors_name_the_problem():
    with pytest.raises(ValueError, match="square"):
        fsl.expm(np.ones((2, 3)))
    with pytest.raises(ValueError, match="square"):
        fsl.lu_factor(np.ones((2, 3)))
    with pytest.raises(ValueError, match="trans must be"):
        fsl.lu_solve(fsl.lu_factor(np.eye(2)), np.ones(2), trans=3)
    with pytest.raises(ValueError, match="at most 2-D"):
        fsl.block_diag(np.ones((1, 1, 1)))
    with pytest.raises(NotImplementedError, match="pivoting"):
        fsl.qr(np.eye(2), pivoting=True)
    assert fsl.block_diag().shape == (1, 0)
    np.testing.assert_array_equal(fsl.qr(np.ones((3, 2)))[0].shape, (3, 3))


def test_det_inv_svd_take_scipys_arguments():
    a = np.array([[2.0, 1.0], [1.0, 3.0]])
    np.testing.assert_allclose(fsl.det(a, overwrite_a=False, check_finite=True), sl.det(a))
    np.testing.assert_allclose(fsl.inv(a, check_finite=False), sl.inv(a))
    for got, ref in zip(fsl.svd(a, lapack_driver="gesvd"), sl.svd(a, lapack_driver="gesvd")):
        np.testing.assert_allclose(np.abs(got), np.abs(ref), rtol=1e-12)
    np.testing.assert_allclose(fsl.svd(a, compute_uv=False), sl.svd(a, compute_uv=False), rtol=1e-12)
    check_grads(lambda a: fsl.svd(a, full_matrices=False)[1], (a,), order=2)


# A positive-definite matrix whose two triangles disagree (each triangle, mirrored, is still
# positive definite), so the triangle a function reads shows in its value.
_TWO_TRIANGLES = np.array([[4.0, -0.5, 0.9], [1.0, 3.0, 0.2], [1.5, 0.2, 2.0]]).T


def test_upper_cholesky_reads_the_upper_triangle_traced_or_not():
    a = _TWO_TRIANGLES
    upper = sl.cholesky(a)  # SciPy's default: the upper factor, from the upper triangle
    np.testing.assert_allclose(upper, np.linalg.cholesky(a, upper=True), rtol=1e-14)
    runs = {"eager": fsl.cholesky, "jit": ft.jit(fsl.cholesky),
            "vmap": lambda a: ft.vmap(fsl.cholesky)(a[None])[0],
            "numpy upper, jit": ft.jit(lambda a: ft.numpy.linalg.cholesky(a, upper=True))}
    for name, run in runs.items():
        np.testing.assert_allclose(run(a), upper, rtol=1e-12, err_msg=name)
    np.testing.assert_allclose(ft.jit(lambda a: fsl.cholesky(a, lower=True))(a),
                               sl.cholesky(a, lower=True), rtol=1e-12)
    check_grads(lambda a: fsl.cholesky(a @ a.T + np.eye(3)), (a,), order=2)


@pytest.mark.parametrize("assume_a", [None, "gen", "sym", "her", "pos", "diagonal", "tridiagonal",
                                      "upper triangular", "lower triangular"])
@pytest.mark.parametrize("lower", [False, True])
@pytest.mark.parametrize("transposed", [False, True])
def test_solve_reads_the_part_of_a_its_structure_names(assume_a, lower, transposed):
    a, b = _TWO_TRIANGLES, np.array([[1.0, 0.5], [2.0, -1.0], [3.0, 0.0]])
    kwargs = {"assume_a": assume_a, "lower": lower, "transposed": transposed}
    expected = sl.solve(a, b, **kwargs)
    np.testing.assert_allclose(fsl.solve(a, b, **kwargs), expected, rtol=1e-12)
    np.testing.assert_allclose(ft.jit(lambda a, b: fsl.solve(a, b, **kwargs))(a, b), expected, rtol=1e-12)
    np.testing.assert_allclose(fsl.solve(a, b[:, 0], **kwargs), expected[:, 0], rtol=1e-12)
    # The Cholesky derivative counts only the symmetric part of a perturbation of a.
    symmetric = (lambda a: a + a.T) if assume_a == "pos" else (lambda a: a)
    check_grads(lambda a, b: fsl.solve(symmetric(a), b, **kwargs), (a, b), order=2)


def test_solve_names_an_unknown_structure():
    with pytest.raises(ValueError, match="assume_a='symetric'.*'symmetric'"):
        fsl.solve(np.eye(2), np.ones(2), assume_a="symetric")


def test_cho_solve_and_lu_solve_broadcast_stacks_as_scipy():
    # A stack of factors with one vector b, and one factor with a stack of right-hand sides:
    # SciPy broadcasts both; the vector b used to meet the second triangular solve as a matrix.
    rng = np.random.default_rng(3)
    a = rng.standard_normal((4, 3, 3)) + 3 * np.eye(3)
    spd = a @ np.swapaxes(a, -1, -2)
    b, stack = rng.standard_normal(3), rng.standard_normal((4, 3, 2))
    for lower in (True, False):
        c = fsl.cho_factor(spd, lower=lower)
        for rhs in (b, stack):
            expected = sl.cho_solve(sl.cho_factor(spd, lower=lower), rhs)
            np.testing.assert_allclose(fsl.cho_solve(c, rhs), expected, rtol=1e-12)
            np.testing.assert_allclose(ft.jit(lambda c, r, low=lower: fsl.cho_solve((c, low), r))(c[0], rhs),
                                       expected, rtol=1e-12)
        np.testing.assert_allclose(fsl.cho_solve(fsl.cho_factor(spd[0], lower=lower), stack),
                                   sl.cho_solve(sl.cho_factor(spd[0], lower=lower), stack), rtol=1e-12)
    for trans in (0, 1, 2):
        for factored, rhs in ((a, b), (a[0], stack), (a, stack)):
            expected = sl.lu_solve(sl.lu_factor(factored), rhs, trans=trans)
            np.testing.assert_allclose(fsl.lu_solve(fsl.lu_factor(factored), rhs, trans=trans), expected, rtol=1e-12)
    with pytest.raises(ValueError, match=r"b of shape \(4,\) has 4 rows, the factored matrix 3"):
        fsl.lu_solve(fsl.lu_factor(a[0]), np.ones(4))
    check_grads(lambda c, b: fsl.cho_solve((c, True), b), (np.linalg.cholesky(spd), b), order=2)


def test_jax_keywords_are_accepted():
    import functrans.numpy as fnp
    import functrans.scipy.special as fsp
    a = np.array([[0.5, 1.0], [0.0, -0.3]])
    np.testing.assert_allclose(fsl.expm(a, upper_triangular=True, max_squarings=4), sl.expm(a), rtol=1e-13)
    np.testing.assert_allclose(fsl.solve(a, a[0], debug=True), sl.solve(a, a[0]), rtol=1e-13)
    np.testing.assert_allclose(fsl.eigh_tridiagonal(np.ones(3), np.ones(2), eigvals_only=True, key=None),
                               sl.eigh_tridiagonal(np.ones(3), np.ones(2), eigvals_only=True), rtol=1e-13)
    np.testing.assert_allclose(fsl.solve_triangular(a, a[0], debug=True), sl.solve_triangular(a, a[0]), rtol=1e-13)
    np.testing.assert_allclose(fnp.linalg.slogdet(a, method="qr")[1], np.linalg.slogdet(a)[1], rtol=1e-13)
    np.testing.assert_allclose(fsp.log_ndtr(-30.0, series_order=5), fsp.log_ndtr(-30.0))
    with pytest.raises(ValueError, match="method"):
        fnp.linalg.slogdet(a, method="svd")
    with pytest.raises(ValueError, match="series_order"):
        fsp.log_ndtr(-30.0, series_order=31)


def test_toeplitz_is_scipys():
    rng = np.random.default_rng(4)
    cases = [([1, 2, 3],), ([1, 2, 3], [1, 4, 5, 6]), (np.array([1 + 1j, 2 - 3j]),), ([1.0, 2.0], [9.0, 3.0]),
             (rng.standard_normal((2, 3)), rng.standard_normal((2, 4))),
             (rng.standard_normal((2, 3)), rng.standard_normal(4)),
             (np.float32([1.0, 2.0]),), (np.array(5.0),), (np.array([]),)]
    for args in cases:
        expected = sl.toeplitz(*args)
        for got in (fsl.toeplitz(*args), ft.jit(fsl.toeplitz)(*(np.asarray(a) for a in args))):
            assert got.shape == expected.shape and got.dtype == expected.dtype, args
            np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(ft.vmap(fsl.toeplitz)(np.arange(6.0).reshape(2, 3)),
                                  sl.toeplitz(np.arange(6.0).reshape(2, 3)))
    check_grads(fsl.toeplitz, (rng.standard_normal(3), rng.standard_normal(4)), order=2)


# -- special matrices ------------------------------------------------------------------------------

_VECTOR = np.array([0.7, -1.3, 2.1, 0.4])
_BATCH = np.array([[0.7, -1.3, 2.1, 0.4], [1.5, 0.2, -0.6, 3.0]])

# (name, arguments): SciPy's value, dtype and shape are the reference
_SPECIAL_CASES = [
    ("circulant", (_VECTOR,)), ("circulant", (_BATCH,)), ("circulant", (np.array([1, 4, 2]),)),
    ("circulant", (np.array([1 + 2j, 3.0]),)), ("hankel", (_VECTOR,)), ("hankel", (_VECTOR, _VECTOR[:3])),
    ("hankel", (np.array([1, 2, 3]),)), ("fiedler", (_VECTOR,)), ("fiedler", (_BATCH,)),
    ("fiedler", (np.array([1, 4, 2]),)), ("fiedler", (np.array([2.0]),)), ("fiedler", (np.array([]),)),
    ("companion", (_VECTOR,)), ("companion", (_BATCH,)), ("companion", (np.array([1, 4, 2]),)),
    ("companion", (_VECTOR.astype(np.float32),)), ("fiedler_companion", (_VECTOR,)),
    ("fiedler_companion", (np.arange(1.0, 8.0),)), ("fiedler_companion", (np.arange(1.0, 7.0),)),
    ("fiedler_companion", (_BATCH,)), ("fiedler_companion", (np.array([2.0, 3.0]),)),
    ("fiedler_companion", (np.array([2.0]),)), ("leslie", (_VECTOR, _VECTOR[:3])),
    ("leslie", (np.array([1, 2, 3]), np.array([0.5, 0.5]))), ("leslie", (_BATCH, _BATCH[:, :3])),
    ("convolution_matrix", (_VECTOR, 3)), ("convolution_matrix", (_VECTOR, 6, "same")),
    ("convolution_matrix", (_VECTOR, 3, "same")), ("convolution_matrix", (_VECTOR, 2, "valid")),
    ("convolution_matrix", (_VECTOR, 6, "valid")), ("convolution_matrix", (_BATCH, 3, "same")),
    ("dft", (4,)), ("dft", (5, "sqrtn")), ("dft", (3, "n")), ("hadamard", (8,)), ("hadamard", (4, float)),
    ("helmert", (5,)), ("helmert", (4, True)), ("hilbert", (5,)), ("invhilbert", (6,)),
    ("invhilbert", (6, True)), ("invhilbert", (14, True)), ("pascal", (6,)), ("pascal", (6, "lower")),
    ("pascal", (6, "upper")), ("pascal", (34,)), ("pascal", (5, "symmetric", False)), ("invpascal", (6,)),
    ("invpascal", (6, "lower")), ("invpascal", (6, "upper")), ("invpascal", (5, "symmetric", False)),
    ("invpascal", (20,)),
]


@pytest.mark.parametrize("name, args", _SPECIAL_CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(_SPECIAL_CASES)])
def test_special_matrices_are_scipys(name, args):
    got, expected = getattr(fsl, name)(*args), getattr(sl, name)(*args)
    assert got.shape == expected.shape and got.dtype == expected.dtype
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name, args", [("circulant", (_VECTOR,)), ("hankel", (_VECTOR, _VECTOR[:3])),
                                        ("fiedler", (_VECTOR,)), ("companion", (_VECTOR,)),
                                        ("fiedler_companion", (np.arange(1.0, 8.0),)),
                                        ("leslie", (_VECTOR, _VECTOR[:3])),
                                        ("convolution_matrix", (_VECTOR, 3, "same"))])
def test_special_matrices_from_arrays_under_jit_vmap_and_grad(name, args, backend):
    arrays = [a for a in args if isinstance(a, np.ndarray)]
    rest = args[len(arrays):]
    make = lambda *a: getattr(fsl, name)(*a, *rest)
    expected = getattr(sl, name)(*args)
    got = ft.jit(make)(*(backend.put(a) for a in arrays))
    backend.check_placed(got)
    np.testing.assert_allclose(backend.get(got), expected, rtol=1e-12, atol=1e-12)
    stacked = ft.vmap(make)(*(np.stack([a, 2 * a]) for a in arrays))
    np.testing.assert_allclose(stacked[1], getattr(sl, name)(*(2 * a for a in arrays), *rest), rtol=1e-12, atol=1e-12)
    check_grads(make, tuple(arrays), order=2)


def test_special_matrices_refuse_what_scipy_refuses():
    for call, message in [(lambda: fsl.companion(np.array([0.0, 1.0, 2.0])), "leading coefficient"),
                          (lambda: fsl.companion(np.array([1.0])), "at least 2"),
                          (lambda: fsl.fiedler_companion(np.array([0.0, 1.0, 2.0])), "leading coefficient"),
                          (lambda: fsl.hadamard(3), "power of 2"), (lambda: fsl.leslie(_VECTOR, _VECTOR), "one less"),
                          (lambda: fsl.pascal(3, "middle"), "kind"), (lambda: fsl.invpascal(3, "middle"), "kind"),
                          (lambda: fsl.convolution_matrix(_VECTOR, 0), "positive"),
                          (lambda: fsl.convolution_matrix(_VECTOR, 2, "wide"), "mode"),
                          (lambda: fsl.dft(2, "half"), "scale"), (lambda: fsl.pascal(35), "exact=False"),
                          (lambda: fsl.invhilbert(15, exact=True), "exact=False")]:
        with pytest.raises(ValueError, match=message):
            call()
    # With the values unknown (jit), a zero leading coefficient gives infinities, as in JAX.
    assert np.isinf(ft.jit(fsl.companion)(np.array([0.0, 1.0, 2.0]))[0]).all()


# -- polar, solve_sylvester, sqrtm ----------------------------------------------------------------

@pytest.mark.parametrize("shape", [(3, 3), (4, 3), (3, 4)])
@pytest.mark.parametrize("side", ["right", "left"])
def test_polar_is_scipys_and_differentiable(shape, side):
    a = np.random.default_rng(10).standard_normal(shape)
    expected = sl.polar(a, side)
    for got in (fsl.polar(a, side), ft.jit(lambda a: fsl.polar(a, side))(a)):
        for g, e in zip(got, expected):
            np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-12)
    for k in (0, 1):
        check_grads(lambda a: fsl.polar(a, side)[k], (a,), order=2)


def test_polar_derivative_is_finite_where_singular_values_repeat():
    # The SVD's own derivative divides by differences of singular values; polar's by sums.
    rng = np.random.default_rng(11)
    rotation = np.linalg.qr(rng.standard_normal((3, 3)))[0]
    for a in (rotation, 2 * np.eye(3)):
        assert np.isfinite(ft.jacfwd(lambda a: fsl.polar(a)[0])(a)).all()
        check_grads(lambda a: fsl.polar(a)[0], (a,), order=1)
    # at the identity, u = I + (dA - dA^T) / 2 to first order
    e = rng.standard_normal((3, 3))
    np.testing.assert_allclose(ft.jvp(lambda a: fsl.polar(a)[0], (np.eye(3),), (e,))[1], (e - e.T) / 2, atol=1e-12)
    z = rng.standard_normal((3, 3)) + 1j * rng.standard_normal((3, 3))
    np.testing.assert_allclose(fsl.polar(z)[0], sl.polar(z)[0], atol=1e-12)
    check_grads(lambda a: fsl.polar(a)[0], (z,), order=2)
    batch = rng.standard_normal((2, 3, 3))
    np.testing.assert_allclose(ft.vmap(lambda a: fsl.polar(a)[0])(batch), fsl.polar(batch)[0], atol=1e-12)
    np.testing.assert_allclose(fsl.polar(batch)[0][1], sl.polar(batch[1])[0], atol=1e-12)


def test_solve_sylvester_is_scipys_and_differentiable():
    rng = np.random.default_rng(12)
    a, b, q = rng.standard_normal((3, 3)), rng.standard_normal((2, 2)), rng.standard_normal((3, 2))
    for got in (fsl.solve_sylvester(a, b, q), ft.jit(fsl.solve_sylvester)(a, b, q)):
        np.testing.assert_allclose(got, sl.solve_sylvester(a, b, q), rtol=1e-12)
    check_grads(fsl.solve_sylvester, (a, b, q), order=2)
    z = a + 1j * rng.standard_normal((3, 3))
    x = fsl.solve_sylvester(z, b, q)
    np.testing.assert_allclose(z @ x + x @ b, q, atol=1e-13)
    check_grads(fsl.solve_sylvester, (z, b + 0j, q + 0j), order=2)
    stacks = rng.standard_normal((4, 3, 3)), rng.standard_normal((4, 2, 2)), rng.standard_normal((4, 3, 2))
    expected = np.stack([sl.solve_sylvester(*abq) for abq in zip(*stacks)])
    np.testing.assert_allclose(fsl.solve_sylvester(*stacks), expected, rtol=1e-12)
    np.testing.assert_allclose(ft.vmap(fsl.solve_sylvester)(*stacks), expected, rtol=1e-12)
    assert fsl.solve_sylvester(a.astype(np.float32), b.astype(np.float32), q.astype(np.float32)).dtype == np.float32
    # a Jordan block is no obstacle to the direct solve
    jordan = np.eye(3) + np.eye(3, k=1)
    np.testing.assert_allclose(fsl.solve_sylvester(jordan, b, q), sl.solve_sylvester(jordan, b, q), rtol=1e-12)


def test_solve_sylvester_beyond_the_direct_solve():
    rng = np.random.default_rng(13)
    a, b, q = rng.standard_normal((40, 40)), rng.standard_normal((30, 30)), rng.standard_normal((40, 30))
    np.testing.assert_allclose(fsl.solve_sylvester(a, b, q), sl.solve_sylvester(a, b, q), rtol=1e-8, atol=1e-10)
    # the eigenvector method cannot take a defective matrix: refused, not a wrong X
    with pytest.raises(np.linalg.LinAlgError, match="diagonalisable"):
        fsl.solve_sylvester(np.eye(40) + np.eye(40, k=1), b, q)
    with pytest.raises(np.linalg.LinAlgError, match="share an eigenvalue"):
        fsl.solve_sylvester(np.eye(2), -np.eye(2), np.ones((2, 2)))
    q[0, 0] = np.nan  # NaNs in, NaNs out, as from the direct solve
    assert np.isnan(fsl.solve_sylvester(a, b, q)).all()


def test_sqrtm_is_scipys_and_differentiable():
    rng = np.random.default_rng(14)
    g = rng.standard_normal((4, 4))
    spd = g @ g.T + np.eye(4)
    for a in (np.array([[4.0, 1.0], [0.0, 9.0]]), spd, rng.standard_normal((4, 4)), np.array([[1.0, 1.0], [0.0, 1.0]]),
              np.array([[-4.0, 0.0], [0.0, 9.0]])):
        expected = sl.sqrtm(a).astype(complex)
        for got in (fsl.sqrtm(a), ft.jit(fsl.sqrtm)(a)):
            assert got.dtype == np.complex128
            np.testing.assert_allclose(got, expected, atol=1e-10)
    np.testing.assert_array_equal(fsl.sqrtm(np.zeros((2, 2))), np.zeros((2, 2)))  # SciPy warns it is singular
    assert fsl.sqrtm(spd.astype(np.float32)).dtype == np.complex64
    np.testing.assert_allclose(ft.vmap(fsl.sqrtm)(np.stack([spd, 2 * spd])), [sl.sqrtm(spd), sl.sqrtm(2 * spd)],
                               atol=1e-10)
    # the derivative solves X dX + dX X = dA: defined at a Jordan block too
    for a in (spd, np.array([[1.0, 1.0], [0.0, 1.0]]), np.eye(3)):
        check_grads(fsl.sqrtm, (a,), order=2)
    with pytest.raises(np.linalg.LinAlgError, match="no square root"):
        fsl.sqrtm(np.array([[0.0, 1.0], [0.0, 0.0]]))
    # in a batch, each matrix takes the way it needs, and one with a NaN gets NaNs
    batch = np.stack([np.zeros((2, 2)), np.array([[1.0, 1.0], [0.0, 1.0]]), np.full((2, 2), np.nan),
                      np.diag([4.0, 9.0])])
    for got in (fsl.sqrtm(batch), ft.vmap(fsl.sqrtm)(batch)):
        np.testing.assert_allclose(got[[0, 1, 3]], [np.zeros((2, 2)), [[1.0, 0.5], [0.0, 1.0]], np.diag([2.0, 3.0])],
                                   atol=1e-12)
        assert np.isnan(got[2]).all()


# -- hessenberg, qr_multiply, eigh_tridiagonal -------------------------------------------------------

def test_hessenberg_is_scipys_and_differentiable():
    rng = np.random.default_rng(15)
    for a in (rng.standard_normal((4, 4)), rng.standard_normal((5, 5)) + 1j * rng.standard_normal((5, 5)),
              np.triu(rng.standard_normal((4, 4)), -1), np.zeros((3, 3)), rng.standard_normal((1, 1))):
        expected = sl.hessenberg(a, calc_q=True)
        for h, q in (fsl.hessenberg(a, calc_q=True), ft.jit(lambda a: fsl.hessenberg(a, calc_q=True))(a)):
            np.testing.assert_allclose(h, expected[0], atol=1e-12)
            np.testing.assert_allclose(q, expected[1], atol=1e-12)
    a = rng.standard_normal((4, 4))
    check_grads(fsl.hessenberg, (a,), order=2)
    check_grads(lambda a: fsl.hessenberg(a, calc_q=True)[1], (a,), order=2)
    check_grads(lambda a: fsl.hessenberg(a, calc_q=True)[1], (a + 1j * rng.standard_normal((4, 4)),), order=1)
    stack = rng.standard_normal((3, 4, 4))
    np.testing.assert_allclose(fsl.hessenberg(stack)[1], sl.hessenberg(stack[1]), atol=1e-12)
    np.testing.assert_allclose(ft.vmap(fsl.hessenberg)(stack), fsl.hessenberg(stack), atol=1e-12)
    assert fsl.hessenberg(a.astype(np.float32)).dtype == np.float32


@pytest.mark.parametrize("mode, c_shape", [("right", (5, 4)), ("left", (3, 5)), ("right", (4,)), ("left", (3,))])
def test_qr_multiply_is_scipys_and_differentiable(mode, c_shape):
    rng = np.random.default_rng(16)
    a, c = rng.standard_normal((4, 3)), rng.standard_normal(c_shape)
    for got in (fsl.qr_multiply(a, c, mode), ft.jit(lambda a, c: fsl.qr_multiply(a, c, mode))(a, c)):
        for g, e in zip(got, sl.qr_multiply(a, c, mode)):
            assert g.shape == e.shape
            np.testing.assert_allclose(g, e, atol=1e-12)
    check_grads(lambda a, c: fsl.qr_multiply(a, c, mode)[0], (a, c), order=2)
    with pytest.raises(ValueError, match="c must be"):
        fsl.qr_multiply(a, np.ones((2, 2)), mode)


def test_eigh_tridiagonal_is_scipys_and_differentiable():
    rng = np.random.default_rng(17)
    d, e = rng.standard_normal(5), rng.standard_normal(4)
    w, v = fsl.eigh_tridiagonal(d, e)
    expected_w, expected_v = sl.eigh_tridiagonal(d, e)
    np.testing.assert_allclose(w, expected_w, atol=1e-12)
    np.testing.assert_allclose(np.abs(v), np.abs(expected_v), atol=1e-12)  # each vector's sign is LAPACK's
    for select, bounds in (("i", (1, 3)), ("v", (-0.5, 1.0))):
        got = fsl.eigh_tridiagonal(d, e, eigvals_only=True, select=select, select_range=bounds)
        np.testing.assert_allclose(got, sl.eigh_tridiagonal(d, e, eigvals_only=True, select=select,
                                                            select_range=bounds), atol=1e-12)
    only = lambda d, e: fsl.eigh_tridiagonal(d, e, eigvals_only=True)
    np.testing.assert_allclose(ft.jit(only)(d, e), expected_w, atol=1e-12)
    np.testing.assert_allclose(ft.vmap(only)(np.stack([d, 2 * d]), np.stack([e, 2 * e]))[1], 2 * expected_w,
                               atol=1e-12)
    check_grads(only, (d, e), order=2)
    with pytest.raises(ft.errors.TracerConversionError, match="select='i'"):
        ft.jit(lambda d: fsl.eigh_tridiagonal(d, e, True, "v", (-0.5, 1.0)))(d)


@pytest.mark.parametrize("n", [2, 3, 5, 6])
def test_rsf2csf_is_scipys_and_differentiable(n):
    rng = np.random.default_rng(18 + n)
    t, z = sl.schur(rng.standard_normal((n, n)))
    expected = sl.rsf2csf(t, z)
    for got in (fsl.rsf2csf(t, z), ft.jit(fsl.rsf2csf)(t, z)):
        for g, e in zip(got, expected):
            assert g.dtype == e.dtype
            np.testing.assert_allclose(g, e, atol=1e-12)
    # differentiable along real Schur forms: the zero subdiagonal entries stay zero (a rotation
    # starts where one leaves zero, as in SciPy)
    keep = np.triu(np.ones((n, n), dtype=bool)) | (np.abs(np.tril(t, -1)) > 0)
    check_grads(lambda x: fsl.rsf2csf(fnp.where(keep, x, 0.0), z)[0], (t,), order=2)
    check_grads(lambda z: fsl.rsf2csf(t, z)[1], (z,), order=1)
    t32, z32 = sl.schur(rng.standard_normal((n, n)).astype(np.float32))
    assert fsl.rsf2csf(t32, z32)[0].dtype == np.complex64


def test_matrix_functions_read_device_values_only_explicitly():
    """sqrtm (eigenvectors, and the Denman-Beavers iteration for a Jordan block), polar, expm,
    the eigenvector Sylvester solve, companion's check and rsf2csf run on the strict backend
    with every implicit read of a device value (bool(), float(), int()) refused."""
    from functrans.testing.strict import forbid_implicit_reads, strict_array, to_numpy

    rng = np.random.default_rng(41)
    g = rng.standard_normal((4, 4))
    spd, jordan = g @ g.T + np.eye(4), np.array([[4.0, 1.0], [0.0, 4.0]])
    big_a, big_b = rng.standard_normal((33, 33)), rng.standard_normal((33, 33))  # beyond the direct solve
    t, z = sl.schur(g)
    on = lambda x: strict_array(x, device="strict:1")
    with forbid_implicit_reads():
        results = {
            "sqrtm": fsl.sqrtm(on(spd)), "sqrtm_jordan": fsl.sqrtm(on(jordan)),
            "sqrtm_grad": ft.grad(lambda a: fsl.sqrtm(a).real.sum())(on(spd)),
            "polar": fsl.polar(on(g))[0], "polar_grad": ft.grad(lambda a: fsl.polar(a)[0].sum())(on(g)),
            "expm": fsl.expm(on(3 * g)), "expm_grad": ft.grad(lambda a: fsl.expm(a).sum())(on(g)),
            "sylvester": fsl.solve_sylvester(on(big_a), on(big_b), on(big_a)),
            "companion": fsl.companion(on(np.array([2.0, -3.0, 1.0]))),
            "rsf2csf": fsl.rsf2csf(on(t), on(z))[0],
        }
    expected = {
        "sqrtm": sl.sqrtm(spd), "sqrtm_jordan": [[2.0, 0.25], [0.0, 2.0]],
        "sqrtm_grad": ft.grad(lambda a: fsl.sqrtm(a).real.sum())(spd),
        "polar": sl.polar(g)[0], "polar_grad": ft.grad(lambda a: fsl.polar(a)[0].sum())(g),
        "expm": sl.expm(3 * g), "expm_grad": ft.grad(lambda a: fsl.expm(a).sum())(g),
        "sylvester": sl.solve_sylvester(big_a, big_b, big_a),
        "companion": sl.companion([2.0, -3.0, 1.0]), "rsf2csf": sl.rsf2csf(t, z)[0],
    }
    for name, got in results.items():
        assert got.device == "strict:1", name
        np.testing.assert_allclose(to_numpy(got), expected[name], rtol=1e-8, atol=1e-9, err_msg=name)


def test_a_singular_matrix_in_a_traced_batch_gets_nans_as_in_jax():
    """NumPy refuses a whole batch for one singular matrix; traced calls follow JAX: NaNs for
    that matrix, the values for the others. Eager calls on plain arrays raise, as NumPy."""
    batch = np.stack([np.diag([2.0, 4.0]), np.array([[1.0, 2.0], [2.0, 4.0]]), np.zeros((2, 2))])
    rhs = np.ones((3, 2))
    for got in (ft.vmap(fnp.linalg.inv)(batch), ft.jit(ft.vmap(fsl.inv))(batch)):
        np.testing.assert_allclose(got[0], np.diag([0.5, 0.25]))
        assert np.isnan(got[1:]).all()
    got = ft.vmap(fsl.solve)(batch, rhs)
    np.testing.assert_allclose(got[0], [0.5, 0.25])
    assert np.isnan(got[1:]).all()
    got = ft.vmap(fsl.cholesky, in_axes=0)(np.stack([np.diag([4.0, 9.0]), -np.eye(2)]))
    np.testing.assert_allclose(got[0], np.diag([2.0, 3.0]))
    assert np.isnan(got[1]).all()
    assert np.isnan(ft.jit(fnp.linalg.inv)(batch[1])).all()
    with pytest.raises(np.linalg.LinAlgError):
        fnp.linalg.inv(batch)


def test_lu_derivative_where_only_the_last_pivot_is_zero():
    """[[1, 2], [2, 4]] and a rank-2 3 x 3 matrix are singular, but their LU factors are smooth
    there (only the last pivot is 0): the derivative is finite and matches finite differences;
    where an earlier pivot is 0 there is none, and it is NaN (as JAX's)."""
    for a in (np.array([[1.0, 2.0], [2.0, 4.0]]), np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]])):
        check_grads(lambda m: fsl.lu_factor(m)[0], (a,), order=2)
        check_grads(lambda m: fsl.lu(m)[1:], (a,), order=1)
    assert np.isnan(ft.grad(lambda m: fsl.lu_factor(m)[0].sum())(np.zeros((2, 2)))).all()


@pytest.mark.parametrize("output", ["real", "complex"])
def test_schur_is_scipys_batched_and_traced(output):
    rng = np.random.default_rng(42)
    stack = rng.standard_normal((3, 4, 4))
    for a in (stack[0], np.array([[1.0, 2.0], [-2.0, 1.0]]), stack[1].astype(np.float32),
              stack[2] + 1j * stack[0]):
        t, z = fsl.schur(a, output)
        want_t, want_z = sl.schur(a, output)
        assert t.dtype == want_t.dtype and z.dtype == want_z.dtype
        np.testing.assert_allclose(t, want_t, atol=1e-5 if a.dtype == np.float32 else 1e-12)
        np.testing.assert_allclose(z, want_z, atol=1e-5 if a.dtype == np.float32 else 1e-12)
    want = [sl.schur(m, output) for m in stack]
    for got in (fsl.schur(stack, output), ft.vmap(lambda m: fsl.schur(m, output))(stack),
                ft.jit(lambda m: fsl.schur(m, output))(stack)):
        for part in range(2):
            np.testing.assert_allclose(got[part], np.stack([w[part] for w in want]), atol=1e-12)
    with_nan = stack.copy()
    with_nan[1, 0, 0] = np.nan  # NaNs for that matrix, the others as they are
    t, _ = fsl.schur(with_nan, output)
    assert np.isnan(t[1]).all() and np.allclose(t[0], want[0][0])


def test_schur_refusals_name_the_reason():
    from functrans.errors import UnsupportedError
    from functrans.testing.strict import strict_array

    a = np.array([[1.0, 2.0], [3.0, 4.0]])
    with pytest.raises(UnsupportedError, match="no derivative, as in JAX"):
        ft.grad(lambda m: fsl.schur(m)[0].sum())(a)
    with pytest.raises(UnsupportedError, match="no derivative, as in JAX"):
        ft.grad(lambda m: fsl.funm(m, fnp.exp).real.sum())(a)
    with pytest.raises(UnsupportedError, match="host only.*device_get"):
        fsl.schur(strict_array(a))
    with pytest.raises(UnsupportedError, match="sort"):
        fsl.schur(a, sort="lhp")
    with pytest.raises(ValueError, match="output"):
        fsl.schur(a, output="upper")
    with pytest.raises(ValueError, match="square"):
        fsl.funm(np.ones((2, 3)), fnp.exp)


def test_funm_is_scipys_always_complex_and_traceable():
    rng = np.random.default_rng(43)
    a = rng.standard_normal((4, 4))
    for func, reference in ((fnp.sin, np.sin), (lambda x: x * x, lambda x: x * x), (fnp.sqrt, np.sqrt)):
        got = fsl.funm(a, func)
        assert got.dtype == np.complex128
        np.testing.assert_allclose(got, sl.funm(a, reference), atol=1e-12)
    got, err = fsl.funm(a, fnp.exp, disp=False)
    np.testing.assert_allclose(got, sl.expm(a), atol=1e-12)
    assert err == pytest.approx(sl.funm(a, np.exp, disp=False)[1])
    assert fsl.funm(a.astype(np.float32), fnp.exp).dtype == np.complex64
    np.testing.assert_allclose(ft.jit(lambda m: fsl.funm(m, fnp.exp))(a), sl.expm(a), atol=1e-12)
    stack = rng.standard_normal((2, 3, 3))
    np.testing.assert_allclose(ft.vmap(lambda m: fsl.funm(m, fnp.exp))(stack), [sl.expm(m) for m in stack],
                               atol=1e-12)
    # a Jordan block: the recurrence cannot divide by the zero gap, as SciPy's and JAX's; the
    # estimate says so, and disp=True warns instead of returning the wrong matrix silently
    jordan = np.array([[1.0, 1.0], [0.0, 1.0]])
    assert fsl.funm(jordan, fnp.exp, disp=False)[1] == 1.0
    with pytest.warns(RuntimeWarning, match="inaccurate"):
        fsl.funm(jordan, fnp.exp)
    assert fsl.funm(np.zeros((0, 0)), fnp.exp).shape == (0, 0)


def test_eigh_subset_by_index_and_refused_arguments():
    """subset_by_index keeps SciPy's inclusive range (it was swallowed, returning every
    eigenvalue); arguments that would change the answer and are not offered raise."""
    rng = np.random.default_rng(45)
    a = rng.standard_normal((4, 4))
    a = a + a.T
    w, v = fsl.eigh(a, subset_by_index=[1, 2])
    want_w, want_v = sl.eigh(a, subset_by_index=[1, 2])
    np.testing.assert_allclose(w, want_w, atol=1e-12)
    np.testing.assert_allclose(np.abs(v), np.abs(want_v), atol=1e-12)
    np.testing.assert_allclose(ft.jit(lambda m: fsl.eigh(m, eigvals_only=True, subset_by_index=(0, 1)))(a),
                               sl.eigh(a, eigvals_only=True, subset_by_index=(0, 1)), atol=1e-12)
    check_grads(lambda m: fsl.eigh(m, eigvals_only=True, subset_by_index=(2, 3)), (a,), order=2)
    for kwargs in ({"type": 2}, {"eigvals": (0, 1)}, {"subset_by_value": (0.0, 1.0)}, {"b": np.eye(4)}):
        with pytest.raises(NotImplementedError, match=next(iter(kwargs))):
            fsl.eigh(a, **kwargs)
    with pytest.raises(TypeError):
        fsl.eigh(a, subset_by_values=(0.0, 1.0))  # a misspelt keyword is no longer swallowed
