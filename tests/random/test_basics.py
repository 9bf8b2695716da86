"""Tests of functrans.random: the Threefry generator, keys, and every distribution.

Everything here is deterministic: fixed keys, and hypothesis runs derandomized. Statistical
checks use 100k samples and bounds of 5 standard errors, so a correct generator fails them
with probability below about 1e-6 per check, and the fixed keys make them pass or fail the
same way on every run.
"""
from __future__ import annotations

import ast
import inspect
import math
import re
from pathlib import Path
from statistics import NormalDist

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import functrans as ft
import functrans.numpy as fnp
from functrans import random as fr

M32 = 0xFFFFFFFF
N = 100_000
MODULES = sorted(Path(fr.__file__).parent.glob("*.py"))
SOURCES = {path.stem: path.read_text() for path in MODULES}


def within(value: float, expected: float, std_error: float, k: float = 5.0) -> bool:
    return abs(value - expected) <= k * std_error


class FakeTracer:
    """Any object with a ``_trace`` attribute looks like a functrans tracer."""

    _trace = object()
    shape = (2,)
    dtype = np.dtype(np.uint32)


# --------------------------------------------------------------------------------------------
# Threefry-2x32 known answers (Random123 distribution, kat_vectors, threefry2x32 with 20 rounds)
# --------------------------------------------------------------------------------------------

KNOWN_ANSWERS = [
    ((0x00000000, 0x00000000), (0x00000000, 0x00000000), (0x6B200159, 0x99BA4EFE)),
    ((0xFFFFFFFF, 0xFFFFFFFF), (0xFFFFFFFF, 0xFFFFFFFF), (0x1CB996FC, 0xBB002BE7)),
    ((0x13198A2E, 0x03707344), (0x243F6A88, 0x85A308D3), (0xC4923A9C, 0x483DF7A0)),
]


@pytest.mark.parametrize("k, ctr, expected", KNOWN_ANSWERS)
def test_threefry_known_answers(k, ctr, expected):
    out = fr.threefry2x32(np.array(k, np.uint32), np.array(ctr, np.uint32))
    assert out.dtype == np.uint32 and out.shape == (2,)
    assert tuple(int(w) for w in out) == expected


def test_threefry_batches_agree_with_single_blocks():
    k = np.array([0x13198A2E, 0x03707344], np.uint32)
    counts = np.array([[0, 0], [0x243F6A88, 0x85A308D3], [M32, M32], [1, 2]], np.uint32)
    batch = fr.threefry2x32(k, counts.reshape(2, 2, 2))
    assert batch.shape == (2, 2, 2)
    singles = np.stack([fr.threefry2x32(k, c) for c in counts])
    np.testing.assert_array_equal(batch.reshape(4, 2), singles)
    assert tuple(int(w) for w in singles[1]) == KNOWN_ANSWERS[2][2]


def test_threefry_rejects_bad_counts():
    with pytest.raises(ValueError, match=r"'count' must be a uint32 array of shape \(\.\.\., 2\)"):
        fr.threefry2x32(fr.key(0), np.zeros(3, np.uint32))
    with pytest.raises(ValueError, match="must be a uint32 array"):
        fr.threefry2x32(fr.key(0), np.zeros(2, np.int64))


# --------------------------------------------------------------------------------------------
# Keys, split, fold_in
# --------------------------------------------------------------------------------------------


def test_key_words():
    assert fr.key(0).tolist() == [0, 0]
    assert fr.key(7).tolist() == [0, 7]
    assert fr.key(2**32 + 1).tolist() == [1, 1]
    assert fr.key(2**64 - 1).tolist() == [M32, M32]
    k = fr.key(2024)
    assert isinstance(k, np.ndarray) and k.dtype == np.uint32 and k.shape == (2,)
    assert fr.key(np.int64(2024)).tolist() == k.tolist()
    assert fr.key(np.uint8(5)).tolist() == [0, 5]


def test_key_any_int_is_a_seed_and_distinct():
    seeds = [-1, -2, -(2**63), 2**64, 2**64 + 1, 2**100, -(2**100), 2**64 - 1, 0, 1]
    keys = [tuple(fr.key(s).tolist()) for s in seeds]
    assert len(set(keys)) == len(seeds)
    # Recorded once: a change here changes every stream drawn from such seeds.
    assert fr.key(-1).tolist() == [773952478, 2801299836]
    assert fr.key(2**64).tolist() == [1768066259, 1353932601]
    assert fr.key(-(2**70)).tolist() == [1957032440, 4065181582]


def test_split_shapes_and_values():
    k = fr.key(2024)
    keys = fr.split(k, 3)
    assert keys.shape == (3, 2) and keys.dtype == np.uint32
    assert keys.tolist() == [
        [3850569781, 900963591],
        [2808405315, 3212445623],
        [31388723, 1882199998],
    ]
    assert fr.split(k).shape == (2, 2)
    assert fr.split(k, 1).shape == (1, 2)
    many = fr.split(k, 1000)
    rows = {tuple(r) for r in many.tolist()}
    assert len(rows) == 1000 and tuple(k.tolist()) not in rows
    np.testing.assert_array_equal(many[:3], keys)  # split(k, n) rows do not depend on n
    a, b = fr.split(k)
    assert not np.array_equal(fr.split(a), fr.split(b))




def test_key_from_a_traced_or_array_seed():
    """``jit(PRNGKey)(seed)`` and ``vmap(key)(seeds)`` (one run per seed): the eager keys."""
    seeds = np.array([0, 7, -5, 2**40])
    eager = np.stack([fr.key(int(s)) for s in seeds])
    np.testing.assert_array_equal(ft.vmap(fr.key)(seeds), eager)
    np.testing.assert_array_equal(ft.jit(fr.PRNGKey)(7), eager[1])
    np.testing.assert_array_equal(fr.key(np.array(-5, np.int32)), eager[2])
    np.testing.assert_array_equal(ft.vmap(lambda s: fr.normal(fr.key(s), (2,)))(seeds[:2]),
                                  np.stack([fr.normal(k, (2,)) for k in eager[:2]]))
    with pytest.raises(TypeError, match=r"seed must be an int or a 0-d integer array, got ndarray array\(1\.\)"):
        fr.key(np.array(1.0))

def test_split_into_a_shape_of_keys():
    """JAX's ``split(key, (2, 3))``: the keys of ``split(key, 6)`` in that shape, also traced."""
    k = fr.key(5)
    keys = fr.split(k, (2, 3))
    np.testing.assert_array_equal(keys, fr.split(k, 6).reshape(2, 3, 2))
    np.testing.assert_array_equal(ft.jit(lambda k: fr.split(k, (2, 3)))(k), keys)
    assert fr.split(k, (4,)).shape == (4, 2)
    with pytest.raises(ValueError, match=r"'num' must be at least 1, got \(2, 0\)"):
        fr.split(k, (2, 0))
    with pytest.raises(TypeError, match=r"'num' must be an int or a tuple of ints, got \(2, 'a'\)"):
        fr.split(k, (2, "a"))

def test_fold_in():
    k = fr.key(2024)
    assert fr.fold_in(k, 7).tolist() == [1334421162, 76390314]
    assert fr.fold_in(k, -7).tolist() == [2036581170, 1272270324]
    out = fr.fold_in(k, 0)
    assert out.shape == (2,) and out.dtype == np.uint32
    folded = {tuple(fr.fold_in(k, d).tolist()) for d in [0, 1, 2, 2**32, -1, 2**70, np.int32(3)]}
    assert len(folded) == 7
    np.testing.assert_array_equal(fr.fold_in(k, 5), fr.fold_in(k, 5))
    assert not np.array_equal(fr.fold_in(k, 5), fr.fold_in(fr.key(2025), 5))
    # fold_in, split and sampling use disjoint counters.
    assert tuple(fr.fold_in(k, 0).tolist()) not in {tuple(r) for r in fr.split(k, 4).tolist()}



