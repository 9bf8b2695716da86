"""The exception classes functrans raises on purpose, each pointing at its section of docs/errors.md.

Every error functrans raises for bad input says what was wrong, where, and how to fix it.
The classes subclass the built-in exception a Python user would expect (``TypeError`` for a
value of the wrong kind, ``ValueError`` for a value of the right kind but wrong content), so
``except TypeError`` keeps working. Each class's docstring says when it is raised, how to fix
it, and which section of the errors page explains it.
"""
from __future__ import annotations

__all__ = [
    "DOCS_BASE_URL", "ArgnumsError", "BatchAxisError", "CustomRuleError", "DeviceMismatchError",
    "DroppedDerivativeError", "FunctransError", "HasAuxError", "InPlaceUpdateError",
    "InputDtypeError", "LeakedTracerError", "NonScalarOutputError", "NotConvergedError", "NotLinearError",
    "OptimizerInputError", "SaveFormatError",
    "TangentMismatchError", "TracerConversionError", "TreeStructureError", "UnsupportedError",
]

#: Where the documentation site lives; each error message links its section of the errors
#: page there, and names the same section in the source tree (docs/errors.md) for offline use.
DOCS_BASE_URL = "https://functrans.readthedocs.io/en/latest/"
_DOCS = "docs/errors.md"


class FunctransError(Exception):
    """Base of every error functrans raises on purpose; ``except FunctransError`` catches them
    all. ``anchor`` names each class's section of the errors page, and every message ends with
    a link to it. See docs/errors.md#functrans-error.

    Example:
        >>> NonScalarOutputError.docs_url()
        'https://functrans.readthedocs.io/en/latest/errors/#non-scalar-output'
        >>> issubclass(NonScalarOutputError, FunctransError)
        True
    """

    anchor = "functrans-error"

    def __init__(self, message: str) -> None:
        super().__init__(f"{message}\n(See {self.docs_url()} or {_DOCS}#{self.anchor}.)")

    @classmethod
    def docs_url(cls) -> str:
        """The address of this error's section of the errors page.

        Example:
            >>> TreeStructureError.docs_url().endswith("#tree-structure")
            True
        """
        return f"{DOCS_BASE_URL}errors/#{cls.anchor}"


class NonScalarOutputError(FunctransError, TypeError):
    """``grad`` or ``value_and_grad`` of a function whose output is not one real float scalar
    (a vector, a complex or integer value, or not an array at all).

    Fix: reduce the output to the loss (``.sum()``, ``.mean()``); for the derivative of a
    vector output use ``vjp``, ``jacrev`` or ``jacfwd``; return extra values next to the loss
    with ``has_aux=True``. See docs/errors.md#non-scalar-output.
    """

    anchor = "non-scalar-output"


class InputDtypeError(FunctransError, TypeError):
    """An argument to be differentiated has an integer or boolean dtype, which has no
    derivative (``grad(f)(2)`` passes the integer 2).

    Fix: pass a float (``2.0``), leave the argument out of ``argnums``, or pass
    ``allow_int=True`` to get a zero gradient for it. See docs/errors.md#input-dtype.
    """

    anchor = "input-dtype"


class HasAuxError(FunctransError, TypeError):
    """``has_aux=True``, but the function did not return a pair ``(output, aux)``.

    Fix: return exactly two values, the output first, or drop ``has_aux``. See
    docs/errors.md#has-aux.
    """

    anchor = "has-aux"


class TangentMismatchError(FunctransError, ValueError):
    """A tangent given to ``jvp`` (or a cotangent given to the function ``vjp`` returns) has
    a shape or dtype unlike its primal (or output), or the primals and tangents are not tuples.

    Fix: give each tangent its primal's shape and dtype (``fnp.ones_like(x)``,
    ``t.astype(x.dtype)``), both as tuples: ``jvp(f, (x,), (v,))``. See
    docs/errors.md#tangent-mismatch.
    """

    anchor = "tangent-mismatch"


class ArgnumsError(FunctransError, ValueError):
    """``argnums`` is empty, not made of ints, or names a positional argument that does not
    exist.

    Fix: name existing positional arguments by index (from 0, or negative from the end); pass
    an argument positionally to differentiate it. See docs/errors.md#argnums.
    """

    anchor = "argnums"


class LeakedTracerError(FunctransError, RuntimeError):
    """A traced value escaped the transformation that made it (kept in a global, a list or an
    attribute) and was used after that transformation finished, or in another thread while
    it runs.

    Fix: return the value instead (with ``grad``, as ``(loss, value)`` and ``has_aux=True``);
    pass values into a function another thread runs as its arguments. See
    docs/errors.md#leaked-tracer.
    """

    anchor = "leaked-tracer"


class InPlaceUpdateError(FunctransError, TypeError):
    """An in-place update (``x[i] = v``) of an array inside a transformed function: the
    derivative needs the old value.

    Fix: write ``x = x.at[i].set(v)`` (or ``.add``, ...), or ``fnp.at(x)[i].set(v)``, which
    also works on plain NumPy arrays. See docs/errors.md#in-place-update.
    """

    anchor = "in-place-update"


