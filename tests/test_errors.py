"""Every error functrans raises for bad input: its type, that its message names the problem
and the fix, and that nothing is left behind (the trace stack is clean afterwards)."""
import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans import errors
from functrans.core.trace import _stack


@pytest.fixture(autouse=True)
def clean_trace_stack():
    yield
    assert _stack.traces == [], "an error left a transformation on the trace stack"
    assert float(ft.grad(lambda x: x * x)(3.0)) == 6.0  # and the next call works


def test_grad_of_non_scalar_output():
    with pytest.raises(errors.NonScalarOutputError, match=r"shape \(3,\).*\.sum\(\).*jacrev.*has_aux"):
        ft.grad(lambda x: x * 2)(np.ones(3))
    assert issubclass(errors.NonScalarOutputError, TypeError)


def test_grad_of_complex_or_integer_or_non_array_output():
    with pytest.raises(errors.NonScalarOutputError, match="real-valued output"):
        ft.grad(lambda x: x * 1j)(1.0)
    with pytest.raises(errors.NonScalarOutputError, match="float output.*int64"):
        ft.grad(lambda x: fnp.argmax(x))(np.ones(3))
    with pytest.raises(errors.NonScalarOutputError, match="returned a str.*has_aux"):
        ft.grad(lambda x: "loss")(1.0)


@pytest.mark.parametrize("value, dtype", [(2, "int64"), (np.array([True]), "bool"), (np.int32(1), "int32")])
def test_grad_of_integer_or_bool_input(value, dtype):
    with pytest.raises(errors.InputDtypeError,
                       match=rf"argument 0 has dtype {dtype}.*2\.0 rather than 2.*allow_int=True"):
        ft.grad(lambda x: x * 1.0)(value)


def test_integer_leaf_inside_a_pytree_is_named_by_its_key_path():
    with pytest.raises(errors.InputDtypeError, match=r"argument 1 at \['steps'\] has dtype int64"):
        ft.grad(lambda a, p: a * p["w"], argnums=1)(1.0, {"w": 2.0, "steps": 3})


def test_has_aux_without_a_pair():
    with pytest.raises(errors.HasAuxError,
                       match=r"must return a pair \(output, aux\).*returned a single array of shape \(\)"):
        ft.grad(lambda x: x * 2.0, has_aux=True)(1.0)
    with pytest.raises(errors.HasAuxError, match="a tuple of length 3"):
        ft.value_and_grad(lambda x: (x, x, x), has_aux=True)(1.0)


def test_jvp_structure_mismatch_names_the_key_path():
    with pytest.raises(errors.TreeStructureError, match=r"at \[0\]: dict with keys \['a', 'b'\] vs .*\['a', 'c'\]"):
        ft.jvp(lambda p: p["a"], ({"a": 1.0, "b": 2.0},), ({"a": 1.0, "c": 2.0},))


def test_jvp_shape_and_dtype_mismatch():
    with pytest.raises(errors.TangentMismatchError,
                       match=r"primals\[0\]\['w'\] has shape \(2,\) but the primal has shape \(3,\)"):
        ft.jvp(lambda p: p["w"], ({"w": np.ones(3)},), ({"w": np.ones(2)},))
    with pytest.raises(errors.TangentMismatchError, match=r"dtype float32 but the primal has dtype float64.*astype"):
        ft.jvp(lambda x: x, (np.ones(2),), (np.ones(2, np.float32),))
    with pytest.raises(errors.TangentMismatchError, match=r"tuples.*jvp\(f, \(x,\), \(v,\)\)"):
        ft.jvp(lambda x: x, np.ones(2), np.ones(2))


def test_argnums_out_of_range():
    with pytest.raises(errors.ArgnumsError, match=r"argnums=2 is out of range.*2 positional arguments"):
        ft.grad(lambda x, y: x * y, argnums=2)(1.0, 2.0)
    with pytest.raises(errors.ArgnumsError, match="argnums is empty"):
        ft.grad(lambda x: x, argnums=())(1.0)


