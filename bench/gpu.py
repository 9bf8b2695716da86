"""W2 on the GPU: one value_and_grad + SGD step of the bench/run.py MLP (784-512-512-10,
batch 128, float32) with CuPy arrays on the GPU, against the same step with NumPy arrays on
the CPU (and against the hand-written CuPy step, for functrans' own overhead there).

    python bench/gpu.py

Needs CuPy and an NVIDIA GPU (pip install "functrans[gpu]"); without them it says what is
missing and exits 0. GPU kernels run asynchronously, so each timed call ends by waiting for
the device (a synchronisation the training loop itself never needs).
"""
from __future__ import annotations

import os
import sys
import timeit

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import functrans as ft  # noqa: E402
from bench.run import _by_hand_step, _mlp_params, _sgd_step  # noqa: E402

SIZES, BATCH, DTYPE = (784, 512, 512, 10), 128, np.float32


def _gpu_or_reason():
    try:
        import cupy
    except ImportError:
        return None, "CuPy is not installed (pip install 'functrans[gpu]')"
    try:
        if cupy.cuda.runtime.getDeviceCount() == 0:
            return None, "CuPy finds no GPU"
    except Exception as e:  # no driver
        return None, f"no usable CUDA driver ({type(e).__name__}: {e})"
    return cupy, None


def _best(fn, sync=lambda: None, repeat=7):
    def call():
        fn()
        sync()

    timer = timeit.Timer(call)
    number, _ = timer.autorange()
    return min(timer.repeat(repeat=repeat, number=number)) / number


def main() -> int:
    cupy, reason = _gpu_or_reason()
    if cupy is None:
        print(f"bench/gpu.py: skipped, {reason}.")
        return 0
    rng = np.random.default_rng(0)
    params = _mlp_params(SIZES, DTYPE, rng)
    x = rng.standard_normal((BATCH, SIZES[0])).astype(DTYPE)
    y = np.eye(SIZES[-1], dtype=DTYPE)[rng.integers(0, SIZES[-1], BATCH)]
    gpu_params, gpu_x, gpu_y = ft.device_put((params, x, y), "gpu")
    sync = cupy.cuda.get_current_stream().synchronize

    new_cpu, loss_cpu = _sgd_step(params, x, y)
    new_gpu, loss_gpu = _sgd_step(gpu_params, gpu_x, gpu_y)
    assert isinstance(new_gpu[0]["w"], cupy.ndarray)
    assert np.allclose(float(loss_gpu), float(loss_cpu), rtol=1e-4)

    cpu = _best(lambda: _sgd_step(params, x, y))
    gpu = _best(lambda: _sgd_step(gpu_params, gpu_x, gpu_y), sync)
    by_hand = _best(lambda: _by_hand_step(gpu_params, gpu_x, gpu_y), sync)
    name = f"W2 MLP {'-'.join(map(str, SIZES))} batch {BATCH} float32"
    print(f"{name}: functrans CuPy {gpu * 1e3:.3f} ms, functrans NumPy {cpu * 1e3:.3f} ms "
          f"(GPU speed-up {cpu / gpu:.1f}x); hand-written CuPy {by_hand * 1e3:.3f} ms "
          f"(functrans/hand {gpu / by_hand:.2f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
