"""The targets a head's loss can score, checked as windows arrive (a negative binomial head: counts).

Targets that a stream yields on the CPU are checked there, before they are
copied to the device: no device synchronisation. Targets a stream builds on
a GPU are checked on the device and the verdict is read back at the next log
point, where the losses are read back anyway, and at the end of the fit.
"""

from __future__ import annotations

import torch
from torch import Tensor

from seqforecast.heads import HeadLoss, check_counts

__all__ = ["TargetCheck"]


class TargetCheck:
    """Refuses targets the training loss cannot score.

    Only a negative binomial head's own loss restricts its targets (to
    non-negative integers); for every other loss the check does nothing.
    """

    def __init__(self, loss: object) -> None:
        self.active = isinstance(loss, HeadLoss) and loss.head.likelihood == "negative_binomial"
        self._pending: Tensor | None = None  # on the device: some target so far was not a count

    def __call__(self, targets: Tensor) -> None:
        """Check one window's targets: now if they are on the CPU, else at the next :meth:`flush`."""
        if not self.active:
            return
        if targets.device.type == "cpu":
            check_counts(targets)
            return
        bad = ((targets < 0) | (targets != torch.round(targets))).any()
        self._pending = bad if self._pending is None else self._pending | bad

    def flush(self) -> None:
        """Read the device-side verdict back (one sync) and raise if a target was not a count."""
        pending, self._pending = self._pending, None
        if pending is not None and bool(pending):
            msg = (
                "likelihood='negative_binomial' needs targets that are counts (non-negative integers), "
                "got a window with negative or fractional values; train on the raw counts (no Scaler) "
                "or use likelihood='gaussian'"
            )
            raise ValueError(msg)
