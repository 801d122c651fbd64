"""Prediction intervals in the command line: ``--level``, interval columns and coverage per step."""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager

import numpy as np

from seqforecast._cli_files import UsageError
from seqforecast._conformal import errors_needed
from seqforecast.backtesting import Backtest
from seqforecast.conformal import ConformalCalibration
from seqforecast.results import check_levels

__all__ = [
    "add_level_option",
    "coverage_lines",
    "interval_cells",
    "interval_columns",
    "plain_intervals",
    "warnings_to_stderr",
]

Intervals = Mapping[float, tuple[np.ndarray, np.ndarray]]


def _level(text: str) -> float:
    try:
        (value,) = check_levels("--level", float(text))
    except ValueError:
        msg = f"expected a level in percent, a number strictly between 0 and 100, got {text!r}"
        raise argparse.ArgumentTypeError(msg) from None
    return value


class _Levels(argparse.Action):
    """Keeps the levels given sorted and unique (``--level 95 80 80`` is 80 and 95)."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[object] | None,
        option_string: str | None = None,
    ) -> None:
        setattr(namespace, self.dest, list(check_levels("--level", values)))


def add_level_option(parser: argparse.ArgumentParser, what: str) -> None:
    """``--level 80 95``: interval levels in percent, sorted and unique."""
    parser.add_argument("--level", type=_level, nargs="+", action=_Levels, default=[], metavar="PERCENT", help=what)


@contextmanager
def warnings_to_stderr() -> Iterator[None]:
    """Print the library's warnings as one ``warning: ...`` line each on standard error."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        yield
    for warning in caught:
        print(f"warning: {warning.message}", file=sys.stderr)


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
    trained_rows: int | None,
) -> dict[float, tuple[np.ndarray, np.ndarray]]:
    """Split-conformal intervals around ``predicted`` ``(horizon, F)`` from a backtest of rows not trained on.

    The calibration cutoffs are the rows from ``trained_rows`` on (the rows
    the model was not trained on; their targets were never seen). When those
    give too few cutoffs for the highest level, or the checkpoint does not
    say how many rows it was trained on, they are those of the last 20 % of
    the rows, reaching further back when that gives fewer than 20 of them,
    with a warning that they may be too narrow. ``run_backtest(first)``
    backtests from cutoff ``first``.
    """
    if not levels:
        return {}
    needed = max(2, errors_needed(max(levels)))
    if trained_rows is not None and rows - horizon - max(earliest, trained_rows) + 1 >= needed:
        first = max(earliest, trained_rows)
    else:
        first = max(earliest, min(round(0.8 * rows), rows - horizon - 19))
        if trained_rows is None:
            why = "the model does not record the rows it was trained on (it was saved by an older version)"
        else:
            why = (
                f"the {max(0, rows - trained_rows)} rows after the {trained_rows} trained on give too few cutoffs "
                f"with --horizon {horizon} ({needed} needed for {max(levels):g}%)"
            )
        if trained_rows is None or first < trained_rows:
            print(
                f"warning: --level: {why}; the intervals are calibrated on forecasts from row {first} on, "
                "partly of rows the model was trained on, so they may be too narrow",
                file=sys.stderr,
            )
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
