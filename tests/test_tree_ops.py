"""functrans.tree's whole-tree operations under JAX's names: map_with_path, leaves_with_path,
reduce, all and transpose, against plain-Python references on generated trees."""
from __future__ import annotations

import functools
import operator
from typing import NamedTuple

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from functrans import tree
from functrans.errors import TreeStructureError


class Pair(NamedTuple):
    a: object
    b: object


leaves_st = st.integers(-5, 5)
pytrees = st.recursive(
    leaves_st,
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.tuples(children, children),
        st.dictionaries(st.sampled_from("abc"), children, max_size=3),
        st.builds(Pair, children, children),
    ),
    max_leaves=8,
)


@given(pytrees)
def test_leaves_with_path_pairs_each_leaf_with_the_path_flatten_with_path_gives(t):
    pairs = tree.leaves_with_path(t)
    assert [x for _, x in pairs] == tree.leaves(t)
    assert pairs == tree.flatten_with_path(t)[0]


@given(pytrees)
def test_map_with_path_passes_each_leafs_own_path(t):
    out = tree.map_with_path(lambda path, x, y: (tree.keystr(path), x + y), t, t)
    assert tree.structure(out, is_leaf=lambda x: isinstance(x, tuple) and len(x) == 2 and isinstance(x[0], str)) \
        == tree.structure(t)
    expected = [(tree.keystr(p), 2 * x) for p, x in tree.leaves_with_path(t)]
    got = tree.leaves(out, is_leaf=lambda x: isinstance(x, tuple) and len(x) == 2 and isinstance(x[0], str))
    assert got == expected


def test_map_with_path_names_the_mismatch():
    with pytest.raises(TreeStructureError, match=r"\['b'\].*rest\[0\]"):
        tree.map_with_path(lambda p, x, y: x, {"a": 1, "b": (2, 3)}, {"a": 1, "b": 2})


def test_map_with_path_passes_the_subtree_of_a_deeper_tree():
    # As JAX: the first tree is a prefix of the second, whose subtree at each leaf is passed.
    out = tree.map_with_path(lambda p, x, y: (tree.keystr(p), x, y), {"a": 1, "b": 2}, {"a": 1, "b": (2, [3])})
    assert out == {"a": ("['a']", 1, 1), "b": ("['b']", 2, (2, [3]))}


def test_map_with_path_respects_is_leaf():
    out = tree.map_with_path(lambda p, x: tree.keystr(p), {"a": (1, 2)}, is_leaf=lambda x: isinstance(x, tuple))
    assert out == {"a": "['a']"}


@given(pytrees)
def test_reduce_is_functools_reduce_over_the_leaves(t):
    leaves = tree.leaves(t)
    assert tree.reduce(operator.add, t, 100) == functools.reduce(operator.add, leaves, 100)
    if leaves:
        assert tree.reduce(operator.sub, t) == functools.reduce(operator.sub, leaves)


def test_reduce_of_an_empty_tree_without_initializer_raises_as_functools():
    with pytest.raises(TypeError):
        tree.reduce(operator.add, {"a": None})
    assert tree.reduce(operator.add, {"a": None}, 0) == 0


def test_reduce_with_is_leaf_folds_subtrees():
    assert tree.reduce(lambda acc, x: acc + [x], {"a": [1, 2], "b": 3}, [], is_leaf=lambda x: isinstance(x, list)) \
        == [[1, 2], 3]


@given(pytrees)
def test_all_is_builtins_all_over_the_leaves(t):
    assert tree.all(t) == all(tree.leaves(t))


def test_all_on_arrays_and_empty_trees():
    assert tree.all({"a": None, "b": []})
    assert tree.all([np.bool_(True), np.array(1)])
    assert not tree.all([True, np.array(0.0)])
    with pytest.raises(ValueError, match="ambiguous"):
        tree.all([np.array([True, False])])


def test_transpose_swaps_outer_and_inner_levels():
    rows = [{"x": 1, "y": (2, 3)}, {"x": 4, "y": (5, 6)}, {"x": 7, "y": (8, 9)}]
    outer, inner = tree.structure([0, 0, 0]), tree.structure(rows[0])
    cols = tree.transpose(outer, inner, rows)
    assert cols == {"x": [1, 4, 7], "y": ([2, 5, 8], [3, 6, 9])}
    assert tree.transpose(inner, outer, cols) == rows


@given(pytrees, pytrees)
def test_transpose_twice_is_the_identity(outer_t, inner_t):
    outer, inner = tree.structure(outer_t), tree.structure(inner_t)
    nested = outer.unflatten([inner.unflatten(range(k * inner.num_leaves, (k + 1) * inner.num_leaves))
                              for k in range(outer.num_leaves)])
    swapped = tree.transpose(outer, inner, nested)
    assert tree.structure(swapped) == tree.structure(
        inner.unflatten([outer.unflatten([0] * outer.num_leaves)] * inner.num_leaves))
    assert tree.transpose(inner, outer, swapped) == nested


def test_transpose_errors_name_the_structures_and_the_fix():
    rows = [{"x": 1, "y": 2}, {"x": 3}]
    with pytest.raises(TreeStructureError, match="not the outer structure"):
        tree.transpose(tree.structure([0, 0]), tree.structure({"x": 0, "y": 0}), rows)
    with pytest.raises(TreeStructureError, match="not the outer structure"):
        tree.transpose(tree.structure([0, 0]), tree.structure([0, 0]), [[1, 2], (3, 4)])
    with pytest.raises(TypeError, match="structure"):
        tree.transpose(tree.structure([0, 0]), None, rows)
