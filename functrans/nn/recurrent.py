"""Recurrent layers with PyTorch's equations, parameter names and gate order: cells
([`RNNCell`][functrans.nn.RNNCell], [`LSTMCell`][functrans.nn.LSTMCell], [`GRUCell`][functrans.nn.GRUCell])
advance one time step; sequence layers
([`RNN`][functrans.nn.RNN], [`LSTM`][functrans.nn.LSTM], [`GRU`][functrans.nn.GRU]) run stacked cells over a
whole sequence.

Every weight and bias starts uniform on ``+-1/sqrt(hidden_size)``, as in PyTorch. The input
projections of a whole sequence are computed with one matrix product before the time loop,
which is one ``lax.scan``: under ``jit`` a training step stages the step once, whatever the
sequence length. The gates of a GRU or LSTM step are one fused primitive each
(functrans.primitives.recurrent), so a step is a few primitives under any transformation.
Sequence layers take PyTorch's ``bidirectional`` and ``dropout`` (between stacked layers)
arguments; ``proj_size`` is not supported. In a [`Sequential`][functrans.nn.Sequential] a
sequence layer passes on its output sequence only (its final carry is dropped).
"""
from __future__ import annotations

import dataclasses
import math
from typing import Any, ClassVar

import numpy as np

import functrans.numpy as fnp
from functrans import lax, random, tree
from functrans.nn import initializers as _init
from functrans.nn._layer import Layer, check_param_names, check_param_shapes
from functrans.nn.dropout import dropout as _dropout
from functrans.primitives.conversion import full_like
from functrans.primitives.recurrent import gru_cell, lstm_cell
from functrans.typing import Array, DType, Key, Params

__all__ = ["GRU", "GRUCell", "LSTM", "LSTMCell", "RNN", "RNNCell"]


def _check_positive(layer: str, **values: Any) -> None:
    for name, value in values.items():
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{layer}: {name} must be a positive int, got {value!r}")


def _project(x: Array, w: Array, b: Array | None) -> Array:
    """``x @ w.T + b`` over the last axis of ``x``."""
    y = fnp.tensordot(x, w, ((fnp.ndim(x) - 1,), (1,)))
    return y if b is None else y + b


def _cell_shapes(input_size: int, hidden_size: int, gates: int,
                 bias: bool = True) -> dict[str, tuple[int, ...]]:
    """The shapes of one cell's parameters, by name."""
    shapes: dict[str, tuple[int, ...]] = {"weight_ih": (gates * hidden_size, input_size),
                                          "weight_hh": (gates * hidden_size, hidden_size)}
    if bias:
        shapes.update(bias_ih=(gates * hidden_size,), bias_hh=(gates * hidden_size,))
    return shapes


def _cell_params(key: Key, input_size: int, hidden_size: int, gates: int, bias: bool,
                 dtype: DType) -> Params:
    bound = 1.0 / math.sqrt(hidden_size)
    keys = random.split(key, 4)
    shapes = _cell_shapes(input_size, hidden_size, gates, bias)
    return {name: _init.uniform(k, shape, dtype, low=-bound, high=bound)
            for k, (name, shape) in zip(keys, shapes.items())}


# --- the three step functions, given the input projection xw = x @ W_ih.T + b_ih -------------------
def _hidden(params: Params, h: Array) -> Array:
    """``h @ W_hh.T + b_hh``; from ``weight_hh_t``, ``W_hh.T`` laid out in C order, when the
    sequence layers give it: a few rows times a transposed weight is the slow layout of a
    matrix product (one BLAS thread: (16, 128) @ (128, 384) float32 15 us against 30 us as
    ``h @ W.T``, 19 us as ``(W @ h.T).T``; float64 29, 50, 41 us)."""
    wt = params.get("weight_hh_t")
    if wt is None:
        return _project(h, params["weight_hh"], params.get("bias_hh"))
    y = fnp.tensordot(h, wt, ((fnp.ndim(h) - 1,), (0,)))
    b = params.get("bias_hh")
    return y if b is None else y + b


