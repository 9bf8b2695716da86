"""functrans.numpy and functrans.scipy call NumPy only where no array of another backend can
be involved; every such call says why with one of the annotations of tests/_scan.py
(``# numpy-only:``, ``# host-data:``, ``# host-metadata:``), on its line or on a comment line
just above.

Everything else goes through the operand's namespace (``array_module(x)``) or the primitives.
The strict table runs prove the paths they reach; this scan keeps a new ``np.`` call from
slipping in unexplained where they do not reach.
"""
from __future__ import annotations

from _scan import Rules, offences, scan

PACKAGES = ("numpy", "scipy")
RULES = Rules(
    markers=("numpy-only", "host-data", "host-metadata"),
    # an exception class, and NumPy's result tuples (EighResult, SVDResult, ...)
    allowed_prefixes=("exceptions.AxisError", "linalg._linalg."),
)


def test_numpy_and_scipy_call_numpy_only_with_a_stated_reason():
    report = scan(PACKAGES, RULES)
    assert len(report.files) > 15, "the packages to scan were not found"
    assert not report.offences, (
        "NumPy called in functrans.numpy/scipy without a reason: compute with array_module(x) "
        "or the primitives, or mark the line '# numpy-only:', '# host-data:' or "
        "'# host-metadata:' with why:\n" + "\n".join(report.offences))


def test_the_scan_reads_markers_on_the_line_or_just_above():
    source = ("import numpy as np\n"
              "a = np.exp(x)\n"
              "b = np.zeros(3)  # host-data: made from no array\n"
              "# numpy-only: NumPy arrays only\n"
              "c = np.sort(y)\n"
              "d = np.result_type(x)\n"
              "e = np.linalg._linalg.EighResult(w, v)\n")
    assert offences(source, "f.py", RULES) == ["f.py:2: np.exp(...)"]
