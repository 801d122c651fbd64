"""The ``seqforecast`` command: demo, train, forecast, evaluate, backtest, export, shapes.

Bad input (a missing file, an unknown column, a non-numeric cell, a file
that is not a checkpoint, a non-positive size, an output path that names an
input file) prints one line on stderr and exits with status 2, writing
nothing: every output path is checked before any work is done. An
interrupted ``train`` saves its checkpoint and exits with status 130.
"""

from __future__ import annotations

import argparse
import csv
import functools
import io
import math
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal, TypeVar, cast

import numpy as np

from seqforecast import _cli_panel, inference
from seqforecast._cli_export import add_export_command
from seqforecast._cli_files import (
    UsageError,
    check_readable,
    check_writable,
    deliver,
    from_model_space,
    integrate_levels,
    need_matplotlib,
    open_checkpoint,
    output_file,
    output_paths,
    read_table,
    table_for,
    to_model_space,
)
from seqforecast._cli_heads import add_head_options, head_options
from seqforecast._cli_intervals import (
    add_level_option,
    coverage_lines,
    interval_cells,
    interval_columns,
    plain_intervals,
    warnings_to_stderr,
)
from seqforecast._version import __version__
from seqforecast.auto import AutoForecaster
from seqforecast.backtesting import Backtest
from seqforecast.checkpoint import Checkpoint
from seqforecast.checkpoint import load as load_checkpoint
from seqforecast.data import ArrayStream
from seqforecast.models import ConvForecaster, FeedForwardForecaster, RecurrentForecaster
from seqforecast.series import FILLS, CsvSeries
from seqforecast.training import Trainer
from seqforecast.transforms import Differencer, Scaler

__all__ = ["main"]

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells expect of a command stopped by Ctrl-C
_Number = TypeVar("_Number", int, float)
MODELS = ("rnn", "lstm", "gru", "mlp", "conv")
MIN_AUTO_ROWS = 12  # what AutoForecaster.fit needs


