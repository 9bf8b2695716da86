"""Fused recurrent cells: the gate computation of a GRU or LSTM step after its matrix products
as one primitive, so a recurrent step is a handful of primitives instead of dozens.

``gru_cell(xw, hw, h)`` takes the input projection ``xw = x @ W_ih.T + b_ih`` and the hidden
projection ``hw = h @ W_hh.T + b_hh`` (both ``(..., 3H)``, gates in PyTorch's order
``(r, z, n)``) and the previous state ``h`` ``(..., H)``, and returns PyTorch's new state::

    r = sigmoid(xw_r + hw_r)
    z = sigmoid(xw_z + hw_z)
    n = tanh(xw_n + r * hw_n)          # the reset gate scales the hidden part, bias included
    h' = (1 - z) * n + z * h

``lstm_cell(g, c)`` takes the summed gate pre-activations ``g = xw + hw`` (``(..., 4H)``, gates
``(i, f, g, o)``) and the cell state, and returns PyTorch's ``(h', c')``.

Each cell is three primitives:

- ``gru_cell_p``: the step; its JVP is ``gru_cell_jvp_p``;
- ``gru_cell_jvp_p(xw, hw, h, t_xw, t_hw, t_h)``: the tangent of the step, linear in the three
  tangents; its transpose is ``gru_cell_vjp_p``;
- ``gru_cell_vjp_p(xw, hw, h, ct) -> (ct_xw, ct_hw, ct_h)``: the cotangents, linear in
  ``ct``; its transpose is ``gru_cell_jvp_p``;

and the same for ``lstm_cell``. The linear primitives compute the gates from the primal inputs,
or, under differentiation, take them as computed by the step: the JVP of ``gru_cell_p`` binds
``gru_cell_fwd_p(xw, hw, h) -> (h', gates)`` (``gates`` packs ``r, z, n`` as ``(..., 3H)``) and
passes ``gates`` to the linear primitives after ``h`` (``gru_cell_jvp_p(xw, hw, h, gates, t_xw,
t_hw, t_h)``, ``gru_cell_vjp_p(xw, hw, h, gates, ct)``), so reverse mode keeps them as residuals
instead of recomputing them at every step of the backward pass. ``gates`` is a hint, a function
of ``xw, hw, h``: the rules of the linear primitives differentiate through those three and
ignore the hint's tangent.
Their own derivatives with respect to the primal inputs (second order and beyond) are
written with existing primitives (``_gru_second``, ``_lstm_second`` and their cotangent forms),
which differentiate to any order. All batch by moving the batch axes to the front: the gates
work on any leading axes.

Example:
    >>> import numpy as np
    >>> h = gru_cell(np.zeros((2, 6)), np.zeros((2, 6)), np.ones((2, 2)))
    >>> h.tolist()  # z = 1/2, n = 0: half of the previous state
    [[0.5, 0.5], [0.5, 0.5]]
"""
from __future__ import annotations

from typing import Any

import numpy as np

from functrans.backend import array_module_of
from functrans.core.primitive import Primitive
from functrans.core.zeros import zero
from functrans.primitives._define import add, batch_size, bdim_at_front, zeros_like
from functrans.primitives.elementwise import logistic, mul, sub, tanh
from functrans.primitives.shape import concatenate, slice_

__all__ = ["gru_cell", "gru_cell_fwd_p", "gru_cell_jvp_p", "gru_cell_p", "gru_cell_vjp_p", "lstm_cell",
           "lstm_cell_jvp_p", "lstm_cell_p", "lstm_cell_vjp_p"]


