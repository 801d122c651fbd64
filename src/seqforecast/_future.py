"""Covariates in closed loops: a model's inputs beyond its outputs, given over the horizon.

A model with ``input_size > output_size`` forecasts its first
``output_size`` input features (the targets); the other ``input_size -
output_size`` inputs are covariates it reads but does not forecast. A closed
loop feeds each forecast back together with the covariates of that step,
which the caller must give: ``future``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from seqforecast._checks import as_float_tensor
from seqforecast.base import Forecaster

if TYPE_CHECKING:
    from torch import Tensor

__all__ = ["check_feeds_back", "future_inputs", "num_covariates"]


def num_covariates(model: Forecaster) -> int:
    """Inputs of ``model`` beyond the targets it forecasts (``input_size - output_size``)."""
    return model.input_size - model.output_size


def check_feeds_back(model: Forecaster) -> None:
    """A closed loop feeds each forecast back as the first inputs: there must be no more outputs than inputs."""
    if model.output_size > model.input_size:
        msg = (
            f"`model` must have output_size <= input_size to feed its forecasts back (the extra inputs are "
            f"covariates), got output_size={model.output_size}, input_size={model.input_size}"
        )
        raise ValueError(msg)


def future_inputs(model: Forecaster, future: object, horizon: int, batch: int, like: Tensor) -> Tensor | None:
    """The covariates of the ``horizon - 1`` inputs a closed loop feeds back, in the model's layout.

    Returns:
        ``(batch, horizon - 1, covariates)`` (``(horizon - 1, batch,
        covariates)`` for a time-first model), or None for a model without
        covariates.

    Raises:
        ValueError: ``future`` is missing for a model with covariates (and
            ``horizon > 1``), given for one without, of the wrong shape, or not finite.
    """
    count = num_covariates(model)
    if count == 0:
        if future is not None:
            msg = (
                "`future` is for a model with covariates (input_size > output_size), but this model has "
                f"input_size == output_size == {model.input_size}: drop `future`"
            )
            raise ValueError(msg)
        return None
    steps = horizon - 1
    if future is None:
        if steps == 0:
            return like.new_zeros((batch, 0, count) if model.batch_first else (0, batch, count))
        msg = (
            f"`future` is required: the model reads {count} covariate(s) beyond its {model.output_size} target(s), "
            f"so a closed loop of horizon={horizon} needs their values at the {steps} step(s) it feeds back, "
            f"shape ({steps}, {count})"
        )
        raise ValueError(msg)
    tensor = as_float_tensor("future", future, dtype=like.dtype, device=like.device, integers=True)
    given = tuple(tensor.shape)
    if tensor.dim() == 1 and count == 1:
        tensor = tensor.unsqueeze(-1)
    if tensor.dim() == 2:
        tensor = tensor.unsqueeze(0 if model.batch_first else 1).expand(
            (batch, -1, -1) if model.batch_first else (-1, batch, -1)
        )
    layout = f"(batch, {steps}, {count})" if model.batch_first else f"({steps}, batch, {count})"
    expected = (batch, steps, count) if model.batch_first else (steps, batch, count)
    if tensor.dim() != 3 or tuple(tensor.shape) != expected:
        msg = (
            f"`future` must hold the {count} covariate(s) of the {steps} step(s) a closed loop of horizon={horizon} "
            f"feeds back: shape ({steps}, {count}) or {layout}, got shape {given}"
        )
        raise ValueError(msg)
    return tensor
