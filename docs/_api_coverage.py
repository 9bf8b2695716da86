"""Which public names the API reference pages must show, and which they miss.

Used twice: by tests/test_docs.py, and as an MkDocs hook (mkdocs.yml: hooks), so that
`mkdocs build` itself fails when a public name of a documented module has no entry.
"""
from __future__ import annotations

import importlib
import pathlib
import re
import types

DOCS = pathlib.Path(__file__).resolve().parent

#: module -> the page of docs/api/ that must render it and list each of its public names
API_PAGES = {
    "functrans": "functrans.md",
    "functrans.numpy": "numpy.md",
    "functrans.numpy.linalg": "numpy.md",
    "functrans.numpy.fft": "numpy.md",
    "functrans.nn": "nn.md",
    "functrans.nn.initializers": "nn.md",
    "functrans.optim": "optim.md",
    "functrans.optim.schedules": "optim.md",
    "functrans.random": "random.md",
    "functrans.tree": "tree.md",
    "functrans.flatten_util": "tree.md",
    "functrans.lax": "lax.md",
    "functrans.implicit": "implicit.md",
    "functrans.integrate": "integrate.md",
    "functrans.scipy.integrate": "integrate.md",
    "functrans.scipy.sparse.linalg": "scipy.md",
    "functrans.io": "io.md",
    "functrans.distributed": "distributed.md",
    "functrans.scipy.linalg": "scipy.md",
    "functrans.scipy.signal": "scipy.md",
    "functrans.scipy.special": "scipy.md",
    "functrans.scipy.stats.bernoulli": "scipy.md",
    "functrans.scipy.stats.beta": "scipy.md",
    "functrans.scipy.stats.binom": "scipy.md",
    "functrans.scipy.stats.cauchy": "scipy.md",
    "functrans.scipy.stats.chi2": "scipy.md",
    "functrans.scipy.stats.dirichlet": "scipy.md",
    "functrans.scipy.stats.expon": "scipy.md",
    "functrans.scipy.stats.gamma": "scipy.md",
    "functrans.scipy.stats.gennorm": "scipy.md",
    "functrans.scipy.stats.geom": "scipy.md",
    "functrans.scipy.stats.laplace": "scipy.md",
    "functrans.scipy.stats.logistic": "scipy.md",
    "functrans.scipy.stats.multinomial": "scipy.md",
    "functrans.scipy.stats.multivariate_normal": "scipy.md",
    "functrans.scipy.stats.norm": "scipy.md",
    "functrans.scipy.stats.pareto": "scipy.md",
    "functrans.scipy.stats.poisson": "scipy.md",
    "functrans.scipy.stats.t": "scipy.md",
    "functrans.scipy.stats.truncnorm": "scipy.md",
    "functrans.scipy.stats.uniform": "scipy.md",
    "functrans.scipy.stats.vonmises": "scipy.md",
    "functrans.viz": "viz.md",
    "functrans.extend": "extend.md",
    "functrans.testing": "extend.md",
}


def public_names(module: types.ModuleType) -> list[str]:
    """``__all__`` (or the names without a leading underscore), submodules left out."""
    names = getattr(module, "__all__", None)
    if names is None:
        names = [n for n in dir(module) if not n.startswith("_") and n != "annotations"]
    return [n for n in names if not isinstance(getattr(module, n, None), types.ModuleType)]


def mentions(text: str, name: str) -> bool:
    """Listed as a mkdocstrings member (``- name``), or written as code (`` `name` ``)."""
    return (re.search(rf"^\s*- {re.escape(name)}\s*$", text, re.MULTILINE) is not None
            or f"`{name}`" in text)


def missing(module_name: str) -> list[str]:
    """The public names of ``module_name`` its API page does not show (the page's absence of
    a ``::: module_name`` directive counts as every name missing)."""
    module = importlib.import_module(module_name)
    text = (DOCS / "api" / API_PAGES[module_name]).read_text()
    names = public_names(module)
    if f"::: {module_name}" not in text:
        return names
    return [n for n in names if not mentions(text, n)]


def on_pre_build(config, **kwargs) -> None:
    """MkDocs hook: fail the build if an API page misses a public name."""
    import sys

    from mkdocs.exceptions import PluginError

    if str(DOCS.parent) not in sys.path:  # the checkout being documented, installed or not
        sys.path.insert(0, str(DOCS.parent))
    gaps = {m: missing(m) for m in API_PAGES}
    gaps = {m: names for m, names in gaps.items() if names}
    if gaps:
        lines = [f"docs/api/{API_PAGES[m]} lacks {m}.{names}" for m, names in gaps.items()]
        raise PluginError("API reference incomplete:\n  " + "\n  ".join(lines))
