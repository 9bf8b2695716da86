"""Run under mpiexec -n N: checks of functrans.distributed on real processes. Prints one
``OK name`` line per check passed on rank 0; any failure raises (and aborts the job)."""
from __future__ import annotations

import os
import sys
import tempfile

import numpy as np

import functrans as ft
import functrans.numpy as fnp
from functrans import distributed as dist
from functrans import errors, optim

dist.init()
R, N = dist.rank(), dist.size()
assert N > 1, "run under mpiexec -n 2 or more"


def ok(name: str) -> None:
    dist.barrier()
    if dist.is_main():
        print("OK", name, flush=True)


def close(a, b, tol=1e-12) -> None:
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=tol, atol=tol)


# -- every collective against NumPy on the gathered data --------------------------------------
rng = np.random.default_rng(R)
tree = {"a": rng.normal(size=(4, 3)), "b": [rng.normal(size=6), np.arange(6, dtype=np.int32) + R],
        "c": np.asfortranarray(rng.normal(size=(3, 2)))}
everyone = ft.tree.unflatten(ft.tree.structure(tree),
                             [np.stack([np.asarray(v) for v in vs]) for vs in zip(
                                 *[ft.tree.leaves(t) for t in
                                   __import__("mpi4py.MPI", fromlist=["MPI"]).COMM_WORLD.allgather(tree)])])
for op, ref in (("sum", np.sum), ("max", np.max), ("min", np.min), ("mean", np.mean)):
    for bucket in (dist.DEFAULT_BUCKET_BYTES, 40):  # 40 bytes: several buckets per buffer
        got = dist.all_reduce(tree, op=op, bucket_bytes=bucket)
        for g, e in zip(ft.tree.leaves(got), ft.tree.leaves(everyone)):
            close(g, ref(e, axis=0))
for op, ref in (("sum", np.sum), ("mean", np.mean), ("max", np.max)):
    mine = {"a": tree["a"].copy(), "c": np.ascontiguousarray(tree["c"]), "s": np.zeros(5) + R}
    got = dist.all_reduce(mine, op=op, inplace=True, bucket_bytes=64)
    assert got["a"] is mine["a"] and got["s"] is mine["s"]
    close(got["a"], ref(everyone["a"], axis=0))
    close(got["c"], ref(everyone["c"], axis=0))
    close(got["s"], ref(np.arange(N)) * np.ones(5))
# in place, one small leaf of each dtype: reduced by MPI in the leaf itself
alone = {"w": np.arange(5.0) + R, "n": np.arange(3, dtype=np.int64) * (R + 1)}
got = dist.all_reduce(alone, inplace=True)
assert got["w"] is alone["w"] and got["n"] is alone["n"]
close(alone["w"], np.sum([np.arange(5.0) + k for k in range(N)], axis=0))
assert np.array_equal(alone["n"], np.arange(3) * sum(k + 1 for k in range(N)))
try:  # in place needs writeable arrays, in a world of any size
    dist.all_reduce({"w": np.broadcast_to(np.ones(1), (3,))}, inplace=True)
    raise AssertionError("a read-only leaf reduced in place")
except ValueError as e:
    assert "writeable" in str(e)
# one small leaf: reduced in a kept buffer; a result the caller holds never changes
one = np.arange(7, dtype=np.int64) + R
held = dist.all_reduce(one, op="mean")
assert held.dtype == np.float64
close(held, np.mean([np.arange(7) + k for k in range(N)], axis=0))
first_small = dist.all_reduce(one)
copy_small = first_small.copy()
for k in range(3):
    again = dist.all_reduce(one * (k + 2))
    assert not np.shares_memory(again, first_small) and not np.shares_memory(again, one)
    close(again, (k + 2) * np.sum([np.arange(7) + j for j in range(N)], axis=0))
assert np.array_equal(first_small, copy_small)
# a NumPy scalar leaf on one rank and a 0-d array on the others: the same tree
scalar = np.float64(R) if R == 0 else np.array(float(R))
close(dist.all_reduce({"s": scalar})["s"], sum(range(N)))
ok("all_reduce")

# -- large leaves: each reduced on its own, from the caller's array into a kept buffer (the
# thresholds lowered so that small arrays take those paths; one leaf at the real ones below)
MPI = __import__("mpi4py.MPI", fromlist=["MPI"])
from functrans.distributed import _reduce, collectives  # noqa: E402

