"""W2 on the GPU: one value_and_grad + SGD step of the W2 MLP (784-512-512-10, batch 128,
float32) with CuPy arrays on the GPU, against the hand-written step on the GPU (functrans'
own overhead there) and against functrans with NumPy arrays on the CPU.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/gpu.py

(bench/report.py runs every benchmark module and writes bench/RESULTS.md). Needs CuPy and an
NVIDIA GPU (pip install -e ".[gpu]" in the clone); without them it says what is missing and exits 0.
GPU kernels run asynchronously, so each timed call ends by waiting for the device (a
synchronisation the training loop itself never needs). ``--quick`` is a smoke run.
"""
from __future__ import annotations

import sys
from collections.abc import Sequence

import numpy as np

import functrans as ft

import _harness
import workloads


def gpu_or_reason():
    """CuPy when it finds a GPU, else None and the reason."""
    try:
        import cupy
    except ImportError:
        return None, "CuPy is not installed (pip install -e '.[gpu]')"
    try:
        if cupy.cuda.runtime.getDeviceCount() == 0:
            return None, "CuPy finds no GPU"
    except Exception as e:  # no driver
        return None, f"no usable CUDA driver ({type(e).__name__}: {e})"
    return cupy, None


def collect(section: _harness.Section, options: _harness.Options) -> None:
    """Time the W2 step on the GPU, by hand on the GPU, and with functrans on the CPU."""
    cupy, reason = gpu_or_reason()
    if cupy is None:
        section.note(f"bench/gpu.py: skipped, {reason}.")
        return
    sizes, batch = ((128, 64, 64, 10), 32) if options.quick else ((784, 512, 512, 10), 128)
    params, x, y = workloads.mlp_data(sizes, batch, np.float32)
    gpu_params, gpu_x, gpu_y = ft.device_put((params, x, y), "gpu")
    new_cpu, loss_cpu = workloads.mlp_sgd_step(params, x, y)
    new_gpu, loss_gpu = workloads.mlp_sgd_step(gpu_params, gpu_x, gpu_y)
    assert isinstance(new_gpu[0]["w"], cupy.ndarray)
    assert np.allclose(float(loss_gpu), float(loss_cpu), rtol=1e-4)

    name = f"W2 MLP {'-'.join(map(str, sizes))} batch {batch} float32"
    sync = cupy.cuda.get_current_stream().synchronize
    on_gpu = _harness.measure(_harness.Workload(
        _harness.Row(f"{name}, CuPy on the GPU", reference_name="hand-written CuPy"),
        ours=lambda: workloads.mlp_sgd_step(gpu_params, gpu_x, gpu_y),
        reference=lambda: workloads.mlp_sgd_step_by_hand(gpu_params, gpu_x, gpu_y)), options, sync)
    on_cpu = _harness.measure(_harness.Workload(
        _harness.Row(f"{name}, NumPy on the CPU"),
        ours=lambda: workloads.mlp_sgd_step(params, x, y),
        reference=lambda: workloads.mlp_sgd_step_by_hand(params, x, y)), options)
    section.add(on_gpu)
    section.add(on_cpu)
    section.note(f"GPU speed-up of the functrans step: {on_cpu.ours / on_gpu.ours:.1f}x")


def main(argv: Sequence[str] | None = None) -> int:
    return _harness.main(collect, __file__, __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