def _rnn_step(params: Params, xw: Array, h: Array, nonlinearity: str) -> Array:
    pre = xw + _hidden(params, h)
    return fnp.tanh(pre) if nonlinearity == "tanh" else fnp.where(pre > 0, pre, 0)


def _lstm_step(params: Params, xw: Array, carry: tuple[Array, Array],
               hidden: int) -> tuple[Array, Array]:
    h, c = carry
    gates = xw + _hidden(params, h)
    if fnp.shape(gates)[:-1] == fnp.shape(c)[:-1] and fnp.result_type(gates, c) == fnp.result_type(c):
        return lstm_cell(gates, c)  # the gates as one primitive (the same formulas)
    i = fnp.logistic(gates[..., :hidden])
    f = fnp.logistic(gates[..., hidden:2 * hidden])
    g = fnp.tanh(gates[..., 2 * hidden:3 * hidden])
    o = fnp.logistic(gates[..., 3 * hidden:])
    c = f * c + i * g
    return o * fnp.tanh(c), c


def _gru_step(params: Params, xw: Array, h: Array, hidden: int) -> Array:
    hw = _hidden(params, h)
    if fnp.shape(xw) == fnp.shape(hw) and fnp.shape(h)[:-1] == fnp.shape(xw)[:-1] \
            and fnp.result_type(xw, hw, h) == fnp.result_type(h):
        return gru_cell(xw, hw, h)  # the gates as one primitive (the same formulas)
    r = fnp.logistic(xw[..., :hidden] + hw[..., :hidden])
    z = fnp.logistic(xw[..., hidden:2 * hidden] + hw[..., hidden:2 * hidden])
    n = fnp.tanh(xw[..., 2 * hidden:] + r * hw[..., 2 * hidden:])
    return (1.0 - z) * n + z * h


@dataclasses.dataclass(frozen=True)
class _Recurrent(Layer):
    """What the cells and the sequence layers share: sizes, the step, and zero carries."""

    input_size: int
    hidden_size: int

    _gates: ClassVar[int] = 1
    _is_lstm: ClassVar[bool] = False

    def _step(self, params: Params, xw: Array, carry: Any) -> Any:
        raise NotImplementedError

    def _zeros(self, batch_shape: tuple, weight: Array) -> Any:
        """The zero carry, on the device (and of the dtype) of ``weight``."""
        h = full_like(weight, 0, shape=batch_shape + (self.hidden_size,))
        return (h, h) if self._is_lstm else h

    @staticmethod
    def _output(carry: Any) -> Array:
        return carry[0] if isinstance(carry, tuple) else carry


@dataclasses.dataclass(frozen=True)
class _Cell(_Recurrent):
    bias: bool = True
    dtype: DType = np.float64

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_positive(type(self).__name__, input_size=self.input_size,
                        hidden_size=self.hidden_size)

    def _check_carry(self, carry: Any, shape: tuple) -> None:
        """The carry must be what the step returns: an array of ``shape`` (a pair of them for
        LSTM). A lone array handed to an LSTM cell would otherwise be split along its first
        axis into ``h`` and ``c``, and a carry of another shape broadcast."""
        name = type(self).__name__
        if self._is_lstm:
            if not isinstance(carry, (tuple, list)) or len(carry) != 2:
                raise TypeError(f"{name}: the carry must be the pair (h, c), each of shape "
                                f"{shape}; got {type(carry).__name__}")
            parts = tuple(carry)
        else:
            parts = (carry,)
        for part in parts:
            if fnp.shape(part) != shape:
                raise ValueError(f"{name}: expected a carry of shape {shape} for an input "
                                 f"with batch shape {shape[:-1]}, got {fnp.shape(part)}")

    def init(self, key: Key) -> Params:
        """``weight_ih (G*H, I)``, ``weight_hh (G*H, H)``, ``bias_ih``, ``bias_hh (G*H,)``,
        uniform on ``+-1/sqrt(H)``, with ``G`` the number of gates."""
        return _cell_params(key, self.input_size, self.hidden_size, self._gates, self.bias,
                            self.dtype)

    def apply(self, params: Params, x: Array, carry: Any = None) -> Any:
        """One step from input ``x`` of shape ``(N, input_size)`` (or ``(input_size,)``) and
        the previous carry (zeros if ``None``); returns the new carry."""
        x = fnp.asarray(x)
        if fnp.shape(x)[-1:] != (self.input_size,) or fnp.ndim(x) not in (1, 2):
            raise ValueError(f"{type(self).__name__}: expected input (N, {self.input_size}) or "
                             f"({self.input_size},), got {fnp.shape(x)}")
        check_param_shapes(type(self).__name__, params,
                           _cell_shapes(self.input_size, self.hidden_size, self._gates),
                           required=("weight_ih", "weight_hh"))
        check_param_names(type(self).__name__, params,
                          _cell_shapes(self.input_size, self.hidden_size, self._gates, self.bias),
                          "or make the layer with bias=False")
        if carry is None:
            carry = self._zeros(fnp.shape(x)[:-1], params["weight_ih"])
        else:
            self._check_carry(carry, fnp.shape(x)[:-1] + (self.hidden_size,))
        xw = _project(x, params["weight_ih"], params.get("bias_ih"))
        return self._step(params, xw, carry)


