"""AutoForecaster's prediction intervals: calibrated on the validation tail, no look-ahead in backtests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import seqforecast as sf
from seqforecast._auto_intervals import IntervalCalibration


def ar1(length: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y = np.zeros(length)
    for t in range(1, length):
        y[t] = 0.7 * y[t - 1] + rng.standard_normal()
    return 10 + y


@pytest.fixture(scope="module")
def fitted() -> tuple[sf.AutoForecaster, np.ndarray]:
    y = ar1(3_000)
    return sf.AutoForecaster(seed=0, models=("linear",)).fit(y[:1_000]), y


def test_forecast_returns_a_forecast_with_nested_intervals(fitted: tuple[sf.AutoForecaster, np.ndarray]) -> None:
    est, _ = fitted
    result = est.forecast(8, level=(80, 95))
    assert isinstance(result, sf.Forecast)
    np.testing.assert_array_equal(np.asarray(result), result.mean)
    assert result.mean.shape == (8, 1)
    assert result.levels == (80.0, 95.0)
    low80, high80 = result.interval(80)
    low95, high95 = result.interval(95)
    assert np.all(low95 < low80)
    assert np.all(low80 < result.mean)
    assert np.all(result.mean < high80)
    assert np.all(high80 < high95)
    width = high95 - low95
    assert np.all(width[-1] > 1.2 * width[0])  # an AR(1)'s uncertainty grows with the horizon
    assert est.forecast(3).intervals == {}
    with pytest.raises(KeyError, match="levels held: 80, 95"):
        result.interval(90)


def test_the_horizon_beyond_the_calibrated_one_widens_like_a_random_walk(
    fitted: tuple[sf.AutoForecaster, np.ndarray],
) -> None:
    est, _ = fitted
    calibration = est._intervals
    assert calibration is not None
    steps = calibration.horizon
    radius = calibration.radius(80, steps + 4)
    assert radius.shape == (steps + 4, 1)
    if calibration.method == "gaussian":
        np.testing.assert_allclose(radius[-1], radius[steps - 1] * np.sqrt((steps + 4) / steps))


def test_backtest_intervals_cover_near_the_nominal_level(fitted: tuple[sf.AutoForecaster, np.ndarray]) -> None:
    est, y = fitted
    result = est.backtest(y, horizon=3, start=1_000, level=(80, 95))
    targets = result.targets.numpy()
    for level in (80, 95):
        lower, upper = result.interval(level)
        assert lower.shape == result.forecasts.shape
        covered = ((lower.numpy() <= targets) & (targets <= upper.numpy())).mean(axis=(0, 2))  # per horizon step
        np.testing.assert_allclose(covered, level / 100, atol=0.04)


def test_backtest_intervals_use_only_data_before_each_cutoff(fitted: tuple[sf.AutoForecaster, np.ndarray]) -> None:
    est, y = fitted
    changed = y.copy()
    changed[1_100:] += np.random.default_rng(1).normal(0, 50, len(y) - 1_100)  # wild data after cutoff 1100
    kept = est.backtest(y[:1_200], horizon=4, start=1_000, level=80)
    other = est.backtest(changed[:1_200], horizon=4, start=1_000, level=80)
    width = (kept.interval(80)[1] - kept.interval(80)[0]).numpy()
    other_width = (other.interval(80)[1] - other.interval(80)[0]).numpy()
    upto = 1_100 - 1_000  # cutoffs 1000 .. 1100: their forecasts and calibration saw none of the change
    np.testing.assert_array_equal(width[: upto + 1], other_width[: upto + 1])
    assert np.all(other_width[-20:] > width[-20:])  # later ones learned of the larger errors


def test_save_and_load_keep_the_intervals(fitted: tuple[sf.AutoForecaster, np.ndarray], tmp_path: Path) -> None:
    est, _ = fitted
    est.save(tmp_path / "auto.safetensors")
    loaded = sf.AutoForecaster.load(tmp_path / "auto.safetensors")
    for level in (50, 95):
        np.testing.assert_array_equal(
            loaded.forecast(14, level).interval(level), est.forecast(14, level).interval(level)
        )


def test_the_method_is_chosen_by_coverage_on_the_second_half() -> None:
    rng = np.random.default_rng(0)
    heavy = rng.standard_t(2, size=(400, 1, 1))  # heavy tails: the Gaussian's 95 % interval is off, conformal is not
    assert IntervalCalibration.choose(heavy).method == "conformal"
    assert IntervalCalibration.choose(heavy[:3]).method == "gaussian"  # too few cutoffs to split


@pytest.mark.parametrize(
    ("level", "error"),
    [
        pytest.param(0, ValueError, id="zero"),
        pytest.param(100, ValueError, id="hundred"),
        pytest.param("80", TypeError, id="text"),
    ],
)
def test_bad_levels_get_one_clear_error(
    fitted: tuple[sf.AutoForecaster, np.ndarray], level: object, error: type[Exception]
) -> None:
    est, y = fitted
    with pytest.raises(error, match="level"):
        est.forecast(3, level=level)  # type: ignore[arg-type]
    with pytest.raises(error, match="level"):
        est.backtest(y, 3, start=2_900, level=level)  # type: ignore[arg-type]