def test_fold_in_a_traced_or_array_step_gives_the_eager_key():
    """``fold_in(key, step)`` with the step traced (jit, vmap over indices, a fori_loop or
    scan index) or a 0-d integer array: the key an eager call with that int gives."""
    k = fr.key(2024)
    eager = np.stack([fr.fold_in(k, d) for d in (-1, 0, 7, 2**40)])
    data = np.array([-1, 0, 7, 2**40])
    np.testing.assert_array_equal(ft.vmap(lambda d: fr.fold_in(k, d))(data), eager)
    np.testing.assert_array_equal(ft.jit(lambda d: fr.fold_in(k, d))(np.int64(7)), eager[2])
    np.testing.assert_array_equal(ft.jit(lambda k, d: fr.fold_in(k, d))(k, 7), eager[2])
    keys = fr.split(k, 4)
    np.testing.assert_array_equal(ft.vmap(fr.fold_in)(keys, data),
                                  np.stack([fr.fold_in(a, int(d)) for a, d in zip(keys, data)]))
    np.testing.assert_array_equal(fr.fold_in(k, np.array(7, np.uint8)), eager[2])
    total = ft.lax.fori_loop(0, 3, lambda i, acc: acc + fr.normal(fr.fold_in(k, i)), 0.0)
    assert total == sum(float(fr.normal(fr.fold_in(k, i))) for i in range(3))
    for bad, said in [(np.arange(2), r"dtype int64 and shape \(2,\)"), (np.array(1.0), "float64"),
                      (True, "bool True")]:
        with pytest.raises(TypeError, match=f"'data' must be an int or a 0-d integer array, got .*{said}"):
            fr.fold_in(k, bad)
    with pytest.raises(TypeError, match="0-d integer array, got an array of dtype float64"):
        ft.jit(lambda d: fr.fold_in(k, d))(1.5)

# --------------------------------------------------------------------------------------------
# Determinism: recorded values catch any change to the streams
# --------------------------------------------------------------------------------------------


def test_recorded_streams():
    k = fr.key(2024)
    assert fr.uniform(k, 4).tolist() == [
        0.4616799180874789, 0.7099411747550466, 0.49919623594085727, 0.20300231178395878,
    ]
    assert fr.uniform(k, 4, np.float32).tolist() == [
        0.4616798162460327, 0.7099411487579346, 0.4991961717605591, 0.2030022144317627,
    ]
    assert fr.randint(k, 6, -50, 50).tolist() == [-4, 20, -1, -30, 43, -49]
    assert fr.randint(k, 3, 0, 2**64, np.uint64).tolist() == [
        8516491292930912673, 13096103158095053824, 9208545206960125922,
    ]
    assert fr.bernoulli(k, 0.5, 8).tolist() == [True, False, True, True, False, True, True, False]
    logits = np.log(np.array([0.1, 0.2, 0.3, 0.4]))
    assert fr.categorical(k, logits, shape=8).tolist() == [1, 3, 3, 0, 3, 1, 2, 3]
    assert fr.permutation(k, 8).tolist() == [5, 3, 6, 0, 2, 1, 7, 4]
    assert fr.choice(k, 100, 5).tolist() == [46, 70, 49, 20, 93]
    assert fr.choice(k, 100, 5, replace=False).tolist() == [5, 67, 39, 42, 75]
    # Transcendental functions may differ in the last bit between math libraries.
    np.testing.assert_allclose(
        fr.normal(k, 4),
        [-1.1129116344826204, 0.45787182770470786, 0.005620472479510088, 1.5052230569566365],
        rtol=1e-12,
    )
    np.testing.assert_allclose(
        fr.normal(k, 4, np.float32),
        [-1.1129114627838135, 0.45787277817726135, 0.005620887037366629, 1.5052227973937988],
        rtol=1e-5,
    )
    np.testing.assert_allclose(
        fr.truncated_normal(k, -1.0, 2.0, 4),
        [0.09183126472348577, 0.6427575247916654, 0.16949056647817698, -0.4542294255533943],
        rtol=1e-10,
    )


SAMPLERS = {
    "uniform": lambda k, s: fr.uniform(k, s),
    "normal": lambda k, s: fr.normal(k, s),
    "truncated_normal": lambda k, s: fr.truncated_normal(k, -1.0, 1.0, s),
    "bernoulli": lambda k, s: fr.bernoulli(k, 0.5, s),
    "randint": lambda k, s: fr.randint(k, s, 0, 1000),
    "categorical": lambda k, s: fr.categorical(k, np.zeros(10), shape=s),
    "choice": lambda k, s: fr.choice(k, 1000, s),
}


@pytest.mark.parametrize("name", sorted(SAMPLERS))
def test_same_key_same_numbers_other_key_other_numbers(name):
    sample = SAMPLERS[name]
    k = fr.key(11)
    first = sample(k, (50,))
    np.testing.assert_array_equal(first, sample(fr.key(11), (50,)))
    for other in [fr.key(12), *fr.split(k), fr.fold_in(k, 1)]:
        assert not np.array_equal(first, sample(other, (50,)))


def test_uniform_prefix_is_stable():
    k = fr.key(3)
    np.testing.assert_array_equal(fr.uniform(k, 10)[:5], fr.uniform(k, 5))
    np.testing.assert_array_equal(fr.uniform(k, (2, 5)).ravel(), fr.uniform(k, 10))


# --------------------------------------------------------------------------------------------
# Shapes and dtypes
# --------------------------------------------------------------------------------------------

OUTPUT_CASES = [
    (lambda k, s: fr.uniform(k, s), np.float64),
    (lambda k, s: fr.uniform(k, s, np.float32), np.float32),
    (lambda k, s: fr.uniform(k, s, "float16"), np.float16),
    (lambda k, s: fr.uniform(k, s, np.float32, -2.0, 3.0), np.float32),
    (lambda k, s: fr.normal(k, s), np.float64),
    (lambda k, s: fr.normal(k, s, np.float32), np.float32),
    (lambda k, s: fr.normal(k, s, np.float16), np.float16),
    (lambda k, s: fr.truncated_normal(k, -1.0, 1.0, s), np.float64),
    (lambda k, s: fr.truncated_normal(k, -1.0, 1.0, s, np.float32), np.float32),
    (lambda k, s: fr.bernoulli(k, 0.3, s), np.bool_),
    (lambda k, s: fr.randint(k, s, 0, 10), np.int64),
    (lambda k, s: fr.randint(k, s, -5, 5, np.int8), np.int8),
    (lambda k, s: fr.randint(k, s, 0, 10, np.uint32), np.uint32),
    (lambda k, s: fr.categorical(k, np.zeros(3), shape=s), np.int64),
    (lambda k, s: fr.choice(k, 10, s), np.int64),
]


@pytest.mark.parametrize("case", range(len(OUTPUT_CASES)))
@pytest.mark.parametrize("shape", [(), 0, 1, 7, (3, 4), (2, 0, 3), [2, 3]])
def test_output_shape_and_dtype(case, shape):
    sample, dtype = OUTPUT_CASES[case]
    out = sample(fr.key(0), shape)
    expected = (shape,) if isinstance(shape, int) else tuple(shape)
    assert isinstance(out, np.ndarray), type(out)  # an array, even for shape ()
    assert out.shape == expected
    assert out.dtype == dtype


def test_float32_computation_stays_float32():
    k = fr.key(0)
    lo = np.float32(-1.0)
    assert fr.uniform(k, 5, np.float32, lo, np.float32(1.0)).dtype == np.float32
    assert fr.uniform(k, 5, np.float32, np.zeros(5, np.float64), 1.0).dtype == np.float32
    assert fr.truncated_normal(k, np.zeros(5, np.float32), 1.0, 5, np.float32).dtype == np.float32


