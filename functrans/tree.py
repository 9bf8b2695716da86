"""Pytrees: nested containers of arrays, flattened to a list of leaves plus a structure.

Every transform takes and returns pytrees, so ``flatten`` and ``TreeDef.unflatten`` run on
every ``grad`` call. Both walk the tree with an explicit stack (a 100,000-level nested list
works; Python's recursion limit is never involved) and handle the common containers
(``dict``, ``list``, ``tuple``, ``None``) inline, keyed by exact type.

Node types: ``tuple``, ``list``, ``dict`` (children in sorted key order, rebuilt in sorted
order, as JAX does), ``collections.OrderedDict`` (insertion order kept),
``collections.defaultdict`` (sorted keys), namedtuples (any ``tuple`` subclass with
``_fields``), ``None`` (a node with no children, hence no leaves), and the types given to
``register``, ``register_class`` or ``register_dataclass``. Everything else is a leaf, including subclasses of
``dict`` and ``list`` that were not registered.

A ``TreeDef`` stores the non-leaf nodes in post-order (children before their parent, left
to right), each with the number of leaves that follow it; unflattening is then one forward
loop over the containers with a value stack, taking the leaves in slices.
"""
from __future__ import annotations

import builtins
import collections
import dataclasses
import itertools
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Any, NamedTuple

from functrans.errors import TreeStructureError

__all__ = [
    "DictKey",
    "GetAttrKey",
    "SequenceKey",
    "TreeDef",
    "all",
    "assert_same_structure",
    "flatten",
    "flatten_with_path",
    "keystr",
    "leaves",
    "leaves_with_path",
    "map",
    "map_with_path",
    "reduce",
    "register",
    "register_class",
    "register_dataclass",
    "structure",
    "transpose",
    "unflatten",
]

PyTree = Any
Leaf = Any
IsLeaf = Callable[[Any], bool] | None
_NoneType = type(None)
_map = builtins.map  # this module defines its own map


# ----------------------------------------------------------------------------------------
# Key paths: where a leaf sits in a tree, e.g. ['layers'][0].weight
# ----------------------------------------------------------------------------------------
# Key entries are hashable and meant to be treated as immutable, but not frozen: a frozen
# dataclass costs twice as much to create, and flatten_with_path creates one per child.


@dataclasses.dataclass(slots=True, unsafe_hash=True)
class SequenceKey:
    """Position of a child in a list, tuple or registered node; prints as ``[idx]``.

    Example:
        >>> [(str(path[0]), leaf) for path, leaf in flatten_with_path([5.0, 6.0])[0]]
        [('[0]', 5.0), ('[1]', 6.0)]
    """

    idx: int

    def __str__(self) -> str:
        return f"[{self.idx}]"


@dataclasses.dataclass(slots=True, unsafe_hash=True)
class DictKey:
    """Key of a child in a dict; prints as ``['key']``.

    Example:
        >>> str(DictKey("w")), keystr((DictKey("layers"), SequenceKey(0), DictKey("w")))
        ("['w']", "['layers'][0]['w']")
    """

    key: Hashable

    def __str__(self) -> str:
        return f"[{self.key!r}]"


@dataclasses.dataclass(slots=True, unsafe_hash=True)
class GetAttrKey:
    """Attribute holding a child (namedtuple or dataclass field); prints as ``.name``.

    Example:
        >>> import collections
        >>> Point = collections.namedtuple("Point", "x y")
        >>> [keystr(path) for path, _ in flatten_with_path(Point(1.0, 2.0))[0]]
        ['.x', '.y']
    """

    name: str

    def __str__(self) -> str:
        return f".{self.name}"


KeyEntry = SequenceKey | DictKey | GetAttrKey
KeyPath = tuple[KeyEntry, ...]
_ROOT = (None, None)  # the root's entry in key-path walks: no key, no parent


def keystr(path: Sequence[KeyEntry]) -> str:
    """Format a key path as the Python expression that reaches the leaf.

    Args:
        path: key entries, as returned by ``flatten_with_path``.

    Returns:
        The path as a string, for example ``['layers'][0].weight``; ``''`` for the root.

    Example:
        >>> keystr((DictKey('layers'), SequenceKey(0), GetAttrKey('weight')))
        "['layers'][0].weight"
    """
    return "".join(_map(str, path))


# ----------------------------------------------------------------------------------------
# The registry of node types other than dict/list/tuple/None
# ----------------------------------------------------------------------------------------


class _NodeType(NamedTuple):
    flatten: Callable[[Any], tuple[Sequence[Any], Hashable]]  # obj -> (children, aux)
    unflatten: Callable[[Any, list], Any]  # (aux, children) -> obj
    keys: Callable[[Any, int], list[KeyEntry]]  # (aux, n) -> key of each child


def _inline(*args: Any) -> Any:
    """The flatten and unflatten of dict, list, tuple and None: never called, as flatten and
    unflatten handle these four types inline."""
    raise AssertionError("dict, list, tuple and None are flattened inline")


