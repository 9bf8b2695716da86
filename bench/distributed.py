"""functrans.distributed: all_reduce throughput against message size compared with mpi4py's raw
``Allreduce`` on the same buffer (target >= 0.9x from 1 MB up), the cross-rank tree check's
latency against raw MPI, and the W2 large training step
(784-512-512-10 tanh MLP, global batch 128, float64) on 1 process against data-parallel on 2,
in alternated rounds of one job.

Run: .venv/bin/python bench/distributed.py [--quick]
(it starts itself under the environment's mpiexec with 2 processes; pip install -e '.[mpi]'
first).
"""
from __future__ import annotations

import os
import subprocess
import sys
import time

import numpy as np

BENCH = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(BENCH))
sys.path.insert(0, BENCH)
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


def _round_time(fn, comm, number: int) -> float:
    """The slowest rank's time per call of ``fn`` over ``number`` calls started together."""
    from mpi4py import MPI
    comm.Barrier()
    t0 = time.perf_counter()
    for _ in range(number):
        fn()
    return comm.allreduce((time.perf_counter() - t0) / number, op=MPI.MAX)


def throughput(quick: bool) -> None:
    """all_reduce against raw ``Allreduce`` of the same semantics: the default call (a new
    result) against ``comm.Allreduce(x, out)`` into an array allocated once, and the call in
    place against ``comm.Allreduce(MPI.IN_PLACE, x)``; the default call against the raw call
    in place (which neither allocates nor keeps ``x``) is printed too."""
    from mpi4py import MPI

    from functrans import distributed as dist
    comm = MPI.COMM_WORLD
    sizes = [1 << 13, 1 << 16, 1 << 20, 1 << 22, 1 << 24] if not quick else [1 << 13, 1 << 20, 1 << 22]
    if comm.rank == 0:
        print(f"all_reduce (sum, float64) on {comm.size} processes against mpi4py's raw Allreduce "
              "of the same semantics (MB/s of the message in the fastest round; ratios: the median "
              "over the alternated rounds of raw time / functrans time in the same round)")
        print("new result: all_reduce(x) (a new array that never aliases x; the cross-rank tree "
              "check) against raw comm.Allreduce(x, out), out allocated once;\nin place: "
              "all_reduce(x, inplace=True) (checked) against raw comm.Allreduce(MPI.IN_PLACE, x);\n"
              "last column: all_reduce(x) against the raw call in place")
        print(f"{'bytes':>10} {'raw MB/s':>9} {'new MB/s':>9} {'new result':>11} "
              f"{'unchecked':>10} {'in place':>9} {'new vs in place':>16}")
    for nbytes in sizes:
        # small integers in a float64 array: sums in place stay exact and far from overflow
        x = np.random.default_rng(comm.rank).integers(-3, 4, size=nbytes // 8).astype(np.float64)
        keep = x.copy()
        out = np.empty_like(x)
        number = max(3, min(400, (1 << 26) // nbytes))  # rounds of some 20-100 ms
        repeat = 5 if quick else 15

        def raw_inplace(x=x):
            comm.Allreduce(MPI.IN_PLACE, x, op=MPI.SUM)

        def reset(x=x, keep=keep):  # between rounds, outside the timed calls
            np.copyto(x, keep)

        calls = {"raw new": lambda x=x, out=out: comm.Allreduce(x, out, op=MPI.SUM),
                 "new": lambda x=x: dist.all_reduce(x),
                 "nocheck": lambda x=x: dist.all_reduce(x, check=False),
                 "raw inplace": raw_inplace,
                 "inplace": lambda x=x: dist.all_reduce(x, inplace=True)}
        times: dict[str, list] = {k: [] for k in calls}
        for _ in range(repeat):  # alternated, so that load on the machine hits all of them
            for k, fn in calls.items():
                times[k].append(_round_time(fn, comm, number))
                reset()
        t = {k: float(np.min(v)) for k, v in times.items()}

        def ratio(ref: str, k: str, times: dict = times) -> float:
            return float(np.median(np.array(times[ref]) / np.array(times[k])))

        if comm.rank == 0:
            print(f"{nbytes:>10} {nbytes / t['raw new'] / 1e6:>9.0f} {nbytes / t['new'] / 1e6:>9.0f} "
                  f"{ratio('raw new', 'new'):>10.2f}x {ratio('raw new', 'nocheck'):>9.2f}x "
                  f"{ratio('raw inplace', 'inplace'):>8.2f}x "
                  f"{ratio('raw inplace', 'new'):>15.2f}x", flush=True)


def tree_check(quick: bool) -> None:
    """The cross-rank tree check alone (``check_same_tree`` on a one-leaf tree, its hash kept)
    against raw MPI's ``Allreduce(MAX)`` of the same four integers, which is what the check
    costs on three or more ranks; on two it is one point-to-point exchange."""
    from mpi4py import MPI

    from functrans.distributed._treecheck import check_same_tree, host_signature_hash
    from functrans.tree import flatten
    comm = MPI.COMM_WORLD
    tree = {"w": np.ones(3)}
    leaves, treedef = flatten(tree)
    mine = host_signature_hash(tree, leaves, treedef)
    seen = np.empty_like(mine)
    p2p, peer = comm.Dup(), (comm.rank + 1) % comm.size
    calls = {"raw": lambda: comm.Allreduce(mine, seen, op=MPI.MAX),
             "raw p2p": lambda: p2p.Sendrecv(mine, peer, 5, seen, MPI.ANY_SOURCE, 5),
             "check": lambda: check_same_tree(tree, "bench", leaves, treedef, mine=mine)}
    times: dict[str, list] = {k: [] for k in calls}
    for _ in range(5 if quick else 15):
        for k, fn in calls.items():
            times[k].append(_round_time(fn, comm, 2000))
    p2p.Free()
    if comm.rank == 0:
        raw, p2p_raw, check = (1e6 * float(np.min(times[k])) for k in ("raw", "raw p2p", "check"))
        print(f"tree check on {comm.size} processes: {check:.2f} us per call (the check, Python "
              f"included); raw MPI on its four integers: Allreduce(MAX) {raw:.2f} us, one "
              f"Sendrecv {p2p_raw:.2f} us")


def _polled_barrier(comm) -> None:
    """A barrier that sleeps while it waits, so a rank standing by leaves its core free."""
    request = comm.Ibarrier()
    while not request.Test():
        time.sleep(1e-3)


def w2_scaling(quick: bool) -> None:
    """The W2 step on one process (rank 0 alone on the full batch, the other ranks asleep)
    against the data-parallel step on all of them (each on its shard), in alternated rounds so
    that a burst of load on the machine hits both."""
    from mpi4py import MPI

    from functrans import distributed as dist
    from functrans import jit, optim, value_and_grad

    from workloads import mlp_data, mlp_loss
    comm = MPI.COMM_WORLD
    sizes = (128, 64, 64, 10) if quick else (784, 512, 512, 10)
    params, x, y = mlp_data(sizes, 128, np.float64)
    k = len(x) // comm.size
    xs, ys = x[comm.rank * k:(comm.rank + 1) * k], y[comm.rank * k:(comm.rank + 1) * k]
    opt = optim.sgd(0.01)
    state = opt.init(params)
    parallel = dist.data_parallel_step(mlp_loss, opt)
    local = jit(value_and_grad(mlp_loss))
    update = jit(lambda p, s, g: (lambda u: (optim.apply_updates(p, u[0]), u[1]))(
        opt.update(g, s, p)))

    def single() -> None:  # what data_parallel_step does in a world of one
        loss, grads = local(params, x, y)
        update(params, state, grads)

    single(), parallel(params, state, xs, ys)
    repeat, number = (5, 5) if quick else (15, 10)
    one, all_ = [], []
    for _ in range(repeat):
        if comm.rank == 0:
            t0 = time.perf_counter()
            for _ in range(number):
                single()
            one.append((time.perf_counter() - t0) / number)
        _polled_barrier(comm)
        all_.append(_round_time(lambda: parallel(params, state, xs, ys), comm, number))
    if comm.rank == 0:
        t1, tn = float(np.min(one)), float(np.min(all_))
        speedup = float(np.median(np.array(one) / np.array(all_)))
        print(f"W2 {'-'.join(map(str, sizes))} global batch 128 float64, step time (fastest of "
              f"{repeat} alternated rounds): 1 process {t1 * 1e3:.2f} ms, data-parallel on "
              f"{comm.size} processes {tn * 1e3:.2f} ms")
        print(f"W2 scaling 1 -> {comm.size} processes (median over the rounds): speedup "
              f"{speedup:.2f}x, efficiency {speedup / comm.size:.0%} "
              f"(os.cpu_count() = {os.cpu_count()})", flush=True)


def main() -> None:
    quick = "--quick" in sys.argv
    if "--worker" in sys.argv:
        throughput(quick)
        tree_check(quick)
        w2_scaling(quick)
        return
    mpiexec = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    args = [mpiexec, "-n", "2", sys.executable, os.path.abspath(__file__), "--worker"]
    args += ["--quick"] if quick else []
    done = subprocess.run(args, capture_output=True, text=True, timeout=1200)
    if done.returncode:
        sys.exit(done.stderr)
    print(done.stdout, end="")


if __name__ == "__main__":
    main()
