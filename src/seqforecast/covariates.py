"""A panel: many series with ids, time stamps, targets, past and known-future covariates.

The model's input at step ``t`` of a series is ``[targets[t], past[t],
future[t + 1]]``: the targets and past covariates observed up to ``t`` (a
measured temperature) and the known-future covariates of the step being
forecast (a planned price, the calendar), so that the effect of a known
input on the same step can be learned. Its output forecasts ``targets[t +
1]`` only (``output_size`` = number of targets, ``input_size`` = targets +
covariates).

A closed-loop forecast over a horizon needs the known-future covariates of
every forecast step. Past covariates are not known after the last
observation: forecasting more than one step ahead with them needs their
values over the horizon as a scenario (given with the future covariates),
else :func:`forecast_panel` refuses.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from seqforecast._checks import check_int
from seqforecast._pandas import pandas
from seqforecast._panel_rows import as_list, by_id, column_names, rows
from seqforecast.base import Forecaster
from seqforecast.inference import forecast
from seqforecast.panel import PanelStream
from seqforecast.results import Forecast
from seqforecast.stamps import as_stamps, calendar_features, future_stamps, infer_step, rows_at

__all__ = ["Panel", "forecast_panel"]


@dataclasses.dataclass(frozen=True, eq=False)
class Panel:
    """Many series, each with its id, targets, covariates and (optionally) time stamps.

    Build one with :meth:`from_series` (arrays) or
    :func:`~seqforecast.from_frame` (a long data frame).

    Attributes:
        ids: One id per series.
        targets: Per series, ``(time_i, num_targets)`` float64.
        past: Per series, ``(time_i, num_past)``: covariates observed up to each step.
        future: Per series, ``(time_i, num_future)``: covariates known in advance.
        times: Per series, ``(time_i,)`` ``datetime64`` stamps, or None.
        target_names, past_names, future_names: Column names.

    Example:
        >>> import numpy as np, seqforecast as sf
        >>> panel = sf.Panel.from_series({"a": np.arange(5.0), "b": np.arange(7.0)}, future={"a": np.ones(5), "b": np.ones(7)})
        >>> panel.ids, panel.input_size, panel.inputs(0).shape
        (('a', 'b'), 2, (5, 2))
    """

    ids: tuple[str, ...]
    targets: tuple[np.ndarray, ...]
    past: tuple[np.ndarray, ...]
    future: tuple[np.ndarray, ...]
    times: tuple[np.ndarray, ...] | None = None
    target_names: tuple[str, ...] = ("y",)
    past_names: tuple[str, ...] = ()
    future_names: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        """Check that every series has one row of each field per time step (one error naming the id and field)."""
        count = len(self.ids)
        fields = {"targets": self.targets, "past": self.past, "future": self.future}
        if self.times is not None:
            fields["times"] = self.times
        for field, values in fields.items():
            if len(values) != count:
                msg = f"`{field}` must have one entry per series ({count}), got {len(values)}"
                raise ValueError(msg)
        widths = {"targets": len(self.target_names), "past": len(self.past_names), "future": len(self.future_names)}
        for i, key in enumerate(self.ids):
            length = len(self.targets[i])
            for field, values in fields.items():
                shape = np.shape(values[i])
                expected = (length,) if field == "times" else (length, widths[field])
                if shape != expected:
                    msg = f"`{field}` of series {key!r} must have shape {expected} (its targets' rows, the named columns), got {shape}"
                    raise ValueError(msg)

    @classmethod
    def from_series(
        cls,
        series: object,
        *,
        past: object = None,
        future: object = None,
        times: object = None,
        target_names: Sequence[str] | None = None,
        past_names: Sequence[str] | None = None,
        future_names: Sequence[str] | None = None,
        min_length: int = 2,
    ) -> Panel:
        """Build a panel from arrays: a dict keyed by id, or a list (ids ``"0"``, ``"1"``, ...).

        Args:
            series: Per series, ``(time_i,)`` or ``(time_i, num_targets)``.
            past: Per series (dict by id or list), ``(time_i, num_past)``, or None.
            future: Per series, ``(time_i, num_future)``, or None.
            times: Per series, ``(time_i,)`` strictly increasing, regular time stamps, or None.
            target_names, past_names, future_names: Column names (default ``y0, ...``, ``past0, ...``, ``future0, ...``;
                ``y`` for a single target).
            min_length: Fewest points a series may have.

        Raises:
            TypeError, ValueError: Naming the series and column: a series
                shorter than ``min_length``, covariates of another length or
                with NaN, stamps unsorted, repeated or irregular.
        """
        min_length = check_int("min_length", min_length)
        ids, values = as_list(series)
        targets = [rows("series", key, value, None, target_names or ()) for key, value in zip(ids, values, strict=True)]
        count = targets[0].shape[1]
        for key, array in zip(ids, targets, strict=True):
            if array.shape[1] != count:
                msg = f"`series` {key!r} must have {count} target column(s) like the first, got {array.shape[1]}"
                raise ValueError(msg)
            if array.shape[0] < min_length:
                msg = f"`series` {key!r} must have at least {min_length} points, got {array.shape[0]}"
                raise ValueError(msg)
        names = (
            tuple(target_names) if target_names else (("y",) if count == 1 else tuple(f"y{i}" for i in range(count)))
        )
        lengths = [a.shape[0] for a in targets]
        covariates: list[tuple[list[np.ndarray], tuple[str, ...]]] = []
        for label, given, given_names, prefix in (
            ("past", past, past_names, "past"),
            ("future", future, future_names, "future"),
        ):
            if given is None:
                covariates.append(([np.zeros((n, 0)) for n in lengths], ()))
                continue
            arrays = [
                rows(label, key, v, n, given_names or ())
                for key, v, n in zip(ids, by_id(label, given, ids), lengths, strict=True)
            ]
            width = arrays[0].shape[1]
            covariates.append((arrays, column_names(f"{label}_names", given_names, width, prefix)))
        stamps: list[np.ndarray] | None = None
        if times is not None:
            stamps = []
            for key, value, n in zip(ids, by_id("times", times, ids), lengths, strict=True):
                array = as_stamps(f"times of series {key!r}", value)
                if array.size != n:
                    msg = f"`times` of series {key!r} must have {n} stamps like its target, got {array.size}"
                    raise ValueError(msg)
                if n > 1:
                    infer_step(f"times of series {key!r}", array)
                stamps.append(array)
        (past_arrays, past_cols), (future_arrays, future_cols) = covariates
        return cls(
            ids=tuple(ids),
            targets=tuple(targets),
            past=tuple(past_arrays),
            future=tuple(future_arrays),
            times=None if stamps is None else tuple(stamps),
            target_names=names,
            past_names=past_cols,
            future_names=future_cols,
        )

    @property
    def num_targets(self) -> int:
        """The number of target columns (the model's ``output_size``)."""
        return len(self.target_names)

    @property
    def input_size(self) -> int:
        """The number of targets, past and future covariates together (the model's ``input_size``)."""
        return self.num_targets + len(self.past_names) + len(self.future_names)

    def __len__(self) -> int:
        return len(self.ids)

    def index(self, id: str) -> int:
        """Position of the series ``id``."""
        try:
            return self.ids.index(str(id))
        except ValueError:
            msg = f"no series {id!r} in this panel (ids: {list(self.ids[:5])}{'...' if len(self) > 5 else ''})"
            raise KeyError(msg) from None

    def inputs(self, series: int, next_future: np.ndarray | None = None) -> np.ndarray:
        """The model's inputs along series ``series``: ``(time, input_size)``, row ``t`` = ``[targets[t], past[t], future[t + 1]]``.

        Args:
            series: Position of the series.
            next_future: ``(num_future,)``: the future covariates of the step
                after the last (the last row's); default: the last row's own
                (fine for training, where the last row is a target only).
        """
        future = self.future[series]
        last = future[-1:] if next_future is None else np.asarray(next_future, dtype=np.float64).reshape(1, -1)
        shifted = np.concatenate([future[1:], last])  # (time, num_future): future[t + 1]
        return np.concatenate([self.targets[series], self.past[series], shifted], axis=1)

    def stream(self, seq_length: int, *, batch_size: int = 1, **kwargs: Any) -> PanelStream:
        """A :class:`~seqforecast.PanelStream` over the model's inputs, with the targets as targets.

        Args:
            seq_length: Longest window.
            batch_size: Lanes.
            **kwargs: ``batch_first``, ``num_epochs``, ``dtype``, ``device``, as :class:`~seqforecast.PanelStream` takes.

        Example:
            >>> import numpy as np, seqforecast as sf
            >>> panel = sf.Panel.from_series([np.arange(9.0), np.arange(9.0)], past=[np.ones(9), np.ones(9)])
            >>> window = panel.stream(4, batch_size=2).window(0)
            >>> window.inputs.shape, window.targets.shape
            (torch.Size([2, 4, 2]), torch.Size([2, 4, 1]))
        """
        series = {key: self.inputs(i) for i, key in enumerate(self.ids)}
        return PanelStream(series, seq_length, batch_size=batch_size, num_targets=self.num_targets, **kwargs)

    def with_calendar(self, features: Sequence[str] = ("dayofweek", "month")) -> Panel:
        """This panel with calendar features of its stamps added as known-future covariates.

        Each feature adds a sine and a cosine column (see
        :func:`~seqforecast.calendar_features`), named ``<feature>_sin`` and ``<feature>_cos``.

        Raises:
            ValueError: The panel has no time stamps.
        """
        if self.times is None:
            msg = "`with_calendar` needs a panel with time stamps (times=...)"
            raise ValueError(msg)
        extra = [calendar_features(stamps, features) for stamps in self.times]
        names = tuple(f"{f}_{part}" for f in features for part in ("sin", "cos"))
        return dataclasses.replace(
            self,
            future=tuple(np.concatenate([f, e], axis=1) for f, e in zip(self.future, extra, strict=True)),
            future_names=self.future_names + names,
        )

    def head(self, length: int) -> Panel:
        """The first ``length`` points of every series (all of a shorter one), with their covariates and stamps.

        Example:
            >>> import numpy as np, seqforecast as sf
            >>> [len(t) for t in sf.Panel.from_series([np.arange(5.0), np.arange(3.0)]).head(4).targets]
            [4, 3]
        """
        length = check_int("length", length)
        return dataclasses.replace(
            self,
            targets=tuple(a[:length] for a in self.targets),
            past=tuple(a[:length] for a in self.past),
            future=tuple(a[:length] for a in self.future),
            times=None if self.times is None else tuple(a[:length] for a in self.times),
        )

    def to_frame(self, *, id: str = "unique_id", time: str = "ds") -> Any:
        """The panel as a long pandas data frame (``frames`` extra): ``id``, ``time``, targets, past, future columns.

        :func:`~seqforecast.from_frame` with the same column names gives it back.
        """
        pd = pandas()
        parts = []
        for i, key in enumerate(self.ids):
            columns: dict[str, Any] = {id: [key] * len(self.targets[i])}
            if self.times is not None:
                columns[time] = self.times[i]
            for names, array in (
                (self.target_names, self.targets[i]),
                (self.past_names, self.past[i]),
                (self.future_names, self.future[i]),
            ):
                columns.update({n: array[:, j] for j, n in enumerate(names)})
            parts.append(pd.DataFrame(columns))
        return pd.concat(parts, ignore_index=True)

    def future_times(self, horizon: int) -> np.ndarray | None:
        """The stamps of the ``horizon`` steps after each series' end: ``(series, horizon)``, or None without stamps."""
        if self.times is None:
            return None
        return np.stack([future_stamps(stamps, horizon) for stamps in self.times])


def _future_of(panel: Panel, future: object, horizon: int) -> list[np.ndarray]:
    """Per series, the covariates over the horizon: ``(horizon, num_future + num_past)`` (past ones may be absent)."""
    num_future, num_past = len(panel.future_names), len(panel.past_names)
    if future is None:
        if num_future:
            msg = (
                f"`future` is required: the panel has known-future covariates {list(panel.future_names)}; "
                f"give their values over the {horizon} forecast step(s) of every series"
            )
            raise ValueError(msg)
        return [np.zeros((horizon, 0)) for _ in panel.ids]
    if isinstance(future, Panel):
        held = future.target_names + future.past_names + future.future_names
        scenario = [n for n in panel.past_names if n in held]
        missing = [n for n in panel.future_names if n not in held]
        missing += [n for n in panel.past_names if n not in held] if scenario else []
        if missing:
            msg = (
                f"`future` must have the columns {missing}: every future covariate "
                f"{list(panel.future_names)}, and every past covariate or none; it has {list(held)}"
            )
            raise ValueError(msg)
        expected = panel.future_times(horizon)
        arrays = []
        for i, key in enumerate(panel.ids):
            other = future.index(key)
            values = np.concatenate([future.targets[other], future.past[other], future.future[other]], axis=1)
            array = values[:, [held.index(n) for n in (*panel.future_names, *scenario)]]
            if expected is not None and future.times is not None:
                array = array[rows_at(f"`future` of series {key!r}", future.times[other], expected[i])]
            arrays.append(array)
        given: object = dict(zip(panel.ids, arrays, strict=True))
    else:
        given = future
    result = []
    for key, value in zip(panel.ids, by_id("future", given, panel.ids), strict=True):
        array = rows("future", key, value, None, ())
        if array.shape[0] < horizon or array.shape[1] not in (num_future, num_future + num_past):
            msg = (
                f"`future` of series {key!r} must have at least horizon={horizon} rows and {num_future} column(s) "
                f"(the future covariates {list(panel.future_names)}), or {num_future + num_past} with the past "
                f"covariates as a scenario; got shape {array.shape}"
            )
            raise ValueError(msg)
        result.append(array[:horizon])
    return result


def forecast_panel(model: Forecaster, panel: Panel, horizon: int, *, future: object = None) -> Forecast:
    """Forecast ``horizon`` steps after the end of every series of ``panel``.

    Each series primes the model on its inputs and runs its own closed loop,
    feeding back the forecast targets with the covariates of each step.

    Args:
        model: A forecaster with ``input_size == panel.input_size`` and ``output_size == panel.num_targets``.
        panel: The history.
        horizon: Steps to forecast, >= 1.
        future: The covariates over the horizon, per series: a
            :class:`Panel` (e.g. from :func:`~seqforecast.from_frame`) with
            the future covariate columns, or a dict by id / list of arrays
            ``(horizon, num_future)``. With past covariates and ``horizon >
            1``, their values over the horizon too (columns after the future
            ones), as a scenario. Row ``h`` holds the values at forecast
            step ``h`` (``horizon`` rows, not shifted; a panel with stamps
            is read at the stamps of the forecast steps), unlike
            :func:`~seqforecast.forecast`'s ``future``: the ``horizon - 1``
            model inputs fed back, already shifted.

    Returns:
        A :class:`~seqforecast.Forecast` with ``mean`` of shape ``(series,
        horizon, num_targets)``, the panel's ``ids`` and, for a panel with
        stamps, the ``times`` of the forecast steps, ``(series, horizon)``.

    Raises:
        ValueError: A model that does not fit the panel, or missing, short or
            non-finite covariates over the horizon (naming the series).

    Example:
        >>> import numpy as np, seqforecast as sf
        >>> days = np.arange("2024-01-01", "2024-01-21", dtype="datetime64[D]")
        >>> panel = sf.Panel.from_series({"a": np.sin(np.arange(20.0))}, times={"a": days}).with_calendar(["dayofweek"])
        >>> model = sf.RecurrentForecaster(input_size=panel.input_size, output_size=1, hidden_size=4, num_layers=1)
        >>> future = sf.calendar_features(np.arange("2024-01-21", "2024-01-24", dtype="datetime64[D]"), ["dayofweek"])
        >>> result = sf.forecast_panel(model, panel, 3, future={"a": future})
        >>> result.mean.shape, str(result.times[0, 0])
        ((1, 3, 1), '2024-01-21')
    """
    horizon = check_int("horizon", horizon)
    if model.input_size != panel.input_size or model.output_size != panel.num_targets:
        msg = (
            f"`model` must have input_size={panel.input_size} (targets + covariates) and "
            f"output_size={panel.num_targets} (targets) to fit the panel, got {model.input_size} and {model.output_size}"
        )
        raise ValueError(msg)
    num_future, num_past = len(panel.future_names), len(panel.past_names)
    means = []
    for i, (key, values) in enumerate(zip(panel.ids, _future_of(panel, future, horizon), strict=True)):
        if num_past and horizon > 1 and values.shape[1] < num_future + num_past:
            msg = (
                f"`future` of series {key!r} must give the past covariates {list(panel.past_names)} over the horizon "
                f"as a scenario (columns after the future ones): they are not known after the last observation, "
                f"and a forecast of horizon={horizon} feeds them back; or forecast horizon=1"
            )
            raise ValueError(msg)
        next_future = values[0, :num_future]
        history = panel.inputs(i, next_future)  # (time, input_size)
        # the inputs fed back: [past[T + h - 1], future[T + h]] for h = 1 .. horizon - 1
        fed = np.concatenate([values[: horizon - 1, num_future:], values[1:, :num_future]], axis=1)
        result = forecast(
            model,
            torch.as_tensor(history, dtype=torch.float32),
            horizon,
            future=torch.as_tensor(fed, dtype=torch.float32) if horizon > 1 and fed.shape[1] else None,
        )
        means.append(result.cpu().numpy())
    return Forecast(np.stack(means), ids=panel.ids, times=panel.future_times(horizon), names=panel.target_names)
