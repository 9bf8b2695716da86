"""The CuPy backend: arrays on NVIDIA GPUs, devices named ``"gpu:0"``, ``"gpu:1"``, ...

CuPy is imported when this backend is first built, which happens only once the user has
made a CuPy array (its type reaches ``backend_of``) or asked for a ``"gpu"`` device.

Every CuPy name and keyword used here is listed in ``CUPY_API``; tests/backend/test_gpu.py checks,
without a GPU, that each one exists in the installed CuPy.
"""
from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import numpy as np

from functrans.backend._base import Backend, ufunc_at_in_rounds
from functrans.typing import Array, ArrayLike, DType, Shape

#: (dotted name, keywords passed to it) for everything this module calls in CuPy.
CUPY_API: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("cupy.ndarray", ()),
    ("cupy.ndarray.get", ()),
    ("cupy.ndarray.copy", ()),
    ("cupy.ndarray.device", ()),
    ("cupy.asarray", ("dtype",)),
    ("cupy.array", ("dtype", "copy")),
    ("cupy.full", ("dtype",)),
    ("cupy.random.default_rng", ()),
    ("cupy.cuda.Device", ()),
    ("cupy.cuda.Device.id", ()),
    ("cupy.cuda.Device.__enter__", ()),
    ("cupy.cuda.runtime.getDeviceCount", ()),
    ("cupy.cuda.runtime.getDevice", ()),
    ("cupyx.scatter_add", ()),
    ("cupyx.scipy.special", ()),
)


class CuPyBackend(Backend):
    """CuPy on NVIDIA GPUs. Arrays are created on, and stay on, the device they belong to.

    Built on first use (``functrans.backend.backend_of(cupy_array)``, ``device_put(x, "gpu")``);
    its devices are named after the platform:

    Example:
        >>> CuPyBackend.name, CuPyBackend.platform
        ('cupy', 'gpu')
    """

    name = "cupy"
    platform = "gpu"

    def __init__(self) -> None:
        import cupy
        import cupyx

        self.xp = cupy
        self._cupyx = cupyx

    def devices(self) -> list[str]:
        try:
            count = self.xp.cuda.runtime.getDeviceCount()
        except Exception:  # no driver: CuPy imports, but there is no device to use
            count = 0
        return [f"gpu:{i}" for i in range(count)]

    def canonical_device(self, device: str) -> str:
        """``"gpu"`` is CuPy's current device (``with cupy.cuda.Device(i)`` changes it)."""
        known = self.devices()
        if not known:
            raise RuntimeError(f"functrans: device {device!r} requested, but CuPy finds no GPU "
                               "(no CUDA driver or no device)")
        if device == "gpu":
            return f"gpu:{self.xp.cuda.Device().id}"
        return super().canonical_device(device)

    def device_of(self, x: Any) -> str:
        return f"gpu:{x.device.id}"

    def _device(self, device: str | None) -> Any:
        index = 0 if device is None else int(self.canonical_device(device).partition(":")[2])
        return self.xp.cuda.Device(index)

    def device_scope(self, device: str) -> AbstractContextManager[Any]:
        return self._device(device)

    def scope_for(self, device: str) -> AbstractContextManager[Any] | None:
        """CuPy runs kernels and allocates results on the *current* device: make the arrays'
        device current for the call if it is not (a no-op check with one GPU)."""
        index = int(device.partition(":")[2])
        return None if index == self.xp.cuda.runtime.getDevice() else self.xp.cuda.Device(index)

    def put(self, x: Array, device: str) -> Array:
        cupy = self.xp
        if isinstance(x, cupy.ndarray):
            if self.device_of(x) == self.canonical_device(device):
                return x
            with self._device(device):
                return x.copy()  # CuPy copies to the current device
        with self._device(device):
            return cupy.asarray(x)

    def to_host(self, x: Any) -> np.ndarray:
        return x.get()

    def full(self, shape: Shape, fill_value: Any, dtype: DType, device: str | None = None) -> Array:
        with self._device(device):
            return self.xp.full(shape, fill_value, dtype=dtype)

    def asarray(self, x: ArrayLike, dtype: DType | None = None, *, copy: bool = False) -> Array:
        if isinstance(x, self.xp.ndarray):
            with x.device:  # stay on the device of x
                return self.xp.array(x, dtype=dtype, copy=True) if copy else self.xp.asarray(x, dtype=dtype)
        return super().asarray(x, dtype, copy=copy)

    def make_like(self, like: Any, maker: Callable[..., Any], *args: Any) -> Array:
        with like.device:  # built directly on the device of `like`
            return maker(self.xp, *args)

    def scatter_add(self, out: Any, index: Any, updates: Any) -> None:
        self._cupyx.scatter_add(out, index, updates)

    def synchronize(self, x: Any) -> None:
        x.device.synchronize()  # every stream of the device that holds x

    def ufunc_at(self, out: Any, positions: Any, updates: Any, name: str) -> None:
        # CuPy's ufunc.at covers few ufuncs and its atomic minimum and maximum treat NaN
        # their own way: the rounds give NumPy's result on every ufunc
        ufunc_at_in_rounds(self.xp, out, positions, updates, name)

    @property
    def special(self) -> Any:
        import cupyx.scipy.special

        return cupyx.scipy.special

    def default_rng(self, seed: int) -> Any:
        return self.xp.random.default_rng(seed)
