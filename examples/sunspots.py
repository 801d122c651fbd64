"""
Forecasting yearly sunspot numbers
==================================

Train a GRU on yearly sunspot numbers (1700-1958), score its one-step
forecasts on 1959-2008 beside the naive forecast (next year = this year),
and forecast ten years past the end of the record.

The data ships with seqforecast's examples (public domain, from NOAA's
National Geophysical Data Center).
"""

from pathlib import Path

import torch

import seqforecast as sf

torch.manual_seed(0)
here = Path(__file__).parent if "__file__" in globals() else Path("examples")
series = sf.load_series(here / "data" / "sunspots.csv", column="SUNACTIVITY")  # (309, 1)
train, test = series[:259], series[259:]

# Standardise with statistics of the training years only.
scaler = sf.Scaler().fit(train)
train_scaled, test_scaled = scaler.transform(train), scaler.transform(test)

# Four contiguous lanes of 64 years, walked in windows of 16 years; the GRU's
# state is carried across windows, so it can learn the 11-year cycle.
model = sf.RecurrentForecaster(hidden_size=32, num_layers=2, cell="gru")
trainer = sf.Trainer(model, lr=0.005, device="cpu", seed=0, clip_grad_norm=1.0)
history = trainer.fit(sf.ArrayStream(train_scaled, seq_length=16, batch_size=4), steps=600)
print(f"trained {history.steps} steps in {history.seconds:.1f} s, final loss {history.losses[-1]:.3f}")

# Prime on the last 40 training years, then score each year of the test span.
recent = torch.as_tensor(train_scaled[-40:], dtype=torch.float32)
state = sf.prime(model, recent)
scores = sf.evaluate(model, test_scaled, state=state)
print(f"one-step MSE (scaled): model {scores['mse']:.3f}, naive {scores['naive_mse']:.3f}, skill {scores['skill']:.0%}")

# Forecast ten years past 2008 and undo the scaling.
whole = torch.as_tensor(scaler.transform(series), dtype=torch.float32)
future = scaler.inverse_transform(sf.forecast(model, whole, horizon=10).numpy())
print("2009-2018 forecast:", " ".join(f"{v:.0f}" for v in future[:, 0]))
