"""Hooks into :meth:`Trainer.fit <seqforecast.Trainer.fit>`: the protocols and built-ins.

Callbacks see the trainer through :class:`TrainerView`, the few members a
hook may use, so this module does not depend on the Trainer itself.
"""

from __future__ import annotations

import copy
import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from seqforecast._checks import check_float, check_int

if TYPE_CHECKING:
    import torch
    from torch import Tensor, nn

    from seqforecast.base import Forecaster, State
    from seqforecast.training.config import TrainerConfig
    from seqforecast.training.history import History

__all__ = ["Callback", "EarlyStopping", "ModelCheckpoint", "TrainerView"]


class TrainerView(Protocol):
    """What a callback may use of the :class:`~seqforecast.Trainer` that calls it.

    Annotate your hooks' ``trainer`` argument with this type (the Trainer
    satisfies it).

    Attributes:
        should_stop: Set it to True to end ``fit`` after the current step.
    """

    should_stop: bool

    @property
    def model(self) -> Forecaster:
        """The forecaster being trained."""
        ...

    @property
    def module(self) -> nn.Module:
        """The same forecaster, typed as a module (for ``state_dict()``)."""
        ...

    @property
    def optimizer(self) -> torch.optim.Optimizer:
        """The optimizer."""
        ...

    @property
    def config(self) -> TrainerConfig:
        """The run's settings."""
        ...

    @property
    def history(self) -> History:
        """Losses so far (read back from the device at log points)."""
        ...

    @property
    def state(self) -> State:
        """The state carried out of the last window."""
        ...

    @property
    def val_every(self) -> int | None:
        """Steps between validation passes in this ``fit`` (None: no validation)."""
        ...

    @property
    def planned_steps(self) -> int:
        """Steps this ``fit`` call will take unless stopped."""
        ...

    @property
    def is_main(self) -> bool:
        """True in the process that logs and writes files (always, in one process)."""
        ...

    def save_checkpoint(self, path: str | os.PathLike[str], **kwargs: Any) -> None:
        """Save the model and everything needed to resume."""
        ...


@runtime_checkable
class Callback(Protocol):
    """Hooks called by :meth:`Trainer.fit`; subclass and override what you need.

    A callback stops training by setting ``trainer.should_stop = True``.

    Example:
        >>> import seqforecast as sf
        >>> class StopAfter(sf.Callback):
        ...     def __init__(self, steps: int) -> None:
        ...         self.steps = steps
        ...
        ...     def on_step_end(self, trainer, step, loss):
        ...         if step >= self.steps:
        ...             trainer.should_stop = True
        >>> trainer = sf.Trainer(sf.FeedForwardForecaster(), device="cpu", callbacks=[StopAfter(5)])
        >>> trainer.fit(sf.SineStream(), steps=100).steps
        5
    """

    def on_fit_start(self, trainer: TrainerView) -> None:
        """Called once before the first step of a ``fit`` call."""
        return

    def on_step_end(self, trainer: TrainerView, step: int, loss: Tensor) -> None:
        """Called after each optimizer step; ``loss`` is a 0-d device tensor.

        Reading ``loss`` (``float(loss)``) synchronises with the device.
        """
        return

    def on_validation_end(self, trainer: TrainerView, step: int, val_loss: float) -> None:
        """Called after each validation pass."""
        return

    def on_fit_end(self, trainer: TrainerView, history: History) -> None:
        """Called once when ``fit`` ends: after its last step, an interrupt (Ctrl-C), or an error.

        After an error, ``trainer.history`` holds the steps that were done and
        the error goes on once the hooks have run (in one process only: in a
        distributed run the other ranks may be waiting in a collective).
        """
        return


class EarlyStopping(Callback):
    """Stop when the validation loss stops improving.

    Args:
        patience: Validation passes without improvement before stopping.
        min_delta: Smallest decrease that counts as an improvement.
        restore_best: Put back the weights of the best validation pass.

    Example:
        >>> import seqforecast as sf
        >>> stop = sf.EarlyStopping(patience=2)
        >>> stop.best
        inf
    """

    def __init__(self, patience: int = 5, min_delta: float = 0.0, *, restore_best: bool = True) -> None:
        self.patience = check_int("patience", patience)
        self.min_delta = check_float("min_delta", min_delta, low=0.0)
        self.restore_best = restore_best
        self.best = math.inf
        self.best_step = -1
        self.waited = 0
        self._best_weights: dict[str, Tensor] | None = None

    def on_fit_start(self, trainer: TrainerView) -> None:
        if trainer.val_every is None:
            msg = "EarlyStopping needs validation: pass `val_stream` to Trainer.fit"
            raise ValueError(msg)

    def on_validation_end(self, trainer: TrainerView, step: int, val_loss: float) -> None:
        if val_loss < self.best - self.min_delta:
            self.best, self.best_step, self.waited = val_loss, step, 0
            if self.restore_best:
                self._best_weights = copy.deepcopy(trainer.module.state_dict())
            return
        self.waited += 1
        if self.waited >= self.patience:
            trainer.should_stop = True

    def on_fit_end(self, trainer: TrainerView, history: History) -> None:
        if self.restore_best and self._best_weights is not None:
            trainer.module.load_state_dict(self._best_weights)


class ModelCheckpoint(Callback):
    """Write a resumable checkpoint during training.

    With ``every``, the latest state is written every ``every`` steps and
    when ``fit`` ends (also after Ctrl-C). With ``best=True``, a checkpoint is
    written whenever the validation loss improves. Each write is atomic.

    Args:
        path: The checkpoint file; its folder must exist.
        every: Steps between checkpoints, or None.
        best: Write on each new best validation loss.

    Example:
        >>> import pathlib, tempfile, seqforecast as sf
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "latest.safetensors"
        >>> trainer = sf.Trainer(sf.FeedForwardForecaster(), device="cpu", callbacks=[sf.ModelCheckpoint(path, every=5)])
        >>> _ = trainer.fit(sf.SineStream(), steps=12)
        >>> sf.load(path).trainer_state["history"]["steps"]
        12
    """

    def __init__(self, path: str | os.PathLike[str], *, every: int | None = None, best: bool = False) -> None:
        self.path = Path(path)
        if not self.path.parent.is_dir():
            msg = f"`path` must be in an existing folder, got {str(path)!r} (no folder {str(self.path.parent)!r})"
            raise ValueError(msg)
        if self.path.is_dir():
            msg = f"`path` must be a file name, got the folder {str(path)!r}"
            raise ValueError(msg)
        self.every = None if every is None else check_int("every", every)
        self.best = bool(best)
        if self.every is None and not self.best:
            msg = "ModelCheckpoint needs `every` (steps between checkpoints) or `best=True`"
            raise ValueError(msg)
        self.best_loss = math.inf

    def on_step_end(self, trainer: TrainerView, step: int, loss: Tensor) -> None:
        if self.every is not None and step % self.every == 0:
            trainer.save_checkpoint(self.path)

    def on_validation_end(self, trainer: TrainerView, step: int, val_loss: float) -> None:
        if self.best and val_loss < self.best_loss:
            self.best_loss = val_loss
            trainer.save_checkpoint(self.path)

    def on_fit_end(self, trainer: TrainerView, history: History) -> None:
        if self.every is not None:
            trainer.save_checkpoint(self.path)
