"""The interval report of ``evaluate(level=...)``: split-conformal intervals calibrated, then scored."""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import Tensor

from seqforecast._conformal import conformal_radius, conformal_rank
from seqforecast.interval_metrics import coverage, interval_width, msis
from seqforecast.results import check_levels

__all__ = ["interval_scores"]


def interval_scores(
    predictions: Tensor,
    naive: Tensor,
    targets: Tensor,
    steps: Tensor,
    *,
    calibrate: Tensor,
    scored: Tensor,
    insample: Tensor,
    level: float | Iterable[float],
    period: int = 1,
) -> dict[str, float]:
    """Coverage, width and MSIS of split-conformal intervals around a model's forecasts and the naive one's.

    The intervals of horizon step ``h`` are ``forecast ± r``, ``r`` the
    conformal quantile of the absolute errors at step ``h`` of the points
    where ``calibrate`` is True; they are scored on the points where
    ``scored`` is True (the caller keeps the two apart in time).

    Args:
        predictions: ``(points, features)`` forecasts.
        naive: ``(points, features)`` naive forecasts.
        targets: ``(points, features)``.
        steps: ``(points,)`` the horizon step (1, 2, ...) of each point.
        calibrate: ``(points,)`` bool, the calibration points.
        scored: ``(points,)`` bool, the points scored.
        insample: The series before the scored points, ``(time, features)``, for the MSIS scale.
        level: Levels in percent.
        period: The MSIS scale's lag.

    Returns:
        ``coverage_L``, ``width_L``, ``msis_L`` and their ``naive_`` twins for each level ``L``.

    Raises:
        ValueError: A level needs more calibration points at some step than there are.
    """
    scores: dict[str, float] = {}
    wanted = sorted(set(steps[scored].tolist()))
    for prefix, forecasts in (("", predictions), ("naive_", naive)):
        errors = (targets - forecasts).abs()
        for value in check_levels("level", level):
            radius_by_step = {}
            for step in wanted:
                pool = errors[calibrate & (steps == step)]  # (n, F)
                if conformal_rank(pool.shape[0], value) > pool.shape[0]:
                    msg = (
                        f"`level` {value:g} needs more calibration points at horizon step {step} than the "
                        f"{pool.shape[0]} available; evaluate on a longer series or ask for a lower level"
                    )
                    raise ValueError(msg)
                radius_by_step[step] = conformal_radius(pool, value)
            radius = torch.stack([radius_by_step[int(s)] for s in steps[scored].tolist()])
            middle, target = forecasts[scored], targets[scored]
            lower, upper = middle - radius, middle + radius
            scores[f"{prefix}coverage_{value:g}"] = float(coverage(lower, upper, target))
            scores[f"{prefix}width_{value:g}"] = float(interval_width(lower, upper))
            scores[f"{prefix}msis_{value:g}"] = float(msis(lower, upper, target, insample, level=value, period=period))
    return scores
