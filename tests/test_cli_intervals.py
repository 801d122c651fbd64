"""The command line's prediction intervals: forecast --level and backtest --level."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

import seqforecast as sf
from seqforecast.cli import main


def _noisy_csv(tmp_path: Path, rows: int = 400) -> Path:
    data = tmp_path / "noisy.csv"
    noise = np.random.default_rng(0).normal(0, 0.5, rows)
    data.write_text("y\n" + "\n".join(f"{10 + 5 * np.sin(i / 3) + noise[i]:.4f}" for i in range(rows)) + "\n")
    return data


@pytest.fixture(scope="module")
def auto_model(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("auto")
    data, model = _noisy_csv(folder), folder / "auto.safetensors"
    assert main(["train", str(data), "--model", "auto", "--steps", "5", "--quiet", "--out", str(model)]) == 0
    return data, model


def test_forecast_writes_lower_and_upper_columns_and_fan_bands(
    auto_model: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data, model = auto_model
    out, plot = tmp_path / "f.csv", tmp_path / "f.png"
    argv = ["forecast", str(model), str(data), "--horizon", "4", "--level", "80", "95"]
    assert main([*argv, "--out", str(out), "--plot", str(plot)]) == 0
    rows = list(csv.DictReader(out.read_text().splitlines()))
    name = list(rows[0])[1]  # the column as the checkpoint names it
    assert list(rows[0]) == [
        "step",
        name,
        *(f"{name}_{side}_{level}" for level in (80, 95) for side in ("lower", "upper")),
    ]
    est = sf.AutoForecaster.load(model)
    est.predict(sf.load_series(data))
    expected = est.forecast(4, level=(80, 95))
    assert [float(r[f"{name}_lower_95"]) for r in rows] == pytest.approx(expected.interval(95)[0].ravel(), rel=1e-5)
    assert [float(r[f"{name}_upper_80"]) for r in rows] == pytest.approx(expected.interval(80)[1].ravel(), rel=1e-5)
    assert plot.read_bytes().startswith(b"\x89PNG")
    capsys.readouterr()


def test_forecast_of_a_plain_model_gets_conformal_intervals(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data, model = _noisy_csv(tmp_path, 200), tmp_path / "mlp.safetensors"
    argv = ["train", str(data), "--model", "mlp", "--steps", "5", "--device", "cpu", "--quiet", "--out", str(model)]
    assert main(argv) == 0
    capsys.readouterr()
    assert main(["forecast", str(model), str(data), "--horizon", "3", "--level", "90"]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""  # the 20 rows held out give 18 cutoffs, enough for 90 %: no warning
    rows = list(csv.DictReader(captured.out.splitlines()))
    name = list(rows[0])[1]
    for row in rows:
        assert float(row[f"{name}_lower_90"]) < float(row[name]) < float(row[f"{name}_upper_90"])


def test_forecast_level_of_a_plain_model_calibrates_on_the_rows_held_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data, model = _noisy_csv(tmp_path, 200), tmp_path / "mlp.safetensors"
    argv = ["train", str(data), "--model", "mlp", "--steps", "5", "--device", "cpu", "--quiet", "--out", str(model)]
    assert main(argv) == 0
    checkpoint = sf.load(model)
    assert checkpoint.metadata["train_rows"] == 180  # the first 90 %
    series = sf.load_series(data)
    capsys.readouterr()
    assert main(["forecast", str(model), str(data), "--horizon", "3", "--level", "80"]) == 0
    rows = list(csv.DictReader(capsys.readouterr().out.splitlines()))
    name = list(rows[0])[1]
    scaler = checkpoint.scaler
    assert scaler is not None
    model_space = scaler.transform(series)
    result = sf.backtest(checkpoint.model, model_space, 3, start=180)  # cutoffs 180 .. 197: never trained on
    forecasts = scaler.inverse_transform(result.forecasts.double().numpy().reshape(-1, 1)).reshape(-1, 3, 1)
    targets = series[result.cutoffs.numpy()[:, None] + np.arange(3)]  # (18, 3, 1), in the data's units
    errors = np.abs(targets - forecasts)
    radius = sf.ConformalCalibration(errors).radius(80)[:, 0]
    upper = np.array([float(r[f"{name}_upper_80"]) - float(r[name]) for r in rows])
    np.testing.assert_allclose(upper, radius, rtol=1e-4)
    assert main(["forecast", str(model), str(data), "--horizon", "3", "--level", "95"]) == 0  # 19 cutoffs needed
    assert "partly of rows the model was trained on" in capsys.readouterr().err


def test_repeated_levels_give_each_column_once(
    auto_model: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    data, model = auto_model
    assert main(["forecast", str(model), str(data), "--horizon", "2", "--level", "95", "80", "80"]) == 0
    header = capsys.readouterr().out.splitlines()[0].split(",")
    assert len(header) == len(set(header)) == 6
    assert header[2:] == [f"{header[1]}_{side}_{level}" for level in (80, 95) for side in ("lower", "upper")]


def test_backtest_reports_the_coverage_per_step(
    auto_model: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    data, model = auto_model
    assert main(["backtest", str(model), str(data), "--horizon", "3", "--start", "0.5", "--level", "80"]) == 0
    report = capsys.readouterr().err
    assert "empirical coverage" in report
    assert report.count("warning: AutoForecaster.backtest: cutoffs before 360 lie in the data given to fit") == 1
    lines = report.splitlines()
    table = lines[lines.index(next(line for line in lines if line.startswith("empirical coverage"))) + 2 :]
    coverage = [float(line.split()[1]) for line in table[:3]]
    assert [line.split()[0] for line in table[:4]] == ["1", "2", "3", "all"]
    assert all(0.6 < c <= 1.0 for c in coverage)


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        pytest.param(["--level", "100"], "strictly between 0 and 100", id="hundred"),
        pytest.param(["--level", "abc"], "strictly between 0 and 100", id="text"),
    ],
)
def test_bad_levels_exit_2_with_one_line(
    auto_model: tuple[Path, Path], argv: list[str], match: str, capsys: pytest.CaptureFixture[str]
) -> None:
    data, model = auto_model
    assert main(["forecast", str(model), str(data), "--horizon", "3", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert match in err


def test_backtest_level_of_a_plain_model_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data, model = _noisy_csv(tmp_path, 100), tmp_path / "mlp.safetensors"
    argv = ["train", str(data), "--model", "mlp", "--steps", "3", "--device", "cpu", "--quiet", "--out", str(model)]
    assert main(argv) == 0
    capsys.readouterr()
    assert main(["backtest", str(model), str(data), "--horizon", "2", "--start", "0.8", "--level", "80"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "--model auto" in err
