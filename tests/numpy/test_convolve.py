"""fnp.convolve and fnp.correlate traced (under jit, vmap and grad) against NumPy for every
pair of short lengths and every mode: the traced path crops a full product, and NumPy's
'same' centres a correlation whose first sequence is the shorter one from the other end."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans.testing import check_grads

LENGTHS = range(1, 7)
MODES = ("full", "same", "valid")


@pytest.mark.parametrize("name", ["convolve", "correlate"])
@pytest.mark.parametrize("mode", MODES)
def test_traced_matches_numpy_for_every_pair_of_lengths(name, mode):
    rng = np.random.default_rng(len(mode))
    ours, numpys = getattr(fnp, name), getattr(np, name)
    staged = ft.jit(lambda a, v: ours(a, v, mode))
    for n, m in itertools.product(LENGTHS, LENGTHS):
        a, v = rng.standard_normal(n), rng.standard_normal(m)
        expected = numpys(a, v, mode)
        np.testing.assert_allclose(staged(a, v), expected, rtol=1e-12, atol=1e-12,
                                   err_msg=f"{name}({n}, {m}, {mode!r})")
        batched = ft.vmap(lambda a: ours(a, v, mode))(np.stack([a, 2 * a]))
        np.testing.assert_allclose(batched, [expected, 2 * expected], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("n, m", [(2, 3), (2, 5), (4, 5), (3, 6), (1, 4)])
def test_complex_correlation_with_the_shorter_sequence_first(n, m):
    rng = np.random.default_rng(n * m)
    a = rng.standard_normal(n) + 1j * rng.standard_normal(n)
    v = rng.standard_normal(m) + 1j * rng.standard_normal(m)
    for mode in MODES:
        np.testing.assert_allclose(ft.jit(lambda a, v: fnp.correlate(a, v, mode))(a, v),
                                   np.correlate(a, v, mode), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("n, m", [(2, 3), (4, 5), (3, 2), (2, 2)])
def test_same_correlation_differentiates_as_numpy_computes_it(n, m):
    rng = np.random.default_rng(n + 10 * m)
    a, v = rng.standard_normal(n), rng.standard_normal(m)
    w = rng.standard_normal(max(n, m))
    loss = lambda a, v: fnp.sum(w * fnp.correlate(a, v, "same") ** 2)
    check_grads(loss, (a, v), order=2)
    # the gradient of the traced correlation is the gradient of NumPy's
    step = 1e-6
    numeric = [(np.sum(w * np.correlate(a + step * e, v, "same") ** 2)
                - np.sum(w * np.correlate(a - step * e, v, "same") ** 2)) / (2 * step)
               for e in np.eye(n)]
    np.testing.assert_allclose(ft.grad(loss)(a, v), numeric, rtol=1e-6, atol=1e-8)
