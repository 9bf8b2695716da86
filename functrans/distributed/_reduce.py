"""The data movement of ``all_reduce`` on host arrays: buffers kept between calls, and the
exchanges that read the caller's array and write the result into one of those buffers.

MPI (MPICH and others) handles memory it has already seen several times faster than a buffer
at a new allocation, so the reduction works in buffers kept here: results are handed out from
a pool and a pooled buffer is used again only once nothing outside the pool refers to it (its
reference count says so), so a result never changes after it is returned. For a large array
the elementwise reduction reads the caller's array and writes the pooled buffer in the same
pass, where a copy into the pool followed by MPI's in-place all-reduce would cost one more
pass over the data: the ranks run a ring (a reduce-scatter then an all-gather over
point-to-point messages, as MPI's own large-message algorithms do), where each block is reduced
by one rank and copied to the others; on two ranks that is one exchange of halves each way.
Every rank holds the same bits.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Any

import numpy as np

from functrans.distributed import _comm
from functrans.distributed._treecheck import exchange_checked
from functrans.interpreters.buffers import FREE_REFS, first_free

#: Buffers of at least this many bytes are reduced by the ring (into a new result or in place);
#: smaller ones by MPI's all-reduce in place, whose latency is lower. (In place, the ring also
#: beats MPICH's own all-reduce on large buffers: NumPy's vectorized ufunc does the arithmetic.)
RING_MIN_BYTES = 256 << 10

_UFUNCS = {"sum": np.add, "mean": np.add, "max": np.maximum, "min": np.minimum}
_MPI_OPS = {"sum": "SUM", "mean": "SUM", "max": "MAX", "min": "MIN"}
_mpi_ops: dict[str, Any] = {}  # the MPI.Op objects, looked up once
_RING_KINDS = "fciu"  # dtypes whose reduction NumPy computes as MPI defines it
_TAG = 17


# -- buffers kept between calls -------------------------------------------------------------------

_POOL_KEYS = 32      # distinct (dtype, size) pairs kept, least recently used dropped first
_POOL_PER_KEY = 3    # buffers per pair: the result a caller still holds, and the next ones
_pool: OrderedDict[tuple, list[np.ndarray]] = OrderedDict()
_workspaces: dict[tuple, np.ndarray] = {}


def take(dtype: np.dtype, size: int) -> np.ndarray:
    """A 1-D buffer of ``size`` elements of ``dtype`` that nothing else refers to: a kept one
    when one is free (memory MPI has seen), else a new one, kept when there is room. The
    caller may return it (or views of it) as a result: it is not used again while referred to.
    """
    key = (np.dtype(dtype), int(size))
    bufs = _pool.get(key)
    if bufs is None:
        if FREE_REFS is None:
            return np.empty(size, dtype)
        bufs = _pool[key] = []
        if len(_pool) > _POOL_KEYS:
            _pool.popitem(last=False)
    else:
        _pool.move_to_end(key)
        free = first_free(bufs)
        if free is not None:
            return free
    buf = np.empty(size, dtype)
    if len(bufs) < _POOL_PER_KEY:
        bufs.append(buf)
    return buf


def workspace(dtype: np.dtype, role: str, size: int) -> np.ndarray:
    """A kept private buffer of ``size`` elements of ``dtype`` for ``role`` (never returned to
    a caller: the next call of the same role overwrites it)."""
    key = (np.dtype(dtype), role)
    buf = _workspaces.get(key)
    if buf is None or buf.size < size:
        buf = _workspaces[key] = np.empty(max(size, 1), dtype=dtype)
    return buf[:size]


def release_buffers() -> None:
    """Drop every kept buffer (results already returned stay valid)."""
    _pool.clear()
    _workspaces.clear()


# -- the reduction --------------------------------------------------------------------------------

def starts_with_ring(dtype: np.dtype, size: int, bucket_bytes: int) -> bool:
    """Whether ``reduce`` of ``size`` elements of ``dtype`` starts with a ring exchange."""
    step = max(1, int(bucket_bytes) // max(dtype.itemsize, 1))
    return dtype.kind in _RING_KINDS and min(size, step) * dtype.itemsize >= RING_MIN_BYTES


def reduce(c: Any, src: np.ndarray, out: np.ndarray, op: str, n: int, bucket_bytes: int,
           what: str, check: tuple | None = None) -> None:
    """``out`` = the ``op`` of ``src`` over the ``n`` ranks (a mean: the sum divided by ``n``
    for a float dtype; the caller divides integers). ``src`` and ``out`` are 1-D C-contiguous
    arrays of one dtype and size; ``src`` may be ``out`` itself (a reduction in place), else
    it is only read. ``check``: on two ranks, when ``starts_with_ring``, the tree check to
    fold into the first exchange (``(tag, tree)`` for ``exchange_checked``)."""
    divide = op == "mean" and out.dtype.kind in "fc"
    inplace = src is out
    ring = out.dtype.kind in _RING_KINDS
    if inplace and out.nbytes <= bucket_bytes and not (ring and out.nbytes >= RING_MIN_BYTES):
        _mpi_in_place(c, out, op, what)  # one small bucket, reduced by MPI in place
        if divide:
            np.divide(out, n, out=out)
        return
    step = max(1, int(bucket_bytes) // max(out.dtype.itemsize, 1))
    for start in range(0, out.size, step):
        s, o = src[start:start + step], out[start:start + step]
        if ring and o.nbytes >= RING_MIN_BYTES:
            if n == 2 and _comm.debug_timeout() is None:
                _ring_of_two(c, s, o, _UFUNCS[op], divide, what, check)
                check = None
            else:
                _ring(c, s, o, _UFUNCS[op], n, divide, what)
        else:
            if not inplace:
                np.copyto(o, s)
            _mpi_in_place(c, o, op, what)
            if divide:
                np.divide(o, n, out=o)


def _mpi_in_place(c: Any, buf: np.ndarray, op: str, what: str) -> None:
    mpi = _comm.mpi_module()
    mpi_op = _mpi_ops.get(op) or _mpi_ops.setdefault(op, getattr(mpi, _MPI_OPS[op]))
    if _comm.debug_timeout() is None:
        c.Allreduce(mpi.IN_PLACE, buf, op=mpi_op)
    else:
        _comm.wait([c.Iallreduce(mpi.IN_PLACE, buf, op=mpi_op)], what)


def _ring(c: Any, src: np.ndarray, out: np.ndarray, ufunc: Any, n: int, divide: bool,
          what: str) -> None:
    """The ring all-reduce of ``src`` into ``out``: ``n - 1`` steps of reduce-scatter (block by
    block, each rank adds the block it receives from its left neighbour to its own and passes
    the sum on), the mean's division on the one block each rank finishes, then ``n - 1`` steps
    of all-gather of the finished blocks."""
    r = c.Get_rank()
    right, left = (r + 1) % n, (r - 1) % n
    bounds = [out.size * k // n for k in range(n + 1)]

    def block(a: np.ndarray, b: int) -> np.ndarray:
        return a[bounds[b]:bounds[b + 1]]

    widest = max(bounds[k + 1] - bounds[k] for k in range(n))
    tmp = workspace(out.dtype, "ring", widest)
    for s in range(n - 1):
        sent, got = (r - s) % n, (r - s - 1) % n
        incoming = tmp[:bounds[got + 1] - bounds[got]]
        # step 0 sends this rank's own block straight from the caller's array
        _comm.exchange(block(src if s == 0 else out, sent), right, incoming, left, _TAG, what)
        ufunc(block(src, got), incoming, out=block(out, got))
    if divide:
        mine = block(out, (r + 1) % n)
        np.divide(mine, n, out=mine)
    for s in range(n - 1):
        sent, got = (r + 1 - s) % n, (r - s) % n
        _comm.exchange(block(out, sent), right, block(out, got), left, _TAG, what)



def _ring_of_two(c: Any, src: np.ndarray, out: np.ndarray, ufunc: Any, divide: bool, what: str,
                 check: tuple | None) -> None:
    """``_ring`` on two ranks, written out: rank ``r`` sends its half ``r`` of ``src`` while
    receiving the other's copy of half ``1 - r``, reduces that half, and swaps it for the
    finished half ``r``. With ``check``, the first exchange is also the tree check, done before
    anything is written into ``out``."""
    r = c.Get_rank()
    peer = 1 - r
    cut = out.size // 2
    mine, theirs = (slice(0, cut), slice(cut, None)) if r == 0 else (slice(cut, None), slice(0, cut))
    incoming = workspace(out.dtype, "ring", out.size - cut)[:out[theirs].size]
    if check is None:
        _comm.p2p_comm(what).Sendrecv(src[mine].view("u1"), peer, _TAG, incoming.view("u1"),
                                      peer, _TAG)
    else:
        exchange_checked(src[mine], incoming, check[0], check[1], what)
    done = out[theirs]
    ufunc(src[theirs], incoming, out=done)
    if divide:
        np.divide(done, 2, out=done)
    _comm.p2p_comm(what).Sendrecv(done.view("u1"), peer, _TAG, out[mine].view("u1"), peer, _TAG)
