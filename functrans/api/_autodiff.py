"""Derivatives: grad, value_and_grad, vjp, jvp, linearize, linear_transpose, stop_gradient.

Each takes a function and gives back a function (or, for vjp, jvp and linearize, evaluates
one), over pytrees of inputs and outputs. They are thin: argument handling and checks here,
the work in the interpreters (forward mode, linearize, transpose).
"""
from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from functrans import errors, tree
from functrans._abstract import PY_SCALARS, dtype_of, shape_of
from functrans.api._checks import (
    SCALARS,
    as_array,
    check_array_outputs,
    check_cotangent_dtype,
    check_differentiable_inputs,
    check_holomorphic_inputs,
    check_scalar_output,
    checked_tangents,
    describe_leaves,
    device_array_among,
    output_name,
    primal_leaf,
    scalar_beside,
    zeros_beside,
)
from functrans.backend import backend_of, to_host
from functrans.core.flatten import FlatFun, fun_name, normalize_argnums, python_argnums
from functrans.core.staging import eval_program, stage
from functrans.core.trace import Tracer, enter_scope, exit_scope, named_scope
from functrans.core.zeros import zero
from functrans.interpreters.jvp import JVPTracer, jvp_flat
from functrans.interpreters.linearize import apart_from, linearize_flat, own_residuals
from functrans.interpreters.transpose import transpose_program
from functrans.primitives import full_like_p, stop_gradient_p

PyTree = Any


def zeros_for(x: Any) -> Any:
    """Zeros of ``x``'s shape and dtype, on ``x``'s device (the gradient of an input that
    does not influence the output)."""
    if type(x) in PY_SCALARS:
        return np.zeros((), np.result_type(x))
    return full_like_p.bind(x, fill_value=0, shape=tuple(x.shape), dtype=x.dtype)


def ones_for(x: Any) -> Any:
    """The seed cotangent 1, of ``x``'s dtype, on ``x``'s device (a constant: no tracer)."""
    if type(x) in _NUMPY_VALUES:  # on the host (the commonest case, without the backend's work)
        return _host_ones(x)
    if type(x) is JVPTracer:  # (the output of an inner grad: its concrete value is a primal)
        value = x.primal
        while type(value) is JVPTracer:
            value = value.primal
        if type(value) in _NUMPY_VALUES:
            return _host_ones(value)
        if type(value) in PY_SCALARS:  # (a Python number differentiated at: weakly typed)
            x = value
    if type(x) in PY_SCALARS:
        return _ones_0d(dtype_of(x))
    if isinstance(x, Tracer):
        try:
            x_value = x.to_concrete()
        except errors.TracerConversionError:  # an abstract value: let the trace make the ones
            return full_like_p.bind(x, fill_value=1, shape=shape_of(x), dtype=dtype_of(x))
        if type(x_value) in _NUMPY_VALUES:
            return _host_ones(x_value)
    else:
        x_value = x
    backend = backend_of(x_value)
    return backend.ones(x.shape, x.dtype, backend.device_of(x_value))


_NUMPY_VALUES = frozenset({np.ndarray} | {np.dtype(code).type for code in np.typecodes["All"]})
# A 0-d array of ones per dtype, copied for each seed of a scalar output (a copy costs a
# fraction of ``np.ones``)
_ONES_0D: dict = {}


def _host_ones(x: Any) -> Any:
    """``np.ones(x.shape, x.dtype)`` for a NumPy array or scalar ``x``."""
    if x.shape:
        return np.ones(x.shape, x.dtype)
    return _ones_0d(x.dtype)


def _ones_0d(dtype: np.dtype) -> Any:
    """A new 0-d array of ones of ``dtype``."""
    one = _ONES_0D.get(dtype)
    if one is None:
        one = _ONES_0D[dtype] = np.ones((), dtype)
    return one.copy()


def materialize(cts: Sequence, likes: Sequence, beside: Sequence = ()) -> list:
    """The cotangents (or tangents) with each symbolic ``zero`` made an array of zeros like
    the value it stands beside; beside a scalar primal (on no device), on the device of the
    first array on a device among ``beside`` (pytrees: outputs, arguments) if there is one."""
    out = []
    where = None
    for x, ct in zip(likes, cts):
        if ct is zero:
            if where is None and beside:
                where = device_array_among(beside)
            ct = zeros_beside(x, where)
            if ct is None:
                ct = zeros_for(x)
        out.append(ct)
    return out


