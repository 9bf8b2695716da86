"""The argument checks of the public transformations, which turn bad input into an early,
explanatory error: array leaves, inputs to differentiate, scalar outputs, tangents and
cotangents; and the placement of the values they make for Python scalars."""
from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from functrans import errors, tree
from functrans._abstract import PY_SCALARS, SCALARS, dtype_of, shape_of
from functrans.backend import HOST_TYPES, backend_of
from functrans.core.trace import Tracer
from functrans.interpreters.jvp import JVPTracer
from functrans.primitives import convert_element_type_p, full_like_p

# NumPy's real floating scalar types: a scalar output of grad needs no further check
_REAL_SCALARS = frozenset({np.dtype(code).type for code in np.typecodes["Float"]})
# The NumPy scalar type a Python scalar becomes (NumPy's default dtypes; an int by np.asarray,
# whose dtype depends on the value's size)
_NUMPY_SCALAR_OF: dict[type, Any] = {float: np.float64, complex: np.complex128, bool: np.bool_}


# -- Python scalars beside arrays on a device ---------------------------------------------------
# A Python scalar given to a transformation lives on no device, as in JAX, where it is weakly
# typed. As a primal to differentiate at it stays a Python scalar (``primal_leaf``), which
# meets arrays of every device, so the function sees what it sees when called without a
# transformation (and under jit): x32 * c stays float32. A tangent or cotangent given as a
# scalar takes the dtype and the device of the value it stands beside.
# What a transformation makes for a scalar primal (zeros where no derivative flows, jacfwd's
# unit vectors) goes on the device of the arrays the computation meets: its outputs where they
# are known, else its arguments; with none of them on a device, on the host, as for NumPy.


def as_array(leaf: Any) -> Any:
    """Python scalars become NumPy scalars of NumPy's default dtypes (on no device: they meet
    arrays of every device); arrays and tracers stay as they are; anything else is refused
    with the fix."""
    if type(leaf) in PY_SCALARS:
        kind = _NUMPY_SCALAR_OF.get(type(leaf))
        return kind(leaf) if kind is not None else np.asarray(leaf)[()]
    if isinstance(leaf, (np.ndarray, np.generic, Tracer)) or hasattr(leaf, "__array_namespace__"):
        return leaf
    if hasattr(leaf, "shape") and hasattr(leaf, "dtype"):
        return leaf
    raise TypeError(
        f"functrans transformations take arrays, Python scalars, and pytrees (tuples, lists, "
        f"dicts) of them; got a value of type {type(leaf).__name__}. Convert it with "
        "functrans.numpy.asarray, or register its type with functrans.tree.register."
    )


def primal_leaf(leaf: Any) -> Any:
    """A leaf to differentiate at: a Python scalar stays one (weakly typed, as the function
    sees it without the transformation and under jit: a float32 array times it stays
    float32; its derivative has its default dtype), anything else is ``as_array(leaf)``.

    Example:
        >>> import numpy as np
        >>> primal_leaf(2.0), primal_leaf(np.float32(2.0))
        (2.0, np.float32(2.0))
    """
    return leaf if type(leaf) in PY_SCALARS else as_array(leaf)


def concrete_or_none(x: Any) -> Any:
    """The concrete value of ``x`` (a tracer's, through its primals), or None for a tracer
    whose value is only known when a program runs (under jit and vmap)."""
    if isinstance(x, Tracer):
        try:
            return x.to_concrete()
        except errors.TracerConversionError:
            return None
    return x


def on_device(x: Any) -> Any:
    """The concrete value of ``x`` if it is an array on a device other than the host (a CuPy
    array, a strict test array), else None (NumPy values, scalars, abstract tracers)."""
    if type(x) in HOST_TYPES:
        return None
    x = concrete_or_none(x)
    if x is None or type(x) in HOST_TYPES or backend_of(x).platform == "cpu":
        return None
    return x


def device_array_among(values: Iterable) -> Any:
    """The first of ``values`` (pytrees: arguments, outputs) that holds an array on a device
    other than the host, as a concrete array to make new values beside; None if none does.

    Example:
        >>> import numpy as np
        >>> device_array_among([2.0, np.ones(2)]) is None
        True
    """
    for value in values:
        for leaf in tree.leaves(value):
            found = on_device(leaf)
            if found is not None:
                return found
    return None


def is_placeless(x: Any) -> bool:
    """Whether ``x`` lives on no device: a Python or NumPy scalar, or a tracer whose concrete
    value is one."""
    if type(x) in SCALARS:
        return True
    return isinstance(x, Tracer) and type(concrete_or_none(x)) in SCALARS


