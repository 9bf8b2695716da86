"""Attention: JAX's [`dot_product_attention`][functrans.nn.dot_product_attention] on
``(B, T, N, H)`` arrays, the matrix form
[`scaled_dot_product_attention`][functrans.nn.scaled_dot_product_attention], and multi-head
attention, PyTorch's ``nn.MultiheadAttention`` (packed input projection)."""
from __future__ import annotations

import dataclasses
import math

import numpy as np

import functrans.numpy as fnp
from functrans import random
from functrans.api import stop_gradient
from functrans.nn import initializers as _init
from functrans.nn._layer import Layer, check_param_names, check_param_shapes
from functrans.nn.activations import logsumexp, softmax
from functrans.nn.dropout import dropout
from functrans.nn.masks import combine_masks
from functrans.typing import Array, ArrayLike, DType, Key, Params, PyTree

__all__ = ["MultiHeadAttention", "dot_product_attention", "scaled_dot_product_attention"]


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
            ``attn_mask``) or float (added to the scores, in their dtype), broadcasting to
            ``(..., L, S)``.
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
        else:  # in the scores' dtype: a float64 NumPy mask must not make float32 float64
            scores = scores + fnp.astype(mask, fnp.result_type(scores))
        # A query with every key masked has nothing to attend to: its weights (and output)
        # are 0, as in PyTorch's math attention, not the NaN of a softmax over -inf alone,
        # which would reach every parameter's gradient through the batch.
        dead = fnp.all(stop_gradient(scores) == -np.inf, axis=-1, keepdims=True)
        weights = fnp.where(dead, 0.0, softmax(fnp.where(dead, 0.0, scores), axis=-1))
    else:
        weights = softmax(scores, axis=-1)
    return fnp.matmul(weights, v), weights


def _four_d(x: ArrayLike | None, name: str) -> Array | None:
    """``x`` with leading axes of length 1 added up to 4 axes (JAX's rule)."""
    if x is None:
        return None
    shape = fnp.shape(x)
    if len(shape) > 4:
        raise ValueError(f"dot_product_attention: {name} has {len(shape)} axes, shape {shape}; "
                         f"expected at most 4, (B, T, N, H) for the arrays, (B, N, T, S) for "
                         f"bias and mask")
    return fnp.reshape(fnp.asarray(x), (1,) * (4 - len(shape)) + tuple(shape))


def _allowed(t: int, s: int, mask: Array | None, is_causal: bool,
             local_window_size: tuple[int, int] | None, query_seq_lengths: Array | None,
             key_value_seq_lengths: Array | None) -> Array | None:
    """Where a query may attend to a key, broadcasting to ``(B, N, T, S)``; None: everywhere."""
    query_pos = fnp.arange(t)[:, None]
    key_pos = fnp.arange(s)[None, :]
    causal = window = query_live = key_live = None
    if is_causal:  # query i sees keys 0..i (top-left aligned when T != S, as JAX's)
        causal = (key_pos <= query_pos)[None, None]
    if local_window_size is not None:
        left, right = local_window_size
        window = fnp.logical_and(query_pos <= key_pos + left, query_pos >= key_pos - right)[None, None]
    if query_seq_lengths is not None:
        query_live = (fnp.arange(t)[None, :, None] < query_seq_lengths[:, None, None])[:, None]
    if key_value_seq_lengths is not None:
        key_live = (fnp.arange(s)[None, None, :] < key_value_seq_lengths[:, None, None])[:, None]
    return combine_masks(mask, causal, window, query_live, key_live, dtype=np.bool_)


