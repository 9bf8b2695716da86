"""Positions that are traced (``take``, ``.at[i].set``, ``put_along_axis``): under jit they are an
input of the staged program, under vmap they differ per example. The update written last at a
repeated position is the one that gets the cotangent, as in eager mode, and a new index array
under jit gives its own answer (nothing of the first one is kept in the plan)."""
from __future__ import annotations

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans.testing import check_grads

WEIGHTS = np.array([1.0, 2.0, 3.0, 4.0, 5.0])


def weighted_set(put=np.asarray):
    weights, base = put(WEIGHTS), put(np.zeros(5))
    return lambda v, i: fnp.sum(fnp.at(base)[i].set(v) * weights)


# positions, and the gradient with respect to the three updates (NumPy: the last one wins)
CASES = [
    (np.array([1, 3, 1]), [0.0, 4.0, 2.0]),
    (np.array([0, 2, 4]), [1.0, 3.0, 5.0]),
    (np.array([2, 2, 2]), [0.0, 0.0, 3.0]),
]


def test_the_update_written_last_gets_the_cotangent_eager_jit_and_vmap(backend):
    v = backend.put(np.array([1.0, 2.0, 3.0]))
    grad = ft.grad(weighted_set(backend.put))
    staged = ft.jit(grad)
    for positions, want in CASES:  # the same plan for every index array
        i = backend.put(positions)
        for g in (grad, staged):
            out = g(v, i)
            backend.check_placed(out)
            np.testing.assert_array_equal(backend.get(out), want)
    every = backend.put(np.stack([p for p, _ in CASES]))
    for h in (ft.vmap(grad, in_axes=(None, 0)), ft.jit(ft.vmap(grad, in_axes=(None, 0))),
              ft.vmap(staged, in_axes=(None, 0))):
        np.testing.assert_array_equal(backend.get(h(v, every)), [w for _, w in CASES])


def test_jit_stages_the_positions_as_an_input():
    text = str(ft.make_jaxpr(ft.grad(weighted_set()))(np.ones(3), np.array([1, 3, 1])))
    assert "scatter[" in text and "eq" in text  # the mask is computed from the positions
    assert "[1 3 1]" not in text


@pytest.mark.parametrize("axis", [0, 1])
def test_put_along_axis_with_traced_positions(backend, axis):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 4))
    values = rng.normal(size=(3, 4))
    positions = rng.integers(0, x.shape[axis], size=(3, 4))  # repeats along the axis

    def f(x, values, i):
        return fnp.put_along_axis(x, i, values, axis=axis)

    weights = backend.put(np.arange(12.0).reshape(3, 4))

    def loss(x, values, i):
        return fnp.sum(f(x, values, i) * weights)

    want = x.copy()
    np.put_along_axis(want, positions, values, axis)
    xs, vs, ids = backend.put(x), backend.put(values), backend.put(positions)
    np.testing.assert_array_equal(backend.get(ft.jit(f)(xs, vs, ids)), want)
    eager = ft.grad(loss, argnums=(0, 1))(xs, vs, ids)
    staged = ft.jit(ft.grad(loss, argnums=(0, 1)))(xs, vs, ids)
    for a, b in zip(eager, staged):
        np.testing.assert_array_equal(backend.get(a), backend.get(b))
    # vmap over index arrays, one per example
    stacked = np.stack([positions, positions[::-1]])
    out = ft.vmap(f, in_axes=(None, None, 0))(xs, vs, backend.put(stacked))
    for k in range(2):
        one = x.copy()
        np.put_along_axis(one, stacked[k], values, axis)
        np.testing.assert_array_equal(backend.get(out)[k], one)


def test_put_along_axis_with_no_axis_keeps_the_arrays_shape_as_numpy():
    """axis=None: positions in the flattened array, written into an array of arr's shape
    (NumPy writes arr in place), not returned flattened."""
    x = np.arange(12.0).reshape(3, 4)
    positions, values = np.array([1, 5, -1]), np.array([10.0, 20.0, 30.0])
    want = x.copy()
    np.put_along_axis(want, positions, values, None)
    for f in (fnp.put_along_axis, ft.jit(fnp.put_along_axis, static_argnames="axis")):
        np.testing.assert_array_equal(f(x, positions, values, axis=None), want)
    check_grads(lambda x, v: fnp.put_along_axis(x, positions, v, axis=None), (x, values), order=2)


def test_put_along_axis_derivatives_against_finite_differences():
    positions = np.array([[2, 0, 2], [1, 1, 0]])
    check_grads(lambda x, v: ft.jit(lambda x, v, i: fnp.put_along_axis(x, i, v, axis=1))(
        x, v, positions), (np.ones((2, 3)), np.arange(6.0).reshape(2, 3)))


