"""Functions with their own derivative rules: ``custom_jvp`` and ``custom_vjp``.

A call of such a function with traced arguments is one primitive application
(``custom_jvp_call`` / ``custom_vjp_call``) whose parameter ``call`` carries the user's
function and rules. Without tracers the function is simply called.

- ``custom_jvp``: the JVP rule is the user's rule, run on the primals and tangents as
  ordinary traced code, so it is itself differentiable (any order) and, being linear in the
  tangents, transposable: reverse mode comes from linearizing it, with no second rule.
- ``custom_vjp``: under linearize (``grad``, ``vjp``) the forward function runs and one
  ``custom_vjp_bwd`` equation is recorded, whose transpose calls the backward function with
  the saved residuals. Forward mode has no rule to use and raises ``CustomRuleError``.
- Under ``vmap`` both re-bind themselves with the function and rules vectorised by ``vmap``
  (all arguments batched at axis 0), so the custom rules keep applying inside the batch.
"""
from __future__ import annotations

import functools
import inspect
from typing import Callable, Sequence

import numpy as np

from functrans import errors, tree
from functrans.core.ir import StagingTrace, is_recorded_tangent
from functrans.core.primitive import Primitive
from functrans.core.trace import Tracer, new_trace
from functrans.core.zeros import zero

# =============================================================================================
# shared plumbing
# =============================================================================================


def _abstract_eval(flat_fun, args):
    """Shapes and dtypes of ``flat_fun(*args)``, found by recording it on abstract inputs."""
    with new_trace(StagingTrace, "abstract evaluation") as trace:
        in_vars = [trace.new_var(tuple(a.shape), a.dtype) for a in args]
        outs = flat_fun(*in_vars)
    return [(tuple(o.shape), o.dtype) for o in outs]


def _resolve_args(fun, args, kwargs):
    if not kwargs:
        return args
    bound = inspect.signature(fun).bind(*args, **kwargs)
    bound.apply_defaults()
    return bound.args


class _Call:
    """Splits a call into static (non-differentiable) arguments and flat array leaves, and
    rebuilds the user's argument lists from leaves; remembers the output structure."""

    def __init__(self, rules, args, name):
        self.rules = rules
        self.name = name
        nondiff = rules.nondiff_argnums
        self.static = [(i, args[i]) for i in nondiff]
        for i, value in self.static:
            if any(isinstance(leaf, Tracer) for leaf in tree.leaves(value)):
                raise errors.CustomRuleError(
                    f"{name}: argument {i} is listed in nondiff_argnums but holds a traced array. "
                    "nondiff_argnums is for values that are not arrays (functions, ints, "
                    "settings); pass arrays as ordinary arguments (their derivative may be "
                    "ignored by the rule)."
                )
        dyn = tuple(a for i, a in enumerate(args) if i not in nondiff)
        self.leaves, self.in_treedef = tree.flatten(dyn)
        self.out_treedef = None

    def args_of(self, leaves):
        dyn = list(self.in_treedef.unflatten(leaves))
        for i, value in self.static:
            dyn.insert(i, value)
        return dyn

    def dyn_of(self, leaves):
        return self.in_treedef.unflatten(leaves)

    def flat_out(self, out, what):
        leaves, treedef = tree.flatten(out)
        if self.out_treedef is None:
            self.out_treedef = treedef
        elif treedef != self.out_treedef:
            raise errors.CustomRuleError(
                f"{self.name}: {what} has structure {treedef}, but the function's output has "
                f"structure {self.out_treedef}. They must match."
            )
        return leaves

    def fun_flat(self, *leaves):
        return self.flat_out(self.rules.fun(*self.args_of(leaves)), "the output")


def _has_tracer(leaves) -> bool:
    for leaf in leaves:
        if isinstance(leaf, Tracer):
            return True
    return False


def _as_arrays(leaves):
    from functrans._api_util import as_array

    return [as_array(leaf) for leaf in leaves]


