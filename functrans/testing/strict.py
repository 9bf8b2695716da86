"""A test array library that behaves like CuPy without a GPU.

``StrictArray`` holds a NumPy array and the name of a fake device (``"strict:0"`` or
``"strict:1"``). Like a CuPy array it refuses every implicit trip to host NumPy:
``np.asarray(x)`` and ``np.exp(x)`` raise, mixing it with a NumPy array raises, and two
arrays on different fake devices refuse to meet. Python and NumPy scalars mix freely, and
asking for a Python value (``float(x)``, ``bool(x)``, ``x.item()``) is allowed, as CuPy allows it.

``strict_xp`` is its NumPy-like namespace (what ``cupy`` is to CuPy arrays): every NumPy
function, with StrictArray arguments unwrapped and array results wrapped on the inputs'
device. ``strict_xp.asarray`` is the explicit host-to-device copy (as ``cupy.asarray``).
Where CuPy's API is narrower than NumPy's, so is strict_xp's: the functions of
``CUPY_MISSING`` do not exist, and those of ``CUPY_SIGNATURES`` refuse NumPy-only arguments.
``forbid_host_reads()`` turns every read of device values on the host into an error, to
prove that a computation never waits for the device; ``forbid_implicit_reads()`` only the
implicit ones (``bool(x)``, ``if x:``, ``float(x)``), to prove that library code reads device
values only by the backend's explicit ``to_host``.

Running the test suites on these arrays proves that functrans never converts a user's array
to NumPy behind its back, and that every result lives on its inputs' device.

Example:
    >>> from functrans.testing.strict import strict_array, strict_xp, to_numpy
    >>> x = strict_array([1.0, 2.0], device="strict:1")
    >>> y = strict_xp.exp(x) * 2
    >>> y.device, to_numpy(y).round(3).tolist()
    ('strict:1', [5.437, 14.778])
"""
from __future__ import annotations

import contextlib
import functools
import operator
import os
import sys
import types
from collections.abc import Iterator
from typing import Any

import numpy as np

from functrans.backend import Backend, register_backend
from functrans.errors import DeviceMismatchError

__all__ = ["StrictArray", "StrictBackend", "STRICT", "forbid_host_reads", "forbid_implicit_reads",
           "forbid_implicit_reads_in_library", "strict_xp",
           "strict_array", "to_numpy", "using_device", "DEVICES"]

#: The fake devices, as CuPy would have "gpu:0" and "gpu:1".
DEVICES = ("strict:0", "strict:1")
_current_device = [DEVICES[0]]  # where arrays made from no array (zeros, arange) go

# Functions that copy host data to the device on purpose (as cupy.asarray does).
_TRANSFERS = frozenset({"asarray", "array", "asanyarray", "ascontiguousarray"})


# -- errors ------------------------------------------------------------------------------------


def _conversion_error(what: str, device: str) -> TypeError:
    return TypeError(
        f"{what}: implicit conversion to a NumPy array is not allowed (a StrictArray lives on "
        f"the fake device {device!r}, as a CuPy array lives on a GPU). Use "
        "functrans.device_get(x) to copy it to the host explicitly, or the array's own "
        "namespace (functrans.backend.array_module(x)) to compute on its device.")


def _mixing_error(what: str, device: str, other: Any) -> TypeError:
    return TypeError(
        f"{what}: cannot mix a StrictArray on {device!r} with a host {type(other).__module__}."
        f"{type(other).__name__}: implicit conversion to a NumPy array is not allowed. Move "
        f"it explicitly: functrans.device_put(x, {device!r}), or functrans.device_get(x).")


def _device_mismatch(what: str, first: str, second: str) -> Exception:
    return DeviceMismatchError(
        f"{what}: arrays on different devices {first!r} and {second!r} cannot be mixed; "
        f"move one explicitly with functrans.device_put(x, {first!r}).")


# -- reads of device values on the host: allowed, and countable ---------------------------------

_reads_forbidden = [0]


def _read(what: str, device: str) -> None:
    """Every read of a StrictArray's values on the host comes here (on a GPU it would wait for
    the device): inside ``forbid_host_reads()`` it raises."""
    if _reads_forbidden[0]:
        raise RuntimeError(
            f"{what}: a read of values from the device {device!r} on the host (on a GPU, a "
            "synchronisation) inside forbid_host_reads()")


