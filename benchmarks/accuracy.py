"""Time to accuracy: training wall time until the primed next-step MSE reaches a threshold.

The score is the notebook's test: prime on 32 points over 720-894.375
degrees, then the next-step MSE over 65 points spanning 900-1260 degrees
(:func:`seqforecast.demo.sine_test_data`, :func:`seqforecast.demo.next_step_mse`).
Both sides are scored every few steps; only training time is counted, the
scoring is not.
"""

from __future__ import annotations

import dataclasses
import math
import statistics
from typing import Any, Literal

import torch

import seqforecast as sf
from benchmarks.baselines import NotebookLoop, notebook_primed_mse
from benchmarks.report import Row
from benchmarks.timing import Timer, summarize
from seqforecast.demo import next_step_mse, sine_test_data

__all__ = ["RECOMMENDED", "THRESHOLD", "Recipe", "Run", "accuracy_row", "library_run", "notebook_run"]

THRESHOLD = 2e-4
"""Primed next-step MSE to reach."""

TARGET_SPEEDUP = 10.0


@dataclasses.dataclass(frozen=True)
class Recipe:
    """Training settings for the library side: model, stream and trainer."""

    cell: Literal["rnn", "lstm", "gru"] = "rnn"
    hidden_size: int = 32
    num_layers: int = 3
    batch_size: int = 16
    seq_length: int = 18
    lr: float = 0.01
    clip_grad_norm: float | None = None

    def describe(self) -> str:
        clip = "" if self.clip_grad_norm is None else f", clip_grad_norm={self.clip_grad_norm:g}"
        return (
            f"RecurrentForecaster(hidden_size={self.hidden_size}, num_layers={self.num_layers}, cell={self.cell!r}); "
            f"SineStream(seq_length={self.seq_length}, batch_size={self.batch_size}); "
            f"Trainer(lr={self.lr:g}{clip})"
        )


RECOMMENDED = Recipe(cell="lstm", hidden_size=32, num_layers=1, batch_size=8, lr=0.05, clip_grad_norm=0.1)


@dataclasses.dataclass
class Run:
    """One seed's run: training seconds and steps until the threshold (inf when never reached)."""

    seed: int
    seconds: float
    steps: int
    reached: bool
    trace: list[tuple[int, float]]  # (step, primed MSE) at every checkpoint

    def to_dict(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "seconds": self.seconds if self.reached else None,
            "steps": self.steps,
            "reached": self.reached,
            "trace": self.trace,
        }

    @property
    def cost(self) -> float:
        """Seconds to the threshold, infinite when it was never reached."""
        return self.seconds if self.reached else math.inf


class _Checkpoints(sf.Callback):
    """Score the model every ``every`` steps; stop at the threshold; keep the scoring time apart."""

    def __init__(self, device: torch.device, every: int, threshold: float) -> None:
        self.device = device
        self.every = every
        self.threshold = threshold
        self.priming, self.test = sine_test_data(device)
        self.scoring_seconds = 0.0
        self.trace: list[tuple[int, float]] = []
        self.reached_at: int | None = None

    def on_step_end(self, trainer: sf.TrainerView, step: int, loss: torch.Tensor) -> None:
        if step % self.every:
            return
        with Timer(self.device) as timer:
            score = next_step_mse(trainer.model, self.test, sf.prime(trainer.model, self.priming))
        self.scoring_seconds += timer.seconds
        self.trace.append((step, score))
        if score <= self.threshold:
            self.reached_at = step
            trainer.should_stop = True


