"""Reverse mode walks a list, not a recursion: a chain of a hundred thousand primitives (a
hundred times Python's default recursion limit) differentiates without RecursionError (and the
cost grows linearly; see bench/ for timings)."""
import sys

import numpy as np

import functrans as ft
from functrans.primitives.elementwise import mul_p


def test_gradient_of_a_chain_far_deeper_than_the_recursion_limit():
    n = 100_000
    factor = np.float64(1.0 + 1e-6)

    def chain(x):
        bind = mul_p.bind
        for _ in range(n):
            x = bind(x, factor)
        return x

    assert sys.getrecursionlimit() < n
    value, g = ft.value_and_grad(chain)(np.float64(2.0))
    np.testing.assert_allclose(value, 2.0 * factor**n, rtol=1e-9)
    np.testing.assert_allclose(g, factor**n, rtol=1e-9)


def test_deeply_nested_pytree_input():
    depth = 50_000
    tree = 1.0
    for _ in range(depth):
        tree = [tree]

    def f(t):
        while isinstance(t, list):
            t = t[0]
        return t * 3.0
    g = ft.grad(f)(tree)
    for _ in range(depth):
        g = g[0]
    assert float(g) == 3.0
