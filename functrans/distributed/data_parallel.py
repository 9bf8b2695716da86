"""Data parallelism: a training step whose gradients are averaged over the ranks
(``data_parallel_step``), the check that parameters stay identical on every rank
(``check_replicated``), a sampler that gives each rank its shard of a data set
(``ShardSampler``), and checkpoints written by rank 0 and broadcast on loading.
"""
from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from typing import Any

import numpy as np

from functrans import errors, io, optim
from functrans import tree as ft_tree
from functrans._abstract import shape_of
from functrans.api import jit, value_and_grad
from functrans.backend import to_host
from functrans.distributed import _comm
from functrans.distributed.collectives import all_reduce

__all__ = ["data_parallel_step", "check_replicated", "ShardSampler", "save_checkpoint",
           "load_checkpoint"]


def _leaf_digest(x: Any) -> int:
    host = np.ascontiguousarray(to_host(x) if not np.isscalar(x) else np.asarray(x))
    h = hashlib.blake2b(host.tobytes(), digest_size=8)
    h.update(repr((host.shape, str(host.dtype))).encode())
    return int.from_bytes(h.digest(), "little", signed=True)


def check_replicated(tree: Any, what: str = "parameters") -> None:
    """Raise ``ValueError`` on every rank when ``tree`` is not bit-for-bit the same on all ranks,
    naming the first leaf (in key-path order) that differs and the ranks that hold another
    value than rank 0.

    Example:
        >>> import numpy as np
        >>> check_replicated({"w": np.ones(2)})  # a world of one process: nothing to compare
    """
    c = _comm.comm()
    if c is None or c.Get_size() == 1:
        return
    flat, _ = ft_tree.flatten_with_path(tree)
    mine = np.array([_leaf_digest(x) for _, x in flat], dtype=np.int64)
    everyone = np.empty((c.Get_size(), mine.size), dtype=np.int64)
    if _comm.debug_timeout() is None:
        c.Allgather(mine, everyone)
    else:
        _comm.wait([c.Iallgather(mine, everyone)], f"check_replicated({what})")
    differ = np.nonzero((everyone != everyone[0]).any(axis=0))[0]
    if differ.size:
        i = int(differ[0])
        ranks = [r for r in range(c.Get_size()) if everyone[r, i] != everyone[0, i]]
        raise ValueError(
            f"the {what} diverged between ranks: the leaf at {ft_tree.keystr(flat[i][0]) or '(root)'}"
            f" differs from rank 0's on rank(s) {ranks} ({differ.size} leaves differ in all). "
            "Every rank must start from the same values (broadcast them from rank 0) and apply "
            "the same averaged updates.")


def data_parallel_step(loss_fn: Callable[..., Any], optimizer: Any, *, weighted: bool = False,
                       check_every: int = 0, jit_local: bool = True) -> Callable[..., tuple]:
    """A training step ``step(params, opt_state, *batch) -> (params, opt_state, loss)`` in which
    each rank computes the loss and gradient of ``loss_fn(params, *batch)`` on its own shard of
    the batch, the gradients (and losses) are averaged over the ranks in one packed all-reduce,
    and every rank applies the same optimizer update, so parameters stay identical everywhere.

    ``loss_fn`` must be a mean over the examples of the shard. With equal shards the average of
    the ranks' gradients is the gradient of the full batch; with ``weighted=True`` each rank's
    gradient is weighted by its shard's size (the length of the first batch argument), which
    gives the full batch's gradient for unequal shards too. ``check_every=N`` checks every N
    steps, by hash, that the parameters are the same on all ranks and names the first leaf that
    diverged. The gradient trees are compared across ranks (structure and shapes) on the first
    step and on those checked steps. The local gradient is staged with ``jit`` unless
    ``jit_local=False``.

    Example:
        >>> import numpy as np, functrans.numpy as fnp
        >>> from functrans import optim
        >>> loss = lambda w, x: fnp.mean((x * w - 1.0) ** 2)
        >>> step = data_parallel_step(loss, optim.sgd(0.1))
        >>> w, state, l = step(np.float64(0.0), optim.sgd(0.1).init(np.float64(0.0)), np.ones(4))
        >>> float(w), float(l)
        (0.2, 1.0)
    """
    local = value_and_grad(loss_fn)
    if jit_local:
        local = jit(local)

    def apply(params: Any, opt_state: Any, grads: Any) -> tuple:
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return optim.apply_updates(params, updates), opt_state

    update = jit(apply) if jit_local else apply
    count = [0]

    def step(params: Any, opt_state: Any, *batch: Any) -> tuple:
        loss, grads = local(params, *batch)
        n = _comm.size()
        if n > 1:
            both = (grads, loss)
            if weighted:
                rows = float(shape_of(batch[0])[0]) if batch else 1.0
                scale = rows / float(all_reduce(np.array(rows)))
                both = ft_tree.map(lambda g: g * scale, both)
            # The trees are compared across ranks on the first step and on checked steps: the
            # gradients have the parameters' structure, which later steps keep. The reduced
            # gradients live in all_reduce's kept buffers, free again once the update has
            # consumed them, so every step reduces into memory MPI has already seen.
            verify = count[0] == 0 or bool(check_every and (count[0] + 1) % check_every == 0)
            grads, loss = all_reduce(both, op="sum" if weighted else "mean", check=verify)
        params, opt_state = update(params, opt_state, grads)
        count[0] += 1
        if check_every and count[0] % check_every == 0:
            check_replicated(params)
        return params, opt_state, loss

    return step


