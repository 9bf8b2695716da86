"""jit's fused product updates (interpreters/gemm_update.py): ``w - s * (a @ b)`` as one BLAS
gemm on a copy of ``w``: the values of eager execution, outputs apart from the arguments, and
the pass applied exactly where its pattern and preconditions hold."""
from __future__ import annotations

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans import tree
from functrans.interpreters import gemm_update, replay
from functrans.testing import check_grads

pytestmark = pytest.mark.skipif(not gemm_update.available(), reason="needs SciPy's BLAS wrappers")


@pytest.fixture
def float32_too(monkeypatch):
    """Float32 products are fused too (by default only float64 ones are: the pass gains
    nothing in float32 on the BLAS measured)."""
    monkeypatch.setattr(gemm_update, "DTYPES", frozenset(map(np.dtype, (np.float32, np.float64))))


def _fused(fn, *args) -> int:
    """How many fused updates jit's plan for ``fn(*args)`` runs."""
    return ft.jit(fn).lower(*args).as_text().count("gemm_update")


RNG = np.random.default_rng(0)
W = RNG.standard_normal((6, 5))
H = RNG.standard_normal((4, 6))   # rows x inputs
D = RNG.standard_normal((4, 5))   # rows x outputs


@pytest.mark.parametrize("dims", [((1,), (0,)), ((0,), (0,)), ((1,), (1,)), ((0,), (1,))])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_every_layout_matches_eager(dims, dtype, float32_too):
    (xc,), (yc,) = dims
    m, n, k = 6, 5, 4
    x = RNG.standard_normal((m, k) if xc == 1 else (k, m)).astype(dtype)
    y = RNG.standard_normal((k, n) if yc == 0 else (n, k)).astype(dtype)
    w = RNG.standard_normal((m, n)).astype(dtype)

    def fn(w, x, y):
        return w - 0.25 * ft.lax.dot_general(x, y, (dims, ((), ())))

    assert _fused(fn, w, x, y) == 1
    got = ft.jit(fn)(w, x, y)
    assert got.dtype == dtype and got.flags.c_contiguous
    tol = 1e-5 if dtype == np.float32 else 1e-13
    np.testing.assert_allclose(got, fn(w, x, y), rtol=tol, atol=tol)


@pytest.mark.parametrize("form", [
    lambda w, h, d: w - 0.1 * (h.T @ d),
    lambda w, h, d: w - (h.T @ d) * 0.1,
    lambda w, h, d: w + 0.1 * (h.T @ d),
    lambda w, h, d: 0.1 * (h.T @ d) + w,
    lambda w, h, d: w - h.T @ d,
    lambda w, h, d: h.T @ d + w,
    lambda w, h, d: w - np.float64(0.1) * (h.T @ d),
    lambda w, h, d: w - np.array(0.1) * (h.T @ d),
    lambda w, h, d: w + 2 * (h.T @ d),
])
def test_every_form_of_update_matches_eager(form):
    assert _fused(form, W, H, D) == 1
    np.testing.assert_allclose(ft.jit(form)(W, H, D), form(W, H, D), rtol=1e-13, atol=1e-14)


def test_a_sum_of_two_products_fuses_one_of_them():
    x, h, a, b = (RNG.standard_normal(s) for s in ((3, 4), (3, 5), (4, 6), (5, 6)))
    fn = lambda x, h, a, b: x @ a + h @ b
    assert _fused(fn, x, h, a, b) == 1
    for _ in range(2):
        np.testing.assert_allclose(ft.jit(fn)(x, h, a, b), fn(x, h, a, b), rtol=1e-13)
    three = lambda x, h, a, b: x @ a + h @ b + 0.5 * (x @ a)
    np.testing.assert_allclose(ft.jit(three)(x, h, a, b), three(x, h, a, b), rtol=1e-13)


def test_operands_of_any_layout(float32_too):
    """F-ordered and strided operands and weights give eager's values too."""
    h_f = np.asfortranarray(H)
    d_strided = RNG.standard_normal((4, 10))[:, ::2]
    w_f = np.asfortranarray(W)
    fn = lambda w, h, d: w - 0.1 * (h.T @ d)
    for args in ((W, h_f, D), (W, H, d_strided), (w_f, H, D), (w_f, h_f, d_strided)):
        got = ft.jit(fn)(*args)
        np.testing.assert_allclose(got, fn(*args), rtol=1e-13, atol=1e-14)
    f32 = [a.astype(np.float32) for a in (w_f, h_f, d_strided)]
    np.testing.assert_allclose(ft.jit(fn)(*f32), fn(*f32), rtol=1e-5, atol=1e-6)


