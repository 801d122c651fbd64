"""
Backtesting: forecasts from every cutoff, in one pass
=====================================================

A forecaster earns trust in a rolling-origin backtest: from each cutoff
``c``, forecast the next points using only the data before ``c``, and score
them against what happened. :func:`seqforecast.backtest` does it in one
stateful pass: the model runs once over the series, keeping its state at
every cutoff, and the closed loops of all cutoffs run together as one
batch. This example backtests an :class:`~seqforecast.AutoForecaster` on
yearly sunspot numbers beside the naive forecast, then times the one-pass
backtest against the loop a user would write.

The tutorial :doc:`/tutorials/backtesting` explains each step.
"""

# sphinx_gallery_thumbnail_number = 1
import time
from pathlib import Path

import numpy as np
import torch
from matplotlib.figure import Figure

import seqforecast as sf

data = Path(__file__).parent / "data" if "__file__" in globals() else Path("data")
series = sf.load_series(data / "sunspots.csv", column="SUNACTIVITY")  # (309, 1): 1700-2008
years = np.arange(1700, 1700 + len(series))
split, horizon = 247, 10  # fit on 1700-1946; cutoffs from 1947 on

# %%
# Fit on the first 80 %, backtest the rest
# ----------------------------------------
# ``backtest`` takes the whole series: cutoff ``c`` sees ``series[:c]``
# only. The estimator is not refitted; its transforms and model run once
# over the series.

est = sf.AutoForecaster(seed=0).fit(series[:split])
result = est.backtest(series, horizon, start=split)
metrics = result.metrics()
print(f"chose {est.choice_}")
print(f"{len(result.cutoffs)} cutoffs, forecasts {tuple(result.forecasts.shape)} (cutoffs, horizon, features)")
for step in (0, 4, 9):
    print(
        f"{step + 1:>2} year(s) ahead: MSE {metrics['mse'][step]:8.1f}  naive {metrics['naive_mse'][step]:8.1f}  "
        f"relative {metrics['relative_mse'][step]:.2f}"
    )

steps = np.arange(1, horizon + 1)
errors = Figure(figsize=(7, 3.5), layout="constrained")
axes = errors.add_subplot()
axes.plot(steps, np.sqrt(metrics["mse"].numpy()), marker="o", label=f"AutoForecaster ({est.choice_})")
axes.plot(steps, np.sqrt(metrics["naive_mse"].numpy()), marker="s", label="naive (last value)")
axes.set_xlabel("years ahead")
axes.set_ylabel("RMSE (sunspot number)")
axes.set_title(f"Backtest over {len(result.cutoffs)} cutoffs, {years[split]}-{years[-horizon]}")
axes.legend()
axes.grid(alpha=0.3)

# %%
# What some of the forecasts looked like
# --------------------------------------
# Every fifth cutoff's forecast, drawn from the year it was made.

paths = Figure(figsize=(8, 3.5), layout="constrained")
axes = paths.add_subplot()
axes.plot(years[split - 30 :], series[split - 30 :, 0], color="black", label="observed")
for i in range(0, len(result.cutoffs), 5):
    c = int(result.cutoffs[i])
    axes.plot(years[c : c + horizon], result.forecasts[i, :, 0].numpy(), color="tab:blue", alpha=0.8)
axes.plot([], [], color="tab:blue", label=f"{horizon}-year forecasts from every fifth cutoff")
axes.set_xlabel("year")
axes.set_ylabel("sunspot number")
axes.legend(loc="upper left")
axes.grid(alpha=0.3)

# %%
# One pass against a loop over cutoffs
# ------------------------------------
# The loop a user would write forecasts from each cutoff on its own, reading
# the whole history again each time. A stateful model need not: the one-pass
# backtest gives the same forecasts (to float precision) at a fraction of the
# cost, and the ratio grows with the length of the series.

model = sf.RecurrentForecaster(hidden_size=32, num_layers=2, cell="lstm", seed=0)
scaled = sf.Scaler().fit(series[:split]).transform(series)
started = time.perf_counter()
one_pass = sf.backtest(model, scaled, horizon, start=split)
one_pass_seconds = time.perf_counter() - started
started = time.perf_counter()
loop = torch.stack([sf.forecast(model, scaled[:c], horizon) for c in one_pass.cutoffs.tolist()])
loop_seconds = time.perf_counter() - started
difference = float((loop - one_pass.forecasts).abs().max())
print(
    f"one pass {one_pass_seconds * 1e3:.0f} ms, loop over cutoffs {loop_seconds * 1e3:.0f} ms; largest difference {difference:.1e}"
)
