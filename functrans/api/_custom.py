"""Functions with their own derivative rules (``custom_jvp``, ``custom_vjp``,
``custom_gradient``) and with their intermediates recomputed in the backward pass
(``checkpoint``, ``remat``).

These are the user-facing decorators: a call with traced arguments binds one primitive of
``functrans.lax`` (whose rules run the function and its rules under the interpreters); a
call with plain arrays is simply the function.
"""
from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from functrans import errors, tree
from functrans._abstract import aval_of
from functrans.api._checks import as_array, primal_leaf
from functrans.api._staging import _stage_abstract, _static_by_signature
from functrans.core.flatten import FlatFun, fun_name
from functrans.core.staging import close_over_tracers, eval_program
from functrans.core.trace import Tracer, named_scope
from functrans.lax.checkpoint import checkpoint_apply, checkpoint_apply_with_policy, name_p
from functrans.lax.custom import (
    CustomCall,
    JVPCall,
    VJPCall,
    custom_jvp_call_p,
    custom_vjp_call_p,
    per_argument_rule,
)

# Argument types that cannot hold a tracer: a call with only these needs no derivative work.
_PLAIN = frozenset((np.ndarray, np.float64, np.float32, float, int, bool, complex, type(None), str))


def _resolve_args(rules: Any, args: tuple, kwargs: dict, name: str) -> tuple:
    """The positional arguments of a call of ``rules.fun``, keyword arguments and the
    defaults of positional parameters put in place (the rules take every argument by
    position, as in JAX)."""
    positional = rules._positional
    if positional is None:  # (the signature, read once per decorated function)
        try:
            signature = inspect.signature(rules.fun)
        except (TypeError, ValueError):  # a builtin without one: arguments as given
            signature = None
        kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
        count = 0 if signature is None else sum(p.kind in kinds for p in signature.parameters.values())
        positional = rules._positional = (signature, count)
    signature, count = positional
    if signature is None or (not kwargs and len(args) >= count):
        return args
    bound = signature.bind(*args, **kwargs)
    bound.apply_defaults()
    passed = [k for k in bound.kwargs if k in kwargs]
    if passed:
        raise TypeError(
            f"{name}: keyword-only argument(s) {passed} cannot reach the rules, which take "
            "the function's arguments by position (as in JAX). Make them positional "
            "parameters of the function."
        )
    return bound.args


def _nondiff_positions(fun: Callable, nums: int | Sequence[int], names: str | Sequence[str], kind: str) -> tuple:
    """``nondiff_argnums`` with the positions of the parameters ``names`` added (JAX's
    ``nondiff_argnames``: the rules still take those arguments by position)."""
    nums = (nums,) if isinstance(nums, int) else tuple(nums)
    if any(not isinstance(i, int) or isinstance(i, bool) or i < 0 for i in nums):
        raise ValueError(
            f"{kind}({fun_name(fun)}): nondiff_argnums={nums!r} must be non-negative positions "
            "of the function's arguments (a negative one would not say which argument the "
            "rules receive first). Write nondiff_argnums=(1,) for the second argument."
        )
    names = (names,) if isinstance(names, str) else tuple(names)
    by_name = _static_by_signature(fun, (), names, kind, "nondiff_arg")[0] if names else ()
    return tuple(sorted(set(nums) | set(by_name)))


def _refuse_symbolic_zeros(symbolic_zeros: bool, name: str, instead: str) -> None:
    if symbolic_zeros:
        raise NotImplementedError(
            f"{name}: symbolic_zeros=True is not supported: {instead}. Drop the argument (and "
            "write the rule for arrays, without SymbolicZero checks)."
        )


def _has_tracer(leaves: Sequence) -> bool:
    return any(isinstance(leaf, Tracer) for leaf in leaves)


def _closes_over_tracers(functions: Sequence, nondiff_args: Sequence, leaves: Sequence) -> bool:
    """Whether ``functions`` (a custom function and its rules) or ``nondiff_args`` (its
    arguments in nondiff_argnums) may hold traced values that are not arguments of the call:
    a tracer in their closure cells, default values or ``functools.partial`` arguments, in the
    instance a bound method reads, or in those of the functions and objects found there,
    directly or in lists, tuples and dicts (the call's own
    ``leaves``, traced arguments in nondiff_argnums, aside). Then the call is recorded to find
    which ones they read. A module-level function costs one attribute read."""
    return _holds_tracer(functions, set()) or _holds_tracer(nondiff_args, {id(leaf) for leaf in leaves})


