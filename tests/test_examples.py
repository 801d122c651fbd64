"""The example scripts run and show what they claim."""

from __future__ import annotations

import re
import runpy
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).parent.parent / "examples"


def test_sunspots_example_beats_the_naive_forecast(capsys: pytest.CaptureFixture[str]) -> None:
    runpy.run_path(str(EXAMPLES / "sunspots.py"), run_name="__main__")
    out = capsys.readouterr().out
    match = re.search(r"model ([\d.]+), naive ([\d.]+)", out)
    assert match is not None, out
    assert float(match.group(1)) * 2 <= float(match.group(2))
    forecast = re.search(r"2009-2018 forecast: ([-\d ]+) \((\d+) below zero, clipped to 0\)", out)
    assert forecast is not None, out
    assert all(int(v) >= 0 for v in forecast.group(1).split())  # sunspot numbers are never negative


def test_backtesting_example_beats_naive_and_equals_the_loop(capsys: pytest.CaptureFixture[str]) -> None:
    runpy.run_path(str(EXAMPLES / "backtesting.py"), run_name="__main__")
    out = capsys.readouterr().out
    first = re.search(r" 1 year\(s\) ahead: .* relative ([\d.]+)", out)
    assert first is not None, out
    assert float(first.group(1)) < 0.5
    difference = re.search(r"largest difference ([\d.e+-]+)", out)
    assert difference is not None, out
    assert float(difference.group(1)) < 1e-5


def test_many_series_example_one_global_model_beats_one_model_per_firm(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("pandas")  # the example reads its CSV with pandas (the frames extra)
    runpy.run_path(str(EXAMPLES / "many_series.py"), run_name="__main__")
    out = capsys.readouterr().out
    scores = {m.group(1).strip(): float(m.group(2)) for m in re.finditer(r"^(.{24}) MASE ([\d.]+)", out, re.MULTILINE)}
    assert set(scores) == {
        "global, with covariates",
        "global, no covariates",
        "one model per firm",
        "naive (as last year)",
    }
    assert scores["global, with covariates"] < scores["one model per firm"]
    assert scores["global, with covariates"] < scores["global, no covariates"]
    assert "General Motors 1955-01-01" in out