@dataclasses.dataclass(frozen=True)
class RNNCell(_Cell):
    """Elman cell, PyTorch's ``nn.RNNCell``:
    ``h' = tanh(x @ W_ih.T + b_ih + h @ W_hh.T + b_hh)`` (or relu).

    Args:
        input_size: Features of the input.
        hidden_size: Features of the hidden state.
        bias: Learn ``bias_ih`` and ``bias_hh``.
        dtype: Parameter dtype.
        nonlinearity: ``"tanh"`` or ``"relu"``.

    Example:
        >>> import numpy as np
        >>> from functrans import nn, random
        >>> cell = nn.RNNCell(3, 5)
        >>> cell.apply(cell.init(random.key(0)), np.ones((2, 3))).shape
        (2, 5)
    """

    nonlinearity: str = "tanh"

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: nonlinearity must be 'tanh' or 'relu', got "
                             f"{self.nonlinearity!r}")

    def _step(self, params: Params, xw: Array, carry: Array) -> Array:
        return _rnn_step(params, xw, carry, self.nonlinearity)


@dataclasses.dataclass(frozen=True)
class LSTMCell(_Cell):
    """Long short-term memory cell, PyTorch's ``nn.LSTMCell``. Gates in PyTorch's order
    ``(i, f, g, o)`` along the rows of the weights::

        i, f, g, o = split(x @ W_ih.T + b_ih + h @ W_hh.T + b_hh, 4)
        c' = sigmoid(f) * c + sigmoid(i) * tanh(g)
        h' = sigmoid(o) * tanh(c')

    The carry is the pair ``(h, c)``.

    Reference: Hochreiter and Schmidhuber, "Long short-term memory", 1997.

    Example:
        >>> import numpy as np
        >>> from functrans import nn, random
        >>> cell = nn.LSTMCell(3, 5)
        >>> h, c = cell.apply(cell.init(random.key(0)), np.ones((2, 3)))
        >>> h.shape, c.shape
        ((2, 5), (2, 5))
    """

    _gates: ClassVar[int] = 4
    _is_lstm: ClassVar[bool] = True

    def _step(self, params: Params, xw: Array, carry: tuple) -> tuple:
        return _lstm_step(params, xw, carry, self.hidden_size)


@dataclasses.dataclass(frozen=True)
class GRUCell(_Cell):
    """Gated recurrent unit cell, PyTorch's ``nn.GRUCell``, gates in the order ``(r, z, n)``::

        r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)
        z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
        n = tanh(W_in x + b_in + r * (W_hn h + b_hn))
        h' = (1 - z) * n + z * h

    Reference: Cho et al., "Learning phrase representations using RNN encoder-decoder for
    statistical machine translation", EMNLP 2014.

    Example:
        >>> import numpy as np
        >>> from functrans import nn, random
        >>> cell = nn.GRUCell(3, 5)
        >>> cell.apply(cell.init(random.key(0)), np.ones(3)).shape
        (5,)
    """

    _gates: ClassVar[int] = 3

    def _step(self, params: Params, xw: Array, carry: Array) -> Array:
        return _gru_step(params, xw, carry, self.hidden_size)


