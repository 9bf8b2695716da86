"""Tests for functrans.tree: round trips, node types, key paths, errors, deep trees."""
from __future__ import annotations

import collections
import dataclasses
import doctest
import pickle
from typing import NamedTuple

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import functrans as ft
import functrans.numpy as fnp
import functrans.tree
from functrans import tree
from functrans.errors import TreeStructureError

# Twenty times Python's default recursion limit: a recursive walk fails long before this depth.
DEEP = 20_000


class Point(NamedTuple):
    x: object
    y: object


# ----------------------------------------------------------------------------------------
# An independent, recursive reference for the leaf order, and a type-exact comparison.
# (Recursion is fine here: generated trees are shallow.)
# ----------------------------------------------------------------------------------------


def reference_leaves(t) -> list:
    if t is None:
        return []
    if type(t) in (list, tuple, Point):
        return [leaf for child in t for leaf in reference_leaves(child)]
    if type(t) is dict:
        return [leaf for k in sorted(t) for leaf in reference_leaves(t[k])]
    if type(t) is collections.OrderedDict:
        return [leaf for child in t.values() for leaf in reference_leaves(child)]
    return [t]


def assert_identical(a, b) -> None:
    """Same types all the way down, same values, dicts in sorted key order."""
    assert type(a) is type(b), (a, b)
    if type(a) in (list, tuple, Point):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            assert_identical(x, y)
    elif type(a) is dict:
        assert list(b) == sorted(a), "dicts are rebuilt in sorted key order"
        for k in a:
            assert_identical(a[k], b[k])
    elif type(a) is collections.OrderedDict:
        assert list(a) == list(b), "OrderedDict keeps its insertion order"
        for k in a:
            assert_identical(a[k], b[k])
    else:
        assert a == b


keys = st.text(alphabet="abcxyz", min_size=1, max_size=3)
pytrees = st.recursive(
    st.one_of(st.integers(-1000, 1000), st.text(alphabet="pq", max_size=2), st.none()),
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.lists(children, max_size=4).map(tuple),
        st.dictionaries(keys, children, max_size=4),
        st.builds(Point, children, children),
        st.dictionaries(keys, children, max_size=3).map(
            lambda d: collections.OrderedDict(reversed(list(d.items())))
        ),
    ),
    max_leaves=20,
)


# ----------------------------------------------------------------------------------------
# Round trips over generated trees
# ----------------------------------------------------------------------------------------


@settings(derandomize=True, max_examples=300, deadline=None)
@given(pytrees)
def test_flatten_matches_reference_and_round_trips(t):
    leaves, treedef = tree.flatten(t)
    assert leaves == reference_leaves(t)
    assert treedef.num_leaves == len(leaves)
    rebuilt = treedef.unflatten(leaves)
    assert_identical(t, rebuilt)
    assert tree.structure(rebuilt) == treedef
    assert hash(tree.structure(rebuilt)) == hash(treedef)
    assert tree.unflatten(treedef, leaves) == rebuilt
    assert tree.leaves(t) == leaves


@settings(derandomize=True, max_examples=200, deadline=None)
@given(pytrees)
def test_map_and_paths_agree_with_leaves(t):
    leaves, treedef = tree.flatten(t)
    doubled = tree.map(lambda x: x * 2, t)
    assert tree.structure(doubled) == treedef
    assert tree.leaves(doubled) == [x * 2 for x in leaves]
    pairs, treedef2 = tree.flatten_with_path(t)
    assert treedef2 == treedef
    assert [leaf for _, leaf in pairs] == leaves
    for path, leaf in pairs:  # following each path from the root reaches its leaf
        node = t
        for key in path:
            if isinstance(key, tree.GetAttrKey):
                node = getattr(node, key.name)
            elif isinstance(key, tree.DictKey):
                node = node[key.key]
            else:
                node = node[key.idx]
        assert node is leaf


