"""What every layer is: a small frozen configuration with ``init`` and ``apply``.

A layer holds only hyperparameters (sizes, strides, dtype). ``init(key)`` makes a dict of
parameter arrays and ``apply(params, x, ...)`` computes the output; nothing is stored on the
layer, so ``grad`` differentiates ``apply`` with respect to the params directly.
Two optional traits change ``apply``'s signature, and each layer declares them:

* ``stateful``: the layer keeps non-trainable state (batch norm's running statistics), made
  by ``init_state()``; ``apply(params, x, state, *, train=True)`` returns ``(y, new_state)``.
* ``stochastic``: the layer draws random numbers (dropout); ``apply`` takes ``key=`` and
  ``train=``.
"""
from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

from functrans.typing import Array, Key, Params, PyTree

__all__ = ["Layer"]


@dataclasses.dataclass(frozen=True)
class Layer:
    """Base class of the layers: a frozen dataclass of hyperparameters.

    Subclasses define ``init`` and ``apply``; see the module docstring for the stateful and
    stochastic variants.

    Example:
        >>> from functrans import nn, random
        >>> layer = nn.Linear(3, 2)
        >>> sorted(layer.init(random.key(0)))
        ['bias', 'weight']
        >>> layer.stateful, layer.stochastic
        (False, False)
    """

    stateful: ClassVar[bool] = False
    stochastic: ClassVar[bool] = False

    def init(self, key: Key) -> Params:
        """The initial parameters (a dict of arrays, empty for a layer without any)."""
        return {}

    def init_state(self) -> PyTree:
        """The initial non-trainable state (``None`` for layers that keep none)."""
        return None

    def apply(self, params: Params, x: Array, *args: Any, **kwargs: Any) -> Any:
        """The layer's output for input ``x``."""
        raise NotImplementedError(f"{type(self).__name__}.apply")

    def _forward(self, params: Params, x: Array, state: PyTree, key: Key | None,
                 train: bool) -> tuple[Array, PyTree]:
        """One calling convention for every layer, used by :class:`Sequential`."""
        if self.stateful:
            return self.apply(params, x, state, train=train)
        if self.stochastic:
            return self.apply(params, x, key=key, train=train), state
        return self.apply(params, x), state
