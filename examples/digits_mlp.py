"""Train a multilayer perceptron on scikit-learn's handwritten digits with Adam.

A two-layer network (64 -> 128 -> 10, ReLU) reaches 97.5-98.5% accuracy (depending on the seed) on the held-out
quarter of the data in a few seconds. Everything is a pure function: the model's params are a
list of dicts of arrays, one training step is ``value_and_grad`` of the loss followed by the
optimizer's ``update``, and nothing is mutated. ``ft.jit`` records the step once and replays
it, which halves the training time here.

Run: python examples/digits_mlp.py            (pip install -e '.[examples]' first for
     python examples/digits_mlp.py --fast      the data, the progress bar and the plot)
"""
from __future__ import annotations

import os
import sys
from collections.abc import Sequence

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import functrans as ft
from functrans import nn, optim, random

from _common import load_digits_split, minibatches, parse_args, progress, save_loss_plot

MODEL = nn.Sequential(nn.Linear(64, 128), nn.relu, nn.Linear(128, 10))


def loss_fn(params, x, y):
    """Mean cross entropy of the model's logits against integer labels."""
    return nn.cross_entropy(MODEL.apply(params, x), y)


def accuracy(params, x, y) -> float:
    return float(np.mean(np.argmax(MODEL.apply(params, x), axis=1) == y))


def main(argv: Sequence[str] | None = None) -> dict:
    args = parse_args(__doc__.splitlines()[0], argv, epochs=40, fast_epochs=3,
                      plot="digits_mlp_loss.png")
    x_train, x_test, y_train, y_test = load_digits_split(args.seed)
    # Standardise each pixel with the training set's statistics (+0.1 keeps the always-blank
    # border pixels from being divided by zero).
    mean, scale = x_train.mean(axis=0), x_train.std(axis=0) + 0.1
    x_train, x_test = (x_train - mean) / scale, (x_test - mean) / scale
    key_init, key_data = random.split(random.key(args.seed))
    params = MODEL.init(key_init)
    opt = optim.adam(1e-3)
    opt_state = opt.init(params)
    step_grad = ft.value_and_grad(loss_fn)

    @ft.jit  # staged on the first batch (and on the smaller last one), then replayed
    def train_step(params, opt_state, x, y):
        loss, grads = step_grad(params, x, y)
        updates, opt_state = opt.update(grads, opt_state, params)
        return optim.apply_updates(params, updates), opt_state, loss

    train_losses, test_losses = [], []
    bar = progress(range(args.epochs), args.epochs, "epoch", not args.no_progress)
    for epoch in bar:
        losses = []
        for idx in minibatches(random.fold_in(key_data, epoch), len(x_train), 32):
            params, opt_state, loss = train_step(params, opt_state, x_train[idx], y_train[idx])
            losses.append(float(loss))
        train_losses.append(float(np.mean(losses)))
        test_losses.append(float(loss_fn(params, x_test, y_test)))
        bar.set_postfix(loss=f"{train_losses[-1]:.4f}", test_loss=f"{test_losses[-1]:.4f}")
    acc = accuracy(params, x_test, y_test)
    print(f"test accuracy: {acc:.2%} ({len(y_test)} digits, {opt_state.count} Adam steps)")
    plot = save_loss_plot({"train": train_losses, "test": test_losses}, args.plot,
                          "digits MLP (functrans)")
    if plot:
        print(f"loss curve: {plot}")
    return {"accuracy": acc, "train_losses": train_losses, "test_losses": test_losses,
            "plot": plot, "params": params}


if __name__ == "__main__":
    main()
