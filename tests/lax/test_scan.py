"""lax.scan against the same loop written in Python: values eagerly, under jit and under vmap,
derivatives to second order in both modes on both backends, compositions (jit of grad of
vmap, vmap of grad, grad inside the step, scan inside scan), pytrees, reverse, length without
xs, zero steps, integer carries, one equation under jit whatever the trip count, the carry type
errors, and the memory of reverse mode with a checkpointed step."""
from __future__ import annotations

import gc
import importlib
import tracemalloc

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans import errors, lax, tree
from functrans.testing import check_grads


def python_scan(f, init, xs, length=None, reverse=False):
    """The loop ``lax.scan`` stands for, in Python."""
    n = length if xs is None else len(tree.leaves(xs)[0])
    carry, ys = init, []
    for i in (reversed(range(n)) if reverse else range(n)):
        carry, y = f(carry, None if xs is None else tree.map(lambda a: a[i], xs))
        ys.append(y)
    if reverse:
        ys.reverse()
    return carry, tree.map(lambda *v: fnp.stack(v), *ys)


# Each case: a function of (w, xs, loop) where loop is lax.scan or python_scan.
def rnn(w, xs, loop):  # a closed-over matrix; the carry starts without a tangent
    h0 = fnp.zeros_like(w[0])
    h, hs = loop(lambda h, x: (fnp.tanh(w @ h + x), fnp.sum(h * x)), h0, xs)
    return h, hs


def pytree_carry(w, xs, loop):  # dict carry with an int counter; tuple xs; tuple ys
    def step(c, x):
        a, b = x
        v = fnp.sin(c["v"] * w[0] + a) + c["n"] * 0.1
        return {"n": c["n"] + 1, "v": v, "s": c["s"] + fnp.sum(v * b)}, (v[0], c["n"])

    init = {"n": 0, "v": w[:2] * 0.5, "s": fnp.zeros_like(w[0])}
    c, ys = loop(step, init, (xs[:, :2], xs[:, 1:3]))
    return c["v"], c["s"], ys[0]


def backwards(w, xs, loop):  # reverse=True: ys keep the order of xs
    c, ys = loop(lambda c, x: (c * fnp.cos(x[0]) + w[1], c * x), w[0], xs, reverse=True)
    return c, ys


def no_xs(w, xs, loop):  # xs=None with length=
    c, ys = loop(lambda c, _: (fnp.tanh(c * w[:3] + 0.3), fnp.sum(c)), w[1:4], None, length=4)
    return c, ys


def nested(w, xs, loop):  # a scan inside the step of a scan
    def inner(c, x):
        c2, ys = loop(lambda d, z: (d * fnp.sin(z) + c, d ** 2), c, x[:3])
        return c2, fnp.sum(ys)

    return loop(inner, w[0], xs)


def grad_in_step(w, xs, loop):  # ft.grad inside the step
    def step(c, x):
        g = ft.grad(lambda c: fnp.sum(fnp.sin(c * x[:2])))(c)
        return c - 0.1 * g * w[:2], fnp.sum(g)

    return loop(step, w[2:4], xs)


def checkpointed(w, xs, loop):  # a checkpointed step: the same values and derivatives
    layer = ft.checkpoint(lambda w, h, x: fnp.tanh(w @ h + x))
    return loop(lambda h, x: (layer(w, h, x), h[0]), fnp.ones_like(w[0]) * 0.1, xs)


def checkpoint_closure(w, xs, loop):  # the checkpointed function closes over the traced w
    layer = ft.checkpoint(lambda h, x: fnp.tanh(w @ h + x))
    return loop(lambda h, x: (layer(h, x), h[0]), fnp.ones_like(w[0]) * 0.1, xs)


@ft.custom_jvp
def smooth_clip(x):
    return fnp.tanh(x)


smooth_clip.defjvp(lambda p, t: (fnp.tanh(p[0]), t[0] / fnp.cosh(p[0]) ** 2))


@ft.custom_vjp
def soft_sin(x):
    return fnp.sin(x)


