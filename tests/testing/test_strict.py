"""The strict test backend refuses what CuPy refuses, with messages that say what to do:
implicit conversion to host NumPy (np.asarray, np.* functions), mixing with NumPy arrays,
and mixing arrays of two devices. It allows what CuPy allows: Python and NumPy scalars,
Python values of size-1 arrays, explicit transfers."""
from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans.errors import DeviceMismatchError
from functrans.testing.strict import (
    DEVICES,
    StrictArray,
    strict_array,
    strict_xp,
    to_numpy,
    using_device,
)

CONVERSION = "implicit conversion to a NumPy array is not allowed"


@pytest.fixture
def x():
    return strict_array([1.0, 2.0, 3.0])


def test_np_asarray_of_a_result_raises(x):
    result = fnp.sin(x) * 2.0
    with pytest.raises(TypeError, match=CONVERSION) as info:
        np.asarray(result)
    assert "functrans.device_get" in str(info.value) and "'strict:0'" in str(info.value)
    with pytest.raises(TypeError, match=CONVERSION):
        np.array(ft.grad(lambda v: fnp.sum(v ** 2))(x))


@pytest.mark.parametrize("call", [np.exp, np.sum, lambda v: np.add(v, 1.0), np.linalg.norm,
                                  lambda v: np.concatenate([v, v])],
                         ids=["exp", "sum", "add", "linalg.norm", "concatenate"])
def test_numpy_functions_raise(x, call):
    with pytest.raises(TypeError, match=CONVERSION) as info:
        call(x)
    assert "called on a StrictArray" in str(info.value)


@pytest.mark.parametrize("mix", [lambda s, a: s + a, lambda s, a: a + s, lambda s, a: s * a,
                                 lambda s, a: a @ s, lambda s, a: s < a,
                                 lambda s, a: strict_xp.where(s > 1, s, a)],
                         ids=["strict+nd", "nd+strict", "strict*nd", "nd@strict", "strict<nd", "where"])
def test_mixing_with_numpy_arrays_raises(x, mix):
    with pytest.raises(TypeError, match="cannot mix a StrictArray on 'strict:0' with a host "
                                        "numpy.ndarray") as info:
        mix(x, np.ones(3))
    assert CONVERSION in str(info.value) and "functrans.device_put" in str(info.value)


def test_functrans_ops_mixing_with_numpy_raise_device_mismatch(x):
    with pytest.raises(DeviceMismatchError, match="'strict:0'.*'cpu'|'cpu'.*'strict:0'"):
        fnp.add(x, np.ones(3))


def test_two_devices_refuse_to_mix(x):
    y = strict_array([1.0, 2.0, 3.0], device="strict:1")
    for mix in (lambda: x + y, lambda: strict_xp.add(x, y), lambda: fnp.add(x, y),
                lambda: fnp.matmul(x, y), lambda: ft.grad(lambda a: fnp.sum(a * y))(x)):
        with pytest.raises(DeviceMismatchError) as info:
            mix()
        message = str(info.value)
        assert "'strict:0'" in message and "'strict:1'" in message, message
        assert "device_put" in message, message


def test_scalars_mix_freely_and_results_stay_on_the_device():
    y = strict_array([1.0, 2.0], device="strict:1")
    for out in (y + 1, 2.0 * y, np.float64(2.0) * y, y * np.float32(3.0), y ** 2, -y, abs(y),
                y > 1, y[0], y[strict_array([1, 0], device="strict:1")], y.T, y.sum(), y.astype(np.float32),
                strict_xp.exp(y), strict_xp.linalg.norm(y), strict_xp.fft.fft(y)):
        assert type(out) is StrictArray and out.device == "strict:1"
    assert (np.float32(2.0) * strict_array(np.ones(2, np.float32))).dtype == np.float32


def test_python_values_and_explicit_transfers_are_allowed(x):
    assert float(x[0]) == 1.0 and int(x[1]) == 2 and bool(x[2]) and x[0].item() == 1.0
    assert len(x) == 3 and [float(v) for v in x] == [1.0, 2.0, 3.0]
    assert x.tolist() == [1.0, 2.0, 3.0] and to_numpy(x).tolist() == [1.0, 2.0, 3.0]
    assert ft.device_get(x).tolist() == [1.0, 2.0, 3.0] and type(ft.device_get(x)) is np.ndarray
    with pytest.raises(TypeError, match="only size-1 arrays"):
        float(x)
    moved = ft.device_put(np.ones(2), "strict:1")
    assert type(moved) is StrictArray and moved.device == "strict:1"
    assert strict_xp.asarray(np.ones(2)).device == "strict:0"  # cupy.asarray: host to device
    assert copy.deepcopy(moved).device == "strict:1" and pickle.loads(pickle.dumps(moved)).device == "strict:1"


