"""nn.cross_entropy and nn.nll with integer labels: values against PyTorch's definitions
computed in NumPy, on every input layout, reduction, ignore_index, label smoothing and class
weights; eager, jit and vmap agreeing (NaN for a label outside the classes where labels are not read);
derivatives by check_grads to second order; and the label's logit picked by a gather, with no
pass of a one-hot over the classes."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import functrans as ft
from functrans import nn
from functrans.testing import check_grads

LOSSES = ["cross_entropy", "nll"]
# (input shape, labels shape): one unbatched example, a batch, a batch of 2-d maps
LAYOUTS = [((5,), ()), ((6, 5), (6,)), ((3, 4, 2, 3), (3, 2, 3))]


def _log_softmax(x, axis):
    z = x - x.max(axis=axis, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=axis, keepdims=True))


def reference(name, x, labels, reduction="mean", label_smoothing=0.0, ignore_index=-100):
    """PyTorch's loss in NumPy: -((1 - e) log p_t + e mean_c log p_c) per position (``x``
    itself is log p for nll), 0 where ignored, NaN where a kept label is not a class; the mean
    runs over the kept positions."""
    axis = 0 if x.ndim == 1 else 1
    classes = x.shape[axis]
    log_p = _log_softmax(x, axis) if name == "cross_entropy" else x
    keep = labels != ignore_index
    inside = (labels >= 0) & (labels < classes)
    one_hot = np.expand_dims(labels, axis) == np.arange(classes).reshape(
        [classes if d == axis else 1 for d in range(x.ndim)])
    picked = np.where(one_hot, log_p, 0.0).sum(axis=axis)
    per = -picked
    if label_smoothing:  # (0 * -inf is NaN: only with a smoothing)
        per = -((1 - label_smoothing) * picked + label_smoothing * log_p.mean(axis=axis))
    per = np.where(keep, np.where(inside, per, np.nan), 0.0)
    if reduction == "none":
        return per
    if reduction == "sum":
        return per.sum()
    return per.sum() / keep.sum() if keep.sum() else np.nan


def loss_fn(name):
    return getattr(nn, name)


def assert_same(actual, expected, rtol=1e-12):
    """Equal to ``rtol``, with NaN in the same places."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape
    np.testing.assert_array_equal(np.isnan(actual), np.isnan(expected))
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol)


def labels_for(shape, classes, seed, ignore_index=-100, ignored=0.3):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, classes, size=shape)
    return np.where(rng.uniform(size=shape) < ignored, ignore_index, labels)


# --- values ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name", LOSSES)
@pytest.mark.parametrize("layout", LAYOUTS, ids=["C", "N,C", "N,C,d1,d2"])
def test_values_match_the_definition_for_every_reduction_and_ignore_index(backend, name, layout):
    shape, label_shape = layout
    classes = shape[0 if len(shape) == 1 else 1]
    x = np.random.default_rng(1).normal(size=shape) * 3
    smoothings = (0.0, 0.1, 1.0) if name == "cross_entropy" else (0.0,)
    for seed, ignore_index in enumerate((-100, 0, 2)):  # 0 and 2 are classes: padding labels
        labels = labels_for(label_shape, classes, seed, ignore_index)
        everything = np.full(label_shape, ignore_index)
        for target in (labels, everything):
            for reduction in ("mean", "sum", "none"):
                for e in smoothings:
                    kwargs = {"reduction": reduction, "ignore_index": ignore_index}
                    if e:
                        kwargs["label_smoothing"] = e
                    out = loss_fn(name)(backend.put(x), backend.put(target), **kwargs)
                    backend.check_placed(out)
                    assert_same(backend.get(out),
                                reference(name, x, target, reduction, e, ignore_index))


def test_every_position_ignored_gives_nan_mean_and_zero_sum_without_warnings(backend):
    x = backend.put(np.random.default_rng(2).normal(size=(4, 3)).astype(np.float32))
    labels = backend.put(np.full(4, -100))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no division-by-zero warning, eager or under jit
        for f in (nn.cross_entropy, nn.nll, ft.jit(nn.cross_entropy), ft.jit(nn.nll)):
            assert math.isnan(float(backend.get(f(x, labels))))
        value, grad = ft.jit(ft.value_and_grad(nn.cross_entropy))(x, labels)
        assert math.isnan(float(backend.get(value)))
        assert np.all(backend.get(grad) == 0.0) and grad.dtype == np.float32
    total = nn.cross_entropy(x, labels, reduction="sum")
    assert float(backend.get(total)) == 0.0


