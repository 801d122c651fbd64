"""The seqforecast command line: every command, its files and its errors."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import seqforecast as sf
from seqforecast.cli import main

SUNSPOTS = str(Path(__file__).parent.parent / "examples" / "data" / "sunspots.csv")


def test_demo_prints_the_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--steps", "3", "--batch-size", "2", "--device", "cpu", "--quiet"]) == 0
    out = capsys.readouterr().out
    for word in ("model", "MSE cold", "MSE primed", "causal"):
        assert word in out
    rows = {line.split()[0]: line for line in out.splitlines() if line.strip()}
    assert rows["rnn"].endswith("yes")
    assert rows["mlp"].endswith("yes")
    assert rows["conv"].endswith("yes")
    assert "NO (leak" in rows["conv-2sided"]


def test_demo_writes_the_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "demo"
    assert main(["demo", "--steps", "5", "--batch-size", "2", "--device", "cpu", "--out", str(out)]) == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == ["conv_leak.png", "loss.png", "mlp_averaging.png", "report.html", "rnn_priming.png"]
    page = (out / "report.html").read_text()
    assert page.count('src="data:image/png;base64,') == 4
    assert "http" not in page.replace("http-equiv", "")  # self-contained: fetches nothing
    assert all((out / n).read_bytes().startswith(b"\x89PNG") for n in names if n.endswith(".png"))


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "model.safetensors"
    argv = ["train", SUNSPOTS, "--column", "SUNACTIVITY", "--model", "gru", "--seq-length", "16"]
    assert main([*argv, "--batch-size", "4", "--steps", "60", "--device", "cpu", "--quiet", "--out", str(path)]) == 0
    return path


def test_train_writes_a_checkpoint_with_its_transforms(trained: Path) -> None:
    checkpoint = sf.load(trained)
    assert checkpoint.scaler is not None
    assert checkpoint.metadata["columns"] == ["SUNACTIVITY"]
    assert checkpoint.trainer_state is not None
    assert checkpoint.trainer_state["history"]["steps"] == 60


def test_forecast_writes_csv_and_plot(trained: Path, tmp_path: Path) -> None:
    out, plot = tmp_path / "f.csv", tmp_path / "f.png"
    assert main(["forecast", str(trained), SUNSPOTS, "--horizon", "7", "--out", str(out), "--plot", str(plot)]) == 0
    rows = list(csv.reader(out.read_text().splitlines()))
    assert rows[0] == ["step", "SUNACTIVITY"]
    assert [int(r[0]) for r in rows[1:]] == list(range(1, 8))
    assert all(np.isfinite(float(r[1])) for r in rows[1:])
    assert plot.read_bytes().startswith(b"\x89PNG")


def test_the_forecast_plot_uses_the_datas_rows_and_column_name(
    trained: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from matplotlib.figure import Figure

    from seqforecast import plotting

    seen: list[Figure] = []
    real = plotting.plot_forecast

    def spy(*args: Any, **kwargs: Any) -> Figure:
        seen.append(real(*args, **kwargs))
        return seen[-1]

    monkeypatch.setattr(plotting, "plot_forecast", spy)
    plot = tmp_path / "f.png"
    assert (
        main(["forecast", str(trained), SUNSPOTS, "--column", "SUNACTIVITY", "--horizon", "5", "--plot", str(plot)])
        == 0
    )
    axes = seen[0].axes[0]
    assert axes.get_ylabel() == "SUNACTIVITY"
    history, forecast = axes.get_lines()[:2]
    rows = len(sf.load_series(SUNSPOTS, column="SUNACTIVITY"))
    assert np.asarray(history.get_xdata())[-1] == rows - 1  # the data's own row numbers, not 0-based over the tail
    assert list(np.asarray(forecast.get_xdata())[-5:]) == list(range(rows, rows + 5))  # it starts after the data


def test_forecast_prints_and_undoes_differencing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "trend.csv"
    data.write_text("y\n" + "\n".join(str(2.0 * i) for i in range(120)) + "\n")
    model = tmp_path / "d.safetensors"
    assert main(["train", str(data), "--column", "y", "--model", "mlp", "--difference", "--steps", "30", "--seq-length", "8",
                 "--device", "cpu", "--quiet", "--out", str(model)]) == 0  # fmt: skip
    capsys.readouterr()
    assert main(["forecast", str(model), str(data), "--horizon", "3"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    values = [float(line.split(",")[1]) for line in lines[1:]]
    # a constant slope: the differences are constant, so the levels keep climbing from 238
    assert values == pytest.approx([240.0, 242.0, 244.0], abs=0.5)


def test_evaluate_prints_model_and_naive(trained: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["evaluate", str(trained), SUNSPOTS, "--prime-steps", "20"]) == 0
    out = capsys.readouterr().out
    assert "naive" in out
    assert "skill" in out


def test_shapes_prints_every_stage(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["shapes", "--model", "rnn", "--num-layers", "3", "--batch-size", "1", "--seq-length", "8"]) == 0
    out = capsys.readouterr().out
    assert "(1, 8, 1)" in out
    assert "(3, 1, 32)" in out
    assert main(["shapes", "--model", "conv", "--time-first", "--batch-size", "2"]) == 0
    assert "(8, 2, 1)" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        pytest.param(["demo", "--steps", "0"], "positive integer", id="steps"),
        pytest.param(["demo", "--batch-size", "x"], "positive integer", id="batch"),
        pytest.param(["demo", "--device", "tpu9"], "device", id="device"),
        pytest.param(["nonsense"], "invalid choice", id="command"),
        pytest.param([], "required", id="nothing"),
        pytest.param(["train", "missing.csv", "--out", "{tmp}/m.safetensors"], "missing.csv", id="missing-file"),
        pytest.param(
            ["train", SUNSPOTS, "--column", "nope", "--out", "{tmp}/m.safetensors"],
            "no column named 'nope'",
            id="column",
        ),
        pytest.param(
            ["train", "{bad}", "--column", "y", "--out", "{tmp}/m.safetensors"], "line 3, column 'y'", id="cell"
        ),
        pytest.param(["train", SUNSPOTS, "--out", "{tmp}/no/m.safetensors"], "does not exist", id="out-folder"),
        pytest.param(["forecast", SUNSPOTS, SUNSPOTS, "--horizon", "3"], "not a seqforecast checkpoint", id="not-ckpt"),
        pytest.param(["forecast", "{model}", SUNSPOTS, "--horizon", "0"], "positive integer", id="horizon"),
        pytest.param(
            ["forecast", "{model}", SUNSPOTS, "--horizon", "2", "--out", "{tmp}/x/f.csv"], "does not exist", id="fc-out"
        ),
        pytest.param(["evaluate", "{model}", SUNSPOTS, "--column", "nope"], "no column", id="eval-column"),
        pytest.param(
            ["backtest", "{model}", SUNSPOTS, "--horizon", "3", "--start", "0", "--out", "{tmp}/b.csv"],
            "argument --start: expected a row >= 1 or a fraction of the rows in (0, 1), got 0",
            id="bt-start-0",
        ),
        pytest.param(
            ["backtest", "{model}", SUNSPOTS, "--horizon", "3", "--start", "1.5"],
            "argument --start",
            id="bt-start-frac",
        ),
        pytest.param(
            ["backtest", "{model}", SUNSPOTS, "--horizon", "3", "--start", "307", "--out", "{tmp}/b.csv"],
            "--start must leave at least 1 row(s) before the first cutoff and --horizon 3 after it: a row in [1, 306]",
            id="bt-start-late",
        ),
        pytest.param(
            ["backtest", "{model}", SUNSPOTS, "--horizon", "3", "--start", "0.999", "--plot", "{tmp}/b.png"],
            "got 0.999",
            id="bt-start-late-frac",
        ),
        pytest.param(["backtest", "{model}", SUNSPOTS, "--start", "0.8"], "--horizon", id="bt-no-horizon"),
        pytest.param(
            ["backtest", "{model}", SUNSPOTS, "--horizon", "0", "--start", "0.8"], "argument --horizon", id="bt-horizon"
        ),
        pytest.param(
            ["backtest", "{model}", SUNSPOTS, "--horizon", "400", "--start", "0.8", "--out", "{tmp}/b.csv"],
            "--horizon 400 leaves no cutoff",
            id="bt-horizon-long",
        ),
        pytest.param(
            ["backtest", "{model}", SUNSPOTS, "--horizon", "3", "--start", "0.8", "--stride", "0"],
            "argument --stride: expected a positive integer, got 0",
            id="bt-stride",
        ),
        pytest.param(
            ["backtest", "{model}", SUNSPOTS, "--horizon", "3", "--start", "0.8", "--plot", "{tmp}/b.txt"],
            "its suffix must be one of",
            id="bt-plot-suffix",
        ),
        pytest.param(
            ["backtest", "{model}", SUNSPOTS, "--horizon", "3", "--start", "0.8", "--out", "{model}"],
            "it is the same file as",
            id="bt-out-model",
        ),
        pytest.param(["shapes", "--num-layers", "0"], "positive integer", id="layers"),
    ],
)
def test_bad_input_exits_2_with_one_line_and_writes_nothing(
    argv: list[str], message: str, trained: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("y\n1\nabc\n")
    argv = [a.format(tmp=tmp_path, bad=bad, model=trained) for a in argv]
    before = sorted(tmp_path.rglob("*"))
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert message in err
    assert "Traceback" not in err
    assert sorted(tmp_path.rglob("*")) == before


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert sf.__version__ in capsys.readouterr().out


def test_runs_as_a_real_command(tmp_path: Path) -> None:
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
    missing = subprocess.run(
        [
            sys.executable,
            "-m",
            "seqforecast",
            "forecast",
            str(tmp_path / "none.safetensors"),
            SUNSPOTS,
            "--horizon",
            "2",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert missing.returncode == 2
    assert missing.stderr.count("\n") == 1


def test_a_closed_stdout_ends_quietly_like_a_unix_tool(tmp_path: Path) -> None:
    out = tmp_path / "model.safetensors"
    command = [sys.executable, "-m", "seqforecast", "train", SUNSPOTS, "--column", "SUNACTIVITY"]
    command += ["--model", "mlp", "--steps", "3", "--out", str(out), "--quiet"]
    # the reader has gone before the first line is written, as after `| head -1`
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as process:
        assert process.stdout is not None
        assert process.stderr is not None
        process.stdout.close()
        stderr = process.stderr.read()
        status = process.wait(timeout=120)
    assert stderr == b""  # no "error: [Errno 32] Broken pipe", no traceback
    assert status == 128 + 13  # a process ended by SIGPIPE
    assert sf.load(out).model is not None  # the checkpoint was written before the output


def test_a_column_chosen_by_index_is_found_again(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "two.csv"
    data.write_text("a,b\n" + "\n".join(f"{i},{np.sin(i / 3):.4f}" for i in range(80)) + "\n")
    model = tmp_path / "m.safetensors"
    argv = ["train", str(data), "--column", "1", "--model", "mlp", "--steps", "5", "--seq-length", "8"]
    assert main([*argv, "--device", "cpu", "--quiet", "--out", str(model)]) == 0
    capsys.readouterr()
    assert main(["forecast", str(model), str(data), "--horizon", "2"]) == 0
    assert capsys.readouterr().out.splitlines()[0] == "step,1"


_WAVE = [f"{10 + 5 * np.sin(i / 4):.3f}" for i in range(60)]
_CSV_CASES = {
    "two.csv": "year,y\n" + "".join(f"{2000 + i},{v}\n" for i, v in enumerate(_WAVE)),
    "semi.csv": "date;y\n" + "".join(f"2026-01-{i + 1:02d};{v}\n" for i, v in enumerate(_WAVE)),
    "dup.csv": "y,y\n1,2\n3,4\n5,6\n",
    "gaps.csv": "y\n" + "\n".join(v if i not in (3, 4, 40) else "" for i, v in enumerate(_WAVE)) + "\n",
    "short.csv": "y\n" + "\n".join(_WAVE[:30]) + "\n",
}


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        pytest.param(
            ["two.csv"], "2 numeric columns ('year', 'y'); choose the one to forecast with --column", id="2-cols"
        ),
        pytest.param(["semi.csv", "--column", "y", "--sep", ","], "give it with --sep", id="wrong-sep"),
        pytest.param(["semi.csv", "--sep", "ab"], "--sep must be one character", id="long-sep"),
        pytest.param(["dup.csv", "--column", "y"], "names column 'y' twice", id="duplicate"),
        pytest.param(["gaps.csv"], "3 missing value(s) at line(s) 5, 6, 42", id="missing"),
        pytest.param(["gaps.csv"], "fill them with --fill interpolate or --fill ffill", id="missing-flag"),
        pytest.param(["gaps.csv", "--fill", "mean"], "invalid choice", id="fill-choice"),
        pytest.param(["two.csv", "--time-column", "t"], "no column named 't' for --time-column", id="time"),
        pytest.param(
            ["short.csv", "--seq-length", "32"], "--seq-length 32 needs at least 33 training rows", id="short"
        ),
        pytest.param(["short.csv", "--batch-size", "10"], "(--batch-size * (--seq-length + 1))", id="short-batch"),
    ],
)
def test_csv_problems_exit_2_naming_the_flag_and_change_nothing(
    argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, text in _CSV_CASES.items():
        (tmp_path / name).write_text(text)
    before = {p: p.read_bytes() for p in tmp_path.iterdir()}
    full = ["train", str(tmp_path / argv[0]), *argv[1:], "--model", "mlp", "--steps", "2", "--device", "cpu"]
    assert main([*full, "--quiet", "--out", str(tmp_path / "m.safetensors")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert message in err
    assert {p: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_a_semicolon_file_with_dates_gaps_and_few_rows_trains_with_defaults_that_fit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "small.csv"
    rows = [f"2026-01-{i + 1:02d};{'' if i == 7 else v}" for i, v in enumerate(_WAVE[:30])]
    data.write_text("date;sales\n" + "\n".join(rows) + "\n")
    model = tmp_path / "m.safetensors"
    argv = ["train", str(data), "--time-column", "date", "--fill", "interpolate", "--model", "mlp", "--steps", "3"]
    assert main([*argv, "--device", "cpu", "--quiet", "--out", str(model)]) == 0
    checkpoint = sf.load(model)
    assert checkpoint.metadata["time_column"] == "date"
    assert checkpoint.metadata["seq_length"] == 2  # 27 training rows: a window that fits
    capsys.readouterr()
    assert main(["forecast", str(model), str(data), "--horizon", "2", "--fill", "ffill"]) == 0
    assert capsys.readouterr().out.splitlines()[0] == "step,value0"


def _wave_csv(tmp_path: Path, rows: int = 120) -> Path:
    data = tmp_path / "wave.csv"
    data.write_text("y\n" + "\n".join(f"{10 + 5 * np.sin(i / 3):.4f}" for i in range(rows)) + "\n")
    return data


def test_train_defaults_to_auto_and_forecast_and_evaluate_take_its_checkpoint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data, model = _wave_csv(tmp_path), tmp_path / "auto.safetensors"
    assert main(["train", str(data), "--steps", "5", "--quiet", "--out", str(model)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("chose ")
    assert "of naive" in out
    assert "held out (the last 12 rows)" in out
    assert sf.load(model).metadata["model"] == "auto"
    assert main(["forecast", str(model), str(data), "--horizon", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    expected = sf.AutoForecaster.load(model)
    expected.predict(sf.load_series(data))
    assert [float(line.split(",")[1]) for line in lines[1:]] == pytest.approx(
        expected.forecast(3).mean.ravel(), rel=1e-5
    )
    assert main(["evaluate", str(model), str(data), "--prime-steps", "100"]) == 0
    assert "skill" in capsys.readouterr().out


def test_auto_prints_the_warning_when_nothing_beats_naive(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    walk = np.cumsum(np.random.default_rng(3).normal(size=223))
    data = tmp_path / "walk.csv"
    data.write_text("y\n" + "\n".join(f"{v:.6f}" for v in walk) + "\n")
    argv = ["train", str(data), "--val-fraction", "0.1", "--steps", "5", "--quiet"]
    assert main([*argv, "--out", str(tmp_path / "m.safetensors")]) == 0
    err = capsys.readouterr().err
    assert "warning: AutoForecaster: no model beat the naive forecast on validation" in err


def test_an_explicit_model_that_loses_to_naive_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "trend.csv"
    data.write_text("y\n" + "\n".join(str(3.0 * i) for i in range(120)) + "\n")
    argv = ["train", str(data), "--model", "mlp", "--steps", "3", "--device", "cpu", "--quiet"]
    assert main([*argv, "--out", str(tmp_path / "m.safetensors")]) == 0
    assert "warning: the model does not beat the naive forecast on validation" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        pytest.param(["--difference"], "--difference sets up an explicit --model", id="difference"),
        pytest.param(["--hidden-size", "8"], "--hidden-size sets up an explicit --model", id="hidden"),
        pytest.param(["--threads", "2"], "--threads sets up an explicit --model", id="threads"),
        pytest.param(["--device", "cuda"], "--model auto trains on the CPU", id="device"),
        pytest.param(["--model", "gru", "--season", "12"], "--season applies to --model auto only", id="season"),
    ],
)
def test_auto_refuses_options_it_does_not_use(
    extra: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _wave_csv(tmp_path)
    before = sorted(tmp_path.iterdir())
    assert main(["train", str(data), *extra, "--quiet", "--out", str(tmp_path / "m.safetensors")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert message in err
    assert sorted(tmp_path.iterdir()) == before


def test_auto_on_a_series_too_short_names_the_flag(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = _wave_csv(tmp_path, rows=12)
    assert main(["train", str(data), "--quiet", "--out", str(tmp_path / "m.safetensors")]) == 2
    assert (
        "--model auto needs at least 12 training rows (the first 90% by --val-fraction), got 11"
        in capsys.readouterr().err
    )


def _backtest_rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(path.read_text().splitlines()))


def _forecast_from(model: Path, data: Path, cutoff: int, horizon: int, tmp_path: Path) -> list[float]:
    """What `seqforecast forecast` says from the rows before ``cutoff`` of ``data``."""
    lines = data.read_text().splitlines()
    head = tmp_path / "head.csv"
    head.write_text("\n".join(lines[: cutoff + 1]) + "\n")  # the header and rows 0 .. cutoff - 1
    out = tmp_path / "one.csv"
    assert main(["forecast", str(model), str(head), "--horizon", str(horizon), "--out", str(out)]) == 0
    return [float(row[1]) for row in list(csv.reader(out.read_text().splitlines()))[1:]]


def test_backtest_writes_the_table_and_plot_equal_to_forecast_from_a_cutoff(
    trained: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, plot = tmp_path / "b.csv", tmp_path / "b.png"
    argv = ["backtest", str(trained), SUNSPOTS, "--horizon", "5", "--start", "0.9", "--stride", "4"]
    assert main([*argv, "--out", str(out), "--plot", str(plot)]) == 0
    printed = capsys.readouterr().out
    assert "naive MSE" in printed
    assert "relative" in printed
    assert plot.read_bytes().startswith(b"\x89PNG")
    rows = _backtest_rows(out)
    assert list(rows[0]) == ["cutoff", "step", "time", "target", "forecast"]
    length = len(sf.load_series(SUNSPOTS, column="SUNACTIVITY"))
    cutoffs = sorted({int(r["cutoff"]) for r in rows})
    assert cutoffs == list(range(round(0.9 * length), length - 4, 4))
    assert len(rows) == 5 * len(cutoffs)
    assert [int(r["step"]) for r in rows[:5]] == [1, 2, 3, 4, 5]
    assert [int(r["time"]) for r in rows[:5]] == list(range(cutoffs[0], cutoffs[0] + 5))  # rows of the forecast points
    series = sf.load_series(SUNSPOTS, column="SUNACTIVITY").ravel()
    assert [float(r["target"]) for r in rows[:5]] == pytest.approx(series[cutoffs[0] : cutoffs[0] + 5])
    cutoff = cutoffs[1]
    forecasts = [float(r["forecast"]) for r in rows if int(r["cutoff"]) == cutoff]
    expected = _forecast_from(trained, Path(SUNSPOTS), cutoff, 5, tmp_path)
    assert forecasts == pytest.approx(expected, rel=1e-4, abs=1e-3)


def test_backtest_of_a_differenced_model_continues_each_cutoffs_levels(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "trend.csv"
    data.write_text(
        "day,y\n" + "".join(f"2026-{1 + i // 28:02d}-{1 + i % 28:02d},{2.0 * i + np.sin(i)}\n" for i in range(120))
    )
    model = tmp_path / "d.safetensors"
    argv = ["train", str(data), "--column", "y", "--time-column", "day", "--model", "mlp", "--difference"]
    assert main([*argv, "--steps", "20", "--seq-length", "8", "--device", "cpu", "--quiet", "--out", str(model)]) == 0
    capsys.readouterr()
    assert main(["backtest", str(model), str(data), "--horizon", "3", "--start", "100", "--stride", "5"]) == 0
    captured = capsys.readouterr()
    assert "naive MSE" in captured.err  # the summary goes to stderr when the table takes stdout
    rows = list(csv.DictReader(captured.out.splitlines()))
    assert sorted({int(r["cutoff"]) for r in rows}) == [100, 105, 110, 115]
    assert [r["time"] for r in rows[:3]] == ["2026-04-17", "2026-04-18", "2026-04-19"]  # the time column's own cells
    for cutoff in (100, 115):
        forecasts = [float(r["forecast"]) for r in rows if int(r["cutoff"]) == cutoff]
        expected = _forecast_from(model, data, cutoff, 3, tmp_path)
        assert forecasts == pytest.approx(expected, rel=1e-5, abs=1e-3)
        assert forecasts == pytest.approx([2.0 * (cutoff + h) for h in range(3)], abs=3.0)  # levels, not differences


def test_backtest_takes_an_auto_checkpoint(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data, model = _wave_csv(tmp_path), tmp_path / "auto.safetensors"
    assert main(["train", str(data), "--steps", "5", "--quiet", "--out", str(model)]) == 0
    out = tmp_path / "b.csv"
    assert main(["backtest", str(model), str(data), "--horizon", "4", "--start", "0.8", "--out", str(out)]) == 0
    assert "relative" in capsys.readouterr().out
    rows = _backtest_rows(out)
    expected = sf.AutoForecaster.load(model).backtest(sf.load_series(data), 4, start=96)
    assert [int(r["cutoff"]) for r in rows[::4]] == expected.cutoffs.tolist()
    assert [float(r["forecast"]) for r in rows] == pytest.approx(expected.forecasts.numpy().ravel(), rel=1e-5)
    assert [float(r["target"]) for r in rows] == pytest.approx(expected.targets.numpy().ravel(), rel=1e-5)
    # the wave's choice looks back over a season of differences: a first cutoff at row 1 is too early for it
    before = {path: path.read_bytes() for path in tmp_path.iterdir()}
    assert main(["backtest", str(model), str(data), "--horizon", "4", "--start", "1", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert "--start must be an integer >= " in err
    assert {path: path.read_bytes() for path in tmp_path.iterdir()} == before


def test_backtest_of_several_columns_names_each_pair(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "two.csv"
    data.write_text("a,b\n" + "".join(f"{np.sin(i / 3):.4f},{np.cos(i / 5):.4f}\n" for i in range(80)))
    checkpoint = tmp_path / "m.safetensors"
    sf.save(checkpoint, sf.ConvForecaster(2, 2, channels=4, head_hidden=4, seed=0), metadata={"columns": ["a", "b"]})
    assert main(["backtest", str(checkpoint), str(data), "--horizon", "2", "--start", "76"]) == 0
    rows = list(csv.reader(capsys.readouterr().out.splitlines()))
    assert rows[0] == ["cutoff", "step", "time", "a_target", "a_forecast", "b_target", "b_forecast"]
    model = sf.load(checkpoint).model
    expected = sf.backtest(model, sf.load_series(data), 2, start=76)
    got = np.array([[float(v) for v in row[3:]] for row in rows[1:]])
    np.testing.assert_allclose(got[:, 1::2], expected.forecasts.reshape(-1, 2).numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(got[:, 0::2], expected.targets.reshape(-1, 2).numpy(), rtol=1e-4, atol=1e-5)
    assert main(["backtest", str(checkpoint), str(data), "--column", "a", "--horizon", "2", "--start", "70"]) == 2
    assert "the model reads 2 column(s)" in capsys.readouterr().err