@pytest.mark.parametrize("mode", [None, "wrap", "clip"])
def test_take_with_traced_positions(backend, mode):
    x = np.arange(12.0).reshape(3, 4)
    positions = np.array([[0, 5], [-1, 2]]) if mode else np.array([[0, 3], [-1, 3]])
    want = np.take(x, positions, axis=1, mode=mode or "raise")
    # how often each column is read: the gradient of the sum
    counts = np.bincount(np.take(np.arange(4), positions, mode=mode or "raise").ravel(),
                         minlength=4)
    xs, ids = backend.put(x), backend.put(positions)

    def f(x, i):
        return fnp.take(x, i, axis=1, mode=mode)

    np.testing.assert_array_equal(backend.get(ft.jit(f)(xs, ids)), want)
    np.testing.assert_array_equal(backend.get(ft.jit(lambda i: f(xs, i))(ids)), want)
    stacked = backend.put(np.stack([positions, positions[::-1]]))
    both = backend.get(ft.vmap(f, in_axes=(None, 0))(xs, stacked))
    np.testing.assert_array_equal(both[0], want)
    np.testing.assert_array_equal(both[1], np.take(x, positions[::-1], axis=1, mode=mode or "raise"))
    g = backend.get(ft.jit(ft.grad(lambda x, i: fnp.sum(f(x, i))))(xs, ids))
    np.testing.assert_array_equal(g, np.broadcast_to(counts, (3, 4)))


@pytest.mark.parametrize("mode", ["raise", "wrap", "clip"])
def test_put_with_traced_positions(backend, mode):
    x = np.arange(12.0).reshape(3, 4)
    positions = np.array([2, -1, 11, 2]) if mode == "raise" else np.array([2, -1, 13, 2])
    values = np.array([5.0, 6.0])  # cycled over the positions; at a repeat the last one wins
    want = x.copy()
    np.put(want, positions, values, mode=mode)
    weights = np.arange(12.0).reshape(3, 4)
    xs, vs, ids, ws = (backend.put(a) for a in (x, values, positions, weights))

    def f(x, v, i):
        return fnp.put(x, i, v, mode=mode, inplace=False)

    np.testing.assert_array_equal(backend.get(ft.jit(f)(xs, vs, ids)), want)
    np.testing.assert_array_equal(
        backend.get(ft.vmap(f, in_axes=(None, None, 0))(xs, vs, backend.put(np.stack([positions] * 2))))[1],
        want)
    loss = ft.grad(lambda v, i: fnp.sum(f(xs, v, i) * ws))
    np.testing.assert_array_equal(backend.get(ft.jit(loss)(vs, ids)), backend.get(loss(vs, ids)))


@pytest.mark.parametrize("name, call", [
    ("put", lambda a, t: fnp.put(a, t, 5.0)),
    ("put", lambda a, t: fnp.put(a, [0], t.astype(float))),
    ("fill_diagonal", lambda a, t: fnp.fill_diagonal(a, t.astype(float)[0])),
    ("place", lambda a, t: fnp.place(a, np.ones(a.shape, bool), t.astype(float))),
])
def test_writing_traced_data_into_a_numpy_array_in_place_names_inplace_false(name, call):
    a = np.zeros((3, 3))
    for transform in (ft.jit, ft.vmap):
        with pytest.raises(ft.errors.InPlaceUpdateError, match=f"fnp.{name}.*inplace=False"):
            transform(lambda t: call(a, t))(np.array([[0, 1, 2]]) if transform is ft.vmap
                                             else np.array([0, 1, 2]))
    assert not a.any()  # nothing written


@pytest.mark.parametrize("shift, axis", [(1, None), (-5, 1), ((1, 2), (0, 1)), (7, 0), ((2, -3), 1)])
def test_roll_by_a_traced_shift(backend, shift, axis):
    x = np.arange(12.0).reshape(3, 4)
    want = np.roll(x, shift, axis)
    # the gradient of sum(roll(x) * w) is w rolled back
    weights = np.arange(12.0).reshape(3, 4) ** 2
    back = np.roll(weights, tuple(-k for k in np.atleast_1d(shift)), axis)
    xs, ws = backend.put(x), backend.put(weights)

    def f(x, s):
        return fnp.roll(x, tuple(s) if np.ndim(shift) else s, axis)

    s = backend.put(np.asarray(shift))
    np.testing.assert_array_equal(backend.get(ft.jit(f)(xs, s)), want)
    both = ft.vmap(f, in_axes=(None, 0))(xs, backend.put(np.stack([np.asarray(shift), np.zeros_like(shift)])))
    np.testing.assert_array_equal(backend.get(both)[0], want)
    np.testing.assert_array_equal(backend.get(both)[1], x)
    g = ft.jit(ft.grad(lambda x, s: fnp.sum(f(x, s) * ws)))(xs, s)
    np.testing.assert_array_equal(backend.get(g), back)