def test_float32_stays_float32_and_masked_classes_at_minus_infinity_are_fine(backend):
    x = np.random.default_rng(3).normal(size=(5, 4))
    x[:, 3] = -np.inf  # a class masked out, as for padded vocabularies
    labels = np.array([0, 2, 1, -100, 2])
    want = reference("cross_entropy", x, labels)
    for dtype, rtol in ((np.float64, 1e-12), (np.float32, 1e-5)):
        z, y = backend.put(x.astype(dtype)), backend.put(labels)
        for f in (nn.cross_entropy, ft.jit(nn.cross_entropy)):
            out = f(z, y)
            assert out.dtype == dtype
            assert_same(backend.get(out), want, rtol=rtol)
        # the smoothed target puts weight on the masked class: an infinite loss, as PyTorch's
        smoothed = nn.cross_entropy(z, y, label_smoothing=0.3)
        assert smoothed.dtype == dtype and math.isinf(float(backend.get(smoothed)))
        grad = ft.grad(lambda v, y=y: nn.cross_entropy(v, y))(z)
        assert grad.dtype == dtype and np.all(np.isfinite(backend.get(grad)))


@pytest.mark.parametrize("name", LOSSES)
def test_an_input_without_classes_is_refused(name):
    with pytest.raises(ValueError, match=rf"{name}: the input has no classes \(axis 1 of shape "
                                         rf"\(2, 0\) has length 0\)"):
        loss_fn(name)(np.zeros((2, 0)), np.array([-100, -100]))


# --- eager, jit and vmap agree --------------------------------------------------------------
@pytest.mark.parametrize("name", LOSSES)
def test_eager_jit_and_vmap_agree_and_give_nan_for_a_label_outside_the_classes(backend, name):
    x = np.random.default_rng(4).normal(size=(6, 5))
    good = np.array([0, 4, -100, 2, 3, 1])
    bad = np.array([0, 7, -100, -1, 3, 1])  # 7 and -1 are not classes
    f = loss_fn(name)
    z = backend.put(x)
    per_example = ft.vmap(lambda v, y: f(v, y, reduction="sum"))
    for labels in (good, bad):
        want = reference(name, x, labels, "none")
        y = backend.put(labels)
        assert_same(backend.get(ft.jit(lambda v, t: f(v, t, reduction="none"))(z, y)), want)
        assert_same(backend.get(per_example(z, y)), want)
        assert_same(backend.get(ft.jit(per_example)(z, y)), want)
        assert_same(backend.get(ft.jit(f)(z, y)), reference(name, x, labels))
        if backend.name != "numpy":  # labels on a device are not read: NaN, as under jit
            assert_same(backend.get(f(z, y, reduction="none")), want)
    with pytest.raises(IndexError, match=rf"{name}: label 7 at target\[1\]"):
        f(x, bad)  # host labels are read: the mistake raises
    # the same labels for every example (not batched), and batched labels into one input
    shared = ft.vmap(lambda v: f(v, np.int64(3), reduction="sum"))(z)
    assert_same(backend.get(shared), reference(name, x, np.full(6, 3), "none"))
    one_input = ft.vmap(lambda t: f(z[0], t), in_axes=0)(backend.put(np.array([1, 4, 9])))
    assert_same(backend.get(one_input), reference(name, x[[0, 0, 0]], np.array([1, 4, 9]),
                                                  "none"))


@pytest.mark.parametrize("name", LOSSES)
@pytest.mark.parametrize("dtype, classes", [(np.int8, 300), (np.uint8, 10), (np.int16, 5)])
def test_narrow_label_dtypes_under_jit(backend, name, dtype, classes):
    # more classes than int8 holds, and the default ignore_index (-100) below uint8's range:
    # the traced labels are widened before the arithmetic instead of overflowing
    x = np.random.default_rng(6).normal(size=(4, classes))
    labels = np.array([1, 3, 0, 2], dtype)
    want = reference(name, x, labels.astype(np.int64))
    z, y = backend.put((x, labels))
    assert_same(backend.get(ft.jit(loss_fn(name))(z, y)), want)
    assert_same(backend.get(loss_fn(name)(z, y)), want)


