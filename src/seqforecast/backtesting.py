"""Rolling-origin backtests in one stateful pass.

From each cutoff ``c`` a forecaster forecasts the next ``horizon`` points
using only the points before ``c``. A stateful model need not re-read the
history at every cutoff: one run over the series keeps the state at each
cutoff, and the closed loops of all cutoffs then run together, as the lanes
of one batch. Forecast ``i`` equals ``forecast(model, series[:cutoffs[i]],
horizon)`` (to float tolerance), with the full history's state.

With a :class:`Refit` (defined in ``seqforecast._refit`` and exported here
too), a copy of the model trains on before every ``every``-th cutoff, and
each group of cutoffs is forecast in one pass with the copy as trained so far.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

import torch
from torch import Tensor, nn

from seqforecast._backtest_stamps import backtest_frame, series_stamps, target_stamps
from seqforecast._checks import check_float, check_int, describe
from seqforecast._future import check_feeds_back
from seqforecast._refit import Refit, refit_groups
from seqforecast.base import Forecaster, State, state_like, state_tensors
from seqforecast.inference import _as_batch, _inference
from seqforecast.models import RecurrentForecaster
from seqforecast.results import check_levels

if TYPE_CHECKING:
    import numpy as np

__all__ = ["Backtest", "Refit", "backtest"]


@dataclasses.dataclass(frozen=True)
class Backtest:
    """Forecasts from every cutoff of a series, beside what happened.

    Attributes:
        forecasts: ``(num_cutoffs, horizon, features)``; ``forecasts[i, h]``
            forecasts ``series[cutoffs[i] + h]`` from ``series[:cutoffs[i]]``.
            With a batch of series, ``(batch, num_cutoffs, horizon, features)``.
        targets: The true values, same shape (every cutoff has ``horizon``
            points after it, so there is no padding).
        cutoffs: ``(num_cutoffs,)`` int64: the index of the first forecast
            point of each forecast (the number of points it saw).
        last: The last value before each cutoff, ``series[cutoffs - 1]``,
            ``(num_cutoffs, features)`` (``(batch, num_cutoffs, features)``):
            the naive forecast.
        scale: Mean absolute one-step change over the points before the
            first cutoff, per feature (``(features,)``, ``(batch, features)``):
            the denominator of MASE.
        intervals: Level in percent -> ``(lower, upper)``, each shaped like
            ``forecasts``: prediction intervals around every forecast, when
            they were asked for (``AutoForecaster.backtest(..., level=...)``);
            empty otherwise. Read one with :meth:`interval`.
        times: For a series with time stamps, ``datetime64`` stamps of the
            targets, ``(num_cutoffs, horizon)``; None otherwise.
        cutoff_times: The stamp of the last point each cutoff saw,
            ``(num_cutoffs,)``; None without stamps.

    Example:
        >>> import torch, seqforecast as sf
        >>> model = sf.RecurrentForecaster(hidden_size=8, num_layers=1, seed=0)
        >>> result = sf.backtest(model, torch.sin(torch.arange(100.0) / 4), horizon=6, start=80)
        >>> result.forecasts.shape, result.cutoffs[:3].tolist()
        (torch.Size([15, 6, 1]), [80, 81, 82])
        >>> sorted(result.metrics())
        ['mae', 'mase', 'mse', 'naive_mae', 'naive_mse', 'relative_mse']
    """

    forecasts: Tensor
    targets: Tensor
    cutoffs: Tensor
    last: Tensor
    scale: Tensor
    intervals: Mapping[float, tuple[Tensor, Tensor]] = dataclasses.field(default_factory=dict)
    times: np.ndarray | None = None
    cutoff_times: np.ndarray | None = None

    def interval(self, level: float) -> tuple[Tensor, Tensor]:
        """The ``(lower, upper)`` bounds of the ``level`` % intervals, each shaped like ``forecasts``.

        Tensors, like everything a Backtest holds (a
        :class:`~seqforecast.Forecast` holds NumPy arrays instead).

        Raises:
            KeyError: No interval of that level was computed; the message lists those held.
        """
        (key,) = check_levels("level", level)
        if key not in self.intervals:
            held = ", ".join(f"{lvl:g}" for lvl in sorted(self.intervals)) or "none"
            msg = f"no {key:g}% interval in this backtest (levels held: {held}); ask for it with level=({key:g},)"
            raise KeyError(msg)
        return self.intervals[key]

    def metrics(self) -> dict[str, Tensor]:
        """Errors per horizon step, averaged over cutoffs, features (and series).

        Returns:
            ``mse``, ``mae`` and the naive forecast's (the last value before
            the cutoff, repeated) ``naive_mse``, ``naive_mae``;
            ``relative_mse`` = ``mse / naive_mse`` (below 1 beats naive) and
            ``mase`` = ``mae`` over the mean absolute one-step change before
            the first cutoff. Each of shape ``(horizon,)``.
        """
        error = self.forecasts - self.targets  # (..., K, H, F)
        naive = self.last.unsqueeze(-2) - self.targets
        scaled = error.abs() / self.scale.unsqueeze(-2).unsqueeze(-2)
        dims = [d for d in range(error.dim()) if d != error.dim() - 2]  # all but the horizon
        mse, naive_mse = error.square().mean(dims), naive.square().mean(dims)
        return {
            "mse": mse,
            "mae": error.abs().mean(dims),
            "naive_mse": naive_mse,
            "naive_mae": naive.abs().mean(dims),
            "relative_mse": mse / naive_mse,
            "mase": scaled.mean(dims),
        }

    def to_frame(self, name: str = "forecast") -> Any:
        """The backtest as a long pandas data frame (``frames`` extra), one row per series, cutoff and step.

        Columns: ``unique_id`` (``"0"``, or the lane of a batch), ``ds`` (the
        target's stamp, or its index without stamps), ``cutoff`` (the stamp,
        or index, of the last point seen, as statsforecast writes it), ``y``,
        the forecast ``name`` and its intervals ``<name>-lo-<level>``,
        ``<name>-hi-<level>`` (``y-<j>``, ``<name>-<j>`` for several features).

        Example:
            >>> import pandas as pd, torch, seqforecast as sf
            >>> y = pd.Series(torch.sin(torch.arange(30.0)).numpy(), index=pd.date_range("2024-01-01", periods=30))
            >>> frame = sf.backtest(sf.FeedForwardForecaster(window=3, seed=0), y, horizon=2, start=27).to_frame()
            >>> frame.columns.tolist(), str(frame["ds"][0].date()), str(frame["cutoff"][0].date())
            (['unique_id', 'ds', 'cutoff', 'y', 'forecast'], '2024-01-28', '2024-01-27')
        """
        return backtest_frame(self, name)


def backtest(
    model: Forecaster,
    series: object,
    horizon: int,
    *,
    start: float,
    stride: int = 1,
    state: State = None,
    chunk_size: int = 4096,
    refit: Refit | None = None,
    past: int = 0,
    times: object = None,
) -> Backtest:
    """Forecast ``horizon`` steps from every cutoff, in one stateful pass.

    The cutoffs are ``start, start + stride, ...`` up to the last one with
    ``horizon`` points after it. The model runs once over the series,
    keeping its state at each cutoff (a single call for the feed-forward and
    convolutional forecasters, whose state is their last inputs), then the
    closed loops of all cutoffs run together as one batch, ``chunk_size``
    cutoffs at a time: the cost grows linearly with the length of the series
    and the number of cutoffs.

    Args:
        model: A forecaster with ``output_size <= input_size``. With
            covariates (``input_size > output_size``), the closed loops feed
            back the series' own covariates after each cutoff (their actual
            values: right for known-future covariates such as the calendar
            or a planned price), and the forecasts and targets are the first
            ``output_size`` features.
        series: ``(time,)``, ``(time, features)``, or a batch of series in the
            model's layout, ``(batch, time, features)`` (``(time, batch,
            features)`` for a time-first model). Integers are converted.
        horizon: Steps forecast from each cutoff, >= 1.
        start: The first cutoff: an index in ``[1, time - horizon]``, or a
            fraction of the series' length in ``(0, 1)`` (``0.8``: the last
            20 %).
        stride: Steps between cutoffs, >= 1.
        state: The state before ``series`` (default: a fresh start).
        chunk_size: Cutoffs per closed-loop batch (bounds the memory; the
            results do not depend on it).
        refit: Train a copy of the model on as the cutoffs advance (see
            :class:`Refit`); None (the default) backtests the model as it is.
        times: The series' time stamps, ``(time,)``, for the forecasts'
            ``times``; default: the ``DatetimeIndex`` of a pandas series, if any.
        past: How many of the covariates (the first ones after the targets,
            as :meth:`Panel.inputs <seqforecast.Panel.inputs>` lays them out)
            are past covariates, observed only up to each step: their values
            after a cutoff were not known at it, so a backtest with
            ``horizon > 1`` is refused rather than fed them (it would leak
            the future). Default 0: every covariate is known in advance.

    Returns:
        A :class:`Backtest`; forecast ``i`` equals ``forecast(model,
        series[:cutoffs[i]], horizon)`` to float tolerance.

    Raises:
        ValueError: A bad ``horizon``, ``start``, ``stride``, ``past`` or
            ``chunk_size``, a series too short for one cutoff, a model
            whose output cannot be fed back, or past covariates with ``horizon > 1``.

    Example:
        >>> import torch, seqforecast as sf
        >>> model = sf.ConvForecaster(channels=8, head_hidden=8, seed=0)
        >>> series = torch.sin(torch.arange(200.0) / 6)
        >>> result = sf.backtest(model, series, horizon=12, start=0.8, stride=4)
        >>> result.forecasts.shape  # cutoffs 160, 164, ..., 188
        torch.Size([8, 12, 1])
        >>> one = sf.forecast(model, series[:164], horizon=12)
        >>> bool(torch.allclose(result.forecasts[1], one, atol=1e-5))
        True
    """
    horizon = check_int("horizon", horizon)
    stride = check_int("stride", stride)
    chunk_size = check_int("chunk_size", chunk_size)
    check_feeds_back(model)
    _check_past(model, past, horizon)
    given: object = refit
    if given is not None and not isinstance(given, Refit):
        msg = f"`refit` must be a seqforecast.Refit or None, got {describe(given)}"
        raise TypeError(msg)
    with _inference(model):
        x, unbatched = _as_batch("series", model, series)
    time_dim = 1 if model.batch_first else 0
    length = x.shape[time_dim]
    stamps = series_stamps(series, times, length)
    cutoffs = list(range(_first_cutoff(start, length, horizon), length - horizon + 1, stride))
    if refit is None:
        forecasts = _forecasts(model, x, cutoffs, state, horizon=horizon, chunk_size=chunk_size)  # (K, B, H, F)
    else:  # a copy of the model trains on: the caller's model is left as it is
        forecasts = torch.cat(
            [
                _forecasts(trained, x, group, state, horizon=horizon, chunk_size=chunk_size)
                for trained, group in refit_groups(refit, model, x, cutoffs)
            ]
        )
    values = (x if model.batch_first else x.transpose(0, 1))[..., : model.output_size]  # (B, T, targets)
    index = torch.tensor(cutoffs, device=x.device)
    steps = index[:, None] + torch.arange(horizon, device=x.device)  # (K, H)
    targets = values[:, steps]  # (B, K, H, F)
    last = values[:, index - 1]  # (B, K, F)
    seen = values[:, : cutoffs[0]]
    scale = (seen[:, 1:] - seen[:, :-1]).abs().mean(1) if cutoffs[0] > 1 else torch.full_like(seen[:, 0], torch.nan)
    result = forecasts.transpose(0, 1)  # (B, K, H, F)
    if unbatched:
        result, targets, last, scale = result[0], targets[0], last[0], scale[0]
    target_times, cutoff_times = target_stamps(stamps, index, horizon)
    return Backtest(result, targets, index.cpu(), last, scale, times=target_times, cutoff_times=cutoff_times)


def _forecasts(
    model: Forecaster, x: Tensor, cutoffs: Sequence[int], state: State, *, horizon: int, chunk_size: int
) -> Tensor:
    """The forecasts from ``cutoffs`` of ``x`` (model layout): one pass for the states, batched closed loops."""
    with _inference(model):
        lasts, states = _states_at(model, x, cutoffs, state)  # (K, B, F); per cutoff, for B lanes
        covariates = _covariates_after(model, x, cutoffs, horizon)  # (K, B, H - 1, C) or None
        return torch.cat(
            [
                _closed_loops(
                    model,
                    lasts[i : i + chunk_size],
                    states[i : i + chunk_size],
                    horizon,
                    None if covariates is None else covariates[i : i + chunk_size],
                )
                for i in range(0, len(cutoffs), chunk_size)
            ],
            dim=0,
        )  # (K, B, H, F)


def _check_past(model: Forecaster, past: int, horizon: int) -> None:
    """Refuse a backtest that would feed back the actual values of past covariates after its cutoffs."""
    past = check_int("past", past, minimum=0)
    covariates = model.input_size - model.output_size
    if past > covariates:
        msg = f"`past` must be at most the model's {covariates} covariate(s) (input_size - output_size), got {past}"
        raise ValueError(msg)
    if past and horizon > 1:
        msg = (
            f"`horizon` must be 1 with past={past} past covariate(s): their values after a cutoff are not known "
            f"at it, and a closed loop of horizon={horizon} would read them; forecast them yourself and use "
            "forecast_panel with a scenario, or backtest horizon=1"
        )
        raise ValueError(msg)


def _first_cutoff(start: object, length: int, horizon: int) -> int:
    """``start`` as an index, checked: at least one point before it and ``horizon`` after."""
    latest = length - horizon
    if latest < 1:
        msg = f"`series` must have more than horizon={horizon} time steps for one cutoff, got {length}"
        raise ValueError(msg)
    if isinstance(start, float):
        fraction = check_float("start", start, low=0.0, high=1.0, low_inclusive=False, high_inclusive=False)
        first = max(1, round(fraction * length))
    elif isinstance(start, int) and not isinstance(start, bool):
        first = start
    else:
        msg = f"`start` must be an index (int) or a fraction of the series (float in (0, 1)), got {describe(start)}"
        raise TypeError(msg)
    if not 1 <= first <= latest:
        msg = (
            f"`start` must leave at least one point before the first cutoff and horizon={horizon} after it: "
            f"an index in [1, {latest}] for {length} time steps, got {start!r}"
        )
        raise ValueError(msg)
    return first


def _lane_dims(model: Forecaster, device: torch.device, dtype: torch.dtype) -> tuple[int, ...]:
    """The lane (batch) dimension of each state tensor, found from the model's fresh states."""
    one, two = state_tensors(model.init_state(1, device, dtype)), state_tensors(model.init_state(2, device, dtype))
    return tuple(
        next(d for d, (a, b) in enumerate(zip(s.shape, t.shape, strict=True)) if a != b)
        for s, t in zip(one, two, strict=True)
    )


