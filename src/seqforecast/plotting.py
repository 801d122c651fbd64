"""Plots of training and forecasts (matplotlib, from the ``plot`` extra).

Every function returns a :class:`matplotlib.figure.Figure` built without
pyplot: nothing is shown and no global backend is changed. Save it with
``figure.savefig(path)``; in a notebook it displays itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from seqforecast._checks import describe
from seqforecast.backtesting import Backtest
from seqforecast.results import Forecast
from seqforecast.training.history import History

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["plot_backtest", "plot_forecast", "plot_history", "plot_predictions"]


def _figure(width: float = 8.0, height: float = 4.0) -> Figure:
    try:
        from matplotlib.figure import Figure
    except ImportError:
        msg = "plotting needs matplotlib: pip install 'seqforecast[plot]'"
        raise ImportError(msg) from None
    return Figure(figsize=(width, height), layout="constrained")


def _finish(figure: Figure, axes: Any, *, xlabel: str, ylabel: str, title: str) -> Figure:
    """Label the axes, add the legend and a light grid; return the figure."""
    axes.set(xlabel=xlabel, ylabel=ylabel, title=title)
    axes.legend()
    axes.grid(alpha=0.3)
    return figure


def _values(name: str, data: Any) -> np.ndarray:
    """Any 1-D-able numbers (tensor, array, list) as a flat float array."""
    if hasattr(data, "detach"):
        data = data.detach().cpu().numpy()
    array = np.asarray(data, dtype=np.float64)
    if array.ndim > 1 and sum(n > 1 for n in array.shape) > 1:
        msg = f"`{name}` must hold one series (a single non-trivial dimension), got shape {array.shape}"
        raise ValueError(msg)
    return array.reshape(-1)


def _positions(name: str, data: Any, length: int) -> np.ndarray:
    """Positions on the horizontal axis: ``0, 1, ...`` by default, else numbers or time stamps, ``(length,)``."""
    if data is None:
        return np.arange(length, dtype=np.float64)
    if hasattr(data, "detach"):
        data = data.detach().cpu().numpy()
    array = np.asarray(data)
    if array.dtype.kind in "iuf":
        array = array.astype(np.float64)
    elif array.dtype.kind in "OUS":  # numbers or dates as text (CSV cells), or datetime objects
        for kind in (np.float64, "datetime64[ns]"):
            try:
                array = array.astype(kind)
                break
            except (TypeError, ValueError):
                continue
        else:
            msg = f"`{name}` must hold numbers or time stamps, got values such as {array.reshape(-1)[:1].tolist()}"
            raise ValueError(msg)
    elif array.dtype.kind != "M":
        msg = f"`{name}` must hold numbers or time stamps, got dtype {array.dtype}"
        raise ValueError(msg)
    if array.shape != (length,):
        msg = f"`{name}` must have one position per value ({length}), got shape {array.shape}"
        raise ValueError(msg)
    return array


def plot_history(
    histories: History | Mapping[str, History], *, log: bool = True, title: str = "Training loss"
) -> Figure:
    """Training (and validation) loss per step, one line per run.

    Args:
        histories: One :class:`~seqforecast.History` or a mapping name → History.
        log: Use a logarithmic loss axis.
        title: Title of the plot.

    Returns:
        A figure with one line per history (plus one per validation curve).

    Example:
        >>> import seqforecast as sf
        >>> fig = sf.plotting.plot_history(sf.History(losses=[1.0, 0.5, 0.1], steps=3))
        >>> len(fig.axes[0].lines)
        1
    """
    given: object = histories
    if not isinstance(given, (History, Mapping)) or (
        isinstance(given, Mapping) and not all(isinstance(h, History) for h in given.values())
    ):
        msg = f"`histories` must be a History or a mapping of names to History objects, got {describe(histories)}"
        raise TypeError(msg)
    runs = {"loss": histories} if isinstance(histories, History) else dict(histories)
    figure = _figure()
    axes = figure.add_subplot()
    for name, history in runs.items():
        steps = np.arange(1, len(history.losses) + 1)
        (line,) = axes.plot(steps, history.losses, label=name, linewidth=1.2)
        if history.val_losses:
            axes.plot(
                history.val_steps, history.val_losses, "o--", color=line.get_color(), label=f"{name} (validation)"
            )
    if log:
        axes.set_yscale("log")
    return _finish(figure, axes, xlabel="step (window)", ylabel="loss", title=title)


def plot_predictions(
    truth: Any,
    predictions: Mapping[str, Any],
    *,
    x: Any = None,
    title: str = "Next-step predictions",
    xlabel: str = "time step",
    ylabel: str = "value",
) -> Figure:
    """One-step-ahead predictions against the truth.

    ``predictions[name][t]`` forecasts ``truth[t + 1]`` (the output of
    :func:`~seqforecast.predict` on ``truth[:-1]``), so it is drawn at ``t + 1``.

    Args:
        truth: The series, ``(time,)`` (or any shape with one non-trivial dimension).
        predictions: Name → predictions of length ``len(truth) - 1``.
        x: Positions of ``truth`` on the horizontal axis, ``(time,)``:
            numbers or time stamps (default 0, 1, ...).
        title: Title of the plot.
        xlabel: Label of the horizontal axis.
        ylabel: Label of the vertical axis (the series' name, say).

    Returns:
        A figure with the truth line and one line per prediction.

    Example:
        >>> import numpy as np, seqforecast as sf
        >>> truth = np.sin(np.arange(10) / 2)
        >>> fig = sf.plotting.plot_predictions(truth, {"persistence": truth[:-1]})
        >>> [len(line.get_xdata()) for line in fig.axes[0].lines]
        [10, 9]
    """
    values = _values("truth", truth)
    positions = _positions("x", x, len(values))
    figure = _figure()
    axes = figure.add_subplot()
    axes.plot(positions, values, color="black", linewidth=2, label="truth")
    for name, predicted in predictions.items():
        series = _values(f"predictions[{name!r}]", predicted)
        if len(series) != len(values) - 1:
            msg = f"`predictions[{name!r}]` must have len(truth) - 1 = {len(values) - 1} values, got {len(series)}"
            raise ValueError(msg)
        axes.plot(positions[1:], series, "o-", markersize=3, linewidth=1, label=name)
    return _finish(figure, axes, xlabel=xlabel, ylabel=ylabel, title=title)


def plot_forecast(
    history: Any,
    forecast: Any,
    *,
    truth: Any = None,
    x: Any = None,
    forecast_x: Any = None,
    title: str = "Forecast",
    xlabel: str = "time step",
    ylabel: str = "value",
    intervals: Mapping[float, tuple[Any, Any]] | None = None,
) -> Figure:
    """A series and the forecast that continues it (and, optionally, what happened).

    Args:
        history: The observed series, ``(time,)``.
        forecast: The forecast of the next ``horizon`` values, ``(horizon,)``;
            or a :class:`~seqforecast.Forecast` (its ``mean``, and its
            intervals unless ``intervals`` is given; the first feature of
            several; its ``times``, when it has them, as ``forecast_x``, and
            the stamps before them as ``x`` unless ``x`` is given).
        truth: The actual values after the history, ``(horizon,)`` or
            shorter, for comparison.
        x: Positions of ``history`` on the horizontal axis, ``(time,)``: the
            data's own row numbers or time stamps (numbers, ``datetime64``,
            ``datetime``, or either as text, as in a CSV file). Default
            ``0, 1, ...``.
        forecast_x: Positions of the forecast, ``(horizon,)``. Default: ``x``
            continued at the spacing of its last two positions.
        title: Title of the plot.
        xlabel: Label of the horizontal axis.
        ylabel: Label of the vertical axis (the series' name, say).
        intervals: Prediction intervals to draw as fan bands: level in
            percent -> ``(lower, upper)``, each ``(horizon,)``; the wider the
            level, the lighter the band.

    Returns:
        A figure with the history, the forecast (and the truth) lines, and a
        band per interval. The forecast line starts at the last observation
        so the two join, with markers on the forecasts only.

    Example:
        >>> import numpy as np, seqforecast as sf
        >>> fig = sf.plotting.plot_forecast(np.zeros(20), np.ones(5), x=np.arange(100, 120), ylabel="load")
        >>> history, forecast = fig.axes[0].lines[:2]
        >>> forecast.get_xdata()[1:].tolist(), fig.axes[0].get_ylabel()
        ([120.0, 121.0, 122.0, 123.0, 124.0], 'load')
    """
    if isinstance(forecast, Forecast):
        stamps = None if forecast.times is None else np.asarray(forecast.times)
        # one stamp and no history positions: no spacing to place the history by, so plot by step
        if forecast_x is None and stamps is not None and stamps.ndim == 1 and (len(stamps) >= 2 or x is not None):
            forecast_x = stamps
            if x is None and len(stamps) >= 2:  # the history's stamps, at the forecast's spacing
                x = stamps[0] - (stamps[1] - stamps[0]) * np.arange(len(_values("history", history)), 0, -1)
        if intervals is None:
            intervals = {lvl: (low[..., 0], high[..., 0]) for lvl, (low, high) in forecast.intervals.items()}
        forecast = np.asarray(forecast.mean)[..., 0]
    past = _values("history", history)
    ahead = _values("forecast", forecast)
    positions = _positions("x", x, len(past))
    if forecast_x is None:
        if len(positions) < 2 and positions.dtype.kind == "M":
            msg = "`forecast_x` is needed when `x` holds a single time stamp"
            raise ValueError(msg)
        spacing = positions[-1] - positions[-2] if len(positions) >= 2 else 1.0
        ahead_positions = positions[-1] + spacing * np.arange(1, len(ahead) + 1)
    else:
        ahead_positions = _positions("forecast_x", forecast_x, len(ahead))
    figure = _figure()
    axes = figure.add_subplot()
    axes.plot(positions, past, color="black", label="history")
    bands = dict(intervals or {})
    for shade, level in enumerate(sorted(bands, reverse=True)):  # the widest first, underneath
        low, high = (_values(f"intervals[{level:g}]", bound) for bound in bands[level])
        if not len(low) == len(high) == len(ahead):
            msg = f"`intervals[{level:g}]` must be (lower, upper) of {len(ahead)} values each, got {len(low)} and {len(high)}"
            raise ValueError(msg)
        alpha = 0.15 + 0.2 * shade / max(1, len(bands) - 1)
        axes.fill_between(
            ahead_positions, low, high, color="tab:blue", alpha=alpha, linewidth=0, label=f"{level:g}% interval"
        )
    # start the forecast line at the last observation so the two lines join; markers on forecasts only
    axes.plot(
        np.concatenate([positions[-1:], ahead_positions]),
        np.concatenate([past[-1:], ahead]),
        "o-",
        markersize=3,
        markevery=slice(1, None),
        color="tab:blue",
        label="forecast",
    )
    if truth is not None:
        actual = _values("truth", truth)
        if len(actual) > len(ahead):
            msg = f"`truth` must have at most len(forecast) = {len(ahead)} values, got {len(actual)}"
            raise ValueError(msg)
        axes.plot(ahead_positions[: len(actual)], actual, "--", color="tab:green", label="actual")
    axes.axvline(positions[-1], color="grey", linewidth=0.8, linestyle=":")
    return _finish(figure, axes, xlabel=xlabel, ylabel=ylabel, title=title)


def plot_backtest(
    backtest_or_metrics: Backtest | Mapping[str, Any],
    *,
    metric: str = "mse",
    title: str = "Backtest: error per horizon step",
    ylabel: str | None = None,
    over: str = "step",
) -> Figure:
    """The error at each step ahead of a backtest, beside the naive forecast's.

    Args:
        backtest_or_metrics: A :class:`~seqforecast.Backtest`, or its
            :meth:`~seqforecast.Backtest.metrics` (a mapping with
            ``metric`` and ``"naive_" + metric``, each ``(horizon,)``).
        metric: ``"mse"`` or ``"mae"``.
        title: Title of the plot.
        ylabel: Label of the vertical axis (default: the metric's name).
        over: ``"step"``: the error at each step ahead; ``"cutoff"`` (a
            :class:`~seqforecast.Backtest` only): the error of each cutoff's
            forecast, averaged over its steps, at the stamp of the last point
            it saw (``cutoff_times``), or at its index without stamps.

    Returns:
        A figure with two lines over the steps ``1 .. horizon`` (or the
        cutoffs): the model's error and the naive forecast's (the last value
        before the cutoff).

    Example:
        >>> import torch, seqforecast as sf
        >>> model = sf.RecurrentForecaster(hidden_size=8, num_layers=1, seed=0)
        >>> result = sf.backtest(model, torch.sin(torch.arange(100.0) / 4), horizon=6, start=80)
        >>> model_line, naive_line = sf.plotting.plot_backtest(result).axes[0].lines
        >>> model_line.get_xdata().tolist(), naive_line.get_label()
        ([1, 2, 3, 4, 5, 6], 'naive (last value)')
    """
    if metric not in ("mse", "mae"):
        msg = f"`metric` must be 'mse' or 'mae', got {metric!r}"
        raise ValueError(msg)
    given: object = backtest_or_metrics
    if over not in ("step", "cutoff"):
        msg = f"`over` must be 'step' or 'cutoff', got {over!r}"
        raise ValueError(msg)
    if over == "cutoff":
        if not isinstance(given, Backtest):
            msg = f"`backtest_or_metrics` must be a Backtest for over='cutoff', got {describe(given)}"
            raise TypeError(msg)
        return _plot_cutoffs(given, metric, title, ylabel)
    if isinstance(given, Backtest):
        metrics: Mapping[str, Any] = given.metrics()
    elif isinstance(given, Mapping):
        metrics = given
    else:
        msg = f"`backtest_or_metrics` must be a Backtest or its metrics() mapping, got {describe(given)}"
        raise TypeError(msg)
    missing = [key for key in (metric, "naive_" + metric) if key not in metrics]
    if missing:
        msg = f"`backtest_or_metrics` must have the keys {metric!r} and {'naive_' + metric!r}, missing {missing}"
        raise ValueError(msg)
    model, naive = _values(metric, metrics[metric]), _values("naive_" + metric, metrics["naive_" + metric])
    if len(model) != len(naive):
        msg = f"`{metric}` and `naive_{metric}` must have one value per step, got {len(model)} and {len(naive)}"
        raise ValueError(msg)
    steps = np.arange(1, len(model) + 1)
    figure = _figure()
    axes = figure.add_subplot()
    axes.plot(steps, model, "o-", color="tab:blue", label="model")
    axes.plot(steps, naive, "s--", color="grey", label="naive (last value)")
    axes.set_xticks(steps if len(steps) <= 24 else steps[:: -(-len(steps) // 12)])
    return _finish(figure, axes, xlabel="steps ahead", ylabel=ylabel or metric.upper(), title=title)


def _plot_cutoffs(result: Backtest, metric: str, title: str, ylabel: str | None) -> Figure:
    """The error of each cutoff's forecast (averaged over steps, features and series) at its stamp or index."""
    error = (result.forecasts - result.targets).double()
    naive = (result.last.unsqueeze(-2) - result.targets).double()
    error, naive = (error.square(), naive.square()) if metric == "mse" else (error.abs(), naive.abs())
    dims = [d for d in range(error.dim()) if d != error.dim() - 3]  # all but the cutoffs
    model, cutoff_naive = error.mean(dims).numpy(), naive.mean(dims).numpy()
    stamped = result.cutoff_times is not None
    positions = np.asarray(result.cutoff_times) if stamped else result.cutoffs.numpy() - 1
    figure = _figure()
    axes = figure.add_subplot()
    axes.plot(positions, model, "o-", markersize=3, color="tab:blue", label="model")
    axes.plot(positions, cutoff_naive, "s--", markersize=3, color="grey", label="naive (last value)")
    xlabel = "last point seen (cutoff)" if stamped else "index of the last point seen (cutoff)"
    return _finish(figure, axes, xlabel=xlabel, ylabel=ylabel or metric.upper(), title=title)
