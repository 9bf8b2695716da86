"""functrans.numpy against NumPy's namespace: every public name of the installed NumPy is
either offered by functrans.numpy or listed below with the reason it is not, and no listed
name is offered (the list stays honest as names are added)."""
from __future__ import annotations

import numpy as np
import pytest

import functrans.numpy as fnp

#: reason -> the NumPy names it excludes
EXCLUDED: dict[str, tuple[str, ...]] = {
    "files and I/O: read and write with NumPy on host arrays (functrans.io saves pytrees of arrays)": (
        "fromfile", "fromregex", "fromstring", "frombuffer", "genfromtxt", "load", "loadtxt", "save", "savetxt",
        "savez", "savez_compressed", "memmap"),
    "printing and number formatting: NumPy's functions and print options apply to the NumPy arrays fnp returns": (
        "array2string", "array_repr", "array_str", "base_repr", "binary_repr", "format_float_positional",
        "format_float_scientific", "get_printoptions", "set_printoptions", "printoptions"),
    "text, bytes and structured records: no differentiable values": (
        "char", "strings", "bytes_", "str_", "character", "flexible", "void", "record", "rec", "recarray"),
    "dates, times and business days: no differentiable values": (
        "datetime64", "timedelta64", "datetime_as_string", "datetime_data", "busday_count", "busday_offset",
        "busdaycalendar", "is_busday", "isnat"),
    "memory layout, buffers and C interop: traced arrays have no memory to inspect or share": (
        "ctypeslib", "from_dlpack", "may_share_memory", "shares_memory", "isfortran", "require", "nditer",
        "nested_iters", "flatiter", "getbufsize", "setbufsize"),
    "extended precision: CuPy has none, and its width depends on the platform": (
        "longdouble", "clongdouble", "float128", "complex256"),
    "Python objects in arrays: object arrays hold no differentiable values": ("object_", "frompyfunc"),
    "NumPy's matrix class, deprecated by NumPy itself: use 2-D arrays and @": ("matrix", "asmatrix", "bmat"),
    "masked arrays: use fnp.where with a mask, or the nan* reductions": ("ma",),
    "the legacy polynomial class: the poly* functions work on coefficient arrays": ("poly1d",),
    "NumPy's ufunc and broadcast objects: fnp's elementwise functions are Python functions; "
    "fnp.broadcast_shapes and fnp.broadcast_arrays compute what broadcast objects hold": ("ufunc", "broadcast"),
    "writes into its argument, which traced arrays do not allow: use fnp.where(mask, values, a) or "
    "a.at[index].set(values)": ("copyto", "putmask"),
    "iterates over a host array's values one by one: loop over fnp.ndindex(a.shape) instead": ("ndenumerate",),
    "bit packing of uint8 data: no derivative and no use inside differentiable programs; NumPy's work on "
    "host arrays": ("packbits", "unpackbits"),
    "complex results for some real inputs (the dtype would depend on values): pass complex input to "
    "fnp.sqrt, fnp.log, fnp.power, ... instead": ("emath",),
    "NumPy's submodules, configuration and build information: use NumPy's own, or functrans.random, "
    "functrans.testing and functrans.typing": (
        "core", "lib", "dtypes", "exceptions", "f2py", "random", "testing", "typing", "polynomial",
        "show_config", "show_runtime", "get_include", "info", "test"),
}

#: Names with a meaning here that functrans.numpy does not offer yet (each a known gap; none now).
PENDING: dict[str, tuple[str, ...]] = {}


def _listed(table: dict[str, tuple[str, ...]]) -> dict[str, str]:
    return {name: reason for reason, names in table.items() for name in names}


EXCLUDED_NAMES, PENDING_NAMES = _listed(EXCLUDED), _listed(PENDING)


def _numpy_public() -> set[str]:
    return {n for n in dir(np) if not n.startswith("_")}


def test_every_numpy_name_is_offered_or_excluded_with_a_reason():
    missing = sorted(_numpy_public() - set(dir(fnp)) - set(EXCLUDED_NAMES) - set(PENDING_NAMES))
    assert not missing, (
        f"NumPy {np.__version__} names that functrans.numpy neither offers nor lists in "
        f"tests/numpy/test_parity_names.py: {missing}. Implement them, or list them with a reason.")


@pytest.mark.parametrize("table", [EXCLUDED_NAMES, PENDING_NAMES], ids=["excluded", "pending"])
def test_no_listed_name_is_offered(table):
    offered = sorted(n for n in table if hasattr(fnp, n))
    assert not offered, f"functrans.numpy offers {offered}: take them off the list"


def test_listed_names_are_numpy_names():
    unknown = sorted((set(EXCLUDED_NAMES) | set(PENDING_NAMES)) - _numpy_public())
    assert not unknown, f"listed but not in NumPy {np.__version__}: {unknown}"


def test_names_are_listed_once():
    both = sorted(set(EXCLUDED_NAMES) & set(PENDING_NAMES))
    counts = [n for table in (EXCLUDED, PENDING) for names in table.values() for n in names]
    assert not both and len(counts) == len(set(counts)), "a name is listed twice"


@pytest.mark.parametrize("name", ["floating", "generic", "integer", "True_"])
def test_abstract_dtype_names_are_numpys_types(name):
    assert getattr(fnp, name) is getattr(np, name)


@pytest.mark.parametrize("name", ["float32", "int64", "bool", "uint16", "intp", "longlong"])
def test_scalar_type_names_stand_for_numpys(name):
    """As JAX's: NumPy's dtype, equal and hashed as NumPy's type, and a converter of arrays."""
    ours, numpys = getattr(fnp, name), getattr(np, name)
    assert ours == numpys and hash(ours) == hash(numpys) and np.dtype(ours) == np.dtype(numpys)
    assert ours.__name__ == numpys.__name__ and isinstance(numpys(1), ours)


def test_constants_are_numpys():
    for name in ("pi", "e", "inf", "nan", "euler_gamma", "little_endian", "newaxis"):
        value, expected = getattr(fnp, name), getattr(np, name)
        assert value is expected or value == expected or (value != value and expected != expected), name