@settings(derandomize=True, max_examples=200, deadline=None)
@given(pytrees, st.integers(0, 10**6))
def test_mismatch_names_the_changed_leaf(t, pick):
    leaves, treedef = tree.flatten(t)
    if not leaves:
        return
    i = pick % len(leaves)
    path = tree.flatten_with_path(t)[0][i][0]
    changed = list(leaves)
    changed[i] = (leaves[i], leaves[i])  # a leaf becomes a tuple node
    other = treedef.unflatten(changed)
    where = f"at {tree.keystr(path)}" if path else "at the root"
    expected = (
        f"tree structure mismatch {where}: tuple of length 2 "
        f"vs a leaf ({type(leaves[i]).__name__})"
    )
    with pytest.raises(TreeStructureError) as info:
        tree.map(lambda a, b: a, other, t)
    assert str(info.value).startswith(expected)
    # The other way round, t is a prefix of other: f receives other's subtree at the leaf.
    calls: list = []
    out = tree.map(lambda a, b: calls.append((a, b)) or len(calls), t, other)
    assert tree.leaves(out) == list(range(1, len(leaves) + 1))
    assert [a for a, _ in calls] == leaves
    assert [b for _, b in calls] == changed  # the tuple arrives whole at leaf i


# ----------------------------------------------------------------------------------------
# Node types
# ----------------------------------------------------------------------------------------


def test_none_is_an_empty_subtree():
    assert tree.flatten(None) == ([], tree.structure(None))
    assert tree.structure(None).unflatten([]) is None
    leaves, treedef = tree.flatten({"a": None, "b": 1, "c": [None, 2]})
    assert leaves == [1, 2]
    assert repr(treedef) == "PyTreeDef({'a': None, 'b': *, 'c': [None, *]})"
    assert treedef.unflatten([10, 20]) == {"a": None, "b": 10, "c": [None, 20]}
    assert tree.map(lambda x: x + 1, [None, 1]) == [None, 2]
    # None differs from an empty list or tuple
    assert tree.structure(None) != tree.structure([])
    assert tree.structure(None) != tree.structure(())


def test_dict_children_in_sorted_key_order_and_rebuilt_sorted():
    leaves, treedef = tree.flatten({"w": 1, "b": 2, "a": 3})
    assert leaves == [3, 2, 1]
    rebuilt = treedef.unflatten(["A", "B", "W"])
    assert list(rebuilt.items()) == [("a", "A"), ("b", "B"), ("w", "W")]
    assert tree.structure({"b": 0, "a": 0}) == tree.structure({"a": 0, "b": 0})
    assert tree.structure({"a": 0}) != tree.structure({"b": 0})


def test_dict_with_unorderable_keys_flattens_deterministically():
    one = {1: "int", "a": "str", (2,): "tuple"}
    other = {(2,): "tuple", "a": "str", 1: "int"}
    assert tree.flatten(one) == tree.flatten(other)
    assert sorted(tree.leaves(one)) == ["int", "str", "tuple"]
    assert tree.structure(one).unflatten(tree.leaves(one)) == one


def test_namedtuple():
    leaves, treedef = tree.flatten(Point(1, (2, 3)))
    assert leaves == [1, 2, 3]
    assert repr(treedef) == "PyTreeDef(Point(x=*, y=(*, *)))"
    rebuilt = treedef.unflatten([4, 5, 6])
    assert type(rebuilt) is Point and rebuilt == Point(4, (5, 6))
    assert treedef != tree.structure((1, (2, 3)))  # a namedtuple is not a plain tuple
    paths = [tree.keystr(p) for p, _ in tree.flatten_with_path(Point(1, (2, 3)))[0]]
    assert paths == [".x", ".y[0]", ".y[1]"]


def test_ordered_dict_keeps_insertion_order():
    od = collections.OrderedDict([("z", 1), ("a", 2)])
    leaves, treedef = tree.flatten(od)
    assert leaves == [1, 2]
    rebuilt = treedef.unflatten([3, 4])
    assert type(rebuilt) is collections.OrderedDict
    assert list(rebuilt.items()) == [("z", 3), ("a", 4)]
    assert treedef != tree.structure(collections.OrderedDict([("a", 2), ("z", 1)]))
    assert treedef != tree.structure({"z": 1, "a": 2})
    assert repr(treedef) == "PyTreeDef(OrderedDict({'z': *, 'a': *}))"


def test_defaultdict_keeps_its_factory_and_sorts_keys():
    dd = collections.defaultdict(list, {"b": 1, "a": 2})
    leaves, treedef = tree.flatten(dd)
    assert leaves == [2, 1]
    rebuilt = treedef.unflatten([5, 6])
    assert type(rebuilt) is collections.defaultdict
    assert rebuilt.default_factory is list
    assert dict(rebuilt) == {"a": 5, "b": 6}
    assert treedef != tree.structure(collections.defaultdict(int, {"b": 1, "a": 2}))
    assert repr(treedef) == "PyTreeDef(defaultdict(list, {'a': *, 'b': *}))"


