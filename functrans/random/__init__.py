"""Stateless, reproducible random numbers for NumPy and CuPy arrays.

There is no global generator here. Every sampling function takes a *key*, a ``uint32``
array of shape ``(2,)``, and returns the same numbers for the same key on every run, every
platform and every NumPy/CuPy version. To get fresh numbers, derive new keys with
[`split`][functrans.random.split] or [`fold_in`][functrans.random.fold_in]; never reuse a key for two
different purposes.

How the bits are made:

* The generator is Threefry-2x32 with 20 rounds (Salmon, Moraes, Dror and Shaw, "Parallel
  random numbers: as easy as 1, 2, 3", SC 2011), computed with wrapping ``uint32`` array
  arithmetic in whichever array module holds the key, so the numbers are born on the key's
  device. [`threefry2x32`][functrans.random.threefry2x32] exposes the raw block function.
* A request for ``n`` values hashes the counters ``0, 1, ..., n - 1`` (each as a pair of
  32-bit words, high word first) under the key, giving 64 random bits per value. Value ``i``
  depends only on the key and ``i``.
* Keys made by [`split`][functrans.random.split] hash counters whose high word has its top bit set, and
  [`fold_in`][functrans.random.fold_in] hashes under a key derived from the counter ``(0xC0000000, 0)``, so the
  three uses of a key draw from disjoint counter ranges (sampling uses counters below
  ``2**63``).

Devices: numbers are made on the device of the key. ``key(seed, device="gpu")`` makes a key
on the GPU, and every sampler takes ``device=`` to draw on a given device with a key from
anywhere. The block function is integer arithmetic, so a key gives the same bits, and the
same numbers up to the last bit of the float functions (log, sqrt, cos), on every device.

Floats are built from mantissa bits: a float32 uniform from the top 23 bits of the first
word, a float64 uniform from 52 bits of both words. The default float dtype is float64,
NumPy's default.

Derivatives: the continuous samplers with parameters are differentiable in them at a fixed
key (the sample is a function of the parameters once the key is fixed), so a Monte Carlo
estimate of ``E[f(X)]`` has a gradient (the reparameterization trick). Closed-form transforms
(``pareto``, ``weibull_min``, ``rayleigh``, ``triangular``, ``lognormal``,
``double_sided_maxwell``, ``multivariate_normal``; ``loc + scale * laplace(key)`` and the like)
differentiate along their path, to any order. ``gamma`` and what is built on it (``loggamma``,
``beta``, ``dirichlet``, ``chisquare``, ``t``, ``f``, ``generalized_normal``; ``ball`` in
``p``) and ``wald`` use implicit reparameterization: the derivative of the sample that keeps
its CDF value, first order only for the gamma family (a clear error beyond, as in JAX).
``categorical`` takes traced logits and ``choice`` traced probabilities (integer draws carry
no derivative back), and ``permutation`` and ``choice`` a traced array (the pick is an
indexing, differentiated as one). ``uniform`` and ``truncated_normal`` differentiate in their bounds, to any order (the
sample is ``minval + (maxval - minval) * u``, and the truncated normal one keeps its CDF
fraction in the interval). ``randint``'s bounds and the parameters of ``bernoulli``,
``geometric``, ``poisson``, ``binomial`` and ``multinomial`` may be traced too; their integer,
boolean or count draws carry no derivative (a zero gradient, as in JAX). What sets a shape or
picks an axis (``shape``, ``orthogonal``'s ``n``, ``ball``'s ``d``, the int ``n`` of
``permutation`` and ``choice``, ``split``'s ``num``) must be a concrete int, as in JAX: a
traced one raises a ``TracerConversionError`` that says so.
Inside ``jit`` or ``vmap`` the key may be traced: the draw runs when the program runs, with
the same numbers.

Example:
    >>> from functrans import random
    >>> k = random.key(42)
    >>> k_init, k_dropout = random.split(k)
    >>> w = random.normal(k_init, (3, 2))
    >>> w.shape, w.dtype
    ((3, 2), dtype('float64'))
    >>> bool((random.normal(k_init, (3, 2)) == w).all())
    True
"""
from __future__ import annotations

from typing import Any

import functrans.numpy as _fnp
from functrans.random._continuous import normal, truncated_normal, uniform
from functrans.random._discrete import (
    bernoulli,
    binomial,
    bits,
    categorical,
    geometric,
    multinomial,
    poisson,
    rademacher,
    randint,
)
from functrans.random._gamma import beta, chisquare, dirichlet, f, gamma, generalized_normal, loggamma, t
from functrans.random._keys import PRNGKey, clone, fold_in, key, key_data, split, threefry2x32, wrap_key_data
from functrans.random._multivariate import ball, multivariate_normal, orthogonal
from functrans.random._permutations import choice, permutation
from functrans.random._transforms import (
    cauchy,
    double_sided_maxwell,
    exponential,
    gumbel,
    laplace,
    logistic,
    lognormal,
    maxwell,
    pareto,
    rayleigh,
    triangular,
    wald,
    weibull_min,
)
from functrans.scipy.stats import _kde
from functrans.typing import Array as _Array

__all__ = [
    # keys
    "key", "PRNGKey", "split", "fold_in", "clone", "threefry2x32", "key_data", "wrap_key_data",
    # uniform, normal and their transforms
    "uniform", "normal", "truncated_normal", "exponential", "laplace", "cauchy", "logistic",
    "gumbel", "pareto", "weibull_min", "rayleigh", "maxwell", "double_sided_maxwell", "wald",
    "triangular", "lognormal",
    # the gamma family
    "gamma", "loggamma", "beta", "dirichlet", "chisquare", "t", "f", "generalized_normal",
    # vectors and matrices
    "multivariate_normal", "orthogonal", "ball",
    # discrete
    "bits", "bernoulli", "rademacher", "randint", "categorical", "geometric", "poisson", "binomial",
    "multinomial",
    "permutation", "choice",
]


def _kde_draws(key: Any, n: int, shape: tuple[int, ...], weights: _Array, covariance: _Array,
               dtype: Any) -> tuple[_Array, _Array]:
    """The draws of ``functrans.scipy.stats.gaussian_kde.resample``: ``shape`` indices of data
    points chosen by ``weights``, and as many normal vectors of ``covariance`` (last axis)."""
    index_key, noise_key = split(key)
    index = choice(index_key, n, shape, p=weights)
    mean = _fnp.zeros(covariance.shape[:1], dtype=covariance.dtype, like=covariance)
    return index, multivariate_normal(noise_key, mean, covariance, shape, dtype=dtype)


_kde.register_draws(_kde_draws)
