"""Table rows of linear algebra: the decomposition and solver primitives, and
``functrans.numpy.linalg`` (inverses, solvers, determinants, decompositions, norms, and the
array API's linalg names)."""
from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

import functrans.numpy as fnp
import functrans.scipy.linalg as fsl
from functrans import primitives as P
from functrans.numpy._util import placed_like

from .opspec import OpSpec, prim_spec, unary
from .strategies import C128, COMPLEX, DISTINCT, F32, F64, NONZERO, SINGULAR, same_shapes, shapes, side

_TOL = {F64: {"atol": 1e-5, "rtol": 1e-5}}


# =============================================================================================
# Matrices the rows are built from
# =============================================================================================


def _well_conditioned(x):
    """A matrix near the identity (scaled), so inverses and decompositions are stable."""
    n = x.shape[-1]
    return x * 0.3 + placed_like(np.eye(n, dtype=x.dtype) * 2, x)


def _separated(x):
    """A matrix whose eigenvalues are well apart (1.5 between diagonal entries)."""
    n = x.shape[-1]
    return x * 0.2 + placed_like(np.diag(np.arange(n) * 1.5).astype(x.dtype), x)


def _spd(x):
    """A symmetric positive-definite matrix from any square one."""
    return x @ x.mT + placed_like(np.eye(x.shape[-1], dtype=x.dtype) * x.shape[-1], x)


def _tall(x):
    return x if x.shape[-2] >= x.shape[-1] else x.mT if hasattr(x, "mT") else np.swapaxes(x, -1, -2)


@st.composite
def square_sig(draw, batch=True, min_n=1):
    n = draw(st.integers(min_n, 3))
    b = draw(shapes(max_dims=1, min_side=1, max_side=2)) if batch else ()
    return (b + (n, n),), {}


@st.composite
def solve_sig(draw):
    n = draw(st.integers(1, 3))
    b = draw(shapes(max_dims=1, min_side=1, max_side=2))
    rhs = (n,) if draw(st.booleans()) and not b else b + (n, draw(st.integers(1, 2)))
    return (b + (n, n), rhs), {}


@st.composite
def matrix_sig(draw, tall=False):
    m, n = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    if tall and m < n:
        m, n = n, m
    return ((m, n),), {}


@st.composite
def norm_sig(draw):
    kind = draw(st.sampled_from(["vec", "mat", "axis"]))
    if kind == "vec":
        return ((draw(st.integers(1, 4)),),), {"ord": draw(st.sampled_from([None, 1, 2, 3, np.inf, -np.inf]))}
    if kind == "mat":
        return ((draw(st.integers(1, 3)), draw(st.integers(1, 3))),), {
            "ord": draw(st.sampled_from([None, "fro", 1, -1, np.inf, -np.inf]))}
    shape = draw(shapes(min_dims=2, min_side=1))
    return (shape,), {"ord": None, "axis": draw(st.integers(0, len(shape) - 1))}


@st.composite
def batch_square_sig(draw, rhs=False):
    n = draw(st.integers(1, 3))
    b = draw(shapes(max_dims=1, min_side=1, max_side=2))
    if rhs:
        return (b + (n, n), b + (n, draw(st.integers(1, 2)))), {}
    return (b + (n, n),), {}


@st.composite
def sylvester_sig(draw):
    n, m = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    b = draw(shapes(max_dims=1, min_side=1, max_side=2))
    return (b + (n, n), b + (m, m), b + (n, m)), {}


def _sylvester_ref(a, b, c):
    """X with a X + X b = c from the Kronecker form (NumPy only), each matrix of the stack."""
    n, m = a.shape[-1], b.shape[-1]
    eye_n, eye_m = np.eye(n), np.eye(m)
    flat = [np.linalg.solve(np.kron(ai, eye_m) + np.kron(eye_n, bi.T), ci.ravel()).reshape(n, m)
            for ai, bi, ci in zip(a.reshape(-1, n, n), b.reshape(-1, m, m), c.reshape(-1, n, m))]
    return np.array(flat, dtype=c.dtype).reshape(c.shape)


