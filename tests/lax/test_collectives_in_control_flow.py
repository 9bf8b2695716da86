"""Collectives over a named vmap axis inside the loops and branches that vmap batches (scan,
fori_loop, while_loop, cond, switch, checkpoint, custom_vjp): values against NumPy loops over
the whole batch, eagerly and under jit, with JAX's semantics (a batched cond computes every
branch for every example, a batched while_loop runs every example until all are done, the
finished ones' carries frozen); derivatives against finite differences, in both orders of
grad and vmap."""
from __future__ import annotations

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans import errors, lax
from functrans.interpreters.batching import vmap_flat
from functrans.testing import check_grads

X = np.arange(6.0).reshape(3, 2)


def named(f, name="i"):
    return ft.vmap(f, axis_name=name)


def both(f):
    """``f`` eagerly and under jit."""
    return [f, ft.jit(f)]


def test_scan_with_psum_and_pmean_in_the_step():
    def f(v):
        def body(c, _):
            c = c + lax.psum(c, "i")
            return c, lax.pmean(c, "i")
        return lax.scan(body, v, None, length=3)

    c, ys = X.copy(), []
    for _ in range(3):
        c = c + c.sum(0)
        ys.append(np.broadcast_to(c.mean(0), c.shape))
    for g in both(named(f)):
        carry, out = g(X)
        np.testing.assert_allclose(carry, c, rtol=1e-14)
        np.testing.assert_allclose(out, np.stack(ys, 1), rtol=1e-14)  # (examples, steps, 2)


def test_fori_loop_with_axis_index_and_psum():
    def f(v):
        return lax.fori_loop(0, 3, lambda k, c: c * 0.5 + lax.psum(c, "i") * k + lax.axis_index("i"), v)

    c = X.copy()
    for k in range(3):
        c = c * 0.5 + c.sum(0) * k + np.arange(3.0)[:, None]
    for g in both(named(f)):
        np.testing.assert_allclose(g(X), c, rtol=1e-14)


def test_batched_cond_computes_both_branches_for_every_example():
    # JAX's semantics: a collective in a branch combines every example's value of that branch
    f = named(lambda v: lax.cond(v[0] > 2, lambda u: u - lax.pmax(u, "i"),
                                 lambda u: u + lax.psum(u, "i"), v))
    ref = np.where(X[:, :1] > 2, X - X.max(0), X + X.sum(0))
    for g in both(f):
        np.testing.assert_array_equal(g(X), ref)


