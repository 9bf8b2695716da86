"""``functrans.scipy.stats``: SciPy's probability distributions, differentiable. Each
distribution is a module of functions (``norm.logpdf(x, loc, scale)``), with SciPy's argument
order and defaults and SciPy's values at special points: ``-inf`` log densities and zero
densities outside a support, ``nan`` for invalid parameters."""
from functrans.scipy.stats import (
    bernoulli,
    beta,
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
    norm,
    pareto,
    poisson,
    t,
    truncnorm,
    uniform,
    vonmises,
)

__all__ = [
    "bernoulli", "beta", "binom", "cauchy", "chi2", "dirichlet", "expon", "gamma", "gennorm", "geom",
    "gumbel_l", "gumbel_r", "laplace", "logistic", "multinomial", "multivariate_normal", "norm", "pareto",
    "poisson", "t", "truncnorm", "uniform", "vonmises",
]
