"""Training step time: ``Trainer.fit`` against the hand-written loop (and the notebook's loop).

Both sides train the same network (the hand-written one is a plain-PyTorch
copy of the forecaster) with Adam and MSE on windows of the same shape. The
hand-written loop runs over tensors built beforehand; ``Trainer.fit`` draws
its windows from a :class:`~seqforecast.SineStream`, as a user would, so
the stream's cost counts against the library.

The hand-written loop uses ``torch.optim.Adam`` as users write it (torch's
default implementation: on the CPU, a loop over the parameters). The
Trainer's default optimizer is the multi-tensor (``foreach``) Adam, which is
faster there. The "same optimizer" rows give the hand-written loop that Adam
too, so that they measure the Trainer's own cost and nothing else.
"""

from __future__ import annotations

import dataclasses
import functools
import time
from collections.abc import Callable

import torch
from torch import nn

import seqforecast as sf
from benchmarks.baselines import HandState, NotebookLoop, hand_network, hand_train, prebuilt_windows
from benchmarks.report import Pending, Row
from benchmarks.timing import Timer

__all__ = ["CASES", "CUDA_CASES", "LIKE_FOR_LIKE", "StepCase", "prepare_notebook_step", "prepare_step"]

TARGET = 1.10
LOG_EVERY = 25  # the Trainer's default, given explicitly


@dataclasses.dataclass(frozen=True)
class StepCase:
    """A forecaster and a batch size to time a training step of."""

    name: str
    build: Callable[[], sf.BaseForecaster]
    batch_size: int
    cuda_graphs: bool = False  # Trainer(cuda_graphs=True): CUDA only
    same_optimizer: bool = False  # the hand-written loop uses the Trainer's foreach Adam too (context, no target)


CASES = (
    StepCase("notebook RNN, batch 1", sf.RecurrentForecaster, 1),
    StepCase("notebook RNN, batch 64", sf.RecurrentForecaster, 64),
    StepCase("LSTM, batch 1", lambda: sf.RecurrentForecaster(cell="lstm"), 1),
    StepCase("LSTM, batch 64", lambda: sf.RecurrentForecaster(cell="lstm"), 64),
    StepCase("causal CNN, batch 1", sf.ConvForecaster, 1),
    StepCase("causal CNN, batch 64", sf.ConvForecaster, 64),
)

LIKE_FOR_LIKE = (  # the Trainer's own cost alone: both sides run the same multi-tensor Adam
    StepCase("notebook RNN, batch 1, same optimizer", sf.RecurrentForecaster, 1, same_optimizer=True),
    StepCase("LSTM, batch 1, same optimizer", lambda: sf.RecurrentForecaster(cell="lstm"), 1, same_optimizer=True),
    StepCase("causal CNN, batch 1, same optimizer", sf.ConvForecaster, 1, same_optimizer=True),
)

CUDA_CASES = (  # the same steps replayed as CUDA graphs (the hand-written loop stays plain)
    StepCase("notebook RNN, batch 64, CUDA graphs", sf.RecurrentForecaster, 64, cuda_graphs=True),
    StepCase("LSTM, batch 64, CUDA graphs", lambda: sf.RecurrentForecaster(cell="lstm"), 64, cuda_graphs=True),
    StepCase("causal CNN, batch 64, CUDA graphs", sf.ConvForecaster, 64, cuda_graphs=True),
)


def _steps_for(seconds_per_step: float, budget: float) -> int:
    """Steps that fill about ``budget`` seconds: whole log intervals, 1 to 16 of them.

    Every repeat then reads the losses back and refreshes the divergence
    snapshot the same number of times, as a long run does once per interval.
    """
    intervals = round(budget / max(seconds_per_step, 1e-6) / LOG_EVERY)
    return LOG_EVERY * max(1, min(16, intervals))


def _hand_side(
    net: nn.Module, optimizer: torch.optim.Optimizer, batch_size: int, device: torch.device, budget: float
) -> tuple[Callable[[], float], int]:
    """The hand-written loop as a timed callable (seconds per step), and its steps a repeat."""
    warm = prebuilt_windows(batch_size, 10, device)
    state: list[HandState] = [hand_train(net, optimizer, warm, None)]
    started = time.perf_counter()
    state[0] = hand_train(net, optimizer, warm, state[0])
    steps = _steps_for((time.perf_counter() - started) / len(warm), budget)
    windows = prebuilt_windows(batch_size, steps, device)

    def hand() -> float:
        with Timer(device) as timer:
            state[0] = hand_train(net, optimizer, windows, state[0])
        return timer.seconds / steps

    return hand, steps


def prepare_step(case: StepCase, device: torch.device, *, budget: float) -> Pending:
    """Per-step time of ``Trainer.fit`` over the hand-written loop's."""
    torch.manual_seed(0)
    model = case.build()
    net = hand_network(model).to(device)
    # what a user writes (torch's default Adam), or the Trainer's own default optimizer (foreach)
    optimizer = torch.optim.Adam(net.parameters(), lr=0.01, foreach=True if case.same_optimizer else None)
    trainer = sf.Trainer(model, lr=0.01, device=device, seed=0, log_every=LOG_EVERY, cuda_graphs=case.cuda_graphs)
    stream = sf.SineStream(batch_size=case.batch_size, device=device, seed=0)
    trainer.fit(stream, steps=LOG_EVERY)  # warm-up, ending at a log point like every repeat
    hand, steps = _hand_side(net, optimizer, case.batch_size, device, budget)

    def library() -> float:
        with Timer(device) as timer:
            trainer.fit(stream, steps=steps)
        return timer.seconds / steps

    to_row = functools.partial(
        Row.from_paired,
        group="training step",
        name=case.name,
        device=device.type,
        figure="Trainer.fit / hand-written" + (", same Adam" if case.same_optimizer else ""),
        limit=None if case.same_optimizer else TARGET,
        unit=(1e3, "ms/step"),
        extra=f", {steps} steps a repeat",
        sides=("hand_seconds", "library_seconds"),
        details={"steps": steps},
    )
    return Pending(hand, library, to_row)


def prepare_notebook_step(device: torch.device, *, budget: float) -> Pending:
    """Per-step time of the notebook's loop over the hand-written loop's (context, no target)."""
    torch.manual_seed(0)
    net = hand_network(sf.RecurrentForecaster()).to(device)
    optimizer = torch.optim.Adam(net.parameters(), lr=0.01)
    loop = NotebookLoop(device, seed=0)
    loop.train(10)
    hand, steps = _hand_side(net, optimizer, 1, device, budget)

    def notebook() -> float:
        with Timer(device) as timer:
            loop.train(steps)
        return timer.seconds / steps

    to_row = functools.partial(
        Row.from_paired,
        group="training step",
        name="notebook RNN, batch 1, the notebook's loop",
        device=device.type,
        figure="notebook loop / hand-written",
        limit=None,
        unit=(1e3, "ms/step"),
        extra=f", {steps} steps a repeat",
        sides=("hand_seconds", "notebook_seconds"),
        details={"steps": steps},
    )
    return Pending(hand, notebook, to_row)