def library_run(
    recipe: Recipe, seed: int, device: torch.device, *, every: int, max_steps: int, threshold: float = THRESHOLD
) -> Run:
    """Train with the library until the primed MSE, scored every ``every`` steps, reaches ``threshold``.

    One :meth:`~seqforecast.Trainer.fit` call; a callback scores the model
    and its time is taken off the wall time of the call.
    """
    torch.manual_seed(seed)
    model = sf.RecurrentForecaster(hidden_size=recipe.hidden_size, num_layers=recipe.num_layers, cell=recipe.cell)
    checkpoints = _Checkpoints(device, every, threshold)
    trainer = sf.Trainer(
        model,
        lr=recipe.lr,
        clip_grad_norm=recipe.clip_grad_norm,
        device=device,
        seed=seed,
        callbacks=[checkpoints],
    )
    stream = sf.SineStream(recipe.seq_length, batch_size=recipe.batch_size, device=device, seed=seed)
    with Timer(device) as timer:
        history = trainer.fit(stream, steps=max_steps)
    seconds = timer.seconds - checkpoints.scoring_seconds
    reached = checkpoints.reached_at is not None
    return Run(seed, seconds, history.steps, reached, checkpoints.trace)


def notebook_run(seed: int, device: torch.device, *, every: int, max_steps: int, threshold: float = THRESHOLD) -> Run:
    """Train with the notebook's loop in chunks of ``every`` steps until the primed MSE reaches ``threshold``."""
    loop = NotebookLoop(device, seed)
    seconds, trace = 0.0, []
    while loop.step < max_steps:
        with Timer(device) as timer:
            loop.train(every)
        seconds += timer.seconds
        score = notebook_primed_mse(loop.net, device)
        trace.append((loop.step, score))
        if score <= threshold:
            return Run(seed, seconds, loop.step, True, trace)
    return Run(seed, seconds, loop.step, False, trace)


def accuracy_row(
    recipe: Recipe,
    device: torch.device,
    *,
    seeds: int,
    every: int,
    library_max_steps: int,
    notebook_max_steps: int,
) -> Row:
    """Speed-up of the library's recipe over the notebook's loop in time to accuracy, ``seeds`` seeds each.

    The two sides run seed by seed, alternating; the figure is the ratio of
    the median times (the spread: per-seed ratios). A run that never gets
    there counts as infinitely slow.
    """
    notebook: list[Run] = []
    library: list[Run] = []
    for seed in range(seeds):
        first, second = (notebook_run, library_run) if seed % 2 == 0 else (library_run, notebook_run)
        for side in (first, second):
            if side is notebook_run:
                notebook.append(notebook_run(seed, device, every=every, max_steps=notebook_max_steps))
            else:
                library.append(library_run(recipe, seed, device, every=every, max_steps=library_max_steps))
    notebook_median = statistics.median(run.cost for run in notebook)
    library_median = statistics.median(run.cost for run in library)
    per_seed = [_speedup(n.cost, lib.cost) for n, lib in zip(notebook, library, strict=True)]
    spread = summarize(per_seed)
    speedup = _speedup(notebook_median, library_median)
    stats = dataclasses.replace(spread, median=speedup)
    steps = (statistics.median(run.steps for run in notebook), statistics.median(run.steps for run in library))
    return Row(
        group="time to accuracy",
        name=f"primed MSE ≤ {THRESHOLD:g}, median of {seeds} seeds",
        device=device.type,
        figure="notebook loop / library (speed-up)",
        stats=stats,
        target=f"≥ {TARGET_SPEEDUP:g}",
        passed=speedup >= TARGET_SPEEDUP,
        context=f"{library_median * 1e3:.3g} ms ({steps[1]:g} steps) vs {notebook_median * 1e3:.3g} ms "
        f"({steps[0]:g} steps); {sum(r.reached for r in library)}/{seeds} and "
        f"{sum(r.reached for r in notebook)}/{seeds} seeds got there",
        details={
            "recipe": dataclasses.asdict(recipe),
            "recipe_text": recipe.describe(),
            "threshold": THRESHOLD,
            "scored_every": every,
            "library": [run.to_dict() for run in library],
            "notebook": [run.to_dict() for run in notebook],
        },
    )


def _speedup(notebook_seconds: float, library_seconds: float) -> float:
    if math.isinf(library_seconds):
        return 0.0
    return notebook_seconds / library_seconds