@pytest.mark.parametrize("name", LOSSES)
def test_gradients_agree_eager_jit_and_per_example_under_vmap(backend, name):
    x = backend.put(np.random.default_rng(5).normal(size=(6, 5)))
    labels = backend.put(np.array([0, 4, -100, 2, 3, 1]))
    f = loss_fn(name)
    total = ft.grad(lambda v, t: f(v, t, reduction="sum"))
    eager = backend.get(total(x, labels))
    assert_same(backend.get(ft.jit(total)(x, labels)), eager)
    assert_same(backend.get(ft.vmap(ft.grad(lambda v, t: f(v, t, reduction="sum")))(x, labels)),
                eager)
    assert_same(backend.get(ft.jit(ft.vmap(ft.grad(f)))(x, labels)), eager)
    assert np.all(eager[2] == 0.0)  # the ignored position


# --- derivatives ----------------------------------------------------------------------------
CHECKS = [("cross_entropy", {}), ("cross_entropy", {"label_smoothing": 0.2}),
          ("cross_entropy", {"reduction": "none"}), ("nll", {}), ("nll", {"reduction": "sum"})]


@pytest.mark.parametrize("name,kwargs", CHECKS, ids=lambda v: str(v) if v else "defaults")
def test_derivatives_to_second_order_in_both_modes(backend, name, kwargs):
    rng = np.random.default_rng(6)
    for (shape, label_shape), seed in zip(LAYOUTS, range(3)):
        classes = shape[0 if len(shape) == 1 else 1]
        x = backend.put(rng.normal(size=shape))
        labels = backend.put(labels_for(label_shape, classes, seed, ignored=0.25))
        if label_shape == () and float(backend.get(labels)) == -100 and kwargs == {}:
            labels = backend.put(np.array(2))
        check_grads(lambda v, t=labels: loss_fn(name)(v, t, **kwargs), (x,), order=2)


# --- the program ----------------------------------------------------------------------------
@pytest.mark.parametrize("name", LOSSES)
def test_the_label_is_picked_by_a_gather_not_a_one_hot_over_the_classes(name):
    x = np.random.default_rng(7).normal(size=(6, 5)).astype(np.float32)
    labels = np.array([0, 4, -100, 2, 3, 1])
    text = str(ft.make_jaxpr(ft.value_and_grad(loss_fn(name)))(x, labels))
    assert "gather" in text and "scatter_add" in text
    assert "bool[6,5]" not in text  # no one-hot, no test of the labels over the classes
    # the classes are reduced over by logsumexp only (its maximum and its sum), never to
    # find the label's entry
    reductions = text.count("reduce_max[axes=(1,)]") + text.count("reduce_sum[axes=(1,)]")
    assert reductions == (2 if name == "cross_entropy" else 0)


# --- class weights --------------------------------------------------------------------------
def weighted_reference(name, x, target, weight, reduction="mean", label_smoothing=0.0,
                       ignore_index=-100):
    """PyTorch's weighted loss in NumPy. Labels: (1 - e) w[t] (-log p_t) + e / C sum_c w_c
    (-log p_c) per position, 0 where ignored; the mean divides by the sum of w[t] over the
    kept positions. Probabilities: -sum_c w_c q_c log p_c with q the smoothed target; the mean
    is over positions."""
    axis = 0 if x.ndim == 1 else 1
    classes = x.shape[axis]
    log_p = _log_softmax(x, axis) if name == "cross_entropy" else x
    w = weight.reshape([classes if d == axis else 1 for d in range(x.ndim)])
    e = label_smoothing
    if target.shape == x.shape:
        per = -(w * (target * (1 - e) + e / classes) * log_p).sum(axis=axis)
        return {"none": per, "sum": per.sum(), "mean": per.sum() / (x.size / classes)}[reduction]
    keep = target != ignore_index
    safe = np.where(keep, target, 0)
    one_hot = np.expand_dims(safe, axis) == np.arange(classes).reshape(w.shape)
    w_t = weight[safe] * keep
    per = -(1 - e) * w_t * np.where(one_hot, log_p, 0.0).sum(axis=axis)
    per = per - e / classes * (w * log_p).sum(axis=axis) * keep
    if reduction == "none":
        return per
    return per.sum() if reduction == "sum" else per.sum() / w_t.sum()


