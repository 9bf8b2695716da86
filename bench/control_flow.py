"""Staged loops (``lax.scan``): a character-level GRU trained with scan against the same model
with its time loop unrolled in Python, reverse mode through a long scan with and without a
checkpointed step, and the per-step overhead of an eager scan against a Python loop.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/control_flow.py

(one BLAS thread; OPENBLAS_CORETYPE slows NumPy on some machines). Workloads:

- a char-level GRU language model (embedding 65 -> 128, GRU 128, linear 128 -> 65, sequence
  32, batch 16, float32; a step is ``value_and_grad`` of the next-character cross entropy and
  an SGD update): the time to stage the step under ``jit`` (its first call) and the time of a
  jitted step, with the time loop as ``nn.GRU``'s scan against the same GRU cell unrolled in
  Python (32 copies of the step in the staged program); and the eager step of both;
- ``grad`` through a scan of 1,000 steps of a tanh RNN (hidden 64, float64): time and peak
  memory traced by tracemalloc, with the plain step against a ``checkpoint``-ed one (which
  keeps the carries only, and recomputes each step in the backward pass); and the peak
  memory for a step of six such layers, whose intermediates the plain step keeps; and the
  same grad of 50 steps, where a cost per call of the checkpointed step would show;
- an eager scan of a small step (the same tanh RNN, 1,000 steps) against the same loop in
  Python, per step: scan's own cost on plain arrays;
- ``vmap`` of a ``cond`` whose predicate differs between 1,000 examples, and ``vmap(grad)``
  of it, against ``np.where`` of both branches: what computing each branch on the values of
  the examples that take it costs.

Each pair is checked to agree before timing; ``--quick`` is a smoke run.
"""
from __future__ import annotations  # noqa: I001 (_harness before functrans: it puts the tree to measure on sys.path)

import sys
import timeit
from collections.abc import Sequence

import _harness
import numpy as np

import functrans as ft
import functrans.numpy as fnp
from functrans import lax, nn, random


VOCAB, HIDDEN, LENGTH, BATCH = 65, 128, 32, 16


class CharGRU:
    """The model: embedding, a one-layer GRU (scanned, or its cell unrolled), a linear head."""

    def __init__(self, unrolled: bool):
        self.embed = nn.Embedding(VOCAB, HIDDEN, dtype=np.float32)
        self.gru = nn.GRU(HIDDEN, HIDDEN, dtype=np.float32)
        self.cell = nn.GRUCell(HIDDEN, HIDDEN, dtype=np.float32)
        self.head = nn.Linear(HIDDEN, VOCAB, dtype=np.float32)
        self.unrolled = unrolled

    def init(self) -> dict:
        k = random.split(random.key(0), 3)
        return {"embed": self.embed.init(k[0]), "gru": self.gru.init(k[1]),
                "head": self.head.init(k[2])}

    def loss(self, params: dict, ids, targets):
        x = self.embed.apply(params["embed"], ids)  # (L, N, H)
        if self.unrolled:
            cell = {name: params["gru"][f"{name}_l0"] for name in
                    ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}
            h = fnp.zeros((BATCH, HIDDEN), dtype=np.float32)
            outs = []
            for t in range(ids.shape[0]):
                h = self.cell.apply(cell, x[t], h)
                outs.append(h)
            hs = fnp.stack(outs)
        else:
            hs, _ = self.gru.apply(params["gru"], x)
        logits = self.head.apply(params["head"], hs)
        return nn.cross_entropy(fnp.reshape(logits, (-1, VOCAB)), fnp.reshape(targets, (-1,)))

    def step(self, params: dict, ids, targets):
        value, grads = ft.value_and_grad(self.loss)(params, ids, targets)
        return value, ft.tree.map(lambda p, g: p - 0.1 * g, params, grads)


def _staging_time(fn, *args) -> float:
    """Seconds of the first call of a freshly jitted ``fn`` (staging and planning included)."""
    jitted = ft.jit(fn)
    start = timeit.default_timer()
    jitted(*args)
    return timeit.default_timer() - start


