"""Stateful training: the :class:`Trainer` loop, its configuration, callbacks and history."""

from seqforecast.training.callbacks import Callback, EarlyStopping, ModelCheckpoint
from seqforecast.training.history import History, TrainingDivergedError
from seqforecast.training.trainer import Trainer

__all__ = ["Callback", "EarlyStopping", "History", "ModelCheckpoint", "Trainer", "TrainingDivergedError"]
