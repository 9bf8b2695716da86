"""jacfwd and jacrev push the unit vectors through the function as a symbolic scaled identity
(functrans.interpreters.basis): every step that keeps it symbolic, and every step that falls
back to the materialised batch, gives the Jacobian of the dense vmap path and of finite
differences, on both backends, for scalar, vector, matrix, pytree and complex arguments."""
from __future__ import annotations

import functools

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans.interpreters.basis import ScaledBasis, unit_basis, vmap_basis_flat
from functrans.interpreters.basis_transpose import transpose_on_basis
from functrans.interpreters.linearize import linearize_flat
from functrans.interpreters.transpose import transpose_program
from functrans.testing import check_grads, numerical_jvp

RNG = np.random.default_rng(7)
A = RNG.standard_normal((4, 4)) / 2
W3 = RNG.standard_normal((5, 2, 3)) / 2  # contracted with a (2, 3) argument over both axes
M6 = RNG.standard_normal((6, 4)) / 2
C = RNG.standard_normal(4) + 0.5


def _jvp_columns(f, x):
    """The Jacobian column by column with ``jvp`` (no vmap, no basis): the exact reference."""
    x_host = np.asarray(x)
    cols = []
    for i in range(x_host.size):
        e = np.zeros(x_host.size, x_host.dtype)
        e[i] = 1
        cols.append(np.asarray(ft.jvp(f, (x_host,), (e.reshape(x_host.shape),))[1]))
    out_shape = np.shape(f(x_host))
    return np.stack(cols, axis=-1).reshape(out_shape + x_host.shape)


def _fd_columns(f, x):
    x_host = np.asarray(x)
    cols = []
    for i in range(x_host.size):
        e = np.zeros(x_host.size, x_host.dtype)
        e[i] = 1
        cols.append(np.asarray(numerical_jvp(f, (x_host,), (e.reshape(x_host.shape),))))
    return np.stack(cols, axis=-1).reshape(np.shape(f(x_host)) + x_host.shape)


def _dense_vmap_jacfwd(f, x):
    """The Jacobian by vmap of jvp over an explicit identity (the path without the basis)."""
    x_host = np.asarray(x)
    eye = np.eye(x_host.size, dtype=x_host.dtype).reshape((x_host.size,) + x_host.shape)
    rows = ft.vmap(lambda v: ft.jvp(f, (x_host,), (v,))[1])(eye)
    rows = np.asarray(rows)
    return np.moveaxis(rows, 0, -1).reshape(rows.shape[1:] + x_host.shape)


def _vjp_rows(f, x):
    """The Jacobian row by row with ``vjp`` (no vmap, no basis): reverse mode's reference."""
    x_host = np.asarray(x)
    out, f_vjp = ft.vjp(f, x_host)
    out = np.asarray(out)
    rows = []
    for i in range(out.size):
        e = np.zeros(out.size, out.dtype)
        e[i] = 1
        rows.append(np.asarray(f_vjp(e.reshape(out.shape))[0]))
    return np.stack(rows).reshape(out.shape + x_host.shape)


class Constants:
    """The weights of the test functions, on the backend under test."""

    def __init__(self, backend):
        self.A, self.W3, self.M6, self.C = (backend.put(a) for a in (A, W3, M6, C))
        self.signs = backend.put(np.array([1.0, -2.0]))


HOST = Constants(type("Host", (), {"put": staticmethod(lambda a: a)}))


