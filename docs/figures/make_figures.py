"""Draw the documentation's computation-graph figures with functrans.viz.

Run from the repository root:  python docs/figures/make_figures.py
It rewrites the SVG files next to this script. The drawings are deterministic, and
tests/test_docs.py fails when a committed figure differs from what this script draws, so
rerun it (and commit the SVGs) after changing a figure or the primitives it shows.

The loss curves come from the examples themselves, which write them to the current directory
(a minute or so each on one core):
    pip install -e ".[examples]"
    python examples/digits_mlp.py --no-progress      # digits_mlp_loss.png
    python examples/digits_cnn.py --no-progress      # digits_cnn_loss.png
    python examples/sequence_rnn.py --no-progress    # sequence_rnn_loss.png
    cp digits_mlp_loss.png digits_cnn_loss.png sequence_rnn_loss.png docs/figures/
"""
from __future__ import annotations

import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

import numpy as np  # noqa: E402

import functrans as ft  # noqa: E402
import functrans.numpy as fnp  # noqa: E402
from functrans import nn, random, viz  # noqa: E402


def poly(x):
    return x**2 + 3 * x + 1


LAYER = nn.Linear(1, 1)


def layer_loss(params, x):
    """The seeds' linear layer with a squared error, exactly as in docs/pytorch.md."""
    return fnp.sum((LAYER.apply(params, x) - 2.0) ** 2)


PARAMS = LAYER.init(random.key(0))
X = np.ones((1, 1))


def figures() -> dict[str, str]:
    """File name -> SVG text of every figure."""
    return {
        "poly_forward.svg": viz.to_svg(poly, 2.0, title="y = x**2 + 3*x + 1"),
        "poly_grad.svg": viz.to_svg(ft.grad(poly), 2.0, title="grad(y): forward, then backward"),
        "linear_forward.svg": viz.to_svg(layer_loss, PARAMS, X, title="forward: the loss"),
        "linear_backward.svg": viz.to_svg(ft.grad(layer_loss, argnums=(0, 1)), PARAMS, X,
                                          title="grad(loss, argnums=(0, 1)): forward + backward"),
    }


if __name__ == "__main__":
    for name, svg in figures().items():
        (HERE / name).write_text(svg)
        print("wrote", HERE / name)
