"""The primitives behind functions with their own derivative rules (``functrans.custom_jvp``
and ``functrans.custom_vjp``): ``custom_jvp_call``, ``custom_vjp_call`` and ``custom_vjp_bwd``.

A call of such a function with traced arguments is one primitive application whose
parameter ``call`` carries the user's function and rules on flat leaves:

- ``custom_jvp_call``: its JVP rule is the user's rule, run on the primals and tangents as
  ordinary traced code, so it is itself differentiable (any order) and, being linear in the
  tangents, transposable: reverse mode comes from linearizing it, with no second rule.
- ``custom_vjp_call``: under linearize (``grad``, ``vjp``) the forward function runs and one
  ``custom_vjp_bwd`` equation is recorded, whose transpose calls the backward function with
  the saved residuals. Forward mode has no rule to use and raises ``CustomRuleError``.
- Under ``vmap`` both bind themselves again with the function and rules batched (all
  arguments batched at axis 0, but unbatched Python scalars), so the custom rules keep
  applying inside the batch.

A Python scalar argument stays one (weakly typed: ``x32 * 2.0`` is float32) in every mode:
it is an operand as it is, recordings take it as one (``stage_like``, ``_weak_inputs``),
``vmap`` leaves it unbatched, its zero tangent is a Python zero, and the tangent or cotangent
a rule computes for it is converted to the dtypes any other primitive gives.

A function that closes over traced values (one defined inside the function being
transformed, or inside a loop body or branch) is recorded once, and its rules staged, when it
is called: the values they read become leading arguments of the call (``closure``), so every
transformation sees them. The rules give no derivative with respect to them: that part is
the function's own, by forward mode through its recording (JAX raises there instead).
"""
from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from functrans import errors, tree
from functrans._abstract import PY_SCALARS, aval_of, dtype_of, shape_of
from functrans.backend import to_host
from functrans.core.flatten import FlatFun, fun_name
from functrans.core.ir import is_linear
from functrans.core.primitive import Primitive
from functrans.core.staging import eval_program, stage_closed
from functrans.core.trace import Tracer, named_scope
from functrans.core.zeros import zero
from functrans.interpreters.batching import enclosing_batch
from functrans.interpreters.jvp import jvp_flat
from functrans.lax._body import batched, output_avals, stage_like, stands_for_scalar, traced_examples
from functrans.lax.checkpoint import ScalarOrigin, record, scalar_origin
from functrans.primitives import add_p, convert_element_type_p, full_like_p, mul_p, reduce_sum_p
from functrans.primitives._define import NOT_MAPPED, batch_size, bdim_at_front

# =============================================================================================
# the call: the user's function and rules on flat leaves
# =============================================================================================