def test_roll_by_a_traced_non_integer_shift_names_the_shift():
    with pytest.raises(TypeError, match="shift must be an integer scalar"):
        ft.jit(lambda x, s: fnp.roll(x, s))(np.arange(3.0), 1.0)


def test_a_traced_slice_bound_points_to_dynamic_slice():
    x = np.arange(10.0)
    for call in (lambda: ft.jit(lambda x, i: x[i:i + 2])(x, np.array(1)),
                 lambda: ft.vmap(lambda i: fnp.getitem(x, slice(i, None)))(np.array([1, 2])),
                 lambda: ft.jit(lambda x, i: fnp.at(x)[i:].set(0.0))(x, np.array(1))):
        with pytest.raises(ft.errors.TracerConversionError, match=r"lax\.dynamic_slice\(x, \(i,\), \(n,\)\)"):
            call()
    # a bound with a value (eager differentiation) is read as an int
    np.testing.assert_array_equal(ft.grad(lambda x: fnp.sum(x[fnp.argmax(x) - 1:]))(x), [0.0] * 8 + [1.0] * 2)


@pytest.mark.parametrize("mode", ["wrap", "clip"])
def test_choose_with_traced_positions(backend, mode):
    choices = [np.array([1.0, 2.0]), np.array([3.0, 4.0]), np.array([5.0, 6.0])]
    positions = np.array([[4, -1], [0, 2]])
    want = np.choose(positions, choices, mode=mode)
    placed = [backend.put(c) for c in choices]
    ids = backend.put(positions)

    def f(i, *cs):
        return fnp.choose(i, list(cs), mode=mode)

    np.testing.assert_array_equal(backend.get(ft.jit(f)(ids, *placed)), want)
    np.testing.assert_array_equal(backend.get(ft.vmap(f, in_axes=(0,) + (None,) * 3)(ids, *placed)), want)
    g = ft.jit(ft.grad(lambda c, i: fnp.sum(f(i, c, 2 * c, 3 * c))))(placed[0], ids)
    factors = np.choose(positions, [1.0, 2.0, 3.0], mode=mode)  # which multiple of c is read
    np.testing.assert_array_equal(backend.get(g), factors.sum(axis=0))


def test_choose_with_traced_positions_and_mode_raise_names_wrap_and_clip():
    with pytest.raises(ft.errors.UnsupportedError, match="mode='wrap' or mode='clip'"):
        ft.jit(lambda i: fnp.choose(i, [np.ones(2), np.zeros(2)]))(np.array([0, 1]))


@pytest.mark.parametrize("method", ["multiply", "divide", "min", "max"])
def test_combining_updates_at_traced_positions(backend, method):
    """Traced positions, unique or repeated: the same bits as eagerly and as NumPy's ufunc.at
    (every update at a repeated position applies, in order), under jit and vmap, with the same
    derivatives."""
    x = np.array([1.0, -2.0, 3.0, 0.5])
    v = np.array([2.0, 4.0, -0.5])

    def update(x, v, i):
        return getattr(fnp.at(x)[i], method)(v)

    xs, vs = backend.put(x), backend.put(v)
    weights = backend.put(np.arange(1.0, 5.0))
    for positions in (np.array([3, 1, 0]), np.array([1, 3, 1]), np.array([2, 2, 2])):
        want = _ufunc_at(method, x, positions, v)
        np.testing.assert_array_equal(backend.get(update(xs, vs, backend.put(positions))), want)
        np.testing.assert_array_equal(backend.get(ft.jit(update)(xs, vs, backend.put(positions))),
                                      want)
        eager = ft.grad(lambda x, v: fnp.sum(update(x, v, backend.put(positions)) * weights),
                        argnums=(0, 1))(xs, vs)
        staged = ft.jit(ft.grad(lambda x, v, i: fnp.sum(update(x, v, i) * weights),
                                argnums=(0, 1)))(xs, vs, backend.put(positions))
        for a, b in zip(eager, staged):
            np.testing.assert_array_equal(backend.get(b), backend.get(a))
    both = ft.vmap(update, in_axes=(None, None, 0))(
        xs, vs, backend.put(np.array([[3, 1, 0], [2, 0, 2]])))
    np.testing.assert_array_equal(backend.get(both)[0], _ufunc_at(method, x, np.array([3, 1, 0]), v))
    np.testing.assert_array_equal(backend.get(both)[1], _ufunc_at(method, x, np.array([2, 0, 2]), v))


