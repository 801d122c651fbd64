"""
Why memory: RNN vs memory-less MLP vs causal CNN
================================================

The teaching notebook's comparison, run by :func:`seqforecast.demo.run_demo`:
the notebook's 3-layer RNN, its memory-less feed-forward net, its CNN made
causal, and its original CNN, whose two-sided padding lets it peek at the
value it is asked to forecast. Each trains for 300 windows of 16 sine lanes,
then forecasts the next step of an unseen stretch of the wave (900-1260°,
sampled every 5.625° instead of the 10° it was trained on), *cold* (no
memory) and *primed* (after first running 720-894° through the model).

The tutorial :doc:`/tutorials/why-memory` explains the results.
"""

# sphinx_gallery_thumbnail_number = 2
import numpy as np
import torch
from matplotlib.figure import Figure

import seqforecast as sf
from seqforecast.demo import causal_leak, format_table, run_demo, sine_test_data

results = run_demo(steps=300, batch_size=16, device="cpu", seed=0)
print(format_table(results))
models = {r.name: r.model for r in results}

loss_figure = sf.plotting.plot_history({r.name: r.history for r in results}, title="Training loss per window")

# %%
# Memory: cold against primed
# ---------------------------
# Cold, the RNN starts with an empty memory and its first forecasts are poor;
# primed on the 32 points before the test stretch, it is accurate from the
# first step.

priming, test = sine_test_data()  # (1, 32, 1) and (1, 65, 1)
degrees = np.linspace(900, 1260, 65)
cold, _ = sf.predict(models["rnn"], test[:, :-1])
primed, _ = sf.predict(models["rnn"], test[:, :-1], sf.prime(models["rnn"], priming))
rnn_figure = sf.plotting.plot_predictions(
    test.flatten(),
    {"cold (no memory)": cold.flatten(), "primed on 720-894°": primed.flatten()},
    x=degrees,
    title="RNN: next-step forecasts of an unseen stretch",
    xlabel="angle (degrees)",
)

# %%
# No memory: the MLP averages
# ---------------------------
# The memory-less MLP sees one value at a time. A sine wave passes each value
# twice per period, once rising and once falling, with two different next
# values: plotted against the current value, the truth is a loop. The MLP can
# only draw one curve through it, the average of the two branches; the RNN
# remembers which branch it is on.

values = test.flatten().numpy()
mlp_next, _ = sf.predict(models["mlp"], test[:, :-1], sf.prime(models["mlp"], priming))
averaging_figure = Figure(figsize=(6, 5), layout="constrained")
axes = averaging_figure.add_subplot()
axes.plot(values[:-1], values[1:], color="black", linewidth=2, label="truth: next value")
axes.plot(values[:-1], mlp_next.flatten(), "o", markersize=3, label="memory-less MLP")
axes.plot(values[:-1], primed.flatten(), "o", markersize=3, label="RNN (primed)")
axes.set(xlabel="current value", ylabel="forecast of the next value", title="Same current value, two futures")
axes.legend()
axes.grid(alpha=0.3)

# %%
# The two-sided CNN's leak
# ------------------------
# A forecast of step ``t + 1`` must not depend on input ``t + 1``. Change
# only input 40 by +1 and look at the outputs *before* it: the causal CNN's
# do not move at all. The notebook's CNN's do: its symmetric padding lets
# output ``t`` see inputs ``t + 1`` and ``t + 2``, and output 39 is the
# forecast of input 40, the very value that changed. Its good scores above
# are partly this leak. :func:`~seqforecast.demo.causal_leak` measures the
# largest such change: the leak in the table above.

moved = test.clone()
moved[:, 40] += 1.0
steps = np.arange(30, 51)
leak_figure = Figure(figsize=(8, 4), layout="constrained")
axes = leak_figure.add_subplot()
for name, label in (("conv-2sided", "notebook CNN (two-sided padding)"), ("conv", "causal CNN (left padding)")):
    before, _ = sf.predict(models[name], test)
    after, _ = sf.predict(models[name], moved)
    change = (after - before).abs().flatten()  # (65,)
    axes.plot(steps, change[30:51].numpy(), "o-", markersize=4, label=label)
    print(f"{name:<11}  output 39 (the forecast of input 40) moves by {change[39]:.3f}")
axes.axvspan(29.5, 39.5, color="tab:red", alpha=0.08, label="outputs before the changed input")
axes.set(
    xlabel="output time step (input 40 changed)", ylabel="|change of output|", title="Earlier outputs must not move"
)
axes.legend()
axes.grid(alpha=0.3)

# %%
# Every library forecaster is causal
# ----------------------------------
# The same check on the three forecasters of the library, untrained: an
# output never sees a later input, whatever the weights.

torch.manual_seed(0)
sequence = torch.randn(1, 40, 1)
for model in (sf.RecurrentForecaster(), sf.FeedForwardForecaster(window=4), sf.ConvForecaster(dilation_base=2)):
    print(f"{type(model).__name__:<22} leak {causal_leak(model, sequence, t=20)}")
