"""``functrans.scipy.stats``: probability distributions, differentiable."""
from functrans.scipy.stats import norm  # noqa: F401

__all__ = ["norm"]
