"""lax.cond and lax.switch against the same choice written with Python's ``if``: values
eagerly, under jit (a traced predicate) and under vmap (batched and unbatched predicates),
derivatives to second order in both modes, compositions with jit, grad, vmap and while_loop,
one equation under jit, and the errors."""
from __future__ import annotations

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans import errors, lax
from functrans.testing import check_grads

# Each case: f(x, choose) where choose(pred_or_index, branches, operands) picks a branch; the
# reference passes Python's choice, the functions under test lax.cond / lax.switch.


def python_choose(index, branches, *operands):
    return branches[int(index)](*operands)


def lax_cond(index, branches, *operands):
    return lax.cond(index, branches[1], branches[0], *operands)


def two_way(x, choose):  # a closed-over array, a scalar and a vector operand
    scale = fnp.cos(x[0])
    return choose(fnp.sum(x) > 0, [lambda x, y: fnp.cos(x) + y * scale,
                                   lambda x, y: fnp.sin(x) * y], x, 2.0)


def pytree(x, choose):  # dict operands and tuple outputs
    ops = {"a": x, "b": x[::-1] * 0.5}
    return choose(x[0] > x[1], [lambda d: (d["a"] * d["b"], fnp.tanh(d["a"])),
                                lambda d: (fnp.exp(d["b"]), d["a"] ** 2)], ops)


def three_way(x, choose):  # switch on an index computed from the data
    index = fnp.argmax(x[:3])
    return choose(index, [lambda x: x ** 2, lambda x: fnp.sin(x) * x[0], lambda x: x / (2.0 + x[1])], x)


CASES = [
    pytest.param(two_way, lax_cond, id="cond"),
    pytest.param(pytree, lax_cond, id="cond_pytree"),
    pytest.param(three_way, lax.switch, id="switch"),
]
POINTS = [np.array([0.5, 1.0, -0.3]), np.array([-0.5, -1.0, 0.4]), np.array([0.1, 0.9, 1.3])]


def _close(a, b, backend, rtol=1e-12):
    for x, y in zip(ft.tree.leaves(backend.get(a)), ft.tree.leaves(backend.get(b))):
        np.testing.assert_allclose(x, y, rtol=rtol, atol=1e-13)


@pytest.mark.parametrize("fn, choose", CASES)
def test_values_eager_jit_and_vmap_match_python_if(fn, choose, backend):
    for x in POINTS:
        xb = backend.put(x)
        expected = fn(xb, python_choose)
        got = fn(xb, choose)
        backend.check_placed(got)
        _close(got, expected, backend)
        _close(ft.jit(lambda x: fn(x, choose))(xb), expected, backend)
    batched = ft.vmap(lambda x: fn(x, choose))(backend.put(np.stack(POINTS)))  # batched predicate
    for i, x in enumerate(POINTS):
        _close(ft.tree.map(lambda b: b[i], batched), fn(backend.put(x), python_choose), backend)


@pytest.mark.parametrize("fn, choose", CASES)
@pytest.mark.parametrize("staged", [False, True], ids=["eager", "jit"])
def test_derivatives_to_second_order(fn, choose, staged, backend):
    f = (lambda x: fn(x, choose))
    for x in POINTS:
        check_grads(ft.jit(f) if staged else f, (backend.put(x),), order=2)


@pytest.mark.parametrize("fn, choose", CASES)
def test_grad_matches_python_if_in_every_composition(fn, choose):
    def loss(f):
        return lambda x: sum(fnp.sum(o ** 2) for o in ft.tree.leaves(f(x)))

    ref = loss(lambda x: fn(x, python_choose))
    got = loss(lambda x: fn(x, choose))
    stack = np.stack(POINTS)
    expected = np.stack([ft.grad(ref)(x) for x in POINTS])
    for transformed in [ft.jit(ft.grad(got)), ft.grad(ft.jit(got))]:
        np.testing.assert_allclose(np.stack([transformed(x) for x in POINTS]), expected, rtol=1e-12)
    np.testing.assert_allclose(ft.vmap(ft.grad(got))(stack), expected, rtol=1e-12)
    np.testing.assert_allclose(ft.jit(ft.vmap(ft.grad(got)))(stack), expected, rtol=1e-12)
    # jit of grad of vmap: the batched predicate inside the differentiated function
    total = lambda xs: fnp.sum(ft.vmap(got)(xs))
    np.testing.assert_allclose(ft.jit(ft.grad(total))(stack), expected, rtol=1e-12)


