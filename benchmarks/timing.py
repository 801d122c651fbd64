"""Timing helpers: synchronised clocks, interleaved repeats, summaries.

Every figure the suite reports is a ratio of two timings taken in the same
run, side by side: each repeat times the baseline and the candidate one
after the other (alternating which goes first), and the ratio of that pair
is one sample. Noise from other work on the machine then hits both sides of
a pair alike, and the median over repeats is robust to the odd slow one.
Comparisons of a group take turns (:func:`round_robin`), so that a slow
spell is shared among them instead of spoiling one.
"""

from __future__ import annotations

import dataclasses
import statistics
import time
from collections.abc import Callable, Sequence

import torch

__all__ = ["Paired", "Stats", "Timer", "interleaved", "round_robin", "summarize", "sync"]


def sync(device: torch.device) -> None:
    """Wait for the device's queued work (a no-op on the CPU)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


class Timer:
    """Wall time of a block of work on ``device``, synchronised at both ends."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.seconds = 0.0
        self._start = 0.0

    def __enter__(self) -> Timer:
        sync(self.device)
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        sync(self.device)
        self.seconds = time.perf_counter() - self._start


@dataclasses.dataclass(frozen=True)
class Stats:
    """Median and spread of repeated measurements."""

    median: float
    q1: float
    q3: float
    low: float
    high: float
    n: int

    def to_dict(self) -> dict[str, float]:
        return dataclasses.asdict(self)


def _quantile(ordered: Sequence[float], q: float) -> float:
    """Linear-interpolation quantile of already sorted values."""
    position = q * (len(ordered) - 1)
    below = int(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)


def summarize(values: Sequence[float]) -> Stats:
    """Median, quartiles and extremes of ``values`` (at least one)."""
    if not values:
        msg = "`values` must hold at least one measurement"
        raise ValueError(msg)
    ordered = sorted(values)
    return Stats(
        median=statistics.median(ordered),
        q1=_quantile(ordered, 0.25),
        q3=_quantile(ordered, 0.75),
        low=ordered[0],
        high=ordered[-1],
        n=len(ordered),
    )


@dataclasses.dataclass(frozen=True)
class Paired:
    """Interleaved timings of a baseline and a candidate, and their ratios."""

    baseline: list[float]
    candidate: list[float]

    @property
    def ratios(self) -> list[float]:
        return [c / b for b, c in zip(self.baseline, self.candidate, strict=True)]


def round_robin(
    comparisons: Sequence[tuple[Callable[[], float], Callable[[], float]]], repeats: int
) -> list[Paired | Exception]:
    """Time ``repeats`` pairs of every ``(baseline, candidate)``, taking turns.

    Round ``r`` times pair ``r`` of each comparison in turn (baseline first
    in even rounds, candidate first in odd ones). A slow spell of the
    machine, which can last seconds, then lands on a pair or two of every
    comparison rather than on all the pairs of one, and their medians shrug
    it off. Each callable does one measured run and returns its time (or
    any cost, in seconds). A comparison that raises is dropped from later
    rounds and its exception takes its place in the result.
    """
    base: list[list[float]] = [[] for _ in comparisons]
    cand: list[list[float]] = [[] for _ in comparisons]
    failed: dict[int, Exception] = {}
    for r in range(repeats):
        for i, (baseline, candidate) in enumerate(comparisons):
            if i in failed:
                continue
            try:
                if r % 2 == 0:
                    b = baseline()
                    c = candidate()
                else:
                    c = candidate()
                    b = baseline()
            except Exception as error:  # noqa: BLE001 - reported by the caller; the others go on
                failed[i] = error
                continue
            base[i].append(b)
            cand[i].append(c)
    return [failed.get(i, Paired(base[i], cand[i])) for i in range(len(comparisons))]


def interleaved(baseline: Callable[[], float], candidate: Callable[[], float], repeats: int) -> Paired:
    """:func:`round_robin` of one comparison; its exception, if any, is raised."""
    (result,) = round_robin([(baseline, candidate)], repeats)
    if isinstance(result, Exception):
        raise result
    return result
