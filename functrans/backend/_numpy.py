"""The NumPy backend: host arrays, one device named ``"cpu"``."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as _np

from functrans.backend._base import Backend
from functrans.typing import Array, DType, Shape


class NumPyBackend(Backend):
    """NumPy on the CPU.

    Example:
        >>> import numpy as np
        >>> out = np.zeros(2)
        >>> NUMPY.scatter_add(out, (np.array([1, 1]),), np.array([1.0, 2.0]))
        >>> out.tolist()
        [0.0, 3.0]
    """

    name = "numpy"
    platform = "cpu"
    xp = _np

    def devices(self) -> list[str]:
        return ["cpu"]

    def device_of(self, x: Any) -> str:
        return "cpu"

    def canonical_device(self, device: str) -> str:
        if device not in ("cpu", "cpu:0"):
            raise ValueError(f"functrans: no device {device!r}; the host device is 'cpu'")
        return "cpu"

    def put(self, x: Array, device: str = "cpu") -> Array:
        # An array of another library reaches here already on the host (device_put moves
        # it through its own backend's to_host first).
        return x if type(x) is _np.ndarray or isinstance(x, _np.generic) else _np.asarray(x)

    def to_host(self, x: Any) -> _np.ndarray:
        return _np.asarray(x)

    def full(self, shape: Shape, fill_value: Any, dtype: DType, device: str | None = None) -> Array:
        return _np.full(shape, fill_value, dtype=dtype)

    def make_like(self, like: Any, maker: Callable[..., Any], *args: Any) -> Array:
        return maker(_np, *args)

    def scatter_add(self, out: Any, index: Any, updates: Any) -> None:
        _np.add.at(out, index, updates)

    @property
    def special(self) -> Any:
        import scipy.special

        return scipy.special

    def default_rng(self, seed: int) -> _np.random.Generator:
        return _np.random.default_rng(seed)


NUMPY = NumPyBackend()
