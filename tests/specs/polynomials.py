"""Table rows of the polynomial functions (coefficients highest power first), the window
functions and one-dimensional convolution and correlation."""
from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

import functrans.numpy as fnp

from .opspec import OpSpec, unary
from .strategies import ANY, DISTINCT, F64, NONZERO, POSITIVE, no_args, shapes

_F64 = (F64,)


def _vectors(n, min_side=0, max_side=4):
    return st.tuples(*[shapes(min_dims=1, max_dims=1, min_side=min_side, max_side=max_side)] * n)


def _with(sig, **params):
    """``sig``'s shapes with parameters drawn from the given strategies."""
    return st.tuples(sig, st.fixed_dictionaries(params)).map(lambda t: (t[0], t[1]))


_MODES = st.sampled_from(["full", "same", "valid"])


@st.composite
def _polyfit_sig(draw):
    deg = draw(st.integers(0, 3))
    n = draw(st.integers(deg + 1, deg + 3))
    y = (n,) if draw(st.booleans()) else (n, draw(st.integers(1, 2)))
    return ((n,), y), {"deg": deg}


def _polyint_ref(p, *, m, k):
    return np.polyint(p, m, k)


CONVOLUTION: list[OpSpec] = [
    OpSpec("fnp.convolve", fnp.convolve, np.convolve, 2, _with(_vectors(2, min_side=1), mode=_MODES)),
    OpSpec("fnp.correlate", fnp.correlate, np.correlate, 2, _with(_vectors(2, min_side=1), mode=_MODES)),
    OpSpec("fnp.correlate[complex]", fnp.correlate, np.correlate, 2, _with(_vectors(2, min_side=1), mode=_MODES),
           dtypes=(np.complex128,), order=1),
]

WINDOWS: list[OpSpec] = [
    *(OpSpec(f"fnp.{name}", getattr(fnp, name), getattr(np, name), 0,
             no_args(st.fixed_dictionaries({"M": st.integers(-1, 6)})), derivative="none")
      for name in ("bartlett", "blackman", "hamming", "hanning")),
    OpSpec("fnp.kaiser", fnp.kaiser, np.kaiser, 0,
           no_args(st.fixed_dictionaries({"M": st.integers(0, 6), "beta": st.sampled_from([0.0, 2.5, 8.6])})),
           derivative="none"),
    unary("fnp.kaiser[traced beta]", lambda beta, *, M: fnp.kaiser(M, beta), lambda beta, *, M: np.kaiser(M, beta),
          POSITIVE, sig=st.integers(0, 5).map(lambda m: (((),), {"M": m})), dtypes=_F64),
    unary("fnp.i0", fnp.i0, np.i0),
]

POLYNOMIALS: list[OpSpec] = [
    OpSpec("fnp.polyval", fnp.polyval, np.polyval, 2,
           st.tuples(shapes(min_dims=1, max_dims=1, max_side=4), shapes(max_dims=2)).map(lambda s: (s, {}))),
    OpSpec("fnp.polyadd", fnp.polyadd, np.polyadd, 2, _vectors(2, min_side=1).map(lambda s: (s, {}))),
    OpSpec("fnp.polysub", fnp.polysub, np.polysub, 2, _vectors(2, min_side=1).map(lambda s: (s, {}))),
    OpSpec("fnp.polymul", fnp.polymul, np.polymul, 2, _vectors(2, min_side=1).map(lambda s: (s, {}))),
    unary("fnp.polyder", fnp.polyder, np.polyder,
          sig=_with(_vectors(1, min_side=1), m=st.integers(0, 2))),
    unary("fnp.polyint", fnp.polyint, _polyint_ref,
          sig=_with(_vectors(1, min_side=1), m=st.integers(0, 2), k=st.sampled_from([None, 1.5, [0.5, -1.0]]))),
    OpSpec("fnp.polyint[traced constant]", lambda p, k: fnp.polyint(p, 1, k), lambda p, k: np.polyint(p, 1, k), 2,
           st.tuples(shapes(min_dims=1, max_dims=1, min_side=1), st.just(())).map(lambda s: (s, {}))),
    OpSpec("fnp.polydiv", fnp.polydiv, lambda u, v: tuple(np.polydiv(u, v)), 2,
           _vectors(2, min_side=1).map(lambda s: (s, {})), domain=(ANY, NONZERO), dtypes=_F64),
    unary("fnp.poly", fnp.poly, np.poly, sig=_vectors(1, min_side=1, max_side=4).map(lambda s: (s, {}))),
    unary("fnp.poly[matrix]", fnp.poly, np.poly, DISTINCT,
          sig=st.integers(1, 3).map(lambda n: (((n, n),), {})), dtypes=_F64, order=1),
    unary("fnp.roots", fnp.roots, lambda p: np.roots(p).astype(np.complex128), NONZERO,
          sig=_vectors(1, min_side=1, max_side=4).map(lambda s: (s, {})), dtypes=_F64),
    OpSpec("fnp.polyfit", fnp.polyfit, np.polyfit, 2, _polyfit_sig(), domain=(DISTINCT, ANY), dtypes=_F64),
    OpSpec("fnp.polyfit[weighted]", lambda x, y, w, *, deg: fnp.polyfit(x, y, deg, w=w),
           lambda x, y, w, *, deg: np.polyfit(x, y, deg, w=w), 3,
           _polyfit_sig().map(lambda sp: ((*sp[0], sp[0][0]), sp[1])), domain=(DISTINCT, ANY, POSITIVE),
           dtypes=_F64, order=1),
    unary("fnp.vander", fnp.vander, np.vander,
          sig=_with(_vectors(1), N=st.sampled_from([None, 0, 1, 3]), increasing=st.booleans())),
]

FUNCTIONS: list[OpSpec] = [*CONVOLUTION, *WINDOWS, *POLYNOMIALS]
