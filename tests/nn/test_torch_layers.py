"""PyTorch-course layers of functrans.nn (transposed convolution, group norm, adaptive pooling,
upsampling, the Transformer encoder block, bidirectional and dropout-stacked recurrent layers):
values against NumPy references written from PyTorch's documented formulas, derivatives by
check_grads, jit and vmap against eager, on NumPy and the strict (CuPy-like) backend."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.special import erf

import functrans as ft
import functrans.numpy as fnp
from functrans import nn, random, tree
from functrans.testing import check_grads


def rng(seed=0):
    return np.random.default_rng(seed)


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def assert_close(a, b, rtol=1e-12, atol=1e-13):
    for u, v in zip(tree.leaves(a), tree.leaves(b)):
        np.testing.assert_allclose(u, v, rtol=rtol, atol=atol)


def check_on_backend(backend, layer, params, x, ref, rtol=1e-12, **kwargs):
    """The layer's output on ``backend`` equals ``ref``; jit and vmap agree with eager."""
    p, xb = backend.put(params), backend.put(x)
    y = layer.apply(p, xb, **kwargs)
    backend.check_placed(y)
    assert_close(backend.get(y), ref, rtol=rtol)
    jitted = ft.jit(lambda q, v: layer.apply(q, v, **kwargs))(p, xb)
    assert_close(backend.get(jitted), ref, rtol=rtol)
    stacked = backend.put(np.stack([x, 2 * x]))
    mapped = ft.vmap(lambda v: layer.apply(p, v, **kwargs))(stacked)
    twice = layer.apply(params, 2 * x, **kwargs)
    assert_close(backend.get(mapped), tree.map(lambda a, b: np.stack([a, b]), ref, twice),
                 rtol=rtol)


# --- ConvTranspose1d/2d: each input entry scatters the kernel into the output ---------------------
def conv_transpose_ref(x, w, b, stride, padding, output_padding, dilation, groups):
    """PyTorch's definition: y[n, o, s*h + d*k - p] += x[n, c, h] * w[c, o', k]."""
    n, cin = x.shape[:2]
    nd = x.ndim - 2
    og, kernel = w.shape[1], w.shape[2:]
    out = [(x.shape[2 + i] - 1) * stride[i] - 2 * padding[i] + dilation[i] * (kernel[i] - 1)
           + output_padding[i] + 1 for i in range(nd)]
    big = [o + 2 * p for o, p in zip(out, padding)]  # before cropping the padding
    y = np.zeros((n, og * groups) + tuple(big))
    cg = cin // groups
    for c in range(cin):
        g = c // cg
        for pos in np.ndindex(*x.shape[2:]):
            for kpos in np.ndindex(*kernel):
                idx = tuple(pos[i] * stride[i] + kpos[i] * dilation[i] for i in range(nd))
                if any(j >= s for j, s in zip(idx, big)):
                    continue
                for oo in range(og):
                    y[(slice(None), g * og + oo) + idx] += (x[(slice(None), c) + pos]
                                                            * w[(c, oo) + kpos])
    y = y[(slice(None), slice(None)) + tuple(slice(p, p + o) for p, o in zip(padding, out))]
    if b is not None:
        y += b.reshape((1, -1) + (1,) * nd)
    return y


CONV_T_CASES = [
    (nn.ConvTranspose2d, {"in_channels": 2, "out_channels": 3, "kernel_size": 3}, (4, 3)),
    (nn.ConvTranspose2d, {"in_channels": 2, "out_channels": 2, "kernel_size": (3, 2),
                          "stride": (2, 3), "padding": (1, 0), "output_padding": (1, 2)}, (3, 3)),
    (nn.ConvTranspose2d, {"in_channels": 4, "out_channels": 2, "kernel_size": 2, "stride": 2,
                          "groups": 2, "dilation": 2, "bias": False}, (3, 2)),
    (nn.ConvTranspose2d, {"in_channels": 1, "out_channels": 1, "kernel_size": 2,
                          "padding": 2}, (5, 5)),  # padding beyond the kernel: crops
    (nn.ConvTranspose1d, {"in_channels": 2, "out_channels": 4, "kernel_size": 4, "stride": 3,
                          "padding": 1, "output_padding": 2, "groups": 2, "dilation": 1}, (4,)),
    (nn.ConvTranspose1d, {"in_channels": 1, "out_channels": 2, "kernel_size": 3,
                          "dilation": 3, "output_padding": 2, "stride": 1}, (3,)),
]


