"""Accuracy on real series: AutoForecaster beside naive, seasonal naive, AutoARIMA, AutoETS and the README recipe.

Run ``python -m benchmarks.real_series [--quick] [--only NAME ...] [--out DIR]``
after ``pip install -e '.[bench]'`` (statsforecast and statsmodels; their
bundled data sets are read from the installed packages, nothing is
downloaded). Not part of ``python -m benchmarks`` nor of CI.

Protocol, for every series: fit on the first 80 %, then from every origin
``c`` in the last 20 % forecast ``y[c]`` one step ahead and ``y[c : c + 12]``
twelve steps ahead, without refitting (each method's state or filter is
carried forward with the observed values). Scores, over all origins: MSE
relative to the naive forecast's MSE (below 1 beats naive) and MASE (MAE over
the in-sample MAE of the one-step naive forecast on the training part); the
12-step scores average the squared (absolute) errors over the 12 steps of
each path and over the origins that have all 12 targets.
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import statistics
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

import seqforecast as sf

__all__ = ["SERIES", "Series", "evaluate_series", "load_series", "main"]

HORIZON = 12
MAX_STATISTICAL_SEASON = 24
TRAIN_FRACTION = 0.8


@dataclass(frozen=True)
class Series:
    """One benchmark series: its values and seasonal period."""

    name: str
    kind: str
    season: int
    values: np.ndarray  # (time,)


def _statsmodels(name: str, column: str | None = None) -> np.ndarray:
    datasets = importlib.import_module("statsmodels.api").datasets  # optional (the bench extra): untyped
    frame = getattr(datasets, name).load_pandas().data
    table = (
        frame.drop(columns="YEAR") if name == "elnino" else frame[[column]]
    )  # elnino: a row a year, a column a month
    values = np.asarray(table.to_numpy(), dtype=np.float64).reshape(-1)
    if np.isnan(values).any():  # co2: 59 missing weeks, filled linearly (never dropped)
        rows = np.arange(len(values))
        gaps = np.isnan(values)
        values[gaps] = np.interp(rows[gaps], rows[~gaps], values[~gaps])
    return values


def _air_passengers() -> np.ndarray:
    return np.asarray(importlib.import_module("statsforecast.utils").AirPassengers, dtype=np.float64)


SERIES: dict[str, tuple[str, int, Callable[[], np.ndarray]]] = {
    "air passengers": ("monthly counts, trend, growing season", 12, _air_passengers),
    "co2": ("weekly, trend and yearly cycle, 2284 points", 52, lambda: _statsmodels("co2", "co2")),
    "sunspots": ("yearly, ~11-year cycle", 11, lambda: _statsmodels("sunspots", "SUNACTIVITY")),
    "el nino": ("monthly sea temperature, seasonal", 12, lambda: _statsmodels("elnino")),
    "nile": ("yearly flow, short and noisy (100 points)", 1, lambda: _statsmodels("nile", "volume")),
    "us real gdp": ("quarterly, trend", 4, lambda: _statsmodels("macrodata", "realgdp")),
    "us inflation": ("quarterly, noisy", 4, lambda: _statsmodels("macrodata", "infl")),
    "us unemployment": ("quarterly, persistent", 4, lambda: _statsmodels("macrodata", "unemp")),
}


def load_series(name: str) -> Series:
    """One of :data:`SERIES`, read from the package that bundles it."""
    kind, season, loader = SERIES[name]
    return Series(name, kind, season, loader())


# -- the methods: each gives (one-step forecasts (n_test,), 12-step paths (n_test, 12)) --------------------------
Forecasts = tuple[np.ndarray, np.ndarray]


def _naive(y: np.ndarray, split: int) -> Forecasts:
    origins = np.arange(split, len(y))
    last = y[origins - 1]
    return last, np.repeat(last[:, None], HORIZON, axis=1)


def _seasonal_naive(y: np.ndarray, split: int, season: int) -> Forecasts:
    origins = np.arange(split, len(y))
    steps = np.arange(HORIZON)
    back = season * (steps // season + 1) - steps  # y[c + h] from y[c + h - season * k], an observed value
    paths = y[origins[:, None] - back[None, :]]
    return paths[:, 0], paths


def _statsforecast(y: np.ndarray, split: int, season: int, kind: str) -> Forecasts:
    models = importlib.import_module("statsforecast.models")
    # Past 24 periods (co2's 52 weeks) ETS has no seasonal model and AutoARIMA did not finish fitting one in
    # 15 minutes: both get a non-seasonal model there.
    season = season if season <= MAX_STATISTICAL_SEASON else 1
    model: Any = models.AutoARIMA(season_length=season) if kind == "arima" else models.AutoETS(season_length=season)
    model = model.fit(y[:split])
    one, paths = [], []
    for origin in range(split, len(y)):
        future = model.forward(y=y[:origin], h=HORIZON)["mean"]  # the fitted model, filtered over y[:origin]
        one.append(future[0])
        paths.append(future)
    return np.asarray(one), np.asarray(paths)


def _readme_recipe(y: np.ndarray, split: int, seed: int) -> Forecasts:
    """The README's "Your own series": a 2-layer GRU on scaled levels, primed on the training data."""
    series = y[:, None]
    scaler = sf.Scaler().fit(series[:split])
    scaled = scaler.transform(series)
    torch.manual_seed(seed)
    model = sf.RecurrentForecaster(num_layers=2, cell="gru")
    stream = sf.ArrayStream(scaled[:split], seq_length=16, batch_size=4)
    sf.Trainer(model, lr=0.005, clip_grad_norm=1.0, device="cpu", seed=seed).fit(stream, steps=600)
    state = sf.prime(model, scaled[: split - 1])
    one, paths = [], []
    for origin in range(split, len(y)):
        path = sf.forecast(model, scaled[origin - 1 : origin], HORIZON, state)  # continues from the state
        _, state = sf.predict(model, scaled[origin - 1 : origin], state)
        future = scaler.inverse_transform(path.double().numpy())[:, 0]
        one.append(future[0])
        paths.append(future)
    return np.asarray(one), np.asarray(paths)


