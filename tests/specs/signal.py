"""Table rows of ``functrans.scipy.signal``: convolutions and correlations in every mode and
method, checked against ``scipy.signal``."""
from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

import functrans.scipy.signal as fss

from .opspec import OpSpec
from .strategies import F64


def _scipy_signal(name):
    def ref(*args, **params):
        import scipy.signal

        return np.asarray(getattr(scipy.signal, name)(*args, **params))

    return ref


@st.composite
def conv_sig(draw, ndim=None, method=True, boundary=False):
    """Two shapes of one rank (sides 1 to 4), a mode, and a method or a 2-D boundary; for
    ``'valid'`` the second input fits inside the first or the first inside the second."""
    nd = draw(st.integers(1, 2)) if ndim is None else ndim
    mode = draw(st.sampled_from(["full", "same", "valid"]))
    s1 = tuple(draw(st.integers(1, 4)) for _ in range(nd))
    if mode == "valid":
        small = tuple(draw(st.integers(1, n)) for n in s1)
        s1, s2 = (small, s1) if draw(st.booleans()) else (s1, small)
    else:
        s2 = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    params = {"mode": mode}
    if method:
        params["method"] = draw(st.sampled_from(["direct", "fft"]))
    if boundary:
        params["boundary"] = draw(st.sampled_from(["fill", "wrap", "symm"]))
    return (s1, s2), params


_TOL = {F64: {"atol": 1e-6, "rtol": 1e-6}}

FUNCTIONS: list[OpSpec] = [
    OpSpec("fss.convolve", fss.convolve, _scipy_signal("convolve"), 2, conv_sig(), tol=_TOL),
    OpSpec("fss.correlate", fss.correlate, _scipy_signal("correlate"), 2, conv_sig(), tol=_TOL),
    OpSpec("fss.fftconvolve", fss.fftconvolve, _scipy_signal("fftconvolve"), 2, conv_sig(method=False),
           tol=_TOL),
    OpSpec("fss.convolve2d", fss.convolve2d, _scipy_signal("convolve2d"), 2,
           conv_sig(ndim=2, method=False, boundary=True), tol=_TOL),
    OpSpec("fss.correlate2d", fss.correlate2d, _scipy_signal("correlate2d"), 2,
           conv_sig(ndim=2, method=False, boundary=True), tol=_TOL),
]