@contextlib.contextmanager
def forbid_host_reads() -> Iterator[None]:
    """Inside, anything that reads a StrictArray's values on the host raises: ``float(x)``,
    ``bool(x)``, ``x.item()``, ``x.tolist()``, ``x.get()``, ``device_get``. It finds hidden
    device synchronisations in a computation that should have none (a training step).

    Example:
        >>> x = strict_array([1.0, 2.0])
        >>> with forbid_host_reads():
        ...     y = strict_xp.exp(x) * 2
        ...     float(y[0])
        Traceback (most recent call last):
        ...
        RuntimeError: float(StrictArray): a read of values from the device 'strict:0' on the host ...
    """
    _reads_forbidden[0] += 1
    try:
        yield
    finally:
        _reads_forbidden[0] -= 1


_implicit_forbidden = [0]


@contextlib.contextmanager
def forbid_implicit_reads() -> Iterator[None]:
    """Inside, turning a StrictArray into a Python value implicitly raises: ``bool(x)`` (which
    ``if x:`` and ``while x:`` call), ``float(x)``, ``int(x)``, ``complex(x)``. Explicit copies
    (the backend's ``to_host``, ``device_get``, ``x.get()``, ``x.item()``, ``x.tolist()``) stay
    allowed. It proves that library code reads device values only where it says so, through
    ``backend.to_host``, as review can then find every synchronisation by that name.

    Example:
        >>> x = strict_array([1.0, 2.0])
        >>> with forbid_implicit_reads():
        ...     flag = bool(STRICT.to_host(x[0] > 0))
        ...     bool(x[0] > 0)
        Traceback (most recent call last):
        ...
        RuntimeError: bool(StrictArray): an implicit read of values from the device 'strict:0' ...
    """
    _implicit_forbidden[0] += 1
    try:
        yield
    finally:
        _implicit_forbidden[0] -= 1


_LIBRARY = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # functrans/
_TESTING = os.path.join(_LIBRARY, "testing")
_library_implicit_forbidden = [False]


def forbid_implicit_reads_in_library(forbid: bool = True) -> None:
    """From now on (until called with ``False``), an implicit read of a StrictArray's values
    (``bool(x)``, ``float(x)``, ``int(x)``, ``complex(x)``) made by functrans's own code raises,
    as inside [`forbid_implicit_reads`][functrans.testing.strict.forbid_implicit_reads]; the
    caller's code (a test's ``assert float(y) == 2``) may still make them. The test suite turns
    it on for every run, so no library path on the strict backend reads device values but
    through ``backend.to_host``.

    Example:
        >>> forbid_implicit_reads_in_library()
        >>> bool(strict_array(1.0))  # this caller is not functrans's code
        True
        >>> forbid_implicit_reads_in_library(False)
    """
    _library_implicit_forbidden[0] = forbid


def _read_by_library(depth: int) -> bool:
    """Whether the frame ``depth`` levels up (the code that asked for a Python value) is
    functrans's own code, outside this testing package."""
    name = sys._getframe(depth + 1).f_code.co_filename
    return name.startswith(_LIBRARY) and not name.startswith(_TESTING)


# -- unwrapping arguments and wrapping results -------------------------------------------------


class _Unwrapper:
    """Turns arguments into NumPy values, remembering the one device they share."""

    __slots__ = ("what", "device", "allow_host")

    def __init__(self, what: str, allow_host: bool = False):
        self.what = what
        self.device = None
        self.allow_host = allow_host

    def __call__(self, x):
        kind = type(x)
        if kind is StrictArray:
            if self.device is None:
                self.device = x._device
            elif x._device != self.device:
                raise _device_mismatch(self.what, self.device, x._device)
            return x._data
        if kind is list or kind is tuple:
            return kind(self(v) for v in x)
        if isinstance(x, np.ndarray) and not self.allow_host:
            raise _mixing_error(self.what, self.device or _current_device[-1], x)
        return x


def _wrap(result, device: str):
    """StrictArrays for the array results (NumPy scalars become 0-d arrays, as in CuPy)."""
    if isinstance(result, np.ndarray):
        return StrictArray(result, device)
    if isinstance(result, np.generic):
        return StrictArray(np.asarray(result), device)
    if isinstance(result, tuple):
        items = [_wrap(r, device) for r in result]
        return type(result)(*items) if hasattr(result, "_fields") else tuple(items)
    if isinstance(result, list):
        return [_wrap(r, device) for r in result]
    return result


