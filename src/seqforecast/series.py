"""Reading and validating the series users bring: arrays, tensors and CSV files."""

from __future__ import annotations

import csv
import itertools
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from seqforecast._checks import as_float_tensor, describe

__all__ = ["FILLS", "CsvSeries", "load_series", "read_csv", "series_tensor"]


def series_tensor(
    name: str, series: object, *, dtype: torch.dtype = torch.float32, device: torch.device | str | None = None
) -> Tensor:
    """Validate one series and return it as a ``(time, features)`` tensor.

    Raises:
        TypeError: Non-numeric, bool or complex data (integers are converted to ``dtype``).
        ValueError: Ragged, wrong number of dimensions, empty, NaN or inf
            (the message gives the first bad index).
    """
    tensor = as_float_tensor(name, series, dtype=dtype, device=device, integers=True)
    if tensor.dim() == 1:
        tensor = tensor.unsqueeze(-1)
    if tensor.dim() != 2:
        msg = f"`{name}` must have shape (time,) or (time, features), got shape {tuple(tensor.shape)}"
        raise ValueError(msg)
    if tensor.shape[0] == 0 or tensor.shape[1] == 0:
        msg = f"`{name}` must have at least one time step and one feature, got shape {tuple(tensor.shape)}"
        raise ValueError(msg)
    return tensor


_MISSING = frozenset({"", "na", "nan", "n/a", "#n/a", "null", "none", "."})
_DELIMITERS = (",", ";", "\t", "|")
FILLS = ("interpolate", "ffill")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _is_missing(text: str) -> bool:
    return text.strip().lower() in _MISSING


@dataclass(frozen=True)
class CsvSeries:
    """A series read from a CSV file by :func:`~seqforecast.series.read_csv`.

    Attributes:
        values: Float64 array of shape ``(time, features)``.
        columns: The name of each feature column (its 0-based index as text
            when the file has no header).
        time: The time column's cells as written (dates or numbers), or None.
        time_column: The time column's name, or None.
        filled: File line numbers whose missing values were filled.
    """

    values: np.ndarray
    columns: tuple[str, ...]
    time: tuple[str, ...] | None = None
    time_column: str | None = None
    filled: tuple[int, ...] = ()


def _option(name: str, flags: bool) -> str:
    """How an error names a setting: the argument, or the command-line flag."""
    return "--" + name.replace("_", "-") if flags else f"`{name}`"


def _sniff(lines: list[str]) -> str:
    """The delimiter used by ``lines``: the candidate found the same number of times in each."""
    sample = [line for line in lines[:20] if line.strip()]
    best, best_count = ",", 0
    for candidate in _DELIMITERS:
        counts = {line.count(candidate) for line in sample}
        if len(counts) == 1 and (count := counts.pop()) > best_count:
            best, best_count = candidate, count
    if best_count == 0:  # counts differ from line to line (quoted cells): take the header's most common
        header = sample[0] if sample else ""
        best = max(_DELIMITERS, key=header.count)
    return best


def _rows(file: Path, sep: str | None, flags: bool) -> list[tuple[int, list[str]]]:
    """The file's rows with their line numbers; blank lines at either end are left out."""
    try:
        text = file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        msg = f"{file}: not a readable CSV text file ({error})"
        raise ValueError(msg) from None
    lines = text.splitlines()
    delimiter = sep if sep is not None else _sniff(lines)
    if len(delimiter) != 1:
        msg = f"{_option('sep', flags)} must be one character, got {delimiter!r}"
        raise ValueError(msg)
    try:
        rows = list(enumerate(csv.reader(lines, delimiter=delimiter), start=1))
    except csv.Error as error:
        msg = f"{file}: not a readable CSV text file ({error})"
        raise ValueError(msg) from None
    filled = [i for i, (_, row) in enumerate(rows) if any(c.strip() for c in row)]
    if not filled:
        msg = f"{file}: the file holds no rows"
        raise ValueError(msg)
    return rows[filled[0] : filled[-1] + 1]


def _find(file: Path, header: list[str] | None, width: int, column: str | int, what: str, *, flags: bool) -> int:
    """The 0-based index of ``column`` (a name or an index)."""
    if isinstance(column, str):
        if header is None or column not in header:
            available = ", ".join(repr(n) for n in header) if header is not None else "none (the file has no header)"
            role = "" if what == "column" else f" for {_option(what, flags)}"
            msg = f"{file}: no column named {column!r}{role}; columns: {available}"
            raise ValueError(msg + _sep_hint(header, flags))
        return header.index(column)
    if not -width <= column < width:
        msg = f"{file}: column index {column} for {_option(what, flags)} is out of range for {width} columns"
        raise ValueError(msg)
    return column % width


