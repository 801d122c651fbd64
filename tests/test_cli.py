"""The seqforecast command line."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

import seqforecast as sf
from seqforecast.cli import main


def test_demo_prints_the_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--steps", "3", "--batch-size", "2", "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    for word in ("model", "MSE cold", "MSE primed", "causal", "rnn", "mlp", "conv"):
        assert word in out
    assert "NO" not in out


@pytest.mark.parametrize(
    "argv",
    [["demo", "--steps", "0"], ["demo", "--batch-size", "x"], ["demo", "--device", "tpu9"], ["nonsense"], []],
)
def test_bad_arguments_exit_2_with_one_line(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert "error" in err
    assert "Traceback" not in err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert sf.__version__ in capsys.readouterr().out


def test_runs_as_a_module() -> None:
    env = {**os.environ, "PYTHONWARNINGS": "error"}
    result = subprocess.run(
        [sys.executable, "-m", "seqforecast", "demo", "--steps", "2", "--batch-size", "1", "--device", "cpu"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    assert "MSE primed" in result.stdout
