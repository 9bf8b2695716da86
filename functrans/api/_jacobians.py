"""Jacobians: ``jacfwd`` (forward mode over the unit vectors of the inputs, batched),
``jacrev`` (the backward pass over the unit vectors of the outputs, batched) and ``hessian``.

Both stack one derivative per unit vector with ``vmap_basis_flat``: one batched pass, not a
Python loop, in which the unit vectors stay a symbolic scaled identity as long as the steps
allow (functrans.interpreters.basis), and are built, on the device of the value they stand
beside, only for the steps that need them as an array.
"""
from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

from functrans import tree
from functrans.api._autodiff import strip_aux, zeros_for
from functrans.api._checks import (
    as_array,
    check_complex_outputs,
    check_differentiable_inputs,
    check_float_outputs,
    check_holomorphic_inputs,
    check_real_inputs,
    concrete_or_none,
    describe_leaves,
    device_array_among,
    is_placeless,
    zeros_beside,
)
from functrans.backend import backend_of
from functrans.core.flatten import FlatFun, fun_name, normalize_argnums, python_argnums
from functrans.core.staging import scalar_kind
from functrans.core.trace import Tracer, named_scope
from functrans.core.zeros import zero
from functrans.interpreters.basis import unit_basis, vmap_basis_flat
from functrans.interpreters.basis_transpose import transpose_on_basis
from functrans.interpreters.jvp import jvp_flat
from functrans.interpreters.linearize import linearize_flat
from functrans.primitives import reshape_p, slice_p, transpose_p
from functrans.primitives._define import NOT_MAPPED, bdim_at_front


def _array_among(beside: Sequence) -> Any:
    """The first array among ``beside`` (the arguments) that has a place: a concrete array on
    a device, or a value of a jit recording that stands for an array (placed when the
    program runs); None if there are only host arrays and scalars."""
    found = device_array_among(beside)
    if found is not None:
        return found
    for value in beside:
        for leaf in tree.leaves(value):
            if isinstance(leaf, Tracer) and concrete_or_none(leaf) is None and scalar_kind(leaf) is None:
                return leaf
    return None


def _likes(leaves: Sequence, beside: Sequence) -> list:
    """For each leaf, a value on its device to build its unit vectors on: the concrete array
    where one is known, else the leaf itself (staged by jit: made when the program runs). A
    scalar (on no device, or standing for a Python scalar in a jit recording) takes the
    place of the first array among ``beside`` (the arguments) that has one, if there is one."""
    out = []
    where = None
    for x in leaves:
        like = concrete_or_none(x)
        if is_placeless(x) if like is not None else scalar_kind(x) is not None:
            if where is None:
                where = _array_among(beside)
            if where is not None:
                like = where
        out.append(x if like is None else like)
    return out


def _placed(leaves: list, likes: list) -> list:
    """The inputs, each scalar (on no device) whose unit vectors would go on a device (see
    ``_likes``) made an array there: the values computed from it (the scales of the unit
    vectors among them) then live beside its derivatives."""
    for i, (x, like) in enumerate(zip(leaves, likes)):
        if type(x) is not type(like) and is_placeless(x) and not isinstance(x, Tracer):
            backend = backend_of(like)
            leaves[i] = backend.full((), x, x.dtype, backend.device_of(like))
    return leaves


def _reshape(x: Any, shape: tuple) -> Any:
    return x if tuple(x.shape) == shape else reshape_p.bind(x, new_sizes=shape)


def _slice(x: Any, start: Sequence[int], limit: Sequence[int]) -> Any:
    return slice_p.bind(x, start_indices=tuple(start), limit_indices=tuple(limit),
                        strides=(1,) * len(start))


def _rows(x: Any, start: int, count: int) -> Any:
    """Rows ``start:start+count`` of ``x`` along its first axis."""
    if start == 0 and count == x.shape[0]:
        return x
    return _slice(x, (start,) + (0,) * (len(x.shape) - 1), (start + count,) + tuple(x.shape[1:]))


def _first_axis_last(x: Any) -> Any:
    ndim = len(x.shape)
    return x if ndim == 1 else transpose_p.bind(x, permutation=tuple(range(1, ndim)) + (0,))


def _batch_first(t: Any, dim: int | None, like: Any, size: int, beside: Sequence = ()) -> Any:
    """A derivative computed under ``vmap_flat`` as an array with the basis index first (a
    zero beside a scalar on the device of the first array on a device among ``beside``)."""
    if t is zero:
        like = as_array(like)
        t = zeros_beside(like, device_array_among(beside)) if is_placeless(like) else None
        if t is None:
            t = zeros_for(like)
    return bdim_at_front(as_array(t), dim, size)


