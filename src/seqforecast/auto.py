"""AutoForecaster: one call from a raw series to a forecast that beats the naive one.

The recipe is chosen on a validation tail of the training data: a transform
of the series (levels, first or seasonal differences, or both:
``_auto_transforms``) and a model (a linear autoregression, a GRU, a
windowed MLP, or the naive or seasonal naive forecast), by their
one-step-ahead MSE in the series' own units (``_auto_candidates``, which
spells the recipe out); the winner is fitted again on all of it. Its
intervals are calibrated on the same tail (``_auto_intervals``). A
:class:`~seqforecast.Panel` is fitted as one global model over its series
(``_auto_panel``). :meth:`AutoForecaster.save` writes one safetensors file
(``_auto_io``).
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import torch

from seqforecast._auto_candidates import MODELS, Search, _Score, backtest_levels
from seqforecast._auto_intervals import IntervalCalibration
from seqforecast._auto_io import read, write
from seqforecast._auto_panel import PanelRecipe, fit_panel
from seqforecast._auto_report import summary
from seqforecast._auto_transforms import Transform, as_levels, detect_season
from seqforecast._backtest_stamps import series_stamps, target_stamps
from seqforecast._checks import check_choice, check_float, check_int, describe
from seqforecast._conformal import errors_needed
from seqforecast.covariates import Panel
from seqforecast.inference import forecast, predict
from seqforecast.results import Forecast, check_levels
from seqforecast.transforms import Scaler

if TYPE_CHECKING:
    import os

    from seqforecast.backtesting import Backtest
    from seqforecast.base import BaseForecaster, State

__all__ = ["AutoForecaster"]

_MIN_LENGTH = 12


class AutoForecaster:
    """The one-call path: transforms, model choice and training recipe chosen for you.

    Args:
        seed: Seed for the initial weights and the training order; the same
            seed and data give the same model. The global torch generator is
            left untouched.
        season: The seasonal period (e.g. 12 for monthly data with a yearly
            cycle); None detects it from the autocorrelation of the
            differences, 0 or 1 means none.
        val_fraction: The last part of the training data that candidates are
            scored on before the winner is fitted on all of it.
        steps: Training windows for each neural candidate.
        models: The model families tried beside the naive forecasts:
            ``"linear"``, ``"gru"``, ``"mlp"`` (``("linear",)`` alone is
            much faster).

    Example:
        >>> import numpy as np, seqforecast as sf
        >>> t = np.arange(240)
        >>> y = 50 + 0.5 * t + 10 * np.sin(2 * np.pi * t / 12)  # trend and a yearly cycle
        >>> est = sf.AutoForecaster(seed=0, models=("linear",)).fit(y[:200])
        >>> p = est.predict(y)  # p[t] forecasts y[t + 1], using y[: t + 1] only
        >>> bool(np.abs(p[199:-1, 0] - y[200:]).max() < 0.5)
        True
        >>> est.forecast(horizon=3).mean.shape
        (3, 1)
    """

    def __init__(
        self,
        seed: int = 0,
        *,
        season: int | None = None,
        val_fraction: float = 0.2,
        steps: int = 300,
        models: Sequence[str] = MODELS,
    ) -> None:
        if isinstance(seed, bool) or not isinstance(seed, int):
            msg = f"`seed` must be an integer, got {describe(seed)}"
            raise TypeError(msg)
        self.seed = seed
        self.season = None if season is None else check_int("season", season, minimum=0)
        self.val_fraction = check_float("val_fraction", val_fraction, low=0.05, high=0.5)
        self.steps = check_int("steps", steps)
        if isinstance(models, str) or not isinstance(models, (tuple, list)) or not models:
            msg = f"`models` must be a non-empty tuple of {', '.join(repr(m) for m in MODELS)}, got {describe(models)}"
            raise TypeError(msg)
        self.models = tuple(check_choice(f"models[{i}]", m, MODELS) for i, m in enumerate(models))
        self.model_: BaseForecaster | None = None
        self.choice_: str | None = None
        self.scores_: list[_Score] = []
        self.naive_mse_: float = math.nan
        self.seasonal_naive_mse_: float | None = None
        self.seconds_: float = 0.0
        self.metadata: dict[str, Any] = {}  # your own information, kept by save and load
        self._transform = Transform(difference=True, season=0)
        self._scaler = Scaler()
        self._features = 0
        self._tail = np.zeros((0, 0))
        self._state: State = None
        self._next: np.ndarray | None = None  # the model's forecast of the next transformed value, (F,)
        self._intervals: IntervalCalibration | None = None
        self._panel: PanelRecipe | None = None  # fitted on a Panel: one global model over its series

    # -- fitting ---------------------------------------------------------------------------
    def fit(self, y: object) -> AutoForecaster:
        """Choose and fit the recipe for ``y``; return ``self``.

        Args:
            y: The series, ``(time,)`` or ``(time, features)``: a list, NumPy
                array, torch tensor or pandas object; integers are accepted.
                Or a :class:`~seqforecast.Panel` (from
                :func:`~seqforecast.from_frame`): many series with past and
                known-future covariates, fitted as one global model (see
                :doc:`/tutorials/many-series`); then :meth:`forecast` takes
                the covariates over the horizon as ``future``.

        Returns:
            ``self``, ready to :meth:`forecast` after ``y``.

        Training runs on the CPU, on one thread (restored afterwards): the
        models are small, and on a busy machine several threads are many
        times slower than one.

        Warns:
            UserWarning: No model beat the naive (or seasonal naive)
                forecast on validation: that forecast is kept, and the
                message gives the MSEs.
        """
        panel = y if isinstance(y, Panel) else None
        levels = as_levels("y", y) if panel is None else np.zeros((_MIN_LENGTH, 1))
        if levels.shape[0] < _MIN_LENGTH:
            msg = f"`y` must have at least {_MIN_LENGTH} time steps to fit, got shape {levels.shape}"
            raise ValueError(msg)
        start = time.perf_counter()
        threads = torch.get_num_threads()
        torch.set_num_threads(1)  # small models train fastest on one thread; several fight on a busy machine
        try:
            with torch.random.fork_rng(devices=[]):
                self._fit(levels) if panel is None else self._fit_panel(panel)
        finally:
            torch.set_num_threads(threads)
        self.seconds_ = time.perf_counter() - start
        return self

    def _fit_panel(self, panel: Panel) -> None:
        self._panel, self.choice_, scores, self.naive_mse_ = fit_panel(
            panel, val_fraction=self.val_fraction, models=self.models, steps=self.steps, seed=self.seed
        )
        self.scores_ = [_Score(n, m) for n, m in scores]
        self.model_, self._intervals, self.seasonal_naive_mse_ = self._panel.model, self._panel.intervals, None
        self._features, self._next = panel.num_targets, None

    def _fit(self, y: np.ndarray) -> None:
        self._panel = None
        length, self._features = y.shape
        split = round(length * (1 - self.val_fraction))
        season = detect_season(y[:split]) if self.season is None else self.season
        season = season if 2 <= season <= split // 3 else 0
        search = Search(y, split, season, seed=self.seed, steps=self.steps)
        choice = search.choose(self.models)
        self.naive_mse_, self.seasonal_naive_mse_ = choice.naive_mse, choice.seasonal_naive_mse
        self.scores_, self.choice_, self._transform = choice.scores, choice.name, choice.transform
        if choice.warning is not None:
            warnings.warn(choice.warning, UserWarning, stacklevel=3)
        self._scaler, self.model_ = search.fit_all(choice)
        self._intervals = search.calibrate(choice, (self._scaler, self.model_))
        self._consume(y)

    # -- using the fitted model --------------------------------------------------------------
    def _need_model(self) -> BaseForecaster:
        if self.model_ is None:
            msg = "this AutoForecaster is not fitted yet: call fit(y) first"
            raise ValueError(msg)
        return self.model_

    def _consume(self, y: np.ndarray) -> np.ndarray:
        """Run the whole of ``y`` through the model from a fresh state; return its one-step forecasts."""
        model = self._need_model()
        transform = self._transform
        if len(y) < transform.offset + 1:
            msg = f"`y` must have at least {transform.offset + 1} time steps for this model (its transform looks back {transform.offset}), got {len(y)}"
            raise ValueError(msg)
        u = np.asarray(self._scaler.transform(transform.apply(y)), dtype=np.float32)
        out, self._state = predict(model, u)
        self._next = out[-1].double().numpy()
        self._tail = y[-(transform.offset + 1) :].copy()
        return self._levels_from(out.double().numpy(), y, transform.offset + 1)

    def _levels_from(self, out: np.ndarray, y: np.ndarray, first_time: int) -> np.ndarray:
        """Model outputs forecasting times ``first_time ..`` (relative to ``y``) -> levels."""
        w_hat = np.asarray(self._scaler.inverse_transform(out), dtype=np.float64)
        times = np.arange(first_time, first_time + len(out))  # anchors read only indices below len(y)
        levels: np.ndarray = w_hat + self._transform.anchors(y, times)
        return levels

    def _check_features(self, levels: np.ndarray, name: str) -> np.ndarray:
        if self._panel is not None:
            msg = f"`{name}` must be a series like the one fitted, but this AutoForecaster was fitted on a panel: forecast it with forecast(horizon, future=...)"
            raise ValueError(msg)
        if levels.shape[1] != self._features:
            msg = f"`{name}` must have {self._features} feature(s) like the series fitted, got shape {levels.shape}"
            raise ValueError(msg)
        return levels

    def predict(self, y: object) -> np.ndarray:
        """One-step-ahead forecasts along ``y``, in its own units.

        Causal: row ``t`` forecasts ``y[t + 1]`` from ``y[: t + 1]`` only, with
        the model's state carried through the whole of ``y`` from its start.
        The first rows, before the transform has enough history (one row for
        differences, a season for seasonal ones), hold the naive forecast.
        Afterwards :meth:`forecast` continues after the end of ``y``.

        Args:
            y: ``(time,)`` or ``(time, features)`` series (list, NumPy, torch,
                pandas; integers accepted).

        Returns:
            Float64 array of shape ``(time, features)``; the last row
            forecasts the step after ``y``.
        """
        self._need_model()
        levels = self._check_features(as_levels("y", y), "y")
        offset = self._transform.offset
        forecasts = self._consume(levels)
        result: np.ndarray = levels.copy()
        result[offset:] = forecasts
        return result

    def update(self, new_points: object) -> np.ndarray:
        """Feed new observations after the data last seen, without retraining.

        Costs ``O(len(new_points))``: the model's state, and the few last
        values the transform needs, carry on from :meth:`fit`,
        :meth:`predict` or the previous update.

        Args:
            new_points: ``(time,)`` or ``(time, features)`` observations.

        Returns:
            Float64 ``(time, features)``: row ``i`` forecasts the value after
            ``new_points[i]``.

        Example:
            >>> import numpy as np, seqforecast as sf
            >>> y = np.sin(np.arange(100) / 3)
            >>> est = sf.AutoForecaster(models=("linear",)).fit(y[:80])
            >>> later = est.update(y[80:])  # the same as predict(y)[80:], without going over y[:80] again
            >>> bool(np.allclose(later, est.predict(y)[80:]))
            True
        """
        model = self._need_model()
        if self._next is None:
            msg = "this AutoForecaster has seen no data yet: call fit(y) or predict(y) first"
            raise ValueError(msg)
        new = self._check_features(as_levels("new_points", new_points), "new_points")
        transform = self._transform
        joined = np.vstack([self._tail, new])
        w = transform.apply(joined)[-len(new) :]
        u = np.asarray(self._scaler.transform(w), dtype=np.float32)
        out, self._state = predict(model, u, self._state)
        self._next = out[-1].double().numpy()
        first_time = len(self._tail) + 1  # outputs forecast joined[len(tail) + 1 ..]
        self._tail = joined[-(transform.offset + 1) :].copy()
        return self._levels_from(out.double().numpy(), joined, first_time)

    def forecast(
        self, horizon: int, level: float | Sequence[float] | np.ndarray | None = None, *, future: object = None
    ) -> Forecast:
        """Forecast ``horizon`` steps after the data last seen, feeding forecasts back, with intervals.

        The intervals come from the forecast errors of the chosen recipe on
        the validation tail of the data given to :meth:`fit` (fitted on the
        data before it, backtested from every cutoff of it), per horizon
        step, by split conformal or a Gaussian, whichever covered closer to
        nominal there; steps beyond the calibrated horizon (``max(12,
        season)`` while the tail allows) are scaled by ``sqrt(h / H)``.
        The recipe was chosen for its low errors on that same tail, so the
        intervals may be somewhat narrow (a backtest on later data shows by
        how much).

        Args:
            horizon: Steps ahead, >= 1.
            level: Interval levels in percent, each in ``(0, 100)``: one
                number or several, e.g. ``(80, 95)``; None (the default) for
                none.
            future: For a model fitted on a :class:`~seqforecast.Panel` with
                covariates: their values over the horizon, per series, as
                :func:`~seqforecast.forecast_panel` takes them (a
                :class:`~seqforecast.Panel` from
                ``sf.from_frame(future_df, id=..., time=..., target=None,
                future=[...])``, or a dict by id of ``(horizon,
                num_future)`` arrays). None otherwise.

        Warns:
            UserWarning: Conformal intervals were chosen but a level needs
                more validation cutoffs than there were (95 % needs 19): that
                level's intervals are Gaussian.

        Returns:
            A :class:`~seqforecast.Forecast` in the series' units: ``mean``
            float64 ``(horizon, features)`` (also what ``np.asarray(result)``
            gives), and ``interval(level)`` -> ``(lower, upper)`` of that shape.
            For a panel, ``mean`` is ``(series, horizon, targets)``, with the
            ``ids``, the ``times`` of the forecast steps when the panel has
            stamps, and ``to_frame()``.

        Example:
            >>> import numpy as np, seqforecast as sf
            >>> y = np.sin(np.arange(200) / 4) + np.random.default_rng(0).normal(0, 0.1, 200)
            >>> result = sf.AutoForecaster(models=("linear",)).fit(y).forecast(6, level=(80, 95))
            >>> lower, upper = result.interval(95)
            >>> result.mean.shape, bool((lower < result.mean).all() and (result.mean < upper).all())
            ((6, 1), True)
        """
        model = self._need_model()
        horizon = check_int("horizon", horizon)
        levels = () if level is None else check_levels("level", level)
        if self._panel is not None:
            self._warn_gaussian(self._need_intervals(levels), levels)
            return self._panel.forecast(horizon, levels, future)
        if future is not None:
            msg = "`future` is for an AutoForecaster fitted on a Panel with covariates; this one was fitted on one series: drop `future`"
            raise ValueError(msg)
        if self._next is None:
            msg = "this AutoForecaster has seen no data yet: call fit(y) or predict(y) first"
            raise ValueError(msg)
        first = torch.as_tensor(self._next, dtype=torch.float32).reshape(1, -1)
        steps = [first]
        if horizon > 1:
            steps.append(forecast(model, first, horizon - 1, self._state))
        out = torch.cat(steps).double().numpy()
        w_hat = np.asarray(self._scaler.inverse_transform(out), dtype=np.float64)
        mean: np.ndarray = self._transform.integrate(self._tail[None], w_hat[None])[0]  # each level anchors the next
        calibration = self._need_intervals(levels)
        self._warn_gaussian(calibration, levels)
        intervals = {}
        for lvl in levels:
            radius = calibration.radius(lvl, horizon)
            intervals[lvl] = (mean - radius, mean + radius)
        return Forecast(mean, intervals)

    def _need_intervals(self, levels: tuple[float, ...]) -> IntervalCalibration:
        if levels and self._intervals is None:
            msg = "this AutoForecaster holds no interval calibration (it was saved by an older version): fit it again"
            raise ValueError(msg)
        return cast("IntervalCalibration", self._intervals)

    @staticmethod
    def _warn_gaussian(calibration: IntervalCalibration, levels: tuple[float, ...]) -> None:
        for lvl in levels:
            if calibration.falls_back(lvl):
                message = (
                    f"AutoForecaster: the {lvl:g}% intervals are Gaussian (+- z * RMSE per step), not conformal: "
                    f"a conformal {lvl:g}% interval needs at least {errors_needed(lvl)} validation cutoffs, "
                    f"fitting gave {calibration.count}"
                )
                warnings.warn(message, UserWarning, stacklevel=3)

    def backtest(
        self,
        y: object,
        horizon: int,
        start: float,
        stride: int = 1,
        level: float | Sequence[float] | np.ndarray | None = None,
        *,
        times: object = None,
    ) -> Backtest:
        """Forecasts from every cutoff of ``y`` in one stateful pass, in ``y``'s units.

        Forecast ``i`` equals ``predict(y[:c])`` then ``forecast(horizon)``
        with ``c = cutoffs[i]`` (to float tolerance), without refitting:
        the transforms are applied once, :func:`~seqforecast.backtest` runs
        the model, and each cutoff's forecasts are scaled back and
        integrated from the levels before it. The estimator's own state is
        left as it was.

        Args:
            y: ``(time,)`` or ``(time, features)`` series (list, NumPy, torch,
                pandas; integers accepted), usually the whole series the
                estimator was fitted on a first part of.
            horizon: Steps forecast from each cutoff, >= 1.
            start: The first cutoff, an index (at least the transform's
                look-back plus one) or a fraction of ``len(y)`` in ``(0, 1)``.
            stride: Steps between cutoffs, >= 1.
            level: Interval levels in percent (one or several in ``(0, 100)``)
                to put around every forecast; None (the default) for none.
                The intervals of cutoff ``c`` are calibrated on errors whose
                targets lie before ``c`` only: those of the validation tail
                that :meth:`forecast` uses (all of them for a cutoff after the
                data given to :meth:`fit`), and those of this backtest's own
                forecasts. ``y`` must continue the data given to :meth:`fit`
                (the same time axis); with no error before a cutoff, its
                intervals are infinite.
            times: The stamps of ``y``, ``(time,)``, for the result's
                ``times`` and :meth:`~seqforecast.Backtest.to_frame`;
                default: the ``DatetimeIndex`` of a pandas ``y``, if any.

        Warns:
            UserWarning: With ``level``, when the first cutoff lies inside
                the data given to :meth:`fit`: the model was trained on what
                those cutoffs forecast, so their errors and coverage are
                optimistic. Also when a level's intervals are Gaussian (as
                :meth:`forecast` warns).

        Returns:
            A :class:`~seqforecast.Backtest` of float64 tensors:
            ``forecasts`` and ``targets`` ``(num_cutoffs, horizon,
            features)``; ``metrics()`` compares with the naive forecast;
            ``interval(level)`` gives ``(lower, upper)``, float64 tensors
            shaped like ``forecasts`` (a Backtest holds tensors, where
            :meth:`forecast`'s :class:`~seqforecast.Forecast` holds arrays).

        Example:
            >>> import numpy as np, seqforecast as sf
            >>> y = np.sin(np.arange(150) / 5) + np.arange(150) / 50
            >>> est = sf.AutoForecaster(seed=0, models=("linear",)).fit(y[:120])
            >>> result = est.backtest(y, horizon=6, start=120, stride=3)
            >>> result.forecasts.shape, bool(result.metrics()["relative_mse"][0] < 1)
            (torch.Size([9, 6, 1]), True)
            >>> lower, upper = est.backtest(y, horizon=6, start=120, stride=3, level=80).interval(80)
            >>> lower.shape
            torch.Size([9, 6, 1])
        """
        model = self._need_model()
        horizon = check_int("horizon", horizon)
        levels = self._check_features(as_levels("y", y), "y")
        wanted = () if level is None else check_levels("level", level)
        calibration = self._need_intervals(wanted)
        offset = self._transform.offset
        if isinstance(start, float):  # a fraction of y
            start = round(check_float("start", start, low=0.0, high=1.0, low_inclusive=False) * len(levels))
        first = check_int("start", start, minimum=offset + 1)  # the transform needs `offset` points first
        if first > len(levels) - horizon:
            msg = f"`start` must leave horizon={horizon} points after the first cutoff: at most {len(levels) - horizon} for {len(levels)} time steps, got {first}"
            raise ValueError(msg)
        result = backtest_levels(model, self._scaler, self._transform, levels, horizon, first=first, stride=stride)
        stamps = target_stamps(series_stamps(y, times, len(levels)), result.cutoffs, horizon)
        result = replace(result, times=stamps[0], cutoff_times=stamps[1])
        if not wanted:
            return result
        if first < calibration.end:
            message = (
                f"AutoForecaster.backtest: cutoffs before {calibration.end} lie in the data given to fit (its "
                f"{calibration.end} time steps): the model was trained on what they forecast, so their errors and the "
                f"coverage of their intervals are optimistic; start at {calibration.end} or later for an honest backtest"
            )
            warnings.warn(message, UserWarning, stacklevel=2)
        self._warn_gaussian(calibration, wanted)
        forecasts, cutoffs = result.forecasts.numpy(), result.cutoffs.numpy()
        errors = result.targets.numpy() - forecasts
        intervals = {}
        for lvl in wanted:
            radius = torch.from_numpy(calibration.backtest_radii(lvl, errors, cutoffs))
            intervals[lvl] = (result.forecasts - radius, result.forecasts + radius)
        return replace(result, intervals=intervals)

    # -- reporting and files -----------------------------------------------------------------
    @property
    def validation_mse(self) -> float:
        """The chosen candidate's one-step MSE on the validation tail (NaN before :meth:`fit`)."""
        return next((s.mse for s in self.scores_ if s.name == self.choice_), math.nan)

    @property
    def interval_method(self) -> str | None:
        """How :meth:`forecast` makes intervals: ``"conformal"`` or ``"gaussian"`` (None before :meth:`fit`).

        Chosen at :meth:`fit` by the empirical coverage of both methods on the
        second half of the validation tail, each calibrated on the first half
        (Gaussian when the halves are too short for a conformal 80 %
        interval). A level that needs more validation cutoffs than there
        were is Gaussian even under ``"conformal"``, with a warning.
        """
        return None if self._intervals is None else self._intervals.method

    def summary(self) -> str:
        """What was chosen and its validation skill beside the naive and seasonal naive forecasts."""
        return summary(self)

    def __repr__(self) -> str:
        if self.model_ is None:
            return f"AutoForecaster(seed={self.seed}) (not fitted)"
        relative = self.validation_mse / self.naive_mse_ if self.naive_mse_ > 0 else math.nan
        return f"AutoForecaster(seed={self.seed}): {self.choice_}; validation MSE {relative:.3f} of naive"

    def save(self, path: str | os.PathLike[str], *, metadata: dict[str, Any] | None = None) -> None:
        """Write the fitted forecaster (model, scaler, choice, state) to one safetensors file.

        Args:
            path: The file to write (atomically), conventionally ``*.safetensors``.
            metadata: Your own JSON-serialisable information, given back as
                ``metadata`` by :meth:`load` (the key ``"auto"`` is reserved).

        Example:
            >>> import pathlib, tempfile, numpy as np, seqforecast as sf
            >>> est = sf.AutoForecaster(models=("linear",)).fit(np.sin(np.arange(60) / 3))
            >>> path = pathlib.Path(tempfile.mkdtemp()) / "auto.safetensors"
            >>> est.save(path, metadata={"units": "m"})
            >>> loaded = sf.AutoForecaster.load(path)
            >>> bool((loaded.forecast(3).mean == est.forecast(3).mean).all()), loaded.metadata
            (True, {'units': 'm'})
        """
        write(self, self._need_model(), path, metadata)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> AutoForecaster:
        """Read a forecaster written by :meth:`save`; it forecasts where the saved one would."""
        return read(cls, path)
