"""Device names, explicit transfers, and the check that one operation's inputs share a device.

A device is named ``"cpu"`` (NumPy), ``"gpu:i"`` (CuPy), or ``"platform:i"`` for a platform
another backend registers (the test backend's ``"strict:i"``); ``"gpu"`` alone means
``"gpu:0"``. Arrays move only when asked to, through ``device_put`` and ``device_get``.
"""
from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any

import numpy as _np

from functrans import tree as _tree
from functrans.backend._base import Backend
from functrans.backend._registry import SCALAR_TYPES, backend_for_platform
from functrans.backend._registry import backend_of as _backend_of
from functrans.errors import DeviceMismatchError, TracerConversionError
from functrans.typing import Array, PyTree


def _is_scalar(x: Any) -> bool:
    return type(x) in SCALAR_TYPES


def device_of(x: Any) -> str:
    """The name of the device that holds the array ``x`` (``"cpu"`` for scalars).

    Example:
        >>> import numpy as np
        >>> device_of(np.ones(2))
        'cpu'
    """
    return _backend_of(x).device_of(x)


def devices(platform: str | None = None) -> list[str]:
    """Names of the devices functrans can use: ``"cpu"``, then ``"gpu:i"`` for each GPU
    CuPy sees if CuPy is installed (``platform="gpu"`` lists only those).

    Example:
        >>> devices()[0]
        'cpu'
    """
    if platform is not None:
        return backend_for_platform(platform).devices()
    names = ["cpu"]
    try:
        names += backend_for_platform("gpu").devices()
    except ImportError:  # CuPy not installed
        pass
    return names


def _split(device: str) -> str:
    if not isinstance(device, str):
        raise TypeError(f"functrans.device_put: device must be a name such as 'cpu' or 'gpu:0', "
                        f"got {type(device).__name__} {device!r:.60}")
    return device.partition(":")[0]


def put_leaf(x: Any, device: str) -> Array:
    """One array (or scalar) on ``device``: returned as is if it is already there."""
    target = backend_for_platform(_split(device))
    if hasattr(x, "_trace"):  # a Tracer (the backend layer does not import core)
        raise TracerConversionError(
            f"functrans.device_put got a traced value (shape {tuple(x.shape)}) inside a "
            "transformed function; move the inputs before the call instead: "
            f"ft.grad(f)(ft.device_put(x, {device!r}))")
    if _is_scalar(x):
        x = _np.asarray(x)
    source = _backend_of(x)
    if source is not target and source.platform != "cpu":
        x = source.to_host(x)  # between two libraries: through the host
    return target.put(x, target.canonical_device(device))


def device_put(tree: PyTree, device: str) -> PyTree:
    """Every array leaf of ``tree`` moved to ``device`` (a copy only where it is elsewhere).

    Args:
        tree: a pytree of arrays (NumPy, CuPy, ...) and Python scalars (made arrays).
        device: ``"cpu"``, ``"gpu"``, ``"gpu:1"``, or a test device such as ``"strict:0"``.

    Returns:
        The same structure with every leaf on ``device``.

    Example:
        >>> import numpy as np
        >>> device_put({"w": np.ones(2), "b": 0.5}, "cpu")["b"]
        array(0.5)
    """
    _split(device)
    return _tree.map(lambda x: put_leaf(x, device), tree)


def device_get(tree: PyTree) -> PyTree:
    """Every array leaf of ``tree`` as a host NumPy array (Python scalars are kept).

    Example:
        >>> import numpy as np
        >>> device_get([np.ones(1), 2.0])
        [array([1.]), 2.0]
    """
    return _tree.map(lambda x: x if _is_scalar(x) else _backend_of(x).to_host(x), tree)


def to_host(x: Any) -> Any:
    """The values of array ``x`` as a host NumPy array, read from its device explicitly (on a
    GPU, a synchronisation and a copy): the one way library code reads device values, so a
    review finds every such read by this name. Python scalars come back as 0-d arrays.

    Example:
        >>> import numpy as np
        >>> bool(to_host(np.array(2.0) > 1))
        True
    """
    return _backend_of(x).to_host(x)


def block_until_ready(tree: PyTree) -> PyTree:
    """``tree``, once the work that computes its array leaves has finished on their devices:
    a GPU library returns before its kernels are done, so a timing or a measurement of
    memory waits here first (NumPy computes at once: nothing to wait for).

    Example:
        >>> import numpy as np
        >>> block_until_ready({"loss": np.float64(0.5)})["loss"]
        np.float64(0.5)
    """
    for leaf in _tree.leaves(tree):
        if not _is_scalar(leaf):
            _backend_of(leaf).synchronize(leaf)
    return tree


def check_same_device(name: str, args: Sequence[Any]) -> tuple[Backend | None, str | None]:
    """Raise ``DeviceMismatchError`` if the arrays among ``args`` are on different devices;
    else return ``(backend, device)`` of the first array (``(None, None)`` if there is none).

    Called by ``Primitive.bind`` only when some argument is not a host NumPy value, so
    NumPy-only programs never pay for it. Scalars (Python and NumPy) fit every device.
    """
    first_backend: Backend | None = None
    first, first_device = 0, ""
    for i, x in enumerate(args):
        if _is_scalar(x):
            continue
        backend = _backend_of(x)
        dev = backend.device_of(x)
        if first_backend is None:
            first, first_device, first_backend = i, dev, backend
        elif dev != first_device:
            raise device_mismatch_error(name, first, first_device, i, dev)
    return (None, None) if first_backend is None else (first_backend, first_device)


def device_scope_for(name: str, args: Sequence[Any]) -> AbstractContextManager[Any] | None:
    """After checking that ``args`` share a device: a context making it current, or None
    when nothing needs doing (one GPU, NumPy, the strict backend)."""
    backend, device = check_same_device(name, args)
    return None if backend is None or device is None else backend.scope_for(device)


def device_mismatch_error(name: str, i: int, a: str, j: int, b: str) -> DeviceMismatchError:
    """The error for argument ``i`` on device ``a`` meeting argument ``j`` on device ``b``;
    the suggested fix moves host data to the accelerator, not the other way round."""
    target = b if a == "cpu" else a
    return DeviceMismatchError(
        f"{name}: the inputs are on different devices: argument {i} is on {a!r} and argument "
        f"{j} is on {b!r}. functrans never copies arrays between devices implicitly; move the "
        f"data once, before the computation, e.g. x = functrans.device_put(x, {target!r}) "
        f"(parameters: model.init(functrans.random.key(seed, device={target!r})))."
    )
