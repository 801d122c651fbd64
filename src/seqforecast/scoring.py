"""Scores of probabilistic forecasts: CRPS and the pinball (quantile) loss.

Re-exported by :mod:`seqforecast.metrics`. Like the point metrics, each is a
pure function returning a 0-d tensor averaged over every forecast point, and
refuses NaN and infinite values. Lower is better for all of them.

* :func:`crps` — the continuous ranked probability score of a sample
  (for instance :func:`~seqforecast.sample_paths`);
* :func:`crps_gaussian` — its closed form for a Normal forecast;
* :func:`pinball` — the pinball loss of quantile forecasts;
* :func:`weighted_quantile_loss` — the pinball loss scaled by the targets'
  total absolute value (GluonTS's mean wQL), comparable across series.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor

from seqforecast._checks import check_finite_tensor, check_floating_tensor, check_quantiles

__all__ = ["crps", "crps_gaussian", "pinball", "weighted_quantile_loss"]


def _checked(name: str, value: Tensor) -> Tensor:
    check_floating_tensor(name, value)
    if value.numel() == 0:
        msg = f"`{name}` must not be empty"
        raise ValueError(msg)
    check_finite_tensor(name, value)
    return value


def _leading(name: str, forecasts: Tensor, targets: Tensor, what: str) -> None:
    """``forecasts`` must be ``(n, *targets.shape)``."""
    if forecasts.dim() != targets.dim() + 1 or forecasts.shape[1:] != targets.shape:
        msg = (
            f"`{name}` must have shape ({what}, *targets.shape) = ({what}, {', '.join(map(str, targets.shape))}), "
            f"got {tuple(forecasts.shape)}"
        )
        raise ValueError(msg)


def crps(samples: Tensor, targets: Tensor) -> Tensor:
    """Continuous ranked probability score of a sample forecast, ``E|X - y| - E|X - X'| / 2``.

    Computed exactly for the sample's empirical distribution (from the
    sorted draws, ``O(n log n)`` per point).

    Args:
        samples: ``(num_samples, *shape)``: draws of the forecast
            distribution at every point, such as the paths of
            :func:`~seqforecast.sample_paths` ``(num_samples, horizon, features)``.
        targets: ``shape``: the observed values.

    Returns:
        A 0-d tensor, the mean CRPS over the points (in the targets' units).

    Example:
        >>> import torch
        >>> from seqforecast import metrics
        >>> metrics.crps(torch.tensor([[0.0], [2.0]]), torch.tensor([1.0]))  # 1 - 2 / 4
        tensor(0.5000)
    """
    _checked("samples", samples)
    _checked("targets", targets)
    _leading("samples", samples, targets, "num_samples")
    n = samples.shape[0]
    x = samples.double().sort(dim=0).values
    weights = (2 * torch.arange(1, n + 1, dtype=torch.float64, device=x.device) - n - 1).view(-1, *[1] * targets.dim())
    spread = (weights * x).sum(0) * 2 / (n * n)  # E|X - X'| from the order statistics
    error = (x - targets.double()).abs().mean(0)
    return (error - spread / 2).mean().to(samples.dtype)


def crps_gaussian(mean: Tensor, std: Tensor, targets: Tensor) -> Tensor:
    """Closed-form CRPS of Normal forecasts: ``std * (z (2 Φ(z) - 1) + 2 φ(z) - 1 / √π)``, ``z = (y - mean) / std``.

    Args:
        mean: Any shape.
        std: Positive, the shape of ``mean``.
        targets: The shape of ``mean``.

    Returns:
        A 0-d tensor, the mean CRPS over the points.

    Example:
        >>> import torch
        >>> from seqforecast import metrics
        >>> round(float(metrics.crps_gaussian(torch.zeros(1), torch.ones(1), torch.zeros(1))), 4)  # (√2 - 1) / √π
        0.2337
    """
    for name, value in (("mean", mean), ("std", std), ("targets", targets)):
        _checked(name, value)
    if not mean.shape == std.shape == targets.shape:
        msg = (
            f"`mean`, `std` and `targets` must have the same shape, got "
            f"{tuple(mean.shape)}, {tuple(std.shape)} and {tuple(targets.shape)}"
        )
        raise ValueError(msg)
    if bool((std <= 0).any()):
        msg = f"`std` must be positive, got {float(std.min()):g}"
        raise ValueError(msg)
    z = (targets.double() - mean.double()) / std.double()
    score = std.double() * (z * torch.erf(z / math.sqrt(2.0)) + 2 * torch.exp(-z * z / 2) / math.sqrt(2 * math.pi))
    return (score - std.double() / math.sqrt(math.pi)).mean().to(mean.dtype)


def _quantile_errors(quantile_forecasts: Tensor, targets: Tensor, quantiles: Sequence[float]) -> Tensor:
    """The pinball loss of every level and point, ``(Q, *targets.shape)``."""
    levels = check_quantiles("quantiles", quantiles)
    _checked("quantile_forecasts", quantile_forecasts)
    _checked("targets", targets)
    _leading("quantile_forecasts", quantile_forecasts, targets, "len(quantiles)")
    if quantile_forecasts.shape[0] != len(levels):
        msg = f"`quantile_forecasts` must have one row per level: {len(levels)}, got {quantile_forecasts.shape[0]}"
        raise ValueError(msg)
    tau = torch.tensor(levels, dtype=torch.float64, device=targets.device).view(-1, *[1] * targets.dim())
    error = targets.double() - quantile_forecasts.double()
    return torch.maximum(tau * error, (tau - 1) * error)


def pinball(quantile_forecasts: Tensor, targets: Tensor, quantiles: Sequence[float]) -> Tensor:
    """Mean pinball (quantile) loss over the levels and points.

    For level ``τ`` and forecast ``q``: ``τ (y - q)`` when ``y >= q``, else
    ``(1 - τ) (q - y)``. At ``τ = 0.5`` it is half the absolute error.

    Args:
        quantile_forecasts: ``(len(quantiles), *shape)``, such as the output
            of :func:`~seqforecast.forecast_quantiles`.
        targets: ``shape``.
        quantiles: The levels of the rows, increasing, in ``(0, 1)``.

    Returns:
        A 0-d tensor.

    Example:
        >>> import torch
        >>> from seqforecast import metrics
        >>> metrics.pinball(torch.tensor([[0.0], [2.0]]), torch.tensor([1.0]), quantiles=(0.1, 0.9))
        tensor(0.1000)
    """
    return _quantile_errors(quantile_forecasts, targets, quantiles).mean().to(quantile_forecasts.dtype)


def weighted_quantile_loss(quantile_forecasts: Tensor, targets: Tensor, quantiles: Sequence[float]) -> Tensor:
    """Weighted quantile loss: ``2 * sum(pinball) / sum(|y|)`` per level, averaged over the levels.

    Scale-free, so it compares across series (GluonTS's ``mean_wQuantileLoss``).

    Args:
        quantile_forecasts: ``(len(quantiles), *shape)``.
        targets: ``shape``, not all zero.
        quantiles: The levels of the rows, increasing, in ``(0, 1)``.

    Returns:
        A 0-d tensor.

    Example:
        >>> import torch
        >>> from seqforecast import metrics
        >>> metrics.weighted_quantile_loss(torch.tensor([[0.0], [2.0]]), torch.tensor([1.0]), quantiles=(0.1, 0.9))
        tensor(0.2000)
    """
    errors = _quantile_errors(quantile_forecasts, targets, quantiles)
    scale = targets.double().abs().sum()
    if float(scale) == 0.0:
        msg = "`targets` must not be all zero for a weighted quantile loss (it divides by their total absolute value)"
        raise ValueError(msg)
    return (2 * errors.flatten(1).sum(1) / scale).mean().to(quantile_forecasts.dtype)