def test_other_objects_are_leaves():
    class Tracer:  # any class functrans does not know is a leaf
        pass

    class MyDict(dict):  # subclasses of node types are leaves unless registered
        pass

    arr = np.arange(3.0)
    tracer, sub = Tracer(), MyDict(a=1)
    leaves = tree.leaves([arr, tracer, sub, 1.5, "s", np.float32(2)])
    assert leaves[0] is arr and leaves[1] is tracer and leaves[2] is sub
    assert leaves[3:] == [1.5, "s", np.float32(2)]
    assert tree.structure(arr) == tree.structure(1.0)
    assert tree.structure(arr).unflatten([7]) == 7


def test_register_custom_class():
    class Pair:
        def __init__(self, a, b):
            self.a, self.b = a, b

    tree.register(Pair, lambda p: ((p.a, p.b), "tag"), lambda aux, ch: Pair(*ch))
    leaves, treedef = tree.flatten({"p": Pair(1, [2, 3])})
    assert leaves == [1, 2, 3]
    assert repr(treedef) == "PyTreeDef({'p': CustomNode(Pair['tag'], [*, [*, *]])})"
    rebuilt = treedef.unflatten([4, 5, 6])["p"]
    assert type(rebuilt) is Pair and rebuilt.a == 4 and rebuilt.b == [5, 6]
    paths = [tree.keystr(p) for p, _ in tree.flatten_with_path(Pair(1, 2))[0]]
    assert paths == ["[0]", "[1]"]
    with pytest.raises(ValueError, match="already a pytree node type"):
        tree.register(Pair, lambda p: ((), None), lambda aux, ch: Pair(0, 0))
    with pytest.raises(ValueError, match="already a pytree node type"):
        tree.register(dict, lambda d: ((), None), lambda aux, ch: {})


def test_register_after_a_type_was_seen_as_leaf():
    class Box:
        def __init__(self, v):
            self.v = v

    assert len(tree.leaves([Box(1)])) == 1  # remembered as a leaf type
    tree.register(Box, lambda b: ([b.v], None), lambda aux, ch: Box(*ch))
    assert tree.leaves([Box(1), Box((2, 3))]) == [1, 2, 3]


def test_register_with_aux_data_distinguishes_structures():
    class Scaled:
        def __init__(self, value, scale):
            self.value, self.scale = value, scale

    tree.register(
        Scaled, lambda s: ([s.value], s.scale), lambda scale, ch: Scaled(ch[0], scale)
    )
    assert tree.structure(Scaled(1, 2.0)) == tree.structure(Scaled(5, 2.0))
    assert tree.structure(Scaled(1, 2.0)) != tree.structure(Scaled(1, 3.0))
    with pytest.raises(TreeStructureError, match="aux data 2.0"):
        tree.map(lambda a, b: a, Scaled(1, 2.0), Scaled(1, 3.0))


def test_register_dataclass_with_static_field():
    @tree.register_dataclass
    @dataclasses.dataclass
    class Linear:
        weight: object
        bias: object
        activation: str = dataclasses.field(default="relu", metadata={"static": True})

        def __post_init__(self):
            if not isinstance(self.weight, np.ndarray):
                raise TypeError("weight must be an array")

    layer = Linear(np.ones(2), np.zeros(2))
    leaves, treedef = tree.flatten(layer)
    assert len(leaves) == 2 and leaves[0] is layer.weight and leaves[1] is layer.bias
    assert repr(treedef) == "PyTreeDef(Linear(weight=*, bias=*))"
    # unflatten does not run __post_init__, so non-array leaves are fine
    rebuilt = treedef.unflatten(["w", "b"])
    assert (rebuilt.weight, rebuilt.bias, rebuilt.activation) == ("w", "b", "relu")
    other = Linear(np.ones(2), np.zeros(2), activation="tanh")
    assert tree.structure(other) != treedef
    with pytest.raises(TreeStructureError, match="aux data"):
        tree.map(lambda a, b: a, layer, other)
    params = {"layers": [layer]}
    paths = [tree.keystr(p) for p, _ in tree.flatten_with_path(params)[0]]
    assert paths == ["['layers'][0].weight", "['layers'][0].bias"]


