"""Multi-head attention, PyTorch's ``nn.MultiheadAttention`` (packed input projection)."""
from __future__ import annotations

import dataclasses
import math

import numpy as np

import functrans.numpy as fnp
from functrans import random
from functrans.api import stop_gradient
from functrans.nn import initializers as _init
from functrans.nn._layer import Layer, check_param_shapes
from functrans.nn.activations import softmax
from functrans.nn.dropout import dropout
from functrans.typing import Array, DType, Key, Params, PyTree

__all__ = ["MultiHeadAttention", "scaled_dot_product_attention"]


def _checked_mask(mask: Array, what: str) -> Array:
    """``mask`` as an array, refused unless boolean or floating (as PyTorch refuses it): an
    integer 0/1 mask would be added to the scores instead of masking them."""
    mask = fnp.asarray(mask)
    if mask.dtype != np.bool_ and not np.issubdtype(mask.dtype, np.floating):
        raise TypeError(f"{what} must be boolean (True = may not attend) or floating (added to "
                        f"the scores), got dtype {mask.dtype}; for a 0/1 mask pass "
                        f"mask.astype(bool)")
    return mask


def scaled_dot_product_attention(q: Array, k: Array, v: Array,
                                 mask: Array | None = None) -> tuple[Array, Array]:
    """``softmax(q @ k^T / sqrt(d) + mask) @ v`` over the last two axes.

    Args:
        q: Queries ``(..., L, d)``.
        k: Keys ``(..., S, d)``.
        v: Values ``(..., S, d_v)``.
        mask: Optional; boolean (True = may *not* attend, PyTorch's convention for
            ``attn_mask``) or float (added to the scores), broadcasting to ``(..., L, S)``.
            A query whose keys are all masked gets weights 0 and output 0.

    Returns:
        ``(output (..., L, d_v), weights (..., L, S))``.

    Example:
        >>> import numpy as np
        >>> from functrans import nn
        >>> q = k = v = np.eye(2)[None]
        >>> out, w = nn.scaled_dot_product_attention(q, k, v)
        >>> w.shape, bool(np.allclose(w.sum(-1), 1))
        ((1, 2, 2), True)
    """
    d = fnp.shape(q)[-1]
    scores = fnp.matmul(q, fnp.swapaxes(k, -1, -2)) * (1.0 / math.sqrt(d))
    if mask is not None:
        mask = _checked_mask(mask, "scaled_dot_product_attention: mask")
        if mask.dtype == np.bool_:
            scores = fnp.where(mask, -np.inf, scores)
        else:
            scores = scores + mask
        # A query with every key masked has nothing to attend to: its weights (and output)
        # are 0, as in PyTorch's math attention, not the NaN of a softmax over -inf alone,
        # which would reach every parameter's gradient through the batch.
        dead = fnp.all(stop_gradient(scores) == -np.inf, axis=-1, keepdims=True)
        weights = fnp.where(dead, 0.0, softmax(fnp.where(dead, 0.0, scores), axis=-1))
    else:
        weights = softmax(scores, axis=-1)
    return fnp.matmul(weights, v), weights


