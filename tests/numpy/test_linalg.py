"""functrans.numpy.linalg and functrans.scipy.linalg: the table rows (values against NumPy,
check_grads to second order in both modes on well-conditioned generated matrices, a float32
run), then exact values and the degenerate cases of eigh and svd."""
from __future__ import annotations

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
import functrans.scipy.linalg as fsl
from functrans.testing import check_grads

from specs import LINALG_SPECS, check_spec


@pytest.mark.parametrize("spec", LINALG_SPECS, ids=repr)
def test_function(spec, backend):
    check_spec(spec, backend)


@pytest.mark.parametrize("spec", [s for s in LINALG_SPECS if len(s.dtypes) > 1 and s.nargs], ids=repr)
def test_function_low_precision(spec, backend):
    check_spec(spec, backend, low_precision=True, all_examples=True)


rng = np.random.default_rng(0)
A = rng.standard_normal((3, 3)) * 0.3 + 2 * np.eye(3)
SPD = A @ A.T + np.eye(3)


def test_inverse_gradient_is_the_closed_form():
    g = ft.grad(lambda a: fnp.sum(fnp.linalg.inv(a)))(A)
    inv = np.linalg.inv(A)
    assert np.allclose(g, -(inv.T @ np.ones((3, 3)) @ inv.T))


def test_logdet_gradient_is_inverse_transpose():
    assert np.allclose(ft.grad(lambda a: fnp.linalg.slogdet(a)[1])(A), np.linalg.inv(A).T)
    assert np.allclose(ft.grad(fnp.linalg.det)(A), np.linalg.det(A) * np.linalg.inv(A).T)


def test_det_derivative_at_singular_small_matrices_is_the_adjugate():
    # The gradient of det is the transposed adjugate (the cofactor matrix), defined at singular
    # matrices too; JAX gives the same numbers.
    rank_one = np.array([[1.0, 2.0], [2.0, 4.0]])
    rank_two = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]])
    cases = [(rank_one, [[4.0, -2.0], [-2.0, 1.0]]),
             (rank_two, [[4.0, 4.0, -4.0], [-2.0, -2.0, 2.0], [0.0, 0.0, 0.0]]),
             (np.diag([1.0, 0.0, 1.0]), np.diag([0.0, 1.0, 0.0])),
             (np.zeros((3, 3)), np.zeros((3, 3))), (np.zeros((1, 1)), [[1.0]])]
    for a, cofactors in cases:
        for grad in (ft.grad(fnp.linalg.det), ft.jit(ft.grad(fnp.linalg.det)), ft.grad(fsl.det)):
            np.testing.assert_array_equal(grad(a), cofactors)
    np.testing.assert_array_equal(ft.vmap(ft.grad(fnp.linalg.det))(np.stack([rank_one, np.eye(2)])),
                                  [[[4.0, -2.0], [-2.0, 1.0]], np.eye(2)])
    # det of a 2 x 2 matrix is a * d - b * c: its Hessian is constant.
    np.testing.assert_array_equal(ft.hessian(fnp.linalg.det)(rank_one).reshape(4, 4),
                                  [[0, 0, 0, 1], [0, 0, -1, 0], [0, -1, 0, 0], [1, 0, 0, 0]])
    for a in (rank_one, rank_two, np.zeros((3, 3)), rng.standard_normal((2, 3, 3))):
        check_grads(fnp.linalg.det, (a,), order=2)
        check_grads(fnp.linalg.det, (a + 1j * rng.standard_normal(a.shape),), order=2)
    assert ft.grad(fnp.linalg.det)(rank_two.astype(np.float32)).dtype == np.float32


def _cofactor_matrix(a):
    """The cofactor matrix (the transposed adjugate) from its definition, minor by minor."""
    n = a.shape[-1]
    out = np.zeros_like(a)
    for i in range(n):
        for j in range(n):
            minor = np.delete(np.delete(a, i, 0), j, 1)
            out[i, j] = (-1) ** (i + j) * np.linalg.det(minor)
    return out


def _low_rank(n, rank, seed, dtype=np.float64):
    g = np.random.default_rng(seed)
    x = g.standard_normal((n, rank)) @ g.standard_normal((rank, n))
    if np.dtype(dtype).kind == "c":
        x = x + 1j * (g.standard_normal((n, rank)) @ g.standard_normal((rank, n)))
    return x.astype(dtype)