def char_gru(section: _harness.Section, options: _harness.Options) -> None:
    rng = np.random.default_rng(0)
    ids = rng.integers(0, VOCAB, size=(LENGTH, BATCH))
    targets = rng.integers(0, VOCAB, size=(LENGTH, BATCH))
    scanned, unrolled = CharGRU(False), CharGRU(True)
    params = scanned.init()
    (va, pa), (vb, pb) = scanned.step(params, ids, targets), unrolled.step(params, ids, targets)
    assert abs(float(va) - float(vb)) < 1e-5, (va, vb)
    for a, b in zip(ft.tree.leaves(pa), ft.tree.leaves(pb)):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
    jit_scan, jit_unrolled = ft.jit(scanned.step), ft.jit(unrolled.step)
    jit_scan(params, ids, targets)
    jit_unrolled(params, ids, targets)
    eqns = [len(ft.make_jaxpr(m.step)(params, ids, targets).eqns) for m in (scanned, unrolled)]
    section.note(f"char GRU: staged program of a step {eqns[0]} equations with scan, {eqns[1]} "
                 f"unrolled ({LENGTH} steps)")
    stage_scan = min(_staging_time(scanned.step, params, ids, targets) for _ in range(3))
    stage_unrolled = min(_staging_time(unrolled.step, params, ids, targets) for _ in range(3))
    section.add(_harness.Row("char GRU: staging a step under jit (first call), scan", ours=stage_scan,
                             reference=stage_unrolled, reference_name="unrolled", unit="ms"))
    section.add(_harness.measure(_harness.Workload(
        _harness.Row("char GRU: training step, scan (eager, jit)", reference_name="unrolled jit"),
        ours=lambda: scanned.step(params, ids, targets), jit=lambda: jit_scan(params, ids, targets),
        reference=lambda: jit_unrolled(params, ids, targets)), options))
    section.add(_harness.measure(_harness.Workload(
        _harness.Row("char GRU: eager training step, scan", reference_name="unrolled eager"),
        ours=lambda: scanned.step(params, ids, targets),
        reference=lambda: unrolled.step(params, ids, targets)), options))


def _tanh_rnn(steps: int, hidden: int):
    rng = np.random.default_rng(1)
    w = rng.standard_normal((hidden, hidden)) / np.sqrt(hidden)
    xs = rng.standard_normal((steps, hidden))
    return w, xs


def long_scan(section: _harness.Section, options: _harness.Options) -> None:
    steps = 100 if options.quick else 1000
    w, xs = _tanh_rnn(steps, 64)

    def step(w, h, x):
        return fnp.tanh(w @ h + x)

    def loss(block, xs=xs):
        return lambda w: fnp.sum(lax.scan(lambda h, x: (block(w, h, x), h), fnp.zeros(64), xs)[1])

    plain, remat = ft.grad(loss(step)), ft.grad(loss(ft.checkpoint(step)))
    np.testing.assert_allclose(remat(w), plain(w), rtol=1e-10)
    section.add(_harness.measure(_harness.Workload(
        _harness.Row(f"grad of a {steps}-step tanh RNN scan, checkpointed step",
                     reference_name="plain step"),
        ours=lambda: remat(w), reference=lambda: plain(w)), options))
    # a short loop, where a cost per call (deriving the checkpointed step again) would show
    short_plain, short_remat = ft.grad(loss(step, xs[:50])), ft.grad(loss(ft.checkpoint(step), xs[:50]))
    np.testing.assert_allclose(short_remat(w), short_plain(w), rtol=1e-10)
    section.add(_harness.measure(_harness.Workload(
        _harness.Row("grad of a 50-step tanh RNN scan, checkpointed step", reference_name="plain step"),
        ours=lambda: short_remat(w), reference=lambda: short_plain(w)), options))
    peak_remat, _ = _harness.peak_memory(lambda: remat(w))
    peak_plain, _ = _harness.peak_memory(lambda: plain(w))
    section.add(_harness.Row("peak memory of that grad, checkpointed step", ours=peak_remat,
                             reference=peak_plain, reference_name="plain step", unit="MiB"))

    def deep(w, h, x):  # a step with many intermediates: six tanh layers
        for _ in range(6):
            h = fnp.tanh(w @ h + x) * fnp.cos(h)
        return h

    plain, remat = ft.grad(loss(deep)), ft.grad(loss(ft.checkpoint(deep)))
    np.testing.assert_allclose(remat(w), plain(w), rtol=1e-10)
    peak_remat, _ = _harness.peak_memory(lambda: remat(w))
    peak_plain, _ = _harness.peak_memory(lambda: plain(w))
    section.add(_harness.Row("peak memory of grad, a step of six layers, checkpointed", ours=peak_remat,
                             reference=peak_plain, reference_name="plain step", unit="MiB"))


