"""Refitting backtests: a copy of the forecaster trains on as the cutoffs advance.

A :class:`Refit` says how: before every ``every``-th cutoff, ``steps`` more
training windows on the data before that cutoff. :func:`refit_groups` runs
that schedule for :func:`~seqforecast.backtest`, which forecasts each group
of cutoffs with the copy as trained so far; the caller's model is left as
it is.
"""

from __future__ import annotations

import copy
import dataclasses
from typing import TYPE_CHECKING

from seqforecast._checks import check_int, describe
from seqforecast.data import ArrayStream, Stream
from seqforecast.panel import PanelStream
from seqforecast.training import Trainer, TrainerConfig

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from torch import Tensor

    from seqforecast.base import Forecaster

__all__ = ["Refit", "refit_groups"]


@dataclasses.dataclass(frozen=True)
class Refit:
    """How a refitting backtest trains on: every ``every`` cutoffs, ``steps`` more windows.

    At the first cutoff of each group of ``every``, a copy of the model
    continues training from its current weights on the data before that
    cutoff (a :class:`~seqforecast.Trainer` with ``config`` over an
    :class:`~seqforecast.ArrayStream` of ``seq_length``-step windows in
    ``batch_size`` lanes), then forecasts from the cutoffs of the group.
    Each refit costs ``steps`` training steps and one more pass over the
    series (the states must be rebuilt with the new weights). A model with
    covariates trains on a :class:`~seqforecast.PanelStream` whose targets
    are the first ``output_size`` features (one lane a series, up to
    ``batch_size`` lanes).

    Args:
        every: Cutoffs between refits, >= 1.
        steps: Training windows at each refit, >= 1.
        seq_length: Time steps per training window.
        batch_size: Lanes the data before the cutoff is cut into.
        config: The trainer's settings (default: ``TrainerConfig(device="cpu")``).

    Example:
        >>> import torch, seqforecast as sf
        >>> model = sf.FeedForwardForecaster(window=4, seed=0)
        >>> series = torch.sin(torch.arange(120.0) / 6)
        >>> refit = sf.Refit(every=5, steps=10, seq_length=8, config=sf.TrainerConfig(device="cpu", seed=0))
        >>> sf.backtest(model, series, 6, start=100, refit=refit).forecasts.shape
        torch.Size([15, 6, 1])
    """

    every: int
    steps: int = 50
    seq_length: int = 16
    batch_size: int = 1
    config: TrainerConfig = dataclasses.field(default_factory=lambda: TrainerConfig(device="cpu"))

    def __post_init__(self) -> None:
        for name in ("every", "steps", "seq_length", "batch_size"):
            check_int(name, getattr(self, name))
        given: object = self.config
        if not isinstance(given, TrainerConfig):
            msg = f"`config` must be a TrainerConfig, got {describe(given)}"
            raise TypeError(msg)

    def train(self, model: Forecaster, history: Tensor) -> None:
        """Continue training ``model`` on ``history`` (model layout), ``steps`` windows."""
        lanes = history if model.batch_first else history.transpose(0, 1)  # (B, T, F)
        stream: Stream
        if model.input_size > model.output_size:  # covariates: inputs only, the targets are the first features
            stream = PanelStream(
                list(lanes),
                self.seq_length,
                batch_size=self.batch_size,
                num_targets=model.output_size,
                batch_first=model.batch_first,
                device=history.device,
            )
        else:
            stream = ArrayStream(
                list(lanes),
                self.seq_length,
                batch_size=self.batch_size,
                batch_first=model.batch_first,
                device=history.device,
            )
        Trainer(model, self.config).fit(stream, steps=self.steps)


def refit_groups(
    refit: Refit, model: Forecaster, x: Tensor, cutoffs: Sequence[int]
) -> Iterator[tuple[Forecaster, Sequence[int]]]:
    """A copy of ``model`` trained before each group of ``refit.every`` cutoffs, with the cutoffs of the group.

    Before the first cutoff ``c`` of each group the copy trains on ``x[:c]``
    (``x`` in the model's layout), continuing from its weights after the
    previous group. It is one copy, trained further at each step of the
    iteration: forecast with it before asking for the next group.
    """
    time_dim = 1 if model.batch_first else 0
    trained = copy.deepcopy(model)  # the caller's model is left as it is
    for group in range(0, len(cutoffs), refit.every):
        refit.train(trained, x.narrow(time_dim, 0, cutoffs[group]))
        yield trained, cutoffs[group : group + refit.every]