def _check_like(name, what, values, likes):
    for i, (v, like) in enumerate(zip(values, likes)):
        shape = () if isinstance(v, (int, float, complex, bool)) else tuple(v.shape)
        if shape != tuple(like.shape):
            raise errors.CustomRuleError(
                f"{name}: {what} {i} has shape {shape}, but it must have shape "
                f"{tuple(like.shape)} (that of the value it belongs to)."
            )


def _all_to_front(values, dims):
    size = batch_size(values, dims)
    return [bdim_at_front(v, d, size) for v, d in zip(values, dims)]


# =============================================================================================
# custom_jvp
# =============================================================================================


class custom_jvp:
    """A function with its own forward-mode derivative rule (decorator).

    Define the rule with ``@f.defjvp``: ``rule(primals, tangents) -> (primal_out,
    tangent_out)``, where ``primals`` and ``tangents`` are tuples of the (differentiable)
    arguments and ``tangent_out`` is shaped like the output. Or give one rule per argument with
    ``f.defjvps(rule_0, rule_1, ...)``, each ``rule_i(t_i, primal_out, *primals)`` returning
    that argument's contribution to the output tangent (``None`` for no dependence).

    The rule is ordinary traced code, so ``f`` is differentiable to any order, and reverse
    mode (``grad``, ``vjp``, ``jacrev``) is derived from the rule by linearizing it: the rule
    must therefore be linear in the tangents (it always is for a derivative). Use it for
    numerics (a stable formula, a derivative at a singular point) or for speed.

    Args:
        fun: the function; its arguments and output are arrays or pytrees of them.
        nondiff_argnums: positions of arguments that are not arrays (functions, ints,
            settings); the rule receives them first: ``rule(*nondiff_args, primals, tangents)``.

    Example:
        >>> import numpy as np, functrans as ft, functrans.numpy as fnp
        >>> @ft.custom_jvp
        ... def safe_norm(x):
        ...     return fnp.sqrt(fnp.sum(x ** 2))
        >>> @safe_norm.defjvp
        ... def _(primals, tangents):
        ...     (x,), (t,) = primals, tangents
        ...     y = safe_norm(x)
        ...     unit = x / fnp.where(y == 0, 1.0, y)  # the derivative 0 at x = 0, not nan
        ...     return y, fnp.sum(unit * t)
        >>> ft.grad(safe_norm)(np.zeros(2))
        array([0., 0.])
        >>> ft.grad(safe_norm)(np.array([3.0, 4.0]))
        array([0.6, 0.8])
    """

    def __init__(self, fun: Callable, nondiff_argnums: Sequence[int] = ()):
        functools.update_wrapper(self, fun)
        self.fun = fun
        self.nondiff_argnums = tuple(sorted(nondiff_argnums))
        self.jvp = None
        self.jvps = None

    def defjvp(self, jvp: Callable) -> Callable:
        """Set the rule ``jvp(primals, tangents) -> (primal_out, tangent_out)``; returns it."""
        self.jvp = jvp
        return jvp

    def defjvps(self, *rules: Callable | None) -> None:
        """Set one rule per differentiable argument: ``rule_i(t_i, primal_out, *primals)``
        gives that argument's contribution to the output tangent (``None``: no dependence)."""

        self.jvp = _per_argument_rule
        self.jvps = rules

    def __call__(self, *args, **kwargs):
        name = f"custom_jvp({self.__name__})" if hasattr(self, "__name__") else "custom_jvp"
        if self.jvp is None:
            raise errors.CustomRuleError(
                f"{name}: no derivative rule is defined. Decorate one with @{self.__name__}.defjvp "
                "(or call .defjvps) before calling the function."
            )
        if not kwargs and all(type(a) in _PLAIN for a in args):
            return self.fun(*args)  # the fast path: plain arrays, nothing to differentiate
        args = _resolve_args(self.fun, args, kwargs)
        call = _Call(self, args, name)
        if not _has_tracer(call.leaves):
            return self.fun(*args)
        outs = custom_jvp_call_p.bind(*_as_arrays(call.leaves), call=_JVPCall(call))
        return call.out_treedef.unflatten(outs)


# Argument types that cannot hold a tracer: a call with only these needs no derivative work.
_PLAIN = frozenset((np.ndarray, np.float64, np.float32, float, int, bool, complex, type(None), str))