def test_derivatives_of_updates_at_repeated_positions():
    """Hand-computed: a product over repeated positions with a zero factor, a quotient, and a
    maximum whose tie splits the derivative evenly between x and the tied updates."""
    x = np.array([1.0, 2.0, 3.0])
    i = np.array([0, 0, 2, 0])
    u = np.array([2.0, 0.0, 3.0, 5.0])
    mul = ft.jit(lambda x, u, i: fnp.at(x)[i].multiply(u))
    np.testing.assert_array_equal(mul(x, u, i), [0.0, 2.0, 9.0])
    d_x, d_u = ft.jacrev(mul, argnums=(0, 1))(x, u, i)
    np.testing.assert_array_equal(d_x, np.diag([0.0, 1.0, 3.0]))
    # y0 = x0 * u0 * u1 * u3: only the zero factor's derivative survives, x0 * u0 * u3 = 10
    np.testing.assert_array_equal(d_u, [[0, 10, 0, 0], [0, 0, 0, 0], [0, 0, 3, 0]])
    div = ft.jit(lambda x, u, i: fnp.at(x)[i].divide(u))
    w = u + 1.0  # 3, 1, 4, 6: y0 = 1 / 18, y2 = 3 / 4
    np.testing.assert_allclose(div(x, w, i), [1 / 18, 2.0, 0.75], rtol=1e-15)
    d_x, d_u = ft.jacfwd(div, argnums=(0, 1))(x, w, i)
    np.testing.assert_allclose(d_x, np.diag([1 / 18, 1.0, 0.25]), rtol=1e-15)
    np.testing.assert_allclose(d_u[0], [-1 / 54, -1 / 18, 0, -1 / 108], rtol=1e-14)
    np.testing.assert_allclose(d_u[2], [0, 0, -3 / 16, 0], rtol=1e-15)
    top = ft.jit(lambda x, u, i: fnp.at(x)[i].max(u))
    tied = np.array([1.0, 0.5, 3.0, 1.0])  # position 0: x0 = u0 = u3 = 1; position 2: x2 = u2
    d_x, d_u = ft.jacrev(top, argnums=(0, 1))(x, tied, i)
    np.testing.assert_allclose(d_x, np.diag([1 / 3, 1.0, 0.5]), rtol=1e-15)
    np.testing.assert_allclose(d_u, [[1 / 3, 0, 0, 1 / 3], [0, 0, 0, 0], [0, 0, 0.5, 0]], rtol=1e-15)


def test_dividing_integers_at_positions_gives_floats():
    """As JAX does, and as NumPy's true division: never the truncated integers."""
    x = np.arange(5)
    np.testing.assert_array_equal(fnp.at(x)[1].divide(2), [0.0, 0.5, 2.0, 3.0, 4.0])
    out = ft.jit(lambda x, i: fnp.at(x)[i].divide(2))(x, np.array([3, 3]))
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, [0.0, 1.0, 2.0, 0.75, 4.0])


def _ufunc_at(method, x, positions, values):
    out = x.copy()
    {"multiply": np.multiply, "divide": np.divide, "min": np.minimum, "max": np.maximum}[method].at(
        out, positions, values)
    return out


def test_mul_is_multiply_and_subtract_accumulates_repeats():
    x = np.arange(1.0, 4.0)
    np.testing.assert_array_equal(fnp.at(x)[[0, 0]].mul(2.0), [4.0, 2.0, 3.0])
    np.testing.assert_array_equal(ft.jit(lambda x, i: fnp.at(x)[i].subtract(1.0))(x, np.array([0, 0, 2])),
                                  [-1.0, 2.0, 2.0])


