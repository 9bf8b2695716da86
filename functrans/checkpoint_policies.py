"""Policies for ``functrans.checkpoint(fun, policy=...)``: which values of a checkpointed
call the backward pass keeps instead of computing them again (JAX's
``jax.checkpoint_policies``).

A policy is a function ``policy(prim, *args, **params) -> bool`` called for each primitive
the checkpointed function applies (``args`` are its arguments, with ``shape`` and ``dtype``
where they are arrays; ``params`` its parameters); ``True`` means its outputs are saved.
The answer must be ``True`` or ``False`` (a NumPy bool too): any other value, even a truthy
one, is refused with a ``TypeError``, as JAX does (JAX's ``Saveable``/``Recompute`` markers
are spelled ``True``/``False`` here).
A saved primitive is differentiated as if it were not checkpointed: it is computed once,
and what its derivative reads is kept (its inputs, for a matrix product). Everything
between two saved primitives is recomputed in the backward pass, from the saved values.

Example:
    >>> import numpy as np, functrans as ft, functrans.numpy as fnp
    >>> from functrans import checkpoint_policies as cp
    >>> layer = lambda w, x: fnp.tanh(w @ x)
    >>> saved = ft.checkpoint(layer, policy=cp.dots_saveable)  # the products are not recomputed
    >>> w, x = np.eye(2), np.array([0.5, -0.5])
    >>> g = ft.grad(lambda w: fnp.sum(saved(w, saved(w, x))))(w)
    >>> g.round(4)
    array([[ 0.6959, -0.6959],
           [ 0.6959, -0.6959]])
    >>> np.allclose(g, ft.grad(lambda w: fnp.sum(layer(w, layer(w, x))))(w))
    True
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from functrans.lax.checkpoint import name_p
from functrans.primitives import dot_general_p

__all__ = [
    "checkpoint_dots",
    "checkpoint_dots_with_no_batch_dims",
    "dots_saveable",
    "dots_with_no_batch_dims_saveable",
    "everything_saveable",
    "nothing_saveable",
    "save_any_names_but_these",
    "save_anything_except_these_names",
    "save_from_both_policies",
    "save_only_these_names",
]

Policy = Callable[..., bool]


def everything_saveable(prim: Any, *args: Any, **params: Any) -> bool:
    """Save every value: nothing is recomputed (as if the function were not checkpointed).

    Example:
        >>> everything_saveable(dot_general_p)
        True
    """
    return True


def nothing_saveable(prim: Any, *args: Any, **params: Any) -> bool:
    """Save no value: the whole call is recomputed (``checkpoint``'s default).

    Example:
        >>> nothing_saveable(dot_general_p)
        False
    """
    return False


def dots_saveable(prim: Any, *args: Any, **params: Any) -> bool:
    """Save the results of matrix products (``@``, ``dot``, ``matmul``, ``einsum``,
    ``tensordot``): only the cheaper operations between them are recomputed.

    Example:
        >>> dots_saveable(dot_general_p, dimension_numbers=(((1,), (0,)), ((), ())))
        True
    """
    return prim is dot_general_p


def dots_with_no_batch_dims_saveable(prim: Any, *args: Any, **params: Any) -> bool:
    """Save the results of matrix products without batch dimensions (a batched ``matmul``
    of stacks, or an ``einsum`` with an index kept on both operands and the result, is
    recomputed).

    Example:
        >>> dots_with_no_batch_dims_saveable(dot_general_p, dimension_numbers=(((2,), (1,)), ((0,), (0,))))
        False
    """
    if prim is not dot_general_p:
        return False
    (_, _), (lhs_batch, rhs_batch) = params["dimension_numbers"]
    return not lhs_batch and not rhs_batch


#: JAX's older name of ``dots_saveable``.
checkpoint_dots = dots_saveable
#: JAX's older name of ``dots_with_no_batch_dims_saveable``.
checkpoint_dots_with_no_batch_dims = dots_with_no_batch_dims_saveable


def save_only_these_names(*names: str) -> Policy:
    """Save only the values named by ``functrans.checkpoint_name(x, name)`` with one of
    ``names``.

    Example:
        >>> policy = save_only_these_names("hidden")
        >>> policy(name_p, name="hidden"), policy(name_p, name="other"), policy(dot_general_p)
        (True, False, False)
    """
    kept = frozenset(names)
    return lambda prim, *args, **params: prim is name_p and params["name"] in kept


def save_any_names_but_these(*names: str) -> Policy:
    """Save the values named by ``functrans.checkpoint_name``, except those with one of
    ``names``; unnamed values are not saved.

    Example:
        >>> policy = save_any_names_but_these("hidden")
        >>> policy(name_p, name="hidden"), policy(name_p, name="other"), policy(dot_general_p)
        (False, True, False)
    """
    dropped = frozenset(names)
    return lambda prim, *args, **params: prim is name_p and params["name"] not in dropped


def save_anything_except_these_names(*names: str) -> Policy:
    """Save every value except those named by ``functrans.checkpoint_name`` with one of
    ``names``.

    Example:
        >>> policy = save_anything_except_these_names("hidden")
        >>> policy(name_p, name="hidden"), policy(name_p, name="other"), policy(dot_general_p)
        (False, True, True)
    """
    dropped = frozenset(names)
    return lambda prim, *args, **params: not (prim is name_p and params["name"] in dropped)


def save_from_both_policies(policy_1: Policy, policy_2: Policy) -> Policy:
    """Save what either policy saves.

    Example:
        >>> policy = save_from_both_policies(dots_saveable, save_only_these_names("hidden"))
        >>> policy(name_p, name="hidden"), policy(dot_general_p, dimension_numbers=None)
        (True, True)
    """
    return lambda prim, *args, **params: policy_1(prim, *args, **params) or policy_2(prim, *args, **params)
