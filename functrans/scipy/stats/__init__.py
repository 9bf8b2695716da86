"""``functrans.scipy.stats``: probability distributions, differentiable."""
from functrans.scipy.stats import norm

__all__ = ["norm"]