def _auto(y: np.ndarray, split: int, seed: int, seconds: list[float]) -> Forecasts:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # a fit that keeps naive says so; the table shows it too
        est = sf.AutoForecaster(seed=seed).fit(y[:split])
    seconds.append(est.seconds_)
    est.predict(y[:split])
    one, paths = [], []
    for origin in range(split, len(y)):
        future = est.forecast(HORIZON).mean[:, 0]
        one.append(future[0])
        paths.append(future)
        est.update(y[origin : origin + 1])
    return np.asarray(one), np.asarray(paths)


# -- scoring --------------------------------------------------------------------------------------------
@dataclass
class Score:
    """One method on one series."""

    mse_1: float  # relative to naive
    mase_1: float
    mse_12: float  # relative to naive
    mase_12: float
    seconds: float


def _targets(y: np.ndarray, split: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    origins = np.arange(split, len(y))
    full = origins + HORIZON <= len(y)
    paths = np.stack([y[c : c + HORIZON] for c in origins[full]])
    return y[split:], paths, full


def _score(forecasts: Forecasts, naive: Forecasts, y: np.ndarray, split: int, seconds: float) -> Score:
    one_target, path_target, full = _targets(y, split)
    scale = float(np.mean(np.abs(np.diff(y[:split]))))  # in-sample naive MAE
    one, paths = forecasts
    naive_one, naive_paths = naive
    mse = float(np.mean((one - one_target) ** 2)) / float(np.mean((naive_one - one_target) ** 2))
    path_mse = float(np.mean((paths[full] - path_target) ** 2)) / float(np.mean((naive_paths[full] - path_target) ** 2))
    return Score(
        mse_1=mse,
        mase_1=float(np.mean(np.abs(one - one_target))) / scale,
        mse_12=path_mse,
        mase_12=float(np.mean(np.abs(paths[full] - path_target))) / scale,
        seconds=seconds,
    )


METHODS = ("naive", "seasonal naive", "AutoARIMA", "AutoETS", "README recipe", "AutoForecaster")


def evaluate_series(series: Series, *, seed: int = 0, methods: Sequence[str] = METHODS) -> dict[str, Score]:
    """Every method on one series."""
    y = series.values
    split = round(len(y) * TRAIN_FRACTION)
    naive = _naive(y, split)
    results: dict[str, Score] = {}
    for method in methods:
        start = time.perf_counter()
        fit_seconds: list[float] = []
        if method == "naive":
            forecasts = naive
        elif method == "seasonal naive":
            forecasts = _seasonal_naive(y, split, max(series.season, 1))
        elif method in ("AutoARIMA", "AutoETS"):
            forecasts = _statsforecast(y, split, max(series.season, 1), "arima" if method == "AutoARIMA" else "ets")
        elif method == "README recipe":
            forecasts = _readme_recipe(y, split, seed)
        else:
            forecasts = _auto(y, split, seed, fit_seconds)
        seconds = fit_seconds[0] if fit_seconds else time.perf_counter() - start
        results[method] = _score(forecasts, naive, y, split, seconds)
        print(f"  {series.name:<16} {method:<15} rel MSE 1-step {results[method].mse_1:7.3f}"
              f"  12-step {results[method].mse_12:7.3f}  ({seconds:.1f} s)", file=sys.stderr)  # fmt: skip
    return results


def _table(all_results: dict[str, dict[str, Score]], methods: Sequence[str], field: str, title: str) -> list[str]:
    lines = [f"**{title}**", "", "| series | " + " | ".join(methods) + " |", "|---" * (len(methods) + 1) + "|"]
    for name, results in all_results.items():
        row = [getattr(results[m], field) for m in methods]
        best = min(row)
        cells = [f"**{v:.3f}**" if v == best else f"{v:.3f}" for v in row]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    medians = [statistics.median(getattr(r[m], field) for r in all_results.values()) for m in methods]
    lines.append("| *median* | " + " | ".join(f"{v:.3f}" for v in medians) + " |")
    return [*lines, ""]


def report(all_results: dict[str, dict[str, Score]], methods: Sequence[str]) -> str:
    """The Markdown tables for the Performance page."""
    lines = _table(all_results, methods, "mse_1", "One step ahead: MSE relative to naive (below 1 beats naive)")
    lines += _table(all_results, methods, "mse_12", "12 steps ahead: MSE relative to naive")
    lines += _table(all_results, methods, "mase_1", "One step ahead: MASE")
    if "AutoForecaster" in methods:
        auto = [r["AutoForecaster"] for r in all_results.values()]
        lines.append(
            f"AutoForecaster fit: {max(s.seconds for s in auto):.1f} s at most "
            f"(median {statistics.median(s.seconds for s in auto):.1f} s) on one CPU thread."
        )
    if "AutoARIMA" in methods and "AutoForecaster" in methods:
        wins = sum(r["AutoForecaster"].mse_1 < r["AutoARIMA"].mse_1 for r in all_results.values())
        beats = sum(r["AutoForecaster"].mse_1 < 1 for r in all_results.values())
        lines.append(
            f"AutoForecaster beats naive one step ahead on {beats} of {len(all_results)} series and "
            f"AutoARIMA on {wins} of {len(all_results)}."
        )
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; print the Markdown tables; with ``--out``, write them and a JSON file."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.real_series", description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=sorted(SERIES), help="run these series only")
    parser.add_argument("--methods", nargs="+", choices=METHODS, default=list(METHODS), help="run these methods only")
    parser.add_argument("--seed", type=int, default=0, help="seed of the neural methods (default 0)")
    parser.add_argument("--out", type=Path, help="folder to write real_series.md and real_series.json to")
    args = parser.parse_args(argv)
    try:
        importlib.import_module("statsforecast")
        importlib.import_module("statsmodels")
    except ImportError as error:
        parser.exit(2, f"{parser.prog}: error: needs the bench extra: pip install -e '.[bench]' ({error})\n")
    if args.out is not None and not args.out.is_dir():
        parser.exit(2, f"{parser.prog}: error: --out {str(args.out)!r} is not a folder\n")
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        all_results = {
            name: evaluate_series(load_series(name), seed=args.seed, methods=args.methods)
            for name in args.only or list(SERIES)
        }
    finally:
        torch.set_num_threads(previous)
    text = report(all_results, args.methods)
    print(text)
    if args.out is not None:
        (args.out / "real_series.md").write_text(text)
        data = {n: {m: vars(s) for m, s in r.items()} for n, r in all_results.items()}
        (args.out / "real_series.json").write_text(json.dumps(data, indent=1) + "\n")
    return 0 if all(math.isfinite(s.mse_1) for r in all_results.values() for s in r.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
