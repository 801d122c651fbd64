"""The command line's files: input and output paths checked before any work, CSVs and checkpoints read,
values moved between the data's units and a model's."""

from __future__ import annotations

import argparse
import importlib.util
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from seqforecast.checkpoint import Checkpoint
from seqforecast.checkpoint import load as load_checkpoint
from seqforecast.series import CsvSeries, read_csv

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "UsageError",
    "check_readable",
    "check_writable",
    "deliver",
    "from_model_space",
    "integrate_levels",
    "need_matplotlib",
    "open_checkpoint",
    "output_file",
    "output_paths",
    "plot_formats",
    "read_table",
    "same_file",
    "table_for",
    "to_model_space",
]


class UsageError(Exception):
    """A problem with the user's input, reported in one line."""


def same_file(a: Path, b: Path) -> bool:
    """Whether ``a`` and ``b`` name one file (through links, ``..`` or another spelling)."""
    try:
        if a.exists() and b.exists():
            return a.samefile(b)
    except OSError:
        return False
    return a.resolve() == b.resolve()


def check_readable(text: str, what: str) -> str:
    """``text`` if it names a regular file: a folder, a device or a pipe is refused before it is read."""
    path = Path(text)
    if not path.exists():
        msg = f"cannot read {what} {text!r}: no such file"
        raise UsageError(msg)
    if not path.is_file():
        kind = "a folder" if path.is_dir() else "not a regular file"
        msg = f"cannot read {what} {text!r}: it is {kind}"
        raise UsageError(msg)
    return text


def check_writable(path: Path, what: str) -> Path:
    if not path.parent.is_dir():
        msg = f"cannot write {what} {str(path)!r}: the folder {str(path.parent)!r} does not exist"
        raise UsageError(msg)
    return path


def output_file(text: str, what: str, *, inputs: Sequence[str] = (), formats: Sequence[str] = ()) -> Path:
    """``text`` as a path where ``what`` can be written without harm, checked before any work is done.

    Its folder must exist; it must not be a folder, nor one of the ``inputs``
    (writing would destroy them); with ``formats``, its suffix must be one
    of them.
    """
    path = check_writable(Path(text), what)
    if path.is_dir():
        msg = f"cannot write {what} {text!r}: it is a folder"
        raise UsageError(msg)
    for given in inputs:
        if same_file(path, Path(given)):
            msg = f"cannot write {what} to {text!r}: it is the same file as {given!r}, which would be overwritten"
            raise UsageError(msg)
    suffix = path.suffix.lower().removeprefix(".")
    if formats and suffix not in formats:
        got = f"'.{suffix}'" if suffix else "no suffix"
        msg = f"cannot write {what} {str(path)!r}: its suffix must be one of {', '.join('.' + f for f in formats)}, got {got}"
        raise UsageError(msg)
    return path


def plot_formats() -> list[str]:
    """The file formats matplotlib can write, by suffix."""
    from matplotlib.backend_bases import FigureCanvasBase

    return sorted(FigureCanvasBase.get_supported_filetypes())


def need_matplotlib(option: str) -> None:
    if importlib.util.find_spec("matplotlib") is None:
        msg = f"{option} needs matplotlib: pip install 'seqforecast[plot]'"
        raise UsageError(msg)


def open_checkpoint(path: str) -> Checkpoint:
    checkpoint = load_checkpoint(path)
    if checkpoint.model.output_size != checkpoint.model.input_size:
        msg = f"{path}: the model's output_size differs from its input_size, so it cannot forecast its own input"
        raise UsageError(msg)
    return checkpoint


def read_table(args: argparse.Namespace, column: str | int | None, time_column: str | int | None) -> CsvSeries:
    """Read ``args.data`` with the CSV options; errors name the command-line flags."""
    return read_csv(args.data, column, sep=args.sep, time_column=time_column, fill=args.fill, _flags=True)


def table_for(checkpoint: Checkpoint, args: argparse.Namespace) -> CsvSeries:
    """The CSV's series for ``checkpoint``'s model (its column, its time column), checked against it."""
    data, column = args.data, args.column
    columns = checkpoint.metadata.get("columns")
    if column is None and isinstance(columns, list) and len(columns) == 1:
        column = columns[0]
    time_column = args.time_column
    if time_column is None and isinstance(checkpoint.metadata.get("time_column"), (str, int)):
        time_column = checkpoint.metadata["time_column"]
    table = read_table(args, column, time_column)
    series = table.values
    if series.shape[1] != checkpoint.model.input_size:
        msg = f"{data}: the model reads {checkpoint.model.input_size} column(s), got {series.shape[1]}; choose one with --column"
        raise UsageError(msg)
    minimum = 3 if checkpoint.differencer is not None else 2
    if series.shape[0] < minimum:
        msg = f"{data}: need at least {minimum} rows, got {series.shape[0]}"
        raise UsageError(msg)
    return table


def to_model_space(checkpoint: Checkpoint, series: np.ndarray) -> np.ndarray:
    values = series
    if checkpoint.differencer is not None:
        values = checkpoint.differencer.transform(values)
    if checkpoint.scaler is not None:
        values = checkpoint.scaler.transform(values)
    return values


def from_model_space(checkpoint: Checkpoint, values: np.ndarray) -> np.ndarray:
    """Undo the scaling of model outputs (differences stay differences)."""
    return values if checkpoint.scaler is None else checkpoint.scaler.inverse_transform(values)


def integrate_levels(checkpoint: Checkpoint, future: np.ndarray, last: np.ndarray) -> np.ndarray:
    """A closed-loop forecast ``(horizon, features)`` from model space into the data's units.

    ``last`` ``(features,)`` is the data's value before the forecast, where a
    differenced model's forecast differences are integrated from.
    """
    predicted = from_model_space(checkpoint, future)
    if checkpoint.differencer is not None:
        predicted = checkpoint.differencer.integrate(predicted, start=last)
    return predicted


def output_paths(args: argparse.Namespace, what: str) -> tuple[Path | None, Path | None]:
    """``--out`` (``what``) and ``--plot``, checked before any work is done: neither may name an input."""
    inputs = [check_readable(args.model, "the model"), check_readable(args.data, "the data")]
    out = None if args.out is None else output_file(args.out, what, inputs=inputs)
    plot = None
    if args.plot is not None:
        need_matplotlib("--plot")
        written = [*inputs, *([] if args.out is None else [args.out])]
        plot = output_file(args.plot, "the plot", inputs=written, formats=plot_formats())
    return out, plot


def deliver(text: str, out: Path | None, wrote: str, figure: Any, plot: Path | None) -> None:
    """Write the CSV ``text`` to ``out`` (saying ``wrote``) or print it; save ``figure`` to ``plot``."""
    if out is not None:
        out.write_text(text)
        print(f"wrote {wrote} to {out}")
    else:
        print(text, end="")
    if figure is not None and plot is not None:
        figure.savefig(plot, dpi=110)
        print(f"wrote {plot}", file=sys.stderr if out is None else sys.stdout)