def test_leaked_tracer():
    saved = []

    def f(x):
        saved.append(x * 2)
        return x.sum()
    ft.grad(f)(np.ones(2))
    with pytest.raises(errors.LeakedTracerError, match=r"grad\(f\).*has_aux=True"):
        saved[0] + 1


def test_in_place_update_on_a_tracer_points_to_at():
    def f(x):
        x[0] = 2.0
        return x.sum()
    with pytest.raises(errors.InPlaceUpdateError, match=r"x\.at\[i\]\.set\(v\)"):
        ft.grad(f)(np.ones(2))


def test_converting_a_tracer_to_numpy_would_drop_the_derivative():
    with pytest.raises(errors.TracerConversionError,
                       match=r"silently drop its derivative.*functrans\.numpy.*stop_gradient"):
        ft.grad(lambda x: np.asarray(x).sum())(np.ones(2))


TABLE = np.arange(10.0)


def _fori_reading_the_table(x):
    return ft.lax.fori_loop(0, 3, lambda i, c: c + fnp.asarray(TABLE)[i] * c, x)


def _setting_the_table(i):
    table = TABLE.copy()
    table[i] = 1.0
    return fnp.asarray(table)


@pytest.mark.parametrize("call", [
    lambda: ft.jit(_fori_reading_the_table)(1.0),  # the loop counter, under jit
    lambda: ft.grad(_fori_reading_the_table)(1.0),  # and under grad
    lambda: ft.jit(lambda i: TABLE[i])(3),  # a Python int argument of jit
    lambda: ft.jit(lambda i: TABLE[i, None])(np.array([3, 4])),
    lambda: ft.vmap(lambda i: TABLE[i])(np.arange(3)),
    lambda: ft.jit(ft.grad(lambda x: TABLE[(2 * x).astype(int)] * x))(2.0),
    lambda: ft.jit(_setting_the_table)(np.array(3)),
], ids=["fori-jit", "fori-grad", "jit-int", "jit-array", "vmap", "jit-grad", "setitem"])
def test_a_numpy_array_indexed_by_a_traced_integer_names_take(call):
    """NumPy's own indexing cannot take a traced index: the error says it is the indexing, and
    how to index through functrans, not "use functrans.numpy" (fnp.asarray(A) is A itself)."""
    with pytest.raises(errors.TracerConversionError) as info:
        call()
    message = str(info.value)
    assert "A NumPy array was indexed by a traced integer" in message
    assert "fnp.take(table, i, axis=0)" in message and "fnp.at(table)[i].set(v)" in message
    assert "Use functrans.numpy" not in message and "drop its derivative" not in message


@pytest.mark.parametrize("call", [
    lambda: ft.jit(lambda i: TABLE[i:i + 2])(np.array(3)),
    lambda: ft.vmap(lambda i: TABLE[i:i + 2])(np.arange(3)),
    lambda: ft.jit(lambda i: [1.0, 2.0, 3.0][i])(np.array(1)),
], ids=["jit-slice", "vmap-slice", "jit-list"])
def test_a_traced_integer_used_as_a_python_int_names_take_and_dynamic_slice(call):
    """A slice bound of a NumPy array, an index of a list: not Python control flow, so the
    error says where the int is needed and how to index at traced positions."""
    with pytest.raises(errors.TracerConversionError,
                       match=r"used as a Python int \(an index or a slice bound.*fnp\.take\(table, i, "
                             r"axis=0\).*lax\.dynamic_slice\(table, \(i,\), \(n,\)\)"):
        call()


def test_reading_a_numpy_array_at_traced_positions_through_functrans():
    """The fixes the message names give the values eager indexing gives."""
    f = ft.jit(lambda x: ft.lax.fori_loop(0, 3, lambda i, c: c + fnp.take(TABLE, i, axis=0) * c, x))
    assert float(f(1.0)) == (1 + 0) * (1 + 1) * (1 + 2)
    np.testing.assert_array_equal(ft.vmap(lambda i: fnp.getitem(TABLE, (i, None)))(np.arange(3)),
                                  [[0.0], [1.0], [2.0]])