@pytest.mark.parametrize("fn, choose", CASES)
def test_reverse_over_reverse_under_jit_matches_python_if(fn, choose):
    # the transposed branches of the second backward pass, staged with a traced predicate
    def loss(choose):
        return lambda x: sum(fnp.sum(fnp.sin(o)) for o in ft.tree.leaves(fn(x, choose)))

    for x in POINTS:
        expected = ft.jacrev(ft.grad(loss(python_choose)))(x)
        np.testing.assert_allclose(ft.jit(ft.jacrev(ft.grad(loss(choose))))(x), expected, rtol=1e-12)
        np.testing.assert_allclose(ft.jit(ft.grad(lambda x: ft.grad(loss(choose))(x)[1]))(x), expected[1],
                                   rtol=1e-12)


def test_a_branch_or_loop_returning_a_python_number_can_be_indexed_under_jit():
    # the staged program meets the number itself at run time (x[None] on a float raised)
    x = np.array([-1.0, 4.0])
    pick = lambda x: fnp.asarray(lax.cond(x[0] > 0, lambda x: x[1], lambda x: 2.0, x))[None]
    np.testing.assert_array_equal(ft.jit(pick)(x), [2.0])
    np.testing.assert_array_equal(ft.jit(pick)(-x), [-4.0])
    count = lambda n: fnp.asarray(lax.fori_loop(0, n, lambda i, c: 1.0, 2.0))[None]  # a while_loop
    np.testing.assert_array_equal(ft.jit(count)(3), [1.0])
    np.testing.assert_array_equal(ft.jit(count)(0), [2.0])


def test_vmap_with_an_unbatched_predicate_and_batched_operands():
    def f(x, flag):
        return lax.cond(flag, lambda x: x * 2.0, lambda x: x - 1.0, x)

    xs = np.arange(6.0).reshape(3, 2)
    np.testing.assert_allclose(ft.vmap(f, in_axes=(0, None))(xs, True), xs * 2.0)
    np.testing.assert_allclose(ft.jit(ft.vmap(f, in_axes=(0, None)))(xs, np.bool_(False)), xs - 1.0)
    np.testing.assert_allclose(ft.vmap(ft.jit(f), in_axes=(0, None))(xs, np.bool_(False)), xs - 1.0)


def test_one_equation_under_jit_and_only_the_taken_branch_runs_eagerly():
    calls = []

    def branch(name):
        def run(x):
            calls.append(name)
            return x + 1.0
        return run

    jaxpr = ft.make_jaxpr(lambda x: lax.cond(x > 0, branch("t"), branch("f"), x))(1.0)
    assert [e.prim.name for e in jaxpr.eqns] == ["gt", "cond"]
    calls.clear()
    assert lax.cond(True, branch("t"), branch("f"), 1.0) == 2.0
    assert calls == ["t"]


def test_transpose_of_the_branches_with_a_traced_index_under_linear_transpose():
    def f(x, i):
        return lax.switch(i, [lambda x: 2.0 * x, lambda x: x[::-1], lambda x: -x], x)

    ct = np.array([1.0, 2.0, 3.0])
    for i, expected in [(0, 2.0 * ct), (1, ct[::-1]), (2, -ct), (7, -ct)]:
        transpose = ft.jit(lambda c, i: ft.linear_transpose(lambda x: f(x, i), np.zeros(3))(c))
        np.testing.assert_allclose(transpose(ct, np.int64(i))[0], expected)
        # the staged cond recorded as it is by linear_transpose, its index a value by then
        staged = ft.jit(f)
        np.testing.assert_allclose(ft.linear_transpose(lambda x: staged(x, np.int64(i)), np.zeros(3))(ct)[0],
                                   expected)


def test_switch_index_is_clamped_in_every_mode():
    branches = [lambda x: x + 1.0, lambda x: x * 10.0]
    assert [float(lax.switch(i, branches, 1.0)) for i in (-3, 0, 1, 9)] == [2.0, 2.0, 10.0, 10.0]
    assert [float(lax.switch(np.int64(i), branches, 1.0)) for i in (-3, 9)] == [2.0, 10.0]
    f = ft.jit(lambda i, x: lax.switch(i, branches, x))
    assert [float(f(np.int64(i), 1.0)) for i in (-3, 0, 1, 9)] == [2.0, 2.0, 10.0, 10.0]
    np.testing.assert_allclose(ft.vmap(lambda i: lax.switch(i, branches, 1.0))(np.array([-1, 0, 1, 5])),
                               [2.0, 2.0, 10.0, 10.0])


