"""The forecasters the commands build and train: the families ``--model`` offers, a model built from the
options, progress bars while it trains, and the exit status of a run stopped by Ctrl-C."""

from __future__ import annotations

import argparse
import sys
from typing import Any, Literal, cast

from seqforecast.models import ConvForecaster, FeedForwardForecaster, RecurrentForecaster

__all__ = ["EXIT_INTERRUPTED", "MODELS", "build_model", "show_progress"]

EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells expect of a command stopped by Ctrl-C
MODELS = ("rnn", "lstm", "gru", "mlp", "conv")


def build_model(
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
    """A forecaster of family ``kind`` (one of :data:`MODELS`) with the command's sizes and head."""
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


def show_progress(args: argparse.Namespace) -> bool:
    """Whether to draw progress bars: not with ``--quiet``, nor when stderr is not a terminal."""
    return not args.quiet and sys.stderr.isatty()
