"""The heads are calibrated: on AR(1) series of known noise, one-step intervals cover as they claim.

A linear one-lag model with a head (``FeedForwardForecaster(hidden_sizes=(),
window=1)``) can represent the true conditional distribution exactly, so
a few hundred Adam steps fit it; 5,000 test points then measure coverage to
about ±0.006 (one standard error at 80 %).

Each test asserts the documented target (coverage within 0.03 of the level,
CRPS within 10 % of the true conditional's), then a tighter bound that the
seeded runs meet with room to spare (measured: Gaussian 0.803 / 0.949 and
CRPS 1.0003 x the oracle's; Student-t 0.813 / 0.955; quantiles 0.803 /
0.945), so that a scale 6 % off (80 % coverage 0.774 or 0.829) fails.
"""

from __future__ import annotations

from typing import Any

import pytest
import torch
from torch import Tensor

import seqforecast as sf
from benchmarks.synthetic import ar1
from seqforecast import metrics

PHI, SIGMA, TEST_POINTS = 0.8, 0.5, 5000


def fitted(head: dict[str, Any], *, df: float | None) -> tuple[Any, Tensor, Tensor]:
    """A head fitted on 20,000 points: its one-step distributions along 5,000 test points, the inputs and targets."""
    y = ar1(20_000 + TEST_POINTS + 1, seed=0, phi=PHI, scale=SIGMA, df=df)
    model = sf.FeedForwardForecaster(hidden_sizes=(), window=1, seed=0, **head)
    trainer = sf.Trainer(model, device="cpu", lr=0.03, clip_grad_norm=1.0, seed=0)
    trainer.fit(sf.ArrayStream(y[:20_000], seq_length=100, batch_size=32), steps=400)
    test = torch.tensor(y[20_000:], dtype=torch.float32)
    with torch.no_grad():
        dist = model.distribution(test[:-1].view(1, -1, 1))
    return dist, test[:-1].view(1, -1, 1), test[1:].view(1, -1, 1)


def coverage(dist: Any, targets: Tensor, level: float) -> float:
    lower, upper = dist.icdf(torch.tensor((1 - level) / 2)), dist.icdf(torch.tensor((1 + level) / 2))
    return float(((targets >= lower) & (targets <= upper)).double().mean())


def assert_covers(dist: Any, targets: Tensor, level: float, *, tight: float = 0.015) -> None:
    """Coverage within the documented 0.03 of ``level``, and within ``tight`` of it."""
    measured = coverage(dist, targets, level)
    assert measured == pytest.approx(level, abs=0.03)
    assert measured == pytest.approx(level, abs=tight)


def test_the_gaussian_head_is_calibrated_and_scores_like_the_truth() -> None:
    dist, inputs, targets = fitted({"likelihood": "gaussian"}, df=None)
    assert_covers(dist, targets, 0.8)
    assert_covers(dist, targets, 0.95)
    x = targets.flatten()
    oracle = metrics.crps_gaussian(PHI * inputs.flatten(), torch.full_like(x, SIGMA), x)  # the true conditional
    model_crps = metrics.crps_gaussian(dist.loc.flatten(), dist.scale.flatten(), x)
    assert float(model_crps) <= 1.1 * float(oracle)  # the documented target
    assert float(model_crps) <= 1.01 * float(oracle)


def test_the_student_t_head_is_calibrated_on_heavy_tailed_noise() -> None:
    dist, _, targets = fitted({"likelihood": "student_t"}, df=3.0)
    assert_covers(dist, targets, 0.95)
    assert_covers(dist, targets, 0.8, tight=0.02)  # measured 0.813


def test_the_quantile_head_is_calibrated() -> None:
    dist, _, targets = fitted({"quantiles": (0.025, 0.1, 0.5, 0.9, 0.975)}, df=None)
    assert_covers(dist, targets, 0.8)
    assert_covers(dist, targets, 0.95)
