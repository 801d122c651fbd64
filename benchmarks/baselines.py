"""The two baselines, written out in plain PyTorch.

* The **hand-written loop**: what a careful PyTorch user writes for truncated
  back-propagation through time with tensors built beforehand: forward, MSE,
  backward, Adam step, detach the carried state. Its networks are plain
  ``torch.nn`` modules computing exactly what the library's forecasters
  compute (the weights are copied from them), so a time ratio measures the
  library's overhead and nothing else.
* The **notebook's loop**: the teaching notebook's training as it was
  written: one window of batch 1 per step rebuilt with NumPy, the model moved
  to the device every step, the loss read back with ``.item()`` every step.
  (Its plot every 25 steps is left out.)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor, nn
from torch.nn import functional as F

import seqforecast as sf
from seqforecast.demo import sine_test_data

__all__ = [
    "HandCausalConv",
    "HandRecurrent",
    "HandState",
    "NotebookLoop",
    "NotebookRNN",
    "bare_network",
    "hand_network",
    "hand_state",
    "hand_train",
    "notebook_primed_mse",
    "prebuilt_windows",
]

HandState = Tensor | tuple[Tensor, ...] | None


class HandRecurrent(nn.Module):
    """``nn.RNN`` / ``nn.LSTM`` / ``nn.GRU`` and a linear head at every step."""

    def __init__(self, rnn: nn.RNNBase, head: nn.Linear) -> None:
        super().__init__()
        self.rnn = rnn
        self.head = head

    def forward(self, x: Tensor, state: HandState) -> tuple[Tensor, HandState]:
        features, state = self.rnn(x, state)
        return self.head(features), state


class HandCausalConv(nn.Module):
    """Causal ``Conv1d`` stack over the carried last ``context`` inputs, then a per-step head."""

    def __init__(self, convs: nn.ModuleList, head: nn.Sequential, context: int, negative_slope: float) -> None:
        super().__init__()
        self.convs = convs
        self.head = head
        self.context = context
        self.negative_slope = negative_slope

    def forward(self, x: Tensor, past: HandState) -> tuple[Tensor, HandState]:
        if not isinstance(past, Tensor):
            past = x.new_zeros(x.shape[0], self.context, x.shape[2])
        full = torch.cat((past, x), dim=1)  # (B, context + T, F)
        h = full.transpose(1, 2)
        for conv in self.convs:
            h = F.leaky_relu(conv(h), self.negative_slope)
        return self.head(h.transpose(1, 2)), full[:, -self.context :]


def bare_network(model: sf.BaseForecaster) -> HandRecurrent | HandCausalConv:
    """The forecaster's own torch modules (shared, not copied) in a plain-PyTorch network."""
    if isinstance(model, sf.RecurrentForecaster):
        return HandRecurrent(model.rnn, model.head)
    if isinstance(model, sf.ConvForecaster):
        return HandCausalConv(model.convs, model.head, model.context_length, model.config.negative_slope)
    msg = f"no hand-written network for {type(model).__name__}"
    raise TypeError(msg)


def hand_network(model: sf.BaseForecaster) -> nn.Module:
    """A plain-PyTorch copy of a batch-first recurrent or convolutional forecaster."""
    copy = sf.model_from_config(type(model).__name__, model.config.to_dict())
    copy.load_state_dict(model.state_dict())
    return bare_network(copy)


def hand_state(state: HandState) -> HandState:
    """Detach the carried state, as a user would write it."""
    if state is None:
        return None
    if isinstance(state, tuple):
        return tuple(s.detach() for s in state)
    return state.detach()


def prebuilt_windows(
    batch_size: int, count: int, device: torch.device, seq_length: int = 18
) -> list[tuple[Tensor, Tensor]]:
    """``count`` consecutive sine windows as contiguous ``(inputs, targets)`` tensors on ``device``."""
    stream = sf.SineStream(seq_length, batch_size=batch_size, seed=0)
    windows = []
    for k in range(count):
        window = stream.window(k)
        windows.append((window.inputs.contiguous().to(device), window.targets.contiguous().to(device)))
    return windows


def hand_train(
    net: nn.Module, optimizer: torch.optim.Optimizer, windows: Sequence[tuple[Tensor, Tensor]], state: HandState
) -> HandState:
    """The minimal loop: forward, MSE, backward, Adam step, detach; returns the carried state."""
    for x, y in windows:
        out, state = net(x, state)
        loss = F.mse_loss(out, y)
        optimizer.zero_grad(set_to_none=True)
        torch.autograd.backward(loss)
        optimizer.step()
        state = hand_state(state)
    return state


class NotebookRNN(nn.Module):
    """The notebook's network: ``nn.RNN(1, 32, 3, batch_first=True)`` + ``Linear(32, 1)``."""

    def __init__(self, hidden_dim: int = 32, n_layers: int = 3) -> None:
        super().__init__()
        self.hidden_dim = hidden_dim
        self.rnn = nn.RNN(1, hidden_dim, n_layers, batch_first=True)
        self.fc = nn.Linear(hidden_dim, 1)

    def forward(self, x: Tensor, hidden: Tensor | None) -> tuple[Tensor, Tensor]:
        r_out, hidden = self.rnn(x, hidden)
        r_out = r_out.reshape(-1, self.hidden_dim)  # (batch * time, hidden), as the notebook flattens
        return self.fc(r_out), hidden


class NotebookLoop:
    """The notebook's training loop, resumable so that it can be scored at checkpoints.

    Step ``k`` trains on 19 points over ``k*180 .. (k+1)*180`` degrees, built
    with NumPy; Adam (lr 0.01), MSE, batch 1, hidden state carried and
    detached, ``.to(device)`` and ``.item()`` every step.
    """

    def __init__(self, device: torch.device, seed: int, lr: float = 0.01) -> None:
        torch.manual_seed(seed)
        self.device = device
        self.net = NotebookRNN()
        self.criterion = nn.MSELoss()
        self.optimizer = torch.optim.Adam(self.net.parameters(), lr=lr)
        self.hidden: Tensor | None = None
        self.step = 0
        self.losses: list[float] = []

    def train(self, steps: int) -> None:
        """Run ``steps`` more windows."""
        for _ in range(steps):
            k = self.step
            self.net.to(self.device)
            angles = np.linspace(k * 180.0, (k + 1) * 180.0, 19)
            data = np.sin(angles * np.pi / 180.0).reshape(19, 1)
            x = torch.Tensor(data[:-1]).unsqueeze(0).to(self.device)  # (1, 18, 1)
            y = torch.Tensor(data[1:]).to(self.device)  # (18, 1)
            prediction, hidden = self.net(x, self.hidden)
            self.hidden = hidden.detach()
            loss = self.criterion(prediction, y)
            self.optimizer.zero_grad()
            torch.autograd.backward(loss)
            self.optimizer.step()
            self.losses.append(loss.item())
            self.step += 1


def notebook_primed_mse(net: NotebookRNN, device: torch.device) -> float:
    """The notebook's test: prime on 720-894.375 degrees, then next-step MSE over 900-1260 degrees.

    The same figure as :func:`seqforecast.demo.next_step_mse` after
    :func:`seqforecast.prime` on :func:`seqforecast.demo.sine_test_data`.
    """
    priming, test = sine_test_data(device)
    was_training = net.training
    net.eval()
    with torch.no_grad():
        _, hidden = net(priming, None)
        prediction, _ = net(test[:, :-1], hidden)
        value = float(F.mse_loss(prediction, test[0, 1:]))
    net.train(was_training)
    return value
