"""functrans.scipy.signal: the table rows (values against SciPy, derivatives in both inputs
to second order, both backends), and what the rows do not draw: integer and complex inputs,
large kernels, the automatic method, and the errors; then the spectral functions (stft,
istft, welch, csd, detrend) against SciPy on drawn parameters, under jit and vmap, with their
derivatives."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.signal as ss
from hypothesis import given
from hypothesis import strategies as st

import functrans as ft
import functrans.numpy as fnp
import functrans.scipy.signal as fss
from functrans.testing import check_grads

from specs import check_spec
from specs.tables import SIGNAL_SPECS


@pytest.mark.parametrize("spec", SIGNAL_SPECS, ids=repr)
def test_function(spec, backend):
    check_spec(spec, backend)


@pytest.mark.parametrize("spec", SIGNAL_SPECS, ids=repr)
def test_function_low_precision(spec, backend):
    check_spec(spec, backend, low_precision=True)


@pytest.mark.parametrize("mode", ["full", "same", "valid"])
def test_integers_are_exact_and_stay_integers(mode):
    a, b = np.arange(12).reshape(3, 4), np.array([[1, -2], [3, 0]])
    for name in ("convolve", "correlate"):
        got, ref = getattr(fss, name)(a, b, mode), getattr(ss, name)(a, b, mode)
        assert got.dtype == ref.dtype and np.array_equal(got, ref)


@pytest.mark.parametrize("method", ["direct", "fft"])
def test_complex_inputs_and_their_derivatives(method):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((5,)) + 1j * rng.standard_normal(5)
    b = rng.standard_normal((3,)) + 1j * rng.standard_normal(3)
    for name in ("convolve", "correlate"):
        np.testing.assert_allclose(getattr(fss, name)(a, b, "same", method),
                                   getattr(ss, name)(a, b, "same", method), rtol=1e-12, atol=1e-12)
        check_grads(lambda a, b: getattr(fss, name)(a, b, "full", method), (a, b), order=2)


def test_auto_takes_the_fft_for_large_kernels_with_the_same_values(backend):
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal(300), rng.standard_normal(100)
    assert fss.choose_conv_method(a, b) == "fft" and fss.choose_conv_method(a, b[:5]) == "direct"
    got = fss.convolve(backend.put(a), backend.put(b), "same")
    backend.check_placed(got)
    np.testing.assert_allclose(backend.get(got), ss.convolve(a, b, "same"), rtol=1e-10, atol=1e-10)
    # the derivative of a convolution in its kernel is a correlation with the signal
    g = ft.grad(lambda b: fss.convolve(a, b, "valid") @ np.ones(201))(b)
    np.testing.assert_allclose(g, [a[99 - j:300 - j].sum() for j in range(100)], rtol=1e-10)


def test_jit_and_vmap():
    rng = np.random.default_rng(2)
    xs, k = rng.standard_normal((4, 6)), rng.standard_normal(3)
    batched = ft.vmap(lambda x: fss.convolve(x, k, "same"))(xs)
    np.testing.assert_allclose(batched, [ss.convolve(x, k, "same") for x in xs], rtol=1e-12)
    jitted = ft.jit(lambda x, k: fss.correlate2d(x, k, "same", "wrap"))
    np.testing.assert_allclose(jitted(xs, k[None]), ss.correlate2d(xs, k[None], "same", "wrap"),
                               rtol=1e-12)


def test_errors_name_the_problem():
    with pytest.raises(ValueError, match="mode must be one of"):
        fss.convolve(np.ones(3), np.ones(2), mode="circular")
    with pytest.raises(ValueError, match="method must be one of"):
        fss.convolve(np.ones(3), np.ones(2), method="overlap-add")
    with pytest.raises(ValueError, match="same number of dimensions"):
        fss.convolve(np.ones(3), np.ones((2, 2)))
    with pytest.raises(ValueError, match="at least as large"):
        fss.correlate(np.ones((3, 1)), np.ones((1, 3)), mode="valid")
    with pytest.raises(ValueError, match="2-D arrays"):
        fss.convolve2d(np.ones(3), np.ones(2))
    with pytest.raises(ValueError, match="boundary must be"):
        fss.convolve2d(np.ones((3, 3)), np.ones((2, 2)), boundary="reflect")
    with pytest.raises(ValueError, match="do not broadcast along axis 0"):
        fss.fftconvolve(np.ones((3, 4)), np.ones((2, 4)), axes=1)
    with pytest.raises(ValueError, match="axes cannot be empty"):
        fss.fftconvolve(np.ones((3, 4)), np.ones((3, 4)), axes=[])


@pytest.mark.parametrize("mode", ["full", "same", "valid"])
def test_fftconvolve_along_some_axes_is_scipys(mode):
    rng = np.random.default_rng(20)
    cases = [((4, 10), (4, 3), 1), ((4, 10), (1, 3), -1), ((4, 10), (1, 3), [0, 1]), ((3, 5, 6), (3, 2, 4), (1, 2)),
             ((4, 3), (4, 10), 1)]
    for shape1, shape2, axes in cases:
        a, b = rng.standard_normal(shape1), rng.standard_normal(shape2)
        want = ss.fftconvolve(a, b, mode, axes=axes)
        got = fss.fftconvolve(a, b, mode, axes=axes)
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, atol=1e-12)
    a, b = rng.standard_normal((3, 8)), rng.standard_normal((3, 3))
    np.testing.assert_allclose(ft.jit(lambda x, y: fss.fftconvolve(x, y, mode, axes=1))(a, b),
                               ss.fftconvolve(a, b, mode, axes=1), atol=1e-12)
    np.testing.assert_allclose(ft.vmap(lambda x, y: fss.fftconvolve(x, y, mode, axes=0))(a, b),
                               ss.fftconvolve(a, b, mode, axes=1), atol=1e-12)
    assert fss.fftconvolve(a.astype(np.float32), b.astype(np.float32), mode, axes=1).dtype == np.float32
    check_grads(lambda x, y: fss.fftconvolve(x, y, mode, axes=1), (a, b), order=2)


def test_precision_is_checked_and_changes_nothing():
    x, k = np.arange(5.0), np.array([1.0, -2.0, 0.5])
    for name in ("convolve", "correlate"):
        fn = getattr(fss, name)
        np.testing.assert_array_equal(fn(x, k, precision="highest"), fn(x, k))
        np.testing.assert_array_equal(ft.jit(lambda x: fn(x, k, precision=ft.lax.Precision.HIGH))(x), fn(x, k))
    for name in ("convolve2d", "correlate2d"):
        fn = getattr(fss, name)
        a, b = np.eye(3), np.ones((2, 2))
        np.testing.assert_array_equal(fn(a, b, precision="highest"), fn(a, b))
    with pytest.raises(ValueError, match="precision"):
        fss.convolve(x, k, precision="bogus")


# -- spectral analysis: stft, istft, welch, csd, detrend -------------------------------------------

_WINDOW_NAMES = ["hann", "hamming", "blackman", "bartlett", "triang", "boxcar", ("tukey", 0.3), ("kaiser", 6.0),
                 ("gaussian", 3.0)]


@st.composite
def _segmenting(draw):
    """A signal length and SciPy's segmenting parameters that fit it."""
    n = draw(st.integers(12, 40))
    nperseg = draw(st.integers(2, 12))
    return n, {"nperseg": nperseg, "noverlap": draw(st.integers(0, nperseg - 1)),
               "nfft": nperseg + draw(st.sampled_from([0, 0, 3])),
               "window": draw(st.sampled_from(_WINDOW_NAMES))}


