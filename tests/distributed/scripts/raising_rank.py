"""Run under mpiexec -n 2: the last rank raises while the others wait in a collective; the job
must end (aborted) with that rank's message instead of hanging."""
import numpy as np

from functrans import distributed as dist

dist.init()
if dist.rank() == dist.size() - 1:
    raise RuntimeError(f"deliberate failure on rank {dist.rank()}")
dist.all_reduce({"x": np.ones(3)})
