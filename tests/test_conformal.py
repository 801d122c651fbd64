"""Conformal intervals: split conformal's coverage and guarantee, adaptive conformal under drift."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import seqforecast as sf
from benchmarks.synthetic import ar1
from benchmarks.synthetic import ar1_oracle as oracle
from seqforecast.conformal import conformal_rank

PHI = 0.8


def bad(value: object) -> Any:
    """``value``, typed ``Any``: a wrong type passed on purpose."""
    return value


def coverage(lower: np.ndarray, upper: np.ndarray, target: np.ndarray) -> float:
    return float(np.mean((lower <= target) & (target <= upper)))


@pytest.mark.parametrize("level", [80, 95])
def test_split_conformal_covers_at_the_nominal_level_on_ar1(level: float) -> None:
    y = ar1(8_000, seed=1)
    model = oracle()
    calibration = sf.ConformalCalibration.from_backtest(sf.backtest(model, y[:2_000], horizon=1, start=1))
    test = sf.backtest(model, y, horizon=1, start=2_000)  # 6,000 one-step forecasts after the calibration range
    assert test.forecasts.shape[0] == 6_000
    lower, upper = calibration.interval(test.forecasts, level)
    assert coverage(lower, upper, test.targets.numpy()) == pytest.approx(level / 100, abs=0.03)
    width = (upper - lower).mean()  # the oracle's interval is +- z * sigma
    z = {80.0: 1.2816, 95.0: 1.96}[level]
    assert width == pytest.approx(2 * z, rel=0.1)


def test_split_conformal_per_horizon_step_widens_with_the_horizon() -> None:
    y = ar1(3_000, seed=2)
    calibration = sf.ConformalCalibration.from_backtest(sf.backtest(oracle(), y, horizon=6, start=1_000))
    radius = calibration.radius(90)[:, 0]
    assert radius.shape == (6,)
    assert np.all(np.diff(radius) > 0)  # the error variance of an AR(1) grows with the horizon
    result = calibration.forecast(sf.forecast(oracle(), y, 4), level=(80, 90))
    assert result.mean.shape == (4, 1)
    assert result.levels == (80.0, 90.0)
    np.testing.assert_allclose(result.interval(90)[1] - result.mean, calibration.radius(90)[:4])


def test_conformal_forecast_calibrates_on_the_backtest_from_start() -> None:
    y = ar1(600, seed=3)
    model = oracle()
    result = sf.conformal_forecast(model, y, 5, start=300, level=(50, 90), stride=2)
    by_hand = sf.ConformalCalibration.from_backtest(sf.backtest(model, y, 5, start=300, stride=2))
    np.testing.assert_allclose(result.mean, sf.forecast(model, y, 5).numpy())
    for level in (50, 90):
        np.testing.assert_allclose(result.interval(level)[0], result.mean - by_hand.radius(level))


def test_a_time_first_batch_gets_each_steps_radius_in_its_own_layout() -> None:
    series = np.stack([ar1(400, seed=s) for s in range(3)])  # (3, 400): three series
    batch_first = torch.from_numpy(series).float().unsqueeze(-1)  # (3, 400, 1)
    time_first_model = oracle()
    time_first_model.batch_first = False
    expected = sf.conformal_forecast(oracle(), batch_first, 5, start=300, level=(80, 95))
    result = sf.conformal_forecast(time_first_model, batch_first.transpose(0, 1), 5, start=300, level=(80, 95))
    assert expected.mean.shape == (3, 5, 1)
    assert result.mean.shape == (5, 3, 1)  # as sf.forecast lays it out for a time-first model
    np.testing.assert_allclose(result.mean, expected.mean.transpose(1, 0, 2))
    for level in (80, 95):
        for bound, expected_bound in zip(result.interval(level), expected.interval(level), strict=True):
            np.testing.assert_allclose(bound, expected_bound.transpose(1, 0, 2))
    radius = expected.interval(95)[1] - expected.mean
    np.testing.assert_allclose(radius, np.broadcast_to(radius[:1], radius.shape))  # per step, the same for each series
    assert radius[0, -1, 0] > radius[0, 0, 0]  # an AR(1)'s errors grow with the horizon


def test_a_batch_of_series_is_pooled_and_forecasts_keep_their_shape() -> None:
    y = torch.from_numpy(np.stack([ar1(300, seed=s) for s in range(3)])).float().unsqueeze(-1)  # (3, 300, 1)
    result = sf.backtest(oracle(), y, 2, start=200)
    calibration = sf.ConformalCalibration.from_backtest(result)
    assert calibration.count == 3 * result.cutoffs.shape[0]
    lower, _ = calibration.interval(result.forecasts, 80)
    assert lower.shape == tuple(result.forecasts.shape)


@given(
    errors=hnp.arrays(
        np.float64,
        st.tuples(st.integers(2, 60), st.integers(1, 3), st.integers(1, 2)),
        elements=st.floats(0, 1e6, allow_nan=False),
    ),
    level=st.floats(1, 99),
)
def test_conformal_intervals_are_never_narrower_than_the_calibration_data_allow(
    errors: np.ndarray, level: float
) -> None:
    count = errors.shape[0]
    calibration = sf.ConformalCalibration(errors)
    rank = conformal_rank(count, level)
    if rank > count:  # too few windows for this level: a clear error, never a too-narrow interval
        with pytest.raises(ValueError, match="calibration windows"):
            calibration.radius(level)
        return
    radius = calibration.radius(level)
    np.testing.assert_array_equal(radius, np.sort(errors, axis=0)[rank - 1])  # exactly the rank-th smallest
    within = (errors <= radius).sum(axis=0)
    assert np.all(within >= math.ceil(level / 100 * (count + 1) - 1e-9))  # the finite-sample correction
    assert np.all(within / count >= level / 100)  # so at least `level` % of the calibration errors are inside
    forecasts = np.zeros((4, errors.shape[1], errors.shape[2]))
    lower, upper = calibration.interval(forecasts, level)
    np.testing.assert_array_equal(upper - lower, np.broadcast_to(2 * radius, lower.shape))


def test_adaptive_conformal_recovers_after_the_noise_doubles_and_split_conformal_does_not() -> None:
    change, length, level = 2_000, 5_000, 80
    scale = np.where(np.arange(length) < change, 1.0, 2.0)
    y = ar1(length, seed=4, scale=scale)
    model = oracle()
    calibration = sf.ConformalCalibration.from_backtest(sf.backtest(model, y[:1_000], horizon=1, start=1))
    online = sf.AdaptiveConformal(model, level=level, gamma=0.005, window=500, calibration=calibration)
    bounds = np.array([[float(b[0]) for b in online.update(torch.tensor([v], dtype=torch.float32))[1:]] for v in y])
    lower, upper = bounds[:-1, 0], bounds[:-1, 1]  # row t bounds y[t + 1]
    target = y[1:]
    hits = (lower <= target) & (target <= upper)
    assert hits[1_000:change].mean() == pytest.approx(level / 100, abs=0.05)  # calibrated before the change
    after = slice(change + 500, length - 1)  # from 500 steps after the change on
    rolling = np.convolve(hits[after], np.ones(500) / 500, mode="valid")
    assert np.all(np.abs(rolling - level / 100) <= 0.05)
    split = sf.backtest(model, y, horizon=1, start=1_001)
    split_lower, split_upper = calibration.interval(split.forecasts, level)
    split_hits = (split_lower <= split.targets.numpy()) & (split.targets.numpy() <= split_upper)
    assert split_hits[change + 500 - 1_001 :].mean() < level / 100 - 0.05  # fixed intervals under-cover after the drift


def test_adaptive_conformal_alpha_follows_the_update_rule() -> None:
    model = oracle()
    online = sf.AdaptiveConformal(model, level=90, gamma=0.1, window=10, calibration=np.full((20, 1), 1.0))
    online.update(torch.tensor([0.0]))  # forecast 0, interval +- 1
    alpha = online.alpha
    assert alpha is not None
    assert alpha.item() == pytest.approx(0.1)
    online.update(torch.tensor([5.0]))  # a miss: alpha <- 0.1 + 0.1 * (0.1 - 1)
    assert online.alpha is not None
    assert online.alpha.item() == pytest.approx(0.1 + 0.1 * (0.1 - 1))
    online.update(torch.tensor([4.0]))  # forecast was 4 (0.8 * 5): a hit
    assert online.alpha.item() == pytest.approx(0.01 + 0.1 * 0.1)
    online.reset()
    assert online.stream.steps == 0
    assert online.alpha is None


def test_adaptive_conformal_starts_from_the_most_recent_calibration_errors() -> None:
    errors = np.concatenate([np.full(300, 10.0), np.full(200, 1.0)]).reshape(500, 1, 1)  # large ones first, then small
    calibration = sf.ConformalCalibration(errors)
    np.testing.assert_array_equal(calibration.errors, errors)  # kept in the order given
    online = sf.AdaptiveConformal(oracle(), level=80, window=100, calibration=calibration)
    point, _, upper = online.update(torch.tensor([0.0]))
    assert (upper - point).item() == pytest.approx(1.0)  # the last 100 errors are all 1: the intervals start at +- 1


@pytest.mark.parametrize(("second", "width"), [(5.0, math.inf), (0.5, 0.0)])
def test_adaptive_conformal_alpha_beyond_0_or_1_gives_infinite_or_zero_width(second: float, width: float) -> None:
    online = sf.AdaptiveConformal(oracle(), level=90, gamma=5.0, window=10, calibration=np.full((20, 1), 1.0))
    online.update(torch.tensor([0.0]))  # forecast 0, interval +- 1
    online.update(torch.tensor([second]))  # a miss: alpha 0.1 + 5 (0.1 - 1) < 0; a hit: alpha 0.1 + 5 * 0.1 = 0.6
    if width == 0.0:
        assert online.alpha is not None
        assert online.alpha.item() == pytest.approx(0.6)
        point, lower, upper = online.update(torch.tensor([0.4]))  # a hit again: alpha 1.1 >= 1
    else:
        point, lower, upper = online.update(torch.tensor([4.0]))
    assert online.alpha is not None
    assert (online.alpha.item() >= 1.0) if width == 0.0 else (online.alpha.item() <= 0.0)
    assert (upper - point).item() == width
    assert (point - lower).item() == width


def test_adaptive_conformal_on_a_batch_keeps_each_lane_apart() -> None:
    online = sf.AdaptiveConformal(oracle(), level=80, calibration=np.ones((10, 1)))
    point, lower, upper = online.update(torch.zeros(2, 1))
    assert point.shape == lower.shape == upper.shape == (2, 1)
    _ = online.update(torch.tensor([[0.5], [9.0]]))  # the second lane misses
    assert online.alpha is not None
    assert online.alpha[0, 0] > online.alpha[1, 0]


def test_calibration_errors_of_a_batch_must_fit_the_stream() -> None:
    online = sf.AdaptiveConformal(oracle(), level=80, calibration=np.ones((10, 3, 1)))
    with pytest.raises(ValueError, match="do not fit forecasts of shape"):
        online.update(torch.zeros(2, 1))
    online = sf.AdaptiveConformal(oracle(), level=80, calibration=np.ones((10, 2, 1)))
    _, lower, _ = online.update(torch.zeros(2, 1))
    assert lower.shape == (2, 1)


def test_first_intervals_without_calibration_are_infinite() -> None:
    online = sf.AdaptiveConformal(oracle(), level=80)
    _, lower, upper = online.update(torch.tensor([1.0]))
    assert math.isinf(lower.item())
    assert math.isinf(upper.item())


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        pytest.param(lambda: sf.ConformalCalibration(np.ones((1, 2, 1))), ValueError, "at least 2", id="one-window"),
        pytest.param(lambda: sf.ConformalCalibration(np.ones((4, 2))), ValueError, "count, horizon", id="shape"),
        pytest.param(lambda: sf.ConformalCalibration(-np.ones((4, 1, 1))), ValueError, ">= 0", id="negative"),
        pytest.param(lambda: sf.ConformalCalibration(np.ones((4, 1, 1))).radius(95), ValueError, "19", id="few"),
        pytest.param(lambda: sf.ConformalCalibration(np.ones((4, 1, 1))).radius(100), ValueError, "between", id="100"),
        pytest.param(lambda: sf.ConformalCalibration(np.ones((4, 1, 1))).radius(0), ValueError, "between", id="0"),
        pytest.param(
            lambda: sf.ConformalCalibration(np.ones((40, 2, 1))).interval(np.zeros((3, 1)), 80),
            ValueError,
            "steps <= 2",
            id="longer",
        ),
        pytest.param(lambda: sf.ConformalCalibration.from_backtest(bad("x")), TypeError, "Backtest", id="not-backtest"),
        pytest.param(
            lambda: sf.conformal_forecast(oracle(), np.zeros(50), 5, start=45), ValueError, "at least 2", id="range"
        ),
        pytest.param(lambda: sf.AdaptiveConformal(oracle(), gamma=0), ValueError, "gamma", id="gamma"),
        pytest.param(lambda: sf.AdaptiveConformal(oracle(), level=120), ValueError, "level", id="level"),
        pytest.param(lambda: sf.AdaptiveConformal(oracle(), window=1), ValueError, "window", id="window"),
        pytest.param(
            lambda: sf.AdaptiveConformal(oracle(), calibration=np.ones((3, 2))), ValueError, "calibration", id="cal"
        ),
        pytest.param(
            lambda: sf.AdaptiveConformal(sf.FeedForwardForecaster(2, 1)), ValueError, "output_size", id="sizes"
        ),
    ],
)
def test_bad_input_gets_one_clear_error(call: object, error: type[Exception], match: str) -> None:
    assert callable(call)
    with pytest.raises(error, match=match):
        call()
