"""Losses kept on the device, read back at log points, and the roll-back when one is not finite."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor, nn

from seqforecast.training import _snapshot
from seqforecast.training.distributed import Distribution
from seqforecast.training.history import History, TrainingDivergedError

__all__ = ["DivergenceGuard"]


class DivergenceGuard:
    """Records each step's loss without a host sync and keeps the last good weights.

    On the CPU in one process (``check_each_step``) the loss is checked
    before each optimizer step, a read that costs nothing there, so the
    weights restored are those of the last finite step. Elsewhere the losses
    are read back and checked at log points (one sync), and the weights of
    the previous log point are restored.

    Args:
        module: The model's module, whose weights are snapshotted.
        optimizer: Its optimizer, whose state is snapshotted with them.
        history: Where the losses read back are appended (the trainer's
            :attr:`~seqforecast.Trainer.history` is this object).
        distribution: Averages the losses over ranks before they are read.
        check_each_step: Check every loss before its optimizer step.
        on_restore: Called after weights were restored (a CUDA graph must
            forget its capture).
    """

    def __init__(
        self,
        module: nn.Module,
        optimizer: torch.optim.Optimizer,
        history: History,
        distribution: Distribution,
        *,
        check_each_step: bool,
        on_restore: Callable[[], None],
    ) -> None:
        self.module = module
        self.optimizer = optimizer
        self.history = history
        self.distribution = distribution
        self.check_each_step = check_each_step
        self._on_restore = on_restore
        self._pending: list[Tensor] = []  # losses not yet read back from the device
        self._snapshot: _snapshot.Snapshot | None = None  # weights and optimizer state at the last log point

    def begin(self) -> None:
        """Start a ``fit``: snapshot the weights as they are now."""
        self._snapshot = _snapshot.take(self.module, self.optimizer, self.history.steps, self._snapshot)

    def check(self, loss: Tensor) -> None:
        """Before an optimizer step (CPU path): raise if ``loss`` is not finite, restoring what is needed.

        The weights are the last step's, unless that step's gradients were
        not finite (a finite loss can have them): then they are restored
        from the snapshot of the last log point.
        """
        if math.isfinite(loss.item()):  # a read on the CPU, no kernel
            return
        self.flush()
        step = restored = len(self.history.losses)
        snapshot = self._snapshot
        if snapshot is not None and not all(bool(torch.isfinite(p).all()) for p in self.module.parameters()):
            self._restore(snapshot)
            restored = snapshot.step
        raise TrainingDivergedError(step, float(loss.detach()), restored)

    def record(self, loss: Tensor, *, log_point: bool) -> None:
        """Keep ``loss`` (a 0-d device tensor); at a log point read back, check and snapshot."""
        self._pending.append(loss)
        if log_point:
            self.flush()
            self._snapshot = _snapshot.take(self.module, self.optimizer, self.history.steps, self._snapshot)

    def flush(self) -> None:
        """Read the pending losses back to the host (one sync) and check them."""
        if not self._pending:
            return
        values = self.distribution.mean(torch.stack(self._pending)).tolist()
        first = len(self.history.losses)
        self._pending.clear()
        for offset, value in enumerate(values):
            if not math.isfinite(value):
                snapshot = self._snapshot
                if snapshot is not None:
                    self._restore(snapshot)
                self.history.losses.extend(values[:offset])
                restored = snapshot.step if snapshot is not None else first + offset
                raise TrainingDivergedError(first + offset, value, restored)
        self.history.losses.extend(values)

    def discard(self) -> None:
        """Drop the pending losses (another rank may be inside a collective: read nothing more)."""
        self._pending.clear()

    def _restore(self, snapshot: _snapshot.Snapshot) -> None:
        _snapshot.restore(snapshot, self.module, self.optimizer)
        self._on_restore()
