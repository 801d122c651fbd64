"""Conformal prediction intervals for any forecaster, point forecasts included.

**Split conformal.** A backtest over a calibration range gives, for each
horizon step ``h``, the absolute errors ``|y - ŷ|`` of ``n`` past forecasts.
The ``level`` % interval around a new forecast at step ``h`` is ``ŷ ± r_h``,
where ``r_h`` is the ``k``-th smallest of those errors with
``k = ⌈(n + 1) · level / 100⌉`` (the finite-sample correction): if the
errors are exchangeable with the new one, the interval covers with
probability at least ``level`` %. At least two calibration windows are
needed, and more for a high level (``k <= n``).

**Adaptive conformal inference** (Gibbs & Candès, 2021). A stream's
errors need not stay exchangeable: when the noise grows, fixed intervals
under-cover. :class:`AdaptiveConformal` keeps a window of recent one-step
errors and its own miscoverage level ``alpha_t``, updated after each observation
by ``alpha_{t+1} = alpha_t + gamma (alpha - err_t)`` (``err_t`` is 1 when the interval missed):
after misses it widens the intervals, after hits it narrows them, and its
long-run miscoverage tends to ``alpha`` whatever the data do.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import Tensor

from seqforecast._checks import as_float_tensor, check_float, check_int, describe
from seqforecast._conformal import conformal_radius, conformal_rank, errors_needed
from seqforecast.backtesting import Backtest, backtest
from seqforecast.inference import StreamingForecaster, forecast
from seqforecast.results import Forecast, check_levels

if TYPE_CHECKING:
    from seqforecast.base import Forecaster, State

__all__ = ["AdaptiveConformal", "ConformalCalibration", "conformal_forecast", "conformal_rank"]


def _array(name: str, value: object) -> np.ndarray:
    """``value`` (tensor, array, list) as a float64 NumPy array, checked for NaN and infinity."""
    if isinstance(value, Tensor):
        value = value.detach()
    tensor = as_float_tensor(name, value, dtype=torch.float64, device="cpu", integers=True)
    return tensor.numpy()


@dataclasses.dataclass(frozen=True, eq=False)
class ConformalCalibration:
    """Split-conformal calibration: the absolute errors of past forecasts, per horizon step.

    Calibrate once (from a :class:`~seqforecast.Backtest` with
    :meth:`from_backtest`, or from errors you computed), then put intervals
    around any forecast of at most ``horizon`` steps with :meth:`interval`
    or :meth:`forecast`.

    Attributes:
        errors: Absolute forecast errors ``|target - forecast|``,
            ``(count, horizon, features)``: ``errors[i, h]`` is the error of
            calibration window ``i`` at horizon step ``h + 1``, in the order
            given (oldest first for a backtest's), so that
            :class:`AdaptiveConformal` can start from the most recent ones.

    Example:
        >>> import torch, seqforecast as sf
        >>> model = sf.FeedForwardForecaster(window=4, seed=0)
        >>> series = torch.sin(torch.arange(300.0) / 5)
        >>> calibration = sf.ConformalCalibration.from_backtest(sf.backtest(model, series, horizon=6, start=200))
        >>> calibration.count, calibration.horizon
        (95, 6)
        >>> result = calibration.forecast(sf.forecast(model, series, horizon=6), level=(80, 95))
        >>> lower, upper = result.interval(95)
        >>> lower.shape, bool((lower <= result.mean).all() and (result.mean <= upper).all())
        ((6, 1), True)
    """

    errors: np.ndarray

    def __post_init__(self) -> None:
        errors = _array("errors", self.errors)
        if errors.ndim != 3 or errors.shape[1] == 0 or errors.shape[2] == 0:
            msg = f"`errors` must have shape (count, horizon, features), got shape {errors.shape}"
            raise ValueError(msg)
        if errors.shape[0] < 2:
            msg = (
                "`errors` must hold at least 2 calibration windows (conformal intervals need a calibration range "
                f"of at least two cutoffs), got {errors.shape[0]}"
            )
            raise ValueError(msg)
        if (errors < 0).any():
            msg = "`errors` must be absolute errors (>= 0), got a negative value"
            raise ValueError(msg)
        object.__setattr__(self, "errors", errors)

    @classmethod
    def from_backtest(cls, result: Backtest) -> ConformalCalibration:
        """Calibrate on the errors of every cutoff of a backtest (all series of a batch pooled).

        Args:
            result: A :class:`~seqforecast.Backtest` whose ``forecasts`` and
                ``targets`` are ``(cutoffs, horizon, features)`` or
                ``(batch, cutoffs, horizon, features)``, with at least two
                cutoffs (windows) in all.

        Returns:
            The calibration.

        Raises:
            TypeError: ``result`` is not a Backtest.
            ValueError: Fewer than two calibration windows.
        """
        given: object = result
        if not isinstance(given, Backtest):
            msg = f"`result` must be a seqforecast.Backtest, got {describe(given)}"
            raise TypeError(msg)
        forecasts = _array("result.forecasts", result.forecasts)
        targets = _array("result.targets", result.targets)
        horizon, features = forecasts.shape[-2:]
        return cls(np.abs(targets - forecasts).reshape(-1, horizon, features))

    @property
    def count(self) -> int:
        """The number of calibration windows ``n``."""
        return int(self.errors.shape[0])

    @property
    def horizon(self) -> int:
        """The horizon steps calibrated."""
        return int(self.errors.shape[1])

    def radius(self, level: float) -> np.ndarray:
        """The half-width of the ``level`` % interval at each step, ``(horizon, features)``.

        It is the ``⌈(n + 1) · level / 100⌉``-th smallest calibration error of
        each step and feature, so at least ``level`` % of the calibration
        errors lie within it.

        Raises:
            ValueError: ``level`` is outside ``(0, 100)``, or too high for
                ``n`` windows (the rank would exceed ``n``; the message says
                how many windows it needs).

        Example:
            >>> import numpy as np
            >>> calibration = ConformalCalibration(np.arange(1.0, 10.0).reshape(9, 1, 1))  # errors 1..9
            >>> calibration.radius(80).ravel().tolist()  # the ceil(10 * 0.8) = 8th smallest
            [8.0]
        """
        (value,) = check_levels("level", level)
        if conformal_rank(self.count, value) > self.count:
            msg = (
                f"`level` {value:g} needs at least {errors_needed(value)} calibration windows for a finite "
                f"conformal interval, got {self.count}; calibrate on a longer range or ask for a lower level"
            )
            raise ValueError(msg)
        radius: np.ndarray = conformal_radius(torch.from_numpy(self.errors), value).numpy()
        return radius

    def interval(self, forecasts: object, level: float) -> tuple[np.ndarray, np.ndarray]:
        """The ``level`` % interval around ``forecasts``.

        Args:
            forecasts: Point forecasts ``(..., steps, features)`` with
                ``steps <= horizon`` (step ``j`` gets the radius of horizon
                step ``j + 1``): one forecast ``(steps, features)``, a batch,
                or a backtest's ``(cutoffs, steps, features)``.
            level: Percent, in ``(0, 100)``.

        Returns:
            ``(lower, upper)``, float64 arrays shaped like ``forecasts``.

        Raises:
            ValueError: ``forecasts`` has more steps than calibrated or
                other features, or a bad ``level``.
        """
        mean = self._check_forecasts(forecasts)
        radius = self.radius(level)[: mean.shape[-2]]
        return mean - radius, mean + radius

    def forecast(self, forecasts: object, level: float | Sequence[float] = (80, 95)) -> Forecast:
        """A :class:`~seqforecast.Forecast`: ``forecasts`` with their intervals at each level.

        Args:
            forecasts: Point forecasts ``(..., steps, features)``, ``steps <= horizon``.
            level: One level or several, percent in ``(0, 100)``.

        Returns:
            ``Forecast(mean, intervals)`` with float64 arrays shaped like ``forecasts``.
        """
        levels = check_levels("level", level)
        mean = self._check_forecasts(forecasts)
        return Forecast(mean, {lvl: self.interval(mean, lvl) for lvl in levels})

    def _check_forecasts(self, forecasts: object) -> np.ndarray:
        mean = _array("forecasts", forecasts)
        features = self.errors.shape[2]
        if mean.ndim < 2 or mean.shape[-1] != features or not 1 <= mean.shape[-2] <= self.horizon:
            msg = (
                f"`forecasts` must have shape (..., steps, {features}) with 1 <= steps <= {self.horizon} "
                f"(the calibrated horizon), got shape {mean.shape}"
            )
            raise ValueError(msg)
        return mean


def conformal_forecast(
    model: Forecaster,
    series: object,
    horizon: int,
    *,
    start: float,
    level: float | Sequence[float] = (80, 95),
    stride: int = 1,
    state: State = None,
) -> Forecast:
    """Forecast ``horizon`` steps after ``series`` with split-conformal intervals.

    The calibration set is the backtest of ``model`` over ``series`` from
    ``start`` on: every cutoff ``c >= start`` (``stride`` apart) with
    ``horizon`` observed points after it; each cutoff's forecast used only
    ``series[:c]``. Those errors set the interval half-widths, per horizon
    step; the forecast itself continues after the whole of ``series``.

    Args:
        model: A forecaster with ``output_size == input_size``.
        series: ``(time,)`` or ``(time, features)``; or a batch of series in
            the model's layout (their errors are pooled).
        horizon: Steps ahead, >= 1.
        start: The first calibration cutoff: an index or a fraction of the
            series' length in ``(0, 1)``, as in :func:`~seqforecast.backtest`.
        level: One level or several, percent in ``(0, 100)``.
        stride: Steps between calibration cutoffs, >= 1.
        state: The state before ``series``.

    Returns:
        A :class:`~seqforecast.Forecast`: ``mean`` ``(horizon, features)``
        and its intervals, laid out as :func:`~seqforecast.forecast` gives
        them: for a batch, ``(batch, horizon, features)`` in a batch-first
        model and ``(horizon, batch, features)`` in a time-first one (each
        series' step ``h`` gets the radius of step ``h``).

    Raises:
        ValueError: Fewer than two calibration cutoffs, a level too high for
            their number, or a bad ``horizon``, ``start``, ``stride`` or ``level``.

    Example:
        >>> import torch, seqforecast as sf
        >>> model = sf.FeedForwardForecaster(window=4, seed=0)
        >>> series = torch.sin(torch.arange(300.0) / 5)
        >>> result = sf.conformal_forecast(model, series, 12, start=0.5, level=90)
        >>> result.mean.shape, result.levels
        ((12, 1), (90.0,))
    """
    levels = check_levels("level", level)
    calibration = ConformalCalibration.from_backtest(
        backtest(model, series, horizon, start=start, stride=stride, state=state)
    )
    ahead = forecast(model, series, horizon, state)
    if model.batch_first or ahead.dim() < 3:
        return calibration.forecast(ahead, levels)
    result = calibration.forecast(ahead.transpose(0, 1), levels)  # (batch, horizon, F): the steps second to last

    def time_first(values: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(np.swapaxes(values, 0, 1))

    intervals = {lvl: (time_first(lower), time_first(upper)) for lvl, (lower, upper) in result.intervals.items()}
    return Forecast(time_first(result.mean), intervals)


class AdaptiveConformal:
    """Streaming one-step forecasts with adaptive conformal intervals (Gibbs & Candès, 2021).

    Wraps a :class:`~seqforecast.StreamingForecaster`. Each :meth:`update`
    observes ``x_t``, scores the interval it gave for ``x_t`` (a miss when
    ``x_t`` fell outside), updates the miscoverage level
    ``alpha_{t+1} = alpha_t + gamma (alpha - err_t)`` and the window of recent absolute
    errors, and returns the forecast of ``x_{t+1}`` with its interval: the
    forecast ± the ``⌈(n + 1)(1 - alpha_t)⌉``-th smallest of the ``n`` errors
    in the window (infinite while there are too few errors or ``alpha_t <= 0``,
    zero width when ``alpha_t >= 1``). Each series and feature keeps its own
    ``alpha_t`` and errors.

    Args:
        model: A forecaster with ``output_size == input_size``.
        state: The state to start from, e.g. from :func:`~seqforecast.prime`.
        level: The target coverage, percent in ``(0, 100)``.
        gamma: The adaptation rate ``gamma > 0`` (larger adapts faster, with
            noisier intervals; 0.005 is the paper's choice).
        window: The number of recent errors kept, >= 2.
        calibration: Errors to start the window with, oldest first (the
            last ``window`` of them are kept): one-step absolute errors
            ``(count, features)`` (``(count, batch, features)`` for a batch),
            or a :class:`ConformalCalibration` (the errors of its first
            horizon step, in its order). Default: none; the first intervals
            are infinite.

    Attributes:
        alpha: The current miscoverage levels ``alpha_t``, a tensor shaped like
            a forecast (None before the first update).
        stream: The wrapped :class:`~seqforecast.StreamingForecaster`.

    Example:
        >>> import torch, seqforecast as sf
        >>> model = sf.FeedForwardForecaster(window=2, seed=0)
        >>> online = sf.AdaptiveConformal(model, level=90, gamma=0.01, window=100)
        >>> for value in torch.sin(torch.arange(50.0) / 3):
        ...     point, lower, upper = online.update(value.reshape(1))
        >>> point.shape, bool((lower <= point).all() and (point <= upper).all())
        (torch.Size([1]), True)
    """

    def __init__(
        self,
        model: Forecaster,
        state: State = None,
        *,
        level: float = 90.0,
        gamma: float = 0.005,
        window: int = 500,
        calibration: object = None,
    ) -> None:
        (self.level,) = check_levels("level", level)
        self.gamma = check_float("gamma", gamma, low=0.0, low_inclusive=False)
        self.window = check_int("window", window, minimum=2)
        if model.output_size != model.input_size:
            msg = (
                f"`model` must have output_size == input_size (each observation scores the forecast of it), "
                f"got output_size={model.output_size}, input_size={model.input_size}"
            )
            raise ValueError(msg)
        self.stream = StreamingForecaster(model, state)
        self._initial = self._calibration_errors(calibration)
        self.alpha: Tensor | None = None
        self._errors: Tensor | None = None  # (n, *shape), the newest last
        self._last: tuple[Tensor, Tensor, Tensor] | None = None

    def _calibration_errors(self, calibration: object) -> Tensor | None:
        if calibration is None:
            return None
        features = self.stream.model.input_size
        if isinstance(calibration, ConformalCalibration):
            errors = calibration.errors[:, 0]  # (count, F): the first horizon step's
        else:
            errors = np.abs(_array("calibration", calibration))
        if errors.ndim not in (2, 3) or errors.shape[-1] != features or len(errors) == 0:
            msg = (
                f"`calibration` must be absolute one-step errors (count, {features}) or (count, batch, {features}), "
                f"or a ConformalCalibration of {features} feature(s), got errors of shape {errors.shape}"
            )
            raise ValueError(msg)
        return torch.as_tensor(errors[-self.window :])

    def update(self, x_t: object) -> tuple[Tensor, Tensor, Tensor]:
        """Observe ``x_t``; return the forecast of the next value and its interval.

        Args:
            x_t: ``(features,)`` for one series or ``(batch, features)``.

        Returns:
            ``(forecast, lower, upper)``, each ``(features,)`` or ``(batch, features)``.
        """
        previous = self._last
        point = self.stream.update(x_t)
        x = point.new_tensor(np.asarray(x_t)) if not isinstance(x_t, Tensor) else x_t.to(point)
        x = x.reshape(point.shape)
        if previous is None:
            self.alpha = torch.full_like(point, 1.0 - self.level / 100.0)
            if self._initial is not None:
                initial = self._initial.to(point)
                if initial.dim() == point.dim():  # (count, F) errors for a batch of series: the same for each
                    initial = initial.unsqueeze(1)
                if initial.shape[1:] not in (point.shape, (1, *point.shape[1:])):
                    msg = (
                        f"`calibration` errors of shape {tuple(self._initial.shape)} do not fit forecasts of shape "
                        f"{tuple(point.shape)}: give (count, features) or (count, batch, features) errors"
                    )
                    raise ValueError(msg)
                self._errors = initial.expand(-1, *point.shape).clone()
        else:
            before, lower, upper = previous
            missed = ((x < lower) | (x > upper)).to(point.dtype)
            self.alpha = self._alpha(point) + self.gamma * ((1.0 - self.level / 100.0) - missed)
            error = (x - before).abs().unsqueeze(0)
            self._errors = error if self._errors is None else torch.cat((self._errors, error))[-self.window :]
        radius = self._radius(point)
        self._last = (point, point - radius, point + radius)
        return self._last

    def _alpha(self, point: Tensor) -> Tensor:
        return torch.full_like(point, 1.0 - self.level / 100.0) if self.alpha is None else self.alpha

    def _radius(self, point: Tensor) -> Tensor:
        """The ``⌈(n + 1)(1 - alpha_t)⌉``-th smallest recent error, per element (inf beyond ``n``)."""
        if self._errors is None:
            return torch.full_like(point, math.inf)
        return conformal_radius(self._errors, 100.0 * (1.0 - self._alpha(point)))

    def reset(self, state: State = None) -> None:
        """Forget the stream, the errors and the adapted level; start again from ``state``."""
        self.stream.reset(state)
        self.alpha, self._errors, self._last = None, None, None
