"""The public transformations built on the interpreters in ``transforms/``: vmap, jacfwd,
jacrev, hessian, linearize, linear_transpose, make_jaxpr (custom rules and checkpoint are in
``transforms/custom.py`` and ``transforms/checkpoint.py``).

Argument handling and checks are here; the work is done by ``BatchTrace`` (vmap), by
``jvp``/``vjp`` under ``vmap`` (the Jacobians), and by the staged programs of
``core/ir.py`` (linearize, linear_transpose, make_jaxpr).
"""
from __future__ import annotations

import functools
import math
from typing import Any, Callable, Sequence

import numpy as np

from functrans import errors, tree
from functrans._api_util import (
    as_array, check_differentiable_inputs, fun_name, normalize_argnums, split_aux,
)
from functrans.api import _strip_tracers, _zeros_for
from functrans.backend import backend_of
from functrans.core.ir import StagingTrace, Var, format_program
from functrans.core.trace import Tracer, new_trace
from functrans.core.zeros import zero
from functrans._abstract import PY_SCALARS
from functrans.primitives.shape import broadcast_in_dim, reshape
from functrans.interpreters.jvp import JVPTrace, JVPTracer, split_output
from functrans.interpreters.linearize import LinearProgram, linearize_flat
from functrans.interpreters.transpose import transpose_program
from functrans.interpreters.batching import BatchTrace, BatchTracer
from functrans.primitives._define import move_axis

PyTree = Any
AxisSpec = Any  # an int, None, or a pytree of them matching a prefix of the arguments


# =============================================================================================
# vmap
# =============================================================================================


def _describe_leaf(path) -> str:
    """``argument 1['w']`` for the leaf at ``path`` of the positional-arguments tuple."""
    if not path:
        return "the argument"
    head, rest = path[0], path[1:]
    index = getattr(head, "idx", None)
    where = f"argument {index}" if index is not None else str(head)
    return where + (tree.keystr(rest) if rest else "")


def _broadcast_prefix(prefix, full, name: str, what: str) -> list:
    """One axis per leaf of ``full``: ``prefix`` is an int or None (for the whole subtree) or a
    tuple/list/dict of such prefixes mirroring ``full``'s containers."""
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
        for key in _dict_order(full):
            out.extend(_broadcast_prefix(prefix[key], full[key], name, what))
        return out
    raise errors.BatchAxisError(
        f"{name}: {what} must be an int, None, or a tuple/list/dict of them that mirrors the "
        f"values; got {prefix!r} for a value of type {type(full).__name__}."
    )


def _dict_order(d: dict) -> list:
    """The keys of ``d`` in the order ``tree.flatten`` visits them."""
    probe = {k: i for i, k in enumerate(d)}
    return [list(d)[i] for i in tree.leaves(probe)]


def _in_axes_per_leaf(in_axes, args: tuple, name: str) -> list:
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
            Negative axes count from the end. Keyword arguments are never mapped.
        out_axes: where the batch axis goes in each output (same forms as ``in_axes``, matched
            against the output). ``None`` is allowed for outputs that do not depend on the batch.
        axis_size: the batch size, needed only when no argument is mapped.

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
    def batched(*args, **kwargs):
        path_leaves, treedef = tree.flatten_with_path(args)
        axes = _in_axes_per_leaf(in_axes, args, name)
        leaves, sizes = [], []
        for (path, leaf), axis in zip(path_leaves, axes):
            if axis is None:
                leaves.append(leaf)
                continue
            leaf = as_array(leaf)
            ndim = len(leaf.shape)
            if not -ndim <= axis < ndim:
                raise errors.BatchAxisError(
                    f"{name}: in_axes asks for axis {axis} of {_describe_leaf(path)}, which has "
                    f"shape {tuple(leaf.shape)} ({ndim} dimension{'s' if ndim != 1 else ''}). "
                    "Map an axis it has, or use None for a value shared by every example."
                )
            axis %= ndim
            leaves.append((leaf, axis))
            sizes.append((path, leaf.shape[axis], axis))
        size = _batch_size(sizes, axis_size, name)
        with new_trace(BatchTrace, name) as trace:
            trace.axis_size = size
            tracers = [
                leaf if axis is None else BatchTracer(trace, leaf[0], leaf[1])
                for leaf, axis in zip(leaves, axes)
            ]
            out = fun(*treedef.unflatten(tracers), **kwargs)
            out_leaves, out_treedef = tree.flatten(out)
            out_axes_leaves = _broadcast_prefix(
                tuple(out_axes) if isinstance(out_axes, list) else out_axes, out, name, "out_axes")
            results = [_unbatch(leaf, axis, trace, size, name)
                       for leaf, axis in zip(out_leaves, out_axes_leaves)]
        return out_treedef.unflatten(results)

    return batched


