"""Tables of how JAX's and optax's public names map onto functrans, computed at build time.

The names of the other libraries are data (docs/_mappings/*.txt, typed from their API
references, since neither library is a dependency); what functrans has is looked up in its
modules when the site is built, so a table never claims a name that is gone or misses one
that arrived. Used as an MkDocs hook (mkdocs.yml: hooks): a page holds a marker
``<!-- mapping: optax -->`` and the build puts the table there. tests/test_docs.py runs the
same functions.
"""
from __future__ import annotations

import importlib
import pathlib
import re
import sys
import types
from dataclasses import dataclass

DOCS = pathlib.Path(__file__).resolve().parent
DATA = DOCS / "_mappings"

#: a library -> the functrans modules searched for its names, in order, with the short form
#: the table shows for each
TARGETS: dict[str, list[tuple[str, str]]] = {
    "jax.numpy": [("functrans.numpy", "fnp")],
    "jax.random": [("functrans.random", "ft.random")],
    "jax.lax": [("functrans.lax", "ft.lax"), ("functrans", "ft"), ("functrans.numpy", "fnp"),
                ("functrans.scipy.special", "ft.scipy.special")],
    "jax.scipy": [("functrans.scipy", "ft.scipy")],
    "jax.ops": [("functrans.ops", "ft.ops")],
    "jax.nn": [("functrans.nn", "nn")],
    "optax": [("functrans.optim", "optim"), ("functrans.optim.schedules", "optim.schedules"),
              ("functrans.optim.losses", "optim.losses")],
}

#: names that exist under another name (the other library's name -> a functrans path, and
#: what differs); each target is looked up at build time like the rest
RENAMES: dict[str, dict[str, tuple[str, str]]] = {
    "jax.lax": {
        "erf_inv": ("functrans.scipy.special.erfinv", ""),
        "lgamma": ("functrans.scipy.special.gammaln", ""),
        "div": ("functrans.lax.div", ""),
        "clamp": ("functrans.numpy.clip", "argument order: clip(x, lo, hi)"),
        "select_n": ("functrans.lax.switch", "selects a function, not a value"),
        "is_finite": ("functrans.numpy.isfinite", ""),
        "shift_left": ("functrans.numpy.left_shift", ""),
        "shift_right_arithmetic": ("functrans.numpy.right_shift", "on signed integers"),
        "population_count": ("functrans.numpy.bitwise_count", ""),
        "iota": ("functrans.numpy.arange", ""),
        "batch_matmul": ("functrans.numpy.matmul", ""),
        "conv": ("functrans.lax.conv_general_dilated", ""),
        "conv_with_general_padding": ("functrans.lax.conv_general_dilated", ""),
        "bessel_i0e": ("functrans.scipy.special.i0e", ""),
        "bessel_i1e": ("functrans.scipy.special.i1e", ""),
        "igamma": ("functrans.scipy.special.gammainc", ""),
        "igammac": ("functrans.scipy.special.gammaincc", ""),
        "gather": ("functrans.numpy.take", "or x[idx]"),
        "index_take": ("functrans.numpy.take", ""),
        "scatter_add": ("functrans.numpy.at", "fnp.at(x)[idx].add(v), or x.at[idx].add(v)"),
        "scatter": ("functrans.numpy.at", "fnp.at(x)[idx].set(v)"),
        "scatter_mul": ("functrans.numpy.at", "fnp.at(x)[idx].multiply(v)"),
        "scatter_min": ("functrans.numpy.at", "fnp.at(x)[idx].min(v)"),
        "scatter_max": ("functrans.numpy.at", "fnp.at(x)[idx].max(v)"),
        "psum": ("functrans.distributed.psum", "over the MPI ranks, not a named axis"),
        "pmean": ("functrans.distributed.pmean", "over the MPI ranks, not a named axis"),
        "all_gather": ("functrans.distributed.all_gather", "over the MPI ranks, not a named axis"),
    },
    "optax": {
        "identity": ("functrans.optim.scale", "scale(1.0)"),
    },
}


_INIT_NOTE = ("a function of (key, shape, dtype), not a factory, with PyTorch's fans "
              "(shape[1] in, shape[0] out); variance_scaling has JAX's")

#: names found under the same name whose behaviour differs in a way a port must spell out
NOTES: dict[str, dict[str, str]] = {
    "jax.nn": {
        "gelu": "**exact by default** (PyTorch's); jax.nn.gelu defaults to approximate=True "
                "(tanh): write nn.gelu(x, approximate=True)",
        "leaky_relu": "derivative negative_slope at 0 (PyTorch's); JAX's is 1",
        "celu": "second derivative 1 at 0 (the left side's); JAX's is 0.25",
        "softplus": "x itself where x > threshold=20 (PyTorch's): within 3e-9 of JAX's",
        "one_hot": "dtype defaults to float64",
        **{f"initializers.{name}": _INIT_NOTE for name in (
            "glorot_normal", "glorot_uniform", "he_normal", "he_uniform", "kaiming_normal",
            "kaiming_uniform", "lecun_normal", "lecun_uniform", "xavier_normal",
            "xavier_uniform")},
        **{f"initializers.{name}": "a function of (key, shape, dtype), not a factory"
           for name in ("constant", "normal", "orthogonal", "truncated_normal", "uniform")},
    },
}


