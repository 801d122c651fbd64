"""Plot helpers return figures with the expected artists; shapes tracing."""

from __future__ import annotations

import sys

import matplotlib as mpl
import numpy as np
import pytest
import torch
from hypothesis import given

import seqforecast as sf
from tests.strategies import batches, forecasters, make_input

mpl.use("Agg")


def test_plot_history_draws_one_line_per_run_and_validation() -> None:
    runs = {
        "a": sf.History(losses=[1.0, 0.5, 0.2], steps=3),
        "b": sf.History(losses=[2.0, 1.0], val_steps=[2], val_losses=[1.5], steps=2),
    }
    axes = sf.plotting.plot_history(runs).axes[0]
    assert [len(np.asarray(line.get_xdata())) for line in axes.lines] == [3, 2, 1]
    assert axes.get_yscale() == "log"


def test_plot_predictions_aligns_forecasts_with_their_targets() -> None:
    truth = np.arange(6.0)
    axes = sf.plotting.plot_predictions(truth, {"model": torch.arange(1.0, 6.0)}, x=np.arange(6) * 10).axes[0]
    truth_line, model_line = axes.lines
    np.testing.assert_array_equal(model_line.get_xdata(), [10, 20, 30, 40, 50])
    np.testing.assert_array_equal(model_line.get_ydata(), [1, 2, 3, 4, 5])
    assert len(np.asarray(truth_line.get_xdata())) == 6


def test_plot_forecast_joins_history_and_forecast() -> None:
    axes = sf.plotting.plot_forecast(np.zeros(10), np.ones(4), truth=np.ones(4)).axes[0]
    _, forecast, truth = axes.lines[:3]
    np.testing.assert_array_equal(forecast.get_xdata(), [9, 10, 11, 12, 13])
    assert forecast.get_markevery() == slice(1, None)  # no forecast marker on the last observation
    np.testing.assert_array_equal(truth.get_xdata(), [10, 11, 12, 13])
    assert (axes.get_xlabel(), axes.get_ylabel()) == ("time step", "value")


def test_plot_forecast_uses_the_datas_own_positions_and_name() -> None:
    figure = sf.plotting.plot_forecast(
        np.arange(5.0), np.ones(3), truth=np.ones(2), x=np.arange(300, 310, 2), xlabel="row", ylabel="SUNACTIVITY"
    )
    axes = figure.axes[0]
    history, forecast, truth = axes.lines[:3]
    np.testing.assert_array_equal(history.get_xdata(), [300, 302, 304, 306, 308])
    np.testing.assert_array_equal(forecast.get_xdata(), [308, 310, 312, 314])
    np.testing.assert_array_equal(truth.get_xdata(), [310, 312])
    assert (axes.get_xlabel(), axes.get_ylabel()) == ("row", "SUNACTIVITY")
    years = ["2006", "2007", "2008"]  # numbers as a CSV file holds them
    forecast = sf.plotting.plot_forecast(np.zeros(3), np.ones(2), x=years).axes[0].lines[1]
    np.testing.assert_array_equal(forecast.get_xdata(), [2008, 2009, 2010])


def test_plot_forecast_continues_time_stamps() -> None:
    days = ["2026-11-01", "2026-11-02", "2026-11-03"]
    forecast = sf.plotting.plot_forecast(np.zeros(3), np.ones(2), x=days).axes[0].lines[1]
    expected = np.array(["2026-11-03", "2026-11-04", "2026-11-05"], dtype="datetime64[ns]")
    np.testing.assert_array_equal(np.asarray(forecast.get_xdata()), expected)
    months = np.array(["2026-01-31", "2026-02-28", "2026-03-31"], dtype="datetime64[D]")
    given = np.array(["2026-04-30", "2026-05-31"], dtype="datetime64[D]")
    forecast = sf.plotting.plot_forecast(np.zeros(3), np.ones(2), x=months, forecast_x=given).axes[0].lines[1]
    np.testing.assert_array_equal(np.asarray(forecast.get_xdata())[1:], given.astype("datetime64[ns]"))


def test_plot_predictions_names_its_axes() -> None:
    axes = sf.plotting.plot_predictions(np.arange(3.0), {"m": np.ones(2)}, xlabel="year", ylabel="sunspots").axes[0]
    assert (axes.get_xlabel(), axes.get_ylabel()) == ("year", "sunspots")