thresholds = collectives.SEPARATE_BYTES, _reduce.RING_MIN_BYTES
collectives.SEPARATE_BYTES, _reduce.RING_MIN_BYTES = 4096, 8192
big = {"ring": rng.normal(size=(31, 41)),                 # 10 KB: the ring, uneven blocks
       "halves": rng.normal(size=(50, 41)),               # 16.4 KB: the ring
       "separate": rng.normal(size=601),                  # 4.8 KB: its own MPI all-reduce
       "ints": np.arange(2001, dtype=np.int64) * (R + 1),
       "f32": rng.normal(size=4003).astype(np.float32),
       "strided": rng.normal(size=(60, 30)).T,            # not contiguous: from a kept copy
       "small": rng.normal(size=5)}
big_all = MPI.COMM_WORLD.allgather(big)
for op, ref in (("sum", np.sum), ("max", np.max), ("min", np.min), ("mean", np.mean)):
    for bucket in (dist.DEFAULT_BUCKET_BYTES, 12_000):  # 12 KB: ring buckets, a small last
        got = dist.all_reduce(big, op=op, bucket_bytes=bucket)
        for key, value in got.items():
            expect = ref(np.stack([t[key] for t in big_all]), axis=0)
            tol = 1e-5 if value.dtype == np.float32 else 1e-12
            np.testing.assert_allclose(value, expect, rtol=tol, atol=tol)
            assert value.shape == big[key].shape and not np.shares_memory(value, big[key])
            assert value.dtype == (np.float64 if op == "mean" and key == "ints" else big[key].dtype)
        for other in MPI.COMM_WORLD.allgather(got):  # the same bits on every rank
            for key in got:
                assert np.array_equal(other[key], got[key]), (op, key)
# a leaf contiguous on one rank and not on another takes the same path on both
mixed = big["ring"] if R == 0 else np.asfortranarray(big["ring"])
close(dist.all_reduce({"m": mixed})["m"], np.sum([t["ring"] for t in big_all], axis=0))
# a result the caller holds never changes; one it let go of is reused
first = dist.all_reduce(big)["ring"]
kept = first.copy()
second = dist.all_reduce({"ring": big["ring"] * 2})["ring"]
assert np.array_equal(first, kept) and not np.shares_memory(first, second)
address = second.ctypes.data
del second
assert dist.all_reduce({"ring": big["ring"] * 3})["ring"].ctypes.data == address
view = first[3:]
del first
assert not np.shares_memory(dist.all_reduce({"ring": big["ring"]})["ring"], view)
# in place on large leaves (the ring, in the leaves themselves)
for op, ref in (("sum", np.sum), ("mean", np.mean), ("max", np.max), ("min", np.min)):
    for bucket in (dist.DEFAULT_BUCKET_BYTES, 12_000):
        mine = {"ring": big["ring"].copy(), "f32": big["f32"].copy(), "s": np.zeros(3) + R,
                "ints": big["ints"].copy()} if op != "mean" else \
            {"ring": big["ring"].copy(), "f32": big["f32"].copy(), "s": np.zeros(3) + R}
        got = dist.all_reduce(mine, op=op, inplace=True, bucket_bytes=bucket)
        assert got["ring"] is mine["ring"]
        for key in mine:
            expect = ref(np.stack([t[key] if key != "s" else np.zeros(3) + k
                                   for k, t in enumerate(big_all)]), axis=0)
            np.testing.assert_allclose(mine[key], expect, rtol=1e-5, atol=1e-5)
        for other in MPI.COMM_WORLD.allgather(mine):  # the same bits on every rank
            for key in mine:
                assert np.array_equal(other[key], mine[key]), ("in place", op, key)
collectives.SEPARATE_BYTES, _reduce.RING_MIN_BYTES = thresholds
w = rng.normal(size=33_000)  # 264 KB: the ring at the real thresholds
close(dist.all_reduce({"w": w}, op="mean")["w"], np.mean(MPI.COMM_WORLD.allgather(w), axis=0))
ok("large_leaves")

# -- under the debug timeout the collectives wait on requests: the same results -----------------
plain = (dist.all_reduce(big, op="mean"), dist.broadcast(tree, root=N - 1),
         dist.all_gather({"a": tree["a"]}), dist.all_reduce(tree, bucket_bytes=40))
dist.set_debug(timeout=30.0)
timed = (dist.all_reduce(big, op="mean"), dist.broadcast(tree, root=N - 1),
         dist.all_gather({"a": tree["a"]}), dist.all_reduce(tree, bucket_bytes=40))
for a, b in zip(ft.tree.leaves(plain), ft.tree.leaves(timed)):
    assert np.array_equal(a, b)
