"""jit: staged once per signature, replayed afterwards, and the same numbers as eager."""
import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans import errors, nn
from functrans.interpreters import replay as jit_module


def _mlp_loss(params, x, y):
    h = fnp.tanh(x @ params["w1"] + params["b1"])
    logits = h @ params["w2"]
    return fnp.mean((logits - y) ** 2)


def _mlp_data(seed=0):
    rng = np.random.default_rng(seed)
    params = {"w1": rng.normal(size=(4, 8)), "b1": rng.normal(size=8), "w2": rng.normal(size=(8, 2))}
    return params, rng.normal(size=(16, 4)), rng.normal(size=(16, 2))


def test_jit_of_value_and_grad_equals_eager_exactly():
    params, x, y = _mlp_data()
    eager = ft.value_and_grad(_mlp_loss)(params, x, y)
    jitted = ft.jit(ft.value_and_grad(_mlp_loss))
    for _ in range(3):  # staging call, then replays
        loss, grads = jitted(params, x, y)
        assert loss == eager[0]
        for k in params:
            np.testing.assert_array_equal(grads[k], eager[1][k])


def test_stages_once_per_signature():
    calls = []

    def f(x, scale):
        calls.append(1)
        return fnp.sin(x) * scale

    g = ft.jit(f)
    g(np.ones(3), 2.0)
    g(np.zeros(3), 2.0)
    assert len(calls) == 1
    np.testing.assert_allclose(g(np.full(3, 0.5), 2.0), 2 * np.sin(0.5), rtol=1e-15)
    assert len(calls) == 1
    g(np.ones(4), 2.0)  # new shape
    g(np.ones(3, np.float32), 2.0)  # new dtype
    g(np.ones(3), 3.0)  # a Python float is traced: its type is in the signature, not its value
    assert len(calls) == 3
    np.testing.assert_allclose(g(np.ones(3), 3.0), 3 * np.sin(1.0), rtol=1e-15)
    g(np.ones(3), 3)  # a Python int is another type
    assert len(calls) == 4
    g.clear_cache()
    g(np.ones(3), 3.0)
    assert len(calls) == 5


def test_float32_stays_float32():
    out = ft.jit(lambda x: x * 0.5 + 1)(np.ones(2, np.float32))
    assert out.dtype == np.float32


def test_static_argnums_and_argnames_allow_control_flow():
    def power(x, n, *, twice=False):
        out = x
        for _ in range(n - 1):
            out = out * x
        return out * 2 if twice else out

    f = ft.jit(power, static_argnums=1, static_argnames="twice")
    np.testing.assert_allclose(f(np.array([2.0, 3.0]), 3), [8.0, 27.0])
    np.testing.assert_allclose(f(np.array([2.0, 3.0]), 2, twice=True), [8.0, 18.0])


def test_donation_of_ported_programs_is_accepted_and_leaves_the_arguments_valid():
    import functools

    @functools.partial(ft.jit, donate_argnums=(0,))
    def step(w, g):
        return w - 0.1 * g

    w, g = np.ones(3), np.arange(3.0)
    for _ in range(2):
        np.testing.assert_allclose(step(w, g), [1.0, 0.9, 0.8])
    np.testing.assert_array_equal(w, np.ones(3))
    named = ft.jit(lambda w, g: w + g, donate_argnames="w")
    np.testing.assert_array_equal(named(w, g=g), [1.0, 2.0, 3.0])
    with pytest.raises(TypeError, match=r"donate_argnums must be an int .*got '0'"):
        ft.jit(lambda w: w, donate_argnums="0")


def test_static_argnums_and_argnames_complete_each_other_from_the_signature():
    def power(x, n=2):
        return x ** n if n > 1 else x  # Python control flow on n: n must be static

    x = np.array([2.0, 3.0])
    by_name = ft.jit(power, static_argnames="n")
    np.testing.assert_allclose(by_name(x, 3), [8.0, 27.0])  # passed by position
    np.testing.assert_allclose(by_name(x, n=3), [8.0, 27.0])
    by_position = ft.jit(power, static_argnums=1)
    np.testing.assert_allclose(by_position(x, n=3), [8.0, 27.0])  # passed by keyword
    np.testing.assert_allclose(by_position(x), [4.0, 9.0])  # left to its default
    np.testing.assert_allclose(by_position(x, 1), x)
    with pytest.raises(ValueError, match=r"static_argnames names \['m'\].*\['x', 'n'\]"):
        ft.jit(power, static_argnames="m")  # a misspelt name would leave n traced
    ft.jit(lambda x, **options: x, static_argnames="m")  # (may be one of **options)