def dot_product_attention(query: ArrayLike, key: ArrayLike, value: ArrayLike,
                          bias: ArrayLike | None = None, mask: ArrayLike | None = None, *,
                          scale: float | None = None, is_causal: bool = False,
                          query_seq_lengths: ArrayLike | None = None,
                          key_value_seq_lengths: ArrayLike | None = None,
                          local_window_size: int | tuple[int, int] | None = None,
                          implementation: str | None = None,
                          return_residual: bool = False) -> Array | tuple[Array, Array]:
    """JAX's ``jax.nn.dot_product_attention``: per head,
    ``softmax(scale * Q K^T + bias, masked) V``, on arrays ``(B, T, N, H)`` (batch, query
    length, heads, head size; the batch axis may be left out).

    ``key`` and ``value`` have ``K`` heads, ``N`` a multiple of ``K``: query head ``n`` uses
    key head ``n // (N // K)`` (grouped-query attention; ``K = 1`` is multi-query). A masked
    score is set to a large negative number (``-0.7`` times the largest float32), as JAX
    does, so a query whose keys are all masked averages the values uniformly; a query beyond
    ``query_seq_lengths`` gives zeros. Unlike JAX, whose softmax runs in float32, float64
    inputs are computed in float64 throughout (float32 stays float32).

    Args:
        query: ``(B, T, N, H)`` or ``(T, N, H)``.
        key: ``(B, S, K, H)`` or ``(S, K, H)``.
        value: The shape of ``key``.
        bias: Added to the scores, broadcasting to ``(B, N, T, S)`` (an additive mask goes
            here).
        mask: Boolean, True where a query may attend to a key, broadcasting to
            ``(B, N, T, S)``.
        scale: The factor of the scores; ``None`` is ``1 / sqrt(H)``.
        is_causal: Query ``i`` attends to keys ``0..i`` only.
        query_seq_lengths: ``(B,)`` ints: the queries past these lengths are padding.
        key_value_seq_lengths: ``(B,)`` ints: the keys past these lengths are padding.
        local_window_size: ``(left, right)`` (or one int for both): query ``i`` attends to
            keys ``i - left .. i + right``.
        implementation: ``None`` or ``"xla"`` (the same computation here); ``"cudnn"`` is
            JAX's GPU kernel and not available.
        return_residual: Also give the log-sum-exp of the masked scores, ``(B, T, N)``
            (without a gradient, as JAX's).

    Returns:
        The output, with ``query``'s shape; with ``return_residual``, ``(output, residual)``.

    Raises:
        ValueError: shapes that do not fit (the message names the array), a head count not
            a multiple of the key heads, or an unknown implementation.
        TypeError: a mask that is not boolean.

    Example:
        >>> import numpy as np
        >>> from functrans import nn
        >>> q = np.ones((1, 3, 2, 4))              # (B, T, N, H)
        >>> kv = np.arange(24.0).reshape(1, 3, 2, 4)
        >>> out = nn.dot_product_attention(q, kv, kv, is_causal=True)
        >>> out.shape, out[0, 0, 0]                # the first query sees the first key only
        ((1, 3, 2, 4), array([0., 1., 2., 3.]))
    """
    if implementation not in (None, "xla"):
        raise ValueError(f"dot_product_attention: implementation {implementation!r} is not "
                         f"available; use None (or 'xla'): the same result, computed with "
                         f"functrans's own operations")
    output_shape = fnp.shape(query)
    q, k, v = (_four_d(a, n) for a, n in ((query, "query"), (key, "key"), (value, "value")))
    assert q is not None and k is not None and v is not None
    b, s, heads_kv, h = k.shape
    if v.shape != k.shape:
        raise ValueError(f"dot_product_attention: value must have key's shape {k.shape} "
                         f"(B, S, K, H), got {v.shape}")
    if q.shape[0] != b or q.shape[3] != h:
        raise ValueError(f"dot_product_attention: query {q.shape} and key {k.shape} must agree "
                         f"on the batch B and the head size H of (B, T, N, H)")
    t, heads = q.shape[1], q.shape[2]
    if heads % heads_kv:
        raise ValueError(f"dot_product_attention: the number of query heads ({heads}) must be "
                         f"a multiple of the key/value heads ({heads_kv})")
    if heads != heads_kv:  # grouped-query attention: each key head serves N / K query heads
        k = fnp.repeat(k, heads // heads_kv, axis=2)
        v = fnp.repeat(v, heads // heads_kv, axis=2)
    bias, mask = _four_d(bias, "bias"), _four_d(mask, "mask")
    for extra, name in ((bias, "bias"), (mask, "mask")):
        if extra is not None and any(e not in (1, want) for e, want in
                                     zip(extra.shape, (b, heads, t, s))):
            raise ValueError(f"dot_product_attention: {name} of shape {extra.shape} does not "
                             f"broadcast to (B, N, T, S) = {(b, heads, t, s)}")
    if mask is not None and mask.dtype != np.bool_:
        raise TypeError(f"dot_product_attention: mask must be boolean (True = may attend), got "
                        f"dtype {mask.dtype}; a 0/1 mask (flax's make_attention_mask, ...) "
                        f"goes in as mask.astype(bool), an additive float mask as bias=")
    if isinstance(local_window_size, int):
        local_window_size = (local_window_size, local_window_size)
    if local_window_size is not None and min(local_window_size) < 0:
        raise ValueError(f"dot_product_attention: local_window_size counts keys on each side of a "
                         f"query and cannot be negative, got {local_window_size}")
    q_lengths = None if query_seq_lengths is None else fnp.asarray(query_seq_lengths)
    kv_lengths = None if key_value_seq_lengths is None else fnp.asarray(key_value_seq_lengths)
    for lengths, name in ((q_lengths, "query_seq_lengths"), (kv_lengths, "key_value_seq_lengths")):
        if lengths is not None and lengths.shape != (b,):
            raise ValueError(f"dot_product_attention: {name} must have shape (B,) = ({b},), got "
                             f"{lengths.shape}")
    scale = 1.0 / math.sqrt(h) if scale is None else scale
    dtype = fnp.result_type(q.dtype, np.float32)
    logits = fnp.einsum("BTNH,BSNH->BNTS", fnp.astype(q, dtype), fnp.astype(k, dtype)) * scale
    if bias is not None:
        logits = fnp.astype(logits + bias, dtype)
    allowed = _allowed(t, s, mask, is_causal, local_window_size, q_lengths, kv_lengths)
    if allowed is not None:
        lowest = -0.7 * float(min(np.finfo(dtype).max, np.finfo(np.float32).max))
        logits = fnp.where(allowed, logits, lowest)
    probs = fnp.astype(softmax(logits, axis=-1), k.dtype)
    out = fnp.einsum("BNTS,BSNH->BTNH", probs, v)
    if q_lengths is not None:
        live = fnp.arange(t)[None, :] < q_lengths[:, None]
        out = out * fnp.astype(live, out.dtype)[:, :, None, None]
    out = fnp.reshape(out, output_shape)
    if not return_residual:
        return out
    residual = fnp.swapaxes(stop_gradient(logsumexp(logits, axis=-1)), 1, 2)
    return out, fnp.reshape(fnp.astype(residual, k.dtype), output_shape[:-1])


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
        super().__post_init__()
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
        self._check_sources(fnp.shape(q), fnp.shape(k), fnp.shape(v))
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
        fix = "or make the layer with bias=False"
        check_param_names("MultiHeadAttention", params,
                          ("in_proj_weight", "out_proj") + ("in_proj_bias",) * self.bias, fix)
        check_param_names("MultiHeadAttention (out_proj)", params["out_proj"],
                          ("weight",) + ("bias",) * self.bias, fix)
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

    def _check_sources(self, q: tuple, k: tuple, v: tuple) -> None:
        """``key`` and ``value`` must be batched like ``query``, with one batch size and one
        source length between them: otherwise broadcasting fails deep inside (or, for a batch
        of 1, quietly pairs every query with the same keys)."""
        layout = "(N, S, E)" if self.batch_first else "(S, N, E)"
        if not len(q) == len(k) == len(v):
            raise ValueError(f"MultiHeadAttention: query, key and value must all be batched "
                             f"{layout} or all unbatched (S, E), got shapes {q}, {k} and {v}")
        if k != v:
            raise ValueError(f"MultiHeadAttention: key and value must have the same shape "
                             f"{layout} (one value per key), got {k} and {v}")
        batch = 0 if self.batch_first else 1
        if len(q) == 3 and q[batch] != k[batch]:
            raise ValueError(f"MultiHeadAttention: query and key must have the same batch size "
                             f"(axis {batch} with batch_first={self.batch_first}), got shapes "
                             f"{q} and {k}")

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
            else:  # one mask boolean, the other floating: the boolean one in its dtype
                dtype = pad.dtype if mask.dtype == np.bool_ else mask.dtype
                if pad.dtype == np.bool_:
                    pad = fnp.astype(fnp.where(pad, -np.inf, 0.0), dtype)
                if mask.dtype == np.bool_:
                    mask = fnp.astype(fnp.where(mask, -np.inf, 0.0), dtype)
                mask = mask + pad
        return mask