# --------------------------------------------------------------------------------------------
# uniform and normal: moments and range
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_uniform_moments_and_range(dtype):
    u = fr.uniform(fr.key(100), N, dtype).astype(np.float64)
    assert u.min() >= 0.0 and u.max() < 1.0
    assert within(u.mean(), 0.5, math.sqrt(1 / 12 / N))
    assert within(u.var(), 1 / 12, math.sqrt((1 / 80 - 1 / 144) / N))
    # Deciles each hold a tenth of the samples.
    counts = np.bincount((u * 10).astype(np.int64), minlength=10)
    assert all(within(c / N, 0.1, math.sqrt(0.09 / N)) for c in counts)


def test_uniform_bounds():
    x = fr.uniform(fr.key(1), N, minval=-3.0, maxval=5.0)
    assert x.min() >= -3.0 and x.max() < 5.0
    assert within(x.mean(), 1.0, 8 / math.sqrt(12 * N))
    # Array bounds broadcast per element.
    lo = np.array([0.0, 10.0, -100.0])
    y = fr.uniform(fr.key(2), (1000, 3), minval=lo, maxval=lo + 1)
    assert (y >= lo).all() and (y < lo + 1).all()
    # A tiny range, where rounding would reach maxval, stays half-open.
    next_up = float(np.nextafter(np.float32(1), np.float32(2)))
    z = fr.uniform(fr.key(3), 1000, np.float32, 1.0, next_up)
    assert (z == np.float32(1.0)).all()


@pytest.mark.parametrize("dtype, tol", [(np.float64, 5.0), (np.float32, 5.0)])
def test_normal_moments(dtype, tol):
    z = fr.normal(fr.key(200), N, dtype).astype(np.float64)
    assert np.isfinite(z).all()
    assert within(z.mean(), 0.0, 1 / math.sqrt(N), tol)
    assert within(z.var(), 1.0, math.sqrt(2 / N), tol)
    assert within(np.mean(z**3), 0.0, math.sqrt(15 / N), tol)
    assert within(np.mean(z**4), 3.0, math.sqrt(96 / N), tol)
    # The fraction below several quantiles matches the normal CDF.
    for q in [-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0]:
        p = NormalDist().cdf(q)
        assert within(np.mean(z < q), p, math.sqrt(p * (1 - p) / N)), q



@pytest.mark.parametrize("dtype", [np.complex64, np.complex128])
def test_complex_normal_has_unit_mean_square_and_independent_parts(dtype):
    """JAX's complex normal: real and imaginary parts N(0, 1/2), uncorrelated; 0-d stays an
    array; jit gives the eager numbers."""
    z = fr.normal(fr.key(3), (20_000,), dtype)
    assert z.dtype == dtype
    n = len(z)
    for part in (z.real, z.imag):
        assert within(float(part.mean()), 0.0, math.sqrt(0.5 / n))
        assert within(float(part.var()), 0.5, 0.5 * math.sqrt(2 / n))
    assert abs(float(np.mean(z.real * z.imag))) < 5 * 0.5 / math.sqrt(n)
    scalar = fr.normal(fr.key(3), (), dtype)
    assert isinstance(scalar, np.ndarray) and scalar.shape == () and scalar.dtype == dtype
    np.testing.assert_array_equal(ft.jit(lambda k: fr.normal(k, (3,), dtype))(fr.key(3)),
                                  fr.normal(fr.key(3), (3,), dtype))

def test_normal_odd_count_and_pairs():
    k = fr.key(5)
    assert fr.normal(k, 1).shape == (1,)
    assert fr.normal(k, (3, 3)).shape == (3, 3)


# --------------------------------------------------------------------------------------------
# truncated_normal
# --------------------------------------------------------------------------------------------


def _upper_tail(x: float) -> float:
    """P(Z > x) with full relative precision for large x."""
    return 0.5 * math.erfc(x / math.sqrt(2))


def _truncated_moments(a: float, b: float) -> tuple[float, float]:
    """Mean and variance of the standard normal truncated to (a, b)."""
    pdf = NormalDist().pdf
    mass = _upper_tail(a) - _upper_tail(b) if a > 0 else (
        _upper_tail(-b) - _upper_tail(-a)
    )
    pa, pb = pdf(a), pdf(b)
    apa = a * pa if math.isfinite(a) else 0.0
    bpb = b * pb if math.isfinite(b) else 0.0
    mean = (pa - pb) / mass
    var = 1 + (apa - bpb) / mass - mean**2
    return mean, var


@pytest.mark.parametrize(
    "a, b",
    [
        (-2.0, 2.0),
        (0.0, 1.0),
        (-1.0, 3.0),
        (1.5, math.inf),
        (-math.inf, -3.0),
        (5.0, 6.0),
        (-12.0, -10.0),
        (-math.inf, math.inf),
    ],
)
def test_truncated_normal_bounds_and_moments(a, b):
    x = fr.truncated_normal(fr.key(300), a, b, N)
    assert np.isfinite(x).all()
    assert (x > a).all() and (x < b).all()
    mean, var = _truncated_moments(a, b)
    assert within(x.mean(), mean, math.sqrt(var / N)), (x.mean(), mean)
    assert within(x.var(), var, var * math.sqrt(3 / N), 6.0), (x.var(), var)


def test_truncated_normal_float32_strictly_inside():
    x = fr.truncated_normal(fr.key(4), 0.0, 1e-6, N, np.float32)
    assert x.dtype == np.float32
    assert (x > np.float32(0.0)).all() and (x < np.float32(1e-6)).all()
    y = fr.truncated_normal(fr.key(4), 2.0, 2.01, 1000, np.float16)
    assert y.dtype == np.float16 and (y > np.float16(2.0)).all() and (y < np.float16(2.01)).all()
    # Bounds that are adjacent float32 values leave no room.
    lo = float(np.float32(1.0))
    hi = float(np.nextafter(np.float32(1.0), np.float32(2.0)))
    with pytest.raises(ValueError, match=r"no float32 value lies strictly between .* wider dtype"):
        fr.truncated_normal(fr.key(4), lo, hi, 3, np.float32)
    with pytest.raises(ValueError, match="no float16 value lies strictly between"):
        fr.truncated_normal(fr.key(4), 2.0, 2.0001, 3, np.float16)
    wide = fr.truncated_normal(fr.key(4), lo, hi, 1000)  # float64 has room
    assert (wide > lo).all() and (wide < hi).all()
    lows, highs = np.array([2.0, 2.0]), np.array([2.01, 2.0001])
    z = fr.truncated_normal(fr.key(4), lows, highs, 2, np.float16)
    assert 2.0 < z[0] < 2.01 and np.isnan(z[1])


def test_truncated_normal_huge_bounds_in_float32():
    x = fr.truncated_normal(fr.key(5), -1e300, 1e300, 1000, np.float32)
    assert np.isfinite(x).all() and within(x.mean(), 0.0, 1 / math.sqrt(1000))


def test_truncated_normal_array_bounds():
    lo = np.array([-1.0, 0.0, 2.0])
    x = fr.truncated_normal(fr.key(6), lo, lo + 0.5, (1000, 3))
    assert (x > lo).all() and (x < lo + 0.5).all()
    bad = fr.truncated_normal(fr.key(6), np.array([0.0, 1.0]), np.array([1.0, 1.0]), 2)
    assert np.isfinite(bad[0]) and np.isnan(bad[1])