_DIRECTIONS = ("", "_reverse")  # PyTorch's parameter-name suffixes of the two directions


@dataclasses.dataclass(frozen=True)
class _Sequence(_Recurrent):
    num_layers: int = 1
    bias: bool = True
    batch_first: bool = False
    dropout: float = 0.0
    bidirectional: bool = False
    dtype: DType = np.float64

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_positive(type(self).__name__, input_size=self.input_size,
                        hidden_size=self.hidden_size, num_layers=self.num_layers)
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"{type(self).__name__}: dropout must be in [0, 1), got "
                             f"{self.dropout!r}")

    @property
    def stochastic(self) -> bool:  # type: ignore[override]
        """Whether ``apply`` draws random numbers in training (dropout between layers)."""
        return self.dropout > 0 and self.num_layers > 1

    @property
    def _directions(self) -> tuple[str, ...]:
        return _DIRECTIONS if self.bidirectional else _DIRECTIONS[:1]

    def init(self, key: Key) -> Params:
        """PyTorch's flat names: ``weight_ih_l{k}``, ``weight_hh_l{k}``, ``bias_ih_l{k}``,
        ``bias_hh_l{k}`` for each layer ``k``, and the same names ending in ``_reverse`` for
        the backward direction of a bidirectional layer. Layer ``k > 0`` reads
        ``hidden_size * num_directions`` features."""
        params = {}
        directions = self._directions
        keys = random.split(key, self.num_layers * len(directions))
        for k in range(self.num_layers):
            size = self.input_size if k == 0 else self.hidden_size * len(directions)
            for d, suffix in enumerate(directions):
                cell = _cell_params(keys[k * len(directions) + d], size, self.hidden_size,
                                    self._gates, self.bias, self.dtype)
                params.update({f"{name}_l{k}{suffix}": value for name, value in cell.items()})
        return params

    def apply(self, params: Params, x: Array, carry: Any = None, *, key: Key | None = None,
              train: bool = True) -> tuple[Array, Any]:
        """Run over a sequence.

        Args:
            params: From ``init``.
            x: ``(L, N, input_size)`` (``(N, L, input_size)`` with ``batch_first``) or
                unbatched ``(L, input_size)``.
            carry: Initial hidden state ``(num_layers * num_directions, N, hidden_size)`` (a
                pair ``(h0, c0)`` for LSTM), zeros if ``None``; entry ``2 * k + d`` belongs to
                layer ``k``, direction ``d`` (0 forward, 1 backward), as in PyTorch.
            key: Random key for dropout between layers (training with ``dropout > 0`` only).
            train: Apply that dropout (training) or not (evaluation).

        Returns:
            ``(output, final_carry)``: the last layer's hidden state at every step, shaped like
            ``x`` with ``num_directions * hidden_size`` features (forward then backward
            direction), and the final carry shaped like ``carry``.
        """
        name = type(self).__name__
        x = fnp.asarray(x)
        shape = fnp.shape(x)
        if fnp.ndim(x) not in (2, 3) or shape[-1] != self.input_size:
            raise ValueError(f"{name}: expected input (L, N, {self.input_size}) (or (N, L, "
                             f"{self.input_size}) with batch_first, or (L, {self.input_size})), "
                             f"got {shape}")
        unbatched = fnp.ndim(x) == 2
        if unbatched:
            x = fnp.expand_dims(x, 1)
        elif self.batch_first:
            x = fnp.swapaxes(x, 0, 1)
        batch = fnp.shape(x)[1]
        check_param_shapes(name, params, {}, required=tuple(
            f"{w}_l{k}{suffix}" for k in range(self.num_layers) for suffix in self._directions
            for w in ("weight_ih", "weight_hh")))
        check_param_names(name, params, [
            f"{n}_l{k}{suffix}" for k in range(self.num_layers) for suffix in self._directions
            for n in _cell_shapes(1, 1, 1, self.bias)], "or make the layer with bias=False")
        initial = self._initial(carry, unbatched, batch, params, name)
        drop = train and self.stochastic
        if drop and key is None:
            raise ValueError(f"{name}: training with dropout between layers needs a random "
                             f"key: apply(params, x, key=k), or train=False to evaluate")
        directions = self._directions
        finals = []
        for k in range(self.num_layers):
            if k and drop:
                x = _dropout(x, self.dropout, random.fold_in(key, k))
            outputs = []
            for d, suffix in enumerate(directions):
                size = self.input_size if k == 0 else self.hidden_size * len(directions)
                shapes = _cell_shapes(size, self.hidden_size, self._gates)
                check_param_shapes(name, params,
                                   {f"{n}_l{k}{suffix}": s for n, s in shapes.items()})
                layer = {n: params[f"{n}_l{k}{suffix}"] for n in shapes
                         if f"{n}_l{k}{suffix}" in params}
                xw = _project(x, layer["weight_ih"], layer.get("bias_ih"))
                state, out = self._time_loop(layer, xw, initial[k * len(directions) + d],
                                             reverse=d == 1)
                finals.append(state)
                outputs.append(out)
            x = outputs[0] if len(outputs) == 1 else fnp.concatenate(outputs, axis=-1)
        if unbatched:
            x = x[:, 0]
        elif self.batch_first:
            x = fnp.swapaxes(x, 0, 1)
        return x, self._final(finals, unbatched)

    def _forward(self, params: Params, x: Array, state: Any, key: Key | None,
                 train: bool) -> tuple[Array, Any]:
        # In a Sequential: the output sequence goes on to the next layer and the final carry
        # is dropped (a tuple handed on would be stacked into one array by the next layer);
        # the random key feeds the dropout between stacked layers.
        return self.apply(params, x, key=key, train=train)[0], state

    def _time_loop(self, layer: Params, xw: Array, state: Any,
                   reverse: bool = False) -> tuple[Any, Array]:
        """The final state and the stacked outputs of the steps over the leading axis of
        ``xw`` (the input projections), from the last step to the first with ``reverse``:
        one ``lax.scan``, so a staged program holds the step once whatever the sequence
        length."""
        dtype = fnp.result_type(xw, *tree.leaves(state))
        state = tree.map(lambda s: s if s.dtype == dtype else s.astype(dtype), state)
        # W_hh.T once for all steps (see _hidden); under a transformation a transposed view,
        # which lax.scan lays out in C order before its loop
        layer = {**layer, "weight_hh_t": fnp.ascontiguousarray(fnp.transpose(layer["weight_hh"]))}

        def step(carry: Any, xw_t: Array) -> tuple[Any, Array]:
            carry = self._step(layer, xw_t, carry)
            return carry, self._output(carry)

        return lax.scan(step, state, xw, reverse=reverse)

    def _initial(self, carry: Any, unbatched: bool, batch: int, params: Params,
                 name: str) -> list:
        count = self.num_layers * len(self._directions)
        if carry is None:
            return [self._zeros((batch,), params["weight_ih_l0"])] * count
        parts = carry if self._is_lstm else (carry,)
        if self._is_lstm and not (isinstance(carry, tuple) and len(carry) == 2):
            raise ValueError(f"{name}: the initial carry of an LSTM is a pair (h0, c0)")
        expected = (count,) + (() if unbatched else (batch,)) + (self.hidden_size,)
        parts = [fnp.asarray(p) for p in parts]
        for p in parts:
            if fnp.shape(p) != expected:
                raise ValueError(f"{name}: expected an initial state of shape {expected}, got "
                                 f"{fnp.shape(p)}")
        if unbatched:
            parts = [fnp.expand_dims(p, 1) for p in parts]
        per_layer = [tuple(p[k] for p in parts) for k in range(count)]
        return per_layer if self._is_lstm else [s[0] for s in per_layer]

    def _final(self, finals: list, unbatched: bool) -> Any:
        def stack(values: list) -> Array:
            out = fnp.stack(values, axis=0)
            return out[:, 0] if unbatched else out

        if self._is_lstm:
            return stack([h for h, _ in finals]), stack([c for _, c in finals])
        return stack(finals)