def strip_aux(flat: FlatFun, tracers: Sequence) -> None:
    """The auxiliary output of ``flat`` (run on ``tracers``) leaves the transformation as
    plain values: each tracer of the transformation's JVP trace is replaced by its primal."""
    if not flat.has_aux:
        return
    trace = next((t._trace for t in tracers if isinstance(t, JVPTracer)), None)
    if trace is not None:
        flat.aux = tree.map(lambda v: v.primal if type(v) is JVPTracer and v._trace is trace else v, flat.aux)


def value_and_grad(
    fun: Callable, argnums: int | Sequence[int] = 0, has_aux: bool = False, *,
    allow_int: bool = False, holomorphic: bool = False,
) -> Callable:
    """A function that returns ``fun``'s value and its gradient with respect to ``argnums``.

    Args:
        fun: a function returning a scalar (or ``(scalar, aux)`` with ``has_aux=True``).
        argnums: which positional argument(s) to differentiate: an int or a tuple of ints.
        has_aux: ``fun`` returns a pair whose second element is passed through undifferentiated.
        allow_int: integer and boolean inputs get a zero gradient instead of raising an
            error: zeros of the input's shape and dtype (JAX gives its ``float0`` dtype,
            which NumPy arithmetic refuses; these can be added to the parameter as they are).
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

    A Python float argument stays weakly typed, as under ``jit``: ``fun`` computes
    ``x32 * c`` in float32, and the gradient with respect to ``c`` has its default dtype
    (float64).

    Args:
        fun: a function returning a float scalar (or ``(scalar, aux)`` with ``has_aux=True``).
        argnums: which positional argument(s) to differentiate: an int or a tuple of ints.
        has_aux: ``fun`` returns a pair whose second element is returned alongside the
            gradient, undifferentiated.
        allow_int: integer and boolean inputs get a zero gradient instead of raising an
            error: zeros of the input's shape and dtype (JAX gives its ``float0`` dtype,
            which NumPy arithmetic refuses; these can be added to the parameter as they are).
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


def _make_value_and_grad(fun: Callable, argnums: int | Sequence[int], has_aux: bool, allow_int: bool,
                         name: str, with_value: bool, holomorphic: bool = False) -> Callable:
    argnums = python_argnums(argnums)
    checked_argnums: dict[int, tuple[int, ...]] = {}  # by number of arguments
    # grad of one argument without aux and holomorphic: an argument that is one array, scalar
    # or tracer of a float or complex dtype takes ``_grad_of_leaf`` (the same derivative,
    # without the pytree and the checks' general machinery: this is every call of a nested
    # ``grad(grad(f))(x)``)
    one_leaf = isinstance(argnums, int) and not has_aux and not holomorphic and not with_value

    @functools.wraps(fun)
    def transformed(*args: Any, **kwargs: Any) -> Any:
        nums = checked_argnums.get(len(args))
        if nums is None:
            nums = checked_argnums[len(args)] = normalize_argnums(argnums, len(args), name)
        if one_leaf:
            arg = args[nums[0]]
            kind = type(arg)
            if kind is float:  # (weakly typed: the primal stays a Python float)
                return _grad_of_leaf(fun, args, kwargs, nums[0], arg, name)
            if (kind is JVPTracer or kind in _NUMPY_VALUES) and arg.dtype.kind in "fc":
                return _grad_of_leaf(fun, args, kwargs, nums[0], arg, name)
        flat = FlatFun(fun, args, kwargs, nums, has_aux, name)
        leaves = flat.leaves
        for leaf in leaves:  # NumPy arrays of a float dtype (a model's parameters) pass as they are
            if type(leaf) is not np.ndarray or leaf.dtype.kind not in "fc":
                leaves = [primal_leaf(leaf) for leaf in leaves]
                check_differentiable_inputs(leaves, describe_leaves(args, nums), name, allow_int)
                break
        if holomorphic:
            check_holomorphic_inputs(leaves, describe_leaves(args, nums), name)

        def scalar_fun(tracers: list) -> list:
            out = flat.apply(tracers)
            if has_aux:
                strip_aux(flat, tracers)
            check_scalar_output(out, name, holomorphic)
            return [out]

        outer = enter_scope(name)
        try:
            (value,), program = linearize_flat(scalar_fun, leaves, name)
            cts = transpose_program(program, [ones_for(value)], consume=True)
            per_arg = flat.unflatten(materialize(cts, leaves, (value, args)))
        finally:
            exit_scope(outer)
        g = per_arg[0] if isinstance(argnums, int) else per_arg
        if with_value:
            return ((value, flat.aux), g) if has_aux else (value, g)
        return (g, flat.aux) if has_aux else g

    return transformed


def _grad_of_leaf(fun: Callable, args: tuple, kwargs: dict, position: int, leaf: Any,
                  name: str) -> Any:
    """``grad(fun)(*args, **kwargs)`` with respect to ``args[position]``, an argument that is
    one array leaf ``leaf`` (the argument as an array) of a float or complex dtype: what
    ``_make_value_and_grad`` computes, without ``FlatFun`` and the per-leaf checks."""

    def scalar_fun(tracers: list) -> list:
        call_args = list(args)
        call_args[position] = tracers[0]
        out = fun(*call_args, **kwargs)
        check_scalar_output(out, name)
        return [out]

    outer = enter_scope(name)
    try:
        (value,), program = linearize_flat(scalar_fun, [leaf], name)
        (ct,) = transpose_program(program, [ones_for(value)], consume=True)
    finally:
        exit_scope(outer)
    return materialize([ct], [leaf], (value, args))[0] if ct is zero else ct


def vjp(fun: Callable, *primals: PyTree, has_aux: bool = False) -> tuple:
    """Evaluate ``fun(*primals)`` and return a function for its vector-Jacobian product.

    Reverse mode: the returned ``vjp_fun(cotangent)`` maps a cotangent shaped like the
    output to cotangents shaped like the inputs (a tuple, one per primal). It can be called
    many times; each call costs about as much as one evaluation of ``fun``. Writing into the
    primals or the returned output afterwards (``out -= target``) does not change it: it
    keeps copies of what it reads from them.

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
    flat = FlatFun(fun, primals, has_aux=has_aux, name=name)
    leaves = [primal_leaf(leaf) for leaf in flat.leaves]
    check_differentiable_inputs(leaves, describe_leaves(primals, range(len(primals))), name,
                                allow_int=True)

    def traced(tracers: list) -> list:
        outs = flat(tracers)
        strip_aux(flat, tracers)
        return outs

    with named_scope(name):
        out_flat, program = linearize_flat(traced, leaves, name)
    out_tree = flat.out_tree
    check_array_outputs(out_flat, name, out_tree)
    own_residuals(program, [*leaves, *out_flat, *(tree.leaves(flat.aux) if has_aux else ())])
    out = out_tree.unflatten(out_flat)

    def vjp_fun(cotangent: PyTree) -> tuple:
        ct_leaves, ct_tree = tree.flatten(cotangent)
        if ct_tree != out_tree:
            tree.assert_same_structure(out, cotangent, names=("the output", "the cotangent"))
        checked = []
        for i, (o, ct) in enumerate(zip(out_flat, ct_leaves)):
            ct = scalar_beside(ct, o) if type(ct) in SCALARS else as_array(ct)
            if tuple(ct.shape) != tuple(shape_of(o)):
                raise errors.TangentMismatchError(
                    f"{name}: the cotangent for {output_name(out_tree, i)} has shape "
                    f"{tuple(ct.shape)}, but the output has shape {tuple(shape_of(o))}. Pass a "
                    "cotangent shaped like the output (for example fnp.ones_like(out))."
                )
            ct = check_cotangent_dtype(name, functools.partial(_cotangent_for, out_tree, i), ct, o)
            checked.append(ct)
        with named_scope(name):
            cts = transpose_program(program, checked)
            return flat.unflatten(apart_from(materialize(cts, leaves, (out_flat, primals)), checked))

    return (out, vjp_fun, flat.aux) if has_aux else (out, vjp_fun)


