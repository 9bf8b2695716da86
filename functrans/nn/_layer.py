"""What every layer is: a small frozen configuration with ``init`` and ``apply``.

A layer holds only hyperparameters (sizes, strides, dtype). ``init(key)`` makes a dict of
parameter arrays and ``apply(params, x, ...)`` computes the output; nothing is stored on the
layer, so ``grad`` differentiates ``apply`` with respect to the params directly. ``apply``
refuses params whose entries are not the ones ``init`` makes for the layer's configuration
(a missing or misspelt ``"bias"`` is an error, not a layer without bias).
Two optional traits change ``apply``'s signature, and each layer declares them:

* ``stateful``: the layer keeps non-trainable state (batch norm's running statistics), made
  by ``init_state()``; ``apply(params, x, state, *, train=True)`` returns ``(y, new_state)``.
* ``stochastic``: the layer draws random numbers (dropout); ``apply`` takes ``key=`` and
  ``train=``.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping
from typing import Any, ClassVar, NoReturn

import functrans.numpy as fnp
from functrans import errors, random
from functrans._abstract import python_number
from functrans.typing import Array, Key, Params, PyTree

__all__ = ["Layer", "Sequential"]


@dataclasses.dataclass(frozen=True)
class Layer:
    """Base class of the layers: a frozen dataclass of hyperparameters.

    Subclasses define ``init`` and ``apply``; see the module docstring for the stateful and
    stochastic variants.

    Example:
        >>> import numpy as np
        >>> from functrans import nn, random
        >>> layer = nn.Linear(3, 2)
        >>> sorted(layer.init(random.key(0)))
        ['bias', 'weight']
        >>> layer.stateful, layer.stochastic
        (False, False)
        >>> layer(np.ones(3))
        Traceback (most recent call last):
        ...
        TypeError: Linear is a configuration, not a function: ... call y = layer.apply(params, x)
    """

    stateful: ClassVar[bool] = False
    stochastic: ClassVar[bool] = False

    def __post_init__(self) -> None:
        # NumPy-scalar hyperparameters (np.float64(1e-5) from a config) as Python numbers,
        # which keep a float32 model float32 where a NumPy float64 would promote it.
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            number = python_number(value)
            if number is not value:
                object.__setattr__(self, field.name, number)

    def init(self, key: Key) -> Params:
        """The initial parameters (a dict of arrays, empty for a layer without any)."""
        return {}

    def init_state(self, device: str | None = None) -> PyTree:
        """The initial non-trainable state (``None`` for layers that keep none), on
        ``device`` if given."""
        return None

    def apply(self, params: Params, x: Array, *args: Any, **kwargs: Any) -> Any:
        """The layer's output for input ``x``."""
        raise NotImplementedError(f"{type(self).__name__}.apply")

    def __call__(self, *args: Any, **kwargs: Any) -> NoReturn:
        """Refused: a layer holds no parameters, so it cannot be called like a function."""
        make = "params = layer.init(key)"
        if self.stateful:
            make += " and state = layer.init_state()"
            call = "y, state = layer.apply(params, x, state, train=True)"
        elif self.stochastic:
            call = "y = layer.apply(params, x, key=key, train=True)"
        else:
            call = "y = layer.apply(params, x)"
        raise TypeError(f"{type(self).__name__} is a configuration, not a function: its "
                        f"parameters live outside it. Make them once with {make} (key = "
                        f"functrans.random.key(0)), then call {call}")

    def _forward(self, params: Params, x: Array, state: PyTree, key: Key | None,
                 train: bool) -> tuple[Array, PyTree]:
        """One calling convention for every layer, used by [`Sequential`][functrans.nn.Sequential]."""
        if self.stateful:
            return self.apply(params, x, state, train=train)
        if self.stochastic:
            return self.apply(params, x, key=key, train=train), state
        return self.apply(params, x), state


def _require_dict(layer: str, params: Any, made_by: str = "init(key)") -> None:
    if not isinstance(params, Mapping):
        hint = (": a Sequential's params are a list with one dict per layer, params[i] for "
                "layer i" if isinstance(params, (list, tuple)) else "")
        raise TypeError(f"{layer}: params must be the dict this layer's {made_by} made, got "
                        f"{type(params).__name__}{hint}")


def check_param_shapes(layer: str, params: Any, expected: dict[str, tuple],
                       made_by: str = "init(key)", required: tuple[str, ...] = ()) -> None:
    """Refuse an entry of ``params`` whose shape is not the one the layer's ``made_by`` makes
    (``expected``, by name; absent names are skipped): broadcasting would otherwise apply a
    weight of shape ``(1,)`` to every feature without a word. Shape tuples only: cheap. A name
    of ``required`` that ``params`` lacks is refused too, naming what it holds."""
    _require_dict(layer, params, made_by)
    if required:
        for name in required:
            if name not in params:
                raise errors.TreeStructureError(
                    f"{layer}: params has no {name!r} (it holds {sorted(map(str, params))}); "
                    f"pass the dict this layer's {made_by} made")
    for name, shape in expected.items():
        value = params.get(name) if isinstance(params, Mapping) else None
        if value is not None and tuple(fnp.shape(value)) != shape:
            kind = "parameter" if made_by == "init(key)" else "entry"
            raise ValueError(f"{layer}: {kind} {name!r} has shape {tuple(fnp.shape(value))}, but this "
                             f"layer's {made_by} makes it {shape}; pass what its {made_by} made "
                             f"(or match the layer's sizes to them)")


