"""vmap: every operation of the op table against a Python loop over the batch (batched and
unbatched arguments, batch axes in any position), per-example gradients, nesting, grad of
vmap, and the errors for mismatched batch sizes and control flow on batched values."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import functrans as ft
import functrans.numpy as fnp
from functrans import errors, tree

from specs import ALL_SPECS, assert_same

BATCH = 3

# Results whose shape or dtype depends on the values, so it differs from one batch entry to
# the next and cannot be vectorised (JAX asks for a static size= for the same reason): the
# number of distinct values (unique and the set routines), real_if_close's real or complex
# dtype, poly's, the length of polydiv's remainder, roots' and trim_zeros' trimmed zeros,
# bincount's length. asarray_chkfinite reads the values to decide whether to raise. vmap
# refuses each with the error that names the reason (test_vmap_refuses_a_value_dependent_shape),
# real_if_close at the comparison that decides its dtype.
_VALUE_DEPENDENT_SHAPE = {
    "fnp.unique", "fnp.real_if_close", "fnp.unique_values", "fnp.unique_counts", "fnp.unique_inverse",
    "fnp.unique_all", "fnp.union1d", "fnp.intersect1d", "fnp.setdiff1d", "fnp.setdiff1d[assume_unique]",
    "fnp.setxor1d", "fnp.polydiv", "fnp.poly[matrix]", "fnp.roots", "fnp.trim_zeros[keeps derivatives]",
    "fnp.bincount[counts]", "fnp.asarray_chkfinite",
}
_REFUSAL = {"fnp.real_if_close": errors.TracerConversionError}

def _vmap_cases():
    return [s for s in ALL_SPECS if s.nargs > 0 and s.derivative != "none"
            and s.name not in _VALUE_DEPENDENT_SHAPE]


def _refused(spec):
    """The error vmap raises, naming the reason, for a spec of _VALUE_DEPENDENT_SHAPE."""
    return pytest.raises(_REFUSAL.get(spec.name, errors.UnsupportedError),
                         match="vmap" if spec.name in _REFUSAL else "jit and vmap|traced array")


def _stack_at(xs, axis):
    return np.stack(xs, axis=axis)


def _vmap_case(spec, data, dtype=np.float64):
    """A batch of the spec's arguments: (per-example arguments, in_axes, batched arguments)."""
    shapes_, params = data.draw(spec.sig, label="shapes, params")
    seed = data.draw(st.integers(0, 2**32 - 1), label="values seed")
    rng = np.random.default_rng(seed)
    domains = spec.domains
    examples = [tuple(d(rng, s, dtype) for d, s in zip(domains, shapes_)) for _ in range(BATCH)]
    # each argument batched along a drawn axis, or shared (None); at least one batched
    in_axes = []
    for i, shape in enumerate(shapes_):
        choices = [None] + list(range(-len(shape) - 1, len(shape) + 1))
        in_axes.append(data.draw(st.sampled_from(choices), label=f"in_axes[{i}]"))
    if all(a is None for a in in_axes):
        in_axes[0] = 0
    args = tuple(examples[0][i] if a is None else _stack_at([e[i] for e in examples], a)
                 for i, a in enumerate(in_axes))
    return examples, params, in_axes, args


def run_vmap_spec(spec, data, dtype=np.float64):
    examples, params, in_axes, args = _vmap_case(spec, data, dtype)
    with np.errstate(all="ignore"):
        expected = [spec.fn(*(examples[0][i] if a is None else examples[b][i]
                              for i, a in enumerate(in_axes)), **params) for b in range(BATCH)]
    if not all(isinstance(leaf, (np.ndarray, np.generic)) for e in expected for leaf in tree.leaves(e)):
        return  # Python values (shape queries): nothing to batch
    expected_stacked = tree.map(lambda *xs: np.stack([np.asarray(x) for x in xs]), *expected)
    got = ft.vmap(lambda *xs: spec.fn(*xs, **params), in_axes=tuple(in_axes))(*args)
    assert_same(tree.map(np.asarray, got), expected_stacked, f"vmap of {spec.name}, in_axes={in_axes}")