@dataclass(frozen=True)
class Row:
    """One name of the other library and what functrans has for it."""

    section: str
    name: str
    target: str | None  # the functrans name shown, None when missing
    note: str = ""


def names(library: str) -> list[tuple[str, str]]:
    """``(section, name)`` for each name of ``library``'s list (``# Section`` lines head a
    section; the file's first comment lines, before any name, describe it)."""
    section, rows, seen = "", [], set()
    for line in (DATA / f"{library}.txt").read_text().splitlines():
        line = line.strip()
        if not line:
            continue
        if line.startswith("#"):
            if rows or seen or not line.startswith("# Public"):
                section = line.lstrip("# ").strip() if not line.startswith("# typed") else section
            continue
        if line in seen:
            raise ValueError(f"docs/_mappings/{library}.txt lists {line} twice")
        seen.add(line)
        rows.append((section, line))
    return rows


def _resolve(path: str) -> object | None:
    """The object at a dotted path, or None: the longest ``functrans`` prefix that is a module,
    then attributes (a package's attribute wins over its submodule of the same name, as
    ``optim.adafactor`` the function over ``optim/adafactor.py``)."""
    parts = path.split(".")
    obj: object = importlib.import_module(parts[0])
    for i, part in enumerate(parts[1:], start=1):
        nxt = getattr(obj, part, None)
        if nxt is None and isinstance(obj, types.ModuleType):
            try:
                nxt = importlib.import_module(".".join(parts[: i + 1]))
            except ImportError:
                return None
        if nxt is None:
            return None
        obj = nxt
    return obj


def _public(module_name: str, name: str) -> bool:
    """``name`` (dotted below the module) is a public function, class or value of
    ``module_name`` (a submodule of that name does not count)."""
    if any(part.startswith("_") for part in name.split(".")):
        return False
    obj = _resolve(f"{module_name}.{name}")
    return obj is not None and not isinstance(obj, types.ModuleType)


def _short(path: str) -> str:
    for module_name, short in sorted((t for ts in TARGETS.values() for t in ts),
                                     key=lambda t: -len(t[0])):
        if path.startswith(module_name + "."):
            return f"{short}.{path[len(module_name) + 1:]}"
    return path.replace("functrans.", "ft.", 1)


def mapping(library: str) -> list[Row]:
    """Every name of ``library`` with the functrans name that provides it, or None."""
    rows = []
    for section, name in names(library):
        target, note = None, ""
        candidates = [name]
        if library == "optax" and name.endswith("_schedule"):
            candidates.append(name[: -len("_schedule")])  # optim.schedules.cosine_decay
        for module_name, short in TARGETS[library]:
            hit = next((c for c in candidates if _public(module_name, c)), None)
            if hit is not None:
                target = f"{short}.{hit}"
                note = NOTES.get(library, {}).get(name, "")
                break
        if target is None and name in RENAMES.get(library, {}):
            path, note = RENAMES[library][name]
            if _resolve(path) is not None:
                target = _short(path)
        rows.append(Row(section, name, target, note))
    return rows


def table(library: str) -> str:
    """The Markdown for ``library``: a coverage line, then one table per section."""
    rows = mapping(library)
    have = sum(r.target is not None for r in rows)
    out = [f"**{have} of {len(rows)}** names of `{library}` have a functrans counterpart "
           f"({100 * have // len(rows)}%), computed from the code when this site was built."]
    sections: dict[str, list[Row]] = {}
    for row in rows:
        sections.setdefault(row.section, []).append(row)
    for section, members in sections.items():
        if section:
            out.append(f"\n**{section}**\n")
        else:
            out.append("")
        out.append(f"| `{library}` | functrans | note |")
        out.append("| --- | --- | --- |")
        for r in members:
            target = f"`{r.target}`" if r.target else "missing"
            out.append(f"| `{r.name}` | {target} | {r.note} |")
    return "\n".join(out)


MARKER = re.compile(r"<!-- mapping: ([\w.]+) -->")


def on_page_markdown(markdown: str, page: object, **kwargs: object) -> str:
    """MkDocs hook: replace each ``<!-- mapping: library -->`` marker by its table."""
    if str(DOCS.parent) not in sys.path:  # the checkout being documented, installed or not
        sys.path.insert(0, str(DOCS.parent))
    return MARKER.sub(lambda m: table(m.group(1)), markdown)
