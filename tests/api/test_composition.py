"""The composition matrix: every pair of {grad, jvp, vjp, vmap, jacfwd, jacrev, checkpoint,
custom_jvp}, nested both ways, on a small function R^3 -> R^3, against the same composition
computed with central finite differences in NumPy; each composed function is then itself
differentiated once more (check_grads, forward and reverse mode)."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans.testing import check_grads

V = np.array([0.3, -0.7, 1.1])
W = np.array([1.2, 0.4, -0.5])
X = np.array([0.4, -0.9, 0.6])
H = 1e-4


def f0(x):
    return fnp.sin(x) * x[::-1] + 0.5 * x ** 2


def f0_ref(x):
    return np.sin(x) * x[::-1] + 0.5 * x ** 2


def _fd_jac(f, x):
    cols = []
    for i in range(3):
        e = np.zeros(3)
        e[i] = H
        cols.append((f(x + e) - f(x - e)) / (2 * H))
    return np.stack(cols, axis=1)


# Each entry: (transform of a functrans function, the same transform by finite differences).
def _custom(f):
    g = ft.custom_jvp(f)
    g.defjvp(lambda primals, tangents: ft.jvp(f, primals, tangents))
    return g


TRANSFORMS = {
    "grad": (lambda f: ft.grad(lambda y: fnp.sum(fnp.sin(f(y)))),
             lambda f: lambda x: _fd_jac(lambda y: np.atleast_1d(np.sum(np.sin(f(y)))), x)[0]),
    "jvp": (lambda f: lambda x: ft.jvp(f, (x,), (V,))[1],
            lambda f: lambda x: _fd_jac(f, x) @ V),
    "vjp": (lambda f: lambda x: ft.vjp(f, x)[1](W)[0],
            lambda f: lambda x: W @ _fd_jac(f, x)),
    "vmap": (lambda f: lambda x: fnp.sum(ft.vmap(f)(fnp.stack([x, 0.5 * x])), axis=0),
             lambda f: lambda x: f(x) + f(0.5 * x)),
    "jacfwd": (lambda f: lambda x: ft.jacfwd(f)(x) @ V,
               lambda f: lambda x: _fd_jac(f, x) @ V),
    "jacrev": (lambda f: lambda x: W @ ft.jacrev(f)(x),
               lambda f: lambda x: W @ _fd_jac(f, x)),
    "checkpoint": (ft.checkpoint, lambda f: f),
    "custom_jvp": (_custom, lambda f: f),
}

PAIRS = list(itertools.product(TRANSFORMS, repeat=2))


@pytest.mark.parametrize("outer, inner", PAIRS, ids=[f"{a}-of-{b}" for a, b in PAIRS])
def test_composition_against_finite_differences(outer, inner):
    (outer_ft, outer_ref), (inner_ft, inner_ref) = TRANSFORMS[outer], TRANSFORMS[inner]
    composed = outer_ft(inner_ft(f0))
    expected = outer_ref(inner_ref(f0_ref))(X)
    got = np.asarray(composed(X))
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6, err_msg=f"{outer}({inner}(f))")
    check_grads(composed, (X,), order=1, modes=("fwd", "rev"), atol=1e-5, rtol=1e-5)