def _per_argument_rule(*args):  # a marker: the rules given to defjvps are used
    raise AssertionError("not called")


class _JVPCall:
    """The ``call`` parameter of ``custom_jvp_call``: the function and its rule on flat
    leaves (vectorised versions are made for vmap)."""

    def __init__(self, call, fun_flat=None, jvp_flat=None):
        self.call = call
        self.fun_flat = fun_flat or call.fun_flat
        self.jvp_flat = jvp_flat or self._jvp_flat

    def _jvp_flat(self, primals, tangents, zero_flags=()):
        call = self.call
        rules = call.rules
        p_dyn, t_dyn = call.dyn_of(primals), call.dyn_of(tangents)
        if rules.jvp is _per_argument_rule:
            return self._per_argument_jvp(primals, p_dyn, t_dyn, zero_flags)
        static = [v for _, v in call.static]
        result = rules.jvp(*static, tuple(p_dyn), tuple(t_dyn))
        if not (isinstance(result, (tuple, list)) and len(result) == 2):
            raise errors.CustomRuleError(
                f"{call.name}: the JVP rule must return a pair (primal_out, tangent_out), but it "
                f"returned {type(result).__name__}."
            )
        outs = call.flat_out(result[0], "the rule's primal output")
        t_outs = call.flat_out(result[1], "the rule's tangent output")
        _check_like(call.name, "tangent output", t_outs, outs)
        return outs, t_outs

    def _per_argument_jvp(self, primals, p_dyn, t_dyn, zero_flags):
        """The output tangent as the sum of the per-argument rules of ``defjvps``, skipping
        arguments whose tangent is zero (all leaves of it zero)."""
        call = self.call
        outs = call.flat_out(call.rules(*call.args_of(primals)), "the output")
        out = call.out_treedef.unflatten(outs)
        flags = iter(zero_flags or [False] * len(primals))
        total = None
        for rule, p, t in zip(call.rules.jvps, p_dyn, t_dyn):
            arg_zero = all([next(flags) for _ in tree.leaves(p)])
            if rule is None or arg_zero:
                continue
            part = call.flat_out(rule(t, out, *p_dyn), "a defjvps rule's output")
            total = part if total is None else [a + b for a, b in zip(total, part)]
        if total is None:
            total = [full_like(o, 0) for o in _as_arrays(outs)]
        _check_like(call.name, "tangent output", total, _as_arrays(outs))
        return outs, total

    def __repr__(self):
        return getattr(self.call.rules, "__name__", "custom_jvp")


def _custom_jvp_call_jvp(primals, tangents, *, call):
    zero_flags = [t is zero for t in tangents]
    tangents = [full_like(p, 0) if t is zero else t for p, t in zip(primals, tangents)]
    return call.jvp_flat(primals, tangents, zero_flags)


def _custom_jvp_call_batch(values, dims, *, call):
    moved = _all_to_front(values, dims)
    batched = _JVPCall(
        call.call,
        fun_flat=lambda *leaves: vmap(lambda *ls: call.fun_flat(*ls))(*leaves),
        jvp_flat=lambda primals, tangents, zero_flags=(): tuple(vmap(
            lambda p, t: call.jvp_flat(p, t, zero_flags))(list(primals), list(tangents))),
    )
    outs = custom_jvp_call_p.bind(*moved, call=batched)
    return outs, [0] * len(outs)


custom_jvp_call_p = Primitive("custom_jvp_call", multiple_results=True)
custom_jvp_call_p.impl = lambda *leaves, call: call.fun_flat(*leaves)
custom_jvp_call_p.shape_rule = lambda *args, call: _abstract_eval(call.fun_flat, args)
custom_jvp_call_p.jvp = _custom_jvp_call_jvp
custom_jvp_call_p.batch = _custom_jvp_call_batch


# =============================================================================================
# custom_vjp
# =============================================================================================