def _index_keys(aux: Any, n: int) -> list[KeyEntry]:
    return list(_map(SequenceKey, range(n)))


def _dict_keys(aux: tuple, n: int) -> list[KeyEntry]:
    return list(_map(DictKey, aux))


def _sorted_keys(d: dict) -> tuple:
    try:
        return tuple(sorted(d))
    except TypeError:
        return _fallback_sorted_keys(d)


def _fallback_sorted_keys(d: dict) -> tuple:
    # Keys of mixed or unorderable types: still a deterministic order, so that two dicts
    # with the same keys always flatten alike.
    return tuple(sorted(d, key=lambda k: (type(k).__qualname__, repr(k))))


def _flatten_defaultdict(d: collections.defaultdict) -> tuple[list, Hashable]:
    keys = _sorted_keys(d)
    return [d[k] for k in keys], (d.default_factory, keys)


_registry: dict[type, _NodeType] = {
    # dict, list, tuple and None are handled inline by flatten/unflatten; their entries
    # here serve key paths and make register() refuse to redefine them.
    dict: _NodeType(_inline, _inline, _dict_keys),
    list: _NodeType(_inline, _inline, _index_keys),
    tuple: _NodeType(_inline, _inline, _index_keys),
    _NoneType: _NodeType(_inline, _inline, _index_keys),
    collections.OrderedDict: _NodeType(
        lambda d: (list(d.values()), tuple(d)),
        lambda keys, children: collections.OrderedDict(zip(keys, children)),
        _dict_keys,
    ),
    collections.defaultdict: _NodeType(
        _flatten_defaultdict,
        lambda aux, children: collections.defaultdict(aux[0], zip(aux[1], children)),
        lambda aux, n: [DictKey(k) for k in aux[1]],
    ),
}


# Types already seen to be leaves, so that flatten recognises the next one (an ndarray, a
# float, a tracer) with one set lookup. register() removes its class from here. Bounded,
# in case a program creates classes in a loop.
_leaf_types: set[type] = set()
_MAX_LEAF_TYPES = 1024


def _namedtuple_node(cls: type) -> _NodeType | None:
    """The node type of a namedtuple class (remembered), or None if ``cls`` is a leaf."""
    if not hasattr(cls, "_fields"):
        return None
    node = _NodeType(
        lambda t: (t, None),
        lambda aux, children: cls(*children),
        lambda aux, n: [GetAttrKey(f) for f in cls._fields],
    )
    _registry[cls] = node
    return node


def register(
    cls: type,
    flatten_fn: Callable[[Any], tuple[Iterable[Any], Hashable]],
    unflatten_fn: Callable[[Any, list], Any],
) -> None:
    """Make instances of ``cls`` pytree nodes instead of leaves.

    Args:
        cls: the class to register (exact type: subclasses are not covered).
        flatten_fn: ``flatten_fn(obj) -> (children, aux_data)``. ``children`` is a sequence
            of subtrees; ``aux_data`` is hashable, compared for structure equality, and
            carries whatever is not a child (configuration, names).
        unflatten_fn: ``unflatten_fn(aux_data, children) -> obj``, the inverse; ``children``
            is a list. It may receive non-array leaves (``tree.map`` can put anything there),
            so it should not validate them.

    Raises:
        ValueError: if ``cls`` is already a node type.

    Example:
        >>> class Pair:
        ...     def __init__(self, a, b): self.a, self.b = a, b
        >>> register(Pair, lambda p: ((p.a, p.b), None), lambda aux, ch: Pair(*ch))
        >>> leaves(Pair(1, (2, 3)))
        [1, 2, 3]
    """
    if not isinstance(cls, type):
        raise TypeError(f"register expects a class, got {cls!r}.")
    if cls in _registry and not _is_namedtuple(cls):
        raise ValueError(
            f"{cls.__qualname__} is already a pytree node type; each type can be "
            "registered once. If you re-ran a cell that defines and registers a class, "
            "the new class object is a different type and registers fine."
        )

    def node_flatten(obj: Any) -> tuple[Sequence[Any], Hashable]:
        children, aux = flatten_fn(obj)
        if type(children) is not list and type(children) is not tuple:
            children = list(children)  # we need len() and, later, a stable order
        return children, aux

    _registry[cls] = _NodeType(node_flatten, unflatten_fn, _index_keys)
    _leaf_types.discard(cls)


def _is_namedtuple(cls: type) -> bool:
    return issubclass(cls, tuple) and hasattr(cls, "_fields")