def test_an_unhashable_static_argument_is_named_with_the_fix_for_its_type():
    f = ft.jit(lambda x, cfg: x, static_argnums=1)
    with pytest.raises(TypeError, match=r"static argument 1 of <lambda>, a list.*pass a tuple"):
        f(np.ones(1), [1, 2])
    with pytest.raises(TypeError, match=r"a ndarray.*ordinary \(traced\) argument"):
        f(np.ones(1), np.ones(2))
    g = ft.jit(lambda x, *, cfg: x, static_argnames="cfg")
    with pytest.raises(TypeError, match=r"static argument 'cfg' of <lambda>, a dict"):
        g(np.ones(1), cfg={"a": 1})


def test_disable_jit_runs_the_plain_function_in_its_block():
    calls = []

    @ft.jit
    def f(x):
        calls.append(type(x))
        return x * 2 if x[0] > 0 else -x  # needs the value: fails when recorded

    x = np.array([1.0, 2.0])
    with ft.disable_jit():
        np.testing.assert_array_equal(f(x), [2.0, 4.0])
        np.testing.assert_array_equal(f(-x), [1.0, 2.0])
        np.testing.assert_array_equal(ft.grad(lambda x: fnp.sum(f(x)))(x), [2.0, 2.0])
    assert calls[:2] == [np.ndarray, np.ndarray]  # the arrays themselves, not recorded values
    with pytest.raises(errors.TracerConversionError):
        f(x)
    with ft.config.override(jax_disable_jit=True):
        np.testing.assert_array_equal(f(x), [2.0, 4.0])
    with ft.disable_jit(False):
        with pytest.raises(errors.TracerConversionError):
            f(x)


def test_value_dependent_control_flow_names_the_fix():
    def f(x):
        return x if fnp.sum(x) > 0 else -x

    with pytest.raises(errors.TracerConversionError, match="static_argnums") as info:
        ft.jit(f)(np.ones(2))
    assert "jit(f)" in str(info.value) and str(info.value).count("(See ") == 1


def test_bad_arguments_are_named():
    with pytest.raises(TypeError, match="leaf 0 is a str"):
        ft.jit(lambda s: s)("text")
    with pytest.raises(TypeError, match="not hashable"):
        ft.jit(lambda x, cfg: x, static_argnums=1)(np.ones(1), [1, 2])
    with pytest.raises(ValueError, match="static_argnums=3 is out of range"):
        ft.jit(lambda x: x, static_argnums=3)(np.ones(1))
    with pytest.raises(TypeError, match="expected a function"):
        ft.jit(3)


@pytest.mark.parametrize("outer", ["grad", "jvp", "vmap", "jacrev"])
def test_jit_inside_other_transformations(outer):
    f = lambda x: fnp.sum(fnp.sin(x) * x)
    x = np.array([0.3, -1.2, 2.0])
    jf = ft.jit(f)
    if outer == "grad":
        got, want = ft.grad(jf)(x), ft.grad(f)(x)
    elif outer == "jvp":
        got, want = ft.jvp(jf, (x,), (x,))[1], ft.jvp(f, (x,), (x,))[1]
    elif outer == "vmap":
        xs = np.stack([x, 2 * x])
        got, want = ft.vmap(jf)(xs), np.array([f(x), f(2 * x)])
    else:
        got, want = ft.jacrev(ft.jit(fnp.sin))(x), np.diag(np.cos(x))
    np.testing.assert_allclose(got, want, rtol=1e-14)


def test_other_transformations_inside_jit():
    x = np.array([0.3, -1.2, 2.0])
    hess = ft.jit(ft.hessian(lambda v: fnp.sum(v ** 3)))
    np.testing.assert_allclose(hess(x), np.diag(6 * x), rtol=1e-14)
    per_example = ft.jit(ft.vmap(ft.grad(lambda w, v: fnp.sum(w * v) ** 2), in_axes=(None, 0)))
    vs = np.arange(6.0).reshape(2, 3)
    np.testing.assert_allclose(per_example(x, vs), [2 * (x @ v) * v for v in vs], rtol=1e-14)


