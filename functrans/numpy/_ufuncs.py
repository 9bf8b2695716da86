"""How an elementwise function of functrans.numpy is made from its primitive.

Each function is written as a signature with a docstring and decorated with ``unary_ufunc``
or ``binary_ufunc``, which supply the body: NumPy's own ufunc for plain NumPy arrays (one
call, no dispatch), the primitive's ``bind`` for everything else. The decorated ``def`` gives
the name, signature and docstring that ``help()``, IDEs and the API reference show; its body
is never run.
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from functrans._abstract import PY_SCALARS
from functrans.core.ir import Var
from functrans.core.primitive import Primitive
from functrans.core.staging import scalar_kind
from functrans.numpy._util import (
    PASS_THROUGH,
    PLAIN_TYPES,
    number_beside,
    operand,
    refuse_out,
    route_through_primitives,
)
from functrans.primitives.conversion import convert_element_type_p
from functrans.typing import Array, ArrayLike

# Plain operands that NumPy's ufunc handles exactly as the primitive's implementation does:
# with a NumPy array among them, the ufunc is called directly.
_PLAIN = PLAIN_TYPES
_SEQUENCES = (list, tuple)  # operands NumPy makes an array of
_NUMBERS = PY_SCALARS
_NUMBER_LIKE = PY_SCALARS | {Var}  # Python numbers, and the variables of jit standing for them
_ndarray: type[np.ndarray] = np.ndarray  # (np.ndarray, or no type while config.debug_nans is on)
route_through_primitives(globals())


def numpy_number(x1: Any, x2: Any) -> Any:
    """``x1``, or when ``x1`` and ``x2`` both stand for Python numbers in a ``jit`` recording,
    ``x1`` as the NumPy scalar NumPy makes of such numbers: the recorded program then computes
    what NumPy's function gives the eager call, not what Python's operators give.

    Example:
        >>> numpy_number(np.ones(2), 1.0).shape
        (2,)
    """
    k1, k2 = scalar_kind(x1), scalar_kind(x2)
    if k1 is None or k2 is None or type(x1) is not Var and type(x2) is not Var:
        return x1
    return convert_element_type_p.bind(x1, new_dtype=np.result_type(k1, k2))  # (even to its own dtype)


_Spec = Callable[..., Any]


def _check_arity(spec: _Spec, n: int) -> None:
    code = spec.__code__
    if code.co_posonlyargcount != n or code.co_argcount != n or code.co_kwonlyargcount:
        raise TypeError(f"{spec.__name__}: an elementwise function of {n} argument(s) is "
                        f"declared with {n} positional-only parameter(s), not {code.co_varnames}")


def unary_ufunc(prim: Primitive, ufunc: np.ufunc) -> Callable[[_Spec], _Spec]:
    """Decorator: the elementwise function ``f(x, /)`` that calls ``ufunc`` on a NumPy array and
    binds ``prim`` on anything else (tracers, other backends' arrays, scalars, lists).

    Example:
        >>> from functrans.primitives.elementwise import exp_p
        >>> @unary_ufunc(exp_p, np.exp)
        ... def exp(x, /):
        ...     '''e to the power x.'''
        >>> float(exp(0.0)), exp.__doc__
        (1.0, 'e to the power x.')
    """
    bind = prim.bind

    def make(spec: _Spec) -> _Spec:
        _check_arity(spec, 1)

        def fn(x: ArrayLike, /, *, out: None = None) -> Array:
            if out is not None:
                refuse_out(spec.__name__, out)
            if type(x) is _ndarray:
                return ufunc(x)
            return bind(x if type(x) in PASS_THROUGH else operand(x))

        return functools.update_wrapper(fn, spec)

    return make


def binary_ufunc(prim: Primitive, ufunc: np.ufunc) -> Callable[[_Spec], _Spec]:
    """Decorator: the broadcasting elementwise function ``f(x1, x2, /)`` that calls ``ufunc``
    when a NumPy array meets a NumPy array or a scalar, and binds ``prim`` otherwise. Two
    Python numbers (or jit's variables standing for them) get NumPy's value and type;
    ``f.operator_form``, the traced array's operator, keeps Python's rules for them instead.

    Example:
        >>> from functrans.primitives.elementwise import add_p
        >>> @binary_ufunc(add_p, np.add)
        ... def add(x1, x2, /):
        ...     '''x1 + x2.'''
        >>> add(np.ones(2), 1.0).tolist()
        [2.0, 2.0]
    """
    bind = prim.bind

    def make(spec: _Spec) -> _Spec:
        _check_arity(spec, 2)

        def fn(x1: ArrayLike, x2: ArrayLike, /, *, out: None = None) -> Array:
            if out is not None:
                refuse_out(spec.__name__, out)
            t1, t2 = type(x1), type(x2)
            if (t1 is _ndarray and t2 in _PLAIN) or (t2 is _ndarray and t1 in _PLAIN):
                return ufunc(x1, x2)
            if t1 in _NUMBER_LIKE and t2 in _NUMBER_LIKE:  # two numbers (one lookup for arrays)
                if t1 in _NUMBERS and t2 in _NUMBERS:  # NumPy's values, not Python's operators':
                    return ufunc(x1, x2)  # power(-8.0, 1/3) is nan, not complex; divide(1, 0) is inf
                x1 = numpy_number(x1, x2)  # (jit: the same for traced numbers)
            if t1 not in PASS_THROUGH:  # (lists of numbers: made where the other operand is)
                x1 = number_beside(x1, x2) if t1 in _SEQUENCES else operand(x1)
            if t2 not in PASS_THROUGH:
                x2 = number_beside(x2, x1) if t2 in _SEQUENCES else operand(x2)
            return bind(x1, x2)

        def operator_form(x1: ArrayLike, x2: ArrayLike, /) -> Array:
            # The traced array's operator: Python's rules for numbers, as the function without
            # jit applies the operator to the numbers themselves (a / b of two floats is a float).
            t1, t2 = type(x1), type(x2)
            if t1 not in PASS_THROUGH:
                x1 = number_beside(x1, x2) if t1 in _SEQUENCES else operand(x1)
            if t2 not in PASS_THROUGH:
                x2 = number_beside(x2, x1) if t2 in _SEQUENCES else operand(x2)
            return bind(x1, x2)

        out = functools.update_wrapper(fn, spec)
        out.operator_form = operator_form  # type: ignore[attr-defined]
        return out

    return make