def test_scatter_add_and_creation_on_a_device():
    out = strict_xp.zeros(3, device="strict:1")
    strict_xp.add.at(out, strict_array([0, 0, 2], device="strict:1"), strict_array([1.0, 2.0, 5.0], device="strict:1"))
    assert out.device == "strict:1" and out.tolist() == [3.0, 0.0, 5.0]
    with using_device("strict:1"):
        assert strict_xp.arange(2).device == "strict:1"
    assert strict_xp.arange(2).device == DEVICES[0]
    assert ft.devices("strict") == list(DEVICES)


def test_gradients_stay_on_the_device_of_the_inputs():
    w = strict_array([[0.5, -1.0], [2.0, 0.1]], device="strict:1")
    b = strict_array([0.1, 0.2], device="strict:1")

    def loss(params, x):
        return fnp.sum(fnp.tanh(x @ params["w"] + params["b"]) ** 2)

    grads = ft.grad(loss)({"w": w, "b": b}, strict_array([[1.0, 2.0]], device="strict:1"))
    for g in grads.values():
        assert type(g) is StrictArray and g.device == "strict:1"


def test_creation_with_like_goes_to_the_device_of_like():
    y = strict_array([1.0, 2.0], device="strict:1")
    for out in (fnp.zeros(3, like=y), fnp.ones((2, 2), like=y), fnp.empty(2, like=y),
                fnp.full(2, 7.0, like=y), fnp.arange(3, like=y), fnp.eye(2, like=y),
                fnp.identity(2, like=y)):
        assert type(out) is StrictArray and out.device == "strict:1"
    assert type(fnp.zeros(3)) is np.ndarray  # no like: NumPy on the host
    g = ft.grad(lambda v: fnp.sum((v + fnp.ones(2, like=v)) ** 2))(y)
    assert g.device == "strict:1" and g.tolist() == [4.0, 6.0]


def test_numpy_only_keywords_are_refused_as_cupy_refuses_them(x):
    with pytest.raises(TypeError, match=r"got keyword 'stable': CuPy's sort takes only \(a, axis, kind\)"):
        strict_xp.sort(x, stable=True)
    with pytest.raises(TypeError, match="CuPy's linalg.cholesky takes only"):
        strict_xp.linalg.cholesky(strict_array(np.eye(2)), upper=True)
    # functrans.numpy passes only what CuPy takes, with NumPy's results
    m = np.array([[4.0, 2.0], [2.0, 3.0]])
    s = strict_array(m, device="strict:1")
    checks = [
        (lambda a: fnp.sort(a, stable=True), None), (lambda a: fnp.argsort(a, kind="stable"), None),
        (lambda a: fnp.partition(a, 0), None), (lambda a: fnp.argpartition(a, 0), None),
        (lambda a: fnp.count_nonzero(a, axis=1, keepdims=True), None),
        (lambda a: fnp.linalg.cholesky(a, upper=True), None),
        (lambda a: fnp.linalg.svd(a, hermitian=True)[1], None),
        (lambda a: fnp.linalg.matrix_rank(a), None),
    ]
    for f, _ in checks:
        got, want = f(s), f(m)
        if isinstance(got, StrictArray):
            assert got.device == "strict:1"
            got = to_numpy(got)
        np.testing.assert_allclose(got, want, rtol=1e-12)


def test_check_grads_reports_a_wrong_rule_on_strict_arrays():
    from functrans.backend import array_module
    from functrans.extend import defjvp, elementwise
    from functrans.testing import check_grads

    bad_sin = elementwise("test_strict_bad_sin", lambda v: array_module(v).sin(v))
    defjvp(bad_sin, lambda t, v: fnp.cos(v) * t * 1.01)
    args = (strict_array([0.3, -1.2, 2.0], device="strict:1"),)
    check_grads(fnp.sin, args, order=2)
    check_grads(lambda v, s: fnp.sin(v) * s ** 2, (args[0], 1.5))  # the scalar joins v's device
    with pytest.raises(AssertionError, match="order 1, mode 'fwd'") as info:
        check_grads(bad_sin.bind, args, order=1)
    assert "max abs error" in str(info.value) and "argument args[0]" in str(info.value)


