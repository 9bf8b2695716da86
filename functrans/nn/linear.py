"""Dense layers: [`Linear`][functrans.nn.Linear] (``y = x W^T + b``), [`Embedding`][functrans.nn.Embedding]
and friends."""
from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

import numpy as np

import functrans.numpy as fnp
from functrans import random
from functrans.backend import NUMPY, backend_of
from functrans.core.trace import Tracer
from functrans.nn import initializers as _init
from functrans.nn._layer import Layer, check_param_names, check_param_shapes
from functrans.typing import Array, DType, Key, Params

__all__ = ["Embedding", "Identity", "Linear"]


def _check_size(layer: str, name: str, value: Any) -> None:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{layer}: {name} must be a positive int, got {value!r}")


@dataclasses.dataclass(frozen=True)
class Linear(Layer):
    """A fully connected layer, ``y = x @ weight.T + bias``, PyTorch's ``nn.Linear``.

    Parameters: ``weight`` of shape ``(out_features, in_features)`` and ``bias`` of shape
    ``(out_features,)``, both initialised as PyTorch does, uniform on
    ``[-1/sqrt(in_features), 1/sqrt(in_features))``.

    Args:
        in_features: Size of the last axis of the input.
        out_features: Size of the last axis of the output.
        bias: Whether to add a bias.
        dtype: Parameter dtype (float64 by default, NumPy's default float).
        weight_init: Optional initializer ``(key, shape, dtype) -> array`` for the weight.
        bias_init: Optional initializer for the bias.

    Example:
        >>> import numpy as np
        >>> from functrans import nn, random
        >>> layer = nn.Linear(3, 2)
        >>> params = layer.init(random.key(0))
        >>> params["weight"].shape, params["bias"].shape
        ((2, 3), (2,))
        >>> layer.apply(params, np.ones((5, 3))).shape
        (5, 2)
    """

    in_features: int
    out_features: int
    bias: bool = True
    dtype: DType = np.float64
    weight_init: Callable[..., Array] | None = None
    bias_init: Callable[..., Array] | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_size("Linear", "in_features", self.in_features)
        _check_size("Linear", "out_features", self.out_features)

    def init(self, key: Key) -> Params:
        """Initial ``{"weight": (out, in), "bias": (out,)}`` (no bias if ``bias=False``).

        Example:
            >>> from functrans import nn, random
            >>> nn.Linear(4, 1, bias=False).init(random.key(0))["weight"].shape
            (1, 4)
        """
        k_w, k_b = random.split(key)
        bound = 1.0 / math.sqrt(self.in_features)
        shape = (self.out_features, self.in_features)
        if self.weight_init is None:
            w = _init.uniform(k_w, shape, self.dtype, low=-bound, high=bound)
        else:
            w = self.weight_init(k_w, shape, self.dtype)
        params = {"weight": w}
        if self.bias:
            if self.bias_init is None:
                params["bias"] = _init.uniform(k_b, (self.out_features,), self.dtype,
                                               low=-bound, high=bound)
            else:
                params["bias"] = self.bias_init(k_b, (self.out_features,), self.dtype)
        return params

    def apply(self, params: Params, x: Array) -> Array:
        """``x @ weight.T + bias`` for ``x`` of shape ``(..., in_features)``.

        Example:
            >>> import numpy as np
            >>> from functrans import nn
            >>> p = {"weight": np.array([[1.0, 2.0]]), "bias": np.array([0.5])}
            >>> nn.Linear(2, 1).apply(p, np.array([1.0, 1.0]))
            array([3.5])
        """
        x = fnp.asarray(x)
        if x.shape[-1:] != (self.in_features,):
            raise ValueError(f"Linear: expected input of shape (..., {self.in_features}), "
                             f"got {tuple(x.shape)}")
        check_param_shapes("Linear", params, {"weight": (self.out_features, self.in_features),
                                              "bias": (self.out_features,)}, required=("weight",))
        check_param_names("Linear", params, ("weight", "bias") if self.bias else ("weight",),
                          "or make the layer with bias=False")
        y = fnp.tensordot(x, params["weight"], ((x.ndim - 1,), (1,)))
        if "bias" in params:
            y = y + params["bias"]
        return y