def register_class(cls: type) -> type:
    """Register a class that flattens itself, as a class decorator (JAX's
    ``register_pytree_node_class``): ``obj.tree_flatten() -> (children, aux_data)`` and the
    class method ``cls.tree_unflatten(aux_data, children) -> obj``, with the contract of
    ``register``'s two functions.

    Args:
        cls: a class with a ``tree_flatten`` method and a ``tree_unflatten`` class method.

    Returns:
        ``cls`` itself.

    Raises:
        TypeError: if ``cls`` lacks either method.

    Example:
        >>> @register_class
        ... class Scaled:
        ...     def __init__(self, x, scale): self.x, self.scale = x, scale
        ...     def tree_flatten(self): return (self.x,), self.scale
        ...     @classmethod
        ...     def tree_unflatten(cls, scale, children): return cls(children[0], scale)
        >>> map(lambda v: v + 1, Scaled(1.0, "s")).x
        2.0
    """
    if not (isinstance(cls, type) and callable(getattr(cls, "tree_flatten", None))
            and callable(getattr(cls, "tree_unflatten", None))):
        raise TypeError(
            f"register_class expects a class with a tree_flatten(self) method and a "
            f"tree_unflatten(cls, aux_data, children) class method, got {cls!r}. Define both, "
            "or register the functions with register(cls, flatten_fn, unflatten_fn)."
        )
    register(cls, lambda obj: obj.tree_flatten(), cls.tree_unflatten)  # type: ignore[attr-defined]
    return cls


def register_dataclass(cls: type, data_fields: Sequence[str] | None = None,
                       meta_fields: Sequence[str] | None = None) -> type:
    """Register a dataclass as a pytree node; usable as a class decorator.

    Fields become children, in declaration order, except fields declared with
    ``dataclasses.field(metadata={"static": True})``: their values become aux data (part
    of the structure, so they must be hashable, and trees that differ in them differ in
    structure). ``data_fields`` and ``meta_fields`` name the two kinds explicitly instead,
    as JAX's ``register_dataclass`` takes them (together they must list every field).

    Unflattening does not call ``__init__`` or ``__post_init__``: it restores each field
    as given, because ``tree.map`` often puts non-array values in the leaves and a
    validating ``__post_init__`` would reject them. Frozen dataclasses work.

    Args:
        cls: a dataclass.
        data_fields: the names of the fields that are children (in this order).
        meta_fields: the names of the fields that are aux data.

    Returns:
        ``cls`` itself.

    Raises:
        TypeError: if ``cls`` is not a dataclass.
        ValueError: if ``data_fields`` and ``meta_fields`` do not list each field once.

    Example:
        >>> @register_dataclass
        ... @dataclasses.dataclass
        ... class Linear:
        ...     w: float
        ...     b: float
        ...     act: str = dataclasses.field(default="relu", metadata={"static": True})
        >>> map(lambda x: 2 * x, Linear(1.0, 3.0))
        Linear(w=2.0, b=6.0, act='relu')
    """
    if not (isinstance(cls, type) and dataclasses.is_dataclass(cls)):
        raise TypeError(
            f"register_dataclass expects a dataclass, got {cls!r}. Apply it above "
            "@dataclasses.dataclass, so that it receives the finished dataclass."
        )
    fields = dataclasses.fields(cls)
    if data_fields is None and meta_fields is None:
        data = tuple(f.name for f in fields if not f.metadata.get("static", False))
        static = tuple(f.name for f in fields if f.metadata.get("static", False))
    else:
        data, static = tuple(data_fields or ()), tuple(meta_fields or ())
        names = [f.name for f in fields]
        if sorted(data + static) != sorted(names):
            raise ValueError(
                f"register_dataclass({cls.__qualname__}): data_fields {list(data)} and "
                f"meta_fields {list(static)} must together name each field of the dataclass "
                f"once; its fields are {names}."
            )

    def flatten_fn(obj: Any) -> tuple[list, tuple]:
        return [getattr(obj, n) for n in data], tuple(getattr(obj, n) for n in static)

    def unflatten_fn(aux: tuple, children: list) -> Any:
        obj = object.__new__(cls)
        for name, value in zip(data, children):
            object.__setattr__(obj, name, value)  # works for frozen dataclasses too
        for name, value in zip(static, aux):
            object.__setattr__(obj, name, value)
        return obj

    register(cls, flatten_fn, unflatten_fn)
    # Dataclass children are attributes: paths read .w rather than [0].
    _registry[cls] = _registry[cls]._replace(keys=lambda aux, n: [GetAttrKey(f) for f in data])
    return cls


# ----------------------------------------------------------------------------------------
# Flatten and TreeDef
# ----------------------------------------------------------------------------------------


