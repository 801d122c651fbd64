"""The candidate recipes of :class:`~seqforecast.AutoForecaster` on one series, and the choice among them.

The recipe, chosen on a validation tail of the training data:

* **Transform.** The series in levels, its first differences, its seasonal
  differences, or both (:class:`~seqforecast._auto_transforms.Transform`).
  On differences the model predicts a *change*: its output is anchored on
  the last value (or the value one season ago), so the naive forecast is
  where it starts. The transformed series is standardised with the
  statistics of the part the models are fitted on.
* **Model.** A linear autoregression (a :class:`FeedForwardForecaster` with no
  hidden layer, fitted in closed form by ridge regression) over a few lag
  counts; a GRU and a windowed MLP trained statefully (truncated BPTT) on the
  best transforms; and the naive and seasonal naive forecasts themselves.
* **Choice.** The lowest one-step-ahead MSE, in the series' own units, over
  the last ``val_fraction`` of the training data, predicted causally with
  the state carried through the whole series. The winner is then fitted
  again on all of it. When nothing beats the naive forecast, the naive
  forecast is kept, with a message naming the numbers.

Each candidate is fitted once on the data before the validation tail
(:class:`Search` keeps them), so the intervals of the winner are calibrated
on the very model that was scored.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import torch
from torch import nn

from seqforecast._auto_intervals import IntervalCalibration, calibration_horizon
from seqforecast._auto_transforms import Transform
from seqforecast.backtesting import Backtest, backtest
from seqforecast.data import ArrayStream
from seqforecast.inference import predict
from seqforecast.models import FeedForwardForecaster, RecurrentForecaster
from seqforecast.training import Trainer
from seqforecast.transforms import Scaler

if TYPE_CHECKING:
    from seqforecast.base import BaseForecaster

__all__ = ["MODELS", "NEURAL_MARGIN", "Choice", "Search", "backtest_levels"]

_LAGS = (1, 2, 3, 4, 6, 8, 12, 16, 24)
MODELS = ("linear", "gru", "mlp")
NEURAL_MARGIN = 0.05
"""A neural candidate is kept only if its validation MSE is this much below the best linear one's."""


@dataclass(frozen=True)
class _Score:
    name: str
    mse: float


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