def _batch_size(sizes, axis_size, name: str) -> int:
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
        listing = "; ".join(f"{_describe_leaf(path)} has size {n} on axis {axis}"
                            for path, n, axis in sizes)
        extra = f"; axis_size={axis_size}" if axis_size is not None else ""
        raise errors.BatchAxisError(
            f"{name}: the mapped axes must all have the same size (the batch size), but "
            f"{listing}{extra}. Fix the shapes, or use in_axes=None for arguments that are "
            "shared by every example rather than batched."
        )
    return distinct.pop()


def _unbatch(leaf, axis, trace, size: int, name: str):
    """An output leaf with its batch axis at ``axis`` (broadcast if it does not depend on it)."""
    if type(leaf) is BatchTracer and leaf._trace is trace:
        value, dim = leaf.value, leaf.batch_dim
        if axis is None:
            raise errors.BatchAxisError(
                f"{name}: out_axes is None for an output that differs between examples (shape "
                f"{leaf.shape} per example). Give it an out_axes entry (0 puts the batch first)."
            )
        ndim = len(value.shape)
        if not -ndim <= axis < ndim:
            raise errors.BatchAxisError(
                f"{name}: out_axes={axis} is out of range for an output with {ndim - 1} "
                "dimensions per example."
            )
        return move_axis(value, dim, axis % ndim)
    if axis is None:
        return leaf
    leaf = as_array(leaf)
    shape = tuple(leaf.shape)
    ndim = len(shape) + 1
    if not -ndim <= axis < ndim:
        raise errors.BatchAxisError(
            f"{name}: out_axes={axis} is out of range for an output with {ndim - 1} dimensions "
            "per example."
        )
    axis %= ndim
    dims = [d for d in range(ndim) if d != axis]
    return broadcast_in_dim(leaf, shape[:axis] + (size,) + shape[axis:], dims)


# =============================================================================================
# Jacobians: vmap of jvp (forward) and of the vjp function (reverse)
# =============================================================================================


class _Paths(list):
    """Key paths for ``check_differentiable_inputs``, which takes them as a list or (lazily)
    as a function returning the list: this is both."""

    def __call__(self):
        return self


def _dyn_args(args, argnums, name: str):
    """The arguments to differentiate, flattened, and a function of them alone."""
    nums = normalize_argnums(argnums, len(args), name)
    dyn = tuple(args[n] for n in nums)
    leaves, in_treedef = tree.flatten(dyn)
    flat = [as_array(leaf) for leaf in leaves]
    if not all(x.dtype.kind in "fc" for x in flat):  # key paths only for the error message
        path_leaves, _ = tree.flatten_with_path(dyn)
        check_differentiable_inputs(flat, _Paths(p[1:] for p, _ in path_leaves),
                                    [nums[p[0].idx] for p, _ in path_leaves], name, allow_int=False)
    return nums, dyn, flat, in_treedef


def _with_args(fun, args, nums, kwargs):
    def partial(*dyn_args):
        new_args = list(args)
        for n, a in zip(nums, dyn_args):
            new_args[n] = a
        return fun(*new_args, **kwargs)

    return partial


def _concrete_for(x):
    """A concrete array on the device to build a basis for ``x`` on (None for abstract values,
    whose basis is built on the host)."""
    if isinstance(x, Tracer):
        try:
            return x.to_concrete()
        except errors.TracerConversionError:
            return None
    return x


def _zeros(xp, shape, dtype):
    return xp.zeros(shape, dtype=dtype)


