"""functrans.distributed on real processes: scripts under ``scripts/`` launched with mpiexec on
2 and 3 ranks (3 oversubscribes a 2-core machine), each launch bounded by a 60 s guard.

Skipped with the reason where mpiexec or mpi4py is absent; ``FUNCTRANS_REQUIRE_MPI=1`` turns the
skip into a failure (CI sets it).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

SCRIPTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "scripts")
GUARD_SECONDS = 60  # a bound on a hang, not a timing assertion
CHECKS = ("all_reduce", "large_leaves", "debug_timeout_paths", "broadcast", "all_gather",
          "reduce_scatter", "device_arrays", "mismatched_tree",
          "data_parallel_gradient", "replicated_after_20_steps", "sampler",
          "differentiable_collectives", "jit_keeps_collectives", "checkpoint")


def _mpiexec() -> str:
    """The mpiexec beside this Python (the ``mpich`` wheel installs it there), else on PATH."""
    beside = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    found = beside if os.path.exists(beside) else shutil.which("mpiexec")
    reason = None
    if found is None:
        reason = "mpiexec not found (pip install -e '.[mpi]' installs mpich's)"
    else:
        try:
            import mpi4py  # noqa: F401
        except ImportError:
            reason = "mpi4py is not installed (pip install -e '.[mpi]')"
    if reason is not None:
        if os.environ.get("FUNCTRANS_REQUIRE_MPI") == "1":
            pytest.fail(f"FUNCTRANS_REQUIRE_MPI=1 but {reason}")
        pytest.skip(reason)
    return found


def _launch(n: int, script: str, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    return subprocess.run([_mpiexec(), "-n", str(n), sys.executable, os.path.join(SCRIPTS, script),
                           *args], capture_output=True, text=True, timeout=GUARD_SECONDS, env=env)


@pytest.mark.parametrize("n", [2, 3])
def test_collectives_data_parallel_and_gradients(n):
    done = _launch(n, "collectives_check.py")
    passed = [line.split()[1] for line in done.stdout.splitlines() if line.startswith("OK ")]
    assert done.returncode == 0 and list(CHECKS) == passed, (
        f"mpiexec -n {n}: exit {done.returncode}\nstdout:\n{done.stdout}\nstderr:\n{done.stderr}")


def test_a_raising_rank_aborts_the_job_with_its_message():
    done = _launch(2, "raising_rank.py", "raise")
    assert done.returncode != 0
    assert "deliberate failure on rank 1" in done.stderr, done.stderr
    assert "rank 1 raised; aborting all 2 processes" in done.stderr, done.stderr


def test_a_missing_rank_is_named_by_the_debug_timeout():
    done = _launch(2, "raising_rank.py", "stuck")
    assert done.returncode != 0
    assert "rank 0 of 2: all_reduce" in done.stderr, done.stderr
    assert "did not complete within the debug timeout of 2.0 s" in done.stderr, done.stderr


def test_digits_data_parallel_example_on_two_ranks():
    pytest.importorskip("sklearn")
    example = os.path.join(os.path.dirname(os.path.dirname(SCRIPTS)), "..", "examples",
                           "digits_data_parallel.py")
    done = subprocess.run([_mpiexec(), "-n", "2", sys.executable, os.path.abspath(example),
                           "--fast", "--no-progress"],
                          capture_output=True, text=True, timeout=GUARD_SECONDS,
                          env=dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1"))
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stdout.splitlines() if line.startswith("test accuracy")]
    assert len(lines) == 1, done.stdout  # printed by rank 0 only
    assert "2 ranks" in lines[0] and float(lines[0].split()[2].rstrip("%")) > 90, lines[0]
    assert done.stdout.count("epoch 3/3") == 1  # one progress display, rank 0's