def _call(fun, what: str, args, kwargs, allow_host: bool = False):
    unwrap = _Unwrapper(what, allow_host)
    device = kwargs.pop("device", None)
    args = [unwrap(a) for a in args]
    kwargs = {k: unwrap(v) for k, v in kwargs.items()}
    if device is not None and device not in DEVICES:
        raise ValueError(f"{what}: unknown strict device {device!r}; the devices are {DEVICES}")
    return _wrap(fun(*args, **kwargs), device or unwrap.device or _current_device[-1])


# -- the array --------------------------------------------------------------------------------


def _binary(op, name):
    what = f"StrictArray.{name}"

    def method(self, other):
        # the common operands first, as _call would treat them: another StrictArray on the
        # same device, a Python scalar
        kind = type(other)
        if kind is StrictArray and other._device == self._device:
            return _wrap(op(self._data, other._data), self._device)
        if kind is float or kind is int or kind is bool or kind is complex:
            return _wrap(op(self._data, other), self._device)
        if not isinstance(other, _OPERAND_TYPES):
            return NotImplemented  # a tracer, say: Python asks its reflected method next
        return _call(op, what, (self, other), {})

    method.__name__ = name
    return method


def _inplace(op, name):
    def method(self, other):
        unwrap = _Unwrapper(f"StrictArray.{name}")
        unwrap(self)
        op(self._data, unwrap(other))  # in place, as NumPy and CuPy do
        return self

    method.__name__ = name
    return method


def _unary(op, name):
    def method(self):
        return StrictArray(np.asarray(op(self._data)), self._device)

    method.__name__ = name
    return method


def _method(name):
    def method(self, *args, **kwargs):
        return _call(getattr(np.ndarray, name), f"StrictArray.{name}", (self, *args), kwargs)

    method.__name__ = name
    return method


_BINARY = {
    "add": operator.add, "sub": operator.sub, "mul": operator.mul, "truediv": operator.truediv,
    "floordiv": operator.floordiv, "mod": operator.mod, "pow": operator.pow,
    "matmul": operator.matmul, "and": operator.and_, "or": operator.or_, "xor": operator.xor,
    "lshift": operator.lshift, "rshift": operator.rshift, "divmod": divmod,
}
_COMPARISONS = {"eq": operator.eq, "ne": operator.ne, "lt": operator.lt, "le": operator.le,
                "gt": operator.gt, "ge": operator.ge}
_UNARY = {"neg": operator.neg, "pos": operator.pos, "abs": operator.abs, "invert": operator.invert}
_INPLACE = {"iadd": operator.iadd, "isub": operator.isub, "imul": operator.imul,
            "itruediv": operator.itruediv, "ifloordiv": operator.ifloordiv,
            "imod": operator.imod, "ipow": operator.ipow}
# ndarray methods that keep the data on the device (tolist/item/get are explicit transfers).
_METHODS = (
    "all", "any", "argmax", "argmin", "argsort", "astype", "clip", "conj", "conjugate", "copy",
    "cumprod", "cumsum", "diagonal", "dot", "fill", "flatten", "max", "mean", "min", "nonzero",
    "prod", "ravel", "repeat", "reshape", "round", "sort", "squeeze", "std", "sum", "swapaxes",
    "take", "trace", "transpose", "var", "view",
)
# NumPy ufuncs that Python operators on a NumPy scalar and a StrictArray end up calling.
_OPERATOR_UFUNCS = frozenset({
    np.add, np.subtract, np.multiply, np.true_divide, np.floor_divide, np.remainder,
    np.power, np.matmul, np.bitwise_and, np.bitwise_or, np.bitwise_xor, np.left_shift,
    np.right_shift, np.equal, np.not_equal, np.less, np.less_equal, np.greater,
    np.greater_equal,
})


