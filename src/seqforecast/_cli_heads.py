"""The ``--likelihood`` and ``--quantiles`` options of ``seqforecast train`` and ``shapes``."""

from __future__ import annotations

import argparse
from typing import Any

from seqforecast._cli_files import UsageError
from seqforecast.heads import LIKELIHOODS

__all__ = ["add_head_options", "head_options"]


def add_head_options(parser: argparse.ArgumentParser) -> None:
    """Add the mutually exclusive ``--likelihood`` and ``--quantiles`` options to ``parser``."""
    head = parser.add_mutually_exclusive_group()
    head.add_argument(
        "--likelihood",
        choices=LIKELIHOODS,
        help="emit a one-step distribution and train on its negative log-likelihood (default: a point forecast)",
    )
    head.add_argument(
        "--quantiles",
        type=float,
        nargs="+",
        metavar="Q",
        help="emit these quantiles (increasing, in (0, 1)) and train on the pinball loss, e.g. 0.1 0.5 0.9",
    )


def head_options(args: argparse.Namespace) -> dict[str, Any]:
    """The forecaster keywords the options ask for; counts must stay counts (no scaling, no differencing)."""
    likelihood = getattr(args, "likelihood", None)
    quantiles = getattr(args, "quantiles", None)
    if likelihood == "negative_binomial" and (getattr(args, "scale", False) or getattr(args, "difference", False)):
        msg = "--likelihood negative_binomial models the raw counts: add --no-scale (and leave out --difference)"
        raise UsageError(msg)
    if likelihood is not None:
        return {"likelihood": likelihood}
    return {} if quantiles is None else {"quantiles": tuple(quantiles)}
