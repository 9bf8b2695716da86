"""Op-table rows of the fused recurrent cells (functrans.primitives.recurrent): each primitive
against the GRU and LSTM formulas written out in NumPy, derivatives to second order."""
from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

import functrans.primitives as P

from .opspec import prim_spec
from .strategies import MAX_SIDE


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _gates(xw, hw, h):
    size = h.shape[-1]
    r = _sigmoid(xw[..., :size] + hw[..., :size])
    z = _sigmoid(xw[..., size:2 * size] + hw[..., size:2 * size])
    n = np.tanh(xw[..., 2 * size:] + r * hw[..., 2 * size:])
    return r, z, n


def _gru_ref(xw, hw, h):
    _, z, n = _gates(xw, hw, h)
    return (1 - z) * n + z * h


def _gru_fwd_ref(xw, hw, h):
    r, z, n = _gates(xw, hw, h)
    return (1 - z) * n + z * h, np.concatenate([r, z, n], -1)


def _gru_jvp_ref(xw, hw, h, t_xw, t_hw, t_h):
    size = h.shape[-1]
    r, z, n = _gates(xw, hw, h)
    dr = r * (1 - r) * (t_xw[..., :size] + t_hw[..., :size])
    dz = z * (1 - z) * (t_xw[..., size:2 * size] + t_hw[..., size:2 * size])
    dn = (1 - n * n) * (t_xw[..., 2 * size:] + dr * hw[..., 2 * size:] + r * t_hw[..., 2 * size:])
    return (1 - z) * dn + (h - n) * dz + z * t_h


def _gru_vjp_ref(xw, hw, h, ct):
    size = h.shape[-1]
    r, z, n = _gates(xw, hw, h)
    a_n = ct * (1 - z) * (1 - n * n)
    g_r = a_n * hw[..., 2 * size:] * r * (1 - r)
    g_z = ct * (h - n) * z * (1 - z)
    return (np.concatenate([g_r, g_z, a_n], -1), np.concatenate([g_r, g_z, a_n * r], -1), ct * z)


def gru_sig(extra_step: int, extra_state: int):
    """Shapes ``(..., 3H)`` twice and ``(..., H)``, then ``extra_step`` more of each of the
    first three (the tangents) and ``extra_state`` more ``(..., H)`` (a cotangent)."""
    lead = st.lists(st.integers(0, MAX_SIDE), max_size=2).map(tuple)

    def shapes(draw_lead, size):
        step, state = draw_lead + (3 * size,), draw_lead + (size,)
        first = (step, step, state)
        return first * (1 + extra_step) + (state,) * extra_state, {}

    return st.tuples(lead, st.integers(1, 3)).map(lambda ls: shapes(*ls))


def _lstm_parts(g, c):
    size = c.shape[-1]
    i, f = _sigmoid(g[..., :size]), _sigmoid(g[..., size:2 * size])
    u, o = np.tanh(g[..., 2 * size:3 * size]), _sigmoid(g[..., 3 * size:])
    c_new = f * c + i * u
    return i, f, u, o, c_new, np.tanh(c_new)


def _lstm_ref(g, c):
    *_, o, c_new, t = _lstm_parts(g, c)
    return o * t, c_new


def _lstm_jvp_ref(g, c, t_g, t_c):
    size = c.shape[-1]
    i, f, u, o, _, t = _lstm_parts(g, c)
    dc = (f * (1 - f) * t_g[..., size:2 * size] * c + f * t_c + i * (1 - i) * t_g[..., :size] * u
          + i * (1 - u * u) * t_g[..., 2 * size:3 * size])
    return o * (1 - o) * t_g[..., 3 * size:] * t + o * (1 - t * t) * dc, dc


def _lstm_vjp_ref(g, c, ct_h, ct_c):
    i, f, u, o, _, t = _lstm_parts(g, c)
    a = ct_c + ct_h * o * (1 - t * t)
    parts = [a * u * i * (1 - i), a * c * f * (1 - f), a * i * (1 - u * u), ct_h * t * o * (1 - o)]
    return np.concatenate(parts, -1), a * f


def lstm_sig(extra_gates: int, extra_state: int):
    """Shapes ``(..., 4H)`` and ``(..., H)``, then ``extra_gates`` more of the first and
    ``extra_state`` more of the second."""
    lead = st.lists(st.integers(0, MAX_SIDE), max_size=2).map(tuple)

    def shapes(draw_lead, size):
        gates, state = draw_lead + (4 * size,), draw_lead + (size,)
        return (gates, state) + (gates,) * extra_gates + (state,) * extra_state, {}

    return st.tuples(lead, st.integers(1, 3)).map(lambda ls: shapes(*ls))


PRIMITIVES = [
    prim_spec("gru_cell", lambda xw, hw, h: P.gru_cell_p.bind(xw, hw, h), _gru_ref, 3, gru_sig(0, 0)),
    prim_spec("gru_cell_fwd", lambda *a: tuple(P.gru_cell_fwd_p.bind(*a)), _gru_fwd_ref, 3, gru_sig(0, 0)),
    prim_spec("gru_cell_jvp", lambda *a: P.gru_cell_jvp_p.bind(*a), _gru_jvp_ref, 6, gru_sig(1, 0)),
    prim_spec("gru_cell_vjp", lambda *a: tuple(P.gru_cell_vjp_p.bind(*a)), _gru_vjp_ref, 4, gru_sig(0, 1)),
    prim_spec("lstm_cell", lambda g, c: tuple(P.lstm_cell_p.bind(g, c)), _lstm_ref, 2, lstm_sig(0, 0)),
    prim_spec("lstm_cell_jvp", lambda *a: tuple(P.lstm_cell_jvp_p.bind(*a)), _lstm_jvp_ref, 4, lstm_sig(1, 1)),
    prim_spec("lstm_cell_vjp", lambda *a: tuple(P.lstm_cell_vjp_p.bind(*a)), _lstm_vjp_ref, 4, lstm_sig(0, 2)),
]
