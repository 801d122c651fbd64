"""The prediction intervals of :class:`~seqforecast.AutoForecaster`, calibrated on its validation tail.

When it fits, the estimator backtests its chosen recipe (fitted on the data
before the validation tail) from every cutoff of the validation tail, and
keeps the forecast errors per horizon step. Two ways to turn them into
intervals compete:

* **split conformal**: the ``⌈(n + 1) · level / 100⌉``-th smallest absolute
  error of each step (:class:`~seqforecast.ConformalCalibration`);
* **Gaussian**: ``± z · RMSE`` of each step's errors.

Each is calibrated on the first half of the validation cutoffs and scored on
the second (the empirical coverage of its 80 % and 95 % intervals, averaged
over steps); the one closer to nominal is kept, calibrated again on all the
cutoffs. Steps beyond the calibrated horizon scale the last step's errors by
``sqrt(h / H)`` (errors that grow like a random walk's).
"""

from __future__ import annotations

import dataclasses
from statistics import NormalDist
from typing import Any

import numpy as np

from seqforecast.conformal import conformal_rank

__all__ = ["IntervalCalibration"]

CHOICE_LEVELS = (80.0, 95.0)
METHODS = ("conformal", "gaussian")


def _radius(errors: np.ndarray, level: float, method: str) -> np.ndarray:
    """Half-widths from signed errors ``(n, H, F)`` -> ``(H, F)`` (Gaussian where conformal has too few)."""
    count = errors.shape[0]
    rmse = np.sqrt(np.mean(errors**2, axis=0))
    gaussian: np.ndarray = NormalDist().inv_cdf(0.5 + level / 200.0) * rmse
    rank = conformal_rank(count, level)
    if method == "gaussian" or rank > count:
        return gaussian
    result: np.ndarray = np.sort(np.abs(errors), axis=0)[rank - 1]
    return result


def _coverage_gap(train: np.ndarray, test: np.ndarray, method: str) -> float:
    """Mean ``|coverage - nominal|`` on ``test`` of ``method``'s intervals calibrated on ``train``."""
    gaps = []
    for level in CHOICE_LEVELS:
        radius = _radius(train, level, method)
        gaps.append(abs(float(np.mean(np.abs(test) <= radius)) - level / 100.0))
    return float(np.mean(gaps))


@dataclasses.dataclass(frozen=True)
class IntervalCalibration:
    """Signed forecast errors per horizon step on the validation tail, and the method chosen.

    Attributes:
        errors: ``target - forecast``, ``(count, horizon, features)``.
        method: ``"conformal"`` or ``"gaussian"``.
    """

    errors: np.ndarray
    method: str

    @classmethod
    def choose(cls, errors: np.ndarray) -> IntervalCalibration:
        """Pick the method whose intervals, calibrated on the first half of the cutoffs, cover the second best."""
        half = errors.shape[0] // 2
        if half < 2:
            return cls(errors, "gaussian")
        gaps = {method: _coverage_gap(errors[:half], errors[half:], method) for method in METHODS}
        return cls(errors, min(METHODS, key=gaps.__getitem__))  # ties keep conformal, first

    @property
    def horizon(self) -> int:
        return int(self.errors.shape[1])

    def errors_to(self, horizon: int) -> np.ndarray:
        """The errors of steps ``1..horizon``, ``(count, horizon, features)``; beyond the calibrated horizon
        the last step's errors times ``sqrt(h / H)``."""
        if horizon <= self.horizon:
            return self.errors[:, :horizon]
        last = self.errors[:, -1:]
        growth = np.sqrt(np.arange(self.horizon + 1, horizon + 1) / self.horizon)[None, :, None]
        return np.concatenate([self.errors, last * growth], axis=1)

    def radius(self, level: float, horizon: int) -> np.ndarray:
        """The half-width of the ``level`` % interval at each step, ``(horizon, features)``."""
        return _radius(self.errors_to(horizon), level, self.method)

    def backtest_radii(self, level: float, errors: np.ndarray, cutoffs: np.ndarray) -> np.ndarray:
        """Half-widths for every cutoff of a backtest, ``(K, H, F)``, from data before each cutoff only.

        The errors of cutoff ``c`` at step ``h`` come from the validation
        tail and from the backtest's own forecasts whose targets lie before
        ``c`` (cutoff ``c'`` at step ``h`` when ``c' + h < c``).

        Args:
            level: Percent.
            errors: The backtest's signed errors ``(K, H, F)``.
            cutoffs: ``(K,)`` indices, ascending.
        """
        horizon = errors.shape[1]
        base = self.errors_to(horizon)
        result = np.empty_like(errors)
        for h in range(horizon):
            for i, cutoff in enumerate(cutoffs):
                known = int(np.searchsorted(cutoffs, cutoff - h, side="left"))  # cutoffs c' < cutoff - h
                pool = np.concatenate([base[:, h], errors[:known, h]])[:, None]  # (n, 1, F)
                result[i, h] = _radius(pool, level, self.method)[0]
        return result

    def to_json(self) -> dict[str, Any]:
        return {"method": self.method, "shape": list(self.errors.shape), "errors": self.errors.reshape(-1).tolist()}

    @classmethod
    def from_json(cls, data: Any) -> IntervalCalibration | None:
        if data is None:
            return None
        errors = np.asarray(data["errors"], dtype=np.float64).reshape(data["shape"])
        return cls(errors, str(data["method"]))


def calibration_horizon(validation: int, season: int) -> int:
    """Steps calibrated: ``max(12, season)``, fewer if the validation tail would keep under 19 cutoffs."""
    wanted = max(12, season)
    return max(1, min(wanted, validation - 19))