@dataclasses.dataclass(frozen=True)
class RNN(_Sequence):
    """Stacked Elman RNN over a sequence, PyTorch's ``nn.RNN`` (see [`RNNCell`][functrans.nn.RNNCell]).

    Args:
        input_size: Features of the input.
        hidden_size: Features of the hidden state.
        num_layers: Stacked layers; layer ``k > 0`` reads layer ``k - 1``'s outputs.
        bias: Learn the biases.
        batch_first: Inputs and outputs are ``(N, L, features)``.
        dropout: Dropout probability on the outputs of every layer but the last, in training
            (``apply`` then needs ``key``).
        bidirectional: Run a second set of layers from the last step to the first; outputs
            concatenate the two directions (``2 * hidden_size`` features) and the final
            state holds ``2 * num_layers`` entries, layer by layer, forward first.
        dtype: Parameter dtype.
        nonlinearity: ``"tanh"`` or ``"relu"``.

    The parameters carry PyTorch's names and shapes (``weight_ih_l0``, ...,
    ``bias_hh_l1_reverse``), so a PyTorch ``state_dict`` converts entry by entry with
    ``.numpy()``; the same holds for [`LSTM`][functrans.nn.LSTM] and [`GRU`][functrans.nn.GRU], which take the same
    arguments but ``nonlinearity``.

    Example:
        >>> import numpy as np
        >>> from functrans import nn, random
        >>> rnn = nn.RNN(3, 4, num_layers=2)
        >>> out, h = rnn.apply(rnn.init(random.key(0)), np.ones((7, 2, 3)))
        >>> out.shape, h.shape
        ((7, 2, 4), (2, 2, 4))
        >>> birnn = nn.RNN(3, 4, num_layers=2, bidirectional=True, dropout=0.5)
        >>> params = birnn.init(random.key(0))
        >>> params["weight_ih_l1_reverse"].shape
        (4, 8)
        >>> out, h = birnn.apply(params, np.ones((7, 2, 3)), key=random.key(1))
        >>> out.shape, h.shape
        ((7, 2, 8), (4, 2, 4))
    """

    nonlinearity: str = "tanh"

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: nonlinearity must be 'tanh' or 'relu', got "
                             f"{self.nonlinearity!r}")

    def _step(self, params: Params, xw: Array, carry: Array) -> Array:
        return _rnn_step(params, xw, carry, self.nonlinearity)


