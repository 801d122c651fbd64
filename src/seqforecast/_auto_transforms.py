"""The transforms :class:`~seqforecast.AutoForecaster` tries on a series, and the series' seasonal period.

A series is modelled in levels, in first differences, in seasonal
differences, or in first differences of its seasonal differences
(:class:`Transform`). On differences the model predicts a *change*, which is
put back on the levels before it (:meth:`Transform.integrate`,
:meth:`Transform.anchors`), so the naive forecast is where it starts. The
seasonal period is the strongest peak of the autocorrelation
(:func:`detect_season`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from seqforecast.series import series_tensor

__all__ = ["Transform", "as_levels", "detect_season"]


@dataclass(frozen=True)
class Transform:
    """Levels -> model space: optional first difference after an optional seasonal one.

    Example:
        >>> import numpy as np
        >>> y = np.arange(10.0)[:, None] ** 2  # (time, features)
        >>> transform = Transform(difference=True, season=3)
        >>> w = transform.apply(y)  # w[i] belongs to y[i + transform.offset]
        >>> w.shape, transform.name
        ((6, 1), 'first differences of seasonal differences (period 3)')
        >>> bool(np.allclose(transform.integrate(y[None, :4], w[None])[0], y[4:]))  # forecasts of w -> levels
        True
    """

    difference: bool
    season: int  # 0: none

    @property
    def offset(self) -> int:
        """Observations consumed before the first transformed value."""
        return self.season + int(self.difference)

    @property
    def name(self) -> str:
        parts = ([f"seasonal differences (period {self.season})"] if self.season else []) + (
            ["first differences"] if self.difference else []
        )
        return " of ".join(reversed(parts)) if parts else "levels"

    def apply(self, y: np.ndarray) -> np.ndarray:
        """``(T, F)`` levels -> ``(T - offset, F)`` transformed values."""
        z = y[self.season :] - y[: -self.season] if self.season else y
        return np.diff(z, axis=0) if self.difference else z

    def integrate(self, history: np.ndarray, w_hat: np.ndarray) -> np.ndarray:
        """Levels from transformed forecasts, each anchored on the levels before it.

        Args:
            history: ``(K, L, F)`` levels just before each forecast, ``L >= offset``.
            w_hat: ``(K, H, F)`` forecasts in the transformed space.

        Returns:
            ``(K, H, F)`` levels.
        """
        known = history.shape[1]
        levels = np.concatenate([history, np.zeros_like(w_hat)], axis=1)
        for h in range(w_hat.shape[1]):
            s = known + h
            anchor = np.zeros_like(w_hat[:, h])
            if self.difference:
                anchor += levels[:, s - 1]
            if self.season:
                anchor += levels[:, s - self.season]
            if self.difference and self.season:
                anchor -= levels[:, s - 1 - self.season]
            levels[:, s] = w_hat[:, h] + anchor
        result: np.ndarray = levels[:, known:]
        return result

    def anchors(self, y: np.ndarray, times: np.ndarray) -> np.ndarray:
        """The part of ``y[s]`` known at time ``s - 1``: ``y[s] = w[s] + anchor[s]``, for each ``s`` in ``times``."""
        anchor = np.zeros((len(times), y.shape[1]))
        if self.difference:
            anchor += y[times - 1]
        if self.season:
            anchor += y[times - self.season]
        if self.difference and self.season:
            anchor -= y[times - 1 - self.season]
        return anchor


def as_levels(name: str, y: object) -> np.ndarray:
    """``y`` (list, NumPy, torch, pandas; ints welcome) as float64 ``(time, features)``."""
    if hasattr(y, "to_numpy") and callable(y.to_numpy):  # pandas Series or DataFrame
        y = y.to_numpy()
    return series_tensor(name, y, dtype=torch.float64, device="cpu").numpy()


def detect_season(y: np.ndarray) -> int:
    """The seasonal period: the shortest lag whose autocorrelation peak is within 90% of the strongest, or 0.

    The autocorrelation is that of the first feature less a quadratic trend
    (differences would drown a weekly series' yearly cycle in noise).
    """
    t = np.arange(len(y))
    x = y[:, 0] - np.polyval(np.polyfit(t, y[:, 0], 2), t)
    x = x - x.mean()
    denominator = float(x @ x)
    longest = min(len(x) // 3, 400)
    if denominator == 0.0 or longest < 4:
        return 0
    acf = np.array([float(x[lag:] @ x[:-lag]) / denominator for lag in range(1, longest + 1)])
    peaks = [lag for lag in range(2, longest) if acf[lag - 1] > acf[lag - 2] and acf[lag - 1] >= acf[lag]]
    if not peaks:
        return 0
    strongest = max(acf[lag - 1] for lag in peaks)
    if strongest <= 0.25:
        return 0
    return min(lag for lag in peaks if acf[lag - 1] >= 0.9 * strongest)  # the period, not a multiple of it