soft_sin.defvjp(lambda x: (fnp.sin(x), fnp.cos(x)), lambda res, g: (g * res,))


def custom_rules(w, xs, loop):  # custom_jvp and custom_vjp functions inside the step
    def step(c, x):
        return smooth_clip(c * w[0] + x[:2]), soft_sin(c[0] * x[2])

    return loop(step, w[1:3], xs)


W = np.random.default_rng(0).standard_normal((4, 4)) * 0.5
XS = np.random.default_rng(1).standard_normal((5, 4))
CASES = [
    pytest.param(rnn, W, XS, id="rnn"),
    pytest.param(pytree_carry, W[0], XS, id="pytree"),
    pytest.param(backwards, W[0], XS, id="reverse"),
    pytest.param(no_xs, W[0], XS, id="length"),
    pytest.param(nested, W[0], XS, id="nested"),
    pytest.param(grad_in_step, W[0], XS, id="grad-in-step"),
    pytest.param(checkpointed, W, XS, id="checkpoint"),
    pytest.param(checkpoint_closure, W, XS, id="checkpoint-closure"),
    pytest.param(custom_rules, W[0], XS, id="custom-rules"),
]


def scanned(case):
    return lambda w, xs: case(w, xs, lax.scan)


def looped(case):
    return lambda w, xs: case(w, xs, python_scan)


def assert_close(got, expected, rtol=1e-10, atol=1e-12):
    got_leaves, expected_leaves = tree.leaves(got), tree.leaves(expected)
    assert len(got_leaves) == len(expected_leaves)
    for g, e in zip(got_leaves, expected_leaves):
        np.testing.assert_allclose(np.asarray(g), np.asarray(e), rtol=rtol, atol=atol)


@pytest.mark.parametrize("case, w, xs", CASES)
def test_values_eager_jit_and_vmap_match_the_python_loop(case, w, xs, backend):
    w, xs = backend.put(w), backend.put(xs)
    expected = backend.get(looped(case)(w, xs))
    assert_close(backend.get(scanned(case)(w, xs)), expected)
    assert_close(backend.get(ft.jit(scanned(case))(w, xs)), expected)
    batch = fnp.stack([xs, xs * 0.5])
    batched = backend.get(ft.vmap(scanned(case), (None, 0))(w, batch))
    for i in range(2):
        assert_close(tree.map(lambda a: a[i], batched), backend.get(looped(case)(w, batch[i])))


@pytest.mark.parametrize("case, w, xs", CASES)
def test_derivatives_to_second_order_in_both_modes(case, w, xs, backend):
    modes = ("rev",) if case is custom_rules else ("fwd", "rev")  # custom_vjp: reverse only
    check_grads(scanned(case), (backend.put(w), backend.put(xs)), order=2, modes=modes)


@pytest.mark.parametrize("case, w, xs", CASES)
def test_gradients_match_the_python_loop_under_jit_and_vmap(case, w, xs):
    def loss(f):
        return lambda w, xs: sum(fnp.sum(fnp.sin(leaf)) for leaf in tree.leaves(f(w, xs))
                                 if fnp.result_type(leaf).kind == "f")

    expected = ft.grad(loss(looped(case)), (0, 1))(w, xs)
    assert_close(ft.grad(loss(scanned(case)), (0, 1))(w, xs), expected)
    assert_close(ft.jit(ft.grad(loss(scanned(case)), (0, 1)))(w, xs), expected)
    # jit of grad of vmap, and vmap of grad
    batch = np.stack([xs, xs * 0.5])
    summed = lambda f: lambda w, xs: fnp.sum(ft.vmap(loss(f), (None, 0))(w, xs))
    assert_close(ft.jit(ft.grad(summed(scanned(case))))(w, batch), ft.grad(summed(looped(case)))(w, batch))
    per_example = ft.vmap(ft.grad(loss(scanned(case)), 1), (None, 0))(w, batch)
    assert_close(per_example, ft.vmap(ft.grad(loss(looped(case)), 1), (None, 0))(w, batch))