class ShardSampler:
    """Each rank's share of the indices ``0 .. num_examples - 1``, reshuffled every epoch from a
    ``seed`` shared by all ranks, in equal shards (rank ``r`` takes the ``r``-th block of the
    epoch's permutation).

    When ``size()`` does not divide ``num_examples``, ``remainder="drop"`` (the default) leaves
    out the last ``num_examples % size()`` indices of the epoch's permutation: with shuffling
    a different few each epoch, so every example counts equally over epochs and the mean
    gradient of a step stays the plain mean of its examples. ``remainder="pad"`` repeats the
    first indices of the permutation to fill the last shards: every example is seen every epoch,
    and the repeated ones count twice in that epoch's mean gradient.

    Example:
        >>> sampler = ShardSampler(10, seed=0)
        >>> sorted(sampler.indices(epoch=0).tolist()) == list(range(10))  # a world of one
        True
    """

    def __init__(self, num_examples: int, *, seed: int = 0, shuffle: bool = True,
                 remainder: str = "drop", rank: int | None = None, size: int | None = None):
        if remainder not in ("drop", "pad"):
            raise ValueError(f"remainder={remainder!r}: choose 'drop' or 'pad'")
        self.num_examples = int(num_examples)
        self.seed = int(seed)
        self.shuffle = shuffle
        self.remainder = remainder
        self.rank = _comm.rank() if rank is None else int(rank)
        self.size = _comm.size() if size is None else int(size)
        if self.remainder == "drop":
            self.shard_size = self.num_examples // self.size
        else:
            self.shard_size = -(-self.num_examples // self.size)

    def __len__(self) -> int:
        return self.shard_size

    def indices(self, epoch: int) -> np.ndarray:
        """This rank's indices for ``epoch`` (the same permutation on every rank)."""
        if self.shuffle:
            order = np.random.default_rng([self.seed, int(epoch)]).permutation(self.num_examples)
        else:
            order = np.arange(self.num_examples)
        need = self.shard_size * self.size
        if need > order.size:
            order = np.concatenate([order, np.resize(order, need - order.size)])
        return order[self.rank * self.shard_size:(self.rank + 1) * self.shard_size]


def save_checkpoint(path: str | os.PathLike, tree: Any) -> None:
    """Save ``tree`` with ``functrans.io.save`` from rank 0 only, then wait at a barrier so no
    rank reads the file before it is complete.

    Example:
        >>> import numpy as np, tempfile, os
        >>> path = os.path.join(tempfile.mkdtemp(), "ckpt.npz")
        >>> save_checkpoint(path, {"w": np.ones(2)})
        >>> load_checkpoint(path)["w"]
        array([1., 1.])
    """
    if _comm.is_main():
        io.save(path, tree)
    _comm.barrier()


def load_checkpoint(path: str | os.PathLike, like: Any = None) -> Any:
    """Load a checkpoint on rank 0 (``functrans.io.load``) and broadcast it to every rank, so
    only one process reads the file.

    Example:
        >>> import numpy as np, tempfile, os
        >>> path = os.path.join(tempfile.mkdtemp(), "ckpt.npz")
        >>> save_checkpoint(path, [np.zeros(3)])
        >>> load_checkpoint(path)[0].shape
        (3,)
    """
    c = _comm.comm()
    if c is None or c.Get_size() == 1:
        return io.load(path, like)
    if _comm.debug_timeout() is not None:  # every rank is here before the unbounded bcast
        _comm.wait([c.Ibarrier()], f"load_checkpoint({os.fspath(path)!r})")
    error = None
    tree = None
    if c.Get_rank() == 0:
        try:
            tree = io.load(path, like)
        except Exception as e:  # every rank must learn that the load failed
            error = f"{type(e).__name__}: {e}"
    error = c.bcast(error, root=0)
    if error is not None:
        raise errors.SaveFormatError(f"load_checkpoint({os.fspath(path)!r}) failed on rank 0: {error}")
    return c.bcast(tree, root=0)
