"""Training step time: ``Trainer.fit`` against the hand-written loop (and the notebook's loop).

Both sides train the same network (the hand-written one is a plain-PyTorch
copy of the forecaster) with Adam and MSE on windows of the same shape. The
hand-written loop runs over tensors built beforehand; ``Trainer.fit`` draws
its windows from a :class:`~seqforecast.SineStream`, as a user would, so
the stream's cost counts against the library.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

import torch

import seqforecast as sf
from benchmarks.baselines import HandState, NotebookLoop, hand_network, hand_train, prebuilt_windows
from benchmarks.report import Row
from benchmarks.timing import Timer, interleaved

__all__ = ["CASES", "CUDA_CASES", "StepCase", "notebook_step_row", "step_row"]

TARGET = 1.10


@dataclasses.dataclass(frozen=True)
class StepCase:
    """A forecaster and a batch size to time a training step of."""

    name: str
    build: Callable[[], sf.BaseForecaster]
    batch_size: int
    cuda_graphs: bool = False  # Trainer(cuda_graphs=True): CUDA only


CASES = (
    StepCase("notebook RNN, batch 1", sf.RecurrentForecaster, 1),
    StepCase("notebook RNN, batch 64", sf.RecurrentForecaster, 64),
    StepCase("LSTM, batch 1", lambda: sf.RecurrentForecaster(cell="lstm"), 1),
    StepCase("LSTM, batch 64", lambda: sf.RecurrentForecaster(cell="lstm"), 64),
    StepCase("causal CNN, batch 1", sf.ConvForecaster, 1),
    StepCase("causal CNN, batch 64", sf.ConvForecaster, 64),
)

CUDA_CASES = (  # the same steps replayed as CUDA graphs (the hand-written loop stays plain)
    StepCase("notebook RNN, batch 64, CUDA graphs", sf.RecurrentForecaster, 64, cuda_graphs=True),
    StepCase("LSTM, batch 64, CUDA graphs", lambda: sf.RecurrentForecaster(cell="lstm"), 64, cuda_graphs=True),
    StepCase("causal CNN, batch 64, CUDA graphs", sf.ConvForecaster, 64, cuda_graphs=True),
)


def _steps_for(seconds_per_step: float, budget: float) -> int:
    """Steps that fill about ``budget`` seconds, between 10 and 400."""
    return max(10, min(400, round(budget / max(seconds_per_step, 1e-6))))


def step_row(case: StepCase, device: torch.device, *, repeats: int, budget: float) -> Row:
    """Per-step time of ``Trainer.fit`` over the hand-written loop's, interleaved ``repeats`` times."""
    torch.manual_seed(0)
    model = case.build()
    net = hand_network(model).to(device)
    optimizer = torch.optim.Adam(net.parameters(), lr=0.01)
    trainer = sf.Trainer(model, lr=0.01, device=device, seed=0, cuda_graphs=case.cuda_graphs)
    stream = sf.SineStream(batch_size=case.batch_size, device=device, seed=0)

    warm = prebuilt_windows(case.batch_size, 10, device)
    state: list[HandState] = [hand_train(net, optimizer, warm, None)]
    trainer.fit(stream, steps=10)
    started = time.perf_counter()
    state[0] = hand_train(net, optimizer, warm, state[0])
    steps = _steps_for((time.perf_counter() - started) / len(warm), budget)
    windows = prebuilt_windows(case.batch_size, steps, device)

    def hand() -> float:
        with Timer(device) as timer:
            state[0] = hand_train(net, optimizer, windows, state[0])
        return timer.seconds / steps

    def library() -> float:
        with Timer(device) as timer:
            trainer.fit(stream, steps=steps)
        return timer.seconds / steps

    paired = interleaved(hand, library, repeats)
    return Row.from_paired(
        paired,
        group="training step",
        name=case.name,
        device=device.type,
        figure="Trainer.fit / hand-written",
        limit=TARGET,
        unit=(1e3, "ms/step"),
        extra=f", {steps} steps a repeat",
        details={"steps": steps, "hand_seconds": paired.baseline, "library_seconds": paired.candidate},
    )


def notebook_step_row(device: torch.device, *, repeats: int, budget: float) -> Row:
    """Per-step time of the notebook's loop over the hand-written loop's (context, no target)."""
    torch.manual_seed(0)
    model = sf.RecurrentForecaster()
    net = hand_network(model).to(device)
    optimizer = torch.optim.Adam(net.parameters(), lr=0.01)
    loop = NotebookLoop(device, seed=0)
    loop.train(10)
    warm = prebuilt_windows(1, 10, device)
    state: list[HandState] = [hand_train(net, optimizer, warm, None)]
    started = time.perf_counter()
    state[0] = hand_train(net, optimizer, warm, state[0])
    steps = _steps_for((time.perf_counter() - started) / len(warm), budget)
    windows = prebuilt_windows(1, steps, device)

    def hand() -> float:
        with Timer(device) as timer:
            state[0] = hand_train(net, optimizer, windows, state[0])
        return timer.seconds / steps

    def notebook() -> float:
        with Timer(device) as timer:
            loop.train(steps)
        return timer.seconds / steps

    paired = interleaved(hand, notebook, repeats)
    return Row.from_paired(
        paired,
        group="training step",
        name="notebook RNN, batch 1, the notebook's loop",
        device=device.type,
        figure="notebook loop / hand-written",
        limit=None,
        unit=(1e3, "ms/step"),
        extra=f", {steps} steps a repeat",
        details={"steps": steps, "hand_seconds": paired.baseline, "notebook_seconds": paired.candidate},
    )
