"""Long data frames in and out: ``from_frame`` builds a :class:`~seqforecast.Panel`; results go back with ``to_frame``.

The long format is the one statsforecast and NeuralForecast users know: one
row per series and time stamp, an id column, a time column and value
columns. pandas is imported only here and only when one of these functions
runs (install the ``frames`` extra: ``pip install seqforecast[frames]``).
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from seqforecast._checks import describe
from seqforecast.covariates import Panel
from seqforecast.stamps import as_stamps, fill_gaps, infer_step

if TYPE_CHECKING:
    from seqforecast.results import Forecast

__all__ = ["forecast_frame", "from_frame", "panel_frame"]


def _pandas() -> Any:
    try:
        pd = importlib.import_module("pandas")
    except ImportError:  # pragma: no cover - the extra is installed in the tests
        msg = "data frames need pandas: pip install 'seqforecast[frames]'"
        raise ImportError(msg) from None
    return pd


def _columns(argument: str, given: str | Sequence[str] | None) -> list[str]:
    if given is None:
        return []
    if isinstance(given, str):
        return [given]
    if all(isinstance(c, str) for c in given):
        return list(given)
    msg = f"`{argument}` must be a column name or a list of column names, got {describe(given)}"
    raise TypeError(msg)


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
            only (such as the future covariates over a horizon).
        past: Columns of past covariates (observed up to each step).
        future: Columns of known-future covariates.
        fill: None (irregular stamps are an error), ``"ffill"`` or
            ``"interpolate"``: put in the missing steps and fill their values.
        min_length: Fewest rows a series may have.

    Returns:
        The panel: ids, stamps, targets and covariates.

    Raises:
        ValueError: A named column missing from the frame; in a series (named
            by its id): stamps unsorted, repeated or irregular, fewer than
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
    pd = _pandas()
    if not isinstance(df, pd.DataFrame):
        msg = f"`df` must be a pandas DataFrame, got {describe(df)}"
        raise TypeError(msg)
    if fill not in (None, "ffill", "interpolate"):
        msg = f"`fill` must be None, 'ffill' or 'interpolate', got {fill!r}"
        raise ValueError(msg)
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
    groups = [("0", df)] if id is None else list(df.groupby(id, sort=False))
    series, pasts, futures, stamps = {}, {}, {}, {}
    for key, rows in groups:
        name = str(key[0] if isinstance(key, tuple) else key)
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


def panel_frame(panel: Panel, *, id: str = "unique_id", time: str = "ds") -> Any:
    """A panel as a long data frame: ``id``, ``time`` (with stamps), targets, past and future covariates.

    ``from_frame`` on the result, with the same column names, gives the panel back.
    """
    pd = _pandas()
    parts = []
    for i, key in enumerate(panel.ids):
        columns: dict[str, Any] = {id: [key] * len(panel.targets[i])}
        if panel.times is not None:
            columns[time] = panel.times[i]
        for names, array in (
            (panel.target_names, panel.targets[i]),
            (panel.past_names, panel.past[i]),
            (panel.future_names, panel.future[i]),
        ):
            columns.update({n: array[:, j] for j, n in enumerate(names)})
        parts.append(pd.DataFrame(columns))
    return pd.concat(parts, ignore_index=True)


def forecast_frame(result: Forecast, name: str = "forecast") -> Any:
    """A :class:`~seqforecast.Forecast` as a long data frame (see :meth:`Forecast.to_frame <seqforecast.Forecast.to_frame>`)."""
    pd = _pandas()
    mean = np.asarray(result.mean)
    panel = mean.ndim == 3
    means = mean if panel else mean[None]  # (S, H, F)
    count, horizon, features = means.shape
    ids = list(result.ids) if result.ids is not None else [str(i) for i in range(count)]
    if result.times is not None:
        times = np.asarray(result.times)
        stamps = times if times.ndim == 2 else np.broadcast_to(times, (count, horizon))
    else:
        stamps = np.broadcast_to(np.arange(horizon), (count, horizon))
    labels = [name] if features == 1 else [f"{name}-{n}" for n in result.names or [str(j) for j in range(features)]]
    columns: dict[str, Any] = {"unique_id": np.repeat(ids, horizon), "ds": stamps.reshape(-1)}
    for j, label in enumerate(labels):
        columns[label] = means[..., j].reshape(-1)
        for level in sorted(result.intervals):
            lower, upper = (np.asarray(b) if panel else np.asarray(b)[None] for b in result.intervals[level])
            columns[f"{label}-lo-{level:g}"] = lower[..., j].reshape(-1)
            columns[f"{label}-hi-{level:g}"] = upper[..., j].reshape(-1)
    return pd.DataFrame(columns)
