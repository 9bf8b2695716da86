"""``Backend``: what one array library spells its own way, behind one small interface.

A backend wraps a NumPy-like namespace ``xp`` (``numpy``, ``cupy``, the strict test
namespace) and adds what the namespaces do not share: scatter-add, special functions, a
random generator, creation of arrays on a given device, device names and transfers.
Everything generic is written against ``xp`` here; a subclass overrides only what its
library spells differently.
"""
from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import numpy as _np

from functrans.typing import Array, ArrayLike, DType, Shape


class Backend:
    """One array library. Subclasses set ``name``, ``platform`` and ``xp``.

    ``platform`` is the prefix of the library's device names (``"cpu"``, ``"gpu"``,
    ``"strict"``); a device name is ``platform`` or ``platform:index``.

    Example:
        >>> from functrans.backend import backend_of
        >>> import numpy as np
        >>> b = backend_of(np.ones(2))
        >>> b.name, b.device_of(np.ones(2)), b.to_host(b.zeros((2,), np.float32)).tolist()
        ('numpy', 'cpu', [0.0, 0.0])
    """

    name: str = "?"
    platform: str = "?"
    xp: Any = None

    # --- devices ------------------------------------------------------------------------
    def devices(self) -> list[str]:
        """The names of the devices this library can place arrays on."""
        return [f"{self.platform}:0"]

    def device_of(self, x: Any) -> str:
        """The canonical name of the device that holds ``x`` (e.g. ``"gpu:0"``)."""
        return f"{self.platform}:0"

    def canonical_device(self, device: str) -> str:
        """``"gpu"`` -> ``"gpu:0"`` (the default device of the platform); checks the index."""
        platform, _, index = device.partition(":")
        known = self.devices()
        name = f"{platform}:{index}" if index else known[0]
        if name not in known:
            raise ValueError(f"functrans: no device {device!r}; the devices are {known}")
        return name

    def device_scope(self, device: str) -> contextlib.AbstractContextManager[Any]:
        """A context in which arrays made from nothing (``xp.zeros``, ``xp.arange``) are
        made on ``device``, as under ``with cupy.cuda.Device(i)``.

        Example:
            >>> from functrans.backend import NUMPY
            >>> with NUMPY.device_scope("cpu"):
            ...     NUMPY.xp.zeros(1)
            array([0.])
        """
        return contextlib.nullcontext()

    def scope_for(self, device: str) -> contextlib.AbstractContextManager[Any] | None:
        """What ``Primitive.bind`` enters to run an implementation on arrays of ``device``:
        None when results land there anyway (the default; the strict backend keeps it, so
        that an implementation creating arrays on the default device is caught)."""
        return None

    def put(self, x: Array, device: str) -> Array:
        """``x`` (a host NumPy array or an array of this library) on ``device``."""
        raise NotImplementedError

    def to_host(self, x: Any) -> _np.ndarray:
        """A host NumPy copy of ``x`` (an explicit transfer; it waits for the device)."""
        raise NotImplementedError

    # --- creation on the device of existing arrays --------------------------------------
    def zeros(self, shape: Shape, dtype: DType, device: str | None = None) -> Array:
        """Zeros of ``shape`` and ``dtype`` on ``device`` (default: the default device)."""
        return self.full(shape, 0, dtype, device)

    def ones(self, shape: Shape, dtype: DType, device: str | None = None) -> Array:
        """Ones of ``shape`` and ``dtype`` on ``device`` (default: the default device)."""
        return self.full(shape, 1, dtype, device)

    def full(self, shape: Shape, fill_value: Any, dtype: DType, device: str | None = None) -> Array:
        """An array filled with ``fill_value`` on ``device``."""
        out = self.xp.full(shape, fill_value, dtype=dtype)
        return out if device is None else self.put(out, device)

    def asarray(self, x: ArrayLike, dtype: DType | None = None, *, copy: bool = False) -> Array:
        """``x`` (an array of this library or a scalar) as an array, on ``x``'s device.

        ``copy=True`` always returns a new, writable array, also for NumPy scalars.
        """
        if copy:
            return self.xp.array(x, dtype=dtype, copy=True)
        return self.xp.asarray(x, dtype=dtype)

    def make_like(self, like: Any, maker: Callable[..., Any], *args: Any) -> Array:
        """``maker(xp, *args)``, an array built by the namespace, on the device of ``like``.

        Example:
            >>> import numpy as np
            >>> from functrans.backend import NUMPY
            >>> NUMPY.make_like(np.ones(2), lambda xp, n: xp.eye(n, dtype=bool), 2).tolist()
            [[True, False], [False, True]]
        """
        out = maker(self.xp, *args)
        device = self.device_of(like)
        return out if self.device_of(out) == device else self.put(out, device)

    # --- what the libraries spell differently --------------------------------------------
    def synchronize(self, x: Any) -> None:
        """Wait until the work that computes ``x`` has finished on its device (a library that
        computes at once, as NumPy does, has nothing to wait for)."""

    def scatter_add(self, out: Any, index: Any, updates: Any) -> None:
        """``out[index] += updates`` in place, repeated indices accumulating."""
        raise NotImplementedError

    def ufunc_at(self, out: Any, positions: Any, updates: Any, name: str) -> None:
        """``xp.<name>.at(out, positions, updates)``: the ufunc ``name`` applied in place at
        the 1-D ``positions`` of the 1-D ``out``, a repeated position taking its updates one
        after the other in their order. A library without ``ufunc.at`` overrides this with
        ``ufunc_at_in_rounds``."""
        getattr(self.xp, name).at(out, positions, updates)

    @property
    def special(self) -> Any:
        """The module of special functions (``scipy.special`` or ``cupyx.scipy.special``)."""
        raise NotImplementedError

    def default_rng(self, seed: int) -> Any:
        """The library's own random generator (for tests and benchmarks; functrans.random
        computes its numbers with ``xp`` arithmetic instead, the same on every device)."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<functrans backend {self.name}>"


def ufunc_at_in_rounds(xp: Any, out: Any, positions: Any, updates: Any, name: str) -> None:
    """``ufunc.at`` written with the namespace ``xp``'s indexing: in round ``r`` each position
    takes its ``r``-th update (in the order the updates come), so every round writes each
    position at most once and the result is the one ``ufunc.at`` gives, bit for bit. Reads
    one number, the count of rounds, from the device.

    Example:
        >>> import numpy as np
        >>> out = np.ones(3)
        >>> ufunc_at_in_rounds(np, out, np.array([0, 2, 0]), np.array([2.0, 5.0, 3.0]), "multiply")
        >>> out.tolist()
        [6.0, 1.0, 5.0]
    """
    k = int(positions.size)
    if k == 0:
        return
    ufunc = getattr(xp, name)
    numbers = xp.arange(k)
    order = xp.argsort(positions * k + numbers)  # distinct keys: the order of every sort
    ordered = positions[order]
    rank = xp.empty(k, dtype=numbers.dtype)
    rank[order] = numbers - xp.searchsorted(ordered, ordered)  # how many came before, per position
    for r in range(int(rank.max()) + 1):
        chosen = xp.flatnonzero(rank == r)
        at = positions[chosen]
        out[at] = ufunc(out[at], updates[chosen])
