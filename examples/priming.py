"""
Priming: build the memory before you forecast
=============================================

A stateful forecaster's first predictions are only as good as its memory.
:func:`seqforecast.prime` runs recent history through the model and returns
the state; pass it on and the forecasts are good from the first step. This
example trains the notebook's RNN, then measures how the next-step error on
an unseen stretch of the wave depends on how much history it was primed on,
streams it one observation at a time, and forecasts ahead closed loop.

The tutorial :doc:`/tutorials/priming` explains each step.
"""

# sphinx_gallery_thumbnail_number = 1
import numpy as np
import torch
from matplotlib.figure import Figure

import seqforecast as sf
from seqforecast.demo import sine_test_data

torch.manual_seed(0)
model = sf.RecurrentForecaster(hidden_size=32, num_layers=3)  # the notebook's RNN
sf.Trainer(model, lr=0.01, device="cpu", seed=0).fit(sf.SineStream(batch_size=16, seed=0), steps=300)

priming, test = sine_test_data()  # 720-894.375° and 900-1260°, 5.625° apart: (1, 32, 1), (1, 65, 1)
degrees = np.linspace(900, 1260, 65)

# %%
# Cold against primed, step by step
# ---------------------------------
# The squared error of each next-step forecast along the test stretch. Cold,
# the error starts high and falls as the model builds its memory from the
# test data itself; primed, it is low from the start.

cold, _ = sf.predict(model, test[:, :-1])  # (1, 64, 1)
state = sf.prime(model, priming)  # h: (num_layers, batch, hidden_size) = (3, 1, 32)
primed, _ = sf.predict(model, test[:, :-1], state)
print("state:", tuple(state.shape))
cold_error = ((cold - test[:, 1:]) ** 2).flatten()
primed_error = ((primed - test[:, 1:]) ** 2).flatten()
print(f"next-step MSE: cold {cold_error.mean():.2e}, primed {primed_error.mean():.2e}")
print(f"first 8 steps: cold {cold_error[:8].mean():.2e}, primed {primed_error[:8].mean():.2e}")

error_figure = Figure(figsize=(8, 4), layout="constrained")
axes = error_figure.add_subplot()
axes.semilogy(degrees[1:], cold_error, "o-", markersize=3, label="cold (no memory)")
axes.semilogy(degrees[1:], primed_error, "o-", markersize=3, label="primed on 720-894°")
axes.set(xlabel="angle of the forecast value (degrees)", ylabel="squared error", title="Error of each forecast")
axes.legend()
axes.grid(alpha=0.3)

# %%
# How much history?
# -----------------
# Prime on only the last ``n`` points before the test stretch. A few points
# already recover most of the benefit: the RNN needs to know where on the
# wave it is and which way it is going, and a short stretch tells it.

lengths = [0, 1, 2, 4, 8, 16, 32]
errors = []
for n in lengths:
    start = sf.prime(model, priming[:, 32 - n :]) if n else None
    predictions, _ = sf.predict(model, test[:, :-1], start)
    errors.append(float(sf.metrics.mse(predictions, test[:, 1:])))
    print(f"primed on {n:>2} points: next-step MSE {errors[-1]:.2e}")

length_figure = Figure(figsize=(6, 4), layout="constrained")
axes = length_figure.add_subplot()
axes.semilogy(lengths, errors, "o-")
axes.set(xlabel="priming points", ylabel="next-step MSE on 900-1260°", title="More history, better memory")
axes.grid(alpha=0.3)

# %%
# One observation at a time
# -------------------------
# :class:`~seqforecast.StreamingForecaster` keeps the state for you: each
# ``update`` costs one step of the model, however long the stream, and gives
# the same forecasts as :func:`~seqforecast.predict` on the whole sequence.

stream = sf.StreamingForecaster(model, state=sf.prime(model, priming))
streamed = torch.stack([stream.update(x_t) for x_t in test[0, :-1]])  # each x_t: (1,) -> (1,)
print(f"streamed {stream.steps} steps; largest difference from predict(): {(streamed - primed[0]).abs().max():.1e}")

# %%
# Forecasting ahead, closed loop
# ------------------------------
# :func:`~seqforecast.forecast` primes on the history it is given, then feeds
# each forecast back as the next input. Here it continues 32 points of the
# wave sampled every 10°, the training rate, for 64 steps without seeing any
# of them.

angles = torch.arange(720.0, 720.0 + 96 * 10, 10.0)  # 96 points, 10° apart
wave = torch.sin(torch.deg2rad(angles))  # (96,)
future = sf.forecast(model, wave[:32], horizon=64)  # (64, 1): one series of one feature
print(f"closed-loop MSE over 64 steps at 10° spacing: {sf.metrics.mse(future[:, 0], wave[32:]):.2e}")
forecast_figure = sf.plotting.plot_forecast(
    wave[:32], future[:, 0], truth=wave[32:], title="Primed on 32 points, 64 forecast closed loop"
)

# %%
# Closed loop, the model steps at the rate it learned: each forecast it feeds
# back moves 10° along the wave. On the test stretch, sampled every 5.625°, its
# teacher-forced next-step forecasts adapt (each true input tells it where
# it is), but a closed-loop forecast drifts out of phase.

drifting = sf.forecast(model, priming[0], horizon=64)  # continue 720-894° at 5.625° spacing
print(f"closed-loop MSE over 64 steps at 5.625° spacing: {sf.metrics.mse(drifting, test[0, 1:]):.2e}")

# %%
# The state of a convolutional forecaster
# ---------------------------------------
# A causal CNN's memory is its last ``context_length`` inputs, so priming it on
# more than that gives the same state: its memory is bounded, an RNN's is not.

conv = sf.ConvForecaster(channels=8, head_hidden=8)
short, long = sf.prime(conv, priming[:, -conv.context_length :]), sf.prime(conv, priming)
print(f"conv context_length {conv.context_length}; state {tuple(long.shape)}; same state: {torch.equal(short, long)}")
