"""Exception classes raised by functrans, each pointing at its section of docs/errors.md.

Every error functrans raises for bad input says what was wrong, where, and how to fix it.
The classes subclass the built-in exception a Python user would expect (``TypeError`` for a
value of the wrong kind, ``ValueError`` for a value of the right kind but wrong content), so
``except TypeError`` keeps working.
"""
from __future__ import annotations

#: Where the documentation site lives; each error message links its section of the errors
#: page there, and names the same section in the source tree (docs/errors.md) for offline use.
DOCS_BASE_URL = "https://functrans.readthedocs.io/en/latest/"
_DOCS = "docs/errors.md"


class FunctransError(Exception):
    """Base of every error functrans raises on purpose. ``anchor`` names its docs section.

    Example:
        >>> NonScalarOutputError.docs_url()
        'https://functrans.readthedocs.io/en/latest/errors/#non-scalar-output'
    """

    anchor = "errors"

    def __init__(self, message: str):
        super().__init__(f"{message}\n(See {self.docs_url()} or {_DOCS}#{self.anchor}.)")

    @classmethod
    def docs_url(cls) -> str:
        """The address of this error's section of the errors page."""
        return f"{DOCS_BASE_URL}errors/#{cls.anchor}"


class NonScalarOutputError(FunctransError, TypeError):
    anchor = "non-scalar-output"


class InputDtypeError(FunctransError, TypeError):
    anchor = "input-dtype"


class HasAuxError(FunctransError, TypeError):
    anchor = "has-aux"


class TangentMismatchError(FunctransError, ValueError):
    anchor = "tangent-mismatch"


class ArgnumsError(FunctransError, ValueError):
    anchor = "argnums"


class LeakedTracerError(FunctransError, RuntimeError):
    anchor = "leaked-tracer"


class InPlaceUpdateError(FunctransError, TypeError):
    anchor = "in-place-update"


class TracerConversionError(FunctransError, TypeError):
    anchor = "tracer-conversion"


class TreeStructureError(FunctransError, ValueError):
    anchor = "tree-structure"


class ShapeError(FunctransError, ValueError):
    anchor = "shapes"


class UnsupportedError(FunctransError, NotImplementedError):
    anchor = "unsupported"


class BatchAxisError(FunctransError, ValueError):
    anchor = "vmap-axes"


class CustomRuleError(FunctransError, TypeError):
    anchor = "custom-rules"


class NotLinearError(FunctransError, TypeError):
    anchor = "not-linear"


class DeviceMismatchError(FunctransError, ValueError):
    anchor = "device-mismatch"
