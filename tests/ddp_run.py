"""A 2-process training run, launched by test_distributed.py with torchrun.

Usage: torchrun --standalone --nproc-per-node 2 tests/ddp_run.py MODE FOLDER
MODE: ``train`` (16 steps, a checkpoint at step 9), ``resume`` (from it, 7 more),
``fail`` (rank 1 raises at step 5).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch
from torch import Tensor

import seqforecast as sf

STEPS, SAVE_AT = 16, 9


def make_model() -> sf.RecurrentForecaster:
    torch.manual_seed(0)
    return sf.RecurrentForecaster(hidden_size=8, num_layers=2, cell="gru")


def make_stream() -> sf.SineStream:
    return sf.SineStream(batch_size=4, noise_std=0.05, seed=3)


class SaveAt(sf.Callback):
    def __init__(self, path: Path) -> None:
        self.path = path

    def on_step_end(self, trainer: sf.TrainerView, step: int, loss: Tensor) -> None:
        if step == SAVE_AT:
            trainer.save_checkpoint(self.path)


class FailAt(sf.Callback):
    def on_step_end(self, trainer: sf.TrainerView, step: int, loss: Tensor) -> None:
        if step == 5 and torch.distributed.get_rank() == 1:
            msg = "rank 1 failed on purpose at step 5"
            raise RuntimeError(msg)


def main() -> None:
    mode, folder = sys.argv[1], Path(sys.argv[2])
    checkpoint = folder / "step9.safetensors"
    if mode == "resume":
        trainer = sf.Trainer.resume(checkpoint, device="cpu", distributed=True)
        trainer.fit(make_stream(), steps=STEPS - SAVE_AT)
    else:
        callbacks = [SaveAt(checkpoint)] if mode == "train" else [FailAt()]
        trainer = sf.Trainer(make_model(), device="cpu", log_every=4, distributed=True, callbacks=callbacks)
        trainer.fit(make_stream(), steps=STEPS)
    rank = trainer.distribution.rank
    weights = [p.detach().reshape(-1).tolist() for p in trainer.module.parameters()]
    result = {"losses": trainer.history.losses, "weights": weights, "world_size": trainer.distribution.world_size}
    (folder / f"{mode}-rank{rank}.json").write_text(json.dumps(result))
    torch.distributed.destroy_process_group()


if __name__ == "__main__":
    main()
