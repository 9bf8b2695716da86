"""Vectorising map: ``vmap(f)`` runs a function written for one example on a whole batch,
every primitive once on the batch (the work is ``BatchTrace``'s, through ``vmap_flat``).

Here: matching ``in_axes``/``out_axes`` to the arguments and outputs, the batch size, and
errors that name the argument at fault.
"""
from __future__ import annotations

import functools
import numbers
from collections.abc import Callable, Hashable
from typing import Any

from functrans import errors, tree
from functrans.api._checks import SCALARS, as_array, device_array_among, scalar_beside
from functrans.core.flatten import FlatFun, fun_name
from functrans.core.trace import named_scope
from functrans.interpreters.batching import vmap_flat
from functrans.primitives import broadcast_in_dim_p, transpose_p

AxisSpec = Any  # an int, None, or a pytree of them matching a prefix of the arguments


def _describe_leaf(path: tuple, n_args: int | None = None) -> str:
    """``argument 1['w']`` for the leaf at ``path`` of the positional-arguments tuple (with
    the keyword arguments as a dict after the ``n_args`` positional ones: ``keyword argument
    'b'``)."""
    if not path:
        return "the argument"
    head, rest = path[0], path[1:]
    index = getattr(head, "idx", None)
    if index is not None and index == n_args and rest:
        head, rest = rest[0], rest[1:]
        where = f"keyword argument {getattr(head, 'key', head)!r}"
    else:
        where = f"argument {index}" if index is not None else str(head)
    return where + (tree.keystr(rest) if rest else "")


def _with_keywords(fun: Callable) -> Callable:
    """``fun`` taking its keyword arguments as one dict after the positional ones."""

    def call(*args: Any) -> Any:
        return fun(*args[:-1], **args[-1])

    call.__name__ = fun_name(fun)
    return call


def _broadcast_prefix(prefix: Any, full: Any, name: str, what: str) -> list:
    """One axis per leaf of ``full``: ``prefix`` is an int or None (for the whole subtree) or a
    tuple/list/dict (or another pytree node of ``full``'s type) of such prefixes mirroring
    ``full``'s containers."""
    if prefix is None or (isinstance(prefix, int) and not isinstance(prefix, bool)):
        return [prefix] * len(tree.leaves(full))
    if isinstance(prefix, (tuple, list)) and isinstance(full, (tuple, list)):
        if len(prefix) != len(full):
            raise errors.BatchAxisError(
                f"{name}: {what} has {len(prefix)} entries but is matched against a "
                f"{type(full).__name__} of {len(full)}. Give one entry per element, or a single "
                "int (or None) for all of them."
            )
        return [a for p, f in zip(prefix, full) for a in _broadcast_prefix(p, f, name, what)]
    if isinstance(prefix, dict) and isinstance(full, dict):
        if set(prefix) != set(full):
            raise errors.BatchAxisError(
                f"{name}: {what} has keys {sorted(map(str, prefix))} but the value it describes "
                f"has keys {sorted(map(str, full))}. Use the same keys, or one int for the dict."
            )
        out = []
        for key in _dict_order(full, name, what):
            out.extend(_broadcast_prefix(prefix[key], full[key], name, what))
        return out
    if type(prefix) is type(full):  # another registered pytree node, axes at its leaves
        p_children, p_def = _children(prefix)
        f_children, f_def = _children(full)
        if p_def == f_def and not (len(f_children) == 1 and f_children[0] is full):
            return [a for p, f in zip(p_children, f_children)
                    for a in _broadcast_prefix(p, f, name, what)]
    raise errors.BatchAxisError(
        f"{name}: {what} must be an int, None, or a tuple/list/dict of them that mirrors the "
        f"values; got {prefix!r} for a value of type {type(full).__name__}."
    )


def _children(node: Any) -> tuple[list, Any]:
    """The children of a pytree node, and its structure one level deep."""
    return tree.flatten(node, is_leaf=lambda child: child is not node)


def _dict_order(d: dict, name: str, what: str) -> list:
    """The keys of ``d`` in the order ``tree.flatten`` visits them (sorted for a dict, as
    inserted for an OrderedDict)."""
    children, _ = tree.flatten_with_path(d, is_leaf=lambda node: node is not d)
    keys = [path[0] for path, _ in children]
    if not all(isinstance(k, tree.DictKey) for k in keys):
        raise errors.BatchAxisError(
            f"{name}: {what} gives a dict for a {type(d).__name__}, which is registered as a "
            "pytree without dict keys. Give one int (or None) for the whole value."
        )
    return [k.key for k in keys if isinstance(k, tree.DictKey)]


