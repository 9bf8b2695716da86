"""Ready-made optimizers: SGD, Adam, AdamW, RMSprop, Adagrad, Lion.

Each optimizer's state is one NamedTuple whose ``count`` field is the number of updates done
so far and whose ``learning_rate`` field is the rate the next update will use (a schedule is
evaluated at ``count``), so both are readable without digging. Hyperparameters follow
PyTorch's defaults and update formulas; each docstring states its formula.
"""
from __future__ import annotations

from typing import NamedTuple, Optional

import functrans.numpy as fnp
from functrans import tree
from functrans.optim.base import (
    GradientTransformation, ScalarOrSchedule, _as_schedule, _check_positive, _tree_zeros_like,
)
from functrans.typing import OptState, Params, PyTree, Updates

__all__ = ["SgdState", "sgd"]


class SgdState(NamedTuple):
    """State of :func:`sgd`.

    Attributes:
        count: Updates done so far.
        learning_rate: The rate the next update uses.
        momentum: The momentum buffer (same structure as the params), or ``None`` without
            momentum.
    """

    count: int
    learning_rate: float
    momentum: Optional[PyTree]


def sgd(learning_rate: ScalarOrSchedule, momentum: float = 0.0, nesterov: bool = False,
        weight_decay: float = 0.0) -> GradientTransformation:
    """Stochastic gradient descent, with optional (Nesterov) momentum, as in PyTorch.

    With gradient ``g``, momentum ``mu``, weight decay ``wd`` and rate ``lr``::

        g = g + wd * p
        b = mu * b + g                  (b starts at 0, so the first b is g)
        d = g + mu * b if nesterov else b     (d = g without momentum)
        p = p - lr * d

    Reference: Sutskever, Martens, Dahl and Hinton, "On the importance of initialization and
    momentum in deep learning", ICML 2013.

    Args:
        learning_rate: A number or a schedule of the step count.
        momentum: Momentum factor ``mu`` in ``[0, 1)``; 0 disables the buffer.
        nesterov: Use Nesterov momentum (needs ``momentum > 0``).
        weight_decay: L2 penalty ``wd`` added to the gradient (needs ``params`` in ``update``).

    Returns:
        A :class:`GradientTransformation` whose state is a :class:`SgdState`.

    Raises:
        ValueError: a negative rate, momentum outside ``[0, 1)``, or ``nesterov`` without
            momentum.

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> opt = optim.sgd(0.1, momentum=0.9)
        >>> params = np.array([1.0])
        >>> state = opt.init(params)
        >>> updates, state = opt.update(np.array([2.0]), state)
        >>> updates, state.count
        (array([-0.2]), 1)
    """
    _check_positive("learning_rate", learning_rate, "sgd", allow_zero=True)
    if not 0.0 <= momentum < 1.0:
        raise ValueError(f"functrans.optim.sgd: momentum must be in [0, 1), got {momentum!r}")
    if nesterov and momentum == 0.0:
        raise ValueError("functrans.optim.sgd: nesterov=True needs momentum > 0 "
                         "(e.g. sgd(lr, momentum=0.9, nesterov=True))")
    _check_positive("weight_decay", weight_decay, "sgd", allow_zero=True)
    schedule = _as_schedule(learning_rate)

    def init(params: Params) -> SgdState:
        buf = _tree_zeros_like(params) if momentum else None
        return SgdState(count=0, learning_rate=float(schedule(0)), momentum=buf)

    def update(grads: Updates, state: OptState,
               params: Optional[Params] = None) -> tuple[Updates, SgdState]:
        lr = state.learning_rate
        if weight_decay:
            _need_params(params, "sgd", "weight_decay")
            grads = tree.map(lambda g, p: g + weight_decay * p, grads, params)
        buf = state.momentum
        if momentum:
            buf = tree.map(lambda b, g: momentum * b + g, buf, grads)
            if nesterov:
                direction = tree.map(lambda g, b: g + momentum * b, grads, buf)
            else:
                direction = buf
        else:
            direction = grads
        updates = tree.map(lambda d: -lr * d, direction)
        count = state.count + 1
        return updates, SgdState(count, float(schedule(count)), buf)

    return GradientTransformation(init, update)


def _need_params(params, fn: str, what: str) -> None:
    if params is None:
        raise ValueError(f"functrans.optim.{fn}: {what} needs the current parameters; call "
                         f"update(grads, state, params)")
