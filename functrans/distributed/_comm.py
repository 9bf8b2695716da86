"""The process group of a distributed run: MPI's world communicator through mpi4py, or a
world of one process when mpi4py is absent or the program was not started by ``mpiexec``.

``init()`` is idempotent and called by every operation that needs the group. Once a world of
more than one process is up, an exception that escapes on one rank prints that rank's message
and aborts the whole job (``MPI_Abort``), so the other ranks never wait forever in a collective
the failed rank will not reach.
"""
from __future__ import annotations

import os
import sys
import time
import traceback
from typing import Any

from functrans import errors

__all__ = ["init", "rank", "size", "is_main", "barrier", "local_device", "mpi_available",
           "host_staging_count", "abort"]

_state: dict[str, Any] = {"comm": None, "mpi": None, "initialized": False, "staged": 0,
                          "hook": None, "timeout": None, "p2p": None}


def _import_mpi() -> Any:
    try:
        from mpi4py import MPI  # optional dependency: the `mpi` extra
    except ImportError:
        return None
    return MPI


def mpi_available() -> bool:
    """Whether mpi4py can be imported (the ``mpi`` extra is installed).

    Example:
        >>> isinstance(mpi_available(), bool)
        True
    """
    return _import_mpi() is not None


def init() -> None:
    """Join the process group (idempotent): MPI's world when mpi4py is installed, else a world
    of one process. In a world of several processes it installs the fault handler that aborts
    the job when an exception escapes on any rank.

    Example:
        >>> init(); init()
        >>> size() >= 1
        True
    """
    if _state["initialized"]:
        return
    mpi = _import_mpi()
    _state["mpi"] = mpi
    if mpi is not None:
        _state["comm"] = mpi.COMM_WORLD
        if mpi.COMM_WORLD.Get_size() > 1:
            _install_abort_hook()
    _state["initialized"] = True


def comm() -> Any:
    """The world communicator (``None`` in a world of one process without MPI)."""
    init()
    return _state["comm"]


def mpi_module() -> Any:
    """mpi4py's ``MPI`` module, or ``None``."""
    init()
    return _state["mpi"]


def require_mpi(what: str) -> Any:
    """The world communicator, or a clear error naming ``what`` needs MPI."""
    c = comm()
    if c is None:
        raise errors.UnsupportedError(
            f"{what} needs MPI, and mpi4py is not installed. Install the extra "
            "(pip install -e '.[mpi]' in the functrans clone) and start the program with mpiexec -n N.")
    return c


def rank() -> int:
    """This process's index in the world, ``0 <= rank() < size()``.

    Example:
        >>> 0 <= rank() < size()
        True
    """
    c = comm()
    return 0 if c is None else c.Get_rank()


def size() -> int:
    """The number of processes in the world (1 without mpi4py or without ``mpiexec``).

    Example:
        >>> size() >= 1
        True
    """
    c = comm()
    return 1 if c is None else c.Get_size()


def is_main() -> bool:
    """Whether this is rank 0, the process that prints, saves and draws progress bars.

    Example:
        >>> is_main() == (rank() == 0)
        True
    """
    return rank() == 0


def barrier() -> None:
    """Wait until every process has reached this call (nothing to wait for in a world of one).

    Example:
        >>> barrier()
    """
    c = comm()
    if c is not None and c.Get_size() > 1:
        if _state["timeout"] is None:
            c.Barrier()
        else:
            wait([c.Ibarrier()], "barrier")


def local_device(num_devices: int | None = None) -> int:
    """The GPU this rank should use when several ranks share a node: its rank among the
    processes of its node, modulo ``num_devices`` (CuPy's device count when not given, 1
    without CuPy).

    Example:
        >>> local_device(num_devices=1)
        0
    """
    if num_devices is None:
        try:
            import cupy  # optional
            num_devices = int(cupy.cuda.runtime.getDeviceCount())
        except Exception:
            num_devices = 1
    c = comm()
    if c is None or c.Get_size() == 1:
        local = 0
    else:
        node = c.Split_type(_state["mpi"].COMM_TYPE_SHARED, key=c.Get_rank())
        local = node.Get_rank()
        node.Free()
    return local % max(int(num_devices), 1)


def host_staging_count() -> int:
    """How many device (CuPy) buffers were copied to host memory for a collective because the
    MPI library is not CUDA-aware (0 with NumPy arrays, or with a CUDA-aware MPI).

    Example:
        >>> host_staging_count() >= 0
        True
    """
    return int(_state["staged"])


def count_staging() -> None:
    _state["staged"] += 1


