"""Forecasts as results: the point forecast with its prediction intervals.

A :class:`Forecast` holds NumPy arrays in the series' own units, so it can be
plotted, saved or handed to code that knows nothing of torch.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from seqforecast._pandas import pandas

__all__ = ["Forecast", "check_levels"]


def check_levels(name: str, levels: object) -> tuple[float, ...]:
    """Return interval levels (percent, each strictly between 0 and 100), sorted and unique.

    A single number is one level.

    Raises:
        TypeError: ``levels`` is not a number or an iterable of numbers.
        ValueError: A level is outside ``(0, 100)`` or not finite, or none is given.

    Example:
        >>> check_levels("level", (95, 80))
        (80.0, 95.0)
    """
    items: Iterable[object] = (levels,) if isinstance(levels, (int, float, np.number)) else levels  # type: ignore[assignment]
    if isinstance(levels, (str, bytes)) or not isinstance(items, Iterable):
        msg = f"`{name}` must be a number or a sequence of numbers in (0, 100), got {levels!r}"
        raise TypeError(msg)
    result: set[float] = set()
    for level in items:
        if isinstance(level, bool) or not isinstance(level, (int, float, np.number)):
            msg = f"`{name}` must hold numbers in (0, 100), got {level!r}"
            raise TypeError(msg)
        value = float(level)
        if not (math.isfinite(value) and 0.0 < value < 100.0):
            msg = f"`{name}` must hold numbers strictly between 0 and 100 (percent), got {level!r}"
            raise ValueError(msg)
        result.add(value)
    if not result:
        msg = f"`{name}` must name at least one level in (0, 100), got {levels!r}"
        raise ValueError(msg)
    return tuple(sorted(result))


@dataclasses.dataclass(frozen=True)
class Forecast:
    """A point forecast over a horizon and its prediction intervals, in the series' units.

    Attributes:
        mean: The point forecast, ``(horizon, features)``; for a panel of
            series, ``(series, horizon, features)``.
        intervals: Level in percent -> ``(lower, upper)``, each shaped like
            ``mean``. Empty when no interval was asked for.
        ids: For a panel, the id of each series (``mean``'s first axis); or None.
        times: The time stamps of the forecast steps, ``(horizon,)`` or
            ``(series, horizon)`` ``datetime64``; or None.
        names: The names of the forecast features (``mean``'s last axis); or None.

    Example:
        >>> import numpy as np
        >>> result = Forecast(np.zeros((3, 1)), {80.0: (-np.ones((3, 1)), np.ones((3, 1)))})
        >>> result.levels, result.interval(80)[1].ravel().tolist()
        ((80.0,), [1.0, 1.0, 1.0])
    """

    mean: np.ndarray
    intervals: Mapping[float, tuple[np.ndarray, np.ndarray]] = dataclasses.field(default_factory=dict)
    ids: tuple[str, ...] | None = None
    times: np.ndarray | None = None
    names: tuple[str, ...] | None = None

    @property
    def levels(self) -> tuple[float, ...]:
        """The interval levels held, in percent, ascending."""
        return tuple(sorted(self.intervals))

    def interval(self, level: float) -> tuple[np.ndarray, np.ndarray]:
        """The ``(lower, upper)`` bounds of the ``level`` % interval, each shaped like ``mean``.

        Raises:
            KeyError: No interval of that level was computed; the message lists those held.
        """
        (key,) = check_levels("level", level)
        if key not in self.intervals:
            held = ", ".join(f"{lvl:g}" for lvl in self.levels) or "none"
            msg = f"no {key:g}% interval in this forecast (levels held: {held}); ask for it with level=({key:g},)"
            raise KeyError(msg)
        return self.intervals[key]

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        """The point forecast, so ``np.asarray(result)`` is ``result.mean``."""
        return np.asarray(self.mean, dtype=dtype)

    def to_frame(self, name: str = "forecast") -> Any:
        """The forecast as a long pandas data frame (needs the ``frames`` extra).

        Columns: ``unique_id``, ``ds`` (the stamp, or the step number
        ``0 .. horizon - 1`` without stamps), then per feature the point
        forecast (``name``, or ``name-<feature>`` for several features) and
        its intervals (``<column>-lo-<level>``, ``<column>-hi-<level>``), as
        statsforecast and NeuralForecast write them. One row per series and step.

        Example:
            >>> import numpy as np
            >>> days = np.arange("2024-01-01", "2024-01-03", dtype="datetime64[D]")
            >>> Forecast(np.zeros((2, 1)), times=days).to_frame().columns.tolist()
            ['unique_id', 'ds', 'forecast']
        """
        pd = pandas()
        panel = np.ndim(self.mean) == 3
        means = np.asarray(self.mean) if panel else np.asarray(self.mean)[None]  # (S, H, F)
        count, horizon, features = means.shape
        ids = list(self.ids) if self.ids is not None else [str(i) for i in range(count)]
        steps = np.arange(horizon) if self.times is None else np.asarray(self.times)
        stamps = steps if steps.ndim == 2 else np.broadcast_to(steps, (count, horizon))
        labels = [name] if features == 1 else [f"{name}-{n}" for n in self.names or [str(j) for j in range(features)]]
        columns: dict[str, Any] = {"unique_id": np.repeat(ids, horizon), "ds": stamps.reshape(-1)}
        for j, label in enumerate(labels):
            columns[label] = means[..., j].reshape(-1)
            for level in self.levels:
                lower, upper = (np.asarray(b) if panel else np.asarray(b)[None] for b in self.intervals[level])
                columns[f"{label}-lo-{level:g}"] = lower[..., j].reshape(-1)
                columns[f"{label}-hi-{level:g}"] = upper[..., j].reshape(-1)
        return pd.DataFrame(columns)
