"""Prediction intervals in the command line: ``--level``, interval columns and coverage per step."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from seqforecast._cli_files import UsageError
from seqforecast.backtest import Backtest
from seqforecast.conformal import ConformalCalibration

__all__ = ["add_level_option", "coverage_lines", "interval_cells", "interval_columns", "plain_intervals"]

Intervals = Mapping[float, tuple[np.ndarray, np.ndarray]]


def _level(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0.0 < value < 100.0:
        msg = f"expected a level in percent, a number strictly between 0 and 100, got {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return value


def add_level_option(parser: argparse.ArgumentParser, what: str) -> None:
    """``--level 80 95``: interval levels in percent."""
    parser.add_argument("--level", type=_level, nargs="+", default=[], metavar="PERCENT", help=what)


def interval_columns(columns: Sequence[str], levels: Sequence[float]) -> list[str]:
    """``{column}_lower_{level}``, ``{column}_upper_{level}`` for each level, then each column."""
    return [f"{name}_{side}_{level:g}" for level in levels for name in columns for side in ("lower", "upper")]


def interval_cells(intervals: Intervals, levels: Sequence[float], step: int) -> list[str]:
    """The bounds of row ``step``, in the order of :func:`interval_columns`."""
    cells = []
    for level in levels:
        lower, upper = intervals[level]
        cells += [f"{v:.6g}" for pair in zip(lower[step], upper[step], strict=True) for v in pair]
    return cells


def plain_intervals(
    run_backtest: Callable[[int], Backtest],
    predicted: np.ndarray,
    levels: Sequence[float],
    *,
    rows: int,
    horizon: int,
    earliest: int,
) -> dict[float, tuple[np.ndarray, np.ndarray]]:
    """Split-conformal intervals around ``predicted`` ``(horizon, F)`` from a backtest of the last rows.

    The calibration cutoffs are those of the last 20 % of the rows, reaching
    further back when that gives fewer than 20 of them; ``run_backtest(first)``
    backtests from cutoff ``first``.
    """
    if not levels:
        return {}
    first = max(earliest, min(round(0.8 * rows), rows - horizon - 19))
    if rows - horizon - first + 1 < 2:
        msg = f"--level needs at least {earliest + horizon + 1} rows to calibrate intervals with --horizon {horizon}, got {rows}"
        raise UsageError(msg)
    calibration = ConformalCalibration.from_backtest(run_backtest(first))
    try:
        return {level: calibration.interval(predicted, level) for level in levels}
    except ValueError as error:
        msg = f"--level: {error}".replace("`level` ", "level ")
        raise UsageError(msg) from None


def coverage_lines(result: Backtest, levels: Sequence[float]) -> list[str]:
    """A table of the empirical coverage of each level's intervals at each horizon step."""
    if not levels:
        return []
    targets = result.targets.numpy()
    covered = {}
    for level in levels:
        lower, upper = (bound.numpy() for bound in result.interval(level))
        inside = (lower <= targets) & (targets <= upper)  # (K, H, F)
        covered[level] = inside.mean(axis=tuple(d for d in range(inside.ndim) if d != inside.ndim - 2))
    header = "".join(f"{f'{level:g}%':>10}" for level in levels)
    lines = ["empirical coverage of the intervals (calibrated on data before each cutoff)", f"{'step':<6}{header}"]
    lines += [
        f"{h + 1:<6}" + "".join(f"{covered[level][h]:>10.3f}" for level in levels) for h in range(targets.shape[-2])
    ]
    lines.append(f"{'all':<6}" + "".join(f"{float(covered[level].mean()):>10.3f}" for level in levels))
    return lines