# =============================================================================================
# the gates on arrays (the implementations)
# =============================================================================================
def _gru_gates(xp: Any, xw: Any, hw: Any, h: Any) -> tuple:
    """``r, z, n`` and ``hn`` (the hidden projection of the candidate) of one GRU step."""
    size = h.shape[-1]
    rz = xw[..., :2 * size] + hw[..., :2 * size]
    rz *= 0.5  # sigmoid(x) = (1 + tanh(x / 2)) / 2: no overflow for any x
    xp.tanh(rz, out=rz)
    rz *= 0.5
    rz += 0.5
    r, z = rz[..., :size], rz[..., size:]
    hn = hw[..., 2 * size:]
    n = r * hn
    n += xw[..., 2 * size:]
    xp.tanh(n, out=n)
    return r, z, n, hn


def _gru_cell_impl(xw, hw, h):
    xp = array_module_of(xw, hw, h)
    _, z, n, _ = _gru_gates(xp, xw, hw, h)
    out = h - n
    out *= z
    out += n
    return out


def _known_gates(xw, hw, h, gates) -> tuple:
    """``r, z, n, hn`` from the packed gates ``gru_cell_fwd`` returned."""
    size = h.shape[-1]
    return gates[..., :size], gates[..., size:2 * size], gates[..., 2 * size:], hw[..., 2 * size:]


def _gru_cell_fwd_impl(xw, hw, h):
    xp = array_module_of(xw, hw, h)
    r, z, n, _ = _gru_gates(xp, xw, hw, h)
    out = h - n
    out *= z
    out += n
    # (one copy: computing the gates into slices of one array instead is slower, its rows
    # being strided)
    return out, xp.concatenate([r, z, n], axis=-1)


def _gru_cell_jvp_impl(xw, hw, h, *rest):
    xp = array_module_of(xw, hw, h)
    size = h.shape[-1]
    if len(rest) == 4:
        r, z, n, hn = _known_gates(xw, hw, h, rest[0])
        rest = rest[1:]
    else:
        r, z, n, hn = _gru_gates(xp, xw, hw, h)
    t_xw, t_hw, t_h = rest
    s = t_xw[..., :2 * size] + t_hw[..., :2 * size]  # the summed gate tangents of r and z
    dan = hn * (1 - r)
    dan *= s[..., :size]
    dan += t_hw[..., 2 * size:]
    dan *= r
    dan += t_xw[..., 2 * size:]  # tangent of the candidate's pre-activation
    dan *= 1 - n * n
    dan *= 1 - z
    dz = (h - n) * z
    dz *= 1 - z
    dz *= s[..., size:]
    dan += dz
    dan += z * t_h
    return dan


def _gru_cell_vjp_impl(xw, hw, h, *rest):
    ct = rest[-1]
    xp = array_module_of(xw, hw, h, ct)
    r, z, n, hn = _known_gates(xw, hw, h, rest[0]) if len(rest) == 2 else _gru_gates(xp, xw, hw, h)
    kept = ct * (1 - z)  # the cotangent of n
    a_n = n * n
    a_n -= 1
    a_n *= kept  # minus the cotangent of the candidate's pre-activation
    g_r = a_n * hn
    g_r *= r
    g_r *= r - 1
    g_z = h - n
    g_z *= z
    g_z *= kept
    xp.negative(a_n, out=a_n)
    ct_xw = xp.concatenate([g_r, g_z, a_n], axis=-1)
    ct_hw = xp.concatenate([g_r, g_z, a_n * r], axis=-1)
    return ct_xw, ct_hw, ct * z


def _gru_shape(xw, hw, h, *rest):
    size = h.shape[-1]
    if xw.shape[-1:] != (3 * size,) or hw.shape[-1:] != (3 * size,) or xw.shape[:-1] != h.shape[:-1] \
            or hw.shape[:-1] != h.shape[:-1]:
        raise ValueError(f"gru_cell: expected xw and hw of shape {h.shape[:-1] + (3 * size,)} for a "
                         f"state of shape {h.shape}, got {xw.shape} and {hw.shape}")
    return h.shape, np.result_type(xw.dtype, hw.dtype, h.dtype, *(a.dtype for a in rest))


