"""Neural ODE: one training step with adjoint gradients against backpropagation through the
solver, and the Dormand-Prince loop against SciPy's RK45.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/neural_ode.py

(one BLAS thread; OPENBLAS_CORETYPE slows NumPy on some machines). Workloads:

- the training step of examples/neural_ode.py (a 2-50-2 tanh vector field, a batch of 16
  states integrated over 10 samples of the spiral, value_and_grad of the mean absolute error
  and Adam), with the gradient by ``functrans.integrate.odeint``'s adjoint method, against the
  same step with ``grad`` recording every solver step (``functrans.integrate.dopri5.solve``
  run on tracers, on the same steps: the state is flattened as odeint flattens it); time,
  and the peak memory traced (tracemalloc) during the gradient, over the example's span, a
  longer one sampled as densely, and a long one with two outputs;
- the solver loop alone on Lotka-Volterra at rtol = atol = 1.4e-8, against
  ``scipy.integrate.solve_ivp(method="RK45")`` with the same tolerances (the same method and
  error control: both take the same steps), per step.

Each pair is checked to agree before timing; ``--quick`` is a smoke run.
"""
from __future__ import annotations  # noqa: I001 (_harness before functrans: it puts the tree to measure on sys.path)

import math
import sys
from collections.abc import Sequence

import _harness
import numpy as np

import functrans as ft
import functrans.numpy as fnp
from functrans import nn, optim, random
from functrans.integrate import dopri5, odeint


MODEL = nn.Sequential(nn.Linear(2, 50), nn.tanh, nn.Linear(50, 2))
TOL = 1e-5
TRUE_A = np.array([[-0.1, 2.0], [-2.0, -0.1]])


def vector_field(y, t, params):
    return MODEL.apply(params, y ** 3)


def _backprop_odeint(params, y0, ts):
    """``odeint(vector_field, y0, ts, params)`` as a Python loop of traced operations."""
    shape = y0.shape
    problem = dopri5.Problem(
        lambda y, t: fnp.reshape(vector_field(fnp.reshape(y, shape), t, params), (-1,)),
        rtol=TOL, atol=TOL, mxstep=math.inf, hmax=math.inf, xp=fnp,
        to_float=lambda x: float(ft.stop_gradient(x)))
    ys = dopri5.solve(problem, fnp.reshape(y0, (-1,)), [float(t) for t in ts])
    return fnp.reshape(fnp.stack(ys), (len(ts),) + tuple(shape))


def training_steps(span: float, batch: int, segment: int):
    """The adjoint and the backpropagation steps, checked to agree, and a description."""
    ts = np.linspace(0.0, span, segment)
    y0 = np.stack([np.cos(np.linspace(0, 3, batch)), np.sin(np.linspace(0, 3, batch))], 1) * 2
    target = np.asarray(odeint(lambda y, t: (y ** 3) @ TRUE_A.T, y0, ts, rtol=1e-9, atol=1e-9))
    params = MODEL.init(random.key(0))
    opt = optim.adam(1e-2)
    state = opt.init(params)

    def make(solve):
        loss = lambda p: fnp.mean(fnp.abs(solve(p, y0, ts) - target))
        value_and_grad = ft.value_and_grad(loss)

        def step():
            value, grads = value_and_grad(params)
            updates, _ = opt.update(grads, state, params)
            return value, optim.apply_updates(params, updates), grads

        return step, lambda: ft.grad(loss)(params)

    adjoint = make(lambda p, y0, ts: odeint(vector_field, y0, ts, p, rtol=TOL, atol=TOL))
    backprop = make(_backprop_odeint)
    (va, _, ga), (vb, _, gb) = adjoint[0](), backprop[0]()
    assert abs(float(va) - float(vb)) < 1e-9, (va, vb)
    for a, b in zip(ft.tree.leaves(ga), ft.tree.leaves(gb)):
        np.testing.assert_allclose(a, b, rtol=5e-2, atol=5e-5)  # both to the tolerance
    return adjoint, backprop


def lotka_volterra_solvers():
    """Our solver loop and SciPy's RK45 on the same problem, and the number of steps."""
    integrate = __import__("scipy.integrate", fromlist=["solve_ivp"])
    ts = np.linspace(0.0, 10.0, 11)
    y0 = np.array([10.0, 5.0])

    def f(y, t):
        return np.array([1.5 * y[0] - y[0] * y[1], -3.0 * y[1] + y[0] * y[1]])

    problem = dopri5.Problem(f, rtol=1.4e-8, atol=1.4e-8, mxstep=math.inf, hmax=math.inf, xp=np)
    ours = lambda: dopri5.solve(problem, y0, list(ts))
    scipy = lambda: integrate.solve_ivp(lambda t, y: f(y, t), (0.0, 10.0), y0, t_eval=ts,
                                        method="RK45", rtol=1.4e-8, atol=1.4e-8)
    result = scipy()
    np.testing.assert_allclose(np.stack(ours()), result.y.T, rtol=1e-9, atol=1e-9)
    return ours, scipy, (result.nfev - 2) // 6  # six evaluations a step, two to start


def collect(section: _harness.Section, options: _harness.Options) -> None:
    """Time the training steps and the solver loop; measure the gradients' peak memory."""
    # the example's segments; a longer span sampled as densely; a long span with the loss on
    # its end only (the adjoint's case: many solver steps, two outputs)
    configs = [(1.0, 16, 10)] if options.quick else [(1.0, 16, 10), (5.0, 16, 40), (10.0, 16, 2)]
    for span, batch, segment in configs:
        (adjoint_step, adjoint_grad), (backprop_step, backprop_grad) = training_steps(span, batch, segment)
        label = f"t in [0, {span:g}], {segment} outputs, batch {batch}"
        section.add(_harness.measure(_harness.Workload(
            _harness.Row(f"neural ODE step, adjoint ({label})", unit="ms",
                         reference_name="backprop through the solver"),
            ours=adjoint_step, reference=backprop_step), options))
        peak_adjoint, _ = _harness.peak_memory(adjoint_grad)
        peak_backprop, _ = _harness.peak_memory(backprop_grad)
        section.add(_harness.Row(f"peak memory of grad, adjoint ({label})", ours=peak_adjoint,
                                 reference=peak_backprop, unit="MiB",
                                 reference_name="backprop through the solver"))
    ours, scipy, steps = lotka_volterra_solvers()
    section.note(f"solver loop: Lotka-Volterra, t in [0, 10], rtol = atol = 1.4e-8: {steps} steps "
                 "(the same for both); figures per step")
    section.add(_harness.measure(_harness.Workload(
        _harness.Row("Dormand-Prince loop, per step", unit="us", count=steps,
                     reference_name="scipy solve_ivp RK45"),
        ours=ours, reference=scipy), options))


def main(argv: Sequence[str] | None = None) -> int:
    return _harness.main(collect, __file__, __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