# Each function exercises steps that keep the basis symbolic (products and quotients by values,
# negation, reshape, conj/real, dtype conversion, sums of one block, contractions with a weight)
# and steps that need the materialised batch (transposes, slices, sums of different blocks).
FUNCTIONS = {
    "tanh_matvec_times_x": lambda c, x: fnp.tanh(c.A @ x) * x,
    "quotient_negation_sum": lambda c, x: -(x / c.C) + x * 3.0 - fnp.sin(x) * x,
    "vector_times_matrix": lambda c, x: fnp.cos(x @ c.M6.T) * 2,
    "reshape_then_scale": lambda c, x: (x.reshape(2, 2) * c.signs).reshape(4) @ c.A,
    "slice_and_reverse": lambda c, x: x[1:] * x[:-1] + fnp.flip(x[:3]) * 1.5,
    "reduction": lambda c, x: fnp.sum(fnp.exp(x) * c.C) * x,
    "two_layers": lambda c, x: fnp.tanh(c.A @ fnp.tanh(c.A.T @ x)) * 2.0 - x,
    "identity": lambda c, x: x,
    "cumulative_then_scaled": lambda c, x: fnp.cumsum(x) / c.C,
}
MATRIX_FUNCTIONS = {
    "full_contraction": lambda c, m: fnp.tanh(fnp.tensordot(c.W3, m, axes=2)),
    "transpose_and_matmul": lambda c, m: (m.T * 2.0) @ m,
    "reshape_of_scaled": lambda c, m: fnp.sin((m * 2.0).reshape(6) @ c.M6),
}