class CustomCall(FlatFun):
    """A call of a function with custom rules: the arguments not in ``nondiff_argnums`` as
    flat leaves (``leaves``), the others kept as they are; the output structure is checked to
    be the same for the function and every rule.

    ``rules`` is the user's ``custom_jvp``/``custom_vjp`` object (``fun``, ``nondiff_argnums``
    and its rules). A ``custom_jvp`` argument in ``nondiff_argnums`` that holds a traced
    array (a value batched by ``vmap``, an input of ``jit``) is taken into ``leaves`` too, so
    that the transformations see it; ``split`` hands it to the rule among the
    non-differentiable arguments, and the JVP rule refuses a tangent for it.
    """

    __slots__ = ("rules", "static", "diff", "nondiff_leaf", "_rebuild", "_types")

    def __init__(self, rules: Any, args: Sequence, name: str, traced_nondiff: bool = False):
        nondiff = rules.nondiff_argnums
        if nondiff and nondiff[-1] >= len(args):
            raise errors.CustomRuleError(
                f"{name}: nondiff_argnums={nondiff} names argument {nondiff[-1]}, but the call "
                f"has {len(args)} positional argument(s). Pass that argument in the call, or "
                "drop its position from nondiff_argnums."
            )
        traced = [i for i in nondiff if any(isinstance(leaf, Tracer) for leaf in tree.leaves(args[i]))]
        if traced and not traced_nondiff:
            raise errors.CustomRuleError(
                f"{name}: argument {traced[0]} is listed in nondiff_argnums but holds a traced "
                "array (a value batched by vmap, an input of jit, or a variable of grad). A "
                "custom_vjp's nondiff_argnums is for values that are not arrays (functions, "
                "ints, settings), as in JAX. Make the array an ordinary argument, and have bwd "
                "return None as its cotangent if its derivative is not wanted."
            )
        self.diff = [i for i in range(len(args)) if i not in nondiff]
        static = [args[i] for i in nondiff]
        # a traced argument in nondiff_argnums takes part by its tracers alone: its other
        # leaves (a function, a setting beside the array) stay as they are
        self._rebuild: dict[int, tuple] = {}
        if traced:
            args = list(args)
            for i in traced:
                leaves, treedef = tree.flatten(args[i])
                mask = [isinstance(leaf, Tracer) for leaf in leaves]
                self._rebuild[i] = (treedef, leaves, mask)
                args[i] = [leaf for leaf, m in zip(leaves, mask) if m]
        super().__init__(rules.fun, args, argnums=sorted(self.diff + traced), name=name)
        self.rules = rules
        self.static = static
        # per leaf: whether it belongs to an argument in nondiff_argnums (a traced one); empty
        # when none is traced
        self.nondiff_leaf = [i in traced for i, (_, n) in zip(self.argnums, self._arg_trees)
                             for _ in range(n)] if traced else ()
        self._types: dict = {}  # this call's output types by signature (see out_types)

    def args_of(self, leaves: Sequence) -> list:
        args = super().args_of(leaves)
        for i, (treedef, original, mask) in self._rebuild.items():
            tracers = iter(args[i])
            args[i] = treedef.unflatten([next(tracers) if m else leaf for leaf, m in zip(original, mask)])
        return args

    def split(self, leaves: Sequence) -> tuple[list, tuple]:
        """The arguments in ``nondiff_argnums`` (in order) and the others (a tuple), with the
        values in ``leaves`` put in place."""
        if not self._rebuild:
            return self.static, self.unflatten(leaves)
        args = self.args_of(leaves)
        return [args[i] for i in self.rules.nondiff_argnums], tuple(args[i] for i in self.diff)

    def flat_out(self, out: Any, what: str, fix: str = "") -> list:
        """The leaves of ``out``, checked to have the structure of the function's output."""
        leaves, treedef = tree.flatten(out)
        if self.out_tree is None:
            self.out_tree = treedef
        elif treedef != self.out_tree:
            raise errors.CustomRuleError(
                f"{self.name}: {what} has structure {treedef}, but the function's output has "
                f"structure {self.out_tree}. They must match.{fix}"
            )
        return leaves

    def out_types(self, leaves: Sequence) -> tuple:
        """``(structure, types, by_value)`` of the function's output on arguments like
        ``leaves``, what a rule's primal output must match (``check_primal_out``): ``types``
        has ``(shape, dtype)`` of each leaf (dtype ``None`` for a Python scalar, weakly
        typed); the structure is put in ``out_tree``. Found once per signature (kept by the
        decorated function) by recording the function on abstract inputs or, for a function
        that needs its arguments' values (Python control flow on them), by running it on
        their values (``by_value``)."""
        avals = _signature(leaves)
        # a jit input standing for a Python scalar is weakly typed: so in the recording
        scalars = {i: info for i, x in enumerate(leaves)
                   if isinstance(x, Tracer) and (info := scalar_origin(x)) is not None}
        if scalars:
            avals += tuple((i, info[0]) for i, info in scalars.items())
        known = self._types.get(avals)
        if known is None:
            cache, key = None, None
            if not self._rebuild:
                cache = self.rules._out_types
                key = (tuple(self._arg_trees), avals,
                       tuple([(type(s), s) for s in self.static]) if self.static else ())
                try:
                    known = cache.get(key)
                except TypeError:  # an argument in nondiff_argnums that is not hashable
                    cache = None
            if known is None:
                try:
                    program = stage_like(self.fun_flat, leaves, self.name)
                    known = (self.out_tree, [_type_of(o) for o in program.outs], False)
                except Exception:  # (it needs values: run on them)
                    known = self._run_for_types(leaves)
                if cache is not None:
                    if len(cache) >= _TYPES_CACHE_SIZE:
                        del cache[next(iter(cache))]
                    cache[key] = known
            self._types[avals] = known
        if self.out_tree is None:
            self.out_tree = known[0]
        return known

    def _run_for_types(self, leaves: Sequence) -> tuple:
        """The output structure and types of the function run on the values of ``leaves``
        (as a call where no transformation is active: no derivative is computed), marked as
        found by value."""
        try:
            with named_scope(self.name):
                outs = self.fun_flat(_values_if_known(leaves))
        except errors.TracerConversionError as error:
            raise errors.CustomRuleError(
                f"{self.name}: the function's output shapes and dtypes, which its rule's primal "
                "output must match, cannot be found here: the function needs the values of its "
                "arguments (Python control flow on them), which this transformation does not "
                "know. Write it with functrans.numpy.where or functrans.lax.cond instead of "
                f"Python if/while on values. ({error})"
            ) from error
        return self.out_tree, [_type_of(o) for o in outs], True

    def check_primal_out(self, outs: Sequence, expected: tuple, leaves: Sequence, rule: str) -> list:
        """``outs``, a rule's primal output leaves (structure already checked) for the call
        on ``leaves``, checked to have the shapes and dtypes of the function's output
        (``expected``, from ``out_types``); a Python scalar among them is made an array of
        the function's dtype (it is weakly typed)."""
        _, types, by_value = expected
        for out, (shape, dtype) in zip(outs, types):  # (the common case: nothing to do)
            if type(out) in PY_SCALARS or out.shape != shape or (out.dtype != dtype and dtype is not None):
                break
        else:
            return outs
        if by_value:  # types found by value may depend on values: found again for these
            types = self._run_for_types(leaves)[1]
        checked = list(outs)
        for i, (out, (shape, dtype)) in enumerate(zip(outs, types)):
            weak = type(out) in PY_SCALARS
            got_shape, got_dtype = aval_of(out)
            if got_shape == shape and (weak or dtype is None or got_dtype == dtype):
                if weak and dtype is not None:
                    checked[i] = convert_element_type_p.bind(out, new_dtype=dtype)
                continue
            label = _output_labels(self, outs)()[i]
            raise errors.CustomRuleError(
                f"{self.name}: {rule} returned a primal output of shape {got_shape} and dtype "
                f"{got_dtype} for {label}, but the function's {label} has shape {shape} and "
                f"dtype {'of a Python scalar' if dtype is None else dtype}. The rule's primal "
                "output must be what "
                f"{fun_name(self.rules.fun)} returns for the same arguments (the same structure, "
                "shapes and dtypes): compute it as the function does, or call the function in "
                "the rule."
            )
        return checked

    def fun_flat(self, leaves: Sequence) -> list:
        return self.flat_out(self.fun(*self.args_of(leaves)), "the output")

    def __repr__(self) -> str:
        return self.name


_TYPES_CACHE_SIZE = 64


def _values_if_known(leaves: Sequence) -> list:
    """The concrete values of ``leaves`` (the function run on them computes no derivative,
    and reads like the call of the function where no transformation is active), or
    ``leaves`` themselves if one has none (under ``jit`` or ``vmap``)."""
    try:
        return [x.to_concrete() if isinstance(x, Tracer) else x for x in leaves]
    except errors.TracerConversionError:
        return list(leaves)


def _signature(leaves: Sequence) -> tuple:
    """``(shape, dtype)`` of each leaf, the type of a Python scalar (weakly typed, it gives
    other output dtypes than an array of its dtype)."""
    return tuple([type(x) if type(x) in PY_SCALARS else (tuple(x.shape), x.dtype) for x in leaves])