def test_det_derivative_at_singular_large_matrices_is_the_adjugate(backend):
    # Beyond 3 x 3 the cofactors are not written out: the gradient is det(a) inv(a)^T where a
    # is well conditioned and comes from the SVD where a is singular (JAX returns zeros there).
    cases = [(np.diag([1.0, 0.0, 1.0, 1.0]), np.diag([0.0, 1.0, 0.0, 0.0])),
             (np.diag([2.0, 0.0, 0.0, 3.0]), np.zeros((4, 4))), (np.zeros((5, 5)), np.zeros((5, 5)))]
    cases += [(a, _cofactor_matrix(a)) for a in (_low_rank(5, 4, 1), _low_rank(6, 5, 2), _low_rank(6, 2, 3),
                                                 _low_rank(4, 3, 4, np.complex128))]
    for a, cofactors in cases:
        scale = max(1.0, np.abs(cofactors).max())
        grad = ft.grad(fnp.linalg.det, holomorphic=a.dtype.kind == "c")
        for g in (grad(backend.put(a)), ft.jit(grad)(backend.put(a))):
            backend.check_placed(g)
            np.testing.assert_allclose(backend.get(g), cofactors, atol=1e-12 * scale)
    batch = np.stack([np.diag([1.0, 0.0, 1.0, 1.0]), _low_rank(4, 3, 5), A[:1].repeat(4, 0)[:, :1].repeat(4, 1)
                      + np.eye(4)])
    expected = np.stack([_cofactor_matrix(a) for a in batch])
    for got in (ft.vmap(ft.grad(fnp.linalg.det))(batch), ft.grad(lambda x: fnp.linalg.det(x).sum())(batch),
                ft.jit(ft.vmap(ft.grad(fnp.linalg.det)))(batch)):
        np.testing.assert_allclose(got, expected, atol=1e-12)
    g32 = ft.grad(fnp.linalg.det)(np.diag([1.0, 0.0, 1.0, 1.0]).astype(np.float32))
    assert g32.dtype == np.float32 and g32[1, 1] == 1.0


def _hessian_by_differences(f, a, h=1e-5):
    rows = []
    for k in range(a.size):
        e = np.zeros(a.size)
        e[k] = h
        e = e.reshape(a.shape)
        rows.append(((ft.grad(f)(a + e) - ft.grad(f)(a - e)) / (2 * h)).ravel())
    return np.array(rows)


def test_det_second_derivative_at_singular_large_matrices():
    for a in (np.diag([1.0, 0.0, 1.0, 1.0]), np.diag([2.0, 0.0, 0.0, 1.0]), np.diag([2.0, 0.0, 0.0, 0.0]),
              _low_rank(4, 3, 6), _low_rank(5, 3, 7)):
        n2 = a.size
        reference = _hessian_by_differences(fnp.linalg.det, a)
        for hessian in (ft.hessian(fnp.linalg.det), ft.jit(ft.hessian(fnp.linalg.det)),
                        ft.jacrev(ft.grad(fnp.linalg.det))):
            np.testing.assert_allclose(hessian(a).reshape(n2, n2), reference, atol=1e-8)
        check_grads(fnp.linalg.det, (a,), order=2)
    z = _low_rank(4, 3, 8, np.complex128)
    check_grads(fnp.linalg.det, (z,), order=2)


def test_logdet_derivative_at_a_singular_matrix_is_nan_as_in_jax():
    # log|det| is -inf at a singular matrix and has no derivative there; JAX's gradient is NaN
    # in every entry, eagerly, under jit and per matrix under vmap (the others keep theirs).
    logdet = lambda a: fnp.linalg.slogdet(a)[1]
    singular = np.diag([1.0, 0.0, 1.0, 1.0])
    for grad in (ft.grad(logdet), ft.jit(ft.grad(logdet))):
        assert np.isnan(grad(singular)).all()
        assert np.isnan(grad(singular.astype(complex))).all()
    per_matrix = ft.vmap(ft.grad(logdet))(np.stack([singular, 2 * np.eye(4)]))
    assert np.isnan(per_matrix[0]).all()
    np.testing.assert_array_equal(per_matrix[1], 0.5 * np.eye(4))
    assert np.isnan(ft.jvp(logdet, (singular,), (np.eye(4),))[1])


