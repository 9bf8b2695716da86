"""functrans.optim.losses: optax's losses against optax's own numbers, jit-staged, float32,
and their derivatives against finite differences (both modes, second order)."""
import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans import optim
from functrans.testing import check_grads

L = optim.losses
P = np.array([[0.5, -1.5, 2.0], [1.25, 0.0, -0.75]])
T = np.array([[1.0, -0.5, 0.25], [-1.0, 0.5, -0.75]])
LG = np.array([[1.0, -2.0, 0.5], [0.25, 3.0, -1.0]])
PR = np.array([[0.2, 0.5, 0.3], [0.6, 0.0, 0.4]])
IL = np.array([2, 0])
BL = np.array([[1.0, 0.0, 1.0], [0.0, 0.0, 1.0]])
PM = np.array([[1.0, -1.0, 1.0], [-1.0, 1.0, 1.0]])
W = np.array([[True, False, True], [False, True, True]])
L4 = np.arange(12.0).reshape(2, 2, 3) * 0.3 - 1.5
CL = np.sin(np.arange(2 * 5 * 4).reshape(2, 5, 4) * 0.7) * 2
LP = np.array([[0, 0, 0, 0, 0], [0, 0, 0, 1, 1.0]])
LAB = np.array([[1, 2, 2], [3, 1, 0]])
LABP = np.array([[0, 0, 0], [0, 0, 1.0]])

# Computed offline with optax 0.2.8 (jax 0.10.2, jax_enable_x64) as optax.losses.<name> with the
# same arguments as CASES (the "_axis0"/"_axes" entries: the calls named there).
OPTAX = {
    "squared_error": [[0.25, 1.0, 3.0625], [5.0625, 0.25, 0.0]],
    "l2_loss": [[0.125, 0.5, 1.53125], [2.53125, 0.125, 0.0]],
    "huber_loss": [[0.125, 0.45499999999999996, 0.98], [1.3299999999999998, 0.125, 0.0]],
    "log_cosh": [[0.12011450695827752, 0.4337808304830272, 1.086603237712675],
        [1.5679005642886485, 0.12011450695827752, 0.0]],
    "cosine_similarity": [0.5991446895152781, -0.3503113654141651],
    "cosine_distance": [0.5294117647058824, 0.16794970566215628],
    "sigmoid_binary_cross_entropy": [[0.3132616875182228, 0.1269280110429725, 0.4740769841801067],
        [0.8259394198788437, 3.048587351573742, 1.3132616875182228]],
    "sigmoid_focal_loss": [[0.36930895977718176, 0.19921460962938867, 0.201121383850976],
        [0.10355442714255694, 2.1257298879734954, 0.11991996832134495]],
    "hinge_loss": [[0.5, 0.0, 0.0], [2.25, 1.0, 1.75]],
    "perceptron_loss": [[0.0, 0.0, 0.0], [1.25, 0.0, 0.75]],
    "softmax_cross_entropy": [0.38703849209005337, 1.6072599711671238],
    "softmax_cross_entropy_axis0": [0.75949680489192, 2.503357674244559, 0.7409892945879267],
    "softmax_cross_entropy_with_integer_labels": [0.9740769841801067, 2.76814992791781],
    "integer_labels_axes": [1.7695440446382122, 1.1695440446382124],
    "safe_softmax_cross_entropy": [2.1545969023422833, 0.751929081345373],
    "poly_loss_cross_entropy": [0.7804073917703315, 2.1964682451898687],
    "multiclass_hinge_loss": [1.5, 3.75],
    "multiclass_perceptron_loss": [0.5, 2.75],
    "smooth_labels": [[0.23000000000000004, 0.5, 0.32], [0.5900000000000001, 0.05, 0.41000000000000003]],
    "kl_divergence": [0.4009186753881792, 0.41588830833596707],
    "kl_divergence_with_log_targets": [0.7316089028949879, 0.5255043310053418],
    "generalized_kl_divergence": [6.567760349219263, 1.4628743655840477],
    "convex_kl_divergence": [6.567760349219263, 1.4628743655840477],
    "ctc_loss": [4.739962486085815, 2.0026873992429386],
}

def _c(constant, like):
    """A float constant in the dtype of the differentiated array ``like``."""
    return constant.astype(like.dtype)


