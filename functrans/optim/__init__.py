"""Optimizers as pure functions: ``init(params) -> state``, ``update(grads, state, params)
-> (updates, state)``, and :func:`apply_updates` to add the updates to the parameters.

Example:
    >>> import numpy as np
    >>> from functrans import optim
    >>> opt = optim.sgd(0.1)
    >>> params = np.array([1.0, -1.0])
    >>> state = opt.init(params)
    >>> updates, state = opt.update(2 * params, state)   # gradient of sum(p**2)
    >>> optim.apply_updates(params, updates)
    array([ 0.8, -0.8])
"""
from functrans.optim.alias import SgdState, sgd
from functrans.optim.base import (
    EmptyState, GradientTransformation, ScalarOrSchedule, Schedule, apply_updates,
)

__all__ = ["EmptyState", "GradientTransformation", "ScalarOrSchedule", "Schedule", "SgdState",
           "apply_updates", "sgd"]