def test_power_at_positions_multiplies_the_exponents_of_a_repeat_as_jax():
    """JAX's x.at[i].power(v) is x ** (the product of the exponents landing on each position):
    [64, 3, 4] for exponents 2 and 3 at position 0 of [2, 3, 4], and -8 for exponents 2 and 1/2
    at -8 (not (64) ** 0.5). Values and derivatives from JAX 0.10 where it has them."""
    x = np.array([2.0, 3.0, 4.0])
    twice = np.array([0, 0])
    for f in (lambda x, v, i: fnp.at(x)[i].power(v), ft.jit(lambda x, v, i: fnp.at(x)[i].power(v))):
        np.testing.assert_array_equal(f(x, np.array([2.0, 3.0]), twice), [64.0, 3.0, 4.0])
        np.testing.assert_array_equal(f(x, np.array([2.0, 0.5]), np.array([0, 2])), [4.0, 3.0, 2.0])
        np.testing.assert_array_equal(f(np.array([-8.0]), np.array([2.0, 0.5]), twice), [-8.0])
    np.testing.assert_array_equal(fnp.at(x)[1].power(2.0), [2.0, 9.0, 4.0])
    np.testing.assert_array_equal(fnp.at(np.array([2, 3]))[0].power(3), [8, 3])
    assert fnp.at(x.astype(np.float32))[twice].power(np.array([2.0, 3.0])).dtype == np.float32
    # d/dx x ** 6 = 6 x ** 5 = 192 at 2 (JAX's gradient); the exponents' derivative, which JAX
    # does not have at a repeat: d/da x ** (a b) = b log(x) x ** (a b)
    g = ft.grad(lambda x: fnp.sum(fnp.at(x)[twice].power(np.array([2.0, 3.0]))))(x)
    np.testing.assert_allclose(g, [192.0, 1.0, 1.0], rtol=1e-15)
    g = ft.grad(lambda v: fnp.sum(fnp.at(x)[twice].power(v)))(np.array([2.0, 3.0]))
    np.testing.assert_allclose(g, [3 * np.log(2) * 64, 2 * np.log(2) * 64], rtol=1e-14)
    # an untouched negative entry stays out of the exponents' derivative (no log of it)
    t = ft.jvp(lambda v: fnp.at(np.array([2.0, -1.0]))[twice].power(v), (np.array([1.0, 1.0]),),
               (np.ones(2),))[1]
    np.testing.assert_allclose(t, [2 * 2 * np.log(2), 0.0], rtol=1e-15)
    both = ft.vmap(lambda x, v: fnp.at(x)[twice].power(v))(np.stack([x, x + 1]),
                                                            np.array([[2.0, 3.0], [1.0, 2.0]]))
    np.testing.assert_array_equal(both, [[64.0, 3.0, 4.0], [9.0, 4.0, 5.0]])
    check_grads(lambda x, v: fnp.at(x)[np.array([0, 2, 0])].power(v), (x, np.array([2.0, 0.5, 1.5])),
                order=2)
    check_grads(lambda x, v: fnp.at(x)[np.array([0, 2])].power(v), (x, np.array([2.0, 0.5])), order=2)


def test_apply_at_unique_positions_and_a_repeat_refused():
    x = np.array([2.0, 3.0, 4.0])
    np.testing.assert_allclose(fnp.at(x)[np.array([0, 2])].apply(fnp.sin), [np.sin(2.0), 3.0, np.sin(4.0)],
                               rtol=1e-15)
    np.testing.assert_allclose(ft.jit(lambda x: fnp.at(x)[1:].apply(fnp.exp))(x), [2.0, np.exp(3.0), np.exp(4.0)],
                               rtol=1e-15)
    # func maps each value on its own, as JAX's: v - mean(v) of one number is 0
    np.testing.assert_array_equal(fnp.at(x)[np.array([0, 2])].apply(lambda v: v - fnp.mean(v)), [0.0, 3.0, 0.0])
    g = ft.grad(lambda x: fnp.sum(fnp.at(x)[np.array([2, 0])].apply(fnp.sin)))(x)
    np.testing.assert_allclose(g, [np.cos(2.0), 1.0, np.cos(4.0)], rtol=1e-15)
    check_grads(lambda x: fnp.at(x)[np.array([2, 0])].apply(fnp.sin), (x,), order=2)
    # JAX applies func once per repeat: refused rather than applied once
    with pytest.raises(ValueError, match="the index repeats a position, or is traced"):
        fnp.at(x)[np.array([0, 0])].apply(lambda v: v * 2)
    with pytest.raises(ValueError, match="the index repeats a position, or is traced"):
        ft.jit(lambda x, i: fnp.at(x)[i].apply(fnp.sin))(x, np.array([0, 1]))
    with pytest.raises(ValueError, match=r"func must map a number to a number, but it maps one to shape \(2,\)"):
        fnp.at(x)[np.array([0, 2])].apply(lambda v: fnp.stack([v, v]))


