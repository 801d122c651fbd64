"""Two processes under torchrun (gloo, loopback only) against one process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

import seqforecast as sf
from tests import ddp_run

ROOT = Path(__file__).parent.parent


def torchrun(mode: str, folder: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2"]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [*command, str(ROOT / "tests" / "ddp_run.py"), mode, str(folder)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=ROOT,
        env=env,
    )


def result(folder: Path, name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((folder / f"{name}.json").read_text())
    return data


@pytest.fixture(scope="module")
def two_process_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("ddp")
    run = torchrun("train", folder)
    assert run.returncode == 0, run.stderr[-3000:]
    return folder


def test_ranks_agree_and_match_one_process_on_all_lanes(two_process_run: Path) -> None:
    rank0, rank1 = result(two_process_run, "train-rank0"), result(two_process_run, "train-rank1")
    assert rank0["world_size"] == 2
    assert rank0["weights"] == rank1["weights"]
    assert rank0["losses"] == rank1["losses"]  # the global mean loss
    model = ddp_run.make_model()
    single = sf.Trainer(model, device="cpu", log_every=4)
    single.fit(ddp_run.make_stream(), steps=ddp_run.STEPS)  # the union of both ranks' lanes
    np.testing.assert_allclose(rank0["losses"], single.history.losses, rtol=1e-5, atol=1e-7)
    for distributed, alone in zip(rank0["weights"], model.parameters(), strict=True):
        np.testing.assert_allclose(distributed, alone.detach().reshape(-1).numpy(), rtol=1e-4, atol=1e-6)


def test_a_distributed_run_resumes_exactly(two_process_run: Path) -> None:
    run = torchrun("resume", two_process_run)
    assert run.returncode == 0, run.stderr[-3000:]
    resumed, uninterrupted = result(two_process_run, "resume-rank0"), result(two_process_run, "train-rank0")
    assert resumed["losses"] == uninterrupted["losses"]
    assert resumed["weights"] == uninterrupted["weights"]
    assert result(two_process_run, "resume-rank1")["weights"] == uninterrupted["weights"]


def test_resuming_with_another_world_size_is_refused(two_process_run: Path) -> None:
    with pytest.raises(ValueError, match="saved by 2 process"):
        sf.Trainer.resume(two_process_run / "step9.safetensors", device="cpu")


def test_a_failing_rank_ends_the_whole_run(tmp_path: Path) -> None:
    started = time.monotonic()
    run = torchrun("fail", tmp_path)
    assert run.returncode != 0
    assert "rank 1 failed on purpose at step 5" in run.stderr
    assert time.monotonic() - started < 120
    assert not (tmp_path / "fail-rank0.json").exists()


def test_streams_shard_into_their_lanes() -> None:
    stream = sf.SineStream(batch_size=4, noise_std=0.1, seed=1)
    parts = [stream.shard(rank, 2).window(3).inputs for rank in range(2)]
    assert torch.equal(torch.cat(parts), stream.window(3).inputs)
    with pytest.raises(ValueError, match="divisible"):
        stream.shard(0, 3)
    with pytest.raises(ValueError, match="rank"):
        stream.shard(2, 2)


def test_distributed_true_outside_torchrun_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ValueError, match="torchrun"):
        sf.Trainer(sf.RecurrentForecaster(), device="cpu", distributed=True)