def scalar_beside(value: Any, like: Any) -> Any:
    """A scalar tangent or cotangent ``value`` (Python or NumPy) on ``like``'s device: made
    there by like's backend for an array on a device (by the trace, when the program runs, for
    an abstract tracer; on the host beside a variable of a finished recording, which has no
    device to follow). A Python scalar takes like's dtype: a 0-d NumPy array beside a NumPy
    array, a NumPy scalar (on no device) beside a scalar. A NumPy scalar keeps its dtype, and
    stays as it is beside host values.

    Example:
        >>> import numpy as np
        >>> scalar_beside(1.0, np.float32(2.0)), scalar_beside(1, np.ones((), np.float32))
        (np.float32(1.0), array(1., dtype=float32))
    """
    python = type(value) in PY_SCALARS
    if python and type(like) is np.ndarray:  # (the commonest case, first)
        return np.asarray(value, dtype=like.dtype)
    dtype = dtype_of(like) if python else value.dtype
    concrete = concrete_or_none(like)
    if concrete is None:
        if like._trace.alive:  # abstract: the trace makes it, on like's device
            return full_like_p.bind(like, fill_value=value, shape=(), dtype=dtype)
        return np.asarray(value, dtype=dtype)  # (a variable of a finished recording)
    if type(concrete) in HOST_TYPES:
        if not python:
            return value
        return np.asarray(value, dtype=dtype) if type(concrete) is np.ndarray else dtype.type(value)
    backend = backend_of(concrete)
    return backend.full((), value, dtype, backend.device_of(concrete))


def zeros_beside(x: Any, where: Any) -> Any:
    """Zeros of ``x``'s shape and dtype on the device of ``where`` (an array found by
    ``device_array_among``), for a placeless ``x`` (a scalar primal whose derivative is zero);
    None when ``x`` has a place of its own or there is no device to follow."""
    if where is None or not is_placeless(x):
        return None
    backend = backend_of(where)
    return backend.zeros(tuple(shape_of(x)), dtype_of(x), backend.device_of(where))


def describe_leaves(args: Sequence, argnums: Sequence[int]) -> Callable[[int], str]:
    """For the leaves of ``args[argnums]``, a function naming leaf ``i`` for an error message
    (``argument 1 at ['w']``); key paths are computed only then, since they cost more than
    the flattening itself."""

    def describe(i: int) -> str:
        located = [(n, path) for n in argnums for path, _ in tree.flatten_with_path(args[n])[0]]
        n, path = located[i]
        return f"argument {n}" + (f" at {tree.keystr(path)}" if path else "")

    return describe


def check_differentiable_inputs(leaves: Sequence, describe: Callable[[int], str], name: str,
                                allow_int: bool, int_fix: bool = True) -> None:
    """Raise if an input to differentiate is not of a float or complex dtype (integers and
    booleans pass with ``allow_int``); ``describe(i)`` names leaf ``i``; the error suggests
    ``allow_int=True`` if ``int_fix`` (the transformation takes it)."""
    for i, leaf in enumerate(leaves):
        dtype = dtype_of(leaf)
        if dtype.kind in "fc":
            continue
        if allow_int and dtype.kind in "biu":
            continue
        where = describe(i)
        raise errors.InputDtypeError(
            f"{name} requires float (or complex) inputs to differentiate with respect to, but "
            f"{where} has dtype {dtype}. Pass a float value (2.0 rather than 2, or "
            "x.astype(float)), or leave this argument out of argnums"
            + (", or use allow_int=True to get a zero derivative for integer inputs." if int_fix
               else ".")
        )


def check_holomorphic_inputs(leaves: Sequence, describe: Callable[[int], str], name: str) -> None:
    """With holomorphic=True every input to differentiate must be complex."""
    for i, leaf in enumerate(leaves):
        if dtype_of(leaf).kind != "c":
            where = describe(i)
            raise errors.InputDtypeError(
                f"{name} with holomorphic=True differentiates with respect to complex inputs, "
                f"but {where} has dtype {dtype_of(leaf)}. Pass a complex value (x + 0j, or "
                "x.astype(complex)), or drop holomorphic=True for a real input."
            )


