"""functrans.numpy and functrans.scipy call NumPy only where no array of another backend can
be involved; every such call says why on its line (or on a comment line just above):

- ``# numpy-only:`` a fast path that a type check admits NumPy arrays only into;
- ``# host-data:`` NumPy making or reading host data: Python scalars, parameters, lists,
  creation from no array (``like=`` places it), values read explicitly with ``host_values``,
  or small index data and constants that ``placed_like`` then moves to the operand's device;
- ``# host-metadata:`` a host dummy used only for its shape (as in tests/test_backend_discipline.py).

Everything else goes through the operand's namespace (``array_module(x)``) or the primitives.
The strict table runs prove the paths they reach; this scan keeps a new ``np.`` call from
slipping in unexplained where they do not reach.
"""
from __future__ import annotations

import pathlib

from test_backend_discipline import ALLOWED, _numpy_calls

ROOT = pathlib.Path(__file__).resolve().parent.parent / "functrans"
PACKAGES = ("numpy", "scipy")
MARKERS = ("# numpy-only:", "# host-data:", "# host-metadata:")
ALSO_ALLOWED = ("exceptions.AxisError", "linalg._linalg.")  # an exception, NumPy's result tuples


def _offences(source: str, filename: str) -> list[str]:
    lines = source.splitlines()
    found = []
    for lineno, name in _numpy_calls_of(source, filename):
        if name in ALLOWED or name.startswith(ALSO_ALLOWED):
            continue
        here, above = lines[lineno - 1], lines[lineno - 2].strip() if lineno > 1 else ""
        if any(m in here for m in MARKERS) or (above.startswith("#") and any(m in above for m in MARKERS)):
            continue
        found.append(f"{filename}:{lineno}: np.{name}(...)")
    return found


def _numpy_calls_of(source: str, filename: str):
    import ast

    return _numpy_calls(ast.parse(source, filename))


def test_numpy_and_scipy_call_numpy_only_with_a_stated_reason():
    files = [f for pkg in PACKAGES for f in sorted((ROOT / pkg).rglob("*.py"))]
    assert len(files) > 15, "the packages to scan were not found"
    offences = []
    for path in files:
        offences += _offences(path.read_text(), str(path.relative_to(ROOT.parent)))
    assert not offences, (
        "NumPy called in functrans.numpy/scipy without a reason: compute with array_module(x) "
        "or the primitives, or mark the line '# numpy-only:', '# host-data:' or "
        "'# host-metadata:' with why:\n" + "\n".join(offences))


def test_the_scan_reads_markers_on_the_line_or_just_above():
    source = ("import numpy as np\n"
              "a = np.exp(x)\n"
              "b = np.zeros(3)  # host-data: made from no array\n"
              "# numpy-only: NumPy arrays only\n"
              "c = np.sort(y)\n"
              "d = np.result_type(x)\n"
              "e = np.linalg._linalg.EighResult(w, v)\n")
    assert _offences(source, "f.py") == ["f.py:2: np.exp(...)"]