def test_register_class_uses_the_class_own_flatten_and_unflatten():
    @tree.register_class
    class Scaled:
        def __init__(self, x, scale):
            self.x, self.scale = x, scale

        def tree_flatten(self):
            return (self.x,), self.scale

        @classmethod
        def tree_unflatten(cls, scale, children):
            return cls(children[0], scale)

    s = Scaled({"w": np.ones(2)}, "tag")
    assert tree.leaves(s)[0] is s.x["w"]
    assert tree.structure(s) != tree.structure(Scaled({"w": 1.0}, "other"))
    g = ft.grad(lambda s: fnp.sum(s.x["w"] ** 2))(s)
    assert type(g) is Scaled and g.scale == "tag"
    np.testing.assert_array_equal(g.x["w"], [2.0, 2.0])
    with pytest.raises(TypeError, match="tree_flatten"):
        tree.register_class(type("NoMethods", (), {}))


def test_register_dataclass_with_explicit_data_and_meta_fields():
    @dataclasses.dataclass
    class Layer:
        w: np.ndarray
        name: str
        b: float

    tree.register_dataclass(Layer, data_fields=["w", "b"], meta_fields=["name"])
    layer = Layer(np.ones(2), "dense", 3.0)
    assert tree.leaves(layer)[1] == 3.0 and len(tree.leaves(layer)) == 2
    doubled = tree.map(lambda v: v * 2, layer)
    assert doubled.name == "dense" and doubled.b == 6.0
    with pytest.raises(ValueError, match="each field of the dataclass once"):
        tree.register_dataclass(dataclasses.dataclass(type("Other", (), {"__annotations__": {"a": int}})),
                                data_fields=["a", "a"], meta_fields=[])


def test_register_frozen_dataclass_and_rejects_non_dataclass():
    @tree.register_dataclass
    @dataclasses.dataclass(frozen=True)
    class State:
        count: int
        mu: tuple

    s = tree.map(lambda x: x + 1, State(1, (2, 3)))
    assert s == State(2, (3, 4))
    with pytest.raises(TypeError, match="expects a dataclass"):
        tree.register_dataclass(int)


# ----------------------------------------------------------------------------------------
# map, is_leaf, paths
# ----------------------------------------------------------------------------------------


def test_map_over_several_trees():
    params = {"w": np.array([1.0, 2.0]), "b": 3.0}
    grads = {"w": np.array([0.5, 0.5]), "b": 1.0}
    lrs = {"w": 2.0, "b": 0.5}
    out = tree.map(lambda p, g, lr: p - lr * g, params, grads, lrs)
    assert list(out) == ["b", "w"]
    np.testing.assert_array_equal(out["w"], [0.0, 1.0])
    assert out["b"] == 2.5


def test_map_leaves_inputs_untouched():
    params = {"a": [1, 2]}
    out = tree.map(lambda x: x, params)
    assert out == params and out is not params and out["a"] is not params["a"]


def test_is_leaf():
    t = {"a": (1, 2), "b": [(3, 4), 5]}
    leaves, treedef = tree.flatten(t, is_leaf=lambda x: type(x) is tuple)
    assert leaves == [(1, 2), (3, 4), 5]
    assert repr(treedef) == "PyTreeDef({'a': *, 'b': [*, *]})"
    total = tree.map(lambda x: sum(x) if type(x) is tuple else x, t, is_leaf=lambda x: type(x) is tuple)
    assert total == {"a": 3, "b": [7, 5]}
    assert tree.leaves(t, is_leaf=lambda x: x is t) == [t]  # applies to the root too
    assert tree.leaves([None, 1], is_leaf=lambda x: x is None) == [None, 1]
    paths, _ = tree.flatten_with_path(t, is_leaf=lambda x: type(x) is tuple)
    assert [(tree.keystr(p), v) for p, v in paths] == [
        ("['a']", (1, 2)),
        ("['b'][0]", (3, 4)),
        ("['b'][1]", 5),
    ]


def test_keystr_and_key_entries():
    path = (tree.DictKey("layers"), tree.SequenceKey(0), tree.GetAttrKey("weight"))
    assert tree.keystr(path) == "['layers'][0].weight"
    assert tree.keystr(()) == ""
    assert tree.DictKey(0) != tree.SequenceKey(0)
    assert hash(tree.DictKey("a")) == hash(tree.DictKey("a"))
    pairs, _ = tree.flatten_with_path({"layers": [Point(1, 2)], 3: "x"})
    assert [(tree.keystr(p), v) for p, v in pairs] == [
        ("[3]", "x"),
        ("['layers'][0].x", 1),
        ("['layers'][0].y", 2),
    ]
    assert tree.flatten_with_path(7)[0] == [((), 7)]


