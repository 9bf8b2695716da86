"""Operations over whole pytrees built on ``functrans.tree.flatten``: mapping with key paths,
reducing, testing all leaves, and swapping an outer structure with an inner one. They are
re-exported by ``functrans.tree`` under JAX's ``jax.tree`` names."""
from __future__ import annotations

import builtins
import functools
from collections.abc import Callable
from typing import Any

from functrans.errors import TreeStructureError
from functrans.tree import (
    IsLeaf,
    KeyPath,
    Leaf,
    PyTree,
    TreeDef,
    _corresponding_leaves,
    _leaf_paths,
    flatten,
    flatten_with_path,
    structure,
)

_NO_INITIALIZER = object()


def leaves_with_path(tree: PyTree, is_leaf: IsLeaf = None) -> list[tuple[KeyPath, Leaf]]:
    """The leaves of a pytree, left to right, each with its key path.

    Args:
        tree: a pytree.
        is_leaf: optional predicate; a subtree for which it returns True is a leaf.

    Returns:
        A list of ``(key_path, leaf)`` pairs, in the order of ``leaves``.

    Example:
        >>> from functrans import tree
        >>> [(tree.keystr(p), x) for p, x in tree.leaves_with_path({'w': [1.0, 2.0]})]
        [("['w'][0]", 1.0), ("['w'][1]", 2.0)]
    """
    return flatten_with_path(tree, is_leaf)[0]


def map_with_path(f: Callable[..., Any], tree: PyTree, *rest: PyTree, is_leaf: IsLeaf = None) -> PyTree:
    """Like ``map``, but ``f`` also receives each leaf's key path as its first argument.

    Args:
        f: called as ``f(key_path, leaf, *corresponding_subtrees_of_rest)``.
        tree: the first pytree; the result has its structure.
        *rest: more pytrees with the structure of ``tree``, or deeper ones that it is a
            prefix of (as in ``map``).
        is_leaf: optional predicate marking subtrees of ``tree`` to treat as leaves.

    Returns:
        A pytree of ``tree``'s structure holding ``f``'s results.

    Raises:
        TreeStructureError: naming the key path of the first difference.

    Example:
        >>> from functrans import tree
        >>> params = {'w': 1.0, 'b': 2.0}
        >>> tree.map_with_path(lambda path, x: 0.0 if tree.keystr(path) == "['b']" else x, params)
        {'b': 0.0, 'w': 1.0}
    """
    leaves_, treedef = flatten(tree, is_leaf)
    all_leaves = _corresponding_leaves(leaves_, treedef, rest, is_leaf, "functrans.tree.map_with_path")
    paths = _leaf_paths(treedef)
    return treedef.unflatten([f(path, *xs) for path, *xs in zip(paths, *all_leaves)])


def reduce(function: Callable[[Any, Any], Any], tree: PyTree, initializer: Any = _NO_INITIALIZER,
           is_leaf: IsLeaf = None) -> Any:
    """Fold ``function`` over the leaves of a pytree, left to right, as ``functools.reduce``.

    Args:
        function: a function of two arguments (the accumulated value and the next leaf).
        tree: a pytree.
        initializer: the starting value; without it, the first leaf (an empty tree then
            raises ``TypeError``, as ``functools.reduce`` does).
        is_leaf: optional predicate; a subtree for which it returns True is a leaf.

    Returns:
        The accumulated value.

    Example:
        >>> import operator
        >>> from functrans import tree
        >>> tree.reduce(operator.add, {'a': 1, 'b': (2, 3)})
        6
    """
    leaves_ = flatten(tree, is_leaf)[0]
    if initializer is _NO_INITIALIZER:
        return functools.reduce(function, leaves_)
    return functools.reduce(function, leaves_, initializer)


def all(tree: PyTree, *, is_leaf: IsLeaf = None) -> bool:
    """Whether every leaf of a pytree is truthy (``True`` for a tree without leaves).

    A leaf that is an array of more than one element is ambiguous as a truth value, as in
    NumPy: reduce it first (``tree.map(lambda x: x.all(), t)``).

    Example:
        >>> from functrans import tree
        >>> tree.all({'a': True, 'b': [1, 2]}), tree.all([True, 0])
        (True, False)
    """
    return builtins.all(flatten(tree, is_leaf)[0])


def transpose(outer_treedef: TreeDef, inner_treedef: TreeDef, pytree_to_transpose: PyTree) -> PyTree:
    """Swap the two levels of a pytree of pytrees: an outer structure whose every leaf is a
    tree of the inner structure becomes an inner structure whose every leaf is a tree of the
    outer structure (a list of dicts into a dict of lists, say).

    Args:
        outer_treedef: the structure of the outer level.
        inner_treedef: the structure of each inner tree (every one must have it).
        pytree_to_transpose: a tree of ``outer_treedef`` with a tree of ``inner_treedef`` at
            each of its leaves.

    Returns:
        The tree of ``inner_treedef`` with a tree of ``outer_treedef`` at each leaf.

    Raises:
        TreeStructureError: if the tree is not the outer structure with the inner one at
            every leaf.

    Example:
        >>> from functrans import tree
        >>> rows = [{'x': 1, 'y': 2}, {'x': 3, 'y': 4}]
        >>> tree.transpose(tree.structure([0, 0]), tree.structure({'x': 0, 'y': 0}), rows)
        {'x': [1, 3], 'y': [2, 4]}
    """
    if not isinstance(outer_treedef, TreeDef) or not isinstance(inner_treedef, TreeDef):
        raise TypeError(
            "functrans.tree.transpose takes (outer_treedef, inner_treedef, tree), the first two "
            f"TreeDefs; got {type(outer_treedef).__name__} and {type(inner_treedef).__name__}. "
            "Build them with functrans.tree.structure, e.g. structure(rows) for the outer level "
            "with placeholder leaves and structure(rows[0]) for the inner one.")
    leaves_, treedef = flatten(pytree_to_transpose)
    n_out, n_in = outer_treedef.num_leaves, inner_treedef.num_leaves
    groups = [leaves_[i * n_in:(i + 1) * n_in] for i in range(n_out)]
    expected = outer_treedef.unflatten([inner_treedef.unflatten(g) for g in groups]) \
        if len(leaves_) == n_out * n_in else None
    if expected is None or structure(expected) != treedef:
        raise TreeStructureError(
            f"functrans.tree.transpose: the tree {treedef} is not the outer structure "
            f"{outer_treedef} with the inner structure {inner_treedef} at each of its "
            f"{n_out} leaves. Pass the structures the tree has: structure of the outer level, "
            "and structure of one inner tree.")
    return inner_treedef.unflatten([outer_treedef.unflatten([g[i] for g in groups]) for i in range(n_in)])