@pytest.mark.parametrize("spec", _vmap_cases(), ids=repr)
@settings(max_examples=4)
@given(data=st.data())
def test_vmap_matches_a_loop(spec, data):
    run_vmap_spec(spec, data)


# vmap traces before it sees a value, so it refuses on every draw: two examples vary the shapes and
# the batch axes.
@pytest.mark.parametrize("spec", [s for s in ALL_SPECS if s.name in _VALUE_DEPENDENT_SHAPE], ids=repr)
@settings(max_examples=2)
@given(data=st.data())
def test_vmap_refuses_a_value_dependent_shape(spec, data):
    _, params, in_axes, args = _vmap_case(spec, data)
    with _refused(spec):
        ft.vmap(lambda *xs: spec.fn(*xs, **params), in_axes=tuple(in_axes))(*args)


# -- per-example gradients, nesting, composition ------------------------------------------------

RNG = np.random.default_rng(0)
PARAMS = {"w1": RNG.standard_normal((5, 8)) * 0.5, "b1": RNG.standard_normal(8) * 0.1,
          "w2": RNG.standard_normal((8, 3)) * 0.5, "b2": np.zeros(3)}
XS = RNG.standard_normal((6, 5))
LABELS = np.array([0, 2, 1, 1, 0, 2])


def _loss(params, x, label):
    h = fnp.tanh(x @ params["w1"] + params["b1"])
    logits = h @ params["w2"] + params["b2"]
    picked = logits[label]  # a batched integer index: a gather
    return -(picked - fnp.log(fnp.sum(fnp.exp(logits))))


def test_per_example_gradients_match_a_loop_of_grads():
    per_example = ft.vmap(ft.grad(_loss), in_axes=(None, 0, 0))(PARAMS, XS, LABELS)
    for i in range(len(XS)):
        expected = ft.grad(_loss)(PARAMS, XS[i], int(LABELS[i]))
        for k in PARAMS:
            np.testing.assert_allclose(per_example[k][i], expected[k], rtol=1e-12, atol=1e-14)
    assert per_example["w1"].shape == (6, 5, 8)


def test_grad_of_a_vmapped_function_is_the_sum_of_the_gradients():
    def total(params):
        return fnp.sum(ft.vmap(_loss, in_axes=(None, 0, 0))(params, XS, LABELS))

    g = ft.grad(total)(PARAMS)
    expected = [ft.grad(_loss)(PARAMS, XS[i], int(LABELS[i])) for i in range(len(XS))]
    # (the batched backward pass sums over the examples inside its products, in another order
    # than this sum: entries near 0 need the absolute part)
    for k in PARAMS:
        np.testing.assert_allclose(g[k], sum(e[k] for e in expected), rtol=1e-12, atol=1e-14)


def test_vmap_of_jvp_and_jvp_of_vmap():
    f = lambda x: fnp.sin(x) * fnp.sum(x ** 2)
    xs, ts = RNG.standard_normal((4, 3)), RNG.standard_normal((4, 3))
    _, batched = ft.vmap(lambda x, t: ft.jvp(f, (x,), (t,)))(xs, ts)
    _, outer = ft.jvp(ft.vmap(f), (xs,), (ts,))
    loop = np.stack([ft.jvp(f, (x,), (t,))[1] for x, t in zip(xs, ts)])
    np.testing.assert_allclose(batched, loop, rtol=1e-12)
    np.testing.assert_allclose(outer, loop, rtol=1e-12)


def test_nested_vmap_is_a_double_loop():
    f = lambda a, b: fnp.dot(a, b) * fnp.max(a)
    A, B = RNG.standard_normal((3, 4)), RNG.standard_normal((5, 4))
    table = ft.vmap(ft.vmap(f, in_axes=(None, 0)), in_axes=(0, None))(A, B)
    expected = np.array([[np.dot(a, b) * a.max() for b in B] for a in A])
    np.testing.assert_allclose(table, expected, rtol=1e-12)
    # the inner function closes over an outer batched value: the levels keep them apart
    closed = ft.vmap(lambda a: ft.vmap(lambda b: fnp.sum(a * b))(B))(A)
    np.testing.assert_allclose(closed, A @ B.T, rtol=1e-12)


