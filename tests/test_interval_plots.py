"""plot_forecast draws prediction intervals as fan bands."""

from __future__ import annotations

import numpy as np
import pytest

import seqforecast as sf

pytest.importorskip("matplotlib")


def test_plot_forecast_draws_one_band_per_level_the_widest_lightest() -> None:
    mean = np.ones(4)
    intervals = {80.0: (mean - 1, mean + 1), 95.0: (mean - 2, mean + 2)}
    axes = sf.plotting.plot_forecast(np.zeros(10), mean, intervals=intervals).axes[0]
    bands = axes.collections
    assert [band.get_label() for band in bands] == ["95% interval", "80% interval"]
    assert float(bands[0].get_alpha() or 0) < float(bands[1].get_alpha() or 0)
    vertices = np.asarray(bands[0].get_paths()[0].vertices)
    assert vertices[:, 1].min() == -1.0
    assert vertices[:, 1].max() == 3.0
    assert vertices[:, 0].min() == 10.0  # the band covers the forecast's positions


def test_plot_forecast_takes_a_forecast_result_with_its_intervals() -> None:
    mean = np.ones((3, 1))
    result = sf.Forecast(mean, {90.0: (mean - 1, mean + 1)})
    axes = sf.plotting.plot_forecast(np.zeros(5), result).axes[0]
    assert [band.get_label() for band in axes.collections] == ["90% interval"]
    np.testing.assert_array_equal(np.asarray(axes.lines[1].get_ydata())[1:], [1.0, 1.0, 1.0])
    days = np.array(["2026-01-01", "2026-01-02"], dtype="datetime64[D]")
    assert sf.plotting.plot_forecast(np.zeros(2), result, x=days).axes[0].collections  # time stamps too


def test_a_band_of_the_wrong_length_is_refused() -> None:
    with pytest.raises(ValueError, match=r"intervals\[80\]"):
        sf.plotting.plot_forecast(np.zeros(5), np.ones(3), intervals={80.0: (np.zeros(2), np.ones(2))})
