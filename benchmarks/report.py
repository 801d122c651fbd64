"""Rows of results and their Markdown and JSON forms."""

from __future__ import annotations

import dataclasses
import json
import math
import platform
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch

from benchmarks.timing import Paired, Stats, summarize

__all__ = ["Pending", "Row", "environment", "to_markdown", "write"]


@dataclasses.dataclass
class Row:
    """One figure: a ratio of two timings taken in the same run, with its target.

    ``stats`` summarises the per-repeat ratios (candidate over baseline,
    except where ``figure`` says otherwise); ``passed`` is None for rows
    that are there for context and have no target.
    """

    group: str
    name: str
    device: str
    figure: str
    stats: Stats
    target: str | None = None
    passed: bool | None = None
    context: str = ""
    details: dict[str, Any] = dataclasses.field(default_factory=dict)

    @classmethod
    def from_paired(
        cls,
        paired: Paired,
        *,
        group: str,
        name: str,
        device: str,
        figure: str,
        limit: float | None,
        unit: tuple[float, str],
        extra: str = "",
        sides: tuple[str, str],
        details: dict[str, Any],
    ) -> Row:
        """A row for ``paired`` timings: median ratio against ``limit`` (None: context only).

        ``unit`` is ``(scale, suffix)`` for the context's median times, e.g.
        ``(1e3, "ms")``; the raw timings go into ``details`` under the names
        in ``sides`` (baseline, candidate).
        """
        stats = summarize(paired.ratios)
        scale, suffix = unit
        base, cand = summarize(paired.baseline).median * scale, summarize(paired.candidate).median * scale
        return cls(
            group=group,
            name=name,
            device=device,
            figure=figure,
            stats=stats,
            target=None if limit is None else f"≤ {limit:g}",
            passed=None if limit is None else stats.median <= limit,
            context=f"{cand:.3g} vs {base:.3g} {suffix}{extra}",
            details={**details, sides[0]: paired.baseline, sides[1]: paired.candidate},
        )

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["stats"] = self.stats.to_dict()
        return data


@dataclasses.dataclass(frozen=True)
class Pending:
    """A comparison set up and ready to time, and how its timings become a row."""

    baseline: Callable[[], float]
    candidate: Callable[[], float]
    to_row: Callable[[Paired], Row]


def environment(mode: str) -> dict[str, Any]:
    """What the figures were measured on."""
    cuda = torch.cuda.is_available()
    return {
        "mode": mode,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_threads": torch.get_num_threads(),
        "cuda": torch.cuda.get_device_name(0) if cuda else None,
    }


def _ratio(value: float) -> str:
    if math.isnan(value):  # a row with no figure (a peer that is not installed)
        return "—"
    if value == float("inf"):
        return "inf"
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def to_markdown(rows: list[Row], env: dict[str, Any], *, failures: Sequence[str] = ()) -> str:
    """A Markdown table of every row, grouped as measured, with the environment above it."""
    where = f"torch {env['torch']}, {env['cpu_threads']} CPU threads"
    if env["cuda"]:
        where += f", CUDA: {env['cuda']}"
    lines = [
        f"Benchmarks ({env['mode']} run; Python {env['python']}, {where}; {env['platform']})",
        "",
        "| Benchmark | Device | Figure | Median | Spread (IQR) | n | Target | Met | Context |",
        "|---|---|---|---:|---|---:|---|---|---|",
    ]
    for row in rows:
        s = row.stats
        met = "" if row.passed is None else ("yes" if row.passed else "**no**")
        lines.append(
            f"| {row.group}: {row.name} | {row.device} | {row.figure} | {_ratio(s.median)} "
            f"| {_ratio(s.q1)} - {_ratio(s.q3)} | {s.n} | {row.target or ''} | {met} | {row.context} |"
        )
    targeted = [row for row in rows if row.passed is not None]
    missed = [f"{row.group}: {row.name} ({row.device})" for row in targeted if not row.passed]
    lines += ["", f"{len(targeted) - len(missed)} of {len(targeted)} targets met."]
    if missed:
        lines.append("Missed: " + "; ".join(missed) + ".")
    if failures:
        lines += ["", "Failed to run:", *(f"- {what}" for what in failures)]
    return "\n".join(lines) + "\n"


def write(
    rows: list[Row], env: dict[str, Any], extra: dict[str, Any], stem: Path, *, failures: Sequence[str] = ()
) -> tuple[Path, Path]:
    """Write ``stem.json`` and ``stem.md``; return their paths."""
    stem.parent.mkdir(parents=True, exist_ok=True)
    json_path, md_path = stem.with_suffix(".json"), stem.with_suffix(".md")
    payload = _clean({"environment": env, "rows": [row.to_dict() for row in rows], **extra})
    json_path.write_text(json.dumps(payload, indent=2, allow_nan=False) + "\n", encoding="utf-8")
    md_path.write_text(to_markdown(rows, env, failures=failures), encoding="utf-8")
    return json_path, md_path


def _clean(value: object) -> object:
    """Plain JSON: infinities and NaN become null, tuples lists, anything else its text."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, (bool, int, str)):
        return value
    return str(value)