def test_unsupported_numpy_function_on_a_tracer_names_it():
    assert not hasattr(fnp, "copyto")  # pick a function functrans does not offer (in place)
    with pytest.raises(errors.UnsupportedError, match=r"numpy\.copyto was called.*functrans\.numpy has no version"):
        ft.grad(lambda x: np.copyto(np.zeros(4), x) or x.sum())(np.ones(4))
    with pytest.raises(errors.UnsupportedError, match=r"numpy\.add\.reduceat"):
        ft.grad(lambda x: np.add.reduceat(x, [0, 2]).sum())(np.ones(4))


def test_vjp_cotangent_of_the_wrong_shape_or_structure():
    _, f_vjp = ft.vjp(lambda x: x * 2, np.ones(3))
    with pytest.raises(errors.TangentMismatchError, match=r"cotangent.*shape \(2,\).*output has shape \(3,\)"):
        f_vjp(np.ones(2))
    _, g_vjp = ft.vjp(lambda x: (x, x), np.ones(3))
    with pytest.raises(errors.TreeStructureError, match="cotangent"):
        g_vjp(np.ones(3))


def test_error_inside_the_function_propagates_unchanged():
    def f(x):
        raise KeyError("user bug")
    with pytest.raises(KeyError, match="user bug"):
        ft.grad(f)(1.0)


def test_errors_link_their_docs_section():
    with pytest.raises(errors.NonScalarOutputError, match=r"docs/errors\.md#non-scalar-output"):
        ft.grad(lambda x: x)(np.ones(2))


def test_every_error_class_has_its_docs_section():
    import pathlib

    text = (pathlib.Path(__file__).parent.parent / "docs" / "errors.md").read_text()
    classes = [c for c in vars(errors).values()
               if isinstance(c, type) and issubclass(c, errors.FunctransError) and c is not errors.FunctransError]
    missing = [c.__name__ for c in classes if f"\n## {c.anchor}\n" not in text]
    assert not missing, f"docs/errors.md lacks sections for {missing}"


def _error_classes():
    return [c for c in vars(errors).values() if isinstance(c, type) and issubclass(c, errors.FunctransError)]


def _names_called_in_functrans(names: set[str]) -> set[str]:
    """Those of ``names`` that functrans's modules (other than errors.py) call, as ``f(...)`` or
    ``m.f(...)`` (only the modules whose text mentions one of them are parsed)."""
    import ast
    import pathlib

    root = pathlib.Path(errors.__file__).parent
    called = set()
    for path in root.rglob("*.py"):
        if path == root / "errors.py":
            continue
        source = path.read_text()
        if not any(name in source for name in names):
            continue
        for node in ast.walk(ast.parse(source, str(path))):
            if isinstance(node, ast.Call):
                fn = node.func
                if isinstance(fn, ast.Name):
                    called.add(fn.id)
                elif isinstance(fn, ast.Attribute):
                    called.add(fn.attr)
    return called & names


def test_every_error_class_is_raised_somewhere_in_functrans():
    classes = [c.__name__ for c in _error_classes() if c is not errors.FunctransError]
    called = _names_called_in_functrans(set(classes))
    assert "TracerConversionError" in called  # the scan sees both `X(...)` and `errors.X(...)`
    never = [name for name in classes if name not in called]
    assert not never, f"error classes functrans never raises (remove them, or raise them): {never}"


def test_every_error_class_has_a_docstring_naming_its_section():
    for cls in _error_classes():
        doc = cls.__doc__ or ""
        assert f"docs/errors.md#{cls.anchor}" in doc, \
            f"{cls.__name__}'s docstring must name docs/errors.md#{cls.anchor}"
        if cls is not errors.FunctransError:
            assert "Fix:" in doc, f"{cls.__name__}'s docstring must say how to fix it"
    assert sorted(errors.__all__) == sorted([c.__name__ for c in _error_classes()] + ["DOCS_BASE_URL"])
