"""The ``seqforecast`` command: demo, train, forecast, evaluate, backtest, export, shapes.

Bad input (a missing file, an unknown column, a non-numeric cell, a file
that is not a checkpoint, a non-positive size, an output path that names an
input file) prints one line on stderr and exits with status 2, writing
nothing: every output path is checked before any work is done. An
interrupted ``train`` saves its checkpoint and exits with status 130.

This module holds the parser, the argument types several commands share and the dispatch; each
command runs in a ``_cli_*`` module beside it (``_cli_train``, ``_cli_forecast`` for forecast and
evaluate, ``_cli_backtest``, ``_cli_demo`` for demo and shapes, ``_cli_export``).
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable, Sequence
from typing import TypeVar

from seqforecast import _cli_panel
from seqforecast._cli_backtest import backtest_command
from seqforecast._cli_demo import demo_command, shapes_command
from seqforecast._cli_export import add_export_command
from seqforecast._cli_files import UsageError
from seqforecast._cli_forecast import evaluate_command, forecast_command
from seqforecast._cli_heads import add_head_options
from seqforecast._cli_intervals import add_level_option
from seqforecast._cli_models import EXIT_INTERRUPTED, MODELS
from seqforecast._cli_train import train_command
from seqforecast._version import __version__
from seqforecast.series import FILLS

__all__ = ["main"]

EXIT_USAGE = 2
_Number = TypeVar("_Number", int, float)


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


# -- options shared by several commands ---------------------------------------------------
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


def _add_csv_options(parser: argparse.ArgumentParser, *, remembered: bool) -> None:
    default = " (default: the one trained on)" if remembered else ""
    parser.add_argument("--sep", help="the CSV delimiter, one character (default: detected)")
    parser.add_argument("--time-column", type=_column, help=f"column of dates or times, name or index{default}")
    parser.add_argument(
        "--fill",
        choices=FILLS,
        help="fill missing values by linear interpolation or with the last value (default: refuse them)",
    )


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
    demo.set_defaults(run=demo_command)

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
    train.set_defaults(run=train_command)

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
    forecast.set_defaults(run=forecast_command)

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
    evaluate.set_defaults(run=evaluate_command)

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
    backtest.set_defaults(run=backtest_command)

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
    shapes.set_defaults(run=shapes_command)
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
