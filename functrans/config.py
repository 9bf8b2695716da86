"""Global settings that change how functrans records and checks programs (not what it
computes): read by the core, set by users.

``config.update(name, value)`` sets one, ``config.<name>`` reads it, and
``with config.override(name=value):`` sets some for a block only.

Example:
    >>> from functrans.config import config
    >>> config.staging_source_info
    True
    >>> with config.override(staging_source_info=False):
    ...     config.staging_source_info
    False
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

__all__ = ["Config", "config"]

_DEFAULTS: dict[str, Any] = {
    # Staged programs (jit, make_jaxpr, custom rules) record, for each equation, the line of
    # the user's code that created it; error messages and program pictures show it. The
    # tape that grad records eagerly never does: a frame walk per primitive would cost more
    # than most primitives.
    "staging_source_info": True,
}


class Config:
    """The settings, one attribute each; ``update`` and ``override`` validate the name.

    Example:
        >>> from functrans.config import config
        >>> "staging_source_info=" in repr(config)
        True
    """

    def __init__(self) -> None:
        self.__dict__.update(_DEFAULTS)

    def update(self, name: str, value: Any) -> None:
        """Set the setting ``name`` to ``value``.

        Example:
            >>> from functrans.config import config
            >>> config.update("staging_source_info", True)
        """
        if name not in _DEFAULTS:
            known = ", ".join(sorted(_DEFAULTS))
            raise AttributeError(f"functrans.config has no setting {name!r}; the settings are: {known}.")
        self.__dict__[name] = value

    @contextlib.contextmanager
    def override(self, **settings: Any) -> Iterator[None]:
        """Set some settings for the duration of a ``with`` block, then restore them.

        Example:
            >>> from functrans.config import config
            >>> with config.override(staging_source_info=False):
            ...     config.staging_source_info
            False
        """
        old = {name: getattr(self, name) for name in settings if name in _DEFAULTS}
        for name, value in settings.items():
            self.update(name, value)
        try:
            yield
        finally:
            self.__dict__.update(old)

    def __repr__(self) -> str:
        items = ", ".join(f"{k}={self.__dict__[k]!r}" for k in _DEFAULTS)
        return f"Config({items})"


config = Config()
