"""The conformal quantile: the one place where calibration errors become an interval's half-width.

For ``n`` absolute calibration errors, the half-width of a ``level`` %
interval is the ``k``-th smallest of them, ``k = ⌈(n + 1) · level / 100⌉``
(the finite-sample correction). When ``k > n`` no finite interval has the
guarantee. Split conformal (:class:`~seqforecast.ConformalCalibration`),
adaptive conformal (:class:`~seqforecast.AdaptiveConformal`, whose level
moves per element), AutoForecaster's intervals and ``evaluate(level=...)``
all take their half-widths from :func:`conformal_radius`.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

__all__ = ["conformal_radius", "conformal_rank", "errors_needed"]

_TOLERANCE = 1e-9  # keeps (n + 1) * 0.9 = 90.000000001 at rank 90


def conformal_rank(count: int, level: float) -> int:
    """The rank ``k = ⌈(count + 1) · level / 100⌉`` of the error that bounds a ``level`` % interval.

    Args:
        count: Calibration errors, >= 0.
        level: Percent, in ``(0, 100)``.

    Returns:
        ``k``; when ``k > count`` no finite interval has the guarantee.

    Example:
        >>> conformal_rank(99, 90), conformal_rank(10, 95)
        (90, 11)
    """
    return math.ceil((count + 1) * level / 100.0 - _TOLERANCE)


def errors_needed(level: float) -> int:
    """The fewest calibration errors ``n`` with ``conformal_rank(n, level) <= n`` (19 for 95 %).

    Example:
        >>> errors_needed(95), errors_needed(80), errors_needed(50)
        (19, 4, 1)
    """
    return max(1, math.ceil(level / (100.0 - level) - _TOLERANCE))


def conformal_radius(errors: Tensor, level: float | Tensor) -> Tensor:
    """The ``k``-th smallest absolute error along dim 0, ``k = ⌈(n + 1) · level / 100⌉``, per element.

    Args:
        errors: Absolute errors ``(n, *shape)``, in any order.
        level: Percent: one number, or a tensor broadcastable to ``shape``
            (one level per element, as adaptive conformal keeps them).

    Returns:
        ``shape``: the half-widths; infinite where ``k > n`` (too few errors
        for a finite interval, or ``level >= 100``), zero where ``k < 1``
        (``level <= 0``).

    Example:
        >>> import torch
        >>> conformal_radius(torch.arange(9.0, 0.0, -1.0).reshape(9, 1), 80).tolist()  # errors 1..9: the 8th
        [8.0]
    """
    count = errors.shape[0]
    levels = torch.as_tensor(level, dtype=torch.float64, device=errors.device).expand(errors.shape[1:])
    rank = torch.ceil((count + 1) * levels / 100.0 - _TOLERANCE).to(torch.long)
    if count == 0:
        radius = torch.full(errors.shape[1:], math.inf, dtype=errors.dtype, device=errors.device)
    else:
        ordered = torch.sort(errors, dim=0).values
        radius = ordered.gather(0, (rank.clamp(1, count) - 1).unsqueeze(0)).squeeze(0)
        radius = torch.where(rank > count, torch.full_like(radius, math.inf), radius)
    return torch.where(rank < 1, torch.zeros_like(radius), radius)
