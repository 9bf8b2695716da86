"""The seam between functrans and the array libraries (NumPy on the CPU, CuPy on the GPU).

Code outside this package asks ``array_module(x)`` for the NumPy-like namespace that serves
an array, or ``backend_of(x)`` for its [`Backend`][functrans.backend.Backend] (which adds what the libraries
spell differently: scatter-add, special functions, devices, transfers), and never does
arithmetic on user arrays with ``numpy`` directly. Both are found by the array's type
through a dict, so the lookup costs one dict access on the hot path. Python scalars (and
NumPy scalars, which CuPy also accepts as scalars) never choose the backend.

A library is registered by its array type: ``register_backend(array_type, backend)``, or a
``__functrans_backend__`` class attribute on the type (a ``Backend``, or a callable making
one on first use). CuPy's types are recognised by their module, and CuPy is imported only
once one of its arrays is seen or a ``"gpu"`` device is asked for.
"""
from functrans.backend._base import Backend
from functrans.backend._devices import (
    block_until_ready,
    check_same_device,
    device_get,
    device_of,
    device_put,
    device_scope_for,
    devices,
    to_host,
)
from functrans.backend._numpy import NUMPY, NumPyBackend
from functrans.backend._registry import (
    HOST_TYPES,
    SCALAR_TYPES,
    array_module,
    array_module_of,
    backend_for_platform,
    backend_of,
    register_backend,
    register_platform,
)

__all__ = [
    "Backend", "NumPyBackend", "NUMPY", "array_module", "array_module_of", "backend_of",
    "register_backend", "register_platform", "backend_for_platform", "HOST_TYPES",
    "SCALAR_TYPES", "block_until_ready", "check_same_device", "device_get", "device_of", "device_put",
    "device_scope_for", "devices", "to_host",
]