@dataclasses.dataclass(frozen=True)
class Embedding(Layer):
    """A lookup table of ``num_embeddings`` vectors of size ``embedding_dim``, PyTorch's
    ``nn.Embedding``: ``apply(params, ids) = weight[ids]``.

    The table is initialised from the standard normal, as PyTorch does. With
    ``padding_idx``, that row starts at zero, gets no gradient, and (a deliberate difference
    from PyTorch, which returns the row's current value) always looks up as zeros.
    Ids must be in ``[0, num_embeddings)``: a negative id raises ``IndexError`` (as in
    PyTorch) rather than wrapping around to the last rows.

    Args:
        num_embeddings: Size of the vocabulary.
        embedding_dim: Size of each vector.
        padding_idx: Optional index of a padding entry.
        dtype: Parameter dtype.

    Example:
        >>> import numpy as np
        >>> from functrans import nn, random
        >>> emb = nn.Embedding(10, 4)
        >>> params = emb.init(random.key(0))
        >>> emb.apply(params, np.array([[1, 2, 1]])).shape
        (1, 3, 4)
    """

    num_embeddings: int
    embedding_dim: int
    padding_idx: int | None = None
    dtype: DType = np.float64

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_size("Embedding", "num_embeddings", self.num_embeddings)
        _check_size("Embedding", "embedding_dim", self.embedding_dim)
        if self.padding_idx is not None and not (
                -self.num_embeddings <= self.padding_idx < self.num_embeddings):
            raise ValueError(f"Embedding: padding_idx {self.padding_idx} is outside the table "
                             f"of {self.num_embeddings} entries")

    def init(self, key: Key) -> Params:
        """``{"weight": (num_embeddings, embedding_dim)}`` from the standard normal."""
        w = random.normal(key, (self.num_embeddings, self.embedding_dim), self.dtype)
        if self.padding_idx is not None:  # no in-place write: w is traced under jit/vmap(init)
            rows = fnp.arange(self.num_embeddings, like=w)[:, None]
            w = fnp.where(rows == self.padding_idx % self.num_embeddings, 0, w)
        return {"weight": w}

    def apply(self, params: Params, ids: Array) -> Array:
        """The vectors of the integer array ``ids``: shape ``ids.shape + (embedding_dim,)``."""
        ids = fnp.asarray(ids)
        if not np.issubdtype(ids.dtype, np.integer):
            raise TypeError(f"Embedding: ids must be integers, got dtype {ids.dtype}")
        # A gather (NumPy indexing of the table would refuse traced ids under jit/vmap).
        # Negative ids are refused, as PyTorch does, rather than wrapped to the last rows;
        # traced ids are not read: a negative one becomes the out-of-range id num_embeddings,
        # which the gather refuses when it runs.
        check_param_shapes("Embedding", params,
                           {"weight": (self.num_embeddings, self.embedding_dim)}, required=("weight",))
        check_param_names("Embedding", params, ("weight",))
        if not isinstance(ids, Tracer) and backend_of(ids) is NUMPY:
            if ids.size and ids.min() < 0:
                # numpy-only: the branch admits host NumPy ids only
                position = tuple(int(i) for i in np.unravel_index(int(ids.argmin()), ids.shape))
                where = f"ids[{', '.join(map(str, position))}]" if position else "ids"
                raise IndexError(f"Embedding: id {int(ids[position])} at {where} is negative; "
                                 f"ids must be in [0, {self.num_embeddings})")
        else:
            ids = fnp.where(ids < 0, self.num_embeddings, ids)
        out = fnp.take(params["weight"], ids, axis=0)
        if self.padding_idx is not None:
            pad = self.padding_idx % self.num_embeddings
            out = fnp.where(fnp.expand_dims(ids % self.num_embeddings != pad, -1), out, 0)
        return out


@dataclasses.dataclass(frozen=True)
class Identity(Layer):
    """The identity (no parameters), handy as a placeholder in a [`Sequential`][functrans.nn.Sequential].

    Example:
        >>> import numpy as np
        >>> from functrans import nn
        >>> nn.Identity().apply({}, np.ones(2))
        array([1., 1.])
    """

    def apply(self, params: Params, x: Array) -> Array:
        """``x``."""
        return x