def _zeros_like_value(x):
    """Zeros of ``x``'s shape and dtype on its device (the host for abstract values)."""
    return _on_device_of(x, _zeros, tuple(x.shape), x.dtype)


def _eye_block(xp, total, n, start, dtype):
    """Rows ``start .. start+n`` of the identity of size ``total``, as ``(total, n)``."""
    return xp.eye(total, n, -start, dtype=dtype)


def _on_device_of(x, maker, *args):
    like = _concrete_for(x)
    if like is None:  # no value yet (staged by jit): made on x's device when the program runs
        from functrans.primitives.conversion import constant_like

        return constant_like(x, maker, *args)
    return backend_of(like).make_like(like, maker, *args)


def _basis(leaves):
    """For leaves of sizes n_i (total N): leaf i's block of the N x N identity, shaped
    ``(N, *shape_i)``, so that row k of the stacked blocks is the k-th unit vector."""
    sizes = [math.prod(x.shape) for x in leaves]
    total = sum(sizes)
    out, start = [], 0
    for x, n in zip(leaves, sizes):
        block = _on_device_of(x, _eye_block, total, n, start, x.dtype)
        out.append(block.reshape((total,) + tuple(x.shape)))
        start += n
    return out, sizes


def _rows(x, start: int, count: int):
    """Rows ``start:start+count`` of ``x`` along its first axis."""
    if start == 0 and count == x.shape[0]:
        return x
    return _shape_prims.slice_(x, (start,) + (0,) * (len(x.shape) - 1),
                               (start + count,) + tuple(x.shape[1:]))


def _check_float_outputs(leaves, name: str):
    for i, leaf in enumerate(leaves):
        dtype = np.result_type(leaf) if type(leaf) in PY_SCALARS else leaf.dtype
        if dtype.kind not in "fc":
            raise errors.InputDtypeError(
                f"{name}: output leaf {i} has dtype {dtype}, which has no derivative. Compute the "
                "outputs in floats, or return integer values as auxiliary data (has_aux=True)."
            )


