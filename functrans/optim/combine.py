"""Combining transformations: [`chain`][functrans.optim.chain] in sequence, [`masked`][functrans.optim.masked]
on part of the
params, [`freeze`][functrans.optim.freeze] to hold part of the params fixed.

Example:
    >>> import numpy as np
    >>> from functrans import optim
    >>> opt = optim.chain(optim.clip(0.5), optim.sgd(1.0))
    >>> updates, state = opt.update(np.array([2.0, -0.1]), opt.init(np.zeros(2)))
    >>> updates
    array([-0.5,  0.1])
"""
from __future__ import annotations

import dataclasses
from typing import Any, ClassVar, NamedTuple

from functrans import tree
from functrans.errors import TreeStructureError
from functrans.optim.base import (
    GradientTransformation,
    Mask,
    _as_transformation,
    _mask_leaves,
    _Transformation,
    _update_with,
)
from functrans.optim.transform import set_to_zero
from functrans.typing import OptState, Params, Updates

__all__ = ["MaskedState", "chain", "freeze", "masked"]


@dataclasses.dataclass(frozen=True)
class _Chain(_Transformation):
    name: ClassVar[str] = "chain"
    state_type: ClassVar[type] = tuple
    extra_args: ClassVar[bool] = True

    transforms: tuple[GradientTransformation, ...]

    def init(self, params: Params) -> tuple:
        return tuple(t.init(params) for t in self.transforms)

    def _update(self, grads: Updates, state: tuple, params: Params | None,
                **extra_args: Any) -> tuple[Updates, tuple]:
        if len(state) != len(self.transforms):
            raise ValueError(f"functrans.optim.chain: the state has {len(state)} parts for "
                             f"{len(self.transforms)} transformations; make it with this "
                             f"chain's init")
        new_state = []
        for t, s in zip(self.transforms, state):
            grads, s = _update_with(t, grads, s, params, extra_args)
            new_state.append(s)
        return grads, tuple(new_state)



def chain(*transforms: GradientTransformation) -> GradientTransformation:
    """Apply transformations one after another; the state is the tuple of their states.

    Args:
        *transforms: Gradient transformations, applied left to right.

    Returns:
        A [`GradientTransformation`][functrans.optim.GradientTransformation].

    Raises:
        TypeError: an argument is not a ``GradientTransformation``.

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> opt = optim.chain(optim.add_decayed_weights(0.1), optim.sgd(1.0))
        >>> params = np.array([1.0])
        >>> opt.update(np.array([0.0]), opt.init(params), params)[0]
        array([-0.1])
    """
    transforms = tuple(_as_transformation(t) for t in transforms)
    for i, t in enumerate(transforms):
        if not isinstance(t, GradientTransformation):
            raise TypeError(f"functrans.optim.chain: argument {i} is a {type(t).__name__}, not a "
                            f"GradientTransformation (did you pass a schedule or a function "
                            f"instead of e.g. optim.sgd(...)?)")
    return _Chain(tuple(transforms)).transformation()


class MaskedState(NamedTuple):
    """State of [`masked`][functrans.optim.masked]: the inner transformation's state, over the selected leaves
    (held as a flat list).

    Attributes:
        inner_state: The wrapped transformation's state.

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> opt = optim.masked(optim.sgd(0.1, momentum=0.9), {"a": True, "b": False})
        >>> opt.init({"a": np.zeros(1), "b": np.zeros(2)}).inner_state.momentum
        [array([0.])]
    """

    inner_state: OptState


