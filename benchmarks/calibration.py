"""Calibration of the likelihood and quantile heads on AR(1) series of known noise.

Each case fits a one-lag linear forecaster with a head (the true conditional
distribution is within its reach) on 20,000 points of
``y[t] = 0.8 y[t-1] + 0.5 e[t]`` and scores its one-step distributions on the
next 5,000 points:

* the empirical coverage of the central 80 % and 95 % intervals;
* the CRPS beside the oracle's (the true conditional distribution), both
  computed the same way: twice the mean pinball loss over 99 levels.

Noise is standard normal, or Student-t with 3 degrees of freedom (heavy tails, where the
Gaussian head's coverage goes wrong). A last row samples closed-loop paths
(:func:`seqforecast.forecast_quantiles`) from 2,000 cutoffs and reports the
80 % coverage at every step h = 1…12.
"""

from __future__ import annotations

import dataclasses
import statistics
from typing import TYPE_CHECKING, Any

import torch

import seqforecast as sf
from benchmarks.report import Row
from benchmarks.synthetic import ar1
from benchmarks.timing import summarize
from seqforecast.distributions import StudentT

if TYPE_CHECKING:
    import numpy as np

__all__ = ["CASES", "Case", "calibration_row", "closed_loop_row"]

PHI, SIGMA, TRAIN, TEST = 0.8, 0.5, 20_000, 5_000
TOLERANCE = 0.03  # on coverage, where a row has a target
GRID = torch.linspace(0.005, 0.995, 99, dtype=torch.float64)  # levels of the CRPS quadrature


@dataclasses.dataclass(frozen=True)
class Case:
    """A head and a noise; ``target`` says which coverages must be within the tolerance."""

    head: str  # "gaussian", "student_t" or "quantiles"
    noise_df: float | None  # None: Gaussian noise
    target: tuple[float, ...] = ()

    @property
    def name(self) -> str:
        noise = "Gaussian noise" if self.noise_df is None else f"Student-t noise (df = {self.noise_df:g})"
        return f"{self.head} head, {noise}"

    def head_kwargs(self) -> dict[str, Any]:
        if self.head == "quantiles":
            return {"quantiles": (0.025, 0.1, 0.5, 0.9, 0.975)}
        return {"likelihood": self.head}


CASES = (
    Case("gaussian", None, target=(0.8, 0.95)),
    Case("student_t", None),
    Case("quantiles", None),
    Case("gaussian", 3.0),
    Case("student_t", 3.0, target=(0.95,)),
    Case("quantiles", 3.0),
)


def fit(
    head: dict[str, Any], series: np.ndarray, seed: int, device: torch.device, *, steps: int
) -> sf.FeedForwardForecaster:
    """A one-lag linear forecaster with ``head``, ``steps`` Adam steps on windows of 32 lanes x 100 points."""
    model = sf.FeedForwardForecaster(hidden_sizes=(), window=1, seed=seed, **head)
    trainer = sf.Trainer(model, device=device, lr=0.03, clip_grad_norm=1.0, seed=seed)
    trainer.fit(sf.ArrayStream(series, seq_length=100, batch_size=32, device=device), steps=steps)
    return model


def _crps(quantile_function: Any, targets: torch.Tensor) -> float:
    """Twice the mean pinball loss over :data:`GRID`: the CRPS up to the quadrature."""
    levels = GRID.to(targets.device)
    quantiles = torch.stack([quantile_function(p).double().flatten() for p in levels])  # (99, points)
    error = targets.double().flatten() - quantiles
    return float(2 * torch.maximum(levels[:, None] * error, (levels[:, None] - 1) * error).mean())


def _coverage(dist: Any, targets: torch.Tensor, level: float) -> float:
    device = targets.device
    lower = dist.icdf(torch.tensor((1 - level) / 2, device=device))
    upper = dist.icdf(torch.tensor((1 + level) / 2, device=device))
    return float(((targets >= lower) & (targets <= upper)).double().mean())


def _one_seed(case: Case, seed: int, device: torch.device, steps: int) -> dict[str, float]:
    y = ar1(TRAIN + TEST + 1, seed=seed, phi=PHI, scale=SIGMA, df=case.noise_df)
    model = fit(case.head_kwargs(), y[:TRAIN], seed, device, steps=steps)
    test = torch.tensor(y[TRAIN:], dtype=torch.float32, device=device)
    inputs, targets = test[:-1].view(1, -1, 1), test[1:].view(1, -1, 1)
    with torch.no_grad():
        dist = model.distribution(inputs)
    loc, scale = (PHI * inputs).double(), torch.full_like(inputs, SIGMA, dtype=torch.float64)
    if case.noise_df is None:
        oracle: Any = torch.distributions.Normal(loc, scale)
    else:
        oracle = StudentT(torch.full_like(loc, case.noise_df), loc, scale)
    return {
        "coverage_80": _coverage(dist, targets, 0.8),
        "coverage_95": _coverage(dist, targets, 0.95),
        "crps": _crps(dist.icdf, targets),
        "oracle_crps": _crps(oracle.icdf, targets),
    }


