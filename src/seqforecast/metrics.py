"""Forecast error metrics and evaluation against a naive baseline.

The metric functions are pure: ``metric(predictions, targets) -> 0-d tensor``
for tensors of any (equal) shape, averaged over every element. They refuse
NaN and infinite values (naming the first one) instead of returning NaN.
The scores of probabilistic forecasts (:func:`crps`, :func:`crps_gaussian`,
:func:`pinball`, :func:`weighted_quantile_loss`) live in
``seqforecast.scoring``, those of intervals (:func:`coverage`,
:func:`interval_width`, :func:`msis`) in ``seqforecast.interval_metrics``;
both are re-exported here.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import Tensor

from seqforecast._checks import check_finite_tensor, check_floating_tensor, check_int, describe
from seqforecast._evaluate_intervals import interval_scores
from seqforecast.base import Forecaster, State
from seqforecast.inference import _as_batch, _inference
from seqforecast.interval_metrics import coverage, interval_width, msis
from seqforecast.scoring import crps, crps_gaussian, pinball, weighted_quantile_loss

__all__ = [
    "coverage",
    "crps",
    "crps_gaussian",
    "evaluate",
    "interval_width",
    "mae",
    "mase",
    "mse",
    "msis",
    "pinball",
    "rmse",
    "smape",
    "weighted_quantile_loss",
]


def _pair(predictions: Tensor, targets: Tensor) -> tuple[Tensor, Tensor]:
    check_floating_tensor("predictions", predictions)
    check_floating_tensor("targets", targets)
    if predictions.shape != targets.shape:
        msg = f"`predictions` and `targets` must have the same shape, got {tuple(predictions.shape)} and {tuple(targets.shape)}"
        raise ValueError(msg)
    if predictions.numel() == 0:
        msg = "`predictions` must not be empty"
        raise ValueError(msg)
    check_finite_tensor("predictions", predictions)
    check_finite_tensor("targets", targets)
    return predictions, targets


def mse(predictions: Tensor, targets: Tensor) -> Tensor:
    """Mean squared error.

    Args:
        predictions: Any shape.
        targets: The shape of ``predictions``.

    Returns:
        A 0-d tensor.

    Example:
        >>> import torch
        >>> from seqforecast import metrics
        >>> metrics.mse(torch.tensor([1.0, 2.0]), torch.tensor([1.0, 4.0]))
        tensor(2.)
    """
    p, t = _pair(predictions, targets)
    return torch.mean((p - t) ** 2)


def mae(predictions: Tensor, targets: Tensor) -> Tensor:
    """Mean absolute error (any equal shapes; returns a 0-d tensor).

    Example:
        >>> import torch
        >>> from seqforecast import metrics
        >>> metrics.mae(torch.tensor([1.0, 2.0]), torch.tensor([1.0, 4.0]))
        tensor(1.)
    """
    p, t = _pair(predictions, targets)
    return torch.mean(torch.abs(p - t))


def rmse(predictions: Tensor, targets: Tensor) -> Tensor:
    """Root mean squared error (any equal shapes; returns a 0-d tensor).

    Example:
        >>> import torch
        >>> from seqforecast import metrics
        >>> metrics.rmse(torch.tensor([0.0, 0.0]), torch.tensor([3.0, 4.0])).item() ** 2
        12.5...
    """
    return torch.sqrt(mse(predictions, targets))


def smape(predictions: Tensor, targets: Tensor) -> Tensor:
    """Symmetric mean absolute percentage error, in percent (0 to 200).

    ``200 * mean(|p - t| / (|p| + |t|))``, a term counting 0 where both are 0.

    Example:
        >>> import torch
        >>> from seqforecast import metrics
        >>> metrics.smape(torch.tensor([1.0, 0.0]), torch.tensor([3.0, 0.0]))
        tensor(50.)
    """
    p, t = _pair(predictions, targets)
    denominator = p.abs() + t.abs()
    ratio = torch.where(denominator > 0, (p - t).abs() / denominator.clamp_min(torch.finfo(p.dtype).tiny), 0.0)
    return 200.0 * ratio.mean()


def mase(predictions: Tensor, targets: Tensor, insample: Tensor, period: int = 1) -> Tensor:
    """Mean absolute scaled error: MAE over the in-sample MAE of the naive forecast.

    Args:
        predictions: Any shape.
        targets: The shape of ``predictions``.
        insample: The training series, ``(time,)`` or ``(time, features)``,
            longer than ``period``.
        period: Seasonal period of the naive forecast (1: persistence).

    Returns:
        A 0-d tensor; below 1 beats the naive forecast on the training data.

    Raises:
        ValueError: ``insample`` is too short, holds NaN or infinity, or is
            constant at lag ``period`` (the naive forecast is then perfect in
            sample and MASE is undefined).

    Example:
        >>> import torch
        >>> from seqforecast import metrics
        >>> history = torch.tensor([0.0, 1.0, 2.0, 3.0])
        >>> metrics.mase(torch.tensor([4.5]), torch.tensor([4.0]), history)
        tensor(0.5000)
    """
    period = check_int("period", period)
    if check_floating_tensor("insample", insample).shape[0] <= period:
        msg = (
            f"`insample` must be a floating tensor with more than period={period} time steps, got {describe(insample)}"
        )
        raise ValueError(msg)
    check_finite_tensor("insample", insample)
    scale = torch.mean(torch.abs(insample[period:] - insample[:-period]))
    if float(scale) == 0:
        msg = (
            f"`insample` must vary at lag period={period} (MASE divides by the in-sample MAE of the naive "
            f"forecast), got a series whose naive in-sample MAE is 0"
        )
        raise ValueError(msg)
    return mae(predictions, targets) / scale


def _scores(predictions: Tensor, targets: Tensor, prefix: str = "") -> dict[str, float]:
    return {
        f"{prefix}mse": float(mse(predictions, targets)),
        f"{prefix}mae": float(mae(predictions, targets)),
        f"{prefix}rmse": float(rmse(predictions, targets)),
        f"{prefix}smape": float(smape(predictions, targets)),
    }


def evaluate(
    model: Forecaster,
    series: object,
    *,
    prime_steps: int = 0,
    horizon: int = 1,
    state: State = None,
    period: int | None = None,
    level: float | Iterable[float] | None = None,
) -> dict[str, float]:
    """Score ``model`` on ``series`` beside the naive (persistence) forecast.

    The model is primed on the first ``prime_steps`` points; then from every
    later origin ``t`` it forecasts ``horizon`` steps (closed loop beyond the
    first), and every forecast of a point inside the series is scored. The
    naive forecast repeats the value at ``t`` (with ``period``, the value one
    season before the target, where one exists in the past of ``t``).

    Args:
        model: A forecaster with ``output_size == input_size``.
        series: One series, ``(time,)`` or ``(time, features)``.
        prime_steps: Points used only to build the state, >= 0.
        horizon: Steps ahead from each origin, >= 1 (cost grows as
            ``len(series) * horizon`` one-step calls).
        state: State before the series.
        period: Seasonal period for a seasonal-naive baseline, >= 1, or None.
        level: Interval levels in percent (one or several in ``(0, 100)``);
            None (the default) for none. With levels, the scored origins are
            split in two: split-conformal intervals per horizon step are
            calibrated on the errors of forecasts from the first half whose
            targets also lie in it (before the first origin of the second
            half), and scored on the forecasts from the second half, for the
            model and for the naive forecast (its empirical intervals).

    Returns:
        ``mse``, ``mae``, ``rmse`` and ``smape`` of the model, the same with
        a ``naive_`` prefix, ``skill`` and ``points``. Units: ``mae`` and
        ``rmse`` in the series' units, ``mse`` in its units squared;
        ``smape`` and ``skill`` in percent (``smape`` 0 to 200, as
        :func:`~seqforecast.metrics.smape`; ``skill`` is ``100 * (1 - mse / naive_mse)``: above 0
        beats the naive forecast, 100 is perfect, NaN when the naive MSE is
        0); ``points``, the number of forecasts scored, an ``int``. With
        ``level``, also ``coverage_L`` (0 to 1), ``width_L`` (series' units)
        and ``msis_L`` (:func:`~seqforecast.metrics.msis`, scaled by the
        series before the second half) for each level ``L``, and the same
        with a ``naive_`` prefix.

    Example:
        >>> import torch, seqforecast as sf
        >>> model = sf.FeedForwardForecaster(window=2)
        >>> scores = sf.evaluate(model, torch.sin(torch.arange(40.0) / 3), prime_steps=8, horizon=2)
        >>> sorted(scores)[:4], scores["points"]
        (['mae', 'mse', 'naive_mae', 'naive_mse'], 61)
        >>> scores["skill"] == 100 * (1 - scores["mse"] / scores["naive_mse"])
        True
    """
    horizon = check_int("horizon", horizon)
    prime_steps = check_int("prime_steps", prime_steps, minimum=0)
    period = None if period is None else check_int("period", period)
    if model.output_size != model.input_size:
        msg = f"`model` must have output_size == input_size, got {model.output_size} and {model.input_size}"
        raise ValueError(msg)
    x, unbatched = _as_batch("series", model, series)
    if not unbatched and x.shape[0 if model.batch_first else 1] != 1:
        msg = f"`series` must be one series, (time,) or (time, features), got shape {tuple(x.shape)}"
        raise ValueError(msg)
    values = x[0] if model.batch_first else x[:, 0]  # (time, F)
    length = values.shape[0]
    if length < prime_steps + 2:
        msg = f"`series` must have at least prime_steps + 2 = {prime_steps + 2} points, got {length}"
        raise ValueError(msg)
    time_dim = 1 if model.batch_first else 0
    predictions: list[Tensor] = []
    naive: list[Tensor] = []
    targets: list[Tensor] = []
    origins: list[int] = []
    aheads: list[int] = []
    with _inference(model):
        if prime_steps:
            _, state = model(x.narrow(time_dim, 0, prime_steps), state)
        for origin in range(prime_steps, length - 1):
            step, state = model(x.narrow(time_dim, origin, 1), state)
            rollout = state
            for ahead in range(1, min(horizon, length - 1 - origin) + 1):
                if ahead > 1:
                    step, rollout = model(step, rollout)
                target_index = origin + ahead
                predictions.append(step.reshape(-1))
                targets.append(values[target_index])
                origins.append(origin)
                aheads.append(ahead)
                season_index = target_index - period if period is not None else origin
                naive.append(values[season_index if 0 <= season_index <= origin else origin])
    p, t, n = torch.stack(predictions), torch.stack(targets), torch.stack(naive)
    scores = _scores(p, t) | _scores(n, t, "naive_")
    scores["skill"] = 100.0 * (1.0 - scores["mse"] / scores["naive_mse"]) if scores["naive_mse"] > 0 else float("nan")
    scores["points"] = len(targets)
    if level is not None:
        middle = (prime_steps + length - 1) // 2  # origins from it on are scored
        starts, steps = torch.tensor(origins, device=p.device), torch.tensor(aheads, device=p.device)
        period_ = period or 1
        scores |= interval_scores(
            p,
            n,
            t,
            steps,
            calibrate=starts + steps <= middle,  # targets known at every scored origin
            scored=starts >= middle,
            insample=values[: middle + 1],
            level=level,
            period=period_,
        )
    return scores
