"""Neural-network building blocks as pure functions of parameter pytrees.

Layers are small frozen configurations with ``init(key) -> params`` and
``apply(params, x) -> y``; params are plain dicts of arrays that ``grad`` differentiates
directly. Stateful layers (``BatchNorm``) take and return their state; random layers
(``Dropout``) take a key. Activations, losses and initializers are plain functions. Shapes,
parameter names, default initialisations and formulas follow PyTorch; the few deliberate
differences are stated in each docstring.

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
from functrans.nn._layer import Layer, Sequential
from functrans.nn.activations import (
    celu,
    elu,
    gelu,
    glu,
    hard_sigmoid,
    hard_silu,
    hard_swish,
    hard_tanh,
    hardsigmoid,
    hardswish,
    hardtanh,
    identity,
    leaky_relu,
    log1mexp,
    log_sigmoid,
    log_softmax,
    logmeanexp,
    logsumexp,
    mish,
    relu,
    relu6,
    selu,
    sigmoid,
    silu,
    soft_sign,
    softmax,
    softplus,
    softsign,
    sparse_plus,
    sparse_sigmoid,
    squareplus,
    swish,
    tanh,
)
from functrans.nn.attention import (
    MultiHeadAttention,
    dot_product_attention,
    scaled_dot_product_attention,
)
from functrans.nn.conv import AvgPool1d, AvgPool2d, Conv1d, Conv2d, Flatten, MaxPool1d, MaxPool2d
from functrans.nn.conv_transpose import ConvTranspose1d, ConvTranspose2d
from functrans.nn.dropout import Dropout, dropout
from functrans.nn.encoding import one_hot
from functrans.nn.linear import Embedding, Identity, Linear
from functrans.nn.losses import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cosine_similarity,
    cross_entropy,
    huber,
    kl_div,
    l1,
    mse,
    nll,
    smooth_l1,
)
from functrans.nn.masks import combine_masks, make_attention_mask, make_causal_mask
from functrans.nn.norm import BatchNorm, BatchNormState, GroupNorm, LayerNorm, standardize
from functrans.nn.pooling import AdaptiveAvgPool2d, avg_pool, max_pool, min_pool
from functrans.nn.recurrent import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell
from functrans.nn.transformer import TransformerEncoderLayer
from functrans.nn.upsample import Upsample

__all__ = [
    "AdaptiveAvgPool2d", "AvgPool1d", "AvgPool2d", "BatchNorm", "BatchNormState", "Conv1d",
    "Conv2d", "ConvTranspose1d", "ConvTranspose2d", "Dropout", "Embedding", "Flatten", "GRU",
    "GRUCell", "GroupNorm", "Identity", "LSTM", "LSTMCell", "Layer", "LayerNorm", "Linear",
    "MaxPool1d", "MaxPool2d", "MultiHeadAttention", "RNN", "RNNCell", "Sequential",
    "TransformerEncoderLayer", "Upsample", "avg_pool", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "celu", "combine_masks", "cosine_similarity",
    "cross_entropy",
    "dot_product_attention", "dropout", "elu", "gelu", "glu", "hard_sigmoid", "hard_silu",
    "hard_swish", "hard_tanh", "hardsigmoid", "hardswish", "hardtanh", "huber", "identity",
    "initializers", "kl_div", "l1", "leaky_relu", "log1mexp", "log_sigmoid", "log_softmax",
    "logmeanexp", "logsumexp", "make_attention_mask", "make_causal_mask", "max_pool",
    "min_pool", "mish", "mse", "nll", "one_hot", "relu", "relu6",
    "scaled_dot_product_attention", "selu", "sigmoid", "silu", "smooth_l1", "soft_sign",
    "softmax", "softplus", "softsign", "sparse_plus", "sparse_sigmoid", "squareplus",
    "standardize", "swish", "tanh",
]
