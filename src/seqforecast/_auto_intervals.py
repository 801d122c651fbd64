"""The prediction intervals of :class:`~seqforecast.AutoForecaster`, calibrated on its validation tail.

When it fits, the estimator backtests its chosen recipe (fitted on the data
before the validation tail) from every cutoff of the validation tail, and
keeps the forecast errors per horizon step, with the time of each error's
target. Two ways to turn them into intervals compete:

* **split conformal**: the ``⌈(n + 1) · level / 100⌉``-th smallest absolute
  error of each step (:func:`~seqforecast._conformal.conformal_radius`);
* **Gaussian**: ``± z · RMSE`` of each step's errors.

Each is calibrated on the first half of the validation cutoffs and scored on
the second (the empirical coverage of its 80 % and 95 % intervals, averaged
over steps); the one closer to nominal is kept, calibrated again on all the
cutoffs. With too few cutoffs for a conformal 80 % interval in each half,
conformal would be Gaussian anyway and Gaussian is kept. A level too high
for the number of errors (95 % needs 19) is Gaussian even when conformal was
chosen; :meth:`IntervalCalibration.falls_back` says when. Steps beyond the
calibrated horizon scale the last step's errors by ``sqrt(h / H)`` (errors
that grow like a random walk's).
"""

from __future__ import annotations

import dataclasses
import math
from statistics import NormalDist
from typing import Literal, NoReturn, cast

import numpy as np
import torch

from seqforecast._conformal import conformal_radius, conformal_rank
from seqforecast.checkpoint import CheckpointError

__all__ = ["IntervalCalibration", "Method", "calibration_horizon"]

Method = Literal["conformal", "gaussian"]
METHODS: tuple[Method, ...] = ("conformal", "gaussian")
CHOICE_LEVELS = (80.0, 95.0)


def _radius(errors: np.ndarray, level: float, method: Method) -> np.ndarray:
    """Half-widths from signed errors ``(n, H, F)`` -> ``(H, F)``.

    Conformal where there are enough errors for ``level``, else Gaussian;
    infinite with no errors at all.
    """
    count = errors.shape[0]
    if count == 0:
        return np.full(errors.shape[1:], math.inf)
    if method == "conformal" and conformal_rank(count, level) <= count:
        result: np.ndarray = conformal_radius(torch.from_numpy(np.abs(errors)), level).numpy()
        return result
    rmse = np.sqrt(np.mean(errors**2, axis=0))
    gaussian: np.ndarray = NormalDist().inv_cdf(0.5 + level / 200.0) * rmse
    return gaussian


def _coverage_gap(train: np.ndarray, test: np.ndarray, method: Method) -> float:
    """Mean ``|coverage - nominal|`` on ``test`` of ``method``'s intervals calibrated on ``train``."""
    gaps = []
    for level in CHOICE_LEVELS:
        radius = _radius(train, level, method)
        gaps.append(abs(float(np.mean(np.abs(test) <= radius)) - level / 100.0))
    return float(np.mean(gaps))


def _invalid(what: str) -> NoReturn:
    msg = f"the AutoForecaster's interval calibration in this file is invalid: {what}; fit it again"
    raise CheckpointError(msg)


