"""Import time: ``import seqforecast`` against ``import torch``, each in a fresh interpreter."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import seqforecast
from benchmarks.report import Row
from benchmarks.timing import interleaved, summarize

__all__ = ["import_row"]

TARGET_EXTRA_SECONDS = 0.15

_PROBE = "import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"


def _import_seconds(module: str) -> float:
    """Seconds ``import module`` takes in a new Python process (interpreter start-up excluded)."""
    env = dict(os.environ)
    source = str(Path(seqforecast.__file__).resolve().parents[1])  # the copy this process uses
    env["PYTHONPATH"] = os.pathsep.join(p for p in (source, env.get("PYTHONPATH", "")) if p)
    env.pop("PYTHONSTARTUP", None)
    out = subprocess.run(
        [sys.executable, "-c", _PROBE.format(module=module)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    return float(out.stdout.strip().splitlines()[-1])


def import_row(*, repeats: int) -> Row:
    """``import seqforecast`` over ``import torch``, interleaved fresh processes; the target is on the difference."""
    _import_seconds("torch")  # warm the file cache for both
    _import_seconds("seqforecast")
    paired = interleaved(lambda: _import_seconds("torch"), lambda: _import_seconds("seqforecast"), repeats)
    extra = summarize([c - b for b, c in zip(paired.baseline, paired.candidate, strict=True)])
    torch_seconds = summarize(paired.baseline).median
    return Row(
        group="import",
        name="import seqforecast",
        device="cpu",
        figure="t(seqforecast) / t(torch)",
        stats=summarize(paired.ratios),
        target=f"extra ≤ {TARGET_EXTRA_SECONDS:.2f} s",
        passed=extra.median <= TARGET_EXTRA_SECONDS,
        context=f"extra {extra.median * 1e3:+.0f} ms (IQR {extra.q1 * 1e3:+.0f} to {extra.q3 * 1e3:+.0f}) "
        f"over torch's {torch_seconds:.2f} s",
        details={"torch_seconds": paired.baseline, "seqforecast_seconds": paired.candidate},
    )
