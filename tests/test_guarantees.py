"""The promises of the Guarantees page: atomic saving, dtypes, concurrent inference, the CLI's files."""

from __future__ import annotations

import math
import os
import pickle
import signal
import struct
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import torch

import seqforecast as sf
from seqforecast.cli import main

ROOT = Path(__file__).parent.parent


def small_model() -> sf.FeedForwardForecaster:
    return sf.FeedForwardForecaster(hidden_sizes=(4,), window=2)


# -- saving ---------------------------------------------------------------------------------
def test_resaving_keeps_the_file_permissions(tmp_path: Path) -> None:
    path = tmp_path / "model.safetensors"
    sf.save(path, small_model())
    path.chmod(0o600)
    sf.save(path, small_model())
    assert path.stat().st_mode & 0o777 == 0o600


def test_saving_to_a_symlink_writes_through_it(tmp_path: Path) -> None:
    target = tmp_path / "real.safetensors"
    sf.save(target, small_model())
    link = tmp_path / "link.safetensors"
    link.symlink_to(target)
    model = small_model()
    sf.save(link, model, metadata={"round": 2})
    assert link.is_symlink()
    assert sf.load(target).metadata == {"round": 2}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.safetensors", "real.safetensors"]


@pytest.mark.parametrize("dtype", [torch.float64, torch.float16], ids=str)
def test_the_model_dtype_round_trips(tmp_path: Path, dtype: torch.dtype) -> None:
    model = sf.RecurrentForecaster(hidden_size=4, num_layers=1).to(dtype)
    sf.save(tmp_path / "m.safetensors", model)
    loaded = sf.load(tmp_path / "m.safetensors").model
    assert {p.dtype for p in loaded.parameters()} == {dtype}
    assert all(torch.equal(a, b) for a, b in zip(model.parameters(), loaded.parameters(), strict=True))


def _temporaries(folder: Path) -> list[Path]:
    return sorted(folder.glob(".model.safetensors.*.tmp"))


def test_a_temp_file_left_by_a_killed_save_is_removed_by_the_next_save(tmp_path: Path) -> None:
    path = tmp_path / "model.safetensors"
    writer = textwrap.dedent(
        f"""
        import os, sys, time
        import seqforecast as sf
        def hang(fd):  # the data is written; the process is killed before it is renamed
            print("writing", flush=True)
            time.sleep(60)
        os.fsync = hang
        sf.save({str(path)!r}, sf.FeedForwardForecaster(hidden_sizes=(4,)))
        """
    )
    with subprocess.Popen([sys.executable, "-c", writer], stdout=subprocess.PIPE, text=True, cwd=ROOT) as process:
        try:
            assert process.stdout is not None
            assert process.stdout.readline().strip() == "writing"
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=30)
    (left,) = _temporaries(tmp_path)
    assert not path.exists()

    sf.save(path, small_model())  # the dead writer's file is recent: it might still be in use (another machine)
    assert _temporaries(tmp_path) == [left]
    old = time.time() - 3600
    os.utime(left, (old, old))
    sf.save(path, small_model())
    assert _temporaries(tmp_path) == []
    assert sf.load(path).model.config == small_model().config


def test_a_live_writers_temp_file_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "model.safetensors"
    live = tmp_path / f".model.safetensors.{os.getpid()}.0123abcd.tmp"  # this process is alive
    live.write_bytes(b"partial")
    old = time.time() - 3600
    os.utime(live, (old, old))
    sf.save(path, small_model())
    assert _temporaries(tmp_path) == [live]


# -- concurrent inference -------------------------------------------------------------------
def dropout_model() -> sf.RecurrentForecaster:
    return sf.RecurrentForecaster(hidden_size=8, num_layers=3, dropout=0.5)


def test_inference_never_changes_a_model_in_evaluation_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    model = dropout_model().eval()
    switches: list[bool] = []
    monkeypatch.setattr(model, "train", lambda mode=True: switches.append(mode))
    history = torch.sin(torch.arange(12.0) / 3)
    sf.prime(model, history)
    sf.predict(model, history)
    sf.forecast(model, history, 3)
    sf.evaluate(model, history)
    sf.StreamingForecaster(model).update(torch.tensor([0.5]))
    assert switches == []


