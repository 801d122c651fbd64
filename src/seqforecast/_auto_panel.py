"""AutoForecaster on a panel: one global model over many series with covariates.

The recipe, chosen on the validation tails of all series together:

* **Transform.** Levels or first differences of the targets, one choice for
  the whole panel. Each series' transformed targets are standardised with
  its own mean and standard deviation; each covariate column with those of
  all series together.
* **Model.** One model for every series, reading ``[targets[t], past[t],
  future[t + 1]]`` (see :class:`~seqforecast.Panel`): a linear model over a
  few lag counts (ridge regression, closed form), and a GRU and a windowed
  MLP trained on a :class:`~seqforecast.PanelStream`; the naive forecast of
  each series is the baseline.
* **Choice.** The lowest one-step MSE over the last ``val_fraction`` of
  every series, each series' errors divided by its mean absolute one-step
  change before its tail (so that a large series does not outweigh the
  others); then the winner is fitted again on all the data. Intervals come
  from the errors of the winner (fitted on the data before the tails)
  backtested from every cutoff of every tail, on that same per-series
  scale, and are put back on each series' own scale.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from seqforecast._auto_intervals import IntervalCalibration
from seqforecast.backtesting import backtest
from seqforecast.covariates import Panel, _future_of, forecast_panel
from seqforecast.inference import predict
from seqforecast.models import FeedForwardForecaster, RecurrentForecaster
from seqforecast.results import Forecast
from seqforecast.training import Trainer

if TYPE_CHECKING:
    from seqforecast.base import BaseForecaster

__all__ = ["PanelRecipe", "fit_panel"]

_MIN_LENGTH = 8
_LAGS = (1, 2, 4, 8)
NEURAL_MARGIN = 0.05


def _transformed(panel: Panel, difference: bool) -> Panel:
    """The panel in model space: first differences of the targets (covariates from the second step) or levels."""
    if not difference:
        return panel
    return dataclasses.replace(
        panel,
        targets=tuple(np.diff(t, axis=0) for t in panel.targets),
        past=tuple(p[1:] for p in panel.past),
        future=tuple(f[1:] for f in panel.future),
        times=None if panel.times is None else tuple(s[1:] for s in panel.times),
    )


def _head(panel: Panel, ends: list[int]) -> Panel:
    """Each series cut to its first ``ends[i]`` points."""
    cut = [slice(0, e) for e in ends]
    return dataclasses.replace(
        panel,
        targets=tuple(t[c] for t, c in zip(panel.targets, cut, strict=True)),
        past=tuple(p[c] for p, c in zip(panel.past, cut, strict=True)),
        future=tuple(f[c] for f, c in zip(panel.future, cut, strict=True)),
        times=None if panel.times is None else tuple(s[c] for s, c in zip(panel.times, cut, strict=True)),
    )


def _std(values: np.ndarray) -> np.ndarray:
    std = values.std(axis=0)
    result: np.ndarray = np.where(std > 1e-12, std, 1.0)
    return result


@dataclasses.dataclass
class _Scaling:
    """Per-series target scaling and per-column covariate scaling, in model space."""

    mean: np.ndarray  # (series, targets)
    std: np.ndarray
    past_mean: np.ndarray  # (num_past,)
    past_std: np.ndarray
    future_mean: np.ndarray  # (num_future,)
    future_std: np.ndarray

    @classmethod
    def fit(cls, space: Panel) -> _Scaling:
        past, future = np.concatenate(space.past), np.concatenate(space.future)
        return cls(
            np.stack([t.mean(axis=0) for t in space.targets]),
            np.stack([_std(t) for t in space.targets]),
            past.mean(axis=0),
            _std(past),
            future.mean(axis=0),
            _std(future),
        )

    @classmethod
    def identity(cls, panel: Panel) -> _Scaling:
        s, n = len(panel), panel.num_targets
        p, f = len(panel.past_names), len(panel.future_names)
        return cls(np.zeros((s, n)), np.ones((s, n)), np.zeros(p), np.ones(p), np.zeros(f), np.ones(f))

    def apply(self, space: Panel) -> Panel:
        return dataclasses.replace(
            space,
            targets=tuple((t - m) / s for t, m, s in zip(space.targets, self.mean, self.std, strict=True)),
            past=tuple((p - self.past_mean) / self.past_std for p in space.past),
            future=tuple((f - self.future_mean) / self.future_std for f in space.future),
        )

    def covariates(self, values: np.ndarray) -> np.ndarray:
        """Covariates over a horizon, columns ``[future..., past...]`` (past ones optional), scaled."""
        mean = np.concatenate([self.future_mean, self.past_mean])[: values.shape[1]]
        std = np.concatenate([self.future_std, self.past_std])[: values.shape[1]]
        result: np.ndarray = (values - mean) / std
        return result

    def to_json(self) -> dict[str, Any]:
        return {k: v.tolist() for k, v in dataclasses.asdict(self).items()}

    @classmethod
    def from_json(cls, data: dict[str, Any], panel: Panel) -> _Scaling:
        n, p, f = panel.num_targets, len(panel.past_names), len(panel.future_names)
        shapes = {"mean": (-1, n), "std": (-1, n), "past_mean": (p,), "past_std": (p,)}
        shapes |= {"future_mean": (f,), "future_std": (f,)}
        return cls(**{k: np.asarray(data[k], dtype=np.float64).reshape(shape) for k, shape in shapes.items()})


def _levels(difference: bool, history: np.ndarray, w_hat: np.ndarray) -> np.ndarray:
    """Levels from model-space forecasts ``(K, H, T)``: differences summed from the last level ``history`` ``(K, T)``."""
    if not difference:
        return w_hat
    result: np.ndarray = history[:, None, :] + np.cumsum(w_hat, axis=1)
    return result


def _linear(space: Panel, lags: int, strength: float = 1e-2) -> FeedForwardForecaster:
    """Ridge regression of ``targets[t + 1]`` on the last ``lags`` inputs, pooled over the series."""
    rows, goals = [], []
    for i in range(len(space)):
        x, y = space.inputs(i), space.targets[i]
        count = len(x) - lags  # inputs i .. i + lags - 1 forecast y[i + lags]
        if count <= 0:
            continue
        rows.append(np.stack([x[j : j + count] for j in range(lags)], axis=1).reshape(count, -1))  # oldest first
        goals.append(y[lags:])
    design = np.hstack([np.concatenate(rows), np.ones((sum(len(r) for r in rows), 1))])
    penalty = strength * len(design) * np.eye(design.shape[1])
    penalty[-1, -1] = 0.0
    solution = np.linalg.solve(design.T @ design + penalty, design.T @ np.concatenate(goals))
    model = FeedForwardForecaster(space.input_size, space.num_targets, (), window=lags)
    linear = model.net[0]
    assert isinstance(linear, torch.nn.Linear)
    with torch.no_grad():
        linear.weight.copy_(torch.from_numpy(solution[:-1].T))
        linear.bias.copy_(torch.from_numpy(solution[-1]))
    return model.eval()


def _network(space: Panel, spec: tuple[str, int], steps: int, seed: int) -> BaseForecaster:
    """A GRU or windowed MLP trained statefully on the series of ``space``, packed in lanes."""
    model: BaseForecaster
    if spec[0] == "gru":
        model = RecurrentForecaster(space.input_size, space.num_targets, spec[1], 1, cell="gru", seed=seed)
    else:
        model = FeedForwardForecaster(space.input_size, space.num_targets, (32,), window=spec[1], seed=seed)
    total = sum(len(t) - 1 for t in space.targets)
    seq_length = max(4, min(32, min(len(t) for t in space.targets) - 1))
    batch_size = max(1, min(8, len(space), total // (2 * seq_length)))
    trainer = Trainer(model, lr=0.005, device="cpu", seed=seed, clip_grad_norm=1.0, log_every=steps)
    if trainer.fit(space.stream(seq_length, batch_size=batch_size), steps=steps).interrupted:
        raise KeyboardInterrupt
    return model.eval()


@dataclasses.dataclass
class PanelRecipe:
    """A fitted global model with its transform, scaling, history and interval calibration."""

    difference: bool
    model: BaseForecaster
    scaling: _Scaling
    history: Panel
    intervals: IntervalCalibration | None
    spread: np.ndarray | None = None  # (series, T): what the calibration errors were divided by

    def one_step(self, panel: Panel) -> list[np.ndarray]:
        """Per series, forecasts of ``targets[t + 1]`` for ``t >= offset`` in levels, ``(time - 1 - offset, T)``."""
        space = self.scaling.apply(_transformed(panel, self.difference))
        result = []
        for i in range(len(panel)):
            out, _ = predict(self.model, torch.as_tensor(space.inputs(i), dtype=torch.float32))
            w_hat = out.double().numpy()[:-1] * self.scaling.std[i] + self.scaling.mean[i]
            anchor = panel.targets[i][1:-1] if self.difference else 0.0
            result.append(w_hat + anchor)  # forecasts of targets[offset + 1 ..]
        return result

    def backtest_errors(self, panel: Panel, firsts: list[int], horizon: int, spread: np.ndarray) -> np.ndarray:
        """Errors ``(cutoffs, horizon, T)`` from every cutoff ``c >= firsts[i]`` of every series, over its ``spread``.

        The rows are in time order (by cutoff after ``firsts[i]``, the series in turn at each), so the
        first half of them comes before the second, as :meth:`IntervalCalibration.choose` assumes.
        """
        offset = int(self.difference)
        space = self.scaling.apply(_transformed(panel, self.difference))
        errors, positions = [], []
        for i in range(len(panel)):
            y = panel.targets[i]
            if firsts[i] > len(y) - horizon:
                continue
            inputs = torch.as_tensor(space.inputs(i), dtype=torch.float32)
            result = backtest(self.model, inputs, horizon, start=firsts[i] - offset, past=len(panel.past_names))
            w_hat = result.forecasts.double().numpy() * self.scaling.std[i] + self.scaling.mean[i]
            cutoffs = result.cutoffs.numpy() + offset
            levels = _levels(self.difference, y[cutoffs - 1], w_hat)
            targets = np.stack([y[c : c + horizon] for c in cutoffs])
            errors.append((targets - levels) / spread[i])
            positions.append(cutoffs - firsts[i])
        return np.concatenate(errors)[np.argsort(np.concatenate(positions), kind="stable")]

    def forecast(self, horizon: int, levels: tuple[float, ...], future: object) -> Forecast:
        panel = self.history
        if isinstance(future, Panel):
            missing = [key for key in panel.ids if key not in future.ids]
            if missing:
                msg = (
                    f"`future` must have rows for every series fitted: series {missing[0]!r} is missing "
                    f"(columns needed: {list(panel.future_names)})"
                )
                raise ValueError(msg)
        given = dict(zip(panel.ids, _future_of(panel, future, horizon), strict=True))  # checked, named by series
        space = self.scaling.apply(_transformed(panel, self.difference))
        scaled = {key: self.scaling.covariates(values) for key, values in given.items()}
        out = forecast_panel(self.model, space, horizon, future=scaled if future is not None else None).mean
        w_hat = out * self.scaling.std[:, None, :] + self.scaling.mean[:, None, :]
        mean = _levels(self.difference, np.stack([t[-1] for t in panel.targets]), w_hat)
        intervals = {}
        for level in levels:
            assert self.intervals is not None
            spread = np.ones((len(panel), 1, 1)) if self.spread is None else self.spread[:, None, :]
            radius = self.intervals.radius(level, horizon)[None] * spread  # each series on its own scale
            intervals[level] = (mean - radius, mean + radius)
        return Forecast(mean, intervals, ids=panel.ids, times=panel.future_times(horizon), names=panel.target_names)

    def to_json(self) -> dict[str, Any]:
        history = self.history
        return {
            "difference": self.difference,
            "scaling": self.scaling.to_json(),
            "ids": list(history.ids),
            "targets": [t.tolist() for t in history.targets],
            "past": [p.tolist() for p in history.past],
            "future": [f.tolist() for f in history.future],
            "times": None if history.times is None else [[str(s) for s in t] for t in history.times],
            "time_unit": None if history.times is None else str(history.times[0].dtype),
            "names": [list(history.target_names), list(history.past_names), list(history.future_names)],
            "intervals": None if self.intervals is None else self.intervals.to_json(),
            "spread": None if self.spread is None else self.spread.tolist(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], model: BaseForecaster) -> PanelRecipe:
        names = data["names"]
        targets = tuple(np.asarray(t, dtype=np.float64).reshape(-1, len(names[0])) for t in data["targets"])

        def columns(values: list[Any], width: int) -> tuple[np.ndarray, ...]:
            shapes = [(len(t), width) for t in targets]  # a series' rows, even with no column
            return tuple(np.asarray(v, dtype=np.float64).reshape(n) for v, n in zip(values, shapes, strict=True))

        history = Panel(
            ids=tuple(data["ids"]),
            targets=targets,
            past=columns(data["past"], len(names[1])),
            future=columns(data["future"], len(names[2])),
            times=None if data["times"] is None else tuple(np.array(t, dtype=data["time_unit"]) for t in data["times"]),
            target_names=tuple(names[0]),
            past_names=tuple(names[1]),
            future_names=tuple(names[2]),
        )
        return cls(
            bool(data["difference"]),
            model,
            _Scaling.from_json(data["scaling"], history),
            history,
            IntervalCalibration.from_json(data["intervals"]),
            None if data["spread"] is None else np.asarray(data["spread"], dtype=np.float64).reshape(len(targets), -1),
        )


def _recipe(panel: Panel, difference: bool, spec: tuple[str, int], steps: int, seed: int) -> PanelRecipe:
    """Fit ``spec`` on the whole of ``panel`` in the space of ``difference``."""
    space = _transformed(panel, difference)
    scaling = _Scaling.fit(space)
    scaled = scaling.apply(space)
    model = _linear(scaled, spec[1]) if spec[0] == "linear" else _network(scaled, spec, steps, seed)
    return PanelRecipe(difference, model, scaling, panel, None)


def _naive(panel: Panel) -> PanelRecipe:
    """Each series' last value: zero differences, unscaled."""
    model = FeedForwardForecaster(panel.input_size, panel.num_targets, (), window=1)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.zero_()
    return PanelRecipe(True, model.eval(), _Scaling.identity(panel), panel, None)


