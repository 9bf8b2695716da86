"""One training step of the digits MLP and of the digits CNN (examples/): functrans against
the same step written by hand in NumPy (forward, backward and Adam), as a ratio.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/train_step.py

(one BLAS thread; OPENBLAS_CORETYPE slows NumPy on some machines); bench/report.py runs
every benchmark module and writes bench/RESULTS.md.

Both sides start from the same parameters and data (random digits-shaped batches: 8x8 images,
10 classes); before timing, one step of each is checked to give the same loss and the same
new parameters. A step is ``value_and_grad`` of the cross-entropy loss, ``adam.update`` and
``apply_updates``, run eagerly and under ``functrans.jit`` (staged once, replayed). Each figure
is the best of several runs; ``--quick`` is a smoke run. Target for the MLP: <= 1.3x. Then
``clip_by_global_norm`` of the W2 large MLP's gradients against the same clipping by hand.
"""
from __future__ import annotations  # noqa: I001 (_harness before NumPy: it sets the BLAS threads)

import sys
from collections.abc import Sequence

import _harness
import numpy as np
import workloads


def collect(section: _harness.Section, options: _harness.Options) -> None:
    """Time the MLP and CNN steps at two batch sizes (one with ``--quick``)."""
    batches = (8,) if options.quick else (32, 128)
    for build in (workloads.digits_mlp_step, workloads.digits_cnn_step):
        for batch in batches:
            section.add(_harness.measure(build(batch), options))
    for dtype in (np.float32,) if options.quick else (np.float32, np.float64):
        section.add(_harness.measure(workloads.clip_by_global_norm_step(dtype), options))


def main(argv: Sequence[str] | None = None) -> int:
    return _harness.main(collect, __file__, __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