# =============================================================================================
# second order, with existing primitives (used only when the primal inputs are themselves traced)
# =============================================================================================
def _part(x, k: int, size: int):
    """Gate ``k`` (0: r, 1: z, 2: n) of a ``(..., 3H)`` array, as a ``slice`` primitive."""
    nd = len(x.shape)
    lead = tuple(x.shape[:-1])
    return slice_(x, (0,) * (nd - 1) + (k * size,), lead + ((k + 1) * size,), (1,) * nd)


def _gates_traced(xw, hw, h) -> dict:
    """The gates and their derivatives with respect to their pre-activations, as primitives."""
    size = h.shape[-1]
    r = logistic(add(_part(xw, 0, size), _part(hw, 0, size)))
    z = logistic(add(_part(xw, 1, size), _part(hw, 1, size)))
    hn = _part(hw, 2, size)
    n = tanh(add(_part(xw, 2, size), mul(r, hn)))
    r1 = mul(r, sub(1.0, r))
    z1 = mul(z, sub(1.0, z))
    n1 = sub(1.0, mul(n, n))
    return {"r": r, "z": z, "n": n, "hn": hn, "r1": r1, "z1": z1, "n1": n1,
            "r2": mul(r1, sub(1.0, mul(2.0, r))), "z2": mul(z1, sub(1.0, mul(2.0, z))),
            "n2": mul(-2.0, mul(n, n1)), "size": size}


def _direction(g: dict, t_xw, t_hw, t_h) -> dict:
    """The first-order pieces of a direction: gate pre-activation tangents and dn, dz."""
    size = g["size"]
    ar = add(_part(t_xw, 0, size), _part(t_hw, 0, size))
    az = add(_part(t_xw, 1, size), _part(t_hw, 1, size))
    hn_t = _part(t_hw, 2, size)
    dan = add(_part(t_xw, 2, size), add(mul(mul(g["r1"], g["hn"]), ar), mul(g["r"], hn_t)))
    return {"ar": ar, "az": az, "hn": hn_t, "h": t_h, "dan": dan, "dn": mul(g["n1"], dan),
            "dz": mul(g["z1"], az)}


def _gru_second(xw, hw, h, u: tuple, v: tuple):
    """The second derivative of the step along directions ``u`` and ``v`` (each a triple of
    tangents of ``xw, hw, h``), symmetric in the two."""
    g = _gates_traced(xw, hw, h)
    du, dv = _direction(g, *u), _direction(g, *v)
    d2an = add(mul(mul(g["r2"], g["hn"]), mul(du["ar"], dv["ar"])),
               mul(g["r1"], add(mul(du["ar"], dv["hn"]), mul(dv["ar"], du["hn"]))))
    d2n = add(mul(g["n2"], mul(du["dan"], dv["dan"])), mul(g["n1"], d2an))
    d2z = mul(g["z2"], mul(du["az"], dv["az"]))
    return add(add(mul(sub(1.0, g["z"]), d2n), mul(sub(h, g["n"]), d2z)),
               add(mul(du["dz"], sub(dv["h"], dv["dn"])), mul(dv["dz"], sub(du["h"], du["dn"]))))


def _gru_second_vjp(xw, hw, h, ct, v: tuple) -> tuple:
    """The cotangents ``(xw, hw, h)`` of ``u -> <ct, second derivative along u and v>``: the
    derivative of ``gru_cell_vjp_p`` with respect to the primal inputs, along ``v``."""
    g = _gates_traced(xw, hw, h)
    dv = _direction(g, *v)
    keep = mul(ct, sub(1.0, g["z"]))
    coef_dan = sub(mul(keep, mul(g["n2"], dv["dan"])), mul(ct, mul(dv["dz"], g["n1"])))
    g_r = add(mul(mul(keep, g["n1"]), add(mul(mul(g["r2"], g["hn"]), dv["ar"]), mul(g["r1"], dv["hn"]))),
              mul(coef_dan, mul(g["r1"], g["hn"])))
    g_hn = add(mul(mul(keep, g["n1"]), mul(g["r1"], dv["ar"])), mul(coef_dan, g["r"]))
    g_z = mul(ct, add(mul(sub(h, g["n"]), mul(g["z2"], dv["az"])), mul(g["z1"], sub(dv["h"], dv["dn"]))))
    axis = len(h.shape) - 1
    return (concatenate([g_r, g_z, coef_dan], axis), concatenate([g_r, g_z, g_hn], axis),
            mul(ct, dv["dz"]))


