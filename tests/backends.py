"""The array libraries the test suites run on, for the ``backend`` fixture of conftest.py.

``BACKENDS["numpy"]`` is the identity; ``BACKENDS["strict"]`` puts test inputs on the strict
test backend (functrans.testing.strict: CuPy-like arrays that refuse implicit conversion to
NumPy), on its second fake device, so that a result created on the default device rather
than on its inputs' device is caught.
"""
from __future__ import annotations

import numpy as np

from functrans.testing.strict import StrictArray, strict_array, to_numpy


class ArrayBackend:
    """An array library the suites run on: ``put`` moves NumPy test inputs to it, ``get``
    brings results back for comparison with NumPy, ``check_placed`` asserts that results are
    its arrays, on its device.

    Example:
        >>> b = BACKENDS["strict"]
        >>> b.get(b.put({"w": np.ones(2), "n": 3}))["w"].tolist()
        [1.0, 1.0]
    """

    def __init__(self, name: str, device: str | None, to_device, to_host, array_type):
        self.name = name
        self.device = device
        self._to_device = to_device
        self._to_host = to_host
        self._array_type = array_type

    def put(self, value):
        """NumPy arrays among ``value`` (nested tuples, lists, dicts) on this backend."""
        return _map_arrays(value, np.ndarray, self._to_device)

    def get(self, value):
        """This backend's arrays among ``value`` as NumPy arrays (scalars kept)."""
        return _map_arrays(value, self._array_type, self._to_host)

    def check_placed(self, value, what: str = "result") -> None:
        """Every array in ``value`` is this backend's array, on its device."""
        for leaf in _leaves(value):
            if self.name == "numpy":
                assert not isinstance(leaf, StrictArray), f"{what}: a StrictArray from NumPy inputs"
                continue
            if isinstance(leaf, (int, float, complex, bool, np.generic, str, np.dtype, type)) or leaf is None:
                continue  # Python values (shapes, counts, dtypes) and NumPy scalars live nowhere
            assert isinstance(leaf, StrictArray), (
                f"{what}: {type(leaf).__name__} among the outputs; expected StrictArrays on "
                f"{self.device}")
            assert leaf.device == self.device, (
                f"{what}: an output is on {leaf.device}, its inputs on {self.device}")

    def __repr__(self):
        return self.name


def _map_arrays(value, kind, fn):
    if isinstance(value, kind):
        return fn(value)
    if isinstance(value, tuple):
        items = [_map_arrays(v, kind, fn) for v in value]
        return type(value)(*items) if hasattr(value, "_fields") else tuple(items)
    if isinstance(value, list):
        return [_map_arrays(v, kind, fn) for v in value]
    if isinstance(value, dict):
        return {k: _map_arrays(v, kind, fn) for k, v in value.items()}
    return value


def _leaves(value):
    if isinstance(value, (tuple, list)):
        for v in value:
            yield from _leaves(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _leaves(v)
    else:
        yield value


#: Inputs of the strict runs live on the second fake device, so a result created on the
#: default device instead of its inputs' device is caught.
BACKENDS = {
    "numpy": ArrayBackend("numpy", None, lambda x: x, lambda x: x, np.ndarray),
    "strict": ArrayBackend("strict", "strict:1", lambda x: strict_array(x, device="strict:1"),
                           to_numpy, StrictArray),
}


#: Hypothesis examples per table row on a backend other than NumPy: the NumPy run explores
#: the shapes and parameters; the other backend proves the same code paths stay on its
#: device, so a few draws per row bound the added CI time.
EXAMPLES_OFF_NUMPY = 6


def examples(backend: ArrayBackend, numpy_examples: int) -> int:
    """How many hypothesis examples a table row runs on ``backend``."""
    return numpy_examples if backend.name == "numpy" else min(numpy_examples, EXAMPLES_OFF_NUMPY)