def _assert_all_close(got, ref, tol=1e-10):
    assert len(got) == len(ref)
    for g, r in zip(got, ref):
        assert np.shape(g) == np.shape(r)
        np.testing.assert_allclose(g, r, rtol=tol, atol=tol)


@given(seg=_segmenting(), boundary=st.sampled_from(["zeros", "even", "odd", "constant", None]),
       padded=st.booleans(), detrend=st.sampled_from([False, "constant", "linear"]), onesided=st.booleans())
def test_stft_and_istft_match_scipy(seg, boundary, padded, detrend, onesided):
    n, kw = seg
    x = np.random.default_rng(n).standard_normal(n)
    _assert_all_close(fss.stft(x, 3.0, boundary=boundary, padded=padded, detrend=detrend,
                               return_onesided=onesided, **kw),
                      ss.stft(x, 3.0, boundary=boundary, padded=padded, detrend=detrend,
                              return_onesided=onesided, **kw))
    _, _, z = ss.stft(x, boundary="zeros", return_onesided=onesided, **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SciPy and functrans both warn when a window is not invertible
        _assert_all_close(fss.istft(z, input_onesided=onesided, **kw), ss.istft(z, input_onesided=onesided, **kw))


@given(seg=_segmenting(), detrend=st.sampled_from([False, "constant", "linear"]),
       scaling=st.sampled_from(["density", "spectrum"]), average=st.sampled_from(["mean", "median"]),
       onesided=st.booleans())
def test_welch_and_csd_match_scipy(seg, detrend, scaling, average, onesided):
    n, kw = seg
    rng = np.random.default_rng(n)
    x, y = rng.standard_normal((2, 3, n))
    kw.update(detrend=detrend, scaling=scaling, average=average, return_onesided=onesided, fs=2.0)
    _assert_all_close(fss.welch(x, **kw), ss.welch(x, **kw))
    _assert_all_close(fss.csd(x, y[:, :n - 3], **kw), ss.csd(x, y[:, :n - 3], **kw))
    _assert_all_close(fss.csd(x, y[:1], **kw), ss.csd(x, y[:1], **kw))
    _assert_all_close(fss.welch(x.T, axis=0, **kw), ss.welch(x.T, axis=0, **kw))


def test_spectral_defaults_complex_inputs_and_array_windows():
    rng = np.random.default_rng(3)
    x = rng.standard_normal(600)
    _assert_all_close(fss.welch(x), ss.welch(x))  # nperseg 256, as SciPy (JAX takes the whole signal)
    _assert_all_close(fss.stft(x), ss.stft(x))
    _assert_all_close(fss.welch(x, window=np.hanning(50)), ss.welch(x, window=np.hanning(50)))
    c = x[:64] + 1j * x[64:128]
    with pytest.warns(UserWarning, match="return_onesided=False"):
        got = fss.stft(c, nperseg=16)
    with pytest.warns(UserWarning, match="return_onesided=False"):
        _assert_all_close(got, ss.stft(c, nperseg=16))
    _, _, z = ss.stft(c, nperseg=16, return_onesided=False)
    _assert_all_close(fss.istft(z, input_onesided=False), ss.istft(z, input_onesided=False))
    zt = np.moveaxis(ss.stft(x.reshape(4, 150), nperseg=16)[2], 0, -1)  # (freq, segments, batch)
    _assert_all_close(fss.istft(zt, time_axis=1, freq_axis=0), ss.istft(zt, time_axis=1, freq_axis=0))


@pytest.mark.parametrize("kw", [{}, {"type": "constant"}, {"bp": [7, 20]}, {"bp": 29}, {"axis": 0}])
def test_detrend_matches_scipy(kw):
    x = np.random.default_rng(4).standard_normal((30, 3)).T.copy()
    x = x.T if kw.get("axis") == 0 else x
    _assert_all_close([fss.detrend(x, **kw)], [ss.detrend(x, **kw)])
    assert fss.detrend(np.arange(6) ** 2).dtype == np.float64
    _assert_all_close([fss.detrend(np.arange(6) ** 2)], [ss.detrend(np.arange(6) ** 2)])


_SPECTRAL = {
    "stft": lambda x: fss.stft(x, 2.0, nperseg=8, boundary="odd", detrend="linear")[2],
    "istft": lambda x: fss.istft(fss.stft(x, nperseg=8, window="hamming")[2], nperseg=8, window="hamming")[1],
    "welch": lambda x: fss.welch(x, nperseg=8, noverlap=5, nfft=10)[1],
    "welch[median]": lambda x: fss.welch(x, nperseg=8, average="median")[1],
    "csd": lambda x: fss.csd(x, x[::-1] ** 2, nperseg=8, window=("kaiser", 4.0))[1],
    "detrend": lambda x: fss.detrend(x, bp=[9]),
}


@pytest.mark.parametrize("name", sorted(_SPECTRAL))
def test_spectral_functions_eager_jit_vmap_and_derivatives(name):
    fn = _SPECTRAL[name]
    xs = np.random.default_rng(5).standard_normal((3, 24))
    eager = fn(xs[0])
    np.testing.assert_allclose(ft.jit(fn)(xs[0]), eager, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ft.vmap(fn)(xs), np.stack([fn(x) for x in xs]), rtol=1e-12, atol=1e-12)
    check_grads(lambda x: fnp.sum(fnp.abs(fn(x)) ** 2), (xs[0],), order=2, modes=("fwd", "rev"))
    low = fn(xs[0].astype(np.float32))
    assert low.dtype == (np.complex64 if eager.dtype.kind == "c" else np.float32)


def test_spectral_derivatives_in_fs_and_an_array_window():
    x = np.random.default_rng(6).standard_normal(32)
    check_grads(lambda fs: fnp.sum(fss.welch(x, fs, nperseg=8)[1]), (2.0,), order=2, modes=("fwd", "rev"))
    check_grads(lambda w: fnp.sum(fss.welch(x, window=w)[1]), (np.hanning(8) + 0.1,), order=2,
                modes=("fwd", "rev"))
    np.testing.assert_allclose(ft.jit(lambda x, fs: fss.welch(x, fs, nperseg=8)[1])(x, 2.0),
                               ss.welch(x, 2.0, nperseg=8)[1], rtol=1e-12)


def test_spectral_functions_on_the_backends(backend):
    x = np.random.default_rng(7).standard_normal((2, 40))
    for got, ref in [(fss.stft(backend.put(x), nperseg=8), ss.stft(x, nperseg=8)),
                     (fss.welch(backend.put(x), nperseg=8), ss.welch(x, nperseg=8)),
                     (fss.csd(backend.put(x), backend.put(x[::-1]), nperseg=8), ss.csd(x, x[::-1], nperseg=8)),
                     ((fss.detrend(backend.put(x)),), (ss.detrend(x),))]:
        for g, r in zip(got, ref):
            backend.check_placed(g)
            np.testing.assert_allclose(backend.get(g), r, rtol=1e-10, atol=1e-10)
    _, _, z = ss.stft(x, nperseg=8)
    t, y = fss.istft(backend.put(z), nperseg=8)
    backend.check_placed(y)
    np.testing.assert_allclose(backend.get(y), ss.istft(z, nperseg=8)[1], rtol=1e-10, atol=1e-10)


def test_spectral_gaps_and_empty_signals_as_scipy():
    x = np.random.default_rng(8).standard_normal(40)
    # a negative overlap leaves gaps between the segments
    _assert_all_close(fss.stft(x, nperseg=8, noverlap=-2), ss.stft(x, nperseg=8, noverlap=-2))
    _assert_all_close(fss.welch(x, nperseg=8, noverlap=-2), ss.welch(x, nperseg=8, noverlap=-2))
    for got, ref in [(fss.welch(np.ones((3, 0))), ss.welch(np.ones((3, 0)))),
                     (fss.stft(np.array([])), ss.stft(np.array([]))),
                     (fss.csd(np.array([]), np.ones(3)), ss.csd(np.array([]), np.ones(3)))]:
        assert [np.shape(g) for g in got] == [np.shape(r) for r in ref]


def test_spectral_errors_name_the_problem():
    x = np.ones(32)
    with pytest.raises(ValueError, match="window 'hannn' is not offered"):
        fss.welch(x, nperseg=8, window="hannn")
    with pytest.raises(ValueError, match="noverlap"):
        fss.stft(x, nperseg=8, noverlap=8)
    with pytest.raises(ValueError, match="nfft"):
        fss.welch(x, nperseg=8, nfft=4)
    with pytest.raises(ValueError, match="differs from the length of the window"):
        fss.stft(x, window=np.ones(8))
    with pytest.raises(ValueError, match="boundary must be"):
        fss.stft(x, boundary="periodic")
    with pytest.raises(ValueError, match="average must be"):
        fss.welch(x, nperseg=8, average="max")
    with pytest.raises(ValueError, match="type must be"):
        fss.detrend(x, type="quadratic")
    with pytest.raises(ValueError, match="breakpoints must lie"):
        fss.detrend(x, bp=[40])
    with pytest.raises(ValueError, match="at least one dimension"):
        fss.detrend(3.0)
    with pytest.raises(ValueError, match="at least 2-D"):
        fss.istft(np.ones(5))
    with pytest.warns(UserWarning, match="greater than the input length"):
        fss.stft(np.ones(5), nperseg=8)
