"""``seqforecast forecast`` and ``seqforecast evaluate``: a trained model continues a CSV series, or scores its
one-step-ahead forecasts of it beside the naive forecast, in the data's own units."""

from __future__ import annotations

import argparse
import csv
import io

import numpy as np

from seqforecast import _cli_panel, inference
from seqforecast._cli_backtest import explicit_backtest
from seqforecast._cli_files import (
    UsageError,
    check_readable,
    deliver,
    from_model_space,
    integrate_levels,
    open_checkpoint,
    output_paths,
    table_for,
    to_model_space,
)
from seqforecast._cli_intervals import interval_cells, interval_columns, plain_intervals, warnings_to_stderr
from seqforecast.auto import AutoForecaster
from seqforecast.checkpoint import Checkpoint

__all__ = ["evaluate_command", "forecast_command", "one_step_scores"]


def _auto_scores(est: AutoForecaster, series: np.ndarray, prime_steps: int) -> dict[str, float]:
    """One-step-ahead scores of an AutoForecaster's causal predictions, after ``prime_steps`` points."""
    import torch

    from seqforecast.metrics import _scores

    predicted, base, target = est.predict(series)[:-1], series[:-1], series[1:]
    if prime_steps >= len(target):
        msg = (
            f"--prime-steps must be less than the {len(target)} one-step forecasts the series gives, "
            f"got {prime_steps}: nothing would be left to score"
        )
        raise UsageError(msg)
    as_tensor = [torch.as_tensor(a[prime_steps:]) for a in (predicted, base, target)]
    scores = _scores(as_tensor[0], as_tensor[2]) | _scores(as_tensor[1], as_tensor[2], "naive_")
    scores["points"] = float(len(target) - prime_steps)
    return scores


def one_step_scores(checkpoint: Checkpoint, series: np.ndarray, prime_steps: int) -> dict[str, float]:
    """One-step-ahead scores in the data's own units, after ``prime_steps`` points."""
    import torch

    from seqforecast.metrics import _scores

    values = to_model_space(checkpoint, series)
    predictions, _ = inference.predict(checkpoint.model, values[:-1])
    predicted = from_model_space(checkpoint, predictions.double().numpy())
    if checkpoint.differencer is not None:
        base, target = series[1:-1], series[2:]  # a forecast difference is added to the last level
        predicted = base + predicted
    else:
        base, target = series[:-1], series[1:]
    if prime_steps >= len(target):
        msg = (
            f"--prime-steps must be less than the {len(target)} one-step forecasts the series gives, "
            f"got {prime_steps}: nothing would be left to score"
        )
        raise UsageError(msg)
    skip = prime_steps
    as_tensor = [torch.as_tensor(a[skip:]) for a in (predicted, base, target)]
    scores = _scores(as_tensor[0], as_tensor[2]) | _scores(as_tensor[1], as_tensor[2], "naive_")
    scores["points"] = float(len(target) - skip)
    return scores


def forecast_command(args: argparse.Namespace) -> int:
    """Run ``seqforecast forecast``; return the exit status."""
    out, plot = output_paths(args, "the forecast")
    panel = _cli_panel.is_panel_checkpoint(args.model)
    if panel is not None:  # trained on a long table: forecast every series of it
        return _cli_panel.forecast_panel_file(args, panel, out)
    if args.future is not None:
        msg = "--future is for a model trained with --future-covariates"
        raise UsageError(msg)
    checkpoint = open_checkpoint(args.model)
    table = table_for(checkpoint, args)
    series = table.values
    if "auto" in checkpoint.metadata:  # written by train --model auto
        est = AutoForecaster.load(args.model)
        est.predict(series)  # builds its state over the whole series
        with warnings_to_stderr():
            result = est.forecast(args.horizon, level=args.level or None)
        predicted, intervals = result.mean, result.intervals
    else:
        values = to_model_space(checkpoint, series)
        future = inference.forecast(checkpoint.model, values, args.horizon)  # (horizon, features)
        predicted = integrate_levels(checkpoint, future.double().numpy(), series[-1])
        intervals = plain_intervals(
            lambda first: explicit_backtest(checkpoint, series, args.horizon, first, 1),
            predicted,
            args.level,
            rows=len(series),
            horizon=args.horizon,
            earliest=1 if checkpoint.differencer is None else 2,
            trained_rows=_trained_rows(checkpoint),
        )
    columns = [str(c) for c in checkpoint.metadata.get("columns") or [f"value{i}" for i in range(series.shape[1])]]
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(["step", *columns, *interval_columns(columns, args.level)])
    writer.writerows(
        [i + 1, *(f"{v:.6g}" for v in row), *interval_cells(intervals, args.level, i)]
        for i, row in enumerate(predicted)
    )
    figure = None
    if plot is not None:
        from seqforecast.plotting import plot_forecast

        shown = series[-max(4 * args.horizon, 50) :, 0]  # the tail, on the data's own rows or time stamps
        rows = np.arange(len(series) - len(shown), len(series))
        figure = plot_forecast(
            shown,
            predicted[:, 0],
            x=rows if table.time is None else table.time[-len(shown) :],
            xlabel="row" if table.time is None else (table.time_column or "time"),
            ylabel=table.columns[0],
            title=f"{args.horizon}-step forecast",
            intervals={level: (low[:, 0], high[:, 0]) for level, (low, high) in intervals.items()},
        )
    deliver(text.getvalue(), out, f"{args.horizon} forecast steps", figure, plot)
    return 0


def _trained_rows(checkpoint: Checkpoint) -> int | None:
    """The rows ``train`` fitted the model on (the first ones), where the checkpoint records them."""
    rows = checkpoint.metadata.get("train_rows")
    return rows if isinstance(rows, int) and not isinstance(rows, bool) and rows > 0 else None


def evaluate_command(args: argparse.Namespace) -> int:
    """Run ``seqforecast evaluate``; return the exit status."""
    check_readable(args.model, "the model")
    check_readable(args.data, "the data")
    checkpoint = open_checkpoint(args.model)
    table = table_for(checkpoint, args)
    series = table.values
    if "auto" in checkpoint.metadata:  # written by train --model auto
        scores = _auto_scores(AutoForecaster.load(args.model), series, args.prime_steps)
    else:
        scores = one_step_scores(checkpoint, series, args.prime_steps)
    print(f"one-step-ahead forecasts of {int(scores['points'])} points (after {args.prime_steps} priming points)")
    print(f"{'metric':<8}{'model':>12}{'naive':>12}")
    for name in ("mse", "rmse", "mae", "smape"):
        print(f"{name:<8}{scores[name]:>12.4g}{scores['naive_' + name]:>12.4g}")
    skill = 1 - scores["mse"] / scores["naive_mse"] if scores["naive_mse"] > 0 else float("nan")
    print(f"skill (1 - MSE / naive MSE): {skill:.1%}")
    return 0