@dataclasses.dataclass(frozen=True)
class _Masked(_Transformation):
    name: ClassVar[str] = "masked"
    state_type: ClassVar[type] = MaskedState
    extra_args: ClassVar[bool] = True

    inner: GradientTransformation
    mask: Mask

    def init(self, params: Params) -> MaskedState:
        chosen = _mask_leaves(self.mask, params, self.name)
        leaves = tree.leaves(params)
        return MaskedState(self.inner.init([p for p, c in zip(leaves, chosen) if c]))

    def _update(self, grads: Updates, state: MaskedState, params: Params | None,
                **extra_args: Any) -> tuple[Updates, MaskedState]:
        chosen = _mask_leaves(self.mask, grads, self.name)
        g, treedef = tree.flatten(grads)
        sub_params = None
        if params is not None:
            sub_params = [p for p, c in zip(tree.leaves(params), chosen) if c]
        try:
            sub, inner_state = _update_with(self.inner, [x for x, c in zip(g, chosen) if c],
                                            state.inner_state, sub_params, extra_args)
        except TreeStructureError as exc:
            raise _inner_error(self.name, exc, grads, chosen) from exc
        it = iter(sub)
        out = [next(it) if c else x for x, c in zip(g, chosen)]
        return treedef.unflatten(out), MaskedState(inner_state)


class _Freeze(_Masked):
    name: ClassVar[str] = "freeze"


def _inner_error(fn: str, exc: TreeStructureError, grads: Updates,
                 chosen: list[bool]) -> TreeStructureError:
    """The inner transformation's error, with the params' key paths of the leaves it sees
    (as a list, so its message names them by position)."""
    paths = [tree.keystr(path) for (path, _), c in zip(tree.flatten_with_path(grads)[0], chosen)
             if c]
    shown = ", ".join(f"[{i}] is {path}" for i, path in enumerate(paths[:8]))
    more = ", ..." if len(paths) > 8 else ""
    return TreeStructureError(f"functrans.optim.{fn}: {str(exc).splitlines()[0]} (the inner "
                              f"transformation sees the chosen leaves as a list: {shown}{more})")


def masked(inner: GradientTransformation, mask: Mask) -> GradientTransformation:
    """Apply ``inner`` only to the leaves where ``mask`` is True; the other updates pass
    through unchanged (use [`freeze`][functrans.optim.freeze] to hold parameters fixed instead).

    Args:
        inner: The transformation to apply to the selected leaves. It sees them as a flat
            list, in the params' leaf order.
        mask: A pytree of bools with the params' structure, or a prefix of it (``{"encoder":
            True, "head": False}`` covers every leaf below each key), or a function
            ``params -> mask``.

    Returns:
        A [`GradientTransformation`][functrans.optim.GradientTransformation] whose state is a
        [`MaskedState`][functrans.optim.MaskedState].

    Raises:
        ValueError: (at ``init``/``update``) the mask has no entry for some parameter.

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> params = {"w": np.array([10.0]), "b": np.array([10.0])}
        >>> decay_w = optim.masked(optim.add_decayed_weights(0.1), {"w": True, "b": False})
        >>> opt = optim.chain(decay_w, optim.sgd(1.0))
        >>> grads = {"w": np.array([0.0]), "b": np.array([0.0])}
        >>> opt.update(grads, opt.init(params), params)[0]
        {'b': array([-0.]), 'w': array([-1.])}
    """
    inner = _as_transformation(inner)
    if not isinstance(inner, GradientTransformation):
        raise TypeError(f"functrans.optim.masked: inner must be a GradientTransformation, got "
                        f"{type(inner).__name__}")
    return _Masked(inner, mask).transformation()


def freeze(mask: Mask) -> GradientTransformation:
    """Zero the updates of the leaves where ``mask`` is True, so those parameters stay fixed.

    Put it last in a [`chain`][functrans.optim.chain], after the optimizer, so that nothing (momentum, weight
    decay) can move a frozen parameter.

    Args:
        mask: Like [`masked`][functrans.optim.masked]'s: True marks a frozen leaf (or subtree).

    Returns:
        A [`GradientTransformation`][functrans.optim.GradientTransformation].

    Example:
        >>> import numpy as np
        >>> from functrans import optim
        >>> params = {"encoder": {"w": np.ones(2)}, "head": np.ones(1)}
        >>> opt = optim.chain(optim.adam(0.1), optim.freeze({"encoder": True, "head": False}))
        >>> grads = {"encoder": {"w": np.ones(2)}, "head": np.ones(1)}
        >>> updates, _ = opt.update(grads, opt.init(params), params)
        >>> updates["encoder"]["w"], np.round(updates["head"], 6)
        (array([0., 0.]), array([-0.1]))
    """
    return _Freeze(set_to_zero(), mask).transformation()
