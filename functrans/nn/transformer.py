"""Transformer blocks with PyTorch's equations and parameter layout:
[`TransformerEncoderLayer`][functrans.nn.TransformerEncoderLayer] (self-attention and a feed-forward network,
each with a
residual connection and layer normalisation)."""
from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

from functrans import random
from functrans.nn._layer import Layer, check_param_names
from functrans.nn.activations import gelu, relu
from functrans.nn.attention import MultiHeadAttention
from functrans.nn.dropout import dropout as _dropout
from functrans.nn.linear import Linear
from functrans.nn.norm import LayerNorm
from functrans.typing import Array, DType, Key, Params

__all__ = ["TransformerEncoderLayer"]

_ACTIVATIONS: dict[str, Callable[[Array], Array]] = {"relu": relu, "gelu": gelu}


@dataclasses.dataclass(frozen=True)
class TransformerEncoderLayer(Layer):
    """One encoder block of the Transformer, PyTorch's ``nn.TransformerEncoderLayer``.

    With ``sa(x) = dropout(self_attn(x, x, x))`` and
    ``ff(x) = dropout(linear2(dropout(activation(linear1(x)))))``::

        x = norm1(x + sa(x));  x = norm2(x + ff(x))      # norm_first=False (post-norm)
        x = x + sa(norm1(x));  x = x + ff(norm2(x))      # norm_first=True (pre-norm)

    The attention weights also go through dropout (``p = dropout``) in training.

    Parameters are nested dicts with PyTorch's names and shapes, so a PyTorch ``state_dict``
    maps entry by entry (``"self_attn.out_proj.weight"`` is
    ``params["self_attn"]["out_proj"]["weight"]``): ``self_attn`` as
    [`MultiHeadAttention`][functrans.nn.MultiHeadAttention] (``in_proj_weight (3 * d_model, d_model)``,
    ``in_proj_bias``,
    ``out_proj``); ``linear1`` (``weight (dim_feedforward, d_model)``, ``bias``); ``linear2``
    (``weight (d_model, dim_feedforward)``, ``bias``); ``norm1`` and ``norm2`` (``weight``,
    ``bias`` of ``(d_model,)``).

    Reference: Vaswani et al., "Attention is all you need", NeurIPS 2017; Xiong et al., "On
    layer normalization in the Transformer architecture", ICML 2020 (pre-norm).

    Args:
        d_model: Model width.
        nhead: Attention heads; must divide ``d_model``.
        dim_feedforward: Hidden width of the feed-forward network.
        dropout: Dropout probability (training only; ``apply`` then needs ``key``).
        activation: ``"relu"``, ``"gelu"`` or a function of one array.
        layer_norm_eps: ``eps`` of both layer norms.
        batch_first: Inputs are ``(N, L, d_model)`` instead of ``(L, N, d_model)``.
        norm_first: Pre-norm (normalise before attention and feed-forward) or post-norm.
        bias: Learn the biases of the linear layers and layer norms.
        dtype: Parameter dtype.

    Example:
        >>> import numpy as np
        >>> from functrans import nn, random
        >>> block = nn.TransformerEncoderLayer(8, nhead=2, dim_feedforward=16, batch_first=True)
        >>> params = block.init(random.key(0))
        >>> params["linear1"]["weight"].shape, params["self_attn"]["in_proj_weight"].shape
        ((16, 8), (24, 8))
        >>> block.apply(params, np.ones((3, 5, 8)), train=False).shape
        (3, 5, 8)
    """

    d_model: int
    nhead: int
    dim_feedforward: int = 2048
    dropout: float = 0.1
    activation: str | Callable[[Array], Array] = "relu"
    layer_norm_eps: float = 1e-5
    batch_first: bool = False
    norm_first: bool = False
    bias: bool = True
    dtype: DType = np.float64

    stochastic = True

    def __post_init__(self) -> None:
        super().__post_init__()
        if isinstance(self.activation, str) and self.activation not in _ACTIVATIONS:
            raise ValueError(f"TransformerEncoderLayer: activation must be 'relu', 'gelu' or a "
                             f"function, got {self.activation!r}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"TransformerEncoderLayer: dropout must be in [0, 1), got "
                             f"{self.dropout!r}")
        self._parts  # validates the sizes  # noqa: B018

    @property
    def _parts(self) -> dict[str, Layer]:
        d, f = self.d_model, self.dim_feedforward
        return {"self_attn": MultiHeadAttention(d, self.nhead, self.dropout, self.bias,
                                                self.batch_first, self.dtype),
                "linear1": Linear(d, f, bias=self.bias, dtype=self.dtype),
                "linear2": Linear(f, d, bias=self.bias, dtype=self.dtype),
                "norm1": LayerNorm(d, self.layer_norm_eps, bias=self.bias, dtype=self.dtype),
                "norm2": LayerNorm(d, self.layer_norm_eps, bias=self.bias, dtype=self.dtype)}

    def init(self, key: Key) -> Params:
        """PyTorch's parameters (see the class docstring), initialised as PyTorch does."""
        parts = self._parts
        keys = random.split(key, len(parts))
        return {name: layer.init(k) for (name, layer), k in zip(parts.items(), keys)}

    def apply(self, params: Params, src: Array, src_mask: Array | None = None,
              src_key_padding_mask: Array | None = None, *, key: Key | None = None,
              train: bool = True) -> Array:
        """Encode ``src``.

        Args:
            params: From ``init``.
            src: ``(L, N, d_model)`` (``(N, L, d_model)`` with ``batch_first``) or unbatched
                ``(L, d_model)``.
            src_mask: Attention mask ``(L, L)`` or ``(N * nhead, L, L)``: boolean (True = may
                not attend) or float (added to the scores).
            src_key_padding_mask: ``(N, L)`` booleans, True at padding positions.
            key: Random key for dropout (needed when training with ``dropout > 0``).
            train: Apply dropout (training) or not (evaluation).

        Returns:
            An array shaped like ``src``.
        """
        parts = self._parts
        check_param_names("TransformerEncoderLayer", params, parts)
        drop = train and self.dropout > 0
        if drop and key is None:
            raise ValueError("TransformerEncoderLayer: training with dropout needs a random key: "
                             "apply(params, x, key=k), or train=False to evaluate")
        keys = list(random.split(key, 4)) if drop else [None] * 4
        act = _ACTIVATIONS[self.activation] if isinstance(self.activation, str) else self.activation

        def self_attention(x: Array) -> Array:
            out = parts["self_attn"].apply(params["self_attn"], x, x, x, attn_mask=src_mask,
                                           key_padding_mask=src_key_padding_mask,
                                           need_weights=False, rng=keys[0], train=drop)[0]
            return _dropout(out, self.dropout, keys[1], drop)

        def feed_forward(x: Array) -> Array:
            h = act(parts["linear1"].apply(params["linear1"], x))
            h = _dropout(h, self.dropout, keys[2], drop)
            return _dropout(parts["linear2"].apply(params["linear2"], h), self.dropout, keys[3],
                            drop)

        def norm(name: str, x: Array) -> Array:
            return parts[name].apply(params[name], x)

        x = src
        if self.norm_first:
            x = x + self_attention(norm("norm1", x))
            return x + feed_forward(norm("norm2", x))
        x = norm("norm1", x + self_attention(x))
        return norm("norm2", x + feed_forward(x))