def _type_of(out: Any) -> tuple:
    """``(shape, dtype)`` of an output leaf; dtype ``None`` for a Python scalar."""
    return (tuple(shape_of(out)), None if type(out) in PY_SCALARS else dtype_of(out))


def _check_like(name: str, what: str, values: Sequence, likes: Sequence,
                labels: Callable[[], list[str]], dtypes: bool = False) -> None:
    """Each of ``values`` has the shape of the value it belongs to in ``likes`` (and, with
    ``dtypes``, its float or complex dtype: a Python scalar, weakly typed, passes); the
    error names the leaf by ``labels()`` (key paths, spelled out only on failure)."""
    for i, (v, like) in enumerate(zip(values, likes)):
        shape, like_shape = tuple(shape_of(v)), tuple(shape_of(like))
        if shape != like_shape:
            raise errors.CustomRuleError(
                f"{name}: the {what} for {labels()[i]} has shape {shape}, but it must have "
                f"shape {like_shape} (that of the value it belongs to)."
            )
        if dtypes and type(v) not in PY_SCALARS:
            dtype, like_dtype = dtype_of(v), dtype_of(like)
            if dtype != like_dtype and like_dtype.kind in "fc":
                raise errors.CustomRuleError(
                    f"{name}: the {what} for {labels()[i]} has dtype {dtype}, but it must have "
                    f"the dtype of the value it belongs to, {like_dtype} (a {what} of another "
                    f"precision or kind would change the derivative's dtype or drop its "
                    f"imaginary part). Compute it in {like_dtype}, or convert it with "
                    f".astype({like_dtype})."
                )


def _output_labels(call: CustomCall, outs: Sequence) -> Callable[[], list[str]]:
    return lambda: [f"output{tree.keystr(path)}"
                    for path, _ in tree.flatten_with_path(call.out_tree.unflatten(list(outs)))[0]]


def _argument_labels(call: CustomCall) -> list[str]:
    """``argument i['key'][0]`` for every leaf, in the order of ``leaves``."""
    labels = []
    args = call.args_of(call.leaves)
    for i in call.argnums:
        paths = [path for path, _ in tree.flatten_with_path(args[i])[0]]
        if i in call._rebuild:  # only its tracers are leaves of the call
            paths = [path for path, m in zip(paths, call._rebuild[i][2]) if m]
        labels.extend(f"argument {i}{tree.keystr(path)}" for path in paths)
    return labels


def _zeros_like(x):
    return full_like_p.bind(x, fill_value=0, shape=tuple(shape_of(x)), dtype=dtype_of(x))


def _zero_tangent(primal: Any) -> Any:
    """The tangent a rule receives for an argument without one: zeros like ``primal``, a
    Python zero for a value standing for a Python scalar (weakly typed as it is: the rule's
    ``t * x32`` stays float32)."""
    if not stands_for_scalar(primal):
        return _zeros_like(primal)
    kind = type(primal) if type(primal) in PY_SCALARS else scalar_origin(primal)[0]
    return kind(0)


def _to_front(values: Sequence, dims: Sequence) -> tuple[list, int]:
    """``values`` with their batch axis in front, but those standing for a Python scalar
    (``stands_for_scalar``) that are not batched: they stay as they are, weakly typed, and
    the batched rules (``batched`` with ``keep_scalars``) take them unbatched."""
    size = batch_size(values, dims)
    return [v if kept else bdim_at_front(v, d, size)
            for v, d, kept in zip(values, dims, _kept_scalars(values, dims))], size


def _kept_scalars(values: Sequence, dims: Sequence) -> list[bool]:
    """Which of ``values`` ``_to_front`` keeps as they are: unbatched, standing for a Python
    scalar."""
    return [d is NOT_MAPPED and stands_for_scalar(v) for v, d in zip(values, dims)]


def _out_dims(outs: Sequence) -> list:
    """The batch axis of each output of a batched rule: 0, but for an output that stands for
    a Python scalar, which ``batched`` with ``keep_scalars`` returns unbatched."""
    return [NOT_MAPPED if stands_for_scalar(o) else 0 for o in outs]


def _weak_inputs(leaves: Sequence, name: str) -> dict[int, tuple]:
    """The ``stage`` scalars entries of a rule staged on inputs like ``leaves``: each leaf
    standing for a Python scalar (``stands_for_scalar``: a Python scalar, a variable of a
    ``jit`` recording standing for one) is an input standing for one, weakly typed, as it
    is when the rule runs on ``leaves``."""
    scalars: dict[int, tuple] = {}
    label = name.replace("{", "{{").replace("}", "}}")  # (the origin's text is a template)
    for i, x in enumerate(leaves):
        if stands_for_scalar(x):
            kind = type(x) if type(x) in PY_SCALARS else scalar_origin(x)[0]
            scalars[i] = (kind, ScalarOrigin(
                f"{label}: the function closes over traced values, so its rules are staged "
                "(recorded on abstract inputs), and the value of a Python scalar argument is "
                "needed {use} there. Compute with it through functrans.numpy, or pass it in "
                "nondiff_argnums."))
    return scalars


class _StagedRule:
    """A rule of a function that closes over traced values, staged when the function is
    called: its ``program`` takes the traced values it closes over (``consts``), then its
    inputs. ``program`` is ``None`` while the rule is being staged (a rule that calls its own
    function meets that call then; the program is there by the time the call's derivative is
    taken). For ``fwd``: ``n_outs``, how many of its outputs are the function's; for
    ``bwd``: ``res_tree``, the structure of the residuals."""

    __slots__ = ("program", "consts", "n_outs", "res_tree")

    def __init__(self) -> None:
        self.program: Any = None
        self.consts: list = []
        self.n_outs = 0
        self.res_tree: Any = None

    def stage(self, body: Callable[[list], Sequence], avals: Sequence, name: str,
              scalars: dict[int, tuple] | None = None) -> None:
        self.program, self.consts = stage_closed(body, avals, name, scalars=scalars)

    def __call__(self, name: str, closure: Sequence, values: Sequence, inputs: Sequence,
                 live: Callable[[], list] | None = None) -> list:
        """The rule on ``inputs``, ``values`` standing for the call's ``closure``. A call
        made while its own rule was staged (the rule calling its function) may miss values
        the staged rule reads (computed from closed-over ones after that call): ``live``
        then runs the user's rule as it is, right where ``values`` are the closed-over
        tracers themselves."""
        position = {id(c): i for i, c in enumerate(closure)}
        missing = [c for c in self.consts if id(c) not in position]
        if (self.program is None or missing) and live is not None \
                and all(v is c for v, c in zip(values, closure)):
            return live()
        if self.program is None or missing:
            raise errors.CustomRuleError(
                f"{name}: a rule reads a traced array (of "
                f"{(missing or list(closure))[0]._trace.origin}) that the function does not "
                "close over, so it is not an input of the call. Pass it to the function as an "
                "argument."
            )
        return eval_program(self.program, [values[position[id(c)]] for c in self.consts] + list(inputs))


