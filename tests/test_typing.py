"""functrans's type hints: every public callable is annotated, and the package says so (PEP 561).

mypy (``.ci/run``) checks the bodies of the modules listed in pyproject's ``[tool.mypy]``;
these tests check what a user's type checker and IDE read, the signatures of every public
name, including those made by factories (the ufuncs of functrans.numpy), whose signatures
``inspect`` reads through ``__wrapped__``.
"""
from __future__ import annotations

import enum
import importlib
import inspect
import types
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp

PUBLIC_MODULES = [
    "functrans",
    "functrans.numpy",
    "functrans.numpy.linalg",
    "functrans.numpy.fft",
    "functrans.scipy",
    "functrans.scipy.linalg",
    "functrans.scipy.special",
    "functrans.scipy.stats",
    "functrans.scipy.stats.bernoulli",
    "functrans.scipy.stats.beta",
    "functrans.scipy.stats.betabinom",
    "functrans.scipy.stats.binom",
    "functrans.scipy.stats.cauchy",
    "functrans.scipy.stats.chi2",
    "functrans.scipy.stats.dirichlet",
    "functrans.scipy.stats.expon",
    "functrans.scipy.stats.gamma",
    "functrans.scipy.stats.gennorm",
    "functrans.scipy.stats.geom",
    "functrans.scipy.stats.laplace",
    "functrans.scipy.stats.logistic",
    "functrans.scipy.stats.multinomial",
    "functrans.scipy.stats.multivariate_normal",
    "functrans.scipy.stats.nbinom",
    "functrans.scipy.stats.norm",
    "functrans.scipy.stats.pareto",
    "functrans.scipy.stats.poisson",
    "functrans.scipy.stats.t",
    "functrans.scipy.stats.truncnorm",
    "functrans.scipy.stats.uniform",
    "functrans.scipy.stats.vonmises",
    "functrans.scipy.stats.wrapcauchy",
    "functrans.nn",
    "functrans.optim",
    "functrans.random",
    "functrans.tree",
    "functrans.io",
    "functrans.backend",
    "functrans.lax",
    "functrans.implicit",
    "functrans.integrate",
    "functrans.scipy.signal",
    "functrans.scipy.integrate",
    "functrans.scipy.sparse.linalg",
    "functrans.flatten_util",
    "functrans.distributed",
]


def _public_names(module: types.ModuleType) -> list[str]:
    names = getattr(module, "__all__", None)
    return list(names) if names is not None else [n for n in vars(module) if not n.startswith("_")]


def _public_callables() -> list[tuple[str, object]]:
    """(qualified name, object) of every public function and class the modules export,
    without NumPy's own names that functrans.numpy re-exports (its dtypes, ``finfo``,
    ``LinAlgError``, ...) and without typing protocols (descriptions of a type, not callables)."""
    found = []
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        for name in _public_names(module):
            obj = getattr(module, name)
            if isinstance(obj, types.ModuleType) or not callable(obj):
                continue
            if not (getattr(obj, "__module__", None) or "").startswith("functrans"):
                continue
            if isinstance(obj, type) and (getattr(obj, "_is_protocol", False) or issubclass(obj, enum.Enum)):
                continue  # a protocol describes a type; an enum's call looks a member up
            found.append((f"{module_name}.{name}", obj))
    return found


def _methods(cls: type) -> list[tuple[str, object]]:
    """The public methods and properties a class defines itself (``__call__`` included)."""
    out = []
    for name, attr in vars(cls).items():
        if name.startswith("_") and name != "__call__":
            continue
        function = attr.fget if isinstance(attr, property) else getattr(attr, "__func__", attr)
        if inspect.isfunction(function):
            out.append((name, function))
    return out


def _unannotated(function: Any, *, skip_first: bool = False, needs_return: bool = True) -> list[str]:
    sig = inspect.signature(function)
    params = list(sig.parameters.values())[1 if skip_first else 0:]
    missing = [p.name for p in params if p.annotation is inspect.Parameter.empty]
    if needs_return and sig.return_annotation is inspect.Signature.empty:
        missing.append("return")
    return missing


def test_the_public_modules_export_callables():
    names = {name for name, _ in _public_callables()}
    for expected in ("functrans.grad", "functrans.numpy.sin", "functrans.numpy.linalg.svd",
                     "functrans.numpy.fft.fft", "functrans.scipy.special.erf", "functrans.nn.Linear",
                     "functrans.optim.adam", "functrans.random.normal", "functrans.tree.map",
                     "functrans.backend.device_put"):
        assert expected in names, expected
    # NumPy's names that functrans.numpy re-exports are NumPy's, typed by NumPy; its scalar
    # types are functrans's (they convert traced arrays), typed here
    assert "functrans.numpy.finfo" not in names and "functrans.numpy.floating" not in names
    assert "functrans.numpy.float32" in names


@pytest.mark.parametrize("name, obj", _public_callables(), ids=lambda v: v if isinstance(v, str) else "")
def test_public_callable_is_annotated(name, obj):
    if isinstance(obj, type):
        # the constructor's parameters; then every public method (a method's self is not annotated)
        missing = _unannotated(obj, needs_return=False)
        assert not missing, f"{name}(...): no annotation for {missing}"
        for method_name, method in _methods(obj):
            static = isinstance(vars(obj).get(method_name), staticmethod)
            missing = _unannotated(method, skip_first=not static)
            assert not missing, f"{name}.{method_name}: no annotation for {missing}"
    else:
        missing = _unannotated(obj)
        assert not missing, f"{name}: no annotation for {missing}"


def test_the_check_finds_a_missing_annotation():
    def typed(x: int, *, y: float = 1.0) -> float:
        return x + y

    def untyped(x, y: float = 1.0) -> float:
        return x + y

    def no_return(x: int):
        return x

    assert _unannotated(typed) == []
    assert _unannotated(untyped) == ["x"]
    assert _unannotated(no_return) == ["return"]


def test_functrans_ships_py_typed():
    package = Path(ft.__file__).parent
    assert (package / "py.typed").is_file()
    import tomllib

    pyproject = tomllib.loads((package.parent / "pyproject.toml").read_text())
    assert "py.typed" in pyproject["tool"]["setuptools"]["package-data"]["functrans"]


# --- behaviour the type check found wrong ---------------------------------------------------------


def test_cumprod_of_a_traced_integer_array():
    """Traced integer input is accumulated in the dtype NumPy's cumprod gives it (int64)."""
    x = np.array([[1, 2, 3], [2, 2, 2]])
    assert ft.vmap(fnp.cumprod)(x).tolist() == np.cumprod(x, axis=1).tolist()
    assert ft.vmap(fnp.cumprod)(x).dtype == np.cumprod(x, axis=1).dtype


def test_norm_of_a_vector_with_a_matrix_order():
    with pytest.raises(ValueError, match="Invalid norm order 'fro' for vectors"):
        ft.grad(lambda v: fnp.linalg.norm(v, "fro"))(np.ones(2))
