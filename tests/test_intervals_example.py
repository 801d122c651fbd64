"""The prediction-intervals example runs and shows what the tutorial quotes."""

from __future__ import annotations

import re
import runpy
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).parent.parent / "examples"


def test_intervals_example_covers_and_adapts(capsys: pytest.CaptureFixture[str]) -> None:
    runpy.run_path(str(EXAMPLES / "intervals.py"), run_name="__main__")
    out = capsys.readouterr().out
    overall = re.search(r"80% intervals covered ([\d.]+), 95% intervals covered ([\d.]+)", out)
    assert overall is not None, out
    assert 0.6 <= float(overall.group(1)) <= 0.95
    assert 0.85 <= float(overall.group(2)) <= 1.0
    drift = re.search(r"adaptive covered ([\d.]+), fixed split conformal ([\d.]+)", out)
    assert drift is not None, out
    assert abs(float(drift.group(1)) - 0.8) <= 0.05
    assert float(drift.group(2)) < 0.7
