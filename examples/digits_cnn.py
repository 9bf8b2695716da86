"""Train a small convolutional network on scikit-learn's 8x8 handwritten digits.

Two 3x3 convolutions with ReLU and 2x2 max pooling, then two linear layers: about 98-99% test
accuracy in about 30 seconds on one CPU core. Convolutions in functrans are built from
slices of the padded input and one matrix product (im2col), in both the forward and the
backward pass. Shapes follow PyTorch: images are (N, C, H, W).

Run: python examples/digits_cnn.py            (pip install -e '.[examples]' first)
     python examples/digits_cnn.py --fast
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

MODEL = nn.Sequential(
    nn.Conv2d(1, 16, kernel_size=3, padding=1), nn.relu, nn.MaxPool2d(2),   # 16 x 4 x 4
    nn.Conv2d(16, 32, kernel_size=3, padding=1), nn.relu, nn.MaxPool2d(2),  # 32 x 2 x 2
    nn.Flatten(), nn.Linear(32 * 2 * 2, 64), nn.relu, nn.Linear(64, 10),
)


def loss_fn(params, x, y):
    """Mean cross entropy of the logits against integer labels."""
    return nn.cross_entropy(MODEL.apply(params, x), y)


def accuracy(params, x, y, batch_size: int = 500) -> float:
    correct = 0
    for start in range(0, len(x), batch_size):
        logits = MODEL.apply(params, x[start:start + batch_size])
        correct += int(np.sum(np.argmax(logits, axis=1) == y[start:start + batch_size]))
    return correct / len(x)


def main(argv: Sequence[str] | None = None) -> dict:
    args = parse_args(__doc__.splitlines()[0], argv, epochs=20, fast_epochs=1,
                      plot="digits_cnn_loss.png")
    x_train, x_test, y_train, y_test = load_digits_split(args.seed)
    mean, std = x_train.mean(), x_train.std()  # one scale for all pixels keeps the images'
    x_train, x_test = (x_train - mean) / std, (x_test - mean) / std  # spatial structure
    x_train, x_test = x_train.reshape(-1, 1, 8, 8), x_test.reshape(-1, 1, 8, 8)
    key_init, key_data = random.split(random.key(args.seed))
    params = MODEL.init(key_init)
    steps_per_epoch = -(-len(x_train) // 32)
    schedule = optim.schedules.cosine_decay(3e-3, args.epochs * steps_per_epoch, alpha=0.05)
    opt = optim.adam(schedule)
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
        bar.set_postfix(loss=f"{train_losses[-1]:.4f}", test_loss=f"{test_losses[-1]:.4f}",
                        lr=f"{opt_state.learning_rate:.2e}")
    acc = accuracy(params, x_test, y_test)
    print(f"test accuracy: {acc:.2%} ({len(y_test)} digits, {opt_state.count} Adam steps)")
    plot = save_loss_plot({"train": train_losses, "test": test_losses}, args.plot,
                          "digits CNN (functrans)")
    if plot:
        print(f"loss curve: {plot}")
    return {"accuracy": acc, "train_losses": train_losses, "test_losses": test_losses,
            "plot": plot, "params": params}


if __name__ == "__main__":
    main()
