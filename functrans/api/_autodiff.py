"""The public transformations: grad, value_and_grad, vjp, jvp, stop_gradient.

Each takes a function and gives back a function (or, for vjp and jvp, evaluates one), over
pytrees of inputs and outputs. They are thin: argument handling and checks here, the work
in ``transforms/`` (forward mode, linearize, transpose).
"""
from __future__ import annotations

import functools
from typing import Any, Callable, Sequence

import numpy as np

from functrans import errors, tree
from functrans._api_util import (
    as_array, check_differentiable_inputs, check_holomorphic_inputs, check_scalar_output, fun_name,
    normalize_argnums, split_aux,
)
from functrans.backend import backend_of
from functrans.core.trace import Tracer, new_trace
from functrans.core.zeros import zero
from functrans.primitives.conversion import full_like, stop_gradient_p
from functrans._abstract import PY_SCALARS
from functrans.interpreters.jvp import JVPTrace, JVPTracer, split_output
from functrans.interpreters.linearize import linearize_flat
from functrans.interpreters.transpose import transpose_program

PyTree = Any


def _zeros_for(x):
    return full_like(x, 0) if type(x) not in PY_SCALARS else np.zeros((), np.result_type(x))


def _ones_for(x):
    """The seed cotangent 1, of ``x``'s dtype, on ``x``'s device (a constant: no tracer)."""
    if type(x) in PY_SCALARS:
        return np.ones((), np.result_type(x))
    if isinstance(x, Tracer):
        try:
            x_value = x.to_concrete()
        except errors.TracerConversionError:  # an abstract value: let the trace make the ones
            return full_like(x, 1)
    else:
        x_value = x
    backend = backend_of(x_value)
    return backend.ones(x.shape, x.dtype, backend.device_of(x_value))


def _strip_tracers(aux, trace):
    """Auxiliary outputs leave the transformation as plain values (without derivatives)."""
    return tree.map(lambda v: v.primal if type(v) is JVPTracer and v._trace is trace else v, aux)


def value_and_grad(
    fun: Callable, argnums: int | Sequence[int] = 0, has_aux: bool = False, *,
    allow_int: bool = False, holomorphic: bool = False,
) -> Callable:
    """A function that returns ``fun``'s value and its gradient with respect to ``argnums``.

    Args:
        fun: a function returning a scalar (or ``(scalar, aux)`` with ``has_aux=True``).
        argnums: which positional argument(s) to differentiate: an int or a tuple of ints.
        has_aux: ``fun`` returns a pair whose second element is passed through undifferentiated.
        allow_int: integer inputs get a zero gradient instead of raising an error.
        holomorphic: ``fun`` is complex-differentiable and returns a complex scalar; the
            gradient is its complex derivative ``f'(z)`` (inputs must be complex).

    Returns:
        A function returning ``(value, gradient)`` (``((value, aux), gradient)`` with
        ``has_aux``), the gradient shaped like the differentiated argument(s): one pytree
        for an int ``argnums``, a tuple of them for a tuple.

    Example:
        >>> import functrans as ft
        >>> value, g = ft.value_and_grad(lambda x: x ** 2)(3.0)
        >>> float(value), float(g)
        (9.0, 6.0)
    """
    name = f"value_and_grad({fun_name(fun)})"
    return _make_value_and_grad(fun, argnums, has_aux, allow_int, name, with_value=True,
                                holomorphic=holomorphic)


def grad(
    fun: Callable, argnums: int | Sequence[int] = 0, has_aux: bool = False, *,
    allow_int: bool = False, holomorphic: bool = False,
) -> Callable:
    """The gradient of a scalar-valued function, as a new function.

    ``grad(f)(x)`` is the derivative of ``f`` at ``x`` (for arrays: the array of partial
    derivatives, shaped like ``x``). Nest it for higher derivatives: ``grad(grad(f))``.
    Python control flow inside ``f`` may depend on the values of its inputs.

    Complex inputs (see docs/complex.md): for a real-valued ``fun`` of ``z = x + iy`` the
    gradient is ``df/dx - i df/dy``, the ``g`` with ``df = Re(g * dz)``, as in JAX; so
    ``z - lr * conj(g)`` is a descent step, and the gradient of ``|z|**2`` is ``2 * conj(z)``.

    Args:
        fun: a function returning a float scalar (or ``(scalar, aux)`` with ``has_aux=True``).
        argnums: which positional argument(s) to differentiate: an int or a tuple of ints.
        has_aux: ``fun`` returns a pair whose second element is returned alongside the
            gradient, undifferentiated.
        allow_int: integer inputs get a zero gradient instead of raising an error.
        holomorphic: ``fun`` is complex-differentiable and returns a complex scalar; the
            gradient is its complex derivative ``f'(z)`` (inputs must be complex).

    Returns:
        A function with ``fun``'s signature returning the gradient (``(gradient, aux)`` with
        ``has_aux``).

    Example:
        >>> import functrans as ft
        >>> float(ft.grad(lambda x: x ** 3)(2.0))
        12.0
        >>> float(ft.grad(ft.grad(lambda x: x ** 3))(2.0))
        12.0
        >>> complex(ft.grad(lambda z: z ** 2, holomorphic=True)(1.0 + 1.0j))
        (2+2j)
    """
    name = f"grad({fun_name(fun)})"
    return _make_value_and_grad(fun, argnums, has_aux, allow_int, name, with_value=False,
                                holomorphic=holomorphic)