@pytest.mark.parametrize("case, w, xs", [c for c in CASES if c.id != "custom-rules"])
def test_forward_over_reverse_hessian_matches_the_python_loop(case, w, xs):
    def loss(f):
        return lambda w: sum(fnp.sum(fnp.sin(leaf)) for leaf in tree.leaves(f(w, xs))
                             if fnp.result_type(leaf).kind == "f")

    expected = ft.hessian(loss(looped(case)))(w)
    assert_close(ft.hessian(loss(scanned(case)))(w), expected, rtol=1e-9, atol=1e-12)
    assert_close(ft.jit(ft.jacfwd(ft.grad(loss(scanned(case)))))(w), expected, rtol=1e-9, atol=1e-12)


def test_zero_steps_return_init_and_empty_ys(backend):
    x0 = backend.put(np.ones(3))
    c, ys = lax.scan(lambda c, x: (c * x, (fnp.sum(c), c)), x0, backend.put(np.zeros((0, 3))))
    backend.check_placed(c)
    np.testing.assert_array_equal(backend.get(c), np.ones(3))
    assert ys[0].shape == (0,) and ys[1].shape == (0, 3)
    empty = backend.put(np.zeros((0, 3)))
    g = ft.grad(lambda x: fnp.sum(lax.scan(lambda c, x: (c * x, None), x, empty)[0]))(x0)
    np.testing.assert_array_equal(backend.get(g), np.ones(3))
    assert ft.jit(lambda x: lax.scan(lambda c, _: (c + 1.0, c), x, None, length=0)[1])(x0).shape == (0, 3)


def test_a_python_scalar_init_follows_the_device_of_the_xs(backend):
    xs = backend.put(np.array([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]))
    f = lambda xs: lax.scan(lambda c, x: (c * x + 1.0, c), 1.0, xs)
    c, ys = ft.vmap(f)(xs)
    backend.check_placed(c)
    np.testing.assert_allclose(backend.get(ys), [[1.0, 1.0, 2.0], [1.0, 4.0, 17.0]])
    g = ft.grad(lambda xs: fnp.sum(f(xs)[1]))(xs[0])
    backend.check_placed(g)
    np.testing.assert_allclose(backend.get(g), [2.0, 1.0, 0.0])
    np.testing.assert_allclose(backend.get(ft.jit(f)(xs[1])[1]), [1.0, 4.0, 17.0])


