"""Optimizers as pure functions: ``init(params) -> state``, ``update(grads, state, params)
-> (updates, state)``, and [`apply_updates`][functrans.optim.apply_updates] to add the updates to the parameters.

Optimizers (``sgd``, ``adam``, ``adamw``, ``rmsprop``, ``adagrad``, ``lion``, ``lamb``,
``adabelief``, ``nadam``, ``nadamw``, ``radam``, ``adamax``, ``adamaxw``, ``adafactor``,
``amsgrad``, ``yogi``, ``adadelta``, ``novograd``, ``sm3``, ``sign_sgd``, ``rprop``,
``fromage``, ``noisy_sgd``, ``optimistic_gradient_descent``, ``polyak_sgd``, ``lbfgs``) are chains of building blocks
(``scale_by_adam``, ``scale_by_rms``, ``trace``, ``scale_by_learning_rate``, ...) and keep the
step count and the current learning rate in their state (``state.count``,
``state.learning_rate``; inside a ``chain``, [`get_count`][functrans.optim.get_count] and
[`get_learning_rate`][functrans.optim.get_learning_rate]
find them). Other blocks (``clip``, ``clip_by_global_norm``, ``add_decayed_weights``, ``scale``,
``set_to_zero``, ``add_noise``, ``zero_nans``, ``ema``, ``apply_every``) combine with
``chain``, ``masked`` and ``freeze``;
wrappers accumulate gradients (``MultiSteps``), hold hyperparameters in the state
(``inject_hyperparams``), give parameter groups their own optimizers (``multi_transform``) and
skip non-finite steps (``apply_if_finite``). A schedule from [`functrans.optim.schedules`][functrans.optim.schedules]
is accepted wherever a learning rate is; [`functrans.optim.losses`][functrans.optim.losses] has
optax's loss functions under optax's names.

Example:
    >>> import numpy as np
    >>> from functrans import optim
    >>> opt = optim.sgd(0.1)
    >>> params = np.array([1.0, -1.0])
    >>> state = opt.init(params)
    >>> updates, state = opt.update(2 * params, state)   # gradient of sum(p**2)
    >>> optim.apply_updates(params, updates)
    array([ 0.8, -0.8])
"""
from functrans.optim import losses, schedules
from functrans.optim.adafactor import (
    AdafactorState,
    FactoredState,
    adafactor,
    scale_by_factored_rms,
)
from functrans.optim.adam_family import adabelief, adamax, adamaxw, lamb, nadam, nadamw, radam
from functrans.optim.adaptive import (
    ScaleByAdaDeltaState,
    ScaleByAmsgradState,
    ScaleByNovogradState,
    ScaleBySM3State,
    ScaleByYogiState,
    adadelta,
    amsgrad,
    novograd,
    scale_by_adadelta,
    scale_by_amsgrad,
    scale_by_novograd,
    scale_by_sm3,
    scale_by_yogi,
    sm3,
    yogi,
)
from functrans.optim.alias import (
    AdagradState,
    AdamState,
    LionState,
    RmspropState,
    SgdState,
    adagrad,
    adam,
    adamw,
    lars,
    lion,
    rmsprop,
    sgd,
)
from functrans.optim.base import (
    EmptyState,
    GradientTransformation,
    ScalarOrSchedule,
    Schedule,
    apply_updates,
    get_count,
    get_learning_rate,
    incremental_update,
    periodic_update,
)
from functrans.optim.combine import MaskedState, chain, freeze, masked
from functrans.optim.first_order import (
    ScaleByOptimisticGradientState,
    ScaleByRpropState,
    fromage,
    noisy_sgd,
    optimistic_gradient_descent,
    polyak_sgd,
    rprop,
    scale_by_optimistic_gradient,
    scale_by_rprop,
    scale_by_sign,
    sign_sgd,
)
from functrans.optim.lbfgs import (
    ScaleByLBFGSState,
    ScaleByZoomLinesearchState,
    ZoomLinesearchInfo,
    lbfgs,
    scale_by_lbfgs,
    scale_by_zoom_linesearch,
    value_and_grad_from_state,
)
from functrans.optim.scale import (
    ScaleByAdamState,
    ScaleByBeliefState,
    ScaleByLearningRateState,
    ScaleByLionState,
    ScaleByRmsState,
    ScaleByRssState,
    ScaleByScheduleState,
    ScaleByStddevState,
    TraceState,
    scale_by_adam,
    scale_by_adamax,
    scale_by_belief,
    scale_by_learning_rate,
    scale_by_lion,
    scale_by_radam,
    scale_by_rms,
    scale_by_rss,
    scale_by_schedule,
    scale_by_stddev,
    scale_by_trust_ratio,
    trace,
)
from functrans.optim.schedules import (
    constant as constant_schedule,
)
from functrans.optim.schedules import (
    cosine_decay as cosine_decay_schedule,
)
from functrans.optim.schedules import (
    cosine_onecycle as cosine_onecycle_schedule,
)
from functrans.optim.schedules import (
    exponential_decay,
)
from functrans.optim.schedules import (
    join as join_schedules,
)
from functrans.optim.schedules import (
    linear as linear_schedule,
)
from functrans.optim.schedules import (
    piecewise_constant as piecewise_constant_schedule,
)
from functrans.optim.schedules import (
    polynomial as polynomial_schedule,
)
from functrans.optim.schedules import (
    warmup_cosine_decay as warmup_cosine_decay_schedule,
)
from functrans.optim.transform import (
    AddNoiseState,
    ApplyEvery,
    EmaState,
    ZeroNansState,
    add_decayed_weights,
    add_noise,
    apply_every,
    clip,
    clip_by_global_norm,
    ema,
    global_norm,
    scale,
    set_to_zero,
    zero_nans,
)
from functrans.optim.wrappers import (
    ApplyIfFiniteState,
    InjectHyperparamsState,
    MultiSteps,
    MultiStepsState,
    MultiTransformState,
    apply_if_finite,
    inject_hyperparams,
    multi_transform,
)

