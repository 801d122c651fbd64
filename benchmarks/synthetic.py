"""Series with a known answer, shared by the benchmarks and the tests that check the same targets."""

from __future__ import annotations

import numpy as np
import torch

import seqforecast as sf

__all__ = ["ar1", "ar1_oracle"]


def ar1(
    length: int, *, seed: int, phi: float = 0.8, scale: np.ndarray | float = 1.0, df: float | None = None
) -> np.ndarray:
    """``y[t] = phi * y[t-1] + scale[t] * e[t]``, ``e`` standard normal (``df`` None) or Student-t(``df``).

    ``scale`` is a number, or one per step (e.g. noise that doubles halfway); ``(length,)`` float64.
    """
    rng = np.random.default_rng(seed)
    noise = rng.standard_normal(length) if df is None else rng.standard_t(df, length)
    noise = noise * scale
    y = np.zeros(length)
    for t in range(1, length):
        y[t] = phi * y[t - 1] + noise[t]
    return y


def ar1_oracle(phi: float = 0.8) -> sf.FeedForwardForecaster:
    """The true one-step forecast of :func:`ar1`, ``phi * y[t]``, as a linear feed-forward forecaster."""
    model = sf.FeedForwardForecaster(1, 1, (), window=1)
    linear = model.net[0]
    assert isinstance(linear, torch.nn.Linear)
    with torch.no_grad():
        linear.weight.fill_(phi)
        linear.bias.zero_()
    return model.eval()