# =============================================================================================
# the primitives
# =============================================================================================
def _dense(tangents, like):
    return [zeros_like(p) if t is zero else t for t, p in zip(tangents, like)]


def _moved_to_front(values, dims):
    size = batch_size(values, dims)
    return [bdim_at_front(v, d, size) for v, d in zip(values, dims)]


# --- gru_cell: one step's gates ----------------------------------------------------------------
gru_cell_p = Primitive("gru_cell")
gru_cell_p.impl = _gru_cell_impl
gru_cell_p.shape_rule = _gru_shape


def _gru_cell_jvp(primals, tangents):
    if all(t is zero for t in tangents):
        return gru_cell_p.bind(*primals), zero
    out, gates = gru_cell_fwd_p.bind(*primals)
    return out, gru_cell_jvp_p.bind(*primals, gates, *_dense(tangents, primals))


gru_cell_p.jvp = _gru_cell_jvp
gru_cell_p.batch = lambda values, dims: (gru_cell_p.bind(*_moved_to_front(values, dims)), 0)


# --- gru_cell_fwd: the step and its gates, for the linear primitives ------------------------------
gru_cell_fwd_p = Primitive("gru_cell_fwd", multiple_results=True)
gru_cell_fwd_p.impl = _gru_cell_fwd_impl


def _gru_cell_fwd_shape(xw, hw, h):
    shape, dtype = _gru_shape(xw, hw, h)
    return [(shape, dtype), (xw.shape, dtype)]


def _gru_cell_fwd_jvp(primals, tangents):
    out, gates = gru_cell_fwd_p.bind(*primals)
    if all(t is zero for t in tangents):
        return [out, gates], [zero, zero]
    dense = _dense(tangents, primals)
    # (the gates' tangent, with existing primitives: only a derivative of order two or more
    # reaches this rule, and only the spec tests read it; see the module docstring)
    g = _gates_traced(*primals)
    d = _direction(g, *dense)
    t_gates = concatenate([mul(g["r1"], d["ar"]), d["dz"], d["dn"]], len(primals[2].shape) - 1)
    return [out, gates], [gru_cell_jvp_p.bind(*primals, gates, *dense), t_gates]


gru_cell_fwd_p.shape_rule = _gru_cell_fwd_shape
gru_cell_fwd_p.jvp = _gru_cell_fwd_jvp
gru_cell_fwd_p.batch = lambda values, dims: (gru_cell_fwd_p.bind(*_moved_to_front(values, dims)), [0, 0])


def gru_cell(xw: Any, hw: Any, h: Any) -> Any:
    """PyTorch's GRU update from the two projections (see the module docstring).

    Args:
        xw: ``x @ W_ih.T + b_ih``, shape ``(..., 3H)``.
        hw: ``h @ W_hh.T + b_hh``, shape ``(..., 3H)``.
        h: The previous state, ``(..., H)``.

    Returns:
        The new state, shaped like ``h``.

    Example:
        >>> import numpy as np
        >>> gru_cell(np.zeros(3), np.zeros(3), np.array([4.0])).tolist()
        [2.0]
    """
    return gru_cell_p.bind(xw, hw, h)