@pytest.mark.parametrize("cls,cfg,spatial", CONV_T_CASES, ids=range(len(CONV_T_CASES)))
def test_conv_transpose_matches_pytorch_definition(cls, cfg, spatial, backend):
    layer = cls(**cfg)
    params = layer.init(random.key(1))
    x = rng(1).normal(size=(2, cfg["in_channels"]) + spatial)
    kernel, stride, padding, dilation, output_padding = layer._geometry
    ref = conv_transpose_ref(x, params["weight"], params.get("bias"), stride, padding,
                             output_padding, dilation, cfg.get("groups", 1))
    check_on_backend(backend, layer, params, x, ref)
    np.testing.assert_allclose(layer.apply(params, x[0]), ref[0], rtol=1e-12, atol=1e-13)


def test_conv_transpose_is_the_adjoint_of_conv_and_has_pytorch_init():
    conv = nn.Conv2d(3, 2, 3, stride=2, padding=1, dilation=1, bias=False)
    up = nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1, output_padding=0, bias=False)
    w = {"weight": rng(2).normal(size=(2, 3, 3, 3))}  # conv (out, in, k, k) = convT (in, out, ...)
    x, y = rng(3).normal(size=(1, 3, 7, 7)), rng(4).normal(size=(1, 2, 4, 4))
    np.testing.assert_allclose(np.sum(conv.apply(w, x) * y), np.sum(x * up.apply(w, y)),
                               rtol=1e-12)
    params = nn.ConvTranspose2d(4, 6, 3, groups=2).init(random.key(0))
    assert params["weight"].shape == (4, 3, 3, 3) and params["bias"].shape == (6,)
    bound = 1 / math.sqrt(3 * 9)
    assert max(np.abs(params["weight"]).max(), np.abs(params["bias"]).max()) <= bound


@pytest.mark.parametrize("case", [1, 2, 4], ids=["strided", "grouped-dilated", "1d"])
def test_conv_transpose_gradients(case):
    cls, cfg, spatial = CONV_T_CASES[case]
    layer = cls(**cfg)
    params = layer.init(random.key(2))
    x = rng(5).normal(size=(1, cfg["in_channels"]) + tuple(min(s, 3) for s in spatial))
    check_grads(layer.apply, (params, x), order=2)


def test_conv_transpose_errors():
    with pytest.raises(ValueError, match="output_padding .* smaller than the stride"):
        nn.ConvTranspose2d(1, 1, 3, stride=2, output_padding=2)
    with pytest.raises(ValueError, match="divisible by groups"):
        nn.ConvTranspose1d(3, 2, 3, groups=2)
    layer = nn.ConvTranspose2d(2, 1, 2)
    with pytest.raises(ValueError, match="expected 2 input channels"):
        layer.apply(layer.init(random.key(0)), np.ones((1, 3, 4, 4)))
    tight = nn.ConvTranspose1d(1, 1, 1, padding=1)
    with pytest.raises(ValueError, match="leaves no output"):
        tight.apply(tight.init(random.key(0)), np.ones((1, 1, 2)))


# --- GroupNorm ------------------------------------------------------------------------------------
def group_norm_ref(x, groups, weight, bias, eps):
    n, c = x.shape[:2]
    g = x.reshape(n, groups, -1)
    y = (g - g.mean(-1, keepdims=True)) / np.sqrt(g.var(-1, keepdims=True) + eps)
    shape = (1, c) + (1,) * (x.ndim - 2)
    return y.reshape(x.shape) * weight.reshape(shape) + bias.reshape(shape)