def _check_against_references(got, f, x, jac):
    assert got.shape == np.shape(f(x)) + np.shape(x)
    exact = _jvp_columns(f, x) if jac is ft.jacfwd else _vjp_rows(f, x)
    np.testing.assert_allclose(got, exact, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(got, _dense_vmap_jacfwd(f, x), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(got, _fd_columns(f, x), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
@pytest.mark.parametrize("jac", [ft.jacfwd, ft.jacrev], ids=["jacfwd", "jacrev"])
def test_vector_functions_match_the_dense_path_and_finite_differences(backend, jac, name):
    f = FUNCTIONS[name]
    x = RNG.standard_normal(4)
    got = jac(functools.partial(f, Constants(backend)))(backend.put(x))
    backend.check_placed(got)
    _check_against_references(backend.get(got), functools.partial(f, HOST), x, jac)


@pytest.mark.parametrize("name", sorted(MATRIX_FUNCTIONS))
@pytest.mark.parametrize("jac", [ft.jacfwd, ft.jacrev], ids=["jacfwd", "jacrev"])
def test_matrix_functions_match_the_dense_path_and_finite_differences(backend, jac, name):
    f = MATRIX_FUNCTIONS[name]
    m = RNG.standard_normal((2, 3))
    got = jac(functools.partial(f, Constants(backend)))(backend.put(m))
    backend.check_placed(got)
    _check_against_references(backend.get(got), functools.partial(f, HOST), m, jac)


@pytest.mark.parametrize("jac", [ft.jacfwd, ft.jacrev], ids=["jacfwd", "jacrev"])
def test_scalar_arguments_and_scalar_outputs(backend, jac):
    v = RNG.standard_normal(3)
    x = backend.put(np.array(0.7))
    got = backend.get(jac(lambda s: fnp.sin(s) * backend.put(v) + s)(x))
    np.testing.assert_allclose(got, np.cos(0.7) * v + 1, rtol=1e-12)
    y = RNG.standard_normal(4)
    got = backend.get(jac(lambda x: fnp.sum(x * x) * 0.5)(backend.put(y)))
    np.testing.assert_allclose(got, y, rtol=1e-12)


@pytest.mark.parametrize("jac", [ft.jacfwd, ft.jacrev], ids=["jacfwd", "jacrev"])
def test_pytrees_of_several_leaves_fill_each_block(backend, jac):
    """Two argument leaves (jacfwd) or two output leaves (jacrev): the contraction with a
    weight fills only its own block of the examples (padded with zeros)."""
    M = RNG.standard_normal((3, 2))

    def make(put):
        def f(p):
            h = put(M) @ p["b"] + p["a"] * 2.0
            return {"h": fnp.tanh(h), "g": (p["a"] @ put(M)) * p["b"]}
        return f

    p = {"a": RNG.standard_normal(3), "b": RNG.standard_normal(2)}
    got = backend.get(jac(make(backend.put))(backend.put(p)))
    f = make(lambda a: a)
    for out in ("h", "g"):
        for arg in ("a", "b"):
            def column(v, out=out, arg=arg):
                return f({**p, arg: v})[out]

            exact = _jvp_columns(column, p[arg])
            np.testing.assert_allclose(got[out][arg], exact, rtol=1e-12, atol=1e-14)
            np.testing.assert_allclose(got[out][arg], _fd_columns(column, p[arg]), rtol=1e-6,
                                       atol=1e-8)


def test_empty_leaves_and_zero_size_arguments(backend):
    """A leaf of size zero is a block of no examples: the blocks around it stay in place."""
    def f(d):
        q = d["q"]
        return {"a": q * 2 + q * fnp.sum(d["p"]), "b": fnp.sum(q) * q, "c": d["p"] * 3}

    arg = {"p": np.ones(0), "q": np.arange(1.0, 3.0)}
    for jac in (ft.jacfwd, ft.jacrev):
        got = backend.get(jac(f)(backend.put(arg)))
        assert got["a"]["p"].shape == (2, 0) and got["c"]["q"].shape == (0, 2)
        np.testing.assert_array_equal(got["a"]["q"], 2 * np.eye(2))
        np.testing.assert_array_equal(got["b"]["q"], [[4.0, 1.0], [2.0, 5.0]])
        assert backend.get(jac(lambda x: x * 2 + fnp.sin(x))(backend.put(np.zeros(0)))).shape == (0, 0)


def test_float32_arguments_keep_the_dtypes_of_the_dense_path(backend):
    """jacfwd gives the output's dtype, jacrev the argument's (a cotangent takes its input's)."""
    x = RNG.standard_normal(4).astype(np.float32)
    a = backend.put(A)
    for jac, dtype in ((ft.jacfwd, np.float64), (ft.jacrev, np.float32)):
        got = jac(lambda x: a @ x)(backend.put(x))
        assert got.dtype == dtype
        np.testing.assert_allclose(backend.get(got), A, rtol=1e-6)
        got = jac(lambda x: fnp.exp(x) * np.float32(2))(backend.put(x))
        assert got.dtype == np.float32
        np.testing.assert_allclose(backend.get(got), np.diag(2 * np.exp(x)), rtol=1e-6)


def test_complex_functions_holomorphic_and_not(backend):
    Ac = A + 1j * RNG.standard_normal((4, 4))
    z = RNG.standard_normal(4) + 1j * RNG.standard_normal(4)

    def make(put):
        def f(z):
            return (put(Ac) @ z) * z / (1 + 0.5j) - fnp.conj(fnp.conj(z))
        return f

    expected = (np.diag(Ac @ z) + Ac * z[:, None]) / (1 + 0.5j) - np.eye(4)
    for jac in (ft.jacfwd, ft.jacrev):
        got = backend.get(jac(make(backend.put), holomorphic=True)(backend.put(z)))
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-14)
    # real inputs with complex outputs (jacfwd), complex inputs with real outputs (jacrev)
    x = RNG.standard_normal(4)
    ac = backend.put(Ac)
    got = backend.get(ft.jacfwd(lambda x: ac @ x * (2 + 1j))(backend.put(x)))
    np.testing.assert_allclose(got, Ac * (2 + 1j), rtol=1e-12)
    c = backend.put(C)

    def g(z):
        return fnp.real(z * (1 - 2j)) * C

    got = backend.get(ft.jacrev(lambda z: fnp.real(z * (1 - 2j)) * c)(backend.put(z)))
    np.testing.assert_allclose(got, _vjp_rows(g, z), rtol=1e-12)
    # through the complex plane and back to real: real parts and dtype conversions of the basis
    for jac in (ft.jacfwd, ft.jacrev):
        got = jac(lambda x: fnp.real(x.astype(np.complex128) * (1 + 2j)) * c)(backend.put(x))
        assert got.dtype == np.float64
        np.testing.assert_allclose(backend.get(got), np.diag(C), rtol=1e-12)


@pytest.mark.parametrize("jac", [ft.jacfwd, ft.jacrev], ids=["jacfwd", "jacrev"])
def test_has_aux_and_argnums(backend, jac):
    a = backend.put(A)

    def f(x, y):
        return fnp.tanh(a @ x) * y, {"n": fnp.sum(x)}

    x, y = RNG.standard_normal(4), RNG.standard_normal(4)
    (jx, jy), aux = jac(f, argnums=(0, 1), has_aux=True)(backend.put(x), backend.put(y))
    t = np.tanh(A @ x)
    np.testing.assert_allclose(backend.get(jx), (y * (1 - t * t))[:, None] * A, rtol=1e-12)
    np.testing.assert_allclose(backend.get(jy), np.diag(t), rtol=1e-12)
    np.testing.assert_allclose(backend.get(aux["n"]), x.sum(), rtol=1e-12)


@pytest.mark.parametrize("jac", [ft.jacfwd, ft.jacrev], ids=["jacfwd", "jacrev"])
def test_derivatives_of_jacobians_match_finite_differences(backend, jac):
    """The symbolic steps run on tracers of outer transformations (grad, jvp, vmap, jit)."""
    consts = Constants(backend)
    f = functools.partial(FUNCTIONS["tanh_matvec_times_x"], consts)
    x = backend.put(RNG.standard_normal(4))
    check_grads(jac(f), (x,), order=1)
    contraction = functools.partial(MATRIX_FUNCTIONS["full_contraction"], consts)
    check_grads(jac(contraction), (backend.put(RNG.standard_normal((2, 3))),), order=1)
    np.testing.assert_allclose(backend.get(ft.jit(jac(f))(x)), backend.get(jac(f)(x)), rtol=1e-14)
    xs = RNG.standard_normal((3, 4))
    # (vmap's batched products round in another order than one example's: entries near 0 need
    # the absolute part)
    np.testing.assert_allclose(backend.get(ft.vmap(jac(f))(backend.put(xs))),
                               np.stack([backend.get(jac(f)(backend.put(xi))) for xi in xs]),
                               rtol=1e-12, atol=1e-14)


def test_hessians_through_two_symbolic_bases(backend):
    a = backend.put(A)

    def f(x):
        return fnp.sum(fnp.tanh(a @ x) * x) + x @ a @ x

    x = RNG.standard_normal(4)
    got = backend.get(ft.hessian(f)(backend.put(x)))
    t = np.tanh(A @ x)
    d = 1 - t * t
    expected = (A.T * d) + (A.T * d).T + A.T @ np.diag(-2 * t * d * x) @ A + A + A.T
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)


def test_the_staged_jacobian_multiplies_by_no_identity():
    """Under jit, the contraction with the weight is the weight itself: the only dot_general
    left is the forward A @ x, and no identity is built for the steps before it."""
    A100 = RNG.standard_normal((30, 30))
    x = RNG.standard_normal(30)
    for jac in (ft.jacfwd, ft.jacrev):
        program = ft.make_jaxpr(jac(lambda x: fnp.tanh(A100 @ x) * x))(x)
        dots = [e for e in program.eqns if e.prim.name == "dot_general"]
        assert len(dots) == 1 and dots[0].outs[0].shape == (30,)


def test_the_basis_keeps_its_scale_until_a_step_needs_the_array():
    x = np.arange(1.0, 4.0)
    seen = []

    def f(ts):
        (t,) = ts
        seen.append(type(t.value))
        y = -(t * x) / 2.0
        seen.append(type(y.value))
        return [y, y + y, y.T]

    outs, dims = vmap_basis_flat(f, unit_basis([x], [x]), "test")
    assert seen == [ScaledBasis, ScaledBasis]
    np.testing.assert_array_equal(outs[0], np.diag(-x / 2))
    np.testing.assert_array_equal(outs[1], np.diag(-x))
    assert dims == [0, 0, 0]


def test_products_with_batches_and_leading_axes_keep_the_basis(backend):
    """The basis times a batch keeps the batch's diagonal; times a value with leading axes of
    length 1 it keeps its entries in order: both stay symbolic and give the dense results."""
    x = backend.put(np.arange(1.0, 4.0))
    seen = []

    def f(ts):
        (t,) = ts
        batch = t * 2.0 + t  # a ScaledBasis
        dense = fnp.flip(t) + 1.0  # materialised: the batch [reverse(e_k) + 1]
        y = t * fnp.reshape(x, (1, 3))
        z = dense * (t * x)
        seen.extend(type(v.value) for v in (batch, dense, y, z))
        return [y, z]

    (y, z), dims = vmap_basis_flat(f, unit_basis([x], [x]), "test")
    assert seen == [ScaledBasis, np.ndarray if backend.name == "numpy" else type(x), ScaledBasis,
                    ScaledBasis]
    host = np.arange(1.0, 4.0)
    np.testing.assert_array_equal(backend.get(y), np.diag(host).reshape(3, 1, 3))
    dense = np.flip(np.eye(3), axis=1) + 1.0
    np.testing.assert_array_equal(backend.get(z), dense * np.diag(host))
    assert dims == [0, 0]


@pytest.mark.parametrize("name", ["tanh_matvec_times_x", "two_layers", "quotient_negation_sum",
                                  "identity", "slice_and_reverse"])
def test_the_direct_backward_walk_equals_the_traced_one(backend, name):
    """jacrev's walk on the basis (rules applied directly, then the traced rest) and the walk
    under BasisTrace throughout give the same arrays."""
    f = functools.partial(FUNCTIONS[name], Constants(backend))
    x = backend.put(RNG.standard_normal(4))
    outs, program = linearize_flat(lambda ts: [f(ts[0])], [x], "test")
    direct, direct_dims = transpose_on_basis(program, unit_basis(outs, outs), "test")
    traced, traced_dims = vmap_basis_flat(lambda cts: transpose_program(program, cts),
                                          unit_basis(outs, outs), "test")
    assert direct_dims == traced_dims == [0]
    np.testing.assert_array_equal(backend.get(direct[0]), backend.get(traced[0]))


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
@pytest.mark.parametrize("jac", [ft.jacfwd, ft.jacrev], ids=["jacfwd", "jacrev"])
def test_staged_jacobians_equal_eager_ones(jac, name):
    """Under jit the scales are staged values: the symbolic steps, the fallbacks and the sums
    of a basis with a batch take their traced forms, with the same results."""
    f = functools.partial(FUNCTIONS[name], HOST)
    x = RNG.standard_normal(4)
    np.testing.assert_allclose(ft.jit(jac(f))(x), jac(f)(x), rtol=1e-14, atol=1e-15)


def test_weights_that_become_the_jacobian_are_never_written_into(backend):
    """The backward walk adds the diagonal in place only into batches it allocated: a weight
    that is the Jacobian's batch as it stands (no scale, no copy) stays as it was."""
    a = backend.put(A.copy())
    for f in (lambda x: a @ x + x, lambda x: x @ a + x * 2.0, lambda x: x + a @ x):
        for _ in range(2):
            got = backend.get(ft.jacrev(f)(backend.put(np.ones(4))))
            np.testing.assert_array_equal(backend.get(a), A)
            assert got.shape == (4, 4)
    np.testing.assert_array_equal(backend.get(ft.jacrev(lambda x: a @ x + x)(backend.put(np.ones(4)))),
                                  A + np.eye(4))