def _sqrtm_ref(a):
    """The square root of symmetric positive-definite matrices, from eigh (NumPy only)."""
    w, v = np.linalg.eigh(a)
    return ((v * np.sqrt(w)[..., None, :]) @ np.swapaxes(v, -1, -2)).astype(np.result_type(a.dtype, np.complex64))


# =============================================================================================
# Primitives
# =============================================================================================


def _trisolve_ref(a, b, *, lower, transpose_a, unit_diagonal):
    a = _well_conditioned(a)
    t = np.tril(a) if lower else np.triu(a)
    if unit_diagonal:
        n = t.shape[-1]
        t = np.where(np.eye(n, dtype=bool), 1.0, t).astype(a.dtype)
    if transpose_a:
        t = np.swapaxes(t, -1, -2)
    return np.linalg.solve(t, b)


def _gauge_free_eigh_prim(wv):
    w, v = wv
    return w, fnp.einsum("ik,jk->kij", v, v)


def _gauge_free_eig_prim(wv):
    w, v = wv
    dtype = np.result_type(w.dtype, np.complex64)
    return (fnp.astype(w, dtype) if hasattr(w, "_trace") else w.astype(dtype)), fnp.abs(v)


def _gauge_free_svd_prim(usv):
    u, s, vh = usv
    return s, fnp.einsum("ik,kj->kij", u, vh)


def _solve_ref(a, b, *, transpose_a):
    a = _well_conditioned(a)
    return np.linalg.solve(np.swapaxes(a, -1, -2) if transpose_a else a, b)


PRIMITIVES: list[OpSpec] = [
    prim_spec("solve", lambda a, b, *, transpose_a: P.solve_p.bind(_well_conditioned(a), b, transpose_a=transpose_a),
              _solve_ref, 2, batch_square_sig(rhs=True).flatmap(lambda sp: st.booleans().map(
                  lambda t: (sp[0], {"transpose_a": t})))),
    prim_spec("triangular_solve", lambda a, b, **kw: P.triangular_solve_p.bind(_well_conditioned(a), b, **kw),
              _trisolve_ref, 2, batch_square_sig(rhs=True).flatmap(lambda sp: st.fixed_dictionaries(
                  {"lower": st.booleans(), "transpose_a": st.booleans(), "unit_diagonal": st.booleans()}).map(
                  lambda p: (sp[0], p)))),
    prim_spec("cholesky", lambda x: P.cholesky_p.bind(_spd(x)), lambda x: np.linalg.cholesky(_spd(x)), 1,
              batch_square_sig(), tol=_TOL),
    prim_spec("eigh", lambda x: _gauge_free_eigh_prim(P.eigh_p.bind(_spd(x))),
              lambda x: _gauge_free_eigh_prim(np.linalg.eigh(_spd(x))), 1, square_sig(batch=False),
              domain=DISTINCT, tol=_TOL),
    prim_spec("svd", lambda x, *, full_matrices: _gauge_free_svd_prim(P.svd_p.bind(x, full_matrices=False)),
              lambda x, *, full_matrices: _gauge_free_svd_prim(np.linalg.svd(x, full_matrices=False)), 1,
              matrix_sig().map(lambda sp: (sp[0], {"full_matrices": False})), domain=SINGULAR, tol=_TOL),
    prim_spec("eig", lambda x: _gauge_free_eig_prim(P.eig_p.bind(_separated(x))),
              lambda x: _gauge_free_eig_prim(np.linalg.eig(_separated(x))), 1, batch_square_sig(), domain=DISTINCT,
              tol=_TOL),
    prim_spec("qr", lambda x: tuple(P.qr_p.bind(_tall(x))), lambda x: tuple(np.linalg.qr(_tall(x))), 1,
              matrix_sig(tall=True), tol=_TOL),
    prim_spec("det", lambda x: P.det_p.bind(_well_conditioned(x)), lambda x: np.linalg.det(_well_conditioned(x)),
              1, batch_square_sig()),
    prim_spec("adjugate", lambda x: P.adjugate_p.bind(x),
              lambda x: np.linalg.det(x)[..., None, None] * np.linalg.inv(x), 1, batch_square_sig(),
              domain=SINGULAR, tol=_TOL),
    prim_spec("sylvester", lambda a, b, c: P.sylvester_p.bind(_well_conditioned(a), _well_conditioned(b), c),
              lambda a, b, c: _sylvester_ref(_well_conditioned(a), _well_conditioned(b), c), 3, sylvester_sig(),
              tol=_TOL),
    prim_spec("sqrtm", lambda x: P.sqrtm_p.bind(_spd(x)), lambda x: _sqrtm_ref(_spd(x)), 1, batch_square_sig(),
              tol=_TOL),
    prim_spec("slogdet", lambda x: tuple(P.slogdet_p.bind(_well_conditioned(x))),
              lambda x: tuple(np.linalg.slogdet(_well_conditioned(x))), 1, batch_square_sig()),
    prim_spec("pinv", lambda x, *, rcond: P.pinv_p.bind(x, rcond=rcond),
              lambda x, *, rcond: np.linalg.pinv(x, rcond=rcond), 1,
              matrix_sig().map(lambda sp: (sp[0], {"rcond": 1e-15})), domain=SINGULAR, tol=_TOL),
]