def jacfwd(fun: Callable, argnums: int | Sequence[int] = 0, has_aux: bool = False) -> Callable:
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

    Returns:
        A function with ``fun``'s signature returning the Jacobian.

    Example:
        >>> import numpy as np, functrans as ft, functrans.numpy as fnp
        >>> ft.jacfwd(lambda x: x ** 2)(np.array([1.0, 2.0]))
        array([[2., 0.],
               [0., 4.]])
    """
    name = f"jacfwd({fun_name(fun)})"

    @functools.wraps(fun)
    def jacobian(*args, **kwargs):
        nums, dyn, flat, in_treedef = _dyn_args(args, argnums, name)
        partial = _with_args(fun, args, nums, kwargs)
        basis, sizes = _basis(flat)
        total = sum(sizes)
        # vmap over the basis of jvp, with the two traces started directly (the public
        # functions would re-check and re-flatten what is already known here)
        with new_trace(BatchTrace, name) as batch_trace:
            batch_trace.axis_size = total
            with new_trace(JVPTrace, name) as jvp_trace:
                tracers = [JVPTracer(jvp_trace, x, BatchTracer(batch_trace, b, 0))
                           for x, b in zip(flat, basis)]
                out = partial(*in_treedef.unflatten(tracers))
                aux = None
                if has_aux:
                    out, aux = split_aux(out, name)
                    aux = _strip_tracers(aux, jvp_trace)
                out_leaves, out_treedef = tree.flatten(out)
                pairs = [split_output(jvp_trace, leaf) for leaf in out_leaves]
            _check_float_outputs([p for p, _ in pairs], name)
            columns = [_batched_rows(t, p, batch_trace, total) for p, t in pairs]
        jac_leaves = []
        for (leaf, _), t in zip(pairs, columns):
            out_shape = tuple(as_array(leaf).shape)
            t = move_axis(t, 0, len(t.shape) - 1)  # (*out, N)
            blocks, start = [], 0
            for x, n in zip(flat, sizes):
                block = t if len(flat) == 1 else _last_axis_slice(t, start, n)
                blocks.append(reshape(block, out_shape + tuple(x.shape)))
                start += n
            per_input = in_treedef.unflatten(blocks)
            jac_leaves.append(per_input[0] if isinstance(argnums, int) else per_input)
        jac = out_treedef.unflatten(jac_leaves)
        return (jac, aux) if has_aux else jac

    return jacobian


def _batched_rows(t, like, trace, size: int):
    """A derivative computed under ``trace`` as an array with the basis index first."""
    if type(t) is BatchTracer and t._trace is trace:
        return move_axis(t.value, t.batch_dim, 0)
    if t is zero or t is None:
        t = _zeros_for(as_array(like))
    t = as_array(t)
    shape = tuple(t.shape)
    return broadcast_in_dim(t, (size,) + shape, range(1, len(shape) + 1))


def _last_axis_slice(x, start: int, count: int):
    shape = tuple(x.shape)
    return _shape_prims.slice_(x, (0,) * (len(shape) - 1) + (start,), shape[:-1] + (start + count,))


def jacrev(fun: Callable, argnums: int | Sequence[int] = 0, has_aux: bool = False) -> Callable:
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

    @functools.wraps(fun)
    def jacobian(*args, **kwargs):
        nums, dyn, flat, in_treedef = _dyn_args(args, argnums, name)
        partial = _with_args(fun, args, nums, kwargs)

        def flat_fun(tracers):
            out = partial(*in_treedef.unflatten(tracers))
            aux = None
            if has_aux:
                out, aux = split_aux(out, name)
                aux = _strip_tracers(aux, tracers[0]._trace) if tracers else aux
            out_leaves, out_treedef = tree.flatten(out)
            return out_leaves, (out_treedef, aux)

        out_leaves, program, (out_treedef, aux) = linearize_flat(flat_fun, flat, name)
        out_leaves = [as_array(leaf) for leaf in out_leaves]
        _check_float_outputs(out_leaves, name)
        basis, sizes = _basis(out_leaves)
        total = sum(sizes)
        # vmap of the backward pass over the basis, started directly
        with new_trace(BatchTrace, name) as batch_trace:
            batch_trace.axis_size = total
            cts = transpose_program(program, [BatchTracer(batch_trace, b, 0) for b in basis],
                                    consume=True)
            rows = [_batched_rows(ct, x, batch_trace, total) for ct, x in zip(cts, flat)]
        jac_leaves, start = [], 0
        for leaf, m in zip(out_leaves, sizes):
            blocks = [reshape(_rows(r, start, m), tuple(leaf.shape) + tuple(x.shape))
                      for r, x in zip(rows, flat)]
            per_input = in_treedef.unflatten(blocks)
            jac_leaves.append(per_input[0] if isinstance(argnums, int) else per_input)
            start += m
        jac = out_treedef.unflatten(jac_leaves)
        return (jac, aux) if has_aux else jac

    return jacobian


def hessian(fun: Callable, argnums: int | Sequence[int] = 0, has_aux: bool = False) -> Callable:
    """The Hessian of a scalar function: ``jacfwd(jacrev(fun))`` (reverse mode for the
    gradient, forward mode over it, the cheapest combination for a dense Hessian).

    Args:
        fun: a function returning a scalar (or ``(scalar, aux)`` with ``has_aux``).
        argnums: which positional argument(s) to differentiate: an int or a tuple of ints.
        has_aux: ``fun`` returns ``(output, aux)``; the result is then ``(hessian, aux)``.

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
    return jacfwd(jacrev(fun, argnums, has_aux), argnums, has_aux)


# =============================================================================================
# linearize and linear_transpose: the recorded linear program, evaluated or transposed
# =============================================================================================


def eval_program(trace, in_vars, inputs, outputs):
    """Run a recorded program on values for its inputs; ``outputs`` are Vars (or ``zero``,
    given back as ``None``). Constants (residuals) are used as recorded."""
    env = [None] * trace.num_vars
    for var, value in zip(in_vars, inputs):
        env[var.index] = value
    for eqn in trace.eqns:
        args = [env[a.index] if type(a) is Var and a._trace is trace else a for a in eqn.args]
        if type(eqn) is Var:
            env[eqn.index] = eqn.prim.bind(*args, **eqn.params)
        else:
            for o, value in zip(eqn.out, eqn.prim.bind(*args, **eqn.params)):
                env[o.index] = value
    return [None if o is zero else (env[o.index] if type(o) is Var and o._trace is trace else o)
            for o in outputs]