def test_a_python_number_carry_takes_the_dtype_the_step_gives_it_as_jax():
    xs = np.array([1.0, 2.0, 3.0], np.float32)
    f = lambda xs: lax.scan(lambda c, x: (c + x, c), 0.0, xs)
    for c, ys in (f(xs), ft.jit(f)(xs), ft.vmap(f)(xs[None])):
        assert c.dtype == ys.dtype == np.float32
        np.testing.assert_array_equal(np.reshape(ys, -1), [0.0, 1.0, 3.0])
    g = ft.grad(lambda xs: f(xs)[1].sum())(xs)
    assert g.dtype == np.float32
    np.testing.assert_array_equal(g, [2.0, 1.0, 0.0])
    # fori_loop's accumulator, and a carry the step keeps weak (float64, the default)
    acc = lambda x: lax.fori_loop(0, 3, lambda i, a: a + fnp.take(x, i), 0.0)
    assert acc(xs).dtype == ft.jit(acc)(xs).dtype == np.float32
    assert lax.fori_loop(0, 3, lambda i, a: a + xs[i], 0.0).dtype == np.float32  # eager: NumPy indexing
    c, ys = lax.scan(lambda c, x: (c * 2.0, c), 1.0, xs)
    assert np.asarray(c).dtype == ys.dtype == np.float64 and float(c) == 8.0
    # fori_loop's counter stays an int (float32 + int is float32, as in JAX)
    assert lax.fori_loop(0, 3, lambda i, v: v + i, np.float32(0.0)).dtype == np.float32


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_python_number_carry_records_the_step_once_per_call(dtype):
    # the recording that finds the carry's dtype is the loop's own (retyped when 0.0 becomes
    # float32): an eager grad or vmap calls the step once, not twice
    calls = []

    def step(c, x):
        calls.append(None)
        return c + x * x, c

    xs = np.arange(3.0, dtype=dtype)
    loss = lambda xs: lax.scan(step, 0.0, xs)[1].sum() + lax.scan(step, 0.0, xs)[0]
    g = ft.grad(loss)(xs)
    assert len(calls) == 2 and g.dtype == dtype
    np.testing.assert_allclose(g, 2.0 * xs * np.array([3.0, 2.0, 1.0]))
    del calls[:]
    c, ys = ft.vmap(lambda xs: lax.scan(step, 0.0, xs))(xs[None])
    assert len(calls) == 1 and c.dtype == ys.dtype == dtype
    np.testing.assert_array_equal(ys[0], [0.0, 0.0, 1.0])
    del calls[:]
    # a carry the step also computes with Python numbers (c * 0.5) is recorded again
    t = ft.jvp(lambda xs: lax.scan(lambda c, x: (c * 0.5 + x, c), 0.0, xs)[0], (xs,), (np.ones(3, dtype),))
    assert t[0].dtype == t[1].dtype == dtype and float(t[1]) == 1.75
    # a carry the step keeps a Python float meets a float32 x as one, staged as eagerly
    h = lambda xs: lax.scan(lambda c, x: (c * 0.5 + 1.0, c * x), 0.0, xs)[1]
    assert h(xs).dtype == ft.jit(h)(xs).dtype == dtype
    np.testing.assert_array_equal(ft.jit(h)(xs), h(xs))
    w = lambda x: lax.while_loop(lambda c: c[0] < 3, lambda c: (c[0] + 1, step(c[1], x)[0]), (0, 0.0))[1]
    out = ft.vmap(w)(np.ones(2, dtype))
    assert len(calls) == 1 and out.dtype == dtype
    np.testing.assert_array_equal(out, [3.0, 3.0])


def test_integer_carries_have_no_tangent_and_count():
    def f(x):
        (n, s), ys = lax.scan(lambda c, x: ((c[0] + 1, c[1] + x * c[0]), c[0] * 2), (0, 0.0), x)
        return n, s, ys

    n, s, ys = f(np.arange(1.0, 4.0))
    assert int(n) == 3 and float(s) == 0 * 1 + 1 * 2 + 2 * 3
    np.testing.assert_array_equal(ys, [0, 2, 4])
    assert ys.dtype.kind == "i"
    np.testing.assert_allclose(ft.grad(lambda x: f(x)[1])(np.arange(1.0, 4.0)), [0.0, 1.0, 2.0])
    _, (_, t_s, t_ys) = ft.jvp(f, (np.arange(1.0, 4.0),), (np.ones(3),))
    assert float(t_s) == 3.0


def test_carry_without_tangent_on_entry_gets_one_from_the_fixed_point():
    # c starts as a constant; it gets a tangent from x at the first step, and d from c at the
    # second: the set of carries with tangents grows twice before it is stable.
    def f(x):
        (c, d), _ = lax.scan(lambda cd, x: ((cd[0] + x, cd[1] * 2.0 + cd[0]), None), (0.0, 1.0), x)
        return d

    def g(x):
        c, d = 0.0, 1.0
        for xi in x:
            c, d = c + xi, d * 2.0 + c
        return d

    x = np.array([0.5, 1.5, -2.0])
    np.testing.assert_allclose(ft.grad(f)(x), ft.grad(g)(x))
    np.testing.assert_allclose(ft.jvp(f, (x,), (np.ones(3),))[1], ft.jvp(g, (x,), (np.ones(3),))[1])


def test_float32_stays_float32(backend):
    w = backend.put(W.astype(np.float32))
    xs = backend.put(XS.astype(np.float32))
    h, hs = rnn(w, xs, lax.scan)
    assert h.dtype == np.float32 and hs.dtype == np.float32
    g = ft.grad(lambda w: fnp.sum(rnn(w, xs, lax.scan)[1]))(w)
    assert g.dtype == np.float32
    backend.check_placed(g)