def test_closure_over_an_outer_tracer_is_not_cached():
    # d/dy of jit(lambda x: x * y)(x) is x, for every y: the staged program holds y's tracer
    # as a constant, which is valid for that call only.
    def outer(y):
        return fnp.sum(ft.jit(lambda x: x * y)(np.array([1.0, 2.0])))

    assert ft.grad(outer)(3.0) == 3.0
    assert ft.grad(outer)(5.0) == 3.0


def test_multiple_results_constants_and_pass_through_outputs():
    a = np.array([[2.0, 1.0], [1.0, 3.0]])
    f = ft.jit(lambda m, v: (fnp.linalg.eigh(m)[0], v, a, 1.5))
    w, v, const, scalar = f(a, np.ones(2))
    np.testing.assert_allclose(w, np.linalg.eigvalsh(a), rtol=1e-14)
    np.testing.assert_array_equal(v, np.ones(2))
    np.testing.assert_array_equal(const, a)
    assert not np.shares_memory(const, a) and scalar == 1.5  # a closed-over array is copied


def test_dead_code_is_not_replayed():
    program = ft.make_jaxpr(lambda x: (fnp.exp(x), fnp.sin(x))[1])(np.ones(3))
    plan = jit_module.ReplayPlan(program.program)
    assert len(program.eqns) == 2 and plan.num_eqns == 1
    np.testing.assert_allclose(plan.run([np.zeros(3)]), [np.zeros(3)])


def test_long_programs_run_in_the_loop(monkeypatch):
    monkeypatch.setattr(jit_module, "_MAX_STRAIGHT_LINE", 0)

    def chain(x):
        for _ in range(50):
            x = fnp.sin(x) * 1.01 + 0.1 * x
        return x

    x = np.array([0.3, 0.7])
    np.testing.assert_array_equal(ft.jit(ft.grad(lambda v: fnp.sum(chain(v))))(x),
                                  ft.grad(lambda v: fnp.sum(chain(v)))(x))


def test_traced_integer_indices_go_to_gather():
    # An integer index array's values do not decide the result's shape, so it may be abstract
    # (jit) or batched (vmap); repeated indices still accumulate in the gradient.
    x = np.arange(5.0) * 1.5
    idx = np.array([1, 3, 3])
    np.testing.assert_array_equal(ft.jit(lambda v, i: v[i])(x, idx), x[idx])
    np.testing.assert_array_equal(ft.jit(ft.grad(lambda v, i: fnp.sum(v[i] ** 2)))(x, idx),
                                  [0.0, 3.0, 0.0, 18.0, 0.0])
    np.testing.assert_array_equal(ft.jit(lambda v, i: v.at[i].add(1.0))(x, idx),
                                  [0.0, 2.5, 3.0, 6.5, 6.0])
    assert ft.jit(lambda v: v[fnp.argmax(v)])(x) == 6.0
    np.testing.assert_array_equal(ft.vmap(lambda i: fnp.getitem(x, i))(idx), x[idx])
    np.testing.assert_array_equal(ft.vmap(ft.grad(lambda v, i: v[i] ** 2), in_axes=(None, 0))(x, idx[:2]),
                                  [[0.0, 3.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 9.0, 0.0]])


def test_numpy_indexing_with_a_traced_index_names_the_fix():
    table = np.arange(4.0)
    with pytest.raises(errors.TracerConversionError, match=r"fnp.getitem\(table, i\)"):
        ft.vmap(lambda i: table[i])(np.array([0, 1]))


def test_random_draws_inside_jit_and_vmap_match_eager_draws():
    from functrans import random

    def step(x, key):
        k_noise, k_next = random.split(key)
        return fnp.sum(x * random.normal(k_noise, x.shape)), k_next

    x = np.arange(3.0)
    for seed in (0, 1):  # replayed with a new key value: new numbers, the eager ones
        key = random.key(seed)
        (got, got_key), (want, want_key) = ft.jit(step)(x, key), step(x, key)
        assert got == want and got_key.tolist() == want_key.tolist()
    keys = random.split(random.key(2), 3)
    np.testing.assert_array_equal(ft.vmap(lambda k: random.uniform(k, (2,)))(keys),
                                  [random.uniform(k, (2,)) for k in keys])
    dropout = nn.Dropout(0.5)
    key = random.key(3)
    np.testing.assert_array_equal(ft.jit(lambda v, k: dropout.apply({}, v, key=k))(np.ones(6), key),
                                  dropout.apply({}, np.ones(6), key=key))
    assert "opaque_call[fn=normal(key, (3,))]" in str(ft.make_jaxpr(step)(x, key))