class _Staging(threading.local):
    def __init__(self) -> None:
        self.rules: dict[tuple[int, str], _StagedRule] = {}


_staging = _Staging()


def _being_staged(rules: Any, kind: str) -> _StagedRule | None:
    """The rule ``kind`` of the user's ``rules`` if it is being staged now (in this thread)."""
    return _staging.rules.get((id(rules), kind))


@contextlib.contextmanager
def _rules_staged(rules: Any, *kinds: str) -> Iterator[list[_StagedRule]]:
    """New ``_StagedRule`` objects for the rules ``kinds`` of ``rules``, known to
    ``_being_staged`` inside the block."""
    made = [_StagedRule() for _ in kinds]
    for kind, rule in zip(kinds, made):
        _staging.rules[(id(rules), kind)] = rule
    try:
        yield made
    finally:
        for kind in kinds:
            del _staging.rules[(id(rules), kind)]


def _record_function(call: CustomCall, leaves: list) -> tuple:
    """``call.fun_flat`` recorded on ``leaves``: ``record``'s program and the traced values
    it reads. Its output types become this call's ``out_types``, kept by the call alone (they
    may depend on the shapes of those values, which the decorated function's cache does not
    see)."""
    numbers = {i: x for i, x in enumerate(leaves) if type(x) in PY_SCALARS}
    body = call.fun_flat
    if numbers:  # (the call's own recording: its Python scalars are constants in it)
        body = lambda xs: call.fun_flat([numbers.get(i, x) for i, x in enumerate(xs)])
    _, program, consts, _ = record(body, leaves, call.name)
    call._types[_signature(leaves)] = (call.out_tree, [_type_of(o) for o in program.outs], False)
    return program, consts


def _closure_of_call(call: CustomCall, recorded: tuple, rules: Sequence[_StagedRule]) -> tuple[Callable, list]:
    """``call.fun_flat`` as a function of the traced values the function (``recorded`` by
    ``_record_function``) and its staged ``rules`` read without taking them as arguments,
    followed by the call's leaves; and those values. None: ``call.fun_flat`` itself and
    ``[]``."""
    program, consts = recorded
    read = len(consts)
    consts = list(consts)
    ids = {id(c) for c in consts}
    for c in (c for rule in rules for c in rule.consts):
        if id(c) not in ids:
            ids.add(id(c))
            consts.append(c)
    if not consts:
        return call.fun_flat, []
    k = len(consts)
    return (lambda xs: eval_program(program, [*xs[:read], *xs[k:]])), consts


def _through_closure(call: JVPCall | VJPCall, primals: Sequence, tangents: Sequence) -> tuple[list, list] | None:
    """The part of the output tangent that comes from the closed-over values, the leading
    ``len(call.closure)`` leaves (``None`` when none has a tangent): the rules give no
    derivative for them, so it is the function's own, by forward mode through its recorded
    program (the arguments held fixed). Returns the outputs and those tangents."""
    k = len(call.closure)
    if all(t is zero for t in tangents[:k]):
        return None
    fixed = [*tangents[:k], *[zero] * (len(tangents) - k)]
    return jvp_flat(call.fun_flat, primals, fixed, f"jvp({call.call.name})")


def _plus(a: Any, b: Any) -> Any:
    return a if b is zero else b if a is zero else add_p.bind(a, b)


# =============================================================================================
# custom_jvp_call
# =============================================================================================


def per_argument_rule(*args: Any) -> Any:
    """The marker ``custom_jvp.defjvps`` sets as the rule: the per-argument rules are used."""
    raise AssertionError("not called")