# ----------------------------------------------------------------------------------------
# TreeDef
# ----------------------------------------------------------------------------------------


def test_treedef_properties():
    treedef = tree.structure({"a": [1, (2, None)], "b": 3})
    assert treedef.num_leaves == 3
    assert treedef.num_nodes == 7  # dict, list, tuple, None and 3 leaves
    assert repr(treedef) == "PyTreeDef({'a': [*, (*, None)], 'b': *})"
    assert treedef.children() == [tree.structure([1, (2, None)]), tree.structure(3)]
    assert tree.structure(5).children() == []
    assert repr(tree.structure((1,))) == "PyTreeDef((*,))"
    assert repr(tree.structure(())) == "PyTreeDef(())"
    assert {treedef: "cached"}[tree.structure({"b": 0, "a": [0, (0, None)]})] == "cached"
    assert treedef != "not a treedef"
    with pytest.raises(AttributeError, match="immutable"):
        treedef.num_leaves = 4
    with pytest.raises(AttributeError, match="immutable"):
        treedef._nodes = ()
    assert pickle.loads(pickle.dumps(treedef)) == treedef


def test_unflatten_accepts_any_iterable_of_leaves():
    treedef = tree.structure([1, (2, 3)])
    assert treedef.unflatten(iter("abc")) == ["a", ("b", "c")]
    assert treedef.unflatten(("a", "b", "c")) == ["a", ("b", "c")]


# ----------------------------------------------------------------------------------------
# Errors
# ----------------------------------------------------------------------------------------


def test_mismatch_message_names_path_and_both_sides():
    with pytest.raises(TreeStructureError) as info:
        tree.map(lambda a, b: a, {"a": 1, "b": [1, (2, 3)]}, {"a": 1, "b": [1, (2,)]})
    message = str(info.value)
    assert message.startswith(
        "tree structure mismatch at ['b'][1]: tuple of length 2 vs tuple of length 1 "
        "(the first tree vs rest[0])."
    )
    assert "Change rest[0] at ['b'][1] to match the first tree" in message
    assert isinstance(info.value, ValueError)


def test_mismatch_in_dict_keys_lists_the_differences():
    with pytest.raises(TreeStructureError) as info:
        tree.map(lambda a, b, c: a, {"a": 1, "b": 2}, {"a": 1, "b": 2}, {"a": 1, "c": 2})
    assert str(info.value).startswith(
        "tree structure mismatch at the root: dict with keys ['a', 'b'] vs dict with keys "
        "['a', 'c'] (the first tree vs rest[1]); keys only in the first tree: ['b'], "
        "only in rest[1]: ['c']."
    )


def test_mismatch_between_kinds():
    cases = [
        ([1, 2], (1, 2), "at the root: list of length 2 vs tuple of length 2"),
        ({"p": Point(1, 2)}, {"p": (1, 2)}, "at ['p']: namedtuple Point vs tuple of length 2"),
        ([None], [1], "at [0]: None vs a leaf (int)"),
        ([[1]], [np.ones(2)], "at [0]: list of length 1 vs a leaf (ndarray)"),
    ]
    for a, b, expected in cases:
        with pytest.raises(TreeStructureError) as info:
            tree.map(lambda x, y: x, a, b)
        assert str(info.value).startswith(f"tree structure mismatch {expected} ")


def test_assert_same_structure_uses_the_given_names():
    tree.assert_same_structure({"w": 1}, {"w": np.ones(3)})  # leaves may differ freely
    with pytest.raises(TreeStructureError) as info:
        tree.assert_same_structure((1, 2), (1,), names=("primals", "tangents"))
    assert str(info.value).startswith(
        "tree structure mismatch at the root: tuple of length 2 vs tuple of length 1 "
        "(primals vs tangents).\ntangents must have the structure of primals"
    )