# =============================================================================================
# functrans.numpy.linalg
# =============================================================================================


def _gauge_free_eigh(lib, a):
    """Eigenvalues, and the eigenvector outer products (free of the sign choice)."""
    w, v = lib.linalg.eigh(a)
    return w, lib.einsum("ik,jk->kij", v, v)


def _gauge_free_eigh_triangle(lib, a, UPLO):
    """Eigenvalues, and the eigenvector outer products ``v v^H`` (free of the sign or phase
    choice), of the Hermitian matrix that ``a``'s ``UPLO`` triangle gives."""
    w, v = lib.linalg.eigh(a, UPLO)
    return w, lib.einsum("...ik,...jk->...kij", v, lib.conj(v))


def _gauge_free_eig(lib, a):
    """Eigenvalues and |eigenvectors| (free of LAPACK's phase choice), complex as functrans
    returns them."""
    w, v = lib.linalg.eig(a)
    dtype = np.result_type(a.dtype, np.complex64)
    return lib.astype(w, dtype) if lib is fnp else w.astype(dtype), lib.abs(v)


def _gauge_free_svd(lib, a):
    u, s, vh = lib.linalg.svd(a, full_matrices=False)
    return s, lib.einsum("ik,kj->kij", u, vh)


def _linalg_specs():
    wc = lambda f: (lambda x, **kw: f(_well_conditioned(x), **kw))
    spd = lambda f: (lambda x, **kw: f(_spd(x), **kw))
    tol = _TOL
    return [
        unary("fnp.linalg.inv", wc(fnp.linalg.inv), wc(np.linalg.inv), sig=square_sig()),
        unary("fnp.linalg.inv[complex]", wc(fnp.linalg.inv), wc(np.linalg.inv), sig=square_sig(), dtypes=COMPLEX),
        OpSpec("fnp.linalg.solve[complex]", lambda a, b: fnp.linalg.solve(_well_conditioned(a), b),
               lambda a, b: np.linalg.solve(_well_conditioned(a), b), 2, solve_sig(), dtypes=COMPLEX),
        unary("fnp.linalg.det[complex]", wc(fnp.linalg.det), wc(np.linalg.det), sig=square_sig(), dtypes=COMPLEX),
        unary("fnp.linalg.pinv[complex]", fnp.linalg.pinv, np.linalg.pinv, SINGULAR, sig=matrix_sig(),
              tol={C128: {"atol": 1e-5, "rtol": 1e-5}}, dtypes=COMPLEX),
        OpSpec("fnp.linalg.solve", lambda a, b: fnp.linalg.solve(_well_conditioned(a), b),
               lambda a, b: np.linalg.solve(_well_conditioned(a), b), 2, solve_sig()),
        unary("fnp.linalg.det", wc(fnp.linalg.det), wc(np.linalg.det), sig=square_sig()),
        unary("fnp.linalg.slogdet", lambda x: tuple(fnp.linalg.slogdet(_well_conditioned(x))),
              lambda x: tuple(np.linalg.slogdet(_well_conditioned(x))), sig=square_sig()),
        unary("fnp.linalg.cholesky", spd(fnp.linalg.cholesky), spd(np.linalg.cholesky), sig=square_sig(), tol=tol),
        unary("fnp.linalg.eigh", lambda x: _gauge_free_eigh(fnp, _spd(x)), lambda x: _gauge_free_eigh(np, _spd(x)),
              DISTINCT, sig=square_sig(batch=False), tol=tol),
        *(unary(f"fnp.linalg.eigh[UPLO{variant}]",
                lambda x, *, UPLO: _gauge_free_eigh_triangle(fnp, _separated(x), UPLO),
                lambda x, *, UPLO: _gauge_free_eigh_triangle(np, _separated(x), UPLO), DISTINCT,
                sig=square_sig().flatmap(lambda sp: st.sampled_from("LU").map(lambda u: (sp[0], {"UPLO": u}))),
                tol=tol, dtypes=dtypes)
          for variant, dtypes in (("", (F64, np.float32)), (", complex", COMPLEX))),
        unary("fnp.linalg.eig", lambda x: _gauge_free_eig(fnp, _separated(x)),
              lambda x: _gauge_free_eig(np, _separated(x)), DISTINCT, sig=square_sig(), tol=tol, dtypes=(F64, C128)),
        unary("fnp.linalg.eig[complex]", lambda x: _gauge_free_eig(fnp, _separated(x)),
              lambda x: _gauge_free_eig(np, _separated(x)), DISTINCT, sig=square_sig(), tol=tol, dtypes=COMPLEX),
        unary("fnp.linalg.eigvals", lambda x: fnp.linalg.eigvals(_separated(x)),
              lambda x: np.linalg.eigvals(_separated(x)).astype(np.result_type(x.dtype, np.complex64)),
              DISTINCT, sig=square_sig(), tol=tol),
        unary("fnp.linalg.eigvalsh", spd(fnp.linalg.eigvalsh), spd(np.linalg.eigvalsh), sig=square_sig(), tol=tol),
        unary("fnp.linalg.svd", lambda x: _gauge_free_svd(fnp, x), lambda x: _gauge_free_svd(np, x),
              SINGULAR, sig=matrix_sig(), tol=tol),
        unary("fnp.linalg.svdvals", fnp.linalg.svdvals, np.linalg.svdvals, SINGULAR, sig=matrix_sig(), tol=tol),
        unary("fnp.linalg.qr", lambda x: tuple(fnp.linalg.qr(_tall(x))), lambda x: tuple(np.linalg.qr(_tall(x))),
              sig=matrix_sig(tall=True), tol=tol),
        unary("fnp.linalg.pinv", fnp.linalg.pinv, np.linalg.pinv, SINGULAR, sig=matrix_sig(), tol=tol),
        OpSpec("fnp.linalg.lstsq", lambda a, b: fnp.linalg.lstsq(_tall(a), b)[0],
               lambda a, b: np.linalg.lstsq(_tall(a), b)[0], 2,
               st.integers(1, 3).map(lambda n: (((n + 1, n), (n + 1,)), {})), tol=tol),
        unary("fnp.linalg.matrix_power", fnp.linalg.matrix_power, np.linalg.matrix_power,
              sig=square_sig().flatmap(lambda sp: st.integers(0, 4).map(lambda n: (sp[0], {"n": n})))),
        unary("fnp.linalg.matrix_power[negative]", wc(fnp.linalg.matrix_power), wc(np.linalg.matrix_power),
              sig=square_sig().map(lambda sp: (sp[0], {"n": -2}))),
        OpSpec("fnp.linalg.multi_dot", lambda a, b, c: fnp.linalg.multi_dot([a, b, c]),
               lambda a, b, c: np.linalg.multi_dot([a, b, c]), 3,
               st.tuples(side, side, side, side).map(lambda d: (((d[0],), (d[0], d[1]), (d[1], d[2])), {}))),
        unary("fnp.linalg.norm", fnp.linalg.norm, np.linalg.norm, NONZERO, sig=norm_sig()),
        unary("fnp.linalg.vector_norm", fnp.linalg.vector_norm, np.linalg.vector_norm, NONZERO,
              sig=shapes(min_dims=1, min_side=1).map(lambda s: ((s,), {}))),
        unary("fnp.linalg.matrix_norm", fnp.linalg.matrix_norm, np.linalg.matrix_norm, SINGULAR,
              sig=matrix_sig().flatmap(lambda sp: st.sampled_from(["fro", "nuc", 2, -2]).map(
                  lambda o: (sp[0], {"ord": o}))), tol=tol),
        unary("fnp.linalg.cond", wc(fnp.linalg.cond), wc(np.linalg.cond), sig=square_sig(batch=False), tol=tol),
        unary("fnp.linalg.matrix_rank", fnp.linalg.matrix_rank, np.linalg.matrix_rank, sig=matrix_sig(),
              derivative="none"),
        unary("fnp.linalg.matrix_transpose", fnp.linalg.matrix_transpose, np.linalg.matrix_transpose,
              sig=same_shapes(1, min_dims=2)),
        OpSpec("fnp.linalg.vecdot", fnp.linalg.vecdot, np.linalg.vecdot, 2, same_shapes(2, min_dims=1)),
        unary("fnp.linalg.trace", fnp.linalg.trace, np.linalg.trace, sig=same_shapes(1, min_dims=2)),
        unary("fnp.linalg.diagonal", fnp.linalg.diagonal, np.linalg.diagonal, sig=same_shapes(1, min_dims=2)),
        OpSpec("fnp.linalg.outer", fnp.linalg.outer, np.linalg.outer, 2,
               st.tuples(shapes(min_dims=1, max_dims=1), shapes(min_dims=1, max_dims=1)).map(lambda s: (s, {}))),
        OpSpec("fnp.linalg.matmul", fnp.linalg.matmul, np.linalg.matmul, 2,
               st.tuples(side, side, side).map(lambda d: (((d[0], d[1]), (d[1], d[2])), {}))),
        OpSpec("fnp.linalg.tensordot", fnp.linalg.tensordot, np.linalg.tensordot, 2,
               st.tuples(side, side).map(lambda d: (((d[0], d[1]), (d[0], d[1])), {}))),
        OpSpec("fnp.linalg.cross", fnp.linalg.cross, np.linalg.cross, 2, same_shapes(2, min_dims=1, max_dims=1).map(
            lambda sp: (((3,), (3,)), {}))),
    ]


