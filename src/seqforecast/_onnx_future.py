"""Covariates in the ONNX runtime's closed loop (NumPy only): the future values of the inputs beyond the targets.

The NumPy counterpart of ``seqforecast._future``: a model with
``input_size > output_size`` feeds each forecast back together with the
covariates of that step, which the caller gives as ``future``; the checks
and their messages are those of :func:`seqforecast.forecast`.
"""

from __future__ import annotations

import numpy as np

from seqforecast._onnx_metadata import real_array

__all__ = ["future_covariates"]


def future_covariates(future: object, horizon: int, batch: int, covariates: int, targets: int) -> np.ndarray | None:
    """The covariates of the ``horizon - 1`` steps a closed loop feeds back, ``(horizon - 1, batch, covariates)``.

    Args:
        future: ``(horizon - 1, covariates)`` (the same for every series),
            ``(batch, horizon - 1, covariates)``, or ``(horizon - 1,)`` for
            one covariate; None for a model without covariates (or ``horizon == 1``).
        horizon: Steps forecast, >= 1.
        batch: Series in the stream.
        covariates: Inputs beyond the targets.
        targets: The model's outputs (for the messages).

    Returns:
        Float32 ``(horizon - 1, batch, covariates)``, or None without covariates.

    Raises:
        TypeError: ``future`` does not hold real numbers.
        ValueError: ``future`` is missing, given for a model without covariates,
            of the wrong shape, or not finite.

    Example:
        >>> future_covariates([[1.0], [2.0]], horizon=3, batch=1, covariates=1, targets=1).shape
        (2, 1, 1)
    """
    if covariates == 0:
        if future is not None:
            msg = (
                "`future` is for a model with covariates (input_size > output_size), but this model has "
                f"input_size == output_size == {targets}: drop `future`"
            )
            raise ValueError(msg)
        return None
    steps = horizon - 1
    if future is None:
        if steps == 0:
            return np.zeros((0, batch, covariates), np.float32)
        msg = (
            f"`future` is required: the model reads {covariates} covariate(s) beyond its {targets} target(s), "
            f"so a closed loop of horizon={horizon} needs their values at the {steps} step(s) it feeds back, "
            f"shape ({steps}, {covariates})"
        )
        raise ValueError(msg)
    array = real_array("future", future)
    given = array.shape
    if array.ndim == 1 and covariates == 1:
        array = array[:, None]
    if array.ndim == 2:
        array = np.broadcast_to(array[None], (batch, *array.shape))
    if array.shape != (batch, steps, covariates):
        msg = (
            f"`future` must hold the {covariates} covariate(s) of the {steps} step(s) a closed loop of "
            f"horizon={horizon} feeds back: shape ({steps}, {covariates}) or (batch, {steps}, {covariates}), "
            f"got shape {given}"
        )
        raise ValueError(msg)
    result: np.ndarray = array.transpose(1, 0, 2).astype(np.float32)
    return result