# --- gru_cell_jvp: the tangent of a step, linear in (t_xw, t_hw, t_h) -----------------------------
gru_cell_jvp_p = Primitive("gru_cell_jvp")
gru_cell_jvp_p.impl = _gru_cell_jvp_impl
gru_cell_jvp_p.shape_rule = _gru_shape


def _gru_cell_jvp_jvp(primals, tangents):
    k = len(primals) - 3  # xw, hw, h and, from gru_cell_fwd, the gates
    p, t = primals[:k], primals[k:]
    dp, dt = tangents[:3], tangents[k:]  # (the gates' tangent: see the module docstring)
    out = gru_cell_jvp_p.bind(*primals)
    parts = []
    if any(d is not zero for d in dt):
        parts.append(gru_cell_jvp_p.bind(*p, *_dense(dt, t)))
    if any(d is not zero for d in dp):
        parts.append(_gru_second(*p[:3], tuple(t), tuple(_dense(dp, p[:3]))))
    if not parts:
        return out, zero
    return out, parts[0] if len(parts) == 1 else add(parts[0], parts[1])


def _gru_cell_jvp_transpose(ct, *args):
    k = len(args) - 3
    return (zero,) * k + tuple(gru_cell_vjp_p.bind(*args[:k], ct))


gru_cell_jvp_p.jvp = _gru_cell_jvp_jvp
gru_cell_jvp_p.transpose = _gru_cell_jvp_transpose
gru_cell_jvp_p.batch = lambda values, dims: (gru_cell_jvp_p.bind(*_moved_to_front(values, dims)), 0)


# --- gru_cell_vjp: the cotangents of a step's inputs, linear in ct ----------------------------------
gru_cell_vjp_p = Primitive("gru_cell_vjp", multiple_results=True)
gru_cell_vjp_p.impl = _gru_cell_vjp_impl


def _gru_cell_vjp_shape(xw, hw, h, *rest):
    _, dtype = _gru_shape(xw, hw, h, *rest)
    return [(xw.shape, dtype), (hw.shape, dtype), (h.shape, dtype)]


gru_cell_vjp_p.shape_rule = _gru_cell_vjp_shape


def _gru_cell_vjp_jvp(primals, tangents):
    p, ct = primals[:-1], primals[-1]  # xw, hw, h (and the gates), ct
    dp, dct = tangents[:3], tangents[-1]
    outs = gru_cell_vjp_p.bind(*primals)
    parts = []
    if dct is not zero:
        parts.append(gru_cell_vjp_p.bind(*p, dct))
    if any(d is not zero for d in dp):
        parts.append(_gru_second_vjp(*p[:3], ct, tuple(_dense(dp, p[:3]))))
    if not parts:
        return outs, [zero, zero, zero]
    if len(parts) == 1:
        return outs, list(parts[0])
    return outs, [add(a, b) for a, b in zip(*parts)]


def _gru_cell_vjp_transpose(cts, *args):
    p = args[:-1]
    return (zero,) * len(p) + (gru_cell_jvp_p.bind(*p, *_dense(cts, p[:3])),)


gru_cell_vjp_p.jvp = _gru_cell_vjp_jvp
gru_cell_vjp_p.transpose = _gru_cell_vjp_transpose
gru_cell_vjp_p.batch = lambda values, dims: (gru_cell_vjp_p.bind(*_moved_to_front(values, dims)), [0, 0, 0])


# =============================================================================================
# LSTM: lstm_cell(g, c) -> (h', c'), g = xw + hw the summed gate pre-activations (i, f, g, o)
# =============================================================================================
def _lstm_gates(xp: Any, g: Any, c: Any) -> tuple:
    """``i, f, u, o`` (u: the candidate, PyTorch's ``g``), the new cell state and its tanh."""
    size = c.shape[-1]
    s = g * 0.5  # sigmoid(x) = (1 + tanh(x / 2)) / 2 for i, f and o; tanh for the candidate
    s[..., 2 * size:3 * size] = g[..., 2 * size:3 * size]
    xp.tanh(s, out=s)
    u = s[..., 2 * size:3 * size].copy()
    s *= 0.5
    s += 0.5
    i, f, o = s[..., :size], s[..., size:2 * size], s[..., 3 * size:]
    c_new = f * c
    c_new += i * u
    return i, f, u, o, c_new, xp.tanh(c_new)