__all__ = [
    "losses", "polyak_sgd",
    "ScaleByLBFGSState", "ScaleByZoomLinesearchState", "ZoomLinesearchInfo", "lbfgs",
    "scale_by_lbfgs", "scale_by_zoom_linesearch", "value_and_grad_from_state",
    "ScaleByAdaDeltaState", "ScaleByAmsgradState", "ScaleByNovogradState", "ScaleBySM3State",
    "ScaleByYogiState", "adadelta", "amsgrad", "novograd", "scale_by_adadelta",
    "scale_by_amsgrad", "scale_by_novograd", "scale_by_sm3", "scale_by_yogi", "sm3", "yogi",
    "ScaleByOptimisticGradientState", "ScaleByRpropState", "fromage", "noisy_sgd",
    "optimistic_gradient_descent", "rprop", "scale_by_optimistic_gradient", "scale_by_rprop",
    "scale_by_sign", "sign_sgd", "ApplyEvery", "EmaState", "apply_every", "ema", "adamaxw",
    "nadamw",
    "ApplyIfFiniteState", "InjectHyperparamsState", "MultiSteps", "MultiStepsState",
    "MultiTransformState", "apply_if_finite", "inject_hyperparams", "multi_transform",
    "AddNoiseState", "ZeroNansState", "add_noise", "zero_nans",
    "cosine_onecycle_schedule", "join_schedules", "piecewise_constant_schedule",
    "polynomial_schedule",
    "adabelief", "adafactor", "AdafactorState", "adagrad", "AdagradState", "adam", "adamax",
    "AdamState", "adamw", "add_decayed_weights", "apply_updates", "chain", "clip",
    "clip_by_global_norm", "constant_schedule", "cosine_decay_schedule", "EmptyState",
    "exponential_decay", "FactoredState", "freeze", "get_count", "get_learning_rate",
    "global_norm", "GradientTransformation", "incremental_update", "lamb", "lars",
    "linear_schedule", "lion", "LionState", "masked", "MaskedState", "nadam", "periodic_update",
    "radam", "rmsprop", "RmspropState", "ScalarOrSchedule",
    "scale", "scale_by_adam", "scale_by_adamax", "scale_by_belief", "scale_by_factored_rms",
    "scale_by_learning_rate", "scale_by_lion", "scale_by_radam", "scale_by_rms",
    "scale_by_rss", "scale_by_schedule", "scale_by_stddev", "scale_by_trust_ratio",
    "ScaleByAdamState", "ScaleByBeliefState", "ScaleByLearningRateState", "ScaleByLionState",
    "ScaleByRmsState", "ScaleByRssState", "ScaleByScheduleState", "ScaleByStddevState",
    "Schedule", "schedules", "set_to_zero", "sgd", "SgdState", "trace", "TraceState",
    "warmup_cosine_decay_schedule",
]