dist.barrier()
dist.check_replicated(plain[0])
dist.set_debug(timeout=None)
ok("debug_timeout_paths")
got = dist.broadcast(tree, root=N - 1)
for g, e in zip(ft.tree.leaves(got), ft.tree.leaves(everyone)):
    close(g, e[N - 1])
ok("broadcast")
for axis in (0, 1, -1):
    got = dist.all_gather({"a": tree["a"], "c": tree["c"]}, axis=axis)
    close(got["a"], np.concatenate(list(everyone["a"]), axis=axis))
    close(got["c"], np.concatenate(list(everyone["c"]), axis=axis))
ok("all_gather")
x = rng.normal(size=(2 * N, 3))
xs = np.stack(__import__("mpi4py.MPI", fromlist=["MPI"]).COMM_WORLD.allgather(x))
close(dist.reduce_scatter([x])[0], xs.sum(0)[2 * R:2 * R + 2])
close(dist.reduce_scatter([x], op="max")[0], xs.max(0)[2 * R:2 * R + 2])
ok("reduce_scatter")

# -- device arrays (the strict CuPy-like backend): staged through host memory and counted -------
from functrans.testing.strict import strict_array, to_numpy  # noqa: E402

before = dist.host_staging_count()
dev = {"a": strict_array(tree["a"]), "b": strict_array(tree["b"][0])}
got = dist.all_reduce(dev)
assert type(got["a"]) is type(dev["a"])
close(to_numpy(got["a"]), everyone["a"].sum(0))
close(to_numpy(dist.all_gather(dev)["b"]), np.concatenate(list(everyone["b"][0])))
assert dist.host_staging_count() - before == 4, dist.host_staging_count() - before
# a CUDA-aware MPI takes device buffers directly: no staging (the fake device's memory is host
# memory, exposed to mpi4py through the CUDA array interface)
from functrans.distributed import _comm  # noqa: E402
from functrans.testing.strict import StrictArray  # noqa: E402

StrictArray.__cuda_array_interface__ = property(
    lambda self: {**self._data.__array_interface__, "version": 3, "stream": None})
_comm_cuda_aware, _comm.cuda_aware = _comm.cuda_aware, lambda: True
before = dist.host_staging_count()
for op in ("sum", "mean"):
    got = dist.all_reduce(dev, op=op)
    assert type(got["a"]) is StrictArray and got["a"].device == dev["a"].device
    close(to_numpy(got["a"]), getattr(everyone["a"], op)(0))
    close(to_numpy(got["b"]), getattr(everyone["b"][0], op)(0))
assert dist.host_staging_count() == before
try:  # device memory on some ranks and host memory on others would take different paths
    dist.all_reduce({"a": dev["a"] if R != N - 1 else tree["a"]})
except errors.TreeStructureError as e:
    assert "device memory" in str(e) and f"rank {N - 1}" in str(e) and "['a']" in str(e), str(e)
else:
    raise AssertionError("device and host leaves were mixed across ranks")
_comm.cuda_aware = _comm_cuda_aware
del StrictArray.__cuda_array_interface__
ok("device_arrays")

# -- a mismatched tree is named ------------------------------------------------------------------
bad = {"w": np.zeros(3), "layer": [np.zeros(2), np.zeros((2, 2) if R != N - 1 else (2, 5))]}
try:
    dist.all_reduce(bad)
except errors.TreeStructureError as e:
    msg = str(e)
    assert "['layer'][1]" in msg and f"rank {N - 1}" in msg and "(2, 5)" in msg and "(2, 2)" in msg, msg
else:
    raise AssertionError("a mismatched tree was reduced")
try:
    dist.all_reduce({"w": np.zeros(3)} if R else {"v": np.zeros(3)})
except errors.TreeStructureError as e:
    assert "structure" in str(e), str(e)
else:
    raise AssertionError("trees of different structure were reduced")
# equal sizes in bytes, so only the comparison of the trees can see these
for mine, theirs, words in (((2, 3), (3, 2), ("(2, 3)", "(3, 2)")),
                            (np.float64, np.int64, ("float64", "int64"))):
    if isinstance(mine, tuple):
        leaf = np.zeros(mine if R != N - 1 else theirs)
    else:
        leaf = np.zeros(4, dtype=mine if R != N - 1 else theirs)
    for call in (dist.all_reduce, dist.broadcast):
        try:
            call({"p": [np.ones(2), leaf]})
        except errors.TreeStructureError as e:
            msg = str(e)
            assert "['p'][1]" in msg and f"rank {N - 1}" in msg, msg
            assert all(w in msg for w in words), msg
        else:
            raise AssertionError(f"{call.__name__}: a tree of other shapes or dtypes was accepted")