def test_group_norm_matches_formula(backend):
    layer = nn.GroupNorm(2, 6, eps=1e-3)
    params = {"weight": rng(6).normal(size=6), "bias": rng(7).normal(size=6)}
    x = rng(8).normal(size=(3, 6, 4, 2)) * 2 + 1
    check_on_backend(backend, layer, params, x, group_norm_ref(x, 2, params["weight"],
                                                               params["bias"], 1e-3))
    plain = nn.GroupNorm(3, 6, affine=False)
    assert plain.init(random.key(0)) == {}
    np.testing.assert_allclose(plain.apply({}, x), group_norm_ref(x, 3, np.ones(6),
                                                                  np.zeros(6), 1e-5), rtol=1e-12)
    check_grads(layer.apply, (params, x[:1, :, :2, :1]), order=2)
    with pytest.raises(ValueError, match="divisible by num_groups"):
        nn.GroupNorm(4, 6)
    with pytest.raises(ValueError, match=r"expected an input \(N, 6"):
        layer.apply(params, np.ones((2, 4)))


# --- AdaptiveAvgPool2d ----------------------------------------------------------------------------
def adaptive_avg_ref(x, out_h, out_w):
    h, w = x.shape[-2:]
    y = np.zeros(x.shape[:-2] + (out_h, out_w))
    for i in range(out_h):
        h0, h1 = math.floor(i * h / out_h), math.ceil((i + 1) * h / out_h)
        for j in range(out_w):
            w0, w1 = math.floor(j * w / out_w), math.ceil((j + 1) * w / out_w)
            y[..., i, j] = x[..., h0:h1, w0:w1].mean(axis=(-2, -1))
    return y


@pytest.mark.parametrize("size,out", [((7, 5), (3, 2)), ((4, 6), (2, 3)), ((5, 3), 1),
                                      ((3, 4), (5, None))])
def test_adaptive_avg_pool_matches_pytorch_windows(size, out, backend):
    layer = nn.AdaptiveAvgPool2d(out)
    x = rng(9).normal(size=(2, 3) + size)
    out_h, out_w = (out, out) if isinstance(out, int) else out
    ref = adaptive_avg_ref(x, out_h or size[0], out_w or size[1])
    check_on_backend(backend, layer, {}, x, ref)
    np.testing.assert_allclose(layer.apply({}, x[0]), ref[0], rtol=1e-12)


def test_adaptive_avg_pool_gradients_and_errors():
    x = rng(10).normal(size=(1, 1, 5, 4))
    check_grads(nn.AdaptiveAvgPool2d((3, 3)).apply, ({}, x), order=2)
    with pytest.raises(ValueError, match="output_size"):
        nn.AdaptiveAvgPool2d((0, 2))
    assert nn.AdaptiveAvgPool2d((2, 2)).apply({}, x.astype(np.float32)).dtype == np.float32


# --- Upsample -------------------------------------------------------------------------------------
def source_coordinate(i, size, out, scale, align_corners):
    if align_corners:
        return i * (size - 1) / (out - 1) if out > 1 else 0.0
    ratio = size / out if scale is None else 1.0 / scale
    return max((i + 0.5) * ratio - 0.5, 0.0)


def upsample_ref(x, outs, scales, mode, align_corners):
    """Axis by axis, PyTorch's nearest (floor(i * ratio)) and linear interpolation rules."""
    for axis, (out, scale) in enumerate(zip(outs, scales), start=2):
        size = x.shape[axis]
        rows = []
        for i in range(out):
            if mode == "nearest":
                ratio = size / out if scale is None else 1.0 / scale
                rows.append(np.take(x, min(math.floor(i * ratio), size - 1), axis=axis))
                continue
            c = source_coordinate(i, size, out, scale, align_corners)
            i0 = min(math.floor(c), size - 1)
            i1 = min(i0 + 1, size - 1)
            t = c - i0
            rows.append((1 - t) * np.take(x, i0, axis=axis) + t * np.take(x, i1, axis=axis))
        x = np.stack(rows, axis=axis)
    return x