# fnp.linalg's names are not top-level functions: tests/numpy/test_linalg.py runs these rows.
LINALG_SPECS: list[OpSpec] = _linalg_specs()


# =============================================================================================
# LU and the matrix exponential: primitives, and functrans.scipy.linalg
# =============================================================================================


def _pivoted(x):
    """A well-conditioned matrix with its rows reversed: partial pivoting swaps rows, and the
    pivots stay the same under the small changes of finite differences."""
    return _well_conditioned(x)[..., ::-1, :]


def _batched(fn, x, *rest):
    """``fn`` (SciPy's, one matrix at a time) over the leading dimensions, outputs stacked."""
    lead = x.shape[:-2]
    outs = [fn(x[i], *(r[i] for r in rest)) for i in np.ndindex(lead)]
    if isinstance(outs[0], tuple):
        return tuple(np.stack(o).reshape(lead + o[0].shape) for o in zip(*outs))
    return np.stack(outs).reshape(lead + outs[0].shape)


def _scipy_lu(x):
    import scipy.linalg

    lu, piv = scipy.linalg.lu_factor(x)
    perm = np.arange(x.shape[-1])
    for j, p in enumerate(piv):
        perm[[j, p]] = perm[[p, j]]
    return lu, piv.astype(np.int32), perm.astype(np.int32)


