"""``seqforecast backtest``: forecasts from every cutoff of a CSV series beside what happened, scored per step
ahead against the naive forecast; and the backtest of an explicit checkpoint in the data's units, which
``forecast --level`` also calibrates its intervals on."""

from __future__ import annotations

import argparse
import csv
import io
import math
import sys

import numpy as np

from seqforecast._cli_files import (
    UsageError,
    deliver,
    integrate_levels,
    open_checkpoint,
    output_paths,
    table_for,
    to_model_space,
)
from seqforecast._cli_intervals import coverage_lines, warnings_to_stderr
from seqforecast.auto import AutoForecaster
from seqforecast.backtesting import Backtest
from seqforecast.checkpoint import Checkpoint
from seqforecast.series import CsvSeries

__all__ = ["backtest_command", "explicit_backtest"]


def _first_cutoff_for(args: argparse.Namespace, rows: int, earliest: int) -> int:
    """``--start`` as the row of the first forecast point: ``earliest`` rows before it, ``--horizon`` rows after."""
    from seqforecast.backtesting import _first_cutoff

    latest = rows - args.horizon
    if latest < earliest:
        msg = (
            f"{args.data}: --horizon {args.horizon} leaves no cutoff: it needs at least "
            f"{earliest + args.horizon} rows ({earliest} before the cutoff), got {rows}"
        )
        raise UsageError(msg)
    try:
        first = _first_cutoff(args.start, rows, args.horizon)  # a fraction becomes a row, as backtest() counts it
    except ValueError:
        first = -1
    if not earliest <= first <= latest:
        at = f" (row {first})" if isinstance(args.start, float) and first >= 0 else ""
        msg = (
            f"--start must leave at least {earliest} row(s) before the first cutoff and --horizon {args.horizon} "
            f"after it: a row in [{earliest}, {latest}] of the {rows} in {args.data}, or a fraction in (0, 1) "
            f"that lands there, got {args.start}{at}"
        )
        raise UsageError(msg)
    return first


def explicit_backtest(checkpoint: Checkpoint, series: np.ndarray, horizon: int, first: int, stride: int) -> Backtest:
    """:func:`~seqforecast.backtest` in model space, its forecasts mapped back to the data's units."""
    import torch

    from seqforecast.backtesting import backtest

    shift = 0 if checkpoint.differencer is None else 1  # difference i is series[i + 1] - series[i]
    result = backtest(checkpoint.model, to_model_space(checkpoint, series), horizon, start=first - shift, stride=stride)
    cutoffs = result.cutoffs.numpy() + shift  # rows of the data
    ahead = result.forecasts.double().numpy()  # (K, H, F) in model space
    forecasts = np.stack([integrate_levels(checkpoint, f, series[c - 1]) for f, c in zip(ahead, cutoffs, strict=True)])
    seen = series[:first]
    scale = np.abs(np.diff(seen, axis=0)).mean(0) if first > 1 else np.full(series.shape[1], np.nan)
    return Backtest(
        forecasts=torch.from_numpy(forecasts),
        targets=torch.from_numpy(series[cutoffs[:, None] + np.arange(horizon)]),
        cutoffs=torch.from_numpy(cutoffs.astype(np.int64)),
        last=torch.from_numpy(series[cutoffs - 1]),
        scale=torch.from_numpy(scale),
    )


_FLAGS = {"`start`": "--start", "`horizon`": "--horizon", "`stride`": "--stride"}


def _backtest_csv(table: CsvSeries, result: Backtest) -> str:
    """The long table: one row per cutoff and step, the target and the forecast of each column."""
    columns = ["target", "forecast"]
    if len(table.columns) > 1:
        columns = [f"{name}_{kind}" for name in table.columns for kind in columns]
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(["cutoff", "step", "time", *columns])
    targets, forecasts = result.targets.numpy(), result.forecasts.numpy()
    for k, cutoff in enumerate(result.cutoffs.tolist()):
        for h in range(targets.shape[1]):
            row = cutoff + h
            pairs = (f"{v:.6g}" for pair in zip(targets[k, h], forecasts[k, h], strict=True) for v in pair)
            writer.writerow([cutoff, h + 1, row if table.time is None else table.time[row], *pairs])
    return text.getvalue()


def backtest_command(args: argparse.Namespace) -> int:
    """Run ``seqforecast backtest``; return the exit status."""
    out, plot = output_paths(args, "the backtest")
    checkpoint = open_checkpoint(args.model)
    table = table_for(checkpoint, args)
    series = table.values
    auto = "auto" in checkpoint.metadata  # written by train --model auto
    first = _first_cutoff_for(args, len(series), 2 if checkpoint.differencer is not None and not auto else 1)
    if auto:
        try:
            est = AutoForecaster.load(args.model)
            with warnings_to_stderr():
                result = est.backtest(series, args.horizon, start=first, stride=args.stride, level=args.level or None)
        except ValueError as error:  # a start too early for its transform, say
            message = str(error)
            for name, flag in _FLAGS.items():
                message = message.replace(name, flag)
            raise UsageError(message) from None
    else:
        if args.level:
            msg = (
                "--level in backtest needs a model trained with --model auto (its intervals are calibrated in training)"
            )
            raise UsageError(msg)
        result = explicit_backtest(checkpoint, series, args.horizon, first, args.stride)
    metrics = {name: value.numpy() for name, value in result.metrics().items()}
    cutoffs = result.cutoffs.tolist()
    every = f", every {args.stride}" if len(cutoffs) > 1 else ""
    summary = [
        f"backtest: {len(cutoffs)} forecast(s) of {args.horizon} steps, from rows {cutoffs[0]} to {cutoffs[-1]}{every}",
        f"{'step':<6}{'MSE':>12}{'naive MSE':>12}{'relative':>10}",
        *(
            f"{h + 1:<6}{metrics['mse'][h]:>12.4g}{metrics['naive_mse'][h]:>12.4g}{metrics['relative_mse'][h]:>10.3f}"
            for h in range(args.horizon)
        ),
    ]
    mse, naive = float(metrics["mse"].mean()), float(metrics["naive_mse"].mean())
    summary.append(f"{'all':<6}{mse:>12.4g}{naive:>12.4g}{mse / naive if naive > 0 else math.nan:>10.3f}")
    summary.append("relative = MSE / naive MSE (below 1 beats repeating the last value before the cutoff)")
    summary += coverage_lines(result, args.level)
    figure = None
    if plot is not None:
        from seqforecast.plotting import plot_backtest

        name = f" ({table.columns[0]})" if len(table.columns) == 1 else ""
        title = f"Backtest: {len(cutoffs)} forecast(s) of {args.horizon} steps"
        figure = plot_backtest(metrics, title=title, ylabel=f"MSE{name}")
    print("\n".join(summary), file=sys.stderr if out is None else sys.stdout)
    rows = len(cutoffs) * args.horizon
    deliver(
        _backtest_csv(table, result), out, f"{rows} rows ({len(cutoffs)} cutoffs x {args.horizon} steps)", figure, plot
    )
    return 0