def flatten(tree: PyTree, is_leaf: IsLeaf = None) -> tuple[list[Leaf], TreeDef]:
    """Split a pytree into its leaves (left to right) and its structure.

    Args:
        tree: a pytree.
        is_leaf: optional predicate; a subtree for which it returns True is a leaf.

    Returns:
        ``(leaves, treedef)``, with ``treedef.unflatten(leaves)`` rebuilding ``tree``.

    Example:
        >>> leaves_, treedef = flatten({'w': 1.0, 'b': (2.0, None)})
        >>> leaves_, treedef
        ([2.0, 1.0], PyTreeDef({'b': (*, None), 'w': *}))
    """
    leaves: list = []
    nodes: list = []
    stack = [tree]
    pop = stack.pop
    push_children = stack.extend
    add_leaf = leaves.append
    add_node = nodes.append
    registry_get = _registry.get
    leaf_types = _leaf_types
    # Children are pushed in order, so the last child is visited first: the walk is a
    # right-to-left pre-order. Reversed at the end, that is the left-to-right post-order
    # that unflatten wants, and the leaves come out left to right. Each node records
    # len(leaves) when it is visited: the number of leaves to its right in post-order,
    # which tells unflatten where the node's leaves end (see TreeDef).
    while stack:
        x = pop()
        if is_leaf is not None and is_leaf(x):
            add_leaf(x)
            continue
        t = type(x)
        if t is dict:
            try:
                keys = tuple(sorted(x))
            except TypeError:
                keys = _fallback_sorted_keys(x)
            push_children(_map(x.__getitem__, keys))
            add_node((dict, keys, len(keys), len(leaves)))
        elif t in leaf_types:
            add_leaf(x)
        elif t is list:
            push_children(x)
            add_node((list, None, len(x), len(leaves)))
        elif t is tuple:
            push_children(x)
            add_node((tuple, None, len(x), len(leaves)))
        elif x is None:
            add_node((_NoneType, None, 0, len(leaves)))
        else:
            node_type = registry_get(t)
            if node_type is None and issubclass(t, tuple):
                node_type = _namedtuple_node(t)  # first sight of a namedtuple class
            if node_type is None:
                add_leaf(x)
                if len(leaf_types) < _MAX_LEAF_TYPES:
                    leaf_types.add(t)  # the next leaf of this type skips these checks
                continue
            children, aux = node_type.flatten(x)
            push_children(children)
            add_node((t, aux, len(children), len(leaves)))
    leaves.reverse()
    nodes.reverse()
    return leaves, _make_treedef(tuple(nodes), len(leaves))


