"""No code in core/, primitives/, interpreters/, lax/, nn/ or optim/ calls NumPy to compute on user
arrays: such a call would pull a CuPy array to the host (or fail on it). Arrays are made and
computed through ``array_module(x)`` / ``backend_of(x)`` of the arrays at hand instead.

An AST scan of every ``np.<name>(...)`` call (``numpy.`` and ``_np.`` too) in those packages;
a call passes if its name is on ALLOWED (metadata, dtype and shape helpers, each justified
below) or its line says ``# host-metadata: why`` (a dummy host array used only to read off a
shape or a dtype, never data).
"""
from __future__ import annotations

import ast
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent / "functrans"
PACKAGES = ("core", "primitives", "interpreters", "lax", "nn", "optim")
NUMPY_NAMES = {"np", "numpy", "_np"}

ALLOWED = {
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


def _numpy_calls(tree: ast.AST):
    """(line, dotted name after the numpy prefix) of every call of a numpy attribute."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        parts, fn = [], node.func
        while isinstance(fn, ast.Attribute):
            parts.append(fn.attr)
            fn = fn.value
        if isinstance(fn, ast.Name) and fn.id in NUMPY_NAMES and parts:
            yield node.lineno, ".".join(reversed(parts))


def _offences(source: str, filename: str) -> list[str]:
    lines = source.splitlines()
    found = []
    for lineno, name in _numpy_calls(ast.parse(source, filename)):
        if name in ALLOWED or "# host-metadata:" in lines[lineno - 1]:
            continue
        found.append(f"{filename}:{lineno}: np.{name}(...)")
    return found


def test_no_numpy_arithmetic_outside_the_backend():
    offences = []
    files = [f for pkg in PACKAGES for f in sorted((ROOT / pkg).rglob("*.py"))]
    assert len(files) > 20, "the packages to scan were not found"
    for path in files:
        offences += _offences(path.read_text(), str(path.relative_to(ROOT.parent)))
    assert not offences, (
        "NumPy called on what may be user arrays; use array_module(x) / backend_of(x) of the "
        "arrays at hand (or, for a dummy used only for its shape, mark the line "
        "'# host-metadata: why'):\n" + "\n".join(offences))


def test_the_scan_catches_numpy_calls_and_honours_the_allowlist():
    source = ("import numpy as np\n"
              "a = np.zeros(3)\n"
              "b = np.linalg.qr(a)\n"
              "c = np.dtype('f4')\n"
              "d = np.ones(2)  # host-metadata: a shape probe\n")
    assert _offences(source, "x.py") == ["x.py:2: np.zeros(...)", "x.py:3: np.linalg.qr(...)"]
