"""Checkpoints: round trips, exact resume, corruption and pickle safety."""

from __future__ import annotations

import json
import os
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from safetensors.torch import save as safetensors_bytes
from torch import Tensor

import seqforecast as sf
from seqforecast._checkpoint_file import write_file
from tests import resume_run
from tests.strategies import batches, forecasters, make_input

ROOT = Path(__file__).parent.parent


def states_equal(a: sf.State, b: sf.State) -> bool:
    if a is None or b is None:
        return a is b
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        return torch.equal(a, b)
    return isinstance(a, tuple) and isinstance(b, tuple) and all(torch.equal(x, y) for x, y in zip(a, b, strict=True))


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(model=forecasters(), batch=batches)
def test_round_trip_gives_identical_outputs_and_state(tmp_path: Path, model: sf.BaseForecaster, batch: int) -> None:
    path = tmp_path / "model.safetensors"
    scaler = sf.Scaler().fit(torch.randn(20, model.input_size))
    sf.save(path, model, scaler=scaler, metadata={"note": "ok", "values": [1, 2.5, None]})
    loaded = sf.load(path)
    assert loaded.model.config == model.config
    assert loaded.metadata == {"note": "ok", "values": [1, 2.5, None]}
    assert loaded.scaler is not None
    assert loaded.scaler.state_dict() == scaler.state_dict()
    model.eval()
    x = make_input(model, batch, 7)
    y, state = model(x)
    y2, state2 = loaded.model(x)
    assert torch.equal(y, y2)
    assert states_equal(state, state2)


def run_phase(phase: str, folder: Path, steps: int) -> dict[str, Any]:
    subprocess.run(
        [sys.executable, str(ROOT / "tests" / "resume_run.py"), phase, str(folder), str(steps)],
        check=True,
        timeout=300,
        cwd=ROOT,
    )
    result: dict[str, Any] = json.loads((folder / f"{phase}.json").read_text())
    return result


def test_resume_in_a_new_process_is_bit_identical(tmp_path: Path) -> None:
    """N steps, save, resume in another process, M more == N + M at once (all models, both modes, both streams)."""
    first = run_phase("save", tmp_path, 9)
    resumed = run_phase("resume", tmp_path, 7)
    for case in resume_run.CASES:
        name = "-".join(str(c) for c in case)
        trainer, data = resume_run.make(*case)
        trainer.fit(data, steps=16)
        assert first[name]["losses"] == trainer.history.losses[:9], f"{name}: runs differ across processes"
        assert resumed[name]["losses"] == trainer.history.losses, name
        assert resumed[name]["weights"] == resume_run.weights(trainer), name


def test_trainer_state_survives_a_round_trip(tmp_path: Path) -> None:
    model = sf.RecurrentForecaster(hidden_size=4, num_layers=1, cell="lstm")
    trainer = sf.Trainer(model, device="cpu", log_every=3)
    trainer.fit(sf.SineStream(batch_size=2), steps=5)
    trainer.save_checkpoint(tmp_path / "t.safetensors", metadata={"run": 1})
    resumed = sf.Trainer.resume(tmp_path / "t.safetensors", device="cpu")
    assert resumed.history.losses == trainer.history.losses
    assert resumed.stream_position == 5
    assert states_equal(resumed.state, trainer.state)


def test_resume_needs_the_custom_loss_and_a_trainer(tmp_path: Path) -> None:
    model = sf.FeedForwardForecaster()
    trainer = sf.Trainer(model, device="cpu", loss=torch.nn.L1Loss())
    trainer.fit(sf.SineStream(), steps=2)
    trainer.save_checkpoint(tmp_path / "l1.safetensors")
    with pytest.raises(ValueError, match="custom loss"):
        sf.Trainer.resume(tmp_path / "l1.safetensors", device="cpu")
    assert sf.Trainer.resume(tmp_path / "l1.safetensors", device="cpu", loss=torch.nn.L1Loss()).history.steps == 2
    sf.save(tmp_path / "plain.safetensors", model)
    with pytest.raises(sf.CheckpointError, match="no trainer state"):
        sf.Trainer.resume(tmp_path / "plain.safetensors", device="cpu")


def test_interrupt_writes_the_checkpoint_first(tmp_path: Path) -> None:
    class Interrupt(sf.Callback):
        def on_step_end(self, trainer: sf.TrainerView, step: int, loss: Tensor) -> None:
            if step == 7:
                raise KeyboardInterrupt

    path = tmp_path / "latest.safetensors"
    trainer = sf.Trainer(
        sf.FeedForwardForecaster(), device="cpu", callbacks=[Interrupt(), sf.ModelCheckpoint(path, every=100)]
    )
    history = trainer.fit(sf.SineStream(), steps=50)
    assert history.interrupted
    saved = sf.load(path).trainer_state
    assert saved is not None
    assert saved["history"]["steps"] == 7
    assert saved["history"]["interrupted"] is True


def test_best_checkpoint_follows_validation(tmp_path: Path) -> None:
    path = tmp_path / "best.safetensors"
    trainer = sf.Trainer(
        sf.FeedForwardForecaster(window=2), device="cpu", callbacks=[sf.ModelCheckpoint(path, best=True)]
    )
    trainer.fit(sf.SineStream(batch_size=4), steps=20, val_stream=sf.SineStream(num_windows=2), val_every=5)
    saved = sf.load(path).trainer_state
    assert saved is not None
    best = min(trainer.history.val_losses)
    assert saved["history"]["val_losses"][-1] == best


# -- corruption and hostile files ------------------------------------------------------------


