"""AutoForecaster: beats naive on a shipped series, causal, stateful, saved without pickle."""

from __future__ import annotations

import copy
import os
import signal
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

import seqforecast as sf

SUNSPOTS = Path(__file__).parent.parent / "examples" / "data" / "sunspots.csv"


def _relative_mse(est: sf.AutoForecaster, y: np.ndarray, split: int) -> float:
    predicted = est.predict(y)  # row t forecasts y[t + 1]
    model = np.mean((predicted[split - 1 : -1] - y[split:]) ** 2)
    naive = np.mean((y[split - 1 : -1] - y[split:]) ** 2)
    return float(model / naive)


@pytest.fixture(scope="module")
def sunspots() -> np.ndarray:
    return sf.load_series(SUNSPOTS, column="SUNACTIVITY")


@pytest.fixture(scope="module")
def wave() -> np.ndarray:
    t = np.arange(160)
    values: np.ndarray = 10 * np.sin(t / 3) + 0.1 * t + np.random.default_rng(0).normal(0, 0.3, 160)
    return values


@pytest.fixture(scope="module")
def gru(wave: np.ndarray) -> sf.AutoForecaster:
    """A GRU recipe (the candidate with the richest state), quickly trained."""
    return sf.AutoForecaster(seed=0, models=("gru",), steps=15, season=0).fit(wave[:100])


def test_beats_naive_on_the_shipped_sunspots_by_a_clear_margin(sunspots: np.ndarray) -> None:
    split = round(len(sunspots) * 0.8)
    est = sf.AutoForecaster(seed=0, models=("linear",)).fit(sunspots[:split])  # the test tail is never seen
    assert _relative_mse(est, sunspots, split) < 0.5
    assert est.naive_mse_ > est.scores_[0].mse
    assert "of naive" in est.summary()
    assert "seasonal naive" in est.summary()  # the 11-year cycle is detected
    assert est.choice_ is not None
    assert est.choice_ in repr(est)


@pytest.mark.slow
def test_the_full_recipe_beats_naive_on_sunspots_and_is_deterministic(sunspots: np.ndarray) -> None:
    split = round(len(sunspots) * 0.8)
    first = sf.AutoForecaster(seed=0).fit(sunspots[:split])
    second = sf.AutoForecaster(seed=0).fit(sunspots[:split])
    assert _relative_mse(first, sunspots, split) < 0.5
    np.testing.assert_array_equal(first.predict(sunspots), second.predict(sunspots))


@pytest.mark.parametrize("models", [("linear",), ("gru",)], ids=["linear", "gru"])
def test_predict_is_causal_including_its_transforms(wave: np.ndarray, models: tuple[str, ...]) -> None:
    t = np.arange(160)
    wave = np.cumsum(np.random.default_rng(1).normal(size=160)) + 5 * np.sin(2 * np.pi * t / 12)
    est = sf.AutoForecaster(seed=0, models=models, steps=15, season=12).fit(wave[:100])
    assert "seasonal differences" in str(est.choice_)  # the transform's look-back is part of what is checked
    before = est.predict(wave)
    for cut in (20, 70, 130):
        changed = wave.copy()
        changed[cut:] += np.linspace(5.0, -50.0, len(wave) - cut)
        after = est.predict(changed)
        np.testing.assert_array_equal(after[:cut], before[:cut])  # row t uses wave[: t + 1] only
        assert not np.allclose(after[cut:], before[cut:])