def check_scalar_output(out: Any, name: str, holomorphic: bool = False) -> None:
    """Raise unless ``out`` is a real (or, with ``holomorphic``, complex) scalar."""
    if not holomorphic:  # the answer for the commonest outputs, read without the general walk
        value = out
        while type(value) is JVPTracer:  # (its shape and dtype are its primal's)
            value = value.primal
        kind = type(value)
        if kind in _REAL_SCALARS or kind is np.ndarray and value.dtype.kind == "f" \
                and value.size == 1:
            return
    shape = () if type(out) in PY_SCALARS else getattr(out, "shape", None)
    if shape is None:
        raise errors.NonScalarOutputError(
            f"{name} needs the function to return one scalar array, but it returned a "
            f"{type(out).__name__}. To return extra values, use has_aux=True and return "
            "(loss, aux)."
        )
    if shape != () and math.prod(shape) != 1:  # one element, of any shape: its gradient
        raise errors.NonScalarOutputError(
            f"{name} needs the function to return a scalar (or an array of one element), but it "
            f"returned an array of shape {tuple(shape)}. Reduce it to a scalar (for example with "
            ".sum() or .mean()), use "
            "functrans.vjp or jacrev for the derivative of a non-scalar output, or return "
            "(loss, aux) with has_aux=True if the array is an extra output."
        )
    dtype = dtype_of(out)
    if holomorphic:
        if dtype.kind != "c":
            raise errors.NonScalarOutputError(
                f"{name} with holomorphic=True needs a complex output, but the function returned "
                f"dtype {dtype}. Return a complex value, or drop holomorphic=True for a "
                "real-valued function."
            )
        return
    if dtype.kind == "c":
        raise errors.NonScalarOutputError(
            f"{name} needs a real-valued output, but the function returned a complex scalar. "
            "Differentiate its real part (fnp.real(f(x))) or abs(f(x))**2, pass "
            "holomorphic=True if the function is complex-differentiable, or use "
            "functrans.vjp for a complex cotangent."
        )
    if dtype.kind != "f":
        raise errors.NonScalarOutputError(
            f"{name} needs a float output, but the function returned dtype {dtype}. An "
            "integer or boolean output has no derivative; compute the output in floats."
        )


def leaf_path(treedef: Any, i: int) -> str:
    """The key path of leaf ``i`` of a tree of structure ``treedef`` (``['b'][1]``), for an
    error message; the empty string for a tree that is one leaf."""
    paths = tree.flatten_with_path(treedef.unflatten(list(range(treedef.num_leaves))))[0]
    return tree.keystr(paths[i][0])


def output_name(out_tree: Any, i: int) -> str:
    """Leaf ``i`` of the output, named for an error message: ``the output`` for an output that
    is one array, else ``the output at out['b'][1]``."""
    path = leaf_path(out_tree, i)
    return f"the output at out{path}" if path else "the output"


def check_float_outputs(leaves: Sequence, name: str, out_tree: Any) -> None:
    """Raise if an output to differentiate (by a Jacobian) has no derivative (ints, bools)."""
    for i, leaf in enumerate(leaves):
        dtype = dtype_of(leaf)
        if dtype.kind not in "fc":
            raise errors.InputDtypeError(
                f"{name}: {output_name(out_tree, i)} has dtype {dtype}, which has no "
                "derivative. Compute the outputs in floats, or return integer values as "
                "auxiliary data (has_aux=True)."
            )


def check_array_outputs(leaves: Sequence, name: str, out_tree: Any) -> None:
    """Raise a TypeError naming the output if a leaf of it is not an array or a Python number
    (a string, None, an object): it has no derivative to compute."""
    for i, leaf in enumerate(leaves):
        if type(leaf) in PY_SCALARS or isinstance(leaf, Tracer):
            continue
        if isinstance(leaf, (np.ndarray, np.generic)) or (hasattr(leaf, "shape") and hasattr(leaf, "dtype")):
            continue
        raise TypeError(
            f"{name}: {output_name(out_tree, i)} is a {type(leaf).__name__}; "
            "transformations differentiate outputs that are arrays, Python numbers, or pytrees "
            "(tuples, lists, dicts) of them. Return non-array values as auxiliary data "
            "(has_aux=True), or leave them out of the output."
        )


def check_complex_outputs(leaves: Sequence, name: str, out_tree: Any, holomorphic: bool) -> None:
    """jacrev's rule (as JAX's): a complex output needs ``holomorphic=True``; with it, every
    output must be complex."""
    for i, leaf in enumerate(leaves):
        dtype = dtype_of(leaf)
        if holomorphic and dtype.kind != "c":
            raise errors.InputDtypeError(
                f"{name} with holomorphic=True needs complex outputs, but "
                f"{output_name(out_tree, i)} has dtype {dtype}. Return complex values, or drop "
                "holomorphic=True for a real-valued function."
            )
        if not holomorphic and dtype.kind == "c":
            raise errors.InputDtypeError(
                f"{name} needs real outputs, but {output_name(out_tree, i)} has dtype "
                f"{dtype}. For a complex-differentiable function pass holomorphic=True (with "
                "complex inputs: x + 0j); otherwise differentiate the real and imaginary parts "
                "(fnp.real(f(x)), fnp.imag(f(x))) as separate real outputs, or use functrans.vjp."
            )


