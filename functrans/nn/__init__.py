"""Neural-network building blocks as pure functions of parameter pytrees.

Layers are small frozen configurations with ``init(key) -> params`` and
``apply(params, x) -> y``; activations, losses and initializers are plain functions.

Example:
    >>> import numpy as np
    >>> import functrans as ft
    >>> from functrans import nn, random
    >>> layer = nn.Linear(2, 1)
    >>> params = layer.init(random.key(0))
    >>> grads = ft.grad(lambda p: layer.apply(p, np.ones((4, 2))).sum())(params)
    >>> grads["bias"]
    array([4.])
"""
from functrans.nn import initializers
from functrans.nn._layer import Layer
from functrans.nn.linear import Linear

__all__ = ["Layer", "Linear", "initializers"]
