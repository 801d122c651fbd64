"""Reading a saved run back: its settings, its weights into a model, its optimizer."""

from __future__ import annotations

import inspect
import os
from typing import Any, cast

import torch
from torch import nn

from seqforecast.base import BaseForecaster, Forecaster
from seqforecast.checkpoint import Checkpoint, CheckpointError
from seqforecast.training.config import TrainerConfig

__all__ = ["RESUMABLE_CHANGES", "load_weights", "rebuild_optimizer", "saved_config"]

RESUMABLE_CHANGES = frozenset({"device", "threads", "distributed", "cuda_graphs"})
"""Settings a resumed run may change: where and how it runs, not what it computes."""


def saved_config(path: str | os.PathLike[str], state: dict[str, Any], changes: dict[str, Any]) -> TrainerConfig:
    """The run's :class:`TrainerConfig` from its trainer state, with ``changes`` applied.

    ``distributed`` is not carried over: unless ``changes`` sets it, the
    resumed run is distributed when a process group is initialised.

    Raises:
        CheckpointError: The stored settings are not a valid configuration.
        TypeError: ``changes`` names a setting a resumed run cannot change.
    """
    refused = sorted(set(changes) - RESUMABLE_CHANGES)
    if refused:
        msg = f"a resumed run keeps its saved settings; only {sorted(RESUMABLE_CHANGES)} can change, got {refused}"
        raise TypeError(msg)
    try:
        config = TrainerConfig.from_dict(state["config"])
    except (KeyError, TypeError, ValueError) as error:
        msg = f"{os.fspath(path)} holds invalid trainer settings: {error}"
        raise CheckpointError(msg) from None
    # the process group is the launcher's: a run saved under torchrun resumes distributed when one exists
    return config.replace(**{"distributed": None, **changes})


def load_weights(saved: Checkpoint, model: Forecaster) -> None:
    """Copy the checkpoint's weights into ``model``, naming what differs when they do not fit.

    Raises:
        ValueError: ``model`` is of another class or has other sizes.
    """
    saved_model = cast("nn.Module", saved.model)
    module = cast("nn.Module", model)
    saved_class, given_class = type(saved_model).__name__, type(module).__name__
    if saved_class != given_class:
        msg = f"`model` is a {given_class} but the checkpoint holds a {saved_class}: pass a {saved_class} or model=None"
        raise ValueError(msg)
    saved_config, given_config = _config_dict(saved_model), _config_dict(module)
    differences = [
        f"{key}={given_config.get(key)!r} (saved: {value!r})"
        for key, value in saved_config.items()
        if given_config.get(key) != value
    ]
    expected = {name: tuple(t.shape) for name, t in saved_model.state_dict().items()}
    given = {name: tuple(t.shape) for name, t in module.state_dict().items()}
    if not differences and expected != given:
        differences = [
            f"{name} {given.get(name, 'missing')} (saved: {expected.get(name, 'missing')})"
            for name in sorted(set(expected) | set(given))
            if expected.get(name) != given.get(name)
        ]
    if differences:
        msg = f"`model` does not match the checkpoint's {saved_class}: {', '.join(differences)}"
        raise ValueError(msg)
    module.load_state_dict(saved_model.state_dict())


def _config_dict(module: nn.Module) -> dict[str, Any]:
    return module.config.to_dict() if isinstance(module, BaseForecaster) else {}


def rebuild_optimizer(name: object, module: nn.Module, lr: float) -> torch.optim.Optimizer:
    """An optimizer of the class ``name`` from ``torch.optim`` over ``module``'s parameters.

    Raises:
        ValueError: ``name`` is not an optimizer of ``torch.optim``, or its
            ``step`` needs a closure (the Trainer calls ``step()`` alone).
    """
    found = getattr(torch.optim, name, None) if isinstance(name, str) else None
    known = isinstance(found, type) and issubclass(found, torch.optim.Optimizer)
    if not known or found is None:
        msg = f"the run used optimizer {name!r}, which is not in torch.optim: pass `optimizer=` to resume it"
        raise ValueError(msg)
    closure = inspect.signature(found.step).parameters.get("closure")
    if closure is not None and closure.default is inspect.Parameter.empty:
        msg = f"the run names optimizer {name!r}, whose step() needs a closure, which Trainer does not use"
        raise ValueError(msg)
    return cast("torch.optim.Optimizer", cast("Any", found)(module.parameters(), lr=lr))