def test_second_order_per_example():
    f = lambda x: fnp.sum(fnp.sin(x) ** 2)
    xs = RNG.standard_normal((4, 3))
    got = ft.vmap(ft.grad(lambda x: fnp.sum(ft.grad(f)(x))))(xs)
    np.testing.assert_allclose(got, 2 * np.cos(2 * xs), rtol=1e-12)


# -- in_axes, out_axes, axis_size -----------------------------------------------------------------


def test_in_axes_pytrees_negative_axes_and_out_axes():
    x = RNG.standard_normal((2, 4))      # batch on axis -1
    d = {"a": RNG.standard_normal((4, 3)), "b": np.ones(3)}
    out = ft.vmap(lambda x, d: (x * fnp.sum(d["a"]) + fnp.sum(d["b"]), d["b"]),
                  in_axes=(-1, {"a": 0, "b": None}), out_axes=(1, None))(x, d)
    expected = np.stack([x[:, i] * d["a"][i].sum() + 3.0 for i in range(4)], axis=1)
    np.testing.assert_allclose(out[0], expected, rtol=1e-12)
    np.testing.assert_array_equal(out[1], np.ones(3))


def test_unbatched_outputs_are_broadcast_and_axis_size_gives_the_size():
    out = ft.vmap(lambda x, c: (x * 2, c), in_axes=(0, None))(np.arange(3.0), np.array(7.0))
    np.testing.assert_array_equal(out[1], np.full(3, 7.0))
    out = ft.vmap(lambda c: c + 1, in_axes=None, axis_size=4)(np.array([1.0, 2.0]))
    np.testing.assert_array_equal(out, np.tile([2.0, 3.0], (4, 1)))


def test_keyword_arguments_are_mapped_along_axis_0_as_in_jax():
    xs, ys = RNG.standard_normal((3, 2)), RNG.standard_normal((3, 2))
    got = ft.vmap(lambda x, y: x * fnp.sum(y))(xs, y=ys)
    np.testing.assert_allclose(got, xs * ys.sum(axis=1, keepdims=True), rtol=1e-12)
    # with in_axes for the positional arguments only, and a pytree keyword argument
    got = ft.vmap(lambda x, p: x * p["s"], in_axes=1)(xs.T, p={"s": ys[:, 0]})
    np.testing.assert_allclose(got, xs * ys[:, :1], rtol=1e-12)
    with pytest.raises(errors.BatchAxisError) as info:
        ft.vmap(lambda x, scale: x * scale)(xs, scale=2.0)
    assert "keyword argument 'scale'" in str(info.value) and "positionally" in str(info.value)
    with pytest.raises(errors.BatchAxisError, match="keyword argument 'y' has size 2"):
        ft.vmap(lambda x, y: x * y)(xs, y=ys[:2])


def test_a_non_array_output_is_named_and_out_axes_none_passes_it():
    xs = np.ones((2, 3))
    with pytest.raises(TypeError, match=r"returned a str among its outputs.*out_axes=None"):
        ft.vmap(lambda x: (x, "label"))(xs)
    out, label = ft.vmap(lambda x: (x * 2, "label"), out_axes=(0, None))(xs)
    np.testing.assert_array_equal(out, 2 * xs)
    assert label == "label"


def test_batch_of_size_zero():
    out = ft.vmap(lambda x: fnp.sum(fnp.exp(x)) * x)(np.zeros((0, 3)))
    assert out.shape == (0, 3)


def test_gather_with_batched_index_arrays_and_the_loop_fallback():
    from functrans.primitives.indexing import IndexArray, gather_p, scatter_add_p

    x = RNG.standard_normal((5, 4))
    idx = np.array([[0, 3], [1, 1], [3, 2]])
    got = ft.vmap(lambda i: gather_p.bind(x, i, index=(IndexArray(0),)))(idx)
    np.testing.assert_array_equal(got, x[idx])
    got = ft.vmap(lambda i: gather_p.bind(x, i, index=(slice(None), IndexArray(0))))(idx)
    np.testing.assert_array_equal(got, np.stack([x[:, i] for i in idx]))
    # batched x and batched positions: the loop fallback
    xs = RNG.standard_normal((3, 5))
    got = ft.vmap(lambda v, i: gather_p.bind(v, i, index=(IndexArray(0),)))(xs, idx)
    np.testing.assert_array_equal(got, np.stack([v[i] for v, i in zip(xs, idx)]))
    got = ft.vmap(lambda v, i: scatter_add_p.bind(v, 1.0, i, index=(IndexArray(0),)))(xs, idx)
    expected = xs.copy()
    for row, i in zip(expected, idx):
        np.add.at(row, i, 1.0)
    np.testing.assert_array_equal(got, expected)