@dataclasses.dataclass(frozen=True, eq=False)
class IntervalCalibration:
    """Signed forecast errors per horizon step on the validation tail, and the method chosen.

    Attributes:
        errors: ``target - forecast``, ``(count, horizon, features)``;
            ``errors[i, h]`` is that of cutoff ``first + i`` at step ``h + 1``,
            whose target is ``y[first + i + h]``.
        method: ``"conformal"`` or ``"gaussian"``.
        first: The first calibration cutoff, an index into the data given to
            ``fit`` (cutoffs are one step apart).
    """

    errors: np.ndarray
    method: Method
    first: int

    @classmethod
    def choose(cls, errors: np.ndarray, first: int) -> IntervalCalibration:
        """Pick the method whose intervals, calibrated on the first half of the cutoffs, cover the second best."""
        half = errors.shape[0] // 2
        if all(conformal_rank(half, level) > half for level in CHOICE_LEVELS):  # conformal would be Gaussian
            return cls(errors, "gaussian", first)
        gaps = {method: _coverage_gap(errors[:half], errors[half:], method) for method in METHODS}
        return cls(errors, min(METHODS, key=gaps.__getitem__), first)  # ties keep conformal, first

    @property
    def count(self) -> int:
        """The calibration cutoffs."""
        return int(self.errors.shape[0])

    @property
    def horizon(self) -> int:
        """The steps calibrated."""
        return int(self.errors.shape[1])

    @property
    def end(self) -> int:
        """The length of the data calibrated on (the data given to ``fit``): the last target's index + 1."""
        return self.first + self.count + self.horizon - 1

    def falls_back(self, level: float) -> bool:
        """Whether conformal was chosen but ``level`` needs more errors than there are: Gaussian there."""
        return self.method == "conformal" and conformal_rank(self.count, level) > self.count

    def errors_to(self, horizon: int) -> np.ndarray:
        """The errors of steps ``1..horizon``, ``(count, horizon, features)``; beyond the calibrated horizon
        the last step's errors times ``sqrt(h / H)``."""
        if horizon <= self.horizon:
            return self.errors[:, :horizon]
        last = self.errors[:, -1:]
        growth = np.sqrt(np.arange(self.horizon + 1, horizon + 1) / self.horizon)[None, :, None]
        return np.concatenate([self.errors, last * growth], axis=1)

    def target_times(self, horizon: int) -> np.ndarray:
        """``(count, horizon)``: the index of the target behind each error of :meth:`errors_to`."""
        steps = np.minimum(np.arange(horizon), self.horizon - 1)  # beyond H: the last step's errors, scaled
        result: np.ndarray = self.first + np.arange(self.count)[:, None] + steps[None, :]
        return result

    def radius(self, level: float, horizon: int) -> np.ndarray:
        """The half-width of the ``level`` % interval at each step, ``(horizon, features)``."""
        return _radius(self.errors_to(horizon), level, self.method)

    def backtest_radii(self, level: float, errors: np.ndarray, cutoffs: np.ndarray) -> np.ndarray:
        """Half-widths for every cutoff of a backtest, ``(K, H, F)``, from data before each cutoff only.

        The errors of cutoff ``c`` at step ``h`` are those whose targets lie
        before ``c``: the validation tail's (target ``first + i + h < c``; all
        of them for a cutoff after the data given to ``fit``) and the
        backtest's own (cutoff ``c'`` at step ``h`` when ``c' + h < c``). With
        none, the interval is infinite.

        Args:
            level: Percent.
            errors: The backtest's signed errors ``(K, H, F)``, on the same time axis as the fit data.
            cutoffs: ``(K,)`` indices, ascending.
        """
        horizon = errors.shape[1]
        base = self.errors_to(horizon)
        times = self.target_times(horizon)
        result = np.empty_like(errors)
        for h in range(horizon):
            for i, cutoff in enumerate(cutoffs):
                known = int(np.searchsorted(cutoffs, cutoff - h, side="left"))  # cutoffs c' < cutoff - h
                pool = np.concatenate([base[times[:, h] < cutoff, h], errors[:known, h]])[:, None]  # (n, 1, F)
                result[i, h] = _radius(pool, level, self.method)[0]
        return result

    def to_json(self) -> dict[str, object]:
        return {
            "method": self.method,
            "first": self.first,
            "shape": list(self.errors.shape),
            "errors": self.errors.reshape(-1).tolist(),
        }

    @classmethod
    def from_json(cls, data: object) -> IntervalCalibration | None:
        """The calibration saved by :meth:`to_json` (None for none), checked.

        Raises:
            CheckpointError: ``data`` is not a calibration :meth:`to_json` writes.
        """
        if data is None:
            return None
        if not isinstance(data, dict) or set(data) != {"method", "first", "shape", "errors"}:
            keys = sorted(data) if isinstance(data, dict) else type(data).__name__
            _invalid(f"expected the keys errors, first, method and shape, got {keys}")
        method, first, shape, values = data["method"], data["first"], data["shape"], data["errors"]
        if method not in METHODS:
            _invalid(f"method must be 'conformal' or 'gaussian', got {method!r}")
        if isinstance(first, bool) or not isinstance(first, int) or first < 1:
            _invalid(f"first must be a positive integer, got {first!r}")
        if (
            not isinstance(shape, list)
            or len(shape) != 3
            or not all(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in shape)
        ):
            _invalid(f"shape must be three positive integers, got {shape!r}")
        if not isinstance(values, list) or len(values) != math.prod(shape):
            size = len(values) if isinstance(values, list) else type(values).__name__
            _invalid(f"errors must be a list of {math.prod(shape)} numbers (shape {shape}), got {size}")
        try:
            errors = np.asarray(values, dtype=np.float64).reshape(shape)
        except (TypeError, ValueError):
            errors = None
        if errors is None:
            _invalid("errors must be numbers")
        if not np.isfinite(errors).all():
            _invalid("errors must be finite")
        return cls(errors, cast("Method", method), first)


def calibration_horizon(validation: int, season: int) -> int:
    """Steps calibrated: ``max(12, season)``, fewer if the validation tail would keep under 19 cutoffs."""
    wanted = max(12, season)
    return max(1, min(wanted, validation - 19))
