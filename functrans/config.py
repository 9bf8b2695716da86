"""Global settings that change how functrans records and checks programs (not what it
computes): read by the core, set by users.

``config.update(name, value)`` sets one, ``config.<name>`` reads it, and
``with config.override(name=value):`` sets some for a block only. The names ported JAX code
uses are accepted too: ``jax_debug_nans`` is ``debug_nans``, ``jax_disable_jit`` is
``disable_jit``; ``jax_enable_x64`` is accepted
and changes nothing (functrans follows NumPy's dtypes, so float64 is already the default;
setting it False warns so).

Example:
    >>> from functrans import config
    >>> config.debug_nans
    False
    >>> with config.override(debug_nans=True):
    ...     config.debug_nans
    True
"""
from __future__ import annotations

import contextlib
import os
import warnings
from collections.abc import Callable, Iterator
from typing import Any

__all__ = ["Config", "config"]

_DEFAULTS: dict[str, Any] = {
    # Staged programs (jit, make_jaxpr, custom rules) record, for each equation, the line of
    # the user's code that created it; error messages and program pictures show it. The
    # tape that grad records eagerly does so only under debug_nans: a frame walk per
    # primitive would cost more than most primitives.
    "staging_source_info": True,
    # Raise FloatingPointError at the first primitive (forward, JVP or transpose pass; eager,
    # under jit or vmap) that makes a NaN from inputs without one. Costs nothing while off:
    # turning it on swaps the checking implementations in.
    "debug_nans": False,
    # JAX's switch for 64-bit types. functrans follows NumPy's dtypes (float64 is the default
    # already) and never downcasts: True changes nothing, and False warns that it changes
    # nothing (code written for JAX's float32 default would otherwise run in float64 silently).
    "enable_x64": True,
    # jit calls the function itself instead of recording and replaying it (to step through it
    # with a debugger or print values inside it); the values are the same.
    "disable_jit": False,
}

# JAX's names for the settings, accepted so that ported code runs unchanged.
_ALIASES = {"jax_debug_nans": "debug_nans", "jax_enable_x64": "enable_x64",
            "jax_disable_jit": "disable_jit"}

_X64_OFF = (
    "functrans.config: enable_x64=False changes nothing. functrans follows NumPy's dtypes: "
    "float64 inputs give float64 results and nothing is downcast. For float32 computations, "
    "make the inputs float32 (x.astype(np.float32), dtype=np.float32)."
)

# The environment variable that turns debug_nans on when functrans is imported.
DEBUG_NANS_ENV = "FUNCTRANS_DEBUG_NANS"


class Config:
    """The settings, one attribute each; ``update`` and ``override`` validate the name.

    Example:
        >>> from functrans import config
        >>> "debug_nans=" in repr(config)
        True
    """

    # The settings of _DEFAULTS, declared for type checkers (set in __init__).
    staging_source_info: bool
    debug_nans: bool
    enable_x64: bool
    disable_jit: bool
    _watchers: dict[str, list[Callable[[Any], None]]]

    def __init__(self) -> None:
        self.__dict__.update(_DEFAULTS)
        self.__dict__["_watchers"] = {}

    def update(self, name: str, value: Any) -> None:
        """Set the setting ``name`` (or its JAX name, ``jax_debug_nans``...) to ``value``.

        Raises:
            AttributeError: ``name`` is not a setting; the message lists the settings.

        Example:
            >>> from functrans import config
            >>> config.update("jax_enable_x64", True)
            >>> config.enable_x64
            True
        """
        canonical = _ALIASES.get(name, name)
        if canonical not in _DEFAULTS:
            known = ", ".join(sorted(_DEFAULTS) + sorted(_ALIASES))
            raise AttributeError(f"functrans.config has no setting {name!r}; the settings are: {known}.")
        if type(_DEFAULTS[canonical]) is bool:
            value = bool(value)
        if canonical == "enable_x64" and not value:
            warnings.warn(_X64_OFF, stacklevel=2)
        changed = self.__dict__[canonical] != value
        self.__dict__[canonical] = value
        if changed:
            for callback in self._watchers.get(canonical, ()):
                callback(value)

    def watch(self, name: str, callback: Callable[[Any], None]) -> None:
        """Call ``callback(value)`` whenever the setting ``name`` changes (the core swaps in
        its checking code paths this way, so that a setting that is off costs nothing).

        Example:
            >>> from functrans import config
            >>> seen = []
            >>> config.watch("staging_source_info", seen.append)
            >>> with config.override(staging_source_info=False):
            ...     pass
            >>> seen
            [False, True]
            >>> config.unwatch("staging_source_info", seen.append)
        """
        self._watchers.setdefault(_ALIASES.get(name, name), []).append(callback)

    def unwatch(self, name: str, callback: Callable[[Any], None]) -> None:
        """Stop calling a ``callback`` given to ``watch``.

        Example:
            >>> from functrans import config
            >>> config.watch("debug_nans", print)
            >>> config.unwatch("debug_nans", print)
        """
        self._watchers[_ALIASES.get(name, name)].remove(callback)

    @contextlib.contextmanager
    def override(self, **settings: Any) -> Iterator[None]:
        """Set some settings for the duration of a ``with`` block, then restore them.

        Example:
            >>> from functrans import config
            >>> with config.override(staging_source_info=False):
            ...     config.staging_source_info
            False
        """
        old = {}
        for name in settings:
            canonical = _ALIASES.get(name, name)
            if canonical in _DEFAULTS:
                old[canonical] = getattr(self, canonical)
        try:
            for name, value in settings.items():
                self.update(name, value)
            yield
        finally:
            for name, value in old.items():
                self.update(name, value)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"set functrans settings with config.update({name!r}, {value!r})")

    def __repr__(self) -> str:
        items = ", ".join(f"{k}={self.__dict__[k]!r}" for k in _DEFAULTS)
        return f"Config({items})"


def environment_settings() -> dict[str, Any]:
    """The settings the environment asks for (``FUNCTRANS_DEBUG_NANS=1``), applied when
    functrans is imported.

    Example:
        >>> from functrans.config import environment_settings
        >>> isinstance(environment_settings(), dict)
        True
    """
    flag = os.environ.get(DEBUG_NANS_ENV, "").strip().lower()
    return {"debug_nans": True} if flag not in ("", "0", "false", "no", "off") else {}


config = Config()
"""The settings of this process (``ft.config``): ``config.update(name, value)``,
``config.<name>``, ``with config.override(name=value):``; see [`Config`][functrans.config.Config]."""
