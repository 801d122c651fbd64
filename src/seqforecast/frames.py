"""Long data frames in: ``from_frame`` builds a :class:`~seqforecast.Panel` (``to_frame`` on a panel or forecast goes back).

The long format is the one statsforecast and NeuralForecast users know: one
row per series and time stamp, an id column, a time column and value
columns. pandas is imported only when a frame is read or written (install
the ``frames`` extra: ``pip install seqforecast[frames]``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from seqforecast._checks import describe
from seqforecast._pandas import pandas
from seqforecast.covariates import Panel
from seqforecast.stamps import as_stamps, fill_gaps, infer_step

__all__ = ["from_frame"]


def _columns(argument: str, given: str | Sequence[str] | None) -> list[str]:
    if given is None:
        return []
    if isinstance(given, str):
        return [given]
    if all(isinstance(c, str) for c in given):
        return list(given)
    msg = f"`{argument}` must be a column name or a list of column names, got {describe(given)}"
    raise TypeError(msg)


def _groups(df: Any, id: str | None) -> list[tuple[str, Any]]:
    """The rows of each series, by id (as a string), in the order the ids first appear.

    Raises:
        ValueError: A row without an id, or two ids that read the same as strings (``1`` and ``"1"``).
    """
    if id is None:
        return [("0", df)]
    missing = df[id].isna().to_numpy()
    if missing.any():
        msg = f"column {id!r} (`id`) must name the series of every row, got a missing id at row {df.index[int(np.argmax(missing))]!r}"
        raise ValueError(msg)
    groups = [(key, rows) for key, rows in df.groupby(id, sort=False, dropna=False)]
    names: dict[str, object] = {}
    for key, _ in groups:
        if str(key) in names:
            msg = f"column {id!r} (`id`) must hold ids that differ as strings, got {names[str(key)]!r} and {key!r}"
            raise ValueError(msg)
        names[str(key)] = key
    return [(str(key), rows) for key, rows in groups]


def from_frame(
    df: Any,
    *,
    id: str | None = None,
    time: str | None = None,
    target: str | Sequence[str] | None = "y",
    past: str | Sequence[str] | None = None,
    future: str | Sequence[str] | None = None,
    fill: str | None = None,
    min_length: int = 2,
) -> Panel:
    """Build a :class:`~seqforecast.Panel` from a long data frame.

    Rows are grouped by ``id`` (in the order the ids first appear); within a
    series the rows must be in time order, one per regular step.

    Args:
        df: A pandas ``DataFrame``, one row per series and time step.
        id: The column of series ids (None: the whole frame is one series, id ``"0"``).
        time: The column of time stamps (datetime values), or None.
        target: The column(s) to forecast; None for a frame of covariates
            only (such as the future covariates over a horizon). A frame
            with no ``y`` column that names covariates is read that way
            when ``target`` is left at its default.
        past: Columns of past covariates (observed up to each step).
        future: Columns of known-future covariates.
        fill: None (irregular stamps are an error), ``"ffill"`` or
            ``"interpolate"``: put in the missing steps and fill their values.
        min_length: Fewest rows a series may have.

    Returns:
        The panel: ids, stamps, targets and covariates.

    Raises:
        TypeError: ``id`` is not one column name.
        ValueError: A named column missing from the frame, a row without an
            id, ids that read the same as strings; in a series (named by its id): stamps unsorted, repeated or irregular, fewer than
            ``min_length`` rows, or NaN in a value column (named).

    Example:
        >>> import pandas as pd, seqforecast as sf
        >>> df = pd.DataFrame({"unique_id": ["a"] * 3 + ["b"] * 2,
        ...                    "ds": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-01", "2024-01-02"]),
        ...                    "y": [1.0, 2, 3, 4, 5], "price": [9.0, 9, 8, 7, 7]})
        >>> panel = sf.from_frame(df, id="unique_id", time="ds", target="y", future=["price"])
        >>> panel.ids, panel.input_size, [len(t) for t in panel.targets]
        (('a', 'b'), 2, [3, 2])
    """
    pd = pandas()
    if not isinstance(df, pd.DataFrame):
        msg = f"`df` must be a pandas DataFrame, got {describe(df)}"
        raise TypeError(msg)
    if fill not in (None, "ffill", "interpolate"):
        msg = f"`fill` must be None, 'ffill' or 'interpolate', got {fill!r}"
        raise ValueError(msg)
    given: object = id
    if given is not None and not isinstance(given, str):
        msg = f"`id` must be the name of one column (or None for a single series), got {describe(given)}"
        raise TypeError(msg)
    if target == "y" and "y" not in df.columns and (past is not None or future is not None):
        target = None  # a frame of covariates only, such as their values over the horizon
    named = {
        "id": _columns("id", id),
        "time": _columns("time", time),
        "target": _columns("target", target),
        "past": _columns("past", past),
        "future": _columns("future", future),
    }
    for argument, columns in named.items():
        for column in columns:
            if column not in df.columns:
                msg = f"`{argument}` names column {column!r}, which the frame lacks (columns: {list(df.columns)})"
                raise ValueError(msg)
    values = named["target"] + named["past"] + named["future"]
    series, pasts, futures, stamps = {}, {}, {}, {}
    for name, rows in _groups(df, id):
        data = rows[values].to_numpy(dtype=np.float64, na_value=np.nan) if values else np.zeros((len(rows), 0))
        for j, column in enumerate(values):
            bad = ~np.isfinite(data[:, j])
            if bad.any():
                where = rows.index[int(np.argmax(bad))]
                msg = f"column {column!r} of series {name!r} must be finite, got {data[int(np.argmax(bad)), j]} at row {where!r}"
                raise ValueError(msg)
        if time is not None:
            try:
                when = as_stamps(f"column {time!r} of series {name!r}", rows[time].to_numpy())
            except TypeError:
                msg = f"column {time!r} of series {name!r} must hold dates or times (pd.to_datetime), got {rows[time].dtype}"
                raise TypeError(msg) from None
            if fill is not None and when.size > 1:
                when, data = fill_gaps(when, data, how=fill)
            elif when.size > 1:
                infer_step(f"column {time!r} of series {name!r}", when)
            stamps[name] = when
        width = len(named["target"])
        series[name] = data[:, :width]
        pasts[name] = data[:, width : width + len(named["past"])]
        futures[name] = data[:, width + len(named["past"]) :]
    return Panel.from_series(
        series,
        past=pasts if named["past"] else None,
        future=futures if named["future"] else None,
        times=stamps if time is not None else None,
        target_names=named["target"],
        past_names=named["past"] or None,
        future_names=named["future"] or None,
        min_length=min_length,
    )