def _checked_tangents(name, what, values, treedef, like_leaves):
    leaves, value_treedef = tree.flatten(values)
    if value_treedef != treedef:
        tree.assert_same_structure(treedef.unflatten(like_leaves), values,
                                   names=(f"the {what}s expected", f"the {what}s given"))
    out = []
    for i, (value, like) in enumerate(zip(leaves, like_leaves)):
        value = np.asarray(value, dtype=like.dtype) if type(value) in PY_SCALARS else as_array(value)
        if tuple(value.shape) != tuple(like.shape):
            raise errors.TangentMismatchError(
                f"{name}: the {what} for leaf {i} has shape {tuple(value.shape)}, but it must have "
                f"shape {tuple(like.shape)} (that of the value it stands beside)."
            )
        out.append(value)
    return out


def linearize(fun: Callable, *primals: PyTree) -> tuple[PyTree, Callable]:
    """Evaluate ``fun`` at ``primals`` and record its derivative there as a linear function.

    The returned ``f_jvp(*tangents)`` equals ``jvp(fun, primals, tangents)[1]`` but does not
    run ``fun`` again: it replays the recorded tangent program (the same one ``vjp``
    transposes), which pays off when many tangents are pushed through one point.

    Args:
        fun: a function of arrays (pytrees) returning arrays (pytrees).
        *primals: the point at which to linearize.

    Returns:
        ``(output, f_jvp)``; ``f_jvp`` takes one tangent per primal (same structure and shapes).

    Example:
        >>> import numpy as np, functrans as ft, functrans.numpy as fnp
        >>> y, f_jvp = ft.linearize(fnp.sin, np.array([0.0, np.pi]))
        >>> f_jvp(np.array([1.0, 2.0]))
        array([ 1., -2.])
    """
    name = f"linearize({fun_name(fun)})"
    path_leaves, in_treedef = tree.flatten_with_path(tuple(primals))
    flat = [as_array(leaf) for _, leaf in path_leaves]
    check_differentiable_inputs(flat, _Paths(p[1:] for p, _ in path_leaves),
                                [p[0].idx for p, _ in path_leaves], name, allow_int=True)

    def flat_fun(tracers):
        out_leaves, out_treedef = tree.flatten(fun(*in_treedef.unflatten(tracers)))
        return out_leaves, out_treedef

    out_flat, program, out_treedef = linearize_flat(flat_fun, flat, name)

    def f_jvp(*tangents):
        flat_t = _checked_tangents(name, "tangent", tuple(tangents), in_treedef, flat)
        outs = eval_program(program.trace, program.in_vars, flat_t, program.out_tangents)
        return out_treedef.unflatten([_zeros_for(p) if t is None else t for p, t in zip(out_flat, outs)])

    return out_treedef.unflatten(out_flat), f_jvp


def _stage(fun, leaves, treedef, name, kwargs=None):
    """Record ``fun`` on abstract inputs shaped like ``leaves``: (trace, in_vars, outputs, tree)."""
    with new_trace(StagingTrace, name) as trace:
        in_vars = [trace.new_var(tuple(x.shape), np.dtype(x.dtype)) for x in leaves]
        out = fun(*treedef.unflatten(in_vars), **(kwargs or {}))
        out_leaves, out_treedef = tree.flatten(out)
    return trace, in_vars, out_leaves, out_treedef