class JVPCall:
    """The ``call`` parameter of ``custom_jvp_call``: the function and its rule on flat
    leaves (batched versions are made for vmap). ``closure``: the traced values the function
    closes over, which lead the leaves (see ``closed``)."""

    def __init__(self, call: CustomCall, fun_flat: Callable | None = None, jvp_flat: Callable | None = None,
                 closure: Sequence = ()):
        self.call = call
        self.fun_flat = fun_flat or call.fun_flat
        self.jvp_flat = jvp_flat or self._jvp_flat
        self.closure = tuple(closure)

    @classmethod
    def closed(cls, call: CustomCall, leaves: list) -> tuple[list, JVPCall]:
        """The leaves of the call and its ``JVPCall`` for a function or rule that closes over
        traced values: the rule staged, and the values it and the function read made
        leading leaves (the rule reads them as inputs)."""
        plain = cls(call)
        n = len(leaves)
        avals = [aval_of(x) for x in leaves]

        def rule_body(xs: list) -> list:
            outs, t_outs = plain.jvp_flat(xs[:n], xs[n:])
            return [*outs, *t_outs]

        recorded = _record_function(call, leaves)
        rule = _being_staged(call.rules, "jvp")
        if rule is None:
            with _rules_staged(call.rules, "jvp") as (rule,):
                rule.stage(rule_body, avals + avals, f"jvp({call.name})", _weak_inputs(leaves, call.name))
        fun_flat, closure = _closure_of_call(call, recorded, [rule])
        if not closure:
            return leaves, plain
        k = len(closure)

        def jvp_flat(primals, tangents, zero_flags=()):
            live = lambda: rule_body([*primals[k:], *tangents[k:]])
            outs = rule(call.name, closure, primals[:k], [*primals[k:], *tangents[k:]], live)
            return outs[:len(outs) // 2], outs[len(outs) // 2:]

        return [*closure, *leaves], cls(call, fun_flat, jvp_flat, closure)

    def _jvp_flat(self, primals, tangents, zero_flags=()):
        call = self.call
        rules = call.rules
        (static, p_dyn), (_, t_dyn) = call.split(primals), call.split(tangents)
        if rules.jvp is per_argument_rule:
            with named_scope(call.name):
                flags = call.split(zero_flags)[1] if zero_flags else [False] * len(p_dyn)
                return self._per_argument_jvp(primals, p_dyn, t_dyn, flags)
        expected = call.out_types(primals)
        with named_scope(call.name):
            result = rules.jvp(*static, tuple(p_dyn), tuple(t_dyn))
        if not (isinstance(result, (tuple, list)) and len(result) == 2):
            raise errors.CustomRuleError(
                f"{call.name}: the JVP rule must return a pair (primal_out, tangent_out), but it "
                f"returned {type(result).__name__}."
            )
        fix = (" Return (primal_out, tangent_out) with primal_out what the function returns "
               "(the rule may call the function) and tangent_out of the same structure.")
        outs = call.flat_out(result[0], "the rule's primal output", fix)
        t_outs = call.flat_out(result[1], "the rule's tangent output", fix)
        outs = call.check_primal_out(outs, expected, primals, "the JVP rule")
        # a Python number left (the function's output is one too): an array, of its tangent's
        # dtype if that is one
        outs = [convert_element_type_p.bind(o, new_dtype=dtype_of(o if type(t) in PY_SCALARS else t))
                if type(o) in PY_SCALARS else o for o, t in zip(outs, t_outs)]
        if _weak_live(primals, tangents, zero_flags):
            t_outs = _like_outputs(t_outs, outs)
        _check_like(call.name, "tangent", t_outs, outs, _output_labels(call, outs), dtypes=True)
        return outs, _integer_outputs(call, outs, t_outs)

    def _per_argument_jvp(self, primals, p_dyn, t_dyn, zero_flags):
        """The output tangent as the sum of the per-argument rules of ``defjvps``, skipping
        arguments whose tangent is zero (all leaves of it zero)."""
        call = self.call
        if len(call.rules.jvps) != len(p_dyn):
            raise errors.CustomRuleError(
                f"{call.name}: defjvps was given {len(call.rules.jvps)} rule(s), but the call has "
                f"{len(p_dyn)} differentiable argument(s); an argument without its rule would get "
                "no derivative. Give one rule per argument not in nondiff_argnums, in order, "
                "None for an argument the output does not depend on."
            )
        outs = call.flat_out(call.rules(*call.args_of(primals)), "the output")
        out = call.out_tree.unflatten(outs)
        total = None
        for i, (rule, t, arg_flags) in enumerate(zip(call.rules.jvps, t_dyn, zero_flags)):
            if rule is None or all(tree.leaves(arg_flags)):
                continue
            part = call.flat_out(rule(t, out, *p_dyn), "a defjvps rule's output")
            if any(map(stands_for_scalar, tree.leaves(p_dyn[i]))):
                part = _like_outputs(part, outs)
            # each part checked on its own: a sum would broadcast one of the wrong shape
            _check_like(call.name, f"tangent of defjvps rule {i}", part, outs,
                        _output_labels(call, outs), dtypes=True)
            total = part if total is None else [a + b for a, b in zip(total, part)]
        if total is None:
            total = [_zeros_like(o) for o in outs]
        _check_like(call.name, "tangent", total, outs, _output_labels(call, outs), dtypes=True)
        return outs, _integer_outputs(call, outs, total)

    def __repr__(self) -> str:
        return getattr(self.call.rules, "__name__", "custom_jvp")


def _custom_jvp_call_jvp(primals, tangents, *, call):
    k = len(call.closure)
    closed = _through_closure(call, primals, tangents)
    tangents = [*[zero] * k, *tangents[k:]]
    zero_flags = [t is zero for t in tangents]
    for i, (nondiff, is_zero) in enumerate(zip(call.call.nondiff_leaf, zero_flags[k:])):
        if nondiff and not is_zero:
            raise errors.CustomRuleError(
                f"{call.call.name}: {_argument_labels(call.call)[i]} is listed in nondiff_argnums, but it depends on "
                "the variable being differentiated, and the rule gives no derivative for it. "
                "Make it an ordinary argument (its tangent then reaches the rule), or pass "
                "functrans.lax.stop_gradient(value) to mean that its derivative is zero (JAX "
                "applies stop_gradient to nondiff_argnums silently)."
            )
    if all(zero_flags):  # only closed-over values have tangents
        assert closed is not None
        return closed
    linearizing = any(is_linear(t) for t in tangents if t is not zero)
    tangents = [_zero_tangent(p) if t is zero else t for p, t in zip(primals, tangents)]
    outs, t_outs = call.jvp_flat(primals, tangents, zero_flags)
    if linearizing:
        _check_linear(call.call, outs, t_outs)
    if closed is not None:
        t_outs = [_plus(t, c) for t, c in zip(t_outs, closed[1])]
    return outs, t_outs


def _integer_outputs(call: CustomCall, outs: Sequence, t_outs: Sequence) -> list:
    """The rule's output tangents, zeros for an integer or boolean output, which has no
    derivative (as every primitive's integer output has zero tangent; JAX's ``float0``).
    A float or complex tangent for one is refused: it would carry a derivative through the
    integer value (``out.astype(float)`` passes tangents on), or say the rule is wrong."""
    checked = list(t_outs)
    for i, (o, t) in enumerate(zip(outs, t_outs)):
        out_dtype = dtype_of(o)
        if out_dtype.kind not in "biu":
            continue
        if dtype_of(t).kind in "fc":
            raise errors.CustomRuleError(
                f"{call.name}: the JVP rule's tangent for {_output_labels(call, outs)()[i]} has "
                f"dtype {dtype_of(t)}, but that output has the {out_dtype} dtype, which has no "
                "derivative (JAX requires float0 zeros there). Return zeros of the output's "
                "dtype as its tangent: fnp.zeros_like(out)."
            )
        checked[i] = _zeros_like(o)
    return checked


def _weak_live(primals: Sequence, tangents: Sequence, zero_flags: Sequence) -> bool:
    """Whether an argument standing for a Python scalar has a tangent (not ``_zero_tangent``'s
    Python zero, not flagged zero)."""
    flags = zero_flags or [False] * len(primals)
    return any(stands_for_scalar(p) and not flag and type(t) not in PY_SCALARS
               for p, t, flag in zip(primals, tangents, flags))


def _like_outputs(t_outs: Sequence, outs: Sequence) -> list:
    """The rule's output tangents, one computed in another float precision than its output
    converted to the output's dtype. For a rule given the tangent of an argument standing for
    a Python scalar: the tangent has the scalar's default dtype (float64), not the weak type
    the argument has in the function (``x32 * c`` is float32), so ``t_c * x32`` is float64
    where the output is float32; any other primitive's tangent is converted so too."""
    return [t if type(o) in PY_SCALARS else _in_precision(t, dtype_of(o))
            for t, o in zip(t_outs, outs)]


def _in_precision(x: Any, dtype: Any) -> Any:
    """``x`` converted to ``dtype`` where both are floats (or both complex) of other widths;
    as it is otherwise (a Python scalar, ``zero``, another kind)."""
    if type(x) in PY_SCALARS or x is zero:
        return x
    own = dtype_of(x)
    if own != dtype and own.kind == dtype.kind and own.kind in "fc":
        return convert_element_type_p.bind(x, new_dtype=dtype)
    return x


def _check_linear(call: CustomCall, outs: Sequence, t_outs: Sequence) -> None:
    """Under reverse mode, a tangent output the rule computed without the tangents (a constant
    such as ``3.0``, the derivative where ``3.0 * t`` was meant) would get no cotangent: the
    gradient would silently be 0 where ``jvp`` gives the constant. Refused unless it is zero
    (a rule's way to say the derivative is 0); its value is read only on this path."""
    for i, t in enumerate(t_outs):
        if not isinstance(t, Tracer) and to_host(t).any():
            raise errors.CustomRuleError(
                f"{call.name}: the JVP rule's tangent for {_output_labels(call, outs)()[i]} does "
                "not depend on the input tangents (it is a constant, not zero), so the rule is "
                "not linear in them and reverse mode would give 0 where jvp gives the constant. "
                "Multiply by the tangent: return (y, dy_dx * t), not (y, dy_dx)."
            )


def _custom_jvp_call_batch(values, dims, *, call):
    moved, size = _to_front(values, dims)
    origin = f"vmap({call.call.name})"
    within = enclosing_batch()
    # (traced examples of a batched branch: a leading operand, closed over like a traced value)
    lead = traced_examples()
    m = len(lead)
    on_batches = lambda body, tangents_after=None: batched(
        body, size, origin, within, keep_scalars=True, leading_mask=bool(m),
        tangents_after=tangents_after)
    fun_batched = on_batches(call.fun_flat)

    def jvp_batched(primals, tangents, zero_flags=()):
        n = len(primals) - m

        def body(leaves):
            outs, t_outs = call.jvp_flat(leaves[:n], leaves[n:], zero_flags[m:])
            return list(outs) + list(t_outs)

        flat = on_batches(body, n)([*primals[:m], *primals[m:], *tangents[m:]])
        half = len(flat) // 2
        return flat[:half], flat[half:]

    outs = custom_jvp_call_p.bind(*lead, *moved, call=JVPCall(call.call, fun_batched, jvp_batched,
                                                              (*lead, *call.closure)))
    return outs, _out_dims(outs)


custom_jvp_call_p = Primitive("custom_jvp_call", multiple_results=True)
custom_jvp_call_p.impl = lambda *leaves, call: call.fun_flat(leaves)
custom_jvp_call_p.shape_rule = lambda *args, call: output_avals(call.fun_flat, args, repr(call))
custom_jvp_call_p.jvp = _custom_jvp_call_jvp
custom_jvp_call_p.batch = _custom_jvp_call_batch


# =============================================================================================
# custom_vjp_call
# =============================================================================================

_FORWARD_MODE = (
    "{name} has a custom VJP (a reverse-mode rule), which cannot compute forward-mode "
    "derivatives (jvp, jacfwd, linearize's f_jvp): a backward function gives J^T v, never J v. "
    "Use reverse mode (grad, vjp, jacrev), or define the rule with functrans.custom_jvp "
    "instead: reverse mode is derived from a custom JVP automatically, so one rule serves both."
)


class VJPCall:
    """The ``call`` parameter of ``custom_vjp_call``: function, fwd and bwd on flat leaves.

    ``bwd_flat`` returns one cotangent per leaf, ``zero`` where the user's ``bwd`` gave
    ``None`` (JAX's spelling of a zero cotangent, accepted at this boundary).
    """

    def __init__(self, call: CustomCall, fun_flat: Callable | None = None, fwd_flat: Callable | None = None,
                 bwd_flat: Callable | None = None, closure: Sequence = ()):
        self.call = call
        self.fun_flat = fun_flat or call.fun_flat
        self.fwd_flat = fwd_flat or self._fwd_flat
        self.bwd_flat = bwd_flat or self._bwd_flat
        self.closure = tuple(closure)

    @classmethod
    def closed(cls, call: CustomCall, leaves: list) -> tuple[list, VJPCall]:
        """As ``JVPCall.closed``, with ``fwd`` and ``bwd`` staged: the closed-over values
        ``bwd`` reads are residuals, and their cotangent is zero. Residuals that are not
        arrays (``custom_gradient``'s function) cannot be outputs of a program: ``bwd`` is
        then staged after ``fwd``, from the arguments."""
        plain = cls(call)
        avals = [aval_of(x) for x in leaves]

        n = len(leaves)

        def fwd_body(xs: list) -> list:
            outs, res = plain.fwd_flat(xs)
            res_leaves, bwd.res_tree = tree.flatten(res)
            fwd.n_outs = len(outs)
            if not all(isinstance(r, Tracer) or hasattr(r, "shape") or type(r) in PY_SCALARS
                       for r in res_leaves):
                bwd.res_tree = None  # (a function, as custom_gradient's: bwd runs fwd again)
                return list(outs)
            return [*outs, *res_leaves]

        def bwd_body(xs: list) -> list:
            if bwd.res_tree is None:
                return plain.bwd_flat(plain.fwd_flat(xs[:n])[1], xs[n:])
            r = bwd.res_tree.num_leaves
            return plain.bwd_flat(bwd.res_tree.unflatten(xs[:r]), xs[r:])

        recorded = _record_function(call, leaves)
        fwd, bwd = _being_staged(call.rules, "fwd"), _being_staged(call.rules, "bwd")
        if fwd is None or bwd is None:
            with _rules_staged(call.rules, "fwd", "bwd") as (fwd, bwd):
                scalars = _weak_inputs(leaves, call.name)
                fwd.stage(fwd_body, avals, f"fwd({call.name})", scalars)
                outs = [aval_of(o) for o in fwd.program.outs]
                if bwd.res_tree is not None:
                    res_outs = fwd.program.outs[fwd.n_outs:]
                    avals, scalars = outs[fwd.n_outs:], _weak_inputs(res_outs, call.name)
                bwd.stage(bwd_body, avals + outs[:fwd.n_outs], f"bwd({call.name})", scalars)
        fun_flat, closure = _closure_of_call(call, recorded, [fwd, bwd])
        if not closure:
            return leaves, plain
        k = len(closure)

        def fwd_flat(leaves):
            outs = fwd(call.name, closure, leaves[:k], leaves[k:])
            res = leaves[k:] if bwd.res_tree is None else outs[fwd.n_outs:]
            return outs[:fwd.n_outs], (list(leaves[:k]), list(res))

        def bwd_flat(res, cts):
            values, res_leaves = res
            return [zero] * k + list(bwd(call.name, closure, values, [*res_leaves, *cts]))

        return [*closure, *leaves], cls(call, fun_flat, fwd_flat, bwd_flat, closure)

    def _fwd_flat(self, leaves):
        call = self.call
        expected = call.out_types(leaves)
        with named_scope(call.name):
            result = call.rules.fwd(*call.args_of(leaves))
        if not (isinstance(result, (tuple, list)) and len(result) == 2):
            raise errors.CustomRuleError(
                f"{call.name}: fwd must return a pair (output, residuals), but it returned "
                f"{type(result).__name__}."
            )
        outs = call.flat_out(result[0], "fwd's output", " fwd must return (output, residuals) with "
                             "output what the function returns (fwd may call the function).")
        return call.check_primal_out(outs, expected, leaves, "fwd"), result[1]

    def _bwd_flat(self, res, cts):
        call = self.call
        ct = call.out_tree.unflatten(cts)
        with named_scope(call.name):
            in_cts = call.rules.bwd(*call.static, res, ct)
        dyn = call.unflatten(call.leaves)
        if not isinstance(in_cts, (tuple, list)) or len(in_cts) != len(dyn):
            raise errors.CustomRuleError(
                f"{call.name}: bwd must return a tuple with one cotangent per differentiable "
                f"argument ({len(dyn)}), but it returned {in_cts!r:.80}."
            )
        flat: list = []
        for position, arg, ct_arg in zip(call.argnums, dyn, in_cts):
            flat.extend(_cotangent_leaves(call.name, position, arg, ct_arg))
        given = [i for i, c in enumerate(flat) if c is not zero]
        for i in given:
            if dtype_of(flat[i]).kind == "c" and dtype_of(call.leaves[i]).kind != "c":
                raise errors.CustomRuleError(
                    f"{call.name}: the cotangent returned by bwd for {_argument_labels(call)[i]} "
                    f"has dtype {dtype_of(flat[i])}, but the argument is real "
                    f"({dtype_of(call.leaves[i])}): the gradient of a real input is real. Return "
                    "the real part of the cotangent (fnp.real(ct)) if bwd computes it in "
                    "complex numbers."
                )
        _weak_cotangents(flat, call.leaves, given)
        _check_like(call.name, "cotangent returned by bwd", [flat[i] for i in given],
                    [call.leaves[i] for i in given],
                    lambda: [_argument_labels(call)[i] for i in given], dtypes=True)
        for i in given:  # a Python scalar is weakly typed: made the argument's dtype
            if type(flat[i]) in PY_SCALARS:
                like = call.leaves[i]  # (a value of the finished forward pass: not bound)
                ones = full_like_p.bind(cts[0], fill_value=1, shape=tuple(shape_of(like)), dtype=dtype_of(like))
                # as ones times the number, it is what bwd returning ``ct * number`` gives: a
                # NumPy scalar, not a 0-d array, for a scalar argument
                flat[i] = mul_p.bind(ones, flat[i])
        return flat

    def __repr__(self) -> str:
        return getattr(self.call.rules, "__name__", "custom_vjp")


def _weak_cotangents(flat: list, leaves: Sequence, given: Sequence[int]) -> None:
    """Give the cotangent ``bwd`` computed for an argument standing for a Python scalar
    (weakly typed: ``bwd`` computes it in the dtype of the arrays it meets, float32 with a
    float32 ``x``) the argument's dtype, as the cotangent of such an argument of any other
    function has."""
    for i in given:
        if stands_for_scalar(leaves[i]):
            flat[i] = _in_precision(flat[i], dtype_of(leaves[i]))


def _cotangent_leaves(name: str, position: int, arg: Any, ct: Any) -> list:
    """The leaves of the cotangent ``bwd`` returned for the argument ``arg``, ``zero`` where
    it holds ``None`` (a zero for a whole subtree, as JAX allows); it must have the
    argument's structure otherwise (not only its number of leaves)."""
    is_none = lambda v: v is None
    flat: list = []

    def take(c: Any, part: Any) -> None:
        leaves, treedef = tree.flatten(part)
        if c is None:
            flat.extend([zero] * len(leaves))
        elif treedef.num_nodes == 1 and treedef.num_leaves == 1:
            flat.append(c)
        else:
            raise errors.TreeStructureError("a leaf where the argument has a subtree")

    try:
        tree.map(take, ct, arg, is_leaf=is_none)
    except errors.TreeStructureError:
        raise errors.CustomRuleError(
            f"{name}: the cotangent bwd returned for argument {position} has structure "
            f"{tree.structure(ct, is_leaf=is_none)}, but the argument has structure "
            f"{tree.structure(arg)}. Return each cotangent with its argument's structure (None "
            "stands for zeros of a whole subtree)."
        ) from None
    return flat


def _custom_vjp_call_jvp(primals, tangents, *, call):
    k = len(call.closure)
    closed = _through_closure(call, primals, tangents)
    tangents = [*[zero] * k, *tangents[k:]]
    live = [t for t in tangents if t is not zero]
    if not live:  # only closed-over values have tangents
        assert closed is not None
        return closed
    if not all(is_linear(t) for t in live):
        raise errors.CustomRuleError(_FORWARD_MODE.format(name=call.call.name))
    outs, res = call.fwd_flat(primals)
    positions = tuple(i for i, t in enumerate(tangents) if t is not zero)
    out_avals = tuple(aval_of(o) for o in outs)
    # the residuals are arguments (values of the linear equation, not linear inputs), so that a
    # recording around this one (a scan's linearized step, jit) sees them as operands
    res_leaves, res_tree = tree.flatten(res)
    t_outs = custom_vjp_bwd_p.bind(*res_leaves, *live, call=call, res_tree=res_tree,
                                   positions=positions, out_avals=out_avals)
    if closed is not None:
        return outs, [_plus(t, c) for t, c in zip(t_outs, closed[1])]
    return outs, list(t_outs)


def _custom_vjp_call_batch(values, dims, *, call):
    moved, size = _to_front(values, dims)
    kept = _kept_scalars(values, dims)
    origin = f"vmap({call.call.name})"
    within = enclosing_batch()
    res_tree: list = []
    # (traced examples of a batched branch: a leading operand, closed over like a traced
    # value, and kept in the residuals for the backward rule)
    lead = traced_examples()
    m = len(lead)
    on_batches = lambda body: batched(body, size, origin, within, keep_scalars=True,
                                      leading_mask=bool(m))

    def fwd_body(leaves):
        outs, res = call.fwd_flat(leaves)
        res_leaves, treedef = tree.flatten(res)
        res_tree[:] = [treedef, len(outs)]
        return list(outs) + res_leaves

    def fwd_batched(leaves):
        flat = on_batches(fwd_body)(leaves)
        treedef, n = res_tree
        return flat[:n], (list(leaves[:m]), treedef.unflatten(flat[n:]))

    def bwd_batched(res, cts):
        mask, res = res
        res_leaves, treedef = tree.flatten(res)
        k = len(res_leaves)
        body = lambda leaves: call.bwd_flat(treedef.unflatten(leaves[:k]), leaves[k:])
        in_cts = on_batches(body)([*mask, *res_leaves, *cts])
        return [zero] * m + [_summed_over_examples(ct, size) if unbatched else ct
                             for ct, unbatched in zip(in_cts, kept)]

    vjp_call = VJPCall(call.call, on_batches(call.fun_flat), fwd_batched, bwd_batched,
                       (*lead, *call.closure))
    outs = custom_vjp_call_p.bind(*lead, *moved, call=vjp_call)
    return outs, _out_dims(outs)


def _summed_over_examples(ct: Any, size: int) -> Any:
    """The cotangent of an argument kept unbatched (a scalar every example shares) from the
    examples' cotangents for it: their sum over the batch axis in front (``size`` times the
    cotangent when the batched ``bwd`` returned one for all of them)."""
    if ct is zero:
        return ct
    if tuple(shape_of(ct)) == ():
        return mul_p.bind(ct, size)
    return reduce_sum_p.bind(ct, axes=(0,))


custom_vjp_call_p = Primitive("custom_vjp_call", multiple_results=True)
custom_vjp_call_p.impl = lambda *leaves, call: call.fun_flat(leaves)
custom_vjp_call_p.shape_rule = lambda *args, call: output_avals(call.fun_flat, args, repr(call))
custom_vjp_call_p.jvp = _custom_vjp_call_jvp
custom_vjp_call_p.batch = _custom_vjp_call_batch


# --- custom_vjp_bwd: the recorded linear map, transposed by calling bwd ----------------------
def _custom_vjp_bwd_impl(*args, call, res_tree, positions, out_avals):
    raise errors.CustomRuleError(_FORWARD_MODE.format(name=call.call.name))


def _custom_vjp_bwd_transpose(cts, *args, call, res_tree, positions, out_avals):
    n = res_tree.num_leaves
    res = res_tree.unflatten(args[:n])
    like = next(c for c in cts if c is not zero)
    cts = [full_like_p.bind(like, fill_value=0, shape=tuple(shape), dtype=dtype) if c is zero else c
           for c, (shape, dtype) in zip(cts, out_avals)]
    in_cts = call.bwd_flat(res, cts)
    return (zero,) * n + tuple(in_cts[i] for i in positions)


custom_vjp_bwd_p = Primitive("custom_vjp_bwd", multiple_results=True)
custom_vjp_bwd_p.impl = _custom_vjp_bwd_impl
custom_vjp_bwd_p.shape_rule = lambda *args, call, res_tree, positions, out_avals: list(out_avals)
custom_vjp_bwd_p.transpose = _custom_vjp_bwd_transpose
