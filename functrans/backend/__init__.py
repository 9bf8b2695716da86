"""The seam between functrans and the array libraries (NumPy on the CPU, CuPy on the GPU).

Code outside this package asks ``array_module(x)`` for the module that serves an array and
never does arithmetic on user arrays with ``numpy`` directly. The module is found by the
array's type through a dict, so the lookup costs one dict access on the hot path.
"""
from __future__ import annotations

import numpy as _np

_MODULE_BY_TYPE: dict[type, object] = {
    _np.ndarray: _np,
    float: _np,
    int: _np,
    bool: _np,
    complex: _np,
}


def _resolve(kind: type):
    """Find the module for an array type not seen before, and remember it."""
    if issubclass(kind, _np.generic) or issubclass(kind, _np.ndarray):
        module = _np
    elif kind.__module__.split(".")[0] == "cupy":
        import cupy  # imported only once the user has made a CuPy array

        module = cupy
    else:
        module = getattr(kind, "__functrans_array_module__", None)
        if module is None:
            module = _np
    _MODULE_BY_TYPE[kind] = module
    return module


def array_module(x):
    """The array module (``numpy`` or ``cupy``) that serves ``x``.

    Example:
        >>> import numpy as np
        >>> array_module(np.ones(3)) is np
        True
    """
    module = _MODULE_BY_TYPE.get(type(x))
    return module if module is not None else _resolve(type(x))


def array_module_of(*xs):
    """The array module of the first non-Python-scalar among ``xs`` (NumPy if none)."""
    for x in xs:
        kind = type(x)
        if kind is float or kind is int or kind is bool or kind is complex:
            continue
        module = _MODULE_BY_TYPE.get(kind)
        return module if module is not None else _resolve(kind)
    return _np