def _states_at(model: Forecaster, x: Tensor, cutoffs: Sequence[int], state: State) -> tuple[Tensor, list[State]]:
    """The last forecast before each cutoff, ``(K, B, F)``, and the state after ``x[:c]`` for each cutoff ``c``."""
    time_dim = 1 if model.batch_first else 0
    context = model.context_length
    if context is not None:  # the state is the last `context` inputs: read it off the series, one call for all
        y, _ = model(x, state)
        batch = x.shape[1 - time_dim]
        past = state_tensors(model.init_state(batch, x.device, x.dtype) if state is None else state)[0]
        full = torch.cat((past.to(x.dtype), x), dim=time_dim)  # x[j] sits at full[context + j]
        states: list[State] = [full.narrow(time_dim, c, context) for c in cutoffs]  # x[c - context : c]
        lasts = torch.stack([y.select(time_dim, c - 1) for c in cutoffs])
        return lasts, states
    if isinstance(model, RecurrentForecaster):  # the recurrent layers alone per stretch; the head once, at the end
        step, head = cast("nn.Module", model.rnn), cast("nn.Module", model.head)
        state = model._check_state(state, x.shape[1 - time_dim], x.device, x.dtype)
    else:
        step, head = cast("nn.Module", model), nn.Identity()
    states, outputs, previous = [], [], 0
    for c in cutoffs:  # one call per stretch between cutoffs
        y, state = step(x.narrow(time_dim, previous, c - previous), state)
        outputs.append(y.select(time_dim, y.shape[time_dim] - 1))
        states.append(state)
        previous = c
    lasts = head(torch.stack(outputs))
    if isinstance(model, RecurrentForecaster) and model.output_head is not None:
        lasts = model.output_head.point(lasts)  # its last layer emits a distribution's parameters
    return lasts, states


