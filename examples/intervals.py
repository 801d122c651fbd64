"""
Prediction intervals: fan charts, coverage, and intervals that adapt
=====================================================================

A point forecast says nothing of how far off it may be. This example fits
an :class:`~seqforecast.AutoForecaster` on yearly sunspot numbers up to 1946,
checks how often its 80 % and 95 % intervals covered what happened in a
backtest over 1947-2008 (per year ahead), draws the fan chart of the next
decade, and shows :class:`~seqforecast.AdaptiveConformal` keeping a stream's
intervals calibrated when the noise suddenly doubles, where fixed intervals
do not.

The tutorial :doc:`/tutorials/intervals` explains each step.
"""

# sphinx_gallery_thumbnail_number = 1
from pathlib import Path

import numpy as np
import torch
from matplotlib.figure import Figure

import seqforecast as sf

data = Path(__file__).parent / "data" if "__file__" in globals() else Path("data")
series = sf.load_series(data / "sunspots.csv", column="SUNACTIVITY")  # (309, 1): 1700-2008
years = np.arange(1700, 1700 + len(series))
split, horizon, levels = 247, 10, (80, 95)  # fit on 1700-1946; cutoffs from 1947 on

# %%
# Coverage in a backtest
# ----------------------
# The intervals come from the forecast errors of the chosen recipe on the
# validation tail of the training data, per step ahead. In a backtest the
# intervals of each cutoff are calibrated on data before that cutoff only.

est = sf.AutoForecaster(seed=0).fit(series[:split])
result = est.backtest(series, horizon, start=split, level=levels)
print(f"chose {est.choice_}; intervals by {est.interval_method}")
targets = result.targets.numpy()
print("years ahead  " + "  ".join(f"{level}% coverage  width" for level in levels))
for step in range(horizon):
    cells = []
    for level in levels:
        lower, upper = (bound.numpy()[:, step] for bound in result.interval(level))
        covered = float(np.mean((lower <= targets[:, step]) & (targets[:, step] <= upper)))
        cells.append(f"{covered:>12.2f} {float(np.mean(upper - lower)):>6.0f}")
    print(f"{step + 1:>11}  " + "  ".join(cells))
inside = {
    level: float(sf.metrics.coverage(*result.interval(level), result.targets)) for level in levels
}  # all steps at once
print("all steps: " + ", ".join(f"{level}% intervals covered {inside[level]:.2f}" for level in levels))

# %%
# The fan chart of the next decade
# --------------------------------
# ``forecast(horizon, level=...)`` returns an :class:`~seqforecast.Forecast`
# in the series' units: ``mean`` and ``interval(level)``. Sunspot numbers
# are never negative; the lower bounds are clipped at zero for the chart.

est.predict(series)  # the state after 2008
future = est.forecast(horizon, level=levels)
bands = {level: (np.clip(low[:, 0], 0, None), high[:, 0]) for level, (low, high) in future.intervals.items()}
fan = sf.plotting.plot_forecast(
    series[-60:, 0],
    future.mean[:, 0],
    x=years[-60:],
    intervals=bands,
    xlabel="year",
    ylabel="sunspot number",
    title="Sunspots 2009-2018: forecast with 80% and 95% intervals",
)
low, high = future.interval(95)
print(f"2009-2018 mean: {np.round(future.mean[:, 0]).astype(int).tolist()}")
print(f"95% interval in 2013: {max(low[4, 0], 0):.0f} to {high[4, 0]:.0f}")

# %%
# Intervals that adapt to a change
# --------------------------------
# Split-conformal intervals assume the future errors look like the
# calibration errors. When the noise doubles, they under-cover for good.
# Adaptive conformal inference moves its own miscoverage level after every
# observation (a miss widens, a hit narrows) and recovers.

rng = np.random.default_rng(0)
length, change = 4000, 2000
noise = rng.standard_normal(length) * np.where(np.arange(length) < change, 1.0, 2.0)
y = np.zeros(length)
for t in range(1, length):
    y[t] = 0.8 * y[t - 1] + noise[t]
model = sf.FeedForwardForecaster(1, 1, (), window=1)  # the true one-step forecast, 0.8 * y[t]
with torch.no_grad():
    model.net[0].weight.fill_(0.8)
    model.net[0].bias.zero_()
calibration = sf.ConformalCalibration.from_backtest(sf.backtest(model, y[:1000], horizon=1, start=1))
online = sf.AdaptiveConformal(model, level=80, gamma=0.005, window=500, calibration=calibration)
bounds = np.array([[float(b[0]) for b in online.update(torch.tensor([v], dtype=torch.float32))[1:]] for v in y])
adaptive_hits = (bounds[:-1, 0] <= y[1:]) & (y[1:] <= bounds[:-1, 1])
fixed = sf.backtest(model, y, horizon=1, start=1)
fixed_low, fixed_high = calibration.interval(fixed.forecasts, 80)
fixed_hits = ((fixed_low <= fixed.targets.numpy()) & (fixed.targets.numpy() <= fixed_high)).ravel()
rolling = np.ones(200) / 200
after = slice(change + 500, length - 1)
print(
    f"after the change (+500 steps on): adaptive covered {adaptive_hits[after].mean():.2f}, "
    f"fixed split conformal {fixed_hits[after].mean():.2f} (nominal 0.80)"
)

drift = Figure(figsize=(8, 3.5), layout="constrained")
axes = drift.add_subplot()
steps = np.arange(len(adaptive_hits) - len(rolling) + 1) + len(rolling)
axes.plot(steps, np.convolve(adaptive_hits, rolling, mode="valid"), label="adaptive conformal")
axes.plot(steps, np.convolve(fixed_hits, rolling, mode="valid"), label="split conformal (fixed)")
axes.axhline(0.8, color="black", linewidth=0.8, linestyle="--", label="nominal 80%")
axes.axvline(change, color="grey", linewidth=0.8, linestyle=":")
axes.set_xlabel("time step (the noise doubles at the dotted line)")
axes.set_ylabel("coverage, last 200 steps")
axes.legend(loc="lower left")
axes.grid(alpha=0.3)