class StrictArray:
    """A NumPy array on a fake device that refuses implicit conversion to host NumPy.

    Build one with [`strict_array`][functrans.testing.strict.strict_array] or ``strict_xp.asarray``; read it back with
    [`to_numpy`][functrans.testing.strict.to_numpy] (or ``functrans.device_get``).

    Example:
        >>> x = strict_array([[1.0, 2.0]])
        >>> (x.T @ x).shape, x.device
        ((2, 2), 'strict:0')
    """

    __slots__ = ("_data", "_device")
    __hash__ = None  # mutable, like NumPy and CuPy arrays

    def __init__(self, data: np.ndarray, device: str = DEVICES[0]):
        if type(data) is not np.ndarray:
            raise TypeError(f"StrictArray holds a numpy.ndarray, got {type(data).__name__}")
        self._data = data
        self._device = device

    # --- what the array is ------------------------------------------------------------
    shape = property(lambda self: self._data.shape)
    ndim = property(lambda self: self._data.ndim)
    dtype = property(lambda self: self._data.dtype)
    size = property(lambda self: self._data.size)
    itemsize = property(lambda self: self._data.itemsize)
    nbytes = property(lambda self: self._data.nbytes)
    device = property(lambda self: self._device, doc="The fake device's name.")
    T = property(lambda self: StrictArray(self._data.T, self._device))
    mT = property(lambda self: StrictArray(self._data.mT, self._device))
    real = property(lambda self: StrictArray(np.asarray(self._data.real), self._device))
    imag = property(lambda self: StrictArray(np.asarray(self._data.imag), self._device))

    # --- refusals ---------------------------------------------------------------------
    def __array__(self, dtype=None, copy=None):
        raise _conversion_error("numpy.asarray(StrictArray)", self._device)

    def __array_function__(self, func, types, args, kwargs):
        raise _conversion_error(f"numpy.{func.__name__} called on a StrictArray", self._device)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        # ``np.float64(2.0) * x`` reaches here: a NumPy scalar is a scalar, as in CuPy.
        if (method == "__call__" and not kwargs and ufunc in _OPERATOR_UFUNCS
                and any(isinstance(v, np.generic) for v in inputs)
                and not any(isinstance(v, np.ndarray) for v in inputs)):
            return _call(ufunc, f"numpy.{ufunc.__name__}", inputs, {})
        for v in inputs:
            if isinstance(v, np.ndarray):
                raise _mixing_error(f"numpy.{ufunc.__name__}", self._device, v)
        raise _conversion_error(f"numpy.{ufunc.__name__} called on a StrictArray", self._device)

    # --- Python values: an explicit request, allowed as in CuPy ------------------------
    def _scalar(self, kind):  # (called by __bool__ and the like: their caller is 2 levels up)
        if _implicit_forbidden[0] or _library_implicit_forbidden[0] and _read_by_library(2):
            raise RuntimeError(
                f"{kind.__name__}(StrictArray): an implicit read of values from the device "
                f"{self._device!r} inside forbid_implicit_reads(); read them explicitly with "
                "backend_of(x).to_host(x)")
        _read(f"{kind.__name__}(StrictArray)", self._device)
        if self._data.size != 1:
            raise TypeError(f"only size-1 arrays can be converted to Python scalars "
                            f"(this one has shape {self.shape})")
        return kind(self._data.reshape(()))

    def __bool__(self):
        return self._scalar(bool)

    def __float__(self):
        return self._scalar(float)

    def __int__(self):
        return self._scalar(int)

    def __complex__(self):
        return self._scalar(complex)

    def item(self, *args):
        """The element as a Python scalar (an explicit transfer)."""
        _read("StrictArray.item()", self._device)
        return self._data.item(*args)

    def tolist(self):
        """The elements as nested Python lists (an explicit transfer)."""
        _read("StrictArray.tolist()", self._device)
        return self._data.tolist()

    def get(self) -> np.ndarray:
        """A host NumPy copy (an explicit transfer, as ``cupy.ndarray.get``)."""
        _read("StrictArray.get()", self._device)
        return self._data.copy()

    # --- containers -------------------------------------------------------------------
    def __len__(self):
        return len(self._data)

    def __iter__(self) -> Iterator[StrictArray]:
        for i in range(len(self._data)):
            yield self[i]

    def __getitem__(self, index):
        return _call(operator.getitem, "StrictArray.__getitem__", (self, index), {})

    def __setitem__(self, index, value):
        unwrap = _Unwrapper("StrictArray.__setitem__")
        unwrap(self)
        self._data[unwrap(index)] = unwrap(value)

    def __repr__(self):
        body = np.array2string(self._data, separator=", ", prefix="StrictArray(")
        return f"StrictArray({body}, dtype={self.dtype}, device={self._device!r})"

    __str__ = __repr__

    def __reduce__(self):  # copy.deepcopy and pickle keep the device
        return (StrictArray, (self._data.copy(), self._device))


