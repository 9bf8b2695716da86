"""Argument handling shared by the public transformations: argnums, input conversion and
the checks that turn bad input into an early, explanatory error."""
from __future__ import annotations

import numpy as np

from functrans import errors, tree
from functrans.core.trace import Tracer
from functrans._abstract import PY_SCALARS

_INEXACT = (np.floating, np.complexfloating)


def normalize_argnums(argnums, num_args: int, name: str) -> tuple[int, ...]:
    single = isinstance(argnums, int)
    nums = (argnums,) if single else tuple(argnums)
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
        result.append(n % num_args)
    return tuple(result)


def as_array(leaf):
    """Python scalars become 0-d NumPy arrays (NumPy's default dtypes); arrays stay as they are."""
    if type(leaf) in PY_SCALARS:
        return np.asarray(leaf)
    if isinstance(leaf, (np.ndarray, np.generic, Tracer)) or hasattr(leaf, "__array_namespace__"):
        return leaf
    if hasattr(leaf, "shape") and hasattr(leaf, "dtype"):
        return leaf
    raise TypeError(
        f"functrans transformations take arrays, Python scalars, and pytrees (tuples, lists, "
        f"dicts) of them; got a value of type {type(leaf).__name__}. Convert it with "
        "functrans.numpy.asarray, or register its type with functrans.tree.register."
    )


def _where(argnum, paths, i):
    path = paths()[i]
    return f"argument {argnum}" + (f" at {tree.keystr(path)}" if path else "")


def check_differentiable_inputs(leaves, paths, argnum_of, name: str, allow_int: bool):
    """Raise if an input to differentiate is not of a float or complex dtype.

    ``paths()`` gives each leaf's key path within its argument; it is called only to write
    an error message, since key paths cost more than the flattening itself.
    """
    for i, (leaf, argnum) in enumerate(zip(leaves, argnum_of)):
        dtype = leaf.dtype
        if dtype.kind in "fc":
            continue
        if allow_int and dtype.kind in "biu":
            continue
        where = _where(argnum, paths, i)
        raise errors.InputDtypeError(
            f"{name} requires float (or complex) inputs to differentiate with respect to, but "
            f"{where} has dtype {dtype}. Pass a float value (2.0 rather than 2, or "
            "x.astype(float)), leave this argument out of argnums, or use allow_int=True to "
            "get a zero gradient for integer inputs."
        )


def check_holomorphic_inputs(leaves, paths, argnum_of, name: str):
    """With holomorphic=True every input to differentiate must be complex."""
    for i, (leaf, argnum) in enumerate(zip(leaves, argnum_of)):
        if leaf.dtype.kind != "c":
            where = _where(argnum, paths, i)
            raise errors.InputDtypeError(
                f"{name} with holomorphic=True differentiates with respect to complex inputs, "
                f"but {where} has dtype {leaf.dtype}. Pass a complex value (x + 0j, or "
                "x.astype(complex)), or drop holomorphic=True for a real input."
            )


def check_scalar_output(out, name: str, holomorphic: bool = False):
    shape = () if type(out) in PY_SCALARS else getattr(out, "shape", None)
    if shape is None:
        raise errors.NonScalarOutputError(
            f"{name} needs the function to return one scalar array, but it returned a "
            f"{type(out).__name__}. To return extra values, use has_aux=True and return "
            "(loss, aux)."
        )
    if shape != ():
        raise errors.NonScalarOutputError(
            f"{name} needs the function to return a scalar, but it returned an array of shape "
            f"{tuple(shape)}. Reduce it to a scalar (for example with .sum() or .mean()), use "
            "functrans.vjp or jacrev for the derivative of a non-scalar output, or return "
            "(loss, aux) with has_aux=True if the array is an extra output."
        )
    dtype = np.result_type(out) if type(out) in PY_SCALARS else out.dtype
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


def split_aux(out, name: str):
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


def fun_name(fun) -> str:
    return getattr(fun, "__name__", None) or type(fun).__name__