def test_apply_at_one_traced_position_and_with_a_mode():
    """One traced position (a jit argument, a vmapped index) cannot repeat, so ``apply``
    takes it; ``mode=`` treats positions out of range as ``set`` does, eagerly and staged."""
    x = np.array([2.0, 3.0, 4.0])
    want = [2.0, np.sin(3.0), 4.0]
    np.testing.assert_allclose(ft.jit(lambda x, i: fnp.at(x)[i].apply(fnp.sin))(x, 1), want, rtol=1e-15)
    np.testing.assert_allclose(ft.vmap(lambda i: fnp.at(x)[i].apply(fnp.sin))(np.array([1, 2])),
                               [want, [2.0, 3.0, np.sin(4.0)]], rtol=1e-15)
    g = ft.jit(ft.grad(lambda x, i: fnp.sum(fnp.at(x)[i].apply(fnp.sin))))(x, 1)
    np.testing.assert_allclose(g, [1.0, np.cos(3.0), 1.0], rtol=1e-15)
    pair = ft.jit(lambda m, i, j: fnp.at(m)[i, j].apply(lambda v: -v))(np.ones((2, 3)), 1, 2)
    np.testing.assert_array_equal(pair, [[1, 1, 1], [1, 1, -1]])
    for run in (lambda f, i: f(x, i), lambda f, i: ft.jit(f)(x, i)):
        dropped = run(lambda x, i: fnp.at(x)[i].apply(fnp.sin, mode="drop"), 7)
        np.testing.assert_array_equal(dropped, x)
        clipped = run(lambda x, i: fnp.at(x)[i].apply(fnp.sin, mode="clip"), 7)
        np.testing.assert_allclose(clipped, [2.0, 3.0, np.sin(4.0)], rtol=1e-15)
    some = fnp.at(x)[np.array([0, 5])].apply(fnp.sin, mode="fill")
    np.testing.assert_allclose(some, [np.sin(2.0), 3.0, 4.0], rtol=1e-15)
    with pytest.raises(IndexError, match="out of bounds"):
        ft.jit(lambda x, i: fnp.at(x)[i].apply(fnp.sin))(x, 7)


@pytest.mark.parametrize("mode", ["drop", "fill"])
def test_apply_with_several_positions_dropped(mode):
    """Positions out of range are never applied, so several of them make no repeat (in any
    axis, of any sign); repeated positions in range are still refused, and so is an index
    traced as an array, which may repeat."""
    x = np.array([2.0, 3.0, 4.0])
    apply = lambda x: fnp.at(x)[np.array([0, 5, 7, -9])].apply(fnp.sin, mode=mode)
    for run in (apply, ft.jit(apply)):
        np.testing.assert_allclose(run(x), [np.sin(2.0), 3.0, 4.0], rtol=1e-15)
    np.testing.assert_allclose(ft.vmap(apply)(np.stack([x, 2 * x])),
                               [[np.sin(2.0), 3.0, 4.0], [np.sin(4.0), 6.0, 8.0]], rtol=1e-15)
    check_grads(apply, (x,), order=2)
    m = np.arange(6.0).reshape(2, 3)
    rows, cols = np.array([0, 2, 1, 1, 3]), np.array([1, 1, 4, 2, 9])  # (2, 1), (1, 4), (3, 9) dropped
    both = fnp.at(m)[rows, cols].apply(lambda v: -v, mode=mode)
    np.testing.assert_array_equal(both, [[0.0, -1.0, 2.0], [3.0, 4.0, -5.0]])
    np.testing.assert_array_equal(ft.jit(lambda m: fnp.at(m)[rows, cols].apply(lambda v: -v, mode=mode))(m),
                                  both)
    with pytest.raises(ValueError, match="the index repeats a position, or is traced"):
        fnp.at(x)[np.array([0, 5, 0])].apply(fnp.sin, mode=mode)
    with pytest.raises(ValueError, match="the index repeats a position, or is traced"):
        ft.jit(lambda x, i: fnp.at(x)[i].apply(fnp.sin, mode=mode))(x, np.array([5, 7]))
    # 'clip' moves both to the last position: a repeat there, refused
    with pytest.raises(ValueError, match="the index repeats a position, or is traced"):
        fnp.at(x)[np.array([0, 5, 7])].apply(fnp.sin, mode="clip")


@pytest.mark.parametrize("method", ["add", "subtract", "set", "multiply", "max"])
def test_a_python_int_position_passed_to_jit(method):
    """A Python int argument of jit reaches the program as an int, not a 0-d array: every
    update, and the gradient of x[i] (whose transpose adds at i), takes it as a position."""
    x = np.arange(5.0)
    f = ft.jit(lambda x, i: getattr(fnp.at(x)[i], method)(10.0))
    want = getattr(fnp.at(x)[2], method)(10.0)
    np.testing.assert_array_equal(f(x, 2), want)
    np.testing.assert_array_equal(ft.jit(ft.grad(lambda x, i: x[i] * x[i]))(x, 3), [0, 0, 0, 6.0, 0])


