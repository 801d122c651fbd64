"""The real-series accuracy benchmark: its protocol and scores, on data made here (the bench extra is optional)."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from benchmarks import real_series
from benchmarks.real_series import HORIZON, Series, evaluate_series, report


def _series() -> Series:
    t = np.arange(120)
    values = 10 + 0.1 * t + 3 * np.sin(2 * np.pi * t / 12) + np.random.default_rng(0).normal(0, 0.3, 120)
    return Series("made", "trend and season", 12, values)


def test_naive_scores_one_and_seasonal_naive_uses_only_observed_values() -> None:
    series = _series()
    y, split = series.values, 96
    one, paths = real_series._seasonal_naive(y, split, 12)
    assert paths.shape == (len(y) - split, HORIZON)
    np.testing.assert_array_equal(one, y[split - 12 : len(y) - 12])  # y[c] from y[c - 12]
    np.testing.assert_array_equal(paths[0], y[split - 12 : split])  # the last observed season, repeated once
    results = evaluate_series(series, methods=("naive", "seasonal naive", "AutoForecaster"))
    assert results["naive"].mse_1 == 1.0
    assert results["naive"].mse_12 == 1.0
    assert results["seasonal naive"].mse_12 < 1.0
    assert results["AutoForecaster"].mse_1 < 1.0
    text = report({"made": results}, ["naive", "seasonal naive", "AutoForecaster"])
    assert "| made | 1.000 |" in text
    assert "*median*" in text


def test_without_the_bench_extra_it_says_what_to_install(capsys: pytest.CaptureFixture[str]) -> None:
    if importlib.util.find_spec("statsforecast") and importlib.util.find_spec("statsmodels"):
        pytest.skip("the bench extra is installed")
    with pytest.raises(SystemExit) as exit_:
        real_series.main(["--only", "nile"])
    assert exit_.value.code == 2
    assert "pip install -e '.[bench]'" in capsys.readouterr().err
