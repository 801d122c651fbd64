"""Conformal prediction intervals: coverage of split conformal, adaptive conformal under drift, AutoForecaster's.

* Split conformal (:class:`seqforecast.ConformalCalibration`) around the true
  one-step forecast of ``y[t] = 0.8 y[t-1] + e[t]``: calibrated on 2,000
  points, scored on the next 5,000, with Gaussian noise and with Student-t
  noise of 3 degrees of freedom (conformal intervals make no assumption on
  the noise): the median coverage over the seeds must lie within ±0.03 of
  nominal at 80 % and at 95 %, with either noise.
* Adaptive conformal (:class:`seqforecast.AdaptiveConformal`, gamma = 0.005,
  a window of 500 errors) against split conformal when the noise doubles
  halfway: the 80 % coverage of every 500-step window from 500 steps after
  the change on.
* :class:`seqforecast.AutoForecaster`'s intervals on a real series (the
  shipped yearly sunspot numbers): fitted on the first 80 %, backtested 12
  years ahead from every later cutoff, each cutoff's intervals calibrated on
  data before it; the coverage at every step h = 1…12 (context: a real
  series need not behave like its past).
"""

from __future__ import annotations

import statistics
from pathlib import Path

import numpy as np
import torch

import seqforecast as sf
from benchmarks.report import Row
from benchmarks.synthetic import ar1, ar1_oracle
from benchmarks.timing import summarize

__all__ = ["auto_row", "drift_row", "split_row"]

PHI, CALIBRATION, TEST = 0.8, 2_000, 5_000
TOLERANCE = 0.03  # split conformal: |coverage - nominal|
DRIFT_TOLERANCE = 0.05  # adaptive conformal: every rolling window after the change
SUNSPOTS = Path(__file__).resolve().parent.parent / "examples" / "data" / "sunspots.csv"


def _split_coverage(df: float | None, seed: int) -> dict[str, float]:
    y = ar1(CALIBRATION + TEST + 1, seed=seed, phi=PHI, df=df)
    model = ar1_oracle(PHI)
    calibration = sf.ConformalCalibration.from_backtest(sf.backtest(model, y[: CALIBRATION + 1], 1, start=1))
    test = sf.backtest(model, y, 1, start=CALIBRATION + 1)
    result = {}
    for level in (80, 95):
        lower, upper = calibration.interval(test.forecasts, level)
        bounds = torch.from_numpy(lower), torch.from_numpy(upper)
        result[f"coverage_{level}"] = float(sf.metrics.coverage(*bounds, test.targets.double()))
    return result


def split_row(df: float | None, *, seeds: int) -> Row:
    """Split-conformal coverage at 80 and 95 % of one-step intervals, median over ``seeds`` series."""
    runs = [_split_coverage(df, seed) for seed in range(seeds)]
    cov80 = statistics.median(r["coverage_80"] for r in runs)
    cov95 = [r["coverage_95"] for r in runs]
    passed = abs(cov80 - 0.8) <= TOLERANCE and abs(statistics.median(cov95) - 0.95) <= TOLERANCE
    noise = "Gaussian noise" if df is None else f"Student-t noise (df = {df:g})"
    return Row(
        group="intervals",
        name=f"split conformal, AR(1), {noise}",
        device="cpu",
        figure="coverage of the 95 % one-step interval",
        stats=summarize(cov95),
        target=f"80% and 95% within ±{TOLERANCE:g}",
        passed=passed,
        context=f"80 %: {cov80:.3f}; calibrated on {CALIBRATION} points, {TEST} scored; median of {seeds} seed(s)",
        details={"runs": runs},
    )


def _drift_run(seed: int, length: int) -> dict[str, list[float]]:
    change, level = length // 2, 80
    y = ar1(length, seed=seed, phi=PHI, scale=np.where(np.arange(length) >= change, 2.0, 1.0))  # noise doubles
    model = ar1_oracle(PHI)
    calibration = sf.ConformalCalibration.from_backtest(sf.backtest(model, y[:1_000], 1, start=1))
    online = sf.AdaptiveConformal(model, level=level, gamma=0.005, window=500, calibration=calibration)
    bounds = np.array([[float(b[0]) for b in online.update(torch.tensor([v], dtype=torch.float32))[1:]] for v in y])
    adaptive = (bounds[:-1, 0] <= y[1:]) & (y[1:] <= bounds[:-1, 1])
    fixed = sf.backtest(model, y, 1, start=1)
    low, high = calibration.interval(fixed.forecasts, level)
    split = ((low <= fixed.targets.numpy()) & (fixed.targets.numpy() <= high)).ravel()
    after = slice(change + 500, length - 1)
    window = np.ones(500) / 500
    return {
        "adaptive": np.convolve(adaptive[after], window, mode="valid").tolist(),
        "split": np.convolve(split[after], window, mode="valid").tolist(),
    }


def drift_row(*, seeds: int, length: int = 6_000) -> Row:
    """Adaptive vs split conformal after the noise doubles: the worst rolling 80 % coverage gap from +500 steps on."""
    runs = [_drift_run(seed, length) for seed in range(seeds)]
    worst = [max(abs(c - 0.8) for c in run["adaptive"]) for run in runs]
    split_mean = statistics.median(float(np.mean(run["split"])) for run in runs)
    adaptive_mean = statistics.median(float(np.mean(run["adaptive"])) for run in runs)
    return Row(
        group="intervals",
        name=f"adaptive conformal (gamma 0.005) after the noise doubles, AR(1), {length} steps",
        device="cpu",
        figure="largest gap of the rolling 500-step coverage to 0.80, from 500 steps after the change",
        stats=summarize(worst),
        target=f"<= {DRIFT_TOLERANCE:g}",
        passed=max(worst) <= DRIFT_TOLERANCE,
        context=f"mean coverage after +500: adaptive {adaptive_mean:.3f}, split conformal {split_mean:.3f}; "
        f"median of {seeds} seed(s)",
        details={"worst": worst, "split_mean": split_mean, "adaptive_mean": adaptive_mean},
    )


def auto_row(*, horizon: int = 12, models: tuple[str, ...] = ("linear", "gru", "mlp")) -> Row:
    """AutoForecaster's 80 and 95 % coverage per step ahead in a backtest of the shipped sunspot numbers."""
    series = sf.load_series(SUNSPOTS, column="SUNACTIVITY")
    split = round(0.8 * len(series))
    est = sf.AutoForecaster(seed=0, models=models).fit(series[:split])
    result = est.backtest(series, horizon, start=split, level=(80, 95))
    targets = result.targets.numpy()
    coverage: dict[int, list[float]] = {}
    for level in (80, 95):
        low, high = (bound.numpy() for bound in result.interval(level))
        coverage[level] = ((low <= targets) & (targets <= high)).mean(axis=(0, 2)).tolist()
    gaps = [abs(c - 0.8) for c in coverage[80]]
    return Row(
        group="intervals",
        name=f"AutoForecaster on sunspots ({est.choice_}, {est.interval_method} intervals), "
        f"{len(result.cutoffs)} cutoffs",
        device="cpu",
        figure="gap of the 80 % coverage to 0.80 over h = 1...12",
        stats=summarize(gaps),
        context="80 % by step: "
        + " ".join(f"{c:.2f}" for c in coverage[80])
        + "; 95 % by step: "
        + " ".join(f"{c:.2f}" for c in coverage[95]),
        details={"coverage": coverage, "choice": est.choice_, "method": est.interval_method},
    )
