"""What training records: the :class:`History` and the divergence error."""

from __future__ import annotations

import dataclasses
from typing import Any

__all__ = ["History", "TrainingDivergedError"]


class TrainingDivergedError(RuntimeError):
    """The training loss became NaN or infinite.

    Raised by :meth:`Trainer.fit` after the model's weights and the
    optimizer's state have been restored to those of the last step whose loss
    was finite (on CUDA: of the last log point, see :class:`Trainer`).

    Attributes:
        step: The (0-based, global) step whose loss was not finite.
        loss: That loss.
        restored_step: The step whose weights were restored.

    Example:
        >>> import seqforecast as sf
        >>> infinite = lambda outputs, targets: ((outputs - targets) ** 2).mean() / 0.0
        >>> trainer = sf.Trainer(sf.FeedForwardForecaster(), loss=infinite, device="cpu")
        >>> try:
        ...     trainer.fit(sf.SineStream(), steps=5)
        ... except sf.TrainingDivergedError as error:
        ...     print(error.step, error.loss, error.restored_step)
        0 inf 0
    """

    def __init__(self, step: int, loss: float, restored_step: int) -> None:
        self.step = step
        self.loss = loss
        self.restored_step = restored_step
        super().__init__(
            f"training diverged: the loss at step {step} is {loss}; the weights of step "
            f"{restored_step} were restored. Lower `lr` or set `clip_grad_norm`."
        )


@dataclasses.dataclass
class History:
    """What :meth:`Trainer.fit` records, cumulative over calls.

    Attributes:
        losses: Training loss of every step, in order.
        val_steps: Steps (count of steps done) at which validation ran.
        val_losses: Mean validation loss at each of ``val_steps``.
        steps: Number of optimizer steps done.
        seconds: Wall time spent in :meth:`Trainer.fit`.
        interrupted: True when the last ``fit`` was stopped by Ctrl-C.

    Example:
        >>> import seqforecast as sf
        >>> trainer = sf.Trainer(sf.FeedForwardForecaster(), device="cpu", log_every=5)
        >>> history = trainer.fit(sf.SineStream(), steps=10, val_stream=sf.SineStream(num_windows=2))
        >>> len(history.losses), history.val_steps
        (10, [5, 10])
    """

    losses: list[float] = dataclasses.field(default_factory=list)
    val_steps: list[int] = dataclasses.field(default_factory=list)
    val_losses: list[float] = dataclasses.field(default_factory=list)
    steps: int = 0
    seconds: float = 0.0
    interrupted: bool = False

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable copy."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> History:
        """Inverse of :meth:`to_dict`."""
        return cls(**data)