# Large leaves, which go round the ring (or to MPI in place): a difference is named before any
# data moves, nothing the caller passed is written, and the collectives after it give the
# right numbers.
last = R == N - 1
large = (256, 256)  # 512 KiB of float64
for mine, theirs, words in ((large, (256, 257), ("(256, 256)", "(256, 257)")),  # more bytes
                            (large, (256, 255), ("(256, 256)", "(256, 255)")),  # fewer
                            (large, (512, 128), ("(256, 256)", "(512, 128)")),  # equal bytes
                            (large, (3, 2), ("(256, 256)", "(3, 2)"))):  # small: packed on one rank
    for inplace in (False, True):
        leaf = np.full(theirs if last else mine, float(R))
        try:
            dist.all_reduce({"big": leaf}, inplace=inplace)
        except errors.TreeStructureError as e:
            msg = str(e)
            assert "['big']" in msg and f"rank {N - 1}" in msg, msg
            assert all(w in msg for w in words), msg
        else:
            raise AssertionError("a large leaf of another shape was reduced")
        assert (leaf == R).all(), "a failed check wrote into the caller's array"
        after = dist.all_reduce({"big": np.full(large, float(R + 1))}, inplace=inplace)
        close(after["big"], np.full(large, N * (N + 1) / 2))
ok("mismatched_tree")

# -- data-parallel gradients equal the full batch's -----------------------------------------------
data_rng = np.random.default_rng(0)  # the same data on every rank
X, Y = data_rng.normal(size=(12, 5)), data_rng.normal(size=12)
params0 = {"W": data_rng.normal(size=(5, 4)), "b": np.zeros(4), "v": data_rng.normal(size=4)}


def loss(p, x, y):
    h = fnp.tanh(x @ p["W"] + p["b"])
    return fnp.mean((h @ p["v"] - y) ** 2)


full_loss, full_grad = ft.value_and_grad(loss)(params0, X, Y)
for weighted, sizes in ((False, None), (True, [5, 4, 3, 2][:N])):
    if sizes is None:
        k = len(X) // N
        lo, hi = R * k, (R + 1) * k
        total = k * N
    else:
        lo, hi = sum(sizes[:R]), sum(sizes[:R + 1])
        total = sum(sizes)
    fl, fg = ft.value_and_grad(loss)(params0, X[:total], Y[:total])
    step = dist.data_parallel_step(loss, optim.sgd(1.0), weighted=weighted)
    new, _, dl = step(params0, optim.sgd(1.0).init(params0), X[lo:hi], Y[lo:hi])
    grads = ft.tree.map(lambda a, b: a - b, params0, new)
    for g, e in zip(ft.tree.leaves(grads), ft.tree.leaves(fg)):
        close(g, e)
    close(dl, fl)
ok("data_parallel_gradient")

# -- parameters identical after 20 steps (and equal to single-process full-batch training) -----
opt = optim.adam(1e-2)
step = dist.data_parallel_step(loss, opt, check_every=5)
p, s = params0, opt.init(params0)
sampler = dist.ShardSampler(len(X), seed=3)
single_p, single_s = params0, opt.init(params0)
full_step = ft.jit(lambda p, s, x, y: (lambda g: (lambda u: (optim.apply_updates(p, u[0]), u[1]))(
    opt.update(g, s, p)))(ft.grad(loss)(p, x, y)))
for epoch in range(20):
    idx = sampler.indices(epoch)
    p, s, _ = step(p, s, X[idx], Y[idx])
    full_idx = np.random.default_rng([3, epoch]).permutation(len(X))
    single_p, single_s = full_step(single_p, single_s, X[full_idx], Y[full_idx])
dist.check_replicated(p)
gathered = __import__("mpi4py.MPI", fromlist=["MPI"]).COMM_WORLD.allgather(p)
for other in gathered:
    for a, b in zip(ft.tree.leaves(other), ft.tree.leaves(p)):
        assert np.array_equal(a, b)
for a, b in zip(ft.tree.leaves(p), ft.tree.leaves(single_p)):
    close(a, b, 1e-10)
diverged = ft.tree.map(lambda v: v + (1e-9 if R == N - 1 else 0.0), p)
try:
    dist.check_replicated(diverged)
except ValueError as e:
    assert "['W']" in str(e) and str(N - 1) in str(e), str(e)
else:
    raise AssertionError("divergence not detected")