def _lstm_cell_impl(g, c):
    _, _, _, o, c_new, t = _lstm_gates(array_module_of(g, c), g, c)
    return o * t, c_new


def _lstm_cell_jvp_impl(g, c, t_g, t_c):
    i, f, u, o, _, t = _lstm_gates(array_module_of(g, c), g, c)
    size = c.shape[-1]
    dc = f * (1 - f) * t_g[..., size:2 * size] * c
    dc += f * t_c
    dc += i * (1 - i) * t_g[..., :size] * u
    dc += i * (1 - u * u) * t_g[..., 2 * size:3 * size]
    dh = o * (1 - o) * t_g[..., 3 * size:] * t
    dh += o * (1 - t * t) * dc
    return dh, dc


def _lstm_cell_vjp_impl(g, c, ct_h, ct_c):
    xp = array_module_of(g, c)
    i, f, u, o, _, t = _lstm_gates(xp, g, c)
    a = ct_h * o * (1 - t * t)  # the cotangent of the new cell state, both outputs'
    a += ct_c
    parts = [a * u * i * (1 - i), a * c * f * (1 - f), a * i * (1 - u * u), ct_h * t * o * (1 - o)]
    return xp.concatenate(parts, axis=-1), a * f


def _lstm_shape(g, c, *rest):
    size = c.shape[-1]
    if g.shape != c.shape[:-1] + (4 * size,):
        raise ValueError(f"lstm_cell: expected gates of shape {c.shape[:-1] + (4 * size,)} for a "
                         f"cell state of shape {c.shape}, got {g.shape}")
    dtype = np.result_type(g.dtype, c.dtype, *(a.dtype for a in rest))
    return [(c.shape, dtype), (c.shape, dtype)]


def _lstm_traced(g, c) -> dict:
    size = c.shape[-1]
    sig = {k: logistic(_part4(g, j, size)) for k, j in (("i", 0), ("f", 1), ("o", 3))}
    u = tanh(_part4(g, 2, size))
    c_new = add(mul(sig["f"], c), mul(sig["i"], u))
    t = tanh(c_new)
    out = {"u": u, "t": t, "c": c, "size": size, **sig}
    for k in ("i", "f", "o"):
        out[k + "1"] = mul(sig[k], sub(1.0, sig[k]))
        out[k + "2"] = mul(out[k + "1"], sub(1.0, mul(2.0, sig[k])))
    out["u1"] = sub(1.0, mul(u, u))
    out["u2"] = mul(-2.0, mul(u, out["u1"]))
    out["t1"] = sub(1.0, mul(t, t))
    out["t2"] = mul(-2.0, mul(t, out["t1"]))
    return out


def _part4(x, k: int, size: int):
    """Gate ``k`` (0: i, 1: f, 2: g, 3: o) of a ``(..., 4H)`` array."""
    nd = len(x.shape)
    return slice_(x, (0,) * (nd - 1) + (k * size,), tuple(x.shape[:-1]) + ((k + 1) * size,), (1,) * nd)


def _lstm_direction(s: dict, t_g, t_c) -> dict:
    size = s["size"]
    d = {k: _part4(t_g, j, size) for k, j in (("gi", 0), ("gf", 1), ("gg", 2), ("go", 3))}
    d["c"] = t_c
    d["i"], d["f"] = mul(s["i1"], d["gi"]), mul(s["f1"], d["gf"])
    d["u"], d["o"] = mul(s["u1"], d["gg"]), mul(s["o1"], d["go"])
    d["cn"] = add(add(mul(d["f"], s["c"]), mul(s["f"], t_c)), add(mul(d["i"], s["u"]), mul(s["i"], d["u"])))
    return d