def linear_transpose(fun: Callable, *primals: PyTree) -> Callable:
    """The transpose of a linear function: ``f_t(ct)`` returns ``<ct, fun(x)> = <f_t(ct), x>``.

    ``fun`` is recorded once on abstract inputs shaped like ``primals`` (only their shapes
    and dtypes matter) and its program is transposed, as ``vjp`` does for a linearized one.

    Args:
        fun: a function linear in its arguments (a matrix product, a sum, a slice...).
        *primals: arrays (or objects with ``shape`` and ``dtype``) like ``fun``'s arguments.

    Returns:
        ``f_t(cotangent)``, taking a cotangent shaped like ``fun``'s output and returning a
        tuple of cotangents, one per argument.

    Raises:
        NotLinearError: ``fun`` applies a non-linear operation to its inputs.

    Example:
        >>> import numpy as np, functrans as ft
        >>> A = np.array([[1.0, 2.0], [3.0, 4.0]])
        >>> f_t = ft.linear_transpose(lambda x: A @ x, np.zeros(2))
        >>> f_t(np.array([1.0, 0.0]))  # A.T @ ct
        (array([1., 2.]),)
    """
    name = f"linear_transpose({fun_name(fun)})"
    leaves, in_treedef = tree.flatten(tuple(primals))
    leaves = [as_array(leaf) for leaf in leaves]
    trace, in_vars, out_leaves, out_treedef = _stage(fun, leaves, in_treedef, name)
    for eqn in trace.eqns:
        if eqn.prim.transpose is None:
            raise errors.NotLinearError(
                f"{name}: the function applies {eqn.prim.name!r}, which is not linear, to its "
                "inputs, so it has no transpose. linear_transpose is for linear functions; for "
                "the transpose of a derivative use functrans.vjp(f, x)."
            )
    out_tangents = [o if trace.is_own(o) else zero for o in out_leaves]
    program = LinearProgram(trace, in_vars, out_tangents)

    def f_transpose(cotangent):
        cts = _checked_tangents(name, "cotangent", cotangent, out_treedef, out_leaves)
        try:
            in_cts = transpose_program(program, cts)
        except ValueError as error:
            raise errors.NotLinearError(
                f"{name}: the function is not linear in its inputs ({error}). linear_transpose "
                "is for linear functions; use functrans.vjp for derivatives."
            ) from None
        return in_treedef.unflatten([_zeros_like_value(x) if ct is None else ct
                                     for x, ct in zip(leaves, in_cts)])

    return f_transpose


# =============================================================================================
# make_jaxpr: the program as functrans records it
# =============================================================================================


class StagedProgram:
    """A function recorded as a flat program (what ``make_jaxpr`` returns).

    ``str(program)`` prints one equation a line, with shapes and dtypes; ``eqns`` lists the
    equations; calling it runs the program on new inputs of the same shapes.
    """

    __slots__ = ("_trace", "inputs", "outputs", "_in_treedef", "_out_treedef")

    def __init__(self, trace, inputs, outputs, in_treedef, out_treedef):
        self._trace = trace
        self.inputs = inputs
        self.outputs = outputs
        self._in_treedef = in_treedef
        self._out_treedef = out_treedef

    @property
    def eqns(self) -> list:
        return list(self._trace.eqns)

    def __call__(self, *args):
        leaves = tree.leaves(args)
        outs = eval_program(self._trace, self.inputs, leaves, self.outputs)
        return self._out_treedef.unflatten(outs)

    def __str__(self) -> str:
        return format_program(self._trace, self.inputs, self.outputs)

    __repr__ = __str__


def make_jaxpr(fun: Callable) -> Callable[..., StagedProgram]:
    """Show the program functrans records for ``fun``: every primitive it applies, in order.

    The inputs are abstract (only shapes and dtypes), so every operation on them is recorded
    and Python control flow on their values raises an error. Transformations inside ``fun``
    show what they compute: ``make_jaxpr(grad(f))`` prints the forward pass and the backward
    pass, ``make_jaxpr(vmap(f))`` the batched operations. It is the same program format that
    ``vjp`` and ``linearize`` record internally.

    Args:
        fun: a function of arrays (pytrees); keyword arguments are passed through unrecorded.

    Returns:
        A function with ``fun``'s signature returning a ``StagedProgram`` (print it).

    Example:
        >>> import numpy as np, functrans as ft, functrans.numpy as fnp
        >>> print(ft.make_jaxpr(lambda x: fnp.sin(x) * 2.0)(np.ones(3)))
        { lambda v0:float64[3] .
            v1:float64[3] = sin[] v0
            v2:float64[3] = mul[] v1 2.0
          in (v2) }
    """
    name = f"make_jaxpr({fun_name(fun)})"

    @functools.wraps(fun)
    def staged(*args, **kwargs) -> StagedProgram:
        leaves, in_treedef = tree.flatten(args)
        leaves = [as_array(leaf) for leaf in leaves]
        trace, in_vars, out_leaves, out_treedef = _stage(fun, leaves, in_treedef, name, kwargs)
        return StagedProgram(trace, in_vars, out_leaves, in_treedef, out_treedef)

    return staged