def _arguments(fun: Callable, args: tuple, kwargs: dict, argnums: int | Sequence[int], has_aux: bool,
               name: str, holomorphic: bool, real_inputs: bool,
               allow_int: bool | None = None) -> tuple[FlatFun, list]:
    """The function of the flat leaves of the arguments to differentiate, and those leaves
    (checked to be float or complex; all complex with ``holomorphic``; all real if
    ``real_inputs`` and not ``holomorphic``)."""
    nums = normalize_argnums(argnums, len(args), name)
    flat = FlatFun(fun, args, kwargs, nums, has_aux, name)
    leaves = [as_array(leaf) for leaf in flat.leaves]
    describe = describe_leaves(args, nums)
    check_differentiable_inputs(leaves, describe, name, allow_int=bool(allow_int),
                                int_fix=allow_int is not None)
    if holomorphic:
        check_holomorphic_inputs(leaves, describe, name)
    elif real_inputs:
        check_real_inputs(leaves, describe, name)
    return flat, leaves


def _per_input(flat: FlatFun, blocks: list, argnums: int | Sequence[int]) -> Any:
    """The blocks of one output leaf, in the structure of the differentiated arguments."""
    per_arg = flat.unflatten(blocks)
    return per_arg[0] if isinstance(argnums, int) else per_arg


def jacfwd(fun: Callable, argnums: int | Sequence[int] = 0, has_aux: bool = False, *,
           holomorphic: bool = False) -> Callable:
    """The Jacobian of ``fun`` by forward mode: ``jvp`` vectorised with ``vmap`` over the
    unit vectors of the inputs (one batched forward pass, not a Python loop).

    Cheaper than ``jacrev`` when there are fewer inputs than outputs. For an output leaf of
    shape ``out`` and an input leaf of shape ``in`` the block has shape ``out + in``; the
    result has the output's structure with, at each leaf, the input's structure (a tuple
    over ``argnums`` when it is a tuple).

    Args:
        fun: a function of arrays (pytrees) returning arrays (pytrees).
        argnums: which positional argument(s) to differentiate: an int or a tuple of ints.
        has_aux: ``fun`` returns ``(output, aux)``; the result is then ``(jacobian, aux)``.
        holomorphic: ``fun`` is complex-differentiable; its inputs must be complex and the
            Jacobian holds the complex derivatives. Without it the inputs must be real (as in
            JAX; the outputs may be complex).

    Returns:
        A function with ``fun``'s signature returning the Jacobian.

    Example:
        >>> import numpy as np, functrans as ft, functrans.numpy as fnp
        >>> ft.jacfwd(lambda x: x ** 2)(np.array([1.0, 2.0]))
        array([[2., 0.],
               [0., 4.]])
    """
    return _forward_jacobian(fun, argnums, has_aux, holomorphic, f"jacfwd({fun_name(fun)})")


def _forward_jacobian(fun: Callable, argnums: int | Sequence[int], has_aux: bool,
                      holomorphic: bool, name: str) -> Callable:
    """``jacfwd``, its errors and scopes called ``name`` (``hessian`` is one too)."""
    argnums = python_argnums(argnums)

    @functools.wraps(fun)
    def jacobian(*args: Any, **kwargs: Any) -> Any:
        flat, leaves = _arguments(fun, args, kwargs, argnums, has_aux, name, holomorphic,
                                  real_inputs=True)
        likes = _likes(leaves, (args, kwargs))
        leaves = _placed(leaves, likes)
        basis = unit_basis(leaves, likes)
        sizes = [b.size for b in basis]
        total = sum(sizes)
        n_out: list[int] = []

        def traced(tracers: list) -> list:
            outs = flat(tracers)
            strip_aux(flat, tracers)
            return outs

        def forward(basis_tracers: list) -> list:  # jvp along every unit vector at once
            primals, tangents = jvp_flat(traced, leaves, basis_tracers, name)
            n_out[:] = [len(primals)]
            return primals + tangents

        with named_scope(name):
            if len(leaves) == 1 and is_placeless(likes[0]):
                # one scalar on no device (no argument is on a device): its one unit vector
                # is the scalar 1, which meets the arrays the function closes over wherever
                # they live, and one jvp is the whole batch
                outs = forward([leaves[0].dtype.type(1)])
                dims = [NOT_MAPPED] * len(outs)
            else:
                outs, dims = vmap_basis_flat(forward, basis, name)
            primals, tangents = outs[:n_out[0]], outs[n_out[0]:]
            check_float_outputs(primals, name, flat.out_tree)
            if holomorphic:
                check_complex_outputs(primals, name, flat.out_tree, holomorphic)
            jac_leaves = []
            for p, t, dim in zip(primals, tangents, dims[n_out[0]:]):
                t = _batch_first(t, dim, p, total, (primals, args, kwargs))  # (N, *out)
                out_shape = tuple(as_array(p).shape)
                t = _first_axis_last(t)  # (*out, N)
                blocks, start = [], 0
                for x, n in zip(leaves, sizes):
                    block = t if len(leaves) == 1 else _slice(
                        t, (0,) * len(out_shape) + (start,), out_shape + (start + n,))
                    blocks.append(_reshape(block, out_shape + tuple(x.shape)))
                    start += n
                jac_leaves.append(_per_input(flat, blocks, argnums))
        jac = flat.out_tree.unflatten(jac_leaves)
        return (jac, flat.aux) if has_aux else jac

    return jacobian