def test_cond_inside_while_and_while_inside_cond():
    def collatz_steps(n):
        def body(c):
            n, k = c
            return lax.cond(n % 2 == 0, lambda n: n // 2, lambda n: 3 * n + 1, n), k + 1
        return lax.while_loop(lambda c: c[0] != 1, body, (n, 0))[1]

    assert int(ft.jit(collatz_steps)(np.int64(27))) == 111
    np.testing.assert_array_equal(ft.vmap(collatz_steps)(np.array([1, 6, 7])), [0, 8, 16])

    def g(x):
        return lax.cond(x > 1.0, lambda x: lax.while_loop(lambda s: s < 10.0, lambda s: s * 2.0, x),
                        lambda x: x, x)

    np.testing.assert_allclose(ft.vmap(g)(np.array([0.5, 3.0])), [0.5, 12.0])
    np.testing.assert_allclose(ft.jit(ft.vmap(lambda x: ft.jvp(g, (x,), (1.0,))[1]))(np.array([0.5, 3.0])),
                               [1.0, 4.0])


@pytest.mark.parametrize("staged", [False, True], ids=["eager", "jit"])
def test_branches_with_different_outputs_are_named(staged):
    x = np.ones(2)
    pred = ft.jit(lambda x: x[0] > 0) if staged else (lambda x: True)
    run = ft.jit if staged else (lambda f: f)
    if not staged:  # a concrete predicate runs only the taken branch, as Python's if
        assert lax.cond(True, lambda x: x, lambda x: (x, x), x) is x
        return
    with pytest.raises(errors.TreeStructureError, match="true_fun's output.*false_fun's output"):
        run(lambda x: lax.cond(pred(x), lambda x: x, lambda x: (x, x), x))(x)
    with pytest.raises(TypeError, match=r"true_fun's output.*output\[1\].*float64\[2\].*float32\[2\]"):
        run(lambda x: lax.cond(x[0] > 0, lambda x: (x, x), lambda x: (x, x.astype(np.float32)), x))(x)
    with pytest.raises(TypeError, match=r"branches\[1\]'s output.*float64\[3\].*branches\[0\]'s output is"):
        run(lambda x: lax.switch(x[0] > 0, [lambda x: x, lambda x: fnp.ones(3)], x))(x)


def test_predicate_and_index_types():
    with pytest.raises(TypeError, match="pred must be a boolean .*scalar.*bool\\[2\\]"):
        lax.cond(np.array([True, False]), lambda: 1.0, lambda: 2.0)
    with pytest.raises(TypeError, match="index must be an integer scalar"):
        lax.switch(1.0, [lambda: 1.0, lambda: 2.0])
    assert lax.cond(np.float64(2.0), lambda: 1.0, lambda: 2.0) == 1.0  # a number: compared with 0
    assert float(ft.jit(lambda p: lax.cond(p, lambda: 1.0, lambda: 2.0))(np.float64(0.0))) == 2.0


def test_batched_index_with_constant_branches_stays_on_the_device(backend):
    index = backend.put(np.array([0, 1, 2, 1]))
    x = backend.put(np.array([1.0, 2.0, 3.0, 4.0]))
    out = ft.vmap(lambda i, x: lax.switch(i, [lambda x: 1.0, lambda x: x * 2.0, lambda x: 7.0], x))(index, x)
    backend.check_placed(out)
    np.testing.assert_allclose(backend.get(out), [1.0, 4.0, 7.0, 8.0])
    out = ft.vmap(lambda i: lax.switch(i, [lambda: 1.0, lambda: 2.0]))(index)
    backend.check_placed(out)
    np.testing.assert_allclose(backend.get(out), [1.0, 2.0, 2.0, 2.0])


def test_a_batched_cond_warns_only_for_the_values_of_the_examples_that_take_each_branch():
    import warnings

    # log(-1), log(0) and 1 / 0 are the values of examples that take the other branch
    f = lambda v: lax.cond(v > 0, lambda u: fnp.log(u) + 1.0 / u, lambda u: -u, v)
    total = lambda z: fnp.sum(ft.vmap(f)(z))
    xs = np.array([-1.0, 0.0, 4.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for mapped in (ft.vmap(f), ft.jit(ft.vmap(f)), ft.vmap(ft.jit(f))):
            np.testing.assert_allclose(mapped(xs), [1.0, 0.0, np.log(4.0) + 0.25], rtol=1e-15)
        for g in (ft.vmap(ft.grad(f)), ft.jit(ft.vmap(ft.grad(f))), ft.vmap(ft.jit(ft.grad(f))),
                  ft.grad(total), ft.jit(ft.grad(total))):
            np.testing.assert_allclose(g(xs), [-1.0, -1.0, 0.25 - 1.0 / 16], rtol=1e-15)
        # eagerly a branch that no example takes is not computed at all
        never = lambda v: lax.switch(fnp.int32(v > 0), [lambda u: -u, fnp.sqrt, fnp.log], v)
        np.testing.assert_allclose(ft.vmap(never)(xs), [1.0, 0.0, 2.0], rtol=1e-15)
    # a taken branch's own values warn as NumPy does
    g = lambda v: lax.cond(v > -5, fnp.sqrt, lambda u: -u, v)
    for mapped in (ft.vmap(g), ft.jit(ft.vmap(g))):
        with pytest.warns(RuntimeWarning, match="invalid value encountered in sqrt"):
            out = mapped(np.array([-1.0, 4.0]))
        assert np.isnan(out[0]) and out[1] == 2.0