# name -> (function of the differentiated float arrays, those arrays); the float constants
# follow the arrays' dtype, so that float32 inputs make a float32 problem
CASES = {
    "squared_error": (lambda p: L.squared_error(p, _c(T, p)), (P,)),
    "l2_loss": (lambda p: L.l2_loss(p, _c(T, p)), (P,)),
    "huber_loss": (lambda p: L.huber_loss(p, _c(T, p), delta=0.7), (P,)),
    "log_cosh": (lambda p: L.log_cosh(p, _c(T, p)), (P,)),
    "cosine_similarity": (lambda p, t: L.cosine_similarity(p, t, epsilon=0.1), (P, T)),
    "cosine_distance": (lambda p, t: L.cosine_distance(p, t, where=W), (P, T)),
    "sigmoid_binary_cross_entropy": (lambda x: L.sigmoid_binary_cross_entropy(x, BL), (LG,)),
    "sigmoid_focal_loss": (lambda x: L.sigmoid_focal_loss(x, _c(PR, x), alpha=0.25, gamma=1.5),
                           (LG,)),
    "hinge_loss": (lambda p: L.hinge_loss(p, _c(PM, p)), (P,)),
    "perceptron_loss": (lambda p: L.perceptron_loss(p, _c(PM, p)), (P,)),
    "softmax_cross_entropy": (lambda x, y: L.softmax_cross_entropy(x, y, where=W), (LG, PR)),
    "softmax_cross_entropy_axis0": (lambda x, y: L.softmax_cross_entropy(x, y, axis=0), (LG, PR)),
    "softmax_cross_entropy_with_integer_labels": (
        lambda x: L.softmax_cross_entropy_with_integer_labels(x, IL, where=W), (LG,)),
    "integer_labels_axes": (lambda x: L.softmax_cross_entropy_with_integer_labels(
        x, np.array([3, 5]), axis=(1, 2)), (L4,)),
    "safe_softmax_cross_entropy": (
        lambda x: L.safe_softmax_cross_entropy(fnp.where(PR == 0, -np.inf, x), _c(PR, x)), (LG,)),
    "poly_loss_cross_entropy": (
        lambda x, y: L.poly_loss_cross_entropy(x, y, epsilon=1.5, where=W), (LG, PR)),
    "multiclass_hinge_loss": (lambda x: L.multiclass_hinge_loss(x, IL), (LG,)),
    "multiclass_perceptron_loss": (lambda x: L.multiclass_perceptron_loss(x, IL), (LG,)),
    "smooth_labels": (lambda y: L.smooth_labels(y, 0.1, where=W), (PR,)),
    "kl_divergence": (lambda q: L.kl_divergence(fnp.log(q[::-1] + 0.1), _c(PR, q)), (PR,)),
    "kl_divergence_with_log_targets": (
        lambda q, r: L.kl_divergence_with_log_targets(fnp.log(q[::-1] + 0.1), fnp.log(r + 0.1)),
        (PR, PR)),
    "generalized_kl_divergence": (lambda p, t: L.generalized_kl_divergence(p, fnp.abs(t)), (P, T)),
    "convex_kl_divergence": (lambda p, t: L.convex_kl_divergence(p, fnp.abs(t)), (P, T)),
    "ctc_loss": (lambda x: L.ctc_loss(x, LP, LAB, LABP), (CL,)),
}
# kinks (max, abs) at the sample points: no finite-difference check there
NOT_SMOOTH = {"hinge_loss", "perceptron_loss", "multiclass_hinge_loss",
              "multiclass_perceptron_loss", "huber_loss"}


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_optax_eagerly_and_under_jit(name):
    fn, args = CASES[name]
    np.testing.assert_allclose(fn(*args), OPTAX[name], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(ft.jit(fn)(*args), OPTAX[name], rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", sorted(CASES))
def test_float32_stays_float32(name):
    fn, args = CASES[name]
    out = fn(*(a.astype(np.float32) for a in args))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, OPTAX[name], rtol=2e-5, atol=2e-5)


@pytest.mark.parametrize("name", sorted(set(CASES) - NOT_SMOOTH))
def test_derivatives_match_finite_differences(name):
    fn, args = CASES[name]
    check_grads(lambda *a: fnp.sum(fn(*a) * np.linspace(0.5, 1.5, fn(*args).size).reshape(
        fn(*args).shape)), args, order=2)


def test_piecewise_losses_have_the_one_sided_derivatives_away_from_kinks():
    p = np.array([0.5, 2.0, -1.0])
    np.testing.assert_array_equal(ft.grad(lambda p: fnp.sum(L.hinge_loss(p, np.ones(3))))(p),
                                  [-1.0, 0.0, -1.0])
    g = ft.grad(lambda p: fnp.sum(L.huber_loss(p, delta=1.0)))(p)
    np.testing.assert_array_equal(g, [0.5, 1.0, -1.0])
    check_grads(lambda p: L.huber_loss(p, T, delta=0.7), (P + 0.01,), order=2)


def test_vmap_over_examples_gives_the_batched_losses():
    per_example = ft.vmap(lambda x, y: L.softmax_cross_entropy_with_integer_labels(x, y))(LG, IL)
    np.testing.assert_allclose(per_example, L.softmax_cross_entropy_with_integer_labels(LG, IL),
                               rtol=1e-15)
    ctc = ft.vmap(lambda x, p, y, q: L.ctc_loss(x[None], p[None], y[None], q[None])[0])(
        CL, LP, LAB, LABP)
    np.testing.assert_allclose(ctc, OPTAX["ctc_loss"], rtol=1e-12)


def test_ctc_loss_is_minus_log_of_the_summed_alignments():
    # 3 frames, classes {blank, 1, 2}, labels "1 2": brute force over the 27 frame labellings.
    rng = np.random.default_rng(5)
    logits = rng.normal(size=(1, 3, 3))
    log_p = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    total = 0.0
    for path in np.ndindex(3, 3, 3):
        merged = [c for i, c in enumerate(path) if i == 0 or c != path[i - 1]]
        if [c for c in merged if c != 0] == [1, 2]:
            total += np.exp(sum(log_p[0, t, c] for t, c in enumerate(path)))
    loss = L.ctc_loss(logits, np.zeros((1, 3)), np.array([[1, 2]]), np.zeros((1, 2)))
    np.testing.assert_allclose(loss, [-np.log(total)], rtol=1e-10)


def test_errors_name_the_argument_and_the_fix():
    with pytest.raises(TypeError, match="labels must be integers.*use softmax_cross_entropy"):
        L.softmax_cross_entropy_with_integer_labels(LG, np.array([1.0, 0.0]))
    with pytest.raises(ValueError, match=r"labels must be in \[0, 3\), got values from 0 to 3"):
        L.softmax_cross_entropy_with_integer_labels(LG, np.array([3, 0]))
    with pytest.raises(ValueError, match=r"labels of shape \(3,\) do not fit logits of shape"):
        L.softmax_cross_entropy_with_integer_labels(LG, np.array([0, 1, 2]))
    with pytest.raises(TypeError, match="predictions must have a floating dtype"):
        L.squared_error(np.array([1, 2]))
    with pytest.raises(ValueError, match="must have the same shape"):
        L.l2_loss(P, T[0])
    with pytest.raises(ValueError, match=r"logit_paddings must have shape \(B, T\)"):
        L.ctc_loss(CL, LP[:, :3], LAB, LABP)
    for blank in (-1, CL.shape[-1]):  # (-1 read the last class, K an IndexError)
        with pytest.raises(ValueError, match=rf"blank_id must be a class, in \[0, {CL.shape[-1]}\)"):
            L.ctc_loss(CL, LP, LAB, LABP, blank_id=blank)
    with pytest.raises(ValueError, match="delta must be positive, got -1"):
        L.huber_loss(np.array([3.0]), delta=-1)  # (it gave -3.5)


def test_ctc_loss_stages_one_step_for_all_frames_and_differentiates():
    # A Python loop over the frames staged T copies of the step under jit; the scan stages one.
    def program(frames):
        x = np.zeros((2, frames, 4))
        return ft.make_jaxpr(L.ctc_loss)(x, np.zeros((2, frames)), LAB[:, :2], LABP[:, :2])
    assert len(program(50).eqns) == len(program(5).eqns)
    rng = np.random.default_rng(3)
    logits = rng.normal(size=(2, 50, 4))
    paddings = np.zeros((2, 50))
    paddings[1, 31:] = 1.0
    labels = np.array([[1, 3, 3, 2], [2, 2, 1, 0]])
    label_paddings = np.array([[0, 0, 0, 0], [0, 0, 0, 1.0]])
    loss = ft.jit(L.ctc_loss)(logits, paddings, labels, label_paddings)
    np.testing.assert_allclose(loss, L.ctc_loss(logits, paddings, labels, label_paddings),
                               rtol=1e-13)
    check_grads(lambda x: L.ctc_loss(x, paddings, labels, label_paddings), (logits,), order=1)
    # frames past a sequence's end take no part: their gradient is exactly 0
    g = ft.grad(lambda x: fnp.sum(L.ctc_loss(x, paddings, labels, label_paddings)))(logits)
    assert np.all(g[1, 31:] == 0) and np.all(g[1, :31] != 0)


def test_elementwise_losses_refuse_labels_that_enlarge_the_shape():
    # (N, 1) logits against (N,) labels broadcast to an (N, N) loss: every logit against
    # every label, summed or averaged without a word.
    logits, labels = np.array([[0.5], [-1.0], [2.0]]), np.array([1.0, 0.0, 1.0])
    for fn, name in ((L.sigmoid_binary_cross_entropy, "labels"), (L.sigmoid_focal_loss, "labels"),
                     (L.hinge_loss, "targets")):
        with pytest.raises(ValueError, match=rf"{fn.__name__}: {name} of shape \(3,\) must "
                                             rf"broadcast to the shape of .*\(3, 1\)"):
            fn(logits, labels)
        assert fn(logits, labels[:, None]).shape == (3, 1)
        assert fn(logits[:, 0], 1.0).shape == (3,)  # a scalar label still broadcasts
    np.testing.assert_allclose(L.sigmoid_binary_cross_entropy(logits, labels[:, None])[:, 0],
                               np.log1p(np.exp(-logits[:, 0] * (2 * labels - 1))), rtol=1e-14)
