"""The command line on a long table of many series with covariates."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from seqforecast.cli import main

pd = pytest.importorskip("pandas")


def _table(
    path: Path, days: int = 40, start: str = "2024-01-01", *, with_target: bool = True, with_temp: bool = False
) -> Path:
    rng = np.random.default_rng(0)
    parts = []
    for key in ("north", "south", "east"):
        price = rng.normal(size=days)
        columns: dict[str, Any] = {"shop": key, "day": pd.date_range(start, periods=days), "price": price}
        if with_target:
            columns["sales"] = 10 - 2 * price + rng.normal(scale=0.1, size=days)
        if with_target or with_temp:
            columns["temp"] = rng.normal(size=days)
        parts.append(pd.DataFrame(columns))
    pd.concat(parts).to_csv(path, index=False)
    return path


@pytest.fixture
def trained(tmp_path: Path) -> Path:
    model = tmp_path / "panel.safetensors"
    argv = ["train", str(_table(tmp_path / "sales.csv")), "--column", "sales", "--id-column", "shop"]
    argv += ["--time-column", "day", "--future-covariates", "price", "--model", "gru", "--hidden-size", "4"]
    assert main([*argv, "--num-layers", "1", "--steps", "5", "--device", "cpu", "--quiet", "--out", str(model)]) == 0
    return model


def test_train_and_forecast_a_panel_with_future_covariates(trained: Path, tmp_path: Path) -> None:
    future = _table(tmp_path / "future.csv", days=3, start="2024-02-10", with_target=False)
    out = tmp_path / "forecast.csv"
    argv = ["forecast", str(trained), str(tmp_path / "sales.csv"), "--horizon", "3", "--future", str(future)]
    assert main([*argv, "--out", str(out)]) == 0
    frame = pd.read_csv(out)
    assert frame.columns.tolist() == ["unique_id", "ds", "sales"]
    assert frame["unique_id"].tolist() == ["north"] * 3 + ["south"] * 3 + ["east"] * 3
    assert frame["ds"].tolist()[:3] == ["2024-02-10", "2024-02-11", "2024-02-12"]
    assert np.isfinite(frame["sales"]).all()


def test_forecast_without_the_future_covariates_is_one_clear_error(
    trained: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["forecast", str(trained), str(tmp_path / "sales.csv"), "--horizon", "3"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "give their values over the horizon with --future FILE" in err


@pytest.mark.parametrize(
    ("extra", "match"),
    [
        (["--past-covariates", "humidity", "--model", "gru"], "`past` names column 'humidity', which the frame lacks"),
        (["--model", "auto"], "--model auto trains on one series"),
    ],
)
def test_bad_panel_options_are_one_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], match: str
) -> None:
    data = _table(tmp_path / "sales.csv")
    argv = ["train", str(data), "--column", "sales", "--id-column", "shop", "--time-column", "day", "--steps", "2"]
    assert main([*argv, *extra, "--quiet", "--out", str(tmp_path / "m.safetensors")]) == 2
    assert match in capsys.readouterr().err


def test_past_covariates_are_read_from_the_future_file_as_a_scenario(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = tmp_path / "past.safetensors"
    argv = ["train", str(_table(tmp_path / "sales.csv")), "--column", "sales", "--id-column", "shop", "--time-column"]
    argv += ["day", "--past-covariates", "temp", "--future-covariates", "price", "--model", "gru", "--hidden-size", "4"]
    assert main([*argv, "--num-layers", "1", "--steps", "5", "--device", "cpu", "--quiet", "--out", str(model)]) == 0
    history = ["forecast", str(model), str(tmp_path / "sales.csv"), "--horizon", "3", "--future"]
    without = _table(tmp_path / "price.csv", days=3, start="2024-02-10", with_target=False)
    assert main([*history, str(without)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "past covariates ['temp']" in err
    scenario = _table(tmp_path / "scenario.csv", days=3, start="2024-02-10", with_target=False, with_temp=True)
    out = tmp_path / "forecast.csv"
    assert main([*history, str(scenario), "--out", str(out)]) == 0
    first = pd.read_csv(out)
    assert len(first) == 9
    changed = pd.read_csv(scenario)
    changed.loc[changed.index % 3 == 0, "temp"] += 5.0  # the first step's temperature is read at the second step
    changed.to_csv(scenario, index=False)
    assert main([*history, str(scenario), "--out", str(out)]) == 0
    second = pd.read_csv(out)
    np.testing.assert_array_equal(second["sales"][::3], first["sales"][::3])
    assert not np.allclose(second["sales"][1::3], first["sales"][1::3])