def test_complex_solve_and_det():
    z = A + 0.5j * rng.standard_normal((3, 3))
    b = rng.standard_normal(3) + 1j * rng.standard_normal(3)
    check_grads(lambda z, b: fnp.linalg.solve(z, b), (z, b), order=2)
    check_grads(lambda z: fnp.linalg.slogdet(z)[1], (z,), order=2)
    check_grads(lambda z: fnp.linalg.det(z), (z,), order=1)


def test_complex_hermitian_decompositions():
    m = rng.standard_normal((3, 3)) + 1j * rng.standard_normal((3, 3))
    herm = lambda x: x @ fnp.conj(x).T + 3 * np.eye(3)
    check_grads(lambda x: fnp.linalg.cholesky(herm(x)), (m,), order=1, atol=1e-5, rtol=1e-5)
    check_grads(lambda x: fnp.linalg.eigvalsh(herm(x)), (m,), order=2, atol=1e-5, rtol=1e-5)
    # |v_ij|^2 does not depend on the phase of each eigenvector
    check_grads(lambda x: fnp.abs(fnp.linalg.eigh(herm(x))[1]) ** 2, (m,), order=1, atol=1e-5, rtol=1e-5)
    check_grads(lambda x: fnp.linalg.svd(x, compute_uv=False), (m,), order=2, atol=1e-5, rtol=1e-5)
    check_grads(lambda x: fnp.abs(fnp.linalg.svd(x, full_matrices=False)[0]) ** 2, (m,), order=1,
                atol=1e-5, rtol=1e-5)
    check_grads(lambda x: fnp.linalg.qr(x)[1], (m,), order=1, atol=1e-5, rtol=1e-5)


def test_eigenvectors_and_singular_vectors_directly():
    check_grads(lambda a: fnp.linalg.eigh(a + a.T)[1], (A,), order=2, atol=1e-5, rtol=1e-5)
    wide = rng.standard_normal((2, 4))
    check_grads(lambda a: fnp.linalg.svd(a, full_matrices=False)[2], (wide,), order=1, atol=1e-5, rtol=1e-5)
    check_grads(lambda a: fnp.linalg.svd(a, full_matrices=False)[0], (wide.T,), order=1, atol=1e-5, rtol=1e-5)


def test_degenerate_eigh_and_svd():
    eye = np.eye(3)
    # eigenvalue derivatives stay finite for repeated eigenvalues; sums of them are exact
    g = ft.grad(lambda a: fnp.sum(fnp.linalg.eigvalsh(a)))(eye)
    assert np.allclose(g, eye)
    # the eigenvector derivative divides by w_j - w_i = 0: not finite
    _, dv = ft.jvp(lambda a: fnp.linalg.eigh(a)[1], (eye,), (np.diag([0.0, 1.0, 0.0]) + np.ones((3, 3)),))
    assert not np.all(np.isfinite(dv))
    g = ft.grad(lambda a: fnp.sum(fnp.linalg.svd(a, compute_uv=False)))(eye)
    assert np.allclose(g, eye)


def test_norms():
    x = rng.standard_normal((3, 4))
    for ord_ in (None, "fro", "nuc", 1, -1, 2, -2, np.inf, -np.inf):
        assert np.isclose(fnp.linalg.norm(ft.stop_gradient(x), ord_), np.linalg.norm(x, ord_))
        got = ft.jvp(lambda x: fnp.linalg.norm(x, ord_), (x,), (x,))[0]
        assert np.isclose(got, np.linalg.norm(x, ord_)), ord_
        check_grads(lambda x: fnp.linalg.norm(x, ord_), (x,), order=1, atol=1e-5, rtol=1e-5)
    v = rng.standard_normal(4)
    for ord_ in (0, 0.5, 3):
        got = ft.jvp(lambda x: fnp.linalg.norm(x, ord_), (v,), (v,))[0]
        assert np.isclose(got, np.linalg.norm(v, ord_))
    z = v + 1j * rng.standard_normal(4)
    check_grads(lambda z: fnp.linalg.norm(z), (z,), order=2)
    assert ft.grad(lambda x: fnp.linalg.norm(x) ** 2)(np.zeros(3)).tolist() == [0.0, 0.0, 0.0]


