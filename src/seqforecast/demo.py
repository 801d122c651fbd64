"""The teaching notebook as a function: three forecasters on a sine wave.

:func:`run_demo` trains a recurrent network, the memory-less feed-forward
net and a causal convolutional net on :class:`~seqforecast.SineStream`, then
scores each on an unseen stretch of the wave, cold (no memory) and primed,
and checks that no output sees a later input.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
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
from seqforecast.training.callbacks import Callback
from seqforecast.training.history import History
from seqforecast.training.trainer import Trainer

__all__ = [
    "LEAK_STEP",
    "TABLE_HEADER",
    "DemoResult",
    "NotebookConv",
    "causal_leak",
    "demo_models",
    "format_table",
    "leak_profile",
    "leak_text",
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


LEAK_STEP = 40
"""The input of the test stretch that :func:`run_demo` changes to measure the causal leak."""


def leak_profile(model: Forecaster, sequence: Tensor, t: int) -> Tensor:
    """How much each output moves when input ``t`` alone is raised by 1.

    Output ``s`` forecasts input ``s + 1``, so in a causal model every output
    before ``t`` stays exactly where it was; outputs from ``t`` on may move.

    Args:
        model: A batch-first forecaster.
        sequence: ``(batch, time, F)``.
        t: The input to change, ``0 <= t < time``.

    Returns:
        ``(time,)``: the largest absolute change of each output (over the
        batch and the features).

    Example:
        >>> import torch, seqforecast as sf
        >>> from seqforecast.demo import leak_profile
        >>> profile = leak_profile(sf.ConvForecaster(channels=4, head_hidden=4), torch.randn(1, 20, 1), t=10)
        >>> profile.shape, float(profile[:10].max()), bool(profile[10] > 0)
        (torch.Size([20]), 0.0, True)
    """
    t = check_int("t", t, minimum=0)
    if t >= sequence.shape[1]:
        msg = f"`t` must be a time step of `sequence` (0 to {sequence.shape[1] - 1}), got {t}"
        raise ValueError(msg)
    moved = sequence.clone()
    moved[:, t] += 1.0
    before, _ = predict(model, sequence)
    after, _ = predict(model, moved)
    return (after - before).abs().amax(dim=(0, 2)).cpu()


def causal_leak(model: Forecaster, sequence: Tensor, t: int) -> float:
    """Largest change of an output before ``t`` when input ``t`` alone is raised by 1.

    The maximum of :func:`leak_profile` over the outputs before ``t``; a
    causal model gives exactly 0. ``sequence`` is ``(batch, time, F)``
    (batch-first models), ``1 <= t < time``.

    Example:
        >>> import torch, seqforecast as sf
        >>> from seqforecast.demo import causal_leak
        >>> causal_leak(sf.ConvForecaster(channels=4, head_hidden=4), torch.randn(1, 20, 1), t=10)
        0.0
    """
    t = check_int("t", t)
    return float(leak_profile(model, sequence, t)[:t].max())


@dataclasses.dataclass
class DemoResult:
    """One row of the demo table.

    Attributes:
        name: ``rnn``, ``mlp``, ``conv`` or ``conv-2sided``.
        model: The trained model.
        history: Its training history.
        seconds: Wall time of its training (varies with the machine and its load).
        final_loss: Training loss of the last window.
        mse_cold: Next-step MSE on the test stretch, starting with no memory.
        mse_primed: The same after priming on the 32 points before it.
        leak: :func:`causal_leak` on the test stretch at input :data:`LEAK_STEP`
            (0 for a causal model).
    """

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

    def reset_state(self, state: State, reset: Tensor) -> State:
        """No state to reset."""
        return None

    def forward(self, x: Tensor, state: State = None) -> tuple[Tensor, State]:
        """``x``: ``(batch, time, 1)`` → ``(batch, time, 1)``, and no state."""
        slope = self.negative_slope
        h = F.leaky_relu(self.conv1(x.transpose(1, 2)), slope)  # (B, 100, T): sees t - 1, t, t + 1
        h = F.leaky_relu(self.conv2(h), slope).transpose(1, 2)  # (B, T, 100): sees t - 2 .. t + 2
        return F.leaky_relu(self.out(F.leaky_relu(self.hidden(h), slope)), slope), None

    def __call__(self, x: Tensor, state: State = None) -> tuple[Tensor, State]:
        return cast("tuple[Tensor, State]", super().__call__(x, state))


_BUILDERS: dict[str, Callable[[], Forecaster]] = {
    "rnn": lambda: RecurrentForecaster(hidden_size=32, num_layers=3),
    "mlp": lambda: FeedForwardForecaster(hidden_sizes=(128,), window=1),
    "conv": lambda: ConvForecaster(channels=100, num_layers=2, kernel_size=3),
    "conv-2sided": NotebookConv,
}


def demo_models(*, notebook_conv: bool = True, seed: int | None = None) -> dict[str, Forecaster]:
    """The notebook's networks, its CNN made causal, and (optionally) its original CNN.

    With a ``seed``, each model's initial weights come from torch's generator
    seeded with it just before that model is built (the caller's generator is
    left as it was), so they do not depend on which other models are built.

    Example:
        >>> import torch, seqforecast as sf
        >>> from seqforecast.demo import demo_models
        >>> _ = torch.manual_seed(0)
        >>> alone = sf.ConvForecaster(channels=100, num_layers=2, kernel_size=3)
        >>> built = demo_models(seed=0)["conv"]  # built after the RNN and the MLP
        >>> all(torch.equal(a, b) for a, b in zip(alone.parameters(), built.parameters()))
        True
    """
    models: dict[str, Forecaster] = {}
    for name, build in _BUILDERS.items():
        if name == "conv-2sided" and not notebook_conv:
            continue
        if seed is None:
            models[name] = build()
            continue
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            models[name] = build()
    return models


class _CosineDecay(Callback):
    """Lower the learning rate from ``lr`` to ``lr * final`` along half a cosine over ``steps`` steps.

    With a constant Adam learning rate of 0.01, the RNN's loss falls to about
    3e-5 and then, near step 200, climbs a thousand-fold in ten steps and
    recovers: Adam's steps stay about ``lr`` in size however small the
    gradients become, and once the loss is that low they overshoot; the
    gradient norm doubles at every step, from 5e-4 to 1, before the loss
    shows it (a gradient clip of 1 never engages). A learning rate that
    shrinks as training converges removes the spike.
    """

    def __init__(self, lr: float, steps: int, final: float = 0.01) -> None:
        self.lr, self.steps, self.final = lr, steps, final
        self.done = 0

    def on_step_end(self, trainer: Any, step: int, loss: Tensor) -> None:
        self.done += 1
        progress = min(self.done, self.steps) / self.steps
        scale = self.final + (1.0 - self.final) * 0.5 * (1.0 + math.cos(math.pi * progress))
        for group in trainer.optimizer.param_groups:
            group["lr"] = self.lr * scale


def run_demo(
    steps: int = 300,
    batch_size: int = 16,
    *,
    device: torch.device | str = "auto",
    seed: int = 0,
    lr: float = 0.01,
    lr_decay: bool = True,
    threads: int | None = 1,
    progress: bool = False,
    notebook_conv: bool = True,
) -> list[DemoResult]:
    """Train and score the forecasters; return one result per model.

    The models are the notebook's RNN (``rnn``), its memory-less MLP
    (``mlp``), its CNN made causal (``conv``) and, with ``notebook_conv``, its
    original two-sided CNN (``conv-2sided``), whose good scores come from
    seeing the next input: the causality column flags it.

    Each model is trained with Adam on ``steps`` windows of ``batch_size``
    phase-shifted sine lanes; its weights and its training are seeded with
    ``seed`` whatever other models are trained, and torch runs on
    ``threads`` threads (restored afterwards), so the losses and errors do
    not depend on the number of cores. They can still differ in the last
    digits on another kind of CPU (other vector instructions, other rounding)
    and on CUDA. The caller's random generator is left as it was.

    Args:
        steps: Training windows per model.
        batch_size: Phase-shifted sine lanes per window.
        device: Where to train (``"auto"``: CUDA when available).
        seed: Seeds each model's initial weights and its training.
        lr: Adam's learning rate at the start.
        lr_decay: Lower the learning rate along half a cosine to ``lr / 100``
            at the last step. With a constant rate the RNN's loss jumps about
            a thousand-fold late in training: Adam's steps stay about ``lr``
            in size while the gradients shrink, and overshoot once the loss
            is small.
        threads: Torch's CPU threads during the demo (``None``: leave the
            setting alone). One thread makes the results the same on any
            number of cores.
        progress: Show progress bars.
        notebook_conv: Also train the notebook's two-sided CNN.

    Returns:
        One :class:`DemoResult` per model, in the order above.

    Example:
        >>> import torch
        >>> from seqforecast.demo import run_demo
        >>> threads = torch.get_num_threads()
        >>> results = run_demo(steps=2, batch_size=2, device="cpu")
        >>> [r.name for r in results], torch.get_num_threads() == threads
        (['rnn', 'mlp', 'conv', 'conv-2sided'], True)
    """
    steps = check_int("steps", steps)
    batch_size = check_int("batch_size", batch_size)
    threads = None if threads is None else check_int("threads", threads)
    target = resolve_device(device)
    previous_threads = torch.get_num_threads()
    results = []
    with torch.random.fork_rng(devices=[]):
        try:
            if threads is not None:
                torch.set_num_threads(threads)
            for name, model in demo_models(notebook_conv=notebook_conv, seed=seed).items():
                callbacks = [_CosineDecay(lr, steps)] if lr_decay else []
                trainer = Trainer(model, lr=lr, device=target, seed=seed, progress=progress, callbacks=callbacks)
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
                        leak=causal_leak(model, test, t=LEAK_STEP),
                    )
                )
        finally:
            torch.set_num_threads(previous_threads)
    return results


TABLE_HEADER = ("model", "seconds", "final loss", "MSE cold", "MSE primed", "causal")


def leak_text(leak: float) -> str:
    """A causal leak as the table and the report print it (two significant digits).

    Example:
        >>> from seqforecast.demo import leak_text
        >>> leak_text(0.5312)
        '0.53'
    """
    return f"{leak:.2g}"


def table_row(result: DemoResult) -> tuple[str, ...]:
    """One result as the cells of :data:`TABLE_HEADER`."""
    causal = "yes" if result.leak == 0.0 else f"NO (leak {leak_text(result.leak)})"
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