ok("replicated_after_20_steps")

# -- sampler -------------------------------------------------------------------------------------
for remainder in ("drop", "pad"):
    sm = dist.ShardSampler(10, seed=1, remainder=remainder)
    shards = __import__("mpi4py.MPI", fromlist=["MPI"]).COMM_WORLD.allgather(sm.indices(2))
    allidx = np.concatenate(shards)
    assert all(len(sh) == len(sm) for sh in shards)
    if remainder == "drop":
        assert len(set(allidx.tolist())) == len(allidx) == 10 // N * N
    else:
        assert set(allidx.tolist()) == set(range(10))
ok("sampler")

# -- differentiable collectives against finite differences --------------------------------------
xr = np.random.default_rng(10 + R).normal(size=3)
w = np.random.default_rng(99).normal(size=3 * N)  # replicated weights


def f_local(x):
    return fnp.sum(fnp.sin(x) * x)


def L_psum(x):
    return dist.psum(f_local(x))


def L_gather(x):
    return fnp.sum(dist.all_gather(x) ** 2 * w)


c_r = float(R + 1)


def L_pvary(x):
    return fnp.sum(dist.pvary(dist.psum(x * x)) * c_r)


h = 1e-6
for L, expected in ((L_psum, np.sin(xr) + xr * np.cos(xr)),
                    (L_gather, 2 * xr * w[3 * R:3 * R + 3]),
                    (L_pvary, 2 * xr * sum(range(1, N + 1)))):
    for g in (ft.grad(L)(xr), ft.jit(ft.grad(L))(xr)):
        close(g, expected, 1e-10)
    # finite differences of the global function: rank k perturbs its own x, the others hold still
    for k in range(N):
        v = np.random.default_rng([k, 5]).normal(size=3)
        dx = v * h if R == k else np.zeros(3)
        fd = (float(L(xr + dx)) - float(L(xr - dx))) / (2 * h)
        if L is L_pvary:  # its objective is the sum of the ranks' values
            fd = float(dist.all_reduce(np.array(fd)))
        grad_here = np.asarray(ft.grad(L)(xr))  # (every rank: the gradient runs collectives)
        mine = float(np.dot(grad_here, v)) if R == k else 0.0
        mine = float(dist.all_reduce(np.array(mine)))
        close(fd, mine, 1e-6)
    # forward mode: every rank perturbs along its own direction
    v = np.random.default_rng([R, 6]).normal(size=3)
    _, t = ft.jvp(L, (xr,), (v,))
    fd = (float(L(xr + h * v)) - float(L(xr - h * v))) / (2 * h)
    if L is L_pvary:
        t, fd = float(dist.all_reduce(np.array(float(t)))), float(dist.all_reduce(np.array(fd)))
    close(t, fd, 1e-6)
# second order through psum: the Hessian-vector product of the local function
hv = ft.grad(lambda x: fnp.sum(ft.grad(L_psum)(x) * np.ones(3)))(xr)
close(hv, 2 * np.cos(xr) - xr * np.sin(xr), 1e-10)
# vmap over a batch axis: the sum over ranks of each row
Xb = np.random.default_rng(R).normal(size=(4, 3))
close(ft.vmap(dist.psum)(Xb), dist.all_reduce(Xb))
close(ft.vmap(lambda x: dist.all_gather(x))(Xb), dist.all_gather(Xb, axis=1))
ok("differentiable_collectives")

# -- jit keeps a collective whose result is unused ------------------------------------------------
calls = [0]
impl = dist.primitives.psum_p.impl


def counting(x):
    calls[0] += 1
    return impl(x)


dist.primitives.psum_p.impl = counting
g = ft.jit(lambda x: (dist.psum(x), x * 2.0)[1])
for _ in range(3):
    g(np.ones(2))
dist.primitives.psum_p.impl = impl
assert calls[0] >= 3, calls
ok("jit_keeps_collectives")

# -- checkpoints: saved by rank 0, broadcast on load -----------------------------------------------
folder = dist.broadcast(np.frombuffer(tempfile.mkdtemp().ljust(200).encode(), dtype=np.uint8)
                        if R == 0 else np.zeros(200, np.uint8))
path = os.path.join(bytes(folder).decode().strip(), "ckpt.npz")
dist.save_checkpoint(path, {"p": p})
loaded = dist.load_checkpoint(path)
for a, b in zip(ft.tree.leaves(loaded["p"]), ft.tree.leaves(p)):
    assert np.array_equal(a, b)
ok("checkpoint")
sys.stdout.flush()
