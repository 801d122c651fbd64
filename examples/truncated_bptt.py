"""
Stateful training and truncated BPTT
====================================

:class:`seqforecast.Trainer` trains on consecutive windows of a stream. With
``stateful=True`` (the default) the state a window ends with is *detached*
and carried into the next window: the model keeps its memory across the
window edge, but gradients stop there (truncated back-propagation through
time). With ``stateful=False`` every window starts from a fresh state.

This example trains the notebook's RNN both ways on the same sine windows
and shows where the stateless one fails: at the start of every window, where
it has not yet seen which way the wave is going. The tutorial
:doc:`/tutorials/truncated-bptt` explains what is carried, what is detached
and when the state resets.
"""

# sphinx_gallery_thumbnail_number = 2
import numpy as np
import torch
from matplotlib.figure import Figure

import seqforecast as sf

histories = {}
models = {}
carried_states = {}
for stateful in (True, False):
    torch.manual_seed(0)
    model = sf.RecurrentForecaster(hidden_size=32, num_layers=3)
    trainer = sf.Trainer(model, lr=0.01, device="cpu", seed=0, stateful=stateful)
    name = "stateful" if stateful else "stateless"
    histories[name] = trainer.fit(sf.SineStream(batch_size=16, seed=0), steps=300)
    models[name] = model
    carried = carried_states[name] = trainer.state
    print(f"{name:<9}  final loss {histories[name].losses[-1]:.2e}", end="  ")
    if carried is None:
        print("carried state: None (every window starts afresh)")
    else:
        print(f"carried state {tuple(carried.shape)}, requires_grad={carried.requires_grad}")

loss_figure = sf.plotting.plot_history(histories, title="Training loss per window")

# %%
# Where the error is
# ------------------
# Score both models on the next 40 windows of the same stream, each the way
# it was trained: the stateful one continues from the state the trainer
# carried out of window 299 and carries it on; the stateless one starts every
# window afresh. Average the squared error by position inside the window.
# Each window holds 18 points of the wave; every lane is a phase-shifted copy.

stream = sf.SineStream(batch_size=16, seed=0)
by_position = {}
for name, model in models.items():
    state = carried_states[name]  # None for the stateless model
    errors = []
    for k in range(300, 340):
        window = stream.window(k)  # inputs and targets: (16, 18, 1)
        outputs, state = sf.predict(model, window.inputs, state if name == "stateful" else None)
        errors.append(((outputs - window.targets) ** 2).mean(dim=(0, 2)))  # (18,)
    by_position[name] = torch.stack(errors).mean(dim=0)
    first, later = by_position[name][0], by_position[name][4:].mean()
    print(f"{name:<9}  MSE at position 0: {first:.2e}, positions 4-17: {later:.2e}")

position_figure = Figure(figsize=(8, 4), layout="constrained")
axes = position_figure.add_subplot()
for name, errors_at in by_position.items():
    axes.semilogy(np.arange(18), errors_at.numpy(), "o-", markersize=4, label=name)
axes.set(xlabel="position in the window", ylabel="mean squared error", title="Error by position in the window")
axes.legend()
axes.grid(alpha=0.3)

# %%
# When the state resets
# ---------------------
# A window with ``reset=True`` does not continue the previous one, and the
# trainer starts it from a fresh state: the first window of a stream, of
# each epoch, and of each series of an :class:`~seqforecast.ArrayStream`.

two_series = [np.sin(np.arange(60.0) / 4), np.cos(np.arange(40.0) / 4)]
array_stream = sf.ArrayStream(two_series, seq_length=10, batch_size=2, num_epochs=2)
print("windows per epoch:", array_stream.windows_per_epoch)
print("reset flags:", [int(window.reset) for window in array_stream])
