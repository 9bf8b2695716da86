"""Distributed training over MPI (mpi4py): the process group, collectives on pytrees,
differentiable collectives, data parallelism and checkpoints. Without mpi4py (or without
``mpiexec``) the world has one process and every operation works on it.

Example:
    >>> import numpy as np
    >>> from functrans import distributed as dist
    >>> dist.init()
    >>> dist.all_reduce({"g": np.ones(2)}, op="mean")["g"]
    array([1., 1.])
"""
from functrans.distributed._comm import (
    abort,
    barrier,
    host_staging_count,
    init,
    is_main,
    local_device,
    mpi_available,
    rank,
    size,
)
from functrans.distributed.collectives import (
    DEFAULT_BUCKET_BYTES,
    all_reduce,
    broadcast,
    reduce_scatter,
    set_debug,
)
from functrans.distributed.data_parallel import (
    ShardSampler,
    check_replicated,
    data_parallel_step,
    load_checkpoint,
    save_checkpoint,
)
from functrans.distributed.primitives import all_gather, pmean, psum, pvary

__all__ = [
    "init", "rank", "size", "is_main", "barrier", "local_device", "mpi_available",
    "host_staging_count", "abort", "all_reduce", "broadcast", "all_gather",
    "reduce_scatter", "set_debug", "DEFAULT_BUCKET_BYTES", "psum", "pmean", "pvary",
    "data_parallel_step", "check_replicated", "ShardSampler", "save_checkpoint",
    "load_checkpoint",
]
