"""Train, save and resume in a separate process (run by test_checkpoint.py).

Usage: python tests/resume_run.py {save,resume,whole} FOLDER STEPS
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import torch

import seqforecast as sf

CASES = [
    (family, stateful, stream)
    for family in ("rnn", "mlp", "conv")
    for stateful in (True, False)
    for stream in ("sine", "array")
]


def make(family: str, stateful: bool, stream: str) -> tuple[sf.Trainer, sf.SineStream | sf.ArrayStream]:
    torch.manual_seed(0)
    model: sf.BaseForecaster
    if family == "rnn":
        model = sf.RecurrentForecaster(hidden_size=8, num_layers=2, cell="lstm", dropout=0.2)
    elif family == "mlp":
        model = sf.FeedForwardForecaster(hidden_sizes=(8,), window=3)
    else:
        model = sf.ConvForecaster(channels=4, head_hidden=4, dilation_base=2)
    data: sf.SineStream | sf.ArrayStream
    if stream == "sine":
        data = sf.SineStream(batch_size=3, noise_std=0.05, seed=1)
    else:
        series = np.sin(np.arange(200) / 4.0) + np.random.default_rng(0).normal(0, 0.05, 200)
        data = sf.ArrayStream(series, seq_length=9, batch_size=2, num_epochs=None)
    trainer = sf.Trainer(model, device="cpu", stateful=stateful, log_every=4, seed=7, clip_grad_norm=1.0)
    return trainer, data


def weights(trainer: sf.Trainer) -> list[list[float]]:
    return [p.detach().reshape(-1).tolist() for p in trainer.module.parameters()]


def main() -> None:
    phase, folder, steps = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
    results = {}
    for case in CASES:
        name = "-".join(str(c) for c in case)
        trainer, data = make(*case)
        if phase == "resume":
            trainer = sf.Trainer.resume(folder / f"{name}.safetensors", device="cpu")
        trainer.fit(data, steps=steps)
        if phase == "save":
            trainer.save_checkpoint(folder / f"{name}.safetensors")
        results[name] = {"losses": trainer.history.losses, "weights": weights(trainer)}
    (folder / f"{phase}.json").write_text(json.dumps(results))


if __name__ == "__main__":
    main()
