"""jit's cache key for pytree arguments: one walk over lists, tuples, dicts, None, arrays and
scalars, which keys calls exactly as their structure and leaf shapes and dtypes do; other
nodes and leaves (bools, tracers, registered types) take the pytree library's path."""
from __future__ import annotations

import collections
import functools

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans import tree
from functrans.api._staging import _walk

RNG = np.random.default_rng(0)


def _leaves(args):
    key, leaves = [], []
    return leaves if _walk(args, key.append, leaves.append) else None


def _counting(fn):
    calls = []

    def counted(*args):
        calls.append(1)
        return fn(*args)

    return ft.jit(counted), calls


ARGS = [
    ([{"w": np.ones((2, 3)), "b": np.zeros(3)}, {"w": np.ones(3)}], np.ones(2), 2.0),
    ({2: np.ones(2), 1: (np.float32(3.0), None, [1, 2.5 + 1j])},),
    ((), [], {}, None),
]


@pytest.mark.parametrize("args", ARGS)
def test_the_walk_gives_the_leaves_of_flatten_in_order(args):
    walked = _leaves(args)
    flat = tree.leaves(args)
    assert walked is not None and len(walked) == len(flat)
    assert all(a is b for a, b in zip(walked, flat))


@pytest.mark.parametrize("args", [
    (np.ones(2), [True]),
    ({"a": np.ones(2), 1: np.ones(2)},),  # keys that do not sort: the library's order
    (collections.OrderedDict(a=np.ones(2)),),
    (collections.namedtuple("P", "x y")(np.ones(2), 1.0),),
])
def test_other_nodes_and_leaves_leave_the_walk(args):
    assert _leaves(args) is None


def test_structures_and_dtypes_key_apart_and_dict_order_does_not():
    f, calls = _counting(lambda p, x: (p["a"] * x, p["b"]))
    a, b = RNG.standard_normal(3), RNG.standard_normal(3)
    out = f({"a": a, "b": b}, 2.0)
    np.testing.assert_array_equal(out[0], a * 2.0)
    f({"b": b, "a": a}, 3.0)  # the same keys in another order; a new float
    assert len(calls) == 1
    f({"a": a, "b": b.astype(np.float32)}, 2.0)
    f({"a": a, "b": b}, 2)  # an int is another signature than a float
    f({"a": a.reshape(1, 3), "b": b}, 2.0)
    assert len(calls) == 4
    g, g_calls = _counting(lambda t: [2.0 * v for v in t])
    as_list, as_tuple = g([a, b]), g((a, b))
    assert len(g_calls) == 2 and type(as_list) is list
    np.testing.assert_array_equal(as_tuple[1], 2.0 * b)
    h, h_calls = _counting(lambda p: p[0] + p[1] if len(p) == 2 else p[0])
    h([a, b])
    h([a])
    assert len(h_calls) == 2


def test_nested_scalars_and_none_run_as_eager_on_both_backends(backend):
    x = backend.put(RNG.standard_normal((4, 3)))

    def fn(p, extra):
        scale, (shift, _), flag = p["scale"], p["pair"], p["none"]
        assert flag is None
        return fnp.tanh(x * scale + shift) * extra[0]

    p = {"scale": 0.5, "pair": (np.float32(1.5), None), "none": None}
    jitted = ft.jit(fn)
    for scale in (0.5, 2.0):
        p["scale"] = scale
        expected = fn(p, [3.0])
        np.testing.assert_array_equal(backend.get(jitted(p, [3.0])), backend.get(expected))
    assert jitted._cache_size() == 1


def test_bools_and_tracers_in_a_pytree_still_work():
    f = ft.jit(lambda p: p["x"] * 2.0 if p["flag"] else p["x"])
    x = np.arange(3.0)
    np.testing.assert_array_equal(f({"x": x, "flag": True}), x * 2.0)
    np.testing.assert_array_equal(f({"x": x, "flag": False}), x)
    grad = ft.grad(lambda x: fnp.sum(ft.jit(lambda p: p[0] * p[1])([x, x])))(x)
    np.testing.assert_array_equal(grad, 2.0 * x)


Point = collections.namedtuple("Point", "x y")


@pytest.mark.parametrize("make", [
    lambda a: a,
    lambda a: (a,),
    lambda a: [a, (a * 2.0, None), {"b": a, "a": [a, ()]}],
    lambda a: {2: a, 1: {"z": a, "y": []}},
    lambda a: (Point(a, a * 3.0), [a]),  # a namedtuple: the pytree library builds it
    lambda a: {"flag": None, True: a},  # a bool key: the pytree library builds it
    lambda a: functools.reduce(lambda t, _: (t,), range(40), a),  # deeper than the built ones
])
def test_outputs_have_the_structure_of_the_eager_function(make):
    x = RNG.standard_normal(3)
    fn = lambda x: make(x * 1.5)
    jitted = ft.jit(fn)
    for _ in range(3):  # the staging call, then replays
        got, expected = jitted(x), fn(x)
        assert tree.structure(got) == tree.structure(expected)
        assert type(got) is type(expected)
        for a, b in zip(tree.leaves(got), tree.leaves(expected)):
            np.testing.assert_array_equal(a, b)
    first, second = jitted(x), jitted(x)
    if tree.leaves(first):  # new containers and new arrays at every call
        assert tree.leaves(first)[0] is not tree.leaves(second)[0]
    assert first is not second or type(first) is np.ndarray