class TreeDef:
    """The structure of a pytree: its containers, dict keys and aux data, without leaves.

    Immutable and hashable; two TreeDefs are equal when the trees have the same node
    types, lengths, dict keys and aux data, and leaves in the same places. Obtain one from
    ``flatten`` or ``structure``.

    Example:
        >>> treedef = structure({'w': 1.0, 'b': 2.0})
        >>> treedef.num_leaves, treedef.unflatten([10, 20])
        (2, {'b': 10, 'w': 20})
    """

    __slots__ = ("_nodes", "_num_leaves")

    # The non-leaf nodes in post-order (children before parents, left to right), each as
    # (kind, aux, num_children, leaves_after): leaves_after counts the leaves that follow
    # the node in post-order, so the node's own leaves end at num_leaves - leaves_after.
    # Leaves are not stored: in a params tree they outnumber the containers, and unflatten
    # then takes them in runs (slices) instead of one by one.
    _nodes: tuple
    _num_leaves: int

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("TreeDef is immutable")

    def __reduce__(self) -> tuple[Callable[[tuple, int], TreeDef], tuple[tuple, int]]:
        return (_make_treedef, (self._nodes, self._num_leaves))

    @property
    def num_leaves(self) -> int:
        """Number of leaves.

        Example:
            >>> structure([1, (2, None)]).num_leaves
            2
        """
        return self._num_leaves

    @property
    def num_nodes(self) -> int:
        """Number of nodes, counting leaves and ``None`` (as JAX does).

        Example:
            >>> structure([1, (2, None)]).num_nodes
            5
        """
        return len(self._nodes) + self._num_leaves

    def unflatten(self, leaves: Iterable[Leaf]) -> PyTree:
        """Build a pytree of this structure from leaves given left to right.

        Args:
            leaves: exactly ``num_leaves`` values.

        Returns:
            The pytree.

        Raises:
            TreeStructureError: if the number of leaves is wrong.

        Example:
            >>> structure((1, [2, 3])).unflatten(['a', 'b', 'c'])
            ('a', ['b', 'c'])
        """
        if type(leaves) is not list:
            leaves = list(leaves)
        total = self._num_leaves
        if len(leaves) != total:
            raise TreeStructureError(
                f"unflatten got {len(leaves)} leaves, but the structure "
                f"{_shorten(repr(self))} has {total}. Pass exactly one leaf per * in the "
                "structure, in the order flatten returned them."
            )
        if not self._nodes:
            return leaves[0]  # the whole tree is one leaf
        stack: list = []  # finished subtrees waiting for their parent
        taken = 0  # leaves moved out of `leaves` so far
        for kind, aux, n, leaves_after in self._nodes:
            end = total - leaves_after  # this node's leaves end here
            run = end - taken  # leaves right before this node in post-order
            if run >= n:
                # The node's children are all leaves (a layer's {'b', 'w'}): slice them
                # directly, after parking any earlier leaves for an ancestor.
                if run > n:
                    stack.extend(leaves[taken : end - n])
                children = leaves[end - n : end]
            else:
                stack.extend(leaves[taken:end])
                children = stack[-n:]
                del stack[-n:]
            taken = end
            if kind is dict:
                if n < 17:
                    stack.append(_DICT_DISPLAYS[n](aux, children))
                else:
                    stack.append(dict(zip(aux, children)))
            elif kind is list:
                stack.append(children)  # a fresh list already
            elif kind is tuple:
                stack.append(tuple(children))
            elif kind is _NoneType:
                stack.append(None)
            else:
                stack.append(_registry[kind].unflatten(aux, children))
        return stack[0]

    def _postorder(self) -> list:
        """All nodes in post-order as (kind, aux, num_children), with None for a leaf.

        The slow paths (repr, paths, error messages) work on this simpler form.
        """
        out: list = []
        taken = 0
        for node in self._nodes:
            end = self._num_leaves - node[3]
            out += [None] * (end - taken)
            out.append(node[:3])
            taken = end
        out += [None] * (self._num_leaves - taken)
        return out

    def children(self) -> list[TreeDef]:
        """The structures of the root's children, in order (empty for a leaf or None).

        Example:
            >>> structure({'a': 1, 'b': [2, 3]}).children()
            [PyTreeDef(*), PyTreeDef([*, *])]
        """
        nodes = self._postorder()
        starts: list[int] = []  # where each pending subtree begins in post-order
        child_starts: list[int] = []
        for i, node in enumerate(nodes):
            n = 0 if node is None else node[2]
            child_starts = starts[len(starts) - n :]
            del starts[len(starts) - n :]
            starts.append(child_starts[0] if n else i)
        bounds = child_starts + [len(nodes) - 1]
        return [_from_postorder(nodes[a:b]) for a, b in zip(bounds, bounds[1:])]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TreeDef):
            return NotImplemented
        return self._nodes == other._nodes

    def __hash__(self) -> int:
        return hash(self._nodes)

    def __repr__(self) -> str:
        # Built from tokens with an explicit stack: a 100,000-level tree must not recurse,
        # and concatenating strings level by level would be quadratic.
        out: list[str] = []
        stack: list = [_nest(self._postorder())]
        while stack:
            item = stack.pop()
            if type(item) is str:
                out.append(item)
                continue
            node, children = item
            if node is None:
                out.append("*")
                continue
            opening, closing = _brackets(node)
            prefixes = [_key_prefix(k) for k in _child_keys(node)]
            parts: list = [opening]
            for i, (prefix, child) in enumerate(zip(prefixes, children)):
                parts += [", " if i else "", prefix, child]
            if node[0] is tuple and node[2] == 1:
                parts.append(",")
            parts.append(closing)
            stack.extend(reversed(parts))
        return f"PyTreeDef({''.join(out)})"


# TreeDef.__setattr__ refuses every assignment; its slots are filled through their
# descriptors, which costs less than object.__setattr__ (flatten makes one per call).
_set_nodes = TreeDef.__dict__["_nodes"].__set__
_set_num_leaves = TreeDef.__dict__["_num_leaves"].__set__


def _make_treedef(nodes: tuple, num_leaves: int) -> TreeDef:
    treedef = object.__new__(TreeDef)
    _set_nodes(treedef, nodes)
    _set_num_leaves(treedef, num_leaves)
    return treedef


def _dict_display(n: int) -> Callable[[Sequence, Sequence], dict]:
    """``(keys, values) -> dict`` for ``n`` entries, written as a dict display.

    ``dict(zip(keys, values))`` takes about twice as long as a display on small dicts,
    and unflatten builds every dict of a params tree on every grad call. The source is
    made from integers only; the keys are arguments.
    """
    items = ", ".join(f"k[{i}]: v[{i}]" for i in range(n))
    return eval(f"lambda k, v: {{{items}}}")


_DICT_DISPLAYS = [_dict_display(n) for n in range(17)]


def _from_postorder(nodes: list) -> TreeDef:
    """The inverse of TreeDef._postorder."""
    compact = []
    leaves_after = 0
    for node in reversed(nodes):
        if node is None:
            leaves_after += 1
        else:
            compact.append((*node, leaves_after))
    compact.reverse()
    return _make_treedef(tuple(compact), leaves_after)


def _nest(nodes: Sequence) -> tuple:
    """Post-order nodes -> nested ``(node, children)`` pairs; a leaf is ``(None, index)``."""
    stack: list = []
    leaf_index = 0
    for node in nodes:
        if node is None:
            stack.append((None, leaf_index))
            leaf_index += 1
            continue
        n = node[2]
        children = stack[len(stack) - n :]
        del stack[len(stack) - n :]
        stack.append((node, children))
    return stack[0]