def test_a_primitive_without_a_batching_rule_runs_example_by_example():
    from functrans.extend import elementwise

    p = elementwise("test_vmap_no_rule", lambda x: x * 3.0)
    p.batch = None
    got = ft.vmap(lambda x: p.bind(x) + 1.0, in_axes=1)(np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(got, np.arange(6.0).reshape(2, 3).T * 3.0 + 1.0)


# -- errors ----------------------------------------------------------------------------------------


def test_inconsistent_batch_sizes_name_the_arguments_and_sizes():
    with pytest.raises(errors.BatchAxisError) as info:
        ft.vmap(lambda x, p: x + p["b"])(np.ones((3, 2)), {"b": np.ones((4, 2))})
    message = str(info.value)
    assert "argument 0 has size 3" in message and "argument 1['b'] has size 4" in message
    assert "in_axes=None" in message


def test_python_control_flow_on_a_batched_value_names_where():
    def f(x):
        return x if x > 0 else -x

    with pytest.raises(errors.TracerConversionError, match=r"functrans\.numpy\.where"):
        ft.vmap(f)(np.array([1.0, -2.0]))
    np.testing.assert_array_equal(ft.vmap(lambda x: fnp.where(x > 0, x, -x))(np.array([1.0, -2.0])),
                                  [1.0, 2.0])


@pytest.mark.parametrize("call, match", [
    (lambda: ft.vmap(lambda x: x, in_axes=(0, 0))(np.ones(3)), "one entry per"),
    (lambda: ft.vmap(lambda x: x, in_axes=2)(np.ones((3, 2))), "axis 2 of argument 0"),
    (lambda: ft.vmap(lambda x: x, in_axes=None)(np.ones(3)), "axis_size"),
    (lambda: ft.vmap(lambda x: x, out_axes=None)(np.ones(3)), "out_axes is None"),
    (lambda: ft.vmap(lambda x: x, in_axes="zero")(np.ones(3)), "must be an int"),
    (lambda: ft.vmap(lambda x: x)(2.0), "axis 0 of argument 0"),
    (lambda: ft.vmap(lambda x: x, in_axes=None, axis_size=2.5)(np.ones(3)), r"axis_size must be .* got 2\.5"),
    (lambda: ft.vmap(lambda x: x, in_axes=None, axis_size=-1)(np.ones(3)), r"non-negative int .* got -1"),
])
def test_bad_axes_are_explained(call, match):
    with pytest.raises(errors.BatchAxisError, match=match):
        call()


# -- derivatives under vmap, table-driven: the batching rules of the derivative rules ------------


def _derivative_cases(value_dependent=False):
    # (bincount of integers has no float argument to differentiate: nothing is vmapped)
    return [s for s in ALL_SPECS if s.nargs > 0 and s.derivative == "check"
            and (s.name in _VALUE_DEPENDENT_SHAPE) == value_dependent]


def _derivative_case(spec, data):
    """A per-example function of jvp and vjp of the spec's float arguments, and a batch to map it
    over: (per_example, in_axes, batched arguments, per-example arguments), or None without a
    float argument."""
    shapes_, params = data.draw(spec.sig, label="shapes, params")
    seed = data.draw(st.integers(0, 2**32 - 1), label="values seed")
    rng = np.random.default_rng(seed)
    domains = spec.domains
    examples = [tuple(d(rng, s, np.float64) for d, s in zip(domains, shapes_)) for _ in range(BATCH)]
    floats = [i for i, a in enumerate(examples[0]) if np.asarray(a).dtype.kind in "fc"]
    if not floats:
        return None

    def per_example(*args):  # the float arguments differentiated, the others fixed
        def f(*xs):
            full = list(args)
            for i, x in zip(floats, xs):
                full[i] = x
            return spec.fn(*full, **params)

        xs = [args[i] for i in floats]
        # tangents vary with the example (asarray: NumPy gives 0-d results as scalars)
        out, t_out = ft.jvp(f, xs, [fnp.asarray(fnp.cos(x)) for x in xs])
        _, pullback = ft.vjp(f, *xs)
        cts = pullback(tree.map(lambda o: fnp.asarray(fnp.sin(o) + 1.0), out))
        return t_out, cts

    stacked = tuple(np.stack([e[i] for e in examples]) for i in range(spec.nargs))
    in_axes = tuple(0 if i in floats else None for i in range(spec.nargs))
    if any(a is None for a in in_axes):
        stacked = tuple(s if i in floats else examples[0][i] for i, s in enumerate(stacked))
        examples = [tuple(e[i] if i in floats else examples[0][i] for i in range(spec.nargs)) for e in examples]
    return per_example, in_axes, stacked, examples


@pytest.mark.parametrize("spec", _derivative_cases(), ids=repr)
@settings(max_examples=2)
@given(data=st.data())
def test_vmap_of_jvp_and_vjp_matches_a_loop(spec, data):
    case = _derivative_case(spec, data)
    if case is None:
        return
    per_example, in_axes, stacked, examples = case
    got = ft.vmap(per_example, in_axes=in_axes)(*stacked)
    with np.errstate(all="ignore"):
        loop = [per_example(*e) for e in examples]
    expected = tree.map(lambda *xs: np.stack([np.asarray(x) for x in xs]), *loop)
    assert_same(tree.map(np.asarray, got), expected, f"vmap of jvp/vjp of {spec.name}")


@pytest.mark.parametrize("spec", _derivative_cases(value_dependent=True), ids=repr)
@settings(max_examples=1)
@given(data=st.data())
def test_vmap_of_jvp_and_vjp_refuses_a_value_dependent_shape(spec, data):
    per_example, in_axes, stacked, _ = _derivative_case(spec, data)
    with _refused(spec):
        ft.vmap(per_example, in_axes=in_axes)(*stacked)


def test_per_example_gradients_of_an_nn_layer_with_integer_labels():
    from functrans import nn

    layer = nn.Linear(5, 3)
    params = layer.init(ft.random.key(0))
    ys = np.array([0, 2, 1, 1])

    def loss(p, x, y):
        return nn.cross_entropy(layer.apply(p, x)[None], y[None])

    per = ft.vmap(ft.grad(loss), in_axes=(None, 0, 0))(params, XS[:4], ys)
    for i in range(4):
        expected = ft.grad(loss)(params, XS[i], ys[i])
        for k in expected:
            np.testing.assert_allclose(per[k][i], expected[k], rtol=1e-12, atol=1e-15)


# -- control flow and indexing against a loop over the batch -------------------------------------


def test_while_loop_with_a_batched_predicate_over_an_empty_batch():
    from functrans import lax

    def f(a):
        return lax.while_loop(lambda c: c[0] < a, lambda c: (c[0] + 1.0, c[1] * 2.0), (0.0, fnp.ones(2)))

    for mapped in (ft.vmap(f), ft.jit(ft.vmap(f)), ft.vmap(ft.jit(f))):
        count, doubled = mapped(np.zeros((0,)))
        assert count.shape == (0,) and doubled.shape == (0, 2)
    count, doubled = ft.vmap(f)(np.array([0.5, 2.5]))
    np.testing.assert_array_equal(count, [1.0, 3.0])
    np.testing.assert_array_equal(doubled, [[2.0, 2.0], [8.0, 8.0]])


def test_random_draws_with_batched_parameters_match_a_loop():
    keys = ft.random.split(ft.random.key(3), 3)
    weights = np.array([[1.0, 2.0, 3.0], [0.0, 1.0, 1.0], [5.0, 0.0, 1.0]])
    trials = np.array([4.0, 10.0, 7.0])
    draw = lambda k, n, p: ft.random.multinomial(k, n, p)
    loop = np.stack([draw(*a) for a in zip(keys, trials, weights)])
    np.testing.assert_array_equal(loop.sum(axis=1), trials)
    for mapped in (ft.vmap(draw), ft.jit(ft.vmap(draw)), ft.vmap(ft.jit(draw))):
        np.testing.assert_array_equal(mapped(keys, trials, weights), loop)
    np.testing.assert_array_equal(ft.vmap(draw, in_axes=(None, 0, None))(keys[0], trials, weights[0]),
                                  np.stack([draw(keys[0], n, weights[0]) for n in trials]))
    # integer bounds too, and a shape set by a mapped value is refused by name
    bounded = lambda k, m: ft.random.randint(k, (2,), 0, m)
    bounds = np.array([3, 4, 5])
    np.testing.assert_array_equal(ft.vmap(bounded)(keys, bounds),
                                  np.stack([bounded(k, int(m)) for k, m in zip(keys, bounds)]))
    with pytest.raises(errors.TracerConversionError, match="'shape' is a traced value .* unmapped"):
        ft.vmap(lambda k, n: ft.random.normal(k, n))(keys, bounds)


def test_axes_given_as_a_dict_follow_the_keys_of_an_ordered_dict():
    from collections import OrderedDict

    rows, shared = RNG.standard_normal((4, 3)), np.arange(3.0)
    arg = OrderedDict([("b", rows), ("a", shared)])  # flattened in insertion order, not sorted
    expected = rows * shared
    for in_axes in ({"b": 0, "a": None}, OrderedDict([("a", None), ("b", 0)])):
        got = ft.vmap(lambda d: d["a"] * d["b"], in_axes=(in_axes,))(arg)
        np.testing.assert_allclose(got, expected, rtol=1e-15)
    out = ft.vmap(lambda r: OrderedDict([("z", r * shared), ("y", fnp.sum(r))]),
                  out_axes={"z": 1, "y": 0})(rows)
    np.testing.assert_allclose(out["z"], expected.T, rtol=1e-15)
    np.testing.assert_allclose(out["y"], rows.sum(axis=1), rtol=1e-15)


def test_reverse_mode_through_a_batched_cond_ignores_the_branch_an_example_does_not_take():
    from functrans import lax

    # sqrt has an infinite or NaN slope where the examples take the other branch
    f = lambda w, a: lax.cond(a > 0, lambda z: fnp.sqrt(z * w), lambda z: z * w, a)
    g = lambda w, a: lax.switch(fnp.argmax(fnp.stack([a, -a, 0.5 - a])),
                                [fnp.log, lambda z: z * w, lambda z: fnp.sqrt(0.5 - z) * w], a)
    xs = np.array([-1.0, 4.0, 0.0, 0.25])
    for fun in (f, g):
        with np.errstate(all="ignore"):
            dw = sum(ft.grad(fun)(2.0, a) for a in xs)
            da = np.array([ft.grad(fun, argnums=1)(2.0, a) for a in xs])
        assert np.all(np.isfinite(da)) and np.isfinite(dw)
        total = lambda w, a, fun=fun: fnp.sum(ft.vmap(fun, in_axes=(None, 0))(w, a))
        staged = lambda w, a, fun=fun: fnp.sum(ft.jit(ft.vmap(fun, in_axes=(None, 0)))(w, a))
        for grad_of in (total, ft.jit(total), staged):
            got_w, got_a = ft.grad(grad_of, argnums=(0, 1))(2.0, xs)
            np.testing.assert_allclose(got_w, dw, rtol=1e-12)
            np.testing.assert_allclose(got_a, da, rtol=1e-12)


def test_numpy_on_a_batched_value_says_it_is_a_batch_not_a_derivative():
    with pytest.raises(errors.TracerConversionError) as info:
        ft.vmap(lambda x: np.asarray(x) * 2)(np.ones((2, 3)))
    message = str(info.value)
    assert "whole batch of values (shape (3,) per example" in message and "fnp" in message
    assert "derivative" not in message
    with pytest.raises(errors.TracerConversionError, match=r"fnp\.getitem\(table, i\)"):
        ft.vmap(lambda i: np.arange(3.0)[i])(np.array([0, 1]))


def test_a_cond_branch_that_closes_over_the_input_is_differentiated_only_where_taken():
    from functrans import lax

    # the branches compute from the closed-over `a`, not from operands: that work belongs to
    # the branch, so the untaken sqrt of a negative number gives no NaN
    f = lambda a: lax.cond(a > 0, lambda: fnp.sqrt(a), lambda: a * 3.0)
    xs = np.array([-1.0, 4.0, -2.0])
    expected = np.array([3.0, 0.25, 3.0])
    with np.errstate(all="ignore"):
        np.testing.assert_allclose([ft.grad(f)(a) for a in xs], expected, rtol=1e-15)
        np.testing.assert_allclose(ft.vmap(ft.grad(f))(xs), expected, rtol=1e-15)
        np.testing.assert_allclose(ft.grad(lambda z: fnp.sum(ft.vmap(f)(z)))(xs), expected, rtol=1e-15)
        np.testing.assert_allclose(ft.jit(ft.grad(f))(-1.0), 3.0, rtol=1e-15)
        np.testing.assert_allclose(ft.vmap(f)(xs), [-3.0, 2.0, -6.0], rtol=1e-15)


def test_axes_given_as_a_registered_pytree_node_of_the_values_type():
    import dataclasses

    @tree.register_dataclass
    @dataclasses.dataclass
    class State:
        rows: object
        scale: object

    rows, scale = RNG.standard_normal((4, 3)), np.arange(3.0)
    got = ft.vmap(lambda s: s.rows * s.scale, in_axes=(State(0, None),))(State(rows, scale))
    np.testing.assert_allclose(got, rows * scale, rtol=1e-15)
    out = ft.vmap(lambda r: State(r * 2.0, fnp.sum(r)), out_axes=State(1, 0))(rows)
    np.testing.assert_allclose(out.rows, 2.0 * rows.T, rtol=1e-15)
    np.testing.assert_allclose(out.scale, rows.sum(axis=1), rtol=1e-15)


def test_an_index_update_of_integers_by_a_float_number_is_the_same_at_one_position_or_many():
    # the number is cast to the integers' dtype first (as JAX does): 2 + int(-1.5) = 1
    x = np.array([[2, 5, 7], [3, 1, 4]], dtype=np.int32)
    for op, one, repeated in (("add", [1, 2], [0, 1]), ("multiply", [-2, -3], [2, 3])):
        f = lambda r, op=op: getattr(fnp.at(r)[0], op)(-1.5)
        g = lambda r, op=op: getattr(fnp.at(r)[np.array([0, 0])], op)(-1.5)
        for fun, first in ((f, one), (g, repeated)):
            expected = x.copy()
            expected[:, 0] = first
            for mapped in (ft.vmap(fun), ft.jit(ft.vmap(fun)), lambda a, fun=fun: np.stack([fun(r) for r in a])):
                got = mapped(x)
                assert got.dtype == np.int32
                np.testing.assert_array_equal(got, expected)


def test_a_loop_in_a_branch_waits_only_for_the_examples_that_take_the_branch():
    from functrans import lax

    # doubling never reaches 10 from a negative start: the examples that do not take the
    # branch must not keep the loop running (they would, forever)
    f = lambda z: lax.cond(z > 0, lambda: lax.while_loop(lambda q: q < 10.0, lambda q: q * 2.0, z), lambda: z)
    g = lambda z: lax.switch(fnp.clip(z.astype(int), 0, 2), [
        lambda: z,
        lambda: lax.cond(z > 1.5, lambda: lax.while_loop(lambda q: q < 100.0, lambda q: q * 3.0, z - 1.4),
                         lambda: -z),
        lambda: lax.while_loop(lambda q: q < 50.0, lambda q: q + 7.0, z)])
    for fun, xs in ((f, np.array([1.0, -1.0, 3.0])), (g, np.array([0.5, 1.2, 1.8, 2.5, -3.0]))):
        expected = np.array([fun(x) for x in xs])
        for mapped in (ft.vmap(fun), ft.jit(ft.vmap(fun)), ft.vmap(ft.jit(fun))):
            np.testing.assert_allclose(mapped(xs), expected, rtol=1e-14)
    np.testing.assert_allclose(ft.vmap(ft.vmap(f))(np.array([[1.0, -1.0], [-2.0, 0.5]])), [[16.0, -1.0], [-2.0, 16.0]])


NESTED_LOOPS_IN_A_BRANCH = """
import numpy as np, functrans as ft, functrans.numpy as fnp
from functrans import lax

def countdown(v):  # from a negative start it never ends
    return lax.while_loop(lambda c: c != 0, lambda c: c - 1, v)

def while_in_while(z):
    return lax.while_loop(lambda c: c[1] < 2, lambda c: (countdown(c[0]) + z, c[1] + 1), (z, 0))[0]

def scan_in_while(z):
    step = lambda a, _: (countdown(a) + z, None)
    return lax.while_loop(lambda c: c[1] < 2, lambda c: (lax.scan(step, c[0], None, length=2)[0], c[1] + 1),
                          (z, 0))[0]

def while_in_scan_in_scan(z):
    inner = lambda a, _: (lax.scan(lambda b, _: (countdown(b) + z, None), a, None, length=2)[0], None)
    return lax.scan(inner, z, None, length=2)[0]

def fori(z):
    return lax.fori_loop(0, 2, lambda i, c: countdown(c) + z, z)

@ft.custom_jvp
def custom_jvp(z):
    return countdown(z)

custom_jvp.defjvp(lambda p, t: (custom_jvp(p[0]), t[0]))

@ft.custom_vjp
def custom_vjp(z):
    return countdown(z)

custom_vjp.defvjp(lambda z: (custom_vjp(z), None), lambda r, g: (g,))
checkpointed = ft.checkpoint(lambda z: countdown(z) + z)

xs = np.array([3, -2, 1])
for branch in (while_in_while, scan_in_while, while_in_scan_in_scan, fori, checkpointed):
    f = lambda z: lax.cond(z > 0, branch, lambda z: z, z)
    for mapped in (ft.vmap(f), ft.jit(ft.vmap(f))):
        print(getattr(branch, "__name__", "checkpointed"), mapped(xs).tolist())
for branch in (custom_jvp, custom_vjp):  # (their batched bodies run when the program runs)
    f = lambda z: lax.cond(z > 0, branch, lambda z: z, z)
    for mapped in (ft.vmap(f), ft.jit(ft.vmap(f)), ft.vmap(ft.jit(f))):
        out = mapped(xs)  # the countdown's 0 where the branch is taken
        print("custom", np.where(xs > 0, out + xs, out).tolist())
    g = lambda z: lax.cond(z > 0, branch, lambda z: 3.0 * z, z)  # derivatives 1 and 3
    floats = xs.astype(float)
    for d in (ft.jit(ft.vmap(ft.grad(g))), ft.vmap(ft.jit(ft.grad(g))),
              ft.jit(ft.grad(lambda z: fnp.sum(ft.vmap(g)(z))))):
        print("derivative", d(floats).tolist())
"""


def test_loops_nested_in_a_branch_wait_only_for_the_examples_that_take_it():
    """A loop inside a scan or a loop inside a batched branch: the examples that do not take
    the branch (here a countdown from -2, which never ends) are done from the start at every
    depth. Run in a process of its own, so that a loop that waits for them fails the test
    instead of hanging the run."""
    import subprocess
    import sys
    done = subprocess.run([sys.executable, "-c", NESTED_LOOPS_IN_A_BRANCH], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 22, done.stdout
    for line in lines:  # the branch gives z back for z > 0 (each countdown ends at 0)
        assert line.split(" ", 1)[1] == "[3, -2, 1]" or line == "derivative [1.0, 3.0, 1.0]", line


def test_formatting_a_batched_value_names_the_batch():
    with pytest.raises(errors.TracerConversionError, match="whole batch of values"):
        ft.vmap(lambda x: f"{x:.2f}")(np.ones(2))
    shown = []
    ft.grad(lambda x: (shown.append(f"{x:.2f}"), x * 2.0)[1])(1.0)  # a value that has one
    assert shown == ["1.00"]