@pytest.mark.parametrize("mode", ["eval", "train"])
def test_concurrent_predictions_equal_serial_ones(mode: str) -> None:
    model = dropout_model().train(mode == "train")
    inputs = [torch.sin(torch.arange(16.0) / 3 + k) for k in range(20)]
    expected = [sf.predict(model, x)[0] for x in inputs]
    barrier = threading.Barrier(len(inputs))
    results: dict[int, list[torch.Tensor]] = {}

    def work(k: int) -> None:
        barrier.wait()
        results[k] = [sf.predict(model, inputs[k])[0] for _ in range(10)]

    threads = [threading.Thread(target=work, args=(k,)) for k in range(len(inputs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(torch.equal(y, expected[k]) for k, ys in results.items() for y in ys)
    assert len(results) == len(inputs)
    assert model.training == (mode == "train")


# -- the command line -----------------------------------------------------------------------
@pytest.fixture(scope="module")
def cli_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A small CSV and a model trained on it by the command line."""
    folder = tmp_path_factory.mktemp("cli")
    data = folder / "d.csv"
    data.write_text("y\n" + "".join(f"{math.sin(i / 4):.4f}\n" for i in range(120)))
    model = folder / "model.safetensors"
    argv = ["train", str(data), "--column", "y", "--model", "mlp", "--hidden-size", "4", "--steps", "3"]
    assert (
        main([*argv, "--seq-length", "8", "--batch-size", "2", "--device", "cpu", "--quiet", "--out", str(model)]) == 0
    )
    return {"data": data, "model": model}


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    status = main(argv)
    captured = capsys.readouterr()
    return status, captured.err


def test_train_refuses_to_overwrite_its_data(cli_files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    data = cli_files["data"]
    before = data.read_bytes()
    for out in (str(data), str(data.parent / "." / data.name)):
        status, err = run_cli(["train", str(data), "--column", "y", "--steps", "2", "--out", out], capsys)
        assert status == 2
        assert "it is the same file as" in err
        assert data.read_bytes() == before


def test_forecast_refuses_to_overwrite_its_inputs(
    cli_files: dict[str, Path], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    model, data = cli_files["model"], cli_files["data"]
    link = tmp_path / "link.safetensors"
    link.symlink_to(model)
    before = model.read_bytes(), data.read_bytes()
    for out in (str(model), str(data), str(link)):
        status, err = run_cli(["forecast", str(model), str(data), "--horizon", "3", "--out", out], capsys)
        assert status == 2
        assert "it is the same file as" in err
    assert (model.read_bytes(), data.read_bytes()) == before
    assert sf.load(model).model is not None


@pytest.mark.parametrize("plot", ["p.png", "out.xyz", "noext", "same.csv"])
def test_forecast_checks_the_plot_path_before_any_work(
    cli_files: dict[str, Path], capsys: pytest.CaptureFixture[str], tmp_path: Path, plot: str
) -> None:
    (tmp_path / "p.png").mkdir()  # a folder with a picture's name
    out = tmp_path / "same.csv"
    argv = ["forecast", str(cli_files["model"]), str(cli_files["data"]), "--horizon", "3", "--out", str(out)]
    status, err = run_cli([*argv, "--plot", str(tmp_path / plot)], capsys)
    assert status == 2
    assert err.count("\n") == 1
    assert "cannot write the plot" in err
    assert not out.exists()  # nothing was written


def test_evaluate_refuses_more_priming_than_points(
    cli_files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["evaluate", str(cli_files["model"]), str(cli_files["data"])]
    status, err = run_cli([*argv, "--prime-steps", "10000"], capsys)
    assert status == 2
    assert "--prime-steps must be less than the 119 one-step forecasts the series gives, got 10000" in err
    assert run_cli([*argv, "--prime-steps", "118"], capsys)[0] == 0


def test_train_interrupted_saves_and_exits_130(
    cli_files: dict[str, Path], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    step = sf.Trainer._step

    def step_then_ctrl_c(self: sf.Trainer, *args: Any) -> Any:
        result = step(self, *args)
        if self.history.steps == 1:  # the second step: a real Ctrl-C, which ends fit after this step
            os.kill(os.getpid(), signal.SIGINT)
        return result

    monkeypatch.setattr(sf.Trainer, "_step", step_then_ctrl_c)
    out = tmp_path / "m.safetensors"
    argv = ["train", str(cli_files["data"]), "--column", "y", "--model", "mlp", "--steps", "20", "--quiet"]
    assert main([*argv, "--device", "cpu", "--out", str(out)]) == 130
    assert "interrupted after 2 steps" in capsys.readouterr().out
    assert sf.load(out).model is not None


DEEP = b'{"a":' + b"[" * 100_000 + b"]" * 100_000 + b"}"


def _bad_files(folder: Path, good_model: Path) -> dict[str, Path]:
    files = {
        "empty": b"",
        "garbage": bytes(range(256)) * 8,
        "short header": struct.pack("<Q", 10),
        "header past the end": struct.pack("<Q", 2**40) + b"{}",
        "deep JSON": struct.pack("<Q", len(DEEP)) + DEEP,
        "truncated checkpoint": good_model.read_bytes()[:-100],
        "one-row csv": b"y\n1\n",
        "pickle": pickle.dumps({"weights": [1.0, 2.0]}),
        "text with NUL": b"y\n1\x002\n",
    }
    paths = {}
    for name, data in files.items():
        path = folder / (name.replace(" ", "_") + ".bin")
        path.write_bytes(data)
        paths[name] = path
    folder_path = folder / "a_folder"
    folder_path.mkdir()
    paths["a folder"] = folder_path
    paths["/dev/zero"] = Path("/dev/zero")
    paths["missing"] = folder / "missing.safetensors"
    return paths


def test_no_input_file_makes_the_cli_print_a_traceback(
    cli_files: dict[str, Path], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    model, data = str(cli_files["model"]), str(cli_files["data"])
    for name, bad in _bad_files(tmp_path, cli_files["model"]).items():
        for argv in (
            ["forecast", str(bad), data, "--horizon", "2"],
            ["evaluate", str(bad), data],
            ["forecast", model, str(bad), "--horizon", "2"],
            ["evaluate", model, str(bad)],
            ["train", str(bad), "--steps", "1", "--quiet", "--out", str(tmp_path / "out.safetensors")],
        ):
            status, err = run_cli(argv, capsys)
            assert (status, err.count("\n")) == (2, 1), (name, argv, err)
            assert f"seqforecast {argv[0]}: error:" in err