@pytest.mark.parametrize("name", LOSSES)
@pytest.mark.parametrize("layout", LAYOUTS, ids=["C", "N,C", "N,C,d1,d2"])
def test_class_weights_match_pytorch_with_ignore_index_and_smoothing(name, layout):
    # PyTorch's weight: the mean divides by the labels' weights, not by the count
    shape, label_shape = layout
    classes = shape[0 if len(shape) == 1 else 1]
    rng = np.random.default_rng(11)
    x = rng.normal(size=shape) * 2
    weight = rng.uniform(0.1, 3.0, classes)
    smoothings = (0.0, 0.15, 1.0) if name == "cross_entropy" else (0.0,)
    for seed, ignore_index in enumerate((-100, 1)):
        labels = labels_for(label_shape, classes, seed, ignore_index)
        if label_shape == () and labels == ignore_index:
            labels = np.array(classes - 1)
        for reduction in ("mean", "sum", "none"):
            for e in smoothings:
                kwargs = {"reduction": reduction, "ignore_index": ignore_index, "weight": weight}
                if e:
                    kwargs["label_smoothing"] = e
                want = weighted_reference(name, x, labels, weight, reduction, e, ignore_index)
                assert_same(loss_fn(name)(x, labels, **kwargs), want)
                assert_same(ft.jit(lambda v, t, kw=kwargs: loss_fn(name)(v, t, **kw))(x, labels), want)
    if name == "cross_entropy":
        probs = rng.dirichlet(np.ones(classes), size=shape[:1] + shape[2:] if len(shape) > 1 else ())
        probs = np.moveaxis(probs, -1, 0 if len(shape) == 1 else 1)
        for reduction in ("mean", "sum", "none"):
            for e in (0.0, 0.3):
                assert_same(nn.cross_entropy(x, probs, e, reduction, weight=weight),
                            weighted_reference(name, x, probs, weight, reduction, e))


def test_class_weights_under_vmap_grad_and_float32():
    rng = np.random.default_rng(12)
    x = rng.normal(size=(3, 6, 4))
    labels = labels_for((3, 6), 4, 5, ignore_index=2)
    weight = np.array([0.5, 2.0, 1.0, 3.0])

    def loss(v, t, w=weight):
        return nn.cross_entropy(v, t, 0.1, ignore_index=2, weight=w)

    got = ft.vmap(loss)(x, labels)
    for i in range(3):
        assert_same(got[i], weighted_reference("cross_entropy", x[i], labels[i], weight, "mean",
                                               0.1, 2))
    check_grads(lambda v, w: loss(v, labels[0], w), (x[0], weight), order=2)
    x32 = x[0].astype(np.float32)
    assert loss(x32, labels[0]).dtype == np.float32  # a float64 weight takes the logits' dtype
    assert ft.grad(loss)(x32, labels[0]).dtype == np.float32
    # every position ignored: NaN, as PyTorch
    assert math.isnan(float(loss(x[0], np.full(6, 2))))


def test_class_weights_of_another_length_and_ignore_index_with_probabilities_are_refused():
    x = np.zeros((2, 3))
    with pytest.raises(ValueError, match=r"weight must have one entry per class, shape \(3,\), got \(2,\)"):
        nn.cross_entropy(x, np.array([0, 1]), weight=np.ones(2))
    with pytest.raises(ValueError, match=r"nll: weight must have one entry per class"):
        nn.nll(x, np.array([0, 1]), weight=np.ones((1, 3)))
    with pytest.raises(ValueError, match=r"ignore_index \(0\) is for integer labels"):
        nn.cross_entropy(x, np.full((2, 3), 1 / 3), ignore_index=0)
