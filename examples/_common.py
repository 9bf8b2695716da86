"""Helpers shared by the training examples: the digits data, mini-batches, a progress bar
that falls back to plain prints without tqdm, and a loss plot that is skipped without
matplotlib. Not part of the functrans API."""
from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable, Iterator, Sequence

import numpy as np

from functrans import random

FAST_ENV = "FUNCTRANS_EXAMPLES_FAST"


def parse_args(description: str, argv: Sequence[str] | None, epochs: int,
               fast_epochs: int, plot: str,
               parser: argparse.ArgumentParser | None = None) -> argparse.Namespace:
    """The options every training example takes; ``--fast`` (or the environment variable
    FUNCTRANS_EXAMPLES_FAST=1) picks a quick configuration for tests. Pass ``parser`` to add
    options of your own first."""
    parser = parser or argparse.ArgumentParser(description=description)
    parser.add_argument("--fast", action="store_true",
                        help=f"a quick run for tests (also: {FAST_ENV}=1)")
    parser.add_argument("--epochs", type=int, default=None,
                        help=f"training epochs (default {epochs}; {fast_epochs} with --fast)")
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    parser.add_argument("--plot", default=plot,
                        help="PNG file for the loss curve ('' for none)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    args.fast = args.fast or os.environ.get(FAST_ENV, "") not in ("", "0")
    if args.epochs is None:
        args.epochs = fast_epochs if args.fast else epochs
    return args


def load_digits_split(seed: int = 0, test_fraction: float = 0.25):
    """scikit-learn's 8x8 handwritten digits (shipped with it, no download), scaled to
    [0, 1] and split into a stratified train and test set."""
    try:
        from sklearn.datasets import load_digits
        from sklearn.model_selection import train_test_split
    except ImportError:
        sys.exit("This example needs scikit-learn: pip install -e '.[examples]' in the functrans clone")
    x, y = load_digits(return_X_y=True)
    x = x.astype(np.float64) / 16.0
    return train_test_split(x, y, test_size=test_fraction, random_state=seed, stratify=y)


def minibatches(key, n: int, batch_size: int) -> Iterator[np.ndarray]:
    """Index arrays of a random permutation of ``range(n)``, ``batch_size`` at a time."""
    order = np.asarray(random.permutation(key, n))
    for start in range(0, n, batch_size):
        yield order[start:start + batch_size]


class _PlainProgress:
    """What the examples use of tqdm, printed as plain lines (about twenty per run)."""

    def __init__(self, iterable: Iterable, total: int, desc: str):
        self.iterable, self.total, self.desc = iterable, total, desc
        self.postfix: dict = {}

    def __iter__(self):
        every = max(1, -(-self.total // 20))  # about 20 lines, whatever the length
        for i, item in enumerate(self.iterable):
            yield item
            if (i + 1) % every == 0 or i + 1 == self.total:
                fields = " ".join(f"{k}={v}" for k, v in self.postfix.items())
                print(f"{self.desc} {i + 1}/{self.total} {fields}", flush=True)

    def set_postfix(self, **fields) -> None:
        self.postfix = fields


def progress(iterable: Iterable, total: int, desc: str, enabled: bool = True):
    """A tqdm progress bar if tqdm is installed, else plain per-epoch lines."""
    if enabled:
        try:
            from tqdm.auto import tqdm

            return tqdm(iterable, total=total, desc=desc)
        except ImportError:
            pass
    return _PlainProgress(iterable, total, desc)


def save_loss_plot(series: dict, path: str, title: str) -> str | None:
    """Plot each named loss curve (one value per step or epoch) to a PNG; returns the path,
    or None (with a note) when matplotlib is missing or no path is given."""
    if not path:
        return None
    try:
        import matplotlib

        matplotlib.use("Agg")  # no display needed
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no plot (pip install -e '.[examples]' in the functrans clone)")
        return None
    fig, ax = plt.subplots(figsize=(6, 4))
    for label, values in series.items():
        ax.plot(np.arange(1, len(values) + 1), values, label=label)
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.set_yscale("log")
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