def calibration_row(case: Case, device: torch.device, *, seeds: int, steps: int = 400) -> Row:
    """Coverage of the 95 % one-step interval over ``seeds`` fits, with the 80 % coverage and CRPS beside it."""
    runs = [_one_seed(case, seed, device, steps) for seed in range(seeds)]
    cov80 = statistics.median(r["coverage_80"] for r in runs)
    cov95 = [r["coverage_95"] for r in runs]
    ratio = statistics.median(r["crps"] / r["oracle_crps"] for r in runs)
    nominal = {0.8: cov80, 0.95: statistics.median(cov95)}
    passed = None if not case.target else all(abs(nominal[level] - level) <= TOLERANCE for level in case.target)
    targets = " and ".join(f"{level:.0%}" for level in case.target)
    return Row(
        group="calibration",
        name=case.name,
        device=device.type,
        figure="coverage of the 95 % one-step interval",
        stats=summarize(cov95),
        target=f"{targets} within ±{TOLERANCE:g}" if case.target else None,
        passed=passed,
        context=f"80 %: {cov80:.3f}; CRPS / oracle's {ratio:.3f}; median of {seeds} seed(s), {TEST} points each",
        details={"case": dataclasses.asdict(case), "runs": runs},
    )


def closed_loop_row(
    device: torch.device, *, seeds: int, steps: int = 400, cutoffs: int = 2000, samples: int = 500
) -> Row:
    """80 % coverage at every step h = 1…12 of closed-loop quantiles from sample paths (Gaussian head and noise).

    The cutoffs are 20 steps apart, so their windows do not overlap; beside
    the model's coverage stands the oracle's (the true h-step distribution
    on the same windows), which shows how much of a deviation is chance.
    """
    horizon, spacing, model_runs, oracle_runs = 12, 20, [], []
    z = 1.2815515655446004  # the 0.9 quantile of the standard normal
    for seed in range(seeds):
        y = ar1(TRAIN + cutoffs * spacing + 8, seed=seed, phi=PHI, scale=SIGMA)
        model = fit({"likelihood": "gaussian"}, y[:TRAIN], seed, device, steps=steps)
        test = torch.tensor(y[TRAIN:], dtype=torch.float32, device=device)
        starts = [8 + spacing * i for i in range(cutoffs)]
        history = torch.stack([test[s - 8 : s] for s in starts]).unsqueeze(-1)  # (cutoffs, 8, 1)
        future = torch.stack([test[s : s + horizon] for s in starts]).unsqueeze(-1)  # (cutoffs, 12, 1)
        q = sf.forecast_quantiles(model, history, horizon, (0.1, 0.9), num_samples=samples, seed=seed)
        model_runs.append(((future >= q[0]) & (future <= q[1])).double().mean(dim=(0, 2)).tolist())
        decay = torch.full((horizon,), PHI, dtype=torch.float64, device=device) ** torch.arange(1, horizon + 1)
        mean = history[:, -1].double() * decay  # (cutoffs, 12): PHI**h times the last value
        std = SIGMA * torch.sqrt((1 - decay**2) / (1 - PHI**2))
        oracle_inside = (future.squeeze(-1).double() - mean).abs() <= z * std
        oracle_runs.append(oracle_inside.double().mean(dim=0).tolist())
    coverage = [statistics.median(run[h] for run in model_runs) for h in range(horizon)]
    oracle = [statistics.median(run[h] for run in oracle_runs) for h in range(horizon)]
    worst = max(abs(c - 0.8) for c in coverage)
    return Row(
        group="calibration",
        name=f"closed loop, Gaussian head, 80 % intervals from {samples} paths, {cutoffs} cutoffs",
        device=device.type,
        figure="largest |coverage - 0.80| over h = 1...12",
        stats=summarize([max(abs(c - 0.8) for c in run) for run in model_runs]),
        target=f"<= {TOLERANCE:g}",
        passed=worst <= TOLERANCE,
        context="coverage by step: "
        + " ".join(f"{c:.3f}" for c in coverage)
        + "; the oracle's: "
        + " ".join(f"{c:.3f}" for c in oracle),
        details={"coverage_by_step": coverage, "oracle_by_step": oracle, "runs": model_runs},
    )
