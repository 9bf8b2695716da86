"""The primitive set: importing this package registers every family, and it exports each
primitive object (``*_p``) and ``all_primitives()``.

The modules, each importing only those above it in this list: ``_shapes`` (the shape
arithmetic the rules remember per shape), ``_define`` (the registrars, the batch-rule helpers,
and the eight primitives they are written in), ``elementwise``,
``conversion``, ``shape``, ``cumulative``, ``reduction``, ``indexing``, ``sorting``, ``dot``,
``scatter_ufunc``, ``linalg``, ``fft``, ``special``, ``hypergeometric``, ``opaque``, ``recurrent``.
"""
from functrans.core.primitive import Primitive
from functrans.primitives.conversion import (
    constant_like_p,
    convert_element_type_p,
    full_like_p,
    stop_gradient_p,
    to_device_of_p,
)
from functrans.primitives.cumulative import cumsum_p
from functrans.primitives.dot import dot_general_p
from functrans.primitives.elementwise import (
    abs_p,
    add_p,
    arccos_p,
    arccosh_p,
    arcsin_p,
    arcsinh_p,
    arctan2_p,
    arctan_p,
    arctanh_p,
    cbrt_p,
    ceil_p,
    conj_p,
    cos_p,
    cosh_p,
    div_p,
    eq_p,
    exp2_p,
    exp_p,
    expm1_p,
    floor_divide_p,
    floor_p,
    fmod_p,
    ge_p,
    gt_p,
    hypot_p,
    imag_p,
    integer_pow_p,
    isfinite_p,
    isinf_p,
    isnan_p,
    le_p,
    log1p_p,
    log2_p,
    log10_p,
    log_p,
    logaddexp2_p,
    logaddexp_p,
    logical_and_p,
    logical_not_p,
    logical_or_p,
    logical_xor_p,
    logistic_p,
    lt_p,
    max_p,
    min_p,
    mod_p,
    mul_p,
    ne_p,
    neg_p,
    pow_p,
    real_p,
    rint_p,
    round_p,
    rsqrt_p,
    select_p,
    sign_p,
    signbit_p,
    sin_p,
    sinc_derivative_p,
    sinc_p,
    sinc_second_p,
    sinh_p,
    sqrt_p,
    sub_p,
    tan_p,
    tanh_p,
    trunc_p,
)
from functrans.primitives.fft import fft_p
from functrans.primitives.hypergeometric import hyp1f1_p, hyp2f1_p
from functrans.primitives.indexing import gather_p, scatter_add_p, scatter_p
from functrans.primitives.linalg import (
    adjugate_p,
    cholesky_p,
    det_p,
    eig_p,
    eigh_p,
    expm_frechet_p,
    expm_p,
    lu_p,
    lu_pivots_to_permutation_p,
    pinv_p,
    qr_p,
    slogdet_p,
    solve_p,
    sqrtm_p,
    svd_p,
    sylvester_p,
    triangular_solve_p,
)
from functrans.primitives.opaque import opaque_call_p
from functrans.primitives.recurrent import (
    gru_cell_fwd_p,
    gru_cell_jvp_p,
    gru_cell_p,
    gru_cell_vjp_p,
    lstm_cell_jvp_p,
    lstm_cell_p,
    lstm_cell_vjp_p,
)
from functrans.primitives.reduction import (
    argmax_p,
    argmin_p,
    reduce_max_p,
    reduce_min_p,
    reduce_prod_p,
    reduce_sum_p,
)
from functrans.primitives.scatter_ufunc import scatter_ufunc_p
from functrans.primitives.shape import (
    broadcast_in_dim_p,
    concatenate_p,
    expand_dims_p,
    pad_p,
    reshape_p,
    rev_p,
    slice_p,
    squeeze_p,
    transpose_p,
)
from functrans.primitives.sorting import argsort_p, searchsorted_p
from functrans.primitives.special import (
    betainc_p,
    betaln_p,
    dawsn_p,
    digamma_p,
    erf_p,
    erfc_p,
    erfcx_p,
    erfinv_p,
    exp1_p,
    expi_p,
    expn_p,
    gamma_p,
    gammainc_grad_a_p,
    gammainc_p,
    gammaincc_p,
    gammaincinv_p,
    i0_p,
    i0e_p,
    i1_p,
    i1e_p,
    j0_p,
    j1_p,
    lgamma_p,
    log_ndtr_p,
    ndtri_p,
    poch_p,
    polygamma_p,
    sici_ci_p,
    sici_si_p,
    spence_p,
    wofz_p,
    xlog1py_p,
    xlogy_p,
    zeta_p,
)


def all_primitives() -> list[Primitive]:
    """Every registered primitive (for the registry-completeness tests).

    Example:
        >>> "dot_general" in {p.name for p in all_primitives()}
        True
    """
    return [v for v in globals().values() if isinstance(v, Primitive)]


__all__ = [name for name in dir() if name.endswith("_p")] + ["all_primitives"]