@dataclasses.dataclass(frozen=True)
class MultiHeadAttention(Layer):
    """Multi-head attention with PyTorch's parameters and conventions.

    ``out_proj(concat_h softmax(Q_h K_h^T / sqrt(d_h) + mask) V_h)`` with
    ``Q = query @ W_q.T + b_q`` (etc.), ``W_q, W_k, W_v`` stacked in ``in_proj_weight``
    ``(3E, E)`` and ``d_h = E / num_heads``.

    Parameters: ``in_proj_weight`` (Xavier-uniform), ``in_proj_bias`` (zeros) and
    ``out_proj = {"weight" (E, E), "bias" (E,)}`` (weight uniform on ``+-1/sqrt(E)``, bias
    zeros), as PyTorch initialises them. Differences from PyTorch: ``kdim``/``vdim`` other than
    ``embed_dim``, ``add_bias_kv`` and ``add_zero_attn`` are not supported.

    Reference: Vaswani et al., "Attention is all you need", NeurIPS 2017.

    Args:
        embed_dim: Model width ``E``.
        num_heads: Heads; must divide ``E``.
        dropout: Dropout probability on the attention weights (training only; needs a key).
        bias: Learn the projection biases.
        batch_first: Inputs are ``(N, L, E)`` instead of ``(L, N, E)``.
        dtype: Parameter dtype.

    Example:
        >>> import numpy as np
        >>> from functrans import nn, random
        >>> mha = nn.MultiHeadAttention(8, num_heads=2, batch_first=True)
        >>> params = mha.init(random.key(0))
        >>> x = np.ones((3, 5, 8))
        >>> out, weights = mha.apply(params, x, x, x)
        >>> out.shape, weights.shape
        ((3, 5, 8), (3, 5, 5))
    """

    embed_dim: int
    num_heads: int
    dropout: float = 0.0
    bias: bool = True
    batch_first: bool = False
    dtype: DType = np.float64

    stochastic = True

    def __post_init__(self) -> None:
        if self.embed_dim < 1 or self.num_heads < 1 or self.embed_dim % self.num_heads:
            raise ValueError(f"MultiHeadAttention: embed_dim ({self.embed_dim}) must be a "
                             f"positive multiple of num_heads ({self.num_heads})")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"MultiHeadAttention: dropout must be in [0, 1), got "
                             f"{self.dropout!r}")

    def init(self, key: Key) -> Params:
        """``in_proj_weight (3E, E)``, ``in_proj_bias (3E,)``, ``out_proj`` weight and bias."""
        e = self.embed_dim
        k_in, k_out = random.split(key)
        bound = 1.0 / math.sqrt(e)
        params = {"in_proj_weight": _init.xavier_uniform(k_in, (3 * e, e), self.dtype),
                  "out_proj": {"weight": _init.uniform(k_out, (e, e), self.dtype, low=-bound,
                                                       high=bound)}}
        if self.bias:
            params["in_proj_bias"] = _init.zeros(key, 3 * e, self.dtype)
            params["out_proj"]["bias"] = _init.zeros(key, e, self.dtype)
        return params

    def apply(self, params: Params, query: Array, key: Array | None = None,
              value: Array | None = None, *, key_padding_mask: Array | None = None,
              attn_mask: Array | None = None, need_weights: bool = True,
              average_attn_weights: bool = True, rng: Key | None = None,
              train: bool = True) -> tuple[Array, Array | None]:
        """Attend from ``query`` to ``key``/``value`` (self-attention when they are omitted).

        Args:
            params: From ``init``.
            query: ``(L, N, E)`` (``(N, L, E)`` with ``batch_first``) or unbatched ``(L, E)``.
            key: ``(S, N, E)`` likewise; defaults to ``query``. (The attention key, not a
                random key: that one is ``rng``.)
            value: ``(S, N, E)`` likewise; defaults to ``key``.
            key_padding_mask: ``(N, S)`` (``(S,)`` unbatched) booleans, True where a key is
                padding (ignored).
            attn_mask: ``(L, S)`` or ``(N * num_heads, L, S)`` (``(num_heads, L, S)``
                unbatched); boolean (True = may not attend) or float (added to the scores).
            need_weights: Also return the attention weights.
            average_attn_weights: Average the weights over heads (else one set per head).
            rng: Random key for dropout on the attention weights (training only).
            train: Apply dropout (when ``dropout > 0``).

        Returns:
            ``(output, weights)``: output shaped like ``query``; weights ``(N, L, S)``
            (``(N, H, L, S)`` without averaging; no ``N`` when unbatched), or ``None``.
        """
        key = query if key is None else key
        value = key if value is None else value
        q, k, v = (fnp.asarray(a) for a in (query, key, value))
        e, h = self.embed_dim, self.num_heads
        for name, a in (("query", q), ("key", k), ("value", v)):
            if fnp.ndim(a) not in (2, 3) or fnp.shape(a)[-1] != e:
                raise ValueError(f"MultiHeadAttention: {name} must have shape (L, N, {e}), "
                                 f"(N, L, {e}) with batch_first, or (L, {e}); got "
                                 f"{fnp.shape(a)}")
        unbatched = fnp.ndim(q) == 2
        if unbatched:
            q, k, v = (fnp.expand_dims(a, 0) for a in (q, k, v))
        elif not self.batch_first:
            q, k, v = (fnp.swapaxes(a, 0, 1) for a in (q, k, v))
        # Now (N, L, E). Project and split the heads: (N, H, L, E / H).
        check_param_shapes("MultiHeadAttention", params, {"in_proj_weight": (3 * e, e),
                                                          "in_proj_bias": (3 * e,)},
                           required=("in_proj_weight", "out_proj"))
        check_param_shapes("MultiHeadAttention (out_proj)", params["out_proj"],
                           {"weight": (e, e), "bias": (e,)}, required=("weight",))
        w, b = params["in_proj_weight"], params.get("in_proj_bias")
        projected = []
        for i, a in enumerate((q, k, v)):
            y = fnp.tensordot(a, w[i * e:(i + 1) * e], ((2,), (1,)))
            if b is not None:
                y = y + b[i * e:(i + 1) * e]
            n, length = fnp.shape(y)[:2]
            projected.append(fnp.swapaxes(fnp.reshape(y, (n, length, h, e // h)), 1, 2))
        qh, kh, vh = projected
        n, target_len, source_len = fnp.shape(qh)[0], fnp.shape(qh)[2], fnp.shape(kh)[2]
        mask = self._mask(attn_mask, key_padding_mask, n, target_len, source_len, unbatched)
        out, weights = scaled_dot_product_attention(qh, kh, vh, mask)
        if self.dropout and train:
            if rng is None:
                raise ValueError("MultiHeadAttention: dropout in training needs rng=<key>")
            weights = dropout(weights, self.dropout, rng)
            out = fnp.matmul(weights, vh)
        out = fnp.reshape(fnp.swapaxes(out, 1, 2), (n, target_len, e))
        out = fnp.tensordot(out, params["out_proj"]["weight"], ((2,), (1,)))
        if "bias" in params["out_proj"]:
            out = out + params["out_proj"]["bias"]
        if unbatched:
            out = out[0]
        elif not self.batch_first:
            out = fnp.swapaxes(out, 0, 1)
        if not need_weights:
            return out, None
        if average_attn_weights:
            weights = fnp.mean(weights, axis=1)
        return out, (weights[0] if unbatched else weights)

    def _forward(self, params: Params, x: Array, state: PyTree, key: Key | None,
                 train: bool) -> tuple:
        # In a Sequential: self-attention, the random key goes to dropout, weights dropped.
        return self.apply(params, x, rng=key, train=train, need_weights=False)[0], state

    def _mask(self, attn_mask: Array | None, key_padding_mask: Array | None, n: int, target_len: int,
              source_len: int, unbatched: bool) -> Array | None:
        """One mask broadcasting to ``(N, H, L, S)``: boolean, float, or ``None``."""
        mask = None
        # The shapes are checked, not only the sizes: a reshape would silently scramble a
        # (S, N) padding mask given for (N, S).
        if attn_mask is not None:
            mask = _checked_mask(attn_mask, "MultiHeadAttention: attn_mask")
            shapes = [(target_len, source_len), (n * self.num_heads, target_len, source_len)]
            if unbatched:
                shapes[1] = (self.num_heads, target_len, source_len)
            if fnp.shape(mask) not in shapes:
                raise ValueError(f"MultiHeadAttention: attn_mask must have shape {shapes[0]} "
                                 f"(target, source) or {shapes[1]} (batch * heads, target, "
                                 f"source), got {fnp.shape(mask)}")
            if fnp.ndim(mask) == 3:
                mask = fnp.reshape(mask, (n, self.num_heads, target_len, source_len))
        if key_padding_mask is not None:
            pad = _checked_mask(key_padding_mask, "MultiHeadAttention: key_padding_mask")
            expected = (source_len,) if unbatched else (n, source_len)
            if fnp.shape(pad) != expected:
                raise ValueError(f"MultiHeadAttention: key_padding_mask must have shape "
                                 f"{expected} ({'source' if unbatched else 'batch, source'}), "
                                 f"got {fnp.shape(pad)}")
            pad = fnp.reshape(pad, (n, 1, 1, source_len))
            if mask is None:
                mask = pad
            elif mask.dtype == np.bool_ and pad.dtype == np.bool_:
                mask = fnp.where(pad, True, mask)
            else:
                if pad.dtype == np.bool_:
                    pad = fnp.where(pad, -np.inf, 0.0)
                if mask.dtype == np.bool_:
                    mask = fnp.where(mask, -np.inf, 0.0)
                mask = mask + pad
        return mask
