"""Every public functrans.numpy function, table-driven from ``specs.FNP_SPECS``: values,
shapes and dtypes against NumPy on plain arrays and inside transformations; derivatives by
``check_grads`` to second order in forward and reverse mode in float64; a float32 run in which
values, tangents and cotangents stay float32 (Python scalars do not widen them)."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from specs import FNP_SPECS, check_spec


@pytest.mark.parametrize("spec", FNP_SPECS, ids=repr)
def test_function(spec, backend):
    check_spec(spec, backend)


@pytest.mark.parametrize("spec", [s for s in FNP_SPECS if len(s.dtypes) > 1 and s.nargs], ids=repr)
def test_function_low_precision(spec, backend):
    check_spec(spec, backend, low_precision=True)


# -- elementwise functions on values hypothesis chooses (domain ends, zeros, tiny numbers) ---------

import numpy as np  # noqa: E402
from hypothesis.extra import numpy as hnp  # noqa: E402

import functrans as ft  # noqa: E402

from specs import FNP_BINARY, FNP_COMPARISONS, FNP_UNARY, Domain, assert_same  # noqa: E402

_NAMES = {f"fnp.{n}" for n, _, _ in FNP_UNARY + FNP_BINARY} | {f"fnp.{n}" for n in FNP_COMPARISONS}
ELEMENTWISE = [s for s in FNP_SPECS if s.name in _NAMES | {"fnp.abs"}]


def _elements(domain: Domain, dtype):
    width = np.finfo(dtype).bits

    def floats(lo, hi):  # bounds rounded to the dtype, as hypothesis requires
        return st.floats(float(dtype(lo)), float(dtype(hi)), width=width)

    if domain.kind == "away":
        return st.one_of(floats(-domain.hi, -domain.margin), floats(domain.margin, domain.hi))
    if domain.kind == "grid":
        return st.integers(int(domain.lo), int(domain.hi)).map(float)
    return floats(domain.lo, domain.hi)


@pytest.mark.parametrize("spec", ELEMENTWISE, ids=repr)
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@given(data=st.data())
def test_elementwise_values_on_drawn_elements(spec, dtype, data):
    domains = spec.domain if isinstance(spec.domain, tuple) else (spec.domain,) * spec.nargs
    shapes, _ = data.draw(spec.sig)
    args = tuple(data.draw(hnp.arrays(dtype, s, elements=_elements(d, dtype))) for d, s in zip(domains, shapes))
    with np.errstate(all="ignore"):
        expected = spec.ref(*args)
    plain = spec.fn(*args)
    assert_same(plain, expected, f"{spec.name} on plain arrays")
    out, _ = ft.jvp(spec.fn, args, tuple(np.ones_like(a) for a in args))
    assert_same(out, plain, f"{spec.name} inside jvp")


# -- every public callable: a real signature and a docstring with an example -----------------------

import inspect  # noqa: E402
import sys  # noqa: E402
import types  # noqa: E402

import functrans.numpy as fnp  # noqa: E402


def _public_callables():
    """(qualified name, object) of every public function of fnp, fnp.linalg and fnp.fft (not
    the dtypes, exception classes and constants NumPy itself defines and fnp re-exports)."""
    for module in (fnp, fnp.linalg, fnp.fft):
        names = getattr(module, "__all__", None) or [n for n in dir(module) if not n.startswith("_")]
        for name in sorted(names):
            obj = getattr(module, name)
            if isinstance(obj, (types.ModuleType, type)) or not callable(obj):
                continue
            if not getattr(obj, "__module__", "").startswith("functrans."):
                continue
            yield f"{module.__name__}.{name}", obj


PUBLIC = list(_public_callables())
FACTORY_MADE = [(name, fn) for name, fn in PUBLIC if hasattr(fn, "__wrapped__")]


def test_the_scan_finds_every_namespace():
    names = {name for name, _ in PUBLIC}
    assert len(names) > 250
    assert {"functrans.numpy.sin", "functrans.numpy.add", "functrans.numpy.acos",
            "functrans.numpy.linalg.svd", "functrans.numpy.fft.rfft"} <= names
    assert len(FACTORY_MADE) >= 60 and "functrans.numpy.sin" in dict(FACTORY_MADE)


@pytest.mark.parametrize("name, fn", PUBLIC, ids=[name for name, _ in PUBLIC])
def test_public_callable_has_a_real_signature_and_an_example(name, fn):
    signature = inspect.signature(fn)
    kinds = [p.kind for p in signature.parameters.values()]
    assert kinds != [inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD], \
        f"{name}{signature} hides its parameters"
    module, short = name.rsplit(".", 1)
    assert fn.__name__ == short or getattr(sys.modules[module], fn.__name__, None) is fn, \
        f"{name} calls itself {fn.__name__} in help(), which is no function of {module}"
    doc = inspect.getdoc(fn) or ""
    assert "Example:" in doc and ">>> " in doc, f"{name}'s docstring has no example"


@pytest.mark.parametrize("name, fn", FACTORY_MADE, ids=[name for name, _ in FACTORY_MADE])
def test_factory_made_function_reads_as_written(name, fn):
    """The decorated elementwise functions: NumPy's positional-only parameters (as many as the
    ufunc of the same name takes), and a docstring with Args and Returns."""
    params = list(inspect.signature(fn).parameters.values())
    assert params and all(p.kind is inspect.Parameter.POSITIONAL_ONLY for p in params), name
    ufunc = getattr(np, fn.__name__, None)
    assert len(params) == getattr(ufunc, "nin", len(params)), f"{name} takes {len(params)} arguments"
    doc = inspect.getdoc(fn)
    assert "\nArgs:\n" in doc and "\nReturns:\n" in doc, name
    assert fn(np.array([0.5])).shape == (1,) if len(params) == 1 else \
        fn(np.array([0.5]), np.array([2.0])).shape == (1,)
