"""Time stamps on backtests: the stamps of every forecast target, and the long data frame of a backtest.

A series with a time index (a pandas ``Series`` or ``DataFrame`` with a
``DatetimeIndex``, or stamps given as ``times``) gives each forecast of a
:class:`~seqforecast.Backtest` the stamps of its targets, ``(num_cutoffs,
horizon)``, so that its rows can be put beside the calendar.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from seqforecast._pandas import pandas
from seqforecast.stamps import as_stamps

if TYPE_CHECKING:
    from torch import Tensor

    from seqforecast.backtesting import Backtest

__all__ = ["backtest_frame", "series_stamps", "target_stamps"]


def series_stamps(series: object, times: object, length: int) -> np.ndarray | None:
    """The ``(length,)`` stamps of a series: ``times`` if given, else its ``DatetimeIndex``, else None.

    Raises:
        TypeError, ValueError: ``times`` are not stamps, not strictly increasing, or not one per time step.
    """
    if times is None:
        index = getattr(series, "index", None)
        if index is None or getattr(getattr(index, "dtype", None), "kind", None) != "M":
            return None
        times = np.asarray(index)
    stamps = as_stamps("times", times)
    if stamps.shape != (length,):
        msg = f"`times` must have one stamp per time step of the series ({length}), got {stamps.size}"
        raise ValueError(msg)
    return stamps


def target_stamps(
    stamps: np.ndarray | None, cutoffs: Tensor, horizon: int
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """The stamps of each forecast's targets, ``stamps[cutoff + h]``, ``(num_cutoffs, horizon)``, and of the
    last point each cutoff saw, ``stamps[cutoff - 1]``, ``(num_cutoffs,)``; None and None without stamps."""
    if stamps is None:
        return None, None
    index = cutoffs.cpu().numpy()
    return stamps[index[:, None] + np.arange(horizon)[None, :]], stamps[index - 1]


def backtest_frame(result: Backtest, name: str) -> Any:
    """The long data frame of :meth:`Backtest.to_frame <seqforecast.Backtest.to_frame>`."""
    pd = pandas()
    forecasts = result.forecasts.double().cpu().numpy()
    batched = forecasts.ndim == 4
    forecasts = forecasts if batched else forecasts[None]  # (B, K, H, F)
    targets = result.targets.double().cpu().numpy().reshape(forecasts.shape)
    lanes, count, horizon, features = forecasts.shape
    cutoffs = result.cutoffs.cpu().numpy()
    if result.times is None or result.cutoff_times is None:
        ds = cutoffs[:, None] + np.arange(horizon)[None, :]  # the index of each target
        seen = cutoffs - 1
    else:
        ds, seen = np.asarray(result.times), np.asarray(result.cutoff_times)
    frame: dict[str, Any] = {
        "unique_id": np.repeat([str(b) for b in range(lanes)], count * horizon),
        "ds": np.tile(ds.reshape(-1), lanes),
        "cutoff": np.tile(np.repeat(seen, horizon), lanes),
    }
    suffixes = [""] if features == 1 else [f"-{j}" for j in range(features)]
    for j, suffix in enumerate(suffixes):
        frame[f"y{suffix}"] = targets[..., j].reshape(-1)
        frame[f"{name}{suffix}"] = forecasts[..., j].reshape(-1)
        for level in sorted(result.intervals):
            low, high = (bound.double().cpu().numpy().reshape(forecasts.shape) for bound in result.intervals[level])
            frame[f"{name}{suffix}-lo-{level:g}"] = low[..., j].reshape(-1)
            frame[f"{name}{suffix}-hi-{level:g}"] = high[..., j].reshape(-1)
    return pd.DataFrame(frame)