def test_positions_out_of_range_raise_naming_the_modes_that_clamp_or_drop():
    """NumPy's rule (raise), eagerly, under jit and under vmap, for reads and writes, and the
    error names JAX's behaviour and the mode= that asks for it: never a write elsewhere."""
    x = np.arange(5.0)
    calls = [
        lambda: fnp.at(x)[np.array([1, 7])].get(),
        lambda: ft.jit(lambda x, i: x[i])(x, np.array([1, -6])),
        lambda: ft.vmap(lambda i: fnp.getitem(x, i))(np.array([1, 9])),
        lambda: fnp.at(x)[7].set(1.0),
        lambda: ft.jit(lambda x, i: x.at[i].set(1.0))(x, 7),
        lambda: ft.jit(lambda x, i: x.at[i].add(1.0))(x, np.array([0, 0, 5])),
        lambda: ft.vmap(lambda x, i: x.at[i].max(1.0))(np.stack([x, x]), np.array([[0], [5]])),
        lambda: fnp.at(x)[np.array([0, 0, -9])].multiply(2.0),
        lambda: fnp.take(x, np.array([5])),
        lambda: ft.jit(lambda i: fnp.take(x, i))(np.array([5])),
    ]
    for call in calls:
        with pytest.raises(IndexError, match=r"out of bounds.*JAX clamps reads and drops writes.*mode='clip'"):
            call()


def test_modes_clip_fill_and_drop_as_jax():
    """JAX's values: a negative position counts from the end once; 'clip' then moves it to the
    nearest end, 'fill' reads fill_value (NaN by default), 'drop' skips the update."""
    x = np.arange(1.0, 6.0)
    i = np.array([1, 7, -1, -7, 3])
    v = np.array([10.0, 20.0, 30.0, 40.0, 50.0])
    cases = [
        (lambda x, v, i: fnp.at(x)[i].get(mode="clip"), [2.0, 5.0, 5.0, 1.0, 4.0]),
        (lambda x, v, i: fnp.at(x)[i].get(mode="fill", fill_value=-1.0), [2.0, -1.0, 5.0, -1.0, 4.0]),
        (lambda x, v, i: fnp.at(x)[i].set(v, mode="drop"), [1.0, 10.0, 3.0, 50.0, 30.0]),
        (lambda x, v, i: fnp.at(x)[i].add(v, mode="drop"), [1.0, 12.0, 3.0, 54.0, 35.0]),
        (lambda x, v, i: fnp.at(x)[i].add(v, mode="clip"), [41.0, 12.0, 3.0, 54.0, 55.0]),
        (lambda x, v, i: fnp.at(x)[i].multiply(v, mode="drop"), [1.0, 20.0, 3.0, 200.0, 150.0]),
        (lambda x, v, i: fnp.at(x)[i].min(v / 20, mode="drop"), [1.0, 0.5, 3.0, 2.5, 1.5]),
    ]
    for f, want in cases:
        for g in (f, ft.jit(f)):
            np.testing.assert_array_equal(g(x, v, i), want)
        both = ft.vmap(f, in_axes=(None, None, 0))(x, v, np.stack([i, i]))
        np.testing.assert_array_equal(both, [want, want])
    assert np.isnan(fnp.at(x)[7].get(mode="fill"))
    assert fnp.at(np.arange(3))[5].get(mode="fill") == np.iinfo(np.int64).min
    grid = np.arange(12.0).reshape(3, 4)
    np.testing.assert_array_equal(fnp.at(grid)[:, np.array([5, 1])].set(-1.0, mode="drop")[:, 1], [-1.0] * 3)
    np.testing.assert_array_equal(fnp.at(grid)[:, np.array([5, 1])].set(-1.0, mode="drop")[:, [0, 2, 3]],
                                  grid[:, [0, 2, 3]])
    np.testing.assert_array_equal(fnp.at(grid)[None, 5, -9].get(mode="clip"), [8.0])
    check_grads(lambda x, v: fnp.at(x)[i].add(v, mode="drop"), (x, v), order=2)
    check_grads(lambda x, v: fnp.at(x)[i].multiply(v / 10, mode="clip"), (x, v), order=2)
    check_grads(ft.jit(lambda x: fnp.at(x)[i].get(mode="fill", fill_value=0.0) ** 2), (x,), order=2)
    with pytest.raises(ValueError, match="mode must be one of"):
        fnp.at(x)[1].get(mode="wrap")