def test_one_equation_under_jit_whatever_the_trip_count():
    def loss(w, xs):
        return fnp.sum(rnn(w, xs, lax.scan)[1])

    def count(f, steps, batched=False):
        xs = np.zeros((2, steps, 4) if batched else (steps, 4))
        return len(ft.make_jaxpr(f)(W, xs).eqns)

    for f in (loss, ft.grad(loss), ft.grad(loss, 1), ft.jit(ft.grad(loss))):
        assert count(f, 10) == count(f, 1000)
    per_example = ft.grad(lambda w, xs: fnp.sum(ft.vmap(loss, (None, 0))(w, xs)))
    assert count(per_example, 10, batched=True) == count(per_example, 1000, batched=True)
    long = np.zeros((1000, 4))
    assert [e.prim.name for e in ft.make_jaxpr(loss)(W, long).eqns].count("scan") == 1


def test_printed_program_shows_the_step():
    text = str(ft.make_jaxpr(lambda x: lax.scan(lambda c, x: (c * x, fnp.sin(c)), 1.0, x))(np.ones(3)))
    assert "scan[" in text and "sin[]" in text and "length=3" in text


@pytest.mark.parametrize("mode", ["eager", "jit"])
def test_a_carry_that_changes_type_is_named_by_its_key_path(mode):
    def run(f, init, xs):
        call = lambda init, xs: lax.scan(f, init, xs)
        return (ft.jit(call) if mode == "jit" else call)(init, xs)

    with pytest.raises(TypeError, match=r"carry\['h'\] it is float64\[1,3\] where the initial carry is float64\[3\]"):
        run(lambda c, x: ({"h": c["h"][None] * x}, None), {"h": np.ones(3)}, np.ones((2, 3)))
    with pytest.raises(TypeError, match=r"carry\[1\] it is float32\[2\] where the initial carry is float64\[2\]"):
        run(lambda c, x: ((c[0], c[1].astype(np.float32)), None), (1.0, np.ones(2)), np.ones(2))
    with pytest.raises(errors.TreeStructureError, match="structure"):
        run(lambda c, x: ((c, c), None), np.ones(2), np.ones(2))
    with pytest.raises(TypeError, match=r"pair \(new_carry, y\)"):
        run(lambda c, x: c, np.ones(2), np.ones(2))


def test_lengths_are_checked():
    with pytest.raises(ValueError, match="same length"):
        lax.scan(lambda c, x: (c, None), 0.0, (np.ones(2), np.ones(3)))
    with pytest.raises(ValueError, match="same length"):
        lax.scan(lambda c, x: (c, None), 0.0, np.ones(2), length=3)
    with pytest.raises(ValueError, match="length="):
        lax.scan(lambda c, x: (c, None), 0.0, None)
    with pytest.raises(ValueError, match="unroll"):
        lax.scan(lambda c, x: (c, None), 0.0, np.ones(2), unroll=0)


def test_checkpointed_step_closing_over_a_traced_value():
    loss = lambda w: fnp.sum(checkpoint_closure(w, XS, lax.scan)[0])
    expected = ft.grad(lambda w: fnp.sum(checkpoint_closure(w, XS, python_scan)[0]))(W)
    np.testing.assert_allclose(ft.grad(loss)(W), expected, rtol=1e-10)
    np.testing.assert_allclose(ft.jit(ft.grad(loss))(W), expected, rtol=1e-10)
    np.testing.assert_allclose(ft.jit(loss)(W), loss(W), rtol=1e-12)


def _peak_of_grad(step, steps, hidden=32):
    w = np.random.default_rng(3).standard_normal((hidden, hidden)) / np.sqrt(hidden)
    xs = np.random.default_rng(4).standard_normal((steps, hidden))

    def loss(w):
        return fnp.sum(lax.scan(lambda h, x: (step(w, h, x), None), fnp.zeros(hidden), xs)[0])

    ft.grad(loss)(w)  # warm up (first-call allocations, caches)
    peaks = []
    for _ in range(3):  # the least of three: an allocation made elsewhere during one run stays out
        gc.collect()
        tracemalloc.start()
        try:
            g = ft.grad(loss)(w)
            peaks.append(tracemalloc.get_traced_memory()[1])
        finally:
            tracemalloc.stop()
    return min(peaks), g