def _lstm_second(g, c, u: tuple, v: tuple) -> tuple:
    """The second derivative of ``(h', c')`` along directions ``u`` and ``v`` of ``(g, c)``."""
    s = _lstm_traced(g, c)
    du, dv = _lstm_direction(s, *u), _lstm_direction(s, *v)
    d2c = add(add(mul(mul(s["f2"], mul(du["gf"], dv["gf"])), c),
                  add(mul(du["f"], dv["c"]), mul(dv["f"], du["c"]))),
              add(add(mul(mul(s["i2"], mul(du["gi"], dv["gi"])), s["u"]),
                      add(mul(du["i"], dv["u"]), mul(dv["i"], du["u"]))),
                  mul(s["i"], mul(s["u2"], mul(du["gg"], dv["gg"])))))
    d2h = add(add(mul(mul(s["o2"], mul(du["go"], dv["go"])), s["t"]),
                  mul(s["t1"], add(mul(du["o"], dv["cn"]), mul(dv["o"], du["cn"])))),
              mul(s["o"], add(mul(s["t2"], mul(du["cn"], dv["cn"])), mul(s["t1"], d2c))))
    return d2h, d2c


def _lstm_second_vjp(g, c, ct_h, ct_c, v: tuple) -> tuple:
    """The cotangents ``(g, c)`` of ``u -> <(ct_h, ct_c), second derivative along u and v>``."""
    s = _lstm_traced(g, c)
    dv = _lstm_direction(s, *v)
    a = add(ct_c, mul(ct_h, mul(s["o"], s["t1"])))  # what multiplies the second derivative of c'
    k = mul(ct_h, add(mul(dv["o"], s["t1"]), mul(s["o"], mul(s["t2"], dv["cn"]))))  # ... of dc'_u
    g_i = add(mul(a, add(mul(mul(s["u"], s["i2"]), dv["gi"]), mul(s["i1"], dv["u"]))),
              mul(k, mul(s["i1"], s["u"])))
    g_f = add(mul(a, add(mul(mul(c, s["f2"]), dv["gf"]), mul(s["f1"], dv["c"]))), mul(k, mul(s["f1"], c)))
    g_g = add(mul(a, add(mul(dv["i"], s["u1"]), mul(s["i"], mul(s["u2"], dv["gg"])))),
              mul(k, mul(s["i"], s["u1"])))
    g_o = mul(ct_h, add(mul(mul(s["t"], s["o2"]), dv["go"]), mul(s["o1"], mul(s["t1"], dv["cn"]))))
    g_c = add(mul(a, dv["f"]), mul(k, s["f"]))
    return concatenate([g_i, g_f, g_g, g_o], len(c.shape) - 1), g_c


# --- lstm_cell: one step's gates -----------------------------------------------------------------
lstm_cell_p = Primitive("lstm_cell", multiple_results=True)
lstm_cell_p.impl = _lstm_cell_impl
lstm_cell_p.shape_rule = _lstm_shape


def _lstm_cell_jvp(primals, tangents):
    outs = lstm_cell_p.bind(*primals)
    if all(t is zero for t in tangents):
        return outs, [zero, zero]
    return outs, lstm_cell_jvp_p.bind(*primals, *_dense(tangents, primals))


lstm_cell_p.jvp = _lstm_cell_jvp
lstm_cell_p.batch = lambda values, dims: (lstm_cell_p.bind(*_moved_to_front(values, dims)), [0, 0])


