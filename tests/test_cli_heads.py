"""``seqforecast train --likelihood/--quantiles`` and ``shapes`` with a head."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import seqforecast as sf
from seqforecast.cli import main


@pytest.fixture
def counts(tmp_path: Path) -> Path:
    path = tmp_path / "counts.csv"
    values = np.random.default_rng(0).poisson(5 + 3 * np.sin(np.arange(200) / 5))
    np.savetxt(path, values, header="y", comments="", fmt="%d")
    return path


@pytest.mark.parametrize(
    ("flags", "config"),
    [
        pytest.param(["--likelihood", "student_t"], {"likelihood": "student_t", "quantiles": None}, id="student_t"),
        pytest.param(["--quantiles", "0.1", "0.5", "0.9"], {"likelihood": None, "quantiles": (0.1, 0.5, 0.9)}, id="q"),
        pytest.param(
            ["--likelihood", "negative_binomial", "--no-scale"],
            {"likelihood": "negative_binomial", "quantiles": None},
            id="negative_binomial",
        ),
    ],
)
def test_train_builds_and_saves_the_head(
    flags: list[str], config: dict[str, object], counts: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "m.safetensors"
    argv = ["train", str(counts), "--model", "mlp", "--steps", "10", "--device", "cpu", "--out", str(out), "--quiet"]
    assert main([*argv, *flags]) == 0
    assert "saved" in capsys.readouterr().out
    model = sf.load(out).model
    assert {key: getattr(model.config, key) for key in config} == config


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        pytest.param(["--likelihood", "negative_binomial"], "add --no-scale", id="negbin-scaled"),
        pytest.param(["--quantiles", "0.9", "0.1"], "`quantiles` must be sorted increasing", id="unsorted"),
        pytest.param(["--quantiles", "0.5", "1.5"], "strictly between 0 and 1", id="outside"),
    ],
)
def test_bad_head_options_are_one_line(
    flags: list[str], message: str, counts: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["train", str(counts), "--model", "gru", "--steps", "2", "--device", "cpu", "--out", str(tmp_path / "m")]
    assert main([*argv, *flags]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert len(err.strip().splitlines()) == 1


def test_auto_refuses_a_head_option(counts: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", str(counts), "--likelihood", "gaussian", "--out", str(tmp_path / "m")]) == 2
    assert "--likelihood sets up an explicit --model" in capsys.readouterr().err


def test_shapes_shows_the_head_parameters(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["shapes", "--model", "conv", "--quantiles", "0.05", "0.5", "0.95"]) == 0
    out = capsys.readouterr().out
    assert "head output   (1, 8, 3)" in out
    assert "3 quantiles per feature" in out
