"""``functrans.scipy.stats``: SciPy's probability distributions, differentiable. Each
distribution is a module of functions (``norm.logpdf(x, loc, scale)``), with SciPy's argument
order and defaults and SciPy's values at special points: ``-inf`` log densities and zero
densities outside a support, ``nan`` for invalid parameters; and the descriptive
statistics ``rankdata``, ``mode`` and ``sem``, and the kernel density estimate ``gaussian_kde``."""
from functrans.scipy.stats import (
    bernoulli,
    beta,
    betabinom,
    binom,
    cauchy,
    chi2,
    dirichlet,
    expon,
    gamma,
    gennorm,
    geom,
    gumbel_l,
    gumbel_r,
    laplace,
    logistic,
    multinomial,
    multivariate_normal,
    nbinom,
    norm,
    pareto,
    poisson,
    t,
    truncnorm,
    uniform,
    vonmises,
    wrapcauchy,
)
from functrans.scipy.stats._descriptive import ModeResult, mode, rankdata, sem
from functrans.scipy.stats._kde import gaussian_kde

__all__ = [
    "bernoulli", "beta", "betabinom", "binom", "cauchy", "chi2", "dirichlet", "expon", "gamma", "gennorm", "geom",
    "gumbel_l", "gumbel_r", "laplace", "logistic", "multinomial", "multivariate_normal", "nbinom", "norm", "pareto",
    "poisson", "t", "truncnorm", "uniform", "vonmises", "wrapcauchy",
    "ModeResult", "gaussian_kde", "mode", "rankdata", "sem",
]