def _cotangent_for(out_tree: Any, i: int) -> str:
    return f"the cotangent for {output_name(out_tree, i)}"


def jvp(fun: Callable, primals: Sequence[PyTree], tangents: Sequence[PyTree], has_aux: bool = False) -> tuple:
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
    flat = FlatFun(fun, primals, has_aux=has_aux, name=name)
    if _plain_pairs(primals, tangents):  # nothing to check, convert or flatten
        flat_p, flat_t = list(primals), list(tangents)
    else:
        flat_p, flat_t = _checked_pairs(name, flat, primals, tangents)

    def traced(tracers: list) -> list:
        outs = flat(tracers)
        strip_aux(flat, tracers)
        return outs

    outer = enter_scope(name)
    try:
        out_p, out_t = jvp_flat(traced, flat_p, flat_t, name)
        check_array_outputs(out_p, name, flat.out_tree)
        out_t = apart_from(materialize(out_t, out_p), flat_t)
    finally:
        exit_scope(outer)
    result = (flat.out_tree.unflatten(out_p), flat.out_tree.unflatten(out_t))
    return result + (flat.aux,) if has_aux else result


def _plain_pairs(primals: tuple, tangents: tuple) -> bool:
    """Whether each primal and its tangent are NumPy arrays of one float (or complex) dtype
    and shape: arguments ``jvp`` takes as they are."""
    if len(primals) != len(tangents):
        return False
    for p, t in zip(primals, tangents):
        if type(p) is not np.ndarray or type(t) is not np.ndarray or p.dtype.kind not in "fc" \
                or t.dtype != p.dtype or t.shape != p.shape:
            return False
    return True