def eager_overhead(section: _harness.Section, options: _harness.Options) -> None:
    steps = 100 if options.quick else 1000
    w, xs = _tanh_rnn(steps, 64)
    h0 = np.zeros(64)

    def python_loop():
        h = h0
        for x in xs:
            h = fnp.tanh(w @ h + x)
        return h

    def scanned():
        return lax.scan(lambda h, x: (fnp.tanh(w @ h + x), None), h0, xs)[0]

    def by_hand():
        h = h0
        for x in xs:
            h = np.tanh(w @ h + x)
        return h

    np.testing.assert_allclose(scanned(), python_loop(), rtol=1e-14)
    times = _harness.best_times([scanned, python_loop, by_hand], options.repeat, quick=options.quick)
    section.add(_harness.Row("eager scan of a tanh RNN step, per step", ours=times[0],
                             reference=times[1], reference_name="python loop", unit="us",
                             count=steps, difference=True))
    section.add(_harness.Row("the python loop, per step", ours=times[1], reference=times[2],
                             unit="us", count=steps, difference=True))


def batched_cond(section: _harness.Section, options: _harness.Options) -> None:
    """vmap of a cond whose predicate differs between the examples, and its per-example
    gradient, against ``np.where`` of both branches by hand: the batched cond computes each
    branch on the values of the examples that take it (a gather, a broadcast and a select per
    operand and branch), so the untaken ``sqrt`` of a negative number warns of nothing."""
    x = np.linspace(-1.0, 1.0, 100 if options.quick else 1000)
    f = lambda v: lax.cond(v > 0, lambda u: fnp.sqrt(u) * 2.0, lambda u: -u * 3.0, v)

    def by_hand(v):
        return np.where(v > 0, np.sqrt(np.abs(v)) * 2.0, -v * 3.0)

    def grads_by_hand(v):
        return np.where(v > 0, 1.0 / np.sqrt(np.where(v > 0, v, 1.0)), -3.0)

    for name, fn, ref in (("vmap of a cond, 1 op per branch", ft.vmap(f), by_hand),
                          ("vmap(grad) of that cond", ft.vmap(ft.grad(f)), grads_by_hand)):
        jitted = ft.jit(fn)
        np.testing.assert_allclose(fn(x), ref(x), rtol=1e-14)
        np.testing.assert_allclose(jitted(x), ref(x), rtol=1e-14)
        workload = _harness.Workload(_harness.Row(f"{name}, {x.size} examples"),
                                     lambda fn=fn: fn(x), lambda j=jitted: j(x), lambda r=ref: r(x))
        section.add(_harness.measure(workload, options))


def collect(section: _harness.Section, options: _harness.Options) -> None:
    """The four workloads, in the order of the module docstring."""
    char_gru(section, options)
    long_scan(section, options)
    eager_overhead(section, options)
    batched_cond(section, options)


def main(argv: Sequence[str] | None = None) -> int:
    return _harness.main(collect, __file__, __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