def test_unravel_index_of_traced_positions_out_of_range_clips_as_jax():
    """Eagerly NumPy checks and raises; traced positions cannot be checked, and are converted
    as JAX's unravel_index converts them (negative from the end, then clipped), not wrapped
    around into an unrelated position."""
    flat = np.array([-1, 12, 13, 11, -13, 5, -12])
    want = ([2, 2, 2, 2, 0, 1, 0], [3, 3, 3, 3, 0, 1, 0])
    for f in (ft.jit(lambda i: fnp.unravel_index(i, (3, 4))),
              lambda i: ft.vmap(lambda j: fnp.unravel_index(j, (3, 4)))(i)):
        got = f(flat)
        np.testing.assert_array_equal(got[0], want[0])
        np.testing.assert_array_equal(got[1], want[1])
    with pytest.raises(ValueError, match="out of bounds"):
        fnp.unravel_index(np.array([12]), (3, 4))
    in_range = np.array([0, 5, 11])
    for got, expected in zip(ft.jit(lambda i: fnp.unravel_index(i, (3, 4), order="F"))(in_range),
                             np.unravel_index(in_range, (3, 4), order="F")):
        np.testing.assert_array_equal(got, expected)


def test_a_list_of_positions_holding_a_traced_one():
    """[i, 0] with i traced (a jit argument, a vmapped value) is an index array, as in JAX,
    for getitem, .at[] and take; it was refused as a conversion of the tracer to NumPy."""
    x = np.arange(5.0)
    cases = [(lambda x, i: fnp.getitem(x, ([i, 1],)), lambda i: x[[i, 1]]),
             (lambda x, i: fnp.at(x)[[i, i]].add(1.0), lambda i: fnp.at(x)[np.array([i, i])].add(1.0)),
             (lambda x, i: fnp.take(x, [i, 0]), lambda i: x[[i, 0]]),
             (lambda x, i: fnp.at(x)[[i, -1]].get(), lambda i: x[[i, -1]])]
    for f, want in cases:
        np.testing.assert_array_equal(ft.jit(f)(x, np.array(3)), want(3))
        np.testing.assert_array_equal(ft.vmap(f, in_axes=(None, 0))(x, np.array([3, 4])), [want(3), want(4)])
    np.testing.assert_array_equal(ft.jit(lambda x, i: x.at[[i, 1]].get(mode="fill"))(x, 7), [np.nan, 1.0])
    np.testing.assert_array_equal(ft.vmap(lambda i: fnp.at(x)[[i, 1]].add(1.0, mode="drop"))(np.array([7, 0])),
                                  [[0.0, 2.0, 2.0, 3.0, 4.0], [1.0, 2.0, 2.0, 3.0, 4.0]])
    grad = ft.grad(lambda x: fnp.sum(fnp.getitem(x * 2, [fnp.argmax(x), 0])))(x)
    np.testing.assert_array_equal(grad, [2.0, 0.0, 0.0, 0.0, 2.0])


def test_take_and_the_along_axis_functions_take_jaxs_modes():
    """take's mode='fill' (JAX's default), take_along_axis's and put_along_axis's mode, which
    put_along_axis accepted and ignored: JAX's values, eagerly and under jit."""
    x = np.arange(12.0).reshape(3, 4)
    rows = np.array([[5], [0], [-1]])
    cases = [
        (lambda x, i: fnp.take(x, i[:, 0], axis=1, mode="fill"),
         [[np.nan, 0.0, 3.0], [np.nan, 4.0, 7.0], [np.nan, 8.0, 11.0]]),
        (lambda x, i: fnp.take_along_axis(x, i, axis=1, mode="fill", fill_value=-1.0), [[-1.0], [4.0], [11.0]]),
        (lambda x, i: fnp.take_along_axis(x, i, axis=1, mode="clip"), [[3.0], [4.0], [11.0]]),
        (lambda x, i: fnp.put_along_axis(x, i, -1.0, axis=1, mode="drop"),
         [[0.0, 1.0, 2.0, 3.0], [-1.0, 5.0, 6.0, 7.0], [8.0, 9.0, 10.0, -1.0]]),
        (lambda x, i: fnp.put_along_axis(x, i, -1.0, axis=1, mode="clip"),
         [[0.0, 1.0, 2.0, -1.0], [-1.0, 5.0, 6.0, 7.0], [8.0, 9.0, 10.0, -1.0]]),
    ]
    for f, want in cases:
        for g in (f, ft.jit(f)):
            np.testing.assert_array_equal(g(x, rows), want)
    check_grads(lambda x, v: fnp.put_along_axis(x, rows, v, axis=1, mode="drop"), (x, np.ones((3, 1))), order=2)
    with pytest.raises(IndexError, match="mode='clip'"):
        fnp.put_along_axis(x, rows, -1.0, axis=1)