def _child_keys(node: tuple) -> list[KeyEntry]:
    kind, aux, n = node
    return _registry[kind].keys(aux, n)


def _key_prefix(key: KeyEntry) -> str:
    if type(key) is DictKey:
        return f"{key.key!r}: "
    if type(key) is GetAttrKey:
        return f"{key.name}="
    return ""


def _brackets(node: tuple) -> tuple[str, str]:
    kind, aux, _ = node
    if kind is _NoneType:
        return "None", ""
    if kind is list:
        return "[", "]"
    if kind is tuple:
        return "(", ")"
    if kind is dict:
        return "{", "}"
    if kind is collections.OrderedDict:
        return "OrderedDict({", "})"
    if kind is collections.defaultdict:
        return f"defaultdict({getattr(aux[0], '__name__', aux[0])}, {{", "})"
    if _is_namedtuple(kind) or dataclasses.is_dataclass(kind):
        return f"{kind.__name__}(", ")"
    return f"CustomNode({kind.__name__}[{aux!r}], [", "])"


def _describe(node: tuple | None, leaf: Any) -> str:
    """A short human description of one node, for error messages."""
    if node is None:
        return f"a leaf ({type(leaf).__name__})"
    kind, aux, n = node
    if kind is _NoneType:
        return "None"
    if kind is list or kind is tuple:
        return f"{kind.__name__} of length {n}"
    if kind is dict or kind is collections.OrderedDict:
        return f"{kind.__name__} with keys {list(aux)}"
    if kind is collections.defaultdict:
        return f"defaultdict with keys {list(aux[1])}"
    if _is_namedtuple(kind):
        return f"namedtuple {kind.__qualname__}"
    return f"{kind.__qualname__} with {n} children and aux data {aux!r}"


def _shorten(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 5] + " ...)"


# ----------------------------------------------------------------------------------------
# Convenience functions
# ----------------------------------------------------------------------------------------


def unflatten(treedef: TreeDef, leaves: Iterable[Leaf]) -> PyTree:
    """Build a pytree of structure ``treedef`` from its leaves (the inverse of ``flatten``).

    Args:
        treedef: a structure from ``flatten`` or ``structure``.
        leaves: exactly ``treedef.num_leaves`` values, left to right.

    Returns:
        The pytree.

    Raises:
        TreeStructureError: if the number of leaves is wrong.

    Example:
        >>> leaves_, treedef = flatten({'w': 1.0, 'b': 2.0})
        >>> unflatten(treedef, [x * 10 for x in leaves_])
        {'b': 20.0, 'w': 10.0}
    """
    if not isinstance(treedef, TreeDef):
        raise TypeError(
            f"unflatten expects a TreeDef as its first argument, got "
            f"{type(treedef).__name__}. The order is unflatten(treedef, leaves), with the "
            "treedef from tree.flatten or tree.structure."
        )
    return treedef.unflatten(leaves)


def leaves(tree: PyTree, is_leaf: IsLeaf = None) -> list[Leaf]:
    """The leaves of a pytree, left to right (dicts in sorted key order).

    Example:
        >>> leaves({'w': [1, 2], 'b': 3, 'skip': None})
        [3, 1, 2]
    """
    return flatten(tree, is_leaf)[0]


def structure(tree: PyTree, is_leaf: IsLeaf = None) -> TreeDef:
    """The structure of a pytree.

    Example:
        >>> structure({'w': 1, 'b': (2, 3)})
        PyTreeDef({'b': (*, *), 'w': *})
    """
    return flatten(tree, is_leaf)[1]


def flatten_with_path(
    tree: PyTree, is_leaf: IsLeaf = None
) -> tuple[list[tuple[KeyPath, Leaf]], TreeDef]:
    """Like ``flatten``, but each leaf comes with its key path.

    Example:
        >>> pairs, _ = flatten_with_path({'layers': [{'weight': 1.0}]})
        >>> [(keystr(path), leaf) for path, leaf in pairs]
        [("['layers'][0]['weight']", 1.0)]
    """
    leaves_, treedef = flatten(tree, is_leaf)
    return list(zip(_leaf_paths(treedef), leaves_)), treedef


def _leaf_paths(treedef: TreeDef) -> list[KeyPath]:
    """The key path of every leaf, left to right."""
    nodes, total = treedef._nodes, treedef._num_leaves
    if not nodes:
        return [()]  # the tree is one leaf
    paths: list = [None] * total
    # Visit the nodes backwards (right-to-left pre-order). Each pending subtree is an entry
    # (key, parent_entry): a linked list up to the root, so that a path is spelled out
    # only for leaves, and a deep chain costs its depth once rather than once per level.
    stack: list = [_ROOT]
    for i in range(len(nodes) - 1, -1, -1):
        kind, aux, n, leaves_after = nodes[i]
        entry = stack.pop()
        keys = _map(DictKey, aux) if kind is dict else _registry[kind].keys(aux, n)
        stack.extend(zip(keys, itertools.repeat(entry)))
        # The leaves between the previous node in post-order and this one are the
        # entries on top of the stack now, left to right.
        start = total - nodes[i - 1][3] if i else 0
        end = total - leaves_after
        if end > start:
            run = stack[start - end :]
            del stack[start - end :]
            paths[start:end] = _paths_of(run)
    return paths