_FORWARD_MODE = (
    "{name} has a custom VJP (a reverse-mode rule), which cannot compute forward-mode "
    "derivatives (jvp, jacfwd, linearize's f_jvp): a backward function gives J^T v, never J v. "
    "Use reverse mode (grad, vjp, jacrev), or define the rule with functrans.custom_jvp "
    "instead: reverse mode is derived from a custom JVP automatically, so one rule serves both."
)


class custom_vjp:
    """A function with its own reverse-mode derivative rule (decorator).

    Define the rule with ``f.defvjp(fwd, bwd)``: ``fwd(*args) -> (output, residuals)`` runs
    the function and saves what the backward pass needs; ``bwd(residuals, ct) -> tuple`` gives
    one cotangent per differentiable argument (``None`` for zero), each shaped like its
    argument. Works under ``grad``, ``vjp``, ``jacrev`` and ``vmap`` (and ``jacfwd`` of
    ``jacrev``, which differentiates ``bwd`` in forward mode); ``jvp`` and ``jacfwd`` of the
    function itself raise ``CustomRuleError`` (use ``custom_jvp`` for those).

    Args:
        fun: the function; its arguments and output are arrays or pytrees of them.
        nondiff_argnums: positions of arguments that are not arrays; ``bwd`` receives them
            first: ``bwd(*nondiff_args, residuals, ct)``.

    Example:
        >>> import numpy as np, functrans as ft, functrans.numpy as fnp
        >>> @ft.custom_vjp
        ... def clip_gradient(x):
        ...     return x
        >>> def fwd(x):
        ...     return x, None
        >>> def bwd(_, ct):
        ...     return (fnp.clip(ct, -1.0, 1.0),)
        >>> clip_gradient.defvjp(fwd, bwd)
        >>> ft.grad(lambda x: fnp.sum(clip_gradient(x) * 5.0))(np.ones(2))
        array([1., 1.])
    """

    def __init__(self, fun: Callable, nondiff_argnums: Sequence[int] = ()):
        functools.update_wrapper(self, fun)
        self.fun = fun
        self.nondiff_argnums = tuple(sorted(nondiff_argnums))
        self.fwd = None
        self.bwd = None

    def defvjp(self, fwd: Callable, bwd: Callable) -> None:
        """Set the forward function ``fwd(*args) -> (out, residuals)`` and the backward
        function ``bwd(residuals, ct) -> tuple of cotangents``."""
        self.fwd = fwd
        self.bwd = bwd

    def __call__(self, *args, **kwargs):
        name = f"custom_vjp({getattr(self, '__name__', 'f')})"
        if self.fwd is None:
            raise errors.CustomRuleError(
                f"{name}: no derivative rule is defined. Call .defvjp(fwd, bwd) before calling "
                "the function."
            )
        args = _resolve_args(self.fun, args, kwargs)
        call = _Call(self, args, name)
        if not _has_tracer(call.leaves):
            return self.fun(*args)
        outs = custom_vjp_call_p.bind(*_as_arrays(call.leaves), call=_VJPCall(call))
        return call.out_treedef.unflatten(outs)