def check_param_names(layer: str, params: Any, names: Collection[str], remedy: str = "") -> None:
    """Refuse ``params`` (a dict) unless its entries are exactly ``names``, what the layer's
    ``init(key)`` makes for its configuration: a misspelt ``"biass"`` was ignored and the
    layer ran without a bias, and so did a ``Linear(bias=True)`` given no ``"bias"``.
    ``remedy`` adds a fix for a missing entry (such as ``bias=False``)."""
    _require_dict(layer, params)
    held = set(map(str, params))
    extra, missing = sorted(held - set(names)), sorted(set(names) - held)
    if not (extra or missing):
        return
    problems = []
    if missing:
        problems.append(f"has no {', '.join(map(repr, missing))}")
    if extra:
        problems.append(f"holds {', '.join(map(repr, extra))}, which it does not use")
    fix = f" ({remedy})" if missing and remedy else ""
    raise errors.TreeStructureError(
        f"{layer}: params {' and '.join(problems)}; this layer's init(key) makes "
        f"{sorted(names)}: pass the dict it made{fix}")


def _is_layer(obj: Any) -> bool:
    return hasattr(obj, "init") and hasattr(obj, "apply")


@dataclasses.dataclass(frozen=True, init=False)
class Sequential(Layer):
    """Layers (or plain functions such as ``nn.relu``) applied one after another, PyTorch's
    ``nn.Sequential``.

    Params are a list with one entry per layer (``{}`` for functions and parameterless
    layers). If any layer is stateful (batch norm), ``init_state()`` gives a list of states
    and ``apply(params, x, state, train=...)`` returns ``(y, new_state)``; otherwise ``apply``
    returns ``y``. Stochastic layers (dropout) draw from ``key``, folded with their position.
    For any other topology, write a Python function of several layers' params.

    Args:
        *layers: Layers, or functions of one array.

    Example:
        >>> import numpy as np
        >>> from functrans import nn, random
        >>> model = nn.Sequential(nn.Linear(4, 8), nn.relu, nn.Linear(8, 2))
        >>> params = model.init(random.key(0))
        >>> len(params), params[1]
        (3, {})
        >>> model.apply(params, np.ones((5, 4))).shape
        (5, 2)
    """

    layers: tuple

    def __init__(self, *layers: Any) -> None:
        for i, layer in enumerate(layers):
            if not (_is_layer(layer) or callable(layer)):
                raise TypeError(f"Sequential: item {i} ({type(layer).__name__}) is neither a "
                                f"layer (init/apply) nor a function")
        object.__setattr__(self, "layers", tuple(layers))

    @property
    def stateful(self) -> bool:  # type: ignore[override]
        """Whether any layer keeps state (then ``apply`` takes and returns it)."""
        return any(_is_layer(layer) and getattr(layer, "stateful", False) for layer in self.layers)

    @property
    def stochastic(self) -> bool:  # type: ignore[override]
        """Whether any layer draws random numbers in training (then ``apply`` needs ``key``)."""
        return any(_is_layer(layer) and getattr(layer, "stochastic", False)
                   for layer in self.layers)

    def init(self, key: Key) -> list:
        """A list of the layers' params (``{}`` for functions)."""
        keys = random.split(key, max(len(self.layers), 1))
        return [layer.init(k) if _is_layer(layer) else {} for layer, k in zip(self.layers, keys)]

    def init_state(self, device: str | None = None) -> list:
        """A list of the layers' states (``None`` for stateless ones), on ``device`` if given."""
        return [layer.init_state(device) if _is_layer(layer) and getattr(layer, "stateful", False)
                else None for layer in self.layers]

    def apply(self, params: list, x: Array, state: list | None = None, *,
              key: Key | None = None, train: bool = True) -> Any:
        """Run the layers in order.

        Args:
            params: From ``init``.
            x: The input of the first layer.
            state: From ``init_state`` or a previous call (stateful models only).
            key: Random key for stochastic layers in training.
            train: Training mode (dropout active, batch statistics) or evaluation.

        Returns:
            ``y``, or ``(y, new_state)`` for a stateful model.
        """
        if len(params) != len(self.layers):
            raise ValueError(f"Sequential: got params for {len(params)} layers, the model has "
                             f"{len(self.layers)}; make them with this model's init")
        stateful = self.stateful
        if stateful and state is None:
            raise ValueError("Sequential: this model has stateful layers (batch norm): pass "
                             "state=model.init_state() and use the returned (y, new_state)")
        states = list(state) if state is not None else [None] * len(self.layers)
        for i, layer in enumerate(self.layers):
            if not _is_layer(layer):
                x = layer(x)
                continue
            sub_key = None
            if key is not None and getattr(layer, "stochastic", False):
                sub_key = random.fold_in(key, i)
            x, states[i] = layer._forward(params[i], x, states[i], sub_key, train) \
                if isinstance(layer, Layer) else (layer.apply(params[i], x), states[i])
        return (x, states) if stateful else x

    def _forward(self, params: Params, x: Array, state: PyTree, key: Key | None,
                 train: bool) -> tuple[Array, PyTree]:
        # A nested Sequential may be both stateful and stochastic: it takes the state and the key.
        out = self.apply(params, x, state, key=key, train=train)
        return out if self.stateful else (out, state)