def test_truncated_normal_shape_defaults_to_the_bounds_broadcast_shape():
    """As in JAX, ``shape=None`` (the default) is the broadcast shape of the bounds, and an
    explicit shape draws the same values."""
    lo, hi = np.array([-1.0, 0.0, 2.0]), np.array([[3.0], [4.0]])
    x = fr.truncated_normal(fr.key(6), lo, hi)
    assert x.shape == (2, 3) and (x > lo).all() and (x < hi).all()
    np.testing.assert_array_equal(x, fr.truncated_normal(fr.key(6), lo, hi, (2, 3)))
    assert fr.truncated_normal(fr.key(6), -1.0, 1.0).shape == ()
    with pytest.raises(ValueError, match=r"shapes lower=\(2,\), upper=\(3,\) do not broadcast"):
        fr.truncated_normal(fr.key(6), np.zeros(2), np.ones(3))


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.uint32, np.uint64])
def test_bits_are_fair_independent_unsigned_words(dtype):
    """JAX's ``bits``: every bit position fair (mean 1/2 within 5 standard errors), the
    dtype asked for, eager = jit = vmap over keys."""
    n, width = 4000, 8 * np.dtype(dtype).itemsize
    b = fr.bits(fr.key(9), (n,), dtype)
    assert b.dtype == dtype and b.shape == (n,)
    ones = (b[:, None].astype(np.uint64) >> np.arange(width, dtype=np.uint64)) & np.uint64(1)
    assert np.abs(ones.mean(0) - 0.5).max() < 5 * 0.5 / math.sqrt(n)
    np.testing.assert_array_equal(ft.jit(lambda k: fr.bits(k, (n,), dtype))(fr.key(9)), b)
    keys = fr.split(fr.key(9), 2)
    np.testing.assert_array_equal(ft.vmap(lambda k: fr.bits(k, (3,), dtype))(keys),
                                  np.stack([fr.bits(k, (3,), dtype) for k in keys]))
    assert fr.bits(fr.key(9)).shape == () and fr.bits(fr.key(9)).dtype == np.uint32


def test_bits_refuses_signed_dtypes_and_clone_copies_a_key():
    with pytest.raises(TypeError, match="bits: dtype must be an unsigned integer dtype .*randint"):
        fr.bits(fr.key(0), (2,), np.int32)
    k = fr.key(3)
    c = fr.clone(k)
    assert c is not k and c.tolist() == k.tolist() and c.dtype == np.uint32
    np.testing.assert_array_equal(ft.jit(fr.clone)(k), k)
    keys = fr.split(k, 2)
    np.testing.assert_array_equal(ft.vmap(fr.clone)(keys), keys)

def test_special_functions_match_the_standard_library():
    x = np.linspace(-6.0, 26.0, 3201)
    ours = fr._continuous._erfc(np, x)
    ref = np.array([math.erfc(v) for v in x])
    np.testing.assert_allclose(ours, ref, rtol=1e-12, atol=0)
    p = np.concatenate([np.logspace(-300, -1, 300), np.linspace(0.01, 0.99, 99),
                        1 - np.logspace(-15, -2, 50)])
    ref = np.array([NormalDist().inv_cdf(v) for v in p])
    np.testing.assert_allclose(fr._continuous._ndtri(np, p), ref, rtol=1e-11, atol=1e-12)


# --------------------------------------------------------------------------------------------
# bernoulli, randint
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("p", [0.5, 0.3, 0.01])
def test_bernoulli_frequency(p):
    b = fr.bernoulli(fr.key(400), p, N)
    assert b.dtype == np.bool_
    assert within(b.mean(), p, math.sqrt(p * (1 - p) / N))


def test_bernoulli_edges_and_shapes():
    k = fr.key(8)
    assert not fr.bernoulli(k, 0.0, 1000).any()
    assert fr.bernoulli(k, 1.0, 1000).all()
    p = np.array([[0.0], [1.0]])
    assert fr.bernoulli(k, p).shape == (2, 1)
    out = fr.bernoulli(k, p, (2, 500))
    assert out.shape == (2, 500) and not out[0].any() and out[1].all()
    assert fr.bernoulli(k).shape == ()


@pytest.mark.parametrize("lo, hi", [(0, 10), (-5, 5), (1000, 1010)])
def test_randint_uniformity(lo, hi):
    x = fr.randint(fr.key(500), N, lo, hi)
    assert x.min() == lo and x.max() == hi - 1
    counts = np.bincount(x - lo, minlength=hi - lo)
    expected = N / (hi - lo)
    chi2 = float(((counts - expected) ** 2 / expected).sum())
    df = hi - lo - 1
    assert chi2 < df + 5 * math.sqrt(2 * df), chi2


@pytest.mark.parametrize(
    "dtype, lo, hi",
    [
        (np.int8, -128, 128),
        (np.uint8, 0, 256),
        (np.int32, -(2**31), 2**31),
        (np.int64, -(2**63), 2**63),
        (np.uint64, 0, 2**64),
        (np.uint64, 2**63, 2**64),
        (np.int64, 2**62, 2**62 + 3),
    ],
)
def test_randint_full_and_extreme_ranges(dtype, lo, hi):
    x = fr.randint(fr.key(9), 5000, lo, hi, dtype)
    assert x.dtype == dtype
    values = [int(v) for v in x.tolist()]
    assert min(values) >= lo and max(values) < hi
    if hi - lo <= 256:
        assert len(set(values)) == hi - lo


def test_randint_single_value_range():
    assert (fr.randint(fr.key(0), 100, 7, 8) == 7).all()



def test_randint_with_array_bounds_draws_each_value_in_its_own_range():
    """JAX's ``randint(key, shape, minval_array, maxval_array)``: one range per value,
    uniform within it, the scalar-bound numbers where the bounds are equal, eager = jit = vmap."""
    key = fr.key(4)
    lo, hi = np.array([0, 10, -100]), np.array([2, 13, -95])
    r = fr.randint(key, (3000, 3), lo, hi)
    assert r.dtype == np.int64 and (r >= lo).all() and (r < hi).all()
    for j in range(3):
        counts = np.bincount(r[:, j] - lo[j], minlength=hi[j] - lo[j])
        assert len(counts) == hi[j] - lo[j] and abs(counts / 3000 * len(counts) - 1).max() < 0.15
    np.testing.assert_array_equal(fr.randint(key, (50,), 0, np.array(7)), fr.randint(key, (50,), 0, 7))
    np.testing.assert_array_equal(ft.jit(lambda k: fr.randint(k, (3000, 3), lo, hi))(key), r)
    keys = fr.split(key, 2)
    np.testing.assert_array_equal(ft.vmap(lambda k: fr.randint(k, (3,), lo, hi))(keys),
                                  np.stack([fr.randint(k, (3,), lo, hi) for k in keys]))
    full = fr.randint(key, (2000,), np.array([-128]), np.array([128]), np.int8)
    assert full.dtype == np.int8 and full.min() == -128 and full.max() == 127
    top = fr.randint(key, (100,), np.array(2**64 - 10, np.uint64), np.array([2**64 - 1], np.uint64), np.uint64)
    assert top.dtype == np.uint64 and top.min() >= 2**64 - 10 and top.max() < 2**64 - 1
    with pytest.raises(ValueError, match=r"got minval=5, maxval=5 at flat position 1 of shape \(2,\)"):
        fr.randint(key, (2,), np.array([0, 5]), 5)
    with pytest.raises(ValueError, match=r"\[0, 300\), which does not fit dtype int8"):
        fr.randint(key, (2,), 0, np.array([5, 300]), np.int8)
    with pytest.raises(TypeError, match="'minval' must be an int or an integer array, got ndarray"):
        fr.randint(key, (2,), np.array([0.0]), 1)
    with pytest.raises(ValueError, match=r"'minval' of shape \(3,\) does not broadcast to the requested shape \(2,\)"):
        fr.randint(key, (2,), np.zeros(3, int), 5)

@settings(derandomize=True, max_examples=200, deadline=None)
@given(st.integers(0, 2**64 - 1), st.integers(1, 2**64 - 1))
def test_mulhi64_matches_big_ints(r, span):
    out = fr._bits._mulhi64(np, np.array([r], np.uint64), span)
    assert int(out[0]) == (r * span) >> 64