# What a StrictArray operator computes with; NumPy arrays are among them so that mixing
# with them raises the clear error rather than Python's generic one.
_OPERAND_TYPES = (StrictArray, int, float, complex, bool, np.generic, np.ndarray)
for _name, _op in _BINARY.items():
    setattr(StrictArray, f"__{_name}__", _binary(_op, f"__{_name}__"))
    setattr(StrictArray, f"__r{_name}__",
            _binary(lambda x, y, _op=_op: _op(y, x), f"__r{_name}__"))
for _name, _op in _COMPARISONS.items():
    setattr(StrictArray, f"__{_name}__", _binary(_op, f"__{_name}__"))
for _name, _op in _UNARY.items():
    setattr(StrictArray, f"__{_name}__", _unary(_op, f"__{_name}__"))
for _name, _op in _INPLACE.items():
    setattr(StrictArray, f"__{_name}__", _inplace(_op, f"__{_name}__"))
for _name in _METHODS:
    setattr(StrictArray, _name, _method(_name))


# -- the namespace ------------------------------------------------------------------------------


class _StrictUfunc:
    """A NumPy ufunc on StrictArrays, with ``at`` (scatter in place) and ``reduce``."""

    def __init__(self, ufunc: np.ufunc):
        self._ufunc = ufunc
        self.__name__ = ufunc.__name__
        self.nin, self.nout = ufunc.nin, ufunc.nout

    def __call__(self, *args, **kwargs):
        return _call(self._ufunc, f"strict_xp.{self.__name__}", args, kwargs)

    def at(self, a: StrictArray, indices, b=None) -> None:
        """``a[indices] op= b`` in place, repeated indices accumulating (``np.add.at``)."""
        what = f"strict_xp.{self.__name__}.at"
        if type(a) is not StrictArray:
            raise TypeError(f"{what}: the target must be a StrictArray, got {type(a).__name__}")
        unwrap = _Unwrapper(what)
        data = unwrap(a)
        args = (unwrap(indices),) if b is None else (unwrap(indices), unwrap(b))
        self._ufunc.at(data, *args)

    def __getattr__(self, name):  # reduce, accumulate, outer, reduceat, identity...
        attr = getattr(self._ufunc, name)
        if not callable(attr):
            return attr
        what = f"strict_xp.{self.__name__}.{name}"
        return lambda *args, **kwargs: _call(attr, what, args, kwargs)


class _Namespace(types.ModuleType):
    """NumPy (or one of its submodules) seen through StrictArrays."""

    def __init__(self, name: str, module: types.ModuleType):
        super().__init__(name, f"{module.__name__} on StrictArrays")
        self._module = module

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        dotted = f"{self.__name__}.{name}".split(".", 1)[1]
        if dotted in CUPY_MISSING:
            raise AttributeError(f"strict_xp has no {dotted!r}, as CuPy has none")
        attr = getattr(self._module, name)
        if isinstance(attr, np.ufunc):
            value = _StrictUfunc(attr)
        elif isinstance(attr, types.ModuleType):
            value = _Namespace(f"{self.__name__}.{name}", attr)
        elif attr is np.ndarray:
            value = StrictArray
        elif isinstance(attr, type) or not callable(attr):
            value = attr  # dtypes (xp.float32), constants (xp.pi), errstate
        else:
            if dotted in CUPY_STABLE_SORTS:
                attr = functools.partial(attr, kind="stable")
                attr.__name__ = name  # type: ignore[attr-defined]
            value = _function(attr, f"{self.__name__}.{name}", name in _TRANSFERS)
            if dotted in CUPY_SIGNATURES:
                value = _cupy_signature(value, dotted, CUPY_SIGNATURES[dotted])
        setattr(self, name, value)  # the next lookup is a plain attribute
        return value

    def __repr__(self):
        return f"<strict namespace {self.__name__}>"


#: Functions whose CuPy signature is narrower than NumPy's (CuPy 13's documented
#: parameters): strict_xp refuses the other arguments as CuPy would, so that a NumPy-only
#: keyword (sort's ``stable``, cholesky's ``upper``) fails here and not first on a GPU.
CUPY_SIGNATURES: dict[str, tuple[str, ...]] = {
    "sort": ("a", "axis", "kind"),
    "argsort": ("a", "axis", "kind"),
    "partition": ("a", "kth", "axis"),
    "argpartition": ("a", "kth", "axis"),
    "count_nonzero": ("a", "axis"),
    "linalg.cholesky": ("a",),
    "linalg.svd": ("a", "full_matrices", "compute_uv"),
    "linalg.matrix_rank": ("M", "tol"),
}