def test_a_traced_scale_is_read_at_every_call():
    jitted = ft.jit(lambda w, h, d, lr: w - lr * (h.T @ d))
    for lr in (np.array(0.1), np.array(-3.0)):
        np.testing.assert_allclose(jitted(W, H, D, lr), W - lr * (H.T @ D), rtol=1e-13, atol=1e-14)
    assert jitted.lower(W, H, D, np.array(0.1)).as_text().count("gemm_update") == 1


def test_a_python_number_given_to_jit_is_read_at_every_call():
    jitted = ft.jit(lambda w, h, d, lr: w - lr * (h.T @ d))
    assert jitted.lower(W, H, D, 0.1).as_text().count("gemm_update") == 1
    for lr in (0.1, -2.5, 3, True):
        np.testing.assert_allclose(jitted(W, H, D, lr), W - lr * (H.T @ D), rtol=1e-13, atol=1e-14)


def test_an_array_in_the_scales_place_runs_unfused():
    """A value of no known shape (an output of a multiple-result step) may be an array: the
    step computes the update unfused then."""
    run = gemm_update._runner((((0,), (0,))), np.dtype(np.float64), -1.0, 0, [None])
    scale = np.linspace(0.1, 0.5, 5)
    np.testing.assert_allclose(run(H, D, W, scale), W - scale * (H.T @ D), rtol=1e-13)
    np.testing.assert_allclose(run(H, D, W, 0.5), W - 0.5 * (H.T @ D), rtol=1e-13)


def test_outputs_never_share_memory_with_the_arguments():
    w = W.copy()
    step = ft.jit(lambda w, h, d: w - 0.1 * (h.T @ d))
    new = step(w, H, D)
    assert not np.shares_memory(new, w)
    new[...] = 0.0
    np.testing.assert_array_equal(w, W)  # the argument is untouched
    again = step(w, H, D)
    np.testing.assert_allclose(again, W - 0.1 * (H.T @ D), rtol=1e-13, atol=1e-14)
    assert not np.shares_memory(again, new)


def test_a_constant_weight_is_never_written():
    w = W.copy()
    step = ft.jit(lambda h, d: w - 0.1 * (h.T @ d))
    first = step(H, D)
    second = step(H, D)
    np.testing.assert_array_equal(first, second)
    np.testing.assert_array_equal(w, W)


@pytest.mark.parametrize("fn, args", [
    # the product is also an output, or read twice
    (lambda w, h, d: (w - 0.1 * (h.T @ d), h.T @ d), (W, H, D)),
    (lambda w, h, d: w - 0.1 * (h.T @ d) * (h.T @ d), (W, H, D)),
    # the scaled product is read by something else too
    (lambda w, h, d: (w - 0.1 * (h.T @ d), fnp.sum(0.1 * (h.T @ d))), (W, H, D)),
    # a scale that is an array, not a number
    (lambda w, h, d, s: w - s * (h.T @ d), (W, H, D, np.full((6, 5), 0.1))),
    # an update that broadcasts (w is a row)
    (lambda w, h, d: w - 0.1 * (h.T @ d), (W[0], H, D)),
    # a subtraction the wrong way round, a product of the wrong kind
    (lambda w, h, d: 0.1 * (h.T @ d) - w, (W, H, D)),
    (lambda w, h, d: w * (0.1 * (h.T @ d)), (W, H, D)),
    # mixed precisions: float32 weights, float64 product (promotion), and complex
    (lambda w, h, d: w - 0.1 * (h.T @ d), (W.astype(np.float32), H, D)),
    (lambda w, h, d: w - 0.1 * (h.T @ d), (W + 0j, H + 0j, D + 0j)),
    # a float64 scale array promotes a float32 product
    (lambda w, h, d: w - np.array(0.1) * (h.T @ d), tuple(a.astype(np.float32) for a in (W, H, D))),
    # a batched product
    (lambda w, h, d: w - 0.1 * fnp.matmul(fnp.swapaxes(h, 1, 2), d),
     (np.stack([W, W]), np.stack([H, H]), np.stack([D, D]))),
])
def test_the_pass_applies_only_where_its_pattern_holds(fn, args, float32_too):
    assert _fused(fn, *args) == 0
    got, expected = ft.jit(fn)(*args), fn(*args)
    for g, e in zip(tree.leaves(got), tree.leaves(expected)):
        np.testing.assert_allclose(g, e, rtol=1e-6)


def test_float32_products_keep_their_steps_by_default():
    f32 = [a.astype(np.float32) for a in (W, H, D)]
    assert _fused(lambda w, h, d: w - 0.1 * (h.T @ d), *f32) == 0
    assert _fused(lambda w, h, d: w - 0.1 * (h.T @ d), W, H, D) == 1  # float64: any size


