"""Stateful training: the :class:`Trainer` loop, its configuration, callbacks and history.

Modules, top to bottom: :mod:`~seqforecast.training.trainer` (the loop),
:mod:`~seqforecast.training.config` (:class:`TrainerConfig`),
:mod:`~seqforecast.training.callbacks` and :mod:`~seqforecast.training.progress`
(hooks, typed on :class:`TrainerView`), :mod:`~seqforecast.training.guard`
(device-side losses, divergence snapshots), :mod:`~seqforecast.training.cursor`
(stream position), :mod:`~seqforecast.training.distributed`,
:mod:`~seqforecast.training.cuda_graphs` and :mod:`~seqforecast.training.history`.
"""

from seqforecast.training.callbacks import Callback, EarlyStopping, ModelCheckpoint, TrainerView
from seqforecast.training.config import TrainerConfig
from seqforecast.training.history import History, TrainingDivergedError
from seqforecast.training.progress import ProgressBar
from seqforecast.training.trainer import Trainer

__all__ = [
    "Callback",
    "EarlyStopping",
    "History",
    "ModelCheckpoint",
    "ProgressBar",
    "Trainer",
    "TrainerConfig",
    "TrainerView",
    "TrainingDivergedError",
]