def test_plot_backtest_draws_the_error_per_step_beside_naive() -> None:
    model = sf.ConvForecaster(channels=4, head_hidden=4, seed=0)
    result = sf.backtest(model, torch.sin(torch.arange(120.0) / 5), horizon=5, start=0.75, stride=3)
    metrics = result.metrics()
    axes = sf.plotting.plot_backtest(result, title="t", ylabel="MSE (y)").axes[0]
    model_line, naive_line = axes.lines
    np.testing.assert_array_equal(model_line.get_xdata(), [1, 2, 3, 4, 5])
    np.testing.assert_allclose(np.asarray(model_line.get_ydata(), dtype=float), metrics["mse"].numpy())
    np.testing.assert_allclose(np.asarray(naive_line.get_ydata(), dtype=float), metrics["naive_mse"].numpy())
    assert (axes.get_title(), axes.get_xlabel(), axes.get_ylabel()) == ("t", "steps ahead", "MSE (y)")
    mae = sf.plotting.plot_backtest(metrics, metric="mae").axes[0]  # the metrics alone do too
    np.testing.assert_allclose(np.asarray(mae.lines[1].get_ydata(), dtype=float), metrics["naive_mae"].numpy())
    assert mae.get_ylabel() == "MAE"
    with pytest.raises(ValueError, match="`metric` must be 'mse' or 'mae', got 'rmse'"):
        sf.plotting.plot_backtest(result, metric="rmse")
    with pytest.raises(TypeError, match="must be a Backtest or its metrics"):
        sf.plotting.plot_backtest([1.0, 2.0])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="missing \\['naive_mse'\\]"):
        sf.plotting.plot_backtest({"mse": np.ones(3)})
    with pytest.raises(ValueError, match="one value per step, got 3 and 2"):
        sf.plotting.plot_backtest({"mse": np.ones(3), "naive_mse": np.ones(2)})


def test_missing_matplotlib_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match=r"seqforecast\[plot\]"):
        sf.plotting.plot_forecast(np.zeros(3), np.zeros(2))


def test_plot_errors() -> None:
    with pytest.raises(ValueError, match="len"):
        sf.plotting.plot_predictions(np.zeros(5), {"m": np.zeros(5)})
    with pytest.raises(ValueError, match="one series"):
        sf.plotting.plot_forecast(np.zeros((3, 2)), np.zeros(2))
    with pytest.raises(ValueError, match="one position per value"):
        sf.plotting.plot_forecast(np.zeros(3), np.zeros(2), x=np.arange(4))
    with pytest.raises(ValueError, match="numbers or time stamps"):
        sf.plotting.plot_forecast(np.zeros(2), np.zeros(2), x=["a", "b"])
    with pytest.raises(ValueError, match="forecast_x"):
        sf.plotting.plot_forecast(np.zeros(1), np.zeros(2), x=["2026-01-01"])
    with pytest.raises(ValueError, match="at most"):
        sf.plotting.plot_forecast(np.zeros(3), np.zeros(2), truth=np.zeros(3))


@given(model=forecasters(), batch=batches)
def test_trace_shapes_matches_the_forward_pass(model: sf.BaseForecaster, batch: int) -> None:
    x = make_input(model, batch, 6)
    before = [p.clone() for p in model.parameters()]
    stages = sf.trace_shapes(model, x)
    y, state = model(x)
    names = [s.name for s in stages]
    assert names[:2] == ["input", "state in"]
    assert names[-2:] == ["output", "state out"]
    assert stages[0].shape == tuple(x.shape)
    assert stages[-2].shape == tuple(y.shape)
    expected_state = (
        tuple(state.shape) if isinstance(state, torch.Tensor) else tuple(tuple(s.shape) for s in state or ())
    )
    assert stages[-1].shape == expected_state
    assert all(s.meaning for s in stages)
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))
    assert not any(m._forward_hooks for m in model.modules())


def test_a_one_step_forecast_with_a_stamp_and_no_history_positions_plots_by_step() -> None:
    result = sf.Forecast(np.ones((1, 1)), times=np.array(["2024-01-05"], dtype="datetime64[D]"))
    forecast_line = sf.plotting.plot_forecast(np.zeros(4), result).axes[0].lines[1]
    assert np.asarray(forecast_line.get_xdata())[-1] == 4