def _paths_of(entries: list) -> list[KeyPath]:
    out: list[KeyPath] = []
    last_parent: tuple | None = None
    prefix: KeyPath = ()
    for key, parent in entries:
        if parent is not last_parent:  # sibling leaves share their parent's prefix
            last_parent, prefix = parent, _unlink(parent)
        out.append(prefix + (key,))
    return out


def _unlink(entry: tuple) -> KeyPath:
    keys = []
    while entry is not _ROOT:
        key, entry = entry
        keys.append(key)
    keys.reverse()
    return tuple(keys)


def map(f: Callable[..., Any], tree: PyTree, *rest: PyTree, is_leaf: IsLeaf = None) -> PyTree:
    """Apply ``f`` to the leaves of a pytree, and to what other pytrees hold at the same places.

    As JAX's ``tree_map``: each of ``rest`` must have the containers of ``tree`` down to its
    leaves, and may be deeper below them; at each leaf of ``tree``, ``f`` receives the whole
    subtree that each of ``rest`` holds there.

    Args:
        f: called as ``f(leaf, *corresponding_subtrees_of_rest)``.
        tree: the first pytree; the result has its structure.
        *rest: more pytrees with the structure of ``tree``, or deeper ones that it is a
            prefix of.
        is_leaf: optional predicate marking subtrees of ``tree`` to treat as leaves.

    Returns:
        A pytree of ``tree``'s structure holding ``f``'s results.

    Raises:
        TreeStructureError: naming the key path of the first difference.

    Example:
        >>> map(lambda p, g: p - 0.5 * g, {'w': 1.0, 'b': 2.0}, {'w': 2.0, 'b': 2.0})
        {'b': 1.0, 'w': 0.0}
        >>> map(lambda x, pair: x * pair[0] + pair[1], [1.0, 2.0], [(10.0, 1.0), (100.0, 2.0)])
        [11.0, 202.0]
    """
    leaves_, treedef = flatten(tree, is_leaf)
    if not rest:
        return treedef.unflatten([f(x) for x in leaves_])
    all_leaves = _corresponding_leaves(leaves_, treedef, rest, is_leaf, "functrans.tree.map")
    return treedef.unflatten([f(*xs) for xs in zip(*all_leaves)])


def _corresponding_leaves(leaves_: list, treedef: TreeDef, rest: Sequence[PyTree], is_leaf: IsLeaf,
                         fn: str) -> list[list]:
    """``[leaves_, parts of rest[0], ...]``: the values that ``fn`` (``map`` and its variants)
    applies its function to together. Each of ``rest`` must have the first tree's structure
    ``treedef`` down to its leaves and may go deeper below them, as in JAX: at each leaf of
    the first tree it contributes its whole subtree there."""
    all_leaves = [leaves_]
    for i, other in enumerate(rest):
        other_leaves, other_def = flatten(other, is_leaf)
        if other_def != treedef:  # deeper than the first tree, or a real mismatch
            other_leaves = _flatten_up_to(treedef, other, f"rest[{i}]", fn)
        all_leaves.append(other_leaves)
    return all_leaves


def _flatten_up_to(treedef: TreeDef, other: PyTree, name: str, fn: str) -> list:
    """The subtrees of ``other`` at the leaves of ``treedef``, left to right.

    ``other`` must have the nodes of ``treedef`` (same types, keys, lengths and aux data)
    wherever ``treedef`` has a node; where ``treedef`` has a leaf, ``other`` may hold any
    subtree. As JAX's ``flatten_up_to``, ``is_leaf`` plays no part: ``other`` is split only
    where the first tree is; ``name`` names ``other`` in the error message.
    """
    out: list = []
    stack: list = [(_ROOT, _nest(treedef._postorder()), other)]
    while stack:
        link, (node, children), sub = stack.pop()
        if node is None:
            out.append(sub)
            continue
        found = _node_of(sub)
        if found is None or found[:3] != node:
            other_node = None if found is None else found[:3]
            raise _difference_error(
                link, (node, _describe(node, None)), (other_node, _describe(other_node, sub)),
                ("the first tree", name),
                f"{fn} applies f to the leaves of the first tree together with what the other "
                "trees hold at the same place, so every tree must have the containers of the "
                "first (the same types, dict keys and lengths) down to its leaves; below a leaf "
                f"of the first tree, another tree may hold any subtree. Change {name} {{where}} "
                "to match the first tree, or map over a part that both trees share.",
            )
        keys = _child_keys(node)
        stack.extend(reversed([((key, link), child, x) for key, child, x in zip(keys, children, found[3])]))
    return out