def test_a_draw_takes_traced_parameters_but_not_a_traced_shape():
    from functrans import random

    # A probability or a bound traced with the key draws the eager numbers.
    np.testing.assert_array_equal(ft.jit(lambda p, k: random.bernoulli(k, p, (3,)))(np.float64(0.5), random.key(0)),
                                  random.bernoulli(random.key(0), 0.5, (3,)))
    np.testing.assert_array_equal(
        ft.jit(lambda a, k: random.truncated_normal(k, a, 1.0, (3,)))(np.float64(0.5), random.key(0)),
        random.truncated_normal(random.key(0), 0.5, 1.0, (3,)))
    with pytest.raises(errors.TracerConversionError, match="'shape' is a traced value .* must be a concrete int"):
        ft.jit(lambda n, k: random.normal(k, n))(3, random.key(0))


def test_jit_keeps_arrays_on_their_device():
    from functrans import random
    from functrans.testing.strict import strict_array, to_numpy

    f = lambda v: fnp.sum(fnp.tanh(v) ** 2)
    x = np.linspace(0.0, 1.0, 4)
    g = ft.jit(ft.grad(f))
    for _ in range(2):  # staged, then replayed
        out = g(strict_array(x, device="strict:1"))
        assert type(out).__name__ == "StrictArray" and out.device == "strict:1"
        np.testing.assert_array_equal(to_numpy(out), ft.grad(f)(x))
    draw = ft.jit(lambda k: random.normal(k, (3,)))(random.key(0, device="strict:1"))
    assert draw.device == "strict:1"
    np.testing.assert_array_equal(to_numpy(draw), random.normal(random.key(0), (3,)))


@pytest.mark.parametrize("make_opt", [
    lambda optim: optim.adam(1e-2),
    lambda optim: optim.sgd(optim.schedules.warmup_cosine_decay(0.0, 0.1, 2, 6), momentum=0.9),
    lambda optim: optim.chain(optim.clip_by_global_norm(1.0),
                              optim.adamw(optim.schedules.exponential_decay(1e-2, 2, 0.5, staircase=True))),
])
def test_a_jitted_training_step_is_staged_once_and_matches_eager(make_opt):
    from functrans import optim

    params, x, y = _mlp_data(1)
    params = {k: v.astype(np.float32) for k, v in params.items()}
    opt = make_opt(optim)
    stagings = []

    def step(p, state):
        stagings.append(1)
        loss, grads = ft.value_and_grad(_mlp_loss)(p, x, y)
        updates, state = opt.update(grads, state, p)
        return optim.apply_updates(p, updates), state, loss

    eager_p, eager_s = params, opt.init(params)
    jit_p, jit_s = params, opt.init(params)
    jitted = ft.jit(step)
    for _ in range(6):  # the step count and scheduled rate change every step
        eager_p, eager_s, eager_loss = step(eager_p, eager_s)
        jit_p, jit_s, jit_loss = jitted(jit_p, jit_s)
        np.testing.assert_allclose(jit_loss, eager_loss, rtol=1e-6)
    assert len(stagings) == 6 + 1  # six eager calls, one staging
    assert int(optim.get_count(jit_s)) == 6
    np.testing.assert_allclose(float(optim.get_learning_rate(jit_s)),
                               float(optim.get_learning_rate(eager_s)), rtol=1e-12)
    for k in params:
        assert jit_p[k].dtype == np.float32
        np.testing.assert_allclose(jit_p[k], eager_p[k], rtol=1e-5, atol=1e-6)


