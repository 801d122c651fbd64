"""Scores of prediction intervals: coverage, mean width and the mean scaled interval score.

Re-exported by :mod:`seqforecast.metrics`. Each is a pure function of
tensors of any (equal) shape returning a 0-d tensor averaged over every
point. Bounds may be infinite (an interval with no finite guarantee yet) but
not NaN; targets must be finite.
"""

from __future__ import annotations

import torch
from torch import Tensor

from seqforecast._checks import check_finite_tensor, check_floating_tensor, check_int, describe
from seqforecast.results import check_levels

__all__ = ["coverage", "interval_width", "msis"]


def _bounds(lower: Tensor, upper: Tensor, targets: Tensor | None = None) -> None:
    check_floating_tensor("lower", lower)
    check_floating_tensor("upper", upper)
    if lower.shape != upper.shape or (
        targets is not None and check_floating_tensor("targets", targets).shape != lower.shape
    ):
        shapes = [tuple(t.shape) for t in (lower, upper, targets) if t is not None]
        msg = f"`lower`, `upper` (and `targets`) must have the same shape, got {', '.join(map(str, shapes))}"
        raise ValueError(msg)
    if lower.numel() == 0:
        msg = "`lower` must not be empty"
        raise ValueError(msg)
    for name, bound in (("lower", lower), ("upper", upper)):
        if bool(bound.isnan().any()):
            msg = f"`{name}` must not hold NaN, got {describe(bound)} with NaN values"
            raise ValueError(msg)
    if bool((lower > upper).any()):
        msg = "`lower` must not exceed `upper`, got an interval whose lower bound is above its upper bound"
        raise ValueError(msg)
    if targets is not None:
        check_finite_tensor("targets", targets)


def coverage(lower: Tensor, upper: Tensor, targets: Tensor) -> Tensor:
    """The fraction of ``targets`` inside ``[lower, upper]`` (0 to 1).

    Args:
        lower: Lower bounds, any shape.
        upper: Upper bounds, the shape of ``lower``.
        targets: What happened, the shape of ``lower``.

    Returns:
        A 0-d tensor; a calibrated 80 % interval covers about 0.8.

    Example:
        >>> import torch
        >>> from seqforecast import metrics
        >>> metrics.coverage(torch.zeros(4), torch.ones(4), torch.tensor([0.5, 1.0, 2.0, -1.0]))
        tensor(0.5000)
    """
    _bounds(lower, upper, targets)
    return ((lower <= targets) & (targets <= upper)).to(targets.dtype).mean()


def interval_width(lower: Tensor, upper: Tensor) -> Tensor:
    """The mean width ``upper - lower`` (any equal shapes; returns a 0-d tensor).

    Example:
        >>> import torch
        >>> from seqforecast import metrics
        >>> metrics.interval_width(torch.tensor([0.0, 1.0]), torch.tensor([2.0, 2.0]))
        tensor(1.5000)
    """
    _bounds(lower, upper)
    return (upper - lower).mean()


def msis(lower: Tensor, upper: Tensor, targets: Tensor, insample: Tensor, *, level: float, period: int = 1) -> Tensor:
    """Mean scaled interval score (the M4 competition's), lower is better.

    ``mean((U - L) + 2/a (L - y)·[y < L] + 2/a (y - U)·[y > U])`` with
    ``a = 1 - level / 100``, over the in-sample mean absolute change at lag
    ``period`` (the seasonal naive forecast's error, as in MASE): a wide
    interval costs its width, a miss costs ``2/a`` times its distance. As in
    the M4 competition, each series is scaled by its own change: with
    ``insample`` ``(time, features)``, each feature (the last axis of the
    bounds) by its own, and the mean is over every point.

    Args:
        lower: Lower bounds, any shape; ``(..., features)`` when
            ``insample`` has features.
        upper: Upper bounds, the shape of ``lower``.
        targets: What happened, the shape of ``lower``.
        insample: The training series, ``(time,)`` or ``(time, features)``,
            longer than ``period``.
        level: The intervals' level in percent, in ``(0, 100)``.
        period: Seasonal period of the scale (1: the one-step change).

    Returns:
        A 0-d tensor.

    Raises:
        ValueError: Shapes differ (or the bounds' last axis is not
            ``insample``'s features), a bound is NaN or ``lower > upper``,
            ``insample`` is too short or a feature of it constant at lag
            ``period``, or a bad ``level``.

    Example:
        >>> import torch
        >>> from seqforecast import metrics
        >>> history = torch.tensor([0.0, 1.0, 2.0, 3.0])  # scale 1
        >>> metrics.msis(torch.tensor([0.0]), torch.tensor([2.0]), torch.tensor([3.0]), history, level=80)
        tensor(12.)
    """
    (value,) = check_levels("level", level)
    period = check_int("period", period)
    _bounds(lower, upper, targets)
    if check_floating_tensor("insample", insample).shape[0] <= period:
        msg = f"`insample` must have more than period={period} time steps, got {describe(insample)}"
        raise ValueError(msg)
    check_finite_tensor("insample", insample)
    if insample.dim() == 2 and (lower.dim() == 0 or lower.shape[-1] != insample.shape[1]):
        msg = (
            f"`lower`, `upper` and `targets` must end in the {insample.shape[1]} feature(s) of `insample`, "
            f"got shape {tuple(lower.shape)}"
        )
        raise ValueError(msg)
    scale = torch.mean(torch.abs(insample[period:] - insample[:-period]), dim=0)  # () or (features,)
    if bool((scale == 0).any()):
        msg = f"`insample` must vary at lag period={period} (MSIS divides by its mean absolute change), got a constant series"
        raise ValueError(msg)
    alpha = 1.0 - value / 100.0
    below = (lower - targets).clamp_min(0.0)
    above = (targets - upper).clamp_min(0.0)
    return (((upper - lower) + 2.0 / alpha * (below + above)) / scale).mean()
