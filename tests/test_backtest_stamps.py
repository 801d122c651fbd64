"""Backtests on series with time stamps: the stamps of every target, the long data frame, plots on the calendar."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import seqforecast as sf

DAYS = np.arange("2024-01-01", "2024-03-01", dtype="datetime64[D]")  # 60 days
VALUES = np.sin(np.arange(60) / 4) + np.arange(60) / 30


def _model() -> sf.FeedForwardForecaster:
    return sf.FeedForwardForecaster(window=3, hidden_sizes=(4,), seed=0)


@given(start=st.integers(1, 50), stride=st.integers(1, 5), horizon=st.integers(1, 6))
def test_each_forecast_carries_the_stamps_of_its_targets_and_of_the_last_point_seen(
    start: int, stride: int, horizon: int
) -> None:
    start = min(start, 60 - horizon)
    result = sf.backtest(_model(), VALUES, horizon, start=start, stride=stride, times=DAYS)
    cutoffs = result.cutoffs.numpy()
    assert result.times is not None
    assert result.cutoff_times is not None
    assert result.times.shape == (len(cutoffs), horizon)
    np.testing.assert_array_equal(result.times, DAYS[cutoffs[:, None] + np.arange(horizon)])
    np.testing.assert_array_equal(result.cutoff_times, DAYS[cutoffs - 1])


def test_a_pandas_series_gives_its_datetime_index_and_the_frame_is_long() -> None:
    pd = pytest.importorskip("pandas")
    series = pd.Series(VALUES, index=pd.DatetimeIndex(DAYS))
    result = sf.backtest(_model(), series, 3, start=55)
    assert result.times is not None
    frame = result.to_frame()
    assert frame.columns.tolist() == ["unique_id", "ds", "cutoff", "y", "forecast"]
    assert len(frame) == 3 * 3
    assert frame["ds"].tolist()[:3] == list(pd.to_datetime(["2024-02-25", "2024-02-26", "2024-02-27"]))
    assert set(frame["cutoff"].tolist()[:3]) == {pd.Timestamp("2024-02-24")}
    np.testing.assert_allclose(frame["forecast"].to_numpy(), result.forecasts.reshape(-1).numpy(), rtol=1e-6)
    np.testing.assert_allclose(frame["y"].to_numpy(), VALUES[[55, 56, 57, 56, 57, 58, 57, 58, 59]])


def test_without_stamps_the_frame_counts_indices() -> None:
    pytest.importorskip("pandas")
    result = sf.backtest(_model(), torch.as_tensor(VALUES), 2, start=57)
    assert result.times is None
    frame = result.to_frame("model")
    assert frame["ds"].tolist() == [57, 58, 58, 59]
    assert frame["cutoff"].tolist() == [56, 56, 57, 57]
    assert frame.columns.tolist() == ["unique_id", "ds", "cutoff", "y", "model"]


def test_a_batch_of_series_is_one_id_per_lane() -> None:
    pytest.importorskip("pandas")
    batch = torch.as_tensor(np.stack([VALUES, -VALUES])[..., None], dtype=torch.float32)
    frame = sf.backtest(_model(), batch, 2, start=58, times=DAYS).to_frame()
    assert frame["unique_id"].tolist() == ["0", "0", "1", "1"]
    assert frame["ds"].nunique() == 2


def test_auto_forecaster_backtests_carry_stamps_and_intervals_into_the_frame() -> None:
    pd = pytest.importorskip("pandas")
    series = pd.Series(VALUES, index=pd.DatetimeIndex(DAYS))
    est = sf.AutoForecaster(models=("linear",)).fit(series[:45])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # Gaussian intervals on a short tail
        result = est.backtest(series, horizon=3, start=45, stride=2, level=80)
    assert result.times is not None
    np.testing.assert_array_equal(result.times[:, 0], DAYS[45:58:2])
    frame = result.to_frame()
    assert frame.columns.tolist() == ["unique_id", "ds", "cutoff", "y", "forecast", "forecast-lo-80", "forecast-hi-80"]
    assert (frame["forecast-lo-80"] < frame["forecast"]).all()
    assert (frame["forecast"] < frame["forecast-hi-80"]).all()
    plain = est.backtest(VALUES, horizon=3, start=45, stride=2)
    assert plain.times is None
    torch.testing.assert_close(plain.forecasts, result.forecasts)


def test_stamps_of_another_length_are_refused() -> None:
    with pytest.raises(ValueError, match=r"`times` must have one stamp per time step of the series \(60\), got 59"):
        sf.backtest(_model(), VALUES, 2, start=50, times=DAYS[:59])


def test_plots_put_stamps_on_the_horizontal_axis() -> None:
    pytest.importorskip("matplotlib")
    result = sf.backtest(_model(), VALUES, 2, start=50, times=DAYS)
    figure = sf.plotting.plot_backtest(result, over="cutoff")
    line = figure.axes[0].lines[0]
    assert np.asarray(line.get_xdata())[0] == np.datetime64("2024-02-19")
    forecast = sf.Forecast(np.ones((3, 1)), times=DAYS[10:13])
    figure = sf.plotting.plot_forecast(np.zeros(10), forecast)
    history, ahead = figure.axes[0].lines[:2]
    assert np.asarray(history.get_xdata())[-1] == np.datetime64("2024-01-10")
    assert np.asarray(ahead.get_xdata())[-1] == np.datetime64("2024-01-13")
    with pytest.raises(ValueError, match=r"`over` must be 'step' or 'cutoff', got 'time'"):
        sf.plotting.plot_backtest(result, over="time")