def fit_panel(
    panel: Panel, *, val_fraction: float, models: tuple[str, ...], steps: int, seed: int
) -> tuple[PanelRecipe, str, list[tuple[str, float]], float]:
    """Choose and fit the recipe for ``panel``: the recipe, its name, every candidate's score, the naive MSE."""
    for key, targets in zip(panel.ids, panel.targets, strict=True):
        if len(targets) < _MIN_LENGTH:
            msg = f"`y` series {key!r} must have at least {_MIN_LENGTH} time steps to fit, got {len(targets)}"
            raise ValueError(msg)
    # every series keeps at least one point in its validation tail
    splits = [min(len(t) - 1, max(_MIN_LENGTH // 2, round(len(t) * (1 - val_fraction)))) for t in panel.targets]
    head = _head(panel, splits)
    # each series' errors over its mean absolute one-step change before the tail, so every series counts alike
    spread = np.stack([np.abs(np.diff(t[:s], axis=0)).mean(axis=0) for t, s in zip(panel.targets, splits, strict=True)])
    spread = np.where(spread > 1e-12, spread, 1.0)

    def score(recipe: PanelRecipe) -> float:
        predicted = recipe.one_step(panel)  # row j forecasts targets[offset + 1 + j]
        offset = int(recipe.difference)
        errors = [
            (p[s - offset - 1 :] - t[s:]) / d
            for p, t, s, d in zip(predicted, panel.targets, splits, spread, strict=True)
        ]
        return float(np.mean(np.concatenate(errors) ** 2))

    naive_errors = [(t[s:] - t[s - 1 : -1]) / d for t, s, d in zip(panel.targets, splits, spread, strict=True)]
    naive = float(np.mean(np.concatenate(naive_errors) ** 2))
    scored: list[tuple[float, str, bool, tuple[str, int]]] = [(naive, "naive", True, ("naive", 0))]
    fitted: dict[tuple[bool, tuple[str, int]], PanelRecipe] = {}
    best_linear: dict[bool, float] = {}
    shortest = min(splits)
    for difference in (False, True):
        for lags in _LAGS:
            if shortest - int(difference) < 2 * lags + 2:
                continue
            spec = ("linear", lags)
            fitted[difference, spec] = recipe = _recipe(head, difference, spec, steps, seed)
            mse = score(recipe)
            best_linear[difference] = min(mse, best_linear.get(difference, math.inf))
            if "linear" in models:
                scored.append(
                    (mse, f"linear, {lags} lag(s), on {'differences' if difference else 'levels'}", difference, spec)
                )
    ranked = sorted(best_linear, key=best_linear.__getitem__)
    for kind, width, label in (("gru", 16, "GRU(16)"), ("mlp", 4, "MLP(32, window 4)")):
        if kind in models and ranked:
            spec = (kind, width)
            fitted[ranked[0], spec] = recipe = _recipe(head, ranked[0], spec, steps, seed)
            scored.append((score(recipe), f"{label} on {'differences' if ranked[0] else 'levels'}", ranked[0], spec))
    scored = [s for s in scored if math.isfinite(s[0])] or scored[:1]
    mse, name, difference, spec = min(scored, key=lambda s: s[0])
    linear = min((s for s in scored if s[3][0] == "linear"), key=lambda s: s[0], default=None)
    if spec[0] in ("gru", "mlp") and linear and linear[0] < naive and linear[0] <= mse * (1 + NEURAL_MARGIN):
        mse, name, difference, spec = linear
    if spec[0] == "naive":
        recipe, before = _naive(panel), _naive(head)
        best = min((s[0] for s in scored if s[3][0] != "naive"), default=math.nan)
        message = (
            f"AutoForecaster: no model beat the naive forecast on the validation tails of the panel "
            f"(best model MSE {best:.4g} vs naive {naive:.4g}); it forecasts with the naive forecast"
        )
        warnings.warn(message, UserWarning, stacklevel=4)
    else:
        recipe, before = _recipe(panel, difference, spec, steps, seed), fitted[difference, spec]
    tails = [len(t) - s for t, s in zip(panel.targets, splits, strict=True)]
    horizon = next((h for h in range(min(12, *tails), 1, -1) if sum(n - h + 1 for n in tails) >= 19), 1)
    horizon = 1 if panel.past_names else horizon  # past covariates after a cutoff are unknown: one step, then sqrt(h)
    errors = before.backtest_errors(panel, splits, horizon, spread)
    recipe.intervals, recipe.spread = IntervalCalibration.choose(errors, first=max(1, min(splits))), spread
    scores = sorted(((n, m) for m, n, _, _ in scored), key=lambda s: s[1])
    return recipe, name, scores, naive
