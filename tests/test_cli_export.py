"""``seqforecast export``: explicit and auto checkpoints as ONNX graphs that forecast as ``seqforecast forecast`` does."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import seqforecast as sf
from seqforecast.cli import main

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from seqforecast.runtime import OnnxStreamingForecaster

SUNSPOTS = str(Path(__file__).parent.parent / "examples" / "data" / "sunspots.csv")
TRAIN = ["train", SUNSPOTS, "--column", "SUNACTIVITY", "--device", "cpu", "--quiet"]


def cli_forecast(model: Path, horizon: int, capsys: pytest.CaptureFixture[str]) -> np.ndarray:
    assert main(["forecast", str(model), SUNSPOTS, "--horizon", str(horizon)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()[1:]  # after the header
    return np.array([[float(v) for v in line.split(",")[1:]] for line in lines])


@pytest.mark.parametrize(
    "options",
    [
        pytest.param(["--model", "gru", "--difference", "--steps", "20", "--batch-size", "4"], id="gru-differenced"),
        pytest.param(["--model", "auto", "--season", "11"], id="auto"),
    ],
)
def test_the_exported_checkpoint_forecasts_as_the_forecast_command(
    options: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    checkpoint, onnx_file = tmp_path / "model.safetensors", tmp_path / "model.onnx"
    assert main([*TRAIN, *options, "--out", str(checkpoint)]) == 0
    capsys.readouterr()
    assert main(["export", str(checkpoint), str(onnx_file)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"wrote {onnx_file}: ")
    assert "inputs:  x (batch, time, 1)" in out
    series = sf.load_series(SUNSPOTS, column="SUNACTIVITY")
    stream = OnnxStreamingForecaster(onnx_file)
    stream.reset(fresh=True)  # the whole CSV from its first row, as the forecast command reads it
    for value in series:
        stream.update(value)
    np.testing.assert_allclose(stream.forecast(12), cli_forecast(checkpoint, 12, capsys), rtol=1e-5, atol=1e-3)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["export", "missing.safetensors", "out.onnx"], "cannot read the model 'missing.safetensors': no such file"),
        (["export", SUNSPOTS, "out.onnx"], "is not a seqforecast checkpoint"),
        (["export", "{model}", "out.txt"], "its suffix must be one of .onnx, got '.txt'"),
        (["export", "{model}", "out.onnx", "--opset", "9"], "`opset` must be from 14 to 20, got 9"),
        (["export", "{model}", "out.onnx", "--opset", "x"], "argument --opset: invalid int value: 'x'"),
    ],
)
def test_bad_export_arguments_print_one_line_and_exit_2(
    argv: list[str], message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    sf.save(tmp_path / "model.safetensors", sf.FeedForwardForecaster(hidden_sizes=(4,), seed=0))
    assert main([a.replace("{model}", "model.safetensors") for a in argv]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1
    assert not (tmp_path / "out.onnx").exists()


def test_an_auto_checkpoint_that_chose_the_naive_forecast_exports_and_forecasts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.test_export import random_walk_auto

    est, _ = random_walk_auto()
    est.save(tmp_path / "naive.safetensors")
    assert main(["export", str(tmp_path / "naive.safetensors"), str(tmp_path / "naive.onnx")]) == 0
    assert "starts after the data the forecaster saw last" in capsys.readouterr().out
    np.testing.assert_allclose(OnnxStreamingForecaster(tmp_path / "naive.onnx").forecast(4), est.forecast(4), atol=1e-9)
