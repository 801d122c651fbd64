"""An optional CUDA fast path: one training step captured as a CUDA graph.

A training step of a small forecaster launches many tiny kernels; on a GPU
their launch cost, not the arithmetic, sets the pace. Capturing the whole
step (forward, loss, backward, clipping, optimizer step) as a CUDA graph and
replaying it for every window of the same shape removes that cost.

The step is captured after a few ordinary warm-up steps on a side stream,
with the window, its targets and the carried state copied into static
buffers before each replay. Windows of another shape (a shorter last window)
run as ordinary steps. The optimizer must be capturable (the trainer's
default Adam is made so when graphs are on).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from seqforecast.base import State, state_like, state_tensors

__all__ = ["GraphedStep", "capture"]

StepFunction = Callable[[Tensor, Tensor, State], tuple[Tensor, State]]


def capture(body: Callable[[], tuple[Tensor, State]]) -> tuple[Any, tuple[Tensor, State]]:
    """Capture ``body`` as a CUDA graph; return the graph and its (static) outputs.

    Capturing records the kernels without running them.
    """
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        outputs = body()
    return graph, outputs


class GraphedStep:
    """Replays a captured training step for windows of one shape.

    Args:
        step: The ordinary step, ``step(x, y, state) -> (loss, new_state)``;
            it must run without host synchronisation.
        zero_state: ``zero_state(batch) -> State`` (a fresh start as tensors).
        batch_dim: The batch dimension of ``x`` (0 batch-first, 1 time-first).
        warmup: Ordinary steps on a side stream before the capture.
    """

    def __init__(
        self, step: StepFunction, zero_state: Callable[[int], State], *, batch_dim: int, warmup: int = 3
    ) -> None:
        self.step = step
        self.zero_state = zero_state
        self.batch_dim = batch_dim
        self.warmup = warmup
        self.graph: Any = None  # a torch.cuda.CUDAGraph once captured
        self._shape: tuple[torch.Size, torch.Size] | None = None
        self._seen = 0
        self._x = self._y = self._loss = torch.empty(0)
        self._state_in: tuple[Tensor, ...] = ()
        self._state_out: State = None

    def invalidate(self) -> None:
        """Forget the capture (after weights or optimizer state were replaced)."""
        self.graph = None
        self._shape = None
        self._seen = 0

    def __call__(self, x: Tensor, y: Tensor, state: State) -> tuple[Tensor, State]:
        shape = (x.shape, y.shape)
        if self._shape is None:
            self._shape = shape  # the first window's shape is the one captured
        if shape != self._shape:
            return self.step(x, y, state)  # another shape (a shorter last window): an ordinary step
        if self.graph is not None:
            return self._replay(x, y, state)
        if self._seen < self.warmup:
            self._seen += 1
            return self._on_side_stream(x, y, state)
        self._capture(x, y, state)
        return self._replay(x, y, state)

    def _on_side_stream(self, x: Tensor, y: Tensor, state: State) -> tuple[Tensor, State]:
        side = torch.cuda.Stream()  # type: ignore[no-untyped-call]
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            result = self.step(x, y, state)
        torch.cuda.current_stream().wait_stream(side)
        return result

    def _capture(self, x: Tensor, y: Tensor, state: State) -> None:
        self._x, self._y = x.clone(), y.clone()  # static buffers, refilled before every replay
        start = self.zero_state(x.shape[self.batch_dim]) if state is None else state
        self._state_in = tuple(t.clone() for t in state_tensors(start))
        self.graph, (self._loss, self._state_out) = capture(
            lambda: self.step(self._x, self._y, state_like(start, self._state_in))
        )

    def _replay(self, x: Tensor, y: Tensor, state: State) -> tuple[Tensor, State]:
        self._x.copy_(x)
        self._y.copy_(y)
        given = state_tensors(state)
        for buffer, value in zip(self._state_in, given or (None,) * len(self._state_in), strict=True):
            if value is None:
                buffer.zero_()  # a fresh start
            else:
                buffer.copy_(value)
        self.graph.replay()  # the captured kernels write into the same output tensors
        outputs = tuple(t.clone() for t in state_tensors(self._state_out))
        return self._loss.clone(), state_like(self._state_out, outputs)