def check_real_inputs(leaves: Sequence, describe: Callable[[int], str], name: str) -> None:
    """jacfwd's rule (as JAX's): a complex input needs ``holomorphic=True``."""
    for i, leaf in enumerate(leaves):
        if leaf.dtype.kind == "c":
            raise errors.InputDtypeError(
                f"{name} needs real inputs, but {describe(i)} has dtype {leaf.dtype}. For a "
                "complex-differentiable function pass holomorphic=True; otherwise pass the real "
                "and imaginary parts as separate real arguments, or use functrans.jvp."
            )


def checked_tangents(name: str, root: str, values: Any, treedef: Any, like_leaves: Sequence,
                     same_dtype: bool = False) -> list:
    """The leaves of ``values`` (tangents or cotangents, called ``root`` in messages), each an
    array of the shape of the leaf of ``like_leaves`` it stands beside (scalars take its
    dtype and device: ``scalar_beside``); with ``same_dtype``, of its dtype too where that is
    a float or complex one (as ``jvp`` requires)."""
    leaves, value_treedef = tree.flatten(values)
    if value_treedef != treedef:
        tree.assert_same_structure(treedef.unflatten(like_leaves), values,
                                   names=(f"the {root} expected", f"the {root} given"))
    out = []
    for i, (value, like) in enumerate(zip(leaves, like_leaves)):
        value = scalar_beside(value, like) if type(value) in SCALARS else as_array(value)
        if tuple(value.shape) != tuple(shape_of(like)):
            raise errors.TangentMismatchError(
                f"{name}: {root}{leaf_path(treedef, i)} has shape {tuple(value.shape)}, but it must "
                f"have shape {tuple(shape_of(like))} (that of the value it stands beside)."
            )
        if same_dtype and value.dtype != dtype_of(like) and dtype_of(like).kind in "fc":
            raise errors.TangentMismatchError(
                f"{name}: {root}{leaf_path(treedef, i)} has dtype {value.dtype}, but the primal "
                f"it stands beside has dtype {dtype_of(like)}. Each tangent must have its "
                f"primal's dtype: convert it with .astype({dtype_of(like)})."
            )
        out.append(check_cotangent_dtype(name, functools.partial(_rooted_path, root, treedef, i),
                                         value, like))
    return out


def _rooted_path(root: str, treedef: Any, i: int) -> str:
    return f"{root}{leaf_path(treedef, i)}"


def check_cotangent_dtype(name: str, where: Callable[[], str], value: Any, like: Any) -> Any:
    """A (co)tangent must have the dtype of the float or complex value it stands beside (as
    JAX requires): a complex one for a real value would have its imaginary part dropped, one
    of another precision would change the derivative's dtype. Refuse it, naming the leaf
    (``where()``, only called then) and both dtypes. A real one of a complex value's
    precision passes: it is the complex value with a zero imaginary part, and is returned
    made complex (so that every cotangent of a transposed program has its variable's
    dtype); any other passing value is returned as it is."""
    dtype, like_dtype = dtype_of(value), dtype_of(like)
    if dtype.kind == "c" and like_dtype.kind != "c":
        raise errors.TangentMismatchError(
            f"{name}: {where()} has dtype {dtype}, but the value it stands beside has the real "
            f"dtype {like_dtype}, so its imaginary part would be lost. Pass real values (the "
            "real and imaginary parts in two calls: the function is linear in them), or make "
            "the function's output complex."
        )
    if dtype != like_dtype and like_dtype.kind in "fc" and not (
            like_dtype.kind == "c" and dtype == np.finfo(like_dtype).dtype):  # real part only
        raise errors.TangentMismatchError(
            f"{name}: {where()} has dtype {dtype}, but the value it stands beside has dtype "
            f"{like_dtype}; a (co)tangent of another dtype would change the derivative's dtype "
            f"or precision. Pass it in {like_dtype} (convert it with .astype({like_dtype}))."
        )
    if dtype != like_dtype and like_dtype.kind == "c":
        return convert_element_type_p.bind(value, new_dtype=like_dtype)
    return value