def test_switch_branches_with_each_collective():
    branches = [lambda u: u + lax.psum(u, "i"), lambda u: lax.all_gather(u, "i")[0] + lax.pmin(u, "i"),
                lambda u: u * lax.axis_index("i")]
    f = named(lambda v: lax.switch(fnp.int32(v[0]) // 2, branches, v))  # examples take 0, 1, 2
    ref = np.stack([X[0] + X.sum(0), X[0] + X.min(0), X[2] * 2])
    for g in both(f):
        np.testing.assert_array_equal(g(X), ref)
    # axis_index alone in a branch (no collective) is a value of the batch, not of the branch
    plain = named(lambda v: lax.cond(v[0] > 1, lambda u: u + 1.0, lambda u: u * lax.axis_index("i"), v))
    np.testing.assert_array_equal(plain(X), [[0, 0], [3, 4], [5, 6]])


def test_while_loop_whose_predicate_is_a_collective_runs_every_example_together():
    f = named(lambda v: lax.while_loop(lambda c: lax.psum(c[0], "i") < 100.0, lambda c: c * 2.0, v))
    for g in both(f):
        np.testing.assert_array_equal(g(X), X * 32)  # 6 -> 192 in five doublings


def test_batched_while_loop_sums_the_frozen_carries_too():
    # each example stops on its own predicate; the pmean in the step keeps averaging over every
    # example's carry, the finished ones' as they were left (JAX's batched while_loop)
    f = named(lambda v: lax.while_loop(lambda c: c[0] < 20.0, lambda c: c + lax.pmean(c, "i"), v))
    c = X + 1.0
    while (c[:, 0] < 20).any():
        c = np.where(c[:, :1] < 20, c + c.mean(0), c)
    for g in both(f):
        np.testing.assert_allclose(g(X + 1.0), c, rtol=1e-14)


def test_a_loop_in_a_branch_runs_every_example_when_it_combines_them():
    # the examples that take the other branch still iterate, as the branch computed for every
    # example does: their carries feed the psum of the examples that take it
    def f(v):
        loop = lambda u: lax.while_loop(lambda c: c[0] < 50.0, lambda c: c + lax.psum(c, "i"), u)
        return lax.cond(v[0] > 3, loop, lambda u: u, v)

    c = X.copy()
    while (c[:, 0] < 50).any():
        c = np.where(c[:, :1] < 50, c + c.sum(0), c)
    for g in both(named(f)):
        np.testing.assert_array_equal(g(X), np.where(X[:, :1] > 3, c, X))


def test_nested_names_in_a_loop():
    xs = np.arange(6.0).reshape(2, 3)

    def step(c, _):
        return c + lax.psum(c, "i") + lax.psum(c, "j") + lax.psum(c, ("i", "j")), None

    f = named(named(lambda v: lax.scan(step, v, None, length=2)[0], "j"))
    c = xs.copy()
    for _ in range(2):
        c = c + c.sum(0) + c.sum(1, keepdims=True) + c.sum()
    for g in both(f):
        np.testing.assert_allclose(g(xs), c, rtol=1e-14)


@pytest.mark.parametrize("inner", ["j", "i"])
def test_a_loop_that_only_the_outer_vmap_batches(inner):
    # psum over "i" in a loop inside a vmap named `inner`, the carry batched by the outer "i"
    # only: with inner "j" it sums over the outer examples; an inner vmap also named "i" is
    # the one the name means, and the carry is the same in its examples (2 copies)
    def f(v):
        loop = lambda: lax.scan(lambda c, _: (c + lax.psum(c, "i"), None), v, None, length=2)[0]
        return named(lambda w: w + loop(), inner)(np.ones(2))

    v = np.arange(3.0)
    ref = v + 15.0 if inner == "j" else 9.0 * v  # v+3 then +12; or 3v then 9v
    for g in both(named(f)):
        np.testing.assert_allclose(g(v), np.broadcast_to((ref + 1.0)[:, None], (3, 2)), rtol=1e-14)


def test_a_loop_that_no_vmap_batches_sums_copies():
    # the carry does not depend on the batch: the loop runs on plain arrays, its psum is that of
    # as many copies as there are examples
    scan = named(lambda v: v + lax.scan(lambda c, _: (c + lax.psum(c, "i"), None), np.ones(2), None,
                                        length=2)[0])
    loop = named(lambda v: v + lax.while_loop(lambda c: c[0] < 10, lambda c: c + lax.psum(c, "i"),
                                              np.ones(2)))
    for f in (scan, loop):
        for g in both(f):
            np.testing.assert_array_equal(g(X), X + 16.0)


def test_derivatives_of_a_loop_against_finite_differences():
    def step(c, _):
        return fnp.sin(c) + lax.psum(c * c, "i") * 0.1, lax.pmean(c, "i")

    def batch(xs):
        carry, ys = named(lambda v: lax.scan(step, v, None, length=3))(xs)
        return carry, ys

    check_grads(batch, (X / 10,), order=1)
    # vmap(grad) transposes psum to psum: the gradient of the sum over the examples
    per_example = lambda v: fnp.sum(lax.scan(step, v, None, length=3)[0])
    total = ft.grad(lambda xs: fnp.sum(named(per_example)(xs)))(X / 10)
    for g in both(named(ft.grad(per_example))):
        np.testing.assert_allclose(g(X / 10), total, rtol=1e-12)


def test_derivatives_through_a_batched_cond_with_a_collective():
    # the examples that take the other branch feed the psum: their derivative counts
    def per_example(v):
        return fnp.sum(lax.cond(v[0] > 2.5, lambda u: u + lax.psum(fnp.sin(u), "i"), lambda u: u * 2.0, v) ** 2)

    total = lambda xs: fnp.sum(named(per_example)(xs))
    check_grads(total, (X,), order=1)
    # the same figures in closed form: taken examples (the last) get u + S, S = sum sin(u)
    out = X[2] + np.sin(X).sum(0)
    ref = 2 * out * np.cos(X) + np.where(X[:, :1] > 2.5, 2 * out, 8 * X)
    for g in both(ft.grad(total)):
        np.testing.assert_allclose(g(X), ref, rtol=1e-12)
    for g in both(named(ft.grad(per_example))):
        np.testing.assert_allclose(g(X), ref, rtol=1e-12)


def test_derivatives_through_a_batched_switch_with_collectives():
    branches = [lambda u: u * lax.psum(u, "i"), lambda u: fnp.sin(u) + lax.pmean(u * u, "i"),
                lambda u: u * 3.0]
    per_example = lambda v: fnp.sum(lax.switch(fnp.int32(v[0]) // 2, branches, v) ** 2)
    total = lambda xs: fnp.sum(named(per_example)(xs))
    check_grads(total, (X + 0.3,), order=1)
    for g in both(named(ft.grad(per_example))):
        np.testing.assert_allclose(g(X + 0.3), ft.grad(total)(X + 0.3), rtol=1e-12)


def test_a_cond_on_a_collective_computes_only_the_taken_branch_in_every_order():
    # the predicate comes out of a psum: the same in every example, so only the taken branch
    # runs, as eagerly; the sqrt of the negative examples in the other branch makes no NaN
    per_example = lambda v: lax.cond(lax.psum(v, "i") > 0, lambda u: fnp.sqrt(u) + lax.psum(u, "i"),
                                     lambda u: 2.0 * u * u, v)
    total = lambda xs: fnp.sum(named(per_example)(xs))
    xs = -np.arange(1.0, 4.0)
    orders = [named(ft.grad(per_example)), named(ft.jit(ft.grad(per_example))),
              ft.jit(named(ft.grad(per_example))), ft.grad(total), ft.jit(ft.grad(total))]
    with np.errstate(invalid="raise"):  # (not even computed)
        for g in orders:
            np.testing.assert_array_equal(g(xs), 4.0 * xs)
    for g in orders:  # the other branch taken: the psum's cotangents of every example
        np.testing.assert_allclose(g(-xs), 0.5 / np.sqrt(-xs) + len(xs), rtol=1e-14)
    second = named(ft.grad(ft.grad(per_example)))
    for g in (second, named(ft.jit(ft.grad(ft.grad(per_example))))):
        np.testing.assert_array_equal(g(xs), [4.0] * 3)
        np.testing.assert_allclose(g(-xs), -0.25 * (-xs) ** -1.5, rtol=1e-14)


def test_second_derivatives_through_a_batched_switch_with_collectives():
    # vmap(grad(grad)) transposes and differentiates the branches before vmap batches them:
    # each example gets its share of every branch's second derivative through the collectives
    branches = [lambda u: u * lax.psum(u, "i"), lambda u: fnp.sin(u) + lax.pmean(u * u, "i"),
                lambda u: u ** 3, lambda u: lax.psum(u * u, "i")]
    per_example = lambda v: lax.switch(fnp.int32(v) % 4, branches, v)
    xs = np.array([0.3, 1.2, 2.5, 4.1, 3.5])
    first = named(ft.grad(per_example))
    summed = lambda z: fnp.sum(first(z))
    check_grads(summed, (xs,), order=1)
    expected = ft.grad(summed)(xs)  # (grad of the batch: vmap batches the cond first)
    for g in (named(ft.grad(ft.grad(per_example))), named(ft.jit(ft.grad(ft.grad(per_example)))),
              ft.jit(named(ft.grad(ft.grad(per_example))))):
        np.testing.assert_allclose(g(xs), expected, rtol=1e-12)


def test_a_collective_of_a_value_shared_by_every_example_in_a_branch_under_jit():
    # w, the same in every example, is a value of the jit outside the vmap: its psum is the
    # sum of copies, computed when the vmap batches the branch
    f = lambda v, w: lax.cond(lax.psum(v, "i") > 0, lambda u, w: u + lax.psum(w, "i"), lambda u, w: u, v, w)
    xs = np.array([1.0, 4.0])
    for g in (ft.vmap(f, in_axes=(0, None), axis_name="i"), ft.jit(ft.vmap(f, in_axes=(0, None), axis_name="i"))):
        np.testing.assert_array_equal(g(xs, 2.0), [5.0, 8.0])


def test_checkpoint_and_custom_vjp_bodies():
    f = lambda v: fnp.sin(v) * lax.psum(v, "i")
    plain = ft.grad(lambda xs: fnp.sum(named(f)(xs)))(X)
    remat = ft.grad(lambda xs: fnp.sum(named(ft.checkpoint(f))(xs)))(X)
    np.testing.assert_allclose(remat, plain, rtol=1e-14)

    @ft.custom_vjp
    def double(u):
        return u * 2.0

    # (the backward rule's psum runs after the vmap has returned, under grad)
    double.defvjp(lambda u: (u * 2.0, None), lambda _, g: (g + lax.pmean(g, "i"),))
    loss = lambda xs: fnp.sum(named(lambda v: lax.scan(lambda c, _: (double(c), None), v, None,
                                                       length=2)[0])(xs))
    np.testing.assert_allclose(ft.grad(loss)(X), np.full(X.shape, 4.0))


def test_jit_of_the_vmap_follows_the_batch_size():
    def ref(x):
        c = x.copy()
        for _ in range(2):
            c = c + c.sum(0) + np.arange(len(x))[:, None]
        return c

    step = lambda c, _: (c + lax.psum(c, "i") + lax.axis_index("i"), None)
    f = lambda v: lax.scan(step, v, None, length=2)[0]
    for g in (ft.jit(named(f)), named(ft.jit(f))):
        for xs in (X, np.arange(8.0).reshape(4, 2)):
            np.testing.assert_allclose(g(xs), ref(xs), rtol=1e-14)


def test_jacobians_of_a_loop_equal_those_of_the_unrolled_steps():
    step = lambda c, _: (fnp.sin(c) * lax.psum(c, "i"), None)
    loop = lambda v: lax.scan(step, v, None, length=2)[0]
    unrolled = lambda v: step(step(v, None)[0], None)[0]
    for transform in (ft.jacfwd, ft.jacrev):
        np.testing.assert_allclose(named(transform(loop))(X / 10), named(transform(unrolled))(X / 10),
                                   rtol=1e-13)
    np.testing.assert_allclose(named(ft.hessian(lambda v: fnp.sum(loop(v))))(X / 10),
                               named(ft.hessian(lambda v: fnp.sum(unrolled(v))))(X / 10), rtol=1e-13)


def test_lax_map_and_odeint_bodies():
    mapped = named(lambda v: lax.map(lambda r: r + lax.psum(r, "i"), v, batch_size=1))
    np.testing.assert_array_equal(mapped(X), X + X.sum(0))
    y0 = np.array([1.0, 2.0, 3.0])  # y' = mean(y) - y: the mean stays, the rest decays
    flow = named(lambda y: ft.integrate.odeint(lambda y, t: lax.pmean(y, "i") - y, y, np.array([0.0, 1.0]))[-1])
    np.testing.assert_allclose(flow(y0), 2.0 + (y0 - 2.0) * np.exp(-1.0), rtol=1e-6)


def test_linear_solve_with_a_collective_in_the_matrix():
    n = len(X)
    A = 2 * np.eye(n) + np.ones((n, n)) / n  # the matvec below, over the examples
    matvec = lambda x: 2.0 * x + lax.pmean(x, "i")
    richardson = lambda mv, r: lax.fori_loop(0, 80, lambda k, s: s + 0.25 * (r - mv(s)), r * 0.0)
    on_blocks = lax.batch_as_block(lambda mv, r: richardson(mv, r))  # (it marks the function)
    block = lambda b: lax.custom_linear_solve(matvec, b, on_blocks, symmetric=True)
    # (an entry of the solution is 0: LAPACK's solve leaves it at a few 1e-17, which differs
    # between BLAS builds, so the comparison also allows an absolute error at rounding level)
    np.testing.assert_allclose(named(block)(X), np.linalg.solve(A, X), rtol=1e-10, atol=1e-14)
    grads = ft.grad(lambda xs: fnp.sum(named(block)(xs) ** 2))(X)
    np.testing.assert_allclose(grads, 2 * np.linalg.solve(A, np.linalg.solve(A, X)), rtol=1e-10,
                               atol=1e-14)
    # a solver run example by example cannot see the other examples
    each = lambda b: lax.custom_linear_solve(matvec, b, richardson, symmetric=True)
    with pytest.raises(errors.BatchAxisError, match="linear_solve, which vmap runs example by example"):
        named(each)(X)


def test_a_rule_that_does_not_say_whose_examples_it_batches_is_refused():
    def f(x):
        outs, _ = vmap_flat(lambda ts: [lax.psum(ts[0] * x, "i")], [np.ones(2)], [0], 2, "a rule")
        return outs[0]

    with pytest.raises(errors.BatchAxisError, match="within=enclosing_batch()"):
        named(f)(np.arange(3.0))
