"""The teaching notebook as a function: three forecasters on a sine wave.

:func:`run_demo` trains a recurrent network, the memory-less feed-forward
net and a causal convolutional net on :class:`~seqforecast.SineStream`, then
scores each on an unseen stretch of the wave, cold (no memory) and primed,
and checks that no output sees a later input.
"""

from __future__ import annotations

import dataclasses
import math

import torch
from torch import Tensor

from seqforecast._checks import check_int, resolve_device
from seqforecast.base import BaseForecaster, Forecaster, State
from seqforecast.data import SineStream
from seqforecast.history import History
from seqforecast.inference import predict, prime
from seqforecast.metrics import mse
from seqforecast.models import ConvForecaster, FeedForwardForecaster, RecurrentForecaster
from seqforecast.training import Trainer

__all__ = ["DemoResult", "causal_leak", "format_table", "next_step_mse", "run_demo", "sine_test_data"]


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
    model: BaseForecaster
    history: History
    seconds: float
    final_loss: float
    mse_cold: float
    mse_primed: float
    leak: float


def demo_models() -> dict[str, BaseForecaster]:
    """The notebook's three networks, the CNN made causal (seeded by the caller)."""
    return {
        "rnn": RecurrentForecaster(hidden_size=32, num_layers=3),
        "mlp": FeedForwardForecaster(hidden_sizes=(128,), window=1),
        "conv": ConvForecaster(channels=100, num_layers=2, kernel_size=3),
    }


def run_demo(
    steps: int = 300,
    batch_size: int = 16,
    *,
    device: torch.device | str = "auto",
    seed: int = 0,
    lr: float = 0.01,
    progress: bool = False,
) -> list[DemoResult]:
    """Train and score the three forecasters; return one result per model.

    Args:
        steps: Training windows per model.
        batch_size: Phase-shifted sine lanes per window.
        device: Where to train (``"auto"``: CUDA when available).
        seed: Seeds model initialisation and training.
        lr: Adam learning rate.
        progress: Show progress bars.

    Example:
        >>> from seqforecast.demo import run_demo
        >>> [r.name for r in run_demo(steps=2, batch_size=2, device="cpu")]
        ['rnn', 'mlp', 'conv']
    """
    steps = check_int("steps", steps)
    batch_size = check_int("batch_size", batch_size)
    target = resolve_device(device)
    torch.manual_seed(seed)
    results = []
    for name, model in demo_models().items():
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


def format_table(results: list[DemoResult]) -> str:
    """Render :func:`run_demo` results as a fixed-width text table."""
    header = ("model", "seconds", "final loss", "MSE cold", "MSE primed", "causal")
    rows = [
        (
            r.name,
            f"{r.seconds:.2f}",
            f"{r.final_loss:.2e}",
            f"{r.mse_cold:.2e}",
            f"{r.mse_primed:.2e}",
            "yes" if r.leak == 0.0 else f"NO (leak {r.leak:.2g})",
        )
        for r in results
    ]
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False)) for row in (header, *rows)]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)