def test_without_scipy_the_plan_keeps_its_steps(monkeypatch):
    monkeypatch.setattr(gemm_update, "_HAVE_SCIPY", False)
    fn = lambda w, h, d: w - 0.1 * (h.T @ d)
    assert _fused(fn, W, H, D) == 0
    np.testing.assert_allclose(ft.jit(fn)(W, H, D), fn(W, H, D), rtol=1e-13, atol=1e-14)


def test_an_sgd_step_matches_eager_on_both_backends(backend, float32_too):
    rng = np.random.default_rng(1)
    params = [{"w": rng.standard_normal((5, 8)), "b": np.zeros(8)},
              {"w": rng.standard_normal((8, 3)), "b": np.zeros(3)}]
    x, y = rng.standard_normal((16, 5)), rng.standard_normal((16, 3))

    def loss(p, x, y):
        h = fnp.tanh(x @ p[0]["w"] + p[0]["b"])
        return fnp.mean((h @ p[1]["w"] + p[1]["b"] - y) ** 2)

    def step(p, x, y):
        value, g = ft.value_and_grad(loss)(p, x, y)
        return value, tree.map(lambda a, b: a - 0.1 * b, p, g)

    for dtype, tol in ((np.float64, 1e-12), (np.float32, 1e-5)):
        args = backend.put(tree.map(lambda a: a.astype(dtype), (params, x, y)))
        expected = backend.get(step(*args))
        jitted = ft.jit(step)
        got = backend.get(jitted(*args))
        for g, e in zip(tree.leaves(got), tree.leaves(expected)):
            assert np.asarray(g).dtype == np.asarray(e).dtype
            np.testing.assert_allclose(g, e, rtol=tol, atol=tol)
        text = jitted.lower(*args).as_text()
        # NumPy arrays: both weight updates fused; the strict backend has no SciPy BLAS
        assert text.count("gemm_update") == (2 if backend.name == "numpy" else 0)


def test_derivatives_of_a_jitted_update(backend):
    w, h, d = backend.put((W, H, D))
    check_grads(ft.jit(lambda w, h, d: w - 0.1 * (h.T @ d)), (w, h, d), order=2)


def test_as_text_names_the_equations_it_stands_for():
    text = ft.jit(lambda w, h, d: w - 0.1 * (h.T @ d)).lower(W, H, D).as_text()
    line = next(t for t in text.splitlines() if "gemm_update" in t)
    assert line.strip().startswith("v") and "[sign=-]" in line and line.split("  #")[0].endswith("0.1")
    assert "dot_general" not in text and "mul" not in text


def test_the_public_import_serves_when_the_wrappers_cannot_be_loaded_alone(monkeypatch):
    monkeypatch.setattr(gemm_update, "_fblas", lambda: None)
    monkeypatch.setattr(gemm_update, "_gemm", {})
    fn = lambda w, h, d: w - 0.1 * (h.T @ d)
    np.testing.assert_allclose(ft.jit(fn)(W, H, D), fn(W, H, D), rtol=1e-13, atol=1e-14)
    assert gemm_update._gemm  # the routine came from scipy.linalg.blas


@pytest.mark.parametrize("straight_line", [True, False])
def test_the_first_call_gives_the_bits_of_the_later_ones(straight_line, monkeypatch):
    # the first call runs the recorded steps before the plan is compiled; the fused update
    # may round otherwise (whether it does depends on the BLAS), so that call is run again by
    # the compiled plan (also by a plan too long for a straight-line function, which runs its
    # steps in a loop): the fused update runs on every call
    if not straight_line:
        monkeypatch.setattr(replay, "_MAX_STRAIGHT_LINE", 0)
    runs = []
    runner = gemm_update._runner

    def counted(*args):
        run = runner(*args)
        return lambda *a, **k: runs.append(1) or run(*a, **k)

    monkeypatch.setattr(gemm_update, "_runner", counted)
    rng = np.random.default_rng(7)
    w, h, d = rng.standard_normal((96, 64)), rng.standard_normal((40, 96)), rng.standard_normal((40, 64))
    step = ft.jit(lambda w, h, d: w - 0.01 * (h.T @ d))
    first = step(w, h, d)
    assert len(runs) == 1
    second = step(w, h, d)
    assert len(runs) == 2
    assert _fused(lambda w, h, d: w - 0.01 * (h.T @ d), w, h, d) == 1
    np.testing.assert_array_equal(first, second)
    assert not np.shares_memory(first, second)