#: CuPy's sorts are stable whatever ``kind`` says (radix sorts): so are strict_xp's, so that
#: the order of ties matches what a GPU gives.
CUPY_STABLE_SORTS = frozenset({"sort", "argsort"})


#: NumPy functions CuPy 13 does not have (its linalg lists no cond and no multi_dot).
CUPY_MISSING = frozenset({"linalg.cond", "linalg.multi_dot"})


def _cupy_signature(fun, name: str, params: tuple[str, ...]):
    def checked(*args, **kwargs):
        extra = [k for k in kwargs if k not in params]
        if len(args) > len(params) or extra:
            got = f"keyword {extra[0]!r}" if extra else f"{len(args)} positional arguments"
            raise TypeError(f"strict_xp.{name}() got {got}: CuPy's {name} takes only "
                            f"({', '.join(params)})")
        return fun(*args, **kwargs)

    checked.__name__ = fun.__name__
    checked.__doc__ = fun.__doc__
    return checked


def _function(fun, what: str, allow_host: bool):
    def wrapped(*args, **kwargs):
        return _call(fun, what, args, kwargs, allow_host)

    wrapped.__name__ = fun.__name__
    wrapped.__doc__ = f"{what}: NumPy's {fun.__name__} on StrictArrays."
    return wrapped


#: The NumPy-like namespace of StrictArrays (what ``cupy`` is to CuPy arrays).
strict_xp = _Namespace("strict_xp", np)
StrictArray.__functrans_array_module__ = strict_xp


# -- the functrans backend ----------------------------------------------------------------------


class StrictBackend(Backend):
    """The functrans backend of StrictArrays: devices ``strict:0`` and ``strict:1``.

    Example:
        >>> from functrans.backend import backend_of
        >>> b = backend_of(strict_array([1.0], device="strict:1"))
        >>> b.name, b.device_of(b.zeros((2,), np.float32, "strict:1"))
        ('strict', 'strict:1')
    """

    name = "strict"
    platform = "strict"
    xp = strict_xp

    def devices(self) -> list[str]:
        return list(DEVICES)

    def device_of(self, x) -> str:
        return x._device

    def device_scope(self, device: str):
        return using_device(device)

    def put(self, x, device: str) -> StrictArray:
        if type(x) is StrictArray:
            return x if x._device == device else StrictArray(x._data.copy(), device)
        return strict_xp.array(x, device=device)

    def to_host(self, x) -> np.ndarray:
        _read("a copy to the host", x._device)
        return to_numpy(x)

    def full(self, shape, fill_value, dtype, device: str | None = None) -> StrictArray:
        return strict_xp.full(shape, fill_value, dtype=dtype, device=device)

    def scatter_add(self, out, index, updates) -> None:
        strict_xp.add.at(out, index, updates)

    @property
    def special(self):
        import scipy.special

        return _Namespace("strict_xp.special", scipy.special)

    def default_rng(self, seed: int):
        return _Namespace("strict_xp.Generator", np.random.default_rng(seed))


STRICT = StrictBackend()
register_backend(StrictArray, STRICT)


# -- helpers ------------------------------------------------------------------------------------


def strict_array(x, device: str = DEVICES[0], dtype=None) -> StrictArray:
    """A StrictArray holding a copy of ``x`` (array-like, NumPy array or scalar) on ``device``.

    Example:
        >>> strict_array(2.5, device="strict:1")
        StrictArray(2.5, dtype=float64, device='strict:1')
    """
    if type(x) is StrictArray:
        x = x._data
    return strict_xp.array(x, dtype=dtype, device=device)


def to_numpy(x) -> np.ndarray | Any:
    """A host NumPy copy of a StrictArray; anything else is returned as it is (for tests).

    Example:
        >>> to_numpy(strict_array([1, 2])).tolist()
        [1, 2]
    """
    return x._data.copy() if type(x) is StrictArray else x


@contextlib.contextmanager
def using_device(device: str) -> Iterator[None]:
    """Arrays created from no array (``strict_xp.zeros``, ``arange``) go to ``device``.

    Example:
        >>> with using_device("strict:1"):
        ...     strict_xp.zeros(2).device
        'strict:1'
    """
    if device not in DEVICES:
        raise ValueError(f"unknown strict device {device!r}; the devices are {DEVICES}")
    _current_device.append(device)
    try:
        yield
    finally:
        _current_device.pop()