def _sep_hint(header: list[str] | None, flags: bool) -> str:
    """A hint when a single header cell looks like several joined by another delimiter."""
    if header is not None and len(header) == 1 and any(d in header[0] for d in _DELIMITERS):
        return f" (is the file separated by another character? give it with {_option('sep', flags)})"
    return ""


def _fill(values: np.ndarray, missing: np.ndarray, how: str) -> None:
    """Fill the ``missing`` entries of ``values`` in place, column by column.

    Leading gaps take the first observed value under both methods.
    """
    rows = np.arange(values.shape[0])
    for j in range(values.shape[1]):
        gaps = missing[:, j]
        if not gaps.any():
            continue
        known = rows[~gaps]
        if how == "interpolate":
            values[gaps, j] = np.interp(rows[gaps], known, values[known, j])
        else:
            last = np.maximum.accumulate(np.where(gaps, -1, rows))  # the last observed row at or before each row
            source = np.where(last < 0, known[0], last)
            values[:, j] = values[source, j]


def _lines(numbers: list[int]) -> str:
    shown = ", ".join(str(n) for n in numbers[:10])
    return shown + (f", ... ({len(numbers)} in all)" if len(numbers) > 10 else "")


def read_csv(
    path: str | os.PathLike[str],
    column: str | int | None = None,
    *,
    sep: str | None = None,
    time_column: str | int | None = None,
    fill: str | None = None,
    _flags: bool = False,
) -> CsvSeries:
    """Read a numeric series, its column names and its time column from a CSV file.

    The delimiter (comma, semicolon, tab or bar) is the one each of the first
    lines holds equally often, unless ``sep`` names it. A first row with any
    cell that is not a number is a header; its names must be unique. Missing
    values (an empty cell, ``NA``, ``NaN``, ``null``, ``.``) are an error that
    names their lines unless ``fill`` says how to fill them; rows are never
    dropped, so time is never compressed. Blank lines at the start and end of
    the file are ignored. Between rows, a blank line is an empty cell (a
    missing value) in a one-column file; in a file of several columns it is
    skipped, and a row of missing values keeps its delimiters (``,,``).

    Args:
        path: The CSV file.
        column: A column name (needs a header) or a 0-based index; None reads
            every numeric column except the time column (columns of text such
            as dates are left out).
        sep: The delimiter, one character; None detects it.
        time_column: A column of time stamps (dates or numbers), kept as text.
        fill: ``"interpolate"`` (linear in the row number) or ``"ffill"``
            (the last observed value) fills missing values; leading missing
            values take the first observed value. None refuses them.

    Returns:
        A :class:`~seqforecast.series.CsvSeries` whose ``values`` have shape ``(time, features)``.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        TypeError: ``column`` or ``time_column`` is not a name or an index.
        ValueError: Unknown or duplicated column, a cell that is not a number
            (the message names the file, line and column), missing values
            without ``fill``, ragged rows, no data, no numeric column.

    Example:
        >>> import pathlib, tempfile
        >>> from seqforecast.series import read_csv
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "demand.csv"
        >>> _ = path.write_text("day;y\\n2026-01-01;10.5\\n2026-01-02;\\n2026-01-03;11.5\\n")
        >>> table = read_csv(path, "y", time_column="day", fill="interpolate")
        >>> table.values.ravel(), table.time, table.filled
        (array([10.5, 11. , 11.5]), ('2026-01-01', '2026-01-02', '2026-01-03'), (3,))
    """
    file = Path(path)
    if not file.is_file():
        msg = f"`path` must be an existing CSV file, got {str(file)!r} (no such file)"
        raise FileNotFoundError(msg)
    for name, given in (("column", column), ("time_column", time_column)):
        if given is not None and (isinstance(given, bool) or not isinstance(given, (str, int))):
            msg = f"`{name}` must be a column name, a 0-based index or None, got {describe(given)}"
            raise TypeError(msg)
    if fill is not None and fill not in FILLS:
        msg = f"{_option('fill', _flags)} must be one of {', '.join(repr(f) for f in FILLS)} or None, got {fill!r}"
        raise ValueError(msg)
    rows = _rows(file, sep, _flags)
    first = rows[0][1]
    header = None if all(_is_number(c) or _is_missing(c) for c in first) else [c.strip() for c in first]
    width = len(first)
    if header is not None:
        for j, name in enumerate(header):
            if name in header[:j]:
                msg = (
                    f"{file}: the header names column {name!r} twice (columns {header.index(name)} and {j}); rename one"
                )
                raise ValueError(msg)
    data_rows = rows[1:] if header is not None else rows
    if width > 1:  # a line with no cells at all is a blank line; in a one-column file it is an empty cell
        data_rows = [(line, row) for line, row in data_rows if row]
    if not data_rows:
        msg = f"{file}: the file has a header but no data rows"
        raise ValueError(msg)
    for line, row in data_rows:
        if len(row) != width and any(c.strip() for c in row):
            msg = f"{file}, line {line}: expected {width} cells like the first row, got {len(row)}"
            raise ValueError(msg)
    names = header if header is not None else [str(i) for i in range(width)]
    time_index = None if time_column is None else _find(file, header, width, time_column, "time_column", flags=_flags)
    if column is not None:
        indices = [_find(file, header, width, column, "column", flags=_flags)]
        if indices[0] == time_index:
            msg = f"{file}: column {names[indices[0]]!r} cannot be both {_option('column', _flags)} and {_option('time_column', _flags)}"
            raise ValueError(msg)
    else:

        def numeric(j: int) -> bool:
            cells = (row[j] for _, row in data_rows if len(row) == width and not _is_missing(row[j]))
            return all(_is_number(c) for c in itertools.islice(cells, 1))

        indices = [j for j in range(width) if j != time_index and numeric(j)]
        if not indices:
            msg = f"{file}: no numeric column; columns: {', '.join(repr(n) for n in names)}"
            raise ValueError(msg + _sep_hint(header, _flags))
    values = np.empty((len(data_rows), len(indices)), dtype=np.float64)
    missing = np.zeros(values.shape, dtype=bool)
    for i, (line, row) in enumerate(data_rows):
        for j, index in enumerate(indices):
            cell = row[index].strip() if len(row) == width else ""
            if _is_missing(cell):
                missing[i, j] = True
                values[i, j] = math.nan
                continue
            try:
                value = float(cell)
            except ValueError:
                value = math.nan
            if not math.isfinite(value):
                msg = f"{file}, line {line}, column {names[index]!r}: expected a finite number, got {cell!r}"
                raise ValueError(msg)
            values[i, j] = value
    rows_missing = [bool(b) for b in np.any(missing, axis=1).tolist()]
    gaps = [line for (line, _), gap in zip(data_rows, rows_missing, strict=True) if gap]
    if gaps:
        if fill is None:
            how = "--fill interpolate or --fill ffill" if _flags else "fill='interpolate' or fill='ffill'"
            msg = f"{file}: {len(gaps)} missing value(s) at line(s) {_lines(gaps)}; rows are never dropped: fill them with {how}"
            raise ValueError(msg)
        if missing.all(axis=0).any():
            empty = names[indices[int(np.argmax(missing.all(axis=0)))]]
            msg = f"{file}: column {empty!r} has no values to fill from"
            raise ValueError(msg)
        _fill(values, missing, fill)
    time = None
    if time_index is not None:
        time = tuple(row[time_index].strip() if len(row) == width else "" for _, row in data_rows)
    return CsvSeries(
        values=values,
        columns=tuple(names[i] for i in indices),
        time=time,
        time_column=None if time_index is None else names[time_index],
        filled=tuple(gaps),
    )


