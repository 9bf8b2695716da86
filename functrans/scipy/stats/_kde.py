"""``gaussian_kde``: a kernel density estimate with Gaussian kernels, as JAX's (SciPy's
values): a weighted mixture of normal densities, one centred on each data point, sharing the
data's covariance scaled by a bandwidth factor. The estimate is a pytree of its arrays, so it
passes through jit and vmap, and its densities are differentiable in the points, the data and
the weights."""
from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

import functrans.numpy as fnp
from functrans import tree
from functrans.numpy._util import operand
from functrans.scipy import linalg as _linalg
from functrans.scipy import special as _special
from functrans.typing import Array, ArrayLike

__all__ = ["gaussian_kde"]

#: ``(key, n, shape, weights, covariance, dtype) -> (indices, noise)``: the draws ``resample``
#: needs. functrans.random sets it when it is imported (it sits above this layer).
_draws: Callable[..., tuple[Array, Array]] | None = None


def register_draws(draws: Callable[..., tuple[Array, Array]]) -> None:
    """Install the random draws of ``gaussian_kde.resample`` (called by functrans.random)."""
    global _draws
    _draws = draws


def _two_d(a: ArrayLike) -> Array:
    x = fnp.asarray(operand(a))
    return fnp.reshape(x, (1, -1)) if len(x.shape) < 2 else x