class TracerConversionError(FunctransError, TypeError):
    """A traced value was converted where its derivative or its batch would be lost: to a
    NumPy array (``np.asarray(x)``), to a Python bool in ``if`` under ``vmap`` or ``jit``, or
    passed to a random sampler where a concrete int is needed (a shape, a dimension, an axis).

    Fix: compute with ``functrans.numpy`` functions, choose element by element with
    ``fnp.where``, and mark constants with ``ft.stop_gradient(x)``. See
    docs/errors.md#tracer-conversion.
    """

    anchor = "tracer-conversion"


class DroppedDerivativeError(FunctransError, ValueError):
    """A value being differentiated was made a Python number (``float(x)``, ``math.exp(x)``,
    ``x.item()``, ``x.tolist()``, ``complex(x)``, or ``B[i] = x`` into a NumPy array), which
    would carry no derivative: the gradient through it would silently be 0. (A ``ValueError``,
    like the one NumPy raises, from this error, for ``B[i] = x``: ``except ValueError``
    catches both.)

    Fix: compute with ``functrans.numpy`` (``fnp.exp(x)``, ``B = B.at[i].set(x)``); if a
    constant is meant, write ``float(ft.stop_gradient(x))``. ``bool(x)`` and ``int(x)`` stay
    allowed. See docs/errors.md#dropped-derivative.
    """

    anchor = "dropped-derivative"


class TreeStructureError(FunctransError, ValueError):
    """Two pytrees that must have the same structure differ (primals and tangents, an output
    and its cotangent, the trees given to ``tree.map``); the message names the key path of the
    first difference and both sides.

    Fix: build the second tree from the first (``tree.map(fnp.ones_like, primals)``). See
    docs/errors.md#tree-structure.
    """

    anchor = "tree-structure"


class UnsupportedError(FunctransError, NotImplementedError):
    """A NumPy function functrans has no version of was called on a traced array, or a
    feature functrans does not offer was asked for (the message names it).

    Fix: express the computation with ``functrans.numpy`` functions. See
    docs/errors.md#unsupported.
    """

    anchor = "unsupported"


class BatchAxisError(FunctransError, ValueError):
    """``vmap`` could not line up the batch axes: mapped axes of different sizes, an
    ``in_axes`` of the wrong length, an axis out of range, or no mapped argument at all.

    Fix: give arguments shared by every example ``None`` in ``in_axes``; pass ``axis_size=``
    when nothing is mapped. See docs/errors.md#vmap-axes.
    """

    anchor = "vmap-axes"


class CustomRuleError(FunctransError, TypeError):
    """A function with a custom derivative rule was used where its rule cannot serve (a
    ``custom_vjp`` function under forward mode), or the rule returned values of the wrong
    structure or shape.

    Fix: give a rule for both modes with ``custom_jvp``, and return one tangent or cotangent
    per argument, shaped like it. See docs/errors.md#custom-rules.
    """

    anchor = "custom-rules"


class NotLinearError(FunctransError, TypeError):
    """``linear_transpose(f, ...)`` of a function that applies a non-linear operation (the
    message names it).

    Fix: for the transpose of the derivative of a non-linear function use ``vjp(f, x)``. See
    docs/errors.md#not-linear.
    """

    anchor = "not-linear"


class OptimizerInputError(FunctransError, TypeError):
    """An optimizer was given something it cannot work with: ``update``'s arguments in the
    wrong order (``opt.update(state, grads)``), the state of another optimizer, or params or
    gradients with a leaf that is not an array (``{"act": "relu"}``; the message names its key
    path).

    Fix: ``state = opt.init(params)`` with this optimizer, then ``updates, state =
    opt.update(grads, state, params)``; keep settings out of the params tree. See
    docs/errors.md#optimizer-input.
    """

    anchor = "optimizer-input"


class SaveFormatError(FunctransError, ValueError):
    """``functrans.io.load`` was given a file it cannot read back as saved: truncated or
    corrupted, not written by ``io.save``, written by a newer functrans, or not matching the
    ``like`` tree (the message names the first leaf that differs).

    Fix: load files written by ``io.save``, and give ``like`` the structure, shapes and dtypes
    that were saved. See docs/errors.md#save-format.
    """

    anchor = "save-format"


class NotConvergedError(FunctransError, RuntimeError):
    """An iterative solver (``functrans.implicit.fixed_point``, ``root``) stopped at its
    iteration limit before meeting its tolerance, or at a singular Jacobian. Raised rather
    than warned: the implicit derivative assumes the returned point solves the equations, so
    an unconverged result would give silently wrong values and gradients.

    Fix: raise ``max_iter``, loosen ``tol``, start closer (``x0``), or check that the problem
    has a solution there (a fixed-point map must be a contraction near it; a root's Jacobian
    must be invertible). See docs/errors.md#not-converged.
    """

    anchor = "not-converged"


class DeviceMismatchError(FunctransError, ValueError):
    """One operation received arrays on two devices (a CuPy array and a NumPy array, or
    ``"gpu:0"`` and ``"gpu:1"``); functrans never copies between devices behind your back.

    Fix: move the data once, explicitly, with ``ft.device_put(tree, device)``; bring results
    back with ``ft.device_get``. See docs/errors.md#device-mismatch.
    """

    anchor = "device-mismatch"
