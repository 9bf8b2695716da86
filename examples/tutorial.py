"""The PyTorch autograd tutorial, step by step, the functional way.

Each step is a worked example of the tutorials functrans started from. Where PyTorch marks a
tensor with ``requires_grad=True``, runs the computation and calls ``backward()`` to fill in
``.grad``, functrans takes the gradient *of a function*: ``ft.grad(f)`` is a new function
returning the derivative. Nothing accumulates, so there is nothing to zero; layers and
optimizers are pure functions of explicit parameters. The PyTorch lines are shown in the
comments for comparison.

Run: python examples/tutorial.py
"""
from __future__ import annotations

import os
import tempfile

import numpy as np

import functrans as ft
import functrans.numpy as fnp
from functrans import io, nn, optim, random


def section(title: str) -> None:
    print(f"\n== {title}")


def main() -> dict:
    results = {}

    section("1. The gradient of y = x^2 + 3x + 1 at x = 2")
    # PyTorch: x = torch.tensor(2.0, requires_grad=True); y = x**2 + 3*x + 1; y.backward(); x.grad
    def poly(x):
        return x**2 + 3 * x + 1

    results["poly"] = float(ft.grad(poly)(2.0))
    print("dy/dx =", results["poly"], "  (2x + 3 = 7)")

    section("2. Two inputs: z = x*y + y^2 at x = 2, y = 3")
    # PyTorch: z.backward(); x.grad, y.grad.  functrans: argnums picks the arguments.
    dz_dx, dz_dy = ft.grad(lambda x, y: x * y + y**2, argnums=(0, 1))(2.0, 3.0)
    results["dz"] = (float(dz_dx), float(dz_dy))
    print("dz/dx =", float(dz_dx), " dz/dy =", float(dz_dy), "  (y = 3, x + 2y = 8)")

    section("3. Exercise: y = 3x^3 + 2x^2 + x at x = 3")
    results["cubic"] = float(ft.grad(lambda x: 3 * x**3 + 2 * x**2 + x)(3.0))
    print("dy/dx =", results["cubic"], "  (9x^2 + 4x + 1 = 94)")

    section("4. Exercise: one gradient-descent step on (w - 5)^2 from w = 1, lr = 0.1")
    # PyTorch: loss.backward(); with torch.no_grad(): w -= lr * w.grad; w.grad.zero_()
    loss = lambda w: (w - 5) ** 2
    w = 1.0
    w = w - 0.1 * ft.grad(loss)(w)
    results["descent"] = float(w)
    print("w =", float(w), "  (1 - 0.1 * 2 * (1 - 5) = 1.8)")

    section("5. A linear layer and a squared error")
    # PyTorch: layer = nn.Linear(1, 1); loss = ((layer(x) - 2)**2).sum(); loss.backward()
    layer = nn.Linear(1, 1)
    params = layer.init(random.key(0))  # {'weight': (1, 1), 'bias': (1,)}, PyTorch's init
    x = fnp.array([[1.0]])

    def layer_loss(params, x):
        return fnp.sum((layer.apply(params, x) - 2.0) ** 2)

    g_params, g_x = ft.grad(layer_loss, argnums=(0, 1))(params, x)
    residual = float((x @ params["weight"].T + params["bias"] - 2.0)[0, 0])
    print("params:", {k: v.tolist() for k, v in params.items()})
    print("d/dweight =", g_params["weight"].tolist(), " d/dbias =", g_params["bias"].tolist(),
          " d/dinput =", g_x.tolist())
    print("by hand:   2r * x =", 2 * residual, " 2r =", 2 * residual,
          " 2r * w =", 2 * residual * float(params["weight"][0, 0]))
    results["linear"] = (float(g_params["weight"][0, 0]), float(g_params["bias"][0]),
                         float(g_x[0, 0]), residual, float(params["weight"][0, 0]))

    section("6. A training loop: SGD fits y = 3x + 1")
    # PyTorch: opt = torch.optim.SGD(model.parameters(), lr=0.1); per step:
    #          opt.zero_grad(); loss = mse(model(xs), ys); loss.backward(); opt.step()
    xs = fnp.linspace(-1.0, 1.0, 32).reshape(32, 1)
    ys = 3.0 * xs + 1.0
    model = nn.Linear(1, 1)
    params = model.init(random.key(1))
    opt = optim.sgd(0.1)
    state = opt.init(params)

    def mse(params):
        return nn.mse(model.apply(params, xs), ys)

    for step in range(500):
        value, grads = ft.value_and_grad(mse)(params)
        updates, state = opt.update(grads, state, params)
        params = optim.apply_updates(params, updates)
        if step in (0, 10, 100, 499):
            print(f"step {step:3d}  loss {float(value):.3e}")
    results["fit"] = (float(params["weight"][0, 0]), float(params["bias"][0]), float(mse(params)))
    print("learned w =", round(results["fit"][0], 6), " b =", round(results["fit"][1], 6))

    section("7. Higher-order derivatives of x^3 at x = 2")
    # PyTorch: torch.autograd.grad(y, x, create_graph=True), twice.  functrans: nest grad.
    cube = lambda x: x**3
    second = float(ft.grad(ft.grad(cube))(2.0))
    third = float(ft.grad(ft.grad(ft.grad(cube)))(2.0))
    results["higher"] = (second, third)
    print("d2/dx2 =", second, " (6x = 12)   d3/dx3 =", third, " (6)")

    section("8. Dynamic control flow: the loop length depends on the value")

    def collatz_poly(x):
        y, n = x, 0
        while y < 100.0:  # plain Python control flow on the value
            y = y * y if n % 2 == 0 else y + x
            n += 1
        return y

    results["loop"] = float(ft.grad(collatz_poly)(3.0))
    print("d/dx at 3 =", results["loop"], "  (y = (x^2 + x)^2: 2(x^2 + x)(2x + 1) = 168)")

    section("9. stop_gradient plays the role of torch.no_grad() / .detach()")
    results["stop"] = float(ft.grad(lambda x: x * ft.stop_gradient(x))(3.0))
    print("d/dx [x * stop_gradient(x)] at 3 =", results["stop"], "  (only the first factor: 3)")

    section("10. Saving and restoring parameters and optimizer state")
    # PyTorch: torch.save({'model': model.state_dict(), 'opt': opt.state_dict()}, path)
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "linear.npz")
        io.save(path, {"params": params, "opt": state})
        restored = io.load(path)
    same = all(np.array_equal(a, b) for a, b in zip(ft.tree.leaves(restored["params"]),
                                                    ft.tree.leaves(params)))
    results["restored"] = same and restored["opt"].count == state.count
    print("restored params equal:", same, "  optimizer step count:", restored["opt"].count)
    return results


if __name__ == "__main__":
    main()