def _in_axes_per_leaf(in_axes: AxisSpec, args: tuple, name: str) -> list:
    if isinstance(in_axes, list):
        in_axes = tuple(in_axes)
    if isinstance(in_axes, tuple) and len(in_axes) != len(args):
        raise errors.BatchAxisError(
            f"{name}: in_axes has {len(in_axes)} entries but the function was called with "
            f"{len(args)} positional argument{'s' if len(args) != 1 else ''}. Give one entry per "
            "positional argument (None for arguments that are the same for every example)."
        )
    return _broadcast_prefix(in_axes, args, name, "in_axes")


def vmap(
    fun: Callable, in_axes: AxisSpec = 0, out_axes: AxisSpec = 0, axis_size: int | None = None,
    axis_name: Hashable | None = None,
) -> Callable:
    """Vectorise ``fun`` over a batch axis: write it for one example, run it on many at once.

    ``vmap(f)(xs)`` gives the same values as stacking ``f(x)`` for each ``x`` in ``xs``, but
    every primitive runs once on the whole batch (a matrix product instead of a loop of vector
    products). Inside ``fun`` each argument looks like a single example (its shape has no
    batch axis). Python control flow cannot depend on batched values: use
    ``functrans.numpy.where``. It nests (``vmap(vmap(f))``) and composes with ``grad`` both
    ways: ``vmap(grad(loss), in_axes=(None, 0))(params, xs)`` gives per-example gradients.

    Args:
        fun: a function of arrays (pytrees) returning arrays (pytrees).
        in_axes: which axis of each positional argument is the batch axis: an int for all,
            ``None`` for an argument shared by every example, or a tuple with one entry per
            positional argument, each an int, ``None``, or a pytree of them for that argument.
            Negative axes count from the end. Keyword arguments are always mapped along
            their axis 0 (as in JAX): pass an unmapped value positionally with ``None``, or
            close over it.
        out_axes: where the batch axis goes in each output (same forms as ``in_axes``, matched
            against the output). ``None`` is allowed for outputs that do not depend on the batch.
        axis_size: the batch size, needed only when no argument is mapped.
        axis_name: a name for the batch axis (any hashable, usually a string), for the
            collectives over it inside ``fun``: ``functrans.lax.psum(x, name)`` sums ``x`` over
            the examples, ``pmean``, ``pmax``, ``pmin``, ``all_gather`` and ``axis_index`` as in
            JAX.

    Returns:
        The batched function.

    Raises:
        BatchAxisError: mapped axes of different sizes (the message names each argument and
            its size), an axis out of range, or ``in_axes`` not matching the arguments.

    Example:
        >>> import numpy as np, functrans as ft, functrans.numpy as fnp
        >>> W = np.arange(6.0).reshape(2, 3)
        >>> xs = np.ones((4, 3))
        >>> ft.vmap(lambda x: fnp.tanh(W @ x))(xs).shape
        (4, 2)
        >>> ft.vmap(lambda w, x: fnp.dot(w, x), in_axes=(None, 0))(np.ones(3), xs)
        array([3., 3., 3., 3.])
    """
    name = f"vmap({fun_name(fun)})"

    @functools.wraps(fun)
    def batched(*args: Any, **kwargs: Any) -> Any:
        axes = _in_axes_per_leaf(in_axes, args, name)
        if kwargs:  # keyword arguments are mapped along their axis 0, as in JAX
            flat = FlatFun(_with_keywords(fun), (*args, kwargs), name=name)
            axes += [0] * len(tree.leaves(kwargs))
            path_leaves, _ = tree.flatten_with_path((*args, kwargs))
        else:
            flat = FlatFun(fun, args, name=name)
            path_leaves, _ = tree.flatten_with_path(args)
        values: list = []
        dims: list[int | None] = []
        sizes: list[tuple] = []
        for (path, leaf), axis in zip(path_leaves, axes):
            if axis is None:
                values.append(leaf)
                dims.append(None)
                continue
            leaf = as_array(leaf)
            ndim = len(leaf.shape)
            if not -ndim <= axis < ndim:
                where = _describe_leaf(path, len(args))
                fix = ("Map an axis it has, or use None for a value shared by every example."
                       if len(path) < 2 or getattr(path[0], "idx", None) != len(args) else
                       "Keyword arguments are mapped along their axis 0 (as in JAX): pass a value "
                       "shared by every example positionally with in_axes None, or close over it "
                       "(functools.partial).")
                raise errors.BatchAxisError(
                    f"{name}: in_axes asks for axis {axis} of {where}, which has shape "
                    f"{tuple(leaf.shape)} ({ndim} dimension{'s' if ndim != 1 else ''}). {fix}"
                )
            axis %= ndim
            values.append(leaf)
            dims.append(axis)
            sizes.append((path, leaf.shape[axis], axis))
        size = _batch_size(sizes, axis_size, name, len(args))
        with named_scope(name):
            outs, out_dims = vmap_flat(flat, values, dims, size, name, axis_name, own_axis=True)
            out = flat.out_tree.unflatten(outs)  # for out_axes given as a prefix of the output
            out_axes_leaves = _broadcast_prefix(
                tuple(out_axes) if isinstance(out_axes, list) else out_axes, out, name, "out_axes")
            results = [_unbatch(leaf, dim, axis, size, name, values)
                       for leaf, dim, axis in zip(outs, out_dims, out_axes_leaves)]
        return flat.out_tree.unflatten(results)

    return batched