def many_intermediates(w, h, x):
    for _ in range(6):
        h = fnp.tanh(w @ h + x) * fnp.cos(h) + fnp.sin(x) * h
    return h


def test_checkpointed_step_keeps_less_memory_in_reverse_mode(monkeypatch):
    # every stack and every plan result allocated anew, so tracemalloc sees it (an array
    # kept from the warm-up call is memory allocated before tracing starts)
    monkeypatch.setattr(importlib.import_module("functrans.lax._stack_pool"), "_FREE", None)
    monkeypatch.setattr(importlib.import_module("functrans.interpreters.replay"), "POOLS", False)
    remat_step = ft.checkpoint(many_intermediates)
    plain, g_plain = _peak_of_grad(many_intermediates, 60)
    remat, g_remat = _peak_of_grad(remat_step, 60)
    np.testing.assert_allclose(g_remat, g_plain, rtol=1e-10)
    # what each step adds to the peak (the fixed part, the same for both, left out)
    plain -= _peak_of_grad(many_intermediates, 20)[0]
    remat -= _peak_of_grad(remat_step, 20)[0]
    assert remat < 0.3 * plain, (remat, plain)


# --- const cotangents that are per-step products, contracted once after the reverse loop ---------


def _rnn_loss(wh, wx, b, xs, reverse=False):
    def step(h, x):
        h = fnp.tanh(x @ wx.T + h @ wh.T + fnp.einsum("bi,bj->bi", h, x) * b)  # two products, one not
        return h, fnp.sum(h * x, axis=1)
    h0 = 0.0 * fnp.sum(xs, axis=0)  # zeros on the device of xs (input and state sizes agree)
    h, ys = lax.scan(step, h0, xs, reverse=reverse)
    return fnp.sum(h ** 2) + fnp.sum(ys)


@pytest.mark.parametrize("reverse", [False, True])
def test_hoisted_weight_gradients_match_the_unrolled_loop(backend, reverse):
    rng = np.random.default_rng(3)
    wh, wx = 0.3 * rng.standard_normal((4, 4)), 0.3 * rng.standard_normal((4, 4))
    b, xs = rng.standard_normal(4), rng.standard_normal((5, 3, 4))
    args = backend.put((wh, wx, b, xs))

    def unrolled(wh, wx, b, xs):
        h = 0.0 * fnp.sum(xs, axis=0)
        total = 0.0
        for t in (range(4, -1, -1) if reverse else range(5)):
            h = fnp.tanh(xs[t] @ wx.T + h @ wh.T + fnp.einsum("bi,bj->bi", h, xs[t]) * b)
            total = total + fnp.sum(fnp.sum(h * xs[t], axis=1))
        return fnp.sum(h ** 2) + total

    got = ft.grad(lambda *a: _rnn_loss(*a, reverse=reverse), argnums=(0, 1, 2, 3))(*args)
    want = ft.grad(unrolled, argnums=(0, 1, 2, 3))(*args)
    jitted = ft.jit(ft.grad(lambda *a: _rnn_loss(*a, reverse=reverse), argnums=(0, 1, 2)))(*args)
    for g, w in zip(got, want):
        backend.check_placed(g)
        np.testing.assert_allclose(backend.get(g), backend.get(w), rtol=1e-10, atol=1e-12)
    for g, w in zip(jitted, want):
        np.testing.assert_allclose(backend.get(g), backend.get(w), rtol=1e-10, atol=1e-12)


