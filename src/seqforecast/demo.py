"""The teaching notebook as a function: three forecasters on a sine wave.

:func:`run_demo` trains a recurrent network, the memory-less feed-forward
net and a causal convolutional net on :class:`~seqforecast.SineStream`, then
scores each on an unseen stretch of the wave, cold (no memory) and primed,
and checks that no output sees a later input.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, cast

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from seqforecast._checks import check_int, resolve_device
from seqforecast.base import Forecaster, State
from seqforecast.data import SineStream
from seqforecast.inference import predict, prime
from seqforecast.metrics import mse
from seqforecast.models import ConvForecaster, FeedForwardForecaster, RecurrentForecaster
from seqforecast.training.history import History
from seqforecast.training.trainer import Trainer

__all__ = [
    "TABLE_HEADER",
    "DemoResult",
    "NotebookConv",
    "causal_leak",
    "format_table",
    "next_step_mse",
    "run_demo",
    "sine_test_data",
    "table_row",
]


def _sine(first_degrees: float, last_degrees: float, points: int, device: torch.device | str) -> Tensor:
    angles = torch.linspace(first_degrees, last_degrees, points, dtype=torch.float64, device=device)
    return torch.sin(angles * math.pi / 180).to(torch.float32).reshape(1, points, 1)


def sine_test_data(device: torch.device | str = "cpu") -> tuple[Tensor, Tensor]:
    """The notebook's priming and test sequences.

    Returns:
        ``(priming, test)``: 32 points over 720-894.375 degrees and 65 points
        over 900-1260 degrees (5.625-degree spacing, unlike training's 10),
        each of shape ``(1, time, 1)``.

    Example:
        >>> from seqforecast.demo import sine_test_data
        >>> priming, test = sine_test_data()
        >>> priming.shape, test.shape
        (torch.Size([1, 32, 1]), torch.Size([1, 65, 1]))
    """
    return _sine(720.0, 894.375, 32, device), _sine(900.0, 1260.0, 65, device)


def next_step_mse(model: Forecaster, sequence: Tensor, state: State = None) -> float:
    """MSE of the one-step-ahead predictions along ``sequence`` ``(batch, time, F)``.

    Example:
        >>> import torch, seqforecast as sf
        >>> from seqforecast.demo import next_step_mse
        >>> next_step_mse(sf.FeedForwardForecaster(), torch.zeros(1, 10, 1)) >= 0
        True
    """
    predictions, _ = predict(model, sequence[:, :-1], state)
    return float(mse(predictions, sequence[:, 1:].to(predictions)))


def causal_leak(model: Forecaster, sequence: Tensor, t: int) -> float:
    """Largest change of an output before ``t`` when the inputs from ``t`` on change.

    A causal model gives exactly 0. ``sequence`` is ``(batch, time, F)``
    (batch-first models).

    Example:
        >>> import torch, seqforecast as sf
        >>> from seqforecast.demo import causal_leak
        >>> causal_leak(sf.ConvForecaster(channels=4, head_hidden=4), torch.randn(1, 20, 1), t=10)
        0.0
    """
    t = check_int("t", t)
    perturbed = sequence.clone()
    perturbed[:, t:] += 1.0
    before, _ = predict(model, sequence)
    after, _ = predict(model, perturbed)
    return float((before[:, :t] - after[:, :t]).abs().max())


@dataclasses.dataclass
class DemoResult:
    """One row of the demo table."""

    name: str
    model: Forecaster
    history: History
    seconds: float
    final_loss: float
    mse_cold: float
    mse_primed: float
    leak: float


class NotebookConv(nn.Module):
    """The notebook's CNN exactly: symmetric padding, so it is **not causal**.

    ``Conv1d(1, 100, 3, padding=1)`` → LeakyReLU → ``Conv1d(100, 100, 3,
    padding=1)`` → LeakyReLU → per step ``Linear(100, 100)`` → LeakyReLU →
    ``Linear(100, 1)`` → LeakyReLU. Padding one step on the right lets the
    output at ``t`` see input ``t + 1``, which is the target: its low training
    loss is partly a leak. Kept for teaching; it carries no state.
    """

    input_size = 1
    output_size = 1
    batch_first = True
    context_length = 0
    config: dict[str, Any] = {}  # noqa: RUF012 - satisfies the Forecaster protocol

    def __init__(self, negative_slope: float = 0.03) -> None:
        super().__init__()
        self.negative_slope = negative_slope
        self.conv1 = nn.Conv1d(1, 100, kernel_size=3, padding=1)
        self.conv2 = nn.Conv1d(100, 100, kernel_size=3, padding=1)
        self.hidden = nn.Linear(100, 100)
        self.out = nn.Linear(100, 1)

    def init_state(
        self, batch_size: int, device: torch.device | str | None = None, dtype: torch.dtype | None = None
    ) -> State:
        """No state: every call starts afresh."""
        return None

    def forward(self, x: Tensor, state: State = None) -> tuple[Tensor, State]:
        """``x``: ``(batch, time, 1)`` → ``(batch, time, 1)``, and no state."""
        slope = self.negative_slope
        h = F.leaky_relu(self.conv1(x.transpose(1, 2)), slope)  # (B, 100, T): sees t - 1, t, t + 1
        h = F.leaky_relu(self.conv2(h), slope).transpose(1, 2)  # (B, T, 100): sees t - 2 .. t + 2
        return F.leaky_relu(self.out(F.leaky_relu(self.hidden(h), slope)), slope), None

    def __call__(self, x: Tensor, state: State = None) -> tuple[Tensor, State]:
        return cast("tuple[Tensor, State]", super().__call__(x, state))


def demo_models(*, notebook_conv: bool = True) -> dict[str, Forecaster]:
    """The notebook's networks, its CNN made causal, and (optionally) its original CNN."""
    models: dict[str, Forecaster] = {
        "rnn": RecurrentForecaster(hidden_size=32, num_layers=3),
        "mlp": FeedForwardForecaster(hidden_sizes=(128,), window=1),
        "conv": ConvForecaster(channels=100, num_layers=2, kernel_size=3),
    }
    if notebook_conv:
        models["conv-2sided"] = NotebookConv()
    return models


def run_demo(
    steps: int = 300,
    batch_size: int = 16,
    *,
    device: torch.device | str = "auto",
    seed: int = 0,
    lr: float = 0.01,
    progress: bool = False,
    notebook_conv: bool = True,
) -> list[DemoResult]:
    """Train and score the forecasters; return one result per model.

    The models are the notebook's RNN (``rnn``), its memory-less MLP
    (``mlp``), its CNN made causal (``conv``) and, with ``notebook_conv``, its
    original two-sided CNN (``conv-2sided``), whose good scores come from
    seeing the next input: the causality column flags it.

    Args:
        steps: Training windows per model.
        batch_size: Phase-shifted sine lanes per window.
        device: Where to train (``"auto"``: CUDA when available).
        seed: Seeds model initialisation and training.
        lr: Adam learning rate.
        progress: Show progress bars.
        notebook_conv: Also train the notebook's two-sided CNN.

    Example:
        >>> from seqforecast.demo import run_demo
        >>> [r.name for r in run_demo(steps=2, batch_size=2, device="cpu")]
        ['rnn', 'mlp', 'conv', 'conv-2sided']
    """
    steps = check_int("steps", steps)
    batch_size = check_int("batch_size", batch_size)
    target = resolve_device(device)
    torch.manual_seed(seed)
    results = []
    for name, model in demo_models(notebook_conv=notebook_conv).items():
        trainer = Trainer(model, lr=lr, device=target, seed=seed, progress=progress)
        stream = SineStream(batch_size=batch_size, device=target, seed=seed)
        history = trainer.fit(stream, steps=steps)
        priming, test = sine_test_data(target)
        state = prime(model, priming)
        results.append(
            DemoResult(
                name=name,
                model=model,
                history=history,
                seconds=history.seconds,
                final_loss=history.losses[-1],
                mse_cold=next_step_mse(model, test),
                mse_primed=next_step_mse(model, test, state),
                leak=causal_leak(model, torch.cat((priming, test), dim=1), t=40),
            )
        )
    return results


TABLE_HEADER = ("model", "seconds", "final loss", "MSE cold", "MSE primed", "causal")


def table_row(result: DemoResult) -> tuple[str, ...]:
    """One result as the cells of :data:`TABLE_HEADER`."""
    causal = "yes" if result.leak == 0.0 else f"NO (leak {result.leak:.2g})"
    return (
        result.name,
        f"{result.seconds:.2f}",
        f"{result.final_loss:.2e}",
        f"{result.mse_cold:.2e}",
        f"{result.mse_primed:.2e}",
        causal,
    )


def format_table(results: list[DemoResult]) -> str:
    """Render :func:`run_demo` results as a fixed-width text table."""
    rows = [TABLE_HEADER, *(table_row(r) for r in results)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(TABLE_HEADER))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)
