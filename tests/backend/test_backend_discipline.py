"""No code in core/, primitives/, interpreters/, lax/, nn/ or optim/ calls NumPy to compute on user
arrays: such a call would pull a CuPy array to the host (or fail on it). Arrays are made and
computed through ``array_module(x)`` / ``backend_of(x)`` of the arrays at hand instead.

The scan (tests/_scan.py) reads every ``np.<name>(...)`` call (``numpy.`` and ``_np.`` too) in
those packages; a call passes if its name is a dtype or shape helper (each justified in
tests/_scan.py) or it says ``# host-metadata: why`` (a dummy host array used only to read off
a shape or a dtype, never data) or ``# numpy-only: why`` (a fast path that a type check admits
NumPy arrays only into). These layers handle no host data, so ``host-data`` does not count here.
"""
from __future__ import annotations

from _scan import Rules, offences, scan

PACKAGES = ("core", "primitives", "interpreters", "lax", "nn", "optim")
RULES = Rules(markers=("host-metadata", "numpy-only"))


def test_no_numpy_arithmetic_outside_the_backend():
    report = scan(PACKAGES, RULES)
    assert len(report.files) > 20, "the packages to scan were not found"
    assert not report.offences, (
        "NumPy called on what may be user arrays; use array_module(x) / backend_of(x) of the "
        "arrays at hand (or, for a dummy used only for its shape, mark the line "
        "'# host-metadata: why'; for a branch a type check admits NumPy arrays only into, "
        "'# numpy-only: why'):\n" + "\n".join(report.offences))


def test_the_scan_catches_numpy_calls_and_honours_the_allowlist():
    source = ("import numpy as np\n"
              "a = np.zeros(3)\n"
              "b = np.linalg.qr(a)\n"
              "c = np.dtype('f4')\n"
              "d = np.ones(2)  # host-metadata: a shape probe\n"
              "e = np.ones(2)  # host-data: not an annotation these layers accept\n"
              "# host-metadata: a shape probe\n"
              "f = np.empty(0)\n"
              "g = np.broadcast_to(a, (3,))  # numpy-only: a type check admits ndarrays only\n")
    assert offences(source, "x.py", RULES) == [
        "x.py:2: np.zeros(...)", "x.py:3: np.linalg.qr(...)", "x.py:6: np.ones(...)"]


def test_the_scan_reads_every_module_of_the_packages(tmp_path):
    package = tmp_path / "functrans" / "core" / "sub"
    package.mkdir(parents=True)
    (package / "planted.py").write_text("import numpy as np\n\ndef f(x):\n    return np.sum(x)\n")
    report = scan(("core",), RULES, root=tmp_path / "functrans")
    assert [p.name for p in report.files] == ["planted.py"]
    assert report.offences == ["functrans/core/sub/planted.py:4: np.sum(...)"]
