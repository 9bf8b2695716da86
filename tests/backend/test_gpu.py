"""CuPy on a real GPU, and what can be checked of CuPy without one.

With a GPU (and CuPy, ``pip install -e ".[gpu]"`` in the clone): gradients of an MLP in float32 and
float64 against NumPy, outputs as CuPy arrays on the input's device, repeated-index gathers,
special functions, random determinism per key, and the refusal of ``np.asarray``.

Without one, those tests skip with the detected reason (no CuPy, no driver, no device);
``FUNCTRANS_REQUIRE_GPU=1`` turns the skip into a failure (for a GPU CI runner). The API
tests below run wherever CuPy imports (it does without a driver): every CuPy name and
keyword the backend uses, every namespace function the primitives call through
``array_module(x)``, and every special function, must exist in the installed CuPy.
"""
from __future__ import annotations

import ast
import importlib
import inspect
import os
import pathlib

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans import nn, random

ROOT = pathlib.Path(__file__).resolve().parents[2] / "functrans"


def gpu_unavailable_reason() -> str | None:
    """Why the GPU tests cannot run here (None: they can)."""
    try:
        import cupy
    except ImportError as e:
        return f"no CuPy ({e}); install with pip install -e '.[gpu]'"
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as e:  # CUDARuntimeError without a driver
        return f"no CUDA driver ({type(e).__name__}: {e})"
    if count == 0:
        return "no GPU device"
    return None


def skip_or_fail(reason: str | None, required: bool) -> None:
    """Skip with ``reason``, or fail if a GPU is required (FUNCTRANS_REQUIRE_GPU=1)."""
    if reason is None:
        return
    if required:
        pytest.fail(f"FUNCTRANS_REQUIRE_GPU=1 but the GPU tests cannot run: {reason}")
    pytest.skip(reason)


@pytest.fixture
def cupy():
    skip_or_fail(gpu_unavailable_reason(), os.environ.get("FUNCTRANS_REQUIRE_GPU") == "1")
    import cupy

    return cupy


