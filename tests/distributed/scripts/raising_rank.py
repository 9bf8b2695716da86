"""Run under mpiexec -n 2, in one of two modes.

``raise``: the last rank raises while the others wait in a collective; the job must end
(aborted) with that rank's message instead of hanging. ``stuck``: the last rank never joins the
collective; with the debug timeout the others abort the job with a message naming it.
"""
import sys
import time

import numpy as np

from functrans import distributed as dist

dist.init()
mode = sys.argv[1]
last = dist.rank() == dist.size() - 1
if mode == "raise":
    if last:
        raise RuntimeError(f"deliberate failure on rank {dist.rank()}")
    dist.all_reduce({"x": np.ones(3)})
elif mode == "stuck":
    dist.set_debug(timeout=2.0)
    if last:
        time.sleep(50)  # (ended by the other rank's abort well before the test's guard)
    else:
        dist.all_reduce({"x": np.ones(3)})