def test_update_then_forecast_equals_predict_on_the_whole_series(gru: sf.AutoForecaster, wave: np.ndarray) -> None:
    gru.predict(wave[:110])
    updated = np.vstack([gru.update(wave[110:130]), gru.update(wave[130:131]), gru.update(wave[131:])])
    after_updates = gru.forecast(6).mean
    whole = gru.predict(wave)
    np.testing.assert_allclose(updated, whole[110:], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(after_updates, gru.forecast(6), rtol=1e-6, atol=1e-6)
    assert gru.forecast(1).mean[0] == pytest.approx(whole[-1, 0])  # the first step is predict's last row


def test_fit_leaves_the_data_where_forecast_continues(wave: np.ndarray) -> None:
    est = sf.AutoForecaster(seed=0, models=("linear",), season=0).fit(wave[:100])
    fitted = est.forecast(4).mean
    est.predict(wave[:100])
    np.testing.assert_allclose(est.forecast(4), fitted)
    trend = sf.AutoForecaster(seed=0, models=("linear",)).fit(np.arange(60) * 3 + 7)
    np.testing.assert_allclose(trend.forecast(3).mean.ravel(), [187.0, 190.0, 193.0], atol=1e-6)


def test_save_and_load_give_identical_predictions(gru: sf.AutoForecaster, wave: np.ndarray, tmp_path: Path) -> None:
    gru.predict(wave[:120])
    path = tmp_path / "auto.safetensors"
    gru.save(path)
    loaded = sf.AutoForecaster.load(path)
    np.testing.assert_array_equal(loaded.forecast(5), gru.forecast(5))  # continues after the data last seen
    np.testing.assert_array_equal(loaded.update(wave[120:]), gru.update(wave[120:]))
    np.testing.assert_array_equal(loaded.predict(wave), gru.predict(wave))
    assert loaded.summary() == gru.summary()
    assert b"pickle" not in path.read_bytes()[:200]
    plain = tmp_path / "plain.safetensors"
    sf.save(plain, sf.RecurrentForecaster(hidden_size=2, num_layers=1))
    with pytest.raises(ValueError, match="not an AutoForecaster"):
        sf.AutoForecaster.load(plain)


SAVED_KEYS = {
    "format", "seed", "season", "val_fraction", "steps", "models", "difference", "transform_season", "choice",
    "scores", "naive_mse", "seasonal_naive_mse", "features", "tail", "state", "next", "intervals", "panel",
}  # fmt: skip


def test_files_keep_their_keys_and_files_from_before_intervals_and_panels_still_load(
    gru: sf.AutoForecaster, wave: np.ndarray, tmp_path: Path
) -> None:
    gru.predict(wave[:120])
    gru.save(tmp_path / "auto.safetensors")
    checkpoint = sf.load(tmp_path / "auto.safetensors")
    info = checkpoint.metadata["auto"]
    assert set(info) == SAVED_KEYS  # what earlier versions wrote and read: renaming one breaks their files
    older = {key: value for key, value in info.items() if key not in ("intervals", "panel")}
    sf.save(tmp_path / "older.safetensors", checkpoint.model, scaler=checkpoint.scaler, metadata={"auto": older})
    loaded = sf.AutoForecaster.load(tmp_path / "older.safetensors")
    np.testing.assert_array_equal(loaded.forecast(5).mean, gru.forecast(5).mean)
    assert loaded.interval_method is None
    with pytest.raises(ValueError, match="saved by an older version"):
        loaded.forecast(5, level=80)


def test_warns_naming_the_numbers_when_nothing_beats_naive() -> None:
    walk = np.cumsum(np.random.default_rng(3).normal(size=200))
    with pytest.warns(UserWarning, match=r"no model beat the naive forecast.*MSE 0\.9\d+ vs naive 0\.9\d+"):
        est = sf.AutoForecaster(seed=0, models=("linear",)).fit(walk)
    assert est.choice_ == "naive"
    np.testing.assert_allclose(est.predict(walk)[:-1, 0], walk[:-1])  # exactly the naive forecast
    np.testing.assert_allclose(est.forecast(3).mean.ravel(), [walk[-1]] * 3)


def test_integer_lists_tensors_and_several_features_are_accepted() -> None:
    counts = [int(20 + 10 * np.sin(i / 2)) for i in range(80)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # whether it beats naive is not the point here
        from_list = sf.AutoForecaster(seed=0, models=("linear",)).fit(counts)
        from_tensor = sf.AutoForecaster(seed=0, models=("linear",)).fit(torch.tensor(counts))
    np.testing.assert_array_equal(from_list.predict(counts), from_tensor.predict(np.array(counts)))
    pair = np.stack([np.sin(np.arange(90) / 4), np.cos(np.arange(90) / 4)], axis=1)
    est = sf.AutoForecaster(seed=0, models=("linear",)).fit(pair)
    assert est.predict(pair).shape == (90, 2)
    assert est.forecast(4).mean.shape == (4, 2)


def test_pandas_series_are_accepted() -> None:
    pd = pytest.importorskip("pandas")
    series = pd.Series(np.sin(np.arange(80) / 3), index=pd.date_range("2026-01-01", periods=80, freq="D"))
    est = sf.AutoForecaster(seed=0, models=("linear",)).fit(series)
    assert est.predict(series).shape == (80, 1)


def test_the_global_generator_is_left_alone(wave: np.ndarray) -> None:
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    sf.AutoForecaster(seed=5, models=("mlp",), steps=3, season=0).fit(wave[:60])
    torch.testing.assert_close(torch.rand(3), expected)


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        pytest.param(lambda: sf.AutoForecaster(seed=1.5), TypeError, "`seed`", id="seed"),  # type: ignore[arg-type]
        pytest.param(lambda: sf.AutoForecaster(season=-1), ValueError, "`season`", id="season"),
        pytest.param(lambda: sf.AutoForecaster(val_fraction=0.9), ValueError, "`val_fraction`", id="val"),
        pytest.param(lambda: sf.AutoForecaster(models="gru"), TypeError, "`models`", id="models-str"),
        pytest.param(lambda: sf.AutoForecaster(models=("arima",)), ValueError, r"`models\[0\]`", id="models"),
        pytest.param(lambda: sf.AutoForecaster().fit([1.0] * 5), ValueError, "at least 12", id="short"),
        pytest.param(lambda: sf.AutoForecaster().fit([[True]] * 20), TypeError, "floating or integer", id="bool"),
        pytest.param(lambda: sf.AutoForecaster().forecast(3), ValueError, "not fitted", id="unfitted"),
        pytest.param(lambda: sf.AutoForecaster().predict([1.0, 2.0]), ValueError, "not fitted", id="unfitted-p"),
    ],
)
def test_bad_arguments_name_themselves(call: object, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        call()  # type: ignore[operator]


def test_bad_data_after_fitting(wave: np.ndarray) -> None:
    est = sf.AutoForecaster(seed=0, models=("linear",)).fit(wave[:80])
    with pytest.raises(ValueError, match="1 feature"):
        est.predict(np.zeros((20, 2)))
    with pytest.raises(ValueError, match="`horizon`"):
        est.forecast(0)
    with pytest.raises(ValueError, match="finite"):
        est.update([1.0, float("nan")])


def test_the_detected_season_is_the_period_not_a_multiple_of_it() -> None:
    t = np.arange(400)
    y = 0.2 * t + 5 * np.sin(2 * np.pi * t / 12) + np.random.default_rng(0).normal(0, 0.5, 400)
    est = sf.AutoForecaster(seed=0, models=("linear",)).fit(y)
    assert "(period 12)" in est.summary()
    assert est.seasonal_naive_mse_ is not None


@pytest.mark.slow
def test_fit_on_2000_points_takes_under_30_seconds() -> None:
    t = np.arange(2000)
    weekly = 300 + 0.03 * t + 3 * np.sin(2 * np.pi * t / 52.18) + np.random.default_rng(0).normal(0, 0.5, 2000)
    est = sf.AutoForecaster(seed=0).fit(weekly)
    assert est.seconds_ < 30.0, est.summary()
    assert est.validation_mse < est.naive_mse_


def test_a_seasonal_naive_forecast_that_no_model_beats_is_kept_with_a_warning() -> None:
    pattern = np.random.default_rng(0).integers(0, 50, 12)
    with pytest.warns(UserWarning, match=r"no model beat the seasonal naive forecast.*seasonal naive 0, naive \d+"):
        est = sf.AutoForecaster(seed=0, models=("linear",), season=12).fit(np.tile(pattern, 10))
    assert est.choice_ == "seasonal naive"
    np.testing.assert_array_equal(est.forecast(12).mean.ravel(), pattern)


def test_ctrl_c_stops_the_whole_search(wave: np.ndarray, monkeypatch: pytest.MonkeyPatch) -> None:
    step = sf.Trainer._step

    def step_then_ctrl_c(self: sf.Trainer, *args: Any) -> Any:
        result = step(self, *args)
        if self.history.steps == 2:
            os.kill(os.getpid(), signal.SIGINT)  # a real Ctrl-C during the first candidate's training
        return result

    monkeypatch.setattr(sf.Trainer, "_step", step_then_ctrl_c)
    est = sf.AutoForecaster(seed=0, models=("gru",), steps=15, season=0)
    with pytest.raises(KeyboardInterrupt):
        est.fit(wave[:100])


@pytest.mark.parametrize("models", [("linear",), ("gru",)])
def test_backtest_equals_predict_then_forecast_from_every_cutoff(models: tuple[str, ...]) -> None:
    rng = np.random.default_rng(0)
    t = np.arange(200)
    y = 10 + 0.05 * t + 3 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 0.3, 200)
    est = sf.AutoForecaster(seed=0, models=models, steps=20).fit(y[:160])
    result = est.backtest(y, 12, start=160, stride=7)
    assert result.cutoffs.tolist() == list(range(160, 189, 7))
    for i, c in enumerate(result.cutoffs.tolist()):
        alone = copy.deepcopy(est)
        alone.predict(y[:c])
        np.testing.assert_allclose(result.forecasts[i].numpy(), alone.forecast(12), rtol=1e-5, atol=1e-5)
        np.testing.assert_array_equal(result.targets[i].numpy(), y[c : c + 12, None])
    assert float(result.metrics()["relative_mse"][0]) < 1.0
    before = est.forecast(3).mean
    est.backtest(y, 12, start=0.9)  # the estimator's own state is left as it was
    np.testing.assert_array_equal(est.forecast(3), before)
    with pytest.raises(ValueError, match=r"at most 188 for 200 time steps, got 195"):
        est.backtest(y, 12, start=195)