def test_work_that_does_not_depend_on_the_inputs_values_is_done_once():
    A = np.arange(9.0).reshape(3, 3)
    # (the flip needs the unit vectors as an array: the basis, its flip and A @ flipped basis)
    program = ft.make_jaxpr(ft.jacfwd(lambda v: fnp.tanh(A @ fnp.flip(v))))(np.ones(3))
    plan = jit_module.ReplayPlan(program.program)
    before = len(plan.steps)
    x = np.array([0.1, -0.2, 0.3])
    want = np.diag(1 - np.tanh(A @ x[::-1]) ** 2) @ A[:, ::-1]
    np.testing.assert_allclose(plan.run([x])[0], want, rtol=1e-14)  # runs and folds
    assert len(plan.steps) < before  # the basis and A @ basis are constants now
    out = plan.run([x])[0]
    np.testing.assert_allclose(out, want, rtol=1e-14)
    out[...] = 0.0  # an output is never a kept constant: writing into it changes nothing
    np.testing.assert_allclose(plan.run([x])[0], want, rtol=1e-14)
    zeros = ft.jit(lambda v: fnp.zeros_like(v))  # an output made in an input's shape
    first = zeros(np.ones(2))
    first[0] = 5.0
    assert zeros(np.ones(2)).tolist() == [0.0, 0.0]


def test_what_only_the_folded_work_read_is_dropped_too():
    # grad of (grad . v): the outer grad's seed is ones shaped like (grad f) . v, a product
    # of A.T nobody needs once those ones are a constant of the plan
    A = np.random.default_rng(0).standard_normal((5, 5))

    def hvp(x, v):
        return ft.grad(lambda x: fnp.vdot(ft.grad(lambda y: fnp.sum(fnp.tanh(A @ y)) ** 2)(x), v))(x)

    program = ft.make_jaxpr(hvp)(np.ones(5), np.ones(5))
    plan = jit_module.ReplayPlan(program.program)
    products = sum(step[0].name == "dot_general" for step in plan.steps)
    x, v = np.linspace(-1, 1, 5), np.arange(5.0)
    want = ft.jvp(ft.grad(lambda y: fnp.sum(fnp.tanh(A @ y)) ** 2), (x,), (v,))[1]
    np.testing.assert_allclose(plan.run([x, v])[0], want, rtol=1e-12)  # runs and folds
    assert sum(step[0].name == "dot_general" for step in plan.steps) == products - 2
    assert "integer_pow" not in [step[0].name for step in plan.steps]  # f's own value
    np.testing.assert_allclose(plan.run([x, v])[0], want, rtol=1e-12)
    np.testing.assert_allclose(ft.jit(hvp)(x, v), want, rtol=1e-12)


def test_an_error_at_replay_names_the_line_that_applied_the_primitive():
    import functrans.scipy.linalg as fsl

    def root(a):
        return fsl.sqrtm(a) * 2.0  # SQRTM-LINE

    jitted = ft.jit(root)
    jitted(np.eye(2))  # recorded on a matrix with a square root: fine
    with pytest.raises(np.linalg.LinAlgError) as info:
        jitted(np.array([[0.0, 1.0], [0.0, 0.0]]))  # replayed on one without: the primitive's error, with a note
    notes = "\n".join(getattr(info.value, "__notes__", []))
    with open(__file__) as file:
        line = next(i for i, text in enumerate(file.read().splitlines(), 1) if text.endswith("# SQRTM-LINE"))
    assert "'sqrtm'" in notes and f"{__file__}:{line}" in notes


def test_outputs_never_share_memory_with_what_the_plan_keeps():
    D = np.ones(2)
    f = ft.jit(lambda x: (x * 2, D * 1.0))  # D * 1.0 is computed once, a constant of the plan
    first = f(np.ones(2))
    first[1][:] = 7.0
    assert f(np.ones(2))[1].tolist() == [1.0, 1.0]
    views = ft.jit(lambda v: (fnp.zeros_like(v).reshape(-1), D[::-1]))  # views of kept arrays
    for _ in range(3):  # the staging call, the folding call, a replay
        a, b = views(np.ones((2, 1)))
        assert a.tolist() == [0.0, 0.0] and b.tolist() == [1.0, 1.0]
        a[:] = 5.0
        b[:] = 5.0
    g = ft.jit(ft.grad(lambda x: fnp.sum(x * D)))  # D is a kept constant and x's cotangent
    g(np.ones(2))[:] = 3.0
    assert g(np.ones(2)).tolist() == [1.0, 1.0] and D.tolist() == [1.0, 1.0]