from functrans.primitives import shape as _shape_prims  # noqa: E402


# =============================================================================================
# jit: stage once per input signature, then replay the recorded primitives
# =============================================================================================

_JIT_CACHE_SIZE = 64


def jit(fun: Callable, static_argnums: int | Sequence[int] = (),
        static_argnames: str | Sequence[str] = ()) -> Callable:
    """Record ``fun`` once per input signature and replay the recorded primitives afterwards.

    The first call with arrays of given shapes and dtypes (and given pytree structure and
    static arguments) stages ``fun`` on abstract values, as ``make_jaxpr`` does, drops the
    operations no output needs, and keeps the program. Later calls with the same signature
    run the program's primitives directly, without the Python work of tracing, JVP rules and
    transposition: ``jit(value_and_grad(loss))`` gives the same numbers as the eager
    function, several times faster on small arrays. Nothing is compiled: the primitives still
    run on NumPy (or CuPy), one after another.

    What changes under ``jit``, as in JAX:

    - values are abstract while the function is staged, so Python control flow that depends
      on them (``if x > 0``) raises; use ``functrans.numpy.where``, or make the argument
      static, or do not jit that function;
    - Python scalars (``int``, ``float``, ``bool``) and the arguments named by
      ``static_argnums``/``static_argnames`` are part of the signature, by value: a new value
      stages the function again. Pass arrays for values that change on every call;
    - arrays the function reads from outside (closures, globals) are captured as they were
      at the first call; pass them as arguments if they change;
    - side effects (print, appending to a list) happen once, while staging.

    ``jit`` composes with the other transformations: ``grad(jit(f))``, ``jit(grad(f))``,
    ``vmap(jit(f))`` all work.

    Args:
        fun: a function of arrays (pytrees) returning arrays (pytrees).
        static_argnums: positions of arguments that are not arrays (hashable configuration).
        static_argnames: names of keyword arguments that are not arrays.

    Returns:
        A function with ``fun``'s signature.

    Example:
        >>> import numpy as np, functrans as ft, functrans.numpy as fnp
        >>> step = ft.jit(ft.grad(lambda w, x: fnp.sum(fnp.tanh(x @ w))))
        >>> w, x = np.zeros(3), np.ones((4, 3))
        >>> step(w, x)  # staged on this call, replayed on the next ones
        array([4., 4., 4.])
    """
    name = f"jit({fun_name(fun)})"
    static_nums = (static_argnums,) if isinstance(static_argnums, int) else tuple(static_argnums)
    static_names = (static_argnames,) if isinstance(static_argnames, str) else tuple(static_argnames)
    if not callable(fun):
        raise TypeError(f"jit: expected a function, got {type(fun).__name__}.")
    cache: dict = {}

    @functools.wraps(fun)
    def jitted(*args, **kwargs):
        static_args, dynamic_args = _split_static(name, args, static_nums)
        static_kwargs = tuple(sorted((k, kwargs[k]) for k in static_names if k in kwargs))
        dynamic_kwargs = {k: v for k, v in kwargs.items() if k not in static_names}
        leaves, in_treedef = tree.flatten((dynamic_args, dynamic_kwargs))
        signature, dynamic_leaves = _signature(name, leaves)
        key = (in_treedef, signature, static_args, static_kwargs)
        try:
            entry = cache.get(key)
        except TypeError:
            raise TypeError(
                f"{name}: a static argument is not hashable ({static_args!r}, {static_kwargs!r}); "
                "static arguments are part of the cache key, so they must be hashable (use a "
                "tuple instead of a list)."
            ) from None
        if entry is None:
            plan, out_treedef = _stage_for_jit(fun, name, static_args, static_kwargs,
                                               in_treedef, leaves)
            if holds_outer_tracers(plan):  # valid for this call only: run it through bind
                return out_treedef.unflatten(plan.bind(dynamic_leaves))
            if len(cache) >= _JIT_CACHE_SIZE:
                cache.pop(next(iter(cache)))
            entry = cache[key] = plan, out_treedef
        plan, out_treedef = entry
        if any(isinstance(leaf, Tracer) for leaf in dynamic_leaves):
            return out_treedef.unflatten(plan.bind(dynamic_leaves))
        return out_treedef.unflatten(plan.run(dynamic_leaves))

    jitted.clear_cache = cache.clear  # type: ignore[attr-defined]
    return jitted