def _make_value_and_grad(fun, argnums, has_aux, allow_int, name, with_value, holomorphic=False):
    @functools.wraps(fun)
    def transformed(*args, **kwargs):
        nums = normalize_argnums(argnums, len(args), name)
        flat, argnum_of, treedefs = [], [], []
        for n in nums:
            leaves, treedef = tree.flatten(args[n])
            treedefs.append((treedef, len(leaves)))
            flat.extend(as_array(leaf) for leaf in leaves)
            argnum_of.extend([n] * len(leaves))

        def paths():
            return [path for n in nums for path, _ in tree.flatten_with_path(args[n])[0]]
        check_differentiable_inputs(flat, paths, argnum_of, name, allow_int)
        if holomorphic:
            check_holomorphic_inputs(flat, paths, argnum_of, name)

        def flat_fun(tracers):
            new_args = list(args)
            start = 0
            for n, (treedef, count) in zip(nums, treedefs):
                new_args[n] = treedef.unflatten(tracers[start:start + count])
                start += count
            out = fun(*new_args, **kwargs)
            aux = None
            if has_aux:
                out, aux = split_aux(out, name)
                aux = _strip_tracers(aux, tracers[0]._trace) if tracers else aux
            check_scalar_output(out, name, holomorphic)
            return [out], aux

        (value,), program, aux = linearize_flat(flat_fun, flat, name)
        ct_leaves = transpose_program(program, [_ones_for(value)], consume=True)
        grads = [
            _zeros_for(x) if ct is None else ct for x, ct in zip(flat, ct_leaves)
        ]
        grads_per_arg = []
        start = 0
        for treedef, count in treedefs:
            grads_per_arg.append(treedef.unflatten(grads[start:start + count]))
            start += count
        g = grads_per_arg[0] if isinstance(argnums, int) else tuple(grads_per_arg)
        if with_value:
            return ((value, aux), g) if has_aux else (value, g)
        return (g, aux) if has_aux else g

    return transformed


def vjp(fun: Callable, *primals: PyTree, has_aux: bool = False):
    """Evaluate ``fun(*primals)`` and return a function for its vector-Jacobian product.

    Reverse mode: the returned ``vjp_fun(cotangent)`` maps a cotangent shaped like the
    output to cotangents shaped like the inputs (a tuple, one per primal). It can be called
    many times; each call costs about as much as one evaluation of ``fun``.

    Args:
        fun: a function of arrays (pytrees) returning arrays (pytrees).
        *primals: the point at which to linearize ``fun``.
        has_aux: ``fun`` returns ``(output, aux)``; ``aux`` is returned as a third value.

    Returns:
        ``(output, vjp_fun)``, or ``(output, vjp_fun, aux)`` with ``has_aux``.

    Example:
        >>> import numpy as np, functrans as ft, functrans.numpy as fnp
        >>> out, f_vjp = ft.vjp(fnp.sin, np.array([0.0, 1.0]))
        >>> f_vjp(np.ones(2))[0]
        array([1.        , 0.54030231])
    """
    name = f"vjp({fun_name(fun)})"
    leaves, in_treedef = tree.flatten(tuple(primals))
    flat = [as_array(leaf) for leaf in leaves]
    argnum_of = [n for n, primal in enumerate(primals) for _ in tree.leaves(primal)]

    def paths():  # only for error messages
        return [path[1:] for path, _ in tree.flatten_with_path(tuple(primals))[0]]

    check_differentiable_inputs(flat, paths, argnum_of, name, allow_int=True)

    def flat_fun(tracers):
        out = fun(*in_treedef.unflatten(tracers))
        aux = None
        if has_aux:
            out, aux = split_aux(out, name)
            aux = _strip_tracers(aux, tracers[0]._trace) if tracers else aux
        out_leaves, out_treedef = tree.flatten(out)
        return out_leaves, (out_treedef, aux)

    out_flat, program, (out_treedef, aux) = linearize_flat(flat_fun, flat, name)
    out = out_treedef.unflatten(out_flat)

    def vjp_fun(cotangent):
        ct_leaves, ct_treedef = tree.flatten(cotangent)
        if ct_treedef != out_treedef:
            tree.assert_same_structure(out, cotangent, names=("the output", "the cotangent"))
        checked = []
        for i, (o, ct) in enumerate(zip(out_flat, ct_leaves)):
            ct = as_array(ct)
            if tuple(ct.shape) != tuple(getattr(o, "shape", ())):
                raise errors.TangentMismatchError(
                    f"{name}: the cotangent for output leaf {i} has shape {tuple(ct.shape)}, but "
                    f"the output has shape {tuple(o.shape)}. Pass a cotangent shaped like "
                    "the output (for example fnp.ones_like(out))."
                )
            checked.append(ct)
        cts = transpose_program(program, checked)
        grads = [_zeros_for(x) if ct is None else ct for x, ct in zip(flat, cts)]
        return in_treedef.unflatten(grads)

    return (out, vjp_fun, aux) if has_aux else (out, vjp_fun)