@pytest.fixture(scope="module")
def small_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("ckpt") / "small.safetensors"
    sf.save(path, sf.FeedForwardForecaster(hidden_sizes=(2,)), metadata={"a": 1})
    return path.read_bytes()


def test_every_flipped_bit_is_detected(tmp_path: Path, small_checkpoint: bytes) -> None:
    """Exhaustive: each of the file's bits, flipped alone, makes loading fail cleanly."""
    path = tmp_path / "flipped.safetensors"
    for position in range(len(small_checkpoint)):
        for bit in range(8):
            corrupted = bytearray(small_checkpoint)
            corrupted[position] ^= 1 << bit
            path.write_bytes(bytes(corrupted))
            with pytest.raises(sf.CheckpointError):
                sf.load(path)


@pytest.mark.parametrize("keep", [0, 5, 8, 100, -1])
def test_truncated_files_are_refused(tmp_path: Path, small_checkpoint: bytes, keep: int) -> None:
    path = tmp_path / "cut.safetensors"
    path.write_bytes(small_checkpoint[:keep])
    with pytest.raises(sf.CheckpointError):
        sf.load(path)


def test_unknown_class_and_newer_format_are_refused(tmp_path: Path) -> None:
    content = {
        "library_version": "9.9",
        "model": {"class": "TransformerForecaster", "config": {}},
        "weights": {},
        "scaler": None,
        "differencer": None,
        "trainer": None,
        "metadata": {},
    }
    write_file(tmp_path / "unknown.safetensors", content, {})
    with pytest.raises(sf.CheckpointError, match="TransformerForecaster"):
        sf.load(tmp_path / "unknown.safetensors")
    newer = safetensors_bytes({"x": torch.zeros(1)}, metadata={"format": "seqforecast", "format_version": "99"})
    (tmp_path / "newer.safetensors").write_bytes(newer)
    with pytest.raises(sf.CheckpointError, match="newer"):
        sf.load(tmp_path / "newer.safetensors")
    other = safetensors_bytes({"x": torch.zeros(1)})
    (tmp_path / "other.safetensors").write_bytes(other)
    with pytest.raises(sf.CheckpointError, match="not a seqforecast checkpoint"):
        sf.load(tmp_path / "other.safetensors")


class CreatesAFile:
    """Unpickling this would create a file: the attack a checkpoint must not allow."""

    def __init__(self, target: Path) -> None:
        self.target = target

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return (Path.touch, (self.target,))


def test_pickles_are_never_executed(tmp_path: Path) -> None:
    target = tmp_path / "pwned"
    torch.save({"weights": torch.zeros(2), "payload": CreatesAFile(target)}, tmp_path / "model.pt")
    (tmp_path / "renamed.safetensors").write_bytes((tmp_path / "model.pt").read_bytes())
    (tmp_path / "raw.safetensors").write_bytes(pickle.dumps(CreatesAFile(target)))
    for name in ("renamed.safetensors", "raw.safetensors", "model.pt"):
        with pytest.raises(sf.CheckpointError):
            sf.load(tmp_path / name)
        with pytest.raises(sf.CheckpointError):
            sf.Trainer.resume(tmp_path / name, device="cpu")
    assert not target.exists()


def test_missing_file_and_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"nothing\.safetensors"):
        sf.load(tmp_path / "nothing.safetensors")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        sf.save(tmp_path / "no" / "folder.safetensors", sf.RecurrentForecaster())
    with pytest.raises(TypeError, match="model"):
        sf.save(tmp_path / "x.safetensors", torch.nn.Linear(1, 1))  # type: ignore[arg-type]
    with pytest.raises(sf.CheckpointError, match="cannot store"):
        sf.save(tmp_path / "x.safetensors", sf.RecurrentForecaster(), metadata={"bad": object()})
    assert not (tmp_path / "x.safetensors").exists()


SAVER = """
import sys, torch, seqforecast as sf
model = sf.ConvForecaster(channels=256, head_hidden=256)
print("ready", flush=True)
while True:
    sf.save(sys.argv[1], model)
"""


def test_killing_a_save_leaves_the_previous_file_intact(tmp_path: Path) -> None:
    path = tmp_path / "model.safetensors"
    previous = sf.FeedForwardForecaster(hidden_sizes=(3,))
    sf.save(path, previous)
    with subprocess.Popen([sys.executable, "-c", SAVER, str(path)], stdout=subprocess.PIPE, text=True) as saver:
        assert saver.stdout is not None
        assert saver.stdout.readline().strip() == "ready"
        time.sleep(0.4)  # many saves are under way by now
        os.kill(saver.pid, signal.SIGKILL)
        saver.wait(timeout=30)
    loaded = sf.load(path).model  # whichever save completed last, never a torn file
    assert type(loaded).__name__ in ("FeedForwardForecaster", "ConvForecaster")


def test_checkpoint_files_are_small_and_readable(tmp_path: Path) -> None:
    path = tmp_path / "rnn.safetensors"
    sf.save(path, sf.RecurrentForecaster())
    assert path.stat().st_size < 40_000
    assert path.stat().st_mode & 0o044  # readable like any file the user writes (umask permitting)


def test_tensors_under_clashing_keys_keep_their_values(tmp_path: Path) -> None:
    metadata = {"a.b": torch.tensor([1.0]), "a": {"b": torch.tensor([2.0])}}
    sf.save(tmp_path / "m.safetensors", sf.FeedForwardForecaster(), metadata=metadata)
    loaded = sf.load(tmp_path / "m.safetensors").metadata
    assert loaded["a.b"].item() == 1.0
    assert loaded["a"]["b"].item() == 2.0
