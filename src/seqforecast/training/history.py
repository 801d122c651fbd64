"""What training records: the :class:`History` and the divergence error."""

from __future__ import annotations

import dataclasses
import math
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

    def __repr__(self) -> str:
        """A one-line summary: steps, first, last and best loss, seconds (the full data stay in the fields).

        Example:
            >>> import seqforecast as sf
            >>> sf.History(losses=[0.5, 0.02, 0.03], val_steps=[3], val_losses=[0.04], steps=3, seconds=1.25)
            History(steps=3, loss 0.5 -> 0.03 (best 0.02 at step 2), validation 0.04 at step 3, 1.2 s)
        """
        parts = [f"steps={self.steps}"]
        if self.losses:
            loss = f"loss {self.losses[0]:.3g} -> {self.losses[-1]:.3g}"
            finite = [i for i, value in enumerate(self.losses) if math.isfinite(value)]
            if finite:
                best = min(finite, key=self.losses.__getitem__)
                loss += f" (best {self.losses[best]:.3g} at step {best + 1})"
            parts.append(loss)
        if self.val_losses:
            parts.append(f"validation {self.val_losses[-1]:.3g} at step {self.val_steps[-1]}")
        parts.append(f"{self.seconds:.1f} s")
        if self.interrupted:
            parts.append("interrupted")
        return f"History({', '.join(parts)})"

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable copy."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> History:
        """Inverse of :meth:`to_dict`."""
        return cls(**data)
