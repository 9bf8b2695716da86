"""A Griffe extension for the API reference: a package name that is also a submodule's name
means, at runtime, what the package imports under it, and the reference shows that.

``functrans.lax.scan`` is the function ``scan``, imported by ``functrans/lax/__init__.py``
from the module ``functrans/lax/scan.py``; Griffe keeps the module under the name, so the
function would have no entry (mkdocstrings renders no module listed among a page's
members) and cross-references to it would not resolve. The same holds for
``functrans.nn.dropout``, ``functrans.integrate.odeint``, ``functrans.config`` and others.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import griffe


def _modules(module: griffe.Module) -> Iterator[griffe.Module]:
    """``module`` and its submodules, at any depth (aliases left out)."""
    stack = [module]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(m for m in current.members.values() if not m.is_alias and m.is_module)


def shadowed(package: griffe.Module) -> list[tuple[griffe.Module, str, str]]:
    """(module, name, imported path) for each submodule whose module imports another object
    under the submodule's name."""
    found = []
    for module in _modules(package):
        for name, member in module.members.items():
            if member.is_alias or not member.is_module:
                continue
            target = module.imports.get(name)
            if target is not None and target != member.path:
                found.append((module, name, target))
    return found


class _NameOverModule(griffe.Alias):
    """The object a package imports under a submodule's name; a path that runs through the
    name (``functrans.config.Config``) still reaches the submodule's members."""

    def __init__(self, name: str, target: griffe.Object | griffe.Alias, module: griffe.Module,
                 parent: griffe.Module) -> None:
        super().__init__(name, target, parent=parent)
        self.hidden_module = module

    @property
    def members(self) -> dict[str, griffe.Object | griffe.Alias]:
        through = {name: griffe.Alias(name, target=member, parent=self)
                   for name, member in self.hidden_module.members.items()}
        return {**through, **super().members}


class RuntimeNames(griffe.Extension):
    """Replace each shadowed submodule of a package by the object imported under its name."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        found = shadowed(pkg)
        targets = [(module, name, pkg.modules_collection.get_member(target))
                   for module, name, target in found]
        for module, name, target in targets:
            module.set_member(name, _NameOverModule(name, target, module.members[name], module))