# --- the skip logic itself (runs everywhere) --------------------------------------------------
def test_skip_reason_names_what_is_missing(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_cupy(name, *args, **kwargs):
        if name == "cupy" or name.startswith("cupy."):
            raise ImportError("No module named 'cupy'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_cupy)
    assert gpu_unavailable_reason().startswith("no CuPy")


def test_require_gpu_turns_the_skip_into_a_failure():
    with pytest.raises(pytest.skip.Exception, match="no GPU device"):
        skip_or_fail("no GPU device", required=False)
    with pytest.raises(pytest.fail.Exception, match="FUNCTRANS_REQUIRE_GPU=1 but .* no GPU device"):
        skip_or_fail("no GPU device", required=True)
    skip_or_fail(None, required=True)  # a GPU: nothing happens


def test_the_fixture_reads_the_environment_variable(monkeypatch):
    monkeypatch.setenv("FUNCTRANS_REQUIRE_GPU", "1")
    reason = gpu_unavailable_reason()
    if reason is None:
        pytest.skip("a GPU is present: nothing to turn into a failure")
    with pytest.raises(pytest.fail.Exception, match="FUNCTRANS_REQUIRE_GPU=1"):
        skip_or_fail(reason, os.environ.get("FUNCTRANS_REQUIRE_GPU") == "1")


def test_without_a_device_gpu_requests_say_why():
    pytest.importorskip("cupy")
    if gpu_unavailable_reason() is None:
        pytest.skip("a GPU is present")
    assert ft.devices() == ["cpu"]
    with pytest.raises(RuntimeError, match="CuPy finds no GPU"):
        ft.device_put(np.ones(1), "gpu")


# --- CuPy's API, checked without a GPU ------------------------------------------------------------
def _resolve(dotted: str):
    parts = dotted.split(".")
    obj = importlib.import_module(parts[0])
    for i, part in enumerate(parts[1:], 1):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            obj = importlib.import_module(".".join(parts[: i + 1]))
    return obj


def _accepts(fn, keyword: str) -> bool:
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):  # a Cython function without a signature: read its docs
        return keyword in (fn.__doc__ or "")
    return keyword in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


def test_every_cupy_name_and_keyword_the_backend_uses_exists():
    pytest.importorskip("cupy")
    from functrans.backend._cupy import CUPY_API

    for dotted, keywords in CUPY_API:
        obj = _resolve(dotted)
        for keyword in keywords:
            assert _accepts(obj, keyword), f"{dotted} takes no keyword {keyword!r}"


def test_cupy_has_every_special_function_the_primitives_call():
    pytest.importorskip("cupy")
    special = importlib.import_module("cupyx.scipy.special")
    from functrans.primitives.special import SPECIAL_FUNCTIONS

    missing = [name for name in SPECIAL_FUNCTIONS if not hasattr(special, name)]
    assert not missing, f"cupyx.scipy.special lacks {missing}"


def _namespace_name(node: ast.AST) -> str | None:
    """``"name"`` for ``xp.name`` or ``array_module(x).name`` (``.linalg.`` / ``.fft.`` kept as
    prefixes), None for any other expression."""
    if not isinstance(node, ast.Attribute):
        return None
    base, chain = node.value, [node.attr]
    while isinstance(base, ast.Attribute) and base.attr in ("linalg", "fft"):
        chain.insert(0, base.attr)
        base = base.value
    is_xp = isinstance(base, ast.Name) and base.id == "xp"
    is_lookup = (isinstance(base, ast.Call) and isinstance(base.func, ast.Name)
                 and base.func.id in ("array_module", "array_module_of"))
    if (is_xp or is_lookup) and chain[-1] not in ("linalg", "fft"):
        return ".".join(chain)
    return None


def _namespace_uses() -> tuple[set[str], dict[tuple[str, str], str]]:
    """Every namespace name functrans looks up, and every (name, keyword) it calls one with
    (mapped to one place that does)."""
    names, keywords = set(), {}
    for path in ROOT.rglob("*.py"):
        if "testing" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            name = _namespace_name(node)
            if name is not None:
                names.add(name)
            if isinstance(node, ast.Call) and (name := _namespace_name(node.func)) is not None:
                for kw in node.keywords:
                    if kw.arg is not None:
                        keywords.setdefault((name, kw.arg), f"{path.name}:{node.lineno}")
    return names, keywords


def _namespace_names() -> set[str]:
    return _namespace_uses()[0]


def test_cupy_has_every_namespace_function_functrans_calls():
    cupy = pytest.importorskip("cupy")
    names = _namespace_names()
    assert {"matmul", "linalg.solve", "sort", "where"} <= names, "the scan found too little"
    missing = sorted(n for n in names if not _has(cupy, n))
    assert not missing, f"CuPy lacks {missing} (give the Backend a spelling for them)"


def test_cupy_accepts_every_keyword_functrans_passes_to_it():
    cupy = pytest.importorskip("cupy")
    _, keywords = _namespace_uses()
    assert ("sum", "axis") in keywords, "the scan found too little"
    refused = sorted(f"{name}({kw}=...) at {where}" for (name, kw), where in keywords.items()
                     if _has(cupy, name) and not _accepts(_resolve(f"cupy.{name}"), kw))
    assert not refused, f"CuPy's functions take no such keyword: {refused}"


def _has(module, dotted: str) -> bool:
    obj = module
    for part in dotted.split("."):
        if not hasattr(obj, part):
            return False
        obj = getattr(obj, part)
    return True


# --- on a GPU ---------------------------------------------------------------------------------------
def _mlp_loss(model):
    def loss(params, x, labels):
        return nn.cross_entropy(model.apply(params, x), labels)

    return loss


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_mlp_gradients_match_numpy(cupy, dtype):
    model = nn.Sequential(nn.Linear(6, 16, dtype=dtype), nn.relu, nn.Linear(16, 3, dtype=dtype))
    host = model.init(random.key(0))
    x = np.random.default_rng(0).standard_normal((8, 6)).astype(dtype)
    labels = np.arange(8) % 3
    loss = _mlp_loss(model)
    want_value, want = ft.value_and_grad(loss)(host, x, labels)
    dev = ft.device_put((host, x, labels), "gpu")
    value, got = ft.value_and_grad(loss)(*dev)
    tol = 1e-4 if dtype == np.float32 else 1e-10
    for g, w in zip(ft.tree.leaves(got), ft.tree.leaves(want)):
        assert isinstance(g, cupy.ndarray) and g.dtype == dtype and g.device.id == 0
        np.testing.assert_allclose(ft.device_get(g), w, rtol=tol, atol=tol)
    np.testing.assert_allclose(float(value), float(want_value), rtol=tol)
    _, vjp_fun = ft.vjp(lambda p: model.apply(p, dev[1]), dev[0])
    (ct,) = vjp_fun(cupy.ones((8, 3), dtype))
    assert all(isinstance(leaf, cupy.ndarray) for leaf in ft.tree.leaves(ct))


def test_outputs_stay_on_the_inputs_device(cupy):
    last = ft.devices("gpu")[-1]
    x = ft.device_put(np.linspace(0.1, 1.0, 5), last)
    y, g = ft.value_and_grad(lambda v: fnp.sum(fnp.sin(v) * v))(x)
    assert ft.backend.device_of(g) == last and isinstance(g, cupy.ndarray)


def test_gather_with_repeated_indices_accumulates(cupy):
    table = ft.device_put(np.arange(4.0), "gpu")
    idx = ft.device_put(np.array([1, 1, 3, 1]), "gpu")
    g = ft.grad(lambda t: (t[idx] ** 2).sum())(table)
    assert isinstance(g, cupy.ndarray)
    np.testing.assert_allclose(ft.device_get(g), [0.0, 6.0, 0.0, 6.0])


def test_special_function_gradients_match_numpy(cupy):
    import functrans.scipy.special as fsp

    x = np.linspace(0.2, 2.0, 7)
    for f in (fsp.erf, fsp.gammaln, fsp.digamma, fsp.i0e, fsp.log_ndtr):
        want = ft.grad(lambda v: f(v).sum())(x)
        got = ft.grad(lambda v: f(v).sum())(ft.device_put(x, "gpu"))
        np.testing.assert_allclose(ft.device_get(got), want, rtol=1e-10, err_msg=f.__name__)


def test_random_numbers_are_the_same_per_key_on_the_gpu(cupy):
    k = random.key(42)
    on_gpu = random.normal(k, (1000,), device="gpu")
    assert isinstance(on_gpu, cupy.ndarray)
    np.testing.assert_array_equal(ft.device_get(random.normal(k, (1000,), device="gpu")),
                                  ft.device_get(on_gpu))
    np.testing.assert_allclose(ft.device_get(on_gpu), random.normal(k, (1000,)), rtol=1e-12)
    np.testing.assert_array_equal(ft.device_get(random.randint(k, (50,), 0, 9, device="gpu")),
                                  random.randint(k, (50,), 0, 9))


def test_implicit_conversion_of_a_result_to_numpy_raises(cupy):
    g = ft.grad(lambda v: (v * v).sum())(ft.device_put(np.ones(3), "gpu"))
    with pytest.raises(TypeError):
        np.asarray(g)


def test_updates_at_repeated_positions_on_the_gpu(cupy):
    """CuPy has no ufunc.at for these: the rounds give NumPy's bits, and the derivatives."""
    import functrans.numpy as fnp

    x, u, i = np.array([1.0, 2.0, 3.0]), np.array([2.0, 0.5, 3.0, 5.0]), np.array([0, 0, 2, 0])
    for method in ("multiply", "divide", "min", "max"):
        def f(x, u, method=method):
            return getattr(fnp.at(x)[i], method)(u)
        got = ft.jit(f)(ft.device_put(x, "gpu"), ft.device_put(u, "gpu"))
        np.testing.assert_array_equal(ft.device_get(got), f(x, u), err_msg=method)
        grads = ft.grad(lambda x, u: f(x, u).sum(), argnums=(0, 1))
        for a, b in zip(grads(ft.device_put(x, "gpu"), ft.device_put(u, "gpu")), grads(x, u)):
            np.testing.assert_allclose(ft.device_get(a), b, rtol=1e-14, err_msg=method)


def test_block_until_ready_on_the_gpu(cupy):
    x = ft.device_put(np.arange(1e6), "gpu")
    y = ft.block_until_ready({"y": x * 2.0})
    assert float(ft.device_get(y["y"])[-1]) == 2 * (1e6 - 1)