@settings(derandomize=True, max_examples=60, deadline=None)
@given(
    st.integers(-(2**63), 2**63 - 2),
    st.integers(1, 2**40),
    st.integers(0, 2**32 - 1),
)
def test_randint_in_range(lo, width, seed):
    hi = min(lo + width, 2**63)
    x = fr.randint(fr.key(seed), 64, lo, hi)
    assert all(lo <= int(v) < hi for v in x.tolist())


@settings(derandomize=True, max_examples=60, deadline=None)
@given(
    st.floats(-1e6, 1e6),
    st.floats(1e-3, 1e6),
    st.sampled_from([np.float32, np.float64]),
    st.integers(0, 2**32 - 1),
)
def test_uniform_in_range(lo, width, dtype, seed):
    lo_d = dtype(lo)
    hi_d = dtype(lo + width)
    if not lo_d < hi_d:
        return
    x = fr.uniform(fr.key(seed), 64, dtype, float(lo_d), float(hi_d))
    assert x.dtype == dtype
    assert (x >= lo_d).all() and (x < hi_d).all()


# --------------------------------------------------------------------------------------------
# categorical, permutation, choice
# --------------------------------------------------------------------------------------------


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max())
    return e / e.sum()


def test_categorical_frequencies_match_softmax():
    logits = np.array([1.0, 2.0, 0.5, -1.0, -np.inf])
    c = fr.categorical(fr.key(600), logits, shape=N)
    freq = np.bincount(c, minlength=5) / N
    probs = _softmax(logits)
    assert freq[4] == 0.0
    for f, p in zip(freq, probs):
        assert within(f, p, math.sqrt(p * (1 - p) / N)), (f, p)