def _node_of(x: Any) -> tuple | None:
    """``(kind, aux, num_children, children)`` of one node as ``flatten`` splits it, or
    None for a leaf."""
    t = type(x)
    if t is dict:
        keys = _sorted_keys(x)
        return (dict, keys, len(keys), [x[k] for k in keys])
    if t is list or t is tuple:
        return (t, None, len(x), list(x))
    if x is None:
        return (_NoneType, None, 0, [])
    node_type = _registry.get(t)
    if node_type is None and issubclass(t, tuple):
        node_type = _namedtuple_node(t)
    if node_type is None:
        return None
    children, aux = node_type.flatten(x)
    children = list(children)
    return (t, aux, len(children), children)


def assert_same_structure(
    a: PyTree,
    b: PyTree,
    *,
    is_leaf: IsLeaf = None,
    names: tuple[str, str] = ("the first tree", "the second tree"),
) -> None:
    """Raise ``TreeStructureError`` naming the first difference if ``a`` and ``b`` differ.

    Meant for argument checks (tangents against primals, updates against params): the
    message names the key path and both sides.

    Args:
        a: a pytree.
        b: a pytree that should have the structure of ``a``.
        is_leaf: optional predicate marking subtrees to treat as leaves.
        names: what to call ``a`` and ``b`` in the message, e.g. ``("primals", "tangents")``.

    Raises:
        TreeStructureError: if the structures differ.

    Example:
        >>> assert_same_structure({'w': 1}, {'w': 2})
        >>> assert_same_structure({'w': 1}, {'w': (2, 3)})  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        functrans.errors.TreeStructureError: tree structure mismatch at ['w']: a leaf (int) vs tuple of length 2 ...
    """
    leaves_a, def_a = flatten(a, is_leaf)
    leaves_b, def_b = flatten(b, is_leaf)
    if def_a != def_b:
        raise _mismatch_error(
            (leaves_a, def_a),
            (leaves_b, def_b),
            names,
            f"{names[1]} must have the structure of {names[0]}: the same containers, dict "
            "keys and lengths, with leaves in the same places. Change one of them {where} "
            "so that it matches the other.",
        )


def _mismatch_error(
    first: tuple, second: tuple, names: tuple[str, str], advice: str
) -> TreeStructureError:
    """The error for two flattened trees of different structure (slow path only).

    ``first`` and ``second`` are ``(leaves, treedef)`` pairs; ``advice`` may contain
    ``{where}``, filled with the location of the first difference.
    """
    (leaves_a, def_a), (leaves_b, def_b) = first, second
    # Walk both trees in lockstep, left-to-right pre-order, until two nodes differ.
    stack: list = [(_ROOT, _nest(def_a._postorder()), _nest(def_b._postorder()))]
    while stack:
        link, (node_a, sub_a), (node_b, sub_b) = stack.pop()
        if node_a is None and node_b is None:
            continue
        if node_a != node_b:
            break
        pairs = zip(_child_keys(node_a), sub_a, sub_b)
        stack.extend(reversed([((key, link), x, y) for key, x, y in pairs]))
    else:  # unreachable when the TreeDefs differ; kept so that a bug cannot pass silently
        return TreeStructureError(f"tree structure mismatch: {def_a} vs {def_b}")
    desc_a = _describe(node_a, leaves_a[sub_a] if node_a is None else None)
    desc_b = _describe(node_b, leaves_b[sub_b] if node_b is None else None)
    return _difference_error(link, (node_a, desc_a), (node_b, desc_b), names, advice)


def _difference_error(link: Any, a: tuple, b: tuple, names: tuple[str, str], advice: str) -> TreeStructureError:
    """The error for two trees that differ at ``link`` (a key path, linked): ``a`` and ``b``
    are each side's ``(node, description)`` there (node None for a leaf); ``{where}`` in
    ``advice`` is replaced by the location."""
    (node_a, desc_a), (node_b, desc_b) = a, b
    path = keystr(_unlink(link))
    where = f"at {path}" if path else "at the root"
    message = f"tree structure mismatch {where}: {desc_a} vs {desc_b} ({names[0]} vs {names[1]})"
    if node_a is not None and node_b is not None and node_a[0] is node_b[0] is dict:
        only_a = [k for k in node_a[1] if k not in node_b[1]]
        only_b = [k for k in node_b[1] if k not in node_a[1]]
        message += f"; keys only in {names[0]}: {only_a}, only in {names[1]}: {only_b}"
    return TreeStructureError(f"{message}.\n{advice.replace('{where}', where)}")


# Whole-tree operations (JAX's jax.tree names) live in their own module, built on the above.
from functrans._tree_ops import all, leaves_with_path, map_with_path, reduce, transpose  # noqa: E402
