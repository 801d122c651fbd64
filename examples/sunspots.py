"""
Forecasting yearly sunspot numbers
==================================

Train a GRU on yearly sunspot numbers (1700-1958), score its one-step
forecasts on 1959-2008 beside the naive forecast (next year = this year),
and forecast ten years past the end of the record.

The data ships with seqforecast's examples (public domain, from NOAA's
National Geophysical Data Center). Replace the file and the column name with
your own to forecast your own series; the tutorial
:doc:`/tutorials/your-own-series` walks through every step.
"""

# sphinx_gallery_thumbnail_number = 3
from pathlib import Path

import numpy as np
import torch

import seqforecast as sf

torch.manual_seed(0)
# The data sit beside this script: run it as a script, or from the examples folder.
data = Path(__file__).parent / "data" if "__file__" in globals() else Path("data")
series = sf.load_series(data / "sunspots.csv", column="SUNACTIVITY")  # (309, 1)
years = sf.load_series(data / "sunspots.csv", column="YEAR")[:, 0]  # (309,)
train, test = series[:259], series[259:]

# Standardise with statistics of the training years only.
scaler = sf.Scaler().fit(train)
train_scaled, test_scaled = scaler.transform(train), scaler.transform(test)

# %%
# Stateful training
# -----------------
# Four contiguous lanes of 64 years, walked in windows of 16 years; the GRU's
# state is carried across windows, so it can learn the 11-year cycle.

model = sf.RecurrentForecaster(hidden_size=32, num_layers=2, cell="gru")
trainer = sf.Trainer(model, lr=0.005, device="cpu", seed=0, clip_grad_norm=1.0)
history = trainer.fit(sf.ArrayStream(train_scaled, seq_length=16, batch_size=4), steps=600)
print(f"trained {history.steps} steps in {history.seconds:.1f} s, final loss {history.losses[-1]:.3f}")

loss_figure = sf.plotting.plot_history(history, title="Training loss (scaled units)")

# %%
# One step ahead, beside the naive forecast
# -----------------------------------------
# Prime on the last 40 training years, then score each year of the test span.

recent = torch.as_tensor(train_scaled[-40:], dtype=torch.float32)
state = sf.prime(model, recent)
scores = sf.evaluate(model, test_scaled, state=state)
print(
    f"one-step MSE (scaled): model {scores['mse']:.3f}, naive {scores['naive_mse']:.3f}, skill {scores['skill']:.0f}%"
)

# The same one-step forecasts, back in sunspot numbers.
predictions, _ = sf.predict(model, test_scaled[:-1], state)  # (49, 1)
one_step = scaler.inverse_transform(predictions.numpy())
prediction_figure = sf.plotting.plot_predictions(
    test[:, 0],
    {"GRU (primed)": one_step[:, 0], "naive (last year)": test[:-1, 0]},
    x=years[259:],
    title="One-step forecasts of 1960-2008",
    xlabel="year",
    ylabel="sunspot number",
)

# %%
# Ten years ahead
# ---------------
# Forecast past 2008 (closed loop: each forecast is fed back as the next
# input) and undo the scaling.
#
# Sunspot numbers cannot be negative, but nothing in the model knows that:
# its output layer is linear, in standardised units, so a forecast can go
# below zero, and at a solar minimum (2008 had about 3 sunspots) the closed
# loop can undershoot it. Read a negative forecast as "about none" and clip
# it at zero.

whole = torch.as_tensor(scaler.transform(series), dtype=torch.float32)
future = scaler.inverse_transform(sf.forecast(model, whole, horizon=10).numpy())  # (10, 1)
below_zero = int((future < 0).sum())
future = np.maximum(future, 0.0) + 0.0  # (+ 0.0 turns -0.0 into 0.0)
print("2009-2018 forecast:", " ".join(f"{v:.0f}" for v in future[:, 0]), f"({below_zero} below zero, clipped to 0)")

forecast_figure = sf.plotting.plot_forecast(
    series[-60:, 0],
    future[:, 0],
    x=years[-60:],
    title="Sunspots: 60 years and 10 ahead",
    xlabel="year",
    ylabel="sunspot number",
)