def test_functions_cupy_lacks_are_missing_and_functrans_does_without_them():
    with pytest.raises(AttributeError, match="as CuPy has none"):
        strict_xp.linalg.cond
    m = np.array([[2.0, 1.0], [0.5, 3.0]])
    s = strict_array(m, device="strict:1")
    for p in (None, "fro", 1):
        got = fnp.linalg.cond(s, p)
        assert got.device == "strict:1"
        np.testing.assert_allclose(to_numpy(got), np.linalg.cond(m, p), rtol=1e-12)
    got = fnp.linalg.multi_dot([s, s, s])
    np.testing.assert_allclose(to_numpy(got), m @ m @ m, rtol=1e-12)


def test_a_training_step_reads_nothing_back_from_the_device():
    """No primitive synchronises with the device: a whole step (forward, gradient, optimizer,
    also under jit) runs without one read of device values on the host; the user's
    float(loss) is the first."""
    from functrans import nn, optim, random
    from functrans.testing.strict import forbid_host_reads

    device = "strict:1"
    key = random.key(0, device=device)
    model = nn.Sequential(nn.Linear(4, 8), nn.Linear(8, 3))
    params = model.init(key)
    x = random.normal(key, (5, 4), device=device)
    labels = ft.device_put(np.array([0, 2, 1, 1, 0]), device)
    opt = optim.chain(optim.clip_by_global_norm(1.0), optim.adam(1e-2))
    state = opt.init(params)

    def loss(p, x, labels):
        return nn.cross_entropy(model.apply(p, x), labels)

    def step(params, state):
        value, grads = ft.value_and_grad(loss)(params, x, labels)
        updates, state = opt.update(grads, state, params)
        return optim.apply_updates(params, updates), state, value

    with forbid_host_reads():
        params, state, value = step(params, state)
        params, state, value = ft.jit(step)(params, state)
        conv = nn.Conv2d(1, 2, 3)
        ft.grad(lambda p: fnp.sum(conv.apply(p, fnp.ones((1, 1, 5, 5), like=p["weight"]))))(conv.init(key))
        with pytest.raises(RuntimeError, match=r"float\(StrictArray\): a read of values from the "
                                               r"device 'strict:1' on the host"):
            float(value)
    assert value.device == device and np.isfinite(float(value))


def test_forbid_implicit_reads_refuses_only_the_implicit_ones():
    from functrans.testing.strict import STRICT, forbid_implicit_reads

    x = strict_array([1.0, -2.0], device="strict:1")
    with forbid_implicit_reads():
        for read in (lambda: bool(x[0] > 0), lambda: float(x[0]), lambda: int(x[1]), lambda: complex(x[0])):
            with pytest.raises(RuntimeError, match=r"implicit read .* 'strict:1' .*to_host"):
                read()
        assert bool(STRICT.to_host(x[0] > 0)) and x[1].item() == -2.0 and ft.device_get(x).tolist() == [1.0, -2.0]
    assert float(x[0]) == 1.0  # allowed again outside


def test_library_code_may_not_read_device_values_implicitly():
    """The suite runs with forbid_implicit_reads_in_library on (conftest): a bool() made by
    code in the functrans package raises, the same read made by a caller does not, and the
    library's own branching on a device value (an eager cond) reads it explicitly."""
    import os

    import functrans
    from functrans import lax
    from functrans.testing import strict

    x = strict_array(1.0, device="strict:1")
    inside = compile("bool(x)", os.path.join(os.path.dirname(functrans.__file__), "_probe.py"), "exec")
    strict.forbid_implicit_reads_in_library()  # (as conftest does; idempotent)
    with pytest.raises(RuntimeError, match=r"bool\(StrictArray\): an implicit read"):
        exec(inside, {"x": x})
    assert bool(x)  # this caller is a test
    picked = lax.cond(x > 0, lambda v: v * 2, lambda v: v * 3, x)
    assert picked.device == "strict:1" and float(picked) == 2.0
    strict.forbid_implicit_reads_in_library(False)
    try:
        exec(inside, {"x": x})  # allowed once switched off
    finally:
        strict.forbid_implicit_reads_in_library()