def test_hoisted_products_leave_the_loop_and_differentiate_to_second_order(backend):
    rng = np.random.default_rng(4)
    wh, wx = 0.3 * rng.standard_normal((3, 3)), 0.3 * rng.standard_normal((3, 3))
    b, xs = rng.standard_normal(3), rng.standard_normal((4, 2, 3))
    text = str(ft.make_jaxpr(ft.grad(_rnn_loss, argnums=(0, 1)))(wh, wx, b, xs))
    # after the reverse loop: each weight's cotangent is one product over the stacked steps
    assert text.count("dimension_numbers=(((0, 1), (0, 1)), ((), ()))") == 2
    assert "float64[3,3] = add[]" not in text  # no weight accumulator in the loop
    check_grads(_rnn_loss, backend.put((wh, wx, b, xs)), order=2, modes=("rev",))


def _layout_loss(w, v, xs):
    def step(h, x):  # w: the product's right operand on its first axis (forward) and, in the
        # reverse loop, on its last (ct @ w.T); v: read both ways, also going forward
        h = fnp.tanh(h @ w + fnp.einsum("bi,oi->bo", h, v) + h @ v + x)
        return h, h
    h, hs = lax.scan(step, 0.0 * xs[0], xs)
    return fnp.sum(hs ** 2) + fnp.sum(h)


def test_consts_are_laid_out_as_their_products_want(backend):
    rng = np.random.default_rng(5)
    w, v = 0.3 * rng.standard_normal((4, 4)), 0.3 * rng.standard_normal((4, 4))
    xs = rng.standard_normal((5, 3, 4))
    program = ft.make_jaxpr(ft.grad(_layout_loss, argnums=(0, 1)))(w, v, xs)
    layouts = {}
    for eqn in program.eqns:
        if eqn.prim.name == "scan":
            body = eqn.params["body"]
            consts = [a.shape for a in eqn.args[:body.num_consts]]
            layouts[eqn.params["reverse"]] = (body.layouts, consts)
    (forward_c, forward_f), _ = layouts[False]
    (reverse_c, reverse_f), consts = layouts[True]
    assert forward_f == () and len(forward_c) >= 2
    # going back, the weight read only as ``ct @ w.T`` is laid out in Fortran order (w.T in C
    # order), the one read both ways in C order
    assert len(reverse_f) == 1 and consts[reverse_f[0]] == (4, 4)
    assert set(reverse_f).isdisjoint(reverse_c)

    def unrolled(w, v, xs):
        h, total = 0.0 * xs[0], 0.0
        for t in range(5):
            h = fnp.tanh(h @ w + fnp.einsum("bi,oi->bo", h, v) + h @ v + xs[t])
            total = total + fnp.sum(h ** 2)
        return total + fnp.sum(h)

    args = backend.put((w, v, xs))
    want = ft.grad(unrolled, argnums=(0, 1))(*args)
    eager = ft.grad(_layout_loss, argnums=(0, 1))(*args)
    jitted = ft.jit(ft.grad(_layout_loss, argnums=(0, 1)))(*args)
    for got in (eager, jitted):
        for g, ref in zip(got, want):
            backend.check_placed(g)
            np.testing.assert_allclose(backend.get(g), backend.get(ref), rtol=1e-12, atol=1e-12)


def test_empty_scan_hoisted_products_are_zero():
    wh, wx, b = np.eye(2), np.eye(2), np.ones(2)
    g = ft.grad(_rnn_loss, argnums=(0, 1))(wh, wx, b, np.zeros((0, 3, 2)))
    for x in g:
        np.testing.assert_array_equal(x, np.zeros((2, 2)))


def _biased_loss(w, b, xs, reverse=False):
    def step(h, x):  # the state's product laid out as (w @ h.T).T, plus a bias
        hw = fnp.transpose(fnp.tensordot(w, h, ((1,), (1,)))) + b
        h = fnp.tanh(x + hw * h)
        return h, h
    h0 = 0.5 + 0.0 * xs[0]
    h, hs = lax.scan(step, h0, xs, reverse=reverse)
    return fnp.sum(h ** 2) + fnp.sum(hs * xs)


