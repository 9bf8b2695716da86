"""Table rows of the discrete Fourier transforms: the fft primitive (complex, real and inverse
real transforms over several axes) and ``functrans.numpy.fft``."""
from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

import functrans.numpy as fnp
from functrans import primitives as P

from .opspec import OpSpec, fnp_fn, np_fn, prim_spec, unary
from .strategies import COMPLEX, REAL, same_shapes, shapes

# =============================================================================================
# Primitives
# =============================================================================================


def _fft_prim_fn(x, *, fft_type, axes, length, norm):
    return P.fft_p.bind(x, fft_type=fft_type, axes=axes, length=length, norm=norm)


def _fft_prim_ref(x, *, fft_type, axes, length, norm):
    f = np.fft
    if fft_type == "irfft":
        return f.irfftn(x, s=[x.shape[a] for a in axes[:-1]] + [length], axes=axes, norm=norm)
    return {"fft": f.fftn, "ifft": f.ifftn, "rfft": f.rfftn}[fft_type](x, axes=axes, norm=norm)


@st.composite
def fft_prim_sig(draw, fft_type):
    shape = list(draw(shapes(min_dims=1, min_side=1)))
    nd = len(shape)
    axes = tuple(sorted(draw(st.lists(st.integers(0, nd - 1), unique=True, min_size=1))))
    norm = draw(st.sampled_from(["backward", "ortho", "forward"]))
    length = None
    if fft_type == "irfft":
        length = draw(st.integers(1, 5))
        shape[axes[-1]] = length // 2 + 1
    return (tuple(shape),), {"fft_type": fft_type, "axes": axes, "length": length, "norm": norm}


PRIMITIVES: list[OpSpec] = [
    *(prim_spec(f"fft[{t}]", _fft_prim_fn, _fft_prim_ref, 1, fft_prim_sig(t),
                dtypes=COMPLEX if t in ("fft", "ifft", "irfft") else REAL)
      for t in ("fft", "ifft", "rfft", "irfft")),
]


# =============================================================================================
# functrans.numpy.fft
# =============================================================================================


@st.composite
def fft_sig(draw, min_side=1):
    shape = draw(shapes(min_dims=1, min_side=min_side))
    nd = len(shape)
    axis = draw(st.integers(-nd, nd - 1))
    n = draw(st.one_of(st.none(), st.integers(1, 4)))
    return (shape,), {"n": n, "axis": axis, "norm": draw(st.sampled_from([None, "ortho", "forward"]))}


@st.composite
def fftn_sig(draw, min_side=1):
    shape = draw(shapes(min_dims=1, min_side=min_side))
    nd = len(shape)
    axes = tuple(draw(st.lists(st.integers(0, nd - 1), unique=True, min_size=1)))
    s = draw(st.one_of(st.none(), st.lists(st.integers(1, 4), min_size=len(axes), max_size=len(axes)).map(tuple)))
    return (shape,), {"s": s, "axes": axes, "norm": draw(st.sampled_from([None, "ortho", "forward"]))}


def _fft_specs():
    specs = []
    for name in ("fft", "ifft", "fftn", "ifftn", "fft2", "ifft2"):
        sig = fftn_sig() if name.endswith(("n", "2")) else fft_sig()
        if name.endswith("2"):
            sig = shapes(min_dims=2, min_side=1).map(lambda s: ((s,), {}))
        specs.append(unary(f"fnp.fft.{name}", fnp_fn(f"fft.{name}"), np_fn(f"fft.{name}"), sig=sig, dtypes=COMPLEX))
        specs.append(unary(f"fnp.fft.{name}[real input]", fnp_fn(f"fft.{name}"), np_fn(f"fft.{name}"), sig=sig))
    for name in ("rfft", "rfftn", "rfft2"):
        sig = fft_sig() if name == "rfft" else fftn_sig() if name == "rfftn" else \
            shapes(min_dims=2, min_side=1).map(lambda s: ((s,), {}))
        specs.append(unary(f"fnp.fft.{name}", fnp_fn(f"fft.{name}"), np_fn(f"fft.{name}"), sig=sig))
    for name in ("irfft", "irfftn", "irfft2"):  # the default length 2 (m - 1) needs m >= 2
        sig = fft_sig(min_side=2) if name == "irfft" else fftn_sig(min_side=2) if name == "irfftn" else \
            shapes(min_dims=2, min_side=2).map(lambda s: ((s,), {}))
        specs.append(unary(f"fnp.fft.{name}", fnp_fn(f"fft.{name}"), np_fn(f"fft.{name}"), sig=sig, dtypes=COMPLEX))
    specs += [
        unary("fnp.fft.fftshift", fnp.fft.fftshift, np.fft.fftshift, sig=same_shapes(1, min_dims=1)),
        unary("fnp.fft.ifftshift", fnp.fft.ifftshift, np.fft.ifftshift, sig=same_shapes(1, min_dims=1)),
        OpSpec("fnp.fft.fftfreq", fnp.fft.fftfreq, np.fft.fftfreq, 0,
               st.integers(1, 5).map(lambda n: ((), {"n": n, "d": 0.5})), derivative="none"),
        OpSpec("fnp.fft.rfftfreq", fnp.fft.rfftfreq, np.fft.rfftfreq, 0,
               st.integers(1, 5).map(lambda n: ((), {"n": n, "d": 0.5})), derivative="none"),
    ]
    return specs


# fnp.fft's names are not top-level functions: tests/numpy/test_fft.py runs these rows.
FFT_SPECS: list[OpSpec] = _fft_specs()