class _VJPCall:
    """The ``call`` parameter of ``custom_vjp_call``: function, fwd and bwd on flat leaves."""

    def __init__(self, call, fun_flat=None, fwd_flat=None, bwd_flat=None):
        self.call = call
        self.fun_flat = fun_flat or call.fun_flat
        self.fwd_flat = fwd_flat or self._fwd_flat
        self.bwd_flat = bwd_flat or self._bwd_flat

    def _fwd_flat(self, *leaves):
        call = self.call
        result = call.rules.fwd(*call.args_of(leaves))
        if not (isinstance(result, (tuple, list)) and len(result) == 2):
            raise errors.CustomRuleError(
                f"{call.name}: fwd must return a pair (output, residuals), but it returned "
                f"{type(result).__name__}."
            )
        return call.flat_out(result[0], "fwd's output"), result[1]

    def _bwd_flat(self, res, cts):
        call = self.call
        static = [v for _, v in call.static]
        ct = call.out_treedef.unflatten(cts)
        in_cts = call.rules.bwd(*static, res, ct)
        dyn_count = len(call.dyn_of(call.leaves))
        if not isinstance(in_cts, (tuple, list)) or len(in_cts) != dyn_count:
            raise errors.CustomRuleError(
                f"{call.name}: bwd must return a tuple with one cotangent per differentiable "
                f"argument ({dyn_count}), but it returned {in_cts!r:.80}."
            )
        flat = []
        for arg, ct_arg in zip(call.dyn_of(call.leaves), in_cts):
            n = len(tree.leaves(arg))
            if ct_arg is None:
                flat.extend([None] * n)
                continue
            leaves = tree.leaves(ct_arg, is_leaf=lambda v: v is None)  # None: a zero part
            if len(leaves) != n:
                raise errors.CustomRuleError(
                    f"{call.name}: a cotangent returned by bwd has {len(leaves)} leaves, but its "
                    f"argument has {n}. Return cotangents shaped like the arguments."
                )
            flat.extend(leaves)
        _check_like(call.name, "cotangent returned by bwd for input leaf",
                    [c for c in flat if c is not None], [x for x, c in zip(call.leaves, flat) if c is not None])
        return flat

    def __repr__(self):
        return getattr(self.call.rules, "__name__", "custom_vjp")


def _custom_vjp_call_jvp(primals, tangents, *, call):
    live = [t for t in tangents if t is not zero]
    if not all(is_recorded_tangent(t) for t in live):
        raise errors.CustomRuleError(_FORWARD_MODE.format(name=call.call.name))
    outs, res = call.fwd_flat(*primals)
    positions = tuple(i for i, t in enumerate(tangents) if t is not zero)
    out_avals = tuple((tuple(o.shape), o.dtype) for o in _as_arrays(outs))
    t_outs = custom_vjp_bwd_p.bind(*live, call=call, res=res, positions=positions, out_avals=out_avals)
    return outs, list(t_outs)


def _custom_vjp_call_batch(values, dims, *, call):
    moved = _all_to_front(values, dims)
    batched = _VJPCall(
        call.call,
        fun_flat=lambda *leaves: vmap(lambda *ls: call.fun_flat(*ls))(*leaves),
        fwd_flat=lambda *leaves: vmap(lambda *ls: call.fwd_flat(*ls))(*leaves),
        bwd_flat=lambda res, cts: vmap(call.bwd_flat)(res, list(cts)),
    )
    outs = custom_vjp_call_p.bind(*moved, call=batched)
    return outs, [0] * len(outs)


custom_vjp_call_p = Primitive("custom_vjp_call", multiple_results=True)
custom_vjp_call_p.impl = lambda *leaves, call: call.fun_flat(*leaves)
custom_vjp_call_p.shape_rule = lambda *args, call: _abstract_eval(call.fun_flat, args)
custom_vjp_call_p.jvp = _custom_vjp_call_jvp
custom_vjp_call_p.batch = _custom_vjp_call_batch


# --- custom_vjp_bwd: the recorded linear map, transposed by calling bwd ----------------------------
def _custom_vjp_bwd_impl(*tangents, call, res, positions, out_avals):
    raise errors.CustomRuleError(_FORWARD_MODE.format(name=call.call.name))


def _custom_vjp_bwd_transpose(cts, *tangents, call, res, positions, out_avals):
    like = next(c for c in cts if c is not None)
    cts = [full_like(like, 0, shape=shape, dtype=dtype) if c is None else c
           for c, (shape, dtype) in zip(cts, out_avals)]
    in_cts = call.bwd_flat(res, cts)
    return tuple(in_cts[i] for i in positions)


custom_vjp_bwd_p = Primitive("custom_vjp_bwd", multiple_results=True)
custom_vjp_bwd_p.impl = _custom_vjp_bwd_impl
custom_vjp_bwd_p.shape_rule = lambda *ts, call, res, positions, out_avals: list(out_avals)
custom_vjp_bwd_p.transpose = _custom_vjp_bwd_transpose


from functrans._transforms_api import vmap  # noqa: E402
from functrans.primitives.conversion import full_like  # noqa: E402
from functrans.primitives._define import batch_size, bdim_at_front  # noqa: E402
