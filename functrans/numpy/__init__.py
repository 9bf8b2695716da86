"""NumPy's API, differentiable: ``import functrans.numpy as fnp``.

Every function works on plain arrays (returning what NumPy returns) and on traced arrays
inside ``grad``, ``jvp`` and the other transformations. All are built from functrans
primitives; this package defines no derivative rules of its own. The modules follow NumPy's
own topics (creation, shape, joining, indexing, the elementwise families, reductions,
statistics, cumulative operations, sorting, set routines, products, convolution, windows,
polynomials, padding, data types, floating-point error settings, linalg, fft).
"""
from __future__ import annotations

import sys as _sys

import numpy as _np

from functrans.numpy import _array_methods, _ufunc_methods, fft, linalg
from functrans.numpy._arithmetic import (
    abs,
    add,
    cbrt,
    clip,
    copysign,
    divide,
    divmod,
    fabs,
    float_power,
    floor_divide,
    fmax,
    fmin,
    fmod,
    heaviside,
    maximum,
    minimum,
    mod,
    multiply,
    nan_to_num,
    negative,
    positive,
    power,
    reciprocal,
    rsqrt,
    sign,
    sqrt,
    square,
    subtract,
)
from functrans.numpy._arithmetic import abs as absolute
from functrans.numpy._arithmetic import divide as true_divide
from functrans.numpy._arithmetic import mod as remainder
from functrans.numpy._arithmetic import power as pow
from functrans.numpy._bitwise import (
    bitwise_and,
    bitwise_count,
    bitwise_or,
    bitwise_xor,
    gcd,
    invert,
    lcm,
    left_shift,
    right_shift,
)
from functrans.numpy._bitwise import invert as bitwise_invert
from functrans.numpy._bitwise import invert as bitwise_not
from functrans.numpy._bitwise import left_shift as bitwise_left_shift
from functrans.numpy._bitwise import right_shift as bitwise_right_shift
from functrans.numpy._complex import (
    angle,
    conj,
    imag,
    iscomplex,
    iscomplexobj,
    isreal,
    isrealobj,
    real,
    real_if_close,
)
from functrans.numpy._complex import conj as conjugate
from functrans.numpy._convolve import convolve, correlate
from functrans.numpy._creation import (
    arange,
    array,
    asanyarray,
    asarray,
    asarray_chkfinite,
    ascontiguousarray,
    asfortranarray,
    copy,
    diag,
    diagflat,
    empty,
    empty_like,
    eye,
    fromfunction,
    fromiter,
    full,
    full_like,
    geomspace,
    identity,
    linspace,
    logspace,
    meshgrid,
    ones,
    ones_like,
    tri,
    tril,
    triu,
    vander,
    zeros,
    zeros_like,
)
from functrans.numpy._cumulative import (
    cumprod,
    cumsum,
    cumulative_prod,
    cumulative_sum,
    diff,
    ediff1d,
    gradient,
    nancumprod,
    nancumsum,
    trapezoid,
)
from functrans.numpy._dtypes import (
    False_,
    ScalarType,
    True_,
    astype,
    bool_,
    byte,
    can_cast,
    cdouble,
    common_type,
    complex64,
    complex128,
    complexfloating,
    csingle,
    double,
    dtype,
    euler_gamma,
    finfo,
    float16,
    float32,
    float64,
    floating,
    generic,
    half,
    iinfo,
    inexact,
    int8,
    int16,
    int32,
    int64,
    int_,
    intc,
    integer,
    intp,
    isdtype,
    issubdtype,
    little_endian,
    long,
    longlong,
    min_scalar_type,
    mintypecode,
    number,
    promote_types,
    result_type,
    sctypeDict,
    short,
    signedinteger,
    single,
    typecodes,
    typename,
    ubyte,
    uint,
    uint8,
    uint16,
    uint32,
    uint64,
    uintc,
    uintp,
    ulong,
    ulonglong,
    unsignedinteger,
    ushort,
)
from functrans.numpy._dtypes import bool_ as bool
from functrans.numpy._errstate import errstate, geterr, geterrcall, seterr, seterrcall
from functrans.numpy._exponential import (
    exp,
    exp2,
    expm1,
    i0,
    log,
    log1p,
    log2,
    log10,
    logaddexp,
    logaddexp2,
    logistic,
)
from functrans.numpy._floating import frexp, ldexp, modf, nextafter, spacing
from functrans.numpy._functional import apply_along_axis, apply_over_axes, piecewise, vectorize
from functrans.numpy._histograms import (
    bincount,
    digitize,
    histogram,
    histogram2d,
    histogram_bin_edges,
    histogramdd,
)
from functrans.numpy._index_tricks import (
    argwhere,
    compress,
    diag_indices,
    diag_indices_from,
    extract,
    fill_diagonal,
    index_exp,
    indices,
    ix_,
    mask_indices,
    mgrid,
    ndindex,
    ogrid,
    place,
    put,
    ravel_multi_index,
    s_,
    tril_indices,
    tril_indices_from,
    triu_indices,
    triu_indices_from,
    unravel_index,
)
from functrans.numpy._indexing import (
    at,
    c_,
    choose,
    diagonal,
    getitem,
    nonzero,
    put_along_axis,
    r_,
    select,
    take,
    take_along_axis,
    where,
)
from functrans.numpy._interpolation import interp
from functrans.numpy._joining import (
    append,
    array_split,
    column_stack,
    concatenate,
    dsplit,
    dstack,
    hsplit,
    hstack,
    repeat,
    split,
    stack,
    tile,
    vsplit,
    vstack,
)
from functrans.numpy._joining import concatenate as concat
from functrans.numpy._joining import vstack as row_stack
from functrans.numpy._logic import (
    allclose,
    array_equal,
    array_equiv,
    equal,
    greater,
    greater_equal,
    isclose,
    isfinite,
    isinf,
    isnan,
    isneginf,
    isposinf,
    isscalar,
    iterable,
    less,
    less_equal,
    logical_and,
    logical_not,
    logical_or,
    logical_xor,
    not_equal,
    signbit,
)
from functrans.numpy._manipulation import (
    block,
    broadcast_shapes,
    delete,
    insert,
    matrix_transpose,
    resize,
    trim_zeros,
    unstack,
)
from functrans.numpy._padding import pad
from functrans.numpy._polynomial import (
    poly,
    polyadd,
    polyder,
    polydiv,
    polyfit,
    polyint,
    polymul,
    polysub,
    polyval,
    roots,
)
from functrans.numpy._products import (
    cross,
    dot,
    einsum,
    einsum_path,
    inner,
    kron,
    matmul,
    matvec,
    outer,
    tensordot,
    vdot,
    vecdot,
    vecmat,
)
from functrans.numpy._reductions import (
    all,
    any,
    argmax,
    argmin,
    count_nonzero,
    logsumexp,
    max,
    min,
    nanargmax,
    nanargmin,
    nanmax,
    nanmin,
    nanprod,
    nansum,
    prod,
    sum,
    trace,
)
from functrans.numpy._reductions import max as amax
from functrans.numpy._reductions import min as amin
from functrans.numpy._rounding import ceil, floor, rint, round, trunc
from functrans.numpy._rounding import round as around
from functrans.numpy._rounding import trunc as fix
from functrans.numpy._sets import (
    intersect1d,
    isin,
    setdiff1d,
    setxor1d,
    union1d,
    unique_all,
    unique_counts,
    unique_inverse,
    unique_values,
)
from functrans.numpy._shape import (
    atleast_1d,
    atleast_2d,
    atleast_3d,
    broadcast_arrays,
    broadcast_to,
    expand_dims,
    flip,
    fliplr,
    flipud,
    moveaxis,
    ndim,
    ravel,
    reshape,
    roll,
    rollaxis,
    rot90,
    shape,
    size,
    squeeze,
    swapaxes,
    transpose,
)
from functrans.numpy._shape import transpose as permute_dims
from functrans.numpy._sorting import (
    argpartition,
    argsort,
    flatnonzero,
    lexsort,
    partition,
    searchsorted,
    sort,
    sort_complex,
    unique,
)
from functrans.numpy._statistics import (
    average,
    corrcoef,
    cov,
    mean,
    median,
    nanmean,
    nanmedian,
    nanpercentile,
    nanquantile,
    nanstd,
    nanvar,
    percentile,
    ptp,
    quantile,
    std,
    var,
)
from functrans.numpy._trigonometric import (
    arccos,
    arccosh,
    arcsin,
    arcsinh,
    arctan,
    arctan2,
    arctanh,
    cos,
    cosh,
    deg2rad,
    hypot,
    rad2deg,
    sin,
    sinc,
    sinh,
    tan,
    tanh,
    unwrap,
)
from functrans.numpy._trigonometric import arccos as acos
from functrans.numpy._trigonometric import arccosh as acosh
from functrans.numpy._trigonometric import arcsin as asin
from functrans.numpy._trigonometric import arcsinh as asinh
from functrans.numpy._trigonometric import arctan as atan
from functrans.numpy._trigonometric import arctan2 as atan2
from functrans.numpy._trigonometric import arctanh as atanh
from functrans.numpy._trigonometric import deg2rad as radians
from functrans.numpy._trigonometric import rad2deg as degrees
from functrans.numpy._util import refuse_out_everywhere as _refuse_out_everywhere
from functrans.numpy._window import bartlett, blackman, hamming, hanning, kaiser

# NumPy's constants and array type, as NumPy has them.
pi, e, inf, nan, newaxis = _np.pi, _np.e, _np.inf, _np.nan, None
ndarray = _np.ndarray

_array_methods._install(_sys.modules[__name__])
_ufunc_methods.install(globals())
_refuse_out_everywhere(globals(), _np)