def _checked_pairs(name: str, flat: FlatFun, primals: tuple, tangents: tuple) -> tuple[list, list]:
    """The primal and tangent leaves of ``jvp``'s arguments, converted and checked (structure,
    shapes, dtypes; integer primals take only integer zeros as tangents)."""
    t_leaves, t_tree = tree.flatten(tangents)
    if t_tree != flat.in_tree:
        tree.assert_same_structure(primals, tangents, names=("primals", "tangents"))
    flat_p, flat_t = [], []
    for i, (p, t) in enumerate(zip(flat.leaves, t_leaves)):
        p = primal_leaf(p)
        p_shape, p_dtype = tuple(shape_of(p)), dtype_of(p)
        if p_dtype.kind in "biu":
            t = _integer_tangent(name, primals, i, p, t)
        t = scalar_beside(t, p) if type(t) in SCALARS else as_array(t)
        if tuple(t.shape) != p_shape or t.dtype != p_dtype:
            where = tree.keystr(tree.flatten_with_path(primals)[0][i][0])
        if tuple(t.shape) != p_shape:
            raise errors.TangentMismatchError(
                f"{name}: the tangent at primals{where} has shape {tuple(t.shape)} but the primal "
                f"has shape {p_shape}. Each tangent must have its primal's shape and dtype."
            )
        if t.dtype != p_dtype:
            raise errors.TangentMismatchError(
                f"{name}: the tangent at primals{where} has dtype {t.dtype} but the primal has "
                f"dtype {p_dtype}. Each tangent must have its primal's dtype: convert it with "
                f".astype({p_dtype})."
            )
        flat_p.append(p)
        flat_t.append(t)
    return flat_p, flat_t


def _integer_tangent(name: str, primals: tuple, i: int, primal: Any, tangent: Any) -> Any:
    """The tangent of an integer or boolean primal, which has no derivative: zeros of an
    integer or boolean dtype pass (as the primal's dtype); a float tangent, or a nonzero one,
    would be dropped silently, so it is an error naming the argument and both dtypes."""
    t = np.asarray(tangent) if type(tangent) in PY_SCALARS else as_array(tangent)
    dtype = dtype_of(t)
    if dtype.kind in "biu" and (isinstance(t, Tracer) or not np.any(to_host(t))):
        return scalar_beside(0, primal) if type(tangent) in PY_SCALARS else tangent
    where = tree.keystr(tree.flatten_with_path(primals)[0][i][0])
    raise errors.TangentMismatchError(
        f"{name}: the primal at primals{where} has the integer dtype {dtype_of(primal)}, which has no "
        f"derivative, but its tangent (dtype {dtype}) is not a zero of an integer dtype: it "
        "would be dropped. Pass a float primal (3.0 rather than 3, or x.astype(float)) to "
        "differentiate with respect to it, or a zero integer tangent (fnp.zeros_like(x)) to "
        "hold it constant."
    )