def test_categorical_batches_and_axis():
    logits = np.log(np.array([[0.9, 0.1], [0.2, 0.8], [0.5, 0.5]]))
    assert fr.categorical(fr.key(0), logits).shape == (3,)
    draws = fr.categorical(fr.key(601), logits, shape=(N // 10, 3))
    means = draws.mean(axis=0)
    for m, p in zip(means, [0.1, 0.8, 0.5]):
        assert within(m, p, math.sqrt(p * (1 - p) / (N // 10)))
    along0 = fr.categorical(fr.key(602), logits.T, axis=0, shape=(N // 10, 3))
    assert along0.shape == (N // 10, 3) and along0.max() <= 1
    assert fr.categorical(fr.key(0), [0.0, 0.0, 0.0]).shape == ()
    assert fr.categorical(fr.key(0), np.zeros(3, np.float32), shape=4).dtype == np.int64



def test_categorical_without_replacement_follows_the_sequential_draw():
    """JAX's ``replace=False``: distinct categories per distribution; the first draw has the
    softmax probabilities and the second those of drawing again from the rest; eager = jit;
    more draws than finite logits is an error."""
    k = fr.key(4)
    logits = np.log(np.array([[0.1, 0.2, 0.7], [0.6, 0.3, 0.1]]))
    draws = fr.categorical(k, np.tile(logits[0], (1500, 1)), shape=(2, 1500), replace=False)
    assert (draws[0] != draws[1]).all()
    p = np.exp(logits[0])
    second = [sum(p[j] * p[c] / (1 - p[j]) for j in range(3) if j != c) for c in range(3)]
    for got, want in ((np.bincount(draws[0], minlength=3) / 1500, p),
                      (np.bincount(draws[1], minlength=3) / 1500, second)):
        assert np.abs(got - want).max() < 5 * math.sqrt(0.25 / 1500)
    np.testing.assert_array_equal(ft.jit(lambda z: fr.categorical(k, z, shape=(2, 2), replace=False))(logits),
                                  fr.categorical(k, logits, shape=(2, 2), replace=False))
    assert sorted(fr.categorical(k, logits.T, axis=0, shape=(3, 2), replace=False)[:, 1].tolist()) == [0, 1, 2]
    with pytest.raises(ValueError, match=r"cannot draw 3 categories without replacement from 3 \(2 with a finite"):
        fr.categorical(k, np.array([0.0, -np.inf, 0.0]), shape=(3,), replace=False)
    with pytest.raises(ValueError, match=r"shape must be the draws' shape followed by logits' batch shape \(1,\)"):
        fr.categorical(k, logits[:1], shape=(2,), replace=False)

def test_permutation_of_int():
    for n in [0, 1, 2, 10, 1000]:
        perm = fr.permutation(fr.key(n), n)
        assert perm.dtype == np.int64
        np.testing.assert_array_equal(np.sort(perm), np.arange(n))
    assert not np.array_equal(fr.permutation(fr.key(1), 50), fr.permutation(fr.key(2), 50))


def test_permutation_of_array_along_axis():
    x = np.arange(24).reshape(4, 6)
    rows = fr.permutation(fr.key(3), x)
    assert rows.shape == x.shape
    assert sorted(map(tuple, rows.tolist())) == sorted(map(tuple, x.tolist()))
    cols = fr.permutation(fr.key(3), x, axis=-1)
    assert sorted(map(tuple, cols.T.tolist())) == sorted(map(tuple, x.T.tolist()))
    assert not np.array_equal(cols, x)
    x_before = x.copy()
    fr.permutation(fr.key(4), x)
    np.testing.assert_array_equal(x, x_before)  # a copy, never in place



def test_permutation_independent_shuffles_each_slice_by_its_own_order():
    """JAX's ``independent=True``: every row (slice along ``axis``) is a permutation of itself,
    rows get different orders, eager = jit (traced key or traced ``x``), and the derivative
    sends each cotangent back to where its value came from."""
    key = fr.key(1)
    x = np.arange(40.0).reshape(10, 4)
    y = fr.permutation(key, x, axis=1, independent=True)
    np.testing.assert_array_equal(np.sort(y, axis=1), x)
    assert len({tuple(np.argsort(row)) for row in y}) > 3
    cols = fr.permutation(key, x, axis=0, independent=True)
    np.testing.assert_array_equal(np.sort(cols, axis=0), x)
    assert not all(np.array_equal(np.argsort(cols[:, 0]), np.argsort(cols[:, j])) for j in range(4))
    np.testing.assert_array_equal(ft.jit(lambda x: fr.permutation(key, x, 1, True))(x), y)
    np.testing.assert_array_equal(ft.jit(lambda k: fr.permutation(k, x, 1, True))(key), y)
    w = np.arange(4.0) + 1
    g = ft.grad(lambda x: fnp.sum(fr.permutation(key, x, axis=1, independent=True) * w))(x)
    order = (y - x[:, :1]).astype(int)  # y[i, j] = x[i, order[i, j]]
    back = np.zeros_like(x)
    np.put_along_axis(back, order, np.broadcast_to(w, x.shape), axis=1)
    np.testing.assert_array_equal(g, back)

def test_permutations_are_uniform():
    keys = fr.split(fr.key(700), 4800)
    seen: dict[tuple, int] = {}
    for k in keys:
        p = tuple(fr.permutation(k, 4).tolist())
        seen[p] = seen.get(p, 0) + 1
    assert len(seen) == 24
    expected = 4800 / 24
    chi2 = sum((c - expected) ** 2 / expected for c in seen.values())
    assert chi2 < 23 + 5 * math.sqrt(46), chi2


def test_choice():
    k = fr.key(800)
    picks = fr.choice(k, 30, (4, 5), replace=False)
    assert picks.shape == (4, 5) and len(set(picks.ravel().tolist())) == 20
    picks = fr.choice(k, 10, 10, replace=False)
    assert sorted(picks.tolist()) == list(range(10))
    a = np.arange(30).reshape(10, 3)
    rows = fr.choice(k, a, (2, 2))
    assert rows.shape == (2, 2, 3) and (rows[..., 1] == rows[..., 0] + 1).all()
    p = np.array([0.1, 0.0, 0.6, 0.3])
    draws = fr.choice(k, 4, N, p=p)
    freq = np.bincount(draws, minlength=4) / N
    for f, q in zip(freq, p):
        assert within(f, q, math.sqrt(q * (1 - q) / N))
    no_repeat = fr.choice(k, 4, 3, replace=False, p=p)
    assert sorted(no_repeat.tolist()) == [0, 2, 3]
    assert fr.choice(k, 5).shape == ()


# --------------------------------------------------------------------------------------------
# Errors: each names the problem and the fix
# --------------------------------------------------------------------------------------------

KEY_MSG = r"expected a key from functrans\.random\.key\(seed\) \(uint32, shape \(2,\)\)"



def test_choice_refuses_probabilities_it_cannot_honour():
    """NumPy's rules for a concrete ``p``: negative or NaN entries, all zeros, or more picks
    without replacement than items with a positive probability are errors, not picks of
    zero-probability items; a traced ``p`` still draws (its values are unknown when traced)."""
    k = fr.key(0)
    with pytest.raises(ValueError, match=r"p must be finite and non-negative, got \[-0.1, 0.6, 0.5\]"):
        fr.choice(k, 3, (2,), p=np.array([-0.1, 0.6, 0.5]))
    with pytest.raises(ValueError, match="p must be finite and non-negative, got \\[nan"):
        fr.choice(k, 3, (2,), p=np.array([np.nan, 0.5, 0.5]))
    with pytest.raises(ValueError, match="p is all zeros"):
        fr.choice(k, 3, (2,), p=np.zeros(3))
    with pytest.raises(ValueError, match="cannot pick 3 items without replacement when only 2 have a positive"):
        fr.choice(k, 4, (3,), replace=False, p=np.array([0.5, 0.5, 0.0, 0.0]))
    p = np.array([0.5, 0.5, 0.0, 0.0])
    picks = fr.choice(k, 4, (2,), replace=False, p=p)
    assert sorted(picks.tolist()) == [0, 1]
    np.testing.assert_array_equal(ft.jit(lambda p: fr.choice(k, 4, (2,), replace=False, p=p))(p), picks)

def test_bad_keys():
    with pytest.raises(TypeError, match=KEY_MSG + r", got an array of dtype int64"):
        fr.uniform(np.array([0, 1]))
    with pytest.raises(TypeError, match=KEY_MSG + r", got list"):
        fr.normal([0, 1])
    with pytest.raises(TypeError, match=r"call functrans\.random\.key\(3\)"):
        fr.split(3)
    with pytest.raises(ValueError, match=KEY_MSG + r", got a uint32 array of shape \(3,\)"):
        fr.fold_in(np.zeros(3, np.uint32), 1)
    with pytest.raises(ValueError, match=r"shape \(4, 2\) \(a batch of keys.*keys\[0\]\)"):
        fr.bernoulli(fr.split(fr.key(0), 4))


def test_bad_seeds_and_counts():
    with pytest.raises(TypeError, match=r"the seed must be an int or a 0-d integer array, got float 1\.5"):
        fr.key(1.5)
    with pytest.raises(TypeError, match="the seed must be an int or a 0-d integer array, got bool"):
        fr.key(True)
    with pytest.raises(ValueError, match=r"'num' must be at least 1, got 0"):
        fr.split(fr.key(0), 0)
    with pytest.raises(TypeError, match="'num' must be an int"):
        fr.split(fr.key(0), 2.0)
    with pytest.raises(TypeError, match="'data' must be an int"):
        fr.fold_in(fr.key(0), "a")


def test_bad_dtypes():
    with pytest.raises(TypeError, match=r"uniform: dtype must be a floating dtype .*randint"):
        fr.uniform(fr.key(0), 3, np.int32)
    with pytest.raises(TypeError, match=r"normal: dtype must be a floating dtype"):
        fr.normal(fr.key(0), 3, np.int32)
    with pytest.raises(TypeError, match=r"truncated_normal: dtype must be a floating dtype"):
        fr.truncated_normal(fr.key(0), 0.0, 1.0, 3, bool)
    with pytest.raises(TypeError, match=r"randint: dtype must be an integer dtype .*uniform"):
        fr.randint(fr.key(0), 3, 0, 5, np.float32)


@pytest.mark.parametrize("draw", [
    lambda d: fr.uniform(fr.key(0), 2, d), lambda d: fr.normal(fr.key(0), 2, d),
    lambda d: fr.gamma(fr.key(0), 1.0, 2, d), lambda d: fr.exponential(fr.key(0), 2, d),
    lambda d: fr.orthogonal(fr.key(0), 2, dtype=d), lambda d: fr.rademacher(fr.key(0), 2, d),
])
def test_an_unknown_dtype_name_is_refused_not_read_as_float64(draw):
    """NumPy compares None equal to float64, so an unparsable dtype (a typo, or "bfloat16"
    without ml_dtypes) once slipped through the check and gave float64 samples."""
    with pytest.raises(TypeError, match=r"dtype must be a .*got 'bfloat17'"):
        draw("bfloat17")


def test_bad_ranges():
    with pytest.raises(ValueError, match=r"maxval must be greater than minval .*minval=5, maxval=5"):
        fr.randint(fr.key(0), 3, 5, 5)
    with pytest.raises(ValueError, match=r"\[0, 300\) does not fit dtype uint8 .* wider dtype"):
        fr.randint(fr.key(0), 3, 0, 300, np.uint8)
    with pytest.raises(TypeError, match=r"randint: 'maxval' must be an int or an integer array, got float"):
        fr.randint(fr.key(0), 3, 0, 2.5)
    with pytest.raises(ValueError, match=r"uniform: maxval must be greater than minval"):
        fr.uniform(fr.key(0), 3, minval=1.0, maxval=0.0)
    with pytest.raises(ValueError, match=r"truncated_normal: lower must be less than upper"):
        fr.truncated_normal(fr.key(0), 1.0, 1.0)
    with pytest.raises(ValueError, match=r"p must be a probability in \[0, 1\], got 1\.5"):
        fr.bernoulli(fr.key(0), 1.5)


def test_bad_shapes_and_axes():
    with pytest.raises(ValueError, match=r"'shape' must not have negative sizes, got \(2, -1\)"):
        fr.uniform(fr.key(0), (2, -1))
    with pytest.raises(TypeError, match=r"'shape' must be an int or a tuple of ints"):
        fr.normal(fr.key(0), 2.5)
    with pytest.raises(ValueError, match=r"'minval' of shape \(3,\) does not broadcast .*\(2,\)"):
        fr.uniform(fr.key(0), 2, minval=np.zeros(3))
    with pytest.raises(ValueError, match=r"'p' of shape \(3,\) does not broadcast"):
        fr.bernoulli(fr.key(0), np.full(3, 0.5), (2,))
    with pytest.raises(ValueError, match="logits must have at least one dimension"):
        fr.categorical(fr.key(0), 1.0)
    with pytest.raises(ValueError, match=r"batch shape \(3,\) .* does not broadcast to .*\(4,\)"):
        fr.categorical(fr.key(0), np.zeros((3, 2)), shape=(4,))
    with pytest.raises(ValueError, match="axis 2 is out of range for an array with 2 dimension"):
        fr.categorical(fr.key(0), np.zeros((3, 2)), axis=2)
    with pytest.raises(ValueError, match="n must be non-negative, got -1"):
        fr.permutation(fr.key(0), -1)
    with pytest.raises(ValueError, match="got a 0-d array; for n items pass the int n"):
        fr.permutation(fr.key(0), np.array(5))
    with pytest.raises(ValueError, match=r"cannot pick 6 items from 5 without replacement; pass"):
        fr.choice(fr.key(0), 5, 6, replace=False)
    with pytest.raises(ValueError, match=r"p must have shape \(5,\)"):
        fr.choice(fr.key(0), 5, 2, p=np.ones(4) / 4)


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda t: fr.poisson(fr.key(0), t), "lam"),
        (lambda t: fr.geometric(fr.key(0), t), "p"),
        (lambda t: fr.truncated_normal(fr.key(0), -1.0, t), "upper"),
        (lambda t: fr.normal(t), "key"),
    ],
)
def test_traced_inputs_are_rejected(call, name):
    """A traced value where the draw runs on concrete values (the samplers route real tracers
    around these places) is refused for what it is: not a derivative question."""
    with pytest.raises(
        TypeError,
        match=rf"argument '{name}' is a traced value \(inside jit, vmap or grad\), but this draw "
        rf"needs its concrete value: create '{name}' outside",
    ) as info:
        call(FakeTracer())
    assert "differentiable" not in str(info.value)



def test_uniform_and_bernoulli_with_traced_parameters_give_the_eager_draw():
    """A bound or probability passed into ``jit`` (jit traces Python floats) or mapped by
    ``vmap``: the eager numbers; uniform's sample differentiates in its bounds, as in JAX."""
    k = fr.key(8)
    hi = np.array([1.0, 2.0, 3.0])
    eager = fr.uniform(k, (2, 3), minval=-2.0, maxval=hi)
    np.testing.assert_array_equal(ft.jit(lambda a, b: fr.uniform(k, (2, 3), minval=a, maxval=b))(-2.0, hi), eager)
    np.testing.assert_array_equal(ft.jit(lambda k, a: fr.uniform(k, (2, 3), minval=a, maxval=hi))(k, -2.0), eager)
    lows = np.array([0.0, 5.0])
    np.testing.assert_array_equal(ft.vmap(lambda a: fr.uniform(k, (2,), minval=a, maxval=a + 1))(lows),
                                  np.stack([fr.uniform(k, (2,), minval=a, maxval=a + 1) for a in lows]))
    single = fr.uniform(k, (2,), np.float32, minval=-1.0, maxval=1.0)
    traced = ft.jit(lambda a: fr.uniform(k, (2,), np.float32, minval=a, maxval=1.0))(-1.0)
    assert traced.dtype == np.float32
    np.testing.assert_array_equal(traced, single)
    u = fr.uniform(k, (3,))
    d_low = ft.grad(lambda a: fnp.sum(fr.uniform(k, (3,), minval=a, maxval=2.0)))(0.5)
    assert d_low == pytest.approx(float((1 - u).sum()))
    assert ft.grad(lambda b: fnp.sum(fr.uniform(k, (3,), minval=0.5, maxval=b)))(2.0) == pytest.approx(float(u.sum()))
    with pytest.raises(ValueError, match=r"'minval' of shape \(3,\) does not broadcast to the requested shape \(2,\)"):
        ft.jit(lambda a: fr.uniform(k, (2,), minval=a))(np.zeros(3))
    np.testing.assert_array_equal(ft.jit(lambda p: fr.bernoulli(k, p, (50,)))(0.3), fr.bernoulli(k, 0.3, (50,)))
    probs = np.array([[0.2, 0.8], [0.5, 0.5]])
    np.testing.assert_array_equal(ft.vmap(lambda p: fr.bernoulli(k, p))(probs),
                                  np.stack([fr.bernoulli(k, p) for p in probs]))
    np.testing.assert_array_equal(ft.vmap(lambda k, p: fr.bernoulli(k, p, (4,)))(fr.split(k, 2), probs[:, 0]),
                                  np.stack([fr.bernoulli(a, p, (4,)) for a, p in zip(fr.split(k, 2), probs[:, 0])]))
    with pytest.raises(ValueError, match=r"'p' of shape \(2,\) does not broadcast to the requested shape \(3,\)"):
        ft.jit(lambda p: fr.bernoulli(k, p, (3,)))(probs[0])

def test_categorical_with_traced_logits_draws_what_an_eager_call_draws():
    """A policy's action drawn inside jit (or vmap, or grad): the same indices as eagerly,
    for a traced or a concrete key; integers, so no derivative reaches the logits."""
    key = fr.key(3)
    logits = np.log(np.array([[0.1, 0.9], [0.7, 0.3]]))
    eager = fr.categorical(key, logits, shape=(4000, 2))
    assert abs(eager.mean(0) - [0.9, 0.3]).max() < 0.03
    np.testing.assert_array_equal(ft.jit(lambda z: fr.categorical(key, z, shape=(4000, 2)))(logits), eager)
    np.testing.assert_array_equal(ft.jit(lambda k, z: fr.categorical(k, z, shape=(4000, 2)))(key, logits), eager)
    np.testing.assert_array_equal(ft.vmap(lambda z: fr.categorical(key, z))(np.stack([logits, logits])),
                                  np.stack([fr.categorical(key, logits)] * 2))
    drawn = fr.categorical(key, logits)
    g = ft.grad(lambda z: fnp.sum(fr.categorical(key, z) * z[:, 0]))(logits)
    np.testing.assert_array_equal(g, np.stack([drawn, np.zeros(2)], axis=1))


def test_choice_from_a_traced_array_or_with_traced_probabilities():
    key = fr.key(2)
    x = np.arange(10.0).reshape(5, 2)
    p = np.array([0.1, 0.0, 0.4, 0.2, 0.3])
    for replace in (True, False):
        picked = fr.choice(key, x, (3,), replace=replace, p=p)
        order = fr.choice(key, 5, (3,), replace=replace, p=p)
        np.testing.assert_array_equal(picked, x[order])
        np.testing.assert_array_equal(
            ft.jit(lambda x, p: fr.choice(key, x, (3,), replace=replace, p=p))(x, p), picked)
        np.testing.assert_array_equal(ft.jit(lambda p: fr.choice(key, 5, (3,), replace=replace, p=p))(p), order)
        g = ft.grad(lambda x: fnp.sum(fr.choice(key, x, (3,), replace=replace, p=p)))(x)
        np.testing.assert_array_equal(g, np.bincount(order, minlength=5)[:, None] * np.ones((1, 2)))
    np.testing.assert_array_equal(ft.vmap(lambda p: fr.choice(key, 5, (2,), p=p))(np.stack([p, p])),
                                  np.stack([fr.choice(key, 5, (2,), p=p)] * 2))


def test_permutation_of_a_traced_array_is_differentiable():
    key = fr.key(1)
    x = np.arange(8.0).reshape(4, 2)
    shuffled = fr.permutation(key, x)
    order = fr.permutation(key, 4)
    np.testing.assert_array_equal(shuffled, x[order])
    np.testing.assert_array_equal(ft.jit(lambda x: fr.permutation(key, x))(x), shuffled)
    np.testing.assert_array_equal(ft.jit(lambda k, x: fr.permutation(k, x))(key, x), shuffled)
    np.testing.assert_array_equal(ft.jit(lambda x: fr.permutation(key, x, axis=1))(x), fr.permutation(key, x, axis=1))
    w = np.arange(8.0).reshape(4, 2) ** 2
    g = ft.grad(lambda x: fnp.sum(fr.permutation(key, x) * w))(x)
    back = np.empty_like(w)
    back[order] = w  # each row's cotangent is the weight of the place it was moved to
    np.testing.assert_array_equal(g, back)
    with pytest.raises(ValueError, match="at least one dimension"):
        ft.jit(lambda x: fr.permutation(key, x))(np.float64(1.0))


# --------------------------------------------------------------------------------------------
# Device: all array work goes through the key's array module
# --------------------------------------------------------------------------------------------


class OnDevice(np.ndarray):
    """Marks arrays made by the spy module, standing in for arrays on another device."""


class SpyModule:
    """Forwards to NumPy, marks every array it makes, and records what was used."""

    def __init__(self):
        self.used: set[str] = set()

    def __getattr__(self, name):
        attr = getattr(np, name)
        self.used.add(name)
        if not callable(attr) or isinstance(attr, type):
            return attr

        def call(*args, **kwargs):
            out = attr(*args, **kwargs)
            return out.view(OnDevice) if isinstance(out, np.ndarray) else out

        return call


DEVICE_CASES = {
    "split": lambda k: fr.split(k, 3),
    "fold_in": lambda k: fr.fold_in(k, 3),
    "uniform": lambda k: fr.uniform(k, (2, 3), minval=np.zeros(3), maxval=2.0),
    "normal": lambda k: fr.normal(k, (), np.float32),
    "truncated_normal": lambda k: fr.truncated_normal(k, np.zeros(3), 1.0, (2, 3)),
    "bernoulli": lambda k: fr.bernoulli(k, np.array([0.2, 0.7])),
    "randint": lambda k: fr.randint(k, 4, -3, 3, np.int16),
    "categorical": lambda k: fr.categorical(k, [0.0, 1.0], shape=5),
    "permutation_int": lambda k: fr.permutation(k, 5),
    "permutation_array": lambda k: fr.permutation(k, np.arange(6).reshape(3, 2), axis=1),
    "choice": lambda k: fr.choice(k, 5, 3, replace=False, p=np.full(5, 0.2)),
}


@pytest.mark.parametrize("name", sorted(DEVICE_CASES))
def test_outputs_come_from_the_key_array_module(name, monkeypatch):
    sample = DEVICE_CASES[name]
    expected = sample(fr.key(1))
    spy = SpyModule()
    monkeypatch.setattr(fr._checks, "array_module", lambda x: spy)
    out = sample(fr.key(1))
    assert isinstance(out, OnDevice), type(out)
    assert spy.used
    np.testing.assert_array_equal(np.asarray(out), expected)


@pytest.mark.parametrize("module", sorted(SOURCES))
def test_module_uses_numpy_only_for_dtypes_and_host_side_keys(module):
    """``np.`` appears only for dtypes and constants, and to build keys on the host."""
    tree = ast.parse(SOURCES[module])
    used = {
        node.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "np"
    }
    allowed = {
        "dtype", "uint32", "uint64", "int64", "float16", "float32", "float64", "integer",
        "floating", "bool_", "inf", "nan", "iinfo", "finfo", "complex64", "complex128",
    }
    # Functions that work on Python numbers only, before any key-derived array exists.
    host_only = {"key", "_hash_words", "_has_value_between"}
    host_allowed = {"asarray", "nextafter", "errstate"}
    assert used <= allowed | host_allowed, used - allowed - host_allowed
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name not in host_only:
            for sub in ast.walk(node):
                if (
                    isinstance(sub, ast.Attribute)
                    and isinstance(sub.value, ast.Name)
                    and sub.value.id == "np"
                ):
                    assert sub.attr in allowed, f"np.{sub.attr} in {node.name}"


@pytest.mark.parametrize("module", sorted(SOURCES))
def test_module_imports(module):
    tree = ast.parse(SOURCES[module])
    imported = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module)
    # functools, Tracer and opaque_call: a traced key (jit, vmap) sends the draw through the
    # opaque_call primitive; the sampling code itself stays plain array code.
    # inspect: binding a call's arguments to find the traced parameters of a count sampler.
    # to_device_of: a traced parameter moves to the key's device when the program runs.
    allowed = {"__future__", "collections.abc", "math", "typing", "numpy", "functrans.backend",
               "functrans.errors", "functrans.typing", "functools", "functrans.core.trace",
               "functrans.primitives.opaque", "functrans.primitives.conversion", "inspect"}
    allowed |= {f"functrans.random.{name}" for name in SOURCES if name != "__init__"}
    # The samplers differentiable in their parameters transform the drawn noise with
    # functrans.numpy (so derivatives flow through the parameters), gamma's implicit
    # derivative is a custom_jvp, and the rejection samplers use gammaln and digamma.
    allowed |= {"functrans.numpy", "functrans.api", "functrans.scipy.special"}
    # The package registers the draws of scipy.stats.gaussian_kde.resample with stats, which
    # sits below random and cannot import it.
    if module == "__init__":
        allowed |= {"functrans.scipy.stats"}
    assert imported <= allowed, imported - allowed


# --------------------------------------------------------------------------------------------
# Signatures and docstrings: help(), IDEs and the API reference show the real parameters
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", fr.__all__)
def test_every_public_callable_has_its_real_signature_and_an_example(name):
    fn = getattr(fr, name)
    params = inspect.signature(fn).parameters
    kinds = {p.kind for p in params.values()}
    assert inspect.Parameter.VAR_POSITIONAL not in kinds and inspect.Parameter.VAR_KEYWORD not in kinds, \
        f"random.{name} shows (*args, **kwargs), not its parameters"
    assert all(p.annotation is not inspect.Parameter.empty for p in params.values()), name
    assert "device" in params and params["device"].default is None
    assert "Example:" in (fn.__doc__ or "") and ">>>" in fn.__doc__, f"random.{name} has no Example"
    documented = re.findall(r"^        (\w+):", fn.__doc__.split("Returns:")[0], re.MULTILINE)
    assert documented == list(params), f"random.{name}'s Args do not list its parameters in order"


def test_the_signatures_show_the_defaults():
    sig = inspect.signature(fr.normal)
    assert list(sig.parameters) == ["key", "shape", "dtype", "device"]
    assert sig.parameters["shape"].default == () and sig.parameters["dtype"].default is np.float64
    assert sig.parameters["device"].kind is inspect.Parameter.KEYWORD_ONLY
    assert fr.normal.__name__ == "normal" and fr.normal.__module__ == "functrans.random"


def test_public_callables_are_plain_defs_the_docs_can_read_without_running_the_module():
    """The API reference reads the source (Griffe): a public name bound by assignment
    (``normal = wrap(normal)``) would show no signature there."""
    bodies = [node for source in SOURCES.values() for node in ast.parse(source).body]
    defined = {node.name for node in bodies if isinstance(node, ast.FunctionDef)}
    assigned = {t.id for node in bodies if isinstance(node, ast.Assign)
                for t in node.targets if isinstance(t, ast.Name)}
    assert set(fr.__all__) <= defined and not set(fr.__all__) & assigned


def test_the_package_reexports_every_public_name_from_one_module():
    """``functrans.random`` is the public path: each name is defined once, in a module named
    by what it holds, and shows ``functrans.random`` as its module."""
    defs = {m: {node.name for node in ast.parse(source).body if isinstance(node, ast.FunctionDef)}
            for m, source in SOURCES.items()}
    owners = {name: [m for m, names in defs.items() if name in names] for name in fr.__all__}
    assert all(len(found) == 1 and found[0].startswith("_") for found in owners.values()), owners
    assert all(getattr(fr, name).__module__ == "functrans.random" for name in fr.__all__)


def test_device_reaches_a_sampler_with_a_traced_key():
    from functrans.testing.strict import to_numpy

    draw = ft.jit(lambda k: fr.normal(k, (3,), device="strict:1"))(fr.key(0))
    assert draw.device == "strict:1"
    np.testing.assert_array_equal(to_numpy(draw), fr.normal(fr.key(0), (3,)))


def test_seeds_and_steps_on_a_device_are_read_explicitly():
    """A 0-d seed or fold_in step on a device (the strict backend; conftest refuses implicit
    reads by the library): the eager keys, eagerly and under jit."""
    from functrans.testing.strict import strict_array, to_numpy

    seed, step = strict_array(np.array(7), device="strict:1"), strict_array(np.array(3), device="strict:1")
    np.testing.assert_array_equal(fr.key(seed), fr.key(7))
    np.testing.assert_array_equal(to_numpy(ft.jit(fr.key)(seed)), fr.key(7))
    np.testing.assert_array_equal(fr.fold_in(fr.key(0), step), fr.fold_in(fr.key(0), 3))
    np.testing.assert_array_equal(to_numpy(ft.jit(lambda d: fr.fold_in(fr.key(0), d))(step)),
                                  fr.fold_in(fr.key(0), 3))
