"""The file of an :class:`~seqforecast.AutoForecaster`: one safetensors checkpoint.

The chosen model and its scaler are stored as any checkpoint's
(:func:`~seqforecast.save`); the estimator's settings and everything it
fitted besides (transform, choice, scores, the last values and the model's
state after the data last seen, interval calibration, panel recipe) are JSON
under the metadata key ``"auto"``, whose ``"format"`` marks the file as an
AutoForecaster's. The keys stay as they are, so that files written by
earlier versions still load; a key added later is read with a default.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import Tensor

from seqforecast._auto_candidates import _Score
from seqforecast._auto_intervals import IntervalCalibration
from seqforecast._auto_panel import PanelRecipe
from seqforecast._auto_transforms import Transform
from seqforecast.base import state_tensors
from seqforecast.checkpoint import load, save
from seqforecast.transforms import Scaler

if TYPE_CHECKING:
    import os

    from seqforecast.auto import AutoForecaster
    from seqforecast.base import BaseForecaster, State

__all__ = ["read", "write"]

_FORMAT = "seqforecast.AutoForecaster"


def _state_to_json(state: State) -> Any:
    if state is None:
        return None
    tensors = state_tensors(state)
    return {
        "tuple": not isinstance(state, Tensor),
        "tensors": [{"shape": list(t.shape), "values": t.detach().cpu().reshape(-1).tolist()} for t in tensors],
    }


def _state_from_json(data: Any) -> State:
    if data is None:
        return None
    tensors = tuple(torch.tensor(t["values"], dtype=torch.float32).reshape(t["shape"]) for t in data["tensors"])
    return tensors if data["tuple"] else tensors[0]


def write(
    est: AutoForecaster, model: BaseForecaster, path: str | os.PathLike[str], metadata: dict[str, Any] | None
) -> None:
    """Save ``est`` (fitted, its model ``model``) to ``path``, with the user's ``metadata`` beside its own."""
    extra = dict(metadata or {})
    if "auto" in extra:
        msg = "`metadata` must not use the key 'auto': it holds the AutoForecaster's own settings"
        raise ValueError(msg)
    info = {
        "format": _FORMAT,
        "seed": est.seed,
        "season": est.season,
        "val_fraction": est.val_fraction,
        "steps": est.steps,
        "models": list(est.models),
        "difference": est._transform.difference,
        "transform_season": est._transform.season,
        "choice": est.choice_,
        "scores": [[s.name, s.mse] for s in est.scores_],
        "naive_mse": est.naive_mse_,
        "seasonal_naive_mse": est.seasonal_naive_mse_,
        "features": est._features,
        "tail": est._tail.tolist(),
        "state": _state_to_json(est._state),
        "next": None if est._next is None else est._next.tolist(),
        "intervals": None if est._intervals is None else est._intervals.to_json(),
        "panel": None if est._panel is None else est._panel.to_json(),
    }
    save(path, model, scaler=est._scaler, metadata={**extra, "auto": info})


def read(cls: type[AutoForecaster], path: str | os.PathLike[str]) -> AutoForecaster:
    """An estimator of class ``cls`` as :func:`write` saved it to ``path``."""
    checkpoint = load(path)
    info = checkpoint.metadata.get("auto")
    if not isinstance(info, dict) or info.get("format") != _FORMAT:
        msg = f"{Path(path)} holds a plain model, not an AutoForecaster; load it with seqforecast.load"
        raise ValueError(msg)
    est = cls(
        info["seed"],
        season=info["season"],
        val_fraction=info["val_fraction"],
        steps=info["steps"],
        models=tuple(info["models"]),
    )
    est.model_ = checkpoint.model
    est.metadata = {k: v for k, v in checkpoint.metadata.items() if k != "auto"}
    est._scaler = checkpoint.scaler or Scaler()
    est._transform = Transform(bool(info["difference"]), int(info["transform_season"]))
    est.choice_ = info["choice"]
    est.scores_ = [_Score(str(n), float(m)) for n, m in info["scores"]]
    est.naive_mse_ = float(info["naive_mse"])
    est.seasonal_naive_mse_ = info["seasonal_naive_mse"]
    est._features = int(info["features"])
    est._tail = np.asarray(info["tail"], dtype=np.float64).reshape(-1, est._features)
    est._state = _state_from_json(info["state"])
    est._next = None if info["next"] is None else np.asarray(info["next"], dtype=np.float64)
    est._intervals = IntervalCalibration.from_json(info.get("intervals"))
    est._panel = PanelRecipe.from_json(info["panel"], checkpoint.model) if info.get("panel") else None
    return est