def load_series(
    path: str | os.PathLike[str],
    column: str | int | None = None,
    *,
    sep: str | None = None,
    time_column: str | int | None = None,
    fill: str | None = None,
) -> np.ndarray:
    """Read a numeric series from a CSV file.

    The values of :func:`~seqforecast.series.read_csv` (see it for the delimiter, header, time
    column and missing values).

    Args:
        path: The CSV file.
        column: A column name (needs a header) or a 0-based index; None reads
            every numeric column except ``time_column``.
        sep: The delimiter, one character; None detects it.
        time_column: A column of time stamps, left out of the values.
        fill: ``"interpolate"`` or ``"ffill"`` fills missing values; None
            (the default) refuses them, naming their lines.

    Returns:
        A float64 array of shape ``(time, features)`` (``features`` is 1 when
        ``column`` is given).

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: Unknown or duplicated column, a cell that is not a finite
            number (the message names the file, line and column), missing
            values without ``fill``, ragged rows, no data.

    Example:
        >>> import pathlib, tempfile, seqforecast as sf
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "demand.csv"
        >>> _ = path.write_text("day,y\\n1,10.5\\n2,11.0\\n")
        >>> sf.load_series(path, column="y")
        array([[10.5],
               [11. ]])
    """
    return read_csv(path, column, sep=sep, time_column=time_column, fill=fill).values
