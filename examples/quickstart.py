"""functrans in one page: derivatives of ordinary NumPy-style functions, printed.

Run: python examples/quickstart.py
"""
import numpy as np

import functrans as ft
import functrans.numpy as fnp


def main():
    # 1. The derivative of a scalar function: d/dx (x^2 + 3x + 1) at x = 2 is 7.
    f = lambda x: x**2 + 3 * x + 1
    print("f'(2)            =", ft.grad(f)(2.0))

    # 2. Higher order by nesting: d^3/dx^3 sin(x) = -cos(x).
    print("sin'''(0.5)      =", ft.grad(ft.grad(ft.grad(fnp.sin)))(0.5), " (-cos(0.5) =", -np.cos(0.5), ")")

    # 3. Gradients with respect to several arguments, and of array functions.
    def loss(w, b, x, y):
        return fnp.mean((fnp.tanh(x @ w + b) - y) ** 2)

    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((8, 3)), rng.standard_normal(8)
    w, b = rng.standard_normal(3), 0.1
    value, (g_w, g_b) = ft.value_and_grad(loss, argnums=(0, 1))(w, b, x, y)
    print("loss             =", value)
    print("d loss / d w     =", g_w)
    print("d loss / d b     =", g_b)

    # 4. Pytrees: parameters as a dict; the gradient has the same structure.
    params = {"w": w, "b": np.float64(b)}
    grads = ft.grad(lambda p: loss(p["w"], p["b"], x, y))(params)
    print("grads (a dict)   =", {k: np.round(v, 4) for k, v in grads.items()})

    # 5. Forward and reverse mode: a Jacobian-vector and a vector-Jacobian product.
    g = lambda v: fnp.sin(v) * v
    v = np.array([0.0, 1.0, 2.0])
    _, jvp_out = ft.jvp(g, (v,), (np.ones(3),))
    _, g_vjp = ft.vjp(g, v)
    print("J @ 1            =", jvp_out)
    print("1 @ J            =", g_vjp(np.ones(3))[0])

    # 6. Python control flow on traced values: the loop runs as many times as the data says.
    def repeated_square(x):
        while x < 100.0:
            x = x * x
        return x

    # At 3: 3 -> 9 -> 81 -> 6561, so the function is x^8 there and the derivative 8 x^7.
    print("loop derivative  =", ft.grad(repeated_square)(3.0), " (8 * 3**7 =", 8 * 3**7, ")")

    # 7. A Hessian-vector product: forward over reverse.
    h = lambda v: fnp.sum(v**3)  # Hessian diag(6 v)
    print("H @ [1, 1, 1]    =", ft.jvp(ft.grad(h), (v,), (np.ones(3),))[1], " (6 v =", 6 * v, ")")


if __name__ == "__main__":
    main()