def _scipy(name):
    def fn(*args, **params):
        import scipy.linalg

        return getattr(scipy.linalg, name)(*args, **params)

    return fn


_EXPM_TOL = {F64: {"atol": 1e-5, "rtol": 1e-5}}

PRIMITIVES += [
    prim_spec("lu", lambda x: tuple(P.lu_p.bind(_pivoted(x))), lambda x: _batched(_scipy_lu, _pivoted(x)), 1,
              batch_square_sig(), tol=_TOL),
    prim_spec("lu_pivots_to_permutation",
              lambda x: P.lu_pivots_to_permutation_p.bind(P.lu_p.bind(_pivoted(x))[1], size=x.shape[-1]),
              lambda x: _batched(lambda m: _scipy_lu(m)[2], _pivoted(x)), 1, batch_square_sig(), derivative="zero"),
    prim_spec("expm", P.expm_p.bind, lambda x: _batched(_scipy("expm"), x), 1, batch_square_sig(), tol=_EXPM_TOL),
    prim_spec("expm_frechet", P.expm_frechet_p.bind,
              lambda a, e: _batched(lambda a, e: _scipy("expm_frechet")(a, e, compute_expm=False), a, e)
              .astype(a.dtype), 2,
              batch_square_sig().map(lambda sp: ((sp[0][0], sp[0][0]), {})), tol=_EXPM_TOL),
]