def _reverse_body(fn, *args):
    """The equations of the transposed (reverse) loop in the program of ``grad(fn)``."""
    eqns = ft.make_jaxpr(fn)(*args).eqns
    loops = [e for e in eqns if e.prim.name == "scan" and e.params["reverse"]]
    assert len(loops) == 1
    return loops[0].params["body"].program.eqns


@pytest.mark.parametrize("reverse", [False, True])
def test_hoisted_bias_sums_and_transposed_operands_match_the_unrolled_loop(backend, reverse):
    rng = np.random.default_rng(5)
    w, b, xs = 0.3 * rng.standard_normal((4, 4)), rng.standard_normal(4), rng.standard_normal((5, 3, 4))
    args = backend.put((w, b, xs))

    def loss(w, b, xs):
        return _biased_loss(w, b, xs, reverse=reverse)

    body = _reverse_body(ft.grad(loss, argnums=(0, 1, 2)), w, b, xs)
    # neither the weight's product nor the bias's sum accumulates in the loop
    assert not any(e.prim.name == "reduce_sum" for e in body)
    assert not any(e.prim.name == "add" and tuple(e.outs[0].shape) in ((4,), (4, 4)) for e in body)

    def unrolled(w, b, xs):
        h = 0.5 + 0.0 * xs[0]
        total = 0.0
        for t in (range(4, -1, -1) if reverse else range(5)):
            h = fnp.tanh(xs[t] + (h @ w.T + b) * h)
            total = total + fnp.sum(h * xs[t])
        return fnp.sum(h ** 2) + total

    want = ft.grad(unrolled, argnums=(0, 1, 2))(*args)
    for got in (ft.grad(loss, argnums=(0, 1, 2))(*args), ft.jit(ft.grad(loss, argnums=(0, 1, 2)))(*args)):
        for g, v in zip(got, want):
            backend.check_placed(g)
            np.testing.assert_allclose(backend.get(g), backend.get(v), rtol=1e-10, atol=1e-12)


def test_hoisted_bias_sums_differentiate_to_second_order(backend):
    rng = np.random.default_rng(6)
    w, b, xs = 0.3 * rng.standard_normal((3, 3)), rng.standard_normal(3), rng.standard_normal((4, 2, 3))
    check_grads(_biased_loss, backend.put((w, b, xs)), order=2, modes=("rev",))


# --- what the rules derive from a body is kept by the body's structure ---------------------------


def test_eager_grad_derives_the_loop_bodies_once(backend):
    derived = importlib.import_module("functrans.lax.scan")._DERIVED  # (lax.scan is the function)
    rng = np.random.default_rng(7)
    w, b, xs = backend.put((0.3 * rng.standard_normal((3, 3)), rng.standard_normal(3),
                            rng.standard_normal((4, 2, 3))))
    grad = ft.grad(_biased_loss, argnums=(0, 1))
    first = grad(w, b, xs)
    entries = dict(derived._entries)
    again = grad(w, b, xs)  # the step is recorded anew, and finds what was derived from it
    assert derived._entries.keys() == entries.keys()
    assert all(derived._entries[k] is v for k, v in entries.items())
    for g, h in zip(first, again):
        np.testing.assert_array_equal(backend.get(g), backend.get(h))


def test_bodies_closing_over_different_arrays_derive_apart():
    xs = np.linspace(-1.0, 1.0, 12).reshape(4, 3)

    def loss(w, table):
        def step(h, x):
            return fnp.tanh(h * w + x * table), None  # table: a constant of the body
        h, _ = lax.scan(step, fnp.zeros(3), xs)
        return fnp.sum(h)

    w = np.array([0.5, -0.2, 0.3])
    for table in (np.ones(3), np.arange(3.0), -0.0 * np.ones(3)):
        want = ft.grad(lambda w: loss(w, fnp.asarray(table)))(w)
        unrolled = ft.grad(lambda w: _unrolled_table(w, table, xs))(w)
        np.testing.assert_allclose(want, unrolled, rtol=1e-12)


def _unrolled_table(w, table, xs):
    h = fnp.zeros(3)
    for x in xs:
        h = fnp.tanh(h * w + x * table)
    return fnp.sum(h)
