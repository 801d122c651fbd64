"""An exported AutoForecaster's interval calibration, read and applied with NumPy only (no torch).

:func:`seqforecast.export_onnx` of a fitted
:class:`~seqforecast.AutoForecaster` (or its checkpoint) stores the forecast
errors it calibrated its intervals on, ``seqforecast.intervals``: ``method``
(``"conformal"`` or ``"gaussian"``), ``first`` (the first calibration
cutoff), ``shape`` ``[count, horizon, features]`` and the signed ``errors``
(flattened). The runtime's ``forecast(horizon, level=...)`` puts the same
intervals around its forecasts as ``AutoForecaster.forecast``: the
``⌈(n + 1) · level / 100⌉``-th smallest absolute error of each step
(conformal, where there are enough errors), else ``± z · RMSE``; steps beyond
the calibrated horizon scale the last step's errors by ``sqrt(h / H)``.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from statistics import NormalDist
from typing import Any

import numpy as np

from seqforecast._onnx_metadata import describe, real_array

__all__ = ["Calibration", "read_calibration"]

_TOLERANCE = 1e-9  # as seqforecast._conformal: keeps (n + 1) * 0.9 = 90.000000001 at rank 90


def _rank(count: int, level: float) -> int:
    return math.ceil((count + 1) * level / 100.0 - _TOLERANCE)


@dataclasses.dataclass(frozen=True, eq=False)
class Calibration:
    """Signed forecast errors ``(count, horizon, features)`` and the method chosen when fitting."""

    errors: np.ndarray
    method: str

    def _errors_to(self, horizon: int) -> np.ndarray:
        calibrated = self.errors.shape[1]
        if horizon <= calibrated:
            result: np.ndarray = self.errors[:, :horizon]
            return result
        growth = np.sqrt(np.arange(calibrated + 1, horizon + 1) / calibrated)[None, :, None]
        return np.concatenate([self.errors, self.errors[:, -1:] * growth], axis=1)

    def radius(self, level: float, horizon: int) -> np.ndarray:
        """The half-width of the ``level`` % interval at each step, ``(horizon, features)``.

        Example:
            >>> errors = np.arange(1.0, 21.0).reshape(20, 1, 1)  # 20 errors of one step
            >>> Calibration(errors, "conformal").radius(80, 2).ravel().round(4).tolist()  # the 17th; step 2: times sqrt(2)
            [17.0, 24.0416]
        """
        errors = self._errors_to(horizon)
        count = errors.shape[0]
        rank = _rank(count, level)
        if self.method == "conformal" and rank <= count:
            conformal: np.ndarray = np.sort(np.abs(errors), axis=0)[max(rank, 1) - 1]
            return conformal
        if self.method == "conformal":
            message = (
                f"the {level:g}% intervals are Gaussian (+- z * RMSE per step), not conformal: the file holds "
                f"{count} calibration errors per step, too few for a conformal {level:g}% interval"
            )
            warnings.warn(message, UserWarning, stacklevel=4)
        gaussian: np.ndarray = NormalDist().inv_cdf(0.5 + level / 200.0) * np.sqrt(np.mean(errors**2, axis=0))
        return gaussian


def read_calibration(data: object, features: int) -> Calibration | None:
    """``seqforecast.intervals`` (null: none), checked as strictly as the AutoForecaster's own files.

    Raises:
        KeyError: A field is missing.
        TypeError, ValueError: A field is of the wrong kind or out of range.
    """
    if data is None:
        return None
    if not isinstance(data, dict):
        msg = f"intervals must be null or an object with method, first, shape and errors, got {describe(data)}"
        raise TypeError(msg)
    fields: dict[str, Any] = data
    method, first, shape = fields["method"], fields["first"], fields["shape"]
    if method not in ("conformal", "gaussian"):
        msg = f"intervals.method must be 'conformal' or 'gaussian', got {describe(method)}"
        raise ValueError(msg)
    if isinstance(first, bool) or not isinstance(first, int) or first < 1:
        msg = f"intervals.first must be an integer >= 1, got {describe(first)}"
        raise ValueError(msg)
    if not (
        isinstance(shape, list)
        and len(shape) == 3
        and all(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in shape)
        and shape[2] == features
    ):
        msg = f"intervals.shape must be [count, horizon, {features}] (positive sizes, input_size features), got {describe(shape)}"
        raise ValueError(msg)
    errors = real_array("intervals.errors", fields["errors"])
    if errors.shape != (math.prod(shape),):
        msg = f"intervals.errors must be a list of {math.prod(shape)} numbers (shape {shape}), got shape {errors.shape}"
        raise ValueError(msg)
    return Calibration(errors.reshape(shape), str(method))
