"""Interval metrics (coverage, width, MSIS) and evaluate's interval report."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import seqforecast as sf
from seqforecast import metrics


def test_coverage_and_width_by_hand() -> None:
    lower, upper = torch.tensor([0.0, 0.0, -math.inf]), torch.tensor([1.0, 1.0, math.inf])
    assert float(metrics.coverage(lower, upper, torch.tensor([1.0, 1.5, 1e9]))) == pytest.approx(2 / 3)
    assert float(metrics.interval_width(lower[:2], upper[:2])) == 1.0


@given(
    width=st.floats(0.1, 10),
    miss=st.floats(0.0, 5),
    level=st.sampled_from([50.0, 80.0, 95.0]),
)
def test_msis_is_the_width_plus_the_scaled_penalty_of_a_miss(width: float, miss: float, level: float) -> None:
    history = torch.arange(10.0, dtype=torch.float64) * 2  # mean absolute change 2
    lower, upper = torch.tensor([0.0], dtype=torch.float64), torch.tensor([width], dtype=torch.float64)
    target = torch.tensor([width + miss], dtype=torch.float64)
    alpha = 1 - level / 100
    expected = (width + 2 / alpha * miss) / 2
    assert float(metrics.msis(lower, upper, target, history, level=level)) == pytest.approx(expected)
    below = torch.tensor([-miss], dtype=torch.float64)  # as far below the lower bound
    assert float(metrics.msis(lower, upper, below, history, level=level)) == pytest.approx(expected)


def test_msis_uses_the_seasonal_scale() -> None:
    history = torch.tensor([0.0, 5.0, 1.0, 6.0, 2.0, 7.0])  # lag-2 change 1
    score = metrics.msis(torch.zeros(1), torch.ones(1), torch.zeros(1), history, level=80, period=2)
    assert float(score) == pytest.approx(1.0)


def test_msis_scales_each_feature_by_its_own_change() -> None:
    history = torch.stack([torch.arange(10.0), 100 * torch.arange(10.0)], dim=1)  # changes 1 and 100
    lower, upper = torch.zeros(3, 2), torch.ones(3, 2) * torch.tensor([1.0, 100.0])
    targets = torch.tensor([[0.5, 50.0], [3.0, 300.0], [-1.0, -100.0]])  # the same misses, relative to each scale
    both = metrics.msis(lower, upper, targets, history, level=80)
    each = [metrics.msis(lower[:, f], upper[:, f], targets[:, f], history[:, f], level=80) for f in range(2)]
    assert float(each[0]) == pytest.approx(float(each[1]))
    assert float(both) == pytest.approx(float(each[0]))  # the mean of the per-feature scores, not a pooled scale
    with pytest.raises(ValueError, match="feature"):
        metrics.msis(lower[:, :1], upper[:, :1], targets[:, :1], history, level=80)
    with pytest.raises(ValueError, match="constant"):
        metrics.msis(lower, upper, targets, torch.stack([torch.arange(10.0), torch.ones(10)], dim=1), level=80)


def _ar_oracle() -> sf.FeedForwardForecaster:
    model = sf.FeedForwardForecaster(1, 1, (), window=1)
    linear = model.net[0]
    assert isinstance(linear, torch.nn.Linear)
    with torch.no_grad():
        linear.weight.fill_(0.5)
        linear.bias.zero_()
    return model


def test_evaluate_calibrates_its_intervals_on_targets_before_the_scored_origins() -> None:
    rng = np.random.default_rng(1)
    y = rng.standard_normal(120)
    middle = (0 + len(y) - 1) // 2  # the first scored origin
    changed = y.copy()
    changed[middle + 1 :] *= 10  # what comes after the first scored origin
    model = _ar_oracle()
    scores = sf.evaluate(model, y, horizon=4, level=80)
    other = sf.evaluate(model, changed, horizon=4, level=80)
    assert scores["coverage_80"] != other["coverage_80"]  # the scored points did change
    for name in ("width_80", "naive_width_80"):  # the radii come from targets up to `middle` only
        assert scores[name] == pytest.approx(other[name], rel=1e-12)


def test_evaluate_reports_interval_scores_beside_the_naive_forecast() -> None:
    rng = np.random.default_rng(0)
    y = np.zeros(1_500)
    for t in range(1, len(y)):
        y[t] = 0.5 * y[t - 1] + rng.standard_normal()
    model = sf.FeedForwardForecaster(1, 1, (), window=1)
    linear = model.net[0]
    assert isinstance(linear, torch.nn.Linear)
    with torch.no_grad():
        linear.weight.fill_(0.5)
        linear.bias.zero_()
    scores = sf.evaluate(model, y, horizon=2, level=(80, 95))
    for level in ("80", "95"):
        assert scores[f"coverage_{level}"] == pytest.approx(int(level) / 100, abs=0.04)
        assert scores[f"naive_coverage_{level}"] == pytest.approx(int(level) / 100, abs=0.05)
        assert scores[f"width_{level}"] < scores[f"naive_width_{level}"]  # the model's errors are smaller
        assert scores[f"msis_{level}"] < scores[f"naive_msis_{level}"]
    assert "coverage_80" not in sf.evaluate(model, y[:50])
    assert "coverage_80" in sf.evaluate(model, y[:500], level=np.array([80.0]))


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        pytest.param(
            lambda: metrics.coverage(torch.ones(2), torch.zeros(2), torch.zeros(2)), ValueError, "exceed", id="crossed"
        ),
        pytest.param(
            lambda: metrics.coverage(torch.zeros(2), torch.ones(3), torch.zeros(2)),
            ValueError,
            "same shape",
            id="shape",
        ),
        pytest.param(
            lambda: metrics.interval_width(torch.tensor([math.nan]), torch.ones(1)), ValueError, "NaN", id="nan"
        ),
        pytest.param(
            lambda: metrics.coverage(torch.zeros(1), torch.ones(1), torch.tensor([math.inf])),
            ValueError,
            "targets",
            id="inf-target",
        ),
        pytest.param(
            lambda: metrics.msis(torch.zeros(1), torch.ones(1), torch.zeros(1), torch.arange(5.0), level=100),
            ValueError,
            "level",
            id="level",
        ),
        pytest.param(
            lambda: metrics.msis(torch.zeros(1), torch.ones(1), torch.zeros(1), torch.ones(5), level=80),
            ValueError,
            "constant",
            id="constant",
        ),
        pytest.param(
            lambda: sf.evaluate(sf.FeedForwardForecaster(), np.sin(np.arange(20.0)), level=95),
            ValueError,
            "calibration points",
            id="too-short",
        ),
    ],
)
def test_bad_input_gets_one_clear_error(call: object, error: type[Exception], match: str) -> None:
    assert callable(call)
    with pytest.raises(error, match=match):
        call()