@pytest.mark.parametrize("f", [
    lambda x, y: (x, y * 2),
    lambda x, y: (x.reshape(2), y * 2),
    lambda x, y: (x.T, y * 2),
    lambda x, y: (x.astype(np.float64), y * 2),
    lambda x, y: (x[...], y * 2),
], ids=["identity", "reshape", "transpose", "astype-same-dtype", "ellipsis"])
def test_an_output_never_shares_memory_with_an_argument(f):
    x, y = np.ones(2), np.ones(2)
    jitted = ft.jit(f)
    for _ in range(3):
        out = jitted(x, y)
        assert out[0].tolist() == [1.0, 1.0] and out[1].tolist() == [2.0, 2.0]
        assert not np.shares_memory(out[0], x) and not np.shares_memory(out[1], y)
        out[0][:] = 7.0  # writing into an output leaves the caller's argument alone
        assert x.tolist() == [1.0, 1.0]


def test_arrays_closed_over_are_captured_by_value_when_staged():
    D = np.ones(2)
    f = ft.jit(lambda x: x * D)
    assert f(np.ones(2)).tolist() == [1.0, 1.0]
    D[:] = 5.0  # an in-place edit after staging does not reach the staged program
    assert f(np.ones(2)).tolist() == [1.0, 1.0]
    assert ft.jit(lambda x: x * D)(np.ones(2)).tolist() == [5.0, 5.0]  # a new staging sees it
    assert "Pass arrays that change as arguments" in " ".join(ft.jit.__doc__.split())


def test_python_scalars_are_keyed_by_type_and_computed_by_value():
    calls = []

    def f(x, s):
        calls.append(s)
        return x / s if not isinstance(s, bool) else x * s

    g = ft.jit(f)
    assert g(np.ones(1), 0.0).tolist() == [np.inf]
    assert g(np.ones(1), -0.0).tolist() == [-np.inf]
    for _ in range(3):
        assert np.isnan(g(np.ones(1), float("nan"))[0])
    assert np.signbit(g(np.ones(1), -float("nan"))[0])
    assert len(calls) == 1  # every float, whatever its sign or NaN-ness: one program
    for s in (1, 1.0, True, 1 + 0j):
        out = g(np.ones(1), s)
        expected = np.ones(1) / s if s is not True else np.ones(1) * s
        assert out.dtype == expected.dtype and out.tolist() == expected.tolist()
    assert len(calls) == 4  # one program per type: float, int, bool (static, by value), complex
    assert calls[2] is True
    np.testing.assert_array_equal(g(np.ones(1), complex(1.0, -0.0)), np.ones(1) / complex(1.0, -0.0))
    np.testing.assert_array_equal(g(np.ones(1), complex(-0.0, -0.0)), np.ones(1) / complex(-0.0, -0.0))
    assert len(calls) == 4
    h = ft.jit(lambda x, s: x / s, static_argnums=1)
    assert h(np.ones(1), 0.0).tolist() == [np.inf] and h(np.ones(1), -0.0).tolist() == [-np.inf]


def test_the_cache_is_safe_under_threads(monkeypatch):
    import sys
    import threading

    monkeypatch.setattr(ft.api._staging, "_JIT_CACHE_SIZE", 4)
    old_interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible
    f = ft.jit(lambda x, s: x * s)
    failures, sizes = [], []

    def hammer(seed):
        try:
            for i in range(200):
                s = float((seed * 7 + i) % 13)  # 13 signatures over a bound of 4
                out = f(np.ones(2), s)
                assert out.tolist() == [s, s]
                sizes.append(f._cache_size())
        except BaseException as error:  # reported below
            failures.append(error)

    try:
        threads = [threading.Thread(target=hammer, args=(k,)) for k in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(old_interval)
    assert failures == []
    assert max(sizes) <= 4 and f._cache_size() <= 4


def test_jit_with_options_is_a_decorator_factory():
    @ft.jit(static_argnums=1)
    def power(x, n):
        return x ** n if n > 0 else fnp.ones_like(x)

    assert power(np.array([2.0]), 3).tolist() == [8.0]
    assert power(np.array([2.0]), 0).tolist() == [1.0]

    @ft.jit(static_argnames="mode")
    def pick(x, mode="sin"):
        return fnp.sin(x) if mode == "sin" else fnp.cos(x)

    assert pick(np.zeros(1), mode="cos").tolist() == [1.0]
    assert pick(np.zeros(1)).tolist() == [0.0]
    assert pick.__name__ == "pick"
