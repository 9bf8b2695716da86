"""The primitive set. Importing this package registers every family; ``*_p`` are exported."""
from functrans.primitives import _define, conversion, elementwise, indexing, linalg, reduction, shape
from functrans.primitives.conversion import (
    constant_like_p, convert_element_type_p, full_like_p, stop_gradient_p,
)
from functrans.primitives.elementwise import (
    abs_p, add_p, conj_p, cos_p, div_p, eq_p, exp_p, expm1_p, ge_p, gt_p, imag_p, integer_pow_p,
    le_p, log1p_p, log_p, logistic_p, lt_p, max_p, min_p, mul_p, ne_p, neg_p, pow_p, real_p,
    rsqrt_p, select_p, sign_p, sin_p, sqrt_p, sub_p, tan_p, tanh_p,
)
from functrans.primitives.indexing import gather_p, scatter_add_p, scatter_p
from functrans.primitives.linalg import dot_general_p
from functrans.primitives.reduction import (
    argmax_p, argmin_p, reduce_max_p, reduce_min_p, reduce_prod_p, reduce_sum_p,
)
from functrans.primitives.shape import (
    broadcast_in_dim_p, concatenate_p, expand_dims_p, pad_p, reshape_p, rev_p, slice_p,
    squeeze_p, transpose_p,
)

from functrans.primitives.elementwise_more import (  # noqa: E402
    arccos_p, arccosh_p, arcsin_p, arcsinh_p, arctan2_p, arctan_p, arctanh_p, cbrt_p, ceil_p,
    cosh_p, exp2_p, floor_divide_p, floor_p, fmod_p, hypot_p, isfinite_p, isinf_p, isnan_p,
    log10_p, log2_p, logaddexp2_p, logaddexp_p, logical_and_p, logical_not_p, logical_or_p,
    logical_xor_p, mod_p, rint_p, round_p, signbit_p, sinc_derivative_p, sinc_p, sinc_second_p,
    sinh_p, trunc_p,
)
from functrans.primitives.cumulative import cumsum_p  # noqa: E402
from functrans.primitives.sorting import argsort_p, searchsorted_p  # noqa: E402
from functrans.primitives.linalg_ops import (  # noqa: E402
    cholesky_p, det_p, eig_p, eigh_p, pinv_p, qr_p, slogdet_p, solve_p, svd_p, triangular_solve_p,
)
from functrans.primitives.fft import fft_p  # noqa: E402
from functrans.primitives.opaque import opaque_call_p  # noqa: E402
from functrans.primitives.special import (  # noqa: E402
    digamma_p, erf_p, erfc_p, erfinv_p, i0_p, i0e_p, i1_p, i1e_p, lgamma_p, log_ndtr_p, polygamma_p,
    xlog1py_p, xlogy_p,
)

_define._late_bind()


def all_primitives():
    """Every registered primitive, for the registry-completeness test."""
    from functrans.core.primitive import Primitive

    return [v for v in globals().values() if isinstance(v, Primitive)]


__all__ = [name for name in dir() if name.endswith("_p")] + ["all_primitives"]
_ = (conversion, elementwise, indexing, linalg, reduction, shape)