def backtest_levels(
    model: BaseForecaster,
    scaler: Scaler,
    transform: Transform,
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


def _one_step(model: BaseForecaster, scaler: Scaler, transform: Transform, y: np.ndarray) -> np.ndarray:
    """Forecasts of ``y[t + 1]`` for every ``t`` (the naive forecast before the transform's offset)."""
    u = np.asarray(scaler.transform(transform.apply(y)), dtype=np.float32)
    out, _ = predict(model, u)
    w_hat = np.asarray(scaler.inverse_transform(out.double().numpy()), dtype=np.float64)
    times = np.arange(transform.offset + 1, len(y) + 1)  # anchors read only indices below len(y)
    result: np.ndarray = y.copy()
    result[transform.offset :] = w_hat + transform.anchors(y, times)
    return result


@dataclass(frozen=True)
class Choice:
    """The winning recipe of a :class:`Search`, with every candidate's validation score.

    ``spec`` is ``("naive",)``, ``("linear", lags)``, ``("gru", hidden_size)``
    or ``("mlp", window)``; ``warning`` says why a naive forecast was kept
    (None when a model won).
    """

    name: str
    transform: Transform
    spec: Any
    scores: list[_Score]
    naive_mse: float
    seasonal_naive_mse: float | None
    warning: str | None


class Search:
    """Candidate recipes fitted on ``y[:split]`` and scored on ``y[split:]``, each fitted once.

    Args:
        y: ``(time, features)`` float64 levels.
        split: Where the validation tail starts.
        season: The seasonal period, 0 for none.
        seed: Seed of the neural candidates' weights and training order.
        steps: Training windows for each neural candidate.
    """

    def __init__(self, y: np.ndarray, split: int, season: int, *, seed: int, steps: int) -> None:
        self.y, self.split, self.season, self.seed, self.steps = y, split, season, seed, steps
        self._fitted: dict[tuple[Transform, Any], tuple[Scaler, BaseForecaster]] = {}  # candidates on y[:split]

    def choose(self, models: tuple[str, ...]) -> Choice:
        """Score the naive forecasts and the candidates of the families in ``models``; pick the winner."""
        y, split, season = self.y, self.split, self.season
        times = np.arange(split, len(y))
        naive = float(np.mean((y[times - 1] - y[times]) ** 2))
        seasonal_naive = float(np.mean((y[times - season] - y[times]) ** 2)) if season else math.inf
        transforms = [Transform(d, s) for s in ((0, season) if season else (0,)) for d in (False, True)]
        scored: list[tuple[float, str, Transform, Any]] = []
        scored.append((naive, "naive", Transform(True, 0), ("naive",)))
        if season:
            scored.append((seasonal_naive, "seasonal naive", Transform(False, season), ("naive",)))
        best_linear: dict[Transform, float] = {}
        for transform in transforms:
            if split - transform.offset < 2 * _LAGS[0] + 4:
                continue
            for lags in sorted({*_LAGS, season, season + 1, 2 * season + 1, 3 * season + 1} - {0}):
                if split - transform.offset < 3 * lags + 4:
                    continue
                mse = self.validate(transform, ("linear", lags))
                if "linear" in models:
                    scored.append((mse, f"linear AR({lags}) on {transform.name}", transform, ("linear", lags)))
                best_linear[transform] = min(mse, best_linear.get(transform, math.inf))
        ranked = sorted(best_linear, key=best_linear.__getitem__)  # the transforms, best first by the linear fits
        if "gru" in models:
            for transform in ranked[:2]:
                spec = ("gru", 32)
                mse = self.validate(transform, spec)
                scored.append((mse, f"GRU(32) on {transform.name}", transform, spec))
        if "mlp" in models and ranked:
            spec = ("mlp", 8)
            mse = self.validate(ranked[0], spec)
            scored.append((mse, f"MLP(32, window 8) on {ranked[0].name}", ranked[0], spec))
        scored = [s for s in scored if math.isfinite(s[0])] or scored[:1]
        mse, name, transform, spec = min(scored, key=lambda s: s[0])
        linear = min((s for s in scored if s[3][0] == "linear"), key=lambda s: s[0], default=None)
        baseline = min((s for s in scored if s[3][0] == "naive"), key=lambda s: s[0])
        if spec[0] in ("gru", "mlp") and linear and linear[0] < baseline[0] and linear[0] <= mse * (1 + NEURAL_MARGIN):
            mse, name, transform, spec = linear  # not clearly better than the simpler model, which beats the baselines
        warning = None
        if spec[0] == "naive":
            candidates = [m for m, n, _, sp in scored if sp[0] != "naive"]
            best = min(candidates) if candidates else math.nan
            warning = (
                f"AutoForecaster: no model beat the {name} forecast on validation (best model MSE {best:.4g} vs "
                f"{name} {mse:.4g}"
                + (f", naive {naive:.4g}" if name != "naive" else "")
                + f"); it forecasts with the {name} forecast"
            )
        scores = sorted((_Score(n, m) for m, n, _, _ in scored), key=lambda s: s.mse)
        return Choice(name, transform, spec, scores, naive, seasonal_naive if season else None, warning)

    def fit_all(self, choice: Choice) -> tuple[Scaler, BaseForecaster]:
        """The winner fitted on the whole series: its scaler and model."""
        if choice.spec[0] == "naive":
            features = self.y.shape[1]
            scaler = Scaler().fit(np.zeros((1, features)))  # the identity: mean 0, std 1
            return scaler, _linear(np.zeros((features, features)), np.zeros(features), 1)  # "no change", exactly
        return self.train(choice.transform, choice.spec, len(self.y))

    def calibrate(self, choice: Choice, fitted: tuple[Scaler, BaseForecaster]) -> IntervalCalibration:
        """The winner, fitted on ``y[:split]``, backtested over the validation tail: its errors per step.

        ``fitted`` is what :meth:`fit_all` gave, used as is for a naive forecast (no parameters: the same on any data).
        """
        y, split = self.y, self.split
        horizon = calibration_horizon(len(y) - split, self.season)
        if choice.spec[0] == "naive":
            scaler, model = fitted
        else:
            scaler, model = self._fitted.get((choice.transform, choice.spec)) or self.train(
                choice.transform, choice.spec, split
            )
        result = backtest_levels(model, scaler, choice.transform, y, horizon, first=split, stride=1)
        return IntervalCalibration.choose((result.targets - result.forecasts).numpy(), first=split)

    def train(self, transform: Transform, spec: Any, fit_end: int) -> tuple[Scaler, BaseForecaster]:
        """Fit ``spec`` on ``y[:fit_end]`` in ``transform``'s space; return the scaler and the model."""
        w = transform.apply(self.y[:fit_end])
        scaler = Scaler().fit(w)
        u = np.asarray(scaler.transform(w), dtype=np.float64)
        kind = spec[0]
        if kind == "linear":
            weight, bias = _ridge(u, spec[1])
            return scaler, _linear(weight, bias, spec[1])
        features = self.y.shape[1]
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

    def validate(self, transform: Transform, spec: Any) -> float:
        """One-step MSE over ``y[split:]`` of ``spec`` fitted on ``y[:split]``, predicted causally through ``y``."""
        y, split = self.y, self.split
        scaler, model = self.train(transform, spec, split)
        self._fitted[transform, spec] = (scaler, model)
        predicted = _one_step(model, scaler, transform, y)  # (T, F): row t forecasts y[t + 1]
        return float(np.mean((predicted[split - 1 : -1] - y[split:]) ** 2))