def cuda_aware() -> bool:
    """Whether mpi4py reports an MPI library that takes device buffers directly (asked once)."""
    if "cuda_aware" not in _state:
        mpi = mpi_module()
        query = getattr(mpi, "Query_cuda_support", None) if mpi is not None else None
        try:
            _state["cuda_aware"] = bool(query()) if query is not None else False
        except Exception:
            _state["cuda_aware"] = False
    return bool(_state["cuda_aware"])


def debug_timeout() -> float | None:
    """The debug timeout of the collectives in seconds (``None``: wait without a bound)."""
    return _state["timeout"]


def set_timeout(timeout: float | None) -> None:
    if timeout is not None and not timeout > 0:
        raise ValueError(f"set_debug: timeout={timeout!r} must be a number of seconds > 0, "
                         "or None to wait without a bound.")
    _state["timeout"] = None if timeout is None else float(timeout)


def wait(requests: list, what: str) -> None:
    """Complete the MPI ``requests``; under a debug timeout, abort the job with a message
    naming ``what`` when they have not completed in time."""
    mpi = _state["mpi"]
    timeout = _state["timeout"]
    if timeout is None:
        mpi.Request.Waitall(requests)
        return
    deadline = time.monotonic() + timeout
    while not mpi.Request.Testall(requests):
        if time.monotonic() > deadline:
            abort(f"{what} did not complete within the debug timeout of {timeout} s "
                  "(a rank is missing from the collective, or called another one).")
        time.sleep(1e-4)


def p2p_comm(what: str) -> Any:
    """A duplicate of the world communicator for the point-to-point messages of the
    collectives, so that they never match a message of the user's own. Created on first use,
    which every rank reaches in the same collective call (under the debug timeout: a rank
    missing from ``what``, the collective call that needs it, is named as in any other)."""
    if _state["p2p"] is None:
        if _state["timeout"] is None:
            _state["p2p"] = comm().Dup()
        else:
            dup, request = comm().Idup()
            wait([request], what)
            _state["p2p"] = dup
    return _state["p2p"]


def exchange(send: Any, dest: int, recv: Any, source: int, tag: int, what: str) -> None:
    """Send the bytes of ``send`` to rank ``dest`` while receiving ``recv``'s from ``source``,
    on the collectives' own communicator (under the debug timeout, a rank that does not take
    part is named as in ``wait``)."""
    p2p = p2p_comm(what)
    send, recv = send.view("u1"), recv.view("u1")
    if _state["timeout"] is None:
        p2p.Sendrecv(send, dest, tag, recv, source, tag)
    else:
        wait([p2p.Irecv(recv, source, tag), p2p.Isend(send, dest, tag)], what)


def abort(message: str, code: int = 1) -> None:
    """Print ``message`` (prefixed by this rank) to stderr and end every process of the job.

    In a world of one process it raises ``SystemExit(code)`` after printing.

    Example:
        >>> try:
        ...     abort("the data set is missing", code=3)
        ... except SystemExit as e:
        ...     print(e.code)
        3
    """
    sys.stderr.write(f"functrans.distributed: rank {rank()} of {size()}: {message}\n")
    sys.stderr.flush()
    c = comm()
    if c is not None and c.Get_size() > 1:
        _abort_job(c, code)
    raise SystemExit(code)


#: How long a rank waits between writing its message and aborting the job: the launcher
#: forwards a rank's output through a pipe it reads in its own time, and an abort that kills
#: the processes first loses the message (seen with MPICH's mpiexec, about one run in ten).
ABORT_GRACE_SECONDS = 0.3


def _abort_job(c: Any, code: int) -> None:
    """``MPI_Abort`` on ``c``, once the message written to stderr has had time to leave."""
    try:
        os.fsync(sys.stderr.fileno())
    except (OSError, ValueError, AttributeError):  # a pipe or a replaced stream: nothing to sync
        pass
    time.sleep(ABORT_GRACE_SECONDS)
    c.Abort(code)


def _install_abort_hook() -> None:
    previous = sys.excepthook

    def hook(kind: type, value: BaseException, tb: Any) -> None:
        if issubclass(kind, KeyboardInterrupt):
            previous(kind, value, tb)
        text = "".join(traceback.format_exception(kind, value, tb))
        sys.stderr.write(f"functrans.distributed: rank {_state['comm'].Get_rank()} raised; "
                         f"aborting all {_state['comm'].Get_size()} processes.\n{text}")
        sys.stderr.flush()
        _abort_job(_state["comm"], 1)

    if os.environ.get("FUNCTRANS_NO_ABORT_HOOK") != "1":
        sys.excepthook = hook
        _state["hook"] = hook
