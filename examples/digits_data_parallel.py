"""Train the digits MLP of digits_mlp.py data-parallel over MPI ranks.

Each rank takes an equal shard of every epoch's shuffled training set (``ShardSampler``), computes
the gradient of its part of each minibatch, and ``data_parallel_step`` averages the gradients
over the ranks before the Adam update, so the parameters stay identical on every rank and the
run follows the single-process one: a global minibatch of 32 examples split across the ranks,
the same ~97-98% test accuracy. Rank 0 alone prints and draws the progress bar.

Run: mpiexec -n 2 python examples/digits_data_parallel.py     (pip install -e '.[examples,mpi]')
     mpiexec -n 2 python examples/digits_data_parallel.py --fast
"""
from __future__ import annotations

import os
import sys
from collections.abc import Sequence

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import functrans.numpy as fnp
from functrans import distributed as dist
from functrans import nn, optim, random

from _common import load_digits_split, parse_args, progress

MODEL = nn.Sequential(nn.Linear(64, 128), nn.relu, nn.Linear(128, 10))
GLOBAL_BATCH = 32


def loss_fn(params, x, y):
    """Mean cross entropy of the model's logits against integer labels."""
    return nn.cross_entropy(MODEL.apply(params, x), y)


class _Silent:
    """The progress bar of the ranks other than 0: iterates, shows nothing."""

    def __init__(self, iterable):
        self.iterable = iterable

    def __iter__(self):
        return iter(self.iterable)

    def set_postfix(self, **fields) -> None:
        pass


def main(argv: Sequence[str] | None = None) -> dict:
    args = parse_args(__doc__.splitlines()[0], argv, epochs=40, fast_epochs=3, plot="")
    dist.init()
    x_train, x_test, y_train, y_test = load_digits_split(args.seed)
    mean, scale = x_train.mean(axis=0), x_train.std(axis=0) + 0.1
    x_train, x_test = (x_train - mean) / scale, (x_test - mean) / scale
    params = MODEL.init(random.key(args.seed))  # the same key: the same start on every rank
    params = dist.broadcast(params)               # (and made certain)
    opt = optim.adam(1e-3)
    opt_state = opt.init(params)
    step = dist.data_parallel_step(loss_fn, opt, check_every=100)
    sampler = dist.ShardSampler(len(x_train), seed=args.seed)
    local_batch = max(1, GLOBAL_BATCH // dist.size())

    epochs = range(args.epochs)
    bar = progress(epochs, args.epochs, "epoch", not args.no_progress) if dist.is_main() \
        else _Silent(epochs)
    for epoch in bar:
        shard = sampler.indices(epoch)
        losses = []
        for start in range(0, len(shard), local_batch):
            idx = shard[start:start + local_batch]
            params, opt_state, loss = step(params, opt_state, x_train[idx], y_train[idx])
            losses.append(float(loss))
        bar.set_postfix(loss=f"{np.mean(losses):.4f}")
    dist.check_replicated(params)
    acc = float(np.mean(np.asarray(fnp.argmax(MODEL.apply(params, x_test), axis=1)) == y_test))
    if dist.is_main():
        print(f"test accuracy: {acc:.2%} ({len(y_test)} digits, {dist.size()} ranks, "
              f"{opt_state.count} Adam steps)")
    return {"accuracy": acc, "params": params}


if __name__ == "__main__":
    main()
