"""The op tables the test files run, assembled from the topic modules: every primitive's rows,
every public ``functrans.numpy`` function's rows, and their mixed-precision variants."""
from __future__ import annotations

from . import (
    conversion,
    creation,
    cumulative,
    dtypes,
    elementwise,
    fft,
    floating,
    index_tricks,
    indexing,
    integers,
    joining,
    linalg,
    manipulation,
    numerical,
    polynomials,
    products,
    recurrent,
    reductions,
    sets,
    shape,
    signal,
    sorting,
    special,
    stats,
    ufunc_methods,
)
from .opspec import OpSpec, mixed_precision

# Rows also run in float32 with their last argument in float64 (NumPy 2 promotion).
_MIXED_PRIMITIVES = ("prim.add", "prim.sub", "prim.mul", "prim.div", "prim.pow", "prim.max", "prim.select",
                     "prim.dot_general", "prim.concatenate[2]")
_MIXED_FUNCTIONS = ("fnp.add", "fnp.multiply", "fnp.divide", "fnp.maximum", "fnp.power", "fnp.where", "fnp.matmul",
                    "fnp.einsum[2]", "fnp.concatenate[2]", "fnp.at[set]", "fnp.at[add]", "fnp.clip[arrays]")


def _with_mixed(rows: list[OpSpec], names: tuple[str, ...]) -> list[OpSpec]:
    return rows + [mixed_precision(s) for s in rows if s.name in names]


#: One row per primitive (several for primitives with variants).
PRIMITIVE_SPECS: list[OpSpec] = _with_mixed([
    *elementwise.PRIMITIVES, *special.PRIMITIVES, *reductions.PRIMITIVES, *cumulative.PRIMITIVES,
    *shape.PRIMITIVES, *joining.PRIMITIVES, *indexing.PRIMITIVES, *products.PRIMITIVES, *sorting.PRIMITIVES,
    *linalg.PRIMITIVES, *fft.PRIMITIVES, *creation.PRIMITIVES, *conversion.PRIMITIVES,
    *recurrent.PRIMITIVES,
], _MIXED_PRIMITIVES)

#: One row per public top-level ``functrans.numpy`` function (several for variants); the
#: functions of ``fnp.linalg`` and ``fnp.fft`` and the index tricks have tables of their own
#: (LINALG_SPECS, FFT_SPECS, INDEX_TRICK_SPECS).
FNP_SPECS: list[OpSpec] = _with_mixed([
    *elementwise.FUNCTIONS, *reductions.FUNCTIONS, *cumulative.FUNCTIONS, *shape.FUNCTIONS, *joining.FUNCTIONS,
    *indexing.FUNCTIONS, *products.FUNCTIONS, *sorting.FUNCTIONS, *creation.FUNCTIONS, *conversion.FUNCTIONS,
    *creation.MORE_FUNCTIONS, *sets.FUNCTIONS, *polynomials.FUNCTIONS, *dtypes.FUNCTIONS, *integers.FUNCTIONS,
    *floating.FUNCTIONS, *index_tricks.FUNCTIONS, *manipulation.FUNCTIONS, *numerical.FUNCTIONS,
    *ufunc_methods.FUNCTIONS,
], _MIXED_FUNCTIONS)

ALL_SPECS: list[OpSpec] = PRIMITIVE_SPECS + FNP_SPECS

#: Rows of ``functrans.scipy.signal`` (run by tests/scipy/test_signal.py).
SIGNAL_SPECS: list[OpSpec] = signal.FUNCTIONS

#: One row per function of every distribution of ``functrans.scipy.stats`` (several for
#: variants), run by tests/scipy/test_stats.py.
STATS_SPECS: list[OpSpec] = stats.FUNCTIONS