def _covariates_after(model: Forecaster, x: Tensor, cutoffs: Sequence[int], horizon: int) -> Tensor | None:
    """The covariates of the inputs fed back after each cutoff ``c`` (rows ``c .. c + H - 2``): ``(K, B, H - 1, C)``."""
    if model.input_size == model.output_size:
        return None
    values = (x if model.batch_first else x.transpose(0, 1))[..., model.output_size :]  # (B, T, C)
    steps = torch.tensor(cutoffs, device=x.device)[:, None] + torch.arange(horizon - 1, device=x.device)
    return values[:, steps].transpose(0, 1)  # (K, B, H - 1, C)


def _closed_loops(
    model: Forecaster, lasts: Tensor, states: Sequence[State], horizon: int, covariates: Tensor | None = None
) -> Tensor:
    """Run the closed loops of ``len(states)`` cutoffs as one batch: ``(K, B, H, F)``."""
    count, batch, features = lasts.shape
    time_dim = 1 if model.batch_first else 0
    dims = _lane_dims(model, lasts.device, lasts.dtype)
    per_tensor = zip(*(state_tensors(s) for s in states), strict=True)  # for each state tensor, its K versions
    joined = tuple(torch.cat(versions, dim=dim) for versions, dim in zip(per_tensor, dims, strict=True))
    state = state_like(states[0], joined)  # lanes ordered (cutoff, series)
    step = lasts.reshape(count * batch, 1, features)  # (K*B, 1, F)
    if not model.batch_first:
        step = step.transpose(0, 1)  # (1, K*B, F)
    fed = None if covariates is None else covariates.reshape(count * batch, horizon - 1, covariates.shape[-1])
    if fed is not None and not model.batch_first:
        fed = fed.transpose(0, 1)
    outputs = [step]
    for h in range(horizon - 1):
        step, state = model(step if fed is None else torch.cat((step, fed.narrow(time_dim, h, 1)), dim=-1), state)
        outputs.append(step)
    result = torch.cat(outputs, dim=time_dim)  # (K*B, H, F) or (H, K*B, F)
    if not model.batch_first:
        result = result.transpose(0, 1)
    return result.reshape(count, batch, horizon, features)
