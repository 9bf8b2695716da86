"""The registry of backends: which backend serves an array type, and which one owns a
device platform. The lookups on the hot path are one dict access by type."""
from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

import numpy as _np

from functrans._abstract import SCALARS
from functrans.backend._base import Backend
from functrans.backend._cupy import CuPyBackend
from functrans.backend._numpy import NUMPY

_BACKEND_BY_TYPE: dict[type, Backend] = {}
_MODULE_BY_TYPE: dict[type, Any] = {}

#: Types that live on the host and never choose a backend over another array: Python
#: scalars, NumPy scalars, and (for the device check) NumPy arrays. Primitive.bind skips
#: them with one set lookup, so the all-NumPy fast path does no device work.
_STATIC_TYPES: frozenset[type] = frozenset((str, type(None)))  # static arguments
SCALAR_TYPES = SCALARS | _STATIC_TYPES
HOST_TYPES = SCALAR_TYPES | {_np.ndarray}

_PLATFORM_LOADERS: dict[str, Callable[[], Backend]] = {}
_BACKEND_BY_PLATFORM: dict[str, Backend] = {"cpu": NUMPY}


def register_backend(array_type: type, backend: Backend) -> None:
    """Serve arrays of ``array_type`` with ``backend`` (and its platform's device names).

    Example:
        >>> import numpy as np
        >>> register_backend(np.ndarray, NUMPY)
        >>> backend_of(np.ones(1)) is NUMPY
        True
    """
    _BACKEND_BY_TYPE[array_type] = backend
    _MODULE_BY_TYPE[array_type] = backend.xp
    _BACKEND_BY_PLATFORM.setdefault(backend.platform, backend)


def register_platform(platform: str, loader: Callable[[], Backend]) -> None:
    """Make device names ``platform[:i]`` known before any array of it exists: ``loader()``
    imports the library and returns its backend (used by ``device_put``)."""
    _PLATFORM_LOADERS[platform] = loader


def _cupy_backend() -> Backend:
    backend = _BACKEND_BY_PLATFORM.get("gpu")
    if backend is None:
        try:
            backend = CuPyBackend()
        except ImportError as e:
            raise ImportError(f"functrans: 'gpu' devices need CuPy ({e}); install it in the "
                              "functrans clone with pip install -e '.[gpu]' (CuPy for CUDA 12; "
                              "for CUDA 11: pip install cupy-cuda11x)") from e
        register_backend(backend.xp.ndarray, backend)
    return backend


register_platform("gpu", _cupy_backend)
register_backend(_np.ndarray, NUMPY)
for _kind in SCALAR_TYPES:
    register_backend(_kind, NUMPY)


def backend_for_platform(platform: str) -> Backend:
    """The backend whose devices are named ``platform[:i]`` ("cpu", "gpu", or a platform a
    backend registered with ``register_backend``/``register_platform``)."""
    backend = _BACKEND_BY_PLATFORM.get(platform)
    if backend is not None:
        return backend
    loader = _PLATFORM_LOADERS.get(platform)
    if loader is None:
        known = sorted(set(_BACKEND_BY_PLATFORM) | set(_PLATFORM_LOADERS))
        raise ValueError(
            f"functrans: unknown device platform {platform!r}; known: {known}. A backend makes "
            "its platform known when it is registered (functrans.backend.register_backend).")
    return loader()


def _resolve(kind: type) -> Backend:
    """Find the backend for an array type not seen before, and remember it."""
    backend: Backend
    if issubclass(kind, (_np.generic, _np.ndarray)):
        backend = NUMPY
    elif kind.__module__.split(".")[0] == "cupy":
        backend = _cupy_backend()  # imports CuPy: the user already has
    else:
        # A Backend, or a callable that makes one on first use.
        declared = getattr(kind, "__functrans_backend__", None)
        found = declared if declared is None or isinstance(declared, Backend) else declared()
        if found is not None:
            backend = found
        else:
            module = getattr(kind, "__functrans_array_module__", None)
            backend = NUMPY if module is None else _ModuleBackend(module)
    register_backend(kind, backend)
    return backend


class _ModuleBackend(Backend):
    """A namespace registered only by ``__functrans_array_module__`` (no device support)."""

    platform = "cpu"

    def __init__(self, module: ModuleType) -> None:
        self.xp = module
        self.name = getattr(module, "__name__", "?")

    def devices(self) -> list[str]:
        return ["cpu"]

    def device_of(self, x: Any) -> str:
        return "cpu"


def array_module(x: Any) -> Any:
    """The NumPy-like namespace (``numpy``, ``cupy``, ...) that serves ``x``.

    Example:
        >>> import numpy as np
        >>> array_module(np.ones(3)) is np
        True
    """
    module = _MODULE_BY_TYPE.get(type(x))
    return module if module is not None else _resolve(type(x)).xp


def array_module_of(*xs: Any) -> Any:
    """The namespace of the first array among ``xs`` that is not a scalar (NumPy if none).

    Example:
        >>> import numpy as np
        >>> array_module_of(2.0, np.ones(3)) is np
        True
    """
    for x in xs:
        kind = type(x)
        if kind in SCALAR_TYPES:
            continue
        module = _MODULE_BY_TYPE.get(kind)
        return module if module is not None else _resolve(kind).xp
    return _np


def backend_of(*xs: Any) -> Backend:
    """The [`Backend`][functrans.backend.Backend] of the first array among ``xs`` that is not a scalar (NumPy if
    none): it creates arrays on their device, moves them, and scatter-adds.

    Example:
        >>> import numpy as np
        >>> backend_of(1.0, np.ones(3)).name
        'numpy'
    """
    for x in xs:
        kind = type(x)
        if kind in SCALAR_TYPES:
            continue
        backend = _BACKEND_BY_TYPE.get(kind)
        return backend if backend is not None else _resolve(kind)
    return NUMPY
