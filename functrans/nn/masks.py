"""flax.linen's attention-mask helpers: [`make_attention_mask`][functrans.nn.make_attention_mask],
[`make_causal_mask`][functrans.nn.make_causal_mask] and
[`combine_masks`][functrans.nn.combine_masks]. They build masks of shape
``(*batch, 1, T, S)`` (one head axis to broadcast over), 1 where a query may attend to a key,
in flax's float32 by default; ``dtype=bool`` gives the boolean mask that
[`dot_product_attention`][functrans.nn.dot_product_attention] takes."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import functrans.numpy as fnp
from functrans.typing import Array, ArrayLike, DType

__all__ = ["combine_masks", "make_attention_mask", "make_causal_mask"]


def make_attention_mask(query_input: ArrayLike, key_input: ArrayLike,
                        pairwise_fn: Callable[[Any, Any], Any] = fnp.multiply,
                        extra_batch_dims: int = 0, dtype: DType = np.float32) -> Array:
    """The mask ``pairwise_fn(query_input[..., :, None], key_input[..., None, :])`` with a
    head axis of length 1 before its last two axes and ``extra_batch_dims`` more leading
    axes of length 1, cast to ``dtype`` (flax.linen's ``make_attention_mask``).

    ``query_input`` is ``(*batch, T)`` and ``key_input`` ``(*batch, S)``, typically padding
    flags (nonzero = a real token): the result is ``(*batch, 1, T, S)``.

    Example:
        >>> import numpy as np
        >>> from functrans import nn
        >>> real = np.array([[1, 1, 0]])  # one sequence, its last token is padding
        >>> nn.make_attention_mask(real, real)[0, 0]
        array([[1., 1., 0.],
               [1., 1., 0.],
               [0., 0., 0.]], dtype=float32)
    """
    if not isinstance(extra_batch_dims, (int, np.integer)) or extra_batch_dims < 0:
        raise ValueError(f"make_attention_mask: extra_batch_dims must be an int >= 0, got "
                         f"{extra_batch_dims!r}")
    mask = pairwise_fn(fnp.expand_dims(fnp.asarray(query_input), -1),
                       fnp.expand_dims(fnp.asarray(key_input), -2))
    mask = fnp.expand_dims(mask, -3)
    if extra_batch_dims:
        mask = fnp.expand_dims(mask, tuple(range(int(extra_batch_dims))))
    return fnp.astype(mask, dtype)


def make_causal_mask(x: ArrayLike, extra_batch_dims: int = 0, dtype: DType = np.float32) -> Array:
    """The causal mask for a sequence ``x`` of shape ``(*batch, T)``: ``(*batch, 1, T, T)``,
    1 where the key position is at or before the query position (flax.linen's
    ``make_causal_mask``; only the shape of ``x`` is used).

    Example:
        >>> import numpy as np
        >>> from functrans import nn
        >>> nn.make_causal_mask(np.zeros((1, 3)), dtype=bool)[0, 0]
        array([[ True, False, False],
               [ True,  True, False],
               [ True,  True,  True]])
    """
    shape = tuple(fnp.shape(x))
    if not shape:
        raise ValueError("make_causal_mask: x must have a sequence axis (last), got a scalar")
    positions = np.broadcast_to(np.arange(shape[-1]), shape)  # host-metadata: from the shape alone
    return make_attention_mask(positions, positions, fnp.greater_equal, extra_batch_dims, dtype)


def combine_masks(*masks: ArrayLike | None, dtype: DType = np.float32) -> Array | None:
    """The logical AND of the masks that are not ``None`` (all of the same rank), cast to
    ``dtype``; ``None`` when every mask is ``None`` (flax.linen's ``combine_masks``).

    Example:
        >>> import numpy as np
        >>> from functrans import nn
        >>> real = np.array([[1, 1, 0]])
        >>> mask = nn.combine_masks(nn.make_attention_mask(real, real),
        ...                         nn.make_causal_mask(real), None)
        >>> mask[0, 0]
        array([[1., 0., 0.],
               [1., 1., 0.],
               [0., 0., 0.]], dtype=float32)
    """
    given = [fnp.asarray(m) for m in masks if m is not None]
    if not given:
        return None
    ranks = {len(fnp.shape(m)) for m in given}
    if len(ranks) != 1:
        raise ValueError(f"combine_masks: the masks must all have the same rank, got shapes "
                         f"{[tuple(fnp.shape(m)) for m in given]}")
    combined = given[0]
    for other in given[1:]:
        combined = fnp.logical_and(combined, other)
    return fnp.astype(combined, dtype)
