"""AutoForecaster: one call from a raw series to a forecast that beats the naive one.

The recipe, chosen on a validation tail of the training data:

* **Transform.** The series in levels, its first differences, its seasonal
  differences, or both. On differences the model predicts a *change*: its
  output is anchored on the last value (or the value one season ago), so the
  naive forecast is where it starts. The transformed series is standardised
  with the statistics of the part the models are fitted on.
* **Model.** A linear autoregression (a :class:`FeedForwardForecaster` with no
  hidden layer, fitted in closed form by ridge regression) over a few lag
  counts; a GRU and a windowed MLP trained statefully (truncated BPTT) on the
  best transforms; and the naive and seasonal naive forecasts themselves.
* **Choice.** The lowest one-step-ahead MSE, in the series' own units, over
  the last ``val_fraction`` of the training data, predicted causally with
  the state carried through the whole series. The winner is then fitted
  again on all of it. When nothing beats the naive forecast, the naive
  forecast is kept and :meth:`AutoForecaster.fit` warns, naming the numbers.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import torch
from torch import Tensor, nn

from seqforecast._auto_intervals import IntervalCalibration, calibration_horizon
from seqforecast._auto_panel import PanelRecipe, fit_panel
from seqforecast._backtest_stamps import series_stamps, target_stamps
from seqforecast._checks import check_choice, check_float, check_int, describe
from seqforecast._conformal import errors_needed
from seqforecast.backtesting import Backtest, backtest
from seqforecast.base import state_tensors
from seqforecast.checkpoint import load, save
from seqforecast.covariates import Panel
from seqforecast.data import ArrayStream
from seqforecast.inference import forecast, predict
from seqforecast.models import FeedForwardForecaster, RecurrentForecaster
from seqforecast.results import Forecast, check_levels
from seqforecast.series import series_tensor
from seqforecast.training import Trainer
from seqforecast.transforms import Scaler

if TYPE_CHECKING:
    import os

    from seqforecast.base import BaseForecaster, State

__all__ = ["AutoForecaster"]

_FORMAT = "seqforecast.AutoForecaster"
_MIN_LENGTH = 12
_LAGS = (1, 2, 3, 4, 6, 8, 12, 16, 24)
MODELS = ("linear", "gru", "mlp")
NEURAL_MARGIN = 0.05
"""A neural candidate is kept only if its validation MSE is this much below the best linear one's."""


@dataclass(frozen=True)
class _Transform:
    """Levels -> model space: optional first difference after an optional seasonal one."""

    difference: bool
    season: int  # 0: none

    @property
    def offset(self) -> int:
        """Observations consumed before the first transformed value."""
        return self.season + int(self.difference)

    @property
    def name(self) -> str:
        parts = ([f"seasonal differences (period {self.season})"] if self.season else []) + (
            ["first differences"] if self.difference else []
        )
        return " of ".join(reversed(parts)) if parts else "levels"

    def apply(self, y: np.ndarray) -> np.ndarray:
        """``(T, F)`` levels -> ``(T - offset, F)`` transformed values."""
        z = y[self.season :] - y[: -self.season] if self.season else y
        return np.diff(z, axis=0) if self.difference else z

    def integrate(self, history: np.ndarray, w_hat: np.ndarray) -> np.ndarray:
        """Levels from transformed forecasts, each anchored on the levels before it.

        Args:
            history: ``(K, L, F)`` levels just before each forecast, ``L >= offset``.
            w_hat: ``(K, H, F)`` forecasts in the transformed space.

        Returns:
            ``(K, H, F)`` levels.
        """
        known = history.shape[1]
        levels = np.concatenate([history, np.zeros_like(w_hat)], axis=1)
        for h in range(w_hat.shape[1]):
            s = known + h
            anchor = np.zeros_like(w_hat[:, h])
            if self.difference:
                anchor += levels[:, s - 1]
            if self.season:
                anchor += levels[:, s - self.season]
            if self.difference and self.season:
                anchor -= levels[:, s - 1 - self.season]
            levels[:, s] = w_hat[:, h] + anchor
        result: np.ndarray = levels[:, known:]
        return result

    def anchors(self, y: np.ndarray, times: np.ndarray) -> np.ndarray:
        """The part of ``y[s]`` known at time ``s - 1``: ``y[s] = w[s] + anchor[s]``, for each ``s`` in ``times``."""
        anchor = np.zeros((len(times), y.shape[1]))
        if self.difference:
            anchor += y[times - 1]
        if self.season:
            anchor += y[times - self.season]
        if self.difference and self.season:
            anchor -= y[times - 1 - self.season]
        return anchor


