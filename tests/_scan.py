"""The scanner the backend-discipline tests share: where functrans calls NumPy itself.

Code outside the backend computes on user arrays through their own namespace
(``array_module(x)``, ``backend_of(x)``) or through the primitives, so that a CuPy array is
never pulled to the host. ``scan(packages, rules)`` finds every call of a NumPy attribute
(``np.f(...)``, ``numpy.f(...)``, ``_np.f(...)``, ``np.linalg.f(...)``) in the modules of the
given packages of functrans and reports each one that its rules do not allow.

A call is allowed when its name is one of the rules' ``allowed`` names (dtype and shape
helpers that touch no array data, each with its reason), starts with one of the rules'
``allowed_prefixes``, or carries an annotation the rules accept. The annotations, one
vocabulary for every scan, are a comment on the call's line or on a comment line directly
above it, each followed by the reason:

- ``# host-metadata: why``: a dummy host array used only to read off a shape or a dtype,
  never data;
- ``# host-data: why``: NumPy making or reading host data: Python scalars, parameters,
  lists, creation from no array (``like=`` places it), values read explicitly with
  ``host_values``, or small index data and constants that ``placed_like`` then moves to the
  operand's device;
- ``# numpy-only: why``: a fast path that a type check admits NumPy arrays only into.

Each scan's rules say which of them it accepts: the layers below the NumPy API (core,
primitives, interpreters, lax) and nn/optim accept ``host-metadata`` and ``numpy-only``, not
``host-data``.
"""
from __future__ import annotations

import ast
import dataclasses
import pathlib
from collections.abc import Iterator, Mapping

ROOT = pathlib.Path(__file__).resolve().parent.parent / "functrans"

#: The annotations, by name; each is written ``# name: why``.
MARKERS = {
    "host-metadata": "a host dummy used only for its shape or dtype, never data",
    "host-data": "NumPy making or reading host data (scalars, parameters, index constants)",
    "numpy-only": "a fast path that a type check admits NumPy arrays only into",
}

#: NumPy names that never touch array data: calls of them need no annotation anywhere.
DTYPE_AND_SHAPE_HELPERS = {
    "dtype": "builds a dtype object; no array involved",
    "result_type": "type promotion of dtypes (and of Python scalars), no array data",
    "promote_types": "type promotion of two dtypes",
    "can_cast": "a question about two dtypes",
    "issubdtype": "a question about a dtype's kind",
    "finfo": "machine limits of a float dtype",
    "iinfo": "machine limits of an integer dtype",
    "broadcast_shapes": "shape arithmetic on tuples of ints",
    "errstate": "a context manager for floating-point warnings; computes nothing",
    "ndindex": "iterates over the index tuples of a shape (ints, no array)",
    "float16": "a dtype constant (also callable as a scalar type)",
    "float32": "a dtype constant",
    "float64": "a dtype constant",
    "complex64": "a dtype constant",
    "complex128": "a dtype constant",
    "int32": "a dtype constant",
    "int64": "a dtype constant",
    "uint32": "a dtype constant",
    "bool_": "a dtype constant",
}

_NUMPY_NAMES = {"np", "numpy", "_np"}


@dataclasses.dataclass(frozen=True)
class Rules:
    """What one scan allows: names (with reasons), name prefixes, and annotations (keys of
    ``MARKERS``)."""

    markers: tuple[str, ...]
    allowed: Mapping[str, str] = dataclasses.field(default_factory=lambda: DTYPE_AND_SHAPE_HELPERS)
    allowed_prefixes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        unknown = [m for m in self.markers if m not in MARKERS]
        assert not unknown, f"unknown annotations {unknown}; the vocabulary is {sorted(MARKERS)}"


@dataclasses.dataclass
class Report:
    """The modules a scan read and the calls it did not allow (``path:line: np.name(...)``)."""

    files: list[pathlib.Path]
    offences: list[str]


def numpy_calls(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """(line, dotted name after the numpy prefix) of every call of a numpy attribute."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        parts, fn = [], node.func
        while isinstance(fn, ast.Attribute):
            parts.append(fn.attr)
            fn = fn.value
        if isinstance(fn, ast.Name) and fn.id in _NUMPY_NAMES and parts:
            yield node.lineno, ".".join(reversed(parts))


def _annotated(lines: list[str], lineno: int, tags: tuple[str, ...]) -> bool:
    here = lines[lineno - 1]
    above = lines[lineno - 2].strip() if lineno > 1 else ""
    return any(tag in here for tag in tags) or (above.startswith("#") and any(tag in above for tag in tags))


def offences(source: str, filename: str, rules: Rules) -> list[str]:
    """The NumPy calls of one module's source that ``rules`` do not allow."""
    lines = source.splitlines()
    tags = tuple(f"# {marker}:" for marker in rules.markers)
    found = []
    for lineno, name in numpy_calls(ast.parse(source, filename)):
        if name in rules.allowed or name.startswith(rules.allowed_prefixes):
            continue
        if not _annotated(lines, lineno, tags):
            found.append(f"{filename}:{lineno}: np.{name}(...)")
    return found


def scan(packages: tuple[str, ...], rules: Rules, root: pathlib.Path | None = None) -> Report:
    """Scan every module of ``packages`` (folders of functrans, or ``root``)."""
    root = ROOT if root is None else root
    files = [f for pkg in packages for f in sorted((root / pkg).rglob("*.py"))]
    found = []
    for path in files:
        found += offences(path.read_text(), str(path.relative_to(root.parent)), rules)
    return Report(files, found)
