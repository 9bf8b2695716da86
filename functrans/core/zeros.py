"""The symbolic zero: a tangent or cotangent known to be zero, never materialised.

Rules skip all work for it. A tangent is always shaped like its primal, so the marker needs
no shape of its own: where an actual array of zeros is needed, it is made from the primal.
"""
from __future__ import annotations


class _Zero:
    __slots__ = ()

    def __repr__(self):
        return "zero"

    def __bool__(self):
        raise TypeError("the symbolic zero has no truth value; compare with `is zero`")


zero = _Zero()