class _Parser(argparse.ArgumentParser):
    """An argument parser that reports errors in one line, exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _parsed(kind: Callable[[str], _Number], text: str, expected: str, valid: Callable[[_Number], bool]) -> _Number:
    """Parse ``text`` with ``kind`` and check it, for argparse ``type=`` functions."""
    try:
        value = kind(text)
    except ValueError:
        msg = f"expected {expected}, got {text!r}"
        raise argparse.ArgumentTypeError(msg) from None
    if not valid(value):
        msg = f"expected {expected}, got {text}"
        raise argparse.ArgumentTypeError(msg)
    return value


def _positive_int(text: str) -> int:
    return _parsed(int, text, "a positive integer", lambda v: v > 0)


def _non_negative_int(text: str) -> int:
    return _parsed(int, text, "an integer >= 0", lambda v: v >= 0)


def _start(text: str) -> int | float:
    """``--start``: a row (an integer >= 1) or a fraction of the rows (a number in (0, 1))."""
    expected = "a row >= 1 or a fraction of the rows in (0, 1)"
    try:
        row = int(text)
    except ValueError:
        return _parsed(float, text, expected, lambda v: 0.0 < v < 1.0)
    return _parsed(int, str(row), expected, lambda v: v >= 1)


def _fraction(text: str) -> float:
    return _parsed(float, text, "a number in [0, 1)", lambda v: 0.0 <= v < 1.0)


def _positive_float(text: str) -> float:
    return _parsed(float, text, "a positive number", lambda v: 0.0 < v < math.inf)


def _column(text: str) -> str | int:
    """A column name, or a 0-based index when the text is an integer."""
    try:
        return int(text)
    except ValueError:
        return text


# -- building blocks shared by the commands ---------------------------------------------
def _build_model(
    kind: str,
    *,
    input_size: int,
    hidden_size: int,
    num_layers: int,
    window: int,
    batch_first: bool = True,
    head: dict[str, Any] | None = None,
    output_size: int | None = None,
) -> Any:
    head = head or {}  # a likelihood or quantile head (seqforecast._cli_heads)
    outputs = input_size if output_size is None else output_size  # fewer outputs: the other inputs are covariates
    if kind in ("rnn", "lstm", "gru"):
        return RecurrentForecaster(
            input_size,
            outputs,
            hidden_size,
            num_layers,
            cell=cast("Literal['rnn', 'lstm', 'gru']", kind),
            batch_first=batch_first,
            **head,
        )
    if kind == "mlp":
        return FeedForwardForecaster(
            input_size, outputs, (hidden_size,) * num_layers, window=window, batch_first=batch_first, **head
        )
    return ConvForecaster(
        input_size,
        outputs,
        channels=hidden_size,
        num_layers=num_layers,
        head_hidden=hidden_size,
        batch_first=batch_first,
        **head,
    )


def _add_model_options(parser: argparse.ArgumentParser, *, model: str, layers: int) -> None:
    choices = ("auto", *MODELS) if model == "auto" else MODELS
    what = "auto: the recipe chosen on validation" if model == "auto" else model
    parser.add_argument("--model", choices=choices, default=model, help=f"forecaster family (default {what})")
    parser.add_argument(
        "--hidden-size", type=_positive_int, default=32, help="width of hidden layers or channels (default 32)"
    )
    parser.add_argument("--num-layers", type=_positive_int, default=layers, help=f"layers (default {layers})")
    parser.add_argument("--window", type=_positive_int, default=8, help="inputs the mlp sees (default 8)")
    add_head_options(parser)


def _add_threads_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--threads",
        type=_positive_int,
        default=1,
        help="torch threads while training (default 1: these small models train fastest on one CPU thread, "
        "and several threads slow down badly on a busy machine)",
    )


def _progress(args: argparse.Namespace) -> bool:
    return not args.quiet and sys.stderr.isatty()


def _add_csv_options(parser: argparse.ArgumentParser, *, remembered: bool) -> None:
    default = " (default: the one trained on)" if remembered else ""
    parser.add_argument("--sep", help="the CSV delimiter, one character (default: detected)")
    parser.add_argument("--time-column", type=_column, help=f"column of dates or times, name or index{default}")
    parser.add_argument(
        "--fill",
        choices=FILLS,
        help="fill missing values by linear interpolation or with the last value (default: refuse them)",
    )


# -- commands ----------------------------------------------------------------------------
def _demo(args: argparse.Namespace) -> int:
    from seqforecast.demo import format_table, run_demo

    out = None
    if args.out is not None:
        need_matplotlib("--out")
        out = Path(args.out)
        if out.exists() and not out.is_dir():
            msg = f"--out {str(out)!r} exists and is not a folder"
            raise UsageError(msg)
        check_writable(out, "the report folder")
    results = run_demo(
        args.steps, args.batch_size, device=args.device, seed=args.seed, threads=args.threads, progress=_progress(args)
    )
    print(format_table(results))
    print(
        "\nMSE is next-step error on an unseen stretch (900-1260 degrees): cold starts with no memory,"
        "\nprimed first runs 720-894 degrees through the model. 'causal' checks that changing later"
        "\ninputs leaves earlier outputs unchanged; conv-2sided is the notebook's CNN, which does not."
    )
    if out is not None:
        from seqforecast.report import write_report

        print(f"\nreport: {write_report(results, out)}")
    return 0


def _train(args: argparse.Namespace) -> int:
    check_readable(args.data, "the data")
    out = output_file(args.out, "the model", inputs=[args.data])
    if _cli_panel.is_panel(args):  # a long table of many series, or covariates: one global model
        build = functools.partial(
            _build_model, hidden_size=args.hidden_size, num_layers=args.num_layers, window=args.window
        )
        return _cli_panel.train_panel(args, out, build)
    table = read_table(args, args.column, args.time_column)
    series = table.values
    if args.column is None and series.shape[1] > 1:
        names = ", ".join(repr(c) for c in table.columns)
        msg = f"{args.data} has {series.shape[1]} numeric columns ({names}); choose the one to forecast with --column"
        if args.time_column is None:
            msg += " (and name a column of times with --time-column)"
        raise UsageError(msg)
    columns = None if args.column is None else [args.column]  # a name, or an index into a file without one
    split = round(len(series) * (1 - args.val_fraction))
    train, val = series[:split], series[split:]
    if args.model == "auto":
        return _train_auto(args, out, table, split)
    if args.season is not None:
        msg = "--season applies to --model auto only"
        raise UsageError(msg)
    seq_length, batch_size = _window_sizes(args, len(train) - (1 if args.difference else 0))
    differencer = Differencer().fit(train) if args.difference else None
    train_values = train if differencer is None else differencer.transform(train)
    scaler = Scaler().fit(train_values) if args.scale else None
    if scaler is not None:
        train_values = scaler.transform(train_values)
    stream = ArrayStream(train_values, seq_length, batch_size=batch_size)
    import torch

    torch.manual_seed(args.seed)
    model = _build_model(
        args.model,
        input_size=series.shape[1],
        hidden_size=args.hidden_size,
        num_layers=args.num_layers,
        window=args.window,
        head=head_options(args),
    )
    trainer = Trainer(
        model,
        lr=args.lr,
        device=args.device,
        clip_grad_norm=args.clip,
        seed=args.seed,
        threads=args.threads,
        progress=_progress(args),
    )
    epochs = None if args.steps is not None else (args.epochs or 20)
    history = trainer.fit(stream, steps=args.steps, epochs=epochs)
    metadata = {
        "columns": columns,
        "source": Path(args.data).name,
        "model": args.model,
        "seq_length": seq_length,
        "time_column": table.time_column,
        "train_rows": split,  # forecast --level calibrates its intervals on the rows after these
    }
    trainer.save_checkpoint(out, scaler=scaler, differencer=differencer, metadata=metadata)
    state = "interrupted after" if history.interrupted else "trained"  # interrupted: saved, then exit status 130
    print(f"{state} {history.steps} steps in {history.seconds:.1f} s; final training loss {history.losses[-1]:.4g}")
    if len(val) >= 3:
        checkpoint = load_checkpoint(out)
        scores = _one_step_scores(checkpoint, np.concatenate([train[-seq_length:], val]), seq_length)
        print(
            f"validation ({int(scores['points'])} forecasts in the last {len(val)} rows), one step ahead: "
            f"MSE {scores['mse']:.4g} vs naive {scores['naive_mse']:.4g}"
        )
        if not scores["mse"] < scores["naive_mse"]:
            print(
                f"warning: the model does not beat the naive forecast on validation (MSE {scores['mse']:.4g} vs "
                f"naive {scores['naive_mse']:.4g}); try --model auto, or --difference for a series with a trend",
                file=sys.stderr,
            )
    print(f"saved {out}")
    return EXIT_INTERRUPTED if history.interrupted else 0


_EXPLICIT_ONLY = (  # train options that set up an explicit --model, with their defaults
    ("--hidden-size", "hidden_size", 32),
    ("--num-layers", "num_layers", 2),
    ("--window", "window", 8),
    ("--seq-length", "seq_length", None),
    ("--batch-size", "batch_size", None),
    ("--epochs", "epochs", None),
    ("--no-scale", "scale", True),
    ("--difference", "difference", False),
    ("--lr", "lr", 0.01),
    ("--clip", "clip", 1.0),
    ("--threads", "threads", 1),  # AutoForecaster trains on one thread
    ("--likelihood", "likelihood", None),
    ("--quantiles", "quantiles", None),
)


def _train_auto(args: argparse.Namespace, out: Path, table: CsvSeries, split: int) -> int:
    """``train --model auto``: AutoForecaster on the first rows, scored on the rows held out."""
    import warnings

    given = [flag for flag, name, default in _EXPLICIT_ONLY if getattr(args, name) != default]
    if given:
        msg = f"{given[0]} sets up an explicit --model; --model auto chooses it itself (drop it, or pick --model lstm, gru, ...)"
        raise UsageError(msg)
    if args.device not in ("auto", "cpu"):
        msg = f"--model auto trains on the CPU, got --device {args.device}"
        raise UsageError(msg)
    series = table.values
    train, val = series[:split], series[split:]
    steps = {} if args.steps is None else {"steps": args.steps}
    est = AutoForecaster(args.seed, season=args.season, **steps)
    if len(train) < MIN_AUTO_ROWS:
        msg = (
            f"{args.data}: --model auto needs at least {MIN_AUTO_ROWS} training rows (the first "
            f"{1 - args.val_fraction:.0%} by --val-fraction), got {len(train)}"
        )
        raise UsageError(msg)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        est.fit(train)
    for warning in caught:
        print(f"warning: {warning.message}", file=sys.stderr)
    best, naive, seasonal = est.validation_mse, est.naive_mse_, est.seasonal_naive_mse_
    skill = f"{best / naive:.3f} of naive" if naive > 0 else "naive MSE 0"
    skill += f", {best / seasonal:.3f} of seasonal naive" if seasonal else ""
    print(f"chose {est.choice_} in {est.seconds_:.1f} s; validation MSE {best:.4g} ({skill})")
    predicted = est.predict(series)  # causal; the state ends after the whole file, where forecast continues
    if len(val) >= 2:
        model = float(np.mean((predicted[split - 1 : -1] - val) ** 2))
        naive = float(np.mean((series[split - 1 : -1] - val) ** 2))
        print(f"held out (the last {len(val)} rows), one step ahead: MSE {model:.4g} vs naive {naive:.4g}")
    metadata = {"columns": None if args.column is None else [args.column], "source": Path(args.data).name,
                "model": "auto", "time_column": table.time_column}  # fmt: skip
    est.save(out, metadata=metadata)
    print(f"saved {out}")
    return 0


def _window_sizes(args: argparse.Namespace, rows: int) -> tuple[int, int]:
    """``--seq-length`` and ``--batch-size``, or defaults that fit ``rows`` training rows."""
    seq_length = args.seq_length or max(2, min(32, rows // 10))
    batch_size = args.batch_size or max(1, min(8, rows // (4 * (seq_length + 1))))
    if batch_size * (seq_length + 1) > rows:
        given = [
            f"--{flag} {value}"
            for flag, value in (("seq-length", args.seq_length), ("batch-size", args.batch_size))
            if value
        ]
        msg = (
            f"{args.data}: {' with '.join(given) or 'the series'} needs at least "
            f"{batch_size * (seq_length + 1)} training rows (--batch-size * (--seq-length + 1)), "
            f"got {rows}; give smaller values, or leave them out to get values that fit"
        )
        raise UsageError(msg)
    return seq_length, batch_size


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


def _one_step_scores(checkpoint: Checkpoint, series: np.ndarray, prime_steps: int) -> dict[str, float]:
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


def _forecast(args: argparse.Namespace) -> int:
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
            lambda first: _explicit_backtest(checkpoint, series, args.horizon, first, 1),
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


def _evaluate(args: argparse.Namespace) -> int:
    check_readable(args.model, "the model")
    check_readable(args.data, "the data")
    checkpoint = open_checkpoint(args.model)
    table = table_for(checkpoint, args)
    series = table.values
    if "auto" in checkpoint.metadata:  # written by train --model auto
        scores = _auto_scores(AutoForecaster.load(args.model), series, args.prime_steps)
    else:
        scores = _one_step_scores(checkpoint, series, args.prime_steps)
    print(f"one-step-ahead forecasts of {int(scores['points'])} points (after {args.prime_steps} priming points)")
    print(f"{'metric':<8}{'model':>12}{'naive':>12}")
    for name in ("mse", "rmse", "mae", "smape"):
        print(f"{name:<8}{scores[name]:>12.4g}{scores['naive_' + name]:>12.4g}")
    skill = 1 - scores["mse"] / scores["naive_mse"] if scores["naive_mse"] > 0 else float("nan")
    print(f"skill (1 - MSE / naive MSE): {skill:.1%}")
    return 0


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


def _explicit_backtest(checkpoint: Checkpoint, series: np.ndarray, horizon: int, first: int, stride: int) -> Backtest:
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


def _backtest(args: argparse.Namespace) -> int:
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
        result = _explicit_backtest(checkpoint, series, args.horizon, first, args.stride)
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


def _shapes(args: argparse.Namespace) -> int:
    import torch

    from seqforecast.tracing import format_stages, trace_shapes

    model = _build_model(
        args.model,
        input_size=args.input_size,
        hidden_size=args.hidden_size,
        num_layers=args.num_layers,
        window=args.window,
        batch_first=not args.time_first,
        head=head_options(args),
    )
    shape = (args.seq_length, args.batch_size) if args.time_first else (args.batch_size, args.seq_length)
    print(format_stages(trace_shapes(model, torch.zeros(*shape, args.input_size))))
    return 0


# -- the parser ---------------------------------------------------------------------------
def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="seqforecast", description="Stateful time-series forecasting with PyTorch.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser, metavar="COMMAND")

    demo = commands.add_parser(
        "demo",
        help="train an RNN, a memory-less MLP and CNNs on a sine wave and compare them",
        description="Train the notebook's forecasters on a sine wave, print a comparison table and, with --out, "
        "write plots and a self-contained report.html.",
    )
    demo.add_argument("--steps", type=_positive_int, default=300, help="training windows per model (default 300)")
    demo.add_argument("--batch-size", type=_positive_int, default=16, help="sine lanes per window (default 16)")
    demo.add_argument("--device", default="auto", help="auto, cpu or cuda (default auto)")
    _add_threads_option(demo)
    demo.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    demo.add_argument("--out", metavar="DIR", help="write PNG plots and report.html to this folder")
    demo.add_argument("--quiet", action="store_true", help="no progress bars")
    demo.set_defaults(run=_demo)

    train = commands.add_parser(
        "train", help="train a forecaster on a CSV column", description="Train a forecaster on a CSV file."
    )
    train.add_argument("data", help="CSV file (with or without a header)")
    train.add_argument("--column", type=_column, help="column name or 0-based index (default: the only numeric column)")
    _add_csv_options(train, remembered=False)
    _add_model_options(train, model="auto", layers=2)
    train.add_argument(
        "--season", type=_non_negative_int, help="seasonal period for --model auto (default: detected; 0: none)"
    )
    train.add_argument(
        "--seq-length", type=_positive_int, help="time steps per window (default 32, less for a short series)"
    )
    train.add_argument(
        "--batch-size", type=_positive_int, help="contiguous lanes of the series (default 8, less for a short series)"
    )
    length = train.add_mutually_exclusive_group()
    length.add_argument("--steps", type=_positive_int, help="training windows")
    length.add_argument("--epochs", type=_positive_int, help="passes over the data (default 20)")
    train.add_argument(
        "--val-fraction", type=_fraction, default=0.1, help="last part held out for validation (default 0.1)"
    )
    train.add_argument("--scale", action=argparse.BooleanOptionalAction, default=True, help="standardise (default on)")
    train.add_argument("--difference", action="store_true", help="model first differences (for trending series)")
    train.add_argument("--lr", type=_positive_float, default=0.01, help="Adam learning rate (default 0.01)")
    train.add_argument("--clip", type=_positive_float, default=1.0, help="gradient norm clip (default 1.0)")
    train.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    train.add_argument("--device", default="auto", help="auto, cpu or cuda (default auto)")
    _add_threads_option(train)
    _cli_panel.add_panel_options(train)
    train.add_argument("--out", required=True, help="checkpoint to write (e.g. model.safetensors)")
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    train.set_defaults(run=_train)

    forecast = commands.add_parser(
        "forecast", help="forecast the steps after a CSV series", description="Forecast the steps after the series."
    )
    forecast.add_argument("model", help="checkpoint written by 'seqforecast train'")
    forecast.add_argument("data", help="CSV file whose series to continue")
    forecast.add_argument("--column", type=_column, help="column name or index (default: the one trained on)")
    _add_csv_options(forecast, remembered=True)
    forecast.add_argument("--horizon", type=_positive_int, required=True, help="steps to forecast")
    _cli_panel.add_future_option(forecast)
    forecast.add_argument("--out", help="write the forecast to this CSV file (default: print it)")
    forecast.add_argument("--plot", help="write a PNG plot of the series and its forecast")
    add_level_option(forecast, "prediction interval levels in percent, e.g. 80 95: lower/upper columns, fan bands")
    forecast.set_defaults(run=_forecast)

    evaluate = commands.add_parser(
        "evaluate",
        help="score one-step forecasts against the naive forecast",
        description="Score the model's one-step-ahead forecasts of a CSV series beside the naive forecast.",
    )
    evaluate.add_argument("model", help="checkpoint written by 'seqforecast train'")
    evaluate.add_argument("data", help="CSV file")
    evaluate.add_argument("--column", type=_column, help="column name or index (default: the one trained on)")
    _add_csv_options(evaluate, remembered=True)
    evaluate.add_argument("--prime-steps", type=_non_negative_int, default=0, help="points used only to build memory")
    evaluate.set_defaults(run=_evaluate)

    backtest = commands.add_parser(
        "backtest",
        help="forecast from every cutoff and score each step against naive",
        description="Forecast --horizon steps from every cutoff of a CSV series (each from the rows before it, "
        "in one stateful pass), write the forecasts beside what happened and score each step ahead against "
        "the naive forecast.",
    )
    backtest.add_argument("model", help="checkpoint written by 'seqforecast train'")
    backtest.add_argument("data", help="CSV file")
    backtest.add_argument("--column", type=_column, help="column name or index (default: the one trained on)")
    _add_csv_options(backtest, remembered=True)
    backtest.add_argument("--horizon", type=_positive_int, required=True, help="steps forecast from each cutoff")
    backtest.add_argument(
        "--start",
        type=_start,
        required=True,
        help="the first cutoff: a row (the first forecast point) or a fraction of the rows (0.8: the last 20%%)",
    )
    backtest.add_argument("--stride", type=_positive_int, default=1, help="rows between cutoffs (default 1)")
    backtest.add_argument("--out", help="write the forecasts and targets to this CSV file (default: print them)")
    backtest.add_argument("--plot", help="write a plot of the error per step ahead beside the naive forecast's")
    add_level_option(backtest, "interval levels in percent (--model auto): their coverage per step ahead")
    backtest.set_defaults(run=_backtest)

    add_export_command(commands)

    shapes = commands.add_parser(
        "shapes",
        help="print the shape of every stage of a forward pass",
        description="Print the shape and meaning of every stage of a forecaster's forward pass.",
    )
    _add_model_options(shapes, model="rnn", layers=3)
    shapes.add_argument("--batch-size", type=_positive_int, default=1, help="series in the batch (default 1)")
    shapes.add_argument("--seq-length", type=_positive_int, default=8, help="time steps (default 8)")
    shapes.add_argument("--input-size", type=_positive_int, default=1, help="features per step (default 1)")
    shapes.add_argument("--time-first", action="store_true", help="use the (time, batch, features) layout")
    shapes.set_defaults(run=_shapes)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status.

    Example:
        >>> from seqforecast.cli import main
        >>> main(["shapes", "--model", "gru", "--num-layers", "1"])  # doctest: +ELLIPSIS
        stage       shape      meaning
        ...
        0
    """
    parser = _build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else EXIT_USAGE
    try:
        status: int = args.run(args)
        sys.stdout.flush()  # so that a closed pipe shows up here, not at exit
    except BrokenPipeError:
        # The reader went away (`seqforecast train ... | head -1`): what was asked is done or stopped;
        # end quietly with the status of a process ended by SIGPIPE, as Unix tools do.
        import contextlib
        import os

        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        return 128 + 13
    except (UsageError, ValueError, TypeError, OSError, ImportError) as error:
        print(f"seqforecast {args.command}: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"seqforecast {args.command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    return status
