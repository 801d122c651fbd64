"""What a fitted :class:`~seqforecast.AutoForecaster` says about its choice (its ``summary()``)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from seqforecast.auto import AutoForecaster

__all__ = ["summary"]


def summary(est: AutoForecaster) -> str:
    """The choice, each candidate's validation MSE (the best 12) and the winner's beside the naive forecasts."""
    if est.model_ is None:
        return "AutoForecaster (not fitted)"
    lines = [f"AutoForecaster(seed={est.seed}): {est.choice_}"]
    if est.scores_:
        scaled = " (each series' errors over its mean absolute one-step change)" if est._panel else ""
        lines.append(f"validation one-step MSE{scaled} (last {est.val_fraction:.0%} of the training data):")
        shown = est.scores_[:12]
        width = max(len(s.name) for s in shown) + 2
        lines.append(f"  {'candidate':<{width}}{'MSE':>12}{'/ naive':>10}")
        for score in shown:
            relative = score.mse / est.naive_mse_ if est.naive_mse_ > 0 else math.nan
            lines.append(f"  {score.name:<{width}}{score.mse:>12.4g}{relative:>10.3f}")
    best = est.validation_mse
    naive = est.naive_mse_
    seasonal = est.seasonal_naive_mse_
    skill = f"chosen: MSE {best:.4g}, {best / naive:.3f} of naive" if naive > 0 else f"chosen: MSE {best:.4g}"
    if seasonal:
        skill += f", {best / seasonal:.3f} of seasonal naive"
    lines.append(skill)
    return "\n".join(lines)
