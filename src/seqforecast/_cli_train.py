"""``seqforecast train``: a forecaster of the chosen family (or, with ``--model auto``, the recipe
AutoForecaster chooses on validation) trained on a CSV column, or on a long table of many series, scored on
the rows held out and saved as a checkpoint."""

from __future__ import annotations

import argparse
import functools
import sys
from pathlib import Path

import numpy as np

from seqforecast import _cli_panel
from seqforecast._cli_files import UsageError, check_readable, output_file, read_table
from seqforecast._cli_forecast import one_step_scores
from seqforecast._cli_heads import head_options
from seqforecast._cli_models import EXIT_INTERRUPTED, build_model, show_progress
from seqforecast.auto import AutoForecaster
from seqforecast.checkpoint import load as load_checkpoint
from seqforecast.data import ArrayStream
from seqforecast.series import CsvSeries
from seqforecast.training import Trainer
from seqforecast.transforms import Differencer, Scaler

__all__ = ["train_command"]

MIN_AUTO_ROWS = 12  # what AutoForecaster.fit needs


def train_command(args: argparse.Namespace) -> int:
    """Run ``seqforecast train``; return the exit status (130 when Ctrl-C stopped the training)."""
    check_readable(args.data, "the data")
    out = output_file(args.out, "the model", inputs=[args.data])
    if _cli_panel.is_panel(args):  # a long table of many series, or covariates: one global model
        build = functools.partial(
            build_model, hidden_size=args.hidden_size, num_layers=args.num_layers, window=args.window
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
    model = build_model(
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
        progress=show_progress(args),
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
        scores = one_step_scores(checkpoint, np.concatenate([train[-seq_length:], val]), seq_length)
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