def test_unflatten_with_wrong_number_of_leaves():
    treedef = tree.structure({"a": 1, "b": (2, 3)})
    with pytest.raises(TreeStructureError) as info:
        treedef.unflatten([1, 2])
    assert str(info.value).startswith(
        "unflatten got 2 leaves, but the structure PyTreeDef({'a': *, 'b': (*, *)}) has 3. "
        "Pass exactly one leaf per * in the structure"
    )
    with pytest.raises(TreeStructureError, match="got 4 leaves.*has 3"):
        tree.unflatten(treedef, [1, 2, 3, 4])
    with pytest.raises(TreeStructureError, match="got 1 leaves.*has 0"):
        tree.structure(None).unflatten([1])


def test_unflatten_arguments_in_the_wrong_order():
    leaves, treedef = tree.flatten([1, 2])
    with pytest.raises(TypeError, match=r"unflatten\(treedef, leaves\)"):
        tree.unflatten(leaves, treedef)


# ----------------------------------------------------------------------------------------
# Deep trees: nothing recurses on depth
# ----------------------------------------------------------------------------------------


def nested_list(depth: int, leaf):
    t = leaf
    for _ in range(depth):
        t = [t]
    return t


def depth_of(t) -> int:
    depth = 0
    while type(t) is list:
        assert len(t) == 1
        t = t[0]
        depth += 1
    return depth


def test_deeply_nested_list_round_trips():
    t = nested_list(DEEP, "leaf")
    leaves, treedef = tree.flatten(t)
    assert leaves == ["leaf"]
    assert treedef.num_leaves == 1 and treedef.num_nodes == DEEP + 1
    rebuilt = treedef.unflatten(["new"])
    assert depth_of(rebuilt) == DEEP
    assert tree.structure(rebuilt) == treedef
    assert tree.map(str.upper, t) is not t
    assert tree.leaves(tree.map(str.upper, t)) == ["LEAF"]
    text = repr(treedef)
    assert text == "PyTreeDef(" + "[" * DEEP + "*" + "]" * DEEP + ")"
    assert treedef.children() == [tree.structure(nested_list(DEEP - 1, 0))]
    ((path, leaf),), _ = tree.flatten_with_path(t)
    assert leaf == "leaf" and len(path) == DEEP and path[0] == tree.SequenceKey(0)


def test_deeply_nested_dicts_and_deep_mismatch():
    a, b = 1, (1, 2)
    for _ in range(DEEP):
        a, b = {"k": a}, {"k": b}
    assert tree.leaves(a) == [1]
    with pytest.raises(TreeStructureError) as info:
        tree.map(lambda x, y: x, b, a)
    expected = "tree structure mismatch at " + "['k']" * DEEP + ": tuple of length 2 vs a leaf (int)"
    assert str(info.value).startswith(expected)
    assert tree.leaves(tree.map(lambda x, y: [x, y], a, b), is_leaf=lambda x: type(x) is list) \
        == [[1, (1, 2)]]


# ----------------------------------------------------------------------------------------
# Docstring examples
# ----------------------------------------------------------------------------------------


def test_docstring_examples_run():
    results = doctest.testmod(functrans.tree, optionflags=doctest.ELLIPSIS)
    assert results.attempted >= 20
    assert results.failed == 0


def test_map_over_trees_that_the_first_is_a_prefix_of():
    # JAX's tree_map: at each leaf of the first tree, f receives the others' whole subtrees
    # there, None included; the first tree's containers must still all be matched.
    assert tree.map(lambda x, y: (x, y), [1], [None]) == [(1, None)]
    assert tree.map(lambda x, y, z: (x, y, z), [1, 2], [(1, 2), 3], [4, [5]]) == [(1, (1, 2), 4), (2, 3, [5])]
    assert tree.map(lambda x, y: x * y[0] + y[1], {"w": 2.0, "b": 3.0}, {"w": (10.0, 1.0), "b": (0.5, 0.25)}) \
        == {"b": 1.75, "w": 21.0}
    # is_leaf applies to the first tree only: the others are split where the first is.
    out = tree.map(lambda x, y: (x, y), {"a": (1, 2)}, {"a": ((1, 2), 3)}, is_leaf=lambda x: isinstance(x, tuple))
    assert out == {"a": ((1, 2), ((1, 2), 3))}
    with pytest.raises(TreeStructureError, match=r"at \[1\]: None vs tuple of length 0"):
        tree.map(lambda x, y: x, [1, None], [2, ()])
    with pytest.raises(TreeStructureError, match=r"at the root: dict with keys \['a'\] vs dict with keys \['a', 'c'\]"):
        tree.map(lambda x, y: x, {"a": 1}, {"a": (1, 2), "c": 2})
