"""The promises of the Guarantees page: atomic saving, dtypes, concurrent inference, the CLI's files."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
import torch

import seqforecast as sf

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