UPSAMPLE_CASES = [
    ({"scale_factor": 2}, (3, 4), (6, 8), (2.0, 2.0)),
    ({"size": (5, 7)}, (3, 4), (5, 7), (None, None)),
    ({"scale_factor": (1.5, 0.5)}, (4, 5), (6, 2), (1.5, 0.5)),
    ({"size": (5, 3), "mode": "bilinear"}, (3, 4), (5, 3), (None, None)),
    ({"size": (5, 3), "mode": "bilinear", "align_corners": True}, (3, 4), (5, 3), (None, None)),
    ({"scale_factor": 2.5, "mode": "bilinear"}, (2, 3), (5, 7), (2.5, 2.5)),
    ({"size": (1, 4), "mode": "bilinear", "align_corners": True}, (3, 2), (1, 4), (None, None)),
    ({"size": 7, "mode": "linear", "align_corners": False}, (4,), (7,), (None,)),
    ({"scale_factor": 3, "mode": "nearest"}, (2,), (6,), (3.0,)),
]


@pytest.mark.parametrize("cfg,spatial,outs,scales", UPSAMPLE_CASES, ids=range(len(UPSAMPLE_CASES)))
def test_upsample_matches_pytorch_coordinates(cfg, spatial, outs, scales, backend):
    layer = nn.Upsample(**cfg)
    x = rng(11).normal(size=(2, 2) + spatial)
    ref = upsample_ref(x, outs, scales, cfg.get("mode", "nearest"), cfg.get("align_corners"))
    assert ref.shape[2:] == outs
    check_on_backend(backend, layer, {}, x, ref)


def test_upsample_gradients_and_errors():
    x = rng(12).normal(size=(1, 1, 3, 2))
    for cfg in ({"scale_factor": 2}, {"size": (4, 3), "mode": "bilinear"},
                {"size": (4, 3), "mode": "bilinear", "align_corners": True}):
        check_grads(nn.Upsample(**cfg).apply, ({}, x), order=2)
    with pytest.raises(ValueError, match="exactly one of size and scale_factor"):
        nn.Upsample()
    with pytest.raises(ValueError, match="align_corners applies to the linear modes"):
        nn.Upsample(scale_factor=2, align_corners=True)
    with pytest.raises(ValueError, match=r"'bilinear' takes inputs of shape \(N, C, H, W\)"):
        nn.Upsample(scale_factor=2, mode="bilinear").apply({}, np.ones((2, 3, 4)))
    assert nn.Upsample(size=3, mode="bilinear").apply({}, x.astype(np.float32)).dtype == np.float32
    # A factor that rounds an axis down to no entries gave an empty array (PyTorch refuses it).
    with pytest.raises(ValueError, match=r"scale_factor 0.1 leaves no output for an input of "
                                         r"spatial shape \(5,\)"):
        nn.Upsample(scale_factor=0.1, mode="linear").apply({}, np.ones((1, 1, 5)))
    assert nn.Upsample(scale_factor=0.2).apply({}, np.arange(5.0)[None, None]).tolist() == [[[0.0]]]


# --- TransformerEncoderLayer ----------------------------------------------------------------------
def layer_norm_ref(x, p, eps):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * p["weight"] + p["bias"]