def test_scipy_linalg():
    low = np.linalg.cholesky(SPD)
    b = rng.standard_normal((3, 2))
    for lower, trans, unit in [(True, 0, False), (True, "T", False), (False, 1, True), (False, "C", False)]:
        t = low if lower else low.T
        got = fsl.solve_triangular(t, b, trans=trans, lower=lower, unit_diagonal=unit)
        import scipy.linalg

        expected = scipy.linalg.solve_triangular(t, b, trans=trans, lower=lower, unit_diagonal=unit)
        assert np.allclose(got, expected)
        check_grads(lambda t, b: fsl.solve_triangular(t, b, trans=trans, lower=lower, unit_diagonal=unit),
                    (t, b), order=2)
    assert np.allclose(fsl.cho_solve(fsl.cho_factor(SPD), b), np.linalg.solve(SPD, b))
    assert np.allclose(fsl.cho_solve(fsl.cho_factor(SPD, lower=True), b), np.linalg.solve(SPD, b))
    check_grads(lambda a, b: fsl.solve(a @ a.T + np.eye(3), b, assume_a="pos"), (A, b), order=2)
    assert np.allclose(fsl.cholesky(SPD), np.linalg.cholesky(SPD).T)


def test_numpy_dispatch_to_linalg():
    g = ft.grad(lambda a: np.linalg.slogdet(a)[1])(A)
    assert np.allclose(g, np.linalg.inv(A).T)
    g = ft.grad(lambda a: np.trace(np.linalg.inv(a)))(A)
    assert np.allclose(g, -np.linalg.matrix_power(np.linalg.inv(A), 2).T)


