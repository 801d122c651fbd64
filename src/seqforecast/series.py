"""Reading and validating the series users bring: arrays, tensors and CSV files."""

from __future__ import annotations

import csv
import math
import os
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from seqforecast._checks import as_float_tensor, describe

__all__ = ["load_series", "series_tensor"]


def series_tensor(
    name: str, series: object, *, dtype: torch.dtype = torch.float32, device: torch.device | str | None = None
) -> Tensor:
    """Validate one series and return it as a ``(time, features)`` tensor.

    Raises:
        TypeError: Non-numeric, integer, bool or complex data.
        ValueError: Ragged, wrong number of dimensions, empty, NaN or inf
            (the message gives the first bad index).
    """
    tensor = as_float_tensor(name, series, dtype=dtype, device=device)
    if tensor.dim() == 1:
        tensor = tensor.unsqueeze(-1)
    if tensor.dim() != 2:
        msg = f"`{name}` must have shape (time,) or (time, features), got shape {tuple(tensor.shape)}"
        raise ValueError(msg)
    if tensor.shape[0] == 0 or tensor.shape[1] == 0:
        msg = f"`{name}` must have at least one time step and one feature, got shape {tuple(tensor.shape)}"
        raise ValueError(msg)
    return tensor


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def load_series(path: str | os.PathLike[str], column: str | int | None = None) -> np.ndarray:
    """Read a numeric series from a CSV file.

    A first row with any cell that is not a number is a header. Cells may be
    quoted; blank lines are skipped.

    Args:
        path: The CSV file.
        column: A column name (needs a header) or a 0-based index; None reads
            every column.

    Returns:
        A float64 array of shape ``(time, features)`` (``features`` is 1 when
        ``column`` is given).

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: Unknown column, a cell that is not a finite number (the
            message names the file, line and column), ragged rows, no data.

    Example:
        >>> import pathlib, tempfile, seqforecast as sf
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "demand.csv"
        >>> _ = path.write_text("day,y\\n1,10.5\\n2,11.0\\n")
        >>> sf.load_series(path, column="y")
        array([[10.5],
               [11. ]])
    """
    file = Path(path)
    if not file.is_file():
        msg = f"`path` must be an existing CSV file, got {str(file)!r} (no such file)"
        raise FileNotFoundError(msg)
    if column is not None and (isinstance(column, bool) or not isinstance(column, (str, int))):
        msg = f"`column` must be a column name, a 0-based index or None, got {describe(column)}"
        raise TypeError(msg)
    try:
        with file.open(newline="", encoding="utf-8-sig") as handle:
            rows = [
                (number, row) for number, row in enumerate(csv.reader(handle), start=1) if any(c.strip() for c in row)
            ]
    except (UnicodeDecodeError, csv.Error) as error:
        msg = f"{file}: not a readable CSV text file ({error})"
        raise ValueError(msg) from None
    if not rows:
        msg = f"{file}: the file holds no rows"
        raise ValueError(msg)
    header = None if all(_is_number(c) for c in rows[0][1]) else [c.strip() for c in rows[0][1]]
    data_rows = rows[1:] if header is not None else rows
    width = len(rows[0][1])
    names = header if header is not None else [str(i) for i in range(width)]
    if column is None:
        indices = list(range(width))
    elif isinstance(column, str):
        if header is None or column not in header:
            available = ", ".join(repr(n) for n in header) if header is not None else "none (the file has no header)"
            msg = f"{file}: no column named {column!r}; columns: {available}"
            raise ValueError(msg)
        indices = [header.index(column)]
    else:
        if not -width <= column < width:
            msg = f"{file}: column index {column} is out of range for {width} columns"
            raise ValueError(msg)
        indices = [column % width]
    values = np.empty((len(data_rows), len(indices)), dtype=np.float64)
    for i, (line, row) in enumerate(data_rows):
        if len(row) != width:
            msg = f"{file}, line {line}: expected {width} cells like the first row, got {len(row)}"
            raise ValueError(msg)
        for j, index in enumerate(indices):
            cell = row[index].strip()
            try:
                value = float(cell)
            except ValueError:
                value = math.nan
            if not math.isfinite(value):
                msg = f"{file}, line {line}, column {names[index]!r}: expected a finite number, got {cell!r}"
                raise ValueError(msg)
            values[i, j] = value
    if values.shape[0] == 0:
        msg = f"{file}: the file has a header but no data rows"
        raise ValueError(msg)
    return values
