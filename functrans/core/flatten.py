"""A function of pytrees as a function of a flat list of array leaves: the argument handling
that every transformation (and every higher-order primitive) shares.

``FlatFun(fun, args, kwargs, argnums, has_aux)`` picks the arguments at ``argnums``, flattens
them into ``leaves``, and is itself the function of those leaves: it puts them back into the
argument structure, calls ``fun``, splits off the auxiliary output and flattens the output,
remembering its structure (``out_tree``) to rebuild results in the same shape.

Example:
    >>> from functrans.core.flatten import FlatFun
    >>> flat = FlatFun(lambda p, x: {"y": p["w"] * x}, ({"w": 2.0}, 3.0), argnums=(0,))
    >>> flat.leaves
    [2.0]
    >>> flat([5.0]), flat.out_tree.unflatten([15.0])
    ([15.0], {'y': 15.0})
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from functrans import errors, tree
from functrans.core.trace import Tracer

# Arguments that are one leaf whatever is registered (arrays, scalars; tracers are checked
# apart), and the structure of such an argument.
_LEAF_TYPES = frozenset({np.ndarray, float, int, complex, bool}
                        | {np.dtype(code).type for code in np.typecodes["All"]})
_ONE_LEAF = (tree.flatten(0.0)[1], 1)


class FlatFun:
    """``fun(*args, **kwargs)`` as a function of the flat leaves of ``args[argnums]``.

    Attributes:
        leaves: the leaves of the arguments at ``argnums``, as given (each argument flattened
            on its own: the structure of each is kept, one per position of ``argnums``).
        out_tree: the structure of the output of the last call (``None`` before).
        aux: with ``has_aux``, the auxiliary output of the last call.
    """

    __slots__ = ("fun", "args", "kwargs", "argnums", "has_aux", "name", "leaves", "_arg_trees",
                 "_in_tree", "out_tree", "aux")

    def __init__(self, fun: Callable, args: Sequence, kwargs: dict | None = None,
                 argnums: Sequence[int] | None = None, has_aux: bool = False, name: str | None = None):
        self.fun = fun
        self.args = tuple(args)
        self.kwargs = kwargs or {}
        self.argnums = tuple(range(len(self.args))) if argnums is None else tuple(argnums)
        self.has_aux = has_aux
        self.name = name or fun_name(fun)
        self.leaves: list = []
        self._arg_trees: list = []  # (structure, number of leaves) of each argument at argnums
        for i in self.argnums:
            arg = self.args[i]
            if type(arg) in _LEAF_TYPES or isinstance(arg, Tracer):  # one array: no walk
                self.leaves.append(arg)
                self._arg_trees.append(_ONE_LEAF)
                continue
            leaves, treedef = tree.flatten(arg)
            self.leaves.extend(leaves)
            self._arg_trees.append((treedef, len(leaves)))
        self._in_tree: Any = None
        self.out_tree: Any = None
        self.aux: Any = None

    @property
    def in_tree(self) -> Any:
        """The structure of ``leaves``: that of the tuple of the arguments at ``argnums``."""
        if self._in_tree is None:
            self._in_tree = tree.flatten(tuple(self.args[i] for i in self.argnums))[1]
        return self._in_tree

    def unflatten(self, leaves: Sequence) -> tuple:
        """The arguments at ``argnums`` rebuilt from ``leaves`` (a tuple, one per position)."""
        trees = self._arg_trees
        if len(trees) == 1:  # the common case (grad of the first argument): no slicing
            if trees[0] is _ONE_LEAF:
                return (leaves[0],)
            return (trees[0][0].unflatten(leaves),)
        out = []
        start = 0
        for treedef, count in trees:
            out.append(treedef.unflatten(leaves[start:start + count]))
            start += count
        return tuple(out)

    def args_of(self, leaves: Sequence) -> list:
        """All positional arguments, those at ``argnums`` rebuilt from ``leaves``."""
        args = list(self.args)
        for i, value in zip(self.argnums, self.unflatten(leaves)):
            args[i] = value
        return args

    def apply(self, leaves: Sequence) -> Any:
        """``fun`` called with the arguments rebuilt from ``leaves``; its output (the
        auxiliary part split off into ``aux`` with ``has_aux``)."""
        out = self.fun(*self.args_of(leaves), **self.kwargs)
        if self.has_aux:
            out, self.aux = split_aux(out, self.name)
        return out

    def __call__(self, leaves: Sequence) -> list:
        """The output leaves of ``apply(leaves)``; their structure goes to ``out_tree``."""
        out_leaves, self.out_tree = tree.flatten(self.apply(leaves))
        return out_leaves


def python_argnums(argnums: Any) -> Any:
    """``argnums`` with NumPy integers made Python ints (JAX takes anything ``operator.index``
    takes, and ``isinstance(argnums, int)`` decides whether a result is one value or a
    tuple); other values are returned as they are, for ``normalize_argnums`` to check."""
    if isinstance(argnums, np.integer):
        return int(argnums)
    if isinstance(argnums, (tuple, list)) and any(isinstance(n, np.integer) for n in argnums):
        return tuple(int(n) if isinstance(n, np.integer) else n for n in argnums)
    return argnums


def normalize_argnums(argnums: int | Sequence[int], num_args: int, name: str) -> tuple[int, ...]:
    """``argnums`` as a tuple of non-negative positions, checked against ``num_args``."""
    if isinstance(argnums, int) and not isinstance(argnums, bool):
        nums: tuple = (argnums,)
    elif isinstance(argnums, (tuple, list)):
        nums = tuple(argnums)
    else:
        raise errors.ArgnumsError(
            f"{name}: argnums must be an int or a tuple of ints, got {argnums!r} of type "
            f"{type(argnums).__name__}. Write argnums=1 or argnums=(0, 1)."
        )
    if not nums:
        raise errors.ArgnumsError(f"{name}: argnums is empty; name at least one argument to differentiate.")
    result = []
    for n in nums:
        if not isinstance(n, int) or isinstance(n, bool):
            raise errors.ArgnumsError(f"{name}: argnums must be ints, got {n!r}.")
        if not -num_args <= n < num_args:
            raise errors.ArgnumsError(
                f"{name}: argnums={argnums!r} is out of range for a function called with "
                f"{num_args} positional argument{'s' if num_args != 1 else ''} (valid: 0 to "
                f"{num_args - 1}, or negative from the end). Pass the arguments positionally, "
                "or change argnums."
            )
        position = n % num_args
        if position in result:
            raise errors.ArgnumsError(
                f"{name}: argnums={argnums!r} names positional argument {position} twice; the "
                "gradient of a repeated argument would be split between its entries. Name each "
                "argument once."
            )
        result.append(position)
    return tuple(result)


def split_aux(out: Any, name: str) -> tuple[Any, Any]:
    """``(output, aux)`` from what a ``has_aux=True`` function returned, or the error."""
    if not (isinstance(out, (tuple, list)) and len(out) == 2):
        if isinstance(out, (tuple, list)):
            kind = f"a {type(out).__name__} of length {len(out)}"
        elif hasattr(out, "shape"):
            kind = f"a single array of shape {tuple(out.shape)}"
        else:
            kind = f"a {type(out).__name__}"
        raise errors.HasAuxError(
            f"{name} was called with has_aux=True, so the function must return a pair "
            f"(output, aux), but it returned {kind}. Return `loss, aux` from the function, or "
            "drop has_aux=True."
        )
    return out[0], out[1]


def fun_name(fun: Any) -> str:
    """The name to show for ``fun`` in messages and scopes (its type's for a callable object)."""
    return getattr(fun, "__name__", None) or type(fun).__name__