@st.composite
def lu_solve_sig(draw):
    n = draw(st.integers(1, 3))
    rhs = (n,) if draw(st.booleans()) else (n, draw(st.integers(1, 2)))
    return ((n, n), rhs), {"trans": draw(st.sampled_from([0, 1, 2]))}


@st.composite
def blocks_sig(draw, count):
    return tuple(draw(shapes(max_dims=2, min_side=1, max_side=3)) for _ in range(count)), {}


def _block_diag_spec(count):
    sig = blocks_sig(count)
    return OpSpec(f"fsl.block_diag[{count}]", lambda *xs: fsl.block_diag(*xs), _scipy("block_diag"), count, sig)


def _lu_solve(fsl_or_scipy, a, b, trans):
    return fsl_or_scipy.lu_solve(fsl_or_scipy.lu_factor(_pivoted(a)), b, trans=trans)


def _scipy_module():
    import scipy.linalg

    return scipy.linalg


#: Rows of functrans.scipy.linalg's LU, exponential, block and QR functions, against SciPy.
SCIPY_FUNCTIONS: list[OpSpec] = [
    OpSpec("fsl.lu", lambda x: fsl.lu(_pivoted(x)), lambda x: _scipy("lu")(_pivoted(x)), 1,
           square_sig(batch=False), tol=_TOL),
    OpSpec("fsl.lu[permute_l]", lambda x: fsl.lu(_pivoted(x), permute_l=True),
           lambda x: _scipy("lu")(_pivoted(x), permute_l=True), 1, square_sig(batch=False), tol=_TOL),
    OpSpec("fsl.lu_factor", lambda x: fsl.lu_factor(_pivoted(x)), lambda x: _scipy("lu_factor")(_pivoted(x)), 1,
           square_sig(batch=False), tol=_TOL),
    OpSpec("fsl.lu_solve", lambda a, b, *, trans: _lu_solve(fsl, a, b, trans),
           lambda a, b, *, trans: _lu_solve(_scipy_module(), a, b, trans), 2, lu_solve_sig(), tol=_TOL,
           dtypes=(F64, F32)),
    OpSpec("fsl.lu_solve[complex]", lambda a, b, *, trans: _lu_solve(fsl, a, b, trans),
           lambda a, b, *, trans: _lu_solve(_scipy_module(), a, b, trans), 2, lu_solve_sig(), tol=_TOL,
           dtypes=COMPLEX),
    OpSpec("fsl.expm", fsl.expm, _scipy("expm"), 1, square_sig(batch=False), tol=_EXPM_TOL),
    OpSpec("fsl.expm[complex]", fsl.expm, _scipy("expm"), 1, square_sig(batch=False), tol=_EXPM_TOL,
           dtypes=COMPLEX),
    OpSpec("fsl.expm_frechet", fsl.expm_frechet,
           lambda a, e: tuple(x.astype(a.dtype) for x in _scipy("expm_frechet")(a, e)), 2,  # float32 kept
           square_sig(batch=False).map(lambda sp: ((sp[0][0], sp[0][0]), {})), tol=_EXPM_TOL),
    *(_block_diag_spec(count) for count in (1, 2, 3)),
    OpSpec("fsl.qr", lambda x, *, mode: fsl.qr(_tall(x), mode=mode),
           lambda x, *, mode: _scipy("qr")(_tall(x), mode=mode), 1,
           matrix_sig(tall=True).flatmap(lambda sp: st.sampled_from(["economic", "r"]).map(
               lambda m: (sp[0], {"mode": m}))), tol=_TOL),
]
