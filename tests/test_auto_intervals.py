"""AutoForecaster's prediction intervals: calibrated on the validation tail, no look-ahead in backtests."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest

import seqforecast as sf
from seqforecast._auto_intervals import IntervalCalibration
from seqforecast.checkpoint import CheckpointError


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
    np.testing.assert_allclose(radius[-1], radius[steps - 1] * np.sqrt((steps + 4) / steps))  # either method


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


def test_backtest_intervals_inside_the_fit_data_never_see_later_validation_errors(
    fitted: tuple[sf.AutoForecaster, np.ndarray],
) -> None:
    est, y = fitted
    calibration = est._intervals
    assert calibration is not None
    assert (calibration.first, calibration.end) == (800, 1_000)  # the validation tail of the 1,000 points fitted
    later = calibration.target_times(calibration.horizon) >= 900
    tampered = copy.copy(est)  # the same model, but validation errors of targets from 900 on are huge
    tampered._intervals = IntervalCalibration(
        np.where(later[..., None], 1e6, calibration.errors), calibration.method, calibration.first
    )
    with pytest.warns(UserWarning, match="cutoffs before 1000 lie in the data given to fit"):
        kept = est.backtest(y[:1_000], horizon=3, start=780, level=80)
    with pytest.warns(UserWarning, match="optimistic"):
        other = tampered.backtest(y[:1_000], horizon=3, start=780, level=80)
    cutoffs = kept.cutoffs.numpy()
    high = kept.interval(80)[1].numpy()
    other_high = other.interval(80)[1].numpy()
    np.testing.assert_array_equal(high[cutoffs <= 900], other_high[cutoffs <= 900])  # targets before c only
    assert np.all(other_high[cutoffs >= 950] > high[cutoffs >= 950])  # later cutoffs know of the huge errors
    assert np.isinf(high[0]).all()  # the first cutoff, before the validation tail, has no error before it
    assert np.isfinite(high[cutoffs >= 800]).all()


def test_backtest_after_the_fit_data_does_not_warn(fitted: tuple[sf.AutoForecaster, np.ndarray]) -> None:
    est, y = fitted
    result = est.backtest(y[:1_100], horizon=2, start=1_000, level=80)  # filterwarnings = error: no warning
    assert np.isfinite(result.interval(80)[0].numpy()).all()
    with pytest.warns(UserWarning, match="optimistic"):
        est.backtest(y[:1_100], horizon=2, start=999, level=80)


def test_a_level_too_high_for_the_cutoffs_is_gaussian_with_a_warning(
    fitted: tuple[sf.AutoForecaster, np.ndarray],
) -> None:
    est, _ = fitted
    calibration = est._intervals
    assert calibration is not None
    assert est.interval_method == "conformal"
    assert calibration.count < 199  # a conformal 99.5 % interval needs 199
    assert not calibration.falls_back(95)
    assert calibration.falls_back(99.5)
    with pytest.warns(UserWarning, match=r"99.5% intervals are Gaussian .* needs at least 199"):
        result = est.forecast(3, level=(95, 99.5))
    assert np.all(result.interval(99.5)[1] > result.interval(95)[1])


def test_levels_may_be_an_array_and_none_means_none(fitted: tuple[sf.AutoForecaster, np.ndarray]) -> None:
    est, y = fitted
    result = est.forecast(3, level=np.array([95.0, 80.0]))
    assert result.levels == (80.0, 95.0)
    assert est.forecast(3).levels == est.forecast(3, level=None).levels == ()
    with pytest.raises(ValueError, match="at least one level"):
        est.forecast(3, level=[])
    assert est.backtest(y[:1_050], 2, start=1_000, level=np.array([80])).interval(80)[0].shape == (49, 2, 1)


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
    assert IntervalCalibration.choose(heavy, first=1).method == "conformal"
    assert IntervalCalibration.choose(heavy[:3], first=1).method == "gaussian"  # too few cutoffs to split
    assert IntervalCalibration.choose(heavy[:7], first=1).method == "gaussian"  # halves of 3: conformal would be too


def test_a_calibration_compares_by_identity() -> None:
    calibration = IntervalCalibration(np.zeros((4, 1, 1)), "gaussian", 1)
    assert calibration in [calibration]
    assert calibration != IntervalCalibration(np.zeros((4, 1, 1)), "gaussian", 1)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        pytest.param({"method": "uniform"}, "method must be", id="method"),
        pytest.param({"first": -1}, "first must be", id="first"),
        pytest.param({"shape": [2, 1]}, "shape must be", id="shape"),
        pytest.param({"errors": [1.0]}, "errors must be a list of", id="size"),
        pytest.param({"errors": "x"}, "errors must be a list of", id="type"),
        pytest.param({"first": None, "extra": 1}, "expected the keys", id="keys"),
    ],
)
def test_a_damaged_calibration_is_refused_on_load(
    fitted: tuple[sf.AutoForecaster, np.ndarray], change: dict[str, object], match: str
) -> None:
    est, _ = fitted
    assert est._intervals is not None
    saved = est._intervals.to_json()
    loaded = IntervalCalibration.from_json(saved)
    assert loaded is not None
    np.testing.assert_array_equal(loaded.errors, est._intervals.errors)
    saved.update(change)
    if "extra" in change:
        del saved["first"]
    with pytest.raises(CheckpointError, match=match):
        IntervalCalibration.from_json(saved)
    with pytest.raises(CheckpointError, match="expected the keys"):
        IntervalCalibration.from_json([1, 2])


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
