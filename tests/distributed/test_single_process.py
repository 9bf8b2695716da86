"""functrans.distributed in a world of one process (no mpiexec): every operation works, the
differentiable collectives are identities with the right derivatives on both backends, and
jit keeps a collective whose result is unused."""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans import distributed as dist
from functrans import optim
from functrans.testing import check_grads


def test_world_of_one():
    dist.init()
    dist.init()
    assert (dist.rank(), dist.size(), dist.is_main()) == (0, 1, True)
    dist.barrier()
    assert dist.local_device(num_devices=4) == 0
    assert dist.host_staging_count() >= 0


def test_import_without_mpi4py_reports_a_world_of_one():
    code = ("import sys; sys.modules['mpi4py'] = None\n"
            "import numpy as np, functrans, functrans.distributed as d\n"
            "assert not d.mpi_available() and d.size() == 1 and d.rank() == 0\n"
            "print(float(d.all_reduce(np.ones(2), op='mean').sum()), float(d.psum(np.float64(2.0))))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["2.0", "2.0"]


def test_collectives_on_trees(backend):
    tree = {"a": backend.put(np.arange(6.0).reshape(2, 3)), "b": [backend.put(np.arange(3))]}
    for op in ("sum", "mean", "max", "min"):
        got = dist.all_reduce(tree, op=op)
        np.testing.assert_array_equal(backend.get(got["a"]), np.arange(6.0).reshape(2, 3))
        assert got["a"] is not tree["a"]
    assert dist.all_reduce(tree, op="mean")["b"][0].dtype.kind == "f"
    np.testing.assert_array_equal(backend.get(dist.broadcast(tree)["b"][0]), np.arange(3))
    np.testing.assert_array_equal(backend.get(dist.all_gather(tree, axis=1)["a"]),
                                  np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(backend.get(dist.reduce_scatter(tree)["a"]),
                                  np.arange(6.0).reshape(2, 3))
    with pytest.raises(ValueError, match="op="):
        dist.all_reduce(tree, op="prod")
    mine = {"w": np.ones(3)}
    assert dist.all_reduce(mine, inplace=True)["w"] is mine["w"]
    # in place writes into the leaves in a world of any size: the same error as with MPI
    with pytest.raises(ValueError, match="writeable"):
        dist.all_reduce({"w": np.broadcast_to(np.ones(1), (3,))}, inplace=True)
    with pytest.raises(ValueError, match="float dtype"):
        dist.all_reduce({"n": np.arange(3)}, op="mean", inplace=True)


def test_differentiable_collectives_derivatives(backend):
    x = backend.put(np.array([0.3, -1.2, 0.7]))
    check_grads(lambda x: dist.psum(fnp.sin(x) * x), (x,))
    check_grads(lambda x: dist.pmean(x ** 3), (x,))
    check_grads(lambda x: dist.all_gather(fnp.exp(x)) * 2.0, (x,))
    check_grads(lambda x: dist.pvary(dist.psum(x * x)), (x,))
    g = ft.jit(ft.grad(lambda x: fnp.sum(dist.all_gather(x) ** 2)))(x)
    np.testing.assert_allclose(backend.get(g), 2 * backend.get(x))
    v = ft.vmap(dist.psum)(backend.put(np.ones((4, 3))))
    assert v.shape == (4, 3)


def test_jit_keeps_an_unused_collective(monkeypatch):
    calls = []
    impl = dist.primitives.psum_p.impl
    monkeypatch.setattr(dist.primitives.psum_p, "impl", lambda x: calls.append(1) or impl(x))
    f = ft.jit(lambda x: (dist.psum(x), x * 2.0)[1])
    for _ in range(3):
        f(np.ones(2))
    assert len(calls) >= 3
    program = ft.make_jaxpr(lambda x: (dist.psum(x), x * 2.0)[1])(np.ones(2))
    assert "psum" in str(program)


def test_data_parallel_step_and_sampler(tmp_path):
    loss = lambda w, x: fnp.mean((x @ w - 1.0) ** 2)
    opt = optim.sgd(0.1)
    w = np.zeros(3)
    x = np.arange(12.0).reshape(4, 3) / 10
    step = dist.data_parallel_step(loss, opt, check_every=1)
    new, _, value = step(w, opt.init(w), x)
    np.testing.assert_allclose(new, w - 0.1 * ft.grad(loss)(w, x))
    assert float(value) == 1.0
    sampler = dist.ShardSampler(10, seed=2)
    assert len(sampler) == 10 and sorted(sampler.indices(1).tolist()) == list(range(10))
    assert not np.array_equal(sampler.indices(1), sampler.indices(2))
    assert dist.ShardSampler(10, rank=2, size=3, remainder="pad").indices(0).size == 4
    assert dist.ShardSampler(10, rank=2, size=3).indices(0).size == 3
    with pytest.raises(ValueError, match="remainder"):
        dist.ShardSampler(10, remainder="wrap")
    path = os.path.join(tmp_path, "ckpt.npz")
    dist.save_checkpoint(path, {"w": new})
    np.testing.assert_array_equal(dist.load_checkpoint(path)["w"], new)


def test_debug_timeout_must_be_positive():
    for bad in (0, -1.0):
        with pytest.raises(ValueError, match="timeout"):
            dist.set_debug(timeout=bad)
    dist.set_debug(timeout=5)
    dist.barrier()
    dist.set_debug(timeout=None)


def test_kept_buffers_are_reused_only_when_nothing_refers_to_them():
    from functrans.distributed import _reduce
    _reduce.release_buffers()
    a = _reduce.take(np.float64, 1000)
    b = _reduce.take(np.float64, 1000)
    assert not np.shares_memory(a, b)
    view = a.reshape(10, 100)[3:]
    address = a.ctypes.data
    del a
    c = _reduce.take(np.float64, 1000)
    assert not np.shares_memory(c, view) and not np.shares_memory(c, b)
    del view
    d = _reduce.take(np.float64, 1000)
    assert d.ctypes.data == address  # free again: the kept buffer, not a new one
    assert _reduce.take(np.int32, 1000).dtype == np.int32


def test_tree_hash_is_kept_per_structure_and_tells_shapes_dtypes_and_keys_apart():
    from functrans.distributed import _treecheck

    def digest(tree):
        leaves, treedef = ft.tree.flatten(tree)
        return _treecheck._hash(tree, leaves, treedef, None)

    tree = {"w": np.zeros((2, 3)), "b": [np.zeros(3), 1.0]}
    first = digest(tree)
    assert digest({"w": np.ones((2, 3)), "b": [np.ones(3), 2.0]}) is first  # computed once
    assert (first[:2] == -first[2:]).all() and (first[:2] >= 0).all()
    others = [{"w": np.zeros((3, 2)), "b": [np.zeros(3), 1.0]},
              {"w": np.zeros((2, 3), np.int64), "b": [np.zeros(3), 1.0]},
              {"v": np.zeros((2, 3)), "b": [np.zeros(3), 1.0]},
              {"w": np.zeros((2, 3)), "b": (np.zeros(3), 1.0)}]
    digests = {tuple(first)} | {tuple(digest(t)) for t in others}
    assert len(digests) == 1 + len(others)