@tree.register_class
class gaussian_kde:
    """A Gaussian kernel density estimate of ``dataset`` (``(d, n)``: ``n`` points in ``d``
    dimensions; a 1-D array is ``n`` points in one dimension).

    Args:
        dataset: the data points.
        bw_method: the bandwidth factor: ``'scott'`` (default, ``neff**(-1 / (d + 4))``),
            ``'silverman'`` (``(neff (d + 2) / 4)**(-1 / (d + 4))``), a number, or a function
            of the estimate (which then has ``dataset``, ``weights``, ``neff``, ``d``, ``n``).
        weights: a weight per data point (normalized to sum to 1); equal by default.

    Attributes:
        dataset, weights, neff (the effective number of points ``1 / sum(weights**2)``),
        covariance (the kernel's: the data's weighted covariance times the factor squared),
        inv_cov, d, n.

    Example:
        >>> import numpy as np
        >>> from functrans.scipy import stats
        >>> kde = stats.gaussian_kde(np.array([-1.0, 0.0, 1.0]), bw_method=0.5)
        >>> round(float(kde.evaluate(0.0)[0]), 12), round(float(kde.integrate_box_1d(-np.inf, 0.0)), 12)
        (0.337949475619, 0.5)
    """

    dataset: Array
    weights: Array
    neff: Array
    covariance: Array
    inv_cov: Array

    def __init__(self, dataset: ArrayLike, bw_method: str | float | Callable[[Any], Any] | None = None,
                 weights: ArrayLike | None = None) -> None:
        data = _two_d(dataset)
        if data.dtype.kind == "c":
            raise NotImplementedError("gaussian_kde does not take complex data: pass the real and imaginary "
                                      "parts as two dimensions")
        if data.size <= 1:
            raise ValueError(f"gaussian_kde: dataset needs more than one element, got shape {data.shape}")
        d, n = data.shape
        if weights is None:
            data = data if data.dtype.kind == "f" else fnp.astype(data, np.float64)
            w = fnp.full((n,), 1.0 / n, dtype=data.dtype, like=data)
        else:
            w = fnp.asarray(operand(weights))
            w = fnp.reshape(w, (1,)) if len(w.shape) == 0 else w
            if len(w.shape) != 1 or w.shape[0] != n:
                raise ValueError(f"gaussian_kde: weights must be 1-D with one weight per data point ({n}), "
                                 f"got shape {w.shape}")
            dtype = np.result_type(data.dtype, w.dtype, np.float32)
            data, w = fnp.astype(data, dtype), fnp.astype(w, dtype)
            w = w / fnp.sum(w)
        self.dataset, self.weights = data, w
        self.neff = 1.0 / fnp.sum(w * w)
        if bw_method is None or bw_method == "scott":
            factor: Any = self.neff ** (-1.0 / (d + 4))
        elif bw_method == "silverman":
            factor = (self.neff * (d + 2) / 4.0) ** (-1.0 / (d + 4))
        elif callable(bw_method):
            factor = bw_method(self)
        elif isinstance(bw_method, str) or np.ndim(bw_method) != 0:  # host-metadata: the argument's rank
            raise ValueError(f"gaussian_kde: bw_method must be 'scott', 'silverman', a number or a function, "
                             f"got {bw_method!r}")
        else:
            factor = bw_method
        data_cov = fnp.reshape(fnp.cov(data, rowvar=True, bias=False, aweights=w), (d, d))
        data_cov = fnp.astype(data_cov, data.dtype)  # NumPy's cov is float64 for every input
        self.covariance = data_cov * factor ** 2
        self.inv_cov = fnp.linalg.inv(data_cov) / factor ** 2

    def tree_flatten(self) -> tuple[tuple[Array, ...], None]:
        return (self.neff, self.dataset, self.weights, self.covariance, self.inv_cov), None

    @classmethod
    def tree_unflatten(cls, aux_data: None, children: tuple[Any, ...]) -> gaussian_kde:
        kde = cls.__new__(cls)
        kde.neff, kde.dataset, kde.weights, kde.covariance, kde.inv_cov = children
        return kde

    @property
    def d(self) -> int:
        """The number of dimensions."""
        return int(self.dataset.shape[0])

    @property
    def n(self) -> int:
        """The number of data points."""
        return int(self.dataset.shape[1])

    def _points(self, points: ArrayLike) -> Array:
        x = _two_d(points)
        if x.dtype.kind == "c":
            raise NotImplementedError("gaussian_kde does not take complex points")
        d, m = x.shape
        if d != self.d:
            if d == 1 and m == self.d:
                return fnp.reshape(x, (self.d, 1))
            raise ValueError(f"gaussian_kde: points have dimension {d}, the dataset has dimension {self.d}: "
                             f"pass points as an array of shape ({self.d}, m)")
        return x

    def _mixture(self, points: Array, cov: Array, log: bool) -> Array:
        """At each point (column), the weighted mixture of normal densities of covariance
        ``cov`` centred on the data points (or its log)."""
        chol = fnp.linalg.cholesky(cov)
        diff = points[:, :, None] - self.dataset[:, None, :]  # (d, m, n)
        z = _linalg.solve_triangular(chol, fnp.reshape(diff, (self.d, -1)), lower=True)
        arg = -0.5 * fnp.reshape(fnp.sum(z * z, axis=0), diff.shape[1:])
        log_norm = -fnp.sum(fnp.log(fnp.diagonal(chol))) - 0.5 * self.d * math.log(2.0 * math.pi)
        if log:
            return _special.logsumexp(arg + fnp.log(self.weights), axis=1) + log_norm
        return fnp.sum(fnp.exp(arg) * self.weights, axis=1) * fnp.exp(log_norm)

    def evaluate(self, points: ArrayLike) -> Array:
        """The estimated density at ``points`` (``(d, m)``; a 1-D array for ``d = 1``), shape ``(m,)``.

        Example:
            >>> import numpy as np
            >>> from functrans.scipy import stats
            >>> kde = stats.gaussian_kde(np.array([0.0, 2.0]), bw_method=1.0)
            >>> kde.evaluate(np.array([1.0])).shape
            (1,)
        """
        return self._mixture(self._points(points), self.covariance, log=False)

    def __call__(self, points: ArrayLike) -> Array:
        return self.evaluate(points)

    def pdf(self, x: ArrayLike) -> Array:
        """``evaluate(x)``.

        Example:
            >>> import numpy as np
            >>> from functrans.scipy import stats
            >>> kde = stats.gaussian_kde(np.array([0.0, 2.0]))
            >>> bool(kde.pdf(1.0)[0] == kde.evaluate(1.0)[0])
            True
        """
        return self.evaluate(x)

    def logpdf(self, x: ArrayLike) -> Array:
        """The log of the estimated density, accurate far from the data (a log-sum-exp).

        Example:
            >>> import numpy as np
            >>> from functrans.scipy import stats
            >>> kde = stats.gaussian_kde(np.array([0.0, 2.0]), bw_method=0.1)
            >>> bool(np.isfinite(kde.logpdf(50.0)[0]))
            True
        """
        return self._mixture(self._points(x), self.covariance, log=True)

    def integrate_gaussian(self, mean: ArrayLike, cov: ArrayLike) -> Array:
        """The integral of the estimate times the normal density of ``mean`` and ``cov``.

        Example:
            >>> import numpy as np
            >>> from functrans.scipy import stats
            >>> kde = stats.gaussian_kde(np.array([0.0, 2.0]), bw_method=1.0)
            >>> round(float(kde.integrate_gaussian(1.0, 1.0)), 12)
            0.194969655723
        """
        m = fnp.reshape(fnp.asarray(operand(mean)), (-1,))
        c = fnp.asarray(operand(cov))
        c = fnp.reshape(c, (1, 1)) if len(c.shape) < 2 else c
        if m.shape != (self.d,) or c.shape != (self.d, self.d):
            raise ValueError(f"gaussian_kde.integrate_gaussian: mean must have shape ({self.d},) and cov "
                             f"({self.d}, {self.d}), got {m.shape} and {c.shape}")
        return self._mixture(fnp.reshape(m, (self.d, 1)), self.covariance + c, log=False)[0]

    def integrate_kde(self, other: gaussian_kde) -> Array:
        """The integral of the product of this estimate and ``other`` (of the same dimension).

        Example:
            >>> import numpy as np
            >>> from functrans.scipy import stats
            >>> kde = stats.gaussian_kde(np.array([0.0, 2.0]), bw_method=1.0)
            >>> round(float(kde.integrate_kde(kde)), 12)
            0.16022825123
        """
        if other.d != self.d:
            raise ValueError(f"gaussian_kde.integrate_kde: the estimates have dimensions {self.d} and {other.d}")
        values = self._mixture(other.dataset, self.covariance + other.covariance, log=False)
        return fnp.sum(values * other.weights)

    def integrate_box_1d(self, low: ArrayLike, high: ArrayLike) -> Array:
        """The estimate's probability of ``[low, high]`` (one dimension only; scalar limits).

        Example:
            >>> import numpy as np
            >>> from functrans.scipy import stats
            >>> kde = stats.gaussian_kde(np.array([-1.0, 1.0]))
            >>> round(float(kde.integrate_box_1d(-np.inf, np.inf)), 12)
            1.0
        """
        if self.d != 1:
            raise ValueError(f"gaussian_kde.integrate_box_1d takes a one-dimensional estimate, this one has "
                             f"{self.d} dimensions")
        lo, hi = operand(low), operand(high)
        if np.ndim(lo) != 0 or np.ndim(hi) != 0:  # host-metadata: the argument's rank
            raise ValueError("gaussian_kde.integrate_box_1d: low and high must be scalars")
        sigma = fnp.sqrt(self.covariance[0, 0])
        upper = _special.ndtr((hi - self.dataset[0]) / sigma)
        lower = _special.ndtr((lo - self.dataset[0]) / sigma)
        return fnp.sum(self.weights * (upper - lower))

    def resample(self, key: Array, shape: tuple[int, ...] = ()) -> Array:
        """Draws from the estimate: data points chosen by their weights, plus normal noise of
        the kernel's covariance; shape ``(d, *shape)``. ``key`` is a functrans.random key.

        Example:
            >>> import numpy as np, functrans as ft
            >>> from functrans.scipy import stats
            >>> kde = stats.gaussian_kde(np.array([0.0, 2.0]))
            >>> kde.resample(ft.random.key(0), (5,)).shape
            (1, 5)
        """
        if _draws is None:  # pragma: no cover - importing functrans imports functrans.random
            raise RuntimeError("gaussian_kde.resample needs functrans.random: import functrans first")
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        index, noise = _draws(key, self.n, shape, self.weights, self.covariance, self.dataset.dtype)
        return fnp.take(self.dataset, index, axis=1) + fnp.moveaxis(noise, -1, 0)