@dataclasses.dataclass(frozen=True)
class LSTM(_Sequence):
    """Stacked LSTM over a sequence, PyTorch's ``nn.LSTM`` (see [`LSTMCell`][functrans.nn.LSTMCell]); the carry
    is ``(h, c)``, each ``(num_layers, N, hidden_size)``.

    Example:
        >>> import numpy as np
        >>> from functrans import nn, random
        >>> lstm = nn.LSTM(3, 4, batch_first=True)
        >>> out, (h, c) = lstm.apply(lstm.init(random.key(0)), np.ones((2, 7, 3)))
        >>> out.shape, h.shape, c.shape
        ((2, 7, 4), (1, 2, 4), (1, 2, 4))
    """

    _gates: ClassVar[int] = 4
    _is_lstm: ClassVar[bool] = True

    def _step(self, params: Params, xw: Array, carry: tuple) -> tuple:
        return _lstm_step(params, xw, carry, self.hidden_size)


@dataclasses.dataclass(frozen=True)
class GRU(_Sequence):
    """Stacked GRU over a sequence, PyTorch's ``nn.GRU`` (see [`GRUCell`][functrans.nn.GRUCell]).

    Example:
        >>> import numpy as np
        >>> from functrans import nn, random
        >>> gru = nn.GRU(3, 4)
        >>> out, h = gru.apply(gru.init(random.key(0)), np.ones((7, 3)))
        >>> out.shape, h.shape
        ((7, 4), (1, 4))
    """

    _gates: ClassVar[int] = 3

    def _step(self, params: Params, xw: Array, carry: Array) -> Array:
        return _gru_step(params, xw, carry, self.hidden_size)