def _batch_size(sizes: list, axis_size: int | None, name: str, n_args: int) -> int:
    if axis_size is not None:
        if not isinstance(axis_size, numbers.Integral) or isinstance(axis_size, bool) or axis_size < 0:
            raise errors.BatchAxisError(
                f"{name}: axis_size must be a non-negative int (the number of examples), got "
                f"{axis_size!r}."
            )
        axis_size = int(axis_size)
    if not sizes:
        if axis_size is None:
            raise errors.BatchAxisError(
                f"{name}: no argument is mapped (every in_axes entry is None), so the batch size "
                "is unknown. Pass axis_size=n, or map an argument."
            )
        return int(axis_size)
    distinct = {n for _, n, _ in sizes}
    if axis_size is not None:
        distinct.add(int(axis_size))
    if len(distinct) > 1:
        listing = "; ".join(f"{_describe_leaf(path, n_args)} has size {n} on axis {axis}"
                            for path, n, axis in sizes)
        extra = f"; axis_size={axis_size}" if axis_size is not None else ""
        raise errors.BatchAxisError(
            f"{name}: the mapped axes must all have the same size (the batch size), but "
            f"{listing}{extra}. Fix the shapes, or use in_axes=None for arguments that are "
            "shared by every example rather than batched."
        )
    return distinct.pop()


def _unbatch(leaf: Any, dim: int | None, axis: int | None, size: int, name: str,
             inputs: list) -> Any:
    """An output leaf (batched along ``dim``, or ``None`` if it does not depend on the batch)
    with its batch axis at ``axis`` (broadcast if it has none; a scalar, which lives on no
    device, broadcast on the device of the first array on a device among ``inputs``)."""
    if dim is not None:
        if axis is None:
            raise errors.BatchAxisError(
                f"{name}: out_axes is None for an output that differs between examples (shape "
                f"{tuple(leaf.shape[:dim] + leaf.shape[dim + 1:])} per example). Give it an out_axes "
                "entry (0 puts the batch first)."
            )
        ndim = len(leaf.shape)
        if not -ndim <= axis < ndim:
            raise errors.BatchAxisError(
                f"{name}: out_axes={axis} is out of range for an output with {ndim - 1} "
                "dimensions per example."
            )
        return _move_axis(leaf, dim, axis % ndim)
    if axis is None:
        return leaf
    try:
        leaf = as_array(leaf)
    except TypeError:
        raise TypeError(
            f"{name}: the function returned a {type(leaf).__name__} among its outputs; vmap stacks "
            "each output over the batch, so outputs must be arrays or Python numbers. Return "
            "other values from outside the vmapped function, or give that output out_axes=None "
            "(it is then returned once, as it is)."
        ) from None
    if type(leaf) in SCALARS:
        where = device_array_among(inputs)
        if where is not None:
            leaf = scalar_beside(leaf, where)
    shape = tuple(leaf.shape)
    ndim = len(shape) + 1
    if not -ndim <= axis < ndim:
        raise errors.BatchAxisError(
            f"{name}: out_axes={axis} is out of range for an output with {ndim - 1} dimensions "
            "per example."
        )
    axis %= ndim
    dims = tuple(d for d in range(ndim) if d != axis)
    return broadcast_in_dim_p.bind(leaf, shape=shape[:axis] + (size,) + shape[axis:], broadcast_dimensions=dims)


def _move_axis(x: Any, source: int, destination: int) -> Any:
    if source == destination:
        return x
    perm = [i for i in range(len(x.shape)) if i != source]
    perm.insert(destination, source)
    return transpose_p.bind(x, permutation=tuple(perm))