def lstm_cell(g: Any, c: Any) -> tuple[Any, Any]:
    """PyTorch's LSTM update from the summed gate pre-activations
    ``g = x @ W_ih.T + b_ih + h @ W_hh.T + b_hh`` (``(..., 4H)``, gates ``(i, f, g, o)``) and
    the cell state ``c`` (``(..., H)``)::

        c' = sigmoid(f) * c + sigmoid(i) * tanh(g)
        h' = sigmoid(o) * tanh(c')

    Returns:
        ``(h', c')``.

    Example:
        >>> import numpy as np
        >>> h, c = lstm_cell(np.zeros(4), np.array([2.0]))
        >>> c.tolist(), round(float(h[0]), 6)
        ([1.0], 0.380797)
    """
    h, c = lstm_cell_p.bind(g, c)
    return h, c


# --- lstm_cell_jvp: the tangents of (h', c'), linear in (t_g, t_c) ---------------------------------
lstm_cell_jvp_p = Primitive("lstm_cell_jvp", multiple_results=True)
lstm_cell_jvp_p.impl = _lstm_cell_jvp_impl
lstm_cell_jvp_p.shape_rule = _lstm_shape


def _lstm_cell_jvp_jvp(primals, tangents):
    p, t = primals[:2], primals[2:]
    dp, dt = tangents[:2], tangents[2:]
    outs = lstm_cell_jvp_p.bind(*primals)
    parts = []
    if any(d is not zero for d in dt):
        parts.append(lstm_cell_jvp_p.bind(*p, *_dense(dt, t)))
    if any(d is not zero for d in dp):
        parts.append(_lstm_second(*p, tuple(t), tuple(_dense(dp, p))))
    if not parts:
        return outs, [zero, zero]
    return outs, list(parts[0]) if len(parts) == 1 else [add(a, b) for a, b in zip(*parts)]


def _lstm_cell_jvp_transpose(cts, g, c, t_g, t_c):
    return (zero, zero, *lstm_cell_vjp_p.bind(g, c, *_dense(cts, (c, c))))


lstm_cell_jvp_p.jvp = _lstm_cell_jvp_jvp
lstm_cell_jvp_p.transpose = _lstm_cell_jvp_transpose
lstm_cell_jvp_p.batch = lambda values, dims: (lstm_cell_jvp_p.bind(*_moved_to_front(values, dims)), [0, 0])


# --- lstm_cell_vjp: the cotangents of (g, c), linear in (ct_h, ct_c) --------------------------------
lstm_cell_vjp_p = Primitive("lstm_cell_vjp", multiple_results=True)
lstm_cell_vjp_p.impl = _lstm_cell_vjp_impl


def _lstm_cell_vjp_shape(g, c, ct_h, ct_c):
    (_, dtype), _ = _lstm_shape(g, c, ct_h, ct_c)
    return [(g.shape, dtype), (c.shape, dtype)]


lstm_cell_vjp_p.shape_rule = _lstm_cell_vjp_shape


def _lstm_cell_vjp_jvp(primals, tangents):
    p, ct = primals[:2], primals[2:]
    dp, dct = tangents[:2], tangents[2:]
    outs = lstm_cell_vjp_p.bind(*primals)
    parts = []
    if any(d is not zero for d in dct):
        parts.append(lstm_cell_vjp_p.bind(*p, *_dense(dct, ct)))
    if any(d is not zero for d in dp):
        parts.append(_lstm_second_vjp(*p, *ct, tuple(_dense(dp, p))))
    if not parts:
        return outs, [zero, zero]
    return outs, list(parts[0]) if len(parts) == 1 else [add(a, b) for a, b in zip(*parts)]


def _lstm_cell_vjp_transpose(cts, g, c, ct_h, ct_c):
    return (zero, zero, *lstm_cell_jvp_p.bind(g, c, *_dense(cts, (g, c))))


lstm_cell_vjp_p.jvp = _lstm_cell_vjp_jvp
lstm_cell_vjp_p.transpose = _lstm_cell_vjp_transpose
lstm_cell_vjp_p.batch = lambda values, dims: (lstm_cell_vjp_p.bind(*_moved_to_front(values, dims)), [0, 0])