def _split_static(name, args, static_nums):
    """The static arguments as ``(position, value)`` pairs (negative positions normalised),
    and the arguments with ``None`` in the static positions."""
    if not static_nums:
        return (), args
    n = len(args)
    positions = set()
    for i in static_nums:
        if not -n <= i < n:
            raise ValueError(f"{name}: static_argnums={i} is out of range for a call with {n} arguments.")
        positions.add(i % n)
    static = tuple((i, args[i]) for i in sorted(positions))
    dynamic = tuple(None if i in positions else a for i, a in enumerate(args))
    return static, dynamic


def _signature(name, leaves):
    """The cache-key part of the dynamic leaves, and the leaves the program takes as inputs
    (arrays; Python scalars are keyed by value and baked into the program)."""
    signature = []
    dynamic = []
    for i, leaf in enumerate(leaves):
        kind = type(leaf)
        if kind in PY_SCALARS:
            signature.append((kind, leaf))
            continue
        shape, dtype = getattr(leaf, "shape", None), getattr(leaf, "dtype", None)
        if shape is None or dtype is None:
            raise TypeError(
                f"{name}: argument leaf {i} is a {kind.__name__}, not an array. jit takes arrays "
                "(and pytrees of them) as arguments; pass configuration through static_argnums "
                "or static_argnames, or close over it."
            )
        if kind is not np.ndarray and issubclass(kind, np.generic):
            kind = np.ndarray  # NumPy scalars and 0-d arrays stage alike: one signature
        device = None
        if kind is not np.ndarray and not isinstance(leaf, Tracer):
            device = backend_of(leaf).device_of(leaf)  # a plan keeps constants on one device
        signature.append((kind, tuple(shape), np.dtype(dtype), device))
        dynamic.append(leaf)
    return tuple(signature), dynamic


def _stage_for_jit(fun, name, static_args, static_kwargs, in_treedef, leaves):
    """Stage ``fun`` with abstract values for the array leaves; returns (plan, out_treedef)."""
    with new_trace(StagingTrace, name) as trace:
        in_vars = []
        staged_leaves = []
        for leaf in leaves:
            if type(leaf) in PY_SCALARS:
                staged_leaves.append(leaf)
            else:
                var = trace.new_var(tuple(leaf.shape), np.dtype(leaf.dtype))
                in_vars.append(var)
                staged_leaves.append(var)
        dynamic_args, dynamic_kwargs = in_treedef.unflatten(staged_leaves)
        static = dict(static_args)
        call_args = [static[i] if i in static else a for i, a in enumerate(dynamic_args)]
        try:
            out = fun(*call_args, **dynamic_kwargs, **dict(static_kwargs))
        except errors.TracerConversionError as error:
            reason = str(error).split("\n(See ")[0]  # the docs link is added again below
            raise errors.TracerConversionError(
                f"{name}: {reason} Under jit the arguments are abstract while the function is "
                "recorded; if a value decides the control flow, pass it as a static argument "
                "(static_argnums / static_argnames), or call the function without jit."
            ) from None
        out_leaves, out_treedef = tree.flatten(out)
    return ReplayPlan(trace, in_vars, out_leaves), out_treedef


from functrans.interpreters.replay import ReplayPlan, holds_outer_tracers  # noqa: E402
