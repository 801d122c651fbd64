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
