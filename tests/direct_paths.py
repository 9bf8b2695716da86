"""Helpers of the tests of eager differentiation's direct paths: the same derivative with those
paths off, and a comparison bit for bit."""
from __future__ import annotations

import numpy as np

import functrans as ft


def general(fn, *args):
    """``fn(*args)`` with every direct path of the recording and the backward pass off
    (``debug_nans`` on takes the general paths, each operation checked)."""
    with ft.config.override(debug_nans=True):
        return fn(*args)


def assert_same_bits(a, b):
    """The leaves of ``a`` and ``b`` have one dtype, shape and value, bit for bit."""
    for x, y in zip(ft.tree.leaves(a), ft.tree.leaves(b)):
        x, y = np.asarray(x), np.asarray(y)
        assert x.dtype == y.dtype and x.shape == y.shape
        np.testing.assert_array_equal(x, y)