def encoder_ref(p, x, heads, activation, norm_first, eps, mask=None):
    """PyTorch's encoder block (evaluation mode) for batch-first inputs (N, L, E)."""
    def attention(z):
        e = z.shape[-1]
        w, b = p["self_attn"]["in_proj_weight"], p["self_attn"]["in_proj_bias"]
        q, k, v = (z @ w[i * e:(i + 1) * e].T + b[i * e:(i + 1) * e] for i in range(3))
        n, length, _ = z.shape
        q, k, v = (a.reshape(n, length, heads, e // heads).transpose(0, 2, 1, 3)
                   for a in (q, k, v))
        scores = q @ k.transpose(0, 1, 3, 2) / math.sqrt(e // heads)
        if mask is not None:
            scores = np.where(mask, -np.inf, scores)
        weights = np.exp(scores - scores.max(-1, keepdims=True))
        weights /= weights.sum(-1, keepdims=True)
        out = (weights @ v).transpose(0, 2, 1, 3).reshape(n, length, e)
        return out @ p["self_attn"]["out_proj"]["weight"].T + p["self_attn"]["out_proj"]["bias"]

    act = {"relu": lambda h: np.maximum(h, 0),
           "gelu": lambda h: 0.5 * h * (1 + erf(h / np.sqrt(2)))}[activation]

    def feed_forward(z):
        h = act(z @ p["linear1"]["weight"].T + p["linear1"]["bias"])
        return h @ p["linear2"]["weight"].T + p["linear2"]["bias"]

    if norm_first:
        x = x + attention(layer_norm_ref(x, p["norm1"], eps))
        return x + feed_forward(layer_norm_ref(x, p["norm2"], eps))
    x = layer_norm_ref(x + attention(x), p["norm1"], eps)
    return layer_norm_ref(x + feed_forward(x), p["norm2"], eps)


def perturbed(params, seed):
    """Params with every leaf moved off its initial value (norm weights, zero biases)."""
    leaves, treedef = tree.flatten(params)
    gen = rng(seed)
    return tree.unflatten(treedef, [a + 0.3 * gen.normal(size=a.shape) for a in leaves])


@pytest.mark.parametrize("activation,norm_first,batch_first",
                         [("relu", False, True), ("gelu", True, False)])
def test_transformer_encoder_layer_matches_pytorch_equations(activation, norm_first,
                                                             batch_first, backend):
    block = nn.TransformerEncoderLayer(4, 2, dim_feedforward=6, dropout=0.1,
                                       activation=activation, batch_first=batch_first,
                                       norm_first=norm_first, layer_norm_eps=1e-4)
    params = perturbed(block.init(random.key(3)), 13)
    assert set(params) == {"self_attn", "linear1", "linear2", "norm1", "norm2"}
    assert params["self_attn"]["in_proj_weight"].shape == (12, 4)
    assert params["linear1"]["weight"].shape == (6, 4)
    assert params["linear2"]["weight"].shape == (4, 6)
    x = rng(14).normal(size=(2, 3, 4))  # (N, L, E)
    ref = encoder_ref(params, x, 2, activation, norm_first, 1e-4)
    inputs = x if batch_first else np.swapaxes(x, 0, 1)
    expected = ref if batch_first else np.swapaxes(ref, 0, 1)
    check_on_backend(backend, block, params, inputs, expected, train=False)
    np.testing.assert_allclose(block.apply(params, x[0], train=False), ref[0], rtol=1e-12)


def test_transformer_encoder_layer_masks_dropout_and_gradients():
    block = nn.TransformerEncoderLayer(4, 2, dim_feedforward=6, dropout=0.2, batch_first=True)
    params = perturbed(block.init(random.key(4)), 15)
    x = rng(16).normal(size=(2, 3, 4))
    causal = np.triu(np.ones((3, 3), bool), 1)
    np.testing.assert_allclose(block.apply(params, x, causal, train=False),
                               encoder_ref(params, x, 2, "relu", False, 1e-5, causal),
                               rtol=1e-12)
    padding = np.array([[False, False, True], [False, False, False]])
    np.testing.assert_allclose(
        block.apply(params, x, src_key_padding_mask=padding, train=False),
        encoder_ref(params, x, 2, "relu", False, 1e-5, padding[:, None, None, :]), rtol=1e-12)
    a = block.apply(params, x, key=random.key(5))
    np.testing.assert_array_equal(a, block.apply(params, x, key=random.key(5)))
    jitted = ft.jit(lambda p, v, k: block.apply(p, v, key=k))(params, x, random.key(5))
    np.testing.assert_allclose(jitted, a, rtol=1e-12)
    assert not np.allclose(a, block.apply(params, x, train=False))
    with pytest.raises(ValueError, match="needs a random key"):
        block.apply(params, x)
    with pytest.raises(ValueError, match="activation must be"):
        nn.TransformerEncoderLayer(4, 2, activation="tanh")
    small = nn.TransformerEncoderLayer(4, 2, dim_feedforward=3, dropout=0.0, activation="gelu",
                                       norm_first=True)
    check_grads(lambda p, v: small.apply(p, v), (perturbed(small.init(random.key(6)), 17),
                                                 x[:1, :2]), order=2)


# --- bidirectional recurrent layers and dropout between layers -------------------------------------
def rnn_step(p, x, h):
    return np.tanh(x @ p["weight_ih"].T + p["bias_ih"] + h @ p["weight_hh"].T + p["bias_hh"])


def gru_step(p, x, h):
    hid = h.shape[-1]
    xw = x @ p["weight_ih"].T + p["bias_ih"]
    hw = h @ p["weight_hh"].T + p["bias_hh"]
    r = sigmoid(xw[..., :hid] + hw[..., :hid])
    z = sigmoid(xw[..., hid:2 * hid] + hw[..., hid:2 * hid])
    n = np.tanh(xw[..., 2 * hid:] + r * hw[..., 2 * hid:])
    return (1 - z) * n + z * h


def lstm_step(p, x, carry):
    h, c = carry
    hid = h.shape[-1]
    g = x @ p["weight_ih"].T + p["bias_ih"] + h @ p["weight_hh"].T + p["bias_hh"]
    i, f, o = sigmoid(g[..., :hid]), sigmoid(g[..., hid:2 * hid]), sigmoid(g[..., 3 * hid:])
    c = f * c + i * np.tanh(g[..., 2 * hid:3 * hid])
    return o * np.tanh(c), c


def stacked_ref(step, params, x, carries, num_layers, bidirectional, masks=None):
    """PyTorch's stacked (bi)directional recurrence over x (L, N, I): layer k > 0 reads the
    concatenated [forward, backward] outputs of layer k - 1 (times a dropout mask)."""
    suffixes = ("", "_reverse") if bidirectional else ("",)
    finals = []
    for k in range(num_layers):
        if k and masks is not None:
            x = x * masks[k - 1]
        outs = []
        for d, suffix in enumerate(suffixes):
            p = {n: params[f"{n}_l{k}{suffix}"] for n in ("weight_ih", "weight_hh", "bias_ih",
                                                          "bias_hh")}
            carry = carries[k * len(suffixes) + d]
            steps = range(len(x)) if d == 0 else range(len(x) - 1, -1, -1)
            seq = [None] * len(x)
            for t in steps:
                carry = step(p, x[t], carry)
                seq[t] = carry[0] if isinstance(carry, tuple) else carry
            outs.append(np.stack(seq))
            finals.append(carry)
        x = np.concatenate(outs, axis=-1)
    return x, finals


RECURRENT = [(nn.RNN, rnn_step), (nn.GRU, gru_step), (nn.LSTM, lstm_step)]


@pytest.mark.parametrize("cls,step", RECURRENT, ids=["RNN", "GRU", "LSTM"])
def test_bidirectional_layers_match_pytorch_layout(cls, step, backend):
    layer = cls(3, 4, num_layers=2, bidirectional=True)
    params = layer.init(random.key(7))
    gates = {nn.RNN: 1, nn.GRU: 3, nn.LSTM: 4}[cls]
    assert params["weight_ih_l0_reverse"].shape == (gates * 4, 3)
    assert params["weight_ih_l1"].shape == (gates * 4, 8)
    assert params["bias_hh_l1_reverse"].shape == (gates * 4,)
    assert len(params) == 16
    x = rng(18).normal(size=(5, 2, 3))
    h0 = rng(19).normal(size=(4, 2, 4))
    if cls is nn.LSTM:
        c0 = rng(20).normal(size=(4, 2, 4))
        carry, carries = (h0, c0), list(zip(h0, c0))
    else:
        carry, carries = h0, list(h0)
    out, finals = stacked_ref(step, params, x, carries, 2, True)
    if cls is nn.LSTM:
        final = (np.stack([h for h, _ in finals]), np.stack([c for _, c in finals]))
    else:
        final = np.stack(finals)
    assert out.shape == (5, 2, 8)
    p, xb, cb = backend.put(params), backend.put(x), backend.put(carry)
    got = layer.apply(p, xb, cb)
    backend.check_placed(got)
    assert_close(backend.get(got), (out, final))
    assert_close(backend.get(ft.jit(layer.apply)(p, xb, cb)), (out, final))
    batch_first = cls(3, 4, num_layers=2, bidirectional=True, batch_first=True)
    out_bf, _ = batch_first.apply(params, np.swapaxes(x, 0, 1), carry)
    np.testing.assert_allclose(out_bf, np.swapaxes(out, 0, 1), rtol=1e-12)
    unbatched = tree.map(lambda a: a[:, 0], carry)
    out_u, final_u = layer.apply(params, x[:, 0], unbatched)
    np.testing.assert_allclose(out_u, out[:, 0], rtol=1e-12)
    assert_close(final_u, tree.map(lambda a: a[:, 0], final))
    per_sequence = ft.vmap(lambda v: layer.apply(params, v)[0], 1, 1)(x)
    np.testing.assert_allclose(per_sequence, layer.apply(params, x)[0], rtol=1e-12)


def test_dropout_between_layers_as_pytorch():
    gru = nn.GRU(3, 4, num_layers=3, dropout=0.5, bidirectional=True)
    assert gru.stochastic and not nn.GRU(3, 4, dropout=0.5).stochastic
    params = gru.init(random.key(8))
    x = rng(21).normal(size=(4, 2, 3))
    key = random.key(9)
    masks = [nn.dropout(np.ones((4, 2, 8)), 0.5, random.fold_in(key, k)) for k in (1, 2)]
    zeros = [np.zeros((2, 4))] * 6
    out, finals = stacked_ref(gru_step, params, x, zeros, 3, True, masks)
    got, h_n = gru.apply(params, x, key=key)
    np.testing.assert_allclose(got, out, rtol=1e-12)
    np.testing.assert_allclose(h_n, np.stack(finals), rtol=1e-12)
    plain, _ = stacked_ref(gru_step, params, x, zeros, 3, True)
    np.testing.assert_allclose(gru.apply(params, x, train=False)[0], plain, rtol=1e-12)
    assert not np.allclose(got, plain)
    jitted = ft.jit(lambda p, v, k: gru.apply(p, v, key=k)[0])(params, x, key)
    np.testing.assert_allclose(jitted, got, rtol=1e-12)
    with pytest.raises(ValueError, match="needs a random key"):
        gru.apply(params, x)
    with pytest.raises(ValueError, match="dropout must be in"):
        nn.LSTM(3, 4, dropout=1.0)
    with pytest.raises(ValueError, match=r"initial state of shape \(6, 2, 4\)"):
        gru.apply(params, x, np.zeros((3, 2, 4)), train=False)


@pytest.mark.parametrize("cls", [nn.RNN, nn.GRU, nn.LSTM], ids=["RNN", "GRU", "LSTM"])
def test_bidirectional_gradients(cls):
    layer = cls(2, 2, num_layers=2, bidirectional=True)
    params = layer.init(random.key(10))
    x = rng(22).normal(size=(3, 1, 2))

    def f(p, v):
        out, carry = layer.apply(p, v)
        return out, carry

    check_grads(f, (params, x), order=2 if cls is nn.GRU else 1)


def test_docstring_examples_run():
    import doctest
    import importlib

    for name in ("functrans.nn.conv_transpose", "functrans.nn.pooling", "functrans.nn.upsample",
                 "functrans.nn.transformer", "functrans.nn.norm", "functrans.nn.recurrent"):
        result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
        assert result.failed == 0 and result.attempted > 0, name


def test_float32_stays_float32():
    for layer, shape in [(nn.ConvTranspose2d(2, 3, 3, stride=2, dtype=np.float32), (1, 2, 3, 3)),
                         (nn.GroupNorm(2, 4, dtype=np.float32), (2, 4, 3)),
                         (nn.TransformerEncoderLayer(4, 2, 6, dtype=np.float32), (3, 2, 4))]:
        params = layer.init(random.key(0))
        x = rng(23).normal(size=shape).astype(np.float32)
        kwargs = {"train": False} if layer.stochastic else {}
        grads = ft.grad(lambda p, v, layer=layer, kwargs=kwargs:
                        fnp.sum(layer.apply(p, v, **kwargs) ** 2), argnums=(0, 1))(params, x)
        assert all(g.dtype == np.float32 for g in tree.leaves(grads))