def jvp(fun: Callable, primals: Sequence[PyTree], tangents: Sequence[PyTree], has_aux: bool = False):
    """Evaluate ``fun`` at ``primals`` and its directional derivative along ``tangents``.

    Forward mode: one evaluation gives the output and the Jacobian-vector product, at about
    twice the cost of ``fun``.

    Args:
        fun: a function of arrays (pytrees) returning arrays (pytrees).
        primals: a tuple or list of the arguments.
        tangents: a tuple or list of the same structure, shapes and dtypes as ``primals``.
        has_aux: ``fun`` returns ``(output, aux)``; ``aux`` is returned as a third value.

    Returns:
        ``(output, output_tangent)`` (plus ``aux`` with ``has_aux``).

    Example:
        >>> import functrans as ft, functrans.numpy as fnp
        >>> y, dy = ft.jvp(fnp.sin, (0.0,), (2.0,))
        >>> float(y), float(dy)
        (0.0, 2.0)
    """
    name = f"jvp({fun_name(fun)})"
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise errors.TangentMismatchError(
            f"{name}: primals and tangents must be tuples (or lists) of arguments, got "
            f"{type(primals).__name__} and {type(tangents).__name__}. Write jvp(f, (x,), (v,))."
        )
    primals, tangents = tuple(primals), tuple(tangents)
    p_leaves, p_treedef = tree.flatten(primals)
    t_leaves, t_treedef = tree.flatten(tangents)
    if p_treedef != t_treedef:
        tree.assert_same_structure(primals, tangents, names=("primals", "tangents"))
    flat_p, flat_t = [], []
    for i, (p, t) in enumerate(zip(p_leaves, t_leaves)):
        p = as_array(p)
        t = np.asarray(t, dtype=p.dtype) if type(t) in PY_SCALARS else as_array(t)
        if tuple(t.shape) != tuple(p.shape) or t.dtype != p.dtype:
            where = tree.keystr(tree.flatten_with_path(primals)[0][i][0])
        if tuple(t.shape) != tuple(p.shape):
            raise errors.TangentMismatchError(
                f"{name}: the tangent at primals{where} has shape {tuple(t.shape)} but the primal "
                f"has shape {tuple(p.shape)}. Each tangent must have its primal's shape and dtype."
            )
        if t.dtype != p.dtype:
            raise errors.TangentMismatchError(
                f"{name}: the tangent at primals{where} has dtype {t.dtype} but the primal has "
                f"dtype {p.dtype}. Each tangent must have its primal's dtype: convert it with "
                f".astype({p.dtype})."
            )
        flat_p.append(p)
        flat_t.append(t)
    with new_trace(JVPTrace, name) as trace:
        tracers = [JVPTracer(trace, p, t) for p, t in zip(flat_p, flat_t)]
        out = fun(*p_treedef.unflatten(tracers))
        aux = None
        if has_aux:
            out, aux = split_aux(out, name)
            aux = _strip_tracers(aux, trace)
        out_leaves, out_treedef = tree.flatten(out)
        out_p, out_t = [], []
        for leaf in out_leaves:
            primal, tangent = split_output(trace, leaf)
            out_p.append(primal)
            out_t.append(_zeros_for(primal) if tangent is zero else tangent)
    result = (out_treedef.unflatten(out_p), out_treedef.unflatten(out_t))
    return result + (aux,) if has_aux else result


def stop_gradient(x: PyTree) -> PyTree:
    """The same values, treated as constants by every derivative (like ``torch.no_grad``
    for one expression, or ``tensor.detach()``).

    Example:
        >>> import functrans as ft
        >>> float(ft.grad(lambda x: x * ft.stop_gradient(x))(3.0))
        3.0
    """
    return tree.map(lambda leaf: stop_gradient_p.bind(leaf) if type(leaf) not in PY_SCALARS else leaf, x)