@dataclass(frozen=True)
class _Score:
    name: str
    mse: float


def _levels(name: str, y: object) -> np.ndarray:
    """``y`` (list, NumPy, torch, pandas; ints welcome) as float64 ``(time, features)``."""
    if hasattr(y, "to_numpy") and callable(y.to_numpy):  # pandas Series or DataFrame
        y = y.to_numpy()
    return series_tensor(name, y, dtype=torch.float64, device="cpu").numpy()


def _detect_season(y: np.ndarray) -> int:
    """The seasonal period: the shortest lag whose autocorrelation peak is within 90% of the strongest, or 0.

    The autocorrelation is that of the first feature less a quadratic trend
    (differences would drown a weekly series' yearly cycle in noise).
    """
    t = np.arange(len(y))
    x = y[:, 0] - np.polyval(np.polyfit(t, y[:, 0], 2), t)
    x = x - x.mean()
    denominator = float(x @ x)
    longest = min(len(x) // 3, 400)
    if denominator == 0.0 or longest < 4:
        return 0
    acf = np.array([float(x[lag:] @ x[:-lag]) / denominator for lag in range(1, longest + 1)])
    peaks = [lag for lag in range(2, longest) if acf[lag - 1] > acf[lag - 2] and acf[lag - 1] >= acf[lag]]
    if not peaks:
        return 0
    strongest = max(acf[lag - 1] for lag in peaks)
    if strongest <= 0.25:
        return 0
    return min(lag for lag in peaks if acf[lag - 1] >= 0.9 * strongest)  # the period, not a multiple of it


def _ridge(u: np.ndarray, lags: int, strength: float = 1e-2) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares AR(``lags``) on ``(N, F)`` standardised values: weight ``(F, lags*F)``, bias ``(F,)``."""
    n, features = u.shape
    rows = n - lags
    x = np.stack([u[i : i + rows] for i in range(lags)], axis=1).reshape(rows, lags * features)  # oldest lag first
    target = u[lags:]
    design = np.hstack([x, np.ones((rows, 1))])
    penalty = strength * rows * np.eye(design.shape[1])
    penalty[-1, -1] = 0.0
    solution = np.linalg.solve(design.T @ design + penalty, design.T @ target)  # (lags*F + 1, F)
    return solution[:-1].T, solution[-1]


def _linear(weight: np.ndarray, bias: np.ndarray, lags: int) -> FeedForwardForecaster:
    features = bias.shape[0]
    model = FeedForwardForecaster(features, features, (), window=lags)
    linear = cast("nn.Linear", model.net[0])
    with torch.no_grad():
        linear.weight.copy_(torch.from_numpy(weight))
        linear.bias.copy_(torch.from_numpy(bias))
    return model.eval()


def _backtest_levels(
    model: BaseForecaster,
    scaler: Scaler,
    transform: _Transform,
    levels: np.ndarray,
    horizon: int,
    *,
    first: int,
    stride: int,
) -> Backtest:
    """Backtest ``model`` (on ``transform``'s scaled space) over ``levels`` from cutoff ``first``, in levels."""
    offset = transform.offset
    u = np.asarray(scaler.transform(transform.apply(levels)), dtype=np.float32)
    model_space = backtest(model, u, horizon, start=first - offset, stride=stride)  # u[i] is at y[i + offset]
    cutoffs = model_space.cutoffs.numpy() + offset  # indices of y
    count, _, features = model_space.forecasts.shape
    w_hat = np.asarray(
        scaler.inverse_transform(model_space.forecasts.double().numpy().reshape(-1, features)),
        dtype=np.float64,
    ).reshape(count, horizon, features)
    history = np.stack([levels[c - offset : c] for c in cutoffs]) if offset else np.zeros((count, 0, features))
    forecasts = transform.integrate(history, w_hat)
    targets = np.stack([levels[c : c + horizon] for c in cutoffs])
    seen = levels[: cutoffs[0]]
    scale = np.abs(np.diff(seen, axis=0)).mean(0) if len(seen) > 1 else np.full(features, np.nan)
    return Backtest(
        forecasts=torch.from_numpy(forecasts),
        targets=torch.from_numpy(targets),
        cutoffs=torch.from_numpy(cutoffs.astype(np.int64)),
        last=torch.from_numpy(levels[cutoffs - 1]),
        scale=torch.from_numpy(np.asarray(scale, dtype=np.float64)),
    )


def _state_to_json(state: State) -> Any:
    if state is None:
        return None
    tensors = state_tensors(state)
    return {
        "tuple": not isinstance(state, Tensor),
        "tensors": [{"shape": list(t.shape), "values": t.detach().cpu().reshape(-1).tolist()} for t in tensors],
    }


def _state_from_json(data: Any) -> State:
    if data is None:
        return None
    tensors = tuple(torch.tensor(t["values"], dtype=torch.float32).reshape(t["shape"]) for t in data["tensors"])
    return tensors if data["tuple"] else tensors[0]


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
        self._transform = _Transform(difference=True, season=0)
        self._scaler = Scaler()
        self._features = 0
        self._tail = np.zeros((0, 0))
        self._state: State = None
        self._next: np.ndarray | None = None  # the model's forecast of the next transformed value, (F,)
        self._intervals: IntervalCalibration | None = None
        self._panel: PanelRecipe | None = None  # fitted on a Panel: one global model over its series
        self._fitted: dict[tuple[_Transform, Any], tuple[Scaler, BaseForecaster]] = {}  # candidates on y[:split]

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
        levels = _levels("y", y) if panel is None else np.zeros((_MIN_LENGTH, 1))
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
        season = _detect_season(y[:split]) if self.season is None else self.season
        season = season if 2 <= season <= split // 3 else 0
        times = np.arange(split, length)
        naive = float(np.mean((y[times - 1] - y[times]) ** 2))
        self.naive_mse_ = naive
        seasonal_naive = float(np.mean((y[times - season] - y[times]) ** 2)) if season else math.inf
        self.seasonal_naive_mse_ = seasonal_naive if season else None
        transforms = [_Transform(d, s) for s in ((0, season) if season else (0,)) for d in (False, True)]
        scored: list[tuple[float, str, _Transform, Any]] = []
        scored.append((naive, "naive", _Transform(True, 0), ("naive",)))
        if season:
            scored.append((seasonal_naive, "seasonal naive", _Transform(False, season), ("naive",)))
        best_linear: dict[_Transform, float] = {}
        for transform in transforms:
            if split - transform.offset < 2 * _LAGS[0] + 4:
                continue
            for lags in sorted({*_LAGS, season, season + 1, 2 * season + 1, 3 * season + 1} - {0}):
                if split - transform.offset < 3 * lags + 4:
                    continue
                mse = self._validate(y, split, transform, ("linear", lags))
                if "linear" in self.models:
                    scored.append((mse, f"linear AR({lags}) on {transform.name}", transform, ("linear", lags)))
                best_linear[transform] = min(mse, best_linear.get(transform, math.inf))
        ranked = sorted(best_linear, key=best_linear.__getitem__)  # the transforms, best first by the linear fits
        if "gru" in self.models:
            for transform in ranked[:2]:
                spec = ("gru", 32)
                mse = self._validate(y, split, transform, spec)
                scored.append((mse, f"GRU(32) on {transform.name}", transform, spec))
        if "mlp" in self.models and ranked:
            spec = ("mlp", 8)
            mse = self._validate(y, split, ranked[0], spec)
            scored.append((mse, f"MLP(32, window 8) on {ranked[0].name}", ranked[0], spec))
        scored = [s for s in scored if math.isfinite(s[0])] or scored[:1]
        mse, name, transform, spec = min(scored, key=lambda s: s[0])
        linear = min((s for s in scored if s[3][0] == "linear"), key=lambda s: s[0], default=None)
        baseline = min((s for s in scored if s[3][0] == "naive"), key=lambda s: s[0])
        if spec[0] in ("gru", "mlp") and linear and linear[0] < baseline[0] and linear[0] <= mse * (1 + NEURAL_MARGIN):
            mse, name, transform, spec = linear  # not clearly better than the simpler model, which beats the baselines
        self.scores_ = sorted((_Score(n, m) for m, n, _, _ in scored), key=lambda s: s.mse)
        self.choice_ = name
        self._transform = transform
        if spec[0] == "naive":
            self._scaler = Scaler().fit(np.zeros((1, self._features)))  # the identity: mean 0, std 1
            features = self._features
            self.model_ = _linear(np.zeros((features, features)), np.zeros(features), 1)  # "no change", exactly
            models = [m for m, n, _, sp in scored if sp[0] != "naive"]
            best = min(models) if models else math.nan
            message = (
                f"AutoForecaster: no model beat the {name} forecast on validation (best model MSE {best:.4g} vs "
                f"{name} {mse:.4g}"
                + (f", naive {naive:.4g}" if name != "naive" else "")
                + f"); it forecasts with the {name} forecast"
            )
            warnings.warn(message, UserWarning, stacklevel=3)
        else:
            self._scaler, self.model_ = self._train(y, transform, spec, len(y))
        self._intervals = self._calibrate(y, split, season, transform, spec)
        self._fitted.clear()
        self._consume(y)

    def _calibrate(
        self, y: np.ndarray, split: int, season: int, transform: _Transform, spec: Any
    ) -> IntervalCalibration:
        """The chosen recipe, fitted on ``y[:split]``, backtested over the validation tail: its errors per step."""
        horizon = calibration_horizon(len(y) - split, season)
        if spec[0] == "naive":  # no parameters: the same on any data
            scaler, model = self._scaler, self._need_model()
        else:
            scaler, model = self._fitted.get((transform, spec)) or self._train(y, transform, spec, split)
        result = _backtest_levels(model, scaler, transform, y, horizon, first=split, stride=1)
        return IntervalCalibration.choose((result.targets - result.forecasts).numpy(), first=split)

    def _train(self, y: np.ndarray, transform: _Transform, spec: Any, fit_end: int) -> tuple[Scaler, BaseForecaster]:
        """Fit ``spec`` on ``y[:fit_end]`` in ``transform``'s space; return the scaler and the model."""
        w = transform.apply(y[:fit_end])
        scaler = Scaler().fit(w)
        u = np.asarray(scaler.transform(w), dtype=np.float64)
        kind = spec[0]
        if kind == "linear":
            weight, bias = _ridge(u, spec[1])
            return scaler, _linear(weight, bias, spec[1])
        features = self._features
        model: BaseForecaster
        if kind == "gru":
            model = RecurrentForecaster(features, features, spec[1], 1, cell="gru", seed=self.seed)
        else:
            model = FeedForwardForecaster(features, features, (32,), window=spec[1], seed=self.seed)
        rows = len(u)
        seq_length = max(4, min(32, rows // 16))
        batch_size = max(1, min(8, rows // (4 * (seq_length + 1))))
        stream = ArrayStream(u.astype(np.float32), seq_length, batch_size=batch_size)
        trainer = Trainer(model, lr=0.005, device="cpu", seed=self.seed, clip_grad_norm=1.0, log_every=self.steps)
        if trainer.fit(stream, steps=self.steps).interrupted:
            raise KeyboardInterrupt  # Ctrl-C stops the whole search, not one candidate's training
        return scaler, model.eval()

    def _validate(self, y: np.ndarray, split: int, transform: _Transform, spec: Any) -> float:
        """One-step MSE over ``y[split:]`` of ``spec`` fitted on ``y[:split]``, predicted causally through ``y``."""
        scaler, model = self._train(y, transform, spec, split)
        self._fitted[transform, spec] = (scaler, model)
        predicted = self._one_step(model, scaler, transform, y)  # (T, F): row t forecasts y[t + 1]
        return float(np.mean((predicted[split - 1 : -1] - y[split:]) ** 2))

    @staticmethod
    def _one_step(model: BaseForecaster, scaler: Scaler, transform: _Transform, y: np.ndarray) -> np.ndarray:
        """Forecasts of ``y[t + 1]`` for every ``t`` (the naive forecast before the transform's offset)."""
        u = np.asarray(scaler.transform(transform.apply(y)), dtype=np.float32)
        out, _ = predict(model, u)
        w_hat = np.asarray(scaler.inverse_transform(out.double().numpy()), dtype=np.float64)
        times = np.arange(transform.offset + 1, len(y) + 1)  # anchors read only indices below len(y)
        result: np.ndarray = y.copy()
        result[transform.offset :] = w_hat + transform.anchors(y, times)
        return result

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
        levels = self._check_features(_levels("y", y), "y")
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
        new = self._check_features(_levels("new_points", new_points), "new_points")
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
        levels = self._check_features(_levels("y", y), "y")
        wanted = () if level is None else check_levels("level", level)
        calibration = self._need_intervals(wanted)
        offset = self._transform.offset
        if isinstance(start, float):  # a fraction of y
            start = round(check_float("start", start, low=0.0, high=1.0, low_inclusive=False) * len(levels))
        first = check_int("start", start, minimum=offset + 1)  # the transform needs `offset` points first
        if first > len(levels) - horizon:
            msg = f"`start` must leave horizon={horizon} points after the first cutoff: at most {len(levels) - horizon} for {len(levels)} time steps, got {first}"
            raise ValueError(msg)
        result = _backtest_levels(model, self._scaler, self._transform, levels, horizon, first=first, stride=stride)
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
        if self.model_ is None:
            return "AutoForecaster (not fitted)"
        lines = [f"AutoForecaster(seed={self.seed}): {self.choice_}"]
        if self.scores_:
            scaled = " (each series' errors over its mean absolute one-step change)" if self._panel else ""
            lines.append(f"validation one-step MSE{scaled} (last {self.val_fraction:.0%} of the training data):")
            shown = self.scores_[:12]
            width = max(len(s.name) for s in shown) + 2
            lines.append(f"  {'candidate':<{width}}{'MSE':>12}{'/ naive':>10}")
            for score in shown:
                relative = score.mse / self.naive_mse_ if self.naive_mse_ > 0 else math.nan
                lines.append(f"  {score.name:<{width}}{score.mse:>12.4g}{relative:>10.3f}")
        best = self.validation_mse
        naive = self.naive_mse_
        seasonal = self.seasonal_naive_mse_
        skill = f"chosen: MSE {best:.4g}, {best / naive:.3f} of naive" if naive > 0 else f"chosen: MSE {best:.4g}"
        if seasonal:
            skill += f", {best / seasonal:.3f} of seasonal naive"
        lines.append(skill)
        return "\n".join(lines)

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
        model = self._need_model()
        extra = dict(metadata or {})
        if "auto" in extra:
            msg = "`metadata` must not use the key 'auto': it holds the AutoForecaster's own settings"
            raise ValueError(msg)
        info = {
            "format": _FORMAT,
            "seed": self.seed,
            "season": self.season,
            "val_fraction": self.val_fraction,
            "steps": self.steps,
            "models": list(self.models),
            "difference": self._transform.difference,
            "transform_season": self._transform.season,
            "choice": self.choice_,
            "scores": [[s.name, s.mse] for s in self.scores_],
            "naive_mse": self.naive_mse_,
            "seasonal_naive_mse": self.seasonal_naive_mse_,
            "features": self._features,
            "tail": self._tail.tolist(),
            "state": _state_to_json(self._state),
            "next": None if self._next is None else self._next.tolist(),
            "intervals": None if self._intervals is None else self._intervals.to_json(),
            "panel": None if self._panel is None else self._panel.to_json(),
        }
        save(path, model, scaler=self._scaler, metadata={**extra, "auto": info})

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> AutoForecaster:
        """Read a forecaster written by :meth:`save`; it forecasts where the saved one would."""
        checkpoint = load(path)
        info = checkpoint.metadata.get("auto")
        if not isinstance(info, dict) or info.get("format") != _FORMAT:
            msg = f"{Path(path)} holds a plain model, not an AutoForecaster; load it with seqforecast.load"
            raise ValueError(msg)
        est = cls(
            info["seed"],
            season=info["season"],
            val_fraction=info["val_fraction"],
            steps=info["steps"],
            models=tuple(info["models"]),
        )
        est.model_ = checkpoint.model
        est.metadata = {k: v for k, v in checkpoint.metadata.items() if k != "auto"}
        est._scaler = checkpoint.scaler or Scaler()
        est._transform = _Transform(bool(info["difference"]), int(info["transform_season"]))
        est.choice_ = info["choice"]
        est.scores_ = [_Score(str(n), float(m)) for n, m in info["scores"]]
        est.naive_mse_ = float(info["naive_mse"])
        est.seasonal_naive_mse_ = info["seasonal_naive_mse"]
        est._features = int(info["features"])
        est._tail = np.asarray(info["tail"], dtype=np.float64).reshape(-1, est._features)
        est._state = _state_from_json(info["state"])
        est._next = None if info["next"] is None else np.asarray(info["next"], dtype=np.float64)
        est._intervals = IntervalCalibration.from_json(info.get("intervals"))
        est._panel = PanelRecipe.from_json(info["panel"], checkpoint.model) if info.get("panel") else None
        return est