def jacrev(fun: Callable, argnums: int | Sequence[int] = 0, has_aux: bool = False, *,
           holomorphic: bool = False, allow_int: bool = False) -> Callable:
    """The Jacobian of ``fun`` by reverse mode: the function returned by ``vjp`` vectorised
    with ``vmap`` over the unit vectors of the outputs (one linearization, one batched
    backward pass).

    Cheaper than ``jacfwd`` when there are fewer outputs than inputs. The result has the same
    layout as ``jacfwd``'s: output structure outside, input structure inside, blocks of shape
    ``out + in``.

    Args:
        fun: a function of arrays (pytrees) returning arrays (pytrees).
        argnums: which positional argument(s) to differentiate: an int or a tuple of ints.
        has_aux: ``fun`` returns ``(output, aux)``; the result is then ``(jacobian, aux)``.
        holomorphic: ``fun`` is complex-differentiable; its inputs and outputs must be
            complex and the Jacobian holds the complex derivatives. Without it the outputs
            must be real (as in JAX; the inputs may be complex).
        allow_int: integer inputs get a zero block (of their dtype) instead of raising an
            error.

    Returns:
        A function with ``fun``'s signature returning the Jacobian.

    Example:
        >>> import numpy as np, functrans as ft, functrans.numpy as fnp
        >>> J = ft.jacrev(lambda x: fnp.sin(x) * x[0])(np.array([0.0, 1.0]))
        >>> J.round(4)
        array([[0.    , 0.    ],
               [0.8415, 0.    ]])
    """
    name = f"jacrev({fun_name(fun)})"
    argnums = python_argnums(argnums)

    @functools.wraps(fun)
    def jacobian(*args: Any, **kwargs: Any) -> Any:
        flat, leaves = _arguments(fun, args, kwargs, argnums, has_aux, name, holomorphic,
                                  real_inputs=False, allow_int=allow_int)

        def traced(tracers: list) -> list:
            outs = flat(tracers)
            strip_aux(flat, tracers)
            return outs

        leaves = _placed(leaves, _likes(leaves, (args, kwargs)))
        with named_scope(name):
            out_leaves, program = linearize_flat(traced, leaves, name)
            out_leaves = [as_array(leaf) for leaf in out_leaves]
            check_float_outputs(out_leaves, name, flat.out_tree)
            check_complex_outputs(out_leaves, name, flat.out_tree, holomorphic)
            basis = unit_basis(out_leaves, _likes(out_leaves, (args, kwargs)))
            sizes = [b.size for b in basis]
            total = sum(sizes)
            # the backward pass along every unit vector of the outputs at once
            cts, dims = transpose_on_basis(program, basis, name)
            rows = [_batch_first(ct, d, x, total, (out_leaves, args, kwargs))
                    for ct, d, x in zip(cts, dims, leaves)]
            jac_leaves, start = [], 0
            for leaf, m in zip(out_leaves, sizes):
                blocks = [_reshape(_rows(r, start, m), tuple(leaf.shape) + tuple(x.shape))
                          for r, x in zip(rows, leaves)]
                jac_leaves.append(_per_input(flat, blocks, argnums))
                start += m
        jac = flat.out_tree.unflatten(jac_leaves)
        return (jac, flat.aux) if has_aux else jac

    return jacobian


jacobian = jacrev
"""JAX's other name for ``jacrev`` (``jax.jacobian``): the same function."""


def hessian(fun: Callable, argnums: int | Sequence[int] = 0, has_aux: bool = False, *,
            holomorphic: bool = False) -> Callable:
    """The Hessian of a scalar function: ``jacfwd(jacrev(fun))`` (reverse mode for the
    gradient, forward mode over it, the cheapest combination for a dense Hessian).

    Args:
        fun: a function returning a scalar (or ``(scalar, aux)`` with ``has_aux``).
        argnums: which positional argument(s) to differentiate: an int or a tuple of ints.
        has_aux: ``fun`` returns ``(output, aux)``; the result is then ``(hessian, aux)``.
        holomorphic: ``fun`` is complex-differentiable (complex inputs and output).

    Returns:
        A function returning the Hessian: for an input of shape ``s``, an array of shape
        ``s + s`` (nested by the input structure for pytrees and tuples of argnums).

    Example:
        >>> import numpy as np, functrans as ft, functrans.numpy as fnp
        >>> A = np.array([[1.0, 2.0], [0.0, 3.0]])
        >>> ft.hessian(lambda x: x @ A @ x)(np.ones(2))  # A + A.T
        array([[2., 2.],
               [2., 6.]])
    """
    return _forward_jacobian(jacrev(fun, argnums, has_aux, holomorphic=holomorphic), argnums,
                             has_aux, holomorphic, f"hessian({fun_name(fun)})")
