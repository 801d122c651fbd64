"""A tqdm progress bar for :meth:`Trainer.fit <seqforecast.Trainer.fit>`, as a callback."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from seqforecast.training.callbacks import Callback, TrainerView

if TYPE_CHECKING:
    from torch import Tensor

    from seqforecast.training.history import History

__all__ = ["ProgressBar"]


class ProgressBar(Callback):
    """Show a progress bar while training (in the main process only).

    The step count moves every step (a host-side counter, no device sync);
    the loss shown is refreshed at log points, when the losses are read
    back from the device anyway. ``Trainer(progress=True)`` adds one.

    Args:
        leave: Keep the finished bar on the screen.

    Example:
        >>> import seqforecast as sf
        >>> bar = sf.ProgressBar()
        >>> trainer = sf.Trainer(sf.FeedForwardForecaster(), device="cpu", callbacks=[bar])
        >>> trainer.fit(sf.SineStream(), steps=3).steps
        3
    """

    def __init__(self, *, leave: bool = False) -> None:
        self.leave = bool(leave)
        self._bar: Any = None

    def on_fit_start(self, trainer: TrainerView) -> None:
        if not trainer.is_main:
            return
        try:
            from tqdm.auto import tqdm
        except ImportError:
            msg = "a progress bar needs tqdm: pip install tqdm"
            raise ImportError(msg) from None
        self._bar = tqdm(total=trainer.planned_steps, unit="step", leave=self.leave)

    def on_step_end(self, trainer: TrainerView, step: int, loss: Tensor) -> None:
        if self._bar is None:
            return
        self._bar.update(1)
        if step % trainer.config.log_every == 0 and trainer.history.losses:
            self._bar.set_postfix(loss=f"{trainer.history.losses[-1]:.3g}", refresh=False)

    def on_fit_end(self, trainer: TrainerView, history: History) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