def test_eig_of_a_rotation_and_its_derivative():
    theta = 0.3
    rot = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    w = fnp.linalg.eigvals(rot)
    assert np.allclose(sorted(w, key=lambda z: z.imag), [np.exp(-1j * theta), np.exp(1j * theta)])
    # the sum of the eigenvalues is the trace: its derivative is the identity
    g = ft.grad(lambda a: fnp.real(fnp.sum(fnp.linalg.eigvals(a))))(rot)
    assert np.allclose(g, np.eye(2))
    # V diag(w) V^-1 rebuilds the matrix whatever the eigenvectors' phases
    rebuild = lambda a: fnp.real(fnp.linalg.eig(a)[1] @ fnp.diag(fnp.linalg.eig(a)[0])
                                 @ fnp.linalg.inv(fnp.linalg.eig(a)[1]))
    check_grads(rebuild, (rot + 0.1 * rng.standard_normal((2, 2)),), order=1, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("shape", [(4, 3), (3, 4), (3, 3), (2, 5, 3)])
def test_qr_complete_traced_is_numpys(shape):
    a = rng.standard_normal(shape)
    q, r = np.linalg.qr(a, mode="complete")
    runs = {"jit": ft.jit(lambda a: fnp.linalg.qr(a, mode="complete")),
            "vmap": lambda a: ft.vmap(lambda x: fnp.linalg.qr(x, mode="complete"))(a[None]),
            "scipy full, jit": ft.jit(lambda a: fsl.qr(a, mode="full"))}
    for name, run in runs.items():
        got_q, got_r = run(a)
        if name == "vmap":
            got_q, got_r = got_q[0], got_r[0]
        np.testing.assert_allclose(got_q, q, rtol=1e-12, atol=1e-14, err_msg=name)
        np.testing.assert_allclose(got_r, r, rtol=1e-12, atol=1e-14, err_msg=name)


def test_qr_complete_derivative():
    check_grads(lambda a: tuple(fnp.linalg.qr(a, mode="complete")), (A,), order=2)
    with pytest.raises(NotImplementedError, match="extra columns of q are arbitrary"):
        ft.grad(lambda a: fnp.linalg.qr(a, mode="complete")[0].sum())(rng.standard_normal((4, 3)))
    with pytest.raises(NotImplementedError, match="mode='raw'"):
        ft.jit(lambda a: fnp.linalg.qr(a, mode="raw"))(A)


def test_matrix_rank_under_jit_and_vmap_is_numpys():
    cases = [np.eye(3), np.outer([1.0, 2.0, 3.0], [1.0, -1.0, 0.5, 2.0]), np.zeros((2, 2)),
             rng.standard_normal((2, 4, 3)), np.diag([1.0, 1e-20, 1.0]), np.zeros(3), np.array([0.0, 1.0])]
    for a in cases:
        for options in ({}, {"tol": 0.5}, {"rtol": 0.3}, {"hermitian": True}):
            if options.get("hermitian") and (a.ndim < 2 or a.shape[-1] != a.shape[-2]):
                continue
            expected = np.linalg.matrix_rank(a, **options)
            got = ft.jit(lambda a, o=options: fnp.linalg.matrix_rank(a, **o))(a)
            np.testing.assert_array_equal(got, expected)
            assert got.shape == np.shape(expected)
    stack = np.stack([np.eye(3), np.diag([1.0, 0.0, 0.0])])
    np.testing.assert_array_equal(ft.vmap(fnp.linalg.matrix_rank)(stack), [3, 1])
    assert ft.jit(lambda a, t: fnp.linalg.matrix_rank(a, tol=t))(np.diag([3.0, 2.0, 1.0]), 1.5) == 2
    with pytest.raises(ValueError, match="both"):
        ft.jit(lambda a: fnp.linalg.matrix_rank(a, tol=1.0, rtol=1.0))(np.eye(2))


def test_hermitian_svd_traced_is_numpys():
    # NumPy's svd(hermitian=True) comes from eigh of the lower triangle; a traced SVD of the
    # whole matrix would be another valid SVD, with other signs (and other values for an input
    # whose triangles differ), so jit and vmap would disagree with eager.
    m = rng.standard_normal((3, 3))
    symmetric = m + m.T
    triangles_differ = symmetric + np.triu(np.full((3, 3), 0.7), 1)
    c = m + 1j * rng.standard_normal((3, 3))
    batch = rng.standard_normal((2, 4, 4))
    cases = [symmetric, triangles_differ, np.diag([2.0, 0.0, -1.0]), batch + np.swapaxes(batch, -1, -2),
             c + c.conj().T, symmetric.astype(np.float32)]
    for a in cases:
        for compute_uv in (True, False):
            expected = np.linalg.svd(a, hermitian=True, compute_uv=compute_uv)
            svd = lambda x, cuv=compute_uv: fnp.linalg.svd(x, hermitian=True, compute_uv=cuv)
            runs = {"jit": ft.jit(svd)(a), "vmap": ft.tree.map(lambda x: x[0], ft.vmap(svd)(a[None]))}
            for name, got in runs.items():
                for g, e in zip(got if compute_uv else [got], expected if compute_uv else [expected]):
                    assert g.dtype == e.dtype, name
                    np.testing.assert_allclose(g, e, rtol=1e-5, atol=1e-6, err_msg=name)
    check_grads(lambda x: fnp.linalg.svd(x + x.T, hermitian=True, compute_uv=False), (m,), order=2)


def test_tensorsolve_and_tensorinv_are_numpys():
    a = rng.standard_normal((6, 2, 3)) + 3 * np.eye(6).reshape(6, 2, 3)
    b = rng.standard_normal(6)
    cases = [((a, b), {}), ((a.reshape(2, 3, 2, 3), b.reshape(2, 3)), {}),
             ((a.reshape(2, 3, 2, 3), b.reshape(3, 2)), {"axes": (0,)})]
    for args, kwargs in cases:
        expected = np.linalg.tensorsolve(*args, **kwargs)
        for got in (fnp.linalg.tensorsolve(*args, **kwargs),
                    ft.jit(lambda a, b, kw=kwargs: fnp.linalg.tensorsolve(a, b, **kw))(*args)):
            assert got.shape == expected.shape
            np.testing.assert_allclose(got, expected, rtol=1e-12)
    for m, ind in ((rng.standard_normal((24, 4, 6)), 1), (rng.standard_normal((4, 6, 8, 3)), 2)):
        expected = np.linalg.tensorinv(m, ind)
        np.testing.assert_allclose(fnp.linalg.tensorinv(m, ind), expected, rtol=1e-10)
        np.testing.assert_allclose(ft.jit(lambda m, i=ind: fnp.linalg.tensorinv(m, i))(m), expected, rtol=1e-10)
    np.testing.assert_allclose(ft.vmap(fnp.linalg.tensorsolve)(np.stack([a, 2 * a]), np.stack([b, b])),
                               [np.linalg.tensorsolve(a, b), np.linalg.tensorsolve(2 * a, b)], rtol=1e-12)
    assert fnp.linalg.tensorsolve(a.astype(np.float32), b.astype(np.float32)).dtype == np.float32
    with pytest.raises(np.linalg.LinAlgError, match="prod"):
        fnp.linalg.tensorsolve(rng.standard_normal((5, 2, 3)), b)
    with pytest.raises(ValueError, match="ind"):
        fnp.linalg.tensorinv(a, ind=0)
    check_grads(fnp.linalg.tensorsolve, (a, b), order=2)
    check_grads(lambda a: fnp.linalg.tensorinv(a, 1), (a,), order=2)


def test_jax_keywords_of_the_decompositions():
    # JAX's symmetrize_input reads (a + a^H) / 2; without it the triangle is read, as NumPy.
    # Expected values are JAX's for this matrix, whose triangles differ.
    a = np.array([[4.0, -0.5, 1.5], [1.0, 3.0, 0.2], [0.5, 0.2, 2.0]])
    half = (a + a.T) / 2
    for run in (lambda f: f, ft.jit):
        np.testing.assert_allclose(run(lambda a: fnp.linalg.cholesky(a, symmetrize_input=True))(a),
                                   np.linalg.cholesky(half), rtol=1e-12)
        np.testing.assert_allclose(run(lambda a: fnp.linalg.cholesky(a, upper=True, symmetrize_input=True))(a),
                                   np.linalg.cholesky(half, upper=True), rtol=1e-12)
        np.testing.assert_allclose(run(lambda a: fnp.linalg.eigh(a, None, symmetrize_input=True)[0])(a),
                                   np.linalg.eigvalsh(half), rtol=1e-12)
        np.testing.assert_allclose(run(lambda a: fnp.linalg.eigvalsh(a, "U", symmetrize_input=True))(a),
                                   np.linalg.eigvalsh(half), rtol=1e-12)
        np.testing.assert_allclose(run(lambda a: fnp.linalg.eigh(a, UPLO=None)[0])(a), np.linalg.eigvalsh(a),
                                   rtol=1e-12)
    check_grads(lambda a: fnp.linalg.eigvalsh(a, symmetrize_input=True), (a,), order=2)
    # precision (JAX's) is checked and changes nothing
    m = rng.standard_normal((3, 3))
    np.testing.assert_array_equal(fnp.linalg.matmul(m, m, precision="highest"), m @ m)
    np.testing.assert_array_equal(fnp.linalg.tensordot(m, m, axes=1, precision=("highest", "highest")), m @ m)
    np.testing.assert_allclose(fnp.linalg.multi_dot([m, m, m], precision="high"), m @ m @ m, rtol=1e-12)
    np.testing.assert_allclose(fnp.linalg.vecdot(m, m, precision="default"), (m * m).sum(-1), rtol=1e-12)
    with pytest.raises(ValueError, match="precision"):
        fnp.linalg.matmul(m, m, precision="bogus")


@pytest.mark.parametrize("dtype", [np.int64, np.int8, np.bool_, np.float32])
def test_matrix_power_under_jit_keeps_numpys_dtype(dtype):
    # Positive powers keep integers and booleans, as NumPy's; negative ones go through inv.
    a = (np.array([[1, 1], [0, 1]]) if dtype is not np.bool_ else np.eye(2)).astype(dtype)
    for n in (0, 1, 3, -1):
        expected = np.linalg.matrix_power(a, n)
        power = lambda a: fnp.linalg.matrix_power(a, n)
        for got in (ft.jit(power)(a), ft.vmap(power)(a[None])[0]):
            assert got.dtype == expected.dtype
            np.testing.assert_array_equal(got, expected)


def test_det_derivative_at_empty_and_non_finite_matrices():
    # det of a 0 x 0 matrix is the constant 1; a matrix with an inf or a NaN gets NaNs, as from
    # inv, and the others of its batch keep their adjugate
    assert ft.grad(fnp.linalg.det)(np.zeros((0, 0))).shape == (0, 0)
    batch = np.stack([np.full((4, 4), np.nan), np.diag([np.inf, 1.0, 1.0, 1.0]), np.diag([1.0, 0.0, 1.0, 1.0])])
    for grad in (ft.vmap(ft.grad(fnp.linalg.det)), ft.jit(ft.vmap(ft.grad(fnp.linalg.det)))):
        got = grad(batch)
        assert np.isnan(got[0]).all() and np.isnan(got[1]).all()
        np.testing.assert_array_equal(got[2], np.diag([0.0, 1.0, 0.0, 0.0]))


def test_det_and_lstsq_gradients_read_device_values_only_explicitly():
    """The adjugate (det's derivative beyond 3 x 3) decides on values once, through the
    backend's to_host: on the strict backend no bool()/float()/int() reads a device value."""
    from functrans.testing.strict import forbid_implicit_reads, strict_array, to_numpy

    rng = np.random.default_rng(40)
    a = rng.standard_normal((5, 5))
    singular = np.outer(np.arange(1.0, 6.0), np.ones(5))
    with forbid_implicit_reads():
        grads = [ft.grad(fnp.linalg.det)(strict_array(m, device="strict:1")) for m in (a, singular)]
        lstsq_grad = ft.grad(lambda m: fnp.linalg.lstsq(m, m[:, 0])[0].sum())(strict_array(a, device="strict:1"))
    assert all(g.device == "strict:1" for g in grads)
    np.testing.assert_allclose(to_numpy(grads[0]), np.linalg.det(a) * np.linalg.inv(a).T, rtol=1e-10)
    np.testing.assert_allclose(to_numpy(grads[1]), ft.grad(fnp.linalg.det)(singular), atol=1e-12)
    np.testing.assert_allclose(to_numpy(lstsq_grad), ft.grad(lambda m: fnp.linalg.lstsq(m, m[:, 0])[0].sum())(a),
                               atol=1e-10)


def test_a_nan_matrix_in_a_traced_batch_gets_nans_as_in_jax():
    """NumPy's eigh, svd, eig and pinv refuse a whole batch for one matrix holding a NaN;
    traced calls give NaNs for that matrix and the values for the others, as JAX."""
    batch = np.stack([np.diag([1.0, 2.0, 3.0]), np.full((3, 3), np.nan)])
    with np.errstate(invalid="ignore"):
        for f, want in ((fnp.linalg.eigvalsh, [1.0, 2.0, 3.0]), (fnp.linalg.svdvals, [3.0, 2.0, 1.0]),
                        (lambda m: fnp.linalg.eigvals(m).real, [1.0, 2.0, 3.0]),
                        (lambda m: fnp.linalg.pinv(m).diagonal(), [1.0, 0.5, 1.0 / 3.0]),
                        (lambda m: fnp.linalg.eigh(m)[1].diagonal(), [1.0, 1.0, 1.0])):
            for got in (ft.vmap(f)(batch), ft.jit(ft.vmap(f))(batch)):
                np.testing.assert_allclose(got[0], want, rtol=1e-12)
                assert np.isnan(got[1]).all()
        tall = np.stack([np.ones((3, 2)), np.full((3, 2), np.nan)])
        u, s, vh = ft.vmap(lambda m: fnp.linalg.svd(m, full_matrices=True))(tall)
        assert (u.shape, s.shape, vh.shape) == ((2, 3, 3), (2, 2), (2, 2, 2)) and np.isnan(s[1]).all()
        with pytest.raises(np.linalg.LinAlgError):
            fnp.linalg.eigvalsh(batch)  # eager on plain arrays: NumPy's refusal


def test_lstsq_takes_jax_numpy_resid():
    a, b = np.random.default_rng(44).standard_normal((5, 3)), np.ones(5)
    want = np.linalg.lstsq(a, b)[1]
    np.testing.assert_allclose(fnp.linalg.lstsq(a, b, numpy_resid=True)[1], want, rtol=1e-12)
    grad = ft.grad(lambda m: fnp.linalg.lstsq(m, b, numpy_resid=True)[1].sum())(a)
    np.testing.assert_allclose(grad, ft.grad(lambda m: fnp.linalg.lstsq(m, b)[1].sum())(a), rtol=1e-12)
    with pytest.raises(ft.errors.TracerConversionError, match="numpy_resid=False"):
        ft.jit(lambda m: fnp.linalg.lstsq(m, b, numpy_resid=True)[1])(a)


def test_linalg_cross_refuses_2_vectors_as_numpy_2_and_jax():
    with pytest.raises(ValueError, match="3-vectors.*sizes 2 and 2.*fnp.cross"):
        fnp.linalg.cross(np.array([1.0, 2.0]), np.array([3.0, 4.0]))
    with pytest.raises(ValueError, match="3-vectors"):
        ft.jit(fnp.linalg.cross)(np.ones((3, 2)), np.ones((3, 2)))
    np.testing.assert_allclose(fnp.linalg.cross(np.eye(3), np.ones(3), axis=-1),
                               np.linalg.cross(np.eye(3), np.ones(3)))