def _holds_tracer(roots: Sequence, seen: set[int]) -> bool:
    stack = [f for f in roots if f is not None]
    while stack:
        value = stack.pop()
        if id(value) in seen:
            continue
        seen.add(id(value))
        if isinstance(value, Tracer):
            return True
        if isinstance(value, (list, tuple)):
            stack.extend(value)
        elif isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, functools.partial):
            stack.extend((value.func, value.args, value.keywords))
        elif isinstance(value, (custom_jvp, custom_vjp)):
            stack.extend((value.fun, getattr(value, "jvp", None), getattr(value, "jvps", None),
                          getattr(value, "fwd", None), getattr(value, "bwd", None)))
        elif inspect.isfunction(value):
            for cell in value.__closure__ or ():
                try:
                    stack.append(cell.cell_contents)
                except ValueError:  # a cell not yet filled
                    pass
            stack.extend((value.__defaults__, value.__kwdefaults__))
        elif inspect.ismethod(value):  # the function, and the instance it reads through self
            stack.append(value.__func__)
            stack.append(value.__self__)
        elif hasattr(value, "__dict__") and not isinstance(value, type) and not inspect.ismodule(value):
            stack.extend(vars(value).values())  # an instance's attributes
    return False


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

    The rule's primal output must be what ``fun`` returns (structure, shapes, dtypes), and its
    tangent must have the output's shape and dtype; ``CustomRuleError`` says otherwise. An
    integer or boolean output has no derivative (JAX's ``float0``): give it zeros of its dtype
    (``fnp.zeros_like(out)``): a float tangent for it is refused, an integer one is taken as
    zeros. For the
    check, ``fun`` is recorded on abstract inputs once per signature of the arguments (its
    Python runs then, computing nothing), or run on the values if it needs them.

    ``fun`` may close over traced values (be defined inside a function under ``vmap``,
    ``jit`` or ``grad``, or inside a loop body): they become inputs of the call, and the rule
    is staged to read them as such. The rule gives no derivative with respect to them: that
    part is ``fun``'s own (JAX raises there instead); pass a value as an argument for the
    rule to give it.

    Args:
        fun: the function; its arguments and output are arrays or pytrees of them.
        nondiff_argnums: positions of arguments that are not differentiated (functions,
            ints, settings, or arrays that do not depend on the variable being
            differentiated; they may be batched by ``vmap`` or staged by ``jit``); the rule
            receives them first: ``rule(*nondiff_args, primals, tangents)``.
        nondiff_argnames: names of such parameters (they still reach the rule by position,
            as in JAX).

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

    def __init__(self, fun: Callable, nondiff_argnums: int | Sequence[int] = (),
                 nondiff_argnames: str | Sequence[str] = ()):
        functools.update_wrapper(self, fun)
        self.fun = fun
        self.nondiff_argnums = _nondiff_positions(fun, nondiff_argnums, nondiff_argnames, "custom_jvp")
        self.jvp: Callable | None = None
        self.jvps: tuple | None = None
        self._positional: tuple | None = None
        self._out_types: dict = {}  # the function's output types by signature (CustomCall.out_types)

    def defjvp(self, jvp: Callable, symbolic_zeros: bool = False) -> Callable:
        """Set the rule ``jvp(primals, tangents) -> (primal_out, tangent_out)``; returns it.
        A tangent known to be zero reaches the rule as an array of zeros (JAX's
        ``symbolic_zeros=True`` is refused: ``defjvps`` skips such arguments instead)."""
        _refuse_symbolic_zeros(symbolic_zeros, f"custom_jvp({fun_name(self.fun)}).defjvp",
                               "its rule receives a zero tangent as an array of zeros; defjvps, one rule "
                               "per argument, skips the arguments whose tangent is zero")
        self.jvp = jvp
        return jvp

    def defjvps(self, *rules: Callable | None) -> None:
        """Set one rule per differentiable argument: ``rule_i(t_i, primal_out, *primals)``
        gives that argument's contribution to the output tangent (``None``: no dependence)."""
        self.jvp = per_argument_rule
        self.jvps = rules

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        name = f"custom_jvp({fun_name(self.fun)})"
        if self.jvp is None:
            raise errors.CustomRuleError(
                f"{name}: no derivative rule is defined. Decorate one with "
                f"@{fun_name(self.fun)}.defjvp (or call .defjvps) before calling the function."
            )
        if not kwargs and all(type(a) in _PLAIN for a in args):
            return self.fun(*args)  # the fast path: plain arrays, nothing to differentiate
        args = _resolve_args(self, args, kwargs, name)
        call = CustomCall(self, args, name, traced_nondiff=True)
        if not _has_tracer(call.leaves):
            return self.fun(*args)
        leaves = [primal_leaf(leaf) for leaf in call.leaves]
        closes = _closes_over_tracers((self.fun, self.jvp, self.jvps), call.static, call.leaves)
        inputs, rules = JVPCall.closed(call, leaves) if closes else (leaves, JVPCall(call))
        outs = custom_jvp_call_p.bind(*inputs, call=rules)
        return call.out_tree.unflatten(outs)


class custom_vjp:
    """A function with its own reverse-mode derivative rule (decorator).

    Define the rule with ``f.defvjp(fwd, bwd)``: ``fwd(*args) -> (output, residuals)`` runs
    the function and saves what the backward pass needs; ``bwd(residuals, ct) -> tuple`` gives
    one cotangent per differentiable argument (``None`` for zero), each shaped like its
    argument. Works under ``grad``, ``vjp``, ``jacrev`` and ``vmap`` (and ``jacfwd`` of
    ``jacrev``, which differentiates ``bwd`` in forward mode); ``jvp`` and ``jacfwd`` of the
    function itself raise ``CustomRuleError`` (use ``custom_jvp`` for those). Traced values
    ``fun`` closes over are treated as in ``custom_jvp``, and ``fwd``'s output is checked
    against ``fun``'s as a ``custom_jvp`` rule's primal output is.

    Args:
        fun: the function; its arguments and output are arrays or pytrees of them.
        nondiff_argnums: positions of arguments that are not arrays; ``bwd`` receives them
            first: ``bwd(*nondiff_args, residuals, ct)``.
        nondiff_argnames: names of such parameters (they still reach ``fwd`` and ``bwd`` by
            position, as in JAX).

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

    def __init__(self, fun: Callable, nondiff_argnums: int | Sequence[int] = (),
                 nondiff_argnames: str | Sequence[str] = ()):
        functools.update_wrapper(self, fun)
        self.fun = fun
        self.nondiff_argnums = _nondiff_positions(fun, nondiff_argnums, nondiff_argnames, "custom_vjp")
        self.fwd: Callable | None = None
        self.bwd: Callable | None = None
        self._positional: tuple | None = None
        self._out_types: dict = {}  # the function's output types by signature (CustomCall.out_types)

    def defvjp(self, fwd: Callable, bwd: Callable, symbolic_zeros: bool = False) -> None:
        """Set the forward function ``fwd(*args) -> (out, residuals)`` and the backward
        function ``bwd(residuals, ct) -> tuple of cotangents``. ``fwd`` receives the
        arguments themselves and ``bwd`` a zero cotangent as an array of zeros (JAX's
        ``symbolic_zeros=True`` is refused)."""
        _refuse_symbolic_zeros(symbolic_zeros, f"custom_vjp({fun_name(self.fun)}).defvjp",
                               "fwd receives the arguments themselves (no perturbed flags) and bwd a "
                               "zero cotangent as an array of zeros")
        self.fwd = fwd
        self.bwd = bwd

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        name = f"custom_vjp({fun_name(self.fun)})"
        if self.fwd is None:
            raise errors.CustomRuleError(
                f"{name}: no derivative rule is defined. Call .defvjp(fwd, bwd) before calling "
                "the function."
            )
        args = _resolve_args(self, args, kwargs, name)
        call = CustomCall(self, args, name)
        if not _has_tracer(call.leaves):
            return self.fun(*args)
        leaves = [primal_leaf(leaf) for leaf in call.leaves]
        closes = _closes_over_tracers((self.fun, self.fwd, self.bwd), call.static, call.leaves)
        inputs, rules = VJPCall.closed(call, leaves) if closes else (leaves, VJPCall(call))
        outs = custom_vjp_call_p.bind(*inputs, call=rules)
        return call.out_tree.unflatten(outs)


def custom_gradient(fun: Callable) -> Callable:
    """A function with its own reverse-mode rule, given by the function itself (decorator;
    JAX's and TensorFlow's ``custom_gradient``): ``fun(*args)`` returns ``(output,
    vjp_fn)``, where ``vjp_fn(ct)`` maps a cotangent shaped like the output to a tuple with
    one cotangent per argument (for a function of one array argument, that array alone will
    do, as in JAX). ``vjp_fn`` may close over values computed by ``fun``, so the backward
    pass reuses the forward pass's work.

    It is ``custom_vjp`` with ``fun`` as its forward function and ``vjp_fn`` as the
    residual, so it works under ``grad``, ``vjp``, ``jacrev``, ``jit`` and ``vmap`` (not
    under forward mode: use ``custom_jvp`` for that).

    Args:
        fun: a function of arrays (pytrees) returning ``(output, vjp_fn)``.

    Returns:
        The function returning ``output`` alone, differentiated by ``vjp_fn``.

    Example:
        >>> import numpy as np, functrans as ft, functrans.numpy as fnp
        >>> @ft.custom_gradient
        ... def clipped_square(x):
        ...     return x ** 2, lambda ct: (fnp.clip(2 * x * ct, -1.0, 1.0),)
        >>> float(clipped_square(3.0)), float(ft.grad(clipped_square)(3.0))
        (9.0, 1.0)
    """
    name = f"custom_gradient({fun_name(fun)})"

    def fwd(*args: Any) -> tuple:
        result = fun(*args)
        if not (isinstance(result, (tuple, list)) and len(result) == 2 and callable(result[1])):
            raise errors.CustomRuleError(
                f"{name}: the function must return a pair (output, vjp_fn) with vjp_fn a "
                f"function of the output's cotangent, but it returned {type(result).__name__}."
            )
        return result[0], result[1]

    def bwd(vjp_fn: Callable, ct: Any) -> tuple:
        cts = vjp_fn(ct)
        if isinstance(cts, (tuple, list)):
            return tuple(cts)
        treedef = tree.structure(cts)
        if treedef.num_nodes == 1 and treedef.num_leaves == 1:
            return (cts,)  # one array: the cotangent of a function of one argument (as JAX)
        raise errors.CustomRuleError(
            f"{name}: vjp_fn must return a tuple with one cotangent per argument of the "
            f"function, but it returned {type(cts).__name__}. For one argument write "
            "lambda ct: (ct * ...,)."
        )

    @functools.wraps(fun)
    def output_only(*args: Any) -> Any:
        return fwd(*args)[0]

    wrapped = custom_vjp(output_only)
    wrapped.defvjp(fwd, bwd)
    return wrapped


def checkpoint(fun: Callable, *, static_argnums: int | Sequence[int] = (),
               static_argnames: str | Sequence[str] = (),
               policy: Callable[..., bool] | None = None, prevent_cse: bool = True) -> Callable:
    """``fun`` with its intermediate values recomputed in the backward pass instead of stored.

    The values are the same, and so are all derivatives; only reverse mode changes: it keeps
    the inputs of each call of ``fun`` rather than every intermediate array inside it, and
    computes the block once more during the backward pass. Checkpointing blocks of a deep
    network (every few layers) cuts the memory of ``grad`` from growing with the depth times
    the width of each layer to about the number of blocks plus one block's intermediates.

    Each call runs ``fun`` once, recording the primitives it applies; the backward pass
    replays that record, not the Python function. So the value and the derivatives come from
    one run even when ``fun`` draws from a stateful random generator (``np.random``), and its
    side effects happen once per call. Python control flow on values works as in ``grad``
    (under ``jit`` and ``vmap`` values are not known, as usual). Traced values ``fun`` closes
    over (an input of an enclosing ``jit``, the variable of an enclosing ``grad``) are inputs of
    the call as its arguments are: derivatives with respect to them are right in every mode.

    Args:
        fun: a function of arrays (pytrees) returning arrays (pytrees).
        static_argnums: positions of arguments that are not arrays (a string, a function, a
            setting): they are passed to ``fun`` as they are, not as inputs of the call.
            Negative positions count from the end of the call's positional arguments.
        static_argnames: names of such arguments. Keyword arguments are always passed to
            ``fun`` as they are (an array among them is read as a value ``fun`` closes
            over); a name here also makes its parameter static when it is passed by
            position.
        policy: which values to save rather than recompute, as JAX's: a function
            ``policy(prim, *args, **params) -> bool`` of each primitive the call applies,
            such as those of ``functrans.checkpoint_policies`` (``dots_saveable``,
            ``save_only_these_names`` with ``checkpoint_name``, ...). A saved primitive is
            computed once and differentiated as if not checkpointed (what its derivative
            reads is kept with it); the pieces between saved primitives are recomputed.
            ``None`` (the default) saves nothing but the call's inputs.
        prevent_cse: as in JAX, whether ``jit`` keeps the recomputation in the backward
            pass apart from the forward pass's equations. With ``False`` its simplifier may
            merge them, which saves the recomputation and the memory saving with it; that
            suits a ``lax.scan`` body, whose steps keep their own values anyway.

    Returns:
        The checkpointed function (``remat`` is the same thing). Used as
        ``functools.partial(checkpoint, static_argnums=...)`` it is a decorator.

    Example:
        >>> import numpy as np, functrans as ft, functrans.numpy as fnp
        >>> layer = ft.checkpoint(lambda w, x: fnp.tanh(w @ x))
        >>> w, x = np.eye(2), np.array([0.5, -0.5])
        >>> g = ft.grad(lambda w: fnp.sum(layer(w, layer(w, x))))(w)
        >>> np.allclose(g, ft.grad(lambda w: fnp.sum(fnp.tanh(w @ fnp.tanh(w @ x))))(w))
        True
    """

    static = (static_argnums,) if isinstance(static_argnums, int) else tuple(static_argnums)
    names = (static_argnames,) if isinstance(static_argnames, str) else tuple(static_argnames)
    # (the positions of the named parameters, static when the call passes them by position)
    by_name = _static_by_signature(fun, (), names, "checkpoint")[0] if names else ()

    @functools.wraps(fun)
    def checkpointed(*args: Any, **kwargs: Any) -> Any:
        n = len(args)
        if static or any(i < n for i in by_name):
            if any(not -n <= i < n for i in static):
                raise ValueError(
                    f"checkpoint({fun_name(fun)}): static_argnums={static_argnums!r} is out of "
                    f"range for a call with {n} positional argument{'s' if n != 1 else ''}; pass "
                    "the static arguments positionally."
                )
            positions = {i % n for i in static} | {i for i in by_name if i < n}
            flat = FlatFun(fun, args, kwargs, [i for i in range(n) if i not in positions])
        else:
            flat = FlatFun(fun, args, kwargs)
        if not _has_tracer(flat.leaves):
            return fun(*args, **kwargs)
        try:
            leaves = [primal_leaf(leaf) for leaf in flat.leaves]
        except TypeError as error:
            raise TypeError(
                f"checkpoint({fun_name(fun)}): {error} A non-array argument (a string, a "
                "function, a setting) is passed to the function as it is when its position is "
                "in static_argnums: checkpoint(f, static_argnums=(1,))."
            ) from None
        if policy is None:
            outs = checkpoint_apply(flat, leaves, flat.name, prevent_cse)
        else:
            outs = checkpoint_apply_with_policy(flat, leaves, flat.name, policy, prevent_cse)
        return flat.out_tree.unflatten(outs)

    if policy is not None and not callable(policy):
        raise TypeError(
            f"checkpoint({fun_name(fun)}): policy must be a function policy(prim, *args, "
            f"**params) -> bool, such as functrans.checkpoint_policies.dots_saveable; got "
            f"{policy!r}."
        )
    return checkpointed


def checkpoint_name(x: Any, name: str) -> Any:
    """``x`` (an array or a pytree of arrays) as it is, named ``name`` for the policies of a
    checkpointed function that enclose it (``functrans.checkpoint_policies``'s
    ``save_only_these_names`` and the like).

    Args:
        x: an array or a pytree of arrays.
        name: the name the policies see.

    Returns:
        ``x``, unchanged.

    Example:
        >>> import numpy as np, functrans as ft, functrans.numpy as fnp
        >>> from functrans import checkpoint_policies as cp
        >>> def block(x):
        ...     h = ft.checkpoint_name(fnp.sin(x) * 2.0, "hidden")
        ...     return fnp.sum(fnp.cos(h))
        >>> saved = ft.checkpoint(block, policy=cp.save_only_these_names("hidden"))
        >>> float(ft.grad(saved)(0.5)) == float(ft.grad(block)(0.5))
        True
    """
    return tree.map(lambda leaf: name_p.bind(leaf, name=name) if isinstance(leaf, Tracer) else leaf, x)


remat = checkpoint


def closure_convert(fun: Callable, *example_args: Any) -> tuple[Callable, list]:
    """``fun`` with the traced values it closes over made explicit arguments (JAX's
    ``closure_convert``), for higher-order functions with custom rules: a ``custom_vjp``
    whose argument is a function must not receive a closure over values being
    differentiated, whose derivatives its rule cannot see.

    ``fun`` is recorded once on the shapes and dtypes of ``example_args`` (as ``jit``
    records: Python control flow on their values raises). The tracers of enclosing
    transformations that it reads (the variable of an enclosing ``grad``, a value batched by
    ``vmap``) are returned as ``consts``; arrays it closes over that are not traced stay
    inside it, as in JAX.

    Args:
        fun: a function of arrays (pytrees) returning arrays (pytrees).
        *example_args: arguments of the shapes, dtypes and structure it will be called with.

    Returns:
        ``(converted, consts)``: ``converted(*args, *consts)`` is ``fun(*args)`` for
        arguments like ``example_args``.

    Raises:
        TypeError: if ``converted`` is called with arguments of other shapes or dtypes, or
            without the consts.

    Example:
        >>> import numpy as np, functrans as ft, functrans.numpy as fnp
        >>> def f(y):
        ...     scaled = lambda x: fnp.sin(x) * y  # closes over y, which grad traces
        ...     converted, consts = ft.closure_convert(scaled, 0.5)
        ...     return converted(0.5, *consts)
        >>> bool(np.isclose(ft.grad(f)(2.0), np.sin(0.5)))
        True
    """
    name = f"closure_convert({fun_name(fun)})"
    flat = FlatFun(fun, example_args, name=name)
    with named_scope(name):  # (Python scalars stand for Python scalars, as jit stages them)
        program, consts = close_over_tracers(_stage_abstract(flat, fun, name, example_args))
    leaves = flat.leaves
    avals = _avals(leaves)
    in_tree, out_tree = flat.in_tree, flat.out_tree
    n_args = len(example_args)

    def converted(*args: Any) -> Any:
        if len(args) != n_args + len(consts):
            raise TypeError(
                f"{name}: the converted function takes the {n_args} argument(s) of fun, then "
                f"the {len(consts)} const(s) closure_convert returned, but it was called with "
                f"{len(args)}. Call it as converted(*args, *consts)."
            )
        arg_leaves, arg_tree = tree.flatten(tuple(args[:n_args]))
        if arg_tree != in_tree:
            tree.assert_same_structure(in_tree.unflatten(leaves), tuple(args[:n_args]),
                                       names=("the example arguments", "the arguments"))
        got = _avals(arg_leaves)
        if got != avals:
            raise TypeError(
                f"{name}: the function was recorded for arguments of shapes and dtypes "
                f"{avals}, but it was called with {got}. Call closure_convert with examples of "
                "the new shapes and dtypes."
            )
        with named_scope(name):
            outs = eval_program(program, [*args[n_args:], *arg_leaves])
        return out_tree.unflatten(outs)

    return converted, list(consts)


def _avals(leaves: Sequence) -> list:
    """``(shape, dtype)`` of each leaf (a Python scalar as its type: it is weakly typed)."""
    return [type(leaf) if type(leaf) in (int, float, complex) else aval_of(as_array(leaf)) for leaf in leaves]