def linearize(fun: Callable, *primals: PyTree, has_aux: bool = False) -> tuple:
    """Evaluate ``fun`` at ``primals`` and record its derivative there as a linear function.

    The returned ``f_jvp(*tangents)`` equals ``jvp(fun, primals, tangents)[1]`` but does not
    run ``fun`` again: it evaluates the recorded tangent program (the same one ``vjp``
    transposes), which pays off when many tangents are pushed through one point. As with
    ``vjp``, writing into the primals or the output afterwards does not change ``f_jvp``.

    Args:
        fun: a function of arrays (pytrees) returning arrays (pytrees).
        *primals: the point at which to linearize.
        has_aux: ``fun`` returns ``(output, aux)``; ``aux`` is returned as a third value,
            undifferentiated.

    Returns:
        ``(output, f_jvp)``, or ``(output, f_jvp, aux)`` with ``has_aux``; ``f_jvp`` takes
        one tangent per primal (same structure and shapes).

    Example:
        >>> import numpy as np, functrans as ft, functrans.numpy as fnp
        >>> y, f_jvp = ft.linearize(fnp.sin, np.array([0.0, np.pi]))
        >>> f_jvp(np.array([1.0, 2.0]))
        array([ 1., -2.])
    """
    name = f"linearize({fun_name(fun)})"
    flat = FlatFun(fun, primals, has_aux=has_aux, name=name)
    leaves = [primal_leaf(leaf) for leaf in flat.leaves]
    check_differentiable_inputs(leaves, describe_leaves(primals, range(len(primals))), name,
                                allow_int=True)

    def traced(tracers: list) -> list:
        outs = flat(tracers)
        strip_aux(flat, tracers)
        return outs

    with named_scope(name):
        out_flat, program = linearize_flat(traced, leaves, name)
    out_tree = flat.out_tree
    check_array_outputs(out_flat, name, out_tree)
    own_residuals(program, [*leaves, *out_flat, *(tree.leaves(flat.aux) if has_aux else ())])

    def f_jvp(*tangents: PyTree) -> PyTree:
        flat_t = checked_tangents(name, "tangents", tuple(tangents), flat.in_tree, leaves,
                                  same_dtype=True)
        outs = eval_program(program, flat_t, scope=name)
        return out_tree.unflatten(apart_from(materialize(outs, out_flat), flat_t))

    out = out_tree.unflatten(out_flat)
    return (out, f_jvp, flat.aux) if has_aux else (out, f_jvp)


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
    flat = FlatFun(fun, primals, name=name)
    leaves = [as_array(leaf) for leaf in flat.leaves]
    program = stage(flat, [(tuple(x.shape), np.dtype(x.dtype)) for x in leaves], name, linear=True)
    for eqn in program.eqns:
        if eqn.prim.transpose is None:
            raise errors.NotLinearError(
                f"{name}: the function applies {eqn.prim.name!r}, which is not linear, to its "
                "inputs, so it has no transpose. linear_transpose is for linear functions; for "
                "the transpose of a derivative use functrans.vjp(f, x)."
            )
    out_leaves = program.outs
    program.outs = [o if program.owns(o) else zero for o in out_leaves]
    out_tree = flat.out_tree

    def f_transpose(cotangent: PyTree) -> tuple:
        cts = checked_tangents(name, "cotangent", cotangent, out_tree, out_leaves)
        try:
            with named_scope(name):
                in_cts = transpose_program(program, cts)
                return flat.unflatten(materialize(in_cts, leaves, (cotangent,)))
        except ValueError as error:
            raise errors.NotLinearError(
                f"{name}: the function is not linear in its inputs ({error}). linear_transpose "
                "is for linear functions; use functrans.vjp for derivatives."
            ) from None

    return f_transpose


def stop_gradient(x: PyTree) -> PyTree:
    """The same values, treated as constants by every derivative (like ``torch.no_grad``
    for one expression, or ``tensor.detach()``).

    Example:
        >>> import functrans as ft
        >>> float(ft.grad(lambda x: x * ft.stop_gradient(x))(3.0))
        3.0
    """
    return tree.map(lambda leaf: stop_gradient_p.bind(leaf) if type(leaf) not in PY_SCALARS else leaf, x)
